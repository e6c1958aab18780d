//! Exchange ActiveSync ([MS-ASHTTP], [MS-ASCMD]) for groxide-http at
//! `/Microsoft-Server-ActiveSync`, authenticated by the server with the
//! ActiveSync privilege, over the user's store through the routed exmdb
//! client (and, for mailbox Search, the routed midb client when the server
//! has one). Bodies are WBXML (groxide-wbxml); items go through the same
//! store items and conversion layer (groxide-pim) as CalDAV and EWS.
//!
//! - [`request`]: the request parameters (query string or base64 form);
//! - [`state`], [`devices`] (crate groxide-eas-state, which groxide-admin
//!   uses too): what is remembered per device, kept in the user's store
//!   (so any node serves the device, a restart loses nothing);
//! - `provision`: the two-step policy key; every other command needs the
//!   acknowledged key (HTTP 449 below 14.0, Status 142/144 from 14.0);
//! - `folder_sync`: the hierarchy with EAS folder types, incremental by
//!   SyncKey; `sync`: Sync of mail (`mail`) and of calendar, contacts and
//!   tasks (`pim_items`), FilterType windows, server-wins conflicts; `ping`
//!   with the shared event subscriptions of `events`; `misc`:
//!   GetItemEstimate, ItemOperations (items, attachments, search results,
//!   EmptyFolderContents), MoveItems, SendMail, Settings; `search`:
//!   Search of the mailbox and the GAL, whose search path `find` (the
//!   16.1 Find command) shares; `meeting`: MeetingResponse;
//!   `resolve`: ResolveRecipients.
//!
//! Invariants: a SyncKey the server does not hold (older than the previous
//! one, another generation) is answered with the protocol's invalid-key
//! status, never with data computed from some other state; the new state
//! is written (one exmdb commit) before the answer that hands out its key.
//! Bad input (undecodable WBXML, unknown code pages, oversized bodies,
//! elements out of place) is a 400 or the command's protocol-error status,
//! with nothing written.

mod calendar;
mod find;
mod folder_sync;
mod mail;
mod meeting;
mod misc;
mod pim_items;
mod ping;
mod provision;
pub mod request;
mod resolve;
mod search;
mod sync;

/// The device state (groxide-eas-state), as this module's own.
pub use groxide_eas_state::{devices, state};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use groxide_directory::Protocol;
use groxide_http_core::body::read_body;
use groxide_http_core::{Answer, Mount, Prefix, Principal, Serve};
use groxide_rpc::midb_view::RemoteView;
use groxide_rpc::{EventHub, ExmdbClient, RpcError};
use groxide_submit::Submitter;
use groxide_wbxml::{Element, Limits};
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, StatusCode};
use request::{Params, Version};
use state::Device;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The mount point.
pub const ENDPOINT: &str = "/Microsoft-Server-ActiveSync";

/// Most commands worked on at once by default (`eas_max_active_commands`;
/// a command that waits, a Ping or a Sync with Wait, gives its turn back
/// while it waits). Thousands of phones reconnecting at once (after a
/// restart) are worked through this many at a time: what their work takes
/// (store answers, encoders) is bounded, and once they wait they hold only
/// their wait.
pub const ACTIVE_COMMANDS: usize = 32;

const WBXML_TYPE: &str = "application/vnd.ms-sync.wbxml";

/// Limits of the module (from http.cfg).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EasSettings {
    /// Shortest Ping heartbeat a client may ask for.
    pub min_heartbeat: Duration,
    /// Longest Ping heartbeat a client may ask for.
    pub max_heartbeat: Duration,
    /// Most items one Sync answer carries per collection.
    pub max_window: usize,
    /// Largest request body decoded.
    pub max_request: usize,
    /// Most commands worked on at once (see [`ACTIVE_COMMANDS`]).
    pub max_active: usize,
}

impl Default for EasSettings {
    fn default() -> EasSettings {
        EasSettings {
            min_heartbeat: Duration::from_secs(60),
            max_heartbeat: Duration::from_secs(3540),
            max_window: 512,
            max_request: 32 * 1024 * 1024,
            max_active: ACTIVE_COMMANDS,
        }
    }
}

