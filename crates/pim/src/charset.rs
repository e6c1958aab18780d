//! Turning input bytes into text: UTF-8 (with or without BOM), UTF-16 with
//! a BOM, and — line by line — legacy charsets named by a `CHARSET=`
//! parameter (vCard 2.1/3.0 exports), else Windows-1252. Never fails:
//! undecodable bytes become U+FFFD and the result says it was lossy.

/// Decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// Some line was not UTF-8 and was decoded from a legacy charset.
    pub transcoded: bool,
}

/// Decodes `input` best-effort.
pub fn decode_text(input: &[u8]) -> Decoded {
    if let Some(rest) = input.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return decode_text(rest);
    }
    if let Some(rest) = input.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = input.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes);
    }
    if let Ok(s) = std::str::from_utf8(input) {
        return Decoded {
            text: s.to_owned(),
            transcoded: false,
        };
    }
    let mut text = String::with_capacity(input.len() + input.len() / 8);
    let mut transcoded = false;
    for line in input.split_inclusive(|b| *b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(s) => text.push_str(s),
            Err(_) => {
                transcoded = true;
                let decoder = line_charset(line)
                    .and_then(|c| mail_parser::decoders::charsets::map::charset_decoder(c));
                match decoder {
                    Some(d) => text.push_str(&d(line)),
                    None => text.push_str(&windows_1252(line)),
                }
            }
        }
    }
    Decoded { text, transcoded }
}

fn utf16(b: &[u8], f: fn([u8; 2]) -> u16) -> Decoded {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| f([c[0], c[1]])).collect();
    Decoded {
        text: String::from_utf16_lossy(&units),
        transcoded: true,
    }
}

/// The value of a `CHARSET=` parameter in the name part of a content line.
fn line_charset(line: &[u8]) -> Option<&[u8]> {
    let head = &line[..line.iter().position(|b| *b == b':').unwrap_or(line.len())];
    let upper: Vec<u8> = head.to_ascii_uppercase();
    let at = upper.windows(8).position(|w| w == b"CHARSET=")? + 8;
    let rest = &head[at..];
    let end = rest
        .iter()
        .position(|b| matches!(b, b';' | b':' | b',' | b'"'))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|c| !c.is_empty())
}

/// Windows-1252 (a superset of ISO-8859-1's printable range), the usual
/// charset of old Outlook and Windows address-book exports.
fn windows_1252(b: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    b.iter()
        .map(|&c| match c {
            0x80..=0x9F => HIGH[usize::from(c - 0x80)],
            _ => char::from(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_passes_through_and_a_bom_is_dropped() {
        let d = decode_text("\u{feff}BEGIN:VCARD\r\nFN:Zoë\r\n".as_bytes());
        assert_eq!(d.text, "BEGIN:VCARD\r\nFN:Zoë\r\n");
        assert!(!d.transcoded);
    }

    #[test]
    fn a_latin1_line_is_decoded_by_its_charset_parameter_and_others_stay() {
        let mut input = b"FN:Zo\xC3\xAB\r\n".to_vec();
        input.extend_from_slice(b"N;CHARSET=ISO-8859-1:M\xFCller;J\xFCrgen\r\n");
        let d = decode_text(&input);
        assert_eq!(d.text, "FN:Zoë\r\nN;CHARSET=ISO-8859-1:Müller;Jürgen\r\n");
        assert!(d.transcoded);
    }

    #[test]
    fn a_line_without_charset_falls_back_to_windows_1252() {
        let d = decode_text(b"NOTE:caf\xE9 \x80 5\r\n");
        assert_eq!(d.text, "NOTE:café € 5\r\n");
    }

    #[test]
    fn utf16_with_a_bom_is_read() {
        let mut b = vec![0xFF, 0xFE];
        for u in "FN:Åsa".encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode_text(&b).text, "FN:Åsa");
    }
}
