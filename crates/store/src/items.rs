//! Groupware items (appointments, contacts, distribution lists, tasks,
//! notes): a [`groxide_pim::Item`] kept as a message. Its properties go to
//! the message's property rows with named properties resolved to this
//! store's ids ([`crate::named`]), its attendees to the recipient rows, its
//! attachments to attachment rows (files as content files, embedded
//! messages such as the exceptions of a series encoded into one property of
//! their attachment row), and the object it came from (iCalendar or vCard)
//! as a content file beside the message (table `items`), so a
//! read-modify-write can carry back what MAPI cannot hold.
//!
//! An item is changed in place: its message id and UID stay, its change
//! number rises. The change number is the item's entity tag, and writes
//! can be made conditional on it ([`Precondition`]).

use crate::error::{Result, StoreError};
use crate::events::ChangeKind;
use crate::flags::ImapFlags;
use crate::folders::{self, FolderRef};
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId};
use crate::item_codec::{
    Names, collect_embedded_ids, collect_ids, decode_embedded, encode_embedded, item_from_parts,
    props_size, resolve_owned, resolve_props,
};
use crate::messages::{self, ContentOrigin};
use crate::props::{Prop, PropTag, PropValue, decode_bag, encode_bag};
use crate::store::{Store, StoreReader};
use crate::tags::*;
use crate::tx::WriteCtx;
use groxide_mapi::{NamedProp, PropKey, lids};
use groxide_pim::{Attachment, AttachmentContent, Item, ItemClass};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeSet, HashMap};
use std::io::Read;

/// groxide's property on the attachment row of an embedded message: the
/// message encoded (PT_BINARY; provider-defined range, chosen by groxide).
pub const PR_GROXIDE_EMBEDDED_ITEM: PropTag = PropTag(0x67F1_0102);
/// Longest resource name of an item, in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// Deepest nesting of embedded messages accepted.
pub(crate) const MAX_EMBED_DEPTH: usize = 8;

/// What an item's source object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemFormat {
    /// No source object (created as MAPI properties).
    None,
    /// iCalendar (RFC 5545).
    ICalendar,
    /// vCard (RFC 6350/2426).
    VCard,
}

impl ItemFormat {
    pub(crate) fn code(self) -> i64 {
        match self {
            ItemFormat::None => 0,
            ItemFormat::ICalendar => 1,
            ItemFormat::VCard => 2,
        }
    }

    pub(crate) fn from_code(c: i64) -> ItemFormat {
        match c {
            1 => ItemFormat::ICalendar,
            2 => ItemFormat::VCard,
            _ => ItemFormat::None,
        }
    }

    /// The format an item of `class` is written in.
    pub fn of_class(class: ItemClass) -> ItemFormat {
        match class {
            ItemClass::Contact | ItemClass::DistList => ItemFormat::VCard,
            _ => ItemFormat::ICalendar,
        }
    }
}

/// An item as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemEntry {
    /// Its message id (stable across changes).
    pub message_id: MessageId,
    /// Its folder.
    pub folder: FolderId,
    /// Its UID in the folder.
    pub uid: ImapUid,
    /// Change number of its last change.
    pub cn: ChangeNumber,
    /// The iCalendar/vCard UID ("" when it has none).
    pub item_uid: String,
    /// PR_MESSAGE_CLASS.
    pub message_class: String,
    /// Size in bytes as the quota counts it.
    pub size: u64,
    /// The resource name a DAV client gave it ("" when none: it is named
    /// by its UID).
    pub name: String,
}

impl ItemEntry {
    /// The entity tag: changes whenever the item does.
    pub fn etag(&self) -> String {
        etag_of(self.cn)
    }
}

/// The entity tag of an item at change number `cn`.
pub fn etag_of(cn: ChangeNumber) -> String {
    format!("{}", cn.0)
}

/// One item of a batched read ([`StoreReader::read_items`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ItemRead {
    /// No such live message.
    Missing(MessageId),
    /// The item's source object, which still is the item.
    Source(ItemEntry, Vec<u8>),
    /// The item with its source object, if any (`true`: that object still
    /// is the item and may be served as it is).
    Item(ItemEntry, Item, bool),
}

/// The condition a write of an item is made under.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Create or replace, whatever is there.
    #[default]
    None,
    /// Only if the item exists with this entity tag (If-Match).
    IfMatch(String),
    /// Only if no such item exists yet (If-None-Match: *).
    IfNoneMatch,
}

/// Which item a put replaces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PutTarget {
    /// The item of the folder with the same iCalendar/vCard UID, if any;
    /// else a new item.
    #[default]
    ByUid,
    /// This message (which must be in the folder).
    Message(MessageId),
    /// Always a new item.
    New,
}

