//! LIST (RFC 9051 §6.3.9 with LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819,
//! SPECIAL-USE RFC 6154) and STATUS items.

/// `LIST [(selection)] reference patterns [RETURN (options)]`. The basic
/// form has no selection or return options and one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCommand {
    /// Selection options.
    pub selection: Vec<ListSelectOption>,
    /// Reference name.
    pub reference: String,
    /// Mailbox patterns (at least one; several only in the extended form).
    pub patterns: Vec<String>,
    /// Return options.
    pub return_options: Vec<ListReturnOption>,
}

/// LIST selection option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListSelectOption {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `REMOTE`.
    Remote,
    /// `RECURSIVEMATCH` (needs another option besides REMOTE).
    RecursiveMatch,
    /// `SPECIAL-USE`.
    SpecialUse,
}

/// LIST return option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListReturnOption {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `CHILDREN`.
    Children,
    /// `SPECIAL-USE`.
    SpecialUse,
    /// `STATUS (items)` (LIST-STATUS).
    Status(Vec<StatusItem>),
}

/// A STATUS data item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    /// `MESSAGES`.
    Messages,
    /// `RECENT` (IMAP4rev1).
    Recent,
    /// `UIDNEXT`.
    UidNext,
    /// `UIDVALIDITY`.
    UidValidity,
    /// `UNSEEN`.
    Unseen,
    /// `DELETED` (RFC 9051).
    Deleted,
    /// `SIZE` (STATUS=SIZE, RFC 8438).
    Size,
    /// `HIGHESTMODSEQ` (CONDSTORE).
    HighestModSeq,
    /// `APPENDLIMIT` (RFC 7889).
    AppendLimit,
    /// `DELETED-STORAGE` (RFC 9208).
    DeletedStorage,
}

impl StatusItem {
    /// The item name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::Deleted => "DELETED",
            StatusItem::Size => "SIZE",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
            StatusItem::AppendLimit => "APPENDLIMIT",
            StatusItem::DeletedStorage => "DELETED-STORAGE",
        }
    }

    /// Every item, in wire-name order of definition.
    pub const ALL: [StatusItem; 10] = [
        StatusItem::Messages,
        StatusItem::Recent,
        StatusItem::UidNext,
        StatusItem::UidValidity,
        StatusItem::Unseen,
        StatusItem::Deleted,
        StatusItem::Size,
        StatusItem::HighestModSeq,
        StatusItem::AppendLimit,
        StatusItem::DeletedStorage,
    ];
}
