//! Who this node is: its `host_id`, the addresses its RPC daemons are
//! configured to listen on (what makes a routing target "local"), and the
//! address outgoing RPC connections leave from.

use groxide_config::{Config, schema};
use groxide_routing::LocalNode;
use groxide_rpc::ClientOptions;
use std::net::IpAddr;
use std::sync::Arc;

/// The node's identity, derived from the config directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// `host_id`, or the system hostname when unset.
    pub host_id: String,
    /// The listen addresses of this node's RPC daemons (exmdb, midb, event,
    /// timer), in that order, without duplicates.
    pub addresses: Vec<IpAddr>,
    /// Where outgoing RPC connections leave from: `rpc_source_ip`, else the
    /// first concrete (not wildcard) listen address.
    pub source_ip: Option<IpAddr>,
}

impl NodeIdentity {
    /// Reads the identity from `config` (groxide.cfg of this daemon) and the
    /// listen keys of the RPC daemons' files in the same directory. A broken
    /// file of another daemon is that daemon's error; here its address is
    /// skipped with a warning.
    pub fn load(config: &Config) -> NodeIdentity {
        let host_id = match config.string("host_id") {
            "" => system_hostname(),
            h => h.to_string(),
        };
        let mut addresses = Vec::new();
        for (schema, key) in &schema::RPC_LISTEN_IP_KEYS {
            let ip = match Config::load(config.dir(), schema) {
                Ok((c, _)) => c.ip(key),
                Err(e) => {
                    tracing::warn!(
                        file = schema.file,
                        "cannot read {key} for the node identity: {e}"
                    );
                    None
                }
            };
            if let Some(ip) = ip.map(canonical)
                && !addresses.contains(&ip)
            {
                addresses.push(ip);
            }
        }
        let source_ip = config
            .ip("rpc_source_ip")
            .map(canonical)
            .or_else(|| addresses.iter().copied().find(|a| !a.is_unspecified()));
        NodeIdentity {
            host_id,
            addresses,
            source_ip,
        }
    }

    /// The routing view of this node.
    pub fn local_node(&self) -> LocalNode {
        LocalNode {
            host_id: self.host_id.clone(),
            addresses: self.addresses.clone(),
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn system_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// RPC client options from groxide.cfg: timeouts, pool size, source address
/// and (with `rpc_tls`) the CA that other nodes' certificates must chain to.
pub fn client_options(config: &Config, node: &NodeIdentity) -> Result<ClientOptions, String> {
    let tls = if config.bool("rpc_tls") {
        let ca = non_empty_path(config, "tls_ca_path")
            .ok_or("rpc_tls = yes needs tls_ca_path (the CA that signs the nodes' certificates)")?;
        let cert = non_empty_path(config, "tls_certificate_path");
        let key = non_empty_path(config, "tls_private_key_path");
        let client_cert = match (&cert, &key) {
            (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
            _ => None,
        };
        Some(groxide_rpc::tls::client_config(&ca, client_cert).map_err(|e| e.to_string())?)
    } else {
        None
    };
    Ok(ClientOptions {
        source_ip: node.source_ip,
        connect_timeout: config.duration("rpc_connect_timeout"),
        request_timeout: config.duration("rpc_timeout"),
        tls,
        connections_per_node: usize::try_from(config.int("rpc_proxy_connection_num"))
            .unwrap_or(1)
            .max(1),
    })
}

/// The TLS server config for RPC daemons when `rpc_tls = yes`. Client
/// certificates are required when `tls_ca_path` is set.
pub fn rpc_server_tls(config: &Config) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    if !config.bool("rpc_tls") {
        return Ok(None);
    }
    let cert = non_empty_path(config, "tls_certificate_path")
        .ok_or("rpc_tls = yes needs tls_certificate_path")?;
    let key = non_empty_path(config, "tls_private_key_path")
        .ok_or("rpc_tls = yes needs tls_private_key_path")?;
    let ca = non_empty_path(config, "tls_ca_path");
    groxide_rpc::tls::server_config(&cert, &key, ca.as_deref())
        .map(Some)
        .map_err(|e| e.to_string())
}

fn non_empty_path(config: &Config, key: &str) -> Option<std::path::PathBuf> {
    let p = config.path(key);
    if p.as_os_str().is_empty() {
        None
    } else if p.is_relative() {
        Some(config.dir().join(p))
    } else {
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(files: &[(&str, &str)]) -> NodeIdentity {
        let dir = tempfile::tempdir().unwrap();
        for (f, t) in files {
            std::fs::write(dir.path().join(f), t).unwrap();
        }
        let (cfg, _) = Config::load(dir.path(), &schema::EVENT).unwrap();
        NodeIdentity::load(&cfg)
    }

    #[test]
    fn a_cluster_node_is_known_by_its_configured_addresses_and_calls_from_them() {
        let id = identity(&[
            ("groxide.cfg", "host_id = node3\n"),
            ("exmdb_provider.cfg", "listen_ip = 127.0.0.3\n"),
            ("midb.cfg", "midb_listen_ip = 127.0.0.3\n"),
            ("event.cfg", "event_listen_ip = ::ffff:127.0.0.3\n"),
            ("timer.cfg", "timer_listen_ip = 127.0.0.3\n"),
        ]);
        assert_eq!(id.host_id, "node3");
        assert_eq!(id.addresses, vec!["127.0.0.3".parse::<IpAddr>().unwrap()]);
        assert_eq!(id.source_ip, Some("127.0.0.3".parse().unwrap()));
        let local = id.local_node();
        assert!(local.is_local("127.0.0.3"));
        assert!(local.is_local("node3"));
        assert!(!local.is_local("127.0.0.2"));
    }

    #[test]
    fn rpc_source_ip_overrides_the_listen_address() {
        let id = identity(&[
            ("groxide.cfg", "rpc_source_ip = 127.0.0.9\n"),
            ("exmdb_provider.cfg", "listen_ip = 127.0.0.3\n"),
        ]);
        assert_eq!(id.source_ip, Some("127.0.0.9".parse().unwrap()));
    }

    #[test]
    fn wildcard_listeners_give_no_source_address() {
        let id = identity(&[
            ("exmdb_provider.cfg", "listen_ip = ::\n"),
            ("midb.cfg", "midb_listen_ip = ::\n"),
            ("event.cfg", "event_listen_ip = ::\n"),
            ("timer.cfg", "timer_listen_ip = ::\n"),
        ]);
        assert_eq!(id.source_ip, None);
    }
}