/// The outcome of a put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The item as stored.
    pub entry: ItemEntry,
    /// Whether it was created (else replaced).
    pub created: bool,
}

/// A staged content file: its hash and size.
type Staged = (ContentHash, u64);

/// An item as stored: properties with per-store tags, attachments staged.
struct Resolved {
    props: Vec<Prop>,
    recipients: Vec<Vec<Prop>>,
    /// Attachment properties, and the content file of data attachments.
    attachments: Vec<(Vec<Prop>, Option<Staged>)>,
    original: Option<Staged>,
    item_uid: String,
    /// The resource name to give it (`None`: keep the one it has).
    name: Option<String>,
    format: ItemFormat,
    size: u64,
    /// Bounds of its instances (the time index, `items.range_start/end`).
    range: (i64, i64),
}

/// The iCalendar/vCard UID of an item: PidLidGlobalObjectId's for
/// appointments, PidNameCalendarUid otherwise.
pub fn item_uid(item: &Item) -> String {
    if let Some(b) = item.binary(&lids::PID_LID_GLOBAL_OBJECT_ID)
        && let Ok(g) = groxide_pim::goid::GlobalObjectId::decode(b)
    {
        return g.to_uid();
    }
    item.str(&lids::PID_NAME_CALENDAR_UID)
        .unwrap_or("")
        .to_string()
}

// ----- rows -----

fn entry_sql(filter: &str) -> String {
    entry_sql_with("", filter)
}

/// [`entry_sql`] selecting `extra` (", expr…") after the entry's columns.
fn entry_sql_with(extra: &str, filter: &str) -> String {
    format!(
        "SELECT m.message_id, m.folder_id, m.uid, m.cn, m.size, i.item_uid,
           (SELECT value FROM message_properties p WHERE p.message_id = m.message_id AND p.tag = {}),
           i.name{extra}
         FROM messages m LEFT JOIN items i ON i.message_id = m.message_id
         WHERE m.deleted_at IS NULL AND {filter} ORDER BY m.uid",
        PR_MESSAGE_CLASS.0
    )
}

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemEntry> {
    let class: Option<rusqlite::types::Value> = r.get(6)?;
    Ok(ItemEntry {
        message_id: MessageId(r.get::<_, i64>(0)? as u64),
        folder: FolderId(r.get::<_, i64>(1)? as u64),
        uid: ImapUid(r.get::<_, i64>(2)? as u32),
        cn: ChangeNumber(r.get::<_, i64>(3)? as u64),
        size: r.get::<_, i64>(4)? as u64,
        item_uid: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
        message_class: match class {
            Some(rusqlite::types::Value::Text(s)) => s,
            _ => String::new(),
        },
        name: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
    })
}

/// One live message as an item entry.
pub(crate) fn entry(conn: &Connection, id: MessageId) -> Result<ItemEntry> {
    conn.prepare_cached(&entry_sql("m.message_id = ?1"))?
        .query_row([id.0 as i64], entry_from_row)
        .optional()?
        .ok_or(StoreError::NoSuchMessage(id))
}

/// The live items of a folder, by UID, until `each` returns false.
pub(crate) fn list(
    conn: &Connection,
    folder: FolderId,
    each: &mut dyn FnMut(ItemEntry) -> bool,
) -> Result<()> {
    let mut st = conn.prepare_cached(&entry_sql("m.folder_id = ?1"))?;
    let mut rows = st.query([folder.0 as i64])?;
    while let Some(r) = rows.next()? {
        if !each(entry_from_row(r)?) {
            break;
        }
    }
    Ok(())
}

/// The live messages of a folder that may have an instance in `[from,
/// to)` (Unix seconds), by UID: those whose time index bounds overlap it
/// (`range_start < to AND range_end >= from`) and those whose bounds are
/// not known (no item row, or NULL bounds). With each, whether it has an
/// item row whose bounds are to be written back.
pub(crate) fn range_candidates(
    conn: &Connection,
    folder: FolderId,
    from: i64,
    to: i64,
) -> Result<Vec<(ItemEntry, bool)>> {
    let sql = entry_sql_with(
        ", i.message_id IS NOT NULL AND (i.range_start IS NULL OR i.range_end IS NULL)",
        "m.folder_id = ?1 AND (i.range_start IS NULL OR i.range_end IS NULL
           OR (i.range_start < ?3 AND i.range_end >= ?2))",
    );
    let mut st = conn.prepare_cached(&sql)?;
    let mut rows = st.query(params![folder.0 as i64, from, to])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push((entry_from_row(r)?, r.get::<_, bool>(8)?));
    }
    Ok(out)
}

