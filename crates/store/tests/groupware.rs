//! Groupware in the store: named properties, localised standard folders and
//! their migration, items with their originals, conditional writes, sync
//! tokens with tombstone compaction, free/busy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_mapi::{NamedProp, PropValue, lids, psets, tags};
use groxide_pim::ical::{
    ExportOptions, ImportOptions, compare_calendars, item_to_ical, parse_calendar,
};
use groxide_pim::recur::Zone;
use groxide_pim::vcard::{VcardVersion, compare_vcards, item_to_vcard, parse_vcards};
use groxide_pim::{Item, ItemClass};
use groxide_store::freebusy::BusyStatus;
use groxide_store::items::{Precondition, PutTarget};
use groxide_store::*;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::Duration;

fn corpus(kind: &str, name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/groupware")
        .join(kind)
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ical_opts() -> ImportOptions {
    ImportOptions {
        floating_zone: Some(chrono_tz::Europe::Berlin),
        owner: Some("anna@example.de".into()),
        ..ImportOptions::default()
    }
}

fn events(name: &str) -> Vec<Item> {
    parse_calendar(&corpus("ical", name), &ical_opts())
        .items
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

fn open_again(s: &TempStore) -> Store {
    Store::open(&s.dir, &OpenOptions::default()).unwrap()
}

#[test]
fn concurrent_writers_asking_for_one_name_get_one_id_and_ids_survive_reopen() {
    let s = private_store();
    let store = Arc::new(s.store);
    let names: Vec<NamedProp> = (0..40)
        .map(|i| NamedProp::string(psets::PUBLIC_STRINGS, format!("x-prop-{i}")))
        .chain([
            lids::PID_LID_BUSY_STATUS.named(),
            lids::PID_LID_LOCATION.named(),
        ])
        .collect();
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (store, barrier) = (store.clone(), barrier.clone());
            let mut mine = names.clone();
            // Each asks in another order.
            mine.rotate_left(t * 5);
            std::thread::spawn(move || {
                barrier.wait();
                let ids = store.named_ids_create(&mine, true).unwrap();
                mine.into_iter()
                    .zip(ids.into_iter().map(Option::unwrap))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut results: Vec<Vec<(NamedProp, u16)>> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    for r in &mut results {
        r.sort();
    }
    assert!(
        results.windows(2).all(|w| w[0] == w[1]),
        "writers disagree on ids"
    );
    let first = results.remove(0);
    let mut ids: Vec<u16> = first.iter().map(|(_, i)| *i).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), names.len(), "two names share an id");
    assert!(ids.iter().all(|i| *i >= 0x8000));

    // String names do not depend on case; unknown names have no id unless created.
    let upper = NamedProp::string(psets::PUBLIC_STRINGS, "X-PROP-3");
    let unknown = NamedProp::lid(psets::TASK, 0x8101);
    let got = store
        .named_ids_create(&[upper.clone(), unknown.clone()], false)
        .unwrap();
    let want = first
        .iter()
        .find(|(n, _)| *n == NamedProp::string(psets::PUBLIC_STRINGS, "x-prop-3"))
        .unwrap()
        .1;
    assert_eq!(got, vec![Some(want), None]);

    let store = Arc::into_inner(store).unwrap();
    drop(store);
    let again = Store::open(&s.dir, &OpenOptions::default()).unwrap();
    let after = again.named_ids(&names).unwrap();
    for ((n, id), a) in first.iter().zip(
        first
            .iter()
            .map(|(n, _)| after[names.iter().position(|x| x == n).unwrap()]),
    ) {
        assert_eq!(Some(*id), a, "{n} changed its id across a reopen");
    }
    let back = again.named_names(&ids).unwrap();
    for (id, n) in ids.iter().zip(back) {
        assert_eq!(
            first.iter().find(|(_, i)| i == id).map(|(n, _)| n.clone()),
            n
        );
    }
    assert_eq!(
        again.named_names(&[0x0037, 0xFFF0]).unwrap(),
        vec![None, None]
    );
}

fn folder_by_role(store: &Store, role: FolderRole) -> FolderInfo {
    store.folder(role).unwrap()
}

#[test]
fn a_new_store_names_its_folders_in_the_owners_language() {
    for (lang, calendar, contacts, inbox) in [
        ("de_DE", "Kalender", "Kontakte", "Posteingang"),
        ("fr", "Calendrier", "Contacts", "Boîte de réception"),
        ("ja", "予定表", "連絡先", "受信トレイ"),
        ("", "Calendar", "Contacts", "Inbox"),
        ("tlh", "Calendar", "Contacts", "Inbox"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("u");
        let (store, _, _) = Store::create(
            &dir,
            &NewStore {
                kind: StoreKind::Private,
                owner: "u@example.org".into(),
                lang: lang.into(),
                quota_bytes: 0,
            },
            &OpenOptions::default(),
        )
        .unwrap();
        let cal = folder_by_role(&store, FolderRole::Calendar);
        assert_eq!(
            (cal.name.as_str(), cal.container_class.as_str()),
            (calendar, "IPF.Appointment")
        );
        assert_eq!(folder_by_role(&store, FolderRole::Contacts).name, contacts);
        assert_eq!(folder_by_role(&store, FolderRole::Inbox).name, inbox);
        for (role, class) in [
            (FolderRole::Tasks, "IPF.Task"),
            (FolderRole::Notes, "IPF.StickyNote"),
            (FolderRole::Journal, "IPF.Journal"),
            (FolderRole::Contacts, "IPF.Contact"),
        ] {
            assert_eq!(
                folder_by_role(&store, role).container_class,
                class,
                "{lang}"
            );
        }
    }
}

#[test]
fn the_migration_adds_missing_standard_folders_and_keeps_a_user_folder_of_that_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("u");
    let new = NewStore {
        kind: StoreKind::Private,
        owner: "u@example.org".into(),
        lang: "de".into(),
        quota_bytes: 0,
    };
    let (store, _, _) = Store::create_at_version(&dir, &new, &OpenOptions::default(), 4).unwrap();
    // A store of an older build: no Tasks and no Notes folder, and a user
    // folder named as the Tasks folder would be.
    let conn = rusqlite::Connection::open(dir.join("exmdb/exchange.sqlite3")).unwrap();
    conn.execute("UPDATE folders SET name = 'gone' WHERE role = 'tasks'", [])
        .unwrap();
    drop(conn);
    let user = store
        .create_folder(FolderRole::IpmSubtree, "Aufgaben", "IPF.Note")
        .unwrap();
    let m = store
        .insert_mime_from(user.id, &message(1)[..], NewMessage::default())
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.join("exmdb/exchange.sqlite3")).unwrap();
    conn.execute("DELETE FROM folders WHERE role IN ('tasks', 'notes')", [])
        .unwrap();
    drop(conn);

    let store = Store::open(&dir, &OpenOptions::default()).unwrap();
    assert_eq!(store.info().unwrap().schema_version, SCHEMA_VERSION);
    let tasks = folder_by_role(&store, FolderRole::Tasks);
    assert_eq!(
        (tasks.name.as_str(), tasks.container_class.as_str()),
        ("Aufgaben (2)", "IPF.Task")
    );
    let notes = folder_by_role(&store, FolderRole::Notes);
    assert_eq!(
        (notes.name.as_str(), notes.container_class.as_str()),
        ("Notizen", "IPF.StickyNote")
    );
    let kept = store.folder(user.id).unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.role, kept.message_count),
        ("Aufgaben", None, 1)
    );
    assert_eq!(store.message(m.message_id).unwrap().folder, user.id);
    // A second open adds nothing more.
    let count = store.folders().unwrap().len();
    drop(store);
    let store = Store::open(&dir, &OpenOptions::default()).unwrap();
    assert_eq!(store.folders().unwrap().len(), count);
}

