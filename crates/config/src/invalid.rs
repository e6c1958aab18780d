//! The error of a single value that does not parse, before it is tied to a key.

use std::fmt;

/// Why one config value text is not valid for its kind.
///
/// Carries no key or origin: [`crate::ConfigError::BadValue`] adds those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// What was expected, as a noun: `duration`, `size`, `boolean`, ….
    pub what: &'static str,
    /// Why it was refused or what a valid value looks like.
    pub reason: String,
}

impl InvalidValue {
    pub(crate) fn new(what: &'static str, reason: impl Into<String>) -> InvalidValue {
        InvalidValue {
            what,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} ({})", self.what, self.reason)
    }
}

impl std::error::Error for InvalidValue {}
