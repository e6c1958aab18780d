//! What groxide-admin changes, and what it refuses.

use crate::harness::{Backend, TestDb, fixture, on_both_backends};
use groxide_directory::{DirectoryError, DomainState, NewDomain, NewUser, ServerId};

fn domain(name: &str) -> NewDomain {
    NewDomain {
        domainname: name.into(),
        homedir: format!("/data/domain/{name}"),
        homeserver: ServerId::ANY,
        max_user: 0,
        title: String::new(),
    }
}

async fn duplicates_and_dangling_references_are_refused_with_what_is_in_the_way(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let exists =
        |r: Result<_, DirectoryError>| matches!(r, Err(DirectoryError::AlreadyExists { .. }));
    let conflict = |r: Result<_, DirectoryError>| matches!(r, Err(DirectoryError::Conflict { .. }));
    let not_found =
        |r: Result<_, DirectoryError>| matches!(r, Err(DirectoryError::NotFound { .. }));

    assert!(exists(
        dir.create_domain(&domain("X.TEST")).await.map(|_| ())
    ));
    assert!(exists(
        dir.create_user(&NewUser::new("Alice@x.test", "/d/a2"), None)
            .await
            .map(|_| ())
    ));
    assert!(exists(
        dir.add_alias("info@x.test", "bob@x.test").await.map(|_| ())
    ));
    assert!(exists(
        dir.add_altname("bob@x.test", "AL").await.map(|_| ())
    ));
    assert!(exists(dir.add_server("NODE1", "").await.map(|_| ())));

    assert!(
        conflict(
            dir.create_user(&NewUser::new("info@x.test", "/d/i"), None)
                .await
                .map(|_| ())
        ),
        "an alias's name"
    );
    assert!(
        conflict(
            dir.add_alias("bob@x.test", "alice@x.test")
                .await
                .map(|_| ())
        ),
        "a user's name"
    );
    assert!(conflict(
        dir.add_altname("bob@x.test", "info@x.test")
            .await
            .map(|_| ())
    ));
    assert!(
        conflict(dir.delete_domain("x.test").await.map(|_| ())),
        "it has users"
    );
    assert!(
        conflict(dir.remove_server(ServerId(1)).await.map(|_| ())),
        "alice lives there"
    );

    assert!(not_found(
        dir.create_user(&NewUser::new("carol@y.test", "/d/c"), None)
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        dir.add_alias("x@x.test", "nobody@x.test").await.map(|_| ())
    ));
    assert!(
        not_found(dir.add_alias("x@y.test", "bob@x.test").await.map(|_| ())),
        "alias domain must exist"
    );
    assert!(not_found(
        dir.set_user_homeserver("bob@x.test", ServerId(9))
            .await
            .map(|_| ())
    ));
    assert!(not_found(dir.remove_alias("nope@x.test").await.map(|_| ())));
    assert!(not_found(dir.remove_server(ServerId(42)).await.map(|_| ())));
    assert!(not_found(
        dir.delete_user("nobody@x.test").await.map(|_| ())
    ));

    let invalid = |r: Result<_, DirectoryError>| matches!(r, Err(DirectoryError::Invalid { .. }));
    assert!(invalid(
        dir.create_user(&NewUser::new("carol", "/d/c"), None)
            .await
            .map(|_| ())
    ));
    assert!(invalid(
        dir.create_user(&NewUser::new("carol@x.test", "relative"), None)
            .await
            .map(|_| ())
    ));
    assert!(invalid(
        dir.create_user(&NewUser::new("carol@x.test", "/d/../etc"), None)
            .await
            .map(|_| ())
    ));
    assert!(invalid(
        dir.create_domain(&domain("bad domain")).await.map(|_| ())
    ));
}

async fn a_domain_full_of_users_takes_no_more(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    let mut small = domain("small.test");
    small.max_user = 1;
    dir.create_domain(&small).await.unwrap();
    dir.create_user(&NewUser::new("a@small.test", "/d/a"), None)
        .await
        .unwrap();
    let err = dir
        .create_user(&NewUser::new("b@small.test", "/d/b"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Conflict { .. }), "{err}");
}

