//! Item operations over calendar, contacts and tasks folders: FindItem
//! (with `CalendarView`: series expanded into their instances), GetItem
//! (items and occurrences), CreateItem, UpdateItem, DeleteItem and
//! SyncFolderItems. Each entry point looks at the folder (or first id) a
//! request names and hands requests over mail folders to the mail
//! operations.

use super::meeting::{self, Invitations};
use super::{item, list_of, refuse, sync};
use crate::groupware::{
    Owner, Stored, element_name, find_instance, instances, is_groupware, item_from_element,
    new_uid, write_item,
};
use crate::ids::{GroupwareRound, GroupwareSyncState, ItemKey, OccurrenceKey};
use crate::items::{FieldSet, ItemKind, MessageItem, parse_date_time, write_message};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::restriction::{ItemValues, PageView, Path, Restriction, SortOrder, Value};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter, parse};
use groxide_pim::Item;
use groxide_pim::recur::expand::Instance;
use groxide_rpc::items::{Precondition, PutTarget};
use groxide_rpc::pb::exmdb::v1 as pb;

/// Most instances one CalendarView returns when the request sets no limit.
const MAX_VIEW: usize = 1000;

fn selector(folder: u64) -> pb::FolderSelector {
    pb::FolderSelector {
        folder: Some(pb::folder_selector::Folder::Id(folder)),
    }
}

/// Whether `op`'s first `{list}` child names a groupware folder.
async fn names_groupware_folder(mb: &mut Mailbox<'_>, op: &Element, list: &str) -> bool {
    let Some(first) = op.m(list).and_then(|l| l.children.first()) else {
        return false;
    };
    match mb.resolve_folder(first).await {
        Ok(f) => is_groupware(ItemKind::of_container_class(&f.container_class)),
        Err(_) => false,
    }
}

/// Whether an `ItemId` names an occurrence or an item of a groupware folder.
async fn is_groupware_id(mb: &mut Mailbox<'_>, id: &Element) -> bool {
    let text = id.attr("Id").unwrap_or_default();
    if OccurrenceKey::decode(text).is_ok() || id.name == "OccurrenceItemId" {
        return true;
    }
    match ItemKey::decode(text) {
        Ok(k) => mb.kind_of(k.folder).await.is_ok_and(is_groupware),
        Err(_) => false,
    }
}

/// A groupware item as a restriction or sort reads it.
struct WareView<'a>(&'a Item);

impl ItemValues for WareView<'_> {
    fn value(&self, path: Path) -> Option<Value> {
        use groxide_mapi::lids;
        use groxide_mapi::tags;
        let i = self.0;
        let time = |tag| i.time(tag).map(Value::Time);
        match path {
            Path::Subject => Some(Value::Text(
                i.str(tags::PR_SUBJECT).unwrap_or_default().to_string(),
            )),
            Path::Received => time(tags::PR_MESSAGE_DELIVERY_TIME)
                .or_else(|| time(tags::PR_CREATION_TIME))
                .or_else(|| time(tags::PR_LAST_MODIFICATION_TIME)),
            Path::Created => time(tags::PR_CREATION_TIME),
            Path::Modified => time(tags::PR_LAST_MODIFICATION_TIME),
            Path::Importance => Some(Value::Int(i.int(tags::PR_IMPORTANCE).unwrap_or(1))),
            Path::HasAttachments => Some(Value::Bool(i.bool(tags::PR_HASATTACH).unwrap_or(false))),
            Path::ItemClass => Some(Value::Text(i.class.message_class().to_string())),
            Path::Start => i
                .time(&lids::PID_LID_APPOINTMENT_START_WHOLE)
                .map(Value::Time),
            Path::End => i
                .time(&lids::PID_LID_APPOINTMENT_END_WHOLE)
                .map(Value::Time),
            Path::DisplayName => i
                .str(tags::PR_DISPLAY_NAME)
                .map(|n| Value::Text(n.to_string())),
            // Read state, flags, size and senders are mail's.
            Path::From
            | Path::Sent
            | Path::IsRead
            | Path::Size
            | Path::Flagged
            | Path::InternetMessageId => None,
        }
    }
}

/// A groupware item read for an answer.
struct Loaded {
    stored: Stored,
    item: Item,
    occurrence: Option<Instance>,
}

enum Found {
    Mail(Box<MessageItem>),
    Ware(Loaded),
}

