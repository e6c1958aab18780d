//! groxide-delivery as a process, driven by real clients: Python's
//! smtplib.LMTP, swaks, a real Postfix configured with deploy/postfix/, a
//! second node holding a recipient's store, store outages, and SIGKILL of
//! delivery and exmdb under load. Messages are read back through exmdb.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_config::{Config, Delivery, MysqlAdaptor};
use groxide_directory::{Directory, DirectorySettings};
use groxide_e2e::cluster::{MariaDb, NodeOptions, Ports};
use groxide_e2e::{ConfigDir, Node, Service, free_port, run_bin, wait_listening, wait_until};
use groxide_routing::HomeserverLookup;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_runtime::{Routing, client_options};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const DOMAIN: &str = "example.test";
const START: Duration = Duration::from_secs(30);

/// A node at `ip` (the e2e harness's [`Node`]) with its data and the SQLite
/// directory in `data` (nodes on one data dir share both), `allow` as every
/// RPC service's hosts_allow and `delivery_extra` added to delivery.cfg.
fn node_at(ip: &str, data: &Path, allow: &str, delivery_extra: &str) -> Node {
    node_with_ports(ip, data, allow, delivery_extra, None)
}

fn node_with_ports(
    ip: &str,
    data: &Path,
    allow: &str,
    delivery_extra: &str,
    ports: Option<Ports>,
) -> Node {
    let mut o = NodeOptions::standalone(ip.parse().unwrap(), data);
    o.allow = allow.split(' ').map(|a| a.parse().unwrap()).collect();
    if let Some(p) = ports {
        o.ports = p;
    }
    let node = Node::new(o);
    for line in delivery_extra.lines() {
        if let Some((key, value)) = line.split_once(" = ") {
            node.set("delivery.cfg", key, value);
        }
    }
    node
}

/// Starts the store side of a node: event and exmdb.
fn start_store(node: &mut Node) {
    node.start_all(&[Service::Event, Service::Exmdb]);
}

/// Creates a user through `node`; returns its store directory.
fn user(node: &Node, address: &str, extra: &[&str]) -> String {
    let mut args = vec!["--json", "user", "create", address, "--password", "secret"];
    args.extend_from_slice(extra);
    let v: serde_json::Value = serde_json::from_str(&node.admin(&args)).unwrap();
    v["maildir"].as_str().unwrap().to_string()
}

/// A routed exmdb client as `node`'s daemons have one.
async fn store_client(node: &Node) -> ExmdbClient {
    let (cfg, _) = Config::<Delivery>::load(node.config.path()).unwrap();
    let (adaptor, _) = Config::<MysqlAdaptor>::load(node.config.path()).unwrap();
    let dir = Directory::connect(&DirectorySettings::from_config(&adaptor).unwrap())
        .await
        .unwrap();
    let lookup: Arc<dyn HomeserverLookup> = Arc::new(dir);
    let routing = Routing::load(&cfg, Some(lookup)).unwrap();
    let opts = client_options(&cfg, routing.node()).unwrap();
    ExmdbClient::new(routing.exmdb().clone(), opts)
}

