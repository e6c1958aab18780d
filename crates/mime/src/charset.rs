//! Turning bytes in some charset into UTF-8, never failing.

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::parsers::MessageStream;

/// Bytes as text: UTF-8 when valid, else Windows-1252 (a superset of
/// ISO-8859-1 for the printable range), which is what unlabelled 8-bit mail
/// most often is.
///
/// NUL characters are dropped here and in every decoder below: they are
/// never text, and consumers (C clients, SQLite text) mishandle them.
pub(crate) fn bytes_to_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => without_nul(s.to_owned()),
        Err(_) => without_nul(windows_1252(bytes)),
    }
}

fn without_nul(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "")
    } else {
        s
    }
}

fn windows_1252(bytes: &[u8]) -> String {
    match charset_decoder(b"windows-1252") {
        Some(decode) => decode(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Decodes text in the named charset (a MIME `charset` parameter) to UTF-8.
///
/// A missing or ASCII label is read as UTF-8 when the bytes are valid UTF-8
/// (common for unlabelled 8-bit mail), else as Windows-1252. An unknown
/// label is treated the same way: decoding never fails.
pub(crate) fn decode_charset(bytes: &[u8], charset: Option<&str>) -> String {
    let label = charset.map(|c| c.trim().to_ascii_lowercase());
    match label.as_deref() {
        None | Some("" | "us-ascii" | "ascii" | "us_ascii" | "ansi_x3.4-1968") => {
            bytes_to_text(bytes)
        }
        Some("utf-8" | "utf8" | "utf_8" | "unicode-1-1-utf-8") => {
            without_nul(String::from_utf8_lossy(bytes).into_owned())
        }
        Some(other) => match charset_decoder(other.as_bytes()) {
            Some(decode) => without_nul(decode(bytes)),
            None => bytes_to_text(bytes),
        },
    }
}

/// Decodes an unstructured header value: RFC 2047 encoded words are decoded
/// (B and Q, any charset the decoder knows), raw 8-bit bytes are read as
/// UTF-8 or Windows-1252, folding is removed, white space is trimmed.
pub(crate) fn decode_header_text(raw: &[u8]) -> String {
    let mut text = bytes_to_text(raw).replace(['\r', '\n'], "");
    if !text.contains("=?") {
        return text.trim().to_owned();
    }
    text.push('\n');
    match MessageStream::new(text.as_bytes()).parse_unstructured() {
        mail_parser::HeaderValue::Text(t) => without_nul(t.trim().to_owned()),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_decode_to_utf8() {
        let cases: &[(&[u8], Option<&str>, &str)] = &[
            (b"caf\xe9", Some("ISO-8859-1"), "caf\u{e9}"),
            (
                b"\x80 \x93q\x94",
                Some("windows-1252"),
                "\u{20ac} \u{201c}q\u{201d}",
            ),
            (b"\x93\xfa\x96\x7b", Some("Shift_JIS"), "\u{65e5}\u{672c}"),
            ("caf\u{e9}".as_bytes(), Some("utf-8"), "caf\u{e9}"),
            ("caf\u{e9}".as_bytes(), None, "caf\u{e9}"),
            (b"caf\xe9", None, "caf\u{e9}"),
            (b"caf\xe9", Some("x-no-such-charset"), "caf\u{e9}"),
            (b"plain", Some("us-ascii"), "plain"),
            (b"caf\xe9", Some("utf-8"), "caf\u{fffd}"),
            (b"nul\0byte", None, "nulbyte"),
        ];
        for (bytes, charset, want) in cases {
            assert_eq!(decode_charset(bytes, *charset), *want, "{charset:?}");
        }
    }

    #[test]
    fn header_text_decodes_encoded_words() {
        let cases: &[(&[u8], &str)] = &[
            (b"=?ISO-8859-1?Q?caf=E9?=", "caf\u{e9}"),
            (b"=?UTF-8?B?w6l0w6k=?=", "\u{e9}t\u{e9}"),
            (b"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"),
            (b"x =?UTF-8?Q?a?= y", "x a y"),
            (b"  plain  ", "plain"),
            (b"caf\xe9", "caf\u{e9}"),
            (b"=?bogus", "=?bogus"),
        ];
        for (raw, want) in cases {
            assert_eq!(decode_header_text(raw), *want, "{raw:?}");
        }
    }
}
