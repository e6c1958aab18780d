//! The meeting of a meeting message (`t:MeetingRequest`,
//! `t:MeetingResponse`, `t:MeetingCancellation`): the event of its
//! text/calendar part and the calendar item with that UID in the default
//! Calendar — what groxide-delivery made of the mail when it arrived.
//! Read only for messages whose class says they are meeting mail and only
//! when the shape asks for a meeting field (three store reads each).

use crate::items::{Address, Field, FieldSet, MeetingInfo, MessageItem, message_element};
use crate::mailbox::Mailbox;
use groxide_mapi::lids;
use groxide_pim::ResponseStatus;
use groxide_pim::goid::GlobalObjectId;
use groxide_pim::ical::imip::calendar_part;
use groxide_pim::ical::scheduling::Arrival;
use groxide_rpc::exmdb_client::folder_role;

/// Whether `set` asks for a field only meeting messages have.
fn wants_meeting(set: FieldSet) -> bool {
    Field::ALL
        .iter()
        .any(|f| f.is_meeting() && set.contains(*f))
}

fn free_busy(v: Option<i64>) -> &'static str {
    match v {
        Some(0) => "Free",
        Some(1) => "Tentative",
        Some(3) => "OOF",
        _ => "Busy",
    }
}

/// Fills in the meeting of every meeting message of `items` (a message
/// whose meeting cannot be read shows none: it stays readable mail).
pub(crate) async fn load_meetings(
    mb: &Mailbox<'_>,
    items: &mut [Option<MessageItem>],
    set: FieldSet,
) {
    if !wants_meeting(set) {
        return;
    }
    for item in items.iter_mut().flatten() {
        if message_element(&item.item_class) == "t:Message" {
            continue;
        }
        let Some(key) = item.key else { continue };
        match meeting_of(mb, key.message, key.store).await {
            Ok(m) => item.meeting = m,
            Err(e) => {
                tracing::debug!(dir = mb.dir, error = %e.message, "meeting message: meeting not read")
            }
        }
    }
}

async fn meeting_of(
    mb: &Mailbox<'_>,
    message_id: u64,
    store: crate::ids::StoreGuid,
) -> Result<Option<MeetingInfo>, crate::response::EwsError> {
    let raw = mb.content(message_id).await?;
    let Some(arrival) = calendar_part(&raw).and_then(|ics| Arrival::read(&ics).ok()) else {
        return Ok(None);
    };
    let mut info = MeetingInfo {
        uid: arrival.uid.clone(),
        response_type: "Unknown",
        request_type: if arrival.sequence == 0 {
            "NewMeetingRequest"
        } else {
            "FullUpdate"
        },
        intended_busy: "Busy",
        ..MeetingInfo::default()
    };
    let uid = GlobalObjectId::from_uid(&arrival.uid).to_uid();
    let found = mb
        .exmdb()
        .find_items(&mb.dir, folder_role("calendar"), &[], &[uid])
        .await
        .map_err(|e| {
            crate::response::EwsError::from_rpc(
                &e,
                crate::response::ResponseCode::ErrorItemNotFound,
            )
        })?;
    let Some(entry) = found.first() else {
        return Ok(Some(info));
    };
    let (entry, event) = mb
        .exmdb()
        .get_item(&mb.dir, entry.message_id)
        .await
        .map_err(|e| {
            crate::response::EwsError::from_rpc(
                &e,
                crate::response::ResponseCode::ErrorItemNotFound,
            )
        })?;
    info.calendar_item = Some((
        crate::ids::ItemKey {
            store,
            folder: entry.folder_id,
            message: entry.message_id,
            uid: 0,
        },
        entry.change_number,
    ));
    info.response_type = crate::groupware::response_type(ResponseStatus::from_code(
        event.int(&lids::PID_LID_RESPONSE_STATUS).unwrap_or(0),
    ));
    info.intended_busy = free_busy(
        event
            .int(&lids::PID_LID_INTENDED_BUSY_STATUS)
            .or(event.int(&lids::PID_LID_BUSY_STATUS)),
    );
    info.start = event.time(&lids::PID_LID_APPOINTMENT_START_WHOLE);
    info.end = event.time(&lids::PID_LID_APPOINTMENT_END_WHOLE);
    info.all_day = event
        .bool(&lids::PID_LID_APPOINTMENT_SUB_TYPE)
        .unwrap_or(false);
    info.location = event
        .str(&lids::PID_LID_LOCATION)
        .unwrap_or_default()
        .to_string();
    info.cancelled = event
        .int(&lids::PID_LID_APPOINTMENT_STATE_FLAGS)
        .is_some_and(|f| f & 0x4 != 0);
    info.recurring = event.get(&lids::PID_LID_APPOINTMENT_RECUR).is_some();
    info.organizer = event
        .recipients
        .iter()
        .find(|r| r.organizer)
        .map(|r| Address {
            name: if r.name.is_empty() {
                r.address.clone()
            } else {
                r.name.clone()
            },
            email: r.address.clone(),
        });
    Ok(Some(info))
}
