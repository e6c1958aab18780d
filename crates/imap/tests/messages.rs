//! Transcripts: SELECT/EXAMINE, FETCH, STORE, COPY/MOVE, EXPUNGE,
//! CLOSE/UNSELECT, APPEND, BINARY, and their error paths.
#![allow(clippy::unwrap_used)]

mod common;

use common::{World, check};
use groxide_imap::backend::Flags;

const MULTIPART: &str = "From: Bob <bob@example.test>\r\n\
To: alice@example.test\r\n\
Subject: Report\r\n\
Date: Tue, 02 Jan 2024 09:00:00 +0100\r\n\
Message-ID: <report@example.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
See attachment.\r\n\
--b1\r\n\
Content-Type: application/octet-stream; name=\"data.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
AAECAwQ=\r\n\
--b1--\r\n";

#[tokio::test]
async fn select_reports_the_mailbox_state() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let mut c = w.login().await;
    check(
        &c.cmd("a1 SELECT INBOX").await,
        &[
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted",
            "* 3 EXISTS",
            "* 0 RECENT",
            "* OK [UNSEEN 1] First unseen",
            &format!("* OK [UIDVALIDITY {}] UIDs valid", w.uidvalidity("INBOX")),
            "* OK [UIDNEXT 4] Predicted next UID",
            &format!("* OK [HIGHESTMODSEQ {}] Highest", w.modseq("INBOX")),
            "a1 OK [READ-WRITE] SELECT completed",
        ],
    );
    check(
        &c.cmd("a2 EXAMINE Drafts").await,
        &[
            "* OK [CLOSED] Previous mailbox closed",
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)",
            "* OK [PERMANENTFLAGS ()] Read-only mailbox",
            "* 0 EXISTS",
            "* 0 RECENT",
            &format!("* OK [UIDVALIDITY {}] UIDs valid", w.uidvalidity("Drafts")),
            "* OK [UIDNEXT 1] Predicted next UID",
            &format!("* OK [HIGHESTMODSEQ {}] Highest", w.modseq("Drafts")),
            "a2 OK [READ-ONLY] EXAMINE completed",
        ],
    );
    check(
        &c.cmd("a3 SELECT Nowhere").await,
        &[
            "* OK [CLOSED] Previous mailbox closed",
            "a3 NO [NONEXISTENT] No such mailbox",
        ],
    );
    check(
        &c.cmd("a4 FETCH 1 FLAGS").await,
        &["a4 BAD No mailbox selected"],
    );
}

#[tokio::test]
async fn select_in_imap4rev2_has_no_recent_and_lists_the_mailbox() {
    let w = World::new();
    w.deliver("INBOX", 1);
    let mut c = w.login().await;
    c.cmd("a0 ENABLE IMAP4rev2").await;
    check(
        &c.cmd("a1 SELECT inbox").await,
        &[
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted",
            "* 1 EXISTS",
            &format!("* OK [UIDVALIDITY {}] UIDs valid", w.uidvalidity("INBOX")),
            "* OK [UIDNEXT 2] Predicted next UID",
            &format!("* OK [HIGHESTMODSEQ {}] Highest", w.modseq("INBOX")),
            "* LIST () \"/\" \"INBOX\"",
            "a1 OK [READ-WRITE] SELECT completed",
        ],
    );
    check(
        &c.cmd("a2 SEARCH ALL").await,
        &["* ESEARCH (TAG \"a2\") ALL 1", "a2 OK SEARCH completed"],
    );
}

#[tokio::test]
async fn fetch_flags_uid_size_date_and_envelope() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut c = w.select().await;
    let size = common::message(1).len();
    check(
        &c.cmd("a1 FETCH 1 (FLAGS UID RFC822.SIZE INTERNALDATE)")
            .await,
        &[
            &format!(
                "* 1 FETCH (FLAGS () UID 1 RFC822.SIZE {size} INTERNALDATE \"01-Jan-2024 10:01:00 +0000\")"
            ),
            "a1 OK FETCH completed",
        ],
    );
    check(
        &c.cmd("a2 UID FETCH 2 ENVELOPE").await,
        &[
            "* 2 FETCH (UID 2 ENVELOPE (\"Mon, 02 Jan 2024 10:00:00 +0000\" \"Message 2\" ((\"Sender 2\" NIL \"sender2\" \"example.test\")) ((\"Sender 2\" NIL \"sender2\" \"example.test\")) ((\"Sender 2\" NIL \"sender2\" \"example.test\")) ((\"Alice\" NIL \"alice\" \"example.test\")) NIL NIL NIL \"<m2@example.test>\"))",
            "a2 OK FETCH completed",
        ],
    );
    check(
        &c.cmd("a3 FETCH 1:* FAST").await,
        &[
            &format!(
                "* 1 FETCH (FLAGS () INTERNALDATE \"01-Jan-2024 10:01:00 +0000\" RFC822.SIZE {size})"
            ),
            &format!(
                "* 2 FETCH (FLAGS () INTERNALDATE \"01-Jan-2024 10:02:00 +0000\" RFC822.SIZE {})",
                common::message(2).len()
            ),
            "a3 OK FETCH completed",
        ],
    );
}

