//! groxide-imap as a process over real event, exmdb and midb processes,
//! driven by real clients: Python's imaplib and imapclient, curl, mbsync,
//! and a raw client for IDLE and two-session behaviour. Messages arrive
//! through the store (exmdb InsertMessage), as delivery puts them there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_config::{Config, Imap, MysqlAdaptor};
use groxide_directory::{Directory, DirectorySettings};
use groxide_e2e::{Daemon, Node, Service};
use groxide_routing::HomeserverLookup;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_runtime::{Routing, client_options};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const USER: &str = "demo@example.test";
const PASSWORD: &str = "secret";

/// One node on a loopback address (the e2e harness's [`Node`]) running
/// event, exmdb, midb and imap, with the demo user.
struct ImapNode {
    node: Node,
    ip: IpAddr,
    imap_port: u16,
    imaps_port: u16,
    dir: String,
}

impl ImapNode {
    fn start(ip: &str) -> ImapNode {
        let mut node = Node::standalone(ip);
        node.start_all(&Service::STORE);
        node.create_domain("example.test");
        let dir = node.create_user(USER, PASSWORD, None);
        node.start(Service::Imap);
        ImapNode {
            ip: node.ip,
            imap_port: node.ports.imap,
            imaps_port: node.ports.imaps,
            dir,
            node,
        }
    }

    fn imap(&self) -> &Daemon {
        self.node.daemon(Service::Imap)
    }

    /// Starts groxide-pop3 on this node; returns its (plain) port.
    fn start_pop3(&mut self) -> u16 {
        self.node.start(Service::Pop3);
        self.node.ports.pop3
    }

    async fn store(&self) -> ExmdbClient {
        let (cfg, _) = Config::<Imap>::load(self.node.config.path()).unwrap();
        let (adaptor, _) = Config::<MysqlAdaptor>::load(self.node.config.path()).unwrap();
        let dir = Directory::connect(&DirectorySettings::from_config(&adaptor).unwrap())
            .await
            .unwrap();
        let lookup: Arc<dyn HomeserverLookup> = Arc::new(dir);
        let routing = Routing::load(&cfg, Some(lookup)).unwrap();
        let opts = client_options(&cfg, routing.node()).unwrap();
        ExmdbClient::new(routing.exmdb().clone(), opts)
    }

    /// Files `raw` in the inbox through the store, as delivery does.
    async fn deliver(&self, store: &ExmdbClient, raw: &[u8]) -> u32 {
        let header = pb::InsertHeader {
            dir: self.dir.clone(),
            folder: Some(folder_role("inbox")),
            flags: 0,
            keywords: Vec::new(),
            internal_date: 0,
            expected_size: raw.len() as u64,
        };
        store
            .insert_message(header, std::io::Cursor::new(raw.to_vec()))
            .await
            .unwrap()
            .uid
    }

    fn logs(&self) -> String {
        self.node.logs()
    }
}

fn message(n: u32) -> Vec<u8> {
    format!(
        "From: Sender {n} <sender{n}@remote.test>\r\nTo: {USER}\r\nSubject: Message {n}\r\n\
         Date: Mon, 01 Jan 2024 10:{n:02}:00 +0000\r\nMessage-ID: <m{n}@remote.test>\r\n\r\n\
         Body of message {n}.\r\n"
    )
    .into_bytes()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn python(script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    })
}

/// A blocking raw client.
struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    fn connect(node: &ImapNode) -> Raw {
        let s = TcpStream::connect((node.ip, node.imap_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut raw = Raw {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        };
        assert!(raw.line().starts_with("* OK"));
        raw
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        l.trim_end().to_string()
    }

    fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).unwrap();
    }

    fn cmd(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(&format!("{tag} {command}\r\n"));
        let mut lines = Vec::new();
        loop {
            let l = self.line();
            let done = l.starts_with(&format!("{tag} ")) || l.is_empty();
            lines.push(l);
            if done {
                return lines;
            }
        }
    }

    fn login_select(node: &ImapNode) -> Raw {
        let mut r = Raw::connect(node);
        let out = r.cmd("l", &format!("LOGIN {USER} {PASSWORD}"));
        assert!(out.last().unwrap().starts_with("l OK"), "{out:?}");
        let out = r.cmd("s", "SELECT INBOX");
        assert!(out.last().unwrap().starts_with("s OK"), "{out:?}");
        r
    }
}

