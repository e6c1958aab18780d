//! Search and Find, ItemOperations (attachments by FileReference, search results by
//! LongId, EmptyFolderContents), FilterType and server-wins conflicts of
//! the ActiveSync module over an in-process groxide-exmdb (and, for the
//! indexed mailbox Search, groxide-event and groxide-midb), driven through
//! its router with WBXML bodies. Requests are written in EAS XML and
//! encoded by groxide-wbxml; the Search answer is also decoded by
//! libwbxml's `wbxml2xml` (libwbxml2-utils) as an independent reader.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use base64::Engine as _;
use groxide_directory::{AddressStatus, DomainId, PrivilegeBits, ServerId, User, UserId};
use groxide_eas::{Eas, EasSettings};
use groxide_http_core::Principal;
use groxide_routing::{ListKind, Resolver, RouteTable};
use groxide_rpc::ClientOptions;
use groxide_rpc::RoutedClient;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::midb_view::RemoteView;
use groxide_rpc::pb::exmdb::v1 as xpb;
use groxide_runtime::Routing;
use groxide_testkit::LocalNode;
use groxide_wbxml::{
    AirSync, AirSyncBase, ComposeMail, Element, Find, FolderHierarchy, ItemOperations, Limits,
    Ping, Provision, Search,
};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct World {
    _local: LocalNode,
    _data: tempfile::TempDir,
    client: Arc<ExmdbClient>,
    dir: String,
    eas: Arc<Eas>,
    principal: Principal,
}

struct Phone<'a> {
    world: &'a World,
    device: &'static str,
    key: String,
    version: &'static str,
}

fn xml(text: &str) -> Element {
    Element::from_xml(text, &Limits::default()).unwrap()
}

fn text(e: &Element, tag: impl Into<groxide_wbxml::Tag>) -> String {
    e.child_text(tag).unwrap_or("").to_string()
}

async fn world() -> World {
    world_with_relay("smtp://127.0.0.1:1").await
}

async fn world_with_relay(relay: &str) -> World {
    world_with(relay, false, None).await
}

/// Forwards 127.0.0.1:(returned port) to `target`, adding the bytes that
/// come back from `target` to `bytes`.
async fn counting_proxy(target: u16, bytes: Arc<AtomicU64>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let bytes = bytes.clone();
            tokio::spawn(async move {
                let Ok(outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                else {
                    return;
                };
                let (mut from_client, mut to_client) = inbound.into_split();
                let (mut from_server, mut to_server) = outbound.into_split();
                let up = tokio::io::copy(&mut from_client, &mut to_server);
                let down = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = from_server.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        bytes.fetch_add(n as u64, Ordering::Relaxed);
                        if to_client.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                let _ = tokio::join!(up, down);
            });
        }
    });
    port
}

/// A world whose module reaches exmdb directly, or through a proxy that
/// counts what exmdb sends it into `exmdb_bytes`; with `midb`, event and
/// midb run too and the module's Search asks midb's index.
async fn world_with(relay: &str, midb: bool, exmdb_bytes: Option<Arc<AtomicU64>>) -> World {
    let local = LocalNode::new();
    if midb {
        local
            .start(groxide_event::ENDPOINT, groxide_event::run)
            .await;
    }
    let exmdb = local
        .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
        .await;
    if midb {
        local.start(groxide_midb::ENDPOINT, groxide_midb::run).await;
    }
    let routing = Arc::new(Routing::load(&exmdb.config(), None).unwrap());
    let client = Arc::new(ExmdbClient::new(
        routing.exmdb().clone(),
        ClientOptions::default(),
    ));
    let module_client = match exmdb_bytes {
        Some(bytes) => {
            let port = counting_proxy(local.exmdb_port, bytes).await;
            let via_proxy = Resolver::new(
                RouteTable::parse("", ListKind::Exmdb, std::path::Path::new("exmdb_list.txt"))
                    .unwrap(),
                None,
                groxide_routing::LocalNode::new("test", vec!["127.0.0.1".parse().unwrap()]),
                port,
                std::time::Duration::from_secs(60),
            )
            .with_default_host("127.0.0.1");
            Arc::new(ExmdbClient::new(
                Arc::new(via_proxy),
                ClientOptions::default(),
            ))
        }
        None => client.clone(),
    };
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("demo").to_string_lossy().into_owned();
    client
        .create_store(xpb::CreateStoreRequest {
            dir: dir.clone(),
            r#type: xpb::StoreType::Private as i32,
            owner: "demo".into(),
            lang: String::new(),
            quota_bytes: 0,
        })
        .await
        .unwrap();
    let hub = groxide_rpc::EventHub::new(
        routing.clone(),
        ClientOptions::default(),
        groxide_rpc::HubSettings::default(),
    );
    let submitter = groxide_submit::Submitter::new(relay, groxide_submit::SubmitOptions::default())
        .ok()
        .map(Arc::new);
    let eas = Eas::new(module_client, hub, EasSettings::default(), submitter);
    if midb {
        eas.set_midb(Arc::new(RemoteView::new(Arc::new(RoutedClient::new(
            "midb",
            routing.midb().clone(),
            ClientOptions::default(),
        )))));
    }
    let principal = Principal {
        user: Arc::new(User {
            id: UserId(1),
            username: "demo".into(),
            domain_id: DomainId(1),
            maildir: dir.clone(),
            homeserver: ServerId::ANY,
            address_status: AddressStatus::NORMAL,
            privilege_bits: PrivilegeBits(u32::MAX),
            lang: String::new(),
            timezone: String::new(),
        }),
        scheme: "Basic",
    };
    World {
        _local: local,
        _data: data,
        client,
        dir,
        eas,
        principal,
    }
}

impl World {
    async fn deliver(&self, raw: &str, internal_date: i64) {
        self.client
            .insert_message_bytes(
                xpb::InsertHeader {
                    dir: self.dir.clone(),
                    folder: Some(folder_role("inbox")),
                    internal_date,
                    ..xpb::InsertHeader::default()
                },
                raw.as_bytes().to_vec(),
            )
            .await
            .unwrap();
    }

    /// A provisioned device that has run its FolderSync: (phone, folder
    /// type → ServerId).
    async fn phone(&self, device: &'static str) -> (Phone<'_>, Vec<(String, String)>) {
        let mut p = Phone {
            world: self,
            device,
            key: "0".into(),
            version: "14.1",
        };
        let policy = |ack: &str| {
            xml(&format!(
                "<Provision xmlns=\"Provision:\"><Policies><Policy>\
                 <PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>{ack}</Policy></Policies></Provision>"
            ))
        };
        let key_of = |d: &Element| {
            d.descendant(&[Provision::Policies.into(), Provision::Policy.into()])
                .and_then(|p| p.child_text(Provision::PolicyKey))
                .unwrap()
                .to_string()
        };
        let temp = key_of(&p.post("Provision", &policy("")).await);
        p.key = key_of(
            &p.post(
                "Provision",
                &policy(&format!("<PolicyKey>{temp}</PolicyKey><Status>1</Status>")),
            )
            .await,
        );
        let fs = p
            .post(
                "FolderSync",
                &xml("<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>"),
            )
            .await;
        let folders = fs
            .child(FolderHierarchy::Changes)
            .unwrap()
            .children_named(FolderHierarchy::Add)
            .map(|a| {
                (
                    text(a, FolderHierarchy::Type),
                    text(a, FolderHierarchy::ServerId),
                )
            })
            .collect();
        (p, folders)
    }
}

fn folder(folders: &[(String, String)], kind: &str) -> String {
    folders
        .iter()
        .find(|(t, _)| t == kind)
        .map(|(_, id)| id.clone())
        .unwrap()
}

