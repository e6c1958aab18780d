//! Service URLs in the discovery documents.

/// `https://host[:port]path`: the port is left out when it is 443, an
/// IPv6 literal gets its brackets.
pub(crate) fn https_url(host: &str, port: u16, path: &str) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    if port == 443 {
        format!("https://{host}{path}")
    } else {
        format!("https://{host}:{port}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_leave_out_443_and_bracket_ipv6() {
        let table = [
            (
                "mail.example.com",
                443,
                "/dav/",
                "https://mail.example.com/dav/",
            ),
            ("localhost", 8443, "/dav/", "https://localhost:8443/dav/"),
            ("::1", 8443, "/x", "https://[::1]:8443/x"),
            ("[::1]", 443, "/x", "https://[::1]/x"),
        ];
        for (host, port, path, want) in table {
            assert_eq!(https_url(host, port, path), want);
        }
    }
}
