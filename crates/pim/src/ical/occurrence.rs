//! One occurrence of a recurring event, in iCalendar text: its override
//! (the VEVENT of the series' UID with that RECURRENCE-ID), made from the
//! series' master when there is none yet (the master's properties at the
//! instance's own times, without the rule), as Exchange makes an
//! exception when one instance is answered or changed.
//!
//! An occurrence is named by its original start as the series' wall time
//! (the value of its RECURRENCE-ID, in the zone of the master's DTSTART;
//! EWS occurrence ids carry it): [`original_start_of_utc`] turns an
//! instant (ActiveSync's InstanceId) into it, [`original_start_of_line`]
//! a RECURRENCE-ID line as the organizer's calendar wrote it.
//!
//! [`answer_occurrence`] is the attendee's answer to one occurrence on
//! their copy of the series — the one place ActiveSync and EWS apply it —
//! and returns the occurrence the REPLY is built from; the receiving
//! rules (`ical::scheduling`) use [`with_partstat`] and [`with_override`].

use super::export::{ExportOptions, item_to_ical};
use super::imip::{Answer, unfold};
use super::import::{ImportOptions, parse_calendar};
use super::scheduling::{address_of, param, split_line};
use crate::item::{Item, ItemClass};
use crate::recur::expand::{ExpandOptions, Zone, expand};
use crate::recur::mapi::series_of_item;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use groxide_mapi::lids;

/// Why an occurrence cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OccurrenceError {
    /// The item has no recurrence.
    #[error("the item is no recurring series")]
    NotASeries,
    /// No instance of the series starts (originally) then.
    #[error("the series has no instance starting {0}")]
    NoSuchInstance(NaiveDateTime),
    /// The series does not convert to iCalendar and back.
    #[error("the series does not read as iCalendar: {0}")]
    Unreadable(String),
}

/// The attendee's copy of the series after answering one occurrence.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredOccurrence {
    /// The series with the occurrence's override carrying the answer.
    pub item: Item,
    /// A calendar holding only that occurrence (the REPLY names its
    /// DTSTART, DTEND, SEQUENCE and RECURRENCE-ID).
    pub occurrence: String,
}

/// The form of the series' start (its master's DTSTART), which every
/// RECURRENCE-ID, DTSTART and DTEND of an override is written in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct StartForm {
    tzid: Option<String>,
    utc: bool,
    date: bool,
}

impl StartForm {
    fn of_line(line: &str) -> StartForm {
        let (head, value) = split_line(line);
        let value = value.trim();
        StartForm {
            tzid: param(head, "TZID"),
            utc: value.ends_with(['Z', 'z']),
            date: param(head, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
                || value.len() == 8,
        }
    }

    fn line(&self, name: &str, t: NaiveDateTime) -> String {
        if self.date {
            return format!("{name};VALUE=DATE:{}", t.format("%Y%m%d"));
        }
        let time = t.format("%Y%m%dT%H%M%S");
        match (&self.tzid, self.utc) {
            (_, true) => format!("{name}:{time}Z"),
            (Some(z), false) if z.contains([':', ';', ',']) => {
                format!("{name};TZID=\"{z}\":{time}")
            }
            (Some(z), false) => format!("{name};TZID={z}:{time}"),
            (None, false) => format!("{name}:{time}"),
        }
    }
}

/// The wall time of a DATE or DATE-TIME value.
fn wall_of_value(value: &str) -> Option<NaiveDateTime> {
    let v = value.trim().trim_end_matches(['Z', 'z']);
    NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(v, "%Y%m%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// The name of a content line, upper-cased.
fn name_of(line: &str) -> String {
    let (head, _) = split_line(line);
    head.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase()
}

/// The VEVENTs of a calendar's lines: (BEGIN, END) indices.
fn events(lines: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut begin = None;
    for (i, l) in lines.iter().enumerate() {
        let upper = l.to_ascii_uppercase();
        if upper.starts_with("BEGIN:") {
            depth += 1;
            if depth == 2 && upper == "BEGIN:VEVENT" {
                begin = Some(i);
            }
        } else if upper.starts_with("END:") {
            if depth == 2
                && upper == "END:VEVENT"
                && let Some(b) = begin.take()
            {
                out.push((b, i));
            }
            depth = depth.saturating_sub(1);
        }
    }
    out
}

/// The event's own properties (not its alarms'): indices into `event`.
fn own_props(event: &[String]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for (i, l) in event.iter().enumerate() {
        let upper = l.to_ascii_uppercase();
        if upper.starts_with("BEGIN:") {
            depth += 1;
        } else if upper.starts_with("END:") {
            depth = depth.saturating_sub(1);
        } else if depth == 1 {
            out.push(i);
        }
    }
    out
}

fn prop<'a>(event: &'a [String], name: &str) -> Option<&'a String> {
    own_props(event)
        .into_iter()
        .map(|i| &event[i])
        .find(|l| name_of(l) == name)
}

/// The original start an override names (`None`: the master).
fn rid_of(event: &[String]) -> Option<NaiveDateTime> {
    prop(event, "RECURRENCE-ID").and_then(|l| wall_of_value(split_line(l).1))
}

fn sequence_in(event: &[String]) -> Option<i64> {
    prop(event, "SEQUENCE").and_then(|l| split_line(l).1.trim().parse().ok())
}

/// A series' text split into its lines and events.
struct SeriesText {
    lines: Vec<String>,
    events: Vec<(usize, usize)>,
}

impl SeriesText {
    fn read(ics: &str) -> SeriesText {
        let lines = unfold(ics);
        let events = events(&lines);
        SeriesText { lines, events }
    }

