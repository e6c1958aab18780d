//! The mailbox view contract, one suite run against every implementation:
//!
//! - `local`: [`StoreView`] in-process over a temp-dir store written
//!   directly (what the protocol crates' tests use);
//! - `remote`: [`RemoteView`] through a midb gRPC service on loopback to a
//!   `StoreView` — the path of a store homed on another node;
//! - `over_exmdb`: the production chain of this node: `StoreView` reading
//!   the store's files and writing through a real groxide-exmdb daemon;
//! - `remote_over_exmdb`: `RemoteView` → the groxide-midb daemon → exmdb.
//!
//! Each test states one behaviour an IMAP or POP3 client would notice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use groxide_mailview::*;
use groxide_midb::direct_writes::DirectWrites;
use groxide_midb::feed::{ChangeFeed, FeedEvent, NoFeed};
use groxide_midb::service::MidbService;
use groxide_midb::{Settings, StoreView};
use groxide_mime::{SectionKind, SectionSpec};
use groxide_routing::{ListKind, LocalNode, Resolver, RouteTable};
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::midb_view::RemoteView;
use groxide_rpc::pb::exmdb::v1 as xpb;
use groxide_rpc::pb::midb::v1::midb_server::MidbServer;
use groxide_rpc::{ClientOptions, RoutedClient};
use groxide_store::{FolderRef, NewMessage, NewStore, StoreKind, StoreManager};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod daemons;

/// How messages arrive in the store, as delivery puts them there.
enum Delivery {
    /// Straight into the store engine of this process.
    Direct(Arc<StoreManager>),
    /// Through a groxide-exmdb daemon (the store's one writer).
    Exmdb(Arc<ExmdbClient>),
}

/// A store and a view of it.
struct Harness<V> {
    view: Arc<V>,
    dir: String,
    delivery: Delivery,
    _keep: Vec<Box<dyn std::any::Any + Send>>,
}

impl<V: MailboxView> Harness<V> {
    /// The INBOX folder id.
    async fn inbox(&self) -> FolderId {
        self.view
            .mailbox_status(&self.dir, "INBOX")
            .await
            .unwrap()
            .folder
    }

    /// Files a message in INBOX as delivery would; returns its UID.
    async fn deliver(&self, raw: &[u8], flags: Flags, internal_date: i64) -> Uid {
        match &self.delivery {
            Delivery::Direct(stores) => {
                let store = stores.open(Path::new(&self.dir)).unwrap();
                store
                    .insert_mime_from(
                        FolderRef::Role(groxide_store::FolderRole::Inbox),
                        raw,
                        NewMessage {
                            flags,
                            keywords: Vec::new(),
                            internal_date: (internal_date != 0).then_some(internal_date),
                        },
                    )
                    .unwrap()
                    .uid
                    .0
            }
            Delivery::Exmdb(client) => {
                client
                    .insert_message_bytes(
                        xpb::InsertHeader {
                            dir: self.dir.clone(),
                            folder: Some(folder_role("inbox")),
                            flags: flags.bits(),
                            keywords: Vec::new(),
                            internal_date,
                            expected_size: raw.len() as u64,
                        },
                        raw.to_vec(),
                    )
                    .await
                    .unwrap()
                    .uid
            }
        }
    }

    async fn entries(&self, folder: FolderId) -> Vec<MessageEntry> {
        self.view
            .list_messages(&self.dir, folder, UidSet::all())
            .await
            .unwrap()
            .try_concat()
            .await
            .unwrap()
    }

    async fn metadata(&self, folder: FolderId, req: MetadataRequest) -> Vec<MessageMetadata> {
        self.view
            .fetch_metadata(&self.dir, folder, req)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    }

    /// A section's bytes; the first chunk must announce their size.
    async fn section(&self, folder: FolderId, req: SectionRequest) -> Result<Vec<u8>, ViewError> {
        let mut s = self.view.fetch_section(&self.dir, folder, req).await?;
        let Some(first) = s.try_next().await? else {
            return Ok(Vec::new());
        };
        let mut data = first.data.to_vec();
        while let Some(c) = s.try_next().await? {
            data.extend_from_slice(&c.data);
        }
        assert_eq!(first.total_size, data.len() as u64, "announced size");
        Ok(data)
    }

    async fn search(&self, folder: FolderId, key: SearchKey) -> Vec<Uid> {
        self.view.search(&self.dir, folder, key).await.unwrap().uids
    }

    /// Removes every content file of the store (derived data must then come
    /// from midb.sqlite3 alone).
    fn remove_content_files(&self) -> usize {
        let mut n = 0;
        let cid = Path::new(&self.dir).join("cid");
        for sub in std::fs::read_dir(&cid).unwrap().flatten() {
            for f in std::fs::read_dir(sub.path()).unwrap().flatten() {
                std::fs::remove_file(f.path()).unwrap();
                n += 1;
            }
        }
        n
    }
}

fn corpus(name: &str) -> Vec<u8> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/mime/");
    std::fs::read(format!("{p}{name}")).unwrap()
}

fn corpus_files() -> Vec<String> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/mime/");
    let mut v: Vec<String> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    v.sort();
    v
}

fn msg(subject: &str, from: &str, extra: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n{extra}\r\n{body}\r\n")
        .into_bytes()
}

fn create_store(stores: &StoreManager, dir: &Path) {
    stores
        .create(
            dir,
            &NewStore {
                kind: StoreKind::Private,
                owner: "alice@example.test".into(),
                lang: String::new(),
                quota_bytes: 0,
            },
        )
        .unwrap();
}

/// `local`: the view in-process over a store written directly.
fn local_with(feed: Arc<dyn ChangeFeed>) -> Harness<StoreView<DirectWrites>> {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("alice");
    let stores = Arc::new(StoreManager::new(
        Default::default(),
        Default::default(),
        None,
    ));
    create_store(&stores, &dir);
    let view = StoreView::new(
        Arc::new(DirectWrites::new(stores.clone())),
        feed,
        Settings::default(),
    );
    Harness {
        view: Arc::new(view),
        dir: dir.to_string_lossy().into_owned(),
        delivery: Delivery::Direct(stores),
        _keep: vec![Box::new(root)],
    }
}

