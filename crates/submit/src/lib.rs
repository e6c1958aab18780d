//! groxide-submit: hands outgoing mail to the relay named by
//! `outgoing_smtp_url` (gromox's syntax: `smtp://host:port`,
//! `smtps://host:port`, `smtp+tls://host:port`,
//! `smtp+unverifiedtls://host:port`; `lmtp://host:port` for tools and tests).
//!
//! Used by the daemons that send mail (http, zcore, timer) and by tools.
//! TLS is rustls with the ring provider. The message is read from a file or
//! reader in chunks and never held whole; line ends are sent as CRLF and
//! dot-stuffed on the way.
//!
//! Results are per recipient ([`SubmitReport`]): SMTP's one reply after DATA
//! applies to every accepted recipient; in LMTP each accepted recipient gets
//! its own reply, and all of them are read (the bug of reading only the first
//! one, as mail-send 0.6 does, would leave replies in the pipe). Failures of
//! the whole message are [`SubmitError`]s, and
//! [`SubmitError::is_temporary`] separates 4xx and connection trouble
//! (retry) from 5xx (bounce).
//!
//! Not supported: SMTP AUTH (relays are expected to trust this host by
//! address), `sendmail://`.

mod client;
mod data_encoder;
mod error;
mod reply;
mod submitter;
mod tls;
mod url;

pub use client::{Connection, Envelope, RecipientResult, RecipientStatus, SubmitReport};
pub use data_encoder::DataEncoder;
pub use error::{Stage, SubmitError};
pub use reply::Reply;
pub use submitter::{SubmitOptions, Submitter};
pub use tls::{SYSTEM_CA_BUNDLES, TrustRoots};
pub use url::{Dialect, RelayUrl, Security};
