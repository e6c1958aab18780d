//! Transcripts: greeting, capabilities, login and its failures, state
//! rules, ID, ENABLE, NAMESPACE, LOGOUT.
#![allow(clippy::unwrap_used)]

mod common;

use common::{PASSWORD, USER, World, check};
use groxide_imap::Settings;

const PRE_AUTH_CAPS: &str =
    "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN";
const POST_AUTH_CAPS: &str = "IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CONDSTORE QRESYNC ESEARCH SEARCHRES SORT THREAD=REFERENCES THREAD=ORDEREDSUBJECT BINARY MULTIAPPEND QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE UTF8=ACCEPT APPENDLIMIT=67108864 COMPRESS=DEFLATE";

#[tokio::test]
async fn capabilities_before_and_after_login_differ() {
    let w = World::new();
    let mut c = w.connect().await;
    check(
        &c.cmd("a1 CAPABILITY").await,
        &[
            &format!("* CAPABILITY {PRE_AUTH_CAPS}"),
            "a1 OK CAPABILITY completed",
        ],
    );
    check(
        &c.cmd(&format!("a2 LOGIN {USER} {PASSWORD}")).await,
        &[&format!("a2 OK [CAPABILITY {POST_AUTH_CAPS}] Logged in")],
    );
    check(
        &c.cmd("a3 CAPABILITY").await,
        &[
            &format!("* CAPABILITY {POST_AUTH_CAPS}"),
            "a3 OK CAPABILITY completed",
        ],
    );
}

#[tokio::test]
async fn wrong_password_is_refused_with_authenticationfailed() {
    let w = World::new();
    let mut c = w.connect().await;
    check(
        &c.cmd(&format!("a1 LOGIN {USER} wrong")).await,
        &["a1 NO [AUTHENTICATIONFAILED] Invalid user name or password"],
    );
    check(&c.cmd("a2 SELECT INBOX").await, &["a2 BAD Log in first"]);
}

#[tokio::test]
async fn session_closes_after_too_many_failed_logins() {
    let w = World::with_settings(Settings {
        auth_failures_per_session: 3,
        ..Settings::default()
    });
    let mut c = w.connect().await;
    for i in 1..3 {
        let r = c.cmd(&format!("a{i} LOGIN {USER} wrong")).await;
        assert!(
            r.starts_with(&format!("a{i} NO [AUTHENTICATIONFAILED]")),
            "{r}"
        );
    }
    check(
        &c.cmd(&format!("a3 LOGIN {USER} wrong")).await,
        &["a3 NO [AUTHENTICATIONFAILED] Invalid user name or password"],
    );
    assert_eq!(c.line().await, "* BYE Too many authentication failures");
    assert!(c.closed().await);
}

#[tokio::test]
async fn a_blocked_address_is_refused_even_with_the_right_password() {
    let w = World::new();
    w.backend.set_block_after(2);
    for _ in 0..2 {
        let mut c = w.connect().await;
        c.cmd(&format!("a LOGIN {USER} wrong")).await;
    }
    let mut c = w.connect().await;
    check(
        &c.cmd(&format!("a1 LOGIN {USER} {PASSWORD}")).await,
        &["a1 NO [AUTHENTICATIONFAILED] Too many failed logins; try again later"],
    );
}

#[tokio::test]
async fn authenticate_plain_works_with_and_without_initial_response() {
    let w = World::new();
    // "\0alice@example.test\0secret"
    let creds = "AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=";
    let mut c = w.connect().await;
    let r = c.cmd(&format!("a1 AUTHENTICATE PLAIN {creds}")).await;
    assert!(r.starts_with("a1 OK [CAPABILITY IMAP4rev1"), "{r}");

    let mut c = w.connect().await;
    c.send(b"a1 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+ ");
    c.send(format!("{creds}\r\n").as_bytes()).await;
    let r = c.until_tagged("a1").await;
    assert!(r.starts_with("a1 OK [CAPABILITY"), "{r}");
}

