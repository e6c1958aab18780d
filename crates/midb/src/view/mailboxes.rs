//! LIST, CREATE, DELETE, RENAME, SUBSCRIBE and STATUS.

use super::StoreView;
use crate::error::MidbError;
use crate::names::{CreatePlan, MailboxEntry, NameError};
use crate::store::{Flags, FolderId, FolderInfo, FolderStatus, Store, StoreError, UidSet};
use futures_util::TryStreamExt;

impl<S: Store> StoreView<S> {
    /// Every listed mailbox of the store.
    pub async fn list_mailboxes(&self, dir: &str) -> Result<Vec<MailboxEntry>, MidbError> {
        let mut entries = self.tree(dir).await?.entries().to_vec();
        let ids = entries.iter().map(|e| e.folder).collect();
        let unsubscribed = self.store().unsubscribed(dir, ids).await?;
        for e in &mut entries {
            e.subscribed = !unsubscribed.contains(&e.folder);
        }
        Ok(entries)
    }

    /// Creates the folders of a plan; returns the last one.
    async fn create_folders(
        &self,
        dir: &str,
        plan: &CreatePlan,
    ) -> Result<Option<FolderInfo>, MidbError> {
        let mut parent = plan.parent;
        let mut last = None;
        for name in &plan.create {
            let f = self.store().create_folder(dir, parent, name).await?;
            parent = f.id;
            last = Some(f);
        }
        Ok(last)
    }

    /// CREATE `name`, with its missing parents. Special-use attributes
    /// belong to the store's standard folders, so a CREATE asking for one is
    /// refused.
    pub async fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: &str,
    ) -> Result<(FolderId, u32), MidbError> {
        if !special_use.is_empty() {
            return Err(NameError::NotPermitted(format!(
                "special use \\{special_use} belongs to a standard folder"
            ))
            .into());
        }
        let tree = self.tree(dir).await?;
        let plan = tree.plan_create(name)?;
        match self.create_folders(dir, &plan).await? {
            Some(f) => Ok((f.id, f.uidvalidity)),
            None => Err(NameError::Exists(name.to_owned()).into()),
        }
    }

    /// DELETE `name`.
    pub async fn delete_mailbox(&self, dir: &str, name: &str) -> Result<(), MidbError> {
        let folder = self.tree(dir).await?.plan_delete(name)?;
        self.store().delete_folder(dir, folder).await?;
        Ok(())
    }

    /// RENAME `from` `to`. Renaming INBOX moves its messages into a new
    /// mailbox and leaves INBOX (and its subfolders) in place (RFC 3501).
    pub async fn rename_mailbox(&self, dir: &str, from: &str, to: &str) -> Result<(), MidbError> {
        let tree = self.tree(dir).await?;
        let plan = tree.plan_rename(from, to)?;
        let parent = match self.create_folders(dir, &plan.parents).await? {
            Some(f) => f.id,
            None => plan.parents.parent,
        };
        if plan.inbox {
            let target = self
                .store()
                .create_folder(dir, parent, &plan.new_display_name)
                .await?;
            self.store()
                .copy_messages(dir, plan.folder, &UidSet::all(), target.id, true)
                .await?;
        } else {
            self.store()
                .move_folder(dir, plan.folder, parent, &plan.new_display_name)
                .await?;
        }
        Ok(())
    }

    /// SUBSCRIBE / UNSUBSCRIBE `name` (kept in the store).
    pub async fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> Result<(), MidbError> {
        let tree = self.tree(dir).await?;
        let e = tree
            .find(name)
            .ok_or_else(|| NameError::NotFound(name.to_owned()))?;
        self.store()
            .set_subscribed(dir, e.folder, subscribed)
            .await?;
        Ok(())
    }

    /// The mailbox `name` and its counters. Counters the store does not
    /// keep (`\Deleted` count, first unseen UID, highest UID) are counted
    /// from a listing of the folder.
    pub async fn mailbox_status(
        &self,
        dir: &str,
        name: &str,
    ) -> Result<(MailboxEntry, FolderStatus), MidbError> {
        let tree = self.tree(dir).await?;
        let e = tree.find_selectable(name)?.clone();
        let mut status = match self.store().folder_status(dir, e.folder).await {
            Ok(s) => s,
            Err(StoreError::NoSuchFolder(_)) => {
                return Err(NameError::NotFound(name.to_owned()).into());
            }
            Err(err) => return Err(err.into()),
        };
        if status.deleted.is_none()
            || status.first_unseen_uid.is_none()
            || status.highest_uid.is_none()
        {
            let (mut deleted, mut first_unseen, mut highest) = (0u32, 0, 0);
            let mut s = self.store().list_messages(dir, e.folder, &UidSet::all());
            while let Some(chunk) = s.try_next().await? {
                for m in chunk {
                    if m.flags.contains(Flags::DELETED) {
                        deleted += 1;
                    }
                    if first_unseen == 0 && !m.flags.contains(Flags::SEEN) {
                        first_unseen = m.uid;
                    }
                    highest = highest.max(m.uid);
                }
            }
            status.deleted.get_or_insert(deleted);
            status.first_unseen_uid.get_or_insert(first_unseen);
            status.highest_uid.get_or_insert(highest);
        }
        Ok((e, status))
    }

    /// The folder of a selectable mailbox.
    pub(crate) async fn folder_of(&self, dir: &str, name: &str) -> Result<FolderId, MidbError> {
        Ok(self.tree(dir).await?.find_selectable(name)?.folder)
    }
}
