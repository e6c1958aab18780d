//! groxide-exmdb in-process with a real groxide-event, driven by the routed
//! client over sockets: streamed insert and read, flags with UNCHANGEDSINCE,
//! COPY/MOVE UID maps, changes since, notifications, STORE_NOT_HERE and
//! refused dirs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use groxide_config::{Event, Exmdb};
use groxide_rpc::exmdb_client::{ExmdbClient, folder_id, folder_role};
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::event::v1::{SubscribeRequest, event_client::EventClient, subscribe_reply};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::{Reason, owner_of, reason_of};
use groxide_rpc::{ClientOptions, NodeAddr};
use groxide_runtime::Routing;
use groxide_testkit::{InProcess, LocalNode};
use std::path::Path;
use std::time::{Duration, Instant};

struct Node {
    local: LocalNode,
    exmdb: InProcess<Exmdb>,
    _event: InProcess<Event>,
    data: tempfile::TempDir,
    client: ExmdbClient,
}

async fn start() -> Node {
    let local = LocalNode::new();
    local.append("exmdb_provider.cfg", "mail_max_length = 1M\n");
    local
        .config
        .write("exmdb_list.txt", "/elsewhere/ private 127.0.0.9 5000\n");
    let event = local
        .start(groxide_event::ENDPOINT, groxide_event::run)
        .await;
    let exmdb = local
        .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
        .await;
    let routing = Routing::load(&exmdb.config(), None).unwrap();
    let client = ExmdbClient::new(routing.exmdb().clone(), ClientOptions::default());
    Node {
        local,
        exmdb,
        _event: event,
        data: tempfile::tempdir().unwrap(),
        client,
    }
}

fn header(dir: &str, role: &str) -> pb::InsertHeader {
    pb::InsertHeader {
        dir: dir.into(),
        folder: Some(folder_role(role)),
        ..Default::default()
    }
}

fn message(n: usize, body: usize) -> Vec<u8> {
    format!(
        "Subject: m{n}\r\nFrom: a@example.org\r\n\r\n{}\r\n",
        "z".repeat(body)
    )
    .into_bytes()
}

