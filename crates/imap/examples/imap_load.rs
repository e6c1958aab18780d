//! IMAP load generator for `cargo xtask bench imap`. The same program
//! drives groxide-imap and Dovecot.
//!
//! - `imap_load mixed ADDR USERS CLIENTS SECONDS USER_FORMAT PASSWORD CHURN`:
//!   USERS × CLIENTS connections run an imaptest-style cycle (LIST, STATUS,
//!   SELECT, FETCH flags, FETCH body, STORE, APPEND, EXPUNGE; with CHURN=1
//!   also LOGIN and LOGOUT every cycle) for SECONDS; prints one JSON line
//!   with commands/s and latency percentiles per command.
//! - `imap_load fill ADDR USERS USER_FORMAT PASSWORD COUNT`: APPENDs COUNT
//!   messages to each user's INBOX (8 connections).
//! - `imap_load idle ADDR CONNECTIONS USERS USER_FORMAT PASSWORD`: opens
//!   CONNECTIONS sessions in IDLE on INBOX, prints `READY n`, holds them
//!   until stdin closes.
//! - `imap_load fetchall ADDR USER PASSWORD`: one `UID FETCH 1:* (UID
//!   FLAGS)`; prints lines received and seconds.
//! - `imap_load fill-store CONFIG_DIR STORE_DIR COUNT PARALLEL SIZE`:
//!   inserts COUNT messages (SIZE `tiny` or `4k`) into the store's inbox
//!   straight through groxide-exmdb, PARALLEL at once: the fast way to a
//!   huge folder.
//!
//! USER_FORMAT has `{}` for the user number (1-based).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Size of the messages APPENDed.
const MESSAGE_SIZE: usize = 4 * 1024;

fn message(tag: u64) -> Vec<u8> {
    let mut m = format!(
        "From: Load <load@bench.test>\r\nTo: bench@bench.test\r\nSubject: load {tag}\r\n\
         Message-ID: <{tag}@bench.test>\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n\r\n"
    )
    .into_bytes();
    let line =
        b"The quick brown fox jumps over the lazy dog; pack my box with five dozen jugs.\r\n";
    while m.len() + line.len() <= MESSAGE_SIZE {
        m.extend_from_slice(line);
    }
    m
}

struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    tag: u64,
}

/// One response: its untagged lines (literals inlined) and the tagged line.
struct Answer {
    untagged: Vec<String>,
    tagged: String,
}

impl Client {
    async fn connect(addr: &str) -> std::io::Result<Client> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        let mut c = Client {
            reader: BufReader::with_capacity(4096, r),
            writer: w,
            tag: 0,
        };
        let greeting = c.line().await?;
        if !greeting.starts_with("* OK") {
            return Err(std::io::Error::other(greeting));
        }
        Ok(c)
    }

    /// A line, with any literal it announces read and appended.
    async fn line(&mut self) -> std::io::Result<String> {
        let mut out = String::new();
        loop {
            let mut raw = Vec::new();
            let n = self.reader.read_until(b'\n', &mut raw).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let text = String::from_utf8_lossy(&raw);
            let text = text.trim_end_matches(['\r', '\n']);
            out.push_str(text);
            let size = text
                .strip_suffix('}')
                .and_then(|t| t.rsplit_once('{'))
                .and_then(|(_, n)| n.parse::<usize>().ok());
            match size {
                Some(size) => {
                    let mut lit = vec![0u8; size];
                    self.reader.read_exact(&mut lit).await?;
                    out.push_str(&String::from_utf8_lossy(&lit));
                }
                None => return Ok(out),
            }
        }
    }

    async fn command(&mut self, text: &str) -> std::io::Result<Answer> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.writer
            .write_all(format!("{tag} {text}\r\n").as_bytes())
            .await?;
        self.finish(&tag).await
    }

    async fn finish(&mut self, tag: &str) -> std::io::Result<Answer> {
        let mut untagged = Vec::new();
        loop {
            let l = self.line().await?;
            if l.starts_with(tag) && l.as_bytes().get(tag.len()) == Some(&b' ') {
                return Ok(Answer {
                    untagged,
                    tagged: l,
                });
            }
            untagged.push(l);
        }
    }

    async fn append(&mut self, mailbox: &str, data: &[u8]) -> std::io::Result<Answer> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        // LITERAL+ is not assumed: wait for the continuation.
        self.writer
            .write_all(format!("{tag} APPEND {mailbox} {{{}}}\r\n", data.len()).as_bytes())
            .await?;
        let cont = self.line().await?;
        if !cont.starts_with('+') {
            return Ok(Answer {
                untagged: Vec::new(),
                tagged: cont,
            });
        }
        self.writer.write_all(data).await?;
        self.writer.write_all(b"\r\n").await?;
        self.finish(&tag).await
    }

    async fn login(&mut self, user: &str, password: &str) -> std::io::Result<()> {
        let a = self
            .command(&format!("LOGIN \"{user}\" \"{password}\""))
            .await?;
        if !ok(&a) {
            return Err(std::io::Error::other(a.tagged));
        }
        Ok(())
    }
}