/// The ActiveSync module.
pub struct Eas {
    exmdb: Arc<ExmdbClient>,
    settings: RwLock<EasSettings>,
    hub: Arc<EventHub>,
    /// The relay of `outgoing_smtp_url` (SendMail, SmartReply, SmartForward,
    /// MeetingResponse); `None` when the server has none.
    submitter: RwLock<Option<Arc<Submitter>>>,
    /// The user directory (GAL search); none in tests without one.
    directory: RwLock<Option<groxide_directory::Directory>>,
    /// The stores' midb views (mailbox Search answers from their index);
    /// none: Search reads the messages itself.
    midb: RwLock<Option<Arc<RemoteView>>>,
    /// Whether a Search has already logged that it reads messages itself.
    pub(crate) scan_logged: AtomicBool,
    /// Turns of work (`max_active` of the settings; a reload with another
    /// number puts a new semaphore here, and turns taken from the old one
    /// go back to it).
    active: RwLock<Arc<Semaphore>>,
    /// Commands that found every turn taken and waited for one.
    turn_waits: AtomicU64,
}

impl std::fmt::Debug for Eas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Eas").finish_non_exhaustive()
    }
}

impl Eas {
    /// The module, reaching stores through `exmdb` (the routed client) and
    /// change events through `hub` (the server's one event hub, shared with
    /// EWS); mail is sent through `submitter` (the relay of
    /// `outgoing_smtp_url`, shared with EWS).
    pub fn new(
        exmdb: Arc<ExmdbClient>,
        hub: Arc<EventHub>,
        settings: EasSettings,
        submitter: Option<Arc<Submitter>>,
    ) -> Arc<Eas> {
        Arc::new(Eas {
            exmdb,
            settings: RwLock::new(settings),
            hub,
            submitter: RwLock::new(submitter),
            directory: RwLock::new(None),
            midb: RwLock::new(None),
            scan_logged: AtomicBool::new(false),
            active: RwLock::new(Arc::new(Semaphore::new(settings.max_active.max(1)))),
            turn_waits: AtomicU64::new(0),
        })
    }

    /// The module's part of the server. Its requests come straight from
    /// the server ([`Serve::Direct`]), with no router between: a waiting
    /// Ping holds this module's futures only.
    pub fn mount(self: &Arc<Self>) -> Mount {
        let eas = self.clone();
        Mount {
            name: "eas",
            prefixes: vec![Prefix::ignore_case(ENDPOINT)],
            auth: Some(Protocol::ActiveSync),
            serve: Serve::Direct(Arc::new(move |request| answer(eas.clone(), request))),
        }
    }

    /// Applies reloaded settings and relay and forgets cached routes
    /// (SIGHUP; the hub is reset by its owner).
    pub fn reload(&self, settings: EasSettings, submitter: Option<Arc<Submitter>>) {
        let mut active = self.active.write().unwrap_or_else(PoisonError::into_inner);
        if self.settings().max_active != settings.max_active {
            *active = Arc::new(Semaphore::new(settings.max_active.max(1)));
        }
        drop(active);
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings;
        *self
            .submitter
            .write()
            .unwrap_or_else(PoisonError::into_inner) = submitter;
        self.exmdb.routed().reset();
        if let Some(midb) = self.midb() {
            midb.routed().reset();
        }
    }

    /// Gives the module the stores' midb views: mailbox Search asks their
    /// index instead of reading every message (and falls back to reading
    /// them when midb does not answer).
    pub fn set_midb(&self, midb: Arc<RemoteView>) {
        *self.midb.write().unwrap_or_else(PoisonError::into_inner) = Some(midb);
    }

