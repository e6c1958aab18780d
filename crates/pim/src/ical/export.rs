//! Items → iCalendar.
//!
//! Without an original, every property comes from MAPI. With one, the
//! **merge rule** applies: iCalendar properties are grouped by the MAPI
//! properties they map to (SUMMARY ↔ PR_SUBJECT; DTSTART, DTEND, DURATION,
//! DUE ↔ the start/end properties; ATTENDEE, ORGANIZER ↔ the recipients;
//! VALARM ↔ the reminder; RRULE, EXDATE, RDATE and the override components
//! ↔ the recurrence blob and the exceptions; …, see [`GROUPS`]). The
//! original is read again; a group whose MAPI properties are unchanged is
//! copied from the original line for line, parameters and all; a changed
//! group is regenerated from MAPI in place of the original's lines. Lines
//! and sub-components outside every group (X- properties, unknown
//! parameters' lines, URL, ATTACH, CONFERENCE, …) and the calendar's own
//! properties and VTIMEZONEs are always copied.

use super::import::{ImportOptions, parse_calendar};
use crate::error::ExportError;
use crate::goid::GlobalObjectId;
use crate::item::{AttendeeRole, Item, ItemClass, Recipient, ResponseStatus};
use crate::recur::Zone;
use crate::recur::convert::rule_of_pattern;
use crate::recur::mapi::{item_zone, zone_of_definition};
use crate::recur::pattern::{AppointmentRecurrencePattern, RecurrencePattern, time_of_minutes};
use crate::recur::rule::Until;
use crate::text::lines::{Block, logical_lines, split};
use crate::text::write::{Prop, push_line};
use crate::tz::tzdef::nth_weekday;
use crate::tz::{TzDefinition, TzReg};
use chrono::Datelike;
use groxide_mapi::{KnownProp, lids, tags};

/// How to write iCalendar.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The zone of all-day dates and floating times (the owner's zone);
    /// must be the one the item was imported with. `None`: UTC.
    pub floating_zone: Option<chrono_tz::Tz>,
    /// The store owner's address, as given to the import (the original is
    /// read again with it to see what changed).
    pub owner: Option<String>,
}

/// The property groups of the merge rule: iCalendar names (a `V…` name is
/// a sub-component) and the MAPI properties they map to.
pub const GROUPS: &[(&[&str], &[&KnownPropOrTag])] = &[
    (&["SUMMARY"], &[&KnownPropOrTag::Tag(tags::PR_SUBJECT)]),
    (&["DESCRIPTION"], &[&KnownPropOrTag::Tag(tags::PR_BODY)]),
    (
        &["LOCATION"],
        &[&KnownPropOrTag::Named(&lids::PID_LID_LOCATION)],
    ),
    (
        &["DTSTART", "DTEND", "DURATION", "DUE"],
        &[
            &KnownPropOrTag::Named(&lids::PID_LID_APPOINTMENT_START_WHOLE),
            &KnownPropOrTag::Named(&lids::PID_LID_APPOINTMENT_END_WHOLE),
            &KnownPropOrTag::Named(&lids::PID_LID_APPOINTMENT_SUB_TYPE),
            &KnownPropOrTag::Named(&lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_START_DISPLAY),
            &KnownPropOrTag::Named(&lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_END_DISPLAY),
            &KnownPropOrTag::Named(&lids::PID_LID_TASK_START_DATE),
            &KnownPropOrTag::Named(&lids::PID_LID_TASK_DUE_DATE),
            &KnownPropOrTag::Named(&lids::PID_LID_COMMON_START),
            &KnownPropOrTag::Named(&lids::PID_LID_COMMON_END),
        ],
    ),
    (&["CLASS"], &[&KnownPropOrTag::Tag(tags::PR_SENSITIVITY)]),
    (&["PRIORITY"], &[&KnownPropOrTag::Tag(tags::PR_IMPORTANCE)]),
    (
        &["CATEGORIES"],
        &[&KnownPropOrTag::Named(&lids::PID_NAME_KEYWORDS)],
    ),
    (
        &["TRANSP", "X-MICROSOFT-CDO-BUSYSTATUS"],
        &[&KnownPropOrTag::Named(&lids::PID_LID_BUSY_STATUS)],
    ),
    (&["ATTENDEE", "ORGANIZER"], &[&KnownPropOrTag::Recipients]),
    (
        &["VALARM"],
        &[
            &KnownPropOrTag::Named(&lids::PID_LID_REMINDER_SET),
            &KnownPropOrTag::Named(&lids::PID_LID_REMINDER_DELTA),
        ],
    ),
    (
        &["RRULE", "EXDATE", "RDATE", "RECURRENCE-ID"],
        &[
            &KnownPropOrTag::Named(&lids::PID_LID_APPOINTMENT_RECUR),
            &KnownPropOrTag::Named(&lids::PID_LID_TASK_RECURRENCE),
            &KnownPropOrTag::Exceptions,
        ],
    ),
    (
        &["UID"],
        &[
            &KnownPropOrTag::Named(&lids::PID_LID_CLEAN_GLOBAL_OBJECT_ID),
            &KnownPropOrTag::Named(&lids::PID_NAME_CALENDAR_UID),
        ],
    ),
    (
        &["SEQUENCE"],
        &[&KnownPropOrTag::Named(&lids::PID_LID_APPOINTMENT_SEQUENCE)],
    ),
    (
        &["STATUS", "PERCENT-COMPLETE", "COMPLETED"],
        &[
            &KnownPropOrTag::Named(&lids::PID_LID_APPOINTMENT_STATE_FLAGS),
            &KnownPropOrTag::Named(&lids::PID_LID_TASK_STATUS),
            &KnownPropOrTag::Named(&lids::PID_LID_PERCENT_COMPLETE),
            &KnownPropOrTag::Named(&lids::PID_LID_TASK_DATE_COMPLETED),
        ],
    ),
];

