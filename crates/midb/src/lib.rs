//! groxide-midb: the IMAP/POP3 view of mailbox stores.
//!
//! Serves `groxide.midb.v1` on `midb_listen_ip`:`midb_listen_port` behind
//! `midb_hosts_allow`, on the home node of the stores it serves. What midb
//! adds to the store (groxide-exmdb, reached through the routed client):
//! IMAP mailbox names ([`names`]), digests of message bytes computed once
//! per content hash and kept in `<dir>/exmdb/midb.sqlite3` ([`digest`],
//! [`cache`]), body sections as byte ranges of the original, and
//! SEARCH/SORT/THREAD ([`search`], [`sort`], [`thread`]).
//!
//! Invariants: midb owns only data derived from message bytes, keyed by
//! content hash, so an entry never goes stale and midb.sqlite3 may be
//! deleted at any time; UIDs, flags, keywords, MODSEQs and subscriptions are
//! the store's, passed through and never invented. A folder's digests are
//! refreshed by change number (`changes since` the last one processed),
//! never by a full rescan.

pub mod cache;
pub mod digest;
pub mod error;
pub mod exmdb_store;
pub mod feed;
#[cfg(any(test, feature = "test-store"))]
pub mod memory_store;
pub mod names;
pub mod open_stores;
pub mod search;
pub mod service;
pub mod sort;
pub mod store;
pub mod thread;
pub mod view;

pub use error::MidbError;
pub use view::{Settings, StoreView};

use exmdb_store::ExmdbStore;
use feed::{ChangeFeed, EventFeed, NoFeed};
use groxide_config::keys::midb;
use groxide_config::{Config, Midb};
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_rpc::pb::midb::v1::midb_server::MidbServer;
use groxide_runtime::{Context, Routing, RpcEndpoint, RpcServiceError};
use std::sync::Arc;

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint<Midb> = RpcEndpoint {
    service: "midb",
    ip: midb::MIDB_LISTEN_IP,
    port: midb::MIDB_LISTEN_PORT,
    acl: midb::MIDB_HOSTS_ALLOW,
};

/// Largest gRPC message midb accepts or sends (APPEND chunks, sections).
const MAX_RPC_MESSAGE: usize = 16 * 1024 * 1024;

/// Why the daemon stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The RPC server failed.
    #[error(transparent)]
    Rpc(#[from] RpcServiceError),
    /// Routing or the exmdb client could not be set up.
    #[error("midb: {0}")]
    Setup(String),
}

/// View settings from midb.cfg.
pub fn settings(config: &Config<Midb>) -> Settings {
    Settings {
        table_size: config.get(midb::MIDB_TABLE_SIZE),
        cache_interval: config.get(midb::MIDB_CACHE_INTERVAL),
        search_text_max: usize::try_from(config.get(midb::MIDB_SEARCH_TEXT_MAX))
            .unwrap_or(usize::MAX),
    }
}

/// Runs the daemon until shutdown: the view over groxide-exmdb (routed,
/// normally this node's), digests precomputed from this node's groxide-event.
pub async fn run(ctx: Context<Midb>) -> Result<(), RunError> {
    let config = ctx.config();
    // The directory's homeserver decides which stores are this node's
    // (connected on first use, so midb starts while the directory is down).
    let directory = Arc::new(
        groxide_directory::LazyDirectory::from_config_dir(&config)
            .map_err(|e| RunError::Setup(e.to_string()))?,
    );
    let lookup: Arc<dyn groxide_routing::HomeserverLookup> = directory.clone();
    let routing = Arc::new(Routing::load(&config, Some(lookup)).map_err(RunError::Setup)?);
    let opts = groxide_runtime::client_options(&config, routing.node()).map_err(RunError::Setup)?;
    let client = Arc::new(ExmdbClient::new(routing.exmdb().clone(), opts.clone()));
    let store = Arc::new(ExmdbStore::new(
        client.clone(),
        config.get(midb::MIDB_READ_CONTENT_FILES),
    ));
    let feed: Arc<dyn ChangeFeed> = match Routing::local_event_node(&config) {
        Ok(node) => Arc::new(EventFeed::new(node, opts)),
        Err(e) => {
            tracing::warn!(error = %e, "no event service: digests are computed on demand only");
            Arc::new(NoFeed)
        }
    };
    let view = StoreView::new(store, feed, settings(&config));
    let home = routing.midb().clone();
    {
        let view = view.clone();
        let routing = routing.clone();
        ctx.on_reload(move |cfg| {
            // Failover: homeservers changed in the directory apply at once.
            directory.clear_cache();
            if let Err(e) = routing.reload(cfg) {
                tracing::error!(error = %e, "routing reload refused; keeping the running routes");
            }
            client.routed().reset();
            view.reconfigure(settings(cfg));
            tracing::info!("routing and limits reloaded");
        });
    }
    serve(&ctx, view, Some(home)).await
}

/// Serves `view` on the configured endpoint until shutdown (the daemon, and
/// tests with another store). With `home`, only the stores it routes to this
/// node are served; others get STORE_NOT_HERE.
pub async fn serve<S: store::Store>(
    ctx: &Context<Midb>,
    view: StoreView<S>,
    home: Option<Arc<groxide_routing::Resolver>>,
) -> Result<(), RunError> {
    view.spawn_idle_sweeper(ctx.shutdown());
    let mut service = service::MidbService::new(view.clone());
    if let Some(home) = home {
        service = service.serving_home_stores(home);
    }
    let server = ENDPOINT.server(ctx)?.add_service(
        MidbServer::new(service)
            .max_decoding_message_size(MAX_RPC_MESSAGE)
            .max_encoding_message_size(MAX_RPC_MESSAGE),
    );
    let health = server.health();
    health
        .set_serving::<MidbServer<service::MidbService<S>>>()
        .await;
    let served = ENDPOINT.serve(ctx, server).await;
    view.close_all();
    Ok(served?)
}
