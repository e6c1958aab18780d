//! The authenticated user's store as the operations see it: its GUID (for
//! ids), its folder list (read once per request), folder and item ids
//! resolved against it, and every exmdb call with its errors turned into
//! response codes.

use crate::Ews;
use crate::folders::role_of;
use crate::ids::{FolderKey, ItemKey, StoreGuid};
use crate::items::{ItemKind, StoreSelection};
use crate::response::{EwsError, ResponseCode};
use crate::xml::{Element, EwsElement, NS_TYPES};
use futures_util::StreamExt;
use groxide_rpc::exmdb_client::{folder_id, folder_role};
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::exmdb::v1 as pb;
use std::sync::Arc;

/// Most messages one ReadMessages call asks for (exmdb's limit is 1000).
const READ_BATCH: usize = 500;

/// One request's view of the user's store.
pub(crate) struct Mailbox<'a> {
    ews: &'a Ews,
    /// The store dir.
    pub dir: String,
    /// The user's login name.
    pub user: String,
    /// The user's zone (IANA), "" when unknown.
    pub timezone: String,
    guid: Option<StoreGuid>,
    folders: Option<Vec<pb::Folder>>,
    /// Folders read one by one before (or without) the whole list: a
    /// listing names one folder, and reads just that one.
    single: Vec<pb::Folder>,
}

fn store_error(e: &groxide_rpc::RpcError, missing: ResponseCode) -> EwsError {
    EwsError::from_rpc(e, missing)
}

impl<'a> Mailbox<'a> {
    pub(crate) fn new(ews: &'a Ews, dir: &str, user: &str, timezone: &str) -> Mailbox<'a> {
        Mailbox {
            ews,
            dir: dir.to_string(),
            user: user.to_string(),
            timezone: timezone.to_string(),
            guid: ews.cached_guid(dir),
            folders: None,
            single: Vec::new(),
        }
    }

    /// The module (subscriptions, copy notes).
    pub(crate) fn module(&self) -> &'a Ews {
        self.ews
    }

    pub(crate) fn exmdb(&self) -> &groxide_rpc::ExmdbClient {
        &self.ews.exmdb
    }

    /// The store's GUID.
    pub(crate) async fn guid(&mut self) -> Result<StoreGuid, EwsError> {
        if let Some(g) = self.guid {
            return Ok(g);
        }
        if self.dir.is_empty() {
            return Err(EwsError::new(
                ResponseCode::ErrorFolderNotFound,
                "this account has no mailbox",
            ));
        }
        let info = self
            .exmdb()
            .get_store_info(pb::StoreRequest {
                dir: self.dir.clone(),
            })
            .await
            .map_err(|e| store_error(&e, ResponseCode::ErrorFolderNotFound))?;
        let guid: StoreGuid = info.mailbox_guid.as_slice().try_into().map_err(|_| {
            EwsError::new(
                ResponseCode::ErrorInternalServerError,
                "the store has no mailbox GUID",
            )
        })?;
        self.ews.remember_guid(&self.dir, guid);
        self.guid = Some(guid);
        Ok(guid)
    }

    /// Every folder of the store (read once per request).
    pub(crate) async fn folders(&mut self) -> Result<&[pb::Folder], EwsError> {
        if self.folders.is_none() {
            let reply = self
                .exmdb()
                .list_folders(pb::ListFoldersRequest {
                    dir: self.dir.clone(),
                    prop_tags: Vec::new(),
                })
                .await
                .map_err(|e| store_error(&e, ResponseCode::ErrorFolderNotFound))?;
            self.folders = Some(reply.folders);
        }
        Ok(self.folders.as_deref().unwrap_or_default())
    }

    /// Forgets the folder list after a folder write.
    pub(crate) fn folders_changed(&mut self) {
        self.folders = None;
        self.single.clear();
    }

    /// The folder with `id`.
    pub(crate) async fn folder_by_id(&mut self, id: u64) -> Result<pb::Folder, EwsError> {
        self.folder_where(|f| f.id == id, || folder_id(id)).await
    }

    /// The folder with a store role.
    pub(crate) async fn folder_by_role(&mut self, role: &str) -> Result<pb::Folder, EwsError> {
        self.folder_where(|f| f.role == role, || folder_role(role))
            .await
    }

