//! A raw IMAP test client over an in-memory duplex stream to a session
//! backed by [`MemoryBackend`].
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use groxide_imap::backend::Flags;
use groxide_imap::backend::local::LocalBackend;
use groxide_imap::{ImapServer, Settings};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// How long a test waits for a response before it fails (a hang guard,
/// not a performance assertion).
pub const HANG_GUARD: Duration = Duration::from_secs(20);

pub const USER: &str = "alice@example.test";
pub const PASSWORD: &str = "secret";

/// A server with one user and a handful of messages.
pub struct World {
    pub backend: Arc<LocalBackend>,
    pub server: Arc<ImapServer<Arc<LocalBackend>>>,
    pub dir: String,
    pub shutdown: CancellationToken,
    _root: tempfile::TempDir,
}

pub fn message(n: u32) -> String {
    format!(
        "From: Sender {n} <sender{n}@example.test>\r\n\
         To: Alice <alice@example.test>\r\n\
         Subject: Message {n}\r\n\
         Date: Mon, {d:02} Jan 2024 10:00:00 +0000\r\n\
         Message-ID: <m{n}@example.test>\r\n\
         \r\n\
         Body of message {n}.\r\n",
        d = n.min(28)
    )
}

impl World {
    /// A world with default settings and no messages.
    pub fn new() -> World {
        World::with_settings(Settings::default())
    }

    pub fn with_settings(settings: Settings) -> World {
        World::build(settings, None)
    }

    /// A world whose server has a self-signed certificate for `localhost`;
    /// also returns a client config that trusts it.
    pub fn with_tls(settings: Settings) -> (World, Arc<rustls::ClientConfig>) {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = ck.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server_cfg = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client_cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (
            World::build(settings, Some(Arc::new(server_cfg))),
            Arc::new(client_cfg),
        )
    }

    fn build(settings: Settings, tls: Option<Arc<rustls::ServerConfig>>) -> World {
        let root = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(root.path());
        let dir = backend.add_user(USER, PASSWORD);
        let shutdown = CancellationToken::new();
        let server = ImapServer::new(backend.clone(), settings, tls, shutdown.clone());
        World {
            backend,
            server,
            dir,
            shutdown,
            _root: root,
        }
    }

    /// Delivers `count` numbered messages to `mailbox`.
    pub fn deliver(&self, mailbox: &str, count: u32) {
        for n in 1..=count {
            self.backend
                .deliver(
                    &self.dir,
                    mailbox,
                    message(n).as_bytes(),
                    Flags::default(),
                    1_704_103_200 + i64::from(n) * 60,
                )
                .unwrap();
        }
    }

    /// UIDVALIDITY of a mailbox (the store chooses it).
    pub fn uidvalidity(&self, mailbox: &str) -> u32 {
        self.backend.state_of(&self.dir, mailbox).unwrap().0
    }

    /// HIGHESTMODSEQ of a mailbox now (the store's change number).
    pub fn modseq(&self, mailbox: &str) -> u64 {
        self.backend.state_of(&self.dir, mailbox).unwrap().1
    }

    /// Opens a session; the greeting is read and returned.
    pub async fn connect(&self) -> Client {
        let mut c = Client::over(self.open(false));
        let greeting = c.line().await;
        assert!(greeting.starts_with("* OK "), "{greeting}");
        c
    }

    /// Opens a raw duplex connection to a session (implicit TLS or not).
    pub fn open(&self, implicit_tls: bool) -> tokio::io::DuplexStream {
        let (client, server_side) = tokio::io::duplex(256 * 1024);
        let server = self.server.clone();
        let peer: SocketAddr = "192.0.2.7:50000".parse().unwrap();
        tokio::spawn(async move {
            server
                .serve_connection(server_side, peer, implicit_tls)
                .await;
        });
        client
    }

    /// A logged-in session.
    pub async fn login(&self) -> Client {
        let mut c = self.connect().await;
        let r = c.cmd(&format!("l1 LOGIN {USER} {PASSWORD}")).await;
        assert!(r.contains("l1 OK"), "{r}");
        c
    }

    /// A logged-in session with INBOX selected.
    pub async fn select(&self) -> Client {
        let mut c = self.login().await;
        let r = c.cmd("s1 SELECT INBOX").await;
        assert!(r.contains("s1 OK"), "{r}");
        c
    }
}

/// A stream a test client can use.
pub trait ClientIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ClientIo for T {}

pub struct Client {
    stream: Box<dyn ClientIo>,
    buf: Vec<u8>,
}

impl Client {
    /// A client over `stream` (greeting not read).
    pub fn over(stream: impl ClientIo + 'static) -> Client {
        Client {
            stream: Box::new(stream),
            buf: Vec::new(),
        }
    }

    /// Takes the raw stream and any bytes read but not consumed.
    pub fn into_parts(self) -> (Box<dyn ClientIo>, Vec<u8>) {
        (self.stream, self.buf)
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16384];
        let n = tokio::time::timeout(HANG_GUARD, self.stream.read(&mut chunk))
            .await
            .expect("server did not answer in time")
            .expect("read");
        if n == 0 {
            return false;
        }
        self.buf.extend_from_slice(&chunk[..n]);
        true
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads one line (without CRLF); a literal announced at its end is
    /// read too and included, followed by the rest of the line.
    pub async fn line(&mut self) -> String {
        let mut out = Vec::new();
        loop {
            let pos = loop {
                if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                    break p;
                }
                if !self.fill().await {
                    return format!("<EOF>{}", String::from_utf8_lossy(&out));
                }
            };
            let line: Vec<u8> = self.buf.drain(..pos + 2).take(pos).collect();
            out.extend_from_slice(&line);
            let Some(size) = literal_size(&line) else {
                return String::from_utf8_lossy(&out).into_owned();
            };
            out.extend_from_slice(b"\r\n");
            while self.buf.len() < size {
                assert!(self.fill().await, "EOF inside a literal");
            }
            out.extend(self.buf.drain(..size));
        }
    }

    /// Sends `command` + CRLF and returns every line up to and including
    /// the tagged response, joined with `\n`.
    pub async fn cmd(&mut self, command: &str) -> String {
        let tag = command.split(' ').next().unwrap().to_owned();
        self.send(format!("{command}\r\n").as_bytes()).await;
        self.until_tagged(&tag).await
    }

    /// Reads lines until the one tagged `tag`.
    pub async fn until_tagged(&mut self, tag: &str) -> String {
        let mut lines = Vec::new();
        loop {
            let l = self.line().await;
            let done = l.starts_with(&format!("{tag} ")) || l.starts_with("<EOF>");
            lines.push(l);
            if done {
                return lines.join("\n");
            }
        }
    }

    /// True when the server closed the connection.
    pub async fn closed(&mut self) -> bool {
        self.buf.is_empty() && !self.fill().await
    }
}

fn literal_size(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&line[open + 1..]).ok()?.parse().ok()
}

/// Asserts that `actual` (lines joined by `\n`) equals `expected` lines.
pub fn check(actual: &str, expected: &[&str]) {
    let expected = expected.join("\n");
    assert_eq!(
        actual, expected,
        "\nactual:\n{actual}\nexpected:\n{expected}\n"
    );
}
