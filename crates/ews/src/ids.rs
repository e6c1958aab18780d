//! Identifiers clients keep: `FolderId`, `ItemId`, `ChangeKey` and sync
//! states. Each is base64 of a versioned binary record that names the
//! store by its mailbox GUID (so an id of another store is recognised and
//! refused) and the store's own numbers: folder ids, message ids, IMAP UIDs
//! and change numbers. They depend on nothing a restart, a node failover or
//! a rebuilt cache could change.

use crate::response::{EwsError, ResponseCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const VERSION: u8 = 1;
const KIND_FOLDER: u8 = b'F';
const KIND_ITEM: u8 = b'I';
const KIND_CHANGE: u8 = b'C';
const KIND_ITEM_SYNC: u8 = b'S';
const KIND_HIERARCHY_SYNC: u8 = b'H';
const KIND_OCCURRENCE: u8 = b'O';
const KIND_GROUPWARE_SYNC: u8 = b'G';
const KIND_ATTACHMENT: u8 = b'T';

/// A store's identity in ids: its mailbox GUID.
pub type StoreGuid = [u8; 16];

/// A folder of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderKey {
    /// The store.
    pub store: StoreGuid,
    /// The store's folder id.
    pub folder: u64,
}

/// A message in a folder of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemKey {
    /// The store.
    pub store: StoreGuid,
    /// The folder holding it.
    pub folder: u64,
    /// The store's message id (kept when the message moves).
    pub message: u64,
    /// Its IMAP UID in `folder`.
    pub uid: u32,
}

/// One instance of a recurring series: the series' item and the instance's
/// original start (its RECURRENCE-ID as a wall time, in seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OccurrenceKey {
    /// The series.
    pub item: ItemKey,
    /// The instance's original start (wall time as Unix seconds).
    pub original_start: i64,
}

/// A file attachment of a mail item: the item and the attachment's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentKey {
    /// The message.
    pub item: ItemKey,
    /// Its position among the message's attachments.
    pub index: u32,
}

impl AttachmentKey {
    /// The `AttachmentId/@Id` text.
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(40);
        b.extend_from_slice(&self.item.store);
        b.extend_from_slice(&self.item.folder.to_be_bytes());
        b.extend_from_slice(&self.item.message.to_be_bytes());
        b.extend_from_slice(&self.item.uid.to_be_bytes());
        b.extend_from_slice(&self.index.to_be_bytes());
        encode(KIND_ATTACHMENT, &b)
    }

    /// Parses an `AttachmentId/@Id`.
    pub fn decode(text: &str) -> Result<AttachmentKey, EwsError> {
        let raw = decode(text, KIND_ATTACHMENT, "attachment id")?;
        let mut f = Fields(&raw);
        let key = (|| {
            Some(AttachmentKey {
                item: ItemKey {
                    store: f.take::<16>()?,
                    folder: f.u64()?,
                    message: f.u64()?,
                    uid: f.u32()?,
                },
                index: f.u32()?,
            })
        })()
        .ok_or_else(|| malformed("attachment id"))?;
        if !f.0.is_empty() {
            return Err(malformed("attachment id"));
        }
        Ok(key)
    }
}

/// Where a groupware folder's item sync stands: the store's sync token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupwareSyncState {
    /// The folder.
    pub folder: u64,
    /// The store's token (`ItemChangesSince`): what the client has.
    pub token: String,
    /// A round of pages in progress (MaxChangesReturned cut the changes).
    pub round: Option<GroupwareRound>,
}

/// Where a paged groupware sync round stands. The round re-reads the
/// changes since the state's token on every page and ends with the token
/// read on its first page (changes after that come again next round):
/// removals go first by message id, then changed items by change number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupwareRound {
    /// The token the round ends with.
    pub end_token: String,
    /// Removals of message ids up to this one were sent.
    pub removed_after: u64,
    /// Every removal was sent.
    pub removals_done: bool,
    /// Changed items up to this change number were sent.
    pub changed_after: u64,
}

