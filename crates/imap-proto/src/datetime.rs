//! IMAP dates: search dates `d-Mon-yyyy` and internal dates
//! `"dd-Mon-yyyy hh:mm:ss +zzzz"` (RFC 9051 §9 `date`, `date-time`).

use std::fmt;

use crate::error::ParseError;
use crate::lexer::{Cursor, is_atom_char};
use crate::num::write_padded;

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Seconds in a day.
const DAY_SECONDS: i64 = 86_400;

/// A calendar date as used by SEARCH (`1-Feb-1994`); no time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImapDate {
    year: u16,
    month: u8,
    day: u8,
}

impl ImapDate {
    /// A valid date (year 1..=9999, month 1..=12, day within the month).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(ImapDate { year, month, day })
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1..=31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(&self) -> i64 {
        // Civil-calendar day count with March as the first month of the year.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let m = i64::from(self.month);
        let day_of_year =
            (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01, if within years 1..=9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Self> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        ImapDate::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// Parses `d-Mon-yyyy` (no quotes).
    pub fn parse(text: &[u8]) -> Option<Self> {
        let mut parts = text.splitn(3, |&b| b == b'-');
        let day = parts.next()?;
        let month = parts.next()?;
        let year = parts.next()?;
        if day.is_empty() || day.len() > 2 || year.len() != 4 {
            return None;
        }
        ImapDate::new(
            digits(year)? as u16,
            parse_month(month)?,
            digits(day)? as u8,
        )
    }

    /// Writes `d-Mon-yyyy`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        write_padded(out, u32::from(self.day), 1);
        out.push(b'-');
        out.extend_from_slice(MONTHS[usize::from(self.month - 1)]);
        out.push(b'-');
        write_padded(out, u32::from(self.year), 4);
    }
}

impl fmt::Display for ImapDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(11);
        self.write(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

/// An internal date: date, time of day and the zone offset it was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImapDateTime {
    date: ImapDate,
    hour: u8,
    minute: u8,
    second: u8,
    offset_minutes: i16,
}

impl ImapDateTime {
    /// A valid date-time; `offset_minutes` east of UTC, at most ±23:59.
    pub fn new(
        date: ImapDate,
        hour: u8,
        minute: u8,
        second: u8,
        offset_minutes: i16,
    ) -> Option<Self> {
        let valid = hour < 24 && minute < 60 && second < 61 && offset_minutes.abs() < 24 * 60;
        valid.then_some(ImapDateTime {
            date,
            hour,
            minute,
            second,
            offset_minutes,
        })
    }

    /// The local date.
    pub fn date(&self) -> ImapDate {
        self.date
    }

    /// Local hour, minute, second.
    pub fn time(&self) -> (u8, u8, u8) {
        (self.hour, self.minute, self.second)
    }

    /// Zone offset in minutes east of UTC.
    pub fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }

    /// Seconds since the Unix epoch.
    pub fn unix_timestamp(&self) -> i64 {
        let local = self.date.days_since_epoch() * DAY_SECONDS
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        local - i64::from(self.offset_minutes) * 60
    }

    /// The instant `timestamp` shown in the zone `offset_minutes` east of
    /// UTC; `None` outside years 1..=9999 or for an offset beyond ±23:59.
    pub fn from_unix_timestamp(timestamp: i64, offset_minutes: i16) -> Option<Self> {
        let local = timestamp.checked_add(i64::from(offset_minutes) * 60)?;
        let days = local.div_euclid(DAY_SECONDS);
        let secs = local.rem_euclid(DAY_SECONDS);
        let date = ImapDate::from_days_since_epoch(days)?;
        ImapDateTime::new(
            date,
            (secs / 3600) as u8,
            (secs / 60 % 60) as u8,
            (secs % 60) as u8,
            offset_minutes,
        )
    }

