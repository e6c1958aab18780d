//! POP3 load generator for `cargo xtask bench pop3`; the same program drives
//! groxide-pop3 and Dovecot's POP3 and prints one JSON line per run.
//!
//! usage:
//!   pop3_load deliver LMTP_ADDR MBOX USERS DOMAIN PER_USER
//!       splits an mbox and delivers PER_USER messages to each of
//!       user1@DOMAIN … userU@DOMAIN over LMTP (the same messages to each);
//!   pop3_load retr POP3_ADDR CONNECTIONS SECONDS USERS LOGIN_SUFFIX
//!       each connection logs in once as one user and RETRs that user's
//!       messages round and round: messages/s and MB/s;
//!   pop3_load login POP3_ADDR CONNECTIONS SECONDS USERS LOGIN_SUFFIX
//!       each connection loops connect, USER, PASS, STAT, QUIT: logins/s;
//!   pop3_load badlogin POP3_ADDR CONNECTIONS 0 0 LOGIN_SUFFIX
//!       CONNECTIONS connections at once each try one login of an unknown
//!       user (nosuch<i><LOGIN_SUFFIX>) and QUIT: every password check
//!       fails (ops = logins refused with -ERR).
//! Logins are user<i><LOGIN_SUFFIX> with password `pass`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const PASSWORD: &str = "pass";

/// One POP3 connection with its own read buffer: replies are found with
/// memchr/memmem in place, never copied line by line, so the generator costs
/// far less than either server.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    at: usize,
    end: memchr::memmem::Finder<'static>,
}

/// Read buffer per connection.
const BUF: usize = 256 * 1024;

impl Conn {
    async fn open(addr: &str) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let mut c = Conn {
            s,
            buf: Vec::with_capacity(BUF),
            at: 0,
            end: memchr::memmem::Finder::new(b"\r\n.\r\n"),
        };
        c.reply().await?;
        Ok(c)
    }

    /// Reads more bytes; drops what was consumed first.
    async fn fill(&mut self) -> std::io::Result<()> {
        if self.at > 0 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        if self.buf.capacity() - self.buf.len() < BUF / 4 {
            self.buf.reserve(BUF);
        }
        if self.s.read_buf(&mut self.buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    async fn reply(&mut self) -> std::io::Result<String> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.at..]) {
                let l = String::from_utf8_lossy(&self.buf[self.at..self.at + i + 1]).into_owned();
                self.at += i + 1;
                return Ok(l);
            }
            self.fill().await?;
        }
    }

    async fn cmd(&mut self, c: &str) -> std::io::Result<String> {
        let mut line = Vec::with_capacity(c.len() + 2);
        line.extend_from_slice(c.as_bytes());
        line.extend_from_slice(b"\r\n");
        self.s.write_all(&line).await?;
        let r = self.reply().await?;
        if !r.starts_with("+OK") {
            return Err(std::io::Error::other(format!("{c}: {r}")));
        }
        Ok(r)
    }

    /// Reads a multi-line body up to its ".CRLF" line; returns its byte
    /// count (every line before the terminator, CRLF included).
    async fn body(&mut self) -> std::io::Result<u64> {
        let mut n = 0u64;
        loop {
            let rest = &self.buf[self.at..];
            if n == 0 && rest.starts_with(b".\r\n") {
                self.at += 3;
                return Ok(0);
            }
            // The terminator is CRLF "." CRLF; a body ends with CRLF.
            if let Some(i) = self.end.find(rest) {
                n += i as u64 + 2;
                self.at += i + 5;
                return Ok(n);
            }
            // Keep the last 4 bytes: a terminator may straddle two reads.
            let keep = rest.len().min(4);
            let done = rest.len() - keep;
            n += done as u64;
            self.at += done;
            self.fill().await?;
        }
    }

    async fn login(&mut self, user: &str) -> std::io::Result<u32> {
        self.cmd(&format!("USER {user}")).await?;
        self.cmd(&format!("PASS {PASSWORD}")).await?;
        let stat = self.cmd("STAT").await?;
        Ok(stat
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }
}

fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            out.push(Vec::new());
            continue;
        }
        if let Some(m) = out.last_mut() {
            // mboxrd-style ">From " quoting is kept as is: the same bytes go to both servers.
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            m.extend_from_slice(body);
            m.extend_from_slice(b"\r\n");
        }
    }
    out
}

async fn lmtp_reply(io: &mut BufReader<TcpStream>) -> String {
    let mut all = String::new();
    loop {
        let mut l = String::new();
        io.read_line(&mut l).await.unwrap();
        all.push_str(&l);
        if l.len() < 4 || l.as_bytes()[3] != b'-' {
            return all;
        }
    }
}

