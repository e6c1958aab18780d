//! Transcripts of the RFC details an independent IMAP conformance suite
//! checks (issue 18), each area against the production view over a
//! temp-dir store. Where an RFC leaves room the expected answer is what
//! Dovecot 2.3 answers to the same commands (compared side by side).
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, World, check};
use groxide_imap::backend::Flags;

/// Unix seconds now (deliveries as LMTP makes them).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// APPENDs `raw` with a non-synchronising literal; returns the transcript.
async fn append(c: &mut Client, tag: &str, mailbox: &str, flags: &str, raw: &str) -> String {
    c.send(
        format!(
            "{tag} APPEND {mailbox} {flags}{{{}+}}\r\n{raw}\r\n",
            raw.len()
        )
        .as_bytes(),
    )
    .await;
    c.until_tagged(tag).await
}

fn mail(subject: &str) -> String {
    format!("From: a@example.test\r\nSubject: {subject}\r\n\r\nbody\r\n")
}

// ---- 1. \Recent (RFC 3501 §2.3.2, §6.3.1, §7.3.2) ----

/// A message is \Recent to exactly one session: the one selecting the
/// mailbox when it arrives (or the first to select it afterwards).
#[tokio::test]
async fn recent_belongs_to_exactly_one_session() {
    let w = World::new();
    let mut a = w.select().await;
    let mut b = w.login().await;
    append(&mut b, "b1", "INBOX", "", &mail("one")).await;
    append(&mut b, "b2", "INBOX", "(\\Seen) ", &mail("two")).await;
    check(
        &b.cmd("b3 STATUS INBOX (MESSAGES RECENT UNSEEN)").await,
        &[
            "* STATUS \"INBOX\" (MESSAGES 2 RECENT 2 UNSEEN 1)",
            "b3 OK STATUS completed",
        ],
    );
    check(
        &a.cmd("a1 NOOP").await,
        &["* 2 EXISTS", "* 2 RECENT", "a1 OK NOOP completed"],
    );
    check(
        &a.cmd("a2 FETCH 1:* (FLAGS)").await,
        &[
            "* 1 FETCH (FLAGS (\\Recent))",
            "* 2 FETCH (FLAGS (\\Seen \\Recent))",
            "a2 OK FETCH completed",
        ],
    );
    // A claimed both: B's SELECT and STATUS see none.
    let select = b.cmd("b4 SELECT INBOX").await;
    assert!(select.contains("* 0 RECENT"), "{select}");
    check(
        &b.cmd("b5 STATUS INBOX (RECENT)").await,
        &["* STATUS \"INBOX\" (RECENT 0)", "b5 OK STATUS completed"],
    );
    check(
        &b.cmd("b6 FETCH 1:* (FLAGS)").await,
        &[
            "* 1 FETCH (FLAGS ())",
            "* 2 FETCH (FLAGS (\\Seen))",
            "b6 OK FETCH completed",
        ],
    );
    // A's flag changes keep \Recent in what it is told.
    check(
        &a.cmd("a3 STORE 1 +FLAGS (\\Flagged)").await,
        &[
            "* 1 FETCH (FLAGS (\\Flagged \\Recent))",
            "a3 OK STORE completed",
        ],
    );
}

/// EXAMINE sees unclaimed messages as recent without claiming them.
#[tokio::test]
async fn examine_shows_recent_without_claiming_it() {
    let w = World::new();
    let mut a = w.login().await;
    a.cmd("a0 STATUS INBOX (RECENT)").await;
    w.backend
        .deliver(&w.dir, "INBOX", mail("new").as_bytes(), Flags::NONE, now())
        .unwrap();
    let examine = a.cmd("a1 EXAMINE INBOX").await;
    assert!(examine.contains("* 1 RECENT"), "{examine}");
    check(
        &a.cmd("a2 FETCH 1 FLAGS").await,
        &["* 1 FETCH (FLAGS (\\Recent))", "a2 OK FETCH completed"],
    );
    let mut b = w.login().await;
    let select = b.cmd("b1 SELECT INBOX").await;
    assert!(select.contains("* 1 RECENT"), "{select}");
    let again = a.cmd("a3 EXAMINE INBOX").await;
    assert!(again.contains("* 0 RECENT"), "{again}");
}

