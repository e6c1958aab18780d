//! iCalendar → items.

use crate::charset::decode_text;
use crate::error::{ParseError, ParseErrorKind};
use crate::goid::GlobalObjectId;
use crate::item::{
    Attachment, AttachmentContent, AttendeeRole, Item, ItemClass, PropMap, Recipient,
    ResponseStatus,
};
use crate::recur::convert::pattern_of_rule;
use crate::recur::pattern::{
    AppointmentRecurrencePattern, ExceptionInfo, RecurFrequency, minutes_of,
};
use crate::recur::{RecurRule, Until, Zone};
use crate::text::lines::{Block, logical_lines, split};
use crate::tz::{TzDefinition, TzReg, zone_for_tzid};
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameterName,
    ICalendarProperty, ICalendarValue,
};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use groxide_mapi::{PropValue, lids, tags};
use std::collections::HashMap;

/// How to read a calendar.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The zone of floating times and all-day dates (the owner's zone).
    /// `None`: UTC.
    pub floating_zone: Option<chrono_tz::Tz>,
    /// The store owner's address: decides PidLidResponseStatus and whether
    /// a meeting was received or organised.
    pub owner: Option<String>,
    /// Most components read from one input.
    pub max_components: usize,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            floating_zone: None,
            owner: None,
            max_components: 100_000,
        }
    }
}

/// The result of reading a calendar.
#[derive(Debug, Clone, Default)]
pub struct CalendarImport {
    /// One entry per object (a UID's series with its overrides, or a task,
    /// or a journal entry), in input order.
    pub items: Vec<Result<Item, ParseError>>,
    /// Some line was not UTF-8 and was decoded from a legacy charset.
    pub transcoded: bool,
}

/// Reads every calendar object of `input`.
pub fn parse_calendar(input: &[u8], opts: &ImportOptions) -> CalendarImport {
    let decoded = decode_text(input);
    let stream = split(logical_lines(&decoded.text));
    let mut out = CalendarImport {
        items: vec![],
        transcoded: decoded.transcoded,
    };
    let mut seen = 0usize;
    for top in stream.components {
        let cal = match top {
            Ok(b) => b,
            Err(e) => {
                out.items.push(Err(e));
                continue;
            }
        };
        let (props, children): (Vec<_>, Vec<Block>) = match cal.kind.as_str() {
            "VCALENDAR" => (cal.props.clone(), cal.children.clone()),
            "VEVENT" | "VTODO" | "VJOURNAL" => (vec![], vec![cal.clone()]),
            _ => {
                out.items.push(Err(cal.error(
                    None,
                    ParseErrorKind::Unsupported(format!("a top-level {}", cal.kind)),
                )));
                continue;
            }
        };
        let timezones: Vec<&Block> = children.iter().filter(|c| c.kind == "VTIMEZONE").collect();
        let mut groups: Vec<(String, Vec<&Block>)> = Vec::new();
        for c in &children {
            match c.kind.as_str() {
                "VTIMEZONE" => continue,
                "VEVENT" | "VTODO" | "VJOURNAL" => {}
                other => {
                    out.items.push(Err(c.error(
                        None,
                        ParseErrorKind::Unsupported(format!("component {other}")),
                    )));
                    continue;
                }
            }
            seen += 1;
            if seen > opts.max_components {
                out.items.push(Err(c.error(
                    None,
                    ParseErrorKind::TooLarge(format!(
                        "more than {} components",
                        opts.max_components
                    )),
                )));
                return out;
            }
            let uid = c
                .prop("UID")
                .map(|l| l.value().trim().to_owned())
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| synthetic_uid(c));
            match groups
                .iter_mut()
                .find(|(u, g)| *u == uid && g.first().is_some_and(|f| f.kind == c.kind))
            {
                Some((_, g)) => g.push(c),
                None => groups.push((uid, vec![c])),
            }
        }
        for (uid, group) in groups {
            out.items
                .push(convert_group(&uid, &props, &timezones, &group, opts));
        }
    }
    out
}

/// A stable UID for a component that has none: a hash of its text.
fn synthetic_uid(c: &Block) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in c.raw().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}@uid.groxide.invalid")
}

