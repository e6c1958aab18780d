//! Which node holds a mailbox.
//!
//! A caller that needs store `dir` (a mailbox directory such as
//! `/var/lib/groxide/user/n1/example.org/alice`) asks a [`Resolver`], which
//! answers with a [`Route`] in this order:
//!
//! 1. **The directory's homeserver** ([`HomeserverLookup`]): if the owner of
//!    `dir` has a homeserver ≠ 0, the store lives on that server's hostname,
//!    at the service's default port. If the directory cannot be asked, the
//!    answer is a retryable [`ResolveError`], never a silent fallback to the
//!    list file.
//! 2. **The list file** ([`RouteTable`]): `exmdb_list.txt` (`prefix type host
//!    port`) or `midb_list.txt` (`prefix host port`), gromox's format. The
//!    **first line in file order** whose prefix is a byte prefix of `dir` wins,
//!    not the longest one.
//! 3. **This node**, at the default port.
//!
//! # The trailing-slash pitfall
//!
//! Prefixes are compared byte for byte, exactly as gromox does: a prefix
//! `/var/lib/groxide/user/a` matches `/var/lib/groxide/user/ab/…` as well as
//! `/var/lib/groxide/user/a/…`. End every prefix with `/` unless that is
//! what you mean.
//!
//! # Locality
//!
//! A route is local when its host is this node ([`LocalNode::is_local`]):
//! its `host_id`, or an address its daemons are configured to listen on, not
//! any address of the machine, because test clusters run several nodes on
//! one machine.
//!
//! Architecture invariant: no network I/O and no async runtime here; the
//! directory is reached through the [`HomeserverLookup`] trait, which the
//! directory crate implements.

mod host;
mod list_line;
mod local_node;
mod lookup;
mod resolver;
mod route_table;

/// Most routes cached at once; when full, expired routes go, and if none
/// had expired the whole cache is dropped (it refills from the directory).
pub const MAX_CACHED_ROUTES: usize = 100_000;
pub use local_node::LocalNode;
pub use lookup::{HomeserverLookup, LookupError, LookupFuture};
pub use resolver::{DEFAULT_LOCAL_HOST, ResolveError, Resolver, Route, RouteSource};
pub use route_table::{
    ListFileError, ListKind, MAX_LIST_FILE_SIZE, MAX_LIST_LINE_LEN, MAX_PREFIX_LEN, RouteEntry,
    RouteTable, StoreType,
};
