//! The selected mailbox as this session's client knows it: the
//! sequence-number ↔ UID map (a sorted `Vec<u32>`, 4 bytes a message), the
//! MODSEQ up to which changes are known, expunges the client has not been
//! told yet, and the session's own changes it already reported.

use crate::backend::UidRange;
use groxide_imap_proto::{NumberSet, SequenceSet};
use std::collections::{BTreeSet, HashMap};
use std::ops::RangeInclusive;

/// A set of message positions (0-based indexes into the UID map), as
/// sorted, merged, inclusive ranges: `1:*` on any folder is one range.
pub type Positions = Vec<RangeInclusive<usize>>;

/// A sequence number beyond the messages the client knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("message sequence number {number} does not exist (the mailbox has {exists} messages)")]
pub struct NoSuchSequence {
    /// The number sent.
    pub number: u32,
    /// Messages the client knows.
    pub exists: u32,
}

/// The selected mailbox.
#[derive(Debug)]
pub struct Selected {
    /// The store name (UTF-8).
    pub name: String,
    /// The folder id.
    pub folder: u64,
    /// UIDVALIDITY.
    pub uidvalidity: u32,
    /// EXAMINE, or no write access.
    pub read_only: bool,
    /// UIDs by sequence number - 1, ascending.
    uids: Vec<u32>,
    /// Every change up to this MODSEQ is reflected (or pending).
    pub known_modseq: u64,
    /// UIDs still in the map whose messages are gone, ascending.
    pending_expunges: Vec<u32>,
    /// Keywords announced in `* FLAGS`.
    pub keywords: BTreeSet<String>,
    /// MODSEQs of flag changes this session already reported.
    reported: HashMap<u32, u64>,
    /// The SEARCHRES result (`$`), as UIDs.
    pub saved_search: Vec<u32>,
    /// A change hint arrived: catch up before the next tagged response.
    pub dirty: bool,
    /// Change numbers of this session's own recent commits: their hints
    /// need no catch-up (the client was told already).
    pub own_changes: std::collections::VecDeque<u64>,
    /// UIDs that are `\Recent` to this session (claimed by it, or above
    /// the folder's marker when read-only), as ranges.
    recent: Vec<UidRange>,
}

/// Own change numbers remembered.
const OWN_CHANGES: usize = 64;

impl Selected {
    /// A mailbox whose messages are `uids` (ascending).
    pub fn new(
        name: String,
        folder: u64,
        uidvalidity: u32,
        read_only: bool,
        uids: Vec<u32>,
    ) -> Selected {
        Selected {
            name,
            folder,
            uidvalidity,
            read_only,
            uids,
            known_modseq: 0,
            pending_expunges: Vec::new(),
            keywords: BTreeSet::new(),
            reported: HashMap::new(),
            saved_search: Vec::new(),
            dirty: false,
            own_changes: std::collections::VecDeque::new(),
            recent: Vec::new(),
        }
    }

    /// Makes the messages with UIDs in `first..=last` recent to this session.
    pub fn add_recent(&mut self, first: u32, last: u32) {
        if first > last {
            return;
        }
        let mut ranges = std::mem::take(&mut self.recent);
        ranges.push(UidRange::new(first, last));
        self.recent = crate::backend::UidSet::from_ranges(ranges).into_ranges();
    }

    /// Whether the message is `\Recent` to this session.
    pub fn is_recent(&self, uid: u32) -> bool {
        let i = self.recent.partition_point(|r| r.last < uid);
        self.recent.get(i).is_some_and(|r| r.first <= uid)
    }

    /// How many known messages are `\Recent` to this session (RECENT).
    pub fn recent_count(&self) -> u32 {
        self.recent
            .iter()
            .map(|r| self.uids_within(r.first, r.last).len() as u32)
            .sum()
    }

    /// The UIDs `\Recent` to this session (SEARCH RECENT).
    pub fn recent_uids(&self) -> crate::backend::UidSet {
        crate::backend::UidSet::from_ranges(self.recent.iter().copied())
    }

