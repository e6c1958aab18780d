//! Connection admission: how many sessions run at once, per client address
//! and per user. A slot is held by a guard that gives it back when the
//! session ends, so the counts cannot drift.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct Counts {
    total: u32,
    per_ip: HashMap<IpAddr, u32>,
    per_user: HashMap<String, u32>,
}

/// The counters of one server.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    counts: Arc<Mutex<Counts>>,
}

/// Why a connection or login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `context_num` sessions are running.
    #[error("too many connections; try again later")]
    ServerFull,
    /// The address holds its maximum of connections.
    #[error("too many connections from your address")]
    AddressLimit,
    /// The user holds the maximum of connections.
    #[error("too many connections for this user")]
    UserLimit,
}

/// A connection's place in the counts; released on drop.
#[derive(Debug)]
pub struct ConnectionSlot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
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

impl Admission {
    /// Admits a connection from `ip` when the server and the address have room.
    pub fn connect(
        &self,
        ip: IpAddr,
        max_total: u32,
        max_per_ip: u32,
    ) -> Result<ConnectionSlot, Refusal> {
        let ip = canonical(ip);
        let mut c = lock(&self.counts);
        if c.total >= max_total {
            return Err(Refusal::ServerFull);
        }
        let n = c.per_ip.entry(ip).or_insert(0);
        if *n >= max_per_ip {
            return Err(Refusal::AddressLimit);
        }
        *n += 1;
        c.total += 1;
        Ok(ConnectionSlot {
            counts: self.counts.clone(),
            ip,
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

    /// Sessions running now.
    pub fn connections(&self) -> u32 {
        lock(&self.counts).total
    }
}

/// `::ffff:a.b.c.d` counts as `a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut c = lock(&self.counts);
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut c = lock(&self.counts);
        if let Some(n) = c.per_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                c.per_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_given_back_on_drop() {
        let a = Admission::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let first = a.connect(ip, 10, 2).unwrap();
        let _second = a.connect(mapped, 10, 2).unwrap();
        assert_eq!(a.connect(ip, 10, 2).unwrap_err(), Refusal::AddressLimit);
        drop(first);
        let _third = a.connect(ip, 10, 2).unwrap();
        assert_eq!(a.connections(), 2);
    }

    #[test]
    fn the_server_limit_applies_to_all_addresses() {
        let a = Admission::default();
        let _one = a.connect("10.0.0.1".parse().unwrap(), 1, 5).unwrap();
        assert_eq!(
            a.connect("10.0.0.2".parse().unwrap(), 1, 5).unwrap_err(),
            Refusal::ServerFull
        );
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
