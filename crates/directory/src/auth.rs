//! Logins: throttle, find the user, verify the password, then check the
//! account's state and the protocol's privilege bit.
//!
//! An attempt takes its place in the throttle before anything is checked
//! (see [`LoginThrottle`]), and the password check itself waits for one of
//! the daemon's [`AuthLimits::max_checks`] turns — each argon2id check holds
//! ~19 MiB, so a login storm queues instead of taking the memory of the
//! machine; an attempt that waited [`AuthLimits::wait`] in vain gets
//! [`AuthError::Busy`], a temporary error.
//!
//! An unknown login name and a wrong password give the same answer after
//! the same work: the password is verified against a dummy hash of the
//! scheme and parameters the directory's accounts use (sampled from the
//! directory, then from the accounts that log in), so a client can tell
//! neither which names exist nor which scheme an account has. Logins read
//! the directory every time (no cache), so a suspension or password change
//! applies at once. A right password stored in a legacy scheme (`$6$`,
//! `$5$`, bcrypt, `$1$`) is stored again as argon2id when
//! [`AuthLimits::rehash_legacy`] is on.

use crate::clock::SystemClock;
use crate::db::{Columns, on_pool};
use crate::directory::{Directory, id_param};
use crate::error::DirectoryError;
use crate::model::User;
use crate::password::{HashScheme, dummy_of, hash_password, verify_password};
use crate::status::{DomainState, Protocol};
use crate::throttle::ThrottlePolicy;
use crate::throttle::{Blocked, LoginThrottle, Refused};
use groxide_config::keys::shared;
use groxide_config::{Config, DaemonFile, Key};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

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
    /// Too many logins are being checked at once; the password was not
    /// checked and nothing was counted. Retryable.
    #[error("too many logins in progress; try again shortly")]
    Busy,
    /// The directory could not be asked. Retryable.
    #[error(transparent)]
    Unavailable(DirectoryError),
}

/// Verified when nothing better is known of the directory's schemes.
static DEFAULT_DUMMY: LazyLock<String> = LazyLock::new(|| {
    hash_password("groxide: no such user")
        .map(|h| dummy_of(&h))
        .unwrap_or_default()
});

/// Dummy hashes kept as the sample of the directory's schemes.
const DUMMY_SAMPLE: usize = 64;

/// How many of a daemon's password checks run at once, how long a login
/// waits for its turn, and whether legacy hashes are upgraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// Password checks running at once in this daemon (every protocol).
    pub max_checks: usize,
    /// How long a login waits for a check turn (or a throttle place held
    /// by attempts in progress) before it gets [`AuthError::Busy`].
    pub wait: Duration,
    /// Store a right password found in a legacy scheme again as argon2id.
    pub rehash_legacy: bool,
}

impl AuthLimits {
    /// groxide.cfg's `auth_max_concurrent_checks` (0 = two per CPU),
    /// `auth_check_wait` and `auth_rehash_legacy`.
    pub fn from_config<F: DaemonFile>(config: &Config<F>) -> AuthLimits {
        let max = config.get(shared::AUTH_MAX_CONCURRENT_CHECKS);
        AuthLimits {
            max_checks: if max == 0 { default_checks() } else { max },
            wait: config.get(shared::AUTH_CHECK_WAIT),
            rehash_legacy: config.get(shared::AUTH_REHASH_LEGACY),
        }
    }
}

fn default_checks() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) * 2
}

impl Default for AuthLimits {
    fn default() -> Self {
        AuthLimits {
            max_checks: default_checks(),
            wait: Duration::from_secs(5),
            rehash_legacy: true,
        }
    }
}

/// The sample of dummy hashes an unknown name is checked against.
#[derive(Default)]
struct Dummies {
    /// Filled from the directory on first use.
    loaded: tokio::sync::OnceCell<()>,
    sample: Mutex<Vec<String>>,
    next: AtomicUsize,
}

