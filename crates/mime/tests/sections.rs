//! FETCH BODY[section] and BINARY[section] over corpus messages.

mod common;

use common::corpus;
use groxide_mime::{
    SectionBytes, SectionKind, SectionSpec, UnknownCte, binary_size, decode_section, locate_section,
};

fn spec(part: &[u32], kind: SectionKind) -> SectionSpec {
    SectionSpec {
        part: part.to_vec(),
        kind,
    }
}

fn section(file: &str, part: &[u32], kind: SectionKind) -> Vec<u8> {
    let raw = corpus(file);
    locate_section(&raw, &spec(part, kind)).bytes(&raw).to_vec()
}

fn check(file: &str, part: &[u32], kind: SectionKind, want: &[u8]) {
    let got = section(file, part, kind.clone());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "{file} {part:?} {kind:?}"
    );
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn whole_message_header_and_text_sections() {
    let raw = corpus("plain-ascii.eml");
    assert_eq!(
        locate_section(&raw, &SectionSpec::default()),
        SectionBytes::Range(0..raw.len())
    );
    let header = section("plain-ascii.eml", &[], SectionKind::Header);
    assert!(
        header.starts_with(b"Return-Path:")
            && header.ends_with(b"<lunch-0001@client.example.com>\r\n\r\n")
    );
    let text = section("plain-ascii.eml", &[], SectionKind::Text);
    assert!(text.starts_with(b"Hi Bob,") && text.ends_with(b"Alice\r\n"));
    assert_eq!(header.len() + text.len(), raw.len());
}

#[test]
fn part_one_of_a_non_multipart_message_is_its_body() {
    let text = section("plain-ascii.eml", &[], SectionKind::Text);
    check("plain-ascii.eml", &[1], SectionKind::Full, &text);
    check("plain-ascii.eml", &[2], SectionKind::Full, b"");
    check("plain-ascii.eml", &[1, 1], SectionKind::Full, b"");
}

#[test]
fn multipart_parts_exclude_the_line_break_before_the_delimiter() {
    check(
        "multipart-alternative.eml",
        &[1],
        SectionKind::Full,
        b"Spring offers are here: 20% off garden tools.",
    );
    check(
        "multipart-alternative.eml",
        &[2],
        SectionKind::Mime,
        b"Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
    );
    check("multipart-alternative.eml", &[3], SectionKind::Full, b"");
    check("multipart-alternative.eml", &[0], SectionKind::Full, b"");
}

#[test]
fn header_fields_are_built_with_a_closing_blank_line() {
    check(
        "plain-ascii.eml",
        &[],
        SectionKind::HeaderFields(names(&["subject", "FROM", "x-absent"])),
        b"From: Alice Example <alice@example.com>\r\nSubject: Lunch on Thursday?\r\n\r\n",
    );
    let not = section(
        "plain-ascii.eml",
        &[],
        SectionKind::HeaderFieldsNot(names(&["received", "return-path"])),
    );
    assert!(
        not.starts_with(b"From: Alice"),
        "{}",
        String::from_utf8_lossy(&not)
    );
    assert!(!not.windows(9).any(|w| w == b"Received:"));
    assert!(not.ends_with(b"\r\n\r\n"));
    check(
        "plain-ascii.eml",
        &[],
        SectionKind::HeaderFields(names(&["x-absent"])),
        b"\r\n",
    );
    // Folded fields keep their folding.
    let received = section(
        "plain-ascii.eml",
        &[],
        SectionKind::HeaderFields(names(&["Received"])),
    );
    assert_eq!(received.iter().filter(|&&b| b == b'\n').count(), 4);
}

#[test]
fn embedded_message_sections_nest_below_its_part() {
    let f = "forwarded-message-rfc822.eml";
    let whole = section(f, &[2], SectionKind::Full);
    assert!(whole.starts_with(b"From: Frank") && whole.ends_with(b"--inner-b--\r\n"));
    let header = section(f, &[2], SectionKind::Header);
    assert!(
        header.starts_with(b"From: Frank") && header.ends_with(b"boundary=\"inner-b\"\r\n\r\n")
    );
    check(
        f,
        &[2],
        SectionKind::HeaderFields(names(&["subject"])),
        b"Subject: Contract draft\r\n\r\n",
    );
    let text = section(f, &[2], SectionKind::Text);
    assert!(text.starts_with(b"--inner-b\r\n"));
    check(
        f,
        &[2],
        SectionKind::Mime,
        b"Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n",
    );
    check(
        f,
        &[2, 1],
        SectionKind::Full,
        b"Grace, the draft is attached.",
    );
    check(f, &[2, 2], SectionKind::Mime, b"Content-Type: application/octet-stream; name=\"draft.bin\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"draft.bin\"\r\n\r\n");
    // HEADER of a part that is not a message does not exist.
    check(f, &[1], SectionKind::Header, b"");
    check(f, &[1], SectionKind::Text, b"");
}

#[test]
fn binary_sections_undo_the_transfer_encoding() {
    let raw = corpus("forwarded-message-rfc822.eml");
    let draft = decode_section(&raw, &[2, 2]).expect("base64 decodes");
    assert_eq!(draft, (0u8..200).collect::<Vec<u8>>());
    assert_eq!(binary_size(&raw, &[2, 2]), Ok(200));
    assert_eq!(decode_section(&raw, &[]).expect("whole"), raw);
    assert_eq!(
        decode_section(&raw, &[9]).expect("missing"),
        Vec::<u8>::new()
    );
    assert_eq!(binary_size(&raw, &[9]), Ok(0));

    let raw = corpus("multipart-mixed-attachments.eml");
    let menu = decode_section(&raw, &[4]).expect("qp decodes");
    assert_eq!(menu, b"Caf\xe9 menu\r\nSoupe du jour: 5 \xa4\r\n");
    assert_eq!(binary_size(&raw, &[4]), Ok(menu.len()));
}

#[test]
fn binary_of_an_unknown_encoding_is_an_error() {
    let raw = corpus("unknown-charset-and-encoding.eml");
    let err = UnknownCte {
        encoding: "x-uuencode".into(),
    };
    assert_eq!(decode_section(&raw, &[3]), Err(err.clone()));
    assert_eq!(binary_size(&raw, &[3]), Err(err));
    assert_eq!(
        decode_section(&raw, &[1]).expect("7bit"),
        b"Part without any header: defaults to text/plain."
    );
}

#[test]
fn part_without_header_has_an_empty_mime_header() {
    check(
        "unknown-charset-and-encoding.eml",
        &[1],
        SectionKind::Mime,
        b"\r\n",
    );
}

#[test]
fn sections_of_broken_messages_are_best_effort() {
    check("broken-no-blank-line.eml", &[], SectionKind::Text, b"This line should have been preceded by a blank line.\r\nAnd this is the second body line.\r\n");
    check("header-only.eml", &[], SectionKind::Text, b"");
    check("empty.eml", &[], SectionKind::Header, b"");
    check("empty.eml", &[1], SectionKind::Full, b"");
    check(
        "truncated-unclosed-boundary.eml",
        &[2],
        SectionKind::Full,
        b"The closing delimiter never comes.\r\n",
    );
    check("broken-wrong-boundary.eml", &[1], SectionKind::Full, b"");
    check(
        "lf-line-endings.eml",
        &[2],
        SectionKind::Full,
        b"<p>HTML with bare LF line endings.</p>",
    );
}
