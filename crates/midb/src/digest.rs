//! Everything midb derives from a message's bytes, computed once per content
//! hash: size, header block, ENVELOPE, BODYSTRUCTURE, BODY, the byte ranges
//! of every MIME part, sort and thread keys, and the text of the full-text
//! index. Content never changes for a hash, so a digest never goes stale.

use groxide_mime::{MimeLimits, ParsedMessage, SectionBytes, SectionKind, SectionSpec};
use std::ops::Range;

/// Longest header block kept in the digest (for BODY[HEADER] without a
/// file read) and indexed as text; a longer one, a hostile sender's, is
/// read from the content file when asked for and indexed up to this size.
pub const HEADER_CACHE_MAX: usize = groxide_mime::DEFAULT_MAX_HEADER_BLOCK_BYTES;

/// Byte ranges of one MIME part in the original message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRanges {
    /// IMAP part number (`[1, 2]` is "1.2"); empty for the message itself.
    pub path: Vec<u32>,
    /// The part's MIME header (`BODY[path.MIME]`); for the message itself,
    /// its header (`BODY[HEADER]`).
    pub header: Range<u64>,
    /// The part's body (`BODY[path]`); for the message itself, its text
    /// (`BODY[TEXT]`).
    pub body: Range<u64>,
    /// For a message/rfc822 part: the embedded message's header and text
    /// (`BODY[path.HEADER]`, `BODY[path.TEXT]`).
    pub message: Option<(Range<u64>, Range<u64>)>,
}

/// Keys for SORT (RFC 5256, RFC 5957), case-folded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SortKeys {
    /// Base subject (RFC 5256 §2.1), case-folded.
    pub base_subject: String,
    /// Whether the subject marked a reply or forward (for THREAD).
    pub subject_is_reply: bool,
    /// Date field, Unix seconds, when readable.
    pub sent_date: Option<i64>,
    /// The Date field's UTC offset in minutes (for SENTON and friends).
    pub sent_offset_minutes: i32,
    /// Local part of the first From address.
    pub from: String,
    /// Local part of the first To address.
    pub to: String,
    /// Local part of the first Cc address.
    pub cc: String,
    /// Display name (or address) of the first From address.
    pub display_from: String,
    /// Display name (or address) of the first To address.
    pub display_to: String,
}

/// Keys for THREAD=REFERENCES.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadKeys {
    /// Message-ID with angle brackets.
    pub message_id: Option<String>,
    /// First id of In-Reply-To.
    pub in_reply_to: Option<String>,
    /// References ids, in order.
    pub references: Vec<String>,
}

/// Text of the full-text index, per SEARCH key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexText {
    /// Decoded subject.
    pub subject: String,
    /// Decoded From names and addresses.
    pub from: String,
    /// Decoded To names and addresses.
    pub to: String,
    /// Decoded Cc names and addresses.
    pub cc: String,
    /// Decoded Bcc names and addresses.
    pub bcc: String,
    /// The header block as text (for TEXT).
    pub headers: String,
    /// Decoded text of every text part (for BODY and TEXT).
    pub body: String,
}

/// What midb knows about one message content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Digest {
    /// Size in octets.
    pub size: u64,
    /// The header block including the blank line that ends it. One longer
    /// than [`HEADER_CACHE_MAX`] is kept as its whole lines within that
    /// size plus a blank line (HEADER.FIELDS looks only there); BODY[HEADER]
    /// then reads `parts[0].header` from the content file.
    pub header: Vec<u8>,
    /// ENVELOPE in IMAP syntax.
    pub envelope: Vec<u8>,
    /// BODYSTRUCTURE (extensible) in IMAP syntax.
    pub bodystructure: Vec<u8>,
    /// BODY (non-extensible) in IMAP syntax.
    pub body: Vec<u8>,
    /// Part ranges, the message itself first.
    pub parts: Vec<PartRanges>,
    /// SORT keys.
    pub sort: SortKeys,
    /// THREAD keys.
    pub thread: ThreadKeys,
    /// Full-text index text.
    pub text: IndexText,
}

