//! Authentication of HTTP requests, for every protocol module.
//!
//! An [`AuthGate`] holds the server's [`AuthScheme`]s (today [`Basic`]
//! against the directory's `Authenticator`; Bearer tokens of an external
//! identity provider or NTLM/Kerberos through a helper are further
//! implementations of the same trait). Handlers never see credentials:
//! a mount that declares a protocol gets every request authenticated by the
//! server before it reaches the module, and its handlers take a
//! [`Principal`]; a module that must look at the request first (Autodiscover
//! learns from the body which protocol is asked for) takes [`Credentials`]
//! and calls [`Credentials::authenticate`] with the protocol.
//!
//! Every scheme checks the protocol's privilege bit; a user without it is
//! refused (403), as are disabled accounts. Throttling and constant-time
//! answers are the directory's (`Authenticator`).

mod basic;

pub use basic::{Basic, CredentialCache};

use crate::client::ClientInfo;
use crate::note::RequestNote;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use groxide_directory::{Protocol, User};
use http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Who a request authenticated as.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The directory's user (its `maildir` names the store, its
    /// `homeserver` where the store lives).
    pub user: Arc<User>,
    /// The scheme that authenticated it, e.g. `Basic`.
    pub scheme: &'static str,
}

/// Why a scheme refused credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Unknown name or wrong password (deliberately one answer): 401, the
    /// client should ask the user again.
    BadCredentials,
    /// Credentials the scheme cannot parse: 400.
    Malformed,
    /// Too many failed logins from this address or to this account; the
    /// credentials were not checked: 429.
    Blocked,
    /// The account may not log in at all (suspended, deleted, shared
    /// mailbox, domain not in service): 403.
    AccountDisabled,
    /// The account lacks the protocol's privilege bit: 403.
    NotPermitted(Protocol),
    /// Credentials over a connection that did not protect them (plain
    /// HTTP, not from a trusted proxy): 403, never checked.
    InsecureTransport,
    /// A multi-request handshake continues (NTLM's challenge): 401 with
    /// exactly this `WWW-Authenticate` value.
    Continue(HeaderValue),
    /// The directory could not be asked: 503.
    Unavailable,
    /// Too many logins are being checked at once; nothing was checked: 503.
    Busy,
}

/// A scheme's answer for one `Authorization` header.
#[derive(Debug)]
pub enum Verdict {
    /// Authenticated.
    Granted(Principal),
    /// Refused.
    Denied(Denial),
}

/// The future a scheme's check returns.
pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;

/// One HTTP authentication scheme (RFC 9110 §11).
pub trait AuthScheme: Send + Sync + 'static {
    /// The scheme's name as in `Authorization: <name> …`, e.g. `Basic`.
    fn name(&self) -> &'static str;

    /// Whether an `Authorization` value is for this scheme: by default,
    /// its first token equals [`AuthScheme::name`] in any case.
    fn claims(&self, authorization: &HeaderValue) -> bool {
        let bytes = authorization.as_bytes();
        let token = bytes.split(|b| *b == b' ').next().unwrap_or_default();
        token.eq_ignore_ascii_case(self.name().as_bytes())
    }

    /// The `WWW-Authenticate` challenge this scheme offers to `client`, or
    /// `None` when it is not offered there (Basic on plain HTTP from an
    /// untrusted address).
    fn challenge(&self, client: &ClientInfo) -> Option<HeaderValue>;

    /// Checks the credentials of an `Authorization` header this scheme
    /// [claims](AuthScheme::claims) for `protocol` from `client`.
    fn authenticate<'a>(
        &'a self,
        authorization: &'a HeaderValue,
        client: &'a ClientInfo,
        protocol: Protocol,
    ) -> AuthFuture<'a>;

    /// Forgets cached results (SIGHUP).
    fn reset(&self) {}
}

/// The server's authentication schemes, tried in order.
pub struct AuthGate {
    schemes: Vec<Arc<dyn AuthScheme>>,
}

impl std::fmt::Debug for AuthGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.schemes.iter().map(|s| s.name()).collect();
        f.debug_struct("AuthGate").field("schemes", &names).finish()
    }
}

/// An answer that refuses a request: 401 (with the challenges), 400, 403,
/// 429 or 503.
#[derive(Debug, Clone)]
pub struct AuthRejection {
    /// The status.
    pub status: StatusCode,
    /// `WWW-Authenticate` values (401 only).
    pub challenges: Vec<HeaderValue>,
    /// One line for the client (no detail an attacker could use).
    pub reason: &'static str,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let mut response = (self.status, format!("{}\n", self.reason)).into_response();
        let headers = response.headers_mut();
        for challenge in self.challenges {
            headers.append(WWW_AUTHENTICATE, challenge);
        }
        match self.status {
            StatusCode::TOO_MANY_REQUESTS => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("60"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("30"));
            }
            _ => {}
        }
        response
    }
}

impl AuthGate {
    /// A gate trying `schemes` in order.
    pub fn new(schemes: Vec<Arc<dyn AuthScheme>>) -> AuthGate {
        AuthGate { schemes }
    }

    /// The challenges offered to `client`, one per scheme that is offered there.
    pub fn challenges(&self, client: &ClientInfo) -> Vec<HeaderValue> {
        self.schemes
            .iter()
            .filter_map(|s| s.challenge(client))
            .collect()
    }

