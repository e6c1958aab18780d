//! IMAP SEARCH criteria and their evaluation against one message.
//!
//! Flags, keywords, UIDs, sizes, MODSEQs and internal dates come from the
//! store's listing; sent dates and headers from the digest cache; text keys
//! (SUBJECT, FROM, TO, CC, BCC, BODY, TEXT) are answered beforehand by the
//! FTS index as sets of digest ids, so evaluating a message is a set look-up.

use crate::view::Entry as MessageEntry;
use groxide_mailview::{SearchKey, TextField};
use std::collections::HashSet;

/// Seconds of a day.
const DAY: i64 = 86_400;

/// What a search key tree needs from the digest cache.
pub trait KeyNeeds {
    /// Whether the tree needs sent dates from the cache.
    fn needs_sent_date(&self) -> bool;
    /// Whether the tree needs header blocks from the cache.
    fn needs_header(&self) -> bool;
    /// Whether the tree has text keys (the FTS index).
    fn needs_text(&self) -> bool;
    /// Whether the tree needs any derived data at all.
    fn needs_digest(&self) -> bool {
        self.needs_sent_date() || self.needs_header() || self.needs_text()
    }
    /// The text keys in tree order (their FTS answers are looked up once).
    fn text_keys(&self) -> Vec<(TextField, String)>;
}

impl KeyNeeds for SearchKey {
    fn needs_sent_date(&self) -> bool {
        self.any(|k| {
            matches!(
                k,
                SearchKey::SentBefore(_) | SearchKey::SentOn(_) | SearchKey::SentSince(_)
            )
        })
    }

    fn needs_header(&self) -> bool {
        self.any(|k| matches!(k, SearchKey::Header(..)))
    }

    fn needs_text(&self) -> bool {
        self.any(|k| matches!(k, SearchKey::Text(..)))
    }

    fn text_keys(&self) -> Vec<(TextField, String)> {
        let mut out = Vec::new();
        self.walk(&mut |k| {
            if let SearchKey::Text(f, s) = k {
                out.push((*f, s.clone()));
            }
        });
        out
    }
}

/// The derived facts about one message a search may need.
#[derive(Debug, Clone, Default)]
pub struct Derived<'a> {
    /// Digest id (FTS rowid), when the content is cached.
    pub digest_id: Option<i64>,
    /// Date field (Unix seconds) and its UTC offset in minutes.
    pub sent: Option<(i64, i32)>,
    /// The header block.
    pub header: Option<&'a [u8]>,
}

/// A search ready to evaluate: the tree plus the FTS answer of each text key.
pub struct Matcher<'k> {
    key: &'k SearchKey,
    text: Vec<((TextField, String), HashSet<i64>)>,
    now: i64,
    zone: DayZone,
}

fn day_of(seconds: i64) -> i64 {
    seconds.div_euclid(DAY)
}

/// The zone internal dates are compared in. RFC 3501 compares them
/// "disregarding time and timezone"; the store keeps an instant, so the
/// day is taken where the server is (`TZ`, else /etc/localtime), as
/// Dovecot does. Tests fix the zone.
#[derive(Debug, Clone, Copy)]
pub enum DayZone {
    /// The server's local time zone.
    Local,
    /// A fixed offset.
    Fixed(chrono::FixedOffset),
}

impl DayZone {
    fn day(self, seconds: i64) -> i64 {
        use chrono::{Offset as _, TimeZone as _};
        let offset = match self {
            DayZone::Local => chrono::Local
                .timestamp_opt(seconds, 0)
                .single()
                .map_or(0, |t| t.offset().fix().local_minus_utc()),
            DayZone::Fixed(z) => z.local_minus_utc(),
        };
        day_of(seconds + i64::from(offset))
    }
}

fn header_has(header: &[u8], name: &str, needle: &str) -> bool {
    let m = groxide_mime::ParsedMessage::parse(header);
    let values = m.header_values(name);
    if needle.is_empty() {
        return !values.is_empty();
    }
    let needle = needle.to_lowercase();
    values.iter().any(|v| v.to_lowercase().contains(&needle))
}

