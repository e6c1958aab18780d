//! The XML form of a tree, for logs, tests and comparison with libwbxml:
//! [`Element::to_xml`] writes it, [`Element::from_xml`] reads it.
//!
//! The form is EAS XML as [MS-ASCMD] shows it: the root's page is the
//! default namespace, every other page used is declared on the root with
//! its [`CodePage::prefix`] (`xmlns:airsyncbase="AirSyncBase:"`).
//! Content maps one to one:
//! - [`Content::Empty`] is `<GetChanges/>`, [`Content::Text`] is character
//!   data (`<SyncKey>0</SyncKey>`; `<Subject></Subject>` is the empty
//!   string);
//! - [`Content::Opaque`] is a CDATA section when the bytes are UTF-8 text
//!   that survives XML unchanged (no CR, no `]]>`, no characters XML 1.0
//!   forbids), which is also how libwbxml's `xml2wbxml` writes OPAQUE;
//!   any other bytes are hex with a marker attribute:
//!   `<Data opaque="hex">00ff…</Data>`;
//! - [`Content::Children`] are the child elements; whitespace between them
//!   is layout and ignored.
//!
//! Reading is namespace-aware (prefixes are resolved, namespaces may be
//! written `"AirSync:"` or `"AirSync"`), bounded by the same [`Limits`] as
//! [`crate::decode`], and strict: unknown namespaces and names, attributes
//! other than namespace declarations and the opaque marker, and text mixed
//! with child elements or CDATA are errors.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::code_page::CodePage;
use crate::error::XmlError;
use crate::limits::Limits;
use crate::tree::{Content, Element, Tag, without_nul};

/// The attribute that marks hex-encoded opaque content.
const OPAQUE_ATTRIBUTE: &str = "opaque";
/// Its only value.
const OPAQUE_HEX: &str = "hex";

impl Element {
    /// The XML form of the tree (see the module documentation), indented
    /// by two spaces, with an XML declaration.
    ///
    /// This shows every string and opaque byte; for logs use
    /// [`Element::to_xml_redacted`], which never shows content.
    #[must_use]
    pub fn to_xml(&self) -> String {
        write_xml(self, false)
    }

    /// The XML form with every string and opaque value replaced by its
    /// length (`<Subject>[5 bytes]</Subject>`): the document's shape for
    /// logs, without message bodies, passwords or addresses. It is not
    /// meant to be read back.
    #[must_use]
    pub fn to_xml_redacted(&self) -> String {
        write_xml(self, true)
    }

    /// Reads the XML form (see the module documentation) into a tree.
    ///
    /// # Errors
    /// [`XmlError`] says what is wrong and at which byte of `xml`.
    pub fn from_xml(xml: &str, limits: &Limits) -> Result<Element, XmlError> {
        read_xml(xml, limits)
    }
}

