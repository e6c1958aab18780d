//! groxide-pop3: the POP3 server (RFC 1939, CAPA RFC 2449, STLS RFC 2595,
//! SASL PLAIN RFC 5034, response codes RFC 2449/RFC 3206).
//!
//! INBOX only, read through groxide-midb wherever the mailbox lives; logins
//! through the user directory. The session ([`session`]) is generic over its
//! stream and over [`maildrop::Backend`], so it runs in memory in tests.
//!
//! Invariants: the message list is the snapshot taken at login; deletions
//! are applied only at QUIT in the UPDATE state, in one midb Expunge; a
//! dropped or timed-out connection deletes nothing. UIDL is
//! `<UIDVALIDITY>.<UID>` from the store, stable across sessions, restarts
//! and midb.sqlite3 rebuilds. Not implemented: APOP, maildrop locking
//! (`[IN-USE]` is never sent: concurrent sessions are safe because deleting
//! an already deleted UID is a no-op).

pub mod command;
pub mod directory_backend;
pub mod dot;
pub mod maildrop;
pub mod sasl;
pub mod server;
pub mod session;
pub mod view_maildrop;

use directory_backend::DirectoryBackend;
use groxide_config::keys::{pop3, shared};
use groxide_config::{Config, Pop3};
use groxide_directory::Authenticator;
use groxide_midb::RoutedView;
use groxide_rpc::midb_view::RemoteView;
pub use groxide_runtime::StartError;
use groxide_runtime::client_listen::{ClientListen, POP3_KEYS, server_tls};
use groxide_runtime::{Context, NodeWiring, Routing};
use server::Pop3Server;
use session::SessionConfig;
use std::sync::Arc;

/// The TLS configuration of pop3.cfg, `None` when no certificate is set.
pub fn tls_config(config: &Config<Pop3>) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    server_tls(config, &POP3_KEYS)
}

/// Session settings from pop3.cfg.
pub fn session_config(config: &Config<Pop3>) -> SessionConfig {
    SessionConfig {
        greeting: "groxide POP3 server ready".into(),
        stls_offered: false,
        force_tls: config.get(pop3::POP3_FORCE_TLS),
        idle_timeout: config.get(pop3::POP3_CONN_TIMEOUT),
        max_line: usize::try_from(config.get(pop3::POP3_MAX_LINE_LENGTH))
            .unwrap_or(usize::MAX)
            .max(64),
        max_errors: config.get(pop3::POP3_MAX_ERRORS),
        limits: groxide_runtime::admission::Limits {
            max_total: u32::try_from(config.get(pop3::CONTEXT_NUM)).unwrap_or(u32::MAX),
            max_per_ip: config.get(pop3::POP3_MAX_CONNECTIONS_PER_IP),
            max_unauth: config.get(pop3::POP3_MAX_UNAUTH_CONNECTIONS),
            max_unauth_per_ip: config.get(pop3::POP3_MAX_UNAUTH_CONNECTIONS_PER_IP),
            login_timeout: config.get(pop3::POP3_LOGIN_TIMEOUT),
        },
    }
}

/// The problems `--check-config` reports for pop3.cfg.
pub fn check_config(config: &Config<Pop3>) -> Vec<String> {
    let mut problems = ClientListen::from_config(config, &POP3_KEYS)
        .err()
        .unwrap_or_default();
    problems.extend(Routing::check(config));
    problems
}

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context<Pop3>) -> Result<(), StartError> {
    let config = ctx.config();
    let problems = check_config(&config);
    if !problems.is_empty() {
        return Err(StartError::Config(problems.join("; ")));
    }
    let listen = ClientListen::from_config(&config, &POP3_KEYS)
        .map_err(|problems| StartError::Config(problems.join("; ")))?;
    for warning in &listen.warnings {
        tracing::warn!("{warning}");
    }
    let tls = listen.tls.clone();
    let wiring = Arc::new(NodeWiring::connect(&config).await?);
    let Some(directory) = wiring.directory().cloned() else {
        return Err(StartError::Directory("not connected".into()));
    };
    let routing = wiring.routing().clone();
    let auth = Arc::new(Authenticator::for_daemon(
        directory.clone(),
        &config,
        pop3::POP3_AUTH_TIMES,
        pop3::BLOCK_INTERVAL_AUTHS,
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
    let backend = DirectoryBackend::new(auth, view);

    let listeners = listen.bind().map_err(StartError::Listen)?;
    if listeners.is_empty() {
        tracing::warn!("pop3_listen and pop3_listen_tls are empty: not listening anywhere");
    }
    let server = Pop3Server::new(
        backend,
        session_config(&config),
        config.get(pop3::POP3_SUPPORT_STLS),
        tls,
        ctx.shutdown(),
    );
    let reload = server.clone();
    let reload_wiring = wiring.clone();
    ctx.on_reload(move |cfg| {
        reload.set_settings(session_config(cfg), cfg.get(pop3::POP3_SUPPORT_STLS));
        match tls_config(cfg) {
            Ok(tls) => reload.set_tls(tls),
            Err(e) => tracing::error!(error = e, "TLS certificate not reloaded"),
        }
        reload_wiring.reload(cfg);
        tracing::info!("reloaded");
    });
    for l in &listeners {
        if let Ok(addr) = l.socket.local_addr() {
            tracing::info!(%addr, implicit_tls = l.implicit_tls, "POP3 listening");
        }
    }
    ctx.notify_ready();
    server
        .serve(listeners, config.get(shared::SHUTDOWN_TIMEOUT))
        .await;
    wiring.close().await;
    Ok(())
}
