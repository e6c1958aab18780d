//! One gRPC server for every RPC daemon: it binds nothing itself (the daemon
//! hands it listeners), checks the peer against the service's access list at
//! accept time and before every request, serves gRPC health and reflection next
//! to the daemon's own services, optionally speaks TLS, and drains on shutdown.
//!
//! A refused peer is not simply reset: its connection is served by a guard that
//! answers every request with PERMISSION_DENIED (so the caller sees why) and
//! then closes the connection. No request of a refused peer reaches a service.

use crate::acl::AccessList;
use crate::reason::{self, Reason};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::body::Body;
use tonic::service::Routes;
use tonic::transport::server::TcpConnectInfo;
use tower::ServiceExt;
use tracing::{debug, info, warn};

/// How long a TLS handshake may take before the connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a refused peer's connection stays open to read its PERMISSION_DENIED.
const REFUSED_LINGER: Duration = Duration::from_secs(5);

/// Errors that stop a server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Accepting on a listener failed in a way that cannot be retried.
    #[error("{service}: accept failed on {listener}: {source}")]
    Accept {
        /// Service name, e.g. `exmdb`.
        service: &'static str,
        /// The listener's address.
        listener: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A socket a server accepts connections on.
pub enum Listener {
    /// TCP: peers are checked against the access list.
    Tcp(TcpListener),
    /// A unix socket: access is controlled by the socket file's mode, so the
    /// access list does not apply.
    Unix(UnixListener, PathBuf),
}

impl Listener {
    fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "tcp".into()),
            Listener::Unix(_, p) => format!("unix:{}", p.display()),
        }
    }
}

/// Builder and runner of one daemon's gRPC server.
pub struct RpcServer {
    service: &'static str,
    acl: AccessList,
    tls: Option<tokio_rustls::TlsAcceptor>,
    health: tonic_health::server::HealthReporter,
    routes: Routes,
    drain_timeout: Duration,
}

impl RpcServer {
    /// A server for `service` (used in logs) guarded by `acl`, with gRPC
    /// health and reflection already added.
    pub fn new(service: &'static str, acl: AccessList) -> RpcServer {
        let (health, health_service) = tonic_health::server::health_reporter();
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1();
        let mut routes = Routes::new(health_service);
        match reflection {
            Ok(r) => routes = routes.add_service(r),
            // The descriptor set is compiled in; failing here is a build bug, and
            // the server still works without reflection.
            Err(e) => warn!(service, error = %e, "gRPC reflection unavailable"),
        }
        RpcServer {
            service,
            acl,
            tls: None,
            health,
            routes,
            drain_timeout: Duration::from_secs(15),
        }
    }

    /// Serves TLS with this configuration (see [`crate::tls`]).
    pub fn with_tls(mut self, config: Arc<rustls::ServerConfig>) -> RpcServer {
        self.tls = Some(tokio_rustls::TlsAcceptor::from(config));
        self
    }

    /// How long in-flight requests may run after shutdown begins.
    pub fn with_drain_timeout(mut self, timeout: Duration) -> RpcServer {
        self.drain_timeout = timeout;
        self
    }

    /// Adds one gRPC service (a generated `…Server<T>`).
    pub fn add_service<S>(mut self, svc: S) -> RpcServer
    where
        S: tower::Service<http::Request<Body>, Error = Infallible>
            + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.routes = self.routes.add_service(svc);
        self
    }

    /// The health reporter, to mark services serving or not.
    pub fn health(&self) -> tonic_health::server::HealthReporter {
        self.health.clone()
    }

    /// Accepts on every listener until `shutdown` is cancelled, then stops
    /// accepting, lets in-flight requests finish within the drain timeout and
    /// returns.
    pub async fn serve(
        self,
        listeners: Vec<Listener>,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        let shared = Arc::new(Shared {
            service: self.service,
            acl: self.acl,
            tls: self.tls,
            routes: self.routes.prepare(),
            drain_timeout: self.drain_timeout,
        });
        let tracker = TaskTracker::new();
        let mut accept_loops = tokio::task::JoinSet::new();
        for listener in listeners {
            info!(service = shared.service, listen = %listener.describe(), "listening");
            let shared = shared.clone();
            let tracker = tracker.clone();
            let shutdown = shutdown.clone();
            accept_loops.spawn(accept_loop(listener, shared, tracker, shutdown));
        }
        let mut result = Ok(());
        while let Some(joined) = accept_loops.join_next().await {
            if let Ok(Err(e)) = joined {
                // One broken listener stops the whole server: a daemon that
                // silently stopped listening somewhere is worse than one that exits.
                shutdown.cancel();
                result = Err(e);
            }
        }
        tracker.close();
        if tokio::time::timeout(shared.drain_timeout, tracker.wait())
            .await
            .is_err()
        {
            warn!(
                service = shared.service,
                "drain timeout reached; closing remaining connections"
            );
        }
        result
    }
}

struct Shared {
    service: &'static str,
    acl: AccessList,
    tls: Option<tokio_rustls::TlsAcceptor>,
    routes: Routes,
    drain_timeout: Duration,
}

