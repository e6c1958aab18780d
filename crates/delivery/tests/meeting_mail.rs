//! Meeting mail delivered into real stores (an in-process groxide-exmdb):
//! a REQUEST reaches the attendee's calendar as tentative and is updated
//! only by a newer one, the attendee's REPLY reaches the organizer's event,
//! a stranger's REPLY and a malformed calendar part change no calendar —
//! and every one of them is delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use groxide_delivery::exmdb_mailboxes::ExmdbMailboxes;
use groxide_delivery::meeting_mail::MeetingMail;
use groxide_delivery::{
    DeliveryOutcome, DeliveryRequest, Mailbox, MailboxWriter, Spool, TargetFolder,
};
use groxide_mapi::lids;
use groxide_pim::ResponseStatus;
use groxide_pim::ical::import::{ImportOptions, parse_calendar};
use groxide_rpc::ClientOptions;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::items::{ItemInfo, Precondition, PutTarget};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_runtime::Routing;
use groxide_testkit::{InProcess, LocalNode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const BOSS: &str = "boss@example.test";
const DEMO: &str = "demo@example.test";

struct Node {
    _local: LocalNode,
    _exmdb: InProcess<groxide_config::Exmdb>,
    data: tempfile::TempDir,
    spool: Spool,
    client: Arc<ExmdbClient>,
    writer: MeetingMail<ExmdbMailboxes>,
}

impl Node {
    async fn start() -> Node {
        let local = LocalNode::new();
        let exmdb = local
            .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
            .await;
        let routing = Routing::load(&exmdb.config(), None).unwrap();
        let client = Arc::new(ExmdbClient::new(
            routing.exmdb().clone(),
            ClientOptions::default(),
        ));
        let data = tempfile::tempdir().unwrap();
        let spool = Spool::open(&data.path().join("spool")).unwrap();
        Node {
            _local: local,
            _exmdb: exmdb,
            spool,
            writer: MeetingMail::new(ExmdbMailboxes::new(client.clone()), client.clone(), 1 << 20),
            client,
            data,
        }
    }

    async fn user(&self, name: &str) -> Mailbox {
        let dir = self.data.path().join(name).to_string_lossy().into_owned();
        self.client
            .create_store(pb::CreateStoreRequest {
                dir: dir.clone(),
                r#type: pb::StoreType::Private as i32,
                owner: name.into(),
                lang: String::new(),
                quota_bytes: 0,
            })
            .await
            .unwrap();
        Mailbox {
            user: name.into(),
            dir,
        }
    }

    /// Delivers `raw` from `from` to `to`'s Inbox; the new message's id.
    async fn deliver(&self, to: &Mailbox, from: &str, raw: &str) -> u64 {
        let mut w = self.spool.create("Q1");
        w.write(raw.as_bytes()).await.unwrap();
        let message = w.finish().await.unwrap();
        let head_end = raw.find("\r\n\r\n").map_or(raw.len(), |i| i + 4);
        let outcome = self
            .writer
            .deliver(DeliveryRequest {
                mailbox: to,
                folder: TargetFolder::Inbox,
                trace_prefix: b"",
                message: &message,
                queue_id: "Q1",
                reverse_path: from,
                head: &raw.as_bytes()[..head_end],
            })
            .await;
        match outcome {
            DeliveryOutcome::Delivered {
                message_id: Some(id),
                ..
            } => id,
            other => panic!("not delivered: {other:?}"),
        }
    }

    async fn calendar(&self, who: &Mailbox) -> Vec<ItemInfo> {
        self.client
            .list_items(&who.dir, folder_role("calendar"))
            .await
            .unwrap()
            .0
    }

    async fn class_of(&self, who: &Mailbox, message_id: u64) -> String {
        let m = self
            .client
            .read_message(pb::MessageRequest {
                dir: who.dir.clone(),
                message_id,
            })
            .await
            .unwrap();
        m.props
            .iter()
            .filter_map(|p| groxide_rpc::items::prop_from_pb(p).ok())
            .find(|(tag, _)| *tag == groxide_mapi::tags::PR_MESSAGE_CLASS)
            .and_then(|(_, v)| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

fn event(method: Option<&str>, sequence: i64, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{}\
         BEGIN:VEVENT\r\nUID:meet-7@example.test\r\nSEQUENCE:{sequence}\r\n\
         DTSTAMP:20261201T090000Z\r\nDTSTART:20261215T140000Z\r\nDTEND:20261215T150000Z\r\n\
         SUMMARY:{summary}\r\nORGANIZER;CN=Boss:mailto:{BOSS}\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{DEMO}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        method
            .map(|m| format!("METHOD:{m}\r\n"))
            .unwrap_or_default()
    )
}

fn reply(attendee: &str, partstat: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n\
         UID:meet-7@example.test\r\nSEQUENCE:0\r\nDTSTAMP:20261201T100000Z\r\n\
         ORGANIZER:mailto:{BOSS}\r\nATTENDEE;PARTSTAT={partstat}:mailto:{attendee}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// An Outlook-shaped invitation: text and calendar alternatives.
fn mail(from: &str, to: &str, method: &str, ics: &str) -> String {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: Planning\r\nMessage-ID: <{}@t>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nJoin us.\r\n\
         --b\r\nContent-Type: text/calendar; charset=utf-8; method={method}\r\n\r\n{ics}\
         --b--\r\n",
        NEXT_ID.fetch_add(1, Ordering::Relaxed)
    )
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

async fn item_of(node: &Node, who: &Mailbox, info: &ItemInfo) -> groxide_pim::Item {
    node.client
        .get_item(&who.dir, info.message_id)
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn a_request_reaches_the_attendees_calendar_and_only_newer_ones_change_it() {
    let node = Node::start().await;
    let demo = node.user(DEMO).await;
    let ics = event(Some("REQUEST"), 1, "Planning");
    let mid = node
        .deliver(&demo, BOSS, &mail(BOSS, DEMO, "REQUEST", &ics))
        .await;
    assert_eq!(
        node.class_of(&demo, mid).await,
        "IPM.Schedule.Meeting.Request"
    );
    let cal = node.calendar(&demo).await;
    assert_eq!(cal.len(), 1);
    assert_eq!(cal[0].item_uid, "meet-7@example.test");
    let item = item_of(&node, &demo, &cal[0]).await;
    assert_eq!(item.int(&lids::PID_LID_BUSY_STATUS), Some(1), "tentative");
    assert_eq!(
        item.int(&lids::PID_LID_RESPONSE_STATUS),
        Some(i64::from(ResponseStatus::NotResponded.code()))
    );

    // The same request again, and an older one: nothing changes.
    for old in [1, 0] {
        let ics = event(Some("REQUEST"), old, "Stale");
        node.deliver(&demo, BOSS, &mail(BOSS, DEMO, "REQUEST", &ics))
            .await;
        assert_eq!(node.calendar(&demo).await, cal, "SEQUENCE {old}");
    }

    // A newer one updates the same item in place, with a new change number.
    let ics = event(Some("REQUEST"), 2, "Moved");
    node.deliver(&demo, BOSS, &mail(BOSS, DEMO, "REQUEST", &ics))
        .await;
    let now = node.calendar(&demo).await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].message_id, cal[0].message_id);
    assert!(now[0].change_number > cal[0].change_number);
    let item = item_of(&node, &demo, &now[0]).await;
    assert_eq!(item.str(groxide_mapi::tags::PR_SUBJECT), Some("Moved"));

    // The organizer calls it off.
    let ics = event(Some("CANCEL"), 3, "Moved");
    let mid = node
        .deliver(&demo, BOSS, &mail(BOSS, DEMO, "CANCEL", &ics))
        .await;
    assert_eq!(
        node.class_of(&demo, mid).await,
        "IPM.Schedule.Meeting.Canceled"
    );
    let item = item_of(&node, &demo, &node.calendar(&demo).await[0]).await;
    assert_eq!(
        item.int(&lids::PID_LID_APPOINTMENT_STATE_FLAGS)
            .map(|f| f & 0x4),
        Some(0x4)
    );
}

#[tokio::test]
async fn a_reply_reaches_the_organizers_event_but_a_strangers_does_not() {
    let node = Node::start().await;
    let boss = node.user(BOSS).await;
    let own = event(None, 0, "Planning");
    let opts = ImportOptions {
        owner: Some(BOSS.into()),
        ..ImportOptions::default()
    };
    let item = parse_calendar(own.as_bytes(), &opts)
        .items
        .remove(0)
        .unwrap();
    node.client
        .put_item(
            &boss.dir,
            folder_role("calendar"),
            &item,
            PutTarget::New,
            Precondition::None,
        )
        .await
        .unwrap();
    let demo_answer = |item: &groxide_pim::Item| {
        item.recipients
            .iter()
            .find(|r| r.address == DEMO)
            .map(|r| r.response)
    };

    // A stranger answers in the attendee's name, and in its own.
    for (from, attendee) in [
        ("mallory@evil.test", DEMO),
        ("mallory@evil.test", "mallory@evil.test"),
    ] {
        node.deliver(
            &boss,
            from,
            &mail(from, BOSS, "REPLY", &reply(attendee, "DECLINED")),
        )
        .await;
        let cal = node.calendar(&boss).await;
        let item = item_of(&node, &boss, &cal[0]).await;
        assert_eq!(demo_answer(&item), Some(ResponseStatus::NotResponded));
    }

    let mid = node
        .deliver(
            &boss,
            DEMO,
            &mail(DEMO, BOSS, "REPLY", &reply(DEMO, "ACCEPTED")),
        )
        .await;
    assert_eq!(
        node.class_of(&boss, mid).await,
        "IPM.Schedule.Meeting.Resp.Pos"
    );
    let cal = node.calendar(&boss).await;
    assert_eq!(cal.len(), 1);
    let item = item_of(&node, &boss, &cal[0]).await;
    assert_eq!(demo_answer(&item), Some(ResponseStatus::Accepted));
}

#[tokio::test]
async fn a_malformed_calendar_part_is_delivered_as_plain_mail() {
    let node = Node::start().await;
    let demo = node.user(DEMO).await;
    let broken = event(Some("REQUEST"), 0, "x")
        .replace("DTSTART:20261215T140000Z", "DTSTART:next tuesday")
        .replace("END:VCALENDAR\r\n", "");
    for ics in [
        broken.as_str(),
        "garbage\r\n",
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n",
    ] {
        let mid = node
            .deliver(&demo, BOSS, &mail(BOSS, DEMO, "REQUEST", ics))
            .await;
        assert_eq!(node.class_of(&demo, mid).await, "IPM.Note", "{ics}");
    }
    assert!(node.calendar(&demo).await.is_empty());
}
