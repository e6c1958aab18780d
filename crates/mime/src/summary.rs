//! What the store derives from a message: addresses, dates, ids, priority,
//! body text and HTML, and the list of attachments.

use mail_parser::decoders::html::html_to_text;

use crate::address::{Address, decode_address_list};
use crate::charset::{bytes_to_text, decode_charset, decode_header_text};
use crate::header::unfold;
use crate::limits::MimeLimits;
use crate::tree::{Part, PartKind};

/// Everything derived from one message (or one embedded message).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageSummary {
    /// Subject with encoded words decoded; `None` without a Subject field.
    pub subject: Option<String>,
    /// From addresses.
    pub from: Vec<Address>,
    /// Sender addresses (empty when absent; no defaulting to From).
    pub sender: Vec<Address>,
    /// Reply-To addresses.
    pub reply_to: Vec<Address>,
    /// To addresses, group members flattened.
    pub to: Vec<Address>,
    /// Cc addresses.
    pub cc: Vec<Address>,
    /// Bcc addresses.
    pub bcc: Vec<Address>,
    /// The Date field, when present and readable.
    pub date: Option<MessageDate>,
    /// Message-ID in angle brackets (`<id@host>`).
    pub message_id: Option<String>,
    /// First message id of In-Reply-To, in angle brackets.
    pub in_reply_to: Option<String>,
    /// Message ids of References, in order, in angle brackets.
    pub references: Vec<String>,
    /// From Importance, X-Priority, X-MSMail-Priority or Priority.
    pub importance: Importance,
    /// From the Sensitivity field, if present and known.
    pub sensitivity: Option<Sensitivity>,
    /// The main text/plain body decoded to UTF-8; text derived from the
    /// HTML body when there is no plain text; empty when there is neither.
    pub body_text: String,
    /// The main text/html body decoded to UTF-8.
    pub body_html: Option<String>,
    /// Every part that is not the body, in message order.
    pub attachments: Vec<AttachmentInfo>,
    /// Whether any attachment has disposition [`Disposition::Attachment`]
    /// (inline images of an HTML body do not count).
    pub has_attachments: bool,
    /// Top-level media type, lower-case `type/subtype`.
    pub content_type: String,
    /// multipart/signed, or application/pkcs7-mime with signed data.
    pub is_signed: bool,
    /// multipart/encrypted, or application/pkcs7-mime with enveloped data.
    pub is_encrypted: bool,
    /// Octets of the header block including the blank line; also where the
    /// body starts, relative to the start of the message.
    pub header_size: usize,
    /// Octets of the whole message.
    pub size: usize,
    /// The top-level header fields in order.
    pub headers: Vec<HeaderEntry>,
}

/// A header field as written: name and unfolded value (encoded words not
/// decoded; 8-bit bytes read as UTF-8, else Windows-1252).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEntry {
    /// Field name as written.
    pub name: String,
    /// Unfolded, trimmed raw value.
    pub value: String,
}

/// A point in time with the UTC offset it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageDate {
    /// Seconds since the Unix epoch.
    pub unix_seconds: i64,
    /// The offset from UTC the date was written with, in minutes
    /// (`-0800` is -480).
    pub utc_offset_minutes: i32,
}

/// Message priority as MAPI's PR_IMPORTANCE counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum Importance {
    /// 0.
    Low = 0,
    /// 1.
    #[default]
    Normal = 1,
    /// 2.
    High = 2,
}

/// The Sensitivity field (RFC 2156), as MAPI's PR_SENSITIVITY counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// 0 (no Sensitivity field, or `Normal`).
    Normal = 0,
    /// 1: `Personal`.
    Personal = 1,
    /// 2: `Private`.
    Private = 2,
    /// 3: `Company-Confidential`.
    CompanyConfidential = 3,
}

/// How a part asks to be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Shown within the body (inline images of an HTML body).
    Inline,
    /// A separate attachment.
    Attachment,
}

