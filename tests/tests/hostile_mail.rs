//! Mail a hostile sender can deliver to anyone (issue 19): a header bomb
//! must not make the reading daemons' memory explode, duplicates and LMTP
//! retries must not multiply a message, and NUL bytes never reach a client
//! that did not ask for binary data. Real daemons as processes, real
//! clients where one exists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::clients::Imap;
use groxide_e2e::{Node, Service};

const USER: &str = "victim@example.test";
const PASSWORD: &str = "secret";

fn node(ip: &str) -> Node {
    let mut node = Node::standalone(ip);
    node.start_all(&Service::STORE);
    node.start(Service::Delivery);
    node.create_domain("example.test");
    node.create_user(USER, PASSWORD, None);
    node.start(Service::Imap);
    node
}

/// Peak resident memory (VmHWM) of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    kb * 1024
}

const MIB: usize = 1024 * 1024;
/// groxide-mime's cap on the bytes of one header field that are parsed.
const FIELD_CAP: usize = 64 * 1024;
/// The folded Subject of a bomb: 60 MiB of 78-byte lines.
const BOMB_HEADER: usize = 60 * MIB;

/// A message whose Subject field alone is [`BOMB_HEADER`] bytes, folded.
fn header_bomb(n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut m = format!(
        "From: Mallory <mallory@evil.test>\r\nTo: {USER}\r\nMessage-ID: <bomb-{n}@evil.test>\r\nSubject: bomb{n}"
    )
    .into_bytes();
    let fold = format!("\r\n {}", "x".repeat(74));
    while m.len() < BOMB_HEADER {
        m.extend_from_slice(fold.as_bytes());
    }
    m.extend_from_slice(b"\r\n\r\n");
    let body = format!("body of bomb {n}\r\n").into_bytes();
    m.extend_from_slice(&body);
    (m, body)
}

fn select_inbox(node: &Node) -> Imap {
    Imap::login_select(node.addr(Service::Imap), USER, PASSWORD, "INBOX").unwrap()
}

