//! Meeting mail delivered into real stores (an in-process groxide-exmdb):
//! a REQUEST reaches the attendee's calendar as tentative and is updated
//! only by a newer one, the attendee's REPLY reaches the organizer's event,
//! a stranger's REPLY and a malformed calendar part change no calendar —
//! and every one of them is delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use groxide_delivery::exmdb_mailboxes::ExmdbMailboxes;
use groxide_delivery::meeting_mail::MeetingMail;
use groxide_delivery::{DeliveryOutcome, DeliveryRequest, Mailbox, MailboxWriter, TargetFolder};
use groxide_mapi::lids;
use groxide_pim::ResponseStatus;
use groxide_pim::ical::import::{ImportOptions, parse_calendar};
use groxide_rpc::exmdb_client::folder_role;
use groxide_rpc::items::{ItemInfo, Precondition, PutTarget};
use groxide_rpc::pb::exmdb::v1 as pb;
use std::sync::atomic::{AtomicUsize, Ordering};

const BOSS: &str = "boss@example.test";
const DEMO: &str = "demo@example.test";

mod common;
use common::StoreNode;

struct Node {
    store: StoreNode,
    writer: MeetingMail<ExmdbMailboxes>,
}

impl std::ops::Deref for Node {
    type Target = StoreNode;
    fn deref(&self) -> &StoreNode {
        &self.store
    }
}

impl Node {
    async fn start() -> Node {
        let store = StoreNode::start().await;
        let client = store.client.clone();
        Node {
            writer: MeetingMail::new(ExmdbMailboxes::new(client.clone()), client, 1 << 20),
            store,
        }
    }