    /// The folder `is` picks: from the folder list when this request read
    /// it, else from the folders read alone, else read alone now (one
    /// folder, not the list: FindItem and SyncFolderItems name one).
    async fn folder_where(
        &mut self,
        is: impl Fn(&pb::Folder) -> bool,
        selector: impl FnOnce() -> pb::FolderSelector,
    ) -> Result<pb::Folder, EwsError> {
        let missing = || EwsError::new(ResponseCode::ErrorFolderNotFound, "no such folder");
        if let Some(all) = &self.folders {
            return all.iter().find(|f| is(f)).cloned().ok_or_else(missing);
        }
        if let Some(f) = self.single.iter().find(|f| is(f)) {
            return Ok(f.clone());
        }
        if self.dir.is_empty() {
            return Err(missing());
        }
        let f = self
            .exmdb()
            .get_folder(pb::FolderRequest {
                dir: self.dir.clone(),
                folder: Some(selector()),
            })
            .await
            .map_err(|e| store_error(&e, ResponseCode::ErrorFolderNotFound))?;
        self.single.push(f.clone());
        Ok(f)
    }

    /// Checks that an id names this store.
    pub(crate) async fn check_store(&mut self, store: StoreGuid) -> Result<(), EwsError> {
        if store == self.guid().await? {
            Ok(())
        } else {
            Err(EwsError::new(
                ResponseCode::ErrorAccessDenied,
                "the id names another user's mailbox",
            ))
        }
    }

    /// The folder a `t:FolderId` or `t:DistinguishedFolderId` element names.
    pub(crate) async fn resolve_folder(&mut self, e: &Element) -> Result<pb::Folder, EwsError> {
        if e.ns != NS_TYPES {
            return Err(EwsError::invalid(format!("unexpected element {}", e.name)));
        }
        match e.name.as_str() {
            "FolderId" => {
                let key = FolderKey::decode(e.attr("Id").unwrap_or_default())?;
                self.check_store(key.store).await?;
                self.folder_by_id(key.folder).await
            }
            "DistinguishedFolderId" => {
                let name = e.attr("Id").unwrap_or_default();
                if let Some(address) = e
                    .t("Mailbox")
                    .and_then(|m| m.t_text("EmailAddress"))
                    .filter(|a| !a.is_empty())
                    && !address.eq_ignore_ascii_case(&self.user)
                {
                    return Err(EwsError::new(
                        ResponseCode::ErrorAccessDenied,
                        "access to another user's mailbox is not delegated",
                    ));
                }
                match role_of(name) {
                    Some(role) => self.folder_by_role(role).await,
                    None => Err(EwsError::new(
                        ResponseCode::ErrorFolderNotFound,
                        format!("this mailbox has no {name} folder"),
                    )),
                }
            }
            other => Err(EwsError::invalid(format!("{other} is not a folder id"))),
        }
    }

    /// The first folder named in `parent` (e.g. `ToFolderId`, `SavedItemFolderId`).
    pub(crate) async fn resolve_folder_in(
        &mut self,
        parent: Option<&Element>,
        what: &str,
    ) -> Result<pb::Folder, EwsError> {
        let target = parent
            .and_then(|p| p.children.first())
            .ok_or_else(|| EwsError::invalid(format!("{what} is missing")))?;
        self.resolve_folder(target).await
    }

    /// Decodes an `ItemId` and checks its store.
    pub(crate) async fn item_key(&mut self, e: &Element) -> Result<ItemKey, EwsError> {
        let key = ItemKey::decode(e.attr("Id").unwrap_or_default())?;
        self.check_store(key.store).await?;
        Ok(key)
    }

    /// The relay, when the server has one.
    pub(crate) fn submitter(&self) -> Option<std::sync::Arc<groxide_submit::Submitter>> {
        self.ews.submitter()
    }

    /// The owner as the groupware conversion needs it.
    pub(crate) fn owner(&self) -> crate::groupware::Owner {
        crate::groupware::Owner {
            address: self.user.clone(),
            zone: self.timezone.parse().ok(),
        }
    }

