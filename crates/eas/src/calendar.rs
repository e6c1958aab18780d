//! Appointments as ActiveSync carries them ([MS-ASCAL]): the fields of a
//! stored appointment, with its recurrence, exceptions, organizer,
//! attendees, reminder and zone, and the iCalendar object of a phone's
//! appointment. Recurrence goes through groxide-pim's rules and series
//! (the ones CalDAV and EWS use); this file only maps EAS's fields onto
//! them.

use crate::mail::body_element;
use crate::pim_items::{Unusable, compact_time, escape, parse_time};
use base64::Engine;
use chrono::{Datelike, NaiveDateTime, Weekday};
use groxide_mapi::{lids, tags};
use groxide_pim::ical::export::{tzid_of, vtimezone};
use groxide_pim::recur::mapi::{exceptions_of_item, item_zone, series_of_item};
use groxide_pim::recur::{Freq, RecurRule, Until, WeekdayNum, Zone};
use groxide_pim::tz::TimeZoneInformation;
use groxide_pim::{AttendeeRole, Item, ResponseStatus};
use groxide_wbxml::{AirSyncBase, Calendar, Element, Tag};

fn text(tag: impl Into<Tag>, v: impl Into<String>) -> Element {
    Element::with_text(tag, v)
}

fn floating_zone(floating: Option<chrono_tz::Tz>) -> Zone {
    floating.map(Zone::Iana).unwrap_or(Zone::Utc)
}

fn location_element(l: &str, version: u8) -> Element {
    if version >= 160 {
        Element::with_children(AirSyncBase::Location, [text(AirSyncBase::DisplayName, l)])
    } else {
        text(Calendar::Location, l)
    }
}

fn weekday_bit(w: Weekday) -> u32 {
    1 << w.num_days_from_sunday()
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Sun,
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
];

/// MeetingStatus ([MS-ASCAL] 2.2.2.29): 0 an appointment, 1 a meeting the
/// user organises, 3 one the user received; cancelled ones add 4.
fn meeting_status(item: &Item, owner: &str) -> u8 {
    let flags = item
        .int(&lids::PID_LID_APPOINTMENT_STATE_FLAGS)
        .unwrap_or(0);
    let organizer = item.recipients.iter().find(|r| r.organizer);
    let meeting = flags & 0x1 != 0 || item.recipients.iter().any(|r| !r.organizer);
    if !meeting {
        return 0;
    }
    let received = flags & 0x2 != 0
        || organizer
            .is_some_and(|o| !o.address.is_empty() && !o.address.eq_ignore_ascii_case(owner));
    let status = if received { 3 } else { 1 };
    if flags & 0x4 != 0 { status + 4 } else { status }
}

fn attendees(item: &Item) -> Option<Element> {
    let list: Vec<Element> = item
        .recipients
        .iter()
        .filter(|r| !(r.organizer && r.response == ResponseStatus::Organized))
        .filter(|r| !r.address.is_empty())
        .map(|r| {
            let status = match r.response {
                ResponseStatus::Tentative => 2,
                ResponseStatus::Accepted => 3,
                ResponseStatus::Declined => 4,
                ResponseStatus::NotResponded => 5,
                _ => 0,
            };
            let kind = match r.role {
                AttendeeRole::Required => 1,
                AttendeeRole::Optional => 2,
                AttendeeRole::Resource => 3,
            };
            let name = if r.name.is_empty() {
                &r.address
            } else {
                &r.name
            };
            Element::with_children(
                Calendar::Attendee,
                [
                    text(Calendar::Email, r.address.as_str()),
                    text(Calendar::Name, name.as_str()),
                    text(Calendar::AttendeeStatus, status.to_string()),
                    text(Calendar::AttendeeType, kind.to_string()),
                ],
            )
        })
        .collect();
    (!list.is_empty()).then(|| Element::with_children(Calendar::Attendees, list))
}

/// The n-th weekday of a rule as EAS's WeekOfMonth (1–4, 5 the last).
fn week_of(n: i32) -> Option<u32> {
    match n {
        1..=4 => Some(n as u32),
        -1 | 5 => Some(5),
        _ => None,
    }
}

/// `Recurrence` of a series' rule; `None` for a rule EAS cannot express
/// (sub-daily, BYWEEKNO, several month days, …).
fn recurrence(
    rule: &RecurRule,
    start: NaiveDateTime,
    until_utc: Option<i64>,
    version: u8,
) -> Option<Element> {
    if !rule.by_hour.is_empty()
        || !rule.by_minute.is_empty()
        || !rule.by_second.is_empty()
        || !rule.by_year_day.is_empty()
        || !rule.by_week_no.is_empty()
        || rule.by_month_day.len() > 1
        || rule.by_month.len() > 1
    {
        return None;
    }
    let mask = |days: &[WeekdayNum]| -> u32 {
        if days.is_empty() {
            weekday_bit(start.weekday())
        } else {
            days.iter().map(|d| weekday_bit(d.weekday)).sum()
        }
    };
    let ordinal = rule.weekday_ordinal();
    let month_day = rule.month_day(start.date());
    let month = rule.month(start.date());
    // (Type, DayOfWeek, WeekOfMonth, DayOfMonth, MonthOfYear)
    let (kind, dow, week, mday, moy) = match (rule.freq, ordinal) {
        (Freq::Daily, _) if rule.by_day.is_empty() => (0, None, None, None, None),
        (Freq::Daily | Freq::Weekly, None) => (1, Some(mask(&rule.by_day)), None, None, None),
        (Freq::Monthly, Some(n)) => (3, Some(mask(&rule.by_day)), week_of(n), None, None),
        (Freq::Monthly, None) if month_day == -1 => (3, Some(0x7F), Some(5), None, None),
        (Freq::Monthly, None) if month_day >= 1 => (2, None, None, Some(month_day as u32), None),
        (Freq::Yearly, Some(n)) => (6, Some(mask(&rule.by_day)), week_of(n), None, Some(month)),
        (Freq::Yearly, None) if month_day >= 1 => {
            (5, None, None, Some(month_day as u32), Some(month))
        }
        _ => return None,
    };
    if (kind == 3 || kind == 6) && week.is_none() {
        return None;
    }
    let mut out = vec![text(Calendar::Type, kind.to_string())];
    if let Some(n) = rule.count {
        out.push(text(Calendar::Occurrences, n.to_string()));
    }
    out.push(text(Calendar::Interval, rule.interval.max(1).to_string()));
    if let Some(w) = week {
        out.push(text(Calendar::WeekOfMonth, w.to_string()));
    }
    if let Some(d) = dow {
        out.push(text(Calendar::DayOfWeek, d.to_string()));
    }
    if let Some(m) = moy {
        out.push(text(Calendar::MonthOfYear, m.to_string()));
    }
    if let (None, Some(u)) = (rule.count, until_utc) {
        out.push(text(Calendar::Until, compact_time(u)));
    }
    if let Some(d) = mday {
        out.push(text(Calendar::DayOfMonth, d.to_string()));
    }
    if version >= 141 {
        out.push(text(
            Calendar::FirstDayOfWeek,
            rule.wkst.num_days_from_sunday().to_string(),
        ));
    }
    Some(Element::with_children(Calendar::Recurrence, out))
}

