//! The ActiveSync module over an in-process groxide-exmdb, driven through
//! its router with WBXML bodies: a model test in which a device syncs an
//! inbox in small windows while the server side delivers, marks read and
//! expunges between its requests, and must end holding exactly the
//! server's inbox with the server's read flags; old keys are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use groxide_directory::{AddressStatus, DomainId, PrivilegeBits, ServerId, User, UserId};
use groxide_eas::{Eas, EasSettings};
use groxide_http_core::Principal;
use groxide_rpc::ClientOptions;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::exmdb::v1 as xpb;
use groxide_runtime::Routing;
use groxide_testkit::LocalNode;
use groxide_wbxml::{AirSync, Element, FolderHierarchy, Limits, Provision};
use http_body_util::BodyExt;
use std::collections::BTreeMap;
use std::sync::Arc;

struct Phone {
    serve: groxide_http_core::Serve,
    principal: Principal,
    key: String,
}

impl Phone {
    async fn post(&self, cmd: &str, body: &Element) -> (u16, Option<Element>) {
        let mut req = http::Request::builder()
            .method("POST")
            .uri(format!(
                "/Microsoft-Server-ActiveSync?Cmd={cmd}&User=demo&DeviceId=model1&DeviceType=test"
            ))
            .header("MS-ASProtocolVersion", "14.1")
            .header("X-MS-PolicyKey", &self.key)
            .body(Body::from(groxide_wbxml::encode(body)))
            .unwrap();
        req.extensions_mut().insert(self.principal.clone());
        let resp = self.serve.call(req).await;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let doc =
            (!bytes.is_empty()).then(|| groxide_wbxml::decode(&bytes, &Limits::default()).unwrap());
        (status, doc)
    }

    async fn provision(&mut self) {
        let policy = |key: Option<&str>| {
            let mut p = vec![Element::with_text(
                Provision::PolicyType,
                "MS-EAS-Provisioning-WBXML",
            )];
            if let Some(k) = key {
                p.push(Element::with_text(Provision::PolicyKey, k));
                p.push(Element::with_text(Provision::Status, "1"));
            }
            Element::with_children(
                Provision::Provision,
                [Element::with_children(
                    Provision::Policies,
                    [Element::with_children(Provision::Policy, p)],
                )],
            )
        };
        let key_of = |d: &Element| {
            d.descendant(&[Provision::Policies.into(), Provision::Policy.into()])
                .and_then(|p| p.child_text(Provision::PolicyKey))
                .unwrap()
                .to_string()
        };
        let (_, d) = self.post("Provision", &policy(None)).await;
        let temp = key_of(&d.unwrap());
        let (_, d) = self.post("Provision", &policy(Some(&temp))).await;
        self.key = key_of(&d.unwrap());
    }

    async fn sync(&self, key: &str, window: usize) -> Element {
        let body = Element::with_children(
            AirSync::Sync,
            [Element::with_children(
                AirSync::Collections,
                [Element::with_children(
                    AirSync::Collection,
                    [
                        Element::with_text(AirSync::SyncKey, key),
                        Element::with_text(AirSync::CollectionId, "13"),
                        Element::with_text(AirSync::WindowSize, window.to_string()),
                    ],
                )],
            )],
        );
        let (status, d) = self.post("Sync", &body).await;
        assert_eq!(status, 200);
        d.unwrap()
            .descendant(&[AirSync::Collections.into(), AirSync::Collection.into()])
            .unwrap()
            .clone()
    }
}

fn text(e: &Element, tag: impl Into<groxide_wbxml::Tag>) -> String {
    e.child_text(tag).unwrap_or("").to_string()
}

