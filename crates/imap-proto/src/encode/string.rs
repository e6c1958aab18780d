//! Writing strings as atom, quoted string or literal, whichever the content
//! allows (RFC 9051 §4.3), plus response text.

use crate::lexer::{is_astring_char, is_atom_char};
use crate::num::write_u64;

/// True when `bytes` can go in a quoted string: no CR, LF or NUL, and
/// 8-bit bytes only as valid UTF-8 when `utf8` is allowed (UTF8=ACCEPT,
/// IMAP4rev2).
pub(crate) fn is_quotable(bytes: &[u8], utf8: bool) -> bool {
    let mut eight_bit = false;
    for &b in bytes {
        match b {
            0 | b'\r' | b'\n' => return false,
            0x80.. => eight_bit = true,
            _ => {}
        }
    }
    !eight_bit || (utf8 && std::str::from_utf8(bytes).is_ok())
}

/// Writes `"..."` escaping `"` and `\` (the caller checked quotability).
pub(crate) fn write_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    for &b in bytes {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Writes a literal header `{N}\r\n` (or `~{N}\r\n` for binary data).
pub(crate) fn write_literal_header(out: &mut Vec<u8>, len: u64, binary: bool) {
    if binary {
        out.push(b'~');
    }
    out.push(b'{');
    write_u64(out, len);
    out.extend_from_slice(b"}\r\n");
}

/// Writes `bytes` as a quoted string when possible, else as a literal.
/// No IMAP string may hold NUL (RFC 9051 §4.3) and a binary literal is
/// allowed only in BINARY responses, so a NUL is sent as 0x80, as Dovecot
/// does (the size stays the same; the stored bytes are not changed).
pub(crate) fn write_string(out: &mut Vec<u8>, bytes: &[u8], utf8: bool) {
    if is_quotable(bytes, utf8) {
        write_quoted(out, bytes);
    } else {
        write_literal_header(out, bytes.len() as u64, false);
        out.extend_from_slice(&without_nul(bytes));
    }
}

/// `bytes` with every NUL replaced by 0x80: what a non-binary literal
/// carries of data that holds NUL (borrowed when there is none).
pub fn without_nul(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if bytes.contains(&0) {
        std::borrow::Cow::Owned(
            bytes
                .iter()
                .map(|&b| if b == 0 { 0x80 } else { b })
                .collect(),
        )
    } else {
        std::borrow::Cow::Borrowed(bytes)
    }
}

/// BINARY section data: a binary literal `~{N}` when it holds NUL (RFC
/// 3516), else as any string; `NIL` for none.
pub(crate) fn write_binary_nstring(out: &mut Vec<u8>, bytes: Option<&[u8]>, utf8: bool) {
    match bytes {
        Some(b) if b.contains(&0) => {
            write_literal_header(out, b.len() as u64, true);
            out.extend_from_slice(b);
        }
        other => write_nstring(out, other, utf8),
    }
}

/// Writes a string or `NIL`.
pub(crate) fn write_nstring(out: &mut Vec<u8>, bytes: Option<&[u8]>, utf8: bool) {
    match bytes {
        Some(b) => write_string(out, b, utf8),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// Writes `bytes` as an atom when it is a plain astring-atom (and not
/// `NIL`, which would read back as nil in nstring places), else as a string.
pub(crate) fn write_astring(out: &mut Vec<u8>, bytes: &[u8], utf8: bool) {
    if !bytes.is_empty()
        && bytes.iter().all(|&b| is_astring_char(b))
        && !bytes.eq_ignore_ascii_case(b"NIL")
    {
        out.extend_from_slice(bytes);
    } else {
        write_string(out, bytes, utf8);
    }
}

/// True when `bytes` can be written as an atom.
pub(crate) fn is_atom(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_atom_char(b))
}

/// Writes human-readable response text: CR, LF and NUL become SP so a
/// text built from client input cannot end the line early.
pub(crate) fn write_text(out: &mut Vec<u8>, text: &str) {
    out.extend(text.bytes().map(|b| {
        if matches!(b, b'\r' | b'\n' | 0) {
            b' '
        } else {
            b
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(bytes: &[u8], utf8: bool) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, bytes, utf8);
        out
    }

    #[test]
    fn strings_choose_quoted_or_literal_by_content() {
        assert_eq!(string(b"hello world", false), b"\"hello world\"");
        assert_eq!(
            string(b"say \"hi\" \\o/", false),
            b"\"say \\\"hi\\\" \\\\o/\""
        );
        assert_eq!(string(b"", false), b"\"\"");
        assert_eq!(string(b"two\r\nlines", false), b"{10}\r\ntwo\r\nlines");
        assert_eq!(string("Grüße".as_bytes(), false), "{7}\r\nGrüße".as_bytes());
        assert_eq!(string("Grüße".as_bytes(), true), "\"Grüße\"".as_bytes());
        assert_eq!(string(b"\xff", true), b"{1}\r\n\xff");
        assert_eq!(string(b"a\0b", false), b"{3}\r\na\x80b");
    }

    #[test]
    fn astrings_use_atoms_except_for_nil_and_specials() {
        let astring = |b: &[u8]| {
            let mut out = Vec::new();
            write_astring(&mut out, b, false);
            out
        };
        assert_eq!(astring(b"INBOX"), b"INBOX");
        assert_eq!(astring(b"nil"), b"\"nil\"");
        assert_eq!(astring(b"a b"), b"\"a b\"");
        assert_eq!(astring(b"a]"), b"a]");
    }

    #[test]
    fn response_text_cannot_break_the_line() {
        let mut out = Vec::new();
        write_text(&mut out, "bad\r\n* OK injected\0");
        assert_eq!(out, b"bad  * OK injected ");
    }
}
