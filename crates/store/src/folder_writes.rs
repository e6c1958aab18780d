//! Folder writes: create, rename, move, properties, delete, empty. Each runs
//! in the writer's transaction and takes a change number. Re-exported from
//! folders.

use crate::error::{Result, StoreError};
use crate::events::ChangeKind;
use crate::folders::{
    FolderInfo, FolderRole, MAX_FOLDER_DEPTH, MAX_FOLDER_NAME_LEN, get, is_computed,
};
use crate::ids::{ChangeNumber, FolderId, UidValidity};
use crate::props::{Prop, PropTag, check_prop, to_sql};
use crate::tags::*;
use crate::tx::WriteCtx;
use rusqlite::{Connection, OptionalExtension, params};

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_FOLDER_NAME_LEN || name.chars().any(char::is_control) {
        return Err(StoreError::InvalidArgument(format!(
            "folder name {name:?} must be 1 to {MAX_FOLDER_NAME_LEN} bytes without control characters"
        )));
    }
    Ok(())
}

pub(crate) fn check_sibling_free(
    conn: &Connection,
    parent: FolderId,
    name: &str,
    except: Option<FolderId>,
) -> Result<()> {
    let taken: Option<i64> = conn
        .prepare_cached(
            "SELECT folder_id FROM folders WHERE parent_id = ?1 AND lower(name) = lower(?2)
               AND deleted_at IS NULL AND folder_id != ?3",
        )?
        .query_row(
            params![parent.0 as i64, name, except.map_or(-1, |e| e.0 as i64)],
            |r| r.get(0),
        )
        .optional()?;
    match taken {
        Some(_) => Err(StoreError::FolderExists {
            parent,
            name: name.to_string(),
        }),
        None => Ok(()),
    }
}

/// A UIDVALIDITY never used before in this store: the current time in
/// seconds, or one more than the last one given out, whichever is larger.
fn next_uidvalidity(ctx: &WriteCtx<'_>) -> Result<UidValidity> {
    let v: i64 = ctx.conn.query_row(
        "UPDATE store_info SET last_uidvalidity = max(last_uidvalidity + 1, ?1) WHERE id = 1
         RETURNING last_uidvalidity",
        [ctx.now.clamp(1, i64::from(u32::MAX))],
        |r| r.get(0),
    )?;
    u32::try_from(v)
        .map(UidValidity)
        .map_err(|_| StoreError::Corrupt("UIDVALIDITY space exhausted".into()))
}

/// Inserts one folder row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_row(
    ctx: &mut WriteCtx<'_>,
    id: FolderId,
    parent: Option<FolderId>,
    name: &str,
    class: &str,
    role: Option<FolderRole>,
    hidden: bool,
) -> Result<ChangeNumber> {
    let cn = ctx.next_cn()?;
    let uidvalidity = next_uidvalidity(ctx)?;
    ctx.conn.execute(
        "INSERT INTO folders (folder_id, parent_id, name, container_class, role, hidden, uidvalidity,
            uidnext, cn, highest_modseq, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8, ?9)",
        params![
            id.0 as i64,
            parent.map(|p| p.0 as i64),
            name,
            class,
            role.map(FolderRole::as_str),
            hidden,
            i64::from(uidvalidity.0),
            cn.0 as i64,
            ctx.now,
        ],
    )?;
    ctx.event(id, ChangeKind::FolderCreated, None, cn);
    Ok(cn)
}

