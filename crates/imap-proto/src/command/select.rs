//! SELECT/EXAMINE parameters: CONDSTORE and QRESYNC (RFC 7162 §3.2.5).

use std::num::{NonZeroU32, NonZeroU64};

use crate::sequence::SequenceSet;

/// Parameters of SELECT and EXAMINE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectParams {
    /// `(CONDSTORE)`.
    pub condstore: bool,
    /// `(QRESYNC (...))`.
    pub qresync: Option<QresyncParams>,
}

/// `QRESYNC (uidvalidity modseq [known-uids [(seq-set uid-set)]])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QresyncParams {
    /// The UIDVALIDITY the client last knew.
    pub uid_validity: NonZeroU32,
    /// The last mod-sequence the client knew.
    pub mod_seq: NonZeroU64,
    /// UIDs the client knows (no `*`).
    pub known_uids: Option<SequenceSet>,
    /// Message sequence numbers and the UIDs they map to, as hints.
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}
