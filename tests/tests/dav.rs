//! CalDAV and CardDAV in groxide-http as a process over real event, exmdb
//! and midb processes: the python `caldav` library (PyPI) discovers the
//! principal, lists the calendars, saves events (one recurring), searches
//! a date range, edits and deletes; curl drives CardDAV at the protocol
//! level (PROPFIND, PUT with preconditions, GET, sync-collection, DELETE,
//! malformed bodies); vdirsyncer (PyPI) syncs an address book and a
//! calendar with local directories both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_e2e::{Node, Service};
use std::process::Command;

const DOMAIN: &str = "example.test";
const USER: &str = "demo@example.test";
const PASSWORD: &str = "secret";

fn node(ip: &str) -> Node {
    let mut node = Node::standalone(ip);
    node.start_all(&Service::STORE);
    node.create_domain(DOMAIN);
    node.create_user(USER, PASSWORD, None);
    node.start(Service::Http);
    node
}

fn base(node: &Node) -> String {
    format!("https://{}:{}", node.ip, node.ports.https)
}

const CALDAV_PY: &str = r#"
import json, sys, datetime, warnings
warnings.simplefilter("ignore")
import caldav
url, user, pw = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=pw, ssl_verify_cert=False)
principal = client.principal()
out = {"principal": str(principal.url)}
cals = principal.calendars()
out["calendars"] = sorted(c.get_display_name() for c in cals)
cal = [c for c in cals if str(c.url).rstrip("/").endswith("/calendar")][0]
def ics(uid, summary, start, end, rrule=None):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//groxide test//EN", "BEGIN:VEVENT",
             "UID:" + uid, "DTSTAMP:20240101T000000Z", "DTSTART:" + start, "DTEND:" + end,
             "SUMMARY:" + summary]
    if rrule:
        lines.append("RRULE:" + rrule)
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)
planning = cal.save_event(ics("ev-planning", "Planning", "20240110T100000Z", "20240110T110000Z"))
cal.save_event(ics("ev-weekly", "Weekly sync", "20231204T090000Z", "20231204T093000Z", "FREQ=WEEKLY"))
cal.save_event(ics("ev-february", "February", "20240215T100000Z", "20240215T110000Z"))
out["all"] = sorted(str(e.icalendar_component["SUMMARY"]) for e in cal.events())
found = cal.search(start=datetime.datetime(2024, 1, 8, tzinfo=datetime.timezone.utc),
                   end=datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc),
                   event=True, expand=False)
out["january_week"] = sorted(str(e.icalendar_component["SUMMARY"]) for e in found)
out["by_uid"] = str(cal.event_by_uid("ev-weekly").icalendar_component["SUMMARY"])
planning.icalendar_component["SUMMARY"] = "Planning (moved)"
planning.save()
again = cal.event_by_url(planning.url)
again.load()
out["edited"] = str(again.icalendar_component["SUMMARY"])
planning.delete()
out["after_delete"] = sorted(str(e.icalendar_component["SUMMARY"]) for e in cal.events())
print(json.dumps(out))
"#;

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn python_caldav_discovers_saves_searches_edits_and_deletes() {
    let node = node("127.0.93.1");
    let out = Command::new("python3")
        .args([
            "-c",
            CALDAV_PY,
            &format!("{}/dav/", base(&node)),
            USER,
            PASSWORD,
        ])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "caldav failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    eprintln!("caldav saw: {v}");
    assert!(
        v["principal"]
            .as_str()
            .unwrap()
            .ends_with("/dav/principals/demo@example.test/"),
        "{v}"
    );
    let cals = strings(&v["calendars"]);
    assert!(cals.contains(&"Calendar".to_string()), "{cals:?}");
    assert!(cals.contains(&"Tasks".to_string()), "{cals:?}");
    assert_eq!(
        strings(&v["all"]),
        ["February", "Planning", "Weekly sync"],
        "{v}"
    );
    assert_eq!(
        strings(&v["january_week"]),
        ["Planning", "Weekly sync"],
        "{v}"
    );
    assert_eq!(v["by_uid"], "Weekly sync");
    assert_eq!(v["edited"], "Planning (moved)");
    assert_eq!(strings(&v["after_delete"]), ["February", "Weekly sync"]);
}

/// What curl saw: status, headers (lower-case names), body.
struct Reply {
    status: u16,
    headers: String,
    body: String,
}

fn curl(method: &str, url: &str, extra: &[&str], body: Option<&str>) -> Reply {
    let dir = tempfile::tempdir().unwrap();
    let head = dir.path().join("head");
    let mut cmd = Command::new("curl");
    cmd.args(["-sk", "-u", &format!("{USER}:{PASSWORD}"), "-X", method])
        .args(["-D", head.to_str().unwrap(), "-w", "\n%{http_code}"]);
    for h in extra {
        cmd.args(["-H", h]);
    }
    if let Some(b) = body {
        cmd.args(["--data-binary", b]);
    }
    let out = cmd.arg(url).output().expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap();
    Reply {
        status: status.trim().parse().unwrap(),
        headers: std::fs::read_to_string(&head)
            .unwrap_or_default()
            .to_ascii_lowercase(),
        body: body.to_string(),
    }
}

fn etag(r: &Reply) -> String {
    r.headers
        .lines()
        .find_map(|l| l.strip_prefix("etag:"))
        .map(|v| v.trim().to_string())
        .expect("an ETag")
}

fn sync_token(body: &str) -> String {
    let start = body.find("<D:sync-token>").expect("a sync-token") + "<D:sync-token>".len();
    let end = body[start..].find('<').unwrap() + start;
    body[start..end].to_string()
}

const CARD: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-1\r\nFN:Ann Example\r\nN:Example;Ann;;;\r\nEMAIL;TYPE=INTERNET:ann@example.org\r\nEND:VCARD\r\n";

