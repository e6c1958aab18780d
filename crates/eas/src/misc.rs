//! The smaller commands: GetItemEstimate, ItemOperations (Fetch),
//! MoveItems, SendMail (through groxide-submit, a copy saved to Sent
//! Items) and Settings (DeviceInformation, UserInformation).

use crate::mail::{BodyPreference, attachment, parse_file_reference};
use crate::sync::{
    collection_folder, estimate, fetch_entry, item_data, message_of, server_id, state_of,
};
use crate::{Ctx, Failure, expect_root};
use base64::Engine as _;
use groxide_rpc::exmdb_client::{folder_id, folder_role};
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use groxide_submit::Envelope;
use groxide_wbxml::{
    AirSync, AirSyncBase, ComposeMail, Element, GetItemEstimate, ItemOperations, Move, Search,
    Settings,
};

pub(crate) async fn get_item_estimate(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, GetItemEstimate::GetItemEstimate)?;
    let mut responses = Vec::new();
    let collections = request
        .child(GetItemEstimate::Collections)
        .map(|c| {
            c.children_named(GetItemEstimate::Collection)
                .cloned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for c in collections {
        let id = c
            .child_text(GetItemEstimate::CollectionId)
            .unwrap_or("")
            .trim()
            .to_string();
        let key = c
            .child_text(AirSync::SyncKey)
            .unwrap_or("")
            .trim()
            .to_string();
        let (status, count) = match collection_folder(ctx, &id).await? {
            None => (2, None),
            Some((folder, _)) => match state_of(ctx, &id, &key).await? {
                None => (4, None),
                Some((state, _)) => (1, Some(estimate(ctx, folder.id, &state).await?)),
            },
        };
        let mut coll = vec![Element::with_text(GetItemEstimate::CollectionId, &id)];
        if let Some(n) = count {
            coll.push(Element::with_text(GetItemEstimate::Estimate, n.to_string()));
        }
        responses.push(Element::with_children(
            GetItemEstimate::Response,
            [
                Element::with_text(GetItemEstimate::Status, status.to_string()),
                Element::with_children(GetItemEstimate::Collection, coll),
            ],
        ));
    }
    Ok(Some(Element::with_children(
        GetItemEstimate::GetItemEstimate,
        responses,
    )))
}

pub(crate) async fn item_operations(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, ItemOperations::ItemOperations)?;
    let mut out = Vec::new();
    for op in request.children() {
        if op.is(ItemOperations::EmptyFolderContents) {
            out.push(empty_folder_contents(ctx, op).await?);
            continue;
        }
        if !op.is(ItemOperations::Fetch) {
            out.push(Element::with_children(
                ItemOperations::Fetch,
                [Element::with_text(ItemOperations::Status, "2")],
            ));
            continue;
        }
        if let Some(reference) = op.child_text(AirSyncBase::FileReference) {
            out.push(fetch_attachment(ctx, reference.trim()).await?);
            continue;
        }
        // A search result names its item by LongId (our ServerId).
        let long_id = op.child_text(Search::LongId).map(|l| l.trim().to_string());
        let sid = long_id.clone().unwrap_or_else(|| {
            op.child_text(AirSync::ServerId)
                .unwrap_or("")
                .trim()
                .to_string()
        });
        let collection = match &long_id {
            Some(l) => l.split_once(':').map(|(c, _)| c).unwrap_or("").to_string(),
            None => op
                .child_text(AirSync::CollectionId)
                .unwrap_or("")
                .trim()
                .to_string(),
        };
        let pref = BodyPreference::from_options(op.child(ItemOperations::Options));
        let kind = collection_folder(ctx, &collection).await?.map(|(_, k)| k);
        let data = match (kind, message_of(&sid)) {
            (Some(kind), Some(mid)) => match fetch_entry(ctx, mid).await? {
                Some(entry) => item_data(ctx, kind, &entry, pref).await?,
                None => None,
            },
            _ => None,
        };
        let mut r = vec![Element::with_text(
            ItemOperations::Status,
            if data.is_some() { "1" } else { "6" },
        )];
        match long_id {
            Some(l) => r.push(Element::with_text(Search::LongId, l)),
            None => {
                r.push(Element::with_text(AirSync::CollectionId, &collection));
                r.push(Element::with_text(AirSync::ServerId, &sid));
            }
        }
        r.push(Element::with_text(AirSync::Class, "Email"));
        if let Some(d) = data {
            r.push(Element::with_children(
                ItemOperations::Properties,
                d.children().iter().cloned(),
            ));
        }
        out.push(Element::with_children(ItemOperations::Fetch, r));
    }
    Ok(Some(Element::with_children(
        ItemOperations::ItemOperations,
        [
            Element::with_text(ItemOperations::Status, "1"),
            Element::with_children(ItemOperations::Response, out),
        ],
    )))
}

