//! The server: shared state of all sessions (backend, settings, TLS,
//! connection counts, shutdown), admission of new connections, and the
//! accept loops with a bounded drain on shutdown.

use crate::admission::{Admission, Refusal};
use crate::backend::Backend;
use crate::conn::BoxedIo;
use crate::session::Session;
use crate::settings::Settings;
use groxide_runtime::accept::Accepted;
pub use groxide_runtime::client_listen::Listener;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// Everything sessions share.
pub struct ImapServer<B: Backend> {
    backend: B,
    settings: RwLock<Arc<Settings>>,
    tls: RwLock<Option<TlsAcceptor>>,
    admission: Admission,
    shutdown: CancellationToken,
}

impl<B: Backend> std::fmt::Debug for ImapServer<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapServer")
            .field("connections", &self.admission.connections())
            .finish_non_exhaustive()
    }
}

impl<B: Backend> ImapServer<B> {
    /// A server over `backend`. `tls` enables STARTTLS and implicit TLS;
    /// cancelling `shutdown` stops the accept loops and ends sessions with BYE.
    pub fn new(
        backend: B,
        settings: Settings,
        tls: Option<Arc<rustls::ServerConfig>>,
        shutdown: CancellationToken,
    ) -> Arc<ImapServer<B>> {
        Arc::new(ImapServer {
            backend,
            settings: RwLock::new(Arc::new(settings)),
            tls: RwLock::new(tls.map(TlsAcceptor::from)),
            admission: Admission::default(),
            shutdown,
        })
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Replaces the settings (SIGHUP): new commands and connections use them.
    pub fn set_settings(&self, settings: Settings) {
        match self.settings.write() {
            Ok(mut s) => *s = Arc::new(settings),
            Err(p) => *p.into_inner() = Arc::new(settings),
        }
    }

    /// Replaces the TLS configuration (SIGHUP: new certificates).
    pub fn set_tls(&self, tls: Option<Arc<rustls::ServerConfig>>) {
        let acceptor = tls.map(TlsAcceptor::from);
        match self.tls.write() {
            Ok(mut t) => *t = acceptor,
            Err(p) => *p.into_inner() = acceptor,
        }
    }

    /// Whether TLS is configured.
    pub fn has_tls(&self) -> bool {
        self.tls_acceptor().is_some()
    }

    /// The TLS acceptor, when TLS is configured.
    pub fn tls_acceptor(&self) -> Option<TlsAcceptor> {
        self.tls
            .read()
            .map(|t| t.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The connection counters.
    pub fn admission(&self) -> &Admission {
        &self.admission
    }

    /// Sessions running now.
    pub fn connections(&self) -> u32 {
        self.admission.connections()
    }

    /// Cancelled at shutdown.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves one connection to its end. With `implicit_tls` the TLS
    /// handshake comes first. Connections over the limits get
    /// `* BYE [UNAVAILABLE]` and are closed.
    pub async fn serve_connection<S>(&self, stream: S, peer: SocketAddr, implicit_tls: bool)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let settings = self.settings();
        let slot = match self.admission.connect(peer.ip(), &settings.limits()) {
            Ok(slot) => slot,
            Err(refusal) => {
                tracing::info!(peer = %peer, "connection refused: {refusal}");
                refuse(
                    stream,
                    peer,
                    refusal,
                    implicit_tls.then(|| self.tls_acceptor()).flatten(),
                    &settings,
                )
                .await;
                return;
            }
        };
        let (io, tls): (BoxedIo, bool) = if implicit_tls {
            let Some(acceptor) = self.tls_acceptor() else {
                tracing::warn!(peer = %peer, "implicit-TLS connection but no certificate loaded");
                return;
            };
            match tokio::time::timeout(settings.conn_timeout, acceptor.accept(stream)).await {
                Ok(Ok(s)) => (Box::new(s), true),
                Ok(Err(e)) => {
                    tracing::debug!(peer = %peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(peer = %peer, "TLS handshake timed out");
                    return;
                }
            }
        } else {
            (Box::new(stream), false)
        };
        Session::new(self, io, peer, tls, slot).run().await;
    }

    /// Accepts on every listener until shutdown, then waits up to `drain`
    /// for the sessions (each has been sent `* BYE`).
    pub async fn serve(self: Arc<Self>, listeners: Vec<Listener>, drain: Duration) {
        let server = self.clone();
        let drained = groxide_runtime::accept::serve(
            listeners,
            None,
            self.shutdown.clone(),
            drain,
            move |a: Accepted| {
                let server = server.clone();
                async move {
                    server
                        .serve_connection(a.stream, a.peer, a.implicit_tls)
                        .await;
                }
            },
        )
        .await;
        if !drained {
            tracing::warn!(
                ?drain,
                open = self.connections(),
                "sessions still open after the drain bound"
            );
        }
    }
}

/// Tells a refused client why and closes.
async fn refuse<S>(
    stream: S,
    peer: SocketAddr,
    refusal: Refusal,
    tls: Option<TlsAcceptor>,
    settings: &Settings,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let line = format!("* BYE [UNAVAILABLE] {refusal}\r\n");
    let write = async {
        match tls {
            Some(acceptor) => {
                let mut s = acceptor.accept(stream).await?;
                s.write_all(line.as_bytes()).await?;
                s.shutdown().await
            }
            None => {
                let mut s = stream;
                s.write_all(line.as_bytes()).await?;
                s.shutdown().await
            }
        }
    };
    if let Ok(Err(e)) =
        tokio::time::timeout(settings.conn_timeout.min(Duration::from_secs(10)), write).await
    {
        tracing::debug!(peer = %peer, error = %e, "could not send the refusal");
    }
}
