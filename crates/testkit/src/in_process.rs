//! Daemons in-process: a daemon's `run` on the test's tokio runtime, with a
//! [`Context`] the test controls (reload, stop), and a node whose RPC
//! daemons listen on 127.0.0.1 at free ports.

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use groxide_config::keys::{event, exmdb, midb, timer};
use groxide_config::{Config, ConfigFile, DaemonFile, HostsAllow, Key};
use groxide_runtime::{Context, RpcEndpoint};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{ConfigDir, DEADLINE, LOCALHOST, free_local_port, wait_listening_async};

/// A daemon running in-process. Dropping it leaves it running until its
/// `stop` token is cancelled (a [`LocalNode`] cancels its own when dropped).
pub struct InProcess<F: ConfigFile> {
    name: &'static str,
    config: watch::Sender<Arc<Config<F>>>,
    ctx: Context<F>,
    task: Option<JoinHandle<()>>,
}

/// Runs `run` (a daemon's `run`, or a closure around its `serve`) on the
/// current tokio runtime with `config`; `stop` is its shutdown token. An
/// error from `run` fails the test (the task panics naming the daemon).
pub fn spawn<F, R, Fut, E>(
    name: &'static str,
    config: impl Into<Arc<Config<F>>>,
    stop: &CancellationToken,
    run: R,
) -> InProcess<F>
where
    F: ConfigFile,
    R: FnOnce(Context<F>) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Display + Send + 'static,
{
    let (tx, rx) = watch::channel(config.into());
    let ctx = Context::new(name, rx, stop.clone());
    let running = run(ctx.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = running.await {
            panic!("{name}: {e}");
        }
    });
    InProcess {
        name,
        config: tx,
        ctx,
        task: Some(task),
    }
}

impl<F: ConfigFile> InProcess<F> {
    /// The daemon's current config.
    pub fn config(&self) -> Arc<Config<F>> {
        self.config.borrow().clone()
    }

    /// Stands for a SIGHUP with `config`: returns once every reload hook of
    /// the daemon has applied it (panics after [`DEADLINE`]).
    pub async fn reload(&self, config: impl Into<Arc<Config<F>>>) {
        let config = config.into();
        let _ = self.config.send(config.clone());
        let applied = self.ctx.reload_acks();
        let waited = tokio::time::timeout(DEADLINE, applied.applied(&config)).await;
        assert!(waited.is_ok(), "{}: reload not applied", self.name);
    }

    /// Cancels the daemon's stop token (and so every daemon sharing it).
    pub fn stop(&self) {
        self.ctx.shutdown().cancel();
    }

    /// Waits until the daemon's task has ended (after [`InProcess::stop`]);
    /// panics after [`DEADLINE`] or when the task failed.
    pub async fn stopped(&mut self) {
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(DEADLINE, task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("{}: {e}", self.name),
                Err(_) => panic!("{} did not stop within {DEADLINE:?}", self.name),
            }
        }
    }
}

/// A node on 127.0.0.1 for in-process daemons: a config dir whose RPC
/// daemons (exmdb, midb, event, timer) listen at free ports and let
/// 127.0.0.1 in, timer's state in the dir, and `shutdown_timeout = 2s`.
/// Tests add lines with [`LocalNode::append`] before starting a daemon.
/// Dropping it stops every daemon started on it.
pub struct LocalNode {
    /// The config directory.
    pub config: ConfigDir,
    /// The shutdown token of every daemon started on the node.
    pub stop: CancellationToken,
    /// `exmdb_listen_port`.
    pub exmdb_port: u16,
    /// `midb_listen_port`.
    pub midb_port: u16,
    /// `event_listen_port`.
    pub event_port: u16,
    /// `timer_listen_port`.
    pub timer_port: u16,
}

/// The three lines that put an RPC daemon on 127.0.0.1:`port`, open to 127.0.0.1.
fn listen_lines<F: DaemonFile>(
    ip: Key<Option<std::net::IpAddr>, F>,
    port_key: Key<u16, F>,
    acl: Key<HostsAllow, F>,
    port: u16,
) -> String {
    format!(
        "{} = {LOCALHOST}\n{} = {port}\n{} = {LOCALHOST}\n",
        ip.name(),
        port_key.name(),
        acl.name()
    )
}

impl LocalNode {
    /// The config dir, written; nothing runs yet.
    pub fn new() -> LocalNode {
        let config = ConfigDir::new();
        let node = LocalNode {
            config,
            stop: CancellationToken::new(),
            exmdb_port: free_local_port(),
            midb_port: free_local_port(),
            event_port: free_local_port(),
            timer_port: free_local_port(),
        };
        node.config.write("groxide.cfg", "shutdown_timeout = 2s\n");
        node.config.write(
            exmdb::LISTEN_IP.file(),
            &listen_lines(
                exmdb::LISTEN_IP,
                exmdb::EXMDB_LISTEN_PORT,
                exmdb::EXMDB_HOSTS_ALLOW,
                node.exmdb_port,
            ),
        );
        node.config.write(
            midb::MIDB_LISTEN_IP.file(),
            &listen_lines(
                midb::MIDB_LISTEN_IP,
                midb::MIDB_LISTEN_PORT,
                midb::MIDB_HOSTS_ALLOW,
                node.midb_port,
            ),
        );
        node.config.write(
            event::EVENT_LISTEN_IP.file(),
            &listen_lines(
                event::EVENT_LISTEN_IP,
                event::EVENT_LISTEN_PORT,
                event::EVENT_HOSTS_ALLOW,
                node.event_port,
            ),
        );
        let state = node.config.join("timer.sqlite3");
        node.config.write(
            timer::TIMER_LISTEN_IP.file(),
            &format!(
                "{}{} = {}\n",
                listen_lines(
                    timer::TIMER_LISTEN_IP,
                    timer::TIMER_LISTEN_PORT,
                    timer::TIMER_HOSTS_ALLOW,
                    node.timer_port,
                ),
                timer::TIMER_STATE_PATH.name(),
                state.display()
            ),
        );
        node
    }

    /// The config directory's path.
    pub fn dir(&self) -> &Path {
        self.config.path()
    }

    /// Appends lines to one of the node's files (before the daemon reading
    /// it starts; a key may be set once per file).
    pub fn append(&self, file: &str, text: &str) {
        self.config.append(file, text);
    }

    /// The node's config of file `F`, loaded now (panics on errors).
    pub fn load<F: ConfigFile>(&self) -> Config<F> {
        match Config::<F>::load(self.dir()) {
            Ok((config, _)) => config,
            Err(errors) => panic!("config of {}: {errors}", F::SCHEMA.file),
        }
    }

    /// Loads the daemon's config, runs `run` in-process and returns once it
    /// listens on `endpoint`'s address (panics after [`DEADLINE`]).
    pub async fn start<F, R, Fut, E>(&self, endpoint: RpcEndpoint<F>, run: R) -> InProcess<F>
    where
        F: DaemonFile,
        R: FnOnce(Context<F>) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        let config = self.load::<F>();
        let addr: SocketAddr = endpoint.listen_addr(&config);
        let daemon = spawn(endpoint.service, config, &self.stop, run);
        assert!(
            wait_listening_async(addr, DEADLINE).await,
            "{} never listened on {addr}",
            endpoint.service
        );
        daemon
    }
}

impl Default for LocalNode {
    fn default() -> Self {
        LocalNode::new()
    }
}

impl Drop for LocalNode {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
