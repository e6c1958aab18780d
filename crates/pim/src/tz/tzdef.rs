//! The binary time-zone structures of calendar items:
//! - TZREG as PidLidTimeZoneStruct ([MS-OXOCAL] 2.2.1.39): bias, standard
//!   and daylight bias and the two yearly transition rules;
//! - TZDEFINITION as PidLidAppointmentTimeZoneDefinitionStartDisplay,
//!   …EndDisplay and …Recur ([MS-OXOCAL] 2.2.1.41): a Windows key name and
//!   one TZRULE per period of unchanged rules.
//!
//! Biases are minutes *west* of UTC, as Windows counts them. Transition
//! rules are SYSTEMTIMEs with year 0: month, day of week (0 = Sunday), the
//! week of the month in `day` (5 = last) and the local wall time at which
//! the change happens (in the time that is ending).

use crate::error::BlobError;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};

/// A Windows SYSTEMTIME.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct SystemTime {
    /// Year (0 in a yearly rule).
    pub year: u16,
    /// Month 1–12 (0: no transition).
    pub month: u16,
    /// Day of week, 0 = Sunday.
    pub day_of_week: u16,
    /// Week of the month 1–5 in a yearly rule (5 = last), else the day.
    pub day: u16,
    /// Hour.
    pub hour: u16,
    /// Minute.
    pub minute: u16,
    /// Second.
    pub second: u16,
    /// Milliseconds.
    pub milliseconds: u16,
}

impl SystemTime {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        for v in [
            self.year,
            self.month,
            self.day_of_week,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.milliseconds,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<SystemTime, BlobError> {
        Ok(SystemTime {
            year: r.u16()?,
            month: r.u16()?,
            day_of_week: r.u16()?,
            day: r.u16()?,
            hour: r.u16()?,
            minute: r.u16()?,
            second: r.u16()?,
            milliseconds: r.u16()?,
        })
    }

    /// The local wall time this rule names in `year`; `None` when the rule
    /// is empty (month 0) or malformed.
    pub fn in_year(&self, year: i32) -> Option<NaiveDateTime> {
        if self.month == 0 {
            return None;
        }
        let month = u32::from(self.month);
        let date = if self.year != 0 {
            NaiveDate::from_ymd_opt(year, month, u32::from(self.day))?
        } else {
            nth_weekday(
                year,
                month,
                u32::from(self.day_of_week),
                u32::from(self.day),
            )?
        };
        let t = date.and_hms_opt(
            u32::from(self.hour).min(23),
            u32::from(self.minute).min(59),
            u32::from(self.second).min(59),
        )?;
        // 23:59:59.999 means "at midnight"
        if self.hour == 23 && self.minute == 59 && self.second == 59 && self.milliseconds == 999 {
            return Some(t + Duration::seconds(1));
        }
        Some(t)
    }
}

/// The `week`-th (1–4, 5 = last) `weekday` (0 = Sunday) of a month.
pub fn nth_weekday(year: i32, month: u32, weekday: u32, week: u32) -> Option<NaiveDate> {
    if weekday > 6 || week == 0 {
        return None;
    }
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let first_dow = first.weekday().num_days_from_sunday();
    let mut day = 1 + (weekday + 7 - first_dow) % 7 + (week.min(5) - 1) * 7;
    let len = days_in_month(year, month);
    while day > len {
        day -= 7;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Days in a month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    match (
        NaiveDate::from_ymd_opt(ny, nm, 1),
        NaiveDate::from_ymd_opt(year, month, 1),
    ) {
        (Some(a), Some(b)) => u32::try_from((a - b).num_days()).unwrap_or(30),
        _ => 30,
    }
}

/// TZREG: a time zone's rules for one period of years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TzReg {
    /// Minutes west of UTC in standard time, before `standard_bias`.
    pub bias: i32,
    /// Added to `bias` in standard time (normally 0).
    pub standard_bias: i32,
    /// Added to `bias` in daylight time (normally −60).
    pub daylight_bias: i32,
    /// When daylight time ends.
    pub standard_date: SystemTime,
    /// When daylight time begins.
    pub daylight_date: SystemTime,
}

/// Size of PidLidTimeZoneStruct.
pub const TZREG_STRUCT_SIZE: usize = 48;

impl TzReg {
    /// Whether the zone observes daylight time under this rule.
    pub fn has_dst(&self) -> bool {
        self.standard_date.month != 0 && self.daylight_date.month != 0
    }

