//! The reloadable settings of the timer (timer.cfg), read once per use so
//! that a SIGHUP applies to the next job.

use groxide_config::keys::{shared, timer};
use groxide_config::{Config, Timer};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Key of the command allow-list.
pub const COMMAND_ALLOW_KEY: &str = timer::TIMER_COMMAND_ALLOW.name();

/// Every setting a job or the scheduler consults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerLimits {
    /// Most jobs running at once (`timer_threads_num`).
    pub threads: usize,
    /// Programs command jobs may run (`timer_command_allow`).
    pub command_allow: BTreeSet<String>,
    /// Default and longest run time of a command (`timer_command_timeout`).
    pub command_timeout: Duration,
    /// Bytes of each output stream kept (`timer_command_output_max`).
    pub command_output_max: usize,
    /// Retries after a transient failure (`timer_retry_limit`).
    pub retry_limit: u32,
    /// Wait before the first retry (`timer_retry_delay`).
    pub retry_delay: Duration,
    /// Longest wait between retries (`timer_retry_max_delay`).
    pub retry_max_delay: Duration,
    /// Farthest a due time may lie ahead (`timer_max_future`).
    pub max_future: Duration,
    /// How long finished jobs are kept (`timer_keep_finished`).
    pub keep_finished: Duration,
}

impl Default for TimerLimits {
    fn default() -> Self {
        TimerLimits {
            threads: 50,
            command_allow: BTreeSet::new(),
            command_timeout: Duration::from_secs(300),
            command_output_max: 4096,
            retry_limit: 10,
            retry_delay: Duration::from_secs(30),
            retry_max_delay: Duration::from_secs(3600),
            max_future: Duration::from_secs(10 * 365 * 86_400),
            keep_finished: Duration::from_secs(30 * 86_400),
        }
    }
}

impl TimerLimits {
    /// The settings of a loaded (already validated) timer.cfg. Allow-list
    /// entries that are not absolute paths are left out; [`check_config`]
    /// reports them before the config is accepted.
    pub fn from_config(config: &Config<Timer>) -> TimerLimits {
        TimerLimits {
            threads: config.get(timer::TIMER_THREADS_NUM),
            command_allow: parse_allow_list(config.get(timer::TIMER_COMMAND_ALLOW))
                .into_iter()
                .filter(|p| Path::new(p).is_absolute())
                .collect(),
            command_timeout: config.get(timer::TIMER_COMMAND_TIMEOUT),
            command_output_max: usize::try_from(config.get(timer::TIMER_COMMAND_OUTPUT_MAX))
                .unwrap_or(usize::MAX),
            retry_limit: config.get(timer::TIMER_RETRY_LIMIT),
            retry_delay: config.get(timer::TIMER_RETRY_DELAY),
            retry_max_delay: config.get(timer::TIMER_RETRY_MAX_DELAY),
            max_future: config.get(timer::TIMER_MAX_FUTURE),
            keep_finished: config.get(timer::TIMER_KEEP_FINISHED),
        }
    }

    /// Attempts a job gets in all: the first plus the retries.
    pub fn max_attempts(&self) -> u32 {
        self.retry_limit.saturating_add(1)
    }

    /// The wait after the `attempt`-th attempt failed (1-based): the first
    /// retry waits `retry_delay`, each further one twice as long, at most
    /// `retry_max_delay`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.retry_delay
            .saturating_mul(factor)
            .min(self.retry_max_delay)
    }

    /// The time limit of a command that asked for `requested_secs` (0: the default).
    pub fn command_timeout_for(&self, requested_secs: u32) -> Duration {
        let requested = Duration::from_secs(u64::from(requested_secs));
        if requested.is_zero() || requested > self.command_timeout {
            self.command_timeout
        } else {
            requested
        }
    }
}

/// The entries of an allow-list value (separated by white space).
pub fn parse_allow_list(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_owned).collect()
}

/// Checks beyond value syntax, run at start, on SIGHUP and by
/// `--check-config`: every allow-list entry must be an absolute path, and
/// `outgoing_smtp_url` must be a relay URL.
pub fn check_config(config: &Config<Timer>) -> Vec<String> {
    let file = config.dir().join(timer::TIMER_COMMAND_ALLOW.file());
    let relay = config
        .get(shared::OUTGOING_SMTP_URL)
        .parse::<groxide_submit::RelayUrl>()
        .err()
        .map(|e| e.to_string());
    parse_allow_list(config.get(timer::TIMER_COMMAND_ALLOW))
        .into_iter()
        .filter(|p| !Path::new(p).is_absolute())
        .map(|p| {
            format!(
                "{}: {COMMAND_ALLOW_KEY}: {p:?} is not an absolute path (commands run without a shell or PATH search)",
                file.display()
            )
        })
        .chain(relay)
        .collect()
}

/// The current settings, swapped as a whole on SIGHUP. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct SharedLimits(Arc<RwLock<Arc<TimerLimits>>>);

impl SharedLimits {
    /// Starts with `limits`.
    pub fn new(limits: TimerLimits) -> SharedLimits {
        SharedLimits(Arc::new(RwLock::new(Arc::new(limits))))
    }

    /// The settings now.
    pub fn get(&self) -> Arc<TimerLimits> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Replaces the settings.
    pub fn set(&self, limits: TimerLimits) {
        match self.0.write() {
            Ok(mut g) => *g = Arc::new(limits),
            Err(p) => *p.into_inner() = Arc::new(limits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config<Timer> {
        match Config::from_str_for_tests(Path::new("/etc/groxide"), "", text) {
            Ok((c, _)) => c,
            Err(e) => panic!("config: {e}"),
        }
    }

    #[test]
    fn backoff_doubles_from_the_first_delay_up_to_the_maximum() {
        let limits = TimerLimits::from_config(&config(
            "timer_retry_delay = 10s\ntimer_retry_max_delay = 1min\n",
        ));
        let waits: Vec<u64> = (1..=6).map(|a| limits.backoff(a).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60, 60]);
        assert_eq!(limits.backoff(u32::MAX).as_secs(), 60);
    }

    #[test]
    fn defaults_of_the_config_match_the_built_in_defaults() {
        assert_eq!(
            TimerLimits::from_config(&config("")),
            TimerLimits::default()
        );
    }

    #[test]
    fn command_timeout_is_the_request_capped_by_the_config() {
        let limits = TimerLimits::from_config(&config("timer_command_timeout = 1min\n"));
        for (requested, expected) in [(0, 60), (5, 5), (60, 60), (61, 60), (u32::MAX, 60)] {
            assert_eq!(
                limits.command_timeout_for(requested).as_secs(),
                expected,
                "requested {requested}"
            );
        }
    }

    #[test]
    fn a_relative_allow_list_entry_is_a_config_error_naming_file_and_key() {
        let c = config("timer_command_allow = /bin/true bin/false\n");
        let problems = check_config(&c);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("/etc/groxide/timer.cfg"),
            "{}",
            problems[0]
        );
        assert!(
            problems[0].contains("timer_command_allow"),
            "{}",
            problems[0]
        );
        assert!(problems[0].contains("\"bin/false\""), "{}", problems[0]);
        let limits = TimerLimits::from_config(&c);
        assert_eq!(
            limits.command_allow.into_iter().collect::<Vec<_>>(),
            ["/bin/true"]
        );
    }
}
