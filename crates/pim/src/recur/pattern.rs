//! PidLidAppointmentRecur ([MS-OXOCAL] 2.2.1.44): RecurrencePattern and
//! AppointmentRecurrencePattern with their exceptions, and PidLidTaskRecurrence
//! (a bare RecurrencePattern, [MS-OXOTASK] 2.2.2.2.15). Times are minutes
//! since 1601-01-01 00:00 in the series' local time.

use crate::error::BlobError;
use crate::tz::tzdef::Reader;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

/// RecurFrequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecurFrequency {
    /// 0x200A.
    Daily,
    /// 0x200B.
    Weekly,
    /// 0x200C.
    Monthly,
    /// 0x200D.
    Yearly,
}

impl RecurFrequency {
    /// The wire value.
    pub fn code(self) -> u16 {
        match self {
            RecurFrequency::Daily => 0x200A,
            RecurFrequency::Weekly => 0x200B,
            RecurFrequency::Monthly => 0x200C,
            RecurFrequency::Yearly => 0x200D,
        }
    }
    fn from_code(c: u16) -> Option<RecurFrequency> {
        Some(match c {
            0x200A => RecurFrequency::Daily,
            0x200B => RecurFrequency::Weekly,
            0x200C => RecurFrequency::Monthly,
            0x200D => RecurFrequency::Yearly,
            _ => return None,
        })
    }
}

/// PatternType with its PatternTypeSpecific data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// 0x0000: every `Period` minutes.
    Day,
    /// 0x0001: on the days of `mask` (bit 0 Sunday … bit 6 Saturday).
    Week {
        /// Days of the week.
        mask: u32,
    },
    /// 0x0002: on day `day` of the month (0x000A for the Hijri calendar).
    Month {
        /// Day of the month 1–31.
        day: u32,
        /// Hijri (PatternType 0x000A).
        hijri: bool,
    },
    /// 0x0003: the `n`-th (5 = last) of the days in `mask`.
    MonthNth {
        /// Days of the week.
        mask: u32,
        /// 1–4, or 5 for the last.
        n: u32,
        /// Hijri (PatternType 0x000B).
        hijri: bool,
    },
    /// 0x0004: on day `day`, or the last day of shorter months.
    MonthEnd {
        /// Day of the month.
        day: u32,
        /// Hijri (PatternType 0x000C).
        hijri: bool,
    },
}

/// EndType.
pub const END_AFTER_DATE: u32 = 0x2021;
/// EndType.
pub const END_AFTER_N_OCCURRENCES: u32 = 0x2022;
/// EndType.
pub const END_NEVER: u32 = 0x2023;
/// EndType as some writers spell "never".
pub const END_NEVER_ALT: u32 = 0xFFFF_FFFF;
/// EndDate of a series that never ends (31 December 4500, 23:59).
pub const NO_END_DATE: u32 = 0x5AE9_80DF;

/// RecurrencePattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrencePattern {
    /// RecurFrequency.
    pub frequency: RecurFrequency,
    /// PatternType and its data.
    pub pattern: Pattern,
    /// CalendarType (0 = Gregorian).
    pub calendar_type: u16,
    /// FirstDateTime.
    pub first_date_time: u32,
    /// Period (minutes for daily, weeks, or months).
    pub period: u32,
    /// SlidingFlag (tasks only).
    pub sliding: u32,
    /// EndType.
    pub end_type: u32,
    /// OccurrenceCount.
    pub occurrence_count: u32,
    /// FirstDOW (0 = Sunday).
    pub first_dow: u32,
    /// DeletedInstanceDates: midnight of each deleted or changed instance's original date.
    pub deleted_instance_dates: Vec<u32>,
    /// ModifiedInstanceDates: midnight of each changed instance's new date.
    pub modified_instance_dates: Vec<u32>,
    /// StartDate: midnight of the first instance.
    pub start_date: u32,
    /// EndDate: midnight of the last instance, or [`NO_END_DATE`].
    pub end_date: u32,
}

