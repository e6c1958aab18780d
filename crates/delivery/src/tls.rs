//! The STARTTLS server config (rustls, ring provider, no ALPN: mail clients
//! do not negotiate one).

use groxide_rpc::tls::{TlsError, load_certs, load_key};
use std::path::Path;
use std::sync::Arc;

/// A server config presenting the certificate chain `cert` with key `key`.
pub fn starttls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(load_certs(cert)?, load_key(key)?)?;
    Ok(Arc::new(cfg))
}