fn ok(a: &Answer) -> bool {
    a.tagged.split(' ').nth(1) == Some("OK")
}

fn user_name(format: &str, n: usize) -> String {
    format.replace("{}", &n.to_string())
}

/// Latencies per command name.
#[derive(Default)]
struct Stats {
    latencies: HashMap<&'static str, Vec<u32>>,
    errors: u64,
    /// Only commands completed while this is set count.
    window: Option<Arc<AtomicBool>>,
}

impl Stats {
    fn record(&mut self, name: &'static str, started: Instant, answer: &std::io::Result<Answer>) {
        if let Some(w) = &self.window
            && !w.load(Ordering::Relaxed)
        {
            return;
        }
        match answer {
            Ok(a) if ok(a) => self
                .latencies
                .entry(name)
                .or_default()
                .push(started.elapsed().as_micros() as u32),
            _ => self.errors += 1,
        }
    }

    fn merge(&mut self, other: Stats) {
        for (k, mut v) in other.latencies {
            self.latencies.entry(k).or_default().append(&mut v);
        }
        self.errors += other.errors;
    }
}

/// Random numbers without a dependency (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn uids_of(a: &Answer) -> Vec<u32> {
    a.untagged
        .iter()
        .filter_map(|l| l.split("UID ").nth(1))
        .filter_map(|r| r.split([' ', ')']).next())
        .filter_map(|u| u.parse().ok())
        .collect()
}

/// One timed command.
async fn step(
    c: &mut Client,
    name: &'static str,
    cmd: String,
    stats: &mut Stats,
) -> std::io::Result<Answer> {
    let t = Instant::now();
    let r = c.command(&cmd).await;
    stats.record(name, t, &r);
    r
}

