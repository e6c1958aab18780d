//! One IMAP session: reads commands through the codec's [`Receiver`],
//! answers them in order (pipelined commands included), and keeps the
//! selected mailbox's view in step with the store.
//!
//! Untagged EXISTS, FETCH (flag changes) and EXPUNGE/VANISHED reach the
//! client only at points the RFCs allow: at the end of a command, never
//! while answering FETCH, STORE, SEARCH, SORT or THREAD by sequence number
//! (RFC 3501 §7.4.1, RFC 9051 §7.5.1), and during IDLE. Expunges learnt at
//! other times stay pending in the view until then.

mod append;
mod auth;
mod copy;
mod fetch;
mod flags;
mod idle;
mod mailboxes;
mod search;
mod select;
mod store;
mod sync;
pub mod view;

use crate::admission::{ConnectionSlot, UserSlot};
use crate::backend::MailboxView as _;
use crate::backend::{Account, Backend, EventWatch, StoreEvent, ViewError};
use crate::capability::{CapabilityState, capabilities};
use crate::conn::{BoxedIo, Conn};
use crate::server::ImapServer;
use crate::settings::{PRE_AUTH_MAX_LITERAL, Settings};
use bytes::Bytes;
use groxide_imap_proto::{
    AppendLiteral, Command, CommandBody, Data, NonSyncLiterals, ReceiveError, Received, Receiver,
    ReceiverLimits, Recovery, ResponseCode, ResponseEncoder, Status, StatusResponse, Tag,
};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::TryRecvError;
use view::Selected;

/// Why a session stops.
#[derive(Debug)]
pub enum End {
    /// The connection failed.
    Io(io::Error),
    /// The session ended in order (LOGOUT, BYE sent, client gone).
    Closed,
}

impl From<io::Error> for End {
    fn from(e: io::Error) -> End {
        End::Io(e)
    }
}

/// The result of one step of a session.
pub type Flow = Result<(), End>;

/// Extensions the client turned on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enabled {
    /// CONDSTORE (ENABLE, or a command using MODSEQ).
    pub condstore: bool,
    /// QRESYNC (implies CONDSTORE).
    pub qresync: bool,
    /// UTF8=ACCEPT.
    pub utf8: bool,
    /// IMAP4rev2.
    pub rev2: bool,
}

impl Enabled {
    /// Names are UTF-8 on the wire.
    pub fn utf8_names(&self) -> bool {
        self.utf8 || self.rev2
    }
}

/// The logged-in user.
struct Login {
    account: Account,
    _slot: UserSlot,
}

/// What the receiver handed over, owned.
enum Step {
    Command(Command),
    NeedMore,
    Continue,
    AppendStart(AppendLiteral),
    AppendData(Bytes),
    Error(ReceiveError),
}

/// One session over one connection.
pub struct Session<'a, B: Backend> {
    server: &'a ImapServer<B>,
    settings: Arc<Settings>,
    conn: Conn,
    rx: Receiver,
    enc: ResponseEncoder,
    peer: SocketAddr,
    tls: bool,
    enabled: Enabled,
    auth_failures: u32,
    login: Option<Login>,
    selected: Option<Selected>,
    watch: Option<EventWatch>,
    append: Option<append::AppendState<crate::backend::Upload<B>>>,
    /// This connection's place in admission (pre-login until login).
    slot: ConnectionSlot,
    /// When a connection not logged in by then is closed.
    login_deadline: tokio::time::Instant,
}

fn receiver_limits(settings: &Settings, authenticated: bool) -> ReceiverLimits {
    ReceiverLimits {
        max_line_length: settings.max_line_length,
        max_literal_size: if authenticated {
            settings.max_literal_size
        } else {
            PRE_AUTH_MAX_LITERAL.min(settings.max_literal_size)
        },
        non_sync_literals: NonSyncLiterals::Any,
        ..ReceiverLimits::default()
    }
}

impl<'a, B: Backend> Session<'a, B> {
    /// A session on `stream` from `peer`; `tls` when the stream is TLS.
    pub fn new(
        server: &'a ImapServer<B>,
        stream: BoxedIo,
        peer: SocketAddr,
        tls: bool,
        slot: ConnectionSlot,
    ) -> Self {
        let settings = server.settings();
        Session {
            slot,
            login_deadline: tokio::time::Instant::now() + settings.login_timeout,
            server,
            rx: Receiver::new(receiver_limits(&settings, false)),
            settings,
            conn: Conn::new(stream),
            enc: ResponseEncoder::new(false),
            peer,
            tls,
            enabled: Enabled::default(),
            auth_failures: 0,
            login: None,
            selected: None,
            watch: None,
            append: None,
        }
    }

