//! The store's operations, one behaviour per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_store::tags::*;
use groxide_store::*;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_new_private_store_has_the_standard_folder_tree() {
    let s = private_store();
    let tree: Vec<String> = s
        .store
        .folders()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{:#04x} parent={} {:?} class={:?} role={} hidden={} uidnext={}",
                f.id.0,
                f.parent
                    .map_or("-".to_string(), |p| format!("{:#04x}", p.0)),
                f.name,
                f.container_class,
                f.role.map_or("-", FolderRole::as_str),
                f.hidden,
                f.uidnext,
            )
        })
        .collect();
    insta::assert_snapshot!(tree.join("\n"));
}

#[test]
fn a_new_public_store_has_the_public_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("domain/1");
    let new = NewStore {
        kind: StoreKind::Public,
        owner: "example.org".into(),
        lang: String::new(),
        quota_bytes: 0,
    };
    let (store, guid, created) = Store::create(&dir, &new, &OpenOptions::default()).unwrap();
    assert!(created);
    let roles: Vec<_> = store.folders().unwrap().iter().map(|f| f.role).collect();
    assert_eq!(
        roles,
        vec![
            Some(FolderRole::Root),
            Some(FolderRole::IpmSubtree),
            Some(FolderRole::NonIpmSubtree),
            Some(FolderRole::EformsRegistry)
        ]
    );
    let f = store
        .create_folder(FolderRole::IpmSubtree, "Team", "IPF.Note")
        .unwrap();
    assert_eq!(f.id, FolderId(5));
    drop(store);
    // Creating again opens the same store.
    let (_, guid2, created) = Store::create(&dir, &new, &OpenOptions::default()).unwrap();
    assert!(!created);
    assert_eq!(guid, guid2);
    // A private store cannot be created over it.
    let err = Store::create(
        &dir,
        &NewStore {
            kind: StoreKind::Private,
            ..new
        },
        &OpenOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::StoreTypeMismatch { .. }), "{err}");
}

#[test]
fn mailbox_guids_are_random_per_store() {
    let a = private_store();
    let b = private_store();
    assert_ne!(
        a.store.info().unwrap().mailbox_guid,
        b.store.info().unwrap().mailbox_guid
    );
    assert_ne!(a.store.info().unwrap().mailbox_guid, [0u8; 16]);
}

#[test]
fn opening_a_missing_store_says_no_such_store() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Store::open(&tmp.path().join("nobody"), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::NoSuchStore(_)));
}

#[test]
fn an_old_schema_is_migrated_forward_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("old");
    let new = NewStore {
        kind: StoreKind::Private,
        owner: "old@example.org".into(),
        lang: String::new(),
        quota_bytes: 0,
    };
    let (store, _, _) = Store::create_at_version(&dir, &new, &OpenOptions::default(), 1).unwrap();
    assert_eq!(store.info().unwrap().schema_version, 1);
    insert(&store, FolderRole::Inbox, &message(1));
    drop(store);
    let store = Store::open(&dir, &OpenOptions::default()).unwrap();
    assert_eq!(store.info().unwrap().schema_version, SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 2) };
    let conn = rusqlite::Connection::open(dir.join("exmdb/exchange.sqlite3")).unwrap();
    let has_index: bool = conn
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'messages_deleted')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(has_index, "migration 2 did not run");
    assert_eq!(uids(&store, FolderRole::Inbox), vec![1]);
}

