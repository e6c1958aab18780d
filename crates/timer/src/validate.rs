//! What Add accepts. Everything is checked before the job is stored, so a
//! bad job is refused with a clear error instead of failing at its due time.
//!
//! Due times: a time in the past (or now) is accepted and runs at once; a
//! negative time, or one more than `timer_max_future` ahead, is refused.

use crate::clock::rfc3339;
use crate::job::JobSpec;
use crate::limits::{COMMAND_ALLOW_KEY, TimerLimits};
use std::path::Path;

/// Most arguments of a command, `argv[0]` included (gromox's limit).
pub const MAX_ARGS: usize = 128;
/// Most bytes of a command line, all arguments together.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;
/// Most bytes of a store dir.
pub const MAX_DIR_BYTES: usize = 4096;

/// Why Add refused a job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    /// The request has no job.
    #[error("the request names no job (set deferred_send, maintenance or command)")]
    NoJob,
    /// The due time is before 1970.
    #[error("due time {0} is negative; expected Unix seconds (a past time runs at once)")]
    NegativeDue(i64),
    /// The due time is beyond the horizon.
    #[error(
        "due time {due} ({when}) is more than {max_days} days ahead; the limit is timer_max_future (timer.cfg)"
    )]
    TooFar {
        /// The due time asked for.
        due: i64,
        /// It as a date.
        when: String,
        /// The horizon in days.
        max_days: u64,
    },
    /// A store job without a dir.
    #[error("{0}: dir is empty")]
    EmptyDir(&'static str),
    /// A store dir that is too long or not absolute.
    #[error("{kind}: dir {dir:?} must be an absolute path of at most {MAX_DIR_BYTES} bytes")]
    BadDir {
        /// The job kind.
        kind: &'static str,
        /// The dir given (cut to a readable length).
        dir: String,
    },
    /// A deferred send without a message.
    #[error("deferred_send: message_id is 0")]
    NoMessage,
    /// An unknown maintenance action.
    #[error("maintenance: unknown action {given:?}; known: {}", crate::job::MaintenanceAction::NAMES.join(", "))]
    UnknownAction {
        /// The action given.
        given: String,
    },
    /// A command without arguments.
    #[error("command: argv is empty")]
    EmptyArgv,
    /// A command whose program is not an absolute path.
    #[error("command: {0:?} is not an absolute path (commands run without a shell or PATH search)")]
    NotAbsolute(String),
    /// A command line that is too long.
    #[error(
        "command: {args} arguments, {bytes} bytes; at most {MAX_ARGS} arguments and {MAX_COMMAND_BYTES} bytes"
    )]
    TooLong {
        /// Arguments given.
        args: usize,
        /// Bytes given.
        bytes: usize,
    },
    /// An argument holding a NUL byte (cannot be passed to a program).
    #[error("command: argument {0} contains a NUL byte")]
    NulByte(usize),
    /// A program that is not on the allow-list.
    #[error(
        "command: {program} is not on {COMMAND_ALLOW_KEY} (timer.cfg); only listed programs may be run"
    )]
    NotAllowed {
        /// `argv[0]`.
        program: String,
    },
}

impl AddError {
    /// Whether the refusal is about permission (the allow-list) rather than
    /// a malformed request.
    pub fn is_permission(&self) -> bool {
        matches!(self, AddError::NotAllowed { .. })
    }
}

/// Checks a job for Add at `now_secs` under `limits`.
pub fn check_add(
    due: i64,
    spec: &JobSpec,
    now_secs: i64,
    limits: &TimerLimits,
) -> Result<(), AddError> {
    if due < 0 {
        return Err(AddError::NegativeDue(due));
    }
    let max_secs = i64::try_from(limits.max_future.as_secs()).unwrap_or(i64::MAX);
    if due > now_secs.saturating_add(max_secs) {
        return Err(AddError::TooFar {
            due,
            when: rfc3339(due),
            max_days: limits.max_future.as_secs() / 86_400,
        });
    }
    match spec {
        JobSpec::DeferredSend { dir, message_id } => {
            check_dir(spec.kind(), dir)?;
            if *message_id == 0 {
                return Err(AddError::NoMessage);
            }
        }
        JobSpec::Maintenance { dir, .. } => check_dir(spec.kind(), dir)?,
        JobSpec::Command { argv, .. } => check_command(argv, limits)?,
    }
    Ok(())
}

fn check_dir(kind: &'static str, dir: &str) -> Result<(), AddError> {
    if dir.is_empty() {
        return Err(AddError::EmptyDir(kind));
    }
    if dir.len() > MAX_DIR_BYTES || !Path::new(dir).is_absolute() {
        return Err(AddError::BadDir {
            kind,
            dir: dir.chars().take(80).collect(),
        });
    }
    Ok(())
}

