//! A recurrence rule (RFC 5545 3.3.10) in the form the expander and the
//! MAPI pattern conversion use. Parsing goes through calcard; this type is
//! the typed result plus its canonical text form.

use crate::error::ParseErrorKind;
use calcard::icalendar::{ICalendarFrequency, ICalendarRecurrenceRule, ICalendarWeekday};
use chrono::{Datelike as _, NaiveDate, NaiveDateTime, Weekday};
use std::fmt;

/// FREQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Freq {
    /// SECONDLY.
    Secondly,
    /// MINUTELY.
    Minutely,
    /// HOURLY.
    Hourly,
    /// DAILY.
    Daily,
    /// WEEKLY.
    Weekly,
    /// MONTHLY.
    Monthly,
    /// YEARLY.
    Yearly,
}

/// One BYDAY entry: an optional ordinal (−53…53, not 0) and a weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeekdayNum {
    /// The n-th (negative: from the end) weekday of the month or year.
    pub ordinal: Option<i16>,
    /// The weekday.
    pub weekday: Weekday,
}

/// UNTIL: a date (all-day series), a floating/local date-time, or UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Until {
    /// A DATE.
    Date(chrono::NaiveDate),
    /// A DATE-TIME without zone (in the series' zone).
    Local(NaiveDateTime),
    /// A DATE-TIME in UTC.
    Utc(NaiveDateTime),
}

/// A recurrence rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecurRule {
    /// FREQ.
    pub freq: Freq,
    /// INTERVAL (≥ 1).
    pub interval: u32,
    /// COUNT.
    pub count: Option<u32>,
    /// UNTIL.
    pub until: Option<Until>,
    /// BYSECOND.
    pub by_second: Vec<u8>,
    /// BYMINUTE.
    pub by_minute: Vec<u8>,
    /// BYHOUR.
    pub by_hour: Vec<u8>,
    /// BYDAY.
    pub by_day: Vec<WeekdayNum>,
    /// BYMONTHDAY (±1…31).
    pub by_month_day: Vec<i8>,
    /// BYYEARDAY (±1…366).
    pub by_year_day: Vec<i16>,
    /// BYWEEKNO (±1…53).
    pub by_week_no: Vec<i8>,
    /// BYMONTH (1…12).
    pub by_month: Vec<u8>,
    /// BYSETPOS (±1…366).
    pub by_set_pos: Vec<i32>,
    /// WKST (default Monday).
    pub wkst: Weekday,
}

impl RecurRule {
    /// A rule of a frequency with no other parts.
    pub fn new(freq: Freq) -> RecurRule {
        RecurRule {
            freq,
            interval: 1,
            count: None,
            until: None,
            by_second: vec![],
            by_minute: vec![],
            by_hour: vec![],
            by_day: vec![],
            by_month_day: vec![],
            by_year_day: vec![],
            by_week_no: vec![],
            by_month: vec![],
            by_set_pos: vec![],
            wkst: Weekday::Mon,
        }
    }

    /// Whether the rule ends (COUNT or UNTIL).
    pub fn is_bounded(&self) -> bool {
        self.count.is_some() || self.until.is_some()
    }

    /// The "n-th weekday" of a relative monthly or yearly pattern: the first
    /// BYDAY ordinal, else the first BYSETPOS (`BYDAY=TU;BYSETPOS=2`).
    pub fn weekday_ordinal(&self) -> Option<i32> {
        self.by_day
            .first()
            .and_then(|d| d.ordinal)
            .map(i32::from)
            .or_else(|| self.by_set_pos.first().copied())
    }

    /// The day of the month an absolute pattern falls on: the first
    /// BYMONTHDAY (may be negative: −1 is the last day), else the start's.
    pub fn month_day(&self, start: NaiveDate) -> i32 {
        self.by_month_day
            .first()
            .map(|d| i32::from(*d))
            .unwrap_or(start.day() as i32)
    }

    /// The month (1…12) a yearly pattern falls in: the first BYMONTH, else
    /// the start's.
    pub fn month(&self, start: NaiveDate) -> u32 {
        self.by_month
            .first()
            .map(|m| u32::from(*m))
            .unwrap_or(start.month())
            .clamp(1, 12)
    }