/// Where a folder's item sync stands (see `sync.rs` for the meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemSyncState {
    /// The folder.
    pub folder: u64,
    /// Its UIDVALIDITY when the state was made.
    pub uidvalidity: u32,
    /// Changes up to this change number are known to the client.
    pub known_cn: u64,
    /// The change number the current round ends at (0: no round open).
    pub round_cn: u64,
    /// Messages up to this UID were known when the round began.
    pub round_uid: u32,
    /// Messages up to this UID have been sent as created.
    pub sent_uid: u32,
}

/// Where a hierarchy sync stands: the folders the client knows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HierarchySyncState {
    /// The folder whose subtree is synchronised.
    pub root: u64,
    /// Changes up to this change number are known.
    pub known_cn: u64,
    /// The folder ids the client has, ascending.
    pub folders: Vec<u64>,
}

fn malformed(what: &str) -> EwsError {
    EwsError::new(
        ResponseCode::ErrorInvalidIdMalformed,
        format!("the {what} is malformed"),
    )
}

fn decode(text: &str, kind: u8, what: &str) -> Result<Vec<u8>, EwsError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(EwsError::new(
            ResponseCode::ErrorInvalidIdEmpty,
            format!("the {what} is empty"),
        ));
    }
    let raw = STANDARD.decode(text).map_err(|_| malformed(what))?;
    if raw.len() < 2 || raw[0] != VERSION || raw[1] != kind {
        return Err(malformed(what));
    }
    Ok(raw[2..].to_vec())
}

fn encode(kind: u8, body: &[u8]) -> String {
    let mut raw = Vec::with_capacity(body.len() + 2);
    raw.push(VERSION);
    raw.push(kind);
    raw.extend_from_slice(body);
    STANDARD.encode(raw)
}

/// Reads fixed-size fields off a record.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_at_checked(N)?;
        self.0 = rest;
        head.try_into().ok()
    }
    fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_be_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take::<4>().map(u32::from_be_bytes)
    }
}

impl FolderKey {
    /// The `FolderId/@Id` text.
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(24);
        b.extend_from_slice(&self.store);
        b.extend_from_slice(&self.folder.to_be_bytes());
        encode(KIND_FOLDER, &b)
    }

    /// Parses a `FolderId/@Id`.
    pub fn decode(text: &str) -> Result<FolderKey, EwsError> {
        let raw = decode(text, KIND_FOLDER, "folder id")?;
        let mut f = Fields(&raw);
        let key = (|| {
            Some(FolderKey {
                store: f.take::<16>()?,
                folder: f.u64()?,
            })
        })()
        .ok_or_else(|| malformed("folder id"))?;
        if !f.0.is_empty() {
            return Err(malformed("folder id"));
        }
        Ok(key)
    }
}

impl ItemKey {
    /// The `ItemId/@Id` text.
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(36);
        b.extend_from_slice(&self.store);
        b.extend_from_slice(&self.folder.to_be_bytes());
        b.extend_from_slice(&self.message.to_be_bytes());
        b.extend_from_slice(&self.uid.to_be_bytes());
        encode(KIND_ITEM, &b)
    }

    /// Parses an `ItemId/@Id`.
    pub fn decode(text: &str) -> Result<ItemKey, EwsError> {
        let raw = decode(text, KIND_ITEM, "item id")?;
        let mut f = Fields(&raw);
        let key = (|| {
            Some(ItemKey {
                store: f.take::<16>()?,
                folder: f.u64()?,
                message: f.u64()?,
                uid: f.u32()?,
            })
        })()
        .ok_or_else(|| malformed("item id"))?;
        if !f.0.is_empty() {
            return Err(malformed("item id"));
        }
        Ok(key)
    }

    /// The folder holding the item.
    pub fn folder_key(&self) -> FolderKey {
        FolderKey {
            store: self.store,
            folder: self.folder,
        }
    }
}