const IMAPLIB: &str = r#"
import imaplib, json, sys
host, port = sys.argv[1], int(sys.argv[2])
M = imaplib.IMAP4(host, port)
out = {}
out["login"] = M.login("demo@example.test", "secret")[0]
out["caps"] = M.capability()[1][0].decode().split()
typ, boxes = M.list()
out["list"] = [b.decode() for b in boxes]
out["create"] = M.create("Work/2024")[0]
msg = b"From: me@example.test\r\nTo: demo@example.test\r\nSubject: appended\r\nDate: Mon, 01 Jan 2024 11:00:00 +0000\r\n\r\nA note to self.\r\n"
out["append"] = [d.decode() for d in M.append("Work/2024", "(\\Seen)", None, msg)[1]]
typ, data = M.select("INBOX")
out["exists"] = int(data[0])
typ, data = M.fetch("1:*", "(UID FLAGS RFC822.SIZE)")
out["fetch"] = [d.decode() for d in data]
typ, data = M.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[TEXT])")
out["body"] = [[p.decode() for p in d] if isinstance(d, tuple) else d.decode() for d in data]
out["store"] = M.store("1", "+FLAGS", "(\\Flagged)")[1][0].decode()
out["search"] = M.search(None, "FLAGGED")[1][0].decode()
out["uidsearch"] = M.uid("SEARCH", "SUBJECT", "Message 3")[1][0].decode()
out["copy"] = M.copy("1:2", "Work/2024")[0]
out["status"] = M.status("Work/2024", "(MESSAGES UIDNEXT)")[1][0].decode()
M.store("3", "+FLAGS", "(\\Deleted)")
out["expunge"] = [d.decode() for d in M.expunge()[1] if d]
out["sort"] = M.sort("(REVERSE DATE)", "UTF-8", "ALL")[1][0].decode()
out["thread"] = M.thread("ORDEREDSUBJECT", "UTF-8", "ALL")[1][0].decode()
out["logout"] = M.logout()[0]
print(json.dumps(out))
"#;

