//! Deferred send end to end: groxide-timer as a process, groxide-exmdb
//! in-process with a real store, an aiosmtpd relay that counts what it
//! receives. A crash at every step of a send (crash injection = abort, as
//! abrupt as kill -9) never makes the relay receive a message twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DEADLINE, TimerProcess, now};
use groxide_config::{Config, Exmdb};
use groxide_rpc::ClientOptions;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::pb::timer::v1::JobState;
use groxide_rpc::timer_client;
use groxide_runtime::Routing;
use groxide_testkit::{InProcess, free_local_port, wait_listening_async};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The counting relay; killed on drop.
struct Relay {
    child: Child,
    out: tempfile::TempDir,
}

impl Relay {
    fn start(port: u16) -> Relay {
        let out = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(out.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd (.ci/prepare installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start");
        Relay { child, out }
    }

    /// The messages received, in order.
    fn received(&self) -> Vec<String> {
        let mut n = 1;
        let mut all = Vec::new();
        while let Ok(text) = std::fs::read_to_string(self.out.path().join(format!("{n}.eml"))) {
            all.push(text);
            n += 1;
        }
        all
    }

    /// How many received messages carry `marker`.
    fn count(&self, marker: &str) -> usize {
        self.received()
            .iter()
            .filter(|m| m.contains(marker))
            .count()
    }

    fn recipients(&self, n: usize) -> Vec<String> {
        std::fs::read_to_string(self.out.path().join(format!("{n}.rcpt")))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// groxide-exmdb served in-process from the timer's config dir, and a client.
struct Stores {
    client: ExmdbClient,
    stop: CancellationToken,
    _exmdb: InProcess<Exmdb>,
    dir: PathBuf,
}

impl Stores {
    async fn start(node: &TimerProcess) -> Stores {
        let port = free_local_port();
        std::fs::write(
            node.path("exmdb_provider.cfg"),
            format!(
                "listen_ip = 127.0.0.1\nexmdb_listen_port = {port}\nexmdb_hosts_allow = 127.0.0.1\n"
            ),
        )
        .unwrap();
        let config = Config::<Exmdb>::load(node.config_dir()).unwrap().0;
        let stop = CancellationToken::new();
        let exmdb = groxide_testkit::spawn("exmdb", config, &stop, groxide_exmdb::run);
        assert!(
            wait_listening_async(SocketAddr::from(([127, 0, 0, 1], port)), DEADLINE).await,
            "exmdb did not start"
        );
        let routing = Routing::load(&exmdb.config(), None).unwrap();
        let client = ExmdbClient::new(routing.exmdb().clone(), ClientOptions::default());
        let dir = node.path("data/user/example.org/alice");
        client
            .create_store(pb::CreateStoreRequest {
                dir: dir.display().to_string(),
                r#type: pb::StoreType::Private as i32,
                owner: "alice@example.org".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        Stores {
            client,
            stop,
            _exmdb: exmdb,
            dir,
        }
    }

    fn dir(&self) -> String {
        self.dir.display().to_string()
    }

    /// Puts a message into the Outbox; returns its id.
    async fn outgoing(&self, marker: &str, to: &str) -> u64 {
        let mime = format!(
            "From: Alice <alice@example.org>\r\nTo: {to}\r\nCc: carol@example.org\r\n\
             Bcc: dave@example.org\r\nSubject: {marker}\r\nMessage-ID: <{marker}@example.org>\r\n\r\nsent later: {marker}\r\n"
        );
        self.client
            .insert_message_bytes(
                pb::InsertHeader {
                    dir: self.dir(),
                    folder: Some(folder_role("outbox")),
                    flags: 16,
                    ..Default::default()
                },
                mime.into_bytes(),
            )
            .await
            .unwrap()
            .message_id
    }

    /// Whether message `id` is in Sent Items, and its flags.
    async fn in_sent(&self, id: u64) -> (bool, u32) {
        let sent = self
            .client
            .get_folder(pb::FolderRequest {
                dir: self.dir(),
                folder: Some(folder_role("sent")),
            })
            .await
            .unwrap();
        let m = self
            .client
            .read_message(pb::MessageRequest {
                dir: self.dir(),
                message_id: id,
            })
            .await
            .unwrap();
        (
            m.folder_id == sent.id,
            m.entry.map(|e| e.flags).unwrap_or(0),
        )
    }
}

impl Drop for Stores {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn setup(relay_port: u16) -> (TimerProcess, Stores) {
    let node = TimerProcess::new();
    node.write_shared(&format!(
        "outgoing_smtp_url = smtp://127.0.0.1:{relay_port}\n"
    ));
    node.write_config("timer_retry_limit = 100\n");
    let stores = Stores::start(&node).await;
    (node, stores)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_send_reaches_the_relay_once_and_lands_in_sent_items() {
    let port = free_local_port();
    let relay = Relay::start(port);
    let (mut node, stores) = setup(port).await;
    node.start(&[]);
    let c = node.client();
    let id = stores.outgoing("happy", "bob@example.org").await;
    let job = c
        .add(now(), timer_client::deferred_send(stores.dir(), id))
        .await
        .unwrap();
    let done = node.wait_state(job, JobState::Done).await;
    assert_eq!(relay.count("happy"), 1);
    assert_eq!(
        relay.recipients(1),
        ["bob@example.org", "carol@example.org", "dave@example.org"]
    );
    let received = &relay.received()[0];
    assert!(
        !received.contains("Bcc:"),
        "the Bcc field is not sent:\n{received}"
    );
    assert!(received.contains("sent later: happy"), "{received}");
    assert!(
        done.result.contains("3 of 3 recipients accepted"),
        "{}",
        done.result
    );
    assert!(done.result.contains("queued as T1"), "{}", done.result);
    assert!(
        done.result.contains("Message-ID <happy@example.org>"),
        "{}",
        done.result
    );
    assert!(
        done.result.ends_with("moved to Sent Items"),
        "{}",
        done.result
    );
    let (in_sent, flags) = stores.in_sent(id).await;
    assert!(in_sent);
    assert_eq!(flags & (1 | 16), 1, "seen and no longer a draft");

    // Maintenance of the same store runs through exmdb too.
    let purge = c
        .add(
            now(),
            timer_client::maintenance(stores.dir(), "purge-datafiles", 0),
        )
        .await
        .unwrap();
    let j = node.wait_state(purge, JobState::Done).await;
    assert!(
        j.result.starts_with("removed 0 unreferenced content files"),
        "{}",
        j.result
    );
    let purge = c
        .add(
            now(),
            timer_client::maintenance(stores.dir(), "purge-softdelete", 60),
        )
        .await
        .unwrap();
    let j = node.wait_state(purge, JobState::Done).await;
    assert!(
        j.result.starts_with("purged 0 messages and 0 folders"),
        "{}",
        j.result
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_step_of_a_send_never_sends_twice() {
    let port = free_local_port();
    let relay = Relay::start(port);
    let (mut node, stores) = setup(port).await;
    // (crash point, final state, in Sent Items, result contains)
    let cases = [
        ("after-submit", JobState::Failed, false, "not resent"),
        (
            "after-submitted",
            JobState::Done,
            true,
            "moved to Sent Items",
        ),
        ("after-filed", JobState::Done, true, "already in Sent Items"),
    ];
    for (point, state, filed, result) in cases {
        let marker = format!("crash-{point}");
        let id = stores.outgoing(&marker, "bob@example.org").await;
        node.start(&[("GROXIDE_TIMER_TEST_CRASH", point)]);
        let job = node
            .client()
            .add(now(), timer_client::deferred_send(stores.dir(), id))
            .await
            .unwrap();
        let status = node.wait_exit();
        assert!(
            !status.success(),
            "{point}: the crash hook aborts: {status}"
        );
        assert_eq!(relay.count(&marker), 1, "{point}: sent before the crash");

        node.start(&[]);
        let j = node.wait_state(job, state).await;
        assert!(j.result.contains(result), "{point}: {}", j.result);
        assert_eq!(j.attempts, 2, "{point}");
        assert_eq!(relay.count(&marker), 1, "{point}: never twice");
        assert_eq!(stores.in_sent(id).await.0, filed, "{point}");
        node.stop_term();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_relay_is_retried_and_refused_recipients_fail_the_job() {
    let port = free_local_port();
    let (mut node, stores) = setup(port).await;
    node.start(&[]);
    let c = node.client();
    let id = stores.outgoing("patience", "bob@example.org").await;
    let job = c
        .add(now(), timer_client::deferred_send(stores.dir(), id))
        .await
        .unwrap();
    // No relay yet: attempts fail, the job stays pending with the reason.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let j = c.get(job).await.unwrap();
        if j.attempts >= 2 && j.state == JobState::Pending as i32 {
            assert!(j.result.starts_with("attempt "), "{}", j.result);
            assert!(j.result.contains("not sent"), "{}", j.result);
            assert!(j.result.contains("connect"), "{}", j.result);
            break;
        }
        assert!(Instant::now() < deadline, "no second attempt: {j:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let relay = Relay::start(port);
    node.wait_state(job, JobState::Done).await;
    assert_eq!(relay.count("patience"), 1);

    let id = stores.outgoing("refused", "reject-me@example.org").await;
    // A message whose only recipient is refused.
    let only_refused = stores
        .client
        .insert_message_bytes(
            pb::InsertHeader {
                dir: stores.dir(),
                folder: Some(folder_role("outbox")),
                ..Default::default()
            },
            b"To: reject-all@example.org\r\nSubject: refused-all\r\n\r\nx\r\n".to_vec(),
        )
        .await
        .unwrap()
        .message_id;
    let partial = c
        .add(now(), timer_client::deferred_send(stores.dir(), id))
        .await
        .unwrap();
    let refused = c
        .add(
            now(),
            timer_client::deferred_send(stores.dir(), only_refused),
        )
        .await
        .unwrap();
    let j = node.wait_state(partial, JobState::Done).await;
    assert!(
        j.result.contains("2 of 3 recipients accepted"),
        "{}",
        j.result
    );
    assert!(
        j.result.contains("refused: reject-me@example.org (550"),
        "{}",
        j.result
    );
    let j = node.wait_state(refused, JobState::Failed).await;
    assert!(j.result.contains("accepted no recipient"), "{}", j.result);
    assert_eq!(j.attempts, 1, "a 5xx is not retried");
    assert!(
        !stores.in_sent(only_refused).await.0,
        "an unsent message stays put"
    );
    assert_eq!(relay.count("refused-all"), 0);
}