/// The calendar fields of a stored appointment. `floating` is the user's
/// zone (all-day and floating times); `owner` the user's address.
pub(crate) fn appointment_fields(
    item: &Item,
    uid: &str,
    version: u8,
    floating: Option<chrono_tz::Tz>,
    owner: &str,
) -> Vec<Element> {
    let fl = floating_zone(floating);
    let mut out = Vec::new();
    let all_day = item
        .bool(&lids::PID_LID_APPOINTMENT_SUB_TYPE)
        .unwrap_or(false);
    let start = item.time(&lids::PID_LID_APPOINTMENT_START_WHOLE);
    // A broken recurrence blob shows the first instance rather than nothing.
    let series = series_of_item(item, &fl).ok().flatten();
    let zone = match &series {
        Some(s) if s.zone == Zone::Floating || s.all_day => fl.clone(),
        Some(s) => s.zone.clone(),
        None => item_zone(item, false),
    };
    let year = start
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.year())
        .unwrap_or(2026);
    let tzinfo = TimeZoneInformation::of_zone(&zone, year).encode();
    out.push(text(
        Calendar::Timezone,
        base64::engine::general_purpose::STANDARD.encode(tzinfo),
    ));
    out.push(text(Calendar::AllDayEvent, if all_day { "1" } else { "0" }));
    out.push(body_element(1, item.str(tags::PR_BODY).unwrap_or(""), None));
    let busy = item
        .int(&lids::PID_LID_BUSY_STATUS)
        .unwrap_or(2)
        .clamp(0, 4);
    out.push(text(Calendar::BusyStatus, busy.to_string()));
    if let Some(o) = item.recipients.iter().find(|r| r.organizer) {
        if !o.name.is_empty() {
            out.push(text(Calendar::OrganizerName, o.name.as_str()));
        }
        if !o.address.is_empty() {
            out.push(text(Calendar::OrganizerEmail, o.address.as_str()));
        }
    }
    out.push(text(
        Calendar::DtStamp,
        compact_time(chrono::Utc::now().timestamp()),
    ));
    if let Some(t) = item.time(&lids::PID_LID_APPOINTMENT_END_WHOLE) {
        out.push(text(Calendar::EndTime, compact_time(t)));
    }
    if let Some(l) = item.str(&lids::PID_LID_LOCATION) {
        out.push(location_element(l, version));
    }
    if item.bool(&lids::PID_LID_REMINDER_SET) == Some(true) {
        let delta = item.int(&lids::PID_LID_REMINDER_DELTA).unwrap_or(15).max(0);
        out.push(text(Calendar::Reminder, delta.to_string()));
    }
    let sensitivity = item.int(tags::PR_SENSITIVITY).unwrap_or(0).clamp(0, 3);
    out.push(text(Calendar::Sensitivity, sensitivity.to_string()));
    out.push(text(
        Calendar::Subject,
        item.str(tags::PR_SUBJECT).unwrap_or(""),
    ));
    if let Some(t) = start {
        out.push(text(Calendar::StartTime, compact_time(t)));
    }
    if !uid.is_empty() {
        out.push(text(Calendar::UID, uid));
    }
    let status = meeting_status(item, owner);
    out.push(text(Calendar::MeetingStatus, status.to_string()));
    out.extend(attendees(item));
    if let Some(c) = item
        .strings(&lids::PID_NAME_KEYWORDS)
        .filter(|c| !c.is_empty())
    {
        let list = c.iter().map(|c| text(Calendar::Category, c.as_str()));
        out.push(Element::with_children(Calendar::Categories, list));
    }
    // The user's own answer to a meeting (14.0+).
    if version >= 140 && status != 0 {
        let r = item
            .int(&lids::PID_LID_RESPONSE_STATUS)
            .unwrap_or(0)
            .clamp(0, 5);
        out.push(text(Calendar::ResponseType, r.to_string()));
    }
    let Some(series) = series else { return out };
    let Some(rule) = &series.rule else { return out };
    let series_zone = if series.zone == Zone::Floating || series.all_day {
        fl.clone()
    } else {
        series.zone.clone()
    };
    let until = rule.until.map(|u| match u {
        Until::Utc(t) => t.and_utc().timestamp(),
        Until::Local(t) => series_zone.to_utc(t, &fl),
        Until::Date(d) => series_zone.to_utc(d.and_time(series.start.time()), &fl),
    });
    let Some(r) = recurrence(rule, series.start, until, version) else {
        return out;
    };
    out.push(r);
    let list: Vec<Element> = exceptions_of_item(item, &fl)
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let mut x = Vec::new();
            if e.deleted {
                x.push(text(Calendar::Deleted, "1"));
            }
            if version >= 160 {
                x.push(text(
                    AirSyncBase::InstanceId,
                    compact_time(e.original_start),
                ));
            } else {
                x.push(text(
                    Calendar::ExceptionStartTime,
                    compact_time(e.original_start),
                ));
            }
            if let Some(s) = &e.subject {
                x.push(text(Calendar::Subject, s.as_str()));
            }
            if let Some((s, end)) = e.times {
                x.push(text(Calendar::StartTime, compact_time(s)));
                x.push(text(Calendar::EndTime, compact_time(end)));
            }
            if let Some(b) = &e.body {
                x.push(body_element(1, b, None));
            }
            if let Some(l) = &e.location {
                x.push(location_element(l, version));
            }
            if let Some(b) = e.busy_status {
                x.push(text(Calendar::BusyStatus, b.clamp(0, 4).to_string()));
            }
            if let Some(a) = e.all_day {
                x.push(text(Calendar::AllDayEvent, if a { "1" } else { "0" }));
            }
            if let Some(m) = e.reminder {
                x.push(text(Calendar::Reminder, m.max(0).to_string()));
            }
            Element::with_children(Calendar::Exception, x)
        })
        .collect();
    if !list.is_empty() {
        out.push(Element::with_children(Calendar::Exceptions, list));
    }
    out
}

/// A number field of a phone's item: absent is `None`, anything but a
/// number in `range` is unusable.
fn number(
    e: &Element,
    tag: Calendar,
    range: std::ops::RangeInclusive<u32>,
) -> Result<Option<u32>, Unusable> {
    let Some(t) = e.child_text(tag) else {
        return Ok(None);
    };
    match t.trim().parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(Unusable(format!("{tag:?} {t:?} is out of range"))),
    }
}

fn days_of_mask(mask: u32, ordinal: Option<i16>) -> Vec<WeekdayNum> {
    WEEKDAYS
        .iter()
        .filter(|w| mask & weekday_bit(**w) != 0)
        .map(|w| WeekdayNum {
            ordinal,
            weekday: *w,
        })
        .collect()
}