#[test]
fn python_imaplib_session_against_real_daemons() {
    let node = ImapNode::start("127.0.0.71");
    let rt = runtime();
    rt.block_on(async {
        let store = node.store().await;
        for n in 1..=3 {
            node.deliver(&store, &message(n)).await;
        }
    });
    let port = node.imap_port.to_string();
    let out = python(IMAPLIB, &[&node.ip.to_string(), &port]);
    let logs = node.logs();
    assert_eq!(out["login"], "OK", "{logs}");
    assert!(
        out["caps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "QRESYNC")
    );
    let list = out["list"].to_string();
    assert!(
        list.contains("\\\\Sent") && list.contains("INBOX"),
        "{list}"
    );
    assert_eq!(out["create"], "OK");
    assert_eq!(out["exists"], 3);
    let fetch = out["fetch"].to_string();
    assert!(fetch.contains("3 (UID 3 FLAGS () RFC822.SIZE"), "{fetch}");
    let body = out["body"].to_string();
    assert!(body.contains("Subject: Message 2"), "{body}");
    assert!(body.contains("Body of message 2."), "{body}");
    assert!(
        out["store"].as_str().unwrap().contains("\\Flagged"),
        "{}",
        out["store"]
    );
    assert_eq!(out["search"], "1");
    assert_eq!(out["uidsearch"], "3");
    assert_eq!(out["copy"], "OK");
    let append = out["append"][0].as_str().unwrap();
    assert!(
        append.starts_with("[APPENDUID ") && append.ends_with(" 1] APPEND completed"),
        "{append}"
    );
    assert_eq!(out["status"], "\"Work/2024\" (MESSAGES 3 UIDNEXT 4)");
    assert_eq!(out["expunge"], serde_json::json!(["3"]));
    assert_eq!(out["sort"], "2 1");
    assert_eq!(out["thread"], "(1)(2)");
    assert_eq!(out["logout"], "BYE");
}

const IMAPCLIENT: &str = r#"
import json, ssl, sys
from imapclient import IMAPClient
host, port, tls_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = {}
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with IMAPClient(host, port=port, ssl=False) as c:
    c.starttls(ctx)
    c.login("demo@example.test", "secret")
    out["caps"] = sorted(x.decode() for x in c.capabilities())
    out["namespace"] = str(c.namespace())
    c.enable("CONDSTORE")
    info = c.select_folder("INBOX")
    out["highestmodseq"] = info.get(b"HIGHESTMODSEQ", 0)
    out["uids"] = c.search(["ALL"])
    out["flags"] = {str(k): [f.decode() for f in v[b"FLAGS"]] for k, v in c.fetch([1, 2], ["FLAGS", "MODSEQ"]).items()}
    c.add_flags([2], [b"$Important"])
    out["changed"] = sorted(c.fetch([1, 2], ["FLAGS"], modifiers=["CHANGEDSINCE %d" % info[b"HIGHESTMODSEQ"]]).keys())
    c.move([1], "Deleted Items")
    out["after_move"] = c.search(["ALL"])
    out["quota"] = str(c.get_quota_root("INBOX"))
    out["special"] = sorted(str(f[0]) for f in c.list_folders() if any(b"\\" in x and x not in (b"\\HasNoChildren", b"\\HasChildren") for x in f[0]))
with IMAPClient(host, port=tls_port, ssl=True, ssl_context=ctx) as c:
    c.login("demo@example.test", "secret")
    out["tls_select"] = c.select_folder("INBOX", readonly=True)[b"EXISTS"]
print(json.dumps(out))
"#;

#[test]
fn imapclient_with_starttls_condstore_move_and_implicit_tls() {
    let node = ImapNode::start("127.0.0.72");
    let rt = runtime();
    rt.block_on(async {
        let store = node.store().await;
        for n in 1..=2 {
            node.deliver(&store, &message(n)).await;
        }
    });
    let out = python(
        IMAPCLIENT,
        &[
            &node.ip.to_string(),
            &node.imap_port.to_string(),
            &node.imaps_port.to_string(),
        ],
    );
    assert!(out["caps"].as_array().unwrap().iter().any(|c| c == "MOVE"));
    assert!(
        out["namespace"].as_str().unwrap().contains("'/'"),
        "{}",
        out["namespace"]
    );
    assert!(out["highestmodseq"].as_u64().unwrap() > 0);
    assert_eq!(out["uids"], serde_json::json!([1, 2]));
    assert_eq!(out["changed"], serde_json::json!([2]));
    assert_eq!(out["after_move"], serde_json::json!([2]));
    assert_eq!(out["tls_select"], 1);
}

#[test]
fn curl_lists_and_reads_mail() {
    let node = ImapNode::start("127.0.0.73");
    let rt = runtime();
    rt.block_on(async {
        let store = node.store().await;
        node.deliver(&store, &message(1)).await;
    });
    let base = format!("imap://{}:{}", node.ip, node.imap_port);
    let creds = format!("{USER}:{PASSWORD}");
    let list = Command::new("curl")
        .args(["-s", "--max-time", "20", "-u", &creds, &format!("{base}/")])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(list.contains("\"INBOX\""), "{list}\n{}", node.logs());
    let body = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            "-u",
            &creds,
            &format!("{base}/INBOX;UID=1"),
        ])
        .output()
        .unwrap();
    assert_eq!(body.stdout, message(1), "{}", node.logs());
    let tls = Command::new("curl")
        .args([
            "-sk",
            "--max-time",
            "20",
            "-u",
            &creds,
            &format!("imaps://{}:{}/INBOX;UID=1", node.ip, node.imaps_port),
        ])
        .output()
        .unwrap();
    assert_eq!(tls.stdout, message(1));
}

