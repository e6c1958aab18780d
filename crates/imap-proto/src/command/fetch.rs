//! FETCH: items, body sections, partial ranges, CONDSTORE/QRESYNC modifiers
//! (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162).

use std::num::NonZeroU64;

use crate::sequence::SequenceSet;

/// `[UID] FETCH set items [(CHANGEDSINCE n [VANISHED])]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchCommand {
    /// `UID FETCH`: `set` holds UIDs.
    pub uid: bool,
    /// Messages to fetch.
    pub set: SequenceSet,
    /// What to return.
    pub items: FetchItems,
    /// `CHANGEDSINCE n`: only messages whose mod-sequence is higher.
    pub changed_since: Option<u64>,
    /// `VANISHED` (QRESYNC, UID FETCH with CHANGEDSINCE only).
    pub vanished: bool,
}

/// The items of a FETCH: a macro or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItems {
    /// `ALL`: FLAGS INTERNALDATE RFC822.SIZE ENVELOPE.
    All,
    /// `FAST`: FLAGS INTERNALDATE RFC822.SIZE.
    Fast,
    /// `FULL`: FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY.
    Full,
    /// An explicit item or list of items (never empty).
    List(Vec<FetchItem>),
}

impl FetchItems {
    /// The items with macros expanded.
    pub fn expand(&self) -> Vec<FetchItem> {
        let mut items = vec![
            FetchItem::Flags,
            FetchItem::InternalDate,
            FetchItem::Rfc822Size,
        ];
        match self {
            FetchItems::Fast => {}
            FetchItems::All => items.push(FetchItem::Envelope),
            FetchItems::Full => items.extend([FetchItem::Envelope, FetchItem::Body]),
            FetchItems::List(list) => return list.clone(),
        }
        items
    }
}

/// One FETCH item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchItem {
    /// `ENVELOPE`.
    Envelope,
    /// `FLAGS`.
    Flags,
    /// `INTERNALDATE`.
    InternalDate,
    /// `RFC822` (same as `BODY[]`, sets \Seen).
    Rfc822,
    /// `RFC822.HEADER` (same as `BODY.PEEK[HEADER]`).
    Rfc822Header,
    /// `RFC822.SIZE`.
    Rfc822Size,
    /// `RFC822.TEXT` (same as `BODY[TEXT]`).
    Rfc822Text,
    /// `BODY` without section: non-extensible BODYSTRUCTURE.
    Body,
    /// `BODYSTRUCTURE`.
    BodyStructure,
    /// `UID`.
    Uid,
    /// `MODSEQ` (CONDSTORE).
    ModSeq,
    /// `BODY[section]<partial>` or `BODY.PEEK[...]`.
    BodySection {
        /// `BODY.PEEK`: do not set \Seen.
        peek: bool,
        /// Which part.
        section: Section,
        /// `<offset.length>`.
        partial: Option<Partial>,
    },
    /// `BINARY[part]<partial>` or `BINARY.PEEK[...]` (RFC 3516).
    Binary {
        /// `BINARY.PEEK`.
        peek: bool,
        /// Part numbers (empty for the whole message).
        part: Vec<u32>,
        /// `<offset.length>`.
        partial: Option<Partial>,
    },
    /// `BINARY.SIZE[part]`.
    BinarySize {
        /// Part numbers.
        part: Vec<u32>,
    },
}

/// A body section: part numbers and what of that part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Section {
    /// Part numbers `1.2.3` (empty for the whole message).
    pub part: Vec<u32>,
    /// `HEADER`, `TEXT`, `MIME`, ... (`None` for the whole part).
    pub text: Option<SectionText>,
}

/// The text specifier of a section.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionText {
    /// `HEADER`.
    Header,
    /// `HEADER.FIELDS (names)`.
    HeaderFields(Vec<String>),
    /// `HEADER.FIELDS.NOT (names)`.
    HeaderFieldsNot(Vec<String>),
    /// `TEXT`.
    Text,
    /// `MIME` (only after a part number).
    Mime,
}

/// `<offset.length>` of a partial fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partial {
    /// First byte.
    pub offset: u64,
    /// Most bytes to return.
    pub length: NonZeroU64,
}
