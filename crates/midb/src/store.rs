//! What midb needs from the mailbox store (groxide-exmdb): the folder tree
//! with each folder's IMAP identity, message listings (UID, flags, keywords,
//! MODSEQ, size, internal date, content hash), changes by change number,
//! message bytes, and the writes IMAP and POP3 pass through.
//!
//! midb never invents UIDs, flags or MODSEQs: everything here comes from the
//! store, so midb.sqlite3 only ever holds what can be derived again.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::future::Future;
use std::ops::RangeInclusive;

/// A folder id of the store.
pub type FolderId = u64;
/// An IMAP UID, assigned by the store.
pub type Uid = u32;
/// A store change number; IMAP MODSEQ is the change number.
pub type ChangeNumber = u64;

/// IMAP system flags as the bits of the midb contract (`FlagBit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(pub u32);

impl Flags {
    /// No flag.
    pub const NONE: Flags = Flags(0);
    /// `\Seen`.
    pub const SEEN: Flags = Flags(1);
    /// `\Answered`.
    pub const ANSWERED: Flags = Flags(2);
    /// `\Flagged`.
    pub const FLAGGED: Flags = Flags(4);
    /// `\Deleted`.
    pub const DELETED: Flags = Flags(8);
    /// `\Draft`.
    pub const DRAFT: Flags = Flags(16);
    /// `$Forwarded`.
    pub const FORWARDED: Flags = Flags(32);
    /// Every bit this contract knows.
    pub const ALL: Flags = Flags(63);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no bit of `other` is set.
    pub fn lacks(self, other: Flags) -> bool {
        self.0 & other.0 == 0
    }

    /// These flags with `other` added.
    pub fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// These flags with `other` removed.
    pub fn without(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }
}

/// A set of UIDs as inclusive ranges. `u32::MAX` as the end of a range is
/// "up to the highest UID" (IMAP `*`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UidSet {
    ranges: Vec<RangeInclusive<Uid>>,
}

impl UidSet {
    /// Every UID.
    pub fn all() -> UidSet {
        UidSet {
            ranges: vec![1..=Uid::MAX],
        }
    }

    /// The set of these ranges (each given either way round).
    pub fn from_ranges(ranges: impl IntoIterator<Item = (Uid, Uid)>) -> UidSet {
        let mut v: Vec<RangeInclusive<Uid>> = ranges
            .into_iter()
            .map(|(a, b)| a.min(b)..=a.max(b))
            .collect();
        v.sort_by_key(|r| *r.start());
        let mut merged: Vec<RangeInclusive<Uid>> = Vec::with_capacity(v.len());
        for r in v {
            match merged.last_mut() {
                Some(last) if *r.start() <= last.end().saturating_add(1) => {
                    if r.end() > last.end() {
                        *last = *last.start()..=*r.end();
                    }
                }
                _ => merged.push(r),
            }
        }
        UidSet { ranges: merged }
    }

    /// The set of single UIDs.
    pub fn from_uids(uids: impl IntoIterator<Item = Uid>) -> UidSet {
        UidSet::from_ranges(uids.into_iter().map(|u| (u, u)))
    }

    /// Whether `uid` is in the set.
    pub fn contains(&self, uid: Uid) -> bool {
        let i = self.ranges.partition_point(|r| *r.end() < uid);
        self.ranges.get(i).is_some_and(|r| r.contains(&uid))
    }

    /// The ranges, ascending and disjoint.
    pub fn ranges(&self) -> &[RangeInclusive<Uid>] {
        &self.ranges
    }

    /// Whether the set holds no UID.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether a range reaches "up to the highest UID".
    pub fn is_open_ended(&self) -> bool {
        self.ranges.last().is_some_and(|r| *r.end() == Uid::MAX)
    }

    /// IMAP's rule for `n:*` when `n` is past the highest UID: the range
    /// still names the highest UID (RFC 3501 §6.4.8, `*:n` = `n:*`).
    pub fn with_star_resolved(&self, highest_uid: Uid) -> UidSet {
        if highest_uid == 0 || !self.is_open_ended() {
            return self.clone();
        }
        UidSet::from_ranges(self.ranges.iter().map(|r| {
            if *r.end() == Uid::MAX && *r.start() > highest_uid {
                (highest_uid, highest_uid)
            } else {
                (*r.start(), *r.end())
            }
        }))
    }
}

/// The standard folders midb treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FolderRole {
    /// Root of the visible tree (Top of Information Store).
    IpmSubtree,
    /// Inbox: IMAP `INBOX`.
    Inbox,
    /// Outbox.
    Outbox,
    /// Sent Items (`\Sent`).
    SentItems,
    /// Deleted Items (`\Trash`).
    DeletedItems,
    /// Drafts (`\Drafts`).
    Drafts,
    /// Junk Email (`\Junk`).
    JunkEmail,
    /// Sync Issues and its subtree: never shown over IMAP.
    SyncIssues,
}

