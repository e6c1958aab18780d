//! One LMTP (or SMTP) session over any byte stream, so tests drive it in
//! memory and the server runs it over TCP or TLS.
//!
//! States: greeted → LHLO/EHLO → MAIL → RCPT… → DATA → replies → (MAIL …).
//! Every command is parsed by smtp-proto from one bounded line; every state
//! enforces its limit (line length, recipients, message size, idle time, bad
//! commands).

mod conn;
mod data;

pub(crate) use conn::Conn;
use conn::LineEvent;

use crate::mailbox_writer::MailboxWriter;
use crate::recipient::{Mailbox, RecipientResolver, Resolution};
use crate::reply::{self, Reply};
use crate::server::DeliveryServer;
use crate::settings::{Protocol, Settings};
use smtp_proto::{Error as ParseError, MAIL_BODY_BINARYMIME, Request};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

/// How the client introduced itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Greeting {
    Lhlo,
    Ehlo,
    Helo,
}

/// A recipient accepted at RCPT time.
#[derive(Debug, Clone)]
pub(crate) struct AcceptedRecipient {
    /// The address as given in RCPT TO.
    pub address: String,
    /// Where it is delivered.
    pub mailbox: Mailbox,
}

/// One mail transaction (MAIL … DATA).
#[derive(Debug)]
pub(crate) struct Transaction {
    pub queue_id: String,
    pub reverse_path: String,
    pub recipients: Vec<AcceptedRecipient>,
    /// RCPT commands seen, accepted or not (bounded by the recipient limit).
    pub rcpt_seen: usize,
}

/// What the session wants after a command.
enum Flow {
    Continue,
    Close,
    StartTls,
}

/// How a session ended.
pub(crate) enum SessionEnd {
    /// The connection is finished.
    Closed,
    /// The client asked for TLS and got 220: hand the stream to TLS.
    StartTls,
}

/// The state of one session.
pub(crate) struct Session<'a, R, W> {
    server: &'a DeliveryServer<R, W>,
    /// The settings when the session started (a reload applies to new ones).
    settings: Arc<Settings>,
    peer: SocketAddr,
    tls: bool,
    greeting: Option<(Greeting, String)>,
    transaction: Option<Transaction>,
    errors: u32,
}

impl<'a, R: RecipientResolver, W: MailboxWriter> Session<'a, R, W> {
    pub(crate) fn new(server: &'a DeliveryServer<R, W>, peer: SocketAddr, tls: bool) -> Self {
        Session {
            server,
            settings: server.settings(),
            peer,
            tls,
            greeting: None,
            transaction: None,
            errors: 0,
        }
    }

    fn protocol(&self) -> Protocol {
        self.settings.protocol
    }

