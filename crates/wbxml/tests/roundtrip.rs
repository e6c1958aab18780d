//! Invariants over random trees built from the real code pages:
//! `decode(encode(t)) == t`, `from_xml(to_xml(t)) == t`, and the decoder
//! never panics on damaged documents and reads back what it accepts.
#![allow(clippy::expect_used)]

use groxide_wbxml::{CodePage, Content, Element, Limits, Tag, decode, encode};
use proptest::prelude::*;

fn any_tag() -> impl Strategy<Value = Tag> {
    (0..CodePage::ALL.len(), any::<prop::sample::Index>()).prop_map(|(page, index)| {
        let page = CodePage::ALL[page];
        let (token, _) = page.tags()[index.index(page.tags().len())];
        Tag::new(page, token).expect("a token from the table")
    })
}

/// Strings without NUL (which WBXML cannot carry): markup characters,
/// whitespace, controls, non-ASCII and the non-characters XML refuses.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 <>&\"':/.-]{0,24}",
        "[ \t\r\n]{1,4}",
        prop::collection::vec(
            prop_oneof![
                any::<char>().prop_filter("no NUL", |c| *c != '\0'),
                Just('\u{FFFE}'),
                Just('\u{1}'),
                Just('\r'),
            ],
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn any_opaque() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "[ -~\n]{0,40}".prop_map(String::into_bytes),
        Just(b"]]>".to_vec()),
    ]
}

fn any_tree() -> impl Strategy<Value = Element> {
    let leaf = (
        any_tag(),
        prop_oneof![
            Just(Content::Empty),
            any_text().prop_map(Content::Text),
            any_opaque().prop_map(Content::Opaque),
        ],
    )
        .prop_map(|(tag, content)| Element { tag, content });
    leaf.prop_recursive(6, 64, 5, |inner| {
        (any_tag(), prop::collection::vec(inner, 1..5)).prop_map(|(tag, children)| Element {
            tag,
            content: Content::Children(children),
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_reads_back_what_encode_writes(tree in any_tree()) {
        let bytes = encode(&tree);
        prop_assert_eq!(decode(&bytes, &Limits::default()), Ok(tree));
    }

    #[test]
    fn from_xml_reads_back_what_to_xml_writes(tree in any_tree()) {
        let xml = tree.to_xml();
        prop_assert_eq!(Element::from_xml(&xml, &Limits::default()), Ok(tree), "{}", xml);
    }

    #[test]
    fn damaged_documents_are_refused_or_read_consistently(
        tree in any_tree(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = encode(&tree);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        if let Ok(read) = decode(&bytes, &Limits::default()) {
            // Whatever is accepted is a tree the encoder writes canonically.
            prop_assert_eq!(decode(&encode(&read), &Limits::default()), Ok(read));
        }
    }

    #[test]
    fn random_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = vec![0x03, 0x01, 0x6A, 0x00];
        bytes.extend_from_slice(&body);
        let _ = decode(&bytes, &Limits::default());
        let _ = decode(&body, &Limits::default());
    }
}
