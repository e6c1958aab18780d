//! EWS and IMAP load generator for `cargo xtask bench ews`: one program,
//! CLIENTS threads with blocking sockets, each with one request buffer and
//! one response buffer reused for every request, so the generator costs
//! little next to the server; it reports its own CPU seconds.
//!
//! `ews_load PHASE HOST:PORT USER PASSWORD CLIENTS SECONDS ARG`
//!
//! EWS phases (exchangelib's request shapes, HTTP/1.1 keep-alive, Basic auth):
//! - `fill`: CreateItem (SaveOnly, MimeContent) of ARG messages of about
//!   3 KB into the inbox, CLIENTS at once; not timed;
//! - `sync`: SyncFolderItems of the inbox from scratch (IdOnly + subject,
//!   from, received, read state, size, attachments; MaxChangesReturned 100,
//!   as exchangelib's `sync_items`), following the states to the end, again
//!   and again;
//! - `find`: FindItem of the inbox paged by IndexedPageItemView (100 per
//!   page, exchangelib's page size; the same properties), pages in turn;
//! - `getmime`: GetItem of 100 items with `item:MimeContent` (ids listed by
//!   one FindItem before the window);
//! - `create`: CreateItem (SaveOnly into drafts) of a 30 KB message.
//!
//! IMAP phases (the same mailbox, one SELECTed session per client):
//! - `imap-sync`: `UID FETCH a:b (UID FLAGS ENVELOPE RFC822.SIZE
//!   INTERNALDATE)` of 100 messages, ranges in turn;
//! - `imap-body`: `UID FETCH` of 100 messages' `BODY.PEEK[]` — the same
//!   positions as `getmime`;
//! - `imap-append`: APPEND of the same 30 KB message to Drafts.
//!
//! ARG is the number of messages in the inbox (fill: how many to make).
//! The timed part is between `WINDOW OPEN` and `WINDOW CLOSED` (the
//! benchmark samples the servers' CPU there); then one JSON line: requests,
//! items, seconds, rate, items_rate, p50/p99 in ms, errors, generator CPU
//! seconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

const PAGE: usize = 100;

const ENVELOPE_HEAD: &str = "<?xml version='1.0' encoding='utf-8'?>\n<s:Envelope xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><s:Header><t:RequestServerVersion Version=\"Exchange2016\"/></s:Header><s:Body>";
const ENVELOPE_TAIL: &str = "</s:Body></s:Envelope>";

/// The properties exchangelib asks for when a program lists messages
/// (`only('subject', 'sender', 'datetime_received', 'is_read', 'size',
/// 'has_attachments')`).
const LIST_SHAPE: &str = "<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/><t:FieldURI FieldURI=\"message:From\"/><t:FieldURI FieldURI=\"item:DateTimeReceived\"/><t:FieldURI FieldURI=\"message:IsRead\"/><t:FieldURI FieldURI=\"item:Size\"/><t:FieldURI FieldURI=\"item:HasAttachments\"/></t:AdditionalProperties></m:ItemShape>";

fn b64(b: &[u8], out: &mut String) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

/// Where `needle` starts in `h` at or after `from`.
fn find_from(h: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= h.len() {
        let off = h[i..].iter().position(|b| *b == first)?;
        i += off;
        if h[i..].starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn count(h: &[u8], needle: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(p) = find_from(h, needle, i) {
        n += 1;
        i = p + needle.len();
    }
    n
}

/// The text between `open` and the next `<` after it.
fn text_after<'a>(h: &'a [u8], open: &[u8]) -> Option<&'a [u8]> {
    let s = find_from(h, open, 0)? + open.len();
    let e = s + h[s..].iter().position(|b| *b == b'<')?;
    Some(&h[s..e])
}

fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = s
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// A message of about `size` bytes, number `i`.
fn message(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender {k} <sender{k}@example.org>\r\nTo: Bench <bench@bench.test>\r\n\
         Subject: Quarterly figures, part {i}\r\nDate: Mon, 7 Dec 2026 {h:02}:{mi:02}:00 +0000\r\n\
         Message-ID: <{i}.{size}@load.example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
        k = i % 97,
        h = (i / 60) % 24,
        mi = i % 60,
    )
    .into_bytes();
    let line = b"The figures for this quarter are in; the numbers below are what we measured.\r\n";
    while m.len() + line.len() < size {
        m.extend_from_slice(line);
    }
    m
}

