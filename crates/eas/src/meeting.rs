//! MeetingResponse ([MS-ASCMD] 2.2.1.11): the user accepts, tentatively
//! accepts or declines the meeting request a mail carries (its
//! text/calendar part, METHOD:REQUEST). The appointment in the default
//! calendar is created or updated with the answer (busy status, response
//! status) or, on a decline, removed; from protocol 16.0 on, when the
//! client asks (SendResponse), the iMIP REPLY goes to the organizer by
//! mail through the outgoing relay (before 16.0 the client sends it).

use crate::sync::{message_of, server_id};
use crate::{Ctx, Failure, expect_root};
use groxide_pim::ical::imip::{self, Answer, calendar_part};
use groxide_pim::ical::import::{ImportOptions, parse_calendar};
use groxide_rpc::exmdb_client::folder_role;
use groxide_rpc::items::{Precondition, PutTarget, item_uid};
use groxide_rpc::reason::Reason;
use groxide_submit::Envelope;
use groxide_wbxml::{Element, MeetingResponse};

/// MeetingResponse status codes.
mod status {
    pub const OK: u8 = 1;
    pub const INVALID_REQUEST: u8 = 2;
    pub const MAILBOX_ERROR: u8 = 3;
}

/// The user's answer of a `UserResponse` value.
fn answer_of(v: &str) -> Option<Answer> {
    match v.trim() {
        "1" => Some(Answer::Accept),
        "2" => Some(Answer::Tentative),
        "3" => Some(Answer::Decline),
        _ => None,
    }
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
            .and_then(answer_of);
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

/// Answers the request in mail `mid`: (status, CalendarId).
async fn respond(
    ctx: &Ctx<'_>,
    mid: u64,
    answer: Answer,
    send: bool,
) -> Result<(u8, Option<String>), Failure> {
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
    let Some(mut item) = parse_calendar(ics.as_bytes(), &ImportOptions::default())
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
    let calendar = folder_role("calendar");
    let existing = ctx
        .exmdb()
        .find_items(&ctx.dir, calendar.clone(), &[], std::slice::from_ref(&uid))
        .await?;
    let calendar_id = match answer {
        Answer::Decline => {
            for e in &existing {
                match ctx.exmdb().delete_item(&ctx.dir, e.message_id, None).await {
                    Ok(()) => {}
                    Err(e) if e.reason() == Some(Reason::NoSuchMessage) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            None
        }
        Answer::Accept | Answer::Tentative => {
            imip::answer_item(
                &mut item,
                &ctx.user,
                answer,
                &groxide_pim::ical::ExportOptions::default(),
            );
            let target = existing
                .first()
                .map_or(PutTarget::New, |e| PutTarget::Message(e.message_id));
            let (info, _) = ctx
                .exmdb()
                .put_item(&ctx.dir, calendar, &item, target, Precondition::None)
                .await?;
            Some(server_id(info.folder_id, info.message_id))
        }
    };
    if send && ctx.params.version.0 >= 160 && !organizer.is_empty() {
        let mail = imip::reply_mail(
            &ctx.user,
            &organizer,
            &uid,
            &subject,
            &ics,
            answer,
            chrono::Utc::now(),
            &format!("{:016x}.eas@groxide", rand::random::<u64>()),
        );
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
            tracing::warn!(error = %e, user = %ctx.user, "ActiveSync meeting reply not sent");
            return Ok((status::MAILBOX_ERROR, calendar_id));
        }
    }
    Ok((status::OK, calendar_id))
}
