//! File attachments of mail items, I/O-free: the attachments of an RFC
//! 5322 message (mail-parser's view: the parts that are not the body),
//! and the message with one attachment added or removed. The store keeps
//! messages as their bytes, so a changed message is a new message (the
//! caller stores it and removes the old one).

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders};

/// One file attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAttachment {
    /// File name ("" when the part names none).
    pub name: String,
    /// `type/subtype`.
    pub content_type: String,
    /// The decoded content.
    pub content: Vec<u8>,
}

/// The attachments of a message, in mail-parser's order (the order their
/// `AttachmentId`s number).
pub fn list(raw: &[u8]) -> Vec<FileAttachment> {
    let Some(m) = MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    m.attachments()
        .map(|p| FileAttachment {
            name: p.attachment_name().unwrap_or_default().to_string(),
            content_type: p
                .content_type()
                .map(|c| match c.subtype() {
                    Some(s) => format!("{}/{}", c.ctype(), s),
                    None => c.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            content: p.contents().to_vec(),
        })
        .collect()
}

fn quoted_name(name: &str) -> String {
    if name.is_ascii() && !name.contains(['"', '\\', '\r', '\n']) {
        format!("\"{name}\"")
    } else {
        format!(
            "\"=?UTF-8?B?{}?=\"",
            base64::engine::general_purpose::STANDARD.encode(name)
        )
    }
}

fn part(a: &FileAttachment) -> String {
    let ct = if a.content_type.contains('/')
        && !a
            .content_type
            .contains(|c: char| c.is_control() || c == ';' || c == ' ')
    {
        a.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    let name = quoted_name(if a.name.is_empty() {
        "attachment"
    } else {
        &a.name
    });
    let mut out = format!(
        "Content-Type: {ct}; name={name}\r\nContent-Disposition: attachment; filename={name}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&a.content);
    for chunk in b64.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str("\r\n");
    }
    out
}

/// Where the header ends: (end of the header lines, start of the body).
fn split_header(raw: &[u8]) -> (usize, usize) {
    for (i, w) in raw.windows(4).enumerate() {
        if w == b"\r\n\r\n" {
            return (i + 2, i + 4);
        }
    }
    for (i, w) in raw.windows(2).enumerate() {
        if w == b"\n\n" {
            return (i + 1, i + 2);
        }
    }
    (raw.len(), raw.len())
}

/// The message with `a` added as the last part of its multipart/mixed
/// (the message becomes one when it is not).
pub fn add(raw: &[u8], a: &FileAttachment) -> Vec<u8> {
    let boundary = MessageParser::default().parse(raw).and_then(|m| {
        let ct = m.root_part().content_type()?;
        (ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("mixed")))
        .then(|| ct.attribute("boundary").map(str::to_string))
        .flatten()
    });
    if let Some(b) = boundary {
        let close = format!("--{b}--");
        if let Some(pos) = find_last(raw, close.as_bytes()) {
            let mut out = raw[..pos].to_vec();
            if !out.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{b}\r\n{}", part(a)).as_bytes());
            out.extend_from_slice(&raw[pos..]);
            return out;
        }
    }
    // Not multipart/mixed: the old content becomes the first part.
    let (header_end, body_start) = split_header(raw);
    let mut top = Vec::new();
    let mut content = Vec::new();
    let mut into_content = false;
    for line in raw[..header_end].split_inclusive(|b| *b == b'\n') {
        let folded = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !folded {
            let lower = line.to_ascii_lowercase();
            into_content = lower.starts_with(b"content-") || lower.starts_with(b"mime-version:");
        }
        if into_content {
            if !line.to_ascii_lowercase().starts_with(b"mime-version:") {
                content.extend_from_slice(line);
            }
        } else {
            top.extend_from_slice(line);
        }
    }
    if content.is_empty() {
        content.extend_from_slice(b"Content-Type: text/plain; charset=us-ascii\r\n");
    }
    let b = format!("gx-{}", crate::groupware::new_uid().replace('@', "-"));
    let mut out = top;
    out.extend_from_slice(
        format!(
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n--{b}\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(&content);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&raw[body_start..]);
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{b}\r\n{}--{b}--\r\n", part(a)).as_bytes());
    out
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    (0..=hay.len().checked_sub(needle.len())?)
        .rev()
        .find(|i| hay[*i..].starts_with(needle))
}

/// The message without its attachment number `index`; `None` when it has
/// no such attachment.
pub fn remove(raw: &[u8], index: usize) -> Option<Vec<u8>> {
    let m = MessageParser::default().parse(raw)?;
    let p = m.attachment(u32::try_from(index).ok()?)?;
    let (start, end) = (p.raw_header_offset() as usize, p.raw_end_offset() as usize);
    if start == 0 || end > raw.len() || start > end {
        // The attachment is the whole message: nothing to cut out.
        return None;
    }
    // Cut from the delimiter line before the part to the part's end.
    let line = raw[..start]
        .iter()
        .rposition(|b| *b == b'\n')
        .and_then(|nl| raw[..nl].iter().rposition(|b| *b == b'\n'))?;
    let cut = if line > 0 && raw[line - 1] == b'\r' {
        line - 1
    } else {
        line
    };
    let mut out = raw[..cut].to_vec();
    out.extend_from_slice(&raw[end..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, size: usize) -> FileAttachment {
        FileAttachment {
            name: name.into(),
            content_type: "application/pdf".into(),
            content: (0..size).map(|i| (i % 251) as u8).collect(),
        }
    }

    #[test]
    fn attachments_are_added_listed_and_removed() {
        let plain = b"From: a@x\r\nTo: b@x\r\nSubject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n";
        assert!(list(plain).is_empty());
        let one = add(plain, &file("report.pdf", 5000));
        let got = list(&one);
        assert_eq!(got, [file("report.pdf", 5000)]);
        let text = MessageParser::default().parse(&one).unwrap();
        assert_eq!(text.subject(), Some("s"));
        assert_eq!(text.body_text(0).unwrap().trim(), "Hello");
        let two = add(&one, &file("Grüße.pdf", 10));
        let got = list(&two);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].name, "Grüße.pdf");
        let back = remove(&two, 0).unwrap();
        assert_eq!(list(&back), [file("Grüße.pdf", 10)]);
        let none = remove(&back, 0).unwrap();
        assert!(list(&none).is_empty());
        let parsed = MessageParser::default().parse(&none).unwrap();
        assert_eq!(parsed.body_text(0).unwrap().trim(), "Hello");
        assert!(remove(&none, 0).is_none());
    }
}