/// One keep-alive HTTP/1.1 client with reused buffers.
struct Http {
    addr: String,
    auth: String,
    conn: Option<TcpStream>,
    req: Vec<u8>,
    buf: Vec<u8>,
    chunk: Box<[u8]>,
}

impl Http {
    fn new(addr: &str, user: &str, pass: &str) -> Http {
        let mut auth = String::new();
        b64(format!("{user}:{pass}").as_bytes(), &mut auth);
        Http {
            addr: addr.to_string(),
            auth,
            conn: None,
            req: Vec::with_capacity(1 << 16),
            buf: Vec::with_capacity(1 << 20),
            chunk: vec![0u8; 1 << 16].into_boxed_slice(),
        }
    }

    /// Posts `body` to the EWS endpoint; the status, the body in `self.buf[start..]`.
    fn post(&mut self, body: &str) -> (u16, usize) {
        for _ in 0..2 {
            match self.try_post(body) {
                Ok(r) => return r,
                Err(e) => {
                    self.conn = None;
                    eprintln!("POST: {e}");
                }
            }
        }
        (0, 0)
    }

    fn try_post(&mut self, body: &str) -> std::io::Result<(u16, usize)> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr)?;
            s.set_nodelay(true)?;
            self.conn = Some(s);
        }
        let conn = self.conn.as_mut().expect("connected");
        self.req.clear();
        write!(
            self.req,
            "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {}\r\n\
             Content-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            self.auth,
            body.len()
        )?;
        self.req.extend_from_slice(body.as_bytes());
        conn.write_all(&self.req)?;
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = find_from(&self.buf, b"\r\n\r\n", 0) {
                break i + 4;
            }
            let n = conn.read(&mut self.chunk)?;
            if n == 0 {
                return Err(std::io::Error::other("closed before the response"));
            }
            self.buf.extend_from_slice(&self.chunk[..n]);
        };
        let head = &self.buf[..head_end];
        let status = head
            .get(9..12)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
        let length = lower
            .split("\r\ncontent-length:")
            .nth(1)
            .and_then(|r| r.split("\r\n").next())
            .and_then(|v| v.trim().parse::<usize>().ok());
        let close = lower.contains("\r\nconnection: close");
        if let Some(len) = length {
            while self.buf.len() < head_end + len {
                let n = conn.read(&mut self.chunk)?;
                if n == 0 {
                    return Err(std::io::Error::other("closed in the body"));
                }
                self.buf.extend_from_slice(&self.chunk[..n]);
            }
        } else if lower.contains("transfer-encoding: chunked") {
            // Chunk sizes stay in the buffer; the scans below do not mind.
            while !self.buf.ends_with(b"\r\n0\r\n\r\n") {
                let n = conn.read(&mut self.chunk)?;
                if n == 0 {
                    break;
                }
                self.buf.extend_from_slice(&self.chunk[..n]);
            }
        } else {
            return Err(std::io::Error::other("a response without length"));
        }
        if close {
            self.conn = None;
        }
        Ok((status, head_end))
    }

    fn body(&self, start: usize) -> &[u8] {
        &self.buf[start..]
    }
}

/// One IMAP session with reused buffers.
struct Imap {
    conn: TcpStream,
    req: Vec<u8>,
    buf: Vec<u8>,
    chunk: Box<[u8]>,
    tag: u64,
}

impl Imap {
    fn login(addr: &str, user: &str, pass: &str) -> Imap {
        let conn = TcpStream::connect(addr).expect("IMAP connect");
        conn.set_nodelay(true).unwrap();
        let mut s = Imap {
            conn,
            req: Vec::with_capacity(1 << 16),
            buf: Vec::with_capacity(1 << 20),
            chunk: vec![0u8; 1 << 16].into_boxed_slice(),
            tag: 0,
        };
        s.read_until(b"\r\n").unwrap();
        assert!(s.command(&format!("LOGIN \"{user}\" \"{pass}\"")).unwrap());
        assert!(s.command("SELECT INBOX").unwrap());
        s
    }

