//! A message on the wire (RFC 1939 §3): lines end in CRLF (a bare LF of a
//! stored message becomes CRLF), a line starting with "." gets another "."
//! in front, and the message ends with "CRLF . CRLF". For TOP, only the
//! header, the blank line and the first N body lines go out. POP3 is a
//! text protocol: a stored NUL goes out as 0x80 (the stored bytes and the
//! sizes LIST reports stay as they are).

/// Turns message bytes, chunk by chunk, into their wire form.
#[derive(Debug, Clone)]
pub struct DotStuffer {
    at_line_start: bool,
    prev_cr: bool,
    /// For TOP: body lines still to send (`None` = all).
    body_lines_left: Option<u64>,
    in_body: bool,
    /// The current line is empty so far (detects the header's end).
    line_empty: bool,
    done: bool,
}

impl DotStuffer {
    /// A stuffer for a whole message (RETR).
    pub fn whole() -> DotStuffer {
        DotStuffer {
            at_line_start: true,
            prev_cr: false,
            body_lines_left: None,
            in_body: false,
            line_empty: true,
            done: false,
        }
    }

    /// A stuffer for the header and `lines` body lines (TOP).
    pub fn top(lines: u64) -> DotStuffer {
        DotStuffer {
            body_lines_left: Some(lines),
            ..DotStuffer::whole()
        }
    }

    /// Whether TOP has sent all it should; the rest of the message need not
    /// be read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Appends the wire form of `chunk` to `out`. Works a line at a time:
    /// runs without a line break are copied whole.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        out.reserve(chunk.len() + chunk.len() / 32 + 4);
        let from = out.len();
        let mut rest = chunk;
        while !rest.is_empty() && !self.done {
            if self.at_line_start && rest[0] == b'.' {
                out.push(b'.');
            }
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    let line = &rest[..i];
                    out.extend_from_slice(line);
                    let cr = match line.last() {
                        Some(&b) => b == b'\r',
                        None => self.prev_cr,
                    };
                    if !cr {
                        out.push(b'\r');
                    }
                    out.push(b'\n');
                    if self.line_empty && line.iter().any(|&b| b != b'\r') {
                        self.line_empty = false;
                    }
                    self.prev_cr = false;
                    self.end_of_line();
                    rest = &rest[i + 1..];
                }
                None => {
                    out.extend_from_slice(rest);
                    self.at_line_start = false;
                    if self.line_empty && rest.iter().any(|&b| b != b'\r') {
                        self.line_empty = false;
                    }
                    self.prev_cr = rest.last() == Some(&b'\r');
                    rest = &[];
                }
            }
        }
        if memchr::memchr(0, chunk).is_some() {
            for b in &mut out[from..] {
                if *b == 0 {
                    *b = 0x80;
                }
            }
        }
    }

    fn end_of_line(&mut self) {
        self.at_line_start = true;
        if self.in_body {
            if let Some(left) = self.body_lines_left.as_mut() {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    self.done = true;
                }
            }
        } else if self.line_empty {
            self.in_body = true;
            if self.body_lines_left == Some(0) {
                self.done = true;
            }
        }
        self.line_empty = true;
    }

    /// Appends the end of the message: a line break if the last line lacks
    /// one, then ".CRLF".
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.at_line_start {
            out.extend_from_slice(if self.prev_cr { b"\n" } else { b"\r\n" });
        }
        out.extend_from_slice(b".\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wire(mut s: DotStuffer, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        s.finish(&mut out);
        out
    }

    fn check(input: &[u8], expected: &[u8]) {
        assert_eq!(
            String::from_utf8_lossy(&wire(DotStuffer::whole(), &[input])),
            String::from_utf8_lossy(expected),
        );
    }

    #[test]
    fn lines_get_crlf_and_leading_dots_are_doubled() {
        check(b"", b".\r\n");
        check(b"a\r\nb\r\n", b"a\r\nb\r\n.\r\n");
        check(b"a\nb\n", b"a\r\nb\r\n.\r\n");
        check(b"a\r\nb", b"a\r\nb\r\n.\r\n");
        check(b".\r\n", b"..\r\n.\r\n");
        check(
            b"x\r\n.hidden\r\n..two\r\n",
            b"x\r\n..hidden\r\n...two\r\n.\r\n",
        );
        check(b".start", b"..start\r\n.\r\n");
        check(b"a.b\r\n", b"a.b\r\n.\r\n");
        check(b"trailing\r", b"trailing\r\n.\r\n");
        check(b"bare\rcr\r\n", b"bare\rcr\r\n.\r\n");
        check(b"mixed\r\n\nend", b"mixed\r\n\r\nend\r\n.\r\n");
        check(b"nul\0in\r\n\0\r\n", b"nul\x80in\r\n\x80\r\n.\r\n");
    }

    #[test]
    fn top_sends_the_header_and_n_body_lines() {
        let msg = b"Subject: x\r\nFrom: y\r\n\r\nline 1\r\n.line 2\r\nline 3\r\n";
        let top = |n| String::from_utf8(wire(DotStuffer::top(n), &[msg])).unwrap();
        assert_eq!(top(0), "Subject: x\r\nFrom: y\r\n\r\n.\r\n");
        assert_eq!(top(1), "Subject: x\r\nFrom: y\r\n\r\nline 1\r\n.\r\n");
        assert_eq!(
            top(2),
            "Subject: x\r\nFrom: y\r\n\r\nline 1\r\n..line 2\r\n.\r\n"
        );
        assert_eq!(
            top(99),
            "Subject: x\r\nFrom: y\r\n\r\nline 1\r\n..line 2\r\nline 3\r\n.\r\n"
        );
        let lf = b"A: b\n\nbody\nmore\n";
        assert_eq!(
            String::from_utf8(wire(DotStuffer::top(1), &[lf])).unwrap(),
            "A: b\r\n\r\nbody\r\n.\r\n"
        );
        let header_only = b"A: b\r\nC: d";
        assert_eq!(
            String::from_utf8(wire(DotStuffer::top(0), &[header_only])).unwrap(),
            "A: b\r\nC: d\r\n.\r\n"
        );
        let mut s = DotStuffer::top(0);
        s.push(msg, &mut Vec::new());
        assert!(s.is_done());
    }

    /// Reverses the wire form: what a client reads back.
    fn unstuff(wire: &[u8]) -> Vec<u8> {
        let body = wire.strip_suffix(b".\r\n").unwrap();
        let mut out = Vec::new();
        for line in body.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        }
        out
    }

    proptest! {
        #[test]
        fn a_crlf_message_reads_back_unchanged_whatever_the_chunking(
            lines in proptest::collection::vec("[.a-z ]{0,12}", 0..20),
            cut in 0usize..400,
        ) {
            let msg: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
            let cut = cut.min(msg.len());
            let out = wire(DotStuffer::whole(), &[&msg[..cut], &msg[cut..]]);
            prop_assert_eq!(unstuff(&out), msg.clone());
            // No line of the wire form is a lone "." before the end.
            let body = &out[..out.len() - 3];
            prop_assert!(!body.split(|&b| b == b'\n').any(|l| l == b".\r"));
        }
    }
}
