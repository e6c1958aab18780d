//! The SOAP 1.1 envelope of EWS: what a request's header says
//! (`RequestServerVersion`, `ExchangeImpersonation`), which operation its
//! body holds, and the envelope of every answer — a response with
//! `ServerVersionInfo` in its header, or a SOAP fault (HTTP 500, as SOAP
//! 1.1 requires, and only for requests that are not EWS requests at all).

use crate::response::ResponseCode;
use crate::xml::{Element, EwsElement, NS_MESSAGES, NS_SOAP, NS_TYPES, XmlError, XmlWriter, parse};

/// The build we claim: Exchange 2016 (15.1) semantics.
pub const SERVER_MAJOR: u32 = 15;
/// Minor version of the claimed build.
pub const SERVER_MINOR: u32 = 1;
/// Major build number of the claimed build.
pub const SERVER_MAJOR_BUILD: u32 = 2507;
/// Minor build number of the claimed build.
pub const SERVER_MINOR_BUILD: u32 = 6;
/// The schema version we answer in.
pub const SERVER_VERSION: &str = "Exchange2016";

/// The `RequestServerVersion` values of the EWS schema a request may name.
pub const KNOWN_VERSIONS: &[&str] = &[
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2009",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2015_SP1",
    "Exchange2016",
    "Exchange2019",
    "V2015_10_05",
    "V2016_01_06",
    "V2016_04_13",
    "V2016_07_13",
    "V2016_10_10",
    "V2017_01_07",
    "V2017_04_14",
    "V2017_07_11",
    "V2017_10_09",
    "V2018_01_08",
];

/// A parsed request: its schema version and its one operation element.
#[derive(Debug, Clone)]
pub struct SoapRequest {
    /// `RequestServerVersion/@Version` (`Exchange2007_SP1` when absent).
    pub version: String,
    /// The operation element, the first child of `Body`.
    pub operation: Element,
}

/// Why an envelope is refused as a whole: answered with a SOAP fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct Fault {
    /// `soap:Client` (the request's fault) or `soap:Server`.
    pub client: bool,
    /// The EWS code in the fault's detail.
    pub code: ResponseCode,
    /// One line for the client.
    pub message: String,
}

impl Fault {
    fn client(code: ResponseCode, message: impl Into<String>) -> Fault {
        Fault {
            client: true,
            code,
            message: message.into(),
        }
    }
}

impl From<XmlError> for Fault {
    fn from(e: XmlError) -> Fault {
        Fault::client(
            ResponseCode::ErrorSchemaValidation,
            format!("the request is not valid XML: {e}"),
        )
    }
}

/// Parses an envelope.
pub fn parse_request(body: &[u8]) -> Result<SoapRequest, Fault> {
    let root = parse(body)?;
    if !root.is(NS_SOAP, "Envelope") {
        return Err(Fault::client(
            ResponseCode::ErrorSchemaValidation,
            "the root element is not a SOAP 1.1 Envelope",
        ));
    }
    let mut version = "Exchange2007_SP1".to_string();
    if let Some(header) = root.child(NS_SOAP, "Header") {
        if let Some(v) = header.t("RequestServerVersion") {
            let named = v.attr("Version").unwrap_or_default();
            if !KNOWN_VERSIONS.contains(&named) {
                return Err(Fault::client(
                    ResponseCode::ErrorInvalidServerVersion,
                    format!("unknown RequestServerVersion {named:?}"),
                ));
            }
            version = named.to_string();
        }
        if header.t("ExchangeImpersonation").is_some() {
            return Err(Fault::client(
                ResponseCode::ErrorImpersonateUserDenied,
                "impersonation is not granted on this server",
            ));
        }
    }
    let body = root.child(NS_SOAP, "Body").ok_or_else(|| {
        Fault::client(
            ResponseCode::ErrorSchemaValidation,
            "the envelope has no Body",
        )
    })?;
    let operation = body.children.first().cloned().ok_or_else(|| {
        Fault::client(
            ResponseCode::ErrorSchemaValidation,
            "the Body holds no operation",
        )
    })?;
    Ok(SoapRequest { version, operation })
}

