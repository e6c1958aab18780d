//! Reading messages: one message with its properties, recipients and
//! attachments; where an attachment's bytes are; a folder's listing and its
//! changes since a change number. Moved out of messages.rs (re-exported
//! there).

use crate::error::{Result, StoreError};
use crate::flags;
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId, UidRange};
use crate::messages::{
    AttachmentRecord, CHANGED_SINCE_SQL, ContentOrigin, LIST_SQL, MessageChange, MessageEntry,
    MessageRecord, MessageRow, MessageSelection, REMOVED_SINCE_SQL, RemovedMessage, entry_from_row,
    get_row, stored_props,
};
use crate::props::{Prop, PropTag, PropValue, decode_bag, from_sql};
use crate::tags::*;
use rusqlite::{Connection, OptionalExtension, params};

/// Reads one message: its row, stored and computed properties, recipients
/// and attachments. Bodies of MIME messages are not stored; the caller adds
/// them from the content (see `Store::read_message`).
pub(crate) fn read(conn: &Connection, id: MessageId) -> Result<MessageRecord> {
    read_selected(conn, id, &MessageSelection::everything(false), None)
}

/// The `SELECT tag, value` of a message's stored properties whose tags
/// are in `tags` (`?1` = the message id), for [`read_selected`].
/// Tags are integers, written into the statement as literals.
pub(crate) fn selected_props_sql(tags: &[PropTag]) -> String {
    let mut sql = String::from(
        "SELECT tag, value FROM message_properties WHERE message_id = ?1 AND tag IN (",
    );
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&t.0.to_string());
    }
    sql.push(')');
    sql
}