#[test]
fn the_database_is_in_wal_mode_with_full_sync() {
    let s = private_store();
    let conn = rusqlite::Connection::open(s.dir.join("exmdb/exchange.sqlite3")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn inserted_mime_is_stored_verbatim_and_read_back_with_offsets() {
    let s = private_store();
    let raw = message(7);
    let ins = insert(&s.store, FolderRole::Inbox, &raw);
    assert_eq!(ins.uid, ImapUid(1));
    assert_eq!(ins.folder, FolderId(0x0d));
    assert_eq!(content_bytes(&s.store, ins.message_id), raw);
    let mut part = String::new();
    use std::io::Read;
    s.store
        .content(ins.message_id)
        .unwrap()
        .reader(6, Some(3))
        .unwrap()
        .read_to_string(&mut part)
        .unwrap();
    assert_eq!(part, "Bob");
    let path = s
        .store
        .content_path(&s.store.content(ins.message_id).unwrap().hash());
    assert!(path.starts_with(s.dir.join("cid")));
}

#[test]
fn derived_properties_come_from_the_headers() {
    let s = private_store();
    let ins = insert(&s.store, FolderRole::Inbox, &message(3));
    let m = s.store.message(ins.message_id).unwrap();
    assert_eq!(
        prop(&m.props, PR_SUBJECT),
        Some(&PropValue::Unicode("test 3".into()))
    );
    assert_eq!(
        prop(&m.props, PR_SENDER_SMTP_ADDRESS),
        Some(&PropValue::Unicode("bob@example.com".into()))
    );
    assert_eq!(
        prop(&m.props, PR_INTERNET_MESSAGE_ID),
        Some(&PropValue::Unicode("<3@example.com>".into()))
    );
    assert_eq!(
        prop(&m.props, PR_BODY),
        Some(&PropValue::Unicode("Hello 3\r\n".into()))
    );
    assert_eq!(prop(&m.props, PR_MESSAGE_FLAGS), Some(&PropValue::Long(0)));
    assert_eq!(m.recipients.len(), 1);
    assert_eq!(
        prop(&m.recipients[0], PR_SMTP_ADDRESS),
        Some(&PropValue::Unicode("alice@example.org".into()))
    );
    assert_eq!(
        prop(&m.recipients[0], PR_RECIPIENT_TYPE),
        Some(&PropValue::Long(MAPI_TO))
    );
    assert_eq!(
        prop(&m.props, PR_MESSAGE_SIZE),
        Some(&PropValue::Long(message(3).len() as i32))
    );
}

#[test]
fn uids_rise_per_folder_and_are_not_reused_after_expunge() {
    let s = private_store();
    for n in 0..3 {
        insert(&s.store, FolderRole::Inbox, &message(n));
    }
    let removed = s
        .store
        .delete_messages(FolderRole::Inbox, vec![UidRange::single(ImapUid(3))], true)
        .unwrap();
    assert_eq!(removed, vec![ImapUid(3)]);
    let next = insert(&s.store, FolderRole::Inbox, &message(9));
    assert_eq!(next.uid, ImapUid(4));
    assert_eq!(uids(&s.store, FolderRole::Inbox), vec![1, 2, 4]);
    let other = insert(&s.store, FolderRole::Drafts, &message(10));
    assert_eq!(other.uid, ImapUid(1));
    let f = s.store.folder(FolderRole::Inbox).unwrap();
    assert_eq!(f.uidnext, 5);
    assert_eq!(f.message_count, 3);
}

#[test]
fn copy_and_move_give_new_uids_in_the_target_and_report_the_map() {
    let s = private_store();
    for n in 0..3 {
        insert(&s.store, FolderRole::Inbox, &message(n));
    }
    insert(&s.store, FolderRole::Trash, &message(99));
    let c = s
        .store
        .copy_messages(
            FolderRole::Inbox,
            vec![UidRange::new(1, 2)],
            FolderRole::Trash,
        )
        .unwrap();
    let trash = s.store.folder(FolderRole::Trash).unwrap();
    assert_eq!(c.target_uidvalidity, trash.uidvalidity);
    assert_eq!(
        c.uids,
        vec![(ImapUid(1), ImapUid(2)), (ImapUid(2), ImapUid(3))]
    );
    let m = s
        .store
        .move_messages(
            FolderRole::Inbox,
            vec![UidRange::single(ImapUid(3))],
            FolderRole::Trash,
        )
        .unwrap();
    assert_eq!(m.uids, vec![(ImapUid(3), ImapUid(4))]);
    assert_eq!(uids(&s.store, FolderRole::Inbox), vec![1, 2]);
    assert_eq!(uids(&s.store, FolderRole::Trash), vec![1, 2, 3, 4]);
    // Copies share one content file.
    let id = s
        .store
        .message_id_by_uid(FolderRole::Trash, ImapUid(2))
        .unwrap();
    assert_eq!(content_bytes(&s.store, id), message(0));
    assert_eq!(files_under(&s.dir), 4);
    assert_eq!(s.store.info().unwrap().message_count, 6);
}

#[test]
fn flags_with_unchanged_since_report_modified_messages() {
    let s = private_store();
    let a = insert(&s.store, FolderRole::Inbox, &message(1));
    let b = insert(&s.store, FolderRole::Inbox, &message(2));
    let out = s
        .store
        .set_flags(
            FolderRole::Inbox,
            vec![UidRange::single(b.uid)],
            FlagOp::Add,
            ImapFlags::FLAGGED,
            vec![],
            None,
        )
        .unwrap();
    let b_cn = out.updated[0].cn;
    assert!(b_cn > b.cn);
    let out = s
        .store
        .set_flags(
            FolderRole::Inbox,
            vec![UidRange::ALL],
            FlagOp::Add,
            ImapFlags::SEEN,
            vec!["work".into()],
            Some(a.cn.max(b.cn)),
        )
        .unwrap();
    assert_eq!(out.modified, vec![b.uid]);
    assert_eq!(out.updated.len(), 1);
    assert_eq!(out.updated[0].uid, a.uid);
    assert_eq!(out.updated[0].keywords, vec!["work".to_string()]);
    let f = s.store.folder(FolderRole::Inbox).unwrap();
    assert_eq!(f.unread_count, 1);
    assert_eq!(f.highest_modseq, out.updated[0].cn);
}

#[test]
fn imap_flags_and_mapi_properties_are_one_state() {
    let s = private_store();
    let ins = insert(&s.store, FolderRole::Inbox, &message(1));
    s.store
        .set_flags(
            FolderRole::Inbox,
            vec![UidRange::ALL],
            FlagOp::Add,
            ImapFlags::SEEN.union(ImapFlags::ANSWERED),
            vec!["$label1".into()],
            None,
        )
        .unwrap();
    let m = s.store.message(ins.message_id).unwrap();
    assert_eq!(
        prop(&m.props, PR_MESSAGE_FLAGS),
        Some(&PropValue::Long(MSGFLAG_READ))
    );
    assert_eq!(
        prop(&m.props, PR_LAST_VERB_EXECUTED),
        Some(&PropValue::Long(EXCHIVERB_REPLYTOSENDER))
    );
    assert_eq!(
        prop(&m.props, PR_ICON_INDEX),
        Some(&PropValue::Long(ICON_MAIL_REPLIED))
    );
    assert_eq!(
        prop(&m.props, PR_GROXIDE_KEYWORDS),
        Some(&PropValue::MvUnicode(vec!["$label1".into()]))
    );
    let e = s
        .store
        .set_message_props(
            ins.message_id,
            vec![
                (PR_FLAG_STATUS, PropValue::Long(FOLLOWUP_FLAGGED)),
                (PR_MESSAGE_FLAGS, PropValue::Long(0)),
            ],
            vec![PR_GROXIDE_KEYWORDS],
        )
        .unwrap();
    assert_eq!(e.flags, ImapFlags::ANSWERED.union(ImapFlags::FLAGGED));
    assert!(e.keywords.is_empty());
    let mut seen = Vec::new();
    s.store
        .list_messages(FolderRole::Inbox, UidRange::ALL, |e| {
            seen.push(e.flags);
            true
        })
        .unwrap();
    assert_eq!(seen, vec![ImapFlags::ANSWERED.union(ImapFlags::FLAGGED)]);
    assert_eq!(s.store.folder(FolderRole::Inbox).unwrap().unread_count, 1);
    s.store.set_read(ins.message_id, true).unwrap();
    assert_eq!(s.store.folder(FolderRole::Inbox).unwrap().unread_count, 0);
}

#[test]
fn changes_since_lists_removals_and_changes_after_a_checkpoint() {
    let s = private_store();
    let a = insert(&s.store, FolderRole::Inbox, &message(1));
    let b = insert(&s.store, FolderRole::Inbox, &message(2));
    let checkpoint = s.store.info().unwrap().cn;
    s.store.delete_message(a.message_id, false).unwrap();
    s.store.set_read(b.message_id, true).unwrap();
    let c = insert(&s.store, FolderRole::Inbox, &message(3));
    let mut changes = Vec::new();
    s.store
        .changes_since(FolderRole::Inbox, checkpoint, |c| {
            changes.push(c);
            true
        })
        .unwrap();
    let summary: Vec<String> = changes
        .iter()
        .map(|c| match c {
            MessageChange::Removed(r) => format!("-{}", r.uid),
            MessageChange::Changed(e) => {
                format!("+{} {:?}", e.uid, e.flags.names().collect::<Vec<_>>())
            }
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            "-1".to_string(),
            "+2 [\"\\\\Seen\"]".into(),
            format!("+{} []", c.uid)
        ]
    );
    let mut all = 0;
    s.store
        .changes_since(FolderRole::Inbox, ChangeNumber(0), |_| {
            all += 1;
            true
        })
        .unwrap();
    assert_eq!(all, 3, "removal of 1 plus messages 2 and 3");
}

#[test]
fn folder_operations_keep_names_unique_and_uidvalidity_fresh() {
    let s = private_store();
    let f = s
        .store
        .create_folder(FolderRole::Inbox, "Projects", "IPF.Note")
        .unwrap();
    assert!(f.id.0 >= 0x100);
    let err = s
        .store
        .create_folder(FolderRole::Inbox, "projects", "IPF.Note")
        .unwrap_err();
    assert!(matches!(err, StoreError::FolderExists { .. }), "{err}");
    let g = s.store.create_folder(f.id, "2024", "").unwrap();
    let moved = s
        .store
        .move_folder(g.id, FolderRole::IpmSubtree, Some("Archive 2024"))
        .unwrap();
    assert_eq!(moved.parent, Some(FolderId(0x09)));
    assert_eq!(moved.name, "Archive 2024");
    let err = s.store.move_folder(f.id, f.id, None).unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
    let renamed = s.store.rename_folder(f.id, "Work").unwrap();
    assert!(renamed.cn > f.cn);
    let err = s.store.delete_folder(FolderRole::Inbox, true).unwrap_err();
    assert!(matches!(err, StoreError::NotPermitted(_)), "{err}");
    // A re-created folder of the same name gets a new UIDVALIDITY.
    insert(&s.store, renamed.id, &message(1));
    s.store.delete_folder(renamed.id, true).unwrap();
    let again = s
        .store
        .create_folder(FolderRole::Inbox, "Work", "IPF.Note")
        .unwrap();
    assert_ne!(again.uidvalidity, renamed.uidvalidity);
    assert!(again.uidvalidity > renamed.uidvalidity);
    let hc = s.store.hierarchy_changes_since(renamed.cn).unwrap();
    assert!(hc.removed.iter().any(|(id, _)| *id == renamed.id));
    assert!(hc.changed.iter().any(|f| f.id == again.id));
    let props = s.store.folder_props(again.id).unwrap();
    assert_eq!(
        prop(&props, PR_DISPLAY_NAME),
        Some(&PropValue::Unicode("Work".into()))
    );
    assert_eq!(
        prop(&props, PR_CONTAINER_CLASS),
        Some(&PropValue::Unicode("IPF.Note".into()))
    );
    assert_eq!(prop(&props, PR_CONTENT_COUNT), Some(&PropValue::Long(0)));
}

#[test]
fn folder_counts_follow_the_messages() {
    let s = private_store();
    let a = insert(&s.store, FolderRole::Inbox, &message(1));
    insert(&s.store, FolderRole::Inbox, &message(22));
    s.store.set_read(a.message_id, true).unwrap();
    let f = s.store.folder(FolderRole::Inbox).unwrap();
    assert_eq!((f.message_count, f.unread_count), (2, 1));
    assert_eq!(f.size, (message(1).len() + message(22).len()) as u64);
    s.store
        .empty_folder(FolderRole::Inbox, true, false)
        .unwrap();
    let f = s.store.folder(FolderRole::Inbox).unwrap();
    assert_eq!((f.message_count, f.unread_count, f.size), (0, 0, 0));
    assert_eq!(s.store.info().unwrap().size, 0);
    assert_eq!(
        files_under(&s.dir),
        0,
        "last references dropped: files removed"
    );
}

#[test]
fn identical_content_is_stored_once_and_freed_with_its_last_reference() {
    let s = private_store();
    let a = insert(&s.store, FolderRole::Inbox, &message(1));
    let b = insert(&s.store, FolderRole::Drafts, &message(1));
    assert_eq!(files_under(&s.dir), 1);
    s.store.delete_message(a.message_id, true).unwrap();
    assert_eq!(files_under(&s.dir), 1);
    s.store.delete_message(b.message_id, true).unwrap();
    assert_eq!(files_under(&s.dir), 0);
}

#[test]
fn soft_deleted_messages_stay_until_purged() {
    let s = private_store();
    let a = insert(&s.store, FolderRole::Inbox, &message(1));
    s.store.delete_message(a.message_id, false).unwrap();
    assert!(matches!(
        s.store.message(a.message_id),
        Err(StoreError::NoSuchMessage(_))
    ));
    assert_eq!(s.store.info().unwrap().message_count, 0);
    assert_eq!(files_under(&s.dir), 1);
    assert_eq!(
        s.store
            .purge_soft_deleted(Duration::from_secs(3600))
            .unwrap(),
        (0, 0)
    );
    assert_eq!(s.store.purge_soft_deleted(Duration::ZERO).unwrap(), (1, 0));
    assert_eq!(files_under(&s.dir), 0);
    let f = s.store.create_folder(FolderRole::Inbox, "Old", "").unwrap();
    insert(&s.store, f.id, &message(2));
    s.store.delete_folder(f.id, false).unwrap();
    assert!(s.store.folders().unwrap().iter().all(|x| x.id != f.id));
    assert_eq!(s.store.purge_soft_deleted(Duration::ZERO).unwrap(), (1, 1));
    assert_eq!(files_under(&s.dir), 0);
}

#[test]
fn a_write_past_the_quota_fails_and_changes_nothing() {
    let s = store_with(OpenOptions::default(), 300);
    insert(&s.store, FolderRole::Inbox, &message(1));
    let big = [b'x'; 200];
    let err = s
        .store
        .insert_mime_from(FolderRole::Inbox, &big[..], NewMessage::default())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::QuotaExceeded { quota: 300, .. }),
        "{err}"
    );
    assert_eq!(uids(&s.store, FolderRole::Inbox), vec![1]);
    let err = s
        .store
        .copy_messages(FolderRole::Inbox, vec![UidRange::ALL], FolderRole::Trash)
        .unwrap_err();
    assert!(matches!(err, StoreError::QuotaExceeded { .. }), "{err}");
    s.store.set_quota(0).unwrap();
    s.store
        .insert_mime_from(FolderRole::Inbox, &big[..], NewMessage::default())
        .unwrap();
    assert_eq!(
        s.store.purge_content().unwrap(),
        0,
        "the refused message left no orphan after sweep"
    );
}