/// The VCALENDAR of one object: calendar properties (no METHOD), the
/// VTIMEZONEs its components use, its components.
fn object_text(
    cal_props: &[crate::text::lines::Line],
    timezones: &[&Block],
    group: &[&Block],
) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\n");
    let mut has_version = false;
    for p in cal_props {
        if p.name == "METHOD" {
            continue;
        }
        has_version |= p.name == "VERSION";
        s.push_str(&p.raw);
        s.push_str("\r\n");
    }
    if !has_version {
        s.push_str("VERSION:2.0\r\n");
    }
    let mut used: Vec<String> = Vec::new();
    for c in group {
        collect_tzids(c, &mut used);
    }
    for tz in timezones {
        if let Some(id) = tz.prop("TZID").map(|l| l.value().trim().to_owned())
            && used.contains(&id)
        {
            s.push_str(&tz.raw());
        }
    }
    for c in group {
        s.push_str(&c.raw());
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn collect_tzids(b: &Block, out: &mut Vec<String>) {
    for l in &b.props {
        if let Some(t) = l.param("TZID")
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    for c in &b.children {
        collect_tzids(c, out);
    }
}

/// The zones of an object's TZIDs.
pub(crate) struct Zones {
    map: HashMap<String, Zone>,
    /// The zone of floating and all-day times.
    pub floating: Zone,
}

impl Zones {
    pub(crate) fn new(timezones: &[&Block], floating: Option<chrono_tz::Tz>) -> Zones {
        let mut map = HashMap::new();
        for tz in timezones {
            let Some(id) = tz.prop("TZID").map(|l| l.value().trim().to_owned()) else {
                continue;
            };
            map.insert(id.clone(), zone_of_vtimezone(&id, tz));
        }
        Zones {
            map,
            floating: floating.map(Zone::Iana).unwrap_or(Zone::Utc),
        }
    }

    pub(crate) fn get(&self, tzid: &str) -> Option<Zone> {
        self.map
            .get(tzid)
            .cloned()
            .or_else(|| zone_for_tzid(tzid).map(Zone::Iana))
    }
}

/// The zone a VTIMEZONE stands for: its TZID or X-LIC-LOCATION if they
/// name a known zone, else the Windows zone with the same rules, else its
/// own rules.
fn zone_of_vtimezone(tzid: &str, tz: &Block) -> Zone {
    if let Some(z) = zone_for_tzid(tzid) {
        return Zone::Iana(z);
    }
    if let Some(z) = tz
        .prop("X-LIC-LOCATION")
        .and_then(|l| zone_for_tzid(l.value()))
    {
        return Zone::Iana(z);
    }
    let Some(reg) = reg_of_vtimezone(tz) else {
        return Zone::Utc;
    };
    crate::tz::zone_of_rules(&reg, tzid, 2024)
}

/// The yearly rules of a VTIMEZONE's latest STANDARD and DAYLIGHT parts.
fn reg_of_vtimezone(tz: &Block) -> Option<TzReg> {
    let latest = |kind: &str| {
        tz.children
            .iter()
            .filter(|c| c.kind == kind)
            .max_by_key(|c| {
                c.prop("DTSTART")
                    .map(|l| l.value().to_owned())
                    .unwrap_or_default()
            })
    };
    let offset = |b: &Block| -> Option<i32> {
        let v = b.prop("TZOFFSETTO")?.value().trim().to_owned();
        let sign = if v.starts_with('-') { -1 } else { 1 };
        let digits: String = v.chars().filter(char::is_ascii_digit).collect();
        let h: i32 = digits.get(0..2)?.parse().ok()?;
        let m: i32 = digits.get(2..4)?.parse().ok()?;
        Some(sign * (h * 60 + m))
    };
    let std = latest("STANDARD")?;
    let std_off = offset(std)?;
    let mut reg = TzReg {
        bias: -std_off,
        ..TzReg::default()
    };
    if let Some(dst) = latest("DAYLIGHT") {
        let dst_off = offset(dst)?;
        reg.daylight_bias = -(dst_off - std_off);
        reg.daylight_date = transition_rule(dst)?;
        reg.standard_date = transition_rule(std)?;
    }
    Some(reg)
}

fn transition_rule(b: &Block) -> Option<crate::tz::SystemTime> {
    let start =
        NaiveDateTime::parse_from_str(b.prop("DTSTART")?.value().trim(), "%Y%m%dT%H%M%S").ok()?;
    let rule = RecurRule::parse(b.prop("RRULE")?.value()).ok()?;
    let month = *rule.by_month.first()?;
    let day = rule.by_day.first()?;
    let week = match day.ordinal? {
        o @ 1..=4 => o as u16,
        _ => 5,
    };
    Some(crate::tz::SystemTime {
        year: 0,
        month: u16::from(month),
        day_of_week: day.weekday.num_days_from_sunday() as u16,
        day: week,
        hour: start.hour() as u16,
        minute: start.minute() as u16,
        ..crate::tz::SystemTime::default()
    })
}

/// A DATE or DATE-TIME value with its zone.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum When {
    /// A DATE.
    Date(NaiveDate),
    /// A DATE-TIME in a zone (UTC, a TZID, or floating).
    Time(NaiveDateTime, Zone),
}

impl When {
    pub(crate) fn local(&self) -> NaiveDateTime {
        match self {
            When::Date(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default(),
            When::Time(t, _) => *t,
        }
    }
    pub(crate) fn zone(&self) -> Zone {
        match self {
            When::Date(_) => Zone::Floating,
            When::Time(_, z) => z.clone(),
        }
    }
    pub(crate) fn utc(&self, floating: &Zone) -> i64 {
        self.zone().to_utc(self.local(), floating)
    }
}

/// One component with its calcard parse and its lines.
pub(crate) struct Comp<'a> {
    pub(crate) block: &'a Block,
    pub(crate) cal: &'a ICalendarComponent,
    pub(crate) all: &'a ICalendar,
}

impl<'a> Comp<'a> {
    pub(crate) fn entries(
        &self,
        p: ICalendarProperty,
    ) -> impl Iterator<Item = &'a ICalendarEntry> + 'a {
        self.cal.entries.iter().filter(move |e| e.name == p)
    }
    pub(crate) fn entry(&self, p: ICalendarProperty) -> Option<&'a ICalendarEntry> {
        self.cal.entries.iter().find(|e| e.name == p)
    }
    pub(crate) fn text(&self, p: ICalendarProperty) -> Option<String> {
        let e = self.entry(p)?;
        let parts: Vec<&str> = e.values.iter().filter_map(|v| v.as_text()).collect();
        (!parts.is_empty()).then(|| parts.join(","))
    }
    pub(crate) fn other(&self, name: &str) -> Option<String> {
        self.cal
            .entries
            .iter()
            .find(
                |e| matches!(&e.name, ICalendarProperty::Other(n) if n.eq_ignore_ascii_case(name)),
            )
            .and_then(|e| e.values.first()?.as_text().map(str::to_owned))
    }
    pub(crate) fn err(&self, name: &str, kind: ParseErrorKind) -> ParseError {
        self.block.error(Some(name), kind)
    }
    pub(crate) fn when(
        &self,
        p: ICalendarProperty,
        zones: &Zones,
    ) -> Result<Option<When>, ParseError> {
        let name = p.as_str().to_owned();
        let Some(e) = self.entry(p) else {
            return Ok(None);
        };
        when_of(e, zones).map(Some).map_err(|k| self.err(&name, k))
    }
    pub(crate) fn alarms(&self) -> Vec<&'a ICalendarComponent> {
        self.cal
            .component_ids
            .iter()
            .filter_map(|id| self.all.components.get(*id as usize))
            .filter(|c| c.component_type == ICalendarComponentType::VAlarm)
            .collect()
    }
}

/// The value of a DATE/DATE-TIME entry.
pub(crate) fn when_of(e: &ICalendarEntry, zones: &Zones) -> Result<When, ParseErrorKind> {
    let v = e.values.first().ok_or(ParseErrorKind::Missing)?;
    value_when(v, e.tz_id(), zones)
}

