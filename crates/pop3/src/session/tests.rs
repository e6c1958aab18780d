//! The session driven in memory: a fake backend, a duplex pipe, a client
//! that writes lines and reads replies.

use super::*;
use crate::maildrop::{
    Backend, LoginError, Maildrop, MaildropError, MaildropMessage, MaildropUpdate,
};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::sync::{Arc, Mutex};
use tokio::io::{
    AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf,
};

const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));

#[derive(Default)]
struct Fake {
    messages: Vec<(u32, Vec<u8>)>,
    commits: Mutex<Vec<MaildropUpdate>>,
    logins: Mutex<Vec<(String, String)>>,
    fail_commit: bool,
    /// UIDs whose bytes stream breaks off after the first chunk.
    broken: Vec<u32>,
    /// UIDs that are gone.
    gone: Vec<u32>,
}

struct FakeDrop {
    fake: Arc<Fake>,
}

impl Maildrop for FakeDrop {
    async fn messages(&mut self) -> Result<Vec<MaildropMessage>, MaildropError> {
        Ok(self
            .fake
            .messages
            .iter()
            .map(|(uid, b)| MaildropMessage {
                uid: *uid,
                size: b.len() as u64,
                uidl: format!("77.{uid}"),
            })
            .collect())
    }

    async fn retrieve(
        &mut self,
        uid: u32,
        _whole: bool,
    ) -> Result<BoxStream<'static, Result<Bytes, MaildropError>>, MaildropError> {
        if self.fake.gone.contains(&uid) {
            return Err(MaildropError::Gone);
        }
        let bytes = self
            .fake
            .messages
            .iter()
            .find(|m| m.0 == uid)
            .map(|m| m.1.clone())
            .unwrap_or_default();
        let mut chunks: Vec<Result<Bytes, MaildropError>> = bytes
            .chunks(7)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        if self.fake.broken.contains(&uid) {
            chunks.truncate((chunks.len() / 2).max(1));
            chunks.push(Err(MaildropError::Unavailable("disk on fire".into())));
        }
        Ok(futures_util::stream::iter(chunks).boxed())
    }

    async fn commit(&mut self, update: MaildropUpdate) -> Result<(), MaildropError> {
        if self.fake.fail_commit {
            return Err(MaildropError::Unavailable("midb down".into()));
        }
        self.fake.commits.lock().unwrap().push(update);
        Ok(())
    }
}

struct FakeBackend {
    fake: Arc<Fake>,
}

impl Backend for FakeBackend {
    type Drop = FakeDrop;

    async fn login(
        &self,
        user: &str,
        password: &str,
        peer: IpAddr,
    ) -> Result<FakeDrop, LoginError> {
        assert_eq!(peer, PEER);
        self.fake
            .logins
            .lock()
            .unwrap()
            .push((user.to_owned(), password.to_owned()));
        match (user, password) {
            ("alice", "secret") | ("alice", "pass word") => Ok(FakeDrop {
                fake: self.fake.clone(),
            }),
            ("blocked", _) => Err(LoginError::Throttled),
            ("nopop", "secret") => Err(LoginError::NotPermitted),
            ("down", _) => Err(LoginError::Unavailable("directory unreachable".into())),
            _ => Err(LoginError::InvalidCredentials),
        }
    }
}

struct Client {
    r: BufReader<ReadHalf<DuplexStream>>,
    w: WriteHalf<DuplexStream>,
    session: tokio::task::JoinHandle<Outcome<DuplexStream>>,
}

impl Client {
    async fn line(&mut self) -> String {
        let mut s = String::new();
        self.r.read_line(&mut s).await.unwrap();
        assert!(
            s.is_empty() || s.ends_with("\r\n"),
            "every reply line ends in CRLF: {s:?}"
        );
        s.trim_end_matches("\r\n").to_owned()
    }

    async fn send(&mut self, raw: &str) {
        self.w.write_all(raw.as_bytes()).await.unwrap();
    }

    /// Sends a command, returns the first reply line.
    async fn cmd(&mut self, line: &str) -> String {
        self.send(&format!("{line}\r\n")).await;
        self.line().await
    }