#[test]
fn messages_over_the_size_limit_and_count_limit_are_refused() {
    let opts = OpenOptions::default();
    opts.limits.set(StoreLimits {
        max_message_size: 100,
        max_message_count: 2,
    });
    let s = store_with(opts, 0);
    let err = s
        .store
        .insert_mime_from(FolderRole::Inbox, &[b'x'; 101][..], NewMessage::default())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::TooLarge { max: 100, .. }),
        "{err}"
    );
    s.store
        .insert_mime_from(FolderRole::Inbox, &[b'a'; 10][..], NewMessage::default())
        .unwrap();
    s.store
        .insert_mime_from(FolderRole::Inbox, &[b'b'; 10][..], NewMessage::default())
        .unwrap();
    let err = s
        .store
        .insert_mime_from(FolderRole::Inbox, &[b'c'; 10][..], NewMessage::default())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::TooManyMessages { count: 2 }),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(s.dir.join("tmp")).unwrap().count(),
        0,
        "no staging leftovers"
    );
}

#[test]
fn broken_mime_is_stored_byte_for_byte() {
    let s = private_store();
    let raw: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let ins = insert(&s.store, FolderRole::Inbox, &raw);
    assert_eq!(content_bytes(&s.store, ins.message_id), raw);
    s.store.message(ins.message_id).unwrap();
}