/// The item (or occurrence) an `ItemId`/`OccurrenceItemId` names.
async fn load(mb: &mut Mailbox<'_>, id: &Element, owner: &Owner) -> Result<Loaded, EwsError> {
    if id.name == "OccurrenceItemId" {
        let master = ItemKey::decode(id.attr("RecurringMasterId").unwrap_or_default())?;
        mb.check_store(master.store).await?;
        let index: usize = id
            .attr("InstanceIndex")
            .and_then(|i| i.parse().ok())
            .filter(|i| *i >= 1)
            .ok_or_else(|| EwsError::invalid("InstanceIndex must be 1 or more"))?;
        let (info, item) = mb.read_item(&master).await?;
        let stored = Stored {
            key: master,
            change_number: info.change_number,
        };
        let start = item
            .time(&groxide_mapi::lids::PID_LID_APPOINTMENT_START_WHOLE)
            .unwrap_or_default();
        // Instances by position from the series' start (bounded: ten years).
        let all = instances(&item, owner, start, start + 86_400 * 3660);
        let occurrence = all.get(index - 1).copied().ok_or_else(|| {
            EwsError::new(
                ResponseCode::ErrorItemNotFound,
                "the series has no instance of that index",
            )
        })?;
        return Ok(Loaded {
            stored,
            item,
            occurrence: Some(occurrence),
        });
    }
    let text = id.attr("Id").unwrap_or_default();
    if let Ok(o) = OccurrenceKey::decode(text) {
        mb.check_store(o.item.store).await?;
        let (info, item) = mb.read_item(&o.item).await?;
        let occurrence = find_instance(&item, owner, o.original_start).ok_or_else(|| {
            EwsError::new(
                ResponseCode::ErrorItemNotFound,
                "the series has no such instance any more",
            )
        })?;
        return Ok(Loaded {
            stored: Stored {
                key: o.item,
                change_number: info.change_number,
            },
            item,
            occurrence: Some(occurrence),
        });
    }
    let key = mb.item_key(id).await?;
    let (info, item) = mb.read_item(&key).await?;
    Ok(Loaded {
        stored: Stored {
            key,
            change_number: info.change_number,
        },
        item,
        occurrence: None,
    })
}

fn id_only(op: &Element) -> bool {
    op.m("ItemShape").and_then(|s| s.t_text("BaseShape")) == Some("IdOnly")
        && op
            .m("ItemShape")
            .and_then(|s| s.t("AdditionalProperties"))
            .is_none()
}

pub(crate) async fn get_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let ids = match list_of(op, "ItemIds") {
        Ok(ids) => ids,
        Err(e) => return refuse(w, "GetItem", e),
    };
    let set = FieldSet::from_shape(op.m("ItemShape"));
    let owner = mb.owner();
    // Groupware items are read one by one; mail items after the loop, in
    // batched reads (`None` marks their places).
    let mut results: Vec<Option<Result<Found, EwsError>>> = Vec::new();
    let mut mail: Vec<(usize, ItemKey)> = Vec::new();
    for id in ids {
        if is_groupware_id(mb, id).await {
            results.push(Some(load(mb, id, &owner).await.map(Found::Ware)));
            continue;
        }
        match mb.item_key(id).await {
            Ok(key) => {
                mail.push((results.len(), key));
                results.push(None);
            }
            Err(e) => results.push(Some(Err(e))),
        }
    }
    if !mail.is_empty() {
        // Without listing entries the message is always read (just its
        // row for IdOnly): that is what checks the id.
        let keys: Vec<ItemKey> = mail.iter().map(|(_, k)| *k).collect();
        match item::load_items(mb, &keys, None, set).await {
            Ok(items) => {
                for ((i, _), item) in mail.iter().zip(items) {
                    results[*i] = Some(item.map(|m| Found::Mail(Box::new(m))).ok_or_else(|| {
                        EwsError::new(
                            ResponseCode::ErrorItemNotFound,
                            "the item is no longer in that folder",
                        )
                    }));
                }
            }
            Err(e) => {
                for (i, _) in &mail {
                    results[*i] = Some(Err(e.clone()));
                }
            }
        }
    }
    let results: Vec<Result<Found, EwsError>> = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(EwsError::new(
                    ResponseCode::ErrorInternalServerError,
                    "the item was not read",
                ))
            })
        })
        .collect();
    write_messages(w, "GetItem", &results, |w, found| {
        w.open("m:Items", &[]);
        match found {
            Found::Mail(m) => write_message(w, m, set),
            Found::Ware(l) => {
                write_item(w, &l.stored, &l.item, &owner, false, l.occurrence.as_ref())
            }
        }
        w.close();
    });
}

struct Page {
    rows: Vec<Loaded>,
    total: usize,
    next_offset: Option<usize>,
    last: bool,
}

