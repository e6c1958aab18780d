//! Why a command failed, and the exit status that says so.

use groxide_directory::DirectoryError;
use groxide_rpc::RpcError;

/// Exit statuses (sysexits where one fits).
pub(crate) mod exit {
    /// Something failed.
    pub const FAILURE: u8 = 1;
    /// Wrong usage or a value that is not acceptable.
    pub const USAGE: u8 = 2;
    /// What the command names does not exist.
    pub const NOT_FOUND: u8 = 3;
    /// It exists already, or something else is in the way.
    pub const CONFLICT: u8 = 4;
    /// EX_UNAVAILABLE: a service or the directory cannot be reached.
    pub const UNAVAILABLE: u8 = 69;
    /// EX_CONFIG: the configuration is wrong.
    pub const CONFIG: u8 = 78;
}

/// A failed command: a message for stderr and an exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<DirectoryError> for Failure {
    fn from(e: DirectoryError) -> Failure {
        let code = match &e {
            DirectoryError::NotFound { .. } => exit::NOT_FOUND,
            DirectoryError::AlreadyExists { .. }
            | DirectoryError::Conflict { .. }
            | DirectoryError::Ambiguous { .. } => exit::CONFLICT,
            DirectoryError::Unavailable { .. } => exit::UNAVAILABLE,
            DirectoryError::Invalid { .. } => exit::USAGE,
            _ => exit::FAILURE,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<RpcError> for Failure {
    fn from(e: RpcError) -> Failure {
        let unimplemented = e
            .status()
            .is_some_and(|s| s.code() == tonic::Code::Unimplemented);
        let code = if e.is_retryable() || unimplemented {
            exit::UNAVAILABLE
        } else {
            exit::FAILURE
        };
        let mut message = e.to_string();
        if unimplemented {
            message.push_str(" (this groxide-exmdb does not serve the call yet)");
        }
        Failure::new(code, message)
    }
}
