//! Autodiscover v2 (JSON): `GET /autodiscover/autodiscover.json?Email=…&Protocol=…`
//! or `GET /autodiscover/autodiscover.json/v1.0/<address>?Protocol=…`,
//! answered with one URL for the protocol asked for, or an error object.
//! No I/O.

use crate::pox::Endpoints;
use serde::Serialize;

/// The protocols answered, as clients spell them.
pub const PROTOCOLS: [V2Protocol; 3] = [
    V2Protocol::ActiveSync,
    V2Protocol::AutodiscoverV1,
    V2Protocol::Ews,
];

/// A protocol of Autodiscover v2 that groxide answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Protocol {
    /// Exchange ActiveSync.
    ActiveSync,
    /// The POX Autodiscover endpoint.
    AutodiscoverV1,
    /// Exchange Web Services.
    Ews,
}

impl V2Protocol {
    /// The name in requests and answers.
    pub fn name(self) -> &'static str {
        match self {
            V2Protocol::ActiveSync => "ActiveSync",
            V2Protocol::AutodiscoverV1 => "AutodiscoverV1",
            V2Protocol::Ews => "Ews",
        }
    }

    /// The protocol named `name`, in any case.
    pub fn parse(name: &str) -> Option<V2Protocol> {
        PROTOCOLS
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// Its URL at `at`.
    pub fn url(self, at: &Endpoints) -> String {
        match self {
            V2Protocol::ActiveSync => at.activesync(),
            V2Protocol::AutodiscoverV1 => at.autodiscover(),
            V2Protocol::Ews => at.ews(),
        }
    }
}

/// A parsed v2 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Request {
    /// The address asked about.
    pub email: String,
    /// The protocol asked for.
    pub protocol: V2Protocol,
}

/// Why a v2 request cannot be answered (HTTP 400 with an error object).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum V2Error {
    /// No `Protocol` parameter.
    #[error("MissingProtocol")]
    MissingProtocol,
    /// A protocol groxide does not serve.
    #[error("ProtocolNotSupported: {0}")]
    ProtocolNotSupported(String),
    /// No address (neither `Email=` nor `/v1.0/<address>`), or not an address.
    #[error("MandatoryParameterMissing")]
    MissingAddress,
}

#[derive(Serialize)]
struct Answer<'a> {
    #[serde(rename = "Protocol")]
    protocol: &'a str,
    #[serde(rename = "Url")]
    url: &'a str,
}

#[derive(Serialize)]
struct ErrorAnswer<'a> {
    #[serde(rename = "ErrorCode")]
    code: &'a str,
    #[serde(rename = "ErrorMessage")]
    message: &'a str,
}

