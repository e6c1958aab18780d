//! Large input generated at test time, and hostile input: nothing panics and
//! IMAP output stays valid.

mod common;

use common::{check_imap_list, corpus, corpus_names};
use groxide_mime::{
    ParsedMessage, SectionKind, SectionSpec, attachment_content, base_subject, binary_size,
    header_values, parse_summary, searchable_text,
};
use proptest::prelude::*;

const TWENTY_MB: usize = 20 * 1024 * 1024;

fn base64(data: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(data.len() / 3 * 4 + data.len() / 57 * 2 + 8);
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.extend_from_slice(b"\r\n");
        }
        let n =
            chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

#[test]
fn twenty_megabyte_attachment_is_listed_and_decoded() {
    let content: Vec<u8> = (0..TWENTY_MB).map(|i| (i % 251) as u8).collect();
    let mut raw = b"From: big@example.com\r\nSubject: Big one\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"big\"\r\n\r\n--big\r\nContent-Type: text/plain\r\n\r\nLarge file attached.\r\n--big\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    raw.extend(base64(&content));
    raw.extend_from_slice(b"\r\n--big--\r\n");

    let m = ParsedMessage::parse(&raw);
    let s = m.summary();
    assert_eq!(s.subject.as_deref(), Some("Big one"));
    assert_eq!(s.body_text, "Large file attached.");
    assert_eq!(s.attachments.len(), 1);
    assert_eq!(s.attachments[0].size, TWENTY_MB);
    assert_eq!(binary_size(&raw, &[2]), Ok(TWENTY_MB));
    assert!(
        attachment_content(&raw, &s.attachments[0]) == content,
        "decoded content differs"
    );
    let structure = m.bodystructure(true);
    check_imap_list(&structure).expect("valid BODYSTRUCTURE");
    let part2 = m.locate_section(&SectionSpec {
        part: vec![2],
        kind: SectionKind::Full,
    });
    assert!(part2.len() > TWENTY_MB);
}

#[test]
fn deep_nesting_is_cut_at_the_depth_limit() {
    let mut raw = Vec::new();
    for i in 0..500 {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                .as_bytes(),
        );
    }
    raw.extend_from_slice(b"\r\ninnermost");
    let m = ParsedMessage::parse(&raw);
    let structure = m.bodystructure(true);
    check_imap_list(&structure).expect("valid BODYSTRUCTURE");
    let depth = structure.iter().take_while(|&&b| b == b'(').count();
    assert!(
        depth <= groxide_mime::DEFAULT_MAX_DEPTH + 2,
        "depth {depth}"
    );
    let _ = m.summary();
}

#[test]
fn search_text_holds_decoded_headers_and_all_text_parts() {
    let text = searchable_text(&corpus("forwarded-message-rfc822.eml"));
    for needle in [
        "Fwd: Contract draft",
        "Grace",
        "heidi@example.org",
        "Forwarding Frank's mail",
        "Contract draft",
        "frank@example.net",
        "the draft is attached",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text:?}");
    }
    let text = searchable_text(&corpus("multipart-related-inline-image.eml"));
    assert!(
        text.contains("Here is the new logo") && !text.contains("<p>"),
        "{text:?}"
    );
    let text = searchable_text(&corpus("charset-shift-jis.eml"));
    assert!(
        text.contains("\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{30e1}\u{30fc}\u{30eb}"),
        "{text:?}"
    );
}

#[test]
fn header_values_are_decoded_and_in_order() {
    let raw = corpus("encoded-words-mixed.eml");
    assert_eq!(
        header_values(&raw, "subject"),
        ["Caf\u{e9} \u{e9}n \u{20ac} plain tail"]
    );
    let raw = b"X-Tag: one\r\nx-tag: =?UTF-8?Q?tw=C3=B6?=\r\n\r\n";
    assert_eq!(header_values(raw, "X-TAG"), ["one", "tw\u{f6}"]);
    assert!(header_values(raw, "absent").is_empty());
}

#[test]
fn base_subject_of_corpus_subjects() {
    let s = parse_summary(&corpus("forwarded-message-rfc822.eml"));
    assert_eq!(
        base_subject(s.subject.as_deref().unwrap_or_default()),
        "Contract draft"
    );
}

fn all_outputs_hold_up(raw: &[u8]) -> Result<(), TestCaseError> {
    let m = ParsedMessage::parse(raw);
    let s = m.summary();
    for a in &s.attachments {
        let _ = m.attachment_content(a);
    }
    prop_assert!(check_imap_list(&m.envelope()).is_ok());
    let body = m.bodystructure(false);
    prop_assert!(
        check_imap_list(&body).is_ok(),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let structure = m.bodystructure(true);
    prop_assert!(
        check_imap_list(&structure).is_ok(),
        "{}",
        String::from_utf8_lossy(&structure)
    );
    for part in [vec![], vec![1], vec![2, 1], vec![1, 2, 3]] {
        for kind in [
            SectionKind::Full,
            SectionKind::Header,
            SectionKind::Text,
            SectionKind::Mime,
            SectionKind::HeaderFields(vec!["subject".into()]),
        ] {
            let section = m.locate_section(&SectionSpec {
                part: part.clone(),
                kind,
            });
            prop_assert!(section.bytes(raw).len() == section.len());
        }
        let _ = m.decode_section(&part);
    }
    let _ = m.searchable_text();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_and_render_valid_imap(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
        all_outputs_hold_up(&raw)?;
    }

    #[test]
    fn damaged_corpus_files_never_panic_and_render_valid_imap(
        file in 0usize..64,
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let names = corpus_names();
        let mut raw = corpus(&names[file % names.len()]);
        for (at, byte) in flips {
            if !raw.is_empty() {
                let i = at.index(raw.len());
                raw[i] = byte;
            }
        }
        if !raw.is_empty() {
            raw.truncate(cut.index(raw.len() + 1));
        }
        all_outputs_hold_up(&raw)?;
    }

    #[test]
    fn mime_shaped_noise_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("--b\r\n".to_string()),
        Just("--b--\r\n".to_string()),
        Just("Content-Type: multipart/mixed; boundary=b\r\n".to_string()),
        Just("Content-Type: message/rfc822\r\n".to_string()),
        Just("Content-Transfer-Encoding: base64\r\n".to_string()),
        Just("Content-Type: text/plain; charset=shift_jis\r\n".to_string()),
        Just("\r\n".to_string()),
        "Date: [ -~]{0,30}\r\n",
        "Subject: =\\?[a-zA-Z0-9_-]{0,10}\\?[bBqQx]\\?[ -~]{0,20}\r\n",
        Just("To: a:b@c;, <d@e>, \"q\r\n".to_string()),
        "[ -~]{0,20}\r\n",
    ], 0..40)) {
        all_outputs_hold_up(parts.concat().as_bytes())?;
    }

    #[test]
    fn base_subject_never_panics_and_is_stable(subject in "\\PC{0,40}|([ \\[\\]:(refwdREFWD)]{0,30}[a-z]{0,5})") {
        let once = base_subject(&subject);
        prop_assert_eq!(base_subject(&once), once.clone(), "input {:?}", subject);
    }
}