/// OverrideFlags bits of an exception.
pub mod aro {
    /// Subject.
    pub const SUBJECT: u16 = 0x0001;
    /// Meeting type.
    pub const MEETINGTYPE: u16 = 0x0002;
    /// Reminder delta.
    pub const REMINDERDELTA: u16 = 0x0004;
    /// Reminder set.
    pub const REMINDER: u16 = 0x0008;
    /// Location.
    pub const LOCATION: u16 = 0x0010;
    /// Busy status.
    pub const BUSYSTATUS: u16 = 0x0020;
    /// Has attachments.
    pub const ATTACHMENT: u16 = 0x0040;
    /// All-day flag.
    pub const SUBTYPE: u16 = 0x0080;
    /// Colour.
    pub const APPTCOLOR: u16 = 0x0100;
    /// The exception's body differs.
    pub const EXCEPTIONAL_BODY: u16 = 0x0200;
}

/// ExceptionInfo with its ExtendedException.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExceptionInfo {
    /// StartDateTime (local minutes).
    pub start: u32,
    /// EndDateTime (local minutes).
    pub end: u32,
    /// OriginalStartDate (local minutes of the instance's original start).
    pub original_start: u32,
    /// Subject, when changed.
    pub subject: Option<String>,
    /// Meeting type, when changed.
    pub meeting_type: Option<u32>,
    /// Reminder delta (minutes), when changed.
    pub reminder_delta: Option<u32>,
    /// Reminder set, when changed.
    pub reminder_set: Option<u32>,
    /// Location, when changed.
    pub location: Option<String>,
    /// Busy status, when changed.
    pub busy_status: Option<u32>,
    /// Attachment flag, when changed.
    pub attachment: Option<u32>,
    /// All-day flag, when changed.
    pub subtype: Option<u32>,
    /// Colour, when changed.
    pub color: Option<u32>,
    /// ARO_EXCEPTIONAL_BODY.
    pub exceptional_body: bool,
    /// ChangeHighlight value (writer version ≥ 0x3009).
    pub change_highlight: u32,
}

impl ExceptionInfo {
    fn flags(&self) -> u16 {
        let mut f = 0;
        let mut set = |b: bool, bit: u16| {
            if b {
                f |= bit
            }
        };
        set(self.subject.is_some(), aro::SUBJECT);
        set(self.meeting_type.is_some(), aro::MEETINGTYPE);
        set(self.reminder_delta.is_some(), aro::REMINDERDELTA);
        set(self.reminder_set.is_some(), aro::REMINDER);
        set(self.location.is_some(), aro::LOCATION);
        set(self.busy_status.is_some(), aro::BUSYSTATUS);
        set(self.attachment.is_some(), aro::ATTACHMENT);
        set(self.subtype.is_some(), aro::SUBTYPE);
        set(self.color.is_some(), aro::APPTCOLOR);
        set(self.exceptional_body, aro::EXCEPTIONAL_BODY);
        f
    }
}

/// AppointmentRecurrencePattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRecurrencePattern {
    /// The recurrence.
    pub recurrence: RecurrencePattern,
    /// WriterVersion2 (0x3008 or 0x3009; 0x3009 carries ChangeHighlight).
    pub writer_version2: u32,
    /// StartTimeOffset: minutes after midnight of each instance's start.
    pub start_time_offset: u32,
    /// EndTimeOffset: `start_time_offset` plus the duration in minutes.
    pub end_time_offset: u32,
    /// Changed instances.
    pub exceptions: Vec<ExceptionInfo>,
}

/// Most entries read from any one list of a pattern.
pub const MAX_LIST: usize = 10_000;

fn put16(o: &mut Vec<u8>, v: u16) {
    o.extend_from_slice(&v.to_le_bytes());
}
fn put32(o: &mut Vec<u8>, v: u32) {
    o.extend_from_slice(&v.to_le_bytes());
}

