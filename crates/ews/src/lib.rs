//! Exchange Web Services for groxide-http: SOAP 1.1 at
//! `/EWS/Exchange.asmx` (any case), authenticated by the server with the
//! web privilege, over the user's store through the routed exmdb client.
//!
//! - [`xml`]: the namespace-resolving reader (names by URI, never by
//!   prefix) and the escaping writer;
//! - [`soap`]: the envelope (`RequestServerVersion`, `ServerVersionInfo`
//!   of Exchange 2016, `ExchangeImpersonation` refused, SOAP faults only
//!   for bodies that are not EWS requests);
//! - [`response`]: response codes and the per-item `ResponseMessages`;
//! - [`ids`]: `FolderId`/`ItemId`/`ChangeKey`/sync states, stable across
//!   restarts and nodes;
//! - [`folders`]: distinguished folder names and folder elements;
//! - [`items`]: the container class → item kind map and the `t:Message`
//!   element;
//! - [`groupware`]: calendar items, contacts and tasks ↔ the store's
//!   groupware items through groxide-pim (the same conversion CalDAV and
//!   CardDAV use), recurring series expanded for `CalendarView`;
//! - [`notifications`]: pull and streaming subscriptions, their events
//!   found by comparing the store with a mark, fed by the shared event hub;
//! - [`restriction`]: FindItem's `Restriction`, `SortOrder` and
//!   `IndexedPageItemView` over the common item properties, for mail and
//!   groupware folders alike;
//! - `ops`: the operations.
//!
//! Invariants: every request is answered with an EWS document — an
//! operation this server does not do gets its `…Response` with an error
//! code, never an HTTP 500; only a body that is not a SOAP envelope (or
//! names an unknown schema version, or asks for impersonation) is a SOAP
//! fault. Ids of another store are refused. Writes are acknowledged after
//! exmdb committed them. Hops: one exmdb RPC per folder list, message read
//! or write (the store's home node is found by the routed client).

pub mod attachments;
pub mod folders;
pub mod groupware;
pub mod ids;
mod item_cache;
pub mod items;
mod mailbox;
pub mod notifications;
mod ops;
pub mod response;
pub mod restriction;
pub mod soap;
pub mod xml;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use groxide_directory::Protocol;
use groxide_http_core::body::read_body;
use groxide_http_core::{Mount, Prefix, Principal, Serve};
use groxide_rpc::{EventHub, ExmdbClient};
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
use ids::StoreGuid;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The endpoint path (matched without case).
pub const ENDPOINT: &str = "/EWS/Exchange.asmx";

const XML: &str = "text/xml; charset=utf-8";

/// The EWS module.
pub struct Ews {
    exmdb: Arc<ExmdbClient>,
    /// Other users (availability, name resolution); `None`: only the
    /// caller is known.
    directory: Option<groxide_directory::Directory>,
    /// The relay of `outgoing_smtp_url` (SendItem, CreateItem sending).
    submitter: Mutex<Option<Arc<groxide_submit::Submitter>>>,
    /// Mailbox GUIDs by store dir (they never change for a store).
    guids: Mutex<HashMap<String, StoreGuid>>,
    /// The server's event hub (streaming notifications wait on it).
    hub: Mutex<Option<Arc<EventHub>>>,
    /// Pull and streaming subscriptions.
    subscriptions: notifications::Subscriptions,
    /// Copies made here (`CopiedEvent`).
    copies: notifications::CopyNotes,
    /// Folder listings for FindItem paging.
    listings: Listings,
    /// Items as listings show them, written once.
    items: item_cache::ItemCache,
}

/// What identifies a folder's state: any append, removal, flag or other
/// message change moves one of them (every message change takes a new
/// MODSEQ; the count and UIDNEXT catch the rest).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ListingStamp {
    uidvalidity: u32,
    uidnext: u32,
    highest_modseq: u64,
    message_count: u64,
}

impl ListingStamp {
    pub(crate) fn of(f: &groxide_rpc::pb::exmdb::v1::Folder) -> ListingStamp {
        ListingStamp {
            uidvalidity: f.uidvalidity,
            uidnext: f.uidnext,
            highest_modseq: f.highest_modseq,
            message_count: f.message_count,
        }
    }
}

type Listing = Arc<Vec<groxide_rpc::pb::exmdb::v1::MessageEntry>>;

