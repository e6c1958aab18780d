//! IMAP ENVELOPE (RFC 3501 §7.4.2, RFC 9051 §7.5.2).

use crate::address::{RawAddress, RawMailbox, parse_address_list};
use crate::header::{HeaderField, unfold_first};
use crate::imap_string::{write_nstring, write_string};
use crate::limits::MimeLimits;

/// Host written for a mailbox without a domain; a NIL host would mark a
/// group, so something must stand there.
const MISSING_DOMAIN: &[u8] = b"MISSING_DOMAIN";
/// Mailbox written for an address without a local part.
const MISSING_MAILBOX: &[u8] = b"MISSING_MAILBOX";

/// Writes the ENVELOPE of the message whose header fields are `fields`.
/// Values are sent as written (encoded words stay encoded), unfolded.
pub(crate) fn write_envelope(
    out: &mut Vec<u8>,
    raw: &[u8],
    fields: &[HeaderField],
    limits: &MimeLimits,
) {
    let value = |name: &str| unfold_first(raw, fields, name);
    let addresses = |name: &str| {
        value(name)
            .map(|v| parse_address_list(&v, limits.max_addresses))
            .filter(|l| !l.is_empty())
    };
    out.push(b'(');
    write_nstring(out, value("date").as_deref());
    out.push(b' ');
    write_nstring(out, value("subject").as_deref());
    let from = addresses("from");
    // Sender and Reply-To default to From when absent or empty.
    let sender = addresses("sender").or_else(|| from.clone());
    let reply_to = addresses("reply-to").or_else(|| from.clone());
    for list in [
        &from,
        &sender,
        &reply_to,
        &addresses("to"),
        &addresses("cc"),
        &addresses("bcc"),
    ] {
        out.push(b' ');
        write_address_list(out, list.as_deref());
    }
    out.push(b' ');
    write_nstring(out, value("in-reply-to").as_deref());
    out.push(b' ');
    write_nstring(out, value("message-id").as_deref());
    out.push(b')');
}

fn write_address_list(out: &mut Vec<u8>, list: Option<&[RawAddress]>) {
    let Some(list) = list else {
        out.extend_from_slice(b"NIL");
        return;
    };
    out.push(b'(');
    for item in list {
        match item {
            RawAddress::Mailbox(m) => write_mailbox(out, m),
            RawAddress::Group { name, members } => {
                // Group start (NIL NIL "name" NIL), members, group end (NIL NIL NIL NIL).
                out.extend_from_slice(b"(NIL NIL ");
                write_string(out, name);
                out.extend_from_slice(b" NIL)");
                for m in members {
                    write_mailbox(out, m);
                }
                out.extend_from_slice(b"(NIL NIL NIL NIL)");
            }
        }
    }
    out.push(b')');
}

fn write_mailbox(out: &mut Vec<u8>, m: &RawMailbox) {
    out.push(b'(');
    write_nstring(out, m.name.as_deref());
    out.push(b' ');
    write_nstring(out, m.route.as_deref());
    out.push(b' ');
    write_string(
        out,
        if m.local.is_empty() {
            MISSING_MAILBOX
        } else {
            &m.local
        },
    );
    out.push(b' ');
    let domain = m
        .domain
        .as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or(MISSING_DOMAIN);
    write_string(out, domain);
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::parse_header_block;

    fn check(headers: &str, want: &str) {
        let raw = format!("{headers}\r\n\r\nbody");
        let block = parse_header_block(
            raw.as_bytes(),
            0,
            raw.len(),
            &crate::limits::MimeLimits::default(),
        );
        let mut out = Vec::new();
        write_envelope(
            &mut out,
            raw.as_bytes(),
            &block.fields,
            &MimeLimits::default(),
        );
        assert_eq!(String::from_utf8_lossy(&out), want);
    }

    #[test]
    fn envelope_defaults_sender_and_reply_to_to_from() {
        check(
            "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nFrom: Fred <fred@example.com>\r\nSubject: hi\r\nTo: a@b.example\r\nMessage-ID: <1@example.com>",
            "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"hi\" ((\"Fred\" NIL \"fred\" \"example.com\")) ((\"Fred\" NIL \"fred\" \"example.com\")) ((\"Fred\" NIL \"fred\" \"example.com\")) ((NIL NIL \"a\" \"b.example\")) NIL NIL NIL \"<1@example.com>\")",
        );
    }

    #[test]
    fn envelope_keeps_encoded_words_and_renders_groups() {
        check(
            "Subject: =?UTF-8?Q?caf=C3=A9?=\r\nTo: Team: a@x.example;, bare",
            "(NIL \"=?UTF-8?Q?caf=C3=A9?=\" NIL NIL NIL ((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"x.example\")(NIL NIL NIL NIL)(NIL NIL \"bare\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL)",
        );
    }

    #[test]
    fn envelope_of_header_less_message_is_all_nil() {
        check("", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    }
}
