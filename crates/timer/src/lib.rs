//! groxide-timer: persistent scheduled jobs.
//!
//! This build serves gRPC health and reflection on `timer_listen_ip`:`timer_listen_port`
//! behind `timer_hosts_allow`; the service itself arrives with its issue.

use groxide_runtime::{Context, RpcEndpoint, RpcServiceError};

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint = RpcEndpoint {
    service: "timer",
    ip_key: "timer_listen_ip",
    port_key: "timer_listen_port",
    acl_key: "timer_hosts_allow",
};

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context) -> Result<(), RpcServiceError> {
    let server = ENDPOINT.server(&ctx)?;
    ENDPOINT.serve(&ctx, server).await
}
