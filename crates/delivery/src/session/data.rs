//! DATA: receive the message into the spool, deliver it to every accepted
//! recipient's store at once, and answer — one reply per recipient in RCPT
//! order (LMTP), or one reply for all (SMTP).

use super::conn::DataBroken;
use super::{Conn, Flow, Session, Transaction};
use crate::dedup::DedupKey;
use crate::dot::DotUnstuffer;
use crate::mailbox_writer::{DeliveryOutcome, DeliveryRequest, MailboxWriter, TargetFolder};
use crate::recipient::RecipientResolver;
use crate::reply::{self, Reply};
use crate::settings::Protocol;
use crate::spool::SpooledMessage;
use crate::trace::{TraceInfo, now_rfc5322, trace_prefix};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::io::{AsyncRead, AsyncWrite};

/// How much of the message start is kept to test `lda_junk_rules` and to
/// find the Message-ID (the header block, or its first part).
const JUNK_HEADER_SCAN: usize = 64 * 1024;

/// The id of a delivery that stored nothing because the mailbox already
/// had the message (a retry).
const DUPLICATE: &str = "duplicate";

/// What receiving DATA produced.
enum Received {
    /// The message is in the spool, with its first bytes (the header
    /// block or its start) and the SHA-256 of all of it.
    Spooled(SpooledMessage, Vec<u8>, [u8; 32]),
    /// It was larger than the limit (read to its end, nothing kept).
    TooLarge,
    /// The spool failed (read to its end, nothing kept).
    SpoolFailed(String),
}

