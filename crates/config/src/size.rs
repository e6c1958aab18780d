//! Sizes in bytes: `4096`, `4k`, `1.5M`, `64MB`.

use crate::decimal::{self, DecimalError};
use crate::invalid::InvalidValue;

const WHAT: &str = "size";
const EXPECTED: &str = "expected e.g. 4096, 64K, 1.5M";

/// Parses a size: a decimal number, optional spaces, an optional power-of-1024
/// suffix `k M G T P E` (any case) and an optional `b`/`B`.
///
/// A bare number is bytes; fractions of a byte are rounded down (`0.1k` is
/// 102). Empty, negative and non-numeric values are refused, as is anything
/// above `u64::MAX` bytes.
pub fn parse_size(text: &str) -> Result<u64, InvalidValue> {
    let text = text.trim();
    let (number, rest) = decimal::split_number(text);
    let mut suffix = rest.trim_start().chars();
    let mut shift = 0;
    let mut next = suffix.next();
    if let Some(letter) = next
        && let Some(power) = power_of_1024(letter)
    {
        shift = 10 * power;
        next = suffix.next();
    }
    if matches!(next, Some('b' | 'B')) {
        next = suffix.next();
    }
    if next.is_some() {
        return Err(InvalidValue::new(WHAT, EXPECTED));
    }
    match decimal::scale(number, 1u128 << shift) {
        Ok(bytes) => {
            u64::try_from(bytes).map_err(|_| InvalidValue::new(WHAT, "too large: at most 16E"))
        }
        Err(DecimalError::Overflow) => Err(InvalidValue::new(WHAT, "too large: at most 16E")),
        Err(DecimalError::Syntax) => Err(InvalidValue::new(WHAT, EXPECTED)),
    }
}

/// The exponent of 1024 a suffix letter stands for.
fn power_of_1024(letter: char) -> Option<u32> {
    match letter.to_ascii_lowercase() {
        'k' => Some(1),
        'm' => Some(2),
        'g' => Some(3),
        't' => Some(4),
        'p' => Some(5),
        'e' => Some(6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<u64>) {
        assert_eq!(parse_size(text).ok(), expected, "parse_size({text:?})");
    }

    #[test]
    fn sizes_accept_gromox_suffixes_and_decimals() {
        check("0", Some(0));
        check("4096", Some(4096));
        check("4k", Some(4096));
        check("4K", Some(4096));
        check("4kb", Some(4096));
        check("4 KB", Some(4096));
        check("64M", Some(64 << 20));
        check("64m", Some(64 << 20));
        check("1.5M", Some(3 << 19));
        check("0.1k", Some(102));
        check("2G", Some(2 << 30));
        check("1T", Some(1 << 40));
        check("1P", Some(1 << 50));
        check("15E", Some(15 << 60));
        check("100B", Some(100));
        check("  7k  ", Some(7168));
        check("18446744073709551615", Some(u64::MAX));
    }

    #[test]
    fn sizes_refuse_garbage_negatives_and_overflow() {
        check("", None);
        check("k", None);
        check("-1", None);
        check("-1k", None);
        check("1x", None);
        check("1kk", None);
        check("1 k b", None);
        check("1kib", None);
        check("1Z", None);
        check("16E", None);
        check("18446744073709551616", None);
        check("one", None);
        check("1,5M", None);
    }

    #[test]
    fn overflow_is_reported_as_too_large_not_as_garbage() {
        let error = parse_size("16E").err();
        assert_eq!(
            error.map(|e| e.reason),
            Some("too large: at most 16E".to_string())
        );
    }
}
