//! SEARCH criteria, SORT keys and THREAD trees.

use crate::flags::Flags;
use crate::types::ModSeq;
use crate::uid::{Uid, UidSet};

/// A text field that SEARCH matches by substring (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextField {
    /// SUBJECT.
    Subject,
    /// FROM: display names and addresses.
    From,
    /// TO.
    To,
    /// CC.
    Cc,
    /// BCC.
    Bcc,
    /// BODY: the decoded text of the body.
    Body,
    /// TEXT: header and body.
    Text,
}

/// A SEARCH criterion (RFC 3501 §6.4.4, RFC 7162 MODSEQ, RFC 5032
/// YOUNGER/OLDER), with message sequence numbers, `$` and the per-session
/// `\Recent`, NEW and OLD already turned into UID sets by the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// Every message.
    All,
    /// All of these.
    And(Vec<SearchKey>),
    /// Either.
    Or(Box<SearchKey>, Box<SearchKey>),
    /// Not this.
    Not(Box<SearchKey>),
    /// UID in the set (`u32::MAX` ends an open range: up to the highest).
    Uid(UidSet),
    /// All these flags set.
    FlagsSet(Flags),
    /// All these flags clear.
    FlagsUnset(Flags),
    /// Keyword set (case-insensitive).
    Keyword(String),
    /// Keyword not set.
    Unkeyword(String),
    /// Internal date before this day (days since 1970-01-01, UTC).
    Before(i64),
    /// Internal date on this day.
    On(i64),
    /// Internal date on or after this day.
    Since(i64),
    /// Date: header before this day (in the header's own zone).
    SentBefore(i64),
    /// Date: header on this day.
    SentOn(i64),
    /// Date: header on or after this day.
    SentSince(i64),
    /// Size larger than.
    Larger(u64),
    /// Size smaller than.
    Smaller(u64),
    /// Substring of a text field.
    Text(TextField, String),
    /// Substring of a header field's value; an empty value matches any
    /// message that has the field.
    Header(String, String),
    /// MODSEQ at least this.
    ModSeq(ModSeq),
    /// Internal date within the last N seconds.
    Younger(u64),
    /// Internal date more than N seconds ago.
    Older(u64),
}

impl SearchKey {
    /// Visits every key of the tree, depth first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a SearchKey)) {
        f(self);
        match self {
            SearchKey::And(v) => v.iter().for_each(|k| k.walk(f)),
            SearchKey::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            SearchKey::Not(k) => k.walk(f),
            _ => {}
        }
    }

    /// Whether any key of the tree satisfies `pred`.
    pub fn any(&self, pred: impl Fn(&SearchKey) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |k| found |= pred(k));
        found
    }

    /// Whether the criteria use MODSEQ (the result then reports the highest
    /// MODSEQ of the matches, RFC 7162 §3.1.5).
    pub fn uses_modseq(&self) -> bool {
        self.any(|k| matches!(k, SearchKey::ModSeq(_)))
    }
}

/// What SEARCH found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResult {
    /// Matching UIDs, ascending.
    pub uids: Vec<Uid>,
    /// Highest MODSEQ of the matches (0 when none match).
    pub highest_modseq: ModSeq,
}

/// A SORT key (RFC 5256, RFC 5957).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Internal date.
    Arrival,
    /// First Cc address's local part.
    Cc,
    /// Date: header (internal date when missing).
    Date,
    /// First From address's local part.
    From,
    /// Size.
    Size,
    /// Base subject.
    Subject,
    /// First To address's local part.
    To,
    /// Display name of the first From address (RFC 5957).
    DisplayFrom,
    /// Display name of the first To address (RFC 5957).
    DisplayTo,
}

/// One SORT criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortCriterion {
    /// The key.
    pub key: SortKey,
    /// Descending.
    pub reverse: bool,
}

/// A THREAD algorithm (RFC 5256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    /// REFERENCES.
    References,
    /// ORDEREDSUBJECT.
    OrderedSubject,
}

/// A node of a THREAD tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadTree {
    /// The message's UID; 0 for a missing parent (a dummy node).
    pub uid: Uid,
    /// Replies.
    pub children: Vec<ThreadTree>,
}

impl Drop for ThreadTree {
    /// Iterative: a long reply chain must not overflow the stack.
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.children);
        while let Some(mut node) = pending.pop() {
            pending.append(&mut node.children);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deep_reply_chain_drops_without_overflowing_the_stack() {
        let mut t = ThreadTree::default();
        for uid in 1..200_000 {
            t = ThreadTree {
                uid,
                children: vec![t],
            };
        }
        drop(t);
    }

    #[test]
    fn walking_finds_keys_inside_or_and_not() {
        let k = SearchKey::And(vec![
            SearchKey::All,
            SearchKey::Or(
                Box::new(SearchKey::Not(Box::new(SearchKey::ModSeq(5)))),
                Box::new(SearchKey::Larger(3)),
            ),
        ]);
        assert!(k.uses_modseq());
        assert!(!SearchKey::Larger(1).uses_modseq());
    }
}
