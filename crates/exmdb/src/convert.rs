//! Translating between the wire (groxide.exmdb.v1) and the store engine.

use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_store as st;
use groxide_store::{FolderRef, FolderRole, PropTag, PropValue};
use tonic::Status;

pub(crate) fn folder_ref(sel: Option<&pb::FolderSelector>) -> Result<FolderRef, Status> {
    match sel.and_then(|s| s.folder.as_ref()) {
        Some(pb::folder_selector::Folder::Id(id)) => Ok(FolderRef::Id(st::FolderId(*id))),
        Some(pb::folder_selector::Folder::Role(r)) => FolderRole::parse(r)
            .map(FolderRef::Role)
            .ok_or_else(|| Status::invalid_argument(format!("unknown folder role {r:?}"))),
        None => Err(Status::invalid_argument(
            "a folder (id or role) is required",
        )),
    }
}

pub(crate) fn folder(f: st::FolderInfo) -> pb::Folder {
    pb::Folder {
        id: f.id.0,
        parent_id: f.parent.map_or(0, |p| p.0),
        name: f.name,
        container_class: f.container_class,
        role: f.role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        hidden: f.hidden,
        uidvalidity: f.uidvalidity.0,
        uidnext: f.uidnext,
        change_number: f.cn.0,
        highest_modseq: f.highest_modseq.0,
        message_count: f.message_count,
        unread_count: f.unread_count,
        size_bytes: f.size,
        created_at: f.created_at,
        props: Vec::new(),
        deleted_count: None,
        first_unseen_uid: None,
        highest_uid: None,
    }
}

pub(crate) fn entry(e: st::MessageEntry) -> pb::MessageEntry {
    pb::MessageEntry {
        uid: e.uid.0,
        message_id: e.message_id.0,
        flags: e.flags.bits(),
        keywords: e.keywords,
        size: e.size,
        internal_date: e.internal_date,
        change_number: e.cn.0,
        content_hash: e.content_hash.map(|h| h.0.to_vec()).unwrap_or_default(),
    }
}

pub(crate) fn flags(bits: u32) -> Result<st::ImapFlags, Status> {
    if bits & !st::ImapFlags::ALL.bits() != 0 {
        return Err(Status::invalid_argument(format!(
            "unknown flag bits in {bits:#x}"
        )));
    }
    Ok(st::ImapFlags::from_bits(bits))
}

pub(crate) fn uid_ranges(r: &[groxide_rpc::pb::common::v1::UidRange]) -> Vec<st::UidRange> {
    r.iter()
        .map(|r| st::UidRange::new(r.first, r.last))
        .collect()
}

pub(crate) fn internal_date(d: i64) -> Option<i64> {
    (d != 0).then_some(d)
}

pub(crate) fn prop_to_pb((tag, v): st::Prop) -> pb::Prop {
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

pub(crate) fn prop_from_pb(p: &pb::Prop) -> Result<st::Prop, Status> {
    use pb::prop::Value;
    let bad =
        || Status::invalid_argument(format!("property 0x{:08X} has no or a bad value", p.tag));
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
    st::props::check_prop(tag, &v).map_err(|e| Status::invalid_argument(e.to_string()))?;
    Ok((tag, v))
}

pub(crate) fn props_from_pb(p: &[pb::Prop]) -> Result<Vec<st::Prop>, Status> {
    p.iter().map(prop_from_pb).collect()
}

pub(crate) fn props_to_pb(p: Vec<st::Prop>) -> Vec<pb::Prop> {
    p.into_iter().map(prop_to_pb).collect()
}

pub(crate) fn tags(t: &[u32]) -> Vec<PropTag> {
    t.iter().map(|t| PropTag(*t)).collect()
}

pub(crate) fn message(m: st::MessageRecord) -> pb::Message {
    pb::Message {
        entry: Some(entry(m.entry)),
        folder_id: m.folder.0,
        origin: match m.origin {
            st::ContentOrigin::None => pb::ContentOrigin::None,
            st::ContentOrigin::Original => pb::ContentOrigin::Original,
            st::ContentOrigin::Generated => pb::ContentOrigin::Generated,
        } as i32,
        props: props_to_pb(m.props),
        recipients: m
            .recipients
            .into_iter()
            .map(|r| pb::PropList {
                props: props_to_pb(r),
            })
            .collect(),
        attachments: m
            .attachments
            .into_iter()
            .map(|a| pb::Attachment {
                position: a.position,
                props: props_to_pb(a.props),
            })
            .collect(),
    }
}

pub(crate) fn inserted(i: st::InsertedMessage) -> pb::InsertMessageReply {
    pb::InsertMessageReply {
        message_id: i.message_id.0,
        uid: i.uid.0,
        change_number: i.cn.0,
        folder_id: i.folder.0,
        uidvalidity: i.uidvalidity.0,
    }
}

pub(crate) fn copied(c: st::CopyOutcome) -> pb::CopyMessagesReply {
    pb::CopyMessagesReply {
        target_uidvalidity: c.target_uidvalidity.0,
        uids: c
            .uids
            .into_iter()
            .map(|(s, t)| pb::UidMapping {
                source_uid: s.0,
                target_uid: t.0,
            })
            .collect(),
    }
}

pub(crate) fn change(c: st::MessageChange) -> pb::MessageChange {
    use pb::message_change::Change;
    pb::MessageChange {
        change: Some(match c {
            st::MessageChange::Changed(e) => Change::Changed(entry(e)),
            st::MessageChange::Removed(r) => Change::Removed(pb::RemovedMessage {
                uid: r.uid.0,
                message_id: r.message_id.0,
                change_number: r.cn.0,
            }),
        }),
    }
}
