//! groxide-http: the HTTP front door of a node. One server for every HTTP
//! protocol: it owns the listeners (plain and TLS, HTTP/1.1 and HTTP/2),
//! the PROXY protocol and forwarding headers of trusted proxies, request
//! limits, authentication, gzip, the access log and metrics; protocol
//! modules (account discovery today — CalDAV/CardDAV, EWS and ActiveSync
//! are further crates) plug in as [`groxide_http_core::Mount`]s, listed in
//! [`modules`].
//!
//! Invariants:
//! - **No module sees an unchecked request.** Limits, the client address
//!   and (for mounts that declare a protocol) authentication with that
//!   protocol's privilege bit are applied before the module's router runs.
//! - **Proxies are believed only when listed.** A PROXY header is read
//!   (and required) only from `http_proxy_protocol_from`; forwarding
//!   headers only hop by hop from `http_trusted_proxies`; Basic over plain
//!   HTTP only from a trusted proxy.
//! - **Bounded per connection and request:** head size and time, body size
//!   and time, idle time, connections at once; on SIGTERM in-flight
//!   requests finish within `shutdown_timeout`.
//! - **A waiting ActiveSync request holds no buffer:** HTTP/1 ActiveSync
//!   requests (Ping, a Sync that waits, and every other command of such a
//!   connection) are read and answered on the native path ([`native`]),
//!   everything else by hyper, through the same [`front::Front`].
//! - **Logs carry no secrets:** the access log has the path without its
//!   query, never headers or bodies.

pub mod access;
pub mod connection;
mod daemon;
pub mod forwarded;
pub mod front;
pub mod metrics;
pub mod modules;
pub mod native;
pub mod proxy_protocol;
pub mod server;
pub mod settings;

pub use daemon::{check_config, run, tls_config};
pub use groxide_runtime::StartError;
