//! Integration tests of groxide-routing through its public API.

// Integration tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod list_file;
mod locality;
mod resolver;
