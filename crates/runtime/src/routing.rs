//! The routing of one node, built from its config directory: resolvers for
//! exmdb (exmdb_list.txt) and midb (midb_list.txt), both asking the directory's
//! homeserver first, and the ports of the services that follow a store's home
//! (event). SIGHUP re-reads the list files and clears the caches at once.

use crate::node::NodeIdentity;
use groxide_config::{Config, schema};
use groxide_routing::{HomeserverLookup, ListKind, Resolver, Route, RouteTable};
use groxide_rpc::NodeAddr;
use std::sync::Arc;

/// Where this node's daemons find stores.
pub struct Routing {
    node: NodeIdentity,
    exmdb: Arc<Resolver>,
    midb: Arc<Resolver>,
    event_port: u16,
}

fn load_table(cfg: &Config, key: &str, kind: ListKind) -> Result<RouteTable, String> {
    RouteTable::load(&cfg.path(key), kind).map_err(|e| e.to_string())
}

fn daemon_config(config: &Config, s: &'static groxide_config::Schema) -> Result<Config, String> {
    Config::load(config.dir(), s)
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
    pub fn load(
        config: &Config,
        homeserver: Option<Arc<dyn HomeserverLookup>>,
    ) -> Result<Routing, String> {
        let node = NodeIdentity::load(config);
        let ttl = config.duration("routing_cache_time");
        let exmdb_cfg = daemon_config(config, &schema::EXMDB)?;
        let midb_cfg = daemon_config(config, &schema::MIDB)?;
        let event_cfg = daemon_config(config, &schema::EVENT)?;
        let exmdb = Resolver::new(
            load_table(&exmdb_cfg, "exmdb_list_file", ListKind::Exmdb)?,
            homeserver.clone(),
            node.local_node(),
            exmdb_cfg.port("exmdb_listen_port"),
            ttl,
        )
        .with_default_host(default_host(exmdb_cfg.ip("listen_ip")));
        let midb = Resolver::new(
            load_table(&midb_cfg, "midb_list_file", ListKind::Midb)?,
            homeserver,
            node.local_node(),
            midb_cfg.port("midb_listen_port"),
            ttl,
        )
        .with_default_host(default_host(midb_cfg.ip("midb_listen_ip")));
        Ok(Routing {
            node,
            exmdb: Arc::new(exmdb),
            midb: Arc::new(midb),
            event_port: event_cfg.port("event_listen_port"),
        })
    }

    /// Checks that the list files of `config`'s directory parse (for
    /// `--check-config`); each message names file and line.
    pub fn check(config: &Config) -> Vec<String> {
        let mut problems = Vec::new();
        for (s, key, kind) in [
            (&schema::EXMDB, "exmdb_list_file", ListKind::Exmdb),
            (&schema::MIDB, "midb_list_file", ListKind::Midb),
        ] {
            match daemon_config(config, s).and_then(|c| load_table(&c, key, kind)) {
                Ok(_) => {}
                Err(e) => problems.push(e),
            }
        }
        problems
    }

    /// Re-reads the list files (SIGHUP) and clears every cached route. On an
    /// error the running tables stay.
    pub fn reload(&self, config: &Config) -> Result<(), String> {
        let exmdb_cfg = daemon_config(config, &schema::EXMDB)?;
        let midb_cfg = daemon_config(config, &schema::MIDB)?;
        let e = load_table(&exmdb_cfg, "exmdb_list_file", ListKind::Exmdb)?;
        let m = load_table(&midb_cfg, "midb_list_file", ListKind::Midb)?;
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
    pub fn local_event_node(config: &Config) -> Result<NodeAddr, String> {
        let c = daemon_config(config, &schema::EVENT)?;
        Ok(NodeAddr::new(
            default_host(c.ip("event_listen_ip")),
            c.port("event_listen_port"),
        ))
    }
}