impl<R: RecipientResolver, W: MailboxWriter> Session<'_, R, W> {
    pub(super) async fn data<S>(&mut self, conn: &mut Conn<S>) -> Flow
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Some(tx) = self.transaction.as_ref() else {
            return self.error(conn, reply::bad_sequence("send MAIL first"));
        };
        if tx.recipients.is_empty() {
            return self.error(conn, reply::bad_sequence("no valid recipients"));
        }
        conn.reply(&Reply::new(
            354,
            "",
            "send the message, end with <CRLF>.<CRLF>",
        ));
        if !conn.flush().await {
            return Flow::Close;
        }
        let Some(tx) = self.transaction.take() else {
            return Flow::Close;
        };
        let received = match self.receive(conn, &tx).await {
            Ok(r) => r,
            Err(DataBroken::Closed) => {
                tracing::info!(queue_id = tx.queue_id, peer = %self.peer, "client went away during DATA; nothing delivered");
                return Flow::Close;
            }
            Err(DataBroken::Timeout) => {
                tracing::info!(queue_id = tx.queue_id, peer = %self.peer, "timeout during DATA; nothing delivered");
                conn.reply(&reply::idle_timeout());
                return Flow::Close;
            }
        };
        match received {
            Received::TooLarge => {
                let max = self.settings.limits.max_message_size;
                tracing::info!(
                    queue_id = tx.queue_id,
                    max,
                    "message too large; not delivered"
                );
                self.same_reply_for_all(conn, &tx, &reply::too_big(max));
            }
            Received::SpoolFailed(why) => {
                tracing::error!(
                    queue_id = tx.queue_id,
                    error = why,
                    "spool write failed; not delivered"
                );
                self.same_reply_for_all(
                    conn,
                    &tx,
                    &reply::try_later("local error in processing, try again later"),
                );
            }
            Received::Spooled(message, head, sha) => {
                self.deliver(conn, &tx, message, &head, &sha).await;
            }
        }
        Flow::Continue
    }

    /// LMTP answers every accepted recipient; SMTP answers once.
    fn same_reply_for_all<S>(&self, conn: &mut Conn<S>, tx: &Transaction, r: &Reply)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let n = match self.protocol() {
            Protocol::Lmtp => tx.recipients.len(),
            Protocol::Smtp => 1,
        };
        for _ in 0..n {
            conn.reply(r);
        }
    }

    /// Streams DATA into a spool file, enforcing the size limit while
    /// streaming. Always reads to the terminating dot unless the client goes.
    async fn receive<S>(&self, conn: &mut Conn<S>, tx: &Transaction) -> Result<Received, DataBroken>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let settings = &*self.settings;
        let max = settings.limits.max_message_size;
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        let mut spool_error = None;
        let mut writer = Some(self.server.spool().create(&tx.queue_id));
        let mut decoder = DotUnstuffer::new();
        let mut decoded = Vec::with_capacity(super::conn::READ_BUFFER);
        let mut head = Vec::new();
        let mut total: u64 = 0;
        loop {
            let done = conn.next_data(&mut decoder, &mut decoded).await?;
            total += decoded.len() as u64;
            if total > max {
                // Dropping the writer removes the partial file; keep reading.
                writer = None;
            }
            sha2::Digest::update(&mut hasher, &decoded);
            if head.len() < JUNK_HEADER_SCAN {
                let take = decoded.len().min(JUNK_HEADER_SCAN - head.len());
                head.extend_from_slice(&decoded[..take]);
            }
            if let Some(w) = writer.as_mut()
                && let Err(e) = w.write(&decoded).await
            {
                spool_error = Some(e.to_string());
                writer = None;
            }
            decoded.clear();
            if done {
                break;
            }
        }
        if total > max {
            return Ok(Received::TooLarge);
        }
        if let Some(e) = spool_error {
            return Ok(Received::SpoolFailed(e));
        }
        let Some(writer) = writer else {
            return Ok(Received::SpoolFailed("no spool file".into()));
        };
        match writer.finish().await {
            Ok(message) => Ok(Received::Spooled(
                message,
                head,
                sha2::Digest::finalize(hasher).into(),
            )),
            Err(e) => Ok(Received::SpoolFailed(e.to_string())),
        }
    }

    /// Delivers once to every distinct mailbox of the accepted recipients,
    /// concurrently, and replies per recipient in RCPT order as the outcomes
    /// arrive (recipients that resolved to one mailbox share its outcome). A
    /// reply is never 250 before its store committed. A message the mailbox
    /// already got (a retry after a lost reply; see [`crate::dedup`]) is
    /// answered 250 without storing it again.
    async fn deliver<S>(
        &self,
        conn: &mut Conn<S>,
        tx: &Transaction,
        message: SpooledMessage,
        head: &[u8],
        sha: &[u8; 32],
    ) where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let settings = &*self.settings;
        let folder = if settings.junk_rules.matches(head) {
            TargetFolder::Junk
        } else {
            TargetFolder::Inbox
        };
        let date = now_rfc5322();
        let helo = self.greeting.as_ref().map_or("", |g| g.1.as_str());
        let info = TraceInfo {
            reverse_path: &tx.reverse_path,
            helo,
            peer: self.peer.ip(),
            hostname: &settings.hostname,
            protocol: self.received_with(),
            queue_id: &tx.queue_id,
            date: &date,
        };
        // One delivery per mailbox, in order of first appearance; the
        // first recipient naming it gives the trace fields.
        let mut group_of = Vec::with_capacity(tx.recipients.len());
        let mut firsts: Vec<usize> = Vec::new();
        for (i, r) in tx.recipients.iter().enumerate() {
            let g = firsts
                .iter()
                .position(|&f| tx.recipients[f].mailbox.dir == r.mailbox.dir)
                .unwrap_or_else(|| {
                    firsts.push(i);
                    firsts.len() - 1
                });
            group_of.push(g);
        }
        let prefixes: Vec<Vec<u8>> = firsts
            .iter()
            .map(|&f| trace_prefix(&info, &tx.recipients[f].address))
            .collect();
        let message_id = groxide_mime::find_header(head, "message-id").filter(|m| !m.is_empty());
        let dedup = self
            .server
            .dedup()
            .filter(|_| !settings.dedup_window.is_zero())
            .zip(message_id.as_deref());
        let window = settings.dedup_window;
        let message_id = message_id.as_deref();
        let writer = self.server.writer();
        let message = &message;
        let mut pending: FuturesOrdered<_> = firsts
            .iter()
            .zip(&prefixes)
            .map(|(&f, prefix)| async move {
                let rcpt = &tx.recipients[f];
                let claim = match dedup {
                    Some((db, id)) => Some(
                        db.claim(DedupKey::new(&rcpt.mailbox.dir, id, sha), window)
                            .await,
                    ),
                    None => None,
                };
                if claim.as_ref().is_some_and(|c| c.seen) {
                    tracing::info!(
                        queue_id = tx.queue_id,
                        rcpt = rcpt.address,
                        dir = rcpt.mailbox.dir,
                        message_id,
                        "already delivered (a retry); not stored again"
                    );
                    return (
                        rcpt,
                        DeliveryOutcome::Delivered {
                            id: DUPLICATE.into(),
                            message_id: None,
                        },
                    );
                }
                let request = DeliveryRequest {
                    mailbox: &rcpt.mailbox,
                    folder,
                    trace_prefix: prefix,
                    message,
                    queue_id: &tx.queue_id,
                    reverse_path: &tx.reverse_path,
                    head,
                };
                let outcome = writer.deliver(request).await;
                if let (Some(c), DeliveryOutcome::Delivered { .. }) = (&claim, &outcome) {
                    c.record();
                }
                log_outcome(
                    tx,
                    &rcpt.address,
                    &rcpt.mailbox.dir,
                    folder,
                    message.len(),
                    &outcome,
                );
                (rcpt, outcome)
            })
            .collect();
        let mut outcomes: Vec<DeliveryOutcome> = Vec::with_capacity(firsts.len());
        // Every delivery runs to its end even if the client is gone: a
        // half-cancelled insert would only make the retry's copy a duplicate.
        for (i, (rcpt, &g)) in tx.recipients.iter().zip(&group_of).enumerate() {
            while outcomes.len() <= g {
                match pending.next().await {
                    Some((_, outcome)) => outcomes.push(outcome),
                    None => break,
                }
            }
            let Some(outcome) = outcomes.get(g) else {
                break;
            };
            if self.protocol() == Protocol::Lmtp {
                // "delivered" only where a copy was stored: the first
                // recipient of a mailbox, and not for a retried message.
                let reply = match outcome {
                    DeliveryOutcome::Delivered { id, .. } if id == DUPLICATE => Reply::new(
                        250,
                        "2.1.5",
                        format!("<{}> already delivered", rcpt.address),
                    ),
                    DeliveryOutcome::Delivered { .. } if firsts[g] != i => Reply::new(
                        250,
                        "2.1.5",
                        format!(
                            "<{}> delivered once with <{}>",
                            rcpt.address, tx.recipients[firsts[g]].address
                        ),
                    ),
                    o => recipient_reply(&rcpt.address, o),
                };
                conn.reply(&reply);
                conn.flush().await;
            }
        }
        if self.protocol() == Protocol::Smtp {
            conn.reply(&smtp_reply(&tx.queue_id, &outcomes));
        }
    }
}