/// The rule of a phone's `Recurrence`. UNTIL is left to the caller (it
/// depends on whether the series is all-day).
fn rule_of_recurrence(r: &Element) -> Result<RecurRule, Unusable> {
    let kind = number(r, Calendar::Type, 0..=6)?
        .ok_or_else(|| Unusable("a Recurrence needs a Type".into()))?;
    let interval = number(r, Calendar::Interval, 0..=999)?.unwrap_or(1).max(1);
    let dow = number(r, Calendar::DayOfWeek, 1..=127)?;
    let week = number(r, Calendar::WeekOfMonth, 1..=5)?;
    let mday = number(r, Calendar::DayOfMonth, 1..=31)?;
    let month = number(r, Calendar::MonthOfYear, 1..=12)?;
    let first_dow = number(r, Calendar::FirstDayOfWeek, 0..=6)?;
    let need = |v: Option<u32>, what: &str| {
        v.ok_or_else(|| Unusable(format!("a Recurrence of Type {kind} needs {what}")))
    };
    let nth = |mask: u32, week: u32, rule: &mut RecurRule| {
        let pos: i16 = if week >= 5 { -1 } else { week as i16 };
        if mask == 0x7F && pos == -1 {
            rule.by_month_day = vec![-1];
        } else if mask.count_ones() == 1 {
            rule.by_day = days_of_mask(mask, Some(pos));
        } else {
            rule.by_day = days_of_mask(mask, None);
            rule.by_set_pos = vec![i32::from(pos)];
        }
    };
    let mut rule = match kind {
        0 if dow.is_none() => RecurRule::new(Freq::Daily),
        // Days, day of the month and month left out mean the start's, as
        // in an RRULE without BYDAY/BYMONTHDAY/BYMONTH.
        0 | 1 => {
            let mut rule = RecurRule::new(Freq::Weekly);
            rule.by_day = dow.map(|d| days_of_mask(d, None)).unwrap_or_default();
            rule
        }
        2 => {
            let mut rule = RecurRule::new(Freq::Monthly);
            rule.by_month_day = mday.map(|d| d as i8).into_iter().collect();
            rule
        }
        3 => {
            let mut rule = RecurRule::new(Freq::Monthly);
            nth(
                need(dow, "DayOfWeek")?,
                need(week, "WeekOfMonth")?,
                &mut rule,
            );
            rule
        }
        5 => {
            let mut rule = RecurRule::new(Freq::Yearly);
            rule.by_month = month.map(|m| m as u8).into_iter().collect();
            rule.by_month_day = mday.map(|d| d as i8).into_iter().collect();
            rule
        }
        6 => {
            let mut rule = RecurRule::new(Freq::Yearly);
            rule.by_month = vec![need(month, "MonthOfYear")? as u8];
            nth(
                need(dow, "DayOfWeek")?,
                need(week, "WeekOfMonth")?,
                &mut rule,
            );
            rule
        }
        _ => return Err(Unusable(format!("Recurrence Type {kind}"))),
    };
    rule.interval = interval;
    rule.count = number(r, Calendar::Occurrences, 1..=999_999)?;
    if let Some(d) = first_dow {
        rule.wkst = WEEKDAYS[d as usize];
    }
    Ok(rule)
}

/// How the times of a phone's item are written: in its zone (with
/// TZID), in UTC, or as dates.
struct Times {
    zone: Zone,
    tzid: Option<String>,
    all_day: bool,
    /// The zone all-day dates are read in.
    date_zone: Zone,
}

impl Times {
    fn prop(&self, name: &str, utc: i64) -> String {
        if self.all_day {
            let d = self.date_zone.to_local(utc, &Zone::Utc);
            return format!("{name};VALUE=DATE:{}", d.format("%Y%m%d"));
        }
        match &self.tzid {
            Some(id) => format!(
                "{name};TZID={id}:{}",
                self.zone.to_local(utc, &Zone::Utc).format("%Y%m%dT%H%M%S")
            ),
            None => format!("{name}:{}", compact_time(utc)),
        }
    }
}

fn attendee_lines(data: &Element, owner: &str, l: &mut Vec<String>) {
    let list: Vec<&Element> = data
        .child(Calendar::Attendees)
        .map(|a| a.children_named(Calendar::Attendee).collect())
        .unwrap_or_default();
    let organizer = data
        .child_text(Calendar::OrganizerEmail)
        .map(str::trim)
        .filter(|e| e.contains('@'));
    if list.is_empty() && organizer.is_none() {
        return;
    }
    let mut org = String::from("ORGANIZER");
    if let Some(n) = data
        .child_text(Calendar::OrganizerName)
        .filter(|n| !n.trim().is_empty())
    {
        org.push_str(&format!(";CN=\"{}\"", n.replace('"', "'")));
    }
    l.push(format!("{org}:mailto:{}", organizer.unwrap_or(owner)));
    for a in list {
        let Some(email) = a
            .child_text(Calendar::Email)
            .map(str::trim)
            .filter(|e| e.contains('@'))
        else {
            continue;
        };
        let mut p = String::from("ATTENDEE");
        if let Some(n) = a
            .child_text(Calendar::Name)
            .filter(|n| !n.trim().is_empty())
        {
            p.push_str(&format!(";CN=\"{}\"", n.replace('"', "'")));
        }
        p.push_str(match a.child_text(Calendar::AttendeeType).map(str::trim) {
            Some("2") => ";ROLE=OPT-PARTICIPANT",
            Some("3") => ";CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT",
            _ => ";ROLE=REQ-PARTICIPANT",
        });
        p.push_str(
            match a.child_text(Calendar::AttendeeStatus).map(str::trim) {
                Some("2") => ";PARTSTAT=TENTATIVE",
                Some("3") => ";PARTSTAT=ACCEPTED",
                Some("4") => ";PARTSTAT=DECLINED",
                _ => ";PARTSTAT=NEEDS-ACTION",
            },
        );
        l.push(format!("{p}:mailto:{email}"));
    }
}

fn location_of(e: &Element) -> Option<String> {
    e.child_text(Calendar::Location)
        .map(str::to_string)
        .or_else(|| {
            e.child(AirSyncBase::Location)
                .and_then(|x| x.child_text(AirSyncBase::DisplayName))
                .map(str::to_string)
        })
        .filter(|x| !x.is_empty())
}

fn body_of(e: &Element) -> Option<String> {
    e.child(AirSyncBase::Body)
        .and_then(|b| b.child_text(AirSyncBase::Data))
        .or_else(|| e.child_text(Calendar::Body))
        .map(str::to_string)
        .filter(|b| !b.is_empty())
}

/// The properties an event and its exceptions share the form of.
fn common_lines(e: &Element, subject: &str, l: &mut Vec<String>) {
    l.push(format!("SUMMARY:{}", escape(subject)));
    if let Some(loc) = location_of(e) {
        l.push(format!("LOCATION:{}", escape(&loc)));
    }
    if let Some(b) = body_of(e) {
        l.push(format!("DESCRIPTION:{}", escape(&b)));
    }
    match e.child_text(Calendar::BusyStatus).map(str::trim) {
        Some("0") => l.extend([
            "TRANSP:TRANSPARENT".into(),
            "X-MICROSOFT-CDO-BUSYSTATUS:FREE".into(),
        ]),
        Some("1") => l.push("X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE".into()),
        Some("3") => l.push("X-MICROSOFT-CDO-BUSYSTATUS:OOF".into()),
        Some("4") => l.push("X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE".into()),
        _ => {}
    }
}

