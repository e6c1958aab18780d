//! Message rows: the types callers see, the hot listing queries, and the row
//! helpers the operations share. The operations live beside this file and are
//! re-exported here: `message_inserts` (from MIME or MAPI), `message_updates`
//! (flags, properties), `message_copies`, `message_removals` (move, delete,
//! purge) and `message_reads`. Every one runs inside the writer's transaction
//! ([`WriteCtx`](crate::tx::WriteCtx)) or on a read connection.

use crate::error::{Result, StoreError};
use crate::flags::{self, ImapFlags};
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId, UidRange, UidValidity};
use crate::props::{Prop, PropTag};
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) use crate::message_copies::{attachment_hashes, copy};
pub(crate) use crate::message_inserts::{
    DerivedMessage, insert_mapi, insert_mime, insert_row, mapi_size, store_props, store_recipients,
};
pub(crate) use crate::message_reads::{
    AttachmentSource, attachment_source, changes_since, list, read, read_selected, read_tags_batch,
    selected_props_sql, tags_to_read,
};
pub(crate) use crate::message_removals::{
    delete_all_in_folder, delete_message, delete_uids, move_to, purge_soft_deleted,
};
pub(crate) use crate::message_updates::{
    cache_generated, invalidate_generated, set_flags, set_props, set_read, stored_props,
};

/// Where a message's RFC 5322 form comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentOrigin {
    /// Created as MAPI properties; no MIME form generated yet.
    None,
    /// Arrived as MIME (delivery, APPEND): the original bytes, kept as they came.
    Original,
    /// Generated from the MAPI properties and cached until the message changes.
    Generated,
}

impl ContentOrigin {
    pub(crate) fn code(self) -> i64 {
        match self {
            ContentOrigin::None => 0,
            ContentOrigin::Original => 1,
            ContentOrigin::Generated => 2,
        }
    }

    pub(crate) fn from_code(c: i64) -> ContentOrigin {
        match c {
            1 => ContentOrigin::Original,
            2 => ContentOrigin::Generated,
            _ => ContentOrigin::None,
        }
    }
}

/// What the caller says about a new message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    /// Initial IMAP flags.
    pub flags: ImapFlags,
    /// Initial keywords.
    pub keywords: Vec<String>,
    /// IMAP INTERNALDATE (Unix seconds); now when `None`.
    pub internal_date: Option<i64>,
}

/// Where a new message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsertedMessage {
    /// Its id.
    pub message_id: MessageId,
    /// The folder.
    pub folder: FolderId,
    /// Its UID in the folder.
    pub uid: ImapUid,
    /// The folder's UIDVALIDITY.
    pub uidvalidity: UidValidity,
    /// The change number of the insert.
    pub cn: ChangeNumber,
}

/// A message as folder listings and `changes_since` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEntry {
    /// Its UID.
    pub uid: ImapUid,
    /// Its id.
    pub message_id: MessageId,
    /// IMAP flags.
    pub flags: ImapFlags,
    /// IMAP keywords.
    pub keywords: Vec<String>,
    /// Size in bytes (RFC822.SIZE for MIME messages).
    pub size: u64,
    /// INTERNALDATE, Unix seconds.
    pub internal_date: i64,
    /// Change number of its last change (MODSEQ).
    pub cn: ChangeNumber,
    /// SHA-256 of its MIME form, when there is one.
    pub content_hash: Option<ContentHash>,
}

/// A message created as properties (EWS, Outlook, zcore).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapiMessage {
    /// Message properties.
    pub props: Vec<Prop>,
    /// One property list per recipient (PR_RECIPIENT_TYPE, PR_DISPLAY_NAME, PR_SMTP_ADDRESS …).
    pub recipients: Vec<Vec<Prop>>,
    /// Attachments.
    pub attachments: Vec<MapiAttachment>,
}

/// An attachment of a [`MapiMessage`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapiAttachment {
    /// Properties (PR_ATTACH_LONG_FILENAME, PR_ATTACH_MIME_TAG, …); the content
    /// goes in `content`, not in PR_ATTACH_DATA_BIN.
    pub props: Vec<Prop>,
    /// The attachment's bytes.
    pub content: Vec<u8>,
}