fn log_outcome(
    tx: &Transaction,
    rcpt: &str,
    dir: &str,
    folder: TargetFolder,
    size: u64,
    outcome: &DeliveryOutcome,
) {
    let queue_id = tx.queue_id.as_str();
    match outcome {
        DeliveryOutcome::Delivered { id, .. } => {
            tracing::info!(queue_id, rcpt, dir, ?folder, size, id, "delivered");
        }
        DeliveryOutcome::OverQuota => tracing::info!(queue_id, rcpt, dir, "deferred: over quota"),
        DeliveryOutcome::TooLarge => {
            tracing::info!(
                queue_id,
                rcpt,
                dir,
                size,
                "rejected: too large for the store"
            );
        }
        DeliveryOutcome::TemporaryFailure(why) => {
            tracing::warn!(
                queue_id,
                rcpt,
                dir,
                error = why,
                "deferred: store unavailable"
            );
        }
    }
}

/// The LMTP reply for one recipient after DATA.
fn recipient_reply(address: &str, outcome: &DeliveryOutcome) -> Reply {
    match outcome {
        DeliveryOutcome::Delivered { .. } => {
            Reply::new(250, "2.1.5", format!("<{address}> delivered"))
        }
        DeliveryOutcome::OverQuota => Reply::new(452, "4.2.2", format!("<{address}> mailbox full")),
        DeliveryOutcome::TooLarge => Reply::new(
            552,
            "5.3.4",
            format!("<{address}> message too large for the mailbox"),
        ),
        DeliveryOutcome::TemporaryFailure(_) => {
            reply::try_later(format!("<{address}> mailbox unavailable, try again later"))
        }
    }
}

/// The one SMTP reply after DATA: 250 only when every recipient got the
/// message; when none did and every failure is permanent, that failure;
/// otherwise 451 for all, so the client retries (a recipient that already
/// got it then gets a duplicate, never a loss).
fn smtp_reply(queue_id: &str, outcomes: &[DeliveryOutcome]) -> Reply {
    let delivered = outcomes
        .iter()
        .filter(|o| matches!(o, DeliveryOutcome::Delivered { .. }))
        .count();
    if delivered == outcomes.len() {
        return Reply::new(250, "2.0.0", format!("OK: queued as {queue_id}"));
    }
    if delivered == 0 && outcomes.iter().all(|o| *o == DeliveryOutcome::TooLarge) {
        return Reply::new(552, "5.3.4", "message too large for the mailbox");
    }
    if delivered == 0 && outcomes.iter().all(|o| *o == DeliveryOutcome::OverQuota) {
        return Reply::new(452, "4.2.2", "mailbox full");
    }
    reply::try_later("not every recipient could be reached, try again later")
}
