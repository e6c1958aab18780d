//! ActiveSync load generator for `cargo xtask bench eas`: one tokio process
//! speaking raw HTTP/1.1 with requests encoded before they are timed (the
//! WBXML bodies and the whole request bytes), and LMTP for deliveries.
//! It reports its own CPU seconds so the benchmark can show what it cost.
//!
//! `eas_load fill HTTP LMTP USER PASS COUNT`: delivers COUNT messages
//! (2 to 6 KB) to USER over 4 LMTP connections, then prints one JSON line.
//!
//! `eas_load sync HTTP LMTP USER PASS DEVICES WINDOW`: provisions DEVICES
//! devices and runs their FolderSync; then, per device in turn, its initial
//! Sync of the Inbox (SyncKey 0, then windows of WINDOW until no
//! MoreAvailable) between `WINDOW OPEN` and `WINDOW CLOSED` lines and one
//! JSON line. Then for every `INCREMENTAL` line read from stdin: delivers 10
//! messages (untimed), and all devices Sync at once (timed, one JSON line);
//! `QUIT` ends.
//!
//! `eas_load ping HTTP LMTP USERS PASS DEVICES_PER_USER HEARTBEAT ROUNDS
//! WAKES`: users are `user<i>@bench.test` (i from 1). Sets up every device
//! (Provision, FolderSync, Sync 0 of the Inbox), prints `SETUP DONE`, waits
//! for `GO <HTTP2>`; opens one connection per device to HTTP2 (another
//! server on the same stores) and sends its Ping (the
//! Inbox, HEARTBEAT seconds), prints `PINGS SENT`, waits for `MEASURE`;
//! then ROUNDS rounds, each delivering one message to each of WAKES
//! users not woken before, 100 ms apart: a device's wake-up latency is from
//! the end of the message's DATA (the final dot sent, so delivery time is
//! included) to the whole Ping answer read. One JSON line per round, then
//! one with every Ping answered early or wrongly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::panic
)]

use base64::Engine as _;
use groxide_wbxml::{AirSync, Element, FolderHierarchy, Limits, Ping, Provision};
use std::collections::HashMap;
use std::io::BufRead as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Semaphore, mpsc};

/// The CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

/// One device: who it is, its policy key, its Inbox and sync key.
#[derive(Clone)]
struct Device {
    user: String,
    auth: String,
    id: String,
    policy_key: String,
    inbox: String,
    sync_key: String,
}

impl Device {
    fn new(user: &str, pass: &str, id: String) -> Device {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        Device {
            user: user.to_string(),
            auth,
            id,
            policy_key: "0".into(),
            inbox: String::new(),
            sync_key: "0".into(),
        }
    }

    /// The whole request bytes of one command.
    fn request(&self, cmd: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "POST /Microsoft-Server-ActiveSync?Cmd={cmd}&User={}&DeviceId={}&DeviceType=bench HTTP/1.1\r\n\
             Host: bench\r\nAuthorization: Basic {}\r\nMS-ASProtocolVersion: 14.1\r\n\
             X-MS-PolicyKey: {}\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n\
             Content-Length: {}\r\n\r\n",
            self.user,
            self.id,
            self.auth,
            self.policy_key,
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        Conn {
            addr: addr.to_string(),
            stream: None,
        }
    }

    /// Sends a request; the status and the body.
    async fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        for attempt in 0..2 {
            if self.stream.is_none() {
                self.stream = Some(BufReader::new(TcpStream::connect(&self.addr).await?));
            }
            let s = self.stream.as_mut().expect("connected");
            let r = async {
                s.get_mut().write_all(request).await?;
                read_response(s).await
            }
            .await;
            match r {
                Ok((status, body, close)) => {
                    if close {
                        self.stream = None;
                    }
                    return Ok((status, body));
                }
                Err(e) if attempt == 1 => return Err(e),
                Err(_) => self.stream = None,
            }
        }
        unreachable!()
    }
}

/// Reads one response: status, body, whether the server closes.
async fn read_response(s: &mut BufReader<TcpStream>) -> std::io::Result<(u16, Vec<u8>, bool)> {
    let mut line = String::new();
    if s.read_line(&mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let (mut len, mut close) = (0usize, false);
    loop {
        line.clear();
        s.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close") {
                close = true;
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                return Err(std::io::Error::other("chunked answers are not expected"));
            }
        }
    }
    let mut body = vec![0; len];
    s.read_exact(&mut body).await?;
    Ok((status, body, close))
}

fn xml(text: &str) -> Vec<u8> {
    let e = Element::from_xml(text, &Limits::default()).expect("request XML");
    groxide_wbxml::encode(&e)
}

