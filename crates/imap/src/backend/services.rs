//! [`ServiceBackend`]: the real backend. Logins go to the directory (with
//! its throttle); mailbox requests to the [`RoutedView`] — in-process for
//! stores homed on this node (their files read here, writes through this
//! node's exmdb), the home node's groxide-midb for the others; change hints
//! come from the [`EventHub`].

use super::{Account, AuthFailure, Backend, EventWatch, ViewError};
use groxide_directory::{AuthError, Authenticator, Protocol};
use groxide_midb::RoutedView;
use groxide_midb::exmdb_writes::ExmdbWrites;
use groxide_rpc::event_hub::EventHub;
use std::net::IpAddr;
use std::sync::Arc;

/// The view of every store, as the daemon builds it.
pub type ServiceView = RoutedView<ExmdbWrites>;

/// The backend over the directory, the mailbox view and groxide-event.
pub struct ServiceBackend {
    auth: Arc<Authenticator>,
    view: Arc<ServiceView>,
    events: Arc<EventHub>,
}

impl ServiceBackend {
    /// A backend over these services.
    pub fn new(auth: Arc<Authenticator>, view: Arc<ServiceView>, events: Arc<EventHub>) -> Self {
        ServiceBackend { auth, view, events }
    }

    /// The event hub.
    pub fn events(&self) -> &Arc<EventHub> {
        &self.events
    }
}

fn auth_failure(e: AuthError) -> AuthFailure {
    match e {
        AuthError::Blocked(_) => AuthFailure::Blocked,
        AuthError::InvalidCredentials => AuthFailure::InvalidCredentials,
        AuthError::AccountDisabled => AuthFailure::AccountDisabled,
        AuthError::ProtocolNotPermitted(_) => AuthFailure::ProtocolNotPermitted,
        AuthError::Busy => AuthFailure::Unavailable("too many logins in progress".into()),
        AuthError::Unavailable(e) => AuthFailure::Unavailable(e.to_string()),
    }
}

impl Backend for ServiceBackend {
    type View = ServiceView;

    fn view(&self) -> &ServiceView {
        &self.view
    }

    async fn authenticate(
        &self,
        login: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Account, AuthFailure> {
        // The authenticator bounds the password checks running at once.
        let user = self
            .auth
            .authenticate(login, password, Protocol::Imap, client)
            .await
            .map_err(auth_failure)?;
        Ok(Account {
            username: user.username,
            dir: user.maildir,
        })
    }

    async fn watch(&self, dir: &str) -> Result<EventWatch, ViewError> {
        Ok(self.events.watch(dir).await)
    }
}
