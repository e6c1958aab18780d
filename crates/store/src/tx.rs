//! The context every write runs in: the transaction's connection, the
//! store-wide counters (change numbers, size, message count), content file
//! references, and the events and file removals the write produces.

use crate::error::{Result, StoreError};
use crate::events::{ChangeEvent, ChangeKind};
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid};
use crate::limits::StoreLimits;
use rusqlite::{Connection, OptionalExtension, params};

/// One write operation's view of the open transaction.
pub(crate) struct WriteCtx<'c> {
    pub(crate) conn: &'c Connection,
    pub(crate) limits: StoreLimits,
    pub(crate) now: i64,
    pub(crate) events: Vec<ChangeEvent>,
    pub(crate) unlink: Vec<ContentHash>,
}

/// The current Unix time in seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl<'c> WriteCtx<'c> {
    /// Takes the store's next change number.
    pub(crate) fn next_cn(&mut self) -> Result<ChangeNumber> {
        let cn: i64 = self
            .conn
            .prepare_cached(
                "UPDATE store_info SET last_cn = last_cn + 1 WHERE id = 1 RETURNING last_cn",
            )?
            .query_row([], |r| r.get(0))?;
        Ok(ChangeNumber(cn as u64))
    }

    /// Records an event, merging it into the previous one of the same folder and kind.
    pub(crate) fn event(
        &mut self,
        folder: FolderId,
        kind: ChangeKind,
        uid: Option<ImapUid>,
        cn: ChangeNumber,
    ) {
        if let Some(last) = self.events.last_mut()
            && last.folder == folder
            && last.kind == kind
        {
            last.uids.extend(uid);
            last.cn = last.cn.max(cn);
            return;
        }
        self.events.push(ChangeEvent {
            folder,
            kind,
            uids: uid.into_iter().collect(),
            cn,
        });
    }

    /// Adds one reference to a content file.
    pub(crate) fn add_content_ref(&mut self, hash: &ContentHash, size: u64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO content_files (hash, size, refcount) VALUES (?1, ?2, 1)
                 ON CONFLICT(hash) DO UPDATE SET refcount = refcount + 1",
            )?
            .execute(params![&hash.0[..], size as i64])?;
        Ok(())
    }

    /// Drops one reference; the file is removed after the commit when it was the last.
    pub(crate) fn drop_content_ref(&mut self, hash: &ContentHash) -> Result<()> {
        let left: Option<i64> = self
            .conn
            .prepare_cached(
                "UPDATE content_files SET refcount = refcount - 1 WHERE hash = ?1 RETURNING refcount",
            )?
            .query_row([&hash.0[..]], |r| r.get(0))
            .optional()?;
        match left {
            Some(n) if n <= 0 => {
                self.conn
                    .prepare_cached("DELETE FROM content_files WHERE hash = ?1")?
                    .execute([&hash.0[..]])?;
                self.unlink.push(*hash);
            }
            Some(_) => {}
            None => {
                return Err(StoreError::Corrupt(format!(
                    "content {hash} is referenced but not counted"
                )));
            }
        }
        Ok(())
    }

    /// Checks that `messages` more messages of `bytes` bytes fit the store's
    /// quota and message-count limit.
    pub(crate) fn check_room(&self, messages: u64, bytes: u64) -> Result<()> {
        let (size, count, quota): (i64, i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT size_bytes, message_count, quota_bytes FROM store_info WHERE id = 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let (size, count, quota) = (size as u64, count as u64, quota as u64);
        if quota > 0 && bytes > 0 && size.saturating_add(bytes) > quota {
            return Err(StoreError::QuotaExceeded {
                needed: bytes,
                used: size,
                quota,
            });
        }
        let max = self.limits.max_message_count;
        if max > 0 && messages > 0 && count.saturating_add(messages) > max {
            return Err(StoreError::TooManyMessages { count });
        }
        Ok(())
    }

    /// Adjusts the store's size and message count.
    pub(crate) fn adjust_store_totals(&self, messages: i64, bytes: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE store_info SET message_count = message_count + ?1, size_bytes = size_bytes + ?2 WHERE id = 1",
            )?
            .execute(params![messages, bytes])?;
        Ok(())
    }

    /// Adjusts a folder's counters and its HIGHESTMODSEQ.
    pub(crate) fn adjust_folder(
        &self,
        folder: FolderId,
        messages: i64,
        unread: i64,
        bytes: i64,
        cn: ChangeNumber,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE folders SET message_count = message_count + ?2, unread_count = unread_count + ?3,
                   size_bytes = size_bytes + ?4, highest_modseq = max(highest_modseq, ?5)
                 WHERE folder_id = ?1",
            )?
            .execute(params![folder.0 as i64, messages, unread, bytes, cn.0 as i64])?;
        Ok(())
    }
}
