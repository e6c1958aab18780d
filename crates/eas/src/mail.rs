//! Mail items as EAS sees them ([MS-ASEMAIL], [MS-ASAIRS] bodies): the
//! headers and body of the stored RFC 5322 message, the read and flag
//! state from its IMAP flags, and the body in the type and size the client
//! prefers (plain text, HTML or the MIME message, truncated).

use groxide_wbxml::{AirSyncBase, Element, Email};
use mail_parser::{Address, Message, MessageParser, MimeHeaders};

/// \Seen, \Flagged in the store's flag bits.
pub(crate) const SEEN: u32 = 1;
pub(crate) const FLAGGED: u32 = 4;

/// What body the client wants: the first BodyPreference it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyPreference {
    /// 1 plain text, 2 HTML, 4 MIME.
    pub kind: u8,
    /// Most bytes of the body to send (`None`: all).
    pub truncation: Option<usize>,
}

impl Default for BodyPreference {
    fn default() -> BodyPreference {
        BodyPreference {
            kind: 1,
            truncation: None,
        }
    }
}

impl BodyPreference {
    /// From an Options element (BodyPreference, or MIMESupport for MIME).
    pub(crate) fn from_options(options: Option<&Element>) -> BodyPreference {
        let Some(o) = options else {
            return BodyPreference::default();
        };
        let mime = o
            .child(groxide_wbxml::AirSync::MIMESupport)
            .and_then(|m| m.content_text())
            .is_some_and(|v| v == "1" || v == "2");
        let prefs = o
            .children_named(AirSyncBase::BodyPreference)
            .filter_map(|p| {
                let kind: u8 = p.child_text(AirSyncBase::Type)?.trim().parse().ok()?;
                let truncation = p
                    .child_text(AirSyncBase::TruncationSize)
                    .and_then(|t| t.trim().parse::<usize>().ok());
                matches!(kind, 1 | 2 | 4).then_some(BodyPreference { kind, truncation })
            })
            .collect::<Vec<_>>();
        if mime && let Some(p) = prefs.iter().find(|p| p.kind == 4) {
            return *p;
        }
        prefs
            .iter()
            .find(|p| p.kind != 4)
            .or(prefs.first())
            .copied()
            .unwrap_or_default()
    }
}

trait ContentText {
    fn content_text(&self) -> Option<&str>;
}

