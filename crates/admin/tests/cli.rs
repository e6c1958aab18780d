//! groxide-admin as a real binary against a SQLite directory: the commands
//! that need no exmdb (`--no-store`), JSON output, exit statuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Installation {
    dir: tempfile::TempDir,
}

impl Installation {
    fn new() -> Installation {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("cfg")).unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let data = dir.path().join("data");
        std::fs::write(
            dir.path().join("cfg/groxide.cfg"),
            format!("data_path = {}\n", data.display()),
        )
        .unwrap();
        Installation { dir }
    }

    fn config_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("cfg")
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_groxide-admin"))
            .arg("--config-dir")
            .arg(self.config_dir())
            .args(args)
            .env_remove("GROXIDE_CONFIG_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "")
    }

    /// Runs with --json, expects success, returns the parsed document.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    #[track_caller]
    fn fails(&self, args: &[&str], code: i32, message: &str) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "{args:?}: {stderr:?} lacks {message:?}"
        );
    }
}

fn set_up_domain(inst: &Installation) {
    inst.json(&["server", "add", "node1", "--extname", "mail.x.test"]);
    inst.json(&["domain", "create", "x.test", "--no-store"]);
}

#[test]
fn domains_users_aliases_and_servers_are_created_listed_and_shown_as_json() {
    let inst = Installation::new();
    let server = inst.json(&["server", "add", "node1", "--extname", "mail.x.test"]);
    assert_eq!(server["id"], 1);
    let domain = inst.json(&["domain", "create", "X.Test", "--no-store", "--title", "X"]);
    assert_eq!(domain["domainname"], "x.test");
    let homedir = inst.data().join("domain/x.test");
    assert_eq!(domain["homedir"], homedir.to_str().unwrap());
    assert_eq!(domain["store_created"], Value::Null);

    let out = inst.run_with_stdin(
        &[
            "--json",
            "user",
            "create",
            "o'brien@x.test",
            "--password-stdin",
            "--server",
            "node1",
            "--lang",
            "de_DE",
            "--no-store",
        ],
        "s3cret\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user: Value = serde_json::from_slice(&out.stdout).unwrap();
    let maildir = inst.data().join("user/node1/x.test/o'brien");
    assert_eq!(user["maildir"], maildir.to_str().unwrap());
    assert_eq!(user["homeserver"], 1);
    assert_eq!(user["lang"], "de_DE");
    inst.json(&["user", "create", "bob@x.test", "--no-store"]);
    let bob = inst.json(&["user", "show", "bob@x.test"]);
    assert_eq!(
        bob["maildir"],
        inst.data().join("user/local/x.test/bob").to_str().unwrap()
    );

    inst.json(&["alias", "add", "info@x.test", "o'brien@x.test"]);
    inst.json(&["alias", "add", "@x.test", "bob@x.test"]);
    inst.json(&["altname", "add", "o'brien@x.test", "obrien"]);

    let users = inst.json(&["user", "list"]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bob@x.test", "o'brien@x.test"]);
    let shown = inst.json(&["user", "show", "obrien"]);
    assert_eq!(shown["username"], "o'brien@x.test");
    assert_eq!(shown["aliases"], serde_json::json!(["info@x.test"]));
    assert_eq!(shown["altnames"], serde_json::json!(["obrien"]));
    assert_eq!(shown["homeserver_hostname"], "node1");
    let aliases = inst.json(&["alias", "list", "--user", "bob@x.test"]);
    assert_eq!(
        aliases,
        serde_json::json!([{ "alias": "@x.test", "username": "bob@x.test" }])
    );
    assert_eq!(
        inst.json(&["altname", "list"])[0]["username"],
        "o'brien@x.test"
    );
    assert_eq!(inst.json(&["domain", "list"]).as_array().unwrap().len(), 1);
    assert_eq!(inst.json(&["domain", "show", "x.test"])["users"], 2);
    assert_eq!(inst.json(&["server", "list"])[0]["extname"], "mail.x.test");

    // Text output is for people: a header and one line per row.
    let out = inst.run(&["user", "list"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("USERNAME"), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn missing_things_exit_3_and_duplicates_exit_4() {
    let inst = Installation::new();
    set_up_domain(&inst);
    inst.json(&["user", "create", "bob@x.test", "--no-store"]);
    inst.fails(
        &["domain", "create", "x.test", "--no-store"],
        4,
        "domain x.test already exists",
    );
    inst.fails(
        &["user", "create", "BOB@x.test", "--no-store"],
        4,
        "user bob@x.test already exists",
    );
    inst.fails(&["server", "add", "node1"], 4, "already exists");
    inst.json(&["alias", "add", "info@x.test", "bob@x.test"]);
    inst.fails(
        &["alias", "add", "info@x.test", "bob@x.test"],
        4,
        "alias info@x.test already exists",
    );
    inst.fails(
        &["alias", "add", "bob@x.test", "bob@x.test"],
        4,
        "already a user",
    );
    inst.fails(
        &["domain", "delete", "x.test", "--purge", "--no-store"],
        4,
        "still has 1 user",
    );

    inst.fails(
        &["user", "show", "nobody@x.test"],
        3,
        "user nobody@x.test does not exist",
    );
    inst.fails(
        &["user", "create", "a@nowhere.test", "--no-store"],
        3,
        "domain nowhere.test does not exist",
    );
    inst.fails(
        &["user", "create", "a@x.test", "--server", "9", "--no-store"],
        3,
        "server 9 does not exist",
    );
    inst.fails(&["domain", "show", "nowhere.test"], 3, "does not exist");
    inst.fails(
        &["alias", "remove", "nope@x.test"],
        3,
        "alias nope@x.test does not exist",
    );
    inst.fails(
        &["server", "remove", "node9"],
        3,
        "server node9 does not exist",
    );
    inst.fails(
        &["user", "passwd", "nobody@x.test", "--password", "x"],
        3,
        "does not exist",
    );

    inst.fails(
        &["user", "create", "../etc@x.test", "--no-store"],
        2,
        "cannot name a store directory",
    );
    inst.fails(
        &["user", "create", "no-at-sign", "--no-store"],
        2,
        "must be local@domain",
    );
    inst.fails(
        &[
            "user",
            "create",
            "c@x.test",
            "--quota",
            "lots",
            "--no-store",
        ],
        2,
        "bad size",
    );
    inst.fails(&["user", "frobnicate"], 2, "unrecognized subcommand");
    inst.fails(
        &["user", "passwd", "bob@x.test"],
        2,
        "give --password or --password-stdin",
    );
}

#[test]
fn suspend_delete_and_purge_change_what_the_directory_says() {
    let inst = Installation::new();
    set_up_domain(&inst);
    inst.json(&["user", "create", "bob@x.test", "--no-store"]);
    assert_eq!(
        inst.json(&["user", "suspend", "bob@x.test"])["status"],
        "suspended"
    );
    assert_eq!(
        inst.json(&["user", "unsuspend", "bob@x.test"])["status"],
        "normal"
    );
    assert_eq!(
        inst.json(&["user", "delete", "bob@x.test"])["status"],
        "deleted"
    );
    assert_eq!(
        inst.json(&["user", "show", "bob@x.test"])["status"],
        "deleted",
        "a soft delete keeps the row"
    );
    inst.json(&["user", "delete", "bob@x.test", "--purge", "--no-store"]);
    inst.fails(&["user", "show", "bob@x.test"], 3, "does not exist");

    assert_eq!(
        inst.json(&["domain", "suspend", "x.test"])["status"],
        "suspended"
    );
    assert_eq!(
        inst.json(&["domain", "delete", "x.test"])["status"],
        "deleted"
    );
    assert_eq!(
        inst.json(&["domain", "unsuspend", "x.test"])["status"],
        "normal"
    );
    inst.json(&["domain", "delete", "x.test", "--purge", "--no-store"]);
    assert_eq!(inst.json(&["domain", "list"]), serde_json::json!([]));
}

#[test]
fn failover_move_and_rebalance_change_homeservers() {
    let inst = Installation::new();
    set_up_domain(&inst);
    inst.json(&["server", "add", "node2"]);
    for name in ["a", "b", "c", "d"] {
        inst.json(&[
            "user",
            "create",
            &format!("{name}@x.test"),
            "--server",
            "node1",
            "--no-store",
        ]);
    }
    let plan = inst.json(&["rebalance", "--dry-run"]);
    assert_eq!(plan["moves"].as_array().unwrap().len(), 2);
    assert_eq!(
        inst.json(&["user", "show", "d@x.test"])["homeserver"],
        1,
        "a dry run moves nobody"
    );
    let done = inst.json(&["rebalance", "--no-reload"]);
    assert_eq!(done["moved"], 2);
    assert_eq!(
        inst.json(&["rebalance", "--dry-run"])["moves"],
        serde_json::json!([])
    );

    let failover = inst.json(&["failover", "--from", "node1", "--to", "2", "--no-reload"]);
    assert_eq!(
        (failover["users"].as_u64(), failover["domains"].as_u64()),
        (Some(2), Some(0))
    );
    let users = inst.json(&["user", "list"]);
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["homeserver"] == 2),
        "{users}"
    );
    inst.json(&["server", "remove", "node1"]);
    inst.fails(&["server", "remove", "node2"], 4, "homeserver of 4 user(s)");

    let moved = inst.json(&["user", "move", "a@x.test", "--to-server", "0"]);
    assert_eq!(moved["homeserver"], 0);
    assert_eq!(
        moved["reloaded"],
        serde_json::json!([]),
        "no daemon runs with this config dir"
    );
    inst.fails(&["failover", "--from", "2", "--to", "2"], 2, "same server");
}

#[test]
fn a_broken_config_exits_78_and_an_unreachable_directory_69() {
    let inst = Installation::new();
    std::fs::write(
        inst.config_dir().join("groxide.cfg"),
        "directory_url = postgres://x/y\n",
    )
    .unwrap();
    inst.fails(&["domain", "list"], 78, "directory_url");
    std::fs::write(
        inst.config_dir().join("groxide.cfg"),
        "directory_url = sqlite:///nonexistent-dir/d.sqlite3\n",
    )
    .unwrap();
    inst.fails(
        &["domain", "list"],
        69,
        "sqlite:///nonexistent-dir/d.sqlite3",
    );
    std::fs::write(
        inst.config_dir().join("mysql_adaptor.cfg"),
        "mysql_port = 1\nmysql_password = hunter2\n",
    )
    .unwrap();
    std::fs::write(
        inst.config_dir().join("groxide.cfg"),
        "directory_connect_timeout = 1s\n",
    )
    .unwrap();
    let out = inst.run(&["domain", "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(
        stderr.contains("mysql://root@localhost:1/email") && !stderr.contains("hunter2"),
        "{stderr}"
    );
    std::fs::write(
        inst.config_dir().join("groxide.cfg"),
        "data_path = 12 parsecs\nrpc_timeout = never\n",
    )
    .unwrap();
    inst.fails(&["check-config"], 78, "rpc_timeout");
}

#[test]
fn every_command_has_help() {
    let commands: &[&[&str]] = &[
        &[],
        &["domain"],
        &["domain", "create"],
        &["user"],
        &["user", "create"],
        &["user", "move"],
        &["alias", "add"],
        &["altname", "add"],
        &["server", "add"],
        &["failover"],
        &["rebalance"],
        &["reload"],
        &["check-config"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let out = Command::new(env!("CARGO_BIN_EXE_groxide-admin"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: groxide-admin"), "{args:?}: {text}");
        assert!(text.contains("--json"), "{args:?}: --json is global");
    }
}