#[tokio::test]
async fn fetch_sequence_numbers_past_the_end_are_bad_but_uids_are_not() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut c = w.select().await;
    check(
        &c.cmd("a1 FETCH 3 FLAGS").await,
        &["a1 BAD message sequence number 3 does not exist (the mailbox has 2 messages)"],
    );
    check(
        &c.cmd("a2 UID FETCH 3:9 FLAGS").await,
        &["a2 OK FETCH completed"],
    );
    check(
        &c.cmd("a3 UID FETCH 7:* FLAGS").await,
        &["* 2 FETCH (UID 2 FLAGS ())", "a3 OK FETCH completed"],
    );
}

#[tokio::test]
async fn fetch_body_peek_leaves_seen_alone_and_body_sets_it() {
    let w = World::new();
    w.deliver("INBOX", 1);
    let mut c = w.select().await;
    let msg = common::message(1);
    check(
        &c.cmd("a1 FETCH 1 BODY.PEEK[]").await,
        &[
            &format!("* 1 FETCH (BODY[] {{{}}}\r\n{msg})", msg.len()),
            "a1 OK FETCH completed",
        ],
    );
    check(
        &c.cmd("a2 FETCH 1 FLAGS").await,
        &["* 1 FETCH (FLAGS ())", "a2 OK FETCH completed"],
    );
    check(
        &c.cmd("a3 FETCH 1 BODY[TEXT]").await,
        &[
            "* 1 FETCH (BODY[TEXT] {20}\r\nBody of message 1.\r\n FLAGS (\\Seen))",
            "a3 OK FETCH completed",
        ],
    );
    assert_eq!(
        w.backend.flags_of(&w.dir, "INBOX", 1).unwrap().0,
        Flags::SEEN
    );
    // The own change is not reported again as an unsolicited FETCH.
    check(&c.cmd("a4 NOOP").await, &["a4 OK NOOP completed"]);
}

