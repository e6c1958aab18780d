//! What midb pays per delivered message: summary, ENVELOPE and
//! BODYSTRUCTURE of a 30 KB multipart message.

use criterion::{Criterion, criterion_group, criterion_main};
use groxide_mime::{
    Address, OutgoingAttachment, OutgoingMessage, ParsedMessage, build_mime, parse_summary,
    render_bodystructure, render_envelope,
};
use std::hint::black_box;

/// Target size of the benchmark message.
const MESSAGE_SIZE: usize = 30 * 1024;

fn message() -> Vec<u8> {
    let paragraph = "Quarterly numbers are in; see the attached sheet and the notes below. ";
    let text: String = paragraph.repeat(60);
    let html = format!("<html><body><p>{}</p></body></html>", paragraph.repeat(60));
    let addr = |name: &str, addr: &str| Address {
        name: Some(name.into()),
        addr: addr.into(),
        group: None,
    };
    let mut m = OutgoingMessage {
        subject: Some("Re: Quarterly numbers \u{20ac}".into()),
        from: vec![addr("Carol Example", "carol@example.com")],
        to: vec![
            addr("Team", "team@example.com"),
            addr("Dave", "dave@example.org"),
        ],
        cc: vec![addr("Erin", "erin@example.net")],
        message_id: Some("<bench@example.com>".into()),
        in_reply_to: Some("<parent@example.com>".into()),
        body_text: Some(text),
        body_html: Some(html),
        ..Default::default()
    };
    let raw_len = build_mime(&m).map(|r| r.len()).unwrap_or(0);
    // Base64 grows content by 4/3; fill the rest with one attachment.
    let room = MESSAGE_SIZE.saturating_sub(raw_len + 400) * 3 / 4;
    m.attachments.push(OutgoingAttachment {
        name: Some("numbers.xlsx".into()),
        mime_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
        content: (0..room).map(|i| (i * 31 % 251) as u8).collect(),
        content_id: None,
        inline: false,
    });
    build_mime(&m).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let raw = message();
    assert!(
        raw.len() > MESSAGE_SIZE * 9 / 10,
        "message is {} bytes",
        raw.len()
    );
    c.bench_function("parse_summary 30KB multipart", |b| {
        b.iter(|| parse_summary(black_box(&raw)))
    });
    c.bench_function("render_envelope 30KB multipart", |b| {
        b.iter(|| render_envelope(black_box(&raw)))
    });
    c.bench_function("render_bodystructure 30KB multipart", |b| {
        b.iter(|| render_bodystructure(black_box(&raw), true))
    });
    c.bench_function(
        "midb digest (parse once: summary+envelope+bodystructure)",
        |b| {
            b.iter(|| {
                let m = ParsedMessage::parse(black_box(&raw));
                (m.summary(), m.envelope(), m.bodystructure(true))
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
