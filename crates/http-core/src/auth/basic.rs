//! HTTP Basic (RFC 7617) against the directory's `Authenticator`.
//!
//! Offered and accepted only where the password is protected on its way:
//! over TLS, or over plain HTTP from a trusted proxy that terminated TLS.
//! Every HTTP request carries the password, and verifying a modern hash
//! costs milliseconds, so a verified login is remembered for
//! `http_basic_auth_cred_caching` (as gromox does) in a [`CredentialCache`]
//! keyed by a keyed hash of name and password — never the password itself.
//! Throttling, constant-time answers, account state and privilege bits are
//! the `Authenticator`'s; a cached login is still checked against the
//! privilege bit of each request's protocol.

use super::{AuthFuture, AuthScheme, Denial, Principal, Verdict};
use crate::client::ClientInfo;
use base64::Engine as _;
use groxide_directory::{AuthError, Authenticator, MAX_PASSWORD_LEN, Protocol, User};
use http::HeaderValue;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Longest `Authorization: Basic` value decoded: a name of up to 320 bytes
/// and the longest password, in base64, with room to spare.
const MAX_CREDENTIALS_LEN: usize = 4 * (320 + MAX_PASSWORD_LEN + 2) / 3 + 16;

/// A keyed hash of (login, password).
type CredentialDigest = [u8; 32];

/// Remembered Basic logins: keyed hash of (login, password) → user.
pub struct CredentialCache {
    key: [u8; 32],
    state: Mutex<CacheState>,
}

struct CacheState {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<CredentialDigest, (Arc<User>, Instant)>,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("CredentialCache")
            .field("ttl", &state.ttl)
            .field("capacity", &state.capacity)
            .field("len", &state.entries.len())
            .finish_non_exhaustive()
    }
}

