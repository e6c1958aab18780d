//! The client side of one SMTP/LMTP connection: greeting, EHLO/LHLO,
//! STARTTLS, and transactions with per-recipient results. PIPELINING is used
//! when offered; in LMTP every accepted recipient's reply after DATA is read
//! (one reply each, RFC 2033).

use crate::data_encoder::DataEncoder;
use crate::error::{Stage, SubmitError};
use crate::reply::{MAX_REPLY, Reply};
use crate::url::{Dialect, RelayUrl, Security};
use smtp_proto::{EXT_8BIT_MIME, EXT_PIPELINING, EXT_SIZE, EXT_SMTP_UTF8, EXT_START_TLS};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Chunk size for reading the message and writing DATA.
const DATA_CHUNK: usize = 64 * 1024;

/// Any byte stream (TCP, or TLS over TCP).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The envelope of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM (empty = the null sender `<>`).
    pub from: String,
    /// RCPT TO, in order.
    pub recipients: Vec<String>,
}

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientStatus {
    /// The relay took the message for this recipient.
    Accepted(Reply),
    /// Refused for now (4xx); try again later.
    Deferred(Reply),
    /// Refused for good (5xx).
    Rejected(Reply),
}

impl RecipientStatus {
    fn from_reply(reply: Reply) -> RecipientStatus {
        if reply.is_success() {
            RecipientStatus::Accepted(reply)
        } else if reply.is_permanent() {
            RecipientStatus::Rejected(reply)
        } else {
            RecipientStatus::Deferred(reply)
        }
    }

    /// The reply that decided it.
    pub fn reply(&self) -> &Reply {
        match self {
            RecipientStatus::Accepted(r)
            | RecipientStatus::Deferred(r)
            | RecipientStatus::Rejected(r) => r,
        }
    }
}

/// One recipient's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientResult {
    /// The address as given.
    pub address: String,
    /// What happened.
    pub status: RecipientStatus,
}

/// The per-recipient results of one message, in envelope order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitReport {
    /// One entry per envelope recipient.
    pub recipients: Vec<RecipientResult>,
}

impl SubmitReport {
    /// True when every recipient was accepted.
    pub fn all_accepted(&self) -> bool {
        self.recipients
            .iter()
            .all(|r| matches!(r.status, RecipientStatus::Accepted(_)))
    }

    /// The recipients that were accepted.
    pub fn accepted(&self) -> impl Iterator<Item = &str> {
        self.recipients
            .iter()
            .filter(|r| matches!(r.status, RecipientStatus::Accepted(_)))
            .map(|r| r.address.as_str())
    }
}

/// Timeouts of a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub reply: Duration,
    pub final_reply: Duration,
}

/// What the server offered in its EHLO/LHLO reply.
#[derive(Debug, Clone, Copy, Default)]
struct Capabilities {
    flags: u32,
    size: usize,
}

