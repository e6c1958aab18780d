//! Calendar items, contacts and tasks: EWS elements ↔ the store's
//! groupware items, always through groxide-pim's conversion layer, so an
//! item written here is the same item CalDAV/CardDAV serve.
//!
//! - Writing: a `t:CalendarItem`/`t:Task` becomes an iCalendar object and a
//!   `t:Contact` a vCard, which [`groxide_pim`] imports into an [`Item`]
//!   (so EWS and DAV writes share one mapping to MAPI properties);
//! - reading: an [`Item`] is written as its EWS element from its MAPI
//!   properties (calendar items, tasks) or from its vCard export (contacts);
//!   a recurring series' instances come from [`groxide_pim::recur::expand`].
//! - updating: the stored item is written as its element, the
//!   `SetItemField`/`DeleteItemField` changes are applied to that element,
//!   and the result is imported again (what only the original iCalendar or
//!   vCard object held, X- properties for instance, is not kept).
//!
//! Times travel in UTC; a series' wall times in the zone `StartTimeZone`
//! names (a Windows or IANA name), else the owner's zone.

use crate::ids::{ItemKey, OccurrenceKey, change_key};
use crate::items::{date_time, parse_date_time};
use crate::response::{EwsError, ResponseCode};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Weekday};
use chrono_tz::Tz;
use groxide_mapi::{PropValue, lids, tags};
use groxide_pim::recur::expand::{Instance, Series};
use groxide_pim::recur::rule::{Freq, Until};
use groxide_pim::recur::{ExpandOptions, Zone, expand, mapi::series_of_item};
use groxide_pim::{AttendeeRole, Item, ItemClass, ResponseStatus};

pub use crate::items::ItemKind;

/// Who owns the store and the zone of its floating times.
#[derive(Debug, Clone)]
pub struct Owner {
    /// The owner's address.
    pub address: String,
    /// The owner's zone (all-day dates, floating times); `None`: UTC.
    pub zone: Option<Tz>,
}

impl Owner {
    fn floating(&self) -> Zone {
        match self.zone {
            Some(z) => Zone::Iana(z),
            None => Zone::Utc,
        }
    }
}

/// The element name of a kind's items.
pub fn element_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Calendar => "CalendarItem",
        ItemKind::Contact => "Contact",
        ItemKind::Task => "Task",
        _ => "Message",
    }
}

/// Whether a kind is served by this module.
pub fn is_groupware(kind: ItemKind) -> bool {
    matches!(
        kind,
        ItemKind::Calendar | ItemKind::Contact | ItemKind::Task
    )
}

/// An `xs:boolean` child: `true`/`1` or `false`/`0`.
fn flag(e: &Element, name: &str) -> bool {
    matches!(e.t_text(name), Some("true") | Some("1"))
}

fn bad(what: impl Into<String>) -> EwsError {
    EwsError::invalid(what)
}

/// iCalendar/vCard TEXT escaping.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (quoted, without quotes or controls inside).
fn param(s: &str) -> String {
    let clean: String = s.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{clean}\"")
}

/// An address fit for a `mailto:` value.
fn addr(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty() && !s.contains(|c: char| c.is_control() || c == ' ')).then_some(s)
}

fn utc_stamp(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

fn zone_of(e: &Element, owner: &Owner) -> Option<Tz> {
    e.t("StartTimeZone")
        .and_then(|z| z.attr("Id"))
        .or_else(|| e.t("MeetingTimeZone").and_then(|z| z.attr("TimeZoneName")))
        .and_then(groxide_pim::tz::zone_for_tzid)
        .or(owner.zone)
}

fn local(unix: i64, tz: Option<Tz>) -> NaiveDateTime {
    let utc = DateTime::from_timestamp(unix, 0).unwrap_or_default();
    match tz {
        Some(tz) => utc.with_timezone(&tz).naive_local(),
        None => utc.naive_utc(),
    }
}

fn time_line(name: &str, unix: i64, tz: Option<Tz>, all_day: bool) -> String {
    let l = local(unix, tz);
    if all_day {
        format!("{name};VALUE=DATE:{}\r\n", l.format("%Y%m%d"))
    } else if let Some(tz) = tz {
        format!(
            "{name};TZID={}:{}\r\n",
            tz.name(),
            l.format("%Y%m%dT%H%M%S")
        )
    } else {
        format!("{name}:{}\r\n", utc_stamp(unix))
    }
}

fn text_of<'e>(e: &'e Element, name: &str) -> Option<&'e str> {
    e.t_text(name).filter(|s| !s.is_empty())
}

fn body_of(e: &Element) -> Option<String> {
    e.t("Body")
        .map(|b| b.text.clone())
        .filter(|s| !s.is_empty())
}

fn time_of(e: &Element, name: &str) -> Result<Option<i64>, EwsError> {
    match text_of(e, name) {
        None => Ok(None),
        Some(t) => parse_date_time(t)
            .map(Some)
            .ok_or_else(|| bad(format!("{name} is not a date-time: {t}"))),
    }
}

fn ews_day(d: &str) -> Result<Vec<&'static str>, EwsError> {
    Ok(match d {
        "Sunday" => vec!["SU"],
        "Monday" => vec!["MO"],
        "Tuesday" => vec!["TU"],
        "Wednesday" => vec!["WE"],
        "Thursday" => vec!["TH"],
        "Friday" => vec!["FR"],
        "Saturday" => vec!["SA"],
        "Day" => vec!["SU", "MO", "TU", "WE", "TH", "FR", "SA"],
        "Weekday" => vec!["MO", "TU", "WE", "TH", "FR"],
        "WeekendDay" => vec!["SA", "SU"],
        other => return Err(bad(format!("{other} is not a day of the week"))),
    })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_of(p: &Element) -> Result<Vec<&'static str>, EwsError> {
    let mut out = Vec::new();
    for d in p
        .t_text("DaysOfWeek")
        .unwrap_or_default()
        .split_whitespace()
    {
        out.extend(ews_day(d)?);
    }
    Ok(out)
}

fn index_of(p: &Element) -> Result<i32, EwsError> {
    Ok(match p.t_text("DayOfWeekIndex").unwrap_or("First") {
        "First" => 1,
        "Second" => 2,
        "Third" => 3,
        "Fourth" => 4,
        "Last" => -1,
        other => return Err(bad(format!("DayOfWeekIndex {other}"))),
    })
}

fn num(p: &Element, name: &str, default: u32) -> Result<u32, EwsError> {
    match p.t_text(name) {
        None => Ok(default),
        Some(t) => t
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad(format!("{name} must be a positive number"))),
    }
}

fn relative_byday(days: &[&str], index: i32) -> String {
    if days.len() == 1 {
        format!("BYDAY={index}{}", days[0])
    } else {
        format!("BYDAY={};BYSETPOS={index}", days.join(","))
    }
}

fn month_of(p: &Element) -> Result<usize, EwsError> {
    let m = p.t_text("Month").unwrap_or_default();
    MONTHS
        .iter()
        .position(|x| *x == m)
        .map(|i| i + 1)
        .ok_or_else(|| bad(format!("{m:?} is not a month")))
}

