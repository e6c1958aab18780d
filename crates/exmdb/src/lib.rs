//! groxide-exmdb: the mailbox store.
//!
//! This build serves gRPC health and reflection on `listen_ip`:`exmdb_listen_port`
//! behind `exmdb_hosts_allow`; the service itself arrives with its issue.

use groxide_runtime::{Context, RpcEndpoint, RpcServiceError};

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint = RpcEndpoint {
    service: "exmdb",
    ip_key: "listen_ip",
    port_key: "exmdb_listen_port",
    acl_key: "exmdb_hosts_allow",
};

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context) -> Result<(), RpcServiceError> {
    let server = ENDPOINT.server(&ctx)?;
    ENDPOINT.serve(&ctx, server).await
}
