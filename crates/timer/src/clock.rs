//! Wall-clock time as the timer uses it: Unix seconds and milliseconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A Unix time in seconds as RFC 3339 UTC (`2026-11-29T12:00:00Z`), or the
/// bare number when it is not representable as a date.
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("unix time {secs}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_render_in_utc_and_odd_times_as_numbers() {
        for (secs, expected) in [
            (0, "1970-01-01T00:00:00Z"),
            (1_800_000_000, "2027-01-15T08:00:00Z"),
            (i64::MAX, "unix time 9223372036854775807"),
        ] {
            assert_eq!(rfc3339(secs), expected, "{secs}");
        }
    }
}
