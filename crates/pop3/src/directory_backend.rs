//! The real [`Backend`]: logins through the user directory (its throttling,
//! account state and the IMAP/POP3 privilege bit), the INBOX through midb.

use crate::maildrop::{Backend, LoginError};
use crate::midb_maildrop::MidbMaildrop;
use groxide_directory::{AuthError, Authenticator, Protocol};
use groxide_rpc::RoutedClient;
use std::net::IpAddr;
use std::sync::Arc;

/// Directory logins, midb maildrops.
pub struct DirectoryBackend {
    auth: Arc<Authenticator>,
    midb: Arc<RoutedClient>,
}

impl DirectoryBackend {
    /// A backend authenticating with `auth` and reading through `midb`.
    pub fn new(auth: Arc<Authenticator>, midb: Arc<RoutedClient>) -> DirectoryBackend {
        DirectoryBackend { auth, midb }
    }
}

impl Backend for DirectoryBackend {
    type Drop = MidbMaildrop;

    async fn login(
        &self,
        user: &str,
        password: &str,
        peer: IpAddr,
    ) -> Result<MidbMaildrop, LoginError> {
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
                AuthError::Unavailable(e) => LoginError::Unavailable(e.to_string()),
            })?;
        tracing::debug!(user = %account.username, dir = %account.maildir, %peer, "POP3 login");
        MidbMaildrop::open(self.midb.clone(), &account.maildir)
            .await
            .map_err(|e| LoginError::Unavailable(e.to_string()))
    }
}
