//! Groupware items over groxide.exmdb.v1: the wire form of a
//! [`groxide_pim::Item`] (named properties travel by name, so callers never
//! see a store's property ids), and the typed calls of [`ExmdbClient`] that
//! take and return domain types — named property ids, items with etags,
//! sync tokens, free/busy.

use crate::client::RpcError;
use crate::exmdb_client::ExmdbClient;
use crate::pb::exmdb::v1 as pb;
use groxide_mapi::{Guid, NameKind, NamedProp, PropKey, PropTag, PropType, PropValue};
use groxide_pim::{Attachment, AttachmentContent, Item, ItemClass, PropMap, Recipient};

/// Deepest nesting of embedded messages a wire item may have.
pub const MAX_EMBED_DEPTH: usize = 8;

/// A property value on the wire.
pub fn prop_to_pb(tag: PropTag, v: &PropValue) -> pb::Prop {
    prop_into_pb(tag, v.clone())
}

/// A property value on the wire, taking the value.
pub fn prop_into_pb(tag: PropTag, v: PropValue) -> pb::Prop {
    use pb::prop::Value;
    let value = match v {
        PropValue::Short(x) => Value::ShortValue(i32::from(x)),
        PropValue::Long(x) => Value::LongValue(x),
        PropValue::Double(x) => Value::DoubleValue(x),
        PropValue::Bool(x) => Value::BoolValue(x),
        PropValue::I8(x) => Value::I8Value(x),
        PropValue::Unicode(x) => Value::StringValue(x),
        PropValue::SysTime(x) => Value::SystimeValue(x),
        PropValue::Clsid(x) => Value::ClsidValue(x.to_vec()),
        PropValue::Binary(x) => Value::BinaryValue(x),
        PropValue::MvLong(values) => Value::MvLong(pb::MvLong { values }),
        PropValue::MvI8(values) => Value::MvI8(pb::MvI8 { values }),
        PropValue::MvUnicode(values) => Value::MvString(pb::MvString { values }),
        PropValue::MvBinary(values) => Value::MvBinary(pb::MvBinary { values }),
    };
    pb::Prop {
        tag: tag.0,
        value: Some(value),
    }
}

/// A property value from the wire, checked against its tag's type.
pub fn prop_from_pb(p: &pb::Prop) -> Result<(PropTag, PropValue), String> {
    use pb::prop::Value;
    let bad = || format!("property 0x{:08X} has no or a bad value", p.tag);
    let v = match p.value.as_ref().ok_or_else(bad)? {
        Value::ShortValue(x) => PropValue::Short(i16::try_from(*x).map_err(|_| bad())?),
        Value::LongValue(x) => PropValue::Long(*x),
        Value::DoubleValue(x) => PropValue::Double(*x),
        Value::BoolValue(x) => PropValue::Bool(*x),
        Value::I8Value(x) => PropValue::I8(*x),
        Value::StringValue(x) => PropValue::Unicode(x.clone()),
        Value::SystimeValue(x) => PropValue::SysTime(*x),
        Value::ClsidValue(x) => {
            PropValue::Clsid(<[u8; 16]>::try_from(x.as_slice()).map_err(|_| bad())?)
        }
        Value::BinaryValue(x) => PropValue::Binary(x.clone()),
        Value::MvLong(x) => PropValue::MvLong(x.values.clone()),
        Value::MvI8(x) => PropValue::MvI8(x.values.clone()),
        Value::MvString(x) => PropValue::MvUnicode(x.values.clone()),
        Value::MvBinary(x) => PropValue::MvBinary(x.values.clone()),
    };
    let tag = PropTag(p.tag);
    tag.check(&v)
        .map_err(|e| format!("property 0x{:08X}: {e}", p.tag))?;
    Ok((tag, v))
}