fn decode(body: &[u8]) -> Element {
    groxide_wbxml::decode(body, &Limits::default()).expect("WBXML answer")
}

fn provision_body(key: Option<&str>) -> Vec<u8> {
    let ack = key
        .map(|k| format!("<PolicyKey>{k}</PolicyKey><Status>1</Status>"))
        .unwrap_or_default();
    xml(&format!(
        "<Provision xmlns=\"Provision:\"><Policies><Policy>\
         <PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>{ack}</Policy></Policies></Provision>"
    ))
}

fn sync_body(key: &str, inbox: &str, window: usize) -> Vec<u8> {
    let opts = if key == "0" {
        String::new()
    } else {
        "<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>\
         <airsyncbase:TruncationSize>2048</airsyncbase:TruncationSize>\
         </airsyncbase:BodyPreference></Options>"
            .into()
    };
    xml(&format!(
        "<Sync xmlns=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\"><Collections><Collection>\
         <SyncKey>{key}</SyncKey><CollectionId>{inbox}</CollectionId>\
         <WindowSize>{window}</WindowSize>{opts}</Collection></Collections></Sync>"
    ))
}

/// Provision (both steps) and FolderSync: the device knows its policy key
/// and Inbox.
async fn setup(conn: &mut Conn, d: &mut Device) {
    let key_of = |b: &[u8]| {
        decode(b)
            .descendant(&[Provision::Policies.into(), Provision::Policy.into()])
            .and_then(|p| p.child_text(Provision::PolicyKey))
            .expect("a policy key")
            .to_string()
    };
    let (st, body) = conn
        .send(&d.request("Provision", &provision_body(None)))
        .await
        .unwrap();
    assert_eq!(st, 200, "Provision");
    let temp = key_of(&body);
    let (st, body) = conn
        .send(&d.request("Provision", &provision_body(Some(&temp))))
        .await
        .unwrap();
    assert_eq!(st, 200, "Provision ack");
    d.policy_key = key_of(&body);
    let fs = xml("<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>");
    let (st, body) = conn.send(&d.request("FolderSync", &fs)).await.unwrap();
    assert_eq!(st, 200, "FolderSync");
    let doc = decode(&body);
    let changes = doc.child(FolderHierarchy::Changes).expect("Changes");
    d.inbox = changes
        .children_named(FolderHierarchy::Add)
        .find(|a| a.child_text(FolderHierarchy::Type) == Some("2"))
        .and_then(|a| a.child_text(FolderHierarchy::ServerId))
        .expect("an Inbox")
        .to_string();
}

/// One Sync of the Inbox: items added, whether more are available.
async fn sync_once(conn: &mut Conn, d: &mut Device, window: usize) -> (usize, bool) {
    let (st, body) = conn
        .send(&d.request("Sync", &sync_body(&d.sync_key, &d.inbox, window)))
        .await
        .unwrap();
    assert_eq!(st, 200, "Sync");
    let doc = decode(&body);
    let c = doc
        .descendant(&[AirSync::Collections.into(), AirSync::Collection.into()])
        .expect("a Collection");
    assert_eq!(c.child_text(AirSync::Status), Some("1"), "Sync status");
    d.sync_key = c.child_text(AirSync::SyncKey).expect("SyncKey").to_string();
    let added = c
        .child(AirSync::Commands)
        .map_or(0, |cmds| cmds.children_named(AirSync::Add).count());
    (added, c.child(AirSync::MoreAvailable).is_some())
}

/// One message of about `size` bytes.
fn message(to: &str, n: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Bench <bench@remote.test>\r\nTo: {to}\r\nSubject: bench message {n}\r\n\
         Date: Mon, 7 Dec 2026 09:00:00 +0000\r\nMessage-ID: <bench{n}.{}@remote.test>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
        std::process::id()
    );
    let line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
    while m.len() < size {
        m.push_str(line);
    }
    m.push_str(".\r\n");
    m.into_bytes()
}

/// One LMTP connection, greeted.
struct Lmtp {
    s: BufReader<TcpStream>,
}

impl Lmtp {
    async fn connect(addr: &str) -> Lmtp {
        let mut l = Lmtp {
            s: BufReader::new(TcpStream::connect(addr).await.expect("LMTP connect")),
        };
        l.expect("220").await;
        l.s.get_mut().write_all(b"LHLO bench\r\n").await.unwrap();
        l.expect("250 ").await;
        l
    }