/// Every message in a folder of a store, as stored.
async fn folder_messages(client: &ExmdbClient, dir: &str, role: &str) -> Vec<Vec<u8>> {
    use futures_util::StreamExt;
    let mut list = Box::pin(
        client
            .list_messages(pb::ListMessagesRequest {
                limit: 0,
                dir: dir.to_string(),
                folder: Some(folder_role(role)),
                range: None,
            })
            .await
            .unwrap(),
    );
    let mut ids = Vec::new();
    while let Some(e) = list.next().await {
        ids.push(e.unwrap().message_id);
    }
    let mut out = Vec::new();
    for id in ids {
        out.push(client.read_content_all(dir, id).await.unwrap());
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The trace prefix delivery adds: Return-Path, Delivered-To, and a
/// three-line Received. Returns (prefix, rest).
fn split_trace(stored: &[u8]) -> (&[u8], &[u8]) {
    let mut crlf = 0;
    for i in 0..stored.len().saturating_sub(1) {
        if &stored[i..i + 2] == b"\r\n" {
            crlf += 1;
            if crlf == 5 {
                return stored.split_at(i + 2);
            }
        }
    }
    panic!("no trace prefix in {:?}", String::from_utf8_lossy(stored));
}

fn assert_trace(prefix: &[u8], sender: &str, rcpt: &str) {
    let p = String::from_utf8_lossy(prefix);
    assert!(
        p.starts_with(&format!(
            "Return-Path: <{sender}>\r\nDelivered-To: {rcpt}\r\nReceived: from "
        )),
        "{p}"
    );
    assert!(p.contains(&format!("\tfor <{rcpt}>; ")), "{p}");
}

fn message(subject: &str, body_lines: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender <sender@remote.test>\r\nTo: <good@{DOMAIN}>\r\nSubject: {subject}\r\n\
         Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <{subject}@remote.test>\r\n\r\n"
    )
    .into_bytes();
    for i in 0..body_lines {
        m.extend_from_slice(format!("line {i}: some text\r\n").as_bytes());
    }
    m.extend_from_slice(b".a line with a leading dot\r\n");
    m
}

/// A single node with good@, full@ (tiny quota) and the usual daemons.
fn single_node(ip: &str) -> (tempfile::TempDir, Node, String, String) {
    let data = tempfile::tempdir().unwrap();
    let mut node = node_at(ip, data.path(), ip, "lda_recipient_delimiter = +\n");
    start_store(&mut node);
    node.admin(&["domain", "create", DOMAIN]);
    let good = user(&node, &format!("good@{DOMAIN}"), &[]);
    let full = user(&node, &format!("full@{DOMAIN}"), &["--quota", "1K"]);
    node.start(Service::Delivery);
    (data, node, good, full)
}

const LMTP_PY: &str = r#"
import json, re, smtplib, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rcpts = sys.argv[4:]
data = open(path, 'rb').read()
s = smtplib.LMTP(host, port)
s.ehlo_or_helo_if_needed()
out = {"mail": s.mail("sender@remote.test")[0], "rcpt": [], "data": []}
accepted = []
for r in rcpts:
    code, msg = s.rcpt(r)
    out["rcpt"].append([r, code, msg.decode()])
    if code == 250:
        accepted.append(r)
code, msg = s.docmd("DATA")
out["data_start"] = code
s.send(re.sub(rb'(?m)^\.', b'..', data) + b".\r\n")
for r in accepted:
    code, msg = s.getreply()
    out["data"].append([r, code, msg.decode()])
s.quit()
print(json.dumps(out))
"#;

#[test]
fn python_lmtp_gets_one_reply_per_recipient_and_the_store_holds_the_exact_bytes() {
    let (_data, node, good, full) = single_node("127.0.10.1");
    let tmp = tempfile::tempdir().unwrap();
    let msg = message("python", 200);
    let path = tmp.path().join("m.eml");
    std::fs::write(&path, &msg).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            LMTP_PY,
            &node.ip.to_string(),
            &node.ports.lmtp.to_string(),
        ])
        .arg(&path)
        .args([
            format!("good@{DOMAIN}"),
            format!("nobody@{DOMAIN}"),
            format!("full@{DOMAIN}"),
            format!("good+tag@{DOMAIN}"),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let codes = |key: &str| -> Vec<u64> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[1].as_u64().unwrap())
            .collect()
    };
    assert_eq!(codes("rcpt"), [250, 550, 250, 250], "{v}");
    assert_eq!(v["data_start"], 354);
    // One reply per accepted recipient, in RCPT order: full@ is over quota.
    assert_eq!(codes("data"), [250, 452, 250], "{v}");
    assert!(
        v["data"][1][2].as_str().unwrap().starts_with("4.2.2"),
        "{v}"
    );

    runtime().block_on(async {
        let client = store_client(&node).await;
        let stored = folder_messages(&client, &good, "inbox").await;
        // good@ and good+tag@ are one mailbox: one copy, traced for the
        // first of them (issue 19.6), and still a 250 for each.
        assert_eq!(stored.len(), 1, "good@ and good+tag@ share one copy");
        let (prefix, rest) = split_trace(&stored[0]);
        assert_eq!(
            rest,
            msg.as_slice(),
            "stored bytes = trace prefix + sent bytes"
        );
        assert_trace(prefix, "sender@remote.test", &format!("good@{DOMAIN}"));
        assert!(folder_messages(&client, &full, "inbox").await.is_empty());
    });
}

