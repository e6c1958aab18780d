//! Comparing two iCalendar texts by meaning: the same components (by kind,
//! UID and RECURRENCE-ID instant), and in them the same properties with
//! equal values — times as instants, text unescaped, lists as sets,
//! attendees by address and answer, rules by their instances, alarms by
//! their offset. For round-trip tests and for callers that must tell a real
//! change from a re-serialisation.

use super::import::{Zones, value_when};
use crate::recur::{RecurRule, RuleIter};
use crate::text::lines::{Block, Line, logical_lines, split};
use std::collections::BTreeSet;

/// What `result` lacks or changed of `source`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SemanticDiff {
    /// `component: property = value` of `source` that `result` lacks.
    pub missing: Vec<String>,
}

impl SemanticDiff {
    /// Whether `result` holds everything `source` had.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Whether every property of `source` named in `names` (all when empty)
/// is in `result` with the same meaning. Floating times are compared as
/// times of `floating` when given (MAPI keeps them in the owner's zone).
pub fn compare_calendars(
    source: &str,
    result: &str,
    names: &[&str],
    floating: Option<chrono_tz::Tz>,
) -> SemanticDiff {
    let a = facts(source, names, floating);
    let b = facts(result, names, floating);
    SemanticDiff {
        missing: a.difference(&b).cloned().collect(),
    }
}

fn facts(text: &str, names: &[&str], floating: Option<chrono_tz::Tz>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for cal in split(logical_lines(text)).components.into_iter().flatten() {
        let tzs: Vec<&Block> = cal
            .children
            .iter()
            .filter(|c| c.kind == "VTIMEZONE")
            .collect();
        let zones = Zones::new(&tzs, floating);
        for c in cal
            .children
            .iter()
            .filter(|c| matches!(c.kind.as_str(), "VEVENT" | "VTODO" | "VJOURNAL"))
        {
            let uid = c
                .prop("UID")
                .map(|l| l.value().trim().to_owned())
                .unwrap_or_default();
            let rid = c
                .prop("RECURRENCE-ID")
                .map(|l| norm_time(l, &zones))
                .unwrap_or_default();
            let id = format!("{} {uid} {rid}", c.kind);
            // A cancelled instance means the same as an EXDATE of the series.
            let cancelled = c
                .prop("STATUS")
                .is_some_and(|l| l.value().trim().eq_ignore_ascii_case("CANCELLED"));
            if !rid.is_empty() && cancelled {
                if names.is_empty() || names.contains(&"EXDATE") {
                    out.insert(format!("{} {uid} : EXDATE = {rid}", c.kind));
                }
                continue;
            }
            let start = c.prop("DTSTART").and_then(|l| instant(l, &zones));
            for l in &c.props {
                if !names.is_empty() && !names.contains(&l.name.as_str()) {
                    continue;
                }
                for v in norm(l, &zones, c).into_iter().filter(|v| !v.is_empty()) {
                    out.insert(format!("{id}: {} = {v}", l.name));
                }
            }
            if let (true, Some(end)) = (
                names.is_empty() || names.contains(&"DTEND"),
                end_of(c, &zones, start),
            ) {
                out.insert(format!("{id}: END = {end}"));
            }
            for a in c.children.iter().filter(|a| a.kind == "VALARM") {
                if names.is_empty() || names.contains(&"VALARM") {
                    out.insert(format!("{id}: VALARM = {}", alarm_offset(a, &zones, start)));
                }
            }
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut o = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n' | 'N') => o.push('\n'),
                Some(x) => o.push(x),
                None => {}
            }
        } else {
            o.push(c);
        }
    }
    o
}

