//! `cargo xtask bench ews [--messages N] [--clients C] [--seconds S]
//! [--runs R] [--only LINE,…] [--item-cache SIZE]`: EWS of groxide-http against the same mailbox read through
//! groxide-imap, in one run on one node (event, exmdb, midb, http, imap;
//! release build), with one load generator (crates/ews/examples/ews_load.rs,
//! release; C client threads, default 16; blocking sockets and reused
//! buffers, its own CPU reported).
//!
//! The inbox gets N messages of about 3 KB (default 10,000) by EWS
//! CreateItem; then each line runs an EWS phase and its IMAP counterpart,
//! R times (default 3 × 10 s) alternating which goes first:
//!
//! | line | EWS (exchangelib's shapes) | IMAP |
//! |---|---|---|
//! | sync | SyncFolderItems from scratch, MaxChangesReturned 100, IdOnly + 6 properties | `UID FETCH` of 100 (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE) |
//! | find | FindItem, IndexedPageItemView of 100, the same properties | the same `UID FETCH` |
//! | mime | GetItem of 100 items with MimeContent | `UID FETCH` of 100 `BODY.PEEK[]` |
//! | create | CreateItem (SaveOnly, MimeContent) of a 30 KB message | APPEND of it |
//!
//! Reported per phase: requests/s, items/s, p50/p99, errors, the **server
//! CPU per request and per item** (every groxide daemon, sampled exactly
//! over the generator's window), the generator's CPU per request; medians
//! of the R runs. Then EWS CPU per item ÷ IMAP CPU per item for each line
//! (the target: ≤ 2), and where the EWS CPU went (by daemon, in
//! the run of median total).
//!
//! For the listing phases, the share of items groxide-http copied from its
//! item cache in the window is printed under the EWS row (from its
//! metrics).
//!
//! `--item-cache SIZE` sets groxide-http's `ews_item_cache_size` (default
//! 64M; `0` writes every item afresh from the store, as a first sync of
//! messages no listing has shown yet).

use crate::bench_common::{
    BenchBackends, build_release, cpu_seconds, field, free_port, median, start_bench_node,
};
use crate::proc::Supervisor;
use crate::workspace_root;
use anyhow::{Context as _, Result, bail};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "bench@bench.test";
const PASSWORD: &str = "pass";
/// The daemons whose CPU counts as the server's.
const DAEMONS: [&str; 5] = ["http", "imap", "exmdb", "midb", "event"];

struct Options {
    messages: usize,
    clients: usize,
    seconds: f64,
    runs: usize,
    /// The lines to run (all when empty).
    only: Vec<String>,
    /// groxide-http's `ews_item_cache_size` (its default when `None`).
    item_cache: Option<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        messages: 10_000,
        clients: 16,
        seconds: 10.0,
        runs: 3,
        only: Vec::new(),
        item_cache: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("a value is missing");
        match a.as_str() {
            "--messages" => o.messages = value()?.parse().context("a number")?,
            "--clients" => o.clients = value()?.parse().context("a number")?,
            "--seconds" => o.seconds = value()?.parse().context("a number")?,
            "--runs" => o.runs = value()?.parse().context("a number")?,
            "--only" => {
                o.only = value()?.split(',').map(str::to_string).collect();
                if let Some(bad) = o.only.iter().find(|l| !LINES.iter().any(|x| x.0 == *l)) {
                    bail!("bench ews: no line {bad} (lines: sync, find, mime, create)");
                }
            }
            "--item-cache" => o.item_cache = Some(value()?.clone()),
            other => bail!("bench ews: unknown argument {other}"),
        }
    }
    if o.messages < 100 || o.clients == 0 || o.runs == 0 {
        bail!("bench ews: at least 100 messages, one client and one run");
    }
    Ok(o)
}

/// The lines: (name, EWS phase, IMAP phase of the generator).
const LINES: [(&str, &str, &str); 4] = [
    ("sync", "sync", "imap-sync"),
    ("find", "find", "imap-sync"),
    ("mime", "getmime", "imap-body"),
    ("create", "create", "imap-append"),
];

/// What one run of a phase measured.
#[derive(Debug, Clone, Default)]
struct Figures {
    rate: f64,
    items_rate: f64,
    p50: f64,
    p99: f64,
    errors: f64,
    /// Server CPU ms per request and per item (all daemons).
    cpu_per_request: f64,
    cpu_per_item: f64,
    generator_per_request: f64,
    /// Server CPU seconds of the window, by daemon.
    by_daemon: Vec<(&'static str, f64)>,
    /// Share of listed items groxide-http copied from its item cache in
    /// the window (EWS listing phases only).
    cache_hits: Option<f64>,
}

struct Target<'a> {
    generator: &'a Path,
    http: String,
    imap: String,
    clients: usize,
    seconds: f64,
    messages: usize,
    cpu: &'a dyn Fn() -> Vec<(&'static str, f64)>,
    /// groxide-http's metrics listener.
    metrics: SocketAddr,
}