#[test]
fn swaks_sees_per_recipient_lmtp_replies_and_junk_goes_to_junk() {
    let data = tempfile::tempdir().unwrap();
    let ip = "127.0.10.5";
    let mut node = node_at(ip, data.path(), ip, "lda_junk_rules = X-Spam-Flag=YES\n");
    start_store(&mut node);
    node.admin(&["domain", "create", DOMAIN]);
    let good = user(&node, &format!("good@{DOMAIN}"), &[]);
    user(&node, &format!("full@{DOMAIN}"), &["--quota", "1K"]);
    node.start(Service::Delivery);
    let tmp = tempfile::tempdir().unwrap();
    let mut msg = b"X-Spam-Flag: YES\r\n".to_vec();
    msg.extend_from_slice(&message("swaks", 100));
    let path = tmp.path().join("m.eml");
    std::fs::write(&path, &msg).unwrap();
    let out = Command::new("swaks")
        .args([
            "--protocol",
            "LMTP",
            "--server",
            &node.addr(Service::Delivery).to_string(),
        ])
        .args([
            "--from",
            "sender@remote.test",
            "--helo",
            "swaks.remote.test",
        ])
        .args([
            "--to",
            &format!("good@{DOMAIN},nobody@{DOMAIN},full@{DOMAIN}"),
        ])
        .arg("--data")
        .arg(format!("@{}", path.display()))
        .output()
        .unwrap();
    let transcript = String::from_utf8_lossy(&out.stdout).into_owned();
    let replies: Vec<&str> = transcript
        .lines()
        .filter(|l| l.starts_with("<- ") || l.starts_with("<**"))
        .map(|l| l[3..].trim_start())
        .filter(|l| l.len() > 4 && l.as_bytes()[3] == b' ')
        .collect();
    let after_data: Vec<&str> = replies
        .iter()
        .skip_while(|r| !r.starts_with("354"))
        .skip(1)
        .copied()
        .collect();
    assert!(
        replies
            .iter()
            .any(|r| r.starts_with(&format!("550 5.1.1 <nobody@{DOMAIN}>"))),
        "{transcript}"
    );
    assert!(
        after_data[0].starts_with(&format!("250 2.1.5 <good@{DOMAIN}>")),
        "{transcript}"
    );
    assert!(
        after_data[1].starts_with(&format!("452 4.2.2 <full@{DOMAIN}>")),
        "{transcript}"
    );
    assert!(after_data[2].starts_with("221"), "{transcript}");
    runtime().block_on(async {
        let client = store_client(&node).await;
        let junk = folder_messages(&client, &good, "junk").await;
        assert_eq!(junk.len(), 1, "X-Spam-Flag: YES goes to Junk Email");
        assert!(folder_messages(&client, &good, "inbox").await.is_empty());
        let (prefix, rest) = split_trace(&junk[0]);
        // swaks sends CRLF "." CRLF after the data even when it ends in CRLF,
        // so what it sent (and what is stored) is the file plus an empty line.
        let sent = [msg.as_slice(), b"\r\n"].concat();
        assert_eq!(rest, sent.as_slice());
        assert_trace(prefix, "sender@remote.test", &format!("good@{DOMAIN}"));
        assert!(String::from_utf8_lossy(prefix).contains("Received: from swaks.remote.test ("));
    });
}

#[test]
fn a_store_node_that_is_down_gets_451_and_nothing_is_stored_until_a_retry() {
    let (_data, mut node, good, _full) = single_node("127.0.10.4");
    let rt = runtime();
    let submitter = groxide_submit::Submitter::new(
        &format!("lmtp://{}", node.addr(Service::Delivery)),
        groxide_submit::SubmitOptions::default(),
    )
    .unwrap();
    let envelope = groxide_submit::Envelope {
        from: "sender@remote.test".into(),
        recipients: vec![format!("good@{DOMAIN}")],
    };
    let msg = message("outage", 20);
    // The store's exmdb goes away (SIGKILL: no drain).
    node.kill(Service::Exmdb);
    let report = rt.block_on(submitter.send_bytes(&envelope, &msg)).unwrap();
    let reply = report.recipients[0].status.reply().clone();
    assert_eq!(
        (reply.code, reply.status),
        (451, Some([4, 3, 0])),
        "{reply}\n{}",
        node.logs()
    );

    node.start(Service::Exmdb);
    rt.block_on(async {
        let client = store_client(&node).await;
        assert!(
            folder_messages(&client, &good, "inbox").await.is_empty(),
            "nothing stored"
        );
    });
    // Postfix would retry now: the same message goes through.
    let report = rt.block_on(submitter.send_bytes(&envelope, &msg)).unwrap();
    assert!(report.all_accepted(), "{report:?}\n{}", node.logs());
    rt.block_on(async {
        let client = store_client(&node).await;
        let stored = folder_messages(&client, &good, "inbox").await;
        assert_eq!(stored.len(), 1);
        assert_eq!(split_trace(&stored[0]).1, msg.as_slice());
    });
}

