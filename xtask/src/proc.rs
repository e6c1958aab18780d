//! Starting daemons as child processes, prefixing their log lines with their
//! name, restarting the ones that die, and stopping them all.
//!
//! A daemon that exits by itself is started again after a back-off (1 s,
//! doubling per restart up to 30 s; a run of a minute or more starts the
//! count again), as systemd's `Restart=on-failure` does for a deployment.
//! A daemon that exits with status 78 (its configuration is wrong) is not
//! restarted — that would only repeat the error — and stops the node.

use anyhow::{Context as _, Result};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Exit status of a daemon whose configuration does not load (EX_CONFIG).
const EXIT_CONFIG: i32 = 78;
/// First restart delay.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest restart delay.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run at least this long resets the back-off.
const STABLE_RUN: Duration = Duration::from_secs(60);

/// The delay before restart number `restarts` (0-based) of a daemon.
pub fn backoff(restarts: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32.checked_shl(restarts).unwrap_or(u32::MAX))
        .min(MAX_BACKOFF)
}

/// How to start one daemon again.
struct Spec {
    program: OsString,
    args: Vec<OsString>,
}

impl Spec {
    fn of(cmd: &Command) -> Spec {
        Spec {
            program: cmd.get_program().to_owned(),
            args: cmd.get_args().map(ToOwned::to_owned).collect(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        cmd
    }
}

struct Supervised {
    name: String,
    spec: Spec,
    /// `None` while it waits for its restart.
    child: Option<Child>,
    started: Instant,
    /// Restarts since its last stable run.
    restarts: u32,
    /// When it is due to start again.
    restart_at: Option<Instant>,
}

/// The children of one `cargo xtask run`.
#[derive(Default)]
pub struct Supervisor {
    children: Vec<Supervised>,
    /// Where `<name>.pid` is written at every (re)start, when set.
    pid_dir: Option<PathBuf>,
}

fn copy_lines(name: String, from: impl Read + Send + 'static) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            match line {
                Ok(l) => eprintln!("{name:>9} | {l}"),
                Err(_) => break,
            }
        }
    });
}

fn start(name: &str, mut cmd: Command) -> Result<Child> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("starting {name}"))?;
    if let Some(out) = child.stdout.take() {
        copy_lines(name.to_string(), out);
    }
    if let Some(err) = child.stderr.take() {
        copy_lines(name.to_string(), err);
    }
    Ok(child)
}

/// What became of a child at one look.
enum Event {
    /// It exited with its configuration refused: the node stops.
    Fatal(String, String),
}

impl Supervisor {
    /// Also writes `<dir>/<name>.pid` whenever a child (re)starts.
    pub fn with_pid_dir(dir: PathBuf) -> Supervisor {
        Supervisor {
            children: Vec::new(),
            pid_dir: Some(dir),
        }
    }

    fn write_pid(&self, name: &str, pid: u32) {
        if let Some(dir) = &self.pid_dir {
            let path = dir.join(format!("{name}.pid"));
            let tmp = dir.join(format!(".{name}.pid.tmp"));
            if std::fs::write(&tmp, format!("{pid}\n")).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
    }

    /// Starts `cmd` as daemon `name`.
    pub fn spawn(&mut self, name: &str, cmd: Command) -> Result<()> {
        let spec = Spec::of(&cmd);
        let child = start(name, cmd)?;
        self.write_pid(name, child.id());
        self.children.push(Supervised {
            name: name.to_string(),
            spec,
            child: Some(child),
            started: Instant::now(),
            restarts: 0,
            restart_at: None,
        });
        Ok(())
    }

    /// The process id of the child started as `name`.
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.children
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.child.as_ref())
            .map(Child::id)
    }

    /// The process ids of every running child.
    pub fn pids(&self) -> Vec<u32> {
        self.children
            .iter()
            .filter_map(|s| s.child.as_ref().map(Child::id))
            .collect()
    }

    /// The name of a child that has exited, if any (during start-up).
    pub fn exited(&mut self) -> Option<(String, String)> {
        for s in &mut self.children {
            if let Some(child) = &mut s.child
                && let Ok(Some(st)) = child.try_wait()
            {
                return Some((s.name.clone(), st.to_string()));
            }
        }
        None
    }

    /// Reaps exited children and schedules their restarts; starts those
    /// whose back-off has passed.
    fn tend(&mut self) -> Option<Event> {
        let now = Instant::now();
        let mut started = Vec::new();
        for s in &mut self.children {
            if let Some(child) = &mut s.child {
                let Ok(Some(status)) = child.try_wait() else {
                    continue;
                };
                s.child = None;
                if status.code() == Some(EXIT_CONFIG) {
                    return Some(Event::Fatal(s.name.clone(), status.to_string()));
                }
                if now.duration_since(s.started) >= STABLE_RUN {
                    s.restarts = 0;
                }
                let delay = backoff(s.restarts);
                eprintln!(
                    "xtask: {} exited ({}); restarting in {} s",
                    s.name,
                    describe(status),
                    delay.as_secs()
                );
                s.restart_at = Some(now + delay);
            } else if s.restart_at.is_some_and(|at| now >= at) {
                s.restart_at = None;
                s.restarts = s.restarts.saturating_add(1);
                match start(&s.name, s.spec.command()) {
                    Ok(child) => {
                        eprintln!("xtask: {} restarted (restart {})", s.name, s.restarts);
                        started.push((s.name.clone(), child.id()));
                        s.child = Some(child);
                        s.started = now;
                    }
                    Err(e) => {
                        let delay = backoff(s.restarts);
                        eprintln!("xtask: {e:#}; trying again in {} s", delay.as_secs());
                        s.restart_at = Some(now + delay);
                    }
                }
            }
        }
        for (name, pid) in started {
            self.write_pid(&name, pid);
        }
        None
    }

    /// Waits for Ctrl-C or SIGTERM, restarting daemons that die, then stops
    /// every child. Returns the child whose configuration stopped the node,
    /// if one did.
    pub fn run_until_ctrl_c(&mut self) -> Result<Option<(String, String)>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let stopped_by = rt.block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let terminated = async {
                match &mut term {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::pin!(terminated);
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return None,
                    _ = &mut terminated => return None,
                    _ = tick.tick() => {
                        if let Some(Event::Fatal(name, status)) = self.tend() {
                            return Some((name, status));
                        }
                    }
                }
            }
        });
        eprintln!("xtask: stopping");
        self.stop_all(Duration::from_secs(10));
        Ok(stopped_by)
    }

    /// SIGTERM to every child, then SIGKILL to those still running after `grace`.
    pub fn stop_all(&mut self, grace: Duration) {
        for s in &self.children {
            if let Some(child) = &s.child {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
            }
        }
        let deadline = Instant::now() + grace;
        for s in &mut self.children {
            let Some(child) = &mut s.child else { continue };
            loop {
                match child.try_wait() {
                    Ok(Some(st)) => {
                        eprintln!("xtask: {} exited ({st})", s.name);
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50))
                    }
                    _ => {
                        eprintln!("xtask: {} did not stop in time; killing it", s.name);
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        self.children.clear();
    }
}

/// `signal 9 (SIGKILL)` or `exit status: 1`.
fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match status.signal() {
        Some(sig) => format!("killed by signal {sig}"),
        None => status.to_string(),
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        if !self.children.is_empty() {
            self.stop_all(Duration::from_secs(10));
        }
    }
}

