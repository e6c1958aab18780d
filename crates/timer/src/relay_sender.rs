//! The production deferred send: the message is read from its store through
//! groxide-exmdb (routed to the store's home), streamed to the relay of
//! `outgoing_smtp_url` through groxide-submit, then moved to Sent Items.

use crate::bcc::BccStripper;
use crate::deferred_send::{DeferredSender, SendError};
use crate::exec::BoxFuture;
use futures_util::Stream;
use groxide_rpc::RpcError;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_id, folder_role};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use groxide_submit::{Envelope, RecipientStatus, Stage, SubmitError, SubmitReport, Submitter};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, ReadBuf};

/// PR_ADDRTYPE of a recipient ("SMTP", "EX", …).
const PR_ADDRTYPE: u32 = 0x3002_001F;
/// PR_EMAIL_ADDRESS of a recipient.
const PR_EMAIL_ADDRESS: u32 = 0x3003_001F;
/// PR_SMTP_ADDRESS of a recipient.
const PR_SMTP_ADDRESS: u32 = 0x39FE_001F;
/// PR_INTERNET_MESSAGE_ID of a message.
const PR_INTERNET_MESSAGE_ID: u32 = 0x1035_001F;
/// IMAP `\Seen` in the exmdb flag set.
const FLAG_SEEN: u32 = 1;
/// IMAP `\Draft` (MSGFLAG_UNSENT) in the exmdb flag set.
const FLAG_DRAFT: u32 = 16;
/// The role of Sent Items.
const SENT_ROLE: &str = "sent";

/// Reads from the store, submits to the relay, files in Sent Items.
pub struct RelaySender {
    exmdb: Arc<ExmdbClient>,
    submitter: RwLock<Arc<Submitter>>,
}

impl RelaySender {
    /// A sender reaching stores through `exmdb` and the relay through `submitter`.
    pub fn new(exmdb: Arc<ExmdbClient>, submitter: Submitter) -> RelaySender {
        RelaySender {
            exmdb,
            submitter: RwLock::new(Arc::new(submitter)),
        }
    }

    /// Uses `submitter` from the next submission on (SIGHUP).
    pub fn set_submitter(&self, submitter: Submitter) {
        match self.submitter.write() {
            Ok(mut g) => *g = Arc::new(submitter),
            Err(p) => *p.into_inner() = Arc::new(submitter),
        }
    }

