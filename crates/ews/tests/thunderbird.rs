//! Thunderbird's own EWS client types (the `ews` crate, which serialises
//! exactly Thunderbird's requests and deserialises the answers it
//! accepts) against the module over an in-process exmdb, in the order
//! Thunderbird calls: GetFolder of the well-known folders,
//! SyncFolderHierarchy, SyncFolderItems (IdOnly, 100 at a time), GetItem
//! with properties then with MIME content, UpdateItem for the read state,
//! CreateItem with MIME content, Move/Copy/DeleteItem, folder create,
//! rename and delete, MarkAllItemsAsRead, EmptyFolder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use base64::Engine as _;
use ews::create_folder::CreateFolder;
use ews::create_item::CreateItem;
use ews::delete_folder::DeleteFolder;
use ews::delete_item::DeleteItem;
use ews::empty_folder::EmptyFolder;
use ews::get_folder::GetFolder;
use ews::get_item::GetItem;
use ews::mark_all_read::MarkAllItemsAsRead;
use ews::mark_as_junk::MarkAsJunk;
use ews::move_item::MoveItem;
use ews::server_version::ExchangeServerVersion;
use ews::soap::{Envelope, Header};
use ews::sync_folder_hierarchy::{self, SyncFolderHierarchy};
use ews::sync_folder_items::{self, SyncFolderItems};
use ews::update_item::{ItemChange, ItemChangeDescription, ItemChangeInner, UpdateItem, Updates};
use ews::{
    BaseFolderId, BaseItemId, BaseShape, CopyMoveItemData, DeleteType, Folder, FolderShape,
    ItemShape, Message, MessageDisposition, MimeContent, Operation, OperationResponse,
    PathToElement, RealItem, ResponseClass,
};
use harness::{Harness, Session, message};

type Messages<O> = Vec<ResponseClass<<<O as Operation>::Response as OperationResponse>::Message>>;

/// Sends `op` as Thunderbird serialises it; returns the response messages
/// as Thunderbird's deserialiser reads them.
async fn send<O: Operation>(s: &Session<'_>, op: O) -> Messages<O> {
    let envelope = Envelope {
        headers: vec![Header::RequestServerVersion {
            version: ExchangeServerVersion::Exchange2013_SP1,
        }],
        body: op,
    };
    let request = envelope.as_xml_document().unwrap();
    let (fault, doc) = s.answer(&request).await;
    assert!(
        !fault,
        "fault for {}: {doc}",
        String::from_utf8_lossy(&request)
    );
    let answer = Envelope::<O::Response>::from_xml_document(doc.as_bytes())
        .unwrap_or_else(|e| panic!("Thunderbird cannot read the answer: {e:?}\n{doc}"));
    assert!(
        answer
            .headers
            .iter()
            .any(|h| matches!(h, Header::ServerVersionInfo(_))),
        "{doc}"
    );
    answer.body.into_response_messages()
}

fn success<T: std::fmt::Debug>(r: ResponseClass<T>) -> T {
    match r {
        ResponseClass::Success(t) => t,
        other => panic!("not a success: {other:?}"),
    }
}

fn item_id(item: &RealItem) -> String {
    match item {
        RealItem::Message(m) => m.item_id.as_ref().unwrap().id.clone(),
        other => panic!("not a message: {other:?}"),
    }
}

fn path(uri: &str) -> PathToElement {
    PathToElement::FieldURI {
        field_URI: uri.to_string(),
    }
}

fn folder_name(f: &Folder) -> Option<String> {
    match f {
        Folder::Folder { display_name, .. }
        | Folder::CalendarFolder { display_name, .. }
        | Folder::ContactsFolder { display_name, .. }
        | Folder::SearchFolder { display_name, .. }
        | Folder::TasksFolder { display_name, .. } => display_name.clone(),
    }
}

fn folder_id_of(f: &Folder) -> String {
    match f {
        Folder::Folder { folder_id, .. }
        | Folder::CalendarFolder { folder_id, .. }
        | Folder::ContactsFolder { folder_id, .. }
        | Folder::SearchFolder { folder_id, .. }
        | Folder::TasksFolder { folder_id, .. } => folder_id.as_ref().unwrap().id.clone(),
    }
}