    /// Greets the client and serves commands until the session ends.
    pub async fn run(mut self) {
        let caps = self.capability_list();
        let greeting = StatusResponse::untagged(Status::Ok, "groxide IMAP server ready")
            .with_code(ResponseCode::Capability(caps));
        self.enc.status(self.conn.out(), &greeting);
        match self.serve().await {
            Ok(()) | Err(End::Closed) => {}
            Err(End::Io(e)) => {
                tracing::debug!(peer = %self.peer, error = %e, "connection failed");
            }
        }
        let _ = self.conn.flush().await;
        self.conn.shutdown().await;
    }

    async fn serve(&mut self) -> Flow {
        loop {
            match self.next_step() {
                Step::Command(cmd) => self.execute(cmd).await?,
                Step::NeedMore => self.read_more().await?,
                Step::Continue => {
                    self.conn.out().extend_from_slice(b"+ Ready\r\n");
                    self.conn.flush().await?;
                }
                Step::AppendStart(literal) => self.append_start(literal).await?,
                Step::AppendData(chunk) => self.append_data(chunk).await?,
                Step::Error(e) => self.receive_error(e).await?,
            }
        }
    }

    fn next_step(&mut self) -> Step {
        match self.rx.receive() {
            Ok(Received::Command(c)) => Step::Command(c),
            Ok(Received::NeedMore) => Step::NeedMore,
            Ok(Received::Continue { .. }) => Step::Continue,
            Ok(Received::AppendLiteral(l)) => Step::AppendStart(l),
            Ok(Received::AppendData(d)) => Step::AppendData(Bytes::copy_from_slice(d)),
            Err(e) => Step::Error(e),
        }
    }

    /// Whether the connection is not logged in and its login time is over.
    fn login_expired(&self) -> bool {
        self.login.is_none() && tokio::time::Instant::now() >= self.login_deadline
    }

    /// Time the client may stay silent: before login also bounded by the
    /// login deadline, which no command moves.
    fn idle_limit(&self) -> Duration {
        if self.login.is_some() {
            self.settings.autologout
        } else {
            let left = self
                .login_deadline
                .saturating_duration_since(tokio::time::Instant::now());
            self.settings.conn_timeout.min(left)
        }
    }

    /// Flushes and reads more input; ends the session at EOF, timeout or shutdown.
    async fn read_more(&mut self) -> Flow {
        self.conn.flush().await?;
        self.conn.release_buffers();
        if self.login_expired() {
            tracing::info!(peer = %self.peer, "closing a connection that did not log in in time");
            return self.bye_plain("Login timeout").await;
        }
        let limit = self.idle_limit();
        let shutdown = self.server.shutdown_token();
        let Session { conn, rx, .. } = self;
        let mut sink = |b: &[u8]| rx.feed(b);
        let read = tokio::select! {
            _ = shutdown.cancelled() => None,
            r = tokio::time::timeout(limit, conn.read(&mut sink)) => Some(r),
        };
        match read {
            None => self.bye(ResponseCode::Unavailable, "shutting down").await,
            Some(Err(_)) if self.login_expired() => {
                tracing::info!(peer = %self.peer, "closing a connection that did not log in in time");
                self.bye_plain("Login timeout").await
            }
            Some(Err(_)) => self.bye_plain("Autologout; idle for too long").await,
            Some(Ok(Ok(0))) => Err(End::Closed),
            Some(Ok(Ok(_))) => Ok(()),
            Some(Ok(Err(e))) => Err(End::Io(e)),
        }
    }

    /// Reads one line outside the command syntax (AUTHENTICATE, IDLE).
    async fn read_line(&mut self) -> Result<Vec<u8>, End> {
        loop {
            match self.rx.next_line() {
                Ok(Some(line)) => return Ok(line.to_vec()),
                Ok(None) => self.read_more().await?,
                Err(e) => {
                    let text = e.message();
                    self.untagged(Status::Bad, None, &text);
                    if e.recovery == Recovery::Close {
                        return Err(End::Closed);
                    }
                    return Ok(Vec::new());
                }
            }
        }
    }

