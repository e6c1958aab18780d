//! Every request's way through the server, whatever the module:
//!
//! 1. the client: the connection's address (after a PROXY header), then
//!    `Forwarded`/`X-Forwarded-For` hop by hop from trusted proxies;
//! 2. the request's extensions: [`ClientInfo`], [`RequestNote`], the
//!    [`AuthGate`];
//! 3. the body limits: the body is wrapped in a [`LimitedBody`];
//! 4. the module: the mount with the longest matching prefix; a declared
//!    length over `http_rqbody_max_size` is refused at once (413), one up
//!    to `http_rqbody_prefetch_size` is received whole first; a mount that
//!    declares a protocol gets only authenticated requests;
//! 5. gzip for clients that accept it (above `http_compress_min_size`);
//! 6. the access-log line and metrics when the response has been sent.

use crate::access::{Activity, Completion, LoggedBody};
use crate::forwarded;
use crate::metrics::Metrics;
use crate::settings::{ServerSettings, SettingsCell};
use axum::body::Body;
use axum::response::IntoResponse;
use groxide_directory::Protocol;
use groxide_http_core::auth::authenticate_parts;
use groxide_http_core::body::read_body;
use groxide_http_core::{
    AuthGate, BodyError, ClientInfo, LimitedBody, Mount, Prefix, RequestNote, Serve,
};
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode, Version};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};
use tower_http::compression::{Compression, CompressionBody, CompressionLayer, Predicate};

/// The module name of requests no mount serves.
const NO_MODULE: &str = "none";

/// One mounted module.
struct Mounted {
    name: &'static str,
    auth: Option<Protocol>,
    serve: Serve,
}

/// The mounts, found by the longest matching prefix.
pub struct MountTable {
    prefixes: Vec<(Prefix, usize)>,
    mounts: Vec<Mounted>,
}

impl std::fmt::Debug for MountTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.prefixes
                    .iter()
                    .map(|(p, i)| (p.path(), self.mounts[*i].name)),
            )
            .finish()
    }
}

impl MountTable {
    /// The table of `mounts`; two mounts claiming one prefix is an error.
    pub fn new(mounts: Vec<Mount>) -> Result<MountTable, String> {
        let mut prefixes: Vec<(Prefix, usize)> = Vec::new();
        let mut mounted = Vec::new();
        for (index, mount) in mounts.into_iter().enumerate() {
            for prefix in &mount.prefixes {
                if let Some((_, other)) = prefixes
                    .iter()
                    .find(|(p, _)| p.path().eq_ignore_ascii_case(prefix.path()))
                {
                    return Err(format!(
                        "modules {} and {} both claim {}",
                        mounted
                            .get(*other)
                            .map(|m: &Mounted| m.name)
                            .unwrap_or(mount.name),
                        mount.name,
                        prefix.path()
                    ));
                }
                prefixes.push((*prefix, index));
            }
            mounted.push(Mounted {
                name: mount.name,
                auth: mount.auth,
                serve: mount.serve,
            });
        }
        // Longest first, so the first match is the most specific.
        prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.path().len()));
        Ok(MountTable {
            prefixes,
            mounts: mounted,
        })
    }

    fn find(&self, path: &str) -> Option<&Mounted> {
        self.prefixes
            .iter()
            .find(|(p, _)| p.matches(path))
            .map(|(_, i)| &self.mounts[*i])
    }
}

/// What the server knows of one connection.
#[derive(Debug)]
pub struct ConnectionFacts {
    /// The TCP peer.
    pub peer: SocketAddr,
    /// The client the PROXY header named, else the peer's address.
    pub origin: IpAddr,
    /// TLS on this server.
    pub tls: bool,
    /// The connection's number.
    pub id: u64,
    /// Requests in flight and last activity.
    pub activity: Arc<Activity>,
}

/// gzip only where it pays: switched on, body large enough (when known),
/// not already compressed media, not event streams nor other responses
/// marked `Cache-Control: no-transform` (EWS GetStreamingEvents: gzip
/// would hold its envelopes back until enough bytes piled up).
#[derive(Clone)]
struct CompressPolicy(Arc<SettingsCell>);