#[test]
fn idle_sees_new_mail_within_100_ms() {
    let node = ImapNode::start("127.0.0.74");
    let rt = runtime();
    let store = rt.block_on(node.store());
    rt.block_on(node.deliver(&store, &message(1)));
    let mut r = Raw::login_select(&node);
    r.send("i IDLE\r\n");
    assert_eq!(r.line(), "+ idling");
    for n in 2..=4 {
        rt.block_on(node.deliver(&store, &message(n)));
        let stored = Instant::now();
        r.writer
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let line = r.line();
        assert_eq!(
            line,
            format!("* {n} EXISTS"),
            "after {:?}",
            stored.elapsed()
        );
        assert!(stored.elapsed() < Duration::from_millis(100));
        // The idling session claims the new message (message 1 predates it).
        assert_eq!(r.line(), format!("* {} RECENT", n - 1));
        r.writer
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
    }
    r.send("DONE\r\n");
    assert_eq!(r.line(), "i OK IDLE terminated");
}

#[test]
fn two_sessions_see_each_others_changes_at_the_allowed_points() {
    let node = ImapNode::start("127.0.0.75");
    let rt = runtime();
    rt.block_on(async {
        let store = node.store().await;
        for n in 1..=3 {
            node.deliver(&store, &message(n)).await;
        }
    });
    let mut a = Raw::login_select(&node);
    let mut b = Raw::login_select(&node);
    b.cmd("b1", "STORE 2 +FLAGS.SILENT (\\Deleted)");
    let out = b.cmd("b2", "EXPUNGE");
    assert_eq!(out, ["* 2 EXPUNGE", "b2 OK EXPUNGE completed"]);
    // A is told nothing about the expunge while answering FETCH by number:
    // its numbers still hold, and the UID of message 2 is still what its
    // view knows (RFC 2180 §4.1.1 lets a server answer from it).
    let out = a.cmd("a1", "FETCH 1:3 (UID)");
    assert_eq!(
        out,
        [
            "* 1 FETCH (UID 1)",
            "* 2 FETCH (UID 2)",
            "* 3 FETCH (UID 3)",
            "a1 OK FETCH completed"
        ]
    );
    // Its content is gone: the FETCH says so, still without an EXPUNGE.
    let out = a.cmd("a1b", "FETCH 1:3 (FLAGS)");
    assert_eq!(
        out,
        [
            "* 1 FETCH (FLAGS ())",
            "* 3 FETCH (FLAGS ())",
            "a1b NO [EXPUNGEISSUED] Some of the requested messages no longer exist"
        ]
    );
    let out = a.cmd("a1c", "FETCH 2 (BODY.PEEK[])");
    assert_eq!(
        out,
        ["a1c NO [EXPUNGEISSUED] Some of the requested messages no longer exist"]
    );
    b.cmd("b3", "STORE 1 +FLAGS (\\Answered)");
    let out = a.cmd("a2", "NOOP");
    assert!(
        out.contains(&"* 1 FETCH (FLAGS (\\Answered))".to_string()),
        "{out:?}"
    );
    assert!(out.contains(&"* 2 EXPUNGE".to_string()), "{out:?}");
    assert_eq!(out.last().unwrap(), "a2 OK NOOP completed");
}

