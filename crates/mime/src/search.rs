//! Text for SEARCH and the FTS index, and the sort keys of RFC 5256 and
//! RFC 5957.

use mail_parser::decoders::html::html_to_text;

use crate::address::{Address, RawAddress, decode_address_list, parse_address_list};
use crate::charset::decode_header_text;
use crate::limits::MimeLimits;
use crate::summary::part_text;
use crate::tree::{Part, PartKind};

/// Appends text to a bounded buffer, cutting at a character boundary.
struct BoundedText {
    text: String,
    max: usize,
}

impl BoundedText {
    fn push(&mut self, s: &str) {
        if s.is_empty() || self.text.len() >= self.max {
            return;
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        let room = self.max.saturating_sub(self.text.len());
        let mut cut = s.len().min(room);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&s[..cut]);
    }
}

/// Decoded subject, addresses and the text of every text part, embedded
/// messages included.
pub(crate) fn searchable_text(raw: &[u8], root: &Part, limits: &MimeLimits) -> String {
    let mut out = BoundedText {
        text: String::new(),
        max: limits.max_search_text,
    };
    collect_message(raw, root, limits, &mut out);
    out.text
}

fn collect_message(raw: &[u8], root: &Part, limits: &MimeLimits, out: &mut BoundedText) {
    if let Some(subject) = root.field_value(raw, "subject") {
        out.push(&decode_header_text(&subject));
    }
    for name in ["from", "to", "cc", "bcc"] {
        if let Some(v) = root.field_value(raw, name) {
            for a in decode_address_list(&v, limits.max_addresses) {
                if let Some(n) = &a.name {
                    out.push(n);
                }
                out.push(&a.addr);
            }
        }
    }
    collect_parts(raw, root, limits, out);
}

fn collect_parts(raw: &[u8], part: &Part, limits: &MimeLimits, out: &mut BoundedText) {
    match &part.kind {
        PartKind::Multipart(children) => {
            for c in children {
                collect_parts(raw, c, limits, out);
            }
        }
        PartKind::Message(inner) => collect_message(raw, inner, limits, out),
        PartKind::Leaf if part.media.main == "text" => {
            let text = part_text(raw, part);
            if part.media.sub == "html" {
                out.push(&html_to_text(&text));
            } else {
                out.push(&text);
            }
        }
        PartKind::Leaf => {}
    }
}

/// Every top-level field called `name`, unfolded and decoded.
pub(crate) fn header_values(raw: &[u8], root: &Part, name: &str) -> Vec<String> {
    root.fields
        .iter()
        .filter(|f| f.is(raw, name))
        .map(|f| decode_header_text(&raw[f.value.clone()]))
        .collect()
}

/// The RFC 5322 groups of an address field (`undisclosed-recipients:;`,
/// `team: a@x, b@y;`), which [`Address`] lists only through their members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressGroups {
    /// Decoded group names, in field order (empty groups included).
    pub names: Vec<String>,
    /// The field's first item is a group: IMAP's ENVELOPE then starts with
    /// it, so its name is the first address's mailbox for SORT (RFC 5256).
    pub first: Option<String>,
}

/// See [`AddressGroups`].
pub(crate) fn address_groups(raw: &[u8], root: &Part, name: &str, max: usize) -> AddressGroups {
    let Some(v) = root.field_value(raw, name) else {
        return AddressGroups::default();
    };
    let mut out = AddressGroups::default();
    for (i, item) in parse_address_list(&v, max).into_iter().enumerate() {
        if let RawAddress::Group { name, .. } = item {
            let name = decode_header_text(&name);
            if i == 0 {
                out.first = Some(name.clone());
            }
            out.names.push(name);
        }
    }
    out
}

