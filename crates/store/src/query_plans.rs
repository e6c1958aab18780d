//! The queries behind every IMAP/POP3 command stay lookups however much
//! history a folder holds: soft-deleted messages (kept until purged) and
//! tombstones (kept for sync) must not be stepped over.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::folders::{DELETED_COUNT_SQL, FIRST_UNSEEN_SQL, HIGHEST_UID_SQL};
use crate::messages::{CHANGED_SINCE_SQL, LIST_SQL, REMOVED_SINCE_SQL, SELECT_UIDS_SQL};
use crate::{FolderRole, NewMessage, NewStore, OpenOptions, Store, StoreKind};
use rusqlite::{Connection, StatementStatus, params};

/// Rows of history per kind: far more than any of the queries may step.
const HISTORY: i64 = 3000;

/// Runs `sql` to the end; returns (rows, virtual machine steps).
fn run(db: &Connection, sql: &str, p: impl rusqlite::Params) -> (usize, i32) {
    let mut st = db.prepare(sql).unwrap();
    let mut rows = st.query(p).unwrap();
    let mut n = 0;
    while rows.next().unwrap().is_some() {
        n += 1;
    }
    drop(rows);
    (n, st.get_status(StatementStatus::VmStep))
}

#[test]
fn listings_do_not_step_over_soft_deleted_messages_or_old_tombstones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("user/a");
    let new = NewStore {
        kind: StoreKind::Private,
        owner: "a@example.org".into(),
        lang: String::new(),
        quota_bytes: 0,
    };
    let (store, _, _) = Store::create(&dir, &new, &OpenOptions::default()).unwrap();
    for n in 0..5 {
        let raw = format!("Subject: {n}\r\n\r\nbody {n}\r\n");
        store
            .insert_mime_from(FolderRole::Inbox, raw.as_bytes(), NewMessage::default())
            .unwrap();
    }
    let (inbox, _) = store.folder_with_imap_status(FolderRole::Inbox).unwrap();
    drop(store);
    let folder = inbox.id.0 as i64;

    // The five live messages are read and recently changed. Behind them, a
    // long history: read messages, soft-deleted messages above every live
    // UID and tombstones, all changed long before any change a client holds;
    // one unseen message carrying \Deleted at the top.
    let mut db = Connection::open(dir.join("exmdb/exchange.sqlite3")).unwrap();
    let tx = db.transaction().unwrap();
    tx.execute(
        "UPDATE messages SET flags = 1, cn = 1000000 + uid WHERE folder_id = ?1",
        [folder],
    )
    .unwrap();
    let row = |uid: i64, flags: i64, deleted_at: Option<i64>| {
        tx.execute(
            "INSERT INTO messages (folder_id, uid, cn, flags, keywords, size, internal_date, \
             content_hash, content_kind, deleted_at) VALUES (?1, ?2, 1, ?3, '', 10, 0, NULL, 0, ?4)",
            params![folder, uid, flags, deleted_at],
        )
        .unwrap();
    };
    for i in 0..HISTORY {
        row(10 + i, 1, None);
        row(100_000 + i, 0, Some(1));
    }
    row(50_000, 8, None);
    for i in 0..HISTORY {
        tx.execute(
            "INSERT INTO message_tombstones (folder_id, uid, message_id, cn) VALUES (?1, ?2, ?3, 1)",
            params![folder, 200_000 + i, 1_000_000 + i],
        )
        .unwrap();
    }
    tx.commit().unwrap();

    let first: &[&dyn rusqlite::ToSql] = &[&folder, &1, &5];
    let since_2: &[&dyn rusqlite::ToSql] = &[&folder, &2];
    let of_folder: &[&dyn rusqlite::ToSql] = &[&folder];
    for (what, sql, args, expected_rows) in [
        ("listing", LIST_SQL, first, 5),
        ("listing for writes", SELECT_UIDS_SQL, first, 5),
        ("highest UID", HIGHEST_UID_SQL, of_folder, 1),
        ("first unseen", FIRST_UNSEEN_SQL, of_folder, 1),
        ("\\Deleted count", DELETED_COUNT_SQL, of_folder, 1),
        ("removed since", REMOVED_SINCE_SQL, since_2, 0),
        ("changed since", CHANGED_SINCE_SQL, since_2, 5),
    ] {
        let (rows, steps) = run(&db, sql, args);
        assert_eq!(rows, expected_rows, "{what}: rows of {sql}");
        assert!(
            i64::from(steps) < HISTORY / 10,
            "{what}: {steps} steps for {rows} rows over {HISTORY} rows of history: {sql}"
        );
    }
}
