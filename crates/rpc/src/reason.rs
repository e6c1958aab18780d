//! Stable, machine-readable error reasons carried next to gRPC status codes,
//! so callers can tell "retry elsewhere" from "fail" without parsing text.
//!
//! The reason travels in the `groxide-reason` metadata key; a reason that
//! names another node (STORE_NOT_HERE) puts it in `groxide-owner`.

use tonic::{Code, Status};

/// Metadata key holding the reason.
pub const REASON_KEY: &str = "groxide-reason";
/// Metadata key naming the node that owns a store (`host:port`).
pub const OWNER_KEY: &str = "groxide-owner";

/// The reasons groxide services use. The string form is the wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The store lives on another node (see `groxide-owner`).
    StoreNotHere,
    /// No store at that dir.
    NoSuchStore,
    /// No folder with that id.
    NoSuchFolder,
    /// No message with that id or UID.
    NoSuchMessage,
    /// A write would go past the store's quota.
    QuotaExceeded,
    /// A message or request is larger than allowed.
    TooLarge,
    /// The peer is not on the service's `*_hosts_allow` list.
    PeerNotAllowed,
    /// A folder of that name already exists.
    FolderExists,
    /// A flag change was refused because the message changed since the given MODSEQ.
    Modified,
    /// The request was well-formed but not allowed in this state.
    NotPermitted,
    /// A BINARY fetch met a content-transfer-encoding it cannot undo.
    UnknownCte,
    /// A special use was asked for that belongs to a standard folder.
    SpecialUseTaken,
    /// A conditional write found the item changed (If-Match) or existing
    /// (If-None-Match).
    PreconditionFailed,
    /// A sync token older than the folder's compacted tombstones: sync afresh.
    SyncTokenTooOld,
}

impl Reason {
    /// The wire form, e.g. `STORE_NOT_HERE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::StoreNotHere => "STORE_NOT_HERE",
            Reason::NoSuchStore => "NO_SUCH_STORE",
            Reason::NoSuchFolder => "NO_SUCH_FOLDER",
            Reason::NoSuchMessage => "NO_SUCH_MESSAGE",
            Reason::QuotaExceeded => "QUOTA_EXCEEDED",
            Reason::TooLarge => "TOO_LARGE",
            Reason::PeerNotAllowed => "PEER_NOT_ALLOWED",
            Reason::FolderExists => "FOLDER_EXISTS",
            Reason::Modified => "MODIFIED",
            Reason::NotPermitted => "NOT_PERMITTED",
            Reason::UnknownCte => "UNKNOWN_CTE",
            Reason::SpecialUseTaken => "SPECIAL_USE_TAKEN",
            Reason::PreconditionFailed => "PRECONDITION_FAILED",
            Reason::SyncTokenTooOld => "SYNC_TOKEN_TOO_OLD",
        }
    }

    /// Parses the wire form.
    pub fn parse(s: &str) -> Option<Reason> {
        Some(match s {
            "STORE_NOT_HERE" => Reason::StoreNotHere,
            "NO_SUCH_STORE" => Reason::NoSuchStore,
            "NO_SUCH_FOLDER" => Reason::NoSuchFolder,
            "NO_SUCH_MESSAGE" => Reason::NoSuchMessage,
            "QUOTA_EXCEEDED" => Reason::QuotaExceeded,
            "TOO_LARGE" => Reason::TooLarge,
            "PEER_NOT_ALLOWED" => Reason::PeerNotAllowed,
            "FOLDER_EXISTS" => Reason::FolderExists,
            "MODIFIED" => Reason::Modified,
            "NOT_PERMITTED" => Reason::NotPermitted,
            "UNKNOWN_CTE" => Reason::UnknownCte,
            "SPECIAL_USE_TAKEN" => Reason::SpecialUseTaken,
            "PRECONDITION_FAILED" => Reason::PreconditionFailed,
            "SYNC_TOKEN_TOO_OLD" => Reason::SyncTokenTooOld,
            _ => return None,
        })
    }
}

/// A status with a reason attached.
pub fn status(code: Code, reason: Reason, message: impl Into<String>) -> Status {
    let mut st = Status::new(code, message);
    if let Ok(v) = reason.as_str().parse() {
        st.metadata_mut().insert(REASON_KEY, v);
    }
    st
}

/// FAILED_PRECONDITION / STORE_NOT_HERE naming the owner (`host:port`).
pub fn store_not_here(dir: &str, owner: &str) -> Status {
    let mut st = status(
        Code::FailedPrecondition,
        Reason::StoreNotHere,
        format!("store {dir} is not served by this node; its home is {owner}"),
    );
    if let Ok(v) = owner.parse() {
        st.metadata_mut().insert(OWNER_KEY, v);
    }
    st
}

/// The reason a status carries, if any.
pub fn reason_of(status: &Status) -> Option<Reason> {
    status
        .metadata()
        .get(REASON_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(Reason::parse)
}

/// The owner a STORE_NOT_HERE status names, if any.
pub fn owner_of(status: &Status) -> Option<String> {
    status
        .metadata()
        .get(OWNER_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_survives_the_wire_form() {
        for r in [
            Reason::StoreNotHere,
            Reason::NoSuchStore,
            Reason::NoSuchFolder,
            Reason::NoSuchMessage,
            Reason::QuotaExceeded,
            Reason::TooLarge,
            Reason::PeerNotAllowed,
            Reason::FolderExists,
            Reason::Modified,
            Reason::NotPermitted,
            Reason::PreconditionFailed,
            Reason::SyncTokenTooOld,
        ] {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
            assert_eq!(reason_of(&status(Code::Internal, r, "x")), Some(r));
        }
    }

    #[test]
    fn store_not_here_names_the_owner() {
        let st = store_not_here("/var/lib/groxide/user/a", "127.0.0.3:5000");
        assert_eq!(st.code(), Code::FailedPrecondition);
        assert_eq!(reason_of(&st), Some(Reason::StoreNotHere));
        assert_eq!(owner_of(&st).as_deref(), Some("127.0.0.3:5000"));
        assert!(st.message().contains("127.0.0.3:5000"));
    }
}