pub(crate) async fn find_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    if !names_groupware_folder(mb, op, "ParentFolderIds").await {
        return item::find_item(mb, op, w).await;
    }
    let restriction = match op.m("Restriction").and_then(|r| r.children.first()) {
        Some(r) => match Restriction::parse(r) {
            Ok(r) => Some(r),
            Err(e) => return refuse(w, "FindItem", e),
        },
        None => None,
    };
    let order = match SortOrder::parse(op) {
        Ok(o) => o,
        Err(e) => return refuse(w, "FindItem", e),
    };
    if op.m("CalendarView").is_some() && (restriction.is_some() || !order.0.is_empty()) {
        return refuse(
            w,
            "FindItem",
            EwsError::invalid("a CalendarView takes no Restriction or SortOrder"),
        );
    }
    let page_view = PageView::parse(op, MAX_VIEW);
    let only_ids = id_only(op);
    let owner = mb.owner();
    let parents = match list_of(op, "ParentFolderIds") {
        Ok(p) => p,
        Err(e) => return refuse(w, "FindItem", e),
    };
    let view = op.m("CalendarView");
    let mut results = Vec::new();
    for p in parents {
        let r = async {
            let folder = mb.resolve_folder(p).await?;
            let kind = ItemKind::of_container_class(&folder.container_class);
            if !is_groupware(kind) {
                return Err(EwsError::invalid(
                    "one FindItem cannot mix mail and groupware folders",
                ));
            }
            let store = mb.guid().await?;
            let (listed, _) = mb
                .exmdb()
                .list_items(&mb.dir, selector(folder.id))
                .await
                .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
            let mut rows = Vec::new();
            for info in &listed {
                let key = ItemKey {
                    store,
                    folder: folder.id,
                    message: info.message_id,
                    uid: 0,
                };
                let (info, item) = match mb.exmdb().get_item(&mb.dir, info.message_id).await {
                    Ok(x) => x,
                    // Gone since the listing.
                    Err(_) => continue,
                };
                rows.push(Loaded {
                    stored: Stored {
                        key,
                        change_number: info.change_number,
                    },
                    item,
                    occurrence: None,
                });
            }
            if let Some(view) = view {
                if kind != ItemKind::Calendar {
                    return Err(EwsError::invalid("CalendarView is for calendar folders"));
                }
                let time = |name: &str| {
                    view.attr(name)
                        .and_then(parse_date_time)
                        .ok_or_else(|| EwsError::invalid(format!("CalendarView needs {name}")))
                };
                let (from, to) = (time("StartDate")?, time("EndDate")?);
                if to < from {
                    return Err(EwsError::invalid("CalendarView ends before it starts"));
                }
                let max = view
                    .attr("MaxEntriesReturned")
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(MAX_VIEW);
                let mut out = Vec::new();
                for row in rows {
                    let is_series = crate::groupware::series(&row.item, &owner)
                        .is_some_and(|s| s.rule.is_some());
                    for i in instances(&row.item, &owner, from, to) {
                        out.push(Loaded {
                            stored: row.stored,
                            item: row.item.clone(),
                            occurrence: is_series.then_some(i),
                        });
                    }
                }
                let start_of = |l: &Loaded| {
                    l.occurrence.map(|i| i.start).unwrap_or_else(|| {
                        l.item
                            .time(&groxide_mapi::lids::PID_LID_APPOINTMENT_START_WHOLE)
                            .unwrap_or_default()
                    })
                };
                out.sort_by_key(start_of);
                let total = out.len();
                if total > max {
                    return Err(EwsError::new(
                        ResponseCode::ErrorInvalidRequest,
                        format!("the view holds {total} items, more than MaxEntriesReturned {max}"),
                    ));
                }
                return Ok(Page {
                    rows: out,
                    total,
                    next_offset: None,
                    last: true,
                });
            }
            if let Some(r) = &restriction {
                rows.retain(|row| r.matches(&WareView(&row.item)));
            }
            if !order.0.is_empty() {
                rows.sort_by(|a, b| order.compare(&WareView(&a.item), &WareView(&b.item)));
            }
            let total = rows.len();
            let range = page_view.range(total);
            let first = range.start;
            let rows: Vec<Loaded> = rows.into_iter().skip(first).take(range.len()).collect();
            let next = page_view.offset + rows.len();
            Ok(Page {
                rows,
                total,
                next_offset: Some(next),
                last: if page_view.from_end {
                    first == 0
                } else {
                    next >= total
                },
            })
        }
        .await;
        results.push(r);
    }
    write_messages(w, "FindItem", &results, |w, page| {
        let total = page.total.to_string();
        let next = page.next_offset.map(|n| n.to_string());
        let mut attrs = vec![
            ("TotalItemsInView", total.as_str()),
            (
                "IncludesLastItemInRange",
                if page.last { "true" } else { "false" },
            ),
        ];
        if let Some(n) = &next {
            attrs.insert(0, ("IndexedPagingOffset", n.as_str()));
        }
        w.open("m:RootFolder", &attrs).open("t:Items", &[]);
        for row in &page.rows {
            write_item(
                w,
                &row.stored,
                &row.item,
                &owner,
                only_ids,
                row.occurrence.as_ref(),
            );
        }
        w.close().close();
    });
}