#[tokio::test]
async fn authenticate_login_asks_for_user_and_password() {
    let w = World::new();
    let mut c = w.connect().await;
    c.send(b"a1 AUTHENTICATE LOGIN\r\n").await;
    assert_eq!(c.line().await, "+ VXNlcm5hbWU6");
    c.send(b"YWxpY2VAZXhhbXBsZS50ZXN0\r\n").await;
    assert_eq!(c.line().await, "+ UGFzc3dvcmQ6");
    c.send(b"c2VjcmV0\r\n").await;
    let r = c.until_tagged("a1").await;
    assert!(r.starts_with("a1 OK [CAPABILITY"), "{r}");
}

#[tokio::test]
async fn authenticate_can_be_cancelled_and_unknown_mechanisms_are_refused() {
    let w = World::new();
    let mut c = w.connect().await;
    c.send(b"a1 AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+ ");
    c.send(b"*\r\n").await;
    check(
        &c.until_tagged("a1").await,
        &["a1 BAD Authentication cancelled"],
    );
    check(
        &c.cmd("a2 AUTHENTICATE CRAM-MD5").await,
        &["a2 NO Unsupported authentication mechanism CRAM-MD5"],
    );
    c.send(b"a3 AUTHENTICATE PLAIN\r\n").await;
    c.line().await;
    c.send(b"!!!\r\n").await;
    check(&c.until_tagged("a3").await, &["a3 BAD invalid base64 data"]);
    // Still usable.
    let r = c.cmd(&format!("a4 LOGIN {USER} {PASSWORD}")).await;
    assert!(r.starts_with("a4 OK"), "{r}");
}

#[tokio::test]
async fn plain_login_is_disabled_without_tls_when_tls_is_forced() {
    let w = World::with_settings(Settings {
        force_tls: true,
        ..Settings::default()
    });
    let mut c = w.connect().await;
    let caps = c.cmd("a1 CAPABILITY").await;
    assert!(caps.contains(" LOGINDISABLED"), "{caps}");
    assert!(!caps.contains("AUTH=PLAIN"), "{caps}");
    check(
        &c.cmd(&format!("a2 LOGIN {USER} {PASSWORD}")).await,
        &["a2 NO [PRIVACYREQUIRED] Login requires TLS (STARTTLS or the implicit-TLS port)"],
    );
    check(
        &c.cmd("a3 AUTHENTICATE PLAIN AGFAYgBj").await,
        &["a3 NO [PRIVACYREQUIRED] Login requires TLS (STARTTLS or the implicit-TLS port)"],
    );
}

#[tokio::test]
async fn commands_in_the_wrong_state_get_bad() {
    let w = World::new();
    let mut c = w.connect().await;
    for (cmd, text) in [
        ("a1 LIST \"\" *", "a1 BAD Log in first"),
        ("a2 FETCH 1 FLAGS", "a2 BAD Log in first"),
        ("a3 NAMESPACE", "a3 BAD Log in first"),
        ("a4 ENABLE QRESYNC", "a4 BAD Log in first"),
    ] {
        check(&c.cmd(cmd).await, &[text]);
    }
    let mut c = w.login().await;
    for (cmd, text) in [
        ("b1 FETCH 1 FLAGS", "b1 BAD No mailbox selected"),
        ("b2 STORE 1 +FLAGS (\\Seen)", "b2 BAD No mailbox selected"),
        ("b3 EXPUNGE", "b3 BAD No mailbox selected"),
        ("b4 CLOSE", "b4 BAD No mailbox selected"),
        ("b5 UNSELECT", "b5 BAD No mailbox selected"),
        ("b6 CHECK", "b6 BAD No mailbox selected"),
        ("b7 UID SEARCH ALL", "b7 BAD No mailbox selected"),
        ("b8 LOGIN x y", "b8 BAD Already logged in"),
        ("b9 STARTTLS", "b9 BAD STARTTLS is only valid before login"),
    ] {
        check(&c.cmd(cmd).await, &[text]);
    }
}

