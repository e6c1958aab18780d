//! What the view answers and what it is asked: mailboxes, message listings,
//! FETCH metadata and sections, writes and their outcomes.

use crate::flags::Flags;
use crate::uid::{Uid, UidRange, UidSet};
use bytes::Bytes;

/// A folder id of the store (the `folder` of every message request).
pub type FolderId = u64;
/// A store change number; IMAP MODSEQ is the change number.
pub type ModSeq = u64;

/// RFC 6154 special use of a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialUse {
    /// `\Sent`.
    Sent,
    /// `\Drafts`.
    Drafts,
    /// `\Trash`.
    Trash,
    /// `\Junk`.
    Junk,
    /// `\Archive`: a folder the user made and marked as an archive.
    Archive,
}

impl SpecialUse {
    /// The attribute without its backslash.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialUse::Sent => "Sent",
            SpecialUse::Drafts => "Drafts",
            SpecialUse::Trash => "Trash",
            SpecialUse::Junk => "Junk",
            SpecialUse::Archive => "Archive",
        }
    }

    /// The use an attribute (without backslash, any case) names.
    pub fn parse(s: &str) -> Option<SpecialUse> {
        [
            SpecialUse::Sent,
            SpecialUse::Drafts,
            SpecialUse::Trash,
            SpecialUse::Junk,
            SpecialUse::Archive,
        ]
        .into_iter()
        .find(|u| u.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether the use belongs to a standard folder of every store (Sent
    /// Items, Drafts, Deleted Items, Junk Email) rather than to a folder a
    /// user may mark.
    pub fn is_standard(self) -> bool {
        !matches!(self, SpecialUse::Archive)
    }
}

/// One mailbox of a store (LIST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxEntry {
    /// UTF-8 name, `/` as separator, `INBOX` for the inbox.
    pub name: String,
    /// The store folder.
    pub folder: FolderId,
    /// Special-use attribute.
    pub special_use: Option<SpecialUse>,
    /// Subscribed.
    pub subscribed: bool,
    /// Listed mailboxes exist below it.
    pub has_children: bool,
    /// Not selectable (a placeholder parent).
    pub noselect: bool,
    /// No such mailbox: a subscription kept after its mailbox was deleted
    /// (RFC 3501 §6.3.6, RFC 5258 `\NonExistent`); `folder` is 0.
    pub nonexistent: bool,
}

/// SELECT/STATUS data of one mailbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    /// The folder every message request names.
    pub folder: FolderId,
    /// UIDVALIDITY.
    pub uidvalidity: u32,
    /// UIDNEXT.
    pub uidnext: Uid,
    /// Messages.
    pub exists: u32,
    /// Messages without `\Seen`.
    pub unseen: u32,
    /// Messages with `\Deleted`.
    pub deleted: u32,
    /// HIGHESTMODSEQ.
    pub highest_modseq: ModSeq,
    /// Sum of message sizes in octets.
    pub size: u64,
    /// UID of the first message without `\Seen` (0 = none).
    pub first_unseen_uid: Uid,
    /// Highest UID present (0 = empty).
    pub highest_uid: Uid,
}

/// One message of a listing: what the store keeps of it for IMAP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageEntry {
    /// Its UID.
    pub uid: Uid,
    /// System flags.
    pub flags: Flags,
    /// Keywords (IMAP user flags).
    pub keywords: Vec<String>,
    /// MODSEQ of its last change.
    pub modseq: ModSeq,
    /// Size of its RFC 5322 form in octets.
    pub size: u64,
    /// Internal date, Unix seconds.
    pub internal_date: i64,
}

/// Which FETCH items a metadata request wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetadataItems(u32);

impl MetadataItems {
    /// Nothing beyond the listing entry.
    pub const NONE: MetadataItems = MetadataItems(0);
    /// FLAGS (always in the entry; kept for callers that name it).
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
    /// Every item.
    pub const ALL: MetadataItems = MetadataItems(255);

    /// The items of `bits`; unknown bits dropped.
    pub const fn from_bits(bits: u32) -> MetadataItems {
        MetadataItems(bits & MetadataItems::ALL.0)
    }

    /// The bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every item of `other` is wanted.
    pub const fn contains(self, other: MetadataItems) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any item of `other` is wanted.
    pub const fn intersects(self, other: MetadataItems) -> bool {
        self.0 & other.0 != 0
    }

