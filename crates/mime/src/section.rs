//! FETCH body sections (RFC 3501 §6.4.5) and BINARY (RFC 3516).
//!
//! Part numbers: a multipart's parts are numbered from 1; a message that is
//! not multipart has one part, 1, its body; the parts of a message/rfc822
//! part are numbered below it as if it were a message of its own.

use std::ops::Range;

use crate::header::HeaderField;
use crate::transfer::UnknownCte;
use crate::tree::{Part, PartKind};

/// A section of a message as named in `BODY[<section>]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SectionSpec {
    /// Part numbers from the top, each from 1; empty for the whole message.
    pub part: Vec<u32>,
    /// What of that part.
    pub kind: SectionKind,
}

/// The part specifier after the part numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SectionKind {
    /// The whole message (no part numbers) or the part's body.
    #[default]
    Full,
    /// The header of the message or of the message/rfc822 part.
    Header,
    /// Only these header fields (names compared case-insensitively).
    HeaderFields(Vec<String>),
    /// All header fields but these.
    HeaderFieldsNot(Vec<String>),
    /// The body of the message or of the message/rfc822 part.
    Text,
    /// The MIME header of the part.
    Mime,
}

/// The bytes of a section: a range of the raw message (which a caller can
/// stream from a file), or bytes built for the answer (HEADER.FIELDS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionBytes {
    /// A range of the raw message; `0..0` when the section does not exist.
    Range(Range<usize>),
    /// Built bytes.
    Owned(Vec<u8>),
}

impl SectionBytes {
    /// The section's bytes, given the raw message it was located in.
    pub fn bytes<'a>(&'a self, raw: &'a [u8]) -> &'a [u8] {
        match self {
            Self::Range(r) => raw.get(r.clone()).unwrap_or_default(),
            Self::Owned(v) => v,
        }
    }

    /// Length in octets.
    pub fn len(&self) -> usize {
        match self {
            Self::Range(r) => r.len(),
            Self::Owned(v) => v.len(),
        }
    }

    /// Whether the section is empty (or missing).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Finds the part named by `path` (see the module documentation).
pub(crate) fn resolve<'p>(root: &'p Part, path: &[u32]) -> Option<&'p Part> {
    let mut cur = root;
    for (i, &n) in path.iter().enumerate() {
        let idx = usize::try_from(n).ok()?.checked_sub(1)?;
        let (container, is_message) = if i == 0 {
            (root, true)
        } else {
            match &cur.kind {
                PartKind::Message(inner) => (inner.as_ref(), true),
                _ => (cur, false),
            }
        };
        cur = match &container.kind {
            PartKind::Multipart(children) => children.get(idx)?,
            _ if is_message && idx == 0 => container,
            _ => return None,
        };
    }
    Some(cur)
}

/// The message a HEADER/TEXT specifier refers to: the top message, or the
/// one held by a message/rfc822 part.
fn message_at<'p>(root: &'p Part, path: &[u32]) -> Option<&'p Part> {
    if path.is_empty() {
        return Some(root);
    }
    match &resolve(root, path)?.kind {
        PartKind::Message(inner) => Some(inner),
        _ => None,
    }
}

const MISSING: SectionBytes = SectionBytes::Range(0..0);

pub(crate) fn locate(raw: &[u8], root: &Part, spec: &SectionSpec) -> SectionBytes {
    let path = spec.part.as_slice();
    match &spec.kind {
        SectionKind::Full if path.is_empty() => SectionBytes::Range(0..raw.len()),
        SectionKind::Full => {
            resolve(root, path).map_or(MISSING, |p| SectionBytes::Range(p.body.clone()))
        }
        SectionKind::Mime if path.is_empty() => MISSING,
        SectionKind::Mime => {
            resolve(root, path).map_or(MISSING, |p| SectionBytes::Range(p.header.clone()))
        }
        SectionKind::Header => {
            message_at(root, path).map_or(MISSING, |m| SectionBytes::Range(m.header.clone()))
        }
        SectionKind::Text => {
            message_at(root, path).map_or(MISSING, |m| SectionBytes::Range(m.body.clone()))
        }
        SectionKind::HeaderFields(names) => match message_at(root, path) {
            Some(m) => SectionBytes::Owned(select_fields(raw, &m.fields, names, true)),
            None => MISSING,
        },
        SectionKind::HeaderFieldsNot(names) => match message_at(root, path) {
            Some(m) => SectionBytes::Owned(select_fields(raw, &m.fields, names, false)),
            None => MISSING,
        },
    }
}

/// The fields whose name is (`keep`) or is not (`!keep`) in `names`, in
/// message order, followed by the blank line that ends a header.
fn select_fields(raw: &[u8], fields: &[HeaderField], names: &[String], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        let listed = names.iter().any(|n| f.is(raw, n));
        if listed != keep {
            continue;
        }
        let line = &raw[f.line.clone()];
        out.extend_from_slice(line);
        if !line.ends_with(b"\n") {
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The content of the part at `path` with its transfer encoding undone
/// (BINARY[path]); the whole raw message for an empty path; empty for a
/// missing part. Multiparts and messages are returned as they are.
pub(crate) fn decode(raw: &[u8], root: &Part, path: &[u32]) -> Result<Vec<u8>, UnknownCte> {
    if path.is_empty() {
        return Ok(raw.to_vec());
    }
    match resolve(root, path) {
        None => Ok(Vec::new()),
        Some(p) if matches!(p.kind, PartKind::Leaf) => p.encoding.decode(&raw[p.body.clone()]),
        Some(p) => Ok(raw[p.body.clone()].to_vec()),
    }
}

/// The length of what [`decode`] returns (BINARY.SIZE[path]).
pub(crate) fn decoded_size(raw: &[u8], root: &Part, path: &[u32]) -> Result<usize, UnknownCte> {
    if path.is_empty() {
        return Ok(raw.len());
    }
    match resolve(root, path) {
        None => Ok(0),
        Some(p) if matches!(p.kind, PartKind::Leaf) => p.encoding.decoded_len(&raw[p.body.clone()]),
        Some(p) => Ok(p.body.len()),
    }
}