    /// Reads lines until one starting with `code`.
    async fn expect(&mut self, code: &str) {
        let mut line = String::new();
        loop {
            line.clear();
            if self.s.read_line(&mut line).await.unwrap() == 0 {
                panic!("LMTP closed");
            }
            if line.starts_with(code) {
                return;
            }
            if !line.starts_with(&code[..3]) {
                panic!("LMTP: {line}");
            }
        }
    }

    /// Delivers one message; the instant its final dot was sent.
    async fn deliver(&mut self, to: &str, msg: &[u8]) -> Instant {
        let w = self.s.get_mut();
        w.write_all(
            format!("MAIL FROM:<bench@remote.test>\r\nRCPT TO:<{to}>\r\nDATA\r\n").as_bytes(),
        )
        .await
        .unwrap();
        self.expect("250").await;
        self.expect("250").await;
        self.expect("354").await;
        self.s.get_mut().write_all(msg).await.unwrap();
        let sent = Instant::now();
        self.expect("250").await;
        sent
    }
}

async fn fill(lmtp: &str, user: &str, count: usize, first: usize) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (next, lmtp, user) = (next.clone(), lmtp.to_string(), user.to_string());
        tasks.push(tokio::spawn(async move {
            let mut l = Lmtp::connect(&lmtp).await;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let n = first + i;
                l.deliver(&user, &message(&user, n, 2000 + (n * 997) % 4000))
                    .await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line.trim().to_string()).is_err() {
                break;
            }
        }
    });
    rx
}