    async fn receive_error(&mut self, e: ReceiveError) -> Flow {
        // An APPEND whose literal or syntax failed must not leave an upload open.
        if let Some(state) = self.append.take() {
            state.abandon();
        }
        let text = e.message();
        let code = e.response_code();
        match &e.tag {
            Some(tag) => {
                let status = if code == Some(ResponseCode::TooBig) {
                    Status::No
                } else {
                    Status::Bad
                };
                self.tagged(tag, status, code, &text);
            }
            None => self.untagged(Status::Bad, code, &text),
        }
        if e.recovery == Recovery::Close {
            return self.bye_plain("Protocol error; closing").await;
        }
        Ok(())
    }

    // ---- responses ----

    fn write_reply(&mut self, tag: &Tag, reply: Reply) {
        let mut r = StatusResponse::tagged(tag.clone(), reply.status, reply.text);
        r.code = reply.code;
        self.enc.status(self.conn.out(), &r);
    }

    fn tagged(&mut self, tag: &Tag, status: Status, code: Option<ResponseCode>, text: &str) {
        let mut r = StatusResponse::tagged(tag.clone(), status, text);
        r.code = code;
        self.enc.status(self.conn.out(), &r);
    }

    fn untagged(&mut self, status: Status, code: Option<ResponseCode>, text: &str) {
        let mut r = StatusResponse::untagged(status, text);
        r.code = code;
        self.enc.status(self.conn.out(), &r);
    }

    fn data(&mut self, data: &Data) {
        self.enc.data(self.conn.out(), data);
    }

    /// Turns CONDSTORE on for the session (RFC 7162 §3.1). The first
    /// CONDSTORE-enabling command issued while a mailbox is selected
    /// announces the mailbox's HIGHESTMODSEQ in an untagged OK, so the
    /// client has a point to resynchronise from (as Dovecot does). The
    /// value is the store's current one; changes the session has not
    /// reported yet still reach it, with their MODSEQ.
    async fn enable_condstore(&mut self) {
        if self.enabled.condstore {
            return;
        }
        self.enabled.condstore = true;
        let Some((name, known)) = self
            .selected
            .as_ref()
            .map(|v| (v.name.clone(), v.known_modseq))
        else {
            return;
        };
        let mut highest = known;
        if let Ok(account) = self.account()
            && let Ok(st) = self
                .server
                .backend()
                .view()
                .mailbox_status(&account.dir, &name)
                .await
        {
            highest = highest.max(st.highest_modseq);
        }
        self.untagged(
            Status::Ok,
            Some(ResponseCode::HighestModSeq(highest.max(1))),
            "Highest",
        );
    }

    /// `* BYE [code] text`, then the session ends.
    async fn bye(&mut self, code: ResponseCode, text: &str) -> Flow {
        self.untagged(Status::Bye, Some(code), text);
        self.conn.flush().await?;
        Err(End::Closed)
    }

    async fn bye_plain(&mut self, text: &str) -> Flow {
        self.untagged(Status::Bye, None, text);
        self.conn.flush().await?;
        Err(End::Closed)
    }

    // ---- state ----

    fn capability_list(&self) -> Vec<String> {
        capabilities(
            &self.settings,
            CapabilityState {
                tls: self.tls,
                starttls_available: self.settings.starttls && self.server.has_tls(),
                authenticated: self.login.is_some(),
                compressed: self.conn.compressed(),
            },
        )
    }

    /// The account, or `BAD` when not logged in.
    fn account(&self) -> Result<Account, Stop> {
        match &self.login {
            Some(l) => Ok(l.account.clone()),
            None => Err(Reply::bad("Log in first").into()),
        }
    }

    /// The account when a mailbox is selected, or `BAD`.
    fn require_selected(&self) -> Result<Account, Stop> {
        let account = self.account()?;
        if self.selected.is_none() {
            return Err(Reply::bad("No mailbox selected").into());
        }
        Ok(account)
    }

    /// The selected mailbox (after [`Session::require_selected`]).
    fn view(&mut self) -> Result<&mut Selected, Stop> {
        self.selected
            .as_mut()
            .ok_or_else(|| Reply::bad("No mailbox selected").into())
    }

