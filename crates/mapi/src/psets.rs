//! The well-known property sets ([MS-OXPROPS] 1.3.2).

use crate::guid::Guid;

const C0_46: [u8; 8] = [0xC0, 0, 0, 0, 0, 0, 0, 0x46];

/// PSETID_Appointment `{00062002-0000-0000-C000-000000000046}`.
pub const APPOINTMENT: Guid = Guid::from_fields(0x0006_2002, 0, 0, C0_46);
/// PSETID_Task `{00062003-0000-0000-C000-000000000046}`.
pub const TASK: Guid = Guid::from_fields(0x0006_2003, 0, 0, C0_46);
/// PSETID_Address (contacts) `{00062004-0000-0000-C000-000000000046}`.
pub const ADDRESS: Guid = Guid::from_fields(0x0006_2004, 0, 0, C0_46);
/// PSETID_Common `{00062008-0000-0000-C000-000000000046}`.
pub const COMMON: Guid = Guid::from_fields(0x0006_2008, 0, 0, C0_46);
/// PSETID_Log (journal) `{0006200A-0000-0000-C000-000000000046}`.
pub const LOG: Guid = Guid::from_fields(0x0006_200A, 0, 0, C0_46);
/// PSETID_Note `{0006200E-0000-0000-C000-000000000046}`.
pub const NOTE: Guid = Guid::from_fields(0x0006_200E, 0, 0, C0_46);
/// PSETID_Meeting `{6ED8DA90-450B-101B-98DA-00AA003F1305}`.
pub const MEETING: Guid = Guid::from_fields(
    0x6ED8_DA90,
    0x450B,
    0x101B,
    [0x98, 0xDA, 0x00, 0xAA, 0x00, 0x3F, 0x13, 0x05],
);
/// PS_MAPI `{00020328-0000-0000-C000-000000000046}`: a LID in this set is
/// the id of the tagged property of the same number.
pub const MAPI: Guid = Guid::from_fields(0x0002_0328, 0, 0, C0_46);
/// PS_PUBLIC_STRINGS `{00020329-0000-0000-C000-000000000046}`.
pub const PUBLIC_STRINGS: Guid = Guid::from_fields(0x0002_0329, 0, 0, C0_46);
/// PS_INTERNET_HEADERS `{00020386-0000-0000-C000-000000000046}`: string
/// names are lower-case Internet header names.
pub const INTERNET_HEADERS: Guid = Guid::from_fields(0x0002_0386, 0, 0, C0_46);

/// Every set above with its [MS-OXPROPS] name.
pub const ALL: &[(&str, Guid)] = &[
    ("PSETID_Appointment", APPOINTMENT),
    ("PSETID_Task", TASK),
    ("PSETID_Address", ADDRESS),
    ("PSETID_Common", COMMON),
    ("PSETID_Log", LOG),
    ("PSETID_Note", NOTE),
    ("PSETID_Meeting", MEETING),
    ("PS_MAPI", MAPI),
    ("PS_PUBLIC_STRINGS", PUBLIC_STRINGS),
    ("PS_INTERNET_HEADERS", INTERNET_HEADERS),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sets_have_their_documented_text_forms() {
        let want = [
            (
                "PSETID_Appointment",
                "{00062002-0000-0000-C000-000000000046}",
            ),
            ("PSETID_Task", "{00062003-0000-0000-C000-000000000046}"),
            ("PSETID_Address", "{00062004-0000-0000-C000-000000000046}"),
            ("PSETID_Common", "{00062008-0000-0000-C000-000000000046}"),
            ("PSETID_Log", "{0006200A-0000-0000-C000-000000000046}"),
            ("PSETID_Note", "{0006200E-0000-0000-C000-000000000046}"),
            ("PSETID_Meeting", "{6ED8DA90-450B-101B-98DA-00AA003F1305}"),
            ("PS_MAPI", "{00020328-0000-0000-C000-000000000046}"),
            (
                "PS_PUBLIC_STRINGS",
                "{00020329-0000-0000-C000-000000000046}",
            ),
            (
                "PS_INTERNET_HEADERS",
                "{00020386-0000-0000-C000-000000000046}",
            ),
        ];
        assert_eq!(ALL.len(), want.len());
        for ((name, guid), (wname, wtext)) in ALL.iter().zip(want) {
            assert_eq!(*name, wname);
            assert_eq!(guid.to_string(), wtext, "{name}");
        }
    }
}