#[tokio::test]
async fn fetch_partial_header_fields_and_rfc822_forms() {
    let w = World::new();
    w.deliver("INBOX", 1);
    let mut c = w.select().await;
    check(
        &c.cmd("a1 FETCH 1 BODY.PEEK[]<6.6>").await,
        &[
            "* 1 FETCH (BODY[]<6> {6}\r\nSender)",
            "a1 OK FETCH completed",
        ],
    );
    check(
        &c.cmd("a2 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
            .await,
        &[
            "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {61}\r\nFrom: Sender 1 <sender1@example.test>\r\nSubject: Message 1\r\n\r\n)",
            "a2 OK FETCH completed",
        ],
    );
    let out = c.cmd("a3 FETCH 1 (RFC822.HEADER RFC822.TEXT)").await;
    assert!(out.starts_with("* 1 FETCH (RFC822.HEADER {"), "{out}");
    assert!(
        out.contains(" RFC822.TEXT {20}\r\nBody of message 1.\r\n"),
        "{out}"
    );
    assert!(out.contains("FLAGS (\\Seen)"), "{out}");
}

#[tokio::test]
async fn fetch_bodystructure_and_binary_of_a_multipart_message() {
    let w = World::new();
    w.backend
        .deliver(
            &w.dir,
            "INBOX",
            MULTIPART.as_bytes(),
            Flags::default(),
            1_704_103_200,
        )
        .unwrap();
    let mut c = w.select().await;
    insta::assert_snapshot!(c.cmd("a1 FETCH 1 (BODYSTRUCTURE BODY)").await);
    check(
        &c.cmd("a2 FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2])").await,
        &[
            "* 1 FETCH (BINARY[2] ~{5}\r\n\u{0}\u{1}\u{2}\u{3}\u{4} BINARY.SIZE[2] 5)",
            "a2 OK FETCH completed",
        ],
    );
    check(
        &c.cmd("a3 FETCH 1 BODY.PEEK[2.MIME]").await,
        &[
            "* 1 FETCH (BODY[2.MIME] {94}\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n)",
            "a3 OK FETCH completed",
        ],
    );
    check(
        &c.cmd("a4 FETCH 1 BODY.PEEK[9]").await,
        &["* 1 FETCH (BODY[9] {0}\r\n)", "a4 OK FETCH completed"],
    );
}

#[tokio::test]
async fn store_changes_flags_and_reports_them_unless_silent() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let mut c = w.select().await;
    check(
        &c.cmd("a1 STORE 1:2 +FLAGS (\\Flagged $Work)").await,
        &[
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Work)",
            "* 1 FETCH (FLAGS (\\Flagged $Work))",
            "* 2 FETCH (FLAGS (\\Flagged $Work))",
            "a1 OK STORE completed",
        ],
    );
    check(
        &c.cmd("a2 STORE 1 -FLAGS.SILENT (\\Flagged)").await,
        &["a2 OK STORE completed"],
    );
    check(
        &c.cmd("a3 UID STORE 3 FLAGS ($Forwarded \\Answered)").await,
        &[
            "* 3 FETCH (UID 3 FLAGS (\\Answered $Forwarded))",
            "a3 OK STORE completed",
        ],
    );
    check(
        &c.cmd("a4 STORE 1 +FLAGS (\\Bogus)").await,
        &["a4 BAD cannot store flag \\Bogus"],
    );
    check(&c.cmd("a5 NOOP").await, &["a5 OK NOOP completed"]);
    c.cmd("a6 EXAMINE INBOX").await;
    check(
        &c.cmd("a7 STORE 1 +FLAGS (\\Seen)").await,
        &["a7 NO [CANNOT] Mailbox is read-only"],
    );
}

#[tokio::test]
async fn condstore_unchangedsince_reports_modified_messages() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let m = w.modseq("INBOX");
    let mut c = w.login().await;
    let out = c.cmd("a1 SELECT INBOX (CONDSTORE)").await;
    assert!(
        out.contains(&format!("* OK [HIGHESTMODSEQ {m}] Highest")),
        "{out}"
    );
    check(
        &c.cmd("a2 STORE 2 +FLAGS (\\Seen)").await,
        &[
            &format!("* 2 FETCH (FLAGS (\\Seen) MODSEQ ({}))", m + 1),
            "a2 OK STORE completed",
        ],
    );
    check(
        &c.cmd(&format!(
            "a3 STORE 1:3 (UNCHANGEDSINCE {m}) +FLAGS.SILENT (\\Deleted)"
        ))
        .await,
        &[
            // Each message change takes its own change number.
            &format!("* 1 FETCH (MODSEQ ({}))", m + 2),
            &format!("* 3 FETCH (MODSEQ ({}))", m + 3),
            "a3 OK [MODIFIED 2] Some messages were modified since UNCHANGEDSINCE",
        ],
    );
    check(
        &c.cmd(&format!(
            "a4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {})",
            m + 1
        ))
        .await,
        &[
            &format!("* 1 FETCH (UID 1 FLAGS (\\Deleted) MODSEQ ({}))", m + 2),
            &format!("* 3 FETCH (UID 3 FLAGS (\\Deleted) MODSEQ ({}))", m + 3),
            "a4 OK FETCH completed",
        ],
    );
    check(
        &c.cmd(&format!("a5 UID SEARCH MODSEQ {}", m + 2)).await,
        &[
            &format!("* SEARCH 1 3 (MODSEQ {})", m + 3),
            "a5 OK SEARCH completed",
        ],
    );
}

