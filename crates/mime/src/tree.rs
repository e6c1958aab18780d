//! The MIME structure of a message: which bytes are each part's header and
//! body, and how parts nest (RFC 2045, RFC 2046).

use std::ops::Range;

use crate::header::{HeaderBlock, HeaderField, parse_header_block};
use crate::limits::MimeLimits;
use crate::params::{ParamValue, parse_param_value};
use crate::transfer::TransferEncoding;

/// One MIME entity: a whole message or one body part.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// The header block, including the blank line that ends it.
    pub header: Range<usize>,
    pub fields: Vec<HeaderField>,
    /// The body: after the header block, up to (not including) the line
    /// break before the next boundary delimiter.
    pub body: Range<usize>,
    /// The effective media type: as declared, or the default when the
    /// Content-Type field is missing or unreadable.
    pub media: ParamValue,
    pub encoding: TransferEncoding,
    pub kind: PartKind,
}

/// What a part contains.
#[derive(Debug, Clone)]
pub(crate) enum PartKind {
    /// A single body (text, image, …), or a container not opened: a
    /// multipart without boundary, an encoded message/rfc822, or anything
    /// past the depth or part limit.
    Leaf,
    /// A multipart; may be empty when no delimiter was found.
    Multipart(Vec<Part>),
    /// A message/rfc822 (or message/global) part and the message it holds.
    Message(Box<Part>),
}

impl Part {
    /// Whether this part's media type is `main/sub` (lower-case arguments).
    pub fn is_type(&self, main: &str, sub: &str) -> bool {
        self.media.main == main && self.media.sub == sub
    }

    /// The unfolded raw value of the first field with this name.
    pub fn field_value(&self, raw: &[u8], name: &str) -> Option<Vec<u8>> {
        crate::header::unfold_first(raw, &self.fields, name)
    }

    /// The parsed Content-Disposition field, if any.
    pub fn disposition(&self, raw: &[u8], limits: &MimeLimits) -> Option<ParamValue> {
        self.field_value(raw, "content-disposition")
            .and_then(|v| parse_param_value(&v, limits.max_params))
    }
}

/// The media type a part gets when it declares none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefaultType {
    TextPlain,
    /// Inside multipart/digest (RFC 2046 §5.1.5).
    MessageRfc822,
}

fn default_media(default: DefaultType) -> ParamValue {
    match default {
        DefaultType::TextPlain => ParamValue {
            main: "text".into(),
            sub: "plain".into(),
            params: vec![crate::params::Param {
                name: "charset".into(),
                value: b"US-ASCII".to_vec(),
            }],
        },
        DefaultType::MessageRfc822 => ParamValue {
            main: "message".into(),
            sub: "rfc822".into(),
            params: Vec::new(),
        },
    }
}

/// Parses the MIME structure of `raw`. Never fails.
pub(crate) fn parse_tree(raw: &[u8], limits: &MimeLimits) -> Part {
    let mut budget = limits.max_parts;
    parse_entity(
        raw,
        0..raw.len(),
        0,
        DefaultType::TextPlain,
        limits,
        &mut budget,
    )
}

fn parse_entity(
    raw: &[u8],
    range: Range<usize>,
    depth: usize,
    default: DefaultType,
    limits: &MimeLimits,
    budget: &mut usize,
) -> Part {
    let HeaderBlock { fields, body_start } =
        parse_header_block(raw, range.start, range.end, limits);
    let header = range.start..body_start;
    let body = body_start..range.end;
    let declared = crate::header::unfold_first(raw, &fields, "content-type")
        .and_then(|v| parse_param_value(&v, limits.max_params))
        .filter(|m| !m.sub.is_empty());
    let media = declared.unwrap_or_else(|| default_media(default));
    let encoding = TransferEncoding::parse(
        crate::header::unfold_first(raw, &fields, "content-transfer-encoding").as_deref(),
    );
    let mut part = Part {
        header,
        fields,
        body,
        media,
        encoding,
        kind: PartKind::Leaf,
    };
    if depth >= limits.max_depth {
        return part;
    }
    if part.media.main == "multipart" {
        let Some(boundary) = part.media.raw_param("boundary").map(<[u8]>::to_vec) else {
            return part;
        };
        if boundary.is_empty() {
            return part;
        }
        let child_default = if part.media.sub == "digest" {
            DefaultType::MessageRfc822
        } else {
            DefaultType::TextPlain
        };
        let mut children = Vec::new();
        for child_range in split_multipart(raw, part.body.clone(), &boundary) {
            if *budget == 0 {
                break;
            }
            *budget -= 1;
            children.push(parse_entity(
                raw,
                child_range,
                depth + 1,
                child_default,
                limits,
                budget,
            ));
        }
        part.kind = PartKind::Multipart(children);
    } else if part.media.main == "message"
        && matches!(part.media.sub.as_str(), "rfc822" | "global")
        && part.encoding.is_identity()
        && *budget > 0
    {
        *budget -= 1;
        let inner = parse_entity(
            raw,
            part.body.clone(),
            depth + 1,
            DefaultType::TextPlain,
            limits,
            budget,
        );
        part.kind = PartKind::Message(Box::new(inner));
    }
    part
}

