//! The command line: every command, its arguments and its help.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "groxide-admin",
    version,
    about = "Administer a groxide installation: domains, users, aliases, servers, failover",
    after_help = "Exit status: 0 ok, 1 failure, 2 usage or invalid value, 3 not found, \
                  4 already exists or conflict, 69 a service or the directory is unavailable, \
                  78 configuration error."
)]
pub(crate) struct Cli {
    /// Directory holding groxide.cfg, mysql_adaptor.cfg and the daemons' config files.
    #[arg(
        long,
        global = true,
        env = "GROXIDE_CONFIG_DIR",
        default_value = "/etc/groxide"
    )]
    pub config_dir: PathBuf,
    /// Print results as JSON (one document on stdout).
    #[arg(long, global = true)]
    pub json: bool,
    /// Validate every config file in the config directory and exit.
    #[arg(long)]
    pub check_config: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Validate every daemon's configuration in the config directory.
    CheckConfig,
    /// Domains and their public stores.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Users and their private stores.
    #[command(subcommand)]
    User(UserCommand),
    /// Aliases: other addresses that deliver to a user (`@domain` = catch-all).
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Altnames: other names a user may log in with.
    #[command(subcommand)]
    Altname(AltnameCommand),
    /// Servers (cluster nodes) that can be homeservers.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Move every user and domain of one server to another, then reload the local daemons.
    Failover(FailoverArgs),
    /// Spread users evenly over the servers, moving as few as possible.
    Rebalance(RebalanceArgs),
    /// Send SIGHUP to every groxide daemon of this config directory on this machine.
    Reload,
    /// Jobs of this node's groxide-timer (deferred sends, maintenance, commands).
    #[command(subcommand)]
    Timer(TimerCommand),
    /// Import an iCalendar (.ics) or vCard (.vcf) file into a user's store.
    Import(ImportArgs),
    /// Export a user's calendar, tasks or contacts as iCalendar or vCard.
    Export(ExportArgs),
    /// A user's busy times from the Calendar folder (recurring series expanded).
    Freebusy(FreebusyArgs),
    /// A user's ActiveSync devices (state kept in the user's store).
    #[command(subcommand)]
    Device(DeviceCommand),
}

#[derive(Subcommand)]
pub(crate) enum DeviceCommand {
    /// The devices that synced with the user's mailbox.
    List {
        /// The user.
        username: String,
    },
    /// Forget a device and its sync state (it starts afresh on its next contact).
    Remove {
        /// The user.
        username: String,
        /// The DeviceId.
        device: String,
    },
    /// Ask a device to wipe itself at its next contact (remote wipe via Provision).
    Wipe {
        /// The user.
        username: String,
        /// The DeviceId.
        device: String,
    },
}

#[derive(Args)]
pub(crate) struct FreebusyArgs {
    /// The user.
    pub username: String,
    /// Start of the range: YYYY-MM-DD (UTC midnight) or Unix seconds.
    #[arg(long)]
    pub from: String,
    /// End of the range (exclusive), as --from.
    #[arg(long)]
    pub to: String,
    /// IANA zone of all-day and floating events (default: the user's, else UTC).
    #[arg(long)]
    pub tz: Option<String>,
}

/// The interchange formats of import and export.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PimFormat {
    /// iCalendar (RFC 5545): events, tasks, journal entries.
    Ics,
    /// vCard 3.0/4.0 (RFC 2426/6350): contacts and groups.
    Vcf,
}

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// ics or vcf.
    #[arg(value_enum)]
    pub format: PimFormat,
    /// The user whose store receives the items.
    pub username: String,
    /// The file to read ("-" = stdin).
    pub file: PathBuf,
    /// Target folder: a role (calendar, contacts, tasks, notes, journal) or a
    /// folder id. Default: by item kind (events to calendar, tasks to tasks,
    /// journal entries to notes, cards to contacts).
    #[arg(long)]
    pub folder: Option<String>,
    /// IANA zone of floating times and all-day dates (default: the user's
    /// timezone from the directory, else UTC).
    #[arg(long)]
    pub tz: Option<String>,
    /// Items stored at once (RPCs in flight).
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
}

#[derive(Args)]
pub(crate) struct ExportArgs {
    /// ics or vcf.
    #[arg(value_enum)]
    pub format: PimFormat,
    /// The user whose items are exported.
    pub username: String,
    /// Source folder: a role or a folder id (default: calendar for ics, contacts for vcf).
    #[arg(long)]
    pub folder: Option<String>,
    /// Write here instead of stdout.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// IANA zone of floating times and all-day dates (as given to the import).
    #[arg(long)]
    pub tz: Option<String>,
    /// vCard version of the export: 3 or 4.
    #[arg(long, default_value_t = 3)]
    pub vcard_version: u8,
}

