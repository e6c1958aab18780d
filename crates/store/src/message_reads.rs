//! Reading messages: one message with its properties, recipients and
//! attachments; where an attachment's bytes are; a folder's listing and its
//! changes since a change number. Moved out of messages.rs (re-exported
//! there).

use crate::error::{Result, StoreError};
use crate::flags;
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId, UidRange};
use crate::messages::{
    AttachmentRecord, CHANGED_SINCE_SQL, ContentOrigin, LIST_SQL, MessageChange, MessageEntry,
    MessageRecord, REMOVED_SINCE_SQL, RemovedMessage, entry_from_row, get_row, stored_props,
};
use crate::props::{Prop, PropValue, decode_bag};
use crate::tags::*;
use rusqlite::{Connection, OptionalExtension, params};

/// Reads one message: its row, stored and computed properties, recipients
/// and attachments. Bodies of MIME messages are not stored; the caller adds
/// them from the content (see `Store::read_message`).
pub(crate) fn read(conn: &Connection, id: MessageId) -> Result<MessageRecord> {
    let row = get_row(conn, id)?;
    let stored = stored_props(conn, id)?;
    let mut props: Vec<Prop> = stored
        .iter()
        .filter(|(t, _)| !flags::is_flag_mapped(*t))
        .cloned()
        .collect();
    props.extend(flags::mapped_props(
        row.entry.flags,
        &row.entry.keywords,
        &stored,
    ));
    props.push((
        PR_MESSAGE_SIZE,
        PropValue::Long(i32::try_from(row.entry.size).unwrap_or(i32::MAX)),
    ));
    props.push((
        PR_MESSAGE_SIZE_EXTENDED,
        PropValue::I8(row.entry.size as i64),
    ));
    props.sort_by_key(|(t, _)| *t);
    let mut recipients = Vec::new();
    let mut st = conn
        .prepare_cached("SELECT props FROM recipients WHERE message_id = ?1 ORDER BY position")?;
    let mut rows = st.query([id.0 as i64])?;
    while let Some(r) = rows.next()? {
        recipients.push(decode_bag(&r.get::<_, Vec<u8>>(0)?)?);
    }
    let mut attachments = Vec::new();
    let mut st = conn.prepare_cached(
        "SELECT position, props FROM attachments WHERE message_id = ?1 ORDER BY position",
    )?;
    let mut rows = st.query([id.0 as i64])?;
    while let Some(r) = rows.next()? {
        let position = r.get::<_, i64>(0)? as u32;
        let mut p = decode_bag(&r.get::<_, Vec<u8>>(1)?)?;
        p.push((PR_ATTACH_NUM, PropValue::Long(position as i32)));
        p.sort_by_key(|(t, _)| *t);
        attachments.push(AttachmentRecord { position, props: p });
    }
    Ok(MessageRecord {
        entry: row.entry,
        folder: row.folder,
        origin: row.origin,
        props,
        recipients,
        attachments,
    })
}

/// Where an attachment's bytes are: a content file, or a MIME part of the message.
pub(crate) enum AttachmentSource {
    File(ContentHash),
    MimePart {
        message: ContentHash,
        part_path: String,
    },
}

pub(crate) fn attachment_source(
    conn: &Connection,
    id: MessageId,
    position: u32,
) -> Result<AttachmentSource> {
    let row = get_row(conn, id)?;
    let r: Option<(Option<Vec<u8>>, Option<String>)> = conn
        .prepare_cached("SELECT content_hash, part_path FROM attachments WHERE message_id = ?1 AND position = ?2")?
        .query_row(params![id.0 as i64, i64::from(position)], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let missing =
        || StoreError::InvalidArgument(format!("message {id} has no attachment {position}"));
    match r {
        Some((Some(h), _)) => ContentHash::from_slice(&h)
            .map(AttachmentSource::File)
            .ok_or_else(missing),
        Some((None, Some(path))) => match (row.origin, row.entry.content_hash) {
            (ContentOrigin::Original, Some(message)) => Ok(AttachmentSource::MimePart {
                message,
                part_path: path,
            }),
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}

/// Streams the live messages of `folder` with UIDs in `range`, in UID order,
/// until `each` returns false. Bounded memory: one row at a time.
pub(crate) fn list(
    conn: &Connection,
    folder: FolderId,
    range: UidRange,
    each: &mut dyn FnMut(MessageEntry) -> bool,
) -> Result<()> {
    let mut st = conn.prepare_cached(LIST_SQL)?;
    let mut rows = st.query(params![
        folder.0 as i64,
        i64::from(range.first.0),
        i64::from(range.last.0)
    ])?;
    while let Some(r) = rows.next()? {
        if !each(entry_from_row(r)?) {
            break;
        }
    }
    Ok(())
}

/// Streams what changed in `folder` after `since`: removals first (by UID),
/// then added or changed messages (by UID).
pub(crate) fn changes_since(
    conn: &Connection,
    folder: FolderId,
    since: ChangeNumber,
    each: &mut dyn FnMut(MessageChange) -> bool,
) -> Result<()> {
    let mut st = conn.prepare_cached(REMOVED_SINCE_SQL)?;
    let mut rows = st.query(params![folder.0 as i64, since.0 as i64])?;
    while let Some(r) = rows.next()? {
        let removed = RemovedMessage {
            uid: ImapUid(r.get::<_, i64>(0)? as u32),
            message_id: MessageId(r.get::<_, i64>(1)? as u64),
            cn: ChangeNumber(r.get::<_, i64>(2)? as u64),
        };
        if !each(MessageChange::Removed(removed)) {
            return Ok(());
        }
    }
    let mut st = conn.prepare_cached(CHANGED_SINCE_SQL)?;
    let mut rows = st.query(params![folder.0 as i64, since.0 as i64])?;
    while let Some(r) = rows.next()? {
        if !each(MessageChange::Changed(entry_from_row(r)?)) {
            break;
        }
    }
    Ok(())
}
