//! groxide-pop3: the POP3 server.

pub mod command;
pub mod dot;
pub mod maildrop;
pub mod sasl;
pub mod session;

use groxide_runtime::Context;

/// Why the daemon cannot run.
#[derive(Debug, thiserror::Error)]
#[error("groxide-pop3 is not implemented in this build; nothing to serve")]
pub struct NotImplemented;

/// Refuses to start.
pub async fn run(_ctx: Context) -> Result<(), NotImplemented> {
    Err(NotImplemented)
}
