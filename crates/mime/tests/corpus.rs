//! Table tests over the shared corpus (tests/corpus/mime): derived fields,
//! ENVELOPE/BODY/BODYSTRUCTURE snapshots and invariants every file must hold.

mod common;

use common::{check_imap_list, corpus, corpus_dir, corpus_names};
use groxide_mime::{
    Disposition, Importance, ParsedMessage, Sensitivity, attachment_content, parse_summary,
};

/// What a corpus file must yield.
struct Expect {
    file: &'static str,
    subject: Option<&'static str>,
    /// First From address.
    from: Option<&'static str>,
    /// (file name, mime type, decoded size) of each attachment, in order.
    attachments: &'static [(Option<&'static str>, &'static str, usize)],
    /// Fragments the body text must contain.
    body: &'static [&'static str],
}

const CASES: &[Expect] = &[
    Expect {
        file: "plain-ascii.eml",
        subject: Some("Lunch on Thursday?"),
        from: Some("alice@example.com"),
        attachments: &[],
        body: &["free for lunch on Thursday", "Alice"],
    },
    Expect {
        file: "multipart-alternative.eml",
        subject: Some("Spring offers"),
        from: Some("news@shop.example"),
        attachments: &[],
        body: &["20% off garden tools"],
    },
    Expect {
        file: "multipart-mixed-attachments.eml",
        subject: Some("Quarterly report and photos"),
        from: Some("carol@example.com"),
        attachments: &[
            (Some("report-q1.pdf"), "application/pdf", 1121),
            (Some("photo \u{e9}t\u{e9}.png"), "image/png", 73),
            (Some("menu.txt"), "text/plain", 31),
        ],
        body: &["Please find the report"],
    },
    Expect {
        file: "multipart-related-inline-image.eml",
        subject: Some("Our new logo"),
        from: Some("dave@example.com"),
        attachments: &[(Some("logo.png"), "image/png", 73)],
        body: &["Here is the new logo:"],
    },
    Expect {
        file: "forwarded-message-rfc822.eml",
        subject: Some("Fwd: Contract draft"),
        from: Some("grace@example.com"),
        attachments: &[(None, "message/rfc822", 780)],
        body: &["Forwarding Frank's mail"],
    },
    Expect {
        file: "charset-iso-8859-1.eml",
        subject: Some("Gr\u{fc}\u{df}e aus M\u{fc}nchen"),
        from: Some("ivan@example.de"),
        attachments: &[],
        body: &["viele Gr\u{fc}\u{df}e aus M\u{fc}nchen, es schneit sch\u{f6}n."],
    },
    Expect {
        file: "charset-windows-1252.eml",
        subject: Some("Price \u{201c}special\u{201d} \u{20ac} 10"),
        from: Some("ken@example.com"),
        attachments: &[],
        body: &["The \u{201c}special\u{201d} price is \u{20ac} 10 \u{2013} don\u{2019}t miss it."],
    },
    Expect {
        file: "charset-shift-jis.eml",
        subject: Some("\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{4ef6}\u{540d}"),
        from: Some("mika@example.jp"),
        attachments: &[],
        body: &["\u{3053}\u{3093}\u{306b}\u{3061}\u{306f}\u{3001}\u{4e16}\u{754c}\u{3002}"],
    },
    Expect {
        file: "charset-utf-8.eml",
        subject: Some("Tr\u{e5} og \u{1f600}"),
        from: Some("olga@example.no"),
        attachments: &[],
        body: &["Bl\u{e5}b\u{e6}rsyltet\u{f8}y og \u{1f600} p\u{e5} fredag."],
    },
    Expect {
        file: "encoded-words-mixed.eml",
        subject: Some("Caf\u{e9} \u{e9}n \u{20ac} plain tail"),
        from: Some("andre@example.fr"),
        attachments: &[],
        body: &["Encoded words in the header fields."],
    },
    Expect {
        file: "missing-date.eml",
        subject: Some("No date here"),
        from: Some("quinn@example.com"),
        attachments: &[],
        body: &["no Date field"],
    },
    Expect {
        file: "missing-message-id.eml",
        subject: Some("No message id"),
        from: Some("sam@example.com"),
        attachments: &[],
        body: &["no Message-ID field"],
    },
    Expect {
        file: "raw-8bit-headers-utf8.eml",
        subject: Some("Gr\u{fc}\u{df}e \u{2013} unencoded UTF-8 subject"),
        from: Some("umit@example.com.tr"),
        attachments: &[],
        body: &["\u{e7}a va?"],
    },
    Expect {
        file: "raw-8bit-headers-latin1.eml",
        subject: Some("Informaci\u{f3}n del a\u{f1}o"),
        from: Some("jose@example.es"),
        attachments: &[],
        body: &["Cuerpo sin etiqueta"],
    },
    Expect {
        file: "truncated-unclosed-boundary.eml",
        subject: Some("Unclosed multipart"),
        from: Some("uma@example.com"),
        attachments: &[(Some("notes.txt"), "text/plain", 36)],
        body: &["First part is complete."],
    },
    Expect {
        file: "truncated-mid-part.eml",
        subject: Some("Cut off in transit"),
        from: Some("wendy@example.com"),
        attachments: &[(Some("partial.pdf"), "application/pdf", 222)],
        body: &["The attachment below is cut off."],
    },
    Expect {
        file: "broken-wrong-boundary.eml",
        subject: Some("Boundary does not match"),
        from: Some("yara@example.com"),
        attachments: &[],
        body: &["Text that sits between delimiters nobody declared."],
    },
    Expect {
        file: "broken-bad-base64.eml",
        subject: Some("Attachment with damaged base64"),
        from: Some("abe@example.com"),
        attachments: &[(Some("damaged.bin"), "application/octet-stream", 11)],
        body: &["See attachment."],
    },
    Expect {
        file: "broken-no-blank-line.eml",
        subject: Some("No blank line after the header"),
        from: Some("cleo@example.com"),
        attachments: &[],
        body: &["This line should have been preceded", "second body line"],
    },
    Expect {
        file: "header-only.eml",
        subject: Some("Header without body"),
        from: Some("eve@example.com"),
        attachments: &[],
        body: &[],
    },
    Expect {
        file: "empty.eml",
        subject: None,
        from: None,
        attachments: &[],
        body: &[],
    },
    Expect {
        file: "lf-line-endings.eml",
        subject: Some("Unix line endings"),
        from: Some("gus@example.com"),
        attachments: &[],
        body: &["Plain text with bare LF line endings."],
    },
    Expect {
        file: "nul-bytes.eml",
        subject: Some("NUL bytes inside"),
        from: Some("ida@example.com"),
        attachments: &[],
        body: &["Before NULafter NUL.", "End."],
    },
    Expect {
        file: "group-addresses.eml",
        subject: Some("Group syntax"),
        from: Some("kim@example.com"),
        attachments: &[],
        body: &["Addressed to groups."],
    },
    Expect {
        file: "long-header-lines.eml",
        subject: None, // checked apart: 150 words
        from: Some("olive@example.com"),
        attachments: &[],
        body: &["Long header lines above."],
    },
    Expect {
        file: "multipart-signed.eml",
        subject: Some("Signed message"),
        from: Some("quentin@example.com"),
        attachments: &[(Some("smime.p7s"), "application/pkcs7-signature", 180)],
        body: &["This text is covered by the signature."],
    },
    Expect {
        file: "smime-encrypted.eml",
        subject: Some("Encrypted message"),
        from: Some("sara@example.com"),
        attachments: &[(Some("smime.p7m"), "application/pkcs7-mime", 240)],
        body: &[],
    },
    Expect {
        file: "binary-garbage.eml",
        subject: None,
        from: None,
        attachments: &[],
        body: &[],
    },
    Expect {
        file: "priority-low-private.eml",
        subject: Some("Not urgent"),
        from: Some("uri@example.com"),
        attachments: &[],
        body: &["Whenever you have time."],
    },
    Expect {
        file: "unknown-charset-and-encoding.eml",
        subject: Some("Unknown labels"),
        from: Some("walt@example.com"),
        attachments: &[(Some("legacy.uue"), "application/octet-stream", 35)],
        body: &["Part without any header", "Unknown charset, caf\u{e9}."],
    },
];