    async fn user(&self, name: &str) -> Mailbox {
        let dir = self.create_store(name).await;
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

fn weekly(ics: &str) -> String {
    ics.replace(
        "DTEND:20261215T150000Z\r\n",
        "DTEND:20261215T150000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n",
    )
}

/// `ics` as a message about the occurrence of 22 December only.
fn on_the_22nd(ics: &str) -> String {
    ics.replacen(
        "UID:meet-7@example.test\r\n",
        "UID:meet-7@example.test\r\nRECURRENCE-ID:20261222T140000Z\r\n",
        1,
    )
}

fn starts_at(item: &groxide_pim::Item, day: u32, hour: u32) -> bool {
    // 2026-12-01T00:00:00Z.
    const DECEMBER: i64 = 1_796_083_200;
    let at = DECEMBER + i64::from(day - 1) * 86_400 + i64::from(hour) * 3_600;
    groxide_pim::recur::mapi::occurs_in(item, at, at + 60, &groxide_pim::recur::Zone::Utc)
}

fn original(item: &groxide_pim::Item) -> String {
    String::from_utf8(item.original.clone().unwrap_or_default())
        .unwrap()
        .replace("\r\n ", "")
}

#[tokio::test]
async fn a_request_for_one_occurrence_moves_only_that_occurrence_of_the_attendees_series() {
    let node = Node::start().await;
    let demo = node.user(DEMO).await;
    let series = weekly(&event(Some("REQUEST"), 0, "Weekly"));
    node.deliver(&demo, BOSS, &mail(BOSS, DEMO, "REQUEST", &series))
        .await;
    let before = node.calendar(&demo).await;
    assert_eq!(before.len(), 1);

    let moved = on_the_22nd(&event(Some("REQUEST"), 1, "Moved"))
        .replace("DTSTART:20261215T140000Z", "DTSTART:20261222T160000Z")
        .replace("DTEND:20261215T150000Z", "DTEND:20261222T170000Z");
    let mid = node
        .deliver(&demo, BOSS, &mail(BOSS, DEMO, "REQUEST", &moved))
        .await;
    assert_eq!(
        node.class_of(&demo, mid).await,
        "IPM.Schedule.Meeting.Request"
    );
    let after = node.calendar(&demo).await;
    assert_eq!(after.len(), 1, "the same series, no second item");
    assert_eq!(after[0].message_id, before[0].message_id);
    assert!(after[0].change_number > before[0].change_number);
    let item = item_of(&node, &demo, &after[0]).await;
    assert_eq!(item.str(groxide_mapi::tags::PR_SUBJECT), Some("Weekly"));
    assert!(starts_at(&item, 15, 14));
    assert!(starts_at(&item, 22, 16));
    assert!(!starts_at(&item, 22, 14));
    assert!(starts_at(&item, 29, 14));

    // Redelivered, or from someone else: nothing changes.
    node.deliver(&demo, BOSS, &mail(BOSS, DEMO, "REQUEST", &moved))
        .await;
    let other = moved.replace("SEQUENCE:1", "SEQUENCE:5");
    node.deliver(
        &demo,
        "mallory@evil.test",
        &mail("mallory@evil.test", DEMO, "REQUEST", &other),
    )
    .await;
    assert_eq!(node.calendar(&demo).await, after);
}

/// Added to one meeting of a series only: the attendee's calendar gets
/// that meeting as a single appointment (it used to get nothing), and the
/// organizer's cancellation of it cancels it.
#[tokio::test]
async fn a_request_for_one_occurrence_of_a_series_the_attendee_lacks_is_one_appointment() {
    let node = Node::start().await;
    let demo = node.user(DEMO).await;
    let only = on_the_22nd(&event(Some("REQUEST"), 1, "This week only"))
        .replace("DTSTART:20261215T140000Z", "DTSTART:20261222T160000Z")
        .replace("DTEND:20261215T150000Z", "DTEND:20261222T170000Z");
    let mid = node
        .deliver(&demo, BOSS, &mail(BOSS, DEMO, "REQUEST", &only))
        .await;
    assert_eq!(
        node.class_of(&demo, mid).await,
        "IPM.Schedule.Meeting.Request"
    );
    let cal = node.calendar(&demo).await;
    assert_eq!(cal.len(), 1, "the occurrence is in the calendar");
    let item = item_of(&node, &demo, &cal[0]).await;
    assert_eq!(
        item.str(groxide_mapi::tags::PR_SUBJECT),
        Some("This week only")
    );
    assert!(starts_at(&item, 22, 16));
    assert!(!starts_at(&item, 15, 14) && !starts_at(&item, 29, 14));

    let cancel = only
        .replace("METHOD:REQUEST", "METHOD:CANCEL")
        .replace("SEQUENCE:1", "SEQUENCE:2\r\nSTATUS:CANCELLED");
    node.deliver(&demo, BOSS, &mail(BOSS, DEMO, "CANCEL", &cancel))
        .await;
    let cal = node.calendar(&demo).await;
    assert_eq!(cal.len(), 1);
    let item = item_of(&node, &demo, &cal[0]).await;
    let flags = item
        .int(&lids::PID_LID_APPOINTMENT_STATE_FLAGS)
        .unwrap_or(0);
    assert_eq!(flags & 0x4, 0x4, "cancelled");
}

#[tokio::test]
async fn a_reply_for_one_occurrence_answers_only_that_occurrence_of_the_organizers_series() {
    let node = Node::start().await;
    let boss = node.user(BOSS).await;
    let own = weekly(&event(None, 0, "Weekly"));
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

    // A stranger answers the occurrence in the attendee's name.
    let declined = on_the_22nd(&reply(DEMO, "DECLINED"));
    node.deliver(
        &boss,
        "mallory@evil.test",
        &mail("mallory@evil.test", BOSS, "REPLY", &declined),
    )
    .await;
    let item = item_of(&node, &boss, &node.calendar(&boss).await[0]).await;
    assert!(!original(&item).contains("RECURRENCE-ID"));

    let mid = node
        .deliver(&boss, DEMO, &mail(DEMO, BOSS, "REPLY", &declined))
        .await;
    assert_eq!(
        node.class_of(&boss, mid).await,
        "IPM.Schedule.Meeting.Resp.Neg"
    );
    let cal = node.calendar(&boss).await;
    assert_eq!(cal.len(), 1);
    let item = item_of(&node, &boss, &cal[0]).await;
    // The series' answer stays; the 22nd carries the decline.
    let demo = item.recipients.iter().find(|r| r.address == DEMO).unwrap();
    assert_eq!(demo.response, ResponseStatus::NotResponded);
    let ics = original(&item);
    let block = ics
        .split("BEGIN:VEVENT")
        .find(|b| b.contains("RECURRENCE-ID:20261222T140000Z"))
        .unwrap_or_else(|| panic!("no override: {ics}"));
    assert!(
        block.contains(&format!("PARTSTAT=DECLINED:mailto:{DEMO}")),
        "{block}"
    );
    assert!(block.contains("DTSTART:20261222T140000Z"), "{block}");
    assert!(starts_at(&item, 22, 14), "the occurrence stays booked");
}