fn range_of(b: &SectionBytes) -> Option<Range<u64>> {
    match b {
        SectionBytes::Range(r) => Some(r.start as u64..r.end as u64),
        SectionBytes::Owned(_) => None,
    }
}

fn locate(m: &ParsedMessage<'_>, path: &[u32], kind: SectionKind) -> Option<Range<u64>> {
    range_of(&m.locate_section(&SectionSpec {
        part: path.to_vec(),
        kind,
    }))
}

/// Walks the parts below `path` (depth first, in order) by asking for each
/// next part number until one is missing.
fn collect_parts(
    m: &ParsedMessage<'_>,
    path: &mut Vec<u32>,
    out: &mut Vec<PartRanges>,
    max: usize,
) {
    for n in 1u32.. {
        if out.len() >= max {
            return;
        }
        path.push(n);
        let header = locate(m, path, SectionKind::Mime).unwrap_or(0..0);
        let body = locate(m, path, SectionKind::Full).unwrap_or(0..0);
        if header == (0..0) && body == (0..0) {
            path.pop();
            return;
        }
        let inner_header = locate(m, path, SectionKind::Header).unwrap_or(0..0);
        let inner_text = locate(m, path, SectionKind::Text).unwrap_or(0..0);
        let message =
            (inner_header != (0..0) || inner_text != (0..0)).then_some((inner_header, inner_text));
        out.push(PartRanges {
            path: path.clone(),
            header,
            body,
            message,
        });
        collect_parts(m, path, out, max);
        path.pop();
    }
}

/// The subject with white space collapsed and leading `[blob]`s removed:
/// what is left when the base subject extraction removes no reply marker.
fn subject_without_blobs(subject: &str) -> String {
    let mut s: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let Some(rest) = s.strip_prefix('[') else {
            return s;
        };
        let Some(end) = rest.find(']') else {
            return s;
        };
        let after = rest[end + 1..].trim_start();
        if after.is_empty() {
            return s;
        }
        s = after.to_owned();
    }
}

fn addresses_text(addrs: &[groxide_mime::Address]) -> String {
    let mut out = String::new();
    for a in addrs {
        for piece in [a.name.as_deref().unwrap_or(""), a.addr.as_str()] {
            if !piece.is_empty() {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(piece);
            }
        }
    }
    out
}

