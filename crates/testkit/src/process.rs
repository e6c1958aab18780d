//! A daemon binary as a child process of the test.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::wait_until;

/// A running child process, its stdout and stderr captured as one log;
/// SIGKILLed when dropped, and its log printed when the test panicked.
pub struct Process {
    name: String,
    child: Option<Child>,
    log: Arc<Mutex<String>>,
}

impl Process {
    /// Spawns `command` (stdin from /dev/null, `RUST_LOG` removed) and
    /// captures its output; `name` labels the log.
    pub fn spawn(name: &str, mut command: Command) -> Process {
        command
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        let out = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let err = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        for stream in [out, err].into_iter().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        Process {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    /// Everything the process has written so far (every run of it).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many log lines contain `needle`.
    pub fn count_log(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.log().contains(needle))
    }

    /// The process id (0 once it was reaped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Whether it has exited; its status if so (it stays reapable by [`Process::wait_exit`]).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
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
    /// many processes at once.
    pub fn kill_now(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
        }
    }

    /// SIGKILLs the process and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits for the process to exit by itself; `None` after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let mut status = None;
        wait_until(timeout, || {
            status = child.try_wait().ok().flatten();
            status.is_some()
        });
        if status.is_some() {
            self.child = None;
        }
        status
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("--- log of {} ---\n{}", self.name, self.log());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_captured_and_the_exit_status_seen() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let mut p = Process::spawn("sh", cmd);
        let status = p.wait_exit(crate::DEADLINE).expect("exits");
        assert_eq!(status.code(), Some(3));
        assert!(p.wait_log("err", crate::DEADLINE));
        assert_eq!(p.count_log("out"), 1);
    }

    #[test]
    fn a_process_is_killed_when_dropped() {
        let mut cmd = Command::new("sleep");
        cmd.arg("600");
        let p = Process::spawn("sleep", cmd);
        let pid = p.pid();
        drop(p);
        let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
        // Reaped: the pid is gone (or reused by an unrelated process, not a sleep 600).
        let alive = std::fs::read_to_string(proc_dir.join("cmdline"))
            .is_ok_and(|c| c.starts_with("sleep\u{0}600"));
        assert!(!alive);
    }
}
