//! groxide-http: Autodiscover, EWS, CalDAV/CardDAV and ActiveSync over HTTP.
//!
//! Not implemented in this build: the binary validates its configuration
//! (`--check-config`) and refuses to start, so it never claims to serve a
//! protocol it does not speak.

use groxide_runtime::Context;

/// Why the daemon cannot run.
#[derive(Debug, thiserror::Error)]
#[error("groxide-http is not implemented in this build; nothing to serve")]
pub struct NotImplemented;

/// Refuses to start.
pub async fn run(_ctx: Context<groxide_config::Http>) -> Result<(), NotImplemented> {
    Err(NotImplemented)
}
