//! UIDs and sets of them.

/// An IMAP UID, assigned by the store when a message enters a folder.
pub type Uid = u32;

/// An inclusive range of UIDs (`first <= last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UidRange {
    /// First UID.
    pub first: Uid,
    /// Last UID (`u32::MAX` in a request: "up to the highest", IMAP `*`).
    pub last: Uid,
}

impl UidRange {
    /// `a..=b`, either way round.
    pub fn new(a: Uid, b: Uid) -> UidRange {
        UidRange {
            first: a.min(b),
            last: a.max(b),
        }
    }

    /// One UID.
    pub fn single(uid: Uid) -> UidRange {
        UidRange {
            first: uid,
            last: uid,
        }
    }

    /// Whether `uid` is in the range.
    pub fn contains(&self, uid: Uid) -> bool {
        self.first <= uid && uid <= self.last
    }
}

/// A set of UIDs: disjoint ranges in ascending order. `u32::MAX` as the end
/// of the last range means "up to the highest UID" (IMAP `*`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct UidSet {
    ranges: Vec<UidRange>,
}

impl UidSet {
    /// The empty set.
    pub fn new() -> UidSet {
        UidSet::default()
    }

    /// Every UID.
    pub fn all() -> UidSet {
        UidSet {
            ranges: vec![UidRange::new(1, Uid::MAX)],
        }
    }

    /// The set of these ranges, in any order, overlapping or not.
    pub fn from_ranges(ranges: impl IntoIterator<Item = UidRange>) -> UidSet {
        let mut v: Vec<UidRange> = ranges.into_iter().collect();
        if !v.is_sorted_by_key(|r| r.first) {
            v.sort_unstable_by_key(|r| r.first);
        }
        let mut merged: Vec<UidRange> = Vec::with_capacity(v.len());
        for r in v {
            match merged.last_mut() {
                Some(last) if r.first <= last.last.saturating_add(1) => {
                    last.last = last.last.max(r.last);
                }
                _ => merged.push(r),
            }
        }
        UidSet { ranges: merged }
    }

    /// The set of these UIDs, in any order.
    pub fn from_uids(uids: impl IntoIterator<Item = Uid>) -> UidSet {
        UidSet::from_ranges(uids.into_iter().map(UidRange::single))
    }

    /// One UID.
    pub fn single(uid: Uid) -> UidSet {
        UidSet {
            ranges: vec![UidRange::single(uid)],
        }
    }

    /// Whether `uid` is in the set.
    pub fn contains(&self, uid: Uid) -> bool {
        let i = self.ranges.partition_point(|r| r.last < uid);
        self.ranges.get(i).is_some_and(|r| r.first <= uid)
    }

    /// The ranges, ascending and disjoint.
    pub fn ranges(&self) -> &[UidRange] {
        &self.ranges
    }

    /// The ranges, taken out.
    pub fn into_ranges(self) -> Vec<UidRange> {
        self.ranges
    }

    /// Whether the set holds no UID.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether the last range reaches "up to the highest UID".
    pub fn is_open_ended(&self) -> bool {
        self.ranges.last().is_some_and(|r| r.last == Uid::MAX)
    }

    /// The lowest UID of the set.
    pub fn first(&self) -> Option<Uid> {
        self.ranges.first().map(|r| r.first)
    }

    /// The highest UID of the set (`u32::MAX` when open-ended).
    pub fn last(&self) -> Option<Uid> {
        self.ranges.last().map(|r| r.last)
    }

    /// IMAP's rule for `n:*` when `n` is past the highest UID: the range
    /// still names the highest UID (RFC 3501 §6.4.8: `*:n` is `n:*`).
    pub fn with_star_resolved(&self, highest_uid: Uid) -> UidSet {
        if highest_uid == 0 || !self.is_open_ended() {
            return self.clone();
        }
        UidSet::from_ranges(self.ranges.iter().map(|r| {
            if r.last == Uid::MAX && r.first > highest_uid {
                UidRange::single(highest_uid)
            } else {
                *r
            }
        }))
    }

    /// Every UID of the set up to `highest` (for small sets; an open-ended
    /// set stops at `highest`).
    pub fn iter_upto(&self, highest: Uid) -> impl Iterator<Item = Uid> + '_ {
        self.ranges
            .iter()
            .take_while(move |r| r.first <= highest)
            .flat_map(move |r| r.first..=r.last.min(highest))
    }
}

impl FromIterator<Uid> for UidSet {
    fn from_iter<I: IntoIterator<Item = Uid>>(iter: I) -> Self {
        UidSet::from_uids(iter)
    }
}

/// Ranges of ascending UIDs, consecutive runs merged (no sorting: the
/// caller's UIDs are already in order).
pub fn ranges_of(uids: impl IntoIterator<Item = Uid>) -> Vec<UidRange> {
    let mut out: Vec<UidRange> = Vec::new();
    for uid in uids {
        match out.last_mut() {
            Some(last) if last.last.checked_add(1) == Some(uid) => last.last = uid,
            _ => out.push(UidRange::single(uid)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(a: Uid, b: Uid) -> UidRange {
        UidRange::new(a, b)
    }

    #[test]
    fn sets_merge_overlapping_and_adjacent_ranges() {
        let s = UidSet::from_ranges([r(5, 7), r(1, 2), r(3, 3), r(10, 8)]);
        assert_eq!(s.ranges(), &[r(1, 3), r(5, 10)]);
        for (uid, inside) in [
            (0, false),
            (1, true),
            (3, true),
            (4, false),
            (5, true),
            (10, true),
            (11, false),
        ] {
            assert_eq!(s.contains(uid), inside, "uid {uid}");
        }
    }

    #[test]
    fn star_past_the_highest_uid_still_names_the_highest() {
        let s = UidSet::from_ranges([r(50, Uid::MAX)]);
        assert_eq!(s.with_star_resolved(10).ranges(), &[r(10, 10)]);
        assert_eq!(s.with_star_resolved(60).ranges(), &[r(50, Uid::MAX)]);
        let plain = UidSet::from_ranges([r(50, 60)]);
        assert_eq!(plain.with_star_resolved(10), plain);
    }

    #[test]
    fn runs_of_ascending_uids_become_ranges() {
        assert_eq!(
            ranges_of([1, 2, 3, 7, 9, 10]),
            vec![r(1, 3), r(7, 7), r(9, 10)]
        );
        assert_eq!(ranges_of([Uid::MAX]), vec![r(Uid::MAX, Uid::MAX)]);
    }

    proptest! {
        #[test]
        fn membership_agrees_with_the_uids_it_was_made_of(uids in proptest::collection::vec(1u32..200, 0..60)) {
            let s = UidSet::from_uids(uids.iter().copied());
            for u in 0..210u32 {
                prop_assert_eq!(s.contains(u), uids.contains(&u));
            }
            for w in s.ranges().windows(2) {
                prop_assert!(w[0].last.saturating_add(1) < w[1].first);
            }
            let listed: Vec<Uid> = s.iter_upto(300).collect();
            let mut want = uids.clone();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(listed, want);
        }
    }
}
