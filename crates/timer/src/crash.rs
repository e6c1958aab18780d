//! Crash injection for fault tests: `GROXIDE_TIMER_TEST_CRASH=<point>` makes
//! the process abort (as abruptly as `kill -9`: no drain, no destructors) at
//! that point of a job. Read only by builds with the `testing` feature (the
//! crate's tests take it as a dev-dependency feature), so a release binary
//! ignores the variable and every hit is a no-op.

/// The environment variable tests set.
pub const CRASH_ENV: &str = "GROXIDE_TIMER_TEST_CRASH";

/// Where a job can be made to crash the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// A deferred send: the relay accepted, "submitted" not yet recorded.
    AfterSubmit,
    /// A deferred send: "submitted" recorded, not yet moved to Sent Items.
    AfterSubmitted,
    /// A deferred send: moved to Sent Items, the job not yet marked done.
    AfterFiled,
    /// A command exited, the job not yet marked done.
    AfterCommand,
}

impl CrashPoint {
    /// The name used in [`CRASH_ENV`].
    pub fn name(self) -> &'static str {
        match self {
            CrashPoint::AfterSubmit => "after-submit",
            CrashPoint::AfterSubmitted => "after-submitted",
            CrashPoint::AfterFiled => "after-filed",
            CrashPoint::AfterCommand => "after-command",
        }
    }

    #[cfg(feature = "testing")]
    fn parse(s: &str) -> Option<CrashPoint> {
        [
            CrashPoint::AfterSubmit,
            CrashPoint::AfterSubmitted,
            CrashPoint::AfterFiled,
            CrashPoint::AfterCommand,
        ]
        .into_iter()
        .find(|p| p.name() == s)
    }
}

/// The armed crash point, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrashHooks(Option<CrashPoint>);

impl CrashHooks {
    /// No crash point (production, in-process tests).
    pub fn none() -> CrashHooks {
        CrashHooks(None)
    }

    /// Crashes at `point`.
    pub fn at(point: CrashPoint) -> CrashHooks {
        CrashHooks(Some(point))
    }

    /// Reads [`CRASH_ENV`]; an unknown value is logged and ignored. Only
    /// builds with the `testing` feature (test builds) read it: a release
    /// binary never aborts on purpose.
    #[cfg(not(feature = "testing"))]
    pub fn from_env() -> CrashHooks {
        CrashHooks(None)
    }

    /// Reads [`CRASH_ENV`]; an unknown value is logged and ignored. Only
    /// builds with the `testing` feature (test builds) read it: a release
    /// binary never aborts on purpose.
    #[cfg(feature = "testing")]
    pub fn from_env() -> CrashHooks {
        match std::env::var(CRASH_ENV) {
            Ok(v) => match CrashPoint::parse(&v) {
                Some(p) => {
                    tracing::warn!(point = p.name(), "crash injection armed (tests only)");
                    CrashHooks(Some(p))
                }
                None => {
                    tracing::warn!(value = %v, "unknown {CRASH_ENV} value ignored");
                    CrashHooks(None)
                }
            },
            Err(_) => CrashHooks(None),
        }
    }

    /// Aborts the process when `point` is armed.
    pub fn hit(&self, point: CrashPoint) {
        if self.0 == Some(point) {
            eprintln!("groxide-timer: crash injection at {}", point.name());
            std::process::abort();
        }
    }
}