/// A named property on the wire.
pub fn name_to_pb(n: &NamedProp) -> pb::PropName {
    pb::PropName {
        guid: n.set.as_bytes().to_vec(),
        kind: Some(match &n.name {
            NameKind::Lid(l) => pb::prop_name::Kind::Lid(*l),
            NameKind::Str(s) => pb::prop_name::Kind::Name(s.clone()),
        }),
    }
}

/// A named property from the wire.
pub fn name_from_pb(p: &pb::PropName) -> Result<NamedProp, String> {
    let set = <[u8; 16]>::try_from(p.guid.as_slice())
        .map(Guid)
        .map_err(|_| format!("a property set GUID has {} bytes, not 16", p.guid.len()))?;
    match &p.kind {
        Some(pb::prop_name::Kind::Lid(l)) => Ok(NamedProp::lid(set, *l)),
        Some(pb::prop_name::Kind::Name(s)) => Ok(NamedProp::string(set, s.clone())),
        None => Err("a named property has neither LID nor name".into()),
    }
}

fn key_to_pb(k: &PropKey, v: &PropValue) -> pb::ItemProp {
    match k {
        PropKey::Tag(t) => pb::ItemProp {
            prop: Some(prop_to_pb(*t, v)),
            name: None,
        },
        PropKey::Named(n, ty) => pb::ItemProp {
            prop: Some(prop_to_pb(PropTag::new(0, *ty), v)),
            name: Some(name_to_pb(n)),
        },
    }
}

fn key_from_pb(p: &pb::ItemProp) -> Result<(PropKey, PropValue), String> {
    let prop = p.prop.as_ref().ok_or("an item property without value")?;
    let (tag, v) = prop_from_pb(prop)?;
    match &p.name {
        None => Ok((PropKey::Tag(tag), v)),
        Some(n) => {
            let ty: PropType = tag
                .prop_type()
                .ok_or_else(|| format!("unsupported property type in 0x{:08X}", tag.0))?;
            Ok((PropKey::Named(name_from_pb(n)?, ty), v))
        }
    }
}

fn map_to_pb<'a>(
    props: impl IntoIterator<Item = (&'a PropKey, &'a PropValue)>,
) -> Vec<pb::ItemProp> {
    props.into_iter().map(|(k, v)| key_to_pb(k, v)).collect()
}

fn map_from_pb(props: &[pb::ItemProp]) -> Result<PropMap, String> {
    props.iter().map(key_from_pb).collect()
}

/// An item on the wire.
pub fn item_to_pb(item: &Item) -> pb::Item {
    pb::Item {
        message_class: item.class.message_class().to_string(),
        props: map_to_pb(&item.props),
        recipients: item
            .recipients
            .iter()
            .map(|r| pb::ItemRecipient {
                props: r.to_props().iter().map(|(k, v)| key_to_pb(k, v)).collect(),
            })
            .collect(),
        attachments: item
            .attachments
            .iter()
            .map(|a| pb::ItemAttachment {
                props: map_to_pb(&a.props),
                content: Some(match &a.content {
                    AttachmentContent::Data(d) => pb::item_attachment::Content::Data(d.clone()),
                    AttachmentContent::Embedded(m) => {
                        pb::item_attachment::Content::Embedded(item_to_pb(m))
                    }
                }),
            })
            .collect(),
        original: item.original.clone(),
    }
}

/// An item from the wire.
pub fn item_from_pb(p: &pb::Item) -> Result<Item, String> {
    item_from_pb_at(p, 0)
}

