//! The routing of one node, built from its config directory: resolvers for
//! exmdb (exmdb_list.txt) and midb (midb_list.txt), both asking the directory's
//! homeserver first, and the ports of the services that follow a store's home
//! (event). SIGHUP re-reads the list files and clears the caches at once.

use crate::node::NodeIdentity;
use groxide_config::keys::{event, exmdb, midb, shared};
use groxide_config::{Config, ConfigFile, DaemonFile, Event, Exmdb, Key, Midb};
use groxide_routing::{HomeserverLookup, ListKind, Resolver, Route, RouteTable};
use groxide_rpc::NodeAddr;
use groxide_rpc::event_hub::{EventLocator, Located};
use std::path::PathBuf;
use std::sync::Arc;

/// Where this node's daemons find stores.
pub struct Routing {
    node: NodeIdentity,
    exmdb: Arc<Resolver>,
    midb: Arc<Resolver>,
    event_port: u16,
}

fn load_table<F: DaemonFile>(
    cfg: &Config<F>,
    key: Key<PathBuf, F>,
    kind: ListKind,
) -> Result<RouteTable, String> {
    RouteTable::load(&cfg.get(key), kind).map_err(|e| e.to_string())
}

/// Another daemon's file `D` of the config directory of `config`.
fn daemon_config<F: ConfigFile, D: DaemonFile>(config: &Config<F>) -> Result<Config<D>, String> {
    Config::<D>::load(config.dir())
        .map(|(c, _)| c)
        .map_err(|e| e.to_string())
}

fn default_host(ip: Option<std::net::IpAddr>) -> String {
    match ip {
        Some(ip) if !ip.is_unspecified() => ip.to_string(),
        _ => groxide_routing::DEFAULT_LOCAL_HOST.to_string(),
    }
}

impl Routing {
    /// Builds the resolvers from `config`'s directory. `homeserver` is the
    /// directory's lookup (None: list files and this node only).
    pub fn load<F: ConfigFile>(
        config: &Config<F>,
        homeserver: Option<Arc<dyn HomeserverLookup>>,
    ) -> Result<Routing, String> {
        let node = NodeIdentity::load(config);
        let ttl = config.get(shared::ROUTING_CACHE_TIME);
        let exmdb_cfg = daemon_config::<F, Exmdb>(config)?;
        let midb_cfg = daemon_config::<F, Midb>(config)?;
        let event_cfg = daemon_config::<F, Event>(config)?;
        let exmdb = Resolver::new(
            load_table(&exmdb_cfg, exmdb::EXMDB_LIST_FILE, ListKind::Exmdb)?,
            homeserver.clone(),
            node.local_node(),
            exmdb_cfg.get(exmdb::EXMDB_LISTEN_PORT),
            ttl,
        )
        .with_default_host(default_host(exmdb_cfg.get(exmdb::LISTEN_IP)));
        let midb = Resolver::new(
            load_table(&midb_cfg, midb::MIDB_LIST_FILE, ListKind::Midb)?,
            homeserver,
            node.local_node(),
            midb_cfg.get(midb::MIDB_LISTEN_PORT),
            ttl,
        )
        .with_default_host(default_host(midb_cfg.get(midb::MIDB_LISTEN_IP)));
        Ok(Routing {
            node,
            exmdb: Arc::new(exmdb),
            midb: Arc::new(midb),
            event_port: event_cfg.get(event::EVENT_LISTEN_PORT),
        })
    }

    /// Checks that the list files of `config`'s directory parse (for
    /// `--check-config`); each message names file and line.
    pub fn check<F: ConfigFile>(config: &Config<F>) -> Vec<String> {
        let exmdb = daemon_config::<F, Exmdb>(config)
            .and_then(|c| load_table(&c, exmdb::EXMDB_LIST_FILE, ListKind::Exmdb));
        let midb = daemon_config::<F, Midb>(config)
            .and_then(|c| load_table(&c, midb::MIDB_LIST_FILE, ListKind::Midb));
        [exmdb.err(), midb.err()].into_iter().flatten().collect()
    }

    /// Re-reads the list files (SIGHUP) and clears every cached route. On an
    /// error the running tables stay.
    pub fn reload<F: ConfigFile>(&self, config: &Config<F>) -> Result<(), String> {
        let exmdb_cfg = daemon_config::<F, Exmdb>(config)?;
        let midb_cfg = daemon_config::<F, Midb>(config)?;
        let e = load_table(&exmdb_cfg, exmdb::EXMDB_LIST_FILE, ListKind::Exmdb)?;
        let m = load_table(&midb_cfg, midb::MIDB_LIST_FILE, ListKind::Midb)?;
        self.exmdb.reload(e);
        self.midb.reload(m);
        Ok(())
    }

    /// This node.
    pub fn node(&self) -> &NodeIdentity {
        &self.node
    }

    /// Resolves stores to exmdb nodes.
    pub fn exmdb(&self) -> &Arc<Resolver> {
        &self.exmdb
    }

    /// Resolves stores to midb nodes.
    pub fn midb(&self) -> &Arc<Resolver> {
        &self.midb
    }

    /// The event service of the node a store route points at (events follow
    /// the mailbox: same host as exmdb, the event port).
    pub fn event_node(&self, exmdb_route: &Route) -> NodeAddr {
        NodeAddr::new(exmdb_route.host.clone(), self.event_port)
    }

    /// This node's own event service (where exmdb publishes).
    pub fn local_event_node<F: ConfigFile>(config: &Config<F>) -> Result<NodeAddr, String> {
        let c = daemon_config::<F, Event>(config)?;
        Ok(NodeAddr::new(
            default_host(c.get(event::EVENT_LISTEN_IP)),
            c.get(event::EVENT_LISTEN_PORT),
        ))
    }
}

/// A store's events come from the event service of its exmdb home.
impl EventLocator for Routing {
    fn locate<'a>(&'a self, dir: &'a str) -> Located<'a> {
        Box::pin(async move {
            let route = self.exmdb.resolve(dir).await.map_err(|e| e.to_string())?;
            Ok(self.event_node(&route))
        })
    }
}
