//! SEARCH criteria and the commands built on them: SEARCH (ESEARCH RFC 4731,
//! SEARCHRES RFC 5182), SORT and THREAD (RFC 5256, ESORT RFC 5267).

use crate::datetime::ImapDate;
use crate::flag::Flag;
use crate::sequence::SequenceSet;

/// `[UID] SEARCH [RETURN (opts)] [CHARSET c] keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCommand {
    /// `UID SEARCH`.
    pub uid: bool,
    /// `RETURN (...)`: `None` for a plain SEARCH (answered with `* SEARCH`),
    /// `Some` for ESEARCH (an empty list means `ALL`).
    pub return_options: Option<Vec<SearchReturnOption>>,
    /// `CHARSET` of the search strings.
    pub charset: Option<String>,
    /// The keys, all of which must match (at least one).
    pub criteria: Vec<SearchKey>,
}

/// ESEARCH result option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchReturnOption {
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
    /// `ALL`.
    All,
    /// `COUNT`.
    Count,
    /// `SAVE` (SEARCHRES): keep the result for `$`.
    Save,
}

/// A search key. String arguments are raw bytes in the command's charset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SearchKey {
    /// `ALL`.
    All,
    /// `ANSWERED`.
    Answered,
    /// `BCC string`.
    Bcc(Vec<u8>),
    /// `BEFORE date` (internal date).
    Before(ImapDate),
    /// `BODY string`.
    Body(Vec<u8>),
    /// `CC string`.
    Cc(Vec<u8>),
    /// `DELETED`.
    Deleted,
    /// `DRAFT`.
    Draft,
    /// `FLAGGED`.
    Flagged,
    /// `FROM string`.
    From(Vec<u8>),
    /// `HEADER field string`.
    Header {
        /// Header field name.
        field: String,
        /// Substring to look for (empty: the field exists).
        value: Vec<u8>,
    },
    /// `KEYWORD flag`.
    Keyword(String),
    /// `LARGER n`.
    Larger(u64),
    /// `NEW` (IMAP4rev1).
    New,
    /// `NOT key`.
    Not(Box<SearchKey>),
    /// `OLD` (IMAP4rev1).
    Old,
    /// `ON date`.
    On(ImapDate),
    /// `OR key key`.
    Or(Box<SearchKey>, Box<SearchKey>),
    /// `RECENT` (IMAP4rev1).
    Recent,
    /// `SEEN`.
    Seen,
    /// `SENTBEFORE date` (Date: header).
    SentBefore(ImapDate),
    /// `SENTON date`.
    SentOn(ImapDate),
    /// `SENTSINCE date`.
    SentSince(ImapDate),
    /// `SINCE date`.
    Since(ImapDate),
    /// `SMALLER n`.
    Smaller(u64),
    /// `SUBJECT string`.
    Subject(Vec<u8>),
    /// `TEXT string`.
    Text(Vec<u8>),
    /// `TO string`.
    To(Vec<u8>),
    /// `UID set`.
    Uid(SequenceSet),
    /// `UNANSWERED`.
    Unanswered,
    /// `UNDELETED`.
    Undeleted,
    /// `UNDRAFT`.
    Undraft,
    /// `UNFLAGGED`.
    Unflagged,
    /// `UNKEYWORD flag`.
    Unkeyword(String),
    /// `UNSEEN`.
    Unseen,
    /// A bare sequence set.
    SequenceSet(SequenceSet),
    /// `(key key ...)`: all must match.
    And(Vec<SearchKey>),
    /// `MODSEQ [entry type] n` (CONDSTORE).
    ModSeq {
        /// The optional per-flag entry.
        entry: Option<ModSeqEntry>,
        /// Mod-sequence to compare with (matches if the message's is >=).
        modseq: u64,
    },
    /// `OLDER seconds` (WITHIN, RFC 5032).
    Older(u32),
    /// `YOUNGER seconds` (WITHIN, RFC 5032).
    Younger(u32),
}

/// The `"/flags/\\flag" priv|shared|all` part of a MODSEQ search key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModSeqEntry {
    /// The flag the entry names.
    pub flag: Flag,
    /// Which metadata it refers to.
    pub kind: ModSeqEntryKind,
}

/// `entry-type-req` of RFC 7162.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModSeqEntryKind {
    /// `priv`.
    Private,
    /// `shared`.
    Shared,
    /// `all`.
    All,
}

/// `[UID] SORT [RETURN (opts)] (criteria) charset keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortCommand {
    /// `UID SORT`.
    pub uid: bool,
    /// ESORT `RETURN (...)`; `None` for a plain SORT.
    pub return_options: Option<Vec<SearchReturnOption>>,
    /// Sort order (at least one).
    pub criteria: Vec<SortCriterion>,
    /// Charset of the search strings.
    pub charset: String,
    /// Search keys (at least one).
    pub search: Vec<SearchKey>,
}

/// One sort criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    /// `REVERSE`.
    pub reverse: bool,
    /// What to sort by.
    pub key: SortKey,
}

/// Sort keys of RFC 5256 and RFC 5957.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// `ARRIVAL`.
    Arrival,
    /// `CC`.
    Cc,
    /// `DATE`.
    Date,
    /// `FROM`.
    From,
    /// `SIZE`.
    Size,
    /// `SUBJECT`.
    Subject,
    /// `TO`.
    To,
    /// `DISPLAYFROM` (RFC 5957).
    DisplayFrom,
    /// `DISPLAYTO` (RFC 5957).
    DisplayTo,
}

/// `[UID] THREAD algorithm charset keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCommand {
    /// `UID THREAD`.
    pub uid: bool,
    /// Threading algorithm.
    pub algorithm: ThreadAlgorithm,
    /// Charset of the search strings.
    pub charset: String,
    /// Search keys (at least one).
    pub search: Vec<SearchKey>,
}

/// Threading algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThreadAlgorithm {
    /// `ORDEREDSUBJECT`.
    OrderedSubject,
    /// `REFERENCES`.
    References,
    /// Another algorithm, uppercased (the session answers BAD or NO).
    Other(String),
}