/// One folder of the store's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// The folder's id.
    pub id: FolderId,
    /// Its parent's id (0 for the root).
    pub parent: FolderId,
    /// PR_DISPLAY_NAME.
    pub display_name: String,
    /// PR_CONTAINER_CLASS ("" or "IPF.Note…" for mail).
    pub container_class: String,
    /// The standard folder this is, if any.
    pub role: Option<FolderRole>,
    /// PR_ATTR_HIDDEN: not shown to clients.
    pub hidden: bool,
    /// The folder's UIDVALIDITY.
    pub uidvalidity: u32,
}

/// Counters of one folder, as SELECT and STATUS report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FolderStatus {
    /// UIDVALIDITY.
    pub uidvalidity: u32,
    /// UIDNEXT.
    pub uidnext: Uid,
    /// Messages in the folder.
    pub exists: u32,
    /// Messages without `\Seen`.
    pub unseen: u32,
    /// HIGHESTMODSEQ: the highest change number of any message in the folder.
    pub highest_modseq: ChangeNumber,
    /// Sum of message sizes in octets.
    pub size: u64,
    /// Messages with `\Deleted`, when the store counts them.
    pub deleted: Option<u32>,
    /// Lowest UID without `\Seen` (0 = none), when the store knows it.
    pub first_unseen_uid: Option<Uid>,
    /// Highest UID present (0 = empty folder), when the store knows it.
    pub highest_uid: Option<Uid>,
}

/// The content hash the store names a message's bytes by. Equal hashes mean
/// equal bytes, so everything derived from the bytes can be cached under it.
/// Empty when the store has no MIME form yet (derived data is then not cached).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct ContentHash(pub String);

impl ContentHash {
    /// Whether the store gave no hash.
    pub fn is_unknown(&self) -> bool {
        self.0.is_empty()
    }
}

/// One message of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEntry {
    /// Its UID.
    pub uid: Uid,
    /// System flags.
    pub flags: Flags,
    /// Keywords (IMAP user flags).
    pub keywords: Vec<String>,
    /// Change number of its last change.
    pub modseq: ChangeNumber,
    /// Size of its RFC 5322 form in octets.
    pub size: u64,
    /// Internal date, Unix seconds.
    pub internal_date: i64,
    /// The hash of its RFC 5322 bytes.
    pub content: ContentHash,
}

/// What changed in a folder since a change number (one chunk of a stream).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeBatch {
    /// Messages added or changed since, with their current state.
    pub changed: Vec<MessageEntry>,
    /// UIDs removed since.
    pub vanished: Vec<Uid>,
    /// The folder's highest change number (meaningful in the last chunk).
    pub highest_modseq: ChangeNumber,
}

/// How a flag change combines with the present flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagMode {
    /// Set exactly these flags and keywords.
    Replace,
    /// Add these.
    Add,
    /// Remove these.
    Remove,
}

/// A flag change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagChange {
    /// Replace, add or remove.
    pub mode: FlagMode,
    /// System flags.
    pub flags: Flags,
    /// Keywords.
    pub keywords: Vec<String>,
    /// CONDSTORE UNCHANGEDSINCE (0 = unconditional).
    pub unchanged_since: ChangeNumber,
}

/// The result of a flag change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlagUpdate {
    /// Every message of the range after the change.
    pub updated: Vec<MessageEntry>,
    /// UIDs left alone because they changed after `unchanged_since`.
    pub modified: Vec<Uid>,
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
    /// Announced size; the store checks it against the bytes it receives.
    pub size: u64,
}

/// Where an appended message landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The target folder's UIDVALIDITY.
    pub uidvalidity: u32,
    /// The new message's UID.
    pub uid: Uid,
}

/// The result of a copy or move.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Copied {
    /// The target folder's UIDVALIDITY.
    pub target_uidvalidity: u32,
    /// (source UID, target UID) pairs, ascending by source UID.
    pub pairs: Vec<(Uid, Uid)>,
    /// The change number after the source removal (move) or the copy.
    pub modseq: ChangeNumber,
}

/// The result of an expunge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expunged {
    /// UIDs removed, ascending.
    pub uids: Vec<Uid>,
    /// The change number after the removal.
    pub modseq: ChangeNumber,
}

/// Quota usage of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    /// Octets used.
    pub used_bytes: u64,
    /// Limit in octets (0 = none).
    pub limit_bytes: u64,
    /// Messages stored.
    pub messages: u64,
    /// Limit of messages (0 = none).
    pub message_limit: u64,
}