    fn read_until(&mut self, end: &[u8]) -> std::io::Result<()> {
        self.buf.clear();
        loop {
            // Only the tail can hold the end (literals may contain anything,
            // but the tagged line is what ends an answer).
            let from = self.buf.len().saturating_sub(self.chunk.len() + end.len());
            if find_from(&self.buf, end, from).is_some() && self.buf.ends_with(b"\r\n") {
                return Ok(());
            }
            let n = self.conn.read(&mut self.chunk)?;
            if n == 0 {
                return Err(std::io::Error::other("IMAP connection closed"));
            }
            self.buf.extend_from_slice(&self.chunk[..n]);
        }
    }

    /// Runs a command; whether it ended OK. The answer is in `self.buf`.
    fn command(&mut self, cmd: &str) -> std::io::Result<bool> {
        self.tag += 1;
        self.req.clear();
        write!(self.req, "a{} {cmd}\r\n", self.tag)?;
        self.conn.write_all(&self.req)?;
        self.finish()
    }

    fn finish(&mut self) -> std::io::Result<bool> {
        // The tagged line ends the answer: after untagged lines, or first
        // in the buffer when there are none (LOGIN, SELECT of nothing).
        let tag = format!("\r\na{} ", self.tag);
        let first = format!("a{} ", self.tag);
        self.buf.clear();
        loop {
            let from = self.buf.len().saturating_sub(self.chunk.len() + tag.len());
            let tagged = self.buf.starts_with(first.as_bytes())
                || find_from(&self.buf, tag.as_bytes(), from).is_some();
            if tagged && self.buf.ends_with(b"\r\n") {
                break;
            }
            let n = self.conn.read(&mut self.chunk)?;
            if n == 0 {
                return Err(std::io::Error::other("IMAP connection closed"));
            }
            self.buf.extend_from_slice(&self.chunk[..n]);
        }
        let ok = format!("\r\na{} OK", self.tag);
        let at_start = format!("a{} OK", self.tag);
        Ok(find_from(&self.buf, ok.as_bytes(), 0).is_some()
            || self.buf.starts_with(at_start.as_bytes()))
    }

    fn append(&mut self, mailbox: &str, msg: &[u8]) -> std::io::Result<bool> {
        self.tag += 1;
        self.req.clear();
        write!(
            self.req,
            "a{} APPEND {mailbox} (\\Seen) {{{}+}}\r\n",
            self.tag,
            msg.len()
        )?;
        self.req.extend_from_slice(msg);
        self.req.extend_from_slice(b"\r\n");
        self.conn.write_all(&self.req)?;
        self.finish()
    }
}

fn envelope(body: &mut String, inner: impl FnOnce(&mut String)) {
    body.clear();
    body.push_str(ENVELOPE_HEAD);
    inner(body);
    body.push_str(ENVELOPE_TAIL);
}

fn find_body(body: &mut String, offset: usize, max: usize) {
    use std::fmt::Write as _;
    envelope(body, |b| {
        let _ = write!(
            b,
            "<m:FindItem Traversal=\"Shallow\">{LIST_SHAPE}<m:IndexedPageItemView MaxEntriesReturned=\"{max}\" Offset=\"{offset}\" BasePoint=\"Beginning\"/><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>"
        );
    });
}

fn sync_body(body: &mut String, state: &[u8]) {
    envelope(body, |b| {
        b.push_str("<m:SyncFolderItems>");
        b.push_str(LIST_SHAPE);
        b.push_str("<m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>");
        if !state.is_empty() {
            b.push_str("<m:SyncState>");
            b.push_str(std::str::from_utf8(state).unwrap_or_default());
            b.push_str("</m:SyncState>");
        }
        b.push_str("<m:MaxChangesReturned>100</m:MaxChangesReturned><m:SyncScope>NormalItems</m:SyncScope></m:SyncFolderItems>");
    });
}