/// Writes back the time index bounds of items read by a time range query
/// whose bounds were not known: each only if it did not change since it was
/// read (its change number is still `cn`) and its bounds are still unknown.
pub(crate) fn learn_ranges(
    ctx: &mut WriteCtx<'_>,
    learned: &[(MessageId, ChangeNumber, (i64, i64))],
) -> Result<usize> {
    let mut st = ctx.conn.prepare_cached(
        "UPDATE items SET range_start = ?2, range_end = ?3
         WHERE message_id = ?1 AND (range_start IS NULL OR range_end IS NULL)
           AND EXISTS (SELECT 1 FROM messages m WHERE m.message_id = ?1 AND m.cn = ?4)",
    )?;
    let mut n = 0;
    for (id, cn, (start, end)) in learned {
        n += st.execute(params![id.0 as i64, start, end, cn.0 as i64])?;
    }
    Ok(n)
}

/// The live items of a folder changed after `since`, by UID.
pub(crate) fn changed_since(
    conn: &Connection,
    folder: FolderId,
    since: ChangeNumber,
    each: &mut dyn FnMut(ItemEntry) -> bool,
) -> Result<()> {
    let mut st = conn.prepare_cached(&entry_sql("m.folder_id = ?1 AND m.cn > ?2"))?;
    let mut rows = st.query(params![folder.0 as i64, since.0 as i64])?;
    while let Some(r) = rows.next()? {
        if !each(entry_from_row(r)?) {
            break;
        }
    }
    Ok(())
}

/// The live item of `folder` with iCalendar/vCard UID `uid` (the oldest when
/// several have it).
pub(crate) fn by_uid(conn: &Connection, folder: FolderId, uid: &str) -> Result<Option<MessageId>> {
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT i.message_id FROM items i JOIN messages m ON m.message_id = i.message_id
             WHERE i.folder_id = ?1 AND i.item_uid = ?2 AND m.deleted_at IS NULL
             ORDER BY i.message_id LIMIT 1",
        )?
        .query_row(params![folder.0 as i64, uid], |r| r.get(0))
        .optional()?;
    Ok(id.map(|i| MessageId(i as u64)))
}

/// The live item of `folder` named `name`.
pub(crate) fn by_name(
    conn: &Connection,
    folder: FolderId,
    name: &str,
) -> Result<Option<MessageId>> {
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT i.message_id FROM items i JOIN messages m ON m.message_id = i.message_id
             WHERE i.folder_id = ?1 AND i.name = ?2 AND m.deleted_at IS NULL
             ORDER BY i.message_id LIMIT 1",
        )?
        .query_row(params![folder.0 as i64, name], |r| r.get(0))
        .optional()?;
    Ok(id.map(|i| MessageId(i as u64)))
}