/// The RRULE of a `t:Recurrence`.
fn rrule(r: &Element, all_day: bool) -> Result<String, EwsError> {
    let mut rule = String::from("RRULE:");
    let mut pattern = None;
    let mut range = None;
    for c in r.children.iter().filter(|c| c.ns == NS_TYPES) {
        match c.name.as_str() {
            "NoEndRecurrence" | "EndDateRecurrence" | "NumberedRecurrence" => range = Some(c),
            _ => pattern = Some(c),
        }
    }
    let p = pattern.ok_or_else(|| bad("Recurrence has no pattern"))?;
    let interval = num(p, "Interval", 1)?;
    match p.name.as_str() {
        "DailyRecurrence" => rule.push_str(&format!("FREQ=DAILY;INTERVAL={interval}")),
        "WeeklyRecurrence" => {
            let days = days_of(p)?;
            rule.push_str(&format!("FREQ=WEEKLY;INTERVAL={interval}"));
            if !days.is_empty() {
                rule.push_str(&format!(";BYDAY={}", days.join(",")));
            }
            if let Some(first) = p.t_text("FirstDayOfWeek") {
                rule.push_str(&format!(";WKST={}", ews_day(first)?[0]));
            }
        }
        "AbsoluteMonthlyRecurrence" => rule.push_str(&format!(
            "FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={}",
            num(p, "DayOfMonth", 1)?.min(31)
        )),
        "RelativeMonthlyRecurrence" => rule.push_str(&format!(
            "FREQ=MONTHLY;INTERVAL={interval};{}",
            relative_byday(&days_of(p)?, index_of(p)?)
        )),
        "AbsoluteYearlyRecurrence" => rule.push_str(&format!(
            "FREQ=YEARLY;BYMONTH={};BYMONTHDAY={}",
            month_of(p)?,
            num(p, "DayOfMonth", 1)?.min(31)
        )),
        "RelativeYearlyRecurrence" => rule.push_str(&format!(
            "FREQ=YEARLY;BYMONTH={};{}",
            month_of(p)?,
            relative_byday(&days_of(p)?, index_of(p)?)
        )),
        other => return Err(EwsError::unsupported(format!("the recurrence {other}"))),
    }
    if let Some(range) = range {
        match range.name.as_str() {
            "NumberedRecurrence" => {
                rule.push_str(&format!(";COUNT={}", num(range, "NumberOfOccurrences", 1)?));
            }
            "EndDateRecurrence" => {
                let end = range.t_text("EndDate").unwrap_or_default();
                let date = parse_date(end).ok_or_else(|| bad(format!("EndDate {end:?}")))?;
                if all_day {
                    rule.push_str(&format!(";UNTIL={}", date.format("%Y%m%d")));
                } else {
                    rule.push_str(&format!(";UNTIL={}T235959Z", date.format("%Y%m%d")));
                }
            }
            _ => {}
        }
    }
    rule.push_str("\r\n");
    Ok(rule)
}

/// An `xs:date` (with or without a zone suffix).
fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let t = t.get(..10).unwrap_or(t);
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

fn busy_status(s: &str) -> Option<&'static str> {
    Some(match s {
        "Free" => "FREE",
        "Tentative" => "TENTATIVE",
        "Busy" => "BUSY",
        "OOF" => "OOF",
        "WorkingElsewhere" => "WORKINGELSEWHERE",
        _ => return None,
    })
}

fn attendees(e: &Element, list: &str, role: &str, out: &mut String) {
    let Some(l) = e.t(list) else { return };
    for a in l.children.iter().filter(|c| c.name == "Attendee") {
        let Some(m) = a.t("Mailbox") else { continue };
        let Some(email) = m.t_text("EmailAddress").and_then(addr) else {
            continue;
        };
        let name = m.t_text("Name").unwrap_or_default();
        out.push_str(&format!("ATTENDEE;ROLE={role};PARTSTAT=NEEDS-ACTION"));
        if !name.is_empty() {
            out.push_str(&format!(";CN={}", param(name)));
        }
        out.push_str(&format!(":mailto:{email}\r\n"));
    }
}

fn reminder(e: &Element, out: &mut String) {
    if flag(e, "ReminderIsSet") {
        let minutes: i64 = e
            .t_text("ReminderMinutesBeforeStart")
            .and_then(|m| m.parse().ok())
            .unwrap_or(15);
        out.push_str(&format!(
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT{}M\r\nEND:VALARM\r\n",
            minutes.clamp(0, 525_600)
        ));
    }
}

/// A random UID for a new item.
pub fn new_uid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let a = h.finish();
    h.write_u64(a);
    format!("{a:016x}{:016x}@groxide", h.finish())
}

/// The iCalendar object of a `t:CalendarItem`.
pub fn calendar_ical(e: &Element, owner: &Owner, uid: &str) -> Result<String, EwsError> {
    let start = time_of(e, "Start")?.ok_or_else(|| bad("a calendar item needs a Start"))?;
    let end = time_of(e, "End")?.unwrap_or(start).max(start);
    let all_day = flag(e, "IsAllDayEvent");
    let tz = zone_of(e, owner);
    // All-day dates are read in the zone the client meant.
    let (dtstart, dtend) = if all_day {
        let s = local(start, tz).date();
        let mut en = local(end, tz).date();
        if en <= s {
            en = s.succ_opt().unwrap_or(s);
        }
        (
            format!("DTSTART;VALUE=DATE:{}\r\n", s.format("%Y%m%d")),
            format!("DTEND;VALUE=DATE:{}\r\n", en.format("%Y%m%d")),
        )
    } else {
        (
            time_line("DTSTART", start, tz, false),
            time_line("DTEND", end, tz, false),
        )
    };
    let mut o = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide//EWS//EN\r\nBEGIN:VEVENT\r\n",
    );
    o.push_str(&format!("UID:{}\r\n", esc(uid)));
    o.push_str(&format!("DTSTAMP:{}\r\n", utc_stamp(now())));
    o.push_str(&dtstart);
    o.push_str(&dtend);
    o.push_str(&format!(
        "SUMMARY:{}\r\n",
        esc(e.t_text("Subject").unwrap_or_default())
    ));
    if let Some(b) = body_of(e) {
        o.push_str(&format!("DESCRIPTION:{}\r\n", esc(&b)));
    }
    if let Some(l) = text_of(e, "Location") {
        o.push_str(&format!("LOCATION:{}\r\n", esc(l)));
    }
    if let Some(s) = e.t_text("LegacyFreeBusyStatus").and_then(busy_status) {
        o.push_str(&format!("X-MICROSOFT-CDO-BUSYSTATUS:{s}\r\n"));
        if s == "FREE" {
            o.push_str("TRANSP:TRANSPARENT\r\n");
        }
    }
    if let Some(r) = e.t("Recurrence") {
        o.push_str(&rrule(r, all_day)?);
    }
    let mut att = String::new();
    attendees(e, "RequiredAttendees", "REQ-PARTICIPANT", &mut att);
    attendees(e, "OptionalAttendees", "OPT-PARTICIPANT", &mut att);
    attendees(e, "Resources", "NON-PARTICIPANT", &mut att);
    if !att.is_empty() {
        let organizer = e
            .t("Organizer")
            .and_then(|o| o.t("Mailbox"))
            .and_then(|m| m.t_text("EmailAddress"))
            .and_then(addr)
            .unwrap_or(&owner.address);
        o.push_str(&format!("ORGANIZER:mailto:{organizer}\r\n"));
        o.push_str(&att);
    }
    reminder(e, &mut o);
    o.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    Ok(o)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The iCalendar object of a `t:Task`.
