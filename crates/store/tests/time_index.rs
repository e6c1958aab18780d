//! The time index of groupware items: a time range query (CalDAV
//! calendar-query, free/busy) reads only candidates, and finds exactly what
//! reading every item of the folder finds, whatever happened to the items
//! (changed, moved, copied, changed over MAPI, stored before the index).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_mapi::lids;
use groxide_pim::Item;
use groxide_pim::ical::{ImportOptions, parse_calendar};
use groxide_pim::recur::Zone;
use groxide_store::items::{ItemEntry, Precondition, PutTarget};
use groxide_store::*;

fn import(ics: &str, zone: chrono_tz::Tz) -> Vec<Item> {
    let opts = ImportOptions {
        floating_zone: Some(zone),
        owner: Some("alice@example.org".into()),
        ..ImportOptions::default()
    };
    parse_calendar(ics.as_bytes(), &opts)
        .items
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

fn vevent(uid: &str, body: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20240101T000000Z\r\nSUMMARY:{uid}\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn put(store: &Store, folder: impl Into<FolderRef>, items: &[Item]) -> ItemEntry {
    let f = folder.into();
    let mut last = None;
    for i in items {
        last = Some(
            store
                .put_item(f, i, PutTarget::ByUid, Precondition::None)
                .unwrap()
                .entry,
        );
    }
    last.unwrap()
}

/// Unix seconds of a UTC date-time "YYYYMMDDTHHMMSS".
fn t(s: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    // Days from 1970-01-01 of a proleptic Gregorian date.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15)
}

/// The UIDs `items_in_range` finds.
fn found(store: &Store, folder: impl Into<FolderRef>, from: i64, to: i64, z: &Zone) -> Vec<String> {
    let mut v: Vec<String> = store
        .items_in_range(folder, from, to, z)
        .unwrap()
        .into_iter()
        .map(|e| e.item_uid)
        .collect();
    v.sort();
    v
}

/// What a query finds reading every item of the folder (the answer before
/// the index).
fn every_item(
    store: &Store,
    folder: impl Into<FolderRef>,
    from: i64,
    to: i64,
    z: &Zone,
) -> Vec<String> {
    let mut v: Vec<String> = store
        .list_items(folder)
        .unwrap()
        .into_iter()
        .filter(|e| {
            let (_, item) = store.get_item(e.message_id).unwrap();
            groxide_pim::recur::mapi::occurs_in(&item, from, to, z)
        })
        .map(|e| e.item_uid)
        .collect();
    v.sort();
    v
}

/// Every month from 2023 to 2040 and a few long and short ranges, in a
/// few floating zones: the index answers as reading every item does.
fn assert_same_as_reading_everything(store: &Store, folder: FolderRef) {
    let zones = [
        Zone::Utc,
        Zone::Iana(chrono_tz::Pacific::Kiritimati),
        Zone::Iana(chrono_tz::Pacific::Pago_Pago),
        Zone::Iana(chrono_tz::Europe::Berlin),
    ];
    let mut ranges = Vec::new();
    for y in 2023..2041 {
        for m in 1..=12 {
            let from = t(&format!("{y}{m:02}01T000000"));
            let to = if m == 12 {
                t(&format!("{}0101T000000", y + 1))
            } else {
                t(&format!("{y}{:02}01T000000", m + 1))
            };
            ranges.push((from, to));
        }
    }
    ranges.push((0, i64::MAX / 2));
    ranges.push((t("20250115T090000"), t("20250115T090001")));
    ranges.push((t("20300614T000000"), t("20300616T000000")));
    for z in &zones {
        for &(from, to) in &ranges {
            assert_eq!(
                found(store, folder, from, to, z),
                every_item(store, folder, from, to, z),
                "[{from}, {to}) in {z:?}"
            );
        }
    }
}

const JAN: &str = "DTSTART:20250115T090000Z\r\nDTEND:20250115T100000Z\r\n";
const JUNE: &str = "DTSTART:20250615T090000Z\r\nDTEND:20250615T100000Z\r\n";

#[test]
fn an_event_changed_from_january_to_june_is_found_in_june_and_not_in_january() {
    let s = private_store();
    let z = Zone::Utc;
    let (jan, feb) = (t("20250101T000000"), t("20250201T000000"));
    let (june, july) = (t("20250601T000000"), t("20250701T000000"));
    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("ev", JAN), chrono_tz::UTC),
    );
    assert_eq!(found(&s.store, FolderRole::Calendar, jan, feb, &z), ["ev"]);
    assert!(found(&s.store, FolderRole::Calendar, june, july, &z).is_empty());

    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("ev", JUNE), chrono_tz::UTC),
    );
    assert_eq!(
        found(&s.store, FolderRole::Calendar, june, july, &z),
        ["ev"]
    );
    assert!(found(&s.store, FolderRole::Calendar, jan, feb, &z).is_empty());
    let fb = s.store.free_busy(june, july, &z).unwrap();
    assert_eq!(
        fb.iter().map(|b| (b.start, b.end)).collect::<Vec<_>>(),
        [(t("20250615T090000"), t("20250615T100000"))]
    );
    assert!(s.store.free_busy(jan, feb, &z).unwrap().is_empty());
    assert_same_as_reading_everything(&s.store, FolderRole::Calendar.into());
}

