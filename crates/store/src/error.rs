//! Errors of the store engine. Callers map the kinds to their protocol's
//! answers (groxide-exmdb: gRPC codes with a stable reason).

use crate::ids::{FolderId, ImapUid, MessageId};
use std::path::PathBuf;

/// What went wrong in a store operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No store exists at the directory.
    #[error("no store at {0}")]
    NoSuchStore(PathBuf),
    /// A store of the other type already exists at the directory.
    #[error("a {existing} store already exists at {dir}")]
    StoreTypeMismatch {
        /// The directory.
        dir: PathBuf,
        /// The type found there.
        existing: &'static str,
    },
    /// The database's schema is not the one this build reads; a reader
    /// never migrates (the store's writer does, when it opens the store).
    #[error("store schema version {found}, this build reads version {expected}")]
    SchemaMismatch {
        /// The database's version.
        found: u32,
        /// This build's version.
        expected: u32,
    },
    /// A message created as properties has no MIME form yet; the store's
    /// writer generates it on first need.
    #[error("message {0} has no MIME form yet")]
    NoMimeYet(MessageId),
    /// No folder with that id (or it was deleted).
    #[error("no folder {0}")]
    NoSuchFolder(FolderId),
    /// No folder has that well-known role.
    #[error("no folder with role {0}")]
    NoSuchRole(String),
    /// No message with that id (or it was deleted).
    #[error("no message {0}")]
    NoSuchMessage(MessageId),
    /// No message with that UID in the folder.
    #[error("no message with UID {uid} in folder {folder}")]
    NoSuchUid {
        /// The folder.
        folder: FolderId,
        /// The UID.
        uid: ImapUid,
    },
    /// A sibling folder already has that name.
    #[error("folder {parent} already has a subfolder named {name:?}")]
    FolderExists {
        /// The parent folder.
        parent: FolderId,
        /// The name.
        name: String,
    },
    /// The write would take the store past its quota.
    #[error("quota exceeded: {needed} bytes needed, {used} of {quota} used")]
    QuotaExceeded {
        /// Bytes the write adds.
        needed: u64,
        /// Bytes in use.
        used: u64,
        /// The quota.
        quota: u64,
    },
    /// A message is larger than the store accepts.
    #[error("message of {size} bytes is larger than the limit of {max}")]
    TooLarge {
        /// Size of the message (at least; streaming stops at the limit).
        size: u64,
        /// The limit (`mail_max_length`).
        max: u64,
    },
    /// The store holds as many messages as it may.
    #[error("the store holds {count} messages, the most allowed")]
    TooManyMessages {
        /// Messages in the store.
        count: u64,
    },
    /// The request is malformed (bad name, bad property type, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A conditional write found the item not as the caller expected
    /// (If-Match on a changed item, If-None-Match on an existing one).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// A sync token older than the folder's compacted tombstones: the
    /// changes since cannot be told; the caller must sync afresh.
    #[error("sync token too old: {0}")]
    SyncTokenTooOld(String),
    /// The operation is not allowed on this object (e.g. deleting a standard folder).
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The transaction this write was part of could not commit.
    #[error("commit failed: {0}")]
    CommitFailed(String),
    /// Stored data is not what the engine wrote.
    #[error("store data is corrupt: {0}")]
    Corrupt(String),
    /// The store was closed while the request waited.
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> StoreError {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