    /// Reads a multi-line body up to the terminating ".".
    async fn body(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await;
            if l == "." {
                return out;
            }
            out.push(l);
        }
    }

    /// Reads until the server closes.
    async fn rest(&mut self) -> String {
        let mut s = String::new();
        self.r.read_to_string(&mut s).await.unwrap();
        s
    }

    async fn login(&mut self) {
        assert_eq!(self.cmd("USER alice").await, "+OK send PASS");
        assert!(
            self.cmd("PASS secret")
                .await
                .starts_with("+OK maildrop has")
        );
    }
}

fn start_with(fake: Arc<Fake>, cfg: SessionConfig, tls_active: bool) -> Client {
    let (client, server) = tokio::io::duplex(1 << 16);
    let backend = FakeBackend { fake };
    let session = tokio::spawn(async move {
        run(
            server,
            PEER,
            tls_active,
            true,
            &backend,
            &cfg,
            &mut LoginGate::unlimited(),
        )
        .await
    });
    let (r, w) = tokio::io::split(client);
    Client {
        r: BufReader::new(r),
        w,
        session,
    }
}

fn mailbox() -> Arc<Fake> {
    Arc::new(Fake {
        messages: vec![
            (3, b"Subject: one\r\n\r\nfirst\r\n.dotted\r\n".to_vec()),
            (5, b"Subject: two\n\nlf only\nsecond line\n".to_vec()),
            (9, b"Subject: three\r\n\r\nx".to_vec()),
        ],
        ..Fake::default()
    })
}

async fn start() -> (Client, Arc<Fake>) {
    let fake = mailbox();
    let mut c = start_with(fake.clone(), SessionConfig::default(), false);
    assert_eq!(c.line().await, "+OK groxide POP3 server ready");
    (c, fake)
}

#[tokio::test]
async fn capa_lists_what_the_state_allows() {
    let fake = mailbox();
    let cfg = SessionConfig {
        stls_offered: true,
        ..SessionConfig::default()
    };
    let mut c = start_with(fake, cfg, false);
    c.line().await;
    assert_eq!(c.cmd("CAPA").await, "+OK capability list follows");
    let caps = c.body().await;
    for cap in [
        "TOP",
        "UIDL",
        "RESP-CODES",
        "AUTH-RESP-CODE",
        "PIPELINING",
        "USER",
        "SASL PLAIN",
        "STLS",
    ] {
        assert!(caps.contains(&cap.to_string()), "{cap} in {caps:?}");
    }
    c.login().await;
    c.cmd("CAPA").await;
    let caps = c.body().await;
    assert!(caps.contains(&"UIDL".to_string()));
    assert!(
        !caps
            .iter()
            .any(|c| c == "USER" || c == "STLS" || c.starts_with("SASL")),
        "{caps:?}"
    );
}

#[tokio::test]
async fn a_logged_in_user_lists_and_reads_the_snapshot() {
    let (mut c, _) = start().await;
    assert_eq!(c.cmd("USER alice").await, "+OK send PASS");
    let sizes = [32, 34, 19];
    let total: usize = sizes.iter().sum();
    assert_eq!(
        c.cmd("PASS secret").await,
        format!("+OK maildrop has 3 messages ({total} octets)")
    );
    assert_eq!(c.cmd("STAT").await, format!("+OK 3 {total}"));
    assert_eq!(
        c.cmd("LIST").await,
        format!("+OK 3 messages ({total} octets)")
    );
    assert_eq!(c.body().await, ["1 32", "2 34", "3 19"]);
    assert_eq!(c.cmd("LIST 2").await, "+OK 2 34");
    assert_eq!(c.cmd("UIDL").await, "+OK unique-id listing follows");
    assert_eq!(c.body().await, ["1 77.3", "2 77.5", "3 77.9"]);
    assert_eq!(c.cmd("UIDL 3").await, "+OK 3 77.9");
    assert_eq!(c.cmd("RETR 1").await, "+OK 32 octets");
    assert_eq!(c.body().await, ["Subject: one", "", "first", "..dotted"]);
    assert_eq!(c.cmd("RETR 2").await, "+OK 34 octets");
    assert_eq!(
        c.body().await,
        ["Subject: two", "", "lf only", "second line"],
        "bare LF goes out as CRLF"
    );
    assert_eq!(c.cmd("RETR 3").await, "+OK 19 octets");
    assert_eq!(
        c.body().await,
        ["Subject: three", "", "x"],
        "a last line without break gets one"
    );
    assert_eq!(c.cmd("TOP 2 1").await, "+OK top of message follows");
    assert_eq!(c.body().await, ["Subject: two", "", "lf only"]);
    assert_eq!(c.cmd("TOP 1 0").await, "+OK top of message follows");
    assert_eq!(c.body().await, ["Subject: one", ""]);
    assert_eq!(c.cmd("NOOP").await, "+OK");
    for bad in ["LIST 0", "LIST 4", "RETR 99", "TOP 4 1", "DELE 0", "UIDL 7"] {
        assert_eq!(c.cmd(bad).await, "-ERR no such message", "{bad}");
    }
}