/// The folder a CreateItem saves into: `SavedItemFolderId`, else the
/// default folder of the items' kind.
async fn target_folder(mb: &mut Mailbox<'_>, op: &Element) -> Option<Result<pb::Folder, EwsError>> {
    if let Some(f) = op.m("SavedItemFolderId") {
        let folder = mb.resolve_folder_in(Some(f), "SavedItemFolderId").await;
        return match folder {
            Ok(f) if is_groupware(ItemKind::of_container_class(&f.container_class)) => Some(Ok(f)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        };
    }
    let first = op.m("Items").and_then(|i| i.children.first())?;
    let role = match first.name.as_str() {
        "CalendarItem" => "calendar",
        "Contact" => "contacts",
        "Task" => "tasks",
        _ => return None,
    };
    Some(mb.folder_by_role(role).await)
}

/// CreateItem of meeting response objects (`AcceptItem`, …): see
/// [`meeting`]. A sent response's copy has no id in the answer (as
/// Exchange); a saved one (SaveOnly) is a draft, answered as a message.
async fn create_responses(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let (send, save) = match op.attr("MessageDisposition") {
        Some("SaveOnly") => (false, true),
        Some("SendOnly") => (true, false),
        Some("SendAndSaveCopy") => (true, true),
        Some(other) => {
            return refuse(
                w,
                "CreateItem",
                EwsError::invalid(format!("MessageDisposition {other}")),
            );
        }
        None => {
            return refuse(
                w,
                "CreateItem",
                EwsError::new(
                    ResponseCode::ErrorMessageDispositionRequired,
                    "a meeting response needs a MessageDisposition",
                ),
            );
        }
    };
    let folder = match (save, op.m("SavedItemFolderId")) {
        (false, _) => Ok(None),
        (true, Some(f)) => mb
            .resolve_folder_in(Some(f), "SavedItemFolderId")
            .await
            .map(Some),
        (true, None) => mb
            .folder_by_role(if send { "sent" } else { "drafts" })
            .await
            .map(Some),
    };
    let folder = match folder {
        Ok(Some(f)) if is_groupware(ItemKind::of_container_class(&f.container_class)) => {
            return refuse(
                w,
                "CreateItem",
                EwsError::invalid("a meeting response is saved in a mail folder"),
            );
        }
        Ok(f) => f.map(|f| f.id),
        Err(e) => return refuse(w, "CreateItem", e),
    };
    let results = each_of!(op, "Items", w, "CreateItem", |e| {
        meeting::respond(mb, e, send, folder).await
    });
    write_messages(w, "CreateItem", &results, |w, saved| match saved {
        Some((key, cn)) if !send => {
            w.open("m:Items", &[]).open("t:Message", &[]);
            w.empty(
                "t:ItemId",
                &[
                    ("Id", &key.encode()),
                    ("ChangeKey", &crate::ids::change_key(*cn)),
                ],
            );
            w.close().close();
        }
        _ => {
            w.empty("m:Items", &[]);
        }
    });
}

pub(crate) async fn create_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    if op
        .m("Items")
        .and_then(|i| i.children.first())
        .is_some_and(|e| meeting::answer_of(e).is_some())
    {
        return create_responses(mb, op, w).await;
    }
    let folder = match target_folder(mb, op).await {
        None => return item::create_item(mb, op, w).await,
        Some(Ok(f)) => f,
        Some(Err(e)) => return refuse(w, "CreateItem", e),
    };
    let invitations = match Invitations::parse(op.attr("SendMeetingInvitations")) {
        Ok(i) => i,
        Err(e) => return refuse(w, "CreateItem", e),
    };
    let kind = ItemKind::of_container_class(&folder.container_class);
    let items = match list_of(op, "Items") {
        Ok(i) => i,
        Err(e) => return refuse(w, "CreateItem", e),
    };
    let owner = mb.owner();
    let mut results = Vec::new();
    for e in items {
        let r = async {
            let store = mb.guid().await?;
            let uid = e
                .t_text("UID")
                .filter(|u| !u.is_empty() && kind == ItemKind::Calendar)
                .map(str::to_string)
                .unwrap_or_else(new_uid);
            let item = item_from_element(kind, e, &owner, &uid)?;
            let invite = if invitations.sends()
                && kind == ItemKind::Calendar
                && meeting::organised_by(&item, &owner.address)
            {
                meeting::attendees(&item, &owner.address)
            } else {
                Vec::new()
            };
            if !invite.is_empty() {
                meeting::check_relay(mb)?;
            }
            let (info, _) = mb
                .exmdb()
                .put_item(
                    &mb.dir,
                    selector(folder.id),
                    &item,
                    PutTarget::New,
                    Precondition::None,
                )
                .await
                .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
            meeting::send_scheduling(
                mb,
                &item,
                groxide_pim::ical::imip::Method::Request,
                meeting::sequence(&item),
                invite,
                invitations,
            )
            .await?;
            Ok(Stored {
                key: ItemKey {
                    store,
                    folder: info.folder_id,
                    message: info.message_id,
                    uid: 0,
                },
                change_number: info.change_number,
            })
        }
        .await;
        results.push(r);
    }
    write_messages(w, "CreateItem", &results, |w, stored| {
        w.open("m:Items", &[]);
        write_id_element(w, kind, stored);
        w.close();
    });
}

