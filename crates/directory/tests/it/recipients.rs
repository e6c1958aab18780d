//! Which user a delivery address reaches.

use crate::harness::{Backend, TestDb, fixture, on_both_backends};
use groxide_directory::{AddressStatus, Directory, RecipientMatch, RecipientPolicy};

async fn check(
    dir: &Directory,
    delimiters: &str,
    address: &str,
    expected: Option<(&str, RecipientMatch)>,
) {
    let policy = RecipientPolicy {
        delimiters: delimiters.into(),
    };
    let got = dir.resolve_recipient(address, &policy).await.unwrap();
    let got = got.map(|r| (r.user.username, r.matched));
    let expected = expected.map(|(u, m)| (u.to_string(), m));
    assert_eq!(got, expected, "{address} with delimiters {delimiters:?}");
}

fn ext(tag: &str) -> RecipientMatch {
    RecipientMatch::Extension {
        extension: tag.into(),
    }
}

async fn addresses_reach_users_directly_by_alias_by_extension_and_by_catch_all(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    use RecipientMatch::*;
    check(&dir, "", "alice@x.test", Some(("alice@x.test", Username))).await;
    check(&dir, "", "Alice@X.TEST", Some(("alice@x.test", Username))).await;
    check(&dir, "", "info@x.test", Some(("alice@x.test", Alias))).await;
    check(&dir, "", "bob+lists@x.test", None).await;
    check(
        &dir,
        "+",
        "bob+lists@x.test",
        Some(("bob@x.test", ext("lists"))),
    )
    .await;
    check(&dir, "+", "bob+@x.test", Some(("bob@x.test", ext("")))).await;
    check(
        &dir,
        "+-",
        "bob-lists+x@x.test",
        Some(("bob@x.test", ext("lists+x"))),
    )
    .await;
    check(
        &dir,
        "+",
        "info+news@x.test",
        Some(("alice@x.test", ext("news"))),
    )
    .await;
    check(&dir, "+", "+news@x.test", None).await;
    check(&dir, "+", "carol@x.test", None).await;
    check(&dir, "+", "al", None).await;
    check(&dir, "+", "al@x.test", None).await;

    dir.add_alias("@x.test", "bob@x.test").await.unwrap();
    check(&dir, "+", "carol@x.test", Some(("bob@x.test", CatchAll))).await;
    check(&dir, "+", "alice@x.test", Some(("alice@x.test", Username))).await;
    check(
        &dir,
        "+",
        "alice+tag@x.test",
        Some(("alice@x.test", ext("tag"))),
    )
    .await;
    check(&dir, "+", "carol@y.test", None).await;
}

async fn suspended_users_resolve_but_are_not_deliverable_while_shared_mailboxes_are(
    backend: Backend,
) {
    let db = TestDb::empty(backend).await;
    let dir = db.connect().await;
    fixture(&dir).await;
    let policy = RecipientPolicy::default();
    let deliverable = |status| {
        let dir = dir.clone();
        let policy = policy.clone();
        async move {
            dir.set_user_status("bob@x.test", status).await.unwrap();
            dir.resolve_recipient("bob@x.test", &policy)
                .await
                .unwrap()
                .unwrap()
                .deliverable()
        }
    };
    assert!(deliverable(AddressStatus::NORMAL).await);
    assert!(deliverable(AddressStatus::SHARED_MAILBOX).await);
    assert!(!deliverable(AddressStatus::SUSPENDED).await);
    assert!(!deliverable(AddressStatus::DELETED).await);
    assert!(!deliverable(AddressStatus::CONTACT).await);
}

on_both_backends!(
    addresses_reach_users_directly_by_alias_by_extension_and_by_catch_all,
    suspended_users_resolve_but_are_not_deliverable_while_shared_mailboxes_are,
);
