//! The protocol modules this server mounts. Adding a module (CalDAV/CardDAV,
//! EWS, ActiveSync) is done here and nowhere else in this crate: build it
//! from the [`Services`], the node's routing and http.cfg, list its
//! [`Mount`], reload it. What several modules share is built here once and
//! handed to each: the routed exmdb client, the event hub (EWS
//! notifications, ActiveSync Ping and Sync-with-Wait) and the relay of
//! `outgoing_smtp_url` (EWS and ActiveSync sending). ActiveSync also gets
//! the routed midb client (routed like groxide-imap's: homeserver, then
//! midb_list.txt), whose index answers its mailbox Search.

use groxide_config::keys::shared;
use groxide_config::{Config, Http};
use groxide_dav::Dav;
use groxide_discovery::{Discovery, DiscoverySettings};
use groxide_eas::{Eas, EasSettings};
use groxide_ews::Ews;
use groxide_ews::notifications::NotificationLimits;
use groxide_http_core::{Mount, Services};
use groxide_rpc::midb_view::RemoteView;
use groxide_rpc::{EventHub, ExmdbClient, HubSettings, RoutedClient};
use groxide_runtime::{NodeIdentity, Routing, client_options};
use groxide_submit::{SubmitOptions, Submitter};
use std::sync::Arc;

/// The relay of `outgoing_smtp_url` (EWS and ActiveSync send through it),
/// greeting with this node's host_id; `None`, with a warning, when the URL
/// is unusable.
fn submitter(config: &Config<Http>) -> Option<Arc<Submitter>> {
    let options = SubmitOptions {
        helo_name: NodeIdentity::load(config).host_id,
        ..SubmitOptions::default()
    };
    match Submitter::new(config.get(shared::OUTGOING_SMTP_URL), options) {
        Ok(s) => Some(Arc::new(s)),
        Err(e) => {
            tracing::warn!(error = %e, "outgoing_smtp_url is unusable: EWS and ActiveSync cannot send");
            None
        }
    }
}

/// Every module of the server.
pub struct Modules {
    discovery: Arc<Discovery>,
    ews: Arc<Ews>,
    dav: Arc<Dav>,
    eas: Arc<Eas>,
    hub: Arc<EventHub>,
}

impl std::fmt::Debug for Modules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Modules").finish_non_exhaustive()
    }
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
        let midb = Arc::new(RoutedClient::new(
            "midb",
            routing.midb().clone(),
            options.clone(),
        ));
        let hub = EventHub::new(
            routing.clone(),
            options,
            HubSettings {
                // A waiting device or streaming client is gone sooner than an
                // IMAP session: its store's subscription retires sooner.
                listener_check: std::time::Duration::from_secs(10),
                ..HubSettings::default()
            },
        );
        let relay = submitter(config);
        let ews = Ews::with_directory(exmdb.clone(), services.directory.clone());
        ews.set_submitter(relay.clone());
        ews.set_event_hub(hub.clone());
        ews.set_notification_limits(notification_limits(config));
        ews.set_item_cache_size(item_cache_size(config));
        let modules = Modules {
            discovery: Discovery::new(services.clone(), DiscoverySettings::from_config(config)),
            ews,
            dav: Dav::with_directory(exmdb.clone(), services.directory.clone()),
            eas: Eas::new(exmdb, hub.clone(), eas_settings(config), relay),
            hub,
        };
        modules.eas.set_directory(services.directory.clone());
        modules.eas.set_midb(Arc::new(RemoteView::new(midb)));
        Ok(modules)
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

    /// Adds the modules' own metrics to the server's.
    pub fn add_metrics(&self, metrics: &crate::metrics::Metrics) {
        let ews = self.ews.clone();
        metrics.add_source(Box::new(move |out| ews.write_metrics(out)));
        let eas = self.eas.clone();
        metrics.add_source(Box::new(move |out| eas.write_metrics(out)));
    }

    /// Applies a reloaded http.cfg (SIGHUP): after a failover or rebalance
    /// a store's events come from its new home.
    pub fn reload(&self, config: &Config<Http>) {
        let relay = submitter(config);
        self.discovery
            .set_settings(DiscoverySettings::from_config(config));
        self.ews.reload();
        self.ews.set_submitter(relay.clone());
        self.ews
            .set_notification_limits(notification_limits(config));
        self.ews.set_item_cache_size(item_cache_size(config));
        self.dav.reload();
        self.eas.reload(eas_settings(config), relay);
        self.hub.reset();
    }
}

/// The EWS notification limits of http.cfg.
fn notification_limits(config: &Config<Http>) -> NotificationLimits {
    use groxide_config::keys::http;
    let keep_alive = config.get(http::EWS_STREAMING_KEEPALIVE);
    NotificationLimits {
        per_store: config.get(http::EWS_SUBSCRIPTIONS_PER_USER),
        total: config.get(http::EWS_SUBSCRIPTIONS_MAX),
        pending: config.get(http::EWS_SUBSCRIPTION_MAX_EVENTS),
        streaming_idle: config.get(http::EWS_STREAMING_IDLE_EXPIRY),
        keep_alive,
        recheck: keep_alive,
        ..NotificationLimits::default()
    }
}

/// The bytes of EWS items kept as listings show them.
fn item_cache_size(config: &Config<Http>) -> usize {
    usize::try_from(config.get(groxide_config::keys::http::EWS_ITEM_CACHE_SIZE))
        .unwrap_or(usize::MAX)
}

/// The ActiveSync limits of http.cfg.
fn eas_settings(config: &Config<Http>) -> EasSettings {
    use groxide_config::keys::http;
    EasSettings {
        min_heartbeat: config.get(http::EAS_PING_MIN_HEARTBEAT),
        max_heartbeat: config.get(http::EAS_PING_MAX_HEARTBEAT),
        max_window: config.get(http::EAS_SYNC_MAX_WINDOW),
        max_request: usize::try_from(config.get(http::HTTP_RQBODY_MAX_SIZE)).unwrap_or(usize::MAX),
        max_active: config.get(http::EAS_MAX_ACTIVE_COMMANDS),
    }
}
