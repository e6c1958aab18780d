//! LMTP/SMTP sessions driven in memory: a client script over a duplex pipe,
//! the in-memory directory and store behind the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_delivery::dedup::DedupDb;
use groxide_delivery::testing::{MemoryDirectory, MemoryStore};
use groxide_delivery::{
    DeliveryServer, JunkRules, Protocol, Resolution, SessionLimits, Settings, Spool, TargetFolder,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

type Server = DeliveryServer<Arc<MemoryDirectory>, Arc<MemoryStore>>;

struct Harness {
    server: Arc<Server>,
    directory: Arc<MemoryDirectory>,
    store: Arc<MemoryStore>,
    shutdown: CancellationToken,
    _spool_dir: tempfile::TempDir,
}

/// The duplicate database of a harness, in its spool's temp dir.
fn dedup_db(dir: &std::path::Path) -> DedupDb {
    DedupDb::open(&dir.join("dedup.sqlite3")).unwrap()
}

fn settings(protocol: Protocol) -> Settings {
    Settings {
        hostname: "mx.example.test".into(),
        protocol,
        limits: SessionLimits {
            max_message_size: 10_000,
            max_recipients: 5,
            max_command_line: 1000,
            idle_timeout: Duration::from_secs(30),
            max_errors: 10,
        },
        junk_rules: JunkRules::parse("X-Spam-Flag=YES; X-MC-Relay="),
        dedup_window: Duration::from_secs(86_400),
    }
}

fn harness_with(settings: Settings, tls: Option<Arc<rustls::ServerConfig>>) -> Harness {
    let spool_dir = tempfile::tempdir().unwrap();
    let directory = Arc::new(MemoryDirectory::new());
    directory.add_user("alice@example.test", "/stores/alice");
    directory.add_user("bob@example.test", "/stores/bob");
    directory.add_user("carol@example.test", "/stores/carol");
    directory.set("suspended@example.test", Resolution::NotAllowed);
    directory.set(
        "flaky@example.test",
        Resolution::TemporaryFailure("directory down".into()),
    );
    let store = Arc::new(MemoryStore::new());
    let shutdown = CancellationToken::new();
    directory.add_user("alice.alias@example.test", "/stores/alice");
    let server = Arc::new(
        DeliveryServer::new(
            settings,
            directory.clone(),
            store.clone(),
            Spool::open(&spool_dir.path().join("spool")).unwrap(),
            tls,
            shutdown.clone(),
        )
        .with_dedup(dedup_db(spool_dir.path())),
    );
    Harness {
        server,
        directory,
        store,
        shutdown,
        _spool_dir: spool_dir,
    }
}

fn harness() -> Harness {
    harness_with(settings(Protocol::Lmtp), None)
}

fn peer() -> SocketAddr {
    "192.0.2.7:40000".parse().unwrap()
}

impl Harness {
    /// Sends `input` (all at once: pipelined), then closes the write side;
    /// returns everything the server wrote until it closed.
    async fn converse(&self, input: &[u8]) -> String {
        let (client, server_side) = tokio::io::duplex(1 << 20);
        let server = self.server.clone();
        let task = tokio::spawn(async move { server.serve_connection(server_side, peer()).await });
        let (mut rd, mut wr) = tokio::io::split(client);
        let input = input.to_vec();
        let writer = tokio::spawn(async move {
            let _ = wr.write_all(&input).await;
            let _ = wr.shutdown().await;
            wr
        });
        let mut out = Vec::new();
        rd.read_to_end(&mut out).await.unwrap();
        task.await.unwrap();
        drop(writer.await.unwrap());
        String::from_utf8(out).unwrap()
    }

    fn spool_files(&self) -> usize {
        self.server.spool().file_count()
    }
}

/// The final line of every reply ("250 2.1.5 …"), in order.
fn replies(transcript: &str) -> Vec<&str> {
    transcript
        .split("\r\n")
        .filter(|l| l.len() >= 4 && l.as_bytes()[3] == b' ')
        .collect()
}

/// Just the codes.
fn codes(transcript: &str) -> Vec<u16> {
    replies(transcript)
        .iter()
        .map(|l| l[..3].parse().unwrap())
        .collect()
}

fn check_codes(transcript: &str, expected: &[u16]) {
    assert_eq!(codes(transcript), expected, "transcript:\n{transcript}");
}

const MESSAGE: &str = "From: a@b.test\r\nSubject: hi\r\n\r\nhello\r\n";

fn data_of(message: &str) -> String {
    String::from_utf8(groxide_delivery::dot::dot_stuff(message.as_bytes())).unwrap()
}

#[tokio::test]
async fn each_accepted_recipient_gets_its_own_reply_after_data() {
    let h = harness();
    let script = format!(
        "LHLO postfix.example.test\r\nMAIL FROM:<a@b.test> SIZE=40 BODY=8BITMIME\r\n\
         RCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\n\
         RCPT TO:<suspended@example.test>\r\nRCPT TO:<flaky@example.test>\r\n\
         RCPT TO:<bob@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(
        &t,
        &[220, 250, 250, 250, 550, 550, 451, 250, 354, 250, 250, 221],
    );
    let r = replies(&t);
    assert!(r[4].starts_with("550 5.1.1 <nobody@example.test>"), "{t}");
    assert!(r[5].starts_with("550 5.2.1 "), "{t}");
    assert!(r[6].starts_with("451 4.3.0 "), "{t}");
    assert!(r[9].starts_with("250 2.1.5 <alice@example.test>"), "{t}");
    assert!(r[10].starts_with("250 2.1.5 <bob@example.test>"), "{t}");
    assert_eq!(h.store.messages("/stores/alice").len(), 1);
    assert_eq!(h.store.messages("/stores/bob").len(), 1);
    assert_eq!(h.store.total(), 2);
    assert_eq!(h.spool_files(), 0);
}

#[tokio::test]
async fn stored_bytes_are_the_trace_headers_followed_by_the_received_bytes() {
    let h = harness();
    let message = "From: a@b.test\r\n\r\n..leading dot\r\n.\r\nend\r\n";
    let script = format!(
        "LHLO relay.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<Alice@Example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(message)
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 354, 250, 221]);
    let stored = &h.store.messages("/stores/alice")[0];
    assert_eq!(stored.folder, TargetFolder::Inbox);
    let text = String::from_utf8(stored.bytes.clone()).unwrap();
    let (prefix, body) = text.split_at(text.find("From: a@b.test").unwrap());
    assert_eq!(body, message);
    assert!(prefix.starts_with(
        "Return-Path: <a@b.test>\r\nDelivered-To: Alice@Example.test\r\nReceived: from relay.test ([192.0.2.7])\r\n\tby mx.example.test (groxide-delivery) with LMTP id "
    ), "{prefix}");
    assert!(prefix.contains("\tfor <Alice@Example.test>; "), "{prefix}");
    assert!(prefix.ends_with("+0000\r\n"), "{prefix}");
}

