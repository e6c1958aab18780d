//! iMIP (RFC 6047): iTIP scheduling messages (RFC 5546) carried by mail.
//! The one implementation ActiveSync (MeetingResponse) and EWS (meeting
//! requests, cancellations and responses) build their mails with; sending
//! them is the caller's (through the outgoing relay).
//!
//! - reading: [`calendar_part`] (the text/calendar part of a mail) and
//!   [`calendar_method`] (its METHOD);
//! - an organizer's message: [`scheduling_object`] turns a stored event's
//!   iCalendar into a REQUEST or CANCEL (METHOD, SEQUENCE, STATUS);
//! - an attendee's answer: [`reply_object`] (METHOD:REPLY naming the event
//!   and the attendee's PARTSTAT) and [`answer_item`] (the answer on the
//!   attendee's own copy of the appointment);
//! - [`mail`]: the RFC 5322 message, `Content-Type: text/calendar;
//!   method=…`, To the recipients.

use super::export::{ExportOptions, item_to_ical};
use crate::item::{Item, ResponseStatus};
use groxide_mapi::{PropValue, lids};
use mail_parser::{MessageParser, MimeHeaders};

/// The iTIP method of a scheduling message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The organizer invites (or sends an update).
    Request,
    /// An attendee answers.
    Reply,
    /// The organizer calls the meeting off.
    Cancel,
}

impl Method {
    /// The METHOD value.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Reply => "REPLY",
            Method::Cancel => "CANCEL",
        }
    }
}

/// An attendee's answer to a meeting request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Accepted.
    Accept,
    /// Tentatively accepted.
    Tentative,
    /// Declined.
    Decline,
}

impl Answer {
    /// The PARTSTAT value.
    pub fn partstat(self) -> &'static str {
        match self {
            Answer::Accept => "ACCEPTED",
            Answer::Tentative => "TENTATIVE",
            Answer::Decline => "DECLINED",
        }
    }

    /// The subject prefix of the reply.
    pub fn prefix(self) -> &'static str {
        match self {
            Answer::Accept => "Accepted",
            Answer::Tentative => "Tentative",
            Answer::Decline => "Declined",
        }
    }

    /// PidLidResponseStatus of the answer.
    pub fn response(self) -> ResponseStatus {
        match self {
            Answer::Accept => ResponseStatus::Accepted,
            Answer::Tentative => ResponseStatus::Tentative,
            Answer::Decline => ResponseStatus::Declined,
        }
    }
}

/// The text/calendar part of a mail (the first one), decoded.
pub fn calendar_part(raw: &[u8]) -> Option<String> {
    let m = MessageParser::default().parse(raw)?;
    m.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        (ct.ctype().eq_ignore_ascii_case("text")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("calendar")))
        .then(|| p.text_contents().map(str::to_string))
        .flatten()
    })
}

/// The content lines of an iCalendar text, unfolded.
pub(crate) fn unfold(ics: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for l in ics.split('\n') {
        let l = l.trim_end_matches('\r');
        if (l.starts_with(' ') || l.starts_with('\t')) && !lines.is_empty() {
            if let Some(last) = lines.last_mut() {
                last.push_str(&l[1..]);
            }
        } else if !l.is_empty() {
            lines.push(l.to_string());
        }
    }
    lines
}

/// Whether content line `upper` (upper-cased) is property `name`.
fn is_prop(upper: &str, name: &str) -> bool {
    upper.starts_with(name) && upper[name.len()..].starts_with([':', ';'])
}

/// The METHOD of a calendar object, upper-cased (`None`: none, as a
/// stored object has).
pub fn calendar_method(ics: &str) -> Option<String> {
    let mut depth = 0usize;
    for l in unfold(ics) {
        let upper = l.to_ascii_uppercase();
        if upper.starts_with("BEGIN:") {
            depth += 1;
        } else if upper.starts_with("END:") {
            depth = depth.saturating_sub(1);
        } else if depth == 1 && is_prop(&upper, "METHOD") {
            return l
                .split_once(':')
                .map(|(_, v)| v.trim().to_ascii_uppercase());
        }
    }
    None
}

