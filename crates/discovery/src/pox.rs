//! Autodiscover "plain old XML" ([MS-OXDSCLI] for Outlook, [MS-ASCMD]
//! §2.2.1.1 for ActiveSync devices): the request parser and the response
//! writers. No I/O.
//!
//! A request names an address and the response schema the client accepts:
//! the Outlook schema gets the EWS endpoints (protocol `EXPR`), the
//! mobilesync schema the ActiveSync endpoint. Element names are matched by
//! local name, ignoring namespaces and case, as clients differ in both.

use crate::url::https_url;
use groxide_http_core::xml::XmlWriter;
use groxide_http_core::xml::{Element, XmlError, parse};

/// The namespace of every response's root element.
pub const RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
/// The Outlook response schema.
pub const OUTLOOK_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/// The ActiveSync (mobilesync) response schema.
pub const MOBILESYNC_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";

/// Which response a client asked for (`AcceptableResponseSchema`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    /// Outlook and EWS clients.
    Outlook,
    /// ActiveSync devices.
    MobileSync,
    /// Anything else (answered with error 601).
    Other(String),
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoxRequest {
    /// `EMailAddress`.
    pub email: String,
    /// `AcceptableResponseSchema`.
    pub schema: Schema,
}

/// Why a request body is not an Autodiscover request (error 600).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoxError {
    /// Not well-formed XML.
    #[error("malformed XML at byte {offset}: {reason}")]
    Malformed {
        /// Where the parser stopped.
        offset: u64,
        /// The parser's complaint.
        reason: String,
    },
    /// Well-formed, but not `<Autodiscover><Request>…` with an address.
    #[error("not an Autodiscover request: {0}")]
    NotARequest(&'static str),
}

/// One Autodiscover error ([MS-OXDSCLI] §2.2.4.1.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoxErrorCode {
    /// 500: no configuration for this address.
    AddressNotFound,
    /// 600: the request is not valid.
    InvalidRequest,
    /// 601: no provider for the requested response schema.
    ProviderUnavailable,
    /// 603: the server failed.
    ServerError,
}

impl PoxErrorCode {
    /// The number and message the response carries.
    pub fn code_and_message(self) -> (&'static str, &'static str) {
        match self {
            PoxErrorCode::AddressNotFound => ("500", "The e-mail address cannot be found."),
            PoxErrorCode::InvalidRequest => ("600", "Invalid Request"),
            PoxErrorCode::ProviderUnavailable => ("601", "Provider is not available"),
            PoxErrorCode::ServerError => ("603", "Server Error"),
        }
    }
}

/// Parses a request body with the shared XML reader (its depth and size
/// bounds apply); names are then matched by local name, ignoring
/// namespaces and case.
pub fn parse_request(body: &[u8]) -> Result<PoxRequest, PoxError> {
    let root = match parse(body) {
        Ok(root) => root,
        Err(XmlError::Malformed { offset, reason }) => {
            if !body.contains(&b'<') {
                return Err(PoxError::NotARequest("no Autodiscover element"));
            }
            return Err(PoxError::Malformed { offset, reason });
        }
        Err(XmlError::TooLarge(what)) => return Err(PoxError::NotARequest(what)),
    };
    if !root.name.eq_ignore_ascii_case("autodiscover") {
        return Err(PoxError::NotARequest(
            "the root element is not Autodiscover",
        ));
    }
    let named = |e: &'_ Element, name: &str| -> Option<String> {
        e.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.text.trim().to_string())
    };
    let request = root
        .children
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case("request"))
        .ok_or(PoxError::NotARequest("no Request element"))?;
    let email = named(request, "EMailAddress")
        .filter(|e| e.contains('@'))
        .ok_or(PoxError::NotARequest("no EMailAddress"))?;
    let schema = match named(request, "AcceptableResponseSchema") {
        Some(s) if s.eq_ignore_ascii_case(OUTLOOK_SCHEMA) => Schema::Outlook,
        Some(s) if s.eq_ignore_ascii_case(MOBILESYNC_SCHEMA) => Schema::MobileSync,
        Some(s) => Schema::Other(s),
        None => Schema::Other(String::new()),
    };
    Ok(PoxRequest { email, schema })
}

