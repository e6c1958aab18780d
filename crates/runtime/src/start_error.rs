//! Why a daemon could not start: one error for every daemon that wires a
//! node (imap, pop3, delivery, http), its wiring included.

/// Why a daemon (or its node wiring) could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A config value (directory settings, list files, client options,
    /// listeners, certificates) cannot be used.
    #[error("{0}")]
    Config(String),
    /// The directory could not be opened or connected.
    #[error("user directory: {0}")]
    Directory(String),
    /// A listening socket could not be opened.
    #[error("{0}")]
    Listen(std::io::Error),
    /// A directory the daemon keeps its files in could not be prepared.
    #[error("{what}: {source}")]
    Files {
        /// Which (e.g. "spool").
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
}
