//! groxide-wbxml: the WBXML codec of Exchange ActiveSync ([MS-ASWBXML]),
//! without I/O. Request bodies go into [`decode`] and come out as an
//! [`Element`] tree; response trees go into [`encode`] and come out as
//! bytes. It knows the EAS code pages and nothing of commands, HTTP or the
//! store.
//!
//! # Public API
//! - [`CodePage`]: the 26 code pages of protocol versions 12.1–16.1 with
//!   their namespaces (`"AirSync:"`, …) and tag tables; one typed enum per
//!   page ([`AirSync`], [`Email`], [`AirSyncBase`], …) names its tags.
//! - [`Tag`] (a defined token on a page), [`Element`] and [`Content`]
//!   (empty, text, opaque bytes or children — never mixed), with builders
//!   ([`Element::with_text`], [`Element::with_children`], [`Element::push`])
//!   and lookups ([`Element::child`], [`Element::child_text`],
//!   [`Element::children_named`], [`Element::descendant`]).
//! - [`decode`] with [`Limits`] (errors: [`DecodeError`], each naming the
//!   byte offset and code page), [`encode`].
//! - [`Element::to_xml`], [`Element::to_xml_redacted`] (for logs) and
//!   [`Element::from_xml`] (errors: [`XmlError`]): the EAS XML form, for
//!   logs and for tests written as readable XML.
//!
//! ```
//! use groxide_wbxml::{AirSync, Element, Limits, decode, encode};
//!
//! let request = Element::with_children(AirSync::Sync, [Element::with_children(
//!     AirSync::Collections,
//!     [Element::with_children(AirSync::Collection, [
//!         Element::with_text(AirSync::SyncKey, "0"),
//!         Element::with_text(AirSync::CollectionId, "5"),
//!     ])],
//! )]);
//! let bytes = encode(&request);
//! assert_eq!(&bytes[..6], [0x03, 0x01, 0x6A, 0x00, 0x45, 0x5C]);
//!
//! let sync = decode(&bytes, &Limits::default())?;
//! let collection = sync
//!     .descendant(&[AirSync::Collections.into(), AirSync::Collection.into()])
//!     .expect("a collection");
//! assert_eq!(collection.child_text(AirSync::SyncKey), Some("0"));
//! # Ok::<(), groxide_wbxml::DecodeError>(())
//! ```
//!
//! # Invariants
//! - No I/O, no async; decoding is one pass with an explicit stack.
//! - Bounded: every limit is checked before the memory it guards is
//!   allocated (an OPAQUE length is checked against the remaining input
//!   first), so a document costs at most a small multiple of its size.
//! - Unknown means error: unknown code pages and tokens, attributes, string
//!   tables and the WBXML tokens EAS does not use are refused with the byte
//!   offset, never skipped or guessed.
//! - Never panics on input.
#![deny(missing_docs)]

mod code_page;
mod decode;
mod encode;
mod error;
mod limits;
mod tree;
mod wire;
mod xml;

pub use code_page::{
    AirNotify, AirSync, AirSyncBase, Calendar, CodePage, ComposeMail, Contacts, Contacts2,
    DocumentLibrary, Email, Email2, Find, FolderHierarchy, GAL, GetItemEstimate, ItemOperations,
    MeetingResponse, Move, Notes, Ping, Provision, ResolveRecipients, RightsManagement, Search,
    Settings, Tasks, ValidateCert,
};
pub use decode::decode;
pub use encode::encode;
pub use error::{DecodeError, XmlError};
pub use limits::{
    DEFAULT_LIMITS, DEFAULT_MAX_DEPTH, DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_INPUT_BYTES,
    DEFAULT_MAX_OPAQUE_BYTES, DEFAULT_MAX_STRING_BYTES, Limits,
};
pub use tree::{Content, Element, MixedContentError, Tag};