    fn submitter(&self) -> Arc<Submitter> {
        match self.submitter.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    async fn read_message(&self, dir: &str, message_id: u64) -> Result<pb::Message, SendError> {
        self.exmdb
            .read_message(pb::MessageRequest {
                dir: dir.to_string(),
                message_id,
            })
            .await
            .map_err(|e| store_error(&e, &format!("message {message_id} of {dir}")))
    }

    async fn submit_message(&self, dir: &str, message_id: u64) -> Result<String, SendError> {
        let message = self.read_message(dir, message_id).await?;
        let recipients = envelope_recipients(&message.recipients);
        if recipients.is_empty() {
            return Err(SendError::Permanent(format!(
                "message {message_id} of {dir} has no recipient with an SMTP address"
            )));
        }
        let info = self
            .exmdb
            .get_store_info(pb::StoreRequest {
                dir: dir.to_string(),
            })
            .await
            .map_err(|e| store_error(&e, &format!("store {dir}")))?;
        if !info.owner.contains('@') {
            return Err(SendError::Permanent(format!(
                "store {dir} has no owner address to send from (owner {:?})",
                info.owner
            )));
        }
        let envelope = Envelope {
            from: info.owner,
            recipients,
        };
        let content = self
            .exmdb
            .read_content(dir, message_id, 0, 0)
            .await
            .map_err(|e| {
                store_error(&e, &format!("the content of message {message_id} of {dir}"))
            })?;
        let reader = ChunkReader::new(Box::pin(content));
        let submitter = self.submitter();
        let report = submitter
            .send(&envelope, reader, None)
            .await
            .map_err(submit_error)?;
        let message_id_header = string_prop(&message.props, PR_INTERNET_MESSAGE_ID);
        receipt(&submitter.relay().to_string(), &report, message_id_header)
    }

    async fn file_message(&self, dir: &str, message_id: u64) -> Result<String, SendError> {
        let message = match self.read_message(dir, message_id).await {
            Err(SendError::Permanent(m)) => {
                return Err(SendError::Permanent(format!(
                    "{m}; it was not moved to Sent Items"
                )));
            }
            other => other?,
        };
        let sent = self
            .exmdb
            .get_folder(pb::FolderRequest {
                dir: dir.to_string(),
                folder: Some(folder_role(SENT_ROLE)),
            })
            .await
            .map_err(|e| store_error(&e, &format!("Sent Items of {dir}")))?;
        let uid = message.entry.as_ref().map(|e| e.uid).unwrap_or(0);
        let (uid, note) = if message.folder_id == sent.id {
            (uid, "already in Sent Items")
        } else {
            let moved = self
                .exmdb
                .move_messages(pb::CopyMessagesRequest {
                    dir: dir.to_string(),
                    folder: Some(folder_id(message.folder_id)),
                    uids: vec![groxide_rpc::pb::common::v1::UidRange {
                        first: uid,
                        last: uid,
                    }],
                    target: Some(folder_role(SENT_ROLE)),
                })
                .await
                .map_err(|e| store_error(&e, &format!("moving message {message_id} of {dir}")))?;
            match moved.uids.first() {
                Some(m) => (m.target_uid, "moved to Sent Items"),
                // Moved elsewhere between the read and the move: a rerun reads it again.
                None => {
                    return Err(SendError::Transient(format!(
                        "message {message_id} of {dir} left folder {} before it could be moved",
                        message.folder_id
                    )));
                }
            }
        };
        // A sent message is no draft (MSGFLAG_UNSENT) and has been read.
        for (mode, flags) in [
            (groxide_rpc::pb::common::v1::FlagMode::Remove, FLAG_DRAFT),
            (groxide_rpc::pb::common::v1::FlagMode::Add, FLAG_SEEN),
        ] {
            self.exmdb
                .set_flags(pb::SetFlagsRequest {
                    dir: dir.to_string(),
                    folder: Some(folder_id(sent.id)),
                    uids: vec![groxide_rpc::pb::common::v1::UidRange {
                        first: uid,
                        last: uid,
                    }],
                    mode: mode as i32,
                    flags,
                    keywords: Vec::new(),
                    unchanged_since: 0,
                })
                .await
                .map_err(|e| store_error(&e, &format!("flags of message {message_id} of {dir}")))?;
        }
        Ok(note.to_string())
    }
}

impl DeferredSender for RelaySender {
    fn submit<'a>(
        &'a self,
        dir: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(self.submit_message(dir, message_id))
    }

    fn file_as_sent<'a>(
        &'a self,
        dir: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(self.file_message(dir, message_id))
    }
}

/// A failed exmdb call as a send error: a missing store or message is
/// permanent, an unreachable node transient.
fn store_error(e: &RpcError, what: &str) -> SendError {
    match e.reason() {
        Some(Reason::NoSuchMessage | Reason::NoSuchStore | Reason::NoSuchFolder) => {
            SendError::Permanent(format!("{what} does not exist: {e}"))
        }
        _ if e.is_retryable() => SendError::Transient(format!("{what}: {e}")),
        _ => SendError::Permanent(format!("{what}: {e}")),
    }
}

/// A failed hand-over: a broken connection while the message was being sent
/// or its answer awaited may have been accepted; everything else was not.
fn submit_error(e: SubmitError) -> SendError {
    let lost_answer = matches!(
        &e,
        SubmitError::Io {
            stage: Stage::Message,
            ..
        } | SubmitError::Timeout {
            stage: Stage::Message,
            ..
        } | SubmitError::Protocol {
            stage: Stage::Message,
            ..
        }
    );
    if lost_answer {
        SendError::Uncertain(e.to_string())
    } else if e.is_temporary() {
        SendError::Transient(e.to_string())
    } else {
        SendError::Permanent(e.to_string())
    }
}