    pub(crate) fn midb(&self) -> Option<Arc<RemoteView>> {
        self.midb
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Gives the module the user directory (Search of the GAL).
    pub fn set_directory(&self, directory: groxide_directory::Directory) {
        *self
            .directory
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(directory);
    }

    pub(crate) fn directory(&self) -> Option<groxide_directory::Directory> {
        self.directory
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Appends the module's metrics (Prometheus text format): its turns
    /// of work, taken and waited for.
    pub fn write_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let max = self.settings().max_active.max(1);
        let free = self
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .available_permits();
        for (name, kind, help, value) in [
            (
                "groxide_http_eas_commands_working",
                "gauge",
                "ActiveSync commands holding a turn of work now (waiting Pings and Syncs hold none).",
                max.saturating_sub(free) as u64,
            ),
            (
                "groxide_http_eas_max_active_commands",
                "gauge",
                "eas_max_active_commands.",
                max as u64,
            ),
            (
                "groxide_http_eas_turn_waits_total",
                "counter",
                "ActiveSync commands that found every turn of work taken and waited for one.",
                self.turn_waits.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    }

    fn settings(&self) -> EasSettings {
        *self.settings.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn submitter(&self) -> Option<Arc<Submitter>> {
        self.submitter
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// One request's context.
pub(crate) struct Ctx<'a> {
    pub eas: &'a Eas,
    pub dir: String,
    pub user: String,
    pub params: Params,
    pub device: Device,
    pub settings: EasSettings,
    /// The user's zone (all-day events).
    pub zone: Option<chrono_tz::Tz>,
    /// The command's turn of work, while it works (see [`ACTIVE_COMMANDS`]).
    pub turn: Option<OwnedSemaphorePermit>,
}

impl Ctx<'_> {
    pub(crate) fn exmdb(&self) -> &ExmdbClient {
        &self.eas.exmdb
    }

    pub(crate) fn devices(&self) -> devices::Devices<'_> {
        devices::Devices::new(&self.eas.exmdb, &self.dir)
    }

    /// Takes a turn of work (waits while `max_active` others work).
    pub(crate) async fn work(&mut self) {
        if self.turn.is_none() {
            let turns = self
                .eas
                .active
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            self.turn = match turns.clone().try_acquire_owned() {
                Ok(turn) => Some(turn),
                Err(_) => {
                    self.eas.turn_waits.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        user = self.user,
                        "every turn of work is taken: the command waits for one"
                    );
                    // The semaphore is never closed.
                    turns.acquire_owned().await.ok()
                }
            };
        }
    }

    /// Gives the turn back: the command waits for a change now.
    pub(crate) fn rest(&mut self) {
        self.turn = None;
    }

    /// Awaits `wait`, a wait on another server (the SMTP relay), without a
    /// turn of work, and takes a turn again after: a slow or unreachable
    /// relay does not stop every phone's commands.
    pub(crate) async fn off_turn<T>(&mut self, wait: impl Future<Output = T>) -> T {
        self.rest();
        let out = wait.await;
        self.work().await;
        out
    }
}

/// How a command failed as a whole (not a protocol status).
#[derive(Debug)]
pub(crate) enum Failure {
    /// The request is malformed: 400.
    BadRequest(String),
    /// The store could not be reached or failed: 503, retry.
    Store(RpcError),
}

impl From<RpcError> for Failure {
    fn from(e: RpcError) -> Failure {
        Failure::Store(e)
    }
}

fn text(status: StatusCode, text: impl Into<String>) -> Response {
    let mut t = text.into();
    t.push('\n');
    (status, t).into_response()
}

fn with_server_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert("MS-Server-ActiveSync", HeaderValue::from_static("16.1"));
    r
}

fn options() -> Response {
    let mut r = StatusCode::OK.into_response();
    let h = r.headers_mut();
    h.insert(ALLOW, HeaderValue::from_static("OPTIONS,POST"));
    h.insert("Public", HeaderValue::from_static("OPTIONS,POST"));
    if let Ok(v) = HeaderValue::from_str(&request::VERSIONS.join(",")) {
        h.insert("MS-ASProtocolVersions", v);
    }
    if let Ok(v) = HeaderValue::from_str(&request::COMMANDS.join(",")) {
        h.insert("MS-ASProtocolCommands", v);
    }
    with_server_headers(r)
}

pub(crate) fn wbxml(root: &Element) -> Response {
    let body = groxide_wbxml::encode(root);
    with_server_headers(
        (
            StatusCode::OK,
            [(CONTENT_TYPE, HeaderValue::from_static(WBXML_TYPE))],
            body,
        )
            .into_response(),
    )
}

/// Whether the `User` parameter names the authenticated user (its full
/// name or its local part; clients send what the user typed).
fn same_user(param: &str, username: &str) -> bool {
    if param.is_empty() || param.eq_ignore_ascii_case(username) {
        return true;
    }
    let local = username.split('@').next().unwrap_or(username);
    param.eq_ignore_ascii_case(local)
        || param
            .rsplit('\\')
            .next()
            .is_some_and(|p| p.eq_ignore_ascii_case(username) || p.eq_ignore_ascii_case(local))
}

/// One request. What it asks is worked out in a boxed step whose state
/// (the request, its body, the decoder's) is gone before the command runs;
/// then the command runs with only its context: a Ping that waits for an
/// hour holds that and its own wait.
fn answer(eas: Arc<Eas>, request: Request<Body>) -> Answer {
    let prepared = Box::pin(prepare(eas.settings(), request));
    Box::pin(async move {
        // Only the boxed run is held across its await (a `match` over the
        // prepared result would keep the result's room in this future).
        let running = match prepared.await {
            Ok(job) => Box::pin(run(eas, Box::new(job))),
            Err(refused) => return refused,
        };
        running.await
    })
}

/// A command to run: whom it is for, its parameters and its document.
struct Job {
    dir: String,
    user: String,
    params: Params,
    settings: EasSettings,
    zone: Option<chrono_tz::Tz>,
    document: Option<Element>,
}

/// Checks the request and decodes its body.
async fn prepare(settings: EasSettings, request: Request<Body>) -> Result<Job, Response> {
    let path = request.uri().path();
    if !path.eq_ignore_ascii_case(ENDPOINT) && !path.eq_ignore_ascii_case(&format!("{ENDPOINT}/")) {
        return Err(text(StatusCode::NOT_FOUND, "no such ActiveSync endpoint"));
    }
    if request.method() == Method::OPTIONS {
        return Err(options());
    }
    if request.method() != Method::POST {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            [(ALLOW, HeaderValue::from_static("OPTIONS,POST"))],
            "ActiveSync takes commands by POST\n",
        )
            .into_response());
    }
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        return Err(text(StatusCode::UNAUTHORIZED, "authentication required"));
    };
    let params = match request::parse(request.uri().query(), request.headers()) {
        Ok(p) => p,
        Err(e) => return Err(text(StatusCode::BAD_REQUEST, e.0)),
    };
    if !request::COMMANDS.contains(&params.command.as_str()) {
        return Err(text(
            StatusCode::NOT_IMPLEMENTED,
            format!("the {} command is not supported", params.command),
        ));
    }
    if !same_user(&params.user, &principal.user.username) {
        return Err(text(
            StatusCode::FORBIDDEN,
            "the User parameter names another mailbox than the one logged in",
        ));
    }
    if principal.user.maildir.is_empty() {
        return Err(text(StatusCode::FORBIDDEN, "this account has no mailbox"));
    }
    let body = match read_body(request.into_body()).await {
        Ok(b) => b,
        Err(e) => return Err(e.into_response()),
    };
    if body.len() > settings.max_request {
        return Err(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request is too large",
        ));
    }
    let document = if body.is_empty() {
        None
    } else {
        let limits = Limits {
            max_input_bytes: settings.max_request,
            ..Limits::default()
        };
        match groxide_wbxml::decode(&body, &limits) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::debug!(error = %e, command = %params.command, "undecodable WBXML");
                return Err(text(
                    StatusCode::BAD_REQUEST,
                    format!("malformed WBXML: {e}"),
                ));
            }
        }
    };
    Ok(Job {
        dir: principal.user.maildir.clone(),
        user: principal.user.username.clone(),
        zone: principal.user.timezone.parse().ok(),
        params,
        settings,
        document,
    })
}