#[test]
fn an_appointment_series_comes_back_as_it_went_in_with_its_original() {
    let s = private_store();
    for item in events("outlook-weekly-windows-zone.ics") {
        let put = s
            .store
            .put_item(
                FolderRole::Calendar,
                &item,
                PutTarget::ByUid,
                Precondition::IfNoneMatch,
            )
            .unwrap();
        assert!(put.created);
        let (entry, back) = s.store.get_item(put.entry.message_id).unwrap();
        assert_eq!(entry, put.entry);
        assert_eq!(entry.message_class, "IPM.Appointment");
        assert_eq!(entry.item_uid, groxide_store::items::item_uid(&item));
        assert_eq!(back.original, item.original);
        assert_eq!(back.props, item.props, "properties changed in the store");
        assert_eq!(back.recipients, item.recipients);
        assert_eq!(
            back.attachments, item.attachments,
            "exceptions changed in the store"
        );
        assert_eq!(back, item);
        // Exported again it keeps what the source said.
        let source = String::from_utf8(item.original.clone().unwrap()).unwrap();
        let out = item_to_ical(
            &back,
            &ExportOptions {
                floating_zone: Some(chrono_tz::Europe::Berlin),
                owner: Some("anna@example.de".into()),
            },
        )
        .unwrap();
        let diff = compare_calendars(&source, &out, &[], Some(chrono_tz::Europe::Berlin));
        assert!(diff.is_empty(), "lost {:?}", diff.missing);
    }
    // Through a reopen (named ids from the table, not the cache).
    drop(s.store.named_ids(&[]).unwrap());
    let again = open_again(&s);
    let listed = again.list_items(FolderRole::Calendar).unwrap();
    assert_eq!(listed.len(), 1);
    let (_, back) = again.get_item(listed[0].message_id).unwrap();
    assert_eq!(back.class, ItemClass::Appointment);
    assert_eq!(back.str(tags::PR_SUBJECT), Some("Team-Jour-fixe"));
    assert_eq!(back.str(&lids::PID_LID_LOCATION), Some("Raum Elbe"));
}