/// An attachment as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentRecord {
    /// PR_ATTACH_NUM: its position in the message.
    pub position: u32,
    /// Its properties (without the content).
    pub props: Vec<Prop>,
}

/// A message with everything but its content bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    /// Id, UID, flags, size, dates.
    pub entry: MessageEntry,
    /// The folder.
    pub folder: FolderId,
    /// Where its MIME form comes from.
    pub origin: ContentOrigin,
    /// Properties, stored and computed, sorted by tag.
    pub props: Vec<Prop>,
    /// Recipients' properties.
    pub recipients: Vec<Vec<Prop>>,
    /// Attachments.
    pub attachments: Vec<AttachmentRecord>,
}

/// Which parts of messages a read returns
/// ([`StoreReader::messages_selected`](crate::store::StoreReader::messages_selected)):
/// a caller that shows a few properties reads only those rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSelection {
    /// `None`: every property. `Some(tags)`: only these, those the message
    /// has (stored or computed); an empty list reads none.
    pub tags: Option<Vec<PropTag>>,
    /// Read the recipients.
    pub recipients: bool,
    /// Read the attachments' properties.
    pub attachments: bool,
    /// Derive PR_BODY and PR_HTML of MIME messages from their content
    /// (when the selection's tags include one of them).
    pub bodies: bool,
}

impl MessageSelection {
    /// Every property, the recipients and the attachments, as
    /// [`StoreReader::message`](crate::store::StoreReader::message) reads them.
    pub fn everything(bodies: bool) -> MessageSelection {
        MessageSelection {
            tags: None,
            recipients: true,
            attachments: true,
            bodies,
        }
    }

    /// Whether a property of this tag is returned.
    pub fn wants(&self, tag: PropTag) -> bool {
        self.tags.as_ref().is_none_or(|t| t.contains(&tag))
    }
}

/// The outcome of a flag change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagsOutcome {
    /// Messages whose flags changed, with their new state and MODSEQ.
    pub updated: Vec<MessageEntry>,
    /// UIDs not changed because they changed after UNCHANGEDSINCE.
    pub modified: Vec<ImapUid>,
}

/// The UID mapping of a copy or move (IMAP COPYUID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// The target folder's UIDVALIDITY.
    pub target_uidvalidity: UidValidity,
    /// (source UID, new UID in the target), in source UID order.
    pub uids: Vec<(ImapUid, ImapUid)>,
}

/// A removed message in `changes_since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovedMessage {
    /// Its UID in the folder.
    pub uid: ImapUid,
    /// Its id.
    pub message_id: MessageId,
    /// The change number of the removal.
    pub cn: ChangeNumber,
}

/// One item of `changes_since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageChange {
    /// Added or changed since the given change number.
    Changed(MessageEntry),
    /// Removed since the given change number.
    Removed(RemovedMessage),
}

pub(crate) struct MessageRow {
    pub(crate) entry: MessageEntry,
    pub(crate) folder: FolderId,
    pub(crate) origin: ContentOrigin,
}

/// The columns [`entry_from_row`] reads, in its order.
macro_rules! entry_columns {
    () => {
        "uid, message_id, flags, keywords, size, internal_date, cn, content_hash"
    };
}
pub(crate) const ENTRY_COLUMNS: &str = entry_columns!();

// The hot queries of every IMAP/POP3 command name their index: the planner
// has no statistics, and a wrong guess (the primary key, or the index that
// also holds soft-deleted messages) turns a lookup into a scan of the
// folder's history. `query_plans` tests that they stay lookups.

