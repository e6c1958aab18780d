//! A second reader of a store beside its writer (what midb does on the
//! store's home node): it sees every commit made before its read, never
//! writes, never migrates, never creates files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_store::*;
use std::time::Duration;

const BUSY: Duration = Duration::from_secs(5);

#[test]
fn a_reader_sees_each_commit_of_the_writer_as_soon_as_it_is_acknowledged() {
    let s = private_store();
    let reader = StoreReader::open(&s.dir, BUSY).unwrap();
    assert!(uids(&s.store, FolderRole::Inbox).is_empty());
    for n in 1..=5 {
        let ins = insert(&s.store, FolderRole::Inbox, &message(n));
        // No delay, no notification: the acknowledged insert is visible.
        let mut seen = Vec::new();
        reader
            .list_messages(FolderRole::Inbox, UidRange::ALL, |e| {
                seen.push(e.uid.0);
                true
            })
            .unwrap();
        assert_eq!(seen.len(), n, "after insert {n}");
        assert_eq!(seen.last(), Some(&ins.uid.0));
        let content = reader.content(ins.message_id).unwrap();
        assert_eq!(content.len(), message(n).len() as u64);
    }
    let (folder, status) = reader.folder_with_imap_status(FolderRole::Inbox).unwrap();
    assert_eq!(folder.message_count, 5);
    assert_eq!(status.highest_uid, 5);
}

#[test]
fn a_reader_refuses_a_store_of_another_schema_version_and_a_missing_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("old");
    let new = NewStore {
        kind: StoreKind::Private,
        owner: "old@example.org".into(),
        lang: String::new(),
        quota_bytes: 0,
    };
    let (store, _, _) = Store::create_at_version(&dir, &new, &OpenOptions::default(), 1).unwrap();
    drop(store);
    match StoreReader::open(&dir, BUSY) {
        Err(StoreError::SchemaMismatch { found, expected }) => {
            assert_eq!((found, expected), (1, SCHEMA_VERSION));
        }
        other => panic!("expected a schema mismatch, got {other:?}"),
    }
    // The writer migrates on open; then the reader may read.
    drop(Store::open(&dir, &OpenOptions::default()).unwrap());
    StoreReader::open(&dir, BUSY).unwrap();

    let missing = tmp.path().join("nobody");
    assert!(matches!(
        StoreReader::open(&missing, BUSY),
        Err(StoreError::NoSuchStore(_))
    ));
    assert!(
        !missing.exists(),
        "a reader created files for a missing store"
    );
}

#[test]
fn a_reader_cannot_write_and_leaves_mime_generation_to_the_writer() {
    let s = private_store();
    let reader = StoreReader::open(&s.dir, BUSY).unwrap();
    let ins = s
        .store
        .insert_mapi(
            FolderRole::Drafts,
            MapiMessage {
                props: vec![(
                    tags::PR_SUBJECT,
                    PropValue::Unicode("Made by a client".into()),
                )],
                ..MapiMessage::default()
            },
            NewMessage::default(),
        )
        .unwrap();
    assert!(matches!(
        reader.content(ins.message_id),
        Err(StoreError::NoMimeYet(_))
    ));
    // The writer builds it on first need; the reader then finds it.
    let made = s.store.content(ins.message_id).unwrap().hash();
    assert_eq!(reader.content(ins.message_id).unwrap().hash(), made);
}
