//! Starting daemons as child processes, prefixing their log lines with their
//! name, and stopping them all.

use anyhow::{Context as _, Result};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The children of one `cargo xtask run`.
#[derive(Default)]
pub struct Supervisor {
    children: Vec<(String, Child)>,
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

impl Supervisor {
    /// Starts `cmd` as daemon `name`.
    pub fn spawn(&mut self, name: &str, mut cmd: Command) -> Result<()> {
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
        self.children.push((name.to_string(), child));
        Ok(())
    }

    /// The process id of the child started as `name`.
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.id())
    }

    /// The name of a child that has exited, if any.
    pub fn exited(&mut self) -> Option<(String, String)> {
        for (name, child) in &mut self.children {
            if let Ok(Some(st)) = child.try_wait() {
                return Some((name.clone(), st.to_string()));
            }
        }
        None
    }

    /// Waits for Ctrl-C or for a child to exit, then stops every child.
    /// Returns the child that exited on its own, if one did.
    pub fn run_until_ctrl_c(&mut self) -> Result<Option<(String, String)>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let stopped_by = rt.block_on(async {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return None,
                    _ = tick.tick() => {
                        if let Some(exited) = self.exited() {
                            return Some(exited);
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
        for (_, child) in &self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + grace;
        for (name, child) in &mut self.children {
            loop {
                match child.try_wait() {
                    Ok(Some(st)) => {
                        eprintln!("xtask: {name} exited ({st})");
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50))
                    }
                    _ => {
                        eprintln!("xtask: {name} did not stop in time; killing it");
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

impl Drop for Supervisor {
    fn drop(&mut self) {
        if !self.children.is_empty() {
            self.stop_all(Duration::from_secs(10));
        }
    }
}