fn check_command(argv: &[String], limits: &TimerLimits) -> Result<(), AddError> {
    let Some(program) = argv.first() else {
        return Err(AddError::EmptyArgv);
    };
    let bytes: usize = argv.iter().map(String::len).sum();
    if argv.len() > MAX_ARGS || bytes > MAX_COMMAND_BYTES {
        return Err(AddError::TooLong {
            args: argv.len(),
            bytes,
        });
    }
    if let Some(i) = argv.iter().position(|a| a.contains('\0')) {
        return Err(AddError::NulByte(i));
    }
    if !Path::new(program).is_absolute() {
        return Err(AddError::NotAbsolute(program.clone()));
    }
    if !limits.command_allow.contains(program) {
        return Err(AddError::NotAllowed {
            program: program.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::MaintenanceAction;
    use std::time::Duration;

    const NOW: i64 = 1_800_000_000;

    fn limits() -> TimerLimits {
        TimerLimits {
            command_allow: ["/usr/bin/true".to_string()].into_iter().collect(),
            max_future: Duration::from_secs(10 * 86_400),
            ..TimerLimits::default()
        }
    }

    fn send(dir: &str, message_id: u64) -> JobSpec {
        JobSpec::DeferredSend {
            dir: dir.into(),
            message_id,
        }
    }

    fn cmd(argv: &[&str]) -> JobSpec {
        JobSpec::Command {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            timeout_secs: 0,
        }
    }

    fn check(due: i64, spec: JobSpec, expected: Result<(), &str>) {
        let got = check_add(due, &spec, NOW, &limits()).map_err(|e| e.to_string());
        match (&got, expected) {
            (Ok(()), Ok(())) => {}
            (Err(msg), Err(part)) if msg.contains(part) => {}
            _ => panic!("{spec:?} due {due}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn due_times_in_the_past_run_and_absurd_ones_are_refused() {
        check(NOW, send("/s/a", 1), Ok(()));
        check(0, send("/s/a", 1), Ok(()));
        check(NOW - 86_400 * 365, send("/s/a", 1), Ok(()));
        check(NOW + 10 * 86_400, send("/s/a", 1), Ok(()));
        check(
            NOW + 10 * 86_400 + 1,
            send("/s/a", 1),
            Err("more than 10 days ahead; the limit is timer_max_future"),
        );
        check(
            i64::MAX,
            send("/s/a", 1),
            Err("unix time 9223372036854775807"),
        );
        check(-1, send("/s/a", 1), Err("due time -1 is negative"));
        check(i64::MIN, send("/s/a", 1), Err("is negative"));
    }

    #[test]
    fn store_jobs_need_an_absolute_dir_and_a_message() {
        check(NOW, send("", 1), Err("deferred_send: dir is empty"));
        check(
            NOW,
            send("relative/dir", 1),
            Err("must be an absolute path"),
        );
        check(
            NOW,
            send(&format!("/{}", "a".repeat(MAX_DIR_BYTES)), 1),
            Err("at most 4096 bytes"),
        );
        check(NOW, send("/s/a", 0), Err("message_id is 0"));
        let purge = MaintenanceAction::PurgeDatafiles;
        check(
            NOW,
            JobSpec::Maintenance {
                dir: "".into(),
                action: purge.clone(),
            },
            Err("maintenance: dir is empty"),
        );
        check(
            NOW,
            JobSpec::Maintenance {
                dir: "/s/a".into(),
                action: purge,
            },
            Ok(()),
        );
    }

    #[test]
    fn commands_must_be_listed_absolute_and_reasonable() {
        check(NOW, cmd(&["/usr/bin/true", "x"]), Ok(()));
        check(NOW, cmd(&[]), Err("argv is empty"));
        check(NOW, cmd(&["true"]), Err("\"true\" is not an absolute path"));
        check(
            NOW,
            cmd(&["/bin/sh", "-c", "rm -rf /"]),
            Err("/bin/sh is not on timer_command_allow (timer.cfg)"),
        );
        check(
            NOW,
            cmd(&["/usr/bin/true", "a\0b"]),
            Err("argument 1 contains a NUL byte"),
        );
        let many: Vec<&str> = std::iter::once("/usr/bin/true")
            .chain(std::iter::repeat_n("x", MAX_ARGS))
            .collect();
        check(NOW, cmd(&many), Err("at most 128 arguments"));
        let long = "x".repeat(MAX_COMMAND_BYTES);
        check(NOW, cmd(&["/usr/bin/true", &long]), Err("65536 bytes"));
    }

    #[test]
    fn only_the_allow_list_refusal_is_a_permission_error() {
        let err = check_add(NOW, &cmd(&["/bin/sh"]), NOW, &limits()).err();
        assert!(err.is_some_and(|e| e.is_permission()));
        let err = check_add(-1, &cmd(&["/usr/bin/true"]), NOW, &limits()).err();
        assert!(err.is_some_and(|e| !e.is_permission()));
    }
}
