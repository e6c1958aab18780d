//! Command jobs: a program run directly (no shell, no PATH search, empty
//! environment, stdin from /dev/null, working directory `/`), killed when it
//! runs past its time limit, with its exit status and the first bytes of its
//! output kept for the job's result.

use crate::exec::Outcome;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// sysexits' EX_TEMPFAIL: a command exiting with it is retried with backoff.
pub const EXIT_TEMPFAIL: i32 = 75;
/// How long the output pipes may stay open after the command exited (a
/// program it started in the background may hold them).
const OUTPUT_GRACE: Duration = Duration::from_secs(1);
/// Read size while draining a pipe.
const READ_CHUNK: usize = 8192;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandExit {
    /// It exited with this status.
    Status(i32),
    /// A signal ended it.
    Signal(i32),
    /// It ran past its time limit and was killed.
    TimedOut(Duration),
    /// It could not be started.
    SpawnFailed(String),
    /// Waiting for it failed.
    WaitFailed(String),
}

/// The first bytes of one output stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturedOutput {
    /// What was kept.
    pub bytes: Vec<u8>,
    /// Whether more was written than kept.
    pub truncated: bool,
}

/// Everything known about one run of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandReport {
    /// `argv[0]`.
    pub program: String,
    /// How it ended.
    pub exit: CommandExit,
    /// The start of its standard output.
    pub stdout: CapturedOutput,
    /// The start of its standard error.
    pub stderr: CapturedOutput,
}

impl CommandReport {
    /// The job outcome: exit 0 is done, [`EXIT_TEMPFAIL`] is retried,
    /// anything else failed. The result names the exit and shows the output.
    pub fn outcome(&self) -> Outcome {
        let mut text = match &self.exit {
            CommandExit::Status(0) => "exit status 0".to_string(),
            CommandExit::Status(EXIT_TEMPFAIL) => {
                format!("exit status {EXIT_TEMPFAIL} (temporary failure)")
            }
            CommandExit::Status(n) => format!("exit status {n}"),
            CommandExit::Signal(s) => format!("killed by signal {s}"),
            CommandExit::TimedOut(d) => format!("killed after its time limit of {}s", d.as_secs()),
            CommandExit::SpawnFailed(e) => format!("cannot start {}: {e}", self.program),
            CommandExit::WaitFailed(e) => format!("lost track of {}: {e}", self.program),
        };
        for (name, out) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if out.bytes.is_empty() && !out.truncated {
                continue;
            }
            let shown = String::from_utf8_lossy(&out.bytes);
            text.push_str(&format!("\n{name}: {}", shown.trim_end()));
            if out.truncated {
                text.push_str(" [truncated]");
            }
        }
        match self.exit {
            CommandExit::Status(0) => Outcome::Done(text),
            CommandExit::Status(EXIT_TEMPFAIL) => Outcome::Retry(text),
            _ => Outcome::Failed(text),
        }
    }
}

/// Runs `argv` (non-empty; `argv[0]` an absolute path), killing it after
/// `timeout`, keeping at most `output_max` bytes of each output stream.
pub async fn run_command(argv: &[String], timeout: Duration, output_max: usize) -> CommandReport {
    let program = argv.first().cloned().unwrap_or_default();
    let report = |exit, stdout, stderr| CommandReport {
        program: program.clone(),
        exit,
        stdout,
        stderr,
    };
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(argv.iter().skip(1))
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A job task dropped at the drain bound must not leave the child behind.
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return report(
                CommandExit::SpawnFailed(e.to_string()),
                CapturedOutput::default(),
                CapturedOutput::default(),
            );
        }
    };
    let stdout = Capture::start(child.stdout.take(), output_max);
    let stderr = Capture::start(child.stderr.take(), output_max);
    let exit = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => CommandExit::Status(code),
            (None, Some(sig)) => CommandExit::Signal(sig),
            (None, None) => CommandExit::WaitFailed("no exit status".into()),
        },
        Ok(Err(e)) => CommandExit::WaitFailed(e.to_string()),
        Err(_) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            CommandExit::TimedOut(timeout)
        }
    };
    report(exit, stdout.finish().await, stderr.finish().await)
}

