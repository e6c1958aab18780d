//! Why a midb request failed.

use crate::cache::CacheError;
use crate::names::NameError;
use crate::store::StoreError;

/// A failed midb request.
#[derive(Debug, thiserror::Error)]
pub enum MidbError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A mailbox name was wrong.
    #[error(transparent)]
    Name(#[from] NameError),
    /// midb.sqlite3 failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The request itself is malformed.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A BINARY fetch met a transfer encoding it cannot undo.
    #[error("unknown content-transfer-encoding {0:?}")]
    UnknownCte(String),
    /// An internal task failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tokio::task::JoinError> for MidbError {
    fn from(e: tokio::task::JoinError) -> MidbError {
        MidbError::Internal(e.to_string())
    }
}
