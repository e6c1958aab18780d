//! Meetings ([MS-OXWSMTGS]): the organizer's side — CreateItem, UpdateItem
//! and DeleteItem of a calendar item with attendees send iMIP REQUESTs
//! (SEQUENCE raised on every sent update) and CANCELs to the attendees
//! when `SendMeetingInvitations…`/`SendMeetingCancellations` asks — and
//! the attendee's side: the response objects `AcceptItem`,
//! `TentativelyAcceptItem` and `DeclineItem` of CreateItem, whose
//! `ReferenceItemId` names the calendar item or the mail in the Inbox
//! carrying the REQUEST (its text/calendar part). The answer books the
//! appointment (accept, tentative: busy status, response status and the
//! user's own attendee PARTSTAT) or removes it (decline), and the iMIP
//! REPLY goes to the organizer unless `MessageDisposition` is SaveOnly
//! (then it is saved as a draft, which SendItem sends). The iMIP mails
//! are groxide-pim's (`ical::imip`, the same ActiveSync's MeetingResponse
//! sends), through the outgoing relay. A reference that is no meeting is
//! `ErrorInvalidItemForOperation…` (the answer's own code), with nothing
//! written. A `ReferenceItemId` that is an occurrence id (FindItem's
//! CalendarView, GetItem of an occurrence) answers that occurrence only:
//! the series gets an override with the answer (groxide-pim's
//! `ical::occurrence`, as ActiveSync's InstanceId), a decline removes
//! nothing, and the REPLY carries the occurrence's RECURRENCE-ID.

use super::send::submit;
use crate::groupware::new_uid;
use crate::ids::OccurrenceKey;
use crate::items::{FLAG_DRAFT, FLAG_SEEN, ItemKind};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode};
use crate::xml::{Element, EwsElement, NS_TYPES};
use groxide_mapi::{PropValue, lids, tags};
use groxide_pim::Item;
use groxide_pim::ical::imip::{self, Answer, Method};
use groxide_pim::ical::occurrence::answer_occurrence;
use groxide_pim::ical::{ExportOptions, ImportOptions, item_to_ical, parse_calendar};
use groxide_rpc::exmdb_client::folder_role;
use groxide_rpc::items::{Precondition, PutTarget, item_uid};
use groxide_rpc::reason::Reason;

/// What `SendMeetingInvitations`, `SendMeetingInvitationsOrCancellations`
/// or `SendMeetingCancellations` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invitations {
    /// Nothing is sent.
    None,
    /// Sent to the attendees, no copy kept.
    Send,
    /// Sent, and a copy kept in Sent Items.
    SendAndSaveCopy,
}

impl Invitations {
    /// The value of the attribute (absent: nothing is sent).
    pub(crate) fn parse(value: Option<&str>) -> Result<Invitations, EwsError> {
        Ok(match value {
            None | Some("SendToNone") => Invitations::None,
            // Every attendee counts as changed: the whole meeting is sent.
            Some("SendOnlyToAll" | "SendOnlyToChanged") => Invitations::Send,
            Some("SendToAllAndSaveCopy" | "SendToChangedAndSaveCopy") => {
                Invitations::SendAndSaveCopy
            }
            Some(other) => {
                return Err(EwsError::invalid(format!(
                    "{other} is not a meeting sending option"
                )));
            }
        })
    }

    pub(crate) fn sends(self) -> bool {
        self != Invitations::None
    }
}

/// One response object of a CreateItem.
#[derive(Debug, Clone)]
pub(crate) struct ResponseObject {
    pub(crate) answer: Answer,
    /// The `ReferenceItemId`.
    pub(crate) reference: Element,
}

/// The answer a response object's element name gives (`None`: the element
/// is no meeting response).
pub(crate) fn answer_of(e: &Element) -> Option<Answer> {
    if e.ns != NS_TYPES {
        return None;
    }
    match e.name.as_str() {
        "AcceptItem" => Some(Answer::Accept),
        "TentativelyAcceptItem" => Some(Answer::Tentative),
        "DeclineItem" => Some(Answer::Decline),
        _ => None,
    }
}

