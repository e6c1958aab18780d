//! Out-of-office replies from real stores (an in-process groxide-exmdb)
//! through a loopback SMTP relay: who outside the user's domain gets the
//! external reply under each `ExternalAudience` — with `Known`, only
//! senders whose address is in the user's Contacts folder — while
//! colleagues always get the internal one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use groxide_delivery::auto_reply::{AutoReplies, reply_for};
use groxide_delivery::exmdb_mailboxes::ExmdbMailboxes;
use groxide_delivery::{DeliveryOutcome, DeliveryRequest, Mailbox, MailboxWriter, TargetFolder};
use groxide_rpc::exmdb_client::folder_role;
use groxide_rpc::items::{Precondition, PutTarget};
use groxide_rpc::oof::{ExternalAudience, OofSettings, OofState};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const DEMO: &str = "demo@example.test";
/// In demo's contacts (as its second address, in other case).
const FRIEND: &str = "ada@partner.test";
/// In nobody's contacts.
const STRANGER: &str = "eve@elsewhere.test";
/// Of demo's own domain.
const COLLEAGUE: &str = "carol@example.test";

mod common;
use common::StoreNode as Node;

impl Node {
    /// Demo's store, with Ada among its contacts and out-of-office
    /// replies on for `audience`.
    async fn demo(&self, audience: ExternalAudience) -> Mailbox {
        let dir = self.create_store(DEMO).await;
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ada-1\r\nFN:Ada Lovelace\r\n\
            N:Lovelace;Ada;;;\r\nEMAIL;TYPE=home:ada@home.test\r\n\
            EMAIL;TYPE=work:Ada@Partner.test\r\nEND:VCARD\r\n";
        let contact = groxide_pim::vcard::parse_vcards(card.as_bytes())
            .items
            .remove(0)
            .unwrap();
        self.client
            .put_item(
                &dir,
                folder_role("contacts"),
                &contact,
                PutTarget::New,
                Precondition::None,
            )
            .await
            .unwrap();
        let settings = OofSettings {
            state: OofState::Enabled,
            external_audience: audience,
            internal_reply: "Away (for colleagues)".into(),
            external_reply: "Away (for the world)".into(),
            period: 1,
            ..OofSettings::default()
        };
        groxide_rpc::oof::write_settings(&self.client, &dir, &settings)
            .await
            .unwrap();
        Mailbox {
            user: DEMO.into(),
            dir,
        }
    }

    /// The reply text each of friend, stranger and colleague would get.
    async fn replies(&self, demo: &Mailbox) -> [Option<String>; 3] {
        let (settings, answered) = groxide_rpc::oof::read(&self.client, &demo.dir)
            .await
            .unwrap();
        let mut out = [None, None, None];
        for (slot, sender) in out.iter_mut().zip([FRIEND, STRANGER, COLLEAGUE]) {
            *slot = reply_for(&self.client, &demo.dir, &settings, &answered, sender, DEMO)
                .await
                .unwrap();
        }
        out
    }
}

#[tokio::test]
async fn known_answers_contacts_only_all_answers_everybody_none_nobody_outside() {
    let world = Some("Away (for the world)".to_string());
    let inside = Some("Away (for colleagues)".to_string());
    for (audience, friend, stranger) in [
        (ExternalAudience::Known, world.clone(), None),
        (ExternalAudience::All, world.clone(), world.clone()),
        (ExternalAudience::None, None, None),
    ] {
        let node = Node::start().await;
        let demo = node.demo(audience).await;
        assert_eq!(
            node.replies(&demo).await,
            [friend, stranger, inside.clone()],
            "{audience:?}"
        );
    }
}

/// A loopback SMTP relay that accepts every message; each message's
/// envelope recipients and data arrive on the channel.
async fn smtp_sink() -> (String, mpsc::UnboundedReceiver<(Vec<String>, String)>) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 sink\r\n").await.unwrap();
                let (mut rcpts, mut data, mut in_data) = (Vec::new(), String::new(), false);
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        break;
                    }
                    if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            let _ =
                                tx.send((std::mem::take(&mut rcpts), std::mem::take(&mut data)));
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpts.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_known_audience_a_contact_gets_the_reply_by_mail_and_a_stranger_none() {
    let node = Node::start().await;
    let demo = node.demo(ExternalAudience::Known).await;
    let (relay, mut sent) = smtp_sink().await;
    let submitter =
        groxide_submit::Submitter::new(&relay, groxide_submit::SubmitOptions::default()).unwrap();
    let writer = AutoReplies::new(
        ExmdbMailboxes::new(node.client.clone()),
        node.client.clone(),
        Some(Arc::new(submitter)),
    );
    for (n, from) in [STRANGER, FRIEND].into_iter().enumerate() {
        let raw = format!(
            "From: <{from}>\r\nTo: <{DEMO}>\r\nSubject: Question {n}\r\n\
             Message-ID: <q{n}@t>\r\n\r\nAre you there?\r\n"
        );
        let mut w = node.spool.create(&format!("Q{n}"));
        w.write(raw.as_bytes()).await.unwrap();
        let message = w.finish().await.unwrap();
        let head_end = raw.find("\r\n\r\n").unwrap() + 4;
        let outcome = writer
            .deliver(DeliveryRequest {
                mailbox: &demo,
                folder: TargetFolder::Inbox,
                trace_prefix: b"",
                message: &message,
                queue_id: "Q",
                reverse_path: from,
                head: &raw.as_bytes()[..head_end],
            })
            .await;
        assert!(
            matches!(outcome, DeliveryOutcome::Delivered { .. }),
            "{outcome:?}"
        );
    }
    let (rcpts, data) = tokio::time::timeout(Duration::from_secs(20), sent.recv())
        .await
        .expect("the contact's reply")
        .unwrap();
    assert_eq!(rcpts, [FRIEND]);
    assert!(
        data.contains("Subject: Automatic reply: Question 1"),
        "{data}"
    );
    // The stranger's mail came first; its reply, were there one, would
    // have had time to go out too.
    let late = tokio::time::timeout(Duration::from_secs(1), sent.recv()).await;
    assert!(late.is_err(), "a stranger was answered: {late:?}");
}
