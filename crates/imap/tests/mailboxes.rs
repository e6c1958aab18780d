//! Transcripts: LIST (basic, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE),
//! LSUB, CREATE, DELETE, RENAME, SUBSCRIBE, STATUS, QUOTA, names in
//! modified UTF-7 and UTF-8.
#![allow(clippy::unwrap_used)]

mod common;

use common::{World, check};

#[tokio::test]
async fn list_shows_every_mailbox_with_children_and_special_use() {
    let w = World::new();
    let mut c = w.login().await;
    check(
        &c.cmd("a1 LIST \"\" *").await,
        &[
            // INBOX first, then by name; the store's standard mail folders,
            // Outbox included (Outlook and EWS clients use it).
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
            "* LIST (\\HasNoChildren \\Trash) \"/\" \"Deleted Items\"",
            "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"",
            "* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk Email\"",
            "* LIST (\\HasNoChildren) \"/\" \"Outbox\"",
            "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"",
            "a1 OK LIST completed",
        ],
    );
    check(
        &c.cmd("a2 LIST \"\" \"\"").await,
        &["* LIST (\\Noselect) \"/\" \"\"", "a2 OK LIST completed"],
    );
}

#[tokio::test]
async fn list_patterns_respect_the_hierarchy() {
    let w = World::new();
    let mut c = w.login().await;
    check(
        &c.cmd("a1 CREATE Work/2024/Q1").await,
        &["a1 OK CREATE completed"],
    );
    check(
        &c.cmd("a2 LIST \"\" Work/%").await,
        &[
            "* LIST (\\HasChildren) \"/\" \"Work/2024\"",
            "a2 OK LIST completed",
        ],
    );
    check(
        &c.cmd("a3 LIST Work/ *").await,
        &[
            "* LIST (\\HasChildren) \"/\" \"Work/2024\"",
            "* LIST (\\HasNoChildren) \"/\" \"Work/2024/Q1\"",
            "a3 OK LIST completed",
        ],
    );
    check(
        &c.cmd("a4 LIST \"\" %")
            .await
            .lines()
            .filter(|l| l.contains("Work"))
            .collect::<Vec<_>>()
            .join("\n"),
        &["* LIST (\\HasChildren) \"/\" \"Work\""],
    );
    check(
        &c.cmd("a5 LIST \"\" inbox").await,
        &[
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
            "a5 OK LIST completed",
        ],
    );
}

#[tokio::test]
async fn list_extended_selects_special_use_and_returns_status() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut c = w.login().await;
    // LIST-EXTENDED returns child information only with RETURN (CHILDREN).
    check(
        &c.cmd("a1 LIST (SPECIAL-USE) \"\" *").await,
        &[
            "* LIST (\\Trash) \"/\" \"Deleted Items\"",
            "* LIST (\\Drafts) \"/\" \"Drafts\"",
            "* LIST (\\Junk) \"/\" \"Junk Email\"",
            "* LIST (\\Sent) \"/\" \"Sent Items\"",
            "a1 OK LIST completed",
        ],
    );
    check(
        &c.cmd("a2 LIST \"\" (INBOX Drafts) RETURN (STATUS (MESSAGES UNSEEN) SUBSCRIBED)")
            .await,
        &[
            "* LIST (\\Subscribed) \"/\" \"INBOX\"",
            "* STATUS \"INBOX\" (MESSAGES 2 UNSEEN 2)",
            "* LIST (\\Subscribed \\Drafts) \"/\" \"Drafts\"",
            "* STATUS \"Drafts\" (MESSAGES 0 UNSEEN 0)",
            "a2 OK LIST completed",
        ],
    );
}

