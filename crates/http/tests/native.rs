//! The native path of ActiveSync (`groxide_http::native`) over real
//! loopback TCP, through `connection::serve` and the real `Front`
//! (limits, authentication, access log, metrics): a stand-in ActiveSync
//! module holds each Ping (and each Sync with `<Wait>`) until the test
//! releases it, so what the connection does while a request waits can be
//! observed, and streams ItemOperations answers of any size piece by
//! piece, counting what it produced. Answers are compared with hyper's
//! for the same request (sent with a chunked body, which only hyper
//! takes), and every other kind of request, HTTP/2 and malformed input
//! must behave as hyper makes them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use groxide_config::{Config, Http};
use groxide_directory::{AddressStatus, DomainId, PrivilegeBits, Protocol, ServerId, User, UserId};
use groxide_http::connection;
use groxide_http::front::{Front, MountTable};
use groxide_http::metrics::Metrics;
use groxide_http::settings::{ServerSettings, SettingsCell};
use groxide_http_core::auth::{AuthFuture, AuthScheme, Denial, Verdict};
use groxide_http_core::{AuthGate, ClientInfo, Mount, Prefix, Principal, Serve};
use http::HeaderValue;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

const PING: &str =
    "/Microsoft-Server-ActiveSync?Cmd=Ping&User=demo&DeviceId=phone1&DeviceType=test";
const SYNC: &str =
    "/Microsoft-Server-ActiveSync?Cmd=Sync&User=demo&DeviceId=phone1&DeviceType=test";
/// A Ping answer's WBXML (Ping, Status 1).
const ANSWER: &[u8] = &[
    0x03, 0x01, 0x6a, 0x00, 0x00, 0x0d, 0x45, 0x47, 0x03, b'1', 0x00, 0x01, 0x01,
];

/// `Token good` is demo, with ActiveSync.
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
        _: Protocol,
    ) -> AuthFuture<'a> {
        let good = authorization.as_bytes() == b"Token good";
        Box::pin(async move {
            if !good {
                return Verdict::Denied(Denial::BadCredentials);
            }
            Verdict::Granted(Principal {
                user: Arc::new(User {
                    id: UserId(7),
                    username: "demo@example.test".into(),
                    domain_id: DomainId(1),
                    maildir: "/data/demo".into(),
                    homeserver: ServerId::ANY,
                    address_status: AddressStatus::NORMAL,
                    privilege_bits: PrivilegeBits::EAS,
                    lang: String::new(),
                    timezone: String::new(),
                }),
                scheme: "Token",
            })
        })
    }
}

/// The stand-in ActiveSync module: a Ping, or a Sync whose body has
/// `<Wait>`, waits for a permit of `release`; ItemOperations answers
/// `Size=N` pieces of 1 MiB (piece `i` is all byte `i`) from a task that
/// makes each only when the last was taken, with a `Content-Length`
/// unless `Framing=chunked`; other commands answer at once.
struct Module {
    release: Semaphore,
    /// Requests that started waiting.
    started: AtomicUsize,
    /// Requests waiting now (their handler not yet ended or dropped).
    waiting: AtomicUsize,
    /// Download pieces made so far.
    produced: AtomicUsize,
    /// Download tasks still running.
    downloads: AtomicUsize,
}

struct Waiting<'a>(&'a Module);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Downloading(Arc<Module>);

impl Drop for Downloading {
    fn drop(&mut self) {
        self.0.downloads.fetch_sub(1, Ordering::SeqCst);
    }
}

const PIECE: usize = 1 << 20;

/// A response body fed by a channel.
struct Pieces(tokio::sync::mpsc::Receiver<bytes::Bytes>);

impl http_body::Body for Pieces {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|piece| piece.map(|p| Ok(http_body::Frame::data(p))))
    }
}

fn download(module: &Arc<Module>, query: &str) -> Response {
    let size: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("Size="))
        .unwrap_or("0")
        .parse()
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    module.downloads.fetch_add(1, Ordering::SeqCst);
    let guard = Downloading(module.clone());
    tokio::spawn(async move {
        for i in 0..size {
            let piece = bytes::Bytes::from(vec![i as u8; PIECE]);
            if tx.send(piece).await.is_err() {
                break;
            }
            guard.0.produced.fetch_add(1, Ordering::SeqCst);
        }
        drop(guard);
    });
    let mut response = axum::body::Body::new(Pieces(rx)).into_response();
    if !query.contains("Framing=chunked") {
        response.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            HeaderValue::from(size * PIECE),
        );
    }
    response
}

