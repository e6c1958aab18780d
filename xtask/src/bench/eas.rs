//! `cargo xtask bench eas [--messages N] [--devices D] [--users U]
//! [--rounds R] [--wakes W]`: Exchange ActiveSync of groxide-http (with
//! groxide-event, groxide-exmdb and groxide-delivery, release build), one
//! node on 127.0.0.1, plain HTTP from a trusted proxy address, one load
//! generator (crates/eas/examples/eas_load.rs, release, one tokio thread,
//! raw HTTP/1.1 with requests encoded before they are timed).
//!
//! - **Sync**: N messages (default 10,000, 2–6 KB) delivered over LMTP to
//!   one Inbox; three devices in turn make their initial Sync (SyncKey 0,
//!   then windows of 100 with a 2 KB plain-text body preference); then
//!   three rounds of 10 new messages and the three devices' incremental
//!   Sync at once. Requests/s, server CPU (http + exmdb + event) per item
//!   and the generator's CPU per item, medians of 3.
//! - **Ping**: D devices (default 5,000) of U users (default 500) set up
//!   (Provision, FolderSync, Sync) on one groxide-http; then a second,
//!   fresh groxide-http (same node, same stores) receives every device's
//!   Ping of the Inbox (heartbeat 900 s), one connection each. Its RSS
//!   before (after one warm-up request) and with every Ping held, divided
//!   by D, is the memory per waiting device (target ≤ 16 KiB); then R
//!   rounds (default 3) each deliver one message to W users (default 20)
//!   100 ms apart, and a waiting device's wake-up latency is from the end
//!   of the DATA to its whole Ping answer (target p99 ≤ 1 s); medians of
//!   the rounds.
//!
//! The open files needed (two per device and some) must be allowed:
//! `ulimit -n` in the shell that runs the bench.

use crate::bench_common::{
    BenchBackends, BenchNode, build_release, cpu_seconds, field, free_port, median,
    start_bench_node, wait_for,
};
use crate::proc::Supervisor;
use crate::workspace_root;
use anyhow::{Context as _, Result, bail};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    messages: usize,
    devices: usize,
    users: usize,
    rounds: usize,
    wakes: usize,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        messages: 10_000,
        devices: 5_000,
        users: 500,
        rounds: 3,
        wakes: 20,
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
            "--messages" => o.messages = value()?,
            "--devices" => o.devices = value()?,
            "--users" => o.users = value()?,
            "--rounds" => o.rounds = value()?,
            "--wakes" => o.wakes = value()?,
            other => bail!("bench eas: unknown argument {other}"),
        }
    }
    if o.users == 0 || o.devices < o.users || !o.devices.is_multiple_of(o.users) {
        bail!("bench eas: --devices must be a multiple of --users");
    }
    if o.rounds * o.wakes > o.users {
        bail!("bench eas: --rounds × --wakes users are woken, at most --users");
    }
    Ok(o)
}