/// IMAP4rev2 has no \Recent (RFC 9051 §7.1): no RECENT response, no flag.
#[tokio::test]
async fn imap4rev2_sessions_are_not_told_of_recent() {
    let w = World::new();
    let mut a = w.login().await;
    a.cmd("a0 ENABLE IMAP4rev2").await;
    a.cmd("a1 SELECT INBOX").await;
    let mut b = w.login().await;
    append(&mut b, "b1", "INBOX", "", &mail("one")).await;
    check(
        &a.cmd("a2 NOOP").await,
        &["* 1 EXISTS", "a2 OK NOOP completed"],
    );
    check(
        &a.cmd("a3 FETCH 1 FLAGS").await,
        &["* 1 FETCH (FLAGS ())", "a3 OK FETCH completed"],
    );
}

// ---- 2. COPY and MOVE ----

/// RFC 3501 §6.4.7: copies keep flags and internal date; into the selected
/// mailbox they are announced (EXISTS, RECENT) in the COPY's answer.
#[tokio::test]
async fn copy_into_the_selected_mailbox_keeps_flags_and_date() {
    let w = World::new();
    let mut c = w.select().await;
    append(
        &mut c,
        "a0",
        "INBOX",
        "(\\Flagged $Work) \"05-Jan-2024 10:00:00 +0000\" ",
        &mail("copy me"),
    )
    .await;
    let v = w.uidvalidity("INBOX");
    check(
        &c.cmd("a1 COPY 1 INBOX").await,
        &[
            "* 2 EXISTS",
            "* 2 RECENT",
            &format!("a1 OK [COPYUID {v} 1 2] COPY completed"),
        ],
    );
    check(
        &c.cmd("a2 FETCH 2 (FLAGS INTERNALDATE)").await,
        &[
            "* 2 FETCH (FLAGS (\\Flagged \\Recent $Work) INTERNALDATE \"05-Jan-2024 10:00:00 +0000\")",
            "a2 OK FETCH completed",
        ],
    );
}

/// RFC 6851 §3.3 allows MOVE to the selected mailbox: the messages get
/// new UIDs, the old ones are expunged, COPYUID maps them.
#[tokio::test]
async fn move_to_the_selected_mailbox_renumbers_the_messages() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut c = w.select().await;
    let v = w.uidvalidity("INBOX");
    check(
        &c.cmd("a1 MOVE 1 INBOX").await,
        &[
            &format!("* OK [COPYUID {v} 1 3] Moved"),
            "* 1 EXPUNGE",
            "* 2 EXISTS",
            "* 1 RECENT",
            "a1 OK MOVE completed",
        ],
    );
    check(
        &c.cmd("a2 FETCH 1:* (UID)").await,
        &[
            "* 1 FETCH (UID 2)",
            "* 2 FETCH (UID 3)",
            "a2 OK FETCH completed",
        ],
    );
    assert_eq!(w.backend.uids_of(&w.dir, "INBOX"), vec![2, 3]);
}

// ---- 3. ESEARCH and SEARCHRES (RFC 4731, RFC 5182) ----

