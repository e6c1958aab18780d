//! The MIME corpus (tests/corpus/mime/) and a 20 MB attachment: the store
//! keeps the bytes exactly and derives what the parser sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_store::tags::*;
use groxide_store::*;
use std::io::Read;
use std::path::PathBuf;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/mime");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 25, "corpus not found at {}", dir.display());
    out
}

fn text(v: Option<&PropValue>) -> Option<String> {
    v.and_then(|v| v.as_str()).map(str::to_owned)
}

fn check_against_parser(store: &Store, name: &str, raw: &[u8]) {
    let ins = insert(store, FolderRole::Inbox, raw);
    assert_eq!(
        content_bytes(store, ins.message_id),
        raw,
        "{name}: bytes changed"
    );
    let m = store.message(ins.message_id).unwrap();
    let s = groxide_mime::parse_summary(raw);
    assert_eq!(
        text(prop(&m.props, PR_SUBJECT)),
        s.subject,
        "{name}: subject"
    );
    assert_eq!(
        text(prop(&m.props, PR_SENT_REPRESENTING_SMTP_ADDRESS)),
        s.from.first().map(|a| a.addr.clone()),
        "{name}: from"
    );
    assert_eq!(
        m.recipients.len(),
        s.to.len() + s.cc.len() + s.bcc.len(),
        "{name}: recipients"
    );
    assert_eq!(
        prop(&m.props, PR_HASATTACH),
        Some(&PropValue::Bool(s.has_attachments)),
        "{name}"
    );
    assert_eq!(
        text(prop(&m.props, PR_BODY)),
        Some(s.body_text.clone()),
        "{name}: body"
    );
    let html = match prop(&m.props, PR_HTML) {
        Some(PropValue::Binary(b)) => Some(String::from_utf8(b.clone()).unwrap()),
        _ => None,
    };
    assert_eq!(html, s.body_html, "{name}: html");
    assert_eq!(
        m.attachments.len(),
        s.attachments.len(),
        "{name}: attachments"
    );
    for (a, info) in m.attachments.iter().zip(&s.attachments) {
        let want_name = info
            .name
            .clone()
            .or_else(|| info.embedded.as_ref().and_then(|e| e.subject.clone()));
        assert_eq!(
            text(prop(&a.props, PR_ATTACH_LONG_FILENAME)),
            want_name,
            "{name}: attachment name"
        );
        assert_eq!(
            prop(&a.props, PR_ATTACH_SIZE),
            Some(&PropValue::Long(info.size as i32)),
            "{name}"
        );
        let mut bytes = Vec::new();
        store
            .attachment_content(ins.message_id, a.position)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        assert_eq!(bytes.len(), info.size, "{name}: attachment content length");
    }
    assert_eq!(m.entry.size, raw.len() as u64);
}

#[test]
fn every_corpus_message_is_stored_verbatim_with_the_parsers_properties() {
    let s = private_store();
    for (name, raw) in corpus() {
        check_against_parser(&s.store, &name, &raw);
    }
}

/// (file, subject, attachment names)
const EXPECTED: &[(&str, Option<&str>, &[&str])] = &[
    ("plain-ascii.eml", Some("Lunch on Thursday?"), &[]),
    ("missing-date.eml", Some("No date here"), &[]),
    ("empty.eml", None, &[]),
    ("binary-garbage.eml", None, &[]),
];

#[test]
fn known_messages_have_their_known_subjects() {
    let s = private_store();
    let corpus = corpus();
    for (file, subject, names) in EXPECTED {
        let raw = &corpus.iter().find(|(n, _)| n == file).unwrap().1;
        let ins = insert(&s.store, FolderRole::Inbox, raw);
        let m = s.store.message(ins.message_id).unwrap();
        let got = text(prop(&m.props, PR_SUBJECT));
        assert_eq!(got.as_deref(), *subject, "{file}");
        let got_names: Vec<String> = m
            .attachments
            .iter()
            .filter_map(|a| text(prop(&a.props, PR_ATTACH_LONG_FILENAME)))
            .collect();
        assert_eq!(
            got_names,
            names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            "{file}"
        );
    }
}

#[test]
fn a_message_with_a_20_mb_attachment_round_trips() {
    let s = private_store();
    let content: Vec<u8> = (0..20 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let raw = groxide_mime::build_mime(&groxide_mime::OutgoingMessage {
        subject: Some("big".into()),
        body_text: Some("see attachment".into()),
        attachments: vec![groxide_mime::OutgoingAttachment {
            name: Some("big.bin".into()),
            mime_type: "application/octet-stream".into(),
            content: content.clone(),
            ..Default::default()
        }],
        ..Default::default()
    })
    .unwrap();
    assert!(raw.len() > 20 * 1024 * 1024);
    let ins = insert(&s.store, FolderRole::Inbox, &raw);
    assert_eq!(content_bytes(&s.store, ins.message_id), raw);
    let m = s.store.message(ins.message_id).unwrap();
    assert_eq!(prop(&m.props, PR_HASATTACH), Some(&PropValue::Bool(true)));
    let a = &m.attachments[0];
    assert_eq!(
        text(prop(&a.props, PR_ATTACH_LONG_FILENAME)).as_deref(),
        Some("big.bin")
    );
    let mut back = Vec::new();
    s.store
        .attachment_content(ins.message_id, a.position)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == content, "attachment content differs");
}
