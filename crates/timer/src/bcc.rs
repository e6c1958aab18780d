//! Removing `Bcc:` fields from a message's header on its way to the relay:
//! Bcc recipients are in the envelope, and the field would show them to
//! every recipient. Works on a stream of chunks; only the header section
//! is looked at, and at most [`MAX_FIELD_LINE`] bytes are held back.

/// Longest header line held back while deciding whether it starts a Bcc
/// field; a longer line is passed on as it is (its name is known by then).
pub const MAX_FIELD_LINE: usize = 998;

/// A streaming filter that drops `Bcc:` fields (with their folded lines).
#[derive(Debug, Default)]
pub struct BccStripper {
    /// The body has started: everything passes.
    in_body: bool,
    /// The current field is a Bcc field being dropped.
    dropping: bool,
    /// The start of the current header line, not yet passed on.
    line: Vec<u8>,
    /// The current line was too long to hold and is being passed through.
    passing_long_line: bool,
}

fn is_bcc(line: &[u8]) -> bool {
    let name_end = line.iter().position(|&b| b == b':');
    name_end.is_some_and(|end| line[..end].trim_ascii_end().eq_ignore_ascii_case(b"bcc"))
}

impl BccStripper {
    /// A filter at the start of a message.
    pub fn new() -> BccStripper {
        BccStripper::default()
    }

    /// Filters `chunk`, appending what may be sent to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.in_body {
                out.extend_from_slice(rest);
                return;
            }
            let (piece, ends_line) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..=i], true),
                None => (rest, false),
            };
            rest = &rest[piece.len()..];
            if self.passing_long_line {
                if !self.dropping {
                    out.extend_from_slice(piece);
                }
                self.passing_long_line = !ends_line;
                continue;
            }
            self.line.extend_from_slice(piece);
            if ends_line {
                self.decide(out);
            } else if self.line.len() > MAX_FIELD_LINE {
                self.decide(out);
                self.passing_long_line = true;
            }
        }
    }

    /// Classifies the held line (a new field, a folded line or the empty
    /// line ending the header) and passes it on unless it belongs to Bcc.
    fn decide(&mut self, out: &mut Vec<u8>) {
        let line = std::mem::take(&mut self.line);
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            self.in_body = true;
            self.dropping = false;
        } else if !matches!(content.first(), Some(b' ' | b'\t')) {
            self.dropping = is_bcc(content);
        }
        if !self.dropping {
            out.extend_from_slice(&line);
        }
    }

    /// The end of the message: passes on a last unterminated line.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.line.is_empty() {
            self.decide(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strip(chunks: &[&[u8]]) -> String {
        let mut f = BccStripper::new();
        let mut out = Vec::new();
        for c in chunks {
            f.feed(c, &mut out);
        }
        f.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn check(input: &str, expected: &str) {
        assert_eq!(strip(&[input.as_bytes()]), expected, "input {input:?}");
    }

    #[test]
    fn bcc_fields_leave_the_header_and_nothing_else_changes() {
        check(
            "To: a@x\r\nBcc: secret@x,\r\n  other@x\r\nSubject: s\r\n\r\nBcc: body@x\r\n",
            "To: a@x\r\nSubject: s\r\n\r\nBcc: body@x\r\n",
        );
        check("BCC : s@x\nTo: a@x\n\nb\n", "To: a@x\n\nb\n");
        check("Bcc:\r\nTo: a@x\r\n\r\n", "To: a@x\r\n\r\n");
        check(
            "Bccx: kept\r\nX-Bcc: kept\r\n\r\n",
            "Bccx: kept\r\nX-Bcc: kept\r\n\r\n",
        );
        check("To: a@x\r\n", "To: a@x\r\n");
        check("To: a@x\r\nBcc: s@x", "To: a@x\r\n");
        check("", "");
    }

    #[test]
    fn a_very_long_header_line_passes_unheld() {
        let long = format!("X-Long: {}\r\nBcc: s@x\r\n\r\nbody", "y".repeat(5000));
        let expected = format!("X-Long: {}\r\n\r\nbody", "y".repeat(5000));
        check(&long, &expected);
        let long_bcc = format!("Bcc: {}\r\nTo: a@x\r\n\r\n", "s".repeat(5000));
        check(&long_bcc, "To: a@x\r\n\r\n");
    }

    proptest! {
        #[test]
        fn the_split_into_chunks_does_not_matter(cut in prop::collection::vec(0usize..120, 0..6)) {
            let input = "Subject: s\r\nBcc: a@x,\r\n\tb@x\r\nTo: c@x\r\n\r\nBcc: body\r\nend";
            let expected = "Subject: s\r\nTo: c@x\r\n\r\nBcc: body\r\nend";
            let bytes = input.as_bytes();
            let mut points: Vec<usize> = cut.into_iter().map(|c| c.min(bytes.len())).collect();
            points.sort();
            let mut chunks = Vec::new();
            let mut last = 0;
            for p in points {
                chunks.push(&bytes[last..p]);
                last = p;
            }
            chunks.push(&bytes[last..]);
            prop_assert_eq!(strip(&chunks), expected);
        }
    }
}