#[test]
fn a_recipient_homed_on_another_node_is_delivered_through_that_nodes_exmdb() {
    let data = tempfile::tempdir().unwrap();
    let (ip2, ip3): (IpAddr, IpAddr) = ("127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap());
    // Both nodes serve exmdb on the same port (routing connects to host:port).
    let ports = Ports::free_on(&[ip2, ip3]);
    let allow = "127.0.0.2 127.0.0.3";
    let mut node2 = node_with_ports("127.0.0.2", data.path(), allow, "", Some(ports));
    let mut node3 = node_with_ports("127.0.0.3", data.path(), allow, "", Some(ports));
    start_store(&mut node2);
    start_store(&mut node3);
    node2.admin(&["server", "add", "127.0.0.2"]);
    node2.admin(&["server", "add", "127.0.0.3"]);
    node2.admin(&["domain", "create", DOMAIN, "--server", "127.0.0.2"]);
    let local = user(
        &node2,
        &format!("local@{DOMAIN}"),
        &["--server", "127.0.0.2"],
    );
    let remote = user(
        &node2,
        &format!("remote@{DOMAIN}"),
        &["--server", "127.0.0.3"],
    );
    assert!(remote.contains("/127.0.0.3/"), "{remote}");
    node2.start(Service::Delivery);

    let msg = message("cross-node", 50);
    let rt = runtime();
    let submitter = groxide_submit::Submitter::new(
        &format!("lmtp://{}", node2.addr(Service::Delivery)),
        groxide_submit::SubmitOptions::default(),
    )
    .unwrap();
    let envelope = groxide_submit::Envelope {
        from: "sender@remote.test".into(),
        recipients: vec![format!("local@{DOMAIN}"), format!("remote@{DOMAIN}")],
    };
    let report = rt.block_on(submitter.send_bytes(&envelope, &msg)).unwrap();
    assert!(
        report.all_accepted(),
        "{report:?}\n{}{}",
        node2.logs(),
        node3.logs()
    );

    rt.block_on(async {
        // Ask node 3's exmdb directly (no routing): the store is there.
        let ch = groxide_rpc::client::channel(
            "exmdb",
            &groxide_rpc::NodeAddr::new("127.0.0.3", ports.exmdb),
            &groxide_rpc::ClientOptions {
                source_ip: Some(ip2),
                ..Default::default()
            },
        )
        .unwrap();
        let info = pb::exmdb_client::ExmdbClient::new(ch)
            .get_store_info(pb::StoreRequest {
                dir: remote.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(info.message_count, 1, "the message is in node 3's store");
        let client = store_client(&node2).await;
        for (dir, rcpt) in [(&local, "local"), (&remote, "remote")] {
            let stored = folder_messages(&client, dir, "inbox").await;
            assert_eq!(stored.len(), 1, "{rcpt}");
            let (prefix, rest) = split_trace(&stored[0]);
            assert_eq!(rest, msg.as_slice());
            assert_trace(prefix, "sender@remote.test", &format!("{rcpt}@{DOMAIN}"));
        }
    });
}

/// A message the load generator sent, and whether it got 250.
struct Sent {
    user: usize,
    hash: [u8; 32],
    acked: bool,
}

fn sha256(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

#[test]
fn sigkill_of_delivery_and_exmdb_under_load_loses_no_acknowledged_message() {
    let data = tempfile::tempdir().unwrap();
    let ip = "127.0.10.3";
    let mut node = node_at(ip, data.path(), ip, "");
    start_store(&mut node);
    node.admin(&["domain", "create", DOMAIN]);
    let users: Vec<String> = (0..4)
        .map(|i| user(&node, &format!("load{i}@{DOMAIN}"), &[]))
        .collect();
    node.start(Service::Delivery);

    let rt = runtime();
    let sent = Arc::new(std::sync::Mutex::new(Vec::<Sent>::new()));
    let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let url = format!("lmtp://{}", node.addr(Service::Delivery));
    let mut clients = Vec::new();
    for c in 0..4usize {
        let (sent, acked, stop, url) = (sent.clone(), acked.clone(), stop.clone(), url.clone());
        clients.push(rt.spawn(async move {
            use std::sync::atomic::Ordering;
            let submitter = groxide_submit::Submitter::new(&url, Default::default()).unwrap();
            let mut conn = None;
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                if conn.is_none() {
                    match submitter.connect().await {
                        Ok(c) => conn = Some(c),
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    }
                }
                n += 1;
                let user = (c + n) % 4;
                let msg = message(&format!("load-{c}-{n}"), 50 + (n * 37) % 2000);
                let envelope = groxide_submit::Envelope {
                    from: "sender@remote.test".into(),
                    recipients: vec![format!("load{user}@{DOMAIN}")],
                };
                let Some(open) = conn.as_mut() else { continue };
                let result = open.send(&envelope, msg.as_slice(), None).await;
                let ok = matches!(&result, Ok(r) if r.all_accepted());
                sent.lock().unwrap().push(Sent {
                    user,
                    hash: sha256(&msg),
                    acked: ok,
                });
                if ok {
                    acked.fetch_add(1, Ordering::Relaxed);
                } else {
                    if result.is_err() {
                        conn = None;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }
    let wait_acked = |n: usize| {
        assert!(
            wait_until(Duration::from_secs(120), || acked
                .load(std::sync::atomic::Ordering::Relaxed)
                >= n),
            "only {} acknowledged",
            acked.load(std::sync::atomic::Ordering::Relaxed)
        );
    };
    wait_acked(40);
    node.kill(Service::Delivery);
    node.start(Service::Delivery);
    wait_acked(80);
    node.kill(Service::Exmdb);
    node.start(Service::Exmdb);
    wait_acked(120);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        rt.block_on(c).unwrap();
    }

    let sent = sent.lock().unwrap();
    rt.block_on(async {
        let client = store_client(&node).await;
        let mut acked_found = 0;
        for (i, dir) in users.iter().enumerate() {
            let stored = folder_messages(&client, dir, "inbox").await;
            let hashes: Vec<[u8; 32]> = stored
                .iter()
                .map(|m| {
                    let (prefix, rest) = split_trace(m);
                    assert_trace(prefix, "sender@remote.test", &format!("load{i}@{DOMAIN}"));
                    sha256(rest)
                })
                .collect();
            // Nothing half-written: every stored message is one that was sent, whole.
            for h in &hashes {
                assert!(
                    sent.iter().any(|s| s.user == i && &s.hash == h),
                    "a stored message matches nothing that was sent"
                );
            }
            // Nothing acknowledged is lost.
            for s in sent.iter().filter(|s| s.user == i && s.acked) {
                assert!(
                    hashes.contains(&s.hash),
                    "an acknowledged message is missing\n{}",
                    node.logs()
                );
                acked_found += 1;
            }
        }
        assert!(acked_found >= 120);
    });
}

/// A private Postfix instance (Debian's binaries, our config dir and queue);
/// stopped when dropped.
struct Postfix {
    root: tempfile::TempDir,
    port: u16,
}

impl Postfix {
    fn conf(&self) -> PathBuf {
        self.root.path().join("conf")
    }

    fn command(&self, verb: &str) -> std::process::Output {
        // postfix logs its own errors to syslog only unless stderr is a tty.
        Command::new("script")
            .args([
                "-qec",
                &format!("postfix -c {} {verb}", self.conf().display()),
                "/dev/null",
            ])
            .output()
            .expect("run postfix")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = self.command("stop");
        // postfix stop signals the master; wait until it is gone.
        let pid_file = self.root.path().join("queue/pid/master.pid");
        wait_until(Duration::from_secs(10), || {
            std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|p| p.trim().parse::<u32>().ok())
                .is_none_or(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        });
        if std::thread::panicking() {
            eprintln!("--- postfix maillog ---\n{}", self.log());
        }
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Starts Postfix with deploy/postfix/ (main.cf, master.cf, the SQLite
/// maps pointed at `db`), relaying to `lmtp`.
fn start_postfix(db: &Path, lmtp: SocketAddr) -> Postfix {
    assert!(
        Path::new("/usr/sbin/postfix").exists()
            && Path::new("/usr/lib/postfix/sbin/master").exists(),
        "Debian's postfix and postfix-sqlite packages are needed (.ci/prepare installs them)"
    );
    let uid = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid()
    });
    assert_eq!(uid.ok(), Some(0), "a private Postfix instance needs root");
    let root = tempfile::tempdir().unwrap();
    // Postfix's unprivileged processes (user postfix) must reach the files.
    chmod(root.path(), 0o755);
    let conf = root.path().join("conf");
    let maps = conf.join("groxide");
    std::fs::create_dir_all(&maps).unwrap();
    std::fs::create_dir_all(root.path().join("queue")).unwrap();
    let data_dir = root.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let st = Command::new("chown")
        .arg("postfix")
        .arg(&data_dir)
        .status()
        .unwrap();
    assert!(st.success());

    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/postfix");
    let read = |f: &str| std::fs::read_to_string(deploy.join(f)).unwrap();
    for f in ["sqlite-domains.cf", "sqlite-recipients.cf"] {
        let text = read(f).replace("/var/lib/groxide/directory.sqlite3", db.to_str().unwrap());
        std::fs::write(maps.join(f), text).unwrap();
    }
    let snippet = read("main.cf")
        .replace("/etc/postfix/groxide/", &format!("{}/", maps.display()))
        .replace("lmtp:inet:127.0.0.1:24", &format!("lmtp:inet:{lmtp}"));
    let port = free_port("127.0.0.1".parse().unwrap());
    let base = format!(
        "compatibility_level = 3.6\n\
         queue_directory = {root}/queue\n\
         data_directory = {root}/data\n\
         mail_owner = postfix\n\
         setgid_group = postdrop\n\
         inet_interfaces = 127.0.0.1\n\
         inet_protocols = ipv4\n\
         myhostname = mx.postfix.test\n\
         mydestination =\n\
         # The test's client (127.0.0.1) may not relay.\n\
         mynetworks = 127.0.0.2/32\n\
         alias_maps =\n\
         alias_database =\n\
         maillog_file = {root}/maillog\n\
         maillog_file_prefixes = {root}\n\
         smtputf8_enable = no\n\
         delay_warning_time = 0\n\
         # no retry back-off worth waiting for in a test\n\
         queue_run_delay = 1s\nminimal_backoff_time = 1s\nmaximal_backoff_time = 2s\n",
        root = root.path().display()
    );
    std::fs::write(conf.join("main.cf"), format!("{base}\n{snippet}")).unwrap();
    let services = [
        format!("127.0.0.1:{port} inet n - n - - smtpd"),
        "pickup unix n - n 60 1 pickup".into(),
        "cleanup unix n - n - 0 cleanup".into(),
        "qmgr unix n - n 300 1 qmgr".into(),
        "rewrite unix - - n - - trivial-rewrite".into(),
        "bounce unix - - n - 0 bounce".into(),
        "defer unix - - n - 0 bounce".into(),
        "trace unix - - n - 0 bounce".into(),
        "verify unix - - n - 1 verify".into(),
        "flush unix n - n 1000? 0 flush".into(),
        "smtp unix - - n - - smtp".into(),
        "relay unix - - n - - smtp".into(),
        "showq unix n - n - - showq".into(),
        "error unix - - n - - error".into(),
        "retry unix - - n - - error".into(),
        "discard unix - - n - - discard".into(),
        "anvil unix - - n - 1 anvil".into(),
        "scache unix - - n - 1 scache".into(),
        "postlog unix-dgram n - n - 1 postlogd".into(),
    ];
    let master = format!("{}\n{}", services.join("\n"), read("master.cf"));
    std::fs::write(conf.join("master.cf"), master).unwrap();
    let pf = Postfix { root, port };
    let out = pf.command("check");
    assert!(
        out.status.success(),
        "postfix check: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = pf.command("start");
    assert!(
        out.status.success(),
        "postfix start: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        pf.log()
    );
    assert!(
        wait_listening(SocketAddr::new("127.0.0.1".parse().unwrap(), port), START),
        "postfix smtpd did not listen\n{}",
        pf.log()
    );
    pf
}

const SMTP_PY: &str = r#"
import json, smtplib, sys
port, path = int(sys.argv[1]), sys.argv[2]
rcpts = sys.argv[3:]
s = smtplib.SMTP("127.0.0.1", port)
s.ehlo("client.remote.test")
out = {"mail": s.mail("sender@remote.test")[0], "rcpt": []}
ok = 0
for r in rcpts:
    code, msg = s.rcpt(r)
    out["rcpt"].append([r, code, msg.decode()])
    ok += code == 250
if ok:
    out["data"] = s.data(open(path, "rb").read())[0]
s.quit()
print(json.dumps(out))
"#;

#[test]
fn postfix_with_the_deploy_snippets_accepts_exactly_groxides_recipients_and_relays_over_lmtp() {
    let data = tempfile::tempdir().unwrap();
    chmod(data.path(), 0o755);
    let ip = "127.0.10.2";
    let mut node = node_at(ip, data.path(), ip, "lda_recipient_delimiter = +\n");
    start_store(&mut node);
    node.admin(&["domain", "create", DOMAIN]);
    node.admin(&["domain", "create", "catchall.test"]);
    let good = user(&node, &format!("good@{DOMAIN}"), &[]);
    let catcher = user(&node, "catcher@catchall.test", &[]);
    user(&node, &format!("suspended@{DOMAIN}"), &[]);
    node.admin(&["user", "suspend", &format!("suspended@{DOMAIN}")]);
    node.admin(&[
        "alias",
        "add",
        &format!("alias@{DOMAIN}"),
        &format!("good@{DOMAIN}"),
    ]);
    node.admin(&["alias", "add", "@catchall.test", "catcher@catchall.test"]);
    node.start(Service::Delivery);
    let db = data.path().join("directory.sqlite3");
    for entry in std::fs::read_dir(data.path()).unwrap().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("directory.sqlite3")
        {
            chmod(&entry.path(), 0o666);
        }
    }
    chmod(data.path(), 0o777);
    let postfix = start_postfix(&db, node.addr(Service::Delivery));

    let tmp = tempfile::tempdir().unwrap();
    let msg = message("via-postfix", 30);
    let path = tmp.path().join("m.eml");
    std::fs::write(&path, &msg).unwrap();
    let out = Command::new("python3")
        .args(["-c", SMTP_PY, &postfix.port.to_string()])
        .arg(&path)
        .args([
            format!("good@{DOMAIN}"),
            format!("alias@{DOMAIN}"),
            format!("good+tag@{DOMAIN}"),
            "anyone@catchall.test".into(),
            format!("unknown@{DOMAIN}"),
            format!("suspended@{DOMAIN}"),
            "someone@not-ours.test".into(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let codes: Vec<u64> = v["rcpt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_u64().unwrap())
        .collect();
    assert_eq!(
        &codes[..6],
        [250, 250, 250, 250, 550, 550],
        "{v}\n{}",
        postfix.log()
    );
    assert!(codes[6] >= 450, "a foreign domain is not relayed: {v}");
    assert!(v["rcpt"][4][2].as_str().unwrap().contains("5.1.1"), "{v}");
    assert_eq!(v["data"], 250, "{v}");

    // Postfix relays over LMTP: direct, alias and +tag all reach good's
    // one mailbox, which keeps one copy (issue 19.6).
    let rt = runtime();
    let client = rt.block_on(store_client(&node));
    let counts = || {
        rt.block_on(async {
            (
                folder_messages(&client, &good, "inbox").await.len(),
                folder_messages(&client, &catcher, "inbox").await.len(),
            )
        })
    };
    assert!(
        wait_until(Duration::from_secs(60), || counts() == (1, 1)),
        "got {:?}\n{}\n{}",
        counts(),
        postfix.log(),
        node.logs()
    );
    let stored = rt.block_on(folder_messages(&client, &catcher, "inbox"));
    let (prefix, rest) = split_trace(&stored[0]);
    assert!(rest.ends_with(&msg), "the body arrives unchanged");
    let p = String::from_utf8_lossy(prefix);
    assert!(
        p.starts_with(
            "Return-Path: <sender@remote.test>\r\nDelivered-To: anyone@catchall.test\r\n"
        ),
        "{p}"
    );
    assert!(p.contains("Received: from mx.postfix.test ("), "{p}");
    assert!(postfix.log().contains("status=sent"), "{}", postfix.log());
}

/// `postmap -q key map`: the value, or None when the map has no entry.
fn postmap(map: &str, key: &str) -> Option<String> {
    let out = Command::new("postmap")
        .args(["-q", key, map])
        .output()
        .expect("postmap");
    match out.status.code() {
        Some(0) => Some(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        Some(1) => None,
        _ => panic!(
            "postmap -q {key} {map}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn the_mysql_maps_answer_exactly_groxides_recipients() {
    let db = MariaDb::create("groxide_pfmaps");
    let config = ConfigDir::new();
    config.write(
        "groxide.cfg",
        &format!("directory_url = mysql://root@127.0.0.1:3306/{}\n", db.name),
    );
    let admin = |args: &[&str]| {
        let mut all = vec!["--config-dir", config.path().to_str().unwrap()];
        all.extend_from_slice(args);
        let (st, out, err) = run_bin("admin", &all);
        assert!(st.success(), "groxide-admin {args:?}: {out}{err}");
    };
    admin(&["domain", "create", DOMAIN, "--no-store"]);
    admin(&["domain", "create", "catchall.test", "--no-store"]);
    admin(&["domain", "create", "off.test", "--no-store"]);
    admin(&["domain", "suspend", "off.test"]);
    for user in [
        format!("good@{DOMAIN}"),
        format!("suspended@{DOMAIN}"),
        "catcher@catchall.test".into(),
        "someone@off.test".into(),
    ] {
        admin(&["user", "create", &user, "--password", "x", "--no-store"]);
    }
    admin(&["user", "suspend", &format!("suspended@{DOMAIN}")]);
    admin(&[
        "alias",
        "add",
        &format!("alias@{DOMAIN}"),
        &format!("good@{DOMAIN}"),
    ]);
    admin(&[
        "alias",
        "add",
        &format!("gone@{DOMAIN}"),
        &format!("suspended@{DOMAIN}"),
    ]);
    admin(&["alias", "add", "@catchall.test", "catcher@catchall.test"]);

    let maps = tempfile::tempdir().unwrap();
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/postfix");
    for f in ["mysql-domains.cf", "mysql-recipients.cf"] {
        let text = std::fs::read_to_string(deploy.join(f))
            .unwrap()
            .replace("user = groxide-postfix", "user = root")
            .replace("password = CHANGE-ME", "password =")
            .replace("dbname = email", &format!("dbname = {}", db.name));
        std::fs::write(maps.path().join(f), text).unwrap();
    }
    let domains = format!("mysql:{}/mysql-domains.cf", maps.path().display());
    let recipients = format!("mysql:{}/mysql-recipients.cf", maps.path().display());
    assert_eq!(postmap(&domains, DOMAIN).as_deref(), Some(DOMAIN));
    assert_eq!(
        postmap(&domains, "catchall.test").as_deref(),
        Some("catchall.test")
    );
    assert_eq!(postmap(&domains, "off.test"), None, "a suspended domain");
    assert_eq!(postmap(&domains, "not-ours.test"), None);
    let good = format!("good@{DOMAIN}");
    for (key, want) in [
        (good.clone(), Some(good.as_str())),
        (format!("GOOD@{DOMAIN}"), Some(good.as_str())),
        (format!("alias@{DOMAIN}"), Some(good.as_str())),
        ("@catchall.test".to_string(), Some("catcher@catchall.test")),
        (format!("nobody@{DOMAIN}"), None),
        (format!("suspended@{DOMAIN}"), None),
        (format!("gone@{DOMAIN}"), None),
        ("someone@off.test".to_string(), None),
        ("x' OR '1'='1".to_string(), None),
    ] {
        assert_eq!(postmap(&recipients, &key).as_deref(), want, "{key}");
    }
}

#[test]
fn sighup_applies_a_new_size_limit_to_new_sessions() {
    let (_data, node, good, _full) = single_node("127.0.10.6");
    let rt = runtime();
    let submitter = groxide_submit::Submitter::new(
        &format!("lmtp://{}", node.addr(Service::Delivery)),
        groxide_submit::SubmitOptions::default(),
    )
    .unwrap();
    let envelope = groxide_submit::Envelope {
        from: "sender@remote.test".into(),
        recipients: vec![format!("good@{DOMAIN}")],
    };
    let msg = message("reload", 200);
    assert!(msg.len() > 2048);
    let report = rt.block_on(submitter.send_bytes(&envelope, &msg)).unwrap();
    assert!(report.all_accepted(), "{report:?}");

    node.set("delivery.cfg", "mail_max_length", "2K");
    let delivery = node.daemon(Service::Delivery);
    delivery.signal("HUP");
    assert!(
        delivery.wait_log("configuration reloaded", START),
        "{}",
        delivery.log()
    );
    // The relay sees the new SIZE and refuses before sending.
    let err = rt
        .block_on(submitter.send_bytes(&envelope, &msg))
        .unwrap_err();
    assert_eq!(err.reply().map(|r| r.code), Some(552), "{err}");
    // A client that ignores SIZE gets 552 5.3.4 after the data.
    let report = rt
        .block_on(submitter.send(&envelope, msg.as_slice(), None))
        .unwrap();
    let reply = report.recipients[0].status.reply().clone();
    assert_eq!(
        (reply.code, reply.status),
        (552, Some([5, 3, 4])),
        "{reply}"
    );
    rt.block_on(async {
        let client = store_client(&node).await;
        assert_eq!(folder_messages(&client, &good, "inbox").await.len(), 1);
    });
}
