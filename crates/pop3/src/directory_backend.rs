//! The real [`Backend`]: logins through the user directory (its throttling,
//! account state and the IMAP/POP3 privilege bit), the INBOX through the
//! mailbox view (in-process for this node's stores, midb for others).

use crate::maildrop::{Backend, LoginError};
use crate::view_maildrop::ViewMaildrop;
use groxide_directory::{AuthError, Authenticator, Protocol};
use groxide_mailview::MailboxView;
use std::net::IpAddr;
use std::sync::Arc;

/// Directory logins, maildrops over a view.
pub struct DirectoryBackend<V> {
    auth: Arc<Authenticator>,
    view: Arc<V>,
}

impl<V: MailboxView> DirectoryBackend<V> {
    /// A backend authenticating with `auth` and reading through `view`.
    pub fn new(auth: Arc<Authenticator>, view: Arc<V>) -> DirectoryBackend<V> {
        DirectoryBackend { auth, view }
    }
}

impl<V: MailboxView> Backend for DirectoryBackend<V> {
    type Drop = ViewMaildrop<V>;

    async fn login(
        &self,
        user: &str,
        password: &str,
        peer: IpAddr,
    ) -> Result<ViewMaildrop<V>, LoginError> {
        let account = self
            .auth
            .authenticate(user, password, Protocol::Pop3, peer)
            .await
            .map_err(|e| match e {
                AuthError::Blocked(_) => LoginError::Throttled,
                AuthError::InvalidCredentials => LoginError::InvalidCredentials,
                AuthError::AccountDisabled | AuthError::ProtocolNotPermitted(_) => {
                    LoginError::NotPermitted
                }
                AuthError::Busy => LoginError::Unavailable("too many logins in progress".into()),
                AuthError::Unavailable(e) => LoginError::Unavailable(e.to_string()),
            })?;
        tracing::debug!(user = %account.username, dir = %account.maildir, %peer, "POP3 login");
        ViewMaildrop::open(self.view.clone(), &account.maildir)
            .await
            .map_err(|e| LoginError::Unavailable(e.to_string()))
    }
}
