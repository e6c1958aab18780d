//! Connection admission of the mail-client daemons (IMAP, POP3): how many
//! connections run at once, per client address and per user, with separate
//! and smaller limits for connections that have not logged in yet, so idle
//! or slow pre-login connections cannot take the places of users. A place
//! is held by a guard that gives it back when the connection ends, so the
//! counts cannot drift.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

#[derive(Debug, Default)]
struct Counts {
    total: u32,
    unauth: u32,
    per_ip: HashMap<IpAddr, u32>,
    unauth_per_ip: HashMap<IpAddr, u32>,
    per_user: HashMap<String, u32>,
}

/// The counters of one server.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    counts: Arc<Mutex<Counts>>,
}

/// A server's connection limits (each at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections at once (`context_num`).
    pub max_total: u32,
    /// Connections from one address.
    pub max_per_ip: u32,
    /// Connections not logged in yet, at once.
    pub max_unauth: u32,
    /// Connections not logged in yet, from one address.
    pub max_unauth_per_ip: u32,
    /// Time from accepting a connection to its login, whatever it sends
    /// meanwhile; then it is closed.
    pub login_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total: 400,
            max_per_ip: 100,
            max_unauth: 100,
            max_unauth_per_ip: 10,
            login_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a connection or login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `context_num` connections are open.
    #[error("too many connections; try again later")]
    ServerFull,
    /// The address holds its maximum of connections.
    #[error("too many connections from your address")]
    AddressLimit,
    /// The maximum of connections not logged in is reached.
    #[error("too many connections waiting to log in; try again later")]
    PreLoginFull,
    /// The address holds its maximum of connections not logged in.
    #[error("too many connections from your address waiting to log in")]
    PreLoginAddressLimit,
    /// The user holds the maximum of connections.
    #[error("too many connections for this user")]
    UserLimit,
}

/// A connection's place in the counts; released on drop.
#[derive(Debug)]
pub struct ConnectionSlot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
    authenticated: bool,
}

/// A logged-in user's place in the counts; released on drop.
#[derive(Debug)]
pub struct UserSlot {
    counts: Arc<Mutex<Counts>>,
    user: String,
}

fn lock(counts: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    counts.lock().unwrap_or_else(|p| p.into_inner())
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl Admission {
    /// Admits a connection from `ip` (not logged in) when the server, the
    /// address and the pre-login limits have room.
    pub fn connect(&self, ip: IpAddr, limits: &Limits) -> Result<ConnectionSlot, Refusal> {
        let ip = ip.to_canonical();
        let mut c = lock(&self.counts);
        if c.total >= limits.max_total {
            return Err(Refusal::ServerFull);
        }
        if c.per_ip.get(&ip).copied().unwrap_or(0) >= limits.max_per_ip {
            return Err(Refusal::AddressLimit);
        }
        if c.unauth >= limits.max_unauth {
            return Err(Refusal::PreLoginFull);
        }
        if c.unauth_per_ip.get(&ip).copied().unwrap_or(0) >= limits.max_unauth_per_ip {
            return Err(Refusal::PreLoginAddressLimit);
        }
        c.total += 1;
        c.unauth += 1;
        *c.per_ip.entry(ip).or_insert(0) += 1;
        *c.unauth_per_ip.entry(ip).or_insert(0) += 1;
        Ok(ConnectionSlot {
            counts: self.counts.clone(),
            ip,
            authenticated: false,
        })
    }

    /// Admits a login of `user` when the user has room.
    pub fn login(&self, user: &str, max_per_user: u32) -> Result<UserSlot, Refusal> {
        let key = user.to_ascii_lowercase();
        let mut c = lock(&self.counts);
        let n = c.per_user.entry(key.clone()).or_insert(0);
        if *n >= max_per_user {
            return Err(Refusal::UserLimit);
        }
        *n += 1;
        Ok(UserSlot {
            counts: self.counts.clone(),
            user: key,
        })
    }

    /// Connections open now.
    pub fn connections(&self) -> u32 {
        lock(&self.counts).total
    }

    /// Connections open now that have not logged in.
    pub fn unauthenticated(&self) -> u32 {
        lock(&self.counts).unauth
    }
}

impl ConnectionSlot {
    /// The connection logged in: it no longer counts against the pre-login
    /// limits. Idempotent.
    pub fn authenticated(&mut self) {
        if self.authenticated {
            return;
        }
        self.authenticated = true;
        let mut c = lock(&self.counts);
        c.unauth = c.unauth.saturating_sub(1);
        decrement(&mut c.unauth_per_ip, &self.ip);
    }

    /// Whether [`ConnectionSlot::authenticated`] was called.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut c = lock(&self.counts);
        c.total = c.total.saturating_sub(1);
        decrement(&mut c.per_ip, &self.ip);
        if !self.authenticated {
            c.unauth = c.unauth.saturating_sub(1);
            decrement(&mut c.unauth_per_ip, &self.ip);
        }
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut c = lock(&self.counts);
        decrement(&mut c.per_user, &self.user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: u32, per_ip: u32, unauth: u32, unauth_per_ip: u32) -> Limits {
        Limits {
            max_total: total,
            max_per_ip: per_ip,
            max_unauth: unauth,
            max_unauth_per_ip: unauth_per_ip,
            login_timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn slots_are_counted_per_address_and_given_back_on_drop() {
        let a = Admission::default();
        let l = limits(10, 2, 10, 10);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let first = a.connect(ip, &l).unwrap();
        let _second = a.connect(mapped, &l).unwrap();
        assert_eq!(a.connect(ip, &l).unwrap_err(), Refusal::AddressLimit);
        drop(first);
        let _third = a.connect(ip, &l).unwrap();
        assert_eq!(a.connections(), 2);
    }

    #[test]
    fn the_server_limit_applies_to_all_addresses() {
        let a = Admission::default();
        let l = limits(1, 5, 5, 5);
        let _one = a.connect("10.0.0.1".parse().unwrap(), &l).unwrap();
        assert_eq!(
            a.connect("10.0.0.2".parse().unwrap(), &l).unwrap_err(),
            Refusal::ServerFull
        );
    }

    #[test]
    fn connections_not_logged_in_have_their_own_smaller_limits() {
        let a = Admission::default();
        let l = limits(10, 10, 3, 2);
        let x: IpAddr = "10.0.0.1".parse().unwrap();
        let y: IpAddr = "10.0.0.2".parse().unwrap();
        let mut first = a.connect(x, &l).unwrap();
        let _second = a.connect(x, &l).unwrap();
        assert_eq!(a.connect(x, &l).unwrap_err(), Refusal::PreLoginAddressLimit);
        let _third = a.connect(y, &l).unwrap();
        assert_eq!(a.connect(y, &l).unwrap_err(), Refusal::PreLoginFull);
        first.authenticated();
        first.authenticated();
        assert_eq!(a.unauthenticated(), 2);
        let _fourth = a.connect(x, &l).unwrap();
        assert_eq!(a.connections(), 4);
        drop(first);
        assert_eq!((a.connections(), a.unauthenticated()), (3, 3));
    }

    #[test]
    fn users_are_counted_case_insensitively() {
        let a = Admission::default();
        let _x = a.login("Alice@example.test", 1).unwrap();
        assert_eq!(
            a.login("alice@EXAMPLE.test", 1).unwrap_err(),
            Refusal::UserLimit
        );
    }
}
