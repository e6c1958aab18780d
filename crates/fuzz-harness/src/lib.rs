//! groxide-fuzz-harness: one function per fuzz target, taking the fuzzer's
//! bytes and asserting what must hold for any input (no panic, and the
//! invariants named in each function). The cargo-fuzz crate in tests/fuzz
//! (nightly, libFuzzer) calls these; `tests/replay.rs` runs every corpus
//! file and crash reproducer under tests/fuzz through them on stable, so a
//! crash once found stays fixed.
//!
//! Dev-only: nothing in a daemon depends on this crate. It enables
//! groxide-delivery's `testing` feature (the in-memory directory and store)
//! for the LMTP target, so it must stay out of every binary's dependencies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

/// What a target does with one input; it panics when an invariant breaks.
pub type Harness = fn(&[u8]);

/// Every target, by the name `cargo xtask fuzz` takes.
pub const TARGETS: &[(&str, Harness)] = &[
    ("pop3_command", pop3_command),
    ("lmtp", lmtp),
    ("mime", mime),
    ("config", config),
    ("routing_list", routing_list),
    ("wbxml", wbxml),
    ("ical", ical),
    ("vcard", vcard),
    ("xml", xml),
];

/// A POP3 command line and a message on the wire: the parser never
/// panics; the dot-stuffer's output never holds NUL and always ends the
/// message with CRLF.CRLF whatever the chunking.
pub fn pop3_command(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    let _ = groxide_pop3::command::parse(&line);
    let split = data.first().map_or(1, |&b| usize::from(b) + 1);
    let mut stuffer = groxide_pop3::dot::DotStuffer::whole();
    let mut out = Vec::new();
    for chunk in data.chunks(split) {
        stuffer.push(chunk, &mut out);
    }
    stuffer.finish(&mut out);
    assert!(!out.contains(&0), "NUL on the POP3 wire");
    assert!(out.ends_with(b"\r\n.\r\n") || out == b".\r\n");
    // No line of the wire form is a lone "." before the end.
    let body = &out[..out.len() - 3];
    assert!(
        !body.windows(5).any(|w| w == b"\r\n.\r\n") && !body.starts_with(b".\r\n"),
        "a stored line ended the message early"
    );
}

/// A whole LMTP session (the client's bytes) against the real session
/// code over the in-memory directory and store: it ends, never panics, and
/// leaves no spool file behind. The first byte `S` selects SMTP mode.
pub fn lmtp(data: &[u8]) {
    use std::cell::RefCell;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    thread_local! {
        static LMTP: RefCell<Option<(tokio::runtime::Runtime, [LmtpServer; 2], usize)>> =
            const { RefCell::new(None) };
    }
    LMTP.with(|cell| {
        let mut state = cell.borrow_mut();
        // A fresh server now and then: the in-memory store only grows.
        if state.as_ref().is_none_or(|s| s.2 >= 512) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            *state = Some((rt, [LmtpServer::new(false), LmtpServer::new(true)], 0));
        }
        let Some((rt, servers, uses)) = state.as_mut() else {
            return;
        };
        *uses += 1;
        let server = servers[usize::from(data.first() == Some(&b'S'))]
            .server
            .clone();
        rt.block_on(async {
            let (client, server_side) = tokio::io::duplex(1 << 16);
            let s = server.clone();
            let peer = "192.0.2.1:4000".parse().unwrap();
            let task = tokio::spawn(async move { s.serve_connection(server_side, peer).await });
            let (mut rd, mut wr) = tokio::io::split(client);
            let input = data.to_vec();
            let writer = tokio::spawn(async move {
                let _ = wr.write_all(&input).await;
                let _ = wr.shutdown().await;
            });
            let mut out = Vec::new();
            let _ = rd.read_to_end(&mut out).await;
            task.await.unwrap();
            let _ = writer.await;
        });
        assert_eq!(server.spool().file_count(), 0, "spool file left behind");
    });
}