fn item_from_pb_at(p: &pb::Item, depth: usize) -> Result<Item, String> {
    if depth > MAX_EMBED_DEPTH {
        return Err(format!(
            "embedded messages nest more than {MAX_EMBED_DEPTH} deep"
        ));
    }
    let class = ItemClass::from_message_class(&p.message_class)
        .ok_or_else(|| format!("{:?} is not a groupware item class", p.message_class))?;
    let mut attachments = Vec::with_capacity(p.attachments.len());
    for a in &p.attachments {
        let content = match a.content.as_ref().ok_or("an attachment without content")? {
            pb::item_attachment::Content::Data(d) => AttachmentContent::Data(d.clone()),
            pb::item_attachment::Content::Embedded(m) => {
                AttachmentContent::Embedded(Box::new(item_from_pb_at(m, depth + 1)?))
            }
        };
        attachments.push(Attachment {
            props: map_from_pb(&a.props)?,
            content,
        });
    }
    let mut props = map_from_pb(&p.props)?;
    props.remove(&PropKey::Tag(groxide_mapi::tags::PR_MESSAGE_CLASS));
    Ok(Item {
        class,
        props,
        recipients: p
            .recipients
            .iter()
            .map(|r| {
                r.props
                    .iter()
                    .map(key_from_pb)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Recipient::from_props)
            })
            .collect::<Result<_, _>>()?,
        attachments,
        original: p.original.clone(),
    })
}

/// The iCalendar/vCard UID of an item (as the store indexes it):
/// PidLidGlobalObjectId's for appointments, else PidNameCalendarUid.
pub fn item_uid(item: &Item) -> String {
    if let Some(b) = item.binary(&groxide_mapi::lids::PID_LID_GLOBAL_OBJECT_ID)
        && let Ok(g) = groxide_pim::goid::GlobalObjectId::decode(b)
    {
        return g.to_uid();
    }
    item.str(&groxide_mapi::lids::PID_NAME_CALENDAR_UID)
        .unwrap_or("")
        .to_string()
}

/// An item as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    /// Its message id (stable across changes).
    pub message_id: u64,
    /// Its folder.
    pub folder_id: u64,
    /// Its UID in the folder.
    pub uid: u32,
    /// Change number of its last change.
    pub change_number: u64,
    /// The entity tag (changes whenever the item does).
    pub etag: String,
    /// The iCalendar/vCard UID ("" when none).
    pub item_uid: String,
    /// PR_MESSAGE_CLASS.
    pub message_class: String,
    /// Size as the quota counts it.
    pub size: u64,
    /// The resource name a DAV client gave it ("" when none).
    pub name: String,
}

impl From<pb::ItemEntry> for ItemInfo {
    fn from(e: pb::ItemEntry) -> ItemInfo {
        ItemInfo {
            message_id: e.message_id,
            folder_id: e.folder_id,
            uid: e.uid,
            change_number: e.change_number,
            etag: e.etag,
            item_uid: e.item_uid,
            message_class: e.message_class,
            size: e.size,
            name: e.name,
        }
    }
}

/// One item of [`ExmdbClient::get_items`].
#[derive(Debug, Clone, PartialEq)]
pub enum ReadItem {
    /// No such item (any more).
    Missing(u64),
    /// The item's source object (iCalendar/vCard), which still is the item.
    Source(ItemInfo, Vec<u8>),
    /// The item with its source object, if any, in `original` (`true`:
    /// that object still is the item and may be served as it is).
    Item(ItemInfo, Item, bool),
}

/// Which item a put replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PutTarget {
    /// The folder's item with the same iCalendar/vCard UID, else a new one.
    #[default]
    ByUid,
    /// This message.
    Message(u64),
    /// Always a new item.
    New,
}

/// The condition of a write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// None.
    #[default]
    None,
    /// Only if the item's etag is this (If-Match).
    IfMatch(String),
    /// Only if no such item exists (If-None-Match: *).
    IfNoneMatch,
}

/// An item removed from a folder, as its tombstone names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemovedItem {
    /// Its message id.
    pub message_id: u64,
    /// Its iCalendar/vCard UID ("" when none).
    pub item_uid: String,
    /// Its resource name ("" when it had none).
    pub name: String,
}

/// What changed in a folder since a sync token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemChanges {
    /// Items created or changed since.
    pub changed: Vec<ItemInfo>,
    /// The items removed since.
    pub removed: Vec<RemovedItem>,
    /// The token to ask with next time.
    pub sync_token: String,
}

