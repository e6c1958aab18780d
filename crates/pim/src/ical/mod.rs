//! iCalendar (RFC 5545) ↔ MAPI items.
//!
//! Import ([`parse_calendar`]) reads a stream of VCALENDARs, groups the
//! VEVENT/VTODO/VJOURNAL components of each calendar by UID (a series and
//! its RECURRENCE-ID overrides are one item, as MAPI keeps them), and
//! converts each group on its own: one bad group is one error naming its
//! line and property, and never aborts the others. Each item keeps, as
//! [`crate::Item::original`], a VCALENDAR holding exactly its components and
//! the VTIMEZONEs they use — the object a CalDAV resource would be.
//!
//! Export ([`item_to_ical`]) regenerates the properties MAPI holds and,
//! when the item has an original, merges it: see [`export`] for the rule.

pub mod export;
pub mod imip;
pub mod import;
pub mod occurrence;
pub mod scheduling;
pub(crate) mod semantic;

pub use export::{ExportOptions, item_to_ical};
pub use import::{CalendarImport, ImportOptions, parse_calendar};
pub use semantic::{SemanticDiff, compare_calendars};