/// The soft limit of open files of this process (inherited by the daemons
/// and the generator).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Resident set size of a process, bytes.
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The generator as a child speaking lines.
struct Generator {
    child: std::process::Child,
    stdin: ChildStdin,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Generator {
    fn start(path: &Path, args: &[String]) -> Result<Generator> {
        let mut child = Command::new(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting eas_load")?;
        let stdin = child.stdin.take().context("eas_load stdin")?;
        let stdout = child.stdout.take().context("eas_load stdout")?;
        Ok(Generator {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    fn line(&mut self) -> Result<String> {
        match self.lines.next() {
            Some(l) => Ok(l?),
            None => {
                let st = self.child.wait()?;
                bail!("eas_load ended ({st})")
            }
        }
    }

    fn say(&mut self, what: &str) -> Result<()> {
        writeln!(self.stdin, "{what}")?;
        self.stdin.flush()?;
        Ok(())
    }

    /// Reads `WINDOW OPEN`, `WINDOW CLOSED` and the JSON line, sampling
    /// `cpu` at the two marks: (json, server CPU seconds in the window).
    fn window(&mut self, cpu: &dyn Fn() -> f64) -> Result<(String, f64)> {
        let open = self.line()?;
        if open != "WINDOW OPEN" {
            bail!("eas_load: {open}");
        }
        let before = cpu();
        let closed = self.line()?;
        if closed != "WINDOW CLOSED" {
            bail!("eas_load: {closed}");
        }
        let after = cpu();
        Ok((self.line()?, after - before))
    }
}

/// The node: event, exmdb, delivery, the users.
struct Node {
    node: BenchNode,
    lmtp: String,
}

fn start_node(sup: &mut Supervisor, root: &Path, bin: &Path, users: usize) -> Result<Node> {
    let node = start_bench_node(sup, root, bin, BenchBackends::ExmdbOnly, "")?;
    let lmtp = format!("127.0.0.1:{}", free_port()?);
    node.write_config("delivery.cfg", format!("lda_listen = {lmtp}\n"))?;
    node.admin(&["domain", "create", "bench.test"])?;
    let t0 = Instant::now();
    for i in 1..=users {
        node.admin(&[
            "user",
            "create",
            &format!("user{i}@bench.test"),
            "--password",
            "pass",
        ])?;
    }
    node.admin(&["user", "create", "sync@bench.test", "--password", "pass"])?;
    println!(
        "{} users created in {:.0} s",
        users + 1,
        t0.elapsed().as_secs_f64()
    );
    node.start(sup, "delivery", lmtp.parse()?)?;
    Ok(Node { node, lmtp })
}

/// Starts a groxide-http named `name` on a fresh http.cfg; its address.
fn start_http(sup: &mut Supervisor, node: &Node, name: &str, devices: usize) -> Result<String> {
    let http = format!("127.0.0.1:{}", free_port()?);
    node.node.write_config(
        "http.cfg",
        format!(
            "http_listen = {http}\nhttp_listen_tls =\nhttp_trusted_proxies = 127.0.0.1\n\
             context_num = {}\nhttp_basic_auth_cred_caching = 1h\n",
            devices + 1000
        ),
    )?;
    node.node.start_as(sup, name, "http", http.parse()?)?;
    Ok(http)
}

fn server_cpu(sup: &Supervisor, names: &[&str]) -> impl Fn() -> f64 + use<> {
    let pids: Vec<u32> = names.iter().filter_map(|n| sup.pid(n)).collect();
    move || pids.iter().map(|p| cpu_seconds(*p, false)).sum()
}

fn sync_bench(
    sup: &mut Supervisor,
    node: &Node,
    http: &str,
    generator: &Path,
    o: &Options,
) -> Result<()> {
    let gen_path = generator.to_path_buf();
    let fill = crate::bench_common::run_ok(
        Command::new(&gen_path).args([
            "fill",
            http,
            &node.lmtp,
            "sync@bench.test",
            "pass",
            &o.messages.to_string(),
        ]),
        "eas_load fill",
    )?;
    println!(
        "{} messages delivered over LMTP: {:.0}/s",
        o.messages,
        field(&fill, "rate")
    );
    let cpu = server_cpu(sup, &["http-sync", "exmdb", "event"]);
    let mut g = Generator::start(
        &gen_path,
        &[
            "sync".into(),
            http.into(),
            node.lmtp.clone(),
            "sync@bench.test".into(),
            "pass".into(),
            "3".into(),
            "100".into(),
        ],
    )?;
    let (mut rates, mut cpus, mut gens) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..3 {
        let (json, server) = g.window(&cpu)?;
        let items = field(&json, "items");
        if items as usize != o.messages {
            bail!(
                "initial Sync {run} brought {items} items, not {}",
                o.messages
            );
        }
        let (rate, gen_cpu) = (field(&json, "rate"), field(&json, "generator_cpu_s"));
        println!(
            "initial Sync {run}: {} requests in {:.2} s = {rate:.1} req/s ({:.0} items/s); server CPU {:.3} ms/item; generator CPU {:.3} ms/item",
            field(&json, "requests"),
            field(&json, "seconds"),
            items / field(&json, "seconds"),
            server * 1000.0 / items,
            gen_cpu * 1000.0 / items
        );
        rates.push(rate);
        cpus.push(server * 1000.0 / items);
        gens.push(gen_cpu * 1000.0 / items);
    }
    let initial = (median(rates), median(cpus), median(gens));
    let (mut rates, mut cpus, mut gens) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..3 {
        g.say("INCREMENTAL")?;
        let (json, server) = g.window(&cpu)?;
        let items = field(&json, "items");
        if items as usize != 30 {
            bail!("incremental Sync {run}: {items} items for 3 devices, not 30");
        }
        let rate = field(&json, "rate");
        println!(
            "incremental Sync {run}: 3 devices × 10 new items, {rate:.1} req/s (p50 {:.1} ms); server CPU {:.3} ms/item; generator CPU {:.3} ms/item",
            field(&json, "p50_ms"),
            server * 1000.0 / items,
            field(&json, "generator_cpu_s") * 1000.0 / items
        );
        rates.push(rate);
        cpus.push(server * 1000.0 / items);
        gens.push(field(&json, "generator_cpu_s") * 1000.0 / items);
    }
    g.say("QUIT")?;
    let _ = g.child.wait();
    let incremental = (median(rates), median(cpus), median(gens));
    println!(
        "\n| Sync of a {}-message Inbox (median of 3) | req/s | server CPU ms/item (http+exmdb+event) | generator CPU ms/item |",
        o.messages
    );
    println!("|---|---|---|---|");
    println!(
        "| initial, windows of 100 | {:.1} | {:.3} | {:.3} |",
        initial.0, initial.1, initial.2
    );
    println!(
        "| incremental, 10 new messages, 3 devices at once | {:.1} | {:.3} | {:.3} |\n",
        incremental.0, incremental.1, incremental.2
    );
    Ok(())
}

fn ping_bench(
    sup: &mut Supervisor,
    node: &Node,
    setup_http: &str,
    generator: &Path,
    o: &Options,
) -> Result<()> {
    let per_user = o.devices / o.users;
    let mut g = Generator::start(
        generator,
        &[
            "ping".into(),
            setup_http.into(),
            node.lmtp.clone(),
            o.users.to_string(),
            "pass".into(),
            per_user.to_string(),
            "900".into(),
            o.rounds.to_string(),
            o.wakes.to_string(),
        ],
    )?;
    let t0 = Instant::now();
    let done = g.line()?;
    if done != "SETUP DONE" {
        bail!("eas_load: {done}");
    }
    println!(
        "{} devices set up (Provision, FolderSync, Sync) in {:.0} s",
        o.devices,
        t0.elapsed().as_secs_f64()
    );
    // The measured server: fresh, nothing cached, one warm-up request.
    let http = start_http(sup, node, "http-ping", o.devices)?;
    let pid = sup.pid("http-ping").context("http-ping pid")?;
    let warm = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-X",
            "OPTIONS",
            "-u",
            "user1@bench.test:pass",
        ])
        .arg(format!("http://{http}/Microsoft-Server-ActiveSync"))
        .status()
        .context("curl")?;
    if !warm.success() {
        bail!("the warm-up OPTIONS failed");
    }
    // Each user logs in once first (their passwords checked and cached):
    // the RSS per waiting device is then what holding a Ping costs, not
    // the allocator's leftovers of a storm of argon2id checks.
    g.say(&format!("GO {http}"))?;
    let warmed = g.line()?;
    let Some(warmed) = warmed.strip_prefix("WARMED ") else {
        bail!("eas_load: {warmed}");
    };
    if field(warmed, "failed") > 0.0 {
        bail!("eas_load: logins failed in the warm-up: {warmed}");
    }
    println!(
        "{} users logged in once (OPTIONS) in {:.2} s",
        field(warmed, "users"),
        field(warmed, "seconds")
    );
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_bytes(pid).context("RSS")?;
    let cpu = server_cpu(sup, &["http-ping", "exmdb", "event"]);
    let cpu0 = cpu();
    g.say("PING")?;
    let sent = g.line()?;
    let Some(sent_json) = sent.strip_prefix("PINGS SENT ") else {
        bail!("eas_load: {sent}");
    };
    // Until every Ping is read and waiting: the RSS stops growing.
    let (mut last, mut stable_since) = (rss_bytes(pid).unwrap_or(0), Instant::now());
    let deadline = Instant::now() + Duration::from_secs(120);
    while stable_since.elapsed() < Duration::from_secs(3) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        let now = rss_bytes(pid).unwrap_or(0);
        if now != last {
            (last, stable_since) = (now, Instant::now());
        }
    }
    let held = rss_bytes(pid).context("RSS")?;
    let arrival_cpu = cpu() - cpu0;
    let per_device = (held.saturating_sub(before)) as f64 / o.devices as f64 / 1024.0;
    println!(
        "{} Pings held (the last 503 of the login storm at {:.2} s, {} retries after 503; generator CPU {:.2} s); groxide-http RSS {:.1} MiB before, {:.1} MiB with every Ping held: {per_device:.2} KiB per waiting device; server CPU for their arrival {:.3} ms/Ping",
        o.devices,
        field(sent_json, "seconds"),
        field(sent_json, "retried_after_503"),
        field(sent_json, "generator_cpu_s"),
        before as f64 / 1048576.0,
        held as f64 / 1048576.0,
        arrival_cpu * 1000.0 / o.devices as f64
    );
    // The wake-up rounds' server CPU: the deliveries and what they wake.
    let round_cpu = server_cpu(sup, &["http-ping", "exmdb", "event", "delivery"]);
    let round_cpu0 = round_cpu();
    g.say("MEASURE")?;
    let (mut p50s, mut p99s, mut gens, mut missing) = (Vec::new(), Vec::new(), Vec::new(), 0.0);
    let mut woken_total = 0.0;
    for _ in 0..o.rounds {
        let json = g.line()?;
        let (woken, expected) = (field(&json, "woken"), field(&json, "expected"));
        woken_total += woken;
        println!(
            "wake-up round: {woken}/{expected} devices woken, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, wrong answers {}",
            field(&json, "p50_ms"),
            field(&json, "p99_ms"),
            field(&json, "max_ms"),
            field(&json, "wrong")
        );
        missing += expected - woken;
        p50s.push(field(&json, "p50_ms"));
        p99s.push(field(&json, "p99_ms"));
        gens.push(field(&json, "generator_cpu_s"));
    }
    let unexpected = g.line()?;
    println!("{unexpected}");
    let per_wake_ms = (round_cpu() - round_cpu0) * 1000.0 / woken_total.max(1.0);
    let gen_round = median(gens);
    let held_after = rss_bytes(pid).unwrap_or(0);
    drop(g.stdin);
    let _ = g.child.wait();
    println!(
        "\n| {} waiting Pings ({} users × {per_user}) | value | target |",
        o.devices, o.users
    );
    println!("|---|---|---|");
    println!("| groxide-http RSS per waiting device | {per_device:.2} KiB | ≤ 16 KiB |");
    println!(
        "| wake-up latency after an LMTP delivery, p50 / p99 (median of {} rounds of {} users) | {:.1} / {:.1} ms | p99 ≤ 1000 ms |",
        o.rounds,
        o.wakes,
        median(p50s),
        median(p99s)
    );
    println!("| devices not woken within 15 s | {missing} | 0 |");
    println!(
        "| server CPU per woken device (http + exmdb + event + delivery, the delivery included) | {per_wake_ms:.3} ms | |"
    );
    println!(
        "| groxide-http RSS after the rounds | {:.1} MiB | |",
        held_after as f64 / 1048576.0
    );
    println!(
        "| generator CPU per wake-up round | {gen_round:.3} s ({:.3} ms per woken device) | |",
        gen_round * 1000.0 / o.wakes.max(1) as f64
    );
    if missing > 0.0 {
        bail!("{missing} devices were not woken");
    }
    Ok(())
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let need = 2 * o.devices as u64 + 1000;
    if open_file_limit().is_some_and(|l| l < need) {
        bail!("bench eas: {need} open files are needed; raise the limit (ulimit -n {need})");
    }
    let bin = build_release()?;
    let generator = bin.join("examples/eas_load");
    let root = workspace_root().join("var/bench/eas");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let mut sup = Supervisor::default();
    let result = (|| -> Result<()> {
        let node = start_node(&mut sup, &root, &bin, o.users)?;
        let http = start_http(&mut sup, &node, "http-sync", 100)?;
        wait_for(http.parse()?, "groxide-http")?;
        sync_bench(&mut sup, &node, &http, &generator, &o)?;
        ping_bench(&mut sup, &node, &http, &generator, &o)
    })();
    sup.stop_all(Duration::from_secs(5));
    result
}
