//! groxide-imap-proto: an I/O-free IMAP server-side codec. Bytes from the
//! client go into a [`Receiver`], typed [`Command`]s come out; [`Response`]
//! values go into a [`ResponseEncoder`], bytes come out. It knows nothing of
//! sockets, async runtimes or the store.
//!
//! # Public API
//! - Receiving: [`Receiver`] (with [`ReceiverLimits`]) frames the stream,
//!   handles literals and yields [`Received`] values; [`parse_command`]
//!   parses one complete command from a buffer. Errors are
//!   [`ReceiveError`] (with [`Recovery`]) and [`ParseError`], whose
//!   `Display` text is meant for `BAD`.
//! - Commands: [`Command`] = [`Tag`] + [`CommandBody`], with the family types
//!   ([`FetchCommand`], [`SearchCommand`], [`SearchKey`], [`ListCommand`],
//!   [`StoreCommand`], [`AppendCommand`], [`SelectParams`], …), sequence sets
//!   ([`SequenceSet`]), [`Flag`], [`ImapDate`]/[`ImapDateTime`].
//! - Side exchanges: [`parse_authenticate_response`] (AUTHENTICATE lines,
//!   `*` cancels), [`parse_idle_done`], [`decode_sasl_plain`].
//! - Responses: [`Response`], [`StatusResponse`], [`Data`],
//!   [`ResponseCode`], [`FetchResponse`]; [`ResponseEncoder`] writes them and
//!   [`FetchWriter`] writes one FETCH item by item so message bytes can be
//!   streamed; [`NumberSet`] writes UID sets compactly (`1:5,7`).
//! - [`mailbox_name`]: modified UTF-7 encode/decode with strict validation.
//! - [`Command::encode`]: the client side, for tests and test clients.
//!
//! # Driving the receiver
//! The session reads from its socket, feeds the receiver and acts on what
//! comes out until it asks for more input:
//!
//! ```
//! use groxide_imap_proto::{CommandBody, Received, Receiver, ReceiverLimits, Recovery};
//!
//! let mut rx = Receiver::new(ReceiverLimits::default());
//! let mut replies = Vec::new();
//! // Two pipelined commands, the second with a synchronising literal.
//! rx.feed(b"a1 NOOP\r\na2 LOGIN {5}\r\n");
//! loop {
//!     match rx.receive() {
//!         Ok(Received::Command(cmd)) => match cmd.body {
//!             CommandBody::Noop => replies.push(format!("{} OK NOOP completed", cmd.tag)),
//!             CommandBody::Login { .. } => replies.push(format!("{} OK LOGIN completed", cmd.tag)),
//!             _ => replies.push(format!("{} BAD unexpected", cmd.tag)),
//!         },
//!         // Send "+ Ready\r\n"; the client then sends the literal.
//!         Ok(Received::Continue { .. }) => rx.feed(b"alice secret\r\n"),
//!         // Read from the socket; here the script is over.
//!         Ok(Received::NeedMore) => break,
//!         // Stream message bytes to a spool (see below).
//!         Ok(Received::AppendLiteral(_) | Received::AppendData(_)) => {}
//!         Err(e) => {
//!             // "BAD <message>" (tagged if e.tag is set); close on Recovery::Close.
//!             if e.recovery == Recovery::Close {
//!                 break;
//!             }
//!         }
//!     }
//! }
//! assert_eq!(replies, ["a1 OK NOOP completed", "a2 OK LOGIN completed"]);
//! ```
//!
//! - **Literals.** `{N}` gives [`Received::Continue`]: send `+ Ready` (or
//!   call [`Receiver::reject_literal`] and answer `NO`). `{N+}` needs
//!   nothing (LITERAL+, or LITERAL- up to 4096 bytes). A literal over the
//!   limits gives a [`ReceiveError`] with code `TOOBIG` before any of it is
//!   read; a synchronising one leaves the connection usable, a
//!   non-synchronising one that is too large to skip needs
//!   [`Recovery::Close`].
//! - **APPEND.** By default message literals are streamed:
//!   [`Received::AppendLiteral`] (tag, mailbox, size, whether the client
//!   waits for `+`) then [`Received::AppendData`] chunks borrowed from the
//!   receiver's buffer (write each to a spool file), then the completed
//!   [`Command`] whose [`AppendMessage`] has [`AppendContent::Streamed`].
//!   [`Receiver::buffering_appends`] keeps them in memory instead.
//! - **AUTHENTICATE / IDLE.** After the command, the client sends plain
//!   lines: read them with [`Receiver::next_line`] and parse them with
//!   [`parse_authenticate_response`] or [`parse_idle_done`].
//! - **STARTTLS / COMPRESS.** [`Receiver::take_buffered`] removes bytes
//!   that arrived after the command (discard them after STARTTLS; run them
//!   through the decompressor after COMPRESS).
//! - **Errors.** [`Recovery::Continue`]: answer `BAD`, keep calling
//!   [`Receiver::receive`]; the receiver skips the rest of the bad line and
//!   any non-synchronising literal after it. [`Recovery::Close`]: `* BYE`
//!   and close.
//!
//! # Streaming FETCH bodies
//! [`FetchWriter`] writes `* n FETCH (` and then one item per call into the
//! session's output `Vec<u8>`. For a body, [`FetchWriter::literal_header`]
//! writes `BODY[] {N}\r\n`; the session flushes the buffer, copies exactly N
//! bytes from the content file or RPC stream to the socket, and continues
//! with further items and [`FetchWriter::finish`].
//!
//! ```
//! use groxide_imap_proto::{Flag, FetchBodyName, FetchWriter, Section};
//!
//! let mut out = Vec::new();
//! let mut fetch = FetchWriter::start(&mut out, 7, false);
//! fetch.uid(&mut out, 42);
//! fetch.flags(&mut out, &[Flag::Seen]);
//! let body = FetchBodyName::Body { section: Section::default(), origin: None };
//! fetch.literal_header(&mut out, &body, 5, false);
//! // flush `out`, then stream the 5 message bytes from elsewhere
//! out.extend_from_slice(b"Hello");
//! fetch.finish(&mut out);
//! assert_eq!(out, b"* 7 FETCH (UID 42 FLAGS (\\Seen) BODY[] {5}\r\nHello)\r\n");
//! ```