    /// Converts calcard's parsed rule, checking ranges.
    pub fn from_ical(r: &ICalendarRecurrenceRule) -> Result<RecurRule, ParseErrorKind> {
        let bad = |m: String| Err(ParseErrorKind::BadValue(m));
        if r.rscale.is_some() {
            return Err(ParseErrorKind::Unsupported("RSCALE".into()));
        }
        let freq = match r.freq {
            ICalendarFrequency::Yearly => Freq::Yearly,
            ICalendarFrequency::Monthly => Freq::Monthly,
            ICalendarFrequency::Weekly => Freq::Weekly,
            ICalendarFrequency::Daily => Freq::Daily,
            ICalendarFrequency::Hourly => Freq::Hourly,
            ICalendarFrequency::Minutely => Freq::Minutely,
            ICalendarFrequency::Secondly => Freq::Secondly,
        };
        let until = match &r.until {
            None => None,
            Some(p) => {
                let Some(d) = p.to_date_time() else {
                    return bad("UNTIL is not a date or date-time".into());
                };
                Some(if !p.has_time() {
                    Until::Date(d.date_time.date())
                } else if d.offset.is_some() {
                    Until::Utc(
                        d.date_time
                            - chrono::Duration::seconds(i64::from(
                                d.offset.map(|o| o.local_minus_utc()).unwrap_or(0),
                            )),
                    )
                } else {
                    Until::Local(d.date_time)
                })
            }
        };
        if r.count.is_some() && until.is_some() {
            return bad("COUNT and UNTIL together".into());
        }
        let mut by_day = Vec::new();
        for d in &r.byday {
            if let Some(o) = d.ordwk
                && (o == 0 || !(-53..=53).contains(&o))
            {
                return bad(format!("BYDAY ordinal {o}"));
            }
            by_day.push(WeekdayNum {
                ordinal: d.ordwk,
                weekday: weekday_of(&d.weekday),
            });
        }
        let check = |name: &str,
                     v: &[i64],
                     lo: i64,
                     hi: i64,
                     zero_ok: bool|
         -> Result<(), ParseErrorKind> {
            match v
                .iter()
                .find(|x| **x < lo || **x > hi || (!zero_ok && **x == 0))
            {
                Some(x) => Err(ParseErrorKind::BadValue(format!("{name} {x}"))),
                None => Ok(()),
            }
        };
        let i = |v: &[u8]| v.iter().map(|x| i64::from(*x)).collect::<Vec<_>>();
        check("BYSECOND", &i(&r.bysecond), 0, 60, true)?;
        check("BYMINUTE", &i(&r.byminute), 0, 59, true)?;
        check("BYHOUR", &i(&r.byhour), 0, 23, true)?;
        check(
            "BYMONTHDAY",
            &r.bymonthday
                .iter()
                .map(|x| i64::from(*x))
                .collect::<Vec<_>>(),
            -31,
            31,
            false,
        )?;
        check(
            "BYYEARDAY",
            &r.byyearday
                .iter()
                .map(|x| i64::from(*x))
                .collect::<Vec<_>>(),
            -366,
            366,
            false,
        )?;
        check(
            "BYWEEKNO",
            &r.byweekno.iter().map(|x| i64::from(*x)).collect::<Vec<_>>(),
            -53,
            53,
            false,
        )?;
        check(
            "BYSETPOS",
            &r.bysetpos.iter().map(|x| i64::from(*x)).collect::<Vec<_>>(),
            -366,
            366,
            false,
        )?;
        let by_month: Vec<u8> = r.bymonth.iter().map(|m| m.month()).collect();
        check("BYMONTH", &i(&by_month), 1, 12, false)?;
        if r.bymonth.iter().any(|m| m.is_leap()) {
            return Err(ParseErrorKind::Unsupported(
                "leap months (BYMONTH=…L)".into(),
            ));
        }
        Ok(RecurRule {
            freq,
            interval: u32::from(r.interval.unwrap_or(1).max(1)),
            count: r.count,
            until,
            by_second: r.bysecond.clone(),
            by_minute: r.byminute.clone(),
            by_hour: r.byhour.clone(),
            by_day,
            by_month_day: r.bymonthday.clone(),
            by_year_day: r.byyearday.clone(),
            by_week_no: r.byweekno.clone(),
            by_month,
            by_set_pos: r.bysetpos.clone(),
            wkst: r.wkst.as_ref().map(weekday_of).unwrap_or(Weekday::Mon),
        })
    }

    /// Parses the value of an RRULE property (`FREQ=WEEKLY;BYDAY=MO`).
    pub fn parse(text: &str) -> Result<RecurRule, ParseErrorKind> {
        let src = format!("BEGIN:VEVENT\r\nRRULE:{}\r\nEND:VEVENT\r\n", text.trim());
        let mut p = calcard::Parser::new(&src);
        match p.entry() {
            calcard::Entry::ICalendar(cal) => {
                for c in &cal.components {
                    for e in &c.entries {
                        if let Some(calcard::icalendar::ICalendarValue::RecurrenceRule(r)) =
                            e.values.first()
                        {
                            return RecurRule::from_ical(r);
                        }
                    }
                }
                Err(ParseErrorKind::BadValue(format!(
                    "not a recurrence rule: {text:?}"
                )))
            }
            _ => Err(ParseErrorKind::BadValue(format!(
                "not a recurrence rule: {text:?}"
            ))),
        }
    }
}

