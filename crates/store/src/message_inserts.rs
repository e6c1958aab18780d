//! Inserting messages: from MIME or MAPI, with their properties, recipients
//! and attachments; each takes the folder's next UID and a change number.

use crate::error::{Result, StoreError};
use crate::events::ChangeKind;
use crate::flags::{self, ImapFlags};
use crate::ids::{ContentHash, FolderId, ImapUid, MessageId, UidValidity};
use crate::messages::{ContentOrigin, InsertedMessage, MapiMessage, NewMessage, unread};
use crate::props::{Prop, PropValue, check_prop, encode_bag, to_sql};
use crate::tags::*;
use crate::tx::WriteCtx;
use rusqlite::{Connection, OptionalExtension, params};

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
