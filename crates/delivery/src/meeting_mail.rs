//! Meeting mail (iMIP, RFC 6047) that reached an Inbox updates the
//! recipient's calendar, as Exchange does: a REQUEST puts the meeting in
//! the default Calendar as tentative (a later one with a higher SEQUENCE
//! updates it), a REPLY sets the attendee's answer on the organizer's
//! event, a CANCEL marks the attendee's copy cancelled or removes the
//! occurrence; a REQUEST or REPLY for one occurrence (RECURRENCE-ID)
//! changes that occurrence's override in the same series item. The rules (who may change what, SEQUENCE order) are
//! groxide-pim's `ical::scheduling`; the calendar item is written with the
//! store's PutItem, as CalDAV and EWS write theirs, so every client sees
//! the change on its next sync. The mail itself gets the message class of
//! its kind (IPM.Schedule.Meeting.Request, .Resp.Pos/.Neg/.Tent,
//! .Canceled).
//!
//! **Invariant:** this runs after the message is stored and never changes
//! the delivery's outcome: a malformed or unauthorised calendar part, a
//! message too large to read (`lda_meeting_max_length`) or a store error
//! is logged and the mail stays as plain mail. Applying one message twice
//! changes nothing the second time (the rules refuse what is not newer).

use crate::mailbox_writer::{DeliveryOutcome, DeliveryRequest, MailboxWriter, TargetFolder};
use groxide_mapi::PropValue;
use groxide_pim::goid::GlobalObjectId;
use groxide_pim::ical::imip::calendar_part;
use groxide_pim::ical::scheduling::{self, Arrival, Outcome};
use groxide_rpc::ExmdbClient;
use groxide_rpc::exmdb_client::folder_role;
use groxide_rpc::items::{Precondition, PutTarget, prop_into_pb};
use groxide_rpc::pb::exmdb::v1 as pb;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A [`MailboxWriter`] that delivers through another and then applies the
/// meeting mail it delivered to an Inbox to the recipient's calendar.
pub struct MeetingMail<W> {
    inner: W,
    exmdb: Arc<ExmdbClient>,
    max_length: AtomicU64,
}

impl<W> MeetingMail<W> {
    /// Delivers through `inner`, updates calendars through `exmdb`; reads
    /// messages up to `max_length` bytes (`lda_meeting_max_length`).
    pub fn new(inner: W, exmdb: Arc<ExmdbClient>, max_length: u64) -> Self {
        MeetingMail {
            inner,
            exmdb,
            max_length: AtomicU64::new(max_length),
        }
    }

    /// The writer it delivers through.
    pub fn inner(&self) -> &W {
        &self.inner
    }

    /// Sets `lda_meeting_max_length` (SIGHUP).
    pub fn set_max_length(&self, max_length: u64) {
        self.max_length.store(max_length, Ordering::Relaxed);
    }
}

/// Whether a header block or body may hold a text/calendar part (a cheap
/// test before the message is parsed).
fn mentions_calendar(bytes: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"text/calendar";
    bytes
        .windows(NEEDLE.len())
        .any(|w| w.eq_ignore_ascii_case(NEEDLE))
}

/// Whether a message with this header block may carry a calendar part:
/// its own type is text/calendar or multipart (no Content-Type is
/// text/plain). Most mail is told apart without reading its body.
fn may_be_meeting_mail(head: &[u8]) -> bool {
    match groxide_mime::find_header(head, "content-type") {
        Some(t) => {
            let t = t.trim_start().to_ascii_lowercase();
            t.starts_with("multipart/") || t.starts_with("text/calendar")
        }
        // Only the first part of a huge header block: the field may follow.
        None => {
            !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n")
        }
    }
}

/// The message as received, when it is small enough and may carry a
/// calendar part.
async fn read_message(request: &DeliveryRequest<'_>, max_length: u64) -> Option<Vec<u8>> {
    if !may_be_meeting_mail(request.head) {
        return None;
    }
    if request.message.len() > max_length {
        tracing::debug!(
            queue_id = request.queue_id,
            size = request.message.len(),
            "too large for meeting processing"
        );
        return None;
    }
    let mut raw = Vec::with_capacity(usize::try_from(request.message.len()).unwrap_or(0));
    let mut reader = request.message.reader();
    loop {
        match reader.next_piece().await {
            Ok(Some(piece)) => raw.extend_from_slice(&piece),
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(queue_id = request.queue_id, error = %e, "meeting mail: the delivered message could not be read back from the spool; calendar not updated, the mail is delivered");
                return None;
            }
        }
    }
    mentions_calendar(&raw).then_some(raw)
}

/// What became of one meeting mail (for logs and tests).
#[derive(Debug, Clone, PartialEq)]
pub enum Processed {
    /// No text/calendar part, or no scheduling METHOD in it: plain mail.
    PlainMail,
    /// The calendar item was written.
    CalendarUpdated {
        /// The calendar item's message id.
        message_id: u64,
    },
    /// The calendar stays as it is, for this reason.
    CalendarUnchanged(scheduling::Skip),
}

