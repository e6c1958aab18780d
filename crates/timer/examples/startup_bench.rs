//! Start-up benchmark of groxide-timer (run by `cargo xtask bench timer`):
//! time from exec to accepting connections, and resident memory once
//! ready, with an empty state file and with many pending jobs; then how
//! fast a backlog of overdue command jobs (`/bin/true`) is worked off.
//!
//! usage: startup_bench --bin PATH [--jobs N] [--runs R] [--backlog B]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_timer::job::{JobSpec, MaintenanceAction};
use groxide_timer::store::JobStore;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Args {
    bin: PathBuf,
    jobs: u64,
    runs: usize,
    backlog: u64,
}

fn args() -> Args {
    let mut a = Args {
        bin: PathBuf::new(),
        jobs: 100_000,
        runs: 7,
        backlog: 2_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--bin" => a.bin = PathBuf::from(v),
            "--jobs" => a.jobs = v.parse().expect("--jobs N"),
            "--runs" => a.runs = v.parse().expect("--runs R"),
            "--backlog" => a.backlog = v.parse().expect("--backlog B"),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(a.bin.exists(), "--bin {} does not exist", a.bin.display());
    a
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A mix of the three kinds, due over the next days (none runs during the bench).
fn job(i: u64) -> (i64, JobSpec) {
    let due = now() + 86_400 + (i as i64 % 864_000);
    let dir = format!("/var/lib/groxide/user/example.org/user{}", i % 5000);
    let spec = match i % 10 {
        0 => JobSpec::Maintenance {
            dir,
            action: MaintenanceAction::PurgeSoftdelete {
                older_than_secs: 30 * 86_400,
            },
        },
        1 => JobSpec::Command {
            argv: vec!["/usr/local/bin/report".into(), format!("--id={i}")],
            timeout_secs: 60,
        },
        _ => JobSpec::DeferredSend {
            dir,
            message_id: i + 1,
        },
    };
    (due, spec)
}

fn vm_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Sample {
    startup: Duration,
    rss_kib: u64,
    hwm_kib: u64,
}

fn one_run(bin: &Path, config: &Path, port: u16) -> Sample {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    let mut child = Command::new(bin)
        .arg("--config-dir")
        .arg(config)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(50)).is_err() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "groxide-timer exited during start-up"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no start within 60 s"
        );
        std::thread::sleep(Duration::from_micros(500));
    }
    let startup = start.elapsed();
    // Let the scheduler's first pass (next due time, purge) run before measuring.
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id();
    let sample = Sample {
        startup,
        rss_kib: vm_kib(pid, "VmRSS:"),
        hwm_kib: vm_kib(pid, "VmHWM:"),
    };
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let _ = child.wait();
    sample
}

/// Jobs not yet finished, read beside the running daemon (WAL).
fn unfinished(state: &Path) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(state, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row("SELECT COUNT(*) FROM jobs WHERE state IN (1, 2)", [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Seconds to finish `n` overdue `/bin/true` jobs, counted from ready.
fn drain(bin: &Path, n: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("timer.sqlite3");
    let store = JobStore::open(&state).unwrap();
    let spec = JobSpec::Command {
        argv: vec!["/bin/true".into()],
        timeout_secs: 0,
    };
    store
        .add_many((0..n).map(|_| (now() - 3600, spec.clone())), now() * 1000)
        .unwrap();
    drop(store);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.path().join("timer.cfg"),
        format!(
            "timer_listen_ip = 127.0.0.1\ntimer_listen_port = {port}\ntimer_hosts_allow = 127.0.0.1\n\
             timer_state_path = {}\ntimer_command_allow = /bin/true\n",
            state.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("groxide.cfg"), "log_level = warn\n").unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut child = Command::new(bin)
        .arg("--config-dir")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(50)).is_err() {
        std::thread::sleep(Duration::from_micros(500));
    }
    let start = Instant::now();
    while unfinished(&state) > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "backlog not drained in 10 min"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    secs
}

fn median<T: Copy + Ord>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let a = args();
    println!(
        "groxide-timer start-up: {} runs each, binary {}",
        a.runs,
        a.bin.display()
    );
    println!(
        "{:>9}  {:>10}  {:>12}  {:>12}  {:>10}",
        "pending", "start-up", "VmRSS", "VmHWM", "state file"
    );
    for jobs in [0, a.jobs] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("timer.sqlite3");
        let store = JobStore::open(&state).unwrap();
        let made = Instant::now();
        store.add_many((0..jobs).map(job), now() * 1000).unwrap();
        drop(store);
        if jobs > 0 {
            eprintln!(
                "({jobs} jobs written in {:.1} s)",
                made.elapsed().as_secs_f64()
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(
            dir.path().join("timer.cfg"),
            format!(
                "timer_listen_ip = 127.0.0.1\ntimer_listen_port = {port}\ntimer_hosts_allow = 127.0.0.1\n\
                 timer_state_path = {}\n",
                state.display()
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("groxide.cfg"), "log_level = warn\n").unwrap();
        let samples: Vec<Sample> = (0..a.runs)
            .map(|_| one_run(&a.bin, dir.path(), port))
            .collect();
        let size: u64 = ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", state.display())).ok())
            .map(|m| m.len())
            .sum();
        println!(
            "{:>9}  {:>8.1}ms  {:>8.1} MiB  {:>8.1} MiB  {:>6.1} MiB",
            jobs,
            median(samples.iter().map(|s| s.startup).collect()).as_secs_f64() * 1000.0,
            median(samples.iter().map(|s| s.rss_kib).collect()) as f64 / 1024.0,
            median(samples.iter().map(|s| s.hwm_kib).collect()) as f64 / 1024.0,
            size as f64 / 1_048_576.0
        );
    }
    if a.backlog > 0 {
        let secs = drain(&a.bin, a.backlog);
        println!(
            "backlog: {} overdue /bin/true jobs done in {secs:.2} s ({:.0} jobs/s, timer_threads_num 50)",
            a.backlog,
            a.backlog as f64 / secs
        );
    }
}
