//! Bind specifier lists (`*_listen` keys, gromox 3.5+): where a daemon listens.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// Longest Unix socket path Linux accepts (`sun_path` is 108 bytes with the NUL).
pub const MAX_UNIX_SOCKET_PATH: usize = 107;

/// One place to listen on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BindAddr {
    /// A TCP address; IPv4-mapped IPv6 addresses are stored as IPv4.
    Tcp(SocketAddr),
    /// A Unix domain socket at an absolute path.
    Unix(PathBuf),
}

impl fmt::Display for BindAddr {
    /// The form [`parse_bind_list`] reads back: `[::1]:143`, `127.0.0.1:143`, `unix:/run/x.sock`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindAddr::Tcp(address) => write!(f, "{address}"),
            BindAddr::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Parses a space-separated list of bind specifiers: `[addr]:port` (IPv6,
/// or IPv4-mapped), `a.b.c.d:port` (IPv4) and `unix:/absolute/path`.
///
/// The empty list means "do not listen". Ports are 1..=65535; hostnames are
/// refused (a daemon binds addresses, and a name could resolve differently
/// tomorrow); an address listed twice is refused, as binding it twice would
/// fail anyway. The error text names the bad entry.
pub fn parse_bind_list(text: &str) -> Result<Vec<BindAddr>, String> {
    let mut list = Vec::new();
    for word in text.split_whitespace() {
        let address = parse_bind_addr(word).map_err(|reason| format!("{word:?}: {reason}"))?;
        if list.contains(&address) {
            return Err(format!("{word:?}: listed twice"));
        }
        list.push(address);
    }
    Ok(list)
}

fn parse_bind_addr(word: &str) -> Result<BindAddr, String> {
    if let Some(path) = word.strip_prefix("unix:") {
        if !path.starts_with('/') {
            return Err("a unix socket path must be absolute".to_string());
        }
        if path.len() > MAX_UNIX_SOCKET_PATH {
            return Err(format!(
                "a unix socket path may have at most {MAX_UNIX_SOCKET_PATH} bytes"
            ));
        }
        return Ok(BindAddr::Unix(PathBuf::from(path)));
    }
    let expected = "expected [IPv6 address]:port, IPv4 address:port or unix:/path";
    let address: SocketAddr = word.parse().map_err(|_| expected.to_string())?;
    if address.port() == 0 {
        return Err("port must be 1..=65535".to_string());
    }
    let ip: IpAddr = address.ip().to_canonical();
    Ok(BindAddr::Tcp(SocketAddr::new(ip, address.port())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(text: &str) -> BindAddr {
        BindAddr::Tcp(
            text.parse()
                .unwrap_or_else(|_| panic!("bad test address {text}")),
        )
    }

    #[track_caller]
    fn check(text: &str, expected: Result<Vec<BindAddr>, &str>) {
        assert_eq!(
            parse_bind_list(text),
            expected.map_err(str::to_string),
            "parse_bind_list({text:?})"
        );
    }

    #[test]
    fn bind_lists_accept_ipv6_ipv4_and_unix_sockets() {
        check("", Ok(vec![]));
        check("[::]:143", Ok(vec![tcp("[::]:143")]));
        check(
            "[::1]:5000 127.0.0.2:5000",
            Ok(vec![tcp("[::1]:5000"), tcp("127.0.0.2:5000")]),
        );
        check("[::ffff:127.0.0.3]:24", Ok(vec![tcp("127.0.0.3:24")]));
        check(
            "unix:/run/groxide/zcore.sock",
            Ok(vec![BindAddr::Unix(PathBuf::from(
                "/run/groxide/zcore.sock",
            ))]),
        );
    }

    #[test]
    fn bind_lists_refuse_hostnames_bad_ports_and_duplicates() {
        check(
            "localhost:143",
            Err("\"localhost:143\": expected [IPv6 address]:port, IPv4 address:port or unix:/path"),
        );
        check(
            "::1:143",
            Err("\"::1:143\": expected [IPv6 address]:port, IPv4 address:port or unix:/path"),
        );
        check(
            "[::1]",
            Err("\"[::1]\": expected [IPv6 address]:port, IPv4 address:port or unix:/path"),
        );
        check("[::1]:0", Err("\"[::1]:0\": port must be 1..=65535"));
        check(
            "[::1]:65536",
            Err("\"[::1]:65536\": expected [IPv6 address]:port, IPv4 address:port or unix:/path"),
        );
        check(
            "unix:run/x.sock",
            Err("\"unix:run/x.sock\": a unix socket path must be absolute"),
        );
        check("[::1]:25 [::1]:25", Err("\"[::1]:25\": listed twice"));
        check(
            "127.0.0.1:25 [::ffff:127.0.0.1]:25",
            Err("\"[::ffff:127.0.0.1]:25\": listed twice"),
        );
        let long = format!("unix:/{}", "x".repeat(MAX_UNIX_SOCKET_PATH));
        assert!(parse_bind_list(&long).is_err());
    }

    #[test]
    fn a_bind_address_displays_as_it_parses() {
        for text in [
            "[::1]:143",
            "127.0.0.1:24",
            "unix:/run/a.sock",
            "[fe80::1]:993",
        ] {
            let parsed = parse_bind_list(text);
            let shown: Vec<String> = parsed.iter().flatten().map(ToString::to_string).collect();
            assert_eq!(shown, vec![text.to_string()]);
        }
    }
}
