//! Sessions in step with the store: two sessions on one mailbox, deferred
//! expunges, flag changes made elsewhere, IDLE, missed hints, QRESYNC.
#![allow(clippy::unwrap_used)]

mod common;

use common::{World, check};
use groxide_imap::Settings;
use groxide_imap::backend::Flags;
use std::time::Duration;

#[tokio::test]
async fn an_expunge_during_another_sessions_fetch_is_deferred() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let mut a = w.select().await;
    let mut b = w.select().await;
    b.cmd("b1 STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    check(
        &b.cmd("b2 EXPUNGE").await,
        &["* 2 EXPUNGE", "b2 OK EXPUNGE completed"],
    );
    // A's numbering stays as it was: no EXPUNGE while answering FETCH, but
    // the tagged reply says that some messages were gone (RFC 5530).
    check(
        &a.cmd("a1 FETCH 1:3 (UID FLAGS)").await,
        &[
            "* 1 FETCH (UID 1 FLAGS ())",
            "* 3 FETCH (UID 3 FLAGS ())",
            "a1 NO [EXPUNGEISSUED] Some of the requested messages no longer exist",
        ],
    );
    check(
        &a.cmd("a2 STORE 3 +FLAGS (\\Flagged)").await,
        &["* 3 FETCH (FLAGS (\\Flagged))", "a2 OK STORE completed"],
    );
    check(
        &a.cmd("a3 SEARCH ALL").await,
        &["* SEARCH 1 3", "a3 OK SEARCH completed"],
    );
    check(
        &a.cmd("a4 NOOP").await,
        &["* 2 EXPUNGE", "a4 OK NOOP completed"],
    );
    check(
        &a.cmd("a5 FETCH 2 UID").await,
        &["* 2 FETCH (UID 3)", "a5 OK FETCH completed"],
    );
}

#[tokio::test]
async fn uid_commands_may_report_expunges() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut a = w.select().await;
    let mut b = w.select().await;
    b.cmd("b1 STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("b2 EXPUNGE").await;
    check(
        &a.cmd("a1 UID FETCH 1:* (FLAGS)").await,
        &[
            "* 2 FETCH (UID 2 FLAGS ())",
            "* 1 EXPUNGE",
            "a1 OK FETCH completed",
        ],
    );
}

#[tokio::test]
async fn flag_changes_made_elsewhere_arrive_as_untagged_fetch() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut a = w.select().await;
    let mut b = w.select().await;
    b.cmd("b1 STORE 2 +FLAGS (\\Answered $Done)").await;
    check(
        &a.cmd("a1 NOOP").await,
        &[
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Done)",
            "* 2 FETCH (FLAGS (\\Answered $Done))",
            "a1 OK NOOP completed",
        ],
    );
    // Reported once.
    check(&a.cmd("a2 NOOP").await, &["a2 OK NOOP completed"]);
    // New mail shows up at the next command of any kind.
    w.deliver("INBOX", 1);
    check(
        &a.cmd("a3 LIST \"\" Drafts").await,
        &[
            "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"",
            "* 3 EXISTS",
            // Delivered while A has the mailbox selected: A claims it.
            "* 1 RECENT",
            "a3 OK LIST completed",
        ],
    );
    // UID FETCH n:* includes mail that arrived since the last command.
    w.deliver("INBOX", 1);
    check(
        &a.cmd("a4 UID FETCH 3:* (FLAGS)").await,
        &[
            "* 4 EXISTS",
            "* 2 RECENT",
            "* 3 FETCH (UID 3 FLAGS (\\Recent))",
            "* 4 FETCH (UID 4 FLAGS (\\Recent))",
            "a4 OK FETCH completed",
        ],
    );
}

#[tokio::test]
async fn idle_sees_new_mail_flag_changes_and_expunges_from_elsewhere() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut a = w.select().await;
    a.send(b"i1 IDLE\r\n").await;
    assert_eq!(a.line().await, "+ idling");
    w.backend
        .deliver(
            &w.dir,
            "INBOX",
            common::message(9).as_bytes(),
            Flags::default(),
            1_704_103_200,
        )
        .unwrap();
    assert_eq!(a.line().await, "* 3 EXISTS");
    assert_eq!(a.line().await, "* 1 RECENT");
    let mut b = w.select().await;
    b.cmd("b1 STORE 1 +FLAGS (\\Seen \\Deleted)").await;
    assert_eq!(a.line().await, "* 1 FETCH (FLAGS (\\Seen \\Deleted))");
    b.cmd("b2 EXPUNGE").await;
    assert_eq!(a.line().await, "* 1 EXPUNGE");
    a.send(b"DONE\r\n").await;
    check(&a.until_tagged("i1").await, &["i1 OK IDLE terminated"]);
    check(
        &a.cmd("a2 FETCH 1:* UID").await,
        &[
            "* 1 FETCH (UID 2)",
            "* 2 FETCH (UID 3)",
            "a2 OK FETCH completed",
        ],
    );
}

