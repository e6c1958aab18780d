//! The shipped deployment files are checked by the tools that consume them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::{Node, Service, free_port, wait_listening, wait_until};
use groxide_testkit::Process;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn units_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/systemd")
}

#[test]
fn systemd_analyze_verify_accepts_every_unit() {
    let src = units_dir();
    let tmp = tempfile::tempdir().unwrap();
    let bin = groxide_e2e::bin_dir();
    let mut units = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".service") || name.ends_with(".target")) {
            continue;
        }
        // verify checks that ExecStart exists: point it at the built binaries.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("/usr/sbin/groxide-", &format!("{}/groxide-", bin.display()));
        std::fs::write(tmp.path().join(&name), text).unwrap();
        units.push(name);
    }
    assert!(
        units.len() >= 10,
        "expected a unit per daemon and groxide.target, found {units:?}"
    );
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .args(&units)
        .current_dir(tmp.path())
        .output()
        .expect("systemd-analyze (package systemd) must be installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{stderr}"
    );
    assert!(
        stderr.trim().is_empty(),
        "systemd-analyze verify warned:\n{stderr}"
    );
}

#[test]
fn every_daemon_unit_is_type_notify_with_reload_and_hardening() {
    for d in [
        "exmdb", "midb", "event", "timer", "delivery", "imap", "pop3", "http", "zcore",
    ] {
        let text =
            std::fs::read_to_string(units_dir().join(format!("groxide-{d}.service"))).unwrap();
        for needle in [
            "Type=notify",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "Restart=on-failure",
            "User=groxide",
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "WantedBy=groxide.target",
        ] {
            assert!(text.contains(needle), "groxide-{d}.service lacks {needle}");
        }
    }
}

/// deploy/cluster/nodeN with /etc/groxide/ pointing into a temp dir that
/// holds the TLS files the configs name.
fn cluster_node_copy(n: usize) -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../deploy/cluster/node{n}"));
    let tmp = tempfile::tempdir().unwrap();
    let etc = format!("{}/", tmp.path().display());
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("/etc/groxide/", &etc);
        std::fs::write(tmp.path().join(path.file_name().unwrap()), text).unwrap();
    }
    let tls = tmp.path().join("tls");
    std::fs::create_dir(&tls).unwrap();
    let ca = groxide_e2e::cluster::ClusterCa::new(&tls);
    let ip = format!("10.0.0.{n}").parse().unwrap();
    ca.issue(ip, &tls, &format!("mx{n}"));
    ca.issue(ip, &tls, "mail");
    tmp
}

#[test]
fn the_three_node_example_configs_pass_every_check_config() {
    for n in 1..=3 {
        let dir = cluster_node_copy(n);
        let d = dir.path().to_str().unwrap();
        let (st, out, err) = groxide_e2e::run_bin("admin", &["--config-dir", d, "check-config"]);
        assert!(
            st.success(),
            "groxide-admin check-config of node{n}: {out}{err}"
        );
        for daemon in [
            "exmdb", "midb", "event", "timer", "delivery", "imap", "pop3", "http",
        ] {
            let (st, out, err) =
                groxide_e2e::run_bin(daemon, &["--config-dir", d, "--check-config"]);
            assert!(
                st.success(),
                "groxide-{daemon} --check-config of node{n}: {out}{err}"
            );
        }
    }
}

#[test]
fn the_three_node_example_routes_each_prefix_to_its_node_and_lists_every_node() {
    use groxide_config::keys::{event, exmdb, midb, timer};
    use groxide_config::{Config, DaemonFile, Exmdb, HostsAllow, Key};
    use groxide_runtime::{NodeIdentity, Routing};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ips = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
    for n in 1..=3 {
        let dir = cluster_node_copy(n);
        let (cfg, warnings) = Config::<Exmdb>::load(dir.path()).unwrap();
        assert!(warnings.is_empty(), "node{n}: {warnings:?}");
        let me = ips[n - 1];
        let node = NodeIdentity::load(&cfg);
        assert_eq!(node.host_id, format!("mx{n}.example.org"));
        assert_eq!(
            node.source_ip.unwrap().to_string(),
            me,
            "node{n} calls from its address"
        );
        let routing = Routing::load(&cfg, None).unwrap();
        for (m, ip) in ips.iter().enumerate() {
            let store = format!(
                "/var/lib/groxide/mail/user/mx{}.example.org/example.org/u",
                m + 1
            );
            for resolver in [routing.exmdb(), routing.midb()] {
                let route = rt.block_on(resolver.resolve(&store)).unwrap();
                assert_eq!(route.host, *ip, "node{n}: {store}");
                assert_eq!(route.local, *ip == me, "node{n}: {store}");
            }
        }
        fn access_list<F: DaemonFile>(
            dir: &std::path::Path,
            key: Key<HostsAllow, F>,
        ) -> (&'static str, groxide_rpc::AccessList) {
            let (c, _) = Config::<F>::load(dir).unwrap();
            (
                key.name(),
                groxide_rpc::AccessList::new(key.name(), c.get(key)),
            )
        }
        for (key, acl) in [
            access_list(dir.path(), exmdb::EXMDB_HOSTS_ALLOW),
            access_list(dir.path(), midb::MIDB_HOSTS_ALLOW),
            access_list(dir.path(), event::EVENT_HOSTS_ALLOW),
            access_list(dir.path(), timer::TIMER_HOSTS_ALLOW),
        ] {
            for ip in ips {
                assert!(
                    acl.allows(Some(ip.parse().unwrap())),
                    "node{n} {key} lacks {ip}"
                );
            }
            assert!(
                !acl.allows(Some("127.0.0.1".parse().unwrap())),
                "node{n} {key}"
            );
        }
    }
}