#[tokio::test]
async fn every_recipient_gets_its_own_delivered_to() {
    let h = harness();
    let script = format!(
        "LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    h.converse(script.as_bytes()).await;
    let a = String::from_utf8(h.store.messages("/stores/alice")[0].bytes.clone()).unwrap();
    let b = String::from_utf8(h.store.messages("/stores/bob")[0].bytes.clone()).unwrap();
    assert!(a.starts_with("Return-Path: <>\r\nDelivered-To: alice@example.test\r\n"));
    assert!(b.starts_with("Return-Path: <>\r\nDelivered-To: bob@example.test\r\n"));
}

#[tokio::test]
async fn an_over_quota_mailbox_defers_only_its_own_recipient() {
    let h = harness();
    h.store.set_quota("/stores/bob", 10);
    let script = format!(
        "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n\
         RCPT TO:<carol@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 250, 250, 354, 250, 452, 250, 221]);
    assert!(
        replies(&t)[8].starts_with("452 4.2.2 <bob@example.test>"),
        "{t}"
    );
    assert!(h.store.messages("/stores/bob").is_empty());
    assert_eq!(h.store.messages("/stores/carol").len(), 1);
}

#[tokio::test]
async fn a_store_that_is_down_gets_451_and_a_later_retry_succeeds() {
    let h = harness();
    h.store.set_down("/stores/alice", true);
    let script = format!(
        "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 354, 451, 221]);
    assert!(replies(&t)[5].starts_with("451 4.3.0 "), "{t}");
    assert_eq!(h.store.total(), 0);
    h.store.set_down("/stores/alice", false);
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 354, 250, 221]);
    assert_eq!(h.store.messages("/stores/alice").len(), 1);
}

#[tokio::test]
async fn commands_out_of_order_get_503_and_the_session_goes_on() {
    let h = harness();
    let t = h
        .converse(
            b"MAIL FROM:<a@b.test>\r\nLHLO x\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n\
              MAIL FROM:<a@b.test>\r\nMAIL FROM:<c@d.test>\r\nDATA\r\n\
              RCPT TO:<nobody@example.test>\r\nDATA\r\nRSET\r\nRCPT TO:<alice@example.test>\r\nNOOP\r\nQUIT\r\n",
        )
        .await;
    check_codes(
        &t,
        &[
            220, 503, 250, 503, 503, 250, 503, 503, 550, 503, 250, 503, 250, 221,
        ],
    );
    let r = replies(&t);
    assert_eq!(r[1], "503 5.5.1 send LHLO first");
    assert_eq!(r[3], "503 5.5.1 send MAIL first");
    assert_eq!(r[6], "503 5.5.1 nested MAIL command");
    assert_eq!(r[7], "503 5.5.1 no valid recipients");
    assert_eq!(h.store.total(), 0);
}

#[tokio::test]
async fn bad_commands_get_clear_replies() {
    let mut s = settings(Protocol::Lmtp);
    s.limits.max_errors = 50;
    let h = harness_with(s, None);
    let t = h
        .converse(
            b"EHLO x\r\nHELO x\r\nFOO bar\r\nLHLO x\r\nMAIL FROM:bad\r\nMAIL FROM:<a@b.test> BODY=BINARYMIME\r\n\
              MAIL FROM:<a@b.test> SIZE=99999999\r\nMAIL FROM:<a@b.test> BODY=WRONG\r\n\
              MAIL FROM:<a@b.test>\r\nRCPT TO:<@@>\r\nAUTH PLAIN\r\nBDAT 10 LAST\r\nVRFY alice\r\nSTARTTLS\r\nQUIT\r\n",
        )
        .await;
    let r = replies(&t);
    let expect = [
        "220 mx.example.test LMTP groxide-delivery ready",
        "500 5.5.1 this is LMTP: use LHLO",
        "500 5.5.1 this is LMTP: use LHLO",
        "500 5.5.1 unknown command",
        "250 SIZE 10000",
        "501 5.5.4 syntax: MAIL FROM:<reverse-path> [parameters]",
        "555 5.5.4 BODY=BINARYMIME is not offered",
        "552 5.3.4 message exceeds the size limit of 10000 bytes",
        "501 5.5.4 invalid parameter BODY",
        "250 2.1.0 sender OK",
        "501 5.1.3 bad recipient address",
        "502 5.5.1 command not implemented",
        "502 5.5.1 command not implemented",
        "252 2.5.0 cannot verify the user; send mail and see",
        "502 5.5.1 command not implemented",
        "221 2.0.0 bye",
    ];
    assert_eq!(r, expect, "transcript:\n{t}");
}

#[tokio::test]
async fn a_100_kb_command_line_gets_500_and_the_session_continues() {
    let h = harness();
    let mut script = b"LHLO x\r\nNOOP ".to_vec();
    script.extend(std::iter::repeat_n(b'x', 100 * 1024));
    script.extend_from_slice(b"\r\nNOOP\r\nQUIT\r\n");
    let t = h.converse(&script).await;
    check_codes(&t, &[220, 250, 500, 250, 221]);
    assert_eq!(replies(&t)[2], "500 5.5.2 line too long (limit 1000 bytes)");
}

#[tokio::test]
async fn too_many_bad_commands_close_the_connection() {
    let h = harness();
    let script = "BAD\r\n".repeat(12);
    let t = h.converse(script.as_bytes()).await;
    let c = codes(&t);
    assert_eq!(c.len(), 12, "{t}");
    assert!(c[1..11].iter().all(|&c| c == 500), "{t}");
    assert_eq!(
        replies(&t)[11],
        "421 4.7.0 too many errors, closing connection"
    );
}

#[tokio::test]
async fn recipients_beyond_the_limit_get_452() {
    let h = harness();
    let mut script = String::from("LHLO x\r\nMAIL FROM:<a@b.test>\r\n");
    for _ in 0..6 {
        script.push_str("RCPT TO:<alice@example.test>\r\n");
    }
    script.push_str("QUIT\r\n");
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 250, 250, 250, 250, 452, 221]);
    assert_eq!(replies(&t)[8], "452 4.5.3 too many recipients (limit 5)");
}