#[tokio::test]
async fn idle_without_a_selected_mailbox_waits_for_done() {
    let w = World::new();
    let mut a = w.login().await;
    a.send(b"i1 IDLE\r\n").await;
    assert_eq!(a.line().await, "+ idling");
    a.send(b"done\r\n").await;
    check(&a.until_tagged("i1").await, &["i1 OK IDLE terminated"]);
    a.send(b"i2 IDLE\r\nNOPE\r\n").await;
    assert_eq!(a.line().await, "+ idling");
    check(&a.until_tagged("i2").await, &["i2 BAD Expected DONE"]);
}

#[tokio::test]
async fn a_resync_marker_makes_idle_catch_up_with_missed_changes() {
    let w = World::new();
    w.deliver("INBOX", 1);
    let mut a = w.select().await;
    a.send(b"i1 IDLE\r\n").await;
    assert_eq!(a.line().await, "+ idling");
    w.backend.set_notifications(false);
    w.deliver("INBOX", 1);
    w.backend.set_notifications(true);
    w.backend.send_resync(&w.dir);
    assert_eq!(a.line().await, "* 2 EXISTS");
    a.send(b"DONE\r\n").await;
    a.until_tagged("i1").await;
}

#[tokio::test]
async fn idle_checks_the_mailbox_periodically_when_hints_are_lost() {
    let w = World::with_settings(Settings {
        idle_check_interval: Duration::from_millis(50),
        ..Settings::default()
    });
    let mut a = w.select().await;
    a.send(b"i1 IDLE\r\n").await;
    assert_eq!(a.line().await, "+ idling");
    w.backend.set_notifications(false);
    w.deliver("INBOX", 1);
    assert_eq!(a.line().await, "* 1 EXISTS");
    a.send(b"DONE\r\n").await;
    a.until_tagged("i1").await;
}

#[tokio::test]
async fn idle_autologout_closes_the_session() {
    let w = World::with_settings(Settings {
        autologout: Duration::from_millis(100),
        ..Settings::default()
    });
    let mut a = w.login().await;
    a.send(b"i1 IDLE\r\n").await;
    assert_eq!(a.line().await, "+ idling");
    assert_eq!(a.line().await, "* BYE Autologout; idle for too long");
    assert!(a.closed().await);
}

#[tokio::test]
async fn qresync_select_reports_vanished_earlier_and_changed_flags() {
    let w = World::new();
    w.deliver("INBOX", 5);
    let (uv, m) = (w.uidvalidity("INBOX"), w.modseq("INBOX"));
    let mut b = w.select().await;
    b.cmd("b1 STORE 2 +FLAGS (\\Seen)").await;
    b.cmd("b2 STORE 3 +FLAGS (\\Deleted)").await;
    b.cmd("b3 EXPUNGE").await;
    let mut c = w.login().await;
    check(
        &c.cmd("c1 ENABLE QRESYNC").await,
        &["* ENABLED QRESYNC", "c1 OK ENABLE completed"],
    );
    check(
        &c.cmd(&format!("c2 SELECT INBOX (QRESYNC ({uv} {m} 1:5))"))
            .await,
        &[
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted",
            "* 4 EXISTS",
            "* 0 RECENT",
            "* OK [UNSEEN 1] First unseen",
            &format!("* OK [UIDVALIDITY {uv}] UIDs valid"),
            "* OK [UIDNEXT 6] Predicted next UID",
            &format!("* OK [HIGHESTMODSEQ {}] Highest", m + 3),
            "* VANISHED (EARLIER) 3",
            &format!("* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ ({}))", m + 1),
            "c2 OK [READ-WRITE] SELECT completed",
        ],
    );
    // A stale UIDVALIDITY gets a plain SELECT.
    let out = c
        .cmd(&format!(
            "c3 SELECT INBOX (QRESYNC ({} {m}))",
            uv.wrapping_add(1)
        ))
        .await;
    assert!(!out.contains("VANISHED"), "{out}");
    // QRESYNC needs ENABLE.
    let mut d = w.login().await;
    check(
        &d.cmd(&format!("d1 SELECT INBOX (QRESYNC ({uv} {m}))"))
            .await,
        &["d1 BAD Enable QRESYNC before using it in SELECT"],
    );
}