pub fn task_ical(e: &Element, owner: &Owner, uid: &str) -> Result<String, EwsError> {
    let tz = owner.zone;
    let mut o = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide//EWS//EN\r\nBEGIN:VTODO\r\n",
    );
    o.push_str(&format!("UID:{}\r\n", esc(uid)));
    o.push_str(&format!("DTSTAMP:{}\r\n", utc_stamp(now())));
    o.push_str(&format!(
        "SUMMARY:{}\r\n",
        esc(e.t_text("Subject").unwrap_or_default())
    ));
    if let Some(b) = body_of(e) {
        o.push_str(&format!("DESCRIPTION:{}\r\n", esc(&b)));
    }
    if let Some(s) = time_of(e, "StartDate")? {
        o.push_str(&time_line("DTSTART", s, tz, true));
    }
    if let Some(d) = time_of(e, "DueDate")? {
        o.push_str(&time_line("DUE", d, tz, true));
    }
    let mut percent: Option<f64> = match text_of(e, "PercentComplete") {
        Some(p) => Some(
            p.parse::<f64>()
                .ok()
                .filter(|p| (0.0..=100.0).contains(p))
                .ok_or_else(|| bad("PercentComplete must be 0 to 100"))?,
        ),
        None => None,
    };
    let status = match e.t_text("Status") {
        Some("Completed") => {
            percent = Some(100.0);
            Some("COMPLETED")
        }
        Some("InProgress") => Some("IN-PROCESS"),
        Some("NotStarted") => Some("NEEDS-ACTION"),
        Some("Deferred") | Some("WaitingOnOthers") => Some("NEEDS-ACTION"),
        Some(other) => return Err(bad(format!("task Status {other}"))),
        None if percent == Some(100.0) => Some("COMPLETED"),
        None if percent.is_some_and(|p| p > 0.0) => Some("IN-PROCESS"),
        None => None,
    };
    if let Some(s) = status {
        o.push_str(&format!("STATUS:{s}\r\n"));
    }
    if status == Some("COMPLETED") {
        let done = time_of(e, "CompleteDate")?.unwrap_or_else(now);
        o.push_str(&format!("COMPLETED:{}\r\n", utc_stamp(done)));
    }
    if let Some(p) = percent {
        o.push_str(&format!("PERCENT-COMPLETE:{}\r\n", p.round() as i64));
    }
    reminder(e, &mut o);
    o.push_str("END:VTODO\r\nEND:VCALENDAR\r\n");
    Ok(o)
}

fn entries<'e>(e: &'e Element, list: &str) -> impl Iterator<Item = (&'e str, &'e Element)> {
    e.t(list)
        .into_iter()
        .flat_map(|l| l.children.iter())
        .filter(|c| c.name == "Entry")
        .map(|c| (c.attr("Key").unwrap_or_default(), c))
}

/// The vCard of a `t:Contact`.
pub fn contact_vcard(e: &Element, uid: &str) -> Result<String, EwsError> {
    let given = e.t_text("GivenName").unwrap_or_default();
    let surname = e.t_text("Surname").unwrap_or_default();
    let middle = e.t_text("MiddleName").unwrap_or_default();
    let display = text_of(e, "DisplayName")
        .map(str::to_string)
        .or_else(|| text_of(e, "FileAs").map(str::to_string))
        .unwrap_or_else(|| {
            [given, middle, surname]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        });
    let mut o = String::from("BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//groxide//EWS//EN\r\n");
    o.push_str(&format!("UID:{}\r\n", esc(uid)));
    o.push_str(&format!("FN:{}\r\n", esc(&display)));
    o.push_str(&format!(
        "N:{};{};{};;\r\n",
        esc(surname),
        esc(given),
        esc(middle)
    ));
    if let Some(n) = text_of(e, "Nickname") {
        o.push_str(&format!("NICKNAME:{}\r\n", esc(n)));
    }
    let company = e.t_text("CompanyName").unwrap_or_default();
    let dept = e.t_text("Department").unwrap_or_default();
    if !company.is_empty() || !dept.is_empty() {
        o.push_str(&format!("ORG:{};{}\r\n", esc(company), esc(dept)));
    }
    if let Some(t) = text_of(e, "JobTitle") {
        o.push_str(&format!("TITLE:{}\r\n", esc(t)));
    }
    for (key, entry) in entries(e, "EmailAddresses") {
        let a = entry.text.trim();
        let a = a.strip_prefix("SMTP:").unwrap_or(a);
        if a.is_empty() {
            continue;
        }
        let pref = if key == "EmailAddress1" { ",PREF" } else { "" };
        o.push_str(&format!("EMAIL;TYPE=INTERNET{pref}:{}\r\n", esc(a)));
    }
    for (key, entry) in entries(e, "PhoneNumbers") {
        let n = entry.text.trim();
        if n.is_empty() {
            continue;
        }
        let t = match key {
            "BusinessPhone" | "BusinessPhone2" => "WORK,VOICE",
            "HomePhone" | "HomePhone2" => "HOME,VOICE",
            "MobilePhone" => "CELL,VOICE",
            "BusinessFax" => "WORK,FAX",
            "HomeFax" => "HOME,FAX",
            "Pager" => "PAGER",
            _ => "VOICE",
        };
        o.push_str(&format!("TEL;TYPE={t}:{}\r\n", esc(n)));
    }
    for (key, entry) in entries(e, "PhysicalAddresses") {
        let t = match key {
            "Business" => "WORK",
            "Home" => "HOME",
            _ => "OTHER",
        };
        let part = |n: &str| esc(entry.t_text(n).unwrap_or_default());
        o.push_str(&format!(
            "ADR;TYPE={t}:;;{};{};{};{};{}\r\n",
            part("Street"),
            part("City"),
            part("State"),
            part("PostalCode"),
            part("CountryOrRegion")
        ));
    }
    if let Some(b) = text_of(e, "Birthday").and_then(parse_date) {
        o.push_str(&format!("BDAY:{}\r\n", b.format("%Y-%m-%d")));
    }
    if let Some(b) = body_of(e) {
        o.push_str(&format!("NOTE:{}\r\n", esc(&b)));
    }
    o.push_str("END:VCARD\r\n");
    Ok(o)
}

