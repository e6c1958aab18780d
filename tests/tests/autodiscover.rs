//! Autodiscover over SOAP (`/autodiscover/autodiscover.svc`) as exchangelib
//! (PyPI) uses it: it probes the authentication scheme with an anonymous
//! POST, asks GetUserSettings for the account, builds its EWS protocol from
//! the answer (URL and newest schema version) and reads the inbox there.
//! exchangelib's DNS steps cannot run on loopback, so the test enters its
//! discovery at the step after them, with the same objects it builds itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::{Node, Service};
use std::process::Command;

const DOMAIN: &str = "example.test";
const USER: &str = "ada@example.test";
const OTHER: &str = "bea@example.test";
const PASSWORD: &str = "secret";

const AUTODISCOVER_PY: &str = r#"
import json, sys
from exchangelib import Account, Configuration, Credentials, DELEGATE
from exchangelib.autodiscover.discovery import Autodiscovery
from exchangelib.autodiscover.protocol import AutodiscoverProtocol
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.transport import BASIC
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter  # self-signed test certificate

url, user, pw, other = sys.argv[1:5]
out = {}
creds = Credentials(user, pw)
proto = AutodiscoverProtocol(config=Configuration(service_endpoint=url, credentials=creds))
out["auth_type"] = proto.auth_type  # found by an anonymous probe
disco = Autodiscovery(email=user, credentials=creds)
answer, ews = disco._build_response(ad_response=disco._quick(protocol=proto))
out["ews_url"] = answer.ews_url
out["version"] = answer.version.api_version
out["smtp"] = answer.autodiscover_smtp_address
settings = proto.get_user_settings(user=user, settings=["user_display_name", "external_ews_url", "internal_oab_url"])
out["settings"] = settings.user_settings
config = Configuration(service_endpoint=answer.ews_url, credentials=creds, version=answer.version, auth_type=BASIC)
account = Account(primary_smtp_address=user, config=config, autodiscover=False, access_type=DELEGATE)
out["inbox"] = account.inbox.total_count
try:
    Autodiscovery(email=other, credentials=creds)._quick(protocol=proto)
    out["other"] = "answered"
except Exception as e:
    out["other"] = type(e).__name__
bad = AutodiscoverProtocol(config=Configuration(service_endpoint=url, credentials=Credentials(user, "wrong"), auth_type=BASIC))
try:
    bad.get_user_settings(user=user)
    out["wrong_password"] = "answered"
except Exception as e:
    out["wrong_password"] = type(e).__name__
print(json.dumps(out))
"#;

#[test]
fn exchangelib_discovers_the_ews_endpoint_by_soap_and_reads_the_inbox_there() {
    let mut node = Node::standalone("127.0.92.1");
    node.start_all(&Service::STORE);
    // The external name is the node's address, so the discovered URL works here.
    let ip = node.ip.to_string();
    node.admin(&["server", "add", &node.host_id, "--extname", &ip]);
    node.create_domain(DOMAIN);
    node.create_user(USER, PASSWORD, None);
    node.create_user(OTHER, PASSWORD, None);
    node.start(Service::Delivery);
    node.start(Service::Http);
    node.deliver_ok(
        USER,
        b"From: x@remote.test\r\nTo: ada@example.test\r\nSubject: hi\r\n\r\nbody\r\n",
    );

    let url = format!(
        "https://{}:{}/Autodiscover/Autodiscover.svc",
        node.ip, node.ports.https
    );
    let out = Command::new("python3")
        .args(["-c", AUTODISCOVER_PY, &url, USER, PASSWORD, OTHER])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exchangelib failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let ews = format!("https://{}:{}/EWS/Exchange.asmx", node.ip, node.ports.https);
    assert_eq!(v["auth_type"], "basic", "{v}");
    assert_eq!(v["ews_url"], ews.as_str(), "{v}");
    assert_eq!(v["version"], "Exchange2016", "{v}");
    assert_eq!(v["smtp"], USER, "{v}");
    assert_eq!(v["settings"]["user_display_name"], USER, "{v}");
    assert_eq!(v["settings"]["external_ews_url"], ews.as_str(), "{v}");
    assert!(v["settings"].get("internal_oab_url").is_none(), "{v}");
    assert_eq!(v["inbox"], 1, "{v}");
    // Another user's mailbox is not served (no delegation).
    assert_eq!(v["other"], "ErrorNonExistentMailbox", "{v}");
    assert_eq!(v["wrong_password"], "UnauthorizedError", "{v}");
}
