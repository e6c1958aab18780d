//! A tree to WBXML bytes: [`encode`].

use crate::code_page::CodePage;
use crate::tree::{Content, Element};
use crate::wire;

/// Encodes a tree as an EAS WBXML document: header `03 01 6A 00` (WBXML
/// 1.3, unknown public identifier, UTF-8, no string table), then the
/// elements, switching code page only where the page changes.
///
/// Encoding cannot fail. Two things a tree can hold have no exact WBXML
/// form and are mapped: a NUL in a string is written as U+FFFD (inline
/// strings end at NUL), and `Children(vec![])` is written like `Empty`.
/// Opaque data larger than 4 GiB (more than an mb_u_int32 can count) is
/// written as consecutive OPAQUE tokens, which [`crate::decode`] joins.
#[must_use]
pub fn encode(root: &Element) -> Vec<u8> {
    let mut out = vec![wire::VERSION_1_3, 0x01, 0x6A, 0x00];
    let mut page = CodePage::AirSync;
    let mut open: Vec<std::slice::Iter<'_, Element>> = Vec::new();
    start(&mut out, &mut page, &mut open, root);
    while let Some(children) = open.last_mut() {
        match children.next() {
            Some(child) => start(&mut out, &mut page, &mut open, child),
            None => {
                out.push(wire::END);
                open.pop();
            }
        }
    }
    out
}

/// Writes an element; one with children is left open on `open`.
fn start<'a>(
    out: &mut Vec<u8>,
    page: &mut CodePage,
    open: &mut Vec<std::slice::Iter<'a, Element>>,
    element: &'a Element,
) {
    if element.page() != *page {
        *page = element.page();
        out.push(wire::SWITCH_PAGE);
        out.push(page.number());
    }
    let token = element.tag.token();
    match &element.content {
        Content::Empty => out.push(token),
        Content::Children(children) if children.is_empty() => out.push(token),
        Content::Children(children) => {
            out.push(token | wire::WITH_CONTENT);
            open.push(children.iter());
        }
        Content::Text(text) => {
            out.push(token | wire::WITH_CONTENT);
            out.push(wire::STR_I);
            put_string(out, text);
            out.push(wire::END);
        }
        Content::Opaque(data) => {
            out.push(token | wire::WITH_CONTENT);
            put_opaque(out, data);
            out.push(wire::END);
        }
    }
}

/// The string and its terminating NUL; a NUL inside becomes U+FFFD.
fn put_string(out: &mut Vec<u8>, text: &str) {
    for (i, piece) in text.split('\0').enumerate() {
        if i > 0 {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
        out.extend_from_slice(piece.as_bytes());
    }
    out.push(0);
}

/// One OPAQUE token per 4 GiB - 1 bytes (at least one, for empty data).
fn put_opaque(out: &mut Vec<u8>, data: &[u8]) {
    const MAX_CHUNK: usize = u32::MAX as usize;
    let mut rest = data;
    loop {
        let (chunk, tail) = rest.split_at(rest.len().min(MAX_CHUNK));
        out.push(wire::OPAQUE);
        wire::put_mb_u32(out, u32::try_from(chunk.len()).unwrap_or(u32::MAX));
        out.extend_from_slice(chunk);
        rest = tail;
        if rest.is_empty() {
            break;
        }
    }
}
