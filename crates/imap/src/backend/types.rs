//! The session's view of a mailbox store, in its own types: what the
//! backend answers and what the session asks for. They mirror the midb
//! contract closely (so translating is moving fields), without protobuf.

use bytes::Bytes;

/// IMAP system flags (and `$Forwarded`) as bits, the values midb uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SystemFlags(pub u32);

impl SystemFlags {
    /// `\Seen`.
    pub const SEEN: SystemFlags = SystemFlags(1);
    /// `\Answered`.
    pub const ANSWERED: SystemFlags = SystemFlags(2);
    /// `\Flagged`.
    pub const FLAGGED: SystemFlags = SystemFlags(4);
    /// `\Deleted`.
    pub const DELETED: SystemFlags = SystemFlags(8);
    /// `\Draft`.
    pub const DRAFT: SystemFlags = SystemFlags(16);
    /// The `$Forwarded` keyword, stored as a bit.
    pub const FORWARDED: SystemFlags = SystemFlags(32);
    /// Every known bit.
    pub const ALL: SystemFlags = SystemFlags(63);

    /// True when every bit of `other` is set.
    pub fn contains(self, other: SystemFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags plus `other`.
    pub fn with(self, other: SystemFlags) -> SystemFlags {
        SystemFlags(self.0 | other.0)
    }

    /// These flags without `other`.
    pub fn without(self, other: SystemFlags) -> SystemFlags {
        SystemFlags(self.0 & !other.0)
    }
}

/// An inclusive UID range (both ends are real UIDs; the session resolves
/// `*` itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UidRange {
    /// First UID.
    pub first: u32,
    /// Last UID (>= first).
    pub last: u32,
}

impl UidRange {
    /// `first..=last`.
    pub fn new(first: u32, last: u32) -> UidRange {
        UidRange {
            first: first.min(last),
            last: first.max(last),
        }
    }

    /// One UID.
    pub fn single(uid: u32) -> UidRange {
        UidRange {
            first: uid,
            last: uid,
        }
    }

    /// True when `uid` is in the range.
    pub fn contains(&self, uid: u32) -> bool {
        (self.first..=self.last).contains(&uid)
    }
}

/// Ranges from ascending UIDs, consecutive runs merged.
pub fn ranges_of(uids: impl IntoIterator<Item = u32>) -> Vec<UidRange> {
    let mut out: Vec<UidRange> = Vec::new();
    for uid in uids {
        match out.last_mut() {
            Some(last) if last.last.checked_add(1) == Some(uid) => last.last = uid,
            _ => out.push(UidRange::single(uid)),
        }
    }
    out
}

/// True when `uid` is in one of `ranges`.
pub fn ranges_contain(ranges: &[UidRange], uid: u32) -> bool {
    ranges.iter().any(|r| r.contains(uid))
}

/// A logged-in user: who, and which store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user name as the directory spells it (connection limits count it).
    pub username: String,
    /// The store directory (the `dir` of every request).
    pub dir: String,
}

/// One mailbox of a store (LIST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxEntry {
    /// UTF-8 name, `/` as separator, `INBOX` for the inbox.
    pub name: String,
    /// RFC 6154 attribute without backslash (`Sent`, `Trash`, ...).
    pub special_use: Option<String>,
    /// Subscribed.
    pub subscribed: bool,
    /// Has child mailboxes.
    pub has_children: bool,
    /// Not selectable (a placeholder parent).
    pub noselect: bool,
}

/// SELECT/STATUS data of one mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    /// The folder id every message request names.
    pub folder_id: u64,
    /// UIDVALIDITY.
    pub uidvalidity: u32,
    /// UIDNEXT.
    pub uidnext: u32,
    /// Messages.
    pub exists: u32,
    /// Messages without `\Seen`.
    pub unseen: u32,
    /// Messages with `\Deleted`.
    pub deleted: u32,
    /// HIGHESTMODSEQ.
    pub highest_modseq: u64,
    /// Sum of message sizes.
    pub size: u64,
    /// UID of the first message without `\Seen` (0 = none).
    pub first_unseen_uid: u32,
}

/// UIDs, flags and MODSEQs of a run of messages, as parallel arrays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageListChunk {
    /// Ascending UIDs.
    pub uids: Vec<u32>,
    /// System flags of each.
    pub flags: Vec<u32>,
    /// MODSEQ of each.
    pub modseqs: Vec<u64>,
    /// Sizes (only when asked for).
    pub sizes: Vec<u64>,
    /// Internal dates, Unix seconds (only when asked for).
    pub internal_dates: Vec<i64>,
    /// Keywords of the messages that have any.
    pub keywords: Vec<(u32, Vec<String>)>,
}

