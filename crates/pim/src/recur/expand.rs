//! Bounded recurrence expansion.
//!
//! [`RuleIter`] walks a rule period by period (year, month, week, day, …):
//! each period's candidates are built from the BY* parts, BYSETPOS picks
//! among them, and the instances come out in order, lazily. Without COUNT
//! the walk starts at the period holding the range start (periods are
//! independent), so a query in 2100 of a daily rule from 1990 does not walk
//! 110 years. Every walk is bounded: by the range end, by
//! [`ExpandOptions::max_instances`] and by [`ExpandOptions::max_periods`]
//! (a rule whose periods stay empty, such as 30 February, ends there).
//!
//! [`expand()`] applies a series (DTSTART, time zone, EXDATE, RDATE,
//! overrides and cancelled instances) to a UTC range.

use super::rule::{Freq, RecurRule, Until};
use crate::tz::TzDefinition;
use chrono::{
    Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Weekday,
};
use std::collections::VecDeque;

/// Limits of one expansion (defaults suit a free/busy query of a year).
#[derive(Debug, Clone)]
pub struct ExpandOptions {
    /// Most instances returned; more sets [`Expansion::truncated`].
    pub max_instances: usize,
    /// Most periods walked without reaching the range end.
    pub max_periods: u32,
    /// The zone floating times are read in (the viewer's); UTC by default.
    pub floating: Zone,
}

impl Default for ExpandOptions {
    fn default() -> ExpandOptions {
        ExpandOptions {
            max_instances: 10_000,
            max_periods: 200_000,
            floating: Zone::Utc,
        }
    }
}

/// The zone a series' wall times are in.
#[derive(Debug, Clone, PartialEq)]
pub enum Zone {
    /// Floating: read in [`ExpandOptions::floating`].
    Floating,
    /// UTC.
    Utc,
    /// A fixed offset, minutes east of UTC.
    Fixed(i32),
    /// A zone of the tz database.
    Iana(chrono_tz::Tz),
    /// Windows rules (a MAPI item whose zone has no IANA name).
    Rules(TzDefinition),
}

impl Zone {
    /// Unix seconds of a wall time in this zone. A time in a spring gap
    /// takes the offset before the gap; an ambiguous time the earlier instant.
    pub fn to_utc(&self, local: NaiveDateTime, floating: &Zone) -> i64 {
        let offset_min = match self {
            Zone::Floating => {
                return match floating {
                    Zone::Floating => local.and_utc().timestamp(),
                    z => z.to_utc(local, &Zone::Utc),
                };
            }
            Zone::Utc => 0,
            Zone::Fixed(m) => *m,
            Zone::Iana(tz) if local.year() > LAST_TZDB_YEAR => {
                extrapolated(*tz).offset_at_local(local)
            }
            Zone::Iana(tz) => match tz.from_local_datetime(&local) {
                chrono::LocalResult::Single(t) => return t.timestamp(),
                chrono::LocalResult::Ambiguous(a, b) => return a.timestamp().min(b.timestamp()),
                chrono::LocalResult::None => {
                    let before = local
                        .checked_sub_signed(Duration::hours(26))
                        .unwrap_or(local);
                    tz.offset_from_utc_datetime(&before).fix().local_minus_utc() / 60
                }
            },
            Zone::Rules(def) => match def.rule_for_year(local.year()) {
                Some(r) => r.reg.offset_at_local(local),
                None => 0,
            },
        };
        local.and_utc().timestamp() - i64::from(offset_min) * 60
    }

