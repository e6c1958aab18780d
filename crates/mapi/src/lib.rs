//! groxide-mapi: what a MAPI property *is*, independent of where it is kept.
//!
//! - [`PropTag`], [`PropType`], [`PropValue`]: tagged, typed values
//!   ([MS-OXCDATA] 2.11); FILETIME helpers for PT_SYSTIME.
//! - [`tags`]: the PR_* tags and flag values groxide uses.
//! - [`Guid`]: property-set identity in its wire byte order, with the usual
//!   `{XXXXXXXX-…}` text form.
//! - [`NamedProp`] (set + LID or string) and [`PropKey`] (a tag, or a named
//!   property with its type, before a store has assigned it an id).
//! - [`psets`] and [`lids`]: the well-known property sets and the named
//!   properties of appointments, meetings, contacts, distribution lists,
//!   tasks, notes and journal entries, with [MS-OXPROPS] ids and types.
//!
//! Invariant: no I/O and no storage encoding. How a store keeps values
//! (SQLite columns, property bags) lives in groxide-store; how a store maps
//! names to ids (≥ 0x8000) is that store's business.

pub mod guid;
pub mod lids;
pub mod named;
pub mod psets;
pub mod tags;
pub mod value;

pub use guid::{Guid, GuidParseError};
pub use named::{KnownName, KnownProp, NameKind, NamedProp, PropKey};
pub use value::{
    Prop, PropTag, PropType, PropValue, TICKS_PER_SECOND, TypeMismatch, filetime_from_unix,
    find_prop, unix_from_filetime,
};