async fn run_sync(http: &str, lmtp: &str, user: &str, pass: &str, devices: usize, window: usize) {
    let mut devs: Vec<(Conn, Device)> = Vec::new();
    for i in 0..devices {
        let mut conn = Conn::new(http);
        let mut d = Device::new(user, pass, format!("benchsync{i}"));
        setup(&mut conn, &mut d).await;
        devs.push((conn, d));
    }
    for (conn, d) in &mut devs {
        let (cpu0, t0) = (cpu_seconds(), Instant::now());
        println!("WINDOW OPEN");
        let (mut requests, mut items) = (0usize, 0usize);
        loop {
            let (added, more) = sync_once(conn, d, window).await;
            requests += 1;
            items += added;
            if requests > 1 && !more {
                break;
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        println!("WINDOW CLOSED");
        println!(
            "{{\"phase\": \"initial\", \"requests\": {requests}, \"items\": {items}, \"seconds\": {secs:.3}, \"rate\": {:.1}, \"generator_cpu_s\": {:.3}}}",
            requests as f64 / secs,
            cpu_seconds() - cpu0
        );
    }
    let mut lines = stdin_lines();
    let mut round = 0;
    while let Some(line) = lines.recv().await {
        if line != "INCREMENTAL" {
            break;
        }
        fill(lmtp, user, 10, 1_000_000 + round * 10).await;
        round += 1;
        let (cpu0, t0) = (cpu_seconds(), Instant::now());
        println!("WINDOW OPEN");
        let mut tasks = Vec::new();
        for (mut conn, mut d) in devs.drain(..) {
            tasks.push(tokio::spawn(async move {
                let started = Instant::now();
                let (added, _) = sync_once(&mut conn, &mut d, window).await;
                (conn, d, added, started.elapsed().as_secs_f64())
            }));
        }
        let (mut items, mut lat) = (0, Vec::new());
        for t in tasks {
            let (conn, d, added, l) = t.await.unwrap();
            items += added;
            lat.push(l * 1000.0);
            devs.push((conn, d));
        }
        let secs = t0.elapsed().as_secs_f64();
        println!("WINDOW CLOSED");
        println!(
            "{{\"phase\": \"incremental\", \"requests\": {}, \"items\": {items}, \"seconds\": {secs:.3}, \"rate\": {:.1}, \"p50_ms\": {:.1}, \"generator_cpu_s\": {:.3}}}",
            devs.len(),
            devs.len() as f64 / secs,
            percentile(&mut lat, 0.5),
            cpu_seconds() - cpu0
        );
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_ping(
    http: &str,
    lmtp: &str,
    users: usize,
    pass: &str,
    per_user: usize,
    heartbeat: u64,
    rounds: usize,
    wakes: usize,
) {
    // Setup, 32 devices at a time.
    let sem = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::new();
    for u in 1..=users {
        for k in 0..per_user {
            let (sem, http, pass) = (sem.clone(), http.to_string(), pass.to_string());
            tasks.push(tokio::spawn(async move {
                let _p = sem.acquire().await.unwrap();
                let mut conn = Conn::new(&http);
                let mut d = Device::new(&format!("user{u}@bench.test"), &pass, format!("p{u}x{k}"));
                setup(&mut conn, &mut d).await;
                sync_once(&mut conn, &mut d, 100).await;
                (u, d)
            }));
        }
    }
    let mut devs = Vec::new();
    for t in tasks {
        devs.push(t.await.unwrap());
    }
    println!("SETUP DONE");
    let mut lines = stdin_lines();
    // The Pings go to the server named (a fresh one, measured).
    let go = lines.recv().await.unwrap_or_default();
    let http = go.strip_prefix("GO ").expect("GO <address>").to_string();
    let http = http.as_str();
    // Every device's Ping, encoded before any is sent.
    let inbox = devs[0].1.inbox.clone();
    let body = xml(&format!(
        "<Ping xmlns=\"Ping:\"><HeartbeatInterval>{heartbeat}</HeartbeatInterval><Folders><Folder>\
         <Id>{inbox}</Id><Class>Email</Class></Folder></Folders></Ping>"
    ));
    let requests: Vec<(usize, Vec<u8>)> = devs
        .iter()
        .map(|(u, d)| {
            assert_eq!(d.inbox, inbox, "every Inbox has the same id");
            (*u, d.request("Ping", &body))
        })
        .collect();
    // Each user's password is checked once first (one OPTIONS each, 16 at
    // a time, a 503 retried): what a waiting device then costs is measured
    // apart from the login storm's argon2id checks, whose memory the
    // allocator keeps.
    let warm0 = Instant::now();
    let mut firsts: Vec<(usize, String)> = Vec::new();
    for (u, d) in &devs {
        if firsts.last().map(|f| f.0) != Some(*u) {
            firsts.push((*u, d.auth.clone()));
        }
    }
    let warm_gate = Arc::new(Semaphore::new(16));
    let mut warmers = Vec::new();
    for (_, auth) in firsts {
        let (gate, http) = (warm_gate.clone(), http.to_string());
        warmers.push(tokio::spawn(async move {
            let _turn = gate.acquire_owned().await.unwrap();
            let req = format!(
                "OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\nHost: bench\r\n\
                 Authorization: Basic {auth}\r\nContent-Length: 0\r\n\r\n"
            );
            loop {
                let mut s = BufReader::new(TcpStream::connect(&http).await.unwrap());
                s.get_mut().write_all(req.as_bytes()).await.unwrap();
                match read_response(&mut s).await {
                    Ok((503, _, _)) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Ok((200, _, _)) => return true,
                    _ => return false,
                }
            }
        }));
    }
    let mut warm_failed = 0;
    for w in warmers {
        if !w.await.unwrap_or(false) {
            warm_failed += 1;
        }
    }
    println!(
        "WARMED {{\"users\": {}, \"seconds\": {:.3}, \"failed\": {warm_failed}}}",
        devs.iter().map(|d| d.0).max().unwrap_or(0),
        warm0.elapsed().as_secs_f64()
    );
    assert_eq!(lines.recv().await.as_deref(), Some("PING"));
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    // (user, answered at, Ping status or an error)
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant, String)>();
    // Devices whose latest Ping is written and not answered.
    let held = Arc::new(AtomicUsize::new(0));
    // When the last 503 came, in ms since t0 (0: none yet).
    let last_busy = Arc::new(AtomicU64::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(Semaphore::new(256));
    for (u, req) in requests {
        let (tx, open, http) = (tx.clone(), open.clone(), http.to_string());
        let (held, last_busy, retried) = (held.clone(), last_busy.clone(), retried.clone());
        tokio::spawn(async move {
            // As a phone does: a 503 (a login storm queued past
            // auth_check_wait) is retried after its Retry-After.
            loop {
                let permit = open.clone().acquire_owned().await.unwrap();
                let s = TcpStream::connect(&http).await;
                let mut s = match s {
                    Ok(s) => BufReader::new(s),
                    Err(e) => {
                        drop(permit);
                        let _ = tx.send((u, Instant::now(), format!("connect: {e}")));
                        return;
                    }
                };
                let w = s.get_mut().write_all(&req).await;
                drop(permit);
                if let Err(e) = w {
                    let _ = tx.send((u, Instant::now(), format!("write: {e}")));
                    return;
                }
                held.fetch_add(1, Ordering::SeqCst);
                let r = read_response(&mut s).await;
                held.fetch_sub(1, Ordering::SeqCst);
                let at = Instant::now();
                let what = match r {
                    Ok((503, _, _)) => {
                        let ms = at.duration_since(t0).as_millis() as u64;
                        last_busy.fetch_max(ms.max(1), Ordering::SeqCst);
                        retried.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    Ok((200, b, _)) => groxide_wbxml::decode(&b, &Limits::default())
                        .ok()
                        .and_then(|d| d.child_text(Ping::Status).map(str::to_string))
                        .unwrap_or_else(|| "undecodable".into()),
                    Ok((st, _, _)) => format!("HTTP {st}"),
                    Err(e) => format!("read: {e}"),
                };
                let _ = tx.send((u, at, what));
                return;
            }
        });
    }
    drop(tx);
    let total = devs.len();
    // Every Ping is held once every device's latest attempt is written and
    // no 503 came for longer than a login may wait (auth_check_wait, 5 s).
    let quiet = Duration::from_secs(6);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let busy = Duration::from_millis(last_busy.load(Ordering::SeqCst));
        if held.load(Ordering::SeqCst) >= total && t0.elapsed() > busy + quiet {
            break;
        }
        if t0.elapsed() > Duration::from_secs(600) {
            println!("NOT ALL HELD after 600 s: {}", held.load(Ordering::SeqCst));
            break;
        }
    }
    let busy_s = last_busy.load(Ordering::SeqCst) as f64 / 1000.0;
    println!(
        "PINGS SENT {{\"devices\": {total}, \"seconds\": {busy_s:.3}, \"retried_after_503\": {}, \"generator_cpu_s\": {:.3}}}",
        retried.load(Ordering::Relaxed),
        cpu_seconds() - cpu0
    );
    assert_eq!(lines.recv().await.as_deref(), Some("MEASURE"));
    let answers = Arc::new(Mutex::new(Vec::<(usize, Instant, String)>::new()));
    {
        let answers = answers.clone();
        tokio::spawn(async move {
            while let Some(a) = rx.recv().await {
                answers.lock().await.push(a);
            }
        });
    }
    let mut lmtp_conn = Lmtp::connect(lmtp).await;
    let mut next_user = 1;
    let mut early: Vec<String> = answers.lock().await.iter().map(|a| a.2.clone()).collect();
    answers.lock().await.clear();
    for round in 0..rounds {
        let cpu0 = cpu_seconds();
        let mut delivered: HashMap<usize, Instant> = HashMap::new();
        for _ in 0..wakes {
            let u = next_user;
            next_user += 1;
            let to = format!("user{u}@bench.test");
            let at = lmtp_conn.deliver(&to, &message(&to, u, 3000)).await;
            delivered.insert(u, at);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Every device of these users answers, or 15 s pass.
        let want = wakes * per_user;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let n = answers
                .lock()
                .await
                .iter()
                .filter(|a| delivered.contains_key(&a.0))
                .count();
            if n >= want || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut got = std::mem::take(&mut *answers.lock().await);
        let mut lat = Vec::new();
        let mut wrong = 0;
        got.retain(|(u, at, what)| {
            let Some(sent) = delivered.get(u) else {
                return true;
            };
            if what == "2" {
                lat.push(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0);
            } else {
                wrong += 1;
            }
            false
        });
        early.extend(got.into_iter().map(|a| a.2));
        let woken = lat.len();
        println!(
            "{{\"round\": {round}, \"woken\": {woken}, \"expected\": {want}, \"wrong\": {wrong}, \"p50_ms\": {:.1}, \"p99_ms\": {:.1}, \"max_ms\": {:.1}, \"generator_cpu_s\": {:.3}}}",
            percentile(&mut lat, 0.5),
            percentile(&mut lat, 0.99),
            percentile(&mut lat, 1.0),
            cpu_seconds() - cpu0
        );
    }
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for e in early {
        *kinds.entry(e).or_default() += 1;
    }
    println!("UNEXPECTED {kinds:?}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let n = |i: usize| a(i).parse::<usize>().expect("a number argument");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match a(0) {
            "fill" => {
                let (cpu0, t0) = (cpu_seconds(), Instant::now());
                fill(a(2), a(3), n(5), 0).await;
                let secs = t0.elapsed().as_secs_f64();
                println!(
                    "{{\"messages\": {}, \"seconds\": {secs:.3}, \"rate\": {:.1}, \"generator_cpu_s\": {:.3}}}",
                    n(5),
                    n(5) as f64 / secs,
                    cpu_seconds() - cpu0
                );
            }
            "sync" => run_sync(a(1), a(2), a(3), a(4), n(5), n(6)).await,
            "ping" => {
                run_ping(
                    a(1),
                    a(2),
                    n(3),
                    a(4),
                    n(5),
                    n(6) as u64,
                    n(7),
                    n(8),
                )
                .await;
            }
            other => {
                eprintln!("eas_load: unknown mode {other:?} (fill, sync, ping)");
                std::process::exit(2);
            }
        }
    });
}