async fn deliver(addr: &str, mbox: &str, users: usize, domain: &str, per_user: usize) {
    let messages = split_mbox(&std::fs::read(mbox).unwrap());
    assert!(!messages.is_empty(), "no messages in {mbox}");
    let s = TcpStream::connect(addr).await.unwrap();
    let mut io = BufReader::new(s);
    lmtp_reply(&mut io).await;
    io.get_mut().write_all(b"LHLO bench\r\n").await.unwrap();
    lmtp_reply(&mut io).await;
    let start = Instant::now();
    let mut bytes = 0u64;
    for u in 1..=users {
        for m in messages.iter().cycle().skip(u).take(per_user) {
            let cmds =
                format!("MAIL FROM:<sender@bench.test>\r\nRCPT TO:<user{u}@{domain}>\r\nDATA\r\n");
            io.get_mut().write_all(cmds.as_bytes()).await.unwrap();
            for _ in 0..3 {
                let r = lmtp_reply(&mut io).await;
                assert!(r.starts_with('2') || r.starts_with('3'), "LMTP: {r}");
            }
            let mut data = Vec::with_capacity(m.len() + 64);
            for line in m.split_inclusive(|&b| b == b'\n') {
                if line.starts_with(b".") {
                    data.push(b'.');
                }
                data.extend_from_slice(line);
            }
            data.extend_from_slice(b".\r\n");
            io.get_mut().write_all(&data).await.unwrap();
            let r = lmtp_reply(&mut io).await;
            assert!(r.starts_with("250"), "LMTP DATA: {r}");
            bytes += m.len() as u64;
        }
    }
    io.get_mut().write_all(b"QUIT\r\n").await.unwrap();
    println!(
        "{{\"mode\": \"deliver\", \"messages\": {}, \"bytes\": {bytes}, \"seconds\": {:.3}}}",
        users * per_user,
        start.elapsed().as_secs_f64()
    );
}

// One thread: the generator must not compete with the servers for the two cores.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: pop3_load deliver LMTP MBOX USERS DOMAIN PER_USER | retr|login POP3 CONNECTIONS SECONDS USERS LOGIN_SUFFIX";
    if args.len() < 7 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let mode = args[1].clone();
    if mode == "deliver" {
        deliver(
            &args[2],
            &args[3],
            args[4].parse().unwrap(),
            &args[5],
            args[6].parse().unwrap(),
        )
        .await;
        return;
    }
    if mode == "badlogin" {
        bad_logins(&args[2], args[3].parse().unwrap(), &args[6]).await;
        return;
    }
    let addr = Arc::new(args[2].clone());
    let connections: usize = args[3].parse().unwrap();
    let seconds: f64 = args[4].parse().unwrap();
    let users: usize = args[5].parse().unwrap();
    let suffix = Arc::new(args.get(6).cloned().unwrap_or_default());
    let ops = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let counting = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (addr, suffix, ops, bytes, errors, stop, counting) = (
            addr.clone(),
            suffix.clone(),
            ops.clone(),
            bytes.clone(),
            errors.clone(),
            stop.clone(),
            counting.clone(),
        );
        let user = format!("user{}{}", c % users + 1, suffix);
        let retr = mode == "retr";
        tasks.push(tokio::spawn(async move {
            let run = async {
                if retr {
                    let mut conn = Conn::open(&addr).await?;
                    let n = conn.login(&user).await?;
                    if n == 0 {
                        return Err(std::io::Error::other(format!("{user} has no messages")));
                    }
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        conn.cmd(&format!("RETR {}", i % n + 1)).await?;
                        let b = conn.body().await?;
                        if counting.load(Ordering::Relaxed) {
                            ops.fetch_add(1, Ordering::Relaxed);
                            bytes.fetch_add(b, Ordering::Relaxed);
                        }
                        i += 1;
                    }
                    conn.cmd("QUIT").await?;
                } else {
                    while !stop.load(Ordering::Relaxed) {
                        let mut conn = Conn::open(&addr).await?;
                        conn.login(&user).await?;
                        conn.cmd("QUIT").await?;
                        if counting.load(Ordering::Relaxed) {
                            ops.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok::<(), std::io::Error>(())
            };
            if let Err(e) = run.await {
                eprintln!("{user}: {e}");
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // One second of warm-up, then the measured window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    counting.store(true, Ordering::Relaxed);
    let start = Instant::now();
    let cpu_before = own_cpu_seconds();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = own_cpu_seconds() - cpu_before;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let n = ops.load(Ordering::Relaxed) as f64;
    let b = bytes.load(Ordering::Relaxed) as f64;
    println!(
        "{{\"mode\": \"{mode}\", \"ops\": {n}, \"rate\": {:.1}, \"mbps\": {:.2}, \"errors\": {}, \"generator_cpu_s\": {cpu:.3}, \"seconds\": {elapsed:.3}}}",
        n / elapsed,
        b / elapsed / 1e6,
        errors.load(Ordering::Relaxed)
    );
}

/// `n` failed logins at once (unknown users: the server still checks a
/// dummy hash, as for any unknown name).
async fn bad_logins(addr: &str, n: usize, suffix: &str) {
    let start = Instant::now();
    let cpu_before = own_cpu_seconds();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (addr, user) = (addr.to_owned(), format!("nosuch{i}{suffix}"));
            tokio::spawn(async move {
                let mut c = Conn::open(&addr).await?;
                c.cmd(&format!("USER {user}")).await?;
                let r = c.cmd(&format!("PASS {PASSWORD}")).await;
                let _ = c.cmd("QUIT").await;
                Ok::<bool, std::io::Error>(r.is_err())
            })
        })
        .collect();
    let (mut refused, mut errors) = (0u64, 0u64);
    for t in tasks {
        match t.await {
            Ok(Ok(true)) => refused += 1,
            _ => errors += 1,
        }
    }
    println!(
        "{{\"mode\": \"badlogin\", \"ops\": {refused}, \"errors\": {errors}, \"generator_cpu_s\": {:.3}, \"seconds\": {:.3}}}",
        own_cpu_seconds() - cpu_before,
        start.elapsed().as_secs_f64()
    );
}

/// CPU seconds (user + system) this process has used so far, from
/// /proc/self/stat (utime and stime, in clock ticks of 1/100 s).
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