    /// The store dir and zone of the user with `address` (the caller
    /// without a directory).
    pub(crate) async fn store_of(&self, address: &str) -> Result<(String, String), EwsError> {
        if address.eq_ignore_ascii_case(&self.user) {
            return Ok((self.dir.clone(), self.timezone.clone()));
        }
        let not_found = || {
            EwsError::new(
                ResponseCode::ErrorMailRecipientNotFound,
                format!("{address} is not a user of this organisation"),
            )
        };
        let directory = self.ews.directory.as_ref().ok_or_else(not_found)?;
        match directory.user_by_login(address).await {
            Ok(Some(u)) if !u.maildir.is_empty() => Ok((u.maildir, u.timezone)),
            Ok(_) => Err(not_found()),
            Err(e) => {
                tracing::warn!(error = %e, "EWS directory lookup failed");
                Err(EwsError::new(
                    ResponseCode::ErrorInternalServerTransientError,
                    "the directory is unavailable; try again later",
                ))
            }
        }
    }

    /// The directory's users (just the caller without a directory).
    pub(crate) async fn directory_users(&self) -> Result<Vec<groxide_directory::User>, EwsError> {
        let Some(directory) = self.ews.directory.as_ref() else {
            return Ok(Vec::new());
        };
        directory.users(None).await.map_err(|e| {
            tracing::warn!(error = %e, "EWS directory lookup failed");
            EwsError::new(
                ResponseCode::ErrorInternalServerTransientError,
                "the directory is unavailable; try again later",
            )
        })
    }

    /// The kind of item a folder holds.
    pub(crate) async fn kind_of(&mut self, folder: u64) -> Result<ItemKind, EwsError> {
        let f = self.folder_by_id(folder).await?;
        Ok(ItemKind::of_container_class(&f.container_class))
    }

    /// A groupware item; an id whose item moved away or was deleted is
    /// not found. (Groupware item ids carry UID 0: the message id names
    /// the item, and a deleted item's id must be writable from its
    /// tombstone, which keeps no UID.)
    pub(crate) async fn read_item(
        &self,
        key: &ItemKey,
    ) -> Result<(groxide_rpc::items::ItemInfo, groxide_pim::Item), EwsError> {
        let (info, item) = self
            .exmdb()
            .get_item(&self.dir, key.message)
            .await
            .map_err(|e| store_error(&e, ResponseCode::ErrorItemNotFound))?;
        if info.folder_id != key.folder {
            return Err(EwsError::new(
                ResponseCode::ErrorItemNotFound,
                "the item is no longer in that folder",
            ));
        }
        Ok((info, item))
    }

    /// A message with its properties; an id whose message moved away or
    /// was deleted is not found.
    pub(crate) async fn read_message(&self, key: &ItemKey) -> Result<pb::Message, EwsError> {
        let m = self
            .exmdb()
            .read_message(pb::MessageRequest {
                dir: self.dir.clone(),
                message_id: key.message,
            })
            .await
            .map_err(|e| store_error(&e, ResponseCode::ErrorItemNotFound))?;
        let uid = m.entry.as_ref().map(|e| e.uid).unwrap_or_default();
        if m.folder_id != key.folder || uid != key.uid {
            return Err(EwsError::new(
                ResponseCode::ErrorItemNotFound,
                "the item is no longer in that folder",
            ));
        }
        Ok(m)
    }

    /// Messages with the properties and recipients `sel` names (never
    /// their attachments' properties: EWS lists attachments from the
    /// content), read in batches (one RPC per [`READ_BATCH`] ids): one
    /// entry per key, `None` for a message that was deleted or moved away
    /// (or whose UID no longer matches).
    /// With `contents`, each message's RFC 5322 bytes too, from the same
    /// batched reads where they fit in a reply (`None`: read it with
    /// [`Mailbox::content`]).
    pub(crate) async fn read_messages(
        &self,
        keys: &[ItemKey],
        sel: &StoreSelection,
        contents: bool,
    ) -> Result<Vec<Option<(pb::Message, Option<Vec<u8>>)>>, EwsError> {
        let mut found = std::collections::HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(READ_BATCH) {
            let reply = self
                .exmdb()
                .read_messages(pb::ReadMessagesRequest {
                    contents,
                    dir: self.dir.clone(),
                    message_ids: chunk.iter().map(|k| k.message).collect(),
                    bodies: sel.bodies,
                    only_tags: true,
                    tags: sel.tags.clone(),
                    skip_recipients: !sel.recipients,
                    skip_attachments: true,
                })
                .await
                .map_err(|e| store_error(&e, ResponseCode::ErrorItemNotFound))?;
            let mut bytes = reply.contents.into_iter();
            for m in reply.messages {
                let id = m.entry.as_ref().map(|e| e.message_id).unwrap_or_default();
                found.insert(id, (m, bytes.next()));
            }
        }
        // Two ids may name one message (an old id and its moved one).
        let mut wanted: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
        for k in keys {
            *wanted.entry(k.message).or_default() += 1;
        }
        Ok(keys
            .iter()
            .map(|k| {
                let left = wanted.entry(k.message).or_default();
                *left = left.saturating_sub(1);
                let m = if *left == 0 {
                    found.remove(&k.message)
                } else {
                    found.get(&k.message).cloned()
                };
                m.filter(|(m, _)| {
                    m.folder_id == k.folder && m.entry.as_ref().map(|e| e.uid) == Some(k.uid)
                })
            })
            .collect())
    }