fn uids(imap: &mut Imap) -> Vec<u32> {
    let a = imap.ok("UID SEARCH ALL").unwrap();
    a.untagged
        .iter()
        .find_map(|u| u.text.strip_prefix("* SEARCH"))
        .unwrap_or("")
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn header_bombs_are_answered_exactly_with_bounded_memory() {
    let node = node("127.0.59.1");
    let mut bombs = Vec::new();
    for n in 0..4 {
        let (m, body) = header_bomb(n);
        node.deliver_ok(USER, &m);
        bombs.push((m, body));
    }
    let imap_pid = node.daemon(Service::Imap).pid();
    let midb_pid = node.daemon(Service::Midb).pid();
    let before = [peak_rss(imap_pid), peak_rss(midb_pid)];

    // Four sessions ask for the ENVELOPE and BODYSTRUCTURE of one bomb each
    // at once: the first FETCH of a message parses it.
    let addr = node.addr(Service::Imap);
    let answers: Vec<(String, String, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=4u32)
            .map(|uid| {
                s.spawn(move || {
                    let mut imap = Imap::login_select(addr, USER, PASSWORD, "INBOX").unwrap();
                    let a = imap
                        .ok(&format!("UID FETCH {uid} (ENVELOPE BODYSTRUCTURE)"))
                        .unwrap();
                    let u = a
                        .untagged
                        .iter()
                        .find(|u| u.text.contains("FETCH"))
                        .unwrap();
                    let literal_bytes = u.literals.iter().map(Vec::len).sum();
                    let subject = u
                        .literals
                        .first()
                        .map(|l| String::from_utf8_lossy(&l[..l.len().min(16)]).into_owned())
                        .unwrap_or_default();
                    (u.text.clone(), subject, literal_bytes)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (uid, (text, subject, literal_bytes)) in answers.iter().enumerate() {
        assert!(
            text.contains("\"Mallory\" NIL \"mallory\" \"evil.test\""),
            "ENVELOPE of {uid}: {text:.300}"
        );
        assert!(
            text.contains(&format!("\"<bomb-{uid}@evil.test>\"")),
            "{text:.300}"
        );
        assert!(subject.starts_with(&format!("bomb{uid}")), "{subject}");
        assert!(
            *literal_bytes <= 2 * FIELD_CAP,
            "ENVELOPE subject is bounded: {literal_bytes} bytes"
        );
        let body_len = bombs[uid].1.len();
        assert!(
            text.contains(&format!(
                "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" {body_len} 1"
            )),
            "BODYSTRUCTURE of {uid}: {text:.300}"
        );
    }
    let growth = [
        peak_rss(imap_pid).saturating_sub(before[0]),
        peak_rss(midb_pid).saturating_sub(before[1]),
    ];
    eprintln!(
        "peak RSS growth after 4 parallel header bombs: imap {} MiB, midb {} MiB",
        growth[0] / MIB as u64,
        growth[1] / MIB as u64
    );
    // One 60 MiB message in memory at a time (midb_parse_memory_max = 64M),
    // plus bounded derived data; before the fix one bomb cost ~6 times its
    // size and four ~1.1 GB.
    for (who, g) in ["imap", "midb"].iter().zip(growth) {
        assert!(
            g < (2 * BOMB_HEADER + 48 * MIB) as u64,
            "groxide-{who} grew by {} MiB",
            g / MIB as u64
        );
    }

    // The raw bytes are intact: BODY[] is the delivered message after the
    // trace fields delivery prepends; HEADER and TEXT split it exactly.
    let mut imap = select_inbox(&node);
    assert_eq!(uids(&mut imap), vec![1, 2, 3, 4]);
    let a = imap
        .ok("UID FETCH 2 (BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        .unwrap();
    let u = a
        .untagged
        .iter()
        .find(|u| u.text.contains("FETCH"))
        .unwrap();
    let [full, header, text, fields] = &u.literals[..] else {
        panic!("four literals: {}", u.text)
    };
    let (sent, body) = &bombs[1];
    assert!(full.ends_with(sent), "BODY[] ends with the delivered bytes");
    assert_eq!(text, body);
    assert_eq!(header.len() + text.len(), full.len());
    assert!(header.ends_with(b"\r\n\r\n") && full.starts_with(header));
    assert_eq!(
        String::from_utf8_lossy(fields),
        "Message-ID: <bomb-1@evil.test>\r\n\r\n"
    );

    // The node is healthy: a normal message still arrives and is read.
    node.deliver_ok(
        USER,
        &groxide_e2e::clients::message("a@b.test", USER, "after the bombs", "ok@b.test"),
    );
    imap.ok("NOOP").unwrap();
    let a = imap.ok("UID FETCH 5 (ENVELOPE)").unwrap();
    assert!(
        a.untagged
            .iter()
            .any(|u| u.text.contains("after the bombs"))
    );
    for s in [
        Service::Imap,
        Service::Midb,
        Service::Exmdb,
        Service::Delivery,
    ] {
        assert!(
            node.running(s).is_some()
                && std::fs::metadata(format!("/proc/{}", node.daemon(s).pid())).is_ok(),
            "groxide-{} still runs",
            s.name()
        );
    }
}

#[test]
fn repeated_recipients_and_retries_store_one_copy_even_across_a_restart() {
    let mut node = node("127.0.59.2");
    let message = groxide_e2e::clients::message("a@b.test", USER, "once", "once@b.test");
    // 1000 RCPT TO of one address: one reply per RCPT (the first 256 accepted,
    // lda_max_rcpt_num), one reply per accepted recipient after DATA, one copy.
    let rcpts = vec![USER; 1000];
    let replies = node.deliver("a@b.test", &rcpts, &message).unwrap();
    assert_eq!(replies.len(), 1000);
    assert!(
        replies[..256].iter().all(|r| r.code == 250),
        "{:?}",
        &replies[..3]
    );
    assert!(
        replies[256..].iter().all(|r| r.code == 452),
        "{:?}",
        replies[256]
    );
    // The same message again, as a client retries after a lost reply, also
    // after groxide-delivery restarted.
    node.deliver_ok(USER, &message);
    node.restart(Service::Delivery);
    node.deliver_ok(USER, &message);
    let mut imap = select_inbox(&node);
    assert_eq!(uids(&mut imap), vec![1], "one copy");
    // Another message with the same subject is not a duplicate.
    node.deliver_ok(
        USER,
        &groxide_e2e::clients::message("a@b.test", USER, "once", "twice@b.test"),
    );
    imap.ok("NOOP").unwrap();
    assert_eq!(uids(&mut imap), vec![1, 2]);
}

/// Fetches the message over IMAP (BODY[], BINARY[], BODY[TEXT]) with
/// Python's imaplib and over POP3 (RETR) with poplib; prints hex JSON.
const NUL_CLIENTS: &str = r#"
import imaplib, poplib, json, sys
host, imap_port, pop3_port, user, password = sys.argv[1:6]
out = {}
M = imaplib.IMAP4(host, int(imap_port))
M.login(user, password)
M.select("INBOX")
typ, data = M.uid("FETCH", "1", "(BODY.PEEK[] BODY.PEEK[TEXT])")
out["body"] = data[0][1].hex()
out["body_line"] = data[0][0].decode()
out["text"] = data[1][1].hex()
typ, data = M.uid("FETCH", "1", "(BINARY.PEEK[1] BINARY.SIZE[1])")
out["binary_line"] = data[0][0].decode()
out["binary"] = data[0][1].hex()
M.logout()
P = poplib.POP3(host, int(pop3_port))
P.user(user)
P.pass_(password)
resp, lines, octets = P.retr(1)
out["retr"] = b"\r\n".join(lines).hex()
P.quit()
print(json.dumps(out))
"#;

#[test]
fn stored_nul_bytes_reach_only_binary_fetches() {
    let mut node = node("127.0.59.3");
    node.start(Service::Pop3);
    let message = b"From: a@b.test\r\nSubject: nul\r\nMessage-ID: <nul@b.test>\r\n\
Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\
a\0b\r\n\0\r\n";
    node.deliver_ok(USER, message);
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            NUL_CLIENTS,
            &node.ip.to_string(),
            &node.ports.imap.to_string(),
            &node.ports.pop3.to_string(),
            USER,
            PASSWORD,
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hex = |k: &str| -> Vec<u8> {
        let s = v[k].as_str().unwrap();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let body = hex("body");
    // BODY[]: the stored bytes, NUL sent as 0x80, same length.
    assert!(!body.contains(&0), "no NUL in BODY[]");
    assert!(body.ends_with(b"\r\n\r\na\x80b\r\n\x80\r\n"), "{body:?}");
    assert!(!v["body_line"].as_str().unwrap().contains("~{"), "{v}");
    assert_eq!(hex("text"), b"a\x80b\r\n\x80\r\n");
    // BINARY[1]: a binary literal with the NULs as stored.
    assert!(v["binary_line"].as_str().unwrap().contains("~{"), "{v}");
    assert_eq!(hex("binary"), b"a\0b\r\n\0\r\n");
    // POP3 RETR: text, no NUL.
    let retr = hex("retr");
    assert!(!retr.contains(&0), "no NUL in RETR");
    assert!(retr.ends_with(b"\r\n\r\na\x80b\r\n\x80"), "{retr:?}");
}