/// Fetch of an attachment by the FileReference a Sync gave: its content
/// type and bytes (base64), or Status 6 when the message or part is gone.
async fn fetch_attachment(ctx: &Ctx<'_>, reference: &str) -> Result<Element, Failure> {
    let found = match parse_file_reference(reference) {
        Some((mid, index)) => match ctx.exmdb().read_content_all(&ctx.dir, mid).await {
            Ok(raw) => attachment(&raw, index),
            Err(e) if e.reason() == Some(Reason::NoSuchMessage) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let mut r = vec![
        Element::with_text(
            ItemOperations::Status,
            if found.is_some() { "1" } else { "6" },
        ),
        Element::with_text(AirSyncBase::FileReference, reference),
    ];
    if let Some((content_type, bytes)) = found {
        r.push(Element::with_children(
            ItemOperations::Properties,
            [
                Element::with_text(AirSyncBase::ContentType, content_type),
                Element::with_text(
                    ItemOperations::Data,
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                ),
            ],
        ));
    }
    Ok(Element::with_children(ItemOperations::Fetch, r))
}

/// EmptyFolderContents: every item of the collection is deleted (with
/// DeleteSubFolders, its subfolders too).
async fn empty_folder_contents(ctx: &Ctx<'_>, op: &Element) -> Result<Element, Failure> {
    let collection = op
        .child_text(AirSync::CollectionId)
        .unwrap_or("")
        .trim()
        .to_string();
    let subfolders = op
        .child(ItemOperations::Options)
        .is_some_and(|o| o.child(ItemOperations::DeleteSubFolders).is_some());
    let status = match collection_folder(ctx, &collection).await? {
        None => "6",
        Some((folder, _)) => {
            ctx.exmdb()
                .empty_folder(pb::EmptyFolderRequest {
                    dir: ctx.dir.clone(),
                    folder: Some(folder_id(folder.id)),
                    hard: false,
                    subfolders,
                })
                .await?;
            "1"
        }
    };
    Ok(Element::with_children(
        ItemOperations::EmptyFolderContents,
        [
            Element::with_text(ItemOperations::Status, status),
            Element::with_text(AirSync::CollectionId, collection),
        ],
    ))
}

pub(crate) async fn move_items(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, Move::MoveItems)?;
    let mut out = Vec::new();
    for m in request.children_named(Move::Move) {
        let src = m
            .child_text(Move::SrcMsgId)
            .unwrap_or("")
            .trim()
            .to_string();
        let src_fld = m
            .child_text(Move::SrcFldId)
            .unwrap_or("")
            .trim()
            .to_string();
        let dst_fld = m
            .child_text(Move::DstFldId)
            .unwrap_or("")
            .trim()
            .to_string();
        let mut r = vec![Element::with_text(Move::SrcMsgId, &src)];
        let source = collection_folder(ctx, &src_fld).await?;
        let target = collection_folder(ctx, &dst_fld).await?;
        let entry = match message_of(&src) {
            Some(mid) => fetch_entry(ctx, mid).await?,
            None => None,
        };
        let status = match (source, target, entry) {
            (None, _, _) | (_, _, None) => 1,
            (_, None, _) => 2,
            (Some((s, _)), Some((t, _)), _) if s.id == t.id => 4,
            (Some((s, _)), Some((t, _)), Some(e)) => {
                let reply = ctx
                    .exmdb()
                    .move_messages(pb::CopyMessagesRequest {
                        dir: ctx.dir.clone(),
                        folder: Some(folder_id(s.id)),
                        uids: vec![cpb::UidRange {
                            first: e.uid,
                            last: e.uid,
                        }],
                        target: Some(folder_id(t.id)),
                    })
                    .await?;
                match reply.uids.first() {
                    Some(map) => {
                        let moved = find_by_uid(ctx, t.id, map.target_uid).await?;
                        r.push(Element::with_text(
                            Move::DstMsgId,
                            server_id(t.id, moved.unwrap_or(0)),
                        ));
                        3
                    }
                    None => 1,
                }
            }
        };
        r.insert(1, Element::with_text(Move::Status, status.to_string()));
        out.push(Element::with_children(Move::Response, r));
    }
    Ok(Some(Element::with_children(Move::MoveItems, out)))
}

async fn find_by_uid(ctx: &Ctx<'_>, folder: u64, uid: u32) -> Result<Option<u64>, Failure> {
    use futures_util::StreamExt;
    let mut s = Box::pin(
        ctx.exmdb()
            .list_messages(pb::ListMessagesRequest {
                limit: 0,
                dir: ctx.dir.clone(),
                folder: Some(folder_id(folder)),
                range: Some(cpb::UidRange {
                    first: uid,
                    last: uid,
                }),
            })
            .await?,
    );
    while let Some(e) = s.next().await {
        let e = e?;
        if e.uid == uid {
            return Ok(Some(e.message_id));
        }
    }
    Ok(None)
}

fn compose_status(root: ComposeMail, status: u8) -> Option<Element> {
    Some(Element::with_children(
        root,
        [Element::with_text(ComposeMail::Status, status.to_string())],
    ))
}

/// The recipients of a message: To, Cc and Bcc addresses.
fn recipients(raw: &[u8]) -> Vec<String> {
    let Some(m) = mail_parser::MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for list in [m.to(), m.cc(), m.bcc()].into_iter().flatten() {
        for a in list.iter() {
            if let Some(addr) = a.address() {
                out.push(addr.to_string());
            }
        }
    }
    out
}

/// Removes Bcc header lines from the copy that goes out.
fn without_bcc(raw: &[u8]) -> Vec<u8> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 1))
        .unwrap_or(raw.len());
    let (head, body) = raw.split_at(end);
    let mut out = Vec::with_capacity(raw.len());
    let mut skipping = false;
    for line in head.split_inclusive(|b| *b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if continuation && skipping {
            continue;
        }
        skipping = line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"bcc:");
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(body);
    out
}

