//! build_mime → parse_summary gives the fields back.

use groxide_mime::{
    Address, BuildError, Disposition, Importance, MessageDate, OutgoingAttachment, OutgoingMessage,
    Sensitivity, attachment_content, build_mime, parse_summary, render_bodystructure,
};
use proptest::prelude::*;

fn addr(name: Option<&str>, addr: &str) -> Address {
    Address {
        name: name.map(str::to_owned),
        addr: addr.to_owned(),
        group: None,
    }
}

fn full_message() -> OutgoingMessage {
    OutgoingMessage {
        subject: Some("Caf\u{e9} \u{20ac} \u{65e5}\u{672c} report".into()),
        from: vec![addr(Some("J\u{f6}rg M\u{fc}ller"), "joerg@example.de")],
        sender: vec![addr(None, "assistant@example.de")],
        reply_to: vec![addr(Some("Replies"), "replies@example.de")],
        to: vec![
            addr(Some("Ann"), "ann@example.com"),
            addr(None, "bob@example.com"),
        ],
        cc: vec![
            Address {
                name: None,
                addr: "x@example.org".into(),
                group: Some("Team".into()),
            },
            Address {
                name: Some("Y".into()),
                addr: "y@example.org".into(),
                group: Some("Team".into()),
            },
        ],
        bcc: vec![addr(None, "hidden@example.net")],
        date: Some(MessageDate {
            unix_seconds: 1_772_724_600,
            utc_offset_minutes: -300,
        }),
        message_id: Some("<built-1@example.de>".into()),
        in_reply_to: Some("<parent@example.com>".into()),
        references: vec!["<root@example.com>".into(), "<parent@example.com>".into()],
        importance: Importance::High,
        sensitivity: Some(Sensitivity::CompanyConfidential),
        body_text: Some("Hello \u{e9}t\u{e9}\r\nsecond line".into()),
        body_html: Some("<p>Hello <b>\u{e9}t\u{e9}</b><img src=\"cid:img1@x\"></p>".into()),
        attachments: vec![
            OutgoingAttachment {
                name: Some("report \u{e9}.pdf".into()),
                mime_type: "application/pdf".into(),
                content: (0..=255u8).cycle().take(3000).collect(),
                content_id: None,
                inline: false,
            },
            OutgoingAttachment {
                name: Some("logo.png".into()),
                mime_type: "image/png".into(),
                content: b"\x89PNG\r\n\x1a\nfake".to_vec(),
                content_id: Some("img1@x".into()),
                inline: true,
            },
        ],
        extra_headers: vec![("X-Mailer".into(), "groxide".into())],
    }
}

#[test]
fn built_message_parses_back_to_the_same_fields() {
    let m = full_message();
    let raw = build_mime(&m).expect("builds");
    let s = parse_summary(&raw);
    assert_eq!(s.subject, m.subject);
    assert_eq!(s.from, m.from);
    assert_eq!(s.sender, m.sender);
    assert_eq!(s.reply_to, m.reply_to);
    assert_eq!(s.to, m.to);
    assert_eq!(s.cc, m.cc);
    assert_eq!(s.bcc, m.bcc);
    assert_eq!(s.date, m.date);
    assert_eq!(s.message_id, m.message_id);
    assert_eq!(s.in_reply_to, m.in_reply_to);
    assert_eq!(s.references, m.references);
    assert_eq!(s.importance, Importance::High);
    assert_eq!(s.sensitivity, Some(Sensitivity::CompanyConfidential));
    assert_eq!(s.body_text, "Hello \u{e9}t\u{e9}\r\nsecond line");
    assert_eq!(s.body_html, m.body_html);
    assert_eq!(s.content_type, "multipart/mixed");
    let atts: Vec<(Option<&str>, &str, Disposition)> = s
        .attachments
        .iter()
        .map(|a| (a.name.as_deref(), a.mime_type.as_str(), a.disposition))
        .collect();
    assert_eq!(
        atts,
        [
            (Some("logo.png"), "image/png", Disposition::Inline),
            (
                Some("report \u{e9}.pdf"),
                "application/pdf",
                Disposition::Attachment
            ),
        ]
    );
    assert_eq!(s.attachments[0].content_id.as_deref(), Some("img1@x"));
    assert_eq!(
        attachment_content(&raw, &s.attachments[1]),
        m.attachments[0].content
    );
    assert_eq!(
        attachment_content(&raw, &s.attachments[0]),
        m.attachments[1].content
    );
    assert_eq!(
        s.headers
            .iter()
            .find(|h| h.name == "X-Mailer")
            .map(|h| h.value.as_str()),
        Some("groxide")
    );
}

