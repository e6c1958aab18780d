//! The series of an appointment as MAPI holds it: what free/busy and any
//! protocol that expands a stored item use, without its original.

use super::convert::rule_of_pattern;
use super::expand::{ExpandOptions, Override, Series, Zone};
use super::pattern::{AppointmentRecurrencePattern, time_of_minutes};
use super::rule::Until;
use crate::error::BlobError;
use crate::item::Item;
use crate::tz::windows::windows_to_iana;
use crate::tz::{TzDefinition, TzReg};
use groxide_mapi::{KnownProp, lids};

/// The series of an appointment: start, duration, zone, the rule of
/// PidLidAppointmentRecur, deleted instances as EXDATEs and changed ones
/// as overrides (their times from the exception's embedded message when
/// present, else from the pattern). All-day series are read in `floating`
/// (the owner's zone). `None` when the item has no start.
pub fn series_of_item(item: &Item, floating: &Zone) -> Result<Option<Series>, BlobError> {
    let (Some(start), end) = (
        item.time(&lids::PID_LID_APPOINTMENT_START_WHOLE),
        item.time(&lids::PID_LID_APPOINTMENT_END_WHOLE),
    ) else {
        return Ok(None);
    };
    let end = end.unwrap_or(start).max(start);
    let all_day = item.bool(&lids::PID_LID_APPOINTMENT_SUB_TYPE) == Some(true);
    let recur = item
        .binary(&lids::PID_LID_APPOINTMENT_RECUR)
        .map(AppointmentRecurrencePattern::decode)
        .transpose()?;
    let zone = if all_day {
        Zone::Floating
    } else {
        item_zone(item, recur.is_some())
    };
    let start_local = zone.to_local(start, floating);
    let mut series = Series {
        start: start_local,
        duration: end - start,
        zone: zone.clone(),
        rule: None,
        rdates: vec![],
        exdates: vec![],
        all_day,
        overrides: vec![],
    };
    let Some(arp) = recur else {
        return Ok(Some(series));
    };
    let Ok(rule) = rule_of_pattern(&arp.recurrence, start_local.time()) else {
        return Ok(Some(series));
    };
    series.rule = Some(rule);
    let embedded: Vec<&Item> = item.exceptions();
    let changed_days: Vec<u32> = arp
        .exceptions
        .iter()
        .map(|e| e.original_start - e.original_start % 1440)
        .collect();
    for d in &arp.recurrence.deleted_instance_dates {
        if !changed_days.contains(d) {
            series
                .exdates
                .push(time_of_minutes(*d).date().and_time(start_local.time()));
        }
    }
    for e in &arp.exceptions {
        let original = time_of_minutes(e.original_start);
        let original_utc = zone.to_utc(original, floating);
        let m = embedded
            .iter()
            .find(|m| m.time(&lids::PID_LID_EXCEPTION_REPLACE_TIME) == Some(original_utc));
        let times = match m.and_then(|m| {
            Some((
                m.time(&lids::PID_LID_APPOINTMENT_START_WHOLE)?,
                m.time(&lids::PID_LID_APPOINTMENT_END_WHOLE)?,
            ))
        }) {
            Some(t) => t,
            None => (
                zone.to_utc(time_of_minutes(e.start), floating),
                zone.to_utc(time_of_minutes(e.end), floating),
            ),
        };
        series.overrides.push(Override {
            original_start: original,
            new_times: Some(times),
        });
    }
    Ok(Some(series))
}
/// A deleted or changed instance of a stored series, with what differs
/// from the series, as clients that list exceptions (ActiveSync) show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceException {
    /// The instance's original start, Unix seconds.
    pub original_start: i64,
    /// The instance is cancelled; the other fields are empty.
    pub deleted: bool,
    /// New start and end, Unix seconds (changed instances).
    pub times: Option<(i64, i64)>,
    /// Subject, when it differs.
    pub subject: Option<String>,
    /// Location, when it differs.
    pub location: Option<String>,
    /// Busy status, when it differs.
    pub busy_status: Option<i64>,
    /// All-day flag, when it differs.
    pub all_day: Option<bool>,
    /// Body, when it differs.
    pub body: Option<String>,
    /// Reminder minutes before the start, when the instance's reminder is
    /// on and differs from the series'.
    pub reminder: Option<i64>,
}

