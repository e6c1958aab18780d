//! The view against the in-memory store: each test is one behaviour an IMAP
//! or POP3 client would notice.

use super::*;
use crate::cache::TextField;
use crate::memory_store::{MemoryStore, hash_of, ids};
use crate::search::SearchKey;
use crate::sort::{SortCriterion, SortKey};
use crate::store::{AppendMeta, FlagChange, FlagMode, Flags, StoreStream};
use groxide_mime::{SectionKind, SectionSpec};

struct Fixture {
    _root: tempfile::TempDir,
    dir: String,
    mem: Arc<MemoryStore>,
    view: StoreView<MemoryStore>,
}

fn fixture_with_feed(feed: bool) -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("user").to_string_lossy().into_owned();
    std::fs::create_dir_all(format!("{dir}/exmdb")).unwrap();
    std::fs::write(format!("{dir}/exmdb/exchange.sqlite3"), b"").unwrap();
    let mem = MemoryStore::new();
    mem.create_store(&dir);
    let f: Arc<dyn ChangeFeed> = if feed {
        mem.clone()
    } else {
        Arc::new(crate::feed::NoFeed)
    };
    let view = StoreView::new(mem.clone(), f, Settings::default());
    Fixture {
        _root: root,
        dir,
        mem,
        view,
    }
}

fn fixture() -> Fixture {
    fixture_with_feed(false)
}

fn corpus(name: &str) -> Vec<u8> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/mime/");
    std::fs::read(format!("{p}{name}")).unwrap()
}

fn corpus_files() -> Vec<String> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/mime/");
    let mut v: Vec<String> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    v.sort();
    v
}

fn msg(subject: &str, from: &str, extra: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n{extra}\r\n{body}\r\n")
        .into_bytes()
}

async fn section(f: &Fixture, uid: Uid, req: SectionRequest) -> (SectionPiece, Vec<u8>) {
    let mut s = f.view.fetch_section(&f.dir, ids::INBOX, uid, req);
    let first = s.try_next().await.unwrap().unwrap();
    let mut data = first.data.to_vec();
    while let Some(p) = s.try_next().await.unwrap() {
        data.extend_from_slice(&p.data);
    }
    assert_eq!(
        first.total_size,
        data.len() as u64,
        "total_size announces the data"
    );
    (first, data)
}

async fn metadata(f: &Fixture, folder: FolderId, req: MetadataRequest) -> Vec<MessageMetadata> {
    f.view
        .fetch_metadata(&f.dir, folder, UidSet::all(), req)
        .try_collect()
        .await
        .unwrap()
}

async fn entries(f: &Fixture, folder: FolderId) -> Vec<MessageEntry> {
    collect_entries(f.view.list_messages(&f.dir, folder, UidSet::all()))
        .await
        .unwrap()
}

#[tokio::test]
async fn mailboxes_can_be_created_renamed_subscribed_and_deleted() {
    let f = fixture();
    let names =
        |v: Vec<crate::names::MailboxEntry>| v.into_iter().map(|e| e.name).collect::<Vec<_>>();
    assert_eq!(
        names(f.view.list_mailboxes(&f.dir).await.unwrap()),
        [
            "INBOX",
            "Deleted Items",
            "Drafts",
            "Junk Email",
            "Outbox",
            "Sent Items"
        ]
    );
    let (id, uidvalidity) = f
        .view
        .create_mailbox(&f.dir, "Archive/2024", "")
        .await
        .unwrap();
    assert!(uidvalidity > 0);
    assert!(
        f.view
            .create_mailbox(&f.dir, "archive/2024", "")
            .await
            .is_ok(),
        "names other than INBOX are case-sensitive"
    );
    assert!(matches!(
        f.view.create_mailbox(&f.dir, "Archive/2024", "").await,
        Err(MidbError::Name(crate::names::NameError::Exists(_)))
    ));
    assert!(
        f.view
            .create_mailbox(&f.dir, "Trash2", "Trash")
            .await
            .is_err()
    );
    f.view
        .rename_mailbox(&f.dir, "Archive", "Old/Archive")
        .await
        .unwrap();
    let (e, _) = f
        .view
        .mailbox_status(&f.dir, "Old/Archive/2024")
        .await
        .unwrap();
    assert_eq!(e.folder, id, "children move with their parent");
    f.view
        .set_subscription(&f.dir, "Old/Archive/2024", false)
        .await
        .unwrap();
    let listed = f.view.list_mailboxes(&f.dir).await.unwrap();
    let sub = listed
        .iter()
        .find(|e| e.name == "Old/Archive/2024")
        .unwrap();
    assert!(!sub.subscribed);
    assert!(
        f.view.delete_mailbox(&f.dir, "Old/Archive").await.is_err(),
        "has children"
    );
    f.view
        .delete_mailbox(&f.dir, "Old/Archive/2024")
        .await
        .unwrap();
    assert!(
        f.view
            .mailbox_status(&f.dir, "Old/Archive/2024")
            .await
            .is_err()
    );
    assert!(f.view.delete_mailbox(&f.dir, "INBOX").await.is_err());
}

