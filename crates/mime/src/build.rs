//! Building MIME from a structured message (the MIME form of a message
//! created through MAPI, EWS or similar).

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address as BuilderAddress;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};

use crate::address::Address;
use crate::summary::{Importance, MessageDate, Sensitivity};

/// A message to turn into MIME with [`build_mime`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMessage {
    /// Subject; non-ASCII is RFC 2047 encoded.
    pub subject: Option<String>,
    /// From addresses.
    pub from: Vec<Address>,
    /// Sender addresses.
    pub sender: Vec<Address>,
    /// Reply-To addresses.
    pub reply_to: Vec<Address>,
    /// To addresses; consecutive addresses with the same `group` are
    /// written as one RFC 5322 group.
    pub to: Vec<Address>,
    /// Cc addresses.
    pub cc: Vec<Address>,
    /// Bcc addresses.
    pub bcc: Vec<Address>,
    /// Date; the time of building when `None`.
    pub date: Option<MessageDate>,
    /// Message-ID, with or without angle brackets; generated when `None`.
    pub message_id: Option<String>,
    /// In-Reply-To message id.
    pub in_reply_to: Option<String>,
    /// References message ids.
    pub references: Vec<String>,
    /// Written as `Importance:` and `X-Priority:` unless normal.
    pub importance: Importance,
    /// Written as `Sensitivity:` unless `None` or normal.
    pub sensitivity: Option<Sensitivity>,
    /// Plain text body.
    pub body_text: Option<String>,
    /// HTML body.
    pub body_html: Option<String>,
    /// Attachments; inline ones go into a multipart/related with the body.
    pub attachments: Vec<OutgoingAttachment>,
    /// More header fields, written as given after the standard ones.
    pub extra_headers: Vec<(String, String)>,
}

/// One attachment of an [`OutgoingMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingAttachment {
    /// File name; non-ASCII is RFC 2047 encoded.
    pub name: Option<String>,
    /// `type/subtype`; message/rfc822 content is embedded unencoded.
    pub mime_type: String,
    /// The decoded content.
    pub content: Vec<u8>,
    /// Content-ID, without angle brackets.
    pub content_id: Option<String>,
    /// Inline (part of an HTML body) rather than a separate attachment.
    pub inline: bool,
}

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// An extra header's name is not a valid field name.
    #[error("invalid header field name {0:?}")]
    InvalidHeaderName(String),
    /// A header value contains CR or LF, which would inject header fields.
    #[error("header field {0:?} has a line break in its value")]
    LineBreakInHeader(String),
    /// Writing the message failed.
    #[error("writing MIME failed: {0}")]
    Write(String),
}

fn strip_brackets(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

fn check_value(name: &str, value: &str) -> Result<(), BuildError> {
    if value.contains(['\r', '\n']) {
        return Err(BuildError::LineBreakInHeader(name.to_owned()));
    }
    Ok(())
}

fn builder_addresses(list: &[Address]) -> Result<BuilderAddress<'_>, BuildError> {
    let mut items: Vec<BuilderAddress<'_>> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let a = &list[i];
        check_value("address", &a.addr)?;
        if let Some(n) = &a.name {
            check_value("address", n)?;
        }
        if let Some(group) = &a.group {
            let mut members = Vec::new();
            while i < list.len() && list[i].group.as_ref() == Some(group) {
                members.push(BuilderAddress::new_address(
                    list[i].name.as_deref(),
                    list[i].addr.as_str(),
                ));
                i += 1;
            }
            items.push(BuilderAddress::new_group(Some(group.as_str()), members));
        } else {
            items.push(BuilderAddress::new_address(
                a.name.as_deref(),
                a.addr.as_str(),
            ));
            i += 1;
        }
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        BuilderAddress::new_list(items)
    })
}

fn attachment_part(a: &OutgoingAttachment) -> MimePart<'_> {
    let mime_type = if a.mime_type.contains('/') {
        a.mime_type.as_str()
    } else {
        "application/octet-stream"
    };
    let is_message = mime_type.eq_ignore_ascii_case("message/rfc822");
    let mut part = MimePart::new(mime_type, BodyPart::Binary(a.content.as_slice().into()));
    if is_message {
        // RFC 2046 §5.2.1: message/rfc822 may only be 7bit, 8bit or binary.
        let cte = if a.content.is_ascii() { "7bit" } else { "8bit" };
        part = part.transfer_encoding(cte);
    }
    let disposition = ContentType::new(if a.inline { "inline" } else { "attachment" });
    let disposition = match &a.name {
        Some(name) => disposition.attribute("filename", name.as_str()),
        None => disposition,
    };
    part = part.header("Content-Disposition", disposition);
    if let Some(cid) = &a.content_id {
        part = part.cid(strip_brackets(cid));
    }
    part
}