/// An open, greeted connection to a relay.
pub struct Connection {
    stream: Box<dyn Io>,
    buf: Vec<u8>,
    relay: RelayUrl,
    helo_name: String,
    timeouts: Timeouts,
    caps: Capabilities,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Greets the relay over `stream` (already TLS for `smtps`), says
    /// EHLO/LHLO, and upgrades with STARTTLS when the URL asks for it.
    pub(crate) async fn establish(
        stream: Box<dyn Io>,
        relay: RelayUrl,
        helo_name: String,
        timeouts: Timeouts,
        starttls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Connection, SubmitError> {
        let mut conn = Connection {
            stream,
            buf: Vec::new(),
            relay,
            helo_name,
            timeouts,
            caps: Capabilities::default(),
        };
        let greeting = conn.read_reply(Stage::Greeting).await?;
        if greeting.code != 220 {
            return Err(conn.rejected(Stage::Greeting, greeting));
        }
        conn.hello().await?;
        if let (Security::StartTls { .. }, Some(tls)) = (conn.relay.security, starttls) {
            if conn.caps.flags & EXT_START_TLS == 0 {
                let relay = conn.relay_name();
                conn.quit().await;
                return Err(SubmitError::StartTlsUnavailable { relay });
            }
            conn.write(b"STARTTLS\r\n", Stage::StartTls).await?;
            let r = conn.read_reply(Stage::StartTls).await?;
            if r.code != 220 {
                return Err(conn.rejected(Stage::StartTls, r));
            }
            // Anything the server sent before the handshake is not trusted.
            conn.buf.clear();
            let Connection {
                stream,
                relay,
                helo_name,
                timeouts,
                ..
            } = conn;
            let stream =
                crate::submitter::tls_handshake(stream, &relay, tls, timeouts.reply).await?;
            conn = Connection {
                stream,
                buf: Vec::new(),
                relay,
                helo_name,
                timeouts,
                caps: Capabilities::default(),
            };
            conn.hello().await?;
        }
        Ok(conn)
    }

    fn relay_name(&self) -> String {
        self.relay.to_string()
    }

    fn rejected(&self, stage: Stage, reply: Reply) -> SubmitError {
        SubmitError::Rejected {
            relay: self.relay_name(),
            stage,
            reply,
        }
    }

    async fn hello(&mut self) -> Result<(), SubmitError> {
        let verb = match self.relay.dialect {
            Dialect::Smtp => "EHLO",
            Dialect::Lmtp => "LHLO",
        };
        let line = format!("{verb} {}\r\n", self.helo_name);
        self.write(line.as_bytes(), Stage::Hello).await?;
        let (reply, raw) = self.read_reply_raw(Stage::Hello).await?;
        if reply.is_success() {
            if let Ok(ehlo) = smtp_proto::EhloResponse::parse(&mut raw.iter()) {
                self.caps = Capabilities {
                    flags: ehlo.capabilities,
                    size: ehlo.size,
                };
            }
            return Ok(());
        }
        if self.relay.dialect == Dialect::Smtp && reply.is_permanent() {
            // An old server without ESMTP: plain HELO, no extensions.
            let line = format!("HELO {}\r\n", self.helo_name);
            self.write(line.as_bytes(), Stage::Hello).await?;
            let r = self.read_reply(Stage::Hello).await?;
            if r.is_success() {
                self.caps = Capabilities::default();
                return Ok(());
            }
            return Err(self.rejected(Stage::Hello, r));
        }
        Err(self.rejected(Stage::Hello, reply))
    }

    /// Whether the relay offered PIPELINING.
    pub fn pipelining(&self) -> bool {
        self.caps.flags & EXT_PIPELINING != 0
    }

    async fn write(&mut self, bytes: &[u8], stage: Stage) -> Result<(), SubmitError> {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.timeouts.reply, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(SubmitError::Io {
                relay: self.relay.to_string(),
                stage,
                source,
            }),
            Err(_) => Err(SubmitError::Timeout {
                relay: self.relay.to_string(),
                stage,
            }),
        }
    }

    async fn read_reply(&mut self, stage: Stage) -> Result<Reply, SubmitError> {
        self.read_reply_raw(stage).await.map(|(r, _)| r)
    }