    /// Looks for change hints of the selected folder without waiting.
    fn poll_events(&mut self) {
        let Some(watch) = self.watch.as_mut() else {
            return;
        };
        let folder = self.selected.as_ref().map(|s| s.folder);
        let own = self.selected.as_ref().map(|s| &s.own_changes);
        let mut dirty = false;
        loop {
            match watch.try_recv() {
                Ok(StoreEvent::Changed {
                    folder: f,
                    change_number,
                }) => {
                    // Our own commits were reported when they were made.
                    let ours = own.is_some_and(|o| o.contains(&change_number));
                    if (Some(f) == folder || f == 0) && !ours {
                        dirty = true;
                    }
                }
                Ok(StoreEvent::Resync) | Err(TryRecvError::Lagged(_)) => dirty = true,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => {
                    self.watch = None;
                    dirty = true;
                    break;
                }
            }
        }
        if dirty && let Some(s) = self.selected.as_mut() {
            s.dirty = true;
        }
    }

    // ---- dispatch ----

    async fn execute(&mut self, cmd: Command) -> Flow {
        self.settings = self.server.settings();
        let Command { tag, body } = cmd;
        // These answer by sequence number: expunges must wait (RFC 3501 §7.4.1).
        let seq_sensitive = match &body {
            CommandBody::Fetch(f) => !f.uid,
            CommandBody::Store(s) => !s.uid,
            CommandBody::Search(s) => !s.uid,
            CommandBody::Sort(s) => !s.uid,
            CommandBody::Thread(t) => !t.uid,
            _ => false,
        };
        let force_sync = matches!(body, CommandBody::Noop | CommandBody::Check);
        // Commands that ask about "the newest" messages see what has arrived
        // (`UID FETCH n:*`, searches); expunges still wait for the end, as the
        // command's numbers predate them.
        if wants_fresh_view(&body) && self.selected.is_some() {
            self.poll_events();
            // Without hints the store must be asked every time.
            let stale = self.watch.is_none() || self.selected.as_ref().is_some_and(|s| s.dirty);
            self.sync_selected(false, stale).await?;
        }
        let handled = match body {
            CommandBody::Logout => {
                self.untagged(Status::Bye, None, "Logging out");
                self.tagged(&tag, Status::Ok, None, "LOGOUT completed");
                self.conn.flush().await?;
                return Err(End::Closed);
            }
            CommandBody::StartTls => return self.starttls(&tag).await,
            CommandBody::Idle => return self.idle(&tag).await,
            CommandBody::Compress { algorithm } => return self.compress(&tag, &algorithm).await,
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => return self.authenticate(&tag, mechanism, initial_response).await,
            CommandBody::Login { username, password } => {
                return self.login(&tag, &username, &password).await;
            }
            CommandBody::Append(append) => return self.append_complete(&tag, append).await,
            body => self.run_command(&tag, body).await,
        };
        let reply = match handled {
            Ok(reply) | Err(Stop::Reply(reply)) => reply,
            Err(Stop::End(end)) => return Err(end),
        };
        if self.selected.is_some() && reply.status != Status::Bad {
            self.sync_selected(!seq_sensitive, force_sync).await?;
        }
        self.write_reply(&tag, reply);
        Ok(())
    }

