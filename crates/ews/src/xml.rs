//! XML for EWS: the namespace-resolving reader and the escaping writer
//! are groxide-http-core's ([`groxide_http_core::xml`]); this module adds
//! the SOAP and EWS namespaces and [`EwsElement`], the `t:`/`m:` child
//! lookups every operation uses.

pub use groxide_http_core::xml::{Element, MAX_DEPTH, MAX_ELEMENTS, XmlError, XmlWriter, parse};

/// The SOAP 1.1 envelope namespace.
pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// EWS types (`t:`).
pub const NS_TYPES: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
/// EWS messages (`m:`).
pub const NS_MESSAGES: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";

/// EWS lookups on an [`Element`].
pub trait EwsElement {
    /// A `t:` child.
    fn t(&self, name: &str) -> Option<&Element>;
    /// An `m:` child.
    fn m(&self, name: &str) -> Option<&Element>;
    /// The trimmed text of a `t:` child.
    fn t_text(&self, name: &str) -> Option<&str>;
}

impl EwsElement for Element {
    fn t(&self, name: &str) -> Option<&Element> {
        self.child(NS_TYPES, name)
    }

    fn m(&self, name: &str) -> Option<&Element> {
        self.child(NS_MESSAGES, name)
    }

    fn t_text(&self, name: &str) -> Option<&str> {
        self.child_text(NS_TYPES, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ews_names_resolve_by_uri_whatever_the_prefix() {
        let doc = format!(
            "<a:Envelope xmlns:a=\"{NS_SOAP}\" xmlns:x=\"{NS_TYPES}\"><a:Body>\
             <GetFolder xmlns=\"{NS_MESSAGES}\"><x:Id Id=\"1\"> A </x:Id></GetFolder>\
             </a:Body></a:Envelope>"
        );
        let root = parse(doc.as_bytes()).unwrap();
        let op = &root.child(NS_SOAP, "Body").unwrap().children[0];
        assert!(op.is(NS_MESSAGES, "GetFolder"));
        assert_eq!(op.t("Id").and_then(|e| e.attr("Id")), Some("1"));
        assert_eq!(op.t_text("Id"), Some("A"));
        assert!(op.m("Id").is_none());
    }
}