fn alarm_lines(e: &Element, l: &mut Vec<String>) -> Result<(), Unusable> {
    if let Some(m) = number(e, Calendar::Reminder, 0..=5_256_000)? {
        l.extend([
            "BEGIN:VALARM".into(),
            "ACTION:DISPLAY".into(),
            "DESCRIPTION:Reminder".into(),
            format!("TRIGGER:-PT{m}M"),
            "END:VALARM".into(),
        ]);
    }
    Ok(())
}

/// The zone of a phone's `Timezone` (base64 TIME_ZONE_INFORMATION) for a
/// series starting in `year`; `None` when absent or all zeros (UTC).
fn zone_of_blob(data: &Element, year: i32) -> Result<Option<Zone>, Unusable> {
    let Some(b64) = data.child_text(Calendar::Timezone).map(str::trim) else {
        return Ok(None);
    };
    if b64.is_empty() {
        return Ok(None);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| Unusable(format!("Timezone is not base64: {e}")))?;
    // Clients send shorter blobs for UTC (pyactivesync: 4 zero bytes).
    if bytes.iter().all(|b| *b == 0) {
        return Ok(None);
    }
    let info = TimeZoneInformation::decode(&bytes).map_err(|e| Unusable(e.to_string()))?;
    Ok(match info.zone(year) {
        Zone::Utc => None,
        z => Some(z),
    })
}

/// The iCalendar object of a phone's appointment: the event with its
/// rule, deleted instances as EXDATEs, changed ones as RECURRENCE-ID
/// components, people, reminder and class. Wall times are in the zone of
/// the item's `Timezone` when it has one (so a weekly event keeps its
/// local time across daylight-saving changes); all-day dates in it, else
/// in `floating`.
pub(crate) fn event_object(
    data: &Element,
    uid: &str,
    floating: Option<chrono_tz::Tz>,
    owner: &str,
) -> Result<String, Unusable> {
    let start = data
        .child_text(Calendar::StartTime)
        .and_then(parse_time)
        .ok_or_else(|| Unusable("an appointment needs a StartTime".into()))?;
    let end = data
        .child_text(Calendar::EndTime)
        .and_then(parse_time)
        .unwrap_or(start + 3600)
        .max(start);
    let all_day = data.child_text(Calendar::AllDayEvent).map(str::trim) == Some("1");
    let uid = data
        .child_text(Calendar::UID)
        .filter(|u| !u.trim().is_empty())
        .unwrap_or(uid);
    let year = chrono::DateTime::from_timestamp(start, 0)
        .map(|d| d.year())
        .unwrap_or(2026);
    let blob_zone = zone_of_blob(data, year)?;
    let fl = floating_zone(floating);
    let times = Times {
        tzid: blob_zone.as_ref().and_then(tzid_of),
        zone: blob_zone.clone().unwrap_or(Zone::Utc),
        all_day,
        date_zone: blob_zone.clone().unwrap_or(fl),
    };
    let now = compact_time(chrono::Utc::now().timestamp());
    let mut l: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//groxide//ActiveSync//EN".into(),
    ];
    if let (Some(z), false) = (&blob_zone, all_day) {
        let mut vt = String::new();
        vtimezone(z, year, &mut vt);
        l.extend(vt.lines().map(str::to_string));
    }
    let subject = data.child_text(Calendar::Subject).unwrap_or("");
    l.extend([
        "BEGIN:VEVENT".into(),
        format!("UID:{}", escape(uid)),
        format!("DTSTAMP:{now}"),
    ]);
    let mut end = end;
    let date = |t: i64| times.date_zone.to_local(t, &Zone::Utc).date();
    if all_day && date(end) <= date(start) {
        end = start + 86_400;
    }
    l.push(times.prop("DTSTART", start));
    l.push(times.prop("DTEND", end));
    common_lines(data, subject, &mut l);
    match number(data, Calendar::Sensitivity, 0..=3)? {
        Some(2 | 1) => l.push("CLASS:PRIVATE".into()),
        Some(3) => l.push("CLASS:CONFIDENTIAL".into()),
        Some(_) => l.push("CLASS:PUBLIC".into()),
        None => {}
    }
    if matches!(
        data.child_text(Calendar::MeetingStatus).map(str::trim),
        Some("5" | "7" | "13" | "15")
    ) {
        l.push("STATUS:CANCELLED".into());
    }
    attendee_lines(data, owner, &mut l);
    let categories: Vec<String> = data
        .child(Calendar::Categories)
        .map(|c| {
            c.children_named(Calendar::Category)
                .filter_map(|c| c.text())
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(escape)
                .collect()
        })
        .unwrap_or_default();
    if !categories.is_empty() {
        l.push(format!("CATEGORIES:{}", categories.join(",")));
    }
    let mut overrides: Vec<Vec<String>> = Vec::new();
    if let Some(r) = data.child(Calendar::Recurrence) {
        let mut rule = rule_of_recurrence(r)?;
        if rule.count.is_none()
            && let Some(u) = r.child_text(Calendar::Until)
        {
            let u = parse_time(u).ok_or_else(|| Unusable(format!("Until {u:?}")))?;
            let t = chrono::DateTime::from_timestamp(u, 0).unwrap_or_default();
            rule.until = Some(if all_day {
                Until::Date(times.date_zone.to_local(u, &Zone::Utc).date())
            } else {
                Until::Utc(t.naive_utc())
            });
        }
        l.push(format!("RRULE:{rule}"));
        let duration = end - start;
        for x in data
            .child(Calendar::Exceptions)
            .map(|e| e.children_named(Calendar::Exception).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let original = x
                .child_text(Calendar::ExceptionStartTime)
                .or_else(|| x.child_text(AirSyncBase::InstanceId))
                .and_then(parse_time)
                .ok_or_else(|| Unusable("an Exception needs its original start".into()))?;
            if x.child_text(Calendar::Deleted).map(str::trim) == Some("1") {
                l.push(times.prop("EXDATE", original));
                continue;
            }
            let s = x
                .child_text(Calendar::StartTime)
                .and_then(parse_time)
                .unwrap_or(original);
            let e = x
                .child_text(Calendar::EndTime)
                .and_then(parse_time)
                .unwrap_or(s + duration)
                .max(s);
            let ex_all_day = x
                .child_text(Calendar::AllDayEvent)
                .map_or(all_day, |a| a.trim() == "1");
            let ex_times = Times {
                all_day: ex_all_day,
                tzid: times.tzid.clone(),
                zone: times.zone.clone(),
                date_zone: times.date_zone.clone(),
            };
            let mut o = vec![
                "BEGIN:VEVENT".into(),
                format!("UID:{}", escape(uid)),
                format!("DTSTAMP:{now}"),
                times.prop("RECURRENCE-ID", original),
                ex_times.prop("DTSTART", s),
                ex_times.prop("DTEND", if ex_all_day && e <= s { s + 86_400 } else { e }),
            ];
            // An exception inherits what it does not change.
            let mut merged: Vec<Element> = data
                .children()
                .iter()
                .filter(|c| x.child(c.tag).is_none())
                .cloned()
                .collect();
            merged.extend(x.children().iter().cloned());
            let merged = Element::with_children(Calendar::Exception, merged);
            common_lines(
                &merged,
                x.child_text(Calendar::Subject).unwrap_or(subject),
                &mut o,
            );
            attendee_lines(data, owner, &mut o);
            alarm_lines(&merged, &mut o)?;
            o.push("END:VEVENT".into());
            overrides.push(o);
        }
    }
    alarm_lines(data, &mut l)?;
    l.push("END:VEVENT".into());
    l.extend(overrides.into_iter().flatten());
    l.push("END:VCALENDAR".into());
    let mut s = l.join("\r\n");
    s.push_str("\r\n");
    Ok(s)
}