    /// The wall time of a Unix time in this zone.
    pub fn to_local(&self, utc: i64, floating: &Zone) -> NaiveDateTime {
        let t = chrono::DateTime::from_timestamp(utc, 0)
            .unwrap_or_default()
            .naive_utc();
        let offset_min = match self {
            Zone::Floating => {
                return match floating {
                    Zone::Floating => t,
                    z => z.to_local(utc, &Zone::Utc),
                };
            }
            Zone::Utc => 0,
            Zone::Fixed(m) => *m,
            Zone::Iana(tz) if t.year() > LAST_TZDB_YEAR => extrapolated(*tz).offset_at_utc(t),
            Zone::Iana(tz) => tz.offset_from_utc_datetime(&t).fix().local_minus_utc() / 60,
            Zone::Rules(def) => match def.rule_for_year(t.year()) {
                Some(r) => r.reg.offset_at_utc(t),
                None => 0,
            },
        };
        t.checked_add_signed(Duration::minutes(i64::from(offset_min)))
            .unwrap_or(t)
    }
}

/// The last year whose transitions the bundled tz database lists; later
/// years repeat that year's rules (as a VTIMEZONE's RRULE would).
pub const LAST_TZDB_YEAR: i32 = 2090;

thread_local! {
    static EXTRAPOLATED: std::cell::RefCell<std::collections::HashMap<&'static str, crate::tz::TzReg>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The rules of a zone after [`LAST_TZDB_YEAR`].
fn extrapolated(tz: chrono_tz::Tz) -> crate::tz::TzReg {
    EXTRAPOLATED.with(|c| {
        *c.borrow_mut()
            .entry(tz.name())
            .or_insert_with(|| crate::tz::TzReg::of_zone(tz, LAST_TZDB_YEAR))
    })
}

/// The instances of a rule, in order, as wall times.
#[derive(Debug, Clone)]
pub struct RuleIter {
    rule: RecurRule,
    start: NaiveDateTime,
    until: Option<NaiveDateTime>,
    period: i64,
    buf: VecDeque<NaiveDateTime>,
    produced: u32,
    idle: u32,
    max_idle: u32,
    done: bool,
}

impl RuleIter {
    /// Instances of `rule` from `start` (DTSTART as a wall time). `until`
    /// is UNTIL as a wall time of the same zone (the caller converts UTC).
    /// `max_idle_periods` bounds consecutive periods without an instance.
    pub fn new(
        rule: &RecurRule,
        start: NaiveDateTime,
        until: Option<NaiveDateTime>,
        max_idle_periods: u32,
    ) -> RuleIter {
        let mut rule = rule.clone();
        // RFC 5545 defaults, as every implementation applies them.
        if rule.by_week_no.is_empty()
            && rule.by_year_day.is_empty()
            && rule.by_month_day.is_empty()
            && rule.by_day.is_empty()
        {
            match rule.freq {
                Freq::Yearly => {
                    if rule.by_month.is_empty() {
                        rule.by_month = vec![start.month() as u8];
                    }
                    rule.by_month_day = vec![start.day() as i8];
                }
                Freq::Monthly => rule.by_month_day = vec![start.day() as i8],
                Freq::Weekly => {
                    rule.by_day = vec![super::rule::WeekdayNum {
                        ordinal: None,
                        weekday: start.weekday(),
                    }]
                }
                _ => {}
            }
        }
        rule.interval = rule.interval.max(1);
        RuleIter {
            rule,
            start,
            until,
            period: 0,
            buf: VecDeque::new(),
            produced: 0,
            idle: 0,
            max_idle: max_idle_periods.max(1),
            done: false,
        }
    }

    /// Skips to the period holding `from` (only without COUNT: with COUNT
    /// every earlier instance counts, so the walk starts at DTSTART).
    pub fn seek(&mut self, from: NaiveDateTime) {
        if self.rule.count.is_some() || from <= self.start || self.period != 0 {
            return;
        }
        let iv = i64::from(self.rule.interval);
        let s = self.start;
        let k = match self.rule.freq {
            Freq::Yearly => i64::from(from.year() - s.year()) / iv,
            Freq::Monthly => {
                (i64::from(from.year() - s.year()) * 12 + i64::from(from.month())
                    - i64::from(s.month()))
                    / iv
            }
            Freq::Weekly => {
                (from.date() - week_start(s.date(), self.rule.wkst)).num_days() / 7 / iv
            }
            Freq::Daily => (from.date() - s.date()).num_days() / iv,
            Freq::Hourly => (from - s).num_hours() / iv,
            Freq::Minutely => (from - s).num_minutes() / iv,
            Freq::Secondly => (from - s).num_seconds() / iv,
        };
        self.period = (k - 1).max(0);
    }

    /// The candidate days of period `k`, or `None` past the calendar's end.
    fn period_days(&self, k: i64) -> Option<Vec<NaiveDate>> {
        let iv = i64::from(self.rule.interval);
        let s = self.start;
        let n = k.checked_mul(iv)?;
        Some(match self.rule.freq {
            Freq::Yearly => {
                let y = i32::try_from(i64::from(s.year()).checked_add(n)?).ok()?;
                if y > 9999 {
                    return None;
                }
                let first = NaiveDate::from_ymd_opt(y, 1, 1)?;
                let len = if NaiveDate::from_ymd_opt(y, 2, 29).is_some() {
                    366
                } else {
                    365
                };
                (0..len)
                    .filter_map(|i| first.checked_add_signed(Duration::days(i)))
                    .collect()
            }
            Freq::Monthly => {
                let m0 = i64::from(s.year()) * 12 + i64::from(s.month0()) + n;
                let y = i32::try_from(m0.div_euclid(12)).ok()?;
                if y > 9999 {
                    return None;
                }
                let m = u32::try_from(m0.rem_euclid(12)).ok()? + 1;
                let len = crate::tz::tzdef::days_in_month(y, m);
                (1..=len)
                    .filter_map(|d| NaiveDate::from_ymd_opt(y, m, d))
                    .collect()
            }
            Freq::Weekly => {
                let ws = week_start(s.date(), self.rule.wkst)
                    .checked_add_signed(Duration::days(n.checked_mul(7)?))?;
                if ws.year() > 9999 {
                    return None;
                }
                (0..7)
                    .filter_map(|i| ws.checked_add_signed(Duration::days(i)))
                    .collect()
            }
            Freq::Daily => {
                let d = s.date().checked_add_signed(Duration::days(n))?;
                if d.year() > 9999 {
                    return None;
                }
                vec![d]
            }
            Freq::Hourly | Freq::Minutely | Freq::Secondly => {
                let t = self.sub_daily_time(k)?;
                if t.year() > 9999 {
                    return None;
                }
                vec![t.date()]
            }
        })
    }

    fn sub_daily_time(&self, k: i64) -> Option<NaiveDateTime> {
        let n = k.checked_mul(i64::from(self.rule.interval))?;
        let d = match self.rule.freq {
            Freq::Hourly => Duration::try_hours(n)?,
            Freq::Minutely => Duration::try_minutes(n)?,
            _ => Duration::try_seconds(n)?,
        };
        self.start.checked_add_signed(d)
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        let r = &self.rule;
        if !r.by_month.is_empty() && !r.by_month.contains(&(d.month() as u8)) {
            return false;
        }
        if !r.by_month_day.is_empty() {
            let len = crate::tz::tzdef::days_in_month(d.year(), d.month()) as i32;
            let day = d.day() as i32;
            if !r.by_month_day.iter().any(|&md| {
                let md = i32::from(md);
                md == day || (md < 0 && len + 1 + md == day)
            }) {
                return false;
            }
        }
        if !r.by_year_day.is_empty() {
            let len = if NaiveDate::from_ymd_opt(d.year(), 2, 29).is_some() {
                366
            } else {
                365
            };
            let yd = d.ordinal() as i32;
            if !r.by_year_day.iter().any(|&x| {
                let x = i32::from(x);
                x == yd || (x < 0 && len + 1 + x == yd)
            }) {
                return false;
            }
        }
        if !r.by_week_no.is_empty() {
            let (wy, wn, weeks) = week_number(d, r.wkst);
            let _ = wy;
            if !r.by_week_no.iter().any(|&x| {
                let x = i32::from(x);
                x == wn || (x < 0 && weeks + 1 + x == wn)
            }) {
                return false;
            }
        }
        if !r.by_day.is_empty() {
            let month_scope =
                r.freq == Freq::Monthly || (r.freq == Freq::Yearly && !r.by_month.is_empty());
            let year_scope =
                r.freq == Freq::Yearly && r.by_month.is_empty() && r.by_week_no.is_empty();
            let ok = r.by_day.iter().any(|wd| {
                if wd.weekday != d.weekday() {
                    return false;
                }
                match wd.ordinal {
                    None => true,
                    Some(o) if month_scope => {
                        let len = crate::tz::tzdef::days_in_month(d.year(), d.month()) as i32;
                        let from_start = (d.day() as i32 - 1) / 7 + 1;
                        let from_end = (len - d.day() as i32) / 7 + 1;
                        i32::from(o) == from_start || i32::from(o) == -from_end
                    }
                    Some(o) if year_scope => {
                        let len = if NaiveDate::from_ymd_opt(d.year(), 2, 29).is_some() {
                            366
                        } else {
                            365
                        };
                        let from_start = (d.ordinal() as i32 - 1) / 7 + 1;
                        let from_end = (len - d.ordinal() as i32) / 7 + 1;
                        i32::from(o) == from_start || i32::from(o) == -from_end
                    }
                    Some(_) => true,
                }
            });
            if !ok {
                return false;
            }
        }
        true
    }

    fn times_of(&self, k: i64) -> Vec<NaiveTime> {
        let r = &self.rule;
        let s = self.start;
        let pick = |v: &Vec<u8>, dflt: u32| -> Vec<u32> {
            if v.is_empty() {
                vec![dflt]
            } else {
                v.iter().map(|x| u32::from(*x)).collect()
            }
        };
        let (hours, minutes, seconds): (Vec<u32>, Vec<u32>, Vec<u32>) = match r.freq {
            Freq::Hourly | Freq::Minutely | Freq::Secondly => {
                let Some(t) = self.sub_daily_time(k) else {
                    return vec![];
                };
                let hour_ok = r.by_hour.is_empty() || r.by_hour.contains(&(t.hour() as u8));
                if !hour_ok {
                    return vec![];
                }
                match r.freq {
                    Freq::Hourly => (
                        vec![t.hour()],
                        pick(&r.by_minute, s.minute()),
                        pick(&r.by_second, s.second()),
                    ),
                    Freq::Minutely => {
                        if !r.by_minute.is_empty() && !r.by_minute.contains(&(t.minute() as u8)) {
                            return vec![];
                        }
                        (
                            vec![t.hour()],
                            vec![t.minute()],
                            pick(&r.by_second, s.second()),
                        )
                    }
                    _ => {
                        if (!r.by_minute.is_empty() && !r.by_minute.contains(&(t.minute() as u8)))
                            || (!r.by_second.is_empty()
                                && !r.by_second.contains(&(t.second() as u8)))
                        {
                            return vec![];
                        }
                        (vec![t.hour()], vec![t.minute()], vec![t.second()])
                    }
                }
            }
            _ => (
                pick(&r.by_hour, s.hour()),
                pick(&r.by_minute, s.minute()),
                pick(&r.by_second, s.second()),
            ),
        };
        let mut out = Vec::new();
        for h in &hours {
            for m in &minutes {
                for sec in &seconds {
                    if let Some(t) = NaiveTime::from_hms_opt(*h, *m, (*sec).min(59)) {
                        out.push(t);
                    }
                }
            }
        }
        out
    }

    fn fill(&mut self) {
        while self.buf.is_empty() && !self.done {
            let k = self.period;
            self.period += 1;
            let Some(days) = self.period_days(k) else {
                self.done = true;
                return;
            };
            let times = self.times_of(k);
            let mut set: Vec<NaiveDateTime> = Vec::new();
            for d in days.into_iter().filter(|d| self.day_matches(*d)) {
                for t in &times {
                    set.push(d.and_time(*t));
                }
            }
            set.sort();
            set.dedup();
            if !self.rule.by_set_pos.is_empty() {
                let n = set.len() as i32;
                let mut picked: Vec<NaiveDateTime> = self
                    .rule
                    .by_set_pos
                    .iter()
                    .filter_map(|&p| {
                        let i = if p > 0 { p - 1 } else { n + p };
                        usize::try_from(i).ok().and_then(|i| set.get(i).copied())
                    })
                    .collect();
                picked.sort();
                picked.dedup();
                set = picked;
            }
            let mut any = false;
            for t in set {
                if t < self.start {
                    continue;
                }
                if let Some(u) = self.until
                    && t > u
                {
                    self.done = true;
                    break;
                }
                any = true;
                self.buf.push_back(t);
            }
            if any {
                self.idle = 0;
            } else {
                self.idle += 1;
                if self.idle >= self.max_idle {
                    self.done = true;
                }
            }
        }
    }
}

impl Iterator for RuleIter {
    type Item = NaiveDateTime;

    fn next(&mut self) -> Option<NaiveDateTime> {
        if let Some(c) = self.rule.count
            && self.produced >= c
        {
            return None;
        }
        self.fill();
        let t = self.buf.pop_front()?;
        self.produced += 1;
        Some(t)
    }
}

/// The first day of the week holding `d`, weeks starting on `wkst`.
pub fn week_start(d: NaiveDate, wkst: Weekday) -> NaiveDate {
    let back = (7 + d.weekday().num_days_from_monday() - wkst.num_days_from_monday()) % 7;
    d.checked_sub_signed(Duration::days(i64::from(back)))
        .unwrap_or(d)
}

/// RFC 5545 week number of `d` (week 1 holds at least four days of the
/// year, weeks start on `wkst`): (week-year, week, weeks in that year).
fn week_number(d: NaiveDate, wkst: Weekday) -> (i32, i32, i32) {
    let week1 = |y: i32| -> NaiveDate {
        let jan4 = NaiveDate::from_ymd_opt(y, 1, 4).unwrap_or(d);
        week_start(jan4, wkst)
    };
    let mut y = d.year();
    if d < week1(y) {
        y -= 1;
    } else if d >= week1(y + 1) {
        y += 1;
    }
    let start = week1(y);
    let wn = ((d - start).num_days() / 7 + 1) as i32;
    let weeks = ((week1(y + 1) - start).num_days() / 7) as i32;
    (y, wn, weeks)
}

/// A changed or cancelled instance of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The wall time the instance would have had (RECURRENCE-ID).
    pub original_start: NaiveDateTime,
    /// The new start and end (Unix seconds), or `None` when cancelled.
    pub new_times: Option<(i64, i64)>,
}

