//! Tombstones of mail folders: compacted after `mail_tombstone_max_age`,
//! and a reader from before the compaction is told a superset of the
//! removals, never fewer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_store::sync::SyncToken;
use groxide_store::*;
use std::time::Duration;

/// Removed UIDs as the reader reports them: tombstones, then forgotten ranges.
fn removals(s: &Store, since: ChangeNumber) -> (Vec<u32>, Vec<(u32, u32)>) {
    let mut removed = Vec::new();
    let found = s
        .mail_changes_since(FolderRole::Inbox, since, |c| {
            if let MessageChange::Removed(r) = c {
                removed.push(r.uid.0);
            }
            true
        })
        .unwrap();
    let forgotten = found
        .forgotten
        .iter()
        .map(|r| (r.first.0, r.last.0))
        .collect();
    (removed, forgotten)
}

#[test]
fn a_reader_from_before_a_mail_compaction_gets_every_uid_that_is_not_live() {
    let s = private_store();
    let msgs: Vec<_> = (1..=6)
        .map(|n| insert(&s.store, FolderRole::Inbox, &message(n)))
        .collect();
    let before = s.store.info().unwrap().cn;
    s.store
        .delete_messages(FolderRole::Inbox, vec![UidRange::new(2, 3)], true)
        .unwrap();
    s.store.delete_message(msgs[5].message_id, false).unwrap();
    let middle = s.store.info().unwrap().cn;
    assert_eq!(removals(&s.store, before), (vec![2, 3, 6], vec![]));

    // An age not yet reached keeps them.
    assert_eq!(
        s.store
            .compact_mail_tombstones(Duration::from_secs(3600))
            .unwrap(),
        0
    );
    assert_eq!(removals(&s.store, before), (vec![2, 3, 6], vec![]));

    assert_eq!(s.store.compact_mail_tombstones(Duration::ZERO).unwrap(), 3);
    let late = insert(&s.store, FolderRole::Inbox, &message(7));
    s.store.delete_message(msgs[0].message_id, true).unwrap();
    // From before the compaction: the tombstone left (1) and every UID up
    // to UIDNEXT that is not live (1..3, 6), never fewer than were removed.
    assert_eq!(late.uid.0, 7);
    assert_eq!(removals(&s.store, before), (vec![1], vec![(1, 3), (6, 6)]));
    // From after it: the exact removals, as before.
    assert_eq!(removals(&s.store, middle), (vec![1], vec![]));
    assert_eq!(uids(&s.store, FolderRole::Inbox), vec![4, 5, 7]);
}

#[test]
fn mail_compaction_leaves_groupware_tombstones_and_the_groupware_one_mail() {
    let s = private_store();
    let m = insert(&s.store, FolderRole::Inbox, &message(1));
    let before = s.store.info().unwrap().cn;
    s.store.delete_message(m.message_id, true).unwrap();
    assert_eq!(s.store.compact_tombstones(Duration::ZERO).unwrap(), 0);
    assert_eq!(removals(&s.store, before), (vec![1], vec![]));
    assert_eq!(s.store.compact_mail_tombstones(Duration::ZERO).unwrap(), 1);
    assert_eq!(removals(&s.store, before), (vec![], vec![(1, 1)]));
    // Mail sync tokens (EWS, ActiveSync) from before are refused.
    let token = SyncToken {
        folder: s.store.folder(FolderRole::Inbox).unwrap().id,
        uidvalidity: s.store.folder(FolderRole::Inbox).unwrap().uidvalidity,
        cn: before,
    }
    .to_string();
    match s.store.item_changes_since(FolderRole::Inbox, &token) {
        Err(StoreError::SyncTokenTooOld(_)) => {}
        other => panic!("an old token was answered: {other:?}"),
    }
}
