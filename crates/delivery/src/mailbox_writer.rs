//! Putting a received message into a mailbox store: the seam between
//! delivery and the store (groxide-exmdb, on whichever node is the store's
//! home).

use crate::recipient::Mailbox;
use crate::spool::SpooledMessage;
use std::future::Future;

/// The folder a message is delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetFolder {
    /// The Inbox.
    Inbox,
    /// Junk Email (`lda_junk_rules` matched).
    Junk,
}

/// One delivery: which mailbox and folder, and the bytes to store, which are
/// `trace_prefix` followed by the spooled message, exactly.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryRequest<'a> {
    /// The recipient's mailbox.
    pub mailbox: &'a Mailbox,
    /// Where in it.
    pub folder: TargetFolder,
    /// Return-Path, Delivered-To and Received for this recipient.
    pub trace_prefix: &'a [u8],
    /// The message as received.
    pub message: &'a SpooledMessage,
    /// The transaction id (for logs).
    pub queue_id: &'a str,
    /// The envelope sender (MAIL FROM; empty for the null sender).
    pub reverse_path: &'a str,
    /// The message's header block (or its first part), as received.
    pub head: &'a [u8],
}

impl DeliveryRequest<'_> {
    /// The number of bytes the store receives.
    pub fn stored_len(&self) -> u64 {
        self.trace_prefix.len() as u64 + self.message.len()
    }
}

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The store committed the message durably.
    Delivered {
        /// The store's name for the new message (for logs), e.g. its IMAP UID.
        id: String,
        /// The new message's id in the store (`None` when nothing new was
        /// stored: a retry the mailbox already had, or a store without ids).
        message_id: Option<u64>,
    },
    /// The mailbox is over its quota (452 4.2.2; the client retries).
    OverQuota,
    /// The store refuses messages this large (552 5.3.4).
    TooLarge,
    /// Nothing was stored and the client should retry (451 4.3.0): store
    /// node unreachable, timeout, I/O error.
    TemporaryFailure(String),
}

/// Stores a message in a mailbox. A `Delivered` answer means the store has
/// committed it durably; every other answer means nothing was stored.
pub trait MailboxWriter: Send + Sync + 'static {
    /// Delivers one copy.
    fn deliver(&self, request: DeliveryRequest<'_>)
    -> impl Future<Output = DeliveryOutcome> + Send;
}

/// A shared writer delivers as the one it points to.
impl<T: MailboxWriter> MailboxWriter for std::sync::Arc<T> {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryOutcome {
        (**self).deliver(request).await
    }
}