async fn local() -> Harness<StoreView<DirectWrites>> {
    local_with(Arc::new(NoFeed))
}

/// A routed midb client whose every store is at `port` on loopback.
fn midb_client(port: u16) -> Arc<RoutedClient> {
    let table = RouteTable::parse("", ListKind::Midb, Path::new("midb_list.txt")).unwrap();
    let here = LocalNode::new("test", vec!["127.0.0.1".parse().unwrap()]);
    let resolver = Resolver::new(table, None, here, port, Duration::from_secs(60))
        .with_default_host("127.0.0.1");
    Arc::new(RoutedClient::new(
        "midb",
        Arc::new(resolver),
        ClientOptions::default(),
    ))
}

/// `remote`: the typed midb client through a midb service on loopback.
async fn remote() -> Harness<RemoteView> {
    let h = local().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let service = MidbService::new(h.view.clone());
    let stop = tokio_util::sync::CancellationToken::new();
    let s = stop.clone();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(MidbServer::new(service))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                s.cancelled_owned(),
            )
            .await
            .unwrap();
    });
    let mut keep = h._keep;
    keep.push(Box::new(stop.drop_guard()));
    keep.push(Box::new(h.view));
    Harness {
        view: Arc::new(RemoteView::new(midb_client(port))),
        dir: h.dir,
        delivery: h.delivery,
        _keep: keep,
    }
}

/// `over_exmdb`: the view in-process, writing through a real exmdb daemon.
async fn over_exmdb() -> Harness<StoreView<groxide_midb::exmdb_writes::ExmdbWrites>> {
    let node = daemons::Node::start().await;
    let dir = node.create_store("alice").await;
    let view = groxide_midb::local_view(node.exmdb.clone(), Arc::new(NoFeed), Settings::default());
    Harness {
        view: Arc::new(view),
        dir,
        delivery: Delivery::Exmdb(node.exmdb.clone()),
        _keep: vec![Box::new(node)],
    }
}

/// `remote_over_exmdb`: the typed client → the midb daemon → exmdb.
async fn remote_over_exmdb() -> Harness<RemoteView> {
    let node = daemons::Node::start().await;
    let dir = node.create_store("alice").await;
    Harness {
        view: Arc::new(RemoteView::new(midb_client(node.midb_port))),
        dir,
        delivery: Delivery::Exmdb(node.exmdb.clone()),
        _keep: vec![Box::new(node)],
    }
}

/// One test per implementation for each contract test.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod local_view {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::local().await).await;
                }
            )*
        }
        mod remote_view {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::remote().await).await;
                }
            )*
        }
        mod local_view_over_exmdb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::over_exmdb().await).await;
                }
            )*
        }
        mod remote_view_over_exmdb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::remote_over_exmdb().await).await;
                }
            )*
        }
    };
}

contract!(
    mailboxes_can_be_created_renamed_subscribed_and_deleted,
    a_deleted_subscribed_mailbox_stays_subscribed_until_unsubscribed,
    recent_is_claimed_by_one_caller_and_moves_in_place_renumber,
    renaming_inbox_moves_its_messages_and_keeps_inbox,
    appended_messages_have_store_uids_and_their_metadata,
    an_append_shorter_or_longer_than_announced_stores_nothing,
    an_abandoned_append_stores_nothing,
    sections_match_groxide_mime_on_the_whole_corpus,
    header_sections_come_from_the_cache_without_the_message,
    flags_change_with_unchangedsince,
    copy_and_move_report_uid_maps,
    expunge_and_changes_report_vanished_uids,
    deleting_midb_sqlite3_keeps_uids_and_flags_and_recomputes_metadata,
    search_sort_and_thread_over_a_folder,
    sort_follows_new_expunged_and_flagged_messages,
    a_refresh_reads_only_messages_changed_since_the_last_one,
    quota_and_status_count_messages,
    a_star_range_past_the_highest_uid_names_the_highest_message,
    errors_say_what_is_wrong,
);

async fn mailboxes_can_be_created_renamed_subscribed_and_deleted<V: MailboxView>(h: &Harness<V>) {
    let (v, dir) = (&*h.view, h.dir.as_str());
    let names = |l: Vec<MailboxEntry>| l.into_iter().map(|e| e.name).collect::<Vec<_>>();
    assert_eq!(
        names(v.list_mailboxes(dir).await.unwrap()),
        [
            "INBOX",
            "Deleted Items",
            "Drafts",
            "Junk Email",
            "Outbox",
            "Sent Items"
        ],
        "the store's standard mail folders, not Calendar or Contacts"
    );
    let listed = v.list_mailboxes(dir).await.unwrap();
    let trash = listed.iter().find(|e| e.name == "Deleted Items").unwrap();
    assert_eq!(trash.special_use, Some(SpecialUse::Trash));
    let (id, uidvalidity) = v.create_mailbox(dir, "Archive/2024", None).await.unwrap();
    assert!(uidvalidity > 0);
    // Folder names of a MAPI store are unique regardless of case (as in
    // Outlook); IMAP names are looked up as spelt.
    assert_eq!(
        v.create_mailbox(dir, "archive/2024", None).await,
        Err(ViewError::MailboxExists),
    );
    assert_eq!(
        v.create_mailbox(dir, "Archive/2024", None).await,
        Err(ViewError::MailboxExists)
    );
    assert_eq!(
        v.create_mailbox(dir, "Trash2", Some(SpecialUse::Trash))
            .await,
        Err(ViewError::SpecialUseTaken("Trash".into())),
        "\\Trash is Deleted Items'"
    );
    v.create_mailbox(dir, "Old mail", Some(SpecialUse::Archive))
        .await
        .unwrap();
    let listed = v.list_mailboxes(dir).await.unwrap();
    let old = listed.iter().find(|e| e.name == "Old mail").unwrap();
    assert_eq!(
        old.special_use,
        Some(SpecialUse::Archive),
        "kept in the store"
    );
    v.rename_mailbox(dir, "Archive", "Old/Archive")
        .await
        .unwrap();
    let st = v.mailbox_status(dir, "Old/Archive/2024").await.unwrap();
    assert_eq!(st.folder, id, "children move with their parent");
    v.set_subscription(dir, "Old/Archive/2024", false)
        .await
        .unwrap();
    let listed = v.list_mailboxes(dir).await.unwrap();
    let sub = listed
        .iter()
        .find(|e| e.name == "Old/Archive/2024")
        .unwrap();
    assert!(!sub.subscribed);
    assert!(
        v.delete_mailbox(dir, "Old/Archive").await.is_err(),
        "has children"
    );
    v.delete_mailbox(dir, "Old/Archive/2024").await.unwrap();
    assert_eq!(
        v.mailbox_status(dir, "Old/Archive/2024").await,
        Err(ViewError::NoSuchMailbox)
    );
    assert!(v.delete_mailbox(dir, "INBOX").await.is_err());
}

