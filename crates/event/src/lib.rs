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

use groxide_config::Event;
use groxide_config::keys::event;
use groxide_rpc::pb::event::v1::event_server::EventServer;
use groxide_runtime::{Context, RpcEndpoint, RpcServiceError};

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint<Event> = RpcEndpoint {
    service: "event",
    ip: event::EVENT_LISTEN_IP,
    port: event::EVENT_LISTEN_PORT,
    acl: event::EVENT_HOSTS_ALLOW,
};

/// Runs the daemon until shutdown.
pub async fn run(ctx: Context<Event>) -> Result<(), RpcServiceError> {
    let bus = Bus::new(ctx.config().get(event::EVENT_QUEUE_LENGTH));
    let reload_bus = bus.clone();
    ctx.on_reload(move |cfg| {
        reload_bus.set_queue_length(cfg.get(event::EVENT_QUEUE_LENGTH));
    });
    let server = ENDPOINT
        .server(&ctx)?
        .add_service(EventServer::new(bus.service()));
    let health = server.health();
    health.set_serving::<EventServer<bus::EventService>>().await;
    ENDPOINT.serve(&ctx, server).await
}
