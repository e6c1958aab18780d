//! gromox's account state columns: `address_status`, `domain_status` and
//! `privilege_bits`, and the protocols a login is made for.

use std::fmt;

/// `users.address_status`: the user's own state in the low nibble (mask
/// 0x0F) and its domain's state in bits 4–5 (mask 0x30), as gromox's admin
/// tooling writes them. Login is allowed only when the whole value is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AddressStatus(pub u8);

/// The user part of [`AddressStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserState {
    /// Logs in, appears in the address book, receives mail (0).
    Normal,
    /// Appears in the address book only (1).
    Suspended,
    /// Deleted; kept for reference (3).
    Deleted,
    /// A shared mailbox: receives mail, others open it, nobody logs in (4).
    SharedMailbox,
    /// A contact object without a mailbox (5).
    Contact,
    /// A value gromox does not define.
    Other(u8),
}

/// The domain part of [`AddressStatus`], and the value of `domains.domain_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainState {
    /// In service.
    Normal,
    /// Suspended: its users cannot log in or receive mail.
    Suspended,
    /// Deleted.
    Deleted,
    /// A value gromox does not define.
    Other(u8),
}

impl AddressStatus {
    /// Mask of the user part.
    pub const USER_MASK: u8 = 0x0F;
    /// Mask of the domain part.
    pub const DOMAIN_MASK: u8 = 0x30;
    /// A normal, active account.
    pub const NORMAL: AddressStatus = AddressStatus(0);
    /// A suspended user.
    pub const SUSPENDED: AddressStatus = AddressStatus(1);
    /// A deleted user.
    pub const DELETED: AddressStatus = AddressStatus(3);
    /// A shared mailbox.
    pub const SHARED_MAILBOX: AddressStatus = AddressStatus(4);
    /// A contact object.
    pub const CONTACT: AddressStatus = AddressStatus(5);

    /// The user part.
    pub fn user_state(self) -> UserState {
        match self.0 & Self::USER_MASK {
            0 => UserState::Normal,
            1 => UserState::Suspended,
            3 => UserState::Deleted,
            4 => UserState::SharedMailbox,
            5 => UserState::Contact,
            other => UserState::Other(other),
        }
    }

    /// The domain part.
    pub fn domain_state(self) -> DomainState {
        match self.0 & Self::DOMAIN_MASK {
            0 => DomainState::Normal,
            0x10 => DomainState::Suspended,
            0x30 => DomainState::Deleted,
            other => DomainState::Other(other >> 4),
        }
    }

    /// Whether the account may log in at all (gromox: exactly 0).
    pub fn allows_login(self) -> bool {
        self.0 == 0
    }

    /// Whether mail for the account is delivered: a normal user or a shared
    /// mailbox, in a domain in service.
    pub fn receives_mail(self) -> bool {
        matches!(
            self.user_state(),
            UserState::Normal | UserState::SharedMailbox
        ) && self.domain_state() == DomainState::Normal
    }

    /// This status with the user part replaced by `user` (its domain part kept).
    pub fn with_user_part(self, user: AddressStatus) -> AddressStatus {
        AddressStatus((self.0 & !Self::USER_MASK) | (user.0 & Self::USER_MASK))
    }

    /// This status with the domain part set from a domain's state.
    pub fn with_domain_state(self, domain: DomainState) -> AddressStatus {
        let bits = match domain {
            DomainState::Normal | DomainState::Other(_) => 0,
            DomainState::Suspended => 0x10,
            DomainState::Deleted => 0x30,
        };
        AddressStatus((self.0 & !Self::DOMAIN_MASK) | bits)
    }
}

impl DomainState {
    /// The state stored in `domains.domain_status` (0 normal, 1 suspended, 3 deleted).
    pub fn from_domain_status(value: u8) -> DomainState {
        match value {
            0 => DomainState::Normal,
            1 => DomainState::Suspended,
            3 => DomainState::Deleted,
            other => DomainState::Other(other),
        }
    }

    /// The value for `domains.domain_status`.
    pub fn domain_status(self) -> u8 {
        match self {
            DomainState::Normal => 0,
            DomainState::Suspended => 1,
            DomainState::Deleted => 3,
            DomainState::Other(value) => value,
        }
    }

    /// Whether the domain's users may log in and receive mail.
    pub fn in_service(self) -> bool {
        self == DomainState::Normal
    }
}

impl fmt::Display for UserState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserState::Normal => f.write_str("normal"),
            UserState::Suspended => f.write_str("suspended"),
            UserState::Deleted => f.write_str("deleted"),
            UserState::SharedMailbox => f.write_str("shared mailbox"),
            UserState::Contact => f.write_str("contact"),
            UserState::Other(value) => write!(f, "unknown ({value})"),
        }
    }
}

impl fmt::Display for DomainState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainState::Normal => f.write_str("normal"),
            DomainState::Suspended => f.write_str("suspended"),
            DomainState::Deleted => f.write_str("deleted"),
            DomainState::Other(value) => write!(f, "unknown ({value})"),
        }
    }
}

