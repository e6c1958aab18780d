//! Typed commands: what a client asks for, after parsing (RFC 3501,
//! RFC 9051 and the extensions listed in the crate docs).

mod append;
mod fetch;
mod list;
mod search;
mod select;
mod store;

pub use append::{AppendCommand, AppendContent, AppendForm, AppendMessage};
pub use fetch::{FetchCommand, FetchItem, FetchItems, Partial, Section, SectionText};
pub use list::{ListCommand, ListReturnOption, ListSelectOption, StatusItem};
pub use search::{
    ModSeqEntry, ModSeqEntryKind, SearchCommand, SearchKey, SearchReturnOption, SortCommand,
    SortCriterion, SortKey, ThreadAlgorithm, ThreadCommand,
};
pub use select::{QresyncParams, SelectParams};
pub use store::{StoreAction, StoreCommand};

use std::fmt;

use crate::attribute::MailboxAttribute;
use crate::lexer::is_tag_char;
use crate::sequence::SequenceSet;

/// A command tag (`a001`): any ASTRING-CHAR except `+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    /// A tag, if `text` is non-empty and uses only tag characters.
    pub fn new(text: &str) -> Option<Tag> {
        (!text.is_empty() && text.bytes().all(is_tag_char)).then(|| Tag(text.to_owned()))
    }

    /// A tag from text the caller already checked with [`is_tag_char`].
    pub(crate) fn from_checked(text: String) -> Tag {
        Tag(text)
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mailbox name as sent by the client: UTF-8 text, not decoded from
/// modified UTF-7 (see [`crate::mailbox_name`]). `INBOX` in any case is
/// normalised to `INBOX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mailbox(String);

impl Mailbox {
    /// The name, with `INBOX` normalised.
    pub fn new(name: impl Into<String>) -> Mailbox {
        let name = name.into();
        if name.eq_ignore_ascii_case("INBOX") {
            Mailbox("INBOX".to_owned())
        } else {
            Mailbox(name)
        }
    }

    /// True for `INBOX`.
    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One tagged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The client's tag.
    pub tag: Tag,
    /// What it asks for.
    pub body: CommandBody,
}

/// A SASL mechanism named in AUTHENTICATE (uppercased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthMechanism {
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `LOGIN` (draft-murchison-sasl-login).
    Login,
    /// Any other mechanism, uppercased.
    Other(String),
}

impl AuthMechanism {
    /// The mechanism name as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            AuthMechanism::Plain => "PLAIN",
            AuthMechanism::Login => "LOGIN",
            AuthMechanism::Other(name) => name,
        }
    }
}

/// A capability named in ENABLE (RFC 5161).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EnableCapability {
    /// `CONDSTORE` (RFC 7162).
    CondStore,
    /// `QRESYNC` (RFC 7162; implies CONDSTORE).
    QResync,
    /// `UTF8=ACCEPT` (RFC 6855).
    Utf8Accept,
    /// `IMAP4rev2` (RFC 9051).
    Imap4Rev2,
    /// Anything else, as sent.
    Other(String),
}

impl EnableCapability {
    /// The capability name as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            EnableCapability::CondStore => "CONDSTORE",
            EnableCapability::QResync => "QRESYNC",
            EnableCapability::Utf8Accept => "UTF8=ACCEPT",
            EnableCapability::Imap4Rev2 => "IMAP4rev2",
            EnableCapability::Other(name) => name,
        }
    }

    /// Recognises a capability name (case-insensitively).
    pub fn from_name(name: &str) -> EnableCapability {
        let known = [
            ("CONDSTORE", EnableCapability::CondStore),
            ("QRESYNC", EnableCapability::QResync),
            ("UTF8=ACCEPT", EnableCapability::Utf8Accept),
            ("IMAP4REV2", EnableCapability::Imap4Rev2),
        ];
        known
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or_else(|| EnableCapability::Other(name.to_owned()), |(_, c)| c)
    }
}

