//! Item operations over mail folders: FindItem, GetItem, UpdateItem
//! (read and follow-up flag), DeleteItem, MoveItem, CopyItem, CreateItem
//! (SaveOnly, from MimeContent or from properties) and
//! MarkAllItemsAsRead.

use super::refuse;
use crate::ids::ItemKey;
use crate::item_cache::ItemStamp;
use crate::items::{
    FLAG_DRAFT, FLAG_FLAGGED, FLAG_SEEN, Field, FieldSet, ItemKind, MessageItem, message_element,
    write_message,
};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::restriction::{ItemValues, PageView, Path, Restriction, SortOrder, Value};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter};
use base64::Engine as _;
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::exmdb::v1 as pb;
use std::sync::Arc;

/// Most items one FindItem page returns when the request sets no limit.
const MAX_PAGE: usize = 1000;

/// Refuses folders whose items this server does not serve yet.
fn check_kind(folder: &pb::Folder) -> Result<(), EwsError> {
    let kind = ItemKind::of_container_class(&folder.container_class);
    if kind.served() {
        Ok(())
    } else {
        Err(EwsError::unsupported(format!(
            "access to {} over EWS",
            kind.name()
        )))
    }
}

/// Builds what EWS shows of many messages at once: the properties and
/// recipients `set` shows, in batched reads of just those (PR_BODY derived
/// only when `set` shows it), and their MIME content, in the same reads
/// while a reply has room, when `set` needs it. One result per key, `None`
/// for a message gone since it was listed; with `entries`, a set that the
/// listing entries tell alone is answered without reading (without
/// `entries` the messages are always read: that checks the ids).
pub(crate) async fn load_items(
    mb: &Mailbox<'_>,
    keys: &[ItemKey],
    entries: Option<&[&pb::MessageEntry]>,
    set: FieldSet,
) -> Result<Vec<Option<MessageItem>>, EwsError> {
    let wants_content = set.contains(Field::MimeContent) || set.contains(Field::Attachments);
    let mut items: Vec<Option<MessageItem>> = match entries {
        Some(es) if set.entry_alone() => keys
            .iter()
            .zip(es)
            .map(|(k, e)| Some(MessageItem::from_entry(*k, e)))
            .collect(),
        _ => {
            let with = mb
                .read_messages(keys, &set.store_selection(), wants_content)
                .await?;
            let mut items = Vec::with_capacity(with.len());
            for (m, k) in with.into_iter().zip(keys) {
                items.push(m.map(|(m, bytes)| {
                    let mut item = MessageItem::from_stored(*k, &m);
                    if wants_content {
                        item.mime = bytes;
                    }
                    item
                }));
            }
            super::meeting_mail::load_meetings(mb, &mut items, set).await;
            items
        }
    };
    if wants_content {
        for item in items.iter_mut().flatten() {
            let Some(key) = item.key else { continue };
            // Read with the properties, or alone when the batch's budget
            // left it out.
            let raw = match item.mime.take() {
                Some(raw) => raw,
                None => mb.content(key.message).await?,
            };
            if set.contains(Field::Attachments) {
                item.attachments = crate::attachments::list(&raw)
                    .into_iter()
                    .map(|a| (a.name, a.content_type, a.content.len()))
                    .collect();
            }
            if set.contains(Field::MimeContent) {
                item.mime = Some(raw);
            }
        }
    }
    Ok(items)
}

