//! EWS response codes and the `ResponseMessages` wrapper every operation
//! answers in: one message per requested item, each `Success` with its
//! payload or `Error` with a code from the schema's `ResponseCodeType`.

use crate::xml::XmlWriter;
use groxide_rpc::RpcError;
use groxide_rpc::reason::Reason;

macro_rules! codes {
    ($($name:ident,)*) => {
        /// The `ResponseCodeType` values this server answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ResponseCode {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )*
        }

        impl ResponseCode {
            /// The schema's name.
            pub fn as_str(self) -> &'static str {
                match self { $(ResponseCode::$name => stringify!($name),)* }
            }
        }
    };
}

codes! {
    NoError,
    ErrorAccessDenied,
    ErrorInvalidAttachmentId,
    ErrorCannotDeleteObject,
    ErrorDeleteDistinguishedFolder,
    ErrorFolderExists,
    ErrorFolderNotFound,
    ErrorImpersonateUserDenied,
    ErrorInternalServerError,
    ErrorInternalServerTransientError,
    ErrorInvalidChangeKey,
    ErrorInvalidIdEmpty,
    ErrorInvalidIdMalformed,
    ErrorInvalidItemForOperationAcceptItem,
    ErrorInvalidItemForOperationDeclineItem,
    ErrorInvalidItemForOperationTentative,
    ErrorInvalidOperation,
    ErrorInvalidPropertyRequest,
    ErrorInvalidRecipients,
    ErrorInvalidRequest,
    ErrorInvalidServerVersion,
    ErrorInvalidSyncStateData,
    ErrorItemNotFound,
    ErrorItemSave,
    ErrorMessageDispositionRequired,
    ErrorMessageSizeExceeded,
    ErrorMessageSubmissionBlocked,
    ErrorMailRecipientNotFound,
    ErrorMimeContentConversionFailed,
    ErrorNameResolutionMultipleResults,
    ErrorNameResolutionNoResults,
    ErrorObjectTypeChanged,
    ErrorQuotaExceeded,
    ErrorSchemaValidation,
    ErrorToFolderNotFound,
    ErrorUnsupportedPathForQuery,
    ErrorUnsupportedQueryFilter,
    ErrorExpiredSubscription,
    ErrorInvalidPullSubscriptionId,
    ErrorInvalidSubscription,
    ErrorInvalidWatermark,
    ErrorMissedNotificationEvents,
    ErrorSubscriptionAccessDenied,
    ErrorSubscriptionNotFound,
    ErrorTooManyObjectsOpened,
}

/// A per-item failure: a code and one line for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct EwsError {
    /// The response code.
    pub code: ResponseCode,
    /// `MessageText`.
    pub message: String,
}

impl EwsError {
    /// An error with `code`.
    pub fn new(code: ResponseCode, message: impl Into<String>) -> EwsError {
        EwsError {
            code,
            message: message.into(),
        }
    }

    /// A request the schema allows but this server does not do.
    pub fn unsupported(what: impl std::fmt::Display) -> EwsError {
        EwsError::new(
            ResponseCode::ErrorInvalidOperation,
            format!("{what} is not supported by this server"),
        )
    }

    /// A malformed request element.
    pub fn invalid(what: impl Into<String>) -> EwsError {
        EwsError::new(ResponseCode::ErrorInvalidRequest, what)
    }

    /// What a store error means to the client. `missing` is the code for
    /// a missing object (folder or item, as the caller knows).
    pub fn from_rpc(e: &RpcError, missing: ResponseCode) -> EwsError {
        let code = match e.reason() {
            Some(Reason::NoSuchFolder) if missing == ResponseCode::ErrorItemNotFound => {
                ResponseCode::ErrorFolderNotFound
            }
            Some(Reason::NoSuchFolder | Reason::NoSuchMessage) => missing,
            Some(Reason::QuotaExceeded) => ResponseCode::ErrorQuotaExceeded,
            Some(Reason::TooLarge) => ResponseCode::ErrorMessageSizeExceeded,
            Some(Reason::FolderExists) => ResponseCode::ErrorFolderExists,
            Some(Reason::NotPermitted) => ResponseCode::ErrorAccessDenied,
            _ if e.is_retryable() => ResponseCode::ErrorInternalServerTransientError,
            _ => ResponseCode::ErrorInternalServerError,
        };
        if matches!(
            code,
            ResponseCode::ErrorInternalServerError
                | ResponseCode::ErrorInternalServerTransientError
        ) {
            tracing::warn!(error = %e, "EWS store request failed");
            return EwsError::new(code, "the mailbox store is unavailable; try again later");
        }
        EwsError::new(code, e.to_string())
    }
}

/// What an operation answers: one result per requested item.
pub type ItemResults<T> = Vec<Result<T, EwsError>>;

/// Writes `<m:{op}Response><m:ResponseMessages>` with one
/// `<m:{op}ResponseMessage>` per result; `payload` writes a success's
/// elements after `ResponseCode`.
pub fn write_messages<T>(
    w: &mut XmlWriter,
    op: &str,
    results: &[Result<T, EwsError>],
    mut payload: impl FnMut(&mut XmlWriter, &T),
) {
    let response = format!("m:{op}Response");
    let message = format!("m:{op}ResponseMessage");
    w.open(&response, &[]).open("m:ResponseMessages", &[]);
    for r in results {
        match r {
            Ok(value) => {
                w.open(&message, &[("ResponseClass", "Success")])
                    .leaf("m:ResponseCode", ResponseCode::NoError.as_str());
                payload(w, value);
                w.close();
            }
            Err(e) => {
                write_error(w, &message, e);
            }
        }
    }
    w.close().close();
}

/// One `Error` response message.
pub fn write_error(w: &mut XmlWriter, element: &str, e: &EwsError) {
    w.open(element, &[("ResponseClass", "Error")])
        .leaf("m:MessageText", &e.message)
        .leaf("m:ResponseCode", e.code.as_str())
        .leaf("m:DescriptiveLinkKey", "0")
        .close();
}
