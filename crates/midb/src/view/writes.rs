//! Writes passed through to the store's writer: STORE, APPEND, COPY/MOVE,
//! EXPUNGE; and quota. The view adds only name resolution, IMAP's `*` rule,
//! the choice of messages an EXPUNGE removes, and the MODSEQ afterwards.

use super::StoreView;
use crate::error::MidbError;
use crate::writes::{AppendMeta, StoreWrites};
use groxide_mailview::{
    AppendRequest, Copied, ExpungeScope, Expunged, FlagChange, FlagUpdate, Flags, FolderId, ModSeq,
    Quota, UidSet,
};

impl<W: StoreWrites> StoreView<W> {
    /// STORE flags and keywords.
    pub async fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        change: &FlagChange,
    ) -> Result<FlagUpdate, MidbError> {
        let open = self.open(dir).await?;
        let uids = Self::resolve_star(&open, folder, uids)?;
        if uids.is_empty() {
            return Ok(FlagUpdate::default());
        }
        Ok(self.writes().set_flags(dir, folder, &uids, change).await?)
    }

    /// The header of an APPEND to the mailbox `req.mailbox`.
    pub async fn append_meta(
        &self,
        dir: &str,
        req: &AppendRequest,
    ) -> Result<AppendMeta, MidbError> {
        let folder = self.folder_of(dir, &req.mailbox).await?;
        // The marker starts below the new message: it is recent to whoever claims it.
        Self::recent_marker(&*self.open(dir).await?, folder, None)?;
        Ok(AppendMeta {
            folder,
            flags: req.flags,
            keywords: req.keywords.clone(),
            internal_date: req.internal_date,
            size: req.size,
        })
    }

    /// The folder's highest MODSEQ now.
    fn modseq(
        &self,
        open: &crate::open_stores::OpenStore,
        folder: FolderId,
    ) -> Result<ModSeq, MidbError> {
        let (f, _) = open
            .reader()
            .folder_with_imap_status(groxide_store::FolderId(folder))?;
        Ok(f.highest_modseq.0)
    }

    /// COPY (or MOVE, `remove`) the messages in `uids` to the mailbox
    /// `target` (which may be the source: MOVE then gives them new UIDs).
    pub async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        target: &str,
        remove: bool,
    ) -> Result<Copied, MidbError> {
        let open = self.open(dir).await?;
        let target = Self::tree(&open)?.find_selectable(target)?.folder;
        let uids = Self::resolve_star(&open, folder, uids)?;
        // The copies are recent to whoever claims them first.
        Self::recent_marker(&open, target, None)?;
        let map = self
            .writes()
            .copy_messages(dir, folder, &uids, target, remove)
            .await?;
        Ok(Copied {
            target_uidvalidity: map.target_uidvalidity,
            pairs: map.pairs,
            modseq: self.modseq(&open, if remove { folder } else { target })?,
        })
    }

    /// EXPUNGE: the messages `which` names are removed; returns their UIDs
    /// and the folder's MODSEQ afterwards.
    pub async fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        which: &ExpungeScope,
    ) -> Result<Expunged, MidbError> {
        let open = self.open(dir).await?;
        let (scope, only_deleted) = match which {
            ExpungeScope::Deleted => (UidSet::all(), true),
            ExpungeScope::DeletedAmong(u) => (Self::resolve_star(&open, folder, u)?, true),
            ExpungeScope::Outright(u) => (Self::resolve_star(&open, folder, u)?, false),
        };
        let picked: Vec<u32> = Self::entries(&open, folder, &scope)?
            .iter()
            .filter(|e| !only_deleted || e.flags.contains(Flags::DELETED))
            .map(|e| e.uid.0)
            .collect();
        if picked.is_empty() {
            return Ok(Expunged {
                uids: Vec::new(),
                modseq: self.modseq(&open, folder)?,
            });
        }
        let uids = self
            .writes()
            .delete_messages(dir, folder, &UidSet::from_uids(picked))
            .await?;
        Ok(Expunged {
            uids,
            modseq: self.modseq(&open, folder)?,
        })
    }

    /// Quota usage of the store.
    pub async fn quota(&self, dir: &str) -> Result<Quota, MidbError> {
        let open = self.open(dir).await?;
        let i = open.reader().info()?;
        Ok(Quota {
            used_bytes: i.size,
            limit_bytes: i.quota_bytes,
            messages: i.message_count,
            message_limit: 0,
        })
    }
}