/// What a listing page shows of each message, written: `keys` with their
/// listing `entries`, shown with `set`. Items kept in the module's item
/// cache since they last changed are copied from it; the others are read
/// (as [`load_items`] reads them), written and kept. `None` for a message
/// gone since it was listed.
pub(crate) async fn written_items(
    mb: &Mailbox<'_>,
    keys: &[ItemKey],
    entries: &[&pb::MessageEntry],
    set: FieldSet,
) -> Result<Vec<Option<Arc<str>>>, EwsError> {
    let write = |item: &MessageItem| written(item, set);
    let cache = &mb.module().items;
    if !cache.keeps(set) {
        return Ok(load_items(mb, keys, Some(entries), set)
            .await?
            .iter()
            .map(|i| i.as_ref().map(write))
            .collect());
    }
    let stamps: Vec<ItemStamp> = keys
        .iter()
        .zip(entries)
        .map(|(k, e)| ItemStamp::of(k, e, set))
        .collect();
    let mut out = cache.get_all(&stamps);
    let missing: Vec<usize> = (0..out.len()).filter(|i| out[*i].is_none()).collect();
    if missing.is_empty() {
        return Ok(out);
    }
    let miss_keys: Vec<ItemKey> = missing.iter().map(|i| keys[*i]).collect();
    let miss_entries: Vec<&pb::MessageEntry> = missing.iter().map(|i| entries[*i]).collect();
    let loaded = load_items(mb, &miss_keys, Some(&miss_entries), set).await?;
    let mut kept = Vec::with_capacity(missing.len());
    for (i, item) in missing.into_iter().zip(loaded) {
        let Some(item) = item else { continue };
        let xml = write(&item);
        // Meeting mail shows what the calendar holds now: written afresh.
        if item.meeting.is_none() && message_element(&item.item_class) == "t:Message" {
            kept.push((stamps[i], xml.clone()));
        }
        out[i] = Some(xml);
    }
    cache.put_all(kept);
    Ok(out)
}

/// An item's XML as `set` shows it, for [`XmlWriter::splice`].
fn written(item: &MessageItem, set: FieldSet) -> Arc<str> {
    let mut w = XmlWriter::fragment();
    write_message(&mut w, item, set);
    Arc::from(w.finish())
}

/// A mail item as a restriction or sort reads it: the listing entry, and
/// the message's properties when they were loaded.
struct MailView<'a> {
    entry: &'a pb::MessageEntry,
    item: Option<&'a MessageItem>,
}

/// The paths a listing entry tells without reading the message.
fn from_entry_alone(p: Path) -> bool {
    matches!(
        p,
        Path::Received | Path::Created | Path::IsRead | Path::Flagged | Path::Size
    )
}

impl MailView<'_> {
    /// The fields whose properties [`ItemValues::value`] reads of a loaded item.
    fn fields() -> FieldSet {
        let mut set = FieldSet::default();
        for f in [
            Field::Subject,
            Field::From,
            Field::Sender,
            Field::DateTimeSent,
            Field::HasAttachments,
            Field::Importance,
            Field::ItemClass,
            Field::InternetMessageId,
        ] {
            set.insert(f);
        }
        set
    }
}

impl ItemValues for MailView<'_> {
    fn value(&self, path: Path) -> Option<Value> {
        let e = self.entry;
        match path {
            Path::Received | Path::Created => return Some(Value::Time(e.internal_date)),
            Path::IsRead => return Some(Value::Bool(e.flags & FLAG_SEEN != 0)),
            Path::Flagged => return Some(Value::Bool(e.flags & FLAG_FLAGGED != 0)),
            Path::Size => return Some(Value::Int(e.size as i64)),
            _ => {}
        }
        let i = self.item?;
        match path {
            Path::Subject => Some(Value::Text(i.subject.clone())),
            Path::From => i
                .from
                .as_ref()
                .or(i.sender.as_ref())
                .map(|a| Value::Address(a.name.clone(), a.email.clone())),
            Path::Sent => i.sent.map(Value::Time),
            Path::HasAttachments => Some(Value::Bool(i.has_attachments)),
            Path::Importance => Some(Value::Int(i64::from(i.importance))),
            Path::ItemClass => Some(Value::Text(i.item_class.clone())),
            Path::InternetMessageId => (!i.internet_message_id.is_empty())
                .then(|| Value::Text(i.internet_message_id.clone())),
            _ => None,
        }
    }
}

struct FoundPage {
    /// The items, written.
    items: Vec<Arc<str>>,
    total: usize,
    next_offset: usize,
    last: bool,
}

