//! Rules ↔ MAPI recurrence patterns ([MS-OXCICAL] 2.1.3.2.2 templates).
//!
//! What Outlook can express maps both ways: daily (every n days, every
//! weekday), weekly (days of the week, WKST), monthly and yearly on a day
//! of the month or on the n-th/last of a set of weekdays; ending after a
//! count, at a date, or never. Anything else (BYHOUR, BYWEEKNO, several
//! BYMONTHDAYs, sub-daily frequencies, …) is [`Unrepresentable`]: such a
//! series is stored without PidLidAppointmentRecur's rule, and its RRULE
//! lives on in the item's original iCalendar object.

use super::expand::RuleIter;
use super::pattern::{
    END_AFTER_DATE, END_AFTER_N_OCCURRENCES, END_NEVER, NO_END_DATE, Pattern, RecurFrequency,
    RecurrencePattern, first_date_time, minutes_of, time_of_minutes,
};
use super::rule::{Freq, RecurRule, Until, WeekdayNum};
use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike, Weekday};

/// A rule MAPI's pattern cannot hold, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rule cannot be a MAPI recurrence pattern: {0}")]
pub struct Unrepresentable(pub String);

/// Most instances counted to find the end of a rule that ends by UNTIL.
pub const MAX_COUNTED_INSTANCES: u32 = 100_000;

fn bit(w: Weekday) -> u32 {
    1 << w.num_days_from_sunday()
}

fn weekday_of_bit(i: u32) -> Weekday {
    match i {
        0 => Weekday::Sun,
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        _ => Weekday::Sat,
    }
}

fn plain_mask(days: &[WeekdayNum]) -> Option<u32> {
    days.iter()
        .try_fold(0, |m, d| d.ordinal.is_none().then_some(m | bit(d.weekday)))
}

