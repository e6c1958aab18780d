//! Why a view request failed, and what that means for the caller.

use crate::cache::CacheError;
use crate::names::NameError;
use crate::open_stores::OpenError;
use groxide_mailview::ViewError;

/// A failed view request.
#[derive(Debug, thiserror::Error)]
pub enum MidbError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] groxide_store::StoreError),
    /// The store's writer refused or could not be reached.
    #[error(transparent)]
    Write(#[from] ViewError),
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

impl From<OpenError> for MidbError {
    fn from(e: OpenError) -> MidbError {
        match e {
            OpenError::Store(e) => MidbError::Store(e),
            OpenError::Cache(e) => MidbError::Cache(e),
        }
    }
}

impl From<MidbError> for ViewError {
    fn from(e: MidbError) -> ViewError {
        use groxide_store::StoreError as S;
        match e {
            MidbError::Write(v) => v,
            MidbError::Name(NameError::NotFound(_)) => ViewError::NoSuchMailbox,
            MidbError::Name(NameError::Exists(_)) => ViewError::MailboxExists,
            MidbError::Name(n @ NameError::Invalid { .. }) => ViewError::InvalidName(n.to_string()),
            MidbError::Name(NameError::NotPermitted(m)) => ViewError::NotPermitted(m),
            MidbError::Store(S::NoSuchFolder(_) | S::NoSuchRole(_)) => ViewError::NoSuchMailbox,
            MidbError::Store(S::NoSuchMessage(_) | S::NoSuchUid { .. }) => ViewError::NoSuchMessage,
            MidbError::Store(e @ (S::NoSuchStore(_) | S::SchemaMismatch { .. })) => {
                ViewError::Unavailable(e.to_string())
            }
            MidbError::Invalid(m) => ViewError::NotPermitted(m),
            MidbError::UnknownCte(_) => ViewError::UnknownCte,
            other => {
                tracing::error!(error = %other, "view request failed");
                ViewError::Internal(other.to_string())
            }
        }
    }
}
