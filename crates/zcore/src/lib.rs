//! groxide-zcore: the session API for web and sync clients.
//!
//! Not implemented in this build: the binary validates its configuration
//! (`--check-config`) and refuses to start, so it never claims to serve a
//! protocol it does not speak.

use groxide_runtime::Context;

/// Why the daemon cannot run.
#[derive(Debug, thiserror::Error)]
#[error("groxide-zcore is not implemented in this build; nothing to serve")]
pub struct NotImplemented;

/// Refuses to start.
pub async fn run(_ctx: Context<groxide_config::Zcore>) -> Result<(), NotImplemented> {
    Err(NotImplemented)
}
