//! The directory's records, as groxide uses them (a subset of grommunio's columns).

use crate::status::{AddressStatus, DomainState, PrivilegeBits};
use std::fmt;

/// `servers.id`; 0 in a `homeserver` column means "no particular server".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ServerId(pub u32);

impl ServerId {
    /// "No particular server": the store lives where the list files or the local node say.
    pub const ANY: ServerId = ServerId(0);

    /// Whether this names a server (≠ 0).
    pub fn is_set(self) -> bool {
        self.0 != 0
    }
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `users.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub u64);

/// `domains.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainId(pub u64);

/// A row of `users` (without the password hash, which only authentication reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `users.id`.
    pub id: UserId,
    /// The primary e-mail address and login name.
    pub username: String,
    /// The user's domain.
    pub domain_id: DomainId,
    /// The private store's directory (the `dir` of every RPC).
    pub maildir: String,
    /// The server holding the store; [`ServerId::ANY`] = none in particular.
    pub homeserver: ServerId,
    /// State of the account and (in bits 4–5) of its domain.
    pub address_status: AddressStatus,
    /// What the account may use.
    pub privilege_bits: PrivilegeBits,
    /// Language, e.g. `en_US`; empty = the default.
    pub lang: String,
    /// Time zone, e.g. `Europe/Vienna`; empty = the default.
    pub timezone: String,
}

/// A row of `domains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// `domains.id`.
    pub id: DomainId,
    /// The domain name (lower case).
    pub domainname: String,
    /// The public store's directory.
    pub homedir: String,
    /// The server holding the public store; [`ServerId::ANY`] = none in particular.
    pub homeserver: ServerId,
    /// Whether the domain is in service (`domains.domain_status`).
    pub status: DomainState,
    /// Most users the domain may have; 0 = no limit.
    pub max_user: u32,
    /// Free-text title.
    pub title: String,
}

/// A row of `servers`: one node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `servers.id`, what `homeserver` columns hold.
    pub id: ServerId,
    /// Internal name or address: compared with `host_id`, used to reach the node's RPC services.
    pub hostname: String,
    /// External name clients are sent to (Autodiscover); empty = none.
    pub extname: String,
}

/// A row of `aliases`: another address that delivers to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The alias address; `@domain` is that domain's catch-all.
    pub aliasname: String,
    /// The user it stands for (`users.username`).
    pub mainname: String,
}

/// A row of `altnames`: another name a user may log in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Altname {
    /// The user.
    pub user_id: UserId,
    /// The alternative login name.
    pub altname: String,
    /// gromox's `magic` column (kept as read).
    pub magic: u32,
}

/// Who owns a store directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOwner {
    /// A user's private store (`users.maildir`).
    User(User),
    /// A domain's public store (`domains.homedir`).
    Domain(Domain),
}

impl StoreOwner {
    /// The owner's homeserver.
    pub fn homeserver(&self) -> ServerId {
        match self {
            StoreOwner::User(user) => user.homeserver,
            StoreOwner::Domain(domain) => domain.homeserver,
        }
    }
}
