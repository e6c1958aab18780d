//! The groupware calls of groxide.exmdb.v1 (named properties, items, sync
//! tokens, free/busy) over the store engine: wire ↔ engine translation and
//! the settings they read. The engine's rules (one id per name, etag
//! preconditions, tokens refused after compaction) are groxide-store's.

use crate::convert;
use crate::service::ExmdbService;
use groxide_rpc::items::{item_from_pb, item_to_pb, name_from_pb, name_to_pb};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_store::MessageId;
use groxide_store::items::{ItemEntry, ItemRead, Precondition, PutTarget};
use std::sync::RwLock;
use std::time::Duration;
use tonic::Status;

/// Most names or ids one named-property call may carry.
pub const MAX_NAMES: usize = 4096;
/// Bytes of item bodies after which a GetItems reply ends (the client asks
/// again for the rest), well below the RPC message limit.
const GET_ITEMS_BUDGET: u64 = 8 * 1024 * 1024;
/// Longest free/busy range (about 10 years), so one call stays bounded.
pub const MAX_FREEBUSY_RANGE: i64 = 10 * 366 * 86_400;

/// The sync settings of exmdb_provider.cfg: how long removals are kept
/// for groupware folders and for mail folders.
#[derive(Debug)]
pub struct GroupwareSettings {
    tombstone_max_age: RwLock<Duration>,
    mail_tombstone_max_age: RwLock<Duration>,
}

impl Default for GroupwareSettings {
    fn default() -> Self {
        GroupwareSettings {
            tombstone_max_age: RwLock::new(Duration::from_secs(90 * 86_400)),
            mail_tombstone_max_age: RwLock::new(Duration::from_secs(90 * 86_400)),
        }
    }
}

impl GroupwareSettings {
    /// Sets `sync_tombstone_max_age`.
    pub fn set_tombstone_max_age(&self, d: Duration) {
        *self
            .tombstone_max_age
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = d;
    }

