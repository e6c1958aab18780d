//! The protocol modules this server mounts. Adding a module (CalDAV/CardDAV,
//! EWS, ActiveSync) is done here and nowhere else in this crate: build it
//! from the [`Services`], the node's routing and http.cfg, list its
//! [`Mount`], reload it.

use groxide_config::{Config, Http};
use groxide_dav::Dav;
use groxide_discovery::{Discovery, DiscoverySettings};
use groxide_ews::Ews;
use groxide_http_core::{Mount, Services};
use groxide_rpc::ExmdbClient;
use groxide_runtime::{Routing, client_options};
use std::sync::Arc;

/// Every module of the server.
#[derive(Debug)]
pub struct Modules {
    discovery: Arc<Discovery>,
    ews: Arc<Ews>,
    dav: Arc<Dav>,
}

impl Modules {
    /// Builds every module; `routing` reaches the users' stores.
    pub fn new(
        services: &Services,
        routing: &Routing,
        config: &Config<Http>,
    ) -> Result<Modules, String> {
        let options = client_options(config, routing.node())?;
        let exmdb = Arc::new(ExmdbClient::new(routing.exmdb().clone(), options));
        Ok(Modules {
            discovery: Discovery::new(services.clone(), DiscoverySettings::from_config(config)),
            ews: Ews::with_directory(exmdb.clone(), services.directory.clone()),
            dav: Dav::new(exmdb),
        })
    }

    /// Their mounts.
    pub fn mounts(&self) -> Vec<Mount> {
        vec![self.discovery.mount(), self.ews.mount(), self.dav.mount()]
    }

    /// Applies a reloaded http.cfg (SIGHUP).
    pub fn reload(&self, config: &Config<Http>) {
        self.discovery
            .set_settings(DiscoverySettings::from_config(config));
        self.ews.reload();
        self.dav.reload();
    }
}