fn write_id_element(w: &mut XmlWriter, kind: ItemKind, stored: &Stored) {
    w.open(&format!("t:{}", element_name(kind)), &[]);
    w.empty(
        "t:ItemId",
        &[
            ("Id", &stored.key.encode()),
            ("ChangeKey", &crate::ids::change_key(stored.change_number)),
        ],
    );
    w.close();
}

/// The local name an update's `FieldURI`/`IndexedFieldURI` names, and the
/// index of an indexed field.
fn field_of(u: &Element) -> Result<(String, Option<String>), EwsError> {
    if let Some(f) = u.t("FieldURI") {
        let uri = f.attr("FieldURI").unwrap_or_default();
        let name = uri.split_once(':').map(|(_, n)| n).unwrap_or(uri);
        return Ok((name.to_string(), None));
    }
    if let Some(f) = u.t("IndexedFieldURI") {
        let uri = f.attr("FieldURI").unwrap_or_default();
        let name = uri.split_once(':').map(|(_, n)| n).unwrap_or(uri);
        // contacts:EmailAddress → EmailAddresses, PhoneNumber →
        // PhoneNumbers, PhysicalAddress:Street → PhysicalAddresses.
        let (list, part) = match name.split_once(':') {
            Some((l, p)) => (l, Some(p)),
            None => (name, None),
        };
        let list = format!("{list}es").replace("Numberes", "Numbers");
        let index = f.attr("FieldIndex").unwrap_or_default().to_string();
        let index = match part {
            Some(p) => format!("{index}/{p}"),
            None => index,
        };
        return Ok((list, Some(index)));
    }
    Err(EwsError::new(
        ResponseCode::ErrorInvalidPropertyRequest,
        "the update names no field",
    ))
}

