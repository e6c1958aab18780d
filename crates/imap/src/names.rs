//! Mailbox names between the wire and the store: modified UTF-7 for
//! IMAP4rev1 clients, UTF-8 after UTF8=ACCEPT or IMAP4rev2; `/` as the
//! hierarchy separator; INBOX case-insensitive; and LIST patterns
//! (`*` matches anything, `%` anything but the separator).

use groxide_imap_proto::mailbox_name;

/// The hierarchy separator.
pub const SEPARATOR: char = '/';
/// Longest LIST pattern matched (longer ones match nothing).
pub const MAX_PATTERN_CHARS: usize = 1024;

/// A mailbox name from the wire that cannot name a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mailbox name: {0}")]
pub struct BadName(pub String);

/// The store name for a name as the client sent it. Without UTF-8 mode
/// the name is modified UTF-7; raw UTF-8 from such a client is accepted as
/// it is. A trailing separator is dropped (`CREATE a/` creates `a`).
pub fn from_wire(wire: &str, utf8: bool) -> Result<String, BadName> {
    let mut name = if utf8 || !wire.is_ascii() {
        wire.to_owned()
    } else {
        mailbox_name::decode(wire).map_err(|e| BadName(e.to_string()))?
    };
    while name.len() > 1 && name.ends_with(SEPARATOR) {
        name.pop();
    }
    if name.is_empty() {
        return Err(BadName("empty name".into()));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(BadName("control character in name".into()));
    }
    Ok(normalise_inbox(name))
}

/// `inbox`, `Inbox/x` … become `INBOX`, `INBOX/x`.
pub fn normalise_inbox(name: String) -> String {
    let head = name.split(SEPARATOR).next().unwrap_or("");
    if head.eq_ignore_ascii_case("INBOX") && head != "INBOX" {
        format!("INBOX{}", &name[head.len()..])
    } else {
        name
    }
}

/// The wire form of a store name.
pub fn to_wire(name: &str, utf8: bool) -> String {
    if utf8 {
        name.to_owned()
    } else {
        mailbox_name::encode(name)
    }
}

/// A LIST pattern (reference and mailbox pattern joined), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPattern {
    chars: Vec<char>,
}

impl ListPattern {
    /// The pattern `reference` + `pattern` as sent; decoded from modified
    /// UTF-7 unless `utf8` (wildcards never occur in encoded runs).
    pub fn new(reference: &str, pattern: &str, utf8: bool) -> ListPattern {
        // RFC 3501 leaves the join to the server: the two are simply
        // concatenated, as Dovecot does (`LIST Fruit %` is `Fruit%`).
        let mut joined = String::with_capacity(reference.len() + pattern.len());
        joined.push_str(reference);
        joined.push_str(pattern);
        let decoded = if utf8 || !joined.is_ascii() {
            joined
        } else {
            mailbox_name::decode(&joined).unwrap_or(joined)
        };
        let decoded = normalise_inbox(decoded);
        ListPattern {
            chars: decoded.chars().collect(),
        }
    }

    /// True for the empty pattern (`LIST "" ""`: the separator query).
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// True when `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        if self.chars.len() > MAX_PATTERN_CHARS {
            return false;
        }
        let name: Vec<char> = name.chars().collect();
        // Dynamic programming over (pattern position, name position): linear
        // in pattern × name, so hostile patterns cannot blow up.
        let mut row = vec![false; name.len() + 1];
        row[0] = true;
        for &p in &self.chars {
            let mut next = vec![false; name.len() + 1];
            match p {
                '*' => {
                    let mut reach = false;
                    for j in 0..=name.len() {
                        reach |= row[j];
                        next[j] = reach;
                    }
                }
                '%' => {
                    let mut reach = false;
                    for j in 0..=name.len() {
                        if j > 0 && name[j - 1] == SEPARATOR {
                            reach = false;
                        }
                        reach |= row[j];
                        next[j] = reach;
                    }
                }
                c => {
                    for j in 1..=name.len() {
                        next[j] = row[j - 1] && name[j - 1] == c;
                    }
                }
            }
            row = next;
        }
        row[name.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_decode_from_modified_utf7_unless_utf8_is_on() {
        let check = |wire: &str, utf8: bool, expected: Result<&str, ()>| {
            assert_eq!(
                from_wire(wire, utf8).map_err(|_| ()),
                expected.map(str::to_owned),
                "{wire} utf8={utf8}"
            );
        };
        check("Entw&APw-rfe", false, Ok("Entwürfe"));
        check("Entw&APw-rfe", true, Ok("Entw&APw-rfe"));
        check("Entwürfe", false, Ok("Entwürfe"));
        check("inbox", false, Ok("INBOX"));
        check("Inbox/Sub", false, Ok("INBOX/Sub"));
        check("a/b/", false, Ok("a/b"));
        check("&Jjo", false, Err(()));
        check("", false, Err(()));
        check("a\u{7}b", true, Err(()));
    }

    #[test]
    fn store_names_encode_for_rev1_clients() {
        assert_eq!(to_wire("Entwürfe", false), "Entw&APw-rfe");
        assert_eq!(to_wire("Entwürfe", true), "Entwürfe");
        assert_eq!(to_wire("A&B", false), "A&-B");
    }

    #[test]
    fn list_patterns_match_like_rfc3501() {
        let check = |reference: &str, pattern: &str, name: &str, expected: bool| {
            assert_eq!(
                ListPattern::new(reference, pattern, false).matches(name),
                expected,
                "{reference:?} {pattern:?} {name:?}"
            );
        };
        check("", "*", "a/b/c", true);
        check("", "%", "a", true);
        check("", "%", "a/b", false);
        check("", "a/%", "a/b", true);
        check("", "a/%", "a/b/c", false);
        check("", "a/*", "a/b/c", true);
        check("", "inbox", "INBOX", true);
        check("", "INBOX", "INBOX", true);
        // Reference and pattern are concatenated (as Dovecot): `a` + `%` is `a%`.
        check("a", "%", "a/b", false);
        check("a", "%", "a", true);
        check("a/", "%", "a/b", true);
        check("a/", "%", "a/b", true);
        check("", "%b", "ab", true);
        check("", "%/%", "a/b", true);
        check("", "Entw&APw-*", "Entwürfe/x", true);
        check("", "x", "xy", false);
    }

    #[test]
    fn hostile_patterns_match_quickly_and_overlong_ones_match_nothing() {
        let pattern = "%*".repeat(500);
        assert!(ListPattern::new("", &pattern, false).matches("a/b/c/d/e/f/g/h"));
        let overlong = "*".repeat(MAX_PATTERN_CHARS + 1);
        assert!(!ListPattern::new("", &overlong, false).matches("a"));
    }
}
