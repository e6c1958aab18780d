//! groxide-mime: everything groxide derives from raw RFC 5322/MIME bytes,
//! and MIME built from a structured message.
//!
//! Architecture invariant: this crate does no I/O. It reads the bytes it is
//! given and returns values; it knows nothing of the store, IMAP sessions or
//! files. It never refuses mail: broken, truncated or binary input gives the
//! best result that can be derived, never an error or a panic.
//!
//! - [`parse_summary`]: fields the store derives at delivery/APPEND.
//! - [`render_envelope`], [`render_bodystructure`]: IMAP FETCH data.
//! - [`locate_section`], [`decode_section`], [`binary_size`]: FETCH
//!   BODY[section] and BINARY.
//! - [`searchable_text`], [`header_values`], [`base_subject`],
//!   [`sort_address`], [`display_sort_key`]: SEARCH, SORT and THREAD.
//! - [`build_mime`]: MIME for a message created as properties.
//! - [`find_header`]: quick header look-up at delivery.
//!
//! [`ParsedMessage`] parses once and answers all of these, for callers that
//! need several.

mod address;
mod bodystructure;
mod build;
mod charset;
mod envelope;
mod header;
mod imap_string;
mod limits;
mod params;
mod search;
mod section;
mod summary;
mod transfer;
mod tree;

pub use address::Address;
pub use build::{BuildError, OutgoingAttachment, OutgoingMessage, build_mime};
pub use header::find_header;
pub use limits::{
    DEFAULT_MAX_ADDRESSES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_HEADER_BLOCK_BYTES,
    DEFAULT_MAX_HEADER_FIELD_BYTES, DEFAULT_MAX_HEADER_FIELDS, DEFAULT_MAX_PARAMS,
    DEFAULT_MAX_PARTS, DEFAULT_MAX_SEARCH_TEXT, MAX_QUOTED_STRING, MimeLimits,
};
pub use search::{AddressGroups, base_subject, display_sort_key, sort_address};
pub use section::{SectionBytes, SectionKind, SectionSpec};
pub use summary::{
    AttachmentInfo, Disposition, HeaderEntry, Importance, MessageDate, MessageSummary, Sensitivity,
};
pub use transfer::UnknownCte;

/// A message parsed once: its MIME structure, borrowed from the raw bytes.
#[derive(Debug, Clone)]
pub struct ParsedMessage<'a> {
    raw: &'a [u8],
    root: tree::Part,
    limits: MimeLimits,
}

impl<'a> ParsedMessage<'a> {
    /// Parses `raw` with the default limits. Never fails.
    pub fn parse(raw: &'a [u8]) -> Self {
        Self::with_limits(raw, MimeLimits::default())
    }

    /// Parses `raw` with the given limits. Never fails.
    pub fn with_limits(raw: &'a [u8], limits: MimeLimits) -> Self {
        let root = tree::parse_tree(raw, &limits);
        Self { raw, root, limits }
    }

    /// The raw bytes this message was parsed from.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// See [`parse_summary`].
    pub fn summary(&self) -> MessageSummary {
        summary::summarize(self.raw, &self.root, &[], &self.limits)
    }

    /// See [`render_envelope`].
    pub fn envelope(&self) -> Vec<u8> {
        let mut out = Vec::new();
        envelope::write_envelope(&mut out, self.raw, &self.root.fields, &self.limits);
        out
    }

    /// See [`render_bodystructure`].
    pub fn bodystructure(&self, extensible: bool) -> Vec<u8> {
        let mut out = Vec::new();
        bodystructure::write_body(&mut out, self.raw, &self.root, extensible, &self.limits);
        out
    }

    /// See [`locate_section`].
    pub fn locate_section(&self, spec: &SectionSpec) -> SectionBytes {
        section::locate(self.raw, &self.root, spec)
    }

    /// See [`decode_section`].
    pub fn decode_section(&self, path: &[u32]) -> Result<Vec<u8>, UnknownCte> {
        section::decode(self.raw, &self.root, path)
    }

