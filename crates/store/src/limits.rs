//! Limits a store enforces; the daemon fills them from its config
//! (`mail_max_length`, `max_store_message_count`).

/// Default largest message (gromox's `mail_max_length` default, 64 MiB).
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 64 * 1024 * 1024;

/// Per-store limits, the same for every store of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Largest message accepted, in bytes.
    pub max_message_size: u64,
    /// Most messages one store may hold; 0 = unlimited.
    pub max_message_count: u64,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_message_count: 0,
        }
    }
}
