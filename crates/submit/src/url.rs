//! `outgoing_smtp_url`: where and how outgoing mail is handed over, in
//! gromox's syntax (`smtp://`, `smtps://`, `smtp+tls://`,
//! `smtp+unverifiedtls://`), plus `lmtp://` for delivery tests and tools.

use crate::error::SubmitError;
use std::fmt;
use std::str::FromStr;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No TLS (`smtp://`, `lmtp://`).
    Plain,
    /// STARTTLS is required; `verify` = check the certificate and name
    /// (`smtp+tls://`), or not (`smtp+unverifiedtls://`).
    StartTls {
        /// Check the relay's certificate chain and host name.
        verify: bool,
    },
    /// TLS from the first byte (`smtps://`), certificate checked.
    ImplicitTls,
}

/// Which dialect the relay speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SMTP (EHLO; one reply after DATA).
    Smtp,
    /// LMTP (LHLO; one reply per accepted recipient after DATA).
    Lmtp,
}

/// A parsed relay URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayUrl {
    /// SMTP or LMTP.
    pub dialect: Dialect,
    /// TLS mode.
    pub security: Security,
    /// Host name or IP literal (without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Port when the URL names none: 465 for `smtps`, 24 for `lmtp`, else 25.
fn default_port(dialect: Dialect, security: Security) -> u16 {
    match (dialect, security) {
        (Dialect::Lmtp, _) => 24,
        (_, Security::ImplicitTls) => 465,
        _ => 25,
    }
}

impl FromStr for RelayUrl {
    type Err = SubmitError;

    fn from_str(url: &str) -> Result<RelayUrl, SubmitError> {
        let bad = |reason: &str| SubmitError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://host[:port]"))?;
        let (dialect, security) = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => (Dialect::Smtp, Security::Plain),
            "smtp+tls" => (Dialect::Smtp, Security::StartTls { verify: true }),
            "smtp+unverifiedtls" => (Dialect::Smtp, Security::StartTls { verify: false }),
            "smtps" => (Dialect::Smtp, Security::ImplicitTls),
            "lmtp" => (Dialect::Lmtp, Security::Plain),
            "sendmail" => return Err(bad("sendmail:// is not supported; use smtp://host:port")),
            _ => {
                return Err(bad(
                    "unknown scheme (smtp, smtps, smtp+tls, smtp+unverifiedtls, lmtp)",
                ));
            }
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains(['/', '@', '?', '#']) {
            return Err(bad("only host and port may follow the scheme"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in an IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ]"))?),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => default_port(dialect, security),
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("port must be 1..65535"))?,
        };
        Ok(RelayUrl {
            dialect,
            security,
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match (self.dialect, self.security) {
            (Dialect::Lmtp, _) => "lmtp",
            (_, Security::Plain) => "smtp",
            (_, Security::StartTls { verify: true }) => "smtp+tls",
            (_, Security::StartTls { verify: false }) => "smtp+unverifiedtls",
            (_, Security::ImplicitTls) => "smtps",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expected: Result<(Dialect, Security, &str, u16), &str>) {
        let got = url.parse::<RelayUrl>();
        match (got, expected) {
            (Ok(r), Ok((d, s, h, p))) => {
                assert_eq!(
                    (r.dialect, r.security, r.host.as_str(), r.port),
                    (d, s, h, p),
                    "{url}"
                );
            }
            (Err(e), Err(needle)) => assert!(e.to_string().contains(needle), "{url}: {e}"),
            (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn gromox_url_forms_parse() {
        use Dialect::*;
        use Security::*;
        check("smtp://localhost:25", Ok((Smtp, Plain, "localhost", 25)));
        check(
            "smtp://mail.example.test",
            Ok((Smtp, Plain, "mail.example.test", 25)),
        );
        check(
            "smtps://relay.test",
            Ok((Smtp, ImplicitTls, "relay.test", 465)),
        );
        check(
            "smtp+tls://relay.test:587",
            Ok((Smtp, StartTls { verify: true }, "relay.test", 587)),
        );
        check(
            "SMTP+UnverifiedTLS://10.0.0.1:2525/",
            Ok((Smtp, StartTls { verify: false }, "10.0.0.1", 2525)),
        );
        check("smtp://[::1]:10025", Ok((Smtp, Plain, "::1", 10025)));
        check("smtp://[::1]", Ok((Smtp, Plain, "::1", 25)));
        check(
            "lmtp://127.0.0.1:2424",
            Ok((Lmtp, Plain, "127.0.0.1", 2424)),
        );
        check("sendmail://localhost", Err("sendmail:// is not supported"));
        check("http://x", Err("unknown scheme"));
        check("localhost:25", Err("expected scheme"));
        check("smtp://:25", Err("no host"));
        check("smtp://h:0", Err("port must be"));
        check("smtp://h:99999", Err("port must be"));
        check("smtp://user@h", Err("only host and port"));
        check("smtp://[::1", Err("unclosed"));
    }

    #[test]
    fn urls_print_back_in_their_own_syntax() {
        for u in [
            "smtp://h:25",
            "smtps://[::1]:465",
            "smtp+tls://h:587",
            "smtp+unverifiedtls://h:25",
            "lmtp://h:24",
        ] {
            assert_eq!(
                u.parse::<RelayUrl>().map(|r| r.to_string()).ok().as_deref(),
                Some(u)
            );
        }
    }
}
