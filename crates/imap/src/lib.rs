//! groxide-imap: the IMAP4rev1/IMAP4rev2 server.
//!
//! A session ([`session::Session`], generic over its byte stream through
//! [`conn::Conn`]) reads commands with the I/O-free codec of
//! groxide-imap-proto and answers them from a [`backend::Backend`]: the
//! directory for logins, midb for the IMAP view of a store, groxide-event
//! for change hints. [`backend::memory::MemoryBackend`] implements the
//! whole contract in memory, so every command can be tested without daemons.
//!
//! Invariants:
//! - **Untagged responses only when allowed.** EXISTS, flag FETCH,
//!   EXPUNGE and VANISHED are sent at the end of a command or during IDLE;
//!   expunges never while answering FETCH, STORE, SEARCH, SORT or THREAD by
//!   sequence number (RFC 3501 §7.4.1, RFC 9051 §7.5.1) — they wait in the
//!   view. Pipelined commands are answered in order.
//! - **Bounded memory per session** independent of the mailbox size, except
//!   the selected mailbox's UID map (4 bytes a message): listings and FETCH
//!   responses stream chunk by chunk, message bodies stream from the store
//!   into the socket, APPEND literals stream into the store.
//! - **Events are hints, MODSEQ is truth.** A hint (or a resync marker, or
//!   the periodic IDLE check) makes the session ask the store what changed
//!   since the MODSEQ its view knows.

pub mod admission;
pub mod backend;
pub mod capability;
pub mod conn;
mod daemon;
pub mod names;
pub mod server;
pub mod session;
pub mod settings;

pub use backend::Backend;
pub use server::{ImapServer, Listener};
pub use settings::Settings;

pub use daemon::{check_config, run, tls_config};
pub use groxide_runtime::StartError;