/// `users.privilege_bits`: what the account may use (gromox's bit values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PrivilegeBits(pub u32);

impl PrivilegeBits {
    /// IMAP and POP3.
    pub const IMAP_POP3: PrivilegeBits = PrivilegeBits(0x1);
    /// Sending through SMTP.
    pub const SMTP: PrivilegeBits = PrivilegeBits(0x2);
    /// Changing the own password.
    pub const CHANGE_PASSWORD: PrivilegeBits = PrivilegeBits(0x4);
    /// The public address book.
    pub const PUBLIC_ADDRESS_BOOK: PrivilegeBits = PrivilegeBits(0x8);
    /// Chat.
    pub const CHAT: PrivilegeBits = PrivilegeBits(0x10);
    /// Video.
    pub const VIDEO: PrivilegeBits = PrivilegeBits(0x20);
    /// Files.
    pub const FILES: PrivilegeBits = PrivilegeBits(0x40);
    /// Archive.
    pub const ARCHIVE: PrivilegeBits = PrivilegeBits(0x80);
    /// gromox's "detail1".
    pub const DETAIL1: PrivilegeBits = PrivilegeBits(0x100);
    /// Web (and MAPI/HTTP, EWS, zcore sessions).
    pub const WEB: PrivilegeBits = PrivilegeBits(0x200);
    /// Exchange ActiveSync.
    pub const EAS: PrivilegeBits = PrivilegeBits(0x400);
    /// CalDAV and CardDAV.
    pub const DAV: PrivilegeBits = PrivilegeBits(0x800);
    /// What `groxide-admin user create` grants: every mail protocol, the
    /// address book and password changes.
    pub const NEW_USER_DEFAULT: PrivilegeBits =
        PrivilegeBits(0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x400 | 0x800);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: PrivilegeBits) -> bool {
        self.0 & other.0 == other.0
    }
}

/// The protocol a login is made for; each needs its privilege bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// IMAP.
    Imap,
    /// POP3.
    Pop3,
    /// SMTP submission.
    Smtp,
    /// Web sessions, EWS, MAPI/HTTP.
    Web,
    /// Exchange ActiveSync.
    ActiveSync,
    /// CalDAV / CardDAV.
    Dav,
}

impl Protocol {
    /// The privilege bit a login for this protocol needs.
    pub fn privilege(self) -> PrivilegeBits {
        match self {
            Protocol::Imap | Protocol::Pop3 => PrivilegeBits::IMAP_POP3,
            Protocol::Smtp => PrivilegeBits::SMTP,
            Protocol::Web => PrivilegeBits::WEB,
            Protocol::ActiveSync => PrivilegeBits::EAS,
            Protocol::Dav => PrivilegeBits::DAV,
        }
    }

    /// Lower-case name, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
            Protocol::Web => "web",
            Protocol::ActiveSync => "eas",
            Protocol::Dav => "dav",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(status: u8, user: UserState, domain: DomainState, login: bool, receive: bool) {
        let s = AddressStatus(status);
        assert_eq!(s.user_state(), user, "{status:#x}");
        assert_eq!(s.domain_state(), domain, "{status:#x}");
        assert_eq!(s.allows_login(), login, "{status:#x} login");
        assert_eq!(s.receives_mail(), receive, "{status:#x} receive");
    }

    #[test]
    fn only_status_zero_logs_in_and_shared_mailboxes_still_receive() {
        use DomainState as D;
        use UserState as U;
        check(0, U::Normal, D::Normal, true, true);
        check(1, U::Suspended, D::Normal, false, false);
        check(3, U::Deleted, D::Normal, false, false);
        check(4, U::SharedMailbox, D::Normal, false, true);
        check(5, U::Contact, D::Normal, false, false);
        check(0x10, U::Normal, D::Suspended, false, false);
        check(0x30, U::Normal, D::Deleted, false, false);
        check(0x14, U::SharedMailbox, D::Suspended, false, false);
        check(7, U::Other(7), D::Normal, false, false);
    }

    #[test]
    fn user_and_domain_parts_are_set_independently() {
        let s = AddressStatus(4).with_domain_state(DomainState::Suspended);
        assert_eq!(s, AddressStatus(0x14));
        assert_eq!(
            s.with_user_part(AddressStatus::SUSPENDED),
            AddressStatus(0x11)
        );
        assert_eq!(
            s.with_domain_state(DomainState::Normal),
            AddressStatus::SHARED_MAILBOX
        );
    }

    #[test]
    fn each_protocol_needs_its_own_privilege_bit() {
        let table = [
            (Protocol::Imap, 0x1),
            (Protocol::Pop3, 0x1),
            (Protocol::Smtp, 0x2),
            (Protocol::Web, 0x200),
            (Protocol::ActiveSync, 0x400),
            (Protocol::Dav, 0x800),
        ];
        for (protocol, bit) in table {
            assert_eq!(protocol.privilege(), PrivilegeBits(bit), "{protocol}");
            assert!(PrivilegeBits::NEW_USER_DEFAULT.contains(protocol.privilege()));
            assert!(!PrivilegeBits(!bit).contains(protocol.privilege()));
        }
    }
}
