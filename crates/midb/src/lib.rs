//! groxide-midb: the IMAP/POP3 view of mailbox stores.

pub mod cache;
pub mod digest;
pub mod error;
pub mod feed;
#[cfg(any(test, feature = "test-store"))]
pub mod memory_store;
pub mod names;
pub mod open_stores;
pub mod search;
pub mod sort;
pub mod store;
pub mod thread;
pub mod view;

pub use error::MidbError;
pub use view::{Settings, StoreView};

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