/// The resource name of a message's item row, if it has one.
fn name_of(conn: &Connection, id: MessageId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT name FROM items WHERE message_id = ?1")?
        .query_row([id.0 as i64], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// The item row of a message: format and original.
fn item_row(conn: &Connection, id: MessageId) -> Result<Option<(ItemFormat, Option<ContentHash>)>> {
    Ok(conn
        .prepare_cached("SELECT format, original_hash FROM items WHERE message_id = ?1")?
        .query_row([id.0 as i64], |r| {
            Ok((
                ItemFormat::from_code(r.get(0)?),
                r.get::<_, Option<Vec<u8>>>(1)?,
            ))
        })
        .optional()?
        .map(|(f, h)| (f, h.as_deref().and_then(ContentHash::from_slice))))
}

/// Drops the item row of a message being erased, with its original.
pub(crate) fn erased(ctx: &mut WriteCtx<'_>, id: MessageId) -> Result<()> {
    if let Some((_, Some(h))) = item_row(ctx.conn, id)? {
        ctx.drop_content_ref(&h)?;
    }
    ctx.conn
        .prepare_cached("DELETE FROM items WHERE message_id = ?1")?
        .execute([id.0 as i64])?;
    Ok(())
}

/// Forgets the time index bounds of a message whose properties changed
/// other than by a put (MAPI): it is a candidate of every time range query
/// until one reads it and writes them back.
pub(crate) fn range_unknown(conn: &Connection, id: MessageId) -> Result<()> {
    conn.prepare_cached(
        "UPDATE items SET range_start = NULL, range_end = NULL
         WHERE message_id = ?1 AND range_start IS NOT NULL",
    )?
    .execute([id.0 as i64])?;
    Ok(())
}

/// Keeps the item row with its message when that moves (with its time
/// index bounds: the item is the same).
pub(crate) fn moved(ctx: &mut WriteCtx<'_>, id: MessageId, target: FolderId) -> Result<()> {
    // A name the target folder already has is dropped (the item is then
    // named by its UID there).
    ctx.conn
        .prepare_cached(
            "UPDATE items SET folder_id = ?2,
               name = CASE WHEN EXISTS (SELECT 1 FROM items o JOIN messages m ON m.message_id = o.message_id
                   WHERE o.folder_id = ?2 AND o.name = items.name AND o.message_id != ?1
                     AND m.deleted_at IS NULL) THEN NULL ELSE name END
             WHERE message_id = ?1",
        )?
        .execute(params![id.0 as i64, target.0 as i64])?;
    Ok(())
}

/// Gives a copy of a message the item row of its source.
pub(crate) fn copied(
    ctx: &mut WriteCtx<'_>,
    from: MessageId,
    to: MessageId,
    target: FolderId,
) -> Result<()> {
    let n = ctx
        .conn
        .prepare_cached(
            "INSERT INTO items (message_id, folder_id, item_uid, format, original_hash, original_size,
                                range_start, range_end)
             SELECT ?2, ?3, item_uid, format, original_hash, original_size, range_start, range_end
             FROM items WHERE message_id = ?1",
        )?
        .execute(params![from.0 as i64, to.0 as i64, target.0 as i64])?;
    if n > 0
        && let Some((_, Some(h))) = item_row(ctx.conn, to)?
    {
        let size: i64 = ctx.conn.query_row(
            "SELECT original_size FROM items WHERE message_id = ?1",
            [to.0 as i64],
            |r| r.get(0),
        )?;
        ctx.add_content_ref(&h, size as u64)?;
    }
    Ok(())
}

/// Removes what a message holds besides its row: properties, recipients,
/// attachments, cached MIME and original (content references dropped).
fn clear_message(ctx: &mut WriteCtx<'_>, row: &messages::MessageRow) -> Result<()> {
    let id = row.entry.message_id;
    for (h, _) in messages::attachment_hashes(ctx.conn, id)? {
        ctx.drop_content_ref(&h)?;
    }
    messages::invalidate_generated(ctx, row)?;
    if let Some((_, Some(h))) = item_row(ctx.conn, id)? {
        ctx.drop_content_ref(&h)?;
    }
    let i = id.0 as i64;
    for sql in [
        "DELETE FROM message_properties WHERE message_id = ?1",
        "DELETE FROM recipients WHERE message_id = ?1",
        "DELETE FROM attachments WHERE message_id = ?1",
        "DELETE FROM items WHERE message_id = ?1",
    ] {
        ctx.conn.prepare_cached(sql)?.execute([i])?;
    }
    Ok(())
}

fn check_precondition(pre: &Precondition, existing: Option<&messages::MessageRow>) -> Result<()> {
    match (pre, existing) {
        (Precondition::None, _) => Ok(()),
        (Precondition::IfNoneMatch, None) => Ok(()),
        (Precondition::IfNoneMatch, Some(r)) => Err(StoreError::PreconditionFailed(format!(
            "item exists (message {}, etag {})",
            r.entry.message_id,
            etag_of(r.entry.cn)
        ))),
        (Precondition::IfMatch(e), Some(r)) if *e == etag_of(r.entry.cn) => Ok(()),
        (Precondition::IfMatch(e), Some(r)) => Err(StoreError::PreconditionFailed(format!(
            "item changed: its etag is {}, not {e}",
            etag_of(r.entry.cn)
        ))),
        (Precondition::IfMatch(e), None) => Err(StoreError::PreconditionFailed(format!(
            "no such item to match etag {e}"
        ))),
    }
}

fn put_in_tx(
    ctx: &mut WriteCtx<'_>,
    folder: FolderRef,
    target: &PutTarget,
    pre: &Precondition,
    item: &Resolved,
) -> Result<PutOutcome> {
    let fid = folders::resolve(ctx.conn, folder)?;
    let existing_id = match target {
        PutTarget::Message(id) => Some(*id),
        PutTarget::New => None,
        PutTarget::ByUid if item.item_uid.is_empty() => None,
        PutTarget::ByUid => by_uid(ctx.conn, fid, &item.item_uid)?,
    };
    let existing = match existing_id {
        Some(id) => match messages::get_row(ctx.conn, id) {
            Ok(r) if r.folder == fid => Some(r),
            Ok(_) | Err(StoreError::NoSuchMessage(_))
                if matches!(pre, Precondition::IfMatch(_)) =>
            {
                return Err(StoreError::PreconditionFailed(format!(
                    "no item {id} in folder {fid}"
                )));
            }
            Ok(_) => return Err(StoreError::NoSuchMessage(id)),
            Err(e) => return Err(e),
        },
        None => None,
    };
    check_precondition(pre, existing.as_ref())?;
    let existing_id = existing.as_ref().map(|r| r.entry.message_id);
    if let Some(name) = &item.name
        && let Some(other) = by_name(ctx.conn, fid, name)?
        && Some(other) != existing_id
    {
        return Err(StoreError::PreconditionFailed(format!(
            "folder {fid} has an item named {name:?} (message {other})"
        )));
    }
    if item.name.is_some()
        && existing.is_none()
        && !item.item_uid.is_empty()
        && let Some(other) = by_uid(ctx.conn, fid, &item.item_uid)?
    {
        return Err(StoreError::PreconditionFailed(format!(
            "folder {fid} has an item with UID {:?} (message {other})",
            item.item_uid
        )));
    }
    let name = match (&item.name, existing_id) {
        (Some(n), _) => Some(n.clone()),
        (None, Some(id)) => name_of(ctx.conn, id)?,
        (None, None) => None,
    };
    // The properties come from a new source object unless the put carries
    // the one the item has (a read-modify-write of its properties).
    let kept_source = match (&existing, &item.original) {
        (Some(row), Some((h, _))) => {
            item_row(ctx.conn, row.entry.message_id)?.and_then(|(_, o)| o) == Some(*h)
        }
        _ => false,
    };
    let from_source = item.original.is_some() && !kept_source;
    let (id, created) = match &existing {
        None => {
            ctx.check_room(1, item.size)?;
            let ins = messages::insert_row(
                ctx,
                fid,
                ImapFlags::SEEN,
                &[],
                item.size,
                ctx.now,
                None,
                ContentOrigin::None,
                None,
            )?;
            (ins.message_id, true)
        }
        Some(row) => {
            let old = row.entry.size;
            if item.size > old {
                ctx.check_room(0, item.size - old)?;
            }
            clear_message(ctx, row)?;
            let cn = ctx.next_cn()?;
            ctx.conn
                .prepare_cached("UPDATE messages SET cn = ?2, size = ?3 WHERE message_id = ?1")?
                .execute(params![
                    row.entry.message_id.0 as i64,
                    cn.0 as i64,
                    item.size as i64
                ])?;
            let delta = item.size as i64 - old as i64;
            ctx.adjust_folder(fid, 0, 0, delta, cn)?;
            ctx.adjust_store_totals(0, delta)?;
            ctx.event(fid, ChangeKind::MessageChanged, Some(row.entry.uid), cn);
            (row.entry.message_id, false)
        }
    };
    messages::store_props(ctx.conn, id, &item.props)?;
    messages::store_recipients(ctx.conn, id, &item.recipients)?;
    let mut st = ctx.conn.prepare_cached(
        "INSERT INTO attachments (message_id, position, props, content_hash) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, (p, content)) in item.attachments.iter().enumerate() {
        st.execute(params![
            id.0 as i64,
            i as i64,
            encode_bag(p),
            content.as_ref().map(|(h, _)| h.0.to_vec())
        ])?;
    }
    drop(st);
    for (h, len) in item.attachments.iter().filter_map(|(_, c)| c.as_ref()) {
        ctx.add_content_ref(h, *len)?;
    }
    if let Some((h, len)) = &item.original {
        ctx.add_content_ref(h, *len)?;
    }
    ctx.conn
        .prepare_cached(
            "INSERT INTO items (message_id, folder_id, item_uid, format, original_hash, original_size, name, source_cn,
                                range_start, range_end)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                     CASE WHEN ?8 THEN (SELECT cn FROM messages WHERE message_id = ?1) END, ?9, ?10)",
        )?
        .execute(params![
            id.0 as i64,
            fid.0 as i64,
            item.item_uid,
            item.format.code(),
            item.original.as_ref().map(|(h, _)| h.0.to_vec()),
            item.original.as_ref().map_or(0, |(_, l)| *l as i64),
            name,
            from_source,
            item.range.0,
            item.range.1,
        ])?;
    Ok(PutOutcome {
        entry: entry(ctx.conn, id)?,
        created,
    })
}

