//! Reads groxide's gromox-style config files.
//!
//! A daemon reads two files from its config directory (`/etc/groxide` by
//! default): `groxide.cfg` with the keys every daemon shares
//! ([`schema::SHARED`]) and its own file, e.g. `imap.cfg`
//! ([`schema::IMAP`]). Layers, lowest first: built-in defaults,
//! groxide.cfg, the daemon's file, `GROXIDE_<KEY>` environment variables.
//!
//! The file syntax and value syntax are gromox's (`key = value`, sizes like
//! `64M`, durations like `3min`), so an administrator who knows gromox
//! recognises them. Every value of every known key is checked at load and
//! all problems come back together, each naming file, line and key
//! ([`ConfigError`]); unknown keys are warnings with a "did you mean"
//! ([`ConfigWarning`]).
//!
//! Keys are typed constants, declared once in [`schema`] together with
//! their catalogue entry, and read with [`Config::get`]:
//!
//! ```
//! use groxide_config::{Config, Midb, keys::{midb, shared}};
//! # let dir = std::path::Path::new("/nonexistent");
//! let (config, _warnings) = Config::<Midb>::from_str_for_tests(dir, "", "midb_table_size = 80").unwrap();
//! let stores: usize = config.get(midb::MIDB_TABLE_SIZE);
//! let timeout: std::time::Duration = config.get(shared::RPC_TIMEOUT);
//! assert_eq!((stores, timeout.as_secs()), (80, 60));
//! ```
//!
//! - A misspelt key does not compile: there is no constant of that name.
//! - Defaults live only in the schema: a loaded config holds a checked value
//!   for every key, so `get` cannot fail and takes no fallback.
//! - A key's file is part of its type ([`Key<T, F>`]) and a config's file is
//!   part of its type ([`Config<F>`]): a `Config<F>` reads the keys of `F`
//!   and of groxide.cfg ([`Shared`]), and reading another daemon's key does
//!   not compile. Reading another file is an explicit load of that file,
//!   `Config::<Exmdb>::load(config.dir())`, which is what the runtime does
//!   for the RPC daemons' listen addresses and routing lists.
//! - The Rust type of a key is checked against its kind when the constant is
//!   compiled: an integer key's `min..=max` must fit its type.
//!
//! String reads are internal: [`Config::entries`] (each key's text and
//! origin), [`check_file`] (validate a file chosen at run time) and
//! [`render_default_file`] (etc/) work on the untyped catalogue.
//!
//! Architecture invariant: this crate knows the key catalogue and the syntax,
//! nothing about what daemons do with the values; it does no I/O beyond
//! reading the two files.

mod bind;
mod config;
mod decimal;
mod duration;
mod error;
mod file;
pub mod hosts_allow;
mod invalid;
mod key;
mod log_level;
mod origin;
mod render;
pub mod schema;
mod size;
mod spec;
mod suggest;
mod value;

pub use bind::{BindAddr, MAX_UNIX_SOCKET_PATH, parse_bind_list};
pub use config::{Config, ENV_PREFIX, LoadResult, check_file};
pub use duration::parse_duration;
pub use error::{ConfigError, ConfigErrors, ConfigWarning};
pub use file::{MAX_FILE_SIZE, MAX_LINE_LEN};
pub use hosts_allow::{HostsAllow, NetList};
pub use invalid::InvalidValue;
pub use key::{Choice, ConfigFile, DaemonFile, Key, KeyType, ReadableIn, Text};
pub use log_level::{LogLevel, parse_log_level};
pub use origin::Origin;
pub use render::render_default_file;
pub use schema::{
    Delivery, Event, Exmdb, Http, Imap, Midb, MysqlAdaptor, Pop3, Shared, Timer, Zcore,
};
pub use size::parse_size;
pub use spec::{KeySpec, Schema, ValueKind};
pub use value::{
    parse_bool, parse_choice, parse_int, parse_ip_list, parse_optional_ip, parse_port,
};

/// Every key as a typed constant, one module per config file. A constant is
/// the key's name in upper case: `keys::midb::MIDB_TABLE_SIZE` is
/// `midb_table_size` of midb.cfg.
pub mod keys {
    pub use crate::schema::{
        delivery, event, exmdb, http, imap, midb, mysql_adaptor, pop3, shared, timer, zcore,
    };
}

#[cfg(test)]
mod tests;
