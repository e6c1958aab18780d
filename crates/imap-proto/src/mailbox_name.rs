//! Modified UTF-7 mailbox names (RFC 3501 §5.1.3): what IMAP4rev1 clients
//! without UTF8=ACCEPT use on the wire. The command parser does not decode
//! names; sessions call [`decode`] and [`encode`] as their client needs.

/// Why a name is not valid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MailboxNameError {
    /// A byte outside printable US-ASCII.
    #[error("mailbox name contains a byte outside printable US-ASCII")]
    NotPrintableAscii,
    /// `&...` without the closing `-`.
    #[error("unterminated modified base64 in mailbox name")]
    Unterminated,
    /// A character outside the modified base64 alphabet, or bad length.
    #[error("invalid modified base64 in mailbox name")]
    InvalidBase64,
    /// The UTF-16 inside is broken (odd length, lone surrogate).
    #[error("invalid UTF-16 in mailbox name")]
    InvalidUtf16,
    /// Valid but not the one canonical spelling (printable ASCII encoded,
    /// adjacent encoded runs, non-zero padding bits).
    #[error("mailbox name is not in canonical modified UTF-7")]
    NotCanonical,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn is_printable_ascii(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// Encodes a UTF-8 name into modified UTF-7.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_printable_ascii(c) {
            flush_run(&mut out, &mut run);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush_run(&mut out, &mut run);
    out
}

fn flush_run(out: &mut String, run: &mut Vec<u16>) {
    if run.is_empty() {
        return;
    }
    out.push('&');
    let mut bits: u32 = 0;
    let mut nbits = 0;
    for unit in run.drain(..) {
        for byte in unit.to_be_bytes() {
            bits = (bits << 8) | u32::from(byte);
            nbits += 8;
            while nbits >= 6 {
                nbits -= 6;
                out.push(ALPHABET[((bits >> nbits) & 0x3f) as usize] as char);
            }
        }
    }
    if nbits > 0 {
        out.push(ALPHABET[((bits << (6 - nbits)) & 0x3f) as usize] as char);
    }
    out.push('-');
}

fn sextet(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

/// Decodes a modified UTF-7 name into UTF-8, rejecting anything but the
/// canonical encoding.
pub fn decode(wire: &str) -> Result<String, MailboxNameError> {
    let bytes = wire.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(0x20..=0x7e).contains(&b) {
            return Err(MailboxNameError::NotPrintableAscii);
        }
        i += 1;
        if b != b'&' {
            out.push(b as char);
            continue;
        }
        let end = bytes[i..]
            .iter()
            .position(|&c| c == b'-')
            .ok_or(MailboxNameError::Unterminated)?
            + i;
        if end == i {
            out.push('&');
        } else {
            decode_run(&bytes[i..end], &mut out)?;
        }
        i = end + 1;
    }
    if encode(&out) != wire {
        return Err(MailboxNameError::NotCanonical);
    }
    Ok(out)
}

fn decode_run(encoded: &[u8], out: &mut String) -> Result<(), MailboxNameError> {
    let mut units = Vec::with_capacity(encoded.len() * 3 / 8);
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut pending: Option<u8> = None;
    for &c in encoded {
        bits = (bits << 6) | sextet(c).ok_or(MailboxNameError::InvalidBase64)?;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            let byte = ((bits >> nbits) & 0xff) as u8;
            match pending.take() {
                None => pending = Some(byte),
                Some(high) => units.push(u16::from_be_bytes([high, byte])),
            }
        }
        bits &= (1 << nbits) - 1;
    }
    if pending.is_some() || nbits >= 6 {
        return Err(MailboxNameError::InvalidBase64);
    }
    if bits != 0 {
        return Err(MailboxNameError::NotCanonical);
    }
    for c in char::decode_utf16(units) {
        let c = c.map_err(|_| MailboxNameError::InvalidUtf16)?;
        if is_printable_ascii(c) {
            return Err(MailboxNameError::NotCanonical);
        }
        out.push(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_names_encode_as_rfc_examples() {
        let check = |utf8: &str, utf7: &str| {
            assert_eq!(encode(utf8), utf7, "encode {utf8}");
            assert_eq!(decode(utf7).as_deref(), Ok(utf8), "decode {utf7}");
        };
        check("INBOX", "INBOX");
        check("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        check("A&B", "A&-B");
        check("Entwürfe", "Entw&APw-rfe");
        check("😀", "&2D3eAA-");
        check("", "");
    }

    #[test]
    fn non_canonical_and_broken_names_are_rejected() {
        let check = |wire: &str, expected: MailboxNameError| {
            assert_eq!(decode(wire), Err(expected), "{wire}");
        };
        check("&AGE-", MailboxNameError::NotCanonical); // 'a' encoded
        check("&APw-&APw-", MailboxNameError::NotCanonical); // two adjacent runs
        check("&APx-", MailboxNameError::NotCanonical); // padding bits set
        check("&APw", MailboxNameError::Unterminated);
        check("&A-", MailboxNameError::InvalidBase64);
        check("&AP/-", MailboxNameError::InvalidBase64); // '/' is not in the alphabet
        check("&2D0-", MailboxNameError::InvalidUtf16); // lone high surrogate
        check("Entwürfe", MailboxNameError::NotPrintableAscii);
        check("a\tb", MailboxNameError::NotPrintableAscii);
    }

    proptest! {
        #[test]
        fn any_name_round_trips_through_modified_utf7(name in any::<String>()) {
            let wire = encode(&name);
            prop_assert!(wire.bytes().all(|b| (0x20..=0x7e).contains(&b)));
            prop_assert_eq!(decode(&wire), Ok(name));
        }

        #[test]
        fn decoding_arbitrary_text_never_panics(wire in "[ -~]{0,40}") {
            let _ = decode(&wire);
        }
    }
}