impl StoreReader {
    /// The live items of a folder (every message there, with its
    /// iCalendar/vCard UID when it was stored as an item), by UID.
    pub fn list_items(&self, folder: impl Into<FolderRef>) -> Result<Vec<ItemEntry>> {
        let r = folder.into();
        self.with_reader(|c| {
            let fid = folders::resolve(c, r)?;
            let mut out = Vec::new();
            list(c, fid, &mut |e| {
                out.push(e);
                true
            })?;
            Ok(out)
        })
    }

    /// The live items of `folder` named one of `names` or with one of the
    /// iCalendar/vCard UIDs `uids` (index lookups), each once, by message id.
    pub fn find_items(
        &self,
        folder: impl Into<FolderRef>,
        names: &[String],
        uids: &[String],
    ) -> Result<Vec<ItemEntry>> {
        let r = folder.into();
        self.with_reader(|c| {
            let fid = folders::resolve(c, r)?;
            let mut ids = BTreeSet::new();
            let mut st = c.prepare_cached(
                "SELECT i.message_id FROM items i JOIN messages m ON m.message_id = i.message_id
                 WHERE i.folder_id = ?1 AND i.name = ?2 AND m.deleted_at IS NULL",
            )?;
            for n in names {
                let mut rows = st.query(params![fid.0 as i64, n])?;
                while let Some(row) = rows.next()? {
                    ids.insert(row.get::<_, i64>(0)?);
                }
            }
            let mut st = c.prepare_cached(
                "SELECT i.message_id FROM items i JOIN messages m ON m.message_id = i.message_id
                 WHERE i.folder_id = ?1 AND i.item_uid = ?2 AND m.deleted_at IS NULL",
            )?;
            for u in uids {
                let mut rows = st.query(params![fid.0 as i64, u])?;
                while let Some(row) = rows.next()? {
                    ids.insert(row.get::<_, i64>(0)?);
                }
            }
            ids.into_iter()
                .map(|id| entry(c, MessageId(id as u64)))
                .collect()
        })
    }

