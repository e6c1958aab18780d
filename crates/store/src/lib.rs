//! groxide-store: the mailbox store engine.
//!
//! One store per mailbox directory (`dir`):
//!
//! ```text
//! <dir>/exmdb/exchange.sqlite3   folders, messages, properties, UIDs, change numbers
//! <dir>/cid/<xx>/<sha256 hex>    content files: raw messages, attachment data
//! <dir>/tmp/                     staging for content files
//! ```
//!
//! Invariants:
//! - **One writer per store.** [`StoreManager`] opens a store at most once;
//!   its writer thread runs every write. Writes queued while a commit is in
//!   progress share the next transaction and its one fsync (group commit).
//!   Reads run on pooled read connections beside the writer (WAL).
//! - **Durable before acknowledged.** A write returns after its content
//!   files are fsynced and renamed into `cid/` (directory fsynced) and its
//!   transaction committed with `synchronous=FULL`.
//! - **UIDs are never reused.** A message gets its UID in the transaction that
//!   puts it into a folder (insert, copy, move); UIDs rise strictly per
//!   folder; UIDVALIDITY is never reused within a store.
//! - **One change number per store.** Every change of a folder or message
//!   takes the next CN (= IMAP MODSEQ); removals leave tombstones, so
//!   [`Store::changes_since`] replays any state forward.
//! - **Original bytes are kept.** MIME is stored verbatim; derived
//!   properties are best effort and never make the store refuse mail.
//! - **Content files are content-addressed**, shared within a store,
//!   reference-counted, removed after the commit that drops the last
//!   reference; [`Store::purge_content`] sweeps orphans.
//!
//! The API is blocking (threads, no async runtime, no network): async
//! callers use `spawn_blocking`.

mod content;
mod derive;
pub mod error;
pub mod events;
pub mod flags;
pub mod folder_names;
mod folder_writes;
pub mod folders;
pub mod freebusy;
pub mod ids;
mod item_codec;
pub mod items;
pub mod limits;
pub mod mail_tombstones;
mod manager;
mod message_copies;
mod message_inserts;
mod message_reads;
mod message_removals;
mod message_updates;
pub mod messages;
pub mod named;
pub mod props;
#[cfg(test)]
mod query_plans;
mod reads;
mod schema;
mod standard_folders;
mod store;
mod store_writes;
pub mod sync;
pub mod tags;
mod tx;
mod writer;

pub use content::{ContentWriter, StagedContent, StoreLayout};
pub use error::{Result, StoreError};
pub use events::{ChangeEvent, ChangeKind, CommitObserver};
pub use flags::{FlagOp, ImapFlags};
pub use folders::{FolderInfo, FolderRef, FolderRole, ImapStatus, StoreKind};
pub use ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId, UidRange, UidValidity};
pub use limits::StoreLimits;
pub use manager::{ManagerSettings, StoreManager};
pub use messages::{
    AttachmentRecord, ContentOrigin, CopyOutcome, FlagsOutcome, InsertedMessage, MapiAttachment,
    MapiMessage, MessageChange, MessageEntry, MessageRecord, MessageSelection, NewMessage,
    RemovedMessage,
};
pub use props::{Prop, PropTag, PropType, PropValue};
pub use schema::SCHEMA_VERSION;
pub use store::{
    HierarchyChanges, MessageContent, NewStore, OpenOptions, ReadTxn, Store, StoreInfo, StoreReader,
};
pub use writer::{MAX_BATCH, SharedLimits, WriterCounts};
