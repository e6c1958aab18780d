//! vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) ↔ IPM.Contact and IPM.DistList.
//!
//! Import ([`parse_vcards`]) reads any number of cards (2.1 too: calcard
//! decodes quoted-printable and `CHARSET=`); each card converts on its own
//! and keeps its text as [`crate::Item::original`]. Export
//! ([`item_to_vcard`]) writes 3.0 or 4.0 and merges the original by the same
//! rule as iCalendar (see [`export`]): groups of vCard properties whose
//! MAPI properties are unchanged are copied, changed groups are regenerated
//! (a regenerated line equal in value to an original one keeps the
//! original's group name and parameters, so `item1.EMAIL` stays tied to its
//! `item1.X-ABLabel`), everything else is copied.

pub mod export;
pub mod import;
pub mod semantic;

pub use export::{VcardVersion, item_to_vcard};
pub use import::{VcardImport, parse_vcards};
pub use semantic::compare_vcards;
