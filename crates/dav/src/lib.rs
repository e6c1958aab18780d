//! CalDAV (RFC 4791) and CardDAV (RFC 6352) for groxide-http at `/dav`,
//! authenticated by the server with the DAV privilege, over the user's
//! store through the routed exmdb client.
//!
//! Namespace:
//! - `/dav/` — the root (current-user-principal, the homes);
//! - `/dav/principals/<user>/` — the principal;
//! - `/dav/calendars/<user>/` — the calendar home: every IPF.Appointment
//!   folder (VEVENT) and IPF.Task folder (VTODO) is a calendar;
//! - `/dav/addressbooks/<user>/` — the address book home: every
//!   IPF.Contact folder;
//! - `<home>/<folder>/` — a folder by its store role (`calendar`,
//!   `contacts`, `tasks`) or, without one, by its id;
//! - `<collection>/<name>` — an item by the name its client gave it when
//!   it PUT it (kept in the store), else by its iCalendar/vCard UID +
//!   `.ics`/`.vcf` (`gx-<message id>` for an item without one).
//!
//! - [`xml`]: namespaces, the multistatus writer, path segments;
//! - [`path`]: request paths ↔ resources;
//! - `propfind`: properties of every resource kind; PROPPATCH (nothing
//!   writable yet: 207 with 403 per property);
//! - `items`: GET/HEAD/PUT/DELETE; `copymove`: COPY and MOVE of items;
//! - `report`: calendar-/addressbook-multiget, calendar-query with a
//!   time-range (recurrences expanded, bounded) and property filters,
//!   addressbook-query, sync-collection; `filter`: prop-filter/text-match.
//!
//! Invariants: an item keeps the name it was PUT under; two names never
//! hold the same UID in a collection (409 `no-uid-conflict` naming the
//! holder). The store's tombstones keep a removed item's UID and name, so
//! sync-collection names every removal (404). Bad input is a 4xx with a
//! DAV error element; nothing is written. Writes are acknowledged after
//! exmdb committed them.

mod collections;
mod copymove;
mod filter;
mod gal;
mod items;
pub mod path;
mod propfind;
mod report;
mod store;
pub mod xml;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use groxide_directory::Protocol;
use groxide_http_core::{Mount, Prefix, Principal, Serve};
use groxide_rpc::ExmdbClient;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use std::sync::Arc;

/// The mount point.
pub const ROOT: &str = "/dav";

pub(crate) const ALLOWED: &str =
    "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR, COPY, MOVE";
const DAV_CLASSES: &str = "1, 3, calendar-access, addressbook, extended-mkcol";
const XML_TYPE: &str = "application/xml; charset=utf-8";

/// The DAV module.
pub struct Dav {
    exmdb: Arc<ExmdbClient>,
    /// The user directory (the GAL address book); none: no GAL.
    directory: Option<groxide_directory::Directory>,
}

impl std::fmt::Debug for Dav {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dav").finish_non_exhaustive()
    }
}

impl Dav {
    /// The module, reaching stores through `exmdb` (the routed client).
    pub fn new(exmdb: Arc<ExmdbClient>) -> Arc<Dav> {
        Arc::new(Dav {
            exmdb,
            directory: None,
        })
    }

    /// The module with the user directory, which adds the domain's users
    /// as the read-only address book `gal` to every address book home.
    pub fn with_directory(
        exmdb: Arc<ExmdbClient>,
        directory: groxide_directory::Directory,
    ) -> Arc<Dav> {
        Arc::new(Dav {
            exmdb,
            directory: Some(directory),
        })
    }

    /// The module's part of the server.
    pub fn mount(self: &Arc<Self>) -> Mount {
        Mount {
            name: "dav",
            prefixes: vec![Prefix::exact(ROOT)],
            auth: Some(Protocol::Dav),
            serve: Serve::Router(
                axum::Router::new()
                    .fallback(handle)
                    .with_state(self.clone()),
            ),
        }
    }

    /// Forgets cached routes (SIGHUP).
    pub fn reload(&self) {
        self.exmdb.routed().reset();
    }
}

/// A DAV answer: status, extra headers, body.
#[derive(Debug)]
pub(crate) struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: String,
    content_type: Option<&'static str>,
}