/// Folder listings in the default view order, by (store dir, folder),
/// each valid for one [`ListingStamp`]: paging through a large folder with
/// FindItem lists it once, not once per page. Bounded by the entries held
/// in all ([`Listings::MAX_ENTRIES`]); past that it starts over.
#[derive(Default)]
pub(crate) struct Listings {
    map: Mutex<HashMap<(String, u64), (ListingStamp, Listing)>>,
}

impl Listings {
    const MAX_ENTRIES: usize = 200_000;

    pub(crate) fn get(&self, dir: &str, folder: u64, stamp: ListingStamp) -> Option<Listing> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&(dir.to_string(), folder))
            .filter(|(s, _)| *s == stamp)
            .map(|(_, l)| l.clone())
    }

    pub(crate) fn put(&self, dir: &str, folder: u64, stamp: ListingStamp, listing: Listing) {
        if listing.len() > Self::MAX_ENTRIES {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let held: usize = map.values().map(|(_, l)| l.len()).sum();
        if held + listing.len() > Self::MAX_ENTRIES {
            map.clear();
        }
        map.insert((dir.to_string(), folder), (stamp, listing));
    }
}

impl std::fmt::Debug for Ews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ews").finish_non_exhaustive()
    }
}

impl Ews {
    /// The module, reaching stores through `exmdb` (the routed client of
    /// this node).
    pub fn new(exmdb: Arc<ExmdbClient>) -> Arc<Ews> {
        Arc::new(Ews {
            exmdb,
            directory: None,
            submitter: Mutex::new(None),
            guids: Mutex::new(HashMap::new()),
            hub: Mutex::new(None),
            subscriptions: notifications::Subscriptions::default(),
            copies: notifications::CopyNotes::default(),
            listings: Listings::default(),
            items: item_cache::ItemCache::new(item_cache::DEFAULT_BUDGET),
        })
    }

    /// The module with the user directory, so that other users' free/busy
    /// and names can be looked up.
    pub fn with_directory(
        exmdb: Arc<ExmdbClient>,
        directory: groxide_directory::Directory,
    ) -> Arc<Ews> {
        Arc::new(Ews {
            exmdb,
            directory: Some(directory),
            submitter: Mutex::new(None),
            guids: Mutex::new(HashMap::new()),
            hub: Mutex::new(None),
            subscriptions: notifications::Subscriptions::default(),
            copies: notifications::CopyNotes::default(),
            listings: Listings::default(),
            items: item_cache::ItemCache::new(item_cache::DEFAULT_BUDGET),
        })
    }

    /// The module's part of the server.
    pub fn mount(self: &Arc<Self>) -> Mount {
        Mount {
            name: "ews",
            prefixes: vec![Prefix::ignore_case("/EWS")],
            auth: Some(Protocol::Web),
            serve: Serve::Router(
                axum::Router::new()
                    .fallback(handle)
                    .with_state(self.clone()),
            ),
        }
    }

    /// Sets (or, with `None`, removes) the relay messages are sent through.
    pub fn set_submitter(&self, submitter: Option<Arc<groxide_submit::Submitter>>) {
        *self
            .submitter
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = submitter;
    }

    /// Sets the event hub streaming notifications wait on (without one, a
    /// streaming connection looks at the store every
    /// [`notifications::NotificationLimits::recheck`]).
    pub fn set_event_hub(&self, hub: Arc<EventHub>) {
        *self.hub.lock().unwrap_or_else(PoisonError::into_inner) = Some(hub);
    }