    /// The answer to a request without (usable) credentials: 401 with the
    /// challenges, or 403 when no scheme is offered on this connection
    /// (a 401 must carry a challenge).
    pub fn unauthenticated(&self, client: &ClientInfo) -> AuthRejection {
        let challenges = self.challenges(client);
        if challenges.is_empty() {
            return AuthRejection {
                status: StatusCode::FORBIDDEN,
                challenges,
                reason: "authentication requires HTTPS",
            };
        }
        AuthRejection {
            status: StatusCode::UNAUTHORIZED,
            challenges,
            reason: "authentication required",
        }
    }

    /// Authenticates a request's `Authorization` header for `protocol`.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        client: &ClientInfo,
        protocol: Protocol,
    ) -> Result<Principal, AuthRejection> {
        let Some(authorization) = headers.get(AUTHORIZATION) else {
            return Err(self.unauthenticated(client));
        };
        let Some(scheme) = self.schemes.iter().find(|s| s.claims(authorization)) else {
            return Err(self.unauthenticated(client));
        };
        match scheme.authenticate(authorization, client, protocol).await {
            Verdict::Granted(principal) => Ok(principal),
            Verdict::Denied(denial) => Err(self.rejection(denial, client)),
        }
    }

    fn rejection(&self, denial: Denial, client: &ClientInfo) -> AuthRejection {
        let refuse = |status, reason| AuthRejection {
            status,
            challenges: Vec::new(),
            reason,
        };
        match denial {
            Denial::BadCredentials => AuthRejection {
                reason: "invalid user name or password",
                ..self.unauthenticated(client)
            },
            Denial::Malformed => refuse(StatusCode::BAD_REQUEST, "malformed credentials"),
            Denial::Blocked => refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "too many failed logins; try again later",
            ),
            Denial::AccountDisabled => refuse(StatusCode::FORBIDDEN, "the account is disabled"),
            Denial::NotPermitted(_) => refuse(
                StatusCode::FORBIDDEN,
                "the account may not use this service",
            ),
            Denial::InsecureTransport => {
                refuse(StatusCode::FORBIDDEN, "authentication requires HTTPS")
            }
            Denial::Continue(challenge) => AuthRejection {
                status: StatusCode::UNAUTHORIZED,
                challenges: vec![challenge],
                reason: "authentication continues",
            },
            Denial::Unavailable => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the user directory is unavailable; try again later",
            ),
            Denial::Busy => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many logins in progress; try again shortly",
            ),
        }
    }

    /// Forgets every scheme's cached results (SIGHUP).
    pub fn reset(&self) {
        for scheme in &self.schemes {
            scheme.reset();
        }
    }
}

/// Authenticates `parts` for `protocol` with the gate the server put into
/// its extensions; on success the [`Principal`] is added to the extensions
/// and the user to the request's [`RequestNote`]. The server calls this for
/// mounts that declare a protocol, before the module sees the request.
pub async fn authenticate_parts(parts: &mut Parts, protocol: Protocol) -> Result<(), Response> {
    let credentials = Credentials::from_parts(parts);
    let principal = credentials
        .authenticate(protocol)
        .await
        .map_err(IntoResponse::into_response)?;
    parts.extensions.insert(principal);
    Ok(())
}

/// The credentials of a request, not yet checked. Extract it in a handler
/// that must read the request before it knows which protocol (and so which
/// privilege bit) to authenticate for.
pub struct Credentials {
    gate: Option<Arc<AuthGate>>,
    authorization: HeaderMap,
    client: ClientInfo,
    note: Option<Arc<RequestNote>>,
}

impl Credentials {
    fn from_parts(parts: &Parts) -> Credentials {
        let mut authorization = HeaderMap::new();
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            authorization.insert(AUTHORIZATION, value.clone());
        }
        let client = parts
            .extensions
            .get::<ClientInfo>()
            .copied()
            .unwrap_or_else(ClientInfo::unknown);
        Credentials {
            gate: parts.extensions.get::<Arc<AuthGate>>().cloned(),
            authorization,
            client,
            note: parts.extensions.get::<Arc<RequestNote>>().cloned(),
        }
    }

    /// Whether the request carries an `Authorization` header at all.
    pub fn present(&self) -> bool {
        self.authorization.contains_key(AUTHORIZATION)
    }

    /// The answer for a request that must authenticate but sent nothing
    /// usable: 401 with the challenges (or 403 without TLS).
    pub fn challenge(&self) -> AuthRejection {
        match &self.gate {
            Some(gate) => gate.unauthenticated(&self.client),
            None => no_gate(),
        }
    }

    /// Checks the credentials for `protocol`; records the user in the
    /// request's note on success.
    pub async fn authenticate(&self, protocol: Protocol) -> Result<Principal, AuthRejection> {
        let Some(gate) = &self.gate else {
            return Err(no_gate());
        };
        let principal = gate
            .authenticate(&self.authorization, &self.client, protocol)
            .await?;
        if let Some(note) = &self.note {
            note.set_user(&principal.user.username);
        }
        Ok(principal)
    }
}

fn no_gate() -> AuthRejection {
    tracing::error!("a request needs authentication but the server installed no AuthGate");
    AuthRejection {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        challenges: Vec::new(),
        reason: "authentication is not configured",
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Credentials {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Credentials::from_parts(parts))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Response;

    /// The principal the server authenticated for the request's mount. A
    /// handler of a mount without a protocol has none: that is a wiring
    /// mistake, answered 500 and logged, never served unauthenticated.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| {
            tracing::error!(
                path = parts.uri.path(),
                "handler takes a Principal but its mount authenticates nothing"
            );
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        })
    }
}

#[cfg(test)]
mod tests;