impl CredentialCache {
    /// A cache remembering up to `capacity` logins for `ttl` each; a zero
    /// `ttl` remembers nothing.
    pub fn new(ttl: Duration, capacity: usize) -> CredentialCache {
        CredentialCache {
            key: rand::random(),
            state: Mutex::new(CacheState {
                ttl,
                capacity: capacity.max(1),
                entries: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the limits (SIGHUP) and forgets every login.
    pub fn set_limits(&self, ttl: Duration, capacity: usize) {
        let mut state = self.lock();
        state.ttl = ttl;
        state.capacity = capacity.max(1);
        state.entries.clear();
    }

    fn digest(&self, login: &str, password: &str) -> CredentialDigest {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update((login.len() as u64).to_be_bytes());
        h.update(login.to_ascii_lowercase().as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn get(&self, login: &str, password: &str) -> Option<Arc<User>> {
        let digest = self.digest(login, password);
        let mut state = self.lock();
        if state.ttl.is_zero() {
            return None;
        }
        let ttl = state.ttl;
        match state.entries.get(&digest) {
            Some((user, at)) if at.elapsed() < ttl => Some(user.clone()),
            Some(_) => {
                state.entries.remove(&digest);
                None
            }
            None => None,
        }
    }

    fn put(&self, login: &str, password: &str, user: Arc<User>) {
        let digest = self.digest(login, password);
        let mut state = self.lock();
        if state.ttl.is_zero() {
            return;
        }
        let (ttl, capacity) = (state.ttl, state.capacity);
        let entries = &mut state.entries;
        if entries.len() >= capacity && !entries.contains_key(&digest) {
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= capacity
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| *k)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(digest, (user, Instant::now()));
    }

    /// Forgets every login (SIGHUP; a changed password or suspension then
    /// applies to the next request).
    pub fn clear(&self) {
        self.lock().entries.clear();
    }

    /// How many logins are remembered now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The Basic scheme.
pub struct Basic {
    auth: Arc<Authenticator>,
    challenge: HeaderValue,
    cache: CredentialCache,
}

impl std::fmt::Debug for Basic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basic")
            .field("challenge", &self.challenge)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Basic {
    /// Basic against `auth`, challenging with `realm` (quotes and
    /// backslashes in it are dropped), remembering logins in `cache`.
    pub fn new(auth: Arc<Authenticator>, realm: &str, cache: CredentialCache) -> Basic {
        let realm: String = realm
            .chars()
            .filter(|c| !matches!(c, '"' | '\\') && !c.is_control())
            .collect();
        let challenge =
            HeaderValue::from_str(&format!("Basic realm=\"{realm}\", charset=\"UTF-8\""))
                .unwrap_or_else(|_| HeaderValue::from_static("Basic realm=\"groxide\""));
        Basic {
            auth,
            challenge,
            cache,
        }
    }

    /// The remembered logins.
    pub fn cache(&self) -> &CredentialCache {
        &self.cache
    }

    async fn check(
        &self,
        authorization: &HeaderValue,
        client: &ClientInfo,
        protocol: Protocol,
    ) -> Verdict {
        if !client.is_secure() {
            return Verdict::Denied(Denial::InsecureTransport);
        }
        let Some((login, password)) = decode(authorization) else {
            return Verdict::Denied(Denial::BadCredentials);
        };
        if let Some(user) = self.cache.get(&login, &password) {
            if !user.privilege_bits.contains(protocol.privilege()) {
                tracing::info!(login, client = %client.addr, %protocol, "login refused: protocol not permitted");
                return Verdict::Denied(Denial::NotPermitted(protocol));
            }
            return Verdict::Granted(Principal {
                user,
                scheme: "Basic",
            });
        }
        match self
            .auth
            .authenticate(&login, &password, protocol, client.addr)
            .await
        {
            Ok(user) => {
                let user = Arc::new(user);
                self.cache.put(&login, &password, user.clone());
                Verdict::Granted(Principal {
                    user,
                    scheme: "Basic",
                })
            }
            Err(AuthError::Blocked(_)) => Verdict::Denied(Denial::Blocked),
            Err(AuthError::InvalidCredentials) => Verdict::Denied(Denial::BadCredentials),
            Err(AuthError::AccountDisabled) => Verdict::Denied(Denial::AccountDisabled),
            Err(AuthError::ProtocolNotPermitted(p)) => Verdict::Denied(Denial::NotPermitted(p)),
            Err(AuthError::Busy) => Verdict::Denied(Denial::Busy),
            Err(AuthError::Unavailable(e)) => {
                tracing::warn!(error = %e, "login not checked: directory unavailable");
                Verdict::Denied(Denial::Unavailable)
            }
        }
    }
}

/// `Basic <base64(name:password)>` → (name, password); `None` when the
/// value is not that (then the answer is "invalid credentials").
fn decode(authorization: &HeaderValue) -> Option<(String, String)> {
    let bytes = authorization.as_bytes();
    if bytes.len() > MAX_CREDENTIALS_LEN {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (login, password) = decoded.split_once(':')?;
    if login.is_empty() {
        return None;
    }
    Some((login.to_string(), password.to_string()))
}

impl AuthScheme for Basic {
    fn name(&self) -> &'static str {
        "Basic"
    }

    fn challenge(&self, client: &ClientInfo) -> Option<HeaderValue> {
        client.is_secure().then(|| self.challenge.clone())
    }

    fn authenticate<'a>(
        &'a self,
        authorization: &'a HeaderValue,
        client: &'a ClientInfo,
        protocol: Protocol,
    ) -> AuthFuture<'a> {
        Box::pin(self.check(authorization, client, protocol))
    }

    fn reset(&self) {
        self.cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> HeaderValue {
        HeaderValue::from_str(text).unwrap()
    }

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn basic_credentials_decode_in_any_scheme_case_and_keep_colons_in_the_password() {
        let table = [
            (
                format!("Basic {}", b64("a@b.test:pw")),
                Some(("a@b.test", "pw")),
            ),
            (
                format!("basic {}", b64("a@b.test:p:w")),
                Some(("a@b.test", "p:w")),
            ),
            (
                format!("BASIC {}", b64("a@b.test:")),
                Some(("a@b.test", "")),
            ),
            (format!("Basic {}", b64(":pw")), None),
            (format!("Basic {}", b64("no-colon")), None),
            ("Basic !!!notbase64".to_string(), None),
            (format!("Bearer {}", b64("a:b")), None),
            ("Basic".to_string(), None),
        ];
        for (value, want) in table {
            let got = decode(&header(&value));
            let got = got.as_ref().map(|(l, p)| (l.as_str(), p.as_str()));
            assert_eq!(got, want, "{value}");
        }
    }

    fn user(id: u64) -> Arc<User> {
        Arc::new(User {
            id: groxide_directory::UserId(id),
            username: format!("u{id}@example.test"),
            domain_id: groxide_directory::DomainId(1),
            maildir: format!("/data/u{id}"),
            homeserver: groxide_directory::ServerId::ANY,
            address_status: groxide_directory::AddressStatus::NORMAL,
            privilege_bits: groxide_directory::PrivilegeBits::NEW_USER_DEFAULT,
            lang: String::new(),
            timezone: String::new(),
        })
    }

    #[test]
    fn the_cache_keeps_its_capacity_by_forgetting_the_oldest_login() {
        let cache = CredentialCache::new(Duration::from_secs(60), 2);
        cache.put("a@x", "pw", user(1));
        std::thread::sleep(Duration::from_millis(2));
        cache.put("b@x", "pw", user(2));
        std::thread::sleep(Duration::from_millis(2));
        cache.put("c@x", "pw", user(3));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("a@x", "pw").is_none());
        assert_eq!(cache.get("B@X", "pw").map(|u| u.id.0), Some(2));
        assert!(cache.get("c@x", "other").is_none());
        cache.set_limits(Duration::ZERO, 2);
        assert!(cache.is_empty());
        cache.put("c@x", "pw", user(3));
        assert!(
            cache.get("c@x", "pw").is_none(),
            "a zero lifetime remembers nothing"
        );
    }

    #[test]
    fn an_oversized_authorization_value_is_not_decoded() {
        let long = format!(
            "Basic {}",
            b64(&format!("a:{}", "x".repeat(MAX_CREDENTIALS_LEN)))
        );
        assert_eq!(decode(&header(&long)), None);
    }
}
