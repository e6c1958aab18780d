//! groxide-midb in-process over a real groxide-exmdb and groxide-event,
//! driven by the generated midb client over sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use groxide_config::{Event, Exmdb, Midb};
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_rpc::pb::exmdb::v1 as xpb;
use groxide_rpc::pb::midb::v1 as pb;
use groxide_rpc::pb::midb::v1::midb_client::MidbClient;
use groxide_rpc::{ClientOptions, NodeAddr};
use groxide_runtime::Routing;
use groxide_testkit::{InProcess, LocalNode};
use tonic::transport::Channel;

struct Node {
    _local: LocalNode,
    _daemons: (InProcess<Event>, InProcess<Exmdb>, InProcess<Midb>),
    data: tempfile::TempDir,
    exmdb: ExmdbClient,
    midb: MidbClient<Channel>,
}

async fn start(direct_reads: bool) -> Node {
    let local = LocalNode::new();
    local.append(
        "midb.cfg",
        &format!(
            "midb_read_content_files = {}\n",
            if direct_reads { "yes" } else { "no" }
        ),
    );
    let event = local
        .start(groxide_event::ENDPOINT, groxide_event::run)
        .await;
    let exmdb = local
        .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
        .await;
    let midb = local.start(groxide_midb::ENDPOINT, groxide_midb::run).await;
    let routing = Routing::load(&exmdb.config(), None).unwrap();
    let exmdb_client = ExmdbClient::new(routing.exmdb().clone(), ClientOptions::default());
    let ch = groxide_rpc::client::channel(
        "midb",
        &NodeAddr::new("127.0.0.1", local.midb_port),
        &ClientOptions::default(),
    )
    .unwrap();
    Node {
        _local: local,
        _daemons: (event, exmdb, midb),
        data: tempfile::tempdir().unwrap(),
        exmdb: exmdb_client,
        midb: MidbClient::new(ch),
    }
}

async fn create_store(node: &Node, name: &str) -> String {
    let dir = node
        .data
        .path()
        .join("user")
        .join(name)
        .to_string_lossy()
        .into_owned();
    node.exmdb
        .create_store(xpb::CreateStoreRequest {
            dir: dir.clone(),
            r#type: xpb::StoreType::Private as i32,
            owner: name.into(),
            lang: String::new(),
            quota_bytes: 0,
        })
        .await
        .unwrap();
    dir
}

async fn append(
    m: &mut MidbClient<Channel>,
    dir: &str,
    mailbox: &str,
    raw: &[u8],
    flags: u32,
) -> pb::AppendReply {
    let mut chunks = vec![pb::AppendChunk {
        part: Some(pb::append_chunk::Part::Header(pb::AppendHeader {
            dir: dir.into(),
            mailbox: mailbox.into(),
            flags,
            keywords: vec![],
            internal_date: 1_700_000_000,
            size: raw.len() as u64,
        })),
    }];
    for c in raw.chunks(1000) {
        chunks.push(pb::AppendChunk {
            part: Some(pb::append_chunk::Part::Data(c.to_vec())),
        });
    }
    m.append(futures_util::stream::iter(chunks))
        .await
        .unwrap()
        .into_inner()
}

