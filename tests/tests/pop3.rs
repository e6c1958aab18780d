//! groxide-pop3 as a process over real event, exmdb, midb and delivery
//! processes, driven by real clients: Python's poplib, curl and fetchmail.
//! Mail arrives through groxide-delivery (LMTP). Also: UIDL across a
//! restart and a deleted midb.sqlite3, DELE with and without QUIT, a user
//! homed on another node, and the event a POP3 deletion produces.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use groxide_e2e::cluster::NodeOptions;
use groxide_e2e::{Node, Service};
use groxide_rpc::pb::event::v1::{
    NotificationKind, SubscribeRequest, event_client::EventClient, subscribe_reply,
};
use groxide_rpc::pb::midb::v1 as mpb;
use groxide_rpc::pb::midb::v1::midb_client::MidbClient;
use groxide_rpc::{ClientOptions, NodeAddr};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const DOMAIN: &str = "example.test";
const USER: &str = "demo@example.test";
const PASSWORD: &str = "secret";

/// A node at `ip` with its data in `data`, the directory at `db` (shared
/// between nodes) and `allow` as every RPC service's hosts_allow.
fn node_at(ip: &str, data: &Path, db: &Path, allow: &str) -> Node {
    let mut o = NodeOptions::standalone(ip.parse().unwrap(), data);
    o.directory_url = format!("sqlite://{}", db.display());
    o.allow = allow.split(' ').map(|a| a.parse().unwrap()).collect();
    Node::new(o)
}

/// Creates the demo domain and user; returns the user's store directory.
fn create_user(node: &Node) -> String {
    node.create_domain(DOMAIN);
    node.create_user(USER, PASSWORD, None)
}

/// Delivers `subjects.len()` messages to the demo user through `node`'s LMTP.
fn deliver(node: &Node, subjects: &[&str]) {
    for s in subjects {
        let msg = format!(
            "From: Sender <sender@remote.test>\r\nTo: {USER}\r\nSubject: {s}\r\n\
             Message-ID: <{s}@remote.test>\r\n\r\nHello, this is {s}.\r\n.a line with a dot\r\nbye\r\n"
        );
        let out = Command::new("python3")
            .args([
                "-c",
                LMTP_PY,
                &node.ip.to_string(),
                &node.ports.lmtp.to_string(),
                USER,
            ])
            .env("MSG", msg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "LMTP delivery failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            node.logs()
        );
    }
}

const LMTP_PY: &str = r#"
import os, re, smtplib, sys
host, port, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = smtplib.LMTP(host, port)
s.ehlo_or_helo_if_needed()
s.mail("sender@remote.test")
code, _ = s.rcpt(rcpt)
assert code == 250, code
code, msg = s.data(os.environ["MSG"].encode())
assert code == 250, (code, msg)
s.quit()
"#;

/// poplib: connect (plain, ssl or stls), log in, read everything, DELE the
/// given numbers, then QUIT or drop the connection. Prints JSON.
const POPLIB_PY: &str = r#"
import json, poplib, ssl, sys
host, port, user, pw, mode, dele, finish = sys.argv[1:8]
ctx = ssl._create_unverified_context()
if mode == "ssl":
    p = poplib.POP3_SSL(host, int(port), context=ctx)
else:
    p = poplib.POP3(host, int(port))
    if mode == "stls":
        p.stls(context=ctx)
out = {"welcome": p.getwelcome().decode(), "capa": sorted(p.capa().keys())}
p.user(user)
p.pass_(pw)
n, size = p.stat()
out["stat"] = [n, size]
out["uidl"] = [l.decode().split()[1] for l in p.uidl()[1]]
out["list"] = [int(l.decode().split()[1]) for l in p.list()[1]]
out["retr"] = [b"\n".join(p.retr(i + 1)[1]).decode("utf-8", "replace") for i in range(n)]
out["top"] = [l.decode() for l in p.top(1, 1)[1]] if n else []
for m in filter(None, dele.split(",")):
    p.dele(int(m))
if finish == "quit":
    out["quit"] = p.quit().decode()
else:
    p.sock.close()
print(json.dumps(out))
"#;

