//! Reads of selected parts of messages (`messages_selected`): exactly the
//! asked tags, with the values of a full read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_store::tags::*;
use groxide_store::*;

/// A MAPI message with recipients, an attachment, stored flag-mapped
/// values and a body; a MIME message with flags and a keyword (bodies
/// derived from its content); a MIME message with an HTML part.
fn three_messages(s: &TempStore) -> Vec<MessageId> {
    let mapi = MapiMessage {
        props: vec![
            (PR_SUBJECT, PropValue::Unicode("Lunch".into())),
            (PR_BODY, PropValue::Unicode("At noon?".into())),
            (
                PR_SENT_REPRESENTING_NAME,
                PropValue::Unicode("Alice".into()),
            ),
            (PR_IMPORTANCE, PropValue::Long(2)),
            (PR_MESSAGE_FLAGS, PropValue::Long(MSGFLAG_READ)),
            (PR_FLAG_STATUS, PropValue::Long(FOLLOWUP_COMPLETE)),
        ],
        recipients: vec![vec![
            (PR_RECIPIENT_TYPE, PropValue::Long(MAPI_TO)),
            (PR_DISPLAY_NAME, PropValue::Unicode("Bob".into())),
        ]],
        attachments: vec![MapiAttachment {
            props: vec![(
                PR_ATTACH_LONG_FILENAME,
                PropValue::Unicode("menu.txt".into()),
            )],
            content: b"soup\r\n".to_vec(),
        }],
    };
    let a = s
        .store
        .insert_mapi(FolderRole::Drafts, mapi, NewMessage::default())
        .unwrap();
    // Replied to all, then forwarded: the icon follows the stored verb, so
    // a read of the icon alone needs that row too.
    s.store
        .set_message_props(
            a.message_id,
            vec![(PR_LAST_VERB_EXECUTED, PropValue::Long(EXCHIVERB_REPLYTOALL))],
            vec![],
        )
        .unwrap();
    s.store
        .set_flags(
            FolderRole::Drafts,
            vec![UidRange::ALL],
            FlagOp::Add,
            ImapFlags::FORWARDED,
            vec![],
            None,
        )
        .unwrap();
    let b = insert(&s.store, FolderRole::Inbox, &message(1));
    s.store
        .set_flags(
            FolderRole::Inbox,
            vec![UidRange::ALL],
            FlagOp::Add,
            ImapFlags::SEEN.union(ImapFlags::ANSWERED),
            vec!["$label1".into()],
            None,
        )
        .unwrap();
    let html = b"From: Bob <bob@example.com>\r\nTo: Alice <alice@example.org>\r\n\
        Subject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
        <p>Hello <b>you</b></p>\r\n";
    let c = insert(&s.store, FolderRole::Inbox, html);
    vec![a.message_id, b.message_id, c.message_id]
}

fn only(tags: &[PropTag], bodies: bool) -> MessageSelection {
    MessageSelection {
        tags: Some(tags.to_vec()),
        recipients: false,
        attachments: false,
        bodies,
    }
}

