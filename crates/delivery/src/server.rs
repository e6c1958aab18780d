//! The delivery server: its settings and collaborators, one session per
//! connection (over any stream), STARTTLS, and the accept loops.

use crate::mailbox_writer::MailboxWriter;
use crate::recipient::RecipientResolver;
use crate::session::{Conn, Session, SessionEnd};
use crate::settings::Settings;
use crate::spool::Spool;
use groxide_runtime::accept::Accepted;
use groxide_runtime::client_listen::Listener;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// A delivery server: settings, a recipient resolver, a mailbox writer, the
/// spool and (optionally) TLS.
pub struct DeliveryServer<R, W> {
    settings: RwLock<Arc<Settings>>,
    resolver: R,
    writer: W,
    spool: Spool,
    tls: RwLock<Option<tokio_rustls::TlsAcceptor>>,
    shutdown: CancellationToken,
    dedup: Option<crate::dedup::DedupDb>,
}

impl<R: RecipientResolver, W: MailboxWriter> DeliveryServer<R, W> {
    /// A server. `tls` enables STARTTLS; `shutdown` ends idle sessions with
    /// 421 and stops the accept loops.
    pub fn new(
        settings: Settings,
        resolver: R,
        writer: W,
        spool: Spool,
        tls: Option<Arc<rustls::ServerConfig>>,
        shutdown: CancellationToken,
    ) -> DeliveryServer<R, W> {
        DeliveryServer {
            settings: RwLock::new(Arc::new(settings)),
            resolver,
            writer,
            spool,
            tls: RwLock::new(tls.map(tokio_rustls::TlsAcceptor::from)),
            shutdown,
            dedup: None,
        }
    }

    /// Remembers deliveries in `db` so retried messages are not stored
    /// twice (while `lmtp_dedup_window` is not zero).
    pub fn with_dedup(mut self, db: crate::dedup::DedupDb) -> Self {
        self.dedup = Some(db);
        self
    }

    /// The duplicate database, when there is one.
    pub fn dedup(&self) -> Option<&crate::dedup::DedupDb> {
        self.dedup.as_ref()
    }

    /// The current settings (a session keeps the ones it started with).
    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// New settings for new sessions (SIGHUP).
    pub fn set_settings(&self, settings: Settings) {
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(settings);
    }

    /// New STARTTLS certificate (SIGHUP); `None` stops offering STARTTLS.
    pub fn set_tls(&self, tls: Option<Arc<rustls::ServerConfig>>) {
        *self.tls.write().unwrap_or_else(PoisonError::into_inner) =
            tls.map(tokio_rustls::TlsAcceptor::from);
    }

    fn tls_acceptor(&self) -> Option<tokio_rustls::TlsAcceptor> {
        self.tls
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The recipient resolver.
    pub fn resolver(&self) -> &R {
        &self.resolver
    }

    /// The mailbox writer.
    pub fn writer(&self) -> &W {
        &self.writer
    }

    /// The spool.
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// Whether STARTTLS is offered.
    pub fn offers_tls(&self) -> bool {
        self.tls_acceptor().is_some()
    }

    /// The shutdown token.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Serves one connection to its end: greeting, commands, and after
    /// STARTTLS a fresh session over TLS.
    pub async fn serve_connection<S>(&self, stream: S, peer: SocketAddr)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let idle = self.settings().limits.idle_timeout;
        let mut conn = Conn::new(stream, idle);
        let mut session = Session::new(self, peer, false);
        conn.reply(&session.banner());
        match session.run(&mut conn).await {
            SessionEnd::Closed => {}
            SessionEnd::StartTls => {
                let Some(acceptor) = self.tls_acceptor() else {
                    return;
                };
                let stream = conn.into_stream();
                let handshake = tokio::time::timeout(idle, acceptor.accept(stream)).await;
                let tls_stream = match handshake {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::info!(peer = %peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::info!(peer = %peer, "TLS handshake timed out");
                        return;
                    }
                };
                // RFC 3207: after TLS the session starts over (no greeting).
                let mut conn = Conn::new(tls_stream, idle);
                let mut session = Session::new(self, peer, true);
                session.run(&mut conn).await;
            }
        }
    }
}

impl<R: RecipientResolver, W: MailboxWriter> DeliveryServer<R, W> {
    /// Accepts connections on every listener until shutdown, at most
    /// `max_connections` served at once; then waits up to `drain` for open
    /// sessions (idle ones get 421 at once; busy ones finish their
    /// transaction).
    pub async fn serve(
        self: Arc<Self>,
        listeners: Vec<TcpListener>,
        max_connections: usize,
        drain: Duration,
    ) {
        let listeners = listeners
            .into_iter()
            .map(|socket| Listener {
                socket,
                implicit_tls: false,
            })
            .collect();
        let server = self.clone();
        let drained = groxide_runtime::accept::serve(
            listeners,
            Some(Arc::new(Semaphore::new(max_connections.max(1)))),
            self.shutdown.clone(),
            drain,
            move |a: Accepted| {
                let server = server.clone();
                async move {
                    server.serve_connection(a.stream, a.peer).await;
                    drop(a.permit);
                }
            },
        )
        .await;
        if !drained {
            tracing::warn!(?drain, "sessions still open after the drain bound");
        }
    }
}
