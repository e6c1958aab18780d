//! The server's limits and switches from http.cfg; reloadable by SIGHUP
//! (new values apply to new connections and requests).

use groxide_config::keys::http;
use groxide_config::{Config, Http, NetList};
use groxide_http_core::BodyLimits;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// The settings in force, replaced whole on SIGHUP.
#[derive(Debug)]
pub struct SettingsCell(RwLock<Arc<ServerSettings>>);

impl SettingsCell {
    /// A cell holding `settings`.
    pub fn new(settings: ServerSettings) -> SettingsCell {
        SettingsCell(RwLock::new(Arc::new(settings)))
    }

    /// The settings now.
    pub fn get(&self) -> Arc<ServerSettings> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the settings.
    pub fn set(&self, settings: ServerSettings) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(settings);
    }
}

/// hyper's smallest buffer for a request head.
pub const MIN_HEADER_SIZE: u64 = 8192;

/// What the server obeys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Idle time before a connection without a request is closed (`http_conn_timeout`).
    pub conn_timeout: Duration,
    /// Time for the TLS handshake, a PROXY header and each request head (`http_header_timeout`).
    pub header_timeout: Duration,
    /// Largest request head (`http_max_header_size`).
    pub max_header_size: usize,
    /// Request body limits (`http_rqbody_max_size`, `http_rqbody_timeout`).
    pub body: BodyLimits,
    /// Bodies received whole before dispatch (`http_rqbody_prefetch_size`).
    pub prefetch_size: u64,
    /// Connections served at once (`context_num`).
    pub max_connections: usize,
    /// Connections from one address, proxies excepted (`http_max_connections_per_ip`).
    pub max_connections_per_ip: u32,
    /// gzip responses (`http_compress`).
    pub compress: bool,
    /// Smallest body compressed (`http_compress_min_size`).
    pub compress_min_size: u64,
    /// Proxies whose forwarding headers are believed (`http_trusted_proxies`).
    pub trusted_proxies: NetList,
    /// Peers that send a PROXY protocol header (`http_proxy_protocol_from`).
    pub proxy_protocol_from: NetList,
}

impl ServerSettings {
    /// The settings of a loaded http.cfg.
    pub fn from_config(config: &Config<Http>) -> ServerSettings {
        ServerSettings {
            conn_timeout: config.get(http::HTTP_CONN_TIMEOUT),
            header_timeout: config.get(http::HTTP_HEADER_TIMEOUT),
            max_header_size: usize::try_from(
                config.get(http::HTTP_MAX_HEADER_SIZE).max(MIN_HEADER_SIZE),
            )
            .unwrap_or(usize::MAX),
            body: BodyLimits {
                max_size: config.get(http::HTTP_RQBODY_MAX_SIZE),
                timeout: config.get(http::HTTP_RQBODY_TIMEOUT),
            },
            prefetch_size: config.get(http::HTTP_RQBODY_PREFETCH_SIZE),
            max_connections: config.get(http::CONTEXT_NUM),
            max_connections_per_ip: config.get(http::HTTP_MAX_CONNECTIONS_PER_IP),
            compress: config.get(http::HTTP_COMPRESS),
            compress_min_size: config.get(http::HTTP_COMPRESS_MIN_SIZE),
            trusted_proxies: config.get(http::HTTP_TRUSTED_PROXIES),
            proxy_protocol_from: config.get(http::HTTP_PROXY_PROTOCOL_FROM),
        }
    }

    /// Problems `--check-config` reports beyond value syntax.
    pub fn check(config: &Config<Http>) -> Vec<String> {
        let mut problems = Vec::new();
        if config.get(http::HTTP_MAX_HEADER_SIZE) < MIN_HEADER_SIZE {
            problems.push(format!(
                "http_max_header_size must be at least {MIN_HEADER_SIZE} bytes (8K)"
            ));
        }
        for (key, value) in [
            ("http_conn_timeout", config.get(http::HTTP_CONN_TIMEOUT)),
            ("http_header_timeout", config.get(http::HTTP_HEADER_TIMEOUT)),
            ("http_rqbody_timeout", config.get(http::HTTP_RQBODY_TIMEOUT)),
        ] {
            if value.is_zero() {
                problems.push(format!("{key} must be longer than 0s"));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(text: &str) -> Config<Http> {
        Config::<Http>::from_str_for_tests(Path::new("/etc/groxide"), "", text)
            .unwrap()
            .0
    }

    #[test]
    fn config_values_reach_the_settings() {
        let s = ServerSettings::from_config(&load(
            "http_rqbody_max_size = 1M\nhttp_rqbody_timeout = 2s\ncontext_num = 7\n\
             http_trusted_proxies = 10.0.0.0/8\nhttp_compress = no\n",
        ));
        assert_eq!(s.body.max_size, 1 << 20);
        assert_eq!(s.body.timeout, Duration::from_secs(2));
        assert_eq!(s.max_connections, 7);
        assert!(!s.compress);
        assert!(s.trusted_proxies.contains("10.1.1.1".parse().unwrap()));
        assert!(s.proxy_protocol_from.is_empty());
    }

    #[test]
    fn too_small_header_limits_and_zero_timeouts_are_named() {
        let problems = ServerSettings::check(&load(
            "http_max_header_size = 1K\nhttp_rqbody_timeout = 0s\n",
        ));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("http_max_header_size"));
        assert!(problems[1].contains("http_rqbody_timeout"));
        assert!(ServerSettings::check(&load("")).is_empty());
    }
}
