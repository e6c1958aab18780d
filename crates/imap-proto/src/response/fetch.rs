//! FETCH response data. ENVELOPE and BODYSTRUCTURE come pre-rendered as IMAP
//! syntax (computed by the MIME layer, cached by midb) and are written
//! through unchanged.

use crate::command::Section;
use crate::datetime::ImapDateTime;
use crate::flag::Flag;

/// `* seq FETCH (items)`; for bodies that should not be held in memory
/// use [`crate::FetchWriter`] instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResponse {
    /// Message sequence number.
    pub seq: u32,
    /// The items, in order.
    pub items: Vec<FetchValue>,
}

/// One item of a FETCH response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchValue {
    /// `UID n`.
    Uid(u32),
    /// `FLAGS (...)` (may include `\Recent`).
    Flags(Vec<Flag>),
    /// `INTERNALDATE "..."`.
    InternalDate(ImapDateTime),
    /// `RFC822.SIZE n`.
    Rfc822Size(u64),
    /// `MODSEQ (n)`.
    ModSeq(u64),
    /// `ENVELOPE (...)`, pre-rendered.
    Envelope(Vec<u8>),
    /// `BODYSTRUCTURE (...)`, pre-rendered.
    BodyStructure(Vec<u8>),
    /// `BODY (...)` (non-extensible structure), pre-rendered.
    Body(Vec<u8>),
    /// `BODY[section]<origin>`, `BINARY[...]`, `RFC822*` with their data
    /// (`None` is `NIL`).
    Section {
        /// Which item.
        name: FetchBodyName,
        /// The bytes.
        data: Option<Vec<u8>>,
    },
    /// `BINARY.SIZE[part] n`.
    BinarySize {
        /// Part numbers.
        part: Vec<u32>,
        /// Decoded size.
        size: u64,
    },
}

/// The name of a FETCH item that carries message bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchBodyName {
    /// `BODY[section]<origin>`.
    Body {
        /// The section.
        section: Section,
        /// Start offset of a partial fetch.
        origin: Option<u64>,
    },
    /// `BINARY[part]<origin>`.
    Binary {
        /// Part numbers.
        part: Vec<u32>,
        /// Start offset of a partial fetch.
        origin: Option<u64>,
    },
    /// `RFC822`.
    Rfc822,
    /// `RFC822.HEADER`.
    Rfc822Header,
    /// `RFC822.TEXT`.
    Rfc822Text,
}