/// A sequence number past EXISTS names no message, never the last one;
/// a range ending in `*` still names the last (`7:*` is `6:7` in a
/// mailbox of six, RFC 3501 §9).
#[tokio::test]
async fn numbers_past_the_end_match_nothing() {
    let w = World::new();
    w.deliver("INBOX", 6);
    let mut c = w.select().await;
    check(
        &c.cmd("a1 SEARCH RETURN () 1000").await,
        &["* ESEARCH (TAG \"a1\")", "a1 OK SEARCH completed"],
    );
    check(
        &c.cmd("a2 SEARCH RETURN (MIN MAX COUNT ALL) 1000").await,
        &["* ESEARCH (TAG \"a2\") COUNT 0", "a2 OK SEARCH completed"],
    );
    check(
        &c.cmd("a3 SEARCH 7:*").await,
        &["* SEARCH 6", "a3 OK SEARCH completed"],
    );
    check(
        &c.cmd("a4 SEARCH 100:4").await,
        &["* SEARCH 4 5 6", "a4 OK SEARCH completed"],
    );
    check(
        &c.cmd("a5 SEARCH *:5").await,
        &["* SEARCH 5 6", "a5 OK SEARCH completed"],
    );
    // UIDs: `n:*` always names the highest (RFC 3501 §6.4.8), a number
    // written out only itself.
    check(
        &c.cmd("a6 UID SEARCH UID 7:*").await,
        &["* SEARCH 6", "a6 OK SEARCH completed"],
    );
    check(
        &c.cmd("a7 UID SEARCH UID 7:4294967295").await,
        &["* SEARCH", "a7 OK SEARCH completed"],
    );
    check(
        &c.cmd("a8 UID SEARCH UID 4294967295").await,
        &["* SEARCH", "a8 OK SEARCH completed"],
    );
    check(
        &c.cmd("a9 SEARCH RETURN (SAVE) 2,4").await,
        &["a9 OK SEARCH completed"],
    );
    check(
        &c.cmd("a10 SEARCH OR $ 6").await,
        &["* SEARCH 2 4 6", "a10 OK SEARCH completed"],
    );
}

// ---- 4. CONDSTORE in ESEARCH (RFC 7162 §3.1.5, RFC 4731 §3.2) ----

/// MIN/MAX alone report the MODSEQ of the messages they return; ALL and
/// COUNT the highest of all; SAVE alone still reports it.
#[tokio::test]
async fn esearch_reports_the_modseq_of_what_it_returns() {
    let w = World::new();
    w.deliver("INBOX", 3);
    let mut c = w.select().await;
    c.cmd("a0 STORE 2 +FLAGS (\\Flagged)").await;
    c.cmd("a1 STORE 1 +FLAGS (\\Seen)").await;
    let fetched = c.cmd("a2 FETCH 1:3 (MODSEQ)").await;
    let modseq = |n: usize| -> u64 {
        let line = fetched
            .lines()
            .find(|l| l.starts_with(&format!("* {n} FETCH")))
            .unwrap();
        line.split("MODSEQ (")
            .nth(1)
            .unwrap()
            .trim_end_matches("))")
            .parse()
            .unwrap()
    };
    let (m1, m2, m3) = (modseq(1), modseq(2), modseq(3));
    assert!(m1 > m2 && m2 > m3, "{fetched}");
    check(
        &c.cmd("a3 SEARCH RETURN (MIN) MODSEQ 1").await,
        &[
            &format!("* ESEARCH (TAG \"a3\") MIN 1 MODSEQ {m1}"),
            "a3 OK SEARCH completed",
        ],
    );
    check(
        &c.cmd("a4 SEARCH RETURN (MAX) MODSEQ 1").await,
        &[
            &format!("* ESEARCH (TAG \"a4\") MAX 3 MODSEQ {m3}"),
            "a4 OK SEARCH completed",
        ],
    );
    check(
        &c.cmd("a5 UID SEARCH RETURN (MIN MAX) MODSEQ 1 NOT 1").await,
        &[
            &format!("* ESEARCH (TAG \"a5\") UID MIN 2 MAX 3 MODSEQ {m2}"),
            "a5 OK SEARCH completed",
        ],
    );
    check(
        &c.cmd("a6 SEARCH RETURN (COUNT) MODSEQ 1").await,
        &[
            &format!("* ESEARCH (TAG \"a6\") COUNT 3 MODSEQ {m1}"),
            "a6 OK SEARCH completed",
        ],
    );
    check(
        &c.cmd("a7 SEARCH RETURN (SAVE) MODSEQ \"/flags/\\\\flagged\" all 1")
            .await,
        &[
            &format!("* ESEARCH (TAG \"a7\") MODSEQ {m1}"),
            "a7 OK SEARCH completed",
        ],
    );
    check(
        &c.cmd(&format!("a8 SEARCH RETURN (MIN) MODSEQ {}", m1 + 1))
            .await,
        &["* ESEARCH (TAG \"a8\")", "a8 OK SEARCH completed"],
    );
}

