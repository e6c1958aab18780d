//! groxide-delivery: LMTP final delivery from an MTA (Postfix) into mailbox
//! stores, with an optional plain-SMTP mode for a single host without one.
//!
//! A session ([`DeliveryServer::serve_connection`], generic over its byte
//! stream) parses commands with smtp-proto, resolves each RCPT TO through a
//! [`RecipientResolver`] (the directory), streams DATA into a spool file
//! ([`Spool`]), and hands the spooled message with per-recipient trace
//! headers to a [`MailboxWriter`] (the store, through the routed exmdb
//! client), every recipient at once.
//!
//! After a delivery to an Inbox, [`auto_reply::AutoReplies`] sends the
//! user's out-of-office reply when one is due (RFC 3834 rules), and
//! [`meeting_mail::MeetingMail`] applies meeting mail (iMIP) to the user's
//! calendar — after the message is stored, never changing its outcome.
//!
//! Invariants:
//! - **250 only after a durable commit.** A recipient's 250 after DATA is
//!   sent only when its store answered that the message is committed; every
//!   failure is a 4xx (retry) or 5xx (bounce) for that recipient alone.
//! - **Never the whole message in memory.** DATA goes to a spool file as it
//!   arrives (size enforced while streaming); stores read it from there.
//! - **One reply per accepted recipient** after DATA, in RCPT order (LMTP).
//!   In SMTP mode there is one reply: 250 only when every recipient got it,
//!   else 451 for all (never a loss; possibly a duplicate on retry).
//! - **Stored bytes = trace prefix + bytes received.** The prefix is
//!   `Return-Path`, `Delivered-To`, `Received`, CRLF-terminated. Line ends of
//!   the message are kept as received: Postfix sends CRLF; a client that
//!   sends bare LF gets its bare LFs stored (only CRLF.CRLF ends DATA).
//!
//! Retries after a lost reply: Postfix retries every recipient for which it
//! did not read a final reply. If a store committed but the 250 was lost
//! (connection cut, delivery killed after the commit), the retry stores a
//! second copy: delivery prefers a duplicate to a loss and does not
//! deduplicate.

pub mod auto_reply;
mod daemon;
pub mod dedup;
pub mod directory_recipients;
pub mod dot;
pub mod exmdb_mailboxes;
pub mod junk;
pub mod mailbox_writer;
pub mod meeting_mail;
pub mod recipient;
pub mod reply;
pub mod resolution_cache;
mod server;
mod session;
pub mod settings;
pub mod spool;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
pub mod trace;

pub use junk::JunkRules;
pub use mailbox_writer::{DeliveryOutcome, DeliveryRequest, MailboxWriter, TargetFolder};
pub use recipient::{Mailbox, RecipientResolver, Resolution};
pub use server::DeliveryServer;
pub use settings::{Protocol, SessionLimits, Settings};
pub use spool::{Spool, SpooledMessage};

pub use daemon::{check_config, run};
pub use groxide_runtime::StartError;