/// The store item of an EWS element of `kind`, by way of iCalendar/vCard.
pub fn item_from_element(
    kind: ItemKind,
    e: &Element,
    owner: &Owner,
    uid: &str,
) -> Result<Item, EwsError> {
    let expected = element_name(kind);
    if e.name != expected {
        return Err(EwsError::new(
            ResponseCode::ErrorObjectTypeChanged,
            format!(
                "a {} cannot be stored in a folder of {}",
                e.name,
                kind.name()
            ),
        ));
    }
    let mut items = match kind {
        ItemKind::Contact => {
            groxide_pim::vcard::import::parse_vcards(contact_vcard(e, uid)?.as_bytes()).items
        }
        _ => {
            let text = if kind == ItemKind::Task {
                task_ical(e, owner, uid)?
            } else {
                calendar_ical(e, owner, uid)?
            };
            groxide_pim::ical::parse_calendar(
                text.as_bytes(),
                &groxide_pim::ical::ImportOptions {
                    floating_zone: owner.zone,
                    owner: Some(owner.address.clone()),
                    ..Default::default()
                },
            )
            .items
        }
    };
    match (items.pop(), items.is_empty()) {
        (Some(Ok(item)), true) => Ok(item),
        (Some(Err(e)), _) => Err(bad(format!("the item cannot be stored: {e}"))),
        _ => Err(bad("the item cannot be stored")),
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn write_mailbox(w: &mut XmlWriter, name: &str, email: &str) {
    w.open("t:Mailbox", &[]).leaf("t:Name", name);
    if !email.is_empty() {
        w.leaf("t:EmailAddress", email)
            .leaf("t:RoutingType", "SMTP")
            .leaf("t:MailboxType", "OneOff");
    }
    w.close();
}

pub(crate) fn response_type(r: ResponseStatus) -> &'static str {
    match r {
        ResponseStatus::Organized => "Organizer",
        ResponseStatus::Tentative => "Tentative",
        ResponseStatus::Accepted => "Accept",
        ResponseStatus::Declined => "Decline",
        ResponseStatus::NotResponded => "NoResponseReceived",
        _ => "Unknown",
    }
}

const EWS_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn ews_weekday(d: Weekday) -> &'static str {
    EWS_DAYS[d.num_days_from_monday() as usize]
}

fn ews_index(n: i32) -> &'static str {
    match n {
        1 => "First",
        2 => "Second",
        3 => "Third",
        4 => "Fourth",
        _ => "Last",
    }
}

/// Writes `t:Recurrence` of a series (patterns EWS can express).
fn write_recurrence(w: &mut XmlWriter, s: &Series) {
    let Some(rule) = &s.rule else { return };
    let interval = rule.interval.max(1).to_string();
    let days = |w: &mut XmlWriter| {
        let list: Vec<&str> = if rule.by_day.is_empty() {
            vec![ews_weekday(s.start.weekday())]
        } else {
            rule.by_day.iter().map(|d| ews_weekday(d.weekday)).collect()
        };
        w.leaf("t:DaysOfWeek", &list.join(" "));
    };
    let ordinal = rule.weekday_ordinal();
    let month_day = rule.month_day(s.start.date()).max(1).to_string();
    let month = rule.month(s.start.date()) as usize;
    w.open("t:Recurrence", &[]);
    match (rule.freq, ordinal) {
        (Freq::Weekly, _) => {
            w.open("t:WeeklyRecurrence", &[])
                .leaf("t:Interval", &interval);
            days(w);
            w.leaf("t:FirstDayOfWeek", ews_weekday(rule.wkst)).close();
        }
        (Freq::Monthly, Some(n)) => {
            w.open("t:RelativeMonthlyRecurrence", &[])
                .leaf("t:Interval", &interval);
            days(w);
            w.leaf("t:DayOfWeekIndex", ews_index(n)).close();
        }
        (Freq::Monthly, None) => {
            w.open("t:AbsoluteMonthlyRecurrence", &[])
                .leaf("t:Interval", &interval)
                .leaf("t:DayOfMonth", &month_day)
                .close();
        }
        (Freq::Yearly, Some(n)) => {
            w.open("t:RelativeYearlyRecurrence", &[]);
            days(w);
            w.leaf("t:DayOfWeekIndex", ews_index(n))
                .leaf("t:Month", MONTHS[month - 1])
                .close();
        }
        (Freq::Yearly, None) => {
            w.open("t:AbsoluteYearlyRecurrence", &[])
                .leaf("t:DayOfMonth", &month_day)
                .leaf("t:Month", MONTHS[month - 1])
                .close();
        }
        _ => {
            w.open("t:DailyRecurrence", &[])
                .leaf("t:Interval", &interval)
                .close();
        }
    }
    let start = s.start.date().format("%Y-%m-%d").to_string();
    match (rule.count, rule.until) {
        (Some(n), _) => {
            w.open("t:NumberedRecurrence", &[])
                .leaf("t:StartDate", &start)
                .leaf("t:NumberOfOccurrences", &n.to_string())
                .close();
        }
        (None, Some(u)) => {
            let d = match u {
                Until::Date(d) => d,
                Until::Local(t) | Until::Utc(t) => t.date(),
            };
            w.open("t:EndDateRecurrence", &[])
                .leaf("t:StartDate", &start)
                .leaf("t:EndDate", &d.format("%Y-%m-%d").to_string())
                .close();
        }
        (None, None) => {
            w.open("t:NoEndRecurrence", &[])
                .leaf("t:StartDate", &start)
                .close();
        }
    }
    w.close();
}

/// What a listing knows of a stored item, for its id.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    /// Its id.
    pub key: ItemKey,
    /// Its change number.
    pub change_number: u64,
}

/// The series of a stored appointment, if it is one.
pub fn series(item: &Item, owner: &Owner) -> Option<Series> {
    if item.class != ItemClass::Appointment {
        return None;
    }
    series_of_item(item, &owner.floating()).ok().flatten()
}

/// The instances of an appointment overlapping `[from, to)`; a single
/// appointment is its own one instance.
pub fn instances(item: &Item, owner: &Owner, from: i64, to: i64) -> Vec<Instance> {
    let Some(s) = series(item, owner) else {
        return Vec::new();
    };
    let opts = ExpandOptions {
        max_instances: 1000,
        floating: owner.floating(),
        ..ExpandOptions::default()
    };
    expand(&s, from, to, &opts).instances
}

/// The instance an occurrence id names.
pub fn find_instance(item: &Item, owner: &Owner, original_start: i64) -> Option<Instance> {
    let s = series(item, owner)?;
    let want = DateTime::from_timestamp(original_start, 0)?.naive_utc();
    let day = 86_400 * 3;
    let opts = ExpandOptions {
        floating: owner.floating(),
        ..ExpandOptions::default()
    };
    if let Some(i) = expand(&s, original_start - day, original_start + day, &opts)
        .instances
        .into_iter()
        .find(|i| i.original_start == want)
    {
        return Some(i);
    }
    let o = s
        .overrides
        .iter()
        .find(|o| o.original_start == want && o.new_times.is_some())?;
    let (start, end) = o.new_times?;
    Some(Instance {
        start,
        end,
        original_start: want,
        changed: true,
    })
}