/// One attachment: a part that is not the message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// File name (Content-Disposition filename, else Content-Type name),
    /// decoded (RFC 2231 and RFC 2047).
    pub name: Option<String>,
    /// Lower-case `type/subtype`.
    pub mime_type: String,
    /// Size of the content after transfer decoding, in octets.
    pub size: usize,
    /// Content-ID without angle brackets.
    pub content_id: Option<String>,
    /// Content-Location, if any.
    pub content_location: Option<String>,
    /// Inline or attachment.
    pub disposition: Disposition,
    /// IMAP part number in the message given to [`crate::parse_summary`]
    /// (`"2"`, `"2.1"`), also for attachments of embedded messages.
    pub part_path: String,
    /// For message/rfc822 attachments: the summary of the embedded message.
    pub embedded: Option<Box<MessageSummary>>,
}

impl AttachmentInfo {
    /// The part path as numbers, as [`crate::SectionSpec::part`] wants it.
    pub fn part_numbers(&self) -> Vec<u32> {
        self.part_path
            .split('.')
            .filter_map(|n| n.parse().ok())
            .collect()
    }
}

/// Builds the summary of the message whose root part is `root`; part paths
/// are numbered below `prefix`.
pub(crate) fn summarize(
    raw: &[u8],
    root: &Part,
    prefix: &[u32],
    limits: &MimeLimits,
) -> MessageSummary {
    let value = |name: &str| root.field_value(raw, name);
    let addresses = |name: &str| {
        value(name)
            .map(|v| decode_address_list(&v, limits.max_addresses))
            .unwrap_or_default()
    };
    let mut body = BodyCollector {
        raw,
        limits,
        texts: Vec::new(),
        htmls: Vec::new(),
        attachments: Vec::new(),
    };
    match &root.kind {
        PartKind::Multipart(_) => body.visit(root, prefix.to_vec(), true, false),
        _ => {
            let mut path = prefix.to_vec();
            path.push(1);
            body.visit(root, path, true, false);
        }
    }
    let body_html = if body.htmls.is_empty() {
        None
    } else {
        Some(body.htmls.join("\n"))
    };
    let mut body_text = body.texts.join("\n");
    if body_text.is_empty()
        && let Some(html) = &body_html
    {
        body_text = html_to_text(html);
    }
    let has_attachments = body
        .attachments
        .iter()
        .any(|a| a.disposition == Disposition::Attachment);
    let smime_type = root
        .media
        .raw_param("smime-type")
        .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase());
    let is_pkcs7 = root.media.main == "application"
        && matches!(root.media.sub.as_str(), "pkcs7-mime" | "x-pkcs7-mime");
    MessageSummary {
        subject: value("subject").map(|v| decode_header_text(&v)),
        from: addresses("from"),
        sender: addresses("sender"),
        reply_to: addresses("reply-to"),
        to: addresses("to"),
        cc: addresses("cc"),
        bcc: addresses("bcc"),
        date: value("date").and_then(|v| parse_date(&v)),
        message_id: value("message-id").and_then(|v| message_ids(&v).into_iter().next()),
        in_reply_to: value("in-reply-to").and_then(|v| message_ids(&v).into_iter().next()),
        references: value("references")
            .map(|v| message_ids(&v))
            .unwrap_or_default(),
        importance: importance(&value),
        sensitivity: value("sensitivity").and_then(|v| sensitivity(&v)),
        body_text,
        body_html,
        attachments: body.attachments,
        has_attachments,
        content_type: format!("{}/{}", root.media.main, root.media.sub),
        is_signed: root.is_type("multipart", "signed")
            || is_pkcs7 && smime_type.as_deref() == Some("signed-data"),
        is_encrypted: root.is_type("multipart", "encrypted")
            || is_pkcs7 && !matches!(smime_type.as_deref(), Some("signed-data" | "certs-only")),
        header_size: root.header.len(),
        size: root.body.end.saturating_sub(root.header.start),
        headers: root
            .fields
            .iter()
            .map(|f| HeaderEntry {
                name: bytes_to_text(&raw[f.name.clone()]),
                value: bytes_to_text(&unfold(&raw[f.value.clone()])),
            })
            .collect(),
    }
}

