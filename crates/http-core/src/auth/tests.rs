//! The gate with Basic over a real SQLite directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use base64::Engine as _;
use groxide_directory::{
    Authenticator, Directory, DirectorySettings, DirectoryUrl, LoginThrottle, NewDomain, NewUser,
    PrivilegeBits, ServerId, SystemClock, ThrottlePolicy,
};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const PASSWORD: &str = "correct horse";

struct World {
    _dir: tempfile::TempDir,
    directory: Directory,
    gate: AuthGate,
    basic: Arc<Basic>,
}

async fn world(cache_ttl: Duration) -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = DirectoryUrl::Sqlite {
        path: dir.path().join("directory.sqlite3"),
    };
    let directory = Directory::connect(&DirectorySettings::new(url))
        .await
        .unwrap();
    directory
        .create_domain(&NewDomain {
            domainname: "example.test".into(),
            homedir: String::new(),
            homeserver: ServerId::ANY,
            max_user: 0,
            title: String::new(),
        })
        .await
        .unwrap();
    directory
        .create_user(
            &NewUser::new("alice@example.test", "/var/lib/groxide/u/alice"),
            Some(PASSWORD),
        )
        .await
        .unwrap();
    let mut mail_only = NewUser::new("bob@example.test", "/var/lib/groxide/u/bob");
    mail_only.privilege_bits = PrivilegeBits::IMAP_POP3;
    directory
        .create_user(&mail_only, Some(PASSWORD))
        .await
        .unwrap();
    let throttle = LoginThrottle::new(
        ThrottlePolicy {
            failures_per_address: 3,
            failures_per_account: 0,
            block_interval: Duration::from_secs(60),
        },
        Arc::new(SystemClock),
    );
    let auth = Arc::new(Authenticator::new(directory.clone(), throttle));
    let basic = Arc::new(Basic::new(
        auth,
        "groxide test",
        CredentialCache::new(cache_ttl, 100),
    ));
    let gate = AuthGate::new(vec![basic.clone() as Arc<dyn AuthScheme>]);
    World {
        _dir: dir,
        directory,
        gate,
        basic,
    }
}

fn client(tls: bool, trusted: bool, last_octet: u8) -> ClientInfo {
    let ip = IpAddr::from([192, 0, 2, last_octet]);
    ClientInfo {
        peer: SocketAddr::new(ip, 40000),
        addr: ip,
        tls,
        via_trusted_proxy: trusted,
        connection: 1,
    }
}

fn basic(login: &str, password: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
    h.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
    );
    h
}

#[tokio::test]
async fn without_credentials_tls_clients_are_challenged_and_plain_ones_told_to_use_https() {
    let w = world(Duration::ZERO).await;
    let none = HeaderMap::new();
    let r = w
        .gate
        .authenticate(&none, &client(true, false, 1), Protocol::Dav)
        .await
        .unwrap_err();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.challenges,
        [HeaderValue::from_static(
            "Basic realm=\"groxide test\", charset=\"UTF-8\""
        )]
    );
    let r = w
        .gate
        .authenticate(&none, &client(false, false, 1), Protocol::Dav)
        .await
        .unwrap_err();
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.challenges.is_empty());
    // Behind a trusted proxy (which terminated TLS) plain HTTP is offered Basic.
    let r = w
        .gate
        .authenticate(&none, &client(false, true, 1), Protocol::Dav)
        .await
        .unwrap_err();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn correct_credentials_give_the_directory_user_over_tls_or_from_a_trusted_proxy_only() {
    let w = world(Duration::ZERO).await;
    let creds = basic("alice@example.test", PASSWORD);
    for c in [client(true, false, 2), client(false, true, 2)] {
        let p = w
            .gate
            .authenticate(&creds, &c, Protocol::Dav)
            .await
            .unwrap();
        assert_eq!(p.user.username, "alice@example.test");
        assert_eq!(p.user.maildir, "/var/lib/groxide/u/alice");
        assert_eq!(p.scheme, "Basic");
    }
    let r = w
        .gate
        .authenticate(&creds, &client(false, false, 2), Protocol::Dav)
        .await
        .unwrap_err();
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.reason, "authentication requires HTTPS");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_challenge() {
    let w = world(Duration::ZERO).await;
    let c = client(true, false, 3);
    let wrong = w
        .gate
        .authenticate(&basic("alice@example.test", "nope"), &c, Protocol::Dav)
        .await
        .unwrap_err();
    let unknown = w
        .gate
        .authenticate(&basic("nobody@example.test", PASSWORD), &c, Protocol::Dav)
        .await
        .unwrap_err();
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.challenges.len(), 1);
        assert_eq!(r.reason, "invalid user name or password");
    }
}

#[tokio::test]
async fn a_user_without_the_protocols_privilege_is_refused_with_403() {
    let w = world(Duration::from_secs(60)).await;
    let c = client(true, false, 4);
    let creds = basic("bob@example.test", PASSWORD);
    for protocol in [Protocol::Dav, Protocol::ActiveSync, Protocol::Web] {
        let r = w.gate.authenticate(&creds, &c, protocol).await.unwrap_err();
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{protocol}");
    }
    // A login remembered for one protocol is still checked for the next one's bit.
    w.gate
        .authenticate(&creds, &c, Protocol::Imap)
        .await
        .unwrap();
    assert_eq!(w.basic.cache().len(), 1);
    let r = w
        .gate
        .authenticate(&creds, &c, Protocol::Dav)
        .await
        .unwrap_err();
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_remembered_login_outlives_a_password_change_until_the_cache_is_reset() {
    let w = world(Duration::from_secs(60)).await;
    let c = client(true, false, 5);
    let creds = basic("alice@example.test", PASSWORD);
    w.gate
        .authenticate(&creds, &c, Protocol::Dav)
        .await
        .unwrap();
    assert_eq!(w.basic.cache().len(), 1);
    w.directory
        .set_password("alice@example.test", "new one")
        .await
        .unwrap();
    w.gate
        .authenticate(&creds, &c, Protocol::Dav)
        .await
        .unwrap();
    w.gate.reset();
    assert!(w.basic.cache().is_empty());
    let r = w
        .gate
        .authenticate(&creds, &c, Protocol::Dav)
        .await
        .unwrap_err();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    w.gate
        .authenticate(&basic("alice@example.test", "new one"), &c, Protocol::Dav)
        .await
        .unwrap();
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_throttled_without_checking() {
    let w = world(Duration::ZERO).await;
    let c = client(true, false, 6);
    for _ in 0..3 {
        let r = w
            .gate
            .authenticate(&basic("alice@example.test", "guess"), &c, Protocol::Dav)
            .await
            .unwrap_err();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = w
        .gate
        .authenticate(&basic("alice@example.test", PASSWORD), &c, Protocol::Dav)
        .await
        .unwrap_err();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let response = r.into_response();
    assert_eq!(response.headers()[RETRY_AFTER], "60");
    // Another address is not blocked.
    w.gate
        .authenticate(
            &basic("alice@example.test", PASSWORD),
            &client(true, false, 7),
            Protocol::Dav,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unknown_scheme_is_answered_with_the_offered_challenges() {
    let w = world(Duration::ZERO).await;
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc.def"));
    let r = w
        .gate
        .authenticate(&h, &client(true, false, 8), Protocol::Dav)
        .await
        .unwrap_err();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.challenges.len(), 1);
    let response = r.into_response();
    assert!(
        response.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
}