/// One busy interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusySlot {
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// PidLidBusyStatus (1 tentative, 2 busy, 3 out of office, 4 elsewhere).
    pub status: i32,
    /// The appointment.
    pub message_id: u64,
}

/// The free/busy of `[start, end)` in intervals of `step` seconds (the
/// last one may be shorter): per interval the status of the slots touching
/// it that ranks highest by `rank` (0: does not count), `None` where none
/// counts. Both EWS's and ActiveSync's MergedFreeBusy are written from it.
pub fn merge_free_busy(
    slots: &[BusySlot],
    start: i64,
    end: i64,
    step: i64,
    rank: impl Fn(i32) -> u8,
) -> Vec<Option<i32>> {
    if step <= 0 || end <= start {
        return Vec::new();
    }
    let n = (end - start + step - 1) / step;
    (0..n)
        .map(|i| {
            let a = start + i * step;
            let b = (a + step).min(end);
            slots
                .iter()
                .filter(|s| s.start < b && s.end > a && rank(s.status) > 0)
                .max_by_key(|s| rank(s.status))
                .map(|s| s.status)
        })
        .collect()
}

fn decode_err(e: String) -> RpcError {
    RpcError::Input {
        service: "exmdb",
        message: format!("malformed answer: {e}"),
    }
}

impl ExmdbClient {
    /// The ids of `names` in the store of `dir` (`None`: no id), given out
    /// now when `create`.
    pub async fn named_prop_ids(
        &self,
        dir: &str,
        names: &[NamedProp],
        create: bool,
    ) -> Result<Vec<Option<u16>>, RpcError> {
        let req = pb::GetNamedPropIdsRequest {
            dir: dir.to_string(),
            names: names.iter().map(name_to_pb).collect(),
            create,
        };
        let r = self
            .unary(dir, true, req, |mut c, r| async move {
                c.get_named_prop_ids(r).await
            })
            .await?;
        Ok(r.ids
            .into_iter()
            .map(|i| u16::try_from(i).ok().filter(|i| *i != 0))
            .collect())
    }

    /// The names of property ids in the store of `dir` (`None`: no name).
    pub async fn named_prop_names(
        &self,
        dir: &str,
        ids: &[u16],
    ) -> Result<Vec<Option<NamedProp>>, RpcError> {
        let req = pb::GetNamedPropNamesRequest {
            dir: dir.to_string(),
            ids: ids.iter().map(|i| u32::from(*i)).collect(),
        };
        let r = self
            .unary(dir, true, req, |mut c, r| async move {
                c.get_named_prop_names(r).await
            })
            .await?;
        r.names
            .into_iter()
            .map(|n| {
                n.name
                    .as_ref()
                    .map(name_from_pb)
                    .transpose()
                    .map_err(decode_err)
            })
            .collect()
    }

    /// Stores an item in `folder` (a role such as `calendar`, or an id).
    /// Returns its entry and whether it was created. A failed precondition
    /// is an error with reason `PRECONDITION_FAILED`.
    pub async fn put_item(
        &self,
        dir: &str,
        folder: pb::FolderSelector,
        item: &Item,
        target: PutTarget,
        pre: Precondition,
    ) -> Result<(ItemInfo, bool), RpcError> {
        self.put_item_named(dir, folder, item, target, pre, None)
            .await
    }