impl RecurrencePattern {
    /// The binary form.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Vec::new();
        self.write(&mut o);
        o
    }

    fn write(&self, o: &mut Vec<u8>) {
        put16(o, 0x3004);
        put16(o, 0x3004);
        put16(o, self.frequency.code());
        let (ptype, specific): (u16, Vec<u32>) = match self.pattern {
            Pattern::Day => (0x0000, vec![]),
            Pattern::Week { mask } => (0x0001, vec![mask]),
            Pattern::Month { day, hijri } => (if hijri { 0x000A } else { 0x0002 }, vec![day]),
            Pattern::MonthNth { mask, n, hijri } => {
                (if hijri { 0x000B } else { 0x0003 }, vec![mask, n])
            }
            Pattern::MonthEnd { day, hijri } => (if hijri { 0x000C } else { 0x0004 }, vec![day]),
        };
        put16(o, ptype);
        put16(o, self.calendar_type);
        put32(o, self.first_date_time);
        put32(o, self.period);
        put32(o, self.sliding);
        for v in specific {
            put32(o, v);
        }
        put32(o, self.end_type);
        put32(o, self.occurrence_count);
        put32(o, self.first_dow);
        put32(
            o,
            u32::try_from(self.deleted_instance_dates.len()).unwrap_or(0),
        );
        for d in &self.deleted_instance_dates {
            put32(o, *d);
        }
        put32(
            o,
            u32::try_from(self.modified_instance_dates.len()).unwrap_or(0),
        );
        for d in &self.modified_instance_dates {
            put32(o, *d);
        }
        put32(o, self.start_date);
        put32(o, self.end_date);
    }

    /// Reads the binary form (trailing bytes are ignored).
    pub fn decode(b: &[u8]) -> Result<RecurrencePattern, BlobError> {
        let mut r = Reader::new(b, "RecurrencePattern");
        RecurrencePattern::read(&mut r)
    }

    fn read(r: &mut Reader<'_>) -> Result<RecurrencePattern, BlobError> {
        let reader_version = r.u16()?;
        if reader_version != 0x3004 {
            return Err(r.error(&format!(
                "ReaderVersion 0x{reader_version:04X}, expected 0x3004"
            )));
        }
        r.u16()?;
        let fc = r.u16()?;
        let frequency = RecurFrequency::from_code(fc)
            .ok_or_else(|| r.error(&format!("RecurFrequency 0x{fc:04X}")))?;
        let ptype = r.u16()?;
        let calendar_type = r.u16()?;
        let first_date_time = r.u32()?;
        let period = r.u32()?;
        let sliding = r.u32()?;
        let pattern = match ptype {
            0x0000 => Pattern::Day,
            0x0001 => Pattern::Week { mask: r.u32()? },
            0x0002 | 0x000A => Pattern::Month {
                day: r.u32()?,
                hijri: ptype == 0x000A,
            },
            0x0003 | 0x000B => Pattern::MonthNth {
                mask: r.u32()?,
                n: r.u32()?,
                hijri: ptype == 0x000B,
            },
            0x0004 | 0x000C => Pattern::MonthEnd {
                day: r.u32()?,
                hijri: ptype == 0x000C,
            },
            t => return Err(r.error(&format!("PatternType 0x{t:04X}"))),
        };
        let end_type = r.u32()?;
        let occurrence_count = r.u32()?;
        let first_dow = r.u32()?;
        let deleted_instance_dates = read_list(r)?;
        let modified_instance_dates = read_list(r)?;
        let start_date = r.u32()?;
        let end_date = r.u32()?;
        Ok(RecurrencePattern {
            frequency,
            pattern,
            calendar_type,
            first_date_time,
            period,
            sliding,
            end_type,
            occurrence_count,
            first_dow,
            deleted_instance_dates,
            modified_instance_dates,
            start_date,
            end_date,
        })
    }

    /// Whether the series ends.
    pub fn ends(&self) -> bool {
        matches!(self.end_type, END_AFTER_DATE | END_AFTER_N_OCCURRENCES)
    }
}

fn read_list(r: &mut Reader<'_>) -> Result<Vec<u32>, BlobError> {
    let n = r.u32()? as usize;
    if n > MAX_LIST || n * 4 > r.remaining() {
        return Err(r.error(&format!("a list of {n} entries does not fit")));
    }
    (0..n).map(|_| r.u32()).collect()
}