/// Applies one `SetItemField`/`DeleteItemField`/`AppendToItemField` to
/// the element form of an item.
fn apply(current: &mut Element, u: &Element) -> Result<(), EwsError> {
    let (name, index) = field_of(u)?;
    let replacement = || -> Result<Element, EwsError> {
        u.children
            .iter()
            .find(|c| c.ns == NS_TYPES && c.name != "FieldURI" && c.name != "IndexedFieldURI")
            .and_then(|holder| {
                holder
                    .children
                    .iter()
                    .find(|c| c.ns == NS_TYPES && c.name == name)
            })
            .cloned()
            .ok_or_else(|| EwsError::invalid(format!("{} of {name} carries no value", u.name)))
    };
    match (u.name.as_str(), index) {
        ("SetItemField" | "AppendToItemField", None) => {
            let new = replacement()?;
            match current.children.iter_mut().find(|c| c.name == name) {
                Some(slot) => *slot = new,
                None => current.children.push(new),
            }
        }
        ("DeleteItemField", None) => current.children.retain(|c| c.name != name),
        (other, None) => return Err(EwsError::invalid(format!("{other} is not an update"))),
        (kind, Some(index)) => {
            let (key, part) = match index.split_once('/') {
                Some((k, p)) => (k.to_string(), Some(p.to_string())),
                None => (index.clone(), None),
            };
            let pos = match current.children.iter().position(|c| c.name == name) {
                Some(p) => p,
                None => {
                    current.children.push(Element {
                        ns: NS_TYPES.to_string(),
                        name: name.clone(),
                        ..Element::default()
                    });
                    current.children.len() - 1
                }
            };
            let list = &mut current.children[pos];
            let existing = list
                .children
                .iter()
                .position(|c| c.attr("Key") == Some(key.as_str()));
            if kind == "DeleteItemField" {
                match (existing, &part) {
                    (Some(i), None) => {
                        list.children.remove(i);
                    }
                    (Some(i), Some(p)) => list.children[i].children.retain(|c| &c.name != p),
                    (None, _) => {}
                }
                return Ok(());
            }
            let new = replacement()?;
            let entry = new
                .children
                .into_iter()
                .find(|c| c.name == "Entry")
                .ok_or_else(|| EwsError::invalid(format!("{name} update without an Entry")))?;
            match (existing, part) {
                (Some(i), Some(_)) => {
                    let slot = &mut list.children[i];
                    for c in entry.children {
                        slot.children.retain(|x| x.name != c.name);
                        slot.children.push(c);
                    }
                }
                (Some(i), None) => list.children[i] = entry,
                (None, _) => list.children.push(entry),
            }
        }
    }
    Ok(())
}

/// The element form of a stored item (as GetItem writes it).
fn element_of(stored: &Stored, item: &Item, owner: &Owner) -> Result<Element, EwsError> {
    let mut w = XmlWriter::new();
    w.open("x", &[("xmlns:t", NS_TYPES)]);
    write_item(&mut w, stored, item, owner, false, None);
    let doc = w.finish();
    let root = parse(doc.as_bytes())
        .map_err(|e| EwsError::new(ResponseCode::ErrorInternalServerError, e.to_string()))?;
    root.children
        .into_iter()
        .next()
        .ok_or_else(|| EwsError::new(ResponseCode::ErrorInternalServerError, "empty item"))
}

pub(crate) async fn update_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let first = op
        .m("ItemChanges")
        .and_then(|c| c.children.first())
        .and_then(|c| c.t("ItemId"));
    let groupware = match first {
        Some(id) => is_groupware_id(mb, id).await,
        None => false,
    };
    if !groupware {
        return item::update_item(mb, op, w).await;
    }
    let invitations = match Invitations::parse(op.attr("SendMeetingInvitationsOrCancellations")) {
        Ok(i) => i,
        Err(e) => return refuse(w, "UpdateItem", e),
    };
    let changes = match list_of(op, "ItemChanges") {
        Ok(c) => c,
        Err(e) => return refuse(w, "UpdateItem", e),
    };
    let owner = mb.owner();
    let mut results = Vec::new();
    for change in changes {
        let r = async {
            let id = change.t("ItemId").ok_or_else(|| {
                if change.t("OccurrenceItemId").is_some() {
                    EwsError::unsupported("changing one occurrence of a series")
                } else {
                    EwsError::invalid("ItemChange names no ItemId")
                }
            })?;
            if OccurrenceKey::decode(id.attr("Id").unwrap_or_default()).is_ok() {
                return Err(EwsError::unsupported("changing one occurrence of a series"));
            }
            let key = mb.item_key(id).await?;
            let (info, item) = mb.read_item(&key).await?;
            if let Some(ck) = id.attr("ChangeKey").filter(|c| !c.is_empty())
                && op.attr("ConflictResolution") == Some("NeverOverwrite")
                && crate::ids::parse_change_key(ck)? != info.change_number
            {
                return Err(EwsError::new(
                    ResponseCode::ErrorInvalidChangeKey,
                    "the item changed since that change key",
                ));
            }
            let kind = mb.kind_of(key.folder).await?;
            let stored = Stored {
                key,
                change_number: info.change_number,
            };
            let mut element = element_of(&stored, &item, &owner)?;
            let updates = change
                .t("Updates")
                .ok_or_else(|| EwsError::invalid("ItemChange has no Updates"))?;
            for u in updates.children.iter().filter(|c| c.ns == NS_TYPES) {
                apply(&mut element, u)?;
            }
            let uid = groxide_rpc::items::item_uid(&item);
            let uid = if uid.is_empty() { new_uid() } else { uid };
            let mut new = item_from_element(kind, &element, &owner, &uid)?;
            // An update the attendees are sent raises the SEQUENCE; the
            // new and the remaining attendees get the REQUEST, the removed
            // ones a CANCEL.
            let old_sequence = meeting::sequence(&item);
            let (invite, removed) = if invitations.sends()
                && kind == ItemKind::Calendar
                && meeting::organised_by(&new, &owner.address)
            {
                let invite = meeting::attendees(&new, &owner.address);
                let removed: Vec<String> = meeting::attendees(&item, &owner.address)
                    .into_iter()
                    .filter(|a| !invite.iter().any(|i| i.eq_ignore_ascii_case(a)))
                    .collect();
                (invite, removed)
            } else {
                (Vec::new(), Vec::new())
            };
            let resend = !invite.is_empty() || !removed.is_empty();
            let sequence = old_sequence + i64::from(resend);
            if kind == ItemKind::Calendar {
                meeting::set_sequence(&mut new, sequence);
            }
            if resend {
                meeting::check_relay(mb)?;
            }
            let (info, _) = mb
                .exmdb()
                .put_item(
                    &mb.dir,
                    selector(key.folder),
                    &new,
                    PutTarget::Message(key.message),
                    Precondition::IfMatch(info.etag.clone()),
                )
                .await
                .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorItemNotFound))?;
            use groxide_pim::ical::imip::Method;
            meeting::send_scheduling(mb, &new, Method::Request, sequence, invite, invitations)
                .await?;
            meeting::send_scheduling(mb, &item, Method::Cancel, sequence, removed, invitations)
                .await?;
            Ok((
                kind,
                Stored {
                    key,
                    change_number: info.change_number,
                },
            ))
        }
        .await;
        results.push(r);
    }
    write_messages(w, "UpdateItem", &results, |w, (kind, stored)| {
        w.open("m:Items", &[]);
        write_id_element(w, *kind, stored);
        w.close();
        w.open("m:ConflictResults", &[])
            .leaf("t:Count", "0")
            .close();
    });
}

