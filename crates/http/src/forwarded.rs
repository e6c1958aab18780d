//! The client behind reverse proxies: `Forwarded` (RFC 7239) or, without
//! it, `X-Forwarded-For`, believed only hop by hop from trusted proxies.
//!
//! Starting at the connection's address, while that address is a trusted
//! proxy, the next address to the left in the chain (the one that proxy
//! added) becomes the client. A forged entry a client puts in front of the
//! chain is never reached unless every proxy after it is trusted; an entry
//! that is not an address (`unknown`, an obfuscated name) stops the walk.
//! No I/O.

use groxide_config::NetList;
use http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// Most chain entries looked at (a longer chain is read from its right end).
const MAX_HOPS: usize = 32;

/// The client's address for a request that arrived from `from`.
pub fn client_address(from: IpAddr, headers: &HeaderMap, trusted: &NetList) -> IpAddr {
    if trusted.is_empty() || !trusted.contains(from) {
        return from;
    }
    let chain = chain(headers);
    let mut client = from;
    for entry in chain.iter().rev().take(MAX_HOPS) {
        match entry {
            Some(ip) => client = canonical(*ip),
            None => return client,
        }
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The forwarding chain, left (first) to right (last proxy's view); `None`
/// for entries that are not addresses.
fn chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(|entry| node(entry.trim()))
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`.
fn node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse::<IpAddr>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ip(t: &str) -> IpAddr {
        t.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_trusted_proxies_hop_by_hop() {
        let trusted = NetList::parse("10.0.0.0/8 ::1").unwrap();
        let none = NetList::default();
        let xff = [("x-forwarded-for", "203.0.113.7")];
        type Case<'a> = (
            &'a str,
            Vec<(&'static str, &'static str)>,
            &'a NetList,
            &'a str,
        );
        let table: Vec<Case> = vec![
            // From a trusted proxy: the client it names.
            ("10.0.0.5", xff.to_vec(), &trusted, "203.0.113.7"),
            // From anyone else: the header is ignored.
            ("198.51.100.9", xff.to_vec(), &trusted, "198.51.100.9"),
            ("10.0.0.5", xff.to_vec(), &none, "10.0.0.5"),
            // A forged entry in front of the real client stays unread.
            (
                "10.0.0.5",
                vec![("x-forwarded-for", "1.2.3.4, 203.0.113.7")],
                &trusted,
                "203.0.113.7",
            ),
            // Two trusted proxies in a row.
            (
                "10.0.0.5",
                vec![("x-forwarded-for", "203.0.113.7, 10.0.0.6")],
                &trusted,
                "203.0.113.7",
            ),
            // Chain split over two header lines.
            (
                "10.0.0.5",
                vec![
                    ("x-forwarded-for", "203.0.113.7"),
                    ("x-forwarded-for", "10.0.0.6"),
                ],
                &trusted,
                "203.0.113.7",
            ),
            // Every entry trusted: the leftmost.
            (
                "10.0.0.5",
                vec![("x-forwarded-for", "10.0.0.7, 10.0.0.6")],
                &trusted,
                "10.0.0.7",
            ),
            // Garbage stops the walk at the last believable hop.
            (
                "10.0.0.5",
                vec![("x-forwarded-for", "203.0.113.7, junk")],
                &trusted,
                "10.0.0.5",
            ),
            // Forwarded wins over X-Forwarded-For; quoted IPv6 with port.
            (
                "::1",
                vec![
                    ("forwarded", "for=\"[2001:db8::17]:4711\";proto=https"),
                    ("x-forwarded-for", "1.2.3.4"),
                ],
                &trusted,
                "2001:db8::17",
            ),
            (
                "::1",
                vec![(
                    "forwarded",
                    "for=192.0.2.60;proto=http;by=203.0.113.43, for=10.0.0.9",
                )],
                &trusted,
                "192.0.2.60",
            ),
            ("::1", vec![("forwarded", "for=unknown")], &trusted, "::1"),
            (
                "10.0.0.5",
                vec![("x-forwarded-for", "192.0.2.1:5555")],
                &trusted,
                "192.0.2.1",
            ),
            (
                "10.0.0.5",
                vec![("x-forwarded-for", "::ffff:192.0.2.1")],
                &trusted,
                "192.0.2.1",
            ),
            ("10.0.0.5", vec![], &trusted, "10.0.0.5"),
        ];
        for (from, pairs, trust, want) in table {
            let got = client_address(ip(from), &headers(&pairs), trust);
            assert_eq!(got, ip(want), "{from} {pairs:?}");
        }
    }
}
