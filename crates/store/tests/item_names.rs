//! Resource names of groupware items (schema 6): the name a DAV client
//! gave an item is kept, unique in its folder, never shared by two items of
//! one UID, and the tombstone of a removed item keeps its name and UID.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_pim::Item;
use groxide_pim::ical::{ImportOptions, parse_calendar};
use groxide_store::items::{Precondition, PutTarget};
use groxide_store::*;
use std::time::Duration;

fn event(uid: &str) -> Item {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20240101T000000Z\r\nDTSTART:20240110T100000Z\r\nDTEND:20240110T110000Z\r\n\
         SUMMARY:{uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    parse_calendar(ics.as_bytes(), &ImportOptions::default())
        .items
        .remove(0)
        .unwrap()
}

fn put(s: &Store, uid: &str, name: Option<&str>, target: PutTarget) -> Result<items::PutOutcome> {
    s.put_item_named(
        FolderRole::Calendar,
        &event(uid),
        target,
        Precondition::None,
        name,
    )
}

#[test]
fn names_are_kept_unique_and_one_uid_has_one_name() {
    let t = private_store();
    let s = &t.store;
    let a = put(s, "uid-a", Some("Apple-1.ics"), PutTarget::New).unwrap();
    assert_eq!(a.entry.name, "Apple-1.ics");
    // A replacement without a name keeps the one it has.
    let again = put(s, "uid-a", None, PutTarget::Message(a.entry.message_id)).unwrap();
    assert_eq!(again.entry.name, "Apple-1.ics");
    // The name is taken; so is the UID (under another name).
    let taken = put(s, "uid-b", Some("Apple-1.ics"), PutTarget::New);
    assert!(
        matches!(taken, Err(StoreError::PreconditionFailed(_))),
        "{taken:?}"
    );
    let twice = put(s, "uid-a", Some("other.ics"), PutTarget::New);
    assert!(
        matches!(twice, Err(StoreError::PreconditionFailed(_))),
        "{twice:?}"
    );
    let bad = put(s, "uid-c", Some("a/b.ics"), PutTarget::New);
    assert!(
        matches!(bad, Err(StoreError::InvalidArgument(_))),
        "{bad:?}"
    );
    assert_eq!(s.list_items(FolderRole::Calendar).unwrap().len(), 1);
    let b = put(s, "uid-b", None, PutTarget::New).unwrap();
    assert_eq!(b.entry.name, "");
    let found = s
        .find_items(
            FolderRole::Calendar,
            &["Apple-1.ics".into(), "nothing.ics".into()],
            &["uid-b".into()],
        )
        .unwrap();
    let ids: Vec<_> = found.iter().map(|e| e.message_id).collect();
    assert_eq!(ids, [a.entry.message_id, b.entry.message_id]);
    // After a removal the name is free again.
    s.delete_item(a.entry.message_id, None).unwrap();
    put(s, "uid-c", Some("Apple-1.ics"), PutTarget::New).unwrap();
}

#[test]
fn tombstones_name_removed_items_after_purge_and_move() {
    let t = private_store();
    let s = &t.store;
    let token = s.sync_token(FolderRole::Calendar).unwrap().to_string();
    let a = put(s, "uid-a", Some("chosen.ics"), PutTarget::New).unwrap();
    let b = put(s, "uid-b", None, PutTarget::New).unwrap();
    let c = put(s, "uid-c", Some("moved.ics"), PutTarget::New).unwrap();
    s.delete_item(a.entry.message_id, None).unwrap();
    s.delete_item(b.entry.message_id, None).unwrap();
    s.purge_soft_deleted(Duration::ZERO).unwrap();
    // A folder already holding the name: the moved item arrives unnamed.
    let other = s
        .create_folder(FolderRole::Calendar, "Other", "IPF.Appointment")
        .unwrap();
    let there = s
        .put_item_named(
            other.id,
            &event("uid-x"),
            PutTarget::New,
            Precondition::None,
            Some("moved.ics"),
        )
        .unwrap();
    s.move_messages(
        FolderRole::Calendar,
        vec![UidRange::new(c.entry.uid.0, c.entry.uid.0)],
        other.id,
    )
    .unwrap();
    let changes = s.item_changes_since(FolderRole::Calendar, &token).unwrap();
    assert!(changes.changed.is_empty(), "{:?}", changes.changed);
    let mut removed: Vec<(String, String)> = changes
        .removed
        .iter()
        .map(|r| (r.item_uid.clone(), r.name.clone()))
        .collect();
    removed.sort();
    assert_eq!(
        removed,
        [
            ("uid-a".to_string(), "chosen.ics".to_string()),
            ("uid-b".to_string(), String::new()),
            ("uid-c".to_string(), "moved.ics".to_string()),
        ]
    );
    let in_other = s.list_items(other.id).unwrap();
    let moved = in_other
        .iter()
        .find(|e| e.message_id == c.entry.message_id)
        .unwrap();
    assert_eq!(moved.name, "");
    assert!(
        in_other
            .iter()
            .any(|e| e.message_id == there.entry.message_id && e.name == "moved.ics")
    );
}

#[test]
fn a_source_object_is_served_as_stored_only_while_nothing_changed_the_item() {
    use groxide_store::items::ItemRead;
    let t = private_store();
    let s = &t.store;
    let a = put(s, "uid-a", Some("a.ics"), PutTarget::New).unwrap();
    let b = put(s, "uid-b", None, PutTarget::New).unwrap();
    let (ida, idb) = (a.entry.message_id, b.entry.message_id);
    let gone = MessageId(999_999);
    let read = s.read_items(&[ida, gone, idb], false, u64::MAX).unwrap();
    assert!(
        matches!(&read[0], ItemRead::Source(e, bytes) if e.message_id == ida
            && std::str::from_utf8(bytes).unwrap().contains("SUMMARY:uid-a")),
        "{read:?}"
    );
    assert_eq!(read[1], ItemRead::Missing(gone));
    assert!(matches!(&read[2], ItemRead::Source(e, _) if e.message_id == idb));
    // With properties asked for, the item comes whole, marked current.
    let whole = s.read_items(&[ida], true, u64::MAX).unwrap();
    assert!(
        matches!(&whole[0], ItemRead::Item(e, i, true) if e.cn == a.entry.cn && i.original.is_some())
    );
    // A change of its properties by another path: the source is stale.
    s.set_message_props(
        ida,
        vec![(
            groxide_store::tags::PR_SUBJECT,
            PropValue::Unicode("renamed".into()),
        )],
        vec![],
    )
    .unwrap();
    let stale = s.read_items(&[ida], false, u64::MAX).unwrap();
    assert!(
        matches!(&stale[0], ItemRead::Item(e, i, false) if e.cn > a.entry.cn
            && i.str(groxide_mapi::tags::PR_SUBJECT) == Some("renamed")),
        "{stale:?}"
    );
    // A read-modify-write carrying the source it had: still stale.
    let (_, mut item) = s.get_item(idb).unwrap();
    item.set(
        groxide_mapi::tags::PR_SUBJECT,
        groxide_mapi::PropValue::Unicode("edited".into()),
    );
    s.put_item(
        FolderRole::Calendar,
        &item,
        PutTarget::Message(idb),
        Precondition::None,
    )
    .unwrap();
    let kept = s.read_items(&[idb], false, u64::MAX).unwrap();
    assert!(matches!(&kept[0], ItemRead::Item(_, _, false)), "{kept:?}");
    // A new source object makes it current again.
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:uid-b\r\n\
               DTSTAMP:20240101T000000Z\r\nDTSTART:20240110T100000Z\r\nSUMMARY:again\r\n\
               END:VEVENT\r\nEND:VCALENDAR\r\n";
    let again = parse_calendar(ics.as_bytes(), &ImportOptions::default())
        .items
        .remove(0)
        .unwrap();
    s.put_item(
        FolderRole::Calendar,
        &again,
        PutTarget::Message(idb),
        Precondition::None,
    )
    .unwrap();
    let fresh = s.read_items(&[idb], false, u64::MAX).unwrap();
    assert!(matches!(&fresh[0], ItemRead::Source(..)), "{fresh:?}");
    // The budget ends a reply early, after at least one item.
    assert_eq!(s.read_items(&[ida, idb], false, 1).unwrap().len(), 1);
}
