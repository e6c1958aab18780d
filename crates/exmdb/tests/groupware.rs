//! The groupware calls of groxide-exmdb in-process over sockets, through
//! the typed client: named property ids given out once and named back,
//! items with etag conditions, sync tokens refused after the maintenance
//! call compacted the tombstones (`sync_tombstone_max_age = 0s`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_config::{Event, Exmdb};
use groxide_mapi::{NamedProp, PropValue, lids, psets};
use groxide_pim::{Item, ItemClass};
use groxide_rpc::ClientOptions;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::items::{Precondition, PutTarget};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use groxide_runtime::Routing;
use groxide_testkit::{InProcess, LocalNode};

struct Node {
    _local: LocalNode,
    _exmdb: InProcess<Exmdb>,
    _event: InProcess<Event>,
    data: tempfile::TempDir,
    client: ExmdbClient,
}

async fn start() -> Node {
    let local = LocalNode::new();
    local.append("exmdb_provider.cfg", "sync_tombstone_max_age = 0s\n");
    let event = local
        .start(groxide_event::ENDPOINT, groxide_event::run)
        .await;
    let exmdb = local
        .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
        .await;
    let routing = Routing::load(&exmdb.config(), None).unwrap();
    let client = ExmdbClient::new(routing.exmdb().clone(), ClientOptions::default());
    Node {
        _local: local,
        _exmdb: exmdb,
        _event: event,
        data: tempfile::tempdir().unwrap(),
        client,
    }
}

fn task(uid: &str, subject: &str) -> Item {
    let mut t = Item::new(ItemClass::Task);
    t.set(&lids::PID_NAME_CALENDAR_UID, PropValue::Unicode(uid.into()));
    t.set(
        groxide_mapi::tags::PR_SUBJECT,
        PropValue::Unicode(subject.into()),
    );
    t.set(&lids::PID_LID_PERCENT_COMPLETE, PropValue::Double(0.5));
    t
}

#[tokio::test(flavor = "multi_thread")]
async fn groupware_calls_over_the_wire() {
    let node = start().await;
    let c = &node.client;
    let dir = node
        .data
        .path()
        .join("user/bob")
        .to_string_lossy()
        .into_owned();
    c.create_store(pb::CreateStoreRequest {
        dir: dir.clone(),
        r#type: pb::StoreType::Private as i32,
        owner: "bob".into(),
        lang: "fr".into(),
        quota_bytes: 0,
    })
    .await
    .unwrap();

    // Named properties: unknown until created, then stable, named back.
    let names = vec![
        NamedProp::string(psets::PUBLIC_STRINGS, "X-Custom"),
        lids::PID_LID_TASK_STATUS.named(),
    ];
    assert_eq!(
        c.named_prop_ids(&dir, &names, false).await.unwrap(),
        vec![None, None]
    );
    let ids = c.named_prop_ids(&dir, &names, true).await.unwrap();
    assert!(
        ids.iter().all(|i| i.is_some_and(|i| i >= 0x8000)),
        "{ids:?}"
    );
    assert_eq!(c.named_prop_ids(&dir, &names, true).await.unwrap(), ids);
    let back = c
        .named_prop_names(&dir, &[ids[0].unwrap(), ids[1].unwrap(), 0x1234])
        .await
        .unwrap();
    assert_eq!(
        back,
        vec![Some(names[0].clone()), Some(names[1].clone()), None]
    );

    // Items: created, conditional replace, listed with the folder's token.
    let (a, created) = c
        .put_item(
            &dir,
            folder_role("tasks"),
            &task("t-1", "first"),
            PutTarget::ByUid,
            Precondition::IfNoneMatch,
        )
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        (a.item_uid.as_str(), a.message_class.as_str()),
        ("t-1", "IPM.Task")
    );
    let (list, token) = c.list_items(&dir, folder_role("tasks")).await.unwrap();
    assert_eq!(list, vec![a.clone()]);
    let (b, created) = c
        .put_item(
            &dir,
            folder_role("tasks"),
            &task("t-1", "second"),
            PutTarget::ByUid,
            Precondition::IfMatch(a.etag.clone()),
        )
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(b.message_id, a.message_id);
    let err = c
        .put_item(
            &dir,
            folder_role("tasks"),
            &task("t-1", "third"),
            PutTarget::ByUid,
            Precondition::IfMatch(a.etag.clone()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::PreconditionFailed), "{err}");
    let (_, item) = c.get_item(&dir, a.message_id).await.unwrap();
    assert_eq!(item, task("t-1", "second"));
    let changes = c
        .item_changes_since(&dir, folder_role("tasks"), &token)
        .await
        .unwrap();
    assert_eq!(changes.changed, vec![b.clone()]);

    // Delete; the old token still replays it until the maintenance call
    // compacts the folder's tombstones, then it is refused as too old.
    c.delete_item(&dir, a.message_id, Some(b.etag.clone()))
        .await
        .unwrap();
    let changes = c
        .item_changes_since(&dir, folder_role("tasks"), &token)
        .await
        .unwrap();
    assert_eq!(
        changes
            .removed
            .iter()
            .map(|r| r.message_id)
            .collect::<Vec<_>>(),
        vec![a.message_id]
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    c.purge_soft_deleted(pb::PurgeSoftDeletedRequest {
        dir: dir.clone(),
        older_than_seconds: 0,
    })
    .await
    .unwrap();
    let err = c
        .item_changes_since(&dir, folder_role("tasks"), &token)
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::SyncTokenTooOld), "{err}");
    let fresh = c
        .item_changes_since(&dir, folder_role("tasks"), "")
        .await
        .unwrap();
    assert!(fresh.changed.is_empty());
    // The newest token keeps working.
    assert!(
        c.item_changes_since(&dir, folder_role("tasks"), &fresh.sync_token)
            .await
            .is_ok()
    );

    // Bad requests are refused without touching the store.
    let err = c.free_busy(&dir, 10, 0, "").await.unwrap_err();
    assert_eq!(err.status().unwrap().code(), tonic::Code::InvalidArgument);
    let err = c.free_busy(&dir, 0, 10, "Mars/Olympus").await.unwrap_err();
    assert_eq!(err.status().unwrap().code(), tonic::Code::InvalidArgument);
}