// --- the HTTP front ends: deploy/nginx and deploy/haproxy ---------------------

const ALICE: &str = "alice@example.test";
const PASSWORD: &str = "secret";

fn deploy_file(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy")
            .join(path),
    )
    .unwrap()
}

/// A groxide-http node on `ip` with alice in its directory and `extra` in http.cfg.
fn http_node(ip: &str, extra: &[(&str, &str)]) -> Node {
    let mut node = Node::standalone(ip);
    for (k, v) in extra {
        node.set("http.cfg", k, v);
    }
    node.admin(&["domain", "create", "example.test", "--no-store"]);
    node.admin(&[
        "user",
        "create",
        ALICE,
        "--password",
        PASSWORD,
        "--no-store",
    ]);
    node.start(Service::Http);
    node
}

/// A self-signed certificate and key in `dir`; returns their paths.
fn certificate(dir: &Path) -> (String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert.display().to_string(), key.display().to_string())
}

/// curl -k with `args`; returns (status, body).
fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-k", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

const POX: &str = "<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006\"><Request><EMailAddress>alice@example.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>";

/// Checks a front end at `tls`/`plain` in front of `node`: the groxide
/// paths reach groxide-http with the client's address (curl leaves from
/// `client`), other paths do not, autoconfig works over plain HTTP.
fn check_front_end(node: &Node, tls: SocketAddr, plain: SocketAddr, client: &str) {
    let base = format!("https://{tls}");
    let creds = format!("{ALICE}:{PASSWORD}");
    let (code, body) = curl(&[
        "--interface",
        client,
        "-u",
        &creds,
        "-d",
        POX,
        &format!("{base}/Autodiscover/Autodiscover.xml"),
    ]);
    assert_eq!(code, 200, "{body}\n{}", node.logs());
    assert!(body.contains("<Type>MobileSync</Type>"), "{body}");
    let d = node.daemon(Service::Http);
    assert!(
        wait_until(Duration::from_secs(5), || d
            .log()
            .lines()
            .any(|l| l.contains(" request method=POST")
                && l.contains(&format!("client={client}"))
                && l.contains(&format!("user={ALICE}")))),
        "groxide-http did not see the client's address:\n{}",
        d.log()
    );
    let (code, body) = curl(&[&format!(
        "{base}/autodiscover/autodiscover.json?Email={ALICE}&Protocol=Ews"
    )]);
    assert_eq!(code, 200, "{body}");
    let (code, _) = curl(&[&format!("{base}/.well-known/caldav")]);
    assert_eq!(code, 301);
    let (code, _) = curl(&[&format!("{base}/somewhere/else")]);
    assert_eq!(code, 404);
    assert!(!d.log().contains("/somewhere/else"), "not groxide's path");
    let (code, body) = curl(&[&format!(
        "http://{plain}/mail/config-v1.1.xml?emailaddress={ALICE}"
    )]);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("<clientConfig version=\"1.1\">"));
}

