//! Who sent a request: the connection it came on and the client behind any
//! trusted proxies. The server puts a [`ClientInfo`] into every request's
//! extensions; handlers and authentication schemes read it from there.

use axum::extract::FromRequestParts;
use http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The client of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    /// The TCP peer of the connection (a proxy, when one is in front).
    pub peer: SocketAddr,
    /// The client's address: the TCP peer, or what a PROXY protocol header
    /// and then `X-Forwarded-For`/`Forwarded` of trusted proxies named.
    /// Throttling and logs use this address.
    pub addr: IpAddr,
    /// The connection is TLS on this server.
    pub tls: bool,
    /// The TCP peer is one of `http_trusted_proxies`: it terminated TLS
    /// for the client, so credentials may arrive over plain HTTP from it.
    pub via_trusted_proxy: bool,
    /// The connection's number (unique in this process), for schemes whose
    /// handshake spans requests of one connection (NTLM).
    pub connection: u64,
}

impl ClientInfo {
    /// Whether credentials sent on this request were protected on the way
    /// from the client: TLS here, or TLS terminated by a trusted proxy.
    pub fn is_secure(&self) -> bool {
        self.tls || self.via_trusted_proxy
    }

    /// The client of a request built outside the server (a test): an
    /// unknown plain-HTTP client at 0.0.0.0, which no trust rule matches.
    pub fn unknown() -> ClientInfo {
        ClientInfo {
            peer: SocketAddr::from(([0, 0, 0, 0], 0)),
            addr: IpAddr::from([0, 0, 0, 0]),
            tls: false,
            via_trusted_proxy: false,
            connection: 0,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    /// The request's client ([`ClientInfo::unknown`] outside the server).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<ClientInfo>()
            .copied()
            .unwrap_or_else(ClientInfo::unknown))
    }
}