#[tokio::test]
async fn qresync_sessions_get_vanished_instead_of_expunge() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let m = w.modseq("INBOX");
    let mut a = w.login().await;
    a.cmd("a1 ENABLE QRESYNC").await;
    a.cmd("a2 SELECT INBOX").await;
    let mut b = w.select().await;
    b.cmd("b1 STORE 2 +FLAGS (\\Seen)").await;
    b.cmd("b2 STORE 3 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("b3 EXPUNGE").await;
    check(
        &a.cmd("a3 NOOP").await,
        &[
            &format!("* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ ({}))", m + 1),
            "* VANISHED 3",
            "a3 OK NOOP completed",
        ],
    );
    check(
        &a.cmd(&format!(
            "a4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m} VANISHED)"
        ))
        .await,
        &[
            "* VANISHED (EARLIER) 3",
            &format!("* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ ({}))", m + 1),
            "a4 OK FETCH completed",
        ],
    );
    check(
        &a.cmd(&format!("a5 FETCH 1 (FLAGS) (CHANGEDSINCE {m} VANISHED)"))
            .await,
        &["a5 BAD invalid VANISHED without UID FETCH and CHANGEDSINCE"],
    );
}

#[tokio::test]
async fn deleting_the_selected_mailbox_elsewhere_ends_the_session_cleanly() {
    let w = World::new();
    let mut b = w.login().await;
    b.cmd("b1 CREATE Tmp").await;
    let mut a = w.login().await;
    a.cmd("a1 SELECT Tmp").await;
    b.cmd("b2 DELETE Tmp").await;
    a.send(b"a2 NOOP\r\n").await;
    assert_eq!(
        a.line().await,
        "* BYE [NONEXISTENT] The selected mailbox was deleted"
    );
    assert!(a.closed().await);
}

#[tokio::test]
async fn a_sessions_own_changes_need_no_catch_up_but_others_do() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let mut a = w.select().await;
    let before = w.backend.changes_requests();
    a.cmd("a1 STORE 1 +FLAGS (\\Seen)").await;
    a.cmd("a2 STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    a.cmd("a3 EXPUNGE").await;
    check(
        &a.cmd("a4 STATUS Drafts (MESSAGES)").await,
        &["* STATUS \"Drafts\" (MESSAGES 0)", "a4 OK STATUS completed"],
    );
    assert_eq!(w.backend.changes_requests(), before);
    let mut b = w.select().await;
    b.cmd("b1 STORE 1 +FLAGS (\\Flagged)").await;
    check(
        &a.cmd("a5 STATUS Drafts (MESSAGES)").await,
        &[
            "* STATUS \"Drafts\" (MESSAGES 0)",
            "* 1 FETCH (FLAGS (\\Seen \\Flagged))",
            "a5 OK STATUS completed",
        ],
    );
    assert!(w.backend.changes_requests() > before);
}

#[tokio::test]
async fn qresync_from_before_a_tombstone_compaction_reports_every_uid_gone() {
    let w = World::new();
    w.deliver("INBOX", 6);
    let mut b = w.select().await;
    b.cmd("b1 STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("b2 EXPUNGE").await;
    let (uv, m) = (w.uidvalidity("INBOX"), w.modseq("INBOX"));
    b.cmd("b3 UID STORE 3:4 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("b4 EXPUNGE").await;
    let store = w
        .backend
        .stores()
        .open(std::path::Path::new(&w.dir))
        .unwrap();
    assert_eq!(store.compact_mail_tombstones(Duration::ZERO).unwrap(), 3);
    let mut c = w.login().await;
    c.cmd("c1 ENABLE QRESYNC").await;
    // The removals after MODSEQ m are forgotten: every UID below UIDNEXT
    // that is not a message is reported, here also 1 (gone before m), which
    // RFC 7162 allows; 3 and 4 are never left out.
    let out = c
        .cmd(&format!("c2 SELECT INBOX (QRESYNC ({uv} {m}))"))
        .await;
    assert!(
        out.lines().any(|l| l == "* VANISHED (EARLIER) 1,3:4"),
        "{out}"
    );
    assert!(out.contains("* 3 EXISTS"), "{out}");
    // Known UIDs narrow it, as they do for tombstones.
    let out = c
        .cmd(&format!("c3 SELECT INBOX (QRESYNC ({uv} {m} 2:6))"))
        .await;
    assert!(
        out.lines().any(|l| l == "* VANISHED (EARLIER) 3:4"),
        "{out}"
    );
    check(
        &c.cmd(&format!(
            "c4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m} VANISHED)"
        ))
        .await,
        &["* VANISHED (EARLIER) 1,3:4", "c4 OK FETCH completed"],
    );
    // From after the compaction the answer is exact again.
    let now = w.modseq("INBOX");
    b.cmd("b5 UID STORE 5 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("b6 EXPUNGE").await;
    check(
        &c.cmd(&format!(
            "c5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {now} VANISHED)"
        ))
        .await,
        &[
            "* VANISHED (EARLIER) 5",
            "* VANISHED 5",
            "c5 OK FETCH completed",
        ],
    );
}
