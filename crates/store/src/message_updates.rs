//! Changing a stored message: flags, keywords, properties, and the cached
//! MIME form of a MAPI message.

use crate::error::{Result, StoreError};
use crate::events::ChangeKind;
use crate::flags::{self, FlagOp, ImapFlags};
use crate::folders;
use crate::ids::{ChangeNumber, ContentHash, FolderId, MessageId, UidRange};
use crate::messages::{
    ContentOrigin, FlagsOutcome, MessageEntry, MessageRow, get_row, select_uids, store_props,
    unread,
};
use crate::props::{Prop, PropTag, check_prop, from_sql};
use crate::tags::*;
use crate::tx::WriteCtx;
use rusqlite::{Connection, params};

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
    crate::items::range_unknown(ctx.conn, id)?;
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
