//! Throttling of failed logins, per client address and per account.
//!
//! Failures are counted in a window of `block_interval` that starts with the
//! first failure; the failure that reaches the limit blocks the address (or
//! account) for `block_interval` from then. While blocked, logins are
//! refused without the password being checked, and further attempts do not
//! extend the block. A successful login clears its account's count (not the
//! address's: one good password must not reset guessing at others).
//!
//! An attempt is counted *before* its password is checked: [`LoginThrottle::reserve`]
//! takes a place (failures so far + attempts in progress must stay below
//! the limit), and the [`Attempt`] is settled as a failure or a success
//! afterwards (dropped unsettled it gives its place back uncounted). An
//! attempt that finds the places taken by attempts in progress waits for
//! one of them to settle, so N parallel attempts cost what N sequential ones
//! cost: never more password checks than the limit, and the right password
//! after the limit is refused.

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

/// Why an attempt got no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many failures: refused without checking the password.
    Blocked(Blocked),
    /// The places left were held by attempts in progress for longer than
    /// the caller would wait; a temporary condition.
    Busy,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    in_flight: u32,
    window_start: Instant,
    blocked_until: Option<Instant>,
}

/// Whether a key may start an attempt now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Open,
    Blocked,
    /// Failures plus attempts in progress reach the limit.
    Full,
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

    fn gate(&self, key: &K, now: Instant, interval: Duration) -> Gate {
        if self.limit == 0 {
            return Gate::Open;
        }
        let Some(count) = self.entries.get(key) else {
            return Gate::Open;
        };
        if count.blocked_until.is_some_and(|until| now < until) {
            return Gate::Blocked;
        }
        let expired = now.saturating_duration_since(count.window_start) >= interval
            || count.blocked_until.is_some();
        let failures = if expired { 0 } else { count.failures };
        if failures.saturating_add(count.in_flight) >= self.limit {
            Gate::Full
        } else {
            Gate::Open
        }
    }

    fn reserve(&mut self, key: &K, now: Instant, interval: Duration) {
        if self.limit == 0 {
            return;
        }
        let count = self.entry(key, now, interval);
        count.in_flight += 1;
    }

    fn release(&mut self, key: &K) {
        if self.limit == 0 {
            return;
        }
        if let Some(count) = self.entries.get_mut(key) {
            count.in_flight = count.in_flight.saturating_sub(1);
            if count.in_flight == 0 && count.failures == 0 && count.blocked_until.is_none() {
                self.entries.remove(key);
            }
        }
    }

    /// The entry of `key`, its window restarted when it has passed.
    fn entry(&mut self, key: &K, now: Instant, interval: Duration) -> &mut Count {
        if !self.entries.contains_key(key) && self.entries.len() >= MAX_THROTTLE_ENTRIES {
            self.make_room(now, interval);
        }
        let count = self.entries.entry(key.clone()).or_insert(Count {
            failures: 0,
            in_flight: 0,
            window_start: now,
            blocked_until: None,
        });
        let blocked = count.blocked_until.is_some_and(|until| now < until);
        if !blocked
            && (now.saturating_duration_since(count.window_start) >= interval
                || count.blocked_until.is_some())
        {
            count.failures = 0;
            count.window_start = now;
            count.blocked_until = None;
        }
        count
    }

    fn fail(&mut self, key: &K, now: Instant, interval: Duration) {
        if self.limit == 0 {
            return;
        }
        let limit = self.limit;
        let count = self.entry(key, now, interval);
        if count.blocked_until.is_some_and(|until| now < until) {
            return;
        }
        if count.failures == 0 {
            count.window_start = now;
        }
        count.failures += 1;
        if count.failures >= limit {
            count.blocked_until = Some(now + interval);
        }
    }

    fn clear(&mut self, key: &K) {
        match self.entries.get_mut(key) {
            Some(count) if count.in_flight > 0 => {
                count.failures = 0;
                count.blocked_until = None;
            }
            Some(_) => {
                self.entries.remove(key);
            }
            None => {}
        }
    }

    fn make_room(&mut self, now: Instant, interval: Duration) {
        self.entries.retain(|_, count| {
            let window_open = now.saturating_duration_since(count.window_start) < interval;
            let blocked = count.blocked_until.is_some_and(|until| now < until);
            window_open || blocked || count.in_flight > 0
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

struct State {
    addresses: Counter<IpAddr>,
    accounts: Counter<String>,
}

/// The failed-login counters of one daemon.
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    settled: tokio::sync::Notify,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A login attempt counted in the throttle while its password is checked.
/// Settle it with [`Attempt::failed`] or [`Attempt::succeeded`]; dropped
/// unsettled (the check could not run) it gives its places back uncounted.
#[must_use = "an attempt holds places until it is settled or dropped"]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    client: IpAddr,
    accounts: Vec<String>,
}

impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl LoginThrottle {
    /// Counters with `policy`, reading time from `clock`.
    pub fn new(policy: ThrottlePolicy, clock: Arc<dyn Clock>) -> LoginThrottle {
        LoginThrottle {
            policy,
            clock,
            state: Mutex::new(State {
                addresses: Counter::new(policy.failures_per_address),
                accounts: Counter::new(policy.failures_per_account),
            }),
            settled: tokio::sync::Notify::new(),
        }
    }

    /// The limits in force.
    pub fn policy(&self) -> ThrottlePolicy {
        self.policy
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a login from `client` to `account` must be refused unchecked
    /// (blocked by failures; attempts in progress are not looked at).
    pub fn check(&self, client: IpAddr, account: &str) -> Result<(), Blocked> {
        let now = self.clock.now();
        let state = self.lock();
        if state.addresses.is_blocked(&canonical(client), now) {
            Err(Blocked::Address)
        } else if state.accounts.is_blocked(&account_key(account), now) {
            Err(Blocked::Account)
        } else {
            Ok(())
        }
    }

    /// Takes a place for an attempt from `client` to `account` when both
    /// have one now.
    pub fn try_reserve(&self, client: IpAddr, account: &str) -> Result<Attempt<'_>, Refused> {
        let client = canonical(client);
        let key = account_key(account);
        let now = self.clock.now();
        let interval = self.policy.block_interval;
        let mut state = self.lock();
        let address = state.addresses.gate(&client, now, interval);
        let account_gate = state.accounts.gate(&key, now, interval);
        match (address, account_gate) {
            (Gate::Blocked, _) => return Err(Refused::Blocked(Blocked::Address)),
            (_, Gate::Blocked) => return Err(Refused::Blocked(Blocked::Account)),
            (Gate::Full, _) | (_, Gate::Full) => return Err(Refused::Busy),
            (Gate::Open, Gate::Open) => {}
        }
        state.addresses.reserve(&client, now, interval);
        state.accounts.reserve(&key, now, interval);
        Ok(Attempt {
            throttle: self,
            client,
            accounts: vec![key],
        })
    }

    /// Takes a place for an attempt from `client` to `account`, waiting up
    /// to `wait` for attempts in progress to settle when the places left
    /// are theirs.
    pub async fn reserve(
        &self,
        client: IpAddr,
        account: &str,
        wait: Duration,
    ) -> Result<Attempt<'_>, Refused> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            match self.try_reserve(client, account) {
                Err(Refused::Busy) => {}
                other => return other,
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return Err(Refused::Busy);
            }
        }
    }

    /// Counts a failed login (an attempt reserved and failed in one step).
    pub fn record_failure(&self, client: IpAddr, account: &str) {
        let now = self.clock.now();
        let interval = self.policy.block_interval;
        let mut state = self.lock();
        state.addresses.fail(&canonical(client), now, interval);
        state.accounts.fail(&account_key(account), now, interval);
    }

    /// Clears the account's count after a successful login.
    pub fn record_success(&self, account: &str) {
        self.lock().accounts.clear(&account_key(account));
    }
}