/// The pattern of `rule` for a series whose first instance is `start`
/// (a wall time). `until_local` is UNTIL as a wall time of the series.
pub fn pattern_of_rule(
    rule: &RecurRule,
    start: NaiveDateTime,
    until_local: Option<NaiveDateTime>,
) -> Result<RecurrencePattern, Unrepresentable> {
    let no = |why: &str| Err(Unrepresentable(why.into()));
    let same_time = |v: &[u8], x: u32| v.is_empty() || v == [x as u8];
    if !same_time(&rule.by_hour, start.hour())
        || !same_time(&rule.by_minute, start.minute())
        || !same_time(&rule.by_second, start.second())
    {
        return no("BYHOUR/BYMINUTE/BYSECOND");
    }
    if !rule.by_week_no.is_empty() || !rule.by_year_day.is_empty() {
        return no("BYWEEKNO/BYYEARDAY");
    }
    if rule.by_month.len() > 1 || rule.by_month_day.len() > 1 || rule.by_set_pos.len() > 1 {
        return no("several BYMONTH, BYMONTHDAY or BYSETPOS values");
    }
    if !rule.by_month.is_empty() && rule.freq != Freq::Yearly {
        return no("BYMONTH outside a yearly rule");
    }
    if !rule.by_month_day.is_empty() && !rule.by_day.is_empty() {
        return no("BYMONTHDAY with BYDAY");
    }
    let interval = rule.interval.max(1);
    let monthly_pattern = || -> Result<Pattern, Unrepresentable> {
        if let Some(&d) = rule.by_month_day.first() {
            return match d {
                1..=31 => Ok(Pattern::Month {
                    day: d as u32,
                    hijri: false,
                }),
                -1 => Ok(Pattern::MonthNth {
                    mask: 0x7F,
                    n: 5,
                    hijri: false,
                }),
                _ => Err(Unrepresentable(format!("BYMONTHDAY={d}"))),
            };
        }
        if rule.by_day.is_empty() {
            return Ok(Pattern::Month {
                day: start.day(),
                hijri: false,
            });
        }
        let n_of = |o: i32| match o {
            1..=4 => Ok(o as u32),
            -1 => Ok(5),
            _ => Err(Unrepresentable(format!("the {o}th weekday"))),
        };
        if let [
            WeekdayNum {
                ordinal: Some(o),
                weekday,
            },
        ] = rule.by_day.as_slice()
            && rule.by_set_pos.is_empty()
        {
            return Ok(Pattern::MonthNth {
                mask: bit(*weekday),
                n: n_of(i32::from(*o))?,
                hijri: false,
            });
        }
        match (plain_mask(&rule.by_day), rule.by_set_pos.first()) {
            (Some(mask), Some(&p)) => Ok(Pattern::MonthNth {
                mask,
                n: n_of(p)?,
                hijri: false,
            }),
            _ => Err(Unrepresentable("BYDAY without one position".into())),
        }
    };
    let (frequency, pattern, period) = match rule.freq {
        Freq::Daily => {
            if !rule.by_set_pos.is_empty() || !rule.by_month_day.is_empty() {
                return no("a daily rule with BYSETPOS or BYMONTHDAY");
            }
            match plain_mask(&rule.by_day) {
                _ if rule.by_day.is_empty() => (
                    RecurFrequency::Daily,
                    Pattern::Day,
                    interval.saturating_mul(1440),
                ),
                Some(mask) if interval == 1 => (RecurFrequency::Weekly, Pattern::Week { mask }, 1),
                _ => return no("a daily rule with BYDAY and an interval"),
            }
        }
        Freq::Weekly => {
            if !rule.by_set_pos.is_empty() || !rule.by_month_day.is_empty() {
                return no("a weekly rule with BYSETPOS or BYMONTHDAY");
            }
            let mask = if rule.by_day.is_empty() {
                bit(start.weekday())
            } else {
                plain_mask(&rule.by_day).ok_or_else(|| {
                    Unrepresentable("BYDAY with positions in a weekly rule".into())
                })?
            };
            (RecurFrequency::Weekly, Pattern::Week { mask }, interval)
        }
        Freq::Monthly => (RecurFrequency::Monthly, monthly_pattern()?, interval),
        Freq::Yearly => {
            if let Some(&m) = rule.by_month.first()
                && rule.by_day.is_empty()
                && rule.by_month_day.is_empty()
                && u32::from(m) != start.month()
            {
                return no("a yearly rule in another month than DTSTART");
            }
            (
                RecurFrequency::Yearly,
                monthly_pattern()?,
                interval.saturating_mul(12),
            )
        }
        _ => return no("a frequency below daily"),
    };
    // StartDate, EndDate and the count come from the instances themselves.
    let mut it = RuleIter::new(rule, start, until_local, 50_000);
    let first = it.next().unwrap_or(start);
    let first_dow = rule.wkst.num_days_from_sunday();
    let midnight = |t: NaiveDateTime| minutes_of(t.date().and_hms_opt(0, 0, 0).unwrap_or_default());
    let (end_type, occurrence_count, end_date) = if let Some(c) = rule.count {
        let last = RuleIter::new(rule, start, until_local, 50_000)
            .last()
            .unwrap_or(first);
        (END_AFTER_N_OCCURRENCES, c, midnight(last))
    } else if rule.until.is_some() {
        let mut n = 1u32;
        let mut last = first;
        for t in it.by_ref() {
            n += 1;
            last = t;
            if n >= MAX_COUNTED_INSTANCES {
                return no("more instances than can be counted");
            }
        }
        (END_AFTER_DATE, n, midnight(last))
    } else {
        (END_NEVER, 10, NO_END_DATE)
    };
    Ok(RecurrencePattern {
        frequency,
        pattern,
        calendar_type: 0,
        first_date_time: first_date_time(frequency, &pattern, period, first.date(), first_dow),
        period,
        sliding: 0,
        end_type,
        occurrence_count,
        first_dow,
        deleted_instance_dates: vec![],
        modified_instance_dates: vec![],
        start_date: midnight(first),
        end_date,
    })
}

