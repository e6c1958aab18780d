//! A small indenting XML writer for the discovery documents (their shape
//! is fixed; text and attribute values are escaped here, once).

use quick_xml::escape::escape;

/// Writes one document element by element, two spaces per level.
#[derive(Debug)]
pub(crate) struct XmlWriter {
    out: String,
    open: Vec<&'static str>,
}

impl XmlWriter {
    /// A document starting with the XML declaration.
    pub(crate) fn new() -> XmlWriter {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"),
            open: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            self.out.push_str(&escape(*value));
            self.out.push('"');
        }
    }

    /// Opens `<name attrs…>`; its children follow until [`XmlWriter::close`].
    pub(crate) fn open(&mut self, name: &'static str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start_tag(name, attrs);
        self.out.push_str(">\n");
        self.open.push(name);
        self
    }

    /// `<name>text</name>` (`<name />` when `text` is empty).
    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.leaf_with(name, &[], text)
    }

    /// `<name attrs…>text</name>` (`<name attrs… />` when `text` is empty).
    pub(crate) fn leaf_with(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> &mut Self {
        self.start_tag(name, attrs);
        if text.is_empty() {
            self.out.push_str(" />\n");
        } else {
            self.out.push('>');
            self.out.push_str(&escape(text));
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
        self
    }

    /// Closes the innermost open element.
    pub(crate) fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.indent();
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
        self
    }

    /// The document, every open element closed.
    pub(crate) fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// `https://host[:port]path`: the port is left out when it is 443, an
/// IPv6 literal gets its brackets.
pub(crate) fn https_url(host: &str, port: u16, path: &str) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    if port == 443 {
        format!("https://{host}{path}")
    } else {
        format!("https://{host}:{port}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped_and_elements_nest() {
        let mut w = XmlWriter::new();
        w.open("a", &[("x", "1<\"2\">")])
            .leaf("b", "Tom & Jerry <x>")
            .leaf("c", "");
        let doc = w.finish();
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a x=\"1&lt;&quot;2&quot;&gt;\">\n  \
             <b>Tom &amp; Jerry &lt;x&gt;</b>\n  <c />\n</a>\n"
        );
    }

    #[test]
    fn urls_leave_out_443_and_bracket_ipv6() {
        let table = [
            (
                "mail.example.com",
                443,
                "/dav/",
                "https://mail.example.com/dav/",
            ),
            ("localhost", 8443, "/dav/", "https://localhost:8443/dav/"),
            ("::1", 8443, "/x", "https://[::1]:8443/x"),
            ("[::1]", 443, "/x", "https://[::1]/x"),
        ];
        for (host, port, path, want) in table {
            assert_eq!(https_url(host, port, path), want);
        }
    }
}
