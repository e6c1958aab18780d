//! A groxide-timer process for tests: its own config dir, state file and
//! port; killed when dropped (also on panic, when its log is printed).
#![allow(dead_code)]

use groxide_rpc::pb::timer::v1::{Job, JobState};
use groxide_rpc::timer_client::{self, TimerClient};
use groxide_rpc::{ClientOptions, NodeAddr};
use groxide_testkit::{LOCALHOST, Process, free_local_port, wait_until, wait_until_async};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use groxide_testkit::DEADLINE;

const LOCAL: IpAddr = LOCALHOST;

/// Now in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Polls `cond` until it holds; panics naming `what` after [`DEADLINE`].
pub async fn wait_for(what: &str, cond: impl FnMut() -> bool) {
    assert!(
        wait_until_async(DEADLINE, cond).await,
        "timed out waiting for {what}"
    );
}

/// One timer daemon and its files.
pub struct TimerProcess {
    dir: tempfile::TempDir,
    pub port: u16,
    process: Option<Process>,
    /// The logs of the runs that ended.
    past_log: String,
}

const RECORD_SH: &str = "#!/bin/sh\necho \"$1\" >> \"$2\"\n";
const SLOW_SH: &str = "#!/bin/sh\nsleep 1\necho 'slow done' >> \"$1\"\n";

impl TimerProcess {
    /// A config dir with timer.cfg, and two scripts on the allow-list:
    /// `record.sh TAG FILE` appends TAG to FILE; `slow.sh FILE` waits a
    /// second, then appends "slow done".
    pub fn new() -> TimerProcess {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("record.sh", RECORD_SH), ("slow.sh", SLOW_SH)] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let p = TimerProcess {
            dir,
            port: free_local_port(),
            process: None,
            past_log: String::new(),
        };
        p.write_shared("");
        p.write_config("");
        p
    }

    /// Rewrites groxide.cfg with `extra` lines added.
    pub fn write_shared(&self, extra: &str) {
        let text = format!(
            "shutdown_timeout = 10s\nlog_level = info\ndata_path = {}\n\
             directory_url = sqlite://{}\n{extra}",
            self.path("data").display(),
            self.path("directory.sqlite3").display()
        );
        std::fs::write(self.path("groxide.cfg"), text).unwrap();
    }

    /// The config directory.
    pub fn config_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// A file in the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Rewrites timer.cfg with `extra` lines added.
    pub fn write_config(&self, extra: &str) {
        let allow = if extra.contains("timer_command_allow") {
            String::new()
        } else {
            format!(
                "timer_command_allow = {} {}\n",
                self.path("record.sh").display(),
                self.path("slow.sh").display()
            )
        };
        let text = format!(
            "timer_listen_ip = 127.0.0.1\ntimer_listen_port = {}\ntimer_hosts_allow = 127.0.0.1\n\
             timer_state_path = {}\ntimer_retry_delay = 100ms\n{allow}{extra}",
            self.port,
            self.path("state/timer.sqlite3").display()
        );
        std::fs::write(self.path("timer.cfg"), text).unwrap();
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_groxide-timer"));
        cmd.arg("--config-dir")
            .arg(self.dir.path())
            .env_remove("RUST_LOG")
            .env_remove("GROXIDE_TIMER_TEST_CRASH")
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// `groxide-timer --check-config`.
    pub fn check_config(&self) -> Output {
        self.command().arg("--check-config").output().unwrap()
    }

    /// Starts the daemon with extra environment and waits until it listens.
    pub fn start(&mut self, env: &[(&str, &str)]) {
        assert!(self.process.is_none(), "already running");
        let mut cmd = self.command();
        cmd.envs(env.iter().copied());
        let process = self.process.insert(Process::spawn("groxide-timer", cmd));
        let addr = SocketAddr::new(LOCAL, self.port);
        let mut exited = None;
        let listening = wait_until(DEADLINE, || {
            exited = process.exited();
            exited.is_some()
                || TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
        });
        if let Some(st) = exited {
            panic!("groxide-timer exited at start ({st}):\n{}", self.log());
        }
        assert!(listening, "not listening:\n{}", self.log());
    }

    /// Everything the daemon logged so far (all runs).
    pub fn log(&self) -> String {
        let current = self.process.as_ref().map(Process::log).unwrap_or_default();
        format!("{}{current}", self.past_log)
    }

    /// Ends the current run's bookkeeping: its log joins the past ones.
    fn ended(&mut self) -> Option<Process> {
        let process = self.process.take()?;
        self.past_log.push_str(&process.log());
        Some(process)
    }

    /// A client of the daemon.
    pub fn client(&self) -> TimerClient {
        let opts = ClientOptions {
            source_ip: Some(LOCAL),
            ..ClientOptions::default()
        };
        TimerClient::new(NodeAddr::new("127.0.0.1", self.port), &opts).unwrap()
    }

    /// Waits until job `id` is in `state`.
    pub async fn wait_state(&self, id: u64, state: JobState) -> Job {
        let c = self.client();
        let deadline = Instant::now() + DEADLINE;
        loop {
            let job = c.get(id).await.unwrap();
            if job.state == state as i32 {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} is {} ({}), not {}:\n{}",
                timer_client::state_name(job.state),
                job.result,
                timer_client::state_name(state as i32),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn running(&mut self) -> &mut Process {
        self.process.as_mut().expect("running")
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let status = self.running().wait_exit(DEADLINE);
        let mut process = self.ended().expect("running");
        match status {
            Some(st) => st,
            None => {
                process.kill();
                panic!("groxide-timer did not exit:\n{}", self.log());
            }
        }
    }

    /// SIGTERM; the daemon must drain and exit 0.
    pub fn stop_term(&mut self) {
        self.running().signal("TERM");
        let st = self.wait_exit();
        assert!(st.success(), "exit after SIGTERM: {st}\n{}", self.log());
    }

    /// SIGHUP (reload).
    pub fn hup(&self) {
        self.process.as_ref().expect("running").signal("HUP");
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.ended() {
            process.kill();
        }
    }
}

impl Drop for TimerProcess {
    fn drop(&mut self) {
        // The running process prints its own log when dropped during a panic.
        if std::thread::panicking() && !self.past_log.is_empty() {
            eprintln!("--- earlier runs of groxide-timer ---\n{}", self.past_log);
        }
    }
}
