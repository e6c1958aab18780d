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
//! ([`ConfigWarning`]). After a successful load the typed getters of
//! [`Config`] cannot fail.
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
mod log_level;
mod origin;
mod render;
pub mod schema;
mod size;
mod spec;
mod suggest;
mod value;

pub use bind::{BindAddr, MAX_UNIX_SOCKET_PATH, parse_bind_list};
pub use config::{Config, ENV_PREFIX, LoadResult};
pub use duration::parse_duration;
pub use error::{ConfigError, ConfigErrors, ConfigWarning};
pub use file::{MAX_FILE_SIZE, MAX_LINE_LEN};
pub use hosts_allow::HostsAllow;
pub use invalid::InvalidValue;
pub use log_level::{LogLevel, parse_log_level};
pub use origin::Origin;
pub use render::render_default_file;
pub use size::parse_size;
pub use spec::{KeySpec, Schema, ValueKind};
pub use value::{
    parse_bool, parse_choice, parse_int, parse_ip_list, parse_optional_ip, parse_port,
};
