//! Response codes (RFC 9051 §7.1, RFC 5530, RFC 4315, RFC 7162, RFC 4978,
//! RFC 9208, RFC 6154, RFC 4469).

use crate::flag::Flag;
use crate::sequence::NumberSet;

/// An entry of `PERMANENTFLAGS`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PermanentFlag {
    /// A flag that can be stored permanently.
    Flag(Flag),
    /// `\*`: new keywords can be created.
    AnyKeyword,
}

/// The bracketed code of a status response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseCode {
    /// `ALERT`.
    Alert,
    /// `BADCHARSET [(charsets)]`.
    BadCharset(Vec<String>),
    /// `CAPABILITY ...`.
    Capability(Vec<String>),
    /// `PARSE`.
    Parse,
    /// `PERMANENTFLAGS (...)`.
    PermanentFlags(Vec<PermanentFlag>),
    /// `READ-ONLY`.
    ReadOnly,
    /// `READ-WRITE`.
    ReadWrite,
    /// `TRYCREATE`.
    TryCreate,
    /// `UIDNEXT n`.
    UidNext(u32),
    /// `UIDVALIDITY n`.
    UidValidity(u32),
    /// `UNSEEN n` (IMAP4rev1).
    Unseen(u32),
    /// `APPENDUID uidvalidity uids` (UIDPLUS).
    AppendUid {
        /// UIDVALIDITY of the destination.
        uid_validity: u32,
        /// Assigned UIDs.
        uids: NumberSet,
    },
    /// `COPYUID uidvalidity source destination` (UIDPLUS, MOVE).
    CopyUid {
        /// UIDVALIDITY of the destination.
        uid_validity: u32,
        /// Source UIDs, in order.
        source: NumberSet,
        /// Destination UIDs, in the same order.
        destination: NumberSet,
    },
    /// `UIDNOTSTICKY`.
    UidNotSticky,
    /// `HIGHESTMODSEQ n` (CONDSTORE).
    HighestModSeq(u64),
    /// `NOMODSEQ`.
    NoModSeq,
    /// `MODIFIED set` (STORE UNCHANGEDSINCE failures).
    Modified(NumberSet),
    /// `CLOSED` (QRESYNC).
    Closed,
    /// `ALREADYEXISTS`.
    AlreadyExists,
    /// `NONEXISTENT`.
    NonExistent,
    /// `AUTHENTICATIONFAILED`.
    AuthenticationFailed,
    /// `AUTHORIZATIONFAILED`.
    AuthorizationFailed,
    /// `UNAVAILABLE`.
    Unavailable,
    /// `SERVERBUG`.
    ServerBug,
    /// `CANNOT`.
    Cannot,
    /// `LIMIT`.
    Limit,
    /// `OVERQUOTA`.
    OverQuota,
    /// `INUSE`.
    InUse,
    /// `EXPUNGEISSUED`.
    ExpungeIssued,
    /// `TOOBIG` (RFC 4469, RFC 7888).
    TooBig,
    /// `UNKNOWN-CTE` (BINARY).
    UnknownCte,
    /// `COMPRESSIONACTIVE` (RFC 4978).
    CompressionActive,
    /// `CONTACTADMIN`.
    ContactAdmin,
    /// `PRIVACYREQUIRED`.
    PrivacyRequired,
    /// `NOPERM`.
    NoPerm,
    /// `EXPIRED`.
    Expired,
    /// `CLIENTBUG`.
    ClientBug,
    /// `CORRUPTION`.
    Corruption,
    /// `HASCHILDREN`.
    HasChildren,
    /// `USEATTR` (SPECIAL-USE).
    UseAttr,
    /// `NOTSAVED` (SEARCHRES).
    NotSaved,
    /// Any other code: an atom and optional text (no `]`).
    Other {
        /// The code name.
        name: String,
        /// Its argument text.
        text: Option<String>,
    },
}
