//! groxide-exmdb: the mailbox store daemon.
//!
//! Serves groxide.exmdb.v1 on `listen_ip`:`exmdb_listen_port` behind
//! `exmdb_hosts_allow`, over the store engine (groxide-store). It serves
//! only stores whose home is this node; for others it answers STORE_NOT_HERE
//! naming the owner. After each commit it publishes notifications to this
//! node's groxide-event, never waiting for it.
//!
//! SIGHUP reloads the access list, the routing list files and the limits;
//! SIGTERM stops accepting, lets in-flight requests finish and closes every
//! store after its queued writes committed.

mod convert;
mod errors;
pub mod groupware;
mod notify;
pub mod service;
mod streaming;

use groxide_config::keys::exmdb;
use groxide_config::{Config, Exmdb};
use groxide_rpc::pb::exmdb::v1::exmdb_server::ExmdbServer;
use groxide_runtime::{Context, NodeWiring, Routing, RpcEndpoint, RpcServiceError};
use groxide_store::{ManagerSettings, StoreLimits, StoreManager};
use std::sync::Arc;
use std::time::Duration;

pub use service::ExmdbService;

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint<Exmdb> = RpcEndpoint {
    service: "exmdb",
    ip: exmdb::LISTEN_IP,
    port: exmdb::EXMDB_LISTEN_PORT,
    acl: exmdb::EXMDB_HOSTS_ALLOW,
};

/// Notifications queued for groxide-event before new ones are dropped.
const EVENT_QUEUE: usize = 4096;
/// Longest pause between two idle-store sweeps.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(30);
/// Largest gRPC message (MAPI inserts carry attachments inline).
const MAX_RPC_MESSAGE: usize = 96 * 1024 * 1024;

/// Why the daemon stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExmdbError {
    /// The RPC server failed.
    #[error(transparent)]
    Rpc(#[from] RpcServiceError),
    /// Routing could not be set up.
    #[error("exmdb: routing: {0}")]
    Routing(String),
}

/// Manager settings from exmdb_provider.cfg.
pub fn manager_settings(config: &Config<Exmdb>) -> ManagerSettings {
    ManagerSettings {
        max_open: config.get(exmdb::TABLE_SIZE),
        idle_close: config.get(exmdb::CACHE_INTERVAL),
        busy_timeout: config.get(exmdb::SQLITE_BUSY_TIMEOUT),
    }
}

/// Store limits from exmdb_provider.cfg.
pub fn store_limits(config: &Config<Exmdb>) -> StoreLimits {
    StoreLimits {
        max_message_size: config.get(exmdb::MAIL_MAX_LENGTH),
        max_message_count: config.get(exmdb::MAX_STORE_MESSAGE_COUNT),
    }
}

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context<Exmdb>) -> Result<(), ExmdbError> {
    let config = ctx.config();
    // The directory is connected on first use, so exmdb starts while the
    // directory is down (routing then fails retryably).
    let wiring =
        Arc::new(NodeWiring::lazy(&config).map_err(|e| ExmdbError::Routing(e.to_string()))?);
    let routing = wiring.routing().clone();
    let client_opts = wiring.client_options().clone();
    let publisher = match Routing::local_event_node(&config) {
        Ok(node) => groxide_rpc::EventPublisher::spawn(node, &client_opts, EVENT_QUEUE),
        Err(e) => {
            tracing::warn!(error = %e, "no event service: change notifications disabled");
            groxide_rpc::EventPublisher::disabled()
        }
    };
    let stores = Arc::new(StoreManager::new(
        manager_settings(&config),
        store_limits(&config),
        Some(Arc::new(notify::Publisher::new(publisher))),
    ));
    {
        let stores = stores.clone();
        let wiring = wiring.clone();
        ctx.on_reload(move |cfg| {
            // Failover: homeservers changed in the directory apply at once.
            wiring.reload(cfg);
            stores.reconfigure(manager_settings(cfg), store_limits(cfg));
            tracing::info!("routing and limits reloaded");
        });
    }
    let sweeper = spawn_idle_sweeper(stores.clone(), ctx.shutdown());
    let service = ExmdbService::new(stores.clone(), routing.exmdb().clone());
    let groupware = service.groupware_settings();
    groupware.set_tombstone_max_age(config.get(exmdb::SYNC_TOMBSTONE_MAX_AGE));
    groupware.set_mail_tombstone_max_age(config.get(exmdb::MAIL_TOMBSTONE_MAX_AGE));
    ctx.on_reload(move |cfg| {
        groupware.set_tombstone_max_age(cfg.get(exmdb::SYNC_TOMBSTONE_MAX_AGE));
        groupware.set_mail_tombstone_max_age(cfg.get(exmdb::MAIL_TOMBSTONE_MAX_AGE));
    });
    let server = ENDPOINT.server(&ctx)?.add_service(
        ExmdbServer::new(service)
            .max_decoding_message_size(MAX_RPC_MESSAGE)
            .max_encoding_message_size(MAX_RPC_MESSAGE),
    );
    let served = ENDPOINT.serve(&ctx, server).await;
    sweeper.abort();
    // In-flight requests are done: commit what is queued and close every store.
    let _ = tokio::task::spawn_blocking(move || stores.close_all()).await;
    tracing::info!("every store closed");
    served.map_err(ExmdbError::from)
}

fn spawn_idle_sweeper(
    stores: Arc<StoreManager>,
    shutdown: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            // Half the idle time, so a store closes at most 1.5 × cache_interval after its last use.
            let idle = (stores.settings().idle_close / 2)
                .clamp(Duration::from_millis(100), MAX_SWEEP_INTERVAL);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(idle) => {}
            }
            let s = stores.clone();
            let closed = tokio::task::spawn_blocking(move || s.close_idle())
                .await
                .unwrap_or(0);
            if closed > 0 {
                tracing::debug!(closed, "closed idle stores");
            }
        }
    })
}
