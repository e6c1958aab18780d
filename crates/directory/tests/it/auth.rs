//! Authentication: passwords of every scheme, account state, privilege
//! bits, throttling, and not telling unknown users from wrong passwords.

use crate::harness::{Backend, TestDb, fixture, on_both_backends};
use groxide_directory::{
    AddressStatus, AuthError, AuthLimits, Authenticator, Blocked, Clock, DomainState, HashScheme,
    LoginThrottle, Protocol, ThrottlePolicy,
};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

const CLIENT: &str = "192.0.2.10";

fn client() -> IpAddr {
    CLIENT.parse().unwrap()
}

fn authenticator(
    db: &TestDb,
    directory: groxide_directory::Directory,
    per_address: u32,
    per_account: u32,
) -> Authenticator {
    let policy = ThrottlePolicy {
        failures_per_address: per_address,
        failures_per_account: per_account,
        block_interval: Duration::from_secs(60),
    };
    Authenticator::new(
        directory,
        LoginThrottle::new(policy, db.clock.clone() as Arc<dyn Clock>),
    )
}

async fn a_user_logs_in_by_username_altname_or_alias_with_the_right_password(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let auth = authenticator(&db, dir, 100, 100);
    for login in ["alice@x.test", "Alice@X.TEST", "al", "info@x.test"] {
        let user = auth
            .authenticate(login, "alice-pw", Protocol::Imap, client())
            .await
            .unwrap();
        assert_eq!(user.username, "alice@x.test");
    }
    let user = auth
        .authenticate("bob@x.test", "bob-pw", Protocol::Pop3, client())
        .await
        .unwrap();
    assert_eq!(user.maildir, "/data/user/local/x.test/bob");
}

async fn an_unknown_user_and_a_wrong_password_get_the_same_answer(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let auth = authenticator(&db, dir, 100, 100);
    let unknown = auth
        .authenticate("nobody@x.test", "alice-pw", Protocol::Imap, client())
        .await
        .unwrap_err();
    let wrong = auth
        .authenticate("alice@x.test", "Alice-pw", Protocol::Imap, client())
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, AuthError::InvalidCredentials),
        "{unknown}"
    );
    assert!(matches!(wrong, AuthError::InvalidCredentials), "{wrong}");
    assert_eq!(unknown.to_string(), wrong.to_string());
    let empty = auth
        .authenticate("alice@x.test", "", Protocol::Imap, client())
        .await
        .unwrap_err();
    assert!(matches!(empty, AuthError::InvalidCredentials));
}

async fn hashes_of_every_scheme_in_the_directory_are_accepted(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let auth = authenticator(&db, dir, 100, 100);
    // Vectors from openssl passwd, glibc/libxcrypt crypt and libargon2 (see the unit tests).
    let hashes = [
        "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
        "$5$saltsalt$gOjOtoMpVhru2uyjeJSEc/JaLQWOXMNmlOnj6T4AtC.",
        "$2y$04$0123456789abcdefghijkezlt8ONefNB98nIYDdnLFv4AAVpaN9wq",
        "$2b$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
        "$1$saltstri$qQY4WxjABChYG1ccLpfkz/",
        "$argon2i$v=19$m=4096,t=3,p=2$YW5vdGhlcnNhbHR2YWx1ZQ$aTxpEma0lM8FCQ780bEqTCO1hJV5zrf0EojiGsIPfYg",
    ];
    for hash in hashes {
        db.raw(&format!(
            "UPDATE users SET password = '{hash}' WHERE username = 'bob@x.test'"
        ))
        .await;
        let user = auth
            .authenticate("bob@x.test", "password", Protocol::Imap, client())
            .await;
        assert!(user.is_ok(), "{hash}: {user:?}");
        let wrong = auth
            .authenticate("bob@x.test", "passwort", Protocol::Imap, client())
            .await;
        assert!(
            matches!(wrong, Err(AuthError::InvalidCredentials)),
            "{hash}"
        );
    }
    db.raw("UPDATE users SET password = '' WHERE username = 'bob@x.test'")
        .await;
    assert!(
        matches!(
            auth.authenticate("bob@x.test", "", Protocol::Imap, client())
                .await,
            Err(AuthError::InvalidCredentials)
        ),
        "an empty hash never logs in"
    );
}