    /// UTC offset in standard time, minutes east.
    pub fn standard_offset(&self) -> i32 {
        -(self.bias + self.standard_bias)
    }

    /// UTC offset in daylight time, minutes east.
    pub fn daylight_offset(&self) -> i32 {
        -(self.bias + self.daylight_bias)
    }

    /// The UTC offset (minutes east) at a local wall time. A time in the
    /// spring gap takes the offset before the gap and an ambiguous autumn
    /// time the first (daylight) one, as RFC 5545 3.3.5 asks.
    pub fn offset_at_local(&self, local: NaiveDateTime) -> i32 {
        let (std, dst) = (self.standard_offset(), self.daylight_offset());
        if !self.has_dst() {
            return std;
        }
        let y = local.year();
        let (Some(dst_start), Some(std_start)) =
            (self.daylight_date.in_year(y), self.standard_date.in_year(y))
        else {
            return std;
        };
        let gap_end = dst_start + Duration::minutes(i64::from((dst - std).max(0)));
        let in_dst = if dst_start < std_start {
            local >= gap_end && local < std_start
        } else {
            local >= gap_end || local < std_start
        };
        if in_dst { dst } else { std }
    }

    /// The UTC offset (minutes east) at a UTC instant.
    pub fn offset_at_utc(&self, utc: NaiveDateTime) -> i32 {
        let (std, dst) = (self.standard_offset(), self.daylight_offset());
        if !self.has_dst() {
            return std;
        }
        let y = utc.year();
        let (Some(dst_start), Some(std_start)) =
            (self.daylight_date.in_year(y), self.standard_date.in_year(y))
        else {
            return std;
        };
        let dst_start = dst_start - Duration::minutes(i64::from(std));
        let std_start = std_start - Duration::minutes(i64::from(dst));
        let in_dst = if dst_start < std_start {
            utc >= dst_start && utc < std_start
        } else {
            utc >= dst_start || utc < std_start
        };
        if in_dst { dst } else { std }
    }

    /// PidLidTimeZoneStruct: the rule with the year it applies from.
    pub fn encode_struct(&self, year: u16) -> Vec<u8> {
        let mut out = Vec::with_capacity(TZREG_STRUCT_SIZE);
        out.extend_from_slice(&self.bias.to_le_bytes());
        out.extend_from_slice(&self.standard_bias.to_le_bytes());
        out.extend_from_slice(&self.daylight_bias.to_le_bytes());
        out.extend_from_slice(&year.to_le_bytes());
        self.standard_date.write(&mut out);
        out.extend_from_slice(&year.to_le_bytes());
        self.daylight_date.write(&mut out);
        out
    }