impl ContentText for Element {
    fn content_text(&self) -> Option<&str> {
        match &self.content {
            groxide_wbxml::Content::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }
}

/// The FileReference of a message's `index`th attachment.
pub(crate) fn file_reference(message_id: u64, index: usize) -> String {
    format!("{message_id}:{index}")
}

/// The message id and attachment index a FileReference names.
pub(crate) fn parse_file_reference(s: &str) -> Option<(u64, usize)> {
    let (m, i) = s.trim().split_once(':')?;
    Some((m.parse().ok()?, i.parse().ok()?))
}

/// The content type and bytes of a message's `index`th attachment.
pub(crate) fn attachment(raw: &[u8], index: usize) -> Option<(String, Vec<u8>)> {
    let m = MessageParser::default().parse(raw)?;
    let a = m.attachments().nth(index)?;
    let ct = a
        .content_type()
        .map(|c| match c.subtype() {
            Some(sub) => format!("{}/{sub}", c.ctype()),
            None => c.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    Some((ct, a.contents().to_vec()))
}

/// Cuts `text` to at most `max` bytes at a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// An airsyncbase:Body element of `data` in `kind`, truncated as asked.
pub(crate) fn body_element(kind: u8, data: &str, truncation: Option<usize>) -> Element {
    let cut = truncation.map_or(data, |t| truncate(data, t));
    let mut children = vec![
        Element::with_text(AirSyncBase::Type, kind.to_string()),
        Element::with_text(AirSyncBase::EstimatedDataSize, data.len().to_string()),
    ];
    if cut.len() < data.len() {
        children.push(Element::with_text(AirSyncBase::Truncated, "1"));
    }
    if !cut.is_empty() {
        children.push(Element::with_text(AirSyncBase::Data, cut));
    }
    Element::with_children(AirSyncBase::Body, children)
}

/// EAS date-time: `2026-12-07T00:00:00.000Z`.
pub(crate) fn eas_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string()
}

/// A header's raw value on one line (`None`: absent).
pub(crate) fn header_line(m: &Message<'_>, name: &str) -> Option<String> {
    m.header_raw(name)
        .map(|v| v.trim().replace(['\r', '\n'], ""))
}

/// The names (or, without one, the addresses) of an address list,
/// `; `-separated, as DisplayTo shows them.
pub(crate) fn display_names(list: Option<&Address<'_>>) -> String {
    list.map(|a| {
        a.iter()
            .map(|a| a.name().or(a.address()).unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
    .unwrap_or_default()
}

/// The Importance header as EAS numbers it: 0 low, 1 normal, 2 high.
pub(crate) fn importance(m: Option<&Message<'_>>) -> &'static str {
    match m
        .and_then(|m| header_line(m, "Importance"))
        .map(|v| v.to_ascii_lowercase())
    {
        Some(v) if v == "high" => "2",
        Some(v) if v == "low" => "0",
        _ => "1",
    }
}

/// The time DateReceived shows: the Date header, else the delivery time.
pub(crate) fn date_received(m: Option<&Message<'_>>, internal_date: i64) -> i64 {
    m.and_then(|m| m.date())
        .map_or(internal_date, |d| d.to_timestamp())
}

/// The first `max` characters of the text body, white space runs as one
/// space (a search result's preview).
pub(crate) fn preview(m: &Message<'_>, max: usize) -> String {
    let text = m.body_text(0).unwrap_or_default();
    let mut out = String::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= max {
            break;
        }
    }
    out.chars().take(max).collect()
}

/// The ApplicationData of a stored mail.
pub(crate) fn application_data(
    message_id: u64,
    raw: &[u8],
    flags: u32,
    internal_date: i64,
    pref: BodyPreference,
) -> Element {
    let parsed = MessageParser::default().parse(raw);
    let mut out = Vec::new();
    let header = |name: &str| parsed.as_ref().and_then(|m| header_line(m, name));
    if let Some(v) = header("To") {
        out.push(Element::with_text(Email::To, v));
    }
    if let Some(v) = header("Cc") {
        out.push(Element::with_text(Email::Cc, v));
    }
    if let Some(v) = header("From") {
        out.push(Element::with_text(Email::From, v));
    }
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or("")
        .to_string();
    out.push(Element::with_text(Email::Subject, &subject));
    if let Some(v) = header("Reply-To") {
        out.push(Element::with_text(Email::ReplyTo, v));
    }
    out.push(Element::with_text(
        Email::DateReceived,
        eas_time(date_received(parsed.as_ref(), internal_date)),
    ));
    out.push(Element::with_text(
        Email::DisplayTo,
        display_names(parsed.as_ref().and_then(|m| m.to())),
    ));
    out.push(Element::with_text(Email::ThreadTopic, &subject));
    out.push(Element::with_text(
        Email::Importance,
        importance(parsed.as_ref()),
    ));
    out.push(Element::with_text(
        Email::Read,
        if flags & SEEN != 0 { "1" } else { "0" },
    ));
    let html = parsed
        .as_ref()
        .and_then(|m| m.body_html(0))
        .map(|s| s.into_owned());
    let plain = parsed
        .as_ref()
        .and_then(|m| m.body_text(0))
        .map(|s| s.into_owned());
    let body = match pref.kind {
        4 => body_element(4, &String::from_utf8_lossy(raw), pref.truncation),
        2 if html.is_some() => body_element(2, html.as_deref().unwrap_or(""), pref.truncation),
        _ => body_element(1, plain.as_deref().unwrap_or(""), pref.truncation),
    };
    out.push(body);
    let attachments: Vec<Element> = parsed
        .as_ref()
        .map(|m| {
            m.attachments()
                .enumerate()
                .map(|(i, a)| {
                    Element::with_children(
                        AirSyncBase::Attachment,
                        [
                            Element::with_text(
                                AirSyncBase::DisplayName,
                                a.attachment_name().unwrap_or("attachment"),
                            ),
                            Element::with_text(
                                AirSyncBase::FileReference,
                                file_reference(message_id, i),
                            ),
                            Element::with_text(AirSyncBase::Method, "1"),
                            Element::with_text(
                                AirSyncBase::EstimatedDataSize,
                                a.contents().len().to_string(),
                            ),
                        ],
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if !attachments.is_empty() {
        out.push(Element::with_children(
            AirSyncBase::Attachments,
            attachments,
        ));
    }
    out.push(Element::with_text(Email::MessageClass, "IPM.Note"));
    out.push(Element::with_text(Email::InternetCPID, "65001"));
    out.push(flag_element(flags));
    out.push(Element::with_text(
        Email::ContentClass,
        "urn:content-classes:message",
    ));
    out.push(Element::with_text(
        AirSyncBase::NativeBodyType,
        if html.is_some() { "2" } else { "1" },
    ));
    Element::with_children(groxide_wbxml::AirSync::ApplicationData, out)
}

fn flag_element(flags: u32) -> Element {
    if flags & FLAGGED != 0 {
        Element::with_children(
            Email::Flag,
            [
                Element::with_text(Email::Status, "2"),
                Element::with_text(Email::FlagType, "Flag for follow up"),
            ],
        )
    } else {
        Element::empty(Email::Flag)
    }
}

/// The flag changes a client's Change of a mail asks for: (read, flagged),
/// each `None` when not sent.
pub(crate) fn requested_flags(data: &Element) -> (Option<bool>, Option<bool>) {
    let read = data.child_text(Email::Read).map(|v| v.trim() == "1");
    let flagged = data
        .child(Email::Flag)
        .map(|f| matches!(f.child_text(Email::Status).map(str::trim), Some("2")));
    (read, flagged)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &[u8] = b"From: Alice <alice@example.test>\r\nTo: Demo <demo@example.test>\r\nSubject: Hello there\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA body that is rather long, \xc3\xa4\xc3\xb6\xc3\xbc.\r\n";

    fn body_of(e: &Element) -> &Element {
        e.child(AirSyncBase::Body).unwrap()
    }

    #[test]
    fn mail_application_data_has_headers_flags_and_a_truncated_body() {
        let e = application_data(
            1,
            MAIL,
            SEEN | FLAGGED,
            0,
            BodyPreference {
                kind: 1,
                truncation: Some(10),
            },
        );
        assert_eq!(e.child_text(Email::Subject), Some("Hello there"));
        assert_eq!(
            e.child_text(Email::From),
            Some("Alice <alice@example.test>")
        );
        assert_eq!(e.child_text(Email::Read), Some("1"));
        assert_eq!(
            e.child_text(Email::DateReceived),
            Some("2026-12-07T10:00:00.000Z")
        );
        assert_eq!(e.child_text(Email::DisplayTo), Some("Demo"));
        let flag = e.child(Email::Flag).unwrap();
        assert_eq!(flag.child_text(Email::Status), Some("2"));
        let body = body_of(&e);
        assert_eq!(body.child_text(AirSyncBase::Type), Some("1"));
        assert_eq!(body.child_text(AirSyncBase::Truncated), Some("1"));
        assert_eq!(body.child_text(AirSyncBase::Data), Some("A body tha"));
    }

    #[test]
    fn mime_body_is_the_message_and_truncation_respects_characters() {
        let e = application_data(
            1,
            MAIL,
            0,
            0,
            BodyPreference {
                kind: 4,
                truncation: None,
            },
        );
        let body = body_of(&e);
        assert_eq!(body.child_text(AirSyncBase::Type), Some("4"));
        assert!(
            body.child_text(AirSyncBase::Data)
                .unwrap()
                .starts_with("From: Alice")
        );
        assert!(body.child(AirSyncBase::Truncated).is_none());
        assert_eq!(e.child_text(Email::Read), Some("0"));
        assert_eq!(truncate("aä", 2), "a");
        assert_eq!(truncate("aä", 3), "aä");
    }

    #[test]
    fn body_preference_picks_what_the_client_can_take() {
        let opts = |xml: &str| {
            Element::from_xml(
                &format!(
                    "<Options xmlns=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\">{xml}</Options>"
                ),
                &groxide_wbxml::Limits::default(),
            )
            .unwrap()
        };
        let p = BodyPreference::from_options(Some(&opts(
            "<airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type><airsyncbase:TruncationSize>5000</airsyncbase:TruncationSize></airsyncbase:BodyPreference>",
        )));
        assert_eq!(
            p,
            BodyPreference {
                kind: 2,
                truncation: Some(5000)
            }
        );
        let p = BodyPreference::from_options(Some(&opts(
            "<MIMESupport>2</MIMESupport><airsyncbase:BodyPreference><airsyncbase:Type>4</airsyncbase:Type></airsyncbase:BodyPreference>",
        )));
        assert_eq!(p.kind, 4);
        assert_eq!(
            BodyPreference::from_options(None),
            BodyPreference::default()
        );
    }
}
