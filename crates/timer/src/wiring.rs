//! What the production timer reaches beyond its state file, built from the
//! config: the stores (routed exmdb client, homeserver answers from the
//! directory) and the relay (`outgoing_smtp_url`). Reloaded on SIGHUP.

use crate::relay_sender::RelaySender;
use crate::store_maintenance::ExmdbMaintenance;
use groxide_config::keys::shared;
use groxide_config::{Config, Timer};
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_runtime::{NodeIdentity, NodeWiring};
use groxide_submit::{SubmitOptions, Submitter};
use std::sync::Arc;

/// The config key of the relay.
pub const RELAY_KEY: &str = shared::OUTGOING_SMTP_URL.name();

/// The store and relay side of the timer's jobs.
pub struct StoreAndRelay {
    wiring: NodeWiring,
    exmdb: Arc<ExmdbClient>,
    sender: Arc<RelaySender>,
}

/// The submitter for `outgoing_smtp_url`, greeting with this node's host_id.
pub fn submitter(config: &Config<Timer>) -> Result<Submitter, String> {
    let options = SubmitOptions {
        helo_name: NodeIdentity::load(config).host_id,
        ..SubmitOptions::default()
    };
    Submitter::new(config.get(shared::OUTGOING_SMTP_URL), options).map_err(|e| e.to_string())
}

impl StoreAndRelay {
    /// Builds everything from the loaded config; the directory is connected
    /// on first use.
    pub fn load(config: &Config<Timer>) -> Result<StoreAndRelay, String> {
        let wiring = NodeWiring::lazy(config).map_err(|e| e.to_string())?;
        let exmdb = wiring.exmdb_client();
        let sender = Arc::new(RelaySender::new(exmdb.clone(), submitter(config)?));
        Ok(StoreAndRelay {
            wiring,
            exmdb,
            sender,
        })
    }

    /// The deferred sender.
    pub fn sender(&self) -> Arc<RelaySender> {
        self.sender.clone()
    }

    /// The maintenance runner.
    pub fn maintenance(&self) -> Arc<ExmdbMaintenance> {
        Arc::new(ExmdbMaintenance::new(self.exmdb.clone()))
    }

    /// SIGHUP: list files, routes, connections, directory cache, relay.
    pub fn reload(&self, config: &Config<Timer>) {
        // Directory, routing, then the exmdb client (the runtime's order).
        self.wiring.reload(config);
        match submitter(config) {
            Ok(s) => self.sender.set_submitter(s),
            Err(e) => {
                tracing::error!(error = %e, "{RELAY_KEY} not reloaded; keeping the old relay")
            }
        }
    }
}
