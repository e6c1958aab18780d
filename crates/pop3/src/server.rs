//! Listeners: plain POP3 (with STLS) and implicit TLS, connections admitted
//! by the runtime's [`Admission`] (`context_num`, per address, and the
//! smaller limits of connections not logged in, which must log in within
//! `pop3_login_timeout`), TLS and settings swapped on SIGHUP, and a
//! bounded drain on shutdown (a session cut off deletes nothing).

use crate::maildrop::Backend;
use crate::session::{self, LoginGate, Outcome, SessionConfig};
use groxide_runtime::accept::Accepted;
use groxide_runtime::admission::Admission;
pub use groxide_runtime::client_listen::Listener;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Time a client has to complete a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

struct Shared<B> {
    backend: B,
    settings: Mutex<Arc<SessionConfig>>,
    support_stls: Mutex<bool>,
    tls: Mutex<Option<Arc<rustls::ServerConfig>>>,
    admission: Admission,
    shutdown: CancellationToken,
}

/// The POP3 server. Cheap to clone.
pub struct Pop3Server<B> {
    shared: Arc<Shared<B>>,
}

impl<B> Clone for Pop3Server<B> {
    fn clone(&self) -> Self {
        Pop3Server {
            shared: self.shared.clone(),
        }
    }
}

fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl<B: Backend + 'static> Pop3Server<B> {
    /// A server of `backend`. `support_stls`: offer STLS when TLS is configured.
    pub fn new(
        backend: B,
        settings: SessionConfig,
        support_stls: bool,
        tls: Option<Arc<rustls::ServerConfig>>,
        shutdown: CancellationToken,
    ) -> Pop3Server<B> {
        Pop3Server {
            shared: Arc::new(Shared {
                backend,
                settings: Mutex::new(Arc::new(settings)),
                support_stls: Mutex::new(support_stls),
                tls: Mutex::new(tls),
                admission: Admission::default(),
                shutdown,
            }),
        }
    }

    /// New settings for new sessions (SIGHUP).
    pub fn set_settings(&self, settings: SessionConfig, support_stls: bool) {
        *self
            .shared
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(settings);
        *self
            .shared
            .support_stls
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = support_stls;
    }

    /// A new certificate for new sessions (SIGHUP).
    pub fn set_tls(&self, tls: Option<Arc<rustls::ServerConfig>>) {
        *self.shared.tls.lock().unwrap_or_else(|p| p.into_inner()) = tls;
    }

    fn tls(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.shared
            .tls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn settings(&self, tls: bool) -> SessionConfig {
        let base = self
            .shared
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let stls = *self
            .shared
            .support_stls
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        SessionConfig {
            stls_offered: stls && tls,
            ..(*base).clone()
        }
    }

    /// Accepts on every listener until shutdown, then waits up to `drain`
    /// for open sessions.
    pub async fn serve(&self, listeners: Vec<Listener>, drain: Duration) {
        let server = self.clone();
        let drained = groxide_runtime::accept::serve(
            listeners,
            None,
            self.shared.shutdown.clone(),
            drain,
            move |a: Accepted| {
                let server = server.clone();
                async move { server.connection(a.stream, a.peer, a.implicit_tls).await }
            },
        )
        .await;
        if !drained {
            tracing::info!(
                "sessions still open after the drain time; they are cut off (nothing is deleted)"
            );
        }
    }

    async fn connection(&self, mut stream: TcpStream, addr: SocketAddr, implicit_tls: bool) {
        let peer = unmapped(addr.ip());
        let tls = self.tls();
        let settings = self.settings(tls.is_some());
        let slot = match self.shared.admission.connect(peer, &settings.limits) {
            Ok(slot) => slot,
            Err(refusal) => {
                tracing::info!(%peer, "refusing a connection: {refusal}");
                let line = format!("-ERR [SYS/TEMP] {refusal}\r\n");
                // Implicit TLS clients would not read a plain line; they are just closed.
                if !implicit_tls {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(5),
                        stream.write_all(line.as_bytes()),
                    )
                    .await;
                }
                return;
            }
        };
        let mut gate = LoginGate::new(slot, settings.limits.login_timeout);
        if implicit_tls {
            let Some(tls) = tls else {
                tracing::warn!(%peer, "implicit TLS connection but no certificate is configured");
                return;
            };
            let Some(tls_stream) = handshake(tls, stream, peer).await else {
                return;
            };
            session::run(
                tls_stream,
                peer,
                true,
                true,
                &self.shared.backend,
                &settings,
                &mut gate,
            )
            .await;
            return;
        }
        match session::run(
            stream,
            peer,
            false,
            true,
            &self.shared.backend,
            &settings,
            &mut gate,
        )
        .await
        {
            Outcome::Closed => {}
            Outcome::StartTls(plain) => {
                let Some(tls) = tls else { return };
                let Some(tls_stream) = handshake(tls, plain, peer).await else {
                    return;
                };
                session::run(
                    tls_stream,
                    peer,
                    true,
                    false,
                    &self.shared.backend,
                    &settings,
                    &mut gate,
                )
                .await;
            }
        }
    }
}

async fn handshake(
    tls: Arc<rustls::ServerConfig>,
    stream: TcpStream,
    peer: IpAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}
