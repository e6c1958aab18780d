//! Calling the node that holds a store: resolve the store's home (directory
//! homeserver, then the list file, then this node), call it over a pooled
//! channel, and heal stale routes: a STORE_NOT_HERE answer clears the cached
//! route and the call is tried once more against the fresh route.

use crate::client::{ChannelPool, ClientOptions, NodeAddr, RpcError};
use crate::reason::{Reason, owner_of, reason_of};
use groxide_routing::{Resolver, Route};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;

/// Pause before the one retry of an idempotent call to an unreachable node.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// A client of one service (exmdb, midb, event) that routes by store dir.
pub struct RoutedClient {
    service: &'static str,
    resolver: Arc<Resolver>,
    pool: ChannelPool,
}

impl RoutedClient {
    /// A client for `service` routing with `resolver`.
    pub fn new(
        service: &'static str,
        resolver: Arc<Resolver>,
        opts: ClientOptions,
    ) -> RoutedClient {
        RoutedClient {
            service,
            resolver,
            pool: ChannelPool::new(service, opts),
        }
    }

    /// The resolver (to reload its table on SIGHUP).
    pub fn resolver(&self) -> &Arc<Resolver> {
        &self.resolver
    }

    /// The default per-call deadline from the client options.
    pub fn request_timeout(&self) -> Duration {
        self.pool.options().request_timeout
    }

    /// Drops pooled connections and cached routes (SIGHUP).
    pub fn reset(&self) {
        self.pool.clear();
        self.resolver.clear_cache();
    }

    /// After a STORE_NOT_HERE answer for `dir`: follow the owner it names
    /// (for this store, for the cache time), else forget every cached route.
    pub fn heal(&self, dir: &str, status: &tonic::Status) {
        match owner_of(status).as_deref().and_then(NodeAddr::parse) {
            Some(owner) => {
                self.resolver.redirect(dir, &owner.host, owner.port);
            }
            None => self.resolver.clear_cache(),
        }
    }

    /// Where `dir` lives.
    pub async fn route(&self, dir: &str) -> Result<Route, RpcError> {
        self.resolver
            .resolve(dir)
            .await
            .map_err(|e| RpcError::Route {
                service: self.service,
                dir: dir.to_string(),
                message: e.to_string(),
            })
    }

    /// A channel to the home of `dir`, and that node's address.
    pub async fn channel(&self, dir: &str) -> Result<(Channel, NodeAddr), RpcError> {
        let route = self.route(dir).await?;
        let node = NodeAddr::new(route.host, route.port);
        Ok((self.pool.get(&node)?, node))
    }

    /// Runs `call` against the home of `dir`. A STORE_NOT_HERE answer means our
    /// route was stale: the cache is cleared and the call runs once more.
    /// Transport failures are not retried (the call may not be idempotent).
    pub async fn call<T, F, Fut>(&self, dir: &str, call: F) -> Result<T, RpcError>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        self.call_inner(dir, &call, false).await
    }

    /// Like [`RoutedClient::call`], and also retries once after a short pause
    /// when the node was unreachable. Only for calls that are safe to repeat.
    pub async fn call_idempotent<T, F, Fut>(&self, dir: &str, call: F) -> Result<T, RpcError>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        self.call_inner(dir, &call, true).await
    }

    async fn call_inner<T, F, Fut>(
        &self,
        dir: &str,
        call: &F,
        idempotent: bool,
    ) -> Result<T, RpcError>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<T, tonic::Status>>,
    {
        let mut healed = false;
        let mut retried = false;
        loop {
            let (channel, node) = self.channel(dir).await?;
            match call(channel).await {
                Ok(v) => return Ok(v),
                Err(status) => {
                    let err = RpcError::from_status(self.service, &node, status);
                    if let RpcError::Status { status, .. } = &err
                        && reason_of(status) == Some(Reason::StoreNotHere)
                        && !healed
                    {
                        healed = true;
                        tracing::info!(service = self.service, dir, node = %node, owner = ?owner_of(status), "stale route: store not here; following its owner");
                        self.heal(dir, status);
                        continue;
                    }
                    if idempotent && !retried && matches!(err, RpcError::Unreachable { .. }) {
                        retried = true;
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }
}
