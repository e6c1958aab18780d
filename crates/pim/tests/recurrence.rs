//! Recurrence expansion checked against an independent implementation
//! (the `rrule` crate), and bounded on endless rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, NaiveDate, NaiveDateTime};
use groxide_pim::recur::{ExpandOptions, RecurRule, RuleIter, Series, Zone, expand};
use proptest::prelude::*;

fn weekday() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU"])
}

/// Random rules of the shapes calendars produce.
fn rule() -> impl Strategy<Value = String> {
    let freq = prop::sample::select(vec!["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]);
    (
        freq,
        1u32..=3,
        prop::collection::vec(
            (
                prop::option::of(prop::sample::select(vec![-1i32, 1, 2, 3, 4])),
                weekday(),
            ),
            0..3,
        ),
        prop::collection::vec(
            prop::sample::select(vec![1i32, 5, 13, 28, 31, -1, -2]),
            0..3,
        ),
        prop::collection::vec(1u32..=12, 0..3),
        prop::option::of(prop::sample::select(vec![-1i32, 1, 2])),
        prop::option::of(1u32..=40),
        prop::sample::select(vec!["MO", "SU"]),
    )
        .prop_map(
            |(freq, interval, days, mdays, months, setpos, count, wkst)| {
                let mut r = format!("FREQ={freq};INTERVAL={interval};WKST={wkst}");
                let ordinals_ok = freq == "MONTHLY" || (freq == "YEARLY" && !months.is_empty());
                // Either every BYDAY entry has a position or none: for a mix
                // (MO,-1MO) RFC 5545 means the union, while the rrule crate
                // (like python-dateutil) takes the intersection.
                let positioned = ordinals_ok && days.first().is_some_and(|(o, _)| o.is_some());
                let mut ds: Vec<String> = days
                    .iter()
                    .map(|(o, d)| match o {
                        _ if !positioned => (*d).to_owned(),
                        Some(o) => format!("{o}{d}"),
                        None => format!("1{d}"),
                    })
                    .collect();
                ds.sort();
                ds.dedup();
                if !ds.is_empty() {
                    r.push_str(&format!(";BYDAY={}", ds.join(",")));
                }
                let mut md = mdays.clone();
                md.sort_unstable();
                md.dedup();
                if !md.is_empty() && freq != "WEEKLY" {
                    r.push_str(&format!(
                        ";BYMONTHDAY={}",
                        md.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
                    ));
                }
                let mut ms = months.clone();
                ms.sort_unstable();
                ms.dedup();
                if !ms.is_empty() {
                    r.push_str(&format!(
                        ";BYMONTH={}",
                        ms.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
                    ));
                }
                if let Some(p) = setpos
                    && (freq == "MONTHLY" || freq == "YEARLY")
                    && ds.len() > 1
                {
                    r.push_str(&format!(";BYSETPOS={p}"));
                }
                if let Some(c) = count {
                    r.push_str(&format!(";COUNT={c}"));
                }
                r
            },
        )
}

fn start() -> impl Strategy<Value = NaiveDateTime> {
    (0i64..5 * 365).prop_map(|d| {
        NaiveDate::from_ymd_opt(2020, 1, 1)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap()
            + Duration::days(d)
    })
}

fn reference(rule: &str, start: NaiveDateTime, end: NaiveDateTime) -> Option<Vec<NaiveDateTime>> {
    let text = format!("DTSTART:{}Z\nRRULE:{rule}", start.format("%Y%m%dT%H%M%S"));
    let set: rrule::RRuleSet = text.parse().ok()?;
    let end_utc = end.and_utc().with_timezone(&rrule::Tz::UTC);
    let r = set.before(end_utc).all(1000);
    Some(
        r.dates
            .iter()
            .map(|d| d.naive_utc())
            .filter(|d| *d < end)
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn expansion_agrees_with_the_rrule_crate_for_a_year(rule in rule(), start in start()) {
        let end = start + Duration::days(366);
        let Some(want) = reference(&rule, start, end) else {
            // the reference refuses some valid rules; nothing to compare
            return Ok(());
        };
        let r = RecurRule::parse(&rule).unwrap();
        let got: Vec<NaiveDateTime> = RuleIter::new(&r, start, None, 100_000).take_while(|t| *t < end).collect();
        prop_assert_eq!(got, want, "RRULE:{} from {}", rule, start);
    }
}

#[test]
fn a_daily_rule_from_1990_answers_a_query_in_2100_without_walking_there() {
    let series = Series {
        start: NaiveDate::from_ymd_opt(1990, 1, 1)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap(),
        duration: 1800,
        zone: Zone::Iana(chrono_tz::Europe::Berlin),
        rule: Some(RecurRule::parse("FREQ=DAILY").unwrap()),
        rdates: vec![],
        exdates: vec![],
        all_day: false,
        overrides: vec![],
    };
    let from = NaiveDate::from_ymd_opt(2100, 6, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    // A small period budget proves the walk starts near the range.
    let opts = ExpandOptions {
        max_instances: 1000,
        max_periods: 100,
        floating: Zone::Utc,
    };
    let x = expand(&series, from, from + 7 * 86_400, &opts);
    assert_eq!(x.instances.len(), 7);
    assert!(!x.truncated);
    let first = chrono::DateTime::from_timestamp(x.instances[0].start, 0).unwrap();
    assert_eq!(first.to_rfc3339(), "2100-06-01T06:00:00+00:00");
}

#[test]
fn an_endless_rule_over_a_hundred_years_stops_at_the_instance_limit() {
    let series = Series {
        start: NaiveDate::from_ymd_opt(2000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        duration: 600,
        zone: Zone::Utc,
        rule: Some(RecurRule::parse("FREQ=HOURLY").unwrap()),
        rdates: vec![],
        exdates: vec![],
        all_day: false,
        overrides: vec![],
    };
    let to = NaiveDate::from_ymd_opt(2100, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let x = expand(&series, 0, to, &ExpandOptions::default());
    assert_eq!(x.instances.len(), ExpandOptions::default().max_instances);
    assert!(x.truncated);
    // A rule that can never match ends on its period budget instead of spinning.
    let never = Series {
        rule: Some(RecurRule::parse("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30").unwrap()),
        ..series
    };
    let x = expand(&never, 0, to, &ExpandOptions::default());
    assert_eq!(x.instances.len(), 1, "only DTSTART");
}