    fn event(&self, (b, e): (usize, usize)) -> &[String] {
        &self.lines[b..=e]
    }

    fn master(&self) -> Option<&[String]> {
        self.events
            .iter()
            .map(|r| self.event(*r))
            .find(|e| rid_of(e).is_none())
    }

    fn override_of(&self, original_start: NaiveDateTime) -> Option<(usize, usize)> {
        self.events
            .iter()
            .copied()
            .find(|r| rid_of(self.event(*r)) == Some(original_start))
    }

    /// The override of `original_start`, or one made from the master.
    fn occurrence(&self, original_start: NaiveDateTime, duration: Duration) -> Option<Vec<String>> {
        if let Some(r) = self.override_of(original_start) {
            return Some(self.event(r).to_vec());
        }
        let master = self.master()?;
        let form = StartForm::of_line(prop(master, "DTSTART")?);
        let end = original_start
            .checked_add_signed(duration)
            .unwrap_or(original_start);
        let own = own_props(master);
        let mut out = Vec::with_capacity(master.len() + 2);
        for (i, l) in master.iter().enumerate() {
            let dropped = own.contains(&i)
                && matches!(
                    name_of(l).as_str(),
                    "DTSTART" | "DTEND" | "DURATION" | "RRULE" | "RDATE" | "EXDATE" | "EXRULE"
                );
            if !dropped {
                out.push(l.clone());
            }
            if i == 0 {
                out.push(form.line("RECURRENCE-ID", original_start));
                out.push(form.line("DTSTART", original_start));
                out.push(form.line("DTEND", end));
            }
        }
        Some(out)
    }

    /// The text with `event` as the override of `original_start`: in place
    /// of the one there is, else after the last event.
    fn with(&self, original_start: NaiveDateTime, event: &[String]) -> String {
        let (from, to) = match self.override_of(original_start) {
            Some((b, e)) => (b, e + 1),
            None => {
                let after = self.events.last().map_or(self.lines.len(), |(_, e)| e + 1);
                (after, after)
            }
        };
        let mut out = String::new();
        for l in self.lines[..from]
            .iter()
            .chain(event)
            .chain(&self.lines[to..])
        {
            out.push_str(l);
            out.push_str("\r\n");
        }
        out
    }

    fn sequence_of(&self, original_start: NaiveDateTime) -> i64 {
        self.override_of(original_start)
            .and_then(|r| sequence_in(self.event(r)))
            .or_else(|| self.master().and_then(sequence_in))
            .unwrap_or(0)
    }
}

/// Splits a content line's name part at its ';' outside quotes.
fn head_parts(head: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in head.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&head[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&head[start..]);
    out
}

/// Sets PARTSTAT of `attendee`'s ATTENDEE line in `event`; false when the
/// event does not list the attendee.
fn set_partstat(event: &mut [String], attendee: &str, partstat: &str) -> bool {
    let attendee = address_of(attendee);
    let mut found = false;
    for i in own_props(event) {
        let line = &event[i];
        let (head, value) = split_line(line);
        if name_of(line) != "ATTENDEE" || address_of(value) != attendee {
            continue;
        }
        let mut parts: Vec<String> = head_parts(head)
            .into_iter()
            .filter(|p| {
                !p.split_once('=')
                    .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("PARTSTAT"))
            })
            .map(str::to_string)
            .collect();
        parts.push(format!("PARTSTAT={partstat}"));
        event[i] = format!("{}:{value}", parts.join(";"));
        found = true;
    }
    found
}

