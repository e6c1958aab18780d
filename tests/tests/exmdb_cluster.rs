//! Two groxide-exmdb processes on 127.0.0.2 and 127.0.0.3 sharing one
//! exmdb_list.txt: a client on 127.0.0.1 reaches each store through the
//! routed client; a request sent to the wrong node is answered
//! STORE_NOT_HERE naming the owner; a peer outside exmdb_hosts_allow is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_config::{Config, Exmdb};
use groxide_e2e::cluster::{NodeOptions, Ports};
use groxide_e2e::{ConfigDir, Node, Service};
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::items::{Precondition, PutTarget};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::{Reason, owner_of, reason_of};
use groxide_rpc::{ClientOptions, NodeAddr};
use groxide_runtime::Routing;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

fn list_file(data: &Path, nodes: &[IpAddr], port: u16) -> String {
    nodes
        .iter()
        .enumerate()
        .map(|(i, ip)| format!("{}/node{}/ private {ip} {port}\n", data.display(), i + 2))
        .collect()
}

/// A node running exmdb (and event) only, routing by `list` alone.
fn start_node(
    ip: IpAddr,
    host_id: &str,
    allow: &str,
    list: &str,
    ports: Ports,
    data: &Path,
) -> Node {
    let mut options = NodeOptions::standalone(ip, data);
    options.host_id = host_id.to_string();
    options.allow = allow.split(' ').map(|a| a.parse().unwrap()).collect();
    options.ports = ports;
    options.exmdb_list = list.to_string();
    let mut node = Node::new(options);
    node.start_all(&[Service::Event, Service::Exmdb]);
    node
}

fn client(list: &str, source: IpAddr) -> (ExmdbClient, ConfigDir) {
    let dir = ConfigDir::new();
    dir.write("groxide.cfg", &format!("rpc_source_ip = {source}\n"));
    dir.write("exmdb_provider.cfg", &format!("listen_ip = {source}\n"));
    dir.write("exmdb_list.txt", list);
    let (cfg, _) = Config::<Exmdb>::load(dir.path()).unwrap();
    let routing = Routing::load(&cfg, None).unwrap();
    let opts = ClientOptions {
        source_ip: Some(source),
        ..ClientOptions::default()
    };
    (ExmdbClient::new(routing.exmdb().clone(), opts), dir)
}

fn raw(node: &Node, source: IpAddr) -> pb::exmdb_client::ExmdbClient<tonic::transport::Channel> {
    let opts = ClientOptions {
        source_ip: Some(source),
        ..ClientOptions::default()
    };
    let ch = groxide_rpc::client::channel(
        "exmdb",
        &NodeAddr::new(node.ip.to_string(), node.ports.exmdb),
        &opts,
    )
    .unwrap();
    pb::exmdb_client::ExmdbClient::new(ch)
}

