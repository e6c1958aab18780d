//! Everything a session needs from the rest of groxide, as one trait:
//! authentication (the directory), the mailbox view of a store (the
//! contract of groxide-mailview: in-process for stores of this node, the
//! home node's midb for others) and change hints (groxide-event). Sessions
//! are generic over it; tests run the production view over a temp-dir
//! store ([`local::LocalBackend`], feature `test-backend`).

#[cfg(feature = "test-backend")]
pub mod local;
pub mod services;

pub use groxide_mailview::*;

use std::future::Future;
use std::net::IpAddr;
use tokio::sync::broadcast;

/// A subscription to a store's change hints.
pub type EventWatch = broadcast::Receiver<StoreEvent>;

/// A logged-in user: who, and which store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user name as the directory spells it (connection limits count it).
    pub username: String,
    /// The store directory (the `dir` of every request).
    pub dir: String,
}

/// Why a login was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// Unknown name or wrong password.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failures from this address or for this account.
    #[error("too many failed logins; try again later")]
    Blocked,
    /// The account may not log in.
    #[error("account disabled")]
    AccountDisabled,
    /// The account may not use IMAP.
    #[error("IMAP access not permitted for this account")]
    ProtocolNotPermitted,
    /// The directory could not be asked.
    #[error("authentication service unavailable: {0}")]
    Unavailable(String),
}

/// The services behind a session.
pub trait Backend: Send + Sync + 'static {
    /// The mailbox view.
    type View: MailboxView;

    /// The mailbox view of the stores.
    fn view(&self) -> &Self::View;

    /// Checks a login for IMAP from `client`.
    fn authenticate(
        &self,
        login: &str,
        password: &str,
        client: IpAddr,
    ) -> impl Future<Output = Result<Account, AuthFailure>> + Send;

    /// Subscribes to change hints of the store; returns once the
    /// subscription is live, so no change after the return is missed.
    fn watch(&self, dir: &str) -> impl Future<Output = Result<EventWatch, ViewError>> + Send;
}

/// An APPEND upload of a backend's view.
pub type Upload<B> = <<B as Backend>::View as MailboxView>::Upload;

impl<B: Backend> Backend for std::sync::Arc<B> {
    type View = B::View;

    fn view(&self) -> &Self::View {
        (**self).view()
    }

    fn authenticate(
        &self,
        login: &str,
        password: &str,
        client: IpAddr,
    ) -> impl Future<Output = Result<Account, AuthFailure>> + Send {
        (**self).authenticate(login, password, client)
    }

    fn watch(&self, dir: &str) -> impl Future<Output = Result<EventWatch, ViewError>> + Send {
        (**self).watch(dir)
    }
}
