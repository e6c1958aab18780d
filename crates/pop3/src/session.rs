//! One POP3 connection: AUTHORIZATION, TRANSACTION and UPDATE states
//! (RFC 1939) over any stream, with CAPA (RFC 2449), STLS (RFC 2595), SASL
//! PLAIN (RFC 5034) and response codes (RFC 2449 RESP-CODES, RFC 3206).
//!
//! Invariants: deletions happen only at QUIT in the UPDATE state, in one
//! commit; a dropped or timed-out connection changes nothing. Input is
//! bounded (line length, error count, idle time); nothing a client sends
//! makes the session panic.

use crate::command::{self, Command, MessageNumber, ParseError};
use crate::dot::DotStuffer;
use crate::maildrop::{
    Backend, LoginError, Maildrop, MaildropError, MaildropMessage, MaildropUpdate,
};
use crate::sasl;
use futures_util::StreamExt;
use groxide_runtime::admission::{ConnectionSlot, Limits};
use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// Output is written when this much of a message is buffered.
const WRITE_CHUNK: usize = 64 * 1024;

/// How a session behaves; from pop3.cfg.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Text after `+OK ` in the greeting.
    pub greeting: String,
    /// STLS may be offered (TLS is configured for this listener).
    pub stls_offered: bool,
    /// Refuse USER, PASS and AUTH until TLS is active (`pop3_force_tls`).
    pub force_tls: bool,
    /// Idle time after which the connection is closed (`pop3_conn_timeout`).
    pub idle_timeout: Duration,
    /// Longest command line (`pop3_max_line_length`).
    pub max_line: usize,
    /// Bad commands and failed logins before the connection is closed
    /// (`pop3_max_errors`).
    pub max_errors: u32,
    /// Connection limits and the login timeout (`context_num`,
    /// `pop3_max_connections_per_ip`, `pop3_max_unauth_connections*`,
    /// `pop3_login_timeout`).
    pub limits: Limits,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            greeting: "groxide POP3 server ready".into(),
            stls_offered: false,
            force_tls: false,
            idle_timeout: Duration::from_secs(180),
            max_line: 4096,
            max_errors: 10,
            limits: Limits::default(),
        }
    }
}

/// A connection's admission: its place (pre-login until login) and the
/// time by which it must have logged in, whatever it sends meanwhile. Kept
/// across STLS.
#[derive(Debug)]
pub struct LoginGate {
    slot: Option<ConnectionSlot>,
    deadline: tokio::time::Instant,
}

impl LoginGate {
    /// The gate of an admitted connection that must log in within `timeout`.
    pub fn new(slot: ConnectionSlot, timeout: Duration) -> LoginGate {
        LoginGate {
            slot: Some(slot),
            deadline: tokio::time::Instant::now() + timeout,
        }
    }

    /// No admission and no login deadline (tests).
    pub fn unlimited() -> LoginGate {
        LoginGate {
            slot: None,
            deadline: tokio::time::Instant::now() + Duration::from_secs(365 * 86_400),
        }
    }

    fn logged_in(&mut self) {
        if let Some(slot) = &mut self.slot {
            slot.authenticated();
        }
    }
}

/// How a session ended.
#[derive(Debug)]
pub enum Outcome<S> {
    /// The connection is done.
    Closed,
    /// The client asked for STLS and got `+OK`: wrap the stream in TLS and
    /// run a new session on it (without greeting). Bytes the client sent
    /// after STLS were discarded.
    StartTls(S),
}

enum Line {
    Text(String),
    TooLong,
    Eof,
}

enum Flow {
    Continue,
    Close,
    StartTls,
}

struct Transaction<D> {
    drop: D,
    messages: Vec<MaildropMessage>,
    deleted: Vec<bool>,
    retrieved: Vec<bool>,
}

impl<D> Transaction<D> {
    fn index(&self, n: MessageNumber) -> Result<usize, String> {
        let i = usize::try_from(n.0).unwrap_or(usize::MAX);
        if i == 0 || i > self.messages.len() {
            return Err("-ERR no such message\r\n".into());
        }
        if self.deleted[i - 1] {
            return Err(format!("-ERR message {} already deleted\r\n", n.0));
        }
        Ok(i - 1)
    }