#[test]
fn an_unbounded_weekly_series_is_found_years_later_and_its_moved_instance_where_it_went() {
    let s = private_store();
    let z = Zone::Utc;
    // Weekly from Wednesday 15 January 2025, no end; the instance of
    // 22 January moved to 20 March 2024, before the series starts.
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
        BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:weekly\r\n\
        DTSTART:20250115T090000Z\r\nDTEND:20250115T100000Z\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:moved\r\n\
        RECURRENCE-ID:20250122T090000Z\r\nDTSTART:20240320T090000Z\r\nDTEND:20240320T100000Z\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";
    let items = import(ics, chrono_tz::UTC);
    put(&s.store, FolderRole::Calendar, &items);
    // A Wednesday in 2045.
    let (d, e) = (t("20450104T000000"), t("20450105T000000"));
    assert_eq!(found(&s.store, FolderRole::Calendar, d, e, &z), ["weekly"]);
    let fb = s.store.free_busy(d, e, &z).unwrap();
    assert_eq!(fb.len(), 1, "{fb:?}");
    assert_eq!(fb[0].start, t("20450104T090000"));
    // The moved instance, ten months before the series' first.
    let (m, n) = (t("20240320T000000"), t("20240321T000000"));
    assert_eq!(found(&s.store, FolderRole::Calendar, m, n, &z), ["weekly"]);
    assert_eq!(s.store.free_busy(m, n, &z).unwrap().len(), 1);
    // Before it: nothing.
    assert!(found(&s.store, FolderRole::Calendar, 0, m, &z).is_empty());
    assert_same_as_reading_everything(&s.store, FolderRole::Calendar.into());
}

#[test]
fn a_single_event_made_recurring_and_single_again_is_found_where_it_occurs() {
    let s = private_store();
    let z = Zone::Utc;
    let later = (t("20300101T000000"), t("20300201T000000"));
    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("ev", JAN), chrono_tz::UTC),
    );
    assert!(found(&s.store, FolderRole::Calendar, later.0, later.1, &z).is_empty());
    let daily = format!("{JAN}RRULE:FREQ=DAILY\r\n");
    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("ev", &daily), chrono_tz::UTC),
    );
    assert_eq!(
        found(&s.store, FolderRole::Calendar, later.0, later.1, &z),
        ["ev"]
    );
    // Bounded: COUNT and UNTIL end it.
    let counted = format!("{JAN}RRULE:FREQ=DAILY;COUNT=10\r\n");
    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("ev", &counted), chrono_tz::UTC),
    );
    assert!(found(&s.store, FolderRole::Calendar, later.0, later.1, &z).is_empty());
    assert_eq!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20250124T000000"),
            t("20250125T000000"),
            &z
        ),
        ["ev"]
    );
    assert!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20250125T000000"),
            t("20250126T000000"),
            &z
        )
        .is_empty()
    );
    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("ev", JAN), chrono_tz::UTC),
    );
    assert!(found(&s.store, FolderRole::Calendar, later.0, later.1, &z).is_empty());
    assert_eq!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20250115T000000"),
            t("20250116T000000"),
            &z
        ),
        ["ev"]
    );
    assert_same_as_reading_everything(&s.store, FolderRole::Calendar.into());
}

#[test]
fn an_all_day_event_in_a_far_off_floating_zone_is_found_on_its_day() {
    let s = private_store();
    // 15 June 2030, all day, for an owner on Kiritimati (UTC+14): from
    // 14 June 10:00 UTC to 15 June 10:00 UTC.
    let body = "DTSTART;VALUE=DATE:20300615\r\nDTEND;VALUE=DATE:20300616\r\n";
    let kiri = chrono_tz::Pacific::Kiritimati;
    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("allday", body), kiri),
    );
    let z = Zone::Iana(kiri);
    assert_eq!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20300614T100000"),
            t("20300614T110000"),
            &z
        ),
        ["allday"]
    );
    assert_eq!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20300615T090000"),
            t("20300615T100000"),
            &z
        ),
        ["allday"]
    );
    assert!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20300615T100000"),
            t("20300616T000000"),
            &z
        )
        .is_empty()
    );
    assert!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20300613T000000"),
            t("20300614T100000"),
            &z
        )
        .is_empty()
    );
    // A yearly all-day series from there too, and one in UTC+14 read by a
    // viewer in UTC−11.
    let yearly =
        "DTSTART;VALUE=DATE:20250101\r\nDTEND;VALUE=DATE:20250102\r\nRRULE:FREQ=YEARLY;COUNT=6\r\n";
    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("newyear", yearly), kiri),
    );
    let pago = Zone::Iana(chrono_tz::Pacific::Pago_Pago);
    // Its last instance, 1 January 2030, begins on 31 December 10:00 UTC on
    // Kiritimati and runs into 2 January UTC for a viewer on Pago Pago
    // (UTC−11), who reads all-day dates in their own zone; nothing after.
    let kiri_day = (t("20291231T100000"), t("20291231T110000"));
    assert_eq!(
        found(&s.store, FolderRole::Calendar, kiri_day.0, kiri_day.1, &z),
        ["newyear"]
    );
    assert_eq!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20300102T100000"),
            t("20300102T110000"),
            &pago
        ),
        ["newyear"]
    );
    assert!(
        found(
            &s.store,
            FolderRole::Calendar,
            t("20300104T000000"),
            t("20300601T000000"),
            &pago
        )
        .is_empty()
    );
    assert_same_as_reading_everything(&s.store, FolderRole::Calendar.into());
}

