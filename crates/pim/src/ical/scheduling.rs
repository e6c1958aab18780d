//! What an arriving iMIP message (RFC 6047, iTIP RFC 5546) does to the
//! recipient's calendar, as Exchange does it: a REQUEST puts the meeting
//! in the attendee's calendar as tentative (their PARTSTAT as the request
//! says, normally NEEDS-ACTION) and a later one with a higher SEQUENCE
//! replaces it; a REPLY sets the answering attendee's PARTSTAT on the
//! organizer's event; a CANCEL marks the attendee's copy cancelled or
//! removes the named occurrence. A REQUEST or REPLY with a RECURRENCE-ID
//! concerns one occurrence of a series the recipient has: it changes
//! that occurrence's override (made from the series when there is none,
//! `ical::occurrence`), each override ordered by its own SEQUENCE.
//!
//! Pure rules, no store: [`Arrival::read`] reads the scheduling object,
//! [`apply`] decides from it, the sender and the stored event (if any)
//! what the calendar item becomes. Nothing changes unless the sender is
//! the event's ORGANIZER (REQUEST, CANCEL) or the answering ATTENDEE
//! (REPLY), and nothing older than the stored event (SEQUENCE) wins, so
//! applying one message twice changes nothing the second time.

use super::export::{ExportOptions, item_to_ical};
use super::imip::{Method, calendar_method, event_lines};
use super::occurrence::{self, OccurrenceError};
use crate::item::{Item, ResponseStatus};
use groxide_mapi::{PropValue, lids};

/// Why an iMIP message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArrivalError {
    /// No METHOD, or one this server does not act on (PUBLISH, COUNTER, …).
    #[error("no METHOD REQUEST, REPLY or CANCEL")]
    NoMethod,
    /// The event has no UID.
    #[error("the VEVENT has no UID")]
    NoUid,
}

/// The scheduling object of an arriving mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// REQUEST, REPLY or CANCEL.
    pub method: Method,
    /// The event's UID.
    pub uid: String,
    /// Its SEQUENCE (0 without one).
    pub sequence: i64,
    /// The ORGANIZER's address ("" without one).
    pub organizer: String,
    /// The first ATTENDEE and its PARTSTAT (upper-cased; "" without one).
    pub attendee: Option<(String, String)>,
    /// The RECURRENCE-ID line of the first VEVENT, as it was.
    pub recurrence_id: Option<String>,
    /// The iCalendar text.
    pub text: String,
}

/// Why a message leaves the calendar as it is (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A REQUEST or CANCEL not sent by the event's organizer.
    NotFromOrganizer,
    /// A REPLY not sent by one of the event's attendees.
    NotFromAttendee,
    /// The stored event is newer (REQUEST: not older) than the message.
    Stale,
    /// No stored event with that UID (REPLY, CANCEL; a REQUEST for one
    /// occurrence of a series the user does not have that is not one
    /// event alone).
    NoSuchEvent,
    /// The stored series has no instance at the RECURRENCE-ID.
    NoSuchOccurrence,
    /// A REQUEST or CANCEL for a meeting the user organises, or a REPLY
    /// to one the user does not.
    NotTheUsersRole,
    /// What this server does not do yet (named).
    Unsupported(&'static str),
    /// The iCalendar object does not read as an event.
    Unreadable(String),
}

/// What the calendar item becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Store this item (in place of the stored one, if any).
    Store(Box<Item>),
    /// Leave the calendar as it is.
    Unchanged(Skip),
}

/// The address of a `mailto:` URI (or of a bare address), lower-cased.
pub(crate) fn address_of(value: &str) -> String {
    let v = value.trim();
    let v = match (v.get(..7), v.get(7..)) {
        (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("mailto:") => rest,
        _ => v,
    };
    v.trim().to_ascii_lowercase()
}

/// A content line split at its first ':' outside quotes: (name and
/// parameters, value).
pub(crate) fn split_line(line: &str) -> (&str, &str) {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return (&line[..i], &line[i + 1..]),
            _ => {}
        }
    }
    (line, "")
}