async fn suspended_deleted_and_shared_mailbox_accounts_cannot_log_in(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let auth = authenticator(&db, dir.clone(), 100, 100);
    for status in [
        AddressStatus::SUSPENDED,
        AddressStatus::DELETED,
        AddressStatus::SHARED_MAILBOX,
        AddressStatus::CONTACT,
    ] {
        dir.set_user_status("bob@x.test", status).await.unwrap();
        let err = auth
            .authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
            .await
            .unwrap_err();
        assert!(
            matches!(err, AuthError::AccountDisabled),
            "{status:?}: {err}"
        );
        // A wrong password still says only "invalid".
        let err = auth
            .authenticate("bob@x.test", "nope", Protocol::Imap, client())
            .await
            .unwrap_err();
        assert!(
            matches!(err, AuthError::InvalidCredentials),
            "{status:?}: {err}"
        );
    }
    dir.set_user_status("bob@x.test", AddressStatus::NORMAL)
        .await
        .unwrap();
    auth.authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
        .await
        .unwrap();

    // A suspended domain suspends its users; back in service, they log in again.
    dir.set_domain_state("x.test", DomainState::Suspended)
        .await
        .unwrap();
    let bob = dir.user_by_name("bob@x.test").await.unwrap().unwrap();
    assert_eq!(bob.address_status.domain_state(), DomainState::Suspended);
    let err = auth
        .authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::AccountDisabled), "{err}");
    dir.set_domain_state("x.test", DomainState::Normal)
        .await
        .unwrap();
    auth.authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
        .await
        .unwrap();

    // The domains row is checked too, not only the bits copied into users.
    db.raw("UPDATE domains SET domain_status = 3").await;
    let err = auth
        .authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::AccountDisabled), "{err}");
}

async fn each_protocol_needs_its_privilege_bit(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let auth = authenticator(&db, dir, 1000, 1000);
    let protocols = [
        (Protocol::Imap, 0x1),
        (Protocol::Pop3, 0x1),
        (Protocol::Smtp, 0x2),
        (Protocol::Web, 0x200),
        (Protocol::ActiveSync, 0x400),
        (Protocol::Dav, 0x800),
    ];
    for (protocol, bit) in protocols {
        db.raw(&format!(
            "UPDATE users SET privilege_bits = {bit} WHERE username = 'bob@x.test'"
        ))
        .await;
        auth.authenticate("bob@x.test", "bob-pw", protocol, client())
            .await
            .unwrap();
        db.raw(&format!(
            "UPDATE users SET privilege_bits = {} WHERE username = 'bob@x.test'",
            0xFFF & !bit
        ))
        .await;
        let err = auth
            .authenticate("bob@x.test", "bob-pw", protocol, client())
            .await
            .unwrap_err();
        assert!(
            matches!(err, AuthError::ProtocolNotPermitted(p) if p == protocol),
            "{protocol}: {err}"
        );
    }
}

async fn repeated_failures_block_the_address_and_the_account_until_the_interval_passes(
    backend: Backend,
) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let auth = authenticator(&db, dir, 3, 5);
    for _ in 0..3 {
        auth.authenticate("alice@x.test", "guess", Protocol::Imap, client())
            .await
            .unwrap_err();
    }
    // Blocked: even the right password is refused without being checked.
    let err = auth
        .authenticate("alice@x.test", "alice-pw", Protocol::Imap, client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Blocked(Blocked::Address)), "{err}");
    let other: IpAddr = "192.0.2.11".parse().unwrap();
    auth.authenticate("bob@x.test", "bob-pw", Protocol::Imap, other)
        .await
        .unwrap();
    db.clock.advance(Duration::from_secs(60));
    auth.authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
        .await
        .unwrap();

    // Guessing one account from many addresses: its aliases count for it too.
    for (n, login) in ["alice@x.test", "al", "info@x.test", "alice@x.test", "al"]
        .iter()
        .enumerate()
    {
        let from: IpAddr = format!("198.51.100.{n}").parse().unwrap();
        auth.authenticate(login, "guess", Protocol::Imap, from)
            .await
            .unwrap_err();
    }
    let fresh: IpAddr = "203.0.113.1".parse().unwrap();
    let err = auth
        .authenticate("alice@x.test", "alice-pw", Protocol::Imap, fresh)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Blocked(Blocked::Account)), "{err}");

    db.clock.advance(Duration::from_secs(60));
    auth.authenticate("alice@x.test", "alice-pw", Protocol::Imap, client())
        .await
        .unwrap();
    auth.authenticate("al", "alice-pw", Protocol::Imap, fresh)
        .await
        .unwrap();
}

