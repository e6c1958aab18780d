//! The module's router driven in memory over a real SQLite directory: two
//! nodes in `servers`, users homed on each, the gate with Basic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use axum::body::Body;
use base64::Engine as _;
use groxide_directory::{
    Authenticator, Directory, DirectorySettings, DirectoryUrl, LoginThrottle, NewDomain, NewUser,
    PrivilegeBits, ServerId, SystemClock, ThrottlePolicy,
};
use groxide_http_core::auth::{AuthScheme, Basic, CredentialCache};
use groxide_http_core::{AuthGate, ClientInfo, HomeNodes};
use groxide_routing::{LocalNode, Resolver, RouteTable};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http_body_util::BodyExt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const PW: &str = "secret";
const OUTLOOK_REQ: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";

struct World {
    _dir: tempfile::TempDir,
    gate: Arc<AuthGate>,
    serve: groxide_http_core::Serve,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = DirectoryUrl::Sqlite {
        path: dir.path().join("directory.sqlite3"),
    };
    let directory = Directory::connect(&DirectorySettings::new(url))
        .await
        .unwrap();
    let node1 = directory
        .add_server("node1", "mx1.example.test")
        .await
        .unwrap();
    let node2 = directory
        .add_server("node2", "mx2.example.test")
        .await
        .unwrap();
    directory
        .create_domain(&NewDomain {
            domainname: "example.test".into(),
            homedir: String::new(),
            homeserver: ServerId::ANY,
            max_user: 0,
            title: "Example Test".into(),
        })
        .await
        .unwrap();
    let user = |name: &str, home: ServerId, bits: PrivilegeBits| {
        let mut u = NewUser::new(format!("{name}@example.test"), format!("/data/{name}"));
        u.homeserver = home;
        u.privilege_bits = bits;
        u
    };
    let all = PrivilegeBits::NEW_USER_DEFAULT;
    for u in [
        user("alice", node1.id, all),
        user("bob", node2.id, all),
        user("carol", ServerId::ANY, all),
        user("dave", node2.id, PrivilegeBits::EAS),
        user("erin", node1.id, PrivilegeBits::IMAP_POP3),
    ] {
        directory.create_user(&u, Some(PW)).await.unwrap();
    }
    let resolver = Arc::new(Resolver::new(
        RouteTable::empty(),
        Some(Arc::new(directory.clone())),
        LocalNode::new("node1", vec![]),
        5000,
        Duration::from_secs(60),
    ));
    let home = Arc::new(HomeNodes::new(directory.clone(), resolver, "node1", ""));
    let throttle = LoginThrottle::new(ThrottlePolicy::default(), Arc::new(SystemClock));
    let auth = Arc::new(Authenticator::new(directory.clone(), throttle));
    let basic: Arc<dyn AuthScheme> = Arc::new(Basic::new(
        auth,
        "groxide",
        CredentialCache::new(Duration::from_secs(60), 100),
    ));
    let gate = Arc::new(AuthGate::new(vec![basic]));
    let services = Services {
        directory,
        auth: gate.clone(),
        home,
    };
    let settings = DiscoverySettings {
        https_port: 443,
        mail: MailServices {
            imap_tls_port: 993,
            imap_starttls_port: 143,
            pop3_tls_port: 995,
            pop3_starttls_port: 110,
            submission_host: String::new(),
            submission_tls_port: 465,
            submission_starttls_port: 587,
        },
    };
    let serve = Discovery::new(services, settings).mount().serve;
    World {
        _dir: dir,
        gate,
        serve,
    }
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: String,
}