    /// The protocol name for Received (RFC 3848).
    fn received_with(&self) -> &'static str {
        match (
            self.protocol(),
            self.greeting.as_ref().map(|g| g.0),
            self.tls,
        ) {
            (Protocol::Lmtp, _, false) => "LMTP",
            (Protocol::Lmtp, _, true) => "LMTPS",
            (Protocol::Smtp, Some(Greeting::Helo), _) => "SMTP",
            (Protocol::Smtp, _, false) => "ESMTP",
            (Protocol::Smtp, _, true) => "ESMTPS",
        }
    }

    /// The greeting line.
    pub(crate) fn banner(&self) -> Reply {
        let proto = match self.protocol() {
            Protocol::Lmtp => "LMTP",
            Protocol::Smtp => "ESMTP",
        };
        Reply::new(
            220,
            "",
            format!("{} {proto} groxide-delivery ready", self.settings.hostname),
        )
    }

    /// Runs commands until the client quits, goes away, asks for TLS, or the
    /// daemon shuts down.
    pub(crate) async fn run<S>(&mut self, conn: &mut Conn<S>) -> SessionEnd
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let settings = self.settings.clone();
        let limits = &settings.limits;
        loop {
            let line = match conn
                .next_line(limits.max_command_line, self.server.shutdown())
                .await
            {
                LineEvent::Line(line) => line,
                LineEvent::TooLong => {
                    conn.reply(&reply::line_too_long(limits.max_command_line));
                    if self.count_error(conn) {
                        return SessionEnd::Closed;
                    }
                    continue;
                }
                LineEvent::Closed => return SessionEnd::Closed,
                LineEvent::Timeout => {
                    conn.reply(&reply::idle_timeout());
                    conn.flush().await;
                    return SessionEnd::Closed;
                }
                LineEvent::Shutdown => {
                    conn.reply(&reply::shutting_down());
                    conn.flush().await;
                    return SessionEnd::Closed;
                }
            };
            let flow = match Request::parse(&mut line.iter()) {
                Ok(request) => self.command(request, conn).await,
                Err(e) => {
                    conn.reply(&parse_error_reply(&e));
                    if self.count_error(conn) {
                        Flow::Close
                    } else {
                        Flow::Continue
                    }
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Close => {
                    conn.flush().await;
                    return SessionEnd::Closed;
                }
                Flow::StartTls => {
                    conn.flush().await;
                    return SessionEnd::StartTls;
                }
            }
            if conn.is_broken() {
                return SessionEnd::Closed;
            }
        }
    }

    /// Counts a bad command; true when the connection must close (the 421 is
    /// already queued).
    fn count_error<S>(&mut self, conn: &mut Conn<S>) -> bool
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        self.errors += 1;
        if self.errors >= self.settings.limits.max_errors {
            tracing::info!(peer = %self.peer, "closing after too many bad commands");
            conn.reply(&reply::too_many_errors());
            return true;
        }
        false
    }

    /// Replies with an error that counts towards the limit.
    fn error<S>(&mut self, conn: &mut Conn<S>, r: Reply) -> Flow
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        conn.reply(&r);
        if self.count_error(conn) {
            Flow::Close
        } else {
            Flow::Continue
        }
    }

    async fn command<S>(&mut self, request: Request<Cow<'_, str>>, conn: &mut Conn<S>) -> Flow
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let lmtp = self.protocol() == Protocol::Lmtp;
        match request {
            Request::Lhlo { host } if lmtp => self.hello(Greeting::Lhlo, &host, conn),
            Request::Ehlo { host } if !lmtp => self.hello(Greeting::Ehlo, &host, conn),
            Request::Helo { host } if !lmtp => self.hello(Greeting::Helo, &host, conn),
            Request::Lhlo { .. } => self.error(
                conn,
                Reply::new(500, "5.5.1", "this is SMTP: use EHLO or HELO"),
            ),
            Request::Ehlo { .. } | Request::Helo { .. } => {
                self.error(conn, Reply::new(500, "5.5.1", "this is LMTP: use LHLO"))
            }
            Request::Mail { from } => self.mail(from, conn),
            Request::Rcpt { to } => self.rcpt(&to.address, conn).await,
            Request::Data => self.data(conn).await,
            Request::Rset => {
                self.transaction = None;
                conn.reply(&reply::ok());
                Flow::Continue
            }
            Request::Noop { .. } => {
                conn.reply(&reply::ok());
                Flow::Continue
            }
            Request::Quit => {
                conn.reply(&reply::bye());
                Flow::Close
            }
            Request::Vrfy { .. } => {
                conn.reply(&Reply::new(
                    252,
                    "2.5.0",
                    "cannot verify the user; send mail and see",
                ));
                Flow::Continue
            }
            Request::Help { .. } => {
                conn.reply(&Reply::new(
                    214,
                    "2.0.0",
                    "commands: LHLO MAIL RCPT DATA RSET NOOP QUIT STARTTLS (RFC 2033)",
                ));
                Flow::Continue
            }
            Request::StartTls => self.starttls(conn),
            Request::Auth { .. }
            | Request::Bdat { .. }
            | Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.error(conn, reply::not_implemented()),
        }
    }

    fn hello<S>(&mut self, kind: Greeting, host: &str, conn: &mut Conn<S>) -> Flow
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        self.transaction = None;
        self.greeting = Some((kind, host.to_string()));
        let settings = &*self.settings;
        let mut lines = vec![settings.hostname.clone()];
        if kind != Greeting::Helo {
            lines.extend(
                ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8"]
                    .iter()
                    .map(|s| s.to_string()),
            );
            lines.push(format!("SIZE {}", settings.limits.max_message_size));
            if self.server.offers_tls() && !self.tls {
                lines.push("STARTTLS".into());
            }
        }
        let mut out = Vec::new();
        reply::write_multiline(&mut out, 250, &lines);
        conn.reply_raw(&out);
        Flow::Continue
    }

    fn mail<S>(&mut self, from: smtp_proto::MailFrom<Cow<'_, str>>, conn: &mut Conn<S>) -> Flow
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        if self.greeting.is_none() {
            let hello = match self.protocol() {
                Protocol::Lmtp => "send LHLO first",
                Protocol::Smtp => "send EHLO or HELO first",
            };
            return self.error(conn, reply::bad_sequence(hello));
        }
        if self.transaction.is_some() {
            return self.error(conn, reply::bad_sequence("nested MAIL command"));
        }
        if from.flags & MAIL_BODY_BINARYMIME != 0 {
            return self.error(
                conn,
                Reply::new(555, "5.5.4", "BODY=BINARYMIME is not offered"),
            );
        }
        let max = self.settings.limits.max_message_size;
        if from.size as u64 > max {
            conn.reply(&reply::too_big(max));
            return Flow::Continue;
        }
        let queue_id = new_queue_id();
        tracing::debug!(peer = %self.peer, queue_id, from = %from.address, "MAIL");
        self.transaction = Some(Transaction {
            queue_id,
            reverse_path: from.address.into_owned(),
            recipients: Vec::new(),
            rcpt_seen: 0,
        });
        conn.reply(&Reply::new(250, "2.1.0", "sender OK"));
        Flow::Continue
    }

    async fn rcpt<S>(&mut self, address: &str, conn: &mut Conn<S>) -> Flow
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let max = self.settings.limits.max_recipients;
        let Some(tx) = self.transaction.as_mut() else {
            return self.error(conn, reply::bad_sequence("send MAIL first"));
        };
        if tx.rcpt_seen >= max {
            conn.reply(&Reply::new(
                452,
                "4.5.3",
                format!("too many recipients (limit {max})"),
            ));
            return Flow::Continue;
        }
        tx.rcpt_seen += 1;
        let queue_id = tx.queue_id.clone();
        let resolution = if address.is_empty() {
            Resolution::Unknown
        } else {
            self.server.resolver().resolve(address).await
        };
        let r = match resolution {
            Resolution::Mailbox(mailbox) => {
                tracing::debug!(queue_id, rcpt = address, dir = mailbox.dir, "RCPT accepted");
                if let Some(tx) = self.transaction.as_mut() {
                    tx.recipients.push(AcceptedRecipient {
                        address: address.to_string(),
                        mailbox,
                    });
                }
                Reply::new(250, "2.1.5", format!("<{address}> recipient OK"))
            }
            Resolution::Unknown => {
                tracing::info!(queue_id, rcpt = address, "RCPT rejected: no such user");
                Reply::new(550, "5.1.1", format!("<{address}> no such user"))
            }
            Resolution::NotAllowed => {
                tracing::info!(queue_id, rcpt = address, "RCPT rejected: may not receive");
                Reply::new(550, "5.2.1", format!("<{address}> mailbox disabled"))
            }
            Resolution::TemporaryFailure(why) => {
                tracing::warn!(
                    queue_id,
                    rcpt = address,
                    error = why,
                    "RCPT deferred: directory unavailable"
                );
                reply::try_later(format!(
                    "<{address}> directory unavailable, try again later"
                ))
            }
        };
        conn.reply(&r);
        Flow::Continue
    }

    fn starttls<S>(&mut self, conn: &mut Conn<S>) -> Flow
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        if !self.server.offers_tls() {
            return self.error(conn, reply::not_implemented());
        }
        if self.tls {
            return self.error(conn, reply::bad_sequence("TLS is already active"));
        }
        if self.transaction.is_some() {
            return self.error(conn, reply::bad_sequence("STARTTLS inside a transaction"));
        }
        conn.reply(&Reply::new(220, "2.0.0", "ready to start TLS"));
        Flow::StartTls
    }
}

/// The reply to a line smtp-proto could not parse.
fn parse_error_reply(e: &ParseError) -> Reply {
    match e {
        ParseError::UnknownCommand => reply::unknown_command(),
        ParseError::InvalidSenderAddress => Reply::new(501, "5.1.7", "bad sender address"),
        ParseError::InvalidRecipientAddress => Reply::new(501, "5.1.3", "bad recipient address"),
        ParseError::SyntaxError { syntax } => reply::syntax(format!("syntax: {syntax}")),
        ParseError::InvalidParameter { param } => {
            reply::syntax(format!("invalid parameter {param}"))
        }
        ParseError::UnsupportedParameter { .. } => {
            Reply::new(555, "5.5.4", "unsupported parameter")
        }
        _ => Reply::new(500, "5.5.2", "syntax error"),
    }
}

/// A fresh transaction id: unique, short, safe in file names and headers.
fn new_queue_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    id[..16].to_string()
}