    /// `sync_tombstone_max_age`.
    pub fn tombstone_max_age(&self) -> Duration {
        *self
            .tombstone_max_age
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets `mail_tombstone_max_age`.
    pub fn set_mail_tombstone_max_age(&self, d: Duration) {
        *self
            .mail_tombstone_max_age
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = d;
    }

    /// `mail_tombstone_max_age`.
    pub fn mail_tombstone_max_age(&self) -> Duration {
        *self
            .mail_tombstone_max_age
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn entry(e: ItemEntry) -> pb::ItemEntry {
    pb::ItemEntry {
        etag: e.etag(),
        message_id: e.message_id.0,
        folder_id: e.folder.0,
        uid: e.uid.0,
        change_number: e.cn.0,
        item_uid: e.item_uid,
        name: e.name,
        message_class: e.message_class,
        size: e.size,
    }
}

fn too_many(n: usize) -> Result<(), Status> {
    if n > MAX_NAMES {
        return Err(Status::invalid_argument(format!(
            "{n} names or ids in one call; at most {MAX_NAMES}"
        )));
    }
    Ok(())
}

impl ExmdbService {
    pub(crate) async fn named_prop_ids(
        &self,
        r: pb::GetNamedPropIdsRequest,
    ) -> Result<pb::NamedPropIds, Status> {
        too_many(r.names.len())?;
        let names = r
            .names
            .iter()
            .map(name_from_pb)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Status::invalid_argument)?;
        let create = r.create;
        let ids = self
            .with_store(&r.dir, move |s| s.named_ids_create(&names, create))
            .await?;
        Ok(pb::NamedPropIds {
            ids: ids.into_iter().map(|i| u32::from(i.unwrap_or(0))).collect(),
        })
    }

    pub(crate) async fn named_prop_names(
        &self,
        r: pb::GetNamedPropNamesRequest,
    ) -> Result<pb::NamedPropNames, Status> {
        too_many(r.ids.len())?;
        // Ids beyond u16 are no property ids: no name.
        let ids: Vec<u16> = r
            .ids
            .iter()
            .map(|i| u16::try_from(*i).unwrap_or(0))
            .collect();
        let names = self
            .with_store(&r.dir, move |s| s.named_names(&ids))
            .await?;
        Ok(pb::NamedPropNames {
            names: names
                .into_iter()
                .map(|n| pb::MaybePropName {
                    name: n.as_ref().map(name_to_pb),
                })
                .collect(),
        })
    }

    pub(crate) async fn put_item_impl(
        &self,
        r: pb::PutItemRequest,
    ) -> Result<pb::PutItemReply, Status> {
        let folder = convert::folder_ref(r.folder.as_ref())?;
        let item = item_from_pb(
            r.item
                .as_ref()
                .ok_or_else(|| Status::invalid_argument("an item is required"))?,
        )
        .map_err(Status::invalid_argument)?;
        let target = match r.target {
            None => PutTarget::ByUid,
            Some(pb::put_item_request::Target::MessageId(id)) => PutTarget::Message(MessageId(id)),
            Some(pb::put_item_request::Target::AlwaysNew(_)) => PutTarget::New,
        };
        let pre = match r.precondition {
            None => Precondition::None,
            Some(pb::put_item_request::Precondition::IfMatch(e)) => Precondition::IfMatch(e),
            Some(pb::put_item_request::Precondition::IfNoneMatch(_)) => Precondition::IfNoneMatch,
        };
        let name = r.name;
        let out = self
            .with_store(&r.dir, move |s| {
                s.put_item_named(folder, &item, target, pre, name.as_deref())
            })
            .await?;
        Ok(pb::PutItemReply {
            entry: Some(entry(out.entry)),
            created: out.created,
        })
    }

    pub(crate) async fn get_item_impl(
        &self,
        r: pb::MessageRequest,
    ) -> Result<pb::GetItemReply, Status> {
        let id = MessageId(r.message_id);
        let (e, item) = self.with_store(&r.dir, move |s| s.get_item(id)).await?;
        Ok(pb::GetItemReply {
            entry: Some(entry(e)),
            item: Some(item_to_pb(&item)),
        })
    }

    pub(crate) async fn get_items_impl(
        &self,
        r: pb::GetItemsRequest,
    ) -> Result<pb::GetItemsReply, Status> {
        if r.message_ids.len() > MAX_NAMES {
            return Err(Status::invalid_argument(format!(
                "at most {MAX_NAMES} items in one GetItems"
            )));
        }
        let ids: Vec<MessageId> = r.message_ids.iter().copied().map(MessageId).collect();
        let with_items = r.with_items;
        let read = self
            .with_store(&r.dir, move |s| {
                s.read_items(&ids, with_items, GET_ITEMS_BUDGET)
            })
            .await?;
        Ok(pb::GetItemsReply {
            items: read
                .into_iter()
                .map(|x| match x {
                    ItemRead::Missing(id) => pb::ReadItem {
                        message_id: id.0,
                        ..pb::ReadItem::default()
                    },
                    ItemRead::Source(e, bytes) => pb::ReadItem {
                        message_id: e.message_id.0,
                        entry: Some(entry(e)),
                        source: Some(bytes),
                        item: None,
                    },
                    ItemRead::Item(e, item, current) => pb::ReadItem {
                        message_id: e.message_id.0,
                        entry: Some(entry(e)),
                        source: if current { item.original.clone() } else { None },
                        item: Some(item_to_pb(&item)),
                    },
                })
                .collect(),
        })
    }

    pub(crate) async fn delete_item_impl(
        &self,
        r: pb::DeleteItemRequest,
    ) -> Result<pb::Empty, Status> {
        let id = MessageId(r.message_id);
        let if_match = r.if_match;
        self.with_store(&r.dir, move |s| s.delete_item(id, if_match))
            .await?;
        Ok(pb::Empty {})
    }

    pub(crate) async fn list_items_impl(
        &self,
        r: pb::FolderRequest,
    ) -> Result<pb::ListItemsReply, Status> {
        let folder = convert::folder_ref(r.folder.as_ref())?;
        let c = self
            .with_store(&r.dir, move |s| s.item_changes_since(folder, ""))
            .await?;
        Ok(pb::ListItemsReply {
            items: c.changed.into_iter().map(entry).collect(),
            sync_token: c.token.to_string(),
        })
    }

    pub(crate) async fn list_items_in_range_impl(
        &self,
        r: pb::ListItemsInRangeRequest,
    ) -> Result<pb::ListItemsReply, Status> {
        if r.end <= r.start {
            return Err(Status::invalid_argument(format!(
                "range [{}, {}) is empty",
                r.start, r.end
            )));
        }
        let folder = convert::folder_ref(r.folder.as_ref())?;
        let zone = floating_zone(&r.floating_zone)?;
        let (start, end) = (r.start, r.end);
        let found = self
            .with_store(&r.dir, move |s| s.items_in_range(folder, start, end, &zone))
            .await?;
        Ok(pb::ListItemsReply {
            items: found.into_iter().map(entry).collect(),
            sync_token: String::new(),
        })
    }

    pub(crate) async fn find_items_impl(
        &self,
        r: pb::FindItemsRequest,
    ) -> Result<pb::FindItemsReply, Status> {
        if r.names.len() + r.item_uids.len() > MAX_NAMES {
            return Err(Status::invalid_argument(format!(
                "at most {MAX_NAMES} names and UIDs in one FindItems"
            )));
        }
        let folder = convert::folder_ref(r.folder.as_ref())?;
        let (names, uids) = (r.names, r.item_uids);
        let found = self
            .with_store(&r.dir, move |s| s.find_items(folder, &names, &uids))
            .await?;
        Ok(pb::FindItemsReply {
            items: found.into_iter().map(entry).collect(),
        })
    }

    pub(crate) async fn item_changes_impl(
        &self,
        r: pb::ItemChangesRequest,
    ) -> Result<pb::ItemChangesReply, Status> {
        let folder = convert::folder_ref(r.folder.as_ref())?;
        let token = r.sync_token;
        let c = self
            .with_store(&r.dir, move |s| s.item_changes_since(folder, &token))
            .await?;
        Ok(pb::ItemChangesReply {
            changed: c.changed.into_iter().map(entry).collect(),
            removed: c
                .removed
                .into_iter()
                .map(|x| pb::RemovedMessage {
                    uid: x.uid.0,
                    message_id: x.message_id.0,
                    change_number: x.cn.0,
                    item_uid: x.item_uid,
                    name: x.name,
                })
                .collect(),
            sync_token: c.token.to_string(),
        })
    }

    pub(crate) async fn compact_tombstones_impl(
        &self,
        r: pb::StoreRequest,
    ) -> Result<pb::CompactTombstonesReply, Status> {
        let age = self.groupware.tombstone_max_age();
        let mail_age = self.groupware.mail_tombstone_max_age();
        let removed = self
            .with_store(&r.dir, move |s| {
                Ok(s.compact_tombstones(age)? + s.compact_mail_tombstones(mail_age)?)
            })
            .await?;
        Ok(pb::CompactTombstonesReply { removed })
    }

    pub(crate) async fn free_busy_impl(
        &self,
        r: pb::GetFreeBusyRequest,
    ) -> Result<pb::GetFreeBusyReply, Status> {
        if r.end < r.start || r.end.saturating_sub(r.start) > MAX_FREEBUSY_RANGE {
            return Err(Status::invalid_argument(format!(
                "free/busy range [{}, {}) must be ordered and at most {MAX_FREEBUSY_RANGE} s long",
                r.start, r.end
            )));
        }
        let zone = floating_zone(&r.floating_zone)?;
        let (start, end) = (r.start, r.end);
        let slots = self
            .with_store(&r.dir, move |s| s.free_busy(start, end, &zone))
            .await?;
        Ok(pb::GetFreeBusyReply {
            slots: slots
                .into_iter()
                .map(|s| pb::BusySlot {
                    start: s.start,
                    end: s.end,
                    status: s.status.code(),
                    message_id: s.message_id.0,
                })
                .collect(),
        })
    }
}

/// The zone of all-day and floating events a request names ("" = UTC).
fn floating_zone(name: &str) -> Result<groxide_pim::recur::Zone, Status> {
    if name.is_empty() {
        return Ok(groxide_pim::recur::Zone::Utc);
    }
    let tz: chrono_tz::Tz = name
        .parse()
        .map_err(|_| Status::invalid_argument(format!("unknown time zone {name:?}")))?;
    Ok(groxide_pim::recur::Zone::Iana(tz))
}
