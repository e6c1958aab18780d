//! Clients of groxide's RPC services. Every connection leaves from this node's
//! own address (`rpc_source_ip`), so the other nodes' `*_hosts_allow` lists see
//! who is calling, on a real network and in loopback test clusters alike.

use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::either::Either;
use tonic::transport::{Channel, Endpoint, Uri};

/// The address of one node's service: a host (IP literal or name) and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeAddr {
    /// IP literal (v4, v6 without brackets) or hostname.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl NodeAddr {
    /// A node address.
    pub fn new(host: impl Into<String>, port: u16) -> NodeAddr {
        NodeAddr {
            host: host.into(),
            port,
        }
    }
}

impl NodeAddr {
    /// Parses `host:port` or `[v6]:port` (the [`fmt::Display`] form).
    pub fn parse(s: &str) -> Option<NodeAddr> {
        let (host, port) = s.rsplit_once(':')?;
        let port = port.parse().ok()?;
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.strip_suffix(']')?,
            None if host.contains(':') => return None,
            None => host,
        };
        if host.is_empty() {
            return None;
        }
        Some(NodeAddr::new(host, port))
    }
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// How clients connect.
#[derive(Clone)]
pub struct ClientOptions {
    /// Bind outgoing connections to this address (when the target has the same
    /// address family); `None` lets the OS choose.
    pub source_ip: Option<IpAddr>,
    /// Deadline for establishing a connection.
    pub connect_timeout: Duration,
    /// Default deadline for one unary call (callers apply it per request).
    pub request_timeout: Duration,
    /// Speak TLS to the other nodes.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Connections kept per remote node (gromox's `rpc_proxy_connection_num`).
    pub connections_per_node: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            source_ip: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            tls: None,
            connections_per_node: 2,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("source_ip", &self.source_ip)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("tls", &self.tls.is_some())
            .field("connections_per_node", &self.connections_per_node)
            .finish()
    }
}

/// Failures of a call to another groxide service, each naming the node.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The node address cannot form a URI.
    #[error("groxide-{service} at {node}: invalid address: {reason}")]
    InvalidAddress {
        /// Service, e.g. `exmdb`.
        service: &'static str,
        /// The node.
        node: NodeAddr,
        /// Why.
        reason: String,
    },
    /// The node could not be reached (connection refused, timeout, reset).
    /// Retryable.
    #[error("groxide-{service} at {node} is unreachable: {message}")]
    Unreachable {
        /// Service.
        service: &'static str,
        /// The node.
        node: NodeAddr,
        /// The transport's description.
        message: String,
    },
    /// The home of a store could not be determined (directory unreachable).
    /// Retryable.
    #[error("groxide-{service}: cannot find the home of store {dir}: {message}")]
    Route {
        /// Service.
        service: &'static str,
        /// The store.
        dir: String,
        /// Why.
        message: String,
    },
    /// Data the caller was sending could not be read (the bytes of a message
    /// being inserted, say); the request was abandoned and nothing done.
    #[error("groxide-{service}: {message}")]
    Input {
        /// Service.
        service: &'static str,
        /// What failed.
        message: String,
    },
    /// The node answered with an error status. Shown as the gRPC code's
    /// canonical name and the stable reason, e.g. `PERMISSION_DENIED
    /// (PEER_NOT_ALLOWED)`, so a log line says what the other node refused.
    #[error("groxide-{service} at {node}: {}: {}", status_label(.status), .status.message())]
    Status {
        /// Service.
        service: &'static str,
        /// The node.
        node: NodeAddr,
        /// The status as received (its metadata may carry a [`crate::reason::Reason`]).
        status: tonic::Status,
    },
}

/// `CODE` or `CODE (REASON)` of a status, in gRPC's canonical upper-case names.
fn status_label(status: &tonic::Status) -> String {
    let code = code_name(status.code());
    match crate::reason::reason_of(status) {
        Some(reason) => format!("{code} ({})", reason.as_str()),
        None => code.to_string(),
    }
}

/// The canonical name of a gRPC status code (as in the gRPC specification).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

impl RpcError {
    /// Classifies a status returned by a call to `node`.
    pub fn from_status(service: &'static str, node: &NodeAddr, status: tonic::Status) -> RpcError {
        let transport_failure = matches!(
            status.code(),
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded
        ) && crate::reason::reason_of(&status).is_none();
        if transport_failure {
            let mut message = status.message().to_string();
            let mut source = std::error::Error::source(&status);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            RpcError::Unreachable {
                service,
                node: node.clone(),
                message,
            }
        } else {
            RpcError::Status {
                service,
                node: node.clone(),
                status,
            }
        }
    }

    /// Whether retrying later (or elsewhere) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            RpcError::Unreachable { .. } | RpcError::Route { .. } => true,
            RpcError::Status { status, .. } => matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::ResourceExhausted | tonic::Code::Aborted
            ),
            RpcError::InvalidAddress { .. } | RpcError::Input { .. } => false,
        }
    }

    /// The reason the remote attached, if any.
    pub fn reason(&self) -> Option<crate::reason::Reason> {
        match self {
            RpcError::Status { status, .. } => crate::reason::reason_of(status),
            _ => None,
        }
    }

    /// The status, when the node answered.
    pub fn status(&self) -> Option<&tonic::Status> {
        match self {
            RpcError::Status { status, .. } => Some(status),
            _ => None,
        }
    }
}

