//! groxide-midb: the IMAP/POP3 view of mailbox stores.
//!
//! This build serves gRPC health and reflection on `midb_listen_ip`:`midb_listen_port`
//! behind `midb_hosts_allow`; the service itself arrives with its issue.

use groxide_runtime::{Context, RpcEndpoint, RpcServiceError};

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint = RpcEndpoint {
    service: "midb",
    ip_key: "midb_listen_ip",
    port_key: "midb_listen_port",
    acl_key: "midb_hosts_allow",
};

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context) -> Result<(), RpcServiceError> {
    let server = ENDPOINT.server(&ctx)?;
    ENDPOINT.serve(&ctx, server).await
}