#[tokio::test]
async fn an_oversized_message_is_read_to_its_end_refused_and_not_kept() {
    let h = harness();
    let big = format!("Subject: big\r\n\r\n{}\r\n", "y".repeat(20_000));
    let script = format!(
        "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n{}NOOP\r\nQUIT\r\n",
        data_of(&big)
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 250, 354, 552, 552, 250, 221]);
    assert_eq!(
        replies(&t)[6],
        "552 5.3.4 message exceeds the size limit of 10000 bytes"
    );
    assert_eq!(h.store.total(), 0);
    assert_eq!(h.spool_files(), 0);
}

#[tokio::test]
async fn a_client_vanishing_mid_data_delivers_nothing_and_leaves_no_spool_file() {
    let h = harness();
    let script = "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess";
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 354]);
    assert_eq!(h.store.total(), 0);
    assert_eq!(h.spool_files(), 0);
}

#[tokio::test]
async fn bare_lf_lines_are_stored_as_received() {
    let h = harness();
    // Bare LF is data: "\n.\n" does not end the message; CRLF.CRLF does.
    let body = "Subject: lf\n\nline one\n.\nline two\r\n";
    let script = format!(
        "LHLO x\nMAIL FROM:<a@b.test>\nRCPT TO:<alice@example.test>\nDATA\n{body}.\r\nQUIT\n"
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 354, 250, 221]);
    let stored = String::from_utf8(h.store.messages("/stores/alice")[0].bytes.clone()).unwrap();
    assert!(stored.ends_with(&format!("+0000\r\n{body}")), "{stored:?}");
}