fn range(first: u32, last: u32) -> groxide_rpc::pb::common::v1::UidRange {
    groxide_rpc::pb::common::v1::UidRange { first, last }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_exmdb_service_end_to_end_in_process() {
    let node = start().await;
    let c = &node.client;
    let dir = node
        .data
        .path()
        .join("user/alice")
        .to_string_lossy()
        .into_owned();
    let created = c
        .create_store(pb::CreateStoreRequest {
            dir: dir.clone(),
            r#type: pb::StoreType::Private as i32,
            owner: "alice".into(),
            lang: String::new(),
            quota_bytes: 0,
        })
        .await
        .unwrap();
    assert!(created.created);
    assert_eq!(created.mailbox_guid.len(), 16);

    // Subscribe first, so the insert's notification is seen.
    let mut events = EventClient::new(
        groxide_rpc::client::channel(
            "event",
            &NodeAddr::new("127.0.0.1", node.local.event_port),
            &ClientOptions::default(),
        )
        .unwrap(),
    )
    .subscribe(SubscribeRequest {
        dir: dir.clone(),
        folder: 0,
    })
    .await
    .unwrap()
    .into_inner();
    assert!(matches!(
        events.next().await.unwrap().unwrap().event,
        Some(subscribe_reply::Event::Subscribed(_))
    ));

    // A 300 KB message streams in chunks and back out in chunks.
    let big = message(1, 300_000);
    let ins = c
        .insert_message_bytes(header(&dir, "inbox"), big.clone())
        .await
        .unwrap();
    assert_eq!((ins.uid, ins.folder_id), (1, 0x0d));
    assert!(ins.uidvalidity > 0);
    assert_eq!(c.read_content_all(&dir, ins.message_id).await.unwrap(), big);
    let mut part = Vec::new();
    let mut s = Box::pin(c.read_content(&dir, ins.message_id, 2, 5).await.unwrap());
    while let Some(chunk) = s.next().await {
        part.extend(chunk.unwrap());
    }
    assert_eq!(part, b"bject");
    let n = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match n.event {
        Some(subscribe_reply::Event::Notification(n)) => {
            assert_eq!(
                (n.folder, n.uids.clone(), n.change_number),
                (0x0d, vec![1], ins.change_number),
                "{n:?}"
            );
        }
        other => panic!("expected a notification, got {other:?}"),
    }

    // Too large for mail_max_length = 1M: refused with TOO_LARGE.
    let err = c
        .insert_message_bytes(header(&dir, "inbox"), vec![b'x'; 1_100_000])
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::TooLarge), "{err}");

    for n in 2..=4 {
        c.insert_message_bytes(header(&dir, "inbox"), message(n, 10))
            .await
            .unwrap();
    }
    let read = c
        .read_message(pb::MessageRequest {
            dir: dir.clone(),
            message_id: ins.message_id,
        })
        .await
        .unwrap();
    assert!(read.props.iter().any(
        |p| p.tag == 0x0037_001F && p.value == Some(pb::prop::Value::StringValue("m1".into()))
    ));

    // Flags with UNCHANGEDSINCE: message 2 changed after the checkpoint.
    let checkpoint = c
        .get_store_info(pb::StoreRequest { dir: dir.clone() })
        .await
        .unwrap()
        .change_number;
    c.set_flags(pb::SetFlagsRequest {
        dir: dir.clone(),
        folder: Some(folder_role("inbox")),
        uids: vec![range(2, 2)],
        mode: groxide_rpc::pb::common::v1::FlagMode::Add as i32,
        flags: 4,
        ..Default::default()
    })
    .await
    .unwrap();
    let out = c
        .set_flags(pb::SetFlagsRequest {
            dir: dir.clone(),
            folder: Some(folder_role("inbox")),
            uids: vec![range(1, u32::MAX)],
            mode: groxide_rpc::pb::common::v1::FlagMode::Add as i32,
            flags: 1,
            keywords: vec!["$Important".into()],
            unchanged_since: checkpoint,
        })
        .await
        .unwrap();
    assert_eq!(out.modified, vec![2]);
    assert_eq!(
        out.updated.iter().map(|e| e.uid).collect::<Vec<_>>(),
        vec![1, 3, 4]
    );

    // COPY and MOVE report the UID map and the target UIDVALIDITY.
    let trash = c
        .get_folder(pb::FolderRequest {
            dir: dir.clone(),
            folder: Some(folder_role("trash")),
        })
        .await
        .unwrap();
    let copied = c
        .copy_messages(pb::CopyMessagesRequest {
            dir: dir.clone(),
            folder: Some(folder_role("inbox")),
            uids: vec![range(3, 4)],
            target: Some(folder_id(trash.id)),
        })
        .await
        .unwrap();
    assert_eq!(copied.target_uidvalidity, trash.uidvalidity);
    let map: Vec<(u32, u32)> = copied
        .uids
        .iter()
        .map(|m| (m.source_uid, m.target_uid))
        .collect();
    assert_eq!(map, vec![(3, 1), (4, 2)]);
    let moved = c
        .move_messages(pb::CopyMessagesRequest {
            dir: dir.clone(),
            folder: Some(folder_role("inbox")),
            uids: vec![range(1, 1)],
            target: Some(folder_role("trash")),
        })
        .await
        .unwrap();
    assert_eq!(
        moved
            .uids
            .iter()
            .map(|m| (m.source_uid, m.target_uid))
            .collect::<Vec<_>>(),
        vec![(1, 3)]
    );

    // Changes since the checkpoint: the removal of UID 1 and the changed 2, 3, 4.
    let mut changes = Box::pin(
        c.changes_since(pb::ChangesSinceRequest {
            dir: dir.clone(),
            folder: Some(folder_role("inbox")),
            since: checkpoint,
        })
        .await
        .unwrap(),
    );
    let mut seen = Vec::new();
    let mut highest = 0;
    while let Some(chunk) = changes.next().await {
        let chunk = chunk.unwrap();
        highest = chunk.highest_modseq;
        for ch in chunk.changes {
            seen.push(match ch.change.unwrap() {
                pb::message_change::Change::Removed(r) => format!("-{}", r.uid),
                pb::message_change::Change::Changed(e) => format!("+{}", e.uid),
            });
        }
    }
    assert_eq!(seen, vec!["-1", "+2", "+3", "+4"]);
    let inbox = c
        .get_folder(pb::FolderRequest {
            dir: dir.clone(),
            folder: Some(folder_role("inbox")),
        })
        .await
        .unwrap();
    assert_eq!(
        highest, inbox.highest_modseq,
        "the changes lead to the folder's MODSEQ"
    );
    let mut listed = Box::pin(
        c.list_messages(pb::ListMessagesRequest {
            limit: 0,
            dir: dir.clone(),
            folder: Some(folder_role("trash")),
            range: None,
        })
        .await
        .unwrap(),
    );
    let mut uids = Vec::new();
    while let Some(e) = listed.next().await {
        let e = e.unwrap();
        assert_eq!(e.content_hash.len(), 32);
        uids.push(e.uid);
    }
    assert_eq!(uids, vec![1, 2, 3]);
    // A limited listing: the lowest UIDs of the range, no more.
    let mut ids = Vec::new();
    for (range, limit, want) in [(None, 2, vec![1, 2]), (Some((2, u32::MAX)), 1, vec![2])] {
        let listed = c
            .list_messages(pb::ListMessagesRequest {
                limit,
                dir: dir.clone(),
                folder: Some(folder_role("trash")),
                range: range.map(|(first, last)| cpb::UidRange { first, last }),
            })
            .await
            .unwrap();
        let entries: Vec<pb::MessageEntry> = listed.map(Result::unwrap).collect().await;
        assert_eq!(entries.iter().map(|e| e.uid).collect::<Vec<_>>(), want);
        ids = entries.iter().map(|e| e.message_id).collect();
    }
    // ReadMessages with contents: each message's bytes, as ReadContent gives them.
    let reply = c
        .read_messages(pb::ReadMessagesRequest {
            dir: dir.clone(),
            message_ids: ids.clone(),
            bodies: false,
            contents: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(reply.messages.len(), 1);
    assert_eq!(
        reply.contents,
        vec![c.read_content_all(&dir, ids[0]).await.unwrap()]
    );
    let without = c
        .read_messages(pb::ReadMessagesRequest {
            dir: dir.clone(),
            message_ids: ids.clone(),
            bodies: false,
            contents: false,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(without.contents.is_empty());
    assert!(without.messages[0].props.len() > 2);
    // A selection: only the asked tags the message has, no recipients.
    let asked = [
        groxide_mapi::tags::PR_SUBJECT.0,
        groxide_mapi::tags::PR_DISPLAY_BCC.0,
        groxide_mapi::tags::PR_START_DATE.0,
    ];
    let selected = c
        .read_messages(pb::ReadMessagesRequest {
            dir: dir.clone(),
            message_ids: ids,
            only_tags: true,
            tags: asked.to_vec(),
            skip_recipients: true,
            skip_attachments: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let m = &selected.messages[0];
    let want: Vec<&pb::Prop> = without.messages[0]
        .props
        .iter()
        .filter(|p| asked.contains(&p.tag))
        .collect();
    assert!(want.iter().any(|p| p.tag == asked[0]));
    assert_eq!(m.props.iter().collect::<Vec<_>>(), want);
    assert!(m.recipients.is_empty() && m.attachments.is_empty());
    assert_eq!(m.entry, without.messages[0].entry);

    // Unknown folder and message: NOT_FOUND with reasons.
    let err = c
        .get_folder(pb::FolderRequest {
            dir: dir.clone(),
            folder: Some(folder_id(0x9999)),
        })
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::NoSuchFolder));
    let err = c
        .read_message(pb::MessageRequest {
            dir: dir.clone(),
            message_id: 999_999,
        })
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::NoSuchMessage));
    let missing = node
        .data
        .path()
        .join("user/nobody")
        .to_string_lossy()
        .into_owned();
    let err = c
        .get_store_info(pb::StoreRequest { dir: missing })
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Some(Reason::NoSuchStore));

    // Straight to this node for a store the list gives to 127.0.0.9: STORE_NOT_HERE naming it.
    let ch = groxide_rpc::client::channel(
        "exmdb",
        &NodeAddr::new("127.0.0.1", node.local.exmdb_port),
        &ClientOptions::default(),
    )
    .unwrap();
    let mut raw = pb::exmdb_client::ExmdbClient::new(ch);
    let st = raw
        .get_store_info(pb::StoreRequest {
            dir: "/elsewhere/bob".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason_of(&st), Some(Reason::StoreNotHere), "{st:?}");
    assert_eq!(owner_of(&st).as_deref(), Some("127.0.0.9:5000"));

    // Bad dirs: INVALID_ARGUMENT.
    for bad in [
        "",
        "relative/x",
        "/a/../b",
        &format!("/{}", "d".repeat(5000)),
    ] {
        let st = raw
            .get_store_info(pb::StoreRequest {
                dir: bad.to_string(),
            })
            .await
            .unwrap_err();
        assert_eq!(st.code(), tonic::Code::InvalidArgument, "{bad:?}: {st:?}");
    }

    // A stream that breaks off stores nothing and leaves no staging file.
    let before = c
        .get_store_info(pb::StoreRequest { dir: dir.clone() })
        .await
        .unwrap()
        .message_count;
    let parts = vec![
        pb::InsertMessageRequest {
            part: Some(pb::insert_message_request::Part::Header(header(
                &dir, "inbox",
            ))),
        },
        pb::InsertMessageRequest {
            part: Some(pb::insert_message_request::Part::Chunk(
                b"Subject: cut".to_vec(),
            )),
        },
    ];
    let stream = futures_util::stream::iter(parts).chain(futures_util::stream::pending());
    let cut = tokio::time::timeout(Duration::from_millis(300), raw.insert_message(stream)).await;
    assert!(cut.is_err(), "the call must still be waiting for the rest");
    let tmp = Path::new(&dir).join("tmp");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(&tmp).unwrap().count() > 0 {
        assert!(Instant::now() < deadline, "staging file left behind");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = c
        .get_store_info(pb::StoreRequest { dir: dir.clone() })
        .await
        .unwrap()
        .message_count;
    assert_eq!(after, before, "a broken-off message was stored");

    // SIGHUP with a smaller mail_max_length applies to the next insert.
    let text = std::fs::read_to_string(node.local.config.join("exmdb_provider.cfg")).unwrap();
    node.local.config.write(
        "exmdb_provider.cfg",
        &text.replace("mail_max_length = 1M", "mail_max_length = 100"),
    );
    node.exmdb.reload(node.local.load::<Exmdb>()).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c
            .insert_message_bytes(header(&dir, "inbox"), message(9, 200))
            .await
        {
            Err(e) if e.reason() == Some(Reason::TooLarge) => break,
            Ok(_) => assert!(
                Instant::now() < deadline,
                "the reloaded limit never applied"
            ),
            Err(e) => panic!("{e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Shutdown drains: the daemon returns after closing its stores.
    let served = c
        .get_store_info(pb::StoreRequest { dir: dir.clone() })
        .await
        .unwrap()
        .message_count;
    assert!(served >= 6);
    let mut exmdb = node.exmdb;
    exmdb.stop();
    exmdb.stopped().await;
    // The store reopens with everything in it.
    let store = groxide_store::Store::open(Path::new(&dir), &groxide_store::OpenOptions::default())
        .unwrap();
    assert_eq!(store.info().unwrap().message_count, served);
}