#[tokio::test]
async fn list_subscribed_with_recursivematch_reports_childinfo() {
    let w = World::new();
    let mut c = w.login().await;
    c.cmd("a1 CREATE Lists/rust").await;
    // New mailboxes are not subscribed (as in Dovecot).
    c.cmd("a2 SUBSCRIBE Lists/rust").await;
    c.cmd("a3 UNSUBSCRIBE Drafts").await;
    let out = c
        .cmd("a4 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" Lists%")
        .await;
    check(
        &out,
        &[
            "* LIST () \"/\" \"Lists\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "a4 OK LIST completed",
        ],
    );
    // A pattern that lists the subscribed child itself: no CHILDINFO for
    // the parent (as Dovecot).
    check(
        &c.cmd("a4b LIST (SUBSCRIBED RECURSIVEMATCH) \"\" Lists*")
            .await,
        &[
            "* LIST (\\Subscribed) \"/\" \"Lists/rust\"",
            "a4b OK LIST completed",
        ],
    );
    let lsub = c.cmd("a5 LSUB \"\" *").await;
    assert!(!lsub.contains("\"Drafts\""), "{lsub}");
    assert!(lsub.contains("* LSUB () \"/\" \"Lists/rust\""), "{lsub}");
}

#[tokio::test]
async fn create_delete_rename_and_their_errors() {
    let w = World::new();
    let mut c = w.login().await;
    check(
        &c.cmd("a1 CREATE Projects/").await,
        &["a1 OK CREATE completed"],
    );
    check(
        &c.cmd("a2 CREATE Projects").await,
        &["a2 NO [ALREADYEXISTS] Mailbox already exists"],
    );
    check(
        &c.cmd("a3 CREATE inbox").await,
        &["a3 NO [ALREADYEXISTS] INBOX always exists"],
    );
    check(
        &c.cmd("a4 RENAME Projects Archive").await,
        &["a4 OK RENAME completed"],
    );
    check(
        &c.cmd("a5 RENAME Projects Other").await,
        &["a5 NO [NONEXISTENT] No such mailbox"],
    );
    check(
        &c.cmd("a6 RENAME Archive Drafts").await,
        &["a6 NO [ALREADYEXISTS] Mailbox already exists"],
    );
    check(
        &c.cmd("a7 DELETE Archive").await,
        &["a7 OK DELETE completed"],
    );
    check(
        &c.cmd("a8 DELETE Archive").await,
        &["a8 NO [NONEXISTENT] No such mailbox"],
    );
    check(
        &c.cmd("a9 DELETE INBOX").await,
        &["a9 NO [CANNOT] INBOX cannot be deleted"],
    );
    check(
        &c.cmd("b1 CREATE (\\Archive) x").await,
        &["b1 BAD expected string"],
    );
    check(
        &c.cmd("b2 CREATE Old (USE (\\Archive))").await,
        &["b2 OK CREATE completed"],
    );
    check(
        &c.cmd("b3 LIST \"\" Old").await,
        &[
            "* LIST (\\HasNoChildren \\Archive) \"/\" \"Old\"",
            "b3 OK LIST completed",
        ],
    );
    check(
        &c.cmd("b4 CREATE New (USE (\\Noselect))").await,
        &["b4 NO [USEATTR] One special-use attribute (\\Sent, \\Trash, ...) per mailbox"],
    );
}

#[tokio::test]
async fn renaming_inbox_moves_its_messages() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut c = w.login().await;
    check(
        &c.cmd("a1 RENAME INBOX Old-Inbox").await,
        &["a1 OK RENAME completed"],
    );
    check(
        &c.cmd("a2 STATUS INBOX (MESSAGES)").await,
        &["* STATUS \"INBOX\" (MESSAGES 0)", "a2 OK STATUS completed"],
    );
    check(
        &c.cmd("a3 STATUS Old-Inbox (MESSAGES)").await,
        &[
            "* STATUS \"Old-Inbox\" (MESSAGES 2)",
            "a3 OK STATUS completed",
        ],
    );
}

#[tokio::test]
async fn status_reports_every_item() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let mut c = w.select().await;
    c.cmd("a0 STORE 1 +FLAGS (\\Seen \\Deleted)").await;
    let (uv, ms) = (w.uidvalidity("INBOX"), w.modseq("INBOX"));
    let out = c
        .cmd("a1 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT DELETED-STORAGE)")
        .await;
    let size: usize = (1..=3).map(|n| common::message(n).len()).sum();
    let first = common::message(1).len();
    // STATUS HIGHESTMODSEQ enables CONDSTORE (RFC 7162 §3.1); with INBOX
    // selected that is announced first, as Dovecot does.
    check(
        &out,
        &[
            &format!("* OK [HIGHESTMODSEQ {ms}] Highest"),
            &format!(
                "* STATUS \"INBOX\" (MESSAGES 3 RECENT 0 UIDNEXT 4 UIDVALIDITY {uv} UNSEEN 2 DELETED 1 SIZE {size} HIGHESTMODSEQ {ms} APPENDLIMIT 67108864 DELETED-STORAGE {first})"
            ),
            "a1 OK STATUS completed",
        ],
    );
    check(
        &c.cmd("a2 STATUS Nowhere (MESSAGES)").await,
        &["a2 NO [NONEXISTENT] No such mailbox"],
    );
}

