//! The series of an appointment as MAPI holds it: what free/busy and any
//! protocol that expands a stored item use, without its original.

use super::convert::rule_of_pattern;
use super::expand::{Override, Series, Zone};
use super::pattern::{AppointmentRecurrencePattern, time_of_minutes};
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
