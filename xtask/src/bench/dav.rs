//! `cargo xtask bench dav [--events N] [--contacts N] [--clients C]
//! [--runs R] [--puts R] [--propfinds R] [--multigets R] [--queries R]
//! [--syncs R] [--debug]`: CalDAV of groxide-http (with groxide-event and
//! groxide-exmdb, release build) side by side with Radicale (PyPI, its file
//! storage) in one run, over plain HTTP on 127.0.0.1, one load generator
//! (crates/dav/examples/dav_load.rs, release; C client threads, default 16).
//!
//! Data, the same on both: a calendar of N events (default 10,000; 20 %
//! weekly series) and an address book of N contacts (default 5,000).
//! groxide gets them by PUT (16 clients); Radicale's file storage gets the
//! same objects written as files (its PUT is measured below; filling it
//! that way would take most of the run), and one untimed full sync of each
//! server builds Radicale's item cache before anything is measured.
//!
//! Lines, R runs each (default 3; the servers alternate which goes first):
//! PROPFIND Depth 1 of the calendar (getetag, getcontenttype);
//! calendar-multiget of 100 events with their data; calendar-query of one
//! month (series expanded), getetag; sync-collection from the empty token
//! and from a token 10 changes old (getetag); PUT of a new event.
//!
//! Per server, line and run: requests/s, p50/p99, errors, the **server's
//! CPU milliseconds per request** (groxide: http + exmdb + event; Radicale:
//! its one process), sampled exactly over the generator's measuring window,
//! and the generator's own CPU per request; then the medians over the runs
//! and groxide's rate as a multiple of Radicale's.
//!
//! The groxide node is configured by `bench_groupware::start_groxide` (the
//! groupware bench's event + exmdb node) plus an `http.cfg` written here:
//! there is no shared node-config helper in `bench_common` yet.

use crate::bench_common::{cpu_seconds, field, free_port, wait_for};
use crate::bench_groupware::{start_groxide, start_radicale};
use crate::proc::Supervisor;
use crate::workspace_root;
use anyhow::{Context as _, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

struct Options {
    events: usize,
    contacts: usize,
    clients: usize,
    runs: usize,
    puts: usize,
    propfinds: usize,
    multigets: usize,
    queries: usize,
    syncs: usize,
    debug: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        events: 10_000,
        contacts: 5_000,
        clients: 16,
        runs: 3,
        puts: 400,
        propfinds: 32,
        multigets: 200,
        queries: 32,
        syncs: 200,
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
            "--contacts" => o.contacts = value()?,
            "--clients" => o.clients = value()?,
            "--runs" => o.runs = value()?.max(1),
            "--puts" => o.puts = value()?,
            "--propfinds" => o.propfinds = value()?,
            "--multigets" => o.multigets = value()?,
            "--queries" => o.queries = value()?,
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
    addressbook: String,
    user: &'static str,
    /// CPU seconds of its processes so far.
    cpu: Box<dyn Fn() -> f64>,
}

/// How one load phase runs.
struct Load<'a> {
    phase: &'a str,
    collection: &'a str,
    clients: usize,
    count: usize,
    events: usize,
    first: usize,
}

