//! TLS client configs (rustls, ring provider): one that checks the relay's
//! certificate against trust roots, one that does not
//! (`smtp+unverifiedtls://`, for relays with self-signed certificates).

use crate::error::SubmitError;
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The system's CA bundle locations, in the order they are tried
/// (Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine/others).
pub const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Which certificates a verified TLS connection trusts.
#[derive(Debug, Clone)]
pub enum TrustRoots {
    /// The first of [`SYSTEM_CA_BUNDLES`] that exists.
    System,
    /// The CA certificates of one PEM file.
    PemFile(PathBuf),
    /// These certificates (tests, pinned relays).
    Certificates(Vec<CertificateDer<'static>>),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, SubmitError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| SubmitError::TrustRoots(format!("{}: {e}", path.display())))?
        .collect();
    certs.map_err(|e| SubmitError::TrustRoots(format!("{}: {e}", path.display())))
}

impl TrustRoots {
    fn certificates(&self) -> Result<Vec<CertificateDer<'static>>, SubmitError> {
        match self {
            TrustRoots::Certificates(c) => Ok(c.clone()),
            TrustRoots::PemFile(p) => load_pem(p),
            TrustRoots::System => {
                let path = SYSTEM_CA_BUNDLES
                    .iter()
                    .map(Path::new)
                    .find(|p| p.exists())
                    .ok_or_else(|| {
                        SubmitError::TrustRoots(format!(
                            "no system CA bundle found (looked at {})",
                            SYSTEM_CA_BUNDLES.join(", ")
                        ))
                    })?;
                load_pem(path)
            }
        }
    }
}

/// A config that checks certificates against `roots`.
pub(crate) fn verified_config(
    roots: &TrustRoots,
) -> Result<Arc<rustls::ClientConfig>, SubmitError> {
    let mut store = rustls::RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(roots.certificates()?);
    if added == 0 {
        return Err(SubmitError::TrustRoots("no usable CA certificate".into()));
    }
    let cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| SubmitError::TrustRoots(e.to_string()))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// A config that accepts any certificate (the handshake signatures are still
/// checked, so the connection is encrypted, just not authenticated).
pub(crate) fn unverified_config() -> Result<Arc<rustls::ClientConfig>, SubmitError> {
    let provider = provider();
    let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SubmitError::TrustRoots(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