    /// A message's RFC 5322 bytes.
    pub(crate) async fn content(&self, message_id: u64) -> Result<Vec<u8>, EwsError> {
        self.exmdb()
            .read_content_all(&self.dir, message_id)
            .await
            .map_err(|e| store_error(&e, ResponseCode::ErrorItemNotFound))
    }

    /// The messages of a folder, ascending by UID, from `first_uid` on.
    /// At most `limit` of them (0: all).
    pub(crate) async fn list(
        &self,
        folder: u64,
        first_uid: u32,
        limit: u32,
    ) -> Result<Vec<pb::MessageEntry>, EwsError> {
        let mut stream = Box::pin(
            self.exmdb()
                .list_messages(pb::ListMessagesRequest {
                    limit,
                    dir: self.dir.clone(),
                    folder: Some(folder_id(folder)),
                    range: Some(cpb::UidRange {
                        first: first_uid.max(1),
                        last: u32::MAX,
                    }),
                })
                .await
                .map_err(|e| store_error(&e, ResponseCode::ErrorFolderNotFound))?,
        );
        let mut out = Vec::new();
        while let Some(entry) = stream.next().await {
            out.push(entry.map_err(|e| store_error(&e, ResponseCode::ErrorFolderNotFound))?);
        }
        Ok(out)
    }

    /// The folder's messages in Exchange's default view order (newest
    /// arrival first, then highest UID), shared with other requests while
    /// the folder's state is the same (see [`crate::Listings`]).
    pub(crate) async fn newest_first(
        &self,
        folder: &pb::Folder,
    ) -> Result<Arc<Vec<pb::MessageEntry>>, EwsError> {
        let stamp = crate::ListingStamp::of(folder);
        if let Some(hit) = self.ews.listings.get(&self.dir, folder.id, stamp) {
            return Ok(hit);
        }
        let mut entries = self.list(folder.id, 1, 0).await?;
        entries.sort_by(|a, b| {
            b.internal_date
                .cmp(&a.internal_date)
                .then_with(|| b.uid.cmp(&a.uid))
        });
        let entries = Arc::new(entries);
        self.ews
            .listings
            .put(&self.dir, folder.id, stamp, entries.clone());
        Ok(entries)
    }