#[tokio::test]
async fn renaming_inbox_moves_its_messages_and_keeps_inbox() {
    let f = fixture();
    f.mem.deliver(
        &f.dir,
        ids::INBOX,
        &msg("a", "x@y", "", "1"),
        Flags::SEEN,
        0,
    );
    f.mem.deliver(
        &f.dir,
        ids::INBOX,
        &msg("b", "x@y", "", "2"),
        Flags::NONE,
        0,
    );
    f.view
        .rename_mailbox(&f.dir, "inbox", "Old mail")
        .await
        .unwrap();
    let (_, inbox) = f.view.mailbox_status(&f.dir, "INBOX").await.unwrap();
    assert_eq!(inbox.exists, 0);
    let (old, status) = f.view.mailbox_status(&f.dir, "Old mail").await.unwrap();
    assert_eq!(status.exists, 2);
    assert_eq!(status.unseen, 1, "flags travel with the messages");
    assert_ne!(old.folder, ids::INBOX);
}

#[tokio::test]
async fn appended_messages_have_store_uids_and_cached_metadata() {
    let f = fixture();
    let raw = corpus("multipart-mixed-attachments.eml");
    let body: StoreStream<Bytes> = futures_util::stream::iter(
        raw.chunks(100)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    )
    .boxed();
    let meta = AppendMeta {
        folder: 0,
        flags: Flags::FLAGGED,
        keywords: vec!["$Label1".into()],
        internal_date: 1_700_000_000,
        size: raw.len() as u64,
    };
    let appended = f.view.append(&f.dir, "INBOX", meta, body).await.unwrap();
    assert_eq!(appended.uid, 1);
    let (_, st) = f.view.mailbox_status(&f.dir, "INBOX").await.unwrap();
    assert_eq!(st.uidvalidity, appended.uidvalidity);
    let req = MetadataRequest {
        items: MetadataItems(
            MetadataItems::ENVELOPE
                | MetadataItems::BODYSTRUCTURE
                | MetadataItems::BODY
                | MetadataItems::HEADER_FIELDS,
        ),
        header_fields: vec!["Subject".into(), "FROM".into()],
        ..Default::default()
    };
    let m = metadata(&f, ids::INBOX, req.clone()).await;
    assert_eq!(m.len(), 1);
    let e = m[0].entry.clone().unwrap();
    assert_eq!(
        (e.uid, e.flags, e.keywords.clone(), e.size),
        (
            1,
            Flags::FLAGGED,
            vec!["$Label1".to_string()],
            raw.len() as u64
        )
    );
    assert_eq!(m[0].envelope, groxide_mime::render_envelope(&raw));
    assert_eq!(
        m[0].bodystructure,
        groxide_mime::render_bodystructure(&raw, true)
    );
    assert_eq!(m[0].body, groxide_mime::render_bodystructure(&raw, false));
    let fields = SectionSpec {
        part: vec![],
        kind: SectionKind::HeaderFields(vec!["Subject".into(), "FROM".into()]),
    };
    assert_eq!(
        m[0].header_fields,
        groxide_mime::locate_section(&raw, &fields).bytes(&raw)
    );
    // The second fetch is answered from the cache alone.
    let reads = f.mem.content_reads();
    let again = metadata(&f, ids::INBOX, req).await;
    assert_eq!(again, m);
    assert_eq!(f.mem.content_reads(), reads);
}

