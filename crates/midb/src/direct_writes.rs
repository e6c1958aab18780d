//! [`StoreWrites`] straight into the store engine of this process: the view
//! over a store with no groxide-exmdb in front of it. This is for tests of
//! the view and of the protocols above it (imap, pop3), which then run the
//! production view over a real temp-dir store. It must never run beside a
//! groxide-exmdb serving the same stores (a store has one writer), so it
//! is compiled only with the `direct-writes` feature.

use crate::exmdb_writes::{PR_GROXIDE_IMAP_SPECIAL_USE, PR_GROXIDE_IMAP_UNSUBSCRIBED};
use crate::writes::{AppendMeta, ByteStream, CopyMap, CreatedFolder, StoreWrites};
use futures_util::StreamExt;
use groxide_mailview::{
    Appended, FlagChange, FlagUpdate, FolderId, MessageEntry, Uid, UidSet, ViewError,
};
use groxide_store::{
    FolderRef, NewMessage, PropTag, PropValue, Store, StoreError, StoreManager, UidRange,
};
use std::path::Path;
use std::sync::Arc;

/// Writes into stores opened by this process's [`StoreManager`].
pub struct DirectWrites {
    stores: Arc<StoreManager>,
}

impl DirectWrites {
    /// Writes through `stores`.
    pub fn new(stores: Arc<StoreManager>) -> DirectWrites {
        DirectWrites { stores }
    }

    /// The store manager.
    pub fn stores(&self) -> &Arc<StoreManager> {
        &self.stores
    }

    async fn run<T: Send + 'static>(
        &self,
        dir: &str,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ViewError> {
        let stores = self.stores.clone();
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || {
            let store = stores.open(Path::new(&dir))?;
            f(&store)
        })
        .await
        .map_err(|e| ViewError::Internal(e.to_string()))?
        .map_err(view_error)
    }
}

/// The view error of a store error.
fn view_error(e: StoreError) -> ViewError {
    match e {
        StoreError::NoSuchFolder(_) | StoreError::NoSuchRole(_) => ViewError::NoSuchMailbox,
        StoreError::NoSuchMessage(_) | StoreError::NoSuchUid { .. } => ViewError::NoSuchMessage,
        StoreError::FolderExists { .. } => ViewError::MailboxExists,
        StoreError::QuotaExceeded { .. } | StoreError::TooManyMessages { .. } => {
            ViewError::OverQuota
        }
        StoreError::TooLarge { .. } => ViewError::TooBig,
        StoreError::NotPermitted(m) | StoreError::InvalidArgument(m) => ViewError::NotPermitted(m),
        other => ViewError::Internal(other.to_string()),
    }
}

fn store_ranges(uids: &UidSet) -> Vec<UidRange> {
    uids.ranges()
        .iter()
        .map(|r| UidRange::new(r.first, r.last))
        .collect()
}

fn entry(e: &groxide_store::MessageEntry) -> MessageEntry {
    MessageEntry {
        uid: e.uid.0,
        flags: e.flags,
        keywords: e.keywords.clone(),
        modseq: e.cn.0,
        size: e.size,
        internal_date: e.internal_date,
    }
}

fn id(f: FolderId) -> FolderRef {
    FolderRef::Id(groxide_store::FolderId(f))
}

impl StoreWrites for DirectWrites {
    async fn create_folder(
        &self,
        dir: &str,
        parent: FolderId,
        name: &str,
    ) -> Result<CreatedFolder, ViewError> {
        let name = name.to_owned();
        let f = self
            .run(dir, move |s| s.create_folder(id(parent), &name, "IPF.Note"))
            .await?;
        Ok(CreatedFolder {
            id: f.id.0,
            uidvalidity: f.uidvalidity.0,
        })
    }

    async fn move_folder(
        &self,
        dir: &str,
        folder: FolderId,
        new_parent: FolderId,
        new_name: &str,
    ) -> Result<(), ViewError> {
        let name = new_name.to_owned();
        self.run(dir, move |s| {
            s.move_folder(id(folder), id(new_parent), Some(&name))
        })
        .await?;
        Ok(())
    }

    async fn delete_folder(&self, dir: &str, folder: FolderId) -> Result<(), ViewError> {
        self.run(dir, move |s| s.delete_folder(id(folder), false))
            .await
    }

    async fn set_subscribed(
        &self,
        dir: &str,
        folder: FolderId,
        subscribed: bool,
    ) -> Result<(), ViewError> {
        let tag = PropTag(PR_GROXIDE_IMAP_UNSUBSCRIBED);
        self.run(dir, move |s| {
            if subscribed {
                s.set_folder_props(id(folder), Vec::new(), vec![tag])
            } else {
                s.set_folder_props(id(folder), vec![(tag, PropValue::Bool(true))], Vec::new())
            }
        })
        .await
    }

