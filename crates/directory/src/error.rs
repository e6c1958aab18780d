//! What can go wrong when the directory is asked or changed.

/// A failed directory operation. Messages name the backend (without its
/// password) or the record concerned; they never contain a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The database cannot be reached (refused, timed out, pool exhausted,
    /// bad credentials). Retryable.
    #[error("user directory {backend} is unavailable: {message}")]
    Unavailable {
        /// The backend, e.g. `mysql://root@db1:3306/email`.
        backend: String,
        /// What failed.
        message: String,
    },
    /// A query failed for a reason other than reachability.
    #[error("user directory {backend}: {message}")]
    Query {
        /// The backend.
        backend: String,
        /// The database's message.
        message: String,
    },
    /// The database lacks a table or column groxide reads, or its tables
    /// could not be created.
    #[error("user directory {backend}: {message}")]
    Schema {
        /// The backend.
        backend: String,
        /// What is missing or failed.
        message: String,
    },
    /// The directory contradicts itself (a homeserver id with no server, a
    /// store dir with two owners).
    #[error("user directory {backend} is inconsistent: {message}")]
    Inconsistent {
        /// The backend.
        backend: String,
        /// What contradicts what.
        message: String,
    },
    /// The record asked for does not exist.
    #[error("{what} does not exist")]
    NotFound {
        /// E.g. `user alice@example.org`.
        what: String,
    },
    /// A record with this name already exists.
    #[error("{what} already exists")]
    AlreadyExists {
        /// E.g. `domain example.org`.
        what: String,
    },
    /// The change would break a reference (a domain that still has users, a
    /// server that is still somebody's homeserver).
    #[error("{message}")]
    Conflict {
        /// What is in the way.
        message: String,
    },
    /// A login name matches more than one user (as username, altname or
    /// alias); gromox refuses such logins and so do we.
    #[error("{name} names more than one user")]
    Ambiguous {
        /// The name.
        name: String,
    },
    /// A value given to a write is not acceptable.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which value, e.g. `username`.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl DirectoryError {
    /// Whether the same request may succeed later without a change (the
    /// database was unreachable).
    pub fn is_retryable(&self) -> bool {
        matches!(self, DirectoryError::Unavailable { .. })
    }

    pub(crate) fn not_found(what: impl Into<String>) -> DirectoryError {
        DirectoryError::NotFound { what: what.into() }
    }

    pub(crate) fn exists(what: impl Into<String>) -> DirectoryError {
        DirectoryError::AlreadyExists { what: what.into() }
    }

    pub(crate) fn conflict(message: impl Into<String>) -> DirectoryError {
        DirectoryError::Conflict {
            message: message.into(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> DirectoryError {
        DirectoryError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
