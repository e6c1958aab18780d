//! groxide-submit against real relays: Python's aiosmtpd (plain, STARTTLS,
//! implicit TLS) and groxide-delivery's LMTP server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_submit::{
    Envelope, RecipientStatus, Stage, SubmitError, SubmitOptions, Submitter, TrustRoots,
};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// An aiosmtpd process; killed on drop.
struct Sink {
    child: Child,
    port: u16,
    out: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    fn start(mode: &str, tls: Option<&(PathBuf, PathBuf)>) -> Sink {
        let out = tempfile::tempdir().unwrap();
        let port = groxide_testkit::free_local_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg(port.to_string())
            .arg(out.path())
            .arg(mode);
        if let Some((c, k)) = tls {
            cmd.arg(c).arg(k);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd; .ci/prepare does it)");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start");
        Sink { child, port, out }
    }

    fn message(&self, n: usize) -> (Vec<u8>, serde_json::Value) {
        let base = self.out.path().join(n.to_string());
        let eml = std::fs::read(base.with_extension("eml")).unwrap();
        let json = std::fs::read_to_string(base.with_extension("json")).unwrap();
        (eml, serde_json::from_str(&json).unwrap())
    }

    fn count(&self) -> usize {
        std::fs::read_dir(self.out.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .map(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .unwrap_or(false)
            })
            .count()
    }
}

fn options(trust: TrustRoots) -> SubmitOptions {
    SubmitOptions {
        helo_name: "node1.example.test".into(),
        trust,
        ..SubmitOptions::default()
    }
}

fn envelope(recipients: &[&str]) -> Envelope {
    Envelope {
        from: "sender@example.test".into(),
        recipients: recipients.iter().map(|r| r.to_string()).collect(),
    }
}

/// A self-signed certificate for 127.0.0.1, as PEM files.
fn certificate(dir: &Path) -> ((PathBuf, PathBuf), rcgen::CertifiedKey<rcgen::KeyPair>) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, ck.cert.pem()).unwrap();
    std::fs::write(&k, ck.signing_key.serialize_pem()).unwrap();
    ((c, k), ck)
}

const MESSAGE: &[u8] = b"From: sender@example.test\r\nTo: a@example.test\r\nSubject: hello\r\n\r\nbody\r\n.leading dot\r\n";

#[tokio::test]
async fn each_recipient_gets_its_own_result_over_plain_smtp() {
    let sink = Sink::start("plain", None);
    let s = Submitter::new(
        &format!("smtp://127.0.0.1:{}", sink.port),
        options(TrustRoots::System),
    )
    .unwrap();
    let report = s
        .send_bytes(
            &envelope(&[
                "ok1@example.test",
                "reject@example.test",
                "defer@example.test",
                "ok2@example.test",
            ]),
            MESSAGE,
        )
        .await
        .unwrap();
    let kinds: Vec<(&str, u16)> = report
        .recipients
        .iter()
        .map(|r| {
            let k = match r.status {
                RecipientStatus::Accepted(_) => "accepted",
                RecipientStatus::Deferred(_) => "deferred",
                RecipientStatus::Rejected(_) => "rejected",
            };
            (k, r.status.reply().code)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("accepted", 250),
            ("rejected", 550),
            ("deferred", 451),
            ("accepted", 250)
        ]
    );
    assert!(!report.all_accepted());
    assert_eq!(
        report.accepted().collect::<Vec<_>>(),
        ["ok1@example.test", "ok2@example.test"]
    );
    let (eml, env) = sink.message(1);
    assert_eq!(eml, MESSAGE, "the relay got the message byte for byte");
    assert_eq!(env["from"], "sender@example.test");
    assert_eq!(
        env["rcpt"],
        serde_json::json!(["ok1@example.test", "ok2@example.test"])
    );
    assert_eq!(env["tls"], false);
}