async fn password_changes_and_suspensions_apply_to_the_next_login_at_once(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let auth = authenticator(&db, dir.clone(), 100, 100);
    auth.authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
        .await
        .unwrap();
    // Another process changes the password: no cache stands in the way.
    let other = db.connect().await;
    other.set_password("bob@x.test", "new-pw").await.unwrap();
    assert!(matches!(
        auth.authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    auth.authenticate("bob@x.test", "new-pw", Protocol::Imap, client())
        .await
        .unwrap();
    other
        .set_user_status("bob@x.test", AddressStatus::SUSPENDED)
        .await
        .unwrap();
    assert!(matches!(
        auth.authenticate("bob@x.test", "new-pw", Protocol::Imap, client())
            .await,
        Err(AuthError::AccountDisabled)
    ));
}

async fn new_passwords_are_stored_as_argon2id(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let auth = authenticator(&db, dir, 100, 100);
    auth.authenticate("alice@x.test", "alice-pw", Protocol::Web, client())
        .await
        .unwrap();
    let hash = password_of(&db, "alice@x.test").await;
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("alice-pw"));
}

async fn password_of(db: &TestDb, username: &str) -> String {
    use sqlx::{ConnectOptions, Row};
    match &db.url {
        groxide_directory::DirectoryUrl::Sqlite { path } => {
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .connect()
                .await
                .unwrap();
            sqlx::query("SELECT password FROM users WHERE username = ?")
                .bind(username)
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get(0)
        }
        groxide_directory::DirectoryUrl::Mysql(t) => {
            let mut conn = sqlx::mysql::MySqlConnectOptions::new()
                .host(&t.host)
                .port(t.port)
                .username(&t.username)
                .database(&t.database)
                .connect()
                .await
                .unwrap();
            sqlx::query("SELECT password FROM users WHERE username = ?")
                .bind(username)
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get(0)
        }
    }
}

/// `password` as SHA-512-crypt with 10000 rounds (glibc's crypt).
const SHA512_10000: &str = "$6$rounds=10000$saltstring$t8jRkZue4ZqkvRTF6Ly63E8QTtoCevHn5vWVdXcomlAvhV8iTse.xlPFOmGov1eQRZLufNVYaEFrHVyRed8gC/";

fn limited(
    db: &TestDb,
    directory: groxide_directory::Directory,
    per_address: u32,
    limits: AuthLimits,
) -> Authenticator {
    let policy = ThrottlePolicy {
        failures_per_address: per_address,
        failures_per_account: 0,
        block_interval: Duration::from_secs(60),
    };
    Authenticator::with_limits(
        directory,
        LoginThrottle::new(policy, db.clock.clone() as Arc<dyn Clock>),
        limits,
    )
}

async fn parallel_wrong_passwords_are_throttled_as_sequential_ones_are(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let limits = AuthLimits {
        max_checks: 4,
        wait: Duration::from_secs(30),
        rehash_legacy: false,
    };
    let auth = Arc::new(limited(&db, dir, 10, limits));
    let attempts: Vec<_> = (0..60)
        .map(|n| {
            let auth = auth.clone();
            tokio::spawn(async move {
                auth.authenticate("bob@x.test", &format!("guess{n}"), Protocol::Pop3, client())
                    .await
            })
        })
        .collect();
    let mut checked = 0;
    let mut blocked = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Err(AuthError::InvalidCredentials) => checked += 1,
            Err(AuthError::Blocked(Blocked::Address)) => blocked += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(checked, 10, "no more password checks than the limit");
    assert_eq!(blocked, 50);
    let right = auth
        .authenticate("bob@x.test", "bob-pw", Protocol::Pop3, client())
        .await;
    assert!(
        matches!(right, Err(AuthError::Blocked(Blocked::Address))),
        "the right password after the limit is refused: {right:?}"
    );
}

async fn logins_beyond_the_check_bound_wait_then_get_a_temporary_error(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let limits = AuthLimits {
        max_checks: 1,
        wait: Duration::from_millis(1),
        rehash_legacy: false,
    };
    let auth = Arc::new(limited(&db, dir, 0, limits));
    let attempts: Vec<_> = (0..8)
        .map(|n| {
            let auth = auth.clone();
            tokio::spawn(async move {
                auth.authenticate(&format!("nobody{n}@x.test"), "x", Protocol::Imap, client())
                    .await
            })
        })
        .collect();
    let mut busy = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Err(AuthError::Busy) => busy += 1,
            Err(AuthError::InvalidCredentials) => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(
        busy >= 1,
        "one check at a time, 1 ms of patience: some are turned away"
    );
    let later = auth
        .authenticate("bob@x.test", "bob-pw", Protocol::Imap, client())
        .await;
    assert!(later.is_ok(), "a busy answer counted nothing: {later:?}");
}

/// `password` as SHA-512-crypt with 1000 rounds (glibc's crypt through
/// perl): far cheaper than argon2id in any build, as `$6$` is in release.
const SHA512_1000: &str = "$6$rounds=1000$saltsalt$Z/J9iYO1iE9xnr8JPQL57ZWsVRtVjrUv3CiWc/wKWseqXgSqn3HFYJ/Ng7YXa8XlLj.wpdAwHOJJzuGFqBBRa0";

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn unknown_names_take_as_long_as_wrong_passwords_of_legacy_accounts(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    db.raw(&format!("UPDATE users SET password = '{SHA512_1000}'"))
        .await;
    let auth = limited(
        &db,
        dir,
        0,
        AuthLimits {
            rehash_legacy: false,
            ..AuthLimits::default()
        },
    );
    // Alternating, so that both kinds see the same load of the machine.
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..21 {
        let started = std::time::Instant::now();
        let r = auth
            .authenticate("bob@x.test", &format!("wrong{i}"), Protocol::Imap, client())
            .await;
        wrong.push(started.elapsed());
        assert!(matches!(r, Err(AuthError::InvalidCredentials)));
        let started = std::time::Instant::now();
        let r = auth
            .authenticate(
                &format!("nobody{i}@x.test"),
                "password",
                Protocol::Imap,
                client(),
            )
            .await;
        unknown.push(started.elapsed());
        assert!(matches!(r, Err(AuthError::InvalidCredentials)));
    }
    let (wrong, unknown) = (median(wrong), median(unknown));
    let (fast, slow) = if wrong < unknown {
        (wrong, unknown)
    } else {
        (unknown, wrong)
    };
    assert!(
        slow < fast * 2,
        "an unknown name ({unknown:?}) must cost what a wrong password ({wrong:?}) costs"
    );
}

async fn a_legacy_hash_is_stored_again_as_argon2id_after_a_right_password(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    db.raw(&format!("UPDATE users SET password = '{SHA512_10000}'"))
        .await;
    let keep = limited(
        &db,
        dir.clone(),
        0,
        AuthLimits {
            rehash_legacy: false,
            ..AuthLimits::default()
        },
    );
    keep.authenticate("bob@x.test", "password", Protocol::Imap, client())
        .await
        .unwrap();
    assert_eq!(
        db.password_of("bob@x.test").await,
        SHA512_10000,
        "off: kept"
    );
    let upgrade = limited(&db, dir, 0, AuthLimits::default());
    upgrade
        .authenticate("bob@x.test", "wrong", Protocol::Imap, client())
        .await
        .unwrap_err();
    assert_eq!(
        db.password_of("bob@x.test").await,
        SHA512_10000,
        "a wrong password changes nothing"
    );
    upgrade
        .authenticate("bob@x.test", "password", Protocol::Imap, client())
        .await
        .unwrap();
    let stored = db.password_of("bob@x.test").await;
    assert_eq!(HashScheme::of(&stored), HashScheme::Argon2, "{stored}");
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert_eq!(
        db.password_of("alice@x.test").await,
        SHA512_10000,
        "only the account that logged in"
    );
    upgrade
        .authenticate("bob@x.test", "password", Protocol::Imap, client())
        .await
        .unwrap();
    upgrade
        .authenticate("bob@x.test", "wrong", Protocol::Imap, client())
        .await
        .unwrap_err();
}

on_both_backends!(
    a_user_logs_in_by_username_altname_or_alias_with_the_right_password,
    an_unknown_user_and_a_wrong_password_get_the_same_answer,
    hashes_of_every_scheme_in_the_directory_are_accepted,
    suspended_deleted_and_shared_mailbox_accounts_cannot_log_in,
    each_protocol_needs_its_privilege_bit,
    repeated_failures_block_the_address_and_the_account_until_the_interval_passes,
    password_changes_and_suspensions_apply_to_the_next_login_at_once,
    new_passwords_are_stored_as_argon2id,
    parallel_wrong_passwords_are_throttled_as_sequential_ones_are,
    logins_beyond_the_check_bound_wait_then_get_a_temporary_error,
    a_legacy_hash_is_stored_again_as_argon2id_after_a_right_password,
);

/// Timing on SQLite only: the backend does not choose the dummy, and the
/// database's own latency would only blur the comparison.
#[tokio::test]
async fn unknown_names_take_as_long_as_wrong_passwords_of_legacy_accounts_sqlite() {
    unknown_names_take_as_long_as_wrong_passwords_of_legacy_accounts(Backend::Sqlite).await;
}