async fn renaming_inbox_moves_its_messages_and_keeps_inbox<V: MailboxView>(h: &Harness<V>) {
    h.deliver(&msg("a", "x@y", "", "1"), Flags::SEEN, 0).await;
    h.deliver(&msg("b", "x@y", "", "2"), Flags::NONE, 0).await;
    let inbox = h.inbox().await;
    h.view
        .rename_mailbox(&h.dir, "inbox", "Old mail")
        .await
        .unwrap();
    let st = h.view.mailbox_status(&h.dir, "INBOX").await.unwrap();
    assert_eq!((st.exists, st.folder), (0, inbox));
    let old = h.view.mailbox_status(&h.dir, "Old mail").await.unwrap();
    assert_eq!(old.exists, 2);
    assert_eq!(old.unseen, 1, "flags travel with the messages");
}

/// RFC 3501 §6.3.6 and Dovecot: a subscription outlives its mailbox (shown
/// as nonexistent) until UNSUBSCRIBE; new mailboxes are not subscribed.
async fn a_deleted_subscribed_mailbox_stays_subscribed_until_unsubscribed<V: MailboxView>(
    h: &Harness<V>,
) {
    let (v, dir) = (&*h.view, h.dir.as_str());
    let entry = |l: Vec<MailboxEntry>, name: &str| l.into_iter().find(|e| e.name == name);
    v.create_mailbox(dir, "Fruit/Peach", None).await.unwrap();
    let peach = entry(v.list_mailboxes(dir).await.unwrap(), "Fruit/Peach").unwrap();
    assert!(
        !peach.subscribed && !peach.nonexistent,
        "new: not subscribed"
    );
    v.set_subscription(dir, "Fruit/Peach", true).await.unwrap();
    v.delete_mailbox(dir, "Fruit/Peach").await.unwrap();
    let kept = entry(v.list_mailboxes(dir).await.unwrap(), "Fruit/Peach").unwrap();
    assert!(
        kept.subscribed && kept.nonexistent && kept.noselect,
        "{kept:?}"
    );
    assert_eq!(
        v.set_subscription(dir, "Nowhere", true).await,
        Err(ViewError::NoSuchMailbox),
        "only existing mailboxes can be subscribed"
    );
    v.set_subscription(dir, "Nowhere", false).await.unwrap();
    // Re-created under the kept name, the mailbox is subscribed again.
    v.create_mailbox(dir, "Fruit/Peach", None).await.unwrap();
    let again = entry(v.list_mailboxes(dir).await.unwrap(), "Fruit/Peach").unwrap();
    assert!(again.subscribed && !again.nonexistent, "{again:?}");
    v.delete_mailbox(dir, "Fruit/Peach").await.unwrap();
    v.set_subscription(dir, "Fruit/Peach", false).await.unwrap();
    assert_eq!(
        entry(v.list_mailboxes(dir).await.unwrap(), "Fruit/Peach"),
        None
    );
}

/// \Recent: one caller claims what arrived since the last claim; appended,
/// delivered and moved-in-place messages are all above the marker.
async fn recent_is_claimed_by_one_caller_and_moves_in_place_renumber<V: MailboxView>(
    h: &Harness<V>,
) {
    let (v, dir) = (&*h.view, h.dir.as_str());
    let folder = h.inbox().await;
    assert_eq!(v.claim_recent(dir, folder, None).await.unwrap(), 0);
    let raw = msg("r", "a@b", "", "x");
    let one = append(h, "INBOX", &raw, raw.len() as u64, Flags::NONE, &[])
        .await
        .unwrap()
        .uid;
    let two = h.deliver(&raw, Flags::NONE, 0).await;
    assert_eq!(
        v.claim_recent(dir, folder, None).await.unwrap(),
        0,
        "a read claims nothing"
    );
    assert_eq!(
        v.claim_recent(dir, folder, Some(two)).await.unwrap(),
        0,
        "the first claimer gets 1..=2"
    );
    assert_eq!(
        v.claim_recent(dir, folder, Some(two)).await.unwrap(),
        two,
        "the second gets none"
    );
    assert_eq!(
        v.claim_recent(dir, folder, Some(one)).await.unwrap(),
        two,
        "never lowered"
    );
    // MOVE to the same mailbox (RFC 6851): new UIDs, recent again.
    let moved = v
        .copy_messages(dir, folder, UidSet::single(one), "INBOX", true)
        .await
        .unwrap();
    assert_eq!(moved.pairs.len(), 1);
    let (old, new) = moved.pairs[0];
    assert_eq!(old, one);
    assert!(new > two, "{moved:?}");
    let uids: Vec<Uid> = h.entries(folder).await.iter().map(|e| e.uid).collect();
    assert_eq!(uids, vec![two, new]);
    assert_eq!(v.claim_recent(dir, folder, Some(new)).await.unwrap(), two);
}