mod attribute;
mod command;
mod command_writer;
mod datetime;
mod encode;
mod error;
mod flag;
mod lexer;
mod limits;
pub mod mailbox_name;
mod num;
mod parse;
mod receiver;
mod response;
mod sequence;

pub use attribute::MailboxAttribute;
pub use command::{
    AppendCommand, AppendContent, AppendForm, AppendMessage, AuthMechanism, Command, CommandBody,
    EnableCapability, FetchCommand, FetchItem, FetchItems, ListCommand, ListReturnOption,
    ListSelectOption, Mailbox, ModSeqEntry, ModSeqEntryKind, Partial, QresyncParams, QuotaLimit,
    SearchCommand, SearchKey, SearchReturnOption, Section, SectionText, SelectParams, SortCommand,
    SortCriterion, SortKey, StatusItem, StoreAction, StoreCommand, Tag, ThreadAlgorithm,
    ThreadCommand,
};
pub use command_writer::{EncodedCommand, LiteralMode};
pub use datetime::{ImapDate, ImapDateTime};
pub use encode::{FetchWriter, ResponseEncoder, without_nul};
pub use error::{CommandError, ParseError, ReceiveError, ReceiveErrorKind, Recovery};
pub use flag::Flag;
pub use limits::{
    DEFAULT_MAX_ARGUMENT_LITERAL_BYTES, DEFAULT_MAX_LINE_LENGTH, DEFAULT_MAX_LITERAL_SIZE,
    DEFAULT_MAX_NESTING_DEPTH, DEFAULT_MAX_TAG_LENGTH, DEFAULT_MAX_TOKENS, LITERAL_MINUS_MAX,
    NonSyncLiterals, ReceiverLimits,
};
pub use parse::{
    AUTH_LOGIN_PASSWORD_CHALLENGE, AUTH_LOGIN_USERNAME_CHALLENGE, AuthenticateResponse,
    PlainCredentials, decode_sasl_plain, parse_authenticate_response, parse_command,
    parse_idle_done,
};
pub use receiver::{AppendLiteral, Received, Receiver};
pub use response::{
    ContinueRequest, Data, ESearchResponse, FetchBodyName, FetchResponse, FetchValue,
    ListExtendedItem, ListKind, ListResponse, NamespaceDescription, PermanentFlag, QuotaResource,
    Response, ResponseCode, Status, StatusResponse, StatusValue, ThreadNode,
};
pub use sequence::{NumberSet, SeqNumber, SeqRange, SequenceSet};
