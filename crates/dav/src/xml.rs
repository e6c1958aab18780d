//! XML for DAV: request bodies are read by groxide-http-core's namespace-resolving
//! reader (names by URI, never by prefix; depth/element limits); responses
//! are written by [`Multistatus`], which declares the four prefixes it uses
//! once and writes properties of any other namespace with their own
//! `xmlns`. Every text and attribute value is escaped here.

pub use groxide_http_core::xml::{Element, XmlError, parse};
use quick_xml::escape::escape;
use std::borrow::Cow;

/// WebDAV.
pub const NS_DAV: &str = "DAV:";
/// CalDAV.
pub const NS_CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
/// CardDAV.
pub const NS_CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
/// Apple's calendarserver namespace (getctag).
pub const NS_CS: &str = "http://calendarserver.org/ns/";

/// A property name: namespace URI and local name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PropName {
    /// Namespace URI.
    pub ns: String,
    /// Local name.
    pub name: String,
}

impl PropName {
    /// `{ns}name`.
    pub fn new(ns: &str, name: &str) -> PropName {
        PropName {
            ns: ns.to_string(),
            name: name.to_string(),
        }
    }

    /// Whether this is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }
}

fn prefix_of(ns: &str) -> Option<&'static str> {
    match ns {
        NS_DAV => Some("D"),
        NS_CALDAV => Some("C"),
        NS_CARDDAV => Some("CR"),
        NS_CS => Some("CS"),
        _ => None,
    }
}

/// A property value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text (escaped when written).
    Text(String),
    /// Ready-made XML children (already escaped, prefixes D/C/CR/CS).
    Xml(String),
    /// No content.
    Empty,
}

/// Opens `{ns}name` on `out` (with an `xmlns` for a foreign namespace).
pub fn open_tag(out: &mut String, ns: &str, name: &str, empty: bool) {
    let end = if empty { "/>" } else { ">" };
    out.push('<');
    match prefix_of(ns) {
        Some(p) => {
            out.push_str(p);
            out.push(':');
            out.push_str(name);
        }
        None if ns.is_empty() => out.push_str(name),
        None => {
            out.push_str("X:");
            out.push_str(name);
            out.push_str(" xmlns:X=\"");
            out.push_str(&escape(ns));
            out.push('"');
        }
    }
    out.push_str(end);
}

/// Closes `{ns}name`.
pub fn close_tag(out: &mut String, ns: &str, name: &str) {
    out.push_str("</");
    match prefix_of(ns) {
        Some(p) => {
            out.push_str(p);
            out.push(':');
        }
        None if ns.is_empty() => {}
        None => out.push_str("X:"),
    }
    out.push_str(name);
    out.push('>');
}

/// `<D:href>` of an already percent-encoded path.
pub fn href(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 20);
    push_href(&mut out, path);
    out
}

/// Writes `<D:href>` of an already percent-encoded path.
pub fn push_href(out: &mut String, path: &str) {
    out.push_str("<D:href>");
    out.push_str(&escape(path));
    out.push_str("</D:href>");
}

/// One `<D:response>`: found properties and missing ones (404).
#[derive(Debug, Default)]
pub struct PropResponse<'n> {
    /// Properties with values (200).
    pub found: Vec<(Cow<'n, PropName>, Value)>,
    /// Properties the resource does not have (404).
    pub missing: Vec<Cow<'n, PropName>>,
}

/// A 207 multistatus body being written.
#[derive(Debug)]
pub struct Multistatus {
    out: String,
}

impl Default for Multistatus {
    fn default() -> Self {
        Multistatus::new()
    }
}

