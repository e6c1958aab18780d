//! Server responses (RFC 9051 §7 and the extensions' response syntax). The
//! types hold what to say; [`crate::ResponseEncoder`] writes the bytes.

mod code;
mod fetch;

pub use code::{PermanentFlag, ResponseCode};
pub use fetch::{FetchBodyName, FetchResponse, FetchValue};

use crate::attribute::MailboxAttribute;
use crate::command::Tag;
use crate::flag::Flag;
use crate::sequence::NumberSet;

/// Any server response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `tag OK/NO/BAD ...` or `* OK/NO/BAD/PREAUTH/BYE ...`.
    Status(StatusResponse),
    /// Untagged data (`* 3 EXISTS`, `* LIST ...`).
    Data(Data),
    /// A continuation request (`+ ...`).
    Continue(ContinueRequest),
}

/// The condition of a status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// `PREAUTH` (greeting only, untagged).
    PreAuth,
    /// `BYE` (untagged).
    Bye,
}

impl Status {
    /// The wire keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::PreAuth => "PREAUTH",
            Status::Bye => "BYE",
        }
    }
}

/// A status response: tagged completion or untagged condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResponse {
    /// The command's tag; `None` for untagged (`*`).
    pub tag: Option<Tag>,
    /// OK, NO, BAD, PREAUTH or BYE.
    pub status: Status,
    /// The bracketed response code.
    pub code: Option<ResponseCode>,
    /// Human-readable text (CR, LF and NUL are replaced when written).
    pub text: String,
}

impl StatusResponse {
    /// A tagged response.
    pub fn tagged(tag: Tag, status: Status, text: impl Into<String>) -> Self {
        StatusResponse {
            tag: Some(tag),
            status,
            code: None,
            text: text.into(),
        }
    }

    /// An untagged response.
    pub fn untagged(status: Status, text: impl Into<String>) -> Self {
        StatusResponse {
            tag: None,
            status,
            code: None,
            text: text.into(),
        }
    }

    /// The same response with a response code.
    pub fn with_code(mut self, code: ResponseCode) -> Self {
        self.code = Some(code);
        self
    }
}

/// A continuation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContinueRequest {
    /// `+ [code] text` (for literals and IDLE).
    Text {
        /// Optional response code.
        code: Option<ResponseCode>,
        /// Text.
        text: String,
    },
    /// `+ base64` (an AUTHENTICATE challenge, given raw and encoded when
    /// written; empty gives `+ `).
    Base64(Vec<u8>),
}

/// Untagged data responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// `* CAPABILITY ...` (the caller includes `IMAP4rev1`/`IMAP4rev2`).
    Capability(Vec<String>),
    /// `* ENABLED ...` (RFC 5161).
    Enabled(Vec<String>),
    /// `* LIST ...` or `* LSUB ...`.
    List(ListResponse),
    /// `* STATUS mailbox (...)`.
    Status {
        /// The mailbox name as it goes on the wire.
        mailbox: String,
        /// The values.
        items: Vec<StatusValue>,
    },
    /// `* FLAGS (...)`.
    Flags(Vec<Flag>),
    /// `* n EXISTS`.
    Exists(u32),
    /// `* n RECENT`.
    Recent(u32),
    /// `* n EXPUNGE`.
    Expunge(u32),
    /// `* n FETCH (...)`.
    Fetch(FetchResponse),
    /// `* SEARCH n... [(MODSEQ m)]`.
    Search {
        /// Matching numbers.
        numbers: Vec<u32>,
        /// Highest mod-sequence of the matches (CONDSTORE).
        modseq: Option<u64>,
    },
    /// `* ESEARCH ...` (RFC 4731).
    ESearch(ESearchResponse),
    /// `* SORT n... [(MODSEQ m)]`.
    Sort {
        /// Numbers in sort order.
        numbers: Vec<u32>,
        /// Highest mod-sequence of the matches (CONDSTORE).
        modseq: Option<u64>,
    },
    /// `* THREAD (...)...`.
    Thread(Vec<ThreadNode>),
    /// `* VANISHED [(EARLIER)] uids` (QRESYNC).
    Vanished {
        /// `(EARLIER)`: reporting past expunges.
        earlier: bool,
        /// The expunged UIDs.
        uids: NumberSet,
    },
    /// `* NAMESPACE personal other shared` (empty lists are `NIL`).
    Namespace {
        /// Personal namespaces.
        personal: Vec<NamespaceDescription>,
        /// Other users' namespaces.
        other: Vec<NamespaceDescription>,
        /// Shared namespaces.
        shared: Vec<NamespaceDescription>,
    },
    /// `* ID (...)` or `* ID NIL`.
    Id(Option<Vec<(String, Option<String>)>>),
    /// `* QUOTA root (resource usage limit ...)`.
    Quota {
        /// Quota root.
        root: String,
        /// Resources.
        resources: Vec<QuotaResource>,
    },
    /// `* QUOTAROOT mailbox root...`.
    QuotaRoot {
        /// The mailbox name as it goes on the wire.
        mailbox: String,
        /// Its quota roots.
        roots: Vec<String>,
    },
}