fn create_body(body: &mut String, folder: &str, mime_b64: &str) {
    envelope(body, |b| {
        b.push_str("<m:CreateItem MessageDisposition=\"SaveOnly\"><m:SavedItemFolderId><t:DistinguishedFolderId Id=\"");
        b.push_str(folder);
        b.push_str(
            "\"/></m:SavedItemFolderId><m:Items><t:Message><t:MimeContent CharacterSet=\"UTF-8\">",
        );
        b.push_str(mime_b64);
        b.push_str(
            "</t:MimeContent><t:IsRead>true</t:IsRead></t:Message></m:Items></m:CreateItem>",
        );
    });
}

/// The ids of the inbox's first `n` items in FindItem's order.
fn list_ids(addr: &str, user: &str, pass: &str, n: usize) -> Vec<String> {
    let mut h = Http::new(addr, user, pass);
    let mut body = String::new();
    let mut ids = Vec::new();
    while ids.len() < n {
        find_body(&mut body, ids.len(), 1000);
        let (status, start) = h.post(&body);
        assert_eq!(status, 200, "FindItem for the ids");
        let b = h.body(start);
        let before = ids.len();
        let mut i = 0;
        while let Some(p) = find_from(b, b"<t:ItemId Id=\"", i) {
            let s = p + 14;
            let e = s + b[s..].iter().position(|c| *c == b'"').unwrap();
            ids.push(String::from_utf8_lossy(&b[s..e]).into_owned());
            i = e;
        }
        if ids.len() == before {
            break;
        }
    }
    ids.truncate(n);
    ids
}