async fn active_sync(State(module): State<Arc<Module>>, request: Request) -> Response {
    let user = request
        .extensions()
        .get::<Principal>()
        .map(|p| p.user.username.clone())
        .unwrap_or_default();
    if request.method() == http::Method::OPTIONS {
        return (http::StatusCode::OK, [("MS-ASProtocolVersions", "14.1")]).into_response();
    }
    let query = request.uri().query().unwrap_or("").to_string();
    let command = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("Cmd="))
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(request.into_body(), 64 << 20)
        .await
        .unwrap();
    if command == "ItemOperations" {
        return download(&module, &query);
    }
    let waits = command == "Ping" || (command == "Sync" && body.windows(6).any(|w| w == b"<Wait>"));
    if !waits {
        return format!("{command} for {user}, {} bytes", body.len()).into_response();
    }
    module.started.fetch_add(1, Ordering::SeqCst);
    module.waiting.fetch_add(1, Ordering::SeqCst);
    let _waiting = Waiting(&module);
    module.release.acquire().await.unwrap().forget();
    let mut answer = ANSWER.to_vec();
    answer.extend_from_slice(&body);
    (
        [
            (http::header::CONTENT_TYPE, "application/vnd.ms-sync.wbxml"),
            (
                http::HeaderName::from_static("ms-server-activesync"),
                "16.1",
            ),
        ],
        answer,
    )
        .into_response()
}

struct Server {
    addr: std::net::SocketAddr,
    module: Arc<Module>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    front: Arc<Front>,
}

impl Server {
    async fn start(config: &str) -> Server {
        Server::start_with(config, None).await
    }

    /// A server with a self-signed certificate for `localhost` (ALPN `h2`
    /// and `http/1.1`, as the daemon offers them), and a client config
    /// that trusts it.
    async fn start_tls() -> (Server, rustls::ClientConfig) {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = ck.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server_cfg = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        server_cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client_cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_cfg));
        (Server::start_with("", Some(acceptor)).await, client_cfg)
    }

    async fn start_with(config: &str, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        let config =
            Config::<Http>::from_str_for_tests(std::path::Path::new("/etc/groxide"), "", config)
                .unwrap()
                .0;
        let module = Arc::new(Module {
            release: Semaphore::new(0),
            started: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            produced: AtomicUsize::new(0),
            downloads: AtomicUsize::new(0),
        });
        let mounts = vec![
            Mount {
                name: "eas",
                prefixes: vec![Prefix::ignore_case("/Microsoft-Server-ActiveSync")],
                auth: Some(Protocol::ActiveSync),
                serve: Serve::Router(
                    axum::Router::new()
                        .fallback(active_sync)
                        .with_state(module.clone()),
                ),
            },
            Mount {
                name: "page",
                prefixes: vec![Prefix::exact("/page")],
                auth: None,
                serve: Serve::Router(axum::Router::new().fallback(|| async { "a page\n" })),
            },
        ];
        let metrics = Arc::new(Metrics::default());
        let front = Arc::new(Front::new(
            MountTable::new(mounts).unwrap(),
            Arc::new(AuthGate::new(vec![Arc::new(Token)])),
            metrics.clone(),
            Arc::new(SettingsCell::new(ServerSettings::from_config(&config))),
        ));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let (f, s) = (front.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut id = 0;
            while let Ok((stream, peer)) = listener.accept().await {
                id += 1;
                tokio::spawn(connection::serve(
                    f.clone(),
                    stream,
                    peer,
                    tls.clone(),
                    id,
                    s.clone(),
                ));
            }
        });
        Server {
            addr,
            module,
            metrics,
            shutdown,
            front,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    /// Waits until `n` Pings wait in the module.
    async fn pings_waiting(&self, n: usize) {
        eventually(|| self.module.waiting.load(Ordering::SeqCst) == n).await;
    }

    fn release(&self, n: usize) {
        self.module.release.add_permits(n);
    }
}

