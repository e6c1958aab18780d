//! SyncFolderHierarchy and SyncFolderItems.
//!
//! A hierarchy sync state lists the folder ids the client has (a mailbox
//! has few folders), so creations, updates (folder change number above
//! the state's) and deletions are told apart exactly.
//!
//! An item sync state works in rounds over the store's change numbers and
//! the folder's UIDs (which only rise): a round begins at change number
//! `round_cn` with the client knowing the messages up to `round_uid`.
//! First the messages above `sent_uid` go out as creations in UID order
//! (`sent_uid` advances page by page), then the changes since `known_cn`
//! as updates and deletions in change-number order (`known_cn` advances).
//! A message sent as created during the round is reported as updated only
//! for changes after the round began. When a round ends, `known_cn`
//! becomes the folder's highest change number read with those changes.
//! Nothing is lost: every message reaches the client as created once, and
//! a change after that is reported at least once (a few twice).

use super::item::written_items;
use super::{folder::ShownFolder, refuse};
use crate::folders::{FolderShape, write_folder};
use crate::ids::{FolderKey, HierarchySyncState, ItemKey, ItemSyncState};
use crate::items::{FieldSet, ItemKind};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::xml::{Element, EwsElement, XmlWriter};
use groxide_rpc::pb::exmdb::v1 as pb;
use std::sync::Arc;

/// Most changes one SyncFolderItems answer carries (the schema's limit).
const MAX_CHANGES: usize = 512;

struct HierarchyAnswer {
    state: String,
    created: Vec<ShownFolder>,
    updated: Vec<ShownFolder>,
    deleted: Vec<u64>,
}

pub(crate) async fn sync_folder_hierarchy(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let shape = FolderShape::of(op.m("FolderShape"));
    let r = async {
        let root = match op.m("SyncFolderId").and_then(|s| s.children.first()) {
            Some(target) => mb.resolve_folder(target).await?,
            None => mb.folder_by_role("ipm_subtree").await?,
        };
        let old = match op
            .m("SyncState")
            .map(|s| s.text.trim())
            .filter(|s| !s.is_empty())
        {
            Some(text) => {
                let s = HierarchySyncState::decode(text)?;
                if s.root != root.id {
                    return Err(EwsError::new(
                        ResponseCode::ErrorInvalidSyncStateData,
                        "the sync state belongs to another folder",
                    ));
                }
                s
            }
            None => HierarchySyncState {
                root: root.id,
                ..HierarchySyncState::default()
            },
        };
        let all = mb.folders().await?.to_vec();
        // The subtree, parents before children.
        let mut subtree: Vec<&pb::Folder> = Vec::new();
        let mut frontier = vec![root.id];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for id in frontier {
                for f in all
                    .iter()
                    .filter(|f| f.parent_id == id && f.id != id && !f.hidden)
                {
                    subtree.push(f);
                    next.push(f.id);
                }
            }
            frontier = next;
        }
        let children = |id: u64| {
            all.iter()
                .filter(|f| f.parent_id == id && !f.hidden)
                .count() as u64
        };
        let mut created = Vec::new();
        let mut updated = Vec::new();
        for f in &subtree {
            let shown = ShownFolder {
                folder: (*f).clone(),
                children: children(f.id),
            };
            if old.folders.binary_search(&f.id).is_err() {
                created.push(shown);
            } else if f.change_number > old.known_cn {
                updated.push(shown);
            }
        }
        let mut now: Vec<u64> = subtree.iter().map(|f| f.id).collect();
        now.sort_unstable();
        let deleted: Vec<u64> = old
            .folders
            .iter()
            .filter(|id| now.binary_search(id).is_err())
            .copied()
            .collect();
        let known_cn = all
            .iter()
            .map(|f| f.change_number)
            .max()
            .unwrap_or(0)
            .max(old.known_cn);
        let state = HierarchySyncState {
            root: root.id,
            known_cn,
            folders: now,
        }
        .encode();
        Ok(HierarchyAnswer {
            state,
            created,
            updated,
            deleted,
        })
    }
    .await;
    let store = mb.guid().await.unwrap_or_default();
    write_messages(w, "SyncFolderHierarchy", &[r], |w, a| {
        w.leaf("m:SyncState", &a.state)
            .leaf("m:IncludesLastFolderInRange", "true")
            .open("m:Changes", &[]);
        for (element, list) in [("t:Create", &a.created), ("t:Update", &a.updated)] {
            for f in list {
                w.open(element, &[]);
                write_folder(w, store, &f.folder, shape, f.children);
                w.close();
            }
        }
        for id in &a.deleted {
            let id = FolderKey { store, folder: *id }.encode();
            w.open("t:Delete", &[])
                .empty("t:FolderId", &[("Id", &id)])
                .close();
        }
        w.close();
    });
}

enum ItemChange {
    /// The item, written.
    Create(Arc<str>),
    /// The item, written.
    Update(Arc<str>),
    Delete(ItemKey),
}

struct ItemsAnswer {
    state: String,
    last: bool,
    changes: Vec<ItemChange>,
}

