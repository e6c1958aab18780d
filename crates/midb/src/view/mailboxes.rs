//! LIST, CREATE, DELETE, RENAME, SUBSCRIBE and STATUS.

use super::StoreView;
use crate::error::MidbError;
use crate::exmdb_writes::{
    PR_GROXIDE_IMAP_DANGLING_SUBSCRIPTIONS, PR_GROXIDE_IMAP_SPECIAL_USE,
    PR_GROXIDE_IMAP_UNSUBSCRIBED,
};
use crate::names::{CreatePlan, FolderInfo, MailboxTree, NameError};
use crate::open_stores::OpenStore;
use crate::writes::StoreWrites;
use groxide_mailview::{FolderId, MailboxEntry, MailboxStatus, SpecialUse, UidSet};
use groxide_store::{PropTag, PropValue};

impl<W: StoreWrites> StoreView<W> {
    /// Every listed mailbox of the store, with its subscription and the
    /// special use a user gave it (folder properties), from one snapshot.
    pub async fn list_mailboxes(&self, dir: &str) -> Result<Vec<MailboxEntry>, MidbError> {
        let open = self.open(dir).await?;
        let folders = open.reader().folders_with_props(&[
            PropTag(PR_GROXIDE_IMAP_UNSUBSCRIBED),
            PropTag(PR_GROXIDE_IMAP_SPECIAL_USE),
            PropTag(PR_GROXIDE_IMAP_DANGLING_SUBSCRIPTIONS),
        ])?;
        let mut unsubscribed = std::collections::HashSet::new();
        let mut marked = std::collections::HashMap::new();
        let mut dangling = Vec::new();
        for (f, props) in &folders {
            for (t, v) in props {
                match (t.0, v) {
                    (PR_GROXIDE_IMAP_UNSUBSCRIBED, PropValue::Bool(true)) => {
                        unsubscribed.insert(f.id.0);
                    }
                    (PR_GROXIDE_IMAP_SPECIAL_USE, PropValue::Unicode(u)) => {
                        if let Some(u) = SpecialUse::parse(u) {
                            marked.insert(f.id.0, u);
                        }
                    }
                    (PR_GROXIDE_IMAP_DANGLING_SUBSCRIPTIONS, PropValue::MvUnicode(names)) => {
                        dangling.clone_from(names);
                    }
                    _ => {}
                }
            }
        }
        let infos: Vec<FolderInfo> = folders
            .iter()
            .map(|(f, _)| FolderInfo::of_store(f))
            .collect();
        let tree = MailboxTree::build(&infos);
        let mut out: Vec<MailboxEntry> = tree
            .entries()
            .iter()
            .map(|e| {
                let mut v = e.to_view();
                v.subscribed = !unsubscribed.contains(&e.folder);
                // A standard folder keeps its own use.
                if v.special_use.is_none() {
                    v.special_use = marked.get(&e.folder).copied();
                }
                v
            })
            .collect();
        // Subscriptions outlive their mailboxes (RFC 3501 §6.3.6).
        for name in dangling {
            if tree.find(&name).is_none() {
                out.push(MailboxEntry {
                    name,
                    folder: 0,
                    special_use: None,
                    subscribed: true,
                    has_children: false,
                    noselect: true,
                    nonexistent: true,
                });
            }
        }
        Ok(out)
    }

    /// The names subscribed without a mailbox, and the IPM_SUBTREE folder
    /// that keeps them.
    fn dangling_subscriptions(
        open: &OpenStore,
        tree: &MailboxTree,
    ) -> Result<Vec<String>, MidbError> {
        let root = tree.root();
        let props = open
            .reader()
            .folders_with_props(&[PropTag(PR_GROXIDE_IMAP_DANGLING_SUBSCRIPTIONS)])?;
        Ok(props
            .into_iter()
            .filter(|(f, _)| f.id.0 == root)
            .flat_map(|(_, p)| p)
            .find_map(|(_, v)| match v {
                PropValue::MvUnicode(names) => Some(names),
                _ => None,
            })
            .unwrap_or_default())
    }

    /// Creates the folders of a plan, parents first; returns them.
    async fn create_folders(
        &self,
        dir: &str,
        plan: &CreatePlan,
    ) -> Result<Vec<(FolderId, u32)>, MidbError> {
        let mut parent = plan.parent;
        let mut created = Vec::with_capacity(plan.create.len());
        for name in &plan.create {
            let f = self.writes().create_folder(dir, parent, name).await?;
            parent = f.id;
            created.push((f.id, f.uidvalidity));
        }
        Ok(created)
    }

