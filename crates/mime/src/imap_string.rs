//! IMAP string syntax (RFC 3501 §4.3): quoted strings, literals and NIL.

use crate::limits::MAX_QUOTED_STRING;

/// Whether `v` can be sent as a quoted string: 7-bit, no CR, LF or NUL, and
/// not overlong.
fn fits_quoted(v: &[u8]) -> bool {
    v.len() <= MAX_QUOTED_STRING
        && v.iter()
            .all(|&b| b != 0 && b != b'\r' && b != b'\n' && b < 0x80)
}

/// Appends `v` as an IMAP string: quoted when possible, else a literal.
/// NUL bytes are dropped, since no IMAP string may carry them.
pub(crate) fn write_string(out: &mut Vec<u8>, v: &[u8]) {
    if fits_quoted(v) {
        out.push(b'"');
        for &b in v {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        let clean: Vec<u8> = v.iter().copied().filter(|&b| b != 0).collect();
        out.extend_from_slice(format!("{{{}}}\r\n", clean.len()).as_bytes());
        out.extend_from_slice(&clean);
    }
}

/// Appends `v` as an IMAP nstring: the string, or `NIL` for `None`.
pub(crate) fn write_nstring(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        Some(v) => write_string(out, v),
        None => out.extend_from_slice(b"NIL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Option<&[u8]>, want: &[u8]) {
        let mut out = Vec::new();
        write_nstring(&mut out, v);
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(want));
    }

    #[test]
    fn strings_are_quoted_or_literal_as_content_requires() {
        check(None, b"NIL");
        check(Some(b""), b"\"\"");
        check(Some(b"plain"), b"\"plain\"");
        check(Some(b"a \"q\" \\b"), b"\"a \\\"q\\\" \\\\b\"");
        check(Some(b"two\r\nlines"), b"{10}\r\ntwo\r\nlines");
        check(Some("caf\u{e9}".as_bytes()), "{5}\r\ncaf\u{e9}".as_bytes());
        check(Some(b"nul\0byte"), b"{7}\r\nnulbyte");
        let long = vec![b'x'; MAX_QUOTED_STRING + 1];
        let mut want = format!("{{{}}}\r\n", long.len()).into_bytes();
        want.extend_from_slice(&long);
        check(Some(&long), &want);
    }
}
