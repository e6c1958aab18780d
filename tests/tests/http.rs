//! groxide-http as a process, driven by curl and raw sockets: Basic
//! authentication (challenge, privilege bits, HTTPS only), request limits
//! (413, 408), gzip, HTTP/2 (prior knowledge and ALPN), forwarding headers
//! and the PROXY protocol only from configured proxies, metrics, malformed
//! Autodiscover bodies, certificate reload and drain; and Autodiscover on
//! each node of a two-node cluster naming each user's home node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::{Cluster, ClusterOptions, Node, Service, wait_until};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

const DOMAIN: &str = "example.test";
const PASSWORD: &str = "secret";
const ALICE: &str = "alice@example.test";
/// A user with IMAP/POP3 only (privilege bits 0x1).
const BOB: &str = "bob@example.test";
const EXTNAME: &str = "mail.example.test";
const OUTLOOK_REQ: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const OUTLOOK_RESP: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const MOBILESYNC_RESP: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";

fn pox(email: &str, schema: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"{OUTLOOK_REQ}\"><Request>\
         <EMailAddress>{email}</EMailAddress><AcceptableResponseSchema>{schema}</AcceptableResponseSchema>\
         </Request></Autodiscover>"
    )
}

/// A node on `ip` serving HTTP only, with `extra` lines in http.cfg, the
/// domain, alice (every privilege) and bob (IMAP/POP3 only) in its directory.
fn http_node(ip: &str, extra: &[(&str, &str)]) -> Node {
    let mut node = Node::standalone(ip);
    for (key, value) in extra {
        node.set("http.cfg", key, value);
    }
    node.admin(&["server", "add", &node.host_id, "--extname", EXTNAME]);
    node.admin(&["domain", "create", DOMAIN, "--no-store"]);
    for user in [ALICE, BOB] {
        node.admin(&["user", "create", user, "--password", PASSWORD, "--no-store"]);
    }
    set_privileges(&node, BOB, 0x1);
    node.start(Service::Http);
    node
}

