//! Store errors as gRPC statuses with a stable reason.

use groxide_rpc::reason::{Reason, status};
use groxide_store::StoreError;
use tonic::{Code, Status};

/// The status a store error is answered with.
pub(crate) fn to_status(e: StoreError) -> Status {
    let msg = e.to_string();
    match e {
        StoreError::NoSuchStore(_) => status(Code::NotFound, Reason::NoSuchStore, msg),
        StoreError::NoSuchFolder(_) | StoreError::NoSuchRole(_) => {
            status(Code::NotFound, Reason::NoSuchFolder, msg)
        }
        StoreError::NoSuchMessage(_) | StoreError::NoSuchUid { .. } => {
            status(Code::NotFound, Reason::NoSuchMessage, msg)
        }
        StoreError::FolderExists { .. } => status(Code::AlreadyExists, Reason::FolderExists, msg),
        StoreError::QuotaExceeded { .. } | StoreError::TooManyMessages { .. } => {
            status(Code::ResourceExhausted, Reason::QuotaExceeded, msg)
        }
        StoreError::TooLarge { .. } => status(Code::InvalidArgument, Reason::TooLarge, msg),
        StoreError::NotPermitted(_) | StoreError::StoreTypeMismatch { .. } => {
            status(Code::FailedPrecondition, Reason::NotPermitted, msg)
        }
        StoreError::InvalidArgument(_) => Status::invalid_argument(msg),
        StoreError::PreconditionFailed(_) => {
            status(Code::FailedPrecondition, Reason::PreconditionFailed, msg)
        }
        StoreError::SyncTokenTooOld(_) => {
            status(Code::FailedPrecondition, Reason::SyncTokenTooOld, msg)
        }
        StoreError::Closed => Status::unavailable(msg),
        other => {
            tracing::error!(error = %other, "store failure");
            Status::internal(msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_rpc::reason::reason_of;
    use groxide_store::{FolderId, MessageId};

    fn check(e: StoreError, code: Code, reason: Option<Reason>) {
        let s = to_status(e);
        assert_eq!((s.code(), reason_of(&s)), (code, reason), "{}", s.message());
    }

    #[test]
    fn store_errors_map_to_codes_and_reasons() {
        check(
            StoreError::NoSuchStore("/x".into()),
            Code::NotFound,
            Some(Reason::NoSuchStore),
        );
        check(
            StoreError::NoSuchFolder(FolderId(9)),
            Code::NotFound,
            Some(Reason::NoSuchFolder),
        );
        check(
            StoreError::NoSuchMessage(MessageId(9)),
            Code::NotFound,
            Some(Reason::NoSuchMessage),
        );
        check(
            StoreError::QuotaExceeded {
                needed: 1,
                used: 1,
                quota: 1,
            },
            Code::ResourceExhausted,
            Some(Reason::QuotaExceeded),
        );
        check(
            StoreError::TooLarge { size: 2, max: 1 },
            Code::InvalidArgument,
            Some(Reason::TooLarge),
        );
        check(
            StoreError::InvalidArgument("x".into()),
            Code::InvalidArgument,
            None,
        );
        check(StoreError::Closed, Code::Unavailable, None);
    }
}
