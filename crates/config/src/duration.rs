//! Durations: `30s`, `3min`, `1d1h`, `3.5 hours`, or a bare number of seconds.

use std::time::Duration;

use crate::decimal::{self, DecimalError};
use crate::invalid::InvalidValue;

const WHAT: &str = "duration";
const EXPECTED: &str = "expected e.g. 30s, 3min, 1d1h";

const NANOS_PER_SECOND: u128 = 1_000_000_000;
const NANOS_PER_DAY: u128 = 86_400 * NANOS_PER_SECOND;

/// Parses a duration: a sum of `<number><unit>` terms, spaces allowed
/// anywhere between them (`1d1h`, `1d 1h`, `3.5 hours`).
///
/// Units (any case): `ns`; `us`, `µs`; `ms`; `s`, `sec`, `second`, `seconds`;
/// `min`, `minute`, `minutes`; `h`, `hour`, `hours`; `d`, `day`, `days`;
/// `w`, `week`, `weeks`; `month`, `months` (30 days); `y`, `year`, `years`
/// (365 days). A value that is a single bare number means seconds; a bare
/// number after other terms (`1h 30`) is refused as ambiguous. Empty values
/// and totals above `u64::MAX` nanoseconds (about 584 years) are refused.
pub fn parse_duration(text: &str) -> Result<Duration, InvalidValue> {
    let syntax = || InvalidValue::new(WHAT, EXPECTED);
    let overflow = || InvalidValue::new(WHAT, "too long: at most about 584 years");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(syntax());
    }
    let mut total: u128 = 0;
    let mut first_term = true;
    while !rest.is_empty() {
        let (number, after_number) = decimal::split_number(rest);
        let after_number = after_number.trim_start();
        let unit_len = after_number
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(after_number.len());
        let (unit, after_unit) = after_number.split_at(unit_len);
        let unit_nanos = if unit.is_empty() {
            // A bare number is seconds only when it is the whole value.
            if !first_term || !after_unit.is_empty() {
                return Err(syntax());
            }
            NANOS_PER_SECOND
        } else {
            unit_in_nanos(unit).ok_or_else(syntax)?
        };
        let term = decimal::scale(number, unit_nanos).map_err(|error| match error {
            DecimalError::Syntax => syntax(),
            DecimalError::Overflow => overflow(),
        })?;
        total = total.checked_add(term).ok_or_else(overflow)?;
        rest = after_unit.trim_start();
        first_term = false;
    }
    let nanos = u64::try_from(total).map_err(|_| overflow())?;
    Ok(Duration::from_nanos(nanos))
}

/// Length of one unit in nanoseconds.
fn unit_in_nanos(unit: &str) -> Option<u128> {
    let nanos = match unit.to_lowercase().as_str() {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" | "sec" | "second" | "seconds" => NANOS_PER_SECOND,
        "min" | "minute" | "minutes" => 60 * NANOS_PER_SECOND,
        "h" | "hour" | "hours" => 3_600 * NANOS_PER_SECOND,
        "d" | "day" | "days" => NANOS_PER_DAY,
        "w" | "week" | "weeks" => 7 * NANOS_PER_DAY,
        "month" | "months" => 30 * NANOS_PER_DAY,
        "y" | "year" | "years" => 365 * NANOS_PER_DAY,
        _ => return None,
    };
    Some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<Duration>) {
        assert_eq!(
            parse_duration(text).ok(),
            expected,
            "parse_duration({text:?})"
        );
    }

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn durations_accept_every_gromox_unit() {
        check("30", secs(30));
        check("0", secs(0));
        check("1.5", Some(Duration::from_millis(1500)));
        check("250ns", Some(Duration::from_nanos(250)));
        check("7us", Some(Duration::from_micros(7)));
        check("7µs", Some(Duration::from_micros(7)));
        check("7μs", Some(Duration::from_micros(7)));
        check("15ms", Some(Duration::from_millis(15)));
        check("30s", secs(30));
        check("30 sec", secs(30));
        check("1 second", secs(1));
        check("2 seconds", secs(2));
        check("3min", secs(180));
        check("1 minute", secs(60));
        check("5 minutes", secs(300));
        check("2h", secs(7_200));
        check("1 hour", secs(3_600));
        check("3.5 hours", secs(12_600));
        check("1d", secs(86_400));
        check("2 days", secs(172_800));
        check("1w", secs(604_800));
        check("2 weeks", secs(1_209_600));
        check("1 month", secs(2_592_000));
        check("1y", secs(31_536_000));
        check("2 years", secs(63_072_000));
        check("1d1h", secs(90_000));
        check("1d 1h 30min", secs(91_800));
        check("1H", secs(3_600));
        check("3MIN", secs(180));
        check("  60s  ", secs(60));
    }

    #[test]
    fn durations_refuse_garbage_and_overflow() {
        check("", None);
        check("   ", None);
        check("s", None);
        check("3 parsecs", None);
        check("3m", None);
        check("-5s", None);
        check("1h 30", None);
        check("30 1h", None);
        check("1.2.3s", None);
        check("1h,30min", None);
        check("585y", None);
        check("99999999999999999999999999999999999999y", None);
    }

    #[test]
    fn the_largest_duration_is_about_584_years() {
        check("584y", secs(584 * 31_536_000));
        assert_eq!(
            parse_duration("600y").err().map(|e| e.reason),
            Some("too long: at most about 584 years".to_string())
        );
    }
}
