//! A whole IMAP session over the production mailbox view (groxide-imap's
//! `LocalBackend`: real stores in a temp dir on tmpfs, so writes are
//! cheap): after a LOGIN and a SELECT, the fuzzer's bytes are the client's;
//! the session must never panic and must end when the client closes its
//! side.
#![no_main]

use groxide_imap::backend::local::LocalBackend;
use groxide_imap::{ImapServer, Settings};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MESSAGE: &[u8] = b"From: a@b.test\r\nTo: c@d.test\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--x--\r\n";

fuzz_target!(|data: &[u8]| {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return;
    };
    rt.block_on(async {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            tempfile::tempdir_in("/dev/shm")
        } else {
            tempfile::tempdir()
        };
        let Ok(tmp) = base else {
            return;
        };
        let backend = LocalBackend::new(tmp.path());
        let dir = backend.add_user("u", "p");
        for _ in 0..3 {
            let _ = backend.deliver(&dir, "INBOX", MESSAGE, Default::default(), 1_700_000_000);
        }
        let settings = Settings {
            conn_timeout: Duration::from_secs(2),
            autologout: Duration::from_secs(2),
            idle_check_interval: Duration::from_millis(50),
            ..Settings::default()
        };
        let shutdown = tokio_util::sync::CancellationToken::new();
        let server = ImapServer::new(backend, settings, None, shutdown);
        let (client, server_side) = tokio::io::duplex(64 * 1024);
        let peer = "192.0.2.1:1".parse().expect("address");
        let session = tokio::spawn(async move {
            server.serve_connection(server_side, peer, false).await;
        });
        let (mut rd, mut wr) = tokio::io::split(client);
        let reader = tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = rd.read_to_end(&mut sink).await;
        });
        let _ = wr.write_all(b"a LOGIN u p\r\nb SELECT INBOX\r\n").await;
        let _ = wr.write_all(data).await;
        let _ = wr.shutdown().await;
        drop(wr);
        let _ = tokio::time::timeout(Duration::from_secs(10), reader).await;
        // A panic inside the session surfaces here.
        if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(10), session).await
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
    });
});