impl OccurrenceKey {
    /// The `ItemId/@Id` text.
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(44);
        b.extend_from_slice(&self.item.store);
        b.extend_from_slice(&self.item.folder.to_be_bytes());
        b.extend_from_slice(&self.item.message.to_be_bytes());
        b.extend_from_slice(&self.item.uid.to_be_bytes());
        b.extend_from_slice(&self.original_start.to_be_bytes());
        encode(KIND_OCCURRENCE, &b)
    }

    /// Parses an occurrence's `ItemId/@Id`.
    pub fn decode(text: &str) -> Result<OccurrenceKey, EwsError> {
        let raw = decode(text, KIND_OCCURRENCE, "item id")?;
        let mut f = Fields(&raw);
        let key = (|| {
            Some(OccurrenceKey {
                item: ItemKey {
                    store: f.take::<16>()?,
                    folder: f.u64()?,
                    message: f.u64()?,
                    uid: f.u32()?,
                },
                original_start: f.u64()? as i64,
            })
        })()
        .ok_or_else(|| malformed("item id"))?;
        if !f.0.is_empty() {
            return Err(malformed("item id"));
        }
        Ok(key)
    }
}

impl GroupwareSyncState {
    /// The `SyncState` text.
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(32 + self.token.len());
        b.extend_from_slice(&self.folder.to_be_bytes());
        match &self.round {
            None => b.push(0),
            Some(r) => {
                b.push(1);
                b.extend_from_slice(&r.removed_after.to_be_bytes());
                b.push(u8::from(r.removals_done));
                b.extend_from_slice(&r.changed_after.to_be_bytes());
                b.extend_from_slice(&(r.end_token.len() as u32).to_be_bytes());
                b.extend_from_slice(r.end_token.as_bytes());
            }
        }
        b.extend_from_slice(self.token.as_bytes());
        encode(KIND_GROUPWARE_SYNC, &b)
    }

    /// Parses a `SyncState`.
    pub fn decode(text: &str) -> Result<GroupwareSyncState, EwsError> {
        let raw = decode(text, KIND_GROUPWARE_SYNC, "sync state").map_err(|_| bad_state())?;
        let mut f = Fields(&raw);
        let folder = f.u64().ok_or_else(bad_state)?;
        let round = match f.take::<1>().ok_or_else(bad_state)? {
            [0] => None,
            [1] => {
                let removed_after = f.u64().ok_or_else(bad_state)?;
                let [done] = f.take::<1>().ok_or_else(bad_state)?;
                let changed_after = f.u64().ok_or_else(bad_state)?;
                let len = f.u32().ok_or_else(bad_state)? as usize;
                let (end, rest) = f.0.split_at_checked(len).ok_or_else(bad_state)?;
                let end_token = String::from_utf8(end.to_vec()).map_err(|_| bad_state())?;
                f.0 = rest;
                Some(GroupwareRound {
                    end_token,
                    removed_after,
                    removals_done: done != 0,
                    changed_after,
                })
            }
            _ => return Err(bad_state()),
        };
        let token = String::from_utf8(f.0.to_vec()).map_err(|_| bad_state())?;
        Ok(GroupwareSyncState {
            folder,
            token,
            round,
        })
    }
}

/// The `ChangeKey` of an object last changed at change number `cn`.
pub fn change_key(cn: u64) -> String {
    encode(KIND_CHANGE, &cn.to_be_bytes())
}

/// The change number in a `ChangeKey`.
pub fn parse_change_key(text: &str) -> Result<u64, EwsError> {
    let raw = decode(text, KIND_CHANGE, "change key")?;
    let mut f = Fields(&raw);
    match (f.u64(), f.0.is_empty()) {
        (Some(cn), true) => Ok(cn),
        _ => Err(malformed("change key")),
    }
}

fn bad_state() -> EwsError {
    EwsError::new(
        ResponseCode::ErrorInvalidSyncStateData,
        "the sync state is not one this server made for this folder",
    )
}

impl ItemSyncState {
    /// The `SyncState` text.
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(36);
        b.extend_from_slice(&self.folder.to_be_bytes());
        b.extend_from_slice(&self.uidvalidity.to_be_bytes());
        b.extend_from_slice(&self.known_cn.to_be_bytes());
        b.extend_from_slice(&self.round_cn.to_be_bytes());
        b.extend_from_slice(&self.round_uid.to_be_bytes());
        b.extend_from_slice(&self.sent_uid.to_be_bytes());
        encode(KIND_ITEM_SYNC, &b)
    }

    /// Parses a `SyncState`.
    pub fn decode(text: &str) -> Result<ItemSyncState, EwsError> {
        let raw = decode(text, KIND_ITEM_SYNC, "sync state").map_err(|_| bad_state())?;
        let mut f = Fields(&raw);
        let state = (|| {
            Some(ItemSyncState {
                folder: f.u64()?,
                uidvalidity: f.u32()?,
                known_cn: f.u64()?,
                round_cn: f.u64()?,
                round_uid: f.u32()?,
                sent_uid: f.u32()?,
            })
        })()
        .ok_or_else(bad_state)?;
        if !f.0.is_empty() {
            return Err(bad_state());
        }
        Ok(state)
    }
}