/// Sets a user's privilege bits in the node's SQLite directory.
fn set_privileges(node: &Node, user: &str, bits: u32) {
    let db = node.data.join("directory.sqlite3");
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
             n=c.execute('UPDATE users SET privilege_bits=? WHERE username=?',(int(sys.argv[3]),sys.argv[2])).rowcount; \
             c.commit(); assert n==1",
            db.to_str().unwrap(),
            user,
            &bits.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn https(node: &Node, path: &str) -> String {
    format!("https://{}:{}{path}", node.ip, node.ports.https)
}

fn http(node: &Node, path: &str) -> String {
    format!("http://{}:{}{path}", node.ip, node.ports.http)
}

/// What curl saw.
#[derive(Debug)]
struct Reply {
    code: u16,
    version: String,
    headers: String,
    body: String,
}

impl Reply {
    /// A header of the final response, by name in any case.
    fn header(&self, name: &str) -> Option<String> {
        let block = self
            .headers
            .split("\r\n\r\n")
            .filter(|b| !b.trim().is_empty())
            .last()?;
        block.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// Runs curl (TLS not verified: self-signed) with `args`.
fn curl(args: &[&str]) -> Reply {
    let dir = tempfile::tempdir().unwrap();
    let headers = dir.path().join("headers");
    let body = dir.path().join("body");
    let out = Command::new("curl")
        .args(["-sS", "-k", "--max-time", "30", "-D"])
        .arg(&headers)
        .arg("-o")
        .arg(&body)
        .args(["-w", "%{http_code} %{http_version}"])
        .args(args)
        .output()
        .expect("curl");
    if !out.stderr.is_empty() {
        eprintln!("curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    let (code, version) = summary.split_once(' ').unwrap_or(("0", ""));
    Reply {
        code: code.parse().unwrap_or(0),
        version: version.to_string(),
        headers: std::fs::read_to_string(&headers).unwrap_or_default(),
        body: String::from_utf8_lossy(&std::fs::read(&body).unwrap_or_default()).into_owned(),
    }
}

/// A TCP connection to `to` leaving from `from`.
fn connect_from(to: SocketAddr, from: IpAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(from, 0).into()).unwrap();
    socket
        .connect_timeout(&to.into(), Duration::from_secs(5))
        .unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Everything the server sends until it closes (or 20 s pass).
fn read_all(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn basic(user: &str) -> String {
    format!("{user}:{PASSWORD}")
}

fn access_log_has(node: &Node, needle: &str) -> bool {
    let d = node.daemon(Service::Http);
    wait_until(Duration::from_secs(5), || {
        d.log()
            .lines()
            .any(|l| l.contains(" request method=") && l.contains(needle))
    })
}

#[test]
fn basic_auth_is_challenged_over_tls_checked_against_the_directory_and_its_privilege_bits() {
    let node = http_node("127.0.30.1", &[]);
    let url = https(&node, "/autodiscover/autodiscover.xml");
    let body = pox(ALICE, OUTLOOK_RESP);
    let anonymous = curl(&["-d", &body, &url]);
    assert_eq!(anonymous.code, 401, "{anonymous:?}");
    assert_eq!(
        anonymous.header("www-authenticate").as_deref(),
        Some("Basic realm=\"groxide\", charset=\"UTF-8\"")
    );
    let ok = curl(&["-u", &basic(ALICE), "-d", &body, &url]);
    assert_eq!(ok.code, 200, "{ok:?}\n{}", node.logs());
    let ews = format!(
        "<EwsUrl>https://{EXTNAME}:{}/EWS/Exchange.asmx</EwsUrl>",
        node.ports.https
    );
    assert!(ok.body.contains(&ews), "{}", ok.body);
    let wrong = curl(&["-u", &format!("{ALICE}:nope"), "-d", &body, &url]);
    assert_eq!(wrong.code, 401);
    assert!(wrong.header("www-authenticate").is_some());
    // bob may not use EWS or ActiveSync: refused after the right password.
    for schema in [OUTLOOK_RESP, MOBILESYNC_RESP] {
        let refused = curl(&["-u", &basic(BOB), "-d", &pox(BOB, schema), &url]);
        assert_eq!(refused.code, 403, "{refused:?}");
    }
    // Plain HTTP from an ordinary client: the password is not even checked.
    let plain = curl(&[
        "-u",
        &basic(ALICE),
        "-d",
        &body,
        &http(&node, "/autodiscover/autodiscover.xml"),
    ]);
    assert_eq!(plain.code, 403);
    assert!(plain.body.contains("requires HTTPS"), "{}", plain.body);
    assert!(access_log_has(&node, &format!("user={ALICE}")));
}

#[test]
fn request_bodies_over_the_limit_get_413_and_slow_ones_408() {
    let node = http_node(
        "127.0.30.2",
        &[
            ("http_rqbody_max_size", "4K"),
            ("http_rqbody_timeout", "2s"),
        ],
    );
    let big = "x".repeat(8192);
    let url = https(&node, "/autodiscover/autodiscover.xml");
    // HTTP/1.1: over HTTP/2 the refusal resets the upload's stream
    // (RST_STREAM NO_ERROR, RFC 9113 §8.1), which curl 7.88 sometimes
    // reports as a stream error instead of the 413 it already received.
    let declared = curl(&["--http1.1", "-u", &basic(ALICE), "-d", &big, &url]);
    assert_eq!(declared.code, 413, "{declared:?}");
    let chunked = curl(&[
        "--http1.1",
        "-u",
        &basic(ALICE),
        "-H",
        "Transfer-Encoding: chunked",
        "-d",
        &big,
        &url,
    ]);
    assert_eq!(chunked.code, 413, "{chunked:?}");
    // A body that stops coming: 408 after http_rqbody_timeout, connection closed.
    let mut s = connect_from(node.addr(Service::Http), node.ip);
    let head = "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\n\
                Authorization: Basic YWxpY2VAZXhhbXBsZS50ZXN0OnNlY3JldA==\r\n\
                Content-Length: 500\r\n\r\n<Autodiscover>";
    let start = Instant::now();
    s.write_all(head.as_bytes()).unwrap();
    let answer = read_all(&mut s);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(1800) && waited < Duration::from_secs(15),
        "{waited:?}"
    );
}

#[test]
fn responses_are_gzipped_on_request_and_http2_is_spoken_with_and_without_tls() {
    let node = http_node("127.0.30.3", &[]);
    let url = https(
        &node,
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.test",
    );
    let zipped = curl(&["--compressed", &url]);
    assert_eq!(zipped.code, 200);
    assert_eq!(zipped.header("content-encoding").as_deref(), Some("gzip"));
    assert!(
        zipped.body.contains("<clientConfig version=\"1.1\">"),
        "{}",
        zipped.body
    );
    let plain = curl(&[&url]);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, zipped.body);
    let h2c = curl(&["--http2-prior-knowledge", &http(&node, "/health")]);
    assert_eq!((h2c.code, h2c.version.as_str()), (200, "2"), "{h2c:?}");
    let h2 = curl(&["--http2", &https(&node, "/health")]);
    assert_eq!((h2.code, h2.version.as_str()), (200, "2"), "{h2:?}");
    let h1 = curl(&["--http1.1", &https(&node, "/health")]);
    assert_eq!((h1.code, h1.version.as_str()), (200, "1.1"));
}

#[test]
fn forwarding_headers_and_plain_basic_are_believed_only_from_trusted_proxies() {
    let node = http_node("127.0.31.1", &[("http_trusted_proxies", "127.0.31.9")]);
    let url = http(&node, "/autodiscover/autodiscover.xml");
    let body = pox(ALICE, OUTLOOK_RESP);
    // The trusted proxy terminated TLS and names the client.
    let proxied = curl(&[
        "--interface",
        "127.0.31.9",
        "-u",
        &basic(ALICE),
        "-H",
        "X-Forwarded-For: 198.51.100.1, 203.0.113.7",
        "-d",
        &body,
        &url,
    ]);
    assert_eq!(proxied.code, 200, "{proxied:?}");
    assert!(
        access_log_has(&node, "client=203.0.113.7"),
        "{}",
        node.logs()
    );
    // Anyone else: the header is ignored and plain Basic refused unchecked.
    let direct = curl(&[
        "--interface",
        "127.0.31.8",
        "-u",
        &basic(ALICE),
        "-H",
        "X-Forwarded-For: 203.0.113.99",
        "-d",
        &body,
        &url,
    ]);
    assert_eq!(direct.code, 403, "{direct:?}");
    assert!(access_log_has(&node, "client=127.0.31.8"));
    assert!(
        !node
            .daemon(Service::Http)
            .log()
            .contains("client=203.0.113.99")
    );
    let forwarded = curl(&[
        "--interface",
        "127.0.31.9",
        "-H",
        "Forwarded: for=\"[2001:db8::7]:4711\";proto=https",
        &http(
            &node,
            "/autodiscover/autodiscover.json?Email=alice@example.test&Protocol=Ews",
        ),
    ]);
    assert_eq!(forwarded.code, 200);
    assert!(access_log_has(&node, "client=2001:db8::7"));
}

#[test]
fn the_proxy_protocol_names_the_client_only_from_configured_peers() {
    let node = http_node("127.0.31.2", &[("http_proxy_protocol_from", "127.0.31.19")]);
    let to = node.addr(Service::Http);
    let get = "GET /autodiscover/autodiscover.json?Email=alice@example.test&Protocol=Ews HTTP/1.1\r\n\
               Host: x\r\nConnection: close\r\n\r\n";
    // Version 1 from the proxy.
    let mut s = connect_from(to, "127.0.31.19".parse().unwrap());
    s.write_all(
        format!(
            "PROXY TCP4 198.51.100.9 127.0.31.2 40000 {}\r\n{get}",
            to.port()
        )
        .as_bytes(),
    )
    .unwrap();
    assert!(read_all(&mut s).starts_with("HTTP/1.1 200"));
    assert!(
        access_log_has(&node, "client=198.51.100.9"),
        "{}",
        node.logs()
    );
    // Version 2 from the proxy.
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    v2.extend_from_slice(&[198, 51, 100, 10, 127, 0, 31, 2]);
    v2.extend_from_slice(&40001u16.to_be_bytes());
    v2.extend_from_slice(&to.port().to_be_bytes());
    let mut s = connect_from(to, "127.0.31.19".parse().unwrap());
    s.write_all(&[v2.as_slice(), get.as_bytes()].concat())
        .unwrap();
    assert!(read_all(&mut s).starts_with("HTTP/1.1 200"));
    assert!(access_log_has(&node, "client=198.51.100.10"));
    // From the proxy without a header: closed, nothing answered.
    let mut s = connect_from(to, "127.0.31.19".parse().unwrap());
    s.write_all(get.as_bytes()).unwrap();
    assert_eq!(read_all(&mut s), "");
    // From anyone else a PROXY line is no HTTP request.
    let mut s = connect_from(to, "127.0.31.18".parse().unwrap());
    s.write_all(format!("PROXY TCP4 198.51.100.11 127.0.31.2 1 2\r\n{get}").as_bytes())
        .unwrap();
    assert!(read_all(&mut s).starts_with("HTTP/1.1 400"));
    assert!(
        !node
            .daemon(Service::Http)
            .log()
            .contains("client=198.51.100.11")
    );
}

#[test]
fn metrics_count_requests_by_protocol_and_status_on_their_own_listener() {
    let node = http_node("127.0.31.3", &[]);
    let url = https(&node, "/autodiscover/autodiscover.xml");
    for _ in 0..2 {
        let r = curl(&["-d", "x", &url]);
        assert_eq!(r.code, 401, "{r:?}");
    }
    assert_eq!(curl(&[&https(&node, "/nothing")]).code, 404);
    let ok = curl(&[
        "-u",
        &basic(ALICE),
        "-d",
        &pox(ALICE, MOBILESYNC_RESP),
        &url,
    ]);
    assert_eq!(ok.code, 200);
    // An ActiveSync Ping over HTTP/1.1 is read on the native path, one
    // over HTTP/2 by hyper; both are challenged alike.
    let ping = https(
        &node,
        "/Microsoft-Server-ActiveSync?Cmd=Ping&User=alice&DeviceId=e2e1&DeviceType=test",
    );
    for version in ["--http1.1", "--http2"] {
        let r = curl(&[version, "-d", "x", &ping]);
        assert_eq!(r.code, 401, "{version}: {r:?}");
        assert!(
            r.headers
                .to_ascii_lowercase()
                .contains("www-authenticate: basic"),
            "{r:?}"
        );
    }
    let metrics_url = format!("http://{}:{}/metrics", node.ip, node.ports.http_metrics);
    // The metrics of a request are written when its response is done.
    let want = [
        "groxide_http_requests_total{protocol=\"eas\",status=\"401\"} 2",
        "groxide_http_native_requests_total 1",
        "groxide_http_requests_total{protocol=\"discovery\",status=\"401\"} 2",
        "groxide_http_requests_total{protocol=\"discovery\",status=\"200\"} 1",
        "groxide_http_requests_total{protocol=\"none\",status=\"404\"} 1",
        "groxide_http_request_duration_seconds_count{protocol=\"discovery\"} 3",
    ];
    let mut last = String::new();
    let seen = wait_until(Duration::from_secs(5), || {
        last = curl(&[&metrics_url]).body;
        want.iter().all(|w| last.lines().any(|l| l == *w))
    });
    assert!(seen, "{last}");
    // The client-facing ports do not serve metrics.
    assert_eq!(curl(&[&https(&node, "/metrics")]).code, 404);
}

#[test]
fn malformed_autodiscover_bodies_get_400_with_an_error_document_never_500() {
    let node = http_node("127.0.31.4", &[]);
    let url = https(&node, "/Autodiscover/Autodiscover.xml");
    for body in [
        "",
        "not xml",
        "<Autodiscover><Request>",
        "<Autodiscover><Request><EMailAddress>a@b</Request></Autodiscover>",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"e\">]><Autodiscover>&e;</Autodiscover>",
        "<Other/>",
        "\u{1}\u{2}<",
    ] {
        let r = curl(&["-u", &basic(ALICE), "--data-binary", body, &url]);
        assert_eq!(r.code, 400, "{body:?}: {r:?}");
        assert!(
            r.body.contains("<ErrorCode>600</ErrorCode>"),
            "{body:?}: {}",
            r.body
        );
    }
    let json = curl(&[&https(
        &node,
        "/autodiscover/autodiscover.json?Email=alice@example.test&Protocol=Carrier%20Pigeon",
    )]);
    assert_eq!(json.code, 400);
    assert!(
        json.body.contains("\"ErrorCode\":\"ProtocolNotSupported\""),
        "{}",
        json.body
    );
}

#[test]
fn discovery_documents_are_served_anonymously_with_this_nodes_name() {
    let node = http_node("127.0.31.5", &[]);
    let p = node.ports.https;
    let json = curl(&[&https(
        &node,
        "/autodiscover/autodiscover.json/v1.0/alice@example.test?Protocol=ActiveSync",
    )]);
    assert_eq!(json.code, 200);
    assert_eq!(
        json.body,
        format!(
            "{{\"Protocol\":\"ActiveSync\",\"Url\":\"https://{EXTNAME}:{p}/Microsoft-Server-ActiveSync\"}}"
        )
    );
    let config = curl(&[&https(
        &node,
        "/mail/config-v1.1.xml?emailaddress=alice@example.test",
    )]);
    assert_eq!(config.code, 200);
    assert!(config.body.contains(&format!(
        "<serverURL>https://{EXTNAME}:{p}/dav/</serverURL>"
    )));
    let redirect = curl(&["-X", "PROPFIND", &https(&node, "/.well-known/caldav")]);
    assert_eq!(redirect.code, 301);
    assert_eq!(redirect.header("location").as_deref(), Some("/dav/"));
}

/// The certificate a TLS server at `addr` presents, as PEM.
fn server_certificate(addr: SocketAddr) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import ssl,sys; print(ssl.get_server_certificate((sys.argv[1], int(sys.argv[2]))))",
            &addr.ip().to_string(),
            &addr.port().to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn der_of(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[test]
fn sighup_reloads_the_certificate_and_sigterm_lets_requests_in_flight_finish() {
    let mut node = http_node("127.0.31.6", &[("http_rqbody_timeout", "30s")]);
    let tls_addr = SocketAddr::new(node.ip, node.ports.https);
    let old = std::fs::read_to_string(node.config.path().join("cert.pem")).unwrap();
    assert_eq!(der_of(&server_certificate(tls_addr)), der_of(&old));
    let ck = rcgen::generate_simple_self_signed(vec!["renewed.example.test".into()]).unwrap();
    node.config.write("cert.pem", &ck.cert.pem());
    node.config
        .write("key.pem", &ck.signing_key.serialize_pem());
    node.reload_service(Service::Http);
    assert_eq!(
        der_of(&server_certificate(tls_addr)),
        der_of(&ck.cert.pem())
    );

    // A request whose body is still arriving when SIGTERM comes.
    let mut s = connect_from(node.addr(Service::Http), node.ip);
    let body = pox(ALICE, "urn:unknown-schema");
    let head = format!(
        "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\n\
         Authorization: Basic YWxpY2VAZXhhbXBsZS50ZXN0OnNlY3JldA==\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body.as_bytes()[..20]).unwrap();
    wait_until(Duration::from_secs(5), || {
        curl(&[&format!(
            "http://{}:{}/metrics",
            node.ip, node.ports.http_metrics
        )])
        .body
        .contains("groxide_http_requests_in_flight 1")
    });
    let d = node.daemon_mut(Service::Http);
    d.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    // New connections are no longer accepted…
    assert!(TcpStream::connect_timeout(&node_addr(&node), Duration::from_secs(1)).is_err());
    // …but the request in flight is answered.
    s.write_all(&body.as_bytes()[20..]).unwrap();
    let answer = read_all(&mut s);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("<ErrorCode>601</ErrorCode>"), "{answer}");
    let status = node
        .daemon_mut(Service::Http)
        .wait_exit(Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

fn node_addr(node: &Node) -> SocketAddr {
    node.addr(Service::Http)
}

#[test]
fn autodiscover_at_either_node_of_a_cluster_names_each_users_home_node() {
    let mut c = Cluster::new(ClusterOptions::new("127.0.33", 2));
    c.start_all(&[Service::Http]);
    c.node(0).admin(&["domain", "create", DOMAIN, "--no-store"]);
    let users = ["ann@example.test", "ben@example.test"];
    for (i, user) in users.iter().enumerate() {
        let host = c.node(i).host_id.clone();
        c.node(0).admin(&[
            "user",
            "create",
            user,
            "--password",
            PASSWORD,
            "--server",
            &host,
            "--no-store",
        ]);
    }
    for asked in 0..2 {
        let node = c.node(asked);
        for (home, user) in users.iter().enumerate() {
            let ext = format!("node{}.cluster.test", home + 1);
            let port = node.ports.https;
            let pox_reply = curl(&[
                "-u",
                &basic(user),
                "-d",
                &pox(user, MOBILESYNC_RESP),
                &https(node, "/autodiscover/autodiscover.xml"),
            ]);
            assert_eq!(pox_reply.code, 200, "{pox_reply:?}\n{}", c.logs());
            let want = format!("<Url>https://{ext}:{port}/Microsoft-Server-ActiveSync</Url>");
            assert!(
                pox_reply.body.contains(&want),
                "asked node {asked} for {user}: {}",
                pox_reply.body
            );
            let json = curl(&[&https(
                node,
                &format!("/autodiscover/autodiscover.json?Email={user}&Protocol=Ews"),
            )]);
            assert!(
                json.body
                    .contains(&format!("https://{ext}:{port}/EWS/Exchange.asmx")),
                "{}",
                json.body
            );
            let config = curl(&[&https(
                node,
                &format!("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={user}"),
            )]);
            assert!(
                config.body.contains(&format!("<hostname>{ext}</hostname>")),
                "{}",
                config.body
            );
        }
    }
}
