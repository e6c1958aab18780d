//! groxide-testkit: what groxide's tests share, so each test file holds only
//! what it tests.
//!
//! - [`free_port`]: a listen port that was free, outside the kernel's
//!   ephemeral range, and not handed out to any other test process still
//!   running (binding port 0 and closing it races: the kernel hands the same
//!   port to the next outgoing connection).
//! - [`wait_until`], [`wait_listening`], and their `_async` forms: polling
//!   with a deadline, never a fixed sleep.
//! - [`ConfigDir`] and [`LocalNode`]: a config directory, and one whose RPC
//!   daemons listen on 127.0.0.1 at free ports; [`LocalNode::start`] and
//!   [`spawn`] run a daemon's `run` in-process with a [`groxide_runtime::Context`]
//!   the test controls (reload, stop).
//! - [`Process`]: a daemon binary as a child process, its output captured,
//!   killed when dropped (its log printed when the test panicked).
//!
//! **Dev-only:** crates take it as a dev-dependency; the end-to-end harness
//! (`tests/`, a test-only package without binaries) is the one normal
//! dependent. A test of this crate checks that with `cargo metadata`, so no
//! release binary links it.
// A test helper reports failure by panicking, as the tests it serves do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config_dir;
mod in_process;
mod ports;
mod process;
mod wait;

pub use config_dir::ConfigDir;
pub use in_process::{InProcess, LocalNode, spawn};
pub use ports::{LISTEN_PORTS, LOCALHOST, free_local_port, free_port};
pub use process::Process;
pub use wait::{
    DEADLINE, wait_listening, wait_listening_async, wait_listening_from, wait_until,
    wait_until_async,
};
