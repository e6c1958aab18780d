//! The daemon: imap.cfg → listeners, TLS, the directory, the routed midb
//! client and the event hub; SIGHUP reloads settings, certificates,
//! routing and caches; SIGTERM stops accepting, says BYE and drains.

use crate::backend::events::EventHub;
use crate::backend::services::ServiceBackend;
use crate::server::{ImapServer, Listener};
use crate::settings::Settings;
use groxide_config::{BindAddr, Config, schema};
use groxide_directory::{
    Authenticator, Directory, DirectorySettings, LoginThrottle, SystemClock, ThrottlePolicy,
};
use groxide_routing::HomeserverLookup;
use groxide_rpc::RoutedClient;
use groxide_rpc::tls::{load_certs, load_key};
use groxide_runtime::{Context, Routing, bind_tcp, client_options};
use std::sync::Arc;

/// Why the daemon could not start; each names the key or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A config value cannot be used.
    #[error("{0}")]
    Config(String),
    /// The directory could not be opened.
    #[error("user directory: {0}")]
    Directory(String),
    /// A listening socket could not be opened.
    #[error("{0}")]
    Listen(std::io::Error),
}

/// The TLS configuration of imap.cfg, `None` when no certificate is set.
pub fn tls_config(config: &Config) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    let cert = config.path("imap_certificate_path");
    let key = config.path("imap_private_key_path");
    if cert.as_os_str().is_empty() && key.as_os_str().is_empty() {
        return Ok(None);
    }
    if cert.as_os_str().is_empty() || key.as_os_str().is_empty() {
        return Err("imap_certificate_path and imap_private_key_path must be set together".into());
    }
    let certs = load_certs(&cert).map_err(|e| format!("imap_certificate_path: {e}"))?;
    let key = load_key(&key).map_err(|e| format!("imap_private_key_path: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("imap_certificate_path/imap_private_key_path: {e}"))?;
    Ok(Some(Arc::new(cfg)))
}

/// The problems `--check-config` reports for imap.cfg.
pub fn check_config(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    let tls = match tls_config(config) {
        Ok(t) => t,
        Err(e) => {
            problems.push(e);
            None
        }
    };
    for key in ["imap_listen", "imap_listen_tls"] {
        for bind in config.bind_list(key) {
            if let BindAddr::Unix(p) = bind {
                problems.push(format!(
                    "{key}: unix:{} — groxide-imap listens on TCP only",
                    p.display()
                ));
            }
        }
    }
    if tls.is_none() && !config.bind_list("imap_listen_tls").is_empty() {
        problems.push(
            "imap_listen_tls needs imap_certificate_path and imap_private_key_path (or set imap_listen_tls to empty)".into(),
        );
    }
    if tls.is_none() && config.bool("imap_force_tls") {
        problems.push(
            "imap_force_tls = yes needs imap_certificate_path and imap_private_key_path".into(),
        );
    }
    problems.extend(Routing::check(config));
    problems
}

async fn open_directory(config: &Config) -> Result<Directory, StartError> {
    let (adaptor, _) = Config::load(config.dir(), &schema::MYSQL_ADAPTOR)
        .map_err(|e| StartError::Config(e.to_string()))?;
    let settings =
        DirectorySettings::from_config(&adaptor).map_err(|e| StartError::Config(e.to_string()))?;
    Directory::connect(&settings)
        .await
        .map_err(|e| StartError::Directory(e.to_string()))
}

fn listeners(config: &Config) -> Result<Vec<Listener>, StartError> {
    let mut out = Vec::new();
    for (key, implicit_tls) in [("imap_listen", false), ("imap_listen_tls", true)] {
        for bind in config.bind_list(key) {
            match bind {
                BindAddr::Tcp(addr) => out.push(Listener {
                    socket: bind_tcp(addr).map_err(StartError::Listen)?,
                    implicit_tls,
                }),
                BindAddr::Unix(p) => {
                    return Err(StartError::Config(format!(
                        "{key}: unix:{} — groxide-imap listens on TCP only",
                        p.display()
                    )));
                }
            }
        }
    }
    Ok(out)
}

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context) -> Result<(), StartError> {
    let config = ctx.config();
    let problems = check_config(&config);
    if !problems.is_empty() {
        return Err(StartError::Config(problems.join("; ")));
    }
    let settings = Settings::from_config(&config);
    let tls = tls_config(&config).map_err(StartError::Config)?;

    let directory = open_directory(&config).await?;
    let lookup: Arc<dyn HomeserverLookup> = Arc::new(directory.clone());
    let throttle = LoginThrottle::new(
        ThrottlePolicy::from_config(&config, "imap_auth_times"),
        Arc::new(SystemClock),
    );
    let auth = Arc::new(Authenticator::new(directory.clone(), throttle));
    let routing = Arc::new(Routing::load(&config, Some(lookup)).map_err(StartError::Config)?);
    let options = client_options(&config, routing.node()).map_err(StartError::Config)?;
    let midb = Arc::new(RoutedClient::new(
        "midb",
        routing.midb().clone(),
        options.clone(),
    ));
    let events = EventHub::new(routing.clone(), options);
    let backend = ServiceBackend::new(auth, midb.clone(), events.clone());

    let listeners = listeners(&config)?;
    if listeners.is_empty() {
        tracing::warn!("imap_listen and imap_listen_tls are empty: not listening anywhere");
    }
    let drain = config.duration("shutdown_timeout");
    let server = ImapServer::new(backend, settings, tls, ctx.shutdown());

    let reload = server.clone();
    let reload_directory = directory.clone();
    ctx.on_reload(move |cfg| {
        reload.set_settings(Settings::from_config(cfg));
        match tls_config(cfg) {
            Ok(tls) => reload.set_tls(tls),
            Err(e) => tracing::error!(error = e, "TLS certificate not reloaded"),
        }
        reload_directory.clear_cache();
        if let Err(e) = routing.reload(cfg) {
            tracing::error!(error = e, "routing lists not reloaded");
        }
        midb.reset();
        events.reset();
        tracing::info!("reloaded");
    });

    for l in &listeners {
        if let Ok(addr) = l.socket.local_addr() {
            tracing::info!(%addr, implicit_tls = l.implicit_tls, "IMAP listening");
        }
    }
    ctx.notify_ready();
    server.serve(listeners, drain).await;
    directory.close().await;
    Ok(())
}