pub(crate) fn value_when(
    v: &ICalendarValue,
    tzid: Option<&str>,
    zones: &Zones,
) -> Result<When, ParseErrorKind> {
    let ICalendarValue::PartialDateTime(p) = v else {
        return Err(ParseErrorKind::BadValue(format!(
            "{:?} is not a date or date-time",
            v.as_text().unwrap_or("value")
        )));
    };
    let r = p
        .to_date_time()
        .ok_or_else(|| ParseErrorKind::BadValue("not a valid date".into()))?;
    if !p.has_time() {
        return Ok(When::Date(r.date_time.date()));
    }
    if let Some(o) = r.offset {
        let secs = o.local_minus_utc();
        return Ok(When::Time(
            r.date_time,
            if secs == 0 {
                Zone::Utc
            } else {
                Zone::Fixed(secs / 60)
            },
        ));
    }
    match tzid {
        Some(id) => {
            let z = zones.get(id).ok_or_else(|| {
                ParseErrorKind::BadValue(format!(
                    "TZID {id:?} has no VTIMEZONE and is no known zone"
                ))
            })?;
            Ok(When::Time(r.date_time, z))
        }
        None => Ok(When::Time(r.date_time, Zone::Floating)),
    }
}

/// All date values of EXDATE/RDATE entries.
fn dates_of(c: &Comp<'_>, p: ICalendarProperty, zones: &Zones) -> Result<Vec<When>, ParseError> {
    let name = p.as_str().to_owned();
    let mut out = Vec::new();
    for e in c.entries(p) {
        for v in &e.values {
            match v {
                ICalendarValue::Period(_) => {
                    return Err(c.err(&name, ParseErrorKind::Unsupported("PERIOD values".into())));
                }
                v => out.push(value_when(v, e.tz_id(), zones).map_err(|k| c.err(&name, k))?),
            }
        }
    }
    Ok(out)
}

fn duration_secs(d: &calcard::icalendar::ICalendarDuration) -> i64 {
    let s = i64::from(d.weeks) * 604_800
        + i64::from(d.days) * 86_400
        + i64::from(d.hours) * 3600
        + i64::from(d.minutes) * 60
        + i64::from(d.seconds);
    if d.neg { -s } else { s }
}

fn convert_group(
    uid: &str,
    cal_props: &[crate::text::lines::Line],
    timezones: &[&Block],
    group: &[&Block],
    opts: &ImportOptions,
) -> Result<Item, ParseError> {
    let text = object_text(cal_props, timezones, group);
    let first = group[0];
    let ical = match calcard::Parser::new(&text).entry() {
        calcard::Entry::ICalendar(c) => c,
        other => {
            return Err(first.error(
                None,
                ParseErrorKind::Structure(format!("calcard could not read the object: {other:?}")),
            ));
        }
    };
    let cal_comps: Vec<&ICalendarComponent> = ical
        .components
        .iter()
        .filter(|c| {
            matches!(
                c.component_type,
                ICalendarComponentType::VEvent
                    | ICalendarComponentType::VTodo
                    | ICalendarComponentType::VJournal
            )
        })
        .collect();
    if cal_comps.len() != group.len() {
        return Err(first.error(
            None,
            ParseErrorKind::Structure("components could not be matched to their lines".into()),
        ));
    }
    let comps: Vec<Comp<'_>> = group
        .iter()
        .zip(cal_comps)
        .map(|(b, c)| Comp {
            block: b,
            cal: c,
            all: &ical,
        })
        .collect();
    let zones = Zones::new(timezones, opts.floating_zone);
    let mut item = match first.kind.as_str() {
        "VEVENT" => event_item(uid, &comps, &zones, opts)?,
        "VTODO" => task_item(uid, &comps[0], &zones)?,
        _ => note_item(uid, &comps[0], &zones)?,
    };
    item.original = Some(text.into_bytes());
    Ok(item)
}

/// Properties every kind shares: subject, body, categories, sensitivity,
/// importance, creation and modification times.
fn common_props(item: &mut Item, c: &Comp<'_>) {
    if let Some(s) = c.text(ICalendarProperty::Summary) {
        item.set_str(tags::PR_SUBJECT, s);
    }
    if let Some(s) = c.text(ICalendarProperty::Description) {
        item.set_str(tags::PR_BODY, s);
    }
    let cats: Vec<String> = c
        .entries(ICalendarProperty::Categories)
        .flat_map(|e| e.values.iter().filter_map(|v| v.as_text()))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if !cats.is_empty() {
        item.set(&lids::PID_NAME_KEYWORDS, PropValue::MvUnicode(cats));
    }
    if let Some(class) = c.text(ICalendarProperty::Class) {
        let s = match class.to_ascii_uppercase().as_str() {
            "PRIVATE" => tags::SENSITIVITY_PRIVATE,
            "CONFIDENTIAL" => tags::SENSITIVITY_COMPANY_CONFIDENTIAL,
            _ => tags::SENSITIVITY_NONE,
        };
        item.set(tags::PR_SENSITIVITY, PropValue::Long(s));
        item.set(
            &lids::PID_LID_PRIVATE,
            PropValue::Bool(s == tags::SENSITIVITY_PRIVATE),
        );
    }
    if let Some(ICalendarValue::Integer(p)) = c
        .entry(ICalendarProperty::Priority)
        .and_then(|e| e.values.first())
    {
        let imp = match p {
            1..=4 => Some(tags::IMPORTANCE_HIGH),
            5 => Some(tags::IMPORTANCE_NORMAL),
            6..=9 => Some(tags::IMPORTANCE_LOW),
            _ => None,
        };
        if let Some(i) = imp {
            item.set(tags::PR_IMPORTANCE, PropValue::Long(i));
        }
    }
    let stamp = |p| -> Option<i64> {
        let e = c.entry(p)?;
        let z = Zones {
            map: HashMap::new(),
            floating: Zone::Utc,
        };
        when_of(e, &z).ok().map(|w| w.utc(&Zone::Utc))
    };
    if let Some(t) = stamp(ICalendarProperty::Created) {
        item.set_time(tags::PR_CREATION_TIME, t);
    }
    if let Some(t) = stamp(ICalendarProperty::LastModified) {
        item.set_time(tags::PR_LAST_MODIFICATION_TIME, t);
    }
}