#[tokio::test]
async fn deletions_apply_only_at_quit_and_retrieved_mail_gets_seen() {
    let (mut c, fake) = start().await;
    c.login().await;
    c.cmd("RETR 1").await;
    c.body().await;
    assert_eq!(c.cmd("DELE 2").await, "+OK message 2 deleted");
    assert_eq!(c.cmd("DELE 2").await, "-ERR message 2 already deleted");
    assert_eq!(c.cmd("LIST 2").await, "-ERR message 2 already deleted");
    assert_eq!(c.cmd("RETR 2").await, "-ERR message 2 already deleted");
    assert_eq!(c.cmd("STAT").await, "+OK 2 51");
    c.cmd("LIST").await;
    assert_eq!(
        c.body().await,
        ["1 32", "3 19"],
        "deleted messages are not listed, numbers stay"
    );
    assert_eq!(
        c.cmd("RSET").await,
        "+OK maildrop has 3 messages (85 octets)"
    );
    assert_eq!(c.cmd("STAT").await, "+OK 3 85");
    c.cmd("DELE 1").await;
    c.cmd("DELE 3").await;
    assert!(
        fake.commits.lock().unwrap().is_empty(),
        "nothing before QUIT"
    );
    assert_eq!(
        c.cmd("QUIT").await,
        "+OK groxide POP3 server signing off (1 messages left)"
    );
    assert_eq!(c.rest().await, "");
    assert_eq!(
        *fake.commits.lock().unwrap(),
        vec![MaildropUpdate {
            delete: vec![3, 9],
            seen: vec![]
        }],
    );
    assert!(matches!(c.session.await.unwrap(), Outcome::Closed));
}

#[tokio::test]
async fn a_dropped_connection_deletes_nothing() {
    let (mut c, fake) = start().await;
    c.login().await;
    c.cmd("DELE 1").await;
    c.cmd("RETR 2").await;
    c.body().await;
    drop(c.w);
    drop(c.r);
    assert!(matches!(c.session.await.unwrap(), Outcome::Closed));
    assert!(fake.commits.lock().unwrap().is_empty());
}

#[tokio::test]
async fn quit_reports_a_failed_commit() {
    let fake = Arc::new(Fake {
        fail_commit: true,
        ..Arc::try_unwrap(mailbox()).ok().unwrap()
    });
    let mut c = start_with(fake, SessionConfig::default(), false);
    c.line().await;
    c.login().await;
    c.cmd("DELE 1").await;
    assert_eq!(
        c.cmd("QUIT").await,
        "-ERR [SYS/TEMP] some deleted messages were not removed"
    );
}

#[tokio::test]
async fn quit_before_login_just_closes() {
    let (mut c, fake) = start().await;
    assert_eq!(c.cmd("QUIT").await, "+OK groxide POP3 server signing off");
    assert_eq!(c.rest().await, "");
    assert!(fake.commits.lock().unwrap().is_empty());
}

#[tokio::test]
async fn failed_logins_carry_response_codes() {
    let (mut c, _) = start().await;
    c.cmd("USER alice").await;
    assert_eq!(
        c.cmd("PASS wrong").await,
        "-ERR [AUTH] invalid user name or password"
    );
    assert_eq!(
        c.cmd("PASS secret").await,
        "-ERR send USER first",
        "PASS needs a fresh USER"
    );
    c.cmd("USER blocked").await;
    assert_eq!(
        c.cmd("PASS x").await,
        "-ERR [LOGIN-DELAY] too many failed logins; try again later"
    );
    c.cmd("USER nopop").await;
    assert_eq!(
        c.cmd("PASS secret").await,
        "-ERR [SYS/PERM] this account may not use POP3"
    );
    c.cmd("USER down").await;
    assert_eq!(
        c.cmd("PASS x").await,
        "-ERR [SYS/TEMP] the mailbox is unavailable; try again later"
    );
    c.cmd("USER alice").await;
    assert_eq!(
        c.cmd("PASS pass word").await,
        "+OK maildrop has 3 messages (85 octets)",
        "passwords may hold spaces"
    );
}

