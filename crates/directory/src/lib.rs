//! The user directory: who the users are, how they log in, where their
//! stores live.
//!
//! The directory is one database shared by every node: SQLite for a single
//! node, MariaDB/MySQL for a cluster (`directory_url`, or gromox's
//! `mysql_*` keys; see [`DirectorySettings`]). Its tables keep grommunio's
//! names and columns for the part groxide uses — `users`, `domains`,
//! `servers`, `aliases`, `altnames` — so groxide can be pointed at an
//! existing grommunio database: such tables are read as they are, never
//! created, altered or dropped ([`SchemaOrigin::Existing`]).
//!
//! What it offers:
//! - lookups: a user by login name (username, altname or alias; a name that
//!   leads to two users is refused), the owner of a store directory, a
//!   domain, a server, the recipient of a delivery address
//!   ([`Directory::resolve_recipient`]: user, alias, `user+tag@`, catch-all
//!   `@domain` alias);
//! - [`groxide_routing::HomeserverLookup`] for routing: the hostname of the
//!   homeserver of a store's owner;
//! - authentication ([`Authenticator`]): throttling per client address and
//!   per account, the password schemes of gromox and grommunio
//!   ([`verify_password`]), account state and the protocol's privilege bit;
//! - the changes groxide-admin makes, failover and rebalancing.
//!
//! Invariants: every query is parameterised (names are data, never SQL);
//! passwords and password hashes are never logged and no type holding one
//! implements `Debug`; lookups are cached for `directory_cache_time` and
//! [`Directory::clear_cache`] (SIGHUP) forgets them at once, but logins
//! always read the database. This crate reads no config file itself: it is
//! given a loaded config or typed settings.

mod admin;
mod auth;
mod clock;
mod db;
mod directory;
mod error;
mod lazy;
mod md5crypt;
mod model;
pub mod names;
mod password;
mod rebalance;
mod recipient;
mod rows;
mod schema;
mod settings;
mod status;
mod throttle;

pub use admin::{FailoverCount, NewDomain, NewUser};
pub use auth::{AuthError, AuthLimits, Authenticator};
/// Most answers one directory cache holds; when full, expired ones go, and
/// if none had expired the cache is emptied (it refills from the database).
pub const MAX_CACHED_ANSWERS: usize = 50_000;
pub use clock::{Clock, ManualClock, SystemClock};
pub use db::POOL_IDLE_TIMEOUT;
pub use directory::Directory;
pub use error::DirectoryError;
pub use lazy::LazyDirectory;
pub use model::{Alias, Altname, Domain, DomainId, Server, ServerId, StoreOwner, User, UserId};
pub use password::{HashError, HashScheme, MAX_PASSWORD_LEN, hash_password, verify_password};
pub use rebalance::{Move, Placement, plan_rebalance};
pub use recipient::{Recipient, RecipientMatch, RecipientPolicy};
pub use schema::{MIGRATIONS_TABLE, REQUIRED_COLUMNS, SchemaOrigin};
pub use settings::{
    DEFAULT_MYSQL_PORT, DEFAULT_SQLITE_FILE, DirectorySettings, DirectoryUrl, MAX_URL_LEN,
    MysqlTarget, SettingsError,
};
pub use status::{AddressStatus, DomainState, PrivilegeBits, Protocol, UserState};
pub use throttle::{
    Attempt, Blocked, LoginThrottle, MAX_THROTTLE_ENTRIES, Refused, ThrottlePolicy,
};