#[tokio::test]
async fn an_append_shorter_or_longer_than_announced_is_refused() {
    let f = fixture();
    for announced in [5u64, 50] {
        let body: StoreStream<Bytes> =
            futures_util::stream::iter(vec![Ok(Bytes::from_static(b"0123456789"))]).boxed();
        let meta = AppendMeta {
            folder: 0,
            flags: Flags::NONE,
            keywords: vec![],
            internal_date: 0,
            size: announced,
        };
        assert!(
            f.view.append(&f.dir, "INBOX", meta, body).await.is_err(),
            "{announced}"
        );
    }
    assert!(entries(&f, ids::INBOX).await.is_empty());
}

/// Every section of every corpus message equals what groxide-mime locates
/// in the original bytes.
#[tokio::test]
async fn sections_match_groxide_mime_on_the_whole_corpus() {
    let f = fixture();
    for name in corpus_files() {
        let raw = corpus(&name);
        let uid = f.mem.deliver(&f.dir, ids::INBOX, &raw, Flags::NONE, 0);
        let digest = crate::digest::Digest::compute(&raw, 1 << 20);
        let mut specs: Vec<SectionSpec> = vec![
            SectionSpec {
                part: vec![],
                kind: SectionKind::Full,
            },
            SectionSpec {
                part: vec![],
                kind: SectionKind::Header,
            },
            SectionSpec {
                part: vec![],
                kind: SectionKind::Text,
            },
            SectionSpec {
                part: vec![],
                kind: SectionKind::HeaderFields(vec!["subject".into(), "to".into()]),
            },
            SectionSpec {
                part: vec![],
                kind: SectionKind::HeaderFieldsNot(vec!["subject".into()]),
            },
            SectionSpec {
                part: vec![9],
                kind: SectionKind::Full,
            },
        ];
        for p in digest.parts.iter().filter(|p| !p.path.is_empty()) {
            for kind in [
                SectionKind::Full,
                SectionKind::Mime,
                SectionKind::Header,
                SectionKind::Text,
                SectionKind::HeaderFields(vec!["content-type".into()]),
            ] {
                specs.push(SectionSpec {
                    part: p.path.clone(),
                    kind,
                });
            }
        }
        for spec in specs {
            let want = groxide_mime::locate_section(&raw, &spec)
                .bytes(&raw)
                .to_vec();
            let req = SectionRequest {
                part: spec.part.clone(),
                kind: spec.kind.clone(),
                ..Default::default()
            };
            let (_, got) = section(&f, uid, req.clone()).await;
            assert_eq!(got, want, "{name} {spec:?}");
            let partial = SectionRequest {
                offset: 3,
                length: 7,
                ..req
            };
            let (_, got) = section(&f, uid, partial).await;
            let w = window(want.len() as u64, 3, 7);
            assert_eq!(
                got,
                want[w.start as usize..w.end as usize],
                "{name} {spec:?} <3.7>"
            );
        }
        for p in digest.parts.iter().filter(|p| !p.path.is_empty()) {
            let req = SectionRequest {
                part: p.path.clone(),
                binary: true,
                ..Default::default()
            };
            let want = groxide_mime::decode_section(&raw, &p.path);
            let mut s = f.view.fetch_section(&f.dir, ids::INBOX, uid, req);
            match want {
                Ok(want) => {
                    let first = s.try_next().await.unwrap().unwrap();
                    assert_eq!(first.data.to_vec(), want, "{name} BINARY[{:?}]", p.path);
                }
                Err(_) => assert!(matches!(s.try_next().await, Err(MidbError::UnknownCte(_)))),
            }
        }
    }
}

fn window(len: u64, offset: u64, length: u64) -> std::ops::Range<u64> {
    let start = offset.min(len);
    let end = if length == 0 {
        len
    } else {
        (start + length).min(len)
    };
    start..end
}

#[tokio::test]
async fn header_sections_come_from_the_cache_without_reading_the_message() {
    let f = fixture();
    let raw = corpus("multipart-alternative.eml");
    let uid = f.mem.deliver(&f.dir, ids::INBOX, &raw, Flags::NONE, 0);
    let _ = section(
        &f,
        uid,
        SectionRequest {
            kind: SectionKind::Header,
            ..Default::default()
        },
    )
    .await;
    let reads = f.mem.content_reads();
    for kind in [
        SectionKind::Header,
        SectionKind::HeaderFields(vec!["From".into()]),
        SectionKind::HeaderFieldsNot(vec!["From".into()]),
    ] {
        section(
            &f,
            uid,
            SectionRequest {
                kind,
                ..Default::default()
            },
        )
        .await;
    }
    assert_eq!(f.mem.content_reads(), reads);
}

