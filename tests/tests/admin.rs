//! groxide-admin end to end: a real groxide-exmdb, the admin binary
//! creating a domain and a user (their stores appear on disk), logging in
//! through the directory library, and a failover that re-routes the store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_config::{Config, MysqlAdaptor};
use groxide_directory::{
    Authenticator, Directory, DirectorySettings, LoginThrottle, Protocol, SystemClock,
    ThrottlePolicy,
};
use groxide_e2e::{Node, Service, run_bin};
use groxide_runtime::Routing;
use serde_json::Value;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const NODE: &str = "127.0.0.1";
const OTHER_NODE: &str = "127.0.0.2";
const PASSWORD: &str = "correct horse";

/// Runs groxide-admin --json with `args`; returns its exit code and stdout as JSON (or Null).
fn admin(config: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["--config-dir", config.to_str().unwrap(), "--json"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = run_bin("admin", &all);
    let value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (status.code().unwrap_or(-1), value, stderr)
}

#[track_caller]
fn admin_ok(config: &Path, args: &[&str]) -> Value {
    let (code, value, stderr) = admin(config, args);
    assert_eq!(code, 0, "groxide-admin {args:?}: {stderr}");
    value
}

async fn directory(config: &Path) -> (Config<MysqlAdaptor>, Directory) {
    let (cfg, _) = Config::<MysqlAdaptor>::load(config).unwrap();
    let settings = DirectorySettings::from_config(&cfg).unwrap();
    let directory = Directory::connect(&settings).await.unwrap();
    (cfg, directory)
}

#[tokio::test]
async fn admin_creates_stores_on_the_home_node_and_failover_reroutes_them() {
    let mut node = Node::standalone(NODE);
    node.start_all(&[Service::Event, Service::Exmdb]);
    let exmdb = node.daemon(Service::Exmdb);
    let port = node.ports.exmdb;
    let data_path = node.data.clone();
    let cfg = node.config.path();

    assert_eq!(admin_ok(cfg, &["server", "add", NODE])["id"], 1);
    let domain = admin_ok(cfg, &["domain", "create", "example.test", "--server", "1"]);
    assert_eq!(domain["store_created"], true, "{domain}");
    let homedir = data_path.join("domain/example.test");
    assert!(
        homedir.join("exmdb/exchange.sqlite3").is_file(),
        "no public store at {}",
        homedir.display()
    );

    let user = admin_ok(
        cfg,
        &[
            "user",
            "create",
            "demo@example.test",
            "--password",
            PASSWORD,
            "--server",
            NODE,
            "--quota",
            "1G",
        ],
    );
    assert_eq!(user["store_created"], true, "{user}");
    let maildir = data_path.join("user").join(NODE).join("example.test/demo");
    assert_eq!(user["maildir"], maildir.to_str().unwrap());
    assert!(
        maildir.join("exmdb/exchange.sqlite3").is_file(),
        "no private store at {}",
        maildir.display()
    );
    // Creating the store again is harmless: exmdb reports it existed.
    let again = admin_ok(cfg, &["user", "create-store", "demo@example.test"]);
    assert_eq!(again["created"], false);

    let (loaded, dir) = directory(cfg).await;
    let auth = Authenticator::new(
        dir.clone(),
        LoginThrottle::new(ThrottlePolicy::default(), Arc::new(SystemClock)),
    );
    let client: IpAddr = "192.0.2.7".parse().unwrap();
    let logged_in = auth
        .authenticate("demo@example.test", PASSWORD, Protocol::Imap, client)
        .await
        .unwrap();
    assert_eq!(logged_in.maildir, maildir.to_str().unwrap());
    assert!(
        auth.authenticate("demo@example.test", "wrong", Protocol::Imap, client)
            .await
            .is_err()
    );

    // Failover to node 2: the directory changes, the local exmdb is told to reload,
    // and routing built afterwards sends the store to the new node.
    admin_ok(cfg, &["server", "add", OTHER_NODE]);
    let failover = admin_ok(cfg, &["failover", "--from", NODE, "--to", OTHER_NODE]);
    assert_eq!(
        (failover["users"].as_u64(), failover["domains"].as_u64()),
        (Some(1), Some(1)),
        "{failover}"
    );
    let reloaded = failover["reloaded"].as_array().unwrap();
    assert!(
        reloaded
            .iter()
            .any(|d| d["pid"] == exmdb.pid() && d["error"].is_null()),
        "exmdb (pid {}) was not reloaded: {failover}",
        exmdb.pid()
    );
    assert!(
        exmdb.wait_log("configuration reloaded", Duration::from_secs(10)),
        "{}",
        exmdb.log()
    );

    let routing = Routing::load(&loaded, Some(Arc::new(dir.clone()) as _)).unwrap();
    let route = routing
        .exmdb()
        .resolve(maildir.to_str().unwrap())
        .await
        .unwrap();
    assert_eq!((route.host.as_str(), route.port), (OTHER_NODE, port));
    let route = routing
        .exmdb()
        .resolve(homedir.to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(route.host, OTHER_NODE);

    // Nothing serves node 2: purging the store there is "unavailable", and nothing is lost.
    let (code, _, stderr) = admin(cfg, &["user", "delete", "demo@example.test", "--purge"]);
    assert_eq!(code, 69, "{stderr}");
    assert!(stderr.contains(OTHER_NODE), "{stderr}");
    assert!(maildir.join("exmdb/exchange.sqlite3").is_file());

    // Back to node 1, then the purge removes the row and the store.
    admin_ok(cfg, &["failover", "--from", OTHER_NODE, "--to", NODE]);
    admin_ok(cfg, &["user", "delete", "demo@example.test", "--purge"]);
    assert!(
        !maildir.join("exmdb/exchange.sqlite3").exists(),
        "the store is still there"
    );
    dir.clear_cache();
    assert_eq!(dir.user_by_name("demo@example.test").await.unwrap(), None);
    let (code, _, stderr) = admin(cfg, &["user", "show", "demo@example.test"]);
    assert_eq!(code, 3, "{stderr}");
}
