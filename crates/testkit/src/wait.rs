//! Polling with a deadline: a test waits for what it needs, never a fixed time.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen at once before it
/// counts as broken (a hang guard, not a performance assertion).
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Between two polls.
const POLL: Duration = Duration::from_millis(20);

/// Polls `cond` until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// [`wait_until`] on a tokio runtime: sleeps without blocking its thread.
pub async fn wait_until_async(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls until `addr` accepts TCP connections (true) or `timeout` passes.
pub fn wait_listening(addr: SocketAddr, timeout: Duration) -> bool {
    wait_until(timeout, || connects(addr))
}

/// [`wait_listening`] on a tokio runtime.
pub async fn wait_listening_async(addr: SocketAddr, timeout: Duration) -> bool {
    wait_until_async(timeout, || connects(addr)).await
}

/// Like [`wait_listening`], with the probes leaving from `source`, so a
/// node's own `*_hosts_allow` list (which may not hold 127.0.0.1) does not
/// log the probe as a refused stranger.
pub fn wait_listening_from(addr: SocketAddr, source: IpAddr, timeout: Duration) -> bool {
    wait_until(timeout, || connect_from(addr, source).is_ok())
}

fn connects(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
}

fn connect_from(addr: SocketAddr, source: IpAddr) -> std::io::Result<TcpStream> {
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
    if source.is_ipv4() == addr.is_ipv4() {
        socket.bind(&SocketAddr::new(source, 0).into())?;
    }
    socket.connect_timeout(&addr.into(), Duration::from_millis(100))?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_condition_that_never_holds_gives_up_at_the_deadline() {
        let start = Instant::now();
        assert!(!wait_until(Duration::from_millis(100), || false));
        assert!(start.elapsed() >= Duration::from_millis(100));
        let mut polls = 0;
        assert!(wait_until(DEADLINE, || {
            polls += 1;
            polls == 3
        }));
    }

    #[test]
    fn a_listener_is_seen_and_a_closed_port_is_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(wait_listening(addr, DEADLINE));
        assert!(wait_listening_from(addr, crate::LOCALHOST, DEADLINE));
        drop(listener);
        assert!(!wait_listening(addr, Duration::from_millis(50)));
    }
}