fn read_ansi(r: &mut Reader<'_>) -> Result<String, BlobError> {
    let _len = r.u16()?;
    let len2 = usize::from(r.u16()?);
    Ok(r.take(len2)?.iter().map(|b| char::from(*b)).collect())
}

fn write_ansi(o: &mut Vec<u8>, s: &str) {
    let bytes: Vec<u8> = s
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .take(0xFFFE)
        .collect();
    let n = u16::try_from(bytes.len()).unwrap_or(0);
    put16(o, n + 1);
    put16(o, n);
    o.extend_from_slice(&bytes);
}

fn read_wide(r: &mut Reader<'_>) -> Result<String, BlobError> {
    let n = usize::from(r.u16()?);
    let units: Vec<u16> = (0..n).map(|_| r.u16()).collect::<Result<_, _>>()?;
    Ok(String::from_utf16_lossy(&units))
}

fn write_wide(o: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(0xFFFF).collect();
    put16(o, u16::try_from(units.len()).unwrap_or(0));
    for u in units {
        put16(o, u);
    }
}

impl AppointmentRecurrencePattern {
    /// The binary form.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Vec::new();
        self.recurrence.write(&mut o);
        put32(&mut o, 0x3006);
        put32(&mut o, self.writer_version2);
        put32(&mut o, self.start_time_offset);
        put32(&mut o, self.end_time_offset);
        put16(&mut o, u16::try_from(self.exceptions.len()).unwrap_or(0));
        for e in &self.exceptions {
            put32(&mut o, e.start);
            put32(&mut o, e.end);
            put32(&mut o, e.original_start);
            put16(&mut o, e.flags());
            if let Some(s) = &e.subject {
                write_ansi(&mut o, s);
            }
            for v in [e.meeting_type, e.reminder_delta, e.reminder_set]
                .into_iter()
                .flatten()
            {
                put32(&mut o, v);
            }
            if let Some(s) = &e.location {
                write_ansi(&mut o, s);
            }
            for v in [e.busy_status, e.attachment, e.subtype, e.color]
                .into_iter()
                .flatten()
            {
                put32(&mut o, v);
            }
        }
        put32(&mut o, 0); // ReservedBlock1Size
        for e in &self.exceptions {
            if self.writer_version2 >= 0x3009 {
                put32(&mut o, 4);
                put32(&mut o, e.change_highlight);
            }
            put32(&mut o, 0); // ReservedBlockEE1Size
            if e.subject.is_some() || e.location.is_some() {
                put32(&mut o, e.start);
                put32(&mut o, e.end);
                put32(&mut o, e.original_start);
                if let Some(s) = &e.subject {
                    write_wide(&mut o, s);
                }
                if let Some(s) = &e.location {
                    write_wide(&mut o, s);
                }
                put32(&mut o, 0); // ReservedBlockEE2Size
            }
        }
        put32(&mut o, 0); // ReservedBlock2Size
        o
    }

    /// Reads the binary form.
    pub fn decode(b: &[u8]) -> Result<AppointmentRecurrencePattern, BlobError> {
        let mut r = Reader::new(b, "AppointmentRecurrencePattern");
        let recurrence = RecurrencePattern::read(&mut r)?;
        let rv2 = r.u32()?;
        if rv2 != 0x3006 {
            return Err(r.error(&format!("ReaderVersion2 0x{rv2:08X}, expected 0x3006")));
        }
        let writer_version2 = r.u32()?;
        let start_time_offset = r.u32()?;
        let end_time_offset = r.u32()?;
        let n = usize::from(r.u16()?);
        let mut exceptions = Vec::with_capacity(n.min(MAX_LIST));
        for _ in 0..n {
            let mut e = ExceptionInfo {
                start: r.u32()?,
                end: r.u32()?,
                original_start: r.u32()?,
                ..ExceptionInfo::default()
            };
            let f = r.u16()?;
            if f & aro::SUBJECT != 0 {
                e.subject = Some(read_ansi(&mut r)?);
            }
            if f & aro::MEETINGTYPE != 0 {
                e.meeting_type = Some(r.u32()?);
            }
            if f & aro::REMINDERDELTA != 0 {
                e.reminder_delta = Some(r.u32()?);
            }
            if f & aro::REMINDER != 0 {
                e.reminder_set = Some(r.u32()?);
            }
            if f & aro::LOCATION != 0 {
                e.location = Some(read_ansi(&mut r)?);
            }
            if f & aro::BUSYSTATUS != 0 {
                e.busy_status = Some(r.u32()?);
            }
            if f & aro::ATTACHMENT != 0 {
                e.attachment = Some(r.u32()?);
            }
            if f & aro::SUBTYPE != 0 {
                e.subtype = Some(r.u32()?);
            }
            if f & aro::APPTCOLOR != 0 {
                e.color = Some(r.u32()?);
            }
            e.exceptional_body = f & aro::EXCEPTIONAL_BODY != 0;
            exceptions.push(e);
        }
        let skip = r.u32()? as usize;
        r.take(skip)?;
        for e in &mut exceptions {
            if writer_version2 >= 0x3009 {
                let size = r.u32()? as usize;
                let block = r.take(size)?;
                if let Some(v) = block.get(..4) {
                    e.change_highlight = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                }
            }
            let skip = r.u32()? as usize;
            r.take(skip)?;
            if e.subject.is_some() || e.location.is_some() {
                r.take(12)?;
                if e.subject.is_some() {
                    e.subject = Some(read_wide(&mut r)?);
                }
                if e.location.is_some() {
                    e.location = Some(read_wide(&mut r)?);
                }
                let skip = r.u32()? as usize;
                r.take(skip)?;
            }
        }
        Ok(AppointmentRecurrencePattern {
            recurrence,
            writer_version2,
            start_time_offset,
            end_time_offset,
            exceptions,
        })
    }
}