/// The deleted and changed instances of an appointment's series, by
/// original start: [`series_of_item`]'s EXDATEs and overrides, each
/// override with the fields its ExceptionInfo or embedded exception
/// message changes. Empty for a single appointment.
pub fn exceptions_of_item(
    item: &Item,
    floating: &Zone,
) -> Result<Vec<InstanceException>, BlobError> {
    let Some(series) = series_of_item(item, floating)? else {
        return Ok(vec![]);
    };
    if series.rule.is_none() {
        return Ok(vec![]);
    }
    let arp = item
        .binary(&lids::PID_LID_APPOINTMENT_RECUR)
        .map(AppointmentRecurrencePattern::decode)
        .transpose()?;
    let infos = arp.map(|a| a.exceptions).unwrap_or_default();
    let embedded: Vec<&Item> = item.exceptions();
    let mut out: Vec<InstanceException> = series
        .exdates
        .iter()
        .map(|x| InstanceException {
            original_start: series.zone.to_utc(*x, floating),
            deleted: true,
            ..InstanceException::default()
        })
        .collect();
    for o in &series.overrides {
        let original_start = series.zone.to_utc(o.original_start, floating);
        let info = infos
            .iter()
            .find(|e| time_of_minutes(e.original_start) == o.original_start);
        let m = embedded
            .iter()
            .find(|m| m.time(&lids::PID_LID_EXCEPTION_REPLACE_TIME) == Some(original_start));
        let differs = |key: &KnownProp| {
            m.and_then(|m| m.str(key))
                .filter(|v| Some(*v) != item.str(key))
                .map(str::to_owned)
        };
        let tag_differs = |tag: groxide_mapi::PropTag| {
            m.and_then(|m| m.str(tag))
                .filter(|v| Some(*v) != item.str(tag))
                .map(str::to_owned)
        };
        out.push(InstanceException {
            original_start,
            deleted: false,
            times: o.new_times,
            subject: info
                .and_then(|i| i.subject.clone())
                .or_else(|| tag_differs(groxide_mapi::tags::PR_SUBJECT)),
            location: info
                .and_then(|i| i.location.clone())
                .or_else(|| differs(&lids::PID_LID_LOCATION)),
            busy_status: info.and_then(|i| i.busy_status).map(i64::from).or_else(|| {
                m.and_then(|m| m.int(&lids::PID_LID_BUSY_STATUS))
                    .filter(|b| Some(*b) != item.int(&lids::PID_LID_BUSY_STATUS))
            }),
            all_day: info.and_then(|i| i.subtype).map(|s| s != 0),
            body: tag_differs(groxide_mapi::tags::PR_BODY),
            reminder: info.and_then(|i| {
                let on = i
                    .reminder_set
                    .map(|s| s != 0)
                    .unwrap_or_else(|| item.bool(&lids::PID_LID_REMINDER_SET) == Some(true));
                let delta = i
                    .reminder_delta
                    .map(i64::from)
                    .or_else(|| item.int(&lids::PID_LID_REMINDER_DELTA));
                (on && (i.reminder_set.is_some() || i.reminder_delta.is_some()))
                    .then(|| delta.unwrap_or(15))
            }),
        });
    }
    out.sort_by_key(|e| e.original_start);
    Ok(out)
}

/// Whether an item has an instance in `[start, end)` (Unix seconds), as a
/// CalDAV time-range filter asks (RFC 4791 §9.9): an appointment's series
/// expanded (all-day and floating ones in `floating`); a task by its start
/// and due dates, one with neither in every range. An appointment without
/// a start is in none; one whose recurrence blob is broken in every range
/// (shown rather than hidden).
pub fn occurs_in(item: &Item, start: i64, end: i64, floating: &Zone) -> bool {
    if item.class == crate::ItemClass::Task {
        let s = item.time(&lids::PID_LID_TASK_START_DATE);
        let d = item.time(&lids::PID_LID_TASK_DUE_DATE);
        return match (s.or(d), d.or(s)) {
            (Some(s), Some(d)) => s < end && d.max(s) >= start,
            _ => true,
        };
    }
    match series_of_item(item, floating) {
        Ok(Some(series)) => {
            let opts = super::expand::ExpandOptions {
                max_instances: 1,
                floating: floating.clone(),
                ..super::expand::ExpandOptions::default()
            };
            !super::expand::expand(&series, start, end, &opts)
                .instances
                .is_empty()
        }
        Ok(None) => false,
        Err(_) => true,
    }
}

/// How far an instance of an all-day or floating series may lie from its
/// UTC reading in another floating zone: more than any zone's offset
/// (−12 h … +14 h) plus a daylight-saving shift, with room to spare.
pub const FLOATING_MARGIN: i64 = 2 * 86_400;

