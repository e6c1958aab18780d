//! Helpers shared by the store's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use groxide_store::*;
use std::path::{Path, PathBuf};

/// A fresh private store in a temp dir; the dir lives as long as the guard.
pub struct TempStore {
    pub store: Store,
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
}

pub fn private_store() -> TempStore {
    store_with(OpenOptions::default(), 0)
}

pub fn store_with(opts: OpenOptions, quota: u64) -> TempStore {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("user/alice");
    let (store, _, created) = Store::create(
        &dir,
        &NewStore {
            kind: StoreKind::Private,
            owner: "alice@example.org".into(),
            lang: String::new(),
            quota_bytes: quota,
        },
        &opts,
    )
    .unwrap();
    assert!(created);
    TempStore {
        store,
        dir,
        _tmp: tmp,
    }
}

/// A small well-formed message whose bytes differ by `n`.
pub fn message(n: usize) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.com>\r\nTo: Alice <alice@example.org>\r\nSubject: test {n}\r\n\
         Message-ID: <{n}@example.com>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nHello {n}\r\n"
    )
    .into_bytes()
}

pub fn insert(store: &Store, folder: impl Into<FolderRef>, raw: &[u8]) -> InsertedMessage {
    store
        .insert_mime_from(folder, raw, NewMessage::default())
        .unwrap()
}

pub fn content_bytes(store: &Store, id: MessageId) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    store
        .content(id)
        .unwrap()
        .reader(0, None)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

pub fn uids(store: &Store, folder: impl Into<FolderRef>) -> Vec<u32> {
    let mut out = Vec::new();
    store
        .list_messages(folder, UidRange::ALL, |e| {
            out.push(e.uid.0);
            true
        })
        .unwrap();
    out
}

pub fn files_under(dir: &Path) -> usize {
    let mut n = 0;
    for fan in std::fs::read_dir(dir.join("cid")).unwrap().flatten() {
        n += std::fs::read_dir(fan.path()).unwrap().count();
    }
    n
}

pub fn prop(props: &[Prop], tag: PropTag) -> Option<&PropValue> {
    props.iter().find(|(t, _)| *t == tag).map(|(_, v)| v)
}