/// Minutes since 1601-01-01 of a wall time.
pub fn minutes_of(t: NaiveDateTime) -> u32 {
    let base = NaiveDate::from_ymd_opt(1601, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    u32::try_from((t - base).num_minutes().max(0)).unwrap_or(u32::MAX)
}

/// The wall time of minutes since 1601-01-01.
pub fn time_of_minutes(m: u32) -> NaiveDateTime {
    let base = NaiveDate::from_ymd_opt(1601, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    base + Duration::minutes(i64::from(m))
}

/// FirstDateTime of a pattern ([MS-OXOCAL] 2.2.1.44.1.2) for a series
/// starting on `start` (a date) with weeks beginning on `first_dow`.
pub fn first_date_time(
    frequency: RecurFrequency,
    pattern: &Pattern,
    period: u32,
    start: NaiveDate,
    first_dow: u32,
) -> u32 {
    let period = period.max(1);
    let midnight = |d: NaiveDate| minutes_of(d.and_hms_opt(0, 0, 0).unwrap_or_default());
    match (frequency, pattern) {
        (RecurFrequency::Daily, Pattern::Day) => midnight(start) % period,
        (RecurFrequency::Daily | RecurFrequency::Weekly, _) => {
            let back = (7 + start.weekday().num_days_from_sunday() - first_dow.min(6)) % 7;
            let week_start = start - Duration::days(i64::from(back));
            let weeks = if frequency == RecurFrequency::Daily {
                1
            } else {
                period
            };
            midnight(week_start) % (weeks.saturating_mul(10_080)).max(1)
        }
        _ => {
            let months = (start.year() - 1601) * 12 + start.month0() as i32;
            let m = u32::try_from(months).unwrap_or(0) % period;
            let y = 1601 + (m / 12) as i32;
            let d = NaiveDate::from_ymd_opt(y, m % 12 + 1, 1).unwrap_or(start);
            midnight(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    // [MS-OXOCAL] 4.1.1.3: every three days from 4/7/2011 until 5/4/2011,
    // 8:00–8:30, the instances of 4/19 and 4/22 deleted.
    const DAILY: &str = "043004300A2000000000A0050000E010000000000000212000000A0000000000000002000000A0C1DC0C80D2DC0C00000000207EDC0C0016DD0C0630000009300000E0010000FE01000000000000000000000000";

    // [MS-OXOCAL] 4.1.1.x: every Monday, Thursday and Friday 10:00–10:30,
    // 12 occurrences; the instance of Monday 4/16/2007 moved to 11:00 with a
    // new subject and location.
    const WEEKLY_WITH_EXCEPTION: &str = "043004300B2001000000C0210000010000000000000032000000222000000C0000000000000001000000A096BC0C01000000A096BC0C8020BC0C20ADBC0C0630000009300000580200007602000001003499BC0C5299BC0CF898BC0C11002200210053696D706C6520526563757272656E6365207769746820657863657074696F6E730800070033342F34313431000000000400000000000000000000003499BC0C5299BC0CF898BC0C2100530069006D0070006C006500200052006500630075007200720065006E006300650020007700690074006800200065007800630065007000740069006F006E0073000700330034002F0034003100340031000000000000000000";

    #[test]
    fn the_specs_daily_example_decodes_and_re_encodes_byte_for_byte() {
        let b = hex(DAILY);
        assert_eq!(b.len(), 0x54);
        let p = AppointmentRecurrencePattern::decode(&b).unwrap();
        let r = &p.recurrence;
        assert_eq!(r.frequency, RecurFrequency::Daily);
        assert_eq!(r.pattern, Pattern::Day);
        assert_eq!(r.period, 4320);
        assert_eq!(r.first_date_time, 1440);
        assert_eq!(r.end_type, END_AFTER_DATE);
        assert_eq!(r.occurrence_count, 10);
        assert_eq!(r.deleted_instance_dates.len(), 2);
        assert_eq!(
            time_of_minutes(r.deleted_instance_dates[0]).to_string(),
            "2011-04-19 00:00:00"
        );
        assert_eq!(
            time_of_minutes(r.deleted_instance_dates[1]).to_string(),
            "2011-04-22 00:00:00"
        );
        assert_eq!(
            time_of_minutes(r.start_date).to_string(),
            "2011-04-07 00:00:00"
        );
        assert_eq!(
            time_of_minutes(r.end_date).to_string(),
            "2011-05-04 00:00:00"
        );
        assert_eq!((p.start_time_offset, p.end_time_offset), (480, 510));
        let start = NaiveDate::from_ymd_opt(2011, 4, 7).unwrap();
        assert_eq!(
            first_date_time(r.frequency, &r.pattern, r.period, start, 0),
            1440
        );
        assert_eq!(p.encode(), b);
    }

    #[test]
    fn the_specs_weekly_example_with_an_exception_round_trips() {
        let b = hex(WEEKLY_WITH_EXCEPTION);
        assert_eq!(b.len(), 0x106);
        let p = AppointmentRecurrencePattern::decode(&b).unwrap();
        let r = &p.recurrence;
        assert_eq!(r.pattern, Pattern::Week { mask: 0x32 });
        assert_eq!(
            (r.end_type, r.occurrence_count),
            (END_AFTER_N_OCCURRENCES, 12)
        );
        assert_eq!(r.first_date_time, 8640);
        assert_eq!(
            first_date_time(
                r.frequency,
                &r.pattern,
                r.period,
                time_of_minutes(r.start_date).date(),
                0
            ),
            8640
        );
        assert_eq!(p.exceptions.len(), 1);
        let e = &p.exceptions[0];
        assert_eq!(
            e.subject.as_deref(),
            Some("Simple Recurrence with exceptions")
        );
        assert_eq!(e.location.as_deref(), Some("34/4141"));
        assert_eq!(time_of_minutes(e.start).to_string(), "2007-04-16 11:00:00");
        assert_eq!(
            time_of_minutes(e.original_start).to_string(),
            "2007-04-16 10:00:00"
        );
        assert_eq!(p.encode(), b);
    }

    #[test]
    fn truncated_patterns_are_errors_not_panics() {
        let b = hex(WEEKLY_WITH_EXCEPTION);
        for cut in 0..b.len() - 4 {
            assert!(
                AppointmentRecurrencePattern::decode(&b[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }
}