/// groxide-http's item cache counters: (hits, misses).
fn cache_counters(metrics: SocketAddr) -> Option<(f64, f64)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&metrics, Duration::from_secs(2)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: m\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let value = |name: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })
    };
    Some((
        value("groxide_http_ews_item_cache_hits_total")?,
        value("groxide_http_ews_item_cache_misses_total")?,
    ))
}

fn run_phase(t: &Target<'_>, phase: &str) -> Result<Figures> {
    let addr = if phase.starts_with("imap") {
        &t.imap
    } else {
        &t.http
    };
    let mut child = Command::new(t.generator)
        .args([
            phase,
            addr,
            USER,
            PASSWORD,
            &t.clients.to_string(),
            &t.seconds.to_string(),
            &t.messages.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting ews_load")?;
    let stdout = child.stdout.take().context("ews_load stdout")?;
    let (mut before, mut after, mut json) = (None, None, String::new());
    let (mut cache_before, mut cache_after) = (None, None);
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        match line.as_str() {
            "WINDOW OPEN" => {
                before = Some((t.cpu)());
                cache_before = cache_counters(t.metrics);
            }
            "WINDOW CLOSED" => {
                after = Some((t.cpu)());
                cache_after = cache_counters(t.metrics);
            }
            _ => json = line,
        }
    }
    let cache_hits = match (cache_before, cache_after) {
        (Some((h0, m0)), Some((h1, m1))) if (h1 - h0) + (m1 - m0) > 0.0 => {
            Some((h1 - h0) / ((h1 - h0) + (m1 - m0)))
        }
        _ => None,
    };
    let st = child.wait()?;
    let (Some(before), Some(after)) = (before, after) else {
        bail!("ews_load {phase} failed ({st}): {json}");
    };
    if !st.success() {
        bail!("ews_load {phase} failed ({st}): {json}");
    }
    let by_daemon: Vec<(&'static str, f64)> = after
        .iter()
        .zip(&before)
        .map(|((n, a), (_, b))| (*n, a - b))
        .collect();
    let total: f64 = by_daemon.iter().map(|(_, s)| s).sum();
    let requests = field(&json, "requests").max(1.0);
    let items = field(&json, "items").max(1.0);
    Ok(Figures {
        rate: field(&json, "rate"),
        items_rate: field(&json, "items_rate"),
        p50: field(&json, "p50_ms"),
        p99: field(&json, "p99_ms"),
        errors: field(&json, "errors"),
        cpu_per_request: total * 1000.0 / requests,
        cpu_per_item: total * 1000.0 / items,
        generator_per_request: field(&json, "generator_cpu_s") * 1000.0 / requests,
        by_daemon,
        cache_hits,
    })
}

/// Medians of each figure over the runs; the daemon breakdown of the run
/// whose CPU per item is the median.
fn medians(runs: &[Figures]) -> Figures {
    let m = |f: fn(&Figures) -> f64| median(runs.iter().map(f).collect());
    let cpu_per_item = m(|f| f.cpu_per_item);
    let by_daemon = runs
        .iter()
        .find(|f| f.cpu_per_item == cpu_per_item)
        .map(|f| f.by_daemon.clone())
        .unwrap_or_default();
    Figures {
        rate: m(|f| f.rate),
        items_rate: m(|f| f.items_rate),
        p50: m(|f| f.p50),
        p99: m(|f| f.p99),
        errors: m(|f| f.errors),
        cpu_per_request: m(|f| f.cpu_per_request),
        cpu_per_item,
        generator_per_request: m(|f| f.generator_per_request),
        by_daemon,
        cache_hits: {
            let shares: Vec<f64> = runs.iter().filter_map(|f| f.cache_hits).collect();
            (!shares.is_empty()).then(|| median(shares))
        },
    }
}

fn print_row(line: &str, phase: &str, f: &Figures) {
    println!(
        "{line:<7} {phase:<12} {:>8.1} req/s {:>9.0} items/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {:>3}  \
         server CPU {:>7.3} ms/req {:>7.4} ms/item  generator CPU {:>6.3} ms/req",
        f.rate,
        f.items_rate,
        f.p50,
        f.p99,
        f.errors,
        f.cpu_per_request,
        f.cpu_per_item,
        f.generator_per_request
    );
    if let Some(h) = f.cache_hits {
        println!(
            "{:<20} items copied from groxide-http's item cache: {:.1} %",
            "",
            h * 100.0
        );
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let bin = build_release()?;
    let generator = bin.join("examples/ews_load");
    let root = workspace_root().join("var/bench/ews");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;

    let mut sup = Supervisor::default();
    let result = (|| -> Result<()> {
        let node = start_bench_node(&mut sup, &root, &bin, BenchBackends::WithMidb, "")?;
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        let imap: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        // Plain HTTP from 127.0.0.1 as from a TLS-terminating proxy; IMAP
        // without TLS too, so neither side pays for encryption.
        node.write_config(
            "http.cfg",
            format!(
                "http_listen = {http}\nhttp_listen_tls =\nhttp_trusted_proxies = 127.0.0.1\n\
                 http_metrics_listen = {metrics}\n{}",
                o.item_cache
                    .as_ref()
                    .map(|c| format!("ews_item_cache_size = {c}\n"))
                    .unwrap_or_default()
            ),
        )?;
        node.write_config(
            "imap.cfg",
            // The generator's clients all log in as one user from one
            // address: the per-user and per-address limits must let them.
            format!(
                "imap_listen = {imap}\nimap_listen_tls =\n\
                 imap_max_connections_per_ip = 1000\nimap_max_connections_per_user = 1000\n\
                 imap_max_unauth_connections_per_ip = 1000\n"
            ),
        )?;
        node.admin(&["domain", "create", "bench.test"])?;
        node.admin(&["user", "create", USER, "--password", PASSWORD])?;
        node.start(&mut sup, "http", http)?;
        node.start(&mut sup, "imap", imap)?;

        println!(
            "ews bench: {} messages in the inbox, {} clients, {} × {} s per phase, release build, \
             ews_item_cache_size {}",
            o.messages,
            o.clients,
            o.runs,
            o.seconds,
            o.item_cache.as_deref().unwrap_or("64M (default)")
        );
        let t = Instant::now();
        let fill = crate::bench_common::run_ok(
            Command::new(&generator).args([
                "fill",
                &http.to_string(),
                USER,
                PASSWORD,
                &o.clients.to_string(),
                "0",
                &o.messages.to_string(),
            ]),
            "ews_load fill",
        )?;
        println!(
            "filled by EWS CreateItem in {:.1} s: {}",
            t.elapsed().as_secs_f64(),
            fill.trim()
        );

        let pids: Vec<(&'static str, u32)> = DAEMONS
            .iter()
            .filter_map(|n| sup.pid(n).map(|p| (*n, p)))
            .collect();
        let cpu = move || -> Vec<(&'static str, f64)> {
            pids.iter()
                .map(|(n, p)| (*n, cpu_seconds(*p, false)))
                .collect()
        };
        let target = Target {
            generator: &generator,
            http: http.to_string(),
            imap: imap.to_string(),
            clients: o.clients,
            seconds: o.seconds,
            messages: o.messages,
            cpu: &cpu,
            metrics,
        };
        let mut results = Vec::new();
        for &(line, ews, imap_phase) in LINES
            .iter()
            .filter(|l| o.only.is_empty() || o.only.iter().any(|x| x == l.0))
        {
            let (mut e, mut i) = (Vec::new(), Vec::new());
            for run in 0..o.runs {
                if run % 2 == 0 {
                    e.push(run_phase(&target, ews)?);
                    i.push(run_phase(&target, imap_phase)?);
                } else {
                    i.push(run_phase(&target, imap_phase)?);
                    e.push(run_phase(&target, ews)?);
                }
            }
            let (e, i) = (medians(&e), medians(&i));
            print_row(line, ews, &e);
            print_row(line, imap_phase, &i);
            results.push((line, e, i));
        }
        println!("\nEWS CPU per item ÷ IMAP CPU per item (target ≤ 2):");
        for (line, e, i) in &results {
            let split: Vec<String> = e
                .by_daemon
                .iter()
                .filter(|(_, s)| *s > 0.0)
                .map(|(n, s)| {
                    format!(
                        "{n} {:.0} %",
                        s * 100.0 / e.by_daemon.iter().map(|(_, s)| s).sum::<f64>()
                    )
                })
                .collect();
            println!(
                "  {line:<7} {:>6.2}   (EWS CPU by daemon: {})",
                e.cpu_per_item / i.cpu_per_item,
                split.join(", ")
            );
        }
        Ok(())
    })();
    sup.stop_all(Duration::from_secs(5));
    result
}