async fn accept_loop(
    listener: Listener,
    shared: Arc<Shared>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let name = listener.describe();
    loop {
        match &listener {
            Listener::Tcp(l) => {
                let accepted = tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    a = l.accept() => a,
                };
                match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let local = stream.local_addr().ok();
                        let shared = shared.clone();
                        let shutdown = shutdown.clone();
                        tracker.spawn(async move {
                            connection(stream, Some(peer), local, shared, shutdown).await;
                        });
                    }
                    Err(e) if is_transient(&e) => {
                        warn!(service = shared.service, listen = %name, error = %e, "accept failed; retrying");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(source) => {
                        return Err(ServeError::Accept {
                            service: shared.service,
                            listener: name,
                            source,
                        });
                    }
                }
            }
            Listener::Unix(l, _) => {
                let accepted = tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    a = l.accept() => a,
                };
                match accepted {
                    Ok((stream, _)) => {
                        let shared = shared.clone();
                        let shutdown = shutdown.clone();
                        tracker.spawn(async move {
                            serve_io(stream, None, None, true, shared, shutdown).await;
                        });
                    }
                    Err(e) if is_transient(&e) => {
                        warn!(service = shared.service, listen = %name, error = %e, "accept failed; retrying");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(source) => {
                        return Err(ServeError::Accept {
                            service: shared.service,
                            listener: name,
                            source,
                        });
                    }
                }
            }
        }
    }
}

fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    // EMFILE/ENFILE and aborted handshakes must not kill the listener.
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | OutOfMemory
    ) || matches!(e.raw_os_error(), Some(23) | Some(24))
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let peer_ip = peer.map(|p| canonical_ip(p.ip()));
    let allowed = shared.acl.allows(peer_ip);
    if !allowed {
        warn!(
            service = shared.service,
            peer = %display_peer(peer_ip),
            key = shared.acl.key(),
            allowed = %shared.acl.describe(),
            "refused connection: peer is not in {}",
            shared.acl.key()
        );
    }
    match &shared.tls {
        Some(acceptor) => {
            let handshake =
                tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
            match handshake {
                Ok(Ok(tls)) => serve_io(tls, peer, local, allowed, shared, shutdown).await,
                // A port probe that hangs up before speaking TLS is no news.
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    debug!(service = shared.service, peer = %display_peer(peer_ip), error = %e, "TLS handshake failed")
                }
                Ok(Err(e)) => {
                    // Visible by default: a node without a valid client certificate is refused here.
                    info!(service = shared.service, peer = %display_peer(peer_ip), error = %e, "TLS handshake failed")
                }
                Err(_) => {
                    debug!(service = shared.service, peer = %display_peer(peer_ip), "TLS handshake timed out")
                }
            }
        }
        None => serve_io(stream, peer, local, allowed, shared, shutdown).await,
    }
}

/// IPv4-mapped IPv6 peers (dual-stack listeners) are the IPv4 peer.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn display_peer(ip: Option<IpAddr>) -> String {
    ip.map(|i| i.to_string())
        .unwrap_or_else(|| "(unknown)".into())
}

async fn serve_io<IO>(
    io: IO,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    allowed_at_accept: bool,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let close = CancellationToken::new();
    let unix = peer.is_none() && allowed_at_accept;
    let warned = Arc::new(AtomicBool::new(!allowed_at_accept));
    let svc = {
        let shared = shared.clone();
        let close = close.clone();
        hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
            let shared = shared.clone();
            let close = close.clone();
            let warned = warned.clone();
            async move {
                let peer_ip = peer.map(|p| canonical_ip(p.ip()));
                // Re-checked per request: a SIGHUP may have removed the peer.
                if !unix && !shared.acl.allows(peer_ip) {
                    if !warned.swap(true, Ordering::Relaxed) {
                        warn!(
                            service = shared.service,
                            peer = %display_peer(peer_ip),
                            key = shared.acl.key(),
                            "refused request: peer is no longer in {}",
                            shared.acl.key()
                        );
                    }
                    close.cancel();
                    return Ok::<_, Infallible>(denied(shared.service, shared.acl.key(), peer_ip));
                }
                req.extensions_mut().insert(TcpConnectInfo {
                    local_addr: local,
                    remote_addr: peer,
                });
                let req = req.map(Body::new);
                match shared.routes.clone().oneshot(req).await {
                    Ok(resp) => Ok(resp),
                    Err(never) => match never {},
                }
            }
        })
    };
    let builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let linger = async {
        if allowed_at_accept {
            std::future::pending::<()>().await
        } else {
            tokio::time::sleep(REFUSED_LINGER).await
        }
    };
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                debug!(service = shared.service, error = %e, "connection ended with an error");
            }
            return;
        }
        _ = shutdown.cancelled() => {}
        _ = close.cancelled() => {}
        _ = linger => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(shared.drain_timeout, conn).await;
}

fn denied(service: &str, key: &str, peer: Option<IpAddr>) -> http::Response<Body> {
    reason::status(
        tonic::Code::PermissionDenied,
        Reason::PeerNotAllowed,
        format!(
            "groxide-{service} refuses peer {}: not in {key}",
            display_peer(peer)
        ),
    )
    .into_http()
}
