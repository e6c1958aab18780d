//! Logins: throttle, find the user, verify the password, then check the
//! account's state and the protocol's privilege bit.
//!
//! An unknown login name and a wrong password give the same answer after
//! the same work (a password is verified against a dummy hash), so a client
//! cannot tell which names exist. Logins read the directory every time (no
//! cache), so a suspension or password change applies at once.

use crate::db::{Columns, on_pool};
use crate::directory::{Directory, id_param};
use crate::error::DirectoryError;
use crate::model::User;
use crate::password::{hash_password, verify_password};
use crate::status::{DomainState, Protocol};
use crate::throttle::{Blocked, LoginThrottle};
use std::net::IpAddr;
use std::sync::LazyLock;

/// Why a login was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Too many failed logins from this address or to this account; the
    /// password was not checked.
    #[error("too many failed logins; try again later")]
    Blocked(Blocked),
    /// Unknown login name or wrong password (deliberately the same answer).
    #[error("invalid login name or password")]
    InvalidCredentials,
    /// The password is right but the account may not log in (suspended,
    /// deleted, a shared mailbox, or its domain is not in service).
    #[error("the account is disabled")]
    AccountDisabled,
    /// The password is right but the account lacks the protocol's privilege bit.
    #[error("the account may not use {0}")]
    ProtocolNotPermitted(Protocol),
    /// The directory could not be asked. Retryable.
    #[error(transparent)]
    Unavailable(DirectoryError),
}

/// Verified instead of a real hash when the login name is unknown, so that
/// both cases take as long.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("groxide: no such user").unwrap_or_default());

/// Authenticates logins against the directory, with one daemon's throttle.
#[derive(Debug)]
pub struct Authenticator {
    directory: Directory,
    throttle: LoginThrottle,
}

/// What authentication reads of a user besides the [`User`].
struct Credentials {
    password_hash: String,
    domain_state: DomainState,
}

impl Authenticator {
    /// An authenticator over `directory` counting failures in `throttle`.
    pub fn new(directory: Directory, throttle: LoginThrottle) -> Authenticator {
        Authenticator {
            directory,
            throttle,
        }
    }

    /// The throttle.
    pub fn throttle(&self) -> &LoginThrottle {
        &self.throttle
    }

    /// Checks `login` (username, altname or alias) and `password` for
    /// `protocol`, from `client`. On success returns the user (its maildir
    /// says where its store is).
    pub async fn authenticate(
        &self,
        login: &str,
        password: &str,
        protocol: Protocol,
        client: IpAddr,
    ) -> Result<User, AuthError> {
        if let Err(blocked) = self.throttle.check(client, login) {
            tracing::info!(login, %client, %protocol, ?blocked, "login refused unchecked: too many failures");
            return Err(AuthError::Blocked(blocked));
        }
        let found = match self.directory.load_user_by_login(login).await {
            Ok(found) => found,
            Err(DirectoryError::Ambiguous { .. }) => {
                tracing::warn!(login, "login name matches more than one user; refused");
                None
            }
            Err(e) => return Err(AuthError::Unavailable(e)),
        };
        let found = match found {
            Some(user) => {
                if let Err(blocked) = self.throttle.check(client, &user.username) {
                    tracing::info!(login, %client, %protocol, ?blocked, "login refused unchecked: too many failures");
                    return Err(AuthError::Blocked(blocked));
                }
                let credentials = self
                    .credentials(&user)
                    .await
                    .map_err(AuthError::Unavailable)?;
                credentials.map(|c| (user, c))
            }
            None => None,
        };
        let stored = match &found {
            Some((_, credentials)) => credentials.password_hash.clone(),
            None => DUMMY_HASH.clone(),
        };
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
            .await
            .unwrap_or(false);
        let (user, credentials) = match found {
            Some(found) if matches => found,
            found => {
                self.throttle.record_failure(client, login);
                if let Some((user, _)) = &found
                    && !user.username.eq_ignore_ascii_case(login)
                {
                    self.throttle.record_failure(client, &user.username);
                }
                tracing::info!(login, %client, %protocol, "login refused: invalid name or password");
                return Err(AuthError::InvalidCredentials);
            }
        };
        if !user.address_status.allows_login() || !credentials.domain_state.in_service() {
            tracing::info!(login, %client, %protocol, status = user.address_status.0, "login refused: account disabled");
            return Err(AuthError::AccountDisabled);
        }
        if !user.privilege_bits.contains(protocol.privilege()) {
            tracing::info!(login, %client, %protocol, "login refused: protocol not permitted");
            return Err(AuthError::ProtocolNotPermitted(protocol));
        }
        self.throttle.record_success(login);
        self.throttle.record_success(&user.username);
        Ok(user)
    }

    /// The password hash and domain state of `user`, read now.
    async fn credentials(&self, user: &User) -> Result<Option<Credentials>, DirectoryError> {
        let db = self.directory.db();
        on_pool!(&db.pool, p => {
            let row = sqlx::query(
                "SELECT u.password, COALESCE(d.domain_status, -1) AS domain_status \
                 FROM users u LEFT JOIN domains d ON d.id = u.domain_id WHERE u.id = ?",
            )
            .bind(id_param(user.id.0))
            .fetch_optional(p)
            .await
            .map_err(|e| db.error(e))?;
            match row {
                None => Ok(None),
                Some(row) => {
                    let password_hash = row.text("password").map_err(|e| db.error(e))?;
                    let status = row.int("domain_status").map_err(|e| db.error(e))?;
                    // A user whose domain row is missing is treated as in a deleted domain.
                    let domain_state = u8::try_from(status)
                        .map(DomainState::from_domain_status)
                        .unwrap_or(DomainState::Deleted);
                    Ok(Some(Credentials {
                        password_hash,
                        domain_state,
                    }))
                }
            }
        })
    }
}