async fn eventually(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "not reached within 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ping_request(extra: &str, body: &str) -> String {
    format!(
        "POST {PING} HTTP/1.1\r\nHost: test\r\nAuthorization: Token good\r\n\
         MS-ASProtocolVersion: 14.1\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A request of `command` with `body` (`OPTIONS` for "OPTIONS"), as a
/// phone sends it.
fn request(command: &str, body: &str) -> String {
    if command == "OPTIONS" {
        return "OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\nHost: test\r\n\
                Authorization: Token good\r\n\r\n"
            .into();
    }
    ping_request("", body).replace("Cmd=Ping", &format!("Cmd={command}"))
}

/// `request` with its body sent chunked: a request only hyper takes.
fn by_hyper(request: &str) -> String {
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    let head: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:"))
        .collect();
    let chunk = if body.is_empty() {
        String::new()
    } else {
        format!("{:x}\r\n{body}\r\n", body.len())
    };
    format!(
        "{}\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}0\r\n\r\n",
        head.join("\r\n")
    )
}

/// The headers of an answer without `Date`, sorted.
fn without_date(h: &[(String, String)]) -> Vec<(String, String)> {
    let mut h: Vec<_> = h.iter().filter(|(n, _)| n != "date").cloned().collect();
    h.sort();
    h
}

#[derive(Debug)]
struct Answer {
    status: u16,
    /// Lower-case names, in the order sent.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one answer (by Content-Length or chunked); `None` at end of stream.
async fn read_answer(stream: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) -> Option<Answer> {
    loop {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut slots);
        if let httparse::Status::Complete(len) = parsed.parse(buf).unwrap() {
            let status = parsed.code.unwrap();
            let headers: Vec<(String, String)> = parsed
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            buf.drain(..len);
            let mut answer = Answer {
                status,
                headers,
                body: Vec::new(),
            };
            if answer.header("transfer-encoding") == Some("chunked") {
                loop {
                    let line_end = loop {
                        if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                            break i;
                        }
                        fill(stream, buf).await;
                    };
                    let size =
                        usize::from_str_radix(std::str::from_utf8(&buf[..line_end]).unwrap(), 16)
                            .unwrap();
                    while buf.len() < line_end + 2 + size + 2 {
                        fill(stream, buf).await;
                    }
                    answer
                        .body
                        .extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
                    buf.drain(..line_end + 2 + size + 2);
                    if size == 0 {
                        return Some(answer);
                    }
                }
            }
            let length: usize = answer.header("content-length").unwrap().parse().unwrap();
            while buf.len() < length {
                fill(stream, buf).await;
            }
            answer.body = buf.drain(..length).collect();
            return Some(answer);
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("an answer within 5 s")
            .unwrap_or(0);
        if n == 0 {
            assert!(buf.is_empty(), "the stream ended within an answer");
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn fill(stream: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await.unwrap();
    assert!(n > 0, "the stream ended within an answer");
    buf.extend_from_slice(&chunk[..n]);
}

/// Sends `request` on a new connection and reads one answer.
async fn ask(server: &Server, request: &str) -> Answer {
    let mut s = server.connect().await;
    s.write_all(request.as_bytes()).await.unwrap();
    read_answer(&mut s, &mut Vec::new()).await.unwrap()
}

/// Whether the server closes `stream` (no further bytes) within 5 s.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn a_native_ping_gets_the_answer_hyper_gives() {
    let server = Server::start("").await;
    let mut native = server.connect().await;
    native
        .write_all(ping_request("", "wbxml-body").as_bytes())
        .await
        .unwrap();
    server.pings_waiting(1).await;
    assert_eq!(server.metrics.native_requests(), 1);
    // The same request with a chunked body is hyper's.
    let mut by_hyper = server.connect().await;
    let chunked = ping_request("Transfer-Encoding: chunked\r\n", "")
        .replace("Content-Length: 0\r\n", "")
        + "a\r\nwbxml-body\r\n0\r\n\r\n";
    by_hyper.write_all(chunked.as_bytes()).await.unwrap();
    server.pings_waiting(2).await;
    assert_eq!(
        server.metrics.native_requests(),
        1,
        "hyper took the chunked one"
    );
    server.release(2);
    let a = read_answer(&mut native, &mut Vec::new()).await.unwrap();
    let b = read_answer(&mut by_hyper, &mut Vec::new()).await.unwrap();
    let mut wanted = ANSWER.to_vec();
    wanted.extend_from_slice(b"wbxml-body");
    assert_eq!((a.status, &a.body), (200, &wanted));
    assert_eq!(without_date(&a.headers), without_date(&b.headers));
    assert_eq!((b.status, &b.body), (200, &wanted));
    assert_eq!(
        a.header("content-type"),
        Some("application/vnd.ms-sync.wbxml")
    );
    assert_eq!(a.header("ms-server-activesync"), Some("16.1"));
    let date = a.header("date").expect("a Date header, as hyper sends");
    assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
    // The access log and metrics saw it as any request.
    assert_eq!(server.metrics.count("eas", 200), 2);
}

#[tokio::test]
async fn an_unauthenticated_ping_is_challenged_and_the_connection_stays_open() {
    let server = Server::start("").await;
    let mut s = server.connect().await;
    let anonymous = ping_request("", "x").replace("Authorization: Token good\r\n", "");
    s.write_all(anonymous.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let a = read_answer(&mut s, &mut buf).await.unwrap();
    assert_eq!(a.status, 401);
    assert_eq!(a.header("www-authenticate"), Some("Token realm=\"test\""));
    assert_eq!(server.metrics.native_requests(), 1);
    s.write_all(ping_request("", "").as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    server.release(1);
    let a = read_answer(&mut s, &mut buf).await.unwrap();
    assert_eq!((a.status, a.body.as_slice()), (200, ANSWER));
    assert_eq!(server.metrics.native_requests(), 2);
}

#[tokio::test]
async fn other_paths_chunked_bodies_and_http2_are_served_by_hyper_as_before() {
    let server = Server::start("").await;
    let page = ask(&server, "GET /page HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!((page.status, page.body.as_slice()), (200, &b"a page\n"[..]));
    let sync = ask(&server, &by_hyper(&request("Sync", "abc"))).await;
    assert_eq!(sync.body, b"Sync for demo@example.test, 3 bytes");
    assert_eq!(server.metrics.native_requests(), 0);
    // HTTP/2 with prior knowledge: the server's first frame is SETTINGS.
    let mut h2 = server.connect().await;
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut frame = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(5), h2.read_exact(&mut frame))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frame[3], 0x04, "a SETTINGS frame: {frame:?}");
}

#[tokio::test]
async fn pings_over_tls_take_the_native_path_unless_alpn_chose_h2() {
    let (server, client_cfg) = Server::start_tls().await;
    let connect = |alpn: &[u8]| {
        let mut cfg = client_cfg.clone();
        cfg.alpn_protocols = vec![alpn.to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
        let addr = server.addr;
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            connector.connect(name, tcp).await.unwrap()
        }
    };
    let mut s = connect(b"http/1.1").await;
    s.write_all(ping_request("", "tls").as_bytes())
        .await
        .unwrap();
    s.flush().await.unwrap();
    server.pings_waiting(1).await;
    server.release(1);
    let a = read_answer(&mut s, &mut Vec::new()).await.unwrap();
    assert_eq!((a.status, &a.body[ANSWER.len()..]), (200, &b"tls"[..]));
    assert_eq!(server.metrics.native_requests(), 1);
    let mut h2 = connect(b"h2").await;
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    h2.flush().await.unwrap();
    let mut frame = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(5), h2.read_exact(&mut frame))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frame[3], 0x04, "a SETTINGS frame: {frame:?}");
    assert_eq!(server.metrics.native_requests(), 1);
}

#[tokio::test]
async fn a_connection_handed_to_hyper_stays_with_hyper() {
    let server = Server::start("").await;
    let mut s = server.connect().await;
    let mut buf = Vec::new();
    s.write_all(ping_request("", "").as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    server.release(1);
    assert_eq!(read_answer(&mut s, &mut buf).await.unwrap().status, 200);
    // A chunked Sync is hyper's: it has the connection now, and serves a
    // Ping too.
    s.write_all(by_hyper(&request("Sync", "ab")).as_bytes())
        .await
        .unwrap();
    let a = read_answer(&mut s, &mut buf).await.unwrap();
    assert_eq!(a.body, b"Sync for demo@example.test, 2 bytes");
    s.write_all(ping_request("", "").as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    server.release(1);
    assert_eq!(read_answer(&mut s, &mut buf).await.unwrap().status, 200);
    assert_eq!(server.metrics.native_requests(), 1);
}

#[tokio::test]
async fn a_request_pipelined_behind_a_waiting_ping_is_answered_after_it() {
    let server = Server::start("").await;
    let mut s = server.connect().await;
    s.write_all(ping_request("", "p").as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    let sync = ping_request("", "abcd").replace(PING, SYNC);
    s.write_all(sync.as_bytes()).await.unwrap();
    // The Sync is not answered before the Ping.
    let mut early = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(200), s.read(&mut early))
            .await
            .is_err()
    );
    server.release(1);
    let mut buf = Vec::new();
    let first = read_answer(&mut s, &mut buf).await.unwrap();
    assert_eq!(first.body[ANSWER.len()..], *b"p");
    let second = read_answer(&mut s, &mut buf).await.unwrap();
    assert_eq!(second.body, b"Sync for demo@example.test, 4 bytes");
}

#[tokio::test]
async fn a_client_that_leaves_ends_its_waiting_ping() {
    let server = Server::start("").await;
    let mut s = server.connect().await;
    s.write_all(ping_request("", "").as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    drop(s);
    server.pings_waiting(0).await;
    assert_eq!(server.module.started.load(Ordering::SeqCst), 1);
    // The request ended for the metrics too.
    assert!(
        server
            .metrics
            .render()
            .lines()
            .any(|l| l == "groxide_http_requests_in_flight 0")
    );
}

#[tokio::test]
async fn shutdown_lets_a_waiting_ping_finish_then_closes() {
    let server = Server::start("").await;
    let mut s = server.connect().await;
    s.write_all(ping_request("", "").as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    server.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.module.waiting.load(Ordering::SeqCst), 1);
    server.release(1);
    let a = read_answer(&mut s, &mut Vec::new()).await.unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(a.header("connection"), Some("close"));
    assert!(closed(&mut s).await);
}

#[tokio::test]
async fn http_1_0_pings_close_unless_kept_alive() {
    let server = Server::start("").await;
    let old = ping_request("", "").replace("HTTP/1.1", "HTTP/1.0");
    let mut s = server.connect().await;
    s.write_all(old.as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    server.release(1);
    let a = read_answer(&mut s, &mut Vec::new()).await.unwrap();
    assert_eq!(a.status, 200);
    assert!(closed(&mut s).await);
    let kept = ping_request("Connection: keep-alive\r\n", "").replace("HTTP/1.1", "HTTP/1.0");
    let mut s = server.connect().await;
    let mut buf = Vec::new();
    for _ in 0..2 {
        s.write_all(kept.as_bytes()).await.unwrap();
        server.pings_waiting(1).await;
        server.release(1);
        let a = read_answer(&mut s, &mut buf).await.unwrap();
        assert_eq!(a.header("connection"), Some("keep-alive"));
    }
    assert_eq!(server.metrics.native_requests(), 3);
}

#[tokio::test]
async fn malformed_heads_get_hypers_answers_or_a_clean_close() {
    let server = Server::start("http_max_header_size = 8K\nhttp_header_timeout = 1s\n").await;
    let bad_line = ask(
        &server,
        "POST /Microsoft-Server-ActiveSync?Cmd=Ping HTTP/9\r\n\r\n",
    )
    .await;
    assert_eq!(bad_line.status, 400);
    let big = ping_request(&format!("X-Pad: {}\r\n", "a".repeat(16 * 1024)), "");
    let mut s = server.connect().await;
    // The server may answer and close before it has read everything.
    let _ = s.write_all(big.as_bytes()).await;
    let a = read_answer(&mut s, &mut Vec::new()).await.unwrap();
    assert_eq!(a.status, 431);
    let bad_length = ping_request("", "").replace("Content-Length: 0", "Content-Length: 1x");
    assert_eq!(ask(&server, &bad_length).await.status, 400);
    // A body shorter than announced, then the end of the stream.
    let short = ping_request("", "0123456789");
    let mut s = server.connect().await;
    s.write_all(&short.as_bytes()[..short.len() - 4])
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    assert!(closed(&mut s).await);
    // A head that never ends: closed after http_header_timeout.
    let mut s = server.connect().await;
    s.write_all(b"POST /Microsoft-Server-ActiveSync?Cmd=Ping")
        .await
        .unwrap();
    assert!(closed(&mut s).await);
    assert_eq!(server.module.started.load(Ordering::SeqCst), 0);
    assert_eq!(server.metrics.native_requests(), 0);
}

#[tokio::test]
async fn an_active_sync_session_stays_native_and_every_answer_is_hypers() {
    let server = Server::start("").await;
    let mut phone = server.connect().await;
    let mut buf = Vec::new();
    let steps = [
        ("OPTIONS", ""),
        ("Provision", "<Provision/>"),
        ("FolderSync", "<FolderSync>0</FolderSync>"),
        ("Sync", "<Sync>1</Sync>"),
        ("Ping", "<Ping/>"),
        ("Sync", "<Sync>2</Sync>"),
    ];
    for (i, (command, body)) in steps.into_iter().enumerate() {
        let native = request(command, body);
        let mut hyper = server.connect().await;
        phone.write_all(native.as_bytes()).await.unwrap();
        hyper.write_all(by_hyper(&native).as_bytes()).await.unwrap();
        if command == "Ping" {
            server.pings_waiting(2).await;
            server.release(2);
        }
        let a = read_answer(&mut phone, &mut buf).await.unwrap();
        let b = read_answer(&mut hyper, &mut Vec::new()).await.unwrap();
        assert_eq!(a.status, 200, "{command}: {a:?}");
        assert_eq!(
            (a.status, without_date(&a.headers), &a.body),
            (b.status, without_date(&b.headers), &b.body),
            "{command}: native and hyper answers differ"
        );
        assert_eq!(
            server.metrics.native_requests(),
            i as u64 + 1,
            "{command} was not read natively"
        );
    }
    assert_eq!(server.metrics.count("eas", 200), 12);
}

#[tokio::test]
async fn a_sync_that_waits_is_held_natively_and_ends_when_the_client_leaves() {
    let server = Server::start("").await;
    let mut s = server.connect().await;
    let waiting_sync = request("Sync", "<Sync><Wait>5</Wait></Sync>");
    s.write_all(waiting_sync.as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    assert_eq!(server.metrics.native_requests(), 1);
    server.release(1);
    let mut buf = Vec::new();
    let a = read_answer(&mut s, &mut buf).await.unwrap();
    assert_eq!(a.body[ANSWER.len()..], *b"<Sync><Wait>5</Wait></Sync>");
    s.write_all(waiting_sync.as_bytes()).await.unwrap();
    server.pings_waiting(1).await;
    assert_eq!(server.metrics.native_requests(), 2);
    drop(s);
    server.pings_waiting(0).await;
    eventually(|| {
        server
            .metrics
            .render()
            .lines()
            .any(|l| l == "groxide_http_requests_in_flight 0")
    })
    .await;
}

#[tokio::test]
async fn a_body_above_the_prefetch_size_is_streamed_natively_and_one_over_the_limit_is_hypers() {
    let server = Server::start("http_rqbody_max_size = 4M\n").await;
    let (mut r, mut w) = server.connect().await.into_split();
    // A Ping pipelined right behind the body is read as the next request.
    let both = request("Sync", &"x".repeat(3 << 20)) + &ping_request("", "next");
    let writer = tokio::spawn(async move {
        w.write_all(both.as_bytes()).await.unwrap();
        w
    });
    let mut buf = Vec::new();
    let a = read_answer(&mut r, &mut buf).await.unwrap();
    assert_eq!(a.body, b"Sync for demo@example.test, 3145728 bytes");
    server.pings_waiting(1).await;
    server.release(1);
    let a = read_answer(&mut r, &mut buf).await.unwrap();
    assert_eq!(a.body[ANSWER.len()..], *b"next");
    assert_eq!(server.metrics.native_requests(), 2);
    drop(writer.await.unwrap());
    // Declared over http_rqbody_max_size: hyper's 413, and the close.
    let over = request("Sync", "").replace("Content-Length: 0", "Content-Length: 5000000");
    let mut s = server.connect().await;
    s.write_all(over.as_bytes()).await.unwrap();
    let a = read_answer(&mut s, &mut Vec::new()).await.unwrap();
    assert_eq!(a.status, 413);
    assert!(closed(&mut s).await);
    assert_eq!(server.metrics.native_requests(), 2);
}

#[tokio::test]
async fn an_anonymous_streamed_body_is_refused_before_it_is_read_and_the_connection_closes() {
    let server = Server::start("").await;
    let mut s = server.connect().await;
    let anonymous =
        request("SendMail", &"x".repeat(1 << 20)).replace("Authorization: Token good\r\n", "");
    let head = anonymous.find("\r\n\r\n").unwrap() + 4;
    // The head and the first 20 KB of a 1 MiB body; the rest never comes.
    s.write_all(&anonymous.as_bytes()[..head + 20_000])
        .await
        .unwrap();
    let a = read_answer(&mut s, &mut Vec::new()).await.unwrap();
    assert_eq!(a.status, 401);
    assert_eq!(a.header("connection"), Some("close"));
    assert!(closed(&mut s).await);
    assert_eq!(server.metrics.native_requests(), 1);
}

/// `value` once it has stayed the same for 300 ms.
async fn settled(value: impl Fn() -> usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = value();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = value();
        if now == last {
            return now;
        }
        assert!(Instant::now() < deadline, "still changing after 10 s");
        last = now;
    }
}

fn download_request(pieces: usize, framing: &str) -> String {
    request(
        "ItemOperations",
        "<ItemOperations><Fetch/></ItemOperations>",
    )
    .replace(
        "Cmd=ItemOperations",
        &format!("Cmd=ItemOperations&Size={pieces}&Framing={framing}"),
    )
}

#[tokio::test]
async fn a_multi_megabyte_download_is_streamed_as_the_client_reads_and_arrives_intact() {
    const PIECES: usize = 32;
    for framing in ["length", "chunked"] {
        let server = Server::start("").await;
        let mut s = server.connect().await;
        s.write_all(download_request(PIECES, framing).as_bytes())
            .await
            .unwrap();
        // The client reads nothing yet: pieces are made only as the socket
        // takes them (its buffers hold a few MiB), not all up front.
        let made = settled(|| server.module.produced.load(Ordering::SeqCst)).await;
        assert!(
            made < PIECES / 2,
            "{framing}: {made} of {PIECES} pieces made before the client read"
        );
        let a = read_answer(&mut s, &mut Vec::new()).await.unwrap();
        assert_eq!(a.status, 200);
        assert_eq!(a.body.len(), PIECES * PIECE, "{framing}");
        for (i, piece) in a.body.chunks(PIECE).enumerate() {
            assert!(piece.iter().all(|&b| b == i as u8), "{framing}: piece {i}");
        }
        match framing {
            "length" => assert_eq!(a.header("content-length"), Some("33554432")),
            _ => assert_eq!(a.header("transfer-encoding"), Some("chunked")),
        }
        assert_eq!(server.metrics.native_requests(), 1);
        // hyper frames the same answer the same way.
        let small = download_request(2, framing);
        let native = ask(&server, &small).await;
        let hyper = ask(&server, &by_hyper(&small)).await;
        assert_eq!(
            (without_date(&native.headers), native.body),
            (without_date(&hyper.headers), hyper.body),
            "{framing}"
        );
    }
}

#[tokio::test]
async fn a_client_that_leaves_mid_download_ends_the_request_and_its_task() {
    let server = Server::start("").await;
    let mut s = server.connect().await;
    s.write_all(download_request(48, "length").as_bytes())
        .await
        .unwrap();
    let mut got = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    while got < 2 * PIECE {
        got += s.read(&mut chunk).await.unwrap();
    }
    drop(s);
    eventually(|| server.module.downloads.load(Ordering::SeqCst) == 0).await;
    eventually(|| {
        server
            .metrics
            .render()
            .lines()
            .any(|l| l == "groxide_http_requests_in_flight 0")
    })
    .await;
    assert!(server.module.produced.load(Ordering::SeqCst) < 48);
    // The server serves the next client as before.
    let a = ask(&server, &request("FolderSync", "")).await;
    assert_eq!(a.body, b"FolderSync for demo@example.test, 0 bytes");
}

/// What a waiting Ping holds besides the module's own futures: the
/// connection's future (in which the native path waits; the reading and
/// writing steps, the TLS handshake and hyper are boxed only while they
/// run) and the front's request future (boxed by the native path). Sizes
/// of a debug build; release builds are smaller.
#[tokio::test]
async fn a_waiting_native_pings_futures_stay_small() {
    let server = Server::start("").await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (stream, peer) = listener.accept().await.unwrap();
    let facts = groxide_http::front::ConnectionFacts {
        peer,
        origin: peer.ip(),
        tls: false,
        id: 1,
        activity: Arc::default(),
    };
    let request = http::Request::new(http_body_util::Full::new(bytes::Bytes::new()));
    let handling = std::mem::size_of_val(&server.front.handle(&facts, request));
    let connection = std::mem::size_of_val(&connection::serve(
        server.front.clone(),
        stream,
        peer,
        None,
        1,
        CancellationToken::new(),
    ));
    for (name, size, most) in [("connection", connection, 1024), ("front", handling, 1536)] {
        assert!(
            size <= most,
            "the {name} future takes {size} bytes (at most {most})"
        );
    }
    drop(client);
}
