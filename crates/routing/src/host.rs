//! The host column of a list file: an IP literal or a hostname.

use std::net::IpAddr;

/// Longest hostname (RFC 1035, in text form without the trailing dot).
const MAX_HOSTNAME_LEN: usize = 253;
/// Longest label of a hostname.
const MAX_LABEL_LEN: usize = 63;

/// Checks a host: an IPv6 or IPv4 literal (IPv4-mapped IPv6 is returned as
/// IPv4 text, so one peer has one spelling) or an RFC 1123 hostname
/// (returned as written). A bracketed `[::1]` is accepted for IPv6.
pub(crate) fn normalise_host(text: &str) -> Option<String> {
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'));
    if let Some(inner) = unbracketed {
        return match inner.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => Some(IpAddr::V6(v6).to_canonical().to_string()),
            _ => None,
        };
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical().to_string());
    }
    is_hostname(text).then(|| text.to_string())
}

fn is_hostname(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() || name.len() > MAX_HOSTNAME_LEN {
        return false;
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    // All-numeric names are malformed IPv4 addresses (10.0.0.256), not hostnames.
    let looks_numeric = name
        .split('.')
        .all(|label| label.bytes().all(|b| b.is_ascii_digit()));
    labels_ok && !looks_numeric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<&str>) {
        assert_eq!(
            normalise_host(text).as_deref(),
            expected,
            "normalise_host({text:?})"
        );
    }

    #[test]
    fn hosts_are_ip_literals_or_hostnames() {
        check("::1", Some("::1"));
        check("[::1]", Some("::1"));
        check("127.0.0.2", Some("127.0.0.2"));
        check("::ffff:127.0.0.2", Some("127.0.0.2"));
        check("[::ffff:10.0.0.1]", Some("10.0.0.1"));
        check("2001:DB8::1", Some("2001:db8::1"));
        check("db1", Some("db1"));
        check("db-1.example.com", Some("db-1.example.com"));
        check("db1.example.com.", Some("db1.example.com."));
        check("Node3", Some("Node3"));
    }

    #[test]
    fn malformed_hosts_are_refused() {
        check("", None);
        check("[127.0.0.1]", None);
        check("10.0.0.256", None);
        check("1234", None);
        check("db_1", None);
        check("-db", None);
        check("db-", None);
        check("a..b", None);
        check(".", None);
        check("db1:5000", None);
        check(&"a".repeat(64), None);
        check(&format!("{}.com", "a.".repeat(126)), None);
    }
}