fn mapi_message() -> MapiMessage {
    MapiMessage {
        props: vec![
            (PR_SUBJECT, PropValue::Unicode("Lunch".into())),
            (PR_BODY, PropValue::Unicode("At noon?".into())),
            (
                PR_SENT_REPRESENTING_NAME,
                PropValue::Unicode("Alice".into()),
            ),
            (
                PR_SENT_REPRESENTING_SMTP_ADDRESS,
                PropValue::Unicode("alice@example.org".into()),
            ),
            (PR_MESSAGE_FLAGS, PropValue::Long(MSGFLAG_READ)),
        ],
        recipients: vec![vec![
            (PR_RECIPIENT_TYPE, PropValue::Long(MAPI_TO)),
            (PR_DISPLAY_NAME, PropValue::Unicode("Bob".into())),
            (
                PR_SMTP_ADDRESS,
                PropValue::Unicode("bob@example.com".into()),
            ),
        ]],
        attachments: vec![MapiAttachment {
            props: vec![
                (
                    PR_ATTACH_LONG_FILENAME,
                    PropValue::Unicode("menu.txt".into()),
                ),
                (PR_ATTACH_MIME_TAG, PropValue::Unicode("text/plain".into())),
            ],
            content: b"soup\r\nbread\r\n".to_vec(),
        }],
    }
}