    /// The item of `folder` with iCalendar/vCard UID `uid`.
    pub fn find_item(&self, folder: impl Into<FolderRef>, uid: &str) -> Result<Option<ItemEntry>> {
        let r = folder.into();
        self.with_reader(|c| {
            let fid = folders::resolve(c, r)?;
            match by_uid(c, fid, uid)? {
                Some(id) => Ok(Some(entry(c, id)?)),
                None => Ok(None),
            }
        })
    }

    /// One item: its entry and the item with named properties by name and
    /// its original object. Any message can be read so (one created as MAPI
    /// properties has no original).
    pub fn get_item(&self, id: MessageId) -> Result<(ItemEntry, Item)> {
        self.read_item(id, true)
    }

    /// Reads the items `ids` for a client that wants their source objects
    /// (CalDAV, CardDAV), in order, until the bodies read pass `budget`
    /// bytes (at least one is read; the caller asks again for the rest).
    /// An item whose source object still is the item (no change since the
    /// put that stored it) is read as that object alone — no properties
    /// decoded — unless `with_items`; any other as its [`Item`].
    pub fn read_items(
        &self,
        ids: &[MessageId],
        with_items: bool,
        budget: u64,
    ) -> Result<Vec<ItemRead>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut used = 0u64;
        for &id in ids {
            if used >= budget && !out.is_empty() {
                break;
            }
            let current = self.with_reader(|c| {
                let hash: Option<Vec<u8>> = c
                    .prepare_cached(
                        "SELECT i.original_hash FROM items i JOIN messages m ON m.message_id = i.message_id
                         WHERE i.message_id = ?1 AND m.deleted_at IS NULL AND i.source_cn = m.cn",
                    )?
                    .query_row([id.0 as i64], |r| r.get(0))
                    .optional()?
                    .flatten();
                match hash.as_deref().and_then(ContentHash::from_slice) {
                    Some(h) => Ok(Some((entry(c, id)?, h))),
                    None => Ok(None),
                }
            });
            let source = match current {
                Ok(Some((e, h))) => match self.read_content_file(&h) {
                    Ok(bytes) => Some((e, bytes)),
                    // Replaced since (its old source swept): read it afresh.
                    Err(_) => None,
                },
                Ok(None) => None,
                Err(StoreError::NoSuchMessage(_)) => {
                    out.push(ItemRead::Missing(id));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let read = match source {
                Some((entry, bytes)) if !with_items => {
                    used += bytes.len() as u64;
                    ItemRead::Source(entry, bytes)
                }
                source => match self.read_item(id, true) {
                    Ok((entry, item)) => {
                        used += entry.size;
                        let current = source.is_some_and(|(e, _)| e.cn == entry.cn);
                        ItemRead::Item(entry, item, current)
                    }
                    Err(StoreError::NoSuchMessage(_)) => ItemRead::Missing(id),
                    Err(e) => return Err(e),
                },
            };
            out.push(read);
        }
        Ok(out)
    }

    /// The item without its original object (what free/busy reads), with
    /// its entry as of the same read.
    pub(crate) fn get_item_without_original(&self, id: MessageId) -> Result<(ItemEntry, Item)> {
        self.read_item(id, false)
    }

    fn read_item(&self, id: MessageId, with_original: bool) -> Result<(ItemEntry, Item)> {
        struct Raw {
            entry: ItemEntry,
            props: Vec<Prop>,
            recipients: Vec<Vec<Prop>>,
            attachments: Vec<(u32, Vec<Prop>)>,
            original: Option<ContentHash>,
        }
        let raw = self.with_reader(|c| {
            let entry = entry(c, id)?;
            let props = messages::stored_props(c, id)?;
            let mut recipients = Vec::new();
            let mut st = c.prepare_cached(
                "SELECT props FROM recipients WHERE message_id = ?1 ORDER BY position",
            )?;
            let mut rows = st.query([id.0 as i64])?;
            while let Some(r) = rows.next()? {
                recipients.push(decode_bag(&r.get::<_, Vec<u8>>(0)?)?);
            }
            let mut attachments = Vec::new();
            let mut st = c.prepare_cached(
                "SELECT position, props FROM attachments WHERE message_id = ?1 ORDER BY position",
            )?;
            let mut rows = st.query([id.0 as i64])?;
            while let Some(r) = rows.next()? {
                attachments.push((
                    r.get::<_, i64>(0)? as u32,
                    decode_bag(&r.get::<_, Vec<u8>>(1)?)?,
                ));
            }
            let original = item_row(c, id)?.and_then(|(_, h)| h);
            Ok(Raw {
                entry,
                props,
                recipients,
                attachments,
                original,
            })
        })?;
        let mut ids = BTreeSet::new();
        collect_ids(&raw.props, &mut ids);
        for r in &raw.recipients {
            collect_ids(r, &mut ids);
        }
        for (_, a) in &raw.attachments {
            collect_ids(a, &mut ids);
            if let Some(PropValue::Binary(b)) = a
                .iter()
                .find(|(t, _)| *t == PR_GROXIDE_EMBEDDED_ITEM)
                .map(|(_, v)| v)
            {
                collect_embedded_ids(b, &mut ids, 0)?;
            }
        }
        let ids: Vec<u16> = ids.into_iter().collect();
        let names = Names(
            ids.iter()
                .zip(self.named_names(&ids)?)
                .filter_map(|(i, n)| n.map(|n| (*i, n)))
                .collect(),
        );
        let mut attachments = Vec::with_capacity(raw.attachments.len());
        for (position, props) in raw.attachments {
            let mut embedded = None;
            let mut rest = Vec::with_capacity(props.len());
            for (t, v) in props {
                match (t, v) {
                    (PR_GROXIDE_EMBEDDED_ITEM, PropValue::Binary(b)) => embedded = Some(b),
                    (PR_ATTACH_METHOD | PR_ATTACH_SIZE | PR_ATTACH_NUM, _) => {}
                    (t, v) => rest.push((t, v)),
                }
            }
            let content = match embedded {
                Some(b) => AttachmentContent::Embedded(Box::new(decode_embedded(&b, &names, 0)?)),
                None => {
                    let mut data = Vec::new();
                    self.attachment_content(id, position)?
                        .read_to_end(&mut data)
                        .map_err(|e| StoreError::io("read attachment of", self.dir(), e))?;
                    AttachmentContent::Data(data)
                }
            };
            attachments.push(Attachment {
                props: names.map(rest),
                content,
            });
        }
        let mut item = item_from_parts(raw.props, raw.recipients, attachments, &names);
        // Store-maintained properties are not the item's.
        for t in [
            PR_MESSAGE_SIZE,
            PR_MESSAGE_SIZE_EXTENDED,
            PR_HASATTACH,
            PR_MESSAGE_DELIVERY_TIME,
        ] {
            item.props.remove(&PropKey::Tag(t));
        }
        if let Some(h) = raw.original.filter(|_| with_original) {
            item.original = Some(self.read_content_file(&h)?);
        }
        Ok((raw.entry, item))
    }

    fn read_content_file(&self, h: &ContentHash) -> Result<Vec<u8>> {
        let path = self.content_path(h);
        std::fs::read(&path).map_err(|e| StoreError::io("read", path, e))
    }
}

impl Store {
    /// Stores `item` in `folder`: a new item, or in place of the one
    /// `target` names, under `pre`. Its named properties get ids first (once
    /// per name and store); its attachments and original are made durable
    /// before the transaction commits.
    pub fn put_item(
        &self,
        folder: impl Into<FolderRef>,
        item: &Item,
        target: PutTarget,
        pre: Precondition,
    ) -> Result<PutOutcome> {
        self.put_item_named(folder, item, target, pre, None)
    }