/// Sets (or adds) the event's property `name` to `value`.
fn set_prop(event: &mut Vec<String>, name: &str, value: &str) {
    let line = format!("{name}:{value}");
    match own_props(event)
        .into_iter()
        .find(|i| name_of(&event[*i]) == name)
    {
        Some(i) => event[i] = line,
        None => event.insert(1, line),
    }
}

/// The SEQUENCE of occurrence `original_start`: its override's, else the
/// series'.
pub fn occurrence_sequence(series_ics: &str, original_start: NaiveDateTime) -> i64 {
    SeriesText::read(series_ics).sequence_of(original_start)
}

/// Whether the series text has an override for `original_start`.
pub fn has_override(series_ics: &str, original_start: NaiveDateTime) -> bool {
    SeriesText::read(series_ics)
        .override_of(original_start)
        .is_some()
}

/// `series_ics` in which `attendee` answers occurrence `original_start`
/// with `partstat` (and, when given, the occurrence shows as `busy`, an
/// X-MICROSOFT-CDO-BUSYSTATUS value): its override changed, or made from
/// the master (`duration` long). `None` when the series has no master or
/// the occurrence does not list the attendee.
pub fn with_partstat(
    series_ics: &str,
    original_start: NaiveDateTime,
    duration: Duration,
    attendee: &str,
    partstat: &str,
    busy: Option<&str>,
) -> Option<String> {
    let text = SeriesText::read(series_ics);
    let mut event = text.occurrence(original_start, duration)?;
    let listed = set_partstat(&mut event, attendee, partstat);
    if !listed && busy.is_none() {
        return None;
    }
    if let Some(busy) = busy {
        set_prop(&mut event, "X-MICROSOFT-CDO-BUSYSTATUS", busy);
    }
    Some(text.with(original_start, &event))
}

/// `series_ics` with the first VEVENT of `event_ics` (an organizer's
/// REQUEST for one occurrence) as the override of `original_start`, its
/// RECURRENCE-ID written as the series writes its start; `busy`, when
/// given, is the occurrence's X-MICROSOFT-CDO-BUSYSTATUS. `None` when
/// either has no event.
pub fn with_override(
    series_ics: &str,
    original_start: NaiveDateTime,
    event_ics: &str,
    busy: Option<&str>,
) -> Option<String> {
    let text = SeriesText::read(series_ics);
    let form = StartForm::of_line(prop(text.master()?, "DTSTART")?);
    let incoming = SeriesText::read(event_ics);
    let first = *incoming.events.first()?;
    let mut event = incoming.event(first).to_vec();
    event.retain(|l| name_of(l) != "RECURRENCE-ID");
    event.insert(1, form.line("RECURRENCE-ID", original_start));
    if let Some(busy) = busy {
        set_prop(&mut event, "X-MICROSOFT-CDO-BUSYSTATUS", busy);
    }
    Some(text.with(original_start, &event))
}

/// A calendar holding only occurrence `original_start` of `series_ics`
/// (its time zones kept): what a REPLY to that occurrence is built from.
pub fn occurrence_calendar(
    series_ics: &str,
    original_start: NaiveDateTime,
    duration: Duration,
) -> Option<String> {
    let text = SeriesText::read(series_ics);
    let event = text.occurrence(original_start, duration)?;
    let mut out = String::new();
    let mut events = text.events.iter().peekable();
    let mut i = 0;
    let mut placed = false;
    while i < text.lines.len() {
        if let Some((b, e)) = events.peek().copied()
            && *b == i
        {
            if !placed {
                for l in &event {
                    out.push_str(l);
                    out.push_str("\r\n");
                }
                placed = true;
            }
            i = e + 1;
            events.next();
            continue;
        }
        out.push_str(&text.lines[i]);
        out.push_str("\r\n");
        i += 1;
    }
    Some(out)
}

/// The floating zone of export/import options, as the expander takes it.
fn floating_of(zone: Option<chrono_tz::Tz>) -> Zone {
    zone.map_or(Zone::Utc, Zone::Iana)
}