#[test]
fn a_mapi_message_gets_its_mime_generated_once_and_regenerated_after_a_change() {
    let s = private_store();
    let ins = s
        .store
        .insert_mapi(FolderRole::Drafts, mapi_message(), NewMessage::default())
        .unwrap();
    let m = s.store.message(ins.message_id).unwrap();
    assert_eq!(m.origin, ContentOrigin::None);
    assert!(
        m.entry.flags.contains(ImapFlags::SEEN),
        "PR_MESSAGE_FLAGS read bit became \\Seen"
    );
    assert_eq!(prop(&m.props, PR_HASATTACH), Some(&PropValue::Bool(true)));
    let first = s.store.content(ins.message_id).unwrap().hash();
    let raw = content_bytes(&s.store, ins.message_id);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("Subject: Lunch"), "{text}");
    assert!(text.contains("bob@example.com"), "{text}");
    assert!(text.contains("menu.txt"), "{text}");
    let m = s.store.message(ins.message_id).unwrap();
    assert_eq!(m.origin, ContentOrigin::Generated);
    assert_eq!(m.entry.content_hash, Some(first), "cached, not built again");
    assert_eq!(s.store.content(ins.message_id).unwrap().hash(), first);
    s.store
        .set_message_props(
            ins.message_id,
            vec![(PR_SUBJECT, PropValue::Unicode("Dinner".into()))],
            vec![],
        )
        .unwrap();
    assert_eq!(
        s.store.message(ins.message_id).unwrap().origin,
        ContentOrigin::None
    );
    let raw = content_bytes(&s.store, ins.message_id);
    assert!(String::from_utf8_lossy(&raw).contains("Subject: Dinner"));
    assert_ne!(s.store.content(ins.message_id).unwrap().hash(), first);
    let mut att = Vec::new();
    s.store
        .attachment_content(ins.message_id, 0)
        .unwrap()
        .read_to_end(&mut att)
        .unwrap();
    assert_eq!(att, b"soup\r\nbread\r\n");
    use std::io::Read;
}