    /// [`Store::put_item`] giving the item the resource name `name` (as a
    /// DAV client chose it; `None` keeps the name a replaced item has).
    /// A name is unique among a folder's live items, and a new named item
    /// may not share its UID with another: either is
    /// [`StoreError::PreconditionFailed`], nothing written.
    pub fn put_item_named(
        &self,
        folder: impl Into<FolderRef>,
        item: &Item,
        target: PutTarget,
        pre: Precondition,
        name: Option<&str>,
    ) -> Result<PutOutcome> {
        if let Some(n) = name
            && (n.is_empty() || n.len() > MAX_NAME_LEN || n.contains(['/', '\0']))
        {
            return Err(StoreError::InvalidArgument(format!(
                "{n:?} is not a resource name (1 to {MAX_NAME_LEN} bytes, no '/' or NUL)"
            )));
        }
        if item.class == ItemClass::Exception {
            return Err(StoreError::InvalidArgument(
                "an exception is stored inside its series, not alone".into(),
            ));
        }
        let names: Vec<NamedProp> = item.named_props().into_iter().collect();
        let got = self.named_ids_create(&names, true)?;
        let ids: HashMap<NamedProp, u16> = names
            .into_iter()
            .zip(got)
            .filter_map(|(n, i)| i.map(|i| (n, i)))
            .collect();
        let max = self.limits.get().max_message_size;
        let props = resolve_owned(item.message_props(), &ids)?;
        let recipients = item
            .recipients
            .iter()
            .map(|r| resolve_owned(r.to_props(), &ids))
            .collect::<Result<Vec<_>>>()?;
        let mut staged = Vec::new();
        let mut attachments = Vec::with_capacity(item.attachments.len());
        let mut size = props_size(&props) + recipients.iter().map(|r| props_size(r)).sum::<u64>();
        for a in &item.attachments {
            let mut p: Vec<Prop> = resolve_props(a.props.iter(), &ids)?
                .into_iter()
                .filter(|(t, _)| {
                    !matches!(
                        *t,
                        PR_ATTACH_DATA_BIN
                            | PR_ATTACH_NUM
                            | PR_ATTACH_SIZE
                            | PR_ATTACH_METHOD
                            | PR_GROXIDE_EMBEDDED_ITEM
                    )
                })
                .collect();
            match &a.content {
                AttachmentContent::Data(d) => {
                    p.push((PR_ATTACH_METHOD, PropValue::Long(ATTACH_BY_VALUE)));
                    p.push((
                        PR_ATTACH_SIZE,
                        PropValue::Long(i32::try_from(d.len()).unwrap_or(i32::MAX)),
                    ));
                    let mut w = self.files.writer(max)?;
                    w.write_chunk(d)?;
                    let s = w.finish()?;
                    attachments.push((p, Some((s.hash(), s.size()))));
                    size += d.len() as u64;
                    staged.push(s);
                }
                AttachmentContent::Embedded(m) => {
                    let blob = encode_embedded(m, &ids, 1)?;
                    size += blob.len() as u64;
                    p.push((PR_ATTACH_METHOD, PropValue::Long(ATTACH_EMBEDDED_MSG)));
                    p.push((PR_GROXIDE_EMBEDDED_ITEM, PropValue::Binary(blob)));
                    attachments.push((p, None));
                }
            }
            size += props_size(
                &attachments
                    .last()
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default(),
            );
        }
        let original = match &item.original {
            Some(o) => {
                let mut w = self.files.writer(max)?;
                w.write_chunk(o)?;
                let s = w.finish()?;
                size += o.len() as u64;
                let r = (s.hash(), s.size());
                staged.push(s);
                Some(r)
            }
            None => None,
        };
        if size > max {
            return Err(StoreError::TooLarge { size, max });
        }
        let resolved = Resolved {
            props,
            recipients,
            attachments,
            original,
            item_uid: item_uid(item),
            name: name.map(str::to_string),
            format: if item.original.is_some() {
                ItemFormat::of_class(item.class)
            } else {
                ItemFormat::None
            },
            size,
            range: groxide_pim::recur::mapi::occurrence_bounds(item),
        };
        let r = folder.into();
        self.writer.submit(staged, move |ctx| {
            put_in_tx(ctx, r, &target, &pre, &resolved)
        })
    }

    /// Deletes an item (its tombstone tells sync clients), if its entity tag
    /// is `if_match` when given.
    pub fn delete_item(&self, id: MessageId, if_match: Option<String>) -> Result<ImapUid> {
        self.writer.submit((), move |ctx| {
            let row = match messages::get_row(ctx.conn, id) {
                Err(StoreError::NoSuchMessage(_)) if if_match.is_some() => {
                    return Err(StoreError::PreconditionFailed(format!("no item {id}")));
                }
                r => r?,
            };
            if let Some(e) = &if_match {
                check_precondition(&Precondition::IfMatch(e.clone()), Some(&row))?;
            }
            messages::delete_message(ctx, id, true)
        })
    }
}