/// `cargo xtask supervise --config-dir DIR [--bin-dir DIR] [--pid-dir DIR]
/// DAEMON…`: runs `groxide-DAEMON --config-dir DIR` for each, restarting
/// those that die, until SIGTERM or Ctrl-C. What `cargo xtask run` does for
/// its node, for a config directory made elsewhere (the end-to-end tests
/// use it to check that a node heals).
pub fn supervise(args: &[String]) -> Result<()> {
    let mut config = None;
    let mut bin_dir = None;
    let mut pid_dir = None;
    let mut daemons = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config-dir" => config = args.next().map(PathBuf::from),
            "--bin-dir" => bin_dir = args.next().map(PathBuf::from),
            "--pid-dir" => pid_dir = args.next().map(PathBuf::from),
            other if other.starts_with("--") => anyhow::bail!("supervise: unknown option {other}"),
            name => daemons.push(name.to_string()),
        }
    }
    let Some(config) = config else {
        anyhow::bail!("supervise: --config-dir DIR is required");
    };
    let bin_dir = match bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()?
            .parent()
            .map(PathBuf::from)
            .context("the directory of xtask's binary")?,
    };
    let mut sup = match pid_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            Supervisor::with_pid_dir(dir)
        }
        None => Supervisor::default(),
    };
    for name in &daemons {
        let mut cmd = Command::new(bin_dir.join(format!("groxide-{name}")));
        cmd.arg("--config-dir").arg(&config);
        sup.spawn(name, cmd)?;
    }
    if let Some((name, status)) = sup.run_until_ctrl_c()? {
        anyhow::bail!("groxide-{name}: its configuration is refused ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_bound() {
        let delays: Vec<u64> = (0..8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn a_child_that_dies_is_started_again_and_a_refused_config_stops() {
        let dir = tempfile_dir();
        let mut sup = Supervisor::with_pid_dir(dir.clone());
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30"]);
        sup.spawn("sleeper", cmd).unwrap();
        let first = sup.pid("sleeper").unwrap();
        let _ = Command::new("kill")
            .args(["-KILL", &first.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut restarted = None;
        while Instant::now() < deadline {
            assert!(sup.tend().is_none());
            if let Some(pid) = sup.pid("sleeper")
                && pid != first
            {
                restarted = Some(pid);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let second = restarted.expect("restarted within the first back-off");
        let written = std::fs::read_to_string(dir.join("sleeper.pid")).unwrap();
        assert_eq!(written.trim(), second.to_string());

        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 78"]);
        sup.spawn("broken", cmd).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut fatal = None;
        while Instant::now() < deadline && fatal.is_none() {
            fatal = sup.tend();
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            matches!(fatal, Some(Event::Fatal(ref name, _)) if name == "broken"),
            "a refused configuration stops the node"
        );
        sup.stop_all(Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-proc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