pub(crate) async fn delete_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let first = op.m("ItemIds").and_then(|c| c.children.first());
    let groupware = match first {
        Some(id) => is_groupware_id(mb, id).await,
        None => false,
    };
    if !groupware {
        return item::delete_item(mb, op, w).await;
    }
    let cancellations = match Invitations::parse(op.attr("SendMeetingCancellations")) {
        Ok(i) => i,
        Err(e) => return refuse(w, "DeleteItem", e),
    };
    let user = mb.user.clone();
    let results = each_of!(op, "ItemIds", w, "DeleteItem", |id| {
        if id.name == "OccurrenceItemId"
            || OccurrenceKey::decode(id.attr("Id").unwrap_or_default()).is_ok()
        {
            return Err(EwsError::unsupported("deleting one occurrence of a series"));
        }
        let key = mb.item_key(id).await?;
        if !is_groupware(mb.kind_of(key.folder).await?) {
            return Err(EwsError::invalid(
                "one DeleteItem cannot mix mail and groupware items",
            ));
        }
        // Checks the id still names the item in that folder.
        let (_, item) = mb.read_item(&key).await?;
        // A meeting the user organised is called off for its attendees.
        let cancel = if cancellations.sends() && meeting::organised_by(&item, &user) {
            meeting::attendees(&item, &user)
        } else {
            Vec::new()
        };
        if !cancel.is_empty() {
            meeting::check_relay(mb)?;
        }
        // Groupware items are deleted for good (with the tombstone
        // CalDAV/CardDAV and SyncFolderItems report), whatever the DeleteType.
        mb.exmdb()
            .delete_item(&mb.dir, key.message, None)
            .await
            .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorItemNotFound))?;
        meeting::send_scheduling(
            mb,
            &item,
            groxide_pim::ical::imip::Method::Cancel,
            meeting::sequence(&item) + 1,
            cancel,
            cancellations,
        )
        .await
    });
    write_messages(w, "DeleteItem", &results, |_, _| {});
}

/// Most changes one groupware SyncFolderItems answer carries (the schema's limit).
const MAX_CHANGES: usize = 512;

