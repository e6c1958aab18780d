//! Translating between the wire (groxide.exmdb.v1) and the store engine.

use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_store as st;
use groxide_store::{FolderRef, FolderRole, PropTag};
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
    groxide_rpc::items::prop_into_pb(tag, v)
}

/// A property from the wire, checked against its tag's type.
pub(crate) fn prop_from_pb(p: &pb::Prop) -> Result<st::Prop, Status> {
    groxide_rpc::items::prop_from_pb(p).map_err(Status::invalid_argument)
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
                ..Default::default()
            }),
        }),
    }
}
