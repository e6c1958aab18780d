//! Errors of the codec. Every message is written to be sent as the text of a
//! `BAD` (or `NO`) response, so it names what was wrong and never echoes
//! unbounded client input.

use crate::command::Tag;
use crate::response::ResponseCode;

/// Longest piece of client input quoted in an error message.
const MAX_QUOTED_INPUT: usize = 40;

/// Why a command could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The command name is not one this codec knows.
    #[error("unknown command {0}")]
    UnknownCommand(String),
    /// The line has a tag but no command name.
    #[error("missing command name")]
    MissingCommand,
    /// The tag is empty or contains characters a tag may not contain.
    #[error("invalid tag")]
    InvalidTag,
    /// The tag is longer than the configured limit.
    #[error("tag too long (max {max} bytes)")]
    TagTooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// A specific piece of syntax was expected here.
    #[error("expected {0}")]
    Expected(&'static str),
    /// The command ended where more arguments were required.
    #[error("unexpected end of command")]
    UnexpectedEnd,
    /// Something follows the last argument of the command.
    #[error("unexpected characters after the command arguments")]
    TrailingData,
    /// A sequence set or UID set is malformed.
    #[error("invalid sequence set")]
    InvalidSequenceSet,
    /// A number does not fit its range (32-bit, 63-bit or non-zero).
    #[error("number out of range")]
    NumberOutOfRange,
    /// A search date (`d-Mon-yyyy`) is malformed.
    #[error("invalid date (expected d-Mon-yyyy)")]
    InvalidDate,
    /// An internal date (`"dd-Mon-yyyy hh:mm:ss +zzzz"`) is malformed.
    #[error("invalid date-time (expected \"dd-Mon-yyyy hh:mm:ss +zzzz\")")]
    InvalidDateTime,
    /// An argument is syntactically valid but not allowed here.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// An unknown keyword where one of a fixed set was expected.
    #[error("unknown {what} {name}")]
    Unknown {
        /// What kind of keyword ("search key", "fetch item", ...).
        what: &'static str,
        /// The keyword as sent (shortened).
        name: String,
    },
    /// A string that must be UTF-8 (mailbox name, quoted string) is not.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A literal that is not a binary literal contains a NUL byte.
    #[error("NUL byte in literal (only binary literals ~{{N}} may contain NUL)")]
    NulInLiteral,
    /// A binary literal (`~{N}`) where only a normal string is allowed.
    #[error("binary literal not allowed here")]
    BinaryLiteralNotAllowed,
    /// The literal announcement is malformed (`{N}` with a bad number).
    #[error("invalid literal size")]
    InvalidLiteral,
    /// A literal announces more bytes than the command contains.
    #[error("literal data missing")]
    LiteralDataMissing,
    /// Base64 data (AUTHENTICATE) does not decode.
    #[error("invalid base64 data")]
    InvalidBase64,
    /// Parentheses or search keys are nested deeper than the limit.
    #[error("nesting too deep (max {max} levels)")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The command holds more tokens than the limit.
    #[error("too many arguments (max {max})")]
    TooManyTokens {
        /// The limit.
        max: usize,
    },
    /// A SASL PLAIN message is malformed.
    #[error("malformed SASL PLAIN message")]
    InvalidSaslPlain,
}

impl ParseError {
    /// An `Unknown` error quoting `name` (shortened, printable ASCII only).
    pub(crate) fn unknown(what: &'static str, name: &[u8]) -> Self {
        ParseError::Unknown {
            what,
            name: quote_input(name),
        }
    }

    /// An `UnknownCommand` error quoting `name`.
    pub(crate) fn unknown_command(name: &[u8]) -> Self {
        ParseError::UnknownCommand(quote_input(name))
    }
}

/// Client bytes made safe to put in a response text: printable ASCII, bounded.
pub(crate) fn quote_input(bytes: &[u8]) -> String {
    let mut out: String = bytes
        .iter()
        .take(MAX_QUOTED_INPUT)
        .map(|&b| {
            if (0x21..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    if bytes.len() > MAX_QUOTED_INPUT {
        out.push_str("...");
    }
    out
}

/// A command that failed to parse, with the tag if one could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct CommandError {
    /// The command's tag, when the line started with a valid one.
    pub tag: Option<Tag>,
    /// What was wrong.
    pub error: ParseError,
}

/// What the session must do after a [`ReceiveError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Answer `BAD` (tagged when [`ReceiveError::tag`] is set, else
    /// untagged) and keep calling [`crate::Receiver::receive`]: the receiver
    /// skips the rest of the bad command by itself.
    Continue,
    /// Answer `* BYE` and close the connection: the input cannot be
    /// resynchronised (e.g. an oversized non-synchronising literal is already
    /// on its way).
    Close,
}

/// Why the receiver rejected input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveErrorKind {
    /// The command is malformed.
    #[error("{0}")]
    Parse(ParseError),
    /// The non-literal part of a command exceeds the line limit.
    #[error("line too long (max {max} bytes)")]
    LineTooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// A literal is larger than allowed.
    #[error("literal too large (max {max} bytes)")]
    LiteralTooLarge {
        /// The announced size.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// A non-synchronising literal larger than LITERAL- allows (RFC 7888).
    #[error("non-synchronizing literal too large (max {max} bytes, use a synchronizing literal)")]
    NonSyncLiteralTooLarge {
        /// The announced size.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// [`crate::Receiver::next_line`] was called in the middle of a command.
    #[error("continuation line requested in the middle of a command")]
    OutOfOrder,
    /// The receiver was closed by an earlier fatal error.
    #[error("connection closed after a fatal protocol error")]
    Closed,
}

/// An error from [`crate::Receiver`], with the tag and how to recover.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ReceiveError {
    /// The tag of the rejected command, when it could be read.
    pub tag: Option<Tag>,
    /// What was wrong.
    pub kind: ReceiveErrorKind,
    /// Whether the session can go on.
    pub recovery: Recovery,
}

impl ReceiveError {
    /// The response code to put in the answer, if one fits (`TOOBIG` for
    /// oversized literals, RFC 4469/7888).
    pub fn response_code(&self) -> Option<ResponseCode> {
        match self.kind {
            ReceiveErrorKind::LiteralTooLarge { .. }
            | ReceiveErrorKind::NonSyncLiteralTooLarge { .. } => Some(ResponseCode::TooBig),
            _ => None,
        }
    }

    /// The text for the `BAD`/`NO` response.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}