impl HierarchySyncState {
    /// The `SyncState` text.
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(16 + 8 * self.folders.len());
        b.extend_from_slice(&self.root.to_be_bytes());
        b.extend_from_slice(&self.known_cn.to_be_bytes());
        for f in &self.folders {
            b.extend_from_slice(&f.to_be_bytes());
        }
        encode(KIND_HIERARCHY_SYNC, &b)
    }

    /// Parses a `SyncState`.
    pub fn decode(text: &str) -> Result<HierarchySyncState, EwsError> {
        let raw = decode(text, KIND_HIERARCHY_SYNC, "sync state").map_err(|_| bad_state())?;
        let mut f = Fields(&raw);
        let root = f.u64().ok_or_else(bad_state)?;
        let known_cn = f.u64().ok_or_else(bad_state)?;
        if f.0.len() % 8 != 0 {
            return Err(bad_state());
        }
        let mut folders = Vec::with_capacity(f.0.len() / 8);
        while let Some(id) = f.u64() {
            folders.push(id);
        }
        Ok(HierarchySyncState {
            root,
            known_cn,
            folders,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ids_round_trip(store in any::<[u8; 16]>(), folder in any::<u64>(), message in any::<u64>(), uid in any::<u32>(), cn in any::<u64>()) {
            let f = FolderKey { store, folder };
            prop_assert_eq!(FolderKey::decode(&f.encode()), Ok(f));
            let i = ItemKey { store, folder, message, uid };
            prop_assert_eq!(ItemKey::decode(&i.encode()), Ok(i));
            prop_assert_eq!(parse_change_key(&change_key(cn)), Ok(cn));
            let s = ItemSyncState { folder, uidvalidity: uid, known_cn: cn, round_cn: message, round_uid: uid / 2, sent_uid: uid };
            prop_assert_eq!(ItemSyncState::decode(&s.encode()), Ok(s));
        }

        #[test]
        fn groupware_sync_states_round_trip(folder in any::<u64>(), token in ".{0,40}", end in ".{0,40}", removed in any::<u64>(), changed in any::<u64>(), done in any::<bool>(), paged in any::<bool>()) {
            let round = paged.then_some(GroupwareRound { end_token: end, removed_after: removed, removals_done: done, changed_after: changed });
            let s = GroupwareSyncState { folder, token, round };
            prop_assert_eq!(GroupwareSyncState::decode(&s.encode()), Ok(s));
        }

        #[test]
        fn any_text_decodes_or_is_refused_without_panic(text in ".{0,80}") {
            let _ = GroupwareSyncState::decode(&text);
            let _ = FolderKey::decode(&text);
            let _ = ItemKey::decode(&text);
            let _ = HierarchySyncState::decode(&text);
        }
    }

    #[test]
    fn ids_of_one_kind_are_not_taken_for_another() {
        let f = FolderKey {
            store: [7; 16],
            folder: 13,
        }
        .encode();
        assert_eq!(
            ItemKey::decode(&f).unwrap_err().code,
            ResponseCode::ErrorInvalidIdMalformed
        );
        assert_eq!(
            ItemKey::decode("").unwrap_err().code,
            ResponseCode::ErrorInvalidIdEmpty
        );
        assert_eq!(
            FolderKey::decode("DUMMY").unwrap_err().code,
            ResponseCode::ErrorInvalidIdMalformed
        );
        assert_eq!(
            ItemSyncState::decode(&f).unwrap_err().code,
            ResponseCode::ErrorInvalidSyncStateData
        );
        let h = HierarchySyncState {
            root: 9,
            known_cn: 5,
            folders: vec![10, 13, 256],
        };
        assert_eq!(HierarchySyncState::decode(&h.encode()), Ok(h));
    }
}
