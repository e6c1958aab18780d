//! The trace headers delivery puts in front of a message: `Return-Path`,
//! `Delivered-To` and `Received` (RFC 5321 §4.4). They are a separate prefix,
//! so a stored message is exactly prefix + the bytes received.

use std::net::IpAddr;

/// What the trace headers of one transaction say.
#[derive(Debug, Clone)]
pub struct TraceInfo<'a> {
    /// The reverse-path of MAIL FROM (empty for the null sender `<>`).
    pub reverse_path: &'a str,
    /// The name the client gave in LHLO/EHLO/HELO.
    pub helo: &'a str,
    /// The client's address.
    pub peer: IpAddr,
    /// This server's name.
    pub hostname: &'a str,
    /// `LMTP`, `LMTPS`, `ESMTP`, `ESMTPS` or `SMTP` (RFC 3848).
    pub protocol: &'static str,
    /// The transaction's id (also in the logs).
    pub queue_id: &'a str,
    /// The time of receipt, RFC 5322 date-time.
    pub date: &'a str,
}

/// Longest client-supplied value copied into a header.
const MAX_TRACE_FIELD: usize = 255;

/// Client text made safe for a header: printable, no CR/LF, bounded.
fn clean(text: &str, parens_ok: bool) -> String {
    text.chars()
        .take(MAX_TRACE_FIELD)
        .map(|c| {
            let bad = c.is_control() || (!parens_ok && (c == '(' || c == ')'));
            if bad { '?' } else { c }
        })
        .collect()
}

/// The trace prefix for one recipient, CRLF line ends.
pub fn trace_prefix(info: &TraceInfo<'_>, recipient: &str) -> Vec<u8> {
    let recipient = clean(recipient, true);
    let text = format!(
        "Return-Path: <{rp}>\r\n\
         Delivered-To: {recipient}\r\n\
         Received: from {helo} ([{peer}])\r\n\
         \tby {host} (groxide-delivery) with {proto} id {id}\r\n\
         \tfor <{recipient}>; {date}\r\n",
        rp = clean(info.reverse_path, true),
        helo = clean(info.helo, false),
        peer = info.peer,
        host = clean(info.hostname, false),
        proto = info.protocol,
        id = info.queue_id,
        date = info.date,
    );
    text.into_bytes()
}

/// Now, as an RFC 5322 date-time in UTC.
pub fn now_rfc5322() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info<'a>(helo: &'a str, rp: &'a str) -> TraceInfo<'a> {
        TraceInfo {
            reverse_path: rp,
            helo,
            peer: "127.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            hostname: "mx.example.test",
            protocol: "LMTP",
            queue_id: "q1",
            date: "Sun, 29 Nov 2026 19:31:30 +0000",
        }
    }

    #[test]
    fn trace_headers_name_sender_recipient_and_route() {
        let p = trace_prefix(&info("postfix.example.test", "a@b.test"), "u@example.test");
        assert_eq!(
            String::from_utf8_lossy(&p),
            "Return-Path: <a@b.test>\r\n\
             Delivered-To: u@example.test\r\n\
             Received: from postfix.example.test ([127.0.0.1])\r\n\
             \tby mx.example.test (groxide-delivery) with LMTP id q1\r\n\
             \tfor <u@example.test>; Sun, 29 Nov 2026 19:31:30 +0000\r\n"
        );
    }

    #[test]
    fn client_text_cannot_break_the_header() {
        let p = trace_prefix(&info("evil\r\nX-Injected: 1 (x)", ""), "u@x");
        let s = String::from_utf8_lossy(&p);
        assert!(s.contains("Return-Path: <>\r\n"));
        assert!(!s.contains("\nX-Injected"));
        assert!(s.contains("from evil??X-Injected: 1 ?x? ("));
        assert_eq!(s.matches("\r\n").count(), 5);
    }

    #[test]
    fn the_date_is_rfc5322() {
        let d = now_rfc5322();
        assert!(d.ends_with("+0000"), "{d}");
        assert_eq!(d.split(' ').count(), 6, "{d}");
    }
}