#[test]
fn a_selected_read_returns_exactly_the_asked_tags_with_the_full_reads_values() {
    let s = private_store();
    let ids = three_messages(&s);
    for bodies in [false, true] {
        let full = s.store.messages(&ids, bodies).unwrap();
        let every_tag: Vec<PropTag> = {
            let mut t: Vec<PropTag> = full
                .iter()
                .flat_map(|m| m.props.iter().map(|(t, _)| *t))
                .collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        assert!(every_tag.contains(&PR_ICON_INDEX) && every_tag.contains(&PR_BODY));
        assert_eq!(
            prop(&full[0].props, PR_ICON_INDEX),
            Some(&PropValue::Long(ICON_MAIL_REPLIED)),
            "the stored verb decides the icon"
        );
        let mut selections: Vec<Vec<PropTag>> = every_tag.iter().map(|t| vec![*t]).collect();
        selections.extend([
            vec![],
            vec![PR_SUBJECT, PR_HASATTACH, PR_SENT_REPRESENTING_NAME],
            vec![PR_MESSAGE_FLAGS, PR_FLAG_STATUS, PR_SUBJECT],
            vec![PR_LAST_VERB_EXECUTED, PR_MESSAGE_SIZE_EXTENDED],
            vec![PR_BODY],
            vec![PR_HTML],
            vec![PR_BODY, PR_HTML, PR_IMPORTANCE],
            // A tag no message has.
            vec![PR_DISPLAY_BCC],
            every_tag.clone(),
        ]);
        for asked in selections {
            let got = s
                .store
                .messages_selected(&ids, &only(&asked, bodies))
                .unwrap();
            assert_eq!(got.len(), full.len());
            for (g, f) in got.iter().zip(&full) {
                let expected: Vec<Prop> = f
                    .props
                    .iter()
                    .filter(|(t, _)| asked.contains(t))
                    .cloned()
                    .collect();
                assert_eq!(
                    g.props, expected,
                    "message {} asked {asked:?} bodies {bodies}",
                    f.entry.message_id
                );
                assert_eq!(
                    (&g.entry, g.folder, g.origin),
                    (&f.entry, f.folder, f.origin)
                );
                assert!(g.recipients.is_empty() && g.attachments.is_empty());
            }
        }
    }
}

#[test]
fn recipients_and_attachments_are_read_only_when_asked() {
    let s = private_store();
    let ids = three_messages(&s);
    let full = s.store.messages(&ids, false).unwrap();
    assert_eq!(full[0].recipients.len(), 1);
    assert_eq!(full[0].attachments.len(), 1);
    for (recipients, attachments) in [(true, false), (false, true), (true, true)] {
        let sel = MessageSelection {
            tags: Some(vec![PR_SUBJECT]),
            recipients,
            attachments,
            bodies: false,
        };
        let got = s.store.messages_selected(&ids, &sel).unwrap();
        for (g, f) in got.iter().zip(&full) {
            if recipients {
                assert_eq!(g.recipients, f.recipients);
            } else {
                assert!(g.recipients.is_empty());
            }
            if attachments {
                assert_eq!(g.attachments, f.attachments);
            } else {
                assert!(g.attachments.is_empty());
            }
        }
    }
}

#[test]
fn selecting_everything_is_the_full_read_and_missing_ids_are_left_out() {
    let s = private_store();
    let mut ids = three_messages(&s);
    ids.insert(1, MessageId(999_999));
    for bodies in [false, true] {
        let full = s.store.messages(&ids, bodies).unwrap();
        assert_eq!(full.len(), 3);
        let all = s
            .store
            .messages_selected(&ids, &MessageSelection::everything(bodies))
            .unwrap();
        assert_eq!(all, full);
        let none = s.store.messages_selected(&ids, &only(&[], bodies)).unwrap();
        let got: Vec<MessageId> = none.iter().map(|m| m.entry.message_id).collect();
        let want: Vec<MessageId> = full.iter().map(|m| m.entry.message_id).collect();
        assert_eq!(got, want);
        assert!(none.iter().all(|m| m.props.is_empty()));
    }
}

#[test]
fn bodies_are_derived_only_when_a_body_is_asked() {
    let s = private_store();
    let ids = three_messages(&s);
    let full = s.store.messages(&ids, true).unwrap();
    let html = prop(&full[2].props, PR_HTML).cloned();
    assert!(html.is_some(), "the HTML message has a derived PR_HTML");
    let got = s
        .store
        .messages_selected(&ids, &only(&[PR_HTML], true))
        .unwrap();
    assert_eq!(prop(&got[2].props, PR_HTML).cloned(), html);
    // Not asked for a body: none derived, however `bodies` is set.
    let got = s
        .store
        .messages_selected(&ids, &only(&[PR_SUBJECT], true))
        .unwrap();
    assert!(got.iter().all(|m| prop(&m.props, PR_BODY).is_none()));
}