    /// Reads PidLidTimeZoneStruct.
    pub fn decode_struct(b: &[u8]) -> Result<TzReg, BlobError> {
        let mut r = Reader::new(b, "TimeZoneStruct");
        let bias = r.i32()?;
        let standard_bias = r.i32()?;
        let daylight_bias = r.i32()?;
        r.u16()?;
        let standard_date = SystemTime::read(&mut r)?;
        r.u16()?;
        let daylight_date = SystemTime::read(&mut r)?;
        Ok(TzReg {
            bias,
            standard_bias,
            daylight_bias,
            standard_date,
            daylight_date,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bias.to_le_bytes());
        out.extend_from_slice(&self.standard_bias.to_le_bytes());
        out.extend_from_slice(&self.daylight_bias.to_le_bytes());
        self.standard_date.write(out);
        self.daylight_date.write(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<TzReg, BlobError> {
        Ok(TzReg {
            bias: r.i32()?,
            standard_bias: r.i32()?,
            daylight_bias: r.i32()?,
            standard_date: SystemTime::read(r)?,
            daylight_date: SystemTime::read(r)?,
        })
    }

    /// The rules of an IANA zone in one year, derived from its transitions.
    /// A year with other than two transitions (abolished or introduced
    /// daylight time, Ramadan suspensions) is described by its offset at
    /// the end of the year, without daylight time.
    pub fn of_zone(tz: chrono_tz::Tz, year: i32) -> TzReg {
        let year = year.min(crate::recur::expand::LAST_TZDB_YEAR);
        // A zone's definition looks at a century of years, each 366 offset
        // look-ups: every calendar item written would pay that again.
        // The answer depends only on (zone, year), so it is kept; the
        // cache is bounded (cleared when full; a refill costs one pass).
        type Cache = std::collections::HashMap<(chrono_tz::Tz, i32), TzReg>;
        static CACHE: std::sync::OnceLock<std::sync::Mutex<Cache>> = std::sync::OnceLock::new();
        const MAX_CACHED: usize = 50_000;
        let cache = CACHE.get_or_init(Default::default);
        let lock = || {
            cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(reg) = lock().get(&(tz, year)) {
            return *reg;
        }
        let reg = TzReg::compute(tz, year);
        let mut c = lock();
        if c.len() >= MAX_CACHED {
            c.clear();
        }
        c.insert((tz, year), reg);
        reg
    }

    /// [`Self::of_zone`] without the cache.
    fn compute(tz: chrono_tz::Tz, year: i32) -> TzReg {
        let offset_at =
            |t: NaiveDateTime| tz.offset_from_utc_datetime(&t).fix().local_minus_utc() / 60;
        let mut transitions: Vec<(NaiveDateTime, i32, i32)> = Vec::new();
        let Some(jan1) = NaiveDate::from_ymd_opt(year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
        else {
            return TzReg::default();
        };
        let mut prev_t = jan1;
        let mut prev = offset_at(prev_t);
        for day in 1..=366 {
            let t = jan1 + Duration::days(day);
            if t.year() != year && day < 366 {
                // keep going to 1 January of the next year
            }
            let o = offset_at(t);
            if o != prev {
                // binary search to the minute
                let (mut lo, mut hi) = (prev_t, t);
                while (hi - lo).num_minutes() > 1 {
                    let mid = lo + Duration::minutes((hi - lo).num_minutes() / 2);
                    if offset_at(mid) == prev {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                transitions.push((hi, prev, o));
                prev = o;
            }
            prev_t = t;
            if t.year() > year {
                break;
            }
        }
        let end_offset = prev;
        if transitions.len() != 2 {
            return TzReg {
                bias: -end_offset,
                ..TzReg::default()
            };
        }
        let std = transitions
            .iter()
            .map(|t| t.1.min(t.2))
            .min()
            .unwrap_or(end_offset);
        let dst = transitions
            .iter()
            .map(|t| t.1.max(t.2))
            .max()
            .unwrap_or(end_offset);
        let mut reg = TzReg {
            bias: -std,
            standard_bias: 0,
            daylight_bias: -(dst - std),
            ..TzReg::default()
        };
        for (utc, from, to) in transitions {
            let local = utc + Duration::minutes(i64::from(from));
            let st = rule_of(local);
            if to > from {
                reg.daylight_date = st;
            } else {
                reg.standard_date = st;
            }
        }
        reg
    }
}

/// The yearly SYSTEMTIME rule of one transition's local time.
fn rule_of(local: NaiveDateTime) -> SystemTime {
    let d = local.date();
    let week = if d.day() + 7 > days_in_month(d.year(), d.month()) {
        5
    } else {
        (d.day() - 1) / 7 + 1
    };
    let n = |v: u32| u16::try_from(v).unwrap_or(0);
    SystemTime {
        year: 0,
        month: n(d.month()),
        day_of_week: n(d.weekday().num_days_from_sunday()),
        day: n(week),
        hour: n(local.hour()),
        minute: n(local.minute()),
        second: 0,
        milliseconds: 0,
    }
}

/// TZRULE wFlags: this rule is the one PidLidTimeZoneStruct repeats.
pub const TZRULE_FLAG_RECUR_CURRENT_TZREG: u16 = 0x0001;
/// TZRULE wFlags: this rule is in effect for the item.
pub const TZRULE_FLAG_EFFECTIVE_TZREG: u16 = 0x0002;
/// TZDEFINITION wFlags: the key name is present.
pub const TZDEFINITION_FLAG_VALID_KEYNAME: u16 = 0x0002;
/// TZDEFINITION wFlags: a GUID is present.
pub const TZDEFINITION_FLAG_VALID_GUID: u16 = 0x0001;

/// One TZRULE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TzRule {
    /// `TZRULE_FLAG_*`.
    pub flags: u16,
    /// The year from which the rule applies (stStart's year).
    pub start_year: u16,
    /// The rule.
    pub reg: TzReg,
}

/// A TZDEFINITION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TzDefinition {
    /// The Windows key name, e.g. `W. Europe Standard Time`.
    pub key_name: String,
    /// The rules, oldest first.
    pub rules: Vec<TzRule>,
}

/// At most this many rules are read from a TZDEFINITION (TZ_MAX_RULES).
pub const MAX_RULES: usize = 1024;

impl TzDefinition {
    /// The rule in force in `year`: the last one starting at or before it,
    /// else the first.
    pub fn rule_for_year(&self, year: i32) -> Option<&TzRule> {
        self.rules
            .iter()
            .rev()
            .find(|r| i32::from(r.start_year) <= year)
            .or_else(|| self.rules.first())
    }

    /// The rule flagged effective, else the last.
    pub fn effective(&self) -> Option<&TzRule> {
        self.rules
            .iter()
            .find(|r| r.flags & TZRULE_FLAG_EFFECTIVE_TZREG != 0)
            .or_else(|| self.rules.last())
    }

    /// The definition of an IANA zone under a Windows key name: one rule
    /// per change of rules between 1990 and 2037 (and the effective year).
    /// The rule of `effective_year` is flagged effective, and also
    /// "current" when `recur` (for PidLidAppointmentTimeZoneDefinitionRecur).
    pub fn of_zone(
        tz: chrono_tz::Tz,
        key_name: &str,
        effective_year: i32,
        recur: bool,
    ) -> TzDefinition {
        let first = effective_year.clamp(1601, 1990);
        // The rules of every year after the tz database's last are those
        // of its last (`TzReg::of_zone`): looking further finds no change
        // and cost an event in the year 4048 two thousand years of looks.
        let last = effective_year
            .clamp(2037, 9999)
            .min(crate::recur::expand::LAST_TZDB_YEAR);
        let mut rules: Vec<TzRule> = Vec::new();
        for y in first..=last {
            let reg = TzReg::of_zone(tz, y);
            if rules.last().map(|r| r.reg) != Some(reg) {
                rules.push(TzRule {
                    flags: 0,
                    start_year: u16::try_from(y).unwrap_or(0),
                    reg,
                });
            }
        }
        if let Some(i) = rules
            .iter()
            .rposition(|r| i32::from(r.start_year) <= effective_year)
        {
            rules[i].flags = TZRULE_FLAG_EFFECTIVE_TZREG
                | if recur {
                    TZRULE_FLAG_RECUR_CURRENT_TZREG
                } else {
                    0
                };
        }
        TzDefinition {
            key_name: key_name.to_owned(),
            rules,
        }
    }

    /// The binary form.
    pub fn encode(&self) -> Vec<u8> {
        let name: Vec<u16> = self.key_name.encode_utf16().take(260).collect();
        let mut out = vec![0x02, 0x01];
        let cb_header = 6 + 2 * name.len();
        out.extend_from_slice(&u16::try_from(cb_header).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&TZDEFINITION_FLAG_VALID_KEYNAME.to_le_bytes());
        out.extend_from_slice(&u16::try_from(name.len()).unwrap_or(0).to_le_bytes());
        for u in &name {
            out.extend_from_slice(&u.to_le_bytes());
        }
        let n = self.rules.len().min(MAX_RULES);
        out.extend_from_slice(&u16::try_from(n).unwrap_or(0).to_le_bytes());
        for r in &self.rules[..n] {
            out.extend_from_slice(&[0x02, 0x01]);
            out.extend_from_slice(&0x003Eu16.to_le_bytes());
            out.extend_from_slice(&r.flags.to_le_bytes());
            SystemTime {
                year: r.start_year,
                ..SystemTime::default()
            }
            .write(&mut out);
            r.reg.write(&mut out);
        }
        out
    }

    /// Reads the binary form (fields a newer minor version appends are skipped).
    pub fn decode(b: &[u8]) -> Result<TzDefinition, BlobError> {
        let mut r = Reader::new(b, "TZDEFINITION");
        let major = r.u8()?;
        let _minor = r.u8()?;
        if major != 2 {
            return Err(r.error(&format!("major version {major}, expected 2")));
        }
        let cb_header = usize::from(r.u16()?);
        let header_end = r.pos + cb_header;
        let flags = r.u16()?;
        if flags & TZDEFINITION_FLAG_VALID_GUID != 0 {
            r.take(16)?;
        }
        let mut key_name = String::new();
        if flags & TZDEFINITION_FLAG_VALID_KEYNAME != 0 {
            let cch = usize::from(r.u16()?);
            let units: Vec<u16> = (0..cch).map(|_| r.u16()).collect::<Result<_, _>>()?;
            key_name = String::from_utf16_lossy(&units);
        }
        let count = usize::from(r.u16()?);
        if r.pos > header_end {
            return Err(r.error("header is longer than cbHeader says"));
        }
        r.pos = header_end.max(r.pos);
        if count > MAX_RULES {
            return Err(r.error(&format!("{count} rules, at most {MAX_RULES} allowed")));
        }
        let mut rules = Vec::with_capacity(count);
        for _ in 0..count {
            let major = r.u8()?;
            let _minor = r.u8()?;
            if major != 2 {
                return Err(r.error(&format!("rule major version {major}, expected 2")));
            }
            let cb_rule = usize::from(r.u16()?);
            let end = r.pos + cb_rule;
            let flags = r.u16()?;
            let start = SystemTime::read(&mut r)?;
            let reg = TzReg::read(&mut r)?;
            if r.pos > end {
                return Err(r.error("rule is longer than cbRule says"));
            }
            r.pos = end;
            rules.push(TzRule {
                flags,
                start_year: start.year,
                reg,
            });
        }
        if rules.is_empty() {
            return Err(r.error("no rules"));
        }
        Ok(TzDefinition { key_name, rules })
    }
}

/// A bounds-checked little-endian reader.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { buf, pos: 0, what }
    }
    pub(crate) fn error(&self, reason: &str) -> BlobError {
        BlobError {
            structure: self.what,
            offset: self.pos,
            reason: reason.into(),
        }
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], BlobError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        match end {
            Some(e) => {
                let s = &self.buf[self.pos..e];
                self.pos = e;
                Ok(s)
            }
            None => Err(self.error(&format!("truncated: {n} more bytes expected"))),
        }
    }
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, BlobError> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, BlobError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, BlobError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn i32(&mut self) -> Result<i32, BlobError> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn europe_berlin() -> TzReg {
        TzReg {
            bias: -60,
            standard_bias: 0,
            daylight_bias: -60,
            standard_date: SystemTime {
                month: 10,
                day_of_week: 0,
                day: 5,
                hour: 3,
                ..SystemTime::default()
            },
            daylight_date: SystemTime {
                month: 3,
                day_of_week: 0,
                day: 5,
                hour: 2,
                ..SystemTime::default()
            },
        }
    }

    #[test]
    fn berlin_rules_are_derived_from_the_tz_database() {
        assert_eq!(
            TzReg::of_zone(chrono_tz::Europe::Berlin, 2024),
            europe_berlin()
        );
        let ny = TzReg::of_zone(chrono_tz::America::New_York, 2024);
        assert_eq!((ny.bias, ny.daylight_bias), (300, -60));
        assert_eq!(
            (
                ny.daylight_date.month,
                ny.daylight_date.day,
                ny.daylight_date.hour
            ),
            (3, 2, 2)
        );
        assert_eq!(
            (
                ny.standard_date.month,
                ny.standard_date.day,
                ny.standard_date.hour
            ),
            (11, 1, 2)
        );
        let tokyo = TzReg::of_zone(chrono_tz::Asia::Tokyo, 2024);
        assert_eq!((tokyo.bias, tokyo.has_dst()), (-540, false));
    }

    #[test]
    fn southern_hemisphere_daylight_time_spans_new_year() {
        let syd = TzReg::of_zone(chrono_tz::Australia::Sydney, 2024);
        assert_eq!(
            (syd.bias, syd.daylight_date.month, syd.standard_date.month),
            (-600, 10, 4)
        );
        let jan = NaiveDate::from_ymd_opt(2024, 1, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap();
        let jul = NaiveDate::from_ymd_opt(2024, 7, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap();
        assert_eq!(syd.offset_at_local(jan), 660);
        assert_eq!(syd.offset_at_local(jul), 600);
    }

    #[test]
    fn gap_and_overlap_times_follow_rfc5545() {
        let b = europe_berlin();
        let at = |m, d, h, mi| {
            NaiveDate::from_ymd_opt(2024, m, d)
                .and_then(|d| d.and_hms_opt(h, mi, 0))
                .unwrap()
        };
        assert_eq!(b.offset_at_local(at(3, 31, 1, 59)), 60);
        assert_eq!(
            b.offset_at_local(at(3, 31, 2, 30)),
            60,
            "gap: the offset before it"
        );
        assert_eq!(b.offset_at_local(at(3, 31, 3, 0)), 120);
        assert_eq!(
            b.offset_at_local(at(10, 27, 2, 30)),
            120,
            "overlap: the first"
        );
        assert_eq!(b.offset_at_local(at(10, 27, 3, 0)), 60);
        assert_eq!(b.offset_at_utc(at(3, 31, 0, 59)), 60);
        assert_eq!(b.offset_at_utc(at(3, 31, 1, 0)), 120);
        assert_eq!(b.offset_at_utc(at(10, 27, 0, 59)), 120);
        assert_eq!(b.offset_at_utc(at(10, 27, 1, 0)), 60);
    }

    #[test]
    fn time_zone_struct_has_the_documented_layout() {
        let b = europe_berlin().encode_struct(0);
        assert_eq!(b.len(), TZREG_STRUCT_SIZE);
        assert_eq!(&b[0..4], &(-60i32).to_le_bytes());
        assert_eq!(&b[8..12], &(-60i32).to_le_bytes());
        // wStandardYear, then stStandardDate: month 10 at offset 14+2
        assert_eq!(&b[14..18], &[0, 0, 10, 0]);
        assert_eq!(TzReg::decode_struct(&b).unwrap(), europe_berlin());
        assert!(TzReg::decode_struct(&b[..47]).is_err());
    }

    #[test]
    fn a_far_future_event_gets_the_rules_of_the_last_tz_database_year() {
        // A fuzzer's event in the year 4048 made the definition look at
        // every year up to it; the rules past the database's last year
        // are its rules, so the definition is the same as for that year
        // (and as one looked up year by year would be).
        let last = crate::recur::expand::LAST_TZDB_YEAR;
        for zone in [chrono_tz::Europe::Berlin, chrono_tz::America::Santiago] {
            let far = TzDefinition::of_zone(zone, "k", 4048, true);
            let at_last = TzDefinition::of_zone(zone, "k", last, true);
            assert_eq!(far, at_last, "{zone}");
            assert_eq!(far.effective().unwrap().reg, TzReg::of_zone(zone, 4048));
            assert_eq!(
                far.rule_for_year(9999).unwrap().reg,
                TzReg::of_zone(zone, 9999)
            );
        }
    }

    #[test]
    fn tz_definition_round_trips_and_has_the_documented_layout() {
        let d = TzDefinition::of_zone(
            chrono_tz::Europe::Berlin,
            "W. Europe Standard Time",
            2024,
            true,
        );
        let b = d.encode();
        assert_eq!(&b[0..2], &[0x02, 0x01]);
        let cch = "W. Europe Standard Time".len();
        assert_eq!(u16::from_le_bytes([b[2], b[3]]) as usize, 6 + 2 * cch);
        assert_eq!(&b[4..6], &[0x02, 0x00]);
        assert_eq!(u16::from_le_bytes([b[6], b[7]]) as usize, cch);
        let rules_at = 8 + 2 * cch;
        let n = u16::from_le_bytes([b[rules_at], b[rules_at + 1]]) as usize;
        assert_eq!(b.len(), rules_at + 2 + n * 66);
        assert_eq!(&b[rules_at + 2..rules_at + 6], &[0x02, 0x01, 0x3E, 0x00]);
        let back = TzDefinition::decode(&b).unwrap();
        assert_eq!(back, d);
        let eff = back.effective().unwrap();
        assert_eq!(
            eff.flags,
            TZRULE_FLAG_EFFECTIVE_TZREG | TZRULE_FLAG_RECUR_CURRENT_TZREG
        );
        assert_eq!(eff.reg, europe_berlin());
        // Berlin's rules have not changed since 1996, and its first rule is from 1990.
        assert_eq!(back.rule_for_year(2030).unwrap().reg, europe_berlin());
        assert_eq!(back.rules.first().unwrap().start_year, 1990);
        for cut in 0..b.len() {
            let _ = TzDefinition::decode(&b[..cut]);
        }
    }
}