    /// [`ExmdbClient::put_item`] giving the item the resource name `name`
    /// (unique in the folder; a new named item may not share its UID with
    /// another: both are `PRECONDITION_FAILED`). `None` keeps the name of
    /// a replaced item.
    pub async fn put_item_named(
        &self,
        dir: &str,
        folder: pb::FolderSelector,
        item: &Item,
        target: PutTarget,
        pre: Precondition,
        name: Option<&str>,
    ) -> Result<(ItemInfo, bool), RpcError> {
        let req = pb::PutItemRequest {
            dir: dir.to_string(),
            folder: Some(folder),
            item: Some(item_to_pb(item)),
            target: match target {
                PutTarget::ByUid => None,
                PutTarget::Message(id) => Some(pb::put_item_request::Target::MessageId(id)),
                PutTarget::New => Some(pb::put_item_request::Target::AlwaysNew(true)),
            },
            precondition: match pre {
                Precondition::None => None,
                Precondition::IfMatch(e) => Some(pb::put_item_request::Precondition::IfMatch(e)),
                Precondition::IfNoneMatch => {
                    Some(pb::put_item_request::Precondition::IfNoneMatch(true))
                }
            },
            name: name.map(str::to_string),
        };
        let r = self
            .unary(
                dir,
                false,
                req,
                |mut c, r| async move { c.put_item(r).await },
            )
            .await?;
        let entry = r
            .entry
            .ok_or_else(|| decode_err("PutItem without entry".into()))?;
        Ok((entry.into(), r.created))
    }

    /// One item with its original object.
    pub async fn get_item(&self, dir: &str, message_id: u64) -> Result<(ItemInfo, Item), RpcError> {
        let req = pb::MessageRequest {
            dir: dir.to_string(),
            message_id,
        };
        let r = self
            .unary(
                dir,
                true,
                req,
                |mut c, r| async move { c.get_item(r).await },
            )
            .await?;
        let entry = r
            .entry
            .ok_or_else(|| decode_err("GetItem without entry".into()))?;
        let item = item_from_pb(
            r.item
                .as_ref()
                .ok_or_else(|| decode_err("GetItem without item".into()))?,
        )
        .map_err(decode_err)?;
        Ok((entry.into(), item))
    }

    /// The items `message_ids`, in order, for a client that serves their
    /// source objects (CalDAV, CardDAV): as many GetItems calls as the
    /// store's reply budget needs. An item whose source object still is
    /// the item comes as [`ReadItem::Source`] (its properties only when
    /// `with_items`).
    pub async fn get_items(
        &self,
        dir: &str,
        message_ids: &[u64],
        with_items: bool,
    ) -> Result<Vec<ReadItem>, RpcError> {
        let mut out = Vec::with_capacity(message_ids.len());
        while out.len() < message_ids.len() {
            let req = pb::GetItemsRequest {
                dir: dir.to_string(),
                message_ids: message_ids[out.len()..].to_vec(),
                with_items,
            };
            let r = self
                .unary(
                    dir,
                    true,
                    req,
                    |mut c, r| async move { c.get_items(r).await },
                )
                .await?;
            if r.items.is_empty() {
                return Err(decode_err("GetItems read none of the items".into()));
            }
            for x in r.items {
                let Some(entry) = x.entry else {
                    out.push(ReadItem::Missing(x.message_id));
                    continue;
                };
                let item = x
                    .item
                    .as_ref()
                    .map(item_from_pb)
                    .transpose()
                    .map_err(decode_err)?;
                out.push(match (x.source, item) {
                    (Some(s), None) => ReadItem::Source(entry.into(), s),
                    (source, Some(item)) => ReadItem::Item(entry.into(), item, source.is_some()),
                    (None, None) => {
                        return Err(decode_err("GetItems gave an entry without body".into()));
                    }
                });
            }
        }
        Ok(out)
    }

    /// Deletes an item, if its etag is `if_match` when given.
    pub async fn delete_item(
        &self,
        dir: &str,
        message_id: u64,
        if_match: Option<String>,
    ) -> Result<(), RpcError> {
        let req = pb::DeleteItemRequest {
            dir: dir.to_string(),
            message_id,
            if_match,
        };
        self.unary(
            dir,
            false,
            req,
            |mut c, r| async move { c.delete_item(r).await },
        )
        .await?;
        Ok(())
    }

