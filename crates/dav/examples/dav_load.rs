//! CalDAV load generator for `cargo xtask bench dav`. The same program
//! drives groxide-http and Radicale over plain HTTP/1.1 (keep-alive when the
//! server offers it), CLIENTS threads with blocking sockets, responses read
//! into one reusable buffer per client. It reports its own CPU seconds so the
//! benchmark can show what the generator cost.
//!
//! `dav_load PHASE HOST:PORT COLLECTION_PATH USER PASSWORD CLIENTS COUNT EVENTS [FIRST]`
//!
//! - `put`: PUTs COUNT new events `ev-<i>.ics` (i from FIRST, default 0;
//!   their UIDs are not their names, as Apple and DAVx5 name resources),
//!   20 % weekly series;
//! - `cards`: PUTs COUNT new vCards `c-<i>.vcf` (i from FIRST) into the
//!   address book COLLECTION_PATH;
//! - `propfind`: COUNT × PROPFIND Depth 1 (getetag, getcontenttype) of the
//!   collection;
//! - `multiget`: COUNT × calendar-multiget of 100 of the EVENTS events with
//!   their data;
//! - `query`: COUNT × calendar-query of the VEVENTs in one month (March
//!   2025, series expanded), getetag;
//! - `sync0`: COUNT × sync-collection from the empty token (getetag);
//! - `sync`: takes the collection's sync token, changes 10 events, then
//!   COUNT × sync-collection from that token (10 changes each).
//!
//! - `files-events` / `files-cards`: writes COUNT events (cards) as files
//!   `ev-<i>.ics` (`c-<i>.vcf`) into the directory COLLECTION_PATH (how the
//!   benchmark fills Radicale's file storage with the same data), untimed.
//!
//! The timed part is between the lines `WINDOW OPEN` and `WINDOW CLOSED`
//! (the benchmark samples the servers' CPU there); then one JSON line:
//! requests, seconds, rate, p50/p99 in ms, errors, generator CPU seconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One keep-alive HTTP/1.1 client.
struct Client {
    addr: String,
    auth: String,
    conn: Option<TcpStream>,
    buf: Vec<u8>,
}

/// A response: status and body.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

fn b64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
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
    out
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

impl Client {
    fn new(addr: &str, user: &str, pass: &str) -> Client {
        Client {
            addr: addr.to_string(),
            auth: b64(&format!("{user}:{pass}")),
            conn: None,
            buf: Vec::with_capacity(1 << 16),
        }
    }