pub(crate) async fn sync_folder_items(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let target = op.m("SyncFolderId").and_then(|s| s.children.first());
    let folder = match target {
        Some(t) => mb.resolve_folder(t).await.ok(),
        None => None,
    };
    let Some(folder) =
        folder.filter(|f| is_groupware(ItemKind::of_container_class(&f.container_class)))
    else {
        return sync::sync_folder_items(mb, op, w).await;
    };
    let only_ids = id_only(op);
    let owner = mb.owner();
    let max = op
        .m("MaxChangesReturned")
        .and_then(|m| m.text.trim().parse::<usize>().ok())
        .unwrap_or(MAX_CHANGES)
        .clamp(1, MAX_CHANGES);
    let r = async {
        let store = mb.guid().await?;
        let state = match op
            .m("SyncState")
            .map(|s| s.text.trim())
            .filter(|s| !s.is_empty())
        {
            Some(text) => {
                let s = GroupwareSyncState::decode(text)?;
                if s.folder != folder.id {
                    return Err(EwsError::new(
                        ResponseCode::ErrorInvalidSyncStateData,
                        "the sync state belongs to another folder",
                    ));
                }
                s
            }
            None => GroupwareSyncState {
                folder: folder.id,
                token: String::new(),
                round: None,
            },
        };
        let changes = mb
            .exmdb()
            .item_changes_since(&mb.dir, selector(folder.id), &state.token)
            .await
            .map_err(|e| match e.reason() {
                Some(groxide_rpc::reason::Reason::SyncTokenTooOld) => EwsError::new(
                    ResponseCode::ErrorInvalidSyncStateData,
                    "the sync state is too old; synchronise from scratch",
                ),
                _ => EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound),
            })?;
        let mut round = state.round.clone().unwrap_or_else(|| GroupwareRound {
            end_token: changes.sync_token.clone(),
            ..GroupwareRound::default()
        });
        // This page: removals by message id, then changes by change number,
        // each after the round's cursor.
        let mut removed: Vec<u64> = changes
            .removed
            .iter()
            .map(|m| m.message_id)
            .filter(|m| !round.removals_done && *m > round.removed_after)
            .collect();
        removed.sort_unstable();
        removed.dedup();
        let mut changed: Vec<&groxide_rpc::items::ItemInfo> = changes
            .changed
            .iter()
            .filter(|i| i.change_number > round.changed_after)
            .collect();
        changed.sort_by_key(|i| (i.change_number, i.message_id));
        let mut budget = max;
        let removed_page: Vec<u64> = removed.iter().take(budget).copied().collect();
        budget -= removed_page.len();
        if removed_page.len() == removed.len() {
            round.removals_done = true;
        }
        if let Some(last) = removed_page.last() {
            round.removed_after = *last;
        }
        let mut changed_page = Vec::new();
        if round.removals_done {
            // Never cut inside one change number (each item change has its own).
            let mut take = changed.len().min(budget);
            while take > 0
                && take < changed.len()
                && changed[take - 1].change_number == changed[take].change_number
            {
                take -= 1;
            }
            changed_page = changed[..take].to_vec();
            if let Some(last) = changed_page.last() {
                round.changed_after = last.change_number;
            }
        }
        let complete = round.removals_done && changed_page.len() == changed.len();
        let mut rows = Vec::new();
        for info in changed_page {
            let Ok((info, item)) = mb.exmdb().get_item(&mb.dir, info.message_id).await else {
                continue;
            };
            rows.push(Loaded {
                stored: Stored {
                    key: ItemKey {
                        store,
                        folder: folder.id,
                        message: info.message_id,
                        uid: 0,
                    },
                    change_number: info.change_number,
                },
                item,
                occurrence: None,
            });
        }
        let removed_keys: Vec<ItemKey> = removed_page
            .into_iter()
            .map(|message| ItemKey {
                store,
                folder: folder.id,
                message,
                uid: 0,
            })
            .collect();
        let from_scratch = state.token.is_empty();
        let next = if complete {
            GroupwareSyncState {
                folder: folder.id,
                token: round.end_token,
                round: None,
            }
        } else {
            GroupwareSyncState {
                folder: folder.id,
                token: state.token,
                round: Some(round),
            }
        };
        Ok((from_scratch, rows, removed_keys, next.encode(), complete))
    }
    .await;
    write_messages(
        w,
        "SyncFolderItems",
        &[r],
        |w, (from_scratch, changed, removed, state, complete)| {
            w.leaf("m:SyncState", state)
                .leaf(
                    "m:IncludesLastItemInRange",
                    if *complete { "true" } else { "false" },
                )
                .open("m:Changes", &[]);
            for row in changed {
                // The store tells changed from created only by the token.
                w.open(
                    if *from_scratch {
                        "t:Create"
                    } else {
                        "t:Update"
                    },
                    &[],
                );
                write_item(w, &row.stored, &row.item, &owner, only_ids, None);
                w.close();
            }
            for key in removed {
                w.open("t:Delete", &[])
                    .empty("t:ItemId", &[("Id", &key.encode())])
                    .close();
            }
            w.close();
        },
    );
}
