//! Autodiscover over SOAP ([MS-OXWSADISC]) at `/autodiscover/autodiscover.svc`:
//! the `GetUserSettings` operation exchangelib, Outlook for Mac and other
//! EWS clients use to find the EWS endpoint of an address. No I/O.
//!
//! A request names one or more users (SMTP addresses) and the settings it
//! wants by name. Every user gets its own `UserResponse`: the settings this
//! server knows a value for, `SettingIsNotAvailable` for the documented
//! settings it has no value for, `InvalidSetting` for names it does not
//! know. SOAP 1.1 and SOAP 1.2 envelopes are both read, and the answer uses
//! the envelope version of the request.

use crate::pox::Endpoints;
use groxide_http_core::xml::{XmlError, XmlWriter, parse};

/// The Autodiscover service namespace (request and response elements).
pub const NS_AUTODISCOVER: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
/// SOAP 1.1.
pub const NS_SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2.
pub const NS_SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing (the `Action` header).
pub const NS_WSA: &str = "http://www.w3.org/2005/08/addressing";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const ACTION_BASE: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/";

/// Most users one request may name (Exchange allows 100).
pub const MAX_USERS: usize = 100;

/// The EWS schema versions this server speaks, oldest first
/// (`EwsSupportedSchemas`; clients pick the newest).
pub const EWS_SCHEMAS: &str = "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, \
     Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016";
/// The server version clients see (`CasVersion`, `ExternalEwsVersion`), the
/// same build the EWS module reports in `ServerVersionInfo`.
pub const SERVER_BUILD: (u32, u32, u32, u32) = (15, 1, 2507, 6);

/// Which SOAP envelope a request came in (the answer uses the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `http://schemas.xmlsoap.org/soap/envelope/`, `text/xml`.
    Soap11,
    /// `http://www.w3.org/2003/05/soap-envelope`, `application/soap+xml`.
    Soap12,
}

impl Envelope {
    fn ns(self) -> &'static str {
        match self {
            Envelope::Soap11 => NS_SOAP11,
            Envelope::Soap12 => NS_SOAP12,
        }
    }

    /// The content type of an answer in this envelope.
    pub fn content_type(self) -> &'static str {
        match self {
            Envelope::Soap11 => "text/xml; charset=utf-8",
            Envelope::Soap12 => "application/soap+xml; charset=utf-8",
        }
    }
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapRequest {
    /// The envelope version.
    pub envelope: Envelope,
    /// The operation in the body.
    pub operation: Operation,
}

/// The operation a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `GetUserSettingsRequestMessage`.
    GetUserSettings {
        /// The `Mailbox` of every `User`, in request order.
        users: Vec<String>,
        /// The `Setting` names, in request order.
        settings: Vec<String>,
    },
    /// Anything else: the element's local name (answered with a fault).
    Unsupported(String),
}

/// Why a body is not an Autodiscover SOAP request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    /// Not well-formed, or over the reader's limits.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// Well-formed, but not an envelope with a request in its body.
    #[error("not an Autodiscover SOAP request: {0}")]
    NotARequest(&'static str),
}

