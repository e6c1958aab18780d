//! Byte values of WBXML 1.3 (WAP-192-WBXML) that EAS documents use.

/// Version byte of WBXML 1.3.
pub(crate) const VERSION_1_3: u8 = 0x03;
/// Public identifier "unknown or missing", the one EAS sends.
pub(crate) const PUBLIC_ID_UNKNOWN: u32 = 0x01;
/// IANA MIBenum of UTF-8.
pub(crate) const CHARSET_UTF8: u32 = 106;

/// Global token: the next byte is the new code page.
pub(crate) const SWITCH_PAGE: u8 = 0x00;
/// Global token: closes the innermost element.
pub(crate) const END: u8 = 0x01;
/// Global token: a NUL-terminated inline string follows.
pub(crate) const STR_I: u8 = 0x03;
/// Global token: an mb_u_int32 length and that many bytes follow.
pub(crate) const OPAQUE: u8 = 0xC3;

/// Tag bit: the element has content and ends with END.
pub(crate) const WITH_CONTENT: u8 = 0x40;
/// Tag bit: the element has attributes (never in EAS).
pub(crate) const WITH_ATTRIBUTES: u8 = 0x80;
/// The tag identity without the two bits.
pub(crate) const TOKEN_MASK: u8 = 0x3F;

/// The WBXML name of a global token EAS does not use, or `None` for the
/// ones it does and for tag bytes.
pub(crate) fn unsupported_token_name(byte: u8) -> Option<&'static str> {
    Some(match byte {
        0x02 => "ENTITY",
        0x04 => "LITERAL",
        0x40 => "EXT_I_0",
        0x41 => "EXT_I_1",
        0x42 => "EXT_I_2",
        0x43 => "PI",
        0x44 => "LITERAL_C",
        0x80 => "EXT_T_0",
        0x81 => "EXT_T_1",
        0x82 => "EXT_T_2",
        0x83 => "STR_T",
        0x84 => "LITERAL_A",
        0xC0 => "EXT_0",
        0xC1 => "EXT_1",
        0xC2 => "EXT_2",
        0xC4 => "LITERAL_AC",
        _ => return None,
    })
}

/// Appends `value` as an mb_u_int32.
pub(crate) fn put_mb_u32(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; 5];
    let mut n = 0;
    let mut rest = value;
    loop {
        groups[n] = (rest & 0x7F) as u8;
        n += 1;
        rest >>= 7;
        if rest == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        let more = if i == 0 { 0 } else { 0x80 };
        out.push(groups[i] | more);
    }
}