#[derive(Subcommand)]
pub(crate) enum TimerCommand {
    /// List jobs, newest last.
    List {
        /// Only jobs in these states (pending, running, done, failed, cancelled); repeatable.
        #[arg(long)]
        state: Vec<String>,
        /// Only jobs of this store (maildir).
        #[arg(long)]
        dir: Option<String>,
        /// At most this many jobs.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Show one job with its result.
    Show {
        /// The job id.
        id: u64,
    },
    /// Cancel a pending job (exit 4 when it already ran or is running).
    Cancel {
        /// The job id.
        id: u64,
    },
}

/// Where a store is created or removed.
#[derive(Args, Clone, Copy)]
pub(crate) struct StoreFlags {
    /// Change only the directory; do not ask groxide-exmdb to create or delete the store.
    #[arg(long)]
    pub no_store: bool,
}

#[derive(Subcommand)]
pub(crate) enum DomainCommand {
    /// Create a domain and its public store (<data_path>/domain/<name>) on its home node.
    Create {
        /// The domain name, e.g. example.org.
        name: String,
        /// The homeserver of the public store: a server id or hostname (default: none).
        #[arg(long)]
        server: Option<String>,
        /// Free-text title.
        #[arg(long, default_value = "")]
        title: String,
        /// Most users the domain may have; 0 = no limit.
        #[arg(long, default_value_t = 0)]
        max_users: u32,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// List domains.
    List,
    /// Show one domain.
    Show {
        /// The domain name.
        name: String,
    },
    /// Mark a domain deleted (its users can no longer log in or receive mail);
    /// with --purge remove it and its public store (refused while it has users).
    Delete {
        /// The domain name.
        name: String,
        /// Remove the row and the public store instead of marking it deleted.
        #[arg(long)]
        purge: bool,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Suspend a domain: its users can no longer log in or receive mail.
    Suspend {
        /// The domain name.
        name: String,
    },
    /// Put a suspended or deleted domain back in service.
    Unsuspend {
        /// The domain name.
        name: String,
    },
    /// (Re)create the public store of an existing domain (idempotent).
    CreateStore {
        /// The domain name.
        name: String,
    },
}

/// How a password is given.
#[derive(Args)]
pub(crate) struct PasswordArgs {
    /// The password (visible to other local users in the process list; prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user and its private store
    /// (<data_path>/user/<server hostname or "local">/<domain>/<local part>) on its home node.
    Create {
        /// The user's address, local@domain; the domain must exist.
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// The homeserver of the store: a server id or hostname (default: none).
        #[arg(long)]
        server: Option<String>,
        /// Store quota, e.g. 2G (suffixes K M G T); default: none.
        #[arg(long)]
        quota: Option<String>,
        /// Language of the standard folder names, e.g. de_DE (default: English).
        #[arg(long, default_value = "")]
        lang: String,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// List users.
    List {
        /// Only the users of this domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Show one user, with its aliases and altnames.
    Show {
        /// The username (or an altname or alias of it).
        username: String,
    },
    /// Set a user's password (stored as argon2id).
    Passwd {
        /// The username.
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Suspend a user: no login, no mail delivered, still in the address book.
    Suspend {
        /// The username.
        username: String,
    },
    /// Put a suspended or deleted user back to normal.
    Unsuspend {
        /// The username.
        username: String,
    },
    /// Mark a user deleted; with --purge remove its row, aliases, altnames and store.
    Delete {
        /// The username.
        username: String,
        /// Remove the row and the store instead of marking it deleted.
        #[arg(long)]
        purge: bool,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Change the server that holds a user's store. Only for a stopped store or
    /// shared storage: with share-nothing nodes, move the store's files to the
    /// new node first (the store directory keeps its path).
    Move {
        /// The username.
        username: String,
        /// The new homeserver: a server id or hostname (0 = none).
        #[arg(long)]
        to_server: String,
    },
    /// (Re)create the private store of an existing user (idempotent).
    CreateStore {
        /// The username.
        username: String,
        /// Store quota, e.g. 2G; default: none.
        #[arg(long)]
        quota: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum AliasCommand {
    /// Add an alias (`@domain` makes the user that domain's catch-all).
    Add {
        /// The alias address, or @domain.
        alias: String,
        /// The user it delivers to.
        username: String,
    },
    /// Remove an alias.
    Remove {
        /// The alias address, or @domain.
        alias: String,
    },
    /// List aliases.
    List {
        /// Only the aliases of this user.
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum AltnameCommand {
    /// Add an alternative login name for a user.
    Add {
        /// The user.
        username: String,
        /// The alternative login name.
        altname: String,
    },
    /// Remove an alternative login name.
    Remove {
        /// The alternative login name.
        altname: String,
    },
    /// List alternative login names.
    List {
        /// Only those of this user.
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ServerCommand {
    /// Register a server (node). Its hostname is what the other nodes connect
    /// to and what its own host_id must be.
    Add {
        /// Internal hostname or address of the node.
        hostname: String,
        /// External name clients are sent to (Autodiscover).
        #[arg(long, default_value = "")]
        extname: String,
    },
    /// List servers.
    List,
    /// Remove a server (refused while it is somebody's homeserver).
    Remove {
        /// Server id or hostname.
        server: String,
    },
}

#[derive(Args)]
pub(crate) struct FailoverArgs {
    /// The failed server: id or hostname.
    #[arg(long)]
    pub from: String,
    /// The server that takes over: id or hostname.
    #[arg(long)]
    pub to: String,
    /// Do not send SIGHUP to the local daemons afterwards.
    #[arg(long)]
    pub no_reload: bool,
}

#[derive(Args)]
pub(crate) struct RebalanceArgs {
    /// Only print the moves.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not send SIGHUP to the local daemons afterwards.
    #[arg(long)]
    pub no_reload: bool,
}