/// Reads an `AcceptItem`/`TentativelyAcceptItem`/`DeclineItem`.
pub(crate) fn parse_response(e: &Element) -> Result<ResponseObject, EwsError> {
    let answer = answer_of(e)
        .ok_or_else(|| EwsError::invalid(format!("{} is not a meeting response", e.name)))?;
    let reference = e
        .t("ReferenceItemId")
        .filter(|r| r.attr("Id").is_some_and(|i| !i.is_empty()))
        .cloned()
        .ok_or_else(|| {
            EwsError::new(
                ResponseCode::ErrorInvalidIdEmpty,
                format!("{} names no ReferenceItemId", e.name),
            )
        })?;
    Ok(ResponseObject { answer, reference })
}

/// The schema's code for a response object whose reference is no meeting
/// (it has one per answer).
fn not_a_meeting(answer: Answer, what: impl Into<String>) -> EwsError {
    let code = match answer {
        Answer::Accept => ResponseCode::ErrorInvalidItemForOperationAcceptItem,
        Answer::Tentative => ResponseCode::ErrorInvalidItemForOperationTentative,
        Answer::Decline => ResponseCode::ErrorInvalidItemForOperationDeclineItem,
    };
    EwsError::new(code, what)
}

fn internal(e: impl std::fmt::Display) -> EwsError {
    EwsError::new(ResponseCode::ErrorInternalServerError, e.to_string())
}

/// The organizer's address of a meeting (`None`: no attendees, no meeting;
/// an item with attendees but no organizer was organised by the owner).
pub(crate) fn organizer(item: &Item, user: &str) -> Option<String> {
    if !item.recipients.iter().any(|r| !r.organizer) {
        return None;
    }
    Some(
        item.recipients
            .iter()
            .find(|r| r.organizer && !r.address.is_empty())
            .map_or_else(|| user.to_string(), |r| r.address.clone()),
    )
}

/// The addresses a meeting of `user`'s is sent to: its attendees but the user.
pub(crate) fn attendees(item: &Item, user: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in item.recipients.iter().filter(|r| !r.organizer) {
        if !r.address.is_empty()
            && !r.address.eq_ignore_ascii_case(user)
            && !out.iter().any(|o| o.eq_ignore_ascii_case(&r.address))
        {
            out.push(r.address.clone());
        }
    }
    out
}

/// Whether `item` is a meeting `user` organised (and so sends).
pub(crate) fn organised_by(item: &Item, user: &str) -> bool {
    organizer(item, user).is_some_and(|o| o.eq_ignore_ascii_case(user))
}

pub(crate) fn sequence(item: &Item) -> i64 {
    item.int(&lids::PID_LID_APPOINTMENT_SEQUENCE).unwrap_or(0)
}

pub(crate) fn set_sequence(item: &mut Item, sequence: i64) {
    item.set(
        &lids::PID_LID_APPOINTMENT_SEQUENCE,
        PropValue::Long(sequence.clamp(0, i64::from(i32::MAX)) as i32),
    );
}

/// Refuses early (before anything is written) when mail must be sent and
/// the server has no relay.
pub(crate) fn check_relay(mb: &Mailbox<'_>) -> Result<(), EwsError> {
    if mb.submitter().is_none() {
        return Err(EwsError::new(
            ResponseCode::ErrorMessageSubmissionBlocked,
            "this server has no outgoing relay",
        ));
    }
    Ok(())
}

fn export_options(mb: &Mailbox<'_>) -> ExportOptions {
    let owner = mb.owner();
    ExportOptions {
        floating_zone: owner.zone,
        owner: Some(owner.address),
    }
}