async fn list(m: &mut MidbClient<Channel>, dir: &str, folder: u64) -> Vec<(u32, u32)> {
    let mut s = m
        .list_messages(pb::ListMessagesRequest {
            dir: dir.into(),
            folder_id: folder,
            uids: vec![],
            with_size_and_date: true,
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        let c = c.unwrap();
        out.extend(c.uids.iter().copied().zip(c.flags.iter().copied()));
    }
    out
}

async fn section(
    m: &mut MidbClient<Channel>,
    req: pb::FetchSectionRequest,
) -> (pb::SectionChunk, Vec<u8>) {
    let mut s = m.fetch_section(req).await.unwrap().into_inner();
    let first = s.next().await.unwrap().unwrap();
    let mut data = first.data.clone();
    while let Some(c) = s.next().await {
        data.extend(c.unwrap().data);
    }
    assert_eq!(first.total_size as usize, data.len());
    (first, data)
}

async fn envelopes(
    m: &mut MidbClient<Channel>,
    dir: &str,
    folder: u64,
) -> Vec<(u32, u32, Vec<u8>, Vec<u8>)> {
    let mut s = m
        .fetch_metadata(pb::FetchMetadataRequest {
            dir: dir.into(),
            folder_id: folder,
            uids: vec![],
            items: 1 | 8 | 16,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(x) = s.next().await {
        let x = x.unwrap();
        out.push((x.uid, x.flags, x.envelope, x.bodystructure));
    }
    out
}

const MIXED: &[u8] = b"From: Ann <ann@example.test>\r\nTo: bob@example.test\r\n\
Subject: Quarterly numbers\r\nMessage-ID: <q1@example.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n\
The numbers are attached.\r\n--b1\r\nContent-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n";

#[tokio::test(flavor = "multi_thread")]
async fn midb_over_a_real_exmdb_reading_content_files() {
    midb_over_a_real_exmdb(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn midb_over_a_real_exmdb_reading_through_exmdb_only() {
    midb_over_a_real_exmdb(false).await;
}

async fn midb_over_a_real_exmdb(direct_reads: bool) {
    let node = start(direct_reads).await;
    let dir = create_store(&node, "alice").await;
    let mut m = node.midb.clone();

    // Mailboxes: standard names, create, subscription kept in the store.
    let boxes = m
        .list_mailboxes(pb::ListMailboxesRequest { dir: dir.clone() })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = boxes.mailboxes.iter().map(|b| b.name.as_str()).collect();
    for want in [
        "INBOX",
        "Sent Items",
        "Deleted Items",
        "Drafts",
        "Junk Email",
        "Outbox",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(!names.contains(&"Calendar"), "{names:?}");
    let trash = boxes
        .mailboxes
        .iter()
        .find(|b| b.name == "Deleted Items")
        .unwrap();
    assert_eq!(trash.special_use, "Trash");
    let created = m
        .create_mailbox(pb::CreateMailboxRequest {
            dir: dir.clone(),
            name: "Projects/2024".into(),
            special_use: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    m.set_subscription(pb::SetSubscriptionRequest {
        dir: dir.clone(),
        name: "Projects/2024".into(),
        subscribed: false,
    })
    .await
    .unwrap();

    // Append and read back.
    let inbox = m
        .mailbox_status(pb::MailboxStatusRequest {
            dir: dir.clone(),
            name: "inbox".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let a1 = append(&mut m, &dir, "INBOX", MIXED, 0).await;
    let a2 = append(
        &mut m,
        &dir,
        "INBOX",
        b"Subject: second\r\n\r\nhello\r\n",
        4,
    )
    .await;
    assert_eq!((a1.uid, a2.uid, a1.uidvalidity), (1, 2, inbox.uidvalidity));
    let env = envelopes(&mut m, &dir, inbox.folder_id).await;
    assert_eq!(env[0].2, groxide_mime::render_envelope(MIXED));
    assert_eq!(env[0].3, groxide_mime::render_bodystructure(MIXED, true));
    let base = pb::FetchSectionRequest {
        dir: dir.clone(),
        folder_id: inbox.folder_id,
        uid: 1,
        ..Default::default()
    };
    let (_, whole) = section(&mut m, base.clone()).await;
    assert_eq!(whole, MIXED);
    let (_, text) = section(
        &mut m,
        pb::FetchSectionRequest {
            part: vec![1],
            ..base.clone()
        },
    )
    .await;
    assert_eq!(text, b"The numbers are attached.");
    let (_, bin) = section(
        &mut m,
        pb::FetchSectionRequest {
            part: vec![2],
            binary: true,
            ..base.clone()
        },
    )
    .await;
    assert_eq!(bin, [0, 1, 2, 3, 4]);
    let (_, fields) = section(
        &mut m,
        pb::FetchSectionRequest {
            kind: pb::SectionKind::SectionHeaderFields as i32,
            header_fields: vec!["subject".into()],
            ..base.clone()
        },
    )
    .await;
    assert_eq!(fields, b"Subject: Quarterly numbers\r\n\r\n");
    let (first, partial) = section(
        &mut m,
        pb::FetchSectionRequest {
            offset: 6,
            length: 3,
            set_seen: true,
            ..base.clone()
        },
    )
    .await;
    assert_eq!(partial, b"Ann");
    assert!(first.seen_set);

    // Flags with UNCHANGEDSINCE.
    let st = m
        .mailbox_status(pb::MailboxStatusRequest {
            dir: dir.clone(),
            name: "INBOX".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((st.exists, st.unseen, st.first_unseen_uid), (2, 1, 2));
    m.store_flags(pb::StoreFlagsRequest {
        dir: dir.clone(),
        folder_id: inbox.folder_id,
        uids: vec![pb::UidRange { first: 2, last: 2 }],
        mode: pb::StoreMode::StoreAdd as i32,
        flags: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let r = m
        .store_flags(pb::StoreFlagsRequest {
            dir: dir.clone(),
            folder_id: inbox.folder_id,
            uids: vec![pb::UidRange { first: 1, last: 0 }],
            mode: pb::StoreMode::StoreAdd as i32,
            flags: 8,
            unchanged_since: st.highest_modseq,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.modified, vec![pb::UidRange { first: 2, last: 2 }]);
    assert_eq!(
        list(&mut m, &dir, inbox.folder_id).await,
        vec![(1, 1 | 8), (2, 4 | 2)]
    );

    // Search over the FTS index.
    let found = m
        .search(pb::SearchRequest {
            dir: dir.clone(),
            folder_id: inbox.folder_id,
            criteria: Some(pb::SearchKey {
                key: Some(pb::search_key::Key::Body("NUMBERS ARE".into())),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.uids, vec![1]);

    // midb.sqlite3 deleted between two sessions: UIDs, flags and metadata
    // are unchanged (recomputed), the subscription survives.
    let cache = std::path::Path::new(&dir).join("exmdb/midb.sqlite3");
    assert!(cache.exists());
    std::fs::remove_file(&cache).unwrap();
    assert_eq!(
        list(&mut m, &dir, inbox.folder_id).await,
        vec![(1, 1 | 8), (2, 4 | 2)]
    );
    assert_eq!(
        envelopes(&mut m, &dir, inbox.folder_id).await,
        env.iter()
            .map(|e| (e.0, if e.0 == 1 { 9 } else { 6 }, e.2.clone(), e.3.clone()))
            .collect::<Vec<_>>()
    );
    assert!(cache.exists(), "rebuilt");
    let boxes = m
        .list_mailboxes(pb::ListMailboxesRequest { dir: dir.clone() })
        .await
        .unwrap()
        .into_inner();
    let sub = boxes
        .mailboxes
        .iter()
        .find(|b| b.name == "Projects/2024")
        .unwrap();
    assert_eq!(sub.folder_id, created.folder_id);
    assert!(!sub.subscribed, "subscriptions live in the store");

    // Copy and move with UID maps; expunge; changes with VANISHED.
    let c = m
        .copy_messages(pb::CopyMessagesRequest {
            dir: dir.clone(),
            folder_id: inbox.folder_id,
            uids: vec![pb::UidRange { first: 1, last: 2 }],
            target_mailbox: "Projects/2024".into(),
            r#move: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (c.source_uids, c.target_uids, c.target_uidvalidity),
        (vec![1, 2], vec![1, 2], created.uidvalidity)
    );
    let before = m
        .mailbox_status(pb::MailboxStatusRequest {
            dir: dir.clone(),
            name: "INBOX".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mv = m
        .copy_messages(pb::CopyMessagesRequest {
            dir: dir.clone(),
            folder_id: inbox.folder_id,
            uids: vec![pb::UidRange { first: 2, last: 0 }],
            target_mailbox: "Projects/2024".into(),
            r#move: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((mv.source_uids, mv.target_uids), (vec![2], vec![3]));
    let x = m
        .expunge(pb::ExpungeRequest {
            dir: dir.clone(),
            folder_id: inbox.folder_id,
            uids: vec![],
            unconditional: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(x.expunged, vec![1], "only the \\Deleted message");
    let mut s = m
        .changes(pb::ChangesRequest {
            dir: dir.clone(),
            folder_id: inbox.folder_id,
            since_modseq: before.highest_modseq,
            vanished: true,
        })
        .await
        .unwrap()
        .into_inner();
    let mut vanished = Vec::new();
    let mut highest = 0;
    while let Some(c) = s.next().await {
        let c = c.unwrap();
        vanished.extend(c.vanished);
        highest = c.highest_modseq;
    }
    assert_eq!(vanished, vec![pb::UidRange { first: 1, last: 2 }]);
    assert!(highest >= x.modseq);
    assert!(list(&mut m, &dir, inbox.folder_id).await.is_empty());

    // POP3's unconditional removal.
    let keep = m
        .mailbox_status(pb::MailboxStatusRequest {
            dir: dir.clone(),
            name: "Projects/2024".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let x = m
        .expunge(pb::ExpungeRequest {
            dir: dir.clone(),
            folder_id: keep.folder_id,
            uids: vec![pb::UidRange { first: 3, last: 3 }],
            unconditional: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(x.expunged, vec![3]);

    // An APPEND whose bytes fall short of the announced size stores nothing.
    let before = list(&mut m, &dir, inbox.folder_id).await.len();
    let short = vec![
        pb::AppendChunk {
            part: Some(pb::append_chunk::Part::Header(pb::AppendHeader {
                dir: dir.clone(),
                mailbox: "INBOX".into(),
                size: 1000,
                ..Default::default()
            })),
        },
        pb::AppendChunk {
            part: Some(pb::append_chunk::Part::Data(
                b"Subject: cut\r\n\r\n".to_vec(),
            )),
        },
    ];
    assert!(m.append(futures_util::stream::iter(short)).await.is_err());
    assert_eq!(list(&mut m, &dir, inbox.folder_id).await.len(), before);

    // Errors carry reasons.
    let e = m
        .mailbox_status(pb::MailboxStatusRequest {
            dir: dir.clone(),
            name: "Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        groxide_rpc::reason::reason_of(&e),
        Some(groxide_rpc::reason::Reason::NoSuchFolder)
    );
    let q = m
        .get_quota(pb::GetQuotaRequest { dir: dir.clone() })
        .await
        .unwrap()
        .into_inner();
    assert!(q.used_bytes > 0);
}
