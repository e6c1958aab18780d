//! Splitting a header block into fields, keeping byte offsets into the raw message.

use std::ops::Range;

use crate::charset::bytes_to_text;
use crate::limits::MimeLimits;

/// One header field of a header block, as byte ranges into the raw message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderField {
    /// The field name, without the colon.
    pub name: Range<usize>,
    /// The raw value after the colon, up to (not including) the line break
    /// that ends the field; folding line breaks inside stay in.
    pub value: Range<usize>,
    /// The whole field from its name to after its final line break.
    pub line: Range<usize>,
}

/// A parsed header block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct HeaderBlock {
    pub fields: Vec<HeaderField>,
    /// Where the body starts: after the blank line, or at the first line that
    /// is not a header field when the blank line is missing.
    pub body_start: usize,
}

impl HeaderField {
    /// Whether the field has this name (ASCII case-insensitive).
    pub fn is(&self, raw: &[u8], name: &str) -> bool {
        raw[self.name.clone()].eq_ignore_ascii_case(name.as_bytes())
    }
}

/// Whether a byte may appear in a field name (RFC 5322 ftext).
fn is_field_name_byte(b: u8) -> bool {
    (33..=126).contains(&b) && b != b':'
}

/// Splits the header block that starts at `start`, reading no further than `end`.
///
/// Never fails: a line that is neither a field nor a continuation ends the
/// block (the body then starts at that line); fields past
/// `max_header_fields`, and fields that start more than
/// `max_header_block_bytes` into the block, are skipped but still consumed;
/// a kept field's value is cut at `max_header_field_bytes`. So a hostile
/// header costs one scan and no memory beyond the bounds.
pub(crate) fn parse_header_block(
    raw: &[u8],
    start: usize,
    end: usize,
    limits: &MimeLimits,
) -> HeaderBlock {
    let end = end.min(raw.len());
    let keep_until = start.saturating_add(limits.max_header_block_bytes);
    let max_value = limits.max_header_field_bytes;
    let mut fields: Vec<HeaderField> = Vec::new();
    // Whether the last field line was kept, so its continuations extend it.
    let mut last_kept = false;
    let mut any_field = false;
    let mut pos = start.min(end);
    while pos < end {
        let rest = &raw[pos..end];
        if rest.starts_with(b"\r\n") {
            return HeaderBlock {
                fields,
                body_start: pos + 2,
            };
        }
        if rest[0] == b'\n' {
            return HeaderBlock {
                fields,
                body_start: pos + 1,
            };
        }
        let line_end = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => pos + i + 1,
            None => end,
        };
        let content_end = trim_line_break(raw, pos, line_end);
        if rest[0] == b' ' || rest[0] == b'\t' {
            if !any_field {
                // Indented text before any field: no header block at all.
                return HeaderBlock {
                    fields,
                    body_start: pos,
                };
            }
            if last_kept && let Some(field) = fields.last_mut() {
                let cap = field.value.start.saturating_add(max_value);
                field.value.end = content_end.min(cap).max(field.value.end);
                field.line.end = line_end;
            }
            pos = line_end;
            continue;
        }
        let Some(colon) = raw[pos..content_end].iter().position(|&b| b == b':') else {
            return HeaderBlock {
                fields,
                body_start: pos,
            };
        };
        let mut name_end = pos + colon;
        // RFC 822 allowed white space before the colon ("Subject : x").
        while name_end > pos && matches!(raw[name_end - 1], b' ' | b'\t') {
            name_end -= 1;
        }
        if name_end == pos || !raw[pos..name_end].iter().all(|&b| is_field_name_byte(b)) {
            return HeaderBlock {
                fields,
                body_start: pos,
            };
        }
        any_field = true;
        last_kept = fields.len() < limits.max_header_fields && pos < keep_until;
        if last_kept {
            let value_start = pos + colon + 1;
            fields.push(HeaderField {
                name: pos..name_end,
                value: value_start..content_end.min(value_start.saturating_add(max_value)),
                line: pos..line_end,
            });
        }
        pos = line_end;
    }
    HeaderBlock {
        fields,
        body_start: end,
    }
}

/// End of a line's content: before its CRLF or LF.
fn trim_line_break(raw: &[u8], start: usize, line_end: usize) -> usize {
    let mut e = line_end;
    if e > start && raw[e - 1] == b'\n' {
        e -= 1;
        if e > start && raw[e - 1] == b'\r' {
            e -= 1;
        }
    }
    e
}

/// A field value with folding removed and surrounding white space trimmed.
///
/// Unfolding (RFC 5322 §2.2.3) deletes the CR and LF of each fold and keeps
/// the white space that follows.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    let trailing = out
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    out.truncate(out.len() - trailing);
    let leading = out.iter().take_while(|b| b.is_ascii_whitespace()).count();
    out.drain(..leading);
    out
}

impl HeaderBlock {
    /// The first field with this name.
    pub fn first(&self, raw: &[u8], name: &str) -> Option<&HeaderField> {
        self.fields.iter().find(|f| f.is(raw, name))
    }

    /// The unfolded raw value of the first field with this name.
    pub fn first_value(&self, raw: &[u8], name: &str) -> Option<Vec<u8>> {
        self.first(raw, name).map(|f| unfold(&raw[f.value.clone()]))
    }
}