#[tokio::test]
async fn bare_lf_is_sent_as_crlf() {
    let sink = Sink::start("plain", None);
    let s = Submitter::new(
        &format!("smtp://127.0.0.1:{}", sink.port),
        options(TrustRoots::System),
    )
    .unwrap();
    let report = s
        .send_bytes(
            &envelope(&["a@example.test"]),
            b"Subject: lf\n\nline\n.dot\nlast",
        )
        .await
        .unwrap();
    assert!(report.all_accepted());
    assert_eq!(
        sink.message(1).0,
        b"Subject: lf\r\n\r\nline\r\n.dot\r\nlast\r\n"
    );
}

#[tokio::test]
async fn a_large_message_streams_from_a_file() {
    let sink = Sink::start("plain", None);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.eml");
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..30_000 {
        big.extend_from_slice(format!("{i:08} the quick brown fox\r\n").as_bytes());
    }
    std::fs::write(&path, &big).unwrap();
    let s = Submitter::new(
        &format!("smtp://127.0.0.1:{}", sink.port),
        options(TrustRoots::System),
    )
    .unwrap();
    let report = s
        .send_file(&envelope(&["a@example.test"]), &path)
        .await
        .unwrap();
    assert!(report.all_accepted());
    let (eml, env) = sink.message(1);
    assert_eq!(eml.len(), big.len());
    assert_eq!(eml, big);
    assert!(
        env["options"]
            .to_string()
            .contains(&format!("SIZE={}", big.len())),
        "{env}"
    );
}

#[tokio::test]
async fn a_refused_sender_is_a_permanent_error() {
    let sink = Sink::start("plain", None);
    let s = Submitter::new(
        &format!("smtp://127.0.0.1:{}", sink.port),
        options(TrustRoots::System),
    )
    .unwrap();
    let env = Envelope {
        from: "blocked@example.test".into(),
        recipients: vec!["a@example.test".into()],
    };
    let err = s.send_bytes(&env, MESSAGE).await.unwrap_err();
    assert!(
        matches!(
            err,
            SubmitError::Rejected {
                stage: Stage::Mail,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.is_temporary());
    assert_eq!(err.reply().map(|r| r.code), Some(553));
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn only_refused_recipients_send_no_data() {
    let sink = Sink::start("plain", None);
    let s = Submitter::new(
        &format!("smtp://127.0.0.1:{}", sink.port),
        options(TrustRoots::System),
    )
    .unwrap();
    let report = s
        .send_bytes(
            &envelope(&["reject@example.test", "defer@example.test"]),
            MESSAGE,
        )
        .await
        .unwrap();
    assert_eq!(report.accepted().count(), 0);
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn an_unreachable_relay_is_a_temporary_error() {
    let port = groxide_testkit::free_local_port();
    let s = Submitter::new(
        &format!("smtp://127.0.0.1:{port}"),
        options(TrustRoots::System),
    )
    .unwrap();
    let err = s
        .send_bytes(&envelope(&["a@example.test"]), MESSAGE)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SubmitError::Io {
                stage: Stage::Connect,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_temporary());
}

#[tokio::test]
async fn starttls_is_used_and_checked_when_the_url_asks_for_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (files, ck) = certificate(tmp.path());
    let sink = Sink::start("starttls", Some(&files));
    let url = format!("smtp+tls://127.0.0.1:{}", sink.port);

    let trusted = Submitter::new(
        &url,
        options(TrustRoots::Certificates(vec![ck.cert.der().clone()])),
    )
    .unwrap();
    assert!(
        trusted
            .send_bytes(&envelope(&["a@example.test"]), MESSAGE)
            .await
            .unwrap()
            .all_accepted()
    );
    assert_eq!(sink.message(1).1["tls"], true);

    // The same self-signed certificate is not trusted by the system roots.
    let untrusted = Submitter::new(&url, options(TrustRoots::System)).unwrap();
    let err = untrusted
        .send_bytes(&envelope(&["a@example.test"]), MESSAGE)
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::Tls { .. }), "{err}");
    assert!(err.is_temporary());

    // smtp+unverifiedtls encrypts without checking.
    let unverified = Submitter::new(
        &format!("smtp+unverifiedtls://127.0.0.1:{}", sink.port),
        options(TrustRoots::System),
    )
    .unwrap();
    assert!(
        unverified
            .send_bytes(&envelope(&["a@example.test"]), MESSAGE)
            .await
            .unwrap()
            .all_accepted()
    );
    assert_eq!(sink.message(2).1["tls"], true);
    assert_eq!(sink.count(), 2);
}

#[tokio::test]
async fn smtp_tls_refuses_a_relay_without_starttls() {
    let sink = Sink::start("plain", None);
    let s = Submitter::new(
        &format!("smtp+tls://127.0.0.1:{}", sink.port),
        options(TrustRoots::System),
    )
    .unwrap();
    let err = s
        .send_bytes(&envelope(&["a@example.test"]), MESSAGE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SubmitError::StartTlsUnavailable { .. }),
        "{err}"
    );
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn smtps_speaks_tls_from_the_first_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let (files, ck) = certificate(tmp.path());
    let sink = Sink::start("smtps", Some(&files));
    let s = Submitter::new(
        &format!("smtps://127.0.0.1:{}", sink.port),
        options(TrustRoots::Certificates(vec![ck.cert.der().clone()])),
    )
    .unwrap();
    assert!(
        s.send_bytes(&envelope(&["a@example.test"]), MESSAGE)
            .await
            .unwrap()
            .all_accepted()
    );
    assert_eq!(sink.message(1).1["tls"], true);
    assert_eq!(sink.message(1).0, MESSAGE);
}