    /// The items of a folder and its sync token (one snapshot).
    pub async fn list_items(
        &self,
        dir: &str,
        folder: pb::FolderSelector,
    ) -> Result<(Vec<ItemInfo>, String), RpcError> {
        let req = pb::FolderRequest {
            dir: dir.to_string(),
            folder: Some(folder),
        };
        let r = self
            .unary(
                dir,
                true,
                req,
                |mut c, r| async move { c.list_items(r).await },
            )
            .await?;
        Ok((
            r.items.into_iter().map(ItemInfo::from).collect(),
            r.sync_token,
        ))
    }

    /// The live items of a folder with an instance in `[start, end)` (Unix
    /// seconds); all-day and floating events in `floating_zone` (IANA, ""
    /// = UTC).
    pub async fn list_items_in_range(
        &self,
        dir: &str,
        folder: pb::FolderSelector,
        start: i64,
        end: i64,
        floating_zone: &str,
    ) -> Result<Vec<ItemInfo>, RpcError> {
        let req = pb::ListItemsInRangeRequest {
            dir: dir.to_string(),
            folder: Some(folder),
            start,
            end,
            floating_zone: floating_zone.to_string(),
        };
        let r = self
            .unary(dir, true, req, |mut c, r| async move {
                c.list_items_in_range(r).await
            })
            .await?;
        Ok(r.items.into_iter().map(ItemInfo::from).collect())
    }

    /// The live items of a folder named one of `names` or with one of the
    /// iCalendar/vCard UIDs `item_uids` (index lookups, not a listing).
    pub async fn find_items(
        &self,
        dir: &str,
        folder: pb::FolderSelector,
        names: &[String],
        item_uids: &[String],
    ) -> Result<Vec<ItemInfo>, RpcError> {
        let req = pb::FindItemsRequest {
            dir: dir.to_string(),
            folder: Some(folder),
            names: names.to_vec(),
            item_uids: item_uids.to_vec(),
        };
        let r = self
            .unary(
                dir,
                true,
                req,
                |mut c, r| async move { c.find_items(r).await },
            )
            .await?;
        Ok(r.items.into_iter().map(ItemInfo::from).collect())
    }

    /// What changed in a folder since `sync_token` ("" = everything). A
    /// token too old is an error with reason `SYNC_TOKEN_TOO_OLD`.
    pub async fn item_changes_since(
        &self,
        dir: &str,
        folder: pb::FolderSelector,
        sync_token: &str,
    ) -> Result<ItemChanges, RpcError> {
        let req = pb::ItemChangesRequest {
            dir: dir.to_string(),
            folder: Some(folder),
            sync_token: sync_token.to_string(),
        };
        let r = self
            .unary(dir, true, req, |mut c, r| async move {
                c.item_changes_since(r).await
            })
            .await?;
        Ok(ItemChanges {
            changed: r.changed.into_iter().map(ItemInfo::from).collect(),
            removed: r
                .removed
                .into_iter()
                .map(|x| RemovedItem {
                    message_id: x.message_id,
                    item_uid: x.item_uid,
                    name: x.name,
                })
                .collect(),
            sync_token: r.sync_token,
        })
    }

    /// Busy times of the store's Calendar folder in `[start, end)`; all-day
    /// and floating events in `floating_zone` (IANA, "" = UTC).
    pub async fn free_busy(
        &self,
        dir: &str,
        start: i64,
        end: i64,
        floating_zone: &str,
    ) -> Result<Vec<BusySlot>, RpcError> {
        let req = pb::GetFreeBusyRequest {
            dir: dir.to_string(),
            start,
            end,
            floating_zone: floating_zone.to_string(),
        };
        let r = self
            .unary(dir, true, req, |mut c, r| async move {
                c.get_free_busy(r).await
            })
            .await?;
        Ok(r.slots
            .into_iter()
            .map(|s| BusySlot {
                start: s.start,
                end: s.end,
                status: s.status,
                message_id: s.message_id,
            })
            .collect())
    }