    /// CREATE `name`, with its missing parents (RFC 6154 CREATE-SPECIAL-USE:
    /// `\Archive` marks the new folder; the uses of the standard folders —
    /// Sent, Drafts, Trash, Junk — are theirs and refused).
    pub async fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<(FolderId, u32), MidbError> {
        if let Some(u) = special_use.filter(|u| u.is_standard()) {
            return Err(MidbError::Write(
                groxide_mailview::ViewError::SpecialUseTaken(u.as_str().to_owned()),
            ));
        }
        let open = self.open(dir).await?;
        let tree = Self::tree(&open)?;
        let plan = tree.plan_create(name)?;
        let folders = self.create_folders(dir, &plan).await?;
        let Some(&created) = folders.last() else {
            return Err(NameError::Exists(name.to_owned()).into());
        };
        // Parents made on the way are not subscribed either.
        for &(parent, _) in &folders[..folders.len() - 1] {
            self.writes().set_subscribed(dir, parent, false).await?;
        }
        // A new mailbox is not subscribed (as in Dovecot), unless its name
        // stayed subscribed after an earlier mailbox of that name was deleted.
        let mut dangling = Self::dangling_subscriptions(&open, &tree)?;
        let before = dangling.len();
        dangling.retain(|n| n != name);
        if dangling.len() != before {
            self.writes()
                .set_dangling_subscriptions(dir, tree.root(), dangling)
                .await?;
        } else {
            self.writes().set_subscribed(dir, created.0, false).await?;
        }
        if let Some(u) = special_use {
            self.writes()
                .set_special_use(dir, created.0, Some(u))
                .await?;
        }
        Ok(created)
    }

    /// DELETE `name`.
    pub async fn delete_mailbox(&self, dir: &str, name: &str) -> Result<(), MidbError> {
        let open = self.open(dir).await?;
        let tree = Self::tree(&open)?;
        let folder = tree.plan_delete(name)?;
        let subscribed = !open
            .reader()
            .folders_with_props(&[PropTag(PR_GROXIDE_IMAP_UNSUBSCRIBED)])?
            .into_iter()
            .any(|(f, p)| {
                f.id.0 == folder && p.iter().any(|(_, v)| matches!(v, PropValue::Bool(true)))
            });
        self.writes().delete_folder(dir, folder).await?;
        // The subscription stays (RFC 3501 §6.3.6): LSUB and LIST (SUBSCRIBED)
        // show the name, as \NonExistent, until it is unsubscribed.
        if subscribed && let Some(e) = tree.find(name) {
            let mut dangling = Self::dangling_subscriptions(&open, &tree)?;
            if !dangling.contains(&e.name) {
                dangling.push(e.name.clone());
                self.writes()
                    .set_dangling_subscriptions(dir, tree.root(), dangling)
                    .await?;
            }
        }
        Ok(())
    }

    /// RENAME `from` `to`. Renaming INBOX moves its messages into a new
    /// mailbox and leaves INBOX (and its subfolders) in place (RFC 3501).
    pub async fn rename_mailbox(&self, dir: &str, from: &str, to: &str) -> Result<(), MidbError> {
        let open = self.open(dir).await?;
        let plan = Self::tree(&open)?.plan_rename(from, to)?;
        let parent = match self.create_folders(dir, &plan.parents).await?.last() {
            Some(&(id, _)) => id,
            None => plan.parents.parent,
        };
        if plan.inbox {
            let target = self
                .writes()
                .create_folder(dir, parent, &plan.new_display_name)
                .await?;
            self.writes()
                .copy_messages(dir, plan.folder, &UidSet::all(), target.id, true)
                .await?;
        } else {
            self.writes()
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
        let open = self.open(dir).await?;
        let tree = Self::tree(&open)?;
        let Some(e) = tree.find(name) else {
            // UNSUBSCRIBE of a name without a mailbox drops a kept
            // subscription, or does nothing (as in Dovecot).
            if subscribed {
                return Err(NameError::NotFound(name.to_owned()).into());
            }
            let mut dangling = Self::dangling_subscriptions(&open, &tree)?;
            let before = dangling.len();
            dangling.retain(|n| n != name);
            if dangling.len() != before {
                self.writes()
                    .set_dangling_subscriptions(dir, tree.root(), dangling)
                    .await?;
            }
            return Ok(());
        };
        self.writes()
            .set_subscribed(dir, e.folder, subscribed)
            .await?;
        Ok(())
    }

    /// The counters of the selectable mailbox `name`, from one snapshot.
    pub async fn mailbox_status(&self, dir: &str, name: &str) -> Result<MailboxStatus, MidbError> {
        let open = self.open(dir).await?;
        let r = open.reader().read(|t| {
            let folders: Vec<FolderInfo> = t.folders()?.iter().map(FolderInfo::of_store).collect();
            let tree = MailboxTree::build(&folders);
            let Ok(e) = tree.find_selectable(name) else {
                return Ok(None);
            };
            let (f, st) = t.folder_with_imap_status(groxide_store::FolderId(e.folder))?;
            Ok(Some((f, st)))
        })?;
        let Some((f, st)) = r else {
            return Err(NameError::NotFound(name.to_owned()).into());
        };
        Ok(MailboxStatus {
            folder: f.id.0,
            uidvalidity: f.uidvalidity.0,
            uidnext: f.uidnext,
            exists: u32::try_from(f.message_count).unwrap_or(u32::MAX),
            unseen: u32::try_from(f.unread_count).unwrap_or(u32::MAX),
            deleted: st.deleted,
            highest_modseq: f.highest_modseq.0,
            size: f.size,
            first_unseen_uid: st.first_unseen_uid,
            highest_uid: st.highest_uid,
        })
    }

    /// The folder of the mailbox `name` (any listed one, for COPY targets).
    pub(crate) async fn folder_of(&self, dir: &str, name: &str) -> Result<FolderId, MidbError> {
        let open = self.open(dir).await?;
        Ok(Self::tree(&open)?.find_selectable(name)?.folder)
    }
}
