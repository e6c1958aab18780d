//! Per-folder sync state for the groupware protocols (CalDAV/CardDAV
//! sync-collection, EWS SyncFolderItems, ActiveSync Sync): a token names a
//! folder, its UIDVALIDITY and a change number; the changes since a token
//! are the folder's messages with a higher change number and its
//! tombstones with a higher change number. Tombstones of groupware folders
//! are compacted after an age ([`Store::compact_tombstones`]); a token
//! older than the compaction is refused with
//! [`StoreError::SyncTokenTooOld`], never answered with missing removals.
//!
//! Mail folders are compacted on their own age; IMAP is then told a
//! superset of the removals (`crate::mail_tombstones`).

use crate::error::{Result, StoreError};
use crate::folders::{self, FolderRef};
use crate::ids::{ChangeNumber, FolderId, ImapUid, MessageId, UidValidity};
use crate::items::{self, ItemEntry};
use crate::mail_tombstones;
use crate::store::{Store, StoreReader};
use rusqlite::{Connection, OptionalExtension, params};
use std::fmt;
use std::time::Duration;

/// A folder's sync state: `gx1-<folder>-<uidvalidity>-<cn>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncToken {
    /// The folder.
    pub folder: FolderId,
    /// Its UIDVALIDITY when the token was made (a recreated folder has another).
    pub uidvalidity: UidValidity,
    /// Every change up to this change number is known to the holder.
    pub cn: ChangeNumber,
}

impl fmt::Display for SyncToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gx1-{}-{}-{}",
            self.folder.0, self.uidvalidity.0, self.cn.0
        )
    }
}

impl SyncToken {
    /// Parses a token (`None` for "", the initial sync).
    pub fn parse(s: &str) -> Result<Option<SyncToken>> {
        if s.is_empty() {
            return Ok(None);
        }
        let bad = || StoreError::InvalidArgument(format!("not a sync token: {s:?}"));
        let mut parts = s.strip_prefix("gx1-").ok_or_else(bad)?.split('-');
        let mut num = || -> Result<u64> {
            parts
                .next()
                .and_then(|p| p.parse::<u64>().ok())
                .ok_or_else(bad)
        };
        let t = SyncToken {
            folder: FolderId(num()?),
            uidvalidity: UidValidity(u32::try_from(num()?).map_err(|_| bad())?),
            cn: ChangeNumber(num()?),
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Some(t))
    }
}

/// An item removed from a folder, as its tombstone names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedItem {
    /// Its UID in the folder.
    pub uid: ImapUid,
    /// Its id.
    pub message_id: MessageId,
    /// The change number of the removal.
    pub cn: ChangeNumber,
    /// Its iCalendar/vCard UID ("" when it had none or was no item).
    pub item_uid: String,
    /// Its resource name ("" when it had none).
    pub name: String,
}

/// Items removed from a folder after a change number, with what their
/// tombstones keep of them.
const REMOVED_ITEMS_SQL: &str = "SELECT uid, message_id, cn, item_uid, item_name \
     FROM message_tombstones INDEXED BY message_tombstones_cn \
     WHERE folder_id = ?1 AND cn > ?2 ORDER BY uid";

/// What changed in a folder since a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemChanges {
    /// Items created or changed since, as they are now (all live items for
    /// the initial sync), by UID.
    pub changed: Vec<ItemEntry>,
    /// Items removed since (deleted or moved away), by UID.
    pub removed: Vec<RemovedItem>,
    /// The token of the state this answer brings the caller to.
    pub token: SyncToken,
}

/// Up to which change number the folder's tombstones are compacted (0: none).
pub(crate) fn compacted_cn(conn: &Connection, folder: FolderId) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT compacted_cn FROM folder_sync WHERE folder_id = ?1")?
        .query_row([folder.0 as i64], |r| r.get::<_, i64>(0))
        .optional()?
        .map_or(0, |c| c as u64))
}

impl StoreReader {
    /// The folder's current token.
    pub fn sync_token(&self, folder: impl Into<FolderRef>) -> Result<SyncToken> {
        let r = folder.into();
        self.with_reader(|c| {
            let f = folders::get(c, folders::resolve(c, r)?)?;
            Ok(SyncToken {
                folder: f.id,
                uidvalidity: f.uidvalidity,
                cn: f.highest_modseq,
            })
        })
    }

    /// The changes of `folder` since `token` ("" = everything), read in one
    /// snapshot with the new token. A token of another folder, of a
    /// recreated folder or from before the folder's tombstone compaction is
    /// refused: [`StoreError::SyncTokenTooOld`] for the last two, the caller
    /// then syncs afresh with "".
    pub fn item_changes_since(
        &self,
        folder: impl Into<FolderRef>,
        token: &str,
    ) -> Result<ItemChanges> {
        let since = SyncToken::parse(token)?;
        let r = folder.into();
        self.with_reader(|c| {
            let f = folders::get(c, folders::resolve(c, r)?)?;
            let now = SyncToken {
                folder: f.id,
                uidvalidity: f.uidvalidity,
                cn: f.highest_modseq,
            };
            let mut out = ItemChanges {
                changed: Vec::new(),
                removed: Vec::new(),
                token: now,
            };
            let Some(since) = since else {
                items::list(c, f.id, &mut |e| {
                    out.changed.push(e);
                    true
                })?;
                return Ok(out);
            };
            if since.folder != f.id {
                return Err(StoreError::InvalidArgument(format!(
                    "sync token {since} is of folder {}, not {}",
                    since.folder, f.id
                )));
            }
            if since.uidvalidity != f.uidvalidity {
                return Err(StoreError::SyncTokenTooOld(format!(
                    "{since}: folder {} was recreated",
                    f.id
                )));
            }
            if since.cn > now.cn {
                return Err(StoreError::InvalidArgument(format!(
                    "sync token {since} is newer than the folder ({now})"
                )));
            }
            let compacted = compacted_cn(c, f.id)?;
            if since.cn.0 < compacted {
                return Err(StoreError::SyncTokenTooOld(format!(
                    "{since}: removals up to change {compacted} are forgotten"
                )));
            }
            let mut st = c.prepare_cached(REMOVED_ITEMS_SQL)?;
            let mut rows = st.query(params![f.id.0 as i64, since.cn.0 as i64])?;
            while let Some(row) = rows.next()? {
                out.removed.push(RemovedItem {
                    uid: ImapUid(row.get::<_, i64>(0)? as u32),
                    message_id: MessageId(row.get::<_, i64>(1)? as u64),
                    cn: ChangeNumber(row.get::<_, i64>(2)? as u64),
                    item_uid: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    name: row.get::<_, Option<String>>(4)?.unwrap_or_default(),
                });
            }
            items::changed_since(c, f.id, since.cn, &mut |e| {
                out.changed.push(e);
                true
            })?;
            Ok(out)
        })
    }
}

impl Store {
    /// Forgets the tombstones of groupware folders (container class IPF.*
    /// other than IPF.Note) made more than `older_than` ago; tokens from
    /// before them are refused from then on. Returns the tombstones removed.
    pub fn compact_tombstones(&self, older_than: Duration) -> Result<u64> {
        let age = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        self.writer.submit((), move |ctx| {
            mail_tombstones::compact(
                ctx.conn,
                ctx.now.saturating_sub(age),
                mail_tombstones::GROUPWARE_FOLDERS,
            )
        })
    }
}
