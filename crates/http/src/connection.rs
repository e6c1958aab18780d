//! One client connection: the PROXY header (from the peers that send
//! one), the TLS handshake (ALPN `h2` and `http/1.1`), then HTTP/1 requests
//! on the native path while they are ActiveSync requests ([`native`]),
//! then hyper for the rest: HTTP/1.1 or HTTP/2 (by ALPN, or by the HTTP/2
//! preface on plain connections) until
//! the client leaves, the connection has been idle for `http_conn_timeout`
//! with no request in flight, or the server drains (in-flight requests
//! finish; HTTP/2 gets GOAWAY).

use crate::access::Activity;
use crate::front::{ConnectionFacts, Front};
use crate::native;
use crate::proxy_protocol::{self, ProxyHeader};
use crate::settings::ServerSettings;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// A byte stream of either kind.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A stream that first replays bytes already read from it (those that
/// followed the PROXY header, or the start of a request the native
/// path hands to hyper).
pub struct Rewind<S> {
    prefix: Vec<u8>,
    read: usize,
    inner: S,
}

impl<S> Rewind<S> {
    /// `inner`, with `prefix` read first.
    pub fn new(prefix: Vec<u8>, inner: S) -> Rewind<S> {
        Rewind {
            prefix,
            read: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read < this.prefix.len() {
            let rest = &this.prefix[this.read..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.read += n;
            if this.read == this.prefix.len() {
                this.prefix = Vec::new();
                this.read = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Returns once the connection has had no request in flight for `timeout`.
pub(crate) async fn idle(activity: &Activity, timeout: Duration) {
    loop {
        let wait = match activity.idle_since() {
            Some(since) => {
                let elapsed = since.elapsed();
                if elapsed >= timeout {
                    return;
                }
                timeout - elapsed
            }
            None => timeout,
        };
        tokio::time::sleep(wait).await;
    }
}

/// Serves one accepted connection to its end.
pub async fn serve(
    front: Arc<Front>,
    mut stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    id: u64,
    shutdown: CancellationToken,
) {
    let settings = front.settings().get();
    let _ = stream.set_nodelay(true);
    let (origin, replay) = if settings.proxy_protocol_from.contains(peer.ip()) {
        // Boxed, as the TLS handshake: steps before the requests must not
        // size the connection's future for as long as a Ping waits.
        match Box::pin(tokio::time::timeout(
            settings.header_timeout,
            proxy_protocol::read_header(&mut stream),
        ))
        .await
        {
            Ok(Ok((ProxyHeader::Proxied { source, .. }, rest))) => (source.ip(), rest),
            Ok(Ok((ProxyHeader::Unnamed, rest))) => (peer.ip(), rest),
            Ok(Err(e)) => {
                tracing::warn!(%peer, error = %e, "connection closed: no valid PROXY header");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "connection closed: PROXY header timed out");
                return;
            }
        }
    } else {
        (peer.ip(), Vec::new())
    };
    let stream = Rewind::new(replay, stream);
    let (mut io, is_tls, h2): (Box<dyn Io>, bool, bool) = match tls {
        Some(acceptor) => {
            let handshake = tokio::time::timeout(settings.header_timeout, acceptor.accept(stream));
            match Box::pin(handshake).await {
                Ok(Ok(tls)) => {
                    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
                    (Box::new(tls), true, h2)
                }
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            }
        }
        None => (Box::new(stream), false, false),
    };
    let facts = Arc::new(ConnectionFacts {
        peer,
        origin,
        tls: is_tls,
        id,
        activity: Arc::new(Activity::default()),
    });
    // HTTP/1 requests are read natively while they are ActiveSync's (small
    // while they wait); hyper serves the rest of the connection.
    let replay = if h2 {
        Vec::new()
    } else {
        match native::serve(&front, &facts, &mut io, &settings, &shutdown).await {
            native::Outcome::Closed => return,
            native::Outcome::Hyper(replay) => replay,
        }
    };
    // Boxed: a connection waiting on the native path does not carry
    // hyper's connection state.
    Box::pin(serve_hyper(
        front,
        facts,
        Rewind::new(replay, io),
        &settings,
        shutdown,
    ))
    .await;
}

/// Serves the rest of a connection with hyper (HTTP/1.1 or HTTP/2).
async fn serve_hyper(
    front: Arc<Front>,
    facts: Arc<ConnectionFacts>,
    io: Rewind<Box<dyn Io>>,
    settings: &ServerSettings,
    shutdown: CancellationToken,
) {
    let peer = facts.peer;
    let activity = facts.activity.clone();
    let service = hyper::service::service_fn(move |req| {
        let answer = front.handle(&facts, req);
        async move { Ok::<_, Infallible>(answer.await) }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .max_buf_size(settings.max_header_size)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(settings.max_header_size).unwrap_or(u32::MAX));
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = shutdown.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = idle(&activity, settings.conn_timeout), if !closing => {
                tracing::debug!(%peer, "idle connection closed");
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_rewound_stream_reads_the_replayed_bytes_first() {
        let inner = std::io::Cursor::new(b" world".to_vec());
        let mut s = Rewind::new(b"hello".to_vec(), inner);
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "hello world");
    }
}
