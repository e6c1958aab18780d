//! The protocol modules this server mounts. Adding a module (CalDAV/CardDAV,
//! EWS, ActiveSync) is done here and nowhere else in this crate: build it
//! from the [`Services`] and http.cfg, list its [`Mount`], reload it.

use groxide_config::{Config, Http};
use groxide_discovery::{Discovery, DiscoverySettings};
use groxide_http_core::{Mount, Services};
use std::sync::Arc;

/// Every module of the server.
#[derive(Debug)]
pub struct Modules {
    discovery: Arc<Discovery>,
}

impl Modules {
    /// Builds every module.
    pub fn new(services: &Services, config: &Config<Http>) -> Modules {
        Modules {
            discovery: Discovery::new(services.clone(), DiscoverySettings::from_config(config)),
        }
    }

    /// Their mounts.
    pub fn mounts(&self) -> Vec<Mount> {
        vec![self.discovery.mount()]
    }

    /// Applies a reloaded http.cfg (SIGHUP).
    pub fn reload(&self, config: &Config<Http>) {
        self.discovery
            .set_settings(DiscoverySettings::from_config(config));
    }
}
