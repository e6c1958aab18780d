//! EWS in groxide-http as a process over real event, exmdb and delivery
//! processes, driven by exchangelib (PyPI) the way its users drive it:
//! an Account without autodiscover on a manual Configuration (Basic over
//! HTTPS), the folder tree, the newest ten messages of the inbox, their
//! MIME content, marking read, moving to the trash, uploading a message,
//! and sync_items with its state carried from call to call. Mail arrives
//! by LMTP through groxide-delivery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::cluster::NodeOptions;
use groxide_e2e::{Node, Service};
use std::path::Path;
use std::process::Command;

const DOMAIN: &str = "example.test";
const USER: &str = "demo@example.test";
const PASSWORD: &str = "secret";

/// A node with event, exmdb, midb, delivery and http, and the demo user.
fn node(ip: &str) -> Node {
    let mut node = Node::standalone(ip);
    node.start_all(&Service::STORE);
    node.create_domain(DOMAIN);
    node.create_user(USER, PASSWORD, None);
    node.start(Service::Delivery);
    node.start(Service::Http);
    node
}

/// A node at `ip` with its data in `data`, the directory at `db` (shared
/// between nodes) and `allow` as every RPC service's hosts_allow.
fn node_at(ip: &str, data: &Path, db: &Path, allow: &str) -> Node {
    let mut o = NodeOptions::standalone(ip.parse().unwrap(), data);
    o.directory_url = format!("sqlite://{}", db.display());
    o.allow = allow.split(' ').map(|a| a.parse().unwrap()).collect();
    Node::new(o)
}

fn deliver(node: &Node, subject: &str, date: &str) {
    let msg = format!(
        "From: Sender <sender@remote.test>\r\nTo: {USER}\r\nSubject: {subject}\r\n\
         Date: {date}\r\nMessage-ID: <{subject}@remote.test>\r\n\r\nHello, this is {subject}.\r\n"
    );
    node.deliver_ok(USER, msg.as_bytes());
}

/// exchangelib against the node; prints one JSON object of what it saw.
const EXCHANGELIB_PY: &str = r#"
import json, sys, time
from exchangelib import Account, Configuration, Credentials, DELEGATE, Message
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.transport import BASIC
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter  # self-signed test certificate
url, user, pw, step = sys.argv[1:5]
config = Configuration(service_endpoint=url, credentials=Credentials(user, pw), auth_type=BASIC)
acc = Account(user, config=config, autodiscover=False, access_type=DELEGATE)
out = {}
if step == "read":
    out["api_version"] = acc.version.api_version
    out["folders"] = sorted(f.name for f in acc.msg_folder_root.children)
    out["inbox_total"] = acc.inbox.total_count
    latest = list(acc.inbox.all().order_by("-datetime_received")[:10])
    out["subjects"] = [m.subject for m in latest]
    out["senders"] = [m.sender.email_address if m.sender else None for m in latest]
    newest = latest[0]
    out["mime_has_subject"] = (b"Subject: " + newest.subject.encode()) in newest.mime_content
    out["was_read"] = newest.is_read
    newest.is_read = True
    newest.save(update_fields=["is_read"])
    out["unread_after"] = sorted(m.subject for m in acc.inbox.filter(is_read=False))
    out["subject_filter"] = sorted(m.subject for m in acc.inbox.filter(subject__icontains="OLD"))
    newest.move_to_trash()
    out["trash"] = sorted(m.subject for m in acc.trash.all())
    out["inbox_after"] = sorted(m.subject for m in acc.inbox.all())
    mime = (b"From: me@example.test\r\nTo: " + user.encode() + b"\r\nSubject: uploaded by exchangelib\r\n"
            b"Date: Wed, 3 Jan 2024 10:00:00 +0000\r\nMessage-ID: <up@example.test>\r\n\r\nbody\r\n")
    up = Message(account=acc, folder=acc.inbox, mime_content=mime)
    up.save()
    out["uploaded_id"] = bool(up.id)
    out["inbox_final"] = sorted(m.subject for m in acc.inbox.all())
elif step == "sync":
    state = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
    acc.inbox.item_sync_state = state
    changes = []
    for change_type, item in acc.inbox.sync_items(max_changes_returned=2):
        changes.append(change_type)
    out["changes"] = changes
    out["state"] = acc.inbox.item_sync_state
elif step == "folders":
    from exchangelib import Folder
    acc.msg_folder_root.folder_sync_state = None
    out["hierarchy_first"] = sorted(t for t, f in acc.msg_folder_root.sync_hierarchy())[:1]
    state = acc.msg_folder_root.folder_sync_state
    sub = Folder(parent=acc.inbox, name="Projects")
    sub.save()
    out["hierarchy_after_create"] = [(t, f.name) for t, f in acc.msg_folder_root.sync_hierarchy(sync_state=state)]
    state = acc.msg_folder_root.folder_sync_state
    sub.name = "Projects 2024"
    sub.save()
    out["children"] = sorted(f.name for f in acc.inbox.children)
    newest = acc.inbox.all().order_by("-datetime_received")[0]
    newest.copy(to_folder=sub)
    newest.move(to_folder=acc.junk)
    out["in_sub"] = sorted(m.subject for m in sub.all())
    out["in_junk"] = sorted(m.subject for m in acc.junk.all())
    out["inbox_count"] = acc.inbox.all().count()
    acc.junk.empty()
    out["junk_after_empty"] = acc.junk.all().count()
    sub.delete()
    out["hierarchy_after_delete"] = [t for t, f in acc.msg_folder_root.sync_hierarchy(sync_state=state)]
print(json.dumps(out))
"#;

