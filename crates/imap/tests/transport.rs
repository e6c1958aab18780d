//! Transcripts over the transport layers: STARTTLS, implicit TLS and
//! COMPRESS=DEFLATE.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, PASSWORD, USER, World, check};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use groxide_imap::Settings;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;

async fn tls_client(
    stream: impl common::ClientIo + 'static,
    cfg: Arc<rustls::ClientConfig>,
) -> Client {
    let name = ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(cfg).connect(name, stream).await.unwrap();
    Client::over(tls)
}

#[tokio::test]
async fn starttls_upgrades_and_hides_itself_afterwards() {
    let (w, client_cfg) = World::with_tls(Settings {
        force_tls: true,
        ..Settings::default()
    });
    let mut c = w.connect().await;
    let caps = c.cmd("a1 CAPABILITY").await;
    assert!(
        caps.contains(" STARTTLS") && caps.contains("LOGINDISABLED"),
        "{caps}"
    );
    check(
        &c.cmd("a2 STARTTLS").await,
        &["a2 OK Begin TLS negotiation now"],
    );
    let (stream, rest) = c.into_parts();
    assert!(rest.is_empty());
    let mut c = tls_client(stream, client_cfg).await;
    let caps = c.cmd("a3 CAPABILITY").await;
    assert!(
        !caps.contains("STARTTLS") && !caps.contains("LOGINDISABLED"),
        "{caps}"
    );
    assert!(caps.contains("AUTH=PLAIN"), "{caps}");
    let r = c.cmd(&format!("a4 LOGIN {USER} {PASSWORD}")).await;
    assert!(r.starts_with("a4 OK"), "{r}");
    check(
        &c.cmd("a5 STARTTLS").await,
        &["a5 BAD TLS is already active"],
    );
}

#[tokio::test]
async fn commands_injected_before_the_tls_handshake_are_dropped() {
    let (w, client_cfg) = World::with_tls(Settings::default());
    let mut c = w.connect().await;
    // The NOOP rides in the same packet as STARTTLS: it must not run.
    c.send(b"a1 STARTTLS\r\na2 NOOP\r\n").await;
    check(
        &c.until_tagged("a1").await,
        &["a1 OK Begin TLS negotiation now"],
    );
    let (stream, _) = c.into_parts();
    let mut c = tls_client(stream, client_cfg).await;
    check(&c.cmd("a3 NOOP").await, &["a3 OK NOOP completed"]);
}

#[tokio::test]
async fn starttls_without_a_certificate_is_refused() {
    let w = World::new();
    let mut c = w.connect().await;
    assert!(!c.cmd("a1 CAPABILITY").await.contains("STARTTLS"));
    check(&c.cmd("a2 STARTTLS").await, &["a2 NO TLS is not available"]);
}

#[tokio::test]
async fn implicit_tls_greets_after_the_handshake() {
    let (w, client_cfg) = World::with_tls(Settings::default());
    let mut c = tls_client(w.open(true), client_cfg).await;
    let greeting = c.line().await;
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1"),
        "{greeting}"
    );
    assert!(!greeting.contains("STARTTLS"), "{greeting}");
    let r = c.cmd(&format!("a1 LOGIN {USER} {PASSWORD}")).await;
    assert!(r.starts_with("a1 OK"), "{r}");
}

/// A client side of COMPRESS=DEFLATE.
struct Deflated {
    stream: Box<dyn common::ClientIo>,
    compress: Compress,
    decompress: Decompress,
    text: Vec<u8>,
}

impl Deflated {
    async fn send(&mut self, text: &str) {
        let mut out = Vec::with_capacity(text.len() + 64);
        self.compress
            .compress_vec(text.as_bytes(), &mut out, FlushCompress::Sync)
            .unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    async fn until_tagged(&mut self, tag: &str) -> String {
        loop {
            let s = String::from_utf8_lossy(&self.text).into_owned();
            if let Some(pos) = s.find(&format!("{tag} "))
                && let Some(end) = s[pos..].find("\r\n")
            {
                let answer = s[..pos + end].replace("\r\n", "\n");
                self.text.drain(..pos + end + 2);
                return answer;
            }
            let mut raw = [0u8; 4096];
            let n = tokio::time::timeout(common::HANG_GUARD, self.stream.read(&mut raw))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "EOF");
            let mut out = Vec::with_capacity(64 * 1024);
            self.decompress
                .decompress_vec(&raw[..n], &mut out, FlushDecompress::Sync)
                .unwrap();
            self.text.extend_from_slice(&out);
        }
    }
}

#[tokio::test]
async fn compress_deflate_compresses_both_directions() {
    let w = World::new();
    w.deliver("INBOX", 30);
    let mut c = w.login().await;
    let caps = c.cmd("a1 CAPABILITY").await;
    assert!(caps.contains("COMPRESS=DEFLATE"), "{caps}");
    // The command after COMPRESS arrives in the same packet, compressed.
    let mut compress = Compress::new(Compression::default(), false);
    let mut first = Vec::with_capacity(256);
    compress
        .compress_vec(b"a3 SELECT INBOX\r\n", &mut first, FlushCompress::Sync)
        .unwrap();
    let mut packet = b"a2 COMPRESS DEFLATE\r\n".to_vec();
    packet.extend_from_slice(&first);
    c.send(&packet).await;
    check(&c.until_tagged("a2").await, &["a2 OK DEFLATE active"]);
    let (stream, rest) = c.into_parts();
    let mut d = Deflated {
        stream,
        compress,
        decompress: Decompress::new(false),
        text: Vec::new(),
    };
    // Compressed bytes that arrived with the OK belong to the new layer.
    let mut out = Vec::with_capacity(64 * 1024);
    d.decompress
        .decompress_vec(&rest, &mut out, FlushDecompress::Sync)
        .unwrap();
    d.text.extend_from_slice(&out);
    let select = d.until_tagged("a3").await;
    assert!(select.contains("* 30 EXISTS"), "{select}");
    d.send("a4 FETCH 1:* (UID FLAGS)\r\n").await;
    let fetch = d.until_tagged("a4").await;
    assert!(
        fetch.contains("* 30 FETCH (UID 30 FLAGS ())\na4 OK FETCH completed"),
        "{fetch}"
    );
    d.send("a5 CAPABILITY\r\n").await;
    let caps = d.until_tagged("a5").await;
    assert!(!caps.contains("COMPRESS=DEFLATE"), "{caps}");
    d.send("a6 COMPRESS DEFLATE\r\n").await;
    let again = d.until_tagged("a6").await;
    assert_eq!(
        again,
        "a6 NO [COMPRESSIONACTIVE] Compression is already active"
    );
}

#[tokio::test]
async fn compress_needs_login_and_deflate() {
    let w = World::new();
    let mut c = w.connect().await;
    check(
        &c.cmd("a1 COMPRESS DEFLATE").await,
        &["a1 BAD Log in first"],
    );
    c.cmd(&format!("a2 LOGIN {USER} {PASSWORD}")).await;
    check(
        &c.cmd("a3 COMPRESS LZW").await,
        &["a3 NO Unknown compression algorithm"],
    );
}