impl Predicate for CompressPolicy {
    fn should_compress<B>(&self, response: &Response<B>) -> bool
    where
        B: http_body::Body,
    {
        let settings = self.0.get();
        if !settings.compress {
            return false;
        }
        let size = response.body().size_hint().exact().or_else(|| {
            response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
        });
        if size.is_some_and(|n| n < settings.compress_min_size) {
            return false;
        }
        let no_transform = response
            .headers()
            .get_all(http::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("no-transform"));
        if no_transform {
            return false;
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        !(content_type.starts_with("image/")
            || content_type.starts_with("video/")
            || content_type.starts_with("audio/")
            || content_type.starts_with("application/zip")
            || content_type.starts_with("application/gzip")
            || content_type.starts_with("text/event-stream"))
    }
}

/// Refuses bodies declared too large, finds the mount and authenticates for it.
#[derive(Clone)]
struct Router {
    table: Arc<MountTable>,
    settings: Arc<SettingsCell>,
}

impl Service<Request<Body>> for Router {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response<Body>, Infallible>> + Send>,
    >;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The steps before the module are boxed apart: while the module's
        // answer is awaited (a Ping waits for up to an hour) this future
        // holds only that answer, not the request or those steps' state.
        let admitted = Box::pin(route(self.table.clone(), self.settings.get(), req));
        Box::pin(async move {
            let answer = match admitted.await {
                Ok(answer) => answer,
                Err(refused) => return Ok(refused),
            };
            Ok(answer.await)
        })
    }
}

/// Everything before the module: the mount, the body limits, the
/// prefetch, authentication. `Ok`: the module's answer, to be awaited;
/// `Err`: the server's own answer.
async fn route(
    table: Arc<MountTable>,
    settings: Arc<ServerSettings>,
    req: Request<Body>,
) -> Result<groxide_http_core::Answer, Response<Body>> {
    let note = req.extensions().get::<Arc<RequestNote>>().cloned();
    let set_module = |name| {
        if let Some(note) = &note {
            note.set_module(name);
        }
    };
    if req.uri().path() == "/health" {
        set_module("health");
        return Err((StatusCode::OK, "ok\n").into_response());
    }
    let Some(mount) = table.find(req.uri().path()) else {
        set_module(NO_MODULE);
        return Err((StatusCode::NOT_FOUND, "not found\n").into_response());
    };
    set_module(mount.name);
    let declared: Option<u64> = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let max_size = settings.body.max_size;
    if declared.is_some_and(|n| n > max_size) {
        return Err(BodyError::TooLarge { limit: max_size }.into_response());
    }
    // A small body is taken whole now: answering before the client has
    // sent it (a 401) would reset a stream or connection it is still
    // writing to, and some clients then lose the answer.
    let req = if declared.is_some_and(|n| n > 0 && n <= settings.prefetch_size) {
        let (parts, body) = req.into_parts();
        match read_body(body).await {
            Ok(bytes) => Request::from_parts(parts, Body::from(bytes)),
            Err(e) => return Err(e.into_response()),
        }
    } else {
        req
    };
    let req = match mount.auth {
        Some(protocol) => {
            let (mut parts, body) = req.into_parts();
            authenticate_parts(&mut parts, protocol).await?;
            Request::from_parts(parts, body)
        }
        None => req,
    };
    Ok(mount.serve.call(req))
}

/// The response body type of the client-facing server.
pub type FrontBody = LoggedBody<CompressionBody<Body>>;

/// The client-facing request pipeline.
pub struct Front {
    service: Compression<Router, CompressPolicy>,
    gate: Arc<AuthGate>,
    metrics: Arc<Metrics>,
    settings: Arc<SettingsCell>,
}

impl std::fmt::Debug for Front {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Front").finish_non_exhaustive()
    }
}

impl Front {
    /// The pipeline over `table`.
    pub fn new(
        table: MountTable,
        gate: Arc<AuthGate>,
        metrics: Arc<Metrics>,
        settings: Arc<SettingsCell>,
    ) -> Front {
        let service = CompressionLayer::new()
            .compress_when(CompressPolicy(settings.clone()))
            .layer(Router {
                table: Arc::new(table),
                settings: settings.clone(),
            });
        Front {
            service,
            gate,
            metrics,
            settings,
        }
    }