fn phase(generator: &Path, s: &Server, l: &Load<'_>) -> Result<Figures> {
    let name = l.phase;
    let mut child = Command::new(generator)
        .args([
            name,
            &s.addr,
            l.collection,
            s.user,
            "pass",
            &l.clients.to_string(),
            &l.count.to_string(),
            &l.events.to_string(),
            &l.first.to_string(),
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
    let bin = crate::bench_common::build_all(profile)?;
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
        let mkcol = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-u",
                "bench:pass",
            ])
            .args([
                "-X",
                "MKCOL",
                "-H",
                "Content-Type: application/xml",
                "--data",
            ])
            .arg(
                "<?xml version=\"1.0\"?><D:mkcol xmlns:D=\"DAV:\" \
                 xmlns:CR=\"urn:ietf:params:xml:ns:carddav\"><D:set><D:prop>\
                 <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>\
                 </D:prop></D:set></D:mkcol>",
            )
            .arg(format!("{base}/bench/contacts/"))
            .output()
            .context("curl MKCOL")?;
        let code = String::from_utf8_lossy(&mkcol.stdout).to_string();
        if !code.starts_with('2') {
            bail!("Radicale refused MKCOL of the address book: {code}");
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
                addressbook: "/dav/addressbooks/bench@bench.test/contacts/".into(),
                user: "bench@bench.test",
                cpu: Box::new(move || gpids.iter().map(|p| cpu_seconds(*p, false)).sum()),
            },
            Server {
                name: "radicale",
                addr: radicale_addr,
                collection: "/bench/calendar/".into(),
                addressbook: "/bench/contacts/".into(),
                user: "bench",
                cpu: Box::new(move || rpids.iter().map(|p| cpu_seconds(*p, false)).sum()),
            },
        ];
        let load = |phase, collection, count, first| Load {
            phase,
            collection,
            clients: o.clients,
            count,
            events: o.events,
            first,
        };
        // The data: groxide by PUT, Radicale's storage by files.
        let g = &servers[0];
        let fill = phase(&generator, g, &load("put", &g.collection, o.events, 0))?;
        let cards = phase(&generator, g, &load("cards", &g.addressbook, o.contacts, 0))?;
        println!(
            "filled groxide: {} events at {:.0}/s, {} contacts at {:.0}/s",
            o.events, fill.rate, o.contacts, cards.rate
        );
        let store = root.join("radicale/collections/collection-root/bench");
        for (what, dir, n) in [
            ("files-events", "calendar", o.events),
            ("files-cards", "contacts", o.contacts),
        ] {
            let st = Command::new(&generator)
                .arg(what)
                .args(["-", &store.join(dir).to_string_lossy(), "-", "-", "1"])
                .args([&n.to_string(), &o.events.to_string()])
                .status()
                .context("dav_load files")?;
            if !st.success() {
                bail!("dav_load {what} failed");
            }
        }
        // Untimed: one full sync of each (Radicale builds its item cache).
        for s in &servers {
            phase(&generator, s, &load("sync0", &s.collection, 1, 0))?;
        }
        let lines: [(&str, usize, &str); 6] = [
            ("propfind", o.propfinds, "PROPFIND Depth 1 of the calendar"),
            ("multiget", o.multigets, "calendar-multiget of 100 events"),
            ("query", o.queries, "calendar-query of one month"),
            ("sync0", o.queries, "sync-collection, empty token"),
            ("sync", o.syncs, "sync-collection, token 10 changes old"),
            ("put", o.puts, "PUT of a new event"),
        ];
        println!(
            "dav bench: {} events ({} series), {} contacts, {} clients, {} runs, {profile} build",
            o.events,
            o.events / 5,
            o.contacts,
            o.clients,
            o.runs
        );
        // figures[line][server][run]
        let mut figures = vec![[Vec::new(), Vec::new()]; lines.len()];
        for run in 0..o.runs {
            for (k, (ph, count, what)) in lines.iter().enumerate() {
                let order: [usize; 2] = if (k + run) % 2 == 0 { [0, 1] } else { [1, 0] };
                for i in order {
                    let s = &servers[i];
                    let first = o.events + run * o.puts;
                    let f = phase(&generator, s, &load(ph, &s.collection, *count, first))?;
                    println!(
                        "run {run}  {what:<38} {:<9} {:>9.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {:>3}  server CPU {:>8.3} ms/req  generator CPU {:>6.3} ms/req",
                        s.name, f.rate, f.p50, f.p99, f.errors, f.server_cpu_ms, f.generator_cpu_ms
                    );
                    figures[k][i].push(f);
                }
            }
        }
        let median = |v: &[Figures], f: fn(&Figures) -> f64| -> f64 {
            let mut x: Vec<f64> = v.iter().map(f).collect();
            x.sort_by(f64::total_cmp);
            x.get(x.len() / 2).copied().unwrap_or(f64::NAN)
        };
        println!("medians of {} runs:", o.runs);
        let mut rows = Vec::new();
        for (k, (_, _, what)) in lines.iter().enumerate() {
            let mut m = [(0.0, 0.0, 0.0, 0.0, 0.0); 2];
            for (i, s) in servers.iter().enumerate() {
                let v = &figures[k][i];
                m[i] = (
                    median(v, |f| f.rate),
                    median(v, |f| f.p99),
                    median(v, |f| f.errors),
                    median(v, |f| f.server_cpu_ms),
                    median(v, |f| f.generator_cpu_ms),
                );
                println!(
                    "{what:<40} {:<9} {:>9.1} req/s  p99 {:>8.2} ms  errors {:>3}  server CPU {:>8.3} ms/req  generator CPU {:>6.3} ms/req",
                    s.name, m[i].0, m[i].1, m[i].2, m[i].3, m[i].4
                );
            }
            rows.push((*what, m[0].0 / m[1].0, m[1].3 / m[0].3));
        }
        println!("groxide ÷ radicale (medians):");
        for (what, rate, cpu) in rows {
            println!("  {what:<40} rate ×{rate:.2}, server CPU per request ÷{cpu:.2}");
        }
        Ok(())
    })();
    sup.stop_all(Duration::from_secs(5));
    result
}
