//! The daemon: imap.cfg → listeners, TLS, the directory, the mailbox view
//! (in-process for this node's stores, the routed midb client for others)
//! and the event hub; SIGHUP reloads settings, certificates,
//! routing and caches; SIGTERM stops accepting, says BYE and drains.

use crate::backend::services::ServiceBackend;
use crate::server::ImapServer;
use crate::settings::Settings;
use groxide_config::keys::{imap, shared};
use groxide_config::{Config, Imap};
use groxide_directory::Authenticator;
use groxide_midb::RoutedView;
use groxide_rpc::event_hub::{EventHub, HubSettings};
use groxide_rpc::midb_view::RemoteView;
use groxide_runtime::client_listen::{ClientListen, IMAP_KEYS, server_tls};
use groxide_runtime::{Context, NodeWiring, Routing, StartError};
use std::sync::Arc;

/// The TLS configuration of imap.cfg, `None` when no certificate is set.
pub fn tls_config(config: &Config<Imap>) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    server_tls(config, &IMAP_KEYS)
}

/// The problems `--check-config` reports for imap.cfg.
pub fn check_config(config: &Config<Imap>) -> Vec<String> {
    let mut problems = ClientListen::from_config(config, &IMAP_KEYS)
        .err()
        .unwrap_or_default();
    problems.extend(Routing::check(config));
    problems
}

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context<Imap>) -> Result<(), StartError> {
    let config = ctx.config();
    let problems = check_config(&config);
    if !problems.is_empty() {
        return Err(StartError::Config(problems.join("; ")));
    }
    let listen = ClientListen::from_config(&config, &IMAP_KEYS)
        .map_err(|problems| StartError::Config(problems.join("; ")))?;
    for warning in &listen.warnings {
        tracing::warn!("{warning}");
    }
    let settings = Settings::from_config(&config);
    let tls = listen.tls.clone();

    let wiring = Arc::new(NodeWiring::connect(&config).await?);
    let Some(directory) = wiring.directory().cloned() else {
        return Err(StartError::Directory("not connected".into()));
    };
    let routing = wiring.routing().clone();
    let options = wiring.client_options().clone();
    let auth = Arc::new(Authenticator::for_daemon(
        directory.clone(),
        &config,
        imap::IMAP_AUTH_TIMES,
        imap::BLOCK_INTERVAL_AUTHS,
    ));
    let midb = wiring.midb_client();
    let exmdb = wiring.exmdb_client();
    // Stores homed on this node are read in-process (their files are here;
    // writes go to this node's exmdb); others through their node's midb.
    let local = groxide_midb::local_view(
        exmdb.clone(),
        Arc::new(groxide_midb::feed::NoFeed),
        groxide_midb::Settings::default(),
    );
    local.spawn_idle_sweeper(ctx.shutdown());
    let view = Arc::new(RoutedView::new(
        local,
        RemoteView::new(midb.clone()),
        routing.midb().clone(),
        config.get(groxide_config::keys::shared::LOCAL_MAILBOX_VIEW),
    ));
    let events = EventHub::new(routing.clone(), options, HubSettings::default());
    let reset_events = events.clone();
    wiring.on_reload(move || reset_events.reset());
    let backend = ServiceBackend::new(auth, view, events.clone());

    let listeners = listen.bind().map_err(StartError::Listen)?;
    if listeners.is_empty() {
        tracing::warn!("imap_listen and imap_listen_tls are empty: not listening anywhere");
    }
    let drain = config.get(shared::SHUTDOWN_TIMEOUT);
    let server = ImapServer::new(backend, settings, tls, ctx.shutdown());

    let reload = server.clone();
    let reload_wiring = wiring.clone();
    ctx.on_reload(move |cfg| {
        reload.set_settings(Settings::from_config(cfg));
        match tls_config(cfg) {
            Ok(tls) => reload.set_tls(tls),
            Err(e) => tracing::error!(error = e, "TLS certificate not reloaded"),
        }
        reload_wiring.reload(cfg);
        tracing::info!("reloaded");
    });

    for l in &listeners {
        if let Ok(addr) = l.socket.local_addr() {
            tracing::info!(%addr, implicit_tls = l.implicit_tls, "IMAP listening");
        }
    }
    ctx.notify_ready();
    server.serve(listeners, drain).await;
    wiring.close().await;
    Ok(())
}
