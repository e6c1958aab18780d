//! The contract between groxide-http's server and its protocol modules
//! (discovery today; CalDAV/CardDAV, EWS and ActiveSync as further crates).
//!
//! - [`mount`]: a module is a [`Mount`] — name, path prefixes, the
//!   protocol whose privilege its requests need, an axum router;
//! - [`auth`]: [`AuthGate`] with pluggable [`AuthScheme`]s ([`Basic`]
//!   against the directory today); handlers get a [`Principal`], never
//!   credentials;
//! - [`client`]: the [`ClientInfo`] of a request (behind trusted proxies);
//! - [`body`]: request bodies within the server's size and time limits;
//! - [`home`]: a user's home node by external name ([`HomeNodes`]);
//! - [`note`]: what a request's access-log line learns while it is handled.
//! - [`xml`]: a namespace-resolving XML reader (bounded) and an escaping writer.
//!
//! Invariants: no sockets, no config files, no global state; a module
//! cannot reach a request before the server applied its limits and, for
//! mounts that declare a protocol, authenticated it.

pub mod auth;
pub mod body;
pub mod client;
pub mod home;
pub mod mount;
pub mod note;
pub mod xml;

pub use auth::{AuthGate, AuthRejection, AuthScheme, Basic, Credentials, Principal};
pub use body::{BodyError, BodyLimits, LimitedBody, RequestBody};
pub use client::ClientInfo;
pub use home::{HomeError, HomeNodes};
pub use mount::{Answer, Mount, Prefix, Serve, Services};
pub use note::RequestNote;