fn check(e: &Expect) {
    let raw = corpus(e.file);
    let s = parse_summary(&raw);
    if e.file != "long-header-lines.eml" {
        assert_eq!(s.subject.as_deref(), e.subject, "{}: subject", e.file);
    }
    assert_eq!(
        s.from.first().map(|a| a.addr.as_str()),
        e.from,
        "{}: from",
        e.file
    );
    let got: Vec<(Option<&str>, &str, usize)> = s
        .attachments
        .iter()
        .map(|a| (a.name.as_deref(), a.mime_type.as_str(), a.size))
        .collect();
    assert_eq!(got, e.attachments, "{}: attachments", e.file);
    for fragment in e.body {
        assert!(
            s.body_text.contains(fragment),
            "{}: body lacks {fragment:?}: {:?}",
            e.file,
            s.body_text
        );
    }
    for a in &s.attachments {
        let content = attachment_content(&raw, a);
        assert_eq!(
            content.len(),
            a.size,
            "{}: content of {}",
            e.file,
            a.part_path
        );
    }
}

#[test]
fn every_corpus_file_yields_its_expected_fields() {
    for e in CASES {
        check(e);
    }
}

#[test]
fn every_corpus_file_has_a_table_case_and_a_readme_line() {
    let readme = std::fs::read_to_string(corpus_dir().join("README.md")).expect("README");
    for name in corpus_names() {
        assert!(
            CASES.iter().any(|c| c.file == name),
            "{name} has no table case"
        );
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not in README.md"
        );
    }
}