    /// The commands whose answer is untagged data plus one tagged reply.
    async fn run_command(&mut self, tag: &Tag, body: CommandBody) -> Handled {
        match body {
            CommandBody::Capability => {
                let caps = self.capability_list();
                self.data(&Data::Capability(caps));
                Ok(Reply::ok("CAPABILITY completed"))
            }
            CommandBody::Noop => Ok(Reply::ok("NOOP completed")),
            CommandBody::Check => {
                self.require_selected()?;
                Ok(Reply::ok("CHECK completed"))
            }
            CommandBody::Id { .. } => {
                let fields = vec![
                    ("name".to_owned(), Some("groxide".to_owned())),
                    (
                        "version".to_owned(),
                        Some(env!("CARGO_PKG_VERSION").to_owned()),
                    ),
                ];
                self.data(&Data::Id(Some(fields)));
                Ok(Reply::ok("ID completed"))
            }
            CommandBody::Enable { capabilities } => self.enable(capabilities),
            CommandBody::Namespace => {
                self.account()?;
                let personal = vec![groxide_imap_proto::NamespaceDescription {
                    prefix: String::new(),
                    delimiter: Some(crate::names::SEPARATOR),
                    extensions: Vec::new(),
                }];
                self.data(&Data::Namespace {
                    personal,
                    other: Vec::new(),
                    shared: Vec::new(),
                });
                Ok(Reply::ok("NAMESPACE completed"))
            }
            CommandBody::Select { mailbox, params } => self.select(mailbox, params, false).await,
            CommandBody::Examine { mailbox, params } => self.select(mailbox, params, true).await,
            CommandBody::Create {
                mailbox,
                special_use,
            } => self.create(mailbox, special_use).await,
            CommandBody::Delete { mailbox } => self.delete(mailbox).await,
            CommandBody::Rename { from, to } => self.rename(from, to).await,
            CommandBody::Subscribe { mailbox } => self.subscribe(mailbox, true).await,
            CommandBody::Unsubscribe { mailbox } => self.subscribe(mailbox, false).await,
            CommandBody::List(list) => self.list(list).await,
            CommandBody::Lsub { reference, pattern } => self.lsub(&reference, &pattern).await,
            CommandBody::Status { mailbox, items } => self.status(mailbox, items).await,
            CommandBody::GetQuota { root } => self.get_quota(&root).await,
            CommandBody::GetQuotaRoot { mailbox } => self.get_quota_root(mailbox).await,
            CommandBody::SetQuota { .. } => {
                self.account()?;
                Ok(Reply::no(
                    Some(ResponseCode::NoPerm),
                    "Quotas are set by the administrator",
                ))
            }
            CommandBody::Close => self.close(true).await,
            CommandBody::Unselect => self.close(false).await,
            CommandBody::Expunge => self.expunge(None).await,
            CommandBody::UidExpunge { uids } => self.expunge(Some(uids)).await,
            CommandBody::Search(search) => self.search(tag, search).await,
            CommandBody::Fetch(fetch) => self.fetch(fetch).await,
            CommandBody::Store(store) => self.store(store).await,
            CommandBody::Copy { uid, set, mailbox } => self.copy(uid, set, mailbox, false).await,
            CommandBody::Move { uid, set, mailbox } => self.copy(uid, set, mailbox, true).await,
            CommandBody::Sort(sort) => self.sort(tag, sort).await,
            CommandBody::Thread(thread) => self.thread(thread).await,
            // Handled in `execute`.
            CommandBody::Logout
            | CommandBody::StartTls
            | CommandBody::Idle
            | CommandBody::Compress { .. }
            | CommandBody::Authenticate { .. }
            | CommandBody::Login { .. }
            | CommandBody::Append(_) => Ok(Reply::bad("Unexpected command")),
        }
    }

    fn enable(&mut self, caps: Vec<groxide_imap_proto::EnableCapability>) -> Handled {
        use groxide_imap_proto::EnableCapability as Cap;
        self.account()?;
        if self.selected.is_some() {
            return Ok(Reply::bad(
                "ENABLE is only valid before a mailbox is selected",
            ));
        }
        let mut newly = Vec::new();
        for cap in caps {
            match cap {
                Cap::CondStore if !self.enabled.condstore => {
                    self.enabled.condstore = true;
                    newly.push("CONDSTORE".to_owned());
                }
                Cap::QResync if !self.enabled.qresync => {
                    self.enabled.qresync = true;
                    self.enabled.condstore = true;
                    newly.push("QRESYNC".to_owned());
                }
                Cap::Utf8Accept if !self.enabled.utf8 => {
                    self.enabled.utf8 = true;
                    newly.push("UTF8=ACCEPT".to_owned());
                }
                Cap::Imap4Rev2 if self.settings.rfc9051 && !self.enabled.rev2 => {
                    self.enabled.rev2 = true;
                    newly.push("IMAP4rev2".to_owned());
                }
                _ => {}
            }
        }
        self.enc.set_utf8(self.enabled.utf8_names());
        self.data(&Data::Enabled(newly));
        Ok(Reply::ok("ENABLE completed"))
    }

    async fn compress(&mut self, tag: &Tag, algorithm: &str) -> Flow {
        let reply = if self.login.is_none() {
            Reply::bad("Log in first")
        } else if self.conn.compressed() {
            Reply::no(
                Some(ResponseCode::CompressionActive),
                "Compression is already active",
            )
        } else if !algorithm.eq_ignore_ascii_case("DEFLATE") {
            Reply::no(None, "Unknown compression algorithm")
        } else {
            self.tagged(tag, Status::Ok, None, "DEFLATE active");
            self.conn.flush().await?;
            let pending = self.rx.take_buffered();
            let Session { conn, rx, .. } = self;
            conn.start_compression(&pending, &mut |b| rx.feed(b))?;
            return Ok(());
        };
        self.write_reply(tag, reply);
        Ok(())
    }