/// The original start (series wall time) of the instance of `item` that
/// starts at `utc` by its series' rule (ActiveSync's InstanceId); `None`
/// when the item has no start.
pub fn original_start_of_utc(
    item: &Item,
    utc: i64,
    floating: Option<chrono_tz::Tz>,
) -> Option<NaiveDateTime> {
    let floating = floating_of(floating);
    let series = series_of_item(item, &floating).ok().flatten()?;
    Some(series.zone.to_local(utc, &floating))
}

/// The original start (series wall time) a RECURRENCE-ID line names: a UTC
/// value is turned into the series' zone, any other taken as its wall time.
pub fn original_start_of_line(item: &Item, line: &str) -> Option<NaiveDateTime> {
    let value = split_line(line).1.trim();
    let wall = wall_of_value(value)?;
    if !value.ends_with(['Z', 'z']) {
        return Some(wall);
    }
    let series = series_of_item(item, &Zone::Utc).ok().flatten()?;
    Some(match series.zone {
        Zone::Utc | Zone::Floating => wall,
        zone => zone.to_local(wall.and_utc().timestamp(), &Zone::Utc),
    })
}

/// The duration of the series `item` when `original_start` is one of its
/// instances (a deleted one is not).
pub fn instance_of(
    item: &Item,
    original_start: NaiveDateTime,
    floating: Option<chrono_tz::Tz>,
) -> Result<Duration, OccurrenceError> {
    if item.get(&lids::PID_LID_APPOINTMENT_RECUR).is_none() {
        return Err(OccurrenceError::NotASeries);
    }
    let floating = floating_of(floating);
    let series = series_of_item(item, &floating)
        .map_err(|e| OccurrenceError::Unreadable(e.to_string()))?
        .ok_or(OccurrenceError::NotASeries)?;
    let at = series.zone.to_utc(original_start, &floating);
    let day = 86_400 * 3;
    let opts = ExpandOptions {
        floating: floating.clone(),
        ..ExpandOptions::default()
    };
    let found = series
        .overrides
        .iter()
        .any(|o| o.original_start == original_start)
        || expand(&series, at - day, at + day, &opts)
            .instances
            .iter()
            .any(|i| i.original_start == original_start);
    if found {
        Ok(Duration::seconds(series.duration))
    } else {
        Err(OccurrenceError::NoSuchInstance(original_start))
    }
}

/// The first appointment of an iCalendar text, read as `owner`'s.
pub(crate) fn appointment_of(
    ics: &str,
    owner: &str,
    floating: Option<chrono_tz::Tz>,
) -> Result<Item, String> {
    let opts = ImportOptions {
        owner: Some(owner.to_string()),
        floating_zone: floating,
        ..ImportOptions::default()
    };
    match parse_calendar(ics.as_bytes(), &opts)
        .items
        .into_iter()
        .next()
    {
        Some(Ok(item)) if item.class == ItemClass::Appointment => Ok(item),
        Some(Ok(_)) => Err("not a VEVENT".into()),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("no event".into()),
    }
}