impl Phone<'_> {
    async fn post_raw(&self, cmd: &str, body: &Element) -> Vec<u8> {
        let mut req = http::Request::builder()
            .method("POST")
            .uri(format!(
                "/Microsoft-Server-ActiveSync?Cmd={cmd}&User=demo&DeviceId={}&DeviceType=test",
                self.device
            ))
            .header("MS-ASProtocolVersion", self.version)
            .header("X-MS-PolicyKey", &self.key)
            .body(Body::from(groxide_wbxml::encode(body)))
            .unwrap();
        req.extensions_mut().insert(self.world.principal.clone());
        let resp = self.world.eas.mount().serve.call(req).await;
        assert_eq!(resp.status(), 200, "{cmd}");
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    async fn post(&self, cmd: &str, body: &Element) -> Element {
        let bytes = self.post_raw(cmd, body).await;
        groxide_wbxml::decode(&bytes, &Limits::default()).unwrap()
    }

    /// One Sync of a collection; its Collection element.
    async fn sync(&self, collection: &str, key: &str, inner: &str) -> Element {
        let d = self
            .post(
                "Sync",
                &xml(&format!(
                    "<Sync xmlns=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\" xmlns:contacts=\"Contacts:\" xmlns:notes=\"Notes:\" xmlns:calendar=\"Calendar:\">\
                     <Collections><Collection><SyncKey>{key}</SyncKey>\
                     <CollectionId>{collection}</CollectionId>{inner}</Collection></Collections></Sync>"
                )),
            )
            .await;
        d.descendant(&[AirSync::Collections.into(), AirSync::Collection.into()])
            .unwrap()
            .clone()
    }
}

fn commands(c: &Element) -> Vec<Element> {
    c.child(AirSync::Commands)
        .map(|x| x.children().to_vec())
        .unwrap_or_default()
}

fn mail(subject: &str, body: &str) -> String {
    format!(
        "From: Ada <ada@remote.test>\r\nTo: demo@example.test\r\nSubject: {subject}\r\n\
         Message-ID: <{}@r>\r\n\r\n{body}\r\n",
        subject.replace(' ', ".")
    )
}