    /// Records a commit this session made (its hint can be ignored).
    pub fn note_own_change(&mut self, change_number: u64) {
        if change_number == 0 || self.own_changes.contains(&change_number) {
            return;
        }
        if self.own_changes.len() == OWN_CHANGES {
            self.own_changes.pop_front();
        }
        self.own_changes.push_back(change_number);
    }

    /// Messages the client knows (EXISTS).
    pub fn exists(&self) -> u32 {
        self.uids.len() as u32
    }

    /// The highest UID the client knows (0 when empty).
    pub fn max_uid(&self) -> u32 {
        self.uids.last().copied().unwrap_or(0)
    }

    /// The UID at a position.
    pub fn uid_at(&self, position: usize) -> Option<u32> {
        self.uids.get(position).copied()
    }

    /// The sequence number of `uid`, if the client knows it.
    pub fn seq_of(&self, uid: u32) -> Option<u32> {
        self.uids.binary_search(&uid).ok().map(|i| i as u32 + 1)
    }

    /// True when the message's expunge is not yet reported.
    pub fn is_pending_expunge(&self, uid: u32) -> bool {
        self.pending_expunges.binary_search(&uid).is_ok()
    }

    /// Positions named by a sequence set; `$` is the saved search.
    pub fn positions_of_seqs(&self, set: &SequenceSet) -> Result<Positions, NoSuchSequence> {
        if matches!(set, SequenceSet::Saved) {
            return Ok(self.positions_of_uid_list(&self.saved_search));
        }
        let exists = self.exists();
        let mut ranges = Vec::new();
        for range in set.ranges() {
            if exists == 0 {
                // `*` names nothing in an empty mailbox; numbers are errors.
                let named = [range.start, range.end].into_iter().find_map(|n| match n {
                    groxide_imap_proto::SeqNumber::Value(v) => Some(v.get()),
                    groxide_imap_proto::SeqNumber::Largest => None,
                });
                if let Some(number) = named {
                    return Err(NoSuchSequence { number, exists });
                }
                continue;
            }
            let r = range.resolve(exists);
            if *r.end() > exists {
                return Err(NoSuchSequence {
                    number: *r.end(),
                    exists,
                });
            }
            ranges.push((*r.start() as usize - 1)..=(*r.end() as usize - 1));
        }
        Ok(merge(ranges))
    }

    /// Positions of the known messages whose UIDs are in `set` (`*` is the
    /// highest known UID; `$` the saved search).
    pub fn positions_of_uids(&self, set: &SequenceSet) -> Positions {
        if matches!(set, SequenceSet::Saved) {
            return self.positions_of_uid_list(&self.saved_search);
        }
        let max = self.max_uid();
        let mut ranges = Vec::new();
        for range in set.ranges() {
            let r = range.resolve(max);
            let a = self.uids.partition_point(|&u| u < *r.start());
            let b = self.uids.partition_point(|&u| u <= *r.end());
            if a < b {
                ranges.push(a..=(b - 1));
            }
        }
        merge(ranges)
    }

    /// Positions of the known messages among ascending `uids`.
    pub fn positions_of_uid_list(&self, uids: &[u32]) -> Positions {
        merge(
            uids.iter()
                .filter_map(|u| self.uids.binary_search(u).ok())
                .map(|i| i..=i)
                .collect(),
        )
    }

    /// The UID ranges covering `positions`: every stored message in them
    /// is one the client knows (new messages have higher UIDs).
    pub fn uid_ranges(&self, positions: &Positions) -> Vec<UidRange> {
        positions
            .iter()
            .filter_map(|p| {
                Some(UidRange::new(
                    self.uid_at(*p.start())?,
                    self.uid_at(*p.end())?,
                ))
            })
            .collect()
    }

    /// UID ranges of a UID set as the client wrote it (for SEARCH UID),
    /// `*` being the highest known UID. A UID the client writes is taken
    /// literally: `4294967295` names that UID (which the store never
    /// assigns), not "up to the highest" as `u32::MAX` does in a view
    /// request, so it is sent as one below.
    pub fn raw_uid_ranges(&self, set: &SequenceSet) -> Vec<UidRange> {
        if matches!(set, SequenceSet::Saved) {
            return crate::backend::ranges_of(self.saved_search.iter().copied());
        }
        set.resolve(self.max_uid())
            .ranges()
            .iter()
            .filter(|(_, b)| *b > 0)
            .map(|&(a, b)| UidRange::new(a.clamp(1, u32::MAX - 1), b.min(u32::MAX - 1)))
            .collect()
    }