async fn sync_items(
    s: &Session<'_>,
    state: Option<String>,
) -> (String, Vec<sync_folder_items::Change>) {
    let mut state = state;
    let mut changes = Vec::new();
    loop {
        let r = send(
            s,
            SyncFolderItems {
                item_shape: ItemShape {
                    base_shape: BaseShape::IdOnly,
                    ..ItemShape::default()
                },
                sync_folder_id: BaseFolderId::new_distinguished("inbox"),
                sync_state: state.clone(),
                ignore: None,
                max_changes_returned: 100,
                sync_scope: None,
            },
        )
        .await;
        let m = success(r.into_iter().next().unwrap());
        changes.extend(m.changes.inner);
        state = Some(m.sync_state);
        if m.includes_last_item_in_range {
            return (state.unwrap(), changes);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thunderbirds_requests_parse_and_its_client_reads_every_answer() {
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;

    // Connectivity check, then the well-known folders.
    let names = [
        "msgfolderroot",
        "inbox",
        "deleteditems",
        "drafts",
        "outbox",
        "sentitems",
        "junkemail",
        "archive",
    ];
    let r = send(
        &bob,
        GetFolder {
            folder_shape: FolderShape {
                base_shape: BaseShape::IdOnly,
            },
            folder_ids: names
                .iter()
                .map(|n| BaseFolderId::new_distinguished(*n))
                .collect(),
        },
    )
    .await;
    assert_eq!(r.len(), names.len());
    let mut r = r.into_iter();
    for name in &names[..7] {
        let folders = success(r.next().unwrap()).folders.inner;
        assert_eq!(folders.len(), 1, "{name}");
    }
    assert!(matches!(r.next(), Some(ResponseClass::Error(_))));

    // The hierarchy until the last folder is in range.
    let r = send(
        &bob,
        SyncFolderHierarchy {
            folder_shape: FolderShape {
                base_shape: BaseShape::AllProperties,
            },
            sync_folder_id: None,
            sync_state: None,
        },
    )
    .await;
    let m = success(r.into_iter().next().unwrap());
    assert!(m.includes_last_folder_in_range);
    let created: Vec<String> = m
        .changes
        .inner
        .iter()
        .filter_map(|c| match c {
            sync_folder_hierarchy::Change::Create { folder } => folder_name(folder),
            _ => None,
        })
        .collect();
    for n in [
        "Inbox",
        "Drafts",
        "Sent Items",
        "Deleted Items",
        "Outbox",
        "Junk Email",
    ] {
        assert!(created.contains(&n.to_string()), "{n} in {created:?}");
    }

    // New mail, found by SyncFolderItems.
    for s in ["tb-one", "tb-two", "tb-three"] {
        bob.deliver(&message(s, "Tue, 2 Jan 2024 10:00:00 +0000"), 0)
            .await;
    }
    let (state, changes) = sync_items(&bob, None).await;
    let ids: Vec<String> = changes
        .iter()
        .map(|c| match c {
            sync_folder_items::Change::Create { item } => item_id(item),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 3);

    // GetItem with the properties Thunderbird lists, then with MIME content.
    let fields = [
        "message:IsRead",
        "item:HasAttachments",
        "message:InternetMessageId",
        "item:Importance",
        "message:References",
        "message:From",
        "message:Sender",
        "message:ToRecipients",
        "message:CcRecipients",
        "item:Size",
        "item:Subject",
        "item:DateTimeSent",
        "item:DateTimeReceived",
        "item:Preview",
        "item:Flag",
    ];
    let r = send(
        &bob,
        GetItem {
            item_shape: ItemShape {
                base_shape: BaseShape::IdOnly,
                include_mime_content: None,
                additional_properties: Some(fields.iter().map(|f| path(f)).collect()),
            },
            item_ids: ids
                .iter()
                .map(|id| BaseItemId::ItemId {
                    id: id.clone(),
                    change_key: None,
                })
                .collect(),
        },
    )
    .await;
    let mut subjects = Vec::new();
    for m in r {
        let items = success(m).items.inner;
        let RealItem::Message(msg) = &items[0] else {
            panic!("{items:?}")
        };
        subjects.push(msg.subject.clone().unwrap());
        assert_eq!(msg.is_read, Some(false));
        assert_eq!(
            msg.from.as_ref().unwrap().mailbox.email_address,
            Some("alice@remote.test".to_string())
        );
        assert!(msg.size.unwrap() > 50);
        assert!(msg.date_time_received.is_some());
        assert!(msg.internet_message_id.is_some());
    }
    assert_eq!(subjects, ["tb-one", "tb-two", "tb-three"]);
    let r = send(
        &bob,
        GetItem {
            item_shape: ItemShape {
                base_shape: BaseShape::IdOnly,
                include_mime_content: Some(true),
                additional_properties: None,
            },
            item_ids: vec![BaseItemId::ItemId {
                id: ids[0].clone(),
                change_key: None,
            }],
        },
    )
    .await;
    let items = success(r.into_iter().next().unwrap()).items.inner;
    let RealItem::Message(msg) = &items[0] else {
        panic!()
    };
    let mime = base64::engine::general_purpose::STANDARD
        .decode(&msg.mime_content.as_ref().unwrap().content)
        .unwrap();
    assert_eq!(mime, message("tb-one", "Tue, 2 Jan 2024 10:00:00 +0000"));

    // Read state, then the sync reports it.
    let r = send(
        &bob,
        UpdateItem {
            message_disposition: MessageDisposition::SaveOnly,
            conflict_resolution: None,
            item_changes: vec![ItemChange {
                item_change: ItemChangeInner {
                    item_id: BaseItemId::ItemId {
                        id: ids[1].clone(),
                        change_key: None,
                    },
                    updates: Updates {
                        inner: vec![ItemChangeDescription::SetItemField {
                            field_uri: path("message:IsRead"),
                            message: Message {
                                is_read: Some(true),
                                ..Message::default()
                            },
                        }],
                    },
                },
            }],
        },
    )
    .await;
    success(r.into_iter().next().unwrap());
    let (state, changes) = sync_items(&bob, Some(state)).await;
    assert!(
        matches!(
            changes.as_slice(),
            [sync_folder_items::Change::Update { .. }]
        ),
        "{changes:?}"
    );

    // A draft saved from MIME content.
    let raw = message("tb-draft", "Tue, 2 Jan 2024 11:00:00 +0000");
    let r = send(
        &bob,
        CreateItem {
            message_disposition: Some(MessageDisposition::SaveOnly),
            saved_item_folder_id: Some(BaseFolderId::new_distinguished("drafts")),
            items: vec![RealItem::Message(Message {
                mime_content: Some(MimeContent {
                    character_set: None,
                    content: base64::engine::general_purpose::STANDARD.encode(&raw),
                }),
                ..Message::default()
            })],
        },
    )
    .await;
    let draft = item_id(&success(r.into_iter().next().unwrap()).items.inner[0]);

    // Move, then delete.
    let r = send(
        &bob,
        MoveItem {
            inner: CopyMoveItemData {
                to_folder_id: BaseFolderId::new_distinguished("junkemail"),
                item_ids: vec![BaseItemId::ItemId {
                    id: ids[2].clone(),
                    change_key: None,
                }],
                return_new_item_ids: None,
            },
        },
    )
    .await;
    let moved = item_id(&success(r.into_iter().next().unwrap()).items.inner[0]);
    let r = send(
        &bob,
        DeleteItem {
            delete_type: DeleteType::HardDelete,
            send_meeting_cancellations: None,
            affected_task_occurrences: None,
            suppress_read_receipts: None,
            item_ids: vec![
                BaseItemId::ItemId {
                    id: moved,
                    change_key: None,
                },
                BaseItemId::ItemId {
                    id: draft,
                    change_key: None,
                },
            ],
        },
    )
    .await;
    assert_eq!(r.len(), 2);
    for m in r {
        success(m);
    }
    let (state, changes) = sync_items(&bob, Some(state)).await;
    assert!(
        matches!(
            changes.as_slice(),
            [sync_folder_items::Change::Delete { .. }]
        ),
        "{changes:?}"
    );

    // Junk: moved to Junk Email and back.
    let (_, now) = sync_items(&bob, Some(state.clone())).await;
    assert!(now.is_empty(), "{now:?}");
    let r = send(
        &bob,
        MarkAsJunk {
            is_junk: true,
            move_item: true,
            item_ids: vec![BaseItemId::ItemId {
                id: ids[0].clone(),
                change_key: None,
            }],
        },
    )
    .await;
    let in_junk = success(r.into_iter().next().unwrap()).moved_item_id.id;
    assert_ne!(in_junk, ids[0]);
    let r = send(
        &bob,
        MarkAsJunk {
            is_junk: false,
            move_item: true,
            item_ids: vec![BaseItemId::ItemId {
                id: in_junk,
                change_key: None,
            }],
        },
    )
    .await;
    success(r.into_iter().next().unwrap());
    let (state, changes) = sync_items(&bob, Some(state)).await;
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| match c {
            sync_folder_items::Change::Create { .. } => "create",
            sync_folder_items::Change::Delete { .. } => "delete",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["create", "delete"], "{changes:?}");

    // Folder create and delete.
    let r = send(
        &bob,
        CreateFolder {
            parent_folder_id: BaseFolderId::new_distinguished("inbox"),
            folders: vec![Folder::Folder {
                folder_id: None,
                parent_folder_id: None,
                folder_class: Some("IPF.Note".into()),
                display_name: Some("From Thunderbird".into()),
                total_count: None,
                child_folder_count: None,
                extended_property: None,
                unread_count: None,
            }],
        },
    )
    .await;
    let created = success(r.into_iter().next().unwrap()).folders.inner;
    let new_folder = folder_id_of(&created[0]);
    let r = send(
        &bob,
        DeleteFolder {
            delete_type: DeleteType::HardDelete,
            folder_ids: vec![BaseFolderId::new_folder(new_folder)],
        },
    )
    .await;
    success(r.into_iter().next().unwrap());

    // Mark all read, then empty the inbox.
    let r = send(
        &bob,
        MarkAllItemsAsRead {
            read_flag: true,
            suppress_read_receipts: true,
            folder_ids: vec![BaseFolderId::new_distinguished("inbox")],
        },
    )
    .await;
    success(r.into_iter().next().unwrap());
    let r = send(
        &bob,
        EmptyFolder {
            delete_type: DeleteType::HardDelete,
            delete_sub_folders: false,
            folder_ids: vec![BaseFolderId::new_distinguished("inbox")],
        },
    )
    .await;
    success(r.into_iter().next().unwrap());
    let (_, changes) = sync_items(&bob, Some(state)).await;
    let deletes = changes
        .iter()
        .filter(|c| matches!(c, sync_folder_items::Change::Delete { .. }))
        .count();
    assert_eq!(deletes, 2, "{changes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thunderbirds_paged_find_item_reads_every_page_from_either_end() {
    use ews::find_item::{FindItem, Traversal};
    use ews::{BasePoint, View};
    let h = Harness::start().await;
    let bob = h.user("bob@example.test").await;
    for i in 0..7 {
        bob.deliver(
            &message(&format!("page {i}"), "Mon, 1 Jan 2024 09:00:00 +0000"),
            1_700_000_000 + i,
        )
        .await;
    }
    let page = |offset: usize, base_point: BasePoint| FindItem {
        traversal: Traversal::Shallow,
        item_shape: ItemShape {
            base_shape: BaseShape::IdOnly,
            ..ItemShape::default()
        },
        view: Some(View::IndexedPageItemView {
            max_entries_returned: Some(3),
            base_point,
            offset,
        }),
        parent_folder_ids: vec![BaseFolderId::new_distinguished("inbox")],
    };
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let r = send(&bob, page(offset, BasePoint::Beginning)).await;
        let root = success(r.into_iter().next().unwrap()).root_folder;
        assert_eq!(root.total_items_in_view, Some(7));
        let ids: Vec<String> = root.items.inner.iter().map(item_id).collect();
        assert!(ids.len() <= 3);
        seen.extend(ids);
        offset = root.indexed_paging_offset.unwrap();
        if root.includes_last_item_in_range == Some(true) {
            break;
        }
    }
    assert_eq!(seen.len(), 7);
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 7);
    // From the end: the oldest three, the last page of the view.
    let r = send(&bob, page(0, BasePoint::End)).await;
    let root = success(r.into_iter().next().unwrap()).root_folder;
    let ids: Vec<String> = root.items.inner.iter().map(item_id).collect();
    assert_eq!(ids, seen[4..]);
    assert_eq!(root.includes_last_item_in_range, Some(false));
}