/// FETCH MODSEQ is a CONDSTORE-enabling command (RFC 7162 §3.1): issued
/// first while a mailbox is selected it announces the mailbox's
/// HIGHESTMODSEQ, and from then on the FETCH answers a STORE causes carry
/// the message's MODSEQ.
#[tokio::test]
async fn first_condstore_command_announces_highestmodseq_and_store_reports_modseq() {
    let w = World::new();
    w.deliver("INBOX", 2);
    let mut c = w.select().await;
    // Before CONDSTORE is on, STORE answers with flags only.
    check(
        &c.cmd("a1 STORE 1 +FLAGS (\\Answered)").await,
        &["* 1 FETCH (FLAGS (\\Answered))", "a1 OK STORE completed"],
    );
    let fetched = c.cmd("a2 FETCH 1:2 (MODSEQ)").await;
    let modseq_in = |line: &str| -> u64 {
        let v = line.split("MODSEQ (").nth(1).unwrap();
        v[..v.find(')').unwrap()].parse().unwrap()
    };
    let lines: Vec<&str> = fetched.lines().collect();
    assert_eq!(lines.len(), 4, "{fetched}");
    let highest: u64 = lines[0]
        .strip_prefix("* OK [HIGHESTMODSEQ ")
        .and_then(|r| r.strip_suffix("] Highest"))
        .unwrap_or_else(|| panic!("{fetched}"))
        .parse()
        .unwrap();
    assert!(lines[1].starts_with("* 1 FETCH (MODSEQ ("), "{fetched}");
    assert!(lines[2].starts_with("* 2 FETCH (MODSEQ ("), "{fetched}");
    assert_eq!(highest, modseq_in(lines[1]).max(modseq_in(lines[2])));
    assert_eq!(lines[3], "a2 OK FETCH completed", "{fetched}");
    // Announced once per session, not on every enabling command.
    let again = c.cmd("a3 FETCH 1 (MODSEQ)").await;
    assert!(!again.contains("HIGHESTMODSEQ"), "{again}");
    let stored = c.cmd("a4 STORE 2 +FLAGS (\\Seen)").await;
    let lines: Vec<&str> = stored.lines().collect();
    assert!(
        lines[0].starts_with("* 2 FETCH (FLAGS (\\Seen) MODSEQ ("),
        "{stored}"
    );
    assert!(modseq_in(lines[0]) > highest, "{stored}");
    assert_eq!(lines[1], "a4 OK STORE completed", "{stored}");
}

// ---- 5. SEARCH keys ----

const ADDRESSED: [&str; 3] = [
    "From: \"Zed Q\" <zq@a.test>\r\nTo: =?utf-8?q?J=C3=B6rg?= <joerg@b.test>, c@c.test\r\nCc: Mary <mary@m.test>\r\nBcc: hidden@h.test\r\nSubject: one\r\n\r\nbody one\r\n",
    "From: bob@b.test\r\nTo: team: ann@a.test, al@a.test;\r\nSubject: two\r\n\r\nbody two\r\n",
    "From: undisclosed-recipients:;\r\nCc: =?utf-8?q?=C3=84rger?= <zed@z.test>\r\nSubject: three\r\n\r\nbody three\r\n",
];

/// FROM/TO/CC/BCC match display names (encoded words decoded), addresses
/// and group names.
#[tokio::test]
async fn address_searches_match_names_addresses_and_groups() {
    let w = World::new();
    for m in ADDRESSED {
        w.backend
            .deliver(&w.dir, "INBOX", m.as_bytes(), Flags::NONE, now())
            .unwrap();
    }
    let mut c = w.select().await;
    for (query, found) in [
        ("FROM \"Zed Q\"", "1"),
        ("FROM zq@a", "1"),
        ("TO joerg@b.test", "1"),
        ("CC mary", "1"),
        ("BCC hidden", "1"),
        ("FROM undisclosed-recipients", "3"),
        ("TO team", "2"),
        ("TO al@a", "2"),
        ("CC zed", "3"),
        ("OR FROM bob TO c@c.test", "1 2"),
    ] {
        check(
            &c.cmd(&format!("s SEARCH {query}")).await,
            &[&format!("* SEARCH {found}"), "s OK SEARCH completed"],
        );
    }
    c.send("u1 SEARCH CHARSET UTF-8 TO {5}\r\n".as_bytes())
        .await;
    assert_eq!(c.line().await, "+ Ready");
    c.send("Jörg\r\n".as_bytes()).await;
    check(
        &c.until_tagged("u1").await,
        &["* SEARCH 1", "u1 OK SEARCH completed"],
    );
}

