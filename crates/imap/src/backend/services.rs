//! [`ServiceBackend`]: the real backend. Logins go to the directory (with
//! its throttle); mailbox requests to the [`RoutedView`] — in-process for
//! stores homed on this node (their files read here, writes through this
//! node's exmdb), the home node's groxide-midb for the others; change hints
//! come from the [`EventHub`].

use super::events::EventHub;
use super::{Account, AuthFailure, Backend, EventWatch, ViewError};
use groxide_directory::{AuthError, Authenticator, Protocol};
use groxide_midb::RoutedView;
use groxide_midb::exmdb_writes::ExmdbWrites;
use std::net::IpAddr;
use std::sync::Arc;

/// Password checks running at once per CPU: each may take tens of MiB
/// (argon2) and a directory connection, so a login storm must queue.
const LOGINS_PER_CPU: usize = 2;

/// The view of every store, as the daemon builds it.
pub type ServiceView = RoutedView<ExmdbWrites>;

/// The backend over the directory, the mailbox view and groxide-event.
pub struct ServiceBackend {
    auth: Arc<Authenticator>,
    logins: tokio::sync::Semaphore,
    view: Arc<ServiceView>,
    events: Arc<EventHub>,
}

impl ServiceBackend {
    /// A backend over these services.
    pub fn new(auth: Arc<Authenticator>, view: Arc<ServiceView>, events: Arc<EventHub>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        ServiceBackend {
            auth,
            logins: tokio::sync::Semaphore::new(cpus * LOGINS_PER_CPU),
            view,
            events,
        }
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
        let _turn = self
            .logins
            .acquire()
            .await
            .map_err(|_| AuthFailure::Unavailable("shutting down".into()))?;
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
        self.events.watch(dir).await
    }
}