async fn append<V: MailboxView>(
    h: &Harness<V>,
    mailbox: &str,
    raw: &[u8],
    announced: u64,
    flags: Flags,
    keywords: &[&str],
) -> Result<Appended, ViewError> {
    let mut up = h
        .view
        .begin_append(
            &h.dir,
            AppendRequest {
                mailbox: mailbox.into(),
                flags,
                keywords: keywords.iter().map(|k| k.to_string()).collect(),
                internal_date: 1_700_000_000,
                size: announced,
            },
        )
        .await?;
    for c in raw.chunks(100) {
        up.write(Bytes::copy_from_slice(c)).await?;
    }
    up.finish().await
}

async fn appended_messages_have_store_uids_and_their_metadata<V: MailboxView>(h: &Harness<V>) {
    let raw = corpus("multipart-mixed-attachments.eml");
    let a = append(
        h,
        "INBOX",
        &raw,
        raw.len() as u64,
        Flags::FLAGGED,
        &["$Label1"],
    )
    .await
    .unwrap();
    assert_eq!(a.uid, 1);
    let st = h.view.mailbox_status(&h.dir, "INBOX").await.unwrap();
    assert_eq!((st.uidvalidity, st.uidnext), (a.uidvalidity, 2));
    let mut items = MetadataItems::ENVELOPE;
    for i in [
        MetadataItems::BODYSTRUCTURE,
        MetadataItems::BODY,
        MetadataItems::HEADER_FIELDS,
    ] {
        items.insert(i);
    }
    let req = MetadataRequest {
        uids: UidSet::all(),
        items,
        header_fields: vec!["Subject".into(), "FROM".into()],
        ..Default::default()
    };
    let m = h.metadata(st.folder, req.clone()).await;
    assert_eq!(m.len(), 1);
    let e = &m[0].entry;
    assert_eq!(
        (e.uid, e.flags, e.keywords.clone(), e.size),
        (
            1,
            Flags::FLAGGED,
            vec!["$Label1".to_string()],
            raw.len() as u64
        )
    );
    assert_eq!(m[0].envelope, groxide_mime::render_envelope(&raw));
    assert_eq!(
        m[0].bodystructure,
        groxide_mime::render_bodystructure(&raw, true)
    );
    assert_eq!(m[0].body, groxide_mime::render_bodystructure(&raw, false));
    let fields = SectionSpec {
        part: vec![],
        kind: SectionKind::HeaderFields(vec!["Subject".into(), "FROM".into()]),
    };
    assert_eq!(
        m[0].header_fields,
        groxide_mime::locate_section(&raw, &fields).bytes(&raw)
    );
    assert_eq!(
        h.section(
            st.folder,
            SectionRequest {
                uid: 1,
                ..Default::default()
            }
        )
        .await
        .unwrap(),
        raw,
        "stored byte for byte"
    );
    // A second fetch is answered from midb.sqlite3 alone.
    assert!(h.remove_content_files() > 0);
    assert_eq!(h.metadata(st.folder, req).await, m);
}

async fn an_append_shorter_or_longer_than_announced_stores_nothing<V: MailboxView>(h: &Harness<V>) {
    for announced in [5u64, 50] {
        let r = append(h, "INBOX", b"0123456789", announced, Flags::NONE, &[]).await;
        assert!(r.is_err(), "announced {announced}: {r:?}");
    }
    assert!(h.entries(h.inbox().await).await.is_empty());
    assert_eq!(
        append(h, "Nowhere", b"x", 1, Flags::NONE, &[]).await,
        Err(ViewError::NoSuchMailbox)
    );
}

async fn an_abandoned_append_stores_nothing<V: MailboxView>(h: &Harness<V>) {
    let mut up = h
        .view
        .begin_append(
            &h.dir,
            AppendRequest {
                mailbox: "INBOX".into(),
                flags: Flags::NONE,
                keywords: vec![],
                internal_date: 0,
                size: 10,
            },
        )
        .await
        .unwrap();
    up.write(Bytes::from_static(b"01234")).await.unwrap();
    // The client went away mid-literal.
    drop(up);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(h.entries(h.inbox().await).await.is_empty());
    let ok = append(h, "INBOX", b"0123456789", 10, Flags::NONE, &[])
        .await
        .unwrap();
    assert_eq!(ok.uid, 1, "the abandoned append took no UID");
}

fn window(len: u64, offset: u64, length: u64) -> std::ops::Range<u64> {
    let start = offset.min(len);
    let end = if length == 0 {
        len
    } else {
        (start + length).min(len)
    };
    start..end
}

fn part_of(kind: &SectionKind) -> SectionPart {
    match kind {
        SectionKind::Full => SectionPart::Full,
        SectionKind::Header => SectionPart::Header,
        SectionKind::HeaderFields(n) => SectionPart::HeaderFields(n.clone()),
        SectionKind::HeaderFieldsNot(n) => SectionPart::HeaderFieldsNot(n.clone()),
        SectionKind::Text => SectionPart::Text,
        SectionKind::Mime => SectionPart::Mime,
    }
}