/// The `Id` of an occurrence of a stored series.
pub fn occurrence_id(key: ItemKey, i: &Instance) -> String {
    OccurrenceKey {
        item: key,
        original_start: i.original_start.and_utc().timestamp(),
    }
    .encode()
}

fn write_id(w: &mut XmlWriter, stored: &Stored, occurrence: Option<&Instance>) {
    let ck = change_key(stored.change_number);
    let id = match occurrence {
        Some(i) => occurrence_id(stored.key, i),
        None => stored.key.encode(),
    };
    w.empty("t:ItemId", &[("Id", &id), ("ChangeKey", &ck)]);
}

/// Writes the EWS element of a stored groupware item (`id_only`: just its
/// id), or of one instance of a series.
pub fn write_item(
    w: &mut XmlWriter,
    stored: &Stored,
    item: &Item,
    owner: &Owner,
    id_only: bool,
    occurrence: Option<&Instance>,
) {
    let kind = match item.class {
        ItemClass::Appointment => ItemKind::Calendar,
        ItemClass::Contact | ItemClass::DistList => ItemKind::Contact,
        ItemClass::Task => ItemKind::Task,
        _ => ItemKind::of_container_class(""),
    };
    let name = match item.class {
        ItemClass::DistList => "DistributionList",
        _ => element_name(kind),
    };
    w.open(&format!("t:{name}"), &[]);
    write_id(w, stored, occurrence);
    if !id_only {
        w.empty(
            "t:ParentFolderId",
            &[("Id", &stored.key.folder_key().encode())],
        );
        w.leaf("t:ItemClass", item.class.message_class());
        match kind {
            ItemKind::Calendar => write_calendar(w, stored, item, owner, occurrence),
            ItemKind::Task => write_task(w, item),
            _ => write_contact(w, item),
        }
    }
    w.close();
}

fn write_subject_body(w: &mut XmlWriter, item: &Item) {
    w.leaf("t:Subject", item.str(tags::PR_SUBJECT).unwrap_or_default());
    let sensitivity = match item.int(tags::PR_SENSITIVITY) {
        Some(1) => "Personal",
        Some(2) => "Private",
        Some(3) => "Confidential",
        _ => "Normal",
    };
    w.leaf("t:Sensitivity", sensitivity);
    if let Some(b) = item.str(tags::PR_BODY) {
        w.open("t:Body", &[("BodyType", "Text")]).text(b).close();
    }
}

fn write_reminder(w: &mut XmlWriter, item: &Item) {
    let set = item.bool(&lids::PID_LID_REMINDER_SET).unwrap_or(false);
    w.leaf("t:ReminderIsSet", bool_text(set));
    let delta = item.int(&lids::PID_LID_REMINDER_DELTA).unwrap_or(15);
    w.leaf("t:ReminderMinutesBeforeStart", &delta.max(0).to_string());
}

fn write_calendar(
    w: &mut XmlWriter,
    stored: &Stored,
    item: &Item,
    owner: &Owner,
    occurrence: Option<&Instance>,
) {
    let series = series(item, owner);
    let recurring = series.as_ref().is_some_and(|s| s.rule.is_some());
    let start = item
        .time(&lids::PID_LID_APPOINTMENT_START_WHOLE)
        .unwrap_or_default();
    let end = item
        .time(&lids::PID_LID_APPOINTMENT_END_WHOLE)
        .unwrap_or(start);
    let (start, end) = occurrence.map(|i| (i.start, i.end)).unwrap_or((start, end));
    write_subject_body(w, item);
    write_reminder(w, item);
    w.leaf("t:UID", &groxide_rpc::items::item_uid(item));
    if let Some(i) = occurrence {
        w.leaf(
            "t:RecurrenceId",
            &date_time(i.original_start.and_utc().timestamp()),
        );
    }
    w.leaf("t:Start", &date_time(start));
    w.leaf("t:End", &date_time(end));
    let sub_type = item
        .bool(&lids::PID_LID_APPOINTMENT_SUB_TYPE)
        .unwrap_or(false);
    w.leaf("t:IsAllDayEvent", bool_text(sub_type));
    let busy = match item.int(&lids::PID_LID_BUSY_STATUS) {
        Some(0) => "Free",
        Some(1) => "Tentative",
        Some(3) => "OOF",
        Some(4) => "WorkingElsewhere",
        _ => "Busy",
    };
    w.leaf("t:LegacyFreeBusyStatus", busy);
    if let Some(l) = item.str(&lids::PID_LID_LOCATION) {
        w.leaf("t:Location", l);
    }
    let attendees: Vec<_> = item.recipients.iter().filter(|r| !r.organizer).collect();
    w.leaf("t:IsMeeting", bool_text(!attendees.is_empty()));
    w.leaf("t:IsCancelled", "false");
    w.leaf(
        "t:IsRecurring",
        bool_text(recurring && occurrence.is_some()),
    );
    let kind = match (recurring, occurrence) {
        (true, Some(i)) if i.changed => "Exception",
        (true, Some(_)) => "Occurrence",
        (true, None) => "RecurringMaster",
        _ => "Single",
    };
    w.leaf("t:CalendarItemType", kind);
    // The owner's own answer: stored on a meeting they were invited to;
    // an appointment of their own (or without answer) is theirs.
    let mine = item
        .int(&lids::PID_LID_RESPONSE_STATUS)
        .map(ResponseStatus::from_code)
        .filter(|r| {
            matches!(
                r,
                ResponseStatus::Accepted
                    | ResponseStatus::Tentative
                    | ResponseStatus::Declined
                    | ResponseStatus::NotResponded
            )
        })
        .unwrap_or(ResponseStatus::Organized);
    w.leaf("t:MyResponseType", response_type(mine));
    let organizer = item
        .recipients
        .iter()
        .find(|r| r.organizer)
        .map(|r| (r.name.clone(), r.address.clone()))
        .or_else(|| {
            item.str(tags::PR_SENT_REPRESENTING_SMTP_ADDRESS).map(|a| {
                (
                    item.str(tags::PR_SENT_REPRESENTING_NAME)
                        .unwrap_or_default()
                        .to_string(),
                    a.to_string(),
                )
            })
        })
        .unwrap_or_else(|| (String::new(), owner.address.clone()));
    w.open("t:Organizer", &[]);
    write_mailbox(w, &organizer.0, &organizer.1);
    w.close();
    for (element, roles) in [
        ("t:RequiredAttendees", [AttendeeRole::Required]),
        ("t:OptionalAttendees", [AttendeeRole::Optional]),
        ("t:Resources", [AttendeeRole::Resource]),
    ] {
        let list: Vec<_> = attendees
            .iter()
            .filter(|r| roles.contains(&r.role))
            .collect();
        if list.is_empty() {
            continue;
        }
        w.open(element, &[]);
        for r in list {
            w.open("t:Attendee", &[]);
            write_mailbox(w, &r.name, &r.address);
            w.leaf("t:ResponseType", response_type(r.response)).close();
        }
        w.close();
    }
    if occurrence.is_none()
        && let Some(s) = series.as_ref().filter(|s| s.rule.is_some())
    {
        write_recurrence(w, s);
        let floating = owner.floating();
        let modified: Vec<_> = s
            .overrides
            .iter()
            .filter_map(|o| o.new_times.map(|t| (o.original_start, t)))
            .collect();
        if !modified.is_empty() {
            w.open("t:ModifiedOccurrences", &[]);
            for (original, (start, end)) in modified {
                let i = Instance {
                    start,
                    end,
                    original_start: original,
                    changed: true,
                };
                w.open("t:Occurrence", &[]);
                write_id(w, stored, Some(&i));
                w.leaf("t:Start", &date_time(start))
                    .leaf("t:End", &date_time(end))
                    .leaf(
                        "t:OriginalStart",
                        &date_time(s.zone.to_utc(original, &floating)),
                    )
                    .close();
            }
            w.close();
        }
        let deleted: Vec<_> = s
            .overrides
            .iter()
            .filter(|o| o.new_times.is_none())
            .map(|o| s.zone.to_utc(o.original_start, &floating))
            .chain(s.exdates.iter().map(|x| s.zone.to_utc(*x, &floating)))
            .collect();
        if !deleted.is_empty() {
            w.open("t:DeletedOccurrences", &[]);
            for d in deleted {
                w.open("t:DeletedOccurrence", &[])
                    .leaf("t:Start", &date_time(d))
                    .close();
            }
            w.close();
        }
    }
    if let Some(tz) = windows_zone(item, owner) {
        w.empty("t:StartTimeZone", &[("Id", tz)]);
        w.empty("t:EndTimeZone", &[("Id", tz)]);
    }
}

