//! XML both ways for the HTTP protocol modules (EWS, DAV), I/O-free: a namespace-resolving reader that turns a
//! request into a small element tree ([`Element`], names by namespace URI
//! and local name, never by prefix), and a writer ([`XmlWriter`]) that
//! escapes every text and attribute value in one place.
//!
//! Limits: nesting depth, element count and text size are bounded, so a
//! hostile body cannot make the tree larger than the body allows.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most elements in one request.
pub const MAX_ELEMENTS: usize = 200_000;

/// Why a body is not an XML document we read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed.
    #[error("malformed XML at byte {offset}: {reason}")]
    Malformed {
        /// Where the reader stopped.
        offset: u64,
        /// What it found.
        reason: String,
    },
    /// Over a limit of this reader.
    #[error("XML document over a limit: {0}")]
    TooLarge(&'static str),
}

/// One element: namespace URI ("" when none), local name, attributes by
/// local name, children and the concatenated text directly inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI.
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes (local name, value).
    pub attrs: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// Text content (entities resolved), untrimmed.
    pub text: String,
}

impl Element {
    /// Whether this is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// Every child `{ns}name`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The trimmed text of the first child `{ns}name`.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<&str> {
        self.child(ns, name).map(|e| e.text.trim())
    }

    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_reader(body);
    let malformed = |offset: u64, reason: String| XmlError::Malformed { offset, reason };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let mut buf = Vec::new();
    loop {
        let offset = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| malformed(offset, e.to_string()))?;
        let ns = match ns {
            ResolveResult::Bound(n) => n.as_ref().to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(malformed(offset, format!("unknown namespace prefix {p:?}")));
            }
        };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(malformed(offset, "content after the root element".into()));
            }
            Event::Start(start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge("too many elements"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooLarge("elements nested too deeply"));
                }
                stack.push(element(ns, &start, offset)?);
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge("too many elements"));
                }
                let e = element(ns, &start, offset)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(e),
                    None => root = Some(e),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(malformed(offset, "end tag without start".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
                } else if !t
                    .xml_content(quick_xml::XmlVersion::Implicit1_0)
                    .trim()
                    .is_empty()
                {
                    return Err(malformed(offset, "text outside the root element".into()));
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r
                    .resolve_char_ref()
                    .map_err(|e| malformed(offset, e.to_string()))?
                {
                    Some(c) => c.to_string(),
                    None => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => s.to_string(),
                        None => {
                            return Err(malformed(offset, format!("unknown entity &{};", &*r)));
                        }
                    },
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => {
                return Err(malformed(
                    offset,
                    "document type declarations are refused".into(),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if let Some(open) = stack.last() {
        return Err(malformed(
            reader.buffer_position(),
            format!("<{}> is not closed", open.name),
        ));
    }
    root.ok_or_else(|| malformed(0, "no root element".into()))
}

fn element(ns: String, start: &BytesStart<'_>, offset: u64) -> Result<Element, XmlError> {
    let name = start.local_name().as_ref().to_string();
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| XmlError::Malformed {
            offset,
            reason: e.to_string(),
        })?;
        let key = a.key.as_ref();
        if key.starts_with("xmlns") {
            continue;
        }
        let local = a.key.local_name().as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Malformed {
                offset,
                reason: e.to_string(),
            })?
            .into_owned();
        attrs.push((local, value));
    }
    Ok(Element {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Writes a document element by element; the caller names elements with
/// the prefixes it declared on the root (EWS: `s:`, `t:`, `m:`; DAV: `d:`…).
/// Text and attribute values are escaped here and nowhere else.
///
/// [`XmlWriter::new`] writes compact documents for machines;
/// [`XmlWriter::indented`] puts every element on its own line, two spaces
/// per level, for documents people read with curl (discovery).
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    /// The names of the open elements, one after another (no allocation
    /// per element); `open` holds where each begins.
    open_names: String,
    open: Vec<usize>,
    indented: bool,
}

impl XmlWriter {
    /// An empty compact document with the XML declaration.
    pub fn new() -> XmlWriter {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
            open_names: String::new(),
            open: Vec::new(),
            indented: false,
        }
    }

    /// An empty indented document with the XML declaration on its own line.
    pub fn indented() -> XmlWriter {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"),
            open_names: String::new(),
            open: Vec::new(),
            indented: true,
        }
    }

    /// An empty compact writer without the XML declaration, for a run of
    /// elements written once and [`XmlWriter::splice`]d into documents
    /// later (EWS keeps items written so).
    pub fn fragment() -> XmlWriter {
        XmlWriter::default()
    }

    /// Appends `fragment`: the [`XmlWriter::finish`] of a
    /// [`XmlWriter::fragment`] writer, so balanced and escaped already.
    /// In an indented document it sits on one line.
    pub fn splice(&mut self, fragment: &str) -> &mut Self {
        self.line_start();
        self.out.push_str(fragment);
        self.line_end();
        self
    }

    fn line_start(&mut self) {
        if self.indented {
            for _ in 0..self.open.len() {
                self.out.push_str("  ");
            }
        }
    }

    fn line_end(&mut self) {
        if self.indented {
            self.out.push('\n');
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&quick_xml::escape::escape(*v));
            self.out.push('"');
        }
    }

    /// Opens `<name attrs…>`.
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.line_start();
        self.start_tag(name, attrs);
        self.out.push('>');
        self.line_end();
        self.open.push(self.open_names.len());
        self.open_names.push_str(name);
        self
    }

    /// `<name attrs…/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.line_start();
        self.start_tag(name, attrs);
        self.out.push_str("/>");
        self.line_end();
        self
    }

    /// `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.leaf_with(name, &[], text)
    }

    /// `<name attrs…>text</name>`.
    pub fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.line_start();
        self.start_tag(name, attrs);
        self.out.push('>');
        self.out.push_str(&quick_xml::escape::escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self.line_end();
        self
    }

    /// Escaped text inside the open element.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&quick_xml::escape::escape(text));
        self
    }

    /// Standard base64 (RFC 4648, padded, no line breaks) of `bytes` as
    /// the text inside the open element, encoded in place (its alphabet
    /// needs no escaping).
    pub fn base64(&mut self, bytes: &[u8]) -> &mut Self {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut self.out);
        self
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) -> &mut Self {
        if let Some(start) = self.open.pop() {
            self.line_start();
            self.out.push_str("</");
            self.out.push_str(&self.open_names[start..]);
            self.open_names.truncate(start);
            self.out.push('>');
            self.line_end();
        }
        self
    }

    /// The document, every open element closed.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS_A: &str = "urn:example:a";
    const NS_B: &str = "urn:example:b";
    const NS_C: &str = "urn:example:c";

    #[test]
    fn names_resolve_by_uri_whatever_the_prefix() {
        let doc = format!(
            "<a:Envelope xmlns:a=\"{NS_A}\" xmlns:x=\"{NS_B}\"><a:Body>\
             <GetFolder xmlns=\"{NS_C}\"><x:Id Id=\"1&amp;2\">A &lt;b&gt; &#65;</x:Id></GetFolder>\
             </a:Body></a:Envelope>"
        );
        let root = parse(doc.as_bytes()).unwrap();
        assert!(root.is(NS_A, "Envelope"));
        let op = &root.child(NS_A, "Body").unwrap().children[0];
        assert!(op.is(NS_C, "GetFolder"));
        assert_eq!(op.child_text(NS_B, "Id"), Some("A <b> A"));
        let id = op.child(NS_B, "Id").unwrap();
        assert_eq!(id.attr("Id"), Some("1&2"));
        assert_eq!(id.text, "A <b> A");
    }

    #[test]
    fn broken_documents_are_refused_with_a_reason() {
        for doc in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "<p:a/>",
            "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            "<a>&unknown;</a>",
            "text",
        ] {
            assert!(parse(doc.as_bytes()).is_err(), "{doc:?} parsed");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse(doc.as_bytes()),
            Err(XmlError::TooLarge("elements nested too deeply"))
        );
    }

    #[test]
    fn a_spliced_fragment_reads_as_if_written_in_place() {
        let mut f = XmlWriter::fragment();
        f.open("t:I", &[("Id", "a&b")]).leaf("t:S", "<x>");
        let f = f.finish();
        assert_eq!(f, "<t:I Id=\"a&amp;b\"><t:S>&lt;x&gt;</t:S></t:I>");
        let mut spliced = XmlWriter::new();
        spliced.open("m:Items", &[]).splice(&f).splice(&f);
        let mut direct = XmlWriter::new();
        direct.open("m:Items", &[]);
        for _ in 0..2 {
            direct
                .open("t:I", &[("Id", "a&b")])
                .leaf("t:S", "<x>")
                .close();
        }
        assert_eq!(spliced.finish(), direct.finish());
    }

    #[test]
    fn the_writer_escapes_text_and_attributes() {
        let mut w = XmlWriter::new();
        w.open("m:X", &[("A", "\"<&>")]).leaf("t:S", "a<b&c");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><m:X A=\"&quot;&lt;&amp;&gt;\"><t:S>a&lt;b&amp;c</t:S></m:X>"
        );
    }

    #[test]
    fn nested_elements_close_in_order_and_base64_text_is_encoded_in_place() {
        let mut w = XmlWriter::new();
        w.open("m:Outer", &[])
            .open("t:Inner", &[])
            .base64(b"\x00\xffhi<&>")
            .close()
            .open("t:Next", &[])
            .text("x");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><m:Outer><t:Inner>AP9oaTwmPg==</t:Inner>\
             <t:Next>x</t:Next></m:Outer>"
        );
    }

    #[test]
    fn the_indented_writer_puts_each_element_on_its_own_line() {
        let mut w = XmlWriter::indented();
        w.open("a", &[("x", "1<\"2\">")])
            .leaf("b", "Tom & Jerry <x>")
            .empty("c", &[])
            .open("d", &[])
            .leaf_with("e", &[("k", "v")], "");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a x=\"1&lt;&quot;2&quot;&gt;\">\n  \
             <b>Tom &amp; Jerry &lt;x&gt;</b>\n  <c/>\n  <d>\n    <e k=\"v\"></e>\n  </d>\n</a>\n"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_body_parses_or_is_refused_without_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&body);
        }
    }
}
