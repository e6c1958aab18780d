//! Sending: SendItem (drafts already in the store) and the sending
//! dispositions of CreateItem hand the message to `outgoing_smtp_url`
//! through groxide-submit; the envelope's recipients are the message's To,
//! Cc and Bcc (the Bcc header is not sent), the sender the caller.

use super::refuse;
use crate::items::{FLAG_DRAFT, FLAG_SEEN};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::xml::{Element, EwsElement, XmlWriter};
use groxide_rpc::pb::common::v1 as cpb;
use groxide_submit::Envelope;

/// The envelope recipients of an RFC 5322 message: To, Cc and Bcc.
pub(crate) fn recipients(raw: &[u8]) -> Vec<String> {
    let Some(m) = mail_parser::MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for list in [m.to(), m.cc(), m.bcc()].into_iter().flatten() {
        for a in list.iter() {
            if let Some(addr) = a.address()
                && !addr.is_empty()
                && !out.iter().any(|o| o.eq_ignore_ascii_case(addr))
            {
                out.push(addr.to_string());
            }
        }
    }
    out
}

/// The message without its Bcc header (and the header's folded lines).
pub(crate) fn without_bcc(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut skipping = false;
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .map(|p| p + 1)
            .unwrap_or(rest.len());
        let (line, tail) = rest.split_at(end);
        rest = tail;
        if line == b"\r\n" || line == b"\n" {
            out.extend_from_slice(line);
            out.extend_from_slice(rest);
            break;
        }
        let folded = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !folded {
            skipping = line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"bcc:");
        }
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Hands one message to the relay.
pub(crate) async fn submit(mb: &Mailbox<'_>, raw: &[u8]) -> Result<(), EwsError> {
    let submitter = mb.submitter().ok_or_else(|| {
        EwsError::new(
            ResponseCode::ErrorMessageSubmissionBlocked,
            "this server has no outgoing relay",
        )
    })?;
    let to = recipients(raw);
    if to.is_empty() {
        return Err(EwsError::new(
            ResponseCode::ErrorInvalidRecipients,
            "the message has no recipients",
        ));
    }
    let envelope = Envelope {
        from: mb.user.clone(),
        recipients: to,
    };
    let report = submitter
        .send_bytes(&envelope, &without_bcc(raw))
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "EWS submission failed");
            let code = if e.is_temporary() {
                ResponseCode::ErrorInternalServerTransientError
            } else {
                ResponseCode::ErrorMessageSubmissionBlocked
            };
            EwsError::new(code, format!("the relay refused the message: {e}"))
        })?;
    if !report.all_accepted() {
        let refused: Vec<&str> = report
            .recipients
            .iter()
            .filter(|r| !report.accepted().any(|a| a == r.address))
            .map(|r| r.address.as_str())
            .collect();
        if report.accepted().next().is_none() {
            return Err(EwsError::new(
                ResponseCode::ErrorInvalidRecipients,
                format!("the relay refused every recipient: {}", refused.join(", ")),
            ));
        }
        tracing::info!(refused = ?refused, "EWS submission: some recipients refused");
    }
    Ok(())
}

pub(crate) async fn send_item(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let save = op.attr("SaveItemToFolder") != Some("false");
    let target = if save {
        match op.m("SavedItemFolderId") {
            Some(f) => mb.resolve_folder_in(Some(f), "SavedItemFolderId").await,
            None => mb.folder_by_role("sent").await,
        }
        .map(Some)
    } else {
        Ok(None)
    };
    let target = match target {
        Ok(t) => t,
        Err(e) => return refuse(w, "SendItem", e),
    };
    let results = each_of!(op, "ItemIds", w, "SendItem", |id| {
        let key = mb.item_key(id).await?;
        // Reading the properties checks the id still names the message.
        mb.read_message(&key).await?;
        let raw = mb.content(key.message).await?;
        submit(mb, &raw).await?;
        match &target {
            Some(sent) if sent.id != key.folder => {
                let (moved, _) = mb.copy(&key, sent.id, true).await?;
                fix_flags(mb, sent.id, moved.uid).await
            }
            Some(sent) => fix_flags(mb, sent.id, key.uid).await,
            None => mb.delete(&key, true).await,
        }
    });
    write_messages(w, "SendItem", &results, |_, _| {});
}

/// A sent message is read and no draft.
async fn fix_flags(mb: &Mailbox<'_>, folder: u64, uid: u32) -> Result<(), EwsError> {
    let range = || {
        vec![cpb::UidRange {
            first: uid,
            last: uid,
        }]
    };
    mb.set_flags(folder, range(), false, FLAG_DRAFT).await?;
    mb.set_flags(folder, range(), true, FLAG_SEEN).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_recipients_come_from_to_cc_and_bcc_and_bcc_is_not_sent() {
        let raw = b"From: a@x\r\nTo: B <b@x>, c@x\r\nCc: c@x, d@x\r\nBcc: e@x,\r\n f@x\r\nSubject: s\r\n\r\nBcc: body\r\n";
        assert_eq!(recipients(raw), ["b@x", "c@x", "d@x", "e@x", "f@x"]);
        let sent = String::from_utf8(without_bcc(raw)).unwrap();
        assert_eq!(
            sent,
            "From: a@x\r\nTo: B <b@x>, c@x\r\nCc: c@x, d@x\r\nSubject: s\r\n\r\nBcc: body\r\n"
        );
    }
}
