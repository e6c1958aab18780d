//! Transcripts: SEARCH (with ESEARCH, SEARCHRES `$`, CHARSET), SORT,
//! THREAD.
#![allow(clippy::unwrap_used)]

mod common;

use common::{World, check};
use groxide_imap::backend::Flags;

fn mail(subject: &str, from: &str, date: &str, id: &str, refs: &str, body: &str) -> String {
    let refs = if refs.is_empty() {
        String::new()
    } else {
        format!("References: {refs}\r\nIn-Reply-To: {refs}\r\n")
    };
    format!(
        "From: {from}\r\nTo: alice@example.test\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {id}\r\n{refs}\r\n{body}\r\n"
    )
}

/// Five messages: a thread of three about lunch, two others.
fn world() -> World {
    let w = World::new();
    let messages = [
        mail(
            "Lunch?",
            "Zoe <zoe@example.test>",
            "Mon, 01 Jan 2024 12:00:00 +0000",
            "<1@x>",
            "",
            "Pizza at noon",
        ),
        mail(
            "Report",
            "Bob <bob@example.test>",
            "Tue, 02 Jan 2024 09:00:00 +0000",
            "<2@x>",
            "",
            "Numbers inside",
        ),
        mail(
            "Re: Lunch?",
            "Alice <alice@example.test>",
            "Mon, 01 Jan 2024 12:05:00 +0000",
            "<3@x>",
            "<1@x>",
            "Yes, pizza",
        ),
        mail(
            "Re: Lunch?",
            "Zoe <zoe@example.test>",
            "Mon, 01 Jan 2024 12:10:00 +0000",
            "<4@x>",
            "<3@x>",
            "Great",
        ),
        mail(
            "Holiday",
            "Carl <carl@example.test>",
            "Sun, 31 Dec 2023 08:00:00 +0000",
            "<5@x>",
            "",
            "Away until Monday",
        ),
    ];
    for (i, m) in messages.iter().enumerate() {
        let flags = if i % 2 == 0 {
            Flags::SEEN
        } else {
            Flags::default()
        };
        w.backend
            .deliver(
                &w.dir,
                "INBOX",
                m.as_bytes(),
                flags,
                1_704_103_200 + i as i64 * 3600,
            )
            .unwrap();
    }
    w
}

#[tokio::test]
async fn search_matches_flags_headers_text_and_sets() {
    let w = world();
    let mut c = w.select().await;
    for (cmd, expected) in [
        ("a1 SEARCH ALL", "* SEARCH 1 2 3 4 5"),
        ("a2 SEARCH UNSEEN", "* SEARCH 2 4"),
        ("a3 SEARCH FROM zoe", "* SEARCH 1 4"),
        ("a4 SEARCH SUBJECT lunch NOT FROM alice", "* SEARCH 1 4"),
        ("a5 SEARCH OR SEEN SUBJECT report", "* SEARCH 1 2 3 5"),
        ("a6 SEARCH BODY pizza", "* SEARCH 1 3"),
        ("a7 SEARCH 2:4 UNSEEN", "* SEARCH 2 4"),
        ("a8 UID SEARCH UID 3:*", "* SEARCH 3 4 5"),
        ("a9 SEARCH HEADER Message-ID <5@x>", "* SEARCH 5"),
        ("b1 SEARCH SENTBEFORE 1-Jan-2024", "* SEARCH 5"),
        ("b2 SEARCH 9:12", "* SEARCH"),
        ("b3 SEARCH CHARSET UTF-8 TEXT inside", "* SEARCH 2"),
        ("b4 SEARCH NEW", "* SEARCH"),
    ] {
        let tag = cmd.split(' ').next().unwrap();
        check(
            &c.cmd(cmd).await,
            &[expected, &format!("{tag} OK SEARCH completed")],
        );
    }
    check(
        &c.cmd("c1 SEARCH CHARSET KOI8-R TEXT x").await,
        &["c1 NO [BADCHARSET (US-ASCII UTF-8)] Supported charsets: US-ASCII, UTF-8"],
    );
}