#[test]
fn attachments_of_mime_messages_are_read_from_the_original() {
    use std::io::Read;
    let s = private_store();
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/corpus/mime/multipart-mixed-attachments.eml"
    ))
    .unwrap();
    let ins = insert(&s.store, FolderRole::Inbox, &raw);
    let m = s.store.message(ins.message_id).unwrap();
    assert!(!m.attachments.is_empty());
    for a in &m.attachments {
        let mut bytes = Vec::new();
        s.store
            .attachment_content(ins.message_id, a.position)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        assert_eq!(
            prop(&a.props, PR_ATTACH_SIZE),
            Some(&PropValue::Long(bytes.len() as i32))
        );
    }
}

#[test]
fn purge_content_removes_orphans_and_keeps_referenced_files() {
    let s = private_store();
    let ins = insert(&s.store, FolderRole::Inbox, &message(1));
    let orphan = s.dir.join("cid/ab").join("ab".repeat(32));
    std::fs::write(&orphan, b"left by a crash").unwrap();
    std::fs::write(s.dir.join("cid/ab/not-a-hash"), b"junk").unwrap();
    assert_eq!(s.store.purge_content().unwrap(), 2);
    assert!(!orphan.exists());
    assert_eq!(content_bytes(&s.store, ins.message_id), message(1));
}

