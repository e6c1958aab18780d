//! Account discovery for groxide-http: how a client that knows only an
//! e-mail address and a password finds every service of the account.
//!
//! - Autodiscover POX (`/autodiscover/autodiscover.xml`, any case): the
//!   Outlook schema (EWS endpoints) and the mobilesync schema (ActiveSync),
//!   authenticated with the privilege of the protocol asked for (web resp.
//!   ActiveSync), for the authenticated user's own address;
//! - Autodiscover SOAP (`/autodiscover/autodiscover.svc`): `GetUserSettings`
//!   for EWS clients (exchangelib, Outlook for Mac), authenticated with the
//!   web privilege, answering for the authenticated user's own addresses;
//! - Autodiscover v2 (`/autodiscover/autodiscover.json`): one URL for
//!   `ActiveSync`, `Ews` or `AutodiscoverV1`, anonymous as clients call it;
//! - Thunderbird autoconfig (`/.well-known/autoconfig/mail/config-v1.1.xml`,
//!   `/mail/config-v1.1.xml`, `/.well-known/mail-v1.xml`): IMAP, POP3,
//!   SMTP submission, CardDAV and CalDAV, anonymous;
//! - `/.well-known/caldav` and `/.well-known/carddav` (RFC 6764): 301 to
//!   `/dav/`.
//!
//! Every answer names the external name of the user's home node
//! ([`groxide_http_core::HomeNodes`]), so in a cluster each client is sent
//! to the node that holds its store. Anonymous answers for an address that
//! is not a user name this node (the same shape as for a user, so they do
//! not tell which addresses exist on this node).
//!
//! The document formats are I/O-free ([`pox`], [`json`], [`autoconfig`]);
//! [`Discovery`] is the module the server mounts.

pub mod autoconfig;
pub mod json;
pub mod pox;
pub mod soap;
mod url;

use autoconfig::{MailServices, Provider};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use groxide_config::keys::http as keys;
use groxide_config::{Config, Http};
use groxide_directory::{DirectoryError, Protocol, User};
use groxide_http_core::auth::Credentials;
use groxide_http_core::body::read_body;
use groxide_http_core::{Mount, Prefix, Serve, Services};
use http::header::{ALLOW, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode};
use pox::{Endpoints, PoxErrorCode, Schema};
use std::sync::{Arc, PoisonError, RwLock};

/// Where the DAV module serves (the target of the well-known redirects).
pub const DAV_ROOT: &str = "/dav/";

const XML: &str = "text/xml; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// What discovery advertises besides the home node's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverySettings {
    /// The HTTPS port in URLs (`oxdisco_https_port`).
    pub https_port: u16,
    /// The mail services autoconfig lists (`autoconfig_*`).
    pub mail: MailServices,
}

impl DiscoverySettings {
    /// The settings of a loaded http.cfg.
    pub fn from_config(config: &Config<Http>) -> DiscoverySettings {
        DiscoverySettings {
            https_port: config.get(keys::OXDISCO_HTTPS_PORT),
            mail: MailServices {
                imap_tls_port: config.get(keys::AUTOCONFIG_IMAP_TLS_PORT),
                imap_starttls_port: config.get(keys::AUTOCONFIG_IMAP_STARTTLS_PORT),
                pop3_tls_port: config.get(keys::AUTOCONFIG_POP3_TLS_PORT),
                pop3_starttls_port: config.get(keys::AUTOCONFIG_POP3_STARTTLS_PORT),
                submission_host: config.get(keys::AUTOCONFIG_SUBMISSION_HOST).to_string(),
                submission_tls_port: config.get(keys::AUTOCONFIG_SUBMISSION_TLS_PORT),
                submission_starttls_port: config.get(keys::AUTOCONFIG_SUBMISSION_STARTTLS_PORT),
            },
        }
    }
}

/// The discovery module.
pub struct Discovery {
    services: Services,
    settings: RwLock<Arc<DiscoverySettings>>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("settings", &self.settings())
            .finish_non_exhaustive()
    }
}