/// Every section of every corpus message equals what groxide-mime locates
/// in the original bytes, whole and partial; BINARY decodes or says why not.
async fn sections_match_groxide_mime_on_the_whole_corpus<V: MailboxView>(h: &Harness<V>) {
    let folder = h.inbox().await;
    for name in corpus_files() {
        let raw = corpus(&name);
        let uid = h.deliver(&raw, Flags::NONE, 0).await;
        let parts: Vec<Vec<u32>> = groxide_midb::digest::Digest::compute(&raw, 1 << 20)
            .parts
            .iter()
            .map(|p| p.path.clone())
            .filter(|p| !p.is_empty())
            .collect();
        let mut specs = vec![
            (vec![], SectionKind::Full),
            (vec![], SectionKind::Header),
            (vec![], SectionKind::Text),
            (
                vec![],
                SectionKind::HeaderFields(vec!["subject".into(), "to".into()]),
            ),
            (vec![], SectionKind::HeaderFieldsNot(vec!["subject".into()])),
            (vec![9], SectionKind::Full),
        ];
        for p in &parts {
            for kind in [
                SectionKind::Full,
                SectionKind::Mime,
                SectionKind::Header,
                SectionKind::Text,
                SectionKind::HeaderFields(vec!["content-type".into()]),
            ] {
                specs.push((p.clone(), kind));
            }
        }
        for (part, kind) in specs {
            let spec = SectionSpec {
                part: part.clone(),
                kind: kind.clone(),
            };
            let want = groxide_mime::locate_section(&raw, &spec)
                .bytes(&raw)
                .to_vec();
            let req = SectionRequest {
                uid,
                part: part.clone(),
                kind: part_of(&kind),
                ..Default::default()
            };
            let got = h.section(folder, req.clone()).await.unwrap();
            assert_eq!(got, want, "{name} {spec:?}");
            let got = h
                .section(
                    folder,
                    SectionRequest {
                        offset: 3,
                        length: 7,
                        ..req
                    },
                )
                .await
                .unwrap();
            let w = window(want.len() as u64, 3, 7);
            assert_eq!(
                got,
                want[w.start as usize..w.end as usize],
                "{name} {spec:?} <3.7>"
            );
        }
        for p in &parts {
            let req = SectionRequest {
                uid,
                part: p.clone(),
                binary: true,
                ..Default::default()
            };
            match groxide_mime::decode_section(&raw, p) {
                Ok(want) => assert_eq!(
                    h.section(folder, req).await.unwrap(),
                    want,
                    "{name} BINARY[{p:?}]"
                ),
                Err(_) => assert_eq!(
                    h.section(folder, req).await,
                    Err(ViewError::UnknownCte),
                    "{name} BINARY[{p:?}]"
                ),
            }
        }
    }
}

async fn header_sections_come_from_the_cache_without_the_message<V: MailboxView>(h: &Harness<V>) {
    let raw = corpus("multipart-alternative.eml");
    let uid = h.deliver(&raw, Flags::NONE, 0).await;
    let folder = h.inbox().await;
    let header = |kind| SectionRequest {
        uid,
        kind,
        ..Default::default()
    };
    let first = h
        .section(folder, header(SectionPart::Header))
        .await
        .unwrap();
    assert!(h.remove_content_files() > 0);
    for kind in [
        SectionPart::Header,
        SectionPart::HeaderFields(vec!["From".into()]),
        SectionPart::HeaderFieldsNot(vec!["From".into()]),
    ] {
        let got = h.section(folder, header(kind.clone())).await.unwrap();
        assert!(!got.is_empty(), "{kind:?}");
    }
    assert_eq!(
        h.section(folder, header(SectionPart::Header))
            .await
            .unwrap(),
        first
    );
    // The body itself is gone with its file: an error, never wrong bytes.
    assert!(h.section(folder, header(SectionPart::Text)).await.is_err());
}

async fn flags_change_with_unchangedsince<V: MailboxView>(h: &Harness<V>) {
    for i in 0..3 {
        h.deliver(&msg(&format!("m{i}"), "a@b", "", "x"), Flags::NONE, 0)
            .await;
    }
    let folder = h.inbox().await;
    let before = h.entries(folder).await;
    // Message 2 changes after the client's view.
    let bump = FlagChange {
        mode: FlagMode::Add,
        flags: Flags::ANSWERED,
        keywords: vec![],
        unchanged_since: 0,
    };
    let up = h
        .view
        .store_flags(&h.dir, folder, UidSet::single(2), bump)
        .await
        .unwrap();
    assert_eq!(up.updated.len(), 1);
    assert_eq!(up.updated[0].flags, Flags::ANSWERED);
    let since = before.iter().map(|e| e.modseq).max().unwrap();
    let change = FlagChange {
        mode: FlagMode::Add,
        flags: Flags::FLAGGED,
        keywords: vec!["Work".into()],
        unchanged_since: since,
    };
    let up = h
        .view
        .store_flags(
            &h.dir,
            folder,
            UidSet::from_ranges([UidRange::new(1, u32::MAX)]),
            change,
        )
        .await
        .unwrap();
    assert_eq!(up.modified, vec![UidRange::single(2)]);
    let after = h.entries(folder).await;
    let flagged: Vec<Uid> = after
        .iter()
        .filter(|e| e.flags.contains(Flags::FLAGGED))
        .map(|e| e.uid)
        .collect();
    assert_eq!(flagged, vec![1, 3]);
    assert_eq!(after[0].keywords, vec!["Work".to_string()]);
    assert!(after[0].modseq > since);
    let remove = FlagChange {
        mode: FlagMode::Remove,
        flags: Flags::FLAGGED,
        keywords: vec!["work".into()],
        unchanged_since: 0,
    };
    h.view
        .store_flags(&h.dir, folder, UidSet::single(1), remove)
        .await
        .unwrap();
    let e = &h.entries(folder).await[0];
    assert_eq!((e.flags, e.keywords.len()), (Flags::NONE, 0));
}

async fn copy_and_move_report_uid_maps<V: MailboxView>(h: &Harness<V>) {
    for i in 0..3 {
        h.deliver(&msg(&format!("m{i}"), "a@b", "", "x"), Flags::SEEN, 0)
            .await;
    }
    let folder = h.inbox().await;
    let (_, uidvalidity) = h.view.create_mailbox(&h.dir, "Keep", None).await.unwrap();
    let c = h
        .view
        .copy_messages(&h.dir, folder, UidSet::from_uids([1, 3]), "Keep", false)
        .await
        .unwrap();
    assert_eq!(c.target_uidvalidity, uidvalidity);
    assert_eq!(c.pairs, vec![(1, 1), (3, 2)]);
    let m = h
        .view
        .copy_messages(
            &h.dir,
            folder,
            UidSet::from_ranges([UidRange::new(2, u32::MAX)]),
            "Keep",
            true,
        )
        .await
        .unwrap();
    assert_eq!(m.pairs, vec![(2, 3), (3, 4)]);
    let left: Vec<Uid> = h.entries(folder).await.iter().map(|e| e.uid).collect();
    assert_eq!(left, vec![1]);
    let keep = h.view.mailbox_status(&h.dir, "Keep").await.unwrap();
    assert_eq!(
        (keep.exists, keep.unseen),
        (4, 0),
        "flags travel with copies"
    );
    assert_eq!(
        h.view
            .copy_messages(&h.dir, folder, UidSet::all(), "Nope", false)
            .await,
        Err(ViewError::NoSuchMailbox)
    );
}