/// Parses an RFC 5322 date (leniently, obsolete forms included).
fn parse_date(v: &[u8]) -> Option<MessageDate> {
    let text = bytes_to_text(v);
    let dt = mail_parser::DateTime::parse_rfc822(&text).filter(mail_parser::DateTime::is_valid)?;
    let offset = i32::from(dt.tz_hour) * 60 + i32::from(dt.tz_minute);
    Some(MessageDate {
        unix_seconds: dt.to_timestamp(),
        utc_offset_minutes: if dt.tz_before_gmt { -offset } else { offset },
    })
}

/// The message ids in a Message-ID/In-Reply-To/References value, each in
/// angle brackets. Without any `<…>`, white-space separated words are taken.
pub(crate) fn message_ids(v: &[u8]) -> Vec<String> {
    let text = bytes_to_text(v);
    let mut ids = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        let id: String = after[..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !id.is_empty() {
            ids.push(format!("<{id}>"));
        }
        rest = &after[end + 1..];
    }
    if ids.is_empty() {
        ids = text.split_whitespace().map(|w| format!("<{w}>")).collect();
    }
    ids
}

fn importance(value: &dyn Fn(&str) -> Option<Vec<u8>>) -> Importance {
    let lower = |name: &str| value(name).map(|v| bytes_to_text(&v).trim().to_ascii_lowercase());
    if let Some(v) = lower("importance") {
        match v.as_str() {
            "high" => return Importance::High,
            "low" => return Importance::Low,
            "normal" => return Importance::Normal,
            _ => {}
        }
    }
    if let Some(v) = lower("x-priority") {
        match v.chars().find(|c| !c.is_whitespace()) {
            Some('1' | '2') => return Importance::High,
            Some('4' | '5') => return Importance::Low,
            Some('3') => return Importance::Normal,
            _ => {}
        }
    }
    if let Some(v) = lower("x-msmail-priority") {
        match v.as_str() {
            "high" => return Importance::High,
            "low" => return Importance::Low,
            _ => {}
        }
    }
    match lower("priority").as_deref() {
        Some("urgent") => Importance::High,
        Some("non-urgent") => Importance::Low,
        _ => Importance::Normal,
    }
}

fn sensitivity(v: &[u8]) -> Option<Sensitivity> {
    match bytes_to_text(v).trim().to_ascii_lowercase().as_str() {
        "normal" => Some(Sensitivity::Normal),
        "personal" => Some(Sensitivity::Personal),
        "private" => Some(Sensitivity::Private),
        "company-confidential" => Some(Sensitivity::CompanyConfidential),
        _ => None,
    }
}

/// Decodes a leaf's body as text in its declared charset.
pub(crate) fn part_text(raw: &[u8], part: &Part) -> String {
    let bytes = part.encoding.decode_lossy(&raw[part.body.clone()]);
    let charset = part.media.decoded_param("charset");
    decode_charset(&bytes, charset.as_deref())
}

/// Walks the part tree sorting parts into body text, HTML and attachments.
struct BodyCollector<'r> {
    raw: &'r [u8],
    limits: &'r MimeLimits,
    texts: Vec<String>,
    htmls: Vec<String>,
    attachments: Vec<AttachmentInfo>,
}