    /// The server's settings.
    pub fn settings(&self) -> &Arc<SettingsCell> {
        &self.settings
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Answers one request of connection `conn`. The request is taken
    /// apart and handed to the pipeline before the returned future runs,
    /// so that future holds the pipeline's answer and the access-log
    /// record only (a Ping waits in it for up to an hour).
    pub fn handle<B>(
        &self,
        conn: &ConnectionFacts,
        req: Request<B>,
    ) -> impl Future<Output = Response<FrontBody>> + Send + use<B>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let settings = self.settings.get();
        let addr = forwarded::client_address(conn.origin, req.headers(), &settings.trusted_proxies);
        let client = ClientInfo {
            peer: conn.peer,
            addr,
            tls: conn.tls,
            via_trusted_proxy: settings.trusted_proxies.contains(conn.peer.ip()),
            connection: conn.id,
        };
        let note = RequestNote::new();
        self.metrics.request_started();
        conn.activity.started();
        let mut done = Completion {
            started,
            method: req.method().clone(),
            path: Completion::loggable_path(req.uri().path()),
            version: req.version(),
            client: addr,
            note: note.clone(),
            metrics: self.metrics.clone(),
            activity: conn.activity.clone(),
            status: 0,
            bytes: 0,
            complete: false,
        };
        let version = req.version();
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(client);
        parts.extensions.insert(note);
        parts.extensions.insert(self.gate.clone());
        let body = Body::new(LimitedBody::new(Body::new(body), settings.body));
        // Always ready (the router is); `call` starts the pipeline now.
        let answer = self.service.clone().call(Request::from_parts(parts, body));
        async move {
            let mut response = match answer.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let status = response.status();
            // An unread body cannot be skipped on HTTP/1: close after the answer.
            if matches!(
                status,
                StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
            ) && matches!(version, Version::HTTP_10 | Version::HTTP_11)
            {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            done.status = status.as_u16();
            response.map(|body| LoggedBody::new(body, done))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ServerSettings;
    use groxide_config::{Config, Http};
    use groxide_directory::{AddressStatus, DomainId, PrivilegeBits, ServerId, User, UserId};
    use groxide_http_core::auth::{AuthFuture, AuthScheme, Denial, Verdict};
    use groxide_http_core::{Principal, RequestBody};
    use http_body_util::{BodyExt, Full};

    /// A scheme of its own, to show that modules never see which one
    /// authenticated: `Token good` is alice, with DAV only.
    struct Token;

    impl AuthScheme for Token {
        fn name(&self) -> &'static str {
            "Token"
        }

        fn challenge(&self, _: &ClientInfo) -> Option<HeaderValue> {
            Some(HeaderValue::from_static("Token realm=\"test\""))
        }

        fn authenticate<'a>(
            &'a self,
            authorization: &'a HeaderValue,
            _: &'a ClientInfo,
            protocol: Protocol,
        ) -> AuthFuture<'a> {
            let good = authorization.as_bytes() == b"Token good";
            Box::pin(async move {
                if !good {
                    return Verdict::Denied(Denial::BadCredentials);
                }
                if protocol != Protocol::Dav {
                    return Verdict::Denied(Denial::NotPermitted(protocol));
                }
                Verdict::Granted(Principal {
                    user: Arc::new(User {
                        id: UserId(7),
                        username: "alice@example.test".into(),
                        domain_id: DomainId(1),
                        maildir: "/data/alice".into(),
                        homeserver: ServerId::ANY,
                        address_status: AddressStatus::NORMAL,
                        privilege_bits: PrivilegeBits::DAV,
                        lang: String::new(),
                        timezone: String::new(),
                    }),
                    scheme: "Token",
                })
            })
        }
    }

    async fn whoami(principal: Principal, RequestBody(body): RequestBody) -> String {
        format!(
            "{} {} {}",
            principal.user.username,
            principal.scheme,
            body.len()
        )
    }

    fn front(text: &str) -> Front {
        let config =
            Config::<Http>::from_str_for_tests(std::path::Path::new("/etc/groxide"), "", text)
                .unwrap()
                .0;
        let mounts = vec![
            Mount {
                name: "dav",
                prefixes: vec![Prefix::exact("/dav")],
                auth: Some(Protocol::Dav),
                serve: Serve::Router(axum::Router::new().fallback(whoami)),
            },
            Mount {
                name: "eas",
                prefixes: vec![Prefix::exact("/eas")],
                auth: Some(Protocol::ActiveSync),
                serve: Serve::Router(axum::Router::new().fallback(whoami)),
            },
        ];
        Front::new(
            MountTable::new(mounts).unwrap(),
            Arc::new(AuthGate::new(vec![Arc::new(Token)])),
            Arc::new(Metrics::default()),
            Arc::new(SettingsCell::new(ServerSettings::from_config(&config))),
        )
    }

