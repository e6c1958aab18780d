//! Listening sockets.

use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpSocket};

/// Binds a listening TCP socket with SO_REUSEADDR (restarts must not wait for
/// TIME_WAIT). An IPv6 wildcard also accepts IPv4 (dual-stack, the Linux default).
pub fn bind_tcp(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    socket.listen(1024)
}