/// Opens an answer envelope with `ServerVersionInfo` in its header and the
/// body open; the caller writes the operation's response element.
pub fn open_envelope(w: &mut XmlWriter) {
    let (major, minor, mb, nb) = (
        SERVER_MAJOR.to_string(),
        SERVER_MINOR.to_string(),
        SERVER_MAJOR_BUILD.to_string(),
        SERVER_MINOR_BUILD.to_string(),
    );
    w.open(
        "s:Envelope",
        &[
            ("xmlns:s", NS_SOAP),
            ("xmlns:m", NS_MESSAGES),
            ("xmlns:t", NS_TYPES),
        ],
    )
    .open("s:Header", &[])
    .empty(
        "t:ServerVersionInfo",
        &[
            ("MajorVersion", &major),
            ("MinorVersion", &minor),
            ("MajorBuildNumber", &mb),
            ("MinorBuildNumber", &nb),
            ("Version", SERVER_VERSION),
        ],
    )
    .close()
    .open("s:Body", &[]);
}

/// The whole fault document.
pub fn fault_document(fault: &Fault) -> String {
    let mut w = XmlWriter::new();
    w.open("s:Envelope", &[("xmlns:s", NS_SOAP), ("xmlns:t", NS_TYPES)])
        .open("s:Body", &[])
        .open("s:Fault", &[])
        .leaf(
            "faultcode",
            if fault.client { "s:Client" } else { "s:Server" },
        )
        .leaf("faultstring", &fault.message)
        .open("detail", &[])
        .open(
            "e:ResponseCode",
            &[(
                "xmlns:e",
                "http://schemas.microsoft.com/exchange/services/2006/errors",
            )],
        );
    w.text(fault.code.as_str());
    w.close().open(
        "e:Message",
        &[(
            "xmlns:e",
            "http://schemas.microsoft.com/exchange/services/2006/errors",
        )],
    );
    w.text(&fault.message);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(header: &str, body: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"{NS_SOAP}\" xmlns:t=\"{NS_TYPES}\" \
             xmlns:m=\"{NS_MESSAGES}\"><soap:Header>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
        )
    }

    #[test]
    fn a_request_names_its_version_and_operation() {
        let r = parse_request(
            envelope(
                "<t:RequestServerVersion Version=\"Exchange2016\"/>",
                "<m:GetFolder/>",
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(r.version, "Exchange2016");
        assert!(r.operation.is(NS_MESSAGES, "GetFolder"));
        let r = parse_request(envelope("", "<m:FindItem/>").as_bytes()).unwrap();
        assert_eq!(r.version, "Exchange2007_SP1");
    }

    #[test]
    fn envelopes_that_are_not_ews_requests_are_faults_with_their_code() {
        let table = [
            ("<a/>".to_string(), ResponseCode::ErrorSchemaValidation),
            (
                "<soap:Envelope xmlns:soap=\"x\"/>".to_string(),
                ResponseCode::ErrorSchemaValidation,
            ),
            (envelope("", ""), ResponseCode::ErrorSchemaValidation),
            (
                envelope(
                    "<t:RequestServerVersion Version=\"Exchange1999\"/>",
                    "<m:GetFolder/>",
                ),
                ResponseCode::ErrorInvalidServerVersion,
            ),
            (
                envelope(
                    "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>b@x</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>",
                    "<m:GetFolder/>",
                ),
                ResponseCode::ErrorImpersonateUserDenied,
            ),
            (
                "<soap:Envelope".to_string(),
                ResponseCode::ErrorSchemaValidation,
            ),
        ];
        for (doc, code) in table {
            let fault = parse_request(doc.as_bytes()).unwrap_err();
            assert_eq!(fault.code, code, "{doc}");
            let text = fault_document(&fault);
            assert!(text.contains(code.as_str()), "{text}");
            assert!(parse(text.as_bytes()).is_ok(), "{text}");
        }
    }
}
