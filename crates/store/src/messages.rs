//! Message rows: insert (from MIME or MAPI), flags, properties, copy, move,
//! delete, and the UID bookkeeping that goes with each. Every function here
//! runs inside the writer's transaction ([`WriteCtx`]) or on a read connection.

use crate::error::{Result, StoreError};
use crate::events::ChangeKind;
use crate::flags::{self, FlagOp, ImapFlags};
use crate::folders;
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId, UidRange, UidValidity};
use crate::props::{Prop, PropTag, PropValue, check_prop, encode_bag, from_sql, to_sql};
use crate::tags::*;
use crate::tx::WriteCtx;
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) use crate::message_reads::{
    AttachmentSource, attachment_source, changes_since, list, read,
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
const ENTRY_COLUMNS: &str = entry_columns!();

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
fn select_uids(
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

/// Inserts the message row: takes the folder's next UID and a new change
/// number, counts it in the folder and the store, references its content.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_row(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    flags: ImapFlags,
    keywords: &[String],
    size: u64,
    internal_date: i64,
    content: Option<&ContentHash>,
    origin: ContentOrigin,
    keep_id: Option<MessageId>,
) -> Result<InsertedMessage> {
    let (uid, uidvalidity): (i64, i64) = ctx
        .conn
        .prepare_cached(
            "UPDATE folders SET uidnext = uidnext + 1 WHERE folder_id = ?1 AND deleted_at IS NULL
             RETURNING uidnext - 1, uidvalidity",
        )?
        .query_row([folder.0 as i64], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or(StoreError::NoSuchFolder(folder))?;
    let uid = u32::try_from(uid)
        .ok()
        .filter(|u| *u < u32::MAX)
        .ok_or_else(|| StoreError::NotPermitted(format!("folder {folder} has used up its UIDs")))?;
    let cn = ctx.next_cn()?;
    let id: i64 = ctx
        .conn
        .prepare_cached(
            "INSERT INTO messages (message_id, folder_id, uid, cn, flags, keywords, size, internal_date,
                content_hash, content_kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING message_id",
        )?
        .query_row(
            params![
                keep_id.map(|k| k.0 as i64),
                folder.0 as i64,
                i64::from(uid),
                cn.0 as i64,
                i64::from(flags.bits()),
                flags::join_keywords(keywords),
                size as i64,
                internal_date,
                content.map(|h| h.0.to_vec()),
                origin.code(),
            ],
            |r| r.get(0),
        )?;
    if let Some(h) = content {
        ctx.add_content_ref(h, size)?;
    }
    ctx.adjust_store_totals(1, size as i64)?;
    ctx.adjust_folder(folder, 1, unread(flags), size as i64, cn)?;
    ctx.event(folder, ChangeKind::MessageAdded, Some(ImapUid(uid)), cn);
    Ok(InsertedMessage {
        message_id: MessageId(id as u64),
        folder,
        uid: ImapUid(uid),
        uidvalidity: UidValidity(uidvalidity as u32),
        cn,
    })
}

pub(crate) fn store_props(conn: &Connection, id: MessageId, props: &[Prop]) -> Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT OR REPLACE INTO message_properties (message_id, tag, value) VALUES (?1, ?2, ?3)",
    )?;
    for (tag, value) in props {
        st.execute(params![id.0 as i64, i64::from(tag.0), to_sql(value)])?;
    }
    Ok(())
}

pub(crate) fn store_recipients(
    conn: &Connection,
    id: MessageId,
    recipients: &[Vec<Prop>],
) -> Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO recipients (message_id, position, props) VALUES (?1, ?2, ?3)",
    )?;
    for (i, r) in recipients.iter().enumerate() {
        st.execute(params![id.0 as i64, i as i64, encode_bag(r)])?;
    }
    Ok(())
}

/// Properties derived from a MIME message, ready to store.
#[derive(Debug, Clone, Default)]
pub(crate) struct DerivedMessage {
    pub(crate) props: Vec<Prop>,
    pub(crate) recipients: Vec<Vec<Prop>>,
    pub(crate) attachments: Vec<(Vec<Prop>, String)>,
}