/// Keywords case-insensitively; RECENT, NEW and OLD from the session's
/// \Recent.
#[tokio::test]
async fn flag_searches_cover_keywords_recent_new_and_old() {
    let w = World::new();
    w.deliver("INBOX", 1);
    let mut c = w.select().await;
    append(&mut c, "a0", "INBOX", "($Work) ", &mail("two")).await;
    append(&mut c, "a1", "INBOX", "(\\Seen) ", &mail("three")).await;
    c.cmd("a2 NOOP").await;
    for (query, found) in [
        ("KEYWORD $work", "2"),
        ("UNKEYWORD $Work", "1 3"),
        ("RECENT", "2 3"),
        ("NEW", "2"),
        ("OLD", "1"),
        ("NOT RECENT", "1"),
        ("UNSEEN OLD", "1"),
    ] {
        check(
            &c.cmd(&format!("s SEARCH {query}")).await,
            &[&format!("* SEARCH {found}"), "s OK SEARCH completed"],
        );
    }
}

// ---- 6. SORT and THREAD (RFC 5256, RFC 5957) ----

const SUBJECTS: [&str; 6] = [
    "From: \"Zed Q\" <zq@a.test>\r\nTo: =?utf-8?q?J=C3=B6rg?= <joerg@b.test>\r\nCc: Mary <mary@m.test>\r\nSubject: =?utf-8?q?Re=3A_=5Bblob=5D_Caf=C3=A9?=\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <a@x>\r\n\r\none\r\n",
    "From: bob@b.test\r\nTo: zz@z.test\r\nSubject: Fwd: Re: [list]   cafe  (fwd)\r\nDate: Tue, 02 Jan 2024 10:00:00 +0000\r\nMessage-ID: <b@x>\r\n\r\ntwo\r\n",
    "From: Ann <ann@a.test>\r\nCc: aaron@x.test\r\nSubject: re: [fwd: Caf\u{e9}]\r\nDate: Wed, 03 Jan 2024 10:00:00 +0000\r\nMessage-ID: <c@x>\r\nReferences: <a@x>\r\n\r\nthree\r\n",
    "From: carl@c.test\r\nSubject: [a] [b] Re: Re[3]: Hello\r\nDate: Thu, 04 Jan 2024 10:00:00 +0000\r\n\r\nfour\r\n",
    "From: Dora <dora@d.test>\r\nTo: Al <al@a.test>\r\nCc: =?utf-8?q?=C3=84rger?= <zed@z.test>\r\nSubject: hello\r\nDate: Fri, 05 Jan 2024 10:00:00 +0000\r\n\r\nfive\r\n",
    "From: undisclosed-recipients:;\r\nSubject: Fw: [x] Re: World (Fwd) (fwd)\r\nDate: Sat, 06 Jan 2024 10:00:00 +0000\r\n\r\nsix\r\n",
];