type MemoryServer = groxide_delivery::DeliveryServer<
    std::sync::Arc<groxide_delivery::testing::MemoryDirectory>,
    std::sync::Arc<groxide_delivery::testing::MemoryStore>,
>;

/// One delivery server over the in-memory directory and store.
struct LmtpServer {
    server: std::sync::Arc<MemoryServer>,
    _dir: tempfile::TempDir,
}

impl LmtpServer {
    fn new(smtp: bool) -> LmtpServer {
        use groxide_delivery::testing::{MemoryDirectory, MemoryStore};
        use groxide_delivery::{
            DeliveryServer, JunkRules, Protocol, SessionLimits, Settings, Spool,
        };
        use std::sync::Arc;
        use std::time::Duration;
        let tmp = tempfile::tempdir().unwrap();
        let directory = Arc::new(MemoryDirectory::new());
        directory.add_user("a@x.test", "/stores/a");
        directory.add_user("b@x.test", "/stores/b");
        let settings = Settings {
            hostname: "mx.x.test".into(),
            protocol: if smtp { Protocol::Smtp } else { Protocol::Lmtp },
            limits: SessionLimits {
                max_message_size: 64 * 1024,
                max_recipients: 8,
                max_command_line: 512,
                idle_timeout: Duration::from_secs(5),
                max_errors: 20,
            },
            junk_rules: JunkRules::parse("X-Spam-Flag=YES"),
            dedup_window: Duration::from_secs(3600),
        };
        let server = DeliveryServer::new(
            settings,
            directory,
            Arc::new(MemoryStore::new()),
            Spool::open(&tmp.path().join("spool")).unwrap(),
            None,
            tokio_util::sync::CancellationToken::new(),
        )
        .with_dedup(
            groxide_delivery::dedup::DedupDb::open(&tmp.path().join("dedup.sqlite3")).unwrap(),
        );
        LmtpServer {
            server: Arc::new(server),
            _dir: tmp,
        }
    }
}

/// A message: parsing and every derived value never panic; every section
/// range lies within the message; BODYSTRUCTURE's parentheses balance.
pub fn mime(data: &[u8]) {
    use groxide_mime::{ParsedMessage, SectionKind, SectionSpec};
    let m = ParsedMessage::parse(data);
    let _ = m.summary();
    let _ = m.envelope();
    let _ = m.searchable_text();
    let _ = m.header_values("subject");
    let _ = m.address_groups("from");
    for extensible in [false, true] {
        let b = m.bodystructure(extensible);
        let depth = b.iter().try_fold(0i64, |d, &c| match c {
            b'(' => Some(d + 1),
            b')' if d > 0 => Some(d - 1),
            b')' => None,
            _ => Some(d),
        });
        // Literals may hold parentheses; only check literal-free output.
        if !b.contains(&b'{') && !b.contains(&b'"') {
            assert_eq!(depth, Some(0), "{}", String::from_utf8_lossy(&b));
        }
    }
    for path in [vec![], vec![1], vec![2], vec![1, 1], vec![1, 2, 1]] {
        for kind in [
            SectionKind::Full,
            SectionKind::Header,
            SectionKind::Text,
            SectionKind::Mime,
            SectionKind::HeaderFields(vec!["subject".into()]),
        ] {
            let spec = SectionSpec {
                part: path.clone(),
                kind,
            };
            let _ = m.locate_section(&spec).bytes(data);
        }
        let _ = m.decode_section(&path);
        let _ = m.binary_size(&path);
    }
    for a in &m.summary().attachments {
        let _ = m.attachment_content(a);
    }
}