/// What one client measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    items: usize,
    errors: usize,
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 7 {
        eprintln!("usage: ews_load PHASE HOST:PORT USER PASSWORD CLIENTS SECONDS ARG");
        std::process::exit(2);
    }
    let (phase, addr, user, pass) = (a[0].clone(), a[1].clone(), a[2].clone(), a[3].clone());
    let clients: usize = a[4].parse().unwrap();
    let seconds: f64 = a[5].parse().unwrap();
    let arg: usize = a[6].parse().unwrap();

    if phase == "fill" {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                let (next, addr, user, pass) =
                    (next.clone(), addr.clone(), user.clone(), pass.clone());
                std::thread::spawn(move || {
                    let mut h = Http::new(&addr, &user, &pass);
                    let (mut body, mut mime) = (String::new(), String::new());
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= arg {
                            return;
                        }
                        mime.clear();
                        b64(&message(i, 3000), &mut mime);
                        create_body(&mut body, "inbox", &mime);
                        let (status, start) = h.post(&body);
                        assert!(
                            status == 200
                                && find_from(h.body(start), b"ResponseClass=\"Success\"", 0)
                                    .is_some(),
                            "fill: CreateItem failed: {}",
                            String::from_utf8_lossy(h.body(start))
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        println!(
            "{{\"filled\": {arg}, \"seconds\": {:.1}}}",
            started.elapsed().as_secs_f64()
        );
        return;
    }

    let ids = Arc::new(if phase == "getmime" {
        list_ids(&addr, &user, &pass, arg)
    } else {
        Vec::new()
    });
    let big = Arc::new(message(1_000_000, 30 * 1024));
    let mut big_b64 = String::new();
    b64(&big, &mut big_b64);
    let big_b64 = Arc::new(big_b64);

    let barrier = Arc::new(Barrier::new(clients + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let tallies = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let (phase, addr, user, pass) = (phase.clone(), addr.clone(), user.clone(), pass.clone());
            let (barrier, stop, next, tallies) =
                (barrier.clone(), stop.clone(), next.clone(), tallies.clone());
            let (ids, big, big_b64) = (ids.clone(), big.clone(), big_b64.clone());
            std::thread::spawn(move || {
                let mut t = Tally::default();
                let imap = phase.starts_with("imap");
                let mut http = (!imap).then(|| Http::new(&addr, &user, &pass));
                let mut session = imap.then(|| Imap::login(&addr, &user, &pass));
                let mut body = String::new();
                let mut cmd = String::new();
                let mut state: Vec<u8> = Vec::new();
                let pages = arg.div_ceil(PAGE).max(1);
                barrier.wait();
                while !stop.load(Ordering::Relaxed) {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let page = k % pages;
                    let began = Instant::now();
                    let (ok, items) = if let Some(h) = http.as_mut() {
                        match phase.as_str() {
                            "sync" => sync_body(&mut body, &state),
                            "find" => find_body(&mut body, page * PAGE, PAGE),
                            "getmime" => envelope(&mut body, |b| {
                                b.push_str("<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI=\"item:MimeContent\"/></t:AdditionalProperties></m:ItemShape><m:ItemIds>");
                                for id in ids.iter().skip(page * PAGE).take(PAGE) {
                                    b.push_str("<t:ItemId Id=\"");
                                    b.push_str(id);
                                    b.push_str("\"/>");
                                }
                                b.push_str("</m:ItemIds></m:GetItem>");
                            }),
                            "create" => create_body(&mut body, "drafts", &big_b64),
                            other => panic!("unknown phase {other}"),
                        }
                        let (status, start) = h.post(&body);
                        let b = h.body(start);
                        let ok = status == 200
                            && find_from(b, b"ResponseClass=\"Error\"", 0).is_none()
                            && find_from(b, b"ResponseClass=\"Success\"", 0).is_some();
                        let items = match phase.as_str() {
                            "sync" => {
                                let n = count(b, b"<t:Create>");
                                let last = text_after(b, b"<m:IncludesLastItemInRange>") == Some(b"true");
                                state.clear();
                                if !last && let Some(s) = text_after(b, b"<m:SyncState>") {
                                    state.extend_from_slice(s);
                                }
                                n
                            }
                            "find" => count(b, b"<t:Message>"),
                            "getmime" => count(b, b"<t:MimeContent"),
                            _ => 1,
                        };
                        if !ok && t.errors < 3 {
                            eprintln!("{phase}: {}", String::from_utf8_lossy(&b[..b.len().min(600)]));
                        }
                        (ok, items)
                    } else {
                        let s = session.as_mut().unwrap();
                        let first = page * PAGE + 1;
                        let last = ((page + 1) * PAGE).min(arg.max(1));
                        cmd.clear();
                        let r = match phase.as_str() {
                            "imap-sync" => {
                                use std::fmt::Write as _;
                                let _ = write!(cmd, "UID FETCH {first}:{last} (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)");
                                s.command(&cmd)
                            }
                            "imap-body" => {
                                use std::fmt::Write as _;
                                let _ = write!(cmd, "UID FETCH {first}:{last} (BODY.PEEK[])");
                                s.command(&cmd)
                            }
                            "imap-append" => s.append("Drafts", &big),
                            other => panic!("unknown phase {other}"),
                        };
                        let ok = r.unwrap_or(false);
                        let items = if phase == "imap-append" { 1 } else { count(&s.buf, b" FETCH (") };
                        if !ok && t.errors < 3 {
                            eprintln!("{phase}: {}", String::from_utf8_lossy(&s.buf[s.buf.len().saturating_sub(300)..]));
                        }
                        (ok, items)
                    };
                    t.latencies_us.push(began.elapsed().as_micros() as u64);
                    if ok {
                        t.items += items;
                    } else {
                        t.errors += 1;
                    }
                }
                if let Some(s) = session.as_mut() {
                    let _ = s.command("LOGOUT");
                }
                let _ = client;
                tallies.lock().unwrap().push(t);
            })
        })
        .collect();

    barrier.wait();
    println!("WINDOW OPEN");
    std::io::stdout().flush().unwrap();
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!("WINDOW CLOSED");
    let tallies = tallies.lock().unwrap();
    let mut lat: Vec<u64> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    let requests = lat.len();
    let items: usize = tallies.iter().map(|t| t.items).sum();
    let errors: usize = tallies.iter().map(|t| t.errors).sum();
    println!(
        "{{\"requests\": {requests}, \"items\": {items}, \"seconds\": {elapsed:.3}, \"rate\": {:.2}, \"items_rate\": {:.2}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \"errors\": {errors}, \"generator_cpu_s\": {cpu:.3}}}",
        requests as f64 / elapsed,
        items as f64 / elapsed,
        pct(0.5),
        pct(0.99),
    );
}
