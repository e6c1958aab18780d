//! The key catalogue: every key of every groxide config file, with its kind,
//! default and one line of documentation.
//!
//! Key names are gromox's where gromox has the key, so an administrator who
//! knows gromox recognises them. etc/ in the repository holds these schemas
//! rendered by [`crate::render_default_file`].

use crate::spec::{KeySpec, Schema, ValueKind};

const fn key(
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

const fn int(min: i64, max: i64) -> ValueKind {
    ValueKind::Int { min, max }
}

/// groxide.cfg: keys every daemon reads.
pub static SHARED: Schema = Schema {
    file: "groxide.cfg",
    about: "every groxide daemon and groxide-admin",
    keys: &[
        key(
            "host_id",
            ValueKind::String,
            "",
            "This node's name, as in the directory's servers.hostname; empty = the system hostname.",
        ),
        key(
            "rpc_source_ip",
            ValueKind::IpAddr,
            "",
            "Address outgoing RPC connections are bound to; empty = the first concrete address among listen_ip, midb_listen_ip, event_listen_ip, timer_listen_ip of this config dir.",
        ),
        key(
            "data_path",
            ValueKind::Path,
            "/var/lib/groxide",
            "Directory for groxide's data (mailboxes live below it).",
        ),
        key(
            "directory_url",
            ValueKind::String,
            "",
            "The user directory: sqlite:///path or mysql://user:password@host:port/database; empty = the mysql_* keys of mysql_adaptor.cfg when one is set, else sqlite://<data_path>/directory.sqlite3.",
        ),
        key(
            "directory_cache_time",
            ValueKind::Duration,
            "60s",
            "How long user, alias, domain and homeserver answers of the directory are cached (SIGHUP clears the cache; logins always read the directory).",
        ),
        key(
            "directory_connect_timeout",
            ValueKind::Duration,
            "20s",
            "Time allowed to open (or wait for) a connection to the directory database.",
        ),
        key(
            "account_auth_times",
            int(0, 100_000),
            "10",
            "Failed logins to one account within block_interval_auths before it is blocked for that long, per daemon; 0 = no per-account limit.",
        ),
        key(
            "log_level",
            ValueKind::LogLevel,
            "info",
            "How much to log: error, warn, info, debug, trace (gromox's 1..6 also work).",
        ),
        key(
            "log_format",
            ValueKind::Choice(&["text", "json"]),
            "text",
            "Log line format: text for people, json for log collectors.",
        ),
        key(
            "tls_certificate_path",
            ValueKind::Path,
            "",
            "PEM certificate chain this node presents on RPC connections (with rpc_tls); empty = none.",
        ),
        key(
            "tls_private_key_path",
            ValueKind::Path,
            "",
            "PEM private key for tls_certificate_path; empty = none.",
        ),
        key(
            "tls_ca_path",
            ValueKind::Path,
            "",
            "PEM CA certificates used to verify other nodes on RPC connections; empty = none.",
        ),
        key(
            "rpc_tls",
            ValueKind::Bool,
            "no",
            "Use TLS for RPC between daemons and nodes (needs the tls_* files).",
        ),
        key(
            "outgoing_smtp_url",
            ValueKind::String,
            "smtp://localhost:25",
            "Where outgoing mail is handed over: smtp://host:port (plain), smtp+tls://host:port (STARTTLS required), smtps://host:port (implicit TLS), smtp+unverifiedtls://host:port (STARTTLS, certificate not checked); the port defaults to 25 (465 for smtps).",
        ),
        key(
            "local_mailbox_view",
            ValueKind::Bool,
            "yes",
            "groxide-imap and groxide-pop3 read the stores homed on this node in-process (their SQLite files and content files, beside groxide-exmdb, which stays their only writer); no = through this node's groxide-midb like stores of other nodes.",
        ),
        key(
            "routing_cache_time",
            ValueKind::Duration,
            "60s",
            "How long a mailbox-to-node routing answer is cached (SIGHUP clears the cache).",
        ),
        key(
            "rpc_connect_timeout",
            ValueKind::Duration,
            "5s",
            "Time allowed to open an RPC connection to another daemon or node.",
        ),
        key(
            "rpc_timeout",
            ValueKind::Duration,
            "60s",
            "Time allowed for one RPC call to complete.",
        ),
        key(
            "rpc_proxy_connection_num",
            int(1, 10_000),
            "10",
            "Connections kept open to each remote RPC server.",
        ),
        key(
            "shutdown_timeout",
            ValueKind::Duration,
            "15s",
            "On SIGTERM, time allowed to finish in-flight work before it is cancelled.",
        ),
        key(
            "event_host",
            ValueKind::String,
            "",
            "Host of the event service; empty = the node that holds the mailbox (routed like exmdb).",
        ),
    ],
};

/// exmdb_provider.cfg: groxide-exmdb, the mailbox store.
pub static EXMDB: Schema = Schema {
    file: "exmdb_provider.cfg",
    about: "groxide-exmdb (the mailbox store)",
    keys: &[
        key(
            "listen_ip",
            ValueKind::IpAddr,
            "::1",
            "Address the exmdb RPC service listens on.",
        ),
        key(
            "exmdb_listen_port",
            ValueKind::Port,
            "5000",
            "TCP port of the exmdb RPC service.",
        ),
        key(
            "exmdb_hosts_allow",
            ValueKind::HostsAllow,
            "",
            "Peers allowed to connect to this service.",
        ),
        key(
            "table_size",
            int(100, 1_000_000),
            "5000",
            "Most stores open at once.",
        ),
        key(
            "cache_interval",
            ValueKind::Duration,
            "1min",
            "Idle time after which an open store is closed.",
        ),
        key(
            "sqlite_busy_timeout",
            ValueKind::Duration,
            "60s",
            "How long a store waits for a busy SQLite database before failing.",
        ),
        key(
            "max_store_message_count",
            int(0, i64::MAX),
            "0",
            "Most messages one store may hold; 0 = unlimited.",
        ),
        key(
            "mail_max_length",
            ValueKind::Size,
            "64M",
            "Largest message accepted, in bytes (suffixes K M G).",
        ),
        key(
            "exmdb_list_file",
            ValueKind::Path,
            "exmdb_list.txt",
            "Store routing list (prefix type host port), relative to the config dir; missing = empty.",
        ),
    ],
};

/// midb.cfg: groxide-midb, the IMAP/POP3 view of a store.
pub static MIDB: Schema = Schema {
    file: "midb.cfg",
    about: "groxide-midb (the IMAP and POP3 view of a store)",
    keys: &[
        key(
            "midb_listen_ip",
            ValueKind::IpAddr,
            "::1",
            "Address the midb RPC service listens on.",
        ),
        key(
            "midb_listen_port",
            ValueKind::Port,
            "5555",
            "TCP port of the midb RPC service.",
        ),
        key(
            "midb_hosts_allow",
            ValueKind::HostsAllow,
            "",
            "Peers allowed to connect to this service.",
        ),
        key(
            "midb_table_size",
            int(1, 1_000_000),
            "5000",
            "Most stores open at once.",
        ),
        key(
            "midb_cache_interval",
            ValueKind::Duration,
            "30min",
            "Idle time after which an open store is closed.",
        ),
        key(
            "midb_list_file",
            ValueKind::Path,
            "midb_list.txt",
            "midb routing list (prefix host port), relative to the config dir; missing = empty.",
        ),
        key(
            "midb_search_text_max",
            ValueKind::Size,
            "1M",
            "Most bytes of a message's decoded text kept in the search index; text past it is not found by SEARCH BODY/TEXT.",
        ),
    ],
};

/// event.cfg: groxide-event, change notifications.
pub static EVENT: Schema = Schema {
    file: "event.cfg",
    about: "groxide-event (change notifications)",
    keys: &[
        key(
            "event_listen_ip",
            ValueKind::IpAddr,
            "::1",
            "Address the event RPC service listens on.",
        ),
        key(
            "event_listen_port",
            ValueKind::Port,
            "33333",
            "TCP port of the event RPC service.",
        ),
        key(
            "event_hosts_allow",
            ValueKind::HostsAllow,
            "",
            "Peers allowed to connect to this service.",
        ),
        key(
            "event_queue_length",
            int(1, 1 << 20),
            "1024",
            "Events queued per subscriber before the slowest are told to resynchronise.",
        ),
    ],
};

/// timer.cfg: groxide-timer, persistent scheduled jobs.
pub static TIMER: Schema = Schema {
    file: "timer.cfg",
    about: "groxide-timer (persistent scheduled jobs)",
    keys: &[
        key(
            "timer_listen_ip",
            ValueKind::IpAddr,
            "::1",
            "Address the timer RPC service listens on.",
        ),
        key(
            "timer_listen_port",
            ValueKind::Port,
            "6666",
            "TCP port of the timer RPC service.",
        ),
        key(
            "timer_hosts_allow",
            ValueKind::HostsAllow,
            "",
            "Peers allowed to connect to this service.",
        ),
        key(
            "timer_state_path",
            ValueKind::Path,
            "/var/lib/groxide/timer.sqlite3",
            "SQLite file holding the scheduled jobs.",
        ),
        key(
            "timer_threads_num",
            int(1, 1000),
            "50",
            "Most jobs run at the same time.",
        ),
        key(
            "timer_command_allow",
            ValueKind::String,
            "",
            "Absolute paths of the programs `command` jobs may run, separated by spaces. \
             Jobs run them directly (no shell) with an empty environment. Empty: no command jobs.",
        ),
        key(
            "timer_command_timeout",
            ValueKind::Duration,
            "5min",
            "A command job still running after this long is killed (also the most a job may ask for).",
        ),
        key(
            "timer_command_output_max",
            ValueKind::Size,
            "4K",
            "Bytes of each output stream (stdout, stderr) of a command kept in the job's result.",
        ),
        key(
            "timer_retry_limit",
            int(0, 1000),
            "10",
            "Retries of a job after a transient failure (or an interrupted run) before it is marked failed.",
        ),
        key(
            "timer_retry_delay",
            ValueKind::Duration,
            "30s",
            "Wait before the first retry; each further retry waits twice as long.",
        ),
        key(
            "timer_retry_max_delay",
            ValueKind::Duration,
            "1h",
            "Longest wait between two retries.",
        ),
        key(
            "timer_max_future",
            ValueKind::Duration,
            "10y",
            "Farthest a due time may lie ahead; later ones are refused.",
        ),
        key(
            "timer_keep_finished",
            ValueKind::Duration,
            "30d",
            "How long done, failed and cancelled jobs stay visible before they are deleted.",
        ),
    ],
};

/// delivery.cfg: groxide-delivery, LMTP final delivery.
pub static DELIVERY: Schema = Schema {
    file: "delivery.cfg",
    about: "groxide-delivery (LMTP final delivery)",
    keys: &[
        key(
            "lda_listen",
            ValueKind::BindList,
            "[::]:24",
            "Where LMTP is served; empty = nowhere.",
        ),
        key(
            "lda_support_starttls",
            ValueKind::Bool,
            "no",
            "Offer STARTTLS (needs lda_certificate_path and lda_private_key_path).",
        ),
        key(
            "lda_certificate_path",
            ValueKind::Path,
            "",
            "PEM certificate chain for STARTTLS; empty = none.",
        ),
        key(
            "lda_private_key_path",
            ValueKind::Path,
            "",
            "PEM private key for STARTTLS; empty = none.",
        ),
        key(
            "mail_max_length",
            ValueKind::Size,
            "64M",
            "Largest message accepted, in bytes (suffixes K M G).",
        ),
        key(
            "lda_recipient_delimiter",
            ValueKind::String,
            "",
            "Characters that start an address extension (e.g. + for user+tag@domain); empty = none.",
        ),
        key(
            "lda_junk_rules",
            ValueKind::String,
            "",
            "Headers that send a message to Junk Email instead of the Inbox, gromox syntax: Header=Value rules separated by ; (an empty value matches the header's presence; a value matches the whole header value or one of its ;/,-separated items, without case), e.g. X-Spam-Flag=YES; X-MC-Relay= ; empty = none.",
        ),
        key(
            "lmtp_conn_timeout",
            ValueKind::Duration,
            "3min",
            "Idle time after which an LMTP connection is closed.",
        ),
        key(
            "lda_max_rcpt_num",
            int(1, 100_000),
            "256",
            "Most recipients in one transaction.",
        ),
        key(
            "smtp_mode",
            ValueKind::Bool,
            "no",
            "Speak SMTP instead of LMTP on lda_listen (for MTAs without LMTP); a message is then accepted only when every recipient got it, else 451 for all.",
        ),
        key(
            "lda_max_command_length",
            int(512, 65_536),
            "4096",
            "Longest LMTP/SMTP command line in bytes, line end included; longer lines get 500 5.5.2.",
        ),
        key(
            "lda_max_errors",
            int(1, 1000),
            "10",
            "Bad commands tolerated on one connection before it is closed with 421.",
        ),
        key(
            "lda_max_connections",
            int(1, 100_000),
            "1000",
            "Most LMTP/SMTP connections served at once; more wait in the listen queue.",
        ),
        key(
            "lda_spool_path",
            ValueKind::Path,
            "",
            "Directory for messages being received (one file each, removed after delivery; no fsync needed); empty = <data_path>/spool/delivery.",
        ),
    ],
};

/// imap.cfg: groxide-imap.
pub static IMAP: Schema = Schema {
    file: "imap.cfg",
    about: "groxide-imap (IMAP4rev1 and IMAP4rev2 server)",
    keys: &[
        key(
            "imap_listen",
            ValueKind::BindList,
            "[::]:143",
            "Where plain IMAP is served; empty = nowhere.",
        ),
        key(
            "imap_listen_tls",
            ValueKind::BindList,
            "[::]:993",
            "Where implicit-TLS IMAP is served (needs the certificate files).",
        ),
        key(
            "imap_support_starttls",
            ValueKind::Bool,
            "yes",
            "Offer STARTTLS on imap_listen (needs the certificate files).",
        ),
        key(
            "imap_force_tls",
            ValueKind::Bool,
            "no",
            "Refuse login before TLS is active.",
        ),
        key(
            "imap_certificate_path",
            ValueKind::Path,
            "",
            "PEM certificate chain for TLS; empty = none.",
        ),
        key(
            "imap_private_key_path",
            ValueKind::Path,
            "",
            "PEM private key for TLS; empty = none.",
        ),
        key(
            "imap_conn_timeout",
            ValueKind::Duration,
            "3min",
            "Idle time after which a connection that is not logged in is closed.",
        ),
        key(
            "imap_autologout_time",
            ValueKind::Duration,
            "30min",
            "Idle time after which a logged-in connection is closed (IDLE counts as activity).",
        ),
        key(
            "imap_auth_times",
            int(1, 1000),
            "10",
            "Failed logins from one address before it is blocked for block_interval_auths.",
        ),
        key(
            "block_interval_auths",
            ValueKind::Duration,
            "1min",
            "How long an address is blocked after too many failed logins.",
        ),
        key(
            "imap_max_literal_size",
            ValueKind::Size,
            "64M",
            "Largest literal a client may send (APPEND message size), in bytes.",
        ),
        key(
            "imap_max_line_length",
            ValueKind::Size,
            "64K",
            "Longest command line outside literals, in bytes.",
        ),
        key(
            "imap_max_connections_per_user",
            int(1, 100_000),
            "50",
            "Most connections one user may have open.",
        ),
        key(
            "imap_max_connections_per_ip",
            int(1, 100_000),
            "100",
            "Most connections from one client address.",
        ),
        key(
            "imap_rfc9051",
            ValueKind::Bool,
            "yes",
            "Offer IMAP4rev2 (RFC 9051) besides IMAP4rev1.",
        ),
        key(
            "context_num",
            int(1, 1_000_000),
            "400",
            "Most connections served at once (gromox: contexts).",
        ),
        key(
            "imap_idle_check_interval",
            ValueKind::Duration,
            "1min",
            "During IDLE, check the selected mailbox at least this often even without change events (covers an unreachable event service).",
        ),
    ],
};

/// pop3.cfg: groxide-pop3.
pub static POP3: Schema = Schema {
    file: "pop3.cfg",
    about: "groxide-pop3 (POP3 server)",
    keys: &[
        key(
            "pop3_listen",
            ValueKind::BindList,
            "[::]:110",
            "Where plain POP3 is served; empty = nowhere.",
        ),
        key(
            "pop3_listen_tls",
            ValueKind::BindList,
            "[::]:995",
            "Where implicit-TLS POP3 is served (needs the certificate files).",
        ),
        key(
            "pop3_support_stls",
            ValueKind::Bool,
            "yes",
            "Offer STLS on pop3_listen (needs the certificate files).",
        ),
        key(
            "pop3_force_tls",
            ValueKind::Bool,
            "no",
            "Refuse login before TLS is active.",
        ),
        key(
            "pop3_certificate_path",
            ValueKind::Path,
            "",
            "PEM certificate chain for TLS; empty = none.",
        ),
        key(
            "pop3_private_key_path",
            ValueKind::Path,
            "",
            "PEM private key for TLS; empty = none.",
        ),
        key(
            "pop3_conn_timeout",
            ValueKind::Duration,
            "3min",
            "Idle time after which a connection is closed.",
        ),
        key(
            "pop3_auth_times",
            int(1, 1000),
            "10",
            "Failed logins from one address before it is blocked for block_interval_auths.",
        ),
        key(
            "block_interval_auths",
            ValueKind::Duration,
            "1min",
            "How long an address is blocked after too many failed logins.",
        ),
        key(
            "context_num",
            int(1, 1_000_000),
            "400",
            "Most connections served at once (gromox: contexts).",
        ),
        key(
            "pop3_max_line_length",
            ValueKind::Size,
            "4K",
            "Longest command line (SASL responses included) a client may send, in bytes.",
        ),
        key(
            "pop3_max_errors",
            int(1, 10_000),
            "10",
            "Bad commands and failed logins one connection may make before it is closed.",
        ),
    ],
};

/// http.cfg: groxide-http.
pub static HTTP: Schema = Schema {
    file: "http.cfg",
    about: "groxide-http (Autodiscover, EWS, DAV, ActiveSync, MAPI/HTTP, health)",
    keys: &[
        key(
            "http_listen",
            ValueKind::BindList,
            "[::]:80",
            "Where plain HTTP is served; empty = nowhere.",
        ),
        key(
            "http_listen_tls",
            ValueKind::BindList,
            "[::]:443",
            "Where HTTPS is served (needs the certificate files).",
        ),
        key(
            "http_certificate_path",
            ValueKind::Path,
            "",
            "PEM certificate chain for HTTPS; empty = none.",
        ),
        key(
            "http_private_key_path",
            ValueKind::Path,
            "",
            "PEM private key for HTTPS; empty = none.",
        ),
        key(
            "http_conn_timeout",
            ValueKind::Duration,
            "3min",
            "Idle time after which a connection is closed.",
        ),
    ],
};

/// zcore.cfg: groxide-zcore.
pub static ZCORE: Schema = Schema {
    file: "zcore.cfg",
    about: "groxide-zcore (session API for web and sync clients)",
    keys: &[key(
        "zcore_listen",
        ValueKind::BindList,
        "unix:/run/groxide/zcore.sock",
        "Where the zcore RPC service listens.",
    )],
};

/// mysql_adaptor.cfg: the MariaDB/MySQL directory, gromox's keys (used when
/// groxide.cfg's directory_url is empty).
pub static MYSQL_ADAPTOR: Schema = Schema {
    file: "mysql_adaptor.cfg",
    about: "every daemon that reads the user directory, and groxide-admin",
    keys: &[
        key(
            "mysql_host",
            ValueKind::String,
            "localhost",
            "Host name or address of the MariaDB/MySQL directory server.",
        ),
        key(
            "mysql_port",
            ValueKind::Port,
            "3306",
            "TCP port of the MariaDB/MySQL directory server.",
        ),
        key(
            "mysql_username",
            ValueKind::String,
            "root",
            "User name for the directory database.",
        ),
        key(
            "mysql_password",
            ValueKind::String,
            "",
            "Password for the directory database (never logged).",
        ),
        key(
            "mysql_dbname",
            ValueKind::String,
            "email",
            "Name of the directory database (grommunio's tables).",
        ),
        key(
            "connection_num",
            int(1, 1000),
            "8",
            "Most connections one process keeps open to the directory (MariaDB/MySQL or SQLite).",
        ),
    ],
};

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

/// The keys that say where this node's RPC daemons listen, with their files:
/// what the `rpc_source_ip` default and a node's local addresses are made of.
pub static RPC_LISTEN_IP_KEYS: [(&Schema, &str); 4] = [
    (&EXMDB, "listen_ip"),
    (&MIDB, "midb_listen_ip"),
    (&EVENT, "event_listen_ip"),
    (&TIMER, "timer_listen_ip"),
];
