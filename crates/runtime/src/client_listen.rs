//! Where a client-facing daemon (imap, pop3, http) listens and with which
//! certificate: the `<proto>_listen`, `<proto>_listen_tls`,
//! `<proto>_certificate_path`, `<proto>_private_key_path` and (imap, pop3)
//! `<proto>_force_tls` keys, read the same way by every such daemon.
//!
//! A fresh install has no certificate. Then the implicit-TLS listener that
//! is only there by default (e.g. `imap_listen_tls = [::]:993`) is left out
//! with a warning, so the daemon starts in plain+STARTTLS-less mode on its
//! plain port; a `*_listen_tls` the administrator set without a certificate
//! is an error, as is `*_force_tls = yes`.

use crate::net::bind_tcp;
use groxide_config::keys::{http, imap, pop3};
use groxide_config::{BindAddr, Config, DaemonFile, Http, Imap, Key, Pop3};
use groxide_rpc::tls::{load_certs, load_key};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The `<proto>_*` keys of one mail-client protocol, all of its daemon's file `F`.
#[derive(Debug, Clone, Copy)]
pub struct ClientKeys<F: DaemonFile> {
    /// The protocol's name in key names and messages: `imap`, `pop3`.
    pub proto: &'static str,
    /// `<proto>_listen`: where the plain protocol is served.
    pub listen: Key<Vec<BindAddr>, F>,
    /// `<proto>_listen_tls`: where implicit TLS is served.
    pub listen_tls: Key<Vec<BindAddr>, F>,
    /// `<proto>_certificate_path`.
    pub certificate_path: Key<PathBuf, F>,
    /// `<proto>_private_key_path`.
    pub private_key_path: Key<PathBuf, F>,
    /// `<proto>_force_tls`, for protocols that have one (HTTP has not: its
    /// authentication decides per request whether plain HTTP may be used).
    pub force_tls: Option<Key<bool, F>>,
}

/// groxide-imap's listen and certificate keys.
pub const IMAP_KEYS: ClientKeys<Imap> = ClientKeys {
    proto: "imap",
    listen: imap::IMAP_LISTEN,
    listen_tls: imap::IMAP_LISTEN_TLS,
    certificate_path: imap::IMAP_CERTIFICATE_PATH,
    private_key_path: imap::IMAP_PRIVATE_KEY_PATH,
    force_tls: Some(imap::IMAP_FORCE_TLS),
};

/// groxide-pop3's listen and certificate keys.
pub const POP3_KEYS: ClientKeys<Pop3> = ClientKeys {
    proto: "pop3",
    listen: pop3::POP3_LISTEN,
    listen_tls: pop3::POP3_LISTEN_TLS,
    certificate_path: pop3::POP3_CERTIFICATE_PATH,
    private_key_path: pop3::POP3_PRIVATE_KEY_PATH,
    force_tls: Some(pop3::POP3_FORCE_TLS),
};

/// groxide-http's listen and certificate keys.
pub const HTTP_KEYS: ClientKeys<Http> = ClientKeys {
    proto: "http",
    listen: http::HTTP_LISTEN,
    listen_tls: http::HTTP_LISTEN_TLS,
    certificate_path: http::HTTP_CERTIFICATE_PATH,
    private_key_path: http::HTTP_PRIVATE_KEY_PATH,
    force_tls: None,
};

/// One listening socket of a client protocol.
#[derive(Debug)]
pub struct Listener {
    /// The socket.
    pub socket: TcpListener,
    /// TLS from the first byte (`*_listen_tls`, ports 993, 995 and 443).
    pub implicit_tls: bool,
}

/// What `<proto>_*` keys ask for: the server certificate and the addresses.
#[derive(Debug)]
pub struct ClientListen {
    /// The server TLS configuration; `None` when no certificate is set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Addresses, each with whether it speaks implicit TLS.
    pub binds: Vec<(SocketAddr, bool)>,
    /// What was left out and why (logged at start).
    pub warnings: Vec<String>,
}

impl ClientListen {
    /// Reads the keys of one protocol ([`IMAP_KEYS`], [`POP3_KEYS`], [`HTTP_KEYS`]). Every
    /// problem comes back at once, each naming its key.
    pub fn from_config<F: DaemonFile>(
        config: &Config<F>,
        keys: &ClientKeys<F>,
    ) -> Result<Self, Vec<String>> {
        let proto = keys.proto;
        let mut problems = Vec::new();
        let tls = server_tls(config, keys).unwrap_or_else(|e| {
            problems.push(e);
            None
        });
        let mut binds = Vec::new();
        let mut warnings = Vec::new();
        for (typed_key, implicit_tls) in [(keys.listen, false), (keys.listen_tls, true)] {
            let list = config.get(typed_key);
            let key = typed_key.name();
            if implicit_tls && tls.is_none() && !list.is_empty() {
                if !config.is_set(typed_key) {
                    warnings.push(format!(
                        "{key}: not listening on its default address: no certificate \
                         ({proto}_certificate_path, {proto}_private_key_path)"
                    ));
                } else {
                    problems.push(format!(
                        "{key} needs {proto}_certificate_path and {proto}_private_key_path \
                         (or set {key} to empty)"
                    ));
                }
                continue;
            }
            for bind in list {
                match bind {
                    BindAddr::Tcp(addr) => binds.push((addr, implicit_tls)),
                    BindAddr::Unix(p) => problems.push(format!(
                        "{key}: unix:{} — groxide-{proto} listens on TCP only",
                        p.display()
                    )),
                }
            }
        }
        if tls.is_none() && keys.force_tls.is_some_and(|key| config.get(key)) {
            problems.push(format!(
                "{proto}_force_tls = yes needs {proto}_certificate_path and {proto}_private_key_path"
            ));
        }
        if problems.is_empty() {
            Ok(Self {
                tls,
                binds,
                warnings,
            })
        } else {
            Err(problems)
        }
    }

