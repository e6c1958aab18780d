//! groxide-exmdb, groxide-event and groxide-midb in-process on loopback:
//! the production chain of one node, for the contract tests.

use groxide_config::{Event, Exmdb, Midb};
use groxide_rpc::ClientOptions;
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_rpc::pb::exmdb::v1 as xpb;
use groxide_runtime::Routing;
use groxide_testkit::{InProcess, LocalNode};
use std::sync::Arc;

/// One node's exmdb, event and midb daemons.
pub struct Node {
    _local: LocalNode,
    _daemons: (InProcess<Event>, InProcess<Exmdb>, InProcess<Midb>),
    data: tempfile::TempDir,
    /// A client of the node's exmdb.
    pub exmdb: Arc<ExmdbClient>,
    /// The port of the node's midb.
    pub midb_port: u16,
}

impl Node {
    /// Starts the daemons and waits until they listen.
    pub async fn start() -> Node {
        let local = LocalNode::new();
        let event = local
            .start(groxide_event::ENDPOINT, groxide_event::run)
            .await;
        let exmdb = local
            .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
            .await;
        let midb = local.start(groxide_midb::ENDPOINT, groxide_midb::run).await;
        let routing = Routing::load(&exmdb.config(), None).unwrap();
        let client = ExmdbClient::new(routing.exmdb().clone(), ClientOptions::default());
        let midb_port = local.midb_port;
        Node {
            _local: local,
            _daemons: (event, exmdb, midb),
            data: tempfile::tempdir().unwrap(),
            exmdb: Arc::new(client),
            midb_port,
        }
    }

    /// Creates a private store through exmdb; returns its dir.
    pub async fn create_store(&self, name: &str) -> String {
        let dir = self
            .data
            .path()
            .join("user")
            .join(name)
            .to_string_lossy()
            .into_owned();
        self.exmdb
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
}