/// One FindItem page: `page` (the view's entries from `first` of `total`)
/// loaded with the shape's fields.
async fn found_page(
    mb: &Mailbox<'_>,
    page: &[&pb::MessageEntry],
    key_of: &(dyn Fn(&pb::MessageEntry) -> ItemKey + Sync),
    total: usize,
    first: usize,
    view: &PageView,
    set: FieldSet,
) -> Result<FoundPage, EwsError> {
    let keys: Vec<ItemKey> = page.iter().map(|e| key_of(e)).collect();
    let items: Vec<Arc<str>> = written_items(mb, &keys, page, set)
        .await?
        .into_iter()
        .zip(page)
        // Gone since the listing: shown by its id alone.
        .map(|(item, e)| {
            item.unwrap_or_else(|| written(&MessageItem::from_entry(key_of(e), e), set))
        })
        .collect();
    let next_offset = view.offset + items.len();
    Ok(FoundPage {
        last: if view.from_end {
            first == 0
        } else {
            next_offset >= total
        },
        items,
        total,
        next_offset,
    })
}

pub(crate) async fn find_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let set = FieldSet::from_shape(op.m("ItemShape"));
    let traversal = op.attr("Traversal").unwrap_or("Shallow").to_string();
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
    let view = PageView::parse(op, MAX_PAGE);
    let needs_props = restriction
        .as_ref()
        .is_some_and(|r| r.reads(&from_entry_alone))
        || order.reads(&from_entry_alone);
    // The default view of a folder (newest arrival first, as Exchange
    // lists one and as clients ask by DateTimeReceived descending): a page
    // of the shared listing.
    let newest_first = order.0.is_empty() || order.0 == [(Path::Received, true)];
    let plain = restriction.is_none() && newest_first && traversal != "Associated";
    let results = each_of!(op, "ParentFolderIds", w, "FindItem", |p| {
        let folder = mb.resolve_folder(p).await?;
        check_kind(&folder)?;
        let store = mb.guid().await?;
        let key_of = |e: &pb::MessageEntry| ItemKey {
            store,
            folder: folder.id,
            message: e.message_id,
            uid: e.uid,
        };
        if plain {
            let listing = mb.newest_first(&folder).await?;
            let total = listing.len();
            let range = view.range(total);
            let first = range.start;
            let page: Vec<&pb::MessageEntry> = listing[range].iter().collect();
            return found_page(mb, &page, &key_of, total, first, &view, set).await;
        }
        let entries = if traversal == "Associated" {
            // Folder-associated items are not kept for mail folders.
            Vec::new()
        } else {
            mb.list(folder.id, 1, 0).await?
        };
        // The properties are read only when the restriction or the sort
        // needs them (batched reads over the folder, no bodies).
        let mut rows: Vec<(pb::MessageEntry, Option<MessageItem>)> = if needs_props {
            let keys: Vec<ItemKey> = entries.iter().map(&key_of).collect();
            let loaded = load_items(mb, &keys, None, MailView::fields()).await?;
            entries
                .into_iter()
                .zip(loaded)
                // A message gone since the listing is no longer in the view.
                .filter_map(|(e, item)| item.map(|i| (e, Some(i))))
                .collect()
        } else {
            entries.into_iter().map(|e| (e, None)).collect()
        };
        if let Some(r) = &restriction {
            rows.retain(|(e, item)| {
                r.matches(&MailView {
                    entry: e,
                    item: item.as_ref(),
                })
            });
        }
        rows.sort_by(|(ea, ia), (eb, ib)| {
            let (a, b) = (
                MailView {
                    entry: ea,
                    item: ia.as_ref(),
                },
                MailView {
                    entry: eb,
                    item: ib.as_ref(),
                },
            );
            if order.0.is_empty() {
                // Newest arrival first, as Exchange lists a folder.
                eb.internal_date.cmp(&ea.internal_date)
            } else {
                order.compare(&a, &b)
            }
            // Newest arrival first among equals, for a stable order.
            .then_with(|| eb.uid.cmp(&ea.uid))
        });
        let total = rows.len();
        let range = view.range(total);
        let first = range.start;
        let page: Vec<&pb::MessageEntry> = rows
            .iter()
            .skip(first)
            .take(range.len())
            .map(|(e, _)| e)
            .collect();
        found_page(mb, &page, &key_of, total, first, &view, set).await
    });
    write_messages(w, "FindItem", &results, |w, page| {
        let total = page.total.to_string();
        let next = page.next_offset.to_string();
        w.open(
            "m:RootFolder",
            &[
                ("IndexedPagingOffset", &next),
                ("TotalItemsInView", &total),
                (
                    "IncludesLastItemInRange",
                    if page.last { "true" } else { "false" },
                ),
            ],
        )
        .open("t:Items", &[]);
        for item in &page.items {
            w.splice(item);
        }
        w.close().close();
    });
}

