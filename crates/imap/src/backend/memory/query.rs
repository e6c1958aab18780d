//! SEARCH, SORT and THREAD of the in-memory backend: evaluated message by
//! message on the parsed bytes (slow, simple, faithful enough for tests).

use super::StoredMessage;
use crate::backend::{
    SearchKey, SearchResult, SortCriterion, SortKey, ThreadAlgorithm, ThreadTree, ranges_contain,
};
use groxide_mime::{MessageSummary, ParsedMessage, base_subject, display_sort_key, sort_address};
use std::cmp::Ordering;
use std::collections::HashMap;

const SECONDS_PER_DAY: i64 = 86_400;

/// A message with what the criteria need, parsed once.
struct Candidate<'a> {
    uid: u32,
    message: &'a StoredMessage,
    parsed: ParsedMessage<'a>,
    summary: MessageSummary,
}

fn candidates(messages: &[(u32, StoredMessage)]) -> Vec<Candidate<'_>> {
    messages
        .iter()
        .map(|(uid, m)| {
            let parsed = ParsedMessage::parse(&m.raw);
            let summary = parsed.summary();
            Candidate {
                uid: *uid,
                message: m,
                parsed,
                summary,
            }
        })
        .collect()
}

fn contains_folded(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn header_contains(c: &Candidate<'_>, name: &str, needle: &str) -> bool {
    let values = c.parsed.header_values(name);
    if needle.is_empty() {
        return !values.is_empty();
    }
    values.iter().any(|v| contains_folded(v, needle))
}

fn sent_day(c: &Candidate<'_>) -> Option<i64> {
    let d = c.summary.date.as_ref()?;
    Some((d.unix_seconds + i64::from(d.utc_offset_minutes) * 60).div_euclid(SECONDS_PER_DAY))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn matches(c: &Candidate<'_>, key: &SearchKey) -> bool {
    let m = c.message;
    let day = m.internal_date.div_euclid(SECONDS_PER_DAY);
    match key {
        SearchKey::All => true,
        SearchKey::And(keys) => keys.iter().all(|k| matches(c, k)),
        SearchKey::Or(a, b) => matches(c, a) || matches(c, b),
        SearchKey::Not(k) => !matches(c, k),
        SearchKey::Uid(ranges) => ranges_contain(ranges, c.uid),
        SearchKey::FlagsSet(f) => m.flags & f.0 == f.0,
        SearchKey::FlagsUnset(f) => m.flags & f.0 == 0,
        SearchKey::Keyword(k) => m.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)),
        SearchKey::Unkeyword(k) => !m.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)),
        SearchKey::Before(d) => day < *d,
        SearchKey::On(d) => day == *d,
        SearchKey::Since(d) => day >= *d,
        SearchKey::SentBefore(d) => sent_day(c).is_some_and(|s| s < *d),
        SearchKey::SentOn(d) => sent_day(c) == Some(*d),
        SearchKey::SentSince(d) => sent_day(c).is_some_and(|s| s >= *d),
        SearchKey::Larger(n) => m.raw.len() as u64 > *n,
        SearchKey::Smaller(n) => (m.raw.len() as u64) < *n,
        SearchKey::Bcc(s) => header_contains(c, "Bcc", s),
        SearchKey::Cc(s) => header_contains(c, "Cc", s),
        SearchKey::From(s) => header_contains(c, "From", s),
        SearchKey::To(s) => header_contains(c, "To", s),
        SearchKey::Subject(s) => header_contains(c, "Subject", s),
        SearchKey::Body(s) => contains_folded(&c.summary.body_text, s),
        SearchKey::Text(s) => {
            contains_folded(&c.parsed.searchable_text(), s)
                || contains_folded(&String::from_utf8_lossy(&m.raw), s)
        }
        SearchKey::Header(name, value) => header_contains(c, name, value),
        SearchKey::ModSeq(n) => m.modseq >= *n,
        SearchKey::Younger(s) => now() - m.internal_date <= *s as i64,
        SearchKey::Older(s) => now() - m.internal_date > *s as i64,
    }
}

fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSeq(_) => true,
        SearchKey::And(keys) => keys.iter().any(uses_modseq),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        SearchKey::Not(k) => uses_modseq(k),
        _ => false,
    }
}

pub(super) fn search(messages: &[(u32, StoredMessage)], criteria: &SearchKey) -> SearchResult {
    let found: Vec<Candidate<'_>> = candidates(messages)
        .into_iter()
        .filter(|c| matches(c, criteria))
        .collect();
    let highest_modseq = if uses_modseq(criteria) {
        found.iter().map(|c| c.message.modseq).max().unwrap_or(0)
    } else {
        0
    };
    SearchResult {
        uids: found.iter().map(|c| c.uid).collect(),
        highest_modseq,
    }
}

fn sent_time(c: &Candidate<'_>) -> i64 {
    c.summary
        .date
        .as_ref()
        .map_or(c.message.internal_date, |d| d.unix_seconds)
}

fn subject_key(c: &Candidate<'_>) -> String {
    base_subject(c.summary.subject.as_deref().unwrap_or("")).to_lowercase()
}

