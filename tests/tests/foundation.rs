//! The foundation, end to end with real processes: the command line of every
//! binary, --check-config, the RPC access list with SIGHUP reload, and a
//! bounded SIGTERM drain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::{ConfigDir, free_port, run_bin, start_daemon, wait_listening, wait_until};
use groxide_rpc::client::{ClientOptions, NodeAddr, channel};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const DAEMONS: &[&str] = &[
    "exmdb", "midb", "event", "timer", "delivery", "imap", "pop3", "http", "zcore",
];

#[test]
fn every_binary_has_help_and_version() {
    for name in DAEMONS.iter().chain(["admin"].iter()) {
        let (st, out, _) = run_bin(name, &["--help"]);
        assert!(st.success(), "groxide-{name} --help failed");
        assert!(
            out.contains("--config-dir"),
            "groxide-{name} --help lacks --config-dir:\n{out}"
        );
        assert!(
            out.contains("--check-config"),
            "groxide-{name} --help lacks --check-config"
        );
        let (st, out, _) = run_bin(name, &["--version"]);
        assert!(st.success());
        assert!(
            out.contains(env!("CARGO_PKG_VERSION")),
            "groxide-{name} --version: {out}"
        );
    }
}

#[test]
fn check_config_accepts_an_empty_config_dir() {
    let dir = ConfigDir::new();
    for name in DAEMONS {
        let (st, out, err) = run_bin(
            name,
            &[
                "--config-dir",
                dir.path().to_str().unwrap(),
                "--check-config",
            ],
        );
        assert!(st.success(), "groxide-{name}: {err}");
        assert!(out.contains("is valid"), "{out}");
    }
}

#[test]
fn check_config_names_file_line_and_key_of_a_bad_value() {
    let dir = ConfigDir::new();
    dir.write(
        "event.cfg",
        "# event\nevent_listen_port = 33333\nevent_listen_ip = not-an-ip\n",
    );
    dir.write("groxide.cfg", "shutdown_timeout = 3 parsecs\n");
    let (st, _, err) = run_bin(
        "event",
        &[
            "--config-dir",
            dir.path().to_str().unwrap(),
            "--check-config",
        ],
    );
    assert_eq!(st.code(), Some(78), "{err}");
    assert!(err.contains("event.cfg:3"), "{err}");
    assert!(err.contains("event_listen_ip"), "{err}");
    // Every error comes back at once, not just the first.
    assert!(err.contains("groxide.cfg:1"), "{err}");
    assert!(err.contains("shutdown_timeout"), "{err}");
}

#[test]
fn a_missing_config_dir_is_an_error() {
    let (st, _, err) = run_bin(
        "event",
        &[
            "--config-dir",
            "/nonexistent/groxide-test",
            "--check-config",
        ],
    );
    assert_eq!(st.code(), Some(78));
    assert!(err.contains("/nonexistent/groxide-test"), "{err}");
}

fn health(server: SocketAddr, source: IpAddr) -> Result<(), tonic::Status> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = ClientOptions {
            source_ip: Some(source),
            ..ClientOptions::default()
        };
        let ch = channel(
            "event",
            &NodeAddr::new(server.ip().to_string(), server.port()),
            &opts,
        )
        .unwrap();
        HealthClient::new(ch)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|_| ())
    })
}

#[test]
fn event_access_list_is_enforced_and_reloaded_by_sighup_and_sigterm_drains() {
    let server_ip: IpAddr = "127.0.0.1".parse().unwrap();
    let allowed: IpAddr = "127.0.0.1".parse().unwrap();
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let port = free_port(server_ip);
    let addr = SocketAddr::new(server_ip, port);
    let dir = ConfigDir::new();
    dir.write("groxide.cfg", "shutdown_timeout = 2s\n");
    let event_cfg = |acl: &str| {
        format!(
            "event_listen_ip = 127.0.0.1\nevent_listen_port = {port}\nevent_hosts_allow = {acl}\n"
        )
    };
    dir.write("event.cfg", &event_cfg("127.0.0.1"));
    let mut daemon = start_daemon("event", dir.path(), &[]);
    assert!(
        wait_listening(addr, Duration::from_secs(10)),
        "event did not listen:\n{}",
        daemon.log()
    );

    // On the list: served. Not on it: refused before any request runs, and told why.
    health(addr, allowed).expect("allowed peer is served");
    let refused = health(addr, other).expect_err("127.0.0.2 is not on the list");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused:?}");
    assert!(
        refused.message().contains("event_hosts_allow"),
        "{}",
        refused.message()
    );
    assert!(
        daemon.wait_log("127.0.0.2", Duration::from_secs(5)),
        "refusal not logged:\n{}",
        daemon.log()
    );

    // The IPv4-mapped form names the same peer.
    dir.write("event.cfg", &event_cfg("::ffff:127.0.0.2"));
    daemon.signal("HUP");
    assert!(
        wait_until(Duration::from_secs(5), || health(addr, other).is_ok()),
        "new list not applied after SIGHUP:\n{}",
        daemon.log()
    );
    let refused = health(addr, allowed).expect_err("127.0.0.1 was removed");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    // A broken file on reload keeps the running list.
    dir.write("event.cfg", &event_cfg("not-an-address"));
    daemon.signal("HUP");
    assert!(
        daemon.wait_log("reload refused", Duration::from_secs(5)),
        "{}",
        daemon.log()
    );
    health(addr, other).expect("running list kept");

    // SIGTERM: exit 0 within shutdown_timeout (2 s) plus the runtime's margin.
    let start = Instant::now();
    daemon.signal("TERM");
    let st = daemon
        .wait_exit(Duration::from_secs(6))
        .expect("event did not exit after SIGTERM");
    assert!(st.success(), "exit status {st}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}