#[test]
fn the_manager_opens_lazily_and_closes_idle_and_least_recently_used_stores() {
    let tmp = tempfile::tempdir().unwrap();
    let mgr = StoreManager::new(
        ManagerSettings {
            max_open: 2,
            idle_close: Duration::from_secs(3600),
            busy_timeout: Duration::from_secs(5),
        },
        StoreLimits::default(),
        None,
    );
    let new = |o: &str| NewStore {
        kind: StoreKind::Private,
        owner: o.into(),
        lang: String::new(),
        quota_bytes: 0,
    };
    let dirs: Vec<_> = (0..3).map(|i| tmp.path().join(format!("u{i}"))).collect();
    for (i, d) in dirs.iter().enumerate() {
        let (_, _, created) = mgr.create(d, &new(&format!("u{i}"))).unwrap();
        assert!(created);
    }
    assert_eq!(mgr.open_count(), 2, "table_size bounds the open stores");
    assert!(
        mgr.already_open(&dirs[0]).is_none(),
        "the least recently used store was closed and is not reopened by already_open"
    );
    let held = mgr.open(&dirs[0]).unwrap();
    let same = mgr.already_open(&dirs[0]).expect("open now");
    assert!(Arc::ptr_eq(&held, &same));
    drop(same);
    insert(&held, FolderRole::Inbox, &message(1));
    assert_eq!(mgr.open_count(), 2);
    mgr.reconfigure(
        ManagerSettings {
            max_open: 2,
            idle_close: Duration::ZERO,
            busy_timeout: Duration::from_secs(5),
        },
        StoreLimits::default(),
    );
    assert_eq!(mgr.close_idle(), 1, "the store in use stays open");
    drop(held);
    assert_eq!(mgr.close_idle(), 1);
    assert_eq!(mgr.open_count(), 0);
    let again = mgr.open(&dirs[0]).unwrap();
    assert_eq!(uids(&again, FolderRole::Inbox), vec![1]);
    drop(again);
    assert!(mgr.delete(&dirs[0]).unwrap());
    assert!(!dirs[0].exists());
    assert!(
        mgr.already_open(&dirs[0]).is_none(),
        "a deleted store is gone"
    );
    assert!(matches!(
        mgr.open(&dirs[0]),
        Err(StoreError::NoSuchStore(_))
    ));
}