    /// Opens every socket; the first that cannot be opened fails them all.
    pub fn bind(&self) -> std::io::Result<Vec<Listener>> {
        self.binds
            .iter()
            .map(|(addr, implicit_tls)| {
                Ok(Listener {
                    socket: bind_tcp(*addr)?,
                    implicit_tls: *implicit_tls,
                })
            })
            .collect()
    }
}

/// The server TLS configuration of one protocol, `None` when neither
/// `<proto>_certificate_path` nor `<proto>_private_key_path` is set.
pub fn server_tls<F: DaemonFile>(
    config: &Config<F>,
    keys: &ClientKeys<F>,
) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    let cert_key = keys.certificate_path.name();
    let key_key = keys.private_key_path.name();
    let cert = config.get(keys.certificate_path);
    let key = config.get(keys.private_key_path);
    if cert.as_os_str().is_empty() && key.as_os_str().is_empty() {
        return Ok(None);
    }
    if cert.as_os_str().is_empty() || key.as_os_str().is_empty() {
        return Err(format!("{cert_key} and {key_key} must be set together"));
    }
    let certs = load_certs(&cert).map_err(|e| format!("{cert_key}: {e}"))?;
    let key = load_key(&key).map_err(|e| format!("{key_key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("{cert_key}/{key_key}: {e}"))?;
    Ok(Some(Arc::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn imap(dir: &Path, text: &str) -> Config<Imap> {
        Config::from_str_for_tests(dir, "", text).expect("config").0
    }

    fn certificate(dir: &Path) -> String {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        std::fs::write(dir.join("cert.pem"), ck.cert.pem()).expect("write");
        std::fs::write(dir.join("key.pem"), ck.signing_key.serialize_pem()).expect("write");
        "imap_certificate_path = cert.pem\nimap_private_key_path = key.pem\n".into()
    }

    #[test]
    fn a_fresh_install_listens_in_plain_and_leaves_out_the_default_tls_port() {
        let dir = tempfile::tempdir().expect("tempdir");
        let listen = ClientListen::from_config(&imap(dir.path(), ""), &IMAP_KEYS).expect("valid");
        assert!(listen.tls.is_none());
        assert!(!listen.binds.is_empty());
        assert!(listen.binds.iter().all(|(_, implicit)| !implicit));
        assert_eq!(listen.warnings.len(), 1, "{:?}", listen.warnings);
        assert!(listen.warnings[0].contains("imap_listen_tls"));
    }

    #[test]
    fn an_implicit_tls_port_set_without_a_certificate_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = imap(dir.path(), "imap_listen_tls = 127.0.0.1:9993\n");
        let problems = ClientListen::from_config(&cfg, &IMAP_KEYS).expect_err("refused");
        assert!(problems[0].contains("imap_listen_tls needs imap_certificate_path"));
        let cfg = imap(dir.path(), "imap_force_tls = yes\n");
        let problems = ClientListen::from_config(&cfg, &IMAP_KEYS).expect_err("refused");
        assert!(problems.iter().any(|p| p.contains("imap_force_tls")));
    }

    #[test]
    fn with_a_certificate_both_ports_listen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = certificate(dir.path())
            + "imap_listen = 127.0.0.1:9143\nimap_listen_tls = 127.0.0.1:9993\n";
        let listen =
            ClientListen::from_config(&imap(dir.path(), &text), &IMAP_KEYS).expect("valid");
        assert!(listen.tls.is_some());
        assert!(listen.warnings.is_empty());
        let implicit: Vec<bool> = listen.binds.iter().map(|(_, i)| *i).collect();
        assert_eq!(implicit, [false, true]);
    }

    #[test]
    fn half_a_certificate_and_unix_sockets_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = imap(
            dir.path(),
            "imap_certificate_path = cert.pem\nimap_listen = unix:/run/x.sock\n",
        );
        let problems = ClientListen::from_config(&cfg, &IMAP_KEYS).expect_err("refused");
        assert!(
            problems.iter().any(|p| p.contains("must be set together")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("TCP only")),
            "{problems:?}"
        );
        let cfg = imap(
            dir.path(),
            "imap_certificate_path = nowhere.pem\nimap_private_key_path = nowhere.key\n",
        );
        let problems = ClientListen::from_config(&cfg, &IMAP_KEYS).expect_err("refused");
        assert!(
            problems[0].starts_with("imap_certificate_path:"),
            "{problems:?}"
        );
    }
}