fn body_part(m: &OutgoingMessage) -> MimePart<'_> {
    let text = m
        .body_text
        .as_deref()
        .map(|t| MimePart::new("text/plain", t));
    let html = m
        .body_html
        .as_deref()
        .map(|h| MimePart::new("text/html", h));
    let mut body = match (text, html) {
        (Some(t), Some(h)) => MimePart::new("multipart/alternative", vec![t, h]),
        (Some(t), None) => t,
        (None, Some(h)) => h,
        (None, None) => MimePart::new("text/plain", ""),
    };
    let inline: Vec<MimePart<'_>> = m
        .attachments
        .iter()
        .filter(|a| a.inline)
        .map(attachment_part)
        .collect();
    if !inline.is_empty() {
        let mut parts = vec![body];
        parts.extend(inline);
        body = MimePart::new("multipart/related", parts);
    }
    let regular: Vec<MimePart<'_>> = m
        .attachments
        .iter()
        .filter(|a| !a.inline)
        .map(attachment_part)
        .collect();
    if !regular.is_empty() {
        let mut parts = vec![body];
        parts.extend(regular);
        body = MimePart::new("multipart/mixed", parts);
    }
    body
}

/// Builds an RFC 5322 message with CRLF line endings: multipart/alternative
/// for text plus HTML, multipart/related around the body for inline
/// attachments, multipart/mixed for other attachments.
pub fn build_mime(m: &OutgoingMessage) -> Result<Vec<u8>, BuildError> {
    let mut b = MessageBuilder::new();
    if !m.from.is_empty() {
        b = b.from(builder_addresses(&m.from)?);
    }
    if !m.sender.is_empty() {
        b = b.sender(builder_addresses(&m.sender)?);
    }
    if !m.reply_to.is_empty() {
        b = b.reply_to(builder_addresses(&m.reply_to)?);
    }
    if !m.to.is_empty() {
        b = b.to(builder_addresses(&m.to)?);
    }
    if !m.cc.is_empty() {
        b = b.cc(builder_addresses(&m.cc)?);
    }
    if !m.bcc.is_empty() {
        b = b.bcc(builder_addresses(&m.bcc)?);
    }
    if let Some(s) = &m.subject {
        check_value("Subject", s)?;
        b = b.subject(s.as_str());
    }
    if let Some(d) = &m.date {
        let written = mail_parser::DateTime::from_timestamp(d.unix_seconds)
            .to_timezone(i64::from(d.utc_offset_minutes) * 60)
            .to_rfc822();
        b = b.header("Date", Raw::new(written));
    }
    if let Some(id) = &m.message_id {
        check_value("Message-ID", id)?;
        b = b.message_id(strip_brackets(id));
    }
    if let Some(id) = &m.in_reply_to {
        check_value("In-Reply-To", id)?;
        b = b.in_reply_to(strip_brackets(id));
    }
    if !m.references.is_empty() {
        for r in &m.references {
            check_value("References", r)?;
        }
        let ids: Vec<&str> = m.references.iter().map(|r| strip_brackets(r)).collect();
        b = b.references(MessageId::from(ids));
    }
    match m.importance {
        Importance::High => {
            b = b
                .header("Importance", Raw::new("high"))
                .header("X-Priority", Raw::new("1"))
        }
        Importance::Low => {
            b = b
                .header("Importance", Raw::new("low"))
                .header("X-Priority", Raw::new("5"))
        }
        Importance::Normal => {}
    }
    let sensitivity = match m.sensitivity {
        Some(Sensitivity::Personal) => Some("Personal"),
        Some(Sensitivity::Private) => Some("Private"),
        Some(Sensitivity::CompanyConfidential) => Some("Company-Confidential"),
        Some(Sensitivity::Normal) | None => None,
    };
    if let Some(s) = sensitivity {
        b = b.header("Sensitivity", Raw::new(s));
    }
    for (name, value) in &m.extra_headers {
        if name.is_empty() || !name.bytes().all(|c| (33..=126).contains(&c) && c != b':') {
            return Err(BuildError::InvalidHeaderName(name.clone()));
        }
        check_value(name, value)?;
        b = b.header(name.as_str(), Text::new(value.as_str()));
    }
    b = b.body(body_part(m));
    b.write_to_vec()
        .map_err(|e| BuildError::Write(e.to_string()))
}
