//! groxide-midb: the IMAP/POP3 view of mailbox stores — the mailbox view
//! contract ([`groxide_mailview::MailboxView`]) implemented over the stores
//! of this node ([`StoreView`]), as a library and as a daemon.
//!
//! The library: [`StoreView`] reads a store's SQLite file (WAL, beside
//! groxide-exmdb) and content files directly and writes through exmdb, the
//! store's one writer ([`exmdb_writes`]); what it adds to the store is
//! derived from message bytes and kept in `<dir>/exmdb/midb.sqlite3`:
//! IMAP mailbox names ([`names`]), digests computed once per content hash
//! ([`digest`], [`cache`]), body sections as byte ranges of the original,
//! SEARCH/SORT/THREAD ([`search`], [`sort`], [`thread`]). groxide-imap and
//! groxide-pop3 link it and serve the stores of their node in-process;
//! [`RoutedView`] sends a store homed on another node to that node's midb.
//!
//! The daemon serves `groxide.midb.v1` ([`service`]) on `midb_listen_ip`:
//! `midb_listen_port` behind `midb_hosts_allow` for callers on other nodes,
//! and precomputes digests of new messages from this node's groxide-event.
//!
//! Invariants: midb owns only data derived from message bytes, keyed by
//! content hash, so an entry never goes stale and midb.sqlite3 may be
//! deleted at any time; UIDs, flags, keywords, MODSEQs and subscriptions are
//! the store's, passed through and never invented; midb never writes a
//! store. A folder's digests are refreshed by change number (`changes
//! since` the last one processed), never by a full rescan.

pub mod cache;
pub mod digest;
#[cfg(feature = "direct-writes")]
pub mod direct_writes;
pub mod error;
pub mod exmdb_writes;
pub mod feed;
pub mod names;
pub mod open_stores;
pub mod routed;
pub mod search;
pub mod service;
pub mod sort;
mod sort_index;
pub mod thread;
pub mod view;
pub mod writes;

pub use error::MidbError;
pub use routed::RoutedView;
pub use view::{Settings, StoreView};

use exmdb_writes::ExmdbWrites;
use feed::{ChangeFeed, EventFeed, NoFeed};
use groxide_config::keys::midb;
use groxide_config::{Config, Midb};
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_rpc::midb_view::MAX_RPC_MESSAGE;
use groxide_rpc::pb::midb::v1::midb_server::MidbServer;
use groxide_runtime::{Context, NodeWiring, Routing, RpcEndpoint, RpcServiceError};
use std::sync::Arc;

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint<Midb> = RpcEndpoint {
    service: "midb",
    ip: midb::MIDB_LISTEN_IP,
    port: midb::MIDB_LISTEN_PORT,
    acl: midb::MIDB_HOSTS_ALLOW,
};

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
        parse_memory_max: config.get(midb::MIDB_PARSE_MEMORY_MAX),
        sort_index_max: config.get(midb::MIDB_SORT_INDEX_MAX),
        ..Settings::default()
    }
}

/// A view of this node's stores that writes through groxide-exmdb, the
/// stores' one writer (midb's daemon, and imap and pop3 for the stores
/// homed on their node). `feed` precomputes digests of new messages.
pub fn local_view(
    exmdb: Arc<ExmdbClient>,
    feed: Arc<dyn ChangeFeed>,
    settings: Settings,
) -> StoreView<ExmdbWrites> {
    StoreView::new(Arc::new(ExmdbWrites::new(exmdb)), feed, settings)
}

/// Runs the daemon until shutdown: the view over groxide-exmdb (routed,
/// normally this node's), digests precomputed from this node's groxide-event.
pub async fn run(ctx: Context<Midb>) -> Result<(), RunError> {
    let config = ctx.config();
    // The directory's homeserver decides which stores are this node's
    // (connected on first use, so midb starts while the directory is down).
    let wiring = Arc::new(NodeWiring::lazy(&config).map_err(|e| RunError::Setup(e.to_string()))?);
    let routing = wiring.routing().clone();
    let opts = wiring.client_options().clone();
    let client = wiring.exmdb_client();
    let feed: Arc<dyn ChangeFeed> = match Routing::local_event_node(&config) {
        Ok(node) => Arc::new(EventFeed::new(node, opts)),
        Err(e) => {
            tracing::warn!(error = %e, "no event service: digests are computed on demand only");
            Arc::new(NoFeed)
        }
    };
    let view = local_view(client.clone(), feed, settings(&config));
    let home = routing.midb().clone();
    {
        let view = view.clone();
        ctx.on_reload(move |cfg| {
            // Failover: homeservers changed in the directory apply at once.
            wiring.reload(cfg);
            view.reconfigure(settings(cfg));
            tracing::info!("routing and limits reloaded");
        });
    }
    serve(&ctx, view, Some(home)).await
}

/// Serves `view` on the configured endpoint until shutdown (the daemon, and
/// tests with direct writes). With `home`, only the stores it routes to
/// this node are served; others get STORE_NOT_HERE.
pub async fn serve<W: writes::StoreWrites>(
    ctx: &Context<Midb>,
    view: StoreView<W>,
    home: Option<Arc<groxide_routing::Resolver>>,
) -> Result<(), RunError> {
    view.spawn_idle_sweeper(ctx.shutdown());
    let mut service = service::MidbService::new(Arc::new(view.clone()));
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
        .set_serving::<MidbServer<service::MidbService<StoreView<W>>>>()
        .await;
    let served = ENDPOINT.serve(ctx, server).await;
    view.close_all();
    Ok(served?)
}