async fn deleting_a_user_removes_its_aliases_and_altnames_and_an_empty_domain_can_go(
    backend: Backend,
) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    dir.add_alias("@x.test", "bob@x.test").await.unwrap();
    dir.delete_user("alice@x.test").await.unwrap();
    assert_eq!(dir.user_by_login("al").await.unwrap(), None);
    assert_eq!(dir.user_by_login("info@x.test").await.unwrap(), None);
    assert_eq!(dir.altnames(None).await.unwrap(), vec![]);
    dir.delete_user("bob@x.test").await.unwrap();
    let gone = dir.delete_domain("x.test").await.unwrap();
    assert_eq!(gone.domainname, "x.test");
    assert_eq!(dir.domains().await.unwrap(), vec![]);
    assert_eq!(
        dir.aliases(None).await.unwrap(),
        vec![],
        "the catch-all went with the domain"
    );
}

async fn failover_moves_every_user_and_domain_of_a_server_at_once(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let node2 = dir.add_server("node2", "mail2.x.test").await.unwrap();
    assert_eq!(node2.id, ServerId(2));
    dir.set_domain_homeserver("x.test", ServerId(1))
        .await
        .unwrap();
    dir.set_user_homeserver("bob@x.test", ServerId(1))
        .await
        .unwrap();
    let alice_dir = "/data/user/node1/x.test/alice";
    assert_eq!(
        dir.homeserver_hostname(alice_dir).await.unwrap().as_deref(),
        Some("node1")
    );

    let moved = dir.failover(ServerId(1), ServerId(2)).await.unwrap();
    assert_eq!((moved.users, moved.domains), (2, 1));
    assert_eq!(
        dir.homeserver_hostname(alice_dir).await.unwrap().as_deref(),
        Some("node2")
    );
    assert_eq!(
        dir.homeserver_hostname("/data/domain/x.test")
            .await
            .unwrap()
            .as_deref(),
        Some("node2")
    );
    assert!(
        dir.failover(ServerId(2), ServerId(3)).await.is_err(),
        "no server 3"
    );
    assert!(dir.failover(ServerId(2), ServerId(2)).await.is_err());
    // Server 1 is free now.
    dir.remove_server(ServerId(1)).await.unwrap();
}

async fn rebalance_spreads_users_over_the_servers(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    dir.add_server("node2", "").await.unwrap();
    dir.set_user_homeserver("bob@x.test", ServerId(1))
        .await
        .unwrap();
    for n in 0..4 {
        let mut user = NewUser::new(format!("u{n}@x.test"), format!("/d/u{n}"));
        user.homeserver = ServerId(1);
        dir.create_user(&user, None).await.unwrap();
    }
    let plan = dir.rebalance_plan().await.unwrap();
    assert_eq!(plan.len(), 3);
    assert!(
        plan.iter()
            .all(|m| m.from == ServerId(1) && m.to == ServerId(2))
    );
    for m in &plan {
        assert!(dir.move_user_if_on(m.user_id, m.from, m.to).await.unwrap());
    }
    assert!(
        !dir.move_user_if_on(plan[0].user_id, plan[0].from, plan[0].to)
            .await
            .unwrap(),
        "already moved"
    );
    assert_eq!(dir.rebalance_plan().await.unwrap(), vec![]);
    let on2 = dir
        .users(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.homeserver == ServerId(2))
        .count();
    assert_eq!(on2, 3);
}

async fn a_suspended_domain_suspends_its_users_and_keeps_their_own_state(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    dir.set_user_status(
        "bob@x.test",
        groxide_directory::AddressStatus::SHARED_MAILBOX,
    )
    .await
    .unwrap();
    dir.set_domain_state("x.test", DomainState::Deleted)
        .await
        .unwrap();
    let bob = dir.user_by_name("bob@x.test").await.unwrap().unwrap();
    assert_eq!(bob.address_status.0, 0x34);
    dir.set_domain_state("x.test", DomainState::Normal)
        .await
        .unwrap();
    let bob = dir.user_by_name("bob@x.test").await.unwrap().unwrap();
    assert_eq!(bob.address_status.0, 4);
    // A user created in a suspended domain starts suspended with it.
    dir.set_domain_state("x.test", DomainState::Suspended)
        .await
        .unwrap();
    let carol = dir
        .create_user(&NewUser::new("carol@x.test", "/d/c"), None)
        .await
        .unwrap();
    assert_eq!(carol.address_status.0, 0x10);
}

on_both_backends!(
    duplicates_and_dangling_references_are_refused_with_what_is_in_the_way,
    a_domain_full_of_users_takes_no_more,
    deleting_a_user_removes_its_aliases_and_altnames_and_an_empty_domain_can_go,
    failover_moves_every_user_and_domain_of_a_server_at_once,
    rebalance_spreads_users_over_the_servers,
    a_suspended_domain_suspends_its_users_and_keeps_their_own_state,
);