/// Runs a prepared command. (The job comes boxed and is taken apart in a
/// block, so this future holds the context only, not the job beside it.)
async fn run(eas: Arc<Eas>, job: Box<Job>) -> Response {
    let (mut ctx, document) = {
        let Job {
            dir,
            user,
            params,
            settings,
            zone,
            document,
        } = *job;
        let ctx = Ctx {
            eas: &eas,
            dir,
            user,
            params,
            device: Device::default(),
            settings,
            zone,
            turn: None,
        };
        (ctx, document)
    };
    // Boxed: the queue's state is not kept in this future.
    Box::pin(ctx.work()).await;
    match Box::pin(serve(&mut ctx, document)).await {
        Ok(r) => r,
        Err(Failure::BadRequest(why)) => text(StatusCode::BAD_REQUEST, why),
        Err(Failure::Store(e)) => {
            tracing::warn!(error = %e, user = %ctx.user, command = %ctx.params.command, "ActiveSync store request failed");
            let mut r = text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the mailbox store is unavailable; try again later",
            );
            r.headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
    }
}

/// The top-level element and status tag of a command's answer, for
/// answering a provisioning problem in the command's own terms.
fn status_home(command: &str) -> Option<(groxide_wbxml::Tag, groxide_wbxml::Tag)> {
    use groxide_wbxml::{AirSync, FolderHierarchy, GetItemEstimate, ItemOperations, Move, Ping};
    Some(match command {
        "Sync" => (AirSync::Sync.into(), AirSync::Status.into()),
        "FolderSync" => (
            FolderHierarchy::FolderSync.into(),
            FolderHierarchy::Status.into(),
        ),
        "Ping" => (Ping::Ping.into(), Ping::Status.into()),
        "GetItemEstimate" => (
            GetItemEstimate::GetItemEstimate.into(),
            GetItemEstimate::Status.into(),
        ),
        "ItemOperations" => (
            ItemOperations::ItemOperations.into(),
            ItemOperations::Status.into(),
        ),
        "MoveItems" => (Move::MoveItems.into(), Move::Status.into()),
        "SendMail" => (
            groxide_wbxml::ComposeMail::SendMail.into(),
            groxide_wbxml::ComposeMail::Status.into(),
        ),
        "SmartReply" => (
            groxide_wbxml::ComposeMail::SmartReply.into(),
            groxide_wbxml::ComposeMail::Status.into(),
        ),
        "SmartForward" => (
            groxide_wbxml::ComposeMail::SmartForward.into(),
            groxide_wbxml::ComposeMail::Status.into(),
        ),
        "Settings" => (
            groxide_wbxml::Settings::Settings.into(),
            groxide_wbxml::Settings::Status.into(),
        ),
        "Search" => (
            groxide_wbxml::Search::Search.into(),
            groxide_wbxml::Search::Status.into(),
        ),
        "Find" => (
            groxide_wbxml::Find::Find.into(),
            groxide_wbxml::Find::Status.into(),
        ),
        "MeetingResponse" => (
            groxide_wbxml::MeetingResponse::MeetingResponse.into(),
            groxide_wbxml::MeetingResponse::Status.into(),
        ),
        "ResolveRecipients" => (
            groxide_wbxml::ResolveRecipients::ResolveRecipients.into(),
            groxide_wbxml::ResolveRecipients::Status.into(),
        ),
        _ => return None,
    })
}