/// Which metadata items a FETCH needs (bits as in midb's MetadataItem).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataItems(pub u32);

impl MetadataItems {
    /// Flags and keywords.
    pub const FLAGS: MetadataItems = MetadataItems(1);
    /// RFC822.SIZE.
    pub const SIZE: MetadataItems = MetadataItems(2);
    /// INTERNALDATE.
    pub const INTERNALDATE: MetadataItems = MetadataItems(4);
    /// ENVELOPE.
    pub const ENVELOPE: MetadataItems = MetadataItems(8);
    /// BODYSTRUCTURE (extensible).
    pub const BODYSTRUCTURE: MetadataItems = MetadataItems(16);
    /// BODY (non-extensible).
    pub const BODY: MetadataItems = MetadataItems(32);
    /// MODSEQ.
    pub const MODSEQ: MetadataItems = MetadataItems(64);
    /// The header fields named in the request.
    pub const HEADER_FIELDS: MetadataItems = MetadataItems(128);

    /// True when every bit of `other` is set.
    pub fn contains(self, other: MetadataItems) -> bool {
        self.0 & other.0 == other.0
    }

    /// Adds `other`.
    pub fn insert(&mut self, other: MetadataItems) {
        self.0 |= other.0;
    }

    /// True when only bits of `allowed` are set.
    pub fn only(self, allowed: MetadataItems) -> bool {
        self.0 & !allowed.0 == 0
    }
}

/// A FetchMetadata request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataRequest {
    /// Which messages.
    pub uids: Vec<UidRange>,
    /// Which items.
    pub items: MetadataItems,
    /// For HEADER_FIELDS: the field names.
    pub header_fields: Vec<String>,
    /// HEADER.FIELDS.NOT semantics.
    pub header_fields_not: bool,
    /// CHANGEDSINCE (0 = every message).
    pub changed_since: u64,
}

/// FETCH data of one message other than body sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageMetadata {
    /// UID.
    pub uid: u32,
    /// System flags.
    pub flags: u32,
    /// Keywords.
    pub keywords: Vec<String>,
    /// MODSEQ.
    pub modseq: u64,
    /// RFC822.SIZE.
    pub size: u64,
    /// Internal date, Unix seconds.
    pub internal_date: i64,
    /// Rendered ENVELOPE.
    pub envelope: Vec<u8>,
    /// Rendered BODYSTRUCTURE.
    pub bodystructure: Vec<u8>,
    /// Rendered BODY.
    pub body: Vec<u8>,
    /// The requested header fields' raw lines.
    pub header_fields: Vec<u8>,
}

/// What of a part a section names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SectionPart {
    /// The whole message or part.
    #[default]
    Full,
    /// `HEADER`.
    Header,
    /// `HEADER.FIELDS (...)`.
    HeaderFields(Vec<String>),
    /// `HEADER.FIELDS.NOT (...)`.
    HeaderFieldsNot(Vec<String>),
    /// `TEXT`.
    Text,
    /// `MIME`.
    Mime,
}

/// A FetchSection request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionRequest {
    /// The message.
    pub uid: u32,
    /// Part path (empty = the whole message).
    pub part: Vec<u32>,
    /// What of the part.
    pub kind: SectionPart,
    /// BINARY: content-transfer-encoding undone.
    pub binary: bool,
    /// Partial fetch: first byte.
    pub offset: u64,
    /// Partial fetch: most bytes (0 = to the end).
    pub length: u64,
}

/// One piece of a section; the first carries the total size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionChunk {
    /// First chunk only: bytes that follow in total (this chunk included).
    pub total_size: u64,
    /// The bytes.
    pub data: Bytes,
}

/// How STORE combines flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// `FLAGS`.
    Replace,
    /// `+FLAGS`.
    Add,
    /// `-FLAGS`.
    Remove,
}

/// A StoreFlags request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRequest {
    /// Which messages.
    pub uids: Vec<UidRange>,
    /// Replace, add or remove.
    pub mode: StoreMode,
    /// System flags.
    pub flags: SystemFlags,
    /// Keywords.
    pub keywords: Vec<String>,
    /// UNCHANGEDSINCE (0 = unconditional).
    pub unchanged_since: u64,
}

/// What STORE did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreResult {
    /// Every message of the range after the change (uid, flags, keywords, modseq).
    pub updated: Vec<MessageMetadata>,
    /// UIDs that failed UNCHANGEDSINCE.
    pub modified: Vec<UidRange>,
}

/// The start of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    /// Destination mailbox (UTF-8 name).
    pub mailbox: String,
    /// System flags.
    pub flags: SystemFlags,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Internal date, Unix seconds (0 = now).
    pub internal_date: i64,
    /// Announced size.
    pub size: u64,
}