/// A config file: the text as groxide.cfg and as every daemon's file;
/// loading answers a config or errors, never panics.
pub fn config(data: &[u8]) {
    use groxide_config::{Config, Delivery, Event, Exmdb, Http, Imap, Midb, Pop3, Timer};
    let text = String::from_utf8_lossy(data);
    let dir = Path::new("/nonexistent/groxide");
    let _ = Config::<Imap>::from_str_for_tests(dir, &text, "");
    let _ = Config::<Imap>::from_str_for_tests(dir, "", &text);
    let _ = Config::<Pop3>::from_str_for_tests(dir, "", &text);
    let _ = Config::<Delivery>::from_str_for_tests(dir, "", &text);
    let _ = Config::<Exmdb>::from_str_for_tests(dir, "", &text);
    let _ = Config::<Midb>::from_str_for_tests(dir, "", &text);
    let _ = Config::<Event>::from_str_for_tests(dir, "", &text);
    let _ = Config::<Timer>::from_str_for_tests(dir, "", &text);
    let _ = Config::<Http>::from_str_for_tests(dir, "", &text);
}

/// exmdb_list.txt and midb_list.txt: parsing never panics, and a parsed
/// table answers look-ups for any dir.
pub fn routing_list(data: &[u8]) {
    use groxide_routing::{ListKind, RouteTable};
    let text = String::from_utf8_lossy(data);
    for kind in [ListKind::Exmdb, ListKind::Midb] {
        if let Ok(table) = RouteTable::parse(&text, kind, Path::new("/etc/groxide/list.txt")) {
            for dir in ["/var/lib/groxide/user/a", "", "/", text.as_ref()] {
                let _ = table.first_match(dir);
            }
        }
    }
}

/// WBXML: decoding under tight limits never panics, and what decodes
/// survives encode → decode unchanged.
pub fn wbxml(data: &[u8]) {
    use groxide_wbxml::{Limits, decode, encode};
    let limits = Limits {
        max_input_bytes: 64 * 1024,
        max_depth: 16,
        max_elements: 2_000,
        max_string_bytes: 4 * 1024,
        max_opaque_bytes: 8 * 1024,
    };
    let Ok(tree) = decode(data, &limits) else {
        return;
    };
    assert!(tree.element_count() <= limits.max_elements);
    assert_eq!(decode(&encode(&tree), &limits).as_ref(), Ok(&tree));
}

/// iCalendar import, and export of every imported item: never panics.
pub fn ical(data: &[u8]) {
    use groxide_pim::ical::{ExportOptions, ImportOptions, item_to_ical, parse_calendar};
    let opts = ImportOptions {
        max_components: 200,
        ..ImportOptions::default()
    };
    for item in parse_calendar(data, &opts).items.into_iter().flatten() {
        let _ = item_to_ical(&item, &ExportOptions::default());
    }
}

/// vCard import, and export of every imported card as 3.0 and 4.0: never
/// panics.
pub fn vcard(data: &[u8]) {
    use groxide_pim::vcard::{VcardVersion, item_to_vcard, parse_vcards};
    for item in parse_vcards(data).items.into_iter().flatten() {
        let _ = item_to_vcard(&item, VcardVersion::V3);
        let _ = item_to_vcard(&item, VcardVersion::V4);
    }
}

/// An HTTP request body (EWS SOAP, Autodiscover POX and SOAP, DAV): the
/// shared namespace-resolving reader never panics and keeps its bounds,
/// every protocol's request parser answers or refuses, and text the reader
/// returns survives the writer's escaping and a second read unchanged.
pub fn xml(data: &[u8]) {
    use groxide_http_core::xml::{Element, MAX_DEPTH, MAX_ELEMENTS, XmlWriter, parse};
    let _ = groxide_discovery::pox::parse_request(data);
    let _ = groxide_discovery::soap::parse_request(data);
    let _ = groxide_ews::soap::parse_request(data);
    let Ok(root) = parse(data) else {
        return;
    };
    fn walk(e: &Element, depth: usize, count: &mut usize) {
        *count += 1;
        assert!(depth <= MAX_DEPTH, "depth {depth} over the bound");
        for c in &e.children {
            walk(c, depth + 1, count);
        }
    }
    let mut count = 0;
    walk(&root, 1, &mut count);
    assert!(count <= MAX_ELEMENTS);
    let mut w = XmlWriter::new();
    w.leaf("t", &root.text);
    let again = parse(w.finish().as_bytes()).expect("the writer's own output reads back");
    assert_eq!(again.text, root.text);
}
