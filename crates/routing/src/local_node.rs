//! Whether a route's host is this node.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// This node, as far as routing needs to know it.
///
/// A host is local when
/// 1. it equals `host_id` (ASCII case-insensitive; an empty `host_id` matches nothing), or
/// 2. it is an IP literal equal to one of `addresses` (IPv4-mapped IPv6 and IPv4 are the same), or
/// 3. it is a loopback or unspecified address (or `localhost`) **and** one of
///    `addresses` is unspecified: a node listening on `::` is reachable on every
///    loopback address; `0.0.0.0` covers only IPv4 loopback.
///
/// Never "any address configured on the machine": test clusters run several
/// nodes on one machine (127.0.0.2, 127.0.0.3, …), and 127.0.0.2 is not the
/// node that listens on 127.0.0.3. No DNS lookups: a hostname other than
/// `host_id` (and `localhost`) is never local.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalNode {
    /// This node's `host_id` (the caller resolves the "empty = system hostname" default).
    pub host_id: String,
    /// The addresses this node's daemons are configured to listen on.
    pub addresses: Vec<IpAddr>,
}

impl LocalNode {
    /// A node with this `host_id` and these listen addresses.
    pub fn new(host_id: impl Into<String>, addresses: Vec<IpAddr>) -> LocalNode {
        LocalNode {
            host_id: host_id.into(),
            addresses,
        }
    }

    /// Whether `host` (an IP literal, `[ipv6]` or a hostname) is this node.
    pub fn is_local(&self, host: &str) -> bool {
        if !self.host_id.is_empty() && host.eq_ignore_ascii_case(&self.host_id) {
            return true;
        }
        if host.eq_ignore_ascii_case("localhost") {
            return self.has_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
                || self.has_address(IpAddr::V6(Ipv6Addr::LOCALHOST));
        }
        let literal = host
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(host);
        match literal.parse::<IpAddr>() {
            Ok(ip) => self.has_address(ip.to_canonical()),
            Err(_) => false,
        }
    }

    /// Whether a connection to `ip` (canonical) reaches this node.
    fn has_address(&self, ip: IpAddr) -> bool {
        let is_alias = ip.is_loopback() || ip.is_unspecified();
        self.addresses
            .iter()
            .map(|own| own.to_canonical())
            .any(|own| {
                own == ip
                    || (is_alias
                        && match own {
                            // `::` is dual-stack: it also receives IPv4 connections.
                            IpAddr::V6(v6) => v6.is_unspecified(),
                            IpAddr::V4(v4) => v4.is_unspecified() && ip.is_ipv4(),
                        })
            })
    }
}
