//! The global object id of a meeting ([MS-OXOCAL] 2.2.1.27
//! PidLidGlobalObjectId, 2.2.1.28 PidLidCleanGlobalObjectId) and its
//! relation to the iCalendar UID ([MS-OXCICAL] 2.1.3.1.1.20.26).
//!
//! Layout: a fixed 16-byte array id, the instance date (year big-endian
//! u16, month, day; zero for the series), a FILETIME creation time, 8
//! reserved bytes, a little-endian u32 size and the data. A UID that did
//! not come from Outlook is carried as data `"vCal-Uid"`, `01 00 00 00`, the
//! UID's UTF-8 bytes and a NUL, so that the same UID always gives the same id.

use crate::error::BlobError;

/// The fixed first 16 bytes of every global object id.
pub const BYTE_ARRAY_ID: [u8; 16] = [
    0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08,
];

const VCAL_MARK: &[u8] = b"vCal-Uid\x01\x00\x00\x00";
const HEADER: usize = 16 + 4 + 8 + 8 + 4;

/// A decoded global object id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalObjectId {
    /// Year, month and day of one instance of a series (zeros for the series).
    pub instance_date: Option<(u16, u8, u8)>,
    /// Creation time as FILETIME ticks (zero when unknown).
    pub creation_time: u64,
    /// The data part.
    pub data: Vec<u8>,
}

impl GlobalObjectId {
    /// The id of an iCalendar UID: an Outlook-encoded UID (hex starting with
    /// the array id) is decoded; any other UID is wrapped as `vCal-Uid` data.
    pub fn from_uid(uid: &str) -> GlobalObjectId {
        if let Some(bytes) = hex_decode(uid)
            && let Ok(g) = GlobalObjectId::decode(&bytes)
        {
            return g;
        }
        let mut data = VCAL_MARK.to_vec();
        data.extend_from_slice(uid.as_bytes());
        data.push(0);
        GlobalObjectId {
            instance_date: None,
            creation_time: 0,
            data,
        }
    }

    /// The iCalendar UID: the wrapped UID of `vCal-Uid` data, else the
    /// upper-case hex of the clean id (as Outlook exports it).
    pub fn to_uid(&self) -> String {
        if let Some(rest) = self.data.strip_prefix(VCAL_MARK) {
            let rest = rest.strip_suffix(&[0]).unwrap_or(rest);
            if let Ok(s) = std::str::from_utf8(rest) {
                return s.to_owned();
            }
        }
        self.clean()
            .encode()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    /// The same id without an instance date (PidLidCleanGlobalObjectId).
    pub fn clean(&self) -> GlobalObjectId {
        GlobalObjectId {
            instance_date: None,
            ..self.clone()
        }
    }

    /// The id of one instance of the series, by its original start date.
    pub fn for_instance(&self, year: u16, month: u8, day: u8) -> GlobalObjectId {
        GlobalObjectId {
            instance_date: Some((year, month, day)),
            ..self.clone()
        }
    }

    /// The binary form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.data.len());
        out.extend_from_slice(&BYTE_ARRAY_ID);
        let (y, m, d) = self.instance_date.unwrap_or((0, 0, 0));
        out.extend_from_slice(&y.to_be_bytes());
        out.push(m);
        out.push(d);
        out.extend_from_slice(&self.creation_time.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        let len = u32::try_from(self.data.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&self.data);
        out
    }

    /// Reads the binary form.
    pub fn decode(b: &[u8]) -> Result<GlobalObjectId, BlobError> {
        let err = |offset, reason: &str| BlobError {
            structure: "GlobalObjectId",
            offset,
            reason: reason.into(),
        };
        if b.len() < HEADER {
            return Err(err(b.len(), "shorter than the 40-byte header"));
        }
        if b[..16] != BYTE_ARRAY_ID {
            return Err(err(0, "does not start with the global object id array"));
        }
        let y = u16::from_be_bytes([b[16], b[17]]);
        let (m, d) = (b[18], b[19]);
        let mut ct = [0u8; 8];
        ct.copy_from_slice(&b[20..28]);
        let size = u32::from_le_bytes([b[36], b[37], b[38], b[39]]) as usize;
        let data = b
            .get(HEADER..HEADER + size)
            .ok_or_else(|| err(HEADER, "data is shorter than its size field"))?;
        Ok(GlobalObjectId {
            instance_date: (y != 0 || m != 0 || d != 0).then_some((y, m, d)),
            creation_time: u64::from_le_bytes(ct),
            data: data.to_vec(),
        })
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() < 2 * HEADER
        || !s.len().is_multiple_of(2)
        || !s.starts_with("040000008200E00074C5B7101A82E008")
    {
        return None;
    }
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_uid_is_wrapped_as_vcal_uid_data() {
        let g = GlobalObjectId::from_uid("abc@example.org");
        let b = g.encode();
        assert_eq!(&b[..16], &BYTE_ARRAY_ID);
        assert_eq!(&b[16..36], &[0u8; 20]);
        assert_eq!(
            u32::from_le_bytes([b[36], b[37], b[38], b[39]]),
            12 + 15 + 1
        );
        assert_eq!(&b[40..48], b"vCal-Uid");
        assert_eq!(&b[48..52], &[1, 0, 0, 0]);
        assert_eq!(&b[52..], b"abc@example.org\0");
        assert_eq!(
            GlobalObjectId::decode(&b).unwrap().to_uid(),
            "abc@example.org"
        );
    }

    #[test]
    fn an_outlook_uid_is_its_own_hex() {
        // An id as Outlook makes it: creation time set, 16 bytes of GUID data.
        let g = GlobalObjectId {
            instance_date: None,
            creation_time: 0x01D5_0000_1234_5678,
            data: (0u8..16).collect(),
        };
        let uid = g.to_uid();
        assert!(uid.starts_with("040000008200E00074C5B7101A82E008"));
        assert_eq!(GlobalObjectId::from_uid(&uid), g);
    }

    #[test]
    fn an_instance_id_carries_its_date_and_the_clean_id_does_not() {
        let g = GlobalObjectId::from_uid("x").for_instance(2024, 3, 31);
        let b = g.encode();
        assert_eq!(&b[16..20], &[0x07, 0xE8, 3, 31]);
        let c = g.clean().encode();
        assert_eq!(&c[16..20], &[0, 0, 0, 0]);
        assert_eq!(
            GlobalObjectId::decode(&b).unwrap().instance_date,
            Some((2024, 3, 31))
        );
    }

    #[test]
    fn truncated_ids_are_errors() {
        let b = GlobalObjectId::from_uid("abc").encode();
        for cut in 0..b.len() {
            assert!(GlobalObjectId::decode(&b[..cut]).is_err());
        }
    }
}
