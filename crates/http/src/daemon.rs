//! The daemon: http.cfg → listeners, certificate, the directory and its
//! authenticator, routing (to name users' home nodes), the modules and
//! the server; SIGHUP reloads settings, certificates, caches, routing and
//! the modules' settings; SIGTERM stops accepting and drains.

use crate::front::{Front, MountTable};
use crate::metrics::Metrics;
use crate::modules::Modules;
use crate::server::HttpServer;
use crate::settings::{ServerSettings, SettingsCell};
use groxide_config::keys::{http, shared};
use groxide_config::{BindAddr, Config, Http};
use groxide_directory::Authenticator;
use groxide_http_core::auth::{AuthScheme, Basic, CredentialCache};
use groxide_http_core::{AuthGate, HomeNodes, Services};
use groxide_runtime::client_listen::{ClientListen, HTTP_KEYS, server_tls};
use groxide_runtime::{Context, NodeWiring, Routing, StartError, bind_tcp};
use std::sync::Arc;

/// The realm of the Basic challenge.
const REALM: &str = "groxide";

/// The TLS configuration of http.cfg, `None` when no certificate is set.
pub fn tls_config(config: &Config<Http>) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    server_tls(config, &HTTP_KEYS)
}

/// The problems `--check-config` reports for http.cfg.
pub fn check_config(config: &Config<Http>) -> Vec<String> {
    let mut problems = ClientListen::from_config(config, &HTTP_KEYS)
        .err()
        .unwrap_or_default();
    problems.extend(ServerSettings::check(config));
    for bind in config.get(http::HTTP_METRICS_LISTEN) {
        if let BindAddr::Unix(path) = bind {
            problems.push(format!(
                "http_metrics_listen: unix:{} — metrics are served on TCP only",
                path.display()
            ));
        }
    }
    problems.extend(Routing::check(config));
    problems
}

fn credential_limits(config: &Config<Http>) -> (std::time::Duration, usize) {
    (
        config.get(http::HTTP_BASIC_AUTH_CRED_CACHING),
        config.get(http::HTTP_BASIC_AUTH_CACHE_ENTRIES),
    )
}

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context<Http>) -> Result<(), StartError> {
    let config = ctx.config();
    let problems = check_config(&config);
    if !problems.is_empty() {
        return Err(StartError::Config(problems.join("; ")));
    }
    let listen = ClientListen::from_config(&config, &HTTP_KEYS)
        .map_err(|problems| StartError::Config(problems.join("; ")))?;
    for warning in &listen.warnings {
        tracing::warn!("{warning}");
    }

    let wiring = Arc::new(NodeWiring::connect(&config).await?);
    let Some(directory) = wiring.directory().cloned() else {
        return Err(StartError::Directory("not connected".into()));
    };
    let routing = wiring.routing().clone();

    let authenticator = Arc::new(Authenticator::for_daemon(
        directory.clone(),
        &config,
        http::HTTP_AUTH_TIMES,
        http::BLOCK_INTERVAL_AUTHS,
    ));
    let (ttl, entries) = credential_limits(&config);
    let basic = Arc::new(Basic::new(
        authenticator,
        REALM,
        CredentialCache::new(ttl, entries),
    ));
    let gate = Arc::new(AuthGate::new(vec![basic.clone() as Arc<dyn AuthScheme>]));
    let home = Arc::new(HomeNodes::new(
        directory.clone(),
        routing.exmdb().clone(),
        &routing.node().host_id,
        config.get(http::OXDISCO_EXONYM),
    ));
    let services = Services {
        directory: directory.clone(),
        auth: gate.clone(),
        home: home.clone(),
    };
    let modules = Arc::new(Modules::new(&services, &routing, &config).map_err(StartError::Config)?);
    let table = MountTable::new(modules.mounts()).map_err(StartError::Config)?;
    tracing::debug!(?table, "modules mounted");

    let metrics = Arc::new(Metrics::default());
    modules.add_metrics(&metrics);
    let settings = Arc::new(SettingsCell::new(ServerSettings::from_config(&config)));
    let front = Arc::new(Front::new(table, gate.clone(), metrics.clone(), settings));
    let server = HttpServer::new(front, metrics, listen.tls.clone(), ctx.shutdown());

    let listeners = listen.bind().map_err(StartError::Listen)?;
    let mut metrics_listeners = Vec::new();
    for bind in config.get(http::HTTP_METRICS_LISTEN) {
        if let BindAddr::Tcp(addr) = bind {
            metrics_listeners.push(bind_tcp(addr).map_err(StartError::Listen)?);
        }
    }
    if listeners.is_empty() {
        tracing::warn!("http_listen and http_listen_tls are empty: not listening anywhere");
    }

    let reload = server.clone();
    let reload_wiring = wiring.clone();
    ctx.on_reload(move |cfg| {
        reload.set_settings(ServerSettings::from_config(cfg));
        match tls_config(cfg) {
            Ok(tls) => reload.set_tls(tls),
            Err(e) => tracing::error!(error = e, "TLS certificate not reloaded"),
        }
        reload_wiring.reload(cfg);
        let (ttl, entries) = credential_limits(cfg);
        basic.cache().set_limits(ttl, entries);
        gate.reset();
        home.set_exonym(cfg.get(http::OXDISCO_EXONYM));
        modules.reload(cfg);
        tracing::info!("reloaded");
    });

    for l in &listeners {
        if let Ok(addr) = l.socket.local_addr() {
            tracing::info!(%addr, tls = l.implicit_tls, "HTTP listening");
        }
    }
    for l in &metrics_listeners {
        if let Ok(addr) = l.local_addr() {
            tracing::info!(%addr, "metrics listening (GET /metrics)");
        }
    }
    ctx.notify_ready();
    server
        .serve(
            listeners,
            metrics_listeners,
            config.get(shared::SHUTDOWN_TIMEOUT),
        )
        .await;
    wiring.close().await;
    Ok(())
}
