//! The daemon: delivery.cfg → listeners, the directory, the routed exmdb
//! client, the spool; SIGHUP reloads settings, TLS, routing and caches.

use crate::auto_reply::AutoReplies;
use crate::directory_recipients::DirectoryRecipients;
use crate::exmdb_mailboxes::ExmdbMailboxes;
use crate::meeting_mail::MeetingMail;
use crate::server::DeliveryServer;
use crate::settings::Settings;
use crate::spool::Spool;
use crate::tls::starttls_config;
use groxide_config::keys::{delivery, shared};
use groxide_config::{BindAddr, Config, Delivery};
use groxide_runtime::{Context, NodeIdentity, NodeWiring, StartError, bind_tcp};
use groxide_submit::{SubmitOptions, Submitter};
use std::path::PathBuf;
use std::sync::Arc;

/// The problems `--check-config` reports for delivery.cfg.
pub fn check_config(config: &Config<Delivery>) -> Vec<String> {
    let mut problems = Vec::new();
    for bind in config.get(delivery::LDA_LISTEN) {
        if let BindAddr::Unix(p) = bind {
            problems.push(format!(
                "lda_listen: unix:{} — groxide-delivery listens on TCP only",
                p.display()
            ));
        }
    }
    if config.get(delivery::LDA_SUPPORT_STARTTLS)
        && let Err(e) = tls_config(config)
    {
        problems.push(e);
    }
    problems
}

fn tls_config(config: &Config<Delivery>) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    if !config.get(delivery::LDA_SUPPORT_STARTTLS) {
        return Ok(None);
    }
    let cert = config.get(delivery::LDA_CERTIFICATE_PATH);
    let key = config.get(delivery::LDA_PRIVATE_KEY_PATH);
    if cert.as_os_str().is_empty() || key.as_os_str().is_empty() {
        return Err(
            "lda_support_starttls = yes needs lda_certificate_path and lda_private_key_path".into(),
        );
    }
    starttls_config(&cert, &key)
        .map(Some)
        .map_err(|e| format!("lda_certificate_path/lda_private_key_path: {e}"))
}

/// `lda_spool_path`, or `<data_path>/spool/delivery`.
/// The relay of `outgoing_smtp_url` automatic replies go through, greeting
/// with this node's host_id; `None`, with a warning, when it is unusable.
fn relay(config: &Config<Delivery>) -> Option<Arc<Submitter>> {
    let options = SubmitOptions {
        helo_name: NodeIdentity::load(config).host_id,
        ..SubmitOptions::default()
    };
    match Submitter::new(config.get(shared::OUTGOING_SMTP_URL), options) {
        Ok(s) => Some(Arc::new(s)),
        Err(e) => {
            tracing::warn!(error = %e, "outgoing_smtp_url is unusable: no automatic replies");
            None
        }
    }
}

fn spool_path(config: &Config<Delivery>) -> PathBuf {
    let p = config.get(delivery::LDA_SPOOL_PATH);
    if p.as_os_str().is_empty() {
        config.get(shared::DATA_PATH).join("spool").join("delivery")
    } else {
        p
    }
}

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context<Delivery>) -> Result<(), StartError> {
    let config = ctx.config();
    let node = NodeIdentity::load(&config);
    let settings = Settings::from_config(&config, &node.host_id);
    let tls = tls_config(&config).map_err(StartError::Config)?;
    let spool = Spool::open(&spool_path(&config)).map_err(|source| StartError::Files {
        what: "spool",
        source,
    })?;

    let wiring = Arc::new(NodeWiring::connect(&config).await?);
    let Some(directory) = wiring.directory().cloned().map(Arc::new) else {
        return Err(StartError::Directory("not connected".into()));
    };
    let exmdb = wiring.exmdb_client();
    let recipients = Arc::new(DirectoryRecipients::new(
        directory.clone(),
        config.get(delivery::LDA_RECIPIENT_DELIMITER),
        config.get(shared::DIRECTORY_CACHE_TIME),
    ));

    let mut listeners = Vec::new();
    for bind in config.get(delivery::LDA_LISTEN) {
        match bind {
            BindAddr::Tcp(addr) => listeners.push(bind_tcp(addr).map_err(StartError::Listen)?),
            BindAddr::Unix(p) => {
                return Err(StartError::Config(format!(
                    "lda_listen: unix:{} — groxide-delivery listens on TCP only",
                    p.display()
                )));
            }
        }
    }
    if listeners.is_empty() {
        tracing::warn!("lda_listen is empty: not listening anywhere");
    }
    let max_connections = config.get(delivery::LDA_MAX_CONNECTIONS);
    let drain = config.get(shared::SHUTDOWN_TIMEOUT);

    let dedup = crate::dedup::DedupDb::open(
        &config
            .get(shared::DATA_PATH)
            .join("delivery")
            .join("dedup.sqlite3"),
    )
    .map_err(|e| StartError::Config(e.to_string()))?;
    let writer = Arc::new(AutoReplies::new(
        MeetingMail::new(
            ExmdbMailboxes::new(exmdb.clone()),
            exmdb.clone(),
            config.get(delivery::LDA_MEETING_MAX_LENGTH),
        ),
        exmdb.clone(),
        relay(&config),
    ));
    let server = Arc::new(
        DeliveryServer::new(
            settings,
            recipients.clone(),
            writer.clone(),
            spool,
            tls,
            ctx.shutdown(),
        )
        .with_dedup(dedup),
    );

    let reload_server = server.clone();
    let reload_wiring = wiring.clone();
    ctx.on_reload(move |cfg| {
        let host_id = NodeIdentity::load(cfg).host_id;
        reload_server.set_settings(Settings::from_config(cfg, &host_id));
        match tls_config(cfg) {
            Ok(tls) => reload_server.set_tls(tls),
            Err(e) => tracing::error!(error = e, "STARTTLS certificate not reloaded"),
        }
        recipients.set_delimiters(cfg.get(delivery::LDA_RECIPIENT_DELIMITER));
        writer.set_relay(relay(cfg));
        writer
            .inner()
            .set_max_length(cfg.get(delivery::LDA_MEETING_MAX_LENGTH));
        // The resolutions are the directory's answers: cleared with it, first.
        recipients.clear_cache();
        reload_wiring.reload(cfg);
        tracing::info!("reloaded");
    });

    for l in &listeners {
        if let Ok(addr) = l.local_addr() {
            tracing::info!(%addr, "LMTP listening");
        }
    }
    ctx.notify_ready();
    server.serve(listeners, max_connections, drain).await;
    wiring.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn problems(delivery_cfg: &str) -> Vec<String> {
        let (cfg, _) =
            Config::<Delivery>::from_str_for_tests(Path::new("/etc/groxide"), "", delivery_cfg)
                .unwrap();
        check_config(&cfg)
    }

    #[test]
    fn check_config_names_what_cannot_work() {
        assert!(problems("").is_empty());
        let p = problems("lda_support_starttls = yes\n");
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("lda_certificate_path"), "{p:?}");
        let p = problems("lda_listen = unix:/run/groxide/lmtp.sock\n");
        assert!(p[0].contains("TCP only"), "{p:?}");
        let p = problems(
            "lda_support_starttls = yes\nlda_certificate_path = /nonexistent/c.pem\n\
             lda_private_key_path = /nonexistent/k.pem\n",
        );
        assert!(p[0].contains("/nonexistent/c.pem"), "{p:?}");
    }
}
