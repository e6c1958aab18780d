//! MeetingResponse ([MS-ASCMD] 2.2.1.11): the user accepts, tentatively
//! accepts or declines the meeting request a mail carries (its
//! text/calendar part, METHOD:REQUEST). The appointment in the default
//! calendar is created or updated with the answer (busy status, response
//! status) or, on a decline, removed; from protocol 16.0 on, when the
//! client asks (SendResponse), the iMIP REPLY goes to the organizer by
//! mail through the outgoing relay (before 16.0 the client sends it).

use crate::folder_sync::{CollectionKind, store_folders};
use crate::sync::{message_of, server_id};
use crate::{Ctx, Failure, expect_root};
use groxide_mapi::{PropValue, lids};
use groxide_pim::Item;
use groxide_pim::ical::export::{ExportOptions, item_to_ical};
use groxide_pim::ical::import::{ImportOptions, parse_calendar};
use groxide_rpc::exmdb_client::{folder_id, folder_role};
use groxide_rpc::items::{Precondition, PutTarget, item_uid};
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use groxide_submit::Envelope;
use groxide_wbxml::{Element, MeetingResponse};
use mail_parser::{MessageParser, MimeHeaders};

/// MeetingResponse status codes.
mod status {
    pub const OK: u8 = 1;
    pub const INVALID_REQUEST: u8 = 2;
    pub const MAILBOX_ERROR: u8 = 3;
}

/// The user's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Accept,
    Tentative,
    Decline,
}

impl Answer {
    fn of(v: &str) -> Option<Answer> {
        match v.trim() {
            "1" => Some(Answer::Accept),
            "2" => Some(Answer::Tentative),
            "3" => Some(Answer::Decline),
            _ => None,
        }
    }

    fn partstat(self) -> &'static str {
        match self {
            Answer::Accept => "ACCEPTED",
            Answer::Tentative => "TENTATIVE",
            Answer::Decline => "DECLINED",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Answer::Accept => "Accepted",
            Answer::Tentative => "Tentative",
            Answer::Decline => "Declined",
        }
    }
}

/// The text/calendar part of a mail.
fn calendar_part(raw: &[u8]) -> Option<String> {
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

/// The unfolded lines of the first VEVENT that `names` start (DTSTART,
/// DTEND, SEQUENCE, RECURRENCE-ID), as they were.
fn event_lines(ics: &str, names: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for l in ics.split('\n') {
        let l = l.trim_end_matches('\r');
        if (l.starts_with(' ') || l.starts_with('\t')) && !lines.is_empty() {
            if let Some(last) = lines.last_mut() {
                last.push_str(&l[1..]);
            }
        } else {
            lines.push(l.to_string());
        }
    }
    let mut out = Vec::new();
    let mut in_event = false;
    for l in lines {
        let upper = l.to_ascii_uppercase();
        if upper == "BEGIN:VEVENT" {
            in_event = true;
        } else if upper == "END:VEVENT" {
            break;
        } else if in_event
            && names
                .iter()
                .any(|n| upper.starts_with(n) && upper[n.len()..].starts_with([':', ';']))
        {
            out.push(l);
        }
    }
    out
}

/// The iMIP REPLY mail from `user` to `organizer`.
pub(crate) fn reply_mail(
    user: &str,
    organizer: &str,
    uid: &str,
    subject: &str,
    request_ics: &str,
    answer: Answer,
) -> Vec<u8> {
    let now = chrono::Utc::now();
    let mut ics = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide//ActiveSync//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n",
    );
    ics.push_str(&format!("UID:{uid}\r\n"));
    ics.push_str(&format!("DTSTAMP:{}\r\n", now.format("%Y%m%dT%H%M%SZ")));
    for l in event_lines(
        request_ics,
        &["DTSTART", "DTEND", "SEQUENCE", "RECURRENCE-ID"],
    ) {
        ics.push_str(&l);
        ics.push_str("\r\n");
    }
    ics.push_str(&format!("ORGANIZER:mailto:{organizer}\r\n"));
    ics.push_str(&format!(
        "ATTENDEE;PARTSTAT={}:mailto:{user}\r\n",
        answer.partstat()
    ));
    ics.push_str(&format!(
        "SUMMARY:{}: {}\r\n",
        answer.prefix(),
        subject.replace(['\r', '\n'], " ")
    ));
    ics.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    let subject = format!(
        "{}: {}",
        answer.prefix(),
        subject.replace(['\r', '\n'], " ")
    );
    format!(
        "From: {user}\r\nTo: {organizer}\r\nSubject: {subject}\r\nDate: {}\r\n\
         Message-ID: <{:016x}.eas@groxide>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/calendar; charset=utf-8; method=REPLY\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{ics}",
        now.to_rfc2822(),
        rand::random::<u64>()
    )
    .into_bytes()
}

