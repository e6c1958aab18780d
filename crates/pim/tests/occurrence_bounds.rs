//! `occurrence_bounds` holds for every range and every floating zone
//! `occurs_in` is asked about: a store's time index built from it never
//! misses an item.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, NaiveDate};
use groxide_pim::ical::{ImportOptions, parse_calendar};
use groxide_pim::recur::Zone;
use groxide_pim::recur::mapi::{occurrence_bounds, occurs_in};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Kind {
    Utc,
    Floating,
    AllDay,
}

fn zones() -> Vec<chrono_tz::Tz> {
    vec![
        chrono_tz::UTC,
        chrono_tz::Pacific::Kiritimati,
        chrono_tz::Pacific::Pago_Pago,
        chrono_tz::Europe::Berlin,
        chrono_tz::America::St_Johns,
    ]
}

#[allow(clippy::too_many_arguments)]
fn calendar(
    kind: &Kind,
    day: i64,
    minute: i64,
    freq: Option<&str>,
    interval: u32,
    end: u8,
    n: u32,
    moved: Option<i64>,
) -> String {
    let d0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Duration::days(day);
    let t0 = d0.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(minute);
    let fmt = |t: chrono::NaiveDateTime| match kind {
        Kind::Utc => format!(":{}Z", t.format("%Y%m%dT%H%M%S")),
        Kind::Floating => format!(":{}", t.format("%Y%m%dT%H%M%S")),
        Kind::AllDay => format!(";VALUE=DATE:{}", t.format("%Y%m%d")),
    };
    let len = match kind {
        Kind::AllDay => Duration::days(1),
        _ => Duration::minutes(90),
    };
    let start = match kind {
        Kind::AllDay => d0.and_hms_opt(0, 0, 0).unwrap(),
        _ => t0,
    };
    let mut ev = format!(
        "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:x\r\nDTSTART{}\r\nDTEND{}\r\n",
        fmt(start),
        fmt(start + len)
    );
    if let Some(f) = freq {
        ev.push_str(&format!("RRULE:FREQ={f};INTERVAL={interval}"));
        match end {
            0 => {}
            1 => ev.push_str(&format!(";COUNT={n}")),
            _ => {
                let until = start + Duration::days(i64::from(n) * 9);
                match kind {
                    Kind::AllDay => ev.push_str(&format!(";UNTIL={}", until.format("%Y%m%d"))),
                    _ => ev.push_str(&format!(";UNTIL={}Z", until.format("%Y%m%dT%H%M%S"))),
                }
            }
        }
        ev.push_str("\r\n");
    }
    ev.push_str("END:VEVENT\r\n");
    if let (Some(_), Some(k)) = (freq, moved) {
        let to = start + Duration::days(k);
        ev.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:moved\r\n\
             RECURRENCE-ID{}\r\nDTSTART{}\r\nDTEND{}\r\nEND:VEVENT\r\n",
            fmt(start),
            fmt(to),
            fmt(to + len)
        ));
    }
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{ev}END:VCALENDAR\r\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_occurrence_lies_outside_the_bounds(
        kind in prop::sample::select(vec![Kind::Utc, Kind::Floating, Kind::AllDay]),
        day in 0i64..800,
        minute in 0i64..1440,
        freq in prop::option::of(prop::sample::select(vec!["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])),
        interval in 1u32..4,
        end in 0u8..3,
        n in 1u32..30,
        moved in prop::option::of(-400i64..400),
        home in 0usize..5,
        ranges in prop::collection::vec((-500i64..3000, 1i64..(4 * 86_400), 0usize..5), 24),
    ) {
        let zs = zones();
        let ics = calendar(&kind, day, minute, freq, interval, end, n, moved);
        let opts = ImportOptions {
            floating_zone: Some(zs[home]),
            ..ImportOptions::default()
        };
        let items = parse_calendar(ics.as_bytes(), &opts).items;
        prop_assert_eq!(items.len(), 1, "{}", ics);
        let item = items.into_iter().next().unwrap().unwrap();
        let (lo, hi) = occurrence_bounds(&item);
        let base = 1_704_067_200 + day * 86_400; // 2024-01-01 + day
        for (off_days, len, z) in ranges {
            let from = base + off_days * 86_400 + (off_days * 7919).rem_euclid(86_400);
            let to = from + len;
            let zone = Zone::Iana(zs[z]);
            if occurs_in(&item, from, to, &zone) {
                prop_assert!(
                    lo < to && hi >= from,
                    "occurs in [{}, {}) ({:?}) outside bounds [{}, {}]:\n{}",
                    from, to, zs[z], lo, hi, ics
                );
            }
        }
        // Right before and right after the bounds, in every zone: nothing.
        for z in &zs {
            let zone = Zone::Iana(*z);
            if lo > i64::MIN / 2 {
                prop_assert!(!occurs_in(&item, lo - 400 * 86_400, lo, &zone), "before {lo} in {z:?}:\n{ics}");
            }
            if hi < i64::MAX / 2 {
                prop_assert!(!occurs_in(&item, hi + 1, hi + 400 * 86_400, &zone), "after {hi} in {z:?}:\n{ics}");
            }
        }
    }
}

#[test]
fn bounds_of_items_in_every_range_and_in_none() {
    let parse = |ics: &str| {
        parse_calendar(ics.as_bytes(), &ImportOptions::default())
            .items
            .into_iter()
            .next()
            .unwrap()
            .unwrap()
    };
    // A task without dates is in every range.
    let todo = parse(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:t\r\n\
         DTSTAMP:20240101T000000Z\r\nSUMMARY:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    );
    assert_eq!(occurrence_bounds(&todo), (i64::MIN, i64::MAX));
    // A task due on a day: that day (MAPI keeps task dates as dates, at
    // midnight).
    let due = parse(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:t\r\n\
         DTSTAMP:20240101T000000Z\r\nSUMMARY:t\r\nDUE:20250115T090000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    );
    assert_eq!(occurrence_bounds(&due), (1_736_899_200, 1_736_899_200));
    // An endless series ends never.
    let weekly = parse(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:w\r\n\
         DTSTAMP:20240101T000000Z\r\nSUMMARY:w\r\nDTSTART:20250115T090000Z\r\nDTEND:20250115T100000Z\r\n\
         RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    assert_eq!(occurrence_bounds(&weekly), (1_736_931_600, i64::MAX));
    // A single event: exactly its times.
    let single = parse(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:s\r\n\
         DTSTAMP:20240101T000000Z\r\nSUMMARY:s\r\nDTSTART:20250115T090000Z\r\nDTEND:20250115T100000Z\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    assert_eq!(occurrence_bounds(&single), (1_736_931_600, 1_736_935_200));
}
