//! Why a message could not be handed over, and whether trying again later
//! can help.

use crate::reply::Reply;
use std::fmt;

/// The step of the conversation an error happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Opening the TCP connection.
    Connect,
    /// The TLS handshake (implicit or after STARTTLS).
    Tls,
    /// Waiting for the 220 greeting.
    Greeting,
    /// EHLO/HELO/LHLO.
    Hello,
    /// STARTTLS.
    StartTls,
    /// MAIL FROM.
    Mail,
    /// RCPT TO.
    Rcpt,
    /// DATA (until 354).
    Data,
    /// Sending the message and waiting for the final reply.
    Message,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "connect",
            Stage::Tls => "TLS handshake",
            Stage::Greeting => "greeting",
            Stage::Hello => "EHLO",
            Stage::StartTls => "STARTTLS",
            Stage::Mail => "MAIL FROM",
            Stage::Rcpt => "RCPT TO",
            Stage::Data => "DATA",
            Stage::Message => "end of data",
        })
    }
}

/// A failed hand-over. [`SubmitError::is_temporary`] tells whether to retry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// `outgoing_smtp_url` cannot be used.
    #[error("invalid outgoing_smtp_url {url:?}: {reason}")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The trust roots for certificate checks could not be loaded.
    #[error("TLS trust roots: {0}")]
    TrustRoots(String),
    /// The relay answered with an error at `stage`.
    #[error("{relay} refused {stage}: {reply}")]
    Rejected {
        /// The relay URL.
        relay: String,
        /// Where.
        stage: Stage,
        /// Its reply.
        reply: Reply,
    },
    /// The relay does not offer STARTTLS but the URL requires it.
    #[error("{relay} does not offer STARTTLS, which the URL requires")]
    StartTlsUnavailable {
        /// The relay URL.
        relay: String,
    },
    /// The TLS handshake failed (includes certificate checks).
    #[error("TLS with {relay} failed: {reason}")]
    Tls {
        /// The relay URL.
        relay: String,
        /// Why.
        reason: String,
    },
    /// The relay did not answer in time.
    #[error("{relay} timed out during {stage}")]
    Timeout {
        /// The relay URL.
        relay: String,
        /// Where.
        stage: Stage,
    },
    /// The connection failed or broke.
    #[error("connection to {relay} failed during {stage}: {source}")]
    Io {
        /// The relay URL.
        relay: String,
        /// Where.
        stage: Stage,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The relay sent something that is not an SMTP reply.
    #[error("{relay} sent a malformed reply during {stage}")]
    Protocol {
        /// The relay URL.
        relay: String,
        /// Where.
        stage: Stage,
    },
    /// The message itself could not be read.
    #[error("reading the message: {0}")]
    Message(std::io::Error),
    /// No recipients were given.
    #[error("no recipients")]
    NoRecipients,
}

impl SubmitError {
    /// True when trying again later may succeed: 4xx replies, connection,
    /// TLS and timeout problems, unreadable messages. False for 5xx replies
    /// and for mistakes in the request or the configuration.
    pub fn is_temporary(&self) -> bool {
        match self {
            SubmitError::Rejected { reply, .. } => !reply.is_permanent(),
            SubmitError::StartTlsUnavailable { .. }
            | SubmitError::Tls { .. }
            | SubmitError::Timeout { .. }
            | SubmitError::Io { .. }
            | SubmitError::Protocol { .. }
            | SubmitError::Message(_) => true,
            SubmitError::BadUrl { .. } | SubmitError::TrustRoots(_) | SubmitError::NoRecipients => {
                false
            }
        }
    }

    /// The relay's reply, when the error is one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            SubmitError::Rejected { reply, .. } => Some(reply),
            _ => None,
        }
    }
}
