//! LMTP load generator for `cargo xtask bench delivery`: N connections, each
//! delivering messages of one size to users 1..U in turn for a fixed time;
//! prints one JSON line with deliveries/s and latency percentiles. The same
//! program drives groxide-delivery and Dovecot's LMTP.
//!
//! usage: lmtp_load ADDR CONNECTIONS SIZE_BYTES SECONDS USERS DOMAIN [WARMUP_SECONDS]
//! Recipients are user1@DOMAIN … userU@DOMAIN.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use groxide_submit::{Envelope, SubmitOptions, Submitter, TrustRoots};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A deterministic text message of exactly `size` bytes, unique by `seq`.
fn message(size: usize, seq: u64, conn: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Load Generator <load@bench.test>\r\nTo: bench@bench.test\r\n\
         Subject: benchmark message {conn}-{seq}\r\n\
         Message-ID: <{conn}.{seq}@bench.test>\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    .into_bytes();
    let line =
        b"The quick brown fox jumps over the lazy dog; pack my box with five dozen jugs.\r\n";
    while m.len() + line.len() <= size {
        m.extend_from_slice(line);
    }
    while m.len() + 2 < size {
        m.push(b'x');
    }
    m.extend_from_slice(b"\r\n");
    m
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 7 {
        eprintln!("usage: lmtp_load ADDR CONNECTIONS SIZE SECONDS USERS DOMAIN [WARMUP]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let connections: usize = args[2].parse().unwrap();
    let size: usize = args[3].parse().unwrap();
    let seconds: f64 = args[4].parse().unwrap();
    let users: u64 = args[5].parse().unwrap();
    let domain = args[6].clone();
    let warmup: f64 = args.get(7).map(|w| w.parse().unwrap()).unwrap_or(1.0);

    let submitter = Arc::new(
        Submitter::new(
            &format!("lmtp://{addr}"),
            SubmitOptions {
                helo_name: "loadgen.bench.test".into(),
                trust: TrustRoots::Certificates(Vec::new()),
                ..SubmitOptions::default()
            },
        )
        .unwrap(),
    );
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let next_user = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (submitter, measuring, stop, errors, next_user, domain) = (
            submitter.clone(),
            measuring.clone(),
            stop.clone(),
            errors.clone(),
            next_user.clone(),
            domain.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut conn = submitter.connect().await.expect("connect");
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                seq += 1;
                let user = next_user.fetch_add(1, Ordering::Relaxed) % users + 1;
                let envelope = Envelope {
                    from: "load@bench.test".into(),
                    recipients: vec![format!("user{user}@{domain}")],
                };
                let body = message(size, seq, c);
                let started = Instant::now();
                let result = conn
                    .send(&envelope, body.as_slice(), Some(body.len() as u64))
                    .await;
                let took = started.elapsed();
                let ok = matches!(&result, Ok(r) if r.all_accepted());
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = &result {
                        eprintln!("lmtp_load: {e}");
                        conn = submitter.connect().await.expect("reconnect");
                    } else if let Ok(r) = &result {
                        eprintln!("lmtp_load: {:?}", r.recipients);
                    }
                }
                if ok && measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                    latencies.push(took);
                }
            }
            conn.quit().await;
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    println!(
        "{{\"deliveries\": {}, \"seconds\": {:.3}, \"rate\": {:.1}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"errors\": {}}}",
        all.len(),
        elapsed,
        all.len() as f64 / elapsed,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        errors.load(Ordering::Relaxed)
    );
}