fn split_list(s: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut esc = false;
    for c in s.chars() {
        if esc {
            if let Some(p) = parts.last_mut() {
                p.push('\\');
                p.push(c);
            }
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == ',' {
            parts.push(String::new());
        } else if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    parts
        .into_iter()
        .map(|p| unescape(p.trim()))
        .filter(|p| !p.is_empty())
        .collect()
}

fn parse_value(l: &Line, v: &str, zones: &Zones) -> Option<String> {
    let src = format!(
        "BEGIN:VEVENT\r\nX-T{}:{v}\r\nEND:VEVENT\r\n",
        l.text
            .split_once(':')
            .map(|(h, _)| &h[l.name.len().min(h.len())..])
            .unwrap_or("")
    );
    let src = src.replace("X-T", "DTSTART");
    let calcard::Entry::ICalendar(c) = calcard::Parser::new(&src).entry() else {
        return None;
    };
    let e = c.components.iter().flat_map(|c| c.entries.iter()).next()?;
    let w = value_when(e.values.first()?, e.tz_id(), zones).ok()?;
    Some(match w {
        super::import::When::Date(d) => format!("date {d}"),
        super::import::When::Time(t, crate::recur::Zone::Floating)
            if zones.floating == crate::recur::Zone::Utc =>
        {
            format!("floating {t}")
        }
        w => format!("at {}", w.utc(&zones.floating)),
    })
}

fn norm_time(l: &Line, zones: &Zones) -> String {
    parse_value(l, l.value(), zones).unwrap_or_else(|| l.value().to_owned())
}

fn instant(l: &Line, zones: &Zones) -> Option<i64> {
    let s = norm_time(l, zones);
    if let Some(t) = s.strip_prefix("at ") {
        return t.parse().ok();
    }
    let d = s
        .strip_prefix("date ")
        .or_else(|| s.strip_prefix("floating "))?;
    let t = chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Some(t.and_utc().timestamp())
}

fn end_of(c: &Block, zones: &Zones, start: Option<i64>) -> Option<String> {
    if let Some(l) = c.prop("DTEND") {
        return Some(norm_time(l, zones));
    }
    let start = start?;
    let d = c.prop("DURATION")?.value().trim().to_owned();
    let secs = duration_secs(&d)?;
    let sl = c.prop("DTSTART")?;
    let s = norm_time(sl, zones);
    Some(if s.starts_with("at ") {
        format!("at {}", start + secs)
    } else if s.starts_with("date ") {
        let t = chrono::DateTime::from_timestamp(start + secs, 0)?.naive_utc();
        format!("date {}", t.date())
    } else {
        let t = chrono::DateTime::from_timestamp(start + secs, 0)?.naive_utc();
        format!("floating {t}")
    })
}

fn duration_secs(d: &str) -> Option<i64> {
    let (neg, d) = match d.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, d.strip_prefix('+').unwrap_or(d)),
    };
    let d = d.strip_prefix('P')?;
    let mut total = 0i64;
    let mut num = String::new();
    for c in d.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' => {}
            u => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                total += n * match u {
                    'W' => 604_800,
                    'D' => 86_400,
                    'H' => 3600,
                    'M' => 60,
                    'S' => 1,
                    _ => return None,
                };
            }
        }
    }
    Some(if neg { -total } else { total })
}

fn alarm_offset(a: &Block, zones: &Zones, start: Option<i64>) -> String {
    let Some(t) = a.prop("TRIGGER") else {
        return "none".into();
    };
    if let Some(s) = duration_secs(t.value().trim()) {
        return format!("{s}s");
    }
    match (instant(t, zones), start) {
        (Some(at), Some(st)) => format!("{}s", at - st),
        _ => t.value().to_owned(),
    }
}

fn norm(l: &Line, zones: &Zones, c: &Block) -> Vec<String> {
    match l.name.as_str() {
        "DTSTART" | "DUE" | "RECURRENCE-ID" | "COMPLETED" => vec![norm_time(l, zones)],
        "DTEND" | "DURATION" | "DTSTAMP" | "CREATED" | "LAST-MODIFIED" | "PRODID" | "VERSION" => {
            vec![]
        }
        "EXDATE" | "RDATE" => l
            .value()
            .split(',')
            .filter_map(|v| parse_value(l, v.trim(), zones))
            .collect(),
        "CATEGORIES" => split_list(l.value()),
        "ATTENDEE" | "ORGANIZER" => {
            let addr = l
                .value()
                .trim()
                .trim_start_matches("mailto:")
                .trim_start_matches("MAILTO:")
                .to_ascii_lowercase();
            if l.name == "ORGANIZER" {
                return vec![addr];
            }
            let ps = l
                .param("PARTSTAT")
                .unwrap_or_else(|| "NEEDS-ACTION".into())
                .to_ascii_uppercase();
            vec![format!("{addr} {ps}")]
        }
        "PRIORITY" => vec![match l.value().trim().parse::<u8>().unwrap_or(0) {
            1..=4 => "high".into(),
            5 => "normal".into(),
            6..=9 => "low".into(),
            _ => "none".into(),
        }],
        "RRULE" => {
            let Ok(r) = RecurRule::parse(l.value()) else {
                return vec![l.value().to_owned()];
            };
            let Some(start) = c.prop("DTSTART") else {
                return vec![r.to_string()];
            };
            let st = norm_time(start, zones);
            // Instants of the first two years, in the series' wall time.
            let local = chrono::NaiveDateTime::parse_from_str(
                l_start_local(start).as_str(),
                "%Y%m%dT%H%M%S",
            )
            .ok()
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(&l_start_local(start), "%Y%m%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            });
            let Some(local) = local else {
                return vec![r.to_string()];
            };
            let until = r.until.map(|u| match u {
                crate::recur::Until::Date(d) => d.and_hms_opt(23, 59, 59).unwrap_or_default(),
                crate::recur::Until::Local(t) => t,
                crate::recur::Until::Utc(t) => {
                    let zone = start
                        .param("TZID")
                        .and_then(|id| zones.get(&id))
                        .unwrap_or(crate::recur::Zone::Utc);
                    zone.to_local(t.and_utc().timestamp(), &crate::recur::Zone::Utc)
                }
            });
            let inst: Vec<String> = RuleIter::new(&r, local, until, 10_000)
                .take(200)
                .map(|t| t.to_string())
                .collect();
            vec![format!("{st} {}", inst.join(" "))]
        }
        "SUMMARY" | "DESCRIPTION" | "LOCATION" | "COMMENT" | "CONTACT" => vec![unescape(l.value())],
        _ => vec![l.value().trim().to_owned()],
    }
}

fn l_start_local(l: &Line) -> String {
    l.value().trim().trim_end_matches('Z').to_owned()
}
