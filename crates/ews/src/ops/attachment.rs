//! File attachments of mail items: GetAttachment, CreateAttachment and
//! DeleteAttachment. A message with an attachment added or removed is
//! stored as a new message with the old one's flags, and the old one is
//! removed; the answer names the new root item (its id and change key).

use super::{list_of, refuse};
use crate::attachments::{self, FileAttachment};
use crate::ids::{AttachmentKey, ItemKey, change_key};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::xml::{Element, EwsElement, XmlWriter};
use base64::Engine as _;

fn no_attachment() -> EwsError {
    EwsError::new(
        ResponseCode::ErrorInvalidAttachmentId,
        "the message has no such attachment",
    )
}

/// The message an attachment id names, with its bytes.
async fn message_of(mb: &mut Mailbox<'_>, key: &ItemKey) -> Result<Vec<u8>, EwsError> {
    mb.check_store(key.store).await?;
    if crate::groupware::is_groupware(mb.kind_of(key.folder).await?) {
        return Err(EwsError::unsupported(
            "attachments of calendar items, contacts and tasks",
        ));
    }
    mb.read_message(key).await?;
    mb.content(key.message).await
}

/// Stores `raw` in place of the message `key`: same folder, same flags.
async fn replace(
    mb: &mut Mailbox<'_>,
    key: &ItemKey,
    raw: Vec<u8>,
) -> Result<(ItemKey, u64), EwsError> {
    let entry = mb.entry(key.folder, key.uid).await?;
    let stored = mb.insert(key.folder, raw, entry.flags).await?;
    mb.delete(key, true).await?;
    Ok(stored)
}

pub(crate) async fn get_attachment(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let results = each_of!(op, "AttachmentIds", w, "GetAttachment", |id| {
        let key = AttachmentKey::decode(id.attr("Id").unwrap_or_default())?;
        let raw = message_of(mb, &key.item).await?;
        let a = attachments::list(&raw)
            .into_iter()
            .nth(key.index as usize)
            .ok_or_else(no_attachment)?;
        Ok((key, a))
    });
    write_messages(w, "GetAttachment", &results, |w, (key, a)| {
        w.open("m:Attachments", &[])
            .open("t:FileAttachment", &[])
            .empty("t:AttachmentId", &[("Id", &key.encode())])
            .leaf("t:Name", &a.name)
            .leaf("t:ContentType", &a.content_type)
            .leaf("t:Size", &a.content.len().to_string())
            .leaf("t:IsInline", "false")
            .leaf(
                "t:Content",
                &base64::engine::general_purpose::STANDARD.encode(&a.content),
            )
            .close()
            .close();
    });
}

pub(crate) async fn create_attachment(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let parent = match op.m("ParentItemId") {
        Some(p) => p,
        None => {
            return refuse(
                w,
                "CreateAttachment",
                EwsError::invalid("ParentItemId is missing"),
            );
        }
    };
    let list = match list_of(op, "Attachments") {
        Ok(l) => l,
        Err(e) => return refuse(w, "CreateAttachment", e),
    };
    let r = async {
        let key = ItemKey::decode(parent.attr("Id").unwrap_or_default())?;
        let mut raw = message_of(mb, &key).await?;
        let first = attachments::list(&raw).len();
        for a in list {
            if a.name != "FileAttachment" {
                return Err(EwsError::unsupported(format!("creating a {}", a.name)));
            }
            let text: String = a
                .t("Content")
                .map(|c| c.text.split_ascii_whitespace().collect())
                .unwrap_or_default();
            let content = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| EwsError::invalid("the attachment's Content is not base64"))?;
            raw = attachments::add(
                &raw,
                &FileAttachment {
                    name: a.t_text("Name").unwrap_or_default().to_string(),
                    content_type: a
                        .t_text("ContentType")
                        .unwrap_or("application/octet-stream")
                        .to_string(),
                    content,
                },
            );
        }
        let (new, cn) = replace(mb, &key, raw).await?;
        Ok((new, cn, first))
    }
    .await;
    // One answer per attachment, all naming the new root item.
    let results: Vec<Result<(AttachmentKey, u64), EwsError>> = match r {
        Ok((item, cn, first)) => (0..list.len())
            .map(|i| {
                Ok((
                    AttachmentKey {
                        item,
                        index: (first + i) as u32,
                    },
                    cn,
                ))
            })
            .collect(),
        Err(e) => list.iter().map(|_| Err(e.clone())).collect(),
    };
    write_messages(w, "CreateAttachment", &results, |w, (key, cn)| {
        w.open("m:Attachments", &[])
            .open("t:FileAttachment", &[])
            .empty(
                "t:AttachmentId",
                &[
                    ("Id", &key.encode()),
                    ("RootItemId", &key.item.encode()),
                    ("RootItemChangeKey", &change_key(*cn)),
                ],
            )
            .close()
            .close();
    });
}

pub(crate) async fn delete_attachment(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let results = each_of!(op, "AttachmentIds", w, "DeleteAttachment", |id| {
        let key = AttachmentKey::decode(id.attr("Id").unwrap_or_default())?;
        let raw = message_of(mb, &key.item).await?;
        let raw = attachments::remove(&raw, key.index as usize).ok_or_else(no_attachment)?;
        replace(mb, &key.item, raw).await
    });
    write_messages(w, "DeleteAttachment", &results, |w, (key, cn)| {
        w.empty(
            "m:RootItemId",
            &[
                ("RootItemId", &key.encode()),
                ("RootItemChangeKey", &change_key(*cn)),
            ],
        );
    });
}