/// `user` answers occurrence `original_start` of `item`, their copy of a
/// series someone else organises: that occurrence's override (made from
/// the master when there is none) gets the user's PARTSTAT and shows busy
/// (accept), tentative or free (decline); the rest of the series stays as
/// it is. `opts` as the item was imported with.
pub fn answer_occurrence(
    item: &Item,
    user: &str,
    original_start: NaiveDateTime,
    answer: Answer,
    opts: &ExportOptions,
) -> Result<AnsweredOccurrence, OccurrenceError> {
    let duration = instance_of(item, original_start, opts.floating_zone)?;
    let ics = item_to_ical(item, opts).map_err(|e| OccurrenceError::Unreadable(e.to_string()))?;
    let busy = match answer {
        Answer::Accept => "BUSY",
        Answer::Tentative => "TENTATIVE",
        Answer::Decline => "FREE",
    };
    let unreadable = || OccurrenceError::Unreadable("the series has no master event".into());
    let changed = with_partstat(
        &ics,
        original_start,
        duration,
        user,
        answer.partstat(),
        Some(busy),
    )
    .ok_or_else(unreadable)?;
    let mut answered =
        appointment_of(&changed, user, opts.floating_zone).map_err(OccurrenceError::Unreadable)?;
    // What iCalendar does not carry stays as the store had it.
    for key in [&lids::PID_LID_INTENDED_BUSY_STATUS] {
        if let Some(v) = item.get(key) {
            answered.set(key, v.clone());
        }
    }
    let occurrence =
        occurrence_calendar(&changed, original_start, duration).ok_or_else(unreadable)?;
    Ok(AnsweredOccurrence {
        item: answered,
        occurrence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::ResponseStatus;

    const DEMO: &str = "demo@example.test";

    /// The attendee's copy of a weekly Berlin meeting at 15:00 local.
    fn attendees_copy() -> Item {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n\
             UID:weekly-1\r\nSEQUENCE:3\r\nDTSTAMP:20261201T090000Z\r\n\
             DTSTART;TZID=Europe/Berlin:20261215T150000\r\n\
             DTEND;TZID=Europe/Berlin:20261215T153000\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\n\
             SUMMARY:Standup\r\nORGANIZER:mailto:boss@example.test\r\n\
             ATTENDEE;PARTSTAT=ACCEPTED:mailto:demo@example.test\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n";
        appointment_of(ics, DEMO, None).unwrap()
    }

    fn text(item: &Item) -> String {
        String::from_utf8(item.original.clone().unwrap_or_default())
            .unwrap()
            .replace("\r\n ", "")
    }

    fn wall(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn an_instant_names_the_instance_by_the_series_wall_time() {
        let item = attendees_copy();
        // 14:00 UTC is 15:00 in Berlin in December.
        let utc = wall(22, 14).and_utc().timestamp();
        assert_eq!(original_start_of_utc(&item, utc, None), Some(wall(22, 15)));
        assert_eq!(
            original_start_of_line(&item, "RECURRENCE-ID:20261222T140000Z"),
            Some(wall(22, 15))
        );
        assert_eq!(
            original_start_of_line(&item, "RECURRENCE-ID;TZID=Europe/Berlin:20261222T150000"),
            Some(wall(22, 15))
        );
        assert!(instance_of(&item, wall(22, 15), None).is_ok());
        assert_eq!(
            instance_of(&item, wall(22, 14), None),
            Err(OccurrenceError::NoSuchInstance(wall(22, 14)))
        );
    }

    #[test]
    fn declining_one_occurrence_changes_only_that_occurrence() {
        let item = attendees_copy();
        let done = answer_occurrence(
            &item,
            DEMO,
            wall(22, 15),
            Answer::Decline,
            &ExportOptions {
                owner: Some(DEMO.into()),
                ..ExportOptions::default()
            },
        )
        .unwrap();
        let ics = text(&done.item);
        let block = ics
            .split("BEGIN:VEVENT")
            .find(|b| b.contains("RECURRENCE-ID"))
            .unwrap_or_else(|| panic!("no override: {ics}"));
        assert!(
            block.contains("RECURRENCE-ID;TZID=Europe/Berlin:20261222T150000"),
            "{block}"
        );
        assert!(
            block.contains("DTSTART;TZID=Europe/Berlin:20261222T150000"),
            "{block}"
        );
        assert!(
            block.contains("DTEND;TZID=Europe/Berlin:20261222T153000"),
            "{block}"
        );
        assert!(
            block.contains("PARTSTAT=DECLINED:mailto:demo@example.test"),
            "{block}"
        );
        assert!(block.contains("X-MICROSOFT-CDO-BUSYSTATUS:FREE"), "{block}");
        // The series is still accepted, every instance still there.
        assert_eq!(ics.matches("PARTSTAT=ACCEPTED").count(), 1, "{ics}");
        assert_eq!(
            done.item.int(&lids::PID_LID_RESPONSE_STATUS),
            Some(i64::from(ResponseStatus::Accepted.code()))
        );
        assert!(instance_of(&done.item, wall(29, 15), None).is_ok());
        // What the REPLY is built from: that occurrence alone.
        let reply = super::super::imip::reply_object(
            DEMO,
            "boss@example.test",
            "weekly-1",
            "Standup",
            &done.occurrence,
            Answer::Decline,
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        );
        assert!(
            reply.contains("RECURRENCE-ID;TZID=Europe/Berlin:20261222T150000\r\n"),
            "{reply}"
        );
        assert!(reply.contains("SEQUENCE:3\r\n"), "{reply}");
        assert!(!reply.contains("RRULE"), "{reply}");
        // A time that is no instance is refused.
        assert!(matches!(
            answer_occurrence(
                &item,
                DEMO,
                wall(23, 15),
                Answer::Accept,
                &ExportOptions::default()
            ),
            Err(OccurrenceError::NoSuchInstance(_))
        ));
    }
}