    async fn ask(
        front: &Front,
        path: &str,
        auth: Option<&'static str>,
        body: &str,
    ) -> (u16, String, Option<String>) {
        let conn = ConnectionFacts {
            peer: "192.0.2.1:4000".parse().unwrap(),
            origin: "192.0.2.1".parse().unwrap(),
            tls: true,
            id: 1,
            activity: Arc::new(Activity::default()),
        };
        let mut req = Request::builder()
            .method("PUT")
            .uri(path)
            .header(CONTENT_LENGTH, body.len());
        if let Some(a) = auth {
            req = req.header(http::header::AUTHORIZATION, a);
        }
        let req = req
            .body(Full::new(bytes::Bytes::from(body.to_string())))
            .unwrap();
        let response = front.handle(&conn, req).await;
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get(http::header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_string());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            String::from_utf8_lossy(&body).into_owned(),
            challenge,
        )
    }

    #[tokio::test]
    async fn a_mount_with_a_protocol_gets_only_requests_authenticated_for_it() {
        let f = front("http_rqbody_max_size = 100\n");
        let (status, _, challenge) = ask(&f, "/dav/x", None, "").await;
        assert_eq!(
            (status, challenge.as_deref()),
            (401, Some("Token realm=\"test\""))
        );
        let (status, _, _) = ask(&f, "/dav/x", Some("Token bad"), "").await;
        assert_eq!(status, 401);
        let (status, _, _) = ask(&f, "/dav/x", Some("Basic YTpi"), "").await;
        assert_eq!(status, 401, "a scheme no one offers is not accepted");
        let (status, body, _) = ask(&f, "/dav/x", Some("Token good"), "12345").await;
        assert_eq!((status, body.as_str()), (200, "alice@example.test Token 5"));
        // The same user, another protocol without its privilege bit.
        let (status, _, _) = ask(&f, "/eas/x", Some("Token good"), "").await;
        assert_eq!(status, 403);
        // A declared body over the limit is refused before authentication.
        let (status, _, _) = ask(&f, "/dav/x", None, &"x".repeat(101)).await;
        assert_eq!(status, 413);
        let (status, _, _) = ask(&f, "/elsewhere", Some("Token good"), "").await;
        assert_eq!(status, 404);
    }

    /// A request that waits long (ActiveSync's Ping) holds the front's
    /// futures for as long: the handling one and the routing one must stay
    /// a few hundred bytes, not carry the reading, authenticating or
    /// routing steps' state (boxed in `route`).
    #[tokio::test]
    async fn the_fronts_futures_stay_small_while_a_module_answers() {
        let f = front("");
        let conn = ConnectionFacts {
            peer: "192.0.2.1:4000".parse().unwrap(),
            origin: "192.0.2.1".parse().unwrap(),
            tls: false,
            id: 1,
            activity: Arc::new(Activity::default()),
        };
        let handling = std::mem::size_of_val(&f.handle(&conn, Request::new(Body::empty())));
        let mut router = Router {
            table: Arc::new(MountTable::new(vec![]).unwrap()),
            settings: f.settings.clone(),
        };
        let routing = std::mem::size_of_val(&*router.call(Request::new(Body::empty())));
        eprintln!("handle {handling} route {routing}");
        assert!(
            handling <= 320,
            "the handling future takes {handling} bytes"
        );
        assert!(routing <= 64, "the routing future takes {routing} bytes");
    }

    fn mount(name: &'static str, prefixes: Vec<Prefix>) -> Mount {
        Mount {
            name,
            prefixes,
            auth: None,
            serve: Serve::Router(axum::Router::new()),
        }
    }

    #[test]
    fn the_longest_matching_prefix_wins_and_case_follows_the_prefix() {
        let table = MountTable::new(vec![
            mount(
                "discovery",
                vec![
                    Prefix::exact("/.well-known/caldav"),
                    Prefix::ignore_case("/autodiscover"),
                ],
            ),
            mount(
                "dav",
                vec![Prefix::exact("/dav"), Prefix::exact("/.well-known")],
            ),
            mount(
                "eas",
                vec![Prefix::ignore_case("/Microsoft-Server-ActiveSync")],
            ),
        ])
        .unwrap();
        let table_rows = [
            ("/.well-known/caldav", Some("discovery")),
            ("/.well-known/carddav", Some("dav")),
            ("/dav/calendars/x", Some("dav")),
            ("/AutoDiscover/AutoDiscover.xml", Some("discovery")),
            ("/microsoft-server-activesync", Some("eas")),
            ("/davx", None),
            ("/", None),
        ];
        for (path, want) in table_rows {
            assert_eq!(table.find(path).map(|m| m.name), want, "{path}");
        }
    }

    #[test]
    fn two_modules_claiming_one_prefix_do_not_start() {
        let err = MountTable::new(vec![
            mount("discovery", vec![Prefix::ignore_case("/autodiscover")]),
            mount("eas", vec![Prefix::exact("/Autodiscover")]),
        ])
        .unwrap_err();
        assert_eq!(err, "modules discovery and eas both claim /Autodiscover");
    }
}