#[test]
fn carddav_by_curl_puts_gets_syncs_and_refuses_bad_input() {
    let node = node("127.0.93.2");
    let b = base(&node);
    let options = curl("OPTIONS", &format!("{b}/dav/"), &[], None);
    assert_eq!(options.status, 200);
    assert!(
        options.headers.contains("addressbook"),
        "{}",
        options.headers
    );
    assert!(options.headers.contains("calendar-access"));

    let home = format!("{b}/dav/addressbooks/{USER}/");
    let listing = curl(
        "PROPFIND",
        &home,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(
            r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/></d:prop></d:propfind>"#,
        ),
    );
    assert_eq!(listing.status, 207, "{}", listing.body);
    assert!(
        listing
            .body
            .contains(&format!("/dav/addressbooks/{USER}/contacts/")),
        "{}",
        listing.body
    );
    assert!(
        listing.body.contains("<CR:addressbook/>"),
        "{}",
        listing.body
    );
    let book = format!("{home}contacts/");
    let patch = curl(
        "PROPPATCH",
        &book,
        &[],
        Some(
            r#"<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><a:calendar-color>#FF0000</a:calendar-color></d:prop></d:set></d:propertyupdate>"#,
        ),
    );
    assert_eq!(patch.status, 207, "{}", patch.body);
    // A dead property on an address book is kept (DAVx5 and Apple set colours).
    assert!(
        patch.body.contains("calendar-color") && patch.body.contains("200 OK"),
        "{}",
        patch.body
    );
    let kept = curl(
        "PROPFIND",
        &book,
        &["Depth: 0"],
        Some(
            r#"<d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:prop><a:calendar-color/></d:prop></d:propfind>"#,
        ),
    );
    assert!(kept.body.contains(">#FF0000</"), "{}", kept.body);
    let token0 = sync_token(&curl(
        "REPORT",
        &book,
        &[],
        Some(r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#),
    )
    .body);

    let card_url = format!("{book}ann-1.vcf");
    let ct = "Content-Type: text/vcard; charset=utf-8";
    let created = curl("PUT", &card_url, &[ct, "If-None-Match: *"], Some(CARD));
    assert_eq!(created.status, 201, "{}", created.body);
    let tag = etag(&created);
    let twice = curl("PUT", &card_url, &[ct, "If-None-Match: *"], Some(CARD));
    assert_eq!(twice.status, 412, "{}", twice.body);
    let got = curl("GET", &card_url, &[], None);
    assert_eq!(got.status, 200);
    assert!(got.body.contains("FN:Ann Example"), "{}", got.body);
    assert!(got.body.contains("ann@example.org"), "{}", got.body);
    assert_eq!(etag(&got), tag);

    let stale = curl("PUT", &card_url, &[ct, "If-Match: \"999999\""], Some(CARD));
    assert_eq!(stale.status, 412, "{}", stale.body);
    let edited = CARD.replace("FN:Ann Example", "FN:Ann Edited");
    let changed = curl(
        "PUT",
        &card_url,
        &[ct, &format!("If-Match: {tag}")],
        Some(&edited),
    );
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert_ne!(etag(&changed), tag);

    let sync = curl(
        "REPORT",
        &book,
        &[],
        Some(&format!(
            r#"<d:sync-collection xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:sync-token>{token0}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/><card:address-data/></d:prop></d:sync-collection>"#
        )),
    );
    assert_eq!(sync.status, 207, "{}", sync.body);
    assert!(sync.body.contains("ann-1.vcf"), "{}", sync.body);
    assert!(sync.body.contains("FN:Ann Edited"), "{}", sync.body);
    let token1 = sync_token(&sync.body);
    assert_ne!(token1, token0);

    let multiget = curl(
        "REPORT",
        &book,
        &["Depth: 1"],
        Some(&format!(
            r#"<card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop><d:href>/dav/addressbooks/{USER}/contacts/ann-1.vcf</d:href><d:href>/dav/addressbooks/{USER}/contacts/nobody.vcf</d:href></card:addressbook-multiget>"#
        )),
    );
    assert_eq!(multiget.status, 207);
    assert!(multiget.body.contains("FN:Ann Edited"), "{}", multiget.body);
    assert!(multiget.body.contains("404 Not Found"), "{}", multiget.body);
    assert!(multiget.body.contains("VERSION:3.0"), "{}", multiget.body);
    let v4 = curl(
        "REPORT",
        &book,
        &["Depth: 1"],
        Some(&format!(
            r#"<card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><card:address-data content-type="text/vcard" version="4.0"/></d:prop><d:href>/dav/addressbooks/{USER}/contacts/ann-1.vcf</d:href></card:addressbook-multiget>"#
        )),
    );
    assert!(
        v4.body.contains("VERSION:4.0") && v4.body.contains("FN:Ann Edited"),
        "{}",
        v4.body
    );
    let get4 = curl("GET", &card_url, &["Accept: text/vcard; version=4.0"], None);
    assert!(get4.body.contains("VERSION:4.0"), "{}", get4.body);

    let card_query = |prop: &str, text: &str| {
        curl(
            "REPORT",
            &book,
            &["Depth: 1"],
            Some(&format!(
                r#"<c:addressbook-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/></d:prop><c:filter><c:prop-filter name="{prop}"><c:text-match match-type="contains">{text}</c:text-match></c:prop-filter></c:filter></c:addressbook-query>"#
            )),
        )
    };
    let hit = card_query("FN", "ann ed");
    assert_eq!(hit.status, 207, "{}", hit.body);
    assert!(hit.body.contains("ann-1.vcf"), "{}", hit.body);
    assert!(
        card_query("EMAIL", "EXAMPLE.ORG")
            .body
            .contains("ann-1.vcf")
    );
    assert!(!card_query("EMAIL", "nobody").body.contains(".vcf"));
    let bad = curl(
        "PUT",
        &format!("{book}x.vcf"),
        &[ct],
        Some("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n"),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("valid-address-data"), "{}", bad.body);
    let wrong_type = curl(
        "PUT",
        &format!("{book}y.vcf"),
        &["Content-Type: text/calendar"],
        Some(CARD),
    );
    assert_eq!(wrong_type.status, 415, "{}", wrong_type.body);
    let other_name = curl("PUT", &format!("{book}other.vcf"), &[ct], Some(CARD));
    assert_eq!(other_name.status, 409, "{}", other_name.body);
    assert!(other_name.body.contains("ann-1.vcf"), "{}", other_name.body);

    let deleted = curl("DELETE", &card_url, &[], None);
    assert_eq!(deleted.status, 204);
    assert_eq!(curl("GET", &card_url, &[], None).status, 404);
    let after = curl(
        "REPORT",
        &book,
        &[],
        Some(&format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token1}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )),
    );
    assert_eq!(after.status, 207, "{}", after.body);
    assert!(after.body.contains("ann-1.vcf"), "{}", after.body);
    assert!(after.body.contains("404 Not Found"), "{}", after.body);
    let bogus = curl(
        "REPORT",
        &book,
        &[],
        Some(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>http://example.org/other-server/1</d:sync-token><d:sync-level>1</d:sync-level><d:prop/></d:sync-collection>"#,
        ),
    );
    assert_eq!(bogus.status, 403, "{}", bogus.body);
    assert!(bogus.body.contains("valid-sync-token"), "{}", bogus.body);
    let other_user = curl(
        "PROPFIND",
        &format!("{b}/dav/calendars/someone@example.test/"),
        &["Depth: 0"],
        None,
    );
    assert_eq!(other_user.status, 403);
    let malformed = curl(
        "PROPFIND",
        &book,
        &["Depth: 0"],
        Some("<d:propfind xmlns:d=\"DAV:\"><d:prop>"),
    );
    assert_eq!(malformed.status, 400, "{}", malformed.body);
}