/// If a delimiter line for `boundary` starts at `pos`, returns whether it is
/// the closing one and where the line ends (after its line break).
fn delimiter_at(raw: &[u8], pos: usize, end: usize, boundary: &[u8]) -> Option<(bool, usize)> {
    let line = &raw[pos..end];
    let after = line.strip_prefix(b"--")?.strip_prefix(boundary)?;
    let (close, after) = match after.strip_prefix(b"--") {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    // Transport padding (white space) may follow the delimiter.
    let pad = after
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let rest = &after[pad..];
    let consumed = line.len() - rest.len();
    if rest.is_empty() {
        Some((close, end))
    } else if rest.starts_with(b"\r\n") {
        Some((close, pos + consumed + 2))
    } else if rest.starts_with(b"\n") {
        Some((close, pos + consumed + 1))
    } else if close {
        // Mailers sometimes write junk after the closing delimiter; the
        // body is over either way.
        Some((close, end))
    } else {
        None
    }
}

/// The byte ranges of the body parts of a multipart body. A missing closing
/// delimiter ends the last part at the end of the body (truncated mail).
fn split_multipart(raw: &[u8], body: Range<usize>, boundary: &[u8]) -> Vec<Range<usize>> {
    let mut parts = Vec::new();
    let mut current: Option<usize> = None;
    let mut line_start = body.start;
    while line_start < body.end {
        if let Some((close, next)) = delimiter_at(raw, line_start, body.end, boundary) {
            if let Some(start) = current {
                parts.push(start..part_end(raw, start, line_start));
            }
            if close {
                return parts;
            }
            current = Some(next);
            line_start = next;
            continue;
        }
        line_start = match raw[line_start..body.end].iter().position(|&b| b == b'\n') {
            Some(p) => line_start + p + 1,
            None => body.end,
        };
    }
    if let Some(start) = current {
        parts.push(start..body.end.max(start));
    }
    parts
}

/// A part ends before the line break that precedes the next delimiter
/// (that line break belongs to the delimiter, RFC 2046 §5.1.1).
fn part_end(raw: &[u8], start: usize, delimiter: usize) -> usize {
    let mut end = delimiter;
    if end > start && raw[end - 1] == b'\n' {
        end -= 1;
        if end > start && raw[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(raw: &[u8], part: &Part) -> String {
        let name = format!("{}/{}", part.media.main, part.media.sub);
        match &part.kind {
            PartKind::Leaf => {
                format!(
                    "{name}[{}]",
                    String::from_utf8_lossy(&raw[part.body.clone()])
                )
            }
            PartKind::Multipart(children) => {
                let inner: Vec<String> = children.iter().map(|c| shape(raw, c)).collect();
                format!("{name}({})", inner.join(","))
            }
            PartKind::Message(inner) => format!("{name}{{{}}}", shape(raw, inner)),
        }
    }

    fn check(raw: &str, want: &str) {
        let tree = parse_tree(raw.as_bytes(), &MimeLimits::default());
        assert_eq!(shape(raw.as_bytes(), &tree), want, "{raw:?}");
    }

    const MP: &str = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";

    #[test]
    fn multipart_bodies_split_at_delimiters() {
        check(
            &format!("{MP}pre\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\nepilogue"),
            "multipart/mixed(text/plain[one],text/plain[two])",
        );
        check(
            &format!("{MP}--b\r\n\r\none\r\n--b--"),
            "multipart/mixed(text/plain[one])",
        );
        check(
            &format!("{MP}--b  \r\n\r\none\r\n--b-- junk"),
            "multipart/mixed(text/plain[one])",
        );
        check(
            &format!("{MP}--b\r\n\r\n\r\n--b--"),
            "multipart/mixed(text/plain[])",
        );
        check(
            &format!("{MP}--b\n\nlf\n--b--\n"),
            "multipart/mixed(text/plain[lf])",
        );
        check(
            &format!("{MP}--bx\r\n\r\nnot a delimiter\r\n--b--"),
            "multipart/mixed()",
        );
    }

    #[test]
    fn truncated_multipart_ends_at_end_of_message() {
        check(
            &format!("{MP}--b\r\n\r\none\r\n--b\r\n\r\ncut mid"),
            "multipart/mixed(text/plain[one],text/plain[cut mid])",
        );
        check(&format!("{MP}--b\r\n"), "multipart/mixed(text/plain[])");
    }

    #[test]
    fn nested_parts_and_messages_are_opened() {
        let raw = format!(
            "{MP}--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nt\r\n--c\r\nContent-Type: text/html\r\n\r\nh\r\n--c--\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\ninner\r\n--b--\r\n"
        );
        check(
            &raw,
            "multipart/mixed(multipart/alternative(text/plain[t],text/html[h]),message/rfc822{text/plain[inner]})",
        );
    }

    #[test]
    fn digest_parts_default_to_message_rfc822() {
        let raw = "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: a\r\n\r\nA\r\n--d--";
        check(raw, "multipart/digest(message/rfc822{text/plain[A]})");
    }

    #[test]
    fn unopenable_containers_stay_leaves() {
        check(
            "Content-Type: multipart/mixed\r\n\r\nno boundary",
            "multipart/mixed[no boundary]",
        );
        check(
            "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA==",
            "message/rfc822[U3ViamVjdDogeA==]",
        );
        check("Content-Type: garbage\r\n\r\nx", "text/plain[x]");
    }

    #[test]
    fn depth_and_part_limits_bound_the_tree() {
        let mut raw = String::new();
        for _ in 0..100 {
            raw.push_str("Content-Type: message/rfc822\r\n\r\n");
        }
        raw.push_str("body");
        let limits = MimeLimits {
            max_depth: 3,
            ..MimeLimits::default()
        };
        let tree = parse_tree(raw.as_bytes(), &limits);
        let s = shape(raw.as_bytes(), &tree);
        assert_eq!(s.matches('{').count(), 3, "{s}");

        let many = format!("{MP}{}--b--", "--b\r\n\r\nx\r\n".repeat(50));
        let limits = MimeLimits {
            max_parts: 10,
            ..MimeLimits::default()
        };
        let tree = parse_tree(many.as_bytes(), &limits);
        let PartKind::Multipart(children) = &tree.kind else {
            panic!("multipart")
        };
        assert_eq!(children.len(), 10);
    }
}