/// One `resource limit` pair of SETQUOTA (RFC 9208).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaLimit {
    /// Resource name (`STORAGE`, `MESSAGE`, ...), uppercased.
    pub resource: String,
    /// The new limit.
    pub limit: u64,
}

/// What a command asks for. Field types keep client text as sent except
/// where noted (keywords uppercased, INBOX normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    /// `CAPABILITY`.
    Capability,
    /// `NOOP`.
    Noop,
    /// `LOGOUT`.
    Logout,
    /// `STARTTLS` (RFC 9051 §6.2.1).
    StartTls,
    /// `AUTHENTICATE mech [initial-response]` (RFC 9051 §6.2.2, SASL-IR
    /// RFC 4959). The initial response is base64-decoded; `=` gives an
    /// empty response.
    Authenticate {
        /// The SASL mechanism.
        mechanism: AuthMechanism,
        /// Decoded initial response, if one was sent.
        initial_response: Option<Vec<u8>>,
    },
    /// `LOGIN user password`.
    Login {
        /// The user name as sent.
        username: Vec<u8>,
        /// The password as sent.
        password: Vec<u8>,
    },
    /// `ID (...)` or `ID NIL` (RFC 2971).
    Id {
        /// Field/value pairs, `None` for `NIL`.
        parameters: Option<Vec<(String, Option<String>)>>,
    },
    /// `ENABLE cap...` (RFC 5161).
    Enable {
        /// The capabilities to enable.
        capabilities: Vec<EnableCapability>,
    },
    /// `SELECT mailbox [(CONDSTORE) / (QRESYNC (...))]`.
    Select {
        /// The mailbox.
        mailbox: Mailbox,
        /// CONDSTORE/QRESYNC parameters.
        params: SelectParams,
    },
    /// `EXAMINE mailbox [params]`.
    Examine {
        /// The mailbox.
        mailbox: Mailbox,
        /// CONDSTORE/QRESYNC parameters.
        params: SelectParams,
    },
    /// `CREATE mailbox [(USE (attrs))]` (SPECIAL-USE RFC 6154).
    Create {
        /// The new mailbox.
        mailbox: Mailbox,
        /// Special-use attributes requested with `USE`.
        special_use: Vec<MailboxAttribute>,
    },
    /// `DELETE mailbox`.
    Delete {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `RENAME from to`.
    Rename {
        /// Existing name.
        from: Mailbox,
        /// New name.
        to: Mailbox,
    },
    /// `SUBSCRIBE mailbox`.
    Subscribe {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `UNSUBSCRIBE mailbox`.
    Unsubscribe {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `LIST` in its basic and extended forms (RFC 5258, 5819, 6154).
    List(ListCommand),
    /// `LSUB reference pattern`.
    Lsub {
        /// Reference name.
        reference: String,
        /// Mailbox pattern with `%`/`*`.
        pattern: String,
    },
    /// `NAMESPACE` (RFC 2342).
    Namespace,
    /// `STATUS mailbox (items)`.
    Status {
        /// The mailbox.
        mailbox: Mailbox,
        /// Requested items.
        items: Vec<StatusItem>,
    },
    /// `APPEND` (with MULTIAPPEND, BINARY and UTF8 forms).
    Append(AppendCommand),
    /// `IDLE` (RFC 2177); the session then waits for `DONE` via
    /// [`crate::Receiver::next_line`] and [`crate::parse_idle_done`].
    Idle,
    /// `GETQUOTA root` (RFC 9208).
    GetQuota {
        /// Quota root name.
        root: String,
    },
    /// `GETQUOTAROOT mailbox`.
    GetQuotaRoot {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `SETQUOTA root (resource limit ...)`.
    SetQuota {
        /// Quota root name.
        root: String,
        /// New limits.
        limits: Vec<QuotaLimit>,
    },
    /// `COMPRESS algorithm` (RFC 4978); the algorithm is uppercased.
    Compress {
        /// Normally `DEFLATE`.
        algorithm: String,
    },
    /// `CHECK`.
    Check,
    /// `CLOSE`.
    Close,
    /// `UNSELECT` (RFC 3691).
    Unselect,
    /// `EXPUNGE`.
    Expunge,
    /// `UID EXPUNGE uids` (UIDPLUS, RFC 4315).
    UidExpunge {
        /// UIDs to expunge.
        uids: SequenceSet,
    },
    /// `[UID] SEARCH`.
    Search(SearchCommand),
    /// `[UID] FETCH`.
    Fetch(FetchCommand),
    /// `[UID] STORE`.
    Store(StoreCommand),
    /// `[UID] COPY set mailbox`.
    Copy {
        /// `UID COPY`.
        uid: bool,
        /// Messages to copy.
        set: SequenceSet,
        /// Destination.
        mailbox: Mailbox,
    },
    /// `[UID] MOVE set mailbox` (RFC 6851).
    Move {
        /// `UID MOVE`.
        uid: bool,
        /// Messages to move.
        set: SequenceSet,
        /// Destination.
        mailbox: Mailbox,
    },
    /// `[UID] SORT` (RFC 5256, ESORT RFC 5267).
    Sort(SortCommand),
    /// `[UID] THREAD` (RFC 5256).
    Thread(ThreadCommand),
}

impl CommandBody {
    /// The command name as it appears on the wire (`UID FETCH`, `LOGIN`),
    /// for logs and response texts.
    pub fn name(&self) -> &'static str {
        match self {
            CommandBody::Capability => "CAPABILITY",
            CommandBody::Noop => "NOOP",
            CommandBody::Logout => "LOGOUT",
            CommandBody::StartTls => "STARTTLS",
            CommandBody::Authenticate { .. } => "AUTHENTICATE",
            CommandBody::Login { .. } => "LOGIN",
            CommandBody::Id { .. } => "ID",
            CommandBody::Enable { .. } => "ENABLE",
            CommandBody::Select { .. } => "SELECT",
            CommandBody::Examine { .. } => "EXAMINE",
            CommandBody::Create { .. } => "CREATE",
            CommandBody::Delete { .. } => "DELETE",
            CommandBody::Rename { .. } => "RENAME",
            CommandBody::Subscribe { .. } => "SUBSCRIBE",
            CommandBody::Unsubscribe { .. } => "UNSUBSCRIBE",
            CommandBody::List(_) => "LIST",
            CommandBody::Lsub { .. } => "LSUB",
            CommandBody::Namespace => "NAMESPACE",
            CommandBody::Status { .. } => "STATUS",
            CommandBody::Append(_) => "APPEND",
            CommandBody::Idle => "IDLE",
            CommandBody::GetQuota { .. } => "GETQUOTA",
            CommandBody::GetQuotaRoot { .. } => "GETQUOTAROOT",
            CommandBody::SetQuota { .. } => "SETQUOTA",
            CommandBody::Compress { .. } => "COMPRESS",
            CommandBody::Check => "CHECK",
            CommandBody::Close => "CLOSE",
            CommandBody::Unselect => "UNSELECT",
            CommandBody::Expunge => "EXPUNGE",
            CommandBody::UidExpunge { .. } => "UID EXPUNGE",
            CommandBody::Search(s) => uid_name(s.uid, "SEARCH", "UID SEARCH"),
            CommandBody::Fetch(f) => uid_name(f.uid, "FETCH", "UID FETCH"),
            CommandBody::Store(s) => uid_name(s.uid, "STORE", "UID STORE"),
            CommandBody::Copy { uid, .. } => uid_name(*uid, "COPY", "UID COPY"),
            CommandBody::Move { uid, .. } => uid_name(*uid, "MOVE", "UID MOVE"),
            CommandBody::Sort(s) => uid_name(s.uid, "SORT", "UID SORT"),
            CommandBody::Thread(t) => uid_name(t.uid, "THREAD", "UID THREAD"),
        }
    }
}

fn uid_name(uid: bool, plain: &'static str, with_uid: &'static str) -> &'static str {
    if uid { with_uid } else { plain }
}