fn event(uid: &str, summary: &str, start: &str, end: &str, rrule: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20240101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{summary}\r\n{rrule}\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn query(url: &str, start: &str, end: &str) -> Reply {
    curl(
        "REPORT",
        url,
        &["Depth: 1"],
        Some(&format!(
            r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
        )),
    )
}

#[test]
fn calendar_query_by_curl_expands_series_and_collections_keep_their_component() {
    let node = node("127.0.93.3");
    let cal = format!("{}/dav/calendars/{USER}/calendar/", base(&node));
    let ct = "Content-Type: text/calendar; charset=utf-8";
    for (uid, summary, start, end, rrule) in [
        ("once", "Once", "20240110T100000Z", "20240110T110000Z", ""),
        (
            "weekly",
            "Weekly",
            "20231204T090000Z",
            "20231204T093000Z",
            "RRULE:FREQ=WEEKLY;COUNT=20\r\n",
        ),
    ] {
        let r = curl(
            "PUT",
            &format!("{cal}{uid}.ics"),
            &[ct],
            Some(&event(uid, summary, start, end, rrule)),
        );
        assert_eq!(r.status, 201, "{uid}: {}", r.body);
    }
    // The 14th instance of the series (2024-03-04), nothing else.
    let march = query(&cal, "20240304T000000Z", "20240305T000000Z");
    assert_eq!(march.status, 207, "{}", march.body);
    assert!(march.body.contains("weekly.ics"), "{}", march.body);
    assert!(!march.body.contains("once.ics"), "{}", march.body);
    // After the series' 20th instance (2024-04-15): nothing.
    let may = query(&cal, "20240501T000000Z", "20240601T000000Z");
    assert!(!may.body.contains(".ics"), "{}", may.body);
    // Before the series began: nothing; the week of 10 January: both.
    let before = query(&cal, "20231101T000000Z", "20231201T000000Z");
    assert!(!before.body.contains(".ics"), "{}", before.body);
    let january = query(&cal, "20240108T000000Z", "20240115T000000Z");
    assert!(january.body.contains("weekly.ics") && january.body.contains("once.ics"));
    let bad = query(&cal, "yesterday", "20240115T000000Z");
    assert_eq!(bad.status, 400, "{}", bad.body);

    // The Tasks calendar takes VTODOs only.
    let tasks = format!("{}/dav/calendars/{USER}/tasks/", base(&node));
    let wrong = curl(
        "PUT",
        &format!("{tasks}once.ics"),
        &[ct],
        Some(&event(
            "once",
            "Once",
            "20240110T100000Z",
            "20240110T110000Z",
            "",
        )),
    );
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    assert!(wrong.body.contains("supported-calendar-component"));
    let todo = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:todo-1\r\n\
                DTSTAMP:20240101T000000Z\r\nSUMMARY:Write report\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
    let put = curl("PUT", &format!("{tasks}todo-1.ics"), &[ct], Some(todo));
    assert_eq!(put.status, 201, "{}", put.body);
    let got = curl("GET", &format!("{tasks}todo-1.ics"), &[], None);
    assert!(got.body.contains("SUMMARY:Write report"), "{}", got.body);
    let broken = curl(
        "PUT",
        &format!("{cal}broken.ics"),
        &[ct],
        Some(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:broken\r\nDTSTART:tomorrow\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
    );
    assert_eq!(broken.status, 400, "{}", broken.body);
    assert!(broken.body.contains("valid-calendar-data") && broken.body.contains("DTSTART"));
    assert_eq!(
        curl("GET", &format!("{cal}broken.ics"), &[], None).status,
        404
    );
}

/// Runs vdirsyncer with `config` (its file in `dir`); asserts success.
fn vdirsyncer(node: &Node, dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("vdirsyncer")
        .env("VDIRSYNCER_CONFIG", dir.join("config"))
        .args(args)
        .output()
        .expect("vdirsyncer");
    assert!(
        out.status.success(),
        "vdirsyncer {args:?}: {}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn vdirsyncer_syncs_an_address_book_and_a_calendar_both_ways() {
    let node = node("127.0.93.4");
    let b = base(&node);
    let tmp = tempfile::tempdir().unwrap();
    let cards = tmp.path().join("cards");
    let events = tmp.path().join("events");
    std::fs::create_dir_all(&cards).unwrap();
    std::fs::create_dir_all(&events).unwrap();
    std::fs::write(
        cards.join("local-1.vcf"),
        CARD.replace("ann-1", "local-1")
            .replace("Ann Example", "Local Person"),
    )
    .unwrap();
    std::fs::write(
        events.join("local-ev.ics"),
        event(
            "local-ev",
            "Local event",
            "20240301T100000Z",
            "20240301T110000Z",
            "",
        ),
    )
    .unwrap();
    // A second event stays (vdirsyncer refuses to sync a side that was emptied).
    std::fs::write(
        events.join("local-keep.ics"),
        event(
            "local-keep",
            "Kept",
            "20240302T100000Z",
            "20240302T110000Z",
            "",
        ),
    )
    .unwrap();
    let config = format!(
        r#"[general]
status_path = "{status}"

[pair contacts]
a = "contacts_local"
b = "contacts_remote"
collections = null
conflict_resolution = "a wins"

[storage contacts_local]
type = "filesystem"
path = "{cards}"
fileext = ".vcf"

[storage contacts_remote]
type = "carddav"
url = "{b}/dav/addressbooks/{USER}/contacts/"
username = "{USER}"
password = "{PASSWORD}"
verify = "{ca}"

[pair calendar]
a = "calendar_local"
b = "calendar_remote"
collections = null
conflict_resolution = "a wins"

[storage calendar_local]
type = "filesystem"
path = "{events}"
fileext = ".ics"

[storage calendar_remote]
type = "caldav"
url = "{b}/dav/calendars/{USER}/calendar/"
username = "{USER}"
password = "{PASSWORD}"
verify = "{ca}"
"#,
        status = tmp.path().join("status").display(),
        cards = cards.display(),
        events = events.display(),
        ca = node.config.path().join("cert.pem").display(),
    );
    std::fs::write(tmp.path().join("config"), config).unwrap();
    vdirsyncer(&node, tmp.path(), &["discover"]);
    vdirsyncer(&node, tmp.path(), &["sync"]);
    // Local → server.
    let card = curl(
        "GET",
        &format!("{b}/dav/addressbooks/{USER}/contacts/local-1.vcf"),
        &[],
        None,
    );
    assert_eq!(card.status, 200, "{}", card.body);
    assert!(card.body.contains("FN:Local Person"), "{}", card.body);
    let ev = curl(
        "GET",
        &format!("{b}/dav/calendars/{USER}/calendar/local-ev.ics"),
        &[],
        None,
    );
    assert!(ev.body.contains("SUMMARY:Local event"), "{}", ev.body);
    // Server → local, and a local deletion reaches the server.
    let put = curl(
        "PUT",
        &format!("{b}/dav/addressbooks/{USER}/contacts/ann-1.vcf"),
        &["Content-Type: text/vcard"],
        Some(CARD),
    );
    assert_eq!(put.status, 201);
    std::fs::remove_file(events.join("local-ev.ics")).unwrap();
    vdirsyncer(&node, tmp.path(), &["sync"]);
    let local = files(&cards);
    assert_eq!(local.len(), 2, "{local:?}");
    let texts: Vec<String> = local
        .iter()
        .map(|f| std::fs::read_to_string(cards.join(f)).unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("FN:Ann Example")),
        "{texts:?}"
    );
    let gone = curl(
        "GET",
        &format!("{b}/dav/calendars/{USER}/calendar/local-ev.ics"),
        &[],
        None,
    );
    assert_eq!(gone.status, 404);
    let kept = curl(
        "GET",
        &format!("{b}/dav/calendars/{USER}/calendar/local-keep.ics"),
        &[],
        None,
    );
    assert_eq!(kept.status, 200);
    // A server-side edit reaches the local copy.
    let edited = CARD.replace("FN:Ann Example", "FN:Ann Renamed");
    let r = curl(
        "PUT",
        &format!("{b}/dav/addressbooks/{USER}/contacts/ann-1.vcf"),
        &["Content-Type: text/vcard"],
        Some(&edited),
    );
    assert_eq!(r.status, 204);
    vdirsyncer(&node, tmp.path(), &["sync"]);
    let texts: Vec<String> = files(&cards)
        .iter()
        .map(|f| std::fs::read_to_string(cards.join(f)).unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("FN:Ann Renamed")),
        "{texts:?}"
    );
}

fn propfind(url: &str, depth: &str, props: &str) -> Reply {
    curl(
        "PROPFIND",
        url,
        &[&format!("Depth: {depth}"), "Content-Type: application/xml"],
        Some(&format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://apple.com/ns/ical/"><D:prop>{props}</D:prop></D:propfind>"#
        )),
    )
}

