//! Asking the user directory which node is a store's home.

use std::future::Future;
use std::pin::Pin;

/// The future [`HomeserverLookup::homeserver_of`] returns.
pub type LookupFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<String>, LookupError>> + Send + 'a>>;

/// The directory's answer to "which node holds store `dir`?".
///
/// Implemented by the directory crate; this crate does no I/O itself.
pub trait HomeserverLookup: Send + Sync {
    /// The `servers.hostname` of the homeserver of the user or domain whose
    /// store is `dir`.
    ///
    /// `Ok(Some(hostname))` when the owner has a homeserver ≠ 0;
    /// `Ok(None)` when no user or domain owns `dir`, or its homeserver is 0.
    /// A homeserver id with no `servers` row, or an empty hostname, is an
    /// inconsistent directory and must be `Err`, as must an unreachable directory.
    fn homeserver_of<'a>(&'a self, dir: &'a str) -> LookupFuture<'a>;
}

/// The directory could not answer (unreachable, or inconsistent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct LookupError {
    reason: String,
}

impl LookupError {
    /// An error with this reason, e.g. `mysql://db1: connection refused`.
    pub fn new(reason: impl Into<String>) -> LookupError {
        LookupError {
            reason: reason.into(),
        }
    }

    /// The reason given.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
