//! Sequence sets: `1:*`, `5,7:9`, `$` (RFC 9051 §9 `sequence-set`, RFC 5182
//! `seq-last-command`) in commands, and compact number sets (`1:5,7`) in
//! responses.

use std::num::NonZeroU32;
use std::ops::RangeInclusive;

use crate::error::ParseError;
use crate::lexer::Cursor;
use crate::num::{write_u32, write_u64};

/// One end of a sequence range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqNumber {
    /// A message sequence number or UID.
    Value(NonZeroU32),
    /// `*`: the largest number in use (the last message, or the highest UID).
    Largest,
}

impl SeqNumber {
    /// The number, with `*` standing for `largest`.
    pub fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqNumber::Value(n) => n.get(),
            SeqNumber::Largest => largest,
        }
    }
}

/// `a`, `a:b` (in either order) as written by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqRange {
    /// First end as written.
    pub start: SeqNumber,
    /// Second end as written (equal to `start` for a single number).
    pub end: SeqNumber,
}

impl SeqRange {
    /// A single number.
    pub fn single(n: SeqNumber) -> Self {
        SeqRange { start: n, end: n }
    }

    /// The range as `low..=high`, with `*` standing for `largest`
    /// (`a:b` and `b:a` mean the same, RFC 9051 §9).
    pub fn resolve(&self, largest: u32) -> RangeInclusive<u32> {
        let a = self.start.resolve(largest);
        let b = self.end.resolve(largest);
        a.min(b)..=a.max(b)
    }
}

/// A sequence set from a command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    /// Explicit ranges, at least one.
    Ranges(Vec<SeqRange>),
    /// `$`: the result saved by an earlier `SEARCH RETURN (SAVE)` (RFC 5182).
    Saved,
}

impl SequenceSet {
    /// A set of one number.
    pub fn single(n: u32) -> Option<Self> {
        NonZeroU32::new(n).map(|n| SequenceSet::Ranges(vec![SeqRange::single(SeqNumber::Value(n))]))
    }

    /// `low:high`.
    pub fn range(low: u32, high: u32) -> Option<Self> {
        let start = SeqNumber::Value(NonZeroU32::new(low)?);
        let end = SeqNumber::Value(NonZeroU32::new(high)?);
        Some(SequenceSet::Ranges(vec![SeqRange { start, end }]))
    }

    /// `1:*`.
    pub fn all() -> Self {
        SequenceSet::Ranges(vec![SeqRange {
            start: SeqNumber::Value(NonZeroU32::MIN),
            end: SeqNumber::Largest,
        }])
    }

    /// The ranges (empty for `$`).
    pub fn ranges(&self) -> &[SeqRange] {
        match self {
            SequenceSet::Ranges(r) => r,
            SequenceSet::Saved => &[],
        }
    }

    /// True when `*` appears anywhere in the set.
    pub fn uses_largest(&self) -> bool {
        self.ranges()
            .iter()
            .any(|r| r.start == SeqNumber::Largest || r.end == SeqNumber::Largest)
    }

    /// True when `n` is in the set, with `*` standing for `largest`
    /// (always false for `$`, which the session resolves).
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        self.ranges()
            .iter()
            .any(|r| r.resolve(largest).contains(&n))
    }

    /// The set as sorted, merged `low..=high` ranges with `*` standing for
    /// `largest` (empty for `$`).
    pub fn resolve(&self, largest: u32) -> NumberSet {
        let mut ranges: Vec<RangeInclusive<u32>> =
            self.ranges().iter().map(|r| r.resolve(largest)).collect();
        ranges.sort_unstable_by_key(|r| *r.start());
        let mut set = NumberSet::default();
        for r in ranges {
            set.push_range(*r.start(), *r.end());
        }
        set
    }
}

/// Parses `sequence-set` (including `$`).
pub(crate) fn parse_sequence_set(c: &mut Cursor<'_>) -> Result<SequenceSet, ParseError> {
    if c.eat(b'$') {
        c.count_token()?;
        return match c.peek() {
            None | Some(b' ' | b')' | b'\r') => Ok(SequenceSet::Saved),
            _ => Err(ParseError::InvalidSequenceSet),
        };
    }
    let mut ranges = Vec::new();
    loop {
        let start = parse_seq_number(c)?;
        let end = if c.eat(b':') {
            parse_seq_number(c)?
        } else {
            start
        };
        c.count_token()?;
        ranges.push(SeqRange { start, end });
        if !c.eat(b',') {
            break;
        }
    }
    match c.peek() {
        None | Some(b' ' | b')' | b'\r') => Ok(SequenceSet::Ranges(ranges)),
        _ => Err(ParseError::InvalidSequenceSet),
    }
}

fn parse_seq_number(c: &mut Cursor<'_>) -> Result<SeqNumber, ParseError> {
    if c.eat(b'*') {
        return Ok(SeqNumber::Largest);
    }
    let digits = c.take_while(|b| b.is_ascii_digit());
    crate::lexer::parse_u64_digits(digits)
        .and_then(|n| u32::try_from(n).ok())
        .and_then(NonZeroU32::new)
        .map(SeqNumber::Value)
        .ok_or(ParseError::InvalidSequenceSet)
}

/// Writes a command sequence set (`$` or ranges joined by commas).
pub(crate) fn write_sequence_set(out: &mut Vec<u8>, set: &SequenceSet) {
    match set {
        SequenceSet::Saved => out.push(b'$'),
        SequenceSet::Ranges(ranges) => {
            for (i, r) in ranges.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_seq_number(out, r.start);
                if r.end != r.start {
                    out.push(b':');
                    write_seq_number(out, r.end);
                }
            }
        }
    }
}