    /// Forgets the store's groupware tombstones older than exmdb's
    /// `sync_tombstone_max_age`; returns how many.
    pub async fn compact_tombstones(&self, dir: &str) -> Result<u64, RpcError> {
        let req = pb::StoreRequest {
            dir: dir.to_string(),
        };
        let r = self
            .unary(dir, false, req, |mut c, r| async move {
                c.compact_tombstones(r).await
            })
            .await?;
        Ok(r.removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_mapi::{lids, tags};

    #[test]
    fn an_item_survives_its_wire_form() {
        let mut inner = Item::new(ItemClass::Exception);
        inner.set(&lids::PID_LID_LOCATION, PropValue::Unicode("Raum".into()));
        let mut item = Item::new(ItemClass::Appointment);
        item.set(tags::PR_SUBJECT, PropValue::Unicode("x".into()));
        item.set(&lids::PID_LID_BUSY_STATUS, PropValue::Long(2));
        item.set(
            groxide_mapi::PropKey::Named(
                NamedProp::string(groxide_mapi::psets::PUBLIC_STRINGS, "Keywords"),
                PropType::MvUnicode,
            ),
            PropValue::MvUnicode(vec!["a".into()]),
        );
        item.recipients.push(Recipient {
            name: "Bob".into(),
            address: "bob@example.org".into(),
            role: groxide_pim::AttendeeRole::Optional,
            response: groxide_pim::ResponseStatus::Accepted,
            organizer: false,
            extra: PropMap::new(),
        });
        item.attachments.push(Attachment {
            props: PropMap::new(),
            content: AttachmentContent::Embedded(Box::new(inner)),
        });
        item.attachments.push(Attachment {
            props: PropMap::new(),
            content: AttachmentContent::Data(vec![1, 2, 3]),
        });
        item.original = Some(b"BEGIN:VCALENDAR".to_vec());
        assert_eq!(item_from_pb(&item_to_pb(&item)).unwrap(), item);
    }

    #[test]
    fn bad_wire_items_are_refused_with_a_reason() {
        let mut p = item_to_pb(&Item::new(ItemClass::Contact));
        p.message_class = "IPM.Note".into();
        assert!(item_from_pb(&p).unwrap_err().contains("IPM.Note"));
        let mut p = item_to_pb(&Item::new(ItemClass::Contact));
        p.props.push(pb::ItemProp {
            prop: Some(prop_to_pb(tags::PR_SUBJECT, &PropValue::Long(1))),
            name: None,
        });
        assert!(item_from_pb(&p).is_err());
        let p = pb::PropName {
            guid: vec![1, 2],
            kind: Some(pb::prop_name::Kind::Lid(1)),
        };
        assert!(name_from_pb(&p).is_err());
    }

    #[test]
    fn merged_free_busy_takes_the_highest_ranked_status_per_interval() {
        let slot = |start, end, status| BusySlot {
            start,
            end,
            status,
            message_id: 1,
        };
        // Busy 0–60, tentative 45–90 (overlapping the second interval),
        // free 90–120 counted as nothing, out of office 130–131.
        let slots = [
            slot(0, 60, 2),
            slot(45, 90, 1),
            slot(90, 120, 0),
            slot(130, 131, 3),
        ];
        let rank = |s: i32| s.clamp(0, 3) as u8;
        let m = merge_free_busy(&slots, 0, 150, 30, rank);
        assert_eq!(m, [Some(2), Some(2), Some(1), None, Some(3)]);
        // A shorter last interval; nothing for an empty or inverted range.
        assert_eq!(merge_free_busy(&slots, 0, 40, 30, rank).len(), 2);
        assert!(merge_free_busy(&slots, 10, 10, 30, rank).is_empty());
        assert!(merge_free_busy(&slots, 0, 10, 0, rank).is_empty());
    }
}
