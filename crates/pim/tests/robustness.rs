//! Input never panics: random bytes and mangled corpus files go through
//! every parser and back through the writers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_pim::goid::GlobalObjectId;
use groxide_pim::ical::scheduling;
use groxide_pim::ical::{
    ExportOptions, ImportOptions, compare_calendars, item_to_ical, parse_calendar,
};
use groxide_pim::recur::mapi::series_of_item;
use groxide_pim::recur::pattern::{AppointmentRecurrencePattern, RecurrencePattern};
use groxide_pim::recur::{ExpandOptions, Zone, expand};
use groxide_pim::tz::{TzDefinition, TzReg};
use groxide_pim::vcard::{VcardVersion, compare_vcards, item_to_vcard, parse_vcards};
use proptest::prelude::*;
use std::path::PathBuf;

fn corpus_files() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/groupware");
    let mut out = Vec::new();
    for dir in ["ical", "vcard"] {
        let mut names: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names {
            out.push(std::fs::read(p).unwrap());
        }
    }
    out
}

/// An arriving iMIP message of every method made of the text, applied
/// as the organizer's and as an attendee's, with and without a stored event.
fn exercise_scheduling(text: &str) {
    let stored = parse_calendar(text.as_bytes(), &ImportOptions::default())
        .items
        .into_iter()
        .find_map(Result::ok);
    for method in ["REQUEST", "REPLY", "CANCEL"] {
        let ics = format!("BEGIN:VCALENDAR\r\nMETHOD:{method}\r\n{text}");
        for ics in [text, ics.as_str()] {
            let Ok(arrival) = scheduling::Arrival::read(ics) else {
                continue;
            };
            let _ = arrival.message_class();
            for user in ["a@x.test", "ü@x.test"] {
                let _ = scheduling::apply(&arrival, &arrival.organizer, user, stored.as_ref());
                let _ = scheduling::apply(&arrival, "mailtoü:a@x.test", user, None);
            }
            if let Some(rid) = &arrival.recurrence_id {
                let _ = scheduling::without_occurrence(text, rid);
            }
        }
    }
}

/// Everything a caller can do with input bytes.
fn exercise(input: &[u8]) {
    let opts = ImportOptions {
        floating_zone: Some(chrono_tz::Europe::Berlin),
        ..ImportOptions::default()
    };
    for item in parse_calendar(input, &opts).items.into_iter().flatten() {
        if let Ok(out) = item_to_ical(&item, &ExportOptions::default()) {
            let _ = compare_calendars(&String::from_utf8_lossy(input), &out, &[], None);
        }
        if let Ok(Some(s)) = series_of_item(&item, &Zone::Utc) {
            let _ = expand(
                &s,
                0,
                4_102_444_800,
                &ExpandOptions {
                    max_instances: 500,
                    ..ExpandOptions::default()
                },
            );
        }
    }
    exercise_scheduling(&String::from_utf8_lossy(input));
    for item in parse_vcards(input).items.into_iter().flatten() {
        for v in [VcardVersion::V3, VcardVersion::V4] {
            if let Ok(out) = item_to_vcard(&item, v) {
                let _ = compare_vcards(input, out.as_bytes(), &[]);
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mangle {
    DropLine(usize),
    DupLine(usize),
    Truncate(usize),
    Byte(usize, u8),
    SwapLines(usize, usize),
}

fn mangle() -> impl Strategy<Value = Mangle> {
    prop_oneof![
        any::<usize>().prop_map(Mangle::DropLine),
        any::<usize>().prop_map(Mangle::DupLine),
        any::<usize>().prop_map(Mangle::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mangle::Byte(i, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mangle::SwapLines(a, b)),
    ]
}

fn apply(mut data: Vec<u8>, ms: &[Mangle]) -> Vec<u8> {
    for m in ms {
        let mut lines: Vec<Vec<u8>> = data.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        let n = lines.len().max(1);
        match m {
            Mangle::DropLine(i) => {
                if !lines.is_empty() {
                    lines.remove(i % n);
                }
            }
            Mangle::DupLine(i) => {
                if let Some(l) = lines.get(i % n).cloned() {
                    lines.insert(i % n, l);
                }
            }
            Mangle::SwapLines(a, b) => {
                if !lines.is_empty() {
                    lines.swap(a % n, b % n);
                }
            }
            Mangle::Truncate(i) => {
                data.truncate(i % (data.len() + 1));
                continue;
            }
            Mangle::Byte(i, b) => {
                if !data.is_empty() {
                    let at = i % data.len();
                    data[at] = *b;
                }
                continue;
            }
        }
        data = lines.join(&b'\n');
    }
    data
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mangled_corpus_files_never_panic(file in any::<prop::sample::Index>(), ms in prop::collection::vec(mangle(), 1..6)) {
        let files = corpus_files();
        let data = apply(files[file.index(files.len())].clone(), &ms);
        exercise(&data);
    }

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        exercise(&data);
        let _ = AppointmentRecurrencePattern::decode(&data);
        let _ = RecurrencePattern::decode(&data);
        let _ = TzDefinition::decode(&data);
        let _ = TzReg::decode_struct(&data);
        let _ = GlobalObjectId::decode(&data);
    }

    #[test]
    fn random_content_lines_never_panic(lines in prop::collection::vec("[A-Z;:=,\\-\"0-9TZ/ .]{0,40}", 0..30)) {
        let mut text = String::from("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20240101T000000Z\r\n");
        for l in &lines {
            text.push_str(l);
            text.push_str("\r\n");
        }
        text.push_str("END:VEVENT\r\nEND:VCALENDAR\r\nBEGIN:VCARD\r\nVERSION:3.0\r\n");
        for l in &lines {
            text.push_str(l);
            text.push_str("\r\n");
        }
        text.push_str("END:VCARD\r\n");
        exercise(text.as_bytes());
    }
}
