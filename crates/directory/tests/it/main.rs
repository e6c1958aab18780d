//! The directory against real databases: every lookup and auth path on
//! SQLite and on the local MariaDB (a fresh database per test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod admin_writes;
mod auth;
mod grommunio;
mod injection;
mod lookups;
mod recipients;
mod tls;
mod unreachable;
