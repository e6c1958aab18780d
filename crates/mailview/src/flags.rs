//! IMAP system flags as bits, and flag changes.
//!
//! The bits are the store's flags column: groxide-store maps them to MAPI
//! properties, midb and the RPC contract pass them through unchanged.

/// The IMAP system flags a message keeps, plus `$Forwarded` (`\Recent` is
/// per session and never stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u32);

impl Flags {
    /// No flag.
    pub const NONE: Flags = Flags(0);
    /// `\Seen`.
    pub const SEEN: Flags = Flags(1);
    /// `\Answered`.
    pub const ANSWERED: Flags = Flags(2);
    /// `\Flagged`.
    pub const FLAGGED: Flags = Flags(4);
    /// `\Deleted`.
    pub const DELETED: Flags = Flags(8);
    /// `\Draft`.
    pub const DRAFT: Flags = Flags(16);
    /// The `$Forwarded` keyword, kept as a flag (it maps to a MAPI verb).
    pub const FORWARDED: Flags = Flags(32);
    /// Every flag above.
    pub const ALL: Flags = Flags(63);

    /// The flags of `bits`; unknown bits are dropped.
    pub const fn from_bits(bits: u32) -> Flags {
        Flags(bits & Flags::ALL.0)
    }

    /// The bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }

    /// Both sets.
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// This set without `other`.
    pub const fn without(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }

    /// This set with `flag` set (`on`) or cleared.
    pub const fn set(self, flag: Flags, on: bool) -> Flags {
        if on {
            self.union(flag)
        } else {
            self.without(flag)
        }
    }

    /// IMAP names of the set flags, in a fixed order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .filter(move |(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
    }

    /// The flag an IMAP name stands for (case-insensitive), if it is one of
    /// these; `$Forwarded` included.
    pub fn from_name(name: &str) -> Option<Flags> {
        NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(f, _)| *f)
    }
}

const NAMES: [(Flags, &str); 6] = [
    (Flags::SEEN, "\\Seen"),
    (Flags::ANSWERED, "\\Answered"),
    (Flags::FLAGGED, "\\Flagged"),
    (Flags::DELETED, "\\Deleted"),
    (Flags::DRAFT, "\\Draft"),
    (Flags::FORWARDED, "$Forwarded"),
];

/// How a flag change combines with the present flags. There is no default:
/// a request must say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagMode {
    /// Set exactly these flags and keywords (`FLAGS`).
    Replace,
    /// Add these (`+FLAGS`).
    Add,
    /// Remove these (`-FLAGS`).
    Remove,
}

/// A change of flags and keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagChange {
    /// Replace, add or remove.
    pub mode: FlagMode,
    /// System flags.
    pub flags: Flags,
    /// Keywords (IMAP user flags).
    pub keywords: Vec<String>,
    /// CONDSTORE UNCHANGEDSINCE: messages changed after this MODSEQ are left
    /// alone and reported (0 = unconditional).
    pub unchanged_since: u64,
}

impl FlagChange {
    /// The flags a message ends up with.
    pub fn apply(&self, present: Flags) -> Flags {
        match self.mode {
            FlagMode::Replace => self.flags,
            FlagMode::Add => present.union(self.flags),
            FlagMode::Remove => present.without(self.flags),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_bits_are_dropped() {
        let f = Flags::from_bits(0xff);
        assert_eq!(f, Flags::ALL);
        let names: Vec<&str> = f.names().collect();
        assert_eq!(
            names,
            [
                "\\Seen",
                "\\Answered",
                "\\Flagged",
                "\\Deleted",
                "\\Draft",
                "$Forwarded"
            ]
        );
        for n in names {
            assert!(f.contains(Flags::from_name(n).expect("known")));
        }
        assert_eq!(Flags::from_name("\\seen"), Some(Flags::SEEN));
        assert_eq!(Flags::from_name("\\Recent"), None);
    }

    #[test]
    fn changes_apply_by_mode() {
        let present = Flags::SEEN.union(Flags::FLAGGED);
        let change = |mode| FlagChange {
            mode,
            flags: Flags::FLAGGED.union(Flags::DELETED),
            keywords: Vec::new(),
            unchanged_since: 0,
        };
        assert_eq!(
            change(FlagMode::Replace).apply(present),
            Flags::FLAGGED.union(Flags::DELETED)
        );
        assert_eq!(
            change(FlagMode::Add).apply(present),
            Flags::SEEN.union(Flags::FLAGGED).union(Flags::DELETED)
        );
        assert_eq!(change(FlagMode::Remove).apply(present), Flags::SEEN);
    }
}
