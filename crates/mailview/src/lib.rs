//! groxide-mailview: the mailbox view contract.
//!
//! The IMAP/POP3 view of a store — mailbox names, message listings with
//! UIDs, flags and MODSEQs, FETCH metadata and body sections, SEARCH, SORT,
//! THREAD, and the writes IMAP and POP3 make — as plain types and one
//! trait, [`MailboxView`]. groxide-midb implements it over a store of this
//! node (reading the store's SQLite file and content files directly,
//! writing through groxide-exmdb); groxide-rpc's midb client implements it
//! for a store homed on another node; groxide-imap and groxide-pop3 are
//! written against the trait and never know which they talk to. One
//! contract test suite (in groxide-midb) runs against both.
//!
//! Each concept is defined here once: [`UidSet`], [`Flags`], [`SearchKey`],
//! the request and result types. The RPC contract (`groxide.midb.v1`) is
//! their wire form; the IMAP codec's parsed commands are their syntax.
//!
//! Invariants: no I/O, no async runtime, no protobuf; every type is plain
//! data. UIDs, flags, keywords and MODSEQs are the store's, passed through.

mod flags;
mod query;
mod types;
mod uid;

pub use flags::{FlagChange, FlagMode, Flags};
pub use query::{
    SearchKey, SearchResult, SortCriterion, SortKey, TextField, ThreadAlgorithm, ThreadTree,
};
pub use types::*;
pub use uid::{Uid, UidRange, UidSet, ranges_of};

use futures_util::stream::BoxStream;
use std::future::Future;

/// A stream of view results (bounded memory for any folder size).
pub type ViewStream<T> = BoxStream<'static, Result<T, ViewError>>;

/// Why a view request failed. Callers map each to a protocol answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ViewError {
    /// The mailbox (or folder) does not exist.
    #[error("no such mailbox")]
    NoSuchMailbox,
    /// A mailbox of that name exists already.
    #[error("mailbox already exists")]
    MailboxExists,
    /// A message named in the request does not exist.
    #[error("no such message")]
    NoSuchMessage,
    /// The store's quota would be exceeded.
    #[error("quota exceeded")]
    OverQuota,
    /// The message is larger than the store accepts.
    #[error("message too large")]
    TooBig,
    /// The mailbox name is not acceptable.
    #[error("invalid mailbox name: {0}")]
    InvalidName(String),
    /// The request is not allowed (e.g. deleting INBOX).
    #[error("{0}")]
    NotPermitted(String),
    /// CREATE asked for a special use that belongs to a standard folder
    /// (RFC 6154 USEATTR).
    #[error("\\{0} is the special use of a standard folder")]
    SpecialUseTaken(String),
    /// A BINARY fetch met a transfer encoding that cannot be undone.
    #[error("unknown content-transfer-encoding")]
    UnknownCte,
    /// The store or a service is unreachable, or the store lives elsewhere;
    /// retrying later may work.
    #[error("mail store unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("internal error: {0}")]
    Internal(String),
}

/// An APPEND in progress: the message's bytes go in chunk by chunk.
pub trait AppendUpload: Send + 'static {
    /// Sends the next chunk of the message.
    fn write(&mut self, chunk: bytes::Bytes) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// Ends the message and waits until it is stored durably.
    fn finish(self) -> impl Future<Output = Result<Appended, ViewError>> + Send;
}

