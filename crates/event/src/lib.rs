//! groxide-event: change notifications.
//!
//! groxide-exmdb publishes one notification per commit; IMAP, POP3, HTTP and
//! zcore sessions subscribe to the stores they show. Every subscriber has a
//! bounded queue (`event_queue_length`): publishing never waits for a slow
//! subscriber; instead the subscriber's next message is a resync marker
//! telling it how many events it lost, and it catches up by change number.
//!
//! Architecture invariant: the bus holds no state beyond the live
//! subscriptions; losing it (restart) loses only hints.

mod bus;

pub use bus::{Bus, Subscription};

use groxide_rpc::pb::event::v1::event_server::EventServer;
use groxide_runtime::{Context, RpcEndpoint, RpcServiceError};

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint = RpcEndpoint {
    service: "event",
    ip_key: "event_listen_ip",
    port_key: "event_listen_port",
    acl_key: "event_hosts_allow",
};

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context) -> Result<(), RpcServiceError> {
    let queue = usize::try_from(ctx.config().int("event_queue_length"))
        .unwrap_or(1024)
        .max(1);
    let bus = Bus::new(queue);
    let reload_bus = bus.clone();
    ctx.on_reload(move |cfg| {
        let q = usize::try_from(cfg.int("event_queue_length"))
            .unwrap_or(1024)
            .max(1);
        reload_bus.set_queue_length(q);
    });
    let server = ENDPOINT
        .server(&ctx)?
        .add_service(EventServer::new(bus.service()));
    let health = server.health();
    health.set_serving::<EventServer<bus::EventService>>().await;
    ENDPOINT.serve(&ctx, server).await
}