fn exchangelib(node: &Node, args: &[&str]) -> serde_json::Value {
    let url = format!("https://{}:{}/EWS/Exchange.asmx", node.ip, node.ports.https);
    let out = Command::new("python3")
        .args(["-c", EXCHANGELIB_PY, &url, USER, PASSWORD])
        .args(args)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exchangelib failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn exchangelib_lists_reads_marks_trashes_and_uploads() {
    let node = node("127.0.90.1");
    deliver(&node, "older", "Mon, 1 Jan 2024 09:00:00 +0000");
    deliver(&node, "newest", "Mon, 1 Jan 2024 10:00:00 +0000");
    let v = exchangelib(&node, &["read"]);
    assert_eq!(v["api_version"], "Exchange2016", "{v}");
    let folders = strings(&v["folders"]);
    for f in [
        "Inbox",
        "Drafts",
        "Sent Items",
        "Deleted Items",
        "Junk Email",
    ] {
        assert!(folders.contains(&f.to_string()), "{f} in {folders:?}");
    }
    assert_eq!(v["inbox_total"], 2);
    assert_eq!(strings(&v["subjects"]), ["newest", "older"]);
    assert_eq!(v["senders"][0], "sender@remote.test");
    assert_eq!(v["mime_has_subject"], true);
    assert_eq!(v["was_read"], false);
    assert_eq!(strings(&v["unread_after"]), ["older"]);
    assert_eq!(strings(&v["subject_filter"]), ["older"]);
    assert_eq!(strings(&v["trash"]), ["newest"]);
    assert_eq!(strings(&v["inbox_after"]), ["older"]);
    assert_eq!(v["uploaded_id"], true);
    assert_eq!(
        strings(&v["inbox_final"]),
        ["older", "uploaded by exchangelib"]
    );
}

#[test]
fn exchangelib_sync_items_carries_its_state_across_calls() {
    let node = node("127.0.90.2");
    for s in ["s1", "s2", "s3"] {
        deliver(&node, s, "Mon, 1 Jan 2024 09:00:00 +0000");
    }
    let first = exchangelib(&node, &["sync", ""]);
    assert_eq!(strings(&first["changes"]), ["create", "create", "create"]);
    let state = first["state"].as_str().unwrap().to_string();
    let again = exchangelib(&node, &["sync", &state]);
    assert!(again["changes"].as_array().unwrap().is_empty(), "{again}");
    deliver(&node, "s4", "Mon, 1 Jan 2024 09:00:00 +0000");
    let state = again["state"].as_str().unwrap().to_string();
    let later = exchangelib(&node, &["sync", &state]);
    assert_eq!(strings(&later["changes"]), ["create"]);
}

/// exchangelib's QuerySet over mail and groupware folders (`filter`, `Q`,
/// `exclude`, `order_by`, slicing, `count`), paged SyncFolderItems of a
/// calendar, and what Outlook-style clients ask at start-up (user
/// configurations, FindPeople, ExpandDL); one JSON object per step.
const QUERY_PY: &str = r#"
import json, sys, datetime, warnings
warnings.simplefilter("ignore")
from exchangelib import (Account, Configuration, Credentials, DELEGATE, Q, CalendarItem, Contact,
                         EWSDateTime, EWSTimeZone)
from exchangelib.errors import ErrorItemNotFound, ErrorNameResolutionNoResults
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.transport import BASIC
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
url, user, pw, step = sys.argv[1:5]
config = Configuration(service_endpoint=url, credentials=Credentials(user, pw), auth_type=BASIC)
acc = Account(user, config=config, autodiscover=False, access_type=DELEGATE)
utc = EWSTimeZone("UTC")
out = {}
def s(qs):
    return sorted(i.subject for i in qs)
if step == "mail":
    ib = acc.inbox
    g = ib.get(subject="gamma alpha")
    g.is_read = True
    g.save(update_fields=["is_read"])
    for m in ib.filter(subject__in=["alpha report", "beta notes", "delta", "epsilon"]):
        m.is_read = False
        m.save(update_fields=["is_read"])
    out["eq"] = s(ib.filter(subject="alpha report"))
    out["eq_other_case"] = s(ib.filter(subject="ALPHA REPORT"))
    out["contains"] = s(ib.filter(subject__contains="alpha"))
    out["icontains"] = s(ib.filter(subject__icontains="ALPHA"))
    out["startswith"] = s(ib.filter(subject__istartswith="gam"))
    out["sender"] = s(ib.filter(sender="ann@remote.test"))
    out["sent_after"] = s(ib.filter(datetime_sent__gt=EWSDateTime(2024, 1, 3, 12, 0, tzinfo=utc)))
    out["received"] = [ib.filter(datetime_received__gt=EWSDateTime(2020, 1, 1, tzinfo=utc)).count(),
                       ib.filter(datetime_received__lt=EWSDateTime(2020, 1, 1, tzinfo=utc)).count()]
    out["unread"] = s(ib.filter(is_read=False))
    out["attachments"] = s(ib.filter(has_attachments=True))
    out["high"] = s(ib.filter(importance="High"))
    out["not_low"] = s(ib.filter(importance__in=["Normal", "High"]))
    out["or"] = s(ib.filter(Q(subject="delta") | Q(subject="epsilon")))
    out["exclude"] = s(ib.exclude(sender="bob@remote.test"))
    out["and"] = s(ib.filter(sender="ann@remote.test", is_read=False))
    out["by_subject"] = list(ib.all().order_by("subject").values_list("subject", flat=True))
    out["by_sent_desc"] = list(ib.all().order_by("-datetime_sent").values_list("subject", flat=True))
    out["by_sender_then_subject"] = list(ib.all().order_by("sender", "-subject").values_list("subject", flat=True))
    out["slice"] = list(ib.all().order_by("subject").values_list("subject", flat=True)[1:3])
    out["filtered_slice"] = list(ib.filter(subject__contains="a").order_by("-subject").values_list("subject", flat=True)[1:3])
    out["count"] = ib.all().count()
    out["filtered_count"] = ib.filter(subject__contains="a").count()
elif step == "groupware":
    cal = acc.calendar
    base = EWSDateTime(2031, 5, 1, 9, 0, tzinfo=utc)
    for i, subject in enumerate(["Standup", "Budget review", "Lunch", "Budget close", "Retro"]):
        CalendarItem(account=acc, folder=cal, subject=subject, start=base + datetime.timedelta(days=i),
                     end=base + datetime.timedelta(days=i, hours=1)).save()
    out["contains"] = s(cal.filter(subject__contains="Budget"))
    out["after"] = s(cal.filter(start__gt=base + datetime.timedelta(days=2, hours=2)))
    out["window"] = s(cal.filter(start__gte=base + datetime.timedelta(days=1), end__lte=base + datetime.timedelta(days=2, hours=1)))
    out["exclude"] = s(cal.exclude(subject="Lunch"))
    out["or"] = s(cal.filter(Q(subject="Lunch") | Q(subject__startswith="Retro")))
    out["by_start_desc"] = list(cal.all().order_by("-start").values_list("subject", flat=True))
    out["slice"] = list(cal.all().order_by("start").values_list("subject", flat=True)[1:3])
    out["count"] = cal.filter(subject__startswith="Budget").count()
    for name in ["Zoe Zed", "Adam Ant", "Mia Moe"]:
        first, last = name.split()
        Contact(account=acc, folder=acc.contacts, given_name=first, surname=last, display_name=name).save()
    out["contacts_sorted"] = list(acc.contacts.all().order_by("display_name").values_list("display_name", flat=True))
    out["contacts_filtered"] = sorted(c.display_name for c in acc.contacts.filter(display_name__contains="a"))
    # SyncFolderItems of the calendar, two changes per page.
    cal.item_sync_state = None
    first = [t for t, i in cal.sync_items(max_changes_returned=2)]
    state = cal.item_sync_state
    out["sync_first"] = first
    lunch = cal.get(subject="Lunch")
    lunch.delete()
    retro = cal.get(subject="Retro")
    retro.location = "Room 9"
    retro.save(update_fields=["location"])
    out["sync_next"] = sorted(t for t, i in cal.sync_items(sync_state=state, max_changes_returned=1))
    state = cal.item_sync_state
    out["sync_quiet"] = [t for t, i in cal.sync_items(sync_state=state, max_changes_returned=1)]
elif step == "startup":
    cal = acc.calendar
    try:
        cal.get_user_configuration(name="CategoryList")
        out["missing"] = "found"
    except ErrorItemNotFound:
        out["missing"] = "ErrorItemNotFound"
    xml = b'<?xml version="1.0"?><categories default="Red"><category name="Red" color="0"/></categories>'
    cal.create_user_configuration(name="CategoryList", xml_data=xml, dictionary={"Version": 2, "Owner": "me"})
    got = cal.get_user_configuration(name="CategoryList")
    out["xml"] = got.xml_data.decode()
    out["dictionary"] = sorted((str(k), str(v)) for k, v in (got.dictionary or {}).items())
    cal.update_user_configuration(name="CategoryList", xml_data=b"<categories/>")
    again = cal.get_user_configuration(name="CategoryList")
    out["xml_after_update"] = again.xml_data.decode()
    out["dictionary_kept"] = sorted(str(k) for k in (again.dictionary or {}))
    cal.delete_user_configuration(name="CategoryList")
    try:
        cal.get_user_configuration(name="CategoryList")
        out["after_delete"] = "found"
    except ErrorItemNotFound:
        out["after_delete"] = "ErrorItemNotFound"
    Contact(account=acc, folder=acc.contacts, given_name="Grace", surname="Hopper", display_name="Grace Hopper",
            email_addresses=[__import__("exchangelib.indexed_properties", fromlist=["EmailAddress"]).EmailAddress(email="grace@navy.test")]).save()
    # Display names only: complex persona fields make exchangelib call GetPersona.
    out["people"] = list(acc.contacts.people().values_list("display_name", flat=True))
    try:
        acc.protocol.expand_dl("team@" + user.split("@")[1])
        out["expand"] = "expanded"
    except ErrorNameResolutionNoResults:
        out["expand"] = "ErrorNameResolutionNoResults"
print(json.dumps(out, default=str))
"#;

fn query(node: &Node, step: &str) -> serde_json::Value {
    let url = format!("https://{}:{}/EWS/Exchange.asmx", node.ip, node.ports.https);
    let out = Command::new("python3")
        .args(["-c", QUERY_PY, &url, USER, PASSWORD, step])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exchangelib failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn exchangelib_filters_sorts_and_slices_the_inbox() {
    let node = node("127.0.90.40");
    let mail = |subject: &str, from: &str, day: u32, extra: &str, body: &str| {
        let msg = format!(
            "From: {from}\r\nTo: {USER}\r\nSubject: {subject}\r\n\
             Date: Mon, {day} Jan 2024 09:00:00 +0000\r\nMessage-ID: <{day}@remote.test>\r\n{extra}\r\n{body}"
        );
        node.deliver_ok(USER, msg.as_bytes());
    };
    mail(
        "alpha report",
        "Ann <ann@remote.test>",
        1,
        "Importance: High\r\n",
        "a\r\n",
    );
    mail(
        "beta notes",
        "Bob <bob@remote.test>",
        2,
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
        "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n\
         Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=notes.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n",
    );
    mail("gamma alpha", "Ann <ann@remote.test>", 3, "", "g\r\n");
    mail(
        "delta",
        "Carol <carol@remote.test>",
        4,
        "Importance: Low\r\n",
        "d\r\n",
    );
    mail("epsilon", "Bob <bob@remote.test>", 5, "", "e\r\n");
    let v = query(&node, "mail");
    eprintln!("{v}");
    assert_eq!(strings(&v["eq"]), ["alpha report"]);
    assert_eq!(strings(&v["eq_other_case"]), ["alpha report"]);
    assert_eq!(strings(&v["contains"]), ["alpha report", "gamma alpha"]);
    assert_eq!(strings(&v["icontains"]), ["alpha report", "gamma alpha"]);
    assert_eq!(strings(&v["startswith"]), ["gamma alpha"]);
    assert_eq!(strings(&v["sender"]), ["alpha report", "gamma alpha"]);
    assert_eq!(strings(&v["sent_after"]), ["delta", "epsilon"]);
    assert_eq!(v["received"], serde_json::json!([5, 0]));
    assert_eq!(
        strings(&v["unread"]),
        ["alpha report", "beta notes", "delta", "epsilon"]
    );
    assert_eq!(strings(&v["attachments"]), ["beta notes"]);
    assert_eq!(strings(&v["high"]), ["alpha report"]);
    assert_eq!(
        strings(&v["not_low"]),
        ["alpha report", "beta notes", "epsilon", "gamma alpha"]
    );
    assert_eq!(strings(&v["or"]), ["delta", "epsilon"]);
    assert_eq!(
        strings(&v["exclude"]),
        ["alpha report", "delta", "gamma alpha"]
    );
    assert_eq!(strings(&v["and"]), ["alpha report"]);
    assert_eq!(
        strings(&v["by_subject"]),
        [
            "alpha report",
            "beta notes",
            "delta",
            "epsilon",
            "gamma alpha"
        ]
    );
    assert_eq!(
        strings(&v["by_sent_desc"]),
        [
            "epsilon",
            "delta",
            "gamma alpha",
            "beta notes",
            "alpha report"
        ]
    );
    // Sorted by the sender's name, then subject descending.
    assert_eq!(
        strings(&v["by_sender_then_subject"]),
        [
            "gamma alpha",
            "alpha report",
            "epsilon",
            "beta notes",
            "delta"
        ]
    );
    assert_eq!(strings(&v["slice"]), ["beta notes", "delta"]);
    assert_eq!(strings(&v["filtered_slice"]), ["delta", "beta notes"]);
    assert_eq!(v["count"], 5);
    assert_eq!(v["filtered_count"], 4);
}

#[test]
fn exchangelib_queries_and_pages_calendar_and_contacts() {
    let node = node("127.0.90.41");
    let v = query(&node, "groupware");
    eprintln!("{v}");
    assert_eq!(strings(&v["contains"]), ["Budget close", "Budget review"]);
    assert_eq!(strings(&v["after"]), ["Budget close", "Retro"]);
    assert_eq!(strings(&v["window"]), ["Budget review", "Lunch"]);
    assert_eq!(
        strings(&v["exclude"]),
        ["Budget close", "Budget review", "Retro", "Standup"]
    );
    assert_eq!(strings(&v["or"]), ["Lunch", "Retro"]);
    assert_eq!(
        strings(&v["by_start_desc"]),
        ["Retro", "Budget close", "Lunch", "Budget review", "Standup"]
    );
    assert_eq!(strings(&v["slice"]), ["Budget review", "Lunch"]);
    assert_eq!(v["count"], 2);
    assert_eq!(
        strings(&v["contacts_sorted"]),
        ["Adam Ant", "Mia Moe", "Zoe Zed"]
    );
    assert_eq!(strings(&v["contacts_filtered"]), ["Adam Ant", "Mia Moe"]);
    assert_eq!(strings(&v["sync_first"]), ["create"; 5]);
    assert_eq!(strings(&v["sync_next"]), ["delete", "update"]);
    assert!(v["sync_quiet"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn exchangelib_keeps_user_configurations_and_finds_people() {
    let node = node("127.0.90.42");
    let v = query(&node, "startup");
    eprintln!("{v}");
    assert_eq!(v["missing"], "ErrorItemNotFound");
    assert!(
        v["xml"].as_str().unwrap().contains("category name=\"Red\""),
        "{v}"
    );
    assert_eq!(
        v["dictionary"],
        serde_json::json!([["Owner", "me"], ["Version", "2"]])
    );
    assert_eq!(v["xml_after_update"], "<categories/>");
    assert_eq!(strings(&v["dictionary_kept"]), ["Owner", "Version"]);
    assert_eq!(v["after_delete"], "ErrorItemNotFound");
    assert_eq!(strings(&v["people"]), ["Grace Hopper"]);
    assert_eq!(v["expand"], "ErrorNameResolutionNoResults");
}

#[test]
fn exchangelib_manages_folders_copies_moves_and_empties() {
    let node = node("127.0.90.3");
    for s in ["keep", "copy-and-move"] {
        deliver(&node, s, "Mon, 1 Jan 2024 09:00:00 +0000");
    }
    let v = exchangelib(&node, &["folders"]);
    assert_eq!(strings(&v["hierarchy_first"]), ["create"], "{v}");
    assert_eq!(
        v["hierarchy_after_create"],
        serde_json::json!([["create", "Projects"]])
    );
    assert_eq!(strings(&v["children"]), ["Projects 2024"]);
    assert_eq!(strings(&v["in_sub"]), ["copy-and-move"]);
    assert_eq!(strings(&v["in_junk"]), ["copy-and-move"]);
    assert_eq!(v["inbox_count"], 1);
    assert_eq!(v["junk_after_empty"], 0);
    let after = strings(&v["hierarchy_after_delete"]);
    assert!(after.contains(&"delete".to_string()), "{after:?}");
}

#[test]
fn a_user_homed_on_another_node_works_through_any_node() {
    let a_ip = "127.0.90.4";
    let b_ip = "127.0.90.5";
    let data_a = tempfile::tempdir().unwrap();
    let data_b = tempfile::tempdir().unwrap();
    let db = data_b.path().join("directory.sqlite3");
    let mut b = node_at(b_ip, data_b.path(), &db, &format!("{b_ip} {a_ip}"));
    b.start_all(&Service::STORE);
    b.create_domain(DOMAIN);
    b.create_user(USER, PASSWORD, None);
    b.start(Service::Delivery);
    deliver(&b, "older", "Mon, 1 Jan 2024 09:00:00 +0000");
    deliver(&b, "newest", "Mon, 1 Jan 2024 10:00:00 +0000");
    // Node A holds no stores: its exmdb route for B's data dir is B.
    let mut a = node_at(a_ip, data_a.path(), &db, a_ip);
    a.config.write(
        "exmdb_list.txt",
        &format!(
            "{}/ private {b_ip} {}\n",
            data_b.path().display(),
            b.ports.exmdb
        ),
    );
    a.start(Service::Http);
    let v = exchangelib(&a, &["read"]);
    assert_eq!(strings(&v["subjects"]), ["newest", "older"], "{v}");
    assert_eq!(strings(&v["trash"]), ["newest"]);
    assert_eq!(
        strings(&v["inbox_final"]),
        ["older", "uploaded by exchangelib"]
    );
    // What A wrote is in B's store: B's own EWS sees it.
    b.start(Service::Http);
    let seen = exchangelib(&b, &["sync", ""]);
    assert_eq!(strings(&seen["changes"]), ["create", "create"]);
}

/// curl against the node's HTTPS port: (status, body).
fn curl(node: &Node, args: &[&str]) -> (u16, String) {
    let url = format!("https://{}:{}/EWS/Exchange.asmx", node.ip, node.ports.https);
    let out = Command::new("curl")
        // HTTP/1.1: over HTTP/2 a 413 resets the upload's stream, which curl
        // sometimes reports as a stream error instead of the status.
        .args([
            "-sS",
            "-k",
            "--http1.1",
            "--max-time",
            "30",
            "-w",
            "\n%{http_code}",
        ])
        .args(args)
        .arg(&url)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// A SOAP envelope around one EWS operation, for schema `version`.
fn soap_envelope(version: &str, op: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" \
         xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><s:Header>\
         <t:RequestServerVersion Version=\"{version}\"/></s:Header><s:Body>{op}</s:Body></s:Envelope>"
    )
}

/// POSTs `body` to the node's EWS endpoint as the demo user: (status, body).
fn post_as_demo(node: &Node, body: &str) -> (u16, String) {
    let auth = format!("{USER}:{PASSWORD}");
    curl(
        node,
        &[
            "-u",
            &auth,
            "-H",
            "Content-Type: text/xml; charset=utf-8",
            "--data-binary",
            body,
        ],
    )
}

#[test]
fn bad_requests_get_soap_answers_with_the_right_status() {
    let mut n = Node::standalone("127.0.90.6");
    n.set("http.cfg", "http_rqbody_max_size", "64K");
    n.start_all(&Service::STORE);
    n.create_domain(DOMAIN);
    n.create_user(USER, PASSWORD, None);
    n.start(Service::Http);
    let post = |body: &str| post_as_demo(&n, body);
    let envelope = |op: &str| soap_envelope("Exchange2013", op);
    // An operation this server does not know: an EWS error, HTTP 200.
    let (code, body) = post(&envelope("<m:GetPasswordExpirationDate/>"));
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("ErrorInvalidRequest"), "{body}");
    assert!(body.contains("ServerVersionInfo"), "{body}");
    // One it knows but does not do yet: the same, with ErrorInvalidOperation.
    let (code, body) = post(&envelope("<m:GetUserAvailabilityRequest/>"));
    assert_eq!(code, 200);
    assert!(body.contains("ErrorInvalidOperation"), "{body}");
    // Broken XML: a SOAP fault, HTTP 500 as SOAP 1.1 says.
    let (code, body) = post("<s:Envelope xmlns:s=\"x\"><unclosed>");
    assert_eq!(code, 500);
    assert!(body.contains("ErrorSchemaValidation"), "{body}");
    // Impersonation is refused as a fault naming why.
    let (code, body) = post(&envelope("<m:GetFolder/>").replace(
        "</s:Header>",
        "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>x@example.test\
         </t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>",
    ));
    assert_eq!(code, 500);
    assert!(body.contains("ErrorImpersonateUserDenied"), "{body}");
    // Without credentials: 401 with a Basic challenge; a wrong password likewise.
    let (code, _) = curl(&n, &["--data-binary", &envelope("<m:GetFolder/>")]);
    assert_eq!(code, 401);
    let (code, _) = curl(
        &n,
        &[
            "-u",
            &format!("{USER}:wrong"),
            "--data-binary",
            &envelope("<m:GetFolder/>"),
        ],
    );
    assert_eq!(code, 401);
    // GET is not how EWS is spoken; a body over the server's limit is 413.
    let (code, _) = curl(&n, &["-u", &format!("{USER}:{PASSWORD}")]);
    assert_eq!(code, 405);
    let big = envelope(&format!(
        "<m:GetFolder>{}</m:GetFolder>",
        " ".repeat(100 * 1024)
    ));
    let (code, _) = post(&big);
    assert_eq!(code, 413);
    // The daemon is still there and answers.
    let (code, body) = post(&envelope(
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>\
         <m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>",
    ));
    assert_eq!(code, 200);
    assert!(body.contains("NoError"), "{body}");
}

/// exchangelib over the calendar, contacts and tasks folders, and python
/// caldav over the same calendar; each step prints one JSON object.
const GROUPWARE_PY: &str = r#"
import json, sys, datetime, warnings
from decimal import Decimal
warnings.simplefilter("ignore")
url, user, pw, step = sys.argv[1:5]
out = {}
def iso(t):
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t.timestamp(), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M")
if step == "imap":
    import ssl
    from imapclient import IMAPClient
    host, port = url.split(":")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with IMAPClient(host, port=int(port), ssl=False) as c:
        c.starttls(ctx)
        c.login(user, pw)
        c.select_folder("INBOX", readonly=True)
        got = c.fetch(c.search(["ALL"]), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        out["inbox"] = sorted(v[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip()[len("Subject: "):] for v in got.values())
    print(json.dumps(out))
    sys.exit(0)
if step.startswith("caldav"):
    import caldav
    client = caldav.DAVClient(url=url, username=user, password=pw, ssl_verify_cert=False)
    cals = client.principal().calendars()
    cal = [c for c in cals if str(c.url).rstrip("/").endswith("/calendar")][0]
    if step == "caldav-read":
        ev = cal.event_by_uid(sys.argv[5]).icalendar_component
        out["summary"] = str(ev["SUMMARY"])
        out["location"] = str(ev.get("LOCATION", ""))
        out["rrule"] = ev["RRULE"].to_ical().decode() if "RRULE" in ev else None
        out["start"] = iso(ev["DTSTART"].dt)
        out["all"] = sorted(str(e.icalendar_component["SUMMARY"]) for e in cal.events())
    else:
        cal.save_event("\r\n".join([
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//groxide test//EN",
            "BEGIN:VEVENT", "UID:dav-series", "DTSTAMP:20300101T000000Z",
            "DTSTART:20300304T140000Z", "DTEND:20300304T150000Z", "SUMMARY:Daily from DAV",
            "RRULE:FREQ=DAILY;COUNT=5", "EXDATE:20300306T140000Z", "END:VEVENT",
            "BEGIN:VEVENT", "UID:dav-series", "DTSTAMP:20300101T000000Z",
            "RECURRENCE-ID:20300307T140000Z", "DTSTART:20300307T160000Z", "DTEND:20300307T170000Z",
            "SUMMARY:Daily from DAV (moved)", "END:VEVENT", "END:VCALENDAR", ""]))
    print(json.dumps(out))
    sys.exit(0)
from exchangelib import (Account, Configuration, Credentials, DELEGATE, CalendarItem, Contact,
                         Task, Attendee, Mailbox, EWSDateTime, EWSDate, EWSTimeZone)
from exchangelib.recurrence import Recurrence, WeeklyPattern
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.transport import BASIC
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
config = Configuration(service_endpoint=url, credentials=Credentials(user, pw), auth_type=BASIC)
acc = Account(user, config=config, autodiscover=False, access_type=DELEGATE)
utc = EWSTimeZone("UTC")
def view(a, b):
    return [(i.subject, iso(i.start), i.type) for i in
            acc.calendar.view(start=EWSDateTime(2030, 3, a, tzinfo=utc), end=EWSDateTime(2030, 3, b, tzinfo=utc))]
if step == "calendar":
    start = EWSDateTime(2030, 3, 4, 9, 0, tzinfo=utc)
    review = CalendarItem(account=acc, folder=acc.calendar, subject="Review", start=start,
                          end=start + datetime.timedelta(hours=1), location="Room 1", body="agenda",
                          legacy_free_busy_status="OOF", reminder_is_set=True,
                          reminder_minutes_before_start=30,
                          required_attendees=[Attendee(mailbox=Mailbox(email_address="bob@example.test"), response_type="Unknown")])
    review.save(send_meeting_invitations="SendToNone")
    got = acc.calendar.get(id=review.id)
    out["review"] = {"subject": got.subject, "location": got.location, "start": iso(got.start),
                     "end": iso(got.end), "busy": got.legacy_free_busy_status, "body": str(got.body),
                     "reminder": [got.reminder_is_set, got.reminder_minutes_before_start],
                     "attendees": [a.mailbox.email_address for a in got.required_attendees or []],
                     "organizer": got.organizer.email_address if got.organizer else None,
                     "uid": got.uid, "all_day": got.is_all_day}
    s = EWSDateTime(2030, 3, 4, 8, 0, tzinfo=utc)
    standup = CalendarItem(account=acc, folder=acc.calendar, subject="Standup", start=s,
                           end=s + datetime.timedelta(minutes=30),
                           recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[1, 3]),
                                                 start=EWSDate(2030, 3, 4), number=4))
    standup.save(send_meeting_invitations="SendToNone")
    series = acc.calendar.get(id=standup.id)
    out["standup_uid"] = series.uid
    out["standup_type"] = series.type
    out["standup_recurrence"] = str(series.recurrence)
    out["view"] = view(1, 15)
    fb = list(acc.protocol.get_free_busy_info(
        accounts=[(acc, "Required", False)], start=EWSDateTime(2030, 3, 4, tzinfo=utc),
        end=EWSDateTime(2030, 3, 5, tzinfo=utc), merged_free_busy_interval=60,
        requested_view="DetailedMerged"))
    out["freebusy"] = [(iso(e.start if e.start.tzinfo else e.start.replace(tzinfo=utc)), e.busy_type)
                       for e in fb[0].calendar_events or []]
    out["merged"] = fb[0].merged
    out["resolved"] = [m.email_address for m in acc.protocol.resolve_names(["demo"])]
    review.subject = "Review (moved)"
    review.location = None
    review.start = start + datetime.timedelta(days=1)
    review.end = start + datetime.timedelta(days=1, hours=1)
    review.save(update_fields=["subject", "location", "start", "end"])
    again = acc.calendar.get(id=review.id)
    out["updated"] = [again.subject, again.location, iso(again.start)]
    out["sync_first"] = sorted(t for t, i in acc.calendar.sync_items())
    state = acc.calendar.item_sync_state
    review.delete()
    acc.calendar.item_sync_state = state
    out["sync_after_delete"] = sorted(t for t, i in acc.calendar.sync_items())
    out["after_delete"] = sorted(i.subject for i in acc.calendar.all())
elif step == "send":
    from exchangelib import Message
    m = Message(account=acc, folder=acc.sent, subject="hello self", body="sent by exchangelib",
                to_recipients=[Mailbox(email_address=user)])
    m.send_and_save()
    d = Message(account=acc, folder=acc.drafts, subject="draft then send", body="drafted",
                to_recipients=[Mailbox(email_address=user)])
    d.save()
    out["drafts_before"] = acc.drafts.all().count()
    d.send()
    Message(account=acc, subject="send only", body="no copy",
            to_recipients=[Mailbox(email_address=user)]).send(save_copy=False)
    out["sent"] = sorted(x.subject for x in acc.sent.all())
    out["drafts_after"] = acc.drafts.all().count()
elif step == "attach":
    from exchangelib import Message, FileAttachment
    import hashlib
    m = Message(account=acc, folder=acc.drafts, subject="with files", body="see attached")
    m.save()
    big = bytes((i * 7) % 256 for i in range(int(sys.argv[5])))
    m.attach(FileAttachment(name="big.bin", content=big, content_type="application/octet-stream"))
    # The store keeps a message as its bytes: a changed message gets a new
    # id (CreateAttachment answers it as RootItemId; exchangelib keeps the
    # old one), so the draft is looked up again.
    m = acc.drafts.get(subject="with files")
    m.attach(FileAttachment(name="note.txt", content=b"hello", content_type="text/plain"))
    got = acc.drafts.get(subject="with files")
    out["names"] = [a.name for a in got.attachments]
    out["sizes"] = [a.size for a in got.attachments]
    fetched = [a for a in got.attachments if a.name == "big.bin"][0].content
    out["big_ok"] = hashlib.sha256(fetched).hexdigest() == hashlib.sha256(big).hexdigest()
    got.detach([a for a in got.attachments if a.name == "big.bin"][0])
    again = acc.drafts.get(subject="with files")
    out["after_detach"] = [a.name for a in again.attachments]
    out["note"] = again.attachments[0].content.decode()
    out["subject"] = again.subject
    out["drafts"] = acc.drafts.all().count()
elif step == "view":
    out["view"] = view(1, 15)
elif step == "contacts":
    c = Contact(account=acc, folder=acc.contacts, given_name="Ada", surname="Lovelace",
                display_name="Ada Lovelace",
                company_name="Analytical Engines", job_title="Analyst",
                email_addresses=[EmailAddress(label="EmailAddress1", email="ada@example.test")],
                phone_numbers=[PhoneNumber(label="MobilePhone", phone_number="+44 20 7946 0000")],
                physical_addresses=[PhysicalAddress(label="Business", street="1 Engine Street",
                                                    city="London", zipcode="N1 9GU", country="UK")])
    c.save()
    got = acc.contacts.get(id=c.id)
    out["contact"] = {"given": got.given_name, "surname": got.surname, "company": got.company_name,
                      "title": got.job_title,
                      "emails": [e.email for e in got.email_addresses or []],
                      "phones": [(p.label, p.phone_number) for p in got.phone_numbers or []],
                      "city": [a.city for a in got.physical_addresses or []],
                      "street": [a.street for a in got.physical_addresses or []]}
    got.company_name = "Babbage & Co"
    got.save(update_fields=["company_name"])
    out["company_after"] = acc.contacts.get(id=c.id).company_name
    out["listed"] = sorted(x.surname for x in acc.contacts.all())
    got.delete()
    out["after_delete"] = acc.contacts.all().count()
elif step == "tasks":
    t = Task(account=acc, folder=acc.tasks, subject="Write report",
             due_date=EWSDate(2030, 4, 1), status="InProgress", percent_complete=Decimal(40))
    t.save()
    got = acc.tasks.get(id=t.id)
    out["task"] = [got.subject, str(got.due_date), got.status, float(got.percent_complete)]
    got.status = "Completed"
    got.percent_complete = Decimal(100)
    got.save(update_fields=["status", "percent_complete"])
    done = acc.tasks.get(id=t.id)
    out["done"] = [done.status, float(done.percent_complete)]
    done.delete()
    out["after_delete"] = acc.tasks.all().count()
print(json.dumps(out, default=str))
"#;

fn groupware(node: &Node, path: &str, args: &[&str]) -> serde_json::Value {
    let url = format!("https://{}:{}{path}", node.ip, node.ports.https);
    let out = Command::new("python3")
        .args(["-c", GROUPWARE_PY, &url, USER, PASSWORD])
        .args(args)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn exchangelib_calendar_crud_views_series_and_caldav_sees_the_same_items() {
    let node = node("127.0.90.10");
    let ews = "/EWS/Exchange.asmx";
    let v = groupware(&node, ews, &["calendar"]);
    eprintln!("exchangelib saw: {v}");
    let r = &v["review"];
    assert_eq!(r["subject"], "Review");
    assert_eq!(r["location"], "Room 1");
    assert_eq!(r["start"], "2030-03-04T09:00");
    assert_eq!(r["end"], "2030-03-04T10:00");
    assert_eq!(r["busy"], "OOF");
    assert_eq!(r["body"], "agenda");
    assert_eq!(r["reminder"], serde_json::json!([true, 30]));
    assert_eq!(r["attendees"], serde_json::json!(["bob@example.test"]));
    assert_eq!(r["organizer"], USER);
    assert_eq!(r["all_day"], false);
    assert_eq!(v["standup_type"], "RecurringMaster");
    let recurrence = v["standup_recurrence"].as_str().unwrap();
    assert!(
        recurrence.contains("Monday") && recurrence.contains("Wednesday"),
        "{recurrence}"
    );
    assert_eq!(
        v["view"],
        serde_json::json!([
            ["Standup", "2030-03-04T08:00", "Occurrence"],
            ["Review", "2030-03-04T09:00", "Single"],
            ["Standup", "2030-03-06T08:00", "Occurrence"],
            ["Standup", "2030-03-11T08:00", "Occurrence"],
            ["Standup", "2030-03-13T08:00", "Occurrence"]
        ])
    );
    assert_eq!(
        v["freebusy"],
        serde_json::json!([["2030-03-04T08:00", "Busy"], ["2030-03-04T09:00", "OOF"]])
    );
    assert_eq!(v["merged"], "000000002300000000000000");
    assert_eq!(v["resolved"], serde_json::json!([USER]));
    assert_eq!(
        v["updated"],
        serde_json::json!(["Review (moved)", null, "2030-03-05T09:00"])
    );
    assert_eq!(strings(&v["sync_first"]), ["create", "create"]);
    assert_eq!(strings(&v["sync_after_delete"]), ["delete"]);
    assert_eq!(strings(&v["after_delete"]), ["Standup"]);

    // CalDAV sees the series exchangelib made: same UID, same rule.
    let uid = v["standup_uid"].as_str().unwrap();
    let dav = groupware(&node, "/dav/", &["caldav-read", uid]);
    assert_eq!(dav["summary"], "Standup");
    assert_eq!(dav["start"], "2030-03-04T08:00");
    let rrule = dav["rrule"].as_str().unwrap();
    assert!(
        rrule.contains("FREQ=WEEKLY") && rrule.contains("COUNT=4") && rrule.contains("MO,WE"),
        "{rrule}"
    );
    assert_eq!(strings(&dav["all"]), ["Standup"]);

    // A series with a deleted and a moved instance, made over CalDAV, is
    // expanded by exchangelib's view with both exceptions honoured.
    groupware(&node, "/dav/", &["caldav-write"]);
    let after = groupware(&node, ews, &["view"]);
    let daily: Vec<_> = after["view"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x[0].as_str().unwrap().starts_with("Daily"))
        .map(|x| {
            (
                x[1].as_str().unwrap().to_string(),
                x[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let at = |t: &str, k: &str| (t.to_string(), k.to_string());
    assert_eq!(
        daily,
        [
            at("2030-03-04T14:00", "Occurrence"),
            at("2030-03-05T14:00", "Occurrence"),
            at("2030-03-07T16:00", "Exception"),
            at("2030-03-08T14:00", "Occurrence"),
        ],
        "{after}"
    );
}

#[test]
fn exchangelib_contacts_and_tasks_crud() {
    let node = node("127.0.90.11");
    let ews = "/EWS/Exchange.asmx";
    let c = groupware(&node, ews, &["contacts"]);
    eprintln!("contacts: {c}");
    let got = &c["contact"];
    assert_eq!(got["given"], "Ada");
    assert_eq!(got["surname"], "Lovelace");
    assert_eq!(got["company"], "Analytical Engines");
    assert_eq!(got["title"], "Analyst");
    assert_eq!(got["emails"], serde_json::json!(["ada@example.test"]));
    assert_eq!(
        got["phones"],
        serde_json::json!([["MobilePhone", "+44 20 7946 0000"]])
    );
    assert_eq!(got["city"], serde_json::json!(["London"]));
    assert_eq!(got["street"], serde_json::json!(["1 Engine Street"]));
    assert_eq!(c["company_after"], "Babbage & Co");
    assert_eq!(strings(&c["listed"]), ["Lovelace"]);
    assert_eq!(c["after_delete"], 0);

    let t = groupware(&node, ews, &["tasks"]);
    eprintln!("tasks: {t}");
    assert_eq!(
        t["task"],
        serde_json::json!(["Write report", "2030-04-01", "InProgress", 40.0])
    );
    assert_eq!(t["done"], serde_json::json!(["Completed", 100.0]));
    assert_eq!(t["after_delete"], 0);
}

#[test]
fn exchangelib_sends_to_self_and_imap_sees_the_delivery() {
    let mut node = node("127.0.90.12");
    // The relay is this node's own LMTP (groxide-delivery).
    node.set(
        "http.cfg",
        "outgoing_smtp_url",
        &format!("lmtp://{}:{}", node.ip, node.ports.lmtp),
    );
    node.restart(Service::Http);
    node.start(Service::Imap);
    let v = groupware(&node, "/EWS/Exchange.asmx", &["send"]);
    eprintln!("send: {v}");
    assert_eq!(v["drafts_before"], 1);
    assert_eq!(v["drafts_after"], 0);
    assert_eq!(strings(&v["sent"]), ["draft then send", "hello self"]);
    let imap = Command::new("python3")
        .args([
            "-c",
            GROUPWARE_PY,
            &format!("{}:{}", node.ip, node.ports.imap),
            USER,
            PASSWORD,
            "imap",
        ])
        .output()
        .expect("python3");
    assert!(
        imap.status.success(),
        "{}{}",
        String::from_utf8_lossy(&imap.stdout),
        String::from_utf8_lossy(&imap.stderr)
    );
    let seen: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&imap.stdout).trim()).unwrap();
    assert_eq!(
        strings(&seen["inbox"]),
        ["draft then send", "hello self", "send only"]
    );
}

#[test]
fn exchangelib_attaches_fetches_and_detaches_files_of_a_draft() {
    let node = node("127.0.90.13");
    // 3 MB: 20 MB passes too, but takes minutes in a debug build (exchangelib
    // fetches every message's MimeContent along with GetItem).
    let size = (3 * 1024 * 1024).to_string();
    let v = groupware(&node, "/EWS/Exchange.asmx", &["attach", &size]);
    eprintln!(
        "attach: {}",
        serde_json::json!({"names": v["names"], "after": v["after_detach"]})
    );
    assert_eq!(strings(&v["names"]), ["big.bin", "note.txt"]);
    assert_eq!(v["sizes"][0], 3 * 1024 * 1024);
    assert_eq!(v["big_ok"], true);
    assert_eq!(strings(&v["after_detach"]), ["note.txt"]);
    assert_eq!(v["note"], "hello");
    assert_eq!(v["subject"], "with files");
    assert_eq!(v["drafts"], 1);
}

/// exchangelib's subscriptions: a streaming subscription on the inbox
/// while a message comes in by LMTP (delivered from the same script, so
/// the time from the LMTP answer to the event is measured on one clock),
/// then a pull subscription through a delivery, a move to the trash and
/// Unsubscribe.
const NOTIFY_PY: &str = r#"
import json, smtplib, sys, threading, time
from exchangelib import Account, Configuration, Credentials, DELEGATE
from exchangelib.errors import EWSError
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.transport import BASIC
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
url, user, pw, lmtp_host, lmtp_port = sys.argv[1:6]
config = Configuration(service_endpoint=url, credentials=Credentials(user, pw), auth_type=BASIC)
acc = Account(user, config=config, autodiscover=False, access_type=DELEGATE)
out = {}

def deliver(subject):
    msg = (f"From: Sender <sender@remote.test>\r\nTo: {user}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject.replace(' ', '.')}@remote.test>\r\n\r\nHello.\r\n")
    with smtplib.LMTP(lmtp_host, int(lmtp_port)) as s:
        s.sendmail("sender@remote.test", [user], msg.encode())
    return time.monotonic()

sub = acc.inbox.subscribe_to_streaming()
seen = {}
def listen():
    for n in acc.inbox.get_streaming_events(sub, connection_timeout=1):
        for e in n.events:
            name = type(e).__name__
            seen.setdefault("types", []).append(name)
            if name == "NewMailEvent" and "at" not in seen:
                seen["at"] = time.monotonic()
                seen["item"] = e.item_id.id
                seen["parent_is_inbox"] = e.parent_folder_id.id == acc.inbox.id
        if "at" in seen:
            return
reader = threading.Thread(target=listen, daemon=True)
reader.start()
delivered = deliver("streamed news")
reader.join(timeout=30)
out["stream_types"] = sorted(set(seen.get("types", [])))
out["latency"] = seen["at"] - delivered if "at" in seen else None
out["stream_subject"] = acc.inbox.get(id=seen["item"]).subject if "item" in seen else None
out["parent_is_inbox"] = seen.get("parent_is_inbox")
acc.inbox.unsubscribe(sub)

sub, mark = acc.inbox.subscribe_to_pull(timeout=5)
def pull():
    global mark
    events = []
    for n in acc.inbox.get_events(sub, mark):
        mark = n.events[-1].watermark if n.events else mark
        events.extend(n.events)
    return events
out["pull_quiet"] = sorted({type(e).__name__ for e in pull()})
deliver("pulled news")
events = pull()
out["pull_after_delivery"] = sorted({type(e).__name__ for e in events})
new = [e for e in events if type(e).__name__ == "NewMailEvent"]
item = acc.inbox.get(id=new[0].item_id.id)
out["pull_subject"] = item.subject
item.move_to_trash()
moved = [e for e in pull() if type(e).__name__ == "MovedEvent"]
out["moved"] = [(e.old_parent_folder_id.id == acc.inbox.id, e.parent_folder_id.id == acc.trash.id) for e in moved]
acc.inbox.unsubscribe(sub)
try:
    list(acc.inbox.get_events(sub, mark))
    out["after_unsubscribe"] = "answered"
except EWSError as e:
    out["after_unsubscribe"] = type(e).__name__
print(json.dumps(out))
"#;

#[test]
fn exchangelib_streaming_and_pull_subscriptions_see_lmtp_deliveries() {
    let node = node("127.0.90.41");
    let url = format!("https://{}:{}/EWS/Exchange.asmx", node.ip, node.ports.https);
    let out = Command::new("python3")
        .args(["-c", NOTIFY_PY, &url, USER, PASSWORD])
        .args([node.ip.to_string(), node.ports.lmtp.to_string()])
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
    eprintln!("notifications: {v}");
    let latency = v["latency"]
        .as_f64()
        .unwrap_or_else(|| panic!("no NewMail event streamed: {v}\n{}", node.logs()));
    // Measured from the LMTP answer; hints make it milliseconds, the bound is generous.
    assert!(latency < 1.0, "NewMail took {latency:.3} s");
    assert_eq!(v["stream_subject"], "streamed news");
    assert_eq!(v["parent_is_inbox"], true);
    assert!(strings(&v["stream_types"]).contains(&"CreatedEvent".to_string()));
    assert_eq!(strings(&v["pull_quiet"]), ["StatusEvent"]);
    assert_eq!(
        strings(&v["pull_after_delivery"]),
        ["CreatedEvent", "ModifiedEvent", "NewMailEvent"]
    );
    assert_eq!(v["pull_subject"], "pulled news");
    assert_eq!(v["moved"], serde_json::json!([[true, true]]));
    assert_eq!(v["after_unsubscribe"], "ErrorSubscriptionNotFound");
}

/// One message an [`SmtpSink`] took: MAIL FROM, RCPT TOs and the data.
#[derive(Debug, Clone)]
struct Sunk {
    from: String,
    to: Vec<String>,
    data: String,
}

/// The address of a MAIL FROM or RCPT TO argument (`<a@b> SIZE=1` → `a@b`).
fn address(arg: &str) -> String {
    let arg = arg.trim();
    let inner = arg.strip_prefix('<').unwrap_or(arg);
    inner.split('>').next().unwrap_or("").trim().to_lowercase()
}

/// A minimal SMTP server on a free port that keeps what it is sent.
struct SmtpSink {
    port: u16,
    got: std::sync::Arc<std::sync::Mutex<Vec<Sunk>>>,
}

impl SmtpSink {
    fn start(ip: &str) -> SmtpSink {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut w = conn.try_clone().unwrap();
                    let mut r = BufReader::new(conn);
                    let _ = w.write_all(b"220 sink ESMTP\r\n");
                    let mut m = Sunk {
                        from: String::new(),
                        to: Vec::new(),
                        data: String::new(),
                    };
                    let mut line = String::new();
                    while r.read_line(&mut line).unwrap_or(0) > 0 {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250 sink\r\n"
                        } else if let Some(rest) = upper.strip_prefix("MAIL FROM:") {
                            m.from = address(rest);
                            b"250 ok\r\n"
                        } else if let Some(rest) = upper.strip_prefix("RCPT TO:") {
                            m.to.push(address(rest));
                            b"250 ok\r\n"
                        } else if upper.starts_with("DATA") {
                            let _ = w.write_all(b"354 go on\r\n");
                            let mut data = String::new();
                            let mut l = String::new();
                            while r.read_line(&mut l).unwrap_or(0) > 0 && l != ".\r\n" {
                                data.push_str(&l);
                                l.clear();
                            }
                            m.data = data;
                            store.lock().unwrap().push(m.clone());
                            m.to.clear();
                            b"250 queued\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = w.write_all(b"221 bye\r\n");
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        let _ = w.write_all(reply);
                        line.clear();
                    }
                });
            }
        });
        SmtpSink { port, got }
    }

    fn messages(&self) -> Vec<Sunk> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (at most `limit`) until `done` holds for what was sent.
    fn wait_for(&self, limit: std::time::Duration, done: impl Fn(&[Sunk]) -> bool) -> Vec<Sunk> {
        let start = std::time::Instant::now();
        loop {
            let got = self.messages();
            if done(&got) || start.elapsed() > limit {
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// exchangelib sets and reads the automatic replies.
const OOF_PY: &str = r#"
import json, sys
from exchangelib import Account, Configuration, Credentials, DELEGATE, OofSettings
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.transport import BASIC
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
url, user, pw, step = sys.argv[1:5]
config = Configuration(service_endpoint=url, credentials=Credentials(user, pw), auth_type=BASIC)
acc = Account(user, config=config, autodiscover=False, access_type=DELEGATE)
out = {"before": acc.oof_settings.state}
if step == "on":
    acc.oof_settings = OofSettings(state=OofSettings.ENABLED, external_audience="All",
                                   internal_reply="In a meeting", external_reply="Away until Monday")
else:
    acc.oof_settings = OofSettings(state=OofSettings.DISABLED, internal_reply="", external_reply="")
s = acc.oof_settings
out["after"] = [s.state, s.external_audience, s.internal_reply, s.external_reply]
print(json.dumps(out))
"#;

#[test]
fn out_of_office_set_by_exchangelib_answers_each_sender_once_and_never_lists() {
    let mut node = node("127.0.90.42");
    let sink = SmtpSink::start("127.0.90.42");
    node.set(
        "delivery.cfg",
        "outgoing_smtp_url",
        &format!("smtp://127.0.90.42:{}", sink.port),
    );
    node.restart(Service::Delivery);
    let url = format!("https://{}:{}/EWS/Exchange.asmx", node.ip, node.ports.https);
    let oof = |step: &str| {
        let out = Command::new("python3")
            .args(["-c", OOF_PY, &url, USER, PASSWORD, step])
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "exchangelib failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            node.logs()
        );
        serde_json::from_str::<serde_json::Value>(String::from_utf8_lossy(&out.stdout).trim())
            .unwrap()
    };
    let v = oof("on");
    assert_eq!(v["before"], "Disabled");
    assert_eq!(
        v["after"],
        serde_json::json!(["Enabled", "All", "In a meeting", "Away until Monday"])
    );

    let send = |from: &str, subject: &str, extra: &str| {
        let msg = format!(
            "From: {from}\r\nTo: {USER}\r\nSubject: {subject}\r\nMessage-ID: <{}@remote.test>\r\n{extra}\r\nHello.\r\n",
            subject.replace(' ', ".")
        );
        let replies = node.deliver(from, &[USER], msg.as_bytes()).unwrap();
        assert_eq!(replies[0].code, 250, "{replies:?}");
    };
    send("alice@remote.test", "first question", "");
    let got = sink.wait_for(std::time::Duration::from_secs(10), |m| !m.is_empty());
    assert_eq!(
        got.len(),
        1,
        "one reply to the first message: {got:?}\n{}",
        node.logs()
    );
    let reply = &got[0];
    assert_eq!(reply.from, "", "automatic replies go from the null sender");
    assert_eq!(reply.to, ["alice@remote.test"]);
    assert!(
        reply.data.contains("Auto-Submitted: auto-replied\r\n"),
        "{}",
        reply.data
    );
    assert!(
        reply
            .data
            .contains("Subject: Automatic reply: first question\r\n")
    );
    assert!(
        reply
            .data
            .contains("In-Reply-To: <first.question@remote.test>\r\n")
    );
    assert!(reply.data.contains(&format!("From: {USER}\r\n")));

    send("alice@remote.test", "second question", "");
    send(
        "list@remote.test",
        "list post",
        "List-Id: <dev.remote.test>\r\n",
    );
    send("news@remote.test", "bulk news", "Precedence: bulk\r\n");
    send(
        "robot@remote.test",
        "robot",
        "Auto-Submitted: auto-generated\r\n",
    );
    send("", "bounce", "");
    // A fresh sender after them: once its reply is in, the others were decided.
    send("erin@remote.test", "erin asks", "");
    let got = sink.wait_for(std::time::Duration::from_secs(10), |m| {
        m.iter().any(|s| s.to == ["erin@remote.test"])
    });
    let later = sink.wait_for(std::time::Duration::from_millis(500), |m| {
        m.len() > got.len()
    });
    let to: Vec<&str> = later.iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(
        to,
        ["alice@remote.test", "erin@remote.test"],
        "{}",
        node.logs()
    );

    let v = oof("off");
    assert_eq!(v["after"][0], "Disabled");
    send("frank@remote.test", "after the holiday", "");
    let after = sink.wait_for(std::time::Duration::from_millis(1500), |m| m.len() > 2);
    assert_eq!(after.len(), 2, "no replies once off: {after:?}");
}

/// exchangelib as organizer and as attendee of meetings (the relay is an
/// [`SmtpSink`]); each step prints one JSON object.
const MEETING_PY: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
url, user, pw, step = sys.argv[1:5]
out = {}
if step == "caldav":
    import caldav
    client = caldav.DAVClient(url=url, username=user, password=pw, ssl_verify_cert=False)
    cal = [c for c in client.principal().calendars() if str(c.url).rstrip("/").endswith("/calendar")][0]
    out["events"] = []
    for e in cal.events():
        ev = e.icalendar_component
        atts = ev.get("ATTENDEE", [])
        if not isinstance(atts, list):
            atts = [atts]
        mine = [a.params.get("PARTSTAT") for a in atts if str(a).lower() == "mailto:" + user]
        out["events"].append([str(ev["UID"]), str(ev["SUMMARY"]), mine])
    print(json.dumps(out))
    sys.exit(0)
from exchangelib import (Account, Configuration, Credentials, DELEGATE, CalendarItem, Attendee, Mailbox,
                         EWSDateTime, EWSTimeZone)
from exchangelib.items import AcceptItem, DeclineItem, SEND_TO_ALL_AND_SAVE_COPY, SEND_ONLY_TO_ALL
from exchangelib.properties import ReferenceItemId
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.transport import BASIC
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
config = Configuration(service_endpoint=url, credentials=Credentials(user, pw), auth_type=BASIC)
acc = Account(user, config=config, autodiscover=False, access_type=DELEGATE)
utc = EWSTimeZone("UTC")
def calendar():
    return sorted([i.subject, i.my_response_type, i.legacy_free_busy_status] for i in acc.calendar.all())
def answer(cls, item):
    try:
        cls(account=acc, reference_item_id=ReferenceItemId(id=item.id, changekey=item.changekey)).send()
        return "ok"
    except Exception as e:
        return type(e).__name__
if step == "organize":
    item = CalendarItem(account=acc, folder=acc.calendar, subject="Planning",
                        start=EWSDateTime(2030, 5, 6, 10, 0, tzinfo=utc), end=EWSDateTime(2030, 5, 6, 11, 0, tzinfo=utc),
                        required_attendees=[Attendee(mailbox=Mailbox(email_address="bob@remote.test"), response_type="Unknown")])
    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    item = acc.calendar.get(id=item.id)
    out["attendees"] = [a.mailbox.email_address for a in item.required_attendees]
    item.location = "Room 2"
    item.save(update_fields=["location"], send_meeting_invitations=SEND_ONLY_TO_ALL)
    out["sent"] = sorted(m.subject for m in acc.sent.all())
    # A meeting the user organised cannot be answered by the user.
    out["accept_own"] = answer(AcceptItem, item)
    item.delete(send_meeting_cancellations=SEND_ONLY_TO_ALL)
    out["calendar"] = calendar()
elif step == "accept":
    req = acc.inbox.get(subject="Budget review")
    out["accept"] = answer(AcceptItem, req)
    out["calendar"] = calendar()
elif step == "decline":
    item = [i for i in acc.calendar.all() if i.subject == "Budget review"][0]
    item.decline()
    out["calendar"] = calendar()
elif step == "bad":
    plain = acc.inbox.get(subject="just mail")
    out["accept_mail"] = answer(AcceptItem, plain)
    out["decline_mail"] = answer(DeclineItem, plain)
    lone = CalendarItem(account=acc, folder=acc.calendar, subject="Alone",
                        start=EWSDateTime(2030, 5, 7, 10, 0, tzinfo=utc), end=EWSDateTime(2030, 5, 7, 11, 0, tzinfo=utc))
    lone.save()
    out["accept_lone"] = answer(AcceptItem, lone)
    out["calendar"] = calendar()
print(json.dumps(out))
"#;

fn meeting(node: &Node, path: &str, step: &str) -> serde_json::Value {
    let url = format!("https://{}:{}{path}", node.ip, node.ports.https);
    let out = Command::new("python3")
        .args(["-c", MEETING_PY, &url, USER, PASSWORD, step])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

/// The unfolded iCalendar lines of a sunk iMIP mail.
fn ical_lines(data: &str) -> Vec<String> {
    let body = data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let mut lines: Vec<String> = Vec::new();
    for l in body.split("\r\n") {
        if let Some(rest) = l.strip_prefix(' ') {
            if let Some(last) = lines.last_mut() {
                last.push_str(rest);
            }
        } else {
            lines.push(l.to_string());
        }
    }
    lines
}

/// A node whose http relays to a fresh sink.
fn meeting_node(ip: &str) -> (Node, SmtpSink) {
    let mut node = node(ip);
    let sink = SmtpSink::start(ip);
    node.set(
        "http.cfg",
        "outgoing_smtp_url",
        &format!("smtp://{ip}:{}", sink.port),
    );
    node.restart(Service::Http);
    (node, sink)
}

#[test]
fn exchangelib_organizes_a_meeting_and_the_attendee_gets_request_update_and_cancel() {
    let (node, sink) = meeting_node("127.0.90.50");
    let v = meeting(&node, "/EWS/Exchange.asmx", "organize");
    eprintln!("organize: {v}");
    assert_eq!(strings(&v["attendees"]), ["bob@remote.test"]);
    assert_eq!(v["accept_own"], "ErrorInvalidItemForOperationAcceptItem");
    // SendToAllAndSaveCopy kept the invitation in Sent Items.
    assert_eq!(strings(&v["sent"]), ["Planning"]);
    assert_eq!(v["calendar"], serde_json::json!([]));
    let got = sink.wait_for(std::time::Duration::from_secs(10), |m| m.len() >= 3);
    assert_eq!(got.len(), 3, "request, update, cancel: {got:?}");
    let methods: Vec<(String, String, Vec<String>)> = got
        .iter()
        .map(|m| {
            let lines = ical_lines(&m.data);
            let get = |name: &str| {
                lines
                    .iter()
                    .find(|l| l.starts_with(&format!("{name}:")))
                    .map(|l| l[name.len() + 1..].to_string())
                    .unwrap_or_default()
            };
            assert_eq!(m.from, USER);
            assert_eq!(m.to, ["bob@remote.test"]);
            assert!(
                m.data
                    .contains("Content-Type: text/calendar; charset=utf-8; method="),
                "{}",
                m.data
            );
            assert!(
                lines.iter().any(|l| l.starts_with("ATTENDEE")
                    && l.to_lowercase().ends_with(":mailto:bob@remote.test")),
                "{}",
                m.data
            );
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("ORGANIZER") && l.ends_with(&format!(":mailto:{USER}"))),
                "{}",
                m.data
            );
            (
                get("METHOD"),
                get("SEQUENCE"),
                vec![get("LOCATION"), get("STATUS")],
            )
        })
        .collect();
    assert_eq!(methods[0].0, "REQUEST");
    assert_eq!(methods[0].1, "0");
    assert_eq!(methods[1].0, "REQUEST");
    assert_eq!(methods[1].1, "1", "an update raises the SEQUENCE");
    assert_eq!(methods[1].2[0], "Room 2");
    assert_eq!(methods[2].0, "CANCEL");
    assert_eq!(methods[2].1, "2");
    assert_eq!(methods[2].2[1], "CANCELLED");
}

const BUDGET_REQUEST: &str = "From: Boss <boss@remote.test>\r\nTo: demo@example.test\r\n\
    Subject: Budget review\r\nMessage-ID: <budget@remote.test>\r\nMIME-Version: 1.0\r\n\
    Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\n\
    Content-Type: text/plain\r\n\r\nYou are invited.\r\n--b\r\n\
    Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n\
    BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//remote//EN\r\nMETHOD:REQUEST\r\n\
    BEGIN:VEVENT\r\nUID:budget-2030@remote.test\r\nDTSTAMP:20300101T000000Z\r\nSEQUENCE:3\r\n\
    DTSTART:20300610T090000Z\r\nDTEND:20300610T100000Z\r\nSUMMARY:Budget review\r\n\
    ORGANIZER;CN=Boss:mailto:boss@remote.test\r\n\
    ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:demo@example.test\r\n\
    ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@remote.test\r\n\
    END:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n";

/// The REPLY the sink holds last: (recipients, the attendee line).
fn last_reply(sink: &SmtpSink, count: usize) -> (Vec<String>, String, String) {
    let got = sink.wait_for(std::time::Duration::from_secs(10), |m| m.len() >= count);
    assert_eq!(got.len(), count, "{got:?}");
    let m = got.last().unwrap();
    let lines = ical_lines(&m.data);
    assert!(lines.contains(&"METHOD:REPLY".to_string()), "{}", m.data);
    assert!(lines.contains(&"UID:budget-2030@remote.test".to_string()));
    assert!(lines.contains(&"SEQUENCE:3".to_string()));
    let attendee = lines
        .iter()
        .find(|l| l.starts_with("ATTENDEE"))
        .cloned()
        .unwrap_or_default();
    let subject = m
        .data
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .to_string();
    (m.to.clone(), attendee, subject)
}

#[test]
fn exchangelib_accepts_a_delivered_request_then_declines_it_and_the_organizer_hears() {
    let (node, sink) = meeting_node("127.0.90.51");
    node.deliver_ok(USER, BUDGET_REQUEST.as_bytes());
    let v = meeting(&node, "/EWS/Exchange.asmx", "accept");
    eprintln!("accept: {v}");
    assert_eq!(v["accept"], "ok");
    assert_eq!(
        v["calendar"],
        serde_json::json!([["Budget review", "Accept", "Busy"]])
    );
    let (to, attendee, subject) = last_reply(&sink, 1);
    assert_eq!(to, ["boss@remote.test"]);
    assert_eq!(
        attendee,
        format!("ATTENDEE;PARTSTAT=ACCEPTED:mailto:{USER}")
    );
    assert_eq!(subject, "Accepted: Budget review");
    // CalDAV sees the booked event with the user's answer.
    let dav = meeting(&node, "/dav/", "caldav");
    eprintln!("caldav: {dav}");
    assert_eq!(
        dav["events"],
        serde_json::json!([["budget-2030@remote.test", "Budget review", ["ACCEPTED"]]])
    );

    let v = meeting(&node, "/EWS/Exchange.asmx", "decline");
    assert_eq!(v["calendar"], serde_json::json!([]));
    let (to, attendee, subject) = last_reply(&sink, 2);
    assert_eq!(to, ["boss@remote.test"]);
    assert_eq!(
        attendee,
        format!("ATTENDEE;PARTSTAT=DECLINED:mailto:{USER}")
    );
    assert_eq!(subject, "Declined: Budget review");
}

#[test]
fn answering_what_is_no_meeting_is_refused_and_writes_nothing() {
    let (node, sink) = meeting_node("127.0.90.52");
    deliver(&node, "just mail", "Mon, 1 Jan 2029 10:00:00 +0000");
    let v = meeting(&node, "/EWS/Exchange.asmx", "bad");
    eprintln!("bad: {v}");
    assert_eq!(v["accept_mail"], "ErrorInvalidItemForOperationAcceptItem");
    assert_eq!(v["decline_mail"], "ErrorInvalidItemForOperationDeclineItem");
    assert_eq!(v["accept_lone"], "ErrorInvalidItemForOperationAcceptItem");
    // Only the appointment the step made itself, unanswered.
    assert_eq!(
        v["calendar"],
        serde_json::json!([["Alone", "Organizer", "Busy"]])
    );
    let got = sink.wait_for(std::time::Duration::from_millis(500), |m| !m.is_empty());
    assert!(got.is_empty(), "nothing sent: {got:?}");
}

/// exchangelib as the organizer (`invite`, `organizer`) and as the
/// attendee (`attendee`) of a meeting between two users of one node.
const MEETING_IN_PY: &str = r#"
import json, sys
from exchangelib import (Account, Configuration, Credentials, DELEGATE, CalendarItem, Attendee, Mailbox,
                         EWSDateTime, EWSTimeZone)
from exchangelib.items import AcceptItem, MeetingRequest, SEND_TO_ALL_AND_SAVE_COPY
from exchangelib.properties import ReferenceItemId
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.transport import BASIC
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
url, user, pw, step, other = sys.argv[1:6]
config = Configuration(service_endpoint=url, credentials=Credentials(user, pw), auth_type=BASIC)
acc = Account(user, config=config, autodiscover=False, access_type=DELEGATE)
utc = EWSTimeZone("UTC")
out = {}
def calendar():
    return sorted([i.subject, i.my_response_type, i.legacy_free_busy_status] for i in acc.calendar.all())
if step == "invite":
    item = CalendarItem(account=acc, folder=acc.calendar, subject="Roadmap", location="Room 7",
                        start=EWSDateTime(2030, 9, 2, 10, 0, tzinfo=utc), end=EWSDateTime(2030, 9, 2, 11, 0, tzinfo=utc),
                        required_attendees=[Attendee(mailbox=Mailbox(email_address=other), response_type="Unknown")])
    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
elif step == "attendee":
    out["calendar"] = calendar()
    req = acc.inbox.get(subject="Roadmap")
    out["kind"] = type(req).__name__
    out["request"] = [req.item_class, req.meeting_request_type, str(req.start), req.location,
                      req.organizer.email_address if req.organizer else None]
    cal = [i for i in acc.calendar.all() if i.subject == "Roadmap"][0]
    out["associated"] = req.associated_calendar_item_id is not None and req.associated_calendar_item_id.id == cal.id
    AcceptItem(account=acc, reference_item_id=ReferenceItemId(id=req.id, changekey=req.changekey)).send()
    out["after"] = calendar()
elif step == "organizer":
    out["calendar"] = calendar()
    item = [i for i in acc.calendar.all() if i.subject == "Roadmap"][0]
    out["answers"] = sorted([a.mailbox.email_address, a.response_type] for a in item.required_attendees)
    out["replies"] = sorted([type(m).__name__, m.item_class] for m in acc.inbox.all())
print(json.dumps(out))
"#;

fn meeting_in(node: &Node, user: &str, step: &str, other: &str) -> serde_json::Value {
    let url = format!("https://{}:{}/EWS/Exchange.asmx", node.ip, node.ports.https);
    let out = Command::new("python3")
        .args(["-c", MEETING_IN_PY, &url, user, PASSWORD, step, other])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn a_delivered_invitation_is_in_the_attendees_calendar_and_the_delivered_answer_in_the_organizers()
{
    let (node, sink) = meeting_node("127.0.90.53");
    let boss = "boss@example.test";
    node.create_user(boss, PASSWORD, None);
    // The organizer invites; the relay (the sink) gets the REQUEST, which
    // the MTA hands back to this node's LMTP for the local attendee.
    meeting_in(&node, boss, "invite", USER);
    let got = sink.wait_for(std::time::Duration::from_secs(10), |m| !m.is_empty());
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, [USER]);
    let replies = node.deliver(boss, &[USER], got[0].data.as_bytes()).unwrap();
    assert_eq!(replies[0].code, 250, "{replies:?}");

    let v = meeting_in(&node, USER, "attendee", boss);
    eprintln!("attendee: {v}");
    assert_eq!(
        v["calendar"],
        serde_json::json!([["Roadmap", "NoResponseReceived", "Tentative"]])
    );
    assert_eq!(v["kind"], "MeetingRequest");
    assert_eq!(
        v["request"],
        serde_json::json!([
            "IPM.Schedule.Meeting.Request",
            "NewMeetingRequest",
            "2030-09-02 10:00:00+00:00",
            "Room 7",
            boss
        ])
    );
    assert_eq!(v["associated"], true);
    assert_eq!(
        v["after"],
        serde_json::json!([["Roadmap", "Accept", "Busy"]])
    );

    // The attendee's REPLY, delivered to the organizer.
    let got = sink.wait_for(std::time::Duration::from_secs(10), |m| m.len() >= 2);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].to, [boss]);
    let replies = node.deliver(USER, &[boss], got[1].data.as_bytes()).unwrap();
    assert_eq!(replies[0].code, 250, "{replies:?}");
    let v = meeting_in(&node, boss, "organizer", USER);
    eprintln!("organizer: {v}");
    assert_eq!(v["answers"], serde_json::json!([[USER, "Accept"]]));
    assert_eq!(
        v["replies"],
        serde_json::json!([["MeetingResponse", "IPM.Schedule.Meeting.Resp.Pos"]])
    );
}

#[test]
fn a_listing_shown_again_comes_from_the_item_cache_and_changes_show_at_once() {
    let n = node("127.0.90.9");
    for i in 0..5 {
        deliver(&n, &format!("cached {i}"), "Mon, 1 Jan 2024 09:00:00 +0000");
    }
    let post = |op: &str| {
        let (code, body) = post_as_demo(&n, &soap_envelope("Exchange2016", op));
        assert_eq!(code, 200, "{body}");
        body
    };
    let find = "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>\
                <t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/>\
                <t:FieldURI FieldURI=\"message:IsRead\"/></t:AdditionalProperties></m:ItemShape>\
                <m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>";
    let hits = || {
        n.metric("groxide_http_ews_item_cache_hits_total")
            .unwrap_or(-1.0)
    };
    let first = post(find);
    assert_eq!(
        first.matches("<t:IsRead>false</t:IsRead>").count(),
        5,
        "{first}"
    );
    assert_eq!(hits(), 0.0);
    let again = post(find);
    assert_eq!(again, first);
    assert_eq!(hits(), 5.0, "the second listing came from the cache");
    assert_eq!(
        n.metric("groxide_http_ews_item_cache_items"),
        Some(5.0),
        "{}",
        n.metrics()
    );
    // Marked read: the next listing shows it at once.
    let id = first
        .split("<t:ItemId Id=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    post(&format!(
        "<m:UpdateItem MessageDisposition=\"SaveOnly\" ConflictResolution=\"AlwaysOverwrite\">\
         <m:ItemChanges><t:ItemChange><t:ItemId Id=\"{id}\"/><t:Updates><t:SetItemField>\
         <t:FieldURI FieldURI=\"message:IsRead\"/><t:Message><t:IsRead>true</t:IsRead></t:Message>\
         </t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
    ));
    let after = post(find);
    assert_eq!(
        after.matches("<t:IsRead>true</t:IsRead>").count(),
        1,
        "{after}"
    );
    assert_eq!(hits(), 9.0, "the four unchanged items came from the cache");
    // ActiveSync's turns of work are shown too.
    assert_eq!(n.metric("groxide_http_eas_max_active_commands"), Some(32.0));
    assert_eq!(n.metric("groxide_http_eas_commands_working"), Some(0.0));
}