/// The account setup Thunderbird and DAVx5 do (from their documented
/// behaviour): well-known redirect, current-user-principal, the home sets,
/// the homes' collections with the properties they decide by, then the
/// first sync of a collection.
#[test]
fn account_setup_sequence_of_thunderbird_and_davx5() {
    let node = node("127.0.93.5");
    let b = base(&node);
    let wk = curl(
        "PROPFIND",
        &format!("{b}/.well-known/caldav"),
        &["Depth: 0"],
        None,
    );
    assert!(matches!(wk.status, 301 | 307 | 308), "{}", wk.status);
    assert!(wk.headers.contains("location: /dav/"), "{}", wk.headers);

    let root = propfind(&format!("{b}/dav/"), "0", "<D:current-user-principal/>");
    assert_eq!(root.status, 207, "{}", root.body);
    let principal = format!("/dav/principals/{USER}/");
    assert!(
        root.body.contains(&format!(
            "<D:current-user-principal><D:href>{principal}</D:href>"
        )),
        "{}",
        root.body
    );

    let p = propfind(
        &format!("{b}{principal}"),
        "0",
        "<C:calendar-home-set/><CR:addressbook-home-set/><C:calendar-user-address-set/><D:displayname/><C:schedule-inbox-URL/>",
    );
    assert_eq!(p.status, 207);
    assert!(
        p.body.contains(&format!(
            "<C:calendar-home-set><D:href>/dav/calendars/{USER}/</D:href>"
        )),
        "{}",
        p.body
    );
    assert!(p.body.contains(&format!(
        "<CR:addressbook-home-set><D:href>/dav/addressbooks/{USER}/</D:href>"
    )));
    assert!(p.body.contains(&format!("mailto:{USER}")));
    // Scheduling is not offered: its property is 404, the rest 200.
    assert!(
        p.body
            .contains("<C:schedule-inbox-URL/></D:prop><D:status>HTTP/1.1 404"),
        "{}",
        p.body
    );

    let home = propfind(
        &format!("{b}/dav/calendars/{USER}/"),
        "1",
        "<D:resourcetype/><D:displayname/><A:calendar-color/><C:supported-calendar-component-set/><D:current-user-privilege-set/><CS:getctag/><D:sync-token/>",
    );
    assert_eq!(home.status, 207);
    let responses: Vec<&str> = home.body.split("<D:response>").skip(1).collect();
    assert_eq!(responses.len(), 3, "home, Calendar, Tasks: {}", home.body);
    let calendar = responses
        .iter()
        .find(|r| r.contains(&format!("/dav/calendars/{USER}/calendar/<")))
        .expect("the Calendar collection");
    assert!(calendar.contains("<C:calendar/>") && calendar.contains("<C:comp name=\"VEVENT\"/>"));
    assert!(calendar.contains("<D:write/>"), "writable: {calendar}");
    assert!(calendar.contains("<CS:getctag>gx1-"), "{calendar}");
    let tasks = responses
        .iter()
        .find(|r| r.contains(&format!("/dav/calendars/{USER}/tasks/<")))
        .expect("the Tasks collection");
    assert!(tasks.contains("<C:comp name=\"VTODO\"/>"), "{tasks}");

    // DAVx5: the collection's sync-token, then sync-collection from scratch.
    let coll = format!("{b}/dav/calendars/{USER}/calendar/");
    let token = sync_token(&propfind(&coll, "0", "<D:sync-token/>").body);
    let first = curl(
        "REPORT",
        &coll,
        &["Depth: 1"],
        Some(
            r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#,
        ),
    );
    assert_eq!(first.status, 207);
    assert_eq!(sync_token(&first.body), token, "{}", first.body);
    let options = curl("OPTIONS", &coll, &[], None);
    assert!(
        options.headers.contains("allow:") && options.headers.contains("report"),
        "{}",
        options.headers
    );
}

/// Clients name resources as they like (Apple and DAVx5 use a fresh UUID,
/// Thunderbird its own id), not by the object's UID: the name is kept, every
/// answer uses it, and a second name for the same UID is refused.
#[test]
fn resources_keep_the_names_their_clients_chose() {
    let node = node("127.0.93.7");
    let b = base(&node);
    let cal = format!("{b}/dav/calendars/{USER}/calendar/");
    let ct = "Content-Type: text/calendar; charset=utf-8";
    let name = "6F1D2A0C-APPLE-NAME.ics";
    let url = format!("{cal}{name}");
    let body = event(
        "uid-not-the-name",
        "Chosen name",
        "20240110T100000Z",
        "20240110T110000Z",
        "",
    );
    let put = curl("PUT", &url, &[ct, "If-None-Match: *"], Some(&body));
    assert_eq!(put.status, 201, "{}", put.body);
    let get = curl("GET", &url, &[], None);
    assert_eq!(get.status, 200, "{}", get.body);
    assert!(get.body.contains("SUMMARY:Chosen name"), "{}", get.body);
    assert_eq!(etag(&get), etag(&put));
    let href = format!("/dav/calendars/{USER}/calendar/{name}");
    let listing = propfind(&cal, "1", "<D:getetag/>");
    assert!(
        listing.body.contains(&format!("<D:href>{href}</D:href>")),
        "{}",
        listing.body
    );
    assert!(
        !listing.body.contains("uid-not-the-name.ics"),
        "{}",
        listing.body
    );
    let multiget = curl(
        "REPORT",
        &cal,
        &["Depth: 1"],
        Some(&format!(
            r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>{href}</d:href></c:calendar-multiget>"#
        )),
    );
    assert!(
        multiget.body.contains("SUMMARY:Chosen name"),
        "{}",
        multiget.body
    );
    let q = query(&cal, "20240101T000000Z", "20240201T000000Z");
    assert!(q.body.contains(&href), "{}", q.body);
    // An edit through the name keeps it.
    let edited = curl(
        "PUT",
        &url,
        &[ct, &format!("If-Match: {}", etag(&put))],
        Some(&body.replace("Chosen name", "Chosen name, edited")),
    );
    assert_eq!(edited.status, 204, "{}", edited.body);
    assert!(
        curl("GET", &url, &[], None)
            .body
            .contains("SUMMARY:Chosen name, edited")
    );
    // The same UID under a second name: CalDAV's no-uid-conflict, naming
    // the resource that holds it; nothing stored.
    let second = curl("PUT", &format!("{cal}second.ics"), &[ct], Some(&body));
    assert_eq!(second.status, 409, "{}", second.body);
    assert!(second.body.contains("no-uid-conflict"), "{}", second.body);
    assert!(
        second.body.contains(&format!("<D:href>{href}</D:href>")),
        "{}",
        second.body
    );
    assert_eq!(
        curl("GET", &format!("{cal}second.ics"), &[], None).status,
        404
    );
    // A name without the usual extension is a name too.
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-x\r\nFN:Bea\r\nN:;Bea;;;\r\nEND:VCARD\r\n";
    let book = format!("{b}/dav/addressbooks/{USER}/contacts/");
    let r = curl(
        "PUT",
        &format!("{book}thunderbird-1234"),
        &["Content-Type: text/vcard"],
        Some(card),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        curl("GET", &format!("{book}thunderbird-1234"), &[], None)
            .body
            .contains("FN:Bea")
    );
}

