//! What a committed write changed, for notifications (groxide-event) and
//! callers that want to know without asking again.

use crate::ids::{ChangeNumber, FolderId, ImapUid};

/// The kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Messages arrived in a folder (insert, copy, move target).
    MessageAdded,
    /// Flags, keywords or properties of messages changed.
    MessageChanged,
    /// Messages left a folder (delete, expunge, move source).
    MessageRemoved,
    /// A folder was created.
    FolderCreated,
    /// A folder was renamed, moved or its properties changed.
    FolderChanged,
    /// A folder was deleted.
    FolderDeleted,
}

/// One change of a committed write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The folder concerned.
    pub folder: FolderId,
    /// What happened.
    pub kind: ChangeKind,
    /// UIDs of the messages concerned (empty for folder events).
    pub uids: Vec<ImapUid>,
    /// The highest change number the write gave these objects.
    pub cn: ChangeNumber,
}

/// Told about every commit of every store (the daemon publishes events).
/// Runs on the store's writer thread after the commit: it must not block.
pub trait CommitObserver: Send + Sync {
    /// `events` of one committed write batch of the store at `dir`.
    fn committed(&self, dir: &std::path::Path, events: &[ChangeEvent]);
}