/// What a composed message does with the item it answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compose {
    Send,
    Reply,
    Forward,
}

pub(crate) async fn send_mail(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    compose(
        ctx,
        expect_root(document, ComposeMail::SendMail)?,
        Compose::Send,
    )
    .await
}

pub(crate) async fn smart_reply(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    compose(
        ctx,
        expect_root(document, ComposeMail::SmartReply)?,
        Compose::Reply,
    )
    .await
}

pub(crate) async fn smart_forward(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    compose(
        ctx,
        expect_root(document, ComposeMail::SmartForward)?,
        Compose::Forward,
    )
    .await
}

/// `message` with `original` attached as message/rfc822: the client's
/// content headers and body become the first part.
pub(crate) fn with_original(message: &[u8], original: &[u8]) -> Vec<u8> {
    let split = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p + 2, p + 4))
        .or_else(|| {
            message
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| (p + 1, p + 2))
        })
        .unwrap_or((message.len(), message.len()));
    let (head, body) = (&message[..split.0], &message[split.1..]);
    let mut outer = Vec::new();
    let mut content = Vec::new();
    let mut in_content = false;
    for line in head.split_inclusive(|b| *b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            in_content = line.len() > 8 && line[..8].eq_ignore_ascii_case(b"content-");
        }
        if in_content {
            content.extend_from_slice(line);
        } else if !(line.len() >= 13 && line[..13].eq_ignore_ascii_case(b"mime-version:")) {
            outer.extend_from_slice(line);
        }
    }
    if content.is_empty() {
        content.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    }
    let boundary = format!("gx-fwd-{:016x}", rand::random::<u64>());
    let mut out = outer;
    out.extend_from_slice(
        format!("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n")
            .as_bytes(),
    );
    out.extend_from_slice(&content);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out.extend_from_slice(
        format!("\r\n--{boundary}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n")
            .as_bytes(),
    );
    out.extend_from_slice(original);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