/// The chrono weekday of calcard's.
pub fn weekday_of(w: &ICalendarWeekday) -> Weekday {
    match w {
        ICalendarWeekday::Sunday => Weekday::Sun,
        ICalendarWeekday::Monday => Weekday::Mon,
        ICalendarWeekday::Tuesday => Weekday::Tue,
        ICalendarWeekday::Wednesday => Weekday::Wed,
        ICalendarWeekday::Thursday => Weekday::Thu,
        ICalendarWeekday::Friday => Weekday::Fri,
        ICalendarWeekday::Saturday => Weekday::Sat,
    }
}

fn day_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

impl fmt::Display for RecurRule {
    /// The RRULE value in canonical order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let freq = match self.freq {
            Freq::Secondly => "SECONDLY",
            Freq::Minutely => "MINUTELY",
            Freq::Hourly => "HOURLY",
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        };
        write!(f, "FREQ={freq}")?;
        if let Some(u) = self.until {
            match u {
                Until::Date(d) => write!(f, ";UNTIL={}", d.format("%Y%m%d"))?,
                Until::Local(d) => write!(f, ";UNTIL={}", d.format("%Y%m%dT%H%M%S"))?,
                Until::Utc(d) => write!(f, ";UNTIL={}", d.format("%Y%m%dT%H%M%SZ"))?,
            }
        }
        if let Some(c) = self.count {
            write!(f, ";COUNT={c}")?;
        }
        if self.interval > 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        let list = |f: &mut fmt::Formatter<'_>, name: &str, v: Vec<String>| -> fmt::Result {
            if v.is_empty() {
                Ok(())
            } else {
                write!(f, ";{name}={}", v.join(","))
            }
        };
        list(
            f,
            "BYSECOND",
            self.by_second.iter().map(u8::to_string).collect(),
        )?;
        list(
            f,
            "BYMINUTE",
            self.by_minute.iter().map(u8::to_string).collect(),
        )?;
        list(
            f,
            "BYHOUR",
            self.by_hour.iter().map(u8::to_string).collect(),
        )?;
        list(
            f,
            "BYDAY",
            self.by_day
                .iter()
                .map(|d| match d.ordinal {
                    Some(o) => format!("{o}{}", day_code(d.weekday)),
                    None => day_code(d.weekday).to_owned(),
                })
                .collect(),
        )?;
        list(
            f,
            "BYMONTHDAY",
            self.by_month_day.iter().map(i8::to_string).collect(),
        )?;
        list(
            f,
            "BYYEARDAY",
            self.by_year_day.iter().map(i16::to_string).collect(),
        )?;
        list(
            f,
            "BYWEEKNO",
            self.by_week_no.iter().map(i8::to_string).collect(),
        )?;
        list(
            f,
            "BYMONTH",
            self.by_month.iter().map(u8::to_string).collect(),
        )?;
        list(
            f,
            "BYSETPOS",
            self.by_set_pos.iter().map(i32::to_string).collect(),
        )?;
        if self.wkst != Weekday::Mon {
            write!(f, ";WKST={}", day_code(self.wkst))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patterns_anchor_comes_from_its_parts_or_else_from_the_start() {
        let start = NaiveDate::from_ymd_opt(2026, 5, 19).unwrap();
        let r = RecurRule::parse("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=3").unwrap();
        assert_eq!(r.weekday_ordinal(), Some(3));
        let r = RecurRule::parse("FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10").unwrap();
        assert_eq!((r.weekday_ordinal(), r.month(start)), (Some(-1), 10));
        let r = RecurRule::parse("FREQ=MONTHLY;BYMONTHDAY=-1").unwrap();
        assert_eq!((r.weekday_ordinal(), r.month_day(start)), (None, -1));
        let r = RecurRule::parse("FREQ=YEARLY").unwrap();
        assert_eq!((r.month_day(start), r.month(start)), (19, 5));
    }

    #[test]
    fn rules_parse_and_print_canonically() {
        for (src, want) in [
            ("FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=WEEKLY;BYDAY=MO,WE"),
            (
                "freq=monthly;byday=-1fr;interval=2",
                "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR",
            ),
            (
                "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20300101T000000Z",
                "FREQ=YEARLY;UNTIL=20300101T000000Z;BYDAY=-1SU;BYMONTH=3",
            ),
            ("FREQ=DAILY;COUNT=5;WKST=SU", "FREQ=DAILY;COUNT=5;WKST=SU"),
        ] {
            assert_eq!(RecurRule::parse(src).unwrap().to_string(), want, "{src}");
        }
    }

    #[test]
    fn out_of_range_parts_are_refused() {
        for bad in [
            "FREQ=DAILY;COUNT=3;UNTIL=20200101",
            "FREQ=MONTHLY;BYMONTHDAY=0",
            "FREQ=YEARLY;BYWEEKNO=60",
        ] {
            assert!(RecurRule::parse(bad).is_err(), "{bad}");
        }
    }
}
