//! MeetingResponse ([MS-ASCMD] 2.2.1.11): the user accepts, tentatively
//! accepts or declines the meeting request a mail carries (its
//! text/calendar part, METHOD:REQUEST). The appointment in the default
//! calendar is created or updated with the answer (busy status, response
//! status) or, on a decline, removed; from protocol 16.0 on, when the
//! client asks (SendResponse), the iMIP REPLY goes to the organizer by
//! mail through the outgoing relay (before 16.0 the client sends it).
//! With an InstanceId (the start of one occurrence of a series) only that
//! occurrence is answered: the user's copy of the series gets an override
//! with the answer (groxide-pim's `ical::occurrence`, shared with EWS),
//! nothing is removed, and the REPLY names the occurrence (RECURRENCE-ID).

use crate::folder_sync::{CollectionKind, store_folders};
use crate::sync::{message_of, server_id};
use crate::{Ctx, Failure, expect_root};
use groxide_pim::ical::export::{ExportOptions, item_to_ical};
use groxide_pim::ical::imip::{self, Answer, calendar_part};
use groxide_pim::ical::import::{ImportOptions, parse_calendar};
use groxide_pim::ical::occurrence::{answer_occurrence, original_start_of_utc};
use groxide_rpc::exmdb_client::{folder_id, folder_role};
use groxide_rpc::items::{Precondition, PutTarget, item_uid};
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::exmdb::v1 as pb;
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
        // An InstanceId that does not read is refused, not taken as the series.
        let instance = r
            .child_text(MeetingResponse::InstanceId)
            .map(crate::pim_items::parse_time);
        let (st, calendar_id) = match (answer, message_of(&request_id), instance) {
            (_, _, Some(None)) => (status::INVALID_REQUEST, None),
            (Some(answer), Some(mid), instance) => {
                respond(ctx, mid, answer, send, instance.flatten()).await?
            }
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
/// appointment stays where it is. `instance` (Unix seconds): only the
/// occurrence of the series starting then is answered.
async fn respond(
    ctx: &mut Ctx<'_>,
    mid: u64,
    answer: Answer,
    send: bool,
    instance: Option<i64>,
) -> Result<(u8, Option<String>), Failure> {
    let Some(target) = target_of(ctx, mid).await? else {
        return Ok((status::INVALID_REQUEST, None));
    };
    let (mut item, mut ics, calendar, existing) = match &target {
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
    let calendar_id = match (answer, instance) {
        (_, Some(at)) => {
            // The user's copy of the series: the stored one, else the request's.
            let series = match (&target, existing.first()) {
                (Target::Mail { .. }, Some(e)) => match ctx.exmdb().get_item(&ctx.dir, *e).await {
                    Ok((_, stored)) => stored,
                    Err(e) if e.reason() == Some(Reason::NoSuchMessage) => item,
                    Err(e) => return Err(e.into()),
                },
                _ => item,
            };
            let opts = ExportOptions {
                floating_zone: ctx.zone,
                owner: Some(ctx.user.clone()),
            };
            let answered = original_start_of_utc(&series, at, ctx.zone)
                .ok_or_else(|| "the meeting has no start".to_string())
                .and_then(|start| {
                    answer_occurrence(&series, &ctx.user, start, answer, &opts)
                        .map_err(|e| e.to_string())
                });
            let answered = match answered {
                Ok(a) => a,
                Err(why) => {
                    tracing::info!(user = %ctx.user, error = why, "ActiveSync: no such occurrence to answer");
                    return Ok((status::INVALID_REQUEST, None));
                }
            };
            ics = answered.occurrence;
            let target = existing
                .first()
                .map_or(PutTarget::New, |e| PutTarget::Message(*e));
            let (info, _) = ctx
                .exmdb()
                .put_item(
                    &ctx.dir,
                    calendar,
                    &answered.item,
                    target,
                    Precondition::None,
                )
                .await?;
            Some(server_id(info.folder_id, info.message_id))
        }
        (Answer::Decline, None) => {
            for e in &existing {
                match ctx.exmdb().delete_item(&ctx.dir, *e, None).await {
                    Ok(()) => {}
                    Err(e) if e.reason() == Some(Reason::NoSuchMessage) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            None
        }
        (Answer::Accept | Answer::Tentative, None) => {
            imip::answer_item(
                &mut item,
                &ctx.user,
                answer,
                &groxide_pim::ical::ExportOptions::default(),
            );
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
        // The relay's answer is awaited without a turn of work: a slow or
        // silent relay does not stop other phones' commands.
        let sent = match ctx.eas.submitter() {
            Some(s) => ctx
                .off_turn(s.send_bytes(&envelope, &mail))
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
