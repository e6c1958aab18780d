//! What every side-by-side benchmark does the same way: free ports, waiting
//! for a listener, running a load generator and reading its JSON figures,
//! medians, the CPU time of the processes under test (from /proc), and the
//! one groxide node each benchmark starts ([`start_bench_node`]).

use crate::proc::Supervisor;
use crate::{cargo, target_dir};
use anyhow::{Context as _, Result, bail};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A TCP port free on 127.0.0.1 now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits up to 30 s until something accepts connections at `addr`.
pub fn wait_for(addr: SocketAddr, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{what} did not listen on {addr} within 30 s")
}

/// Runs a command to its end; its standard output, or an error with both outputs.
pub fn run_ok(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A number field of a load generator's one-line JSON; NaN when absent.
pub fn field(json: &str, key: &str) -> f64 {
    json.split(&format!("\"{key}\": "))
        .nth(1)
        .and_then(|r| r.split([',', '}']).next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// Starts the Dovecot peer whose config `conf` (from the peer recipe) and
/// mail live in `dir`: the `vmail` user exists, owns `dir/mail`, and every
/// directory above `dir` is searchable for Dovecot's unprivileged processes.
/// `package` names what installs the protocol (for the error).
pub fn launch_dovecot(dir: &Path, conf: &Path, package: &str) -> Result<()> {
    if !Command::new("id").arg("vmail").output()?.status.success() {
        run_ok(
            Command::new("useradd").args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "vmail",
            ]),
            "useradd vmail",
        )?;
    }
    run_ok(
        Command::new("chown")
            .arg("-R")
            .arg("vmail:vmail")
            .arg(dir.join("mail")),
        "chown",
    )?;
    let mut p = Some(dir);
    while let Some(d) = p {
        if d == Path::new("/") {
            break;
        }
        let _ = Command::new("chmod").arg("o+x").arg(d).status();
        p = d.parent();
    }
    // dovecot forks into the background; its children must not hold our pipes.
    let st = Command::new("dovecot")
        .arg("-c")
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("starting dovecot ({package}; .ci/prepare installs it)"))?;
    if !st.success() {
        bail!(
            "dovecot did not start; see {}",
            dir.join("log/dovecot.log").display()
        );
    }
    Ok(())
}

/// The pid of the Dovecot master started under `dir`.
pub fn dovecot_master_pid(dir: &Path) -> Result<u32> {
    let text = std::fs::read_to_string(dir.join("run/master.pid"))
        .context("reading Dovecot's master.pid")?;
    text.trim().parse().context("Dovecot's master.pid")
}

/// Builds every binary and example of the workspace in `profile` ("release"
/// or "debug") and returns its directory. Every benchmark builds this same
/// set: Cargo unifies features over the packages of one build (the load
/// generators bring their crates' dev-dependencies), so a per-benchmark
/// subset rebuilt every dependency with other features on each switch.
pub fn build_all(profile: &str) -> Result<PathBuf> {
    let mut c = cargo();
    c.args(["build", "--workspace", "--bins", "--examples"]);
    if profile == "release" {
        c.arg("--release");
    }
    let st = c.status().context("running cargo build")?;
    if !st.success() {
        bail!("cargo build failed");
    }
    Ok(target_dir().join(profile))
}

/// [`build_all`] in release, as every benchmark but a `--debug` one runs.
pub fn build_release() -> Result<PathBuf> {
    build_all("release")
}

/// The back ends a benchmark node runs besides event and exmdb.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BenchBackends {
    /// event and exmdb (delivery, groupware, DAV).
    ExmdbOnly,
    /// event, exmdb and midb (IMAP, POP3).
    WithMidb,
}

/// One groxide node of a benchmark, under `<root>/groxide/{config,data}`:
/// event and exmdb (and midb) running on free ports of 127.0.0.1, a SQLite
/// directory in the data dir. The benchmark adds its front end with
/// [`BenchNode::write_config`] and [`BenchNode::start`], and its users with
/// [`BenchNode::admin`].
pub struct BenchNode {
    /// The config directory (`--config-dir` of every daemon).
    pub config: PathBuf,
    /// `data_path`: the stores and `directory.sqlite3`.
    pub data: PathBuf,
    bin: PathBuf,
}

/// Writes the node's shared config files (groxide.cfg with `global_extra`
/// appended, exmdb_provider.cfg, event.cfg, midb.cfg), starts event, exmdb
/// (and midb) from `bin` under `sup` and waits until they listen.
pub fn start_bench_node(
    sup: &mut Supervisor,
    root: &Path,
    bin: &Path,
    backends: BenchBackends,
    global_extra: &str,
) -> Result<BenchNode> {
    let node = BenchNode {
        config: root.join("groxide/config"),
        data: root.join("groxide/data"),
        bin: bin.to_path_buf(),
    };
    std::fs::create_dir_all(&node.config)?;
    std::fs::create_dir_all(&node.data)?;
    node.write_config(
        "groxide.cfg",
        format!(
            "host_id = 127.0.0.1\ndata_path = {d}\ndirectory_url = sqlite://{d}/directory.sqlite3\n\
             log_level = warn\nshutdown_timeout = 5s\n{global_extra}",
            d = node.data.display()
        ),
    )?;
    let (exmdb, event) = (free_port()?, free_port()?);
    node.write_config(
        "exmdb_provider.cfg",
        format!(
            "listen_ip = 127.0.0.1\nexmdb_listen_port = {exmdb}\nexmdb_hosts_allow = 127.0.0.1\n"
        ),
    )?;
    node.write_config(
        "event.cfg",
        format!(
            "event_listen_ip = 127.0.0.1\nevent_listen_port = {event}\nevent_hosts_allow = 127.0.0.1\n"
        ),
    )?;
    let mut daemons = vec![("event", event), ("exmdb", exmdb)];
    if backends == BenchBackends::WithMidb {
        let midb = free_port()?;
        node.write_config(
            "midb.cfg",
            format!(
                "midb_listen_ip = 127.0.0.1\nmidb_listen_port = {midb}\nmidb_hosts_allow = 127.0.0.1\n"
            ),
        )?;
        daemons.push(("midb", midb));
    }
    for (name, port) in daemons {
        node.start(sup, name, format!("127.0.0.1:{port}").parse()?)?;
    }
    Ok(node)
}