/// A series as [`expand`] needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// DTSTART as a wall time (all-day: midnight of the date).
    pub start: NaiveDateTime,
    /// Length of each instance in seconds.
    pub duration: i64,
    /// The zone of the wall times.
    pub zone: Zone,
    /// The rule, if any.
    pub rule: Option<RecurRule>,
    /// RDATEs (wall times).
    pub rdates: Vec<NaiveDateTime>,
    /// EXDATEs (wall times; for all-day series only the date counts).
    pub exdates: Vec<NaiveDateTime>,
    /// Whether the series is all-day (EXDATE/overrides match by date).
    pub all_day: bool,
    /// Changed and cancelled instances.
    pub overrides: Vec<Override>,
}

/// One instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instance {
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// The wall time the series gives this instance (its RECURRENCE-ID).
    pub original_start: NaiveDateTime,
    /// The instance was changed by an override.
    pub changed: bool,
}

/// The instances of a range.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expansion {
    /// Instances overlapping the range, by start.
    pub instances: Vec<Instance>,
    /// A limit stopped the expansion before the range end.
    pub truncated: bool,
}

/// The instances of `series` that overlap `[from, to)` (Unix seconds).
pub fn expand(series: &Series, from: i64, to: i64, opts: &ExpandOptions) -> Expansion {
    let mut out = Expansion::default();
    let fl = &opts.floating;
    let same = |a: &NaiveDateTime, b: &NaiveDateTime| {
        if series.all_day {
            a.date() == b.date()
        } else {
            a == b
        }
    };
    let overridden =
        |t: &NaiveDateTime| series.overrides.iter().any(|o| same(&o.original_start, t));
    let excluded = |t: &NaiveDateTime| series.exdates.iter().any(|x| same(x, t));
    let overlaps = |s: i64, e: i64| s < to && (e > from || (e == s && s >= from));

    let push = |out: &mut Expansion, i: Instance| -> bool {
        if out.instances.len() >= opts.max_instances {
            out.truncated = true;
            return false;
        }
        out.instances.push(i);
        true
    };

    let mut starts: Vec<NaiveDateTime> = vec![series.start];
    starts.extend(series.rdates.iter().copied());
    let mut candidates: Vec<NaiveDateTime> = starts;
    candidates.sort();
    candidates.dedup();

    // The rule's instances, lazily, merged with DTSTART and RDATEs.
    let mut rule_iter = series.rule.as_ref().map(|r| {
        let until = r.until.map(|u| match u {
            Until::Date(d) => d.and_hms_opt(23, 59, 59).unwrap_or_default(),
            Until::Local(t) => t,
            Until::Utc(t) => series.zone.to_local(t.and_utc().timestamp(), fl),
        });
        let mut it = RuleIter::new(r, series.start, until, opts.max_periods);
        // Seek a margin before the range: instances that started earlier may overlap it.
        let margin = series.duration.max(0) + 2 * 86_400;
        it.seek(series.zone.to_local(from.saturating_sub(margin), fl));
        it.peekable()
    });
    let mut extra = candidates.into_iter().peekable();
    let mut last: Option<NaiveDateTime> = None;
    loop {
        let next_rule = rule_iter.as_mut().and_then(|i| i.peek().copied());
        let next_extra = extra.peek().copied();
        let t = match (next_rule, next_extra) {
            (None, None) => break,
            (Some(a), Some(b)) if b <= a => extra.next(),
            (Some(_), _) => rule_iter.as_mut().and_then(Iterator::next),
            (None, Some(_)) => extra.next(),
        };
        let Some(t) = t else { break };
        if last == Some(t) {
            continue;
        }
        last = Some(t);
        let s = series.zone.to_utc(t, fl);
        if s >= to {
            break;
        }
        if excluded(&t) || overridden(&t) {
            continue;
        }
        let e = if series.all_day {
            series.zone.to_utc(
                t.checked_add_signed(Duration::seconds(series.duration))
                    .unwrap_or(t),
                fl,
            )
        } else {
            s + series.duration
        };
        if overlaps(s, e)
            && !push(
                &mut out,
                Instance {
                    start: s,
                    end: e,
                    original_start: t,
                    changed: false,
                },
            )
        {
            break;
        }
    }
    for o in &series.overrides {
        if let Some((s, e)) = o.new_times
            && !excluded(&o.original_start)
            && overlaps(s, e)
            && !push(
                &mut out,
                Instance {
                    start: s,
                    end: e,
                    original_start: o.original_start,
                    changed: true,
                },
            )
        {
            break;
        }
    }
    out.instances.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S").unwrap()
    }

    fn instances(rule: &str, start: &str, n: usize) -> Vec<String> {
        let r = RecurRule::parse(rule).unwrap();
        RuleIter::new(&r, dt(start), None, 10_000)
            .take(n)
            .map(|t| t.format("%Y%m%dT%H%M%S").to_string())
            .collect()
    }

    #[test]
    fn rfc5545_examples_expand_as_the_rfc_lists_them() {
        // Examples from RFC 5545 3.8.5.3 (facts, checked by hand).
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "FREQ=DAILY;COUNT=3",
                "19970902T090000",
                &["19970902T090000", "19970903T090000", "19970904T090000"],
            ),
            (
                "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,TH",
                "19970902T090000",
                &[
                    "19970902T090000",
                    "19970904T090000",
                    "19970916T090000",
                    "19970918T090000",
                ],
            ),
            (
                "FREQ=MONTHLY;BYDAY=1FR",
                "19970905T090000",
                &["19970905T090000", "19971003T090000", "19971107T090000"],
            ),
            (
                "FREQ=MONTHLY;BYMONTHDAY=-3",
                "19970928T090000",
                &[
                    "19970928T090000",
                    "19971029T090000",
                    "19971128T090000",
                    "19971229T090000",
                ],
            ),
            (
                "FREQ=YEARLY;BYDAY=20MO",
                "19970519T090000",
                &["19970519T090000", "19980518T090000", "19990517T090000"],
            ),
            (
                "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
                "19970512T090000",
                &["19970512T090000", "19980511T090000", "19990517T090000"],
            ),
            (
                "FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=3;COUNT=3",
                "19970904T090000",
                &["19970904T090000", "19971007T090000", "19971106T090000"],
            ),
            (
                "FREQ=MONTHLY;BYMONTHDAY=-2",
                "19970928T090000",
                &["19970929T090000", "19971030T090000"],
            ),
            (
                "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
                "20240229T090000",
                &["20240229T090000", "20280229T090000"],
            ),
            (
                "FREQ=HOURLY;INTERVAL=3;COUNT=3",
                "19970902T090000",
                &["19970902T090000", "19970902T120000", "19970902T150000"],
            ),
        ];
        for (rule, start, want) in cases {
            assert_eq!(instances(rule, start, want.len()), *want, "{rule}");
        }
    }

    #[test]
    fn a_rule_that_never_matches_ends_instead_of_spinning() {
        let r = RecurRule::parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30").unwrap();
        assert_eq!(
            RuleIter::new(&r, dt("20240101T000000"), None, 1000).count(),
            0
        );
    }

    #[test]
    fn seeking_gives_the_same_instances_as_walking() {
        let r = RecurRule::parse("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR").unwrap();
        let start = dt("20000103T100000");
        let from = dt("20300101T000000");
        let walked: Vec<_> = RuleIter::new(&r, start, None, 10_000)
            .skip_while(|t| *t < from)
            .take(10)
            .collect();
        let mut it = RuleIter::new(&r, start, None, 10_000);
        it.seek(from);
        let sought: Vec<_> = it.skip_while(|t| *t < from).take(10).collect();
        assert_eq!(walked, sought);
    }

    #[test]
    fn a_series_across_dst_keeps_its_wall_time() {
        let series = Series {
            start: dt("20240325T090000"),
            duration: 3600,
            zone: Zone::Iana(chrono_tz::Europe::Berlin),
            rule: Some(RecurRule::parse("FREQ=DAILY;COUNT=14").unwrap()),
            rdates: vec![],
            exdates: vec![dt("20240327T090000")],
            all_day: false,
            overrides: vec![Override {
                original_start: dt("20240328T090000"),
                new_times: None,
            }],
        };
        let x = expand(&series, 0, i64::MAX, &ExpandOptions::default());
        assert_eq!(x.instances.len(), 12);
        let utc_hours: Vec<u32> = x
            .instances
            .iter()
            .map(|i| chrono::DateTime::from_timestamp(i.start, 0).unwrap().hour())
            .collect();
        assert_eq!(utc_hours[0], 8, "CET");
        assert_eq!(*utc_hours.last().unwrap(), 7, "CEST");
    }

    #[test]
    fn an_endless_rule_over_a_century_is_bounded() {
        let series = Series {
            start: dt("20000101T000000"),
            duration: 60,
            zone: Zone::Utc,
            rule: Some(RecurRule::parse("FREQ=MINUTELY").unwrap()),
            rdates: vec![],
            exdates: vec![],
            all_day: false,
            overrides: vec![],
        };
        let to = dt("21000101T000000").and_utc().timestamp();
        let x = expand(&series, 0, to, &ExpandOptions::default());
        assert_eq!(x.instances.len(), 10_000);
        assert!(x.truncated);
    }
}