    /// Adds messages the client is about to be told of (ascending UIDs
    /// above [`Selected::max_uid`]).
    pub fn append_uids(&mut self, uids: impl IntoIterator<Item = u32>) {
        for uid in uids {
            if uid > self.max_uid() {
                self.uids.push(uid);
            }
        }
    }

    /// Notes that `uid`'s message is gone; the client is told later.
    pub fn mark_expunged(&mut self, uid: u32) {
        if self.uids.binary_search(&uid).is_ok()
            && let Err(i) = self.pending_expunges.binary_search(&uid)
        {
            self.pending_expunges.insert(i, uid);
        }
    }

    /// The known UIDs within `first..=last`.
    pub fn uids_within(&self, first: u32, last: u32) -> &[u32] {
        let a = self.uids.partition_point(|&u| u < first);
        let b = self.uids.partition_point(|&u| u <= last);
        &self.uids[a..b.max(a)]
    }

    /// Notes every known UID of `range` as gone.
    pub fn mark_range_expunged(&mut self, range: UidRange) {
        let a = self.uids.partition_point(|&u| u < range.first);
        let b = self.uids.partition_point(|&u| u <= range.last);
        let gone: Vec<u32> = self.uids[a..b].to_vec();
        for uid in gone {
            self.mark_expunged(uid);
        }
    }

    /// True when expunges wait to be reported.
    pub fn has_pending_expunges(&self) -> bool {
        !self.pending_expunges.is_empty()
    }

    /// Removes the pending expunges from the map; returns their
    /// (sequence number, UID) in descending order, so each number is valid
    /// when it is sent as `* n EXPUNGE` one after the other.
    pub fn take_expunges(&mut self) -> Vec<(u32, u32)> {
        let gone = std::mem::take(&mut self.pending_expunges);
        let mut out: Vec<(u32, u32)> = gone
            .iter()
            .filter_map(|u| self.seq_of(*u).map(|s| (s, *u)))
            .collect();
        out.reverse();
        let mut doomed = gone.iter().peekable();
        self.uids.retain(|u| {
            while doomed.peek().is_some_and(|d| **d < *u) {
                doomed.next();
            }
            doomed.peek() != Some(&u)
        });
        for u in &gone {
            self.reported.remove(u);
        }
        out
    }

    /// Records a flag change this session reported (or caused).
    pub fn note_reported(&mut self, uid: u32, modseq: u64) {
        let e = self.reported.entry(uid).or_insert(0);
        *e = (*e).max(modseq);
    }

    /// True when a change at `modseq` of `uid` was already reported.
    pub fn already_reported(&self, uid: u32, modseq: u64) -> bool {
        self.reported.get(&uid).is_some_and(|m| *m >= modseq)
    }

    /// Forgets reported changes once a catch-up covered them.
    pub fn clear_reported(&mut self) {
        self.reported.clear();
        if self.reported.capacity() > 1024 {
            self.reported.shrink_to_fit();
        }
    }

    /// Sequence numbers of `positions` as a compact set.
    pub fn seq_set(positions: &Positions) -> NumberSet {
        let mut set = NumberSet::new();
        for p in positions {
            set.push_range(*p.start() as u32 + 1, *p.end() as u32 + 1);
        }
        set
    }

    /// Bytes the map and bookkeeping hold.
    pub fn heap_bytes(&self) -> usize {
        self.uids.capacity() * 4
            + self.pending_expunges.capacity() * 4
            + self.reported.capacity() * 16
    }
}

/// Sorts and merges overlapping or touching ranges.
fn merge(mut ranges: Vec<RangeInclusive<usize>>) -> Positions {
    ranges.sort_unstable_by_key(|r| *r.start());
    let mut out: Positions = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if *r.start() <= last.end().saturating_add(1) => {
                if r.end() > last.end() {
                    *last = *last.start()..=*r.end();
                }
            }
            _ => out.push(r),
        }
    }
    out
}