#[tokio::test]
async fn malformed_commands_get_bad_and_the_session_goes_on() {
    let w = World::new();
    let mut c = w.login().await;
    check(
        &c.cmd("a1 FROBNICATE").await,
        &["a1 BAD unknown command FROBNICATE"],
    );
    check(
        &c.cmd("a2 SELECT").await,
        &["a2 BAD unexpected end of command"],
    );
    check(
        &c.cmd("a3 FETCH 0 FLAGS").await,
        &["a3 BAD invalid sequence set"],
    );
    c.send(b"+++\r\n").await;
    assert_eq!(c.line().await, "* BAD invalid tag");
    check(&c.cmd("a4 NOOP").await, &["a4 OK NOOP completed"]);
}

#[tokio::test]
async fn id_namespace_and_enable_answer() {
    let w = World::new();
    let mut c = w.connect().await;
    let id = c.cmd("a1 ID (\"name\" \"test\")").await;
    assert!(
        id.starts_with("* ID (\"name\" \"groxide\" \"version\" "),
        "{id}"
    );
    c.cmd(&format!("a2 LOGIN {USER} {PASSWORD}")).await;
    check(
        &c.cmd("a3 NAMESPACE").await,
        &[
            "* NAMESPACE ((\"\" \"/\")) NIL NIL",
            "a3 OK NAMESPACE completed",
        ],
    );
    check(
        &c.cmd("a4 ENABLE QRESYNC CONDSTORE X-UNKNOWN").await,
        &["* ENABLED QRESYNC", "a4 OK ENABLE completed"],
    );
    check(
        &c.cmd("a5 ENABLE UTF8=ACCEPT IMAP4rev2").await,
        &["* ENABLED UTF8=ACCEPT IMAP4rev2", "a5 OK ENABLE completed"],
    );
    c.cmd("a6 SELECT INBOX").await;
    check(
        &c.cmd("a7 ENABLE CONDSTORE").await,
        &["a7 BAD ENABLE is only valid before a mailbox is selected"],
    );
}

#[tokio::test]
async fn logout_says_bye_then_ok_and_closes() {
    let w = World::new();
    let mut c = w.login().await;
    check(
        &c.cmd("a1 LOGOUT").await,
        &["* BYE Logging out", "a1 OK LOGOUT completed"],
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let mut c = w.login().await;
    c.send(b"p1 SELECT INBOX\r\np2 FETCH 1:* (UID)\r\np3 NOOP\r\np4 LOGOUT\r\n")
        .await;
    let out = c.until_tagged("p4").await;
    let tags: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with('*'))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(tags, ["p1", "p2", "p3", "p4"], "{out}");
    assert!(out.contains("* 3 FETCH (UID 3)"), "{out}");
}

#[tokio::test]
async fn connections_over_the_per_address_limit_get_bye_unavailable() {
    let w = World::with_settings(Settings {
        max_connections_per_ip: 1,
        ..Settings::default()
    });
    let _first = w.connect().await;
    let (mut client, server_side) = tokio::io::duplex(4096);
    let server = w.server.clone();
    tokio::spawn(async move {
        server
            .serve_connection(server_side, "192.0.2.7:50001".parse().unwrap(), false)
            .await;
    });
    let mut text = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut client, &mut text)
        .await
        .unwrap();
    assert_eq!(
        text,
        "* BYE [UNAVAILABLE] too many connections from your address\r\n"
    );
}

#[tokio::test]
async fn logins_over_the_per_user_limit_get_bye_unavailable() {
    let w = World::with_settings(Settings {
        max_connections_per_user: 1,
        ..Settings::default()
    });
    let _first = w.login().await;
    let mut c = w.connect().await;
    check(
        &c.cmd(&format!("a1 LOGIN {USER} {PASSWORD}")).await,
        &[
            "* BYE [UNAVAILABLE] too many connections for this user",
            "<EOF>",
        ],
    );
}

#[tokio::test]
async fn shutdown_sends_bye_unavailable_to_idle_sessions() {
    let w = World::new();
    let mut c = w.login().await;
    w.shutdown.cancel();
    assert_eq!(c.line().await, "* BYE [UNAVAILABLE] shutting down");
    assert!(c.closed().await);
}
