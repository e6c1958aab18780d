//! GUIDs as MAPI stores them: 16 bytes, the first three fields little-endian
//! ([MS-DTYP] 2.3.4.1), written in text as `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`.

use std::fmt;
use std::str::FromStr;

/// A GUID in its wire form: `Data1` (u32 LE), `Data2` (u16 LE), `Data3`
/// (u16 LE), `Data4` (8 bytes in order).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The all-zero GUID.
    pub const NIL: Guid = Guid([0; 16]);

    /// A GUID from its text fields, as written `{d1-d2-d3-d4[0..2]-d4[2..8]}`.
    pub const fn from_fields(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Guid {
        let a = d1.to_le_bytes();
        let b = d2.to_le_bytes();
        let c = d3.to_le_bytes();
        Guid([
            a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4],
            d4[5], d4[6], d4[7],
        ])
    }

    /// The 16 bytes in wire order.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// `Data1`.
    pub fn data1(&self) -> u32 {
        u32::from_le_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// `Data2`.
    pub fn data2(&self) -> u16 {
        u16::from_le_bytes([self.0[4], self.0[5]])
    }

    /// `Data3`.
    pub fn data3(&self) -> u16 {
        u16::from_le_bytes([self.0[6], self.0[7]])
    }
}

impl fmt::Display for Guid {
    /// Upper-case, with braces, as [MS-OXPROPS] writes property sets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(
            f,
            "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
            self.data1(),
            self.data2(),
            self.data3(),
            d[8],
            d[9],
            d[10],
            d[11],
            d[12],
            d[13],
            d[14],
            d[15]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A string is not a GUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a GUID: {0:?} (expected XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX, braces optional)")]
pub struct GuidParseError(pub String);

impl FromStr for Guid {
    type Err = GuidParseError;

    /// Accepts `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` with or without braces,
    /// in either case.
    fn from_str(s: &str) -> Result<Guid, GuidParseError> {
        let err = || GuidParseError(s.chars().take(64).collect());
        let t = s.trim();
        let t = match t.strip_prefix('{') {
            Some(inner) => inner.strip_suffix('}').ok_or_else(err)?,
            None => t,
        };
        let parts: Vec<&str> = t.split('-').collect();
        let [p1, p2, p3, p4, p5] = parts.as_slice() else {
            return Err(err());
        };
        if p1.len() != 8 || p2.len() != 4 || p3.len() != 4 || p4.len() != 4 || p5.len() != 12 {
            return Err(err());
        }
        let hex_ok = |p: &str| p.bytes().all(|b| b.is_ascii_hexdigit());
        if ![p1, p2, p3, p4, p5].iter().all(|p| hex_ok(p)) {
            return Err(err());
        }
        let d1 = u32::from_str_radix(p1, 16).map_err(|_| err())?;
        let d2 = u16::from_str_radix(p2, 16).map_err(|_| err())?;
        let d3 = u16::from_str_radix(p3, 16).map_err(|_| err())?;
        let tail = format!("{p4}{p5}");
        let mut d4 = [0u8; 8];
        for (i, b) in d4.iter_mut().enumerate() {
            *b = u8::from_str_radix(tail.get(2 * i..2 * i + 2).ok_or_else(err)?, 16)
                .map_err(|_| err())?;
        }
        Ok(Guid::from_fields(d1, d2, d3, d4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn psetid_appointment_has_its_documented_wire_bytes() {
        let g: Guid = "{00062002-0000-0000-C000-000000000046}".parse().unwrap();
        assert_eq!(
            g.0,
            [
                0x02, 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x46
            ]
        );
        assert_eq!(g.to_string(), "{00062002-0000-0000-C000-000000000046}");
    }

    #[test]
    fn text_forms_that_are_accepted_and_refused() {
        let lower: Guid = "6ed8da90-450b-101b-98da-00aa003f1305".parse().unwrap();
        assert_eq!(lower.to_string(), "{6ED8DA90-450B-101B-98DA-00AA003F1305}");
        for bad in [
            "",
            "{}",
            "{6ED8DA90-450B-101B-98DA-00AA003F1305",
            "6ED8DA90-450B-101B-98DA00AA003F1305",
            "6ED8DA90-450B-101B-98DA-00AA003F130G",
            "+ED8DA90-450B-101B-98DA-00AA003F1305",
        ] {
            assert!(bad.parse::<Guid>().is_err(), "{bad:?} was accepted");
        }
    }

    proptest! {
        #[test]
        fn text_form_round_trips(bytes in any::<[u8; 16]>()) {
            let g = Guid(bytes);
            prop_assert_eq!(g.to_string().parse::<Guid>().unwrap(), g);
        }
    }
}
