//! Size and shape limits of the decoder and the XML parser. Every one of
//! them is checked before the memory it guards is allocated, so a document
//! cannot make the server hold more than a small multiple of its own size.

/// Default [`Limits::max_input_bytes`]: 64 MiB (a SendMail with
/// attachments travels as one document).
pub const DEFAULT_MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;
/// Default [`Limits::max_depth`]. EAS documents nest about 10 deep
/// (Sync/Collections/Collection/Commands/Add/ApplicationData/Attendees/…).
pub const DEFAULT_MAX_DEPTH: usize = 32;
/// Default [`Limits::max_elements`].
pub const DEFAULT_MAX_ELEMENTS: usize = 250_000;
/// Default [`Limits::max_string_bytes`]: 16 MiB.
pub const DEFAULT_MAX_STRING_BYTES: usize = 16 * 1024 * 1024;
/// Default [`Limits::max_opaque_bytes`]: 64 MiB.
pub const DEFAULT_MAX_OPAQUE_BYTES: usize = 64 * 1024 * 1024;

/// Limits of [`crate::decode`] and [`crate::Element::from_xml`]. Construct
/// with [`Default`] and override fields; each field names its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Size of the whole document in bytes. Default
    /// [`DEFAULT_MAX_INPUT_BYTES`].
    pub max_input_bytes: usize,
    /// Deepest nesting of elements; the root is depth 1. Default
    /// [`DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
    /// Number of elements in the document. Default
    /// [`DEFAULT_MAX_ELEMENTS`].
    pub max_elements: usize,
    /// Bytes of the string content of one element. Default
    /// [`DEFAULT_MAX_STRING_BYTES`].
    pub max_string_bytes: usize,
    /// Bytes of the opaque content of one element. Default
    /// [`DEFAULT_MAX_OPAQUE_BYTES`].
    pub max_opaque_bytes: usize,
}

/// The defaults, usable in `const` context.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
    max_depth: DEFAULT_MAX_DEPTH,
    max_elements: DEFAULT_MAX_ELEMENTS,
    max_string_bytes: DEFAULT_MAX_STRING_BYTES,
    max_opaque_bytes: DEFAULT_MAX_OPAQUE_BYTES,
};

impl Default for Limits {
    fn default() -> Limits {
        DEFAULT_LIMITS
    }
}
