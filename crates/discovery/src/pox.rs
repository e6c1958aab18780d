//! Autodiscover "plain old XML" ([MS-OXDSCLI] for Outlook, [MS-ASCMD]
//! §2.2.1.1 for ActiveSync devices): the request parser and the response
//! writers. No I/O.
//!
//! A request names an address and the response schema the client accepts:
//! the Outlook schema gets the EWS endpoints (protocol `EXPR`), the
//! mobilesync schema the ActiveSync endpoint. Element names are matched by
//! local name, ignoring namespaces and case, as clients differ in both.

use crate::xml::{XmlWriter, https_url};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// The namespace of every response's root element.
pub const RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
/// The Outlook response schema.
pub const OUTLOOK_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/// The ActiveSync (mobilesync) response schema.
pub const MOBILESYNC_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";

/// Deepest element nesting accepted in a request (a real one has three levels).
const MAX_DEPTH: usize = 16;

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

/// Parses a request body.
pub fn parse_request(body: &[u8]) -> Result<PoxRequest, PoxError> {
    let mut reader = Reader::from_reader(body);
    let malformed = |reader: &Reader<&[u8]>, reason: String| PoxError::Malformed {
        offset: reader.buffer_position(),
        reason,
    };
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut email = None;
    let mut schema = None;
    let mut saw_root = false;
    let mut saw_request = false;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| malformed(&reader, e.to_string()))?;
        let in_field = path.len() == 3 && path[1].eq_ignore_ascii_case("request");
        match event {
            Event::Start(start) => {
                let name = local_name(start.local_name().as_ref());
                if path.is_empty() {
                    check_root(saw_root, &name)?;
                    saw_root = true;
                }
                if path.len() == 1 && name.eq_ignore_ascii_case("request") {
                    saw_request = true;
                }
                path.push(name);
                text.clear();
                if path.len() > MAX_DEPTH {
                    return Err(PoxError::NotARequest("elements nested too deeply"));
                }
            }
            Event::Empty(start) => {
                let name = local_name(start.local_name().as_ref());
                if path.is_empty() {
                    check_root(saw_root, &name)?;
                    return Err(PoxError::NotARequest("the Autodiscover element is empty"));
                }
                if path.len() == 1 && name.eq_ignore_ascii_case("request") {
                    saw_request = true;
                }
            }
            // Entity references arrive as their own events, between text pieces.
            Event::Text(t) if in_field => {
                text.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0))
            }
            Event::CData(t) if in_field => text.push_str(&t),
            Event::GeneralRef(r) if in_field => {
                match r
                    .resolve_char_ref()
                    .map_err(|e| malformed(&reader, e.to_string()))?
                {
                    Some(c) => text.push(c),
                    None => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => text.push_str(s),
                        None => {
                            return Err(malformed(&reader, format!("unknown entity &{};", &*r)));
                        }
                    },
                }
            }
            Event::End(_) => {
                if in_field {
                    let value = text.trim().to_string();
                    if path[2].eq_ignore_ascii_case("emailaddress") {
                        email = Some(value);
                    } else if path[2].eq_ignore_ascii_case("acceptableresponseschema") {
                        schema = Some(value);
                    }
                }
                path.pop();
            }
            Event::Eof if !path.is_empty() => {
                return Err(malformed(
                    &reader,
                    format!("<{}> is not closed", path[path.len() - 1]),
                ));
            }
            Event::Eof => break,
            // Declarations, comments, processing instructions, other text: nothing we read.
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err(PoxError::NotARequest("no Autodiscover element"));
    }
    if !saw_request {
        return Err(PoxError::NotARequest("no Request element"));
    }
    let email = email
        .filter(|e| e.contains('@'))
        .ok_or(PoxError::NotARequest("no EMailAddress"))?;
    let schema = match schema {
        Some(s) if s.eq_ignore_ascii_case(OUTLOOK_SCHEMA) => Schema::Outlook,
        Some(s) if s.eq_ignore_ascii_case(MOBILESYNC_SCHEMA) => Schema::MobileSync,
        Some(s) => Schema::Other(s),
        None => Schema::Other(String::new()),
    };
    Ok(PoxRequest { email, schema })
}

fn check_root(saw_root: bool, name: &str) -> Result<(), PoxError> {
    if saw_root {
        return Err(PoxError::NotARequest("more than one root element"));
    }
    if !name.eq_ignore_ascii_case("autodiscover") {
        return Err(PoxError::NotARequest(
            "the root element is not Autodiscover",
        ));
    }
    Ok(())
}

fn local_name(name: &str) -> String {
    name.to_string()
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
    let mut w = XmlWriter::new();
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
    let mut w = XmlWriter::new();
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
    let mut w = XmlWriter::new();
    w.open("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open("Response", &[]);
    w.open("Error", &[("Time", time), ("Id", id)])
        .leaf("ErrorCode", number)
        .leaf("Message", message)
        .leaf("DebugData", "");
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
            ("<Autodiscover/>", "empty"),
            ("<Autodiscover></Autodiscover>", "no Request"),
            (
                "<Autodiscover><Request><EMailAddress>nobody</EMailAddress></Request></Autodiscover>",
                "no EMailAddress",
            ),
            (
                "<Autodiscover><Request/></Autodiscover><Autodiscover/>",
                "more than one root",
            ),
            (
                "<Autodiscover><Request/></Autodiscover><Autodiscover></Autodiscover>",
                "more than one root",
            ),
        ];
        for (body, want) in table {
            let err = parse_request(body.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(want), "{body:?}: {err}");
        }
        let deep = format!("<Autodiscover>{}", "<x>".repeat(40));
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