#[tokio::test]
async fn mailbox_names_travel_as_modified_utf7_or_utf8_after_enable() {
    let w = World::new();
    let mut c = w.login().await;
    check(
        &c.cmd("a1 CREATE Entw&APw-rfe/Alt").await,
        &["a1 OK CREATE completed"],
    );
    check(
        &c.cmd("a2 LIST \"\" Entw*").await,
        &[
            "* LIST (\\HasChildren) \"/\" \"Entw&APw-rfe\"",
            "* LIST (\\HasNoChildren) \"/\" \"Entw&APw-rfe/Alt\"",
            "a2 OK LIST completed",
        ],
    );
    check(
        &c.cmd("a3 CREATE &Jjo-bad&").await,
        &["a3 NO [CANNOT] invalid mailbox name: unterminated modified base64 in mailbox name"],
    );
    c.cmd("a4 ENABLE UTF8=ACCEPT").await;
    check(
        &c.cmd("a5 LIST \"\" Entw*").await,
        &[
            "* LIST (\\HasChildren) \"/\" \"Entwürfe\"",
            "* LIST (\\HasNoChildren) \"/\" \"Entwürfe/Alt\"",
            "a5 OK LIST completed",
        ],
    );
    check(
        &c.cmd("a6 STATUS \"Entwürfe\" (MESSAGES)").await,
        &[
            "* STATUS \"Entwürfe\" (MESSAGES 0)",
            "a6 OK STATUS completed",
        ],
    );
}

#[tokio::test]
async fn quota_reports_storage_in_kib_when_a_limit_is_set() {
    let w = World::new();
    let mut c = w.login().await;
    check(
        &c.cmd("a1 GETQUOTAROOT INBOX").await,
        &["* QUOTAROOT \"INBOX\"", "a1 OK GETQUOTAROOT completed"],
    );
    check(
        &c.cmd("a2 GETQUOTA \"\"").await,
        &["a2 NO [NONEXISTENT] No such quota root"],
    );
    w.backend.set_quota(&w.dir, 10 * 1024 * 1024);
    w.deliver("INBOX", 1);
    let used = (common::message(1).len() as u64).div_ceil(1024);
    check(
        &c.cmd("a3 GETQUOTAROOT INBOX").await,
        &[
            "* QUOTAROOT \"INBOX\" \"\"",
            &format!("* QUOTA \"\" (STORAGE {used} 10240)"),
            "a3 OK GETQUOTAROOT completed",
        ],
    );
    check(
        &c.cmd("a4 GETQUOTA \"\"").await,
        &[
            &format!("* QUOTA \"\" (STORAGE {used} 10240)"),
            "a4 OK GETQUOTA completed",
        ],
    );
    check(
        &c.cmd("a5 SETQUOTA \"\" (STORAGE 1)").await,
        &["a5 NO [NOPERM] Quotas are set by the administrator"],
    );
    check(
        &c.cmd("a6 GETQUOTAROOT Nowhere").await,
        &["a6 NO [NONEXISTENT] No such mailbox"],
    );
}

#[tokio::test]
async fn an_unavailable_store_gives_no_unavailable() {
    let w = World::new();
    let mut c = w.login().await;
    w.backend.set_unavailable(true);
    check(
        &c.cmd("a1 LIST \"\" *").await,
        &["a1 NO [UNAVAILABLE] Mail store temporarily unavailable; try again"],
    );
    w.backend.set_unavailable(false);
    assert!(
        c.cmd("a2 LIST \"\" INBOX")
            .await
            .ends_with("a2 OK LIST completed")
    );
}