/// The stored tags a read for `asked` must look at: those asked, plus the
/// stored flag-mapped tags when a flag-mapped one is asked (its value is
/// computed from them), plus both bodies when one is asked (a stored one
/// decides whether the other is derived). Sorted, without duplicates.
pub(crate) fn tags_to_read(asked: &[PropTag]) -> Vec<PropTag> {
    let mut out: Vec<PropTag> = asked.to_vec();
    if asked.iter().any(|t| flags::is_flag_mapped(*t)) {
        out.extend([
            PR_MESSAGE_FLAGS,
            PR_FLAG_STATUS,
            PR_LAST_VERB_EXECUTED,
            PR_ICON_INDEX,
            PR_GROXIDE_KEYWORDS,
        ]);
    }
    if asked.iter().any(|t| *t == PR_BODY || *t == PR_HTML) {
        out.extend([PR_BODY, PR_HTML]);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Reads one message as `sel` asks: with `sel.tags`, only the stored rows
/// of [`tags_to_read`] (through `props_st`, the statement of
/// [`selected_props_sql`] over them; `None` when the list is empty) and
/// the computed tags asked; recipients and attachments only when asked.
/// The properties may hold a few tags more than asked (see
/// [`tags_to_read`]): the caller drops them after deriving bodies.
pub(crate) fn read_selected(
    conn: &Connection,
    id: MessageId,
    sel: &MessageSelection,
    props_st: Option<&mut rusqlite::Statement<'_>>,
) -> Result<MessageRecord> {
    let row = get_row(conn, id)?;
    let stored = match (&sel.tags, props_st) {
        (None, _) => stored_props(conn, id)?,
        (Some(_), None) => Vec::new(),
        (Some(_), Some(st)) => {
            let mut rows = st.query([id.0 as i64])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let tag = PropTag(r.get::<_, i64>(0)? as u32);
                out.push((tag, from_sql(tag, r.get_ref(1)?)?));
            }
            out
        }
    };
    let mut rec = assemble(row, stored, sel);
    if sel.recipients {
        let mut st = conn.prepare_cached(
            "SELECT props FROM recipients WHERE message_id = ?1 ORDER BY position",
        )?;
        let mut rows = st.query([id.0 as i64])?;
        while let Some(r) = rows.next()? {
            rec.recipients.push(decode_bag(&r.get::<_, Vec<u8>>(0)?)?);
        }
    }
    if sel.attachments {
        let mut st = conn.prepare_cached(
            "SELECT position, props FROM attachments WHERE message_id = ?1 ORDER BY position",
        )?;
        let mut rows = st.query([id.0 as i64])?;
        while let Some(r) = rows.next()? {
            let position = r.get::<_, i64>(0)? as u32;
            let mut p = decode_bag(&r.get::<_, Vec<u8>>(1)?)?;
            p.push((PR_ATTACH_NUM, PropValue::Long(position as i32)));
            p.sort_by_key(|(t, _)| *t);
            rec.attachments
                .push(AttachmentRecord { position, props: p });
        }
    }
    Ok(rec)
}

/// A message's record from its row and the stored property rows read for
/// `sel`: the stored ones, the flag-mapped and size tags computed when
/// asked; recipients and attachments empty (the caller reads them).
fn assemble(row: MessageRow, stored: Vec<Prop>, sel: &MessageSelection) -> MessageRecord {
    let mapped_wanted = match &sel.tags {
        None => true,
        Some(t) => t.iter().any(|t| flags::is_flag_mapped(*t)),
    };
    let mapped = if mapped_wanted {
        flags::mapped_props(row.entry.flags, &row.entry.keywords, &stored)
    } else {
        Vec::new()
    };
    let mut props: Vec<Prop> = stored
        .into_iter()
        .filter(|(t, _)| !flags::is_flag_mapped(*t))
        .collect();
    props.extend(mapped);
    if sel.wants(PR_MESSAGE_SIZE) {
        props.push((
            PR_MESSAGE_SIZE,
            PropValue::Long(i32::try_from(row.entry.size).unwrap_or(i32::MAX)),
        ));
    }
    if sel.wants(PR_MESSAGE_SIZE_EXTENDED) {
        props.push((
            PR_MESSAGE_SIZE_EXTENDED,
            PropValue::I8(row.entry.size as i64),
        ));
    }
    props.sort_by_key(|(t, _)| *t);
    MessageRecord {
        entry: row.entry,
        folder: row.folder,
        origin: row.origin,
        props,
        recipients: Vec::new(),
        attachments: Vec::new(),
    }
}

/// The live messages of `ids` with the stored rows of `to_read` (the
/// [`tags_to_read`] of `sel.tags`), in one statement for the whole batch:
/// a page of a listing asks a few tags of a hundred messages, and one
/// statement stepping through their rows costs a fraction of two lookups
/// per message. Only for selections by tag without recipients or
/// attachments. Keyed by message id; missing ids are absent.
pub(crate) fn read_tags_batch(
    conn: &Connection,
    ids: &[MessageId],
    to_read: &[PropTag],
    sel: &MessageSelection,
) -> Result<std::collections::HashMap<MessageId, MessageRecord>> {
    let list = |v: &mut dyn Iterator<Item = u64>| {
        let mut out = String::from("[");
        for (i, x) in v.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&x.to_string());
        }
        out.push(']');
        out
    };
    let ids_json = list(&mut ids.iter().map(|i| i.0));
    let tags_json = list(&mut to_read.iter().map(|t| u64::from(t.0)));
    // Rows come grouped by message (the IN list is walked in rowid order,
    // each message's property rows by their primary key).
    let mut st = conn.prepare_cached(
        "SELECT m.uid, m.message_id, m.flags, m.keywords, m.size, m.internal_date, m.cn, \
         m.content_hash, m.folder_id, m.content_kind, p.tag, p.value \
         FROM messages m LEFT JOIN message_properties p \
         ON p.message_id = m.message_id AND p.tag IN (SELECT value FROM json_each(?2)) \
         WHERE m.message_id IN (SELECT value FROM json_each(?1)) AND m.deleted_at IS NULL \
         ORDER BY m.message_id",
    )?;
    let mut rows = st.query(params![ids_json, tags_json])?;
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    let mut current: Option<(MessageRow, Vec<Prop>)> = None;
    while let Some(r) = rows.next()? {
        let id = MessageId(r.get::<_, i64>(1)? as u64);
        if current.as_ref().map(|(row, _)| row.entry.message_id) != Some(id) {
            if let Some((row, stored)) = current.take() {
                out.insert(row.entry.message_id, assemble(row, stored, sel));
            }
            current = Some((
                MessageRow {
                    entry: entry_from_row(r)?,
                    folder: FolderId(r.get::<_, i64>(8)? as u64),
                    origin: ContentOrigin::from_code(r.get(9)?),
                },
                Vec::new(),
            ));
        }
        if let Some(tag) = r.get::<_, Option<i64>>(10)? {
            let tag = PropTag(tag as u32);
            let value = from_sql(tag, r.get_ref(11)?)?;
            if let Some((_, stored)) = current.as_mut() {
                stored.push((tag, value));
            }
        }
    }
    if let Some((row, stored)) = current.take() {
        out.insert(row.entry.message_id, assemble(row, stored, sel));
    }
    Ok(out)
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