mod lmtp {
    use super::*;
    use groxide_delivery::testing::{MemoryDirectory, MemoryStore};
    use groxide_delivery::{DeliveryServer, JunkRules, Protocol, SessionLimits, Settings, Spool};
    use std::sync::Arc;
    use tokio_util::sync::CancellationToken;

    /// Every accepted recipient's reply after DATA is read, so the next
    /// transaction on the connection is not confused by a leftover reply
    /// (mail-send 0.6 reads only the first one).
    #[tokio::test]
    async fn every_lmtp_reply_after_data_is_read() {
        let spool = tempfile::tempdir().unwrap();
        let directory = Arc::new(MemoryDirectory::new());
        directory.add_user("a@example.test", "/a");
        directory.add_user("full@example.test", "/full");
        let store = Arc::new(MemoryStore::new());
        store.set_quota("/full", 1);
        let shutdown = CancellationToken::new();
        let server = Arc::new(DeliveryServer::new(
            Settings {
                hostname: "mx".into(),
                protocol: Protocol::Lmtp,
                limits: SessionLimits::default(),
                junk_rules: JunkRules::default(),
                dedup_window: std::time::Duration::ZERO,
            },
            directory,
            store.clone(),
            Spool::open(spool.path()).unwrap(),
            None,
            shutdown.clone(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let serving =
            tokio::spawn(server.serve(vec![listener], 10, std::time::Duration::from_secs(1)));

        let s = Submitter::new(
            &format!("lmtp://127.0.0.1:{port}"),
            options(TrustRoots::System),
        )
        .unwrap();
        let mut conn = s.connect().await.unwrap();
        assert!(conn.pipelining());
        let report = conn
            .send(
                &envelope(&["a@example.test", "nobody@example.test", "full@example.test"]),
                MESSAGE,
                None,
            )
            .await
            .unwrap();
        let codes: Vec<u16> = report
            .recipients
            .iter()
            .map(|r| r.status.reply().code)
            .collect();
        assert_eq!(codes, [250, 550, 452]);
        // A second message on the same connection gets its own replies.
        let report = conn
            .send(&envelope(&["a@example.test"]), MESSAGE, None)
            .await
            .unwrap();
        assert!(report.all_accepted());
        conn.quit().await;
        assert_eq!(store.messages("/a").len(), 2);
        assert!(store.messages("/full").is_empty());
        shutdown.cancel();
        serving.await.unwrap();
    }
}