fn write_items(w: &mut XmlWriter, items: &[MessageItem], set: FieldSet) {
    w.open("m:Items", &[]);
    for item in items {
        write_message(w, item, set);
    }
    w.close();
}

/// The flag changes an `ItemChange` asks for: (bits to add, bits to remove).
fn flag_updates(updates: &Element) -> Result<(u32, u32), EwsError> {
    let mut add = 0;
    let mut remove = 0;
    for u in updates.children.iter().filter(|c| c.ns == NS_TYPES) {
        let field = u
            .t("FieldURI")
            .and_then(|f| f.attr("FieldURI"))
            .unwrap_or_default();
        let value = u
            .children
            .iter()
            .find(|c| c.ns == NS_TYPES && c.name != "FieldURI");
        match (u.name.as_str(), field) {
            ("SetItemField", "message:IsRead") => match value.and_then(|v| v.t_text("IsRead")) {
                Some("true") | Some("1") => add |= FLAG_SEEN,
                Some("false") | Some("0") => remove |= FLAG_SEEN,
                _ => return Err(EwsError::invalid("IsRead needs true or false")),
            },
            ("SetItemField", "item:Flag") => {
                match value
                    .and_then(|v| v.t("Flag"))
                    .and_then(|f| f.t_text("FlagStatus"))
                {
                    Some("Flagged") => add |= FLAG_FLAGGED,
                    Some("NotFlagged") | Some("Complete") => remove |= FLAG_FLAGGED,
                    _ => return Err(EwsError::invalid("Flag needs a FlagStatus")),
                }
            }
            ("DeleteItemField", "item:Flag") => remove |= FLAG_FLAGGED,
            (kind, field) => {
                return Err(EwsError::unsupported(format!("{kind} of {field}")));
            }
        }
    }
    Ok((add, remove))
}

pub(crate) async fn update_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    if let Some(d) = op.attr("MessageDisposition")
        && d != "SaveOnly"
    {
        return refuse(
            w,
            "UpdateItem",
            EwsError::unsupported(format!("MessageDisposition {d}")),
        );
    }
    let results = each_of!(op, "ItemChanges", w, "UpdateItem", |change| {
        let id = change
            .t("ItemId")
            .ok_or_else(|| EwsError::invalid("ItemChange names no ItemId"))?;
        let key = mb.item_key(id).await?;
        let updates = change
            .t("Updates")
            .ok_or_else(|| EwsError::invalid("ItemChange has no Updates"))?;
        let (add, remove) = flag_updates(updates)?;
        let range = || {
            vec![cpb::UidRange {
                first: key.uid,
                last: key.uid,
            }]
        };
        let mut entry = mb.entry(key.folder, key.uid).await?;
        if entry.message_id != key.message {
            return Err(EwsError::new(
                ResponseCode::ErrorItemNotFound,
                "no such item",
            ));
        }
        for (bits, adding) in [(add, true), (remove, false)] {
            if bits != 0 {
                let updated = mb.set_flags(key.folder, range(), adding, bits).await?;
                if let Some(e) = updated.into_iter().find(|e| e.uid == key.uid) {
                    entry = e;
                }
            }
        }
        Ok(MessageItem::from_entry(key, &entry))
    });
    write_messages(w, "UpdateItem", &results, |w, item| {
        write_items(w, std::slice::from_ref(item), FieldSet::id_only());
        w.open("m:ConflictResults", &[])
            .leaf("t:Count", "0")
            .close();
    });
}