/// The six messages sort and thread exactly as Dovecot 2.3 orders them:
/// base subjects without `Re:`/`Fwd:`/`[blob]`/`(fwd)`, decoded, white
/// space folded (`cafe` and `Café` differ); an address field that starts
/// with a group sorts by the group's name.
#[tokio::test]
async fn sort_and_thread_order_as_rfc5256_says() {
    let w = World::new();
    for m in SUBJECTS {
        w.backend
            .deliver(&w.dir, "INBOX", m.as_bytes(), Flags::NONE, now())
            .unwrap();
    }
    let mut c = w.select().await;
    for (command, answer) in [
        ("SORT (SUBJECT) UTF-8 ALL", "* SORT 2 1 3 4 5 6"),
        ("SORT (REVERSE SUBJECT) UTF-8 ALL", "* SORT 6 4 5 1 3 2"),
        ("SORT (FROM) UTF-8 ALL", "* SORT 3 2 4 5 6 1"),
        ("SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 3 2 4 5 6 1"),
        ("SORT (CC) UTF-8 ALL", "* SORT 2 4 6 3 1 5"),
        ("SORT (TO) UTF-8 ALL", "* SORT 3 4 6 5 1 2"),
        (
            "THREAD ORDEREDSUBJECT UTF-8 ALL",
            "* THREAD (1 3)(2)(4 5)(6)",
        ),
        ("THREAD REFERENCES UTF-8 ALL", "* THREAD (1 3)(2)(5 4)(6)"),
    ] {
        let out = c.cmd(&format!("s {command}")).await;
        assert_eq!(out.lines().next().unwrap(), answer, "{command}: {out}");
    }
}

/// SORT compares under i;ascii-casemap (RFC 5256 §2.1): letters fold to
/// upper case, so subjects starting with `[` or `_` come after every
/// letter, whichever case the letters are in.
#[tokio::test]
async fn sort_folds_letters_to_upper_case() {
    let w = World::new();
    for subject in ["_under", "beta", "[bracket]", "Alpha", "Gamma"] {
        let m = format!("From: x@example.test\r\nSubject: {subject}\r\n\r\nbody\r\n");
        w.backend
            .deliver(&w.dir, "INBOX", m.as_bytes(), Flags::NONE, now())
            .unwrap();
    }
    let mut c = w.select().await;
    check(
        &c.cmd("s1 SORT (SUBJECT) US-ASCII ALL").await,
        &["* SORT 4 2 5 3 1", "s1 OK SORT completed"],
    );
    check(
        &c.cmd("s2 SORT (REVERSE SUBJECT) US-ASCII ALL").await,
        &["* SORT 1 3 5 2 4", "s2 OK SORT completed"],
    );
}

// ---- 7. SELECT, EXAMINE, STATUS ----

/// The untagged data of SELECT and EXAMINE, in Dovecot's order, with
/// RECENT and UNSEEN for IMAP4rev1 and `[READ-ONLY]` for EXAMINE.
#[tokio::test]
async fn select_and_examine_report_recent_unseen_and_access() {
    let w = World::new();
    let mut a = w.login().await;
    a.cmd("a0 STATUS INBOX (RECENT)").await;
    w.deliver("INBOX", 1);
    w.backend
        .deliver(&w.dir, "INBOX", mail("new").as_bytes(), Flags::NONE, now())
        .unwrap();
    let (v, uidnext) = (w.uidvalidity("INBOX"), 3);
    check(
        &a.cmd("a1 STATUS INBOX (MESSAGES RECENT UIDNEXT UNSEEN)")
            .await,
        &[
            &format!("* STATUS \"INBOX\" (MESSAGES 2 RECENT 2 UIDNEXT {uidnext} UNSEEN 2)"),
            "a1 OK STATUS completed",
        ],
    );
    check(
        &a.cmd("a2 EXAMINE INBOX").await,
        &[
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)",
            "* OK [PERMANENTFLAGS ()] Read-only mailbox",
            "* 2 EXISTS",
            "* 2 RECENT",
            "* OK [UNSEEN 1] First unseen",
            &format!("* OK [UIDVALIDITY {v}] UIDs valid"),
            &format!("* OK [UIDNEXT {uidnext}] Predicted next UID"),
            &format!("* OK [HIGHESTMODSEQ {}] Highest", w.modseq("INBOX")),
            "a2 OK [READ-ONLY] EXAMINE completed",
        ],
    );
    check(
        &a.cmd("a3 SELECT INBOX").await,
        &[
            "* OK [CLOSED] Previous mailbox closed",
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted",
            "* 2 EXISTS",
            "* 2 RECENT",
            "* OK [UNSEEN 1] First unseen",
            &format!("* OK [UIDVALIDITY {v}] UIDs valid"),
            &format!("* OK [UIDNEXT {uidnext}] Predicted next UID"),
            &format!("* OK [HIGHESTMODSEQ {}] Highest", w.modseq("INBOX")),
            "a3 OK [READ-WRITE] SELECT completed",
        ],
    );
    check(
        &a.cmd("a4 STATUS INBOX (RECENT)").await,
        &["* STATUS \"INBOX\" (RECENT 0)", "a4 OK STATUS completed"],
    );
}

