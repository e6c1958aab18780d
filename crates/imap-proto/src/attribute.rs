//! Mailbox attributes of LIST responses and CREATE … USE (RFC 9051 §7.3.1,
//! RFC 6154 SPECIAL-USE, RFC 5258 LIST-EXTENDED, RFC 3348 CHILDREN).

/// A mailbox attribute (`\Noselect`, `\Sent`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MailboxAttribute {
    /// `\Noinferiors`.
    NoInferiors,
    /// `\Noselect`.
    NoSelect,
    /// `\Marked`.
    Marked,
    /// `\Unmarked`.
    Unmarked,
    /// `\NonExistent` (LIST-EXTENDED).
    NonExistent,
    /// `\Subscribed` (LIST-EXTENDED).
    Subscribed,
    /// `\Remote` (LIST-EXTENDED).
    Remote,
    /// `\HasChildren` (CHILDREN).
    HasChildren,
    /// `\HasNoChildren` (CHILDREN).
    HasNoChildren,
    /// `\All` (SPECIAL-USE).
    All,
    /// `\Archive`.
    Archive,
    /// `\Drafts`.
    Drafts,
    /// `\Flagged`.
    Flagged,
    /// `\Junk`.
    Junk,
    /// `\Sent`.
    Sent,
    /// `\Trash`.
    Trash,
    /// `\Important` (RFC 8457).
    Important,
    /// Any other `\name`, without the backslash.
    Extension(String),
}

const NAMED: [(&str, MailboxAttribute); 17] = [
    ("Noinferiors", MailboxAttribute::NoInferiors),
    ("Noselect", MailboxAttribute::NoSelect),
    ("Marked", MailboxAttribute::Marked),
    ("Unmarked", MailboxAttribute::Unmarked),
    ("NonExistent", MailboxAttribute::NonExistent),
    ("Subscribed", MailboxAttribute::Subscribed),
    ("Remote", MailboxAttribute::Remote),
    ("HasChildren", MailboxAttribute::HasChildren),
    ("HasNoChildren", MailboxAttribute::HasNoChildren),
    ("All", MailboxAttribute::All),
    ("Archive", MailboxAttribute::Archive),
    ("Drafts", MailboxAttribute::Drafts),
    ("Flagged", MailboxAttribute::Flagged),
    ("Junk", MailboxAttribute::Junk),
    ("Sent", MailboxAttribute::Sent),
    ("Trash", MailboxAttribute::Trash),
    ("Important", MailboxAttribute::Important),
];

impl MailboxAttribute {
    /// The attribute named `name` (without backslash, case-insensitive).
    pub fn from_name(name: &str) -> MailboxAttribute {
        NAMED
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or_else(
                || MailboxAttribute::Extension(name.to_owned()),
                |(_, a)| a.clone(),
            )
    }

    /// The name without the backslash.
    pub fn name(&self) -> &str {
        match self {
            MailboxAttribute::Extension(name) => name,
            known => NAMED
                .iter()
                .find(|(_, a)| a == known)
                .map_or("", |(n, _)| n),
        }
    }

    /// True for the SPECIAL-USE attributes (`\All` … `\Trash`, `\Important`).
    pub fn is_special_use(&self) -> bool {
        matches!(
            self,
            MailboxAttribute::All
                | MailboxAttribute::Archive
                | MailboxAttribute::Drafts
                | MailboxAttribute::Flagged
                | MailboxAttribute::Junk
                | MailboxAttribute::Sent
                | MailboxAttribute::Trash
                | MailboxAttribute::Important
        )
    }

    /// Appends `\Name`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(b'\\');
        out.extend_from_slice(self.name().as_bytes());
    }
}