/// Where an appended message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// UIDVALIDITY of the mailbox.
    pub uidvalidity: u32,
    /// The new message's UID.
    pub uid: u32,
}

/// What COPY or MOVE did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyResult {
    /// UIDVALIDITY of the target.
    pub target_uidvalidity: u32,
    /// MOVE: the change number of the removal from the source (0 otherwise).
    pub modseq: u64,
    /// Source UIDs, ascending.
    pub source_uids: Vec<u32>,
    /// Target UIDs, same order.
    pub target_uids: Vec<u32>,
}

/// What EXPUNGE removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpungeResult {
    /// Removed UIDs, ascending.
    pub expunged: Vec<u32>,
    /// The store's MODSEQ afterwards.
    pub modseq: u64,
}

/// A search criterion, with sequence numbers already turned into UIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// Every message.
    All,
    /// All must match.
    And(Vec<SearchKey>),
    /// Either.
    Or(Box<SearchKey>, Box<SearchKey>),
    /// Negation.
    Not(Box<SearchKey>),
    /// UIDs in these ranges.
    Uid(Vec<UidRange>),
    /// All these flags set.
    FlagsSet(SystemFlags),
    /// All these flags clear.
    FlagsUnset(SystemFlags),
    /// Keyword set.
    Keyword(String),
    /// Keyword not set.
    Unkeyword(String),
    /// Internal date before this day (days since 1970-01-01).
    Before(i64),
    /// Internal date on this day.
    On(i64),
    /// Internal date on or after this day.
    Since(i64),
    /// Date: header before this day.
    SentBefore(i64),
    /// Date: header on this day.
    SentOn(i64),
    /// Date: header on or after this day.
    SentSince(i64),
    /// Larger than n bytes.
    Larger(u64),
    /// Smaller than n bytes.
    Smaller(u64),
    /// Bcc contains.
    Bcc(String),
    /// Cc contains.
    Cc(String),
    /// From contains.
    From(String),
    /// To contains.
    To(String),
    /// Subject contains.
    Subject(String),
    /// Body contains.
    Body(String),
    /// Header or body contains.
    Text(String),
    /// A header field contains (empty value: the field exists).
    Header(String, String),
    /// MODSEQ >= n.
    ModSeq(u64),
    /// Internal date within the last n seconds.
    Younger(u64),
    /// Internal date older than n seconds.
    Older(u64),
}

/// What SEARCH found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResult {
    /// Matching UIDs, ascending.
    pub uids: Vec<u32>,
    /// Highest MODSEQ of the matches (when the criteria use MODSEQ).
    pub highest_modseq: u64,
}

/// A SORT key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Internal date.
    Arrival,
    /// First Cc address.
    Cc,
    /// Date: header.
    Date,
    /// First From address.
    From,
    /// Size.
    Size,
    /// Base subject.
    Subject,
    /// First To address.
    To,
    /// Display name of From.
    DisplayFrom,
    /// Display name of To.
    DisplayTo,
}

/// One SORT criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortCriterion {
    /// The key.
    pub key: SortKey,
    /// Descending.
    pub reverse: bool,
}

/// A THREAD algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    /// RFC 5256 REFERENCES.
    References,
    /// RFC 5256 ORDEREDSUBJECT.
    OrderedSubject,
}

/// A THREAD tree node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadTree {
    /// The message's UID; 0 for a missing parent.
    pub uid: u32,
    /// Replies.
    pub children: Vec<ThreadTree>,
}

impl Drop for ThreadTree {
    /// Iterative: a long reply chain must not overflow the stack.
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.children);
        while let Some(mut node) = pending.pop() {
            pending.append(&mut node.children);
        }
    }
}

/// A piece of "what changed since MODSEQ n".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangesChunk {
    /// Messages added or changed (uid, flags, keywords, modseq).
    pub changed: Vec<MessageMetadata>,
    /// UIDs expunged.
    pub vanished: Vec<UidRange>,
    /// Last chunk only: the mailbox's HIGHESTMODSEQ (0 elsewhere).
    pub highest_modseq: u64,
}

/// Storage and message quota of a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    /// Bytes used.
    pub used_bytes: u64,
    /// Byte limit (0 = none).
    pub limit_bytes: u64,
    /// Messages stored.
    pub messages: u64,
    /// Message limit (0 = none).
    pub message_limit: u64,
}

/// A hint that a store changed. Never the data: the session catches up
/// through `changes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreEvent {
    /// Something changed in this folder (0: somewhere in the store).
    Changed {
        /// The folder id.
        folder: u64,
        /// The change number (MODSEQ) of the commit; 0 when unknown.
        change_number: u64,
    },
    /// Events may have been missed: every watcher must catch up.
    Resync,
}
