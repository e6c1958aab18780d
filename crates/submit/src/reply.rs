//! SMTP/LMTP replies as the client sees them, parsed with smtp-proto.

use std::fmt;

/// Longest reply accepted (all lines together).
pub(crate) const MAX_REPLY: usize = 64 * 1024;

/// One complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The RFC 3463 enhanced status, when the server sent one.
    pub status: Option<[u8; 3]>,
    /// The text; lines of a multi-line reply are joined with `\n`.
    pub text: String,
}

impl Reply {
    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 4xx: try again later.
    pub fn is_temporary(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx: do not try again.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// Parses one complete reply (every line, CRLF included).
    pub(crate) fn parse(raw: &[u8]) -> Option<Reply> {
        let mut receiver = smtp_proto::response::parser::ResponseReceiver::default();
        let r = receiver.parse(&mut raw.iter()).ok()?;
        Some(Reply {
            code: r.code,
            status: (r.esc != [0, 0, 0]).then_some(r.esc),
            text: r.message,
        })
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some([a, b, c]) => write!(f, "{} {a}.{b}.{c} {}", self.code, self.text),
            None => write!(f, "{} {}", self.code, self.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_with_and_without_enhanced_status() {
        let r = Reply::parse(b"250 2.1.5 <a@b> OK\r\n").unwrap();
        assert_eq!(
            (r.code, r.status, r.text.as_str()),
            (250, Some([2, 1, 5]), "<a@b> OK")
        );
        assert!(r.is_success());
        let r = Reply::parse(b"452 4.2.2 full\r\n").unwrap();
        assert!(r.is_temporary() && !r.is_permanent());
        let r = Reply::parse(b"220 mx ESMTP ready\r\n").unwrap();
        assert_eq!((r.code, r.status), (220, None));
        let r = Reply::parse(b"550-5.1.1 first\r\n550 5.1.1 second\r\n").unwrap();
        assert_eq!(r.code, 550);
        assert!(r.is_permanent());
        assert_eq!(r.to_string().lines().count(), 2);
        assert!(Reply::parse(b"hello\r\n").is_none());
    }
}