/// [MS-ASPROV] 3.2.5.1.2: the policy status of a request that is not
/// Provision. `Some(status)`: refuse with it.
fn policy_refusal(device: &Device, sent: Option<u32>) -> Option<u8> {
    if device.wipe == "requested" {
        return Some(140);
    }
    let sent = sent.unwrap_or(0);
    if device.policy_key == 0 || sent == 0 {
        return Some(142);
    }
    (sent != device.policy_key).then_some(144)
}

/// Records the device's visit (its state loaded into `ctx.device`, saved
/// when something changed) and checks its provisioning: `Some` answer
/// refuses the command.
async fn admit(ctx: &mut Ctx<'_>) -> Result<Option<Response>, Failure> {
    let now = chrono::Utc::now().timestamp();
    let known = Box::pin(ctx.devices().device(&ctx.params.device_id)).await?;
    let fresh = known.is_none();
    let mut device = known.unwrap_or_else(|| Device {
        id: ctx.params.device_id.clone(),
        first_seen: now,
        ..Device::default()
    });
    let touched = fresh
        || now - device.last_seen > 300
        || device.device_type != ctx.params.device_type
        || device.version != ctx.params.version.as_string();
    device.device_type.clone_from(&ctx.params.device_type);
    device.version = ctx.params.version.as_string();
    if !ctx.params.user_agent.is_empty() {
        device.user_agent.clone_from(&ctx.params.user_agent);
    }
    if touched {
        device.last_seen = now;
        Box::pin(ctx.devices().save_device(&device)).await?;
    }
    ctx.device = device;
    let command = ctx.params.command.as_str();
    if command != "Provision"
        && let Some(status) = policy_refusal(&ctx.device, ctx.params.policy_key)
    {
        tracing::debug!(device = %ctx.params.device_id, status, "ActiveSync request needs provisioning");
        if ctx.params.version < Version(140) {
            return Ok(Some(with_server_headers(text(
                StatusCode::from_u16(449).unwrap_or(StatusCode::FORBIDDEN),
                "provision first",
            ))));
        }
        return Ok(Some(match status_home(command) {
            Some((root, status_tag)) => wbxml(&Element::with_children(
                root,
                [Element::with_text(status_tag, status.to_string())],
            )),
            None => with_server_headers(text(
                StatusCode::from_u16(449).unwrap_or(StatusCode::FORBIDDEN),
                "provision first",
            )),
        }));
    }
    Ok(None)
}