    /// Deselects the mailbox (CLOSE expunges first when allowed).
    async fn close(&mut self, expunge: bool) -> Handled {
        let account = self.require_selected()?;
        if let Some(s) = self.selected.take()
            && expunge
            && !s.read_only
            && let Err(e) = self
                .server
                .backend()
                .view()
                .expunge(
                    &account.dir,
                    s.folder,
                    crate::backend::ExpungeScope::Deleted,
                )
                .await
        {
            tracing::info!(dir = %account.dir, folder = s.folder, error = %e, "CLOSE could not expunge");
        }
        Ok(Reply::ok(if expunge {
            "CLOSE completed"
        } else {
            "UNSELECT completed"
        }))
    }
}

/// True for commands whose answer should include messages that arrived
/// since the last report: UID sets with `*` and searches.
fn wants_fresh_view(body: &CommandBody) -> bool {
    match body {
        CommandBody::Fetch(f) => f.uid && f.set.uses_largest(),
        CommandBody::Store(s) => s.uid && s.set.uses_largest(),
        CommandBody::Copy { uid, set, .. } | CommandBody::Move { uid, set, .. } => {
            *uid && set.uses_largest()
        }
        CommandBody::Search(_) | CommandBody::Sort(_) | CommandBody::Thread(_) => true,
        _ => false,
    }
}

/// The tagged response that ends a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// OK, NO or BAD.
    pub status: Status,
    /// Its response code.
    pub code: Option<ResponseCode>,
    /// Its text.
    pub text: String,
}

impl Reply {
    /// `OK text`.
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Ok,
            code: None,
            text: text.into(),
        }
    }

    /// `OK [code] text`.
    pub fn ok_with(code: ResponseCode, text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Ok,
            code: Some(code),
            text: text.into(),
        }
    }

    /// `NO [code] text`.
    pub fn no(code: Option<ResponseCode>, text: impl Into<String>) -> Reply {
        Reply {
            status: Status::No,
            code,
            text: text.into(),
        }
    }

    /// `BAD text`.
    pub fn bad(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Bad,
            code: None,
            text: text.into(),
        }
    }
}

/// A command stops early: with its tagged reply, or the session ends.
#[derive(Debug)]
pub enum Stop {
    /// Answer with this reply.
    Reply(Reply),
    /// The session ends.
    End(End),
}

impl From<Reply> for Stop {
    fn from(r: Reply) -> Stop {
        Stop::Reply(r)
    }
}

impl From<End> for Stop {
    fn from(e: End) -> Stop {
        Stop::End(e)
    }
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::End(End::Io(e))
    }
}

impl From<ViewError> for Stop {
    fn from(e: ViewError) -> Stop {
        let (code, text) = no_for(&e);
        Stop::Reply(Reply::no(code, text))
    }
}

/// What a command handler returns.
pub type Handled = Result<Reply, Stop>;

/// The response code and text for a failed backend request.
pub fn no_for(e: &ViewError) -> (Option<ResponseCode>, String) {
    let code = match e {
        ViewError::NoSuchMailbox => ResponseCode::NonExistent,
        ViewError::MailboxExists => ResponseCode::AlreadyExists,
        ViewError::NoSuchMessage => ResponseCode::ExpungeIssued,
        ViewError::OverQuota => ResponseCode::OverQuota,
        ViewError::TooBig => ResponseCode::TooBig,
        ViewError::InvalidName(_) | ViewError::NotPermitted(_) => ResponseCode::Cannot,
        ViewError::UnknownCte => ResponseCode::UnknownCte,
        ViewError::SpecialUseTaken(_) => ResponseCode::UseAttr,
        ViewError::Unavailable(_) => ResponseCode::Unavailable,
        _ => ResponseCode::ServerBug,
    };
    let text = match e {
        ViewError::NoSuchMailbox => "No such mailbox".to_owned(),
        ViewError::MailboxExists => "Mailbox already exists".to_owned(),
        ViewError::NoSuchMessage => "The message no longer exists".to_owned(),
        ViewError::OverQuota => "Quota exceeded".to_owned(),
        ViewError::TooBig => "Message too large".to_owned(),
        ViewError::UnknownCte => "Unknown content-transfer-encoding".to_owned(),
        ViewError::Unavailable(_) => "Mail store temporarily unavailable; try again".to_owned(),
        ViewError::Internal(_) => "Internal error".to_owned(),
        other => capitalise(&other.to_string()),
    };
    (Some(code), text)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
