//! Lookups: login names, store owners, homeservers, the cache.

use crate::harness::{Backend, TestDb, fixture, on_both_backends};
use groxide_directory::{DirectoryError, SchemaOrigin, ServerId, StoreOwner};
use groxide_routing::{HomeserverLookup, LocalNode, Resolver, RouteSource, RouteTable};
use std::sync::Arc;
use std::time::Duration;

async fn a_login_name_is_a_username_an_altname_or_an_alias(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    assert_eq!(dir.schema_origin(), SchemaOrigin::Groxide);
    fixture(&dir).await;
    for login in ["alice@x.test", "ALICE@X.Test", "al", "info@x.test"] {
        let user = dir.user_by_login(login).await.unwrap().unwrap();
        assert_eq!(user.username, "alice@x.test", "{login}");
        assert_eq!(user.maildir, "/data/user/node1/x.test/alice");
        assert_eq!(user.homeserver, ServerId(1));
        assert_eq!(user.lang, "de_AT");
    }
    assert_eq!(dir.user_by_login("carol@x.test").await.unwrap(), None);
    assert_eq!(dir.user_by_login("").await.unwrap(), None);
    assert_eq!(
        dir.user_by_name("info@x.test").await.unwrap(),
        None,
        "user_by_name takes no aliases"
    );
}

async fn a_login_name_that_leads_to_two_users_is_refused(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    // admin refuses this; an imported directory may still contain it.
    db.raw("INSERT INTO altnames (user_id, altname, magic) SELECT id, 'info@x.test', 0 FROM users WHERE username = 'bob@x.test'")
        .await;
    let err = dir.user_by_login("info@x.test").await.unwrap_err();
    assert!(matches!(err, DirectoryError::Ambiguous { .. }), "{err}");
    // A name that leads to one user twice (its username and its own alias) is not ambiguous.
    db.raw("INSERT INTO altnames (user_id, altname, magic) SELECT id, 'bob-alt', 0 FROM users WHERE username = 'bob@x.test'")
        .await;
    db.raw("INSERT INTO aliases (aliasname, mainname) VALUES ('bob-alt', 'bob@x.test')")
        .await;
    assert_eq!(
        dir.user_by_login("bob-alt")
            .await
            .unwrap()
            .unwrap()
            .username,
        "bob@x.test"
    );
}

async fn the_owner_of_a_store_is_the_user_or_domain_whose_directory_it_is(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    match dir
        .owner_of_store("/data/user/node1/x.test/alice")
        .await
        .unwrap()
    {
        Some(StoreOwner::User(user)) => assert_eq!(user.username, "alice@x.test"),
        other => panic!("{other:?}"),
    }
    match dir.owner_of_store("/data/domain/x.test").await.unwrap() {
        Some(StoreOwner::Domain(domain)) => assert_eq!(domain.domainname, "x.test"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        dir.owner_of_store("/data/user/node1/x.test").await.unwrap(),
        None
    );
    assert_eq!(dir.owner_of_store("").await.unwrap(), None);
}

async fn the_homeserver_of_a_store_is_its_owners_server_hostname(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    assert_eq!(
        dir.homeserver_hostname("/data/user/node1/x.test/alice")
            .await
            .unwrap()
            .as_deref(),
        Some("node1")
    );
    assert_eq!(
        dir.homeserver_hostname("/data/user/local/x.test/bob")
            .await
            .unwrap(),
        None,
        "homeserver 0"
    );
    assert_eq!(dir.homeserver_hostname("/nobody").await.unwrap(), None);

    // Routing asks the directory first.
    let resolver = Resolver::new(
        RouteTable::empty(),
        Some(Arc::new(dir.clone()) as Arc<dyn HomeserverLookup>),
        LocalNode {
            host_id: "node2".into(),
            addresses: vec![],
        },
        5000,
        Duration::from_secs(60),
    );
    let route = resolver
        .resolve("/data/user/node1/x.test/alice")
        .await
        .unwrap();
    assert_eq!(
        (route.host.as_str(), route.port, route.source),
        ("node1", 5000, RouteSource::Homeserver)
    );
    assert!(!route.local);

    // A homeserver id with no servers row is an error, never a guess.
    db.raw("UPDATE users SET homeserver = 77 WHERE username = 'bob@x.test'")
        .await;
    dir.clear_cache();
    let err = dir
        .homeserver_of("/data/user/local/x.test/bob")
        .await
        .unwrap_err();
    assert!(err.reason().contains("77"), "{err}");
}

async fn lookups_are_cached_until_the_cache_time_passes_or_it_is_cleared(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let path = "/data/user/node1/x.test/alice";
    assert_eq!(
        dir.homeserver_hostname(path).await.unwrap().as_deref(),
        Some("node1")
    );
    assert!(dir.user_by_login("al").await.unwrap().is_some());
    db.raw("UPDATE servers SET hostname = 'node1b' WHERE id = 1")
        .await;
    db.raw("DELETE FROM altnames").await;
    assert_eq!(
        dir.homeserver_hostname(path).await.unwrap().as_deref(),
        Some("node1"),
        "cached"
    );
    assert!(dir.user_by_login("al").await.unwrap().is_some(), "cached");
    db.clock.advance(Duration::from_secs(61));
    assert_eq!(
        dir.homeserver_hostname(path).await.unwrap().as_deref(),
        Some("node1b")
    );
    assert!(dir.user_by_login("al").await.unwrap().is_none());

    db.raw("UPDATE servers SET hostname = 'node1c' WHERE id = 1")
        .await;
    dir.clear_cache();
    assert_eq!(
        dir.homeserver_hostname(path).await.unwrap().as_deref(),
        Some("node1c")
    );
}

async fn a_second_connection_to_a_migrated_database_finds_the_tables(backend: Backend) {
    let db = TestDb::empty(backend).await;
    fixture(&db.connect().await).await;
    let again = db.connect().await;
    assert_eq!(again.schema_origin(), SchemaOrigin::Groxide);
    assert_eq!(again.users(None).await.unwrap().len(), 2);
    assert_eq!(again.domains().await.unwrap().len(), 1);
    assert_eq!(again.servers().await.unwrap()[0].extname, "mail1.x.test");
    assert_eq!(again.aliases(Some("alice@x.test")).await.unwrap().len(), 1);
    let alice = again.user_by_name("alice@x.test").await.unwrap().unwrap();
    assert_eq!(again.altnames(Some(&alice)).await.unwrap()[0].altname, "al");
}

on_both_backends!(
    a_login_name_is_a_username_an_altname_or_an_alias,
    a_login_name_that_leads_to_two_users_is_refused,
    the_owner_of_a_store_is_the_user_or_domain_whose_directory_it_is,
    the_homeserver_of_a_store_is_its_owners_server_hostname,
    lookups_are_cached_until_the_cache_time_passes_or_it_is_cleared,
    a_second_connection_to_a_migrated_database_finds_the_tables,
);
