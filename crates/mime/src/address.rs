//! Address lists as written (RFC 5322 §3.4), kept raw for IMAP ENVELOPE and
//! decoded for the summary.

use crate::charset::{bytes_to_text, decode_header_text};

/// One mailbox, its parts as written (encoded words not decoded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RawMailbox {
    /// Display name (quotes removed, escapes resolved), or the comment when
    /// there is no display name.
    pub name: Option<Vec<u8>>,
    /// Obsolete source route (`@a,@b`).
    pub route: Option<Vec<u8>>,
    pub local: Vec<u8>,
    pub domain: Option<Vec<u8>>,
}

/// A mailbox or a named group of mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawAddress {
    Mailbox(RawMailbox),
    Group {
        name: Vec<u8>,
        members: Vec<RawMailbox>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokKind {
    Atom(Vec<u8>),
    Quoted(Vec<u8>),
    Literal(Vec<u8>),
    Comment(Vec<u8>),
    Special(u8),
}

#[derive(Debug, Clone)]
struct Tok {
    kind: TokKind,
    space_before: bool,
}

const SPECIALS: &[u8] = b"<>@,;:.[]()\\\"";

fn tokenize(v: &[u8]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    let mut space = false;
    while i < v.len() {
        let b = v[i];
        if b.is_ascii_whitespace() || b == 0 {
            space = true;
            i += 1;
            continue;
        }
        let kind = match b {
            b'"' => {
                let mut out = Vec::new();
                i += 1;
                while i < v.len() && v[i] != b'"' {
                    if v[i] == b'\\' && i + 1 < v.len() {
                        i += 1;
                    }
                    out.push(v[i]);
                    i += 1;
                }
                i += 1;
                TokKind::Quoted(out)
            }
            b'(' => {
                let mut out = Vec::new();
                let mut depth = 1usize;
                i += 1;
                while i < v.len() {
                    match v[i] {
                        b'\\' if i + 1 < v.len() => {
                            i += 1;
                            out.push(v[i]);
                        }
                        b'(' => {
                            depth += 1;
                            out.push(b'(');
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            out.push(b')');
                        }
                        c => out.push(c),
                    }
                    i += 1;
                }
                i += 1;
                TokKind::Comment(out)
            }
            b'[' => {
                let start = i;
                while i < v.len() && v[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(v.len());
                TokKind::Literal(v[start..i].to_vec())
            }
            _ if SPECIALS.contains(&b) => {
                i += 1;
                TokKind::Special(b)
            }
            _ => {
                let start = i;
                while i < v.len()
                    && !v[i].is_ascii_whitespace()
                    && v[i] != 0
                    && !SPECIALS.contains(&v[i])
                {
                    i += 1;
                }
                TokKind::Atom(v[start..i].to_vec())
            }
        };
        toks.push(Tok {
            kind,
            space_before: space,
        });
        space = false;
    }
    toks
}

fn is_special(t: Option<&Tok>, c: u8) -> bool {
    matches!(t, Some(Tok { kind: TokKind::Special(s), .. }) if *s == c)
}

/// Words of a display name; comments are collected apart.
#[derive(Default)]
struct Phrase {
    text: Vec<u8>,
    words: usize,
    comment: Option<Vec<u8>>,
    /// The same tokens as an addr-spec local part (no spaces, quotes kept).
    as_local: Vec<u8>,
}

fn needs_quotes(local: &[u8]) -> bool {
    local.is_empty()
        || local
            .iter()
            .any(|b| b.is_ascii_whitespace() || SPECIALS.contains(b))
}

fn quote(word: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in word {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

fn take_phrase(toks: &[Tok], mut i: usize) -> (Phrase, usize) {
    let mut p = Phrase::default();
    while let Some(t) = toks.get(i) {
        let word: &[u8] = match &t.kind {
            TokKind::Atom(a) => a,
            TokKind::Quoted(q) => q,
            TokKind::Special(b'.') => b".",
            TokKind::Comment(c) => {
                if p.comment.is_none() && !c.is_empty() {
                    p.comment = Some(c.clone());
                }
                i += 1;
                continue;
            }
            _ => break,
        };
        if t.space_before && !p.text.is_empty() {
            p.text.push(b' ');
        }
        p.text.extend_from_slice(word);
        match &t.kind {
            TokKind::Quoted(q) if needs_quotes(q) => p.as_local.extend(quote(q)),
            _ => p.as_local.extend_from_slice(word),
        }
        p.words += 1;
        i += 1;
    }
    (p, i)
}

/// Domain tokens up to a delimiter; returns the domain and the next index.
fn take_domain(toks: &[Tok], mut i: usize, comment: &mut Option<Vec<u8>>) -> (Vec<u8>, usize) {
    let mut d = Vec::new();
    while let Some(t) = toks.get(i) {
        match &t.kind {
            TokKind::Atom(a) => d.extend_from_slice(a),
            TokKind::Literal(l) => d.extend_from_slice(l),
            TokKind::Special(b'.') => d.push(b'.'),
            TokKind::Comment(c) => {
                if comment.is_none() && !c.is_empty() {
                    *comment = Some(c.clone());
                }
            }
            _ => break,
        }
        i += 1;
    }
    (d, i)
}

/// Parses `[route:] local [@ domain] [>]` after a `<`.
fn take_angle(toks: &[Tok], mut i: usize, mailbox: &mut RawMailbox) -> usize {
    let mut unused_comment = None;
    if is_special(toks.get(i), b'@') {
        let mut route = Vec::new();
        while let Some(t) = toks.get(i) {
            match &t.kind {
                TokKind::Special(b':') => {
                    i += 1;
                    break;
                }
                TokKind::Special(b'>') => break,
                TokKind::Special(c) => route.push(*c),
                TokKind::Atom(a) | TokKind::Literal(a) => route.extend_from_slice(a),
                _ => {}
            }
            i += 1;
        }
        mailbox.route = Some(route);
    }
    let (local, next) = take_phrase(toks, i);
    mailbox.local = local.as_local;
    i = next;
    if is_special(toks.get(i), b'@') {
        let (domain, next) = take_domain(toks, i + 1, &mut unused_comment);
        mailbox.domain = Some(domain);
        i = next;
    }
    // Skip anything up to the closing '>' (garbage in broken mail).
    while let Some(t) = toks.get(i) {
        i += 1;
        if matches!(t.kind, TokKind::Special(b'>')) {
            break;
        }
        if matches!(t.kind, TokKind::Special(b',' | b';')) {
            i -= 1;
            break;
        }
    }
    i
}

/// Parses one mailbox starting at `i`; `None` when the tokens there hold none.
fn take_mailbox(toks: &[Tok], i: usize) -> (Option<RawMailbox>, usize) {
    let (phrase, mut i) = take_phrase(toks, i);
    let mut mailbox = RawMailbox::default();
    match toks.get(i).map(|t| &t.kind) {
        Some(TokKind::Special(b'<')) => {
            i = take_angle(toks, i + 1, &mut mailbox);
            let (after, next) = take_phrase(toks, i);
            i = next;
            mailbox.name = if phrase.words > 0 {
                Some(phrase.text)
            } else {
                phrase.comment.or(after.comment)
            };
        }
        Some(TokKind::Special(b'@')) if phrase.words > 0 => {
            let mut comment = phrase.comment;
            let (domain, next) = take_domain(toks, i + 1, &mut comment);
            i = next;
            mailbox.local = phrase.as_local;
            mailbox.domain = Some(domain);
            mailbox.name = comment;
        }
        _ if phrase.words > 0 => {
            // A bare word: a local part without domain.
            mailbox.local = phrase.as_local;
            mailbox.name = phrase.comment;
        }
        _ => return (None, i),
    }
    (Some(mailbox), i)
}

/// Parses an address list, keeping at most `max` mailboxes (group members
/// count). Never fails; unreadable tokens are skipped.
pub(crate) fn parse_address_list(v: &[u8], max: usize) -> Vec<RawAddress> {
    let toks = tokenize(v);
    let mut out = Vec::new();
    let mut count = 0usize;
    let mut i = 0;
    while i < toks.len() && count < max {
        let (phrase, after_phrase) = take_phrase(&toks, i);
        if phrase.words > 0 && is_special(toks.get(after_phrase), b':') {
            i = after_phrase + 1;
            let mut members = Vec::new();
            while i < toks.len() && !is_special(toks.get(i), b';') {
                let (mailbox, next) = take_mailbox(&toks, i);
                if let Some(m) = mailbox
                    && count < max
                {
                    members.push(m);
                    count += 1;
                }
                i = if next > i { next } else { i + 1 };
                // Separators and garbage between members.
                while i < toks.len()
                    && !is_special(toks.get(i), b';')
                    && !matches!(
                        toks[i].kind,
                        TokKind::Atom(_) | TokKind::Quoted(_) | TokKind::Special(b'<')
                    )
                {
                    i += 1;
                }
            }
            i += 1;
            out.push(RawAddress::Group {
                name: phrase.text,
                members,
            });
            continue;
        }
        let (mailbox, next) = take_mailbox(&toks, i);
        if let Some(m) = mailbox {
            out.push(RawAddress::Mailbox(m));
            count += 1;
        }
        i = if next > i { next } else { i + 1 };
    }
    out
}

/// A decoded email address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Display name with encoded words decoded, if any.
    pub name: Option<String>,
    /// `local@domain`, or just the local part when the domain is missing.
    pub addr: String,
    /// Name of the RFC 5322 group this address was listed in, if any.
    pub group: Option<String>,
}

impl RawMailbox {
    pub(crate) fn to_address(&self, group: Option<&str>) -> Address {
        let name = self
            .name
            .as_deref()
            .map(decode_header_text)
            .filter(|n| !n.is_empty());
        let mut addr = bytes_to_text(&self.local);
        if let Some(d) = &self.domain {
            addr.push('@');
            addr.push_str(&bytes_to_text(d));
        }
        Address {
            name,
            addr,
            group: group.map(str::to_owned),
        }
    }
}

/// Decodes an address header value into a flat list; group members carry
/// their group's name, empty groups contribute nothing.
pub(crate) fn decode_address_list(v: &[u8], max: usize) -> Vec<Address> {
    let mut out = Vec::new();
    for item in parse_address_list(v, max) {
        match item {
            RawAddress::Mailbox(m) => out.push(m.to_address(None)),
            RawAddress::Group { name, members } => {
                let group = decode_header_text(&name);
                out.extend(members.iter().map(|m| m.to_address(Some(&group))));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, want: &[(&str, Option<&str>, Option<&str>)]) {
        let got = decode_address_list(value.as_bytes(), 100);
        let got: Vec<(String, Option<String>, Option<String>)> =
            got.into_iter().map(|a| (a.addr, a.name, a.group)).collect();
        let want: Vec<(String, Option<String>, Option<String>)> = want
            .iter()
            .map(|(a, n, g)| (a.to_string(), n.map(str::to_owned), g.map(str::to_owned)))
            .collect();
        assert_eq!(got, want, "{value}");
    }

    #[test]
    fn address_lists_decode() {
        check("a@example.com", &[("a@example.com", None, None)]);
        check(
            "Alice <a@example.com>, \"Bob, Jr.\" <b@example.org>",
            &[
                ("a@example.com", Some("Alice"), None),
                ("b@example.org", Some("Bob, Jr."), None),
            ],
        );
        check(
            "John Q. Public <jqp@example.com>",
            &[("jqp@example.com", Some("John Q. Public"), None)],
        );
        check(
            "=?UTF-8?Q?J=C3=B6rg?= <j@example.de>",
            &[("j@example.de", Some("J\u{f6}rg"), None)],
        );
        check(
            "\"=?UTF-8?Q?J=C3=B6rg?=\" <j@example.de>",
            &[("j@example.de", Some("J\u{f6}rg"), None)],
        );
        check(
            "j@example.de (J\u{f6}rg Comment)",
            &[("j@example.de", Some("J\u{f6}rg Comment"), None)],
        );
        check(
            "<@relay.example:a@example.com>",
            &[("a@example.com", None, None)],
        );
        check(
            "\"john doe\"@example.com",
            &[("\"john doe\"@example.com", None, None)],
        );
        check("a@[192.0.2.1]", &[("a@[192.0.2.1]", None, None)]);
        check("undisclosed", &[("undisclosed", None, None)]);
        check("<>", &[("", None, None)]);
    }

    #[test]
    fn groups_flatten_with_their_name() {
        check(
            "Team: a@x.example, B <b@x.example>;, c@y.example",
            &[
                ("a@x.example", None, Some("Team")),
                ("b@x.example", Some("B"), Some("Team")),
                ("c@y.example", None, None),
            ],
        );
        check("undisclosed-recipients:;", &[]);
        let raw = parse_address_list(b"undisclosed-recipients:;", 10);
        assert_eq!(
            raw,
            vec![RawAddress::Group {
                name: b"undisclosed-recipients".to_vec(),
                members: vec![]
            }]
        );
    }

    #[test]
    fn garbage_gives_best_effort_without_panicking() {
        for junk in [
            "<<<>>>",
            ",,,;;;",
            "(unclosed comment",
            "\"unclosed",
            "@@@",
            "a@",
            ":;:;",
            ">a@b<",
            "\u{0}\u{1}",
        ] {
            let _ = decode_address_list(junk.as_bytes(), 100);
        }
        check(
            "Broken <a@example.com",
            &[("a@example.com", Some("Broken"), None)],
        );
    }

    #[test]
    fn address_count_is_bounded() {
        let many = "a@b.example, ".repeat(50);
        assert_eq!(decode_address_list(many.as_bytes(), 7).len(), 7);
    }
}