async fn expunge_and_changes_report_vanished_uids<V: MailboxView>(h: &Harness<V>) {
    for i in 0..4 {
        let flags = if i % 2 == 0 {
            Flags::DELETED
        } else {
            Flags::NONE
        };
        h.deliver(&msg(&format!("m{i}"), "a@b", "", "x"), flags, 0)
            .await;
    }
    let folder = h.inbox().await;
    let base = h
        .view
        .mailbox_status(&h.dir, "INBOX")
        .await
        .unwrap()
        .highest_modseq;
    let x = h
        .view
        .expunge(
            &h.dir,
            folder,
            ExpungeScope::DeletedAmong(UidSet::from_uids([1, 2])),
        )
        .await
        .unwrap();
    assert_eq!(x.uids, vec![1], "UID EXPUNGE removes only \\Deleted ones");
    let x = h
        .view
        .expunge(&h.dir, folder, ExpungeScope::Deleted)
        .await
        .unwrap();
    assert_eq!(x.uids, vec![3]);
    let x = h
        .view
        .expunge(&h.dir, folder, ExpungeScope::Outright(UidSet::single(4)))
        .await
        .unwrap();
    assert_eq!(x.uids, vec![4], "POP3 removes outright");
    let chunks: Vec<ChangeBatch> = h
        .view
        .changes(&h.dir, folder, base, true)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let vanished: Vec<Uid> = chunks
        .iter()
        .flat_map(|c| c.vanished.iter().flat_map(|r| r.first..=r.last))
        .collect();
    assert_eq!(vanished, vec![1, 3, 4]);
    assert_eq!(chunks.last().unwrap().highest_modseq, x.modseq);
    let quiet: Vec<ChangeBatch> = h
        .view
        .changes(&h.dir, folder, base, false)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(quiet.iter().all(|c| c.vanished.is_empty()));
    let all: Vec<ChangeBatch> = h
        .view
        .changes(&h.dir, folder, 0, false)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let present: Vec<Uid> = all
        .iter()
        .flat_map(|c| c.changed.iter().map(|e| e.uid))
        .collect();
    assert_eq!(present, vec![2], "since 0: every message present");
}

async fn deleting_midb_sqlite3_keeps_uids_and_flags_and_recomputes_metadata<V: MailboxView>(
    h: &Harness<V>,
) {
    let raw = corpus("forwarded-message-rfc822.eml");
    h.deliver(&raw, Flags::SEEN.union(Flags::FLAGGED), 0).await;
    h.deliver(&msg("second", "a@b", "", "x"), Flags::NONE, 0)
        .await;
    let folder = h.inbox().await;
    let mut items = MetadataItems::ENVELOPE;
    items.insert(MetadataItems::BODYSTRUCTURE);
    let req = MetadataRequest {
        uids: UidSet::all(),
        items,
        ..Default::default()
    };
    let first = h.metadata(folder, req.clone()).await;
    let body = SearchKey::Text(TextField::Body, "forwarding".into());
    assert_eq!(h.search(folder, body.clone()).await, vec![1]);
    let path = Path::new(&h.dir).join("exmdb/midb.sqlite3");
    std::fs::remove_file(&path).unwrap();
    // The view notices the deletion within a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = h.metadata(folder, req).await;
    assert_eq!(first, second, "UIDs, flags and metadata are the same");
    assert!(path.exists(), "the cache was rebuilt");
    assert_eq!(
        h.search(folder, body).await,
        vec![1],
        "the search index was rebuilt"
    );
}

