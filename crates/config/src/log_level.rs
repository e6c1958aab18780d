//! Log levels: tracing's words, or gromox's numeric `*_log_level` values.

use std::fmt;

use crate::invalid::InvalidValue;

/// How much a daemon logs; each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Failures only.
    Error,
    /// Failures and things an operator should look at.
    Warn,
    /// Normal operation (start, stop, reloads, connections refused).
    Info,
    /// Detail for troubleshooting.
    Debug,
    /// Everything, including per-request detail.
    Trace,
}

impl LogLevel {
    /// The level's name as tracing filters spell it (`info`, `debug`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `error warn info debug trace` (any case) or gromox's numbers:
/// 1 and 2 (crit, error) → error, 3 → warn, 4 (notice) and 5 → info,
/// 6 → debug.
pub fn parse_log_level(text: &str) -> Result<LogLevel, InvalidValue> {
    let level = match text.trim().to_ascii_lowercase().as_str() {
        "error" | "1" | "2" => LogLevel::Error,
        "warn" | "3" => LogLevel::Warn,
        "info" | "4" | "5" => LogLevel::Info,
        "debug" | "6" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        _ => {
            return Err(InvalidValue::new(
                "log level",
                "expected error, warn, info, debug, trace or gromox's 1..6",
            ));
        }
    };
    Ok(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<LogLevel>) {
        assert_eq!(
            parse_log_level(text).ok(),
            expected,
            "parse_log_level({text:?})"
        );
    }

    #[test]
    fn log_levels_accept_words_and_gromox_numbers() {
        check("error", Some(LogLevel::Error));
        check("WARN", Some(LogLevel::Warn));
        check("info", Some(LogLevel::Info));
        check("debug", Some(LogLevel::Debug));
        check("trace", Some(LogLevel::Trace));
        check("1", Some(LogLevel::Error));
        check("2", Some(LogLevel::Error));
        check("3", Some(LogLevel::Warn));
        check("4", Some(LogLevel::Info));
        check("5", Some(LogLevel::Info));
        check("6", Some(LogLevel::Debug));
        check("0", None);
        check("7", None);
        check("", None);
        check("verbose", None);
    }

    #[test]
    fn a_level_displays_as_the_word_it_parses_from() {
        for level in [
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
        ] {
            assert_eq!(parse_log_level(&level.to_string()).ok(), Some(level));
        }
    }
}