/// A pipe being drained in the background into a bounded buffer.
struct Capture {
    kept: Arc<Mutex<CapturedOutput>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Capture {
    fn start<R: AsyncRead + Unpin + Send + 'static>(pipe: Option<R>, max: usize) -> Capture {
        let kept = Arc::new(Mutex::new(CapturedOutput::default()));
        let task = pipe.map(|mut pipe| {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; READ_CHUNK];
                // Keep reading past the limit so the child never blocks on a full pipe.
                while let Ok(n) = pipe.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let mut k = match kept.lock() {
                        Ok(g) => g,
                        Err(p) => p.into_inner(),
                    };
                    let room = max.saturating_sub(k.bytes.len());
                    let take = room.min(n);
                    k.bytes.extend_from_slice(&buf[..take]);
                    if take < n {
                        k.truncated = true;
                    }
                }
            })
        });
        Capture { kept, task }
    }

    async fn finish(mut self) -> CapturedOutput {
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(OUTPUT_GRACE, &mut task).await.is_err()
        {
            task.abort();
        }
        match self.kept.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    async fn run(a: &[&str], timeout_ms: u64, max: usize) -> CommandReport {
        run_command(&argv(a), Duration::from_millis(timeout_ms), max).await
    }

    #[tokio::test]
    async fn exit_status_and_output_are_kept() {
        let r = run(
            &["/bin/sh", "-c", "echo out; echo err >&2; exit 3"],
            10_000,
            100,
        )
        .await;
        assert_eq!(r.exit, CommandExit::Status(3));
        assert_eq!(r.stdout.bytes, b"out\n");
        assert_eq!(r.stderr.bytes, b"err\n");
        assert_eq!(
            r.outcome(),
            Outcome::Failed("exit status 3\nstdout: out\nstderr: err".into())
        );
    }

    #[tokio::test]
    async fn success_is_done_and_tempfail_is_retried() {
        let ok = run(&["/bin/true"], 10_000, 100).await;
        assert_eq!(ok.outcome(), Outcome::Done("exit status 0".into()));
        let temp = run(&["/bin/sh", "-c", "exit 75"], 10_000, 100).await;
        assert!(matches!(temp.outcome(), Outcome::Retry(_)), "{temp:?}");
    }

    #[tokio::test]
    async fn output_beyond_the_limit_is_cut_and_marked() {
        let r = run(
            &["/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"],
            10_000,
            10,
        )
        .await;
        assert_eq!(r.exit, CommandExit::Status(0));
        assert_eq!(r.stdout.bytes, b"xxxxxxxxxx");
        assert!(r.stdout.truncated);
        let Outcome::Done(text) = r.outcome() else {
            panic!("not done: {r:?}");
        };
        assert!(text.ends_with("[truncated]"), "{text}");
    }

    #[tokio::test]
    async fn a_command_past_its_time_limit_is_killed() {
        let r = run(&["/bin/sleep", "30"], 200, 100).await;
        assert_eq!(r.exit, CommandExit::TimedOut(Duration::from_millis(200)));
        assert!(matches!(r.outcome(), Outcome::Failed(t) if t.starts_with("killed after")));
    }

    #[tokio::test]
    async fn the_environment_is_empty_and_there_is_no_shell() {
        // Nothing of the test process's environment reaches the child.
        let r = run(&["/usr/bin/env"], 10_000, 4096).await;
        assert_eq!(r.exit, CommandExit::Status(0));
        assert!(
            r.stdout.bytes.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&r.stdout.bytes)
        );
        // Shell syntax is an ordinary argument.
        let r = run(&["/bin/echo", "$HOME;", "`id`"], 10_000, 4096).await;
        assert_eq!(r.stdout.bytes, b"$HOME; `id`\n");
    }

    #[tokio::test]
    async fn a_missing_program_fails_naming_it() {
        let r = run(&["/nonexistent/prog"], 10_000, 100).await;
        assert!(matches!(r.exit, CommandExit::SpawnFailed(_)));
        let Outcome::Failed(text) = r.outcome() else {
            panic!("{r:?}");
        };
        assert!(text.contains("cannot start /nonexistent/prog"), "{text}");
    }
}
