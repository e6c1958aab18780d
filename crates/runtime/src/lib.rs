//! What every groxide daemon shares at run time, so that a daemon's `main.rs`
//! is one call and its `lib.rs` holds only its own logic:
//!
//! - the command line (`--config-dir`, `--check-config`, `--help`, `--version`);
//! - loading and validating its config, with errors that name file, line, key;
//! - logging (`tracing`, text or JSON lines, level reloadable);
//! - signals: SIGHUP reloads the config and tells the daemon, SIGTERM/SIGINT
//!   start a drain bounded by `shutdown_timeout`;
//! - sd_notify READY/RELOADING/STOPPING under systemd;
//! - admission of client connections ([`admission`]: totals, per address,
//!   per user, and the smaller limits of connections not logged in);
//! - where mail-client daemons listen and with which certificate
//!   ([`client_listen`]);
//! - the node's identity (host_id, own addresses, outgoing source address)
//!   and the RPC client options derived from the shared config;
//! - the node's wiring ([`NodeWiring`]): directory, routing, routed clients
//!   and the one order a reload applies them in;
//! - the accept loop of the client-facing daemons ([`accept`]).
//!
//! Only daemons (through this crate) read config files and install signal
//! handlers; libraries take typed values.

pub mod accept;
pub mod admission;
mod cli;
pub mod client_listen;
mod context;
mod logging;
mod net;
mod node;
mod notify;
mod routing;
mod rpc_service;
mod start_error;
pub mod wiring;

pub use cli::{DaemonSpec, main, no_checks};
pub use context::Context;
pub use net::bind_tcp;
pub use node::{NodeIdentity, client_options, rpc_server_tls};
pub use routing::Routing;
pub use rpc_service::{RpcEndpoint, RpcServiceError};
pub use start_error::StartError;
pub use wiring::{NodeDirectory, NodeWiring};