#[test]
fn sigterm_says_bye_to_open_sessions() {
    let mut node = ImapNode::start("127.0.0.76");
    let mut r = Raw::connect(&node);
    r.cmd("l", &format!("LOGIN {USER} {PASSWORD}"));
    node.imap().signal("TERM");
    assert_eq!(r.line(), "* BYE [UNAVAILABLE] shutting down");
    let imap = &mut *node.node.daemon_mut(Service::Imap);
    let status = imap.wait_exit(Duration::from_secs(10)).expect("exited");
    assert!(status.success(), "{status}");
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections() {
    let node = ImapNode::start("127.0.0.77");
    let fingerprint = |port: u16| -> Vec<u8> {
        let out = Command::new("openssl")
            .args(["s_client", "-connect", &format!("{}:{port}", node.ip)])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let start = text
            .find("-----BEGIN CERTIFICATE-----")
            .expect("certificate");
        let end = text.find("-----END CERTIFICATE-----").unwrap();
        text.as_bytes()[start..end].to_vec()
    };
    let before = fingerprint(node.imaps_port);
    let ck = rcgen::generate_simple_self_signed(vec!["other.test".into()]).unwrap();
    node.node.config.write("cert.pem", &ck.cert.pem());
    node.node
        .config
        .write("key.pem", &ck.signing_key.serialize_pem());
    node.imap().signal("HUP");
    assert!(
        node.imap()
            .wait_log("configuration reloaded", Duration::from_secs(10))
    );
    let after = fingerprint(node.imaps_port);
    assert_ne!(before, after);
}

/// mbsync syncs a mailbox with folders both ways, then again after flag
/// changes and deletions on both sides; both sides end up the same.
#[test]
fn mbsync_two_way_sync_converges() {
    let node = ImapNode::start("127.0.0.78");
    let rt = runtime();
    let store = rt.block_on(node.store());
    for n in 1..=4 {
        rt.block_on(node.deliver(&store, &message(n)));
    }
    let mut r = Raw::login_select(&node);
    r.cmd("c1", "CREATE Projects/Alpha");
    r.cmd("c2", "COPY 1:2 Projects/Alpha");
    let local = tempfile::tempdir().unwrap();
    let maildir = local.path().join("mail");
    std::fs::create_dir_all(&maildir).unwrap();
    let rc = local.path().join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount groxide\nHost {}\nPort {}\nUser {USER}\nPass {PASSWORD}\nSSLType None\nAuthMechs LOGIN\n\n\
             IMAPStore remote\nAccount groxide\n\n\
             MaildirStore local\nPath {}/\nInbox {}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
            node.ip,
            node.imap_port,
            maildir.display(),
            maildir.display()
        ),
    )
    .unwrap();
    let mbsync = || {
        let out = Command::new("mbsync")
            .args(["-c", rc.to_str().unwrap(), "-a"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mbsync failed:\n{}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            node.logs()
        );
    };
    mbsync();
    let files = |folder: &str| -> Vec<String> {
        let mut names = Vec::new();
        for sub in ["cur", "new"] {
            if let Ok(entries) = std::fs::read_dir(maildir.join(folder).join(sub)) {
                for e in entries {
                    names.push(e.unwrap().file_name().to_string_lossy().into_owned());
                }
            }
        }
        names.sort();
        names
    };
    assert_eq!(files("INBOX").len(), 4, "{:?}", files("INBOX"));
    assert_eq!(files("Projects/Alpha").len(), 2);

    // Local: mark one read, delete another. Server: flag one, expunge one.
    let inbox = maildir.join("INBOX");
    let mut by_uid: Vec<(String, std::path::PathBuf)> = Vec::new();
    for sub in ["cur", "new"] {
        for e in std::fs::read_dir(inbox.join(sub)).unwrap() {
            let e = e.unwrap();
            by_uid.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
    }
    let find = |n: u32| -> std::path::PathBuf {
        by_uid
            .iter()
            .find(|(_, p)| {
                let mut s = String::new();
                std::fs::File::open(p)
                    .unwrap()
                    .read_to_string(&mut s)
                    .unwrap();
                // mbsync stores LF line ends.
                s.lines()
                    .any(|l| l.trim_end() == format!("Subject: Message {n}"))
            })
            .map(|(_, p)| p.clone())
            .unwrap()
    };
    let m1 = find(1);
    let m2 = find(2);
    let name = m1.file_name().unwrap().to_string_lossy().into_owned();
    let base = name.split(":2,").next().unwrap();
    std::fs::rename(&m1, inbox.join("cur").join(format!("{base}:2,S"))).unwrap();
    std::fs::remove_file(m2).unwrap();
    std::fs::write(
        inbox.join("new").join("1700000000.local1.host"),
        "From: me@example.test\nTo: demo@example.test\nSubject: Written offline\n\nHello from the Maildir.\n",
    )
    .unwrap();
    r.cmd("s1", "STORE 3 +FLAGS (\\Flagged)");
    r.cmd("s2", "STORE 4 +FLAGS (\\Deleted)");
    r.cmd("s3", "EXPUNGE");
    mbsync();

    // Server side.
    let out = r.cmd("f1", "UID FETCH 1:* (FLAGS)");
    let flags: Vec<&String> = out.iter().filter(|l| l.contains("FETCH (UID")).collect();
    assert_eq!(flags.len(), 3, "{out:?}");
    let search = r.cmd("q1", "UID SEARCH SUBJECT \"Written offline\"");
    assert_eq!(search[0], "* SEARCH 5", "{search:?}");
    assert!(
        out.iter().any(|l| l.contains("UID 1 FLAGS (\\Seen)")),
        "{out:?}"
    );
    assert!(
        out.iter().any(|l| l.contains("UID 3 FLAGS (\\Flagged)")),
        "{out:?}"
    );
    // Local side.
    let names = files("INBOX");
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(",S")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(",F")), "{names:?}");
    // A third run changes nothing.
    mbsync();
    assert_eq!(files("INBOX"), names);
}