impl World {
    async fn send(&self, method: &str, uri: &str, login: Option<&str>, body: &str) -> Answer {
        let client = ClientInfo {
            peer: SocketAddr::new(IpAddr::from([192, 0, 2, 1]), 50000),
            addr: IpAddr::from([192, 0, 2, 1]),
            tls: true,
            via_trusted_proxy: false,
            connection: 1,
        };
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .extension(client)
            .extension(self.gate.clone());
        if let Some(login) = login {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{PW}"));
            req = req.header(AUTHORIZATION, format!("Basic {token}"));
        }
        let req = req.body(Body::from(body.to_string())).unwrap();
        let response = self.serve.call(req).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn pox(&self, uri: &str, login: Option<&str>, email: &str, schema: &str) -> Answer {
        let body = format!(
            "<?xml version=\"1.0\"?><Autodiscover xmlns=\"{OUTLOOK_REQ}\"><Request>\
             <EMailAddress>{email}</EMailAddress>\
             <AcceptableResponseSchema>{schema}</AcceptableResponseSchema></Request></Autodiscover>"
        );
        self.send("POST", uri, login, &body).await
    }
}

#[tokio::test]
async fn pox_without_credentials_is_challenged_with_basic() {
    let w = world().await;
    let a = w
        .pox(
            "/autodiscover/autodiscover.xml",
            None,
            "alice@example.test",
            pox::OUTLOOK_SCHEMA,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(
        a.headers[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
}

#[tokio::test]
async fn pox_answers_with_the_home_node_of_the_user_in_any_path_case() {
    let w = world().await;
    let table = [
        (
            "/autodiscover/autodiscover.xml",
            "alice",
            pox::OUTLOOK_SCHEMA,
            "<EwsUrl>https://mx1.example.test/EWS/Exchange.asmx</EwsUrl>",
        ),
        (
            "/Autodiscover/Autodiscover.xml",
            "bob",
            pox::OUTLOOK_SCHEMA,
            "<EwsUrl>https://mx2.example.test/EWS/Exchange.asmx</EwsUrl>",
        ),
        (
            "/AutoDiscover/AutoDiscover.XML",
            "bob",
            pox::MOBILESYNC_SCHEMA,
            "<Url>https://mx2.example.test/Microsoft-Server-ActiveSync</Url>",
        ),
        // No homeserver and no list file: this node.
        (
            "/autodiscover/autodiscover.xml",
            "carol",
            pox::MOBILESYNC_SCHEMA,
            "<Url>https://mx1.example.test/Microsoft-Server-ActiveSync</Url>",
        ),
    ];
    for (uri, name, schema, want) in table {
        let login = format!("{name}@example.test");
        let a = w.pox(uri, Some(&login), &login, schema).await;
        assert_eq!(a.status, StatusCode::OK, "{uri} {name}: {}", a.body);
        assert!(a.body.contains(want), "{uri} {name}: {}", a.body);
        assert!(
            a.headers[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/xml")
        );
    }
}

#[tokio::test]
async fn pox_requires_the_privilege_of_the_protocol_asked_for() {
    let w = world().await;
    let dave = "dave@example.test";
    let erin = "erin@example.test";
    let table = [
        (dave, pox::MOBILESYNC_SCHEMA, StatusCode::OK),
        (dave, pox::OUTLOOK_SCHEMA, StatusCode::FORBIDDEN),
        (erin, pox::MOBILESYNC_SCHEMA, StatusCode::FORBIDDEN),
        (erin, pox::OUTLOOK_SCHEMA, StatusCode::FORBIDDEN),
    ];
    for (login, schema, want) in table {
        let a = w
            .pox("/autodiscover/autodiscover.xml", Some(login), login, schema)
            .await;
        assert_eq!(a.status, want, "{login} {schema}: {}", a.body);
    }
}

#[tokio::test]
async fn pox_errors_are_autodiscover_error_documents() {
    let w = world().await;
    let alice = Some("alice@example.test");
    let uri = "/autodiscover/autodiscover.xml";
    let malformed = w.send("POST", uri, alice, "<Autodiscover><Request>").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed.body.contains("<ErrorCode>600</ErrorCode>"),
        "{}",
        malformed.body
    );
    let get = w.send("GET", uri, alice, "").await;
    assert_eq!(get.status, StatusCode::BAD_REQUEST);
    let other = w
        .pox(uri, alice, "bob@example.test", pox::OUTLOOK_SCHEMA)
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(
        other.body.contains("<ErrorCode>500</ErrorCode>"),
        "{}",
        other.body
    );
    let schema = w.pox(uri, alice, "alice@example.test", "urn:nothing").await;
    assert_eq!(schema.status, StatusCode::OK);
    assert!(
        schema.body.contains("<ErrorCode>601</ErrorCode>"),
        "{}",
        schema.body
    );
}

#[tokio::test]
async fn json_v2_names_the_home_node_for_each_protocol_and_refuses_unknown_ones() {
    let w = world().await;
    let table = [
        (
            "/autodiscover/autodiscover.json?Email=bob@example.test&Protocol=ActiveSync",
            StatusCode::OK,
            "https://mx2.example.test/Microsoft-Server-ActiveSync",
        ),
        (
            "/Autodiscover/Autodiscover.json/v1.0/alice@example.test?Protocol=Ews",
            StatusCode::OK,
            "https://mx1.example.test/EWS/Exchange.asmx",
        ),
        (
            "/autodiscover/autodiscover.json?Email=bob%40example.test&Protocol=autodiscoverv1",
            StatusCode::OK,
            "https://mx2.example.test/autodiscover/autodiscover.xml",
        ),
        // An address that is no user: this node, same shape.
        (
            "/autodiscover/autodiscover.json?Email=nobody@example.test&Protocol=Ews",
            StatusCode::OK,
            "https://mx1.example.test/EWS/Exchange.asmx",
        ),
        (
            "/autodiscover/autodiscover.json?Email=bob@example.test&Protocol=Rest",
            StatusCode::BAD_REQUEST,
            "\"ErrorCode\":\"ProtocolNotSupported\"",
        ),
        (
            "/autodiscover/autodiscover.json?Email=bob@example.test",
            StatusCode::BAD_REQUEST,
            "\"ErrorCode\":\"MissingProtocol\"",
        ),
        (
            "/autodiscover/autodiscover.json?Protocol=Ews",
            StatusCode::BAD_REQUEST,
            "\"ErrorCode\":\"MandatoryParameterMissing\"",
        ),
    ];
    for (uri, status, want) in table {
        let a = w.send("GET", uri, None, "").await;
        assert_eq!(a.status, status, "{uri}: {}", a.body);
        assert!(a.body.contains(want), "{uri}: {}", a.body);
        assert!(
            a.headers[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
    let post = w
        .send("POST", "/autodiscover/autodiscover.json", None, "")
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn autoconfig_lists_mail_and_dav_at_the_home_node_on_every_path() {
    let w = world().await;
    for path in [
        "/.well-known/autoconfig/mail/config-v1.1.xml",
        "/mail/config-v1.1.xml",
        "/.well-known/mail-v1.xml",
    ] {
        let a = w
            .send(
                "GET",
                &format!("{path}?emailaddress=bob%40example.test"),
                None,
                "",
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        for want in [
            "<emailProvider id=\"example.test\">",
            "<displayName>Example Test</displayName>",
            "<incomingServer type=\"imap\">\n      <hostname>mx2.example.test</hostname>\n      <port>993</port>",
            "<port>587</port>\n      <socketType>STARTTLS</socketType>",
            "<addressBook type=\"carddav\">",
            "<serverURL>https://mx2.example.test/dav/</serverURL>",
        ] {
            assert!(a.body.contains(want), "{path}: {want}\n{}", a.body);
        }
    }
    let unknown_domain = w
        .send(
            "GET",
            "/mail/config-v1.1.xml?emailaddress=a@elsewhere.test",
            None,
            "",
        )
        .await;
    assert_eq!(unknown_domain.status, StatusCode::NOT_FOUND);
    let missing = w.send("GET", "/mail/config-v1.1.xml", None, "").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn well_known_dav_paths_redirect_to_the_dav_root_for_every_method() {
    let w = world().await;
    for (method, path) in [
        ("GET", "/.well-known/caldav"),
        ("PROPFIND", "/.well-known/carddav"),
        ("PROPFIND", "/.well-known/caldav/"),
    ] {
        let a = w.send(method, path, None, "").await;
        assert_eq!(a.status, StatusCode::MOVED_PERMANENTLY, "{method} {path}");
        assert_eq!(a.headers[LOCATION], "/dav/");
    }
}

fn soap_request(users: &[&str], settings: &[&str]) -> String {
    let users: String = users
        .iter()
        .map(|u| format!("<a:User><a:Mailbox>{u}</a:Mailbox></a:User>"))
        .collect();
    let settings: String = settings
        .iter()
        .map(|s| format!("<a:Setting>{s}</a:Setting>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"{}\" xmlns:a=\"{}\"><s:Body>\
         <a:GetUserSettingsRequestMessage><a:Request><a:Users>{users}</a:Users>\
         <a:RequestedSettings>{settings}</a:RequestedSettings></a:Request>\
         </a:GetUserSettingsRequestMessage></s:Body></s:Envelope>",
        soap::NS_SOAP11,
        soap::NS_AUTODISCOVER
    )
}

#[tokio::test]
async fn soap_get_user_settings_answers_for_the_callers_own_mailbox_only() {
    let w = world().await;
    let svc = "/Autodiscover/Autodiscover.svc";
    let body = soap_request(
        &[
            "bob@example.test",
            "alice@example.test",
            "nobody@example.test",
        ],
        &["ExternalEwsUrl", "AutoDiscoverSMTPAddress"],
    );
    // exchangelib's anonymous probe for the scheme.
    let probe = w.send("POST", svc, None, &body).await;
    assert_eq!(probe.status, StatusCode::UNAUTHORIZED);
    assert!(
        probe.headers[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
    let a = w.send("POST", svc, Some("bob@example.test"), &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let root = groxide_http_core::xml::parse(a.body.as_bytes()).unwrap();
    let users: Vec<_> = root
        .child(soap::NS_SOAP11, "Body")
        .and_then(|b| b.children.first())
        .and_then(|m| m.child(soap::NS_AUTODISCOVER, "Response"))
        .and_then(|r| r.child(soap::NS_AUTODISCOVER, "UserResponses"))
        .unwrap()
        .children
        .iter()
        .map(|u| {
            u.child_text(soap::NS_AUTODISCOVER, "ErrorCode")
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(users, ["NoError", "InvalidUser", "InvalidUser"]);
    assert!(
        a.body
            .contains("<Value>https://mx2.example.test/EWS/Exchange.asmx</Value>"),
        "{}",
        a.body
    );
    assert!(!a.body.contains("mx1.example.test"), "{}", a.body);
    // Without the web privilege (dave has ActiveSync only): refused.
    let dave = w
        .send(
            "POST",
            svc,
            Some("dave@example.test"),
            &soap_request(&["dave@example.test"], &["ExternalEwsUrl"]),
        )
        .await;
    assert_eq!(dave.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn soap_errors_are_faults_never_server_errors() {
    let w = world().await;
    let svc = "/autodiscover/autodiscover.svc";
    let login = Some("alice@example.test");
    let get = w.send("GET", svc, login, "").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    let broken = w.send("POST", svc, login, "<s:Envelope").await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(
        broken.body.contains("<faultcode>s:Client</faultcode>"),
        "{}",
        broken.body
    );
    let other = format!(
        "<s:Envelope xmlns:s=\"{}\"><s:Body><GetDomainSettingsRequestMessage xmlns=\"{}\"/>\
         </s:Body></s:Envelope>",
        soap::NS_SOAP11,
        soap::NS_AUTODISCOVER
    );
    let unsupported = w.send("POST", svc, login, &other).await;
    assert_eq!(unsupported.status, StatusCode::BAD_REQUEST);
    assert!(
        unsupported
            .body
            .contains("GetDomainSettingsRequestMessage is not supported"),
        "{}",
        unsupported.body
    );
}