fn compare(a: &Candidate<'_>, b: &Candidate<'_>, key: SortKey) -> Ordering {
    match key {
        SortKey::Arrival => a.message.internal_date.cmp(&b.message.internal_date),
        SortKey::Date => sent_time(a).cmp(&sent_time(b)),
        SortKey::Size => a.message.raw.len().cmp(&b.message.raw.len()),
        SortKey::Subject => subject_key(a).cmp(&subject_key(b)),
        SortKey::From => sort_address(&a.summary.from)
            .to_lowercase()
            .cmp(&sort_address(&b.summary.from).to_lowercase()),
        SortKey::To => sort_address(&a.summary.to)
            .to_lowercase()
            .cmp(&sort_address(&b.summary.to).to_lowercase()),
        SortKey::Cc => sort_address(&a.summary.cc)
            .to_lowercase()
            .cmp(&sort_address(&b.summary.cc).to_lowercase()),
        SortKey::DisplayFrom => display_sort_key(&a.summary.from)
            .to_lowercase()
            .cmp(&display_sort_key(&b.summary.from).to_lowercase()),
        SortKey::DisplayTo => display_sort_key(&a.summary.to)
            .to_lowercase()
            .cmp(&display_sort_key(&b.summary.to).to_lowercase()),
    }
}

pub(super) fn sort(
    messages: &[(u32, StoredMessage)],
    order: &[SortCriterion],
    criteria: &SearchKey,
) -> Vec<u32> {
    let mut found: Vec<Candidate<'_>> = candidates(messages)
        .into_iter()
        .filter(|c| matches(c, criteria))
        .collect();
    found.sort_by(|a, b| {
        for criterion in order {
            let o = compare(a, b, criterion.key);
            let o = if criterion.reverse { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.uid.cmp(&b.uid)
    });
    found.iter().map(|c| c.uid).collect()
}

fn by_date(found: &[Candidate<'_>], uids: &mut [u32]) {
    let time_of: HashMap<u32, i64> = found.iter().map(|c| (c.uid, sent_time(c))).collect();
    uids.sort_by_key(|u| (time_of.get(u).copied().unwrap_or(0), *u));
}

pub(super) fn thread(
    messages: &[(u32, StoredMessage)],
    algorithm: ThreadAlgorithm,
    criteria: &SearchKey,
) -> Vec<ThreadTree> {
    let found: Vec<Candidate<'_>> = candidates(messages)
        .into_iter()
        .filter(|c| matches(c, criteria))
        .collect();
    match algorithm {
        ThreadAlgorithm::OrderedSubject => {
            let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
            for c in &found {
                let key = subject_key(c);
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, uids)) => uids.push(c.uid),
                    None => groups.push((key, vec![c.uid])),
                }
            }
            let mut threads: Vec<Vec<u32>> = groups
                .into_iter()
                .map(|(_, mut uids)| {
                    by_date(&found, &mut uids);
                    uids
                })
                .collect();
            let first_time: HashMap<u32, i64> =
                found.iter().map(|c| (c.uid, sent_time(c))).collect();
            threads.sort_by_key(|t| {
                let first = t.first().copied().unwrap_or(0);
                (first_time.get(&first).copied().unwrap_or(0), first)
            });
            threads
                .into_iter()
                .filter_map(|t| {
                    let (root, rest) = t.split_first()?;
                    Some(ThreadTree {
                        uid: *root,
                        children: rest
                            .iter()
                            .map(|u| ThreadTree {
                                uid: *u,
                                children: Vec::new(),
                            })
                            .collect(),
                    })
                })
                .collect()
        }
        ThreadAlgorithm::References => {
            let by_id: HashMap<&str, u32> = found
                .iter()
                .filter_map(|c| c.summary.message_id.as_deref().map(|id| (id, c.uid)))
                .collect();
            let mut parent_of: HashMap<u32, u32> = HashMap::new();
            for c in &found {
                let refs = c
                    .summary
                    .references
                    .iter()
                    .rev()
                    .map(String::as_str)
                    .chain(c.summary.in_reply_to.as_deref());
                for r in refs {
                    if let Some(&p) = by_id.get(r)
                        && p != c.uid
                    {
                        parent_of.insert(c.uid, p);
                        break;
                    }
                }
            }
            // Break cycles: a message whose ancestor chain returns to it is a root.
            let uids: Vec<u32> = found.iter().map(|c| c.uid).collect();
            for &u in &uids {
                let mut seen = vec![u];
                let mut cur = u;
                while let Some(&p) = parent_of.get(&cur) {
                    if seen.contains(&p) {
                        parent_of.remove(&u);
                        break;
                    }
                    seen.push(p);
                    cur = p;
                }
            }
            let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
            let mut roots = Vec::new();
            for &u in &uids {
                match parent_of.get(&u) {
                    Some(&p) => children.entry(p).or_default().push(u),
                    None => roots.push(u),
                }
            }
            by_date(&found, &mut roots);
            for list in children.values_mut() {
                by_date(&found, list);
            }
            roots
                .into_iter()
                .map(|r| build_tree(r, &mut children))
                .collect()
        }
    }
}

/// Builds the tree under `root` without recursion.
fn build_tree(root: u32, children: &mut HashMap<u32, Vec<u32>>) -> ThreadTree {
    // Post-order: collect nodes, then attach children bottom-up.
    let mut order = vec![root];
    let mut i = 0;
    while i < order.len() {
        if let Some(kids) = children.get(&order[i]) {
            order.extend(kids.iter().copied());
        }
        i += 1;
    }
    let mut built: HashMap<u32, ThreadTree> = HashMap::new();
    for &u in order.iter().rev() {
        let kids = children.remove(&u).unwrap_or_default();
        let node = ThreadTree {
            uid: u,
            children: kids.iter().filter_map(|k| built.remove(k)).collect(),
        };
        built.insert(u, node);
    }
    built.remove(&root).unwrap_or(ThreadTree {
        uid: root,
        children: Vec::new(),
    })
}
