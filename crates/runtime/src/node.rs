//! Who this node is: its `host_id`, the addresses its RPC daemons are
//! configured to listen on (what makes a routing target "local"), and the
//! address outgoing RPC connections leave from.

use groxide_config::keys::{event, exmdb, midb, shared, timer};
use groxide_config::{Config, ConfigFile, DaemonFile, Key, ReadableIn};
use groxide_routing::LocalNode;
use groxide_rpc::ClientOptions;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
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
    pub fn load<F: ConfigFile>(config: &Config<F>) -> NodeIdentity {
        let host_id = match config.get(shared::HOST_ID) {
            "" => system_hostname(),
            h => h.to_string(),
        };
        let dir = config.dir();
        let listen_ips = [
            listen_ip(dir, exmdb::LISTEN_IP),
            listen_ip(dir, midb::MIDB_LISTEN_IP),
            listen_ip(dir, event::EVENT_LISTEN_IP),
            listen_ip(dir, timer::TIMER_LISTEN_IP),
        ];
        let mut addresses = Vec::new();
        for ip in listen_ips.into_iter().flatten().map(canonical) {
            if !addresses.contains(&ip) {
                addresses.push(ip);
            }
        }
        let source_ip = config
            .get(shared::RPC_SOURCE_IP)
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

/// The listen address `key` of another RPC daemon's file in `dir`. A broken
/// file is that daemon's error; here its address is skipped with a warning.
fn listen_ip<F: DaemonFile>(dir: &Path, key: Key<Option<IpAddr>, F>) -> Option<IpAddr> {
    match Config::<F>::load(dir) {
        Ok((c, _)) => c.get(key),
        Err(e) => {
            tracing::warn!(
                file = key.file(),
                "cannot read {} for the node identity: {e}",
                key.name()
            );
            None
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
pub fn client_options<F: ConfigFile>(
    config: &Config<F>,
    node: &NodeIdentity,
) -> Result<ClientOptions, String> {
    let tls = if config.get(shared::RPC_TLS) {
        let ca = non_empty_path(config, shared::TLS_CA_PATH)
            .ok_or("rpc_tls = yes needs tls_ca_path (the CA that signs the nodes' certificates)")?;
        let cert = non_empty_path(config, shared::TLS_CERTIFICATE_PATH);
        let key = non_empty_path(config, shared::TLS_PRIVATE_KEY_PATH);
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
        connect_timeout: config.get(shared::RPC_CONNECT_TIMEOUT),
        request_timeout: config.get(shared::RPC_TIMEOUT),
        tls,
        connections_per_node: config.get(shared::RPC_PROXY_CONNECTION_NUM),
    })
}

/// The TLS server config for RPC daemons when `rpc_tls = yes`. Client
/// certificates are required when `tls_ca_path` is set.
pub fn rpc_server_tls<F: ConfigFile>(
    config: &Config<F>,
) -> Result<Option<Arc<rustls::ServerConfig>>, String> {
    if !config.get(shared::RPC_TLS) {
        return Ok(None);
    }
    let cert = non_empty_path(config, shared::TLS_CERTIFICATE_PATH)
        .ok_or("rpc_tls = yes needs tls_certificate_path")?;
    let key = non_empty_path(config, shared::TLS_PRIVATE_KEY_PATH)
        .ok_or("rpc_tls = yes needs tls_private_key_path")?;
    let ca = non_empty_path(config, shared::TLS_CA_PATH);
    groxide_rpc::tls::server_config(&cert, &key, ca.as_deref())
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The path of `key` (already resolved against the config dir), `None` when empty.
fn non_empty_path<F: ConfigFile, G: ReadableIn<F>>(
    config: &Config<F>,
    key: Key<PathBuf, G>,
) -> Option<PathBuf> {
    let p = config.get(key);
    (!p.as_os_str().is_empty()).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(files: &[(&str, &str)]) -> NodeIdentity {
        let dir = tempfile::tempdir().unwrap();
        for (f, t) in files {
            std::fs::write(dir.path().join(f), t).unwrap();
        }
        let (cfg, _) = Config::<groxide_config::Event>::load(dir.path()).unwrap();
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