#[test]
fn items_moved_and_copied_between_folders_are_found_in_their_new_folder() {
    let s = private_store();
    let z = Zone::Utc;
    let other = s
        .store
        .create_folder(FolderRole::IpmSubtree, "Work", "IPF.Appointment")
        .unwrap();
    let third = s
        .store
        .create_folder(FolderRole::IpmSubtree, "Copies", "IPF.Appointment")
        .unwrap();
    let e = put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("ev", JUNE), chrono_tz::UTC),
    );
    let (june, july) = (t("20250601T000000"), t("20250701T000000"));
    let uid = UidRange::new(e.uid.0, e.uid.0);
    s.store
        .move_messages(FolderRole::Calendar, vec![uid], other.id)
        .unwrap();
    assert!(found(&s.store, FolderRole::Calendar, june, july, &z).is_empty());
    assert_eq!(found(&s.store, other.id, june, july, &z), ["ev"]);
    let moved = s.store.list_items(other.id).unwrap().remove(0);
    let uid = UidRange::new(moved.uid.0, moved.uid.0);
    s.store
        .copy_messages(other.id, vec![uid], third.id)
        .unwrap();
    assert_eq!(found(&s.store, third.id, june, july, &z), ["ev"]);
    assert!(found(&s.store, third.id, t("20250101T000000"), june, &z).is_empty());
    for f in [
        FolderRole::Calendar.into(),
        other.id.into(),
        third.id.into(),
    ] {
        assert_same_as_reading_everything(&s.store, f);
    }
}

#[test]
fn items_of_an_older_store_and_items_changed_over_mapi_are_found_and_then_indexed() {
    let s = private_store();
    let z = Zone::Utc;
    let (june, july) = (t("20250601T000000"), t("20250701T000000"));
    let (jan, feb) = (t("20250101T000000"), t("20250201T000000"));
    let e = put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("old", JUNE), chrono_tz::UTC),
    );
    put(
        &s.store,
        FolderRole::Calendar,
        &import(&vevent("other", JAN), chrono_tz::UTC),
    );
    drop(s.store);
    // As the migration leaves the rows of a store made before the index:
    // no bounds.
    let db = s.dir.join("exmdb/exchange.sqlite3");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE items SET range_start = NULL, range_end = NULL", [])
        .unwrap();
    drop(conn);
    let store = Store::open(&s.dir, &OpenOptions::default()).unwrap();
    let unknown = || -> i64 {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT count(*) FROM items WHERE range_start IS NULL OR range_end IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(unknown(), 2);
    assert_eq!(found(&store, FolderRole::Calendar, june, july, &z), ["old"]);
    // The query wrote the bounds of what it read back.
    assert_eq!(unknown(), 0);
    assert_eq!(found(&store, FolderRole::Calendar, june, july, &z), ["old"]);
    assert_eq!(found(&store, FolderRole::Calendar, jan, feb, &z), ["other"]);

    // Over MAPI, the June event moves to January: the bounds it had no
    // longer hold; it is found in January.
    let start = store
        .named_ids(&[
            lids::PID_LID_APPOINTMENT_START_WHOLE.named(),
            lids::PID_LID_APPOINTMENT_END_WHOLE.named(),
        ])
        .unwrap();
    let (Some(s_id), Some(e_id)) = (start[0], start[1]) else {
        panic!("named ids {start:?}")
    };
    let ft = |unix: i64| PropValue::SysTime(groxide_mapi::filetime_from_unix(unix));
    store
        .set_message_props(
            e.message_id,
            vec![
                (
                    PropTag::new(s_id, PropType::SysTime),
                    ft(t("20250120T090000")),
                ),
                (
                    PropTag::new(e_id, PropType::SysTime),
                    ft(t("20250120T100000")),
                ),
            ],
            vec![],
        )
        .unwrap();
    assert_eq!(unknown(), 1);
    assert_eq!(
        found(&store, FolderRole::Calendar, jan, feb, &z),
        ["old", "other"]
    );
    assert!(found(&store, FolderRole::Calendar, june, july, &z).is_empty());
    let fb = store.free_busy(jan, feb, &z).unwrap();
    assert_eq!(fb.len(), 2, "{fb:?}");
    assert_eq!(unknown(), 0);
    assert_eq!(
        found(&store, FolderRole::Calendar, jan, feb, &z),
        ["old", "other"]
    );
    assert_same_as_reading_everything(&store, FolderRole::Calendar.into());
}
