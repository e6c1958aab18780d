//! Item operations over mail folders: FindItem, GetItem, UpdateItem
//! (read and follow-up flag), DeleteItem, MoveItem, CopyItem, CreateItem
//! (SaveOnly, from MimeContent or from properties) and
//! MarkAllItemsAsRead.

use super::refuse;
use crate::ids::ItemKey;
use crate::items::{
    FLAG_DRAFT, FLAG_FLAGGED, FLAG_SEEN, Field, FieldSet, ItemKind, MessageItem, parse_date_time,
    write_message,
};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter};
use base64::Engine as _;
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::exmdb::v1 as pb;

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

/// Builds what EWS shows of a message, reading its properties and MIME
/// content only when `set` needs them.
pub(crate) async fn load_item(
    mb: &Mailbox<'_>,
    key: ItemKey,
    entry: Option<&pb::MessageEntry>,
    set: FieldSet,
) -> Result<MessageItem, EwsError> {
    let mut item = match entry {
        Some(e) if !set.needs_props() => MessageItem::from_entry(key, e),
        _ => {
            let m = mb.read_message(&key).await?;
            MessageItem::from_stored(key, &m)
        }
    };
    if set.contains(Field::MimeContent) || set.contains(Field::Attachments) {
        let raw = mb.content(key.message).await?;
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
    Ok(item)
}

/// A comparison of `FindItem`'s restriction over a listing entry.
#[derive(Debug, Clone, PartialEq)]
enum Restriction {
    Cmp(CmpField, std::cmp::Ordering, bool, i64),
    /// A text property compared with a constant (needs the message's properties).
    Text(TextMatch),
    And(Vec<Restriction>),
    Or(Vec<Restriction>),
    Not(Box<Restriction>),
}

#[derive(Debug, Clone, PartialEq)]
struct TextMatch {
    field: TextField,
    mode: TextMode,
    ignore_case: bool,
    equal: bool,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TextField {
    Subject,
    InternetMessageId,
    From,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TextMode {
    Full,
    Substring,
    Prefix,
}

impl TextMatch {
    fn parse(e: &Element, mode: TextMode, equal: bool) -> Option<TextMatch> {
        let field = match e.t("FieldURI").and_then(|f| f.attr("FieldURI"))? {
            "item:Subject" => TextField::Subject,
            "message:InternetMessageId" => TextField::InternetMessageId,
            "message:From" | "message:Sender" => TextField::From,
            _ => return None,
        };
        let constant = e
            .t("FieldURIOrConstant")
            .and_then(|c| c.t("Constant"))
            .or_else(|| e.t("Constant"))?;
        Some(TextMatch {
            field,
            mode,
            ignore_case: mode != TextMode::Full
                && e.attr("ContainmentComparison")
                    .is_some_and(|c| c.contains("IgnoreCase")),
            equal,
            value: constant.attr("Value")?.to_string(),
        })
    }

    fn matches(&self, item: &MessageItem) -> bool {
        let have = match self.field {
            TextField::Subject => item.subject.as_str(),
            TextField::InternetMessageId => item.internet_message_id.as_str(),
            TextField::From => item
                .from
                .as_ref()
                .map(|a| a.email.as_str())
                .unwrap_or_default(),
        };
        let (have, want) = if self.ignore_case {
            (have.to_lowercase(), self.value.to_lowercase())
        } else {
            (have.to_string(), self.value.clone())
        };
        let hit = match self.mode {
            TextMode::Full => have == want,
            TextMode::Substring => have.contains(&want),
            TextMode::Prefix => have.starts_with(&want),
        };
        hit == self.equal
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpField {
    IsRead,
    Flagged,
    Received,
    Size,
}

impl Restriction {
    fn parse(e: &Element) -> Result<Restriction, EwsError> {
        use std::cmp::Ordering::*;
        let unsupported = || {
            EwsError::new(
                ResponseCode::ErrorUnsupportedQueryFilter,
                format!("the restriction {} is not supported", e.name),
            )
        };
        let sub = |e: &Element| -> Result<Vec<Restriction>, EwsError> {
            e.children
                .iter()
                .filter(|c| c.ns == NS_TYPES)
                .map(Restriction::parse)
                .collect()
        };
        let (ord, eq) = match e.name.as_str() {
            "And" => return Ok(Restriction::And(sub(e)?)),
            "Or" => return Ok(Restriction::Or(sub(e)?)),
            "Not" => {
                let mut inner = sub(e)?;
                return match (inner.pop(), inner.is_empty()) {
                    (Some(r), true) => Ok(Restriction::Not(Box::new(r))),
                    _ => Err(EwsError::invalid("Not takes one restriction")),
                };
            }
            "Contains" => {
                let mode = match e.attr("ContainmentMode").unwrap_or("Substring") {
                    "FullString" => TextMode::Full,
                    "Prefixed" => TextMode::Prefix,
                    "Substring" => TextMode::Substring,
                    _ => return Err(unsupported()),
                };
                return TextMatch::parse(e, mode, true)
                    .map(Restriction::Text)
                    .ok_or_else(unsupported);
            }
            "IsEqualTo" | "IsNotEqualTo" => {
                if let Some(t) = TextMatch::parse(e, TextMode::Full, e.name == "IsEqualTo") {
                    return Ok(Restriction::Text(t));
                }
                if e.name == "IsEqualTo" {
                    (Equal, true)
                } else {
                    (Equal, false)
                }
            }
            "IsGreaterThan" => (Greater, true),
            "IsLessThan" => (Less, true),
            "IsGreaterThanOrEqualTo" => (Less, false),
            "IsLessThanOrEqualTo" => (Greater, false),
            _ => return Err(unsupported()),
        };
        let uri = e
            .t("FieldURI")
            .and_then(|f| f.attr("FieldURI"))
            .ok_or_else(unsupported)?;
        let value = e
            .t("FieldURIOrConstant")
            .and_then(|c| c.t("Constant"))
            .and_then(|c| c.attr("Value"))
            .ok_or_else(unsupported)?;
        let (field, number) = match uri {
            "message:IsRead" => (CmpField::IsRead, i64::from(value.trim() == "true")),
            "item:DateTimeReceived" => (
                CmpField::Received,
                parse_date_time(value)
                    .ok_or_else(|| EwsError::invalid("bad date in restriction"))?,
            ),
            "item:Size" => (
                CmpField::Size,
                value
                    .trim()
                    .parse()
                    .map_err(|_| EwsError::invalid("bad size in restriction"))?,
            ),
            _ => {
                return Err(EwsError::new(
                    ResponseCode::ErrorUnsupportedPathForQuery,
                    format!("restrictions on {uri} are not supported"),
                ));
            }
        };
        Ok(Restriction::Cmp(field, ord, eq, number))
    }

    /// Whether evaluating needs the messages' properties.
    fn needs_props(&self) -> bool {
        match self {
            Restriction::Text(_) => true,
            Restriction::Cmp(..) => false,
            Restriction::And(v) | Restriction::Or(v) => v.iter().any(Restriction::needs_props),
            Restriction::Not(r) => r.needs_props(),
        }
    }

    fn matches(&self, e: &pb::MessageEntry, item: Option<&MessageItem>) -> bool {
        match self {
            Restriction::And(v) => v.iter().all(|r| r.matches(e, item)),
            Restriction::Or(v) => v.iter().any(|r| r.matches(e, item)),
            Restriction::Not(r) => !r.matches(e, item),
            Restriction::Text(t) => item.is_some_and(|i| t.matches(i)),
            Restriction::Cmp(field, ord, eq, value) => {
                let have = match field {
                    CmpField::IsRead => i64::from(e.flags & FLAG_SEEN != 0),
                    CmpField::Flagged => i64::from(e.flags & FLAG_FLAGGED != 0),
                    CmpField::Received => e.internal_date,
                    CmpField::Size => e.size as i64,
                };
                (have.cmp(value) == *ord) == *eq
            }
        }
    }
}

/// Sort keys FindItem can order by without reading every message.
fn sort_entries(entries: &mut [pb::MessageEntry], op: &Element) -> Result<(), EwsError> {
    let mut keys: Vec<(CmpField, bool)> = Vec::new();
    if let Some(order) = op.m("SortOrder") {
        for fo in order.children.iter().filter(|c| c.name == "FieldOrder") {
            let desc = fo.attr("Order") == Some("Descending");
            let uri = fo
                .t("FieldURI")
                .and_then(|f| f.attr("FieldURI"))
                .unwrap_or_default();
            let field = match uri {
                "item:DateTimeReceived" | "item:DateTimeSent" | "item:DateTimeCreated" => {
                    CmpField::Received
                }
                "item:Size" => CmpField::Size,
                "message:IsRead" => CmpField::IsRead,
                "item:Flag" => CmpField::Flagged,
                other => {
                    return Err(EwsError::new(
                        ResponseCode::ErrorUnsupportedPathForQuery,
                        format!("sorting by {other} is not supported"),
                    ));
                }
            };
            keys.push((field, desc));
        }
    }
    if keys.is_empty() {
        keys.push((CmpField::Received, true));
    }
    let value = |e: &pb::MessageEntry, f: CmpField| match f {
        CmpField::IsRead => i64::from(e.flags & FLAG_SEEN != 0),
        CmpField::Flagged => i64::from(e.flags & FLAG_FLAGGED != 0),
        CmpField::Received => e.internal_date,
        CmpField::Size => e.size as i64,
    };
    entries.sort_by(|a, b| {
        for (f, desc) in &keys {
            let o = value(a, *f).cmp(&value(b, *f));
            let o = if *desc { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        // Newest arrival first among equals, for a stable order.
        b.uid.cmp(&a.uid)
    });
    Ok(())
}

struct FoundPage {
    items: Vec<MessageItem>,
    total: usize,
    next_offset: usize,
    last: bool,
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
    let (offset, max, from_end) = match op.m("IndexedPageItemView") {
        Some(v) => (
            v.attr("Offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0usize),
            v.attr("MaxEntriesReturned")
                .and_then(|o| o.parse().ok())
                .unwrap_or(MAX_PAGE),
            v.attr("BasePoint") == Some("End"),
        ),
        None => (0, MAX_PAGE, false),
    };
    let results = each_of!(op, "ParentFolderIds", w, "FindItem", |p| {
        let folder = mb.resolve_folder(p).await?;
        check_kind(&folder)?;
        let store = mb.guid().await?;
        let mut entries = if traversal == "Associated" {
            // Folder-associated items are not kept for mail folders.
            Vec::new()
        } else {
            mb.list(folder.id, 1).await?
        };
        let mut loaded = std::collections::HashMap::new();
        if let Some(r) = &restriction {
            if r.needs_props() {
                let mut kept = Vec::new();
                for e in entries {
                    let key = ItemKey {
                        store,
                        folder: folder.id,
                        message: e.message_id,
                        uid: e.uid,
                    };
                    let item = load_item(mb, key, None, FieldSet::all_but_mime()).await?;
                    if r.matches(&e, Some(&item)) {
                        loaded.insert(e.uid, item);
                        kept.push(e);
                    }
                }
                entries = kept;
            } else {
                entries.retain(|e| r.matches(e, None));
            }
        }
        sort_entries(&mut entries, op)?;
        let total = entries.len();
        let range: Vec<pb::MessageEntry> = if from_end {
            let end = total.saturating_sub(offset);
            let start = end.saturating_sub(max);
            entries[start..end].to_vec()
        } else {
            entries.into_iter().skip(offset).take(max).collect()
        };
        let mut items = Vec::with_capacity(range.len());
        for e in &range {
            let key = ItemKey {
                store,
                folder: folder.id,
                message: e.message_id,
                uid: e.uid,
            };
            let item = match loaded.remove(&e.uid) {
                Some(mut item) => {
                    if set.contains(Field::MimeContent) {
                        item.mime = Some(mb.content(key.message).await?);
                    }
                    item
                }
                None => load_item(mb, key, Some(e), set).await?,
            };
            items.push(item);
        }
        let next_offset = offset + items.len();
        Ok(FoundPage {
            last: next_offset >= total,
            items,
            total,
            next_offset,
        })
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
            write_message(w, item, set);
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