/// How many positions a set holds.
pub fn count(positions: &Positions) -> usize {
    positions.iter().map(|p| p.end() - p.start() + 1).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_imap_proto::{ReceiverLimits, parse_command};
    use proptest::prelude::*;

    fn view(uids: &[u32]) -> Selected {
        Selected::new("INBOX".into(), 1, 7, false, uids.to_vec())
    }

    fn set(text: &str) -> SequenceSet {
        let cmd = parse_command(
            format!("a FETCH {text} FLAGS\r\n").as_bytes(),
            &ReceiverLimits::default(),
        )
        .unwrap();
        match cmd.body {
            groxide_imap_proto::CommandBody::Fetch(f) => f.set,
            _ => unreachable!(),
        }
    }

    #[test]
    fn sequence_sets_name_positions_and_reject_numbers_past_the_end() {
        let v = view(&[3, 5, 9, 10]);
        assert_eq!(v.positions_of_seqs(&set("1:*")).unwrap(), vec![0..=3]);
        assert_eq!(
            v.positions_of_seqs(&set("4,2,1")).unwrap(),
            vec![0..=1, 3..=3]
        );
        assert_eq!(v.positions_of_seqs(&set("*:3")).unwrap(), vec![2..=3]);
        assert_eq!(
            v.positions_of_seqs(&set("2:5")).unwrap_err(),
            NoSuchSequence {
                number: 5,
                exists: 4
            }
        );
        let empty = view(&[]);
        assert_eq!(empty.positions_of_seqs(&set("1:*")).unwrap_err().number, 1);
        assert_eq!(empty.positions_of_seqs(&set("*")).unwrap(), vec![]);
    }

    #[test]
    fn uid_sets_name_known_messages_only() {
        let v = view(&[3, 5, 9, 10]);
        assert_eq!(v.positions_of_uids(&set("1:*")), vec![0..=3]);
        assert_eq!(v.positions_of_uids(&set("4:9")), vec![1..=2]);
        assert_eq!(v.positions_of_uids(&set("11:*")), vec![3..=3]);
        assert_eq!(v.positions_of_uids(&set("6:8")), vec![]);
        assert_eq!(
            v.uid_ranges(&v.positions_of_uids(&set("4:9,10"))),
            vec![UidRange::new(5, 10)]
        );
    }

    #[test]
    fn expunges_are_held_until_taken_then_numbered_from_the_top() {
        let mut v = view(&[3, 5, 9, 10]);
        v.mark_expunged(5);
        v.mark_expunged(10);
        v.mark_expunged(99);
        assert_eq!(v.exists(), 4);
        assert_eq!(v.seq_of(10), Some(4));
        assert_eq!(v.take_expunges(), vec![(4, 10), (2, 5)]);
        assert_eq!(v.exists(), 2);
        assert_eq!(v.seq_of(9), Some(2));
        assert!(v.take_expunges().is_empty());
    }

    proptest! {
        #[test]
        fn taking_expunges_keeps_the_map_sorted_and_numbers_consistent(
            mut uids in proptest::collection::btree_set(1u32..500, 0..80),
            gone in proptest::collection::vec(1u32..500, 0..40),
        ) {
            let list: Vec<u32> = std::mem::take(&mut uids).into_iter().collect();
            let mut v = view(&list);
            for g in &gone {
                v.mark_expunged(*g);
            }
            let mut replay = list.clone();
            for (seq, uid) in v.take_expunges() {
                prop_assert_eq!(replay[seq as usize - 1], uid);
                replay.remove(seq as usize - 1);
            }
            let expected: Vec<u32> = list.iter().copied().filter(|u| !gone.contains(u)).collect();
            prop_assert_eq!(&replay, &expected);
            prop_assert_eq!(v.exists() as usize, expected.len());
            for (i, u) in expected.iter().enumerate() {
                prop_assert_eq!(v.seq_of(*u), Some(i as u32 + 1));
            }
        }
    }
}
