//! Who a recipient address is: the seam between delivery and the directory.

use std::future::Future;

/// A mailbox mail can be delivered to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    /// The owner's primary address (after alias and extension resolution).
    pub user: String,
    /// The store directory (`users.maildir`), the key every store RPC carries.
    pub dir: String,
}

/// The answer for one RCPT TO address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Deliver into this mailbox.
    Mailbox(Mailbox),
    /// No such recipient (550 5.1.1).
    Unknown,
    /// The recipient exists but may not receive mail: suspended, deleted,
    /// a contact object (550 5.2.1).
    NotAllowed,
    /// The directory could not answer now (451 4.3.0; the client retries).
    TemporaryFailure(String),
}

/// Resolves envelope recipients: user, alias, `user+tag@` extension,
/// catch-all. Implemented by the directory adapter, and by an in-memory
/// table in tests.
pub trait RecipientResolver: Send + Sync + 'static {
    /// Resolves one address as given in RCPT TO.
    fn resolve(&self, address: &str) -> impl Future<Output = Resolution> + Send;
}

/// A shared resolver resolves as the one it points to.
impl<T: RecipientResolver> RecipientResolver for std::sync::Arc<T> {
    async fn resolve(&self, address: &str) -> Resolution {
        (**self).resolve(address).await
    }
}