const POP3_DELE: &str = r#"
import json, poplib, sys
p = poplib.POP3(sys.argv[1], int(sys.argv[2]))
p.user("demo@example.test")
p.pass_("secret")
count = p.stat()[0]
p.dele(1)
print(json.dumps({"count": count, "quit": p.quit().decode()}))
"#;

#[test]
fn a_pop3_deletion_reaches_an_idling_imap_session() {
    let mut node = ImapNode::start("127.0.0.79");
    let pop3 = node.start_pop3();
    let rt = runtime();
    rt.block_on(async {
        let store = node.store().await;
        for n in 1..=2 {
            node.deliver(&store, &message(n)).await;
        }
    });
    let mut r = Raw::login_select(&node);
    r.send("i IDLE\r\n");
    assert_eq!(r.line(), "+ idling");
    let out = python(POP3_DELE, &[&node.ip.to_string(), &pop3.to_string()]);
    assert_eq!(out["count"], 2, "{}", node.logs());
    assert!(out["quit"].as_str().unwrap().starts_with("+OK"), "{out}");
    r.writer
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(r.line(), "* 1 EXPUNGE", "{}", node.logs());
    r.send("DONE\r\n");
    assert_eq!(r.line(), "i OK IDLE terminated");
    let out = r.cmd("f", "FETCH 1:* (UID)");
    assert_eq!(out, ["* 1 FETCH (UID 2)", "f OK FETCH completed"]);
}

