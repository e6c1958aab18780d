//! Content-Transfer-Encoding: naming and decoding (RFC 2045 §6).

/// The transfer encoding of a MIME part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransferEncoding {
    SevenBit,
    EightBit,
    Binary,
    QuotedPrintable,
    Base64,
    /// Any other label, lower-cased (`x-uuencode`, garbage).
    Other(String),
}

/// A part whose Content-Transfer-Encoding this crate cannot decode
/// (IMAP answers such a BINARY fetch with `[UNKNOWN-CTE]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown content-transfer-encoding {encoding:?}")]
pub struct UnknownCte {
    /// The encoding as written in the part's header.
    pub encoding: String,
}

impl TransferEncoding {
    /// Reads a Content-Transfer-Encoding value; `None` (no header) is 7bit.
    pub fn parse(value: Option<&[u8]>) -> Self {
        let Some(value) = value else {
            return Self::SevenBit;
        };
        let text = String::from_utf8_lossy(value);
        // Comments after the token are allowed (RFC 2045 §6.1).
        let token = text
            .split(['(', ' ', '\t', ';'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match token.as_str() {
            "" | "7bit" => Self::SevenBit,
            "8bit" => Self::EightBit,
            "binary" => Self::Binary,
            "quoted-printable" => Self::QuotedPrintable,
            "base64" => Self::Base64,
            _ => Self::Other(token),
        }
    }

    /// The label as sent in BODYSTRUCTURE (upper case).
    pub fn imap_name(&self) -> String {
        match self {
            Self::SevenBit => "7BIT".into(),
            Self::EightBit => "8BIT".into(),
            Self::Binary => "BINARY".into(),
            Self::QuotedPrintable => "QUOTED-PRINTABLE".into(),
            Self::Base64 => "BASE64".into(),
            Self::Other(o) => o.to_ascii_uppercase(),
        }
    }

    /// Whether the body is stored as-is (no decoding needed).
    pub fn is_identity(&self) -> bool {
        matches!(self, Self::SevenBit | Self::EightBit | Self::Binary)
    }

    /// Decodes `body`; identity encodings return it unchanged.
    pub fn decode(&self, body: &[u8]) -> Result<Vec<u8>, UnknownCte> {
        let mut out = Vec::with_capacity(self.decoded_len_hint(body.len()));
        self.decode_into(body, |b| out.push(b))?;
        Ok(out)
    }

    /// Decodes `body` without erroring: unknown encodings give the raw bytes.
    pub fn decode_lossy(&self, body: &[u8]) -> Vec<u8> {
        self.decode(body).unwrap_or_else(|_| body.to_vec())
    }

    /// Length of the decoded body, computed without keeping it.
    pub fn decoded_len(&self, body: &[u8]) -> Result<usize, UnknownCte> {
        let mut n = 0usize;
        self.decode_into(body, |_| n += 1)?;
        Ok(n)
    }

    fn decoded_len_hint(&self, encoded: usize) -> usize {
        match self {
            Self::Base64 => encoded / 4 * 3 + 3,
            _ => encoded,
        }
    }

    fn decode_into(&self, body: &[u8], sink: impl FnMut(u8)) -> Result<(), UnknownCte> {
        match self {
            Self::SevenBit | Self::EightBit | Self::Binary => {
                body.iter().copied().for_each(sink);
                Ok(())
            }
            Self::QuotedPrintable => {
                quoted_printable(body, sink);
                Ok(())
            }
            Self::Base64 => {
                base64(body, sink);
                Ok(())
            }
            Self::Other(o) => Err(UnknownCte {
                encoding: o.clone(),
            }),
        }
    }
}

fn base64_value(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Lenient base64: bytes outside the alphabet are skipped, decoding stops
/// at padding, and a dangling partial group yields what it completes.
fn base64(body: &[u8], mut sink: impl FnMut(u8)) {
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in body {
        if b == b'=' {
            break;
        }
        let Some(v) = base64_value(b) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            sink(((acc >> bits) & 0xff) as u8);
        }
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Lenient quoted-printable: soft line breaks are removed, `=XX` decoded,
/// a stray `=` kept, and white space before a line break dropped.
fn quoted_printable(body: &[u8], mut sink: impl FnMut(u8)) {
    let mut i = 0;
    let mut pending_ws: Vec<u8> = Vec::new();
    while i < body.len() {
        let b = body[i];
        match b {
            b' ' | b'\t' => {
                pending_ws.push(b);
                i += 1;
                continue;
            }
            b'\r' | b'\n' => pending_ws.clear(),
            _ => pending_ws.drain(..).for_each(&mut sink),
        }
        if b == b'=' {
            let rest = &body[i + 1..];
            if rest.starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if rest.starts_with(b"\n") {
                i += 2;
                continue;
            }
            // "=" followed by white space up to the line end is also soft.
            let ws = rest
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
            if ws > 0 && matches!(rest.get(ws), Some(b'\r' | b'\n') | None) {
                i += 1 + ws;
                if body.get(i) == Some(&b'\r') {
                    i += 1;
                }
                if body.get(i) == Some(&b'\n') {
                    i += 1;
                }
                continue;
            }
            if let (Some(&h), Some(&l)) = (rest.first(), rest.get(1))
                && let (Some(h), Some(l)) = (hex_value(h), hex_value(l))
            {
                sink(h << 4 | l);
                i += 3;
                continue;
            }
        }
        sink(b);
        i += 1;
    }
    pending_ws.drain(..).for_each(&mut sink);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(enc: &str, body: &[u8], want: &[u8]) {
        let te = TransferEncoding::parse(Some(enc.as_bytes()));
        assert_eq!(te.decode(body).expect("known"), want, "{enc} {body:?}");
        assert_eq!(te.decoded_len(body).expect("known"), want.len());
    }

    #[test]
    fn transfer_encodings_decode_leniently() {
        check("base64", b"aGVsbG8=", b"hello");
        check("BASE64", b"aGVs\r\nbG8=\r\n", b"hello");
        check("base64", b"aGV*sbG8", b"hello");
        check("base64", b"aGVsb", b"hel");
        check("quoted-printable", b"caf=E9 =\r\nok", b"caf\xe9 ok");
        check("quoted-printable", b"a=3d=3Db", b"a==b");
        check("quoted-printable", b"bad=ZZ=", b"bad=ZZ=");
        check("quoted-printable", b"trail  \r\nx", b"trail\r\nx");
        check("quoted-printable", b"soft= \r\nx", b"softx");
        check("7bit (comment)", b"as is", b"as is");
        check("8bit", b"\xff", b"\xff");
    }

    #[test]
    fn unknown_transfer_encoding_is_an_error() {
        let te = TransferEncoding::parse(Some(b"x-uuencode"));
        assert_eq!(
            te.decode(b"x"),
            Err(UnknownCte {
                encoding: "x-uuencode".into()
            })
        );
        assert_eq!(te.decode_lossy(b"x"), b"x");
        assert_eq!(TransferEncoding::parse(None), TransferEncoding::SevenBit);
    }
}