/// Why a store call failed. The variants are the store's stable reasons.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// No store at that dir.
    #[error("no store at {0}")]
    NoSuchStore(String),
    /// The folder does not exist.
    #[error("no such folder: {0}")]
    NoSuchFolder(String),
    /// The message does not exist.
    #[error("no such message: {0}")]
    NoSuchMessage(String),
    /// A folder of that name already exists there.
    #[error("folder exists: {0}")]
    FolderExists(String),
    /// The write would go past the quota.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The message is larger than allowed.
    #[error("too large: {0}")]
    TooLarge(String),
    /// Well-formed but not allowed.
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// The store cannot be reached now; retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else, described.
    #[error("store error: {0}")]
    Other(String),
}

/// A stream of results from the store.
pub type StoreStream<T> = BoxStream<'static, Result<T, StoreError>>;

/// The mailbox store as midb uses it. Implemented over the routed exmdb
/// client in the daemon and by an in-memory store in tests.
pub trait Store: Send + Sync + 'static {
    /// Every folder of the store.
    fn folders(
        &self,
        dir: &str,
    ) -> impl Future<Output = Result<Vec<FolderInfo>, StoreError>> + Send;

    /// Creates a mail folder (container class IPF.Note) under `parent`.
    fn create_folder(
        &self,
        dir: &str,
        parent: FolderId,
        name: &str,
    ) -> impl Future<Output = Result<FolderInfo, StoreError>> + Send;

    /// Moves and/or renames a folder; its subtree comes along.
    fn move_folder(
        &self,
        dir: &str,
        folder: FolderId,
        new_parent: FolderId,
        new_name: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a folder and its messages (it must have no subfolders).
    fn delete_folder(
        &self,
        dir: &str,
        folder: FolderId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Those of `folders` the user unsubscribed from. Subscriptions live in
    /// the store (a folder property) so that they survive midb.sqlite3.
    fn unsubscribed(
        &self,
        dir: &str,
        folders: Vec<FolderId>,
    ) -> impl Future<Output = Result<std::collections::HashSet<FolderId>, StoreError>> + Send;

    /// Sets the folder's IMAP subscription.
    fn set_subscribed(
        &self,
        dir: &str,
        folder: FolderId,
        subscribed: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The folder's counters.
    fn folder_status(
        &self,
        dir: &str,
        folder: FolderId,
    ) -> impl Future<Output = Result<FolderStatus, StoreError>> + Send;

    /// The messages whose UIDs are in `uids`, ascending, in chunks.
    fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
    ) -> StoreStream<Vec<MessageEntry>>;

    /// What changed in the folder after `since` (0 = everything present).
    fn changes(&self, dir: &str, folder: FolderId, since: ChangeNumber)
    -> StoreStream<ChangeBatch>;

    /// Bytes `range` (clamped to the message) of a message's RFC 5322 form.
    fn read_message(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        range: std::ops::Range<u64>,
    ) -> StoreStream<Bytes>;

    /// Like [`Store::read_message`], and first the size of the whole
    /// message (what a peek at the whole message needs, without a listing).
    fn read_message_sized(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        range: std::ops::Range<u64>,
    ) -> impl Future<Output = Result<(u64, StoreStream<Bytes>), StoreError>> + Send;

    /// Changes flags and keywords of the messages in `uids`.
    fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        change: &FlagChange,
    ) -> impl Future<Output = Result<FlagUpdate, StoreError>> + Send;

    /// Inserts a message from a stream of its bytes.
    fn append(
        &self,
        dir: &str,
        meta: AppendMeta,
        body: StoreStream<Bytes>,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;

    /// Copies (or moves) messages to another folder.
    fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        target: FolderId,
        remove_source: bool,
    ) -> impl Future<Output = Result<Copied, StoreError>> + Send;

    /// Removes messages: those in `uids` (all when `None`) that have
    /// `\Deleted`, or all of them when `unconditional`.
    fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        uids: Option<&UidSet>,
        unconditional: bool,
    ) -> impl Future<Output = Result<Expunged, StoreError>> + Send;

    /// Quota usage.
    fn quota(&self, dir: &str) -> impl Future<Output = Result<Quota, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_merge_and_answer_membership() {
        let s = UidSet::from_ranges([(5, 7), (1, 2), (3, 3), (10, 8)]);
        assert_eq!(s.ranges(), &[1..=3, 5..=10]);
        for (uid, inside) in [
            (0, false),
            (1, true),
            (3, true),
            (4, false),
            (5, true),
            (10, true),
            (11, false),
        ] {
            assert_eq!(s.contains(uid), inside, "uid {uid}");
        }
    }

    #[test]
    fn star_past_the_highest_uid_still_names_the_highest() {
        let s = UidSet::from_ranges([(50, Uid::MAX)]);
        assert_eq!(s.with_star_resolved(10).ranges(), &[10..=10]);
        assert_eq!(s.with_star_resolved(60).ranges(), &[50..=Uid::MAX]);
        let plain = UidSet::from_ranges([(50, 60)]);
        assert_eq!(plain.with_star_resolved(10), plain);
    }
}
