//! groxide-exmdb, groxide-event and groxide-midb in-process on loopback:
//! the production chain of one node, for the contract tests.

use groxide_config::{Config, schema};
use groxide_rpc::ClientOptions;
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_rpc::pb::exmdb::v1 as xpb;
use groxide_runtime::{Context, Routing};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
        assert!(Instant::now() < deadline, "port {port} never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spawn_daemon<F, Fut, E>(cfg: &Arc<Config>, name: &'static str, stop: &CancellationToken, run: F)
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    let (tx, rx) = watch::channel(cfg.clone());
    let ctx = Context::new(name, rx, stop.clone());
    tokio::spawn(async move {
        let _keep = tx;
        if let Err(e) = run(ctx).await {
            panic!("{name}: {e}");
        }
    });
}

/// One node's exmdb, event and midb daemons.
pub struct Node {
    _cfg: tempfile::TempDir,
    data: tempfile::TempDir,
    stop: CancellationToken,
    /// A client of the node's exmdb.
    pub exmdb: Arc<ExmdbClient>,
    /// The port of the node's midb.
    pub midb_port: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Node {
    /// Starts the daemons and waits until they listen.
    pub async fn start() -> Node {
        let cfg = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let (exmdb_port, event_port, midb_port) = (free_port(), free_port(), free_port());
        let w = |f: &str, t: String| std::fs::write(cfg.path().join(f), t).unwrap();
        w(
            "groxide.cfg",
            format!(
                "shutdown_timeout = 2s\ndata_path = {}\n",
                data.path().display()
            ),
        );
        w(
            "exmdb_provider.cfg",
            format!(
                "listen_ip = 127.0.0.1\nexmdb_listen_port = {exmdb_port}\nexmdb_hosts_allow = 127.0.0.1\n"
            ),
        );
        w(
            "event.cfg",
            format!(
                "event_listen_ip = 127.0.0.1\nevent_listen_port = {event_port}\nevent_hosts_allow = 127.0.0.1\n"
            ),
        );
        w(
            "midb.cfg",
            format!(
                "midb_listen_ip = 127.0.0.1\nmidb_listen_port = {midb_port}\nmidb_hosts_allow = 127.0.0.1\n"
            ),
        );
        let stop = CancellationToken::new();
        let load = |s| Arc::new(Config::load(cfg.path(), s).unwrap().0);
        spawn_daemon(&load(&schema::EVENT), "event", &stop, groxide_event::run);
        wait_port(event_port).await;
        let exmdb_cfg = load(&schema::EXMDB);
        spawn_daemon(&exmdb_cfg, "exmdb", &stop, groxide_exmdb::run);
        wait_port(exmdb_port).await;
        spawn_daemon(&load(&schema::MIDB), "midb", &stop, groxide_midb::run);
        wait_port(midb_port).await;
        let routing = Routing::load(&exmdb_cfg, None).unwrap();
        let exmdb = Arc::new(ExmdbClient::new(
            routing.exmdb().clone(),
            ClientOptions::default(),
        ));
        Node {
            _cfg: cfg,
            data,
            stop,
            exmdb,
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