impl BodyCollector<'_> {
    fn is_attachment_disposition(&self, part: &Part) -> bool {
        part.disposition(self.raw, self.limits)
            .is_some_and(|d| d.main == "attachment")
    }

    /// A text/plain or text/html leaf that reads as body, not as a file.
    fn is_body_text(&self, part: &Part) -> bool {
        matches!(part.kind, PartKind::Leaf)
            && part.media.main == "text"
            && matches!(part.media.sub.as_str(), "plain" | "html")
            && !self.is_attachment_disposition(part)
    }

    fn visit(&mut self, part: &Part, path: Vec<u32>, in_body: bool, related: bool) {
        match &part.kind {
            PartKind::Multipart(children) => self.visit_multipart(part, children, &path, in_body),
            PartKind::Message(inner) => {
                let embedded = summarize(self.raw, inner, &path, self.limits);
                self.push_attachment(part, &path, related, Some(Box::new(embedded)));
            }
            PartKind::Leaf => {
                if in_body && self.is_body_text(part) {
                    let text = part_text(self.raw, part);
                    if part.media.sub == "html" {
                        self.htmls.push(text)
                    } else {
                        self.texts.push(text)
                    }
                } else {
                    self.push_attachment(part, &path, related, None);
                }
            }
        }
    }

    fn visit_multipart(&mut self, part: &Part, children: &[Part], path: &[u32], in_body: bool) {
        let child_path = |i: usize| {
            let mut p = path.to_vec();
            p.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            p
        };
        if children.is_empty() {
            // No delimiter found: keep the text rather than lose the body.
            if in_body {
                let text = decode_charset(&self.raw[part.body.clone()], None);
                self.texts.push(text);
            }
            return;
        }
        match part.media.sub.as_str() {
            "alternative" if in_body => {
                for (i, child) in children.iter().enumerate() {
                    let wanted = match child.media.sub.as_str() {
                        "plain" => self.texts.is_empty(),
                        "html" => self.htmls.is_empty(),
                        _ => false,
                    };
                    if self.is_body_text(child) && !wanted {
                        continue;
                    }
                    self.visit(child, child_path(i), true, false);
                }
            }
            "related" => {
                let start = part
                    .media
                    .raw_param("start")
                    .and_then(|cid| {
                        let want = bytes_to_text(cid);
                        children.iter().position(|c| {
                            c.field_value(self.raw, "content-id")
                                .is_some_and(|v| bytes_to_text(&v) == want)
                        })
                    })
                    .unwrap_or(0);
                for (i, child) in children.iter().enumerate() {
                    self.visit(child, child_path(i), in_body && i == start, i != start);
                }
            }
            "encrypted" => {
                for (i, child) in children.iter().enumerate() {
                    self.visit(child, child_path(i), false, false);
                }
            }
            _ => {
                for (i, child) in children.iter().enumerate() {
                    let body = in_body
                        && (i == 0
                            || self.is_body_text(child)
                                && !has_file_name(self.raw, child, self.limits));
                    self.visit(child, child_path(i), body, false);
                }
            }
        }
    }

    fn push_attachment(
        &mut self,
        part: &Part,
        path: &[u32],
        related: bool,
        embedded: Option<Box<MessageSummary>>,
    ) {
        let disposition = match part.disposition(self.raw, self.limits) {
            Some(d) if d.main == "inline" => Disposition::Inline,
            Some(_) => Disposition::Attachment,
            None if related => Disposition::Inline,
            None => Disposition::Attachment,
        };
        let body = &self.raw[part.body.clone()];
        let size = match &part.kind {
            PartKind::Leaf => part.encoding.decoded_len(body).unwrap_or(body.len()),
            _ => body.len(),
        };
        let content_id = part.field_value(self.raw, "content-id").map(|v| {
            let t = bytes_to_text(&v);
            t.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        });
        self.attachments.push(AttachmentInfo {
            name: file_name(self.raw, part, self.limits),
            mime_type: format!("{}/{}", part.media.main, part.media.sub),
            size,
            content_id,
            content_location: part
                .field_value(self.raw, "content-location")
                .map(|v| bytes_to_text(&v)),
            disposition,
            part_path: path
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join("."),
            embedded,
        });
    }
}

fn file_name(raw: &[u8], part: &Part, limits: &MimeLimits) -> Option<String> {
    part.disposition(raw, limits)
        .and_then(|d| d.decoded_param("filename"))
        .or_else(|| part.media.decoded_param("name"))
        .filter(|n| !n.is_empty())
}

fn has_file_name(raw: &[u8], part: &Part, limits: &MimeLimits) -> bool {
    file_name(raw, part, limits).is_some()
}