fn depth(conn: &Connection, id: FolderId) -> Result<usize> {
    let mut d = 0;
    let mut cur = Some(id);
    while let Some(c) = cur {
        cur = conn
            .prepare_cached("SELECT parent_id FROM folders WHERE folder_id = ?1")?
            .query_row([c.0 as i64], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten()
            .map(|p| FolderId(p as u64));
        d += 1;
        if d > MAX_FOLDER_DEPTH + 1 {
            break;
        }
    }
    Ok(d)
}

/// Creates a folder under `parent`.
pub(crate) fn create(
    ctx: &mut WriteCtx<'_>,
    parent: FolderId,
    name: &str,
    class: &str,
) -> Result<FolderInfo> {
    check_name(name)?;
    get(ctx.conn, parent)?;
    if depth(ctx.conn, parent)? > MAX_FOLDER_DEPTH {
        return Err(StoreError::InvalidArgument(format!(
            "folders nest at most {MAX_FOLDER_DEPTH} deep"
        )));
    }
    check_sibling_free(ctx.conn, parent, name, None)?;
    let id: i64 = ctx.conn.query_row(
        "UPDATE store_info SET next_folder_id = next_folder_id + 1 WHERE id = 1 RETURNING next_folder_id - 1",
        [],
        |r| r.get(0),
    )?;
    let id = FolderId(id as u64);
    insert_row(ctx, id, Some(parent), name, class, None, false)?;
    get(ctx.conn, id)
}

fn touch(ctx: &mut WriteCtx<'_>, id: FolderId) -> Result<ChangeNumber> {
    let cn = ctx.next_cn()?;
    ctx.conn.execute(
        "UPDATE folders SET cn = ?2 WHERE folder_id = ?1",
        params![id.0 as i64, cn.0 as i64],
    )?;
    ctx.event(id, ChangeKind::FolderChanged, None, cn);
    Ok(cn)
}

fn check_not_standard(f: &FolderInfo, what: &str) -> Result<()> {
    match f.role {
        Some(role) => Err(StoreError::NotPermitted(format!(
            "cannot {what} the standard folder {} ({})",
            f.id,
            role.as_str()
        ))),
        None => Ok(()),
    }
}

/// Renames a folder (standard folders may be renamed, e.g. for a language).
pub(crate) fn rename(ctx: &mut WriteCtx<'_>, id: FolderId, name: &str) -> Result<FolderInfo> {
    check_name(name)?;
    let f = get(ctx.conn, id)?;
    if let Some(parent) = f.parent {
        check_sibling_free(ctx.conn, parent, name, Some(id))?;
    }
    ctx.conn.execute(
        "UPDATE folders SET name = ?2 WHERE folder_id = ?1",
        params![id.0 as i64, name],
    )?;
    touch(ctx, id)?;
    get(ctx.conn, id)
}

/// Moves a folder under a new parent, optionally renaming it.
pub(crate) fn move_to(
    ctx: &mut WriteCtx<'_>,
    id: FolderId,
    new_parent: FolderId,
    name: Option<&str>,
) -> Result<FolderInfo> {
    let f = get(ctx.conn, id)?;
    check_not_standard(&f, "move")?;
    get(ctx.conn, new_parent)?;
    if subtree(ctx.conn, id)?.contains(&new_parent) {
        return Err(StoreError::InvalidArgument(format!(
            "cannot move folder {id} into its own subtree"
        )));
    }
    let name = name.unwrap_or(&f.name).to_string();
    check_name(&name)?;
    check_sibling_free(ctx.conn, new_parent, &name, Some(id))?;
    if depth(ctx.conn, new_parent)? + subtree_height(ctx.conn, id)? > MAX_FOLDER_DEPTH + 1 {
        return Err(StoreError::InvalidArgument(format!(
            "folders nest at most {MAX_FOLDER_DEPTH} deep"
        )));
    }
    ctx.conn.execute(
        "UPDATE folders SET parent_id = ?2, name = ?3 WHERE folder_id = ?1",
        params![id.0 as i64, new_parent.0 as i64, name],
    )?;
    touch(ctx, id)?;
    get(ctx.conn, id)
}

/// The folder and every live folder below it, parents before children.
pub(crate) fn subtree(conn: &Connection, id: FolderId) -> Result<Vec<FolderId>> {
    let mut out = vec![id];
    let mut i = 0;
    let mut st = conn.prepare_cached(
        "SELECT folder_id FROM folders WHERE parent_id = ?1 AND deleted_at IS NULL",
    )?;
    while i < out.len() {
        let kids = st
            .query_map([out[i].0 as i64], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.extend(kids.into_iter().map(|k| FolderId(k as u64)));
        i += 1;
    }
    Ok(out)
}

fn subtree_height(conn: &Connection, id: FolderId) -> Result<usize> {
    let all = subtree(conn, id)?;
    let mut max = 1;
    for f in &all {
        // depth relative to id
        let mut d = 1;
        let mut cur = *f;
        while cur != id {
            let p: Option<i64> = conn
                .prepare_cached("SELECT parent_id FROM folders WHERE folder_id = ?1")?
                .query_row([cur.0 as i64], |r| r.get(0))?;
            match p {
                Some(p) => cur = FolderId(p as u64),
                None => break,
            }
            d += 1;
        }
        max = max.max(d);
    }
    Ok(max)
}

/// Sets and removes folder properties. PR_DISPLAY_NAME renames, PR_CONTAINER_CLASS
/// sets the class; counters are computed and cannot be set.
pub(crate) fn set_props(
    ctx: &mut WriteCtx<'_>,
    id: FolderId,
    set: &[Prop],
    remove: &[PropTag],
) -> Result<()> {
    let f = get(ctx.conn, id)?;
    for (tag, value) in set {
        check_prop(*tag, value)?;
        if is_computed(*tag) {
            return Err(StoreError::InvalidArgument(format!("{tag} is computed")));
        }
        match *tag {
            PR_DISPLAY_NAME => {
                let name = value.as_str().unwrap_or_default();
                check_name(name)?;
                if let Some(parent) = f.parent {
                    check_sibling_free(ctx.conn, parent, name, Some(id))?;
                }
                ctx.conn.execute(
                    "UPDATE folders SET name = ?2 WHERE folder_id = ?1",
                    params![id.0 as i64, name],
                )?;
            }
            PR_CONTAINER_CLASS => {
                ctx.conn.execute(
                    "UPDATE folders SET container_class = ?2 WHERE folder_id = ?1",
                    params![id.0 as i64, value.as_str().unwrap_or_default()],
                )?;
            }
            _ => {
                ctx.conn.execute(
                    "INSERT OR REPLACE INTO folder_properties (folder_id, tag, value) VALUES (?1, ?2, ?3)",
                    params![id.0 as i64, i64::from(tag.0), to_sql(value)],
                )?;
            }
        }
    }
    for tag in remove {
        match *tag {
            PR_DISPLAY_NAME => {
                return Err(StoreError::InvalidArgument("a folder needs a name".into()));
            }
            PR_CONTAINER_CLASS => {
                ctx.conn.execute(
                    "UPDATE folders SET container_class = '' WHERE folder_id = ?1",
                    [id.0 as i64],
                )?;
            }
            _ => {
                ctx.conn.execute(
                    "DELETE FROM folder_properties WHERE folder_id = ?1 AND tag = ?2",
                    params![id.0 as i64, i64::from(tag.0)],
                )?;
            }
        }
    }
    touch(ctx, id)?;
    Ok(())
}

/// Deletes a folder and its subtree: soft (kept for `purge_soft_deleted`,
/// invisible to everyone) or hard (gone at once). Messages go with it.
pub(crate) fn delete(ctx: &mut WriteCtx<'_>, id: FolderId, hard: bool) -> Result<()> {
    let f = get(ctx.conn, id)?;
    check_not_standard(&f, "delete")?;
    let all = subtree(ctx.conn, id)?;
    // Children first, so a crash-free rollback is not needed to keep parents valid.
    for fid in all.iter().rev() {
        crate::messages::delete_all_in_folder(ctx, *fid, hard)?;
        let cn = ctx.next_cn()?;
        if hard {
            remove_folder_rows(ctx.conn, *fid)?;
        } else {
            ctx.conn.execute(
                "UPDATE folders SET deleted_at = ?2, cn = ?3 WHERE folder_id = ?1",
                params![fid.0 as i64, ctx.now, cn.0 as i64],
            )?;
        }
        ctx.conn.execute(
            "INSERT OR REPLACE INTO folder_tombstones (folder_id, cn) VALUES (?1, ?2)",
            params![fid.0 as i64, cn.0 as i64],
        )?;
        ctx.event(*fid, ChangeKind::FolderDeleted, None, cn);
    }
    Ok(())
}

pub(crate) fn remove_folder_rows(conn: &Connection, id: FolderId) -> Result<()> {
    conn.execute(
        "DELETE FROM folder_properties WHERE folder_id = ?1",
        [id.0 as i64],
    )?;
    conn.execute(
        "DELETE FROM message_tombstones WHERE folder_id = ?1",
        [id.0 as i64],
    )?;
    conn.execute("DELETE FROM folders WHERE folder_id = ?1", [id.0 as i64])?;
    Ok(())
}

/// Deletes every message of a folder, and optionally its subfolders.
pub(crate) fn empty(
    ctx: &mut WriteCtx<'_>,
    id: FolderId,
    hard: bool,
    subfolders: bool,
) -> Result<()> {
    get(ctx.conn, id)?;
    crate::messages::delete_all_in_folder(ctx, id, hard)?;
    if subfolders {
        let kids: Vec<i64> = ctx
            .conn
            .prepare("SELECT folder_id FROM folders WHERE parent_id = ?1 AND deleted_at IS NULL")?
            .query_map([id.0 as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for k in kids {
            delete(ctx, FolderId(k as u64), hard)?;
        }
    }
    Ok(())
}