/// Most instances [`occurrence_bounds`] walks to find the end of a bounded
/// series (a tenth of it for each of the offsets a floating one is read
/// in); one with more is taken as unbounded.
pub const BOUNDS_MAX_INSTANCES: usize = 20_000;

/// Bounds of every instance an item can have, as a store's time index
/// keeps them: `(start, end)` in Unix seconds such that, for every range
/// `[from, to)` and every floating zone, [`occurs_in`] can only be true
/// when `start < to && end >= from` (`end` is inclusive: an instance of no
/// length at `from` is in the range). An unbounded series ends at
/// `i64::MAX`; an item in every range (a task without dates, a broken
/// recurrence blob) is `(i64::MIN, i64::MAX)`; one in none (an appointment
/// without a start, a contact) is `(i64::MAX, i64::MIN)`. All-day and
/// floating series are widened by [`FLOATING_MARGIN`] on both sides, since
/// the floating zone is only known when a query is made.
pub fn occurrence_bounds(item: &Item) -> (i64, i64) {
    const ALWAYS: (i64, i64) = (i64::MIN, i64::MAX);
    const NEVER: (i64, i64) = (i64::MAX, i64::MIN);
    if item.class == crate::ItemClass::Task {
        let s = item.time(&lids::PID_LID_TASK_START_DATE);
        let d = item.time(&lids::PID_LID_TASK_DUE_DATE);
        return match (s.or(d), d.or(s)) {
            (Some(s), Some(d)) => (s, d.max(s)),
            _ => ALWAYS,
        };
    }
    let utc = Zone::Utc;
    let series = match series_of_item(item, &utc) {
        Ok(Some(s)) => s,
        Ok(None) => return NEVER,
        Err(_) => return ALWAYS,
    };
    let first = series.zone.to_utc(series.start, &utc);
    let mut lo = first;
    let mut hi = first.saturating_add(series.duration.max(0));
    for o in &series.overrides {
        if let Some((s, e)) = o.new_times {
            lo = lo.min(s);
            hi = hi.max(e.max(s));
        }
    }
    let floating = series.all_day || series.zone == Zone::Floating;
    if series.rule.as_ref().is_some_and(|r| !r.is_bounded()) {
        hi = i64::MAX;
    } else if let Some(end) = last_end(&series, lo, &Zone::Utc, BOUNDS_MAX_INSTANCES) {
        hi = hi.max(end);
        // A floating series' local start moves with the zone it is read in,
        // and with it the days its pattern matches: a COUNT may then end a
        // period later. Read it in every offset a zone can have (−12 h to
        // +14 h, a quarter of an hour apart; the date of the start only
        // changes at one of them).
        if floating && series.rule.is_some() {
            for q in (-12 * 4)..=(14 * 4) {
                let view = Zone::Fixed(q * 15);
                let end = match series_of_item(item, &view) {
                    Ok(Some(s)) => last_end(&s, lo, &view, BOUNDS_MAX_INSTANCES / 10),
                    _ => None,
                };
                match end {
                    Some(e) => hi = hi.max(e),
                    None => {
                        hi = i64::MAX;
                        break;
                    }
                }
            }
        }
    } else {
        hi = i64::MAX;
    }
    // An instance near UNTIL may be in or out depending on the zone's
    // offsets (daylight saving): UNTIL itself bounds every instance.
    if let Some(u) = series.rule.as_ref().and_then(|r| r.until) {
        let until = match u {
            Until::Utc(t) => t.and_utc().timestamp(),
            Until::Local(t) => series.zone.to_utc(t, &utc),
            Until::Date(d) => series
                .zone
                .to_utc(d.and_hms_opt(23, 59, 59).unwrap_or_default(), &utc),
        };
        hi = hi.max(until.saturating_add(series.duration.max(0)));
    }
    if floating {
        lo = lo.saturating_sub(FLOATING_MARGIN);
        hi = hi.saturating_add(FLOATING_MARGIN);
    }
    (lo, hi)
}

/// The latest end of any instance of a bounded series read in `view`
/// (every instance walked, from a little before `from`); `None` when it has
/// more than `max` instances.
fn last_end(series: &Series, from: i64, view: &Zone, max: usize) -> Option<i64> {
    let opts = ExpandOptions {
        max_instances: max,
        floating: view.clone(),
        ..ExpandOptions::default()
    };
    let all = super::expand::expand(
        series,
        from.saturating_sub(FLOATING_MARGIN),
        i64::MAX,
        &opts,
    );
    if all.truncated {
        return None;
    }
    Some(
        all.instances
            .iter()
            .map(|i| i.end.max(i.start))
            .max()
            .unwrap_or(i64::MIN),
    )
}