/// Issue 18 through the real daemons (imap in-process view over exmdb's
/// store, messages delivered through exmdb): \Recent belongs to one
/// session, MOVE to the selected mailbox renumbers, an explicit UID
/// 4294967295 is not `*`, a deleted subscribed mailbox stays subscribed.
#[test]
fn conformance_details_hold_over_the_real_daemons() {
    let node = ImapNode::start("127.0.0.80");
    let mut a = Raw::login_select(&node);
    let rt = runtime();
    rt.block_on(async {
        let store = node.store().await;
        for n in 1..=2 {
            node.deliver(&store, &message(n)).await;
        }
    });
    let out = a.cmd("a1", "NOOP");
    assert!(out.contains(&"* 2 EXISTS".to_string()), "{out:?}");
    assert!(out.contains(&"* 2 RECENT".to_string()), "{out:?}");
    let mut b = Raw::connect(&node);
    b.cmd("l", &format!("LOGIN {USER} {PASSWORD}"));
    let out = b.cmd("b1", "SELECT INBOX");
    assert!(out.contains(&"* 0 RECENT".to_string()), "{out:?}");
    assert_eq!(
        a.cmd("a2", "SEARCH RECENT"),
        ["* SEARCH 1 2", "a2 OK SEARCH completed"]
    );
    assert_eq!(
        b.cmd("b2", "SEARCH RECENT"),
        ["* SEARCH", "b2 OK SEARCH completed"]
    );
    let out = a.cmd("a3", "MOVE 1 INBOX");
    assert!(
        out[0].starts_with("* OK [COPYUID ") && out[0].contains(" 1 3]"),
        "{out:?}"
    );
    assert_eq!(out[1], "* 1 EXPUNGE", "{out:?}");
    assert_eq!(out.last().unwrap(), "a3 OK MOVE completed");
    assert_eq!(
        a.cmd("a4", "UID SEARCH UID 4294967295"),
        ["* SEARCH", "a4 OK SEARCH completed"]
    );
    a.cmd("a5", "CREATE Fruit/Peach");
    a.cmd("a6", "SUBSCRIBE Fruit/Peach");
    a.cmd("a7", "DELETE Fruit/Peach");
    assert_eq!(
        a.cmd("a8", "LIST (SUBSCRIBED) \"\" \"Fruit/*\""),
        [
            "* LIST (\\NonExistent \\Subscribed) \"/\" \"Fruit/Peach\"",
            "a8 OK LIST completed"
        ]
    );
    assert_eq!(
        a.cmd("a9", "LSUB \"\" \"Fruit/*\""),
        ["* LSUB () \"/\" \"Fruit/Peach\"", "a9 OK LSUB completed"]
    );
}

/// The re-verified issue-18 details through the real daemons, where sort
/// keys come from midb's cache: SORT folds letters to upper case
/// (i;ascii-casemap), the first CONDSTORE-enabling command announces
/// HIGHESTMODSEQ, and RECURSIVEMATCH leaves out a parent whose subscribed
/// child a pattern lists itself.
#[test]
fn sort_condstore_and_childinfo_hold_over_the_real_daemons() {
    let node = ImapNode::start("127.0.0.81");
    let rt = runtime();
    rt.block_on(async {
        let store = node.store().await;
        for subject in ["_under", "beta", "[bracket]", "Alpha"] {
            let raw = format!("From: x@remote.test\r\nSubject: {subject}\r\n\r\nbody\r\n");
            node.deliver(&store, raw.as_bytes()).await;
        }
    });
    let mut a = Raw::login_select(&node);
    assert_eq!(
        a.cmd("a1", "SORT (SUBJECT) US-ASCII ALL"),
        ["* SORT 4 2 3 1", "a1 OK SORT completed"]
    );
    let out = a.cmd("a2", "FETCH 1 (MODSEQ)");
    assert!(out[0].starts_with("* OK [HIGHESTMODSEQ "), "{out:?}");
    assert!(out[1].starts_with("* 1 FETCH (MODSEQ ("), "{out:?}");
    let out = a.cmd("a3", "STORE 2 +FLAGS (\\Seen)");
    assert!(out[0].contains(" MODSEQ ("), "{out:?}");
    for (tag, command) in [
        ("a4", "CREATE Veg/Leek"),
        ("a5", "CREATE Veg/Kale"),
        ("a6", "SUBSCRIBE Veg/Leek"),
    ] {
        let out = a.cmd(tag, command);
        assert!(
            out.last().unwrap().starts_with(&format!("{tag} OK")),
            "{out:?}"
        );
    }
    assert_eq!(
        a.cmd("a7", "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Veg Veg/Leek)"),
        [
            "* LIST (\\Subscribed) \"/\" \"Veg/Leek\"",
            "a7 OK LIST completed"
        ]
    );
}