/// The value of the first top-level header field called `name`
/// (case-insensitive), unfolded and trimmed, or `None` when there is none.
///
/// 8-bit bytes are read as UTF-8 when valid, else as Windows-1252;
/// encoded words are left as they are. Meant for matching rules such as
/// `X-Spam-Flag=YES` at delivery.
pub fn find_header(raw: &[u8], name: &str) -> Option<String> {
    let block = parse_header_block(raw, 0, raw.len(), &MimeLimits::default());
    block.first_value(raw, name).map(|v| bytes_to_text(&v))
}

/// The unfolded raw value of the first of `fields` called `name`.
pub(crate) fn unfold_first(raw: &[u8], fields: &[HeaderField], name: &str) -> Option<Vec<u8>> {
    fields
        .iter()
        .find(|f| f.is(raw, name))
        .map(|f| unfold(&raw[f.value.clone()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_and_values(raw: &[u8]) -> (Vec<(String, String)>, usize) {
        let block = parse_header_block(raw, 0, raw.len(), &MimeLimits::default());
        let fields = block
            .fields
            .iter()
            .map(|f| {
                (
                    String::from_utf8_lossy(&raw[f.name.clone()]).into_owned(),
                    String::from_utf8_lossy(&unfold(&raw[f.value.clone()])).into_owned(),
                )
            })
            .collect();
        (fields, block.body_start)
    }

    fn check(raw: &str, fields: &[(&str, &str)], body: &str) {
        let (got, body_start) = names_and_values(raw.as_bytes());
        let want: Vec<(String, String)> = fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want, "fields of {raw:?}");
        assert_eq!(&raw[body_start..], body, "body of {raw:?}");
    }

    #[test]
    fn header_block_splits_fields_and_body() {
        check(
            "A: 1\r\nB: 2\r\n\r\nbody",
            &[("A", "1"), ("B", "2")],
            "body",
        );
        check("A: 1\nB: 2\n\nbody", &[("A", "1"), ("B", "2")], "body");
        check(
            "A: one\r\n  two\r\n\tthree\r\n\r\nx",
            &[("A", "one  two\tthree")],
            "x",
        );
        check("Subject : spaced\r\n\r\n", &[("Subject", "spaced")], "");
        check("A:\r\n\r\n", &[("A", "")], "");
    }

    #[test]
    fn header_block_without_blank_line_ends_at_first_non_field_line() {
        check(
            "A: 1\r\nthis is body\r\n",
            &[("A", "1")],
            "this is body\r\n",
        );
        check("A: 1\r\nbad name: x\r\n", &[("A", "1")], "bad name: x\r\n");
        check("A: 1", &[("A", "1")], "");
        check("", &[], "");
        check("\r\nbody only", &[], "body only");
        check("  indented first\r\n", &[], "  indented first\r\n");
    }

    #[test]
    fn fields_past_the_limit_are_skipped_with_their_continuations() {
        let raw = b"A: 1\r\nB: 2\r\n  more\r\nC: 3\r\n\r\nbody";
        let limits = MimeLimits {
            max_header_fields: 1,
            ..MimeLimits::default()
        };
        let block = parse_header_block(raw, 0, raw.len(), &limits);
        assert_eq!(block.fields.len(), 1);
        assert_eq!(&raw[block.body_start..], b"body");
    }

    #[test]
    fn a_huge_field_is_cut_for_parsing_and_the_body_still_found() {
        let mut raw = b"Subject: ".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 100_000));
        raw.extend_from_slice(b"\r\n more\r\nFrom: x@y\r\n\r\nbody");
        let limits = MimeLimits {
            max_header_field_bytes: 1000,
            ..MimeLimits::default()
        };
        let block = parse_header_block(&raw, 0, raw.len(), &limits);
        assert_eq!(block.fields.len(), 2);
        assert_eq!(block.fields[0].value.len(), 1000);
        assert_eq!(&raw[block.fields[0].line.clone()][..9], b"Subject: ");
        assert!(raw[block.fields[0].line.clone()].ends_with(b" more\r\n"));
        assert_eq!(
            block.first_value(&raw, "from").as_deref(),
            Some(&b"x@y"[..])
        );
        assert_eq!(&raw[block.body_start..], b"body");
    }

    #[test]
    fn fields_past_the_block_budget_are_skipped_but_the_body_is_exact() {
        let mut raw = b"A: 1\r\nX: ".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 5000));
        raw.extend_from_slice(b"\r\nB: 2\r\n\r\nbody");
        let limits = MimeLimits {
            max_header_block_bytes: 4096,
            ..MimeLimits::default()
        };
        let block = parse_header_block(&raw, 0, raw.len(), &limits);
        let names: Vec<&[u8]> = block.fields.iter().map(|f| &raw[f.name.clone()]).collect();
        assert_eq!(names, vec![&b"A"[..], b"X"]);
        assert_eq!(&raw[block.body_start..], b"body");
    }

    #[test]
    fn find_header_returns_first_occurrence_unfolded() {
        let raw = b"X-Spam-Flag: YES\r\nx-spam-flag: NO\r\nSubject: a\r\n b\r\n\r\n";
        assert_eq!(find_header(raw, "X-SPAM-FLAG").as_deref(), Some("YES"));
        assert_eq!(find_header(raw, "subject").as_deref(), Some("a b"));
        assert_eq!(find_header(raw, "missing"), None);
        assert_eq!(
            find_header(b"S: caf\xe9\r\n\r\n", "s").as_deref(),
            Some("caf\u{e9}")
        );
    }
}