/// One client of the mixed workload.
#[allow(clippy::too_many_arguments)]
async fn mixed_client(
    addr: String,
    user: String,
    password: String,
    churn: bool,
    stop: Arc<AtomicBool>,
    window: Arc<AtomicBool>,
    warmed: Arc<std::sync::atomic::AtomicUsize>,
    seed: u64,
) -> Stats {
    let mut stats = Stats {
        window: Some(window),
        ..Stats::default()
    };
    let mut first_cycle = true;
    let mut rng = Rng(seed | 1);
    let mut client: Option<Client> = None;
    let mut seq = seed * 1_000_000;
    while !stop.load(Ordering::Relaxed) {
        let c = match client.as_mut() {
            Some(c) => c,
            None => {
                let t = Instant::now();
                let mut c = match Client::connect(&addr).await {
                    Ok(c) => c,
                    Err(_) => {
                        stats.errors += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let r = c.command(&format!("LOGIN \"{user}\" \"{password}\"")).await;
                stats.record("LOGIN", t, &r);
                if !matches!(&r, Ok(a) if ok(a)) {
                    stats.errors += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                client.insert(c)
            }
        };
        if step(c, "LIST", "LIST \"\" *".into(), &mut stats)
            .await
            .is_err()
        {
            client = None;
            continue;
        }
        let _ = step(
            c,
            "STATUS",
            "STATUS INBOX (MESSAGES UNSEEN UIDNEXT)".into(),
            &mut stats,
        )
        .await;
        let _ = step(c, "SELECT", "SELECT INBOX".into(), &mut stats).await;
        let uids = match step(c, "FETCH", "UID FETCH 1:* (UID FLAGS)".into(), &mut stats).await {
            Ok(a) => uids_of(&a),
            Err(_) => {
                client = None;
                continue;
            }
        };
        if !uids.is_empty() {
            let u = uids[rng.below(uids.len())];
            let _ = step(
                c,
                "FETCH_BODY",
                format!("UID FETCH {u} (BODY.PEEK[])"),
                &mut stats,
            )
            .await;
            let u = uids[rng.below(uids.len())];
            let _ = step(
                c,
                "STORE",
                format!("UID STORE {u} +FLAGS (\\Seen)"),
                &mut stats,
            )
            .await;
        }
        seq += 1;
        let t = Instant::now();
        let r = c.append("INBOX", &message(seq)).await;
        stats.record("APPEND", t, &r);
        if !uids.is_empty() {
            let u = uids[rng.below(uids.len())];
            let _ = step(
                c,
                "STORE",
                format!("UID STORE {u} +FLAGS.SILENT (\\Deleted)"),
                &mut stats,
            )
            .await;
            let _ = step(c, "EXPUNGE", "EXPUNGE".into(), &mut stats).await;
        }
        if churn {
            let t = Instant::now();
            let r = c.command("LOGOUT").await;
            stats.record("LOGOUT", t, &r);
            client = None;
        }
        if first_cycle {
            first_cycle = false;
            warmed.fetch_add(1, Ordering::Relaxed);
        }
    }
    stats
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

async fn mixed(args: &[String]) {
    let addr = args[0].clone();
    let users: usize = args[1].parse().unwrap();
    let clients: usize = args[2].parse().unwrap();
    let seconds: f64 = args[3].parse().unwrap();
    let format = args[4].clone();
    let password = args[5].clone();
    let churn = args[6] == "1";
    let stop = Arc::new(AtomicBool::new(false));
    let window = Arc::new(AtomicBool::new(false));
    let warmed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for u in 1..=users {
        for c in 0..clients {
            tasks.push(tokio::spawn(mixed_client(
                addr.clone(),
                user_name(&format, u),
                password.clone(),
                churn,
                stop.clone(),
                window.clone(),
                warmed.clone(),
                (u * 1000 + c) as u64,
            )));
        }
    }
    // The window opens once every client has logged in and run one cycle.
    let warm_up = Instant::now();
    while warmed.load(Ordering::Relaxed) < users * clients {
        if warm_up.elapsed() > Duration::from_secs(120) {
            eprintln!(
                "imap_load: only {} of {} clients logged in and ran a cycle within 120 s \
                 (refused logins? check the server's per-user and per-address limits)",
                warmed.load(Ordering::Relaxed),
                users * clients
            );
            std::process::exit(1);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    window.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    window.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Stats::default();
    for t in tasks {
        all.merge(t.await.unwrap());
    }
    let mut total = 0usize;
    let mut every: Vec<u32> = Vec::new();
    let mut per = Vec::new();
    let mut names: Vec<&&str> = all.latencies.keys().collect();
    names.sort();
    for name in names {
        let mut v = all.latencies[*name].clone();
        v.sort_unstable();
        total += v.len();
        per.push(format!(
            "\"{name}\": {{\"count\": {}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}}}",
            v.len(),
            percentile(&v, 0.5),
            percentile(&v, 0.99)
        ));
        every.extend_from_slice(&v);
    }
    every.sort_unstable();
    println!(
        "{{\"commands\": {total}, \"seconds\": {elapsed:.3}, \"rate\": {:.1}, \"p50_ms\": {:.3}, \"p90_ms\": {:.3}, \"p99_ms\": {:.3}, \"errors\": {}, \"per_command\": {{{}}}}}",
        total as f64 / elapsed,
        percentile(&every, 0.5),
        percentile(&every, 0.9),
        percentile(&every, 0.99),
        all.errors,
        per.join(", ")
    );
}

async fn fill(args: &[String]) {
    let addr = args[0].clone();
    let users: usize = args[1].parse().unwrap();
    let format = args[2].clone();
    let password = args[3].clone();
    let count: u64 = args[4].parse().unwrap();
    let mut tasks = Vec::new();
    let per_task = users.div_ceil(8);
    for chunk in (1..=users).collect::<Vec<_>>().chunks(per_task) {
        let (addr, format, password, chunk) = (
            addr.clone(),
            format.clone(),
            password.clone(),
            chunk.to_vec(),
        );
        tasks.push(tokio::spawn(async move {
            for u in chunk {
                let mut c = Client::connect(&addr).await.unwrap();
                c.login(&user_name(&format, u), &password).await.unwrap();
                for i in 0..count {
                    let a = c
                        .append("INBOX", &message(u as u64 * 1_000_000 + i))
                        .await
                        .unwrap();
                    assert!(ok(&a), "APPEND failed: {}", a.tagged);
                }
                c.command("LOGOUT").await.ok();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    println!("{{\"filled\": {}}}", users as u64 * count);
}

async fn idle(args: &[String]) {
    let addr = args[0].clone();
    let connections: usize = args[1].parse().unwrap();
    let users: usize = args[2].parse().unwrap();
    let format = args[3].clone();
    let password = args[4].clone();
    let mut held = Vec::with_capacity(connections);
    let mut opening = Vec::new();
    for i in 0..connections {
        let (addr, user, password) = (
            addr.clone(),
            user_name(&format, i % users + 1),
            password.clone(),
        );
        opening.push(tokio::spawn(async move {
            let mut c = Client::connect(&addr).await?;
            c.login(&user, &password).await?;
            let a = c.command("SELECT INBOX").await?;
            if !ok(&a) {
                return Err(std::io::Error::other(a.tagged));
            }
            c.writer.write_all(b"i IDLE\r\n").await?;
            let cont = c.line().await?;
            if !cont.starts_with('+') {
                return Err(std::io::Error::other(cont));
            }
            Ok(c)
        }));
        // Keep the accept queues of both servers from overflowing.
        if opening.len() == 200 {
            for o in opening.drain(..) {
                held.push(o.await.unwrap().expect("an IDLE session"));
            }
        }
    }
    for o in opening.drain(..) {
        held.push(o.await.unwrap().expect("an IDLE session"));
    }
    println!("READY {}", held.len());
    let _ = tokio::task::spawn_blocking(|| {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest)
    })
    .await;
    drop(held);
}

async fn fetchall(args: &[String]) {
    let mut c = Client::connect(&args[0]).await.unwrap();
    c.login(&args[1], &args[2]).await.unwrap();
    let a = c.command("SELECT INBOX").await.unwrap();
    assert!(ok(&a), "{}", a.tagged);
    let t = Instant::now();
    c.tag += 1;
    c.writer
        .write_all(format!("t{} UID FETCH 1:* (UID FLAGS)\r\n", c.tag).as_bytes())
        .await
        .unwrap();
    let tag = format!("t{} ", c.tag);
    let mut lines = 0u64;
    loop {
        let l = c.line().await.unwrap();
        if l.starts_with(&tag) {
            assert!(l.contains(" OK"), "{l}");
            break;
        }
        lines += 1;
    }
    println!(
        "{{\"lines\": {lines}, \"seconds\": {:.3}}}",
        t.elapsed().as_secs_f64()
    );
}

async fn fill_store(args: &[String]) {
    use groxide_config::{Config, Imap};
    use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
    use groxide_rpc::pb::exmdb::v1::InsertHeader;
    let (cfg, _) = Config::<Imap>::load(std::path::Path::new(&args[0])).unwrap();
    let dir = args[1].clone();
    let count: u64 = args[2].parse().unwrap();
    let parallel: u64 = args[3].parse().unwrap();
    let tiny = args.get(4).is_none_or(|s| s == "tiny");
    let routing = groxide_runtime::Routing::load(&cfg, None).unwrap();
    let opts = groxide_runtime::client_options(&cfg, routing.node()).unwrap();
    let client = Arc::new(ExmdbClient::new(routing.exmdb().clone(), opts));
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..parallel {
        let (client, next, dir) = (client.clone(), next.clone(), dir.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return;
                }
                let raw = if tiny {
                    format!(
                        "From: a@bench.test\r\nTo: big@bench.test\r\nSubject: m {i}\r\n\
                         Message-ID: <{i}@big>\r\n\r\nbody {i}\r\n"
                    )
                    .into_bytes()
                } else {
                    message(i)
                };
                let header = InsertHeader {
                    dir: dir.clone(),
                    folder: Some(folder_role("inbox")),
                    flags: if i % 3 == 0 { 1 } else { 0 },
                    keywords: Vec::new(),
                    internal_date: 0,
                    expected_size: raw.len() as u64,
                };
                client
                    .insert_message(header, std::io::Cursor::new(raw))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    println!(
        "{{\"inserted\": {count}, \"seconds\": {:.1}}}",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        eprintln!("usage: imap_load mixed|fill|idle|fetchall ...");
        std::process::exit(2);
    };
    match mode.as_str() {
        "mixed" => mixed(rest).await,
        "fill" => fill(rest).await,
        "idle" => idle(rest).await,
        "fetchall" => fetchall(rest).await,
        "fill-store" => fill_store(rest).await,
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