#[test]
fn contacts_with_photos_round_trip_through_the_store() {
    let s = private_store();
    let input = corpus("vcard", "apple-contacts-v3.vcf");
    let cards: Vec<Item> = parse_vcards(&input)
        .items
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(!cards.is_empty());
    for c in &cards {
        let put = s
            .store
            .put_item(
                FolderRole::Contacts,
                c,
                PutTarget::ByUid,
                Precondition::None,
            )
            .unwrap();
        let (_, back) = s.store.get_item(put.entry.message_id).unwrap();
        assert_eq!(&back, c);
        let out = item_to_vcard(&back, VcardVersion::V3).unwrap();
        let lost = compare_vcards(c.original.as_deref().unwrap(), out.as_bytes(), &[]);
        assert!(lost.is_empty(), "lost {lost:?}");
    }
    assert_eq!(
        s.store.list_items(FolderRole::Contacts).unwrap().len(),
        cards.len()
    );
}

#[test]
fn writes_are_conditional_on_the_etag_and_replace_in_place() {
    let s = private_store();
    let mut item = events("thunderbird-lightning.ics").remove(0);
    let uid = groxide_store::items::item_uid(&item);
    let first = s
        .store
        .put_item(
            FolderRole::Calendar,
            &item,
            PutTarget::ByUid,
            Precondition::None,
        )
        .unwrap();
    // If-None-Match on an existing UID is refused.
    let again = s.store.put_item(
        FolderRole::Calendar,
        &item,
        PutTarget::ByUid,
        Precondition::IfNoneMatch,
    );
    assert!(
        matches!(again, Err(StoreError::PreconditionFailed(_))),
        "{again:?}"
    );
    item.set(tags::PR_SUBJECT, PropValue::Unicode("Changed".into()));
    let second = s
        .store
        .put_item(
            FolderRole::Calendar,
            &item,
            PutTarget::ByUid,
            Precondition::IfMatch(first.entry.etag()),
        )
        .unwrap();
    assert!(!second.created);
    assert_eq!(second.entry.message_id, first.entry.message_id);
    assert_eq!(second.entry.uid, first.entry.uid);
    assert!(second.entry.cn > first.entry.cn);
    assert_ne!(second.entry.etag(), first.entry.etag());
    // A writer holding the old etag loses, and nothing changes.
    item.set(tags::PR_SUBJECT, PropValue::Unicode("Lost update".into()));
    let stale = s.store.put_item(
        FolderRole::Calendar,
        &item,
        PutTarget::Message(first.entry.message_id),
        Precondition::IfMatch(first.entry.etag()),
    );
    assert!(
        matches!(stale, Err(StoreError::PreconditionFailed(_))),
        "{stale:?}"
    );
    let (e, back) = s.store.get_item(first.entry.message_id).unwrap();
    assert_eq!(back.str(tags::PR_SUBJECT), Some("Changed"));
    assert_eq!(e, second.entry);
    assert_eq!(s.store.list_items(FolderRole::Calendar).unwrap().len(), 1);
    assert_eq!(
        s.store.find_item(FolderRole::Calendar, &uid).unwrap(),
        Some(second.entry.clone())
    );
    // Sizes are counted once.
    let f = s.store.folder(FolderRole::Calendar).unwrap();
    assert_eq!((f.message_count, f.size), (1, second.entry.size));
    // Delete under a stale etag fails; under the current one it works.
    let d = s
        .store
        .delete_item(first.entry.message_id, Some(first.entry.etag()));
    assert!(matches!(d, Err(StoreError::PreconditionFailed(_))), "{d:?}");
    s.store
        .delete_item(first.entry.message_id, Some(second.entry.etag()))
        .unwrap();
    assert!(s.store.list_items(FolderRole::Calendar).unwrap().is_empty());
    assert_eq!(s.store.folder(FolderRole::Calendar).unwrap().size, 0);
    // Its content files went with it.
    assert!(s.store.referenced_content().unwrap().is_empty());
}