/// Live messages of a folder in a UID range (covering index).
pub(crate) const LIST_SQL: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM messages INDEXED BY messages_live \
     WHERE folder_id = ?1 AND uid BETWEEN ?2 AND ?3 AND deleted_at IS NULL ORDER BY uid"
);
/// [`LIST_SQL`] with the content kind, for writes.
pub(crate) const SELECT_UIDS_SQL: &str = concat!(
    "SELECT ",
    entry_columns!(),
    ", content_kind FROM messages INDEXED BY messages_live \
     WHERE folder_id = ?1 AND uid BETWEEN ?2 AND ?3 AND deleted_at IS NULL ORDER BY uid"
);
/// Messages removed from a folder after a change number.
pub(crate) const REMOVED_SINCE_SQL: &str = "SELECT uid, message_id, cn \
     FROM message_tombstones INDEXED BY message_tombstones_cn \
     WHERE folder_id = ?1 AND cn > ?2 ORDER BY uid";
/// Live messages of a folder changed after a change number (a soft-deleted
/// message's change number is its removal's, so few old rows match).
pub(crate) const CHANGED_SINCE_SQL: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM messages INDEXED BY messages_folder_cn \
     WHERE folder_id = ?1 AND cn > ?2 AND deleted_at IS NULL ORDER BY uid"
);

pub(crate) fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageEntry> {
    let keywords: String = r.get(3)?;
    let hash: Option<Vec<u8>> = r.get(7)?;
    Ok(MessageEntry {
        uid: ImapUid(r.get::<_, i64>(0)? as u32),
        message_id: MessageId(r.get::<_, i64>(1)? as u64),
        flags: ImapFlags::from_bits(r.get::<_, i64>(2)? as u32),
        keywords: flags::split_keywords(&keywords),
        size: r.get::<_, i64>(4)? as u64,
        internal_date: r.get(5)?,
        cn: ChangeNumber(r.get::<_, i64>(6)? as u64),
        content_hash: hash.as_deref().and_then(ContentHash::from_slice),
    })
}

/// One live message.
pub(crate) fn get_row(conn: &Connection, id: MessageId) -> Result<MessageRow> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS}, folder_id, content_kind FROM messages WHERE message_id = ?1 AND deleted_at IS NULL"
    ))?;
    st.query_row([id.0 as i64], |r| {
        Ok(MessageRow {
            entry: entry_from_row(r)?,
            folder: FolderId(r.get::<_, i64>(8)? as u64),
            origin: ContentOrigin::from_code(r.get(9)?),
        })
    })
    .optional()?
    .ok_or(StoreError::NoSuchMessage(id))
}

/// The message with `uid` in `folder`.
pub(crate) fn id_by_uid(conn: &Connection, folder: FolderId, uid: ImapUid) -> Result<MessageId> {
    let id: Option<i64> = conn
        .prepare_cached("SELECT message_id FROM messages WHERE folder_id = ?1 AND uid = ?2 AND deleted_at IS NULL")?
        .query_row(params![folder.0 as i64, i64::from(uid.0)], |r| r.get(0))
        .optional()?;
    id.map(|i| MessageId(i as u64))
        .ok_or(StoreError::NoSuchUid { folder, uid })
}

/// Live messages of `folder` whose UIDs fall in `ranges`, by UID.
pub(crate) fn select_uids(
    conn: &Connection,
    folder: FolderId,
    ranges: &[UidRange],
) -> Result<Vec<MessageRow>> {
    let mut st = conn.prepare_cached(SELECT_UIDS_SQL)?;
    let mut out: Vec<MessageRow> = Vec::new();
    for r in ranges {
        let rows = st.query_map(
            params![folder.0 as i64, i64::from(r.first.0), i64::from(r.last.0)],
            |row| {
                Ok(MessageRow {
                    entry: entry_from_row(row)?,
                    folder,
                    origin: ContentOrigin::from_code(row.get(8)?),
                })
            },
        )?;
        for row in rows {
            out.push(row?);
        }
    }
    // Overlapping ranges name a message once.
    out.sort_by_key(|m| m.entry.uid);
    out.dedup_by_key(|m| m.entry.uid);
    Ok(out)
}

pub(crate) fn unread(flags: ImapFlags) -> i64 {
    i64::from(!flags.contains(ImapFlags::SEEN))
}