/// The rule of a pattern whose instances start at `start_time` (from
/// StartTimeOffset). UNTIL is a wall time of the series ([`Until::Local`]).
pub fn rule_of_pattern(
    p: &RecurrencePattern,
    start_time: NaiveTime,
) -> Result<RecurRule, Unrepresentable> {
    let days_of = |mask: u32| -> Vec<WeekdayNum> {
        (0..7)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| WeekdayNum {
                ordinal: None,
                weekday: weekday_of_bit(i),
            })
            .collect()
    };
    let start = time_of_minutes(p.start_date);
    let mut r = match (p.frequency, p.pattern) {
        (RecurFrequency::Daily, Pattern::Day) => {
            let mut r = RecurRule::new(Freq::Daily);
            r.interval = (p.period / 1440).max(1);
            r
        }
        (RecurFrequency::Daily | RecurFrequency::Weekly, Pattern::Week { mask }) => {
            let mut r = RecurRule::new(Freq::Weekly);
            r.interval = if p.frequency == RecurFrequency::Daily {
                1
            } else {
                p.period.max(1)
            };
            r.by_day = days_of(mask);
            r
        }
        (RecurFrequency::Monthly | RecurFrequency::Yearly, pat) => {
            let yearly = p.frequency == RecurFrequency::Yearly;
            let mut r = RecurRule::new(if yearly { Freq::Yearly } else { Freq::Monthly });
            r.interval = if yearly {
                (p.period / 12).max(1)
            } else {
                p.period.max(1)
            };
            if yearly {
                r.by_month = vec![start.month() as u8];
            }
            match pat {
                Pattern::Month { hijri: true, .. }
                | Pattern::MonthNth { hijri: true, .. }
                | Pattern::MonthEnd { hijri: true, .. } => {
                    return Err(Unrepresentable("Hijri calendar".into()));
                }
                Pattern::Month { day, .. } => {
                    r.by_month_day = vec![if day >= 31 { -1 } else { day as i8 }]
                }
                Pattern::MonthEnd { .. } => r.by_month_day = vec![-1],
                Pattern::MonthNth { mask, n, .. } => {
                    let pos = if n >= 5 { -1 } else { n as i16 };
                    if mask == 0x7F && pos == -1 {
                        r.by_month_day = vec![-1];
                    } else if mask.count_ones() == 1 {
                        r.by_day = days_of(mask)
                            .into_iter()
                            .map(|d| WeekdayNum {
                                ordinal: Some(pos),
                                ..d
                            })
                            .collect();
                    } else {
                        r.by_day = days_of(mask);
                        r.by_set_pos = vec![i32::from(pos)];
                    }
                }
                _ => {
                    return Err(Unrepresentable(
                        "a daily pattern type in a monthly rule".into(),
                    ));
                }
            }
            r
        }
        (f, pat) => return Err(Unrepresentable(format!("{f:?} with {pat:?}"))),
    };
    r.wkst = weekday_of_bit(p.first_dow.min(6));
    match p.end_type {
        END_AFTER_N_OCCURRENCES => r.count = Some(p.occurrence_count),
        END_AFTER_DATE => {
            r.until = Some(Until::Local(
                time_of_minutes(p.end_date).date().and_time(start_time),
            ))
        }
        _ => {}
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S").unwrap()
    }

    #[test]
    fn representable_rules_survive_the_pattern() {
        for (rule, start) in [
            ("FREQ=DAILY;INTERVAL=3;COUNT=10", "20110407T080000"),
            ("FREQ=WEEKLY;BYDAY=MO,TH,FR;COUNT=12", "20070402T100000"),
            (
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=SU",
                "20240107T090000",
            ),
            ("FREQ=MONTHLY;BYMONTHDAY=15", "20240115T090000"),
            (
                "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20241231T090000",
                "20240126T090000",
            ),
            (
                "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
                "20240131T090000",
            ),
            ("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "20240310T090000"),
            (
                "FREQ=YEARLY;INTERVAL=2;BYMONTH=6;BYMONTHDAY=1;COUNT=4",
                "20240601T000000",
            ),
        ] {
            let r = RecurRule::parse(rule).unwrap();
            let until = r.until.map(|u| match u {
                Until::Local(t) | Until::Utc(t) => t,
                Until::Date(d) => d.and_hms_opt(23, 59, 59).unwrap(),
            });
            let p = pattern_of_rule(&r, dt(start), until).unwrap_or_else(|e| panic!("{rule}: {e}"));
            let back = rule_of_pattern(&p, dt(start).time()).unwrap();
            let a: Vec<_> = RuleIter::new(&r, dt(start), until, 1000).take(40).collect();
            let b: Vec<_> = RuleIter::new(&back, dt(start), until, 1000)
                .take(40)
                .collect();
            assert_eq!(a, b, "{rule} became {back}");
        }
    }

    #[test]
    fn every_weekday_is_outlooks_daily_weekday_pattern_or_weekly() {
        let r = RecurRule::parse("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR").unwrap();
        let p = pattern_of_rule(&r, dt("20240101T090000"), None).unwrap();
        assert_eq!(p.pattern, Pattern::Week { mask: 0x3E });
        assert_eq!((p.end_type, p.end_date), (END_NEVER, NO_END_DATE));
    }

    #[test]
    fn what_outlook_cannot_express_is_refused() {
        for rule in [
            "FREQ=DAILY;BYHOUR=9,17",
            "FREQ=YEARLY;BYWEEKNO=20",
            "FREQ=HOURLY",
            "FREQ=MONTHLY;BYMONTHDAY=1,15",
            "FREQ=MONTHLY;BYDAY=2MO,4MO",
        ] {
            let r = RecurRule::parse(rule).unwrap();
            assert!(
                pattern_of_rule(&r, dt("20240101T090000"), None).is_err(),
                "{rule}"
            );
        }
    }
}