fn poplib(node: &Node, port: u16, mode: &str, dele: &str, finish: &str) -> serde_json::Value {
    let out = Command::new("python3")
        .args([
            "-c",
            POPLIB_PY,
            &node.ip.to_string(),
            &port.to_string(),
            USER,
            PASSWORD,
            mode,
            dele,
            finish,
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "poplib failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// A node with event, exmdb, midb, delivery and pop3, and the demo user.
fn single(ip: &str) -> (tempfile::TempDir, Node, String) {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("directory.sqlite3");
    let mut node = node_at(ip, data.path(), &db, ip);
    node.start_all(&Service::STORE);
    let dir = create_user(&node);
    node.start(Service::Delivery);
    node.start(Service::Pop3);
    (data, node, dir)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// UID, flags and ENVELOPE of every INBOX message as midb reports them
/// (the ENVELOPE comes from midb.sqlite3, computed if missing).
fn inbox_metadata(node: &Node, dir: &str) -> Vec<(u32, u32, Vec<u8>)> {
    runtime().block_on(async {
        let opts = ClientOptions {
            source_ip: Some(node.ip),
            ..ClientOptions::default()
        };
        let ch = groxide_rpc::client::channel(
            "midb",
            &NodeAddr::new(node.ip.to_string(), node.ports.midb),
            &opts,
        )
        .unwrap();
        let mut m = MidbClient::new(ch);
        let st = m
            .mailbox_status(mpb::MailboxStatusRequest {
                dir: dir.into(),
                name: "INBOX".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let mut s = m
            .fetch_metadata(mpb::FetchMetadataRequest {
                dir: dir.into(),
                folder_id: st.folder_id,
                items: mpb::MetadataItem::Flags as u32 | mpb::MetadataItem::Envelope as u32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut out = Vec::new();
        while let Some(m) = s.next().await {
            let m = m.unwrap();
            out.push((m.uid, m.flags, m.envelope));
        }
        out
    })
}

#[test]
fn python_poplib_reads_every_message_and_dele_applies_at_quit() {
    let (_data, node, _dir) = single("127.0.21.1");
    deliver(&node, &["one", "two", "three"]);
    let v = poplib(&node, node.ports.pop3, "plain", "2", "quit");
    assert!(v["welcome"].as_str().unwrap().starts_with("+OK"));
    let capa = strings(&v["capa"]);
    for c in [
        "TOP",
        "UIDL",
        "USER",
        "SASL",
        "STLS",
        "RESP-CODES",
        "PIPELINING",
    ] {
        assert!(capa.contains(&c.to_string()), "{c} in {capa:?}");
    }
    assert_eq!(v["stat"][0], 3);
    let retr = strings(&v["retr"]);
    for (i, s) in ["one", "two", "three"].iter().enumerate() {
        assert!(retr[i].contains(&format!("Subject: {s}")), "{}", retr[i]);
        assert!(
            retr[i].contains("\n.a line with a dot\n"),
            "dot-stuffing undone by the client: {}",
            retr[i]
        );
    }
    let sizes: Vec<u64> = v["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(v["stat"][1].as_u64().unwrap(), sizes.iter().sum::<u64>());
    let top = strings(&v["top"]);
    assert_eq!(
        top.last().unwrap(),
        "Hello, this is one.",
        "TOP 1 1 ends after one body line: {top:?}"
    );
    assert!(v["quit"].as_str().unwrap().starts_with("+OK"));
    let uidl = strings(&v["uidl"]);
    let again = poplib(&node, node.ports.pop3, "plain", "", "quit");
    assert_eq!(again["stat"][0], 2, "DELE 2 + QUIT removed one message");
    assert_eq!(
        strings(&again["uidl"]),
        vec![uidl[0].clone(), uidl[2].clone()],
        "UIDLs of the others are unchanged"
    );
}

#[test]
fn dele_on_a_dropped_connection_deletes_nothing() {
    let (_data, node, _dir) = single("127.0.21.2");
    deliver(&node, &["a", "b"]);
    let v = poplib(&node, node.ports.pop3, "plain", "1,2", "drop");
    assert_eq!(v["stat"][0], 2);
    // And a raw client that sends DELE and then just hangs up.
    let mut s = TcpStream::connect((node.ip, node.ports.pop3)).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    for cmd in [
        format!("USER {USER}"),
        format!("PASS {PASSWORD}"),
        "DELE 1".into(),
    ] {
        s.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("+OK"), "{cmd}: {line}");
    }
    drop(s);
    drop(r);
    let again = poplib(&node, node.ports.pop3, "plain", "", "quit");
    assert_eq!(again["stat"][0], 2, "nothing was deleted");
}

#[test]
fn poplib_over_implicit_tls_and_stls() {
    let (_data, node, _dir) = single("127.0.21.3");
    deliver(&node, &["secure"]);
    let v = poplib(&node, node.ports.pop3s, "ssl", "", "quit");
    assert_eq!(v["stat"][0], 1);
    assert!(
        !strings(&v["capa"]).contains(&"STLS".to_string()),
        "no STLS once encrypted"
    );
    let v = poplib(&node, node.ports.pop3, "stls", "", "quit");
    assert!(strings(&v["retr"])[0].contains("Subject: secure"));
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_lists_and_retrieves_over_plain_stls_and_implicit_tls() {
    let (_data, node, _dir) = single("127.0.21.4");
    deliver(&node, &["curl-one", "curl-two"]);
    let auth = format!("{USER}:{PASSWORD}");
    let base = format!("pop3://{}:{}", node.ip, node.ports.pop3);
    let list = curl(&["-u", &auth, &format!("{base}/")]);
    assert_eq!(list.lines().count(), 2, "{list}");
    let second = curl(&["-u", &auth, &format!("{base}/2")]);
    assert!(second.contains("Subject: curl-two"), "{second}");
    assert!(second.contains("\r\n.a line with a dot\r\n"), "{second:?}");
    let stls = curl(&["-k", "--ssl-reqd", "-u", &auth, &format!("{base}/1")]);
    assert!(stls.contains("Subject: curl-one"));
    let pop3s = curl(&[
        "-k",
        "-u",
        &auth,
        &format!("pop3s://{}:{}/1", node.ip, node.ports.pop3s),
    ]);
    assert!(pop3s.contains("Subject: curl-one"));
    // A wrong password is refused with the AUTH response code.
    let out = Command::new("curl")
        .args([
            "-s",
            "-v",
            "-u",
            &format!("{USER}:wrong"),
            &format!("{base}/"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("-ERR [AUTH]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fetchmail_downloads_and_removes_every_message() {
    let (_data, node, _dir) = single("127.0.21.5");
    deliver(&node, &["fm-1", "fm-2", "fm-3"]);
    let home = tempfile::tempdir().unwrap();
    let out_file = home.path().join("received.mbox");
    let rc = home.path().join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no bouncemail\npoll {} protocol POP3 port {} uidl\n  user \"{USER}\" there with password \"{PASSWORD}\" is root here\n  \
             no keep\n  sslproto ''\n  mda \"/bin/sh -c 'cat >> {}'\"\n",
            node.ip,
            node.ports.pop3,
            out_file.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&rc).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&rc, perms).unwrap();
    let out = Command::new("fetchmail")
        .args(["--nodetach", "--nosyslog", "-f"])
        .arg(&rc)
        .arg("--pidfile")
        .arg(home.path().join("pid"))
        .env("HOME", home.path())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "fetchmail failed: {log}\n{}",
        node.logs()
    );
    let got = std::fs::read_to_string(&out_file).unwrap();
    for s in ["fm-1", "fm-2", "fm-3"] {
        assert!(got.contains(&format!("Subject: {s}")), "{s} missing: {got}");
    }
    let v = poplib(&node, node.ports.pop3, "plain", "", "quit");
    assert_eq!(v["stat"][0], 0, "fetchmail's DELE + QUIT emptied the INBOX");
}

#[test]
fn uidl_and_flags_survive_a_restart_and_a_deleted_midb_cache() {
    let (_data, mut node, dir) = single("127.0.21.6");
    deliver(&node, &["keep-1", "keep-2"]);
    let first = poplib(&node, node.ports.pop3, "plain", "", "quit");
    let uidl = strings(&first["uidl"]);
    assert_eq!(uidl.len(), 2);
    assert!(
        uidl.iter().all(|u| u.contains('.')),
        "UIDVALIDITY.UID: {uidl:?}"
    );
    // RETR'd messages got \Seen at QUIT.
    let before = inbox_metadata(&node, &dir);
    assert!(before.iter().all(|(_, f, _)| f & 1 == 1), "{before:?}");
    assert!(
        before.iter().all(|(_, _, e)| e.starts_with(b"(")),
        "{before:?}"
    );
    let cache = Path::new(&dir).join("exmdb/midb.sqlite3");
    assert!(cache.exists(), "the ENVELOPE fetch made midb.sqlite3");
    node.kill(Service::Pop3);
    node.kill(Service::Midb);
    std::fs::remove_file(&cache).unwrap();
    node.start(Service::Midb);
    node.start(Service::Pop3);
    let second = poplib(&node, node.ports.pop3, "plain", "", "quit");
    assert_eq!(strings(&second["uidl"]), uidl);
    assert_eq!(
        inbox_metadata(&node, &dir),
        before,
        "UIDs, flags and ENVELOPEs unchanged"
    );
    assert!(cache.exists(), "rebuilt");
    // Deleted again while midb runs: the next session rebuilds it at once.
    std::fs::remove_file(&cache).unwrap();
    let third = poplib(&node, node.ports.pop3, "plain", "", "quit");
    assert_eq!(strings(&third["uidl"]), uidl);
}

#[test]
fn bad_input_gets_clear_errors_and_never_kills_the_daemon() {
    let (_data, node, _dir) = single("127.0.21.7");
    let mut s = TcpStream::connect((node.ip, node.ports.pop3)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let mut ask = |cmd: &[u8]| {
        s.write_all(cmd).unwrap();
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        l
    };
    assert_eq!(ask(b"HELO\r\n"), "-ERR unknown command\r\n");
    assert_eq!(ask(b"STAT\r\n"), "-ERR command not valid in this state\r\n");
    assert_eq!(
        ask(b"AUTH PLAIN !!!\r\n"),
        "-ERR [AUTH] the SASL response is not valid base64\r\n"
    );
    let long = format!("USER {}\r\n", "x".repeat(10_000));
    assert!(ask(long.as_bytes()).starts_with("-ERR line too long"));
    assert_eq!(ask(b"\xff\xfe\r\n"), "-ERR unknown command\r\n");
    // The daemon still serves others.
    let v = poplib(&node, node.ports.pop3, "plain", "", "quit");
    assert_eq!(v["stat"][0], 0);
}

#[test]
fn a_user_homed_on_another_node_reads_through_that_nodes_midb() {
    let a_ip = "127.0.22.2";
    let b_ip = "127.0.22.3";
    let data_a = tempfile::tempdir().unwrap();
    let data_b = tempfile::tempdir().unwrap();
    let db = data_b.path().join("directory.sqlite3");
    let allow = format!("{b_ip} {a_ip}");
    let mut b = node_at(b_ip, data_b.path(), &db, &allow);
    b.start_all(&Service::STORE);
    let dir = create_user(&b);
    b.start(Service::Delivery);
    deliver(&b, &["far-1", "far-2"]);
    let mut a = node_at(a_ip, data_a.path(), &db, a_ip);
    a.config.write(
        "midb_list.txt",
        &format!("{}/ {b_ip} {}\n", data_b.path().display(), b.ports.midb),
    );
    a.start(Service::Pop3);
    // Subscribe at B's event service: the deletion must show up there.
    let rt = runtime();
    let mut events = rt.block_on(async {
        let opts = ClientOptions {
            source_ip: Some(b_ip.parse().unwrap()),
            ..ClientOptions::default()
        };
        let ch = groxide_rpc::client::channel("event", &NodeAddr::new(b_ip, b.ports.event), &opts)
            .unwrap();
        let mut s = EventClient::new(ch)
            .subscribe(SubscribeRequest {
                dir: dir.clone(),
                folder: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let first = s.next().await.unwrap().unwrap();
        assert!(matches!(
            first.event,
            Some(subscribe_reply::Event::Subscribed(_))
        ));
        s
    });
    let v = poplib(&a, a.ports.pop3, "plain", "1", "quit");
    assert_eq!(v["stat"][0], 2, "{}{}", a.logs(), b.logs());
    assert!(strings(&v["retr"])[1].contains("Subject: far-2"));
    let removed = rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let item = tokio::time::timeout_at(deadline, events.next())
                .await
                .expect("no MESSAGE_REMOVED event");
            if let Some(Ok(reply)) = item
                && let Some(subscribe_reply::Event::Notification(n)) = reply.event
                && n.kind == NotificationKind::MessageRemoved as i32
            {
                return n.uids;
            }
        }
    });
    assert_eq!(removed, vec![1]);
    let again = poplib(&a, a.ports.pop3, "plain", "", "quit");
    assert_eq!(again["stat"][0], 1);
}