impl Dummies {
    fn pick(&self) -> String {
        let sample = self.sample.lock().unwrap_or_else(PoisonError::into_inner);
        if sample.is_empty() {
            return DEFAULT_DUMMY.clone();
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        sample[n % sample.len()].clone()
    }

    /// Adds the scheme and parameters of a stored hash to the sample.
    fn observe(&self, stored: &str) {
        if matches!(
            HashScheme::of(stored),
            HashScheme::NoPassword | HashScheme::Unknown
        ) {
            return;
        }
        let dummy = dummy_of(stored);
        let mut sample = self.sample.lock().unwrap_or_else(PoisonError::into_inner);
        if sample.len() < DUMMY_SAMPLE {
            sample.push(dummy);
        } else {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            sample[n % DUMMY_SAMPLE] = dummy;
        }
    }
}

/// Authenticates logins against the directory, with one daemon's throttle
/// and bound on password checks.
pub struct Authenticator {
    directory: Directory,
    throttle: LoginThrottle,
    limits: AuthLimits,
    checks: tokio::sync::Semaphore,
    dummies: Dummies,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("throttle", &self.throttle)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What authentication reads of a user besides the [`User`].
struct Credentials {
    password_hash: String,
    domain_state: DomainState,
}

impl Authenticator {
    /// An authenticator over `directory` counting failures in `throttle`,
    /// with the default [`AuthLimits`].
    pub fn new(directory: Directory, throttle: LoginThrottle) -> Authenticator {
        Authenticator::with_limits(directory, throttle, AuthLimits::default())
    }

    /// An authenticator with explicit limits.
    pub fn with_limits(
        directory: Directory,
        throttle: LoginThrottle,
        limits: AuthLimits,
    ) -> Authenticator {
        Authenticator {
            directory,
            throttle,
            checks: tokio::sync::Semaphore::new(limits.max_checks.max(1)),
            limits,
            dummies: Dummies::default(),
        }
    }

    /// A daemon's authenticator from its config: the throttle of its
    /// `per_address` and `block_interval` keys (and `account_auth_times`),
    /// the system clock, and groxide.cfg's [`AuthLimits`].
    pub fn for_daemon<F: DaemonFile>(
        directory: Directory,
        config: &Config<F>,
        per_address: Key<u32, F>,
        block_interval: Key<Duration, F>,
    ) -> Authenticator {
        let throttle = LoginThrottle::new(
            ThrottlePolicy::from_config(config, per_address, block_interval),
            std::sync::Arc::new(SystemClock),
        );
        Authenticator::with_limits(directory, throttle, AuthLimits::from_config(config))
    }

    /// The throttle.
    pub fn throttle(&self) -> &LoginThrottle {
        &self.throttle
    }