/// Applies the meeting mail `raw`, stored as message `message_id` in the
/// Inbox of `dir` (owned by `user`), to the user's calendar. `fallback_sender`
/// (the envelope's) counts when the mail has no From.
pub async fn process(
    exmdb: &ExmdbClient,
    dir: &str,
    user: &str,
    message_id: u64,
    raw: &[u8],
    fallback_sender: &str,
) -> Result<Processed, groxide_rpc::RpcError> {
    let Some(ics) = calendar_part(raw) else {
        return Ok(Processed::PlainMail);
    };
    let arrival = match Arrival::read(&ics) {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(dir, error = %e, "meeting mail: the text/calendar part is not an iMIP meeting message; delivered as plain mail");
            return Ok(Processed::PlainMail);
        }
    };
    let summary = groxide_mime::parse_summary(raw);
    let sender = summary
        .from
        .first()
        .map_or(fallback_sender, |a| a.addr.as_str());
    // The UID as the store indexes it (an Outlook UID is its object id).
    let uid = GlobalObjectId::from_uid(&arrival.uid).to_uid();
    let calendar = folder_role("calendar");
    let found = exmdb
        .find_items(dir, calendar.clone(), &[], std::slice::from_ref(&uid))
        .await?;
    let existing = match found.first() {
        Some(info) => Some(exmdb.get_item(dir, info.message_id).await?),
        None => None,
    };
    let processed =
        match scheduling::apply(&arrival, sender, user, existing.as_ref().map(|(_, i)| i)) {
            Outcome::Store(item) => {
                let target = existing.as_ref().map_or(PutTarget::New, |(info, _)| {
                    PutTarget::Message(info.message_id)
                });
                let (info, _) = exmdb
                    .put_item(dir, calendar, &item, target, Precondition::None)
                    .await?;
                Processed::CalendarUpdated {
                    message_id: info.message_id,
                }
            }
            Outcome::Unchanged(scheduling::Skip::Unreadable(why)) => {
                tracing::info!(
                    dir,
                    error = why,
                    "meeting mail: its event could not be read; delivered as plain mail"
                );
                return Ok(Processed::PlainMail);
            }
            Outcome::Unchanged(skip) => Processed::CalendarUnchanged(skip),
        };
    if let Some(class) = arrival.message_class() {
        exmdb
            .set_message_props(pb::SetMessagePropsRequest {
                dir: dir.to_string(),
                message_id,
                set: vec![prop_into_pb(
                    groxide_mapi::tags::PR_MESSAGE_CLASS,
                    PropValue::Unicode(class.to_string()),
                )],
                remove: Vec::new(),
            })
            .await?;
    }
    Ok(processed)
}

impl<W: MailboxWriter> MailboxWriter for MeetingMail<W> {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryOutcome {
        let outcome = self.inner.deliver(request).await;
        let DeliveryOutcome::Delivered {
            message_id: Some(message_id),
            ..
        } = &outcome
        else {
            return outcome;
        };
        if request.folder != TargetFolder::Inbox {
            return outcome;
        }
        let max_length = self.max_length.load(Ordering::Relaxed);
        let Some(raw) = read_message(&request, max_length).await else {
            return outcome;
        };
        let dir = &request.mailbox.dir;
        match process(
            &self.exmdb,
            dir,
            &request.mailbox.user,
            *message_id,
            &raw,
            request.reverse_path,
        )
        .await
        {
            Ok(Processed::PlainMail) => {}
            Ok(done) => tracing::info!(
                queue_id = request.queue_id,
                dir,
                result = ?done,
                "meeting mail: calendar processed (result says whether it changed)"
            ),
            Err(e) => tracing::warn!(
                queue_id = request.queue_id,
                dir,
                error = %e,
                "meeting mail: calendar not updated; the mail is delivered"
            ),
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_multipart_or_calendar_mail_is_read_back() {
        let plain = b"From: a@b.test\r\nContent-Type: text/plain\r\n\r\n";
        let none = b"From: a@b.test\r\nSubject: hi\r\n\r\n";
        let mixed = b"From: a@b.test\r\nContent-Type: Multipart/Mixed;\r\n boundary=x\r\n\r\n";
        let ics = b"Content-Type: text/calendar; method=REQUEST\r\n\r\n";
        let cut = b"From: a@b.test\r\nX-Long: aaaa";
        assert!(!may_be_meeting_mail(plain));
        assert!(!may_be_meeting_mail(none));
        assert!(may_be_meeting_mail(mixed));
        assert!(may_be_meeting_mail(ics));
        assert!(
            may_be_meeting_mail(cut),
            "a cut header block may name its type later"
        );
    }

    #[test]
    fn only_messages_that_name_text_calendar_are_read_further() {
        assert!(mentions_calendar(
            b"Content-Type: Text/Calendar; method=REQUEST\r\n"
        ));
        assert!(!mentions_calendar(
            b"Content-Type: text/plain\r\n\r\nhi\r\n"
        ));
    }
}