/// Inserts a message that arrived as MIME, its content already staged.
pub(crate) fn insert_mime(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    content: &ContentHash,
    size: u64,
    new: &NewMessage,
    derived: &DerivedMessage,
) -> Result<InsertedMessage> {
    check_size(ctx, size)?;
    ctx.check_room(1, size)?;
    let keywords = flags::normalize_keywords(&new.keywords)?;
    let date = new.internal_date.unwrap_or(ctx.now);
    let ins = insert_row(
        ctx,
        folder,
        new.flags,
        &keywords,
        size,
        date,
        Some(content),
        ContentOrigin::Original,
        None,
    )?;
    let mut props = derived.props.clone();
    props.push((
        PR_MESSAGE_DELIVERY_TIME,
        PropValue::SysTime(crate::props::filetime_from_unix(date)),
    ));
    store_props(ctx.conn, ins.message_id, &props)?;
    store_recipients(ctx.conn, ins.message_id, &derived.recipients)?;
    let mut st = ctx.conn.prepare_cached(
        "INSERT INTO attachments (message_id, position, props, part_path) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, (p, path)) in derived.attachments.iter().enumerate() {
        st.execute(params![
            ins.message_id.0 as i64,
            i as i64,
            encode_bag(p),
            path
        ])?;
    }
    Ok(ins)
}

fn check_size(ctx: &WriteCtx<'_>, size: u64) -> Result<()> {
    if size > ctx.limits.max_message_size {
        return Err(StoreError::TooLarge {
            size,
            max: ctx.limits.max_message_size,
        });
    }
    Ok(())
}

/// The size a MAPI message counts with: its properties, recipients and attachments.
pub(crate) fn mapi_size(m: &MapiMessage) -> u64 {
    let props = |p: &[Prop]| {
        p.iter()
            .map(|(_, v)| v.approximate_size() + 4)
            .sum::<usize>()
    };
    let total = props(&m.props)
        + m.recipients.iter().map(|r| props(r)).sum::<usize>()
        + m.attachments
            .iter()
            .map(|a| props(&a.props) + a.content.len())
            .sum::<usize>();
    total as u64
}

/// Inserts a message created as properties; attachment contents already staged.
pub(crate) fn insert_mapi(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    m: &MapiMessage,
    attachment_content: &[(ContentHash, u64)],
    new: &NewMessage,
) -> Result<InsertedMessage> {
    let size = mapi_size(m);
    check_size(ctx, size)?;
    ctx.check_room(1, size)?;
    let mut fl = new.flags;
    let mut keywords = flags::normalize_keywords(&new.keywords)?;
    let mut props: Vec<Prop> = Vec::with_capacity(m.props.len() + 2);
    for (tag, value) in &m.props {
        check_prop(*tag, value)?;
        if flags::is_flag_mapped(*tag) {
            let (f, k, keep) = flags::set_mapped(*tag, value, fl, &keywords)?;
            fl = f;
            keywords = k;
            if let Some(v) = keep {
                props.push((*tag, v));
            }
        } else if !matches!(*tag, PR_MESSAGE_SIZE | PR_MESSAGE_SIZE_EXTENDED) {
            props.push((*tag, value.clone()));
        }
    }
    for r in &m.recipients {
        for (tag, value) in r {
            check_prop(*tag, value)?;
        }
    }
    let date = new.internal_date.unwrap_or(ctx.now);
    if !props.iter().any(|(t, _)| *t == PR_MESSAGE_DELIVERY_TIME) {
        props.push((
            PR_MESSAGE_DELIVERY_TIME,
            PropValue::SysTime(crate::props::filetime_from_unix(date)),
        ));
    }
    props.retain(|(t, _)| *t != PR_HASATTACH);
    props.push((PR_HASATTACH, PropValue::Bool(!m.attachments.is_empty())));
    let ins = insert_row(
        ctx,
        folder,
        fl,
        &keywords,
        size,
        date,
        None,
        ContentOrigin::None,
        None,
    )?;
    store_props(ctx.conn, ins.message_id, &props)?;
    store_recipients(ctx.conn, ins.message_id, &m.recipients)?;
    let mut st = ctx.conn.prepare_cached(
        "INSERT INTO attachments (message_id, position, props, content_hash) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, (a, (hash, len))) in m.attachments.iter().zip(attachment_content).enumerate() {
        let mut p: Vec<Prop> = a
            .props
            .iter()
            .filter(|(t, _)| !matches!(*t, PR_ATTACH_DATA_BIN | PR_ATTACH_NUM | PR_ATTACH_SIZE))
            .cloned()
            .collect();
        for (tag, value) in &p {
            check_prop(*tag, value)?;
        }
        p.push((
            PR_ATTACH_SIZE,
            PropValue::Long(i32::try_from(*len).unwrap_or(i32::MAX)),
        ));
        st.execute(params![
            ins.message_id.0 as i64,
            i as i64,
            encode_bag(&p),
            &hash.0[..]
        ])?;
        ctx.add_content_ref(hash, *len)?;
    }
    Ok(ins)
}

