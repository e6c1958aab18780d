//! [`Submitter`]: hands messages to the relay of `outgoing_smtp_url`.

use crate::client::{Connection, Envelope, Io, SubmitReport, Timeouts};
use crate::error::{Stage, SubmitError};
use crate::tls::{TrustRoots, unverified_config, verified_config};
use crate::url::{RelayUrl, Security};
use rustls::pki_types::ServerName;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncRead;
use tokio::net::TcpStream;

/// How the submitter connects.
#[derive(Debug, Clone)]
pub struct SubmitOptions {
    /// The name said in EHLO/LHLO (this node's host name).
    pub helo_name: String,
    /// Trust roots for `smtps://` and `smtp+tls://`.
    pub trust: TrustRoots,
    /// Time allowed to open the TCP connection.
    pub connect_timeout: Duration,
    /// Time allowed for each reply and each write (RFC 5321 §4.5.3.2: 5 min).
    pub reply_timeout: Duration,
    /// Time allowed for the reply after the final dot (RFC 5321: 10 min).
    pub final_reply_timeout: Duration,
}

impl Default for SubmitOptions {
    fn default() -> Self {
        SubmitOptions {
            helo_name: "localhost".into(),
            trust: TrustRoots::System,
            connect_timeout: Duration::from_secs(30),
            reply_timeout: Duration::from_secs(300),
            final_reply_timeout: Duration::from_secs(600),
        }
    }
}

/// Sends messages to one relay.
#[derive(Debug, Clone)]
pub struct Submitter {
    relay: RelayUrl,
    options: SubmitOptions,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Submitter {
    /// A submitter for `url` (gromox's `outgoing_smtp_url` syntax). Trust
    /// roots are loaded here, so a broken CA setup fails at start-up.
    pub fn new(url: &str, options: SubmitOptions) -> Result<Submitter, SubmitError> {
        let relay: RelayUrl = url.parse()?;
        let tls = match relay.security {
            Security::Plain => None,
            Security::StartTls { verify: false } => Some(unverified_config()?),
            Security::StartTls { verify: true } | Security::ImplicitTls => {
                Some(verified_config(&options.trust)?)
            }
        };
        Ok(Submitter {
            relay,
            options,
            tls,
        })
    }

    /// The relay.
    pub fn relay(&self) -> &RelayUrl {
        &self.relay
    }

    /// Opens a greeted connection (for several messages in a row).
    pub async fn connect(&self) -> Result<Connection, SubmitError> {
        let relay_name = self.relay.to_string();
        let addr = (self.relay.host.as_str(), self.relay.port);
        let tcp = match tokio::time::timeout(self.options.connect_timeout, TcpStream::connect(addr))
            .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => {
                return Err(SubmitError::Io {
                    relay: relay_name,
                    stage: Stage::Connect,
                    source,
                });
            }
            Err(_) => {
                return Err(SubmitError::Timeout {
                    relay: relay_name,
                    stage: Stage::Connect,
                });
            }
        };
        let _ = tcp.set_nodelay(true);
        let timeouts = Timeouts {
            reply: self.options.reply_timeout,
            final_reply: self.options.final_reply_timeout,
        };
        let stream: Box<dyn Io> = match (&self.relay.security, &self.tls) {
            (Security::ImplicitTls, Some(tls)) => {
                tls_handshake(Box::new(tcp), &self.relay, tls.clone(), timeouts.reply).await?
            }
            _ => Box::new(tcp),
        };
        let starttls = match self.relay.security {
            Security::StartTls { .. } => self.tls.clone(),
            _ => None,
        };
        Connection::establish(
            stream,
            self.relay.clone(),
            self.options.helo_name.clone(),
            timeouts,
            starttls,
        )
        .await
    }

    /// Sends one message on a new connection and closes it.
    pub async fn send<R>(
        &self,
        envelope: &Envelope,
        message: R,
        size: Option<u64>,
    ) -> Result<SubmitReport, SubmitError>
    where
        R: AsyncRead + Unpin,
    {
        let mut conn = self.connect().await?;
        let report = conn.send(envelope, message, size).await;
        conn.quit().await;
        report
    }

    /// Sends the message stored in `path` (read in chunks, never whole).
    pub async fn send_file(
        &self,
        envelope: &Envelope,
        path: &Path,
    ) -> Result<SubmitReport, SubmitError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(SubmitError::Message)?;
        let size = file.metadata().await.ok().map(|m| m.len());
        self.send(envelope, file, size).await
    }

    /// Sends a message held in memory.
    pub async fn send_bytes(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<SubmitReport, SubmitError> {
        self.send(envelope, message, Some(message.len() as u64))
            .await
    }
}

/// A TLS handshake naming the relay's host.
pub(crate) async fn tls_handshake(
    stream: Box<dyn Io>,
    relay: &RelayUrl,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<Box<dyn Io>, SubmitError> {
    let name = ServerName::try_from(relay.host.clone()).map_err(|e| SubmitError::Tls {
        relay: relay.to_string(),
        reason: format!("{:?} is not a valid TLS server name: {e}", relay.host),
    })?;
    let connector = tokio_rustls::TlsConnector::from(tls);
    match tokio::time::timeout(timeout, connector.connect(name, stream)).await {
        Ok(Ok(s)) => Ok(Box::new(s)),
        Ok(Err(e)) => Err(SubmitError::Tls {
            relay: relay.to_string(),
            reason: e.to_string(),
        }),
        Err(_) => Err(SubmitError::Timeout {
            relay: relay.to_string(),
            stage: Stage::Tls,
        }),
    }
}