impl Answer {
    pub(crate) fn new(status: StatusCode) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: String::new(),
            content_type: None,
        }
    }

    /// A plain-text error.
    pub(crate) fn text(status: StatusCode, text: impl Into<String>) -> Answer {
        let mut a = Answer::new(status);
        a.body = text.into();
        if !a.body.ends_with('\n') {
            a.body.push('\n');
        }
        a.content_type = Some("text/plain; charset=utf-8");
        a
    }

    /// An error with a DAV precondition element.
    pub(crate) fn condition(status: StatusCode, ns: &str, cond: &str, text: &str) -> Answer {
        let mut a = Answer::new(status);
        a.body = xml::error_body(ns, cond, text);
        a.content_type = Some(XML_TYPE);
        a
    }

    /// An error with a DAV precondition element holding an href (as
    /// CalDAV's `no-uid-conflict`).
    pub(crate) fn condition_href(
        status: StatusCode,
        ns: &str,
        cond: &str,
        path: &str,
        text: &str,
    ) -> Answer {
        let mut body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"{}\" \
             xmlns:C=\"{}\" xmlns:CR=\"{}\">",
            xml::NS_DAV,
            xml::NS_CALDAV,
            xml::NS_CARDDAV
        );
        xml::open_tag(&mut body, ns, cond, false);
        body.push_str(&xml::href(path));
        xml::close_tag(&mut body, ns, cond);
        body.push_str("<D:responsedescription>");
        body.push_str(&quick_xml::escape::escape(text));
        body.push_str("</D:responsedescription></D:error>\n");
        let mut a = Answer::new(status);
        a.body = body;
        a.content_type = Some(XML_TYPE);
        a
    }

    pub(crate) fn multistatus(body: String) -> Answer {
        let mut a = Answer::new(StatusCode::MULTI_STATUS);
        a.body = body;
        a.content_type = Some(XML_TYPE);
        a
    }

    pub(crate) fn header(mut self, name: HeaderName, value: &str) -> Answer {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub(crate) fn body(mut self, body: String, content_type: &'static str) -> Answer {
        self.body = body;
        self.content_type = Some(content_type);
        self
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body).into_response();
        if let Some(ct) = self.content_type {
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        for (k, v) in self.headers {
            r.headers_mut().insert(k, v);
        }
        r
    }
}

/// Whether a request would write into the GAL (its target, or a
/// COPY/MOVE destination, is there; a MOVE out of it writes it too).
fn writes_gal(method: &Method, target: &path::Target, request: &Request) -> bool {
    let in_gal = |t: &path::Target| match t {
        path::Target::Collection(path::Kind::AddressBook, _, seg)
        | path::Target::Item(path::Kind::AddressBook, _, seg, _) => seg == gal::SEGMENT,
        _ => false,
    };
    match method.as_str() {
        "GET" | "HEAD" | "PROPFIND" | "REPORT" | "OPTIONS" => false,
        "COPY" | "MOVE" => {
            (method.as_str() == "MOVE" && in_gal(target))
                || request
                    .headers()
                    .get("Destination")
                    .and_then(|v| v.to_str().ok())
                    .and_then(path::parse_href)
                    .is_some_and(|d| in_gal(&d))
        }
        _ => in_gal(target),
    }
}

fn dav_headers(mut r: Response) -> Response {
    r.headers_mut()
        .insert("DAV", HeaderValue::from_static(DAV_CLASSES));
    r
}

async fn handle(State(dav): State<Arc<Dav>>, request: Request) -> Response {
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        // The server authenticates every request of this mount first.
        return (StatusCode::UNAUTHORIZED, "authentication required\n").into_response();
    };
    let method = request.method().clone();
    if method == Method::OPTIONS {
        return dav_headers(
            (StatusCode::OK, [(ALLOW, HeaderValue::from_static(ALLOWED))]).into_response(),
        );
    }
    let target = match path::parse(request.uri().path()) {
        Ok(t) => t,
        Err(a) => return dav_headers(a.into_response()),
    };
    if let Some(user) = target.user()
        && !user.eq_ignore_ascii_case(&principal.user.username)
    {
        return dav_headers(
            Answer::condition(
                StatusCode::FORBIDDEN,
                xml::NS_DAV,
                "need-privileges",
                "another user's collections are not shared with you",
            )
            .into_response(),
        );
    }
    let mut ctx = store::Ctx::new(&dav, &principal);
    if writes_gal(&method, &target, &request) {
        return dav_headers(gal::read_only().into_response());
    }
    let answer = match method.as_str() {
        "PROPFIND" => propfind::propfind(&mut ctx, &target, request).await,
        "REPORT" => report::report(&mut ctx, &target, request).await,
        "GET" => items::get(&mut ctx, &target, request, false).await,
        "HEAD" => items::get(&mut ctx, &target, request, true).await,
        "PUT" => items::put(&mut ctx, &target, request).await,
        "DELETE" => match &target {
            path::Target::Collection(kind, _, seg) => {
                collections::delete(&mut ctx, *kind, seg).await
            }
            _ => items::delete(&mut ctx, &target, request).await,
        },
        "PROPPATCH" => collections::proppatch(&mut ctx, &target, request).await,
        "MKCOL" => collections::mkcol(&mut ctx, &target, request, false).await,
        "MKCALENDAR" => collections::mkcol(&mut ctx, &target, request, true).await,
        "COPY" => copymove::copy_or_move(&mut ctx, &target, request, false).await,
        "MOVE" => copymove::copy_or_move(&mut ctx, &target, request, true).await,
        "LOCK" | "UNLOCK" => Answer::text(
            StatusCode::FORBIDDEN,
            format!("{method} is not supported by this server yet"),
        ),
        _ => Answer::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            .header(ALLOW, ALLOWED),
    };
    dav_headers(answer.into_response())
}
