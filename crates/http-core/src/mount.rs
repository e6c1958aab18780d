//! How a protocol module plugs into groxide-http: it hands the server a
//! [`Mount`] — a name, the path prefixes it owns, the protocol whose
//! privilege every request needs (or none, when the module authenticates
//! itself through [`crate::auth::Credentials`]), and how its requests
//! reach it ([`Serve`]: an axum router, or one function for modules whose
//! requests wait long), with their full path. The server owns everything
//! around it (listeners, TLS, limits, client addresses, authentication,
//! compression, access log, metrics), so a module is only its protocol.

use crate::auth::AuthGate;
use crate::home::HomeNodes;
use axum::body::Body;
use axum::response::Response;
use groxide_directory::{Directory, Protocol};
use http::Request;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tower::ServiceExt as _;

/// A path prefix a module owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    path: &'static str,
    ignore_case: bool,
}

impl Prefix {
    /// `path` and everything below it, byte for byte (`/dav` owns `/dav`
    /// and `/dav/…`, not `/davx`).
    pub const fn exact(path: &'static str) -> Prefix {
        Prefix {
            path,
            ignore_case: false,
        }
    }

    /// `path` and everything below it, ASCII case ignored (clients vary:
    /// `/Autodiscover/Autodiscover.xml`, `/autodiscover/autodiscover.xml`).
    pub const fn ignore_case(path: &'static str) -> Prefix {
        Prefix {
            path,
            ignore_case: true,
        }
    }

    /// The prefix as written.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// Whether `request_path` (without query) lies at or below this prefix.
    pub fn matches(&self, request_path: &str) -> bool {
        let p = self.path.as_bytes();
        let r = request_path.as_bytes();
        if r.len() < p.len() {
            return false;
        }
        let head = &r[..p.len()];
        let same = if self.ignore_case {
            head.eq_ignore_ascii_case(p)
        } else {
            head == p
        };
        same && (r.len() == p.len() || p.ends_with(b"/") || r[p.len()] == b'/')
    }
}

/// One module's part of the server.
pub struct Mount {
    /// Its name in metrics (`protocol` label) and access-log lines:
    /// `discovery`, `dav`, `ews`, `eas`.
    pub name: &'static str,
    /// The paths it serves; the longest matching prefix of all mounts wins.
    pub prefixes: Vec<Prefix>,
    /// The protocol whose privilege bit every request must carry: the
    /// server authenticates before the module sees the request, and
    /// handlers take a [`crate::auth::Principal`]. `None`: the module
    /// decides per request (anonymous discovery, or [`crate::auth::Credentials`]).
    pub auth: Option<Protocol>,
    /// How requests reach the module; they keep their full path.
    pub serve: Serve,
}

/// A module's answer to one request, as [`Serve::Direct`] makes it.
pub type Answer = Pin<Box<dyn Future<Output = Response> + Send>>;

/// How a mount's requests reach its module.
#[derive(Clone)]
pub enum Serve {
    /// Routes of axum (extractors, per-path handlers).
    Router(axum::Router),
    /// One function for every request of the mount, with no routing or
    /// extraction layer between: while a request waits (ActiveSync's Ping
    /// holds its connection for up to an hour) the server holds only the
    /// module's own future, sized by the module.
    Direct(Arc<dyn Fn(Request<Body>) -> Answer + Send + Sync>),
}

impl Serve {
    /// Answers `req`. The answer is boxed whatever the variant, so a caller
    /// that waits on it holds one pointer, not a router's state.
    pub fn call(&self, req: Request<Body>) -> Answer {
        match self {
            Serve::Router(router) => {
                let router = router.clone();
                Box::pin(async move {
                    match router.oneshot(req).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    }
                })
            }
            Serve::Direct(f) => f(req),
        }
    }
}

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount")
            .field("name", &self.name)
            .field("prefixes", &self.prefixes)
            .field("auth", &self.auth)
            .field(
                "serve",
                &match self.serve {
                    Serve::Router(_) => "router",
                    Serve::Direct(_) => "direct",
                },
            )
            .finish()
    }
}

/// What the server gives every module to build its mount from.
#[derive(Clone)]
pub struct Services {
    /// The user directory (cached lookups; `clear_cache` on SIGHUP is the
    /// server's job).
    pub directory: Directory,
    /// The authentication schemes.
    pub auth: Arc<AuthGate>,
    /// Users' home nodes by external name.
    pub home: Arc<HomeNodes>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments_in_their_case_mode() {
        let dav = Prefix::exact("/dav");
        let disco = Prefix::ignore_case("/autodiscover");
        let wk = Prefix::exact("/.well-known/");
        let table = [
            (dav, "/dav", true),
            (dav, "/dav/", true),
            (dav, "/dav/calendars/a", true),
            (dav, "/davx", false),
            (dav, "/DAV", false),
            (dav, "/da", false),
            (disco, "/Autodiscover/Autodiscover.xml", true),
            (disco, "/AUTODISCOVER", true),
            (disco, "/autodiscoverx", false),
            (wk, "/.well-known/caldav", true),
            (wk, "/.well-known", false),
        ];
        for (prefix, path, want) in table {
            assert_eq!(prefix.matches(path), want, "{prefix:?} {path}");
        }
    }
}
