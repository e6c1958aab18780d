//! Resolving a store dir to the node that holds it: homeserver, list file, local.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::local_node::LocalNode;
use crate::lookup::{HomeserverLookup, LookupError};
use crate::route_table::RouteTable;
use groxide_cache::TtlCache;

/// The host a default route names unless [`Resolver::with_default_host`] says otherwise.
pub const DEFAULT_LOCAL_HOST: &str = "::1";

/// Where to send requests for one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// IP literal or hostname of the node.
    pub host: String,
    /// The service's port on that node.
    pub port: u16,
    /// Whether the node is this one (see [`LocalNode::is_local`]).
    pub local: bool,
    /// Which rule gave this answer, for logs.
    pub source: RouteSource,
}

/// Which routing rule decided a [`Route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteSource {
    /// The directory's homeserver of the store's owner.
    Homeserver,
    /// A line of the list file.
    ListFile {
        /// 1-based line number.
        line: usize,
    },
    /// Nothing matched: this node.
    Default,
    /// The node this route last pointed at answered that the store's home
    /// is here (STORE_NOT_HERE naming its owner); kept for the cache time.
    Redirect,
}

/// Why a store could not be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The directory did not answer. Retryable: the list file is deliberately
    /// not used as a fallback, since it may name a node that no longer holds
    /// the store, and writing there would split the mailbox.
    #[error("homeserver lookup failed: {0}")]
    Lookup(#[from] LookupError),
}

impl ResolveError {
    /// Whether the same request may succeed later (every current error may).
    pub fn is_retryable(&self) -> bool {
        match self {
            ResolveError::Lookup(_) => true,
        }
    }
}

/// Resolves store dirs to nodes for one service (exmdb, midb, event, …).
///
/// Order: 1. the directory's homeserver (at `default_port`); 2. the first
/// list-file line whose prefix is a byte prefix of the dir; 3. this node
/// (`::1`, or [`Resolver::with_default_host`], at `default_port`).
/// Successful answers are cached per dir for `cache_ttl`; errors are not
/// cached. Two concurrent misses for one dir both ask the directory.
pub struct Resolver {
    table: RwLock<RouteTable>,
    homeserver: Option<Arc<dyn HomeserverLookup>>,
    local: LocalNode,
    default_port: u16,
    default_host: String,
    cache: TtlCache<String, Route>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("local", &self.local)
            .field("default_port", &self.default_port)
            .field("default_host", &self.default_host)
            .field("has_homeserver_lookup", &self.homeserver.is_some())
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// A resolver over `table`, asking `homeserver` first when there is one.
    pub fn new(
        table: RouteTable,
        homeserver: Option<Arc<dyn HomeserverLookup>>,
        local: LocalNode,
        default_port: u16,
        cache_ttl: Duration,
    ) -> Resolver {
        Resolver {
            table: RwLock::new(table),
            homeserver,
            local,
            default_port,
            default_host: DEFAULT_LOCAL_HOST.to_string(),
            cache: TtlCache::new(cache_ttl, crate::MAX_CACHED_ROUTES),
        }
    }

    /// Makes default routes name `host` instead of `::1`: the service's own
    /// listen address, so that on a node listening on 127.0.0.3 a local
    /// route does not lead to whatever listens on `::1`.
    pub fn with_default_host(mut self, host: impl Into<String>) -> Resolver {
        self.default_host = host.into();
        self
    }

    /// The node that holds store `dir`.
    pub async fn resolve(&self, dir: &str) -> Result<Route, ResolveError> {
        let miss = match self.cache.get(dir, Instant::now()) {
            Ok(route) => return Ok(route),
            Err(miss) => miss,
        };
        let route = self.resolve_uncached(dir).await?;
        self.cache
            .insert(dir.to_string(), route.clone(), miss, Instant::now());
        Ok(route)
    }

    async fn resolve_uncached(&self, dir: &str) -> Result<Route, ResolveError> {
        if let Some(lookup) = &self.homeserver {
            match lookup.homeserver_of(dir).await? {
                Some(host) if host.is_empty() => {
                    return Err(LookupError::new(format!(
                        "the directory gave an empty homeserver hostname for {dir}"
                    ))
                    .into());
                }
                Some(host) => {
                    let local = self.local.is_local(&host);
                    return Ok(Route {
                        host,
                        port: self.default_port,
                        local,
                        source: RouteSource::Homeserver,
                    });
                }
                None => {}
            }
        }
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = table.first_match(dir) {
            return Ok(Route {
                host: entry.host.clone(),
                port: entry.port,
                local: self.local.is_local(&entry.host),
                source: RouteSource::ListFile { line: entry.line },
            });
        }
        Ok(Route {
            host: self.default_host.clone(),
            port: self.default_port,
            local: true,
            source: RouteSource::Default,
        })
    }

    /// Replaces the list-file table and forgets every cached route, at once
    /// (SIGHUP): the next resolution of any dir uses the new table.
    pub fn reload(&self, table: RouteTable) {
        let mut current = self.table.write().unwrap_or_else(PoisonError::into_inner);
        *current = table;
        // Cleared while the table is still locked, so no resolution sees the new table with old cache entries.
        self.cache.clear();
    }

    /// Routes `dir` to `host:port` for the cache time, because the node it
    /// was routed to named that node as the store's home. The named node
    /// still checks for itself that the store is its own, so a wrong hint
    /// costs a round trip, never a second writer.
    pub fn redirect(&self, dir: &str, host: &str, port: u16) -> Route {
        let route = Route {
            host: host.to_string(),
            port,
            local: self.local.is_local(host),
            source: RouteSource::Redirect,
        };
        self.cache
            .put(dir.to_string(), route.clone(), Instant::now());
        route
    }

    /// Forgets every cached route (e.g. after a mailbox moved to another node).
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    /// This node.
    pub fn local_node(&self) -> &LocalNode {
        &self.local
    }
}
