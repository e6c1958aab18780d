//! IMAP load generator for `cargo xtask bench imap`. The same program
//! drives groxide-imap and Dovecot.
//!
//! It is built to cost far less CPU than the servers it measures (on a
//! 2-core machine a busy generator makes every server look the same): one
//! thread, one reusable buffer per connection, responses scanned as bytes
//! (literals skipped, nothing copied but the UIDs it needs), no allocation
//! per command. It reports its own CPU seconds so the benchmark can show it.
//!
//! - `imap_load mixed ADDR USERS CLIENTS SECONDS USER_FORMAT PASSWORD CHURN MBOX`:
//!   USERS × CLIENTS connections run the imaptest-style round below for
//!   SECONDS (with CHURN=1 also LOGIN and LOGOUT every round); prints one
//!   JSON line with commands/s, latency percentiles per command and the
//!   generator's CPU seconds. Per round: SELECT INBOX; LIST 50 %; STATUS
//!   50 %; FETCH 1:* (UID FLAGS ENVELOPE); FETCH of body parts (HEADER and
//!   TEXT) of one message, or of the whole mailbox in 30 % of rounds; STORE
//!   of flags 50 %; STORE \Deleted on 5 % of the messages (at least one);
//!   EXPUNGE; APPEND of the next message of MBOX.
//! - `imap_load fill ADDR USERS USER_FORMAT PASSWORD COUNT MBOX`: APPENDs
//!   COUNT messages of MBOX to each user's INBOX (8 connections).
//! - `imap_load idle ADDR CONNECTIONS USERS USER_FORMAT PASSWORD`: opens
//!   CONNECTIONS sessions in IDLE on INBOX, prints `READY n`, holds them
//!   until stdin closes.
//! - `imap_load idlewake IMAP_ADDR LMTP_ADDR USER PASSWORD COUNT`: one
//!   session IDLEs on USER's INBOX at IMAP_ADDR while COUNT messages are
//!   delivered to USER over LMTP at LMTP_ADDR, one at a time; prints the
//!   wake-up latency (from the LMTP acknowledgement of a message to its
//!   `* n EXISTS`) as p50/p99/max ms.
//! - `imap_load fetchall ADDR USER PASSWORD`: one `UID FETCH 1:* (UID
//!   FLAGS)`; prints lines received and seconds.
//! - `imap_load fill-store CONFIG_DIR STORE_DIR COUNT PARALLEL`: inserts
//!   COUNT tiny messages into the store's inbox straight through
//!   groxide-exmdb, PARALLEL at once: the fast way to a huge folder.
//!
//! USER_FORMAT has `{}` for the user number (1-based). MBOX is an mbox file
//! (e.g. from /work/shared/peers/gen_mbox.py); its messages are sent with
//! CRLF line ends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The commands the mixed round times, in report order.
const NAMES: [&str; 11] = [
    "LOGIN",
    "SELECT",
    "LIST",
    "STATUS",
    "FETCH",
    "FETCH_BODY",
    "STORE",
    "STORE_DELETED",
    "EXPUNGE",
    "APPEND",
    "LOGOUT",
];
const LOGIN: usize = 0;
const SELECT: usize = 1;
const LIST: usize = 2;
const STATUS: usize = 3;
const FETCH: usize = 4;
const FETCH_BODY: usize = 5;
const STORE: usize = 6;
const STORE_DELETED: usize = 7;
const EXPUNGE: usize = 8;
const APPEND: usize = 9;
const LOGOUT: usize = 10;

/// The messages of an mbox file, with CRLF line ends.
fn read_mbox(path: &str) -> Vec<Vec<u8>> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut started = false;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b"From ") {
            if started && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            started = true;
            continue;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        // mboxrd quoting of "From " lines in bodies.
        let body = if body.starts_with(b">From ") {
            &body[1..]
        } else {
            body
        };
        cur.extend_from_slice(body);
        cur.extend_from_slice(b"\r\n");
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    assert!(!out.is_empty(), "{path} holds no message");
    out
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    No,
    Bad,
}

/// One IMAP connection with one reusable read buffer.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    tag: u32,
    out: Vec<u8>,
    /// The parts of one logical response line outside its literals, when
    /// UIDs are being collected.
    scratch: Vec<u8>,
}