async fn serve(ctx: &mut Ctx<'_>, document: Option<Element>) -> Result<Response, Failure> {
    // Boxed: the device records it handles are not kept in this future
    // while the command (a Ping) waits.
    if let Some(refused) = Box::pin(admit(ctx)).await? {
        return Ok(refused);
    }
    let command = ctx.params.command.clone();
    // Each command's future is boxed: a waiting Ping holds only its own
    // state, not the size of the largest command's.
    let answer = match command.as_str() {
        "Provision" => Box::pin(provision::provision(ctx, document)).await?,
        "FolderSync" => Box::pin(folder_sync::folder_sync(ctx, document)).await?,
        "FolderCreate" => Box::pin(folder_sync::folder_create(ctx, document)).await?,
        "FolderUpdate" => Box::pin(folder_sync::folder_update(ctx, document)).await?,
        "FolderDelete" => Box::pin(folder_sync::folder_delete(ctx, document)).await?,
        "Sync" => Box::pin(sync::sync(ctx, document)).await?,
        "Ping" => Box::pin(ping::ping(ctx, document)).await?,
        "GetItemEstimate" => Box::pin(misc::get_item_estimate(ctx, document)).await?,
        "ItemOperations" => Box::pin(misc::item_operations(ctx, document)).await?,
        "MoveItems" => Box::pin(misc::move_items(ctx, document)).await?,
        "SendMail" => Box::pin(misc::send_mail(ctx, document)).await?,
        "SmartReply" => Box::pin(misc::smart_reply(ctx, document)).await?,
        "SmartForward" => Box::pin(misc::smart_forward(ctx, document)).await?,
        "Settings" => Box::pin(misc::settings(ctx, document)).await?,
        "Search" => Box::pin(search::search(ctx, document)).await?,
        "Find" => Box::pin(find::find(ctx, document)).await?,
        "MeetingResponse" => Box::pin(meeting::meeting_response(ctx, document)).await?,
        "ResolveRecipients" => Box::pin(resolve::resolve_recipients(ctx, document)).await?,
        other => {
            return Ok(text(
                StatusCode::NOT_IMPLEMENTED,
                format!("the {other} command is not supported"),
            ));
        }
    };
    Ok(match answer {
        Some(root) => wbxml(&root),
        None => with_server_headers(StatusCode::OK.into_response()),
    })
}