/// The value of parameter `name` of a content line's name part.
pub(crate) fn param(head: &str, name: &str) -> Option<String> {
    head.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

impl Arrival {
    /// Reads an iMIP object (the text/calendar part of a mail).
    pub fn read(ics: &str) -> Result<Arrival, ArrivalError> {
        let method = match calendar_method(ics).as_deref() {
            Some("REQUEST") => Method::Request,
            Some("REPLY") => Method::Reply,
            Some("CANCEL") => Method::Cancel,
            _ => return Err(ArrivalError::NoMethod),
        };
        let lines = event_lines(
            ics,
            &["UID", "SEQUENCE", "ORGANIZER", "ATTENDEE", "RECURRENCE-ID"],
        );
        let named = |name: &str| {
            lines.iter().find(|l| {
                let (head, _) = split_line(l);
                head.split(';')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
        };
        let uid = named("UID")
            .map(|l| split_line(l).1.trim().to_string())
            .filter(|u| !u.is_empty())
            .ok_or(ArrivalError::NoUid)?;
        let sequence = named("SEQUENCE")
            .and_then(|l| split_line(l).1.trim().parse().ok())
            .unwrap_or(0);
        let organizer = named("ORGANIZER")
            .map(|l| address_of(split_line(l).1))
            .unwrap_or_default();
        let attendee = named("ATTENDEE").map(|l| {
            let (head, value) = split_line(l);
            (
                address_of(value),
                param(head, "PARTSTAT")
                    .unwrap_or_default()
                    .to_ascii_uppercase(),
            )
        });
        Ok(Arrival {
            method,
            uid,
            sequence,
            organizer,
            attendee,
            recurrence_id: named("RECURRENCE-ID").cloned(),
            text: ics.to_string(),
        })
    }

    /// The PR_MESSAGE_CLASS of the mail carrying it ([MS-OXOCAL] 2.2.6):
    /// `None` for a REPLY whose PARTSTAT is no answer.
    pub fn message_class(&self) -> Option<&'static str> {
        Some(match self.method {
            Method::Request => "IPM.Schedule.Meeting.Request",
            Method::Cancel => "IPM.Schedule.Meeting.Canceled",
            Method::Reply => match self.attendee.as_ref().map(|(_, p)| p.as_str()) {
                Some("ACCEPTED") => "IPM.Schedule.Meeting.Resp.Pos",
                Some("DECLINED") => "IPM.Schedule.Meeting.Resp.Neg",
                Some("TENTATIVE") => "IPM.Schedule.Meeting.Resp.Tent",
                _ => return None,
            },
        })
    }
}

/// The organizer's address of a stored event ("" without one).
fn organizer_of(item: &Item) -> String {
    item.recipients
        .iter()
        .find(|r| r.organizer)
        .map(|r| r.address.to_ascii_lowercase())
        .unwrap_or_default()
}

fn sequence_of(item: &Item) -> i64 {
    item.int(&lids::PID_LID_APPOINTMENT_SEQUENCE).unwrap_or(0)
}

/// Writes the kept iCalendar object again after a change (CalDAV serves
/// it), as `answer_item` does.
fn refresh_original(item: &mut Item, user: &str) {
    if item.original.is_none() {
        return;
    }
    let opts = ExportOptions {
        owner: Some(user.to_string()),
        ..ExportOptions::default()
    };
    if let Ok(ics) = item_to_ical(item, &opts) {
        item.original = Some(ics.into_bytes());
    }
}

/// The event of an iCalendar object, read as `user`'s.
fn event_of(ics: &str, user: &str) -> Result<Item, Skip> {
    occurrence::appointment_of(ics, user, None).map_err(Skip::Unreadable)
}

/// The occurrence of the stored series a RECURRENCE-ID line names: its
/// original start, the series' iCalendar (as `user`'s) and its duration.
fn occurrence_of(
    stored: &Item,
    rid: &str,
    user: &str,
) -> Result<(chrono::NaiveDateTime, String, chrono::Duration), Skip> {
    let original_start = occurrence::original_start_of_line(stored, rid)
        .ok_or_else(|| Skip::Unreadable(format!("a RECURRENCE-ID that does not read: {rid}")))?;
    let duration = occurrence::instance_of(stored, original_start, None).map_err(|e| match e {
        OccurrenceError::NotASeries => Skip::Unsupported("an occurrence of a single event"),
        OccurrenceError::NoSuchInstance(_) => Skip::NoSuchOccurrence,
        OccurrenceError::Unreadable(why) => Skip::Unreadable(why),
    })?;
    let opts = ExportOptions {
        owner: Some(user.to_string()),
        ..ExportOptions::default()
    };
    let ics = item_to_ical(stored, &opts).map_err(|e| Skip::Unreadable(e.to_string()))?;
    Ok((original_start, ics, duration))
}

/// The series re-read after one occurrence changed; the store keeps what
/// iCalendar does not carry.
fn series_again(ics: &str, user: &str, stored: &Item) -> Result<Item, Skip> {
    let mut item = event_of(ics, user)?;
    for key in [&lids::PID_LID_INTENDED_BUSY_STATUS] {
        if let Some(v) = stored.get(key) {
            item.set(key, v.clone());
        }
    }
    Ok(item)
}

/// A REQUEST for one occurrence (the sender checked as the organizer):
/// the override of that instance in the user's copy of the series, kept
/// tentative until answered; only a SEQUENCE above the override's (or,
/// without one yet, not below the series') changes it.
fn request_occurrence(
    arrival: &Arrival,
    rid: &str,
    user: &str,
    stored: Option<&Item>,
) -> Result<Item, Skip> {
    let Some(stored) = stored else {
        return lone_occurrence(arrival, user);
    };
    if organizer_of(stored) != arrival.organizer {
        return Err(Skip::NotFromOrganizer);
    }
    if !is_series(stored) {
        // The user's copy is such a lone occurrence: a newer message
        // replaces it.
        if arrival.sequence <= sequence_of(stored) {
            return Err(Skip::Stale);
        }
        return lone_occurrence(arrival, user);
    }
    let (original_start, ics, _) = occurrence_of(stored, rid, user)?;
    let sequence = occurrence::occurrence_sequence(&ics, original_start);
    let known = occurrence::has_override(&ics, original_start);
    if arrival.sequence < sequence || (known && arrival.sequence <= sequence) {
        return Err(Skip::Stale);
    }
    let free = event_lines(&arrival.text, &["X-MICROSOFT-CDO-BUSYSTATUS"])
        .iter()
        .any(|l| split_line(l).1.trim().eq_ignore_ascii_case("FREE"));
    let changed = occurrence::with_override(
        &ics,
        original_start,
        &arrival.text,
        (!free).then_some("TENTATIVE"),
    )
    .ok_or_else(|| Skip::Unreadable("the stored series has no master event".into()))?;
    series_again(&changed, user, stored)
}

/// A REPLY for one occurrence (the sender checked as the attendee it
/// names): that attendee's PARTSTAT on the occurrence's override, made
/// from the series when there is none; an answer older than the
/// occurrence (its SEQUENCE) changes nothing.
fn reply_occurrence(
    arrival: &Arrival,
    rid: &str,
    (attendee, partstat): (&str, &str),
    user: &str,
    stored: &Item,
) -> Result<Item, Skip> {
    if !matches!(
        partstat,
        "ACCEPTED" | "DECLINED" | "TENTATIVE" | "NEEDS-ACTION"
    ) {
        return Err(Skip::Unsupported("a PARTSTAT that is no answer"));
    }
    let (original_start, ics, duration) = occurrence_of(stored, rid, user)?;
    if arrival.sequence < occurrence::occurrence_sequence(&ics, original_start) {
        return Err(Skip::Stale);
    }
    let changed =
        occurrence::with_partstat(&ics, original_start, duration, attendee, partstat, None)
            .ok_or(Skip::NotFromAttendee)?;
    series_again(&changed, user, stored)
}

/// What `arrival`, sent by `sender` (the mail's From address) to `user`,
/// makes of `stored`, the user's calendar item with the same UID.
pub fn apply(arrival: &Arrival, sender: &str, user: &str, stored: Option<&Item>) -> Outcome {
    let sender = address_of(sender);
    let user = user.to_ascii_lowercase();
    match apply_checked(arrival, &sender, &user, stored) {
        Ok(item) => Outcome::Store(Box::new(item)),
        Err(skip) => Outcome::Unchanged(skip),
    }
}

fn apply_checked(
    arrival: &Arrival,
    sender: &str,
    user: &str,
    stored: Option<&Item>,
) -> Result<Item, Skip> {
    match arrival.method {
        Method::Request => request(arrival, sender, user, stored),
        Method::Reply => reply(arrival, sender, user, stored),
        Method::Cancel => cancel(arrival, sender, user, stored),
    }
}

fn request(
    arrival: &Arrival,
    sender: &str,
    user: &str,
    stored: Option<&Item>,
) -> Result<Item, Skip> {
    if arrival.organizer.is_empty() || arrival.organizer != sender {
        return Err(Skip::NotFromOrganizer);
    }
    if arrival.organizer == user {
        return Err(Skip::NotTheUsersRole);
    }
    if let Some(rid) = &arrival.recurrence_id {
        return request_occurrence(arrival, rid, user, stored);
    }
    if let Some(s) = stored {
        if organizer_of(s) != arrival.organizer {
            return Err(Skip::NotFromOrganizer);
        }
        if arrival.sequence <= sequence_of(s) {
            return Err(Skip::Stale);
        }
    }
    invited(&arrival.text, user)
}

/// The user's copy of an invitation: the event of `ics`, tentative until
/// the user answers (what the organizer meant is kept).
fn invited(ics: &str, user: &str) -> Result<Item, Skip> {
    let mut item = event_of(ics, user)?;
    let intended = item.int(&lids::PID_LID_BUSY_STATUS).unwrap_or(2);
    item.set(
        &lids::PID_LID_INTENDED_BUSY_STATUS,
        PropValue::Long(i32::try_from(intended).unwrap_or(2)),
    );
    if intended != 0 {
        item.set(&lids::PID_LID_BUSY_STATUS, PropValue::Long(1));
    }
    refresh_original(&mut item, user);
    Ok(item)
}

/// An invitation to one occurrence of a series the user does not have
/// (added to that meeting only): a single appointment at the occurrence's
/// time, as Exchange makes one. Only a message with one VEVENT reads so.
fn lone_occurrence(arrival: &Arrival, user: &str) -> Result<Item, Skip> {
    let lines = super::imip::unfold(&arrival.text);
    let events = lines
        .iter()
        .filter(|l| l.eq_ignore_ascii_case("BEGIN:VEVENT"))
        .count();
    if events != 1 {
        return Err(Skip::NoSuchEvent);
    }
    let mut text = String::with_capacity(arrival.text.len());
    for l in &lines {
        let upper = l.to_ascii_uppercase();
        let rid = upper.strip_prefix("RECURRENCE-ID");
        if rid.is_some_and(|rest| rest.starts_with(':') || rest.starts_with(';')) {
            continue;
        }
        text.push_str(l);
        text.push_str("\r\n");
    }
    invited(&text, user)
}

/// Whether `item` is a recurring series.
fn is_series(item: &Item) -> bool {
    item.get(&lids::PID_LID_APPOINTMENT_RECUR).is_some()
}

fn reply(arrival: &Arrival, sender: &str, user: &str, stored: Option<&Item>) -> Result<Item, Skip> {
    let stored = stored.ok_or(Skip::NoSuchEvent)?;
    if organizer_of(stored) != user {
        return Err(Skip::NotTheUsersRole);
    }
    let Some((attendee, partstat)) = &arrival.attendee else {
        return Err(Skip::Unreadable("a REPLY without ATTENDEE".into()));
    };
    if attendee != sender {
        return Err(Skip::NotFromAttendee);
    }
    if let Some(rid) = &arrival.recurrence_id {
        return reply_occurrence(
            arrival,
            rid,
            (attendee.as_str(), partstat.as_str()),
            user,
            stored,
        );
    }
    if arrival.sequence < sequence_of(stored) {
        return Err(Skip::Stale);
    }
    let response = match partstat.as_str() {
        "ACCEPTED" => ResponseStatus::Accepted,
        "DECLINED" => ResponseStatus::Declined,
        "TENTATIVE" => ResponseStatus::Tentative,
        "NEEDS-ACTION" => ResponseStatus::NotResponded,
        _ => return Err(Skip::Unsupported("a PARTSTAT that is no answer")),
    };
    let mut item = stored.clone();
    let Some(r) = item
        .recipients
        .iter_mut()
        .find(|r| !r.organizer && r.address.eq_ignore_ascii_case(attendee))
    else {
        return Err(Skip::NotFromAttendee);
    };
    r.response = response;
    refresh_original(&mut item, user);
    Ok(item)
}

fn cancel(
    arrival: &Arrival,
    sender: &str,
    user: &str,
    stored: Option<&Item>,
) -> Result<Item, Skip> {
    let stored = stored.ok_or(Skip::NoSuchEvent)?;
    let organizer = organizer_of(stored);
    if organizer == user {
        return Err(Skip::NotTheUsersRole);
    }
    if organizer.is_empty() || organizer != arrival.organizer || organizer != sender {
        return Err(Skip::NotFromOrganizer);
    }
    if arrival.sequence < sequence_of(stored) {
        return Err(Skip::Stale);
    }
    // A single event cancelled by occurrence is a lone occurrence (see
    // `lone_occurrence`): the event itself is cancelled.
    match arrival.recurrence_id.as_ref().filter(|_| is_series(stored)) {
        None => {
            let mut item = stored.clone();
            let flags = item
                .int(&lids::PID_LID_APPOINTMENT_STATE_FLAGS)
                .unwrap_or(0);
            item.set(
                &lids::PID_LID_APPOINTMENT_STATE_FLAGS,
                PropValue::Long(i32::try_from(flags | 0x4).unwrap_or(0x7)),
            );
            item.set(
                &lids::PID_LID_APPOINTMENT_SEQUENCE,
                PropValue::Long(i32::try_from(arrival.sequence).unwrap_or(0)),
            );
            refresh_original(&mut item, user);
            Ok(item)
        }
        Some(rid) => {
            let opts = ExportOptions {
                owner: Some(user.to_string()),
                ..ExportOptions::default()
            };
            let ics = item_to_ical(stored, &opts).map_err(|e| Skip::Unreadable(e.to_string()))?;
            let mut item = event_of(&without_occurrence(&ics, rid), user)?;
            // The store keeps what iCalendar does not carry.
            for key in [&lids::PID_LID_INTENDED_BUSY_STATUS] {
                if let Some(v) = stored.get(key) {
                    item.set(key, v.clone());
                }
            }
            Ok(item)
        }
    }
}

/// `ics` without the occurrence `rid_line` (a RECURRENCE-ID content
/// line): an EXDATE of that instance in the series, and its override, if
/// any, left out.
pub fn without_occurrence(ics: &str, rid_line: &str) -> String {
    let (head, value) = split_line(rid_line);
    let tzid = param(head, "TZID");
    let date = param(head, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    let exdate = format!(
        "EXDATE{}{}:{}\r\n",
        tzid.map(|t| format!(";TZID={t}")).unwrap_or_default(),
        if date { ";VALUE=DATE" } else { "" },
        value.trim()
    );
    let same_instance = |line: &str| split_line(line).1.trim() == value.trim();
    // Unfold first so that property lines are whole.
    let lines = super::imip::unfold(ics);
    let mut out = String::with_capacity(ics.len() + exdate.len());
    let mut i = 0;
    while i < lines.len() {
        if lines[i].eq_ignore_ascii_case("BEGIN:VEVENT") {
            let end = lines[i..]
                .iter()
                .position(|l| l.eq_ignore_ascii_case("END:VEVENT"))
                .map_or(lines.len() - 1, |p| i + p);
            let block = &lines[i..=end];
            let rid = block
                .iter()
                .find(|l| l.to_ascii_uppercase().starts_with("RECURRENCE-ID"));
            match rid {
                Some(r) if same_instance(r) => {}
                Some(_) => block.iter().for_each(|l| {
                    out.push_str(l);
                    out.push_str("\r\n");
                }),
                None => {
                    for l in &block[..block.len() - 1] {
                        out.push_str(l);
                        out.push_str("\r\n");
                    }
                    out.push_str(&exdate);
                    out.push_str("END:VEVENT\r\n");
                }
            }
            i = end + 1;
            continue;
        }
        out.push_str(&lines[i]);
        out.push_str("\r\n");
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recur::Zone;

    const BOSS: &str = "boss@example.test";
    const DEMO: &str = "demo@example.test";

    fn request(sequence: i64, summary: &str) -> String {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REQUEST\r\n\
             BEGIN:VEVENT\r\nUID:meet-1\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20261201T090000Z\r\n\
             DTSTART:20261215T140000Z\r\nDTEND:20261215T150000Z\r\nSUMMARY:{summary}\r\n\
             ORGANIZER;CN=Boss:mailto:{BOSS}\r\n\
             ATTENDEE;CN=Demo;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{DEMO}\r\n\
             ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@example.test\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    }

    fn reply(from: &str, partstat: &str, sequence: i64) -> String {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:meet-1\r\n\
             SEQUENCE:{sequence}\r\nDTSTAMP:20261201T100000Z\r\nORGANIZER:mailto:{BOSS}\r\n\
             ATTENDEE;PARTSTAT={partstat}:MAILTO:{from}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    }

    fn arrival(ics: &str) -> Arrival {
        Arrival::read(ics).unwrap()
    }

    fn stored(outcome: Outcome) -> Item {
        match outcome {
            Outcome::Store(item) => *item,
            Outcome::Unchanged(why) => panic!("unchanged: {why:?}"),
        }
    }

    fn original(item: &Item) -> String {
        String::from_utf8(item.original.clone().unwrap_or_default()).unwrap()
    }

    /// The organizer's own event, as the organizer's store keeps it.
    fn organizers_event(sequence: i64) -> Item {
        let text = request(sequence, "Planning").replace("METHOD:REQUEST\r\n", "");
        event_of(&text, BOSS).unwrap()
    }

    #[test]
    fn a_request_puts_the_meeting_in_the_attendees_calendar_as_tentative() {
        let item = stored(apply(&arrival(&request(0, "Planning")), BOSS, DEMO, None));
        assert_eq!(item.str(groxide_mapi::tags::PR_SUBJECT), Some("Planning"));
        assert_eq!(item.int(&lids::PID_LID_BUSY_STATUS), Some(1));
        assert_eq!(item.int(&lids::PID_LID_INTENDED_BUSY_STATUS), Some(2));
        assert_eq!(
            item.int(&lids::PID_LID_RESPONSE_STATUS),
            Some(i64::from(ResponseStatus::NotResponded.code()))
        );
        let ics = original(&item);
        assert!(!ics.contains("METHOD"), "{ics}");
        assert!(ics.contains("UID:meet-1"), "{ics}");
        assert!(
            ics.contains("X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"),
            "{ics}"
        );
        assert!(ics.contains("PARTSTAT=NEEDS-ACTION"), "{ics}");
    }

    #[test]
    fn only_a_request_with_a_higher_sequence_updates_the_event() {
        let first = stored(apply(&arrival(&request(1, "Planning")), BOSS, DEMO, None));
        for (sequence, expected) in [(0, Some(Skip::Stale)), (1, Some(Skip::Stale)), (2, None)] {
            let outcome = apply(
                &arrival(&request(sequence, "Moved")),
                BOSS,
                DEMO,
                Some(&first),
            );
            match (outcome, expected) {
                (Outcome::Unchanged(why), Some(skip)) => assert_eq!(why, skip, "{sequence}"),
                (Outcome::Store(item), None) => {
                    assert_eq!(item.str(groxide_mapi::tags::PR_SUBJECT), Some("Moved"));
                    assert_eq!(item.int(&lids::PID_LID_APPOINTMENT_SEQUENCE), Some(2));
                }
                (o, e) => panic!("SEQUENCE {sequence}: {o:?}, expected {e:?}"),
            }
        }
    }

    #[test]
    fn a_request_or_cancel_not_from_the_organizer_changes_nothing() {
        let ics = request(0, "Planning");
        assert_eq!(
            apply(&arrival(&ics), "mallory@evil.test", DEMO, None),
            Outcome::Unchanged(Skip::NotFromOrganizer)
        );
        let mine = stored(apply(&arrival(&ics), BOSS, DEMO, None));
        // Someone else claiming the UID with their own ORGANIZER.
        let hijack = request(5, "Mine now").replace(BOSS, "mallory@evil.test");
        assert_eq!(
            apply(&arrival(&hijack), "mallory@evil.test", DEMO, Some(&mine)),
            Outcome::Unchanged(Skip::NotFromOrganizer)
        );
        let cancel = ics.replace("METHOD:REQUEST", "METHOD:CANCEL");
        assert_eq!(
            apply(&arrival(&cancel), "mallory@evil.test", DEMO, Some(&mine)),
            Outcome::Unchanged(Skip::NotFromOrganizer)
        );
        // The organizer's own invitation (sent to itself) is not an invitation.
        assert_eq!(
            apply(&arrival(&ics), BOSS, BOSS, None),
            Outcome::Unchanged(Skip::NotTheUsersRole)
        );
    }

    #[test]
    fn a_reply_sets_the_attendees_answer_on_the_organizers_event() {
        let event = organizers_event(1);
        let item = stored(apply(
            &arrival(&reply(DEMO, "ACCEPTED", 1)),
            "DEMO@example.test",
            BOSS,
            Some(&event),
        ));
        let demo = item.recipients.iter().find(|r| r.address == DEMO).unwrap();
        assert_eq!(demo.response, ResponseStatus::Accepted);
        let carol = item
            .recipients
            .iter()
            .find(|r| r.address == "carol@example.test")
            .unwrap();
        assert_eq!(carol.response, ResponseStatus::NotResponded);
        let ics = original(&item).replace("\r\n ", "");
        assert!(
            ics.contains(&format!("PARTSTAT=ACCEPTED:mailto:{DEMO}")),
            "{ics}"
        );
    }

    #[test]
    fn a_strangers_or_stale_reply_changes_nothing() {
        let event = organizers_event(2);
        // Sent by someone other than the attendee it names.
        assert_eq!(
            apply(
                &arrival(&reply(DEMO, "DECLINED", 2)),
                "mallory@evil.test",
                BOSS,
                Some(&event)
            ),
            Outcome::Unchanged(Skip::NotFromAttendee)
        );
        // Naming itself, but not invited.
        assert_eq!(
            apply(
                &arrival(&reply("mallory@evil.test", "DECLINED", 2)),
                "mallory@evil.test",
                BOSS,
                Some(&event)
            ),
            Outcome::Unchanged(Skip::NotFromAttendee)
        );
        // An answer to an older version of the meeting.
        assert_eq!(
            apply(
                &arrival(&reply(DEMO, "DECLINED", 1)),
                DEMO,
                BOSS,
                Some(&event)
            ),
            Outcome::Unchanged(Skip::Stale)
        );
        // No such event, or not the user's own meeting.
        assert_eq!(
            apply(&arrival(&reply(DEMO, "ACCEPTED", 2)), DEMO, BOSS, None),
            Outcome::Unchanged(Skip::NoSuchEvent)
        );
        assert_eq!(
            apply(
                &arrival(&reply(DEMO, "ACCEPTED", 2)),
                DEMO,
                "carol@example.test",
                Some(&event)
            ),
            Outcome::Unchanged(Skip::NotTheUsersRole)
        );
    }

    #[test]
    fn a_cancel_marks_the_attendees_copy_cancelled() {
        let mine = stored(apply(&arrival(&request(1, "Planning")), BOSS, DEMO, None));
        let cancel = request(2, "Planning").replace("METHOD:REQUEST", "METHOD:CANCEL");
        let item = stored(apply(&arrival(&cancel), BOSS, DEMO, Some(&mine)));
        assert_eq!(
            item.int(&lids::PID_LID_APPOINTMENT_STATE_FLAGS)
                .map(|f| f & 0x4),
            Some(0x4)
        );
        assert!(original(&item).contains("STATUS:CANCELLED"));
        let old = request(0, "Planning").replace("METHOD:REQUEST", "METHOD:CANCEL");
        assert_eq!(
            apply(&arrival(&old), BOSS, DEMO, Some(&mine)),
            Outcome::Unchanged(Skip::Stale)
        );
        assert_eq!(
            apply(&arrival(&cancel), BOSS, DEMO, None),
            Outcome::Unchanged(Skip::NoSuchEvent)
        );
    }

    #[test]
    fn a_cancel_with_a_recurrence_id_removes_that_occurrence() {
        let weekly = request(0, "Weekly").replace(
            "DTEND:20261215T150000Z\r\n",
            "DTEND:20261215T150000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n",
        );
        let mine = stored(apply(&arrival(&weekly), BOSS, DEMO, None));
        let cancel = request(0, "Weekly")
            .replace("METHOD:REQUEST", "METHOD:CANCEL")
            .replace(
                "SEQUENCE:0\r\n",
                "SEQUENCE:0\r\nRECURRENCE-ID:20261222T140000Z\r\n",
            );
        let item = stored(apply(&arrival(&cancel), BOSS, DEMO, Some(&mine)));
        let ics = original(&item);
        assert!(ics.contains("EXDATE"), "{ics}");
        assert!(ics.contains("20261222T140000Z"), "{ics}");
        assert!(!ics.contains("STATUS:CANCELLED"), "{ics}");
        let day = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 12, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp()
        };
        let occurs = |d| crate::recur::mapi::occurs_in(&item, day(d), day(d + 1), &Zone::Utc);
        assert!(occurs(15));
        assert!(!occurs(22));
        assert!(occurs(29));
    }

    fn weekly(ics: &str) -> String {
        ics.replace(
            "DTEND:20261215T150000Z\r\n",
            "DTEND:20261215T150000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n",
        )
    }

    /// `ics` as a message about the occurrence of 22 December only.
    fn for_occurrence(ics: &str, rid: &str) -> String {
        ics.replacen(
            "UID:meet-1\r\n",
            &format!("UID:meet-1\r\nRECURRENCE-ID:{rid}\r\n"),
            1,
        )
    }

    fn day(d: u32, h: u32) -> i64 {
        chrono::NaiveDate::from_ymd_opt(2026, 12, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    }

    fn starts_at(item: &Item, d: u32, h: u32) -> bool {
        crate::recur::mapi::occurs_in(item, day(d, h), day(d, h) + 60, &Zone::Utc)
    }

    /// The VEVENT of `ics` whose RECURRENCE-ID is `rid`, unfolded.
    fn override_block(ics: &str, rid: &str) -> String {
        let ics = ics.replace("\r\n ", "");
        ics.split("BEGIN:VEVENT")
            .find(|b| b.contains(&format!("RECURRENCE-ID:{rid}")))
            .map(|b| b.split("END:VEVENT").next().unwrap_or("").to_string())
            .unwrap_or_else(|| panic!("no override {rid} in {ics}"))
    }

    /// Invited to one occurrence only: a single tentative appointment at
    /// the occurrence's time, replaced by a newer message about it and
    /// cancelled by a CANCEL of it.
    #[test]
    fn a_request_for_one_occurrence_of_an_unknown_series_is_a_single_appointment() {
        let only = |sequence: i64, at: &str| {
            for_occurrence(&request(sequence, "Just this week"), "20261222T140000Z")
                .replace(
                    "DTSTART:20261215T140000Z",
                    &format!("DTSTART:20261222T{at}00Z"),
                )
                .replace("DTEND:20261215T150000Z", "DTEND:20261222T180000Z")
        };
        let item = stored(apply(&arrival(&only(1, "1400")), BOSS, DEMO, None));
        assert!(!is_series(&item));
        assert!(starts_at(&item, 22, 14));
        assert!(!starts_at(&item, 15, 14));
        assert_eq!(
            item.str(groxide_mapi::tags::PR_SUBJECT),
            Some("Just this week")
        );
        assert_eq!(item.int(&lids::PID_LID_BUSY_STATUS), Some(1));
        assert!(!original(&item).contains("RECURRENCE-ID"));
        assert_eq!(
            apply(&arrival(&only(1, "1400")), BOSS, DEMO, Some(&item)),
            Outcome::Unchanged(Skip::Stale)
        );
        assert_eq!(
            apply(
                &arrival(&only(2, "1500")),
                "mallory@evil.test",
                DEMO,
                Some(&item)
            ),
            Outcome::Unchanged(Skip::NotFromOrganizer)
        );
        let moved = stored(apply(&arrival(&only(2, "1500")), BOSS, DEMO, Some(&item)));
        assert!(starts_at(&moved, 22, 15));
        assert!(!starts_at(&moved, 22, 14));
        let cancel = only(3, "1500")
            .replace("METHOD:REQUEST", "METHOD:CANCEL")
            .replace("SEQUENCE:3", "SEQUENCE:3\r\nSTATUS:CANCELLED");
        let cancelled = stored(apply(&arrival(&cancel), BOSS, DEMO, Some(&moved)));
        let flags = cancelled
            .int(&lids::PID_LID_APPOINTMENT_STATE_FLAGS)
            .unwrap_or(0);
        assert_eq!(flags & 0x4, 0x4, "cancelled");
        // Two VEVENTs about occurrences: not one event alone.
        let two = only(1, "1400").replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\r\nUID:meet-1\r\nRECURRENCE-ID:20261229T140000Z\r\nDTSTART:20261229T140000Z\r\nDTEND:20261229T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR",
        );
        assert_eq!(
            apply(&arrival(&two), BOSS, DEMO, None),
            Outcome::Unchanged(Skip::NoSuchEvent)
        );
    }

    #[test]
    fn a_request_for_one_occurrence_updates_only_that_occurrence() {
        let series = stored(apply(
            &arrival(&weekly(&request(0, "Weekly"))),
            BOSS,
            DEMO,
            None,
        ));
        let moved = |sequence: i64| {
            for_occurrence(&request(sequence, "Moved"), "20261222T140000Z")
                .replace("DTSTART:20261215T140000Z", "DTSTART:20261222T160000Z")
                .replace("DTEND:20261215T150000Z", "DTEND:20261222T170000Z")
        };
        let item = stored(apply(&arrival(&moved(1)), BOSS, DEMO, Some(&series)));
        assert!(starts_at(&item, 15, 14));
        assert!(starts_at(&item, 22, 16));
        assert!(!starts_at(&item, 22, 14));
        assert!(starts_at(&item, 29, 14));
        let block = override_block(&original(&item), "20261222T140000Z");
        assert!(block.contains("SUMMARY:Moved"), "{block}");
        assert!(
            block.contains("X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"),
            "{block}"
        );
        assert_eq!(item.str(groxide_mapi::tags::PR_SUBJECT), Some("Weekly"));
        // The same message again, or an older one, changes nothing.
        for sequence in [0, 1] {
            assert_eq!(
                apply(&arrival(&moved(sequence)), BOSS, DEMO, Some(&item)),
                Outcome::Unchanged(Skip::Stale),
                "SEQUENCE {sequence}"
            );
        }
        let again = stored(apply(&arrival(&moved(2)), BOSS, DEMO, Some(&item)));
        assert!(starts_at(&again, 22, 16));
        // Not from the organizer, no series, no such instance.
        assert_eq!(
            apply(&arrival(&moved(5)), "mallory@evil.test", DEMO, Some(&item)),
            Outcome::Unchanged(Skip::NotFromOrganizer)
        );
        assert!(!is_series(&stored(apply(
            &arrival(&moved(5)),
            BOSS,
            DEMO,
            None
        ))));
        let nowhere = for_occurrence(&request(5, "x"), "20261223T140000Z");
        assert_eq!(
            apply(&arrival(&nowhere), BOSS, DEMO, Some(&item)),
            Outcome::Unchanged(Skip::NoSuchOccurrence)
        );
    }

    #[test]
    fn a_reply_for_one_occurrence_sets_the_answer_on_that_occurrence_only() {
        let text = weekly(&request(0, "Weekly")).replace("METHOD:REQUEST\r\n", "");
        let event = event_of(&text, BOSS).unwrap();
        let answer = for_occurrence(&reply(DEMO, "DECLINED", 0), "20261222T140000Z");
        let item = stored(apply(&arrival(&answer), DEMO, BOSS, Some(&event)));
        let ics = original(&item);
        let block = override_block(&ics, "20261222T140000Z");
        assert!(
            block.contains(&format!("PARTSTAT=DECLINED:mailto:{DEMO}")),
            "{block}"
        );
        // Made from the series: the instance's own times, its attendees.
        assert!(block.contains("DTSTART:20261222T140000Z"), "{block}");
        assert!(block.contains("DTEND:20261222T150000Z"), "{block}");
        assert!(block.contains("carol@example.test"), "{block}");
        assert!(!block.contains("RRULE"), "{block}");
        assert!(starts_at(&item, 22, 14));
        // The series and its other instances keep the attendee's answer.
        let demo = item.recipients.iter().find(|r| r.address == DEMO).unwrap();
        assert_eq!(demo.response, ResponseStatus::NotResponded);
        assert_eq!(ics.matches("PARTSTAT=DECLINED").count(), 1, "{ics}");
        // Redelivered: the same calendar.
        let twice = stored(apply(&arrival(&answer), DEMO, BOSS, Some(&item)));
        assert_eq!(original(&twice), ics);
        // Only the attendee named may answer for itself.
        assert_eq!(
            apply(&arrival(&answer), "mallory@evil.test", BOSS, Some(&event)),
            Outcome::Unchanged(Skip::NotFromAttendee)
        );
    }

    #[test]
    fn a_stale_reply_is_judged_by_the_sequence_of_its_occurrence() {
        // The organizer moved the 29th (SEQUENCE 2); the series is at 0.
        let text = weekly(&request(0, "Weekly")).replace("METHOD:REQUEST\r\n", "");
        let moved = for_occurrence(&request(2, "Moved"), "20261229T140000Z")
            .replace("DTSTART:20261215T140000Z", "DTSTART:20261229T160000Z")
            .replace("DTEND:20261215T150000Z", "DTEND:20261229T170000Z");
        let vevent = |ics: &str| {
            let start = ics.find("BEGIN:VEVENT").unwrap();
            let end = ics.find("END:VEVENT").unwrap() + "END:VEVENT\r\n".len();
            ics[start..end].to_string()
        };
        let both = text.replace("END:VCALENDAR", &format!("{}END:VCALENDAR", vevent(&moved)));
        let event = event_of(&both, BOSS).unwrap();
        let on = |rid: &str, sequence| for_occurrence(&reply(DEMO, "ACCEPTED", sequence), rid);
        assert_eq!(
            apply(
                &arrival(&on("20261229T140000Z", 1)),
                DEMO,
                BOSS,
                Some(&event)
            ),
            Outcome::Unchanged(Skip::Stale)
        );
        let item = stored(apply(
            &arrival(&on("20261222T140000Z", 1)),
            DEMO,
            BOSS,
            Some(&event),
        ));
        let block = override_block(&original(&item), "20261222T140000Z");
        assert!(block.contains("PARTSTAT=ACCEPTED"), "{block}");
        let item = stored(apply(
            &arrival(&on("20261229T140000Z", 2)),
            DEMO,
            BOSS,
            Some(&event),
        ));
        let block = override_block(&original(&item), "20261229T140000Z");
        assert!(block.contains("PARTSTAT=ACCEPTED"), "{block}");
        assert!(block.contains("DTSTART:20261229T160000Z"), "{block}");
    }

    #[test]
    fn what_is_no_scheduling_message_is_refused_when_read() {
        let stored_object = request(0, "x").replace("METHOD:REQUEST\r\n", "");
        assert_eq!(Arrival::read(&stored_object), Err(ArrivalError::NoMethod));
        let publish = request(0, "x").replace("METHOD:REQUEST", "METHOD:PUBLISH");
        assert_eq!(Arrival::read(&publish), Err(ArrivalError::NoMethod));
        let no_uid = request(0, "x").replace("UID:meet-1\r\n", "");
        assert_eq!(Arrival::read(&no_uid), Err(ArrivalError::NoUid));
        assert_eq!(Arrival::read("garbage"), Err(ArrivalError::NoMethod));
        // A REQUEST whose event does not read changes nothing.
        let broken =
            request(0, "x").replace("DTSTART:20261215T140000Z\r\n", "DTSTART:tomorrow\r\n");
        assert!(matches!(
            apply(&arrival(&broken), BOSS, DEMO, None),
            Outcome::Unchanged(Skip::Unreadable(_))
        ));
    }

    #[test]
    fn the_mail_is_classed_by_method_and_answer() {
        let class = |ics: &str| arrival(ics).message_class();
        assert_eq!(
            class(&request(0, "x")),
            Some("IPM.Schedule.Meeting.Request")
        );
        assert_eq!(
            class(&request(0, "x").replace("METHOD:REQUEST", "METHOD:CANCEL")),
            Some("IPM.Schedule.Meeting.Canceled")
        );
        for (partstat, expected) in [
            ("ACCEPTED", Some("IPM.Schedule.Meeting.Resp.Pos")),
            ("DECLINED", Some("IPM.Schedule.Meeting.Resp.Neg")),
            ("TENTATIVE", Some("IPM.Schedule.Meeting.Resp.Tent")),
            ("DELEGATED", None),
        ] {
            assert_eq!(class(&reply(DEMO, partstat, 0)), expected, "{partstat}");
        }
    }
}
