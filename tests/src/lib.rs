//! Harness for groxide's end-to-end tests: finds the built daemon binaries,
//! writes config directories, starts daemons as real processes (killed when
//! the guard drops, also on panic), and waits for them without fixed sleeps.
//!
//! The binaries must be built first (`cargo xtask test` does it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod clients;
pub mod cluster;

pub use cluster::{Cluster, ClusterOptions, Node, NodeOptions, Service};

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The directory holding the workspace's binaries (next to this test binary).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test>-<hash>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    dir.to_path_buf()
}

/// Path of `groxide-<name>`; panics with a clear message when it is not built.
pub fn daemon_bin(name: &str) -> PathBuf {
    let p = bin_dir().join(format!("groxide-{name}"));
    assert!(
        p.exists(),
        "{} is not built: run the tests with `cargo xtask test` (it builds the daemons first)",
        p.display()
    );
    p
}

/// Listen ports are picked below the kernel's ephemeral range (32768–60999
/// on Linux): a port from that range, free when picked, could be taken by
/// any outgoing connection (daemons of the node talk to each other from its
/// address) before the daemon binds it.
const LISTEN_PORTS: std::ops::Range<u16> = 10_000..32_000;

/// A port on `ip` that was free a moment ago, outside the ephemeral range,
/// and not handed out before by this process.
pub fn free_port(ip: IpAddr) -> u16 {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, RandomState};
    static GIVEN: Mutex<Option<HashSet<(IpAddr, u16)>>> = Mutex::new(None);
    let seed = RandomState::new();
    let span = u64::from(LISTEN_PORTS.end - LISTEN_PORTS.start);
    for attempt in 0u64..10_000 {
        let port = LISTEN_PORTS.start + (seed.hash_one(attempt) % span) as u16;
        let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
        let given = given.get_or_insert_with(HashSet::new);
        if given.contains(&(ip, port)) {
            continue;
        }
        if TcpListener::bind(SocketAddr::new(ip, port)).is_ok() {
            given.insert((ip, port));
            return port;
        }
    }
    panic!("no free port on {ip} in {LISTEN_PORTS:?}");
}

/// Polls until `addr` accepts TCP connections or `timeout` passes.
pub fn wait_listening(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Like [`wait_listening`], with the probes leaving from `source`, so a
/// node's own `*_hosts_allow` list (which may not hold 127.0.0.1) does not log
/// the probe as a refused stranger.
pub fn wait_listening_from(addr: SocketAddr, source: IpAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if connect_from(addr, source).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn connect_from(addr: SocketAddr, source: IpAddr) -> std::io::Result<TcpStream> {
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
    if source.is_ipv4() == addr.is_ipv4() {
        socket.bind(&SocketAddr::new(source, 0).into())?;
    }
    socket.connect_timeout(&addr.into(), Duration::from_millis(100))?;
    Ok(socket.into())
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A config directory in a fresh temp dir.
pub struct ConfigDir {
    dir: tempfile::TempDir,
}

impl ConfigDir {
    /// An empty config directory.
    pub fn new() -> ConfigDir {
        ConfigDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (replaces) one file.
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join(file), text).expect("write config file");
    }
}

impl Default for ConfigDir {
    fn default() -> Self {
        ConfigDir::new()
    }
}

/// A running daemon process; SIGKILLed when dropped.
pub struct Daemon {
    name: String,
    child: Option<Child>,
    log: Arc<Mutex<String>>,
}

impl Daemon {
    /// Starts `groxide-<name> --config-dir <dir> [args]` with its output captured.
    pub fn start(name: &str, config_dir: &Path, args: &[&str]) -> Daemon {
        let mut cmd = Command::new(daemon_bin(name));
        cmd.arg("--config-dir")
            .arg(config_dir)
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn daemon");
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        Daemon {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    /// Everything the daemon has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// How many log lines contain `needle`.
    pub fn count_log(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.log().contains(needle))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Sends a signal by name (`HUP`, `TERM`, `KILL`).
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -{sig} {} failed", self.name);
    }

    /// Sends SIGKILL without waiting (the drop reaps it); lets a caller kill
    /// many daemons at once.
    pub fn kill_now(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
        }
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- log of groxide-{} ---\n{}", self.name, self.log());
        }
    }
}

/// Runs a binary to completion, returning (status, stdout, stderr).
pub fn run_bin(name: &str, args: &[&str]) -> (ExitStatus, String, String) {
    let out = Command::new(daemon_bin(name))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run binary");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
