//! Time zones: Windows key names ↔ IANA names ([`windows`]), the binary
//! TZREG/TZDEFINITION structures ([`tzdef`]), ActiveSync's
//! TIME_ZONE_INFORMATION ([`tzinfo`]), and resolving an iCalendar
//! TZID to a zone of the tz database (chrono-tz).

pub mod tzdef;
pub mod tzinfo;
pub mod windows;

use chrono_tz::Tz;
use std::str::FromStr;
pub use tzdef::{SystemTime, TzDefinition, TzReg, TzRule};
pub use tzinfo::{TimeZoneInformation, zone_of_rules};

/// The IANA zone of a TZID: an IANA name (any case), a Windows key name,
/// or one of the other spellings calcard knows (Outlook's display names,
/// `/mozilla.org/…` prefixes, CDO zone numbers are not TZIDs).
pub fn zone_for_tzid(tzid: &str) -> Option<Tz> {
    let t = tzid.trim().trim_matches('"');
    if let Ok(tz) = Tz::from_str(t) {
        return Some(tz);
    }
    if let Some(tz) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|z| z.name().eq_ignore_ascii_case(t))
    {
        return Some(*tz);
    }
    if let Some(iana) = windows::windows_to_iana(t)
        && let Ok(tz) = Tz::from_str(iana)
    {
        return Some(tz);
    }
    match calcard::common::timezone::Tz::from_str(t) {
        Ok(calcard::common::timezone::Tz::Tz(tz)) => Some(tz),
        _ => None,
    }
}

/// The Windows key name of a zone: CLDR's mapping, else the first Windows
/// zone whose rules in `year` are the same (same offsets, same transitions).
pub fn windows_name_for(tz: Tz, year: i32) -> Option<&'static str> {
    if let Some(w) = windows::iana_to_windows_listed(tz.name()) {
        return Some(w);
    }
    let want = TzReg::of_zone(tz, year);
    windows::WINDOWS_TO_IANA.iter().find_map(|(w, iana)| {
        let z = Tz::from_str(iana).ok()?;
        (TzReg::of_zone(z, year) == want).then_some(*w)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tzids_of_every_common_shape_resolve() {
        for (tzid, want) in [
            ("Europe/Berlin", "Europe/Berlin"),
            ("europe/berlin", "Europe/Berlin"),
            ("W. Europe Standard Time", "Europe/Berlin"),
            ("Eastern Standard Time", "America/New_York"),
            (
                "/mozilla.org/20050126_1/America/New_York",
                "America/New_York",
            ),
            ("Romance Standard Time", "Europe/Paris"),
            ("AUS Eastern Standard Time", "Australia/Sydney"),
        ] {
            assert_eq!(zone_for_tzid(tzid).map(|z| z.name()), Some(want), "{tzid}");
        }
        assert_eq!(zone_for_tzid("Custom Zone Nobody Knows"), None);
    }

    #[test]
    fn every_windows_name_maps_to_a_zone_chrono_tz_knows_and_back() {
        for (w, iana) in windows::WINDOWS_TO_IANA {
            let tz = Tz::from_str(iana).unwrap_or_else(|_| panic!("{iana} is not in chrono-tz"));
            assert_eq!(windows_name_for(tz, 2024), Some(*w));
        }
        for (iana, w) in windows::IANA_ALIASES {
            assert!(Tz::from_str(iana).is_ok(), "{iana}");
            assert!(windows::windows_to_iana(w).is_some(), "{w}");
        }
    }

    #[test]
    fn an_unlisted_zone_is_matched_by_its_rules() {
        // Europe/Berlin's rules in 2024 are those of W. Europe Standard Time
        // (and of Central Europe …, Romance …); the first match is taken.
        let w = windows_name_for(chrono_tz::Europe::Jersey, 2024);
        assert_eq!(w, Some("GMT Standard Time"));
    }
}