#[test]
fn a_commit_observer_hears_every_change() {
    use std::sync::{Arc, Mutex};
    #[derive(Default)]
    struct Log(Mutex<Vec<ChangeEvent>>);
    impl CommitObserver for Log {
        fn committed(&self, _: &std::path::Path, events: &[ChangeEvent]) {
            self.0.lock().unwrap().extend_from_slice(events);
        }
    }
    let log = Arc::new(Log::default());
    let opts = OpenOptions {
        observer: Some(log.clone()),
        ..OpenOptions::default()
    };
    let s = store_with(opts, 0);
    let a = insert(&s.store, FolderRole::Inbox, &message(1));
    s.store
        .move_messages(FolderRole::Inbox, vec![UidRange::ALL], FolderRole::Trash)
        .unwrap();
    let events = log.0.lock().unwrap().clone();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.folder, e.kind, e.uids.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (FolderId(0x0d), ChangeKind::MessageAdded, vec![a.uid]),
            (FolderId(0x0d), ChangeKind::MessageRemoved, vec![ImapUid(1)]),
            (FolderId(0x0b), ChangeKind::MessageAdded, vec![ImapUid(1)]),
        ]
    );
    assert_eq!(events.last().unwrap().cn, s.store.info().unwrap().cn);
}

#[test]
fn folders_come_with_the_asked_properties_in_one_call() {
    let s = private_store();
    let custom = PropTag(0x67F1_000B);
    s.store
        .set_folder_props(
            FolderRole::Drafts,
            vec![(custom, PropValue::Bool(true))],
            vec![],
        )
        .unwrap();
    let listed = s
        .store
        .folders_with_props(&[custom, PR_DISPLAY_NAME])
        .unwrap();
    assert_eq!(listed.len(), s.store.folders().unwrap().len());
    for (f, props) in &listed {
        assert_eq!(
            prop(props, PR_DISPLAY_NAME),
            Some(&PropValue::Unicode(f.name.clone())),
            "{}",
            f.name
        );
        let is_drafts = f.role == Some(FolderRole::Drafts);
        assert_eq!(prop(props, custom).is_some(), is_drafts, "{}", f.name);
        assert!(
            prop(props, PR_CONTENT_COUNT).is_none(),
            "only the asked tags come back"
        );
    }
    let bare = s.store.folders_with_props(&[]).unwrap();
    assert!(bare.iter().all(|(_, p)| p.is_empty()));
}

#[test]
fn imap_status_finds_first_unseen_highest_uid_and_deleted_count() {
    let s = private_store();
    let empty = s
        .store
        .folder_with_imap_status(FolderRole::Inbox)
        .unwrap()
        .1;
    assert_eq!(empty, ImapStatus::default(), "an empty folder has none");
    for n in 1..=5 {
        insert(&s.store, FolderRole::Inbox, &message(n));
    }
    let flag = |uids: &[u32], f: ImapFlags| {
        s.store
            .set_flags(
                FolderRole::Inbox,
                uids.iter().map(|u| UidRange::single(ImapUid(*u))).collect(),
                FlagOp::Add,
                f,
                vec![],
                None,
            )
            .unwrap();
    };
    flag(&[1, 2], ImapFlags::SEEN);
    flag(&[3, 4, 5], ImapFlags::DELETED);
    // UID 5 is expunged: it no longer counts, and 4 becomes the highest.
    s.store
        .delete_messages(FolderRole::Inbox, vec![UidRange::single(ImapUid(5))], false)
        .unwrap();
    let (info, st) = s.store.folder_with_imap_status(FolderRole::Inbox).unwrap();
    assert_eq!(info.message_count, 4);
    assert_eq!(
        st,
        ImapStatus {
            deleted: 2,
            first_unseen_uid: 3,
            highest_uid: 4
        }
    );
}