    fn live(&self) -> impl Iterator<Item = (usize, &MaildropMessage)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.deleted[*i])
    }

    fn totals(&self) -> (usize, u64) {
        self.live()
            .fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.size))
    }
}

enum State<D> {
    Authorization { user: Option<String> },
    Transaction(Transaction<D>),
}

struct Session<'a, S, B: Backend> {
    io: BufReader<S>,
    peer: IpAddr,
    tls_active: bool,
    backend: &'a B,
    cfg: &'a SessionConfig,
    state: State<B::Drop>,
    errors: u32,
    gate: &'a mut LoginGate,
}

/// Runs a session on `stream` until it ends. `tls_active`: the stream is
/// already encrypted (implicit TLS, or after STLS); `greet`: send the
/// greeting (not after STLS).
pub async fn run<S, B>(
    stream: S,
    peer: IpAddr,
    tls_active: bool,
    greet: bool,
    backend: &B,
    cfg: &SessionConfig,
    gate: &mut LoginGate,
) -> Outcome<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    let mut s = Session {
        io: BufReader::new(stream),
        peer,
        tls_active,
        backend,
        cfg,
        state: State::Authorization { user: None },
        errors: 0,
        gate,
    };
    if greet {
        let greeting = format!("+OK {}\r\n", s.cfg.greeting);
        if s.send(greeting.as_bytes()).await.is_err() {
            return Outcome::Closed;
        }
    }
    match s.serve().await {
        Flow::StartTls => Outcome::StartTls(s.io.into_inner()),
        Flow::Continue | Flow::Close => Outcome::Closed,
    }
}