impl Attempt<'_> {
    /// Also counts the attempt against `account` (the canonical name of the
    /// user a login name reached), waiting up to `wait` as
    /// [`LoginThrottle::reserve`] does. Refused, the attempt keeps the
    /// places it had.
    pub async fn add_account(&mut self, account: &str, wait: Duration) -> Result<(), Refused> {
        let key = account_key(account);
        if self.accounts.contains(&key) {
            return Ok(());
        }
        let throttle = self.throttle;
        let interval = throttle.policy.block_interval;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let settled = throttle.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            {
                let now = throttle.clock.now();
                let mut state = throttle.lock();
                match state.accounts.gate(&key, now, interval) {
                    Gate::Blocked => return Err(Refused::Blocked(Blocked::Account)),
                    Gate::Open => {
                        state.accounts.reserve(&key, now, interval);
                        self.accounts.push(key);
                        return Ok(());
                    }
                    Gate::Full => {}
                }
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return Err(Refused::Busy);
            }
        }
    }

    /// The password was wrong (or the name unknown): one failure for the
    /// address and for every account of the attempt.
    pub fn failed(mut self) {
        let throttle = self.throttle;
        let now = throttle.clock.now();
        let interval = throttle.policy.block_interval;
        {
            let mut state = throttle.lock();
            state.addresses.release(&self.client);
            state.addresses.fail(&self.client, now, interval);
            for key in self.accounts.drain(..) {
                state.accounts.release(&key);
                state.accounts.fail(&key, now, interval);
            }
        }
        throttle.settled.notify_waiters();
    }

    /// The password was right: the places are given back and the accounts'
    /// failure counts cleared.
    pub fn succeeded(mut self) {
        let throttle = self.throttle;
        {
            let mut state = throttle.lock();
            state.addresses.release(&self.client);
            for key in self.accounts.drain(..) {
                state.accounts.release(&key);
                state.accounts.clear(&key);
            }
        }
        throttle.settled.notify_waiters();
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.accounts.is_empty() {
            return;
        }
        let throttle = self.throttle;
        {
            let mut state = throttle.lock();
            state.addresses.release(&self.client);
            for key in self.accounts.drain(..) {
                state.accounts.release(&key);
            }
        }
        throttle.settled.notify_waiters();
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

    #[tokio::test]
    async fn parallel_attempts_get_no_more_checks_than_sequential_ones() {
        let (t, _) = throttle(3, 0);
        let a = ip("192.0.2.1");
        let mut held = Vec::new();
        for n in 0..3 {
            held.push(t.try_reserve(a, &format!("user{n}")).unwrap());
        }
        assert_eq!(
            t.try_reserve(a, "user9").unwrap_err(),
            Refused::Busy,
            "three checks in progress use the three places"
        );
        let waiter = t.reserve(a, "user9", Duration::from_secs(5));
        tokio::pin!(waiter);
        assert!(
            futures_poll(&mut waiter).is_none(),
            "waits for a place to settle"
        );
        for attempt in held {
            attempt.failed();
        }
        assert_eq!(
            waiter.await.unwrap_err(),
            Refused::Blocked(Blocked::Address),
            "three failures block the fourth attempt, right password or not"
        );
    }

    #[tokio::test]
    async fn a_success_or_an_unchecked_attempt_gives_its_place_back_uncounted() {
        let (t, _) = throttle(2, 2);
        let a = ip("192.0.2.1");
        let first = t.try_reserve(a, "bob@x.test").unwrap();
        let second = t.try_reserve(a, "bob@x.test").unwrap();
        assert_eq!(t.try_reserve(a, "bob@x.test").unwrap_err(), Refused::Busy);
        first.succeeded();
        drop(second);
        let mut third = t.try_reserve(a, "Bob@X.test").unwrap();
        third
            .add_account("bob-canonical@x.test", Duration::ZERO)
            .await
            .unwrap();
        third.failed();
        assert_eq!(t.check(a, "bob-canonical@x.test"), Ok(()));
        let fourth = t.try_reserve(ip("192.0.2.2"), "x").unwrap();
        fourth.failed();
        let mut fifth = t.try_reserve(ip("192.0.2.3"), "y").unwrap();
        fifth
            .add_account("bob-canonical@x.test", Duration::ZERO)
            .await
            .unwrap();
        fifth.failed();
        assert_eq!(
            t.try_reserve(ip("192.0.2.4"), "bob-canonical@x.test")
                .unwrap_err(),
            Refused::Blocked(Blocked::Account),
            "failures under either name count for the account"
        );
    }

    #[tokio::test]
    async fn a_wait_for_a_place_is_bounded() {
        let (t, _) = throttle(1, 0);
        let a = ip("192.0.2.1");
        let _held = t.try_reserve(a, "u").unwrap();
        let started = std::time::Instant::now();
        assert_eq!(
            t.reserve(a, "u", Duration::from_millis(50))
                .await
                .unwrap_err(),
            Refused::Busy
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    /// Polls `f` once.
    fn futures_poll<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