/// Reminder properties from the first display or audio VALARM.
fn reminder_props(
    item: &mut Item,
    c: &Comp<'_>,
    start_utc: Option<i64>,
    end_utc: Option<i64>,
    zones: &Zones,
) -> Result<(), ParseError> {
    let alarm = c.alarms().into_iter().find(|a| {
        a.entries.iter().any(|e| {
            e.name == ICalendarProperty::Action
                && e.values.first().and_then(|v| v.as_text()).is_some_and(|t| {
                    !t.eq_ignore_ascii_case("EMAIL") && !t.eq_ignore_ascii_case("NONE")
                })
        })
    });
    let Some(alarm) = alarm else {
        item.set(&lids::PID_LID_REMINDER_SET, PropValue::Bool(false));
        return Ok(());
    };
    let trigger = alarm
        .entries
        .iter()
        .find(|e| e.name == ICalendarProperty::Trigger);
    let Some(trigger) = trigger else {
        return Err(c.err(
            "VALARM",
            ParseErrorKind::BadValue("VALARM without TRIGGER".into()),
        ));
    };
    let signal = match trigger.values.first() {
        Some(ICalendarValue::Duration(d)) => {
            let related_end = trigger.params.iter().any(|p| {
                p.name == ICalendarParameterName::Related
                    && p.value
                        .as_text()
                        .is_some_and(|t| t.eq_ignore_ascii_case("END"))
            });
            let base = if related_end {
                end_utc.or(start_utc)
            } else {
                start_utc
            };
            base.map(|b| b + duration_secs(d))
        }
        Some(v) => Some(
            value_when(v, trigger.tz_id(), zones)
                .map_err(|k| c.err("TRIGGER", k))?
                .utc(&zones.floating),
        ),
        None => None,
    };
    item.set(&lids::PID_LID_REMINDER_SET, PropValue::Bool(true));
    if let Some(sig) = signal {
        let base = start_utc.unwrap_or(sig);
        let delta_min = ((base - sig) / 60).clamp(0, i64::from(i32::MAX)) as i32;
        item.set(&lids::PID_LID_REMINDER_DELTA, PropValue::Long(delta_min));
        item.set_time(&lids::PID_LID_REMINDER_TIME, base);
        item.set_time(&lids::PID_LID_REMINDER_SIGNAL_TIME, sig);
    }
    Ok(())
}

/// Busy status from X-MICROSOFT-CDO-BUSYSTATUS, else TRANSP (else busy).
fn busy_status(c: &Comp<'_>) -> i32 {
    if let Some(s) = c.other("X-MICROSOFT-CDO-BUSYSTATUS") {
        return match s.trim().to_ascii_uppercase().as_str() {
            "FREE" => 0,
            "TENTATIVE" => 1,
            "OOF" => 3,
            "WORKINGELSEWHERE" => 4,
            _ => 2,
        };
    }
    match c.text(ICalendarProperty::Transp) {
        Some(t) if t.eq_ignore_ascii_case("TRANSPARENT") => 0,
        _ => 2,
    }
}

fn set_times(item: &mut Item, start: i64, end: i64, all_day: bool) {
    item.set_time(&lids::PID_LID_APPOINTMENT_START_WHOLE, start);
    item.set_time(&lids::PID_LID_APPOINTMENT_END_WHOLE, end);
    item.set_time(tags::PR_START_DATE, start);
    item.set_time(tags::PR_END_DATE, end);
    item.set_time(&lids::PID_LID_COMMON_START, start);
    item.set_time(&lids::PID_LID_COMMON_END, end);
    let minutes = ((end - start) / 60).clamp(0, i64::from(i32::MAX)) as i32;
    item.set(
        &lids::PID_LID_APPOINTMENT_DURATION,
        PropValue::Long(minutes),
    );
    item.set(
        &lids::PID_LID_APPOINTMENT_SUB_TYPE,
        PropValue::Bool(all_day),
    );
}

fn address_of(e: &ICalendarEntry) -> String {
    e.calendar_address().unwrap_or_default().trim().to_owned()
}

fn param_text(e: &ICalendarEntry, n: ICalendarParameterName) -> Option<String> {
    e.params
        .iter()
        .find(|p| p.name == n)
        .and_then(|p| p.value.as_text().map(str::to_owned))
}

/// Attendees and organizer as recipients.
fn recipients(c: &Comp<'_>) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    let organizer = c.entry(ICalendarProperty::Organizer).map(|e| {
        (
            address_of(e),
            param_text(e, ICalendarParameterName::Cn).unwrap_or_default(),
        )
    });
    for e in c.entries(ICalendarProperty::Attendee) {
        let address = address_of(e);
        let role_text = param_text(e, ICalendarParameterName::Role)
            .unwrap_or_default()
            .to_ascii_uppercase();
        let cutype = param_text(e, ICalendarParameterName::Cutype)
            .unwrap_or_default()
            .to_ascii_uppercase();
        let role = if cutype == "RESOURCE" || cutype == "ROOM" {
            AttendeeRole::Resource
        } else if role_text == "OPT-PARTICIPANT" || role_text == "NON-PARTICIPANT" {
            AttendeeRole::Optional
        } else {
            AttendeeRole::Required
        };
        let response = match param_text(e, ICalendarParameterName::Partstat)
            .map(|s| s.to_ascii_uppercase())
            .as_deref()
        {
            Some("ACCEPTED") => ResponseStatus::Accepted,
            Some("DECLINED") => ResponseStatus::Declined,
            Some("TENTATIVE") => ResponseStatus::Tentative,
            Some("NEEDS-ACTION") => ResponseStatus::NotResponded,
            _ => ResponseStatus::None,
        };
        let is_org = organizer
            .as_ref()
            .is_some_and(|(a, _)| !a.is_empty() && a.eq_ignore_ascii_case(&address));
        out.push(Recipient {
            name: param_text(e, ICalendarParameterName::Cn).unwrap_or_default(),
            address,
            role,
            response,
            organizer: is_org,
            extra: PropMap::new(),
        });
    }
    if let Some((addr, name)) = organizer
        && !out.iter().any(|r| r.organizer)
    {
        out.insert(
            0,
            Recipient {
                name,
                address: addr,
                role: AttendeeRole::Required,
                response: ResponseStatus::Organized,
                organizer: true,
                extra: PropMap::new(),
            },
        );
    }
    out
}