fn result(request_id: &str, st: u8, calendar_id: Option<String>) -> Element {
    let mut c = vec![
        Element::with_text(MeetingResponse::RequestId, request_id),
        Element::with_text(MeetingResponse::Status, st.to_string()),
    ];
    if let Some(id) = calendar_id {
        c.push(Element::with_text(MeetingResponse::CalendarId, id));
    }
    Element::with_children(MeetingResponse::Result, c)
}

pub(crate) async fn meeting_response(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, MeetingResponse::MeetingResponse)?;
    let mut out = Vec::new();
    for r in request.children_named(MeetingResponse::Request) {
        let request_id = r
            .child_text(MeetingResponse::RequestId)
            .unwrap_or("")
            .trim()
            .to_string();
        let answer = r
            .child_text(MeetingResponse::UserResponse)
            .and_then(Answer::of);
        let send = r.child(MeetingResponse::SendResponse).is_some();
        let (st, calendar_id) = match (answer, message_of(&request_id)) {
            (Some(answer), Some(mid)) => respond(ctx, mid, answer, send).await?,
            _ => (status::INVALID_REQUEST, None),
        };
        out.push(result(&request_id, st, calendar_id));
    }
    Ok(Some(Element::with_children(
        MeetingResponse::MeetingResponse,
        out,
    )))
}

/// What a RequestId names: a meeting request mail (its folder and the
/// folder's role) or an appointment in a calendar folder.
enum Target {
    Mail { folder: u64, role: String, uid: u32 },
    Appointment { folder: u64 },
}