async fn search_sort_and_thread_over_a_folder<V: MailboxView>(h: &Harness<V>) {
    let mails = [
        msg(
            "Lunch",
            "Ann <ann@example.test>",
            "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n",
            "Pizza?",
        ),
        msg(
            "Re: Lunch",
            "Bob <bob@example.test>",
            "Date: Mon, 01 Jan 2024 11:00:00 +0000\r\nMessage-ID: <2@x>\r\nReferences: <1@x>\r\n",
            "Yes, pizza.",
        ),
        msg(
            "Report",
            "Carl <carl@example.test>",
            "Date: Sun, 31 Dec 2023 09:00:00 +0000\r\nMessage-ID: <3@x>\r\n",
            "Numbers inside.",
        ),
        msg(
            "Re: Lunch",
            "Ann <ann@example.test>",
            "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\nMessage-ID: <4@x>\r\nIn-Reply-To: <2@x>\r\n",
            "See you.",
        ),
    ];
    for (i, m) in mails.iter().enumerate() {
        let flags = if i == 2 { Flags::SEEN } else { Flags::NONE };
        h.deliver(m, flags, 1_704_000_000 + i as i64).await;
    }
    let folder = h.inbox().await;
    let text = |f, s: &str| SearchKey::Text(f, s.into());
    assert_eq!(
        h.search(folder, text(TextField::Body, "PIZZA")).await,
        vec![1, 2]
    );
    assert_eq!(
        h.search(folder, text(TextField::From, "ann")).await,
        vec![1, 4]
    );
    assert_eq!(
        h.search(folder, text(TextField::Subject, "re")).await,
        vec![2, 3, 4]
    );
    assert_eq!(
        h.search(folder, text(TextField::Text, "message-id: <3@"))
            .await,
        vec![3]
    );
    assert_eq!(
        h.search(
            folder,
            SearchKey::And(vec![
                SearchKey::FlagsUnset(Flags::SEEN),
                SearchKey::SentSince(19723)
            ])
        )
        .await,
        vec![1, 2, 4]
    );
    assert_eq!(
        h.search(
            folder,
            SearchKey::Header("in-reply-to".into(), String::new())
        )
        .await,
        vec![4]
    );
    assert!(
        h.search(folder, SearchKey::Uid(UidSet::new()))
            .await
            .is_empty(),
        "an empty set matches nothing"
    );
    let found = h
        .view
        .search(&h.dir, folder, SearchKey::ModSeq(1))
        .await
        .unwrap();
    assert_eq!(found.uids, vec![1, 2, 3, 4]);
    assert_eq!(
        found.highest_modseq,
        h.entries(folder)
            .await
            .iter()
            .map(|e| e.modseq)
            .max()
            .unwrap()
    );
    let sorted = h
        .view
        .sort(
            &h.dir,
            folder,
            vec![SortCriterion {
                key: SortKey::Date,
                reverse: true,
            }],
            SearchKey::All,
        )
        .await
        .unwrap();
    assert_eq!(sorted, vec![4, 2, 1, 3]);
    let sorted = h
        .view
        .sort(
            &h.dir,
            folder,
            vec![SortCriterion {
                key: SortKey::Subject,
                reverse: false,
            }],
            SearchKey::Uid(UidSet::from_ranges([UidRange::new(2, u32::MAX)])),
        )
        .await
        .unwrap();
    assert_eq!(sorted, vec![2, 4, 3]);
    let threads = h
        .view
        .thread(&h.dir, folder, ThreadAlgorithm::References, SearchKey::All)
        .await
        .unwrap();
    let shape: Vec<(Uid, Vec<Uid>)> = threads
        .iter()
        .map(|t| (t.uid, t.children.iter().map(|c| c.uid).collect()))
        .collect();
    assert_eq!(shape, vec![(3, vec![]), (1, vec![2])]);
    assert_eq!(threads[1].children[0].children[0].uid, 4);
    let ordered = h
        .view
        .thread(
            &h.dir,
            folder,
            ThreadAlgorithm::OrderedSubject,
            SearchKey::All,
        )
        .await
        .unwrap();
    let shape: Vec<(Uid, Vec<Uid>)> = ordered
        .iter()
        .map(|t| (t.uid, t.children.iter().map(|c| c.uid).collect()))
        .collect();
    assert_eq!(shape, vec![(3, vec![]), (1, vec![2, 4])]);
}

async fn a_refresh_reads_only_messages_changed_since_the_last_one<V: MailboxView>(h: &Harness<V>) {
    for i in 0..3 {
        h.deliver(&msg(&format!("m{i}"), "a@b", "", "x"), Flags::NONE, 0)
            .await;
    }
    let folder = h.inbox().await;
    h.search(folder, SearchKey::Text(TextField::Body, "x".into()))
        .await;
    // The three are indexed; without their files a refresh that read them
    // again would fail.
    assert_eq!(h.remove_content_files(), 3);
    h.deliver(&msg("new", "a@b", "", "y"), Flags::NONE, 0).await;
    assert_eq!(
        h.search(folder, SearchKey::Text(TextField::Subject, "new".into()))
            .await,
        vec![4],
        "only the new message was read"
    );
    assert_eq!(
        h.search(folder, SearchKey::Text(TextField::Subject, "m1".into()))
            .await,
        vec![2]
    );
}

async fn quota_and_status_count_messages<V: MailboxView>(h: &Harness<V>) {
    h.deliver(b"Subject: a\r\n\r\n12345", Flags::SEEN, 0).await;
    h.deliver(b"Subject: b\r\n\r\n1", Flags::DELETED, 0).await;
    let st = h.view.mailbox_status(&h.dir, "inbox").await.unwrap();
    assert_eq!(
        (
            st.exists,
            st.unseen,
            st.deleted,
            st.first_unseen_uid,
            st.highest_uid,
            st.uidnext
        ),
        (2, 1, 1, 2, 2, 3)
    );
    assert_eq!(st.size, 34);
    let q = h.view.quota(&h.dir).await.unwrap();
    assert_eq!((q.messages, q.used_bytes), (2, 34));
    assert_eq!(
        h.view.mailbox_status(&h.dir, "Calendar").await,
        Err(ViewError::NoSuchMailbox),
        "not a mail folder"
    );
}

async fn a_star_range_past_the_highest_uid_names_the_highest_message<V: MailboxView>(
    h: &Harness<V>,
) {
    for i in 0..120 {
        h.deliver(format!("Subject: {i}\r\n\r\nx").as_bytes(), Flags::NONE, 0)
            .await;
    }
    let folder = h.inbox().await;
    h.view
        .expunge(
            &h.dir,
            folder,
            ExpungeScope::Outright(UidSet::from_ranges([UidRange::new(101, 120)])),
        )
        .await
        .unwrap();
    let star = || UidSet::from_ranges([UidRange::new(110, u32::MAX)]);
    let got: Vec<Uid> = h
        .view
        .list_messages(&h.dir, folder, star())
        .await
        .unwrap()
        .try_concat()
        .await
        .unwrap()
        .iter()
        .map(|e| e.uid)
        .collect();
    assert_eq!(got, vec![100]);
    assert_eq!(h.search(folder, SearchKey::Uid(star())).await, vec![100]);
}

async fn errors_say_what_is_wrong<V: MailboxView>(h: &Harness<V>) {
    let folder = h.inbox().await;
    assert_eq!(
        h.view.mailbox_status(&h.dir, "Nope").await,
        Err(ViewError::NoSuchMailbox)
    );
    assert_eq!(
        h.section(
            folder,
            SectionRequest {
                uid: 99,
                ..Default::default()
            }
        )
        .await,
        Err(ViewError::NoSuchMessage)
    );
    assert_eq!(
        h.view
            .create_mailbox(&h.dir, "a//b", None)
            .await
            .map(|_| ()),
        Err(ViewError::InvalidName(
            "invalid mailbox name \"a//b\": empty hierarchy level".into()
        ))
    );
}