/// The base subject of RFC 5256 §2.1 for SORT SUBJECT and THREAD.
///
/// `subject` must already be decoded (RFC 2047) to UTF-8. Removes reply and
/// forward markers (`Re:`, `Fw:`, `Fwd:`, with `[blob]`s), leading
/// `[blob]`s, trailing `(fwd)`, and the `[fwd: …]` wrapper, and collapses
/// white space. Case is kept: compare results with case folding
/// (i;unicode-casemap).
pub fn base_subject(subject: &str) -> String {
    // Step 1: white space runs become one space.
    let mut s: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        // Step 2: trailing "(fwd)" and white space.
        loop {
            let trimmed = s.trim_end();
            let lower = trimmed.to_ascii_lowercase();
            if lower.ends_with("(fwd)") {
                s = trimmed[..trimmed.len() - 5].to_owned();
            } else {
                s = trimmed.to_owned();
                break;
            }
        }
        // Steps 3 to 5: leaders and blobs, until nothing changes.
        loop {
            let before = s.len();
            s = strip_leaders(&s).to_owned();
            if let Some(rest) = strip_blob(&s)
                && !rest.trim().is_empty()
            {
                s = rest.to_owned();
            }
            if s.len() == before {
                break;
            }
        }
        // Step 6: "[fwd: ...]" wrapper.
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("[fwd:") && s.ends_with(']') {
            s = s[5..s.len() - 1].to_owned();
            continue;
        }
        return s.trim().to_owned();
    }
}

/// Removes one leading `[blob]` and the white space after it.
fn strip_blob(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('[')?;
    let end = rest.find([']', '['])?;
    if rest.as_bytes()[end] != b']' {
        return None;
    }
    Some(rest[end + 1..].trim_start())
}

/// Removes leading white space and `*blob (re|fw|fwd) *WSP [blob] ":"`.
fn strip_leaders(mut s: &str) -> &str {
    loop {
        let start = s;
        s = s.trim_start();
        let mut t = s;
        while let Some(rest) = strip_blob(t) {
            t = rest;
        }
        let lower = t.to_ascii_lowercase();
        let marker = ["re", "fwd", "fw"]
            .into_iter()
            .find(|m| lower.starts_with(m));
        if let Some(m) = marker {
            let mut r = t[m.len()..].trim_start();
            if let Some(after_blob) = strip_blob(r) {
                r = after_blob;
            }
            if let Some(after) = r.strip_prefix(':') {
                s = after;
            }
        }
        if s.len() == start.len() {
            return s;
        }
    }
}

/// SORT FROM/TO/CC key (RFC 5256): the local part (IMAP addr-mailbox) of
/// the first address; empty when there is none.
pub fn sort_address(addrs: &[Address]) -> String {
    addrs
        .first()
        .map(|a| match a.addr.rfind('@') {
            Some(at) => a.addr[..at].to_owned(),
            None => a.addr.clone(),
        })
        .unwrap_or_default()
}

/// SORT DISPLAYFROM/DISPLAYTO key (RFC 5957): the decoded display name of
/// the first address, or its `local@domain` when it has none.
pub fn display_sort_key(addrs: &[Address]) -> String {
    addrs
        .first()
        .map(|a| match &a.name {
            Some(n) if !n.trim().is_empty() => n.clone(),
            _ => a.addr.clone(),
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_subject_strips_reply_and_forward_markers() {
        let cases = [
            ("Hello", "Hello"),
            ("Re: Hello", "Hello"),
            ("RE: re: Fwd: Hello", "Hello"),
            ("Re[2]: Hello", "Hello"),
            ("[list] Re: Hello", "Hello"),
            ("Re: [list] Hello", "Hello"),
            ("[list]", "[list]"),
            ("Hello (fwd)", "Hello"),
            ("Hello (FWD) (fwd)  ", "Hello"),
            ("[Fwd: Re: Hello]", "Hello"),
            ("  many   spaces\there ", "many spaces here"),
            ("Re:", ""),
            ("", ""),
            ("Reply to this", "Reply to this"),
            ("Fw : spaced", "spaced"),
            ("[a][b] Re: x", "x"),
        ];
        for (input, want) in cases {
            assert_eq!(base_subject(input), want, "{input:?}");
        }
    }

    #[test]
    fn sort_keys_use_the_first_address() {
        let a = |name: Option<&str>, addr: &str| Address {
            name: name.map(str::to_owned),
            addr: addr.to_owned(),
            group: None,
        };
        let list = [
            a(Some("Zed"), "alice@example.com"),
            a(None, "bob@example.com"),
        ];
        assert_eq!(sort_address(&list), "alice");
        assert_eq!(display_sort_key(&list), "Zed");
        assert_eq!(display_sort_key(&list[1..]), "bob@example.com");
        assert_eq!(sort_address(&[]), "");
        assert_eq!(display_sort_key(&[]), "");
    }
}
