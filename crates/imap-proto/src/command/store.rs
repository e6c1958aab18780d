//! STORE (RFC 9051 §6.4.6, UNCHANGEDSINCE from RFC 7162).

use crate::flag::Flag;
use crate::sequence::SequenceSet;

/// `[UID] STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCommand {
    /// `UID STORE`.
    pub uid: bool,
    /// Messages to change.
    pub set: SequenceSet,
    /// `UNCHANGEDSINCE n`: only change messages not modified after n.
    pub unchanged_since: Option<u64>,
    /// Replace, add or remove.
    pub action: StoreAction,
    /// `.SILENT`: no untagged FETCH for the change.
    pub silent: bool,
    /// The flags.
    pub flags: Vec<Flag>,
}

/// `FLAGS`, `+FLAGS` or `-FLAGS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreAction {
    /// `FLAGS`: set exactly these.
    Replace,
    /// `+FLAGS`.
    Add,
    /// `-FLAGS`.
    Remove,
}
