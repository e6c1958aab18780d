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
