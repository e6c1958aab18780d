//! `cargo xtask bench dav [--events N] [--clients C] [--propfinds R]
//! [--multigets R] [--syncs R] [--debug]`: CalDAV of groxide-http (with
//! groxide-event and groxide-exmdb, release build) side by side with
//! Radicale (PyPI, its file storage) in one run, over plain HTTP on
//! 127.0.0.1, one load generator (crates/dav/examples/dav_load.rs, release;
//! C client threads, default 16):
//!
//! - PUT of N new events (default 2,000; 20 % weekly series), names chosen
//!   by the client, not the UIDs;
//! - PROPFIND Depth 1 (getetag, getcontenttype) of the whole calendar;
//! - calendar-multiget of 100 events with their data;
//! - sync-collection from a token 10 changes old.
//!
//! Per server and operation: requests/s, p50/p99, errors, the **server's
//! CPU milliseconds per request** (groxide: http + exmdb + event; Radicale:
//! its one process), sampled exactly over the generator's measuring window,
//! and the generator's own CPU per request; then groxide's rate as a
//! multiple of Radicale's. The servers alternate which goes first.
//!
//! The groxide node is configured by `bench_groupware::start_groxide` (the
//! groupware bench's event + exmdb node) plus an `http.cfg` written here:
//! there is no shared node-config helper in `bench_common` yet.

use crate::bench_common::{cpu_seconds, field, free_port, wait_for};
use crate::bench_groupware::{start_groxide, start_radicale};
use crate::proc::Supervisor;
use crate::{cargo, target_dir, workspace_root};
use anyhow::{Context as _, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

struct Options {
    events: usize,
    clients: usize,
    propfinds: usize,
    multigets: usize,
    syncs: usize,
    debug: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        events: 2_000,
        clients: 16,
        propfinds: 40,
        multigets: 200,
        syncs: 400,
        debug: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || -> Result<usize> {
            it.next()
                .context("a value is missing")?
                .parse()
                .context("a number")
        };
        match a.as_str() {
            "--events" => o.events = value()?,
            "--clients" => o.clients = value()?,
            "--propfinds" => o.propfinds = value()?,
            "--multigets" => o.multigets = value()?,
            "--syncs" => o.syncs = value()?,
            "--debug" => o.debug = true,
            other => bail!("bench dav: unknown argument {other}"),
        }
    }
    Ok(o)
}

/// What one phase measured on one server.
#[derive(Debug, Clone, Copy)]
struct Figures {
    rate: f64,
    p50: f64,
    p99: f64,
    errors: f64,
    server_cpu_ms: f64,
    generator_cpu_ms: f64,
}

/// One server under test.
struct Server {
    name: &'static str,
    addr: String,
    collection: String,
    user: &'static str,
    /// CPU seconds of its processes so far.
    cpu: Box<dyn Fn() -> f64>,
}

