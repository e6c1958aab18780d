//! The protocol modules this server mounts. Adding a module (CalDAV/CardDAV,
//! EWS, ActiveSync) is done here and nowhere else in this crate: build it
//! from the [`Services`], the node's routing and http.cfg, list its
//! [`Mount`], reload it.

use groxide_config::keys::shared;
use groxide_config::{Config, Http};
use groxide_dav::Dav;
use groxide_discovery::{Discovery, DiscoverySettings};
use groxide_eas::{Eas, EasSettings};
use groxide_ews::Ews;
use groxide_http_core::{Mount, Services};
use groxide_rpc::ExmdbClient;
use groxide_runtime::{NodeIdentity, Routing, client_options};
use groxide_submit::{SubmitOptions, Submitter};
use std::sync::Arc;

/// The relay of `outgoing_smtp_url` (EWS sends through it), greeting with
/// this node's host_id; `None`, with a warning, when the URL is unusable.
fn submitter(config: &Config<Http>) -> Option<Submitter> {
    let options = SubmitOptions {
        helo_name: NodeIdentity::load(config).host_id,
        ..SubmitOptions::default()
    };
    match Submitter::new(config.get(shared::OUTGOING_SMTP_URL), options) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "outgoing_smtp_url is unusable: EWS cannot send");
            None
        }
    }
}

/// Every module of the server.
#[derive(Debug)]
pub struct Modules {
    discovery: Arc<Discovery>,
    ews: Arc<Ews>,
    dav: Arc<Dav>,
    eas: Arc<Eas>,
}

impl Modules {
    /// Builds every module; `routing` reaches the users' stores.
    pub fn new(
        services: &Services,
        routing: &Arc<Routing>,
        config: &Config<Http>,
    ) -> Result<Modules, String> {
        let options = client_options(config, routing.node())?;
        let exmdb = Arc::new(ExmdbClient::new(routing.exmdb().clone(), options.clone()));
        let ews = Ews::with_directory(exmdb.clone(), services.directory.clone());
        ews.set_submitter(submitter(config));
        Ok(Modules {
            discovery: Discovery::new(services.clone(), DiscoverySettings::from_config(config)),
            ews,
            dav: Dav::with_directory(exmdb.clone(), services.directory.clone()),
            eas: Eas::new(
                exmdb,
                routing.clone(),
                options,
                eas_settings(config),
                config.get(shared::OUTGOING_SMTP_URL),
            ),
        })
    }

    /// Their mounts.
    pub fn mounts(&self) -> Vec<Mount> {
        vec![
            self.discovery.mount(),
            self.ews.mount(),
            self.dav.mount(),
            self.eas.mount(),
        ]
    }

    /// Applies a reloaded http.cfg (SIGHUP).
    pub fn reload(&self, config: &Config<Http>) {
        self.discovery
            .set_settings(DiscoverySettings::from_config(config));
        self.ews.reload();
        self.ews.set_submitter(submitter(config));
        self.dav.reload();
        self.eas
            .reload(eas_settings(config), config.get(shared::OUTGOING_SMTP_URL));
    }
}

/// The ActiveSync limits of http.cfg.
fn eas_settings(config: &Config<Http>) -> EasSettings {
    use groxide_config::keys::http;
    EasSettings {
        min_heartbeat: config.get(http::EAS_PING_MIN_HEARTBEAT),
        max_heartbeat: config.get(http::EAS_PING_MAX_HEARTBEAT),
        max_window: config.get(http::EAS_SYNC_MAX_WINDOW),
        max_request: usize::try_from(config.get(http::HTTP_RQBODY_MAX_SIZE)).unwrap_or(usize::MAX),
    }
}