    async fn read_reply_with(
        &mut self,
        stage: Stage,
        timeout: Duration,
    ) -> Result<(Reply, Vec<u8>), SubmitError> {
        let mut scanned = 0;
        let mut line_start = 0;
        loop {
            while let Some(pos) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                let line_end = scanned + pos + 1;
                let line = &self.buf[line_start..line_end];
                let shaped = line.len() >= 4
                    && line[..3].iter().all(u8::is_ascii_digit)
                    && matches!(line[3], b' ' | b'-' | b'\r' | b'\n');
                if !shaped {
                    return Err(SubmitError::Protocol {
                        relay: self.relay_name(),
                        stage,
                    });
                }
                scanned = line_end;
                line_start = line_end;
                if line[3] != b'-' {
                    let raw: Vec<u8> = self.buf.drain(..line_end).collect();
                    return match Reply::parse(&raw) {
                        Some(r) => Ok((r, raw)),
                        None => Err(SubmitError::Protocol {
                            relay: self.relay_name(),
                            stage,
                        }),
                    };
                }
            }
            scanned = self.buf.len();
            if self.buf.len() > MAX_REPLY {
                return Err(SubmitError::Protocol {
                    relay: self.relay_name(),
                    stage,
                });
            }
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout(timeout, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) => {
                    return Err(SubmitError::Io {
                        relay: self.relay_name(),
                        stage,
                        source: std::io::ErrorKind::UnexpectedEof.into(),
                    });
                }
                Ok(Ok(n)) => n,
                Ok(Err(source)) => {
                    return Err(SubmitError::Io {
                        relay: self.relay_name(),
                        stage,
                        source,
                    });
                }
                Err(_) => {
                    return Err(SubmitError::Timeout {
                        relay: self.relay_name(),
                        stage,
                    });
                }
            };
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn read_reply_raw(&mut self, stage: Stage) -> Result<(Reply, Vec<u8>), SubmitError> {
        let t = self.timeouts.reply;
        self.read_reply_with(stage, t).await
    }

    fn mail_command(&self, envelope: &Envelope, size: Option<u64>) -> String {
        let mut line = format!("MAIL FROM:<{}>", envelope.from);
        if let Some(size) = size.filter(|_| self.caps.flags & EXT_SIZE != 0) {
            line.push_str(&format!(" SIZE={size}"));
        }
        if self.caps.flags & EXT_8BIT_MIME != 0 {
            line.push_str(" BODY=8BITMIME");
        }
        let utf8 = !envelope.from.is_ascii() || envelope.recipients.iter().any(|r| !r.is_ascii());
        if utf8 && self.caps.flags & EXT_SMTP_UTF8 != 0 {
            line.push_str(" SMTPUTF8");
        }
        line.push_str("\r\n");
        line
    }