#[tokio::test]
async fn expunge_reports_each_removed_message_from_the_top() {
    let w = World::new();
    w.deliver("INBOX", 4);
    let mut c = w.select().await;
    c.cmd("a1 STORE 2,4 +FLAGS.SILENT (\\Deleted)").await;
    check(
        &c.cmd("a2 EXPUNGE").await,
        &["* 4 EXPUNGE", "* 2 EXPUNGE", "a2 OK EXPUNGE completed"],
    );
    check(
        &c.cmd("a3 FETCH 1:* UID").await,
        &[
            "* 1 FETCH (UID 1)",
            "* 2 FETCH (UID 3)",
            "a3 OK FETCH completed",
        ],
    );
    c.cmd("a4 STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
    check(
        &c.cmd("a5 UID EXPUNGE 3").await,
        &["* 2 EXPUNGE", "a5 OK EXPUNGE completed"],
    );
    c.cmd("a6 EXAMINE INBOX").await;
    check(
        &c.cmd("a7 EXPUNGE").await,
        &["a7 NO [CANNOT] Mailbox is read-only"],
    );
}

#[tokio::test]
async fn close_expunges_silently_and_unselect_does_not() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut c = w.select().await;
    c.cmd("a1 STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    check(&c.cmd("a2 UNSELECT").await, &["a2 OK UNSELECT completed"]);
    assert_eq!(w.backend.uids_of(&w.dir, "INBOX"), vec![1, 2]);
    c.cmd("a3 SELECT INBOX").await;
    check(&c.cmd("a4 CLOSE").await, &["a4 OK CLOSE completed"]);
    assert_eq!(w.backend.uids_of(&w.dir, "INBOX"), vec![2]);
    check(
        &c.cmd("a5 FETCH 1 UID").await,
        &["a5 BAD No mailbox selected"],
    );
}

#[tokio::test]
async fn copy_and_move_report_copyuid_and_trycreate() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let mut c = w.select().await;
    check(
        &c.cmd("a1 COPY 1:2 Drafts").await,
        &[&format!(
            "a1 OK [COPYUID {} 1:2 1:2] COPY completed",
            w.uidvalidity("Drafts")
        )],
    );
    check(
        &c.cmd("a2 COPY 1 Nowhere").await,
        &["a2 NO [TRYCREATE] No such destination mailbox"],
    );
    check(
        &c.cmd("a3 UID MOVE 2:3 Drafts").await,
        &[
            &format!("* OK [COPYUID {} 2:3 3:4] Moved", w.uidvalidity("Drafts")),
            "* 3 EXPUNGE",
            "* 2 EXPUNGE",
            "a3 OK MOVE completed",
        ],
    );
    check(
        &c.cmd("a4 UID COPY 99 Drafts").await,
        &["a4 OK COPY completed"],
    );
    check(
        &c.cmd("a5 STATUS Drafts (MESSAGES)").await,
        &["* STATUS \"Drafts\" (MESSAGES 4)", "a5 OK STATUS completed"],
    );
}

#[tokio::test]
async fn copy_into_the_selected_mailbox_announces_the_new_messages() {
    let w = World::new();
    w.deliver("INBOX", 1);
    let mut c = w.select().await;
    check(
        &c.cmd("a1 COPY 1 INBOX").await,
        &[
            "* 2 EXISTS",
            // The copy is new to every session; this one claims it (RFC 3501 §6.4.7).
            "* 1 RECENT",
            &format!(
                "a1 OK [COPYUID {} 1 2] COPY completed",
                w.uidvalidity("INBOX")
            ),
        ],
    );
}