impl<'k> Matcher<'k> {
    /// A matcher for `key`. `text` answers each of `key.text_keys()`; `now`
    /// is the current time for YOUNGER/OLDER.
    pub fn new(
        key: &'k SearchKey,
        text: Vec<((TextField, String), HashSet<i64>)>,
        now: i64,
    ) -> Matcher<'k> {
        Matcher {
            key,
            text,
            now,
            zone: DayZone::Local,
        }
    }

    /// The same matcher comparing internal dates in `zone`.
    pub fn in_zone(mut self, zone: DayZone) -> Matcher<'k> {
        self.zone = zone;
        self
    }

    /// Whether the message matches.
    pub fn matches(&self, m: &MessageEntry, d: &Derived<'_>) -> bool {
        self.eval(self.key, m, d)
    }

    fn eval(&self, key: &SearchKey, m: &MessageEntry, d: &Derived<'_>) -> bool {
        let internal_day = || self.zone.day(m.internal_date);
        let sent_day = || match d.sent {
            Some((t, offset)) => day_of(t + i64::from(offset) * 60),
            // Without a readable Date field the internal date stands in.
            None => internal_day(),
        };
        match key {
            SearchKey::All => true,
            SearchKey::And(keys) => keys.iter().all(|k| self.eval(k, m, d)),
            SearchKey::Or(a, b) => self.eval(a, m, d) || self.eval(b, m, d),
            SearchKey::Not(k) => !self.eval(k, m, d),
            SearchKey::Uid(set) => set.contains(m.uid.0),
            SearchKey::FlagsSet(f) => m.flags.contains(*f),
            SearchKey::FlagsUnset(f) => !m.flags.intersects(*f),
            SearchKey::Keyword(k) => m.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)),
            SearchKey::Unkeyword(k) => !m.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)),
            SearchKey::Before(day) => internal_day() < *day,
            SearchKey::On(day) => internal_day() == *day,
            SearchKey::Since(day) => internal_day() >= *day,
            SearchKey::SentBefore(day) => sent_day() < *day,
            SearchKey::SentOn(day) => sent_day() == *day,
            SearchKey::SentSince(day) => sent_day() >= *day,
            SearchKey::Larger(n) => m.size > *n,
            SearchKey::Smaller(n) => m.size < *n,
            SearchKey::ModSeq(n) => m.cn.0 >= *n,
            SearchKey::Younger(s) => {
                m.internal_date
                    > self
                        .now
                        .saturating_sub(i64::try_from(*s).unwrap_or(i64::MAX))
            }
            SearchKey::Older(s) => {
                m.internal_date
                    <= self
                        .now
                        .saturating_sub(i64::try_from(*s).unwrap_or(i64::MAX))
            }
            SearchKey::Text(field, needle) => d.digest_id.is_some_and(|id| {
                self.text
                    .iter()
                    .find(|((f, n), _)| f == field && n == needle)
                    .is_some_and(|(_, ids)| ids.contains(&id))
            }),
            SearchKey::Header(name, needle) => {
                d.header.is_some_and(|h| header_has(h, name, needle))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_mailview::{Flags, UidRange, UidSet};
    use groxide_store::{ChangeNumber, ImapUid, MessageId};

    fn msg(
        uid: u32,
        flags: Flags,
        keywords: &[&str],
        size: u64,
        date: i64,
        modseq: u64,
    ) -> MessageEntry {
        MessageEntry {
            uid: ImapUid(uid),
            message_id: MessageId(u64::from(uid)),
            flags,
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            cn: ChangeNumber(modseq),
            size,
            internal_date: date,
            content_hash: None,
        }
    }

    const D: i64 = DAY;
    const HEADER1: &[u8] = b"From: a@x\r\nX-Spam: yes please\r\nSubject: hi\r\n\r\n";
    const HEADER2: &[u8] = b"From: b@x\r\n\r\n";

    /// Three messages; each case lists which of them match (internal dates
    /// compared in UTC).
    fn check(key: SearchKey, expected: [bool; 3]) {
        check_in(utc_plus(0), key, expected);
    }

    fn utc_plus(hours: i32) -> DayZone {
        DayZone::Fixed(chrono::FixedOffset::east_opt(hours * 3600).unwrap())
    }

    fn check_in(zone: DayZone, key: SearchKey, expected: [bool; 3]) {
        let messages = [
            msg(1, Flags::SEEN, &["$Label1"], 100, 10 * D + 5, 7),
            msg(
                2,
                Flags::SEEN.union(Flags::FLAGGED),
                &[],
                2000,
                11 * D + 1,
                9,
            ),
            msg(5, Flags::DELETED, &["Work"], 500, 12 * D - 1, 3),
        ];
        let derived = [
            Derived {
                digest_id: Some(1),
                sent: Some((10 * D - 3600, 120)),
                header: Some(HEADER1),
            },
            Derived {
                digest_id: Some(2),
                sent: None,
                header: Some(HEADER2),
            },
            Derived {
                digest_id: None,
                sent: Some((13 * D, -60)),
                header: None,
            },
        ];
        let text = key
            .text_keys()
            .into_iter()
            .map(|(f, n)| {
                let ids = match (f, n.as_str()) {
                    (TextField::Subject, "hi") => HashSet::from([1]),
                    (TextField::Body, "pizza") => HashSet::from([2]),
                    _ => HashSet::new(),
                };
                ((f, n), ids)
            })
            .collect();
        let m = Matcher::new(&key, text, 12 * D).in_zone(zone);
        let got: Vec<bool> = messages
            .iter()
            .zip(&derived)
            .map(|(msg, d)| m.matches(msg, d))
            .collect();
        assert_eq!(got, expected, "{key:?}");
    }

    #[test]
    fn internal_dates_are_compared_on_the_server_zone_day() {
        use SearchKey::*;
        // Internal dates: 1 is day 10 00:00:05, 2 day 11 00:00:01, 5 day 11
        // 23:59:59 (UTC). Two hours east, 5 is already day 12; one hour
        // west, 1 and 2 are still the day before.
        check_in(utc_plus(2), On(12), [false, false, true]);
        check_in(utc_plus(2), Before(12), [true, true, false]);
        check_in(utc_plus(-1), On(9), [true, false, false]);
        check_in(utc_plus(-1), Since(11), [false, false, true]);
        check_in(utc_plus(-1), On(10), [false, true, false]);
        // A message without a Date field (2) is sent "on" its internal day
        // there too; 1's Date field keeps its own zone (day 10).
        check_in(utc_plus(-1), SentOn(10), [true, true, false]);
    }

    #[test]
    fn each_key_matches_exactly_the_messages_it_names() {
        use SearchKey::*;
        let b = Box::new;
        check(All, [true, true, true]);
        check(
            Uid(UidSet::from_ranges([UidRange::new(2, 4)])),
            [false, true, false],
        );
        check(
            Uid(UidSet::from_ranges([UidRange::new(2, u32::MAX)])),
            [false, true, true],
        );
        check(FlagsSet(Flags::SEEN), [true, true, false]);
        check(
            FlagsSet(Flags::SEEN.union(Flags::FLAGGED)),
            [false, true, false],
        );
        check(FlagsUnset(Flags::SEEN), [false, false, true]);
        check(
            FlagsUnset(Flags::DELETED.union(Flags::FLAGGED)),
            [true, false, false],
        );
        check(Keyword("$label1".into()), [true, false, false]);
        check(Unkeyword("work".into()), [true, true, false]);
        check(Before(11), [true, false, false]);
        check(On(11), [false, true, true]);
        check(Since(11), [false, true, true]);
        // Sent dates in the field's own zone: 1 is day 10 at 01:00 (+0200),
        // 2 has no Date (internal date, day 11), 5 is day 12 at 23:00 (-0100).
        check(SentOn(10), [true, false, false]);
        check(SentBefore(12), [true, true, false]);
        check(SentSince(12), [false, false, true]);
        check(Larger(500), [false, true, false]);
        check(Smaller(500), [true, false, false]);
        check(ModSeq(7), [true, true, false]);
        check(Text(TextField::Subject, "hi".into()), [true, false, false]);
        check(Text(TextField::Body, "pizza".into()), [false, true, false]);
        check(
            Text(TextField::Body, "nothing".into()),
            [false, false, false],
        );
        check(
            Header("x-spam".into(), "PLEASE".into()),
            [true, false, false],
        );
        check(Header("X-Spam".into(), "".into()), [true, false, false]);
        check(Header("from".into(), "".into()), [true, true, false]);
        check(Younger(D as u64), [false, true, true]);
        check(Older(D as u64), [true, false, false]);
        check(Not(b(FlagsSet(Flags::SEEN))), [false, false, true]);
        check(
            Or(b(Larger(1000)), b(Keyword("work".into()))),
            [false, true, true],
        );
        check(
            And(vec![FlagsSet(Flags::SEEN), Smaller(1000)]),
            [true, false, false],
        );
        check(And(vec![]), [true, true, true]);
        check(
            Not(b(Or(
                b(Text(TextField::Subject, "hi".into())),
                b(Uid(UidSet::from_uids([5]))),
            ))),
            [false, true, false],
        );
    }

    #[test]
    fn the_tree_reports_what_it_needs() {
        use SearchKey::*;
        let k = And(vec![Not(Box::new(SentOn(3))), ModSeq(2)]);
        assert!(k.needs_sent_date() && k.uses_modseq() && k.needs_digest());
        assert!(!k.needs_text() && !k.needs_header());
        let k = Or(
            Box::new(Header("a".into(), "b".into())),
            Box::new(Text(TextField::Cc, "x".into())),
        );
        assert!(k.needs_header() && k.needs_text());
        assert_eq!(k.text_keys(), vec![(TextField::Cc, "x".to_string())]);
        assert!(!FlagsSet(Flags::SEEN).needs_digest());
    }
}