// ---- 8. LIST-EXTENDED and subscriptions (RFC 5258, RFC 3501 §6.3.9) ----

/// RFC 5258's examples, on groxide's folders: a deleted subscribed mailbox
/// stays subscribed (\NonExistent), LSUB `%` returns the \Noselect parent,
/// CHILDINFO marks parents of subscribed mailboxes, new mailboxes are not
/// subscribed, children attributes come with RETURN (CHILDREN).
#[tokio::test]
async fn subscriptions_outlive_mailboxes_and_list_extended_reports_them() {
    let w = World::new();
    let mut c = w.login().await;
    for name in ["Fruit", "Fruit/Banana", "Fruit/Peach", "Tofu"] {
        let r = c.cmd(&format!("c CREATE {name}")).await;
        assert_eq!(r, "c OK CREATE completed");
    }
    c.cmd("s1 SUBSCRIBE Fruit/Banana").await;
    c.cmd("s2 SUBSCRIBE Fruit/Peach").await;
    check(
        &c.cmd("s3 SUBSCRIBE Ghost").await,
        &["s3 NO [NONEXISTENT] No such mailbox"],
    );
    c.cmd("d1 DELETE Fruit/Peach").await;
    check(
        &c.cmd("l1 LIST (SUBSCRIBED) \"\" \"Fruit*\"").await,
        &[
            "* LIST (\\Subscribed) \"/\" \"Fruit/Banana\"",
            "* LIST (\\NonExistent \\Subscribed) \"/\" \"Fruit/Peach\"",
            "l1 OK LIST completed",
        ],
    );
    check(
        &c.cmd("l2 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"Fr%\"")
            .await,
        &[
            "* LIST () \"/\" \"Fruit\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "l2 OK LIST completed",
        ],
    );
    check(
        &c.cmd("l3 LSUB \"\" \"Fruit/*\"").await,
        &[
            "* LSUB () \"/\" \"Fruit/Banana\"",
            "* LSUB () \"/\" \"Fruit/Peach\"",
            "l3 OK LSUB completed",
        ],
    );
    check(
        &c.cmd("l4 LSUB \"\" \"Fr%\"").await,
        &[
            "* LSUB (\\Noselect) \"/\" \"Fruit\"",
            "l4 OK LSUB completed",
        ],
    );
    check(
        &c.cmd("l5 LIST \"\" \"T%\" RETURN (SUBSCRIBED)").await,
        &["* LIST () \"/\" \"Tofu\"", "l5 OK LIST completed"],
    );
    check(
        &c.cmd("l6 LIST \"\" \"Fruit\" RETURN (CHILDREN)").await,
        &[
            "* LIST (\\HasChildren) \"/\" \"Fruit\"",
            "l6 OK LIST completed",
        ],
    );
    check(
        &c.cmd("l7 LIST \"Fruit\" \"%\"").await,
        &[
            "* LIST (\\HasChildren) \"/\" \"Fruit\"",
            "l7 OK LIST completed",
        ],
    );
    check(
        &c.cmd("l8 LIST \"Fruit/\" \"%\"").await,
        &[
            "* LIST (\\HasNoChildren) \"/\" \"Fruit/Banana\"",
            "l8 OK LIST completed",
        ],
    );
    // A deleted mailbox is not listed by plain LIST.
    check(
        &c.cmd("l9 LIST \"\" \"Fruit/*\"").await,
        &[
            "* LIST (\\HasNoChildren) \"/\" \"Fruit/Banana\"",
            "l9 OK LIST completed",
        ],
    );
    check(
        &c.cmd("u1 UNSUBSCRIBE Fruit/Peach").await,
        &["u1 OK UNSUBSCRIBE completed"],
    );
    check(
        &c.cmd("u2 UNSUBSCRIBE Nowhere").await,
        &["u2 OK UNSUBSCRIBE completed"],
    );
    check(
        &c.cmd("l10 LSUB \"\" \"Fruit/*\"").await,
        &["* LSUB () \"/\" \"Fruit/Banana\"", "l10 OK LSUB completed"],
    );
    // Re-created under a name that stayed subscribed, it is subscribed again.
    c.cmd("s4 SUBSCRIBE Fruit/Banana").await;
    c.cmd("d2 DELETE Fruit/Banana").await;
    c.cmd("c2 CREATE Fruit/Banana").await;
    check(
        &c.cmd("l11 LIST (SUBSCRIBED) \"\" \"Fruit/*\"").await,
        &[
            "* LIST (\\Subscribed) \"/\" \"Fruit/Banana\"",
            "l11 OK LIST completed",
        ],
    );
}

