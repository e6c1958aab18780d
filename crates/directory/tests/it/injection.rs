//! SQL in names, aliases and store paths is just text.

use crate::harness::{Backend, TestDb, fixture, on_both_backends};
use groxide_directory::{
    AuthError, Authenticator, LoginThrottle, NewDomain, NewUser, Protocol, RecipientPolicy,
    ServerId, StoreOwner, SystemClock, ThrottlePolicy,
};
use std::sync::Arc;

const HOSTILE_USER: &str = "a'; DROP TABLE users; --@x.test";
const HOSTILE_ALIAS: &str = "b' OR '1'='1@x.test";
const HOSTILE_DIR: &str = "/data/user/local/x.test/a'; DELETE FROM domains; --";

async fn sql_in_names_aliases_and_store_dirs_is_stored_and_found_as_text(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let tables_before = db.tables().await;

    let user = dir
        .create_user(
            &NewUser::new(HOSTILE_USER, HOSTILE_DIR),
            Some("x' OR 'x'='x"),
        )
        .await
        .unwrap();
    assert_eq!(user.username, HOSTILE_USER.to_ascii_lowercase());
    assert_eq!(user.maildir, HOSTILE_DIR);
    dir.add_alias(HOSTILE_ALIAS, HOSTILE_USER).await.unwrap();
    dir.add_altname(HOSTILE_USER, "\" OR \"\"=\"")
        .await
        .unwrap();
    dir.create_domain(&NewDomain {
        domainname: "y');DROP--.test".into(),
        homedir: "/data/domain/'); DROP TABLE servers; --".into(),
        homeserver: ServerId::ANY,
        max_user: 0,
        title: "'; --".into(),
    })
    .await
    .unwrap();
    dir.add_server("h';DROP", "';TRUNCATE/**/aliases;--")
        .await
        .unwrap();

    assert_eq!(
        db.tables().await,
        tables_before,
        "no table was dropped or added"
    );
    assert_eq!(dir.users(None).await.unwrap().len(), 3);
    assert_eq!(dir.domains().await.unwrap().len(), 2);
    assert_eq!(dir.servers().await.unwrap().len(), 2);
    assert_eq!(dir.aliases(None).await.unwrap().len(), 2);

    // Each is found by its exact text, and only by it.
    assert_eq!(
        dir.user_by_login(HOSTILE_USER).await.unwrap().unwrap().id,
        user.id
    );
    assert_eq!(
        dir.user_by_login(HOSTILE_ALIAS).await.unwrap().unwrap().id,
        user.id
    );
    assert_eq!(
        dir.user_by_login("\" OR \"\"=\"")
            .await
            .unwrap()
            .unwrap()
            .id,
        user.id
    );
    for probe in [
        "' OR '1'='1",
        "' OR 1=1 --",
        "%",
        "_",
        "*",
        "alice@x.test' --",
    ] {
        assert_eq!(dir.user_by_login(probe).await.unwrap(), None, "{probe}");
        assert_eq!(dir.owner_of_store(probe).await.unwrap(), None, "{probe}");
        assert_eq!(
            dir.resolve_recipient(probe, &RecipientPolicy::default())
                .await
                .unwrap(),
            None,
            "{probe}"
        );
    }
    match dir.owner_of_store(HOSTILE_DIR).await.unwrap() {
        Some(StoreOwner::User(owner)) => assert_eq!(owner.id, user.id),
        other => panic!("{other:?}"),
    }
    assert!(
        dir.domain_by_name("y');DROP--.test")
            .await
            .unwrap()
            .is_some()
    );

    let auth = Authenticator::new(
        dir.clone(),
        LoginThrottle::new(ThrottlePolicy::default(), Arc::new(SystemClock)),
    );
    let client = "192.0.2.1".parse().unwrap();
    auth.authenticate(HOSTILE_ALIAS, "x' OR 'x'='x", Protocol::Imap, client)
        .await
        .unwrap();
    let err = auth
        .authenticate("alice@x.test' --", "' OR '1'='1", Protocol::Imap, client)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials), "{err}");

    dir.remove_alias(HOSTILE_ALIAS).await.unwrap();
    dir.delete_user(HOSTILE_USER).await.unwrap();
    assert_eq!(dir.users(None).await.unwrap().len(), 2);
    assert_eq!(
        dir.aliases(None).await.unwrap().len(),
        1,
        "only info@ is left"
    );
}

on_both_backends!(sql_in_names_aliases_and_store_dirs_is_stored_and_found_as_text);