fn b64(s: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn sasl_plain_with_initial_response_and_continuation() {
    let (mut c, fake) = start().await;
    assert_eq!(c.cmd("AUTH").await, "+OK");
    assert_eq!(c.body().await, ["PLAIN"]);
    assert_eq!(
        c.cmd("AUTH CRAM-MD5").await,
        "-ERR [AUTH] unsupported SASL mechanism (PLAIN is offered)"
    );
    assert_eq!(
        c.cmd("AUTH PLAIN !!!").await,
        "-ERR [AUTH] the SASL response is not valid base64"
    );
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", b64(b"bob\0alice\0secret")))
            .await,
        "-ERR [AUTH] acting as another user is not supported"
    );
    assert_eq!(c.cmd("AUTH PLAIN").await, "+ ");
    assert_eq!(c.cmd("*").await, "-ERR authentication cancelled");
    assert_eq!(c.cmd("AUTH PLAIN").await, "+ ");
    assert_eq!(
        c.cmd("@@@").await,
        "-ERR [AUTH] the SASL response is not valid base64"
    );
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", b64(b"\0alice\0nope")))
            .await,
        "-ERR [AUTH] invalid user name or password"
    );
    assert_eq!(c.cmd("AUTH PLAIN").await, "+ ");
    assert_eq!(
        c.cmd(&b64(b"\0alice\0secret")).await,
        "+OK maildrop has 3 messages (85 octets)"
    );
    assert_eq!(
        fake.logins.lock().unwrap().last().unwrap(),
        &("alice".to_string(), "secret".to_string())
    );
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", b64(b"\0alice\0secret")))
            .await,
        "-ERR command not valid in this state"
    );
}

#[tokio::test]
async fn commands_in_the_wrong_state_are_refused() {
    let (mut c, _) = start().await;
    for cmd in [
        "STAT", "LIST", "UIDL", "RETR 1", "TOP 1 1", "DELE 1", "RSET", "NOOP",
    ] {
        assert_eq!(
            c.cmd(cmd).await,
            "-ERR command not valid in this state",
            "{cmd}"
        );
    }
    c.login().await;
    for cmd in ["USER alice", "PASS secret", "AUTH PLAIN", "STLS"] {
        assert_eq!(
            c.cmd(cmd).await,
            "-ERR command not valid in this state",
            "{cmd}"
        );
    }
    assert_eq!(c.cmd("XTND").await, "-ERR unknown command");
    assert_eq!(c.cmd("RETR one").await, "-ERR invalid message number");
    assert_eq!(c.cmd("").await, "-ERR empty command");
}