#[test]
fn the_nginx_snippet_passes_nginx_t_and_routes_groxide_paths_with_the_client_address() {
    let ip = "127.0.34.2";
    let front: IpAddr = "127.0.34.3".parse().unwrap();
    // nginx reaches the node from 127.0.0.1.
    let node = http_node(ip, &[("http_trusted_proxies", "127.0.0.1")]);
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let (tls_port, plain_port) = (free_port(front), free_port(front));
    let upstream = node.addr(Service::Http).to_string();
    let snippet = deploy_file("nginx/groxide.conf")
        .replace("server 10.0.0.1:80", &format!("server {upstream}"))
        .lines()
        .filter(|l| {
            !l.contains("10.0.0.2:80") && !l.contains("10.0.0.3:80") && !l.contains("listen [::]")
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace(
            "listen 443 ssl http2;",
            &format!("listen {front}:{tls_port} ssl http2;"),
        )
        .replace("listen 80;", &format!("listen {front}:{plain_port};"))
        .replace("/etc/ssl/groxide/fullchain.pem", &cert)
        .replace("/etc/ssl/groxide/privkey.pem", &key);
    let d = dir.path().display();
    std::fs::write(dir.path().join("groxide.conf"), snippet).unwrap();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "user root;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{}}\nhttp {{\n access_log off;\n client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n include {d}/groxide.conf;\n}}\n"
        ),
    )
    .unwrap();
    let conf = dir.path().join("nginx.conf");
    let check = Command::new("nginx")
        .arg("-t")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("nginx (Debian package nginx-light; .ci/prepare installs it)");
    assert!(
        check.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let mut cmd = Command::new("nginx");
    cmd.arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf)
        .args(["-g", "daemon off;"]);
    let nginx = Process::spawn("nginx", cmd);
    let tls = SocketAddr::new(front, tls_port);
    assert!(
        wait_listening(tls, Duration::from_secs(10)),
        "nginx: {}",
        nginx.log()
    );
    check_front_end(&node, tls, SocketAddr::new(front, plain_port), "127.0.34.9");
}

#[test]
fn the_haproxy_snippets_pass_haproxy_c_and_route_groxide_paths_with_a_proxy_header() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let pem = dir.path().join("haproxy.pem");
    std::fs::write(
        &pem,
        std::fs::read_to_string(&cert).unwrap() + &std::fs::read_to_string(&key).unwrap(),
    )
    .unwrap();
    let pem = pem.display().to_string();
    // The shipped files as they are (only the certificate path changed).
    let shipped_http = dir.path().join("groxide-http.cfg");
    std::fs::write(
        &shipped_http,
        deploy_file("haproxy/groxide-http.cfg").replace("/etc/ssl/groxide/haproxy.pem", &pem),
    )
    .unwrap();
    let mail = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/haproxy/haproxy.cfg");
    let check = Command::new("haproxy")
        .arg("-c")
        .arg("-f")
        .arg(&mail)
        .arg("-f")
        .arg(&shipped_http)
        .output()
        .expect("haproxy (Debian package haproxy; .ci/prepare installs it)");
    assert!(
        check.status.success(),
        "haproxy -c: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    // Run it in front of a node: PROXY v2 from HAProxy, which reaches the node from 127.0.0.1.
    let node = http_node(
        "127.0.34.5",
        &[
            ("http_proxy_protocol_from", "127.0.0.1"),
            ("http_trusted_proxies", "127.0.0.1"),
        ],
    );
    let front: IpAddr = "127.0.34.6".parse().unwrap();
    let (tls_port, plain_port) = (free_port(front), free_port(front));
    let upstream = node.addr(Service::Http).to_string();
    let snippet = deploy_file("haproxy/groxide-http.cfg")
        .replace("/etc/ssl/groxide/haproxy.pem", &pem)
        .replace("bind :443 ", &format!("bind {front}:{tls_port} "))
        .replace("bind :80", &format!("bind {front}:{plain_port}"))
        .replace("10.0.0.1:80", &upstream)
        .lines()
        .filter(|l| !l.contains("server mx2") && !l.contains("server mx3"))
        .collect::<Vec<_>>()
        .join("\n");
    let cfg = dir.path().join("run.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n    maxconn 100\n\ndefaults\n    mode http\n    timeout connect 5s\n    \
             timeout client 30s\n    timeout server 30s\n\n{snippet}\n"
        ),
    )
    .unwrap();
    let mut cmd = Command::new("haproxy");
    cmd.arg("-db").arg("-f").arg(&cfg);
    let haproxy = Process::spawn("haproxy", cmd);
    let tls = SocketAddr::new(front, tls_port);
    assert!(
        wait_listening(tls, Duration::from_secs(10)),
        "haproxy: {}",
        haproxy.log()
    );
    // HAProxy's health check (GET /health with a PROXY header) reaches the node.
    let metrics = format!("http://{}:{}/metrics", node.ip, node.ports.http_metrics);
    assert!(
        wait_until(Duration::from_secs(15), || curl(&[&metrics]).1.contains(
            "groxide_http_requests_total{protocol=\"health\",status=\"200\"}"
        )),
        "no health check reached groxide-http:\n{}\n{}",
        node.logs(),
        haproxy.log()
    );
    check_front_end(&node, tls, SocketAddr::new(front, plain_port), "127.0.34.9");
}
