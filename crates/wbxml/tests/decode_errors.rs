//! What the decoder refuses, table by table: each case is the bytes a
//! client could send and the exact error (kind, byte offset, page) the
//! server logs.

use groxide_wbxml::{
    AirSync, AirSyncBase, CodePage, DecodeError, Element, Limits, Tag, decode, encode,
};

/// WBXML 1.3, public id 1, UTF-8, no string table.
const HEADER: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];

fn doc(body: &[u8]) -> Vec<u8> {
    let mut bytes = HEADER.to_vec();
    bytes.extend_from_slice(body);
    bytes
}

fn check(cases: &[(&str, Vec<u8>, DecodeError)], limits: &Limits) {
    for (name, input, expected) in cases {
        assert_eq!(decode(input, limits).as_ref(), Err(expected), "{name}");
    }
}

fn tag(t: impl Into<Tag>) -> Tag {
    t.into()
}

#[test]
fn bad_headers_are_refused_with_what_eas_expects() {
    use DecodeError::*;
    let cases = vec![
        (
            "empty body",
            vec![],
            Truncated {
                offset: 0,
                what: "header",
            },
        ),
        (
            "version only",
            vec![0x03],
            Truncated {
                offset: 1,
                what: "header",
            },
        ),
        (
            "WBXML 1.2",
            vec![0x02, 0x01, 0x6A, 0x00, 0x45, 0x01],
            Version { found: 0x02 },
        ),
        (
            "WBXML 1.1",
            vec![0x01, 0x01, 0x6A, 0x00],
            Version { found: 0x01 },
        ),
        (
            "public id in the string table",
            vec![0x03, 0x00, 0x00, 0x6A, 0x00],
            PublicId {
                found: 0,
                offset: 1,
            },
        ),
        (
            "SyncML public id",
            vec![0x03, 0x8F, 0x52, 0x6A, 0x00],
            PublicId {
                found: 0x7D2,
                offset: 1,
            },
        ),
        (
            "ISO-8859-1",
            vec![0x03, 0x01, 0x04, 0x00, 0x45, 0x01],
            Charset {
                found: 4,
                offset: 2,
            },
        ),
        (
            "no charset",
            vec![0x03, 0x01, 0x00, 0x00],
            Charset {
                found: 0,
                offset: 2,
            },
        ),
        (
            "string table",
            vec![0x03, 0x01, 0x6A, 0x03, b'a', b'b', 0x00, 0x45, 0x01],
            StringTable { len: 3, offset: 3 },
        ),
        (
            "public id past 32 bits",
            vec![0x03, 0x90, 0x80, 0x80, 0x80, 0x00, 0x6A, 0x00],
            IntegerOverflow { offset: 1 },
        ),
        (
            "six-byte integer",
            vec![0x03, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
            IntegerOverflow { offset: 1 },
        ),
        (
            "header cut in the string table length",
            vec![0x03, 0x01, 0x6A, 0x80],
            Truncated {
                offset: 4,
                what: "header",
            },
        ),
        ("header and nothing else", HEADER.to_vec(), NoRootElement),
        ("only a page switch", doc(&[0x00, 0x01]), NoRootElement),
    ];
    check(&cases, &Limits::default());
}

#[test]
fn unknown_pages_tags_and_tokens_are_refused_with_page_and_offset() {
    use DecodeError::*;
    let cases = vec![
        (
            "page 26",
            doc(&[0x00, 26, 0x05]),
            UnknownCodePage {
                page: 26,
                offset: 5,
            },
        ),
        (
            "page 255",
            doc(&[0x45, 0x00, 0xFF, 0x05, 0x01]),
            UnknownCodePage {
                page: 255,
                offset: 6,
            },
        ),
        (
            "AirSync 0x11 (dropped Version)",
            doc(&[0x45, 0x51, 0x01, 0x01]),
            UnknownTag {
                page: CodePage::AirSync,
                token: 0x11,
                offset: 5,
            },
        ),
        (
            "AirSyncBase gap 0x09",
            doc(&[0x00, 17, 0x09]),
            UnknownTag {
                page: CodePage::AirSyncBase,
                token: 0x09,
                offset: 6,
            },
        ),
        (
            "Find 0x3F",
            doc(&[0x00, 25, 0x7F, 0x01]),
            UnknownTag {
                page: CodePage::Find,
                token: 0x3F,
                offset: 6,
            },
        ),
        (
            "attributes on Sync",
            doc(&[0xC5, 0x01, 0x01]),
            Attributes {
                page: CodePage::AirSync,
                byte: 0xC5,
                offset: 4,
            },
        ),
        (
            "attributes, no content",
            doc(&[0x45, 0x00, 0x07, 0x85, 0x01, 0x01]),
            Attributes {
                page: CodePage::FolderHierarchy,
                byte: 0x85,
                offset: 7,
            },
        ),
        (
            "ENTITY",
            doc(&[0x45, 0x02, 0x41, 0x01]),
            UnsupportedToken {
                token: 0x02,
                name: "ENTITY",
                offset: 5,
            },
        ),
        (
            "LITERAL",
            doc(&[0x04, 0x00]),
            UnsupportedToken {
                token: 0x04,
                name: "LITERAL",
                offset: 4,
            },
        ),
        (
            "STR_T",
            doc(&[0x4B, 0x83, 0x00, 0x01]),
            UnsupportedToken {
                token: 0x83,
                name: "STR_T",
                offset: 5,
            },
        ),
        (
            "EXT_I_0",
            doc(&[0x4B, 0x40, b'x', 0x00, 0x01]),
            UnsupportedToken {
                token: 0x40,
                name: "EXT_I_0",
                offset: 5,
            },
        ),
        (
            "PI",
            doc(&[0x43]),
            UnsupportedToken {
                token: 0x43,
                name: "PI",
                offset: 4,
            },
        ),
        (
            "EXT_T_2",
            doc(&[0x82, 0x00]),
            UnsupportedToken {
                token: 0x82,
                name: "EXT_T_2",
                offset: 4,
            },
        ),
        (
            "EXT_0",
            doc(&[0xC0]),
            UnsupportedToken {
                token: 0xC0,
                name: "EXT_0",
                offset: 4,
            },
        ),
        (
            "LITERAL_AC",
            doc(&[0xC4, 0x00]),
            UnsupportedToken {
                token: 0xC4,
                name: "LITERAL_AC",
                offset: 4,
            },
        ),
    ];
    check(&cases, &Limits::default());
}

#[test]
fn truncated_and_unbalanced_documents_are_refused() {
    use DecodeError::*;
    let cases = vec![
        (
            "root never closed",
            doc(&[0x45]),
            Unclosed {
                tag: tag(AirSync::Sync),
                offset: 4,
            },
        ),
        (
            "child never closed",
            doc(&[0x45, 0x5C, 0x4F, 0x01]),
            Unclosed {
                tag: tag(AirSync::Collections),
                offset: 5,
            },
        ),
        (
            "string without NUL",
            doc(&[0x4B, 0x03, b'1', b'2']),
            Truncated {
                offset: 8,
                what: "inline string",
            },
        ),
        (
            "SWITCH_PAGE without page",
            doc(&[0x45, 0x00]),
            Truncated {
                offset: 6,
                what: "SWITCH_PAGE",
            },
        ),
        (
            "OPAQUE without length",
            doc(&[0x4B, 0xC3]),
            Truncated {
                offset: 6,
                what: "OPAQUE length",
            },
        ),
        ("END first", doc(&[0x01]), UnbalancedEnd { offset: 4 }),
        (
            "one END too many",
            doc(&[0x45, 0x01, 0x01]),
            TrailingData { offset: 6 },
        ),
        (
            "a second root",
            doc(&[0x0B, 0x0B]),
            TrailingData { offset: 5 },
        ),
        (
            "page switch after the root",
            doc(&[0x45, 0x01, 0x00, 0x01]),
            TrailingData { offset: 6 },
        ),
        (
            "string outside any element",
            doc(&[0x03, b'x', 0x00]),
            ContentOutsideElement {
                what: "inline string",
                offset: 4,
            },
        ),
        (
            "opaque outside any element",
            doc(&[0xC3, 0x01, 0xFF]),
            ContentOutsideElement {
                what: "opaque data",
                offset: 4,
            },
        ),
        (
            "string not UTF-8",
            doc(&[0x4B, 0x03, 0xC3, 0x28, 0x00, 0x01]),
            InvalidUtf8 { offset: 6 },
        ),
    ];
    check(&cases, &Limits::default());
}

#[test]
fn mixed_content_is_refused() {
    use DecodeError::*;
    let cases = vec![
        (
            "text then child",
            doc(&[0x45, 0x03, b'x', 0x00, 0x0E, 0x01]),
            MixedContent {
                tag: tag(AirSync::Sync),
                offset: 8,
            },
        ),
        (
            "child then text",
            doc(&[0x45, 0x0E, 0x03, b'x', 0x00, 0x01]),
            MixedContent {
                tag: tag(AirSync::Sync),
                offset: 6,
            },
        ),
        (
            "opaque then text",
            doc(&[0x4B, 0xC3, 0x01, 0xFF, 0x03, b'x', 0x00, 0x01]),
            MixedContent {
                tag: tag(AirSync::SyncKey),
                offset: 8,
            },
        ),
        (
            "text then opaque",
            doc(&[0x4B, 0x03, b'x', 0x00, 0xC3, 0x00, 0x01]),
            MixedContent {
                tag: tag(AirSync::SyncKey),
                offset: 8,
            },
        ),
        (
            "child with content then opaque",
            doc(&[0x45, 0x4E, 0x03, b'1', 0x00, 0x01, 0xC3, 0x00, 0x01]),
            MixedContent {
                tag: tag(AirSync::Sync),
                offset: 10,
            },
        ),
    ];
    check(&cases, &Limits::default());
}

#[test]
fn split_strings_and_opaque_runs_are_joined() {
    let strings = doc(&[0x4B, 0x03, b'1', 0x00, 0x03, b'2', 0x00, 0x01]);
    assert_eq!(
        decode(&strings, &Limits::default()),
        Ok(Element::with_text(AirSync::SyncKey, "12"))
    );
    let opaque = doc(&[
        0x00, 17, 0x4B, 0xC3, 0x01, 0xAA, 0xC3, 0x02, 0xBB, 0xCC, 0x01,
    ]);
    assert_eq!(
        decode(&opaque, &Limits::default()),
        Ok(Element::with_opaque(
            AirSyncBase::Data,
            vec![0xAA, 0xBB, 0xCC]
        ))
    );
    // A content bit with nothing before END is an element without content.
    assert_eq!(
        decode(&doc(&[0x45, 0x01]), &Limits::default()),
        Ok(Element::empty(AirSync::Sync))
    );
}

#[test]
fn oversized_opaque_lengths_are_refused_before_allocating() {
    use DecodeError::*;
    let limits = Limits {
        max_opaque_bytes: 4,
        ..Limits::default()
    };
    let cases = vec![
        (
            "length past the end",
            doc(&[0x4B, 0xC3, 0x05, 1, 2, 3, 0x01]),
            OpaquePastEnd {
                len: 5,
                remaining: 4,
                offset: 5,
            },
        ),
        (
            "4 GiB length in a tiny body",
            doc(&[0x4B, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01]),
            OpaquePastEnd {
                len: u32::MAX,
                remaining: 1,
                offset: 5,
            },
        ),
        (
            "length past 32 bits",
            doc(&[0x4B, 0xC3, 0x90, 0x80, 0x80, 0x80, 0x00, 0x01]),
            IntegerOverflow { offset: 6 },
        ),
        (
            "over the opaque limit",
            doc(&[0x4B, 0xC3, 0x05, 1, 2, 3, 4, 5, 0x01]),
            OpaqueTooLong {
                tag: tag(AirSync::SyncKey),
                limit: 4,
                offset: 5,
            },
        ),
        (
            "over the limit in two pieces",
            doc(&[0x4B, 0xC3, 0x03, 1, 2, 3, 0xC3, 0x02, 4, 5, 0x01]),
            OpaqueTooLong {
                tag: tag(AirSync::SyncKey),
                limit: 4,
                offset: 10,
            },
        ),
    ];
    check(&cases, &limits);
}

#[test]
fn depth_element_and_size_bombs_stop_at_the_limits() {
    use DecodeError::*;
    // 100 000 nested Sync elements, each with content: a depth bomb.
    let mut bomb = HEADER.to_vec();
    bomb.extend(std::iter::repeat_n(0x45, 100_000));
    let default = Limits::default();
    assert_eq!(
        decode(&bomb, &default),
        Err(TooDeep {
            limit: default.max_depth,
            offset: 4 + default.max_depth
        })
    );

    let limits = Limits {
        max_depth: 3,
        max_elements: 4,
        max_string_bytes: 3,
        max_input_bytes: 64,
        max_opaque_bytes: 64,
    };
    let cases = vec![
        (
            "fourth level",
            doc(&[0x45, 0x5C, 0x4F, 0x4B, 0x01, 0x01, 0x01, 0x01]),
            TooDeep {
                limit: 3,
                offset: 7,
            },
        ),
        (
            "empty element at the fourth level",
            doc(&[0x45, 0x5C, 0x4F, 0x0B, 0x01, 0x01, 0x01]),
            TooDeep {
                limit: 3,
                offset: 7,
            },
        ),
        (
            "fifth element",
            doc(&[0x45, 0x0E, 0x0E, 0x0E, 0x0E, 0x01]),
            TooManyElements {
                limit: 4,
                offset: 8,
            },
        ),
        (
            "long string",
            doc(&[0x4B, 0x03, b'1', b'2', b'3', b'4', 0x00, 0x01]),
            StringTooLong {
                tag: tag(AirSync::SyncKey),
                limit: 3,
                offset: 5,
            },
        ),
        (
            "long string in two pieces",
            doc(&[0x4B, 0x03, b'1', b'2', 0x00, 0x03, b'3', b'4', 0x00, 0x01]),
            StringTooLong {
                tag: tag(AirSync::SyncKey),
                limit: 3,
                offset: 9,
            },
        ),
        (
            "input over the limit",
            doc(&[0x4B; 61]),
            TooLarge { len: 65, limit: 64 },
        ),
    ];
    check(&cases, &limits);

    // Exactly at the limits is fine.
    let at_limits = doc(&[
        0x45, 0x5C, 0x4B, 0x03, b'1', b'2', b'3', 0x00, 0x01, 0x01, 0x01,
    ]);
    assert!(decode(&at_limits, &limits).is_ok());
}

#[test]
fn error_messages_name_the_page_and_the_byte() {
    let error = decode(&doc(&[0x00, 17, 0x09]), &Limits::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown tag token 0x09 on code page 17 (AirSyncBase) at byte 6"
    );
    let error = decode(&doc(&[0x00, 40]), &Limits::default()).unwrap_err();
    assert_eq!(error.to_string(), "unknown WBXML code page 40 at byte 5");
    let error = decode(&[0x03, 0x01, 0x04, 0x00], &Limits::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "WBXML charset 4 at byte 2 is not supported: EAS uses UTF-8 (106)"
    );
    let error = decode(&doc(&[0x45]), &Limits::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "WBXML input ends before the END of AirSync:Sync opened at byte 4"
    );
}

#[test]
fn what_encode_writes_decodes_under_the_default_limits() {
    let deep = (0..30).fold(Element::with_text(AirSync::SyncKey, "k"), |inner, _| {
        Element::with_children(AirSync::Collection, [inner])
    });
    assert_eq!(decode(&encode(&deep), &Limits::default()), Ok(deep));
}