#[tokio::test]
async fn long_lines_are_refused_and_too_many_errors_close_the_connection() {
    let fake = mailbox();
    let cfg = SessionConfig {
        max_line: 64,
        max_errors: 4,
        ..SessionConfig::default()
    };
    let mut c = start_with(fake.clone(), cfg, false);
    c.line().await;
    assert_eq!(
        c.cmd(&format!("USER {}", "x".repeat(100))).await,
        "-ERR line too long (at most 64 octets)"
    );
    assert_eq!(
        c.cmd("USER alice").await,
        "+OK send PASS",
        "the session goes on after a long line"
    );
    c.send("\u{1}\u{ff}garbage\r\n").await;
    assert_eq!(c.line().await, "-ERR unknown command");
    assert_eq!(c.cmd("FOO").await, "-ERR unknown command");
    assert_eq!(c.cmd("BAR").await, "-ERR unknown command");
    assert_eq!(
        c.line().await,
        "-ERR too many errors; closing the connection"
    );
    assert_eq!(c.rest().await, "");
    assert!(fake.commits.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_closed_and_deletes_nothing() {
    let fake = mailbox();
    let cfg = SessionConfig {
        idle_timeout: Duration::from_secs(60),
        ..SessionConfig::default()
    };
    let mut c = start_with(fake.clone(), cfg, false);
    c.line().await;
    c.login().await;
    c.cmd("DELE 1").await;
    assert_eq!(c.line().await, "-ERR disconnected for inactivity");
    assert_eq!(c.rest().await, "");
    assert!(fake.commits.lock().unwrap().is_empty());
}

#[tokio::test]
async fn force_tls_refuses_plaintext_logins_until_stls() {
    let fake = mailbox();
    let cfg = SessionConfig {
        stls_offered: true,
        force_tls: true,
        ..SessionConfig::default()
    };
    let mut c = start_with(fake.clone(), cfg.clone(), false);
    c.line().await;
    c.cmd("CAPA").await;
    let caps = c.body().await;
    assert!(caps.contains(&"STLS".to_string()));
    assert!(
        !caps.iter().any(|c| c == "USER" || c.starts_with("SASL")),
        "{caps:?}"
    );
    for cmd in ["USER alice", "PASS secret", "AUTH PLAIN"] {
        assert_eq!(
            c.cmd(cmd).await,
            "-ERR [AUTH] log in only after STLS (TLS is required)",
            "{cmd}"
        );
    }
    // STLS, with a command pipelined behind it that must be thrown away.
    c.send("STLS\r\nUSER mallory\r\n").await;
    assert_eq!(c.line().await, "+OK begin TLS negotiation");
    let Outcome::StartTls(stream) = (&mut c.session).await.unwrap() else {
        panic!("expected STLS")
    };
    // The caller wraps the stream in TLS; here it runs on as if encrypted.
    let backend = FakeBackend { fake };
    let second = tokio::spawn(async move {
        run(
            stream,
            PEER,
            true,
            false,
            &backend,
            &cfg,
            &mut LoginGate::unlimited(),
        )
        .await
    });
    assert_eq!(
        c.cmd("PASS secret").await,
        "-ERR send USER first",
        "the pipelined USER was discarded"
    );
    c.cmd("CAPA").await;
    let caps = c.body().await;
    assert!(
        caps.contains(&"USER".to_string()) && !caps.contains(&"STLS".to_string()),
        "{caps:?}"
    );
    assert_eq!(c.cmd("STLS").await, "-ERR TLS is already active");
    c.login().await;
    c.cmd("QUIT").await;
    assert!(matches!(second.await.unwrap(), Outcome::Closed));
}

#[tokio::test]
async fn stls_is_refused_when_tls_is_not_configured() {
    let (mut c, _) = start().await;
    assert_eq!(c.cmd("STLS").await, "-ERR STLS is not available");
}

#[tokio::test]
async fn a_message_that_vanished_or_breaks_off_is_handled() {
    let mut base = Arc::try_unwrap(mailbox()).ok().unwrap();
    base.messages.push((11, vec![b'z'; 200_000]));
    let fake = Arc::new(Fake {
        gone: vec![3],
        broken: vec![5, 11],
        ..base
    });
    let mut c = start_with(fake.clone(), SessionConfig::default(), false);
    c.line().await;
    c.login().await;
    assert_eq!(
        c.cmd("RETR 1").await,
        "-ERR this message was deleted by another session"
    );
    c.cmd("DELE 3").await;
    assert_eq!(
        c.cmd("RETR 2").await,
        "-ERR [SYS/TEMP] cannot read the message; try again later",
        "nothing was sent yet, so the session goes on"
    );
    assert_eq!(c.cmd("NOOP").await, "+OK");
    assert_eq!(
        c.cmd("RETR 4").await,
        "+OK 200000 octets",
        "the first part went out"
    );
    let rest = c.rest().await;
    assert!(
        !rest.ends_with(".\r\n"),
        "no terminator after a broken read"
    );
    assert!(
        fake.commits.lock().unwrap().is_empty(),
        "hanging up deletes nothing"
    );
}

mod garbage {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn random_input_never_panics_and_never_deletes(input in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let fake = mailbox();
                let mut c = start_with(fake.clone(), SessionConfig { max_errors: 1000, ..SessionConfig::default() }, false);
                let _ = c.w.write_all(&input).await;
                let _ = c.w.write_all(b"\r\nUSER alice\r\nPASS secret\r\nDELE 1\r\n").await;
                let _ = c.w.shutdown().await;
                let mut sink = Vec::new();
                let _ = c.r.read_to_end(&mut sink).await;
                let outcome = c.session.await;
                prop_assert!(outcome.is_ok(), "the session task panicked");
                let deleted_at_quit = input.windows(4).any(|w| w.eq_ignore_ascii_case(b"QUIT"));
                if !deleted_at_quit {
                    prop_assert!(fake.commits.lock().unwrap().is_empty());
                }
                Ok(())
            })?;
        }
    }
}