#[tokio::test]
async fn a_non_peek_fetch_sets_seen_once() {
    let f = fixture();
    let uid = f.mem.deliver(
        &f.dir,
        ids::INBOX,
        &msg("s", "a@b", "", "body"),
        Flags::NONE,
        0,
    );
    let (first, data) = section(
        &f,
        uid,
        SectionRequest {
            set_seen: true,
            ..Default::default()
        },
    )
    .await;
    assert!(first.seen_set);
    assert_eq!(data, msg("s", "a@b", "", "body"));
    let e = &entries(&f, ids::INBOX).await[0];
    assert!(e.flags.contains(Flags::SEEN));
    assert_eq!(first.modseq, e.modseq);
    let (again, _) = section(
        &f,
        uid,
        SectionRequest {
            set_seen: true,
            ..Default::default()
        },
    )
    .await;
    assert!(!again.seen_set);
    let missing = f
        .view
        .fetch_section(&f.dir, ids::INBOX, 99, SectionRequest::default());
    assert!(collect_first_error(missing).await.is_some());
}

async fn collect_first_error<T: Send + 'static>(s: ViewStream<T>) -> Option<MidbError> {
    s.try_collect::<Vec<T>>().await.err()
}

#[tokio::test]
async fn flags_change_with_unchangedsince() {
    let f = fixture();
    for i in 0..3 {
        f.mem.deliver(
            &f.dir,
            ids::INBOX,
            &msg(&format!("m{i}"), "a@b", "", "x"),
            Flags::NONE,
            0,
        );
    }
    let before = entries(&f, ids::INBOX).await;
    // Message 2 changes after the client's view.
    let bump = FlagChange {
        mode: FlagMode::Add,
        flags: Flags::ANSWERED,
        keywords: vec![],
        unchanged_since: 0,
    };
    f.view
        .store_flags(&f.dir, ids::INBOX, &UidSet::from_uids([2]), &bump)
        .await
        .unwrap();
    let since = before.iter().map(|e| e.modseq).max().unwrap();
    let change = FlagChange {
        mode: FlagMode::Add,
        flags: Flags::FLAGGED,
        keywords: vec!["Work".into()],
        unchanged_since: since,
    };
    let up = f
        .view
        .store_flags(
            &f.dir,
            ids::INBOX,
            &UidSet::from_ranges([(1, u32::MAX)]),
            &change,
        )
        .await
        .unwrap();
    assert_eq!(up.modified, vec![2]);
    let after = entries(&f, ids::INBOX).await;
    let flagged: Vec<Uid> = after
        .iter()
        .filter(|e| e.flags.contains(Flags::FLAGGED))
        .map(|e| e.uid)
        .collect();
    assert_eq!(flagged, vec![1, 3]);
    assert_eq!(after[0].keywords, vec!["Work".to_string()]);
    assert!(after[0].modseq > since);
    let remove = FlagChange {
        mode: FlagMode::Remove,
        flags: Flags::FLAGGED,
        keywords: vec!["work".into()],
        unchanged_since: 0,
    };
    f.view
        .store_flags(&f.dir, ids::INBOX, &UidSet::from_uids([1]), &remove)
        .await
        .unwrap();
    let e = &entries(&f, ids::INBOX).await[0];
    assert_eq!((e.flags, e.keywords.len()), (Flags::NONE, 0));
}

