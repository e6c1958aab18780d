//! TIME_ZONE_INFORMATION, the zone of an ActiveSync calendar item
//! ([MS-ASCAL] 2.2.2.46 Timezone, base64 of 172 bytes): the bias, the
//! standard and daylight names (32 UTF-16 units each) and the two yearly
//! transition rules, laid out as Windows' `TIME_ZONE_INFORMATION`.

use super::tzdef::{Reader, TZRULE_FLAG_EFFECTIVE_TZREG};
use super::{SystemTime, TzDefinition, TzReg, TzRule, zone_for_tzid};
use crate::error::BlobError;
use crate::recur::Zone;

/// Size of TIME_ZONE_INFORMATION.
pub const TZINFO_SIZE: usize = 172;

/// UTF-16 units of each name field.
const NAME_UNITS: usize = 32;

/// A TIME_ZONE_INFORMATION: names and one yearly rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeZoneInformation {
    /// StandardName (at most 31 UTF-16 units are kept).
    pub standard_name: String,
    /// DaylightName.
    pub daylight_name: String,
    /// Bias, StandardBias, DaylightBias and the two transition dates.
    pub reg: TzReg,
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    let units: Vec<u16> = name.encode_utf16().take(NAME_UNITS - 1).collect();
    for i in 0..NAME_UNITS {
        out.extend_from_slice(&units.get(i).copied().unwrap_or(0).to_le_bytes());
    }
}

fn read_name(r: &mut Reader<'_>) -> Result<String, BlobError> {
    let units: Vec<u16> = (0..NAME_UNITS).map(|_| r.u16()).collect::<Result<_, _>>()?;
    let len = units.iter().position(|u| *u == 0).unwrap_or(NAME_UNITS);
    Ok(String::from_utf16_lossy(&units[..len]))
}

impl TimeZoneInformation {
    /// The 172-byte form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TZINFO_SIZE);
        out.extend_from_slice(&self.reg.bias.to_le_bytes());
        write_name(&mut out, &self.standard_name);
        self.reg.standard_date.write(&mut out);
        out.extend_from_slice(&self.reg.standard_bias.to_le_bytes());
        write_name(&mut out, &self.daylight_name);
        self.reg.daylight_date.write(&mut out);
        out.extend_from_slice(&self.reg.daylight_bias.to_le_bytes());
        out
    }

    /// Reads the 172-byte form (trailing bytes are ignored).
    pub fn decode(b: &[u8]) -> Result<TimeZoneInformation, BlobError> {
        let mut r = Reader::new(b, "TIME_ZONE_INFORMATION");
        let bias = r.i32()?;
        let standard_name = read_name(&mut r)?;
        let standard_date = SystemTime::read(&mut r)?;
        let standard_bias = r.i32()?;
        let daylight_name = read_name(&mut r)?;
        let daylight_date = SystemTime::read(&mut r)?;
        let daylight_bias = r.i32()?;
        for (what, v) in [
            ("Bias", bias),
            ("StandardBias", standard_bias),
            ("DaylightBias", daylight_bias),
        ] {
            if v.abs() > 24 * 60 {
                return Err(r.error(&format!("{what} {v} is more than a day")));
            }
        }
        Ok(TimeZoneInformation {
            standard_name,
            daylight_name,
            reg: TzReg {
                bias,
                standard_bias,
                daylight_bias,
                standard_date,
                daylight_date,
            },
        })
    }

    /// The rules of `zone` in `year`, named by its Windows key name (UTC
    /// for UTC and floating times).
    pub fn of_zone(zone: &Zone, year: i32) -> TimeZoneInformation {
        let (name, reg) = match zone {
            Zone::Iana(tz) => (
                super::windows_name_for(*tz, year)
                    .unwrap_or(tz.name())
                    .to_owned(),
                TzReg::of_zone(*tz, year),
            ),
            Zone::Rules(d) => (
                d.key_name.clone(),
                d.rule_for_year(year).map(|r| r.reg).unwrap_or_default(),
            ),
            Zone::Fixed(m) => (
                String::new(),
                TzReg {
                    bias: -m,
                    ..TzReg::default()
                },
            ),
            Zone::Utc | Zone::Floating => ("UTC".to_owned(), TzReg::default()),
        };
        let daylight_name = if reg.has_dst() {
            name.replace("Standard", "Daylight")
        } else {
            name.clone()
        };
        TimeZoneInformation {
            standard_name: name,
            daylight_name,
            reg,
        }
    }

    /// The zone these rules stand for (see [`zone_of_rules`]); UTC for a
    /// zone without offset or daylight time, whatever its name.
    pub fn zone(&self, year: i32) -> Zone {
        if !self.reg.has_dst() && self.reg.standard_offset() == 0 {
            return Zone::Utc;
        }
        zone_of_rules(&self.reg, &self.standard_name, year)
    }
}