impl<S, B> Session<'_, S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let write = async {
            let w = self.io.get_mut();
            w.write_all(bytes).await?;
            w.flush().await
        };
        match tokio::time::timeout(self.cfg.idle_timeout, write).await {
            Ok(r) => r,
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }

    async fn reply(&mut self, text: &str) -> Flow {
        match self.send(text.as_bytes()).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Close,
        }
    }

    /// An error the client caused: counted, and the connection closes when
    /// there were too many.
    async fn fail(&mut self, text: &str) -> Flow {
        self.errors += 1;
        if let Flow::Close = self.reply(text).await {
            return Flow::Close;
        }
        if self.errors >= self.cfg.max_errors {
            tracing::info!(peer = %self.peer, "closing after too many errors");
            let _ = self
                .reply("-ERR too many errors; closing the connection\r\n")
                .await;
            return Flow::Close;
        }
        Flow::Continue
    }

    async fn read_line(&mut self) -> std::io::Result<Line> {
        let max = self.cfg.max_line;
        let mut buf = Vec::new();
        let mut too_long = false;
        loop {
            let avail = self.io.fill_buf().await?;
            if avail.is_empty() {
                return Ok(Line::Eof);
            }
            let (take, end) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i, Some(i + 1)),
                None => (avail.len(), None),
            };
            if !too_long {
                if buf.len() + take > max {
                    too_long = true;
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(&avail[..take]);
                }
            }
            match end {
                Some(n) => {
                    self.io.consume(n);
                    break;
                }
                None => self.io.consume(take),
            }
        }
        if too_long {
            return Ok(Line::TooLong);
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Line::Text(String::from_utf8_lossy(&buf).into_owned()))
    }

    /// A line within the idle timeout; `None` when the connection is gone
    /// or idle for too long (the caller closes it).
    async fn next_line(&mut self) -> Option<Line> {
        let mut limit = self.cfg.idle_timeout;
        if matches!(self.state, State::Authorization { .. }) {
            let left = self
                .gate
                .deadline
                .saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                tracing::info!(peer = %self.peer, "closing a connection that did not log in in time");
                let _ = self.send(b"-ERR [SYS/TEMP] login timeout\r\n").await;
                return None;
            }
            limit = limit.min(left);
        }
        match tokio::time::timeout(limit, self.read_line()).await {
            Ok(Ok(Line::Eof)) | Ok(Err(_)) => None,
            Ok(Ok(line)) => Some(line),
            Err(_)
                if matches!(self.state, State::Authorization { .. })
                    && tokio::time::Instant::now() >= self.gate.deadline =>
            {
                tracing::info!(peer = %self.peer, "closing a connection that did not log in in time");
                let _ = self.send(b"-ERR [SYS/TEMP] login timeout\r\n").await;
                None
            }
            Err(_) => {
                tracing::debug!(peer = %self.peer, "closing an idle connection");
                let _ = self.send(b"-ERR disconnected for inactivity\r\n").await;
                None
            }
        }
    }

    async fn serve(&mut self) -> Flow {
        loop {
            let line = match self.next_line().await {
                None => return Flow::Close,
                Some(Line::TooLong) => {
                    let max = self.cfg.max_line;
                    match self
                        .fail(&format!("-ERR line too long (at most {max} octets)\r\n"))
                        .await
                    {
                        Flow::Continue => continue,
                        other => return other,
                    }
                }
                Some(Line::Text(l)) => l,
                Some(Line::Eof) => return Flow::Close,
            };
            let flow = match command::parse(&line) {
                Ok(cmd) => self.dispatch(cmd).await,
                Err(ParseError::Unknown) => self.fail("-ERR unknown command\r\n").await,
                Err(ParseError::Empty) => self.fail("-ERR empty command\r\n").await,
                Err(ParseError::Syntax(why)) => self.fail(&format!("-ERR {why}\r\n")).await,
            };
            match flow {
                Flow::Continue => {}
                other => return other,
            }
        }
    }

    fn plaintext_refused(&self) -> bool {
        self.cfg.force_tls && !self.tls_active
    }

    fn capabilities(&self) -> String {
        let mut c = String::from(
            "+OK capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n",
        );
        if let State::Authorization { .. } = self.state {
            if !self.plaintext_refused() {
                c.push_str("USER\r\nSASL PLAIN\r\n");
            }
            if self.cfg.stls_offered && !self.tls_active {
                c.push_str("STLS\r\n");
            }
        }
        c.push_str("IMPLEMENTATION groxide\r\n.\r\n");
        c
    }

    async fn dispatch(&mut self, cmd: Command) -> Flow {
        let in_auth = matches!(self.state, State::Authorization { .. });
        match cmd {
            Command::Capa => {
                let c = self.capabilities();
                self.reply(&c).await
            }
            Command::Noop if !in_auth => self.reply("+OK\r\n").await,
            Command::Quit => self.quit().await,
            Command::Stls if in_auth => self.stls().await,
            Command::User(u) if in_auth => self.user(u).await,
            Command::Pass(p) if in_auth => self.pass(p).await,
            Command::Auth { mechanism, initial } if in_auth => self.auth(mechanism, initial).await,
            Command::Stat
            | Command::List(_)
            | Command::Uidl(_)
            | Command::Retr(_)
            | Command::Top(..)
            | Command::Dele(_)
            | Command::Rset
                if !in_auth =>
            {
                self.transaction(cmd).await
            }
            _ => self.fail("-ERR command not valid in this state\r\n").await,
        }
    }

    async fn stls(&mut self) -> Flow {
        if self.tls_active {
            return self.fail("-ERR TLS is already active\r\n").await;
        }
        if !self.cfg.stls_offered {
            return self.fail("-ERR STLS is not available\r\n").await;
        }
        match self.reply("+OK begin TLS negotiation\r\n").await {
            Flow::Continue => Flow::StartTls,
            other => other,
        }
    }

    async fn user(&mut self, user: String) -> Flow {
        if self.plaintext_refused() {
            return self
                .fail("-ERR [AUTH] log in only after STLS (TLS is required)\r\n")
                .await;
        }
        self.state = State::Authorization { user: Some(user) };
        self.reply("+OK send PASS\r\n").await
    }

    async fn pass(&mut self, password: String) -> Flow {
        if self.plaintext_refused() {
            return self
                .fail("-ERR [AUTH] log in only after STLS (TLS is required)\r\n")
                .await;
        }
        let user = match &mut self.state {
            State::Authorization { user } => user.take(),
            State::Transaction(_) => None,
        };
        let Some(user) = user else {
            return self.fail("-ERR send USER first\r\n").await;
        };
        self.login(&user, &password).await
    }

    async fn auth(&mut self, mechanism: Option<String>, initial: Option<String>) -> Flow {
        if self.plaintext_refused() {
            return self
                .fail("-ERR [AUTH] log in only after STLS (TLS is required)\r\n")
                .await;
        }
        let Some(mechanism) = mechanism else {
            return self.reply("+OK\r\nPLAIN\r\n.\r\n").await;
        };
        if mechanism != "PLAIN" {
            return self
                .fail("-ERR [AUTH] unsupported SASL mechanism (PLAIN is offered)\r\n")
                .await;
        }
        let response = match initial {
            Some(r) => r,
            None => {
                if let Flow::Close = self.reply("+ \r\n").await {
                    return Flow::Close;
                }
                match self.next_line().await {
                    None | Some(Line::Eof) => return Flow::Close,
                    Some(Line::TooLong) => {
                        return self.fail("-ERR [AUTH] SASL response too long\r\n").await;
                    }
                    Some(Line::Text(t)) => t,
                }
            }
        };
        if response.trim() == "*" {
            return self.fail("-ERR authentication cancelled\r\n").await;
        }
        match sasl::decode_plain(response.trim()) {
            Ok(c) => self.login(&c.user, &c.password).await,
            Err(e) => self.fail(&format!("-ERR [AUTH] {e}\r\n")).await,
        }
    }

    async fn login(&mut self, user: &str, password: &str) -> Flow {
        let mut drop = match self.backend.login(user, password, self.peer).await {
            Ok(d) => d,
            Err(LoginError::InvalidCredentials) => {
                return self
                    .fail("-ERR [AUTH] invalid user name or password\r\n")
                    .await;
            }
            Err(LoginError::Throttled) => {
                return self
                    .fail("-ERR [LOGIN-DELAY] too many failed logins; try again later\r\n")
                    .await;
            }
            Err(LoginError::NotPermitted) => {
                return self
                    .fail("-ERR [SYS/PERM] this account may not use POP3\r\n")
                    .await;
            }
            Err(LoginError::Unavailable(why)) => {
                tracing::warn!(peer = %self.peer, error = %why, "POP3 login failed: backend unavailable");
                return self
                    .reply("-ERR [SYS/TEMP] the mailbox is unavailable; try again later\r\n")
                    .await;
            }
        };
        let messages = match drop.messages().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(peer = %self.peer, error = %e, "POP3: cannot list the maildrop");
                return self
                    .reply("-ERR [SYS/TEMP] the mailbox is unavailable; try again later\r\n")
                    .await;
            }
        };
        let n = messages.len();
        let tx = Transaction {
            drop,
            deleted: vec![false; n],
            retrieved: vec![false; n],
            messages,
        };
        let (count, size) = tx.totals();
        self.state = State::Transaction(tx);
        self.gate.logged_in();
        self.errors = 0;
        self.reply(&format!(
            "+OK maildrop has {count} messages ({size} octets)\r\n"
        ))
        .await
    }

    async fn transaction(&mut self, cmd: Command) -> Flow {
        let State::Transaction(tx) = &mut self.state else {
            return Flow::Close;
        };
        let text = match cmd {
            Command::Stat => {
                let (n, size) = tx.totals();
                format!("+OK {n} {size}\r\n")
            }
            Command::List(None) => {
                let (n, size) = tx.totals();
                let mut out = format!("+OK {n} messages ({size} octets)\r\n");
                for (i, m) in tx.live() {
                    out.push_str(&format!("{} {}\r\n", i + 1, m.size));
                }
                out.push_str(".\r\n");
                out
            }
            Command::Uidl(None) => {
                let mut out = String::from("+OK unique-id listing follows\r\n");
                for (i, m) in tx.live() {
                    out.push_str(&format!("{} {}\r\n", i + 1, m.uidl));
                }
                out.push_str(".\r\n");
                out
            }
            Command::List(Some(n)) => match tx.index(n) {
                Ok(i) => format!("+OK {} {}\r\n", n.0, tx.messages[i].size),
                Err(e) => return self.fail(&e).await,
            },
            Command::Uidl(Some(n)) => match tx.index(n) {
                Ok(i) => format!("+OK {} {}\r\n", n.0, tx.messages[i].uidl),
                Err(e) => return self.fail(&e).await,
            },
            Command::Dele(n) => match tx.index(n) {
                Ok(i) => {
                    tx.deleted[i] = true;
                    format!("+OK message {} deleted\r\n", n.0)
                }
                Err(e) => return self.fail(&e).await,
            },
            Command::Rset => {
                tx.deleted.iter_mut().for_each(|d| *d = false);
                let (n, size) = tx.totals();
                format!("+OK maildrop has {n} messages ({size} octets)\r\n")
            }
            Command::Retr(n) => return self.send_message(n, None).await,
            Command::Top(n, lines) => return self.send_message(n, Some(lines)).await,
            _ => return self.fail("-ERR command not valid in this state\r\n").await,
        };
        self.reply(&text).await
    }

    /// RETR (`lines` None) or TOP.
    async fn send_message(&mut self, n: MessageNumber, lines: Option<u64>) -> Flow {
        let State::Transaction(tx) = &mut self.state else {
            return Flow::Close;
        };
        let i = match tx.index(n) {
            Ok(i) => i,
            Err(e) => return self.fail(&e).await,
        };
        let m = tx.messages[i].clone();
        let mut body = match tx.drop.retrieve(m.uid, lines.is_none()).await {
            Ok(s) => s,
            Err(MaildropError::Gone) => {
                return self
                    .reply("-ERR this message was deleted by another session\r\n")
                    .await;
            }
            Err(MaildropError::Unavailable(why)) => {
                tracing::warn!(peer = %self.peer, uid = m.uid, error = %why, "POP3: cannot read a message");
                return self
                    .reply("-ERR [SYS/TEMP] cannot read the message; try again later\r\n")
                    .await;
            }
        };
        let mut stuffer = match lines {
            None => DotStuffer::whole(),
            Some(l) => DotStuffer::top(l),
        };
        let mut out: Vec<u8> = match lines {
            None => format!("+OK {} octets\r\n", m.size).into_bytes(),
            Some(_) => b"+OK top of message follows\r\n".to_vec(),
        };
        let mut sent_any = false;
        while !stuffer.is_done() {
            match body.next().await {
                Some(Ok(chunk)) => stuffer.push(&chunk, &mut out),
                Some(Err(e)) if !sent_any => {
                    tracing::warn!(peer = %self.peer, uid = m.uid, error = %e, "POP3: cannot read a message");
                    return self
                        .reply("-ERR [SYS/TEMP] cannot read the message; try again later\r\n")
                        .await;
                }
                Some(Err(e)) => {
                    // "+OK" and part of the message are out: the only safe answer is to hang up.
                    tracing::warn!(peer = %self.peer, uid = m.uid, error = %e, "POP3: message read broke off; closing");
                    return Flow::Close;
                }
                None => break,
            }
            if out.len() >= WRITE_CHUNK {
                if self.send(&out).await.is_err() {
                    return Flow::Close;
                }
                sent_any = true;
                out.clear();
            }
        }
        drop(body);
        stuffer.finish(&mut out);
        if self.send(&out).await.is_err() {
            return Flow::Close;
        }
        if lines.is_none()
            && let State::Transaction(tx) = &mut self.state
        {
            tx.retrieved[i] = true;
        }
        Flow::Continue
    }

    async fn quit(&mut self) -> Flow {
        let state = std::mem::replace(&mut self.state, State::Authorization { user: None });
        let State::Transaction(mut tx) = state else {
            let _ = self.reply("+OK groxide POP3 server signing off\r\n").await;
            return Flow::Close;
        };
        // The UPDATE state: apply the deletions (and \Seen of what was read).
        let mut update = MaildropUpdate::default();
        for (i, m) in tx.messages.iter().enumerate() {
            if tx.deleted[i] {
                update.delete.push(m.uid);
            } else if tx.retrieved[i] {
                update.seen.push(m.uid);
            }
        }
        let (left, _) = tx.totals();
        let text = if update.delete.is_empty() && update.seen.is_empty() {
            format!("+OK groxide POP3 server signing off ({left} messages left)\r\n")
        } else {
            match tx.drop.commit(update).await {
                Ok(()) => format!("+OK groxide POP3 server signing off ({left} messages left)\r\n"),
                Err(e) => {
                    tracing::warn!(peer = %self.peer, error = %e, "POP3: applying deletions failed");
                    "-ERR [SYS/TEMP] some deleted messages were not removed\r\n".to_owned()
                }
            }
        };
        let _ = self.reply(&text).await;
        Flow::Close
    }
}

#[cfg(test)]
mod tests;