/// What the relay said, for the job's result; no accepted recipient is an error.
fn receipt(
    relay: &str,
    report: &SubmitReport,
    message_id: Option<String>,
) -> Result<String, SendError> {
    let total = report.recipients.len();
    let accepted: Vec<_> = report
        .recipients
        .iter()
        .filter(|r| matches!(r.status, RecipientStatus::Accepted(_)))
        .collect();
    let refused: Vec<String> = report
        .recipients
        .iter()
        .filter(|r| !matches!(r.status, RecipientStatus::Accepted(_)))
        .map(|r| format!("{} ({})", r.address, r.status.reply()))
        .collect();
    let Some(first) = accepted.first() else {
        let text = format!("{relay} accepted no recipient: {}", refused.join(", "));
        let any_deferred = report
            .recipients
            .iter()
            .any(|r| matches!(r.status, RecipientStatus::Deferred(_)));
        return Err(if any_deferred {
            SendError::Transient(text)
        } else {
            SendError::Permanent(text)
        });
    };
    let mut text = format!(
        "{relay}: {} of {total} recipients accepted: {}",
        accepted.len(),
        first.status.reply()
    );
    if let Some(id) = message_id {
        text.push_str(&format!("; Message-ID {id}"));
    }
    if !refused.is_empty() {
        // Not retried: a resend would reach the accepted recipients twice.
        text.push_str(&format!("; refused: {}", refused.join(", ")));
    }
    Ok(text)
}

