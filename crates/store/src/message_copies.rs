//! Copying messages to another folder: new rows, new UIDs, shared content.

use crate::error::Result;
use crate::folders;
use crate::ids::{ContentHash, FolderId, MessageId, UidRange};
use crate::messages::{CopyOutcome, insert_row, select_uids};
use crate::tx::WriteCtx;
use rusqlite::{Connection, params};

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
