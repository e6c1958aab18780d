//! Which node is a user's home, by its external name: what discovery hands
//! to clients so that each talks to the node that holds its store.
//!
//! The home is found as every daemon finds a store — the exmdb
//! [`Resolver`] (the owner's homeserver in the directory, then
//! `exmdb_list.txt`, then this node) — and then named by the directory's
//! `servers.extname` of that host. This node is named by `oxdisco_exonym`,
//! else its own `servers.extname` (the row whose hostname is `host_id`),
//! else `host_id`. A remote home without a `servers` row or extname is
//! answered with this node's name (every node serves every user, through
//! RPC), and logged, never with an internal address.

use groxide_directory::{Directory, User};
use groxide_routing::Resolver;
use std::sync::{Arc, PoisonError, RwLock};

/// Why a home could not be named. Retryable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot find the home node: {0}")]
pub struct HomeError(String);

/// Names users' home nodes.
pub struct HomeNodes {
    directory: Directory,
    exmdb: Arc<Resolver>,
    host_id: String,
    exonym: RwLock<String>,
}

impl std::fmt::Debug for HomeNodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HomeNodes")
            .field("host_id", &self.host_id)
            .finish_non_exhaustive()
    }
}

impl HomeNodes {
    /// Homes found through `exmdb` (this node's exmdb resolver) and named
    /// through `directory`; `host_id` is this node's, `exonym` its
    /// `oxdisco_exonym` (empty = from the directory).
    pub fn new(
        directory: Directory,
        exmdb: Arc<Resolver>,
        host_id: &str,
        exonym: &str,
    ) -> HomeNodes {
        HomeNodes {
            directory,
            exmdb,
            host_id: host_id.to_string(),
            exonym: RwLock::new(exonym.to_string()),
        }
    }

    /// Replaces `oxdisco_exonym` (SIGHUP).
    pub fn set_exonym(&self, exonym: &str) {
        *self.exonym.write().unwrap_or_else(PoisonError::into_inner) = exonym.to_string();
    }

    /// This node's external name.
    pub async fn own_name(&self) -> Result<String, HomeError> {
        let exonym = self
            .exonym
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if !exonym.is_empty() {
            return Ok(exonym);
        }
        let own = self
            .directory
            .server_by_hostname(&self.host_id)
            .await
            .map_err(|e| HomeError(e.to_string()))?;
        Ok(match own {
            Some(server) if !server.extname.is_empty() => server.extname,
            _ => self.host_id.clone(),
        })
    }

    /// The external name of the node that holds `user`'s store.
    pub async fn name_of(&self, user: &User) -> Result<String, HomeError> {
        let route = self
            .exmdb
            .resolve(&user.maildir)
            .await
            .map_err(|e| HomeError(e.to_string()))?;
        if route.local {
            return self.own_name().await;
        }
        let server = self
            .directory
            .server_by_hostname(&route.host)
            .await
            .map_err(|e| HomeError(e.to_string()))?;
        match server {
            Some(server) if !server.extname.is_empty() => Ok(server.extname),
            _ => {
                tracing::warn!(
                    user = %user.username,
                    home = %route.host,
                    "the home node has no servers.extname; naming this node instead"
                );
                self.own_name().await
            }
        }
    }
}