fn string_prop(props: &[pb::Prop], tag: u32) -> Option<String> {
    props
        .iter()
        .find(|p| p.tag == tag)
        .and_then(|p| match &p.value {
            Some(pb::prop::Value::StringValue(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
}

/// The SMTP addresses of the recipients (To, Cc and Bcc), each once.
pub fn envelope_recipients(recipients: &[pb::PropList]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in recipients {
        let smtp = string_prop(&r.props, PR_SMTP_ADDRESS);
        let email = string_prop(&r.props, PR_EMAIL_ADDRESS).filter(|_| {
            string_prop(&r.props, PR_ADDRTYPE).is_none_or(|t| t.eq_ignore_ascii_case("SMTP"))
        });
        let Some(addr) = smtp.or(email).filter(|a| a.contains('@')) else {
            continue;
        };
        if !out.iter().any(|a| a.eq_ignore_ascii_case(&addr)) {
            out.push(addr);
        }
    }
    out
}

/// The chunks of a content stream as an [`AsyncRead`], without Bcc fields;
/// a failed chunk is a read error, so the submission aborts instead of
/// sending a cut message.
struct ChunkReader<S> {
    stream: S,
    filter: BccStripper,
    chunk: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl<S> ChunkReader<S> {
    fn new(stream: S) -> ChunkReader<S> {
        ChunkReader {
            stream,
            filter: BccStripper::new(),
            chunk: Vec::new(),
            pos: 0,
            ended: false,
        }
    }
}

impl<S> AsyncRead for ChunkReader<S>
where
    S: Stream<Item = Result<Vec<u8>, RpcError>> + Unpin,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            if self.pos < self.chunk.len() {
                let n = buf.remaining().min(self.chunk.len() - self.pos);
                let start = self.pos;
                buf.put_slice(&self.chunk[start..start + n]);
                self.pos += n;
                return Poll::Ready(Ok(()));
            }
            if self.ended {
                return Poll::Ready(Ok(()));
            }
            let this = &mut *self;
            this.chunk.clear();
            this.pos = 0;
            match ready!(Pin::new(&mut this.stream).poll_next(cx)) {
                None => {
                    this.ended = true;
                    this.filter.finish(&mut this.chunk);
                }
                Some(Ok(chunk)) => this.filter.feed(&chunk, &mut this.chunk),
                Some(Err(e)) => return Poll::Ready(Err(std::io::Error::other(e.to_string()))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_submit::{RecipientResult, Reply};
    use tokio::io::AsyncReadExt;

    fn s(tag: u32, v: &str) -> pb::Prop {
        pb::Prop {
            tag,
            value: Some(pb::prop::Value::StringValue(v.into())),
        }
    }

    fn rcpt(props: Vec<pb::Prop>) -> pb::PropList {
        pb::PropList { props }
    }

    #[test]
    fn the_envelope_takes_every_smtp_recipient_once() {
        let list = [
            rcpt(vec![
                s(PR_SMTP_ADDRESS, "a@example.org"),
                s(PR_EMAIL_ADDRESS, "x@y"),
            ]),
            rcpt(vec![
                s(PR_ADDRTYPE, "SMTP"),
                s(PR_EMAIL_ADDRESS, "b@example.org"),
            ]),
            rcpt(vec![
                s(PR_ADDRTYPE, "EX"),
                s(PR_EMAIL_ADDRESS, "/o=org/cn=c"),
            ]),
            rcpt(vec![s(PR_EMAIL_ADDRESS, "A@example.org")]),
            rcpt(vec![s(PR_EMAIL_ADDRESS, "no-at-sign")]),
            rcpt(vec![]),
        ];
        assert_eq!(
            envelope_recipients(&list),
            ["a@example.org", "b@example.org"]
        );
    }

    fn reply(code: u16, text: &str) -> Reply {
        Reply {
            code,
            status: None,
            text: text.into(),
        }
    }

    fn report(statuses: Vec<(&str, RecipientStatus)>) -> SubmitReport {
        SubmitReport {
            recipients: statuses
                .into_iter()
                .map(|(a, status)| RecipientResult {
                    address: a.into(),
                    status,
                })
                .collect(),
        }
    }

    #[test]
    fn a_receipt_names_accepted_and_refused_recipients() {
        let r = report(vec![
            ("a@x", RecipientStatus::Accepted(reply(250, "queued as Q1"))),
            ("b@x", RecipientStatus::Rejected(reply(550, "no such user"))),
        ]);
        let text = receipt("smtp://relay:25", &r, Some("<m1@x>".into())).unwrap();
        assert!(
            text.starts_with("smtp://relay:25: 1 of 2 recipients accepted: 250"),
            "{text}"
        );
        assert!(text.contains("queued as Q1"), "{text}");
        assert!(text.contains("Message-ID <m1@x>"), "{text}");
        assert!(text.contains("refused: b@x (550"), "{text}");
    }

    #[test]
    fn no_accepted_recipient_is_retried_only_when_one_was_deferred() {
        let deferred = report(vec![
            ("a@x", RecipientStatus::Deferred(reply(451, "later"))),
            ("b@x", RecipientStatus::Rejected(reply(550, "no"))),
        ]);
        assert!(matches!(
            receipt("r", &deferred, None),
            Err(SendError::Transient(_))
        ));
        let rejected = report(vec![("b@x", RecipientStatus::Rejected(reply(550, "no")))]);
        assert!(matches!(
            receipt("r", &rejected, None),
            Err(SendError::Permanent(_))
        ));
    }

    #[test]
    fn a_broken_connection_during_the_message_is_uncertain_and_before_it_is_not() {
        let io = |stage| SubmitError::Io {
            relay: "r".into(),
            stage,
            source: std::io::Error::other("reset"),
        };
        assert!(matches!(
            submit_error(io(Stage::Message)),
            SendError::Uncertain(_)
        ));
        assert!(matches!(
            submit_error(io(Stage::Rcpt)),
            SendError::Transient(_)
        ));
        assert!(matches!(
            submit_error(io(Stage::Connect)),
            SendError::Transient(_)
        ));
        let rejected = SubmitError::Rejected {
            relay: "r".into(),
            stage: Stage::Message,
            reply: reply(554, "spam"),
        };
        assert!(matches!(submit_error(rejected), SendError::Permanent(_)));
        let unreadable = SubmitError::Message(std::io::Error::other("store went away"));
        assert!(matches!(submit_error(unreadable), SendError::Transient(_)));
    }

    #[tokio::test]
    async fn a_failed_chunk_is_a_read_error_not_an_early_end() {
        let chunks: Vec<Result<Vec<u8>, RpcError>> = vec![
            Ok(b"Subject: x\r\n".to_vec()),
            Err(RpcError::Route {
                service: "exmdb",
                dir: "/s".into(),
                message: "gone".into(),
            }),
        ];
        let mut r = ChunkReader::new(futures_util::stream::iter(chunks));
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).await.unwrap_err();
        assert_eq!(out, b"Subject: x\r\n");
        assert!(err.to_string().contains("gone"), "{err}");

        let ok: Vec<Result<Vec<u8>, RpcError>> =
            vec![Ok(b"ab".to_vec()), Ok(vec![]), Ok(b"c".to_vec())];
        let mut out = Vec::new();
        ChunkReader::new(futures_util::stream::iter(ok))
            .read_to_end(&mut out)
            .await
            .unwrap();
        assert_eq!(out, b"abc");
    }
}