/// LIST or LSUB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// `LIST`.
    List,
    /// `LSUB`.
    Lsub,
}

/// One `* LIST` / `* LSUB` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResponse {
    /// LIST or LSUB.
    pub kind: ListKind,
    /// Attributes.
    pub attributes: Vec<MailboxAttribute>,
    /// Hierarchy delimiter (`None` for a flat namespace: NIL).
    pub delimiter: Option<char>,
    /// The mailbox name as it goes on the wire (modified UTF-7 unless
    /// UTF8=ACCEPT is enabled).
    pub mailbox: String,
    /// Extended data items (LIST-EXTENDED).
    pub extended: Vec<ListExtendedItem>,
}

/// An extended data item of a LIST response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListExtendedItem {
    /// `"CHILDINFO" ("SUBSCRIBED")`.
    ChildInfo(Vec<String>),
    /// `"OLDNAME" ("name")` (RFC 9051 §6.3.6).
    OldName(String),
}

/// One STATUS value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusValue {
    /// `MESSAGES n`.
    Messages(u32),
    /// `RECENT n`.
    Recent(u32),
    /// `UIDNEXT n`.
    UidNext(u32),
    /// `UIDVALIDITY n`.
    UidValidity(u32),
    /// `UNSEEN n`.
    Unseen(u32),
    /// `DELETED n`.
    Deleted(u32),
    /// `SIZE n` (RFC 8438).
    Size(u64),
    /// `HIGHESTMODSEQ n`.
    HighestModSeq(u64),
    /// `APPENDLIMIT n` or `APPENDLIMIT NIL` (no limit).
    AppendLimit(Option<u64>),
    /// `DELETED-STORAGE n` (RFC 9208).
    DeletedStorage(u64),
}

/// `* ESEARCH` data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ESearchResponse {
    /// `(TAG "a1")`: the command this answers.
    pub tag: Option<Tag>,
    /// `UID`: numbers are UIDs.
    pub uid: bool,
    /// `MIN n`.
    pub min: Option<u32>,
    /// `MAX n`.
    pub max: Option<u32>,
    /// `COUNT n`.
    pub count: Option<u32>,
    /// `ALL set` (never empty: leave `None` when nothing matched).
    pub all: Option<NumberSet>,
    /// `MODSEQ n`.
    pub modseq: Option<u64>,
}

/// A node of a THREAD result: a message (or a missing parent) and its
/// replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadNode {
    /// The message number; `None` for a parent that is not in the result.
    pub message: Option<u32>,
    /// Replies.
    pub children: Vec<ThreadNode>,
}

impl Drop for ThreadNode {
    /// Drops iteratively: a long reply chain must not overflow the stack.
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.children);
        while let Some(mut node) = pending.pop() {
            pending.append(&mut node.children);
        }
    }
}

/// One namespace of a NAMESPACE response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceDescription {
    /// The prefix (e.g. `""` or `"Other Users/"`).
    pub prefix: String,
    /// Hierarchy delimiter.
    pub delimiter: Option<char>,
    /// Extension data: name and values.
    pub extensions: Vec<(String, Vec<String>)>,
}

/// One resource of a QUOTA response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaResource {
    /// `STORAGE`, `MESSAGE`, ...
    pub name: String,
    /// Current usage.
    pub usage: u64,
    /// Limit.
    pub limit: u64,
}
