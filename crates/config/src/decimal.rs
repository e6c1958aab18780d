//! Exact scaling of a decimal number such as `1.5` by an integer unit.
//!
//! Sizes and durations both accept decimals (`1.5M`, `3.5 hours`); doing the
//! arithmetic on integers avoids float rounding surprises (`0.1k` is 102, not
//! 102.40000000000001 truncated by luck).

/// Most fractional digits accepted: beyond this no unit we have can tell a difference.
const MAX_FRACTION_DIGITS: usize = 18;

/// Why a decimal could not be scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    /// Not `digits[.digits]`.
    Syntax,
    /// The scaled result does not fit.
    Overflow,
}

/// Splits `text` into its leading decimal number and the rest.
///
/// The number is `[0-9]*` optionally followed by `.` and `[0-9]*`; the
/// caller checks that it holds at least one digit (via [`scale`]).
pub(crate) fn split_number(text: &str) -> (&str, &str) {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    text.split_at(end)
}

/// Returns `floor(number × unit)` for a number like `12`, `1.5` or `.25`.
pub(crate) fn scale(number: &str, unit: u128) -> Result<u128, DecimalError> {
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(DecimalError::Syntax);
    }
    if fraction.len() > MAX_FRACTION_DIGITS {
        return Err(DecimalError::Syntax);
    }
    let mut whole_value: u128 = 0;
    for digit in whole.bytes() {
        whole_value = whole_value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(digit - b'0')))
            .ok_or(DecimalError::Overflow)?;
    }
    let mut fraction_value: u128 = 0;
    let mut denominator: u128 = 1;
    for digit in fraction.bytes() {
        // At most 18 digits: 10^18 and the value both fit in u128 easily.
        fraction_value = fraction_value * 10 + u128::from(digit - b'0');
        denominator *= 10;
    }
    let whole_part = whole_value
        .checked_mul(unit)
        .ok_or(DecimalError::Overflow)?;
    let fraction_part = fraction_value
        .checked_mul(unit)
        .ok_or(DecimalError::Overflow)?
        / denominator;
    whole_part
        .checked_add(fraction_part)
        .ok_or(DecimalError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(number: &str, unit: u128, expected: Result<u128, DecimalError>) {
        assert_eq!(scale(number, unit), expected, "scale({number:?}, {unit})");
    }

    #[test]
    fn decimals_scale_exactly_and_round_down() {
        check("12", 1, Ok(12));
        check("1.5", 1024, Ok(1536));
        check("0.1", 1024, Ok(102));
        check(".25", 4, Ok(1));
        check("2.", 3, Ok(6));
        check("0", 1 << 60, Ok(0));
        check("", 1, Err(DecimalError::Syntax));
        check(".", 1, Err(DecimalError::Syntax));
        check("1.2.3", 1, Err(DecimalError::Syntax));
        check("-1", 1, Err(DecimalError::Syntax));
        check("1.0000000000000000001", 1, Err(DecimalError::Syntax));
        check(
            "340282366920938463463374607431768211456",
            1,
            Err(DecimalError::Overflow),
        );
        check(
            "340282366920938463463374607431768211455",
            2,
            Err(DecimalError::Overflow),
        );
    }

    #[test]
    fn split_number_stops_at_the_first_non_number_byte() {
        assert_eq!(split_number("1.5M"), ("1.5", "M"));
        assert_eq!(split_number("30 s"), ("30", " s"));
        assert_eq!(split_number("min"), ("", "min"));
        assert_eq!(split_number("1.2.3"), ("1.2", ".3"));
    }
}