#[test]
fn two_nodes_route_stores_refuse_strangers_and_name_the_owner() {
    let ip2: IpAddr = "127.0.0.2".parse().unwrap();
    let ip3: IpAddr = "127.0.0.3".parse().unwrap();
    let me: IpAddr = "127.0.0.1".parse().unwrap();
    let stranger: IpAddr = "127.0.0.4".parse().unwrap();
    let data = tempfile::tempdir().unwrap();
    let ports = Ports::free_on(&[ip2, ip3]);
    let p3 = ports.exmdb;
    let list = list_file(data.path(), &[ip2, ip3], ports.exmdb);
    let node2 = start_node(
        ip2,
        "node2",
        "127.0.0.1 127.0.0.2 127.0.0.3",
        &list,
        ports,
        data.path(),
    );
    let node3 = start_node(
        ip3,
        "node3",
        "127.0.0.1 127.0.0.2 127.0.0.3",
        &list,
        ports,
        data.path(),
    );
    let (exmdb, _client_cfg) = client(&list, me);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Through the routed client: each store lands on its own node.
        for (node, n) in [(&node2, 2), (&node3, 3)] {
            let dir = format!("{}/node{n}/user/alice", data.path().display());
            let created = exmdb
                .create_store(pb::CreateStoreRequest {
                    dir: dir.clone(),
                    r#type: pb::StoreType::Private as i32,
                    owner: format!("alice{n}"),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|e| panic!("{e}\n{}", node.logs()));
            assert!(created.created);
            let raw_msg = format!("Subject: to node {n}\r\n\r\nhello\r\n").into_bytes();
            let ins = exmdb
                .insert_message_bytes(
                    pb::InsertHeader {
                        dir: dir.clone(),
                        folder: Some(folder_role("inbox")),
                        ..Default::default()
                    },
                    raw_msg.clone(),
                )
                .await
                .unwrap();
            assert_eq!(ins.uid, 1);
            assert_eq!(
                exmdb.read_content_all(&dir, ins.message_id).await.unwrap(),
                raw_msg
            );
            assert!(Path::new(&dir).join("exmdb/exchange.sqlite3").exists());
        }

        // Straight to the wrong node: STORE_NOT_HERE naming the owner.
        let dir3 = format!("{}/node3/user/alice", data.path().display());
        let st = raw(&node2, me)
            .get_store_info(pb::StoreRequest { dir: dir3.clone() })
            .await
            .unwrap_err();
        assert_eq!(reason_of(&st), Some(Reason::StoreNotHere), "{st:?}");
        assert_eq!(owner_of(&st), Some(format!("127.0.0.3:{p3}")));
        // The owner answers the same request.
        raw(&node3, me)
            .get_store_info(pb::StoreRequest { dir: dir3.clone() })
            .await
            .unwrap();
        // Node 2 may call node 3 (it is on node 3's list).
        raw(&node3, ip2)
            .get_store_info(pb::StoreRequest { dir: dir3.clone() })
            .await
            .unwrap();

        // Groupware calls route like the others: an appointment put through
        // the routed client lands on node 3, its free/busy is read there,
        // and node 2 asked directly names the owner.
        let mut appt = groxide_pim::Item::new(groxide_pim::ItemClass::Appointment);
        appt.set_time(
            &groxide_mapi::lids::PID_LID_APPOINTMENT_START_WHOLE,
            1_700_000_000,
        );
        appt.set_time(
            &groxide_mapi::lids::PID_LID_APPOINTMENT_END_WHOLE,
            1_700_003_600,
        );
        appt.set(
            &groxide_mapi::lids::PID_LID_BUSY_STATUS,
            groxide_mapi::PropValue::Long(2),
        );
        appt.set(
            &groxide_mapi::lids::PID_NAME_CALENDAR_UID,
            groxide_mapi::PropValue::Unicode("routed-1".into()),
        );
        let (info, created) = exmdb
            .put_item(
                &dir3,
                folder_role("calendar"),
                &appt,
                PutTarget::ByUid,
                Precondition::IfNoneMatch,
            )
            .await
            .unwrap();
        assert!(created);
        let slots = exmdb
            .free_busy(&dir3, 1_699_990_000, 1_700_100_000, "")
            .await
            .unwrap();
        assert_eq!(
            slots
                .iter()
                .map(|s| (s.start, s.end, s.status))
                .collect::<Vec<_>>(),
            vec![(1_700_000_000, 1_700_003_600, 2)]
        );
        let st = raw(&node2, me)
            .get_free_busy(pb::GetFreeBusyRequest {
                dir: dir3.clone(),
                start: 0,
                end: 1,
                floating_zone: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(reason_of(&st), Some(Reason::StoreNotHere), "{st:?}");
        // Conditions and stale tokens come back with their reasons.
        let stale = exmdb
            .put_item(
                &dir3,
                folder_role("calendar"),
                &appt,
                PutTarget::Message(info.message_id),
                Precondition::IfMatch("1".into()),
            )
            .await
            .unwrap_err();
        assert_eq!(stale.reason(), Some(Reason::PreconditionFailed), "{stale}");
        let changes = exmdb
            .item_changes_since(&dir3, folder_role("calendar"), "")
            .await
            .unwrap();
        assert_eq!(changes.changed.len(), 1);
        let (_, back) = exmdb.get_item(&dir3, info.message_id).await.unwrap();
        assert_eq!(back, appt);

        // A peer not on exmdb_hosts_allow is refused before any request runs.
        let st = raw(&node3, stranger)
            .get_store_info(pb::StoreRequest { dir: dir3 })
            .await
            .unwrap_err();
        assert_eq!(st.code(), tonic::Code::PermissionDenied, "{st:?}");
        assert!(
            st.message().contains("exmdb_hosts_allow"),
            "{}",
            st.message()
        );
    });
    let exmdb3 = node3.daemon(Service::Exmdb);
    assert!(
        exmdb3.wait_log("127.0.0.4", Duration::from_secs(5)),
        "{}",
        exmdb3.log()
    );
}
