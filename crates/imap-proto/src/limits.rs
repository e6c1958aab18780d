//! Size and shape limits of the command receiver. Every parser state is
//! bounded by one of these, so a client cannot make the server hold
//! unbounded memory or recurse without end.

/// Default [`ReceiverLimits::max_line_length`]: 64 KiB.
pub const DEFAULT_MAX_LINE_LENGTH: usize = 64 * 1024;
/// Default [`ReceiverLimits::max_literal_size`]: 64 MiB.
pub const DEFAULT_MAX_LITERAL_SIZE: u64 = 64 * 1024 * 1024;
/// Default [`ReceiverLimits::max_argument_literal_bytes`]: 1 MiB.
pub const DEFAULT_MAX_ARGUMENT_LITERAL_BYTES: usize = 1024 * 1024;
/// Default [`ReceiverLimits::max_tag_length`].
pub const DEFAULT_MAX_TAG_LENGTH: usize = 64;
/// Default [`ReceiverLimits::max_nesting_depth`].
pub const DEFAULT_MAX_NESTING_DEPTH: usize = 32;
/// Default [`ReceiverLimits::max_tokens`].
pub const DEFAULT_MAX_TOKENS: usize = 32 * 1024;
/// Largest non-synchronising literal that LITERAL- allows (RFC 7888 §4).
pub const LITERAL_MINUS_MAX: u64 = 4096;

/// Which non-synchronising literals (`{N+}`) the server accepts; this must
/// match the capability it advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonSyncLiterals {
    /// LITERAL- (and IMAP4rev2): `{N+}` only up to 4096 bytes.
    UpTo4096,
    /// LITERAL+: `{N+}` of any size up to the literal limits.
    Any,
}

/// Limits of one [`crate::Receiver`]. Construct with [`Default`] and
/// override fields; each field names its default constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverLimits {
    /// Bytes of one command excluding literal data (all its lines
    /// together). Default [`DEFAULT_MAX_LINE_LENGTH`].
    pub max_line_length: usize,
    /// Largest APPEND message literal (the APPENDLIMIT the server
    /// advertises); when APPEND data is buffered rather than streamed, the
    /// total of all messages of one command. Default
    /// [`DEFAULT_MAX_LITERAL_SIZE`].
    pub max_literal_size: u64,
    /// Total bytes of the other literals of one command (mailbox names,
    /// passwords, search strings), which are held in memory. Default
    /// [`DEFAULT_MAX_ARGUMENT_LITERAL_BYTES`].
    pub max_argument_literal_bytes: usize,
    /// Longest tag. Default [`DEFAULT_MAX_TAG_LENGTH`].
    pub max_tag_length: usize,
    /// Deepest nesting of parenthesised lists and search keys (`NOT`,
    /// `OR`, `(...)`). Default [`DEFAULT_MAX_NESTING_DEPTH`].
    pub max_nesting_depth: usize,
    /// Most tokens (atoms, numbers, strings, sequence ranges) in one
    /// command. Default [`DEFAULT_MAX_TOKENS`].
    pub max_tokens: usize,
    /// Which non-synchronising literals are accepted. Default LITERAL-.
    pub non_sync_literals: NonSyncLiterals,
}

/// The defaults, usable in `const` context.
pub const DEFAULT_LIMITS: ReceiverLimits = ReceiverLimits {
    max_line_length: DEFAULT_MAX_LINE_LENGTH,
    max_literal_size: DEFAULT_MAX_LITERAL_SIZE,
    max_argument_literal_bytes: DEFAULT_MAX_ARGUMENT_LITERAL_BYTES,
    max_tag_length: DEFAULT_MAX_TAG_LENGTH,
    max_nesting_depth: DEFAULT_MAX_NESTING_DEPTH,
    max_tokens: DEFAULT_MAX_TOKENS,
    non_sync_literals: NonSyncLiterals::UpTo4096,
};

impl Default for ReceiverLimits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}
