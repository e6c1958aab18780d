//! The peer access list of one RPC service (`exmdb_hosts_allow`, …), shared
//! between the accept loop and SIGHUP reloads.

use groxide_config::HostsAllow;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

/// A reloadable `*_hosts_allow` list, named by its config key for logs.
#[derive(Clone)]
pub struct AccessList {
    key: &'static str,
    list: Arc<RwLock<HostsAllow>>,
}

impl AccessList {
    /// A list for config key `key` (e.g. `exmdb_hosts_allow`).
    pub fn new(key: &'static str, list: HostsAllow) -> AccessList {
        AccessList {
            key,
            list: Arc::new(RwLock::new(list)),
        }
    }

    /// The config key this list comes from.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// Replaces the list (SIGHUP); applies to new connections and to every
    /// further request on open ones.
    pub fn replace(&self, list: HostsAllow) {
        match self.list.write() {
            Ok(mut g) => *g = list,
            Err(poisoned) => *poisoned.into_inner() = list,
        }
    }

    /// Whether `peer` may talk to the service. `None` (unknown peer) is refused:
    /// the list fails closed.
    pub fn allows(&self, peer: Option<IpAddr>) -> bool {
        let Some(peer) = peer else { return false };
        match self.list.read() {
            Ok(g) => g.allows(peer),
            Err(poisoned) => poisoned.into_inner().allows(peer),
        }
    }

    /// The current list as text, for logs.
    pub fn describe(&self) -> String {
        match self.list.read() {
            Ok(g) => g.to_string(),
            Err(poisoned) => poisoned.into_inner().to_string(),
        }
    }
}