pub(crate) async fn sync_folder_items(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let set = FieldSet::from_shape(op.m("ItemShape"));
    let max = op
        .m("MaxChangesReturned")
        .and_then(|m| m.text.trim().parse::<usize>().ok())
        .unwrap_or(MAX_CHANGES)
        .clamp(1, MAX_CHANGES);
    let target = match op.m("SyncFolderId").and_then(|s| s.children.first()) {
        Some(t) => t,
        None => {
            return refuse(
                w,
                "SyncFolderItems",
                EwsError::invalid("SyncFolderId is missing"),
            );
        }
    };
    let r = async {
        let folder = mb.resolve_folder(target).await?;
        let kind = ItemKind::of_container_class(&folder.container_class);
        if !kind.served() {
            return Err(EwsError::unsupported(format!(
                "access to {} over EWS",
                kind.name()
            )));
        }
        let store = mb.guid().await?;
        let mut state = match op
            .m("SyncState")
            .map(|s| s.text.trim())
            .filter(|s| !s.is_empty())
        {
            Some(text) => {
                let s = ItemSyncState::decode(text)?;
                if s.folder != folder.id || s.uidvalidity != folder.uidvalidity {
                    return Err(EwsError::new(
                        ResponseCode::ErrorInvalidSyncStateData,
                        "the sync state belongs to another folder or an older one of its name",
                    ));
                }
                s
            }
            None => ItemSyncState {
                folder: folder.id,
                uidvalidity: folder.uidvalidity,
                ..ItemSyncState::default()
            },
        };
        if state.round_cn == 0 {
            state.round_cn = folder.highest_modseq.max(1);
            state.round_uid = state.sent_uid;
        }
        let key_of = |message: u64, uid: u32| ItemKey {
            store,
            folder: folder.id,
            message,
            uid,
        };
        let mut changes = Vec::new();

        // Creations, in UID order.
        // One more than a page tells whether more follow.
        let limit = u32::try_from(max + 1).unwrap_or(u32::MAX);
        let new = mb
            .list(folder.id, state.sent_uid.saturating_add(1), limit)
            .await?;
        let page: Vec<&pb::MessageEntry> = new.iter().take(max).collect();
        let keys: Vec<ItemKey> = page.iter().map(|e| key_of(e.message_id, e.uid)).collect();
        let loaded = written_items(mb, &keys, &page, set).await?;
        for (e, item) in page.iter().zip(loaded) {
            // A message gone since the listing: its removal follows.
            if let Some(item) = item {
                changes.push(ItemChange::Create(item));
            }
            state.sent_uid = e.uid;
        }
        if new.len() > max {
            return Ok(ItemsAnswer {
                state: state.encode(),
                last: false,
                changes,
            });
        }

        // Updates and deletions, in change-number order.
        let budget = max - changes.len();
        let since = if state.round_uid == 0 {
            state.known_cn.max(state.round_cn)
        } else {
            state.known_cn
        };
        let (found, highest) = mb.changes(folder.id, since).await?;
        let threshold = |uid: u32| {
            if uid <= state.round_uid {
                Some(state.known_cn)
            } else if uid <= state.sent_uid {
                Some(state.known_cn.max(state.round_cn))
            } else {
                None
            }
        };
        let mut relevant: Vec<(u64, pb::MessageChange)> = found
            .into_iter()
            .filter_map(|c| {
                let (uid, cn) = match &c.change {
                    Some(pb::message_change::Change::Changed(e)) => (e.uid, e.change_number),
                    Some(pb::message_change::Change::Removed(r)) => (r.uid, r.change_number),
                    None => return None,
                };
                let t = threshold(uid)?;
                (cn > t).then_some((cn, c))
            })
            .collect();
        relevant.sort_by_key(|(cn, _)| *cn);
        let mut take = relevant.len();
        if take > budget {
            // Cut between change numbers, never inside one (every message
            // change has its own, so a cut inside one cannot happen in
            // practice; if it did, the page would rather be one short).
            take = budget;
            while take > 0 && relevant[take - 1].0 == relevant[take].0 {
                take -= 1;
            }
            if take == 0 && budget > 0 && changes.is_empty() {
                let first = relevant[0].0;
                take = relevant.iter().take_while(|(cn, _)| *cn == first).count();
            }
        }
        let complete = take == relevant.len();
        let relevant: Vec<(u64, pb::MessageChange)> = relevant.into_iter().take(take).collect();
        let changed: Vec<&pb::MessageEntry> = relevant
            .iter()
            .filter_map(|(_, c)| match &c.change {
                Some(pb::message_change::Change::Changed(e)) => Some(e),
                _ => None,
            })
            .collect();
        let keys: Vec<ItemKey> = changed
            .iter()
            .map(|e| key_of(e.message_id, e.uid))
            .collect();
        let mut loaded = written_items(mb, &keys, &changed, set).await?.into_iter();
        for (cn, c) in relevant {
            match c.change {
                Some(pb::message_change::Change::Changed(_)) => {
                    // Moved or deleted since the listing: its removal follows.
                    if let Some(Some(item)) = loaded.next() {
                        changes.push(ItemChange::Update(item));
                    }
                }
                Some(pb::message_change::Change::Removed(r)) => {
                    changes.push(ItemChange::Delete(key_of(r.message_id, r.uid)));
                }
                None => {}
            }
            if !complete {
                state.known_cn = cn;
            }
        }
        if complete {
            state.known_cn = highest.max(state.round_cn);
            state.round_cn = 0;
            state.round_uid = state.sent_uid;
        }
        Ok(ItemsAnswer {
            state: state.encode(),
            last: complete,
            changes,
        })
    }
    .await;
    write_messages(w, "SyncFolderItems", &[r], |w, a| {
        w.leaf("m:SyncState", &a.state)
            .leaf(
                "m:IncludesLastItemInRange",
                if a.last { "true" } else { "false" },
            )
            .open("m:Changes", &[]);
        for c in &a.changes {
            match c {
                ItemChange::Create(item) => {
                    w.open("t:Create", &[]).splice(item).close();
                }
                ItemChange::Update(item) => {
                    w.open("t:Update", &[]).splice(item).close();
                }
                ItemChange::Delete(key) => {
                    w.open("t:Delete", &[])
                        .empty("t:ItemId", &[("Id", &key.encode())])
                        .close();
                }
            }
        }
        w.close();
    });
}