/// The unfolded lines of the first VEVENT that `names` start (DTSTART,
/// DTEND, SEQUENCE, RECURRENCE-ID), as they were.
pub fn event_lines(ics: &str, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_event = false;
    for l in unfold(ics) {
        let upper = l.to_ascii_uppercase();
        if upper == "BEGIN:VEVENT" && depth == 1 {
            in_event = true;
            depth += 1;
        } else if upper.starts_with("BEGIN:") {
            depth += 1;
        } else if upper.starts_with("END:") {
            depth = depth.saturating_sub(1);
            if upper == "END:VEVENT" && in_event && depth == 1 {
                break;
            }
        } else if in_event && depth == 2 && names.iter().any(|n| is_prop(&upper, n)) {
            out.push(l);
        }
    }
    out
}

/// A stored event's iCalendar as an organizer's scheduling message:
/// METHOD set (any other removed), SEQUENCE set to `sequence` in every
/// VEVENT and, for a CANCEL, STATUS:CANCELLED.
pub fn scheduling_object(ics: &str, method: Method, sequence: i64) -> String {
    let mut out = String::with_capacity(ics.len() + 64);
    let mut depth = 0usize;
    // The last property line was dropped: its folded continuations go too.
    let mut dropping = false;
    for l in ics.split('\n') {
        let l = l.trim_end_matches('\r');
        if l.is_empty() {
            continue;
        }
        if l.starts_with(' ') || l.starts_with('\t') {
            if !dropping {
                out.push_str(l);
                out.push_str("\r\n");
            }
            continue;
        }
        let upper = l.to_ascii_uppercase();
        dropping = false;
        if upper.starts_with("BEGIN:") {
            depth += 1;
            out.push_str(l);
            out.push_str("\r\n");
            if depth == 1 && upper == "BEGIN:VCALENDAR" {
                out.push_str(&format!("METHOD:{}\r\n", method.as_str()));
            }
            if depth == 2 && upper == "BEGIN:VEVENT" {
                out.push_str(&format!("SEQUENCE:{sequence}\r\n"));
                if method == Method::Cancel {
                    out.push_str("STATUS:CANCELLED\r\n");
                }
            }
            continue;
        }
        if upper.starts_with("END:") {
            depth = depth.saturating_sub(1);
            out.push_str(l);
            out.push_str("\r\n");
            continue;
        }
        dropping = (depth == 1 && is_prop(&upper, "METHOD"))
            || (depth == 2
                && (is_prop(&upper, "SEQUENCE")
                    || (method == Method::Cancel && is_prop(&upper, "STATUS"))));
        if !dropping {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    out
}

/// The SEQUENCE of the first VEVENT (0 without one).
pub fn sequence_of(ics: &str) -> i64 {
    event_lines(ics, &["SEQUENCE"])
        .first()
        .and_then(|l| l.split_once(':'))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// iCalendar TEXT escaping.
fn text_value(s: &str) -> String {
    one_line(s)
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
}

/// The METHOD:REPLY object in which `user` answers the event of
/// `request_ics` (whose UID is `uid`) organised by `organizer`; `now` is
/// the DTSTAMP (`%Y%m%dT%H%M%SZ`).
pub fn reply_object(
    user: &str,
    organizer: &str,
    uid: &str,
    subject: &str,
    request_ics: &str,
    answer: Answer,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut ics = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide//groxide//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n",
    );
    ics.push_str(&format!("UID:{}\r\n", one_line(uid)));
    ics.push_str(&format!("DTSTAMP:{}\r\n", now.format("%Y%m%dT%H%M%SZ")));
    for l in event_lines(
        request_ics,
        &["DTSTART", "DTEND", "SEQUENCE", "RECURRENCE-ID"],
    ) {
        ics.push_str(&l);
        ics.push_str("\r\n");
    }
    ics.push_str(&format!("ORGANIZER:mailto:{}\r\n", one_line(organizer)));
    ics.push_str(&format!(
        "ATTENDEE;PARTSTAT={}:mailto:{}\r\n",
        answer.partstat(),
        one_line(user)
    ));
    ics.push_str(&format!(
        "SUMMARY:{}: {}\r\n",
        answer.prefix(),
        text_value(subject)
    ));
    ics.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    ics
}

/// A header value: as it is when ASCII, else an RFC 2047 encoded word.
fn header_text(s: &str) -> String {
    let s = one_line(s);
    if s.is_ascii() {
        return s;
    }
    use base64::Engine;
    format!(
        "=?utf-8?b?{}?=",
        base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
    )
}

/// The iMIP mail carrying `ics` (a `method` object) from `from` to `to`;
/// `now` is its Date, `message_id` its Message-ID (without brackets).
pub fn mail(
    from: &str,
    to: &[String],
    subject: &str,
    method: Method,
    ics: &str,
    now: chrono::DateTime<chrono::Utc>,
    message_id: &str,
) -> Vec<u8> {
    format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\n\
         Message-ID: <{}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/calendar; charset=utf-8; method={}\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{ics}",
        one_line(from),
        to.iter()
            .map(|t| one_line(t))
            .collect::<Vec<_>>()
            .join(", "),
        header_text(subject),
        now.to_rfc2822(),
        one_line(message_id),
        method.as_str(),
    )
    .into_bytes()
}

/// The REPLY mail from `user` to `organizer` answering the event of
/// `request_ics` (see [`reply_object`]).
#[allow(clippy::too_many_arguments)]
pub fn reply_mail(
    user: &str,
    organizer: &str,
    uid: &str,
    subject: &str,
    request_ics: &str,
    answer: Answer,
    now: chrono::DateTime<chrono::Utc>,
    message_id: &str,
) -> Vec<u8> {
    let ics = reply_object(user, organizer, uid, subject, request_ics, answer, now);
    mail(
        user,
        &[organizer.to_string()],
        &format!("{}: {}", answer.prefix(), one_line(subject)),
        Method::Reply,
        &ics,
        now,
        message_id,
    )
}

/// The answer on the attendee's own copy of the appointment: busy or
/// tentative, PidLidResponseStatus, and the attendee's own recipient
/// (`user`, when listed) answering so; the kept original iCalendar is
/// written again with the answer (CalDAV serves it), `opts` as the item
/// was imported with.
pub fn answer_item(item: &mut Item, user: &str, answer: Answer, opts: &ExportOptions) {
    let busy = match answer {
        Answer::Accept => 2,
        Answer::Tentative => 1,
        Answer::Decline => 0,
    };
    item.set(&lids::PID_LID_BUSY_STATUS, PropValue::Long(busy));
    item.set(
        &lids::PID_LID_RESPONSE_STATUS,
        PropValue::Long(answer.response().code()),
    );
    for r in item
        .recipients
        .iter_mut()
        .filter(|r| !r.organizer && r.address.eq_ignore_ascii_case(user))
    {
        r.response = answer.response();
    }
    if item.original.is_some()
        && let Ok(ics) = item_to_ical(item, opts)
    {
        item.original = Some(ics.into_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\n\
        BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n\
        END:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:meet-1\r\nSEQUENCE:2\r\n\
        DTSTART:20261215T140000Z\r\nDTEND:20261215T1\r\n 50000Z\r\nSUMMARY:Planning\r\n\
        ORGANIZER:mailto:boss@remote.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn the_reply_names_the_event_and_the_users_answer() {
        let mail = reply_mail(
            "demo@example.test",
            "boss@remote.test",
            "meet-1",
            "Planning",
            REQUEST,
            Answer::Tentative,
            now(),
            "x@groxide",
        );
        let text = String::from_utf8(mail).unwrap_or_default();
        assert!(text.contains("To: boss@remote.test\r\n"));
        assert!(text.contains("Subject: Tentative: Planning\r\n"));
        assert!(text.contains("method=REPLY"));
        assert!(text.contains("METHOD:REPLY\r\n"));
        assert!(text.contains("UID:meet-1\r\n"));
        assert!(text.contains("ATTENDEE;PARTSTAT=TENTATIVE:mailto:demo@example.test\r\n"));
        // The event's own times (unfolded), not the time zone's.
        assert!(text.contains("DTSTART:20261215T140000Z\r\n"));
        assert!(text.contains("DTEND:20261215T150000Z\r\n"));
        assert!(text.contains("SEQUENCE:2\r\n"));
        assert!(!text.contains("19700101"));
        assert_eq!(
            calendar_part(text.as_bytes()).map(|c| calendar_method(&c)),
            Some(Some("REPLY".into()))
        );
    }

    #[test]
    fn a_stored_event_becomes_a_request_or_a_cancel_with_its_sequence() {
        let stored = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u1\r\nSEQUENCE:1\r\n\
            STATUS:CONFIRMED\r\nDESCRIPTION:long\r\n  folded\r\nSUMMARY:S\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(calendar_method(stored), None);
        let request = scheduling_object(stored, Method::Request, 2);
        assert_eq!(calendar_method(&request).as_deref(), Some("REQUEST"));
        assert_eq!(sequence_of(&request), 2);
        assert_eq!(request.matches("SEQUENCE:").count(), 1);
        assert!(request.contains("STATUS:CONFIRMED\r\n"));
        assert!(request.contains("DESCRIPTION:long\r\n  folded\r\n"));
        let cancel = scheduling_object(&request, Method::Cancel, 3);
        assert_eq!(calendar_method(&cancel).as_deref(), Some("CANCEL"));
        assert_eq!(cancel.matches("METHOD:").count(), 1);
        assert_eq!(sequence_of(&cancel), 3);
        assert!(cancel.contains("STATUS:CANCELLED\r\n"));
        assert!(!cancel.contains("CONFIRMED"));
    }

    #[test]
    fn the_answer_is_on_the_attendees_copy_and_its_icalendar() {
        let opts = super::super::ImportOptions {
            owner: Some("demo@example.test".into()),
            ..Default::default()
        };
        let request = REQUEST.replace(
            "ORGANIZER:mailto:boss@remote.test\r\n",
            "ORGANIZER:mailto:boss@remote.test\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:demo@example.test\r\n",
        );
        let mut items = super::super::parse_calendar(request.as_bytes(), &opts).items;
        let Some(Ok(mut item)) = items.pop() else {
            panic!("the request reads");
        };
        let export = ExportOptions {
            owner: opts.owner.clone(),
            ..Default::default()
        };
        answer_item(&mut item, "demo@example.test", Answer::Accept, &export);
        assert_eq!(
            item.int(&lids::PID_LID_RESPONSE_STATUS),
            Some(i64::from(ResponseStatus::Accepted.code()))
        );
        assert_eq!(item.int(&lids::PID_LID_BUSY_STATUS), Some(2));
        let me = item
            .recipients
            .iter()
            .find(|r| r.address == "demo@example.test");
        assert_eq!(me.map(|r| r.response), Some(ResponseStatus::Accepted));
        let original =
            String::from_utf8(item.original.clone().unwrap_or_default()).unwrap_or_default();
        assert!(original.contains("PARTSTAT=ACCEPTED"), "{original}");
        assert!(!original.contains("NEEDS-ACTION"), "{original}");
    }

    #[test]
    fn a_non_ascii_subject_is_an_encoded_word() {
        let m = mail(
            "a@x",
            &["b@x".into(), "c@x".into()],
            "Réunion",
            Method::Request,
            "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            now(),
            "id@x",
        );
        let text = String::from_utf8(m).unwrap_or_default();
        assert!(text.contains("To: b@x, c@x\r\n"));
        assert!(text.contains("Subject: =?utf-8?b?"));
        let parsed = MessageParser::default().parse(text.as_bytes());
        assert_eq!(
            parsed
                .and_then(|p| p.subject().map(str::to_string))
                .as_deref(),
            Some("Réunion")
        );
    }
}