fn write_seq_number(out: &mut Vec<u8>, n: SeqNumber) {
    match n {
        SeqNumber::Value(v) => write_u32(out, v.get()),
        SeqNumber::Largest => out.push(b'*'),
    }
}

/// A set of concrete numbers (sequence numbers or UIDs) for responses,
/// kept as ranges in the order they were added so it is written compactly
/// (`1:5,7`). Order matters for COPYUID, where the n-th source UID maps to
/// the n-th destination UID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NumberSet {
    ranges: Vec<(u32, u32)>,
}

impl NumberSet {
    /// An empty set.
    pub fn new() -> Self {
        NumberSet::default()
    }

    /// The numbers in the order given, consecutive runs merged.
    pub fn from_ordered(numbers: impl IntoIterator<Item = u32>) -> Self {
        let mut set = NumberSet::default();
        for n in numbers {
            set.push(n);
        }
        set
    }

    /// The numbers sorted and deduplicated, consecutive runs merged.
    pub fn from_unordered(numbers: impl IntoIterator<Item = u32>) -> Self {
        let mut v: Vec<u32> = numbers.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        NumberSet::from_ordered(v)
    }

    /// Appends `n`, extending the last range when `n` follows it.
    pub fn push(&mut self, n: u32) {
        self.push_range(n, n);
    }

    /// Appends `low..=high`, merging with the last range when they touch
    /// or overlap.
    pub fn push_range(&mut self, low: u32, high: u32) {
        let (low, high) = (low.min(high), low.max(high));
        if let Some(last) = self.ranges.last_mut()
            && low >= last.0
            && low <= last.1.saturating_add(1)
        {
            last.1 = last.1.max(high);
            return;
        }
        self.ranges.push((low, high));
    }

    /// True when the set holds no number.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges as `(low, high)` pairs.
    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }

    /// How many numbers the set holds.
    pub fn count(&self) -> u64 {
        self.ranges.iter().map(|&(a, b)| u64::from(b - a) + 1).sum()
    }

    /// True when `n` is in the set.
    pub fn contains(&self, n: u32) -> bool {
        self.ranges.iter().any(|&(a, b)| (a..=b).contains(&n))
    }

    /// Every number, range by range.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.ranges.iter().flat_map(|&(a, b)| a..=b)
    }
}

/// Writes `1:5,7` (nothing for an empty set).
pub(crate) fn write_number_set(out: &mut Vec<u8>, set: &NumberSet) {
    for (i, &(a, b)) in set.ranges.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_u32(out, a);
        if b != a {
            out.push(b':');
            write_u32(out, b);
        }
    }
}

/// Writes numbers separated by SP, each preceded by SP (SEARCH, SORT).
pub(crate) fn write_spaced_numbers(out: &mut Vec<u8>, numbers: &[u32]) {
    for &n in numbers {
        out.push(b' ');
        write_u32(out, n);
    }
}

/// Writes `(MODSEQ n)` preceded by SP (SEARCH and SORT results, RFC 7162).
pub(crate) fn write_modseq_suffix(out: &mut Vec<u8>, modseq: Option<u64>) {
    if let Some(m) = modseq {
        out.extend_from_slice(b" (MODSEQ ");
        write_u64(out, m);
        out.push(b')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::DEFAULT_LIMITS;

    fn parse(input: &str) -> Result<SequenceSet, ParseError> {
        let mut c = Cursor::new(input.as_bytes(), &[], &DEFAULT_LIMITS);
        parse_sequence_set(&mut c)
    }

    fn written(set: &SequenceSet) -> String {
        let mut out = Vec::new();
        write_sequence_set(&mut out, set);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sequence_sets_parse_and_write_back_unchanged() {
        for text in ["1", "*", "1:*", "5,7:9", "9:7", "$", "1,2,3", "4294967295"] {
            let set = parse(text).unwrap();
            assert_eq!(written(&set), text);
        }
    }

    #[test]
    fn malformed_sequence_sets_are_rejected() {
        for text in [
            "0",
            "1:",
            ":1",
            "1,,2",
            "a",
            "",
            "4294967296",
            "1:0",
            "$,1",
            "1;2",
            "1.5",
        ] {
            assert_eq!(parse(text), Err(ParseError::InvalidSequenceSet), "{text}");
        }
    }

    #[test]
    fn resolving_treats_star_as_largest_and_reversed_ranges_alike() {
        let set = parse("9:7,*,1:2").unwrap();
        assert_eq!(set.resolve(20).ranges(), &[(1, 2), (7, 9), (20, 20)]);
        assert!(set.contains(8, 20));
        assert!(!set.contains(10, 20));
    }

    #[test]
    fn number_sets_are_written_compactly() {
        let check = |numbers: &[u32], expected: &str| {
            let mut out = Vec::new();
            write_number_set(&mut out, &NumberSet::from_ordered(numbers.iter().copied()));
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        };
        check(&[1, 2, 3, 4, 5, 7], "1:5,7");
        check(&[3], "3");
        check(&[], "");
        check(&[5, 4, 3], "5,4,3");
        check(&[10, 11, 20, 21, 22], "10:11,20:22");
    }

    #[test]
    fn unordered_number_sets_are_sorted_and_deduplicated() {
        let set = NumberSet::from_unordered([9, 1, 2, 2, 3, 8]);
        assert_eq!(set.ranges(), &[(1, 3), (8, 9)]);
        assert_eq!(set.count(), 5);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![1, 2, 3, 8, 9]);
    }
}
