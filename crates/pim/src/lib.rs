//! groxide-pim: conversion between interchange formats (iCalendar, vCard)
//! and MAPI items, with the time-zone and recurrence machinery both sides
//! need. No I/O, no store: bytes in, [`Item`]s out, and back.
//!
//! - [`item`]: the item model ([`Item`], [`Recipient`], [`Attachment`]).
//! - [`tz`]: Windows ↔ IANA names, TZREG/TZDEFINITION blobs.
//! - [`goid`]: PidLidGlobalObjectId ↔ UID.
//! - [`charset`]: best-effort decoding of non-UTF-8 input.
//!
//! Invariants: never panics on input (every parser is bounds-checked and
//! fuzz-shaped tests feed it truncations); never does I/O; keeps the source
//! object in [`Item::original`] so what MAPI cannot hold survives a
//! read-modify-write.

pub mod charset;
pub mod error;
pub mod goid;
pub mod ical;
pub mod item;
pub mod recur;
pub mod text;
pub mod tz;
pub mod vcard;

pub use error::{BlobError, ExportError, ParseError, ParseErrorKind};
pub use item::{
    Attachment, AttachmentContent, AttendeeRole, Item, ItemClass, PropMap, Recipient,
    ResponseStatus,
};
