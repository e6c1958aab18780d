//! The accept loop of the client-facing daemons (IMAP, POP3, LMTP, HTTP):
//! every listener accepted on its own task until shutdown, each connection
//! served on its own task, failed accepts (EMFILE and friends) backed off
//! instead of spun on, and a drain bounded by `shutdown_timeout`.

use crate::client_listen::Listener;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// One accepted connection.
#[derive(Debug)]
pub struct Accepted {
    /// The connection (`TCP_NODELAY` set).
    pub stream: TcpStream,
    /// The client.
    pub peer: SocketAddr,
    /// The listener speaks TLS from the first byte.
    pub implicit_tls: bool,
    /// The connection's place among `slots`, when the loop was given any;
    /// held until the connection's task ends.
    pub permit: Option<OwnedSemaphorePermit>,
}

/// Accepts on every listener until `shutdown` is cancelled and hands each
/// connection to `serve` on its own task; then waits up to `drain` for
/// those tasks. With `slots`, a place is taken *before* accepting, so
/// clients beyond the limit wait in the listen queue. Returns whether the
/// connections ended within `drain`.
pub async fn serve<H, Fut>(
    listeners: Vec<Listener>,
    slots: Option<Arc<Semaphore>>,
    shutdown: CancellationToken,
    drain: Duration,
    serve: H,
) -> bool
where
    H: Fn(Accepted) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let tracker = TaskTracker::new();
    for listener in listeners {
        let tasks = tracker.clone();
        let shutdown = shutdown.clone();
        let slots = slots.clone();
        let serve = serve.clone();
        tracker.spawn(async move {
            loop {
                let permit = match &slots {
                    Some(slots) => tokio::select! {
                        _ = shutdown.cancelled() => return,
                        p = slots.clone().acquire_owned() => match p {
                            Ok(p) => Some(p),
                            Err(_) => return,
                        },
                    },
                    None => None,
                };
                let accepted = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    a = listener.socket.accept() => a,
                };
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let connection = serve(Accepted {
                    stream,
                    peer,
                    implicit_tls: listener.implicit_tls,
                    permit,
                });
                tasks.spawn(connection);
            }
        });
    }
    tracker.close();
    shutdown.cancelled().await;
    tokio::time::timeout(drain, tracker.wait()).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn listener(implicit_tls: bool) -> (Listener, SocketAddr) {
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        (
            Listener {
                socket,
                implicit_tls,
            },
            addr,
        )
    }

    #[tokio::test]
    async fn connections_are_served_at_most_slots_at_once_and_drained_at_shutdown() {
        let (plain, plain_addr) = listener(false).await;
        let (tls, tls_addr) = listener(true).await;
        let shutdown = CancellationToken::new();
        let slots = Arc::new(Semaphore::new(1));
        let server = tokio::spawn(serve(
            vec![plain, tls],
            Some(slots.clone()),
            shutdown.clone(),
            Duration::from_secs(5),
            |mut a: Accepted| async move {
                let flag = if a.implicit_tls { b"T" } else { b"P" };
                let _ = a.stream.write_all(flag).await;
                let mut buf = [0u8; 1];
                let _ = a.stream.read(&mut buf).await;
                drop(a.permit);
            },
        ));
        let mut first = TcpStream::connect(plain_addr).await.unwrap();
        let mut buf = [0u8; 1];
        first.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"P");
        let mut second = TcpStream::connect(tls_addr).await.unwrap();
        let waited =
            tokio::time::timeout(Duration::from_millis(300), second.read_exact(&mut buf)).await;
        assert!(
            waited.is_err(),
            "the second waits while the one slot is held"
        );
        first.write_all(b"x").await.unwrap();
        second.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"T");
        second.write_all(b"x").await.unwrap();
        shutdown.cancel();
        assert!(server.await.unwrap(), "drained within the bound");
    }
}
