//! Change notifications: the store engine's commit events, published to
//! groxide-event through a non-blocking queue.

use groxide_rpc::EventPublisher;
use groxide_rpc::pb::event::v1::{Notification, NotificationKind};
use groxide_store::{ChangeEvent, ChangeKind, CommitObserver};

/// Publishes every committed change; never blocks the writer.
pub(crate) struct Publisher {
    events: EventPublisher,
}

impl Publisher {
    pub(crate) fn new(events: EventPublisher) -> Publisher {
        Publisher { events }
    }
}

fn kind(k: ChangeKind) -> NotificationKind {
    match k {
        ChangeKind::MessageAdded => NotificationKind::MessageAdded,
        ChangeKind::MessageChanged => NotificationKind::MessageChanged,
        ChangeKind::MessageRemoved => NotificationKind::MessageRemoved,
        ChangeKind::FolderCreated => NotificationKind::FolderCreated,
        ChangeKind::FolderChanged => NotificationKind::FolderChanged,
        ChangeKind::FolderDeleted => NotificationKind::FolderDeleted,
    }
}

impl CommitObserver for Publisher {
    fn committed(&self, dir: &std::path::Path, events: &[ChangeEvent]) {
        let dir = dir.to_string_lossy();
        for e in events {
            self.events.publish(Notification {
                dir: dir.to_string(),
                folder: e.folder.0,
                kind: kind(e.kind) as i32,
                uids: e.uids.iter().map(|u| u.0).collect(),
                change_number: e.cn.0,
            });
        }
    }
}
