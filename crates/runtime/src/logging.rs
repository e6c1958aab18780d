//! tracing set-up: text or JSON lines on stderr, level from the config and
//! changeable by SIGHUP. `RUST_LOG`, when set, wins (for developers).

use std::io::IsTerminal;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// Changes the log level after start-up.
pub(crate) struct LogControl {
    handle: reload::Handle<EnvFilter, Registry>,
    from_env: bool,
}

impl LogControl {
    pub(crate) fn set_level(&self, level: &str) {
        if self.from_env {
            return;
        }
        if let Ok(filter) = EnvFilter::try_new(level) {
            let _ = self.handle.reload(filter);
        }
    }
}

/// Installs the global subscriber. `json` selects JSON lines.
pub(crate) fn init(daemon: &'static str, level: &str, json: bool) -> LogControl {
    let env = std::env::var("RUST_LOG").ok().filter(|s| !s.is_empty());
    let from_env = env.is_some();
    let filter = env
        .and_then(|e| EnvFilter::try_new(e).ok())
        .unwrap_or_else(|| EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info")));
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_current_span(false),
            )
            .try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_target(false),
            )
            .try_init()
    };
    if result.is_err() {
        // Already installed (tests starting several daemons in one process).
        tracing::debug!(daemon, "tracing subscriber already installed");
    }
    LogControl { handle, from_env }
}