fn eof() -> std::io::Error {
    std::io::ErrorKind::UnexpectedEof.into()
}

/// The size of a literal announced at the end of `line` (`{n}` or `{n+}`).
fn literal_size(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|b| *b == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The number after `UID ` in a FETCH response line.
fn uid_in(line: &[u8]) -> Option<u32> {
    let at = memfind(line, b"UID ")?;
    let rest = &line[at + 4..];
    let end = rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    async fn connect(addr: &str) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let mut c = Conn {
            s,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            tag: 0,
            out: Vec::with_capacity(256),
            scratch: Vec::new(),
        };
        let (start, end) = c.line().await?;
        if !c.buf[start..end].starts_with(b"* OK") {
            return Err(std::io::Error::other(
                String::from_utf8_lossy(&c.buf[start..end]).into_owned(),
            ));
        }
        Ok(c)
    }

    /// Reads more bytes into the buffer (moving unread bytes to its front).
    async fn fill(&mut self) -> std::io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.len == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self.s.read(&mut self.buf[self.len..]).await?;
        if n == 0 {
            return Err(eof());
        }
        self.len += n;
        Ok(())
    }

    /// The next line (without CRLF) as a range of the buffer, consumed.
    async fn line(&mut self) -> std::io::Result<(usize, usize)> {
        loop {
            if let Some(i) = memchr(&self.buf[self.pos..self.len], b'\n') {
                let start = self.pos;
                let mut end = start + i;
                self.pos = end + 1;
                if end > start && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                return Ok((start, end));
            }
            self.fill().await?;
        }
    }

    /// Skips `n` bytes of a literal.
    async fn skip(&mut self, mut n: usize) -> std::io::Result<()> {
        loop {
            let have = self.len - self.pos;
            if have >= n {
                self.pos += n;
                return Ok(());
            }
            n -= have;
            self.pos = self.len;
            self.fill().await?;
        }
    }

    /// Starts a command: `tag SP` in the output buffer.
    fn begin(&mut self) {
        self.tag += 1;
        self.out.clear();
        let _ = write!(self.out, "t{} ", self.tag);
    }

    /// Sends the output buffer plus CRLF and reads the response.
    async fn send(&mut self, uids: Option<&mut Vec<u32>>) -> std::io::Result<Status> {
        self.out.extend_from_slice(b"\r\n");
        self.s.write_all(&self.out).await?;
        self.response(uids).await
    }

    /// A whole command from text.
    async fn command(&mut self, text: &[u8]) -> std::io::Result<Status> {
        self.begin();
        self.out.extend_from_slice(text);
        self.send(None).await
    }

    /// Reads untagged lines until this command's tagged line; collects the
    /// UIDs of FETCH responses into `uids` when given.
    async fn response(&mut self, mut uids: Option<&mut Vec<u32>>) -> std::io::Result<Status> {
        let mut tag = [0u8; 16];
        let tag_len = {
            let mut w = &mut tag[..];
            let _ = write!(w, "t{} ", self.tag);
            16 - w.len()
        };
        let mut continued = false;
        loop {
            let (start, end) = self.line().await?;
            let lit = literal_size(&self.buf[start..end]);
            if let Some(u) = uids.as_deref_mut() {
                if !continued {
                    self.scratch.clear();
                }
                if continued || self.buf[start..end].starts_with(b"* ") {
                    let part = &self.buf[start..end];
                    self.scratch.extend_from_slice(part);
                    if lit.is_none()
                        && let Some(uid) = uid_in(&self.scratch)
                    {
                        u.push(uid);
                    }
                }
            }
            if let Some(n) = lit {
                self.skip(n).await?;
                continued = true;
                continue;
            }
            let is_tagged = !continued && self.buf[start..end].starts_with(&tag[..tag_len]);
            continued = false;
            if is_tagged {
                let rest = &self.buf[start + tag_len..end];
                if !rest.starts_with(b"OK") {
                    report_failure(&format!(
                        "{} -> {}",
                        String::from_utf8_lossy(&self.out[..self.out.len().min(80)]).trim_end(),
                        String::from_utf8_lossy(rest)
                    ));
                }
                return Ok(if rest.starts_with(b"OK") {
                    Status::Ok
                } else if rest.starts_with(b"NO") {
                    Status::No
                } else {
                    Status::Bad
                });
            }
        }
    }

    /// APPEND with a non-synchronising literal (both servers offer LITERAL+).
    async fn append(&mut self, mailbox: &str, data: &[u8]) -> std::io::Result<Status> {
        self.begin();
        let _ = write!(self.out, "APPEND {mailbox} {{{}+}}\r\n", data.len());
        self.s.write_all(&self.out).await?;
        self.s.write_all(data).await?;
        self.s.write_all(b"\r\n").await?;
        self.response(None).await
    }

    async fn login(&mut self, user: &str, password: &str) -> std::io::Result<Status> {
        self.begin();
        let _ = write!(self.out, "LOGIN \"{user}\" \"{password}\"");
        self.send(None).await
    }
}

