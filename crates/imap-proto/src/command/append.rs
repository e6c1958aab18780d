//! APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), BINARY literal8
//! (RFC 3516) and the UTF8 form (RFC 6855).

use crate::command::Mailbox;
use crate::datetime::ImapDateTime;
use crate::flag::Flag;

/// `APPEND mailbox message...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendCommand {
    /// Destination mailbox.
    pub mailbox: Mailbox,
    /// The messages (more than one with MULTIAPPEND).
    pub messages: Vec<AppendMessage>,
}

/// One message of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    /// Flags to set.
    pub flags: Vec<Flag>,
    /// Internal date to use.
    pub internal_date: Option<ImapDateTime>,
    /// How the message data was sent.
    pub form: AppendForm,
    /// The message data, or where it went.
    pub content: AppendContent,
}

/// How an APPEND message literal was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppendForm {
    /// `{N}`: a normal literal (no NUL expected).
    Literal,
    /// `~{N}`: a binary literal (BINARY, RFC 3516).
    Binary,
    /// `UTF8 (~{N})` (RFC 6855).
    Utf8,
}

/// The bytes of an APPEND message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendContent {
    /// Held in the command (receiver in buffering mode, or
    /// [`crate::parse_command`]).
    Inline(Vec<u8>),
    /// Streamed to the session as [`crate::Received::AppendData`] chunks
    /// before the command completed.
    Streamed {
        /// The literal's size.
        size: u64,
    },
}