impl Digest {
    /// Computes the digest of `raw`. Never fails: broken mail gives the best
    /// digest groxide-mime can derive. At most `max_text` bytes of body text
    /// are indexed.
    pub fn compute(raw: &[u8], max_text: usize) -> Digest {
        let limits = MimeLimits {
            max_search_text: max_text,
            ..MimeLimits::default()
        };
        let m = ParsedMessage::with_limits(raw, limits);
        let summary = m.summary();
        let header_len = summary.header_size.min(raw.len());
        let mut parts = vec![PartRanges {
            path: Vec::new(),
            header: 0..header_len as u64,
            body: header_len as u64..raw.len() as u64,
            message: None,
        }];
        collect_parts(&m, &mut Vec::new(), &mut parts, limits.max_parts);

        let subject = summary.subject.clone().unwrap_or_default();
        let base = groxide_mime::base_subject(&subject);
        let subject_is_reply =
            base.to_lowercase() != subject_without_blobs(&subject).to_lowercase();
        // A field that starts with a group sorts by the group's name, as its
        // ENVELOPE starts with it (RFC 5256: the first address's mailbox).
        let groups = ["from", "to", "cc", "bcc"].map(|f| m.address_groups(f));
        let first_group = (
            groups[0].first.clone(),
            groups[1].first.clone(),
            groups[2].first.clone(),
        );
        // Sort keys compare under i;ascii-casemap (RFC 5256 §2.1, RFC 4790):
        // letters fold to upper case, so `[` and `_` sort after them.
        let sort = SortKeys {
            base_subject: base.to_uppercase(),
            subject_is_reply,
            sent_date: summary.date.map(|d| d.unix_seconds),
            sent_offset_minutes: summary.date.map_or(0, |d| d.utc_offset_minutes),
            from: first_group
                .0
                .clone()
                .unwrap_or_else(|| groxide_mime::sort_address(&summary.from))
                .to_uppercase(),
            to: first_group
                .1
                .clone()
                .unwrap_or_else(|| groxide_mime::sort_address(&summary.to))
                .to_uppercase(),
            cc: first_group
                .2
                .unwrap_or_else(|| groxide_mime::sort_address(&summary.cc))
                .to_uppercase(),
            display_from: first_group
                .0
                .unwrap_or_else(|| groxide_mime::display_sort_key(&summary.from))
                .to_uppercase(),
            display_to: first_group
                .1
                .unwrap_or_else(|| groxide_mime::display_sort_key(&summary.to))
                .to_uppercase(),
        };
        let thread = ThreadKeys {
            message_id: summary.message_id.clone(),
            in_reply_to: summary.in_reply_to.clone(),
            references: summary.references.clone(),
        };
        // SEARCH FROM/TO/CC/BCC also find a group's name.
        let [from, to, cc, bcc] =
            [&summary.from, &summary.to, &summary.cc, &summary.bcc].map(|a| addresses_text(a));
        let with_groups = |text: String, g: &groxide_mime::AddressGroups| {
            g.names.iter().fold(text, |mut t, n| {
                if !n.is_empty() {
                    if !t.is_empty() {
                        t.push('\n');
                    }
                    t.push_str(n);
                }
                t
            })
        };
        // searchable_text starts with the subject and the addresses; BODY
        // searches only what follows.
        let full = m.searchable_text();
        let prefix: Vec<&str> = [subject.as_str(), &from, &to, &cc, &bcc]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        let prefix = prefix.join("\n");
        let body = match full.strip_prefix(&prefix) {
            Some(rest) => rest.trim_start_matches('\n').to_owned(),
            None => full,
        };
        let header_bytes = raw.get(..header_len).unwrap_or_default();
        let indexed = &header_bytes[..header_len.min(HEADER_CACHE_MAX)];
        let headers = String::from_utf8_lossy(indexed).into_owned();
        let header = if header_len <= HEADER_CACHE_MAX {
            header_bytes.to_vec()
        } else {
            // Its whole lines up to the cap, ended by a blank line: what
            // HEADER.FIELDS looks at; BODY[HEADER] reads the file.
            let cut = indexed
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let mut h = indexed[..cut].to_vec();
            h.extend_from_slice(b"\r\n");
            h
        };
        let text = IndexText {
            subject,
            from: with_groups(from, &groups[0]),
            to: with_groups(to, &groups[1]),
            cc: with_groups(cc, &groups[2]),
            bcc: with_groups(bcc, &groups[3]),
            headers,
            body,
        };
        Digest {
            size: raw.len() as u64,
            envelope: m.envelope(),
            bodystructure: m.bodystructure(true),
            body: m.bodystructure(false),
            header,
            parts,
            sort,
            thread,
            text,
        }
    }