/// Parses the path (after `autodiscover.json`, already lower-cased only for
/// matching — `rest` is the original) and the query of a v2 request.
/// `rest` is what follows `/autodiscover/autodiscover.json` in the path.
pub fn parse_request(rest: &str, query: Option<&str>) -> Result<V2Request, V2Error> {
    let mut email = None;
    let mut protocol = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key.eq_ignore_ascii_case("email") {
            email = Some(value.into_owned());
        } else if key.eq_ignore_ascii_case("protocol") {
            protocol = Some(value.into_owned());
        }
    }
    // `/v1.0/<address>` names the address in the path.
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if let [version, address] = segments.as_slice()
        && version.eq_ignore_ascii_case("v1.0")
    {
        let decoded: String = form_urlencoded::parse(format!("a={address}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        email = Some(decoded);
    }
    let protocol = match protocol {
        None => return Err(V2Error::MissingProtocol),
        Some(p) if p.trim().is_empty() => return Err(V2Error::MissingProtocol),
        Some(p) => V2Protocol::parse(p.trim()).ok_or(V2Error::ProtocolNotSupported(p))?,
    };
    let email = email
        .map(|e| e.trim().to_string())
        .filter(|e| e.contains('@'))
        .ok_or(V2Error::MissingAddress)?;
    Ok(V2Request { email, protocol })
}

/// The answer: `{"Protocol":"…","Url":"…"}`.
pub fn answer(protocol: V2Protocol, at: &Endpoints) -> String {
    let url = protocol.url(at);
    serde_json::to_string(&Answer {
        protocol: protocol.name(),
        url: &url,
    })
    .unwrap_or_default()
}

/// The error object for `error`.
pub fn error_answer(error: &V2Error) -> String {
    let supported = PROTOCOLS.map(V2Protocol::name).join(",");
    let (code, message) = match error {
        V2Error::MissingProtocol => (
            "MissingProtocol",
            "A valid value must be provided for the query parameter 'Protocol'.".to_string(),
        ),
        V2Error::ProtocolNotSupported(p) => (
            "ProtocolNotSupported",
            format!("The protocol '{p}' is not supported. Supported protocols are: '{supported}'."),
        ),
        V2Error::MissingAddress => (
            "MandatoryParameterMissing",
            "An e-mail address must be given as the query parameter 'Email' or as /v1.0/<address>."
                .to_string(),
        ),
    };
    serde_json::to_string(&ErrorAnswer {
        code,
        message: &message,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Endpoints {
        Endpoints {
            host: "mx1.example.com".into(),
            https_port: 443,
        }
    }

    #[test]
    fn requests_name_the_address_in_the_query_or_the_path_and_protocols_in_any_case() {
        let ok = |email: &str, protocol| {
            Ok(V2Request {
                email: email.into(),
                protocol,
            })
        };
        let table = [
            (
                "",
                Some("Email=a%40b.test&Protocol=ActiveSync"),
                ok("a@b.test", V2Protocol::ActiveSync),
            ),
            (
                "",
                Some("email=a@b.test&protocol=ews&RedirectCount=1"),
                ok("a@b.test", V2Protocol::Ews),
            ),
            (
                "/v1.0/a@b.test",
                Some("Protocol=AutodiscoverV1"),
                ok("a@b.test", V2Protocol::AutodiscoverV1),
            ),
            (
                "/V1.0/a%40b.test",
                Some("Protocol=EWS"),
                ok("a@b.test", V2Protocol::Ews),
            ),
            ("", Some("Email=a@b.test"), Err(V2Error::MissingProtocol)),
            (
                "",
                Some("Email=a@b.test&Protocol="),
                Err(V2Error::MissingProtocol),
            ),
            (
                "",
                Some("Email=a@b.test&Protocol=Rest"),
                Err(V2Error::ProtocolNotSupported("Rest".into())),
            ),
            ("", Some("Protocol=Ews"), Err(V2Error::MissingAddress)),
            (
                "",
                Some("Email=nobody&Protocol=Ews"),
                Err(V2Error::MissingAddress),
            ),
            ("", None, Err(V2Error::MissingProtocol)),
        ];
        for (rest, query, want) in table {
            assert_eq!(parse_request(rest, query), want, "{rest} {query:?}");
        }
    }

    #[test]
    fn answers_name_the_url_of_the_home_node() {
        assert_eq!(
            answer(V2Protocol::ActiveSync, &at()),
            r#"{"Protocol":"ActiveSync","Url":"https://mx1.example.com/Microsoft-Server-ActiveSync"}"#
        );
        assert_eq!(
            answer(V2Protocol::Ews, &at()),
            r#"{"Protocol":"Ews","Url":"https://mx1.example.com/EWS/Exchange.asmx"}"#
        );
        assert_eq!(
            answer(V2Protocol::AutodiscoverV1, &at()),
            r#"{"Protocol":"AutodiscoverV1","Url":"https://mx1.example.com/autodiscover/autodiscover.xml"}"#
        );
    }

    #[test]
    fn an_unsupported_protocol_gets_the_documented_error_object() {
        let body = error_answer(&V2Error::ProtocolNotSupported("Rest\"".into()));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["ErrorCode"], "ProtocolNotSupported");
        assert_eq!(
            v["ErrorMessage"],
            "The protocol 'Rest\"' is not supported. Supported protocols are: 'ActiveSync,AutodiscoverV1,Ews'."
        );
    }
}