async fn compose(
    ctx: &mut Ctx<'_>,
    request: Element,
    kind: Compose,
) -> Result<Option<Element>, Failure> {
    let root = match kind {
        Compose::Send => ComposeMail::SendMail,
        Compose::Reply => ComposeMail::SmartReply,
        Compose::Forward => ComposeMail::SmartForward,
    };
    let mut mime: Vec<u8> = match request.child(ComposeMail::Mime).map(|m| &m.content) {
        Some(groxide_wbxml::Content::Opaque(b)) => b.clone(),
        Some(groxide_wbxml::Content::Text(t)) => t.clone().into_bytes(),
        _ => return Ok(compose_status(root, 103)),
    };
    // The item answered: Source/ItemId (a ServerId of this server).
    let source = match kind {
        Compose::Send => None,
        _ => {
            let item = request
                .child(ComposeMail::Source)
                .and_then(|s| s.child_text(ComposeMail::ItemId))
                .and_then(message_of);
            let Some(mid) = item else {
                return Ok(compose_status(root, 103));
            };
            match fetch_entry(ctx, mid).await? {
                Some(e) => Some((e, mid)),
                None => return Ok(compose_status(root, 150)),
            }
        }
    };
    let replace = request.child(ComposeMail::ReplaceMime).is_some();
    if kind == Compose::Forward
        && !replace
        && let Some((_, mid)) = &source
    {
        let original = ctx.exmdb().read_content_all(&ctx.dir, *mid).await?;
        mime = with_original(&mime, &original);
    }
    let to = recipients(&mime);
    if to.is_empty() {
        return Ok(compose_status(root, 103));
    }
    let save = request.child(ComposeMail::SaveInSentItems).is_some() || ctx.params.save_in_sent;
    let Some(submitter) = ctx.eas.submitter() else {
        tracing::warn!("ActiveSync SendMail: outgoing_smtp_url is unusable, no relay");
        return Ok(compose_status(root, 120));
    };
    let envelope = Envelope {
        from: ctx.user.clone(),
        recipients: to,
    };
    let outgoing = without_bcc(&mime);
    match ctx
        .off_turn(submitter.send_bytes(&envelope, &outgoing))
        .await
    {
        Ok(report)
            if report
                .recipients
                .iter()
                .any(|r| matches!(r.status, groxide_submit::RecipientStatus::Accepted(_))) => {}
        Ok(_) => return Ok(compose_status(root, 120)),
        Err(e) => {
            tracing::warn!(error = %e, user = %ctx.user, "ActiveSync SendMail failed");
            return Ok(compose_status(
                root,
                if e.is_temporary() { 111 } else { 120 },
            ));
        }
    }
    if let Some((entry, _)) = &source {
        // \Answered or $Forwarded on the original, as IMAP clients show it.
        let flag = if kind == Compose::Reply { 2 } else { 32 };
        ctx.exmdb()
            .set_flags(pb::SetFlagsRequest {
                dir: ctx.dir.clone(),
                folder: Some(folder_id(
                    ctx.exmdb()
                        .read_message(pb::MessageRequest {
                            dir: ctx.dir.clone(),
                            message_id: entry.message_id,
                        })
                        .await?
                        .folder_id,
                )),
                uids: vec![cpb::UidRange {
                    first: entry.uid,
                    last: entry.uid,
                }],
                mode: cpb::FlagMode::Add as i32,
                flags: flag,
                keywords: Vec::new(),
                unchanged_since: 0,
            })
            .await?;
    }
    if save {
        ctx.exmdb()
            .insert_message_bytes(
                pb::InsertHeader {
                    dir: ctx.dir.clone(),
                    folder: Some(folder_role("sent")),
                    flags: crate::mail::SEEN,
                    ..pb::InsertHeader::default()
                },
                mime,
            )
            .await?;
    }
    // Success is an empty body.
    Ok(None)
}

pub(crate) async fn settings(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, Settings::Settings)?;
    let mut out = vec![Element::with_text(Settings::Status, "1")];
    for s in request.children() {
        if s.is(Settings::DeviceInformation) {
            out.push(Element::with_children(
                Settings::DeviceInformation,
                [Element::with_text(Settings::Status, "1")],
            ));
        } else if s.is(Settings::UserInformation) {
            out.push(Element::with_children(
                Settings::UserInformation,
                [
                    Element::with_text(Settings::Status, "1"),
                    Element::with_children(
                        Settings::Get,
                        [Element::with_children(
                            Settings::EmailAddresses,
                            [Element::with_text(Settings::SMTPAddress, &ctx.user)],
                        )],
                    ),
                ],
            ));
        } else {
            out.push(Element::with_children(
                s.tag,
                [Element::with_text(Settings::Status, "2")],
            ));
        }
    }
    Ok(Some(Element::with_children(Settings::Settings, out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forward_carries_the_original_as_an_attachment() {
        let msg = b"From: a@x.test\r\nTo: b@x.test\r\nSubject: Fwd: hi\r\nMIME-Version: 1.0\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n\r\nSee below.\r\n";
        let original = b"From: c@x.test\r\nSubject: hi\r\n\r\nThe original.\r\n";
        let out = with_original(msg, original);
        let parsed = mail_parser::MessageParser::default().parse(&out).unwrap();
        assert_eq!(parsed.subject(), Some("Fwd: hi"));
        assert_eq!(
            parsed.body_text(0).as_deref().map(str::trim),
            Some("See below.")
        );
        let att = parsed.attachments().next().unwrap();
        let inner = att.message().unwrap();
        assert_eq!(inner.subject(), Some("hi"));
        assert_eq!(recipients(&out), ["b@x.test"]);
    }

    #[test]
    fn bcc_is_removed_and_every_recipient_is_found() {
        let m = b"From: a@x.test\r\nTo: b@x.test\r\nBcc: c@x.test,\r\n d@x.test\r\nSubject: s\r\n\r\nBcc: body stays\r\n";
        let out = without_bcc(m);
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains("c@x.test") && !s.contains("d@x.test"));
        assert!(s.contains("Subject: s") && s.ends_with("Bcc: body stays\r\n"));
        assert_eq!(recipients(m), ["b@x.test", "c@x.test", "d@x.test"]);
    }
}