/// Sends the organizer's REQUEST or CANCEL of stored meeting `item` (at
/// `sequence`) to `to`; with `how` SendAndSaveCopy a copy goes to Sent Items.
pub(crate) async fn send_scheduling(
    mb: &mut Mailbox<'_>,
    item: &Item,
    method: Method,
    sequence: i64,
    to: Vec<String>,
    how: Invitations,
) -> Result<(), EwsError> {
    if to.is_empty() || !how.sends() {
        return Ok(());
    }
    let ics = item_to_ical(item, &export_options(mb)).map_err(internal)?;
    let object = imip::scheduling_object(&ics, method, sequence);
    let subject = item.str(tags::PR_SUBJECT).unwrap_or_default();
    let subject = match method {
        Method::Cancel => format!("Canceled: {subject}"),
        _ => subject.to_string(),
    };
    let raw = imip::mail(
        &mb.user,
        &to,
        &subject,
        method,
        &object,
        chrono::Utc::now(),
        &new_uid(),
    );
    submit(mb, &raw).await?;
    if how == Invitations::SendAndSaveCopy {
        let sent = mb.folder_by_role("sent").await?;
        mb.insert(sent.id, raw, FLAG_SEEN).await?;
    }
    Ok(())
}

/// The meeting a response object answers.
struct Meeting {
    /// The REQUEST (or the stored event) as iCalendar.
    ics: String,
    /// The appointment to book.
    item: Item,
    uid: String,
    organizer: String,
    /// The user's copies in the calendar (to update or remove) and the
    /// calendar new copies go to.
    existing: Vec<u64>,
    calendar: groxide_rpc::pb::exmdb::v1::FolderSelector,
    /// The occurrence answered (its original start, the series' wall
    /// time), when the reference is one occurrence of the series `item`.
    occurrence: Option<chrono::NaiveDateTime>,
}

/// Reads the meeting `reference` names: a calendar item of the user's, or
/// a mail whose text/calendar part is a REQUEST.
async fn meeting_of(
    mb: &mut Mailbox<'_>,
    reference: &Element,
    answer: Answer,
) -> Result<Meeting, EwsError> {
    let id = reference.attr("Id").unwrap_or_default();
    let (key, occurrence) = match OccurrenceKey::decode(id) {
        Ok(o) => {
            mb.check_store(o.item.store).await?;
            let start = chrono::DateTime::from_timestamp(o.original_start, 0)
                .ok_or_else(|| EwsError::invalid("the occurrence id names no time"))?
                .naive_utc();
            (o.item, Some(start))
        }
        Err(_) => (mb.item_key(reference).await?, None),
    };
    let kind = mb.kind_of(key.folder).await?;
    if occurrence.is_some() && kind != ItemKind::Calendar {
        return Err(not_a_meeting(
            answer,
            "an occurrence id names a calendar item",
        ));
    }
    let user = mb.user.clone();
    let (item, ics, existing, calendar) = match kind {
        ItemKind::Calendar => {
            let (_, item) = mb.read_item(&key).await?;
            let ics = item_to_ical(&item, &export_options(mb)).map_err(internal)?;
            let calendar = groxide_rpc::pb::exmdb::v1::FolderSelector {
                folder: Some(groxide_rpc::pb::exmdb::v1::folder_selector::Folder::Id(
                    key.folder,
                )),
            };
            (item, ics, vec![key.message], calendar)
        }
        ItemKind::Contact | ItemKind::Task => {
            return Err(not_a_meeting(
                answer,
                format!(
                    "a {} is not a meeting",
                    crate::groupware::element_name(kind)
                ),
            ));
        }
        _ => {
            // A mail: checks the id still names it, then reads its content.
            mb.read_message(&key).await?;
            let raw = mb.content(key.message).await?;
            let ics = imip::calendar_part(&raw)
                .ok_or_else(|| not_a_meeting(answer, "the message carries no meeting request"))?;
            if imip::calendar_method(&ics).as_deref() != Some("REQUEST") {
                return Err(not_a_meeting(
                    answer,
                    "the message's calendar part is no meeting request (METHOD:REQUEST)",
                ));
            }
            let owner = mb.owner();
            let item = parse_calendar(
                ics.as_bytes(),
                &ImportOptions {
                    floating_zone: owner.zone,
                    owner: Some(owner.address),
                    ..ImportOptions::default()
                },
            )
            .items
            .into_iter()
            .find_map(Result::ok)
            .ok_or_else(|| not_a_meeting(answer, "the meeting request cannot be read"))?;
            let calendar = folder_role("calendar");
            let uid = item_uid(&item);
            let existing = if uid.is_empty() {
                Vec::new()
            } else {
                mb.exmdb()
                    .find_items(&mb.dir, calendar.clone(), &[], std::slice::from_ref(&uid))
                    .await
                    .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?
                    .into_iter()
                    .map(|i| i.message_id)
                    .collect()
            };
            (item, ics, existing, calendar)
        }
    };
    let uid = item_uid(&item);
    if uid.is_empty() {
        return Err(not_a_meeting(answer, "the meeting has no UID"));
    }
    let organizer = organizer(&item, &user)
        .ok_or_else(|| not_a_meeting(answer, "the item is no meeting: it has no attendees"))?;
    if organizer.eq_ignore_ascii_case(&user) {
        return Err(not_a_meeting(
            answer,
            "the user organised this meeting and cannot answer it",
        ));
    }
    Ok(Meeting {
        ics,
        item,
        uid,
        organizer,
        existing,
        calendar,
        occurrence,
    })
}

