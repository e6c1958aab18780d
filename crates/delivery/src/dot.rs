//! The DATA stream decoder (RFC 5321 §4.5.2): removes dot-stuffing and finds
//! the end of the message (`CRLF . CRLF`), one chunk at a time, so a message
//! never has to be in memory as a whole.
//!
//! Line ends are kept as received. Only CRLF ends a line: a bare LF is data,
//! so `LF . LF` or `LF . CRLF` neither ends the message nor is unstuffed
//! (this is what protects against SMTP smuggling). The CRLF before the final
//! dot belongs to the message; the start of the data counts as a line start,
//! so `.CRLF` right after the 354 reply is an empty message.

/// Where the decoder stands between two bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line (after CRLF, or at the very beginning).
    LineStart,
    /// Inside a line; `cr` = the last byte was CR.
    Inside { cr: bool },
    /// A dot at the start of a line, held back.
    Dot,
    /// A dot and a CR at the start of a line, both held back.
    DotCr,
    /// The terminating `.CRLF` was seen.
    Done,
}

/// Decodes DATA incrementally.
#[derive(Debug, Clone)]
pub struct DotUnstuffer {
    state: State,
}

impl Default for DotUnstuffer {
    fn default() -> Self {
        DotUnstuffer::new()
    }
}

/// What one call to [`DotUnstuffer::feed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fed {
    /// Input bytes consumed (the rest belongs to whatever follows the message).
    pub consumed: usize,
    /// The end of the message was reached.
    pub done: bool,
}

impl DotUnstuffer {
    /// A decoder at the start of the data.
    pub fn new() -> DotUnstuffer {
        DotUnstuffer {
            state: State::LineStart,
        }
    }

    /// True once the terminating line was consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes `input`, appending message bytes to `out`. Stops right after
    /// the terminating `.CRLF`; bytes after it are not consumed.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Fed {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Done => break,
                State::Inside { cr } => {
                    // Fast path: copy up to and including the next LF.
                    let rest = &input[i..];
                    match rest.iter().position(|&b| b == b'\n') {
                        None => {
                            out.extend_from_slice(rest);
                            let cr = rest.last().map_or(cr, |&b| b == b'\r');
                            self.state = State::Inside { cr };
                            i = input.len();
                        }
                        Some(pos) => {
                            out.extend_from_slice(&rest[..=pos]);
                            let before_lf = if pos == 0 { cr } else { rest[pos - 1] == b'\r' };
                            self.state = if before_lf {
                                State::LineStart
                            } else {
                                State::Inside { cr: false }
                            };
                            i += pos + 1;
                        }
                    }
                }
                State::LineStart => {
                    let b = input[i];
                    i += 1;
                    if b == b'.' {
                        self.state = State::Dot;
                    } else {
                        out.push(b);
                        self.state = State::Inside { cr: b == b'\r' };
                    }
                }
                State::Dot => {
                    let b = input[i];
                    i += 1;
                    if b == b'\r' {
                        self.state = State::DotCr;
                    } else {
                        // The dot was stuffing: drop it, keep the byte.
                        out.push(b);
                        self.state = State::Inside { cr: false };
                    }
                }
                State::DotCr => {
                    let b = input[i];
                    i += 1;
                    if b == b'\n' {
                        self.state = State::Done;
                    } else {
                        out.push(b'\r');
                        out.push(b);
                        self.state = State::Inside { cr: b == b'\r' };
                    }
                }
            }
        }
        Fed {
            consumed: i,
            done: self.state == State::Done,
        }
    }
}

/// Dot-stuffs `message` and appends the terminator: what a client sends
/// after DATA. A message that does not end in CRLF gets one (as clients do).
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    let mut line_start = true;
    let mut prev = 0u8;
    for &b in message {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n' && prev == b'\r';
        prev = b;
    }
    if !message.is_empty() && !message.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes `wire` in one piece: (message, bytes left after the terminator).
    fn decode(wire: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut d = DotUnstuffer::new();
        let mut out = Vec::new();
        let fed = d.feed(wire, &mut out);
        let rest = fed.done.then(|| wire[fed.consumed..].to_vec());
        (out, rest)
    }

    fn check(wire: &str, message: &str, rest: Option<&str>) {
        let (got, got_rest) = decode(wire.as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&got),
            message,
            "message of {wire:?}"
        );
        assert_eq!(
            got_rest.map(|r| String::from_utf8_lossy(&r).into_owned()),
            rest.map(str::to_string),
            "rest of {wire:?}"
        );
    }

    #[test]
    fn data_is_unstuffed_and_ends_at_crlf_dot_crlf() {
        check("a\r\n.\r\n", "a\r\n", Some(""));
        check(".\r\n", "", Some(""));
        check("..\r\n.\r\n", ".\r\n", Some(""));
        check(
            "..a\r\n..\r\n.\r\nQUIT\r\n",
            ".a\r\n.\r\n",
            Some("QUIT\r\n"),
        );
        check("a\r\n.b\r\n.\r\n", "a\r\nb\r\n", Some(""));
        check("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", Some(""));
        check("a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", Some(""));
        check("a\r\n", "a\r\n", None);
        check("a\r\n.", "a\r\n", None);
        check("a\r\n.\r", "a\r\n", None);
    }

    #[test]
    fn bare_lf_is_data_and_never_ends_the_message() {
        // The smuggling shapes: none of these ends the message.
        check("a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", Some(""));
        check(
            "a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n",
            "a\n.\r\nMAIL FROM:<x@y>\r\n",
            Some(""),
        );
        check("a\r.\r\nb\r\n.\r\n", "a\r.\r\nb\r\n", Some(""));
        // A line after a bare LF is not unstuffed either.
        check("a\n..b\r\n.\r\n", "a\n..b\r\n", Some(""));
    }

    #[test]
    fn a_100_kb_line_passes_through() {
        let long = "x".repeat(100 * 1024);
        check(
            &format!("{long}\r\n.\r\n"),
            &format!("{long}\r\n"),
            Some(""),
        );
    }

    proptest! {
        #[test]
        fn stuffing_then_decoding_in_any_pieces_gives_the_message_back(
            lines in proptest::collection::vec(
                proptest::string::string_regex("[.a\r\n]{0,6}").unwrap_or_else(|_| unreachable!()), 0..8),
            cuts in proptest::collection::vec(0usize..64, 0..6),
            trailer in "[A-Z]{0,4}",
        ) {
            let mut message: Vec<u8> = Vec::new();
            for l in &lines {
                message.extend_from_slice(l.as_bytes());
                message.extend_from_slice(b"\r\n");
            }
            let mut wire = dot_stuff(&message);
            let body_len = wire.len();
            wire.extend_from_slice(trailer.as_bytes());
            let mut d = DotUnstuffer::new();
            let mut out = Vec::new();
            let mut pos = 0;
            let mut cut_points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
            cut_points.sort_unstable();
            cut_points.push(wire.len());
            for cut in cut_points {
                if cut < pos || d.is_done() {
                    continue;
                }
                let fed = d.feed(&wire[pos..cut], &mut out);
                pos += fed.consumed;
            }
            prop_assert!(d.is_done());
            prop_assert_eq!(pos, body_len);
            prop_assert_eq!(out, message);
        }
    }
}