/// The zone of an item's series or start (from its TZDEFINITION).
pub fn item_zone(item: &Item, recur: bool) -> Zone {
    let keys: &[&KnownProp] = if recur {
        &[
            &lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_RECUR,
            &lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_START_DISPLAY,
        ]
    } else {
        &[&lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_START_DISPLAY]
    };
    for k in keys {
        if let Some(def) = item.binary(*k).and_then(|b| TzDefinition::decode(b).ok()) {
            return zone_of_definition(def);
        }
    }
    if let Some(reg) = item
        .binary(&lids::PID_LID_TIME_ZONE_STRUCT)
        .and_then(|b| TzReg::decode_struct(b).ok())
    {
        let name = item
            .str(&lids::PID_LID_TIME_ZONE_DESCRIPTION)
            .unwrap_or("Custom")
            .to_owned();
        return zone_of_definition(TzDefinition {
            key_name: name,
            rules: vec![crate::tz::TzRule {
                flags: 2,
                start_year: 1601,
                reg,
            }],
        });
    }
    Zone::Utc
}

/// The zone a TZDEFINITION stands for: UTC, the IANA zone of its Windows
/// key name, or its own rules.
pub fn zone_of_definition(def: TzDefinition) -> Zone {
    if def.key_name.eq_ignore_ascii_case("UTC") {
        return Zone::Utc;
    }
    if let Some(tz) = windows_to_iana(&def.key_name).and_then(|i| i.parse::<chrono_tz::Tz>().ok()) {
        return Zone::Iana(tz);
    }
    if let Ok(tz) = def.key_name.parse::<chrono_tz::Tz>() {
        return Zone::Iana(tz);
    }
    Zone::Rules(def)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ical::import::{ImportOptions, parse_calendar};

    fn utc(s: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc()
            .timestamp()
    }

    #[test]
    fn exceptions_of_a_series_list_deleted_and_changed_instances_with_what_differs() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n\
            BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20261001T000000Z\r\n\
            DTSTART;TZID=Europe/Berlin:20261020T090000\r\nDTEND;TZID=Europe/Berlin:20261020T100000\r\n\
            SUMMARY:Daily\r\nLOCATION:Here\r\nRRULE:FREQ=DAILY;COUNT=10\r\n\
            EXDATE;TZID=Europe/Berlin:20261026T090000\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20261001T000000Z\r\n\
            RECURRENCE-ID;TZID=Europe/Berlin:20261022T090000\r\n\
            DTSTART;TZID=Europe/Berlin:20261022T140000\r\nDTEND;TZID=Europe/Berlin:20261022T150000\r\n\
            SUMMARY:Daily\r\nLOCATION:There\r\nDESCRIPTION:moved\r\n\
            BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let item = parse_calendar(ics.as_bytes(), &ImportOptions::default())
            .items
            .pop()
            .unwrap()
            .unwrap();
        let ex = exceptions_of_item(&item, &Zone::Utc).unwrap();
        assert_eq!(ex.len(), 2, "{ex:?}");
        // 22 October: 09:00 CEST moved to 14:00 CEST, at another place.
        assert_eq!(ex[0].original_start, utc("20261022T070000Z"));
        assert!(!ex[0].deleted);
        assert_eq!(
            ex[0].times,
            Some((utc("20261022T120000Z"), utc("20261022T130000Z")))
        );
        assert_eq!(ex[0].location.as_deref(), Some("There"));
        assert_eq!(ex[0].subject, None);
        assert_eq!(ex[0].body.as_deref(), Some("moved"));
        assert_eq!(ex[0].reminder, Some(30));
        // 26 October (after the change to CET): 09:00 CET deleted.
        assert_eq!(
            ex[1],
            InstanceException {
                original_start: utc("20261026T080000Z"),
                deleted: true,
                ..InstanceException::default()
            }
        );
        let single = parse_calendar(
            ics.replace("RRULE:FREQ=DAILY;COUNT=10\r\n", "").as_bytes(),
            &ImportOptions::default(),
        );
        let first = single.items.into_iter().next().unwrap().unwrap();
        assert!(exceptions_of_item(&first, &Zone::Utc).unwrap().is_empty());
    }
}