/// Prints the first few failures to stderr: an error count alone does not
/// say what went wrong.
fn report_failure(what: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SHOWN: AtomicUsize = AtomicUsize::new(0);
    if SHOWN.fetch_add(1, Ordering::Relaxed) < 10 {
        eprintln!("imap_load: {what}");
    }
}

fn memchr(hay: &[u8], b: u8) -> Option<usize> {
    hay.iter().position(|x| *x == b)
}

fn user_name(format: &str, n: usize) -> String {
    format.replace("{}", &n.to_string())
}

/// Latencies (µs) per command and errors, shared by the clients of one
/// thread.
#[derive(Default)]
struct Stats {
    latencies: [Vec<u32>; NAMES.len()],
    errors: u64,
    /// Only commands completed while this is set count.
    counting: bool,
}

type Shared = Rc<RefCell<Stats>>;

fn record(stats: &Shared, which: usize, started: Instant, r: &std::io::Result<Status>) {
    let mut s = stats.borrow_mut();
    if !s.counting {
        return;
    }
    match r {
        Ok(Status::Ok) => s.latencies[which].push(started.elapsed().as_micros() as u32),
        _ => s.errors += 1,
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

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
}

/// What the clients of a run share.
struct Run {
    addr: String,
    password: String,
    churn: bool,
    messages: Rc<Vec<Vec<u8>>>,
    stats: Shared,
    stop: Rc<std::cell::Cell<bool>>,
    warmed: Rc<std::cell::Cell<usize>>,
}

/// One timed command built by `build` into the connection's output buffer.
async fn timed(
    c: &mut Conn,
    stats: &Shared,
    which: usize,
    uids: Option<&mut Vec<u32>>,
    build: impl FnOnce(&mut Vec<u8>),
) -> std::io::Result<Status> {
    let t = Instant::now();
    c.begin();
    build(&mut c.out);
    let r = c.send(uids).await;
    record(stats, which, t, &r);
    r
}

/// One round of the mixed workload on a logged-in connection.
async fn round(
    c: &mut Conn,
    run: &Run,
    rng: &mut Rng,
    uids: &mut Vec<u32>,
    seq: &mut usize,
) -> std::io::Result<()> {
    let st = &run.stats;
    timed(c, st, SELECT, None, |o| {
        o.extend_from_slice(b"SELECT INBOX")
    })
    .await?;
    if rng.percent(50) {
        timed(c, st, LIST, None, |o| o.extend_from_slice(b"LIST \"\" *")).await?;
    }
    if rng.percent(50) {
        timed(c, st, STATUS, None, |o| {
            o.extend_from_slice(b"STATUS INBOX (MESSAGES UNSEEN UIDNEXT)")
        })
        .await?;
    }
    uids.clear();
    timed(c, st, FETCH, Some(uids), |o| {
        o.extend_from_slice(b"UID FETCH 1:* (UID FLAGS ENVELOPE)")
    })
    .await?;
    if !uids.is_empty() {
        if rng.percent(30) {
            timed(c, st, FETCH_BODY, None, |o| {
                o.extend_from_slice(b"UID FETCH 1:* (BODY.PEEK[HEADER] BODY.PEEK[TEXT])")
            })
            .await?;
        } else {
            let u = uids[rng.below(uids.len())];
            timed(c, st, FETCH_BODY, None, |o| {
                let _ = write!(o, "UID FETCH {u} (BODY.PEEK[HEADER] BODY.PEEK[TEXT])");
            })
            .await?;
        }
        if rng.percent(50) {
            let u = uids[rng.below(uids.len())];
            let (sign, flags) = match rng.below(4) {
                0 => ('+', "\\Seen"),
                1 => ('-', "\\Seen"),
                2 => ('+', "\\Flagged \\Answered"),
                _ => ('-', "\\Flagged"),
            };
            timed(c, st, STORE, None, |o| {
                let _ = write!(o, "UID STORE {u} {sign}FLAGS ({flags})");
            })
            .await?;
        }
        let n = uids.len().div_ceil(20);
        timed(c, st, STORE_DELETED, None, |o| {
            o.extend_from_slice(b"UID STORE ");
            for i in 0..n {
                if i > 0 {
                    o.push(b',');
                }
                let _ = write!(o, "{}", uids[rng.below(uids.len())]);
            }
            o.extend_from_slice(b" +FLAGS.SILENT (\\Deleted)");
        })
        .await?;
        timed(c, st, EXPUNGE, None, |o| o.extend_from_slice(b"EXPUNGE")).await?;
    }
    *seq = (*seq + 1) % run.messages.len();
    let t = Instant::now();
    let r = c.append("INBOX", &run.messages[*seq]).await;
    record(st, APPEND, t, &r);
    r.map(|_| ())
}

/// One client of the mixed workload.
async fn mixed_client(run: Rc<Run>, user: String, seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut seq = rng.below(run.messages.len());
    let mut uids = Vec::new();
    let mut conn: Option<Conn> = None;
    let mut first = true;
    while !run.stop.get() {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => {
                let t = Instant::now();
                let opened = async {
                    let mut c = Conn::connect(&run.addr).await?;
                    match c.login(&user, &run.password).await? {
                        Status::Ok => Ok(c),
                        other => Err(std::io::Error::other(format!("LOGIN {other:?}"))),
                    }
                }
                .await;
                match opened {
                    Ok(c) => {
                        record(&run.stats, LOGIN, t, &Ok(Status::Ok));
                        conn.insert(c)
                    }
                    Err(e) => {
                        report_failure(&format!("{user}: connect/LOGIN: {e}"));
                        run.stats.borrow_mut().errors += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                }
            }
        };
        if let Err(e) = round(c, &run, &mut rng, &mut uids, &mut seq).await {
            report_failure(&format!("{user}: connection lost: {e}"));
            run.stats.borrow_mut().errors += 1;
            conn = None;
            continue;
        }
        if run.churn {
            let t = Instant::now();
            let r = c.command(b"LOGOUT").await;
            record(&run.stats, LOGOUT, t, &r);
            conn = None;
        }
        if first {
            first = false;
            run.warmed.set(run.warmed.get() + 1);
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// CPU seconds (user + system) this process has used so far.
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line, in clock ticks (100 per second).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

async fn mixed(args: &[String]) {
    let users: usize = args[1].parse().unwrap();
    let clients: usize = args[2].parse().unwrap();
    let seconds: f64 = args[3].parse().unwrap();
    let format = args[4].clone();
    let run = Rc::new(Run {
        addr: args[0].clone(),
        password: args[5].clone(),
        churn: args[6] == "1",
        messages: Rc::new(read_mbox(&args[7])),
        stats: Rc::default(),
        stop: Rc::default(),
        warmed: Rc::default(),
    });
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut tasks = Vec::new();
            for u in 1..=users {
                for c in 0..clients {
                    tasks.push(tokio::task::spawn_local(mixed_client(
                        run.clone(),
                        user_name(&format, u),
                        (u * 1000 + c) as u64,
                    )));
                }
            }
            // The window opens once every client has logged in and run one round.
            let warm_up = Instant::now();
            while run.warmed.get() < users * clients {
                if warm_up.elapsed() > Duration::from_secs(120) {
                    eprintln!(
                        "imap_load: only {} of {} clients logged in and ran a round within 120 s \
                         (refused logins? check the server's per-user and per-address limits)",
                        run.warmed.get(),
                        users * clients
                    );
                    std::process::exit(1);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // The benchmark samples the servers' CPU time at these two lines.
            let cpu_before = own_cpu_seconds();
            run.stats.borrow_mut().counting = true;
            println!("WINDOW OPEN");
            let _ = std::io::stdout().flush();
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            run.stats.borrow_mut().counting = false;
            let elapsed = started.elapsed().as_secs_f64();
            let cpu = own_cpu_seconds() - cpu_before;
            println!("WINDOW CLOSED");
            let _ = std::io::stdout().flush();
            run.stop.set(true);
            for t in tasks {
                let _ = t.await;
            }
            let stats = run.stats.borrow();
            let mut total = 0usize;
            let mut every: Vec<u32> = Vec::new();
            let mut per = Vec::new();
            for (i, name) in NAMES.iter().enumerate() {
                let mut v = stats.latencies[i].clone();
                if v.is_empty() {
                    continue;
                }
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
                "{{\"commands\": {total}, \"seconds\": {elapsed:.3}, \"rate\": {:.1}, \"p50_ms\": {:.3}, \"p90_ms\": {:.3}, \"p99_ms\": {:.3}, \"errors\": {}, \"generator_cpu_s\": {cpu:.3}, \"per_command\": {{{}}}}}",
                total as f64 / elapsed,
                percentile(&every, 0.5),
                percentile(&every, 0.9),
                percentile(&every, 0.99),
                stats.errors,
                per.join(", ")
            );
        })
        .await;
}

/// `repeat ADDR FORMAT PASSWORD USERS CLIENTS SECONDS COMMAND`: CLIENTS
/// sessions (over USERS users) each SELECT INBOX and send COMMAND over and
/// over; after one warm-up second, SECONDS of measurement. Prints JSON with
/// the rate, latency percentiles, errors and the generator's own CPU, and
/// `WINDOW OPEN`/`WINDOW CLOSED` lines for the caller's CPU samples.
async fn repeat(args: &[String]) {
    let addr = Rc::new(args[0].clone());
    let format = args[1].clone();
    let password = Rc::new(args[2].clone());
    let users: usize = args[3].parse().unwrap();
    let clients: usize = args[4].parse().unwrap();
    let seconds: f64 = args[5].parse().unwrap();
    let command = Rc::new(args[6].clone().into_bytes());
    let stats: Shared = Rc::default();
    let stop: Rc<Cell<bool>> = Rc::default();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut tasks = Vec::new();
            for c in 0..clients {
                let user = user_name(&format, c % users + 1);
                let (addr, password, command, stats, stop) = (
                    addr.clone(),
                    password.clone(),
                    command.clone(),
                    stats.clone(),
                    stop.clone(),
                );
                tasks.push(tokio::task::spawn_local(async move {
                    let run = async {
                        let mut c = Conn::connect(&addr).await?;
                        if c.login(&user, &password).await? != Status::Ok {
                            return Err(std::io::Error::other("LOGIN refused"));
                        }
                        if c.command(b"SELECT INBOX").await? != Status::Ok {
                            return Err(std::io::Error::other("SELECT refused"));
                        }
                        while !stop.get() {
                            let started = Instant::now();
                            let r = c.command(&command).await;
                            record(&stats, 0, started, &r);
                            r?;
                        }
                        let _ = c.command(b"LOGOUT").await;
                        Ok::<(), std::io::Error>(())
                    };
                    if let Err(e) = run.await {
                        eprintln!("{user}: {e}");
                        stats.borrow_mut().errors += 1;
                    }
                }));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            let cpu_before = own_cpu_seconds();
            stats.borrow_mut().counting = true;
            println!("WINDOW OPEN");
            let _ = std::io::stdout().flush();
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            stats.borrow_mut().counting = false;
            let elapsed = started.elapsed().as_secs_f64();
            let cpu = own_cpu_seconds() - cpu_before;
            println!("WINDOW CLOSED");
            let _ = std::io::stdout().flush();
            stop.set(true);
            for t in tasks {
                let _ = t.await;
            }
            let stats = stats.borrow();
            let mut v = stats.latencies[0].clone();
            v.sort_unstable();
            println!(
                "{{\"commands\": {}, \"seconds\": {elapsed:.3}, \"rate\": {:.1}, \"p50_ms\": {:.3}, \"p90_ms\": {:.3}, \"p99_ms\": {:.3}, \"errors\": {}, \"generator_cpu_s\": {cpu:.3}}}",
                v.len(),
                v.len() as f64 / elapsed,
                percentile(&v, 0.5),
                percentile(&v, 0.9),
                percentile(&v, 0.99),
                stats.errors,
            );
        })
        .await;
}

async fn fill(args: &[String]) {
    let addr = args[0].clone();
    let users: usize = args[1].parse().unwrap();
    let format = args[2].clone();
    let password = args[3].clone();
    let count: usize = args[4].parse().unwrap();
    let messages = Rc::new(read_mbox(&args[5]));
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut tasks = Vec::new();
            let per_task = users.div_ceil(8);
            for chunk in (1..=users).collect::<Vec<_>>().chunks(per_task) {
                let (addr, format, password, chunk, messages) = (
                    addr.clone(),
                    format.clone(),
                    password.clone(),
                    chunk.to_vec(),
                    messages.clone(),
                );
                tasks.push(tokio::task::spawn_local(async move {
                    for u in chunk {
                        let mut c = Conn::connect(&addr).await.unwrap();
                        let user = user_name(&format, u);
                        assert_eq!(c.login(&user, &password).await.unwrap(), Status::Ok);
                        for i in 0..count {
                            let m = &messages[(u * 7919 + i) % messages.len()];
                            let s = c.append("INBOX", m).await.unwrap();
                            assert_eq!(s, Status::Ok, "APPEND failed for {user}");
                        }
                        let _ = c.command(b"LOGOUT").await;
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        })
        .await;
    println!("{{\"filled\": {}}}", users * count);
}

async fn idle(args: &[String]) {
    let addr = args[0].clone();
    let connections: usize = args[1].parse().unwrap();
    let users: usize = args[2].parse().unwrap();
    let format = args[3].clone();
    let password = args[4].clone();
    let mut held = Vec::with_capacity(connections);
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut opening = Vec::new();
            for i in 0..connections {
                let (addr, user, password) = (
                    addr.clone(),
                    user_name(&format, i % users + 1),
                    password.clone(),
                );
                opening.push(tokio::task::spawn_local(async move {
                    let mut c = Conn::connect(&addr).await?;
                    if c.login(&user, &password).await? != Status::Ok {
                        return Err(std::io::Error::other("LOGIN refused"));
                    }
                    if c.command(b"SELECT INBOX").await? != Status::Ok {
                        return Err(std::io::Error::other("SELECT refused"));
                    }
                    c.s.write_all(b"i IDLE\r\n").await?;
                    let (s, e) = c.line().await?;
                    if !c.buf[s..e].starts_with(b"+") {
                        return Err(std::io::Error::other("IDLE refused"));
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
        })
        .await;
    println!("READY {}", held.len());
    let _ = tokio::task::spawn_blocking(|| {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest)
    })
    .await;
    drop(held);
}

/// The last line of an LMTP/SMTP reply (continuation lines skipped).
async fn lmtp_reply(c: &mut Conn) -> std::io::Result<String> {
    loop {
        let (s, e) = c.line().await?;
        let l = &c.buf[s..e];
        if l.len() < 4 || l[3] != b'-' {
            return Ok(String::from_utf8_lossy(l).into_owned());
        }
    }
}

async fn idlewake(args: &[String]) {
    let (imap, lmtp, user, password) = (&args[0], &args[1], &args[2], &args[3]);
    let count: usize = args[4].parse().unwrap();
    let mut idler = Conn::connect(imap).await.unwrap();
    assert_eq!(idler.login(user, password).await.unwrap(), Status::Ok);
    assert_eq!(idler.command(b"SELECT INBOX").await.unwrap(), Status::Ok);
    idler.s.write_all(b"i IDLE\r\n").await.unwrap();
    let (s, e) = idler.line().await.unwrap();
    assert!(idler.buf[s..e].starts_with(b"+"), "IDLE refused");
    // LMTP: Conn's line reader works for any CRLF protocol; the greeting
    // is not "* OK", so it is read here.
    let stream = TcpStream::connect(lmtp).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut l = Conn {
        s: stream,
        buf: vec![0; 4096],
        pos: 0,
        len: 0,
        tag: 0,
        out: Vec::new(),
        scratch: Vec::new(),
    };
    assert!(lmtp_reply(&mut l).await.unwrap().starts_with("220"));
    l.s.write_all(b"LHLO bench\r\n").await.unwrap();
    assert!(lmtp_reply(&mut l).await.unwrap().starts_with("250"));
    let mut waits = Vec::with_capacity(count);
    for i in 0..count {
        let msg = format!("MAIL FROM:<wake@bench.test>\r\nRCPT TO:<{user}>\r\nDATA\r\n");
        l.s.write_all(msg.as_bytes()).await.unwrap();
        for _ in 0..3 {
            let r = lmtp_reply(&mut l).await.unwrap();
            assert!(r.starts_with('2') || r.starts_with('3'), "LMTP: {r}");
        }
        let body = format!(
            "From: wake@bench.test\r\nTo: {user}\r\nSubject: wake {i}\r\n\r\nwake {i}\r\n.\r\n"
        );
        l.s.write_all(body.as_bytes()).await.unwrap();
        let r = lmtp_reply(&mut l).await.unwrap();
        assert!(r.starts_with("250"), "LMTP DATA: {r}");
        let acked = Instant::now();
        loop {
            let (s, e) = idler.line().await.unwrap();
            if idler.buf[s..e].ends_with(b" EXISTS") {
                break;
            }
        }
        waits.push(acked.elapsed().as_micros() as u32);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    waits.sort_unstable();
    println!(
        "{{\"wakeups\": {count}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"max_ms\": {:.2}}}",
        percentile(&waits, 0.50),
        percentile(&waits, 0.99),
        waits.last().copied().unwrap_or(0) as f64 / 1000.0
    );
}

async fn fetchall(args: &[String]) {
    let mut c = Conn::connect(&args[0]).await.unwrap();
    assert_eq!(c.login(&args[1], &args[2]).await.unwrap(), Status::Ok);
    assert_eq!(c.command(b"SELECT INBOX").await.unwrap(), Status::Ok);
    let t = Instant::now();
    let mut uids = Vec::new();
    c.begin();
    c.out.extend_from_slice(b"UID FETCH 1:* (UID FLAGS)");
    assert_eq!(c.send(Some(&mut uids)).await.unwrap(), Status::Ok);
    println!(
        "{{\"lines\": {}, \"seconds\": {:.3}}}",
        uids.len(),
        t.elapsed().as_secs_f64()
    );
}

async fn fill_store(args: &[String]) {
    use groxide_config::{Config, Imap};
    use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
    use groxide_rpc::pb::exmdb::v1::InsertHeader;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let (cfg, _) = Config::<Imap>::load(std::path::Path::new(&args[0])).unwrap();
    let dir = args[1].clone();
    let count: u64 = args[2].parse().unwrap();
    let parallel: u64 = args[3].parse().unwrap();
    let routing = groxide_runtime::Routing::load(&cfg, None).unwrap();
    let opts = groxide_runtime::client_options(&cfg, routing.node()).unwrap();
    let client = Arc::new(ExmdbClient::new(routing.exmdb().clone(), opts));
    let next = Arc::new(AtomicU64::new(0));
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
                let raw = format!(
                    "From: a@bench.test\r\nTo: big@bench.test\r\nSubject: m {i}\r\n\
                     Message-ID: <{i}@big>\r\n\r\nbody {i}\r\n"
                )
                .into_bytes();
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        eprintln!("usage: imap_load mixed|fill|repeat|idle|fetchall|fill-store ...");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        match mode.as_str() {
            "mixed" => mixed(rest).await,
            "fill" => fill(rest).await,
            "repeat" => repeat(rest).await,
            "idle" => idle(rest).await,
            "fetchall" => fetchall(rest).await,
            "idlewake" => idlewake(rest).await,
            "fill-store" => fill_store(rest).await,
            other => {
                eprintln!("unknown mode {other}");
                std::process::exit(2);
            }
        }
    });
}