fn phase(
    generator: &Path,
    s: &Server,
    name: &str,
    clients: usize,
    count: usize,
    events: usize,
) -> Result<Figures> {
    let mut child = Command::new(generator)
        .args([
            name,
            &s.addr,
            &s.collection,
            s.user,
            "pass",
            &clients.to_string(),
            &count.to_string(),
            &events.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting dav_load")?;
    let stdout = child.stdout.take().context("dav_load stdout")?;
    let (mut before, mut after, mut json) = (f64::NAN, f64::NAN, String::new());
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        match line.as_str() {
            "WINDOW OPEN" => before = (s.cpu)(),
            "WINDOW CLOSED" => after = (s.cpu)(),
            _ => json = line,
        }
    }
    let st = child.wait()?;
    if !st.success() || after.is_nan() {
        bail!("dav_load {name} against {} failed ({st}): {json}", s.name);
    }
    let n = field(&json, "requests").max(1.0);
    Ok(Figures {
        rate: field(&json, "rate"),
        p50: field(&json, "p50_ms"),
        p99: field(&json, "p99_ms"),
        errors: field(&json, "errors"),
        server_cpu_ms: (after - before) * 1000.0 / n,
        generator_cpu_ms: field(&json, "generator_cpu_s") * 1000.0 / n,
    })
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let profile = if o.debug { "debug" } else { "release" };
    let mut c = cargo();
    c.arg("build");
    if !o.debug {
        c.arg("--release");
    }
    let st = c
        .args(["--bins", "-p", "groxide-event", "-p", "groxide-exmdb"])
        .args(["-p", "groxide-admin", "-p", "groxide-http"])
        .args(["-p", "groxide-dav", "--example", "dav_load"])
        .status()
        .context("running cargo build")?;
    if !st.success() {
        bail!("cargo build failed");
    }
    let bin = target_dir().join(profile);
    let generator = bin.join("examples/dav_load");
    let root = workspace_root().join("var/bench/dav");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;

    let mut sup = Supervisor::default();
    let result = (|| -> Result<()> {
        let cfg = start_groxide(&mut sup, &root, &bin)?;
        let http = free_port()?;
        // Plain HTTP from 127.0.0.1 as from a TLS-terminating proxy, as
        // Radicale is measured without TLS too.
        std::fs::write(
            cfg.join("http.cfg"),
            format!(
                "http_listen = 127.0.0.1:{http}\nhttp_listen_tls =\n\
                 http_trusted_proxies = 127.0.0.1\n"
            ),
        )?;
        let mut c = Command::new(bin.join("groxide-http"));
        c.arg("--config-dir").arg(&cfg);
        sup.spawn("http", c)?;
        wait_for(format!("127.0.0.1:{http}").parse()?, "groxide-http")?;
        let base = start_radicale(&mut sup, &root)?;
        let radicale_addr = base.trim_start_matches("http://").to_string();
        // Radicale makes a user's principal collection at the user's first
        // request; the calendar goes below it.
        Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-u",
                "bench:pass",
                "-X",
                "PROPFIND",
            ])
            .args(["-H", "Depth: 0"])
            .arg(format!("{base}/bench/"))
            .status()
            .context("curl PROPFIND")?;
        let mk = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-u",
                "bench:pass",
            ])
            .args(["-X", "MKCALENDAR"])
            .arg(format!("{base}/bench/calendar/"))
            .output()
            .context("curl MKCALENDAR")?;
        let code = String::from_utf8_lossy(&mk.stdout).to_string();
        if !code.starts_with('2') {
            bail!("Radicale refused MKCALENDAR: {code}");
        }
        let pids = |names: &[&str]| -> Vec<u32> {
            names.iter().filter_map(|n| sup.pid(n)).collect::<Vec<_>>()
        };
        let gpids = pids(&["http", "exmdb", "event"]);
        let rpids = pids(&["radicale"]);
        let servers = [
            Server {
                name: "groxide",
                addr: format!("127.0.0.1:{http}"),
                collection: "/dav/calendars/bench@bench.test/calendar/".into(),
                user: "bench@bench.test",
                cpu: Box::new(move || gpids.iter().map(|p| cpu_seconds(*p, false)).sum()),
            },
            Server {
                name: "radicale",
                addr: radicale_addr,
                collection: "/bench/calendar/".into(),
                user: "bench",
                cpu: Box::new(move || rpids.iter().map(|p| cpu_seconds(*p, false)).sum()),
            },
        ];
        let phases = [
            ("put", o.events, "PUT of a new event"),
            ("propfind", o.propfinds, "PROPFIND Depth 1 of the calendar"),
            ("multiget", o.multigets, "calendar-multiget of 100 events"),
            ("sync", o.syncs, "sync-collection, token 10 changes old"),
        ];
        println!(
            "dav bench: {} events ({} series), {} clients, {profile} build",
            o.events,
            o.events / 5,
            o.clients
        );
        let mut rows = Vec::new();
        for (k, (ph, count, what)) in phases.iter().enumerate() {
            let order: [usize; 2] = if k % 2 == 0 { [0, 1] } else { [1, 0] };
            let mut figs = [None, None];
            for i in order {
                figs[i] = Some(phase(
                    &generator,
                    &servers[i],
                    ph,
                    o.clients,
                    *count,
                    o.events,
                )?);
            }
            let (g, r) = (figs[0].context("groxide")?, figs[1].context("radicale")?);
            for (s, f) in [("groxide", g), ("radicale", r)] {
                println!(
                    "{what:<40} {s:<9} {:>9.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {:>3}  server CPU {:>7.3} ms/req  generator CPU {:>6.3} ms/req",
                    f.rate, f.p50, f.p99, f.errors, f.server_cpu_ms, f.generator_cpu_ms
                );
            }
            rows.push((*what, g.rate / r.rate, r.server_cpu_ms / g.server_cpu_ms));
        }
        println!("groxide ÷ radicale:");
        for (what, rate, cpu) in rows {
            println!("  {what:<40} rate ×{rate:.2}, server CPU per request ÷{cpu:.2}");
        }
        Ok(())
    })();
    sup.stop_all(Duration::from_secs(5));
    result
}