#[tokio::test]
async fn an_empty_message_is_delivered() {
    let h = harness();
    let t = h
        .converse(b"LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n.\r\nQUIT\r\n")
        .await;
    check_codes(&t, &[220, 250, 250, 250, 354, 250, 221]);
    let stored = String::from_utf8(h.store.messages("/stores/alice")[0].bytes.clone()).unwrap();
    assert!(stored.ends_with("+0000\r\n"), "{stored:?}");
}

#[tokio::test]
async fn junk_rules_send_matching_mail_to_the_junk_folder() {
    let h = harness();
    for (header, folder) in [
        ("X-Spam-Flag: YES", TargetFolder::Junk),
        ("X-Spam-Flag: NO", TargetFolder::Inbox),
        ("X-MC-Relay: whatever", TargetFolder::Junk),
        ("X-Other: YES", TargetFolder::Inbox),
    ] {
        let message = format!("{header}\r\nSubject: s\r\n\r\nbody\r\n");
        let script = format!(
            "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n{}QUIT\r\n",
            data_of(&message)
        );
        h.converse(script.as_bytes()).await;
        let last = h.store.messages("/stores/carol").pop().unwrap();
        assert_eq!(last.folder, folder, "{header}");
    }
}

#[tokio::test]
async fn lhlo_lists_the_extensions() {
    let h = harness();
    let t = h.converse(b"LHLO x\r\nQUIT\r\n").await;
    assert_eq!(
        t,
        "220 mx.example.test LMTP groxide-delivery ready\r\n\
         250-mx.example.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n\
         250-SMTPUTF8\r\n250 SIZE 10000\r\n221 2.0.0 bye\r\n"
    );
}

