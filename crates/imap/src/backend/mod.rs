//! Everything a session needs from the rest of groxide, as one trait:
//! authentication (the directory), the IMAP view of a store (midb) and
//! change hints (groxide-event). Sessions are generic over it, so the
//! whole protocol runs against [`memory::MemoryBackend`] in tests and
//! against the real services in the daemon.

pub mod events;
pub mod memory;
pub mod services;
mod types;

pub use types::*;

use futures_util::stream::BoxStream;
use std::future::Future;
use std::net::IpAddr;
use tokio::sync::broadcast;

/// A stream of backend results (bounded memory for any folder size).
pub type BackendStream<T> = BoxStream<'static, Result<T, BackendError>>;

/// A subscription to a store's change hints.
pub type EventWatch = broadcast::Receiver<StoreEvent>;

/// Why a backend request failed. The session maps each to a response code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The mailbox does not exist.
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
    /// A BINARY fetch met a transfer encoding that cannot be undone.
    #[error("unknown content-transfer-encoding")]
    UnknownCte,
    /// The store or a service is unreachable; retrying later may work.
    #[error("mail store unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a login was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// Unknown name or wrong password.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failures from this address or for this account.
    #[error("too many failed logins; try again later")]
    Blocked,
    /// The account may not log in.
    #[error("account disabled")]
    AccountDisabled,
    /// The account may not use IMAP.
    #[error("IMAP access not permitted for this account")]
    ProtocolNotPermitted,
    /// The directory could not be asked.
    #[error("authentication service unavailable: {0}")]
    Unavailable(String),
}

/// An APPEND in progress: message bytes go in chunk by chunk.
pub trait AppendUpload: Send + 'static {
    /// Sends the next chunk of the message.
    fn write(
        &mut self,
        chunk: bytes::Bytes,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Ends the message and waits until it is stored.
    fn finish(self) -> impl Future<Output = Result<Appended, BackendError>> + Send;
}

/// The services behind a session. `dir` is the store of the logged-in
/// account; `folder` a folder id from [`Backend::mailbox_status`]; mailbox
/// names are UTF-8 with `/` as separator.
pub trait Backend: Send + Sync + 'static {
    /// An APPEND upload.
    type Upload: AppendUpload;

    /// Checks a login for IMAP from `client`.
    fn authenticate(
        &self,
        login: &str,
        password: &str,
        client: IpAddr,
    ) -> impl Future<Output = Result<Account, AuthFailure>> + Send;

    /// Every mailbox of the store.
    fn list_mailboxes(
        &self,
        dir: &str,
    ) -> impl Future<Output = Result<Vec<MailboxEntry>, BackendError>> + Send;

    /// CREATE.
    fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<&str>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// DELETE.
    fn delete_mailbox(
        &self,
        dir: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// RENAME (INBOX: its messages move to the new mailbox).
    fn rename_mailbox(
        &self,
        dir: &str,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// SUBSCRIBE / UNSUBSCRIBE.
    fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// SELECT/STATUS data by name.
    fn mailbox_status(
        &self,
        dir: &str,
        name: &str,
    ) -> impl Future<Output = Result<MailboxStatus, BackendError>> + Send;

    /// UIDs, flags and MODSEQs of the messages in `uids` (empty = all),
    /// ascending, in chunks.
    fn list_messages(
        &self,
        dir: &str,
        folder: u64,
        uids: Vec<UidRange>,
        with_size_and_date: bool,
    ) -> impl Future<Output = Result<BackendStream<MessageListChunk>, BackendError>> + Send;

    /// FETCH metadata, ascending UID.
    fn fetch_metadata(
        &self,
        dir: &str,
        folder: u64,
        request: MetadataRequest,
    ) -> impl Future<Output = Result<BackendStream<MessageMetadata>, BackendError>> + Send;

    /// One body section; the first chunk carries the total size.
    fn fetch_section(
        &self,
        dir: &str,
        folder: u64,
        request: SectionRequest,
    ) -> impl Future<Output = Result<BackendStream<SectionChunk>, BackendError>> + Send;

    /// STORE.
    fn store_flags(
        &self,
        dir: &str,
        folder: u64,
        request: StoreRequest,
    ) -> impl Future<Output = Result<StoreResult, BackendError>> + Send;

    /// Starts an APPEND; the bytes follow through the upload.
    fn begin_append(
        &self,
        dir: &str,
        request: AppendRequest,
    ) -> impl Future<Output = Result<Self::Upload, BackendError>> + Send;

    /// COPY, or MOVE when `remove` is set.
    fn copy_messages(
        &self,
        dir: &str,
        folder: u64,
        uids: Vec<UidRange>,
        target: &str,
        remove: bool,
    ) -> impl Future<Output = Result<CopyResult, BackendError>> + Send;

    /// EXPUNGE the `\Deleted` messages (only those in `uids` when given).
    fn expunge(
        &self,
        dir: &str,
        folder: u64,
        uids: Option<Vec<UidRange>>,
    ) -> impl Future<Output = Result<ExpungeResult, BackendError>> + Send;

    /// SEARCH.
    fn search(
        &self,
        dir: &str,
        folder: u64,
        criteria: SearchKey,
    ) -> impl Future<Output = Result<SearchResult, BackendError>> + Send;

    /// SORT: matching UIDs in sort order.
    fn sort(
        &self,
        dir: &str,
        folder: u64,
        order: Vec<SortCriterion>,
        criteria: SearchKey,
    ) -> impl Future<Output = Result<Vec<u32>, BackendError>> + Send;

    /// THREAD.
    fn thread(
        &self,
        dir: &str,
        folder: u64,
        algorithm: ThreadAlgorithm,
        criteria: SearchKey,
    ) -> impl Future<Output = Result<Vec<ThreadTree>, BackendError>> + Send;

    /// What changed in a folder since a MODSEQ; with `vanished`, also the
    /// UIDs expunged since then. The last chunk carries HIGHESTMODSEQ.
    fn changes(
        &self,
        dir: &str,
        folder: u64,
        since: u64,
        vanished: bool,
    ) -> impl Future<Output = Result<BackendStream<ChangesChunk>, BackendError>> + Send;

    /// The store's quota.
    fn quota(&self, dir: &str) -> impl Future<Output = Result<Quota, BackendError>> + Send;

    /// Subscribes to change hints of the store; returns once the
    /// subscription is live, so no change after the return is missed.
    fn watch(&self, dir: &str) -> impl Future<Output = Result<EventWatch, BackendError>> + Send;
}