#[test]
fn sync_tokens_replay_changes_and_refuse_after_compaction() {
    let s = private_store();
    let evs = events("google-export.ics");
    assert!(evs.len() >= 3, "{}", evs.len());
    let initial = s
        .store
        .item_changes_since(FolderRole::Calendar, "")
        .unwrap();
    assert!(initial.changed.is_empty() && initial.removed.is_empty());
    let t0 = initial.token.to_string();
    assert!(t0.starts_with("gx1-"), "{t0}");
    let puts: Vec<_> = evs
        .iter()
        .map(|e| {
            s.store
                .put_item(
                    FolderRole::Calendar,
                    e,
                    PutTarget::ByUid,
                    Precondition::None,
                )
                .unwrap()
        })
        .collect();
    let c1 = s
        .store
        .item_changes_since(FolderRole::Calendar, &t0)
        .unwrap();
    assert_eq!(c1.changed.len(), evs.len());
    let t1 = c1.token.to_string();
    // Nothing new: nothing reported, same token.
    let same = s
        .store
        .item_changes_since(FolderRole::Calendar, &t1)
        .unwrap();
    assert!(same.changed.is_empty() && same.removed.is_empty());
    assert_eq!(same.token.to_string(), t1);
    // One changed, one deleted.
    let mut changed = evs[0].clone();
    changed.set(tags::PR_SUBJECT, PropValue::Unicode("moved".into()));
    s.store
        .put_item(
            FolderRole::Calendar,
            &changed,
            PutTarget::ByUid,
            Precondition::None,
        )
        .unwrap();
    s.store.delete_item(puts[1].entry.message_id, None).unwrap();
    let c2 = s
        .store
        .item_changes_since(FolderRole::Calendar, &t1)
        .unwrap();
    assert_eq!(
        c2.changed.iter().map(|e| e.message_id).collect::<Vec<_>>(),
        vec![puts[0].entry.message_id]
    );
    assert_eq!(
        c2.removed.iter().map(|r| r.message_id).collect::<Vec<_>>(),
        vec![puts[1].entry.message_id]
    );
    // Mail tombstones are not compacted; the calendar's are, once old enough.
    assert_eq!(
        s.store
            .compact_tombstones(Duration::from_secs(3600))
            .unwrap(),
        0
    );
    assert!(
        s.store
            .item_changes_since(FolderRole::Calendar, &t1)
            .is_ok()
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(s.store.compact_tombstones(Duration::ZERO).unwrap(), 1);
    match s.store.item_changes_since(FolderRole::Calendar, &t1) {
        Err(StoreError::SyncTokenTooOld(_)) => {}
        other => panic!("an old token was answered: {other:?}"),
    }
    // The newest token still works; a fresh sync sees the live items.
    let t2 = c2.token.to_string();
    assert!(
        s.store
            .item_changes_since(FolderRole::Calendar, &t2)
            .unwrap()
            .removed
            .is_empty()
    );
    let fresh = s
        .store
        .item_changes_since(FolderRole::Calendar, "")
        .unwrap();
    assert_eq!(fresh.changed.len(), evs.len() - 1);
    // Tokens of another folder or of no folder are refused.
    let tasks = s.store.sync_token(FolderRole::Tasks).unwrap().to_string();
    assert!(matches!(
        s.store.item_changes_since(FolderRole::Calendar, &tasks),
        Err(StoreError::InvalidArgument(_))
    ));
    assert!(matches!(
        s.store.item_changes_since(FolderRole::Calendar, "garbage"),
        Err(StoreError::InvalidArgument(_))
    ));
}

#[test]
fn free_busy_expands_series_and_honours_exceptions() {
    let s = private_store();
    for e in events("outlook-weekly-windows-zone.ics") {
        s.store
            .put_item(
                FolderRole::Calendar,
                &e,
                PutTarget::ByUid,
                Precondition::None,
            )
            .unwrap();
    }
    // 2024-03-01 .. 2024-07-01 UTC
    let slots = s
        .store
        .free_busy(1_709_251_200, 1_719_792_000, &Zone::Utc)
        .unwrap();
    // Mondays 4 March to 24 June 2024 = 17, minus the cancelled 8 April;
    // 15 April moved to Tuesday 16 April 14:00 (CEST = 12:00 UTC).
    assert_eq!(slots.len(), 16, "{slots:#?}");
    assert!(
        slots
            .iter()
            .all(|s| s.status == BusyStatus::Busy && s.end - s.start == 1800)
    );
    let starts: Vec<i64> = slots.iter().map(|s| s.start).collect();
    assert!(
        starts.contains(&1_713_268_800),
        "moved instance missing: {starts:?}"
    );
    assert!(
        !starts.contains(&1_712_559_600),
        "cancelled instance present"
    );
    assert!(
        !starts.contains(&1_713_164_400),
        "moved instance at its old time"
    );
    // A range before the series: nothing.
    assert!(
        s.store
            .free_busy(0, 1_000_000, &Zone::Utc)
            .unwrap()
            .is_empty()
    );
}