    /// Adds `other`.
    pub fn insert(&mut self, other: MetadataItems) {
        self.0 |= other.0;
    }

    /// Whether only items of `allowed` are wanted.
    pub const fn only(self, allowed: MetadataItems) -> bool {
        self.0 & !allowed.0 == 0
    }

    /// Whether an item derived from the message's bytes is wanted.
    pub const fn needs_digest(self) -> bool {
        self.intersects(MetadataItems(
            MetadataItems::ENVELOPE.0
                | MetadataItems::BODYSTRUCTURE.0
                | MetadataItems::BODY.0
                | MetadataItems::HEADER_FIELDS.0,
        ))
    }
}

/// A FETCH of metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataRequest {
    /// Which messages.
    pub uids: UidSet,
    /// Which items.
    pub items: MetadataItems,
    /// For HEADER_FIELDS: the field names.
    pub header_fields: Vec<String>,
    /// HEADER.FIELDS.NOT semantics.
    pub header_fields_not: bool,
    /// CHANGEDSINCE: only messages changed after it (0 = every message).
    pub changed_since: ModSeq,
}

/// FETCH data of one message other than body sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageMetadata {
    /// UID, flags, keywords, MODSEQ, size, internal date.
    pub entry: MessageEntry,
    /// Rendered ENVELOPE, when asked for.
    pub envelope: Vec<u8>,
    /// Rendered BODYSTRUCTURE, when asked for.
    pub bodystructure: Vec<u8>,
    /// Rendered BODY, when asked for.
    pub body: Vec<u8>,
    /// The requested header fields' raw lines, with the blank line.
    pub header_fields: Vec<u8>,
}

/// What of a part a section names (RFC 3501 §6.4.5).
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

/// A body section of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionRequest {
    /// The message.
    pub uid: Uid,
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
    /// First chunk only: bytes that follow in total (this chunk's included).
    pub total_size: u64,
    /// The bytes.
    pub data: Bytes,
}

/// What a flag change did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagUpdate {
    /// Every message of the set after the change.
    pub updated: Vec<MessageEntry>,
    /// UIDs left alone because they changed after UNCHANGEDSINCE.
    pub modified: Vec<UidRange>,
}

/// The start of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    /// Destination mailbox (UTF-8 name).
    pub mailbox: String,
    /// System flags.
    pub flags: Flags,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Internal date, Unix seconds (0 = now).
    pub internal_date: i64,
    /// Announced size; the store checks it against the bytes it receives.
    pub size: u64,
}

/// Where an appended message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// UIDVALIDITY of the mailbox.
    pub uidvalidity: u32,
    /// The new message's UID.
    pub uid: Uid,
}

/// What COPY or MOVE did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    /// UIDVALIDITY of the target.
    pub target_uidvalidity: u32,
    /// (source UID, target UID) pairs, ascending by source UID.
    pub pairs: Vec<(Uid, Uid)>,
    /// The change number after the copy (MOVE: after the source removal).
    pub modseq: ModSeq,
}

/// Which messages an expunge removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpungeScope {
    /// Every message with `\Deleted` (EXPUNGE, CLOSE).
    Deleted,
    /// Those of these UIDs that have `\Deleted` (UID EXPUNGE).
    DeletedAmong(UidSet),
    /// These UIDs, `\Deleted` or not (POP3's DELE, applied at QUIT).
    Outright(UidSet),
}

/// What EXPUNGE removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expunged {
    /// Removed UIDs, ascending.
    pub uids: Vec<Uid>,
    /// The change number after the removal.
    pub modseq: ModSeq,
}

/// A piece of "what changed since MODSEQ n".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeBatch {
    /// Messages added or changed since, as they are now.
    pub changed: Vec<MessageEntry>,
    /// UIDs expunged since (only when asked for).
    pub vanished: Vec<UidRange>,
    /// Last piece only: the mailbox's HIGHESTMODSEQ (0 elsewhere).
    pub highest_modseq: ModSeq,
}

/// Storage and message quota of a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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

/// A hint that a store changed. Never the data: a watcher catches up
/// through [`crate::MailboxView::changes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreEvent {
    /// Something changed in this folder (0: somewhere in the store).
    Changed {
        /// The folder id.
        folder: FolderId,
        /// The change number (MODSEQ) of the commit; 0 when unknown.
        change_number: ModSeq,
    },
    /// Events may have been missed: every watcher must catch up.
    Resync,
}
