//! The accept loops: the client-facing listeners (`http_listen`,
//! `http_listen_tls`) with at most `context_num` connections at once
//! (further clients wait in the listen queue), and the metrics listeners
//! (`http_metrics_listen`). On shutdown every loop stops accepting, open
//! connections drain (requests in flight finish) within the bound.

use crate::connection;
use crate::front::Front;
use crate::metrics::Metrics;
use crate::settings::ServerSettings;
use groxide_runtime::accept::Accepted;
use groxide_runtime::admission::{Admission, Limits};
use groxide_runtime::client_listen::Listener;
use http::header::CONTENT_TYPE;
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// ALPN: HTTP/2 preferred, HTTP/1.1 otherwise.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The running server.
pub struct HttpServer {
    front: Arc<Front>,
    metrics: Arc<Metrics>,
    tls: RwLock<Option<TlsAcceptor>>,
    slots: Arc<Semaphore>,
    per_address: Admission,
    slot_count: Mutex<usize>,
    next_id: AtomicU64,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer").finish_non_exhaustive()
    }
}

/// `config` with ALPN for HTTP/2 and HTTP/1.1.
fn with_alpn(config: &rustls::ServerConfig) -> Arc<rustls::ServerConfig> {
    let mut config = config.clone();
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

impl HttpServer {
    /// A server answering through `front`.
    pub fn new(
        front: Arc<Front>,
        metrics: Arc<Metrics>,
        tls: Option<Arc<rustls::ServerConfig>>,
        shutdown: CancellationToken,
    ) -> Arc<HttpServer> {
        let slots = front.settings().get().max_connections;
        Arc::new(HttpServer {
            front,
            metrics,
            tls: RwLock::new(tls.map(|c| TlsAcceptor::from(with_alpn(&c)))),
            slots: Arc::new(Semaphore::new(slots)),
            per_address: Admission::default(),
            slot_count: Mutex::new(slots),
            next_id: AtomicU64::new(1),
            shutdown,
        })
    }

    /// Replaces the certificate (SIGHUP); new connections use it.
    pub fn set_tls(&self, tls: Option<Arc<rustls::ServerConfig>>) {
        *self.tls.write().unwrap_or_else(PoisonError::into_inner) =
            tls.map(|c| TlsAcceptor::from(with_alpn(&c)));
    }

    fn tls_acceptor(&self) -> Option<TlsAcceptor> {
        self.tls
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the settings (SIGHUP): new connections and requests use
    /// them; a smaller `context_num` takes effect as connections close.
    pub fn set_settings(&self, settings: ServerSettings) {
        let wanted = settings.max_connections;
        self.front.settings().set(settings);
        let mut count = self
            .slot_count
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if wanted > *count {
            self.slots.add_permits(wanted - *count);
        } else if wanted < *count {
            let fewer = u32::try_from(*count - wanted).unwrap_or(u32::MAX);
            let slots = self.slots.clone();
            tokio::spawn(async move {
                if let Ok(permits) = slots.acquire_many_owned(fewer).await {
                    permits.forget();
                }
            });
        }
        *count = wanted;
    }

    /// Accepts on every listener until shutdown, then waits up to `drain`
    /// for the open connections.
    pub async fn serve(
        self: Arc<Self>,
        listeners: Vec<Listener>,
        metrics_listeners: Vec<TcpListener>,
        drain: Duration,
    ) {
        let metrics = TaskTracker::new();
        for listener in metrics_listeners {
            let server = self.clone();
            let tasks = metrics.clone();
            metrics.spawn(async move { server.metrics_loop(listener, tasks).await });
        }
        metrics.close();
        let server = self.clone();
        let drained = groxide_runtime::accept::serve(
            listeners,
            Some(self.slots.clone()),
            self.shutdown.clone(),
            drain,
            move |a: Accepted| {
                let server = server.clone();
                async move { server.connection(a).await }
            },
        )
        .await;
        let metrics_drained = tokio::time::timeout(drain, metrics.wait()).await.is_ok();
        if !drained || !metrics_drained {
            tracing::warn!(?drain, "HTTP connections still open after the drain bound");
        }
    }

    /// One accepted connection: the per-address limit, TLS, then HTTP.
    async fn connection(self: Arc<Self>, a: Accepted) {
        let Accepted {
            stream,
            peer,
            implicit_tls,
            permit,
        } = a;
        let settings = self.front.settings().get();
        let proxy = settings.trusted_proxies.contains(peer.ip())
            || settings.proxy_protocol_from.contains(peer.ip());
        let limits = Limits {
            max_total: u32::MAX,
            max_per_ip: if proxy {
                u32::MAX
            } else {
                settings.max_connections_per_ip
            },
            max_unauth: u32::MAX,
            max_unauth_per_ip: u32::MAX,
            login_timeout: settings.conn_timeout,
        };
        let address_slot = match self.per_address.connect(peer.ip(), &limits) {
            Ok(slot) => slot,
            Err(refusal) => {
                tracing::info!(%peer, "connection closed: {refusal}");
                return;
            }
        };
        let tls = if implicit_tls {
            match self.tls_acceptor() {
                Some(acceptor) => Some(acceptor),
                None => {
                    tracing::warn!(%peer, "TLS connection but no certificate loaded");
                    return;
                }
            }
        } else {
            None
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let guard = self.metrics.connection_opened();
        connection::serve(
            self.front.clone(),
            stream,
            peer,
            tls,
            id,
            self.shutdown.clone(),
        )
        .await;
        drop(guard);
        drop(address_slot);
        drop(permit);
    }

    async fn metrics_loop(self: Arc<Self>, listener: TcpListener, tasks: TaskTracker) {
        loop {
            let accepted = tokio::select! {
                _ = self.shutdown.cancelled() => return,
                a = listener.accept() => a,
            };
            let Ok((stream, _)) = accepted else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let metrics = self.metrics.clone();
            let shutdown = self.shutdown.clone();
            let timeout = self.front.settings().get().header_timeout;
            tasks.spawn(async move {
                let service = hyper::service::service_fn(move |req: http::Request<_>| {
                    let metrics = metrics.clone();
                    async move { Ok::<_, Infallible>(metrics_response(&metrics, &req)) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(timeout)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    _ = shutdown.cancelled() => {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            });
        }
    }
}

fn metrics_response<B>(metrics: &Metrics, req: &http::Request<B>) -> Response<Full<bytes::Bytes>> {
    let text = |status: StatusCode, body: String, content_type: &'static str| {
        let mut r = Response::new(Full::new(bytes::Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut()
            .insert(CONTENT_TYPE, http::HeaderValue::from_static(content_type));
        r
    };
    if req.uri().path() != "/metrics" {
        return text(StatusCode::NOT_FOUND, "not found\n".into(), "text/plain");
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n".into(),
            "text/plain",
        );
    }
    text(
        StatusCode::OK,
        metrics.render(),
        "text/plain; version=0.0.4; charset=utf-8",
    )
}