    /// See [`binary_size`].
    pub fn binary_size(&self, path: &[u32]) -> Result<usize, UnknownCte> {
        section::decoded_size(self.raw, &self.root, path)
    }

    /// See [`attachment_content`].
    pub fn attachment_content(&self, attachment: &AttachmentInfo) -> Vec<u8> {
        match section::resolve(&self.root, &attachment.part_numbers()) {
            Some(p) => p.encoding.decode_lossy(&self.raw[p.body.clone()]),
            None => Vec::new(),
        }
    }

    /// See [`searchable_text`].
    pub fn searchable_text(&self) -> String {
        search::searchable_text(self.raw, &self.root, &self.limits)
    }

    /// See [`header_values`].
    pub fn header_values(&self, name: &str) -> Vec<String> {
        search::header_values(self.raw, &self.root, name)
    }

    /// The groups of the top-level address field `name` (`From`, `To`, …).
    pub fn address_groups(&self, name: &str) -> AddressGroups {
        search::address_groups(self.raw, &self.root, name, self.limits.max_addresses)
    }
}

/// Derives a [`MessageSummary`] from raw message bytes, best effort: never
/// fails, never panics; broken input yields whatever could be derived.
pub fn parse_summary(raw: &[u8]) -> MessageSummary {
    ParsedMessage::parse(raw).summary()
}

/// The IMAP ENVELOPE of a message: `(date subject from sender reply-to to
/// cc bcc in-reply-to message-id)`, values as written (encoded words stay
/// encoded), strings quoted or sent as literals as their content requires.
pub fn render_envelope(raw: &[u8]) -> Vec<u8> {
    // Only the header block matters; skip parsing the MIME structure.
    let limits = MimeLimits::default();
    let block = header::parse_header_block(raw, 0, raw.len(), &limits);
    let mut out = Vec::new();
    envelope::write_envelope(&mut out, raw, &block.fields, &limits);
    out
}

/// The IMAP BODYSTRUCTURE (`extensible`, with extension data) or BODY of a
/// message. Always syntactically valid, also for broken MIME; see the
/// crate's README for case and fallback rules.
pub fn render_bodystructure(raw: &[u8], extensible: bool) -> Vec<u8> {
    ParsedMessage::parse(raw).bodystructure(extensible)
}

/// Locates `BODY[section]`: a byte range of `raw`, or built bytes for
/// HEADER.FIELDS(.NOT). A missing part gives an empty range.
pub fn locate_section(raw: &[u8], spec: &SectionSpec) -> SectionBytes {
    ParsedMessage::parse(raw).locate_section(spec)
}

/// `BINARY[path]` (RFC 3516): the part's content with its transfer encoding
/// undone. Empty for a missing part; an error for an unknown encoding.
pub fn decode_section(raw: &[u8], path: &[u32]) -> Result<Vec<u8>, UnknownCte> {
    ParsedMessage::parse(raw).decode_section(path)
}

/// `BINARY.SIZE[path]`: the length of [`decode_section`]'s result, computed
/// without keeping the decoded bytes.
pub fn binary_size(raw: &[u8], path: &[u32]) -> Result<usize, UnknownCte> {
    ParsedMessage::parse(raw).binary_size(path)
}

/// The decoded content of an attachment listed by [`parse_summary`] for the
/// same `raw`: transfer encoding undone; for message/rfc822 the embedded
/// message's bytes. Empty when the part no longer exists.
pub fn attachment_content(raw: &[u8], attachment: &AttachmentInfo) -> Vec<u8> {
    ParsedMessage::parse(raw).attachment_content(attachment)
}

/// Text for full-text indexing: decoded subject and addresses, and the
/// decoded text of every text part (HTML turned into text), embedded
/// messages included; at most [`MimeLimits::max_search_text`] bytes.
pub fn searchable_text(raw: &[u8]) -> String {
    ParsedMessage::parse(raw).searchable_text()
}

/// The decoded values of every top-level field called `name`, in order.
pub fn header_values(raw: &[u8], name: &str) -> Vec<String> {
    ParsedMessage::parse(raw).header_values(name)
}