impl Discovery {
    /// The module over the server's `services`.
    pub fn new(services: Services, settings: DiscoverySettings) -> Arc<Discovery> {
        Arc::new(Discovery {
            services,
            settings: RwLock::new(Arc::new(settings)),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<DiscoverySettings> {
        self.settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the settings (SIGHUP).
    pub fn set_settings(&self, settings: DiscoverySettings) {
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(settings);
    }

    /// The module's part of the server.
    pub fn mount(self: &Arc<Self>) -> Mount {
        Mount {
            name: "discovery",
            prefixes: vec![
                Prefix::ignore_case("/autodiscover"),
                Prefix::ignore_case("/.well-known/autoconfig"),
                Prefix::ignore_case("/mail/config-v1.1.xml"),
                Prefix::ignore_case("/.well-known/mail-v1.xml"),
                Prefix::exact("/.well-known/caldav"),
                Prefix::exact("/.well-known/carddav"),
            ],
            auth: None,
            serve: Serve::Router(
                axum::Router::new()
                    .fallback(dispatch)
                    .with_state(self.clone()),
            ),
        }
    }

    async fn endpoints_of(&self, user: &User) -> Result<Endpoints, Response> {
        let host = self
            .services
            .home
            .name_of(user)
            .await
            .map_err(|e| unavailable(&e.to_string()))?;
        Ok(Endpoints {
            host,
            https_port: self.settings().https_port,
        })
    }

    /// The endpoints for `address` asked anonymously: the user's home
    /// node, or this node for an address that is not a user.
    async fn endpoints_for_address(&self, address: &str) -> Result<Endpoints, Response> {
        match self.services.directory.user_by_login(address).await {
            Ok(Some(user)) => self.endpoints_of(&user).await,
            Ok(None) | Err(DirectoryError::Ambiguous { .. }) => {
                let host = self
                    .services
                    .home
                    .own_name()
                    .await
                    .map_err(|e| unavailable(&e.to_string()))?;
                Ok(Endpoints {
                    host,
                    https_port: self.settings().https_port,
                })
            }
            Err(e) => Err(unavailable(&e.to_string())),
        }
    }
}

fn unavailable(reason: &str) -> Response {
    tracing::warn!(
        reason,
        "discovery answer failed: directory or routing unavailable"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(http::header::RETRY_AFTER, "30")],
        "the user directory is unavailable; try again later\n",
    )
        .into_response()
}

fn with_type(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

fn method_not_allowed(allow: &'static str) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(ALLOW, HeaderValue::from_static(allow))],
        "method not allowed\n",
    )
        .into_response()
}

/// Routes by path, ignoring case (clients vary in it).
async fn dispatch(
    State(d): State<Arc<Discovery>>,
    credentials: Credentials,
    req: Request,
) -> Response {
    let original = req.uri().path().to_string();
    let path = original.to_ascii_lowercase();
    let trimmed = path.trim_end_matches('/');
    let read_only = matches!(*req.method(), Method::GET | Method::HEAD);
    match trimmed {
        "/.well-known/caldav" | "/.well-known/carddav" => (
            StatusCode::MOVED_PERMANENTLY,
            [(LOCATION, HeaderValue::from_static(DAV_ROOT))],
        )
            .into_response(),
        "/autodiscover/autodiscover.xml" => pox_answer(&d, &credentials, req).await,
        "/autodiscover/autodiscover.svc" => soap_answer(&d, &credentials, req).await,
        p if p == "/autodiscover/autodiscover.json"
            || p.starts_with("/autodiscover/autodiscover.json/") =>
        {
            if !read_only {
                return method_not_allowed("GET, HEAD");
            }
            let rest = original
                .get("/autodiscover/autodiscover.json".len()..)
                .unwrap_or("");
            json_answer(&d, rest, req.uri().query()).await
        }
        "/.well-known/autoconfig/mail/config-v1.1.xml"
        | "/mail/config-v1.1.xml"
        | "/.well-known/mail-v1.xml" => {
            if !read_only {
                return method_not_allowed("GET, HEAD");
            }
            autoconfig_answer(&d, req.uri().query()).await
        }
        _ => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

/// Time of day (UTC) for the `Time` attribute of POX errors.
fn time_of_day() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

fn pox_error(status: StatusCode, code: PoxErrorCode) -> Response {
    let id = std::process::id().to_string();
    with_type(status, XML, pox::error_response(code, &time_of_day(), &id))
}

async fn pox_answer(d: &Discovery, credentials: &Credentials, req: Request) -> Response {
    // Clients send the request unauthenticated first and answer the challenge.
    if !credentials.present() {
        return credentials.challenge().into_response();
    }
    if *req.method() != Method::POST {
        return pox_error(StatusCode::BAD_REQUEST, PoxErrorCode::InvalidRequest);
    }
    let body = match read_body(req.into_body()).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let request = match pox::parse_request(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "Autodiscover request refused");
            return pox_error(StatusCode::BAD_REQUEST, PoxErrorCode::InvalidRequest);
        }
    };
    let protocol = match &request.schema {
        Schema::Outlook => Protocol::Web,
        Schema::MobileSync => Protocol::ActiveSync,
        Schema::Other(schema) => {
            tracing::debug!(schema, "Autodiscover response schema not provided");
            return pox_error(StatusCode::OK, PoxErrorCode::ProviderUnavailable);
        }
    };
    let principal = match credentials.authenticate(protocol).await {
        Ok(p) => p,
        Err(rejection) => return rejection.into_response(),
    };
    let user = principal.user;
    // Only the user's own mailbox: another address (even an existing one)
    // gets "cannot be found", as delegation is not served.
    match d.services.directory.user_by_login(&request.email).await {
        Ok(Some(found)) if found.id == user.id => {}
        Ok(_) | Err(DirectoryError::Ambiguous { .. }) => {
            return pox_error(StatusCode::OK, PoxErrorCode::AddressNotFound);
        }
        Err(e) => {
            tracing::warn!(error = %e, "Autodiscover: directory unavailable");
            return pox_error(StatusCode::SERVICE_UNAVAILABLE, PoxErrorCode::ServerError);
        }
    }
    let at = match d.endpoints_of(&user).await {
        Ok(at) => at,
        Err(_) => return pox_error(StatusCode::SERVICE_UNAVAILABLE, PoxErrorCode::ServerError),
    };
    let body = match request.schema {
        Schema::MobileSync => pox::mobilesync_response(&user.username, &user.username, &at),
        _ => pox::outlook_response(&user.username, &user.username, &at),
    };
    with_type(StatusCode::OK, XML, body)
}

async fn soap_answer(d: &Discovery, credentials: &Credentials, req: Request) -> Response {
    use soap::{Operation, UserAnswer, UserFacts};
    // exchangelib probes the authentication scheme with an anonymous POST.
    if !credentials.present() {
        return credentials.challenge().into_response();
    }
    let guess = soap::envelope_of_content_type(
        req.headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let soap_fault = |status: StatusCode, envelope: soap::Envelope, client: bool, reason: &str| {
        with_type(
            status,
            envelope.content_type(),
            soap::fault(envelope, client, reason),
        )
    };
    if *req.method() != Method::POST {
        return method_not_allowed("POST");
    }
    let body = match read_body(req.into_body()).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let request = match soap::parse_request(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "Autodiscover SOAP request refused");
            return soap_fault(StatusCode::BAD_REQUEST, guess, true, &e.to_string());
        }
    };
    let envelope = request.envelope;
    let (users, settings) = match request.operation {
        Operation::GetUserSettings { users, settings } => (users, settings),
        Operation::Unsupported(name) => {
            tracing::debug!(operation = name, "Autodiscover SOAP operation not served");
            return soap_fault(
                StatusCode::BAD_REQUEST,
                envelope,
                true,
                &format!("{name} is not supported by this server; GetUserSettings is"),
            );
        }
    };
    let principal = match credentials.authenticate(Protocol::Web).await {
        Ok(p) => p,
        Err(rejection) => return rejection.into_response(),
    };
    let me = principal.user;
    let mut answers = Vec::with_capacity(users.len());
    for mailbox in users {
        // Only the caller's own mailbox, by any of its login names:
        // delegation is not served, and other addresses are not told apart.
        let answer = match d.services.directory.user_by_login(&mailbox).await {
            Ok(Some(found)) if found.id == me.id => match d.endpoints_of(&me).await {
                Ok(at) => UserAnswer::Settings(UserFacts {
                    address: me.username.clone(),
                    display_name: me.username.clone(),
                    at,
                }),
                Err(_) => {
                    return soap_fault(
                        StatusCode::SERVICE_UNAVAILABLE,
                        envelope,
                        false,
                        "the routing of this user is unavailable; try again later",
                    );
                }
            },
            Ok(_) | Err(DirectoryError::Ambiguous { .. }) => UserAnswer::InvalidUser,
            Err(e) => {
                tracing::warn!(error = %e, "Autodiscover SOAP: directory unavailable");
                return soap_fault(
                    StatusCode::SERVICE_UNAVAILABLE,
                    envelope,
                    false,
                    "the user directory is unavailable; try again later",
                );
            }
        };
        answers.push((mailbox, answer));
    }
    with_type(
        StatusCode::OK,
        envelope.content_type(),
        soap::get_user_settings_response(envelope, &answers, &settings),
    )
}

async fn json_answer(d: &Discovery, rest: &str, query: Option<&str>) -> Response {
    let request = match json::parse_request(rest, query) {
        Ok(r) => r,
        Err(e) => return with_type(StatusCode::BAD_REQUEST, JSON, json::error_answer(&e)),
    };
    match d.endpoints_for_address(&request.email).await {
        Ok(at) => with_type(StatusCode::OK, JSON, json::answer(request.protocol, &at)),
        Err(response) => response,
    }
}

async fn autoconfig_answer(d: &Discovery, query: Option<&str>) -> Response {
    let address = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("emailaddress"))
        .map(|(_, v)| v.trim().to_string());
    let Some((address, domain)) = address.as_deref().and_then(|a| {
        a.rsplit_once('@')
            .filter(|(local, domain)| !local.is_empty() && !domain.is_empty())
            .map(|(_, domain)| (a, domain))
    }) else {
        return (
            StatusCode::BAD_REQUEST,
            "the query parameter emailaddress must be an e-mail address\n",
        )
            .into_response();
    };
    let domain = match d.services.directory.domain_by_name(domain).await {
        Ok(Some(domain)) => domain,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such domain here\n").into_response(),
        Err(e) => return unavailable(&e.to_string()),
    };
    let at = match d.endpoints_for_address(address).await {
        Ok(at) => at,
        Err(response) => return response,
    };
    let display_name = if domain.title.is_empty() {
        domain.domainname.as_str()
    } else {
        domain.title.as_str()
    };
    let provider = Provider {
        domain: &domain.domainname,
        display_name,
    };
    with_type(
        StatusCode::OK,
        XML,
        autoconfig::config(&provider, &at, &d.settings().mail),
    )
}

#[cfg(test)]
mod tests;