fn write_xml(root: &Element, redact: bool) -> String {
    let mut pages = BTreeSet::new();
    let mut pending = vec![root];
    while let Some(el) = pending.pop() {
        pages.insert(el.page());
        pending.extend(el.children());
    }
    let default_page = root.page();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let mut declarations = format!(" xmlns=\"{}\"", default_page.namespace());
    for page in pages.iter().filter(|&&p| p != default_page) {
        let _ = write!(
            declarations,
            " xmlns:{}=\"{}\"",
            page.prefix(),
            page.namespace()
        );
    }
    let name = |tag: Tag| {
        if tag.page() == default_page {
            tag.name().to_owned()
        } else {
            format!("{}:{}", tag.page().prefix(), tag.name())
        }
    };

    // Each open element: its name and its remaining children.
    let mut open: Vec<(String, std::slice::Iter<'_, Element>)> = Vec::new();
    let mut next = Some(root);
    loop {
        if let Some(el) = next.take() {
            let indent = "  ".repeat(open.len());
            let tag_name = name(el.tag);
            let attributes = if open.is_empty() {
                declarations.as_str()
            } else {
                ""
            };
            out.push_str(&indent);
            match &el.content {
                Content::Empty => {
                    let _ = writeln!(out, "<{tag_name}{attributes}/>");
                }
                Content::Children(children) if children.is_empty() => {
                    let _ = writeln!(out, "<{tag_name}{attributes}/>");
                }
                Content::Children(children) => {
                    let _ = writeln!(out, "<{tag_name}{attributes}>");
                    open.push((tag_name, children.iter()));
                }
                Content::Text(text) if redact => {
                    let _ = writeln!(
                        out,
                        "<{tag_name}{attributes}>[{} bytes]</{tag_name}>",
                        text.len()
                    );
                }
                Content::Opaque(data) if redact => {
                    let _ = writeln!(
                        out,
                        "<{tag_name}{attributes}>[opaque, {} bytes]</{tag_name}>",
                        data.len()
                    );
                }
                Content::Text(text) => {
                    let _ = writeln!(
                        out,
                        "<{tag_name}{attributes}>{}</{tag_name}>",
                        escape_text(text)
                    );
                }
                Content::Opaque(data) => match cdata_safe(data) {
                    Some(text) => {
                        let _ = writeln!(
                            out,
                            "<{tag_name}{attributes}><![CDATA[{text}]]></{tag_name}>"
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "<{tag_name}{attributes} {OPAQUE_ATTRIBUTE}=\"{OPAQUE_HEX}\">{}</{tag_name}>",
                            hex(data)
                        );
                    }
                },
            }
            continue;
        }
        let Some((tag_name, children)) = open.last_mut() else {
            break;
        };
        match children.next() {
            Some(child) => next = Some(child),
            None => {
                let closing = format!("</{tag_name}>");
                open.pop();
                out.push_str(&"  ".repeat(open.len()));
                out.push_str(&closing);
                out.push('\n');
            }
        }
    }
    out
}

/// Escapes markup characters, and writes as character references what an
/// XML parser would otherwise change (CR is normalised away) or refuse
/// (other C0 controls). U+FFFE and U+FFFF are written as references too.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' => out.push(c),
            c if u32::from(c) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The bytes as CDATA text, if that round-trips through an XML 1.0 parser.
fn cdata_safe(data: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(data).ok()?;
    let xml_char = |c: char| {
        matches!(c, '\t' | '\n') || (u32::from(c) >= 0x20 && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    (!text.contains("]]>") && text.chars().all(xml_char)).then_some(text)
}

fn hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 2);
    for byte in data {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// An element whose end tag has not been read yet.
struct Open {
    tag: Tag,
    hex: bool,
    text: String,
    cdata: Option<Vec<u8>>,
    children: Vec<Element>,
}

impl Open {
    fn finish(self, position: u64, limits: &Limits) -> Result<Element, XmlError> {
        let only_layout = self.text.chars().all(|c| c.is_ascii_whitespace());
        let mixed = XmlError::MixedContent {
            tag: self.tag,
            position,
        };
        let content = if self.hex {
            if !self.children.is_empty() || self.cdata.is_some() {
                return Err(mixed);
            }
            let data = unhex(&self.text).ok_or(XmlError::BadHex {
                tag: self.tag,
                position,
            })?;
            check_len(self.tag, data.len(), limits.max_opaque_bytes, position)?;
            Content::Opaque(data)
        } else if !self.children.is_empty() {
            if self.cdata.is_some() || !only_layout {
                return Err(mixed);
            }
            Content::Children(self.children)
        } else if let Some(data) = self.cdata {
            if !only_layout {
                return Err(mixed);
            }
            Content::Opaque(data)
        } else {
            Content::Text(without_nul(self.text))
        };
        Ok(Element {
            tag: self.tag,
            content,
        })
    }
}

fn check_len(tag: Tag, len: usize, limit: usize, position: u64) -> Result<(), XmlError> {
    if len > limit {
        return Err(XmlError::ContentTooLong {
            tag,
            limit,
            position,
        });
    }
    Ok(())
}

fn syntax(position: u64, error: impl std::fmt::Display) -> XmlError {
    XmlError::Syntax {
        position,
        message: error.to_string(),
    }
}

/// The tag an element names, and whether it carries `opaque="hex"`.
fn resolve_start(
    resolved: ResolveResult<'_>,
    start: &BytesStart<'_>,
    position: u64,
) -> Result<(Tag, bool), XmlError> {
    let local = start.local_name().as_ref().to_owned();
    let page = match resolved {
        ResolveResult::Bound(namespace) => {
            let namespace = namespace.as_ref().to_owned();
            CodePage::from_namespace(&namespace).ok_or(XmlError::UnknownNamespace {
                namespace,
                position,
            })?
        }
        ResolveResult::Unbound => {
            return Err(XmlError::NoNamespace {
                name: start.name().as_ref().to_owned(),
                position,
            });
        }
        ResolveResult::Unknown(prefix) => {
            return Err(syntax(
                position,
                format_args!("namespace prefix {prefix:?} is not declared"),
            ));
        }
    };
    let tag = page.tag(&local).ok_or(XmlError::UnknownTag {
        page,
        name: local,
        position,
    })?;
    let mut hex = false;
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| syntax(position, e))?;
        if attribute.key.as_namespace_binding().is_some() {
            continue;
        }
        let key = attribute.key.as_ref().to_owned();
        if key == OPAQUE_ATTRIBUTE && attribute.value == OPAQUE_HEX {
            hex = true;
            continue;
        }
        return Err(XmlError::Attribute {
            name: key,
            position,
        });
    }
    Ok((tag, hex))
}

fn read_xml(xml: &str, limits: &Limits) -> Result<Element, XmlError> {
    if xml.len() > limits.max_input_bytes {
        return Err(XmlError::TooLarge {
            len: xml.len(),
            limit: limits.max_input_bytes,
        });
    }
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Open> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;

    loop {
        let position = reader.buffer_position();
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(next) => next,
            Err(e) => return Err(syntax(reader.error_position(), e)),
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() {
                    return Err(XmlError::MultipleRoots { position });
                }
                let (tag, hex) = resolve_start(resolved, start, position)?;
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements {
                        limit: limits.max_elements,
                        position,
                    });
                }
                if open.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep {
                        limit: limits.max_depth,
                        position,
                    });
                }
                if matches!(event, Event::Start(_)) {
                    open.push(Open {
                        tag,
                        hex,
                        text: String::new(),
                        cdata: None,
                        children: Vec::new(),
                    });
                } else {
                    // `<Tag/>`: no content, or empty opaque data if marked.
                    let finished = Element {
                        tag,
                        content: if hex {
                            Content::Opaque(Vec::new())
                        } else {
                            Content::Empty
                        },
                    };
                    match open.last_mut() {
                        Some(parent) => parent.children.push(finished),
                        None => root = Some(finished),
                    }
                }
            }
            Event::End(_) => {
                let Some(done) = open.pop() else {
                    return Err(syntax(position, "end tag without start tag"));
                };
                let finished = done.finish(position, limits)?;
                match open.last_mut() {
                    Some(parent) => parent.children.push(finished),
                    None => root = Some(finished),
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                add_text(&mut open, &content, limits, position)?;
            }
            Event::GeneralRef(reference) => {
                let resolved_char = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*reference {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        name => {
                            return Err(XmlError::UnknownEntity {
                                name: name.to_owned(),
                                position,
                            });
                        }
                    },
                    Err(e) => return Err(syntax(position, e)),
                };
                add_text(
                    &mut open,
                    resolved_char.encode_utf8(&mut [0; 4]),
                    limits,
                    position,
                )?;
            }
            Event::CData(cdata) => {
                let Some(current) = open.last_mut() else {
                    return Err(XmlError::TextOutsideRoot { position });
                };
                let content = cdata.xml10_content();
                let held = current.cdata.as_ref().map_or(0, Vec::len);
                check_len(
                    current.tag,
                    held.saturating_add(content.len()),
                    limits.max_opaque_bytes,
                    position,
                )?;
                current
                    .cdata
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(content.as_bytes());
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(innermost) = open.last() {
        return Err(syntax(
            reader.buffer_position(),
            format_args!("input ends inside {}", innermost.tag),
        ));
    }
    root.ok_or(XmlError::NoRootElement)
}

fn add_text(open: &mut [Open], text: &str, limits: &Limits, position: u64) -> Result<(), XmlError> {
    let Some(current) = open.last_mut() else {
        if text.chars().all(|c| c.is_ascii_whitespace()) {
            return Ok(());
        }
        return Err(XmlError::TextOutsideRoot { position });
    };
    // Hex digits are checked as opaque data once decoded (see `finish`).
    if !current.hex {
        check_len(
            current.tag,
            current.text.len().saturating_add(text.len()),
            limits.max_string_bytes,
            position,
        )?;
    }
    current.text.push_str(text);
    Ok(())
}