/// Writes the user's answered copy of the meeting: over the copy the
/// calendar has, else as a new item of the calendar.
async fn store_answer(mb: &Mailbox<'_>, meeting: &Meeting, item: &Item) -> Result<(), EwsError> {
    let target = meeting
        .existing
        .first()
        .map_or(PutTarget::New, |m| PutTarget::Message(*m));
    mb.exmdb()
        .put_item(
            &mb.dir,
            meeting.calendar.clone(),
            item,
            target,
            Precondition::None,
        )
        .await
        .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
    Ok(())
}

/// The saved copy of a response: its id and change number.
pub(crate) type Saved = Option<(crate::ids::ItemKey, u64)>;

/// One response object of a CreateItem: books or removes the appointment,
/// then sends the REPLY (`send`) and keeps it in `save_in` (a draft when
/// not sent).
pub(crate) async fn respond(
    mb: &mut Mailbox<'_>,
    e: &Element,
    send: bool,
    save_in: Option<u64>,
) -> Result<Saved, EwsError> {
    let response = parse_response(e)?;
    let mut meeting = meeting_of(mb, &response.reference, response.answer).await?;
    if send {
        check_relay(mb)?;
    }
    let user = mb.user.clone();
    let subject = meeting
        .item
        .str(tags::PR_SUBJECT)
        .unwrap_or_default()
        .to_string();
    match (response.answer, meeting.occurrence) {
        (_, Some(start)) => {
            let answered = answer_occurrence(
                &meeting.item,
                &user,
                start,
                response.answer,
                &export_options(mb),
            )
            .map_err(|e| EwsError::new(ResponseCode::ErrorItemNotFound, e.to_string()))?;
            store_answer(mb, &meeting, &answered.item).await?;
            meeting.ics = answered.occurrence;
        }
        (Answer::Decline, None) => {
            for m in &meeting.existing {
                match mb.exmdb().delete_item(&mb.dir, *m, None).await {
                    Ok(()) => {}
                    Err(e) if e.reason() == Some(Reason::NoSuchMessage) => {}
                    Err(e) => return Err(EwsError::from_rpc(&e, ResponseCode::ErrorItemNotFound)),
                }
            }
        }
        (Answer::Accept | Answer::Tentative, None) => {
            imip::answer_item(
                &mut meeting.item,
                &user,
                response.answer,
                &export_options(mb),
            );
            store_answer(mb, &meeting, &meeting.item).await?;
        }
    }
    let raw = imip::reply_mail(
        &user,
        &meeting.organizer,
        &meeting.uid,
        &subject,
        &meeting.ics,
        response.answer,
        chrono::Utc::now(),
        &new_uid(),
    );
    if send {
        submit(mb, &raw).await?;
    }
    let Some(folder) = save_in else {
        return Ok(None);
    };
    let flags = if send {
        FLAG_SEEN
    } else {
        FLAG_SEEN | FLAG_DRAFT
    };
    let (key, cn) = mb.insert(folder, raw, flags).await?;
    Ok(Some((key, cn)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    fn items(xml: &str) -> Vec<Element> {
        let doc = format!(
            "<m:Items xmlns:m=\"{}\" xmlns:t=\"{NS_TYPES}\">{xml}</m:Items>",
            crate::xml::NS_MESSAGES
        );
        parse(doc.as_bytes()).unwrap().children
    }

    #[test]
    fn response_objects_give_their_answer_and_reference() {
        let got = items(
            "<t:AcceptItem><t:ReferenceItemId Id=\"AAA\" ChangeKey=\"CK\"/></t:AcceptItem>\
             <t:TentativelyAcceptItem><t:Body BodyType=\"Text\">maybe</t:Body>\
             <t:ReferenceItemId Id=\"BBB\"/></t:TentativelyAcceptItem>\
             <t:DeclineItem><t:ReferenceItemId Id=\"CCC\"/></t:DeclineItem>",
        );
        let parsed: Vec<ResponseObject> = got.iter().map(|e| parse_response(e).unwrap()).collect();
        assert_eq!(
            parsed.iter().map(|p| p.answer).collect::<Vec<_>>(),
            [Answer::Accept, Answer::Tentative, Answer::Decline]
        );
        assert_eq!(parsed[0].reference.attr("Id"), Some("AAA"));
        assert_eq!(parsed[0].reference.attr("ChangeKey"), Some("CK"));
        assert_eq!(parsed[1].reference.attr("Id"), Some("BBB"));
        assert_eq!(parsed[2].reference.attr("Id"), Some("CCC"));
    }

    #[test]
    fn a_response_without_a_reference_or_of_another_kind_is_refused() {
        let got = items(
            "<t:AcceptItem/><t:DeclineItem><t:ReferenceItemId Id=\"\"/></t:DeclineItem>\
             <t:Message/><t:CancelCalendarItem><t:ReferenceItemId Id=\"A\"/></t:CancelCalendarItem>",
        );
        assert_eq!(
            parse_response(&got[0]).unwrap_err().code,
            ResponseCode::ErrorInvalidIdEmpty
        );
        assert_eq!(
            parse_response(&got[1]).unwrap_err().code,
            ResponseCode::ErrorInvalidIdEmpty
        );
        assert_eq!(answer_of(&got[2]), None);
        assert_eq!(answer_of(&got[3]), None);
        assert_eq!(
            parse_response(&got[3]).unwrap_err().code,
            ResponseCode::ErrorInvalidRequest
        );
    }

    #[test]
    fn sending_options_are_read_from_the_schema_values() {
        assert_eq!(Invitations::parse(None).unwrap(), Invitations::None);
        assert_eq!(
            Invitations::parse(Some("SendToNone")).unwrap(),
            Invitations::None
        );
        assert_eq!(
            Invitations::parse(Some("SendOnlyToAll")).unwrap(),
            Invitations::Send
        );
        assert_eq!(
            Invitations::parse(Some("SendToAllAndSaveCopy")).unwrap(),
            Invitations::SendAndSaveCopy
        );
        assert_eq!(
            Invitations::parse(Some("SendToChangedAndSaveCopy")).unwrap(),
            Invitations::SendAndSaveCopy
        );
        assert!(Invitations::parse(Some("SendToEveryone")).is_err());
    }

    #[test]
    fn the_organizer_and_attendees_of_a_meeting() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:m\r\n\
            DTSTART:20300101T100000Z\r\nDTEND:20300101T110000Z\r\nSUMMARY:x\r\n\
            ORGANIZER:mailto:boss@remote.test\r\nATTENDEE:mailto:demo@example.test\r\n\
            ATTENDEE:mailto:bob@remote.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let item = parse_calendar(ics.as_bytes(), &ImportOptions::default())
            .items
            .remove(0)
            .unwrap();
        let user = "demo@example.test";
        assert_eq!(organizer(&item, user).as_deref(), Some("boss@remote.test"));
        assert!(!organised_by(&item, user));
        assert!(organised_by(&item, "BOSS@remote.test"));
        assert_eq!(attendees(&item, user), ["bob@remote.test"]);
        let mut lone = item.clone();
        lone.recipients.clear();
        assert_eq!(organizer(&lone, user), None);
    }
}