    fn request(&mut self, method: &str, path: &str, headers: &str, body: &[u8]) -> Reply {
        for attempt in 0..2 {
            match self.try_request(method, path, headers, body) {
                Ok(r) => return r,
                Err(e) => {
                    self.conn = None;
                    if attempt == 1 {
                        eprintln!("{method} {path}: {e}");
                    }
                }
            }
        }
        Reply {
            status: 0,
            body: Vec::new(),
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &str,
        body: &[u8],
    ) -> std::io::Result<Reply> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr)?;
            s.set_nodelay(true)?;
            self.conn = Some(s);
        }
        let conn = self.conn.as_mut().expect("connected");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {}\r\n{headers}Content-Length: {}\r\n\r\n",
            self.addr,
            self.auth,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        conn.write_all(&req)?;
        self.buf.clear();
        let mut chunk = [0u8; 65536];
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            let n = conn.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::other("closed before the response"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let close = head.starts_with("http/1.0") || head.contains("\r\nconnection: close");
        let length = head
            .split("\r\ncontent-length:")
            .nth(1)
            .and_then(|r| r.split("\r\n").next())
            .and_then(|v| v.trim().parse::<usize>().ok());
        let chunked = head.contains("transfer-encoding: chunked");
        let mut body = self.buf.split_off(head_end);
        if let Some(len) = length {
            while body.len() < len {
                let n = conn.read(&mut chunk)?;
                if n == 0 {
                    return Err(std::io::Error::other("closed in the body"));
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else if chunked {
            while !body.ends_with(b"0\r\n\r\n") {
                let n = conn.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else if method != "HEAD" && !(status == 204 || status == 304) {
            loop {
                let n = conn.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            self.conn = None;
        }
        if close {
            self.conn = None;
        }
        Ok(Reply { status, body })
    }
}

/// Contact `i`: UID `card-<i>@groxide.test`.
fn card(i: usize) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-{i}@groxide.test\r\nFN:Person {i}\r\n\
         N:{i};Person;;;\r\nEMAIL;TYPE=INTERNET:person{i}@example.org\r\n\
         TEL;TYPE=CELL:+49 30 {i:07}\r\nORG:Company {}\r\nEND:VCARD\r\n",
        i % 50
    )
}

/// Event `i`: UID `bench-<i>@groxide.test`, 20 % weekly series.
fn event(i: usize, summary: &str) -> String {
    let day = 1 + (i * 7) % 28;
    let month = 1 + (i / 28) % 12;
    let hour = 8 + i % 9;
    let rrule = if i.is_multiple_of(5) {
        "RRULE:FREQ=WEEKLY;COUNT=20\r\n"
    } else {
        ""
    };
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide//dav_load//EN\r\nBEGIN:VEVENT\r\n\
         UID:bench-{i}@groxide.test\r\nDTSTAMP:20250101T000000Z\r\n\
         DTSTART:2025{month:02}{day:02}T{hour:02}0000Z\r\nDTEND:2025{month:02}{day:02}T{hour:02}3000Z\r\n\
         SUMMARY:{summary} {i}\r\nLOCATION:Room {}\r\nDESCRIPTION:Agenda for meeting {i}.\r\n{rrule}\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        i % 40
    )
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

fn sync_body(token: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><D:sync-collection xmlns:D=\"DAV:\"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 8 && a.len() != 9 {
        eprintln!(
            "usage: dav_load put|cards|propfind|multiget|query|sync0|sync HOST:PORT COLLECTION USER PASSWORD CLIENTS COUNT EVENTS [FIRST]"
        );
        std::process::exit(2);
    }
    let (phase, addr, coll, user, pass) = (
        a[0].clone(),
        a[1].clone(),
        a[2].clone(),
        a[3].clone(),
        a[4].clone(),
    );
    let clients: usize = a[5].parse().unwrap();
    let count: usize = a[6].parse().unwrap();
    let events: usize = a[7].parse().unwrap();
    let first: usize = a.get(8).map_or(0, |f| f.parse().unwrap());
    let vcf = "Content-Type: text/vcard; charset=utf-8\r\n";
    let query = "<?xml version=\"1.0\" encoding=\"utf-8\"?><C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range start=\"20250301T000000Z\" end=\"20250401T000000Z\"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>";
    let ics = "Content-Type: text/calendar; charset=utf-8\r\n";
    let xml = "Content-Type: application/xml; charset=utf-8\r\n";

    // The multiget body (100 hrefs spread over the calendar).
    let mut multiget = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><C:calendar-multiget xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/><C:calendar-data/></D:prop>",
    );
    for k in 0..100 {
        let i = (k * 7919) % events.max(1);
        multiget.push_str(&format!("<D:href>{coll}ev-{i}.ics</D:href>"));
    }
    multiget.push_str("</C:calendar-multiget>");
    let propfind = "<?xml version=\"1.0\" encoding=\"utf-8\"?><D:propfind xmlns:D=\"DAV:\"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>";

    if phase == "files-events" || phase == "files-cards" {
        let dir = std::path::Path::new(&coll);
        std::fs::create_dir_all(dir).unwrap();
        for i in first..first + count {
            let (name, body) = if phase == "files-events" {
                (format!("ev-{i}.ics"), event(i, "Meeting"))
            } else {
                (format!("c-{i}.vcf"), card(i))
            };
            std::fs::write(dir.join(name), body).unwrap();
        }
        return;
    }

    // Before the window: the sync phase's token and its 10 changes.
    let mut sync_token = String::new();
    if phase == "sync" {
        let mut c = Client::new(&addr, &user, &pass);
        let r = c.request("REPORT", &coll, xml, sync_body("").as_bytes());
        let text = String::from_utf8_lossy(&r.body);
        sync_token = text
            .split("sync-token>")
            .nth(1)
            .and_then(|t| t.split('<').next())
            .unwrap_or("")
            .to_string();
        if r.status != 207 || sync_token.is_empty() {
            eprintln!("no sync token: {} {text}", r.status);
            std::process::exit(1);
        }
        // A summary no earlier run wrote: a server that sees the same bytes
        // again (Radicale) reports no change, and the phase would find
        // nothing to sync.
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for i in 0..10 {
            let r = c.request(
                "PUT",
                &format!("{coll}ev-{i}.ics"),
                ics,
                event(i, &format!("Changed {nonce}")).as_bytes(),
            );
            if r.status >= 300 {
                eprintln!("change PUT: {}", r.status);
                std::process::exit(1);
            }
        }
    }

    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let lat = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let cpu0 = cpu_seconds();
    println!("WINDOW OPEN");
    let started = Instant::now();
    let mut threads = Vec::new();
    for _ in 0..clients {
        let (next, errors, lat) = (next.clone(), errors.clone(), lat.clone());
        let (phase, addr, coll, user, pass) = (
            phase.clone(),
            addr.clone(),
            coll.clone(),
            user.clone(),
            pass.clone(),
        );
        let multiget = multiget.clone();
        let query = query.to_string();
        let sync = sync_body(&sync_token);
        threads.push(std::thread::spawn(move || {
            let mut c = Client::new(&addr, &user, &pass);
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let t = Instant::now();
                let (r, want) = match phase.as_str() {
                    "put" => (
                        c.request(
                            "PUT",
                            &format!("{coll}ev-{}.ics", first + i),
                            ics,
                            event(first + i, "Meeting").as_bytes(),
                        ),
                        201,
                    ),
                    "cards" => (
                        c.request(
                            "PUT",
                            &format!("{coll}c-{}.vcf", first + i),
                            vcf,
                            card(first + i).as_bytes(),
                        ),
                        201,
                    ),
                    "query" => (
                        c.request(
                            "REPORT",
                            &coll,
                            &format!("Depth: 1\r\n{xml}"),
                            query.as_bytes(),
                        ),
                        207,
                    ),
                    "sync0" => (
                        c.request("REPORT", &coll, xml, sync_body("").as_bytes()),
                        207,
                    ),
                    "propfind" => (
                        c.request(
                            "PROPFIND",
                            &coll,
                            &format!("Depth: 1\r\n{xml}"),
                            propfind.as_bytes(),
                        ),
                        207,
                    ),
                    "multiget" => (
                        c.request(
                            "REPORT",
                            &coll,
                            &format!("Depth: 1\r\n{xml}"),
                            multiget.as_bytes(),
                        ),
                        207,
                    ),
                    _ => (c.request("REPORT", &coll, xml, sync.as_bytes()), 207),
                };
                mine.push(t.elapsed().as_secs_f64() * 1000.0);
                let ok = r.status == want
                    && (phase != "sync" || find(&r.body, b"ev-9.ics").is_some())
                    && (phase != "sync0" || find(&r.body, b"ev-9.ics").is_some())
                    && (phase != "query" || find(&r.body, b".ics").is_some())
                    && (phase != "multiget" || find(&r.body, b"BEGIN:VEVENT").is_some());
                if !ok && errors.fetch_add(1, Ordering::Relaxed) < 3 {
                    eprintln!(
                        "{phase}: HTTP {} {}",
                        r.status,
                        String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
                    );
                }
            }
            lat.lock().unwrap().extend(mine);
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("WINDOW CLOSED");
    let cpu = cpu_seconds() - cpu0;
    let mut l = lat.lock().unwrap().clone();
    l.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "{{\"requests\": {count}, \"seconds\": {secs:.3}, \"rate\": {:.1}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"errors\": {}, \"generator_cpu_s\": {cpu:.3}}}",
        count as f64 / secs,
        pct(0.5),
        pct(0.99),
        errors.load(Ordering::Relaxed)
    );
}