#[tokio::test]
async fn esearch_returns_min_max_count_all() {
    let w = world();
    let mut c = w.select().await;
    check(
        &c.cmd("a1 SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN").await,
        &[
            "* ESEARCH (TAG \"a1\") MIN 2 MAX 4 COUNT 2 ALL 2,4",
            "a1 OK SEARCH completed",
        ],
    );
    check(
        &c.cmd("a2 UID SEARCH RETURN () FROM zoe").await,
        &[
            "* ESEARCH (TAG \"a2\") UID ALL 1,4",
            "a2 OK SEARCH completed",
        ],
    );
    check(
        &c.cmd("a3 SEARCH RETURN (COUNT) FROM nobody").await,
        &["* ESEARCH (TAG \"a3\") COUNT 0", "a3 OK SEARCH completed"],
    );
}

#[tokio::test]
async fn searchres_saves_the_result_for_dollar() {
    let w = world();
    let mut c = w.select().await;
    check(
        &c.cmd("a1 UID SEARCH RETURN (SAVE) FROM zoe").await,
        &["a1 OK SEARCH completed"],
    );
    check(
        &c.cmd("a2 FETCH $ (UID)").await,
        &[
            "* 1 FETCH (UID 1)",
            "* 4 FETCH (UID 4)",
            "a2 OK FETCH completed",
        ],
    );
    check(
        &c.cmd("a3 SEARCH $ UNSEEN").await,
        &["* SEARCH 4", "a3 OK SEARCH completed"],
    );
    check(
        &c.cmd("a4 SEARCH RETURN (SAVE MIN) ALL").await,
        &["* ESEARCH (TAG \"a4\") MIN 1", "a4 OK SEARCH completed"],
    );
    check(
        &c.cmd("a5 UID FETCH $ UID").await,
        &["* 1 FETCH (UID 1)", "a5 OK FETCH completed"],
    );
    // A failed SAVE leaves `$` empty.
    c.cmd("a6 SEARCH RETURN (SAVE) CHARSET X-BAD TEXT a").await;
    check(&c.cmd("a7 FETCH $ UID").await, &["a7 OK FETCH completed"]);
}

#[tokio::test]
async fn sort_orders_by_keys_and_reverse() {
    let w = world();
    let mut c = w.select().await;
    for (cmd, expected) in [
        ("a1 SORT (DATE) UTF-8 ALL", "* SORT 5 1 3 4 2"),
        ("a2 SORT (REVERSE ARRIVAL) UTF-8 ALL", "* SORT 5 4 3 2 1"),
        ("a3 SORT (SUBJECT DATE) UTF-8 ALL", "* SORT 5 1 3 4 2"),
        ("a4 SORT (FROM) UTF-8 UNSEEN", "* SORT 2 4"),
        ("a5 UID SORT (SIZE) US-ASCII SUBJECT lunch", "* SORT 1 4 3"),
    ] {
        let tag = cmd.split(' ').next().unwrap();
        check(
            &c.cmd(cmd).await,
            &[expected, &format!("{tag} OK SORT completed")],
        );
    }
}

#[tokio::test]
async fn thread_groups_replies() {
    let w = world();
    let mut c = w.select().await;
    check(
        &c.cmd("a1 THREAD REFERENCES UTF-8 ALL").await,
        &["* THREAD (5)(1 3 4)(2)", "a1 OK THREAD completed"],
    );
    check(
        &c.cmd("a2 THREAD ORDEREDSUBJECT UTF-8 ALL").await,
        &["* THREAD (5)(1 (3)(4))(2)", "a2 OK THREAD completed"],
    );
    check(
        &c.cmd("a3 THREAD X-OTHER UTF-8 ALL").await,
        &["a3 BAD Unsupported threading algorithm X-OTHER"],
    );
}