/// Parses a request body.
pub fn parse_request(body: &[u8]) -> Result<SoapRequest, SoapError> {
    let root = parse(body)?;
    let envelope = if root.is(NS_SOAP11, "Envelope") {
        Envelope::Soap11
    } else if root.is(NS_SOAP12, "Envelope") {
        Envelope::Soap12
    } else {
        return Err(SoapError::NotARequest(
            "the root element is not a SOAP Envelope",
        ));
    };
    let body = root
        .child(envelope.ns(), "Body")
        .ok_or(SoapError::NotARequest("the envelope has no Body"))?;
    let message = body
        .children
        .first()
        .ok_or(SoapError::NotARequest("the Body is empty"))?;
    if !message.is(NS_AUTODISCOVER, "GetUserSettingsRequestMessage") {
        return Ok(SoapRequest {
            envelope,
            operation: Operation::Unsupported(message.name.clone()),
        });
    }
    let request = message
        .child(NS_AUTODISCOVER, "Request")
        .ok_or(SoapError::NotARequest("GetUserSettings has no Request"))?;
    let users: Vec<String> = request
        .child(NS_AUTODISCOVER, "Users")
        .map(|u| {
            u.children_named(NS_AUTODISCOVER, "User")
                .filter_map(|user| user.child(NS_AUTODISCOVER, "Mailbox"))
                .map(|m| m.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    if users.is_empty() {
        return Err(SoapError::NotARequest("GetUserSettings names no user"));
    }
    if users.len() > MAX_USERS {
        return Err(SoapError::NotARequest(
            "GetUserSettings names too many users",
        ));
    }
    let settings: Vec<String> = request
        .child(NS_AUTODISCOVER, "RequestedSettings")
        .map(|s| {
            s.children_named(NS_AUTODISCOVER, "Setting")
                .map(|x| x.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    if settings.is_empty() {
        return Err(SoapError::NotARequest(
            "GetUserSettings requests no setting",
        ));
    }
    Ok(SoapRequest {
        envelope,
        operation: Operation::GetUserSettings { users, settings },
    })
}

/// What the server knows of one user it answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    /// The primary address.
    pub address: String,
    /// The name to show.
    pub display_name: String,
    /// Where the user's services are.
    pub at: Endpoints,
}

/// The answer for one user of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAnswer {
    /// The settings of a user this server serves to the caller.
    Settings(UserFacts),
    /// Not a user the caller may ask about (unknown, or someone else's
    /// mailbox: delegation is not served).
    InvalidUser,
}

/// The settings of [MS-OXWSADISC] §3.1.4.1.3 this server has no value for;
/// they are answered `SettingIsNotAvailable` (clients take that as harmless).
const KNOWN_WITHOUT_VALUE: &[&str] = &[
    "UserDN",
    "UserDeploymentId",
    "InternalRpcClientServer",
    "InternalMailboxServerDN",
    "InternalEcpUrl",
    "InternalEcpVoicemailUrl",
    "InternalEcpEmailSubscriptionsUrl",
    "InternalEcpTextMessagingUrl",
    "InternalEcpDeliveryReportUrl",
    "InternalEcpRetentionPolicyTagsUrl",
    "InternalEcpPublishingUrl",
    "InternalOABUrl",
    "InternalUMUrl",
    "InternalWebClientUrls",
    "MailboxDN",
    "PublicFolderServer",
    "ActiveDirectoryServer",
    "EcpVoicemailUrlFragment",
    "EcpEmailSubscriptionsUrlFragment",
    "EcpTextMessagingUrlFragment",
    "EcpDeliveryReportUrlFragment",
    "EcpRetentionPolicyTagsUrlFragment",
    "EcpPublishingUrlFragment",
    "ExternalEcpUrl",
    "ExternalEcpVoicemailUrl",
    "ExternalEcpEmailSubscriptionsUrl",
    "ExternalEcpTextMessagingUrl",
    "ExternalEcpDeliveryReportUrl",
    "ExternalEcpRetentionPolicyTagsUrl",
    "ExternalEcpPublishingUrl",
    "ExternalOABUrl",
    "ExternalUMUrl",
    "ExternalWebClientUrls",
    "AlternateMailboxes",
    "InternalPop3Connections",
    "ExternalPop3Connections",
    "InternalImap4Connections",
    "ExternalImap4Connections",
    "InternalSmtpConnections",
    "ExternalSmtpConnections",
    "ExchangeRpcUrl",
    "InteropExternalEwsUrl",
    "InteropExternalEwsVersion",
    "MobileMailboxPolicyInterop",
    "GroupingInformation",
    "UserMSOnline",
];

/// What a setting is for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingAnswer {
    /// A value.
    Value(String),
    /// A documented setting this server has no value for.
    NotAvailable,
    /// A name this server does not know.
    Invalid,
}

/// The value of setting `name` for `user`.
pub fn setting(name: &str, user: &UserFacts) -> SettingAnswer {
    let (major, minor, build, revision) = SERVER_BUILD;
    let value = match name {
        "UserDisplayName" => user.display_name.clone(),
        "AutoDiscoverSMTPAddress" => user.address.clone(),
        "InternalEwsUrl" | "ExternalEwsUrl" => user.at.ews(),
        "EwsSupportedSchemas" => EWS_SCHEMAS.to_string(),
        "ExternalEwsVersion" => format!("{major:02}.{minor:02}.{build:04}.{revision:03}"),
        "CasVersion" => format!("{major}.{minor}.{build}.{revision}"),
        "InternalMailboxServer" | "ExternalMailboxServer" => user.at.host.clone(),
        "ExternalMailboxServerRequiresSSL" => "True".to_string(),
        "ExternalMailboxServerAuthenticationMethods" => "Basic".to_string(),
        "CrossOrganizationSharingEnabled" | "MapiHttpEnabled" => "False".to_string(),
        "ShowGalAsDefaultView" => "True".to_string(),
        n if KNOWN_WITHOUT_VALUE.contains(&n) => return SettingAnswer::NotAvailable,
        _ => return SettingAnswer::Invalid,
    };
    SettingAnswer::Value(value)
}

fn open_envelope(w: &mut XmlWriter, envelope: Envelope, action: &str) {
    let (major, minor, build, revision) = SERVER_BUILD;
    let ns = envelope.ns();
    w.open(
        "s:Envelope",
        &[("xmlns:s", ns), ("xmlns:a", NS_WSA), ("xmlns:i", NS_XSI)],
    )
    .open("s:Header", &[]);
    w.open("a:Action", &[("s:mustUnderstand", "1")])
        .text(&format!("{ACTION_BASE}{action}"))
        .close();
    w.open("h:ServerVersionInfo", &[("xmlns:h", NS_AUTODISCOVER)])
        .leaf("h:MajorVersion", &major.to_string())
        .leaf("h:MinorVersion", &minor.to_string())
        .leaf("h:MajorBuildNumber", &build.to_string())
        .leaf("h:MinorBuildNumber", &revision.to_string())
        .leaf("h:Version", "Exchange2015")
        .close()
        .close()
        .open("s:Body", &[]);
}

/// The `GetUserSettingsResponseMessage` for `users` (in request order) and
/// the requested `settings`.
pub fn get_user_settings_response(
    envelope: Envelope,
    users: &[(String, UserAnswer)],
    settings: &[String],
) -> String {
    let mut w = XmlWriter::new();
    open_envelope(&mut w, envelope, "GetUserSettingsResponse");
    w.open(
        "GetUserSettingsResponseMessage",
        &[("xmlns", NS_AUTODISCOVER)],
    )
    .open("Response", &[])
    .leaf("ErrorCode", "NoError")
    .leaf("ErrorMessage", "")
    .open("UserResponses", &[]);
    for (mailbox, answer) in users {
        w.open("UserResponse", &[]);
        match answer {
            UserAnswer::InvalidUser => {
                w.leaf("ErrorCode", "InvalidUser")
                    .leaf(
                        "ErrorMessage",
                        &format!("The user {mailbox} is not served here."),
                    )
                    .empty("RedirectTarget", &[("i:nil", "true")])
                    .empty("UserSettingErrors", &[])
                    .empty("UserSettings", &[]);
            }
            UserAnswer::Settings(facts) => {
                w.leaf("ErrorCode", "NoError")
                    .leaf("ErrorMessage", "No error.")
                    .empty("RedirectTarget", &[("i:nil", "true")]);
                let mut values = Vec::new();
                let mut errors = Vec::new();
                for name in settings {
                    match setting(name, facts) {
                        SettingAnswer::Value(v) => values.push((name, v)),
                        SettingAnswer::NotAvailable => errors.push((name, "SettingIsNotAvailable")),
                        SettingAnswer::Invalid => errors.push((name, "InvalidSetting")),
                    }
                }
                w.open("UserSettingErrors", &[]);
                for (name, code) in errors {
                    w.open("UserSettingError", &[])
                        .leaf("ErrorCode", code)
                        .leaf("ErrorMessage", &format!("{name}: {code}"))
                        .leaf("SettingName", name)
                        .close();
                }
                w.close().open("UserSettings", &[]);
                for (name, value) in values {
                    w.open("UserSetting", &[("i:type", "StringSetting")])
                        .leaf("Name", name)
                        .leaf("Value", &value)
                        .close();
                }
                w.close();
            }
        }
        w.close();
    }
    w.finish()
}

/// A SOAP fault: `client` faults are the caller's (malformed or unsupported
/// requests), the rest the server's.
pub fn fault(envelope: Envelope, client: bool, reason: &str) -> String {
    let mut w = XmlWriter::new();
    let ns = envelope.ns();
    w.open("s:Envelope", &[("xmlns:s", ns)])
        .open("s:Body", &[])
        .open("s:Fault", &[]);
    match envelope {
        Envelope::Soap11 => {
            w.leaf("faultcode", if client { "s:Client" } else { "s:Server" })
                .leaf("faultstring", reason);
        }
        Envelope::Soap12 => {
            w.open("s:Code", &[])
                .leaf("s:Value", if client { "s:Sender" } else { "s:Receiver" })
                .close()
                .open("s:Reason", &[])
                .open("s:Text", &[("xml:lang", "en")])
                .text(reason)
                .close()
                .close();
        }
    }
    w.finish()
}

/// The envelope version a body probably uses, for a fault about a body that
/// could not be parsed (by its content type).
pub fn envelope_of_content_type(content_type: Option<&str>) -> Envelope {
    match content_type {
        Some(t) if t.to_ascii_lowercase().starts_with("application/soap+xml") => Envelope::Soap12,
        _ => Envelope::Soap11,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use groxide_http_core::xml::Element;

    fn request(envelope_ns: &str, users: &[&str], settings: &[&str]) -> String {
        let users: String = users
            .iter()
            .map(|u| format!("<a:User><a:Mailbox>{u}</a:Mailbox></a:User>"))
            .collect();
        let settings: String = settings
            .iter()
            .map(|s| format!("<a:Setting>{s}</a:Setting>"))
            .collect();
        format!(
            "<?xml version='1.0' encoding='utf-8'?>\
             <s:Envelope xmlns:s=\"{envelope_ns}\" xmlns:a=\"{NS_AUTODISCOVER}\" xmlns:wsa=\"{NS_WSA}\">\
             <s:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion>\
             <wsa:Action>{ACTION_BASE}GetUserSettings</wsa:Action>\
             <wsa:To>https://x/autodiscover/autodiscover.svc</wsa:To></s:Header>\
             <s:Body><a:GetUserSettingsRequestMessage><a:Request>\
             <a:Users>{users}</a:Users><a:RequestedSettings>{settings}</a:RequestedSettings>\
             </a:Request></a:GetUserSettingsRequestMessage></s:Body></s:Envelope>"
        )
    }

    fn facts() -> UserFacts {
        UserFacts {
            address: "alice@example.test".into(),
            display_name: "Alice & Co".into(),
            at: Endpoints {
                host: "mx2.example.test".into(),
                https_port: 443,
            },
        }
    }

    #[test]
    fn soap11_and_soap12_requests_name_users_and_settings() {
        for (ns, envelope) in [(NS_SOAP11, Envelope::Soap11), (NS_SOAP12, Envelope::Soap12)] {
            let body = request(
                ns,
                &["alice@example.test", "bob@example.test"],
                &["ExternalEwsUrl", "UserDisplayName"],
            );
            let r = parse_request(body.as_bytes()).unwrap();
            assert_eq!(r.envelope, envelope);
            assert_eq!(
                r.operation,
                Operation::GetUserSettings {
                    users: vec!["alice@example.test".into(), "bob@example.test".into()],
                    settings: vec!["ExternalEwsUrl".into(), "UserDisplayName".into()],
                }
            );
        }
    }

    #[test]
    fn other_operations_and_broken_bodies_are_told_apart() {
        let other = format!(
            "<s:Envelope xmlns:s=\"{NS_SOAP11}\"><s:Body>\
             <GetDomainSettingsRequestMessage xmlns=\"{NS_AUTODISCOVER}\"/></s:Body></s:Envelope>"
        );
        assert_eq!(
            parse_request(other.as_bytes()).unwrap().operation,
            Operation::Unsupported("GetDomainSettingsRequestMessage".into())
        );
        for bad in [
            "".to_string(),
            "<s:Envelope".to_string(),
            "<Autodiscover/>".to_string(),
            format!("<s:Envelope xmlns:s=\"{NS_SOAP11}\"/>"),
            format!("<s:Envelope xmlns:s=\"{NS_SOAP11}\"><s:Body/></s:Envelope>"),
            request(NS_SOAP11, &[], &["ExternalEwsUrl"]),
            request(NS_SOAP11, &["alice@example.test"], &[]),
        ] {
            assert!(parse_request(bad.as_bytes()).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..=MAX_USERS).map(|i| format!("u{i}@x.test")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(parse_request(request(NS_SOAP11, &many, &["ExternalEwsUrl"]).as_bytes()).is_err());
    }

    #[test]
    fn settings_have_values_are_unavailable_or_invalid() {
        let f = facts();
        assert_eq!(
            setting("ExternalEwsUrl", &f),
            SettingAnswer::Value("https://mx2.example.test/EWS/Exchange.asmx".into())
        );
        assert_eq!(
            setting("ExternalEwsVersion", &f),
            SettingAnswer::Value("15.01.2507.006".into())
        );
        assert_eq!(setting("InternalOABUrl", &f), SettingAnswer::NotAvailable);
        assert_eq!(setting("FavouriteColour", &f), SettingAnswer::Invalid);
    }

    #[test]
    fn the_answer_reads_back_per_user_in_request_order() {
        let settings: Vec<String> = [
            "UserDisplayName",
            "ExternalEwsUrl",
            "InternalOABUrl",
            "Bogus",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let doc = get_user_settings_response(
            Envelope::Soap12,
            &[
                ("alice@example.test".into(), UserAnswer::Settings(facts())),
                ("eve@example.test".into(), UserAnswer::InvalidUser),
            ],
            &settings,
        );
        let root = parse(doc.as_bytes()).unwrap();
        assert!(root.is(NS_SOAP12, "Envelope"));
        let message = &root.child(NS_SOAP12, "Body").unwrap().children[0];
        assert!(message.is(NS_AUTODISCOVER, "GetUserSettingsResponseMessage"));
        let response = message.child(NS_AUTODISCOVER, "Response").unwrap();
        let users: Vec<&Element> = response
            .child(NS_AUTODISCOVER, "UserResponses")
            .unwrap()
            .children_named(NS_AUTODISCOVER, "UserResponse")
            .collect();
        assert_eq!(users.len(), 2);
        let text = |e: &Element, n: &str| e.child(NS_AUTODISCOVER, n).unwrap().text.clone();
        assert_eq!(text(users[0], "ErrorCode"), "NoError");
        assert_eq!(text(users[1], "ErrorCode"), "InvalidUser");
        let values: Vec<(String, String)> = users[0]
            .child(NS_AUTODISCOVER, "UserSettings")
            .unwrap()
            .children
            .iter()
            .map(|s| (text(s, "Name"), text(s, "Value")))
            .collect();
        assert_eq!(
            values,
            vec![
                ("UserDisplayName".to_string(), "Alice & Co".to_string()),
                (
                    "ExternalEwsUrl".to_string(),
                    "https://mx2.example.test/EWS/Exchange.asmx".to_string()
                ),
            ]
        );
        let errors: Vec<(String, String)> = users[0]
            .child(NS_AUTODISCOVER, "UserSettingErrors")
            .unwrap()
            .children
            .iter()
            .map(|s| (text(s, "SettingName"), text(s, "ErrorCode")))
            .collect();
        assert_eq!(
            errors,
            vec![
                (
                    "InternalOABUrl".to_string(),
                    "SettingIsNotAvailable".to_string()
                ),
                ("Bogus".to_string(), "InvalidSetting".to_string()),
            ]
        );
    }

    #[test]
    fn faults_follow_the_envelope_version() {
        let f11 = parse(fault(Envelope::Soap11, true, "no").as_bytes()).unwrap();
        assert!(f11.is(NS_SOAP11, "Envelope"));
        let f12 = fault(Envelope::Soap12, false, "no");
        assert!(f12.contains("s:Receiver"));
        assert_eq!(
            envelope_of_content_type(Some("application/soap+xml; charset=utf-8")),
            Envelope::Soap12
        );
        assert_eq!(envelope_of_content_type(None), Envelope::Soap11);
    }

    proptest::proptest! {
        #[test]
        fn any_body_parses_or_is_refused_without_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_request(&body);
        }
    }
}
