//! Taking messages out of a folder: move, soft and hard delete, tombstones,
//! and the purge of what was soft-deleted long enough ago.

use crate::error::{Result, StoreError};
use crate::events::ChangeKind;
use crate::folders;
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId, UidRange};
use crate::messages::{CopyOutcome, MessageRow, attachment_hashes, get_row, select_uids, unread};
use crate::tx::WriteCtx;
use rusqlite::{OptionalExtension, params};

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