/// Whether two rules give the same offsets and change at the same times
/// (seconds and milliseconds of the transitions, and how the bias is split
/// between Bias and StandardBias, do not count).
fn same_rules(a: &TzReg, b: &TzReg) -> bool {
    let when = |s: &SystemTime| (s.month, s.day_of_week, s.day, s.hour, s.minute);
    a.standard_offset() == b.standard_offset()
        && a.has_dst() == b.has_dst()
        && (!a.has_dst()
            || (a.daylight_offset() == b.daylight_offset()
                && when(&a.standard_date) == when(&b.standard_date)
                && when(&a.daylight_date) == when(&b.daylight_date)))
}

/// The zone of a yearly rule that came with a name (a TZID, a Windows key
/// name, or a client's display name): the zone the name resolves to when
/// its rules in `year` are these, else the first Windows zone with these
/// rules, else a fixed offset (UTC for none) when there is no daylight
/// time, else the rules themselves under `name`.
pub fn zone_of_rules(reg: &TzReg, name: &str, year: i32) -> Zone {
    if let Some(z) = zone_for_tzid(name)
        && same_rules(&TzReg::of_zone(z, year), reg)
    {
        return Zone::Iana(z);
    }
    for (_, iana) in super::windows::WINDOWS_TO_IANA {
        if let Ok(z) = iana.parse::<chrono_tz::Tz>()
            && same_rules(&TzReg::of_zone(z, year), reg)
        {
            return Zone::Iana(z);
        }
    }
    if !reg.has_dst() {
        return match reg.standard_offset() {
            0 => Zone::Utc,
            m => Zone::Fixed(m),
        };
    }
    Zone::Rules(TzDefinition {
        key_name: if name.trim().is_empty() {
            "Custom".to_owned()
        } else {
            name.to_owned()
        },
        rules: vec![TzRule {
            flags: TZRULE_FLAG_EFFECTIVE_TZREG,
            start_year: 1601,
            reg: *reg,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn berlin_is_written_with_its_rules_and_read_back_as_berlin() {
        let z = Zone::Iana(chrono_tz::Europe::Berlin);
        let info = TimeZoneInformation::of_zone(&z, 2026);
        let bytes = info.encode();
        assert_eq!(bytes.len(), TZINFO_SIZE);
        // Bias −60 (one hour east), DaylightBias −60, daylight from the
        // last Sunday of March at 02:00, standard from the last Sunday of
        // October at 03:00.
        assert_eq!(&bytes[0..4], &(-60i32).to_le_bytes());
        let back = TimeZoneInformation::decode(&bytes).unwrap();
        assert_eq!(back, info);
        assert_eq!(back.reg.daylight_bias, -60);
        assert_eq!(
            (back.reg.daylight_date.month, back.reg.daylight_date.day),
            (3, 5)
        );
        assert_eq!(
            (back.reg.standard_date.month, back.reg.standard_date.hour),
            (10, 3)
        );
        assert_eq!(back.standard_name, "W. Europe Standard Time");
        assert_eq!(back.daylight_name, "W. Europe Daylight Time");
        assert_eq!(back.zone(2026), z);
    }

    #[test]
    fn a_client_blob_with_an_unknown_name_is_matched_by_its_rules() {
        let mut info = TimeZoneInformation::of_zone(&Zone::Iana(chrono_tz::Europe::Berlin), 2026);
        info.standard_name = "Mitteleuropäische Zeit".into();
        info.reg.standard_date.milliseconds = 0;
        let z = TimeZoneInformation::decode(&info.encode())
            .unwrap()
            .zone(2026);
        // Some zone with Berlin's rules: 09:00 local is 08:00 UTC in winter
        // and 07:00 UTC in summer.
        let at = |m, d| {
            NaiveDate::from_ymd_opt(2027, m, d)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap()
        };
        assert_eq!(z.to_utc(at(1, 4), &Zone::Utc) % 86_400, 8 * 3600);
        assert_eq!(z.to_utc(at(7, 5), &Zone::Utc) % 86_400, 7 * 3600);
    }

    #[test]
    fn zero_bias_is_utc_and_odd_rules_keep_their_own_rules() {
        assert_eq!(
            TimeZoneInformation::decode(&[0u8; TZINFO_SIZE])
                .unwrap()
                .zone(2026),
            Zone::Utc
        );
        let mut info = TimeZoneInformation::of_zone(&Zone::Iana(chrono_tz::Europe::Berlin), 2026);
        info.reg.bias = -17;
        info.standard_name = "Odd".into();
        assert!(matches!(info.zone(2026), Zone::Rules(d) if d.key_name == "Odd"));
        info.reg.daylight_date.month = 0;
        assert_eq!(info.zone(2026), Zone::Fixed(17));
    }

    #[test]
    fn short_or_absurd_blobs_are_errors() {
        assert!(TimeZoneInformation::decode(&[0u8; 100]).is_err());
        let mut b = vec![0u8; TZINFO_SIZE];
        b[0..4].copy_from_slice(&100_000i32.to_le_bytes());
        assert!(TimeZoneInformation::decode(&b).is_err());
    }
}