/// Printable ASCII as is; CR, LF and other bytes escaped, so snapshots show
/// literals and 8-bit bytes exactly.
fn escaped(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

#[test]
fn imap_structures_match_snapshots() {
    for name in corpus_names() {
        let raw = corpus(&name);
        let m = ParsedMessage::parse(&raw);
        let text = format!(
            "ENVELOPE {}\nBODY {}\nBODYSTRUCTURE {}\n",
            escaped(&m.envelope()),
            escaped(&m.bodystructure(false)),
            escaped(&m.bodystructure(true)),
        );
        insta::assert_snapshot!(name.trim_end_matches(".eml"), text);
    }
}

#[test]
fn imap_structures_are_valid_syntax_for_every_file() {
    for name in corpus_names() {
        let raw = corpus(&name);
        let m = ParsedMessage::parse(&raw);
        for (what, bytes) in [
            ("ENVELOPE", m.envelope()),
            ("BODY", m.bodystructure(false)),
            ("BODYSTRUCTURE", m.bodystructure(true)),
        ] {
            if let Err(e) = check_imap_list(&bytes) {
                panic!("{name}: {what} invalid: {e}: {}", escaped(&bytes));
            }
        }
    }
}

#[test]
fn imap_syntax_checker_rejects_broken_lists() {
    assert!(check_imap_list(b"(NIL \"a\" 12 {2}\r\nxy ((NIL)(NIL) \"M\"))").is_ok());
    for bad in [
        &b"(NIL"[..],
        b"NIL",
        b"(\"a\"\"b\")",
        b"({5}\r\nab)",
        b"(FOO)",
        b"(NIL) x",
        b"(\"\xe9\")",
    ] {
        assert!(
            check_imap_list(bad).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn dates_keep_their_utc_offset() {
    let s = parse_summary(&corpus("multipart-mixed-attachments.eml"));
    let d = s.date.expect("date");
    // Thu, 05 Mar 2026 10:30:00 -0500 is 15:30 UTC.
    assert_eq!(d.unix_seconds, 1_772_724_600);
    assert_eq!(d.utc_offset_minutes, -300);
    assert_eq!(parse_summary(&corpus("missing-date.eml")).date, None);
}

#[test]
fn message_ids_and_references_keep_angle_brackets() {
    let s = parse_summary(&corpus("long-header-lines.eml"));
    assert_eq!(s.message_id.as_deref(), Some("<long-headers@example.com>"));
    assert_eq!(
        s.in_reply_to.as_deref(),
        Some("<ref-0059@lists.example.org>")
    );
    assert_eq!(s.references.len(), 60);
    assert_eq!(s.references[0], "<ref-0000@lists.example.org>");
    let subject = s.subject.expect("subject");
    assert!(subject.starts_with("word000 word001") && subject.ends_with("word149"));
    assert_eq!(subject.split(' ').count(), 150);
    assert_eq!(
        parse_summary(&corpus("missing-message-id.eml")).message_id,
        None
    );
}

#[test]
fn importance_and_sensitivity_come_from_priority_headers() {
    let high = parse_summary(&corpus("multipart-alternative.eml"));
    assert_eq!(high.importance, Importance::High);
    let low = parse_summary(&corpus("priority-low-private.eml"));
    assert_eq!(low.importance, Importance::Low);
    assert_eq!(low.sensitivity, Some(Sensitivity::Private));
    assert_eq!(
        parse_summary(&corpus("plain-ascii.eml")).importance,
        Importance::Normal
    );
}

#[test]
fn html_only_and_alternative_bodies_fill_both_fields() {
    let alt = parse_summary(&corpus("multipart-alternative.eml"));
    assert!(
        alt.body_html
            .as_deref()
            .is_some_and(|h| h.contains("<b>20% off</b>"))
    );
    assert_eq!(
        alt.body_text,
        "Spring offers are here: 20% off garden tools."
    );
    let related = parse_summary(&corpus("multipart-related-inline-image.eml"));
    assert!(
        related
            .body_html
            .as_deref()
            .is_some_and(|h| h.contains("cid:logo.1@example.com"))
    );
    assert!(
        !related.body_text.contains('<'),
        "text derived from HTML has no tags"
    );
}

#[test]
fn inline_images_are_inline_attachments_with_content_id() {
    let s = parse_summary(&corpus("multipart-related-inline-image.eml"));
    let logo = &s.attachments[0];
    assert_eq!(logo.disposition, Disposition::Inline);
    assert_eq!(logo.content_id.as_deref(), Some("logo.1@example.com"));
    assert!(
        !s.has_attachments,
        "inline images do not count as attachments"
    );
    let raw = corpus("multipart-related-inline-image.eml");
    assert!(attachment_content(&raw, logo).starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[test]
fn embedded_message_has_its_own_summary_and_attachments() {
    let raw = corpus("forwarded-message-rfc822.eml");
    let s = parse_summary(&raw);
    let fwd = &s.attachments[0];
    assert_eq!(fwd.part_path, "2");
    let inner = fwd.embedded.as_deref().expect("embedded summary");
    assert_eq!(inner.subject.as_deref(), Some("Contract draft"));
    assert_eq!(inner.from[0].addr, "frank@example.net");
    assert_eq!(inner.body_text, "Grace, the draft is attached.");
    let draft = &inner.attachments[0];
    assert_eq!(
        (draft.name.as_deref(), draft.part_path.as_str(), draft.size),
        (Some("draft.bin"), "2.2", 200)
    );
    let content = attachment_content(&raw, draft);
    assert_eq!(content, (0u8..200).collect::<Vec<u8>>());
    let embedded_bytes = attachment_content(&raw, fwd);
    assert!(embedded_bytes.starts_with(b"From: Frank <frank@example.net>\r\n"));
    assert_eq!(
        parse_summary(&embedded_bytes).subject.as_deref(),
        Some("Contract draft")
    );
}

#[test]
fn attachment_contents_decode_base64_and_quoted_printable() {
    let raw = corpus("multipart-mixed-attachments.eml");
    let s = parse_summary(&raw);
    let pdf = attachment_content(&raw, &s.attachments[0]);
    assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
    let menu = attachment_content(&raw, &s.attachments[2]);
    // ISO-8859-15: 0xE9 is é, 0xA4 is €; QP line breaks are CRLF.
    assert_eq!(menu, b"Caf\xe9 menu\r\nSoupe du jour: 5 \xa4\r\n");
}

#[test]
fn groups_flatten_into_address_lists() {
    let s = parse_summary(&corpus("group-addresses.eml"));
    let to: Vec<(&str, Option<&str>)> =
        s.to.iter()
            .map(|a| (a.addr.as_str(), a.group.as_deref()))
            .collect();
    assert_eq!(
        to,
        [
            ("lou@example.com", Some("Project Team")),
            ("max@example.com", Some("Project Team")),
            ("ned@example.org", None)
        ]
    );
    assert!(s.cc.is_empty(), "an empty group lists nobody");
    assert_eq!(s.bcc[0].group.as_deref(), Some("Auditors"));
}

#[test]
fn encoded_display_names_decode_across_charsets() {
    let s = parse_summary(&corpus("encoded-words-mixed.eml"));
    assert_eq!(s.from[0].name.as_deref(), Some("Andr\u{e9} M\u{fc}ller"));
    let names: Vec<Option<&str>> = s.to.iter().map(|a| a.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            Some("Z\u{f6}e"),
            Some("\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}")
        ]
    );
    let latin1 = parse_summary(&corpus("raw-8bit-headers-latin1.eml"));
    assert_eq!(latin1.from[0].name.as_deref(), Some("Jos\u{e9} Mu\u{f1}oz"));
}

#[test]
fn signed_and_encrypted_messages_are_flagged() {
    let signed = parse_summary(&corpus("multipart-signed.eml"));
    assert!(signed.is_signed && !signed.is_encrypted);
    let encrypted = parse_summary(&corpus("smime-encrypted.eml"));
    assert!(encrypted.is_encrypted && !encrypted.is_signed);
    let plain = parse_summary(&corpus("plain-ascii.eml"));
    assert!(!plain.is_signed && !plain.is_encrypted);
}

#[test]
fn header_size_is_where_the_body_starts() {
    for name in corpus_names() {
        let raw = corpus(&name);
        let s = parse_summary(&raw);
        assert_eq!(s.size, raw.len(), "{name}");
        assert!(s.header_size <= raw.len(), "{name}");
    }
    let raw = corpus("plain-ascii.eml");
    let s = parse_summary(&raw);
    assert!(raw[..s.header_size].ends_with(b"\r\n\r\n"));
    assert!(raw[s.header_size..].starts_with(b"Hi Bob,"));
    assert_eq!(
        s.headers.first().map(|h| h.name.as_str()),
        Some("Return-Path")
    );
    assert_eq!(s.headers.len(), 7);
}

#[test]
fn envelope_alone_equals_envelope_of_the_parsed_message() {
    for name in corpus_names() {
        let raw = corpus(&name);
        assert_eq!(
            groxide_mime::render_envelope(&raw),
            ParsedMessage::parse(&raw).envelope(),
            "{name}"
        );
    }
}