/// Where a user's services are, for the responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The home node's external name.
    pub host: String,
    /// The HTTPS port clients use there.
    pub https_port: u16,
}

impl Endpoints {
    /// The EWS endpoint.
    pub fn ews(&self) -> String {
        https_url(&self.host, self.https_port, "/EWS/Exchange.asmx")
    }

    /// The ActiveSync endpoint.
    pub fn activesync(&self) -> String {
        https_url(&self.host, self.https_port, "/Microsoft-Server-ActiveSync")
    }

    /// The POX Autodiscover endpoint.
    pub fn autodiscover(&self) -> String {
        https_url(
            &self.host,
            self.https_port,
            "/autodiscover/autodiscover.xml",
        )
    }

    /// The CalDAV/CardDAV root.
    pub fn dav(&self) -> String {
        https_url(&self.host, self.https_port, "/dav/")
    }
}

/// The Outlook-schema answer for `address` (the user's primary address).
pub fn outlook_response(address: &str, display_name: &str, at: &Endpoints) -> String {
    let ews = at.ews();
    let mut w = XmlWriter::indented();
    w.open("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open("Response", &[("xmlns", OUTLOOK_SCHEMA)]);
    w.open("User", &[])
        .leaf("DisplayName", display_name)
        .leaf("AutoDiscoverSMTPAddress", address)
        .close();
    w.open("Account", &[])
        .leaf("AccountType", "email")
        .leaf("Action", "settings")
        .leaf("MicrosoftOnline", "False");
    w.open("Protocol", &[])
        .leaf("Type", "EXPR")
        .leaf("Server", &at.host)
        .leaf("SSL", "On")
        .leaf("AuthPackage", "Basic")
        .leaf("ServerExclusiveConnect", "On")
        .leaf("ASUrl", &ews)
        .leaf("EwsUrl", &ews)
        .leaf("OOFUrl", &ews)
        .close();
    w.finish()
}

/// The mobilesync-schema answer for `address`.
pub fn mobilesync_response(address: &str, display_name: &str, at: &Endpoints) -> String {
    let url = at.activesync();
    let mut w = XmlWriter::indented();
    w.open("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open("Response", &[("xmlns", MOBILESYNC_SCHEMA)]);
    w.leaf("Culture", "en:us");
    w.open("User", &[])
        .leaf("DisplayName", display_name)
        .leaf("EMailAddress", address)
        .close();
    w.open("Action", &[])
        .open("Settings", &[])
        .open("Server", &[]);
    w.leaf("Type", "MobileSync")
        .leaf("Url", &url)
        .leaf("Name", &url);
    w.finish()
}

/// An error answer; `time` is the server's time of day (`HH:MM:SS`), `id`
/// identifies the server.
pub fn error_response(code: PoxErrorCode, time: &str, id: &str) -> String {
    let (number, message) = code.code_and_message();
    let mut w = XmlWriter::indented();
    w.open("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open("Response", &[]);
    w.open("Error", &[("Time", time), ("Id", id)])
        .leaf("ErrorCode", number)
        .leaf("Message", message)
        .empty("DebugData", &[]);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(ns: &str, email: &str, schema: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{ns}\">\
             <Request><EMailAddress>{email}</EMailAddress>\
             <AcceptableResponseSchema>{schema}</AcceptableResponseSchema></Request></Autodiscover>"
        )
    }

    const OUTLOOK_REQ: &str =
        "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
    const MOBILE_REQ: &str =
        "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006";

    #[test]
    fn outlook_and_mobilesync_requests_parse_to_their_schema() {
        let table = [
            (
                request(OUTLOOK_REQ, "a@b.test", OUTLOOK_SCHEMA),
                Schema::Outlook,
            ),
            (
                request(MOBILE_REQ, " a@b.test ", MOBILESYNC_SCHEMA),
                Schema::MobileSync,
            ),
            (
                request(OUTLOOK_REQ, "a@b.test", &OUTLOOK_SCHEMA.to_uppercase()),
                Schema::Outlook,
            ),
            (
                request(OUTLOOK_REQ, "a@b.test", "urn:other"),
                Schema::Other("urn:other".into()),
            ),
        ];
        for (body, schema) in table {
            let got = parse_request(body.as_bytes()).unwrap();
            assert_eq!(
                got,
                PoxRequest {
                    email: "a@b.test".into(),
                    schema
                },
                "{body}"
            );
        }
    }

    #[test]
    fn prefixed_elements_and_entities_are_read_by_local_name() {
        let body = "<a:autodiscover xmlns:a=\"x\"><a:Request>\
                    <a:EMailAddress>o&apos;neil@b.test</a:EMailAddress>\
                    <a:AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</a:AcceptableResponseSchema>\
                    </a:Request></a:autodiscover>";
        let got = parse_request(body.as_bytes()).unwrap();
        assert_eq!(got.email, "o'neil@b.test");
        assert_eq!(got.schema, Schema::MobileSync);
    }

    #[test]
    fn broken_or_foreign_bodies_are_refused_precisely() {
        let table: &[(&str, &str)] = &[
            ("", "no Autodiscover element"),
            ("not xml at all", "no Autodiscover element"),
            ("<Autodiscover><Request><EMailAddress>a@b", "malformed"),
            ("<Autodiscover><Request></Autodiscover>", "malformed"),
            ("<Other><Request/></Other>", "root element"),
            ("<Autodiscover/>", "no Request"),
            ("<Autodiscover></Autodiscover>", "no Request"),
            (
                "<Autodiscover><Request><EMailAddress>nobody</EMailAddress></Request></Autodiscover>",
                "no EMailAddress",
            ),
            (
                "<Autodiscover><Request/></Autodiscover><Autodiscover/>",
                "after the root element",
            ),
            (
                "<Autodiscover><Request/></Autodiscover><Autodiscover></Autodiscover>",
                "after the root element",
            ),
        ];
        for (body, want) in table {
            let err = parse_request(body.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(want), "{body:?}: {err}");
        }
        let deep = format!("<Autodiscover>{}", "<x>".repeat(70));
        assert!(
            parse_request(deep.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("deeply")
        );
    }

    fn endpoints() -> Endpoints {
        Endpoints {
            host: "mx2.example.com".into(),
            https_port: 443,
        }
    }

    #[test]
    fn the_outlook_answer_points_ews_at_the_home_node() {
        insta::assert_snapshot!(outlook_response(
            "alice@example.com",
            "Alice & Co",
            &endpoints()
        ));
    }

    #[test]
    fn the_mobilesync_answer_points_activesync_at_the_home_node() {
        insta::assert_snapshot!(mobilesync_response(
            "alice@example.com",
            "alice@example.com",
            &Endpoints {
                host: "localhost".into(),
                https_port: 8443,
            }
        ));
    }

    #[test]
    fn an_error_answer_carries_code_and_message() {
        insta::assert_snapshot!(error_response(
            PoxErrorCode::InvalidRequest,
            "12:00:00",
            "42"
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_body_parses_or_is_refused_without_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_request(&body);
        }

        #[test]
        fn any_address_round_trips_through_a_request(local in "[a-zA-Z0-9.&<>'\"_-]{1,30}") {
            let email = format!("{local}@example.test");
            let escaped = quick_xml::escape::escape(email.as_str()).into_owned();
            let body = request(OUTLOOK_REQ, &escaped, OUTLOOK_SCHEMA);
            let got = parse_request(body.as_bytes()).unwrap();
            proptest::prop_assert_eq!(got.email, email.trim());
        }
    }
}
