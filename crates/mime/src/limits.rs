//! Named limits that bound the work done on one message.
//!
//! Every parser state in this crate stops at one of these, so hostile input
//! costs bounded time and memory. Callers that need other values can pass
//! them through [`MimeLimits`].

/// Bounds applied while parsing one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MimeLimits {
    /// Deepest nesting of multipart and message/rfc822 parts that is parsed;
    /// deeper parts are treated as opaque application/octet-stream leaves.
    pub max_depth: usize,
    /// Most MIME parts (all levels together) kept for one message; the rest
    /// of a multipart past this count is ignored.
    pub max_parts: usize,
    /// Most header fields kept per header block; later fields are skipped.
    pub max_header_fields: usize,
    /// Most bytes of one header field's value that are parsed for derived
    /// values (ENVELOPE, BODYSTRUCTURE, summary, search); the rest of the
    /// value is ignored there. The raw bytes stay intact.
    pub max_header_field_bytes: usize,
    /// Most bytes of a header block in which fields are parsed; fields that
    /// start past it are skipped (the block still ends where it ends, so
    /// the body's position is exact).
    pub max_header_block_bytes: usize,
    /// Most parameters kept per Content-Type or Content-Disposition field.
    pub max_params: usize,
    /// Most addresses kept per address header.
    pub max_addresses: usize,
    /// Upper bound in bytes for [`crate::searchable_text`].
    pub max_search_text: usize,
}

/// Default for [`MimeLimits::max_depth`].
pub const DEFAULT_MAX_DEPTH: usize = 32;
/// Default for [`MimeLimits::max_parts`].
pub const DEFAULT_MAX_PARTS: usize = 4096;
/// Default for [`MimeLimits::max_header_fields`].
pub const DEFAULT_MAX_HEADER_FIELDS: usize = 4096;
/// Default for [`MimeLimits::max_header_field_bytes`]: 64 KiB.
pub const DEFAULT_MAX_HEADER_FIELD_BYTES: usize = 64 * 1024;
/// Default for [`MimeLimits::max_header_block_bytes`]: 1 MiB.
pub const DEFAULT_MAX_HEADER_BLOCK_BYTES: usize = 1024 * 1024;
/// Default for [`MimeLimits::max_params`].
pub const DEFAULT_MAX_PARAMS: usize = 64;
/// Default for [`MimeLimits::max_addresses`].
pub const DEFAULT_MAX_ADDRESSES: usize = 2048;
/// Default for [`MimeLimits::max_search_text`]: 4 MiB of text per message.
pub const DEFAULT_MAX_SEARCH_TEXT: usize = 4 * 1024 * 1024;

/// Longest string that IMAP rendering sends as a quoted string; longer
/// strings become literals so a client's line-length limit is not hit.
pub const MAX_QUOTED_STRING: usize = 1024;

impl Default for MimeLimits {
    fn default() -> Self {
        Self {
            max_depth: DEFAULT_MAX_DEPTH,
            max_parts: DEFAULT_MAX_PARTS,
            max_header_fields: DEFAULT_MAX_HEADER_FIELDS,
            max_header_field_bytes: DEFAULT_MAX_HEADER_FIELD_BYTES,
            max_header_block_bytes: DEFAULT_MAX_HEADER_BLOCK_BYTES,
            max_params: DEFAULT_MAX_PARAMS,
            max_addresses: DEFAULT_MAX_ADDRESSES,
            max_search_text: DEFAULT_MAX_SEARCH_TEXT,
        }
    }
}