/// The fields of one instance a 16.x Change may carry into its Exception.
fn exception_field(e: &Element) -> bool {
    [
        Tag::from(Calendar::Subject),
        Calendar::StartTime.into(),
        Calendar::EndTime.into(),
        Calendar::Location.into(),
        AirSyncBase::Location.into(),
        AirSyncBase::Body.into(),
        Calendar::BusyStatus.into(),
        Calendar::AllDayEvent.into(),
        Calendar::Reminder.into(),
    ]
    .contains(&e.tag)
}

fn original_of(x: &Element) -> Option<i64> {
    x.child_text(Calendar::ExceptionStartTime)
        .or_else(|| x.child_text(AirSyncBase::InstanceId))
        .and_then(parse_time)
}

/// A 16.x Change or Delete of one instance of a series (the command's
/// `InstanceId`) as a change of the series: `base` (the series as the
/// device has it) with that instance's Exception replaced by one with
/// `fields` over its previous fields, or by a deleted one when `fields`
/// is `None`.
pub(crate) fn with_instance(
    base: &Element,
    instance_id: &str,
    fields: Option<&Element>,
) -> Result<Element, Unusable> {
    if base.child(Calendar::Recurrence).is_none() {
        return Err(Unusable("InstanceId names an instance of no series".into()));
    }
    let at =
        parse_time(instance_id).ok_or_else(|| Unusable(format!("InstanceId {instance_id:?}")))?;
    let old: Vec<Element> = base
        .child(Calendar::Exceptions)
        .map(|e| e.children_named(Calendar::Exception).cloned().collect())
        .unwrap_or_default();
    let previous = old.iter().find(|x| original_of(x) == Some(at));
    let mut x = vec![text(AirSyncBase::InstanceId, compact_time(at))];
    match fields {
        None => x.push(text(Calendar::Deleted, "1")),
        Some(f) => {
            let new: Vec<&Element> = f.children().iter().filter(|c| exception_field(c)).collect();
            if let Some(p) = previous.filter(|p| p.child_text(Calendar::Deleted) != Some("1")) {
                x.extend(
                    p.children()
                        .iter()
                        .filter(|c| exception_field(c) && !new.iter().any(|n| n.tag == c.tag))
                        .cloned(),
                );
            }
            x.extend(new.into_iter().cloned());
        }
    }
    let mut list: Vec<Element> = old
        .into_iter()
        .filter(|o| original_of(o) != Some(at))
        .collect();
    list.push(Element::with_children(Calendar::Exception, x));
    let mut out: Vec<Element> = base
        .children()
        .iter()
        .filter(|c| !c.is(Calendar::Exceptions))
        .cloned()
        .collect();
    out.push(Element::with_children(Calendar::Exceptions, list));
    Ok(Element::with_children(
        groxide_wbxml::AirSync::ApplicationData,
        out,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::folder_sync::CollectionKind;
    use crate::pim_items::{application_data, item_from_data, merge};
    use groxide_pim::ical::import::{ImportOptions, parse_calendar};
    use groxide_pim::recur::{ExpandOptions, expand};
    use groxide_wbxml::{AirSync, Limits};

    const OWNER: &str = "demo@example.test";
    const BERLIN: Option<chrono_tz::Tz> = Some(chrono_tz::Europe::Berlin);

    fn import(ics: &str) -> Item {
        let mut items = parse_calendar(
            ics.replace('\n', "\r\n").as_bytes(),
            &ImportOptions {
                floating_zone: BERLIN,
                owner: Some(OWNER.into()),
                ..ImportOptions::default()
            },
        )
        .items;
        assert_eq!(items.len(), 1);
        items.pop().unwrap().unwrap()
    }

    /// The ApplicationData as a phone decodes it from the WBXML we send.
    fn on_the_phone(item: &Item, version: u8) -> Element {
        let data = application_data(
            CollectionKind::Calendar,
            item,
            "wk-1",
            version,
            BERLIN,
            OWNER,
        );
        let bytes = groxide_wbxml::encode(&Element::with_children(AirSync::Sync, [data]));
        let back = groxide_wbxml::decode(&bytes, &Limits::default()).unwrap();
        back.child(AirSync::ApplicationData).unwrap().clone()
    }

    /// Mondays 09:00 in Berlin from 5 October 2026, six times (across the
    /// end of daylight time on 25 October); the 12th deleted, the 19th
    /// moved to 11:00 and renamed; a meeting organised by the user.
    const WEEKLY: &str = "BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//t//EN
BEGIN:VEVENT
UID:wk-1
DTSTAMP:20261001T000000Z
DTSTART;TZID=Europe/Berlin:20261005T090000
DTEND;TZID=Europe/Berlin:20261005T100000
SUMMARY:Weekly
LOCATION:Room 1
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6
EXDATE;TZID=Europe/Berlin:20261012T090000
ORGANIZER;CN=Demo:mailto:demo@example.test
ATTENDEE;CN=Ada;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:ada@example.test
ATTENDEE;CN=Bob;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:bob@example.test
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:x
TRIGGER:-PT10M
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:wk-1
DTSTAMP:20261001T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20261019T090000
DTSTART;TZID=Europe/Berlin:20261019T110000
DTEND;TZID=Europe/Berlin:20261019T120000
SUMMARY:Weekly (moved)
LOCATION:Room 1
ORGANIZER;CN=Demo:mailto:demo@example.test
ATTENDEE;CN=Ada;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:ada@example.test
ATTENDEE;CN=Bob;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:bob@example.test
END:VEVENT
END:VCALENDAR
";

    fn exceptions(data: &Element) -> Vec<&Element> {
        data.child(Calendar::Exceptions)
            .map(|e| e.children_named(Calendar::Exception).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_weekly_meeting_reaches_the_phone_with_its_rule_exceptions_people_and_zone() {
        let d = on_the_phone(&import(WEEKLY), 141);
        let r = d.child(Calendar::Recurrence).expect("Recurrence");
        for (tag, want) in [
            (Calendar::Type, "1"),
            (Calendar::Interval, "1"),
            (Calendar::DayOfWeek, "2"),
            (Calendar::Occurrences, "6"),
            (Calendar::FirstDayOfWeek, "1"),
        ] {
            assert_eq!(r.child_text(tag), Some(want), "{tag:?}");
        }
        // 09:00 CEST.
        assert_eq!(d.child_text(Calendar::StartTime), Some("20261005T070000Z"));
        let tz = base64::engine::general_purpose::STANDARD
            .decode(d.child_text(Calendar::Timezone).unwrap())
            .unwrap();
        let tz = TimeZoneInformation::decode(&tz).unwrap();
        assert_eq!(tz.reg.bias, -60);
        assert_eq!(tz.reg.daylight_bias, -60);
        assert_eq!(tz.zone(2026), Zone::Iana(chrono_tz::Europe::Berlin));
        let ex = exceptions(&d);
        assert_eq!(ex.len(), 2, "{d:?}");
        assert_eq!(ex[0].child_text(Calendar::Deleted), Some("1"));
        assert_eq!(
            ex[0].child_text(Calendar::ExceptionStartTime),
            Some("20261012T070000Z")
        );
        assert_eq!(ex[1].child_text(Calendar::Deleted), None);
        assert_eq!(
            ex[1].child_text(Calendar::ExceptionStartTime),
            Some("20261019T070000Z")
        );
        assert_eq!(
            ex[1].child_text(Calendar::StartTime),
            Some("20261019T090000Z")
        );
        assert_eq!(
            ex[1].child_text(Calendar::EndTime),
            Some("20261019T100000Z")
        );
        assert_eq!(ex[1].child_text(Calendar::Subject), Some("Weekly (moved)"));
        assert_eq!(ex[1].child_text(Calendar::Location), None, "unchanged");
        assert_eq!(d.child_text(Calendar::MeetingStatus), Some("1"));
        assert_eq!(d.child_text(Calendar::OrganizerEmail), Some(OWNER));
        assert_eq!(d.child_text(Calendar::Reminder), Some("10"));
        let people: Vec<(String, String, String)> = d
            .child(Calendar::Attendees)
            .unwrap()
            .children_named(Calendar::Attendee)
            .map(|a| {
                let t = |t| a.child_text(t).unwrap_or("").to_string();
                (
                    t(Calendar::Email),
                    t(Calendar::AttendeeStatus),
                    t(Calendar::AttendeeType),
                )
            })
            .collect();
        assert!(
            people.contains(&("ada@example.test".into(), "3".into(), "1".into())),
            "{people:?}"
        );
        assert!(
            people.contains(&("bob@example.test".into(), "5".into(), "2".into())),
            "{people:?}"
        );

        // 16.1 names an exception by its InstanceId.
        let d16 = on_the_phone(&import(WEEKLY), 161);
        let ex = exceptions(&d16);
        assert_eq!(
            ex[0].child_text(AirSyncBase::InstanceId),
            Some("20261012T070000Z")
        );
        assert_eq!(ex[0].child_text(Calendar::ExceptionStartTime), None);
    }

    #[test]
    fn invitations_show_as_received_meetings_with_the_users_answer() {
        let base = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:m\nDTSTAMP:20261001T000000Z\n\
            DTSTART:20261005T090000Z\nDTEND:20261005T100000Z\nSUMMARY:Invite\n\
            ORGANIZER:mailto:boss@example.test\n\
            ATTENDEE;PARTSTAT=TENTATIVE:mailto:demo@example.test\nEXTRA\nEND:VEVENT\nEND:VCALENDAR\n";
        for (extra, status, response) in [("X-A:1", "3", "2"), ("STATUS:CANCELLED", "7", "2")] {
            let d = on_the_phone(&import(&base.replace("EXTRA", extra)), 161);
            assert_eq!(
                d.child_text(Calendar::MeetingStatus),
                Some(status),
                "{extra}"
            );
            assert_eq!(
                d.child_text(Calendar::ResponseType),
                Some(response),
                "{extra}"
            );
            assert_eq!(
                d.child_text(Calendar::OrganizerEmail),
                Some("boss@example.test")
            );
        }
        let plain = import(
            "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:p\nDTSTAMP:20261001T000000Z\n\
             DTSTART:20261005T090000Z\nSUMMARY:Alone\nCLASS:CONFIDENTIAL\nEND:VEVENT\nEND:VCALENDAR\n",
        );
        let d = on_the_phone(&plain, 141);
        assert_eq!(d.child_text(Calendar::MeetingStatus), Some("0"));
        assert_eq!(d.child_text(Calendar::ResponseType), None);
        assert_eq!(d.child_text(Calendar::Sensitivity), Some("3"));
        assert!(d.child(Calendar::Recurrence).is_none());
    }

    fn data(xml: &str) -> Element {
        Element::from_xml(
            &format!(
                "<ApplicationData xmlns=\"AirSync:\" xmlns:calendar=\"Calendar:\" xmlns:airsyncbase=\"AirSyncBase:\">{xml}</ApplicationData>"
            ),
            &Limits::default(),
        )
        .unwrap()
    }

    fn berlin_blob() -> String {
        let info = TimeZoneInformation::of_zone(&Zone::Iana(chrono_tz::Europe::Berlin), 2026);
        base64::engine::general_purpose::STANDARD.encode(info.encode())
    }

    /// Daily at 10:00 Berlin time from 23 October 2026, five times: the
    /// 24th deleted, the 26th moved to 15:00 with another subject.
    fn phone_daily() -> Element {
        data(&format!(
            "<calendar:Timezone>{}</calendar:Timezone><calendar:AllDayEvent>0</calendar:AllDayEvent>\
             <calendar:StartTime>20261023T080000Z</calendar:StartTime><calendar:EndTime>20261023T083000Z</calendar:EndTime>\
             <calendar:Subject>Standup</calendar:Subject><calendar:Sensitivity>2</calendar:Sensitivity><calendar:Reminder>5</calendar:Reminder>\
             <calendar:OrganizerEmail>demo@example.test</calendar:OrganizerEmail>\
             <calendar:Categories><calendar:Category>Team</calendar:Category><calendar:Category>Daily, short</calendar:Category></calendar:Categories>\
             <calendar:Attendees><calendar:Attendee><calendar:Email>ada@example.test</calendar:Email><calendar:Name>Ada</calendar:Name><calendar:AttendeeType>1</calendar:AttendeeType></calendar:Attendee></calendar:Attendees>\
             <calendar:Recurrence><calendar:Type>0</calendar:Type><calendar:Interval>1</calendar:Interval><calendar:Occurrences>5</calendar:Occurrences></calendar:Recurrence>\
             <calendar:Exceptions>\
             <calendar:Exception><calendar:Deleted>1</calendar:Deleted><calendar:ExceptionStartTime>20261024T080000Z</calendar:ExceptionStartTime></calendar:Exception>\
             <calendar:Exception><calendar:ExceptionStartTime>20261026T090000Z</calendar:ExceptionStartTime><calendar:StartTime>20261026T140000Z</calendar:StartTime><calendar:EndTime>20261026T143000Z</calendar:EndTime><calendar:Subject>Standup (late)</calendar:Subject></calendar:Exception>\
             </calendar:Exceptions>",
            berlin_blob()
        ))
    }

    fn instances(item: &Item) -> Vec<(i64, bool)> {
        let fl = Zone::Iana(chrono_tz::Europe::Berlin);
        let s = series_of_item(item, &fl).unwrap().unwrap();
        let opts = ExpandOptions {
            floating: fl,
            ..ExpandOptions::default()
        };
        expand(&s, 0, i64::MAX / 4, &opts)
            .instances
            .iter()
            .map(|i| (i.start, i.changed))
            .collect()
    }

    fn utc(s: &str) -> i64 {
        parse_time(s).unwrap()
    }

    #[test]
    fn a_phone_daily_series_keeps_its_local_time_across_dst_and_its_exceptions() {
        let d = phone_daily();
        let ics = event_object(&d, "d-1", BERLIN, OWNER).unwrap();
        assert!(ics.contains("RRULE:FREQ=DAILY;COUNT=5"), "{ics}");
        assert!(
            ics.contains("DTSTART;TZID=Europe/Berlin:20261023T100000"),
            "{ics}"
        );
        assert!(
            ics.contains("EXDATE;TZID=Europe/Berlin:20261024T100000"),
            "{ics}"
        );
        assert!(
            ics.contains("RECURRENCE-ID;TZID=Europe/Berlin:20261026T100000"),
            "{ics}"
        );
        assert!(
            ics.contains("CLASS:PRIVATE") && ics.contains("TRIGGER:-PT5M"),
            "{ics}"
        );
        let item = item_from_data(CollectionKind::Calendar, &d, "d-1", BERLIN, OWNER).unwrap();
        // 10:00 CEST, (24th deleted), 10:00 CET on the 25th, the 26th at
        // 15:00 CET, 10:00 CET on the 27th.
        assert_eq!(
            instances(&item),
            [
                (utc("20261023T080000Z"), false),
                (utc("20261025T090000Z"), false),
                (utc("20261026T140000Z"), true),
                (utc("20261027T090000Z"), false),
            ]
        );
        assert_eq!(item.int(tags::PR_SENSITIVITY), Some(2));
        assert_eq!(item.int(&lids::PID_LID_REMINDER_DELTA), Some(5));
        assert!(
            item.recipients
                .iter()
                .any(|r| r.address == "ada@example.test")
        );
        // And back on the phone as it was made.
        let back = on_the_phone(&item, 141);
        let r = back.child(Calendar::Recurrence).unwrap();
        assert_eq!(r.child_text(Calendar::Type), Some("0"));
        assert_eq!(r.child_text(Calendar::Occurrences), Some("5"));
        let ex = exceptions(&back);
        assert_eq!(ex.len(), 2, "{back:?}");
        assert_eq!(ex[1].child_text(Calendar::Subject), Some("Standup (late)"));
        assert_eq!(back.child_text(Calendar::Sensitivity), Some("2"));
        assert_eq!(back.child_text(Calendar::Reminder), Some("5"));
        let cats: Vec<&str> = back
            .child(Calendar::Categories)
            .unwrap()
            .children_named(Calendar::Category)
            .filter_map(Element::text)
            .collect();
        assert_eq!(cats, ["Team", "Daily, short"]);
        // The user organises it, so their answer is "organizer".
        assert_eq!(back.child_text(Calendar::MeetingStatus), Some("1"));
        assert_eq!(back.child_text(Calendar::ResponseType), Some("1"));
    }

    #[test]
    fn a_change_with_only_a_subject_keeps_the_series_and_its_exceptions() {
        let item = import(WEEKLY);
        let base = application_data(CollectionKind::Calendar, &item, "wk-1", 141, BERLIN, OWNER);
        let change = data("<calendar:Subject>Weekly, renamed</calendar:Subject>");
        let merged = merge(&base, &change);
        let new = item_from_data(CollectionKind::Calendar, &merged, "wk-1", BERLIN, OWNER).unwrap();
        assert_eq!(new.str(tags::PR_SUBJECT), Some("Weekly, renamed"));
        assert_eq!(instances(&new), instances(&item));
        assert_eq!(
            instances(&new),
            [
                (utc("20261005T070000Z"), false),
                (utc("20261019T090000Z"), true),
                (utc("20261026T080000Z"), false),
                (utc("20261102T080000Z"), false),
                (utc("20261109T080000Z"), false),
            ]
        );
        let ex = exceptions(&on_the_phone(&new, 141)).len();
        assert_eq!(ex, 2);
    }

    #[test]
    fn an_all_day_yearly_series_from_the_phone_stays_on_its_date() {
        let d = data(&format!(
            "<calendar:Timezone>{}</calendar:Timezone><calendar:AllDayEvent>1</calendar:AllDayEvent>\
             <calendar:StartTime>20261223T230000Z</calendar:StartTime><calendar:EndTime>20261224T230000Z</calendar:EndTime>\
             <calendar:Subject>Christmas Eve</calendar:Subject>\
             <calendar:Recurrence><calendar:Type>5</calendar:Type><calendar:DayOfMonth>24</calendar:DayOfMonth><calendar:MonthOfYear>12</calendar:MonthOfYear><calendar:Until>20301223T230000Z</calendar:Until></calendar:Recurrence>\
             <calendar:Exceptions><calendar:Exception><calendar:Deleted>1</calendar:Deleted><calendar:ExceptionStartTime>20271223T230000Z</calendar:ExceptionStartTime></calendar:Exception></calendar:Exceptions>",
            berlin_blob()
        ));
        let ics = event_object(&d, "x-1", BERLIN, OWNER).unwrap();
        for want in [
            "DTSTART;VALUE=DATE:20261224",
            "DTEND;VALUE=DATE:20261225",
            "RRULE:FREQ=YEARLY;UNTIL=20301224;BYMONTHDAY=24;BYMONTH=12",
            "EXDATE;VALUE=DATE:20271224",
        ] {
            assert!(ics.contains(want), "{want} in {ics}");
        }
        let item = item_from_data(CollectionKind::Calendar, &d, "x-1", BERLIN, OWNER).unwrap();
        let back = on_the_phone(&item, 141);
        assert_eq!(back.child_text(Calendar::AllDayEvent), Some("1"));
        assert_eq!(
            back.child_text(Calendar::StartTime),
            Some("20261223T230000Z")
        );
        let r = back.child(Calendar::Recurrence).unwrap();
        assert_eq!(r.child_text(Calendar::Type), Some("5"));
        assert_eq!(r.child_text(Calendar::MonthOfYear), Some("12"));
        assert_eq!(r.child_text(Calendar::Until), Some("20301223T230000Z"));
        let ex = exceptions(&back);
        assert_eq!(ex.len(), 1);
        assert_eq!(
            ex[0].child_text(Calendar::ExceptionStartTime),
            Some("20271223T230000Z")
        );
    }

    #[test]
    fn a_16_change_or_delete_of_one_instance_becomes_an_exception_of_the_series() {
        let item = import(WEEKLY);
        let base = application_data(CollectionKind::Calendar, &item, "wk-1", 161, BERLIN, OWNER);
        // 26 October at 09:00 CET moved to 13:00 CET; 2 November deleted;
        // the already moved 19th renamed (it stays at 11:00).
        let moved = data(
            "<calendar:StartTime>20261026T120000Z</calendar:StartTime><calendar:EndTime>20261026T130000Z</calendar:EndTime>",
        );
        let step = with_instance(&base, "20261026T080000Z", Some(&moved)).unwrap();
        let step = with_instance(&step, "20261102T080000Z", None).unwrap();
        let renamed = data("<calendar:Subject>Renamed</calendar:Subject>");
        let step = with_instance(&step, "20261019T070000Z", Some(&renamed)).unwrap();
        let new = item_from_data(CollectionKind::Calendar, &step, "wk-1", BERLIN, OWNER).unwrap();
        assert_eq!(
            new.str(tags::PR_SUBJECT),
            Some("Weekly"),
            "the series keeps its subject"
        );
        assert_eq!(
            instances(&new),
            [
                (utc("20261005T070000Z"), false),
                (utc("20261019T090000Z"), true),
                (utc("20261026T120000Z"), true),
                (utc("20261109T080000Z"), false),
            ]
        );
        let phone = on_the_phone(&new, 161);
        let ex = exceptions(&phone);
        let renamed = ex
            .iter()
            .find(|x| x.child_text(AirSyncBase::InstanceId) == Some("20261019T070000Z"))
            .unwrap();
        assert_eq!(renamed.child_text(Calendar::Subject), Some("Renamed"));
        assert!(with_instance(&base, "yesterday", None).is_err());
        let single = data("<calendar:Subject>x</calendar:Subject>");
        assert!(with_instance(&single, "20261026T080000Z", None).is_err());
    }

    #[test]
    fn patterns_of_every_type_map_to_rules_and_back() {
        for (xml, rule) in [
            (
                "<calendar:Type>1</calendar:Type><calendar:Interval>2</calendar:Interval><calendar:DayOfWeek>42</calendar:DayOfWeek><calendar:FirstDayOfWeek>0</calendar:FirstDayOfWeek>",
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU",
            ),
            (
                "<calendar:Type>2</calendar:Type><calendar:DayOfMonth>15</calendar:DayOfMonth>",
                "FREQ=MONTHLY;BYMONTHDAY=15",
            ),
            (
                "<calendar:Type>3</calendar:Type><calendar:DayOfWeek>4</calendar:DayOfWeek><calendar:WeekOfMonth>5</calendar:WeekOfMonth>",
                "FREQ=MONTHLY;BYDAY=-1TU",
            ),
            (
                "<calendar:Type>5</calendar:Type><calendar:DayOfMonth>24</calendar:DayOfMonth><calendar:MonthOfYear>12</calendar:MonthOfYear>",
                "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24",
            ),
            (
                "<calendar:Type>6</calendar:Type><calendar:DayOfWeek>2</calendar:DayOfWeek><calendar:WeekOfMonth>1</calendar:WeekOfMonth><calendar:MonthOfYear>3</calendar:MonthOfYear>",
                "FREQ=YEARLY;BYMONTH=3;BYDAY=1MO",
            ),
        ] {
            let r = data(&format!("<calendar:Recurrence>{xml}</calendar:Recurrence>"));
            let r = r.child(Calendar::Recurrence).unwrap();
            let got = rule_of_recurrence(r).unwrap();
            assert_eq!(got, RecurRule::parse(rule).unwrap(), "{xml}");
            let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap();
            let back = recurrence(&got, start, None, 141).unwrap();
            assert_eq!(rule_of_recurrence(&back).unwrap(), got, "{xml}");
        }
    }

    #[test]
    fn extreme_but_well_formed_items_convert_without_panicking() {
        for xml in [
            "<calendar:StartTime>99991231T235959Z</calendar:StartTime><calendar:Recurrence><calendar:Type>6</calendar:Type><calendar:DayOfWeek>127</calendar:DayOfWeek><calendar:WeekOfMonth>5</calendar:WeekOfMonth><calendar:MonthOfYear>2</calendar:MonthOfYear><calendar:Interval>999</calendar:Interval></calendar:Recurrence>",
            "<calendar:StartTime>16010101T000000Z</calendar:StartTime><calendar:Recurrence><calendar:Type>0</calendar:Type><calendar:Until>00010101T000000Z</calendar:Until></calendar:Recurrence>",
            "<calendar:StartTime>20261023T080000Z</calendar:StartTime><calendar:AllDayEvent>1</calendar:AllDayEvent><calendar:Recurrence><calendar:Type>1</calendar:Type><calendar:Occurrences>999999</calendar:Occurrences></calendar:Recurrence><calendar:Exceptions><calendar:Exception><calendar:ExceptionStartTime>20261023T080000Z</calendar:ExceptionStartTime><calendar:StartTime>20001023T080000Z</calendar:StartTime><calendar:EndTime>19991023T080000Z</calendar:EndTime><calendar:AllDayEvent>0</calendar:AllDayEvent></calendar:Exception></calendar:Exceptions>",
        ] {
            let d = data(&format!(
                "<calendar:Timezone>{}</calendar:Timezone>{xml}",
                berlin_blob()
            ));
            if let Ok(item) = item_from_data(CollectionKind::Calendar, &d, "u", BERLIN, OWNER) {
                on_the_phone(&item, 141);
                on_the_phone(&item, 161);
            }
        }
    }

    #[test]
    fn left_out_days_and_months_mean_the_starts() {
        for (xml, rule) in [
            ("<calendar:Type>1</calendar:Type>", "FREQ=WEEKLY"),
            ("<calendar:Type>2</calendar:Type>", "FREQ=MONTHLY"),
            ("<calendar:Type>5</calendar:Type>", "FREQ=YEARLY"),
        ] {
            let r = data(&format!("<calendar:Recurrence>{xml}</calendar:Recurrence>"));
            let got = rule_of_recurrence(r.child(Calendar::Recurrence).unwrap()).unwrap();
            assert_eq!(got, RecurRule::parse(rule).unwrap(), "{xml}");
        }
    }

    #[test]
    fn unusable_recurrences_and_zones_are_refused_not_panicked_on() {
        for bad in [
            "<calendar:Recurrence><calendar:Type>9</calendar:Type></calendar:Recurrence>",
            "<calendar:Recurrence><calendar:Type>2</calendar:Type><calendar:DayOfMonth>40</calendar:DayOfMonth></calendar:Recurrence>",
            "<calendar:Recurrence><calendar:Type>3</calendar:Type><calendar:DayOfWeek>2</calendar:DayOfWeek></calendar:Recurrence>",
            "<calendar:Recurrence><calendar:Interval>x</calendar:Interval></calendar:Recurrence>",
            "<calendar:Recurrence><calendar:Type>0</calendar:Type><calendar:Until>soon</calendar:Until></calendar:Recurrence>",
            "<calendar:Recurrence><calendar:Type>0</calendar:Type></calendar:Recurrence><calendar:Exceptions><calendar:Exception><calendar:Deleted>1</calendar:Deleted></calendar:Exception></calendar:Exceptions>",
            "<calendar:Timezone>!!!</calendar:Timezone>",
            "<calendar:Timezone>AQID</calendar:Timezone>",
            "<calendar:Reminder>-3</calendar:Reminder>",
        ] {
            let d = data(&format!(
                "<calendar:StartTime>20261023T080000Z</calendar:StartTime><calendar:Subject>x</calendar:Subject>{bad}"
            ));
            assert!(
                item_from_data(CollectionKind::Calendar, &d, "u", BERLIN, OWNER).is_err(),
                "{bad}"
            );
        }
    }
}
