//! groxide-pim: conversion between interchange formats (iCalendar, vCard)
//! and MAPI items, with the time-zone and recurrence machinery both sides
//! need. No I/O, no store: bytes in, [`Item`]s out, and back.
//!
//! - [`item`]: the item model ([`Item`], [`Recipient`], [`Attachment`]);
//!   properties keyed by [`groxide_mapi::PropKey`], so named properties need
//!   no per-store id until the store writes the item ([`Item::named_props`]
//!   lists the names to resolve).
//! - [`ical`]: iCalendar ↔ IPM.Appointment (with exceptions), IPM.Task,
//!   IPM.StickyNote; [`vcard`]: vCard 3.0/4.0 ↔ IPM.Contact, IPM.DistList.
//! - [`recur`]: RRULEs, the PidLidAppointmentRecur/PidLidTaskRecurrence
//!   blobs, bounded expansion of a series ([`recur::expand()`]) and the series
//!   of a stored item ([`recur::mapi::series_of_item`]).
//! - [`tz`]: Windows ↔ IANA names, TZREG/TZDEFINITION blobs.
//! - [`goid`]: PidLidGlobalObjectId ↔ UID.
//! - [`charset`], [`text`]: decoding and the content-line layer.
//!
//! # Libraries
//! calcard parses and writes iCalendar and vCard values (dates, durations,
//! RRULEs, quoted-printable, base64, charsets, vCard 3 ↔ 4 conversion);
//! chrono-tz is the zone database (calcard's own, so no second one). Not
//! taken from calcard: (1) its recurrence expansion — `expand_dates` walks
//! every instance from DTSTART into a `Vec` until a count limit and its
//! iterator is private, so a query far from DTSTART or over an endless rule
//! cannot be bounded by the range; [`recur::RuleIter`] expands period by
//! period and seeks to the range; (2) error positions — calcard is lenient
//! and reports no line numbers, so [`text`] splits the input into
//! components first (with physical line numbers) and each component is
//! parsed alone, which also keeps one broken component from failing its
//! neighbours.
//!
//! # Invariants
//! - No I/O; never panics on input (robustness proptests feed random and
//!   mangled input through every parser and writer).
//! - Every imported item keeps its source object in [`Item::original`]; the
//!   writers merge it back (the rule is in [`ical::export`]), so what MAPI
//!   cannot express survives a read-modify-write.
//! - Expansion is bounded by the range, an instance limit and a period limit
//!   ([`recur::ExpandOptions`]); nothing expands unboundedly.
//!
//! # What is lossy in MAPI (kept only in the original)
//! Floating times (stored in the owner's zone); RDATE; RRULEs Outlook
//! cannot express (BYHOUR, BYWEEKNO, several BYMONTHDAYs, sub-daily: the item
//! is stored as its first instance, PidLidRecurrencePattern says why);
//! RANGE=THISANDFUTURE (taken as one instance); alarms after the first;
//! attendee roles CHAIR/NON-PARTICIPANT (become required/optional); URL,
//! ATTACH, CONFERENCE, GEO and X- properties; on contacts e-mails after the
//! third, a second address of one kind, phones beyond their slots, a
//! birthday without year, a photo by URL, group members named by UID (the
//! store resolves them). Time zones keep their tz-database rules for
//! 1990–2037 in TZDEFINITION; a VTIMEZONE with an unknown name is matched
//! to a Windows zone by its rules, else kept as its own rule.

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