/// A lazily connecting channel to one node. The first call connects; a broken
/// connection is re-established by the next call.
pub fn channel(
    service: &'static str,
    node: &NodeAddr,
    opts: &ClientOptions,
) -> Result<Channel, RpcError> {
    let uri = format!("http://{node}");
    let endpoint = Endpoint::from_shared(uri).map_err(|e| RpcError::InvalidAddress {
        service,
        node: node.clone(),
        reason: e.to_string(),
    })?;
    let endpoint = endpoint
        .connect_timeout(opts.connect_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20))
        .keep_alive_while_idle(true);
    let host = node.host.clone();
    let port = node.port;
    let source_ip = opts.source_ip;
    let tls = opts.tls.clone();
    let connect_timeout = opts.connect_timeout;
    let connector = tower::service_fn(move |_: Uri| {
        let host = host.clone();
        let tls = tls.clone();
        async move {
            let tcp = tokio::time::timeout(connect_timeout, connect_from(&host, port, source_ip))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
                })??;
            match tls {
                None => Ok::<_, std::io::Error>(TokioIo::new(Either::Left(tcp))),
                Some(cfg) => {
                    let name =
                        rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| {
                            std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
                        })?;
                    let stream = tokio_rustls::TlsConnector::from(cfg)
                        .connect(name, tcp)
                        .await?;
                    Ok(TokioIo::new(Either::Right(stream)))
                }
            }
        }
    });
    Ok(endpoint.connect_with_connector_lazy(connector))
}

/// Connects to `host:port`, binding the socket to `source_ip` when it has the
/// same address family as the target address tried.
pub async fn connect_from(
    host: &str,
    port: u16,
    source_ip: Option<IpAddr>,
) -> std::io::Result<TcpStream> {
    let mut last_err = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        match connect_one(addr, source_ip).await {
            Ok(s) => return Ok(s),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{host} has no address"),
        )
    }))
}

async fn connect_one(addr: SocketAddr, source_ip: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(src) = source_ip {
        let src = match src {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(src),
            v4 => v4,
        };
        if src.is_ipv4() == addr.is_ipv4() && !src.is_unspecified() {
            socket.bind(SocketAddr::new(src, 0))?;
        }
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Channels to many nodes of one service, `connections_per_node` each, used
/// round-robin. Cheap to clone channels out of; cleared on reload.
pub struct ChannelPool {
    service: &'static str,
    opts: ClientOptions,
    nodes: Mutex<HashMap<NodeAddr, Arc<NodeChannels>>>,
}

struct NodeChannels {
    channels: Vec<Channel>,
    next: AtomicUsize,
}

impl ChannelPool {
    /// A pool for `service` (used in errors and logs).
    pub fn new(service: &'static str, opts: ClientOptions) -> ChannelPool {
        ChannelPool {
            service,
            opts,
            nodes: Mutex::new(HashMap::new()),
        }
    }

    /// The options connections use.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// The service name.
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// A channel to `node`.
    pub fn get(&self, node: &NodeAddr) -> Result<Channel, RpcError> {
        let entry = {
            let mut nodes = match self.nodes.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            match nodes.get(node) {
                Some(e) => e.clone(),
                None => {
                    let n = self.opts.connections_per_node.max(1);
                    let mut channels = Vec::with_capacity(n);
                    for _ in 0..n {
                        channels.push(channel(self.service, node, &self.opts)?);
                    }
                    let e = Arc::new(NodeChannels {
                        channels,
                        next: AtomicUsize::new(0),
                    });
                    nodes.insert(node.clone(), e.clone());
                    e
                }
            }
        };
        let i = entry.next.fetch_add(1, Ordering::Relaxed) % entry.channels.len();
        Ok(entry.channels[i].clone())
    }

    /// Drops every channel (SIGHUP: new addresses, ACLs or certificates).
    pub fn clear(&self) {
        match self.nodes.lock() {
            Ok(mut g) => g.clear(),
            Err(p) => p.into_inner().clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::{Reason, status};

    fn check(st: tonic::Status, expected: &str) {
        let node = NodeAddr::new("127.0.0.4", 5000);
        assert_eq!(
            RpcError::from_status("exmdb", &node, st).to_string(),
            expected
        );
    }

    #[test]
    fn node_addresses_read_back_from_their_display_form() {
        for (text, want) in [
            ("127.0.0.4:5000", Some(NodeAddr::new("127.0.0.4", 5000))),
            ("[::1]:5000", Some(NodeAddr::new("::1", 5000))),
            (
                "node3.example.org:5000",
                Some(NodeAddr::new("node3.example.org", 5000)),
            ),
            ("::1:5000", None),
            (":5000", None),
            ("host", None),
            ("host:99999", None),
        ] {
            assert_eq!(NodeAddr::parse(text), want, "{text}");
            if let Some(n) = want {
                assert_eq!(n.to_string(), text);
            }
        }
    }

    #[test]
    fn a_refusal_names_the_code_the_reason_and_the_node() {
        check(
            status(
                tonic::Code::PermissionDenied,
                Reason::PeerNotAllowed,
                "groxide-exmdb refuses peer 127.0.0.3: not in exmdb_hosts_allow",
            ),
            "groxide-exmdb at 127.0.0.4:5000: PERMISSION_DENIED (PEER_NOT_ALLOWED): \
             groxide-exmdb refuses peer 127.0.0.3: not in exmdb_hosts_allow",
        );
        check(
            tonic::Status::internal("boom"),
            "groxide-exmdb at 127.0.0.4:5000: INTERNAL: boom",
        );
    }
}