#[tokio::test]
async fn append_streams_the_message_and_reports_appenduid() {
    let w = World::new();
    let mut c = w.select().await;
    let msg = common::message(7);
    c.send(
        format!(
            "a1 APPEND INBOX (\\Seen $Todo) \"05-Jan-2024 10:00:00 +0100\" {{{}}}\r\n",
            msg.len()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(c.line().await, "+ Ready");
    c.send(format!("{msg}\r\n").as_bytes()).await;
    check(
        &c.until_tagged("a1").await,
        &[
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Todo)",
            "* 1 EXISTS",
            "* 1 RECENT",
            &format!(
                "a1 OK [APPENDUID {} 1] APPEND completed",
                w.uidvalidity("INBOX")
            ),
        ],
    );
    check(
        &c.cmd("a2 FETCH 1 (FLAGS INTERNALDATE)").await,
        &[
            "* 1 FETCH (FLAGS (\\Seen \\Recent $Todo) INTERNALDATE \"05-Jan-2024 09:00:00 +0000\")",
            "a2 OK FETCH completed",
        ],
    );
}

#[tokio::test]
async fn multiappend_with_literal_plus_stores_every_message() {
    let w = World::new();
    let mut c = w.login().await;
    c.send(b"a1 APPEND Drafts {5+}\r\nfirst (\\Draft) {6+}\r\nsecond\r\n")
        .await;
    check(
        &c.until_tagged("a1").await,
        &[&format!(
            "a1 OK [APPENDUID {} 1:2] APPEND completed",
            w.uidvalidity("Drafts")
        )],
    );
    assert_eq!(w.backend.uids_of(&w.dir, "Drafts"), vec![1, 2]);
}

#[tokio::test]
async fn append_to_a_missing_mailbox_says_trycreate_before_the_literal() {
    let w = World::new();
    let mut c = w.login().await;
    check(
        &c.cmd("a1 APPEND Nowhere {10}").await,
        &["a1 NO [TRYCREATE] No such mailbox; create it first"],
    );
    // Non-synchronising: the literal is read and dropped, then NO.
    c.send(b"a2 APPEND Nowhere {3+}\r\nabc\r\n").await;
    check(
        &c.until_tagged("a2").await,
        &["a2 NO [TRYCREATE] No such mailbox; create it first"],
    );
    check(&c.cmd("a3 NOOP").await, &["a3 OK NOOP completed"]);
}

#[tokio::test]
async fn append_larger_than_the_limit_is_refused_with_toobig() {
    let w = World::with_settings(groxide_imap::Settings {
        max_literal_size: 100,
        ..groxide_imap::Settings::default()
    });
    let mut c = w.login().await;
    check(
        &c.cmd("a1 APPEND INBOX {101}").await,
        &["a1 NO [TOOBIG] literal too large (max 100 bytes)"],
    );
    check(&c.cmd("a2 NOOP").await, &["a2 OK NOOP completed"]);
    w.backend.set_max_message_size(3);
    c.send(b"a3 APPEND INBOX {4+}\r\nabcd\r\n").await;
    check(
        &c.until_tagged("a3").await,
        &["a3 NO [TOOBIG] Message too large"],
    );
    w.backend.set_quota(&w.dir, 2);
    c.send(b"a4 APPEND INBOX {3+}\r\nabc\r\n").await;
    check(
        &c.until_tagged("a4").await,
        &["a4 NO [OVERQUOTA] Quota exceeded"],
    );
}

#[tokio::test]
async fn a_failed_multiappend_leaves_no_message_behind() {
    let w = World::new();
    let mut c = w.login().await;
    w.backend.set_max_message_size(5);
    c.send(b"a1 APPEND Drafts {3+}\r\nabc {9+}\r\ntoo large\r\n")
        .await;
    check(
        &c.until_tagged("a1").await,
        &["a1 NO [TOOBIG] Message too large"],
    );
    assert!(w.backend.uids_of(&w.dir, "Drafts").is_empty());
}

#[tokio::test]
async fn append_utf8_needs_utf8_accept() {
    let w = World::new();
    let mut c = w.login().await;
    c.send(b"a1 APPEND Drafts UTF8 (~{3+}\r\nabc)\r\n").await;
    check(
        &c.until_tagged("a1").await,
        &["a1 BAD Enable UTF8=ACCEPT before APPEND UTF8"],
    );
    c.cmd("a2 ENABLE UTF8=ACCEPT").await;
    c.send(b"a3 APPEND Drafts UTF8 (~{3+}\r\nabc)\r\n").await;
    check(
        &c.until_tagged("a3").await,
        &[&format!(
            "a3 OK [APPENDUID {} 1] APPEND completed",
            w.uidvalidity("Drafts")
        )],
    );
}

#[tokio::test]
async fn uid_fetch_of_a_large_folder_streams_every_message_in_order() {
    let w = World::new();
    w.backend
        .deliver_many(&w.dir, "INBOX", common::message(1).as_bytes(), 20_000)
        .unwrap();
    let mut c = w.select().await;
    let out = c.cmd("a1 UID FETCH 1:* (UID FLAGS)").await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 20_001);
    for (i, line) in lines[..20_000].iter().enumerate() {
        let n = i + 1;
        assert_eq!(*line, format!("* {n} FETCH (UID {n} FLAGS ())"));
    }
    assert_eq!(lines[20_000], "a1 OK FETCH completed");
    let search = c.cmd("a2 SEARCH RETURN (COUNT MIN MAX) ALL").await;
    assert_eq!(
        search,
        "* ESEARCH (TAG \"a2\") MIN 1 MAX 20000 COUNT 20000\na2 OK SEARCH completed"
    );
}
