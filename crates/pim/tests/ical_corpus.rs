//! The iCalendar corpus (tests/corpus/groupware/ical): every file read,
//! errors where the input is broken, MAPI property lists snapshotted, and
//! round trips compared by meaning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_mapi::{PropValue, lids, tags};
use groxide_pim::ical::{
    ExportOptions, ImportOptions, compare_calendars, item_to_ical, parse_calendar,
};
use groxide_pim::{Item, ItemClass};
use std::path::PathBuf;

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/groupware/ical")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn opts() -> ImportOptions {
    ImportOptions {
        floating_zone: Some(chrono_tz::Europe::Berlin),
        owner: Some("anna@example.de".into()),
        ..ImportOptions::default()
    }
}

fn export_opts() -> ExportOptions {
    ExportOptions {
        floating_zone: Some(chrono_tz::Europe::Berlin),
        owner: Some("anna@example.de".into()),
    }
}

fn items(name: &str) -> Vec<Item> {
    parse_calendar(&corpus(name), &opts())
        .items
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

const GOOD: &[&str] = &[
    "outlook-weekly-windows-zone.ics",
    "google-export.ics",
    "apple-allday-across-dst.ics",
    "thunderbird-lightning.ics",
    "nextcloud-tasks-and-journal.ics",
    "outlook-legacy-cp1252.ics",
];

/// The properties MAPI holds, compared when an item is exported without
/// its original.
const MAPI_HELD: &[&str] = &[
    "UID",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "DTSTART",
    "DTEND",
    "DUE",
    "RRULE",
    "EXDATE",
    "RECURRENCE-ID",
    "ATTENDEE",
    "ORGANIZER",
    "CATEGORIES",
    "CLASS",
    "PRIORITY",
    "VALARM",
    "PERCENT-COMPLETE",
    "COMPLETED",
];

#[test]
fn every_corpus_object_converts() {
    let counts: Vec<(&str, usize)> = GOOD.iter().map(|f| (*f, items(f).len())).collect();
    assert_eq!(
        counts,
        [
            ("outlook-weekly-windows-zone.ics", 1),
            ("google-export.ics", 3),
            ("apple-allday-across-dst.ics", 3),
            ("thunderbird-lightning.ics", 2),
            ("nextcloud-tasks-and-journal.ics", 3),
            ("outlook-legacy-cp1252.ics", 1),
        ]
    );
}

#[test]
fn exported_without_the_original_every_mapi_held_property_keeps_its_meaning() {
    for f in GOOD {
        let source = String::from_utf8_lossy(&corpus(f)).into_owned();
        for mut item in items(f) {
            let own_source = String::from_utf8(item.original.clone().unwrap()).unwrap();
            item.original = None;
            let out = item_to_ical(&item, &export_opts()).unwrap();
            let diff = compare_calendars(
                &own_source,
                &out,
                MAPI_HELD,
                Some(chrono_tz::Europe::Berlin),
            );
            assert!(
                diff.is_empty(),
                "{f}: lost {:#?}\n--- exported:\n{out}",
                diff.missing
            );
            let _ = &source;
        }
    }
}

#[test]
fn a_changed_subject_is_written_back_and_everything_else_survives() {
    for f in GOOD {
        for mut item in items(f) {
            let orig = String::from_utf8(item.original.clone().unwrap()).unwrap();
            item.set(tags::PR_SUBJECT, PropValue::Unicode("Renamed".into()));
            let out = item_to_ical(&item, &export_opts()).unwrap();
            let diff = compare_calendars(&orig, &out, &[], None);
            let lost: Vec<&String> = diff
                .missing
                .iter()
                .filter(|m| !m.contains(": SUMMARY = "))
                .collect();
            assert!(lost.is_empty(), "{f}: lost {lost:#?}\n--- exported:\n{out}");
            assert!(out.contains("SUMMARY:Renamed"), "{f}: {out}");
        }
    }
}

#[test]
fn an_unchanged_item_writes_back_its_original_lines() {
    for f in GOOD {
        for item in items(f) {
            let orig = String::from_utf8(item.original.clone().unwrap()).unwrap();
            let out = item_to_ical(&item, &export_opts()).unwrap();
            assert!(compare_calendars(&orig, &out, &[], None).is_empty(), "{f}");
            assert!(
                compare_calendars(&out, &orig, &[], None).is_empty(),
                "{f}: added {:?}",
                compare_calendars(&out, &orig, &[], None).missing
            );
        }
    }
}

#[test]
fn broken_components_fail_alone_with_line_and_property() {
    let r = parse_calendar(&corpus("malformed-mixed.ics"), &opts());
    let summary: Vec<String> = r
        .items
        .iter()
        .map(|i| match i {
            Ok(item) => format!("ok {}", item.str(tags::PR_SUBJECT).unwrap_or("")),
            Err(e) => format!("error {e}"),
        })
        .collect();
    insta::assert_debug_snapshot!(summary);
}

#[test]
fn non_utf8_input_is_decoded_not_refused() {
    let r = parse_calendar(&corpus("outlook-legacy-cp1252.ics"), &opts());
    assert!(r.transcoded);
    let item = r.items[0].as_ref().unwrap();
    assert_eq!(item.str(tags::PR_SUBJECT), Some("Café mit Jürgen € Budget"));
    assert_eq!(item.str(&lids::PID_LID_LOCATION), Some("Köln"));
}

#[test]
fn mapi_properties_of_representative_items() {
    let outlook = &items("outlook-weekly-windows-zone.ics")[0];
    insta::assert_snapshot!("outlook_weekly_series", outlook.describe());
    let google = items("google-export.ics");
    insta::assert_snapshot!(
        "google_monthly_with_cancelled_instance",
        google[2].describe()
    );
    insta::assert_snapshot!("google_all_day", google[1].describe());
    let tb = items("thunderbird-lightning.ics");
    insta::assert_snapshot!("thunderbird_task", tb[1].describe());
    let nc = items("nextcloud-tasks-and-journal.ics");
    insta::assert_snapshot!("nextcloud_journal", nc[2].describe());
}

#[test]
fn the_outlook_series_has_its_moved_and_deleted_instances() {
    let item = &items("outlook-weekly-windows-zone.ics")[0];
    assert_eq!(item.class, ItemClass::Appointment);
    let recur = groxide_pim::recur::pattern::AppointmentRecurrencePattern::decode(
        item.binary(&lids::PID_LID_APPOINTMENT_RECUR).unwrap(),
    )
    .unwrap();
    let day = |m: u32| {
        groxide_pim::recur::pattern::time_of_minutes(m)
            .date()
            .to_string()
    };
    let deleted: Vec<String> = recur
        .recurrence
        .deleted_instance_dates
        .iter()
        .map(|m| day(*m))
        .collect();
    assert_eq!(deleted, ["2024-04-08", "2024-04-15"]);
    let modified: Vec<String> = recur
        .recurrence
        .modified_instance_dates
        .iter()
        .map(|m| day(*m))
        .collect();
    assert_eq!(modified, ["2024-04-16"]);
    assert_eq!(
        recur.exceptions[0].subject.as_deref(),
        Some("Team-Jour-fixe (verschoben)")
    );
    assert_eq!(recur.exceptions[0].location.as_deref(), Some("Raum Spree"));
    assert_eq!(item.attachments.len(), 1);
    assert_eq!(item.recipients.len(), 4);
    assert_eq!(
        item.str(&lids::PID_LID_TIME_ZONE_DESCRIPTION),
        Some("W. Europe Standard Time")
    );
    // The owner organised it.
    assert_eq!(item.int(&lids::PID_LID_RESPONSE_STATUS), Some(1));
}

#[test]
fn a_stored_series_expands_from_its_mapi_properties_alone() {
    use groxide_pim::recur::{ExpandOptions, Zone, expand, mapi::series_of_item};
    let mut item = items("outlook-weekly-windows-zone.ics").remove(0);
    item.original = None;
    let series = series_of_item(&item, &Zone::Iana(chrono_tz::Europe::Berlin))
        .unwrap()
        .unwrap();
    let from = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let x = expand(
        &series,
        from,
        from + 180 * 86_400,
        &ExpandOptions::default(),
    );
    let starts: Vec<String> = x
        .instances
        .iter()
        .map(|i| {
            chrono::DateTime::from_timestamp(i.start, 0)
                .unwrap()
                .with_timezone(&chrono_tz::Europe::Berlin)
                .format("%m-%d %H:%M")
                .to_string()
        })
        .collect();
    // Mondays 09:00 Berlin time from 4 March to 24 June, across the DST
    // change; 8 April deleted, 15 April moved to Tuesday 16 April 14:00.
    assert_eq!(
        starts,
        [
            "03-04 09:00",
            "03-11 09:00",
            "03-18 09:00",
            "03-25 09:00",
            "04-01 09:00",
            "04-16 14:00",
            "04-22 09:00",
            "04-29 09:00",
            "05-06 09:00",
            "05-13 09:00",
            "05-20 09:00",
            "05-27 09:00",
            "06-03 09:00",
            "06-10 09:00",
            "06-17 09:00",
            "06-24 09:00",
        ]
    );
}
