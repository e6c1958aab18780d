//! Between MIME and MAPI: the properties, recipients and attachments derived
//! from raw RFC 5322 bytes (best effort, never failing), and the MIME form
//! built from a message created as properties.

use crate::messages::DerivedMessage;
use crate::props::{Prop, PropValue, filetime_from_unix, find_prop};
use crate::tags::*;
use groxide_mime::{
    Address, AttachmentInfo, Disposition, Importance, MessageDate, MessageSummary,
    OutgoingAttachment, OutgoingMessage, ParsedMessage, Sensitivity,
};

fn text(tag: crate::props::PropTag, s: &str, out: &mut Vec<Prop>) {
    out.push((tag, PropValue::Unicode(s.to_string())));
}

fn display_list(addrs: &[Address]) -> String {
    addrs
        .iter()
        .map(|a| a.name.clone().unwrap_or_else(|| a.addr.clone()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn person(
    a: &Address,
    name: crate::props::PropTag,
    addrtype: crate::props::PropTag,
    email: crate::props::PropTag,
    smtp: crate::props::PropTag,
    out: &mut Vec<Prop>,
) {
    text(name, a.name.as_deref().unwrap_or(&a.addr), out);
    text(addrtype, "SMTP", out);
    text(email, &a.addr, out);
    text(smtp, &a.addr, out);
}

fn recipient(a: &Address, kind: i32) -> Vec<Prop> {
    let mut p = vec![(PR_RECIPIENT_TYPE, PropValue::Long(kind))];
    person(
        a,
        PR_DISPLAY_NAME,
        PR_ADDRTYPE,
        PR_EMAIL_ADDRESS,
        PR_SMTP_ADDRESS,
        &mut p,
    );
    p
}

/// Properties derived from a message's MIME summary.
pub(crate) fn from_summary(s: &MessageSummary) -> DerivedMessage {
    let mut props: Vec<Prop> = Vec::with_capacity(24);
    let class = if s.is_encrypted || s.is_signed {
        "IPM.Note.SMIME"
    } else {
        "IPM.Note"
    };
    text(PR_MESSAGE_CLASS, class, &mut props);
    if let Some(subj) = &s.subject {
        text(PR_SUBJECT, subj, &mut props);
        text(PR_CONVERSATION_TOPIC, subj, &mut props);
    }
    if let Some(from) = s.from.first() {
        person(
            from,
            PR_SENT_REPRESENTING_NAME,
            PR_SENT_REPRESENTING_ADDRTYPE,
            PR_SENT_REPRESENTING_EMAIL_ADDRESS,
            PR_SENT_REPRESENTING_SMTP_ADDRESS,
            &mut props,
        );
    }
    if let Some(sender) = s.sender.first().or(s.from.first()) {
        person(
            sender,
            PR_SENDER_NAME,
            PR_SENDER_ADDRTYPE,
            PR_SENDER_EMAIL_ADDRESS,
            PR_SENDER_SMTP_ADDRESS,
            &mut props,
        );
    }
    if let Some(d) = s.date {
        props.push((
            PR_CLIENT_SUBMIT_TIME,
            PropValue::SysTime(filetime_from_unix(d.unix_seconds)),
        ));
    }
    if let Some(id) = &s.message_id {
        text(PR_INTERNET_MESSAGE_ID, id, &mut props);
    }
    if let Some(id) = &s.in_reply_to {
        text(PR_IN_REPLY_TO_ID, id, &mut props);
    }
    if !s.references.is_empty() {
        text(PR_INTERNET_REFERENCES, &s.references.join(" "), &mut props);
    }
    props.push((PR_IMPORTANCE, PropValue::Long(s.importance as i32)));
    if let Some(sens) = s.sensitivity {
        props.push((PR_SENSITIVITY, PropValue::Long(sens as i32)));
    }
    text(PR_DISPLAY_TO, &display_list(&s.to), &mut props);
    text(PR_DISPLAY_CC, &display_list(&s.cc), &mut props);
    text(PR_DISPLAY_BCC, &display_list(&s.bcc), &mut props);
    props.push((PR_HASATTACH, PropValue::Bool(s.has_attachments)));
    if s.has_attachments {
        props.push((PR_MESSAGE_FLAGS, PropValue::Long(MSGFLAG_HASATTACH)));
    }
    let mut recipients = Vec::with_capacity(s.to.len() + s.cc.len() + s.bcc.len());
    recipients.extend(s.to.iter().map(|a| recipient(a, MAPI_TO)));
    recipients.extend(s.cc.iter().map(|a| recipient(a, MAPI_CC)));
    recipients.extend(s.bcc.iter().map(|a| recipient(a, MAPI_BCC)));
    let attachments = s
        .attachments
        .iter()
        .map(|a| (attachment_props(a), a.part_path.clone()))
        .collect();
    DerivedMessage {
        props,
        recipients,
        attachments,
    }
}

fn attachment_props(a: &AttachmentInfo) -> Vec<Prop> {
    let mut p = Vec::with_capacity(8);
    let embedded = a.embedded.is_some() || a.mime_type == "message/rfc822";
    p.push((
        PR_ATTACH_METHOD,
        PropValue::Long(if embedded {
            ATTACH_EMBEDDED_MSG
        } else {
            ATTACH_BY_VALUE
        }),
    ));
    let name = a
        .name
        .clone()
        .or_else(|| a.embedded.as_ref().and_then(|e| e.subject.clone()));
    if let Some(n) = name {
        text(PR_ATTACH_LONG_FILENAME, &n, &mut p);
        text(PR_DISPLAY_NAME, &n, &mut p);
    }
    text(PR_ATTACH_MIME_TAG, &a.mime_type, &mut p);
    p.push((
        PR_ATTACH_SIZE,
        PropValue::Long(i32::try_from(a.size).unwrap_or(i32::MAX)),
    ));
    if let Some(cid) = &a.content_id {
        text(PR_ATTACH_CONTENT_ID, cid, &mut p);
    }
    if let Some(loc) = &a.content_location {
        text(PR_ATTACH_CONTENT_LOCATION, loc, &mut p);
    }
    p.push((
        PR_ATTACHMENT_HIDDEN,
        PropValue::Bool(a.disposition == Disposition::Inline),
    ));
    p
}

/// Derives the properties of raw message bytes.
pub(crate) fn derive_mime(raw: &[u8]) -> DerivedMessage {
    from_summary(&ParsedMessage::parse(raw).summary())
}

/// The plain and HTML bodies of raw message bytes.
pub(crate) fn mime_bodies(raw: &[u8]) -> (String, Option<String>) {
    let s = ParsedMessage::parse(raw).summary();
    (s.body_text, s.body_html)
}

/// The decoded content of the attachment at `part_path`.
pub(crate) fn mime_attachment(raw: &[u8], part_path: &str) -> Option<Vec<u8>> {
    let parsed = ParsedMessage::parse(raw);
    let s = parsed.summary();
    fn find<'a>(list: &'a [AttachmentInfo], path: &str) -> Option<&'a AttachmentInfo> {
        for a in list {
            if a.part_path == path {
                return Some(a);
            }
            if let Some(e) = &a.embedded
                && let Some(f) = find(&e.attachments, path)
            {
                return Some(f);
            }
        }
        None
    }
    find(&s.attachments, part_path).map(|a| parsed.attachment_content(a))
}

fn str_prop(props: &[Prop], tag: crate::props::PropTag) -> Option<String> {
    find_prop(props, tag)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

fn address(
    props: &[Prop],
    name: crate::props::PropTag,
    smtp: crate::props::PropTag,
    email: crate::props::PropTag,
) -> Option<Address> {
    let addr = str_prop(props, smtp).or_else(|| str_prop(props, email))?;
    Some(Address {
        name: str_prop(props, name).filter(|n| *n != addr),
        addr,
        group: None,
    })
}

/// The MIME form of a message created as properties.
pub(crate) fn build_outgoing(
    props: &[Prop],
    recipients: &[Vec<Prop>],
    attachments: &[(Vec<Prop>, Vec<u8>)],
) -> OutgoingMessage {
    let mut m = OutgoingMessage {
        subject: str_prop(props, PR_SUBJECT),
        message_id: str_prop(props, PR_INTERNET_MESSAGE_ID),
        in_reply_to: str_prop(props, PR_IN_REPLY_TO_ID),
        references: str_prop(props, PR_INTERNET_REFERENCES)
            .map(|r| r.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        body_text: str_prop(props, PR_BODY),
        body_html: match find_prop(props, PR_HTML) {
            Some(PropValue::Binary(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        },
        ..OutgoingMessage::default()
    };
    if let Some(PropValue::SysTime(t)) = find_prop(props, PR_CLIENT_SUBMIT_TIME) {
        m.date = Some(MessageDate {
            unix_seconds: crate::props::unix_from_filetime(*t),
            utc_offset_minutes: 0,
        });
    }
    m.importance = match find_prop(props, PR_IMPORTANCE).and_then(PropValue::as_i64) {
        Some(0) => Importance::Low,
        Some(2) => Importance::High,
        _ => Importance::Normal,
    };
    m.sensitivity = match find_prop(props, PR_SENSITIVITY).and_then(PropValue::as_i64) {
        Some(1) => Some(Sensitivity::Personal),
        Some(2) => Some(Sensitivity::Private),
        Some(3) => Some(Sensitivity::CompanyConfidential),
        _ => None,
    };
    m.from.extend(address(
        props,
        PR_SENT_REPRESENTING_NAME,
        PR_SENT_REPRESENTING_SMTP_ADDRESS,
        PR_SENT_REPRESENTING_EMAIL_ADDRESS,
    ));
    if let Some(sender) = address(
        props,
        PR_SENDER_NAME,
        PR_SENDER_SMTP_ADDRESS,
        PR_SENDER_EMAIL_ADDRESS,
    ) && m.from.first() != Some(&sender)
    {
        if m.from.is_empty() {
            m.from.push(sender);
        } else {
            m.sender.push(sender);
        }
    }
    for r in recipients {
        let Some(a) = address(r, PR_DISPLAY_NAME, PR_SMTP_ADDRESS, PR_EMAIL_ADDRESS) else {
            continue;
        };
        match find_prop(r, PR_RECIPIENT_TYPE).and_then(PropValue::as_i64) {
            Some(2) => m.cc.push(a),
            Some(3) => m.bcc.push(a),
            _ => m.to.push(a),
        }
    }
    for (p, content) in attachments {
        m.attachments.push(OutgoingAttachment {
            name: str_prop(p, PR_ATTACH_LONG_FILENAME)
                .or_else(|| str_prop(p, PR_ATTACH_FILENAME))
                .or_else(|| str_prop(p, PR_DISPLAY_NAME)),
            mime_type: str_prop(p, PR_ATTACH_MIME_TAG)
                .unwrap_or_else(|| "application/octet-stream".into()),
            content: content.clone(),
            content_id: str_prop(p, PR_ATTACH_CONTENT_ID),
            inline: matches!(
                find_prop(p, PR_ATTACHMENT_HIDDEN),
                Some(PropValue::Bool(true))
            ),
        });
    }
    m
}