    fn event_hub(&self) -> Option<Arc<EventHub>> {
        self.hub
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sets the bytes kept of items as listings show them
    /// (`ews_item_cache_size`; 0: none), dropping what is kept.
    pub fn set_item_cache_size(&self, bytes: usize) {
        self.items.set_budget(bytes);
    }

    /// Appends the module's metrics (Prometheus text format): what the
    /// item cache holds and how often it answered.
    pub fn write_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let f = self.items.figures();
        for (name, kind, help, value) in [
            (
                "groxide_http_ews_item_cache_hits_total",
                "counter",
                "Items of FindItem and SyncFolderItems answers copied from the item cache.",
                f.hits as f64,
            ),
            (
                "groxide_http_ews_item_cache_misses_total",
                "counter",
                "Items of FindItem and SyncFolderItems answers read from the store and written.",
                f.misses as f64,
            ),
            (
                "groxide_http_ews_item_cache_items",
                "gauge",
                "Items the item cache holds now.",
                f.items as f64,
            ),
            (
                "groxide_http_ews_item_cache_bytes",
                "gauge",
                "Bytes of the item cache's newer half (the older holds at most as many).",
                f.bytes as f64,
            ),
            (
                "groxide_http_ews_item_cache_budget_bytes",
                "gauge",
                "ews_item_cache_size.",
                f.budget as f64,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    }

    /// Sets the limits of subscriptions.
    pub fn set_notification_limits(&self, limits: notifications::NotificationLimits) {
        self.subscriptions.set_limits(limits);
    }

    /// Live subscriptions (metrics, tests).
    pub fn subscriptions(&self) -> usize {
        self.subscriptions.len()
    }

    fn submitter(&self) -> Option<Arc<groxide_submit::Submitter>> {
        self.submitter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets cached routes (SIGHUP).
    pub fn reload(&self) {
        self.exmdb.routed().reset();
    }

    fn cached_guid(&self, dir: &str) -> Option<StoreGuid> {
        self.guids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(dir)
            .copied()
    }

    fn remember_guid(&self, dir: &str, guid: StoreGuid) {
        let mut map = self.guids.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > 100_000 {
            map.clear();
        }
        map.insert(dir.to_string(), guid);
    }

    /// Answers one SOAP request body for `principal`: the document and
    /// whether it is a fault (HTTP 500).
    pub async fn answer(&self, principal: &Principal, body: &[u8]) -> (bool, String) {
        match soap::parse_request(body) {
            Ok(request) => (false, self.answer_request(principal, &request).await),
            Err(fault) => (true, fault_answer(&fault)),
        }
    }

    async fn answer_request(&self, principal: &Principal, request: &soap::SoapRequest) -> String {
        let mut w = xml::XmlWriter::new();
        soap::open_envelope(&mut w);
        let mut mailbox = mailbox::Mailbox::new(
            self,
            &principal.user.maildir,
            &principal.user.username,
            &principal.user.timezone,
        );
        ops::dispatch(&mut mailbox, request, &mut w).await;
        w.finish()
    }
}

fn fault_answer(fault: &soap::Fault) -> String {
    tracing::debug!(code = fault.code.as_str(), reason = %fault.message, "EWS fault");
    soap::fault_document(fault)
}

fn xml_response(status: StatusCode, document: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(XML))],
        document,
    )
        .into_response()
}

/// GetStreamingEvents: one envelope per chunk of a response that stays
/// open (see `ops::notify`).
async fn streaming(ews: Arc<Ews>, principal: Principal, op: &xml::Element) -> Response {
    let request = match ops::notify::stream_request(&ews, &principal, op) {
        Ok(r) => r,
        Err(document) => return xml_response(StatusCode::OK, document),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(4);
    tokio::spawn(ops::notify::stream(ews, principal, request, tx));
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|doc| {
            (
                Ok::<_, std::convert::Infallible>(bytes::Bytes::from(doc)),
                rx,
            )
        })
    });
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, HeaderValue::from_static(XML)),
            // Each envelope must reach the client as it is written: no gzip.
            (
                CACHE_CONTROL,
                HeaderValue::from_static("no-cache, no-transform"),
            ),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response()
}

async fn handle(State(ews): State<Arc<Ews>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if !path.eq_ignore_ascii_case(ENDPOINT) {
        return (StatusCode::NOT_FOUND, "no such EWS endpoint\n").into_response();
    }
    if request.method() != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(ALLOW, HeaderValue::from_static("POST"))],
            "EWS takes SOAP requests by POST\n",
        )
            .into_response();
    }
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        // The server authenticates every request of this mount first.
        return (StatusCode::UNAUTHORIZED, "authentication required\n").into_response();
    };
    let body = match read_body(request.into_body()).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    match soap::parse_request(&body) {
        Ok(r) if r.operation.is(xml::NS_MESSAGES, "GetStreamingEvents") => {
            streaming(ews, principal, &r.operation).await
        }
        Ok(r) => xml_response(StatusCode::OK, ews.answer_request(&principal, &r).await),
        Err(fault) => xml_response(StatusCode::INTERNAL_SERVER_ERROR, fault_answer(&fault)),
    }
}