/// Where the item `mid` is, and what it is; `None` when it is gone.
async fn target_of(ctx: &Ctx<'_>, mid: u64) -> Result<Option<Target>, Failure> {
    let message = match ctx
        .exmdb()
        .read_message(pb::MessageRequest {
            dir: ctx.dir.clone(),
            message_id: mid,
        })
        .await
    {
        Ok(m) => m,
        Err(e) if e.reason() == Some(Reason::NoSuchMessage) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let folders = store_folders(ctx).await?;
    let Some(folder) = folders.iter().find(|f| f.id == message.folder_id) else {
        return Ok(None);
    };
    Ok(Some(
        if CollectionKind::of(&folder.container_class) == CollectionKind::Calendar {
            Target::Appointment { folder: folder.id }
        } else {
            Target::Mail {
                folder: folder.id,
                role: folder.role.clone(),
                uid: message.entry.map_or(0, |e| e.uid),
            }
        },
    ))
}

/// Answers the request `mid` (a mail carrying a meeting request, or the
/// appointment itself): (status, CalendarId). A request mail then goes to
/// Deleted Items (from Deleted Items: it is deleted), as Exchange does; an
/// appointment stays where it is.
async fn respond(
    ctx: &Ctx<'_>,
    mid: u64,
    answer: Answer,
    send: bool,
) -> Result<(u8, Option<String>), Failure> {
    let Some(target) = target_of(ctx, mid).await? else {
        return Ok((status::INVALID_REQUEST, None));
    };
    let (mut item, ics, calendar, existing) = match &target {
        Target::Mail { .. } => {
            let raw = match ctx.exmdb().read_content_all(&ctx.dir, mid).await {
                Ok(r) => r,
                Err(e) if e.reason() == Some(Reason::NoSuchMessage) => {
                    return Ok((status::INVALID_REQUEST, None));
                }
                Err(e) => return Err(e.into()),
            };
            let Some(ics) = calendar_part(&raw) else {
                return Ok((status::INVALID_REQUEST, None));
            };
            let Some(item) = parse_calendar(ics.as_bytes(), &ImportOptions::default())
                .items
                .into_iter()
                .find_map(Result::ok)
            else {
                return Ok((status::INVALID_REQUEST, None));
            };
            let uid = item_uid(&item);
            if uid.is_empty() {
                return Ok((status::INVALID_REQUEST, None));
            }
            let calendar = folder_role("calendar");
            let existing: Vec<u64> = ctx
                .exmdb()
                .find_items(&ctx.dir, calendar.clone(), &[], std::slice::from_ref(&uid))
                .await?
                .into_iter()
                .map(|e| e.message_id)
                .collect();
            (item, ics, calendar, existing)
        }
        Target::Appointment { folder } => {
            let item = match ctx.exmdb().get_item(&ctx.dir, mid).await {
                Ok((_, item)) => item,
                Err(e) if e.reason() == Some(Reason::NoSuchMessage) => {
                    return Ok((status::INVALID_REQUEST, None));
                }
                Err(e) => return Err(e.into()),
            };
            // Only a meeting someone else organizes can be answered.
            let organized_elsewhere = item
                .recipients
                .iter()
                .any(|r| r.organizer && !r.address.eq_ignore_ascii_case(&ctx.user));
            if !organized_elsewhere || item_uid(&item).is_empty() {
                return Ok((status::INVALID_REQUEST, None));
            }
            let ics = item_to_ical(
                &item,
                &ExportOptions {
                    floating_zone: ctx.zone,
                    owner: Some(ctx.user.clone()),
                },
            )
            .unwrap_or_default();
            (item, ics, folder_id(*folder), vec![mid])
        }
    };
    let uid = item_uid(&item);
    let organizer = item
        .recipients
        .iter()
        .find(|r| r.organizer)
        .map(|r| r.address.clone())
        .unwrap_or_default();
    let subject = item
        .str(groxide_mapi::tags::PR_SUBJECT)
        .unwrap_or("")
        .to_string();
    let calendar_id = match answer {
        Answer::Decline => {
            for e in &existing {
                match ctx.exmdb().delete_item(&ctx.dir, *e, None).await {
                    Ok(()) => {}
                    Err(e) if e.reason() == Some(Reason::NoSuchMessage) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            None
        }
        Answer::Accept | Answer::Tentative => {
            mark(&mut item, answer);
            let target = existing
                .first()
                .map_or(PutTarget::New, |e| PutTarget::Message(*e));
            let (info, _) = ctx
                .exmdb()
                .put_item(&ctx.dir, calendar, &item, target, Precondition::None)
                .await?;
            Some(server_id(info.folder_id, info.message_id))
        }
    };
    if send && ctx.params.version.0 >= 160 && !organizer.is_empty() {
        let mail = reply_mail(&ctx.user, &organizer, &uid, &subject, &ics, answer);
        let envelope = Envelope {
            from: ctx.user.clone(),
            recipients: vec![organizer.clone()],
        };
        let sent = match ctx.eas.submitter() {
            Some(s) => s
                .send_bytes(&envelope, &mail)
                .await
                .map_err(|e| e.to_string()),
            None => Err("outgoing_smtp_url is unusable, no relay".to_string()),
        };
        if let Err(e) = sent {
            // The request stays in place so that the user can answer again.
            tracing::warn!(error = %e, user = %ctx.user, "ActiveSync meeting reply not sent");
            return Ok((status::MAILBOX_ERROR, calendar_id));
        }
    }
    if let Target::Mail { folder, role, uid } = &target
        && let Err(e) = put_away(ctx, *folder, role, *uid).await
    {
        tracing::warn!(error = %e, user = %ctx.user, "ActiveSync: answered meeting request not moved to Deleted Items");
        return Ok((status::MAILBOX_ERROR, calendar_id));
    }
    Ok((status::OK, calendar_id))
}

/// Moves the answered request mail (uid `uid` in `folder`) to Deleted
/// Items, or deletes it when it is there already.
async fn put_away(
    ctx: &Ctx<'_>,
    folder: u64,
    role: &str,
    uid: u32,
) -> Result<(), groxide_rpc::RpcError> {
    let uids = vec![cpb::UidRange {
        first: uid,
        last: uid,
    }];
    if role == "trash" {
        ctx.exmdb()
            .delete_messages(pb::DeleteMessagesRequest {
                dir: ctx.dir.clone(),
                folder: Some(folder_id(folder)),
                uids,
                hard: false,
            })
            .await?;
    } else {
        ctx.exmdb()
            .move_messages(pb::CopyMessagesRequest {
                dir: ctx.dir.clone(),
                folder: Some(folder_id(folder)),
                uids,
                target: Some(folder_role("trash")),
            })
            .await?;
    }
    Ok(())
}

/// The user's answer on the appointment: busy or tentative, accepted or
/// tentatively accepted.
fn mark(item: &mut Item, answer: Answer) {
    let (busy, response) = match answer {
        Answer::Tentative => (1, 2),
        _ => (2, 3),
    };
    item.set(&lids::PID_LID_BUSY_STATUS, PropValue::Long(busy));
    item.set(&lids::PID_LID_RESPONSE_STATUS, PropValue::Long(response));
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\n\
        BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n\
        END:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:meet-1\r\nSEQUENCE:2\r\n\
        DTSTART:20261215T140000Z\r\nDTEND:20261215T1\r\n 50000Z\r\nSUMMARY:Planning\r\n\
        ORGANIZER:mailto:boss@remote.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn the_reply_names_the_event_and_the_users_answer() {
        let mail = reply_mail(
            "demo@example.test",
            "boss@remote.test",
            "meet-1",
            "Planning",
            REQUEST,
            Answer::Tentative,
        );
        let text = String::from_utf8(mail).unwrap();
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
    }
}