#[tokio::test]
async fn copy_and_move_report_uid_maps() {
    let f = fixture();
    for i in 0..3 {
        f.mem.deliver(
            &f.dir,
            ids::INBOX,
            &msg(&format!("m{i}"), "a@b", "", "x"),
            Flags::SEEN,
            0,
        );
    }
    let (_, uidvalidity) = f.view.create_mailbox(&f.dir, "Keep", "").await.unwrap();
    let c = f
        .view
        .copy_messages(
            &f.dir,
            ids::INBOX,
            &UidSet::from_uids([1, 3]),
            "Keep",
            false,
        )
        .await
        .unwrap();
    assert_eq!(c.target_uidvalidity, uidvalidity);
    assert_eq!(c.pairs, vec![(1, 1), (3, 2)]);
    let m = f
        .view
        .copy_messages(
            &f.dir,
            ids::INBOX,
            &UidSet::from_ranges([(2, u32::MAX)]),
            "Keep",
            true,
        )
        .await
        .unwrap();
    assert_eq!(m.pairs, vec![(2, 3), (3, 4)]);
    let left: Vec<Uid> = entries(&f, ids::INBOX)
        .await
        .iter()
        .map(|e| e.uid)
        .collect();
    assert_eq!(left, vec![1]);
    assert!(
        f.view
            .copy_messages(&f.dir, ids::INBOX, &UidSet::all(), "Nope", false)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn expunge_and_changes_report_vanished_uids() {
    let f = fixture();
    for i in 0..4 {
        let flags = if i % 2 == 0 {
            Flags::DELETED
        } else {
            Flags::NONE
        };
        f.mem.deliver(
            &f.dir,
            ids::INBOX,
            &msg(&format!("m{i}"), "a@b", "", "x"),
            flags,
            0,
        );
    }
    let base = f
        .view
        .mailbox_status(&f.dir, "INBOX")
        .await
        .unwrap()
        .1
        .highest_modseq;
    let x = f
        .view
        .expunge(&f.dir, ids::INBOX, Some(&UidSet::from_uids([1, 2])), false)
        .await
        .unwrap();
    assert_eq!(x.uids, vec![1], "UID EXPUNGE removes only \\Deleted ones");
    let x = f
        .view
        .expunge(&f.dir, ids::INBOX, None, false)
        .await
        .unwrap();
    assert_eq!(x.uids, vec![3]);
    let x = f
        .view
        .expunge(&f.dir, ids::INBOX, Some(&UidSet::from_uids([4])), true)
        .await
        .unwrap();
    assert_eq!(x.uids, vec![4], "POP3 removes outright");
    assert!(
        f.view
            .expunge(&f.dir, ids::INBOX, None, true)
            .await
            .is_err()
    );
    let chunks: Vec<_> = f
        .view
        .changes(&f.dir, ids::INBOX, base, true)
        .try_collect()
        .await
        .unwrap();
    let vanished: Vec<Uid> = chunks.iter().flat_map(|c| c.vanished.clone()).collect();
    assert_eq!(vanished, vec![1, 3, 4]);
    assert_eq!(chunks.last().unwrap().highest_modseq, x.modseq);
    let quiet: Vec<_> = f
        .view
        .changes(&f.dir, ids::INBOX, base, false)
        .try_collect()
        .await
        .unwrap();
    assert!(quiet.iter().all(|c| c.vanished.is_empty()));
}

#[tokio::test]
async fn deleting_midb_sqlite3_keeps_uids_and_flags_and_recomputes_metadata() {
    let f = fixture();
    let raw = corpus("forwarded-message-rfc822.eml");
    f.mem.deliver(
        &f.dir,
        ids::INBOX,
        &raw,
        Flags::SEEN.with(Flags::FLAGGED),
        0,
    );
    f.mem.deliver(
        &f.dir,
        ids::INBOX,
        &msg("second", "a@b", "", "x"),
        Flags::NONE,
        0,
    );
    let req = MetadataRequest {
        items: MetadataItems(MetadataItems::ENVELOPE | MetadataItems::BODYSTRUCTURE),
        ..Default::default()
    };
    let first = metadata(&f, ids::INBOX, req.clone()).await;
    let (found, _) = f
        .view
        .search(
            &f.dir,
            ids::INBOX,
            SearchKey::Text(TextField::Body, "forwarding".into()),
        )
        .await
        .unwrap();
    assert_eq!(found, vec![1]);
    let path = crate::open_stores::cache_path(&f.dir);
    std::fs::remove_file(&path).unwrap();
    let second = metadata(&f, ids::INBOX, req).await;
    assert_eq!(first, second, "UIDs, flags and metadata are the same");
    assert!(path.exists(), "the cache was rebuilt");
    let (found, _) = f
        .view
        .search(
            &f.dir,
            ids::INBOX,
            SearchKey::Text(TextField::Body, "forwarding".into()),
        )
        .await
        .unwrap();
    assert_eq!(found, vec![1], "the search index was rebuilt");
}

#[tokio::test]
async fn search_sort_and_thread_over_a_folder() {
    let f = fixture();
    let mails = [
        msg(
            "Lunch",
            "Ann <ann@example.test>",
            "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n",
            "Pizza?",
        ),
        msg(
            "Re: Lunch",
            "Bob <bob@example.test>",
            "Date: Mon, 01 Jan 2024 11:00:00 +0000\r\nMessage-ID: <2@x>\r\nReferences: <1@x>\r\n",
            "Yes, pizza.",
        ),
        msg(
            "Report",
            "Carl <carl@example.test>",
            "Date: Sun, 31 Dec 2023 09:00:00 +0000\r\nMessage-ID: <3@x>\r\n",
            "Numbers inside.",
        ),
        msg(
            "Re: Lunch",
            "Ann <ann@example.test>",
            "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\nMessage-ID: <4@x>\r\nIn-Reply-To: <2@x>\r\n",
            "See you.",
        ),
    ];
    for (i, m) in mails.iter().enumerate() {
        let flags = if i == 2 { Flags::SEEN } else { Flags::NONE };
        f.mem
            .deliver(&f.dir, ids::INBOX, m, flags, 1_704_000_000 + i as i64);
    }
    let search = |key| {
        let f = &f;
        async move { f.view.search(&f.dir, ids::INBOX, key).await.unwrap().0 }
    };
    assert_eq!(
        search(SearchKey::Text(TextField::Body, "PIZZA".into())).await,
        vec![1, 2]
    );
    assert_eq!(
        search(SearchKey::Text(TextField::From, "ann".into())).await,
        vec![1, 4]
    );
    assert_eq!(
        search(SearchKey::Text(TextField::Subject, "re".into())).await,
        vec![2, 3, 4]
    );
    assert_eq!(
        search(SearchKey::Text(TextField::Text, "message-id: <3@".into())).await,
        vec![3]
    );
    assert_eq!(
        search(SearchKey::And(vec![
            SearchKey::FlagsUnset(Flags::SEEN),
            SearchKey::SentSince(19723)
        ]))
        .await,
        vec![1, 2, 4]
    );
    assert_eq!(
        search(SearchKey::Header("in-reply-to".into(), String::new())).await,
        vec![4]
    );
    let (uids, modseq) = f
        .view
        .search(&f.dir, ids::INBOX, SearchKey::Modseq(1))
        .await
        .unwrap();
    assert_eq!(uids, vec![1, 2, 3, 4]);
    assert_eq!(
        modseq,
        entries(&f, ids::INBOX)
            .await
            .iter()
            .map(|e| e.modseq)
            .max()
            .unwrap()
    );
    let sorted = f
        .view
        .sort(
            &f.dir,
            ids::INBOX,
            &[SortCriterion {
                key: SortKey::Date,
                reverse: true,
            }],
            SearchKey::All,
        )
        .await
        .unwrap();
    assert_eq!(sorted, vec![4, 2, 1, 3]);
    let sorted = f
        .view
        .sort(
            &f.dir,
            ids::INBOX,
            &[SortCriterion {
                key: SortKey::Subject,
                reverse: false,
            }],
            SearchKey::Uid(UidSet::from_ranges([(2, u32::MAX)])),
        )
        .await
        .unwrap();
    assert_eq!(sorted, vec![2, 4, 3]);
    let threads = f
        .view
        .thread(
            &f.dir,
            ids::INBOX,
            ThreadAlgorithm::References,
            SearchKey::All,
        )
        .await
        .unwrap();
    let shape: Vec<(Uid, Vec<Uid>)> = threads
        .iter()
        .map(|t| (t.uid, t.children.iter().map(|c| c.uid).collect()))
        .collect();
    assert_eq!(shape, vec![(3, vec![]), (1, vec![2])]);
    assert_eq!(threads[1].children[0].children[0].uid, 4);
    let ordered = f
        .view
        .thread(
            &f.dir,
            ids::INBOX,
            ThreadAlgorithm::OrderedSubject,
            SearchKey::All,
        )
        .await
        .unwrap();
    let shape: Vec<(Uid, Vec<Uid>)> = ordered
        .iter()
        .map(|t| (t.uid, t.children.iter().map(|c| c.uid).collect()))
        .collect();
    assert_eq!(shape, vec![(3, vec![]), (1, vec![2, 4])]);
}

#[tokio::test]
async fn refresh_reads_only_messages_changed_since_the_last_one() {
    let f = fixture();
    for i in 0..3 {
        f.mem.deliver(
            &f.dir,
            ids::INBOX,
            &msg(&format!("m{i}"), "a@b", "", "x"),
            Flags::NONE,
            0,
        );
    }
    f.view
        .search(
            &f.dir,
            ids::INBOX,
            SearchKey::Text(TextField::Body, "x".into()),
        )
        .await
        .unwrap();
    let reads = f.mem.content_reads();
    assert_eq!(reads, 3);
    f.mem.deliver(
        &f.dir,
        ids::INBOX,
        &msg("new", "a@b", "", "y"),
        Flags::NONE,
        0,
    );
    let (found, _) = f
        .view
        .search(
            &f.dir,
            ids::INBOX,
            SearchKey::Text(TextField::Subject, "new".into()),
        )
        .await
        .unwrap();
    assert_eq!(found, vec![4]);
    assert_eq!(
        f.mem.content_reads(),
        reads + 1,
        "only the new message was read"
    );
}

#[tokio::test]
async fn the_change_feed_precomputes_digests_of_delivered_mail() {
    let f = fixture_with_feed(true);
    // Opening the store starts following its feed.
    f.view
        .search(
            &f.dir,
            ids::INBOX,
            SearchKey::Text(TextField::Body, "zz".into()),
        )
        .await
        .unwrap();
    let raw = msg("hello", "a@b", "", "fresh");
    f.mem.deliver(&f.dir, ids::INBOX, &raw, Flags::NONE, 0);
    let open = f.view.open(&f.dir).await.unwrap();
    let hash = hash_of(&raw);
    let mut ready = false;
    for _ in 0..500 {
        let h = hash.clone();
        if f.view
            .with_db(&open, move |db| db.digest_id(&h))
            .await
            .unwrap()
            .is_some()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(ready, "the digest was computed without a request");
}

#[tokio::test]
async fn quota_and_status_count_messages() {
    let f = fixture();
    f.mem.deliver(
        &f.dir,
        ids::INBOX,
        b"Subject: a\r\n\r\n12345",
        Flags::SEEN,
        0,
    );
    f.mem.deliver(
        &f.dir,
        ids::INBOX,
        b"Subject: b\r\n\r\n1",
        Flags::DELETED,
        0,
    );
    let (_, st) = f.view.mailbox_status(&f.dir, "inbox").await.unwrap();
    assert_eq!(
        (
            st.exists,
            st.unseen,
            st.deleted.unwrap(),
            st.first_unseen_uid.unwrap(),
            st.uidnext
        ),
        (2, 1, 1, 2, 3)
    );
    assert_eq!(st.size, 34);
    let q = f.view.quota(&f.dir).await.unwrap();
    assert_eq!((q.messages, q.used_bytes), (2, 34));
    assert!(f.view.mailbox_status(&f.dir, "Calendar").await.is_err());
}

#[tokio::test]
async fn a_star_range_past_the_highest_uid_names_the_highest_message() {
    let f = fixture();
    for i in 0..300 {
        f.mem.deliver(
            &f.dir,
            ids::INBOX,
            format!("Subject: {i}\r\n\r\nx").as_bytes(),
            Flags::NONE,
            0,
        );
    }
    let last: Vec<Uid> = (101..=300).collect();
    f.view
        .expunge(&f.dir, ids::INBOX, Some(&UidSet::from_uids(last)), true)
        .await
        .unwrap();
    let got: Vec<Uid> = collect_entries(f.view.list_messages(
        &f.dir,
        ids::INBOX,
        UidSet::from_ranges([(250, u32::MAX)]),
    ))
    .await
    .unwrap()
    .iter()
    .map(|e| e.uid)
    .collect();
    assert_eq!(got, vec![100]);
    let (found, _) = f
        .view
        .search(
            &f.dir,
            ids::INBOX,
            SearchKey::Uid(UidSet::from_ranges([(150, u32::MAX)])),
        )
        .await
        .unwrap();
    assert_eq!(found, vec![100]);
}
