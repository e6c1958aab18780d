//! Listen ports for tests.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Mutex;

/// 127.0.0.1, where single-node tests listen.
pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Where listen ports are picked: below the kernel's ephemeral range
/// (32768–60999 on Linux), so no outgoing connection (daemons of a node call
/// each other) can take a picked port before its daemon binds it.
pub const LISTEN_PORTS: std::ops::Range<u16> = 10_000..32_000;

/// The ports this process handed out, with the lock file that keeps each
/// from other test processes until this one exits.
static GIVEN: Mutex<Option<Given>> = Mutex::new(None);

struct Given {
    ports: HashSet<(IpAddr, u16)>,
    locks: Vec<File>,
}

/// A TCP port on `ip` that was free a moment ago, outside the ephemeral
/// range, and handed out neither before by this process nor by any other
/// test process still running (a lock file in the temp dir stands for each
/// port handed out; the lock ends with the process).
///
/// Panics when no port is left.
pub fn free_port(ip: IpAddr) -> u16 {
    let seed = RandomState::new();
    let span = u64::from(LISTEN_PORTS.end - LISTEN_PORTS.start);
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    let given = given.get_or_insert_with(|| Given {
        ports: HashSet::new(),
        locks: Vec::new(),
    });
    for attempt in 0u64..10_000 {
        let offset = u16::try_from(seed.hash_one(attempt) % span).unwrap_or(0);
        let port = LISTEN_PORTS.start + offset;
        if given.ports.contains(&(ip, port)) {
            continue;
        }
        let Some(lock) = reserve(ip, port) else {
            continue;
        };
        if TcpListener::bind(SocketAddr::new(ip, port)).is_ok() {
            given.ports.insert((ip, port));
            given.locks.push(lock);
            return port;
        }
    }
    panic!("no free port on {ip} in {LISTEN_PORTS:?}");
}

/// [`free_port`] on 127.0.0.1.
pub fn free_local_port() -> u16 {
    free_port(LOCALHOST)
}

/// Locks the port's file; `None` when another live process holds it (or
/// the lock cannot be taken at all, then the port is simply not used).
fn reserve(ip: IpAddr, port: u16) -> Option<File> {
    let dir = lock_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let name = format!("{ip}-{port}").replace(':', "_");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(name))
        .ok()?;
    file.try_lock().ok()?;
    Some(file)
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("groxide-testkit-ports")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_outside_the_ephemeral_range_bindable_and_never_repeated() {
        let mut seen = HashSet::new();
        for _ in 0..50 {
            let port = free_local_port();
            assert!(LISTEN_PORTS.contains(&port), "{port}");
            assert!(seen.insert(port), "{port} handed out twice");
            TcpListener::bind((LOCALHOST, port)).unwrap();
        }
    }

    #[test]
    fn a_port_handed_out_is_locked_against_other_processes() {
        let port = free_local_port();
        // Another process would find the lock taken (a second handle stands for it).
        assert!(reserve(LOCALHOST, port).is_none());
        // The same port on another address is a different reservation.
        let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        assert!(reserve(other, port).is_some());
    }
}
