//! What a POP3 session needs from the rest of groxide: logging a user in
//! ([`Backend`]) and their INBOX ([`Maildrop`]). The session is generic over
//! both, so tests drive it with in-memory fakes.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::future::Future;
use std::net::IpAddr;

/// One message of the maildrop snapshot taken at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildropMessage {
    /// The store's UID (what deletion names).
    pub uid: u32,
    /// Size in octets, as stored.
    pub size: u64,
    /// The unique id UIDL shows: stable across sessions and restarts.
    pub uidl: String,
}

/// What QUIT in the UPDATE state applies, all at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MaildropUpdate {
    /// UIDs marked with DELE.
    pub delete: Vec<u32>,
    /// UIDs retrieved with RETR (and not deleted): they get `\Seen`.
    pub seen: Vec<u32>,
}

/// Why the maildrop failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MaildropError {
    /// The message is gone (expunged by another client).
    #[error("the message no longer exists")]
    Gone,
    /// The store or midb could not be reached or failed; retry later.
    #[error("the mailbox is unavailable: {0}")]
    Unavailable(String),
}

/// The INBOX of a logged-in user.
pub trait Maildrop: Send {
    /// The messages of the INBOX now (the session's snapshot).
    fn messages(
        &mut self,
    ) -> impl Future<Output = Result<Vec<MaildropMessage>, MaildropError>> + Send;

    /// The bytes of a message, as stored, in chunks. `whole`: RETR (the
    /// client likely reads the next message next); TOP otherwise.
    fn retrieve(
        &mut self,
        uid: u32,
        whole: bool,
    ) -> impl Future<
        Output = Result<BoxStream<'static, Result<Bytes, MaildropError>>, MaildropError>,
    > + Send;

    /// Applies the session's deletions and `\Seen` marks (QUIT).
    fn commit(
        &mut self,
        update: MaildropUpdate,
    ) -> impl Future<Output = Result<(), MaildropError>> + Send;
}

/// Why a login failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user or wrong password.
    #[error("invalid user name or password")]
    InvalidCredentials,
    /// Too many failed logins from this address or for this account.
    #[error("too many failed logins; try again later")]
    Throttled,
    /// The account may not log in, or not with POP3.
    #[error("this account may not use POP3")]
    NotPermitted,
    /// The directory, midb or the store could not be reached; retry later.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

/// Logs users in and opens their maildrop.
pub trait Backend: Send + Sync {
    /// The maildrop of a logged-in user.
    type Drop: Maildrop;

    /// Checks `user` and `password` from `peer` and opens the user's INBOX.
    fn login(
        &self,
        user: &str,
        password: &str,
        peer: IpAddr,
    ) -> impl Future<Output = Result<Self::Drop, LoginError>> + Send;
}