impl Multistatus {
    /// Starts the document.
    pub fn new() -> Multistatus {
        Multistatus {
            out: format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"{NS_DAV}\" \
                 xmlns:C=\"{NS_CALDAV}\" xmlns:CR=\"{NS_CARDDAV}\" xmlns:CS=\"{NS_CS}\">"
            ),
        }
    }

    /// A response with properties for `path`.
    pub fn props(&mut self, path: &str, r: &PropResponse<'_>) {
        self.out.push_str("<D:response>");
        push_href(&mut self.out, path);
        if !r.found.is_empty() || r.missing.is_empty() {
            self.out.push_str("<D:propstat><D:prop>");
            for (name, value) in &r.found {
                match value {
                    Value::Empty => open_tag(&mut self.out, &name.ns, &name.name, true),
                    Value::Text(t) => {
                        open_tag(&mut self.out, &name.ns, &name.name, false);
                        self.out.push_str(&escape(t.as_str()));
                        close_tag(&mut self.out, &name.ns, &name.name);
                    }
                    Value::Xml(x) => {
                        open_tag(&mut self.out, &name.ns, &name.name, false);
                        self.out.push_str(x);
                        close_tag(&mut self.out, &name.ns, &name.name);
                    }
                }
            }
            self.out
                .push_str("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
        }
        if !r.missing.is_empty() {
            self.out.push_str("<D:propstat><D:prop>");
            for name in &r.missing {
                open_tag(&mut self.out, &name.ns, &name.name, true);
            }
            self.out
                .push_str("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
        }
        self.out.push_str("</D:response>");
    }

    /// A response refusing every property of `names` with `status`.
    pub fn refused(&mut self, path: &str, names: &[PropName], status: &str) {
        self.out.push_str("<D:response>");
        push_href(&mut self.out, path);
        self.out.push_str("<D:propstat><D:prop>");
        for name in names {
            open_tag(&mut self.out, &name.ns, &name.name, true);
        }
        self.out.push_str(&format!(
            "</D:prop><D:status>HTTP/1.1 {status}</D:status></D:propstat></D:response>"
        ));
    }

    /// A response with only a status (e.g. 404 for a multiget href).
    pub fn status(&mut self, path: &str, status: &str) {
        self.out.push_str("<D:response>");
        push_href(&mut self.out, path);
        self.out.push_str(&format!(
            "<D:status>HTTP/1.1 {status}</D:status></D:response>"
        ));
    }

    /// Adds `<D:sync-token>` (after the responses).
    pub fn sync_token(&mut self, token: &str) {
        self.out
            .push_str(&format!("<D:sync-token>{}</D:sync-token>", escape(token)));
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.out.push_str("</D:multistatus>\n");
        self.out
    }
}

/// A `<D:error>` body with one precondition element and a description.
pub fn error_body(ns: &str, condition: &str, description: &str) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"{NS_DAV}\" \
         xmlns:C=\"{NS_CALDAV}\" xmlns:CR=\"{NS_CARDDAV}\" xmlns:CS=\"{NS_CS}\">"
    );
    open_tag(&mut out, ns, condition, true);
    out.push_str(&format!(
        "<D:responsedescription>{}</D:responsedescription></D:error>\n",
        escape(description)
    ));
    out
}

/// Percent-encodes one path segment (unreserved characters, `@` and a few
/// sub-delims stay as they are).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_segment(&mut out, s);
    out
}

/// Percent-encodes a path segment onto `out`.
pub fn push_segment(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@+=:!$&'()*,;".contains(&b) {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// Decodes `%XX` escapes of a path segment; `None` for a bad escape or a
/// result that is not UTF-8.
pub fn decode_segment(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multistatus_escapes_text_and_names_foreign_namespaces() {
        let mut m = Multistatus::new();
        m.props(
            "/dav/calendars/a%40b/calendar/",
            &PropResponse {
                found: vec![
                    (
                        Cow::Owned(PropName::new(NS_DAV, "displayname")),
                        Value::Text("R&D <team>".into()),
                    ),
                    (
                        Cow::Owned(PropName::new(NS_CS, "getctag")),
                        Value::Text("gx1-5".into()),
                    ),
                ],
                missing: vec![Cow::Owned(PropName::new(
                    "http://apple.com/ns/ical/",
                    "calendar-color",
                ))],
            },
        );
        m.status("/dav/x.ics", "404 Not Found");
        m.sync_token("gx1-9");
        let doc = m.finish();
        let root = parse(doc.as_bytes()).unwrap();
        assert!(root.is(NS_DAV, "multistatus"));
        let responses: Vec<_> = root.children_named(NS_DAV, "response").collect();
        assert_eq!(responses.len(), 2);
        let stats: Vec<_> = responses[0].children_named(NS_DAV, "propstat").collect();
        assert_eq!(stats.len(), 2);
        let prop = stats[0].child(NS_DAV, "prop").unwrap();
        assert_eq!(
            prop.child(NS_DAV, "displayname").unwrap().text,
            "R&D <team>"
        );
        assert_eq!(prop.child(NS_CS, "getctag").unwrap().text, "gx1-5");
        let missing = stats[1].child(NS_DAV, "prop").unwrap();
        assert!(
            missing
                .child("http://apple.com/ns/ical/", "calendar-color")
                .is_some()
        );
        assert!(
            stats[1]
                .child(NS_DAV, "status")
                .unwrap()
                .text
                .contains("404")
        );
        assert_eq!(root.child(NS_DAV, "sync-token").unwrap().text, "gx1-9");
    }

    #[test]
    fn segments_round_trip_and_bad_escapes_are_refused() {
        for s in ["abc-123@host", "a b/c?d#e%f", "ü€"] {
            let e = encode_segment(s);
            assert!(
                !e.contains('/') && !e.contains(' ') && !e.contains('?'),
                "{e}"
            );
            assert_eq!(decode_segment(&e).as_deref(), Some(s));
        }
        assert_eq!(decode_segment("%zz"), None);
        assert_eq!(decode_segment("%4"), None);
        assert_eq!(decode_segment("%FF"), None);
    }

    #[test]
    fn an_error_body_names_its_precondition() {
        let doc = error_body(NS_DAV, "valid-sync-token", "token too old");
        let root = parse(doc.as_bytes()).unwrap();
        assert!(root.is(NS_DAV, "error"));
        assert!(root.child(NS_DAV, "valid-sync-token").is_some());
    }
}
