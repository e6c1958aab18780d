//! The PROXY protocol (HAProxy's, versions 1 and 2): the header a proxy
//! sends before the client's bytes to name the client. Parsing is I/O-free
//! ([`parse`]); [`read_header`] reads exactly the header from a stream and
//! hands back what followed it.
//!
//! Only peers listed in `http_proxy_protocol_from` are read this way, and
//! from them a header is required: otherwise a client whose bytes a proxy
//! passes through unchanged could name any address it likes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The version 2 signature.
const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Longest version 1 line, CRLF included (the protocol's own bound).
const V1_MAX: usize = 107;

/// What a header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    /// A proxied connection from `source` to `destination`.
    Proxied {
        /// The client.
        source: SocketAddr,
        /// The address the client connected to.
        destination: SocketAddr,
    },
    /// The proxy's own connection (health check, `LOCAL`) or an address
    /// family without addresses (`UNKNOWN`, `AF_UNSPEC`, UNIX sockets): the
    /// peer itself is the client.
    Unnamed,
}

/// The result of parsing the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A complete header of `len` bytes.
    Header {
        /// What it says.
        header: ProxyHeader,
        /// Its length; the client's bytes start after it.
        len: usize,
    },
    /// The bytes so far are the start of a header; read more.
    Incomplete,
    /// Not a PROXY header, or a broken one.
    Invalid(&'static str),
}

/// Parses the start of a connection.
pub fn parse(buf: &[u8]) -> Parsed {
    if buf.is_empty() {
        return Parsed::Incomplete;
    }
    if buf[0] == b'\r' {
        let n = buf.len().min(V2_SIGNATURE.len());
        if buf[..n] != V2_SIGNATURE[..n] {
            return Parsed::Invalid("not a PROXY protocol header");
        }
        return parse_v2(buf);
    }
    let n = buf.len().min(6);
    if buf[..n] != b"PROXY "[..n] {
        return Parsed::Invalid("not a PROXY protocol header");
    }
    parse_v1(buf)
}

fn parse_v1(buf: &[u8]) -> Parsed {
    let window = &buf[..buf.len().min(V1_MAX)];
    let Some(end) = window.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= V1_MAX {
            Parsed::Invalid("PROXY v1 line longer than 107 bytes")
        } else {
            Parsed::Incomplete
        };
    };
    let len = end + 2;
    let Ok(line) = std::str::from_utf8(&buf[..end]) else {
        return Parsed::Invalid("PROXY v1 line is not text");
    };
    let fields: Vec<&str> = line.split(' ').collect();
    match fields.as_slice() {
        ["PROXY", "UNKNOWN", ..] => Parsed::Header {
            header: ProxyHeader::Unnamed,
            len,
        },
        ["PROXY", family @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let v4 = *family == "TCP4";
            let (Some(src), Some(dst)) = (v1_ip(src, v4), v1_ip(dst, v4)) else {
                return Parsed::Invalid("PROXY v1 address does not match its family");
            };
            let (Some(sport), Some(dport)) = (v1_port(sport), v1_port(dport)) else {
                return Parsed::Invalid("PROXY v1 port is not 0..65535");
            };
            Parsed::Header {
                header: ProxyHeader::Proxied {
                    source: SocketAddr::new(src, sport),
                    destination: SocketAddr::new(dst, dport),
                },
                len,
            }
        }
        _ => Parsed::Invalid("PROXY v1 line is malformed"),
    }
}

fn v1_ip(text: &str, v4: bool) -> Option<IpAddr> {
    if v4 {
        text.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    } else {
        text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    }
}