#[test]
fn built_message_uses_crlf_and_ascii_headers() {
    let raw = build_mime(&full_message()).expect("builds");
    let header_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("blank line");
    assert!(
        raw[..header_end].is_ascii(),
        "non-ASCII header text is RFC 2047 encoded"
    );
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' {
            assert_eq!(raw.get(i.wrapping_sub(1)), Some(&b'\r'), "bare LF at {i}");
        }
    }
    let structure = String::from_utf8(render_bodystructure(&raw, false)).expect("ascii");
    // mixed(related(alternative(text, html), image), pdf)
    assert!(structure.starts_with("(((("), "{structure}");
    assert!(
        structure.contains("\"ALTERNATIVE\")(\"IMAGE\""),
        "{structure}"
    );
    assert!(
        structure.contains("\"RELATED\")(\"APPLICATION\" \"PDF\""),
        "{structure}"
    );
    assert!(structure.ends_with("\"MIXED\")"), "{structure}");
}

#[test]
fn minimal_messages_choose_the_simplest_structure() {
    let text_only = OutgoingMessage {
        body_text: Some("just text".into()),
        ..Default::default()
    };
    let s = parse_summary(&build_mime(&text_only).expect("builds"));
    assert_eq!(
        (s.content_type.as_str(), s.body_text.as_str()),
        ("text/plain", "just text")
    );
    assert!(s.message_id.is_some(), "a Message-ID is generated");

    let both = OutgoingMessage {
        body_text: Some("t".into()),
        body_html: Some("<p>h</p>".into()),
        ..Default::default()
    };
    assert_eq!(
        parse_summary(&build_mime(&both).expect("builds")).content_type,
        "multipart/alternative"
    );
}

#[test]
fn embedded_message_attachment_round_trips() {
    let inner = build_mime(&OutgoingMessage {
        subject: Some("Inner".into()),
        body_text: Some("inner body".into()),
        ..Default::default()
    })
    .expect("inner builds");
    let outer = OutgoingMessage {
        subject: Some("Outer".into()),
        body_text: Some("see attached".into()),
        attachments: vec![OutgoingAttachment {
            name: None,
            mime_type: "message/rfc822".into(),
            content: inner.clone(),
            content_id: None,
            inline: false,
        }],
        ..Default::default()
    };
    let raw = build_mime(&outer).expect("builds");
    let s = parse_summary(&raw);
    let att = &s.attachments[0];
    assert_eq!(att.mime_type, "message/rfc822");
    assert_eq!(
        att.embedded.as_ref().and_then(|e| e.subject.as_deref()),
        Some("Inner")
    );
    assert_eq!(attachment_content(&raw, att), inner);
}

#[test]
fn header_injection_is_refused() {
    let bad_value = OutgoingMessage {
        subject: Some("a\r\nBcc: x@evil.example".into()),
        ..Default::default()
    };
    assert_eq!(
        build_mime(&bad_value),
        Err(BuildError::LineBreakInHeader("Subject".into()))
    );
    let bad_name = OutgoingMessage {
        extra_headers: vec![("Bad Name".into(), "v".into())],
        ..Default::default()
    };
    assert_eq!(
        build_mime(&bad_name),
        Err(BuildError::InvalidHeaderName("Bad Name".into()))
    );
}

fn text_strategy() -> impl Strategy<Value = String> {
    // Printable text in several scripts, no line breaks (header-safe).
    let chars: Vec<char> = "abcXYZ019 ,.!?\u{e9}\u{fc}\u{20ac}\u{65e5}\u{672c}\u{1f600}"
        .chars()
        .collect();
    proptest::collection::vec(proptest::sample::select(chars), 1..60)
        .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn subject_names_and_bodies_survive_build_and_parse(
        subject in text_strategy(),
        name in text_strategy(),
        body in text_strategy(),
        content in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let m = OutgoingMessage {
            subject: Some(subject.clone()),
            from: vec![addr(Some(&name), "someone@example.com")],
            body_text: Some(body.clone()),
            attachments: vec![OutgoingAttachment {
                name: Some("data.bin".into()),
                mime_type: "application/octet-stream".into(),
                content: content.clone(),
                content_id: None,
                inline: false,
            }],
            ..Default::default()
        };
        let raw = build_mime(&m).expect("builds");
        let s = parse_summary(&raw);
        prop_assert_eq!(s.subject.as_deref(), Some(subject.trim()));
        let want_name = name.trim().to_owned();
        prop_assert_eq!(s.from[0].name.clone(), if want_name.is_empty() { None } else { Some(want_name) });
        prop_assert_eq!(s.body_text.trim_end(), body.trim_end());
        prop_assert_eq!(attachment_content(&raw, &s.attachments[0]), content);
    }
}
