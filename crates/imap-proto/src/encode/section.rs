//! Writing body section specifiers `[1.2.HEADER.FIELDS (From To)]`, shared
//! by FETCH responses and the command serialiser.

use crate::command::{Section, SectionText};
use crate::num::write_u32;

use super::string::write_astring;

/// Writes `1.2.3` (nothing for an empty part).
pub(crate) fn write_part(out: &mut Vec<u8>, part: &[u32]) {
    for (i, n) in part.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        write_u32(out, *n);
    }
}

/// Writes `[section-spec]`.
pub(crate) fn write_section(out: &mut Vec<u8>, section: &Section) {
    out.push(b'[');
    write_part(out, &section.part);
    if let Some(text) = &section.text {
        if !section.part.is_empty() {
            out.push(b'.');
        }
        let (name, fields): (&[u8], Option<&[String]>) = match text {
            SectionText::Header => (b"HEADER", None),
            SectionText::HeaderFields(f) => (b"HEADER.FIELDS", Some(f)),
            SectionText::HeaderFieldsNot(f) => (b"HEADER.FIELDS.NOT", Some(f)),
            SectionText::Text => (b"TEXT", None),
            SectionText::Mime => (b"MIME", None),
        };
        out.extend_from_slice(name);
        if let Some(fields) = fields {
            out.extend_from_slice(b" (");
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_astring(out, f.as_bytes(), true);
            }
            out.push(b')');
        }
    }
    out.push(b']');
}

/// Writes `[1.2]` of a BINARY item.
pub(crate) fn write_binary_section(out: &mut Vec<u8>, part: &[u32]) {
    out.push(b'[');
    write_part(out, part);
    out.push(b']');
}