    /// Sends one message: MAIL, RCPT for every recipient, DATA, the message
    /// (read from `message` in chunks, never whole), and collects the result
    /// of every recipient. `size` (if known) is announced with SIZE=.
    ///
    /// A refused MAIL or DATA is an error; refused recipients are results.
    /// After a refusal the connection is reset (RSET) and stays usable.
    pub async fn send<R>(
        &mut self,
        envelope: &Envelope,
        mut message: R,
        size: Option<u64>,
    ) -> Result<SubmitReport, SubmitError>
    where
        R: AsyncRead + Unpin,
    {
        if envelope.recipients.is_empty() {
            return Err(SubmitError::NoRecipients);
        }
        if let Some(size) = size
            && self.caps.size > 0
            && size > self.caps.size as u64
        {
            return Err(SubmitError::Rejected {
                relay: self.relay_name(),
                stage: Stage::Mail,
                reply: Reply {
                    code: 552,
                    status: Some([5, 3, 4]),
                    text: format!(
                        "message of {size} bytes exceeds the relay's SIZE {}",
                        self.caps.size
                    ),
                },
            });
        }
        let mail = self.mail_command(envelope, size);
        let rcpts: Vec<String> = envelope
            .recipients
            .iter()
            .map(|r| format!("RCPT TO:<{r}>\r\n"))
            .collect();

        let (mail_reply, rcpt_replies, data_reply) = if self.pipelining() {
            let mut batch = mail.into_bytes();
            for r in &rcpts {
                batch.extend_from_slice(r.as_bytes());
            }
            batch.extend_from_slice(b"DATA\r\n");
            self.write(&batch, Stage::Mail).await?;
            let m = self.read_reply(Stage::Mail).await?;
            let mut rs = Vec::with_capacity(rcpts.len());
            for _ in &rcpts {
                rs.push(self.read_reply(Stage::Rcpt).await?);
            }
            let d = self.read_reply(Stage::Data).await?;
            (m, rs, Some(d))
        } else {
            self.write(mail.as_bytes(), Stage::Mail).await?;
            let m = self.read_reply(Stage::Mail).await?;
            let mut rs = Vec::with_capacity(rcpts.len());
            if m.is_success() {
                for r in &rcpts {
                    self.write(r.as_bytes(), Stage::Rcpt).await?;
                    rs.push(self.read_reply(Stage::Rcpt).await?);
                }
            }
            (m, rs, None)
        };

        if !mail_reply.is_success() {
            // A pipelined DATA that was (wrongly) accepted gets an empty message.
            if data_reply.as_ref().is_some_and(|d| d.code == 354) {
                self.write(b".\r\n", Stage::Message).await?;
                let _ = self.read_reply(Stage::Message).await?;
            }
            self.reset().await?;
            return Err(self.rejected(Stage::Mail, mail_reply));
        }
        let mut results: Vec<RecipientResult> = envelope
            .recipients
            .iter()
            .zip(rcpt_replies)
            .map(|(a, r)| RecipientResult {
                address: a.clone(),
                status: RecipientStatus::from_reply(r),
            })
            .collect();
        let accepted: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.status, RecipientStatus::Accepted(_)))
            .map(|(i, _)| i)
            .collect();

        let data_reply = match data_reply {
            Some(d) => d,
            None if accepted.is_empty() => {
                self.reset().await?;
                return Ok(SubmitReport {
                    recipients: results,
                });
            }
            None => {
                self.write(b"DATA\r\n", Stage::Data).await?;
                self.read_reply(Stage::Data).await?
            }
        };
        if data_reply.code != 354 {
            if accepted.is_empty() {
                self.reset().await?;
                return Ok(SubmitReport {
                    recipients: results,
                });
            }
            self.reset().await?;
            return Err(self.rejected(Stage::Data, data_reply));
        }

        self.stream_message(&mut message).await?;
        let final_timeout = self.timeouts.final_reply;
        match self.relay.dialect {
            Dialect::Smtp => {
                let (r, _) = self.read_reply_with(Stage::Message, final_timeout).await?;
                if accepted.is_empty() {
                    return Ok(SubmitReport {
                        recipients: results,
                    });
                }
                for &i in &accepted {
                    results[i].status = RecipientStatus::from_reply(r.clone());
                }
            }
            Dialect::Lmtp => {
                // RFC 2033: one reply per accepted recipient, in RCPT order.
                for &i in &accepted {
                    let (r, _) = self.read_reply_with(Stage::Message, final_timeout).await?;
                    results[i].status = RecipientStatus::from_reply(r);
                }
            }
        }
        Ok(SubmitReport {
            recipients: results,
        })
    }

    async fn stream_message<R: AsyncRead + Unpin>(
        &mut self,
        message: &mut R,
    ) -> Result<(), SubmitError> {
        let mut encoder = DataEncoder::new();
        let mut chunk = vec![0u8; DATA_CHUNK];
        let mut out = Vec::with_capacity(DATA_CHUNK + DATA_CHUNK / 16);
        loop {
            let n = message
                .read(&mut chunk)
                .await
                .map_err(SubmitError::Message)?;
            if n == 0 {
                break;
            }
            encoder.encode(&chunk[..n], &mut out);
            self.write(&out, Stage::Message).await?;
            out.clear();
        }
        encoder.finish(&mut out);
        self.write(&out, Stage::Message).await
    }

    /// RSET: back to a clean state after a refused transaction.
    async fn reset(&mut self) -> Result<(), SubmitError> {
        self.write(b"RSET\r\n", Stage::Mail).await?;
        let r = self.read_reply(Stage::Mail).await?;
        if r.is_success() {
            Ok(())
        } else {
            Err(self.rejected(Stage::Mail, r))
        }
    }

    /// Says QUIT and closes (best effort: the message is already handed over).
    pub async fn quit(mut self) {
        if self.write(b"QUIT\r\n", Stage::Message).await.is_ok() {
            let _ = self.read_reply(Stage::Message).await;
        }
        let _ = self.stream.shutdown().await;
    }
}
