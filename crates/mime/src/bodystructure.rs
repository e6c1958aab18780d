//! IMAP BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2).
//!
//! Case: media type, subtype, transfer encoding, parameter names and the
//! disposition type are sent upper-case (as in the RFC examples); parameter
//! values are sent as written, since some (boundary, filename) are
//! case-sensitive.
//!
//! Broken MIME still renders as valid syntax: a multipart in which no part
//! was found holds one empty TEXT/PLAIN part; a multipart without boundary,
//! an encoded message/rfc822 and anything past the nesting limit are sent as
//! APPLICATION/OCTET-STREAM leaves; a missing or unreadable Content-Type is
//! TEXT/PLAIN with CHARSET US-ASCII.

use crate::envelope::write_envelope;
use crate::imap_string::{write_nstring, write_string};
use crate::limits::MimeLimits;
use crate::params::{Param, ParamValue};
use crate::tree::{Part, PartKind};

/// Stands in for the parts of a multipart in which none were found; a
/// multipart must list at least one part.
const EMPTY_PART: &[u8] = b"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)";

/// Writes the BODYSTRUCTURE (`extensible`) or BODY of `part`.
pub(crate) fn write_body(
    out: &mut Vec<u8>,
    raw: &[u8],
    part: &Part,
    extensible: bool,
    limits: &MimeLimits,
) {
    out.push(b'(');
    match &part.kind {
        PartKind::Multipart(children) => {
            if children.is_empty() {
                out.extend_from_slice(EMPTY_PART);
            }
            for child in children {
                write_body(out, raw, child, extensible, limits);
            }
            out.push(b' ');
            write_string(out, part.media.sub.to_ascii_uppercase().as_bytes());
            if extensible {
                out.push(b' ');
                write_params(out, &part.media.params);
                write_extension_tail(out, raw, part, limits);
            }
        }
        PartKind::Leaf | PartKind::Message(_) => write_single(out, raw, part, extensible, limits),
    }
    out.push(b')');
}

fn write_single(out: &mut Vec<u8>, raw: &[u8], part: &Part, extensible: bool, limits: &MimeLimits) {
    // A container that was not opened must not claim its container type.
    let opaque = matches!(part.kind, PartKind::Leaf)
        && (part.media.main == "multipart"
            || part.media.main == "message"
                && matches!(part.media.sub.as_str(), "rfc822" | "global"));
    let (main, sub, params): (&str, &str, &[Param]) = if opaque {
        ("application", "octet-stream", &[])
    } else {
        (&part.media.main, &part.media.sub, &part.media.params)
    };
    write_string(out, main.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    write_string(out, sub.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    write_params(out, params);
    out.push(b' ');
    write_nstring(out, part.field_value(raw, "content-id").as_deref());
    out.push(b' ');
    write_nstring(out, part.field_value(raw, "content-description").as_deref());
    out.push(b' ');
    write_string(out, part.encoding.imap_name().as_bytes());
    out.push(b' ');
    out.extend_from_slice(part.body.len().to_string().as_bytes());
    if let PartKind::Message(inner) = &part.kind {
        out.push(b' ');
        write_envelope(out, raw, &inner.fields, limits);
        out.push(b' ');
        write_body(out, raw, inner, extensible, limits);
        out.push(b' ');
        out.extend_from_slice(line_count(&raw[part.body.clone()]).to_string().as_bytes());
    } else if main == "text" {
        out.push(b' ');
        out.extend_from_slice(line_count(&raw[part.body.clone()]).to_string().as_bytes());
    }
    if extensible {
        out.push(b' ');
        write_nstring(out, part.field_value(raw, "content-md5").as_deref());
        write_extension_tail(out, raw, part, limits);
    }
}

/// ` dsp lang loc`, shared by single and multipart extension data.
fn write_extension_tail(out: &mut Vec<u8>, raw: &[u8], part: &Part, limits: &MimeLimits) {
    out.push(b' ');
    match part.disposition(raw, limits) {
        Some(ParamValue { main, params, .. }) => {
            out.push(b'(');
            write_string(out, main.to_ascii_uppercase().as_bytes());
            out.push(b' ');
            write_params(out, &params);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    write_languages(out, part.field_value(raw, "content-language").as_deref());
    out.push(b' ');
    write_nstring(out, part.field_value(raw, "content-location").as_deref());
}

fn write_params(out: &mut Vec<u8>, params: &[Param]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_string(out, p.name.to_ascii_uppercase().as_bytes());
        out.push(b' ');
        write_string(out, &p.value);
    }
    out.push(b')');
}

fn write_languages(out: &mut Vec<u8>, value: Option<&[u8]>) {
    let tags: Vec<&[u8]> = value
        .map(|v| {
            v.split(|&b| b == b',' || b.is_ascii_whitespace())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    match tags.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => write_string(out, one),
        many => {
            out.push(b'(');
            for (i, t) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_string(out, t);
            }
            out.push(b')');
        }
    }
}

/// Lines as a reader counts them: line breaks, plus a last line without one.
pub(crate) fn line_count(body: &[u8]) -> usize {
    let breaks = body.iter().filter(|&&b| b == b'\n').count();
    breaks + usize::from(body.last().is_some_and(|&b| b != b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::parse_tree;

    fn check(raw: &str, extensible: bool, want: &str) {
        let limits = MimeLimits::default();
        let tree = parse_tree(raw.as_bytes(), &limits);
        let mut out = Vec::new();
        write_body(&mut out, raw.as_bytes(), &tree, extensible, &limits);
        assert_eq!(String::from_utf8_lossy(&out), want, "{raw:?}");
    }

    #[test]
    fn missing_content_type_is_us_ascii_text() {
        check(
            "Subject: x\r\n\r\nhello\r\nworld\r\n",
            false,
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 14 2)",
        );
        check(
            "Subject: x\r\n\r\nhello",
            true,
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)",
        );
    }

    #[test]
    fn multipart_without_parts_still_lists_one() {
        check(
            "Content-Type: multipart/mixed; boundary=zz\r\n\r\nno delimiter here\r\n",
            false,
            "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0) \"MIXED\")",
        );
    }

    #[test]
    fn extension_data_carries_disposition_language_and_location() {
        check(
            "Content-Type: image/png; name=a.png\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <c1>\r\nContent-Disposition: inline; filename=\"a.png\"\r\nContent-Language: en, de\r\nContent-Location: http://x.example/a.png\r\n\r\niVBORw==",
            true,
            "(\"IMAGE\" \"PNG\" (\"NAME\" \"a.png\") \"<c1>\" NIL \"BASE64\" 8 NIL (\"INLINE\" (\"FILENAME\" \"a.png\")) (\"en\" \"de\") \"http://x.example/a.png\")",
        );
    }

    #[test]
    fn unopened_containers_are_octet_streams() {
        check(
            "Content-Type: multipart/mixed\r\n\r\nx",
            false,
            "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" 1)",
        );
    }

    #[test]
    fn line_count_counts_an_unterminated_last_line() {
        assert_eq!(line_count(b""), 0);
        assert_eq!(line_count(b"a"), 1);
        assert_eq!(line_count(b"a\r\n"), 1);
        assert_eq!(line_count(b"a\r\nb"), 2);
    }
}
