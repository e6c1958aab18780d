//! Turns message bytes into DATA as sent on the wire: line ends made CRLF,
//! lines starting with a dot get another (RFC 5321 §4.5.2), and the
//! terminating `.CRLF` appended. Works chunk by chunk.

/// Encodes one message.
#[derive(Debug, Clone)]
pub struct DataEncoder {
    line_start: bool,
    last_cr: bool,
}

impl Default for DataEncoder {
    fn default() -> Self {
        DataEncoder::new()
    }
}

impl DataEncoder {
    /// An encoder at the start of a message.
    pub fn new() -> DataEncoder {
        DataEncoder {
            line_start: true,
            last_cr: false,
        }
    }

    /// Encodes a chunk, appending to `out`. A bare LF becomes CRLF; a bare
    /// CR is kept.
    pub fn encode(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        out.reserve(chunk.len() + chunk.len() / 32 + 4);
        for &b in chunk {
            if self.line_start && b == b'.' {
                out.push(b'.');
            }
            if b == b'\n' && !self.last_cr {
                out.push(b'\r');
            }
            out.push(b);
            self.line_start = b == b'\n';
            self.last_cr = b == b'\r';
        }
    }

    /// Ends the message: a final CRLF when the last line lacks one, then `.CRLF`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        self.line_start = true;
        self.last_cr = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(message: &str, wire: &str) {
        for split in 0..=message.len() {
            let mut e = DataEncoder::new();
            let mut out = Vec::new();
            e.encode(&message.as_bytes()[..split], &mut out);
            e.encode(&message.as_bytes()[split..], &mut out);
            e.finish(&mut out);
            assert_eq!(
                String::from_utf8_lossy(&out),
                wire,
                "{message:?} split at {split}"
            );
        }
    }

    #[test]
    fn messages_are_stuffed_normalised_and_terminated() {
        check("", ".\r\n");
        check("a\r\n", "a\r\n.\r\n");
        check("a", "a\r\n.\r\n");
        check("a\nb\n", "a\r\nb\r\n.\r\n");
        check(".a\r\n..\r\n.\r\n", "..a\r\n...\r\n..\r\n.\r\n");
        check("a\n.\n", "a\r\n..\r\n.\r\n");
        check("a\rb\r\n", "a\rb\r\n.\r\n");
    }
}
