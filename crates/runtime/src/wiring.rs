//! One node's wiring, the same in every daemon that reaches stores: the
//! user directory, the routing built from the config directory, the RPC
//! client options and the routed clients, and the order a reload (SIGHUP)
//! applies them in — the directory's cache first (a route resolved in
//! between must not bring back an old homeserver), then the routing (list
//! files re-read, cached routes dropped), then every client's pooled
//! connections and routes, then the daemon's own hooks.

use crate::node::client_options;
use crate::routing::Routing;
use crate::start_error::StartError;
use groxide_config::{Config, ConfigFile};
use groxide_directory::{Directory, DirectorySettings, LazyDirectory};
use groxide_routing::HomeserverLookup;
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_rpc::{ClientOptions, RoutedClient};
use std::sync::{Arc, Mutex, PoisonError};

/// The node's directory, connected at start or on first use.
#[derive(Clone)]
pub enum NodeDirectory {
    /// Connected at start (daemons that authenticate or resolve recipients).
    Connected(Directory),
    /// Connected on first use (store daemons, which must start while the
    /// directory is down).
    Lazy(Arc<LazyDirectory>),
}

impl NodeDirectory {
    fn clear_cache(&self) {
        match self {
            NodeDirectory::Connected(d) => d.clear_cache(),
            NodeDirectory::Lazy(d) => d.clear_cache(),
        }
    }

    fn lookup(&self) -> Arc<dyn HomeserverLookup> {
        match self {
            NodeDirectory::Connected(d) => Arc::new(d.clone()),
            NodeDirectory::Lazy(d) => d.clone(),
        }
    }
}

type Hook = Box<dyn Fn() + Send + Sync>;

/// Directory, routing, client options and clients of one daemon, reloaded
/// in one order.
pub struct NodeWiring {
    directory: NodeDirectory,
    routing: Arc<Routing>,
    options: ClientOptions,
    /// Client resets, in the order the clients were made.
    resets: Mutex<Vec<Hook>>,
}

impl std::fmt::Debug for NodeWiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeWiring")
            .field("host_id", &self.routing.node().host_id)
            .finish_non_exhaustive()
    }
}

impl NodeWiring {
    /// The wiring of `config`'s directory, the user directory connected now.
    pub async fn connect<F: ConfigFile>(config: &Config<F>) -> Result<NodeWiring, StartError> {
        let settings = DirectorySettings::from_config_dir(config)
            .map_err(|e| StartError::Config(e.to_string()))?;
        let directory = Directory::connect(&settings)
            .await
            .map_err(|e| StartError::Directory(e.to_string()))?;
        NodeWiring::with_directory(config, NodeDirectory::Connected(directory))
    }

    /// The wiring of `config`'s directory, the user directory connected on
    /// first use.
    pub fn lazy<F: ConfigFile>(config: &Config<F>) -> Result<NodeWiring, StartError> {
        let directory = LazyDirectory::from_config_dir(config)
            .map_err(|e| StartError::Config(e.to_string()))?;
        NodeWiring::with_directory(config, NodeDirectory::Lazy(Arc::new(directory)))
    }

    /// The wiring over an already opened directory.
    pub fn with_directory<F: ConfigFile>(
        config: &Config<F>,
        directory: NodeDirectory,
    ) -> Result<NodeWiring, StartError> {
        let routing =
            Routing::load(config, Some(directory.lookup())).map_err(StartError::Config)?;
        let options = client_options(config, routing.node()).map_err(StartError::Config)?;
        Ok(NodeWiring {
            directory,
            routing: Arc::new(routing),
            options,
            resets: Mutex::new(Vec::new()),
        })
    }

    /// The user directory, when it was connected at start.
    pub fn directory(&self) -> Option<&Directory> {
        match &self.directory {
            NodeDirectory::Connected(d) => Some(d),
            NodeDirectory::Lazy(_) => None,
        }
    }

    /// The user directory, however it is connected.
    pub fn node_directory(&self) -> &NodeDirectory {
        &self.directory
    }

    /// The routing.
    pub fn routing(&self) -> &Arc<Routing> {
        &self.routing
    }

    /// Every RPC client's options.
    pub fn client_options(&self) -> &ClientOptions {
        &self.options
    }

    /// A routed exmdb client, reset on reload.
    pub fn exmdb_client(&self) -> Arc<ExmdbClient> {
        let client = Arc::new(ExmdbClient::new(
            self.routing.exmdb().clone(),
            self.options.clone(),
        ));
        let reset = client.clone();
        self.on_reload(move || reset.routed().reset());
        client
    }

    /// A routed midb client, reset on reload.
    pub fn midb_client(&self) -> Arc<RoutedClient> {
        let client = Arc::new(RoutedClient::new(
            "midb",
            self.routing.midb().clone(),
            self.options.clone(),
        ));
        let reset = client.clone();
        self.on_reload(move || reset.reset());
        client
    }

    /// Runs `hook` at every reload, after the directory, the routing and
    /// the clients made before it.
    pub fn on_reload(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.resets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(hook));
    }

    /// SIGHUP: the directory's cache, then the routing (a broken list file
    /// keeps the running tables, logged), then the clients and hooks.
    pub fn reload<F: ConfigFile>(&self, config: &Config<F>) {
        self.directory.clear_cache();
        if let Err(e) = self.routing.reload(config) {
            tracing::error!(error = %e, "routing lists not reloaded; keeping the running routes");
        }
        for reset in self
            .resets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            reset();
        }
    }

    /// Closes the directory's connections (at shutdown).
    pub async fn close(&self) {
        if let NodeDirectory::Connected(d) = &self.directory {
            d.close().await;
        }
    }
}