/// Writes new flags and keywords to a message: new change number, folder counters.
fn write_flags(
    ctx: &mut WriteCtx<'_>,
    row: &MessageRow,
    fl: ImapFlags,
    keywords: &[String],
) -> Result<MessageEntry> {
    let cn = ctx.next_cn()?;
    ctx.conn
        .prepare_cached(
            "UPDATE messages SET flags = ?2, keywords = ?3, cn = ?4 WHERE message_id = ?1",
        )?
        .execute(params![
            row.entry.message_id.0 as i64,
            i64::from(fl.bits()),
            flags::join_keywords(keywords),
            cn.0 as i64
        ])?;
    ctx.adjust_folder(row.folder, 0, unread(fl) - unread(row.entry.flags), 0, cn)?;
    ctx.event(
        row.folder,
        ChangeKind::MessageChanged,
        Some(row.entry.uid),
        cn,
    );
    let mut e = row.entry.clone();
    e.flags = fl;
    e.keywords = keywords.to_vec();
    e.cn = cn;
    Ok(e)
}

/// Changes flags and keywords of the messages of `folder` in `ranges`.
/// With `unchanged_since`, messages whose MODSEQ is higher are left alone and
/// reported as modified (RFC 7162 STORE UNCHANGEDSINCE).
pub(crate) fn set_flags(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    ranges: &[UidRange],
    op: FlagOp,
    fl: ImapFlags,
    keywords: &[String],
    unchanged_since: Option<ChangeNumber>,
) -> Result<FlagsOutcome> {
    folders::get(ctx.conn, folder)?;
    let keywords = flags::normalize_keywords(keywords)?;
    let mut out = FlagsOutcome::default();
    for row in select_uids(ctx.conn, folder, ranges)? {
        if unchanged_since.is_some_and(|u| row.entry.cn > u) {
            out.modified.push(row.entry.uid);
            continue;
        }
        let (nf, nk) =
            flags::apply_flag_op(op, (row.entry.flags, &row.entry.keywords), fl, &keywords);
        if nf == row.entry.flags && nk == row.entry.keywords {
            continue;
        }
        if nk.len() > flags::MAX_KEYWORDS {
            return Err(StoreError::InvalidArgument(format!(
                "more than {} keywords",
                flags::MAX_KEYWORDS
            )));
        }
        out.updated.push(write_flags(ctx, &row, nf, &nk)?);
    }
    Ok(out)
}

/// Sets or clears `\Seen` of one message (MAPI read state).
pub(crate) fn set_read(ctx: &mut WriteCtx<'_>, id: MessageId, read: bool) -> Result<MessageEntry> {
    let row = get_row(ctx.conn, id)?;
    let nf = row.entry.flags.set(ImapFlags::SEEN, read);
    if nf == row.entry.flags {
        return Ok(row.entry);
    }
    let k = row.entry.keywords.clone();
    write_flags(ctx, &row, nf, &k)
}

