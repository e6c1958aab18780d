//! What midb asks the store's writer to do. Reads never come here: midb
//! reads the store's SQLite file and content files directly
//! ([`groxide_store::StoreReader`]); every write goes to the one writer of
//! the store, groxide-exmdb ([`crate::exmdb_writes::ExmdbWrites`]), so the
//! store keeps exactly one writer.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use groxide_mailview::{FlagChange, FlagUpdate, Flags, FolderId, Uid, UidSet, ViewError};
use std::future::Future;

/// The bytes of a message being appended; an error item aborts the append
/// (nothing is stored).
pub type ByteStream = BoxStream<'static, Result<Bytes, ViewError>>;

/// A folder the writer made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedFolder {
    /// Its id.
    pub id: FolderId,
    /// Its UIDVALIDITY.
    pub uidvalidity: u32,
}

/// The header of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMeta {
    /// Target folder.
    pub folder: FolderId,
    /// System flags to set.
    pub flags: Flags,
    /// Keywords to set.
    pub keywords: Vec<String>,
    /// Internal date, Unix seconds (0 = now).
    pub internal_date: i64,
    /// Announced size; the writer checks it against the bytes it receives.
    pub size: u64,
}

/// Where a copy or move put the messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyMap {
    /// The target folder's UIDVALIDITY.
    pub target_uidvalidity: u32,
    /// (source UID, target UID), ascending by source UID.
    pub pairs: Vec<(Uid, Uid)>,
}

/// The writes of the IMAP/POP3 view, made by the store's one writer. Each
/// returns once the change is durable.
pub trait StoreWrites: Send + Sync + 'static {
    /// Creates a mail folder (container class IPF.Note) under `parent`.
    fn create_folder(
        &self,
        dir: &str,
        parent: FolderId,
        name: &str,
    ) -> impl Future<Output = Result<CreatedFolder, ViewError>> + Send;

    /// Moves and/or renames a folder; its subtree comes along.
    fn move_folder(
        &self,
        dir: &str,
        folder: FolderId,
        new_parent: FolderId,
        new_name: &str,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// Deletes a folder and its messages.
    fn delete_folder(
        &self,
        dir: &str,
        folder: FolderId,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// Sets the folder's IMAP subscription (a folder property, so that it
    /// lives in the store).
    fn set_subscribed(
        &self,
        dir: &str,
        folder: FolderId,
        subscribed: bool,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// Keeps the names subscribed without a mailbox (a subscribed mailbox
    /// was deleted) on the IPM_SUBTREE folder `root`; empty removes them.
    fn set_dangling_subscriptions(
        &self,
        dir: &str,
        root: FolderId,
        names: Vec<String>,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// Marks a folder with a special use (or clears it): a folder property,
    /// so that it lives in the store.
    fn set_special_use(
        &self,
        dir: &str,
        folder: FolderId,
        special_use: Option<groxide_mailview::SpecialUse>,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// Changes flags and keywords of the messages in `uids` (no `*`).
    fn set_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        change: &FlagChange,
    ) -> impl Future<Output = Result<FlagUpdate, ViewError>> + Send;

    /// Inserts a message from a stream of its bytes.
    fn append(
        &self,
        dir: &str,
        meta: AppendMeta,
        body: ByteStream,
    ) -> impl Future<Output = Result<groxide_mailview::Appended, ViewError>> + Send;

    /// Copies (or moves) messages to another folder.
    fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        target: FolderId,
        remove_source: bool,
    ) -> impl Future<Output = Result<CopyMap, ViewError>> + Send;

    /// Removes these messages; returns the UIDs removed, ascending.
    fn delete_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
    ) -> impl Future<Output = Result<Vec<Uid>, ViewError>> + Send;

    /// Has the writer build and cache the MIME form of a message created as
    /// properties (EWS, Outlook), which a reader cannot do.
    fn make_mime(
        &self,
        dir: &str,
        message_id: u64,
    ) -> impl Future<Output = Result<(), ViewError>> + Send;

    /// Has the writer open the store, migrating its schema if it is older
    /// than this build's (a reader never migrates).
    fn open_store(&self, dir: &str) -> impl Future<Output = Result<(), ViewError>> + Send;
}
