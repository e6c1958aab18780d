//! Throttling of failed logins, per client address and per account.
//!
//! Failures are counted in a window of `block_interval` that starts with the
//! first failure; the failure that reaches the limit blocks the address (or
//! account) for `block_interval` from then. While blocked, logins are
//! refused without the password being checked, and further attempts do not
//! extend the block. A successful login clears its account's count (not the
//! address's: one good password must not reset guessing at others).

use crate::clock::Clock;
use groxide_config::keys::shared;
use groxide_config::{Config, DaemonFile, Key};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most addresses and most accounts tracked at once; beyond, stale entries
/// go first, then the oldest.
pub const MAX_THROTTLE_ENTRIES: usize = 100_000;

/// The limits (gromox's `*_auth_times` and `block_interval_auths`, plus
/// `account_auth_times`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failed logins from one address within the window before it is blocked; 0 = no limit.
    pub failures_per_address: u32,
    /// Failed logins to one account within the window before it is blocked; 0 = no limit.
    pub failures_per_account: u32,
    /// Length of the counting window, and of a block.
    pub block_interval: Duration,
}

impl ThrottlePolicy {
    /// The policy of a daemon's config: its `per_address` key (e.g.
    /// `imap_auth_times`), its `block_interval` key (`block_interval_auths`
    /// of its file) and groxide.cfg's `account_auth_times`.
    pub fn from_config<F: DaemonFile>(
        config: &Config<F>,
        per_address: Key<u32, F>,
        block_interval: Key<Duration, F>,
    ) -> ThrottlePolicy {
        ThrottlePolicy {
            failures_per_address: config.get(per_address),
            failures_per_account: config.get(shared::ACCOUNT_AUTH_TIMES),
            block_interval: config.get(block_interval),
        }
    }
}

impl Default for ThrottlePolicy {
    /// gromox's defaults: 10 failures, one minute.
    fn default() -> Self {
        ThrottlePolicy {
            failures_per_address: 10,
            failures_per_account: 10,
            block_interval: Duration::from_secs(60),
        }
    }
}

/// What is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// The client address.
    Address,
    /// The account.
    Account,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    window_start: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Debug)]
struct Counter<K> {
    limit: u32,
    entries: HashMap<K, Count>,
}

impl<K: Eq + Hash + Clone> Counter<K> {
    fn new(limit: u32) -> Counter<K> {
        Counter {
            limit,
            entries: HashMap::new(),
        }
    }

    fn is_blocked(&self, key: &K, now: Instant) -> bool {
        self.entries
            .get(key)
            .and_then(|count| count.blocked_until)
            .is_some_and(|until| now < until)
    }

    fn fail(&mut self, key: &K, now: Instant, interval: Duration) {
        if self.limit == 0 {
            return;
        }
        if !self.entries.contains_key(key) && self.entries.len() >= MAX_THROTTLE_ENTRIES {
            self.make_room(now, interval);
        }
        let count = self.entries.entry(key.clone()).or_insert(Count {
            failures: 0,
            window_start: now,
            blocked_until: None,
        });
        if count.blocked_until.is_some_and(|until| now < until) {
            return;
        }
        if now.saturating_duration_since(count.window_start) >= interval
            || count.blocked_until.is_some()
        {
            *count = Count {
                failures: 0,
                window_start: now,
                blocked_until: None,
            };
        }
        count.failures += 1;
        if count.failures >= self.limit {
            count.blocked_until = Some(now + interval);
        }
    }

    fn clear(&mut self, key: &K) {
        self.entries.remove(key);
    }

    fn make_room(&mut self, now: Instant, interval: Duration) {
        self.entries.retain(|_, count| {
            let window_open = now.saturating_duration_since(count.window_start) < interval;
            let blocked = count.blocked_until.is_some_and(|until| now < until);
            window_open || blocked
        });
        if self.entries.len() >= MAX_THROTTLE_ENTRIES {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, count)| count.window_start)
                .map(|(key, _)| key.clone());
            if let Some(key) = oldest {
                self.entries.remove(&key);
            }
        }
    }
}

