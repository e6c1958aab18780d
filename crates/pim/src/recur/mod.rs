//! Recurrence: rules ([`rule`]), bounded expansion ([`mod@expand`]), the MAPI
//! recurrence blobs ([`pattern`]) and the mapping between rules and blobs
//! ([`convert`]).

pub mod convert;
pub mod expand;
pub mod mapi;
pub mod pattern;
pub mod rule;

pub use expand::{ExpandOptions, Expansion, Instance, Override, RuleIter, Series, Zone, expand};
pub use rule::{Freq, RecurRule, Until, WeekdayNum};