    /// The limits in force.
    pub fn limits(&self) -> AuthLimits {
        self.limits
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
        let deadline = tokio::time::Instant::now() + self.limits.wait;
        let refused = |r: Refused| match r {
            Refused::Blocked(blocked) => {
                tracing::info!(login, %client, %protocol, ?blocked, "login refused unchecked: too many failures");
                AuthError::Blocked(blocked)
            }
            Refused::Busy => {
                tracing::info!(login, %client, %protocol, "login refused unchecked: too many logins in progress");
                AuthError::Busy
            }
        };
        let mut attempt = self
            .throttle
            .reserve(client, login, self.limits.wait)
            .await
            .map_err(refused)?;
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
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                attempt
                    .add_account(&user.username, left)
                    .await
                    .map_err(refused)?;
                let credentials = self
                    .credentials(&user)
                    .await
                    .map_err(AuthError::Unavailable)?;
                credentials.map(|c| (user, c))
            }
            None => None,
        };
        // The account's hash when it is one that can match; else a dummy.
        let real = found
            .as_ref()
            .map(|(_, c)| c.password_hash.clone())
            .filter(|h| {
                !matches!(
                    HashScheme::of(h),
                    HashScheme::NoPassword | HashScheme::Unknown
                )
            });
        let stored = match &real {
            Some(real) => {
                self.dummies.observe(real);
                real.clone()
            }
            None => {
                self.load_sample().await;
                self.dummies.pick()
            }
        };
        let Ok(Ok(_turn)) = tokio::time::timeout_at(deadline, self.checks.acquire()).await else {
            return Err(refused(Refused::Busy));
        };
        let rehash = self.limits.rehash_legacy
            && real.as_deref().is_some_and(|r| {
                matches!(
                    HashScheme::of(r),
                    HashScheme::Sha512Crypt
                        | HashScheme::Sha256Crypt
                        | HashScheme::Bcrypt
                        | HashScheme::Md5Crypt
                )
            });
        let password = password.to_string();
        let checked = tokio::task::spawn_blocking(move || {
            let matches = verify_password(&password, &stored);
            let upgraded = (matches && rehash)
                .then(|| hash_password(&password).ok())
                .flatten();
            (matches, upgraded)
        })
        .await;
        drop(_turn);
        let (matches, upgraded) = checked.unwrap_or((false, None));
        let matches = matches && real.is_some();
        let (user, credentials) = match found {
            Some(found) if matches => found,
            _ => {
                attempt.failed();
                tracing::info!(login, %client, %protocol, "login refused: invalid name or password");
                return Err(AuthError::InvalidCredentials);
            }
        };
        attempt.succeeded();
        if let (Some(new), Some(old)) = (upgraded, &real) {
            self.store_upgraded_hash(&user, old, &new).await;
        }
        if !user.address_status.allows_login() || !credentials.domain_state.in_service() {
            tracing::info!(login, %client, %protocol, status = user.address_status.0, "login refused: account disabled");
            return Err(AuthError::AccountDisabled);
        }
        if !user.privilege_bits.contains(protocol.privilege()) {
            tracing::info!(login, %client, %protocol, "login refused: protocol not permitted");
            return Err(AuthError::ProtocolNotPermitted(protocol));
        }
        Ok(user)
    }

    /// Fills the dummy sample from the directory's stored hashes once (only
    /// their schemes and parameters are kept).
    async fn load_sample(&self) {
        self.dummies
            .loaded
            .get_or_init(|| async {
                let db = self.directory.db();
                let rows: Result<Vec<String>, DirectoryError> = async {
                    on_pool!(&db.pool, p => {
                        let rows = sqlx::query(
                            "SELECT password FROM users WHERE password <> '' LIMIT 256",
                        )
                        .fetch_all(p)
                        .await
                        .map_err(|e| db.error(e))?;
                        rows.iter()
                            .map(|row| row.text("password").map_err(|e| db.error(e)))
                            .collect()
                    })
                }
                .await;
                match rows {
                    Ok(hashes) => {
                        let mut counted = 0;
                        for stored in hashes.iter().take(DUMMY_SAMPLE) {
                            self.dummies.observe(stored);
                            counted += 1;
                        }
                        tracing::debug!(counted, "dummy password hashes sampled from the directory");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot sample the directory's password schemes; unknown names are checked against argon2id");
                    }
                }
            })
            .await;
    }

    /// Replaces `old` by `new` for `user` unless the password changed meanwhile.
    async fn store_upgraded_hash(&self, user: &User, old: &str, new: &str) {
        let db = self.directory.db();
        let result: Result<(), DirectoryError> = async {
            on_pool!(&db.pool, p => {
                sqlx::query("UPDATE users SET password = ? WHERE id = ? AND password = ?")
                    .bind(new)
                    .bind(id_param(user.id.0))
                    .bind(old)
                    .execute(p)
                    .await
                    .map_err(|e| db.error(e))?;
                Ok(())
            })
        }
        .await;
        match result {
            Ok(()) => {
                tracing::info!(user = %user.username, scheme = ?HashScheme::of(old), "password hash upgraded to argon2id")
            }
            Err(e) => {
                tracing::warn!(user = %user.username, error = %e, "cannot store the upgraded password hash")
            }
        }
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