fn v1_port(text: &str) -> Option<u16> {
    // No sign, no leading zeros beyond "0" itself (the protocol's grammar).
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

fn parse_v2(buf: &[u8]) -> Parsed {
    if buf.len() < 16 {
        return Parsed::Incomplete;
    }
    let version_command = buf[12];
    if version_command >> 4 != 2 {
        return Parsed::Invalid("PROXY v2 header with another version");
    }
    let family = buf[13];
    let body_len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    let len = 16 + body_len;
    if buf.len() < len {
        return Parsed::Incomplete;
    }
    let body = &buf[16..len];
    let header = match version_command & 0x0F {
        0x0 => ProxyHeader::Unnamed,
        0x1 => match family {
            // TCP or UDP over IPv4.
            0x11 | 0x12 => {
                if body.len() < 12 {
                    return Parsed::Invalid("PROXY v2 IPv4 addresses cut short");
                }
                let src = Ipv4Addr::new(body[0], body[1], body[2], body[3]);
                let dst = Ipv4Addr::new(body[4], body[5], body[6], body[7]);
                ProxyHeader::Proxied {
                    source: SocketAddr::new(src.into(), u16::from_be_bytes([body[8], body[9]])),
                    destination: SocketAddr::new(
                        dst.into(),
                        u16::from_be_bytes([body[10], body[11]]),
                    ),
                }
            }
            // TCP or UDP over IPv6.
            0x21 | 0x22 => {
                if body.len() < 36 {
                    return Parsed::Invalid("PROXY v2 IPv6 addresses cut short");
                }
                let mut src = [0u8; 16];
                let mut dst = [0u8; 16];
                src.copy_from_slice(&body[0..16]);
                dst.copy_from_slice(&body[16..32]);
                ProxyHeader::Proxied {
                    source: SocketAddr::new(
                        Ipv6Addr::from(src).into(),
                        u16::from_be_bytes([body[32], body[33]]),
                    ),
                    destination: SocketAddr::new(
                        Ipv6Addr::from(dst).into(),
                        u16::from_be_bytes([body[34], body[35]]),
                    ),
                }
            }
            // AF_UNSPEC, UNIX sockets: no address of the client to use.
            0x00 | 0x31 | 0x32 => ProxyHeader::Unnamed,
            _ => return Parsed::Invalid("PROXY v2 header with an unknown address family"),
        },
        _ => return Parsed::Invalid("PROXY v2 header with an unknown command"),
    };
    Parsed::Header { header, len }
}

/// Why a connection's PROXY header could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not a valid header.
    #[error("{0}")]
    Invalid(&'static str),
    /// The peer closed the connection before a whole header arrived.
    #[error("connection closed before the PROXY header was complete")]
    Closed,
    /// A read failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads a PROXY header from the start of `stream`. Returns it with the
/// bytes read past its end (the start of the client's own data).
pub async fn read_header<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(ProxyHeader, Vec<u8>), ReadError> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    loop {
        match parse(&buf) {
            Parsed::Header { header, len } => return Ok((header, buf.split_off(len))),
            Parsed::Invalid(why) => return Err(ReadError::Invalid(why)),
            Parsed::Incomplete => {}
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn v2(command: u8, family: u8, body: &[u8]) -> Vec<u8> {
        let mut out = V2_SIGNATURE.to_vec();
        out.push(0x20 | command);
        out.push(family);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn version_1_lines_name_the_client() {
        let table: &[(&[u8], Parsed)] = &[
            (
                b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /",
                Parsed::Header {
                    header: ProxyHeader::Proxied {
                        source: sa("192.0.2.1:56324"),
                        destination: sa("198.51.100.2:443"),
                    },
                    len: 45,
                },
            ),
            (
                b"PROXY TCP6 2001:db8::1 2001:db8::2 1 443\r\n",
                Parsed::Header {
                    header: ProxyHeader::Proxied {
                        source: sa("[2001:db8::1]:1"),
                        destination: sa("[2001:db8::2]:443"),
                    },
                    len: 42,
                },
            ),
            (
                b"PROXY UNKNOWN\r\n",
                Parsed::Header {
                    header: ProxyHeader::Unnamed,
                    len: 15,
                },
            ),
            (
                b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
                Parsed::Header {
                    header: ProxyHeader::Unnamed,
                    len: 35,
                },
            ),
            (b"PROXY TCP4 192.0.2.1 198.51", Parsed::Incomplete),
            (b"PRO", Parsed::Incomplete),
            (
                b"PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n",
                Parsed::Invalid("PROXY v1 address does not match its family"),
            ),
            (
                b"PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n",
                Parsed::Invalid("PROXY v1 port is not 0..65535"),
            ),
            (
                b"PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n",
                Parsed::Invalid("PROXY v1 port is not 0..65535"),
            ),
            (
                b"PROXY TCP4 192.0.2.1\r\n",
                Parsed::Invalid("PROXY v1 line is malformed"),
            ),
            (
                b"GET / HTTP/1.1\r\n",
                Parsed::Invalid("not a PROXY protocol header"),
            ),
        ];
        for (input, want) in table {
            assert_eq!(parse(input), *want, "{}", String::from_utf8_lossy(input));
        }
        let long = [b"PROXY TCP4 ".as_slice(), &[b'1'; 120]].concat();
        assert_eq!(
            parse(&long),
            Parsed::Invalid("PROXY v1 line longer than 107 bytes")
        );
    }

    #[test]
    fn version_2_headers_name_the_client_and_skip_their_tlvs() {
        let mut v4 = vec![192, 0, 2, 1, 198, 51, 100, 2];
        v4.extend_from_slice(&56324u16.to_be_bytes());
        v4.extend_from_slice(&443u16.to_be_bytes());
        let mut with_tlv = v4.clone();
        with_tlv.extend_from_slice(&[0x20, 0x00, 0x01, 0x01]); // PP2_TYPE_SSL
        let header = v2(1, 0x11, &with_tlv);
        assert_eq!(
            parse(&[header.as_slice(), b"GET"].concat()),
            Parsed::Header {
                header: ProxyHeader::Proxied {
                    source: sa("192.0.2.1:56324"),
                    destination: sa("198.51.100.2:443"),
                },
                len: 16 + 16,
            }
        );
        let mut v6 = Vec::new();
        v6.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend_from_slice(&[0, 7, 1, 187]);
        assert_eq!(
            parse(&v2(1, 0x21, &v6)),
            Parsed::Header {
                header: ProxyHeader::Proxied {
                    source: sa("[2001:db8::1]:7"),
                    destination: sa("[2001:db8::2]:443"),
                },
                len: 52,
            }
        );
        assert_eq!(
            parse(&v2(0, 0x00, &[])),
            Parsed::Header {
                header: ProxyHeader::Unnamed,
                len: 16
            }
        );
        assert_eq!(parse(&header[..20]), Parsed::Incomplete);
        assert_eq!(parse(&header[..10]), Parsed::Incomplete);
        assert_eq!(
            parse(&v2(1, 0x11, &v4[..8])),
            Parsed::Invalid("PROXY v2 IPv4 addresses cut short")
        );
        assert_eq!(
            parse(&v2(1, 0x41, &[])),
            Parsed::Invalid("PROXY v2 header with an unknown address family")
        );
        assert_eq!(
            parse(&v2(5, 0x11, &v4)),
            Parsed::Invalid("PROXY v2 header with an unknown command")
        );
        let mut v3 = v2(1, 0x11, &v4);
        v3[12] = 0x31;
        assert_eq!(
            parse(&v3),
            Parsed::Invalid("PROXY v2 header with another version")
        );
        assert_eq!(
            parse(b"\r\nX"),
            Parsed::Invalid("not a PROXY protocol header")
        );
    }

    #[tokio::test]
    async fn reading_a_header_keeps_the_bytes_after_it() {
        let data = b"PROXY TCP4 192.0.2.9 192.0.2.1 4000 80\r\nGET / HTTP/1.1\r\n".to_vec();
        let mut stream = std::io::Cursor::new(data);
        let (header, rest) = read_header(&mut stream).await.unwrap();
        assert_eq!(
            header,
            ProxyHeader::Proxied {
                source: sa("192.0.2.9:4000"),
                destination: sa("192.0.2.1:80"),
            }
        );
        let mut tail = Vec::new();
        stream.read_to_end(&mut tail).await.unwrap();
        assert_eq!([rest, tail].concat(), b"GET / HTTP/1.1\r\n");
        let mut short = std::io::Cursor::new(b"PROXY TCP4 192".to_vec());
        assert!(matches!(
            read_header(&mut short).await,
            Err(ReadError::Closed)
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&bytes);
            let mut signed = V2_SIGNATURE.to_vec();
            signed.extend_from_slice(&bytes);
            let _ = parse(&signed);
        }
    }
}