impl BenchNode {
    /// Writes `<config>/<file>`.
    pub fn write_config(&self, file: &str, text: String) -> Result<()> {
        std::fs::write(self.config.join(file), text)
            .with_context(|| format!("writing {}", self.config.join(file).display()))
    }

    /// Starts `groxide-<daemon>` on this node's config and waits until it
    /// listens on `addr`.
    pub fn start(&self, sup: &mut Supervisor, daemon: &str, addr: SocketAddr) -> Result<()> {
        self.start_as(sup, daemon, daemon, addr)
    }

    /// Starts `groxide-<daemon>` as the supervisor's `name` (a second
    /// instance of one daemon) and waits until it listens on `addr`.
    pub fn start_as(
        &self,
        sup: &mut Supervisor,
        name: &str,
        daemon: &str,
        addr: SocketAddr,
    ) -> Result<()> {
        let bin = self.bin.join(format!("groxide-{daemon}"));
        // `GROXIDE_BENCH_WRAP=<name>=<program> [args]` runs that one daemon
        // under a profiler (heaptrack, perf record, valgrind …); its RSS and
        // CPU figures are then the wrapper's, not the daemon's.
        let wrap = std::env::var("GROXIDE_BENCH_WRAP").ok().and_then(|w| {
            let (who, cmd) = w.split_once('=')?;
            (who == name).then(|| cmd.split_whitespace().map(String::from).collect::<Vec<_>>())
        });
        let mut c = match wrap.as_deref() {
            Some([program, args @ ..]) => {
                let mut c = Command::new(program);
                c.args(args).arg(&bin);
                c
            }
            _ => Command::new(&bin),
        };
        c.arg("--config-dir").arg(&self.config);
        sup.spawn(name, c)?;
        wait_for(addr, name)
    }

    /// Runs `groxide-admin <args>` on this node; its output.
    pub fn admin(&self, args: &[&str]) -> Result<String> {
        run_ok(
            Command::new(self.bin.join("groxide-admin"))
                .arg("--config-dir")
                .arg(&self.config)
                .args(args),
            "groxide-admin",
        )
    }
}

/// The median of `v` (the upper one for an even count); NaN when empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A /proc/PID/status field in KiB (VmRSS:, VmHWM:); 0 when unreadable.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Clock ticks of /proc/PID/stat (USER_HZ; 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// Fields of /proc/PID/stat after the command name (which may hold spaces
/// and parentheses): index 0 is the state, 1 the parent pid.
fn stat_fields(pid: u32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.to_owned()))
        .map(|r| r.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// CPU seconds (user + system) of a process so far; with `reaped`, plus
/// those of its children it has waited for. 0 when the process is gone.
pub fn cpu_seconds(pid: u32, reaped: bool) -> f64 {
    let f = stat_fields(pid);
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime, stime, cutime, cstime are fields 14..17 of the file.
    let own = tick(11) + tick(12);
    let children = if reaped { tick(13) + tick(14) } else { 0.0 };
    (own + children) / TICKS_PER_SECOND
}

/// The parent pid of a process, when it still runs.
pub fn parent_pid(pid: u32) -> Option<u32> {
    stat_fields(pid).get(1).and_then(|p| p.parse().ok())
}

/// `pid` and every process below it (found through /proc).
pub fn process_tree(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|p| Some((p, parent_pid(p)?)))
                .collect()
        })
        .unwrap_or_default();
    let mut out = vec![pid];
    let mut i = 0;
    while let Some(&cur) = out.get(i) {
        out.extend(parents.iter().filter(|(_, pp)| *pp == cur).map(|(p, _)| *p));
        i += 1;
    }
    out
}

/// CPU seconds of a process tree that forks per connection (Dovecot):
/// every live process with the children it has reaped.
pub fn tree_cpu_seconds(pid: u32) -> f64 {
    process_tree(pid)
        .into_iter()
        .map(|p| cpu_seconds(p, true))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_a_load_generators_json() {
        let json = r#"{"commands": 10, "rate": 2.5, "per": {"x": 1}}"#;
        assert_eq!(field(json, "rate"), 2.5);
        assert_eq!(field(json, "commands"), 10.0);
        assert!(field(json, "p99_ms").is_nan());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn this_process_has_a_parent_and_cpu_time() {
        let me = std::process::id();
        assert!(parent_pid(me).is_some());
        // Burn a little CPU so the counters cannot both be zero.
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_seconds(me, false) > 0.0);
        assert_eq!(cpu_seconds(u32::MAX, true), 0.0);
    }
}
