//! One in-process groxide-exmdb and a spool: what the delivery tests that
//! write into real stores share.

use groxide_delivery::Spool;
use groxide_rpc::ClientOptions;
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_runtime::Routing;
use groxide_testkit::{InProcess, LocalNode};
use std::sync::Arc;

pub struct StoreNode {
    _local: LocalNode,
    _exmdb: InProcess<groxide_config::Exmdb>,
    pub data: tempfile::TempDir,
    pub spool: Spool,
    pub client: Arc<ExmdbClient>,
}

impl StoreNode {
    pub async fn start() -> StoreNode {
        let local = LocalNode::new();
        let exmdb = local
            .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
            .await;
        let routing = Routing::load(&exmdb.config(), None).unwrap();
        let client = Arc::new(ExmdbClient::new(
            routing.exmdb().clone(),
            ClientOptions::default(),
        ));
        let data = tempfile::tempdir().unwrap();
        let spool = Spool::open(&data.path().join("spool")).unwrap();
        StoreNode {
            _local: local,
            _exmdb: exmdb,
            data,
            spool,
            client,
        }
    }

    /// A new private store of `owner` under the node's data; its dir.
    pub async fn create_store(&self, owner: &str) -> String {
        let dir = self.data.path().join(owner).to_string_lossy().into_owned();
        self.client
            .create_store(pb::CreateStoreRequest {
                dir: dir.clone(),
                r#type: pb::StoreType::Private as i32,
                owner: owner.into(),
                lang: String::new(),
                quota_bytes: 0,
            })
            .await
            .unwrap();
        dir
    }
}