fn meeting_props(item: &mut Item, recips: &[Recipient], cancelled: bool, opts: &ImportOptions) {
    let meeting = !recips.is_empty();
    let owner_is = |r: &Recipient| {
        opts.owner
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case(&r.address))
    };
    let organizer = recips.iter().find(|r| r.organizer);
    let mut flags = 0;
    if meeting {
        flags |= 0x1; // asfMeeting
        if organizer.is_some_and(|o| !owner_is(o)) && opts.owner.is_some() {
            flags |= 0x2; // asfReceived
        }
    }
    if cancelled {
        flags |= 0x4; // asfCanceled
    }
    item.set(
        &lids::PID_LID_APPOINTMENT_STATE_FLAGS,
        PropValue::Long(flags),
    );
    let response = if !meeting {
        ResponseStatus::None
    } else if organizer.is_some_and(owner_is) {
        ResponseStatus::Organized
    } else if let Some(me) = recips.iter().find(|r| owner_is(r)) {
        me.response
    } else {
        ResponseStatus::None
    };
    item.set(
        &lids::PID_LID_RESPONSE_STATUS,
        PropValue::Long(response.code()),
    );
    if let Some(o) = organizer {
        item.set_str(
            tags::PR_SENT_REPRESENTING_NAME,
            if o.name.is_empty() {
                o.address.clone()
            } else {
                o.name.clone()
            },
        );
        if !o.address.is_empty() {
            item.set_str(tags::PR_SENT_REPRESENTING_ADDRTYPE, "SMTP");
            item.set_str(tags::PR_SENT_REPRESENTING_EMAIL_ADDRESS, o.address.clone());
            item.set_str(tags::PR_SENT_REPRESENTING_SMTP_ADDRESS, o.address.clone());
        }
    }
    let list = |role: AttendeeRole| -> String {
        recips
            .iter()
            .filter(|r| !r.organizer && r.role == role)
            .map(|r| {
                if r.name.is_empty() {
                    r.address.clone()
                } else {
                    r.name.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if meeting {
        item.set_str(
            &lids::PID_LID_TO_ATTENDEES_STRING,
            list(AttendeeRole::Required),
        );
        item.set_str(
            &lids::PID_LID_CC_ATTENDEES_STRING,
            list(AttendeeRole::Optional),
        );
    }
}

/// The zone and its Windows description for the MAPI time-zone properties.
pub(crate) fn zone_props(
    item: &mut Item,
    start: &When,
    end: &When,
    recurring: bool,
    floating: &Zone,
) {
    let year = start.local().year();
    let def_of = |w: &When, recur: bool| -> Option<TzDefinition> {
        let z = match w.zone() {
            Zone::Floating => floating.clone(),
            z => z,
        };
        Some(match z {
            Zone::Iana(tz) => {
                let key = crate::tz::windows_name_for(tz, year).unwrap_or(tz.name());
                TzDefinition::of_zone(tz, key, year, recur)
            }
            Zone::Utc | Zone::Floating => TzDefinition::of_zone(chrono_tz::UTC, "UTC", year, recur),
            Zone::Fixed(m) => TzDefinition {
                key_name: format!(
                    "UTC{}{:02}:{:02}",
                    if m < 0 { '-' } else { '+' },
                    m.abs() / 60,
                    m.abs() % 60
                ),
                rules: vec![crate::tz::TzRule {
                    flags: crate::tz::tzdef::TZRULE_FLAG_EFFECTIVE_TZREG | u16::from(recur),
                    start_year: 1601,
                    reg: TzReg {
                        bias: -m,
                        ..TzReg::default()
                    },
                }],
            },
            Zone::Rules(d) => d,
        })
    };
    if let Some(d) = def_of(start, false) {
        item.set(
            &lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_START_DISPLAY,
            PropValue::Binary(d.encode()),
        );
        if recurring {
            let r = def_of(start, true).unwrap_or(d.clone());
            item.set(
                &lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_RECUR,
                PropValue::Binary(r.encode()),
            );
            if let Some(rule) = r.rule_for_year(year) {
                item.set(
                    &lids::PID_LID_TIME_ZONE_STRUCT,
                    PropValue::Binary(rule.reg.encode_struct(0)),
                );
            }
            item.set_str(&lids::PID_LID_TIME_ZONE_DESCRIPTION, r.key_name.clone());
        }
    }
    if let Some(d) = def_of(end, false) {
        item.set(
            &lids::PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_END_DISPLAY,
            PropValue::Binary(d.encode()),
        );
    }
}

fn event_item(
    uid: &str,
    comps: &[Comp<'_>],
    zones: &Zones,
    opts: &ImportOptions,
) -> Result<Item, ParseError> {
    let fl = &zones.floating;
    let master_idx = comps
        .iter()
        .position(|c| c.entry(ICalendarProperty::RecurrenceId).is_none());
    let (master, overrides): (&Comp<'_>, Vec<&Comp<'_>>) = match master_idx {
        Some(i) => (
            &comps[i],
            comps
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| c)
                .collect(),
        ),
        // Only overrides (an invitation to one instance): the first stands alone.
        None => (&comps[0], vec![]),
    };
    let mut item = Item::new(ItemClass::Appointment);
    common_props(&mut item, master);
    let start = master
        .when(ICalendarProperty::Dtstart, zones)?
        .ok_or_else(|| master.err("DTSTART", ParseErrorKind::Missing))?;
    let all_day = matches!(start, When::Date(_));
    let end = match master.when(ICalendarProperty::Dtend, zones)? {
        Some(e) => e,
        None => match master
            .entry(ICalendarProperty::Duration)
            .and_then(|e| e.values.first())
        {
            Some(ICalendarValue::Duration(d)) => When::Time(
                start
                    .local()
                    .checked_add_signed(Duration::seconds(duration_secs(d)))
                    .unwrap_or(start.local()),
                start.zone(),
            ),
            Some(_) => {
                return Err(master.err(
                    "DURATION",
                    ParseErrorKind::BadValue("not a duration".into()),
                ));
            }
            None if all_day => When::Date(
                start
                    .local()
                    .date()
                    .succ_opt()
                    .unwrap_or(start.local().date()),
            ),
            None => start.clone(),
        },
    };
    let start_utc = start.utc(fl);
    let end_utc = end.utc(fl).max(start_utc);
    if end.utc(fl) < start_utc {
        return Err(master.err(
            "DTEND",
            ParseErrorKind::BadValue("ends before it starts".into()),
        ));
    }
    set_times(&mut item, start_utc, end_utc, all_day);
    if let Some(l) = master.text(ICalendarProperty::Location) {
        item.set_str(&lids::PID_LID_LOCATION, l);
    }
    let goid = GlobalObjectId::from_uid(uid);
    item.set(
        &lids::PID_LID_GLOBAL_OBJECT_ID,
        PropValue::Binary(goid.encode()),
    );
    item.set(
        &lids::PID_LID_CLEAN_GLOBAL_OBJECT_ID,
        PropValue::Binary(goid.clean().encode()),
    );
    if let Some(ICalendarValue::Integer(s)) = master
        .entry(ICalendarProperty::Sequence)
        .and_then(|e| e.values.first())
    {
        item.set(
            &lids::PID_LID_APPOINTMENT_SEQUENCE,
            PropValue::Long(i32::try_from(*s).unwrap_or(0)),
        );
    }
    let busy = busy_status(master);
    item.set(&lids::PID_LID_BUSY_STATUS, PropValue::Long(busy));
    if let Some(s) = master.other("X-MICROSOFT-CDO-INTENDEDSTATUS") {
        let v = match s.trim().to_ascii_uppercase().as_str() {
            "FREE" => 0,
            "TENTATIVE" => 1,
            "OOF" => 3,
            "WORKINGELSEWHERE" => 4,
            _ => 2,
        };
        item.set(&lids::PID_LID_INTENDED_BUSY_STATUS, PropValue::Long(v));
    }
    let cancelled = master
        .text(ICalendarProperty::Status)
        .is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"));
    let recips = recipients(master);
    meeting_props(&mut item, &recips, cancelled, opts);
    item.recipients = recips;
    reminder_props(&mut item, master, Some(start_utc), Some(end_utc), zones)?;

    // Recurrence.
    let rule = match master
        .entry(ICalendarProperty::Rrule)
        .and_then(|e| e.values.first())
    {
        Some(ICalendarValue::RecurrenceRule(r)) => {
            Some(RecurRule::from_ical(r).map_err(|k| master.err("RRULE", k))?)
        }
        Some(_) => {
            return Err(master.err(
                "RRULE",
                ParseErrorKind::BadValue("not a recurrence rule".into()),
            ));
        }
        None => None,
    };
    let recurring = rule.is_some();
    item.set(&lids::PID_LID_RECURRING, PropValue::Bool(recurring));
    item.set(&lids::PID_LID_IS_RECURRING, PropValue::Bool(recurring));
    zone_props(&mut item, &start, &end, recurring, fl);
    let duration = end_utc - start_utc;
    if let Some(rule) = rule {
        let start_local = start.local();
        let series_zone = match start.zone() {
            Zone::Floating => fl.clone(),
            z => z,
        };
        let until_local = rule.until.map(|u| match u {
            Until::Date(d) => d.and_hms_opt(23, 59, 59).unwrap_or_default(),
            Until::Local(t) => t,
            Until::Utc(t) => series_zone.to_local(t.and_utc().timestamp(), fl),
        });
        let exdates = dates_of(master, ICalendarProperty::Exdate, zones)?;
        let _rdates = dates_of(master, ICalendarProperty::Rdate, zones)?;
        match pattern_of_rule(&rule, start_local, until_local) {
            Ok(mut pattern) => {
                let mut deleted: Vec<u32> = exdates
                    .iter()
                    .map(|w| match w {
                        When::Date(d) => minutes_of(d.and_hms_opt(0, 0, 0).unwrap_or_default()),
                        When::Time(t, z) => {
                            let local = series_zone.to_local(z.to_utc(*t, fl), fl);
                            minutes_of(local.date().and_hms_opt(0, 0, 0).unwrap_or_default())
                        }
                    })
                    .collect();
                let mut modified = Vec::new();
                let mut exceptions = Vec::new();
                let mut ov: Vec<(NaiveDateTime, &Comp<'_>)> = Vec::new();
                for o in &overrides {
                    let rid = o
                        .when(ICalendarProperty::RecurrenceId, zones)?
                        .ok_or_else(|| o.err("RECURRENCE-ID", ParseErrorKind::Missing))?;
                    let rid_local = match &rid {
                        When::Date(d) => d.and_time(start_local.time()),
                        When::Time(t, z) => series_zone.to_local(z.to_utc(*t, fl), fl),
                    };
                    ov.push((rid_local, o));
                }
                ov.sort_by_key(|(t, _)| *t);
                for (rid_local, o) in ov {
                    deleted.push(minutes_of(
                        rid_local.date().and_hms_opt(0, 0, 0).unwrap_or_default(),
                    ));
                    if o.text(ICalendarProperty::Status)
                        .is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"))
                    {
                        continue;
                    }
                    let (ex, attachment) =
                        exception_of(o, &item, rid_local, &series_zone, duration, zones, opts)?;
                    modified.push(minutes_of(
                        time_of_local(ex.start)
                            .date()
                            .and_hms_opt(0, 0, 0)
                            .unwrap_or_default(),
                    ));
                    exceptions.push(ex);
                    item.attachments.push(attachment);
                }
                deleted.sort_unstable();
                deleted.dedup();
                modified.sort_unstable();
                pattern.deleted_instance_dates = deleted;
                pattern.modified_instance_dates = modified;
                let start_off = start_local.hour() * 60 + start_local.minute();
                let arp = AppointmentRecurrencePattern {
                    recurrence: pattern.clone(),
                    writer_version2: 0x3009,
                    start_time_offset: start_off,
                    end_time_offset: start_off
                        .saturating_add(u32::try_from(duration / 60).unwrap_or(u32::MAX)),
                    exceptions,
                };
                item.set(
                    &lids::PID_LID_APPOINTMENT_RECUR,
                    PropValue::Binary(arp.encode()),
                );
                let rtype = match pattern.frequency {
                    RecurFrequency::Daily => 1,
                    RecurFrequency::Weekly => 2,
                    RecurFrequency::Monthly => 3,
                    RecurFrequency::Yearly => 4,
                };
                item.set(&lids::PID_LID_RECURRENCE_TYPE, PropValue::Long(rtype));
                item.set_str(&lids::PID_LID_RECURRENCE_PATTERN, describe_rule(&rule));
                let first = crate::recur::pattern::time_of_minutes(pattern.start_date);
                item.set_time(&lids::PID_LID_CLIP_START, series_zone.to_utc(first, fl));
                let clip_end = if pattern.ends() {
                    series_zone.to_utc(crate::recur::pattern::time_of_minutes(pattern.end_date), fl)
                } else {
                    no_end_clip()
                };
                item.set_time(&lids::PID_LID_CLIP_END, clip_end);
            }
            Err(e) => {
                // Kept in the original only; MAPI sees the first instance.
                item.set_str(&lids::PID_LID_RECURRENCE_PATTERN, format!("{rule} ({e})"));
                item.set(&lids::PID_LID_RECURRING, PropValue::Bool(false));
            }
        }
    } else {
        item.set_time(&lids::PID_LID_CLIP_START, start_utc);
        item.set_time(&lids::PID_LID_CLIP_END, end_utc);
    }
    Ok(item)
}

/// 4500-08-31 23:59 UTC: PidLidClipEnd of a series without end.
fn no_end_clip() -> i64 {
    NaiveDate::from_ymd_opt(4500, 8, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 0))
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(i64::MAX / 2)
}

fn time_of_local(m: u32) -> NaiveDateTime {
    crate::recur::pattern::time_of_minutes(m)
}

/// A changed instance: its ExceptionInfo and its embedded message.
fn exception_of(
    o: &Comp<'_>,
    master: &Item,
    rid_local: NaiveDateTime,
    series_zone: &Zone,
    series_duration: i64,
    zones: &Zones,
    opts: &ImportOptions,
) -> Result<(ExceptionInfo, Attachment), ParseError> {
    let fl = &zones.floating;
    let start = o
        .when(ICalendarProperty::Dtstart, zones)?
        .unwrap_or(When::Time(rid_local, series_zone.clone()));
    let start_utc = start.utc(fl);
    let end_utc = match o.when(ICalendarProperty::Dtend, zones)? {
        Some(e) => e.utc(fl),
        None => match o
            .entry(ICalendarProperty::Duration)
            .and_then(|e| e.values.first())
        {
            Some(ICalendarValue::Duration(d)) => start_utc + duration_secs(d),
            _ => start_utc + series_duration,
        },
    }
    .max(start_utc);
    let all_day = matches!(start, When::Date(_));
    let mut ex = Item::new(ItemClass::Exception);
    common_props(&mut ex, o);
    set_times(&mut ex, start_utc, end_utc, all_day);
    if let Some(l) = o.text(ICalendarProperty::Location) {
        ex.set_str(&lids::PID_LID_LOCATION, l);
    }
    let busy = busy_status(o);
    ex.set(&lids::PID_LID_BUSY_STATUS, PropValue::Long(busy));
    let rid_utc = series_zone.to_utc(rid_local, fl);
    ex.set_time(&lids::PID_LID_EXCEPTION_REPLACE_TIME, rid_utc);
    ex.set(&lids::PID_LID_RECURRING, PropValue::Bool(false));
    ex.set(&lids::PID_LID_IS_RECURRING, PropValue::Bool(true));
    ex.set(&lids::PID_LID_IS_EXCEPTION, PropValue::Bool(true));
    if let Some(g) = master
        .binary(&lids::PID_LID_CLEAN_GLOBAL_OBJECT_ID)
        .and_then(|b| GlobalObjectId::decode(b).ok())
    {
        let d = rid_local.date();
        let inst = g.for_instance(d.year() as u16, d.month() as u8, d.day() as u8);
        ex.set(
            &lids::PID_LID_GLOBAL_OBJECT_ID,
            PropValue::Binary(inst.encode()),
        );
        ex.set(
            &lids::PID_LID_CLEAN_GLOBAL_OBJECT_ID,
            PropValue::Binary(g.encode()),
        );
    }
    reminder_props(&mut ex, o, Some(start_utc), Some(end_utc), zones)?;
    let recips = recipients(o);
    let cancelled = false;
    meeting_props(&mut ex, &recips, cancelled, opts);
    ex.recipients = recips;
    let local_start = series_zone.to_local(start_utc, fl);
    let local_end = series_zone.to_local(end_utc, fl);
    let differs = |k: &groxide_mapi::KnownProp| ex.get(k) != master.get(k);
    let subject_differs = ex.get(tags::PR_SUBJECT) != master.get(tags::PR_SUBJECT);
    let info = ExceptionInfo {
        start: minutes_of(local_start),
        end: minutes_of(local_end),
        original_start: minutes_of(rid_local),
        subject: subject_differs.then(|| ex.str(tags::PR_SUBJECT).unwrap_or_default().to_owned()),
        location: differs(&lids::PID_LID_LOCATION).then(|| {
            ex.str(&lids::PID_LID_LOCATION)
                .unwrap_or_default()
                .to_owned()
        }),
        busy_status: differs(&lids::PID_LID_BUSY_STATUS).then_some(busy as u32),
        reminder_set: differs(&lids::PID_LID_REMINDER_SET)
            .then(|| u32::from(ex.bool(&lids::PID_LID_REMINDER_SET).unwrap_or(false))),
        reminder_delta: differs(&lids::PID_LID_REMINDER_DELTA)
            .then(|| ex.int(&lids::PID_LID_REMINDER_DELTA).unwrap_or(0) as u32),
        subtype: differs(&lids::PID_LID_APPOINTMENT_SUB_TYPE).then_some(u32::from(all_day)),
        exceptional_body: ex.get(tags::PR_BODY) != master.get(tags::PR_BODY),
        ..ExceptionInfo::default()
    };
    ex.set(
        &lids::PID_LID_F_EXCEPTIONAL_BODY,
        PropValue::Bool(info.exceptional_body),
    );
    let as_local_filetime = |t: NaiveDateTime| {
        PropValue::SysTime(groxide_mapi::filetime_from_unix(t.and_utc().timestamp()))
    };
    let mut props = PropMap::new();
    props.insert(
        tags::PR_ATTACHMENT_FLAGS.into(),
        PropValue::Long(tags::AFEXCEPTION),
    );
    props.insert(tags::PR_ATTACHMENT_HIDDEN.into(), PropValue::Bool(true));
    props.insert(
        tags::PR_EXCEPTION_STARTTIME.into(),
        as_local_filetime(local_start),
    );
    props.insert(
        tags::PR_EXCEPTION_ENDTIME.into(),
        as_local_filetime(local_end),
    );
    props.insert(
        tags::PR_EXCEPTION_REPLACETIME.into(),
        PropValue::SysTime(groxide_mapi::filetime_from_unix(rid_utc)),
    );
    props.insert(tags::PR_RENDERING_POSITION.into(), PropValue::Long(-1));
    if let Some(s) = ex.str(tags::PR_SUBJECT) {
        props.insert(
            tags::PR_DISPLAY_NAME.into(),
            PropValue::Unicode(s.to_owned()),
        );
    }
    Ok((
        info,
        Attachment {
            props,
            content: AttachmentContent::Embedded(Box::new(ex)),
        },
    ))
}

/// A short English description of a rule (PidLidRecurrencePattern).
fn describe_rule(r: &RecurRule) -> String {
    let unit = match r.freq {
        crate::recur::Freq::Daily => "day",
        crate::recur::Freq::Weekly => "week",
        crate::recur::Freq::Monthly => "month",
        crate::recur::Freq::Yearly => "year",
        _ => "period",
    };
    let every = if r.interval > 1 {
        format!("every {} {unit}s", r.interval)
    } else {
        format!("every {unit}")
    };
    let days: Vec<String> = r
        .by_day
        .iter()
        .map(|d| match d.ordinal {
            Some(o) => format!("{o} {}", d.weekday),
            None => d.weekday.to_string(),
        })
        .collect();
    let mut s = every;
    if !days.is_empty() {
        s.push_str(" on ");
        s.push_str(&days.join(", "));
    }
    if let Some(c) = r.count {
        s.push_str(&format!(", {c} times"));
    }
    s
}

fn task_item(uid: &str, c: &Comp<'_>, zones: &Zones) -> Result<Item, ParseError> {
    let fl = &zones.floating;
    let mut item = Item::new(ItemClass::Task);
    common_props(&mut item, c);
    item.set_str(&lids::PID_NAME_CALENDAR_UID, uid);
    // Task dates are the local date at midnight, kept as if UTC ([MS-OXOTASK] 2.2.2.2.4).
    let date_only = |w: &When| -> i64 {
        let local = match w {
            When::Date(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default(),
            When::Time(t, z) => match z {
                Zone::Floating => *t,
                z => fl.to_local(z.to_utc(*t, fl), fl),
            },
        };
        local
            .date()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp()
    };
    let start = c.when(ICalendarProperty::Dtstart, zones)?;
    let due = c.when(ICalendarProperty::Due, zones)?;
    if let Some(s) = &start {
        item.set_time(&lids::PID_LID_TASK_START_DATE, date_only(s));
        item.set_time(&lids::PID_LID_COMMON_START, s.utc(fl));
    }
    if let Some(d) = &due {
        item.set_time(&lids::PID_LID_TASK_DUE_DATE, date_only(d));
        item.set_time(&lids::PID_LID_COMMON_END, d.utc(fl));
    }
    let status_text = c
        .text(ICalendarProperty::Status)
        .unwrap_or_default()
        .to_ascii_uppercase();
    let mut status = match status_text.as_str() {
        "IN-PROCESS" => 1,
        "COMPLETED" => 2,
        "CANCELLED" => 4,
        _ => 0,
    };
    let percent = match c
        .entry(ICalendarProperty::PercentComplete)
        .and_then(|e| e.values.first())
    {
        Some(ICalendarValue::Integer(p)) => Some((*p).clamp(0, 100) as f64 / 100.0),
        Some(_) => {
            return Err(c.err(
                "PERCENT-COMPLETE",
                ParseErrorKind::BadValue("not an integer".into()),
            ));
        }
        None => None,
    };
    let completed = c.when(ICalendarProperty::Completed, zones)?;
    if completed.is_some() && status == 0 {
        status = 2;
    }
    let done = status == 2;
    item.set(&lids::PID_LID_TASK_STATUS, PropValue::Long(status));
    item.set(
        &lids::PID_LID_PERCENT_COMPLETE,
        PropValue::Double(percent.unwrap_or(if done { 1.0 } else { 0.0 })),
    );
    item.set(&lids::PID_LID_TASK_COMPLETE, PropValue::Bool(done));
    if let Some(w) = completed {
        item.set_time(&lids::PID_LID_TASK_DATE_COMPLETED, w.utc(fl));
    }
    item.set(&lids::PID_LID_TASK_STATE, PropValue::Long(1));
    let base = start.as_ref().or(due.as_ref()).map(|w| w.utc(fl));
    reminder_props(
        &mut item,
        c,
        due.as_ref().map(|w| w.utc(fl)).or(base),
        None,
        zones,
    )?;
    let rule = match c
        .entry(ICalendarProperty::Rrule)
        .and_then(|e| e.values.first())
    {
        Some(ICalendarValue::RecurrenceRule(r)) => {
            Some(RecurRule::from_ical(r).map_err(|k| c.err("RRULE", k))?)
        }
        Some(_) => {
            return Err(c.err(
                "RRULE",
                ParseErrorKind::BadValue("not a recurrence rule".into()),
            ));
        }
        None => None,
    };
    let recurring = match (&rule, start.as_ref().or(due.as_ref())) {
        (Some(r), Some(anchor)) => match pattern_of_rule(r, anchor.local(), None) {
            Ok(p) => {
                item.set(
                    &lids::PID_LID_TASK_RECURRENCE,
                    PropValue::Binary(p.encode()),
                );
                true
            }
            Err(_) => false,
        },
        _ => false,
    };
    item.set(&lids::PID_LID_TASK_F_RECURRING, PropValue::Bool(recurring));
    Ok(item)
}

fn note_item(uid: &str, c: &Comp<'_>, zones: &Zones) -> Result<Item, ParseError> {
    let mut item = Item::new(ItemClass::StickyNote);
    common_props(&mut item, c);
    if let Some(w) = c.when(ICalendarProperty::Dtstart, zones)? {
        item.set_time(&lids::PID_LID_COMMON_START, w.utc(&zones.floating));
    }
    item.set_str(&lids::PID_NAME_CALENDAR_UID, uid);
    item.set(&lids::PID_LID_NOTE_COLOR, PropValue::Long(3));
    Ok(item)
}