/// The feed of a store: tests send the hints exmdb would publish.
struct TestFeed(tokio::sync::broadcast::Sender<FeedEvent>);

impl ChangeFeed for TestFeed {
    fn follow(&self, _dir: &str) -> futures_util::stream::BoxStream<'static, FeedEvent> {
        tokio_stream::wrappers::BroadcastStream::new(self.0.subscribe())
            .filter_map(|e| async move { e.ok() })
            .boxed()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_feed_precomputes_digests_of_delivered_mail() {
    let (tx, _) = tokio::sync::broadcast::channel(16);
    let h = local_with(Arc::new(TestFeed(tx.clone())));
    let folder = h.inbox().await;
    // Opening the store starts following its feed.
    h.search(folder, SearchKey::Text(TextField::Body, "zz".into()))
        .await;
    h.deliver(&msg("hello", "a@b", "", "fresh"), Flags::NONE, 0)
        .await;
    tx.send(FeedEvent::Added(folder)).unwrap();
    // Once the digest is computed the message's file is no longer needed
    // for its metadata.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let cache = Path::new(&h.dir).join("exmdb/midb.sqlite3");
    loop {
        let conn = rusqlite::Connection::open(&cache).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM digest", [], |r| r.get(0))
            .unwrap();
        if n == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the digest was not computed without a request"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_homed_on_another_node_is_refused_naming_its_home() {
    use groxide_rpc::pb::midb::v1::MailboxStatusRequest;
    use groxide_rpc::pb::midb::v1::midb_server::Midb;
    use groxide_rpc::reason::{Reason, owner_of, reason_of};
    let h = local().await;
    let parent = Path::new(&h.dir).parent().unwrap().display().to_string();
    let table = RouteTable::parse(
        &format!("{parent}/ 127.0.0.2 5555\n/data/user/n2/ 127.0.0.3 5555\n"),
        ListKind::Midb,
        Path::new("midb_list.txt"),
    )
    .unwrap();
    let this_node = LocalNode::new("n1", vec!["127.0.0.2".parse().unwrap()]);
    let resolver = Resolver::new(table, None, this_node, 5555, Duration::from_secs(60));
    let service = MidbService::new(h.view.clone()).serving_home_stores(Arc::new(resolver));
    let status = |dir: &str| {
        tonic::Request::new(MailboxStatusRequest {
            dir: dir.into(),
            name: "INBOX".into(),
        })
    };
    service.mailbox_status(status(&h.dir)).await.unwrap();
    let refused = service
        .mailbox_status(status("/data/user/n2/example.org/bert"))
        .await
        .unwrap_err();
    assert_eq!(
        reason_of(&refused),
        Some(Reason::StoreNotHere),
        "{refused:?}"
    );
    assert_eq!(owner_of(&refused).as_deref(), Some("127.0.0.3:5555"));
}

async fn sort_follows_new_expunged_and_flagged_messages<V: MailboxView>(h: &Harness<V>) {
    let dated = |d: u32| format!("Date: Mon, {d:02} Jan 2024 10:00:00 +0000\r\n");
    h.deliver(
        &msg("Re: beta", "Ann <ann@x.test>", &dated(3), "1"),
        Flags::NONE,
        0,
    )
    .await;
    h.deliver(
        &msg("alpha", "Zed <zed@x.test>", &dated(1), "2"),
        Flags::NONE,
        0,
    )
    .await;
    h.deliver(
        &msg("Fwd: gamma", "Bob <bob@x.test>", &dated(2), "3"),
        Flags::NONE,
        0,
    )
    .await;
    let folder = h.inbox().await;
    let sort = |key: SortKey, reverse: bool, search: SearchKey| {
        let (v, dir) = (h.view.clone(), h.dir.clone());
        async move {
            v.sort(&dir, folder, vec![SortCriterion { key, reverse }], search)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        sort(SortKey::Subject, false, SearchKey::All).await,
        [2, 1, 3]
    );
    assert_eq!(sort(SortKey::Date, true, SearchKey::All).await, [1, 3, 2]);
    // A new message takes its place; a repeated SORT sees it.
    h.deliver(
        &msg("aardvark", "Cat <cat@x.test>", &dated(4), "4"),
        Flags::NONE,
        0,
    )
    .await;
    assert_eq!(
        sort(SortKey::Subject, false, SearchKey::All).await,
        [4, 2, 1, 3]
    );
    // A flag change keeps the order; a search key narrows it.
    h.view
        .store_flags(
            &h.dir,
            folder,
            UidSet::from_uids([2, 3]),
            FlagChange {
                mode: FlagMode::Add,
                flags: Flags::SEEN,
                keywords: vec![],
                unchanged_since: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        sort(SortKey::Subject, false, SearchKey::All).await,
        [4, 2, 1, 3]
    );
    assert_eq!(
        sort(SortKey::Subject, true, SearchKey::FlagsUnset(Flags::SEEN)).await,
        [1, 4]
    );
    // Another criterion reads its keys for every message at once.
    assert_eq!(
        sort(SortKey::From, false, SearchKey::All).await,
        [1, 3, 4, 2]
    );
    // An expunged message is gone from the next SORT.
    h.view
        .expunge(&h.dir, folder, ExpungeScope::Outright(UidSet::single(2)))
        .await
        .unwrap();
    assert_eq!(
        sort(SortKey::Subject, false, SearchKey::All).await,
        [4, 1, 3]
    );
    assert_eq!(sort(SortKey::Date, true, SearchKey::All).await, [4, 1, 3]);
    assert_eq!(sort(SortKey::From, false, SearchKey::All).await, [1, 3, 4]);
}