#[tokio::test]
async fn rset_forgets_the_transaction() {
    let h = harness();
    let script = format!(
        "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nRSET\r\nDATA\r\n\
         MAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 250, 503, 250, 250, 354, 250, 221]);
    assert!(h.store.messages("/stores/alice").is_empty());
    assert_eq!(h.store.messages("/stores/bob").len(), 1);
}

#[tokio::test]
async fn two_transactions_on_one_connection_are_both_delivered() {
    let h = harness();
    let one = format!(
        "MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n{}",
        data_of(MESSAGE)
    );
    let script = format!("LHLO x\r\n{one}{one}QUIT\r\n");
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221]);
    assert_eq!(h.store.messages("/stores/alice").len(), 2);
}

#[tokio::test]
async fn a_slow_store_does_not_hold_back_another_recipients_delivery() {
    let h = harness();
    h.store.hold("/stores/alice");
    let script = format!(
        "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    let store = h.store.clone();
    let conversation = tokio::spawn({
        let script = script.clone();
        let server = h.server.clone();
        async move {
            let h2 = Harness {
                server,
                directory: Arc::new(MemoryDirectory::new()),
                store: Arc::new(MemoryStore::new()),
                shutdown: CancellationToken::new(),
                _spool_dir: tempfile::tempdir().unwrap(),
            };
            h2.converse(script.as_bytes()).await
        }
    });
    // Bob's copy is stored while Alice's store is still holding hers.
    while store.messages("/stores/bob").is_empty() {
        tokio::task::yield_now().await;
    }
    assert!(store.messages("/stores/alice").is_empty());
    store.release("/stores/alice");
    let t = conversation.await.unwrap();
    // Replies still come in RCPT order.
    let r = replies(&t);
    assert!(r[6].starts_with("250 2.1.5 <alice@example.test>"), "{t}");
    assert!(r[7].starts_with("250 2.1.5 <bob@example.test>"), "{t}");
}

/// Sends `envelope` + `message` and goes away before reading the final
/// reply, as when Postfix loses the connection after the final dot.
async fn send_and_lose_the_reply(h: &Harness, envelope: &str, message: &str) {
    let (client, server_side) = tokio::io::duplex(1 << 20);
    let server = h.server.clone();
    let task = tokio::spawn(async move { server.serve_connection(server_side, peer()).await });
    let (mut rd, mut wr) = tokio::io::split(client);
    wr.write_all(envelope.as_bytes()).await.unwrap();
    let mut seen = String::new();
    let mut buf = vec![0u8; 4096];
    while !seen.contains("\r\n354 ") {
        let n = rd.read(&mut buf).await.unwrap();
        assert!(n > 0, "{seen}");
        seen.push_str(std::str::from_utf8(&buf[..n]).unwrap());
    }
    wr.write_all(data_of(message).as_bytes()).await.unwrap();
    drop(rd);
    drop(wr);
    task.await.unwrap();
}

const WITH_ID: &str =
    "From: a@b.test\r\nMessage-ID: <retry-1@b.test>\r\nSubject: hi\r\n\r\nhello\r\n";

#[tokio::test]
async fn a_retry_after_a_lost_final_reply_stores_no_second_copy() {
    let h = harness();
    let envelope = "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n";
    send_and_lose_the_reply(&h, envelope, WITH_ID).await;
    assert_eq!(h.store.messages("/stores/alice").len(), 1);
    // Postfix retries the same message: 250 for both, nothing stored twice.
    let t = h
        .converse(format!("{envelope}{}QUIT\r\n", data_of(WITH_ID)).as_bytes())
        .await;
    check_codes(&t, &[220, 250, 250, 250, 250, 354, 250, 250, 221]);
    assert!(
        t.contains("250 2.1.5 <alice@example.test> already delivered\r\n"),
        "{t}"
    );
    assert_eq!(h.store.messages("/stores/alice").len(), 1);
    assert_eq!(h.store.messages("/stores/bob").len(), 1);
    // A recipient the first attempt did not reach gets the message.
    let t = h
        .converse(
            format!(
                "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n{}QUIT\r\n",
                data_of(WITH_ID)
            )
            .as_bytes(),
        )
        .await;
    check_codes(&t, &[220, 250, 250, 250, 354, 250, 221]);
    assert_eq!(h.store.messages("/stores/carol").len(), 1);
    // Other bytes under the same Message-ID are another message.
    let changed = WITH_ID.replace("hello", "hello again");
    h.converse(
        format!(
            "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n{}QUIT\r\n",
            data_of(&changed)
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(h.store.messages("/stores/alice").len(), 2);
}

#[tokio::test]
async fn without_a_message_id_or_a_window_a_retry_stores_a_second_copy() {
    let mut s = settings(Protocol::Lmtp);
    s.dedup_window = Duration::ZERO;
    for (h, message) in [(harness(), MESSAGE), (harness_with(s, None), WITH_ID)] {
        let envelope = "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n";
        send_and_lose_the_reply(&h, envelope, message).await;
        let t = h
            .converse(format!("{envelope}{}QUIT\r\n", data_of(message)).as_bytes())
            .await;
        check_codes(&t, &[220, 250, 250, 250, 354, 250, 221]);
        // Duplicates are preferred to loss when nothing tells them apart.
        assert_eq!(h.store.messages("/stores/alice").len(), 2);
    }
}

#[tokio::test]
async fn recipients_naming_one_mailbox_get_one_copy_and_a_reply_each() {
    let h = harness();
    let script = format!(
        "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n\
         RCPT TO:<alice@example.test>\r\nRCPT TO:<ALICE@example.test>\r\nRCPT TO:<alice.alias@example.test>\r\n\
         RCPT TO:<alice@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    let t = h.converse(script.as_bytes()).await;
    // Five accepted (the limit), the sixth refused; five replies after DATA.
    check_codes(
        &t,
        &[
            220, 250, 250, 250, 250, 250, 250, 250, 452, 354, 250, 250, 250, 250, 250, 221,
        ],
    );
    let r = replies(&t);
    assert!(r[11].starts_with("250 2.1.5 <bob@example.test>"), "{t}");
    assert!(
        r[14].starts_with("250 2.1.5 <alice.alias@example.test> delivered once with <alice@"),
        "{t}"
    );
    assert_eq!(h.store.messages("/stores/alice").len(), 1);
    assert_eq!(h.store.messages("/stores/bob").len(), 1);
    let a = String::from_utf8(h.store.messages("/stores/alice")[0].bytes.clone()).unwrap();
    assert!(a.contains("Delivered-To: alice@example.test\r\n"), "{a}");
}

#[tokio::test]
async fn one_recipient_over_quota_fails_every_rcpt_of_that_mailbox_only() {
    let h = harness();
    h.store.set_quota("/stores/alice", 10);
    let script = format!(
        "LHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n\
         RCPT TO:<alice.alias@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 250, 250, 354, 452, 250, 452, 221]);
}

#[tokio::test]
async fn an_idle_client_is_disconnected_with_421() {
    let mut s = settings(Protocol::Lmtp);
    s.limits.idle_timeout = Duration::from_millis(50);
    let h = harness_with(s, None);
    let (client, server_side) = tokio::io::duplex(1 << 16);
    let server = h.server.clone();
    let task = tokio::spawn(async move { server.serve_connection(server_side, peer()).await });
    let (mut rd, mut wr) = tokio::io::split(client);
    wr.write_all(b"LHLO x\r\n").await.unwrap();
    let mut out = Vec::new();
    rd.read_to_end(&mut out).await.unwrap();
    task.await.unwrap();
    let t = String::from_utf8(out).unwrap();
    assert_eq!(
        replies(&t).last().copied(),
        Some("421 4.4.2 idle timeout, closing connection")
    );
}

#[tokio::test]
async fn shutdown_ends_an_idle_session_with_421() {
    let h = harness();
    let (client, server_side) = tokio::io::duplex(1 << 16);
    let server = h.server.clone();
    let task = tokio::spawn(async move { server.serve_connection(server_side, peer()).await });
    let (mut rd, mut wr) = tokio::io::split(client);
    wr.write_all(b"LHLO x\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let mut seen = String::new();
    while !seen.contains("250 SIZE") {
        let n = rd.read(&mut buf).await.unwrap();
        seen.push_str(std::str::from_utf8(&buf[..n]).unwrap());
    }
    h.shutdown.cancel();
    let mut rest = Vec::new();
    rd.read_to_end(&mut rest).await.unwrap();
    task.await.unwrap();
    assert_eq!(
        String::from_utf8(rest).unwrap(),
        "421 4.3.2 service shutting down, closing connection\r\n"
    );
    let _ = &h.directory;
}

#[tokio::test]
async fn smtp_mode_answers_once_and_only_250_when_every_recipient_got_it() {
    let h = harness_with(settings(Protocol::Smtp), None);
    let script = format!(
        "EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n{}QUIT\r\n",
        data_of(MESSAGE)
    );
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 250, 354, 250, 221]);
    assert!(t.starts_with("220 mx.example.test ESMTP"), "{t}");
    let stored = String::from_utf8(h.store.messages("/stores/alice")[0].bytes.clone()).unwrap();
    assert!(stored.contains(" with ESMTP id "), "{stored}");

    // One store down: 451 for the whole message, so the sender retries.
    h.store.set_down("/stores/bob", true);
    let t = h.converse(script.as_bytes()).await;
    check_codes(&t, &[220, 250, 250, 250, 250, 354, 451, 221]);
    // Alice got a copy; the retry will give her a duplicate, never a loss.
    assert_eq!(h.store.messages("/stores/alice").len(), 2);
    assert_eq!(h.store.messages("/stores/bob").len(), 1);

    // LHLO is not SMTP.
    let t = h.converse(b"LHLO x\r\nHELO x\r\nQUIT\r\n").await;
    check_codes(&t, &[220, 500, 250, 221]);
}

/// Reads until a complete reply (its final line) has arrived.
async fn read_reply<T: tokio::io::AsyncRead + Unpin>(rd: &mut T) -> String {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let n = rd.read(&mut byte).await.unwrap();
        assert!(
            n > 0,
            "connection closed after {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.push(byte[0]);
        if seen.ends_with(b"\r\n") {
            let text = String::from_utf8(seen.clone()).unwrap();
            let last = text
                .trim_end()
                .rsplit("\r\n")
                .next()
                .unwrap_or("")
                .to_string();
            if last.len() >= 4 && last.as_bytes()[3] == b' ' {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn starttls_upgrades_the_session_and_drops_pipelined_plaintext() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let tls = groxide_delivery::tls::starttls_config(&cert, &key).unwrap();
    let h = harness_with(settings(Protocol::Lmtp), Some(tls));

    let (client, server_side) = tokio::io::duplex(1 << 20);
    let server = h.server.clone();
    let task = tokio::spawn(async move { server.serve_connection(server_side, peer()).await });
    let mut client = client;
    read_reply(&mut client).await;
    client.write_all(b"LHLO x\r\n").await.unwrap();
    let caps = read_reply(&mut client).await;
    assert!(
        caps.contains("250-STARTTLS\r\n") || caps.contains("250 STARTTLS\r\n"),
        "{caps}"
    );
    // A command pipelined after STARTTLS must not be run.
    client.write_all(b"STARTTLS\r\nNOOP\r\n").await.unwrap();
    assert_eq!(
        read_reply(&mut client).await,
        "220 2.0.0 ready to start TLS\r\n"
    );

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, client).await.unwrap();

    tls.write_all(b"LHLO x\r\n").await.unwrap();
    let caps = read_reply(&mut tls).await;
    assert!(caps.starts_with("250-mx.example.test\r\n"), "{caps}");
    assert!(!caps.contains("STARTTLS"), "{caps}");
    let script = "MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n";
    tls.write_all(script.as_bytes()).await.unwrap();
    for _ in 0..3 {
        read_reply(&mut tls).await;
    }
    tls.write_all(data_of(MESSAGE).as_bytes()).await.unwrap();
    assert!(read_reply(&mut tls).await.starts_with("250 2.1.5 "));
    tls.write_all(b"STARTTLS\r\nQUIT\r\n").await.unwrap();
    assert_eq!(
        read_reply(&mut tls).await,
        "503 5.5.1 TLS is already active\r\n"
    );
    assert_eq!(read_reply(&mut tls).await, "221 2.0.0 bye\r\n");
    task.await.unwrap();
    let stored = String::from_utf8(h.store.messages("/stores/alice")[0].bytes.clone()).unwrap();
    assert!(stored.contains(" with LMTPS id "), "{stored}");
}

mod random_input {
    use super::*;
    use proptest::prelude::*;

    /// Pieces a hostile or broken client might send, in any order.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("LHLO x\r\n".to_string()),
            Just("MAIL FROM:<a@b.test>\r\n".to_string()),
            Just("MAIL FROM:<>\r\n".to_string()),
            Just("RCPT TO:<alice@example.test>\r\n".to_string()),
            Just("RCPT TO:<bob@example.test>\r\n".to_string()),
            Just("RCPT TO:<nobody@example.test>\r\n".to_string()),
            Just("DATA\r\n".to_string()),
            Just("Subject: x\r\n\r\nbody\r\n".to_string()),
            Just(".\r\n".to_string()),
            Just("..\r\n".to_string()),
            Just("\n.\n".to_string()),
            Just("RSET\r\n".to_string()),
            Just("NOOP\r\n".to_string()),
            Just("STARTTLS\r\n".to_string()),
            "[ -~]{0,40}\r?\n?",
            proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever arrives, the session never panics, every "delivered"
        /// reply stands for exactly one stored copy, and no spool file stays.
        #[test]
        fn random_sessions_store_exactly_what_they_acknowledge(
            pieces in proptest::collection::vec(piece(), 0..40)
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let mut s = settings(Protocol::Lmtp);
            s.limits.max_errors = 1000;
            let h = harness_with(s, None);
            let script: String = pieces.concat();
            let t = rt.block_on(h.converse(script.as_bytes()));
            let delivered = t.matches("> delivered\r\n").count();
            prop_assert_eq!(h.store.total(), delivered, "{}", t);
            prop_assert_eq!(h.spool_files(), 0);
            prop_assert!(t.starts_with("220 "));
        }
    }
}