/// With several patterns, RECURSIVEMATCH names a parent (CHILDINFO) only
/// for subscribed children that no pattern lists themselves; a child a
/// pattern matches answers for itself (as Dovecot).
#[tokio::test]
async fn recursivematch_childinfo_only_for_children_no_pattern_lists() {
    let w = World::new();
    let mut c = w.login().await;
    for name in ["Veg", "Veg/Leek", "Veg/Kale"] {
        let r = c.cmd(&format!("c CREATE {name}")).await;
        assert_eq!(r, "c OK CREATE completed");
    }
    c.cmd("s1 SUBSCRIBE Veg/Leek").await;
    check(
        &c.cmd("l1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Veg)")
            .await,
        &[
            "* LIST () \"/\" \"Veg\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "l1 OK LIST completed",
        ],
    );
    check(
        &c.cmd("l2 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Veg Veg/Leek)")
            .await,
        &[
            "* LIST (\\Subscribed) \"/\" \"Veg/Leek\"",
            "l2 OK LIST completed",
        ],
    );
    // A second subscribed child outside the patterns brings the parent back.
    c.cmd("s2 SUBSCRIBE Veg/Kale").await;
    check(
        &c.cmd("l3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Veg Veg/Leek)")
            .await,
        &[
            "* LIST () \"/\" \"Veg\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "* LIST (\\Subscribed) \"/\" \"Veg/Leek\"",
            "l3 OK LIST completed",
        ],
    );
}

// ---- 9. APPEND with BINARY (RFC 3516) ----

/// `~{n}` literals carry NULs; the command gets a continuation (for the
/// synchronising form) and its tagged answer, nothing else untagged.
#[tokio::test]
async fn append_of_a_binary_literal_answers_only_the_command() {
    let w = World::new();
    let mut c = w.login().await;
    let raw = b"Subject: bin\r\nContent-Transfer-Encoding: binary\r\n\r\nx\x00y\r\n";
    c.send(format!("a1 APPEND INBOX ~{{{}+}}\r\n", raw.len()).as_bytes())
        .await;
    c.send(raw).await;
    c.send(b"\r\n").await;
    let out = c.until_tagged("a1").await;
    assert!(out.starts_with("a1 OK [APPENDUID "), "{out}");
    c.send(format!("a2 APPEND INBOX (\\Seen) ~{{{}}}\r\n", raw.len()).as_bytes())
        .await;
    assert_eq!(c.line().await, "+ Ready");
    c.send(raw).await;
    c.send(b"\r\n").await;
    let out = c.until_tagged("a2").await;
    assert!(out.starts_with("a2 OK [APPENDUID "), "{out}");
    c.cmd("a3 SELECT INBOX").await;
    let out = c.cmd("a4 FETCH 1 BINARY.SIZE[]").await;
    assert!(
        out.starts_with(&format!("* 1 FETCH (BINARY.SIZE[] {})", raw.len())),
        "{out}"
    );
}