/// What a merge group compares.
#[derive(Debug)]
pub enum KnownPropOrTag {
    /// A tagged property.
    Tag(groxide_mapi::PropTag),
    /// A named property.
    Named(&'static KnownProp),
    /// The recipients.
    Recipients,
    /// The exception attachments.
    Exceptions,
}

fn group_of(name: &str) -> Option<usize> {
    GROUPS.iter().position(|(names, _)| names.contains(&name))
}

fn group_unchanged(g: usize, now: &Item, before: &Item) -> bool {
    GROUPS[g].1.iter().all(|k| match k {
        KnownPropOrTag::Tag(t) => now.get(*t) == before.get(*t),
        KnownPropOrTag::Named(n) => now.get(*n) == before.get(*n),
        KnownPropOrTag::Recipients => now.recipients == before.recipients,
        KnownPropOrTag::Exceptions => now.attachments == before.attachments,
    })
}

/// The iCalendar object of an item (appointment, task or sticky note).
pub fn item_to_ical(item: &Item, opts: &ExportOptions) -> Result<String, ExportError> {
    let fresh = generate(item, opts)?;
    let Some(orig) = &item.original else {
        return Ok(fresh);
    };
    let imp = parse_calendar(
        orig,
        &ImportOptions {
            floating_zone: opts.floating_zone,
            owner: opts.owner.clone(),
            ..ImportOptions::default()
        },
    );
    let Some(Ok(before)) = imp.items.into_iter().next() else {
        return Ok(fresh);
    };
    if before.class != item.class {
        return Ok(fresh);
    }
    Ok(merge(&String::from_utf8_lossy(orig), &fresh, item, &before))
}

fn merge(orig: &str, fresh: &str, now: &Item, before: &Item) -> String {
    let parse =
        |t: &str| -> Option<Block> { split(logical_lines(t)).components.into_iter().next()?.ok() };
    let (Some(o), Some(f)) = (parse(orig), parse(fresh)) else {
        return fresh.to_owned();
    };
    let unchanged: Vec<bool> = (0..GROUPS.len())
        .map(|g| group_unchanged(g, now, before))
        .collect();
    let recur_group = group_of("RRULE").unwrap_or(0);
    let is_item = |b: &Block| matches!(b.kind.as_str(), "VEVENT" | "VTODO" | "VJOURNAL");
    let is_override = |b: &Block| b.prop("RECURRENCE-ID").is_some();
    let mut out = String::from("BEGIN:VCALENDAR\r\n");
    for p in &o.props {
        out.push_str(&p.raw);
        out.push_str("\r\n");
    }
    // Time zones: the original's, plus any the fresh object needs and the original lacks.
    let orig_tzids: Vec<String> = o
        .children
        .iter()
        .filter(|c| c.kind == "VTIMEZONE")
        .filter_map(|c| c.prop("TZID").map(|l| l.value().to_owned()))
        .collect();
    for c in o.children.iter().filter(|c| c.kind == "VTIMEZONE") {
        out.push_str(&c.raw());
    }
    for c in f.children.iter().filter(|c| c.kind == "VTIMEZONE") {
        if !c
            .prop("TZID")
            .is_some_and(|l| orig_tzids.contains(&l.value().to_owned()))
        {
            out.push_str(&c.raw());
        }
    }
    let o_master = o.children.iter().find(|c| is_item(c) && !is_override(c));
    let f_master = f.children.iter().find(|c| is_item(c) && !is_override(c));
    if let (Some(om), Some(fm)) = (o_master, f_master) {
        out.push_str(&merge_component(om, fm, &unchanged));
    } else if let Some(fm) = f_master {
        out.push_str(&fm.raw());
    }
    let overrides_from = if unchanged[recur_group] { &o } else { &f };
    for c in overrides_from
        .children
        .iter()
        .filter(|c| is_item(c) && is_override(c))
    {
        out.push_str(&c.raw());
    }
    for c in o
        .children
        .iter()
        .filter(|c| c.kind != "VTIMEZONE" && !is_item(c))
    {
        out.push_str(&c.raw());
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn merge_component(o: &Block, f: &Block, unchanged: &[bool]) -> String {
    let mut out = format!("BEGIN:{}\r\n", o.kind);
    let mut emitted = vec![false; GROUPS.len()];
    let emit_fresh = |g: usize, out: &mut String, emitted: &mut Vec<bool>| {
        if emitted[g] {
            return;
        }
        emitted[g] = true;
        for l in f.props.iter().filter(|l| group_of(&l.name) == Some(g)) {
            out.push_str(&l.raw);
            out.push_str("\r\n");
        }
        for c in f.children.iter().filter(|c| group_of(&c.kind) == Some(g)) {
            out.push_str(&c.raw());
        }
    };
    for l in &o.props {
        match group_of(&l.name) {
            Some(g) if !unchanged[g] => emit_fresh(g, &mut out, &mut emitted),
            _ => {
                out.push_str(&l.raw);
                out.push_str("\r\n");
            }
        }
    }
    for (g, &same) in unchanged.iter().enumerate() {
        let had = o.props.iter().any(|l| group_of(&l.name) == Some(g))
            || o.children.iter().any(|c| group_of(&c.kind) == Some(g));
        if !same && !had {
            emit_fresh(g, &mut out, &mut emitted);
        }
    }
    for c in &o.children {
        match group_of(&c.kind) {
            Some(g) if !unchanged[g] => emit_fresh(g, &mut out, &mut emitted),
            _ => out.push_str(&c.raw()),
        }
    }
    out.push_str(&format!("END:{}\r\n", o.kind));
    out
}

/// The TZID a zone is written under (`None` for UTC and floating times).
pub fn tzid_of(z: &Zone) -> Option<String> {
    match z {
        Zone::Iana(tz) => Some(tz.name().to_owned()),
        Zone::Rules(d) => Some(d.key_name.clone()),
        Zone::Fixed(m) => Some(format!(
            "UTC{}{:02}{:02}",
            if *m < 0 { '-' } else { '+' },
            m.abs() / 60,
            m.abs() % 60
        )),
        Zone::Utc | Zone::Floating => None,
    }
}

fn offset_text(m: i32) -> String {
    format!(
        "{}{:02}{:02}",
        if m < 0 { '-' } else { '+' },
        m.abs() / 60,
        m.abs() % 60
    )
}

fn day_code(dow: u16) -> &'static str {
    ["SU", "MO", "TU", "WE", "TH", "FR", "SA"][usize::from(dow.min(6))]
}

/// Appends a VTIMEZONE for a zone, from its rules in `year`, under
/// [`tzid_of`] (nothing for UTC and floating times).
pub fn vtimezone(z: &Zone, year: i32, out: &mut String) {
    let (Some(id), reg) = (
        tzid_of(z),
        match z {
            Zone::Iana(tz) => TzReg::of_zone(*tz, year),
            Zone::Rules(d) => d.rule_for_year(year).map(|r| r.reg).unwrap_or_default(),
            Zone::Fixed(m) => TzReg {
                bias: -m,
                ..TzReg::default()
            },
            _ => return,
        },
    ) else {
        return;
    };
    push_line(out, "BEGIN:VTIMEZONE");
    Prop::new("TZID").text(&id).write(out);
    if !reg.has_dst() {
        push_line(out, "BEGIN:STANDARD");
        push_line(out, "DTSTART:16010101T000000");
        push_line(
            out,
            &format!("TZOFFSETFROM:{}", offset_text(reg.standard_offset())),
        );
        push_line(
            out,
            &format!("TZOFFSETTO:{}", offset_text(reg.standard_offset())),
        );
        push_line(out, "END:STANDARD");
    } else {
        for (kind, st, from, to) in [
            (
                "STANDARD",
                reg.standard_date,
                reg.daylight_offset(),
                reg.standard_offset(),
            ),
            (
                "DAYLIGHT",
                reg.daylight_date,
                reg.standard_offset(),
                reg.daylight_offset(),
            ),
        ] {
            let week = if st.day >= 5 { -1 } else { i32::from(st.day) };
            let first = nth_weekday(
                1970,
                u32::from(st.month),
                u32::from(st.day_of_week),
                u32::from(st.day),
            )
            .and_then(|d| d.and_hms_opt(u32::from(st.hour), u32::from(st.minute), 0));
            push_line(out, &format!("BEGIN:{kind}"));
            if let Some(f) = first {
                push_line(out, &format!("DTSTART:{}", f.format("%Y%m%dT%H%M%S")));
            }
            push_line(out, &format!("TZOFFSETFROM:{}", offset_text(from)));
            push_line(out, &format!("TZOFFSETTO:{}", offset_text(to)));
            push_line(
                out,
                &format!(
                    "RRULE:FREQ=YEARLY;BYMONTH={};BYDAY={week}{}",
                    st.month,
                    day_code(st.day_of_week)
                ),
            );
            push_line(out, &format!("END:{kind}"));
        }
    }
    push_line(out, "END:VTIMEZONE");
}

fn stamp(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// DTSTART/DTEND-style property of a UTC time in a zone.
fn time_prop(name: &str, utc: i64, z: &Zone, fl: &Zone) -> Prop {
    match tzid_of(z) {
        Some(id) => Prop::new(name)
            .param("TZID", &id)
            .raw(&z.to_local(utc, fl).format("%Y%m%dT%H%M%S").to_string()),
        None => Prop::new(name).raw(&stamp(utc)),
    }
}

fn date_prop(name: &str, utc: i64, fl: &Zone) -> Prop {
    Prop::new(name)
        .param("VALUE", "DATE")
        .raw(&fl.to_local(utc, fl).format("%Y%m%d").to_string())
}

fn generate(item: &Item, opts: &ExportOptions) -> Result<String, ExportError> {
    let fl = opts.floating_zone.map(Zone::Iana).unwrap_or(Zone::Utc);
    let mut body = String::new();
    let mut zones: Vec<(Zone, i32)> = Vec::new();
    match item.class {
        ItemClass::Appointment => event(item, &fl, &mut body, &mut zones)?,
        ItemClass::Task => todo(item, &fl, &mut body)?,
        ItemClass::StickyNote => journal(item, &fl, &mut body)?,
        other => return Err(ExportError::WrongClass(other.message_class(), "iCalendar")),
    }
    let mut out = String::new();
    push_line(&mut out, "BEGIN:VCALENDAR");
    push_line(&mut out, "VERSION:2.0");
    push_line(&mut out, "PRODID:-//groxide//groxide-pim//EN");
    let mut done: Vec<String> = Vec::new();
    for (z, year) in &zones {
        if let Some(id) = tzid_of(z)
            && !done.contains(&id)
        {
            vtimezone(z, *year, &mut out);
            done.push(id);
        }
    }
    out.push_str(&body);
    push_line(&mut out, "END:VCALENDAR");
    Ok(out)
}

fn uid_of(item: &Item) -> Option<String> {
    if let Some(g) = item
        .binary(&lids::PID_LID_CLEAN_GLOBAL_OBJECT_ID)
        .or_else(|| item.binary(&lids::PID_LID_GLOBAL_OBJECT_ID))
    {
        return GlobalObjectId::decode(g).ok().map(|g| g.to_uid());
    }
    item.str(&lids::PID_NAME_CALENDAR_UID).map(str::to_owned)
}

fn common(item: &Item, out: &mut String) {
    let t = item
        .time(tags::PR_LAST_MODIFICATION_TIME)
        .or_else(|| item.time(tags::PR_CREATION_TIME))
        .unwrap_or(0);
    Prop::new("DTSTAMP").raw(&stamp(t)).write(out);
    if let Some(s) = item.str(tags::PR_SUBJECT) {
        Prop::new("SUMMARY").text(s).write(out);
    }
    if let Some(s) = item.str(tags::PR_BODY) {
        Prop::new("DESCRIPTION").text(s).write(out);
    }
    if let Some(c) = item.strings(&lids::PID_NAME_KEYWORDS)
        && !c.is_empty()
    {
        let v: Vec<String> = c.iter().map(|s| crate::text::write::escape(s)).collect();
        Prop::new("CATEGORIES").raw(&v.join(",")).write(out);
    }
    match item.int(tags::PR_SENSITIVITY) {
        Some(2) => Prop::new("CLASS").raw("PRIVATE").write(out),
        Some(3) => Prop::new("CLASS").raw("CONFIDENTIAL").write(out),
        Some(_) => Prop::new("CLASS").raw("PUBLIC").write(out),
        None => {}
    }
    match item.int(tags::PR_IMPORTANCE) {
        Some(2) => Prop::new("PRIORITY").raw("1").write(out),
        Some(1) => Prop::new("PRIORITY").raw("5").write(out),
        Some(0) => Prop::new("PRIORITY").raw("9").write(out),
        _ => {}
    }
    if let Some(t) = item.time(tags::PR_CREATION_TIME) {
        Prop::new("CREATED").raw(&stamp(t)).write(out);
    }
    if let Some(t) = item.time(tags::PR_LAST_MODIFICATION_TIME) {
        Prop::new("LAST-MODIFIED").raw(&stamp(t)).write(out);
    }
}

fn alarm(item: &Item, out: &mut String) {
    if item.bool(&lids::PID_LID_REMINDER_SET) == Some(true) {
        let delta = item.int(&lids::PID_LID_REMINDER_DELTA).unwrap_or(15);
        push_line(out, "BEGIN:VALARM");
        push_line(out, "ACTION:DISPLAY");
        Prop::new("DESCRIPTION")
            .text(item.str(tags::PR_SUBJECT).unwrap_or("Reminder"))
            .write(out);
        push_line(out, &format!("TRIGGER:-PT{delta}M"));
        push_line(out, "END:VALARM");
    }
}

fn people(item: &Item, out: &mut String) {
    let mailto = |r: &Recipient| format!("mailto:{}", r.address);
    for r in item.recipients.iter().filter(|r| r.organizer) {
        let mut p = Prop::new("ORGANIZER");
        if !r.name.is_empty() {
            p = p.param("CN", &r.name);
        }
        p.raw(&mailto(r)).write(out);
    }
    for r in &item.recipients {
        if r.organizer && r.response == ResponseStatus::Organized {
            continue;
        }
        let mut p = Prop::new("ATTENDEE");
        if !r.name.is_empty() {
            p = p.param("CN", &r.name);
        }
        p = match r.role {
            AttendeeRole::Required => p.param("ROLE", "REQ-PARTICIPANT"),
            AttendeeRole::Optional => p.param("ROLE", "OPT-PARTICIPANT"),
            AttendeeRole::Resource => p
                .param("CUTYPE", "RESOURCE")
                .param("ROLE", "REQ-PARTICIPANT"),
        };
        let ps = match r.response {
            ResponseStatus::Accepted => Some("ACCEPTED"),
            ResponseStatus::Declined => Some("DECLINED"),
            ResponseStatus::Tentative => Some("TENTATIVE"),
            ResponseStatus::NotResponded => Some("NEEDS-ACTION"),
            _ => None,
        };
        if let Some(ps) = ps {
            p = p.param("PARTSTAT", ps);
        }
        p.raw(&mailto(r)).write(out);
    }
}

fn busy(item: &Item, out: &mut String) {
    let b = item.int(&lids::PID_LID_BUSY_STATUS).unwrap_or(2);
    Prop::new("TRANSP")
        .raw(if b == 0 { "TRANSPARENT" } else { "OPAQUE" })
        .write(out);
    let name = match b {
        0 => "FREE",
        1 => "TENTATIVE",
        3 => "OOF",
        4 => "WORKINGELSEWHERE",
        _ => "BUSY",
    };
    Prop::new("X-MICROSOFT-CDO-BUSYSTATUS").raw(name).write(out);
}

fn event(
    item: &Item,
    fl: &Zone,
    out: &mut String,
    zones: &mut Vec<(Zone, i32)>,
) -> Result<(), ExportError> {
    let start = item
        .time(&lids::PID_LID_APPOINTMENT_START_WHOLE)
        .or_else(|| item.time(tags::PR_START_DATE))
        .ok_or(ExportError::Missing("start time"))?;
    let end = item
        .time(&lids::PID_LID_APPOINTMENT_END_WHOLE)
        .or_else(|| item.time(tags::PR_END_DATE))
        .unwrap_or(start);
    let all_day = item.bool(&lids::PID_LID_APPOINTMENT_SUB_TYPE) == Some(true);
    let recur = item
        .binary(&lids::PID_LID_APPOINTMENT_RECUR)
        .map(AppointmentRecurrencePattern::decode)
        .transpose()?;
    let zone = item_zone(item, recur.is_some());
    let end_zone = item
        .binary(&lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_END_DISPLAY)
        .and_then(|b| TzDefinition::decode(b).ok())
        .map(zone_of_definition)
        .unwrap_or_else(|| zone.clone());
    let year = chrono::DateTime::from_timestamp(start, 0)
        .map(|d| d.year())
        .unwrap_or(2000);
    if !all_day {
        zones.push((zone.clone(), year));
        zones.push((end_zone.clone(), year));
    }
    push_line(out, "BEGIN:VEVENT");
    let uid = uid_of(item).ok_or(ExportError::Missing("UID (PidLidGlobalObjectId)"))?;
    Prop::new("UID").text(&uid).write(out);
    common(item, out);
    let time = |name: &str, t: i64, z: &Zone| {
        if all_day {
            date_prop(name, t, fl)
        } else {
            time_prop(name, t, z, fl)
        }
    };
    time("DTSTART", start, &zone).write(out);
    time("DTEND", end, &end_zone).write(out);
    if let Some(l) = item.str(&lids::PID_LID_LOCATION) {
        Prop::new("LOCATION").text(l).write(out);
    }
    if let Some(s) = item.int(&lids::PID_LID_APPOINTMENT_SEQUENCE) {
        Prop::new("SEQUENCE").raw(&s.to_string()).write(out);
    }
    busy(item, out);
    if item
        .int(&lids::PID_LID_APPOINTMENT_STATE_FLAGS)
        .is_some_and(|f| f & 0x4 != 0)
    {
        Prop::new("STATUS").raw("CANCELLED").write(out);
    }
    people(item, out);
    let series_zone = if all_day { fl.clone() } else { zone.clone() };
    let mut overrides = Vec::new();
    if let Some(arp) = &recur {
        let start_local = series_zone.to_local(start, fl);
        if let Ok(mut rule) = rule_of_pattern(&arp.recurrence, start_local.time()) {
            if let Some(Until::Local(t)) = rule.until {
                rule.until = Some(if all_day {
                    Until::Date(t.date())
                } else {
                    Until::Utc(
                        chrono::DateTime::from_timestamp(series_zone.to_utc(t, fl), 0)
                            .unwrap_or_default()
                            .naive_utc(),
                    )
                });
            }
            Prop::new("RRULE").raw(&rule.to_string()).write(out);
        }
        let changed: Vec<u32> = arp
            .exceptions
            .iter()
            .map(|e| day_of(e.original_start))
            .collect();
        for d in &arp.recurrence.deleted_instance_dates {
            if changed.contains(d) {
                continue;
            }
            let local = time_of_minutes(*d).date().and_time(start_local.time());
            let p = if all_day {
                Prop::new("EXDATE")
                    .param("VALUE", "DATE")
                    .raw(&local.format("%Y%m%d").to_string())
            } else {
                time_prop("EXDATE", series_zone.to_utc(local, fl), &zone, fl)
            };
            p.write(out);
        }
        overrides = exception_components(item, arp, &uid, &series_zone, all_day, fl);
    }
    alarm(item, out);
    push_line(out, "END:VEVENT");
    out.push_str(&overrides.concat());
    Ok(())
}

fn day_of(minutes: u32) -> u32 {
    minutes - minutes % 1440
}

fn exception_components(
    item: &Item,
    arp: &AppointmentRecurrencePattern,
    uid: &str,
    zone: &Zone,
    all_day: bool,
    fl: &Zone,
) -> Vec<String> {
    let embedded: Vec<&Item> = item.exceptions();
    let mut out = Vec::new();
    for e in &arp.exceptions {
        let rid_local = time_of_minutes(e.original_start);
        let rid_utc = zone.to_utc(rid_local, fl);
        let ex = embedded
            .iter()
            .find(|m| m.time(&lids::PID_LID_EXCEPTION_REPLACE_TIME) == Some(rid_utc))
            .copied();
        let mut s = String::new();
        push_line(&mut s, "BEGIN:VEVENT");
        Prop::new("UID").text(uid).write(&mut s);
        let rid = if all_day {
            Prop::new("RECURRENCE-ID")
                .param("VALUE", "DATE")
                .raw(&rid_local.format("%Y%m%d").to_string())
        } else {
            time_prop("RECURRENCE-ID", rid_utc, zone, fl)
        };
        rid.write(&mut s);
        let src = ex.unwrap_or(item);
        let start = ex
            .and_then(|m| m.time(&lids::PID_LID_APPOINTMENT_START_WHOLE))
            .unwrap_or_else(|| zone.to_utc(time_of_minutes(e.start), fl));
        let end = ex
            .and_then(|m| m.time(&lids::PID_LID_APPOINTMENT_END_WHOLE))
            .unwrap_or_else(|| zone.to_utc(time_of_minutes(e.end), fl));
        common(src, &mut s);
        let ex_all_day = src.bool(&lids::PID_LID_APPOINTMENT_SUB_TYPE) == Some(true);
        let time = |name: &str, t: i64| {
            if ex_all_day {
                date_prop(name, t, fl)
            } else {
                time_prop(name, t, zone, fl)
            }
        };
        time("DTSTART", start).write(&mut s);
        time("DTEND", end).write(&mut s);
        let location = e
            .location
            .clone()
            .or_else(|| src.str(&lids::PID_LID_LOCATION).map(str::to_owned));
        if let Some(l) = location {
            Prop::new("LOCATION").text(&l).write(&mut s);
        }
        busy(src, &mut s);
        people(
            if ex.is_some_and(|m| !m.recipients.is_empty()) {
                src
            } else {
                item
            },
            &mut s,
        );
        alarm(src, &mut s);
        push_line(&mut s, "END:VEVENT");
        out.push(s);
    }
    out
}

fn todo(item: &Item, fl: &Zone, out: &mut String) -> Result<(), ExportError> {
    push_line(out, "BEGIN:VTODO");
    let uid = uid_of(item).ok_or(ExportError::Missing("UID (PidNameCalendarUid)"))?;
    Prop::new("UID").text(&uid).write(out);
    common(item, out);
    let date_or_time =
        |name: &str, date_key: &KnownProp, exact_key: &KnownProp, out: &mut String| {
            let exact = item.time(exact_key);
            match (exact, item.time(date_key)) {
                (Some(t), _) if fl.to_local(t, fl).time() != chrono::NaiveTime::MIN => {
                    Prop::new(name).raw(&stamp(t)).write(out)
                }
                (_, Some(d)) => Prop::new(name)
                    .param("VALUE", "DATE")
                    .raw(
                        &chrono::DateTime::from_timestamp(d, 0)
                            .unwrap_or_default()
                            .format("%Y%m%d")
                            .to_string(),
                    )
                    .write(out),
                (Some(t), None) => date_prop(name, t, fl).write(out),
                (None, None) => {}
            }
        };
    date_or_time(
        "DTSTART",
        &lids::PID_LID_TASK_START_DATE,
        &lids::PID_LID_COMMON_START,
        out,
    );
    date_or_time(
        "DUE",
        &lids::PID_LID_TASK_DUE_DATE,
        &lids::PID_LID_COMMON_END,
        out,
    );
    let status = match item.int(&lids::PID_LID_TASK_STATUS) {
        Some(1) => "IN-PROCESS",
        Some(2) => "COMPLETED",
        Some(4) => "CANCELLED",
        _ => "NEEDS-ACTION",
    };
    Prop::new("STATUS").raw(status).write(out);
    if let Some(groxide_mapi::PropValue::Double(p)) = item.get(&lids::PID_LID_PERCENT_COMPLETE) {
        Prop::new("PERCENT-COMPLETE")
            .raw(&((p * 100.0).round() as i64).to_string())
            .write(out);
    }
    if let Some(t) = item.time(&lids::PID_LID_TASK_DATE_COMPLETED) {
        Prop::new("COMPLETED").raw(&stamp(t)).write(out);
    }
    if let Some(p) = item
        .binary(&lids::PID_LID_TASK_RECURRENCE)
        .and_then(|b| RecurrencePattern::decode(b).ok())
    {
        let anchor = item
            .time(&lids::PID_LID_COMMON_START)
            .or_else(|| item.time(&lids::PID_LID_COMMON_END))
            .unwrap_or(0);
        if let Ok(mut rule) = rule_of_pattern(&p, fl.to_local(anchor, fl).time()) {
            if let Some(Until::Local(t)) = rule.until {
                rule.until = Some(Until::Date(t.date()));
            }
            Prop::new("RRULE").raw(&rule.to_string()).write(out);
        }
    }
    alarm(item, out);
    push_line(out, "END:VTODO");
    Ok(())
}

fn journal(item: &Item, fl: &Zone, out: &mut String) -> Result<(), ExportError> {
    push_line(out, "BEGIN:VJOURNAL");
    let uid = uid_of(item).ok_or(ExportError::Missing("UID (PidNameCalendarUid)"))?;
    Prop::new("UID").text(&uid).write(out);
    common(item, out);
    if let Some(t) = item.time(&lids::PID_LID_COMMON_START) {
        if fl.to_local(t, fl).time() == chrono::NaiveTime::MIN {
            date_prop("DTSTART", t, fl).write(out);
        } else {
            Prop::new("DTSTART").raw(&stamp(t)).write(out);
        }
    }
    push_line(out, "END:VJOURNAL");
    Ok(())
}