fn windows_zone(item: &Item, owner: &Owner) -> Option<&'static str> {
    let zone = groxide_pim::recur::mapi::item_zone(item, false);
    let tz = match zone {
        Zone::Iana(tz) => tz,
        Zone::Utc => chrono_tz::UTC,
        _ => owner.zone?,
    };
    let year = DateTime::from_timestamp(now(), 0)
        .unwrap_or_default()
        .year();
    groxide_pim::tz::windows_name_for(tz, year)
}

fn write_task(w: &mut XmlWriter, item: &Item) {
    write_subject_body(w, item);
    write_reminder(w, item);
    if let Some(d) = item.time(&lids::PID_LID_TASK_DUE_DATE) {
        w.leaf("t:DueDate", &date_time(d));
    }
    let percent = match item.get(&lids::PID_LID_PERCENT_COMPLETE) {
        Some(PropValue::Double(p)) => *p,
        _ => 0.0,
    };
    w.leaf(
        "t:PercentComplete",
        &((percent * 100.0).round() as i64).to_string(),
    );
    if let Some(s) = item.time(&lids::PID_LID_TASK_START_DATE) {
        w.leaf("t:StartDate", &date_time(s));
    }
    let status = match item.int(&lids::PID_LID_TASK_STATUS) {
        Some(1) => "InProgress",
        Some(2) => "Completed",
        Some(3) => "WaitingOnOthers",
        Some(4) => "Deferred",
        _ => "NotStarted",
    };
    w.leaf("t:Status", status);
}

/// One vCard content line: name (upper case), TYPE parameters (upper
/// case), value.
struct Line {
    name: String,
    types: Vec<String>,
    value: String,
}

fn vcard_lines(text: &str) -> Vec<Line> {
    let mut unfolded: Vec<String> = Vec::new();
    for l in text.split("\r\n").flat_map(|l| l.split('\n')) {
        if let Some(rest) = l.strip_prefix([' ', '\t']) {
            if let Some(last) = unfolded.last_mut() {
                last.push_str(rest);
            }
        } else if !l.is_empty() {
            unfolded.push(l.to_string());
        }
    }
    let mut out = Vec::new();
    for l in unfolded {
        // The value starts at the first colon outside quotes.
        let mut quoted = false;
        let Some(colon) = l.char_indices().find_map(|(i, c)| match c {
            '"' => {
                quoted = !quoted;
                None
            }
            ':' if !quoted => Some(i),
            _ => None,
        }) else {
            continue;
        };
        let (head, value) = (&l[..colon], &l[colon + 1..]);
        let mut parts = head.split(';');
        let name = parts.next().unwrap_or_default();
        let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
        let mut types = Vec::new();
        for p in parts {
            let (k, v) = p.split_once('=').unwrap_or(("TYPE", p));
            if k.eq_ignore_ascii_case("TYPE") {
                types.extend(
                    v.trim_matches('"')
                        .split(',')
                        .map(|t| t.to_ascii_uppercase()),
                );
            }
        }
        out.push(Line {
            name,
            types,
            value: value.to_string(),
        });
    }
    out
}

/// Splits a structured value at unescaped `;` and unescapes each part.
fn components(v: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') | Some('N') => out.last_mut().unwrap_or(&mut String::new()).push('\n'),
                Some(c) => {
                    if let Some(l) = out.last_mut() {
                        l.push(c)
                    }
                }
                None => {}
            },
            ';' => out.push(String::new()),
            c => {
                if let Some(l) = out.last_mut() {
                    l.push(c)
                }
            }
        }
    }
    out
}

fn unescape(v: &str) -> String {
    components(&v.replace(';', "\\;")).concat()
}