pub(crate) fn stored_props(conn: &Connection, id: MessageId) -> Result<Vec<Prop>> {
    let mut st =
        conn.prepare_cached("SELECT tag, value FROM message_properties WHERE message_id = ?1")?;
    let mut rows = st.query([id.0 as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let tag = PropTag(r.get::<_, i64>(0)? as u32);
        out.push((tag, from_sql(tag, r.get_ref(1)?)?));
    }
    Ok(out)
}

/// Drops a generated MIME form: the message changed, so it is out of date.
pub(crate) fn invalidate_generated(ctx: &mut WriteCtx<'_>, row: &MessageRow) -> Result<()> {
    if row.origin == ContentOrigin::Generated
        && let Some(h) = row.entry.content_hash
    {
        ctx.conn.execute(
            "UPDATE messages SET content_hash = NULL, content_kind = ?2 WHERE message_id = ?1",
            params![row.entry.message_id.0 as i64, ContentOrigin::None.code()],
        )?;
        ctx.drop_content_ref(&h)?;
    }
    Ok(())
}

/// Sets and removes message properties. Flag-mapped tags change the flags;
/// size and computed tags cannot be set.
pub(crate) fn set_props(
    ctx: &mut WriteCtx<'_>,
    id: MessageId,
    set: &[Prop],
    remove: &[PropTag],
) -> Result<MessageEntry> {
    let row = get_row(ctx.conn, id)?;
    let mut fl = row.entry.flags;
    let mut keywords = row.entry.keywords.clone();
    for (tag, value) in set {
        check_prop(*tag, value)?;
        if matches!(*tag, PR_MESSAGE_SIZE | PR_MESSAGE_SIZE_EXTENDED) {
            return Err(StoreError::InvalidArgument(format!("{tag} is computed")));
        }
        if flags::is_flag_mapped(*tag) {
            let (f, k, keep) = flags::set_mapped(*tag, value, fl, &keywords)?;
            fl = f;
            keywords = k;
            match keep {
                Some(v) => store_props(ctx.conn, id, &[(*tag, v)])?,
                None => remove_prop_rows(ctx.conn, id, &[*tag])?,
            }
        } else {
            store_props(ctx.conn, id, &[(*tag, value.clone())])?;
        }
    }
    for tag in remove {
        if flags::is_flag_mapped(*tag) {
            let (f, k) = flags::remove_mapped(*tag, fl, &keywords);
            fl = f;
            keywords = k;
        }
    }
    remove_prop_rows(ctx.conn, id, remove)?;
    invalidate_generated(ctx, &row)?;
    write_flags(ctx, &row, fl, &keywords)
}

fn remove_prop_rows(conn: &Connection, id: MessageId, tags: &[PropTag]) -> Result<()> {
    let mut st =
        conn.prepare_cached("DELETE FROM message_properties WHERE message_id = ?1 AND tag = ?2")?;
    for t in tags {
        st.execute(params![id.0 as i64, i64::from(t.0)])?;
    }
    Ok(())
}

/// Records the cached MIME form of a MAPI message, if it did not change
/// since `seen_cn`. Not a change: takes no change number.
pub(crate) fn cache_generated(
    ctx: &mut WriteCtx<'_>,
    id: MessageId,
    seen_cn: ChangeNumber,
    hash: &ContentHash,
    size: u64,
) -> Result<bool> {
    let row = get_row(ctx.conn, id)?;
    if row.entry.cn != seen_cn || row.origin != ContentOrigin::None {
        return Ok(false);
    }
    ctx.conn.execute(
        "UPDATE messages SET content_hash = ?2, content_kind = ?3 WHERE message_id = ?1",
        params![id.0 as i64, &hash.0[..], ContentOrigin::Generated.code()],
    )?;
    ctx.add_content_ref(hash, size)?;
    Ok(true)
}

/// Copies the messages of `folder` in `ranges` to `target`: new rows with new UIDs.
pub(crate) fn copy(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    ranges: &[UidRange],
    target: FolderId,
) -> Result<CopyOutcome> {
    folders::get(ctx.conn, folder)?;
    let t = folders::get(ctx.conn, target)?;
    let rows = select_uids(ctx.conn, folder, ranges)?;
    let bytes: u64 = rows.iter().map(|r| r.entry.size).sum();
    ctx.check_room(rows.len() as u64, bytes)?;
    let mut out = CopyOutcome {
        target_uidvalidity: t.uidvalidity,
        uids: Vec::with_capacity(rows.len()),
    };
    for row in rows {
        let e = &row.entry;
        let ins = insert_row(
            ctx,
            target,
            e.flags,
            &e.keywords,
            e.size,
            e.internal_date,
            e.content_hash.as_ref(),
            row.origin,
            None,
        )?;
        let old = e.message_id.0 as i64;
        let new = ins.message_id.0 as i64;
        ctx.conn.execute(
            "INSERT INTO message_properties (message_id, tag, value)
             SELECT ?2, tag, value FROM message_properties WHERE message_id = ?1",
            params![old, new],
        )?;
        ctx.conn.execute(
            "INSERT INTO recipients (message_id, position, props)
             SELECT ?2, position, props FROM recipients WHERE message_id = ?1",
            params![old, new],
        )?;
        ctx.conn.execute(
            "INSERT INTO attachments (message_id, position, props, content_hash, part_path)
             SELECT ?2, position, props, content_hash, part_path FROM attachments WHERE message_id = ?1",
            params![old, new],
        )?;
        for (h, len) in attachment_hashes(ctx.conn, ins.message_id)? {
            ctx.add_content_ref(&h, len)?;
        }
        crate::items::copied(ctx, e.message_id, ins.message_id, target)?;
        out.uids.push((e.uid, ins.uid));
    }
    Ok(out)
}

pub(crate) fn attachment_hashes(
    conn: &Connection,
    id: MessageId,
) -> Result<Vec<(ContentHash, u64)>> {
    let mut st = conn.prepare_cached(
        "SELECT a.content_hash, c.size FROM attachments a JOIN content_files c ON c.hash = a.content_hash
         WHERE a.message_id = ?1 AND a.content_hash IS NOT NULL",
    )?;
    let rows = st.query_map([id.0 as i64], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (h, len) = r?;
        if let Some(h) = ContentHash::from_slice(&h) {
            out.push((h, len as u64));
        }
    }
    Ok(out)
}

/// Leaves a tombstone for `uid` in `folder`.
fn tombstone(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    uid: ImapUid,
    id: MessageId,
    cn: ChangeNumber,
) -> Result<()> {
    ctx.conn
        .prepare_cached("INSERT OR REPLACE INTO message_tombstones (folder_id, uid, message_id, cn, removed_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![folder.0 as i64, i64::from(uid.0), id.0 as i64, cn.0 as i64, ctx.now])?;
    ctx.conn
        .prepare_cached(
            "UPDATE folders SET highest_modseq = max(highest_modseq, ?2) WHERE folder_id = ?1",
        )?
        .execute(params![folder.0 as i64, cn.0 as i64])?;
    ctx.event(folder, ChangeKind::MessageRemoved, Some(uid), cn);
    Ok(())
}

/// Moves the messages of `folder` in `ranges` to `target`: same message ids,
/// new UIDs there, tombstones here. `target` may be `folder` (IMAP MOVE to
/// the selected mailbox, RFC 6851): the messages then get new UIDs in place.
pub(crate) fn move_to(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    ranges: &[UidRange],
    target: FolderId,
) -> Result<CopyOutcome> {
    folders::get(ctx.conn, folder)?;
    let t = folders::get(ctx.conn, target)?;
    let mut out = CopyOutcome {
        target_uidvalidity: t.uidvalidity,
        uids: Vec::new(),
    };
    // Selected before any is renumbered, so a move in place moves each once.
    for row in select_uids(ctx.conn, folder, ranges)? {
        let e = &row.entry;
        let cn_removed = ctx.next_cn()?;
        tombstone(ctx, folder, e.uid, e.message_id, cn_removed)?;
        ctx.adjust_folder(folder, -1, -unread(e.flags), -(e.size as i64), cn_removed)?;
        let (uid, _): (i64, i64) = ctx
            .conn
            .prepare_cached("UPDATE folders SET uidnext = uidnext + 1 WHERE folder_id = ?1 RETURNING uidnext - 1, uidvalidity")?
            .query_row([target.0 as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let uid = u32::try_from(uid)
            .ok()
            .filter(|u| *u < u32::MAX)
            .ok_or_else(|| {
                StoreError::NotPermitted(format!("folder {target} has used up its UIDs"))
            })?;
        let cn = ctx.next_cn()?;
        ctx.conn
            .prepare_cached(
                "UPDATE messages SET folder_id = ?2, uid = ?3, cn = ?4 WHERE message_id = ?1",
            )?
            .execute(params![
                e.message_id.0 as i64,
                target.0 as i64,
                i64::from(uid),
                cn.0 as i64
            ])?;
        ctx.adjust_folder(target, 1, unread(e.flags), e.size as i64, cn)?;
        crate::items::moved(ctx, e.message_id, target)?;
        ctx.event(target, ChangeKind::MessageAdded, Some(ImapUid(uid)), cn);
        out.uids.push((e.uid, ImapUid(uid)));
    }
    Ok(out)
}

/// Deletes the messages of `folder` in `ranges`: soft (kept for
/// `purge_soft_deleted`) or hard. Returns the removed UIDs.
pub(crate) fn delete_uids(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    ranges: &[UidRange],
    hard: bool,
) -> Result<Vec<ImapUid>> {
    folders::get(ctx.conn, folder)?;
    let mut out = Vec::new();
    for row in select_uids(ctx.conn, folder, ranges)? {
        remove(ctx, &row, hard)?;
        out.push(row.entry.uid);
    }
    Ok(out)
}

/// Deletes one message by id.
pub(crate) fn delete_message(ctx: &mut WriteCtx<'_>, id: MessageId, hard: bool) -> Result<ImapUid> {
    let row = get_row(ctx.conn, id)?;
    remove(ctx, &row, hard)?;
    Ok(row.entry.uid)
}

/// Deletes every live message of a folder.
pub(crate) fn delete_all_in_folder(
    ctx: &mut WriteCtx<'_>,
    folder: FolderId,
    hard: bool,
) -> Result<()> {
    let rows = select_uids(ctx.conn, folder, &[UidRange::ALL])?;
    for row in rows {
        remove(ctx, &row, hard)?;
    }
    if hard {
        // Soft-deleted leftovers of this folder go too.
        let ids: Vec<i64> = ctx
            .conn
            .prepare(
                "SELECT message_id FROM messages WHERE folder_id = ?1 AND deleted_at IS NOT NULL",
            )?
            .query_map([folder.0 as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            erase(ctx, MessageId(id as u64))?;
        }
    }
    Ok(())
}

fn remove(ctx: &mut WriteCtx<'_>, row: &MessageRow, hard: bool) -> Result<()> {
    let e = &row.entry;
    let cn = ctx.next_cn()?;
    tombstone(ctx, row.folder, e.uid, e.message_id, cn)?;
    ctx.adjust_folder(row.folder, -1, -unread(e.flags), -(e.size as i64), cn)?;
    ctx.adjust_store_totals(-1, -(e.size as i64))?;
    if hard {
        erase(ctx, e.message_id)?;
    } else {
        ctx.conn
            .prepare_cached("UPDATE messages SET deleted_at = ?2, cn = ?3 WHERE message_id = ?1")?
            .execute(params![e.message_id.0 as i64, ctx.now, cn.0 as i64])?;
    }
    Ok(())
}

/// Removes a message's rows and its content references (no counters: the
/// caller already uncounted it).
fn erase(ctx: &mut WriteCtx<'_>, id: MessageId) -> Result<()> {
    let hash: Option<Option<Vec<u8>>> = ctx
        .conn
        .prepare_cached("SELECT content_hash FROM messages WHERE message_id = ?1")?
        .query_row([id.0 as i64], |r| r.get(0))
        .optional()?;
    if let Some(h) = hash.flatten().as_deref().and_then(ContentHash::from_slice) {
        ctx.drop_content_ref(&h)?;
    }
    for (h, _) in attachment_hashes(ctx.conn, id)? {
        ctx.drop_content_ref(&h)?;
    }
    crate::items::erased(ctx, id)?;
    let i = id.0 as i64;
    ctx.conn
        .prepare_cached("DELETE FROM message_properties WHERE message_id = ?1")?
        .execute([i])?;
    ctx.conn
        .prepare_cached("DELETE FROM recipients WHERE message_id = ?1")?
        .execute([i])?;
    ctx.conn
        .prepare_cached("DELETE FROM attachments WHERE message_id = ?1")?
        .execute([i])?;
    ctx.conn
        .prepare_cached("DELETE FROM messages WHERE message_id = ?1")?
        .execute([i])?;
    Ok(())
}

/// Hard-deletes what was soft-deleted at or before `cutoff` (Unix seconds).
/// Returns (messages, folders) removed.
pub(crate) fn purge_soft_deleted(ctx: &mut WriteCtx<'_>, cutoff: i64) -> Result<(u64, u64)> {
    let ids: Vec<i64> = ctx
        .conn
        .prepare(
            "SELECT message_id FROM messages WHERE deleted_at IS NOT NULL AND deleted_at <= ?1",
        )?
        .query_map([cutoff], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        erase(ctx, MessageId(*id as u64))?;
    }
    let fids: Vec<i64> = ctx
        .conn
        .prepare("SELECT folder_id FROM folders WHERE deleted_at IS NOT NULL AND deleted_at <= ?1 ORDER BY folder_id DESC")?
        .query_map([cutoff], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for f in &fids {
        // Messages soft-deleted later than the folder still belong to it.
        let left: Vec<i64> = ctx
            .conn
            .prepare("SELECT message_id FROM messages WHERE folder_id = ?1")?
            .query_map([*f], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in left {
            erase(ctx, MessageId(id as u64))?;
        }
        folders::remove_folder_rows(ctx.conn, FolderId(*f as u64))?;
    }
    Ok((ids.len() as u64, fids.len() as u64))
}