/// The IMAP/POP3 view of the stores. `dir` names the store (its mailbox
/// directory); `folder` is a folder id from [`MailboxView::mailbox_status`];
/// mailbox names are UTF-8 with `/` as separator and `INBOX` for the inbox.
///
/// What a caller may rely on: a read never shows a state older than one
/// this view already answered for the same store (MODSEQs never go back);
/// a write is durable when its future resolves; listings come in ascending
/// UID order.
pub trait MailboxView: Send + Sync + 'static {
    /// An APPEND upload.
    type Upload: AppendUpload;

    /// Every listed mailbox of the store.
    fn list_mailboxes(
        &self,
        dir: &str,
    ) -> impl Future<Output = Result<Vec<MailboxEntry>, ViewError>> + Send;

    /// CREATE `name` and its missing parents; returns the folder and its
    /// UIDVALIDITY. A special-use attribute is refused (they belong to the
    /// store's standard folders).
    fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> impl Future<Output = Result<(FolderId, u32), ViewError>> + Send;

    /// DELETE `name`.
    fn delete_mailbox(
        &self,
        dir: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// RENAME `from` to `to` (INBOX: its messages move to the new mailbox).
    fn rename_mailbox(
        &self,
        dir: &str,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// SUBSCRIBE / UNSUBSCRIBE.
    fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// SELECT/STATUS data of a selectable mailbox.
    fn mailbox_status(
        &self,
        dir: &str,
        name: &str,
    ) -> impl Future<Output = Result<MailboxStatus, ViewError>> + Send;

    /// UIDs, flags, keywords, MODSEQs, sizes and dates of the messages in
    /// `uids`, ascending, in chunks.
    fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
    ) -> impl Future<Output = Result<ViewStream<Vec<MessageEntry>>, ViewError>> + Send;

    /// FETCH metadata, ascending UID.
    fn fetch_metadata(
        &self,
        dir: &str,
        folder: FolderId,
        request: MetadataRequest,
    ) -> impl Future<Output = Result<ViewStream<MessageMetadata>, ViewError>> + Send;

    /// One body section; the first chunk carries the total size.
    fn fetch_section(
        &self,
        dir: &str,
        folder: FolderId,
        request: SectionRequest,
    ) -> impl Future<Output = Result<ViewStream<SectionChunk>, ViewError>> + Send;

    /// STORE flags and keywords.
    fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        change: FlagChange,
    ) -> impl Future<Output = Result<FlagUpdate, ViewError>> + Send;

    /// Starts an APPEND; the bytes follow through the upload.
    fn begin_append(
        &self,
        dir: &str,
        request: AppendRequest,
    ) -> impl Future<Output = Result<Self::Upload, ViewError>> + Send;

    /// COPY into the mailbox `target`, or MOVE when `remove` is set.
    fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        target: &str,
        remove: bool,
    ) -> impl Future<Output = Result<Copied, ViewError>> + Send;

    /// EXPUNGE: removes messages as `which` says.
    fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        which: ExpungeScope,
    ) -> impl Future<Output = Result<Expunged, ViewError>> + Send;

    /// SEARCH.
    fn search(
        &self,
        dir: &str,
        folder: FolderId,
        criteria: SearchKey,
    ) -> impl Future<Output = Result<SearchResult, ViewError>> + Send;

    /// SORT: matching UIDs in sort order.
    fn sort(
        &self,
        dir: &str,
        folder: FolderId,
        order: Vec<SortCriterion>,
        criteria: SearchKey,
    ) -> impl Future<Output = Result<Vec<Uid>, ViewError>> + Send;

    /// THREAD.
    fn thread(
        &self,
        dir: &str,
        folder: FolderId,
        algorithm: ThreadAlgorithm,
        criteria: SearchKey,
    ) -> impl Future<Output = Result<Vec<ThreadTree>, ViewError>> + Send;

    /// What changed in a folder since a MODSEQ; with `vanished`, also the
    /// UIDs expunged since then. The last piece carries HIGHESTMODSEQ.
    fn changes(
        &self,
        dir: &str,
        folder: FolderId,
        since: ModSeq,
        vanished: bool,
    ) -> impl Future<Output = Result<ViewStream<ChangeBatch>, ViewError>> + Send;

    /// The store's quota.
    fn quota(&self, dir: &str) -> impl Future<Output = Result<Quota, ViewError>> + Send;

    /// `\Recent` (RFC 3501 §2.3.2): a folder keeps the highest UID a session
    /// has claimed; the messages above it are recent to the next session
    /// that claims them, and to no other. Returns the marker as it was;
    /// with `claim_up_to`, raises it to that UID first (never lowers it),
    /// so the caller alone sees the UIDs above the returned value and up to
    /// `claim_up_to` as recent. Soft state of the view: a lost marker
    /// starts again at the folder's highest UID (nothing is recent).
    fn claim_recent(
        &self,
        dir: &str,
        folder: FolderId,
        claim_up_to: Option<Uid>,
    ) -> impl Future<Output = Result<Uid, ViewError>> + Send;
}