    /// What changed in a folder after `since`, and its highest MODSEQ.
    pub(crate) async fn changes(
        &self,
        folder: u64,
        since: u64,
    ) -> Result<(Vec<pb::MessageChange>, u64), EwsError> {
        let mut stream = Box::pin(
            self.exmdb()
                .changes_since(pb::ChangesSinceRequest {
                    dir: self.dir.clone(),
                    folder: Some(folder_id(folder)),
                    since,
                })
                .await
                .map_err(|e| store_error(&e, ResponseCode::ErrorFolderNotFound))?,
        );
        let mut out = Vec::new();
        let mut highest = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| store_error(&e, ResponseCode::ErrorFolderNotFound))?;
            out.extend(chunk.changes);
            highest = highest.max(chunk.highest_modseq);
        }
        Ok((out, highest))
    }

    /// The listing entry of one message.
    pub(crate) async fn entry(&self, folder: u64, uid: u32) -> Result<pb::MessageEntry, EwsError> {
        let mut stream = Box::pin(
            self.exmdb()
                .list_messages(pb::ListMessagesRequest {
                    limit: 0,
                    dir: self.dir.clone(),
                    folder: Some(folder_id(folder)),
                    range: Some(cpb::UidRange {
                        first: uid,
                        last: uid,
                    }),
                })
                .await
                .map_err(|e| store_error(&e, ResponseCode::ErrorItemNotFound))?,
        );
        match stream.next().await {
            Some(Ok(e)) if e.uid == uid => Ok(e),
            Some(Err(e)) => Err(store_error(&e, ResponseCode::ErrorItemNotFound)),
            _ => Err(EwsError::new(
                ResponseCode::ErrorItemNotFound,
                "no such item",
            )),
        }
    }

    /// Adds or removes flag bits of messages.
    pub(crate) async fn set_flags(
        &self,
        folder: u64,
        uids: Vec<cpb::UidRange>,
        add: bool,
        flags: u32,
    ) -> Result<Vec<pb::MessageEntry>, EwsError> {
        let mode = if add {
            cpb::FlagMode::Add
        } else {
            cpb::FlagMode::Remove
        };
        let reply = self
            .exmdb()
            .set_flags(pb::SetFlagsRequest {
                dir: self.dir.clone(),
                folder: Some(folder_id(folder)),
                uids,
                mode: mode as i32,
                flags,
                keywords: Vec::new(),
                unchanged_since: 0,
            })
            .await
            .map_err(|e| store_error(&e, ResponseCode::ErrorItemNotFound))?;
        Ok(reply.updated)
    }

    /// Copies (or moves) one message; returns the target's UIDVALIDITY-free
    /// new key.
    pub(crate) async fn copy(
        &mut self,
        key: &ItemKey,
        target: u64,
        remove: bool,
    ) -> Result<(ItemKey, u64), EwsError> {
        let request = pb::CopyMessagesRequest {
            dir: self.dir.clone(),
            folder: Some(folder_id(key.folder)),
            uids: vec![cpb::UidRange {
                first: key.uid,
                last: key.uid,
            }],
            target: Some(folder_id(target)),
        };
        let reply = if remove {
            self.exmdb().move_messages(request).await
        } else {
            self.exmdb().copy_messages(request).await
        }
        .map_err(|e| store_error(&e, ResponseCode::ErrorItemNotFound))?;
        let Some(pair) = reply.uids.iter().find(|m| m.source_uid == key.uid) else {
            return Err(EwsError::new(
                ResponseCode::ErrorItemNotFound,
                "no such item",
            ));
        };
        let entry = self.entry(target, pair.target_uid).await?;
        if !remove {
            self.ews.copies.note(&self.dir, entry.message_id, *key);
        }
        Ok((
            ItemKey {
                store: key.store,
                folder: target,
                message: entry.message_id,
                uid: entry.uid,
            },
            entry.change_number,
        ))
    }

    /// Deletes one message (soft: kept until purged).
    pub(crate) async fn delete(&self, key: &ItemKey, hard: bool) -> Result<(), EwsError> {
        let reply = self
            .exmdb()
            .delete_messages(pb::DeleteMessagesRequest {
                dir: self.dir.clone(),
                folder: Some(folder_id(key.folder)),
                uids: vec![cpb::UidRange {
                    first: key.uid,
                    last: key.uid,
                }],
                hard,
            })
            .await
            .map_err(|e| store_error(&e, ResponseCode::ErrorItemNotFound))?;
        if reply.removed_uids.contains(&key.uid) {
            Ok(())
        } else {
            Err(EwsError::new(
                ResponseCode::ErrorItemNotFound,
                "no such item",
            ))
        }
    }

    /// Stores RFC 5322 bytes in a folder.
    pub(crate) async fn insert(
        &mut self,
        folder: u64,
        raw: Vec<u8>,
        flags: u32,
    ) -> Result<(ItemKey, u64), EwsError> {
        let store = self.guid().await?;
        let size = raw.len() as u64;
        let reply = self
            .exmdb()
            .insert_message_bytes(
                pb::InsertHeader {
                    dir: self.dir.clone(),
                    folder: Some(folder_id(folder)),
                    flags,
                    keywords: Vec::new(),
                    internal_date: 0,
                    expected_size: size,
                },
                raw,
            )
            .await
            .map_err(|e| store_error(&e, ResponseCode::ErrorFolderNotFound))?;
        Ok((
            ItemKey {
                store,
                folder: reply.folder_id,
                message: reply.message_id,
                uid: reply.uid,
            },
            reply.change_number,
        ))
    }
}
