//! Hostile and random input: the session never panics, answers every
//! command it read, and a broken stream ends the session cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASSWORD, USER, World};
use proptest::prelude::*;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Command lines that reach every handler, some malformed.
const VOCABULARY: &[&str] = &[
    "NOOP",
    "CAPABILITY",
    "SELECT INBOX",
    "FETCH 1:* (UID FLAGS)",
    "FETCH 1 BODY[]",
    "FETCH 2 (BODY.PEEK[1.MIME] BINARY[1])",
    "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
    "FETCH * ENVELOPE",
    "FETCH 0 FLAGS",
    "STORE 1 +FLAGS (\\Seen)",
    "UID STORE 1:* FLAGS.SILENT (\\Deleted)",
    "STORE 1 (UNCHANGEDSINCE 1) -FLAGS (x)",
    "SEARCH ALL",
    "UID SEARCH RETURN (SAVE MIN) UNSEEN",
    "SEARCH $",
    "SEARCH OR FROM a NOT TO b",
    "SORT (REVERSE DATE) UTF-8 ALL",
    "THREAD REFERENCES UTF-8 ALL",
    "EXPUNGE",
    "UID EXPUNGE 1:*",
    "COPY 1:* Drafts",
    "MOVE 1 Drafts",
    "UID MOVE $ INBOX",
    "CHECK",
    "CLOSE",
    "SELECT INBOX",
    "UNSELECT",
    "EXAMINE Drafts",
    "SELECT Nowhere",
    "LIST \"\" *",
    "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" * RETURN (STATUS (MESSAGES SIZE))",
    "LSUB \"\" %",
    "CREATE a/b",
    "DELETE a/b",
    "RENAME a x",
    "SUBSCRIBE x",
    "STATUS INBOX (MESSAGES HIGHESTMODSEQ DELETED-STORAGE)",
    "ENABLE QRESYNC UTF8=ACCEPT",
    "NAMESPACE",
    "ID NIL",
    "GETQUOTAROOT INBOX",
    "SETQUOTA \"\" (STORAGE 1)",
    "APPEND INBOX {5+}\r\nhello",
    "APPEND Drafts (\\Draft) {3+}\r\nabc {2+}\r\nde",
    "APPEND INBOX ~{2+}\r\n\0\0",
    "IDLE\r\nDONE",
    "AUTHENTICATE PLAIN",
    "LOGIN a b",
    "STARTTLS",
    "FROB",
    "",
    "(((((((((",
    "FETCH 1:4294967295 FLAGS",
    "SEARCH CHARSET X TEXT y",
    "LIST \"\" \"%*%*%*%*%*%*\"",
];

fn run_script(lines: Vec<Vec<u8>>) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let world = World::new();
        world.deliver("INBOX", 3);
        let (client, server_side) = tokio::io::duplex(64 * 1024);
        let server = world.server.clone();
        let peer: SocketAddr = "192.0.2.9:1".parse().unwrap();
        let session = tokio::spawn(async move {
            server.serve_connection(server_side, peer, false).await;
        });
        let (mut rd, mut wr) = tokio::io::split(client);
        let reader = tokio::spawn(async move {
            let mut out = Vec::new();
            let _ = rd.read_to_end(&mut out).await;
            out
        });
        let login = format!("l LOGIN {USER} {PASSWORD}\r\n");
        let _ = wr.write_all(login.as_bytes()).await;
        for line in lines {
            if wr.write_all(&line).await.is_err() {
                break;
            }
        }
        let _ = wr.write_all(b"z LOGOUT\r\n").await;
        let out = tokio::time::timeout(common::HANG_GUARD, reader)
            .await
            .expect("the session must end after LOGOUT or close")
            .unwrap();
        // The session task ended without panicking.
        session.await.expect("session task panicked");
        drop(wr);
        String::from_utf8_lossy(&out).into_owned()
    })
}

fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (0..VOCABULARY.len(), 0u32..1000).prop_map(|(i, t)| format!("t{t} {}\r\n", VOCABULARY[i]).into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|mut v| { v.extend_from_slice(b"\r\n"); v }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn random_command_sequences_never_panic_and_end_with_bye(
        lines in proptest::collection::vec(line_strategy(), 0..40)
    ) {
        let out = run_script(lines);
        prop_assert!(out.starts_with("* OK"), "{}", out);
        // Either LOGOUT was answered or the session closed with BYE first.
        prop_assert!(out.contains("* BYE"), "{}", out);
    }
}

#[test]
fn every_vocabulary_command_gets_a_tagged_answer() {
    let lines: Vec<Vec<u8>> = VOCABULARY
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            !c.is_empty()
                && !c.starts_with('(')
                && !c.starts_with("STARTTLS")
                && !c.starts_with("AUTHENTICATE")
        })
        .map(|(i, c)| format!("v{i} {c}\r\n").into_bytes())
        .collect();
    let count = lines.len();
    let out = run_script(lines);
    for (i, c) in VOCABULARY.iter().enumerate() {
        if c.is_empty()
            || c.starts_with('(')
            || c.starts_with("STARTTLS")
            || c.starts_with("AUTHENTICATE")
        {
            continue;
        }
        assert!(
            out.contains(&format!("\r\nv{i} ")),
            "no answer to {c:?} (#{i} of {count}):\n{out}"
        );
    }
    assert!(out.contains("z OK LOGOUT completed"), "{out}");
}
