//! Errors. Parsing reports the line and property it failed at; one bad
//! component is one error and never aborts its neighbours.

use std::fmt;

/// Malformed input: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// 1-based line of the input (physical line, before unfolding) where the
    /// offending content line or component begins.
    pub line: usize,
    /// The component (`VEVENT`, `VTODO`, `VCARD`, …).
    pub component: String,
    /// The property, when one property is at fault (`DTSTART`, `RRULE`, …).
    pub property: Option<String>,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.component)?;
        if let Some(p) = &self.property {
            write!(f, " {p}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// BEGIN/END do not nest, or a component is not terminated.
    #[error("{0}")]
    Structure(String),
    /// A value does not have the form its property needs.
    #[error("invalid value: {0}")]
    BadValue(String),
    /// A property the item cannot do without is missing.
    #[error("required property is missing")]
    Missing,
    /// Valid input groxide does not convert.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The input is over a size or count limit.
    #[error("over the limit: {0}")]
    TooLarge(String),
}

/// A binary MAPI structure (recurrence pattern, time zone definition,
/// global object id) could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{structure}: {reason} (at byte {offset})")]
pub struct BlobError {
    /// Which structure, e.g. `AppointmentRecurrencePattern`.
    pub structure: &'static str,
    /// Byte offset where reading stopped.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

/// An item could not be written as iCalendar or vCard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The item lacks a property the format requires.
    #[error("the item has no {0}")]
    Missing(&'static str),
    /// The item is of a class the format does not carry.
    #[error("a {0} cannot be written as {1}")]
    WrongClass(&'static str, &'static str),
    /// A binary property of the item is malformed.
    #[error(transparent)]
    Blob(#[from] BlobError),
}