    /// The ranges of the part at `path` (empty path: the message).
    pub fn part(&self, path: &[u32]) -> Option<&PartRanges> {
        self.parts.iter().find(|p| p.path == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"From: Ann Example <ann@example.test>\r\n\
To: bob@example.test, Carl <carl@example.test>\r\n\
Subject: Re: [list] Quarterly numbers\r\n\
Date: Tue, 02 Jan 2024 10:00:00 +0100\r\n\
Message-ID: <m2@example.test>\r\n\
In-Reply-To: <m1@example.test>\r\n\
References: <m0@example.test> <m1@example.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b1\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
R\xc3\xa4ksm\xc3\xb6rg\xc3\xa5s for everyone\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Subject: inner\r\n\
\r\n\
inner body\r\n\
--b1--\r\n";

    #[test]
    fn digest_holds_keys_ranges_and_index_text() {
        let d = Digest::compute(MIXED, 1 << 20);
        assert_eq!(d.size, MIXED.len() as u64);
        assert!(d.header.ends_with(b"\r\n\r\n"));
        assert_eq!(d.sort.base_subject, "QUARTERLY NUMBERS");
        assert!(d.sort.subject_is_reply);
        assert_eq!(d.sort.from, "ANN");
        assert_eq!(d.sort.to, "BOB");
        assert_eq!(d.sort.display_from, "ANN EXAMPLE");
        assert_eq!(d.sort.display_to, "BOB@EXAMPLE.TEST");
        assert_eq!(d.sort.sent_offset_minutes, 60);
        assert_eq!(d.sort.sent_date, Some(1_704_186_000));
        assert_eq!(d.thread.message_id.as_deref(), Some("<m2@example.test>"));
        assert_eq!(
            d.thread.references,
            vec!["<m0@example.test>", "<m1@example.test>"]
        );
        assert!(d.text.body.contains("Räksmörgås for everyone"));
        assert!(
            !d.text.body.starts_with("Re:"),
            "body text must not start with the subject"
        );
        assert!(d.text.to.contains("Carl"));
        let paths: Vec<Vec<u32>> = d.parts.iter().map(|p| p.path.clone()).collect();
        assert_eq!(paths, vec![vec![], vec![1], vec![2], vec![2, 1]]);
        let inner = d.part(&[2]).unwrap().message.clone().unwrap();
        assert_eq!(
            &MIXED[inner.0.start as usize..inner.0.end as usize],
            b"Subject: inner\r\n\r\n"
        );
        assert_eq!(
            &MIXED[inner.1.start as usize..inner.1.end as usize],
            b"inner body"
        );
    }

    #[test]
    fn a_subject_with_only_a_list_tag_is_not_a_reply() {
        let d = Digest::compute(b"Subject: [list] Hello\r\n\r\nx", 1024);
        assert_eq!(d.sort.base_subject, "HELLO");
        assert!(!d.sort.subject_is_reply);
        let d = Digest::compute(b"Subject: Hello (fwd)\r\n\r\nx", 1024);
        assert!(d.sort.subject_is_reply);
    }

    #[test]
    fn a_header_bomb_gives_a_bounded_digest_with_exact_ranges() {
        let mut raw = b"From: a@b.test\r\nSubject: ".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 3 * HEADER_CACHE_MAX));
        raw.extend_from_slice(b"\r\n\r\nthe body\r\n");
        let d = Digest::compute(&raw, 1 << 20);
        assert!(d.header.len() <= HEADER_CACHE_MAX + 2);
        assert!(d.header.starts_with(b"From: a@b.test\r\n") && d.header.ends_with(b"\r\n\r\n"));
        let root = d.part(&[]).unwrap();
        assert_eq!(root.header.end as usize, raw.len() - b"the body\r\n".len());
        assert_eq!(&raw[root.body.start as usize..], b"the body\r\n");
        assert!(d.envelope.len() < 2 * groxide_mime::DEFAULT_MAX_HEADER_FIELD_BYTES);
        assert!(d.text.headers.len() <= HEADER_CACHE_MAX);
        assert!(d.text.subject.len() <= groxide_mime::DEFAULT_MAX_HEADER_FIELD_BYTES);
        assert_eq!(d.sort.from, "A");
    }

    #[test]
    fn empty_input_gives_an_empty_digest_without_panicking() {
        let d = Digest::compute(b"", 1024);
        assert_eq!(d.size, 0);
        assert_eq!(d.parts.len(), 1);
        assert!(!d.envelope.is_empty());
    }
}
