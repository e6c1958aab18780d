//! The shipped deployment files are checked by the tools that consume them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

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
            "exmdb", "midb", "event", "timer", "delivery", "imap", "pop3",
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