fn wbxml2xml(wbxml: &[u8]) -> Option<String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("wbxml2xml")
        .args(["-l", "ACTIVESYNC", "-m", "0", "-o", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(wbxml).ok()?;
    let out = child.wait_with_output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_mail_by_words_folder_and_date_newest_first_and_fetches_by_long_id() {
    let w = world().await;
    let day = 86_400;
    let base = 1_796_083_200; // 2026-12-01
    w.deliver(&mail("Quarterly report", "Figures attached."), base)
        .await;
    w.deliver(&mail("Lunch", "The quarterly report is late."), base + day)
        .await;
    w.deliver(
        &mail("Quarterly outlook", "No figures yet."),
        base + 2 * day,
    )
    .await;
    w.deliver(&mail("Holiday", "Nothing to report."), base + 3 * day)
        .await;
    let (p, folders) = w.phone("search1").await;
    let inbox = folder(&folders, "2");
    let request = |query: &str, range: &str| {
        xml(&format!(
            "<Search xmlns=\"Search:\" xmlns:airsync=\"AirSync:\" xmlns:email=\"Email:\" \
             xmlns:airsyncbase=\"AirSyncBase:\"><Store><Name>Mailbox</Name><Query><And>\
             <airsync:Class>Email</airsync:Class><airsync:CollectionId>{inbox}</airsync:CollectionId>\
             {query}</And></Query><Options><Range>{range}</Range>\
             <airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>\
             <airsyncbase:TruncationSize>100</airsyncbase:TruncationSize></airsyncbase:BodyPreference>\
             </Options></Store></Search>"
        ))
    };
    let store = |d: &Element| {
        d.descendant(&[Search::Response.into(), Search::Store.into()])
            .unwrap()
            .clone()
    };
    let subjects = |s: &Element| -> Vec<String> {
        s.children_named(Search::Result)
            .filter_map(|r| r.child(Search::Properties))
            .map(|p| text(p, groxide_wbxml::Email::Subject))
            .collect()
    };
    // Both words anywhere (subject or body), newest first.
    let raw = p
        .post_raw(
            "Search",
            &request("<FreeText>quarterly REPORT</FreeText>", "0-9"),
        )
        .await;
    let d = groxide_wbxml::decode(&raw, &Limits::default()).unwrap();
    let s = store(&d);
    assert_eq!(text(&s, Search::Status), "1");
    assert_eq!(subjects(&s), ["Lunch", "Quarterly report"]);
    assert_eq!(text(&s, Search::Total), "2");
    assert_eq!(text(&s, Search::Range), "0-1");
    // libwbxml reads the same answer.
    match wbxml2xml(&raw) {
        Some(x) => {
            assert!(x.contains("<Total>2</Total>"), "{x}");
            assert!(x.contains(">Lunch</Subject>"), "{x}");
        }
        None => {
            eprintln!("SKIPPED the libwbxml check: wbxml2xml is not installed (libwbxml2-utils)")
        }
    }
    // A date bound and a range: the older of the two newer matches.
    let s = store(
        &p.post(
            "Search",
            &request(
                "<FreeText>quarterly</FreeText><GreaterThan><email:DateReceived/>\
                 <Value>2026-12-01T12:00:00.000Z</Value></GreaterThan>",
                "1-1",
            ),
        )
        .await,
    );
    assert_eq!(subjects(&s), ["Lunch"]);
    assert_eq!(text(&s, Search::Total), "2");
    assert_eq!(text(&s, Search::Range), "1-1");
    // Nothing found: an empty Result, no Total.
    let s = store(
        &p.post(
            "Search",
            &request("<FreeText>nonexistent</FreeText>", "0-9"),
        )
        .await,
    );
    assert_eq!(text(&s, Search::Status), "1");
    assert!(s.child(Search::Total).is_none());
    assert_eq!(s.children_named(Search::Result).count(), 1);
    // The result's LongId fetches the item.
    let s = store(
        &p.post("Search", &request("<FreeText>outlook</FreeText>", "0-0"))
            .await,
    );
    let long_id = text(s.child(Search::Result).unwrap(), Search::LongId);
    let d = p
        .post(
            "ItemOperations",
            &xml(&format!(
                "<ItemOperations xmlns=\"ItemOperations:\" xmlns:search=\"Search:\">\
                 <Fetch><Store>Mailbox</Store><search:LongId>{long_id}</search:LongId></Fetch>\
                 </ItemOperations>"
            )),
        )
        .await;
    let fetch = d
        .descendant(&[
            ItemOperations::Response.into(),
            ItemOperations::Fetch.into(),
        ])
        .unwrap();
    assert_eq!(text(fetch, ItemOperations::Status), "1");
    let props = fetch.child(ItemOperations::Properties).unwrap();
    assert_eq!(
        text(props, groxide_wbxml::Email::Subject),
        "Quarterly outlook"
    );
    // An unsupported query is "too complex" (8), not an error page.
    let s = store(
        &p.post("Search", &request("<Or><FreeText>a</FreeText></Or>", "0-9"))
            .await,
    );
    assert_eq!(text(&s, Search::Status), "8");
}

/// Messages in a big inbox: every seventh speaks of a zebra invoice, one
/// more only of a zebra; each carries this much filler text.
const BIG_INBOX: u32 = 300;
const FILLER: usize = 6 * 1024;

/// Fills the inbox of `w`: message `i` arrives a minute after `i - 1`.
async fn fill_big_inbox(w: &World) {
    let base = 1_796_083_200;
    let filler = "lorem ipsum dolor sit amet\r\n".repeat(FILLER / 28);
    for i in 0..BIG_INBOX {
        let (subject, words) = match i {
            _ if i % 7 == 0 => (format!("Match {i}"), "the ZEBRA Invoice is due"),
            150 => ("Half 150".to_string(), "a zebra without paperwork"),
            _ => (format!("Other {i}"), "nothing of interest"),
        };
        w.deliver(
            &mail(&subject, &format!("{words}\r\n{filler}")),
            base + i64::from(i) * 60,
        )
        .await;
    }
}

/// The subjects, Range and Total of a FreeText Search of the inbox.
async fn search_inbox(
    p: &Phone<'_>,
    inbox: &str,
    words: &str,
    range: &str,
) -> (Vec<String>, String, String) {
    let d = p
        .post(
            "Search",
            &xml(&format!(
                "<Search xmlns=\"Search:\" xmlns:airsync=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\">\
                 <Store><Name>Mailbox</Name><Query><And>\
                 <airsync:Class>Email</airsync:Class><airsync:CollectionId>{inbox}</airsync:CollectionId>\
                 <FreeText>{words}</FreeText></And></Query><Options><Range>{range}</Range>\
                 <airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>\
                 <airsyncbase:TruncationSize>100</airsyncbase:TruncationSize></airsyncbase:BodyPreference>\
                 </Options></Store></Search>"
            )),
        )
        .await;
    let s = d
        .descendant(&[Search::Response.into(), Search::Store.into()])
        .unwrap();
    assert_eq!(text(s, Search::Status), "1");
    let results: Vec<&Element> = s.children_named(Search::Result).collect();
    for r in &results {
        if r.child(Search::Properties).is_some() {
            assert_eq!(text(r, AirSync::CollectionId), inbox);
            assert!(!text(r, Search::LongId).is_empty());
        }
    }
    let subjects = results
        .iter()
        .filter_map(|r| r.child(Search::Properties))
        .map(|p| text(p, groxide_wbxml::Email::Subject))
        .collect();
    (subjects, text(s, Search::Range), text(s, Search::Total))
}

fn matches(range: std::ops::Range<usize>) -> Vec<String> {
    let newest_first: Vec<u32> = (0..BIG_INBOX).rev().filter(|i| i % 7 == 0).collect();
    newest_first[range]
        .iter()
        .map(|i| format!("Match {i}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_of_a_big_inbox_answers_from_midbs_index_and_reads_only_the_pages_messages() {
    let exmdb_bytes = Arc::new(AtomicU64::new(0));
    let w = world_with("smtp://127.0.0.1:1", true, Some(exmdb_bytes.clone())).await;
    fill_big_inbox(&w).await;
    let (p, folders) = w.phone("bigsearch").await;
    let inbox = folder(&folders, "2");
    let all_mail = u64::from(BIG_INBOX) * FILLER as u64;

    // The first page: both words (any case), newest first, Total of all.
    exmdb_bytes.store(0, Ordering::Relaxed);
    let (subjects, range, total) = search_inbox(&p, &inbox, "zebra INVOICE", "0-4").await;
    let read = exmdb_bytes.load(Ordering::Relaxed);
    assert_eq!(subjects, matches(0..5));
    assert_eq!((range.as_str(), total.as_str()), ("0-4", "43"));
    // Only the page's five messages came from exmdb (plus the listing).
    eprintln!("search of {BIG_INBOX} messages: {read} bytes from exmdb ({all_mail} bytes of mail)");
    assert!(read < 12 * FILLER as u64, "{read} bytes read from exmdb");

    // Later pages, and the last one cut short.
    let (subjects, range, total) = search_inbox(&p, &inbox, "zebra invoice", "5-9").await;
    assert_eq!(subjects, matches(5..10));
    assert_eq!((range.as_str(), total.as_str()), ("5-9", "43"));
    let (subjects, range, total) = search_inbox(&p, &inbox, "zebra invoice", "40-49").await;
    assert_eq!(subjects, matches(40..43));
    assert_eq!((range.as_str(), total.as_str()), ("40-42", "43"));
    // One word alone finds the one more message that has only it.
    let (subjects, _, total) = search_inbox(&p, &inbox, "zebra", "19-21").await;
    assert_eq!(total, "44");
    assert_eq!(subjects, ["Match 161", "Match 154", "Half 150"]);
}

/// The subjects, Range, Total and statuses (Find's, the Response's) of a
/// 16.1 Find of `words` in the inbox.
async fn find_inbox(
    p: &Phone<'_>,
    inbox: &str,
    words: &str,
    range: &str,
) -> (Vec<String>, String, String, String, String) {
    let d = p
        .post(
            "Find",
            &xml(&format!(
                "<Find xmlns=\"Find:\" xmlns:airsync=\"AirSync:\"><SearchId>5f0e</SearchId>\
                 <ExecuteSearch><MailBoxSearchCriterion><Query><FreeText>{words}</FreeText>\
                 <airsync:Class>Email</airsync:Class><airsync:CollectionId>{inbox}</airsync:CollectionId>\
                 </Query><Options><Range>{range}</Range></Options></MailBoxSearchCriterion>\
                 </ExecuteSearch></Find>"
            )),
        )
        .await;
    let Some(r) = d.child(Find::Response) else {
        return (
            Vec::new(),
            String::new(),
            String::new(),
            text(&d, Find::Status),
            String::new(),
        );
    };
    assert_eq!(text(r, ItemOperations::Store), "Mailbox");
    let results: Vec<&Element> = r.children_named(Find::Result).collect();
    for x in &results {
        assert_eq!(text(x, AirSync::Class), "Email");
        assert_eq!(text(x, AirSync::CollectionId), inbox);
        assert!(text(x, AirSync::ServerId).starts_with(&format!("{inbox}:")));
    }
    let subjects = results
        .iter()
        .filter_map(|x| x.child(Find::Properties))
        .map(|p| text(p, groxide_wbxml::Email::Subject))
        .collect();
    (
        subjects,
        text(r, Find::Range),
        text(r, Find::Total),
        text(&d, Find::Status),
        text(r, Find::Status),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_pages_like_search_from_midbs_index_and_refuses_old_clients_and_bad_requests() {
    let exmdb_bytes = Arc::new(AtomicU64::new(0));
    let w = world_with("smtp://127.0.0.1:1", true, Some(exmdb_bytes.clone())).await;
    fill_big_inbox(&w).await;
    let (mut p, folders) = w.phone("bigfind").await;
    let inbox = folder(&folders, "2");
    p.version = "16.1";
    // The same pages and Total as Search, reading only the page's mail.
    exmdb_bytes.store(0, Ordering::Relaxed);
    let (subjects, range, total, st, response_st) =
        find_inbox(&p, &inbox, "zebra INVOICE", "0-4").await;
    let read = exmdb_bytes.load(Ordering::Relaxed);
    assert_eq!((st.as_str(), response_st.as_str()), ("1", "1"));
    assert_eq!(subjects, matches(0..5));
    assert_eq!((range.as_str(), total.as_str()), ("0-4", "43"));
    assert!(read < 12 * FILLER as u64, "{read} bytes read from exmdb");
    let (subjects, range, total, _, _) = find_inbox(&p, &inbox, "zebra invoice", "40-49").await;
    assert_eq!(subjects, matches(40..43));
    assert_eq!((range.as_str(), total.as_str()), ("40-42", "43"));
    assert_eq!(
        search_inbox(&p, &inbox, "zebra", "19-21").await.0,
        find_inbox(&p, &inbox, "zebra", "19-21").await.0
    );
    // Nothing found: no Result, no Range, Total 0.
    let (subjects, range, total, st, _) = find_inbox(&p, &inbox, "okapi", "0-9").await;
    assert_eq!(
        (subjects.len(), range.as_str(), total.as_str(), st.as_str()),
        (0, "", "0", "1")
    );
    // A Range past 999 is a protocol error (2), with no Response.
    let (subjects, _, _, st, _) = find_inbox(&p, &inbox, "zebra", "0-1000").await;
    assert_eq!((subjects.len(), st.as_str()), (0, "2"));
    let d = p
        .post(
            "Find",
            &xml("<Find xmlns=\"Find:\"><SearchId>1</SearchId><ExecuteSearch/></Find>"),
        )
        .await;
    assert_eq!(text(&d, Find::Status), "2");
    assert!(d.child(Find::Response).is_none());
    // Find is a 16.1 command: a 16.0 client gets the common status 138.
    p.version = "16.0";
    let (subjects, _, _, st, _) = find_inbox(&p, &inbox, "zebra", "0-9").await;
    assert_eq!((subjects.len(), st.as_str()), (0, "138"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_without_midb_reads_the_messages_and_finds_the_same() {
    let exmdb_bytes = Arc::new(AtomicU64::new(0));
    let w = world_with("smtp://127.0.0.1:1", false, Some(exmdb_bytes.clone())).await;
    fill_big_inbox(&w).await;
    let (p, folders) = w.phone("scansearch").await;
    let inbox = folder(&folders, "2");
    exmdb_bytes.store(0, Ordering::Relaxed);
    let (subjects, range, total) = search_inbox(&p, &inbox, "zebra INVOICE", "0-4").await;
    assert_eq!(subjects, matches(0..5));
    assert_eq!((range.as_str(), total.as_str()), ("0-4", "43"));
    // Without an index every candidate is read.
    let read = exmdb_bytes.load(Ordering::Relaxed);
    assert!(
        read > u64::from(BIG_INBOX) * FILLER as u64,
        "{read} bytes read from exmdb"
    );
    let (subjects, range, _) = search_inbox(&p, &inbox, "zebra invoice", "40-49").await;
    assert_eq!(subjects, matches(40..43));
    assert_eq!(range, "40-42");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_is_fetched_by_its_file_reference_and_empty_folder_contents_clears_the_inbox()
{
    let w = world().await;
    let pdf = b"%PDF-1.4 not really a pdf \x00\x01\x02 but binary enough".to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let raw = format!(
        "From: ada@remote.test\r\nTo: demo@example.test\r\nSubject: With attachment\r\n\
         Message-ID: <att@r>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"report.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b1--\r\n"
    );
    w.deliver(&raw, 0).await;
    w.deliver(&mail("Second", "plain"), 0).await;
    let (p, folders) = w.phone("att1").await;
    let inbox = folder(&folders, "2");
    let key = text(&p.sync(&inbox, "0", "").await, AirSync::SyncKey);
    let c = p.sync(&inbox, &key, "<WindowSize>10</WindowSize>").await;
    let key = text(&c, AirSync::SyncKey);
    let added = commands(&c);
    assert_eq!(added.len(), 2);
    let with = added
        .iter()
        .find(|a| {
            text(
                a.child(AirSync::ApplicationData).unwrap(),
                groxide_wbxml::Email::Subject,
            ) == "With attachment"
        })
        .unwrap();
    let att = with
        .child(AirSync::ApplicationData)
        .unwrap()
        .descendant(&[
            AirSyncBase::Attachments.into(),
            AirSyncBase::Attachment.into(),
        ])
        .unwrap();
    assert_eq!(text(att, AirSyncBase::DisplayName), "report.pdf");
    let reference = text(att, AirSyncBase::FileReference);
    let fetch = |reference: String| {
        let p = &p;
        async move {
            let d = p
                .post(
                    "ItemOperations",
                    &xml(&format!(
                        "<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsyncbase=\"AirSyncBase:\">\
                         <Fetch><Store>Mailbox</Store><airsyncbase:FileReference>{reference}\
                         </airsyncbase:FileReference></Fetch></ItemOperations>"
                    )),
                )
                .await;
            d.descendant(&[
                ItemOperations::Response.into(),
                ItemOperations::Fetch.into(),
            ])
            .unwrap()
            .clone()
        }
    };
    let f = fetch(reference.clone()).await;
    assert_eq!(text(&f, ItemOperations::Status), "1");
    let props = f.child(ItemOperations::Properties).unwrap();
    assert_eq!(text(props, AirSyncBase::ContentType), "application/pdf");
    let data = base64::engine::general_purpose::STANDARD
        .decode(text(props, ItemOperations::Data))
        .unwrap();
    assert_eq!(data, pdf);
    // A reference to nothing: Status 6, no data.
    let f = fetch("99999:0".into()).await;
    assert_eq!(text(&f, ItemOperations::Status), "6");
    assert!(f.child(ItemOperations::Properties).is_none());

    // EmptyFolderContents: the next Sync deletes both items on the phone.
    let d = p
        .post(
            "ItemOperations",
            &xml(&format!(
                "<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\">\
                 <EmptyFolderContents><airsync:CollectionId>{inbox}</airsync:CollectionId>\
                 </EmptyFolderContents></ItemOperations>"
            )),
        )
        .await;
    let e = d
        .descendant(&[
            ItemOperations::Response.into(),
            ItemOperations::EmptyFolderContents.into(),
        ])
        .unwrap();
    assert_eq!(text(e, ItemOperations::Status), "1");
    let c = p.sync(&inbox, &key, "").await;
    let cmds = commands(&c);
    assert_eq!(cmds.len(), 2);
    assert!(cmds.iter().all(|c| c.is(AirSync::Delete)), "{cmds:?}");
    // The attachment's message is gone.
    let f = fetch(reference).await;
    assert_eq!(text(&f, ItemOperations::Status), "6");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_type_keeps_mail_older_than_the_window_off_the_phone() {
    let w = world().await;
    let now = chrono::Utc::now().timestamp();
    w.deliver(&mail("Two months old", "x"), now - 60 * 86_400)
        .await;
    w.deliver(&mail("Ten days old", "x"), now - 10 * 86_400)
        .await;
    w.deliver(&mail("Yesterday", "x"), now - 86_400).await;
    let (p, folders) = w.phone("filter1").await;
    let inbox = folder(&folders, "2");
    let subjects = |c: &Element| -> Vec<String> {
        let mut v: Vec<String> = commands(c)
            .iter()
            .map(|a| {
                text(
                    a.child(AirSync::ApplicationData).unwrap(),
                    groxide_wbxml::Email::Subject,
                )
            })
            .collect();
        v.sort();
        v
    };
    // FilterType 4: two weeks.
    let key = text(&p.sync(&inbox, "0", "").await, AirSync::SyncKey);
    let c = p
        .sync(
            &inbox,
            &key,
            "<Options><FilterType>4</FilterType></Options>",
        )
        .await;
    assert_eq!(subjects(&c), ["Ten days old", "Yesterday"]);
    // Another phone without a filter gets everything.
    let (q, _) = w.phone("filter2").await;
    let key = text(&q.sync(&inbox, "0", "").await, AirSync::SyncKey);
    let c = q.sync(&inbox, &key, "").await;
    assert_eq!(subjects(&c).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_a_contact_changed_elsewhere_loses_to_the_servers_version_unless_conflict_is_0()
{
    let w = world().await;
    let (a, folders) = w.phone("phoneA").await;
    let (b, _) = w.phone("phoneB").await;
    let contacts = folder(&folders, "9");
    // Phone A adds a contact; both phones hold it.
    let ka = text(&a.sync(&contacts, "0", "").await, AirSync::SyncKey);
    let c = a
        .sync(
            &contacts,
            &ka,
            "<Commands><Add><ClientId>c1</ClientId><ApplicationData>\
             <contacts:FirstName>Ada</contacts:FirstName><contacts:LastName>Lovelace</contacts:LastName>\
             </ApplicationData></Add></Commands>",
        )
        .await;
    let ka = text(&c, AirSync::SyncKey);
    let sid = text(
        c.descendant(&[AirSync::Responses.into(), AirSync::Add.into()])
            .unwrap(),
        AirSync::ServerId,
    );
    let kb = text(&b.sync(&contacts, "0", "").await, AirSync::SyncKey);
    let c = b.sync(&contacts, &kb, "").await;
    let kb = text(&c, AirSync::SyncKey);
    assert_eq!(commands(&c).len(), 1);
    // Phone B renames her; phone A, not yet told, renames her too.
    let change = |name: &str| {
        format!(
            "<Commands><Change><ServerId>{sid}</ServerId><ApplicationData>\
             <contacts:FirstName>{name}</contacts:FirstName><contacts:LastName>Lovelace</contacts:LastName>\
             </ApplicationData></Change></Commands>"
        )
    };
    let c = b.sync(&contacts, &kb, &change("Augusta")).await;
    assert_eq!(text(&c, AirSync::Status), "1");
    let kb = text(&c, AirSync::SyncKey);
    let c = a.sync(&contacts, &ka, &change("Countess")).await;
    let ka = text(&c, AirSync::SyncKey);
    // Server wins: status 7 for the change, and the server's version comes back.
    let response = c
        .descendant(&[AirSync::Responses.into(), AirSync::Change.into()])
        .expect("a Change response");
    assert_eq!(text(response, AirSync::Status), "7");
    let back = commands(&c);
    assert_eq!(back.len(), 1, "{c:?}");
    assert!(back[0].is(AirSync::Change));
    assert_eq!(
        text(
            back[0].child(AirSync::ApplicationData).unwrap(),
            groxide_wbxml::Contacts::FirstName
        ),
        "Augusta"
    );
    // Phone B changes her again; phone A insists with Conflict 0: A's wins.
    let c = b.sync(&contacts, &kb, &change("Ada B.")).await;
    assert_eq!(text(&c, AirSync::Status), "1");
    let c = a
        .sync(
            &contacts,
            &ka,
            &format!(
                "<Options><Conflict>0</Conflict></Options>{}",
                change("Ada K.")
            ),
        )
        .await;
    assert!(
        c.child(AirSync::Responses).is_none(),
        "the client's change is applied: {c:?}"
    );
    let (d, _) = w.phone("phoneD").await;
    let kd = text(&d.sync(&contacts, "0", "").await, AirSync::SyncKey);
    let c = d.sync(&contacts, &kd, "").await;
    assert_eq!(
        text(
            commands(&c)[0].child(AirSync::ApplicationData).unwrap(),
            groxide_wbxml::Contacts::FirstName
        ),
        "Ada K."
    );
}

/// A one-message SMTP sink: its URL and what it will have received
/// (envelope recipients, data).
async fn smtp_sink() -> (
    String,
    tokio::sync::oneshot::Receiver<(Vec<String>, String)>,
) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let (r, mut w) = s.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 sink\r\n").await.unwrap();
        let (mut rcpts, mut data, mut in_data) = (Vec::new(), String::new(), false);
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    w.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                }
                continue;
            }
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-sink\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("RCPT TO:") {
                rcpts.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                b"250 ok\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 go\r\n"
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            w.write_all(reply).await.unwrap();
        }
        let _ = tx.send((rcpts, data));
    });
    (url, rx)
}

/// A REQUEST from boss@remote.test to demo for "Planning" on 15 December
/// 2026, UID `planning-<n>@remote.test`.
fn planning_invitation(n: u32) -> String {
    format!(
        "From: Boss <boss@remote.test>\r\nTo: demo@example.test\r\n\
        Subject: Planning\r\nMessage-ID: <inv{n}@remote.test>\r\nMIME-Version: 1.0\r\n\
        Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n\
        BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n\
        BEGIN:VEVENT\r\nUID:planning-{n}@remote.test\r\nDTSTAMP:20261201T090000Z\r\n\
        DTSTART:20261215T140000Z\r\nDTEND:20261215T150000Z\r\nSUMMARY:Planning\r\n\
        ORGANIZER:mailto:boss@remote.test\r\n\
        ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:demo@example.test\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_a_meeting_request_books_it_replies_and_moves_the_request_to_deleted_items() {
    let (relay, received) = smtp_sink().await;
    let w = world_with_relay(&relay).await;
    w.deliver(&planning_invitation(1), 0).await;
    let (mut p, folders) = w.phone("meet1").await;
    p.version = "16.1";
    let inbox = folder(&folders, "2");
    let deleted = folder(&folders, "4");
    let calendar = folder(&folders, "8");
    let key = text(&p.sync(&inbox, "0", "").await, AirSync::SyncKey);
    let c = p.sync(&inbox, &key, "").await;
    let mut inbox_key = text(&c, AirSync::SyncKey);
    let request_id = text(&commands(&c)[0], AirSync::ServerId);
    // The phone holds Deleted Items (empty) and the calendar (empty).
    let key = text(&p.sync(&deleted, "0", "").await, AirSync::SyncKey);
    let c = p.sync(&deleted, &key, "").await;
    assert!(commands(&c).is_empty(), "{c:?}");
    let mut deleted_key = text(&c, AirSync::SyncKey);
    let key = text(&p.sync(&calendar, "0", "").await, AirSync::SyncKey);
    let c = p.sync(&calendar, &key, "").await;
    assert!(commands(&c).is_empty(), "{c:?}");
    let mut calendar_key = text(&c, AirSync::SyncKey);
    let respond = |answer: u8, send: bool, collection: String, id: String| {
        let p = &p;
        async move {
            let send = if send { "<SendResponse/>" } else { "" };
            let d = p
                .post(
                    "MeetingResponse",
                    &xml(&format!(
                        "<MeetingResponse xmlns=\"MeetingResponse:\"><Request>\
                         <UserResponse>{answer}</UserResponse><CollectionId>{collection}</CollectionId>\
                         <RequestId>{id}</RequestId>{send}</Request></MeetingResponse>"
                    )),
                )
                .await;
            d.child(groxide_wbxml::MeetingResponse::Result)
                .unwrap()
                .clone()
        }
    };
    let r = respond(1, true, inbox.clone(), request_id.clone()).await;
    assert_eq!(text(&r, groxide_wbxml::MeetingResponse::Status), "1");
    let calendar_id = text(&r, groxide_wbxml::MeetingResponse::CalendarId);
    assert!(
        calendar_id.starts_with(&format!("{calendar}:")),
        "{calendar_id}"
    );
    // The organizer got the iMIP REPLY.
    let (rcpts, data) = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rcpts, ["boss@remote.test"]);
    assert!(data.contains("Subject: Accepted: Planning"), "{data}");
    assert!(data.contains("METHOD:REPLY"), "{data}");
    assert!(data.contains("UID:planning-1@remote.test"), "{data}");
    assert!(
        data.contains("ATTENDEE;PARTSTAT=ACCEPTED:mailto:demo"),
        "{data}"
    );
    // The request left the Inbox: the phone's next Inbox Sync deletes it…
    let raw = p
        .post_raw(
            "Sync",
            &xml(&format!(
                "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>{inbox_key}</SyncKey>\
                 <CollectionId>{inbox}</CollectionId></Collection></Collections></Sync>"
            )),
        )
        .await;
    let d = groxide_wbxml::decode(&raw, &Limits::default()).unwrap();
    let c = d
        .descendant(&[AirSync::Collections.into(), AirSync::Collection.into()])
        .unwrap()
        .clone();
    inbox_key = text(&c, AirSync::SyncKey);
    let cmds = commands(&c);
    assert_eq!(cmds.len(), 1, "{c:?}");
    assert!(cmds[0].is(AirSync::Delete));
    assert_eq!(text(&cmds[0], AirSync::ServerId), request_id);
    match wbxml2xml(&raw) {
        Some(x) => assert!(
            x.contains(&format!(
                "<Delete><ServerId>{request_id}</ServerId></Delete>"
            )),
            "{x}"
        ),
        None => {
            eprintln!("SKIPPED the libwbxml check: wbxml2xml is not installed (libwbxml2-utils)")
        }
    }
    // … and Deleted Items shows it.
    let c = p.sync(&deleted, &deleted_key, "").await;
    deleted_key = text(&c, AirSync::SyncKey);
    let cmds = commands(&c);
    assert_eq!(cmds.len(), 1, "{c:?}");
    assert!(cmds[0].is(AirSync::Add));
    let moved_id = text(&cmds[0], AirSync::ServerId);
    assert!(moved_id.starts_with(&format!("{deleted}:")), "{moved_id}");
    assert_eq!(
        text(
            cmds[0].child(AirSync::ApplicationData).unwrap(),
            groxide_wbxml::Email::Subject
        ),
        "Planning"
    );
    // The calendar shows the appointment, busy.
    let c = p.sync(&calendar, &calendar_key, "").await;
    calendar_key = text(&c, AirSync::SyncKey);
    let added = commands(&c);
    assert_eq!(added.len(), 1, "{c:?}");
    assert_eq!(text(&added[0], AirSync::ServerId), calendar_id);
    let data = added[0].child(AirSync::ApplicationData).unwrap();
    assert_eq!(text(data, groxide_wbxml::Calendar::Subject), "Planning");
    assert_eq!(text(data, groxide_wbxml::Calendar::BusyStatus), "2");
    // Answering from the calendar item (tentative) changes the appointment
    // and moves nothing.
    let r = respond(2, false, calendar.clone(), calendar_id.clone()).await;
    assert_eq!(text(&r, groxide_wbxml::MeetingResponse::Status), "1");
    assert_eq!(
        text(&r, groxide_wbxml::MeetingResponse::CalendarId),
        calendar_id
    );
    let c = p.sync(&calendar, &calendar_key, "").await;
    calendar_key = text(&c, AirSync::SyncKey);
    let cmds = commands(&c);
    assert_eq!(cmds.len(), 1, "{c:?}");
    assert!(cmds[0].is(AirSync::Change));
    assert_eq!(text(&cmds[0], AirSync::ServerId), calendar_id);
    let data = cmds[0].child(AirSync::ApplicationData).unwrap();
    assert_eq!(text(data, groxide_wbxml::Calendar::BusyStatus), "1");
    let c = p.sync(&calendar, &calendar_key, "").await;
    assert!(commands(&c).is_empty(), "{c:?}");
    let c = p.sync(&deleted, &deleted_key, "").await;
    assert!(commands(&c).is_empty(), "{c:?}");
    let c = p.sync(&inbox, &inbox_key, "").await;
    assert!(commands(&c).is_empty(), "{c:?}");
    // An appointment nobody else organizes is no meeting request.
    let own = p
        .sync(
            &calendar,
            &calendar_key,
            "<Commands><Add><ClientId>own1</ClientId><ApplicationData>\
             <calendar:Subject>Dentist</calendar:Subject>\
             <calendar:StartTime>20261216T090000Z</calendar:StartTime>\
             <calendar:EndTime>20261216T100000Z</calendar:EndTime>\
             </ApplicationData></Add></Commands>",
        )
        .await;
    calendar_key = text(&own, AirSync::SyncKey);
    let own_id = own
        .descendant(&[AirSync::Responses.into(), AirSync::Add.into()])
        .map(|a| text(a, AirSync::ServerId))
        .unwrap();
    let r = respond(1, false, calendar.clone(), own_id).await;
    assert_eq!(text(&r, groxide_wbxml::MeetingResponse::Status), "2");
    // Declining from Deleted Items removes the appointment and deletes the
    // request.
    let r = respond(3, false, deleted.clone(), moved_id.clone()).await;
    assert_eq!(text(&r, groxide_wbxml::MeetingResponse::Status), "1");
    assert!(
        r.child(groxide_wbxml::MeetingResponse::CalendarId)
            .is_none()
    );
    let c = p.sync(&calendar, &calendar_key, "").await;
    let cmds = commands(&c);
    assert_eq!(cmds.len(), 1, "{c:?}");
    assert!(cmds[0].is(AirSync::Delete));
    assert_eq!(text(&cmds[0], AirSync::ServerId), calendar_id);
    let c = p.sync(&deleted, &deleted_key, "").await;
    let cmds = commands(&c);
    assert_eq!(cmds.len(), 1, "{c:?}");
    assert!(cmds[0].is(AirSync::Delete));
    assert_eq!(text(&cmds[0], AirSync::ServerId), moved_id);
    // The request is gone: answering it again is status 2, as is a
    // RequestId that names nothing.
    for id in [moved_id, format!("{inbox}:999999")] {
        let r = respond(1, false, inbox.clone(), id).await;
        assert_eq!(text(&r, groxide_wbxml::MeetingResponse::Status), "2");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_one_occurrence_by_instance_id_answers_only_that_occurrence() {
    let (relay, received) = smtp_sink().await;
    let w = world_with_relay(&relay).await;
    // The test world's user is "demo", which is also its address.
    let invitation = "From: Boss <boss@remote.test>\r\nTo: demo@example.test\r\n\
        Subject: Standup\r\nMessage-ID: <inv2@remote.test>\r\nMIME-Version: 1.0\r\n\
        Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n\
        BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n\
        BEGIN:VEVENT\r\nUID:standup-1@remote.test\r\nSEQUENCE:2\r\nDTSTAMP:20261201T090000Z\r\n\
        DTSTART:20261215T140000Z\r\nDTEND:20261215T143000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n\
        SUMMARY:Standup\r\nORGANIZER:mailto:boss@remote.test\r\n\
        ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:demo\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";
    w.deliver(invitation, 0).await;
    let (mut p, folders) = w.phone("occ1").await;
    p.version = "16.1";
    let inbox = folder(&folders, "2");
    let calendar = folder(&folders, "8");
    let key = text(&p.sync(&inbox, "0", "").await, AirSync::SyncKey);
    let c = p.sync(&inbox, &key, "").await;
    let request_id = text(&commands(&c)[0], AirSync::ServerId);
    let respond = |answer: u8, instance: Option<&str>, send: bool, collection: &str, id: &str| {
        let p = &p;
        let instance = instance
            .map(|i| format!("<InstanceId>{i}</InstanceId>"))
            .unwrap_or_default();
        let send = if send { "<SendResponse/>" } else { "" };
        let body = format!(
            "<MeetingResponse xmlns=\"MeetingResponse:\"><Request>\
             <UserResponse>{answer}</UserResponse><CollectionId>{collection}</CollectionId>\
             <RequestId>{id}</RequestId>{instance}{send}</Request></MeetingResponse>"
        );
        async move {
            let d = p.post("MeetingResponse", &xml(&body)).await;
            d.child(groxide_wbxml::MeetingResponse::Result)
                .unwrap()
                .clone()
        }
    };
    // The series is accepted (no reply sent).
    let r = respond(1, None, false, &inbox, &request_id).await;
    assert_eq!(text(&r, groxide_wbxml::MeetingResponse::Status), "1");
    let calendar_id = text(&r, groxide_wbxml::MeetingResponse::CalendarId);
    // No instance starts then, or the time does not read: refused.
    for instance in ["2026-12-23T14:00:00.000Z", "next week"] {
        let r = respond(3, Some(instance), true, &calendar, &calendar_id).await;
        assert_eq!(
            text(&r, groxide_wbxml::MeetingResponse::Status),
            "2",
            "{instance}"
        );
    }
    // The phone declines the 22nd only.
    let r = respond(
        3,
        Some("2026-12-22T14:00:00.000Z"),
        true,
        &calendar,
        &calendar_id,
    )
    .await;
    assert_eq!(text(&r, groxide_wbxml::MeetingResponse::Status), "1");
    assert_eq!(
        text(&r, groxide_wbxml::MeetingResponse::CalendarId),
        calendar_id
    );
    let (rcpts, data) = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rcpts, ["boss@remote.test"]);
    assert!(data.contains("Subject: Declined: Standup"), "{data}");
    assert!(data.contains("RECURRENCE-ID:20261222T140000Z"), "{data}");
    assert!(data.contains("DTSTART:20261222T140000Z"), "{data}");
    assert!(data.contains("SEQUENCE:2"), "{data}");
    assert!(
        data.contains("ATTENDEE;PARTSTAT=DECLINED:mailto:demo\r\n"),
        "{data}"
    );
    assert!(!data.contains("RRULE"), "{data}");
    // The series stays accepted and booked; the 22nd carries the decline.
    let (items, _) = w
        .client
        .list_items(&w.dir, folder_role("calendar"))
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let (_, item) = w
        .client
        .get_item(&w.dir, items[0].message_id)
        .await
        .unwrap();
    assert_eq!(
        item.int(&groxide_mapi::lids::PID_LID_RESPONSE_STATUS),
        Some(i64::from(groxide_pim::ResponseStatus::Accepted.code()))
    );
    let ics = String::from_utf8(item.original.clone().unwrap_or_default())
        .unwrap()
        .replace("\r\n ", "");
    let block = ics
        .split("BEGIN:VEVENT")
        .find(|b| b.contains("RECURRENCE-ID:20261222T140000Z"))
        .unwrap_or_else(|| panic!("no override: {ics}"));
    assert!(
        block.contains("PARTSTAT=DECLINED:mailto:demo\r\n"),
        "{block}"
    );
    assert!(block.contains("X-MICROSOFT-CDO-BUSYSTATUS:FREE"), "{block}");
    assert_eq!(ics.matches("PARTSTAT=DECLINED").count(), 1, "{ics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_made_on_one_phone_syncs_to_another_and_its_change_comes_back() {
    let w = world().await;
    let (a, folders) = w.phone("notesA").await;
    let (b, _) = w.phone("notesB").await;
    let notes = folder(&folders, "10");
    let ka = text(&a.sync(&notes, "0", "").await, AirSync::SyncKey);
    let c = a
        .sync(
            &notes,
            &ka,
            "<Commands><Add><ClientId>n1</ClientId><ApplicationData>\
             <notes:Subject>Shopping</notes:Subject><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>\
             <airsyncbase:Data>milk, bread</airsyncbase:Data></airsyncbase:Body>\
             <notes:MessageClass>IPM.StickyNote</notes:MessageClass></ApplicationData></Add></Commands>",
        )
        .await;
    let ka = text(&c, AirSync::SyncKey);
    let add = c
        .descendant(&[AirSync::Responses.into(), AirSync::Add.into()])
        .unwrap();
    assert_eq!(text(add, AirSync::Status), "1", "{c:?}");
    let sid = text(add, AirSync::ServerId);
    let kb = text(&b.sync(&notes, "0", "").await, AirSync::SyncKey);
    let c = b.sync(&notes, &kb, "").await;
    let kb = text(&c, AirSync::SyncKey);
    let got = commands(&c);
    assert_eq!(got.len(), 1);
    let data = got[0].child(AirSync::ApplicationData).unwrap();
    assert_eq!(text(data, groxide_wbxml::Notes::Subject), "Shopping");
    assert_eq!(
        text(data, groxide_wbxml::Notes::MessageClass),
        "IPM.StickyNote"
    );
    let body = data.child(AirSyncBase::Body).unwrap();
    assert_eq!(text(body, AirSyncBase::Data), "milk, bread");
    // Phone B changes the subject; phone A receives the change.
    let c = b
        .sync(
            &notes,
            &kb,
            &format!(
                "<Commands><Change><ServerId>{sid}</ServerId><ApplicationData>\
                 <notes:Subject>Shopping today</notes:Subject></ApplicationData></Change></Commands>"
            ),
        )
        .await;
    assert!(c.child(AirSync::Responses).is_none(), "{c:?}");
    let c = a.sync(&notes, &ka, "").await;
    let got = commands(&c);
    assert_eq!(got.len(), 1);
    assert!(got[0].is(AirSync::Change));
    let data = got[0].child(AirSync::ApplicationData).unwrap();
    assert_eq!(text(data, groxide_wbxml::Notes::Subject), "Shopping today");
    let body = data.child(AirSyncBase::Body).unwrap();
    assert_eq!(text(body, AirSyncBase::Data), "milk, bread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_recipients_with_availability_gives_a_colleagues_merged_free_busy() {
    use groxide_directory::{Directory, DirectorySettings, DirectoryUrl, NewDomain, NewUser};
    use groxide_rpc::items::{Precondition, PutTarget};
    let w = world().await;
    // A directory: the phone's user, Ada with her own store, and Adam.
    let directory = Directory::connect(&DirectorySettings::new(DirectoryUrl::Sqlite {
        path: w._data.path().join("directory.sqlite3"),
    }))
    .await
    .unwrap();
    directory
        .create_domain(&NewDomain {
            domainname: "example.test".into(),
            homedir: String::new(),
            homeserver: ServerId::ANY,
            max_user: 0,
            title: "Example".into(),
        })
        .await
        .unwrap();
    let ada_dir = w._data.path().join("ada").to_string_lossy().into_owned();
    w.client
        .create_store(xpb::CreateStoreRequest {
            dir: ada_dir.clone(),
            r#type: xpb::StoreType::Private as i32,
            owner: "ada@example.test".into(),
            lang: String::new(),
            quota_bytes: 0,
        })
        .await
        .unwrap();
    let adam_dir = w._data.path().join("adam").to_string_lossy().into_owned();
    for (name, dir) in [
        ("demo@example.test", w.dir.clone()),
        ("ada@example.test", ada_dir.clone()),
        ("adam@example.test", adam_dir),
    ] {
        directory
            .create_user(&NewUser::new(name.to_string(), dir), Some("pw"))
            .await
            .unwrap();
    }
    w.eas.set_directory(directory);
    // Ada: busy 09:00–10:00, tentative 10:30–11:30 (UTC) on 15 December.
    for (uid, start, end, busy) in [
        ("b1", "090000", "100000", ""),
        (
            "t1",
            "103000",
            "113000",
            "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n",
        ),
    ] {
        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n\
             UID:{uid}\r\nDTSTAMP:20261201T090000Z\r\nDTSTART:20261215T{start}Z\r\n\
             DTEND:20261215T{end}Z\r\nSUMMARY:{uid}\r\n{busy}END:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let item = groxide_pim::ical::parse_calendar(
            ics.as_bytes(),
            &groxide_pim::ical::ImportOptions::default(),
        )
        .items
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
        w.client
            .put_item(
                &ada_dir,
                folder_role("calendar"),
                &item,
                PutTarget::New,
                Precondition::None,
            )
            .await
            .unwrap();
    }
    let (p, _) = w.phone("resolve1").await;
    let request = |to: &[&str], availability: &str| {
        let to: String = to.iter().map(|t| format!("<To>{t}</To>")).collect();
        xml(&format!(
            "<ResolveRecipients xmlns=\"ResolveRecipients:\">{to}<Options>\
             <Availability>{availability}</Availability></Options></ResolveRecipients>"
        ))
    };
    let range =
        |start: &str, end: &str| format!("<StartTime>{start}</StartTime><EndTime>{end}</EndTime>");
    use groxide_wbxml::ResolveRecipients as RR;
    let raw = p
        .post_raw(
            "ResolveRecipients",
            &request(
                &["ada@example.test", "ad", "nobody@remote.test"],
                &range("2026-12-15T08:00:00.000Z", "2026-12-15T12:00:00.000Z"),
            ),
        )
        .await;
    let d = groxide_wbxml::decode(&raw, &Limits::default()).unwrap();
    assert_eq!(text(&d, RR::Status), "1");
    let responses: Vec<&Element> = d.children_named(RR::Response).collect();
    assert_eq!(responses.len(), 3);
    // Ada, one match: her free/busy, a digit per half hour from 08:00.
    assert_eq!(text(responses[0], RR::Status), "1");
    let ada = responses[0].child(RR::Recipient).unwrap();
    assert_eq!(text(ada, RR::EmailAddress), "ada@example.test");
    let availability = ada.child(RR::Availability).unwrap();
    assert_eq!(text(availability, RR::Status), "1");
    assert_eq!(text(availability, RR::MergedFreeBusy), "00220110");
    // Ambiguous: candidates, but no free/busy for any of them.
    assert_eq!(text(responses[1], RR::Status), "2");
    assert!(
        responses[1]
            .children_named(RR::Recipient)
            .all(|r| r.child(RR::Availability).is_none())
    );
    // Nobody of that name.
    assert_eq!(text(responses[2], RR::Status), "4");
    assert!(responses[2].child(RR::Recipient).is_none());
    match wbxml2xml(&raw) {
        Some(x) => assert!(x.contains(">00220110<"), "{x}"),
        None => {
            eprintln!("SKIPPED the libwbxml check: wbxml2xml is not installed (libwbxml2-utils)")
        }
    }
    // Without EndTime: seven days, 336 half hours.
    let d = p
        .post(
            "ResolveRecipients",
            &request(
                &["ada@example.test"],
                "<StartTime>2026-12-15T08:00:00.000Z</StartTime>",
            ),
        )
        .await;
    let merged = d
        .descendant(&[
            RR::Response.into(),
            RR::Recipient.into(),
            RR::Availability.into(),
        ])
        .map(|a| text(a, RR::MergedFreeBusy))
        .unwrap();
    assert_eq!(merged.len(), 336);
    assert!(merged.starts_with("00220110"), "{merged}");
    // Ranges the spec refuses: under 30 minutes, ending before the start,
    // over 42 days, an unreadable time or none: Status 5, nothing resolved.
    for availability in [
        range("2026-12-15T08:00:00.000Z", "2026-12-15T08:20:00.000Z"),
        range("2026-12-15T08:00:00.000Z", "2026-12-14T08:00:00.000Z"),
        range("2026-12-15T08:00:00.000Z", "2027-01-27T08:00:00.000Z"),
        range("tomorrow", "2026-12-16T08:00:00.000Z"),
        "<EndTime>2026-12-16T08:00:00.000Z</EndTime>".to_string(),
    ] {
        let d = p
            .post(
                "ResolveRecipients",
                &request(&["ada@example.test"], &availability),
            )
            .await;
        assert_eq!(text(&d, RR::Status), "5", "{availability}");
        assert!(d.child(RR::Response).is_none(), "{availability}");
    }
}

/// A waiting command gives its turn of work back: with more Pings waiting
/// than there are turns (`ACTIVE_COMMANDS`), another device's FolderSync
/// is answered at once, and one delivery wakes every Ping with the Inbox.
#[tokio::test]
async fn more_waiting_pings_than_turns_of_work_leave_room_and_all_wake() {
    let w = world_with("smtp://127.0.0.1:1", true, None).await;
    let (phone, folders) = w.phone("waiter").await;
    let inbox = folder(&folders, "2");
    let first = phone.sync(&inbox, "0", "").await;
    let key = text(&first, AirSync::SyncKey);
    phone.sync(&inbox, &key, "").await;
    let ping = xml(&format!(
        "<Ping xmlns=\"Ping:\"><HeartbeatInterval>120</HeartbeatInterval><Folders><Folder>\
         <Id>{inbox}</Id><Class>Email</Class></Folder></Folders></Ping>"
    ));
    let waiting = groxide_eas::ACTIVE_COMMANDS + 8;
    let pings = (0..waiting).map(|_| phone.post("Ping", &ping));
    let rest = async {
        // Every Ping is waiting (none can answer before the delivery).
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        let (other, _) = tokio::time::timeout(std::time::Duration::from_secs(5), w.phone("other"))
            .await
            .expect("a FolderSync waited behind the waiting Pings");
        drop(other);
        w.deliver(&mail("wake", "up"), 1_700_000_000).await;
    };
    let (answers, ()) = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        tokio::join!(join_all(pings), rest)
    })
    .await
    .expect("the delivery woke every Ping");
    assert_eq!(answers.len(), waiting);
    for a in answers {
        assert_eq!(text(&a, Ping::Status), "2");
        let changed: Vec<String> = a
            .child(Ping::Folders)
            .unwrap()
            .children_named(Ping::Folder)
            .map(|f| match &f.content {
                groxide_wbxml::Content::Text(t) => t.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(changed, std::slice::from_ref(&inbox));
    }
}

/// Polls every future to its end (the tests' own join_all, without the
/// futures crate).
async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// A relay that accepts connections and never sends its greeting: its
/// URL, and the connections it holds.
async fn silent_relay() -> (String, Arc<tokio::sync::Mutex<Vec<tokio::net::TcpStream>>>) {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = format!("smtp://{}", silent.local_addr().unwrap());
    let held = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = silent.accept().await {
            keep.lock().await.push(s);
        }
    });
    (relay, held)
}

/// Sending waits on the relay without a turn of work: with more SendMails
/// stuck on a relay that never answers than there are turns, another
/// device's FolderSync is answered at once.
#[tokio::test]
async fn send_mails_stuck_on_a_silent_relay_leave_room_for_other_commands() {
    let (relay, held) = silent_relay().await;
    let w = world_with_relay(&relay).await;
    let (phone, _) = w.phone("sender").await;
    let send = Element::with_children(
        ComposeMail::SendMail,
        [
            Element::with_text(ComposeMail::ClientId, "1"),
            Element::with_opaque(
                ComposeMail::Mime,
                b"From: demo\r\nTo: friend@example.test\r\nSubject: hi\r\n\r\nhi\r\n".to_vec(),
            ),
        ],
    );
    let sends = (0..groxide_eas::ACTIVE_COMMANDS + 4).map(|_| phone.post_raw("SendMail", &send));
    tokio::select! {
        _ = join_all(sends) => panic!("the silent relay answered"),
        other = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            // Every SendMail is waiting on the relay.
            while held.lock().await.len() < groxide_eas::ACTIVE_COMMANDS + 4 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            w.phone("other").await
        }) => {
            other.expect("a FolderSync waited behind SendMails stuck on the relay");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meeting_replies_stuck_on_a_silent_relay_leave_room_for_other_commands() {
    let (relay, held) = silent_relay().await;
    let w = world_with_relay(&relay).await;
    w.deliver(&planning_invitation(9), 0).await;
    let (mut p, folders) = w.phone("meet9").await;
    p.version = "16.1";
    let inbox = folder(&folders, "2");
    let key = text(&p.sync(&inbox, "0", "").await, AirSync::SyncKey);
    let c = p.sync(&inbox, &key, "").await;
    let request_id = text(&commands(&c)[0], AirSync::ServerId);
    let body = xml(&format!(
        "<MeetingResponse xmlns=\"MeetingResponse:\"><Request>\
         <UserResponse>1</UserResponse><CollectionId>{inbox}</CollectionId>\
         <RequestId>{request_id}</RequestId><SendResponse/></Request></MeetingResponse>"
    ));
    let n = groxide_eas::ACTIVE_COMMANDS + 4;
    let replies = (0..n).map(|_| p.post_raw("MeetingResponse", &body));
    tokio::select! {
        _ = join_all(replies) => panic!("the silent relay answered"),
        other = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            // Every reply is waiting on the relay.
            while held.lock().await.len() < n {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            w.phone("other").await
        }) => {
            other.expect("a FolderSync waited behind meeting replies stuck on the relay");
        }
    }
}