    async fn set_dangling_subscriptions(
        &self,
        dir: &str,
        root: FolderId,
        names: Vec<String>,
    ) -> Result<(), ViewError> {
        let tag = PropTag(crate::exmdb_writes::PR_GROXIDE_IMAP_DANGLING_SUBSCRIPTIONS);
        self.run(dir, move |s| {
            if names.is_empty() {
                s.set_folder_props(id(root), Vec::new(), vec![tag])
            } else {
                s.set_folder_props(
                    id(root),
                    vec![(tag, PropValue::MvUnicode(names))],
                    Vec::new(),
                )
            }
        })
        .await
    }

    async fn set_special_use(
        &self,
        dir: &str,
        folder: FolderId,
        special_use: Option<groxide_mailview::SpecialUse>,
    ) -> Result<(), ViewError> {
        let tag = PropTag(PR_GROXIDE_IMAP_SPECIAL_USE);
        self.run(dir, move |s| match special_use {
            Some(u) => s.set_folder_props(
                id(folder),
                vec![(tag, PropValue::Unicode(u.as_str().to_owned()))],
                Vec::new(),
            ),
            None => s.set_folder_props(id(folder), Vec::new(), vec![tag]),
        })
        .await
    }

    async fn set_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        change: &FlagChange,
    ) -> Result<FlagUpdate, ViewError> {
        let (ranges, change) = (store_ranges(uids), change.clone());
        let out = self
            .run(dir, move |s| {
                s.set_flags(
                    id(folder),
                    ranges,
                    change.mode,
                    change.flags,
                    change.keywords,
                    (change.unchanged_since > 0)
                        .then_some(groxide_store::ChangeNumber(change.unchanged_since)),
                )
            })
            .await?;
        Ok(FlagUpdate {
            updated: out.updated.iter().map(entry).collect(),
            modified: groxide_mailview::ranges_of(out.modified.iter().map(|u| u.0)),
        })
    }

    async fn append(
        &self,
        dir: &str,
        meta: AppendMeta,
        mut body: ByteStream,
    ) -> Result<Appended, ViewError> {
        let mut raw = Vec::new();
        while let Some(chunk) = body.next().await {
            raw.extend_from_slice(&chunk?);
        }
        if raw.len() as u64 != meta.size {
            return Err(ViewError::NotPermitted(format!(
                "the message has {} bytes, {} were announced",
                raw.len(),
                meta.size
            )));
        }
        let ins = self
            .run(dir, move |s| {
                s.insert_mime_from(
                    id(meta.folder),
                    std::io::Cursor::new(raw),
                    NewMessage {
                        flags: meta.flags,
                        keywords: meta.keywords,
                        internal_date: (meta.internal_date != 0).then_some(meta.internal_date),
                    },
                )
            })
            .await?;
        Ok(Appended {
            uidvalidity: ins.uidvalidity.0,
            uid: ins.uid.0,
        })
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        target: FolderId,
        remove_source: bool,
    ) -> Result<CopyMap, ViewError> {
        let ranges = store_ranges(uids);
        let out = self
            .run(dir, move |s| {
                if remove_source {
                    s.move_messages(id(folder), ranges, id(target))
                } else {
                    s.copy_messages(id(folder), ranges, id(target))
                }
            })
            .await?;
        let mut pairs: Vec<(Uid, Uid)> = out.uids.iter().map(|(a, b)| (a.0, b.0)).collect();
        pairs.sort_unstable();
        Ok(CopyMap {
            target_uidvalidity: out.target_uidvalidity.0,
            pairs,
        })
    }

    async fn delete_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
    ) -> Result<Vec<Uid>, ViewError> {
        let ranges = store_ranges(uids);
        let mut removed: Vec<Uid> = self
            .run(dir, move |s| s.delete_messages(id(folder), ranges, false))
            .await?
            .iter()
            .map(|u| u.0)
            .collect();
        removed.sort_unstable();
        Ok(removed)
    }

    async fn make_mime(&self, dir: &str, message_id: u64) -> Result<(), ViewError> {
        self.run(dir, move |s| {
            s.content(groxide_store::MessageId(message_id)).map(|_| ())
        })
        .await
    }

    async fn open_store(&self, dir: &str) -> Result<(), ViewError> {
        self.run(dir, |_| Ok(())).await
    }
}