    /// Parses `dd-Mon-yyyy hh:mm:ss +zzzz` (no quotes); the day may be one
    /// digit, with or without a leading space.
    pub fn parse(text: &[u8]) -> Option<Self> {
        let text = text.strip_prefix(b" ").unwrap_or(text);
        let mut fields = text.split(|&b| b == b' ');
        let date = ImapDate::parse(fields.next()?)?;
        let time = fields.next()?;
        let zone = fields.next()?;
        if fields.next().is_some()
            || time.len() != 8
            || zone.len() != 5
            || time[2] != b':'
            || time[5] != b':'
        {
            return None;
        }
        let hour = digits(&time[0..2])? as u8;
        let minute = digits(&time[3..5])? as u8;
        let second = digits(&time[6..8])? as u8;
        let sign: i16 = match zone[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let zone_hours = digits(&zone[1..3])? as i16;
        let zone_minutes = digits(&zone[3..5])? as i16;
        if zone_minutes >= 60 {
            return None;
        }
        ImapDateTime::new(
            date,
            hour,
            minute,
            second,
            sign * (zone_hours * 60 + zone_minutes),
        )
    }

    /// Writes `dd-Mon-yyyy hh:mm:ss +zzzz` (no quotes).
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        write_padded(out, u32::from(self.date.day), 2);
        out.push(b'-');
        out.extend_from_slice(MONTHS[usize::from(self.date.month - 1)]);
        out.push(b'-');
        write_padded(out, u32::from(self.date.year), 4);
        out.push(b' ');
        write_padded(out, u32::from(self.hour), 2);
        out.push(b':');
        write_padded(out, u32::from(self.minute), 2);
        out.push(b':');
        write_padded(out, u32::from(self.second), 2);
        out.push(b' ');
        out.push(if self.offset_minutes < 0 { b'-' } else { b'+' });
        let abs = self.offset_minutes.unsigned_abs();
        write_padded(out, u32::from(abs / 60), 2);
        write_padded(out, u32::from(abs % 60), 2);
    }
}

impl fmt::Display for ImapDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(26);
        self.write(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn parse_month(text: &[u8]) -> Option<u8> {
    let index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(text))?;
    Some(index as u8 + 1)
}

fn digits(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        text.iter()
            .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0')),
    )
}

/// Parses a search `date`: `d-Mon-yyyy`, optionally in double quotes.
pub(crate) fn parse_date(c: &mut Cursor<'_>) -> Result<ImapDate, ParseError> {
    let text = if c.peek() == Some(b'"') {
        c.quoted()?
    } else {
        std::borrow::Cow::Borrowed(c.take_while(is_atom_char))
    };
    c.count_token()?;
    ImapDate::parse(&text).ok_or(ParseError::InvalidDate)
}

/// Parses a quoted `date-time`.
pub(crate) fn parse_date_time(c: &mut Cursor<'_>) -> Result<ImapDateTime, ParseError> {
    if c.peek() != Some(b'"') {
        return Err(ParseError::InvalidDateTime);
    }
    let text = c.quoted()?;
    ImapDateTime::parse(&text).ok_or(ParseError::InvalidDateTime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_dates_parse_and_format_back() {
        for text in [
            "17-Jul-1996 02:44:25 -0700",
            "01-Jan-2000 00:00:00 +0000",
            "29-Feb-2024 23:59:60 +1345",
        ] {
            let dt = ImapDateTime::parse(text.as_bytes()).unwrap();
            assert_eq!(dt.to_string(), text);
        }
    }

    #[test]
    fn internal_dates_accept_space_padded_days() {
        let dt = ImapDateTime::parse(b" 7-Jul-1996 02:44:25 -0700").unwrap();
        assert_eq!(dt.to_string(), "07-Jul-1996 02:44:25 -0700");
    }

    #[test]
    fn invalid_internal_dates_are_rejected() {
        for text in [
            "31-Apr-2020 00:00:00 +0000",
            "29-Feb-2023 00:00:00 +0000",
            "01-Foo-2020 00:00:00 +0000",
            "01-Jan-2020 24:00:00 +0000",
            "01-Jan-2020 00:00:00 0000",
            "01-Jan-2020 00:00:00 +0060",
            "01-Jan-20 00:00:00 +0000",
            "01-Jan-2020  00:00:00 +0000",
            "01-Jan-2020",
        ] {
            assert!(ImapDateTime::parse(text.as_bytes()).is_none(), "{text}");
        }
    }

    #[test]
    fn search_dates_parse_one_or_two_digit_days_case_insensitively() {
        assert_eq!(ImapDate::parse(b"1-feb-1994"), ImapDate::new(1994, 2, 1));
        assert_eq!(ImapDate::parse(b"01-FEB-1994"), ImapDate::new(1994, 2, 1));
        assert_eq!(ImapDate::parse(b"001-Feb-1994"), None);
        assert_eq!(ImapDate::new(1994, 2, 1).unwrap().to_string(), "1-Feb-1994");
    }

    #[test]
    fn unix_timestamps_convert_with_the_zone_offset() {
        let dt = ImapDateTime::parse(b"17-Jul-1996 02:44:25 -0700").unwrap();
        assert_eq!(dt.unix_timestamp(), 837_596_665);
        assert_eq!(
            ImapDateTime::from_unix_timestamp(837_596_665, -420),
            Some(dt)
        );
        assert_eq!(ImapDate::new(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(
            ImapDate::from_days_since_epoch(-1),
            ImapDate::new(1969, 12, 31)
        );
    }
}
