//! The key catalogue: every key of every groxide config file, with its kind,
//! default and one line of documentation, and a typed constant for each.
//!
//! Key names are gromox's where gromox has the key, so an administrator who
//! knows gromox recognises them. etc/ in the repository holds these schemas
//! rendered by [`crate::render_default_file`].
//!
//! Each file is one `config_file!` block. It declares the file's type (e.g.
//! [`Midb`]), its catalogue (the static [`MIDB`], a [`Schema`]) and a module
//! of typed constants ([`midb`], re-exported as `groxide_config::keys::midb`),
//! one per key, named as the key in upper case:
//!
//! ```text
//! MIDB_TABLE_SIZE: usize = key(
//!     "midb_table_size",          // the name in the file
//!     int(1, 1_000_000),          // how its text is checked
//!     "5000",                     // the default: here and nowhere else
//!     "Most stores open at once.", // the doc line of etc/midb.cfg
//! );
//! ```
//!
//! The Rust type (here `usize`) is what `Config::get` returns; it is checked
//! against the kind when the constant is compiled (see [`crate::Key`]).
//!
//! | kind | Rust type | `get` returns |
//! | --- | --- | --- |
//! | `ValueKind::String` | [`Text`] | `&str` |
//! | `ValueKind::Choice(&[..])` | [`Choice`] | `&'static str`, as listed |
//! | `ValueKind::Path` | `PathBuf` | joined to the config dir; empty = unset |
//! | `ValueKind::Bool` | `bool` | |
//! | `ValueKind::Size` | `u64` | bytes |
//! | `ValueKind::Duration` | `Duration` | |
//! | `int(min, max)` | `u16` `u32` `u64` `usize` `i32` `i64` | whichever holds `min..=max` |
//! | `ValueKind::Port` | `u16` | |
//! | `ValueKind::IpAddr` | `Option<IpAddr>` | `None` when empty |
//! | `ValueKind::IpList` | `Vec<IpAddr>` | |
//! | `ValueKind::HostsAllow` | `HostsAllow` | |
//! | `ValueKind::NetList` | `NetList` | empty = none |
//! | `ValueKind::LogLevel` | `LogLevel` | |
//! | `ValueKind::BindList` | `Vec<BindAddr>` | empty = do not listen |
//!
//! **A new key:** add it to its file's block (above, in the order etc/ should
//! list it), run `cargo xtask gen-etc`, read it with
//! `config.get(keys::<file>::<KEY>)` from a `Config<ThatFile>`.
//! **A new file:** a new block, its static in `ALL` below, its type and
//! module re-exported in lib.rs (`pub use schema::{..}`, `keys`), and a line
//! in tests/it/main.rs `every_file` (a test compares it with `ALL`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::bind::BindAddr;
use crate::hosts_allow::{HostsAllow, NetList};
use crate::key::{Choice, Text};
use crate::log_level::LogLevel;
use crate::spec::{KeySpec, Schema, ValueKind};

pub(crate) const fn key(
    name: &'static str,
    kind: ValueKind,
    default: &'static str,
    doc: &'static str,
) -> KeySpec {
    KeySpec {
        name,
        kind,
        default,
        doc,
    }
}

pub(crate) const fn int(min: i64, max: i64) -> ValueKind {
    ValueKind::Int { min, max }
}