pub(crate) async fn delete_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let delete_type = op
        .attr("DeleteType")
        .unwrap_or("MoveToDeletedItems")
        .to_string();
    let results = each_of!(op, "ItemIds", w, "DeleteItem", |id| {
        let key = mb.item_key(id).await?;
        match delete_type.as_str() {
            "HardDelete" => mb.delete(&key, true).await,
            "SoftDelete" => mb.delete(&key, false).await,
            "MoveToDeletedItems" => {
                let trash = mb.folder_by_role("trash").await?;
                if key.folder == trash.id {
                    mb.delete(&key, false).await
                } else {
                    mb.copy(&key, trash.id, true).await.map(|_| ())
                }
            }
            other => Err(EwsError::invalid(format!("DeleteType {other}"))),
        }
    });
    write_messages(w, "DeleteItem", &results, |_, _| {});
}

pub(crate) async fn copy_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter, remove: bool) {
    let name = if remove { "MoveItem" } else { "CopyItem" };
    let target = match mb.resolve_folder_in(op.m("ToFolderId"), "ToFolderId").await {
        Ok(t) => t,
        Err(e) => {
            let e = if e.code == ResponseCode::ErrorFolderNotFound {
                EwsError::new(ResponseCode::ErrorToFolderNotFound, e.message)
            } else {
                e
            };
            return refuse(w, name, e);
        }
    };
    let return_ids = op.m("ReturnNewItemIds").map(|e| e.text.trim()) != Some("false");
    let results = each_of!(op, "ItemIds", w, name, |id| {
        check_kind(&target)?;
        let key = mb.item_key(id).await?;
        let (new_key, cn) = mb.copy(&key, target.id, remove).await?;
        Ok(MessageItem {
            key: Some(new_key),
            change_number: cn,
            ..MessageItem::default()
        })
    });
    write_messages(w, name, &results, |w, item| {
        if return_ids {
            write_items(w, std::slice::from_ref(item), FieldSet::id_only());
        } else {
            w.empty("m:Items", &[]);
        }
    });
}

