//! Tombstones of mail folders: compacted after an age
//! ([`Store::compact_mail_tombstones`], `mail_tombstone_max_age`), like
//! those of groupware folders ([`crate::sync`]), and what a reader is told
//! when it asks for removals older than the oldest tombstone kept
//! ([`StoreReader::mail_changes_since`]).
//!
//! IMAP QRESYNC/CONDSTORE has no "too old" answer, but RFC 7162 §3.2.10
//! lets `VANISHED (EARLIER)` name UIDs the client never saw or that never
//! existed. So a client whose MODSEQ predates the compaction is told every
//! UID below UIDNEXT that is not a live message: a superset of what it
//! may still hold, never a silently incomplete list (Dovecot answers the
//! same way when its transaction log no longer reaches back).

use crate::error::Result;
use crate::folders::{self, FolderRef};
use crate::ids::{ChangeNumber, FolderId, UidRange};
use crate::message_reads;
use crate::messages::MessageChange;
use crate::store::{Store, StoreReader};
use crate::sync::compacted_cn;
use rusqlite::{Connection, params};
use std::time::Duration;

/// Folders whose tombstones only IMAP and the mail sync protocols read:
/// IPF.Note and its subclasses, and folders of no IPF class.
pub(crate) const MAIL_FOLDERS: &str =
    "(f.container_class LIKE 'IPF.Note%' OR f.container_class NOT LIKE 'IPF.%')";
/// Folders of the groupware classes (calendar, contacts, tasks, notes, …).
pub(crate) const GROUPWARE_FOLDERS: &str =
    "(f.container_class LIKE 'IPF.%' AND f.container_class NOT LIKE 'IPF.Note%')";

/// Removes the tombstones made at or before `cutoff` (Unix seconds) in the
/// folders `folder_class` selects (an SQL condition on `folders f`), and
/// records per folder up to which change number removals are forgotten.
/// Returns the tombstones removed.
pub(crate) fn compact(conn: &Connection, cutoff: i64, folder_class: &str) -> Result<u64> {
    let folders: Vec<(i64, i64)> = conn
        .prepare(&format!(
            "SELECT t.folder_id, max(t.cn) FROM message_tombstones t
               JOIN folders f ON f.folder_id = t.folder_id
             WHERE t.removed_at <= ?1 AND {folder_class}
             GROUP BY t.folder_id"
        ))?
        .query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut removed = 0;
    for (folder, max_cn) in folders {
        removed += conn.execute(
            "DELETE FROM message_tombstones WHERE folder_id = ?1 AND cn <= ?2",
            params![folder, max_cn],
        )? as u64;
        conn.execute(
            "INSERT INTO folder_sync (folder_id, compacted_cn) VALUES (?1, ?2)
             ON CONFLICT(folder_id) DO UPDATE SET compacted_cn = max(compacted_cn, ?2)",
            params![folder, max_cn],
        )?;
    }
    Ok(removed)
}

/// A folder's changes for IMAP, beside those streamed to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailChanges {
    /// The folder's highest MODSEQ, read in the same snapshot.
    pub highest_modseq: ChangeNumber,
    /// Empty unless removals after the asked change number were compacted
    /// away: then every UID below UIDNEXT that is not a live message
    /// (ascending, disjoint), to be reported as removed as well.
    pub forgotten: Vec<UidRange>,
}

/// The UIDs below `uidnext` that are not live messages of `folder`.
fn gaps(conn: &Connection, folder: FolderId, uidnext: u32) -> Result<Vec<UidRange>> {
    let mut st = conn.prepare_cached(
        "SELECT uid FROM messages INDEXED BY messages_live \
         WHERE folder_id = ?1 AND deleted_at IS NULL ORDER BY uid",
    )?;
    let mut rows = st.query([folder.0 as i64])?;
    let mut out = Vec::new();
    let mut next = 1u32;
    while let Some(r) = rows.next()? {
        let uid = r.get::<_, i64>(0)? as u32;
        if uid > next {
            out.push(UidRange::new(next, uid - 1));
        }
        next = next.max(uid.saturating_add(1));
    }
    if uidnext > next {
        out.push(UidRange::new(next, uidnext - 1));
    }
    Ok(out)
}

impl StoreReader {
    /// [`StoreReader::changes_since`] for IMAP: the removals still known and
    /// the messages changed after `since` go to `each`; when removals after
    /// `since` were compacted away, [`MailChanges::forgotten`] names every
    /// UID the caller must then treat as possibly removed. One snapshot.
    pub fn mail_changes_since(
        &self,
        folder: impl Into<FolderRef>,
        since: ChangeNumber,
        mut each: impl FnMut(MessageChange) -> bool,
    ) -> Result<MailChanges> {
        let r = folder.into();
        self.with_reader(|c| {
            let id = folders::resolve(c, r)?;
            message_reads::changes_since(c, id, since, &mut each)?;
            let f = folders::get(c, id)?;
            let forgotten = if since.0 < compacted_cn(c, id)? {
                gaps(c, id, f.uidnext)?
            } else {
                Vec::new()
            };
            Ok(MailChanges {
                highest_modseq: f.highest_modseq,
                forgotten,
            })
        })
    }
}

impl Store {
    /// Forgets the tombstones of mail folders made more than `older_than`
    /// ago; a reader asking for removals from before them is then told
    /// [`MailChanges::forgotten`]. Returns the tombstones removed.
    pub fn compact_mail_tombstones(&self, older_than: Duration) -> Result<u64> {
        let age = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        self.writer.submit((), move |ctx| {
            compact(ctx.conn, ctx.now.saturating_sub(age), MAIL_FOLDERS)
        })
    }
}
