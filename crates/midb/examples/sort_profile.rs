//! Runs SORT, THREAD and SEARCH over a 1,000-message folder in-process,
//! for profiling (`valgrind --tool=callgrind`, perf): the midb side of
//! `cargo xtask bench imap --only search` without sockets or a peer.
//!
//! `cargo run --release -p groxide-midb --example sort_profile -- [subject|date|thread|search] [reps]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use groxide_mailview::{SearchKey, SortCriterion, SortKey, TextField, ThreadAlgorithm};
use groxide_midb::direct_writes::DirectWrites;
use groxide_midb::feed::NoFeed;
use groxide_midb::{Settings, StoreView};
use groxide_store::{FolderRef, FolderRole, NewMessage, NewStore, StoreKind, StoreManager};
use std::sync::Arc;
use std::time::Instant;

fn message(i: usize) -> Vec<u8> {
    let subjects = [
        "Lunch",
        "Report",
        "Meeting notes",
        "Invoice",
        "Holiday plans",
    ];
    let prefix = ["", "Re: ", "Fwd: ", "RE: [list] "][i % 4];
    format!(
        "From: Sender {s} <sender{s}@example.test>\r\nTo: Rcpt {r} <rcpt{r}@example.test>\r\n\
         Subject: {prefix}{subj} {n}\r\nDate: Mon, {d:02} Jan 2024 {h:02}:00:00 +0000\r\n\
         Message-ID: <{i}@example.test>\r\n\r\nBody of message {i}, veniam.\r\n",
        s = i % 37,
        r = i % 11,
        subj = subjects[i % subjects.len()],
        n = i % 97,
        d = 1 + i % 28,
        h = i % 24,
    )
    .into_bytes()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("subject");
    let reps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("alice");
    let stores = Arc::new(StoreManager::new(
        Default::default(),
        Default::default(),
        None,
    ));
    stores
        .create(
            &dir,
            &NewStore {
                kind: StoreKind::Private,
                owner: "alice@example.test".into(),
                lang: String::new(),
                quota_bytes: 0,
            },
        )
        .unwrap();
    let store = stores.open(&dir).unwrap();
    for i in 0..1000 {
        store
            .insert_mime_from(
                FolderRef::Role(FolderRole::Inbox),
                &message(i)[..],
                NewMessage {
                    internal_date: Some(1_700_000_000 + i as i64),
                    ..NewMessage::default()
                },
            )
            .unwrap();
    }
    let view = StoreView::new(
        Arc::new(DirectWrites::new(stores.clone())),
        Arc::new(NoFeed),
        Settings::default(),
    );
    let dir = dir.to_string_lossy().into_owned();
    let folder = view.mailbox_status(&dir, "INBOX").await.unwrap().folder;
    let criteria = |key, reverse| vec![SortCriterion { key, reverse }];
    let run = || async {
        match what {
            "subject" => view
                .sort(
                    &dir,
                    folder,
                    &criteria(SortKey::Subject, false),
                    SearchKey::All,
                )
                .await
                .unwrap()
                .len(),
            "date" => view
                .sort(&dir, folder, &criteria(SortKey::Date, true), SearchKey::All)
                .await
                .unwrap()
                .len(),
            "thread" => view
                .thread(&dir, folder, ThreadAlgorithm::References, SearchKey::All)
                .await
                .unwrap()
                .len(),
            _ => view
                .search(
                    &dir,
                    folder,
                    SearchKey::Text(TextField::From, "sender7".into()),
                )
                .await
                .unwrap()
                .uids
                .len(),
        }
    };
    // The first run computes the digests; only the repeats are timed.
    let n = run().await;
    let t = Instant::now();
    for _ in 0..reps {
        run().await;
    }
    let per = t.elapsed().as_secs_f64() * 1000.0 / reps as f64;
    println!("{what}: {n} results, {per:.3} ms per command over {reps} runs");
}
