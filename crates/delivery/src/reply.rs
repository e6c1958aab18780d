//! LMTP/SMTP replies: a code, an RFC 3463 enhanced status and one line of
//! text, and the replies this server sends.

use std::borrow::Cow;
use std::fmt;

/// One reply line (or the last line of a multi-line reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: u16,
    /// The RFC 3463 enhanced status (`"5.1.1"`), empty for the greeting and
    /// LHLO/EHLO lines, which carry none (RFC 2034).
    pub status: &'static str,
    /// Human-readable text; CR and LF are replaced when written.
    pub text: Cow<'static, str>,
}

impl Reply {
    /// A reply with an enhanced status.
    pub fn new(code: u16, status: &'static str, text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            code,
            status,
            text: text.into(),
        }
    }

    /// True for 2xx and 3xx.
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// Appends the reply as one line, `more` = a continuation line (`250-`).
    pub fn write_line(&self, out: &mut Vec<u8>, more: bool) {
        out.extend_from_slice(self.code.to_string().as_bytes());
        out.push(if more { b'-' } else { b' ' });
        if !self.status.is_empty() {
            out.extend_from_slice(self.status.as_bytes());
            out.push(b' ');
        }
        // A reply is one line whatever the text holds (addresses come from clients).
        out.extend(
            self.text
                .bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        out.extend_from_slice(b"\r\n");
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status.is_empty() {
            write!(f, "{} {}", self.code, self.text)
        } else {
            write!(f, "{} {} {}", self.code, self.status, self.text)
        }
    }
}

/// Writes a multi-line reply: every line but the last is a continuation.
pub fn write_multiline(out: &mut Vec<u8>, code: u16, lines: &[String]) {
    for (i, line) in lines.iter().enumerate() {
        Reply {
            code,
            status: "",
            text: Cow::Owned(line.clone()),
        }
        .write_line(out, i + 1 < lines.len());
    }
}

/// 250 2.0.0 for commands that just succeed (RSET, NOOP, MAIL).
pub fn ok() -> Reply {
    Reply::new(250, "2.0.0", "OK")
}

/// 503 5.5.1: a command out of order.
pub fn bad_sequence(text: &'static str) -> Reply {
    Reply::new(503, "5.5.1", text)
}

/// 500 5.5.1: a command this server does not know.
pub fn unknown_command() -> Reply {
    Reply::new(500, "5.5.1", "unknown command")
}

/// 502 5.5.1: a known command that is not offered.
pub fn not_implemented() -> Reply {
    Reply::new(502, "5.5.1", "command not implemented")
}

/// 500 5.5.2: a command line longer than the limit.
pub fn line_too_long(limit: usize) -> Reply {
    Reply::new(500, "5.5.2", format!("line too long (limit {limit} bytes)"))
}

/// 501 5.5.4: a command with bad syntax or parameters.
pub fn syntax(text: impl Into<Cow<'static, str>>) -> Reply {
    Reply::new(501, "5.5.4", text)
}

/// 552 5.3.4: the message is larger than allowed.
pub fn too_big(limit: u64) -> Reply {
    Reply::new(
        552,
        "5.3.4",
        format!("message exceeds the size limit of {limit} bytes"),
    )
}

/// 451 4.3.0: a temporary failure; the client keeps the message and retries.
pub fn try_later(text: impl Into<Cow<'static, str>>) -> Reply {
    Reply::new(451, "4.3.0", text)
}

/// 421 4.4.2: the connection was idle too long.
pub fn idle_timeout() -> Reply {
    Reply::new(421, "4.4.2", "idle timeout, closing connection")
}

/// 421 4.3.2: the server is shutting down.
pub fn shutting_down() -> Reply {
    Reply::new(421, "4.3.2", "service shutting down, closing connection")
}

/// 421 4.7.0: too many bad commands on one connection.
pub fn too_many_errors() -> Reply {
    Reply::new(421, "4.7.0", "too many errors, closing connection")
}

/// 221 2.0.0: the answer to QUIT.
pub fn bye() -> Reply {
    Reply::new(221, "2.0.0", "bye")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(r: &Reply, more: bool) -> String {
        let mut out = Vec::new();
        r.write_line(&mut out, more);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn replies_are_written_as_one_crlf_line() {
        assert_eq!(line(&ok(), false), "250 2.0.0 OK\r\n");
        assert_eq!(line(&ok(), true), "250-2.0.0 OK\r\n");
        let evil = Reply::new(550, "5.1.1", "<a\r\n250 b@c>");
        assert_eq!(line(&evil, false), "550 5.1.1 <a  250 b@c>\r\n");
        let greeting = Reply::new(220, "", "host LMTP ready");
        assert_eq!(line(&greeting, false), "220 host LMTP ready\r\n");
    }

    #[test]
    fn multiline_replies_continue_all_but_the_last_line() {
        let mut out = Vec::new();
        write_multiline(
            &mut out,
            250,
            &["host".into(), "PIPELINING".into(), "SIZE 10".into()],
        );
        assert_eq!(out, b"250-host\r\n250-PIPELINING\r\n250 SIZE 10\r\n");
    }
}