/// The document's root must be `tag`.
pub(crate) fn expect_root(
    document: Option<Element>,
    tag: impl Into<groxide_wbxml::Tag>,
) -> Result<Element, Failure> {
    let tag = tag.into();
    match document {
        Some(d) if d.tag == tag => Ok(d),
        Some(d) => Err(Failure::BadRequest(format!(
            "the body is {:?}, not {tag:?}",
            d.tag
        ))),
        None => Err(Failure::BadRequest(format!("{tag:?} needs a body"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_parameter_matches_the_login_in_the_forms_clients_send() {
        for ok in [
            "",
            "demo@example.test",
            "DEMO@example.test",
            "demo",
            "EXAMPLE\\demo",
        ] {
            assert!(same_user(ok, "demo@example.test"), "{ok}");
        }
        for bad in ["other@example.test", "other", "EXAMPLE\\other"] {
            assert!(!same_user(bad, "demo@example.test"), "{bad}");
        }
    }

    /// What a waiting Ping holds is mostly the size of the futures it
    /// waits in (each boxed once per request): the answer's, the run's
    /// (its context), the serving one's and the Ping's own. They must not
    /// grow with the request's or the largest command's state (see the
    /// boxing in `answer` and `serve`).
    #[tokio::test]
    async fn a_waiting_pings_futures_stay_small() {
        let local = groxide_testkit::LocalNode::new();
        let exmdb = local
            .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
            .await;
        let routing = Arc::new(groxide_runtime::Routing::load(&exmdb.config(), None).unwrap());
        let client = Arc::new(ExmdbClient::new(
            routing.exmdb().clone(),
            groxide_rpc::ClientOptions::default(),
        ));
        let hub = EventHub::new(
            routing,
            groxide_rpc::ClientOptions::default(),
            groxide_rpc::HubSettings::default(),
        );
        let eas = Eas::new(client, hub, EasSettings::default(), None);
        let answering = answer(eas.clone(), Request::new(Body::empty()));
        let params = request::parse(
            Some("Cmd=Ping&User=u&DeviceId=d&DeviceType=t"),
            &http::HeaderMap::new(),
        )
        .unwrap();
        let job = Job {
            dir: String::new(),
            user: String::new(),
            params: params.clone(),
            settings: EasSettings::default(),
            zone: None,
            document: None,
        };
        let running = std::mem::size_of_val(&run(eas.clone(), Box::new(job)));
        let mut ctx = Ctx {
            eas: &eas,
            dir: String::new(),
            user: String::new(),
            params,
            device: Device::default(),
            settings: EasSettings::default(),
            zone: None,
            turn: None,
        };
        let serving = std::mem::size_of_val(&serve(&mut ctx, None));
        let pinging = std::mem::size_of_val(&ping::ping(&mut ctx, None));
        let sizes = [
            ("answer", std::mem::size_of_val(&*answering), 64),
            ("run", running, 640),
            ("serve", serving, 256),
            ("ping", pinging, 640),
        ];
        eprintln!("{sizes:?}");
        for (name, size, most) in sizes {
            assert!(
                size <= most,
                "the {name} future takes {size} bytes (at most {most})"
            );
        }
    }

    #[test]
    fn policy_key_checks_follow_ms_asprov() {
        let mut d = Device::default();
        assert_eq!(policy_refusal(&d, None), Some(142));
        d.policy_key = 99;
        assert_eq!(policy_refusal(&d, None), Some(142));
        assert_eq!(policy_refusal(&d, Some(0)), Some(142));
        assert_eq!(policy_refusal(&d, Some(98)), Some(144));
        assert_eq!(policy_refusal(&d, Some(99)), None);
        d.wipe = "requested".into();
        assert_eq!(policy_refusal(&d, Some(99)), Some(140));
    }
}