/// The failed-login counters of one daemon.
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    clock: Arc<dyn Clock>,
    state: Mutex<(Counter<IpAddr>, Counter<String>)>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl LoginThrottle {
    /// Counters with `policy`, reading time from `clock`.
    pub fn new(policy: ThrottlePolicy, clock: Arc<dyn Clock>) -> LoginThrottle {
        LoginThrottle {
            policy,
            clock,
            state: Mutex::new((
                Counter::new(policy.failures_per_address),
                Counter::new(policy.failures_per_account),
            )),
        }
    }

    /// The limits in force.
    pub fn policy(&self) -> ThrottlePolicy {
        self.policy
    }

    /// Whether a login from `client` to `account` must be refused unchecked.
    pub fn check(&self, client: IpAddr, account: &str) -> Result<(), Blocked> {
        let now = self.clock.now();
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0.is_blocked(&canonical(client), now) {
            Err(Blocked::Address)
        } else if state.1.is_blocked(&account_key(account), now) {
            Err(Blocked::Account)
        } else {
            Ok(())
        }
    }

    /// Counts a failed login.
    pub fn record_failure(&self, client: IpAddr, account: &str) {
        let now = self.clock.now();
        let interval = self.policy.block_interval;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0.fail(&canonical(client), now, interval);
        state.1.fail(&account_key(account), now, interval);
    }

    /// Clears the account's count after a successful login.
    pub fn record_success(&self, account: &str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1.clear(&account_key(account));
    }
}

/// One client has one spelling: IPv4-mapped IPv6 is IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Login names compare without case, as in the directory.
fn account_key(account: &str) -> String {
    account.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn throttle(per_address: u32, per_account: u32) -> (LoginThrottle, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new());
        let policy = ThrottlePolicy {
            failures_per_address: per_address,
            failures_per_account: per_account,
            block_interval: Duration::from_secs(60),
        };
        (LoginThrottle::new(policy, clock.clone()), clock)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_is_blocked_after_its_limit_of_failures_and_freed_after_the_interval() {
        let (t, clock) = throttle(3, 0);
        let a = ip("192.0.2.1");
        for n in 0..3 {
            assert_eq!(t.check(a, &format!("user{n}")), Ok(()));
            t.record_failure(a, &format!("user{n}"));
        }
        assert_eq!(t.check(a, "anyone"), Err(Blocked::Address));
        assert_eq!(
            t.check(ip("::ffff:192.0.2.1"), "anyone"),
            Err(Blocked::Address)
        );
        assert_eq!(t.check(ip("192.0.2.2"), "anyone"), Ok(()));
        clock.advance(Duration::from_secs(59));
        t.record_failure(a, "x");
        assert_eq!(
            t.check(a, "anyone"),
            Err(Blocked::Address),
            "attempts while blocked must not unblock"
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(t.check(a, "anyone"), Ok(()));
    }

    #[test]
    fn an_account_is_blocked_whatever_the_addresses_and_a_success_clears_it() {
        let (t, clock) = throttle(0, 2);
        t.record_failure(ip("192.0.2.1"), "Alice@X.test");
        assert_eq!(t.check(ip("192.0.2.9"), "alice@x.test"), Ok(()));
        t.record_success("alice@x.test");
        t.record_failure(ip("192.0.2.2"), "alice@x.test");
        assert_eq!(
            t.check(ip("192.0.2.9"), "alice@x.test"),
            Ok(()),
            "the success reset the count"
        );
        t.record_failure(ip("192.0.2.3"), "alice@x.test");
        assert_eq!(
            t.check(ip("192.0.2.9"), "ALICE@x.test"),
            Err(Blocked::Account)
        );
        assert_eq!(t.check(ip("192.0.2.9"), "bob@x.test"), Ok(()));
        clock.advance(Duration::from_secs(60));
        assert_eq!(t.check(ip("192.0.2.9"), "alice@x.test"), Ok(()));
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_block() {
        let (t, clock) = throttle(3, 3);
        let a = ip("2001:db8::1");
        for _ in 0..10 {
            t.record_failure(a, "bob@x.test");
            t.record_failure(a, "bob@x.test");
            clock.advance(Duration::from_secs(61));
            assert_eq!(t.check(a, "bob@x.test"), Ok(()));
        }
    }

    #[test]
    fn the_policy_comes_from_the_daemons_auth_keys() {
        let (config, _) = Config::<groxide_config::Imap>::from_str_for_tests(
            std::path::Path::new("/etc/groxide"),
            "account_auth_times = 7\n",
            "imap_auth_times = 3\nblock_interval_auths = 5min\n",
        )
        .unwrap();
        assert_eq!(
            ThrottlePolicy::from_config(
                &config,
                groxide_config::keys::imap::IMAP_AUTH_TIMES,
                groxide_config::keys::imap::BLOCK_INTERVAL_AUTHS
            ),
            ThrottlePolicy {
                failures_per_address: 3,
                failures_per_account: 7,
                block_interval: Duration::from_secs(300),
            }
        );
    }

    #[test]
    fn a_limit_of_zero_never_blocks() {
        let (t, _) = throttle(0, 0);
        for _ in 0..100 {
            t.record_failure(ip("192.0.2.1"), "bob@x.test");
        }
        assert_eq!(t.check(ip("192.0.2.1"), "bob@x.test"), Ok(()));
    }
}