/// The store's tombstones keep what names a removed item, so
/// sync-collection reports every removal — even one made while another
/// groxide-http process (another node, a restart) served the client.
#[test]
fn removals_are_reported_by_name_across_restarts() {
    let mut node = node("127.0.93.6");
    let cal = format!("{}/dav/calendars/{USER}/calendar/", base(&node));
    let ct = "Content-Type: text/calendar";
    for (name, uid) in [("chosen-name.ics", "uid-a"), ("uid-b.ics", "uid-b")] {
        let r = curl(
            "PUT",
            &format!("{cal}{name}"),
            &[ct],
            Some(&event(uid, uid, "20240110T100000Z", "20240110T110000Z", "")),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let sync = |cal: &str, token: &str| {
        curl(
            "REPORT",
            cal,
            &[],
            Some(&format!(
                r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
            )),
        )
    };
    let token = sync_token(&sync(&cal, "").body);
    node.restart(Service::Http);
    let cal = format!("{}/dav/calendars/{USER}/calendar/", base(&node));
    for name in ["chosen-name.ics", "uid-b.ics"] {
        let deleted = curl("DELETE", &format!("{cal}{name}"), &[], None);
        assert_eq!(deleted.status, 204, "{}", deleted.body);
    }
    node.restart(Service::Http);
    let cal = format!("{}/dav/calendars/{USER}/calendar/", base(&node));
    let after = sync(&cal, &token);
    assert_eq!(after.status, 207, "{}", after.body);
    for name in ["chosen-name.ics", "uid-b.ics"] {
        let href =
            format!("<D:href>/dav/calendars/{USER}/calendar/{name}</D:href><D:status>HTTP/1.1 404");
        assert!(after.body.contains(&href), "{name}: {}", after.body);
    }
    let fresh = sync(&cal, "");
    assert_eq!(fresh.status, 207);
    assert!(!fresh.body.contains(".ics"), "{}", fresh.body);
}

/// Calendars and address books made, changed and removed over DAV (as
/// Apple Calendar, Thunderbird and DAVx5 do): MKCALENDAR with properties,
/// extended MKCOL, PROPPATCH of the name, description, Apple's colour and
/// the time zone (kept as the store's folder properties), DELETE; and
/// free-busy-query from the store's free/busy.
#[test]
fn collections_are_made_patched_and_deleted_and_free_busy_answers() {
    let node = node("127.0.93.8");
    let b = base(&node);
    let home = format!("{b}/dav/calendars/{USER}/");
    let work = format!("{home}work-cal/");
    let mk = curl(
        "MKCALENDAR",
        &work,
        &["Content-Type: application/xml"],
        Some(
            r##"<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Work</D:displayname><C:calendar-description>Office hours</C:calendar-description><A:calendar-color>#FF0000FF</A:calendar-color><C:calendar-timezone>BEGIN:VCALENDAR
END:VCALENDAR</C:calendar-timezone><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"##,
        ),
    );
    assert_eq!(mk.status, 201, "{}", mk.body);
    assert_eq!(curl("MKCALENDAR", &work, &[], None).status, 405);
    let props = "<D:resourcetype/><D:displayname/><C:calendar-description/><A:calendar-color/><C:calendar-timezone/><C:supported-calendar-component-set/><A:calendar-order/>";
    let p = propfind(&work, "0", props);
    assert_eq!(p.status, 207, "{}", p.body);
    for want in [
        "<C:calendar/>",
        "<D:displayname>Work</D:displayname>",
        "<C:calendar-description>Office hours</C:calendar-description>",
        ">#FF0000FF</",
        "BEGIN:VCALENDAR",
        "<C:comp name=\"VEVENT\"/>",
    ] {
        assert!(p.body.contains(want), "{want}: {}", p.body);
    }
    // calendar-order was never set: 404 for it alone.
    assert!(p.body.contains("HTTP/1.1 404"), "{}", p.body);
    let listing = propfind(&home, "1", "<D:displayname/><D:sync-token/>");
    // The home's listing gives each collection the token the collection
    // itself gives.
    let own = sync_token(&propfind(&format!("{home}calendar/"), "0", "<D:sync-token/>").body);
    assert!(listing.body.contains(&own), "{own}: {}", listing.body);
    assert!(
        listing
            .body
            .contains(&format!("/dav/calendars/{USER}/work-cal/</D:href>")),
        "{}",
        listing.body
    );
    let ev = event("w-1", "Standup", "20240110T090000Z", "20240110T091500Z", "");
    assert_eq!(
        curl(
            "PUT",
            &format!("{work}w-1.ics"),
            &["Content-Type: text/calendar"],
            Some(&ev)
        )
        .status,
        201
    );
    assert!(
        propfind(&work, "1", "<D:getetag/>")
            .body
            .contains("w-1.ics"),
        "the new calendar holds its event"
    );
    // PROPPATCH: all or nothing.
    let patch = curl(
        "PROPPATCH",
        &work,
        &["Content-Type: application/xml"],
        Some(
            r##"<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Work 2</D:displayname><A:calendar-color>#00FF00FF</A:calendar-color><A:calendar-order>3</A:calendar-order></D:prop></D:set></D:propertyupdate>"##,
        ),
    );
    assert_eq!(patch.status, 207, "{}", patch.body);
    assert!(patch.body.contains("200 OK"), "{}", patch.body);
    let refused = curl(
        "PROPPATCH",
        &work,
        &["Content-Type: application/xml"],
        Some(
            r##"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Never</D:displayname><D:getetag>x</D:getetag></D:prop></D:set></D:propertyupdate>"##,
        ),
    );
    assert!(refused.body.contains("403 Forbidden"), "{}", refused.body);
    assert!(
        refused.body.contains("424 Failed Dependency"),
        "{}",
        refused.body
    );
    let p = propfind(&work, "0", props);
    assert!(
        p.body.contains("<D:displayname>Work 2</D:displayname>"),
        "{}",
        p.body
    );
    assert!(p.body.contains(">#00FF00FF</"), "{}", p.body);
    assert!(p.body.contains(">3</"), "{}", p.body);
    let remove = curl(
        "PROPPATCH",
        &work,
        &["Content-Type: application/xml"],
        Some(
            r##"<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:remove><D:prop><A:calendar-order/></D:prop></D:remove></D:propertyupdate>"##,
        ),
    );
    assert_eq!(remove.status, 207);
    assert!(!propfind(&work, "0", props).body.contains(">3</"));
    // A task list, and an address book by extended MKCOL.
    let todo = curl(
        "MKCALENDAR",
        &format!("{home}todo/"),
        &[],
        Some(
            r#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#,
        ),
    );
    assert_eq!(todo.status, 201, "{}", todo.body);
    assert!(
        propfind(
            &format!("{home}todo/"),
            "0",
            "<C:supported-calendar-component-set/>"
        )
        .body
        .contains("VTODO")
    );
    let book = format!("{b}/dav/addressbooks/{USER}/friends/");
    let mkcol = curl(
        "MKCOL",
        &book,
        &["Content-Type: application/xml"],
        Some(
            r#"<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Friends</D:displayname></D:prop></D:set></D:mkcol>"#,
        ),
    );
    assert_eq!(mkcol.status, 201, "{}", mkcol.body);
    let p = propfind(&book, "0", "<D:resourcetype/><D:displayname/>");
    assert!(
        p.body.contains("<CR:addressbook/>") && p.body.contains("Friends"),
        "{}",
        p.body
    );
    // A plain MKCOL in the calendar home says what it lacks.
    let plain = curl("MKCOL", &format!("{home}plain/"), &[], None);
    assert_eq!(plain.status, 403, "{}", plain.body);
    // DELETE: a made collection goes, the standard one stays.
    assert_eq!(curl("DELETE", &work, &[], None).status, 204);
    assert_eq!(propfind(&work, "0", "<D:displayname/>").status, 404);
    assert_eq!(
        curl("DELETE", &format!("{home}calendar/"), &[], None).status,
        403
    );
    // free-busy-query over the standard calendar.
    let cal = format!("{home}calendar/");
    let ev = event(
        "fb-1",
        "Busy",
        "20240110T100000Z",
        "20240110T110000Z",
        "RRULE:FREQ=DAILY;COUNT=3\r\n",
    );
    assert_eq!(
        curl(
            "PUT",
            &format!("{cal}fb-1.ics"),
            &["Content-Type: text/calendar"],
            Some(&ev)
        )
        .status,
        201
    );
    let fb = curl(
        "REPORT",
        &cal,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(
            r#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20240111T000000Z" end="20240113T000000Z"/></C:free-busy-query>"#,
        ),
    );
    assert_eq!(fb.status, 200, "{}", fb.body);
    assert!(fb.body.contains("BEGIN:VFREEBUSY"), "{}", fb.body);
    assert!(
        fb.body
            .contains("FREEBUSY;FBTYPE=BUSY:20240111T100000Z/20240111T110000Z"),
        "{}",
        fb.body
    );
    assert!(
        fb.body.contains("20240112T100000Z/20240112T110000Z"),
        "{}",
        fb.body
    );
    assert!(!fb.body.contains("20240110T"), "{}", fb.body);
}

const MAKE_CALENDAR_PY: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
import caldav
url, user, pw = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=pw, ssl_verify_cert=False)
principal = client.principal()
made = principal.make_calendar(name="Made by caldav")
made.save_event("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:py-1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240110T100000Z\r\nDTEND:20240110T110000Z\r\nSUMMARY:In the new one\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
names = sorted(c.get_display_name() for c in principal.calendars())
events = [str(e.icalendar_component["SUMMARY"]) for e in made.events()]
made.delete()
after = sorted(c.get_display_name() for c in principal.calendars())
print(json.dumps({"names": names, "events": events, "after": after}))
"#;

#[test]
fn python_caldav_makes_and_deletes_a_calendar() {
    let node = node("127.0.93.9");
    let out = Command::new("python3")
        .args([
            "-c",
            MAKE_CALENDAR_PY,
            &format!("{}/dav/", base(&node)),
            USER,
            PASSWORD,
        ])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "caldav failed: {stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.logs()
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(
        strings(&v["names"]).contains(&"Made by caldav".to_string()),
        "{v}"
    );
    assert_eq!(strings(&v["events"]), ["In the new one"], "{v}");
    assert!(
        !strings(&v["after"]).contains(&"Made by caldav".to_string()),
        "{v}"
    );
}

fn sync_report(url: &str, token: &str) -> Reply {
    curl(
        "REPORT",
        url,
        &["Content-Type: application/xml"],
        Some(&format!(
            r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
        )),
    )
}

/// A multiget and a GET give back the object as its client PUT it, byte
/// for byte (properties groxide has no MAPI home for, line order and
/// folding included), with the ETag of its change number.
#[test]
fn items_come_back_as_put_from_get_and_multiget() {
    let node = node("127.0.93.10");
    let b = base(&node);
    let cal = format!("{b}/dav/calendars/{USER}/calendar/");
    let body = "BEGIN:VCALENDAR\r\nPRODID:-//Odd Client//EN\r\nVERSION:2.0\r\nX-WR-CALNAME:Mine\r\n\
                BEGIN:VEVENT\r\nSUMMARY:Kept as is\r\nUID:kept-1\r\nX-ODD-CLIENT-STATE:7;a=b\r\n\
                DTSTAMP:20240101T000000Z\r\nDTSTART:20240110T100000Z\r\nDTEND:20240110T110000Z\r\n\
                DESCRIPTION:a long line that the client folded at an odd place in the\r\n  middle\r\n\
                END:VEVENT\r\nEND:VCALENDAR\r\n";
    let put = curl(
        "PUT",
        &format!("{cal}kept.ics"),
        &["Content-Type: text/calendar"],
        Some(body),
    );
    assert_eq!(put.status, 201, "{}", put.body);
    let get = curl("GET", &format!("{cal}kept.ics"), &[], None);
    assert_eq!(get.body, body);
    assert_eq!(etag(&get), etag(&put));
    let mg = curl(
        "REPORT",
        &cal,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(&format!(
            r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>/dav/calendars/{USER}/calendar/kept.ics</D:href><D:href>/dav/calendars/{USER}/calendar/none.ics</D:href></C:calendar-multiget>"#
        )),
    );
    assert_eq!(mg.status, 207, "{}", mg.body);
    let data_start =
        mg.body.find("<C:calendar-data>").expect("calendar-data") + "<C:calendar-data>".len();
    let data_end = mg.body[data_start..].find("</C:calendar-data>").unwrap() + data_start;
    // CR travels as a character reference in XML text.
    assert_eq!(mg.body[data_start..data_end].replace("&#13;", "\r"), body);
    let tag = etag(&put).replace('"', "&quot;");
    assert!(
        mg.body.contains(&format!("<D:getetag>{tag}</D:getetag>")),
        "{}",
        mg.body
    );
    assert!(
        mg.body.contains("none.ics</D:href><D:status>HTTP/1.1 404"),
        "{}",
        mg.body
    );
}

/// COPY and MOVE of items (RFC 4918 §9.8–9.9) between a user's calendars:
/// Destination and Overwrite, UID conflicts, kinds that do not mix, and a
/// move that sync clients of the source see as a removal.
#[test]
fn copy_and_move_carry_items_between_calendars() {
    let node = node("127.0.93.11");
    let b = base(&node);
    let home = format!("{b}/dav/calendars/{USER}/");
    let cal = format!("{home}calendar/");
    let work = format!("{home}work/");
    assert_eq!(curl("MKCALENDAR", &work, &[], None).status, 201);
    let ct = "Content-Type: text/calendar";
    let a = event("uid-a", "Alpha", "20240110T100000Z", "20240110T110000Z", "");
    assert_eq!(
        curl("PUT", &format!("{cal}a.ics"), &[ct], Some(&a)).status,
        201
    );
    let token = sync_token(&sync_report(&cal, "").body);
    let dest = |url: &str| format!("Destination: {url}");

    let copy = curl(
        "COPY",
        &format!("{cal}a.ics"),
        &[&dest(&format!("{work}a-copy.ics"))],
        None,
    );
    assert_eq!(copy.status, 201, "{}", copy.body);
    let got = curl("GET", &format!("{work}a-copy.ics"), &[], None);
    assert!(got.body.contains("SUMMARY:Alpha"), "{}", got.body);
    assert_eq!(curl("GET", &format!("{cal}a.ics"), &[], None).status, 200);
    // An existing destination with Overwrite: F.
    let kept = curl(
        "COPY",
        &format!("{cal}a.ics"),
        &[&dest(&format!("{work}a-copy.ics")), "Overwrite: F"],
        None,
    );
    assert_eq!(kept.status, 412, "{}", kept.body);
    // Two names for one UID in a collection: no-uid-conflict naming the holder.
    let twice = curl(
        "COPY",
        &format!("{cal}a.ics"),
        &[&dest(&format!("{cal}b.ics"))],
        None,
    );
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(twice.body.contains("no-uid-conflict"), "{}", twice.body);
    assert!(twice.body.contains("calendar/a.ics"), "{}", twice.body);
    let c = event("uid-c", "Gamma", "20240111T100000Z", "20240111T110000Z", "");
    assert_eq!(
        curl("PUT", &format!("{work}c.ics"), &[ct], Some(&c)).status,
        201
    );
    let clash = curl(
        "MOVE",
        &format!("{cal}a.ics"),
        &[&dest(&format!("{work}c.ics"))],
        None,
    );
    assert_eq!(clash.status, 409, "{}", clash.body);
    assert!(clash.body.contains("work/a-copy.ics"), "{}", clash.body);
    assert_eq!(
        curl("DELETE", &format!("{work}a-copy.ics"), &[], None).status,
        204
    );
    // MOVE over an item of another UID (Overwrite: T by default): 204.
    let mv = curl(
        "MOVE",
        &format!("{cal}a.ics"),
        &[&dest(&format!("{work}c.ics"))],
        None,
    );
    assert_eq!(mv.status, 204, "{}", mv.body);
    let moved = curl("GET", &format!("{work}c.ics"), &[], None);
    assert!(moved.body.contains("SUMMARY:Alpha"), "{}", moved.body);
    assert_eq!(curl("GET", &format!("{cal}a.ics"), &[], None).status, 404);
    let since = sync_report(&cal, &token);
    assert!(
        since.body.contains(&format!(
            "<D:href>/dav/calendars/{USER}/calendar/a.ics</D:href><D:status>HTTP/1.1 404"
        )),
        "{}",
        since.body
    );
    // Refused: a rename inside a collection, the wrong kind, another
    // server, a missing collection, a missing source.
    let rename = curl(
        "MOVE",
        &format!("{work}c.ics"),
        &[&dest(&format!("{work}d.ics"))],
        None,
    );
    assert_eq!(rename.status, 403, "{}", rename.body);
    let to_book = curl(
        "COPY",
        &format!("{work}c.ics"),
        &[&dest(&format!(
            "{b}/dav/addressbooks/{USER}/contacts/c.vcf"
        ))],
        None,
    );
    assert_eq!(to_book.status, 403, "{}", to_book.body);
    let tasks = curl(
        "COPY",
        &format!("{work}c.ics"),
        &[&dest(&format!("{home}tasks/c.ics"))],
        None,
    );
    assert_eq!(tasks.status, 403, "{}", tasks.body);
    assert!(
        tasks.body.contains("supported-calendar-component"),
        "{}",
        tasks.body
    );
    let away = curl(
        "COPY",
        &format!("{work}c.ics"),
        &["Destination: https://elsewhere.test/other/c.ics"],
        None,
    );
    assert_eq!(away.status, 502, "{}", away.body);
    let nowhere = curl(
        "COPY",
        &format!("{work}c.ics"),
        &[&dest(&format!("{home}nope/c.ics"))],
        None,
    );
    assert_eq!(nowhere.status, 409, "{}", nowhere.body);
    let missing = curl(
        "COPY",
        &format!("{cal}gone.ics"),
        &[&dest(&format!("{work}x.ics"))],
        None,
    );
    assert_eq!(missing.status, 404, "{}", missing.body);
    let no_dest = curl("COPY", &format!("{work}c.ics"), &[], None);
    assert_eq!(no_dest.status, 400, "{}", no_dest.body);
}

/// The domain's users as the read-only address book `gal`: listed in the
/// home, read by PROPFIND, GET, multiget, query and sync; every write
/// refused with 403 and need-privileges; a directory change makes an old
/// sync token invalid.
#[test]
fn the_gal_lists_the_domains_users_read_only() {
    let node = node("127.0.93.12");
    node.create_user("bob@example.test", "pw-bob", None);
    node.create_domain("other.test");
    node.create_user("carol@other.test", "pw-carol", None);
    let b = base(&node);
    let home = format!("{b}/dav/addressbooks/{USER}/");
    let gal = format!("{home}gal/");
    let listing = propfind(&home, "1", "<D:resourcetype/><D:displayname/>");
    assert!(
        listing
            .body
            .contains(&format!("/dav/addressbooks/{USER}/gal/</D:href>")),
        "{}",
        listing.body
    );
    assert!(
        listing.body.contains("Global Address List"),
        "{}",
        listing.body
    );
    let p = propfind(&gal, "1", "<D:getetag/><D:current-user-privilege-set/>");
    assert_eq!(p.status, 207, "{}", p.body);
    assert!(
        p.body.contains("<D:read/>") && !p.body.contains("<D:write/>"),
        "{}",
        p.body
    );
    let hrefs: Vec<&str> = p.body.matches(".vcf</D:href>").collect();
    assert_eq!(hrefs.len(), 2, "demo and bob, not carol: {}", p.body);
    assert!(!p.body.contains("carol"), "{}", p.body);
    let bob_href = p
        .body
        .split("<D:href>")
        .filter_map(|s| s.split("</D:href>").next())
        .find(|h| {
            h.ends_with(".vcf") && {
                let card = curl("GET", &format!("{b}{h}"), &[], None);
                card.body
                    .contains("EMAIL;TYPE=INTERNET,PREF:bob@example.test")
            }
        })
        .expect("bob's card")
        .to_string();
    let q = curl(
        "REPORT",
        &gal,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(
            r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop><C:filter><C:prop-filter name="EMAIL"><C:text-match>bob@</C:text-match></C:prop-filter></C:filter></C:addressbook-query>"#,
        ),
    );
    assert_eq!(q.status, 207, "{}", q.body);
    assert!(
        q.body.contains(&bob_href) && !q.body.contains("FN:demo"),
        "{}",
        q.body
    );
    let mg = curl(
        "REPORT",
        &gal,
        &["Content-Type: application/xml"],
        Some(&format!(
            r#"<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data version="4.0"/></D:prop><D:href>{bob_href}</D:href></C:addressbook-multiget>"#
        )),
    );
    assert!(
        mg.body.contains("VERSION:4.0") && mg.body.contains("bob@example.test"),
        "{}",
        mg.body
    );
    let first = sync_report(&gal, "");
    let token = sync_token(&first.body);
    assert!(first.body.contains(&bob_href), "{}", first.body);
    let again = sync_report(&gal, &token);
    assert_eq!(sync_token(&again.body), token);
    assert!(!again.body.contains(".vcf"), "{}", again.body);
    // Writes: 403 with need-privileges, nothing changes.
    let card = CARD;
    for (method, url, extra, body) in [
        (
            "PUT",
            format!("{gal}new.vcf"),
            vec!["Content-Type: text/vcard"],
            Some(card),
        ),
        ("DELETE", format!("{b}{bob_href}"), vec![], None),
        (
            "PROPPATCH",
            gal.clone(),
            vec![],
            Some(
                r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>"#,
            ),
        ),
        ("MOVE", format!("{b}{bob_href}"), vec![], None),
    ] {
        let mut h: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        h.push(format!("Destination: {home}contacts/bob.vcf"));
        let hr: Vec<&str> = h.iter().map(String::as_str).collect();
        let r = curl(method, &url, &hr, body);
        assert_eq!(r.status, 403, "{method}: {}", r.body);
        assert!(r.body.contains("need-privileges"), "{method}: {}", r.body);
    }
    let into = curl(
        "PUT",
        &format!("{home}contacts/ann.vcf"),
        &["Content-Type: text/vcard"],
        Some(card),
    );
    assert_eq!(into.status, 201, "{}", into.body);
    let copy_in = curl(
        "COPY",
        &format!("{home}contacts/ann.vcf"),
        &[&format!("Destination: {gal}ann.vcf")],
        None,
    );
    assert_eq!(copy_in.status, 403, "{}", copy_in.body);
    // Copying a GAL entry into one's own address book is a read of it.
    let copy_out = curl(
        "COPY",
        &format!("{b}{bob_href}"),
        &[&format!("Destination: {home}contacts/bob.vcf")],
        None,
    );
    assert_eq!(copy_out.status, 201, "{}", copy_out.body);
    assert_eq!(sync_token(&sync_report(&gal, "").body), token);
    // A new user changes the GAL: the old token is refused, a fresh sync works.
    node.create_user("dave@example.test", "pw-dave", None);
    let stale = sync_report(&gal, &token);
    assert_eq!(stale.status, 403, "{}", stale.body);
    assert!(stale.body.contains("valid-sync-token"), "{}", stale.body);
    let all = propfind(&gal, "1", "<D:getetag/>");
    assert_eq!(all.body.matches(".vcf</D:href>").count(), 3, "{}", all.body);
}

/// The account setup and first sync Apple Calendar and Apple Contacts
/// (iOS/macOS) do, from their documented behaviour: well-known redirects,
/// a principal PROPFIND with CalendarServer properties groxide does not
/// have (404 in their own propstat, never an error), the homes with
/// Apple's collection properties, colour and order set by PROPPATCH and
/// read back, creation with `If-None-Match: *`, sync-collection then
/// multiget, and updates with `If-Match`.
#[test]
fn account_setup_and_first_sync_of_apple_calendar_and_contacts() {
    let node = node("127.0.93.13");
    let b = base(&node);
    for (well_known, home) in [("caldav", "calendars"), ("carddav", "addressbooks")] {
        let wk = curl(
            "PROPFIND",
            &format!("{b}/.well-known/{well_known}"),
            &["Depth: 0"],
            None,
        );
        assert!(matches!(wk.status, 301 | 307 | 308), "{}", wk.status);
        let p = propfind(
            &format!("{b}/dav/principals/{USER}/"),
            "0",
            "<D:current-user-principal/><D:principal-URL/><D:displayname/><C:calendar-home-set/>\
             <CR:addressbook-home-set/><C:calendar-user-address-set/><CS:email-address-set/>\
             <CS:dropbox-home-URL/><CS:notification-URL/><C:schedule-outbox-URL/><D:supported-report-set/>",
        );
        assert_eq!(p.status, 207, "{}", p.body);
        assert!(
            p.body.contains(&format!("/dav/{home}/{USER}/</D:href>")),
            "{}",
            p.body
        );
        // What groxide does not have is a 404 beside the 200s.
        assert!(p.body.contains("HTTP/1.1 200"), "{}", p.body);
        assert!(
            p.body.contains("<CS:dropbox-home-URL/>") && p.body.contains("HTTP/1.1 404"),
            "{}",
            p.body
        );
    }

    // Apple Calendar: the home with the properties it shows and sorts by.
    let home = propfind(
        &format!("{b}/dav/calendars/{USER}/"),
        "1",
        "<D:resourcetype/><D:displayname/><CS:getctag/><D:sync-token/><A:calendar-color/>\
         <A:calendar-order/><C:supported-calendar-component-set/><C:calendar-description/>\
         <D:current-user-privilege-set/><D:owner/><CS:pushkey/><D:quota-available-bytes/>\
         <D:quota-used-bytes/><C:calendar-timezone/><C:schedule-calendar-transp/>",
    );
    assert_eq!(home.status, 207, "{}", home.body);
    assert!(
        home.body
            .contains(&format!("<D:href>/dav/calendars/{USER}/calendar/</D:href>")),
        "{}",
        home.body
    );
    let coll = format!("{b}/dav/calendars/{USER}/calendar/");
    let patch = curl(
        "PROPPATCH",
        &coll,
        &["Content-Type: application/xml"],
        Some(
            r##"<?xml version="1.0" encoding="UTF-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><A:calendar-color>#FF2968FF</A:calendar-color><A:calendar-order>3</A:calendar-order></D:prop></D:set></D:propertyupdate>"##,
        ),
    );
    assert_eq!(patch.status, 207, "{}", patch.body);
    assert!(patch.body.contains("HTTP/1.1 200"), "{}", patch.body);
    let back = propfind(&coll, "0", "<A:calendar-color/><A:calendar-order/>");
    assert!(back.body.contains("#FF2968FF"), "{}", back.body);
    assert!(back.body.contains(">3</"), "{}", back.body);

    // A new event under a fresh UUID name, created only if absent.
    let token = sync_token(&propfind(&coll, "0", "<D:sync-token/>").body);
    let href = format!("/dav/calendars/{USER}/calendar/6F0C1B1E-9D2B-4B43-9E2A-3C0D1A5E7F11.ics");
    let ics = event(
        "6F0C1B1E-9D2B-4B43-9E2A-3C0D1A5E7F11",
        "Dentist",
        "20240312T090000Z",
        "20240312T100000Z",
        "",
    );
    let put = |extra: &[&str], body: &str| {
        let mut headers = vec!["Content-Type: text/calendar; charset=utf-8"];
        headers.extend_from_slice(extra);
        curl("PUT", &format!("{b}{href}"), &headers, Some(body))
    };
    let created = put(&["If-None-Match: *"], &ics);
    assert_eq!(created.status, 201, "{}", created.body);
    let first_etag = etag(&created);
    assert_eq!(put(&["If-None-Match: *"], &ics).status, 412);
    // The first sync from the token of before: the new resource by name.
    let sync = curl(
        "REPORT",
        &coll,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(&format!(
            r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:sync-collection>"#
        )),
    );
    assert_eq!(sync.status, 207, "{}", sync.body);
    assert!(sync.body.contains(&href), "{}", sync.body);
    let multiget = curl(
        "REPORT",
        &coll,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(&format!(
            r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>{href}</D:href></C:calendar-multiget>"#
        )),
    );
    assert_eq!(multiget.status, 207, "{}", multiget.body);
    assert!(
        multiget.body.contains("SUMMARY:Dentist"),
        "{}",
        multiget.body
    );
    // An edit with the ETag it knows; a stale one is refused.
    let edited = event(
        "6F0C1B1E-9D2B-4B43-9E2A-3C0D1A5E7F11",
        "Dentist (moved)",
        "20240313T090000Z",
        "20240313T100000Z",
        "",
    );
    let updated = put(&[&format!("If-Match: {first_etag}")], &edited);
    assert!(matches!(updated.status, 200 | 204), "{}", updated.status);
    assert_eq!(
        put(&[&format!("If-Match: {first_etag}")], &ics).status,
        412,
        "a stale ETag"
    );

    // Apple Contacts: the address books, then a card made and synced.
    let books = propfind(
        &format!("{b}/dav/addressbooks/{USER}/"),
        "1",
        "<D:resourcetype/><D:displayname/><CS:getctag/><D:sync-token/><CR:max-resource-size/>\
         <D:supported-report-set/><D:current-user-privilege-set/>",
    );
    assert_eq!(books.status, 207, "{}", books.body);
    assert!(books.body.contains("<CR:addressbook/>"), "{}", books.body);
    let book = format!("{b}/dav/addressbooks/{USER}/contacts/");
    let card_href =
        format!("/dav/addressbooks/{USER}/contacts/0B5D7E7C-1A3F-4E2B-8F5C-2D6A9B3C4E5F.vcf");
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\n\
                UID:0B5D7E7C-1A3F-4E2B-8F5C-2D6A9B3C4E5F\r\nN:Appleseed;Johnny;;;\r\n\
                FN:Johnny Appleseed\r\nEMAIL;type=INTERNET;type=HOME;type=pref:johnny@example.org\r\n\
                TEL;type=CELL;type=VOICE;type=pref:+1 555 0100\r\nEND:VCARD\r\n";
    let made = curl(
        "PUT",
        &format!("{b}{card_href}"),
        &[
            "Content-Type: text/vcard; charset=utf-8",
            "If-None-Match: *",
        ],
        Some(card),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let got = curl(
        "REPORT",
        &book,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(&format!(
            r#"<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop><D:href>{card_href}</D:href></CR:addressbook-multiget>"#
        )),
    );
    assert_eq!(got.status, 207, "{}", got.body);
    assert!(got.body.contains("FN:Johnny Appleseed"), "{}", got.body);
    assert!(got.body.contains("johnny@example.org"), "{}", got.body);
}

/// What Evolution does with a CalDAV calendar and a CardDAV address book
/// (from its documented behaviour): OPTIONS for the DAV classes, a Depth 0
/// PROPFIND of the collection, a calendar-query for every VEVENT's ETag
/// (no time range), then multiget of what it lacks; for contacts a Depth 1
/// PROPFIND of ETags and addressbook-multiget.
#[test]
fn evolution_checks_the_dav_classes_then_lists_etags_and_fetches_by_multiget() {
    let node = node("127.0.93.14");
    let b = base(&node);
    let coll = format!("{b}/dav/calendars/{USER}/calendar/");
    let book = format!("{b}/dav/addressbooks/{USER}/contacts/");
    for (url, class) in [(&coll, "calendar-access"), (&book, "addressbook")] {
        let o = curl("OPTIONS", url, &[], None);
        assert!(o.status < 300, "{}", o.status);
        let dav = o
            .headers
            .lines()
            .find(|l| l.starts_with("dav:"))
            .unwrap_or_default();
        assert!(dav.contains(class), "{}", o.headers);
    }
    let c = propfind(
        &coll,
        "0",
        "<D:resourcetype/><D:displayname/><CS:getctag/><A:calendar-color/><C:supported-calendar-component-set/>",
    );
    assert_eq!(c.status, 207, "{}", c.body);
    assert!(c.body.contains("<C:calendar/>"), "{}", c.body);
    for (uid, summary, start) in [
        ("evo-1", "Standup", "20240401T090000Z"),
        ("evo-2", "Review", "20240402T140000Z"),
    ] {
        let end = start.replace("T09", "T10").replace("T14", "T15");
        let r = curl(
            "PUT",
            &format!("{coll}{uid}.ics"),
            &["Content-Type: text/calendar", "If-None-Match: *"],
            Some(&event(uid, summary, start, &end, "")),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let q = curl(
        "REPORT",
        &coll,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(
            r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>"#,
        ),
    );
    assert_eq!(q.status, 207, "{}", q.body);
    assert_eq!(q.body.matches("<D:getetag>").count(), 2, "{}", q.body);
    assert!(
        !q.body.contains("BEGIN:VCALENDAR"),
        "ETags only: {}",
        q.body
    );
    let m = curl(
        "REPORT",
        &coll,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(&format!(
            r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>/dav/calendars/{USER}/calendar/evo-1.ics</D:href><D:href>/dav/calendars/{USER}/calendar/evo-2.ics</D:href></C:calendar-multiget>"#
        )),
    );
    assert_eq!(m.status, 207, "{}", m.body);
    assert!(
        m.body.contains("SUMMARY:Standup") && m.body.contains("SUMMARY:Review"),
        "{}",
        m.body
    );

    let r = curl(
        "PUT",
        &format!("{book}evo-card.vcf"),
        &["Content-Type: text/vcard", "If-None-Match: *"],
        Some(CARD),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let list = propfind(&book, "1", "<D:getetag/><D:getcontenttype/>");
    assert_eq!(list.status, 207, "{}", list.body);
    assert!(list.body.contains("evo-card.vcf"), "{}", list.body);
    let cards = curl(
        "REPORT",
        &book,
        &["Depth: 1", "Content-Type: application/xml"],
        Some(&format!(
            r#"<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop><D:href>/dav/addressbooks/{USER}/contacts/evo-card.vcf</D:href></CR:addressbook-multiget>"#
        )),
    );
    assert_eq!(cards.status, 207, "{}", cards.body);
    assert!(cards.body.contains("FN:Ann Example"), "{}", cards.body);
}