/// A small deterministic generator (no dependency, reproducible runs).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_syncing_in_windows_between_random_changes_ends_with_the_servers_inbox() {
    let local = LocalNode::new();
    let exmdb = local
        .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
        .await;
    let routing = Arc::new(Routing::load(&exmdb.config(), None).unwrap());
    let client = Arc::new(ExmdbClient::new(
        routing.exmdb().clone(),
        ClientOptions::default(),
    ));
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("demo").to_string_lossy().into_owned();
    client
        .create_store(xpb::CreateStoreRequest {
            dir: dir.clone(),
            r#type: xpb::StoreType::Private as i32,
            owner: "demo".into(),
            lang: String::new(),
            quota_bytes: 0,
        })
        .await
        .unwrap();
    let hub = groxide_rpc::EventHub::new(
        routing,
        ClientOptions::default(),
        groxide_rpc::HubSettings::default(),
    );
    let eas = Eas::new(client.clone(), hub, EasSettings::default(), None);
    let principal = Principal {
        user: Arc::new(User {
            id: UserId(1),
            username: "demo".into(),
            domain_id: DomainId(1),
            maildir: dir.clone(),
            homeserver: ServerId::ANY,
            address_status: AddressStatus::NORMAL,
            privilege_bits: PrivilegeBits(u32::MAX),
            lang: String::new(),
            timezone: String::new(),
        }),
        scheme: "Basic",
    };
    let mut phone = Phone {
        serve: eas.mount().serve,
        principal,
        key: "0".into(),
    };
    // Unprovisioned: 142.
    let fs = Element::with_children(
        FolderHierarchy::FolderSync,
        [Element::with_text(FolderHierarchy::SyncKey, "0")],
    );
    let (_, d) = phone.post("FolderSync", &fs).await;
    assert_eq!(d.unwrap().child_text(FolderHierarchy::Status), Some("142"));
    phone.provision().await;
    let (_, d) = phone.post("FolderSync", &fs).await;
    assert_eq!(d.unwrap().child_text(FolderHierarchy::Status), Some("1"));

    let mut n = 0u32;
    let deliver = |n: u32| {
        let client = client.clone();
        let dir = dir.clone();
        async move {
            let raw = format!(
                "From: a@remote.test\r\nTo: demo@example.test\r\nSubject: m{n}\r\nMessage-ID: <{n}@r>\r\n\r\nbody {n}\r\n"
            );
            client
                .insert_message_bytes(
                    xpb::InsertHeader {
                        dir,
                        folder: Some(folder_role("inbox")),
                        ..xpb::InsertHeader::default()
                    },
                    raw.into_bytes(),
                )
                .await
                .unwrap()
        }
    };
    for _ in 0..12 {
        n += 1;
        deliver(n).await;
    }
    let c = phone.sync("0", 5).await;
    let mut key = text(&c, AirSync::SyncKey);
    let first_key = key.clone();
    // The device's view: ServerId → (subject, read).
    let mut held: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut rng = Lcg(7);
    for round in 0..25 {
        // Server-side changes between rounds.
        for _ in 0..rng.next(4) {
            let live: Vec<xpb::MessageEntry> = {
                use futures_util::StreamExt;
                let s = client
                    .list_messages(xpb::ListMessagesRequest {
                        limit: 0,
                        dir: dir.clone(),
                        folder: Some(folder_role("inbox")),
                        range: None,
                    })
                    .await
                    .unwrap();
                s.map(|e| e.unwrap()).collect().await
            };
            match rng.next(3) {
                0 => {
                    n += 1;
                    deliver(n).await;
                }
                1 if !live.is_empty() => {
                    let m = &live[rng.next(live.len() as u64) as usize];
                    client
                        .set_read_state(xpb::SetReadStateRequest {
                            dir: dir.clone(),
                            message_id: m.message_id,
                            read: m.flags & 1 == 0,
                        })
                        .await
                        .unwrap();
                }
                2 if !live.is_empty() => {
                    let m = &live[rng.next(live.len() as u64) as usize];
                    client
                        .delete_messages(xpb::DeleteMessagesRequest {
                            dir: dir.clone(),
                            folder: Some(folder_role("inbox")),
                            uids: vec![cpb::UidRange {
                                first: m.uid,
                                last: m.uid,
                            }],
                            hard: false,
                        })
                        .await
                        .unwrap();
                }
                _ => {}
            }
        }
        // The device pages until nothing more is available.
        loop {
            let window = 1 + rng.next(4) as usize;
            let c = phone.sync(&key, window).await;
            assert_eq!(text(&c, AirSync::Status), "1", "round {round}: {c:?}");
            key = text(&c, AirSync::SyncKey);
            let mut count = 0;
            if let Some(cmds) = c.child(AirSync::Commands) {
                for cmd in cmds.children() {
                    count += 1;
                    let sid = text(cmd, AirSync::ServerId);
                    if cmd.is(AirSync::Delete) {
                        assert!(
                            held.remove(&sid).is_some(),
                            "Delete of an item the device lacks: {sid}"
                        );
                        continue;
                    }
                    let data = cmd.child(AirSync::ApplicationData).unwrap();
                    let v = (
                        text(data, groxide_wbxml::Email::Subject),
                        text(data, groxide_wbxml::Email::Read),
                    );
                    let had = held.insert(sid.clone(), v).is_some();
                    assert_eq!(
                        had,
                        cmd.is(AirSync::Change),
                        "Add/Change must follow what the device has: {sid}"
                    );
                }
            }
            assert!(count <= window, "{count} changes in a window of {window}");
            if c.child(AirSync::MoreAvailable).is_none() {
                break;
            }
        }
        // The device now holds the server's inbox exactly.
        let want: BTreeMap<String, (String, String)> = {
            use futures_util::StreamExt;
            let s = client
                .list_messages(xpb::ListMessagesRequest {
                    limit: 0,
                    dir: dir.clone(),
                    folder: Some(folder_role("inbox")),
                    range: None,
                })
                .await
                .unwrap();
            let entries: Vec<xpb::MessageEntry> = s.map(|e| e.unwrap()).collect().await;
            let mut m = BTreeMap::new();
            for e in entries {
                let raw = client.read_content_all(&dir, e.message_id).await.unwrap();
                let subject = String::from_utf8_lossy(&raw)
                    .lines()
                    .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
                    .unwrap();
                let read = if e.flags & 1 != 0 { "1" } else { "0" };
                m.insert(format!("13:{}", e.message_id), (subject, read.to_string()));
            }
            m
        };
        assert_eq!(held, want, "round {round}");
    }
    // The first key is long gone: invalid sync key, no data.
    let c = phone.sync(&first_key, 5).await;
    assert_eq!(text(&c, AirSync::Status), "3");
    assert!(c.child(AirSync::Commands).is_none());
}