fn write_contact(w: &mut XmlWriter, item: &Item) {
    let vcard = groxide_pim::vcard::export::item_to_vcard(
        item,
        groxide_pim::vcard::export::VcardVersion::V3,
    )
    .unwrap_or_default();
    let lines = vcard_lines(&vcard);
    let first = |name: &str| lines.iter().find(|l| l.name == name);
    w.leaf("t:Subject", item.str(tags::PR_SUBJECT).unwrap_or_default());
    if let Some(n) = first("NOTE") {
        w.open("t:Body", &[("BodyType", "Text")])
            .text(&unescape(&n.value))
            .close();
    }
    let fn_ = first("FN").map(|l| unescape(&l.value)).unwrap_or_default();
    if let Some(f) = item.str(&lids::PID_LID_FILE_UNDER) {
        w.leaf("t:FileAs", f);
    }
    w.leaf("t:DisplayName", &fn_);
    let n = first("N").map(|l| components(&l.value)).unwrap_or_default();
    let part = |i: usize| n.get(i).cloned().unwrap_or_default();
    if !part(1).is_empty() {
        w.leaf("t:GivenName", &part(1));
    }
    if !part(2).is_empty() {
        w.leaf("t:MiddleName", &part(2));
    }
    if let Some(nick) = first("NICKNAME") {
        w.leaf("t:Nickname", &unescape(&nick.value));
    }
    let org = first("ORG")
        .map(|l| components(&l.value))
        .unwrap_or_default();
    if let Some(c) = org.first().filter(|c| !c.is_empty()) {
        w.leaf("t:CompanyName", c);
    }
    let emails: Vec<_> = lines.iter().filter(|l| l.name == "EMAIL").collect();
    if !emails.is_empty() {
        w.open("t:EmailAddresses", &[]);
        for (i, e) in emails.iter().take(3).enumerate() {
            let key = format!("EmailAddress{}", i + 1);
            w.open("t:Entry", &[("Key", &key)])
                .text(&unescape(&e.value))
                .close();
        }
        w.close();
    }
    let addresses: Vec<_> = lines.iter().filter(|l| l.name == "ADR").collect();
    if !addresses.is_empty() {
        w.open("t:PhysicalAddresses", &[]);
        let mut used = Vec::new();
        for a in addresses {
            let key = if a.types.iter().any(|t| t == "WORK") {
                "Business"
            } else if a.types.iter().any(|t| t == "HOME") {
                "Home"
            } else {
                "Other"
            };
            if used.contains(&key) {
                continue;
            }
            used.push(key);
            let c = components(&a.value);
            let p = |i: usize| c.get(i).cloned().unwrap_or_default();
            w.open("t:Entry", &[("Key", key)]);
            for (name, i) in [
                ("t:Street", 2),
                ("t:City", 3),
                ("t:State", 4),
                ("t:CountryOrRegion", 6),
                ("t:PostalCode", 5),
            ] {
                if !p(i).is_empty() {
                    w.leaf(name, &p(i));
                }
            }
            w.close();
        }
        w.close();
    }
    let phones: Vec<_> = lines.iter().filter(|l| l.name == "TEL").collect();
    if !phones.is_empty() {
        w.open("t:PhoneNumbers", &[]);
        let mut used = Vec::new();
        for p in phones {
            let has = |t: &str| p.types.iter().any(|x| x == t);
            let key = if has("CELL") {
                "MobilePhone"
            } else if has("FAX") && has("HOME") {
                "HomeFax"
            } else if has("FAX") {
                "BusinessFax"
            } else if has("PAGER") {
                "Pager"
            } else if has("HOME") {
                "HomePhone"
            } else if has("WORK") {
                "BusinessPhone"
            } else {
                "OtherTelephone"
            };
            if used.contains(&key) {
                continue;
            }
            used.push(key);
            w.open("t:Entry", &[("Key", key)])
                .text(&unescape(&p.value))
                .close();
        }
        w.close();
    }
    if let Some(b) = first("BDAY")
        && let Some(d) = parse_date(&b.value).or_else(|| {
            NaiveDate::parse_from_str(b.value.get(..8).unwrap_or_default(), "%Y%m%d").ok()
        })
    {
        w.leaf(
            "t:Birthday",
            &date_time(
                chrono::Utc
                    .from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
                    .timestamp(),
            ),
        );
    }
    if let Some(d) = org.get(1).filter(|c| !c.is_empty()) {
        w.leaf("t:Department", d);
    }
    if let Some(t) = first("TITLE") {
        w.leaf("t:JobTitle", &unescape(&t.value));
    }
    if !part(0).is_empty() {
        w.leaf("t:Surname", &part(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    fn element(xml: &str) -> Element {
        let doc = format!("<t:X xmlns:t=\"{NS_TYPES}\">{xml}</t:X>");
        parse(doc.as_bytes()).unwrap().children.remove(0)
    }

    fn owner() -> Owner {
        Owner {
            address: "demo@example.test".into(),
            zone: None,
        }
    }

    fn stored() -> Stored {
        Stored {
            key: ItemKey {
                store: [7; 16],
                folder: 9,
                message: 42,
                uid: 0,
            },
            change_number: 5,
        }
    }

    /// Writes a stored item's element and reads it back.
    fn written(item: &Item, occurrence: Option<&Instance>) -> Element {
        let mut w = XmlWriter::new();
        w.open("x", &[("xmlns:t", NS_TYPES)]);
        write_item(&mut w, &stored(), item, &owner(), false, occurrence);
        parse(w.finish().as_bytes()).unwrap().children.remove(0)
    }

    #[test]
    fn a_calendar_item_round_trips_through_icalendar() {
        let e = element(
            "<t:CalendarItem><t:Subject>Review; a, b</t:Subject><t:Body BodyType=\"Text\">line1\nline2</t:Body>\
             <t:ReminderIsSet>1</t:ReminderIsSet><t:ReminderMinutesBeforeStart>30</t:ReminderMinutesBeforeStart>\
             <t:Start>2030-03-04T09:00:00Z</t:Start><t:IsAllDayEvent>0</t:IsAllDayEvent><t:End>2030-03-04T10:00:00Z</t:End>\
             <t:LegacyFreeBusyStatus>OOF</t:LegacyFreeBusyStatus><t:Location>Room 1</t:Location>\
             <t:RequiredAttendees><t:Attendee><t:Mailbox><t:Name>Bob</t:Name><t:EmailAddress>bob@example.test</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>\
             <t:StartTimeZone Id=\"W. Europe Standard Time\"/></t:CalendarItem>",
        );
        let item = item_from_element(ItemKind::Calendar, &e, &owner(), "uid-1").unwrap();
        assert_eq!(item.class, ItemClass::Appointment);
        let back = written(&item, None);
        assert_eq!(back.name, "CalendarItem");
        assert_eq!(back.t_text("Subject"), Some("Review; a, b"));
        assert_eq!(back.t("Body").unwrap().text, "line1\nline2");
        assert_eq!(back.t_text("Start"), Some("2030-03-04T09:00:00Z"));
        assert_eq!(back.t_text("End"), Some("2030-03-04T10:00:00Z"));
        assert_eq!(back.t_text("LegacyFreeBusyStatus"), Some("OOF"));
        assert_eq!(back.t_text("Location"), Some("Room 1"));
        assert_eq!(back.t_text("UID"), Some("uid-1"));
        assert_eq!(back.t_text("ReminderIsSet"), Some("true"));
        assert_eq!(back.t_text("ReminderMinutesBeforeStart"), Some("30"));
        assert_eq!(back.t_text("CalendarItemType"), Some("Single"));
        let bob = back.t("RequiredAttendees").unwrap().children[0]
            .t("Mailbox")
            .unwrap();
        assert_eq!(bob.t_text("EmailAddress"), Some("bob@example.test"));
        assert_eq!(
            back.t("StartTimeZone").and_then(|z| z.attr("Id")),
            Some("W. Europe Standard Time")
        );
    }

    #[test]
    fn a_weekly_series_expands_and_keeps_its_pattern() {
        let e = element(
            "<t:CalendarItem><t:Subject>Standup</t:Subject>\
             <t:Start>2030-03-04T08:00:00Z</t:Start><t:End>2030-03-04T08:30:00Z</t:End>\
             <t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek></t:WeeklyRecurrence>\
             <t:NumberedRecurrence><t:StartDate>2030-03-04</t:StartDate><t:NumberOfOccurrences>4</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>\
             <t:StartTimeZone Id=\"UTC\"/></t:CalendarItem>",
        );
        let item = item_from_element(ItemKind::Calendar, &e, &owner(), "uid-2").unwrap();
        let from = parse_date_time("2030-03-01T00:00:00Z").unwrap();
        let to = parse_date_time("2030-04-01T00:00:00Z").unwrap();
        let starts: Vec<String> = instances(&item, &owner(), from, to)
            .iter()
            .map(|i| date_time(i.start))
            .collect();
        assert_eq!(
            starts,
            [
                "2030-03-04T08:00:00Z",
                "2030-03-06T08:00:00Z",
                "2030-03-11T08:00:00Z",
                "2030-03-13T08:00:00Z"
            ]
        );
        let back = written(&item, None);
        assert_eq!(back.t_text("CalendarItemType"), Some("RecurringMaster"));
        let r = back.t("Recurrence").unwrap();
        let weekly = r.t("WeeklyRecurrence").unwrap();
        assert_eq!(weekly.t_text("DaysOfWeek"), Some("Monday Wednesday"));
        assert_eq!(
            r.t("NumberedRecurrence")
                .and_then(|n| n.t_text("NumberOfOccurrences")),
            Some("4")
        );
        // An occurrence is written with its own times and an id that finds it again.
        let second = instances(&item, &owner(), from, to)[1];
        let occ = written(&item, Some(&second));
        assert_eq!(occ.t_text("CalendarItemType"), Some("Occurrence"));
        assert_eq!(occ.t_text("Start"), Some("2030-03-06T08:00:00Z"));
        let id = occ.t("ItemId").and_then(|i| i.attr("Id")).unwrap();
        let key = OccurrenceKey::decode(id).unwrap();
        assert_eq!(key.item, stored().key);
        assert_eq!(
            find_instance(&item, &owner(), key.original_start),
            Some(second)
        );
    }

    #[test]
    fn recurrence_patterns_become_rules() {
        let cases = [
            (
                "<t:DailyRecurrence><t:Interval>2</t:Interval></t:DailyRecurrence><t:NoEndRecurrence><t:StartDate>2030-01-01</t:StartDate></t:NoEndRecurrence>",
                "RRULE:FREQ=DAILY;INTERVAL=2\r\n",
            ),
            (
                "<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Tuesday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence><t:EndDateRecurrence><t:StartDate>2030-01-01</t:StartDate><t:EndDate>2030-12-31Z</t:EndDate></t:EndDateRecurrence>",
                "RRULE:FREQ=MONTHLY;INTERVAL=1;BYDAY=-1TU;UNTIL=20301231T235959Z\r\n",
            ),
            (
                "<t:AbsoluteYearlyRecurrence><t:DayOfMonth>24</t:DayOfMonth><t:Month>December</t:Month></t:AbsoluteYearlyRecurrence>",
                "RRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24\r\n",
            ),
        ];
        for (xml, want) in cases {
            let r = element(&format!("<t:Recurrence>{xml}</t:Recurrence>"));
            assert_eq!(rrule(&r, false).unwrap(), want, "{xml}");
        }
        let bad = element(
            "<t:Recurrence><t:WeeklyRecurrence><t:DaysOfWeek>Caturday</t:DaysOfWeek></t:WeeklyRecurrence></t:Recurrence>",
        );
        assert!(rrule(&bad, false).is_err());
    }

    #[test]
    fn a_contact_round_trips_through_vcard() {
        let e = element(
            "<t:Contact><t:GivenName>Ada</t:GivenName><t:Surname>Lovelace</t:Surname>\
             <t:CompanyName>Analytical; Engines</t:CompanyName><t:JobTitle>Analyst</t:JobTitle>\
             <t:EmailAddresses><t:Entry Key=\"EmailAddress1\">ada@example.test</t:Entry></t:EmailAddresses>\
             <t:PhoneNumbers><t:Entry Key=\"MobilePhone\">+44 20</t:Entry><t:Entry Key=\"BusinessPhone\">+44 21</t:Entry></t:PhoneNumbers>\
             <t:PhysicalAddresses><t:Entry Key=\"Business\"><t:Street>1 Engine St</t:Street><t:City>London</t:City><t:PostalCode>N1</t:PostalCode><t:CountryOrRegion>UK</t:CountryOrRegion></t:Entry></t:PhysicalAddresses>\
             </t:Contact>",
        );
        let item = item_from_element(ItemKind::Contact, &e, &owner(), "c-1").unwrap();
        let back = written(&item, None);
        assert_eq!(back.name, "Contact");
        assert_eq!(back.t_text("GivenName"), Some("Ada"));
        assert_eq!(back.t_text("Surname"), Some("Lovelace"));
        assert_eq!(back.t_text("CompanyName"), Some("Analytical; Engines"));
        assert_eq!(back.t_text("JobTitle"), Some("Analyst"));
        assert_eq!(back.t_text("DisplayName"), Some("Ada Lovelace"));
        let emails = back.t("EmailAddresses").unwrap();
        assert_eq!(emails.children[0].text, "ada@example.test");
        let phones: Vec<_> = back
            .t("PhoneNumbers")
            .unwrap()
            .children
            .iter()
            .map(|p| (p.attr("Key").unwrap(), p.text.as_str()))
            .collect();
        assert!(phones.contains(&("MobilePhone", "+44 20")), "{phones:?}");
        assert!(phones.contains(&("BusinessPhone", "+44 21")), "{phones:?}");
        let adr = &back.t("PhysicalAddresses").unwrap().children[0];
        assert_eq!(adr.attr("Key"), Some("Business"));
        assert_eq!(adr.t_text("City"), Some("London"));
        assert_eq!(adr.t_text("Street"), Some("1 Engine St"));
        assert_eq!(adr.t_text("PostalCode"), Some("N1"));
    }

    #[test]
    fn a_task_round_trips_through_icalendar() {
        let e = element(
            "<t:Task><t:Subject>Write report</t:Subject><t:DueDate>2030-04-01T00:00:00Z</t:DueDate>\
             <t:PercentComplete>40</t:PercentComplete><t:Status>InProgress</t:Status></t:Task>",
        );
        let item = item_from_element(ItemKind::Task, &e, &owner(), "t-1").unwrap();
        let back = written(&item, None);
        assert_eq!(back.name, "Task");
        assert_eq!(back.t_text("Subject"), Some("Write report"));
        assert_eq!(back.t_text("DueDate"), Some("2030-04-01T00:00:00Z"));
        assert_eq!(back.t_text("PercentComplete"), Some("40"));
        assert_eq!(back.t_text("Status"), Some("InProgress"));
    }

    #[test]
    fn wrong_types_and_bad_values_are_refused() {
        let msg = element("<t:Message><t:Subject>x</t:Subject></t:Message>");
        let e = item_from_element(ItemKind::Calendar, &msg, &owner(), "u").unwrap_err();
        assert_eq!(e.code, ResponseCode::ErrorObjectTypeChanged);
        let no_start = element("<t:CalendarItem><t:Subject>x</t:Subject></t:CalendarItem>");
        assert!(item_from_element(ItemKind::Calendar, &no_start, &owner(), "u").is_err());
        let bad_time = element("<t:CalendarItem><t:Start>soon</t:Start></t:CalendarItem>");
        assert!(item_from_element(ItemKind::Calendar, &bad_time, &owner(), "u").is_err());
        let bad_pct = element("<t:Task><t:PercentComplete>140</t:PercentComplete></t:Task>");
        assert!(item_from_element(ItemKind::Task, &bad_pct, &owner(), "u").is_err());
    }
}