/// Declares one config file: its type, its catalogue and its typed keys.
///
/// `shared` is groxide.cfg (its keys are readable from every config);
/// `daemon` is a daemon's own file. See the module docs for a key's form.
macro_rules! config_file {
    (
        $(#[$doc:meta])*
        $role:ident $File:ident, mod $module:ident, static $SCHEMA:ident = ($file:literal, $about:literal);
        $(
            $KEY:ident: $Type:ty = key($name:literal, $kind:expr, $default:literal, $line:literal $(,)?);
        )*
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $File;

        impl $crate::key::Sealed for $File {}

        impl $crate::key::ConfigFile for $File {
            const SCHEMA: &'static $crate::Schema = &$SCHEMA;
            const IS_SHARED: bool = config_file!(@is_shared $role);
        }

        config_file!(@role $role $File);

        $(#[$doc])*
        pub static $SCHEMA: $crate::Schema = $crate::Schema {
            file: $file,
            about: $about,
            keys: $module::KEYS,
        };

        $(#[$doc])*
        ///
        /// One typed constant per key; read them with `Config::get`.
        pub mod $module {
            #[allow(unused_imports)]
            use super::*;

            pub(crate) const KEYS: &[$crate::KeySpec] =
                &[$($crate::schema::key($name, $kind, $default, $line)),*];

            $(
                #[doc = concat!("`", $name, " = ", $default, "`: ", $line)]
                pub const $KEY: $crate::Key<$Type, $File> =
                    $crate::Key::new(KEYS, $name, stringify!($KEY));
            )*
        }
    };
    (@is_shared shared) => { true };
    (@is_shared daemon) => { false };
    (@role shared $File:ident) => {};
    (@role daemon $File:ident) => {
        impl $crate::DaemonFile for $File {}
    };
}
#[cfg(test)]
pub(crate) use config_file;

config_file! {
    /// groxide.cfg: keys every daemon reads.
    shared Shared, mod shared, static SHARED = ("groxide.cfg", "every groxide daemon and groxide-admin");

    HOST_ID: Text = key(
        "host_id",
        ValueKind::String,
        "",
        "This node's name, as in the directory's servers.hostname; empty = the system hostname.",
    );

    RPC_SOURCE_IP: Option<IpAddr> = key(
        "rpc_source_ip",
        ValueKind::IpAddr,
        "",
        "Address outgoing RPC connections are bound to; empty = the first concrete address among listen_ip, midb_listen_ip, event_listen_ip, timer_listen_ip of this config dir.",
    );

    DATA_PATH: PathBuf = key(
        "data_path",
        ValueKind::Path,
        "/var/lib/groxide",
        "Directory for groxide's data (mailboxes live below it).",
    );

    DIRECTORY_URL: Text = key(
        "directory_url",
        ValueKind::String,
        "",
        "The user directory: sqlite:///path or mysql://user:password@host:port/database[?ssl-mode=verify-ca&ssl-ca=/path&ssl-cert=/path&ssl-key=/path] (parameters override the mysql_tls* keys); empty = the mysql_* keys of mysql_adaptor.cfg when one is set, else sqlite://<data_path>/directory.sqlite3.",
    );

    DIRECTORY_CACHE_TIME: Duration = key(
        "directory_cache_time",
        ValueKind::Duration,
        "60s",
        "How long user, alias, domain and homeserver answers of the directory are cached (SIGHUP clears the cache; logins always read the directory).",
    );

    DIRECTORY_CONNECT_TIMEOUT: Duration = key(
        "directory_connect_timeout",
        ValueKind::Duration,
        "20s",
        "Time allowed to open (or wait for) a connection to the directory database.",
    );

    ACCOUNT_AUTH_TIMES: u32 = key(
        "account_auth_times",
        int(0, 100_000),
        "10",
        "Failed logins to one account within block_interval_auths before it is blocked for that long, per daemon; 0 = no per-account limit.",
    );

    AUTH_MAX_CONCURRENT_CHECKS: usize = key(
        "auth_max_concurrent_checks",
        int(0, 4096),
        "0",
        "Password checks one daemon runs at once, shared by all its protocols (each argon2id check holds ~19 MiB); 0 = two per CPU. More logins wait for a turn.",
    );

    AUTH_CHECK_WAIT: Duration = key(
        "auth_check_wait",
        ValueKind::Duration,
        "5s",
        "How long a login waits for a password-check turn before it gets a temporary error (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP], HTTP 503).",
    );

    AUTH_REHASH_LEGACY: bool = key(
        "auth_rehash_legacy",
        ValueKind::Bool,
        "yes",
        "After a successful login, store a password hashed with a legacy scheme ($6$, $5$, bcrypt, $1$) again as argon2id; turn off while gromox or other tools that cannot verify argon2id share the directory.",
    );

    LOG_LEVEL: LogLevel = key(
        "log_level",
        ValueKind::LogLevel,
        "info",
        "How much to log: error, warn, info, debug, trace (gromox's 1..6 also work).",
    );

    LOG_FORMAT: Choice = key(
        "log_format",
        ValueKind::Choice(&["text", "json"]),
        "text",
        "Log line format: text for people, json for log collectors.",
    );

    TLS_CERTIFICATE_PATH: PathBuf = key(
        "tls_certificate_path",
        ValueKind::Path,
        "",
        "PEM certificate chain this node presents on RPC connections (with rpc_tls); empty = none.",
    );

    TLS_PRIVATE_KEY_PATH: PathBuf = key(
        "tls_private_key_path",
        ValueKind::Path,
        "",
        "PEM private key for tls_certificate_path; empty = none.",
    );

    TLS_CA_PATH: PathBuf = key(
        "tls_ca_path",
        ValueKind::Path,
        "",
        "PEM CA certificates used to verify other nodes on RPC connections; empty = none.",
    );

    RPC_TLS: bool = key(
        "rpc_tls",
        ValueKind::Bool,
        "no",
        "Use TLS for RPC between daemons and nodes (needs the tls_* files).",
    );

    OUTGOING_SMTP_URL: Text = key(
        "outgoing_smtp_url",
        ValueKind::String,
        "smtp://localhost:25",
        "Where outgoing mail is handed over: smtp://host:port (plain), smtp+tls://host:port (STARTTLS required), smtps://host:port (implicit TLS), smtp+unverifiedtls://host:port (STARTTLS, certificate not checked); the port defaults to 25 (465 for smtps).",
    );

    LOCAL_MAILBOX_VIEW: bool = key(
        "local_mailbox_view",
        ValueKind::Bool,
        "yes",
        "groxide-imap and groxide-pop3 read the stores homed on this node in-process (their SQLite files and content files, beside groxide-exmdb, which stays their only writer); no = through this node's groxide-midb like stores of other nodes.",
    );

    ROUTING_CACHE_TIME: Duration = key(
        "routing_cache_time",
        ValueKind::Duration,
        "60s",
        "How long a mailbox-to-node routing answer is cached (SIGHUP clears the cache).",
    );

    RPC_CONNECT_TIMEOUT: Duration = key(
        "rpc_connect_timeout",
        ValueKind::Duration,
        "5s",
        "Time allowed to open an RPC connection to another daemon or node.",
    );

    RPC_TIMEOUT: Duration = key(
        "rpc_timeout",
        ValueKind::Duration,
        "60s",
        "Time allowed for one RPC call to complete.",
    );

    RPC_PROXY_CONNECTION_NUM: usize = key(
        "rpc_proxy_connection_num",
        int(1, 10_000),
        "10",
        "Connections kept open to each remote RPC server.",
    );

    SHUTDOWN_TIMEOUT: Duration = key(
        "shutdown_timeout",
        ValueKind::Duration,
        "15s",
        "On SIGTERM, time allowed to finish in-flight work before it is cancelled.",
    );

    EVENT_HOST: Text = key(
        "event_host",
        ValueKind::String,
        "",
        "Host of the event service; empty = the node that holds the mailbox (routed like exmdb).",
    );
}

config_file! {
    /// exmdb_provider.cfg: groxide-exmdb, the mailbox store.
    daemon Exmdb, mod exmdb, static EXMDB = ("exmdb_provider.cfg", "groxide-exmdb (the mailbox store)");

    LISTEN_IP: Option<IpAddr> = key(
        "listen_ip",
        ValueKind::IpAddr,
        "::1",
        "Address the exmdb RPC service listens on.",
    );

    EXMDB_LISTEN_PORT: u16 = key(
        "exmdb_listen_port",
        ValueKind::Port,
        "5000",
        "TCP port of the exmdb RPC service.",
    );

    EXMDB_HOSTS_ALLOW: HostsAllow = key(
        "exmdb_hosts_allow",
        ValueKind::HostsAllow,
        "",
        "Peers allowed to connect to this service.",
    );

    TABLE_SIZE: usize = key(
        "table_size",
        int(100, 1_000_000),
        "5000",
        "Most stores open at once.",
    );

    CACHE_INTERVAL: Duration = key(
        "cache_interval",
        ValueKind::Duration,
        "1min",
        "Idle time after which an open store is closed.",
    );

    SQLITE_BUSY_TIMEOUT: Duration = key(
        "sqlite_busy_timeout",
        ValueKind::Duration,
        "60s",
        "How long a store waits for a busy SQLite database before failing.",
    );

    MAX_STORE_MESSAGE_COUNT: u64 = key(
        "max_store_message_count",
        int(0, i64::MAX),
        "0",
        "Most messages one store may hold; 0 = unlimited.",
    );

    MAIL_MAX_LENGTH: u64 = key(
        "mail_max_length",
        ValueKind::Size,
        "64M",
        "Largest message accepted, in bytes (suffixes K M G).",
    );

    EXMDB_LIST_FILE: PathBuf = key(
        "exmdb_list_file",
        ValueKind::Path,
        "exmdb_list.txt",
        "Store routing list (prefix type host port), relative to the config dir; missing = empty.",
    );

    SYNC_TOMBSTONE_MAX_AGE: Duration = key(
        "sync_tombstone_max_age",
        ValueKind::Duration,
        "90d",
        "Age after which removals in calendar, contact, task and note folders are forgotten; older sync tokens then get SYNC_TOKEN_TOO_OLD.",
    );

    MAIL_TOMBSTONE_MAX_AGE: Duration = key(
        "mail_tombstone_max_age",
        ValueKind::Duration,
        "90d",
        "Age after which removals in mail folders are forgotten; an IMAP client resyncing (QRESYNC, CHANGEDSINCE … VANISHED) from before then is told every UID that is not a live message as VANISHED (EARLIER), other sync tokens get SYNC_TOKEN_TOO_OLD.",
    );
}

config_file! {
    /// midb.cfg: groxide-midb, the IMAP/POP3 view of a store.
    daemon Midb, mod midb, static MIDB = ("midb.cfg", "groxide-midb (the IMAP and POP3 view of a store)");

    MIDB_LISTEN_IP: Option<IpAddr> = key(
        "midb_listen_ip",
        ValueKind::IpAddr,
        "::1",
        "Address the midb RPC service listens on.",
    );

    MIDB_LISTEN_PORT: u16 = key(
        "midb_listen_port",
        ValueKind::Port,
        "5555",
        "TCP port of the midb RPC service.",
    );

    MIDB_HOSTS_ALLOW: HostsAllow = key(
        "midb_hosts_allow",
        ValueKind::HostsAllow,
        "",
        "Peers allowed to connect to this service.",
    );

    MIDB_TABLE_SIZE: usize = key(
        "midb_table_size",
        int(1, 1_000_000),
        "5000",
        "Most stores open at once.",
    );

    MIDB_CACHE_INTERVAL: Duration = key(
        "midb_cache_interval",
        ValueKind::Duration,
        "30min",
        "Idle time after which an open store is closed.",
    );

    MIDB_LIST_FILE: PathBuf = key(
        "midb_list_file",
        ValueKind::Path,
        "midb_list.txt",
        "midb routing list (prefix host port), relative to the config dir; missing = empty.",
    );

    MIDB_SEARCH_TEXT_MAX: u64 = key(
        "midb_search_text_max",
        ValueKind::Size,
        "1M",
        "Most bytes of a message's decoded text kept in the search index; text past it is not found by SEARCH BODY/TEXT.",
    );

    MIDB_PARSE_MEMORY_MAX: u64 = key(
        "midb_parse_memory_max",
        ValueKind::Size,
        "64M",
        "Most bytes of large messages (over 256K) held in memory at once to derive their ENVELOPE, BODYSTRUCTURE and search text; a message larger than this is parsed alone. Used by groxide-midb and by groxide-imap/pop3 for the stores they read in-process.",
    );

    MIDB_SORT_INDEX_MAX: usize = key(
        "midb_sort_index_max",
        int(0, 100_000_000),
        "100000",
        "Most messages per open store whose SORT keys (UID, size, dates, base subject, first addresses) are kept in memory between SORT commands, least recently used folders dropped first; 0 keeps none (every SORT reads the keys from midb.sqlite3).",
    );
}

config_file! {
    /// event.cfg: groxide-event, change notifications.
    daemon Event, mod event, static EVENT = ("event.cfg", "groxide-event (change notifications)");

    EVENT_LISTEN_IP: Option<IpAddr> = key(
        "event_listen_ip",
        ValueKind::IpAddr,
        "::1",
        "Address the event RPC service listens on.",
    );

    EVENT_LISTEN_PORT: u16 = key(
        "event_listen_port",
        ValueKind::Port,
        "33333",
        "TCP port of the event RPC service.",
    );

    EVENT_HOSTS_ALLOW: HostsAllow = key(
        "event_hosts_allow",
        ValueKind::HostsAllow,
        "",
        "Peers allowed to connect to this service.",
    );

    EVENT_QUEUE_LENGTH: usize = key(
        "event_queue_length",
        int(1, 1 << 20),
        "1024",
        "Events queued per subscriber before the slowest are told to resynchronise.",
    );
}

config_file! {
    /// timer.cfg: groxide-timer, persistent scheduled jobs.
    daemon Timer, mod timer, static TIMER = ("timer.cfg", "groxide-timer (persistent scheduled jobs)");

    TIMER_LISTEN_IP: Option<IpAddr> = key(
        "timer_listen_ip",
        ValueKind::IpAddr,
        "::1",
        "Address the timer RPC service listens on.",
    );

    TIMER_LISTEN_PORT: u16 = key(
        "timer_listen_port",
        ValueKind::Port,
        "6666",
        "TCP port of the timer RPC service.",
    );

    TIMER_HOSTS_ALLOW: HostsAllow = key(
        "timer_hosts_allow",
        ValueKind::HostsAllow,
        "",
        "Peers allowed to connect to this service.",
    );

    TIMER_STATE_PATH: PathBuf = key(
        "timer_state_path",
        ValueKind::Path,
        "/var/lib/groxide/timer.sqlite3",
        "SQLite file holding the scheduled jobs.",
    );

    TIMER_THREADS_NUM: usize = key(
        "timer_threads_num",
        int(1, 1000),
        "50",
        "Most jobs run at the same time.",
    );

    TIMER_COMMAND_ALLOW: Text = key(
        "timer_command_allow",
        ValueKind::String,
        "",
        "Absolute paths of the programs `command` jobs may run, separated by spaces. \
        Jobs run them directly (no shell) with an empty environment. Empty: no command jobs.",
    );

    TIMER_COMMAND_TIMEOUT: Duration = key(
        "timer_command_timeout",
        ValueKind::Duration,
        "5min",
        "A command job still running after this long is killed (also the most a job may ask for).",
    );

    TIMER_COMMAND_OUTPUT_MAX: u64 = key(
        "timer_command_output_max",
        ValueKind::Size,
        "4K",
        "Bytes of each output stream (stdout, stderr) of a command kept in the job's result.",
    );

    TIMER_RETRY_LIMIT: u32 = key(
        "timer_retry_limit",
        int(0, 1000),
        "10",
        "Retries of a job after a transient failure (or an interrupted run) before it is marked failed.",
    );

    TIMER_RETRY_DELAY: Duration = key(
        "timer_retry_delay",
        ValueKind::Duration,
        "30s",
        "Wait before the first retry; each further retry waits twice as long.",
    );

    TIMER_RETRY_MAX_DELAY: Duration = key(
        "timer_retry_max_delay",
        ValueKind::Duration,
        "1h",
        "Longest wait between two retries.",
    );

    TIMER_MAX_FUTURE: Duration = key(
        "timer_max_future",
        ValueKind::Duration,
        "10y",
        "Farthest a due time may lie ahead; later ones are refused.",
    );

    TIMER_KEEP_FINISHED: Duration = key(
        "timer_keep_finished",
        ValueKind::Duration,
        "30d",
        "How long done, failed and cancelled jobs stay visible before they are deleted.",
    );
}

config_file! {
    /// delivery.cfg: groxide-delivery, LMTP final delivery.
    daemon Delivery, mod delivery, static DELIVERY = ("delivery.cfg", "groxide-delivery (LMTP final delivery)");

    LDA_LISTEN: Vec<BindAddr> = key(
        "lda_listen",
        ValueKind::BindList,
        "[::]:24",
        "Where LMTP is served; empty = nowhere.",
    );

    LDA_SUPPORT_STARTTLS: bool = key(
        "lda_support_starttls",
        ValueKind::Bool,
        "no",
        "Offer STARTTLS (needs lda_certificate_path and lda_private_key_path).",
    );

    LDA_CERTIFICATE_PATH: PathBuf = key(
        "lda_certificate_path",
        ValueKind::Path,
        "",
        "PEM certificate chain for STARTTLS; empty = none.",
    );

    LDA_PRIVATE_KEY_PATH: PathBuf = key(
        "lda_private_key_path",
        ValueKind::Path,
        "",
        "PEM private key for STARTTLS; empty = none.",
    );

    MAIL_MAX_LENGTH: u64 = key(
        "mail_max_length",
        ValueKind::Size,
        "64M",
        "Largest message accepted, in bytes (suffixes K M G).",
    );

    LDA_RECIPIENT_DELIMITER: Text = key(
        "lda_recipient_delimiter",
        ValueKind::String,
        "",
        "Characters that start an address extension (e.g. + for user+tag@domain); empty = none.",
    );

    LDA_JUNK_RULES: Text = key(
        "lda_junk_rules",
        ValueKind::String,
        "",
        "Headers that send a message to Junk Email instead of the Inbox, gromox syntax: Header=Value rules separated by ; (an empty value matches the header's presence; a value matches the whole header value or one of its ;/,-separated items, without case), e.g. X-Spam-Flag=YES; X-MC-Relay= ; empty = none.",
    );

    LMTP_CONN_TIMEOUT: Duration = key(
        "lmtp_conn_timeout",
        ValueKind::Duration,
        "3min",
        "Idle time after which an LMTP connection is closed.",
    );

    LDA_MAX_RCPT_NUM: usize = key(
        "lda_max_rcpt_num",
        int(1, 100_000),
        "256",
        "Most recipients in one transaction.",
    );

    LDA_MEETING_MAX_LENGTH: u64 = key(
        "lda_meeting_max_length",
        ValueKind::Size,
        "1M",
        "Largest delivered message whose meeting request, reply or cancellation (iMIP) updates the recipient's calendar; larger ones are stored as plain mail.",
    );

    SMTP_MODE: bool = key(
        "smtp_mode",
        ValueKind::Bool,
        "no",
        "Speak SMTP instead of LMTP on lda_listen (for MTAs without LMTP); a message is then accepted only when every recipient got it, else 451 for all.",
    );

    LDA_MAX_COMMAND_LENGTH: usize = key(
        "lda_max_command_length",
        int(512, 65_536),
        "4096",
        "Longest LMTP/SMTP command line in bytes, line end included; longer lines get 500 5.5.2.",
    );

    LDA_MAX_ERRORS: u32 = key(
        "lda_max_errors",
        int(1, 1000),
        "10",
        "Bad commands tolerated on one connection before it is closed with 421.",
    );

    LDA_MAX_CONNECTIONS: usize = key(
        "lda_max_connections",
        int(1, 100_000),
        "1000",
        "Most LMTP/SMTP connections served at once; more wait in the listen queue.",
    );

    LDA_SPOOL_PATH: PathBuf = key(
        "lda_spool_path",
        ValueKind::Path,
        "",
        "Directory for messages being received (one file each, removed after delivery; no fsync needed); empty = <data_path>/spool/delivery.",
    );

    LMTP_DEDUP_WINDOW: Duration = key(
        "lmtp_dedup_window",
        ValueKind::Duration,
        "1d",
        "How long a delivered message (same Message-ID and bytes) is remembered per mailbox, so a client retrying after a lost reply does not store a second copy; kept in <data_path>/delivery/dedup.sqlite3 of this node; 0 = no deduplication of retries.",
    );
}

config_file! {
    /// imap.cfg: groxide-imap.
    daemon Imap, mod imap, static IMAP = ("imap.cfg", "groxide-imap (IMAP4rev1 and IMAP4rev2 server)");

    IMAP_LISTEN: Vec<BindAddr> = key(
        "imap_listen",
        ValueKind::BindList,
        "[::]:143",
        "Where plain IMAP is served; empty = nowhere.",
    );

    IMAP_LISTEN_TLS: Vec<BindAddr> = key(
        "imap_listen_tls",
        ValueKind::BindList,
        "[::]:993",
        "Where implicit-TLS IMAP is served (needs the certificate files).",
    );

    IMAP_SUPPORT_STARTTLS: bool = key(
        "imap_support_starttls",
        ValueKind::Bool,
        "yes",
        "Offer STARTTLS on imap_listen (needs the certificate files).",
    );

    IMAP_FORCE_TLS: bool = key(
        "imap_force_tls",
        ValueKind::Bool,
        "no",
        "Refuse login before TLS is active.",
    );

    IMAP_CERTIFICATE_PATH: PathBuf = key(
        "imap_certificate_path",
        ValueKind::Path,
        "",
        "PEM certificate chain for TLS; empty = none.",
    );

    IMAP_PRIVATE_KEY_PATH: PathBuf = key(
        "imap_private_key_path",
        ValueKind::Path,
        "",
        "PEM private key for TLS; empty = none.",
    );

    IMAP_CONN_TIMEOUT: Duration = key(
        "imap_conn_timeout",
        ValueKind::Duration,
        "3min",
        "Idle time after which a connection that is not logged in is closed.",
    );

    IMAP_AUTOLOGOUT_TIME: Duration = key(
        "imap_autologout_time",
        ValueKind::Duration,
        "30min",
        "Idle time after which a logged-in connection is closed (IDLE counts as activity).",
    );

    IMAP_AUTH_TIMES: u32 = key(
        "imap_auth_times",
        int(1, 1000),
        "10",
        "Failed logins from one address before it is blocked for block_interval_auths.",
    );

    BLOCK_INTERVAL_AUTHS: Duration = key(
        "block_interval_auths",
        ValueKind::Duration,
        "1min",
        "How long an address is blocked after too many failed logins.",
    );

    IMAP_MAX_LITERAL_SIZE: u64 = key(
        "imap_max_literal_size",
        ValueKind::Size,
        "64M",
        "Largest literal a client may send (APPEND message size), in bytes.",
    );

    IMAP_MAX_LINE_LENGTH: u64 = key(
        "imap_max_line_length",
        ValueKind::Size,
        "64K",
        "Longest command line outside literals, in bytes.",
    );

    IMAP_MAX_CONNECTIONS_PER_USER: u32 = key(
        "imap_max_connections_per_user",
        int(1, 100_000),
        "50",
        "Most connections one user may have open.",
    );

    IMAP_MAX_CONNECTIONS_PER_IP: u32 = key(
        "imap_max_connections_per_ip",
        int(1, 100_000),
        "100",
        "Most connections from one client address.",
    );

    IMAP_MAX_UNAUTH_CONNECTIONS: u32 = key(
        "imap_max_unauth_connections",
        int(1, 1_000_000),
        "100",
        "Most connections not logged in yet, at once (their own pool: they never take the places of logged-in users beyond it).",
    );

    IMAP_MAX_UNAUTH_CONNECTIONS_PER_IP: u32 = key(
        "imap_max_unauth_connections_per_ip",
        int(1, 100_000),
        "10",
        "Most connections not logged in yet from one client address.",
    );

    IMAP_LOGIN_TIMEOUT: Duration = key(
        "imap_login_timeout",
        ValueKind::Duration,
        "1min",
        "Time from connecting to logging in; a connection still not logged in is closed then, whatever it sent meanwhile (NOOP, CAPABILITY).",
    );

    IMAP_RFC9051: bool = key(
        "imap_rfc9051",
        ValueKind::Bool,
        "yes",
        "Offer IMAP4rev2 (RFC 9051) besides IMAP4rev1.",
    );

    CONTEXT_NUM: u32 = key(
        "context_num",
        int(1, 1_000_000),
        "400",
        "Most connections served at once (gromox: contexts).",
    );

    IMAP_IDLE_CHECK_INTERVAL: Duration = key(
        "imap_idle_check_interval",
        ValueKind::Duration,
        "1min",
        "During IDLE, check the selected mailbox at least this often even without change events (covers an unreachable event service).",
    );
}

config_file! {
    /// pop3.cfg: groxide-pop3.
    daemon Pop3, mod pop3, static POP3 = ("pop3.cfg", "groxide-pop3 (POP3 server)");

    POP3_LISTEN: Vec<BindAddr> = key(
        "pop3_listen",
        ValueKind::BindList,
        "[::]:110",
        "Where plain POP3 is served; empty = nowhere.",
    );

    POP3_LISTEN_TLS: Vec<BindAddr> = key(
        "pop3_listen_tls",
        ValueKind::BindList,
        "[::]:995",
        "Where implicit-TLS POP3 is served (needs the certificate files).",
    );

    POP3_SUPPORT_STLS: bool = key(
        "pop3_support_stls",
        ValueKind::Bool,
        "yes",
        "Offer STLS on pop3_listen (needs the certificate files).",
    );

    POP3_FORCE_TLS: bool = key(
        "pop3_force_tls",
        ValueKind::Bool,
        "no",
        "Refuse login before TLS is active.",
    );

    POP3_CERTIFICATE_PATH: PathBuf = key(
        "pop3_certificate_path",
        ValueKind::Path,
        "",
        "PEM certificate chain for TLS; empty = none.",
    );

    POP3_PRIVATE_KEY_PATH: PathBuf = key(
        "pop3_private_key_path",
        ValueKind::Path,
        "",
        "PEM private key for TLS; empty = none.",
    );

    POP3_CONN_TIMEOUT: Duration = key(
        "pop3_conn_timeout",
        ValueKind::Duration,
        "3min",
        "Idle time after which a connection is closed.",
    );

    POP3_AUTH_TIMES: u32 = key(
        "pop3_auth_times",
        int(1, 1000),
        "10",
        "Failed logins from one address before it is blocked for block_interval_auths.",
    );

    BLOCK_INTERVAL_AUTHS: Duration = key(
        "block_interval_auths",
        ValueKind::Duration,
        "1min",
        "How long an address is blocked after too many failed logins.",
    );

    CONTEXT_NUM: usize = key(
        "context_num",
        int(1, 1_000_000),
        "400",
        "Most connections served at once (gromox: contexts).",
    );

    POP3_MAX_CONNECTIONS_PER_IP: u32 = key(
        "pop3_max_connections_per_ip",
        int(1, 100_000),
        "100",
        "Most connections from one client address.",
    );

    POP3_MAX_UNAUTH_CONNECTIONS: u32 = key(
        "pop3_max_unauth_connections",
        int(1, 1_000_000),
        "100",
        "Most connections not logged in yet, at once (their own pool: they never take the places of logged-in users beyond it).",
    );

    POP3_MAX_UNAUTH_CONNECTIONS_PER_IP: u32 = key(
        "pop3_max_unauth_connections_per_ip",
        int(1, 100_000),
        "10",
        "Most connections not logged in yet from one client address.",
    );

    POP3_LOGIN_TIMEOUT: Duration = key(
        "pop3_login_timeout",
        ValueKind::Duration,
        "1min",
        "Time from connecting to logging in; a connection still not logged in is closed then, whatever it sent meanwhile (NOOP, CAPA).",
    );

    POP3_MAX_LINE_LENGTH: u64 = key(
        "pop3_max_line_length",
        ValueKind::Size,
        "4K",
        "Longest command line (SASL responses included) a client may send, in bytes.",
    );

    POP3_MAX_ERRORS: u32 = key(
        "pop3_max_errors",
        int(1, 10_000),
        "10",
        "Bad commands and failed logins one connection may make before it is closed.",
    );
}

config_file! {
    /// http.cfg: groxide-http.
    daemon Http, mod http, static HTTP = ("http.cfg", "groxide-http (Autodiscover, EWS, DAV, ActiveSync, MAPI/HTTP, health)");

    HTTP_LISTEN: Vec<BindAddr> = key(
        "http_listen",
        ValueKind::BindList,
        "[::]:80",
        "Where plain HTTP is served; empty = nowhere.",
    );

    HTTP_LISTEN_TLS: Vec<BindAddr> = key(
        "http_listen_tls",
        ValueKind::BindList,
        "[::]:443",
        "Where HTTPS is served (needs the certificate files).",
    );

    HTTP_CERTIFICATE_PATH: PathBuf = key(
        "http_certificate_path",
        ValueKind::Path,
        "",
        "PEM certificate chain for HTTPS; empty = none.",
    );

    HTTP_PRIVATE_KEY_PATH: PathBuf = key(
        "http_private_key_path",
        ValueKind::Path,
        "",
        "PEM private key for HTTPS; empty = none.",
    );

    HTTP_CONN_TIMEOUT: Duration = key(
        "http_conn_timeout",
        ValueKind::Duration,
        "3min",
        "Idle time after which a connection with no request in progress is closed.",
    );

    HTTP_HEADER_TIMEOUT: Duration = key(
        "http_header_timeout",
        ValueKind::Duration,
        "30s",
        "Time allowed for the TLS handshake, a PROXY protocol header, and each request's head (request line and headers).",
    );

    HTTP_MAX_HEADER_SIZE: u64 = key(
        "http_max_header_size",
        ValueKind::Size,
        "64K",
        "Largest request head (request line and headers), in bytes; at least 8K.",
    );

    HTTP_RQBODY_MAX_SIZE: u64 = key(
        "http_rqbody_max_size",
        ValueKind::Size,
        "50M",
        "Largest request body, in bytes; a larger one is refused with 413.",
    );

    HTTP_RQBODY_PREFETCH_SIZE: u64 = key(
        "http_rqbody_prefetch_size",
        ValueKind::Size,
        "64K",
        "Request bodies declared this size or smaller are received whole before the request is handled, so a refusal (401, 403) never cuts off a client still sending; larger ones stream.",
    );

    HTTP_RQBODY_TIMEOUT: Duration = key(
        "http_rqbody_timeout",
        ValueKind::Duration,
        "5min",
        "Time allowed to receive a request body, counted from the end of the request head; a slower body is refused with 408.",
    );

    CONTEXT_NUM: usize = key(
        "context_num",
        int(1, 1_000_000),
        "4000",
        "Most connections served at once (gromox: contexts); further clients wait in the listen queue. Long polls (ActiveSync Ping) each hold one.",
    );

    HTTP_MAX_CONNECTIONS_PER_IP: u32 = key(
        "http_max_connections_per_ip",
        int(1, 1_000_000),
        "200",
        "Most connections from one client address; more are closed at once. Peers in http_trusted_proxies or http_proxy_protocol_from are not limited.",
    );

    HTTP_COMPRESS: bool = key(
        "http_compress",
        ValueKind::Bool,
        "yes",
        "Compress responses with gzip for clients that accept it.",
    );

    HTTP_COMPRESS_MIN_SIZE: u64 = key(
        "http_compress_min_size",
        ValueKind::Size,
        "256",
        "Smallest response body compressed, in bytes (when its size is known).",
    );

    HTTP_TRUSTED_PROXIES: NetList = key(
        "http_trusted_proxies",
        ValueKind::NetList,
        "",
        "Reverse proxies (addresses, CIDR networks) whose X-Forwarded-For/Forwarded headers name the client, and which terminate TLS, so Basic authentication is accepted from them over plain HTTP; empty = none.",
    );

    HTTP_PROXY_PROTOCOL_FROM: NetList = key(
        "http_proxy_protocol_from",
        ValueKind::NetList,
        "",
        "Peers that begin every connection with a PROXY protocol v1 or v2 header (HAProxy send-proxy), which then names the client; a connection from them without one is closed. Empty = none.",
    );

    HTTP_AUTH_TIMES: u32 = key(
        "http_auth_times",
        int(1, 1000),
        "10",
        "Failed logins from one address before it is blocked for block_interval_auths.",
    );

    BLOCK_INTERVAL_AUTHS: Duration = key(
        "block_interval_auths",
        ValueKind::Duration,
        "1min",
        "How long an address is blocked after too many failed logins.",
    );

    HTTP_BASIC_AUTH_CRED_CACHING: Duration = key(
        "http_basic_auth_cred_caching",
        ValueKind::Duration,
        "1min",
        "How long a verified Basic login is remembered (as a keyed hash, never the password), so the requests of one client are not each verified again; 0 = verify every request. SIGHUP forgets them all.",
    );

    HTTP_BASIC_AUTH_CACHE_ENTRIES: usize = key(
        "http_basic_auth_cache_entries",
        int(1, 10_000_000),
        "10000",
        "Most remembered Basic logins; beyond, the oldest is forgotten first.",
    );

    HTTP_METRICS_LISTEN: Vec<BindAddr> = key(
        "http_metrics_listen",
        ValueKind::BindList,
        "",
        "Where /metrics (Prometheus text format, plain HTTP, no authentication) is served; empty = nowhere. Use an internal address.",
    );

    OXDISCO_EXONYM: Text = key(
        "oxdisco_exonym",
        ValueKind::String,
        "",
        "This node's external host name in discovery answers (Autodiscover, autoconfig); empty = its servers.extname (the row whose hostname is host_id), else host_id.",
    );

    OXDISCO_HTTPS_PORT: u16 = key(
        "oxdisco_https_port",
        ValueKind::Port,
        "443",
        "HTTPS port in the URLs discovery hands out (EWS, ActiveSync, DAV, Autodiscover); 443 is left out of the URLs.",
    );

    AUTOCONFIG_IMAP_TLS_PORT: u16 = key(
        "autoconfig_imap_tls_port",
        int(0, 65535),
        "993",
        "Implicit-TLS IMAP port that autoconfig advertises; 0 = none.",
    );

    AUTOCONFIG_IMAP_STARTTLS_PORT: u16 = key(
        "autoconfig_imap_starttls_port",
        int(0, 65535),
        "143",
        "IMAP port with STARTTLS that autoconfig advertises; 0 = none.",
    );

    AUTOCONFIG_POP3_TLS_PORT: u16 = key(
        "autoconfig_pop3_tls_port",
        int(0, 65535),
        "995",
        "Implicit-TLS POP3 port that autoconfig advertises; 0 = none.",
    );

    AUTOCONFIG_POP3_STARTTLS_PORT: u16 = key(
        "autoconfig_pop3_starttls_port",
        int(0, 65535),
        "110",
        "POP3 port with STLS that autoconfig advertises; 0 = none.",
    );

    AUTOCONFIG_SUBMISSION_HOST: Text = key(
        "autoconfig_submission_host",
        ValueKind::String,
        "",
        "Host of the SMTP submission service (Postfix) that autoconfig advertises; empty = the user's home node's external name.",
    );

    AUTOCONFIG_SUBMISSION_TLS_PORT: u16 = key(
        "autoconfig_submission_tls_port",
        int(0, 65535),
        "465",
        "Implicit-TLS submission port that autoconfig advertises; 0 = none.",
    );

    AUTOCONFIG_SUBMISSION_STARTTLS_PORT: u16 = key(
        "autoconfig_submission_starttls_port",
        int(0, 65535),
        "587",
        "Submission port with STARTTLS that autoconfig advertises; 0 = none.",
    );

    EAS_PING_MIN_HEARTBEAT: Duration = key(
        "eas_ping_min_heartbeat",
        ValueKind::Duration,
        "60s",
        "Shortest ActiveSync Ping heartbeat a device may ask for; a shorter one is answered with Status 5 and this limit.",
    );

    EAS_PING_MAX_HEARTBEAT: Duration = key(
        "eas_ping_max_heartbeat",
        ValueKind::Duration,
        "59min",
        "Longest ActiveSync Ping heartbeat a device may ask for (keep it below every proxy's idle timeout); a longer one is answered with Status 5 and this limit.",
    );

    EAS_SYNC_MAX_WINDOW: usize = key(
        "eas_sync_max_window",
        int(1, 100_000),
        "512",
        "Most items one ActiveSync Sync answer carries per collection, whatever WindowSize the device asks for.",
    );

    EAS_MAX_ACTIVE_COMMANDS: usize = key(
        "eas_max_active_commands",
        int(1, 100_000),
        "32",
        "Most ActiveSync commands worked on at once; more wait for a turn (a waiting Ping or Sync holds none). Thousands of phones reconnecting together are worked through this many at a time.",
    );

    EWS_ITEM_CACHE_SIZE: u64 = key(
        "ews_item_cache_size",
        ValueKind::Size,
        "64M",
        "Memory for EWS items as FindItem and SyncFolderItems show them, kept while a message is unchanged: a page of items already shown is copied, not read from the store and written again. 0 turns it off.",
    );

    EWS_SUBSCRIPTIONS_PER_USER: usize = key(
        "ews_subscriptions_per_user",
        int(1, 1000),
        "20",
        "Most EWS notification subscriptions (pull and streaming) one mailbox may hold at once; more are refused with ErrorTooManyObjectsOpened.",
    );

    EWS_SUBSCRIPTIONS_MAX: usize = key(
        "ews_subscriptions_max",
        int(1, 1_000_000),
        "10000",
        "Most EWS notification subscriptions this server keeps at once.",
    );

    EWS_SUBSCRIPTION_MAX_EVENTS: usize = key(
        "ews_subscription_max_events",
        int(10, 100_000),
        "1000",
        "Events an EWS subscription holds until its client fetches them; beyond, the subscription ends with ErrorMissedNotificationEvents.",
    );

    EWS_STREAMING_KEEPALIVE: Duration = key(
        "ews_streaming_keepalive",
        ValueKind::Duration,
        "30s",
        "How often an EWS GetStreamingEvents connection without events says it is alive (and looks at the store without a change hint); keep it below every proxy's idle timeout.",
    );

    EWS_STREAMING_IDLE_EXPIRY: Duration = key(
        "ews_streaming_idle_expiry",
        ValueKind::Duration,
        "30min",
        "How long an EWS streaming subscription lives without a GetStreamingEvents connection.",
    );
}

config_file! {
    /// zcore.cfg: groxide-zcore.
    daemon Zcore, mod zcore, static ZCORE = ("zcore.cfg", "groxide-zcore (session API for web and sync clients)");

    ZCORE_LISTEN: Vec<BindAddr> = key(
        "zcore_listen",
        ValueKind::BindList,
        "unix:/run/groxide/zcore.sock",
        "Where the zcore RPC service listens.",
    );
}

config_file! {
    /// mysql_adaptor.cfg: the MariaDB/MySQL directory, gromox's keys (used when
    /// groxide.cfg's directory_url is empty).
    daemon MysqlAdaptor, mod mysql_adaptor, static MYSQL_ADAPTOR = ("mysql_adaptor.cfg", "every daemon that reads the user directory, and groxide-admin");

    MYSQL_HOST: Text = key(
        "mysql_host",
        ValueKind::String,
        "localhost",
        "Host name or address of the MariaDB/MySQL directory server.",
    );

    MYSQL_PORT: u16 = key(
        "mysql_port",
        ValueKind::Port,
        "3306",
        "TCP port of the MariaDB/MySQL directory server.",
    );

    MYSQL_USERNAME: Text = key(
        "mysql_username",
        ValueKind::String,
        "root",
        "User name for the directory database.",
    );

    MYSQL_PASSWORD: Text = key(
        "mysql_password",
        ValueKind::String,
        "",
        "Password for the directory database (never logged).",
    );

    MYSQL_DBNAME: Text = key(
        "mysql_dbname",
        ValueKind::String,
        "email",
        "Name of the directory database (grommunio's tables).",
    );

    MYSQL_TLS: Choice = key(
        "mysql_tls",
        ValueKind::Choice(&["off", "prefer", "require", "verify-ca", "verify-full"]),
        "prefer",
        "TLS to the directory server: off; prefer = encrypt when the server offers TLS, certificate unchecked; require = encrypt or fail, certificate unchecked; verify-ca = require, and the certificate must chain to mysql_tls_ca; verify-full = verify-ca, and the certificate must name mysql_host.",
    );

    MYSQL_TLS_CA: PathBuf = key(
        "mysql_tls_ca",
        ValueKind::Path,
        "",
        "PEM file of the CA(s) that verify-ca and verify-full trust for the directory server's certificate; empty = the public web CAs built in.",
    );

    MYSQL_TLS_CERT: PathBuf = key(
        "mysql_tls_cert",
        ValueKind::Path,
        "",
        "PEM client certificate (chain) presented to the directory server, for accounts created REQUIRE X509 or SUBJECT; needs mysql_tls_key; empty = none.",
    );

    MYSQL_TLS_KEY: PathBuf = key(
        "mysql_tls_key",
        ValueKind::Path,
        "",
        "PEM private key of mysql_tls_cert; empty = none.",
    );

    CONNECTION_NUM: u32 = key(
        "connection_num",
        int(1, 1000),
        "8",
        "Most connections one process keeps open to the directory (MariaDB/MySQL or SQLite).",
    );
}

static ALL: [&Schema; 11] = [
    &SHARED,
    &EXMDB,
    &MIDB,
    &EVENT,
    &TIMER,
    &DELIVERY,
    &IMAP,
    &POP3,
    &HTTP,
    &ZCORE,
    &MYSQL_ADAPTOR,
];

/// Every schema: groxide.cfg first, then each daemon's file.
pub fn all() -> &'static [&'static Schema] {
    &ALL
}

/// How many keys groxide.cfg has: the daemon's keys follow them in a config.
pub(crate) const SHARED_KEYS: usize = shared::KEYS.len();