/// The RFC 5322 form of a `t:Message` given as properties.
fn mime_from_properties(message: &Element, user: &str) -> Result<Vec<u8>, EwsError> {
    let subject = message.t_text("Subject").unwrap_or_default();
    let body = message.t("Body");
    let html = body.and_then(|b| b.attr("BodyType")) == Some("HTML");
    let text = body.map(|b| b.text.as_str()).unwrap_or_default();
    let list = |name: &str| -> String {
        message
            .t(name)
            .map(|l| {
                l.children
                    .iter()
                    .filter_map(|m| m.t_text("EmailAddress"))
                    .filter(|a| !a.is_empty() && !a.contains(['\r', '\n', ',']))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let mut out = String::new();
    let from = message
        .t("From")
        .and_then(|f| f.t("Mailbox"))
        .and_then(|m| m.t_text("EmailAddress"))
        .filter(|a| !a.is_empty() && !a.contains(['\r', '\n']))
        .unwrap_or(user);
    out.push_str(&format!("From: {from}\r\n"));
    for (header, field) in [
        ("To", "ToRecipients"),
        ("Cc", "CcRecipients"),
        ("Bcc", "BccRecipients"),
    ] {
        let v = list(field);
        if !v.is_empty() {
            out.push_str(&format!("{header}: {v}\r\n"));
        }
    }
    let encoded = if subject.is_ascii() && !subject.contains(['\r', '\n']) {
        subject.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(subject)
        )
    };
    out.push_str(&format!("Subject: {encoded}\r\n"));
    out.push_str(&format!(
        "Date: {}\r\n",
        time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_default()
    ));
    out.push_str(&format!(
        "Message-ID: <{}>\r\n",
        crate::groupware::new_uid().replace("@groxide", "@ews.groxide")
    ));
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str(&format!(
        "Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        if html { "html" } else { "plain" }
    ));
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    for chunk in b64.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str("\r\n");
    }
    Ok(out.into_bytes())
}

pub(crate) async fn create_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let disposition = op.attr("MessageDisposition").unwrap_or("SaveOnly");
    let (send, save) = match disposition {
        "SaveOnly" => (false, true),
        "SendOnly" => (true, false),
        "SendAndSaveCopy" => (true, true),
        other => {
            return refuse(
                w,
                "CreateItem",
                EwsError::invalid(format!("MessageDisposition {other}")),
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
    let folder = match folder.and_then(|f| match f {
        Some(f) => check_kind(&f).map(|()| Some(f)),
        None => Ok(None),
    }) {
        Ok(f) => f,
        Err(e) => return refuse(w, "CreateItem", e),
    };
    let results = each_of!(op, "Items", w, "CreateItem", |message| {
        if message.name != "Message" {
            return Err(EwsError::unsupported(format!("creating {}", message.name)));
        }
        let raw = match message.t("MimeContent") {
            Some(m) => {
                let text: String = m.text.split_ascii_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| {
                        EwsError::new(
                            ResponseCode::ErrorMimeContentConversionFailed,
                            "MimeContent is not base64",
                        )
                    })?
            }
            None => mime_from_properties(message, &mb.user)?,
        };
        if send {
            super::send::submit(mb, &raw).await?;
        }
        let Some(folder) = &folder else {
            return Ok(None);
        };
        let mut flags = 0;
        if send || !matches!(message.t_text("IsRead"), Some("false") | Some("0")) {
            flags |= FLAG_SEEN;
        }
        if !send && folder.role == "drafts" {
            flags |= FLAG_DRAFT;
        }
        let (key, cn) = mb.insert(folder.id, raw, flags).await?;
        Ok(Some(MessageItem {
            key: Some(key),
            change_number: cn,
            ..MessageItem::default()
        }))
    });
    write_messages(w, "CreateItem", &results, |w, item| match item {
        // A sent message's copy has no id in the answer (as Exchange).
        Some(item) if !send => write_items(w, std::slice::from_ref(item), FieldSet::id_only()),
        _ => {
            w.empty("m:Items", &[]);
        }
    });
}

pub(crate) async fn mark_all_read(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let read = op.m("ReadFlag").map(|e| e.text.trim()) != Some("false");
    let results = each_of!(op, "FolderIds", w, "MarkAllItemsAsRead", |id| {
        let folder = mb.resolve_folder(id).await?;
        check_kind(&folder)?;
        mb.set_flags(
            folder.id,
            vec![cpb::UidRange {
                first: 1,
                last: u32::MAX,
            }],
            read,
            FLAG_SEEN,
        )
        .await
        .map(|_| ())
    });
    write_messages(w, "MarkAllItemsAsRead", &results, |_, _| {});
}

pub(crate) async fn mark_as_junk(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let is_junk = op.attr("IsJunk") == Some("true");
    let move_item = op.attr("MoveItem") == Some("true");
    let results = each_of!(op, "ItemIds", w, "MarkAsJunk", |id| {
        let key = mb.item_key(id).await?;
        // No sender lists are kept: marking moves the message (when asked).
        let target = mb
            .folder_by_role(if is_junk { "junk" } else { "inbox" })
            .await?;
        if !move_item || key.folder == target.id {
            let entry = mb.entry(key.folder, key.uid).await?;
            return Ok((key, entry.change_number));
        }
        mb.copy(&key, target.id, true).await
    });
    write_messages(w, "MarkAsJunk", &results, |w, (key, cn)| {
        w.empty(
            "m:MovedItemId",
            &[
                ("Id", &key.encode()),
                ("ChangeKey", &crate::ids::change_key(*cn)),
            ],
        );
    });
}
