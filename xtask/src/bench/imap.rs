//! `cargo xtask bench imap [--seconds S] [--reps R] [--idle N] [--dovecot-idle N]
//! [--big N] [--only mixed|search|idle|big]`: groxide-imap (with event, exmdb and
//! midb, release build) side by side with Dovecot's imapd in one run, with
//! one load generator (crates/imap/examples/imap_load.rs, release; one
//! thread, built to cost far less than either server):
//!
//! - **mixed**: the imaptest-style round (SELECT; LIST 50 %; STATUS 50 %;
//!   FETCH flags and envelopes; FETCH body parts of one message, of the
//!   whole mailbox in 30 % of rounds; STORE flags 50 %; STORE \Deleted on
//!   5 % of the messages; EXPUNGE; APPEND of a gen_mbox.py message), 20
//!   users × 20 clients, with persistent sessions and with LOGIN/LOGOUT
//!   every round (SHA512-CRYPT on both servers). Reported per server:
//!   commands/s, latency percentiles, errors, **server CPU milliseconds per
//!   command** (every groxide daemon; every Dovecot process, reaped
//!   children included) sampled exactly over the measuring window, and the
//!   generator's own CPU; medians of R runs (default 3 × 20 s), the
//!   servers alternating which goes first;
//! - **search**: SEARCH (header, body with and without hits, flags and
//!   date), SORT, THREAD and `UID FETCH 1:* (FLAGS)` on INBOXes of a
//!   thousand messages, each command alone, with the same figures;
//! - **idle**: N connections in IDLE; resident memory per connection (the
//!   summed VmRSS of the server's processes, divided by N, and the growth
//!   over the idle server divided by N);
//! - **big**: peak RSS growth of groxide-imap for `UID FETCH 1:* (UID
//!   FLAGS)` on a folder of N messages (groxide only).
//!
//! Dovecot runs from /work/shared/peers/dovecot.conf with its process and
//! connection limits raised for the connection counts used here.

use crate::bench_common::{
    BenchBackends, build_release, cpu_seconds, dovecot_master_pid, field, free_port,
    launch_dovecot, median, process_tree, run_ok, start_bench_node, status_kib, tree_cpu_seconds,
    wait_for,
};
use crate::proc::Supervisor;
use crate::workspace_root;
use anyhow::{Context as _, Result, bail};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PEERS: &str = "/work/shared/peers";
/// Users of the mixed workload, and clients per user.
const USERS: usize = 20;
const CLIENTS_PER_USER: usize = 20;
/// Messages each user's INBOX starts with.
const INBOX_MESSAGES: usize = 100;
/// Distinct sample messages (gen_mbox.py) the fill and APPENDs cycle through.
const SAMPLE_MESSAGES: usize = 500;
const PASSWORD: &str = "pass";
/// `PASSWORD` as SHA512-CRYPT: both servers check the same scheme (the
/// directory's default argon2id costs far more per login than Dovecot's PLAIN).
const PASSWORD_HASH: &str = "$6$benchsalt$BOQsrHQl6PtpUhbXVoxk0Z8hihdWmXG.eVyz6T8cvjvgll2Jv7GtNEStWVjTGHCc/sC1fzr3314VG5GZt1s73/";

struct Options {
    seconds: f64,
    reps: usize,
    idle: usize,
    dovecot_idle: usize,
    big: usize,
    only: Option<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        seconds: 20.0,
        reps: 3,
        idle: 10_000,
        // Dovecot forks an imap process per connection (~5 MiB RSS each):
        // 10 000 of them would not fit next to everything else on a 2-core,
        // 23 GiB machine; per-connection figures are flat in N.
        dovecot_idle: 2_000,
        big: 250_000,
        only: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("a value is missing");
        match a.as_str() {
            "--seconds" => o.seconds = value()?.parse().context("--seconds")?,
            "--reps" => o.reps = value()?.parse().context("--reps")?,
            "--idle" => o.idle = value()?.parse().context("--idle")?,
            "--dovecot-idle" => o.dovecot_idle = value()?.parse().context("--dovecot-idle")?,
            "--big" => o.big = value()?.parse().context("--big")?,
            "--only" => o.only = Some(value()?.clone()),
            other => bail!("bench imap: unknown argument {other}"),
        }
    }
    Ok(o)
}

/// CPU seconds of the groxide daemons, by name.
fn groxide_cpu(sup: &Supervisor) -> Vec<(&'static str, f64)> {
    ["imap", "midb", "exmdb", "event"]
        .iter()
        .map(|n| (*n, sup.pid(n).map_or(0.0, |p| cpu_seconds(p, false))))
        .collect()
}

/// Summed VmRSS and Pss (shared pages split between their users) of a
/// process tree, in KiB, and the number of processes.
fn tree_memory_kib(pid: u32) -> (u64, u64, usize) {
    let tree = process_tree(pid);
    let pss = |p: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{p}/smaps_rollup"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Pss:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    };
    (
        tree.iter().map(|p| status_kib(*p, "VmRSS:")).sum(),
        tree.iter().map(|p| pss(*p)).sum(),
        tree.len(),
    )
}

/// Memory of a server with and without IDLE sessions.
struct IdleMemory {
    rss_before: u64,
    rss_after: u64,
    pss_before: u64,
    pss_after: u64,
    processes: usize,
}

struct Groxide {
    imap: SocketAddr,
    config: PathBuf,
    big_dir: String,
}

/// One groxide node (event, exmdb, midb, imap) with the benchmark users.
fn start_groxide(sup: &mut Supervisor, root: &Path, bin: &Path, o: &Options) -> Result<Groxide> {
    // Churn compares SHA512-CRYPT with SHA512-CRYPT: keep the hashes as
    // they are (by default a login re-hashes them to argon2id).
    let node = start_bench_node(
        sup,
        root,
        bin,
        BenchBackends::WithMidb,
        "auth_rehash_legacy = no\n",
    )?;
    let imap: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let limit = o.idle.max(USERS * CLIENTS_PER_USER) + 100;
    node.write_config(
        "imap.cfg",
        format!(
            "imap_listen = {imap}\nimap_listen_tls =\ncontext_num = {limit}\n\
             imap_max_connections_per_ip = {limit}\nimap_max_connections_per_user = {limit}\n\
             imap_max_unauth_connections = {limit}\nimap_max_unauth_connections_per_ip = {limit}\n"
        ),
    )?;
    let admin = |args: &[&str]| node.admin(args);
    let store_of = |out: String| -> Result<String> {
        out.split(", store ")
            .nth(1)
            .map(|s| s.trim().to_string())
            .context("groxide-admin did not name the store")
    };
    admin(&["domain", "create", "bench.test"])?;
    for i in 1..=USERS {
        store_of(admin(&[
            "user",
            "create",
            &format!("user{i}@bench.test"),
            "--password",
            PASSWORD,
        ])?)?;
    }
    let big_dir = store_of(admin(&[
        "user",
        "create",
        "big@bench.test",
        "--password",
        PASSWORD,
    ])?)?;
    run_ok(
        Command::new("sqlite3")
            .arg(node.data.join("directory.sqlite3"))
            .arg(format!(
                "UPDATE users SET password = '{PASSWORD_HASH}' WHERE username LIKE '%@bench.test'"
            )),
        "sqlite3 (setting the benchmark password hashes)",
    )?;
    node.start(sup, "imap", imap)?;
    Ok(Groxide {
        imap,
        config: node.config,
        big_dir,
    })
}

/// Dovecot from the peer recipe with raised limits, IMAP only, on a free
/// port (other benchmarks may run the recipe's ports at the same time);
/// returns its config and IMAP address.
fn start_dovecot(root: &Path, o: &Options) -> Result<(PathBuf, String)> {
    let dir = root.join("dovecot");
    for sub in ["run", "state", "log", "mail"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let recipe = std::fs::read_to_string(Path::new(PEERS).join("dovecot.conf"))
        .context("reading the Dovecot peer recipe")?;
    let limit = o.dovecot_idle.max(USERS * CLIENTS_PER_USER) + 100;
    let conf_text = recipe
        .replace("@PEERS@", &root.display().to_string())
        .replace("process_limit = 1024", &format!("process_limit = {limit}"))
        .replace(
            "mail_max_userip_connections = 1000",
            &format!("mail_max_userip_connections = {limit}"),
        )
        + &format!("default_client_limit = {}\n", limit + 1000);
    let port = free_port()?;
    let conf_text = conf_text
        .replace("protocols = imap pop3 lmtp", "protocols = imap")
        .replace("port = 10143", &format!("port = {port}"));
    let imap = format!("127.0.0.1:{port}");
    let conf = dir.join("dovecot.conf");
    std::fs::write(&conf, conf_text)?;
    let passwd: String = (1..=USERS)
        .map(|i| format!("user{i}:{{SHA512-CRYPT}}{PASSWORD_HASH}::::::\n"))
        .collect();
    std::fs::write(dir.join("passwd"), passwd)?;
    launch_dovecot(&dir, &conf, "dovecot-imapd")?;
    wait_for(imap.parse()?, "dovecot imap")?;
    Ok((conf, imap))
}

#[derive(Clone, Copy, Default)]
struct Figures {
    rate: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    errors: f64,
    /// Server CPU milliseconds per command (every process of the server).
    cpu_ms: f64,
    /// The generator's own CPU seconds per second of the window.
    generator_load: f64,
}

/// CPU seconds by process name.
type CpuByProcess = Vec<(&'static str, f64)>;

/// One run of the mixed workload against one server. `cpu` reads the
/// server's CPU seconds, by process name; it is sampled when the generator
/// opens and closes its measuring window.
fn mixed_once(
    generator: &Path,
    addr: &str,
    user_format: &str,
    churn: bool,
    mbox: &Path,
    o: &Options,
    cpu: &dyn Fn() -> CpuByProcess,
) -> Result<(Figures, String, CpuByProcess)> {
    let args = [
        "mixed".to_owned(),
        addr.to_owned(),
        USERS.to_string(),
        CLIENTS_PER_USER.to_string(),
        o.seconds.to_string(),
        user_format.to_owned(),
        PASSWORD.to_owned(),
        if churn { "1" } else { "0" }.to_owned(),
        mbox.display().to_string(),
    ];
    windowed_run(generator, &args, cpu)
}

/// Runs the generator with `args`; it prints `WINDOW OPEN`/`WINDOW CLOSED`
/// around its measuring window (the server's CPU is sampled there) and a
/// JSON line of figures.
fn windowed_run(
    generator: &Path,
    args: &[String],
    cpu: &dyn Fn() -> CpuByProcess,
) -> Result<(Figures, String, CpuByProcess)> {
    let mode = args.first().map_or("", String::as_str);
    let mut child = Command::new(generator)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting imap_load {mode}"))?;
    let stdout = child.stdout.take().context("imap_load stdout")?;
    let (mut before, mut after, mut json) = (Vec::new(), Vec::new(), String::new());
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        match line.as_str() {
            "WINDOW OPEN" => before = cpu(),
            "WINDOW CLOSED" => after = cpu(),
            _ => json = line,
        }
    }
    let st = child.wait()?;
    if !st.success() || after.is_empty() {
        bail!("imap_load {mode} failed ({st}): {json}");
    }
    let spent: CpuByProcess = before
        .iter()
        .zip(&after)
        .map(|((n, b), (_, a))| (*n, a - b))
        .collect();
    let total: f64 = spent.iter().map(|(_, s)| s).sum();
    let commands = field(&json, "commands");
    let seconds = field(&json, "seconds");
    Ok((
        Figures {
            rate: field(&json, "rate"),
            p50: field(&json, "p50_ms"),
            p90: field(&json, "p90_ms"),
            p99: field(&json, "p99_ms"),
            errors: field(&json, "errors"),
            cpu_ms: total * 1000.0 / commands.max(1.0),
            generator_load: field(&json, "generator_cpu_s") / seconds.max(1e-9),
        },
        json,
        spent,
    ))
}

/// Medians of each figure over runs.
fn medians(runs: &[Figures]) -> Figures {
    let pick = |f: fn(&Figures) -> f64| median(runs.iter().map(f).collect());
    Figures {
        rate: pick(|r| r.rate),
        p50: pick(|r| r.p50),
        p90: pick(|r| r.p90),
        p99: pick(|r| r.p99),
        errors: pick(|r| r.errors),
        cpu_ms: pick(|r| r.cpu_ms),
        generator_load: pick(|r| r.generator_load),
    }
}

/// Users whose INBOX the search part fills, and the messages it adds.
const SEARCH_USERS: usize = 4;
const SEARCH_MESSAGES: usize = 1000;
/// Sessions sending the same command at once (over `SEARCH_USERS` users).
const SEARCH_CLIENTS: usize = 8;
/// The commands the mix does not cover, each measured on its own.
const SEARCH_COMMANDS: &[(&str, &str)] = &[
    ("SEARCH FROM (header)", "UID SEARCH FROM \"sender7\""),
    ("SEARCH BODY, many hits", "UID SEARCH BODY \"veniam\""),
    ("SEARCH BODY, no hit", "UID SEARCH BODY \"xylophone\""),
    ("SEARCH UNSEEN SINCE", "UID SEARCH UNSEEN SINCE 1-Jan-2020"),
    ("SORT (SUBJECT)", "UID SORT (SUBJECT) UTF-8 ALL"),
    ("SORT (REVERSE DATE)", "UID SORT (REVERSE DATE) UTF-8 ALL"),
    ("THREAD REFERENCES", "UID THREAD REFERENCES UTF-8 ALL"),
    ("UID FETCH 1:* (FLAGS)", "UID FETCH 1:* (FLAGS)"),
];

/// SEARCH, SORT, THREAD and whole-mailbox FETCH on INBOXes of
/// `SEARCH_MESSAGES` (plus whatever the mix left), each command alone:
/// rate, latency, server CPU per command, generator CPU; servers alternate.
fn search(
    generator: &Path,
    root: &Path,
    sup: &Supervisor,
    mbox: &Path,
    gaddr: &str,
    dovecot_imap: &str,
    o: &Options,
) -> Result<()> {
    let (gformat, dformat) = ("user{}@bench.test", "user{}");
    println!("filling {SEARCH_USERS} mailboxes of each server with {SEARCH_MESSAGES} messages …");
    for (addr, format) in [(gaddr, gformat), (dovecot_imap, dformat)] {
        let mut fill = Command::new(generator);
        fill.args([
            "fill",
            addr,
            &SEARCH_USERS.to_string(),
            format,
            PASSWORD,
            &SEARCH_MESSAGES.to_string(),
        ])
        .arg(mbox);
        run_ok(&mut fill, "imap_load fill")?;
    }
    let dovecot_dir = root.join("dovecot");
    let g_cpu = || groxide_cpu(sup);
    let d_cpu = || {
        vec![(
            "dovecot",
            dovecot_master_pid(&dovecot_dir).map_or(0.0, tree_cpu_seconds),
        )]
    };
    let seconds = o.seconds.min(10.0);
    let mut rows = Vec::new();
    for (name, command) in SEARCH_COMMANDS {
        let (mut gruns, mut druns) = (Vec::new(), Vec::new());
        for rep in 0..o.reps {
            for dovecot in [rep % 2 == 1, rep % 2 == 0] {
                let (addr, format, cpu): (&str, &str, &dyn Fn() -> CpuByProcess) = if dovecot {
                    (dovecot_imap, dformat, &d_cpu)
                } else {
                    (gaddr, gformat, &g_cpu)
                };
                let args = [
                    "repeat".to_owned(),
                    addr.to_owned(),
                    format.to_owned(),
                    PASSWORD.to_owned(),
                    SEARCH_USERS.to_string(),
                    SEARCH_CLIENTS.to_string(),
                    seconds.to_string(),
                    (*command).to_owned(),
                ];
                let (f, _, _) = windowed_run(generator, &args, cpu)?;
                if f.errors > 0.0 {
                    bail!("{name} against {addr}: {} errors", f.errors);
                }
                if dovecot {
                    druns.push(f)
                } else {
                    gruns.push(f)
                }
            }
        }
        let (g, d) = (medians(&gruns), medians(&druns));
        println!(
            "{name}: groxide {:.0}/s {:.2} ms CPU, dovecot {:.0}/s {:.2} ms CPU",
            g.rate, g.cpu_ms, d.rate, d.cpu_ms
        );
        rows.push((name, g, d));
    }
    println!(
        "\nSEARCH/SORT/THREAD: {SEARCH_CLIENTS} sessions over {SEARCH_USERS} INBOXes of ≥ {SEARCH_MESSAGES} \
         gen_mbox.py messages, each command alone; median of {} runs of {seconds} s (release; generator on \
         the same 2 cores)\n",
        o.reps
    );
    println!(
        "| command | groxide cmd/s | p50 ms | CPU ms/cmd | generator % | dovecot cmd/s | p50 ms | CPU ms/cmd | generator % | rate ratio | CPU ratio (g/d) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, g, d) in rows {
        println!(
            "| {name} | {:.0} | {:.2} | {:.3} | {:.0} | {:.0} | {:.2} | {:.3} | {:.0} | {:.2} | {:.2} |",
            g.rate,
            g.p50,
            g.cpu_ms,
            g.generator_load * 100.0,
            d.rate,
            d.p50,
            d.cpu_ms,
            d.generator_load * 100.0,
            g.rate / d.rate,
            g.cpu_ms / d.cpu_ms
        );
    }
    Ok(())
}

/// Opens `n` IDLE sessions and reads the server's memory with them open.
fn idle(
    generator: &Path,
    addr: &str,
    user_format: &str,
    n: usize,
    server_pid: u32,
) -> Result<IdleMemory> {
    let (rss_before, pss_before, _) = tree_memory_kib(server_pid);
    let mut child = Command::new(generator)
        .args([
            "idle",
            addr,
            &n.to_string(),
            &USERS.to_string(),
            user_format,
            PASSWORD,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting imap_load idle")?;
    let stdout = child.stdout.take().context("imap_load stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    if !line.starts_with("READY") {
        let _ = child.kill();
        bail!("imap_load idle: {line}");
    }
    // Let allocators settle before reading the figures.
    std::thread::sleep(Duration::from_secs(3));
    let (rss_after, pss_after, processes) = tree_memory_kib(server_pid);
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"\n");
    }
    let _ = child.wait();
    Ok(IdleMemory {
        rss_before,
        rss_after,
        pss_before,
        pss_after,
        processes,
    })
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let wants = |part: &str| o.only.as_deref().is_none_or(|p| p == part);
    let bin = build_release()?;
    let generator = bin.join("examples/imap_load");
    let root = workspace_root().join("var/bench/imap");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;

    let mut sup = Supervisor::default();
    let g = start_groxide(&mut sup, &root, &bin, &o)?;
    let (dovecot, dovecot_imap) = start_dovecot(&root, &o)?;
    let dovecot_imap = dovecot_imap.as_str();
    let gaddr = g.imap.to_string();
    let gformat = "user{}@bench.test";
    let dformat = "user{}";
    let result = (|| -> Result<()> {
        let imap_pid = sup.pid("imap").context("groxide-imap pid")?;
        let mbox = root.join("sample.mbox");
        if wants("mixed") || wants("search") {
            run_ok(
                Command::new("python3")
                    .arg(Path::new(PEERS).join("gen_mbox.py"))
                    .arg(&mbox)
                    .arg(SAMPLE_MESSAGES.to_string()),
                "gen_mbox.py",
            )?;
        }
        if wants("mixed") {
            println!("filling {USERS} mailboxes of each server with {INBOX_MESSAGES} messages …");
            for (addr, format) in [(gaddr.as_str(), gformat), (dovecot_imap, dformat)] {
                let mut fill = Command::new(&generator);
                fill.args([
                    "fill",
                    addr,
                    &USERS.to_string(),
                    format,
                    PASSWORD,
                    &INBOX_MESSAGES.to_string(),
                ])
                .arg(&mbox);
                run_ok(&mut fill, "imap_load fill")?;
            }
            let dovecot_dir = root.join("dovecot");
            let g_cpu = || groxide_cpu(&sup);
            let d_cpu = || {
                vec![(
                    "dovecot",
                    dovecot_master_pid(&dovecot_dir).map_or(0.0, tree_cpu_seconds),
                )]
            };
            let mut rows = Vec::new();
            for churn in [false, true] {
                let kind = if churn { "churn" } else { "persistent" };
                let (mut gruns, mut druns) = (Vec::new(), Vec::new());
                for rep in 0..o.reps {
                    // Alternate which server goes first so drift hits both.
                    let mut one = |dovecot: bool| -> Result<()> {
                        let (addr, format, cpu): (
                            &str,
                            &str,
                            &dyn Fn() -> Vec<(&'static str, f64)>,
                        ) = if dovecot {
                            (dovecot_imap, dformat, &d_cpu)
                        } else {
                            (&gaddr, gformat, &g_cpu)
                        };
                        let (f, json, spent) =
                            mixed_once(&generator, addr, format, churn, &mbox, &o, cpu)?;
                        let who = if dovecot { "dovecot" } else { "groxide" };
                        let spent: Vec<String> =
                            spent.iter().map(|(n, s)| format!("{n} {s:.1}")).collect();
                        println!(
                            "{who} {kind} run {}: CPU s {}; {json}",
                            rep + 1,
                            spent.join(", ")
                        );
                        if dovecot {
                            druns.push(f)
                        } else {
                            gruns.push(f)
                        }
                        Ok(())
                    };
                    let dovecot_first = rep % 2 == 1;
                    one(dovecot_first)?;
                    one(!dovecot_first)?;
                }
                rows.push((churn, medians(&gruns), medians(&druns)));
            }
            println!(
                "\nMixed IMAP workload, {USERS} users x {CLIENTS_PER_USER} clients, {INBOX_MESSAGES} messages \
                 per INBOX at the start (gen_mbox.py, 1-50 KB), medians of {} runs of {} s each \
                 (release; generator on the same 2 cores; SHA512-CRYPT passwords on both)\n",
                o.reps, o.seconds
            );
            println!(
                "| sessions | server | cmd/s | p50 ms | p90 ms | p99 ms | errors | server CPU ms/cmd | generator CPU % of a core |"
            );
            println!("|---|---|---|---|---|---|---|---|---|");
            for (churn, gf, df) in &rows {
                let kind = if *churn {
                    "login/logout every round"
                } else {
                    "persistent"
                };
                for (who, f) in [("groxide", gf), ("dovecot", df)] {
                    println!(
                        "| {kind} | {who} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {:.3} | {:.1} |",
                        f.rate,
                        f.p50,
                        f.p90,
                        f.p99,
                        f.errors,
                        f.cpu_ms,
                        f.generator_load * 100.0
                    );
                }
            }
            println!();
            for (churn, gf, df) in &rows {
                println!(
                    "ratio groxide/dovecot ({}): throughput {:.2}x, server CPU per command {:.2}x",
                    if *churn { "churn" } else { "persistent" },
                    gf.rate / df.rate,
                    gf.cpu_ms / df.cpu_ms
                );
            }
            // What an administrator sees afterwards: memory given back or kept.
            std::thread::sleep(Duration::from_secs(10));
            let rss: Vec<String> = ["imap", "midb", "exmdb", "event"]
                .iter()
                .filter_map(|n| {
                    let pid = sup.pid(n)?;
                    Some(format!(
                        "{n} {:.1} MiB (peak {:.1})",
                        status_kib(pid, "VmRSS:") as f64 / 1024.0,
                        status_kib(pid, "VmHWM:") as f64 / 1024.0
                    ))
                })
                .collect();
            let (dovecot_rss, _, procs) =
                dovecot_master_pid(&root.join("dovecot")).map_or((0, 0, 0), tree_memory_kib);
            println!(
                "RSS 10 s after the load: groxide {}; dovecot {:.1} MiB over {procs} processes",
                rss.join(", "),
                dovecot_rss as f64 / 1024.0
            );
        }
        if wants("search") {
            search(&generator, &root, &sup, &mbox, &gaddr, dovecot_imap, &o)?;
        }
        if wants("idle") {
            let gm = idle(&generator, &gaddr, gformat, o.idle, imap_pid)?;
            let dpid = dovecot_master_pid(&root.join("dovecot"))?;
            let dm = idle(&generator, dovecot_imap, dformat, o.dovecot_idle, dpid)?;
            let per = |total: u64, n: usize| total as f64 / n.max(1) as f64;
            println!("\nIDLE connections: memory of the server (summed over its processes)\n");
            println!(
                "| server | connections | processes | RSS idle MiB | RSS loaded MiB | RSS KiB/conn | RSS growth KiB/conn | PSS growth KiB/conn |"
            );
            println!("|---|---|---|---|---|---|---|---|");
            for (name, n, m) in [
                ("groxide-imap", o.idle, &gm),
                ("dovecot", o.dovecot_idle, &dm),
            ] {
                println!(
                    "| {name} | {n} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
                    m.processes,
                    m.rss_before as f64 / 1024.0,
                    m.rss_after as f64 / 1024.0,
                    per(m.rss_after, n),
                    per(m.rss_after.saturating_sub(m.rss_before), n),
                    per(m.pss_after.saturating_sub(m.pss_before), n),
                );
            }
            println!(
                "ratio groxide/dovecot per connection: RSS growth {:.4}, PSS growth {:.4}",
                per(gm.rss_after.saturating_sub(gm.rss_before), o.idle)
                    / per(dm.rss_after.saturating_sub(dm.rss_before), o.dovecot_idle),
                per(gm.pss_after.saturating_sub(gm.pss_before), o.idle)
                    / per(dm.pss_after.saturating_sub(dm.pss_before), o.dovecot_idle),
            );
        }
        if wants("big") {
            println!("\nfilling big@bench.test with {} messages …", o.big);
            let t = Instant::now();
            run_ok(
                Command::new(&generator).args([
                    "fill-store",
                    g.config.to_str().unwrap_or_default(),
                    &g.big_dir,
                    &o.big.to_string(),
                    "16",
                    "tiny",
                ]),
                "imap_load fill-store",
            )?;
            println!("filled in {:.0} s", t.elapsed().as_secs_f64());
            // Reset the peaks so VmHWM shows this request's high-water mark.
            let daemons: Vec<(&str, u32)> = ["imap", "midb"]
                .iter()
                .filter_map(|n| Some((*n, sup.pid(n)?)))
                .collect();
            let mut before = Vec::new();
            for (_, pid) in &daemons {
                before.push(status_kib(*pid, "VmRSS:"));
                std::fs::write(format!("/proc/{pid}/clear_refs"), "5")?;
            }
            let out = run_ok(
                Command::new(&generator).args(["fetchall", &gaddr, "big@bench.test", PASSWORD]),
                "imap_load fetchall",
            )?;
            println!("\nUID FETCH 1:* (UID FLAGS) on {} messages: {out}", o.big);
            let peaks: Vec<u64> = daemons
                .iter()
                .map(|(_, pid)| status_kib(*pid, "VmHWM:"))
                .collect();
            // What an administrator sees afterwards.
            std::thread::sleep(Duration::from_secs(10));
            for (((name, pid), rss), hwm) in daemons.iter().zip(before).zip(peaks) {
                println!(
                    "groxide-{name} RSS before {:.1} MiB, peak during SELECT+FETCH {:.1} MiB, growth {:.1} MiB \
                     ({:.1} bytes/message), {:.1} MiB 10 s after",
                    rss as f64 / 1024.0,
                    hwm as f64 / 1024.0,
                    hwm.saturating_sub(rss) as f64 / 1024.0,
                    hwm.saturating_sub(rss) as f64 * 1024.0 / o.big as f64,
                    status_kib(*pid, "VmRSS:") as f64 / 1024.0
                );
            }
        }
        Ok(())
    })();
    let _ = Command::new("doveadm")
        .arg("-c")
        .arg(&dovecot)
        .arg("stop")
        .status();
    sup.stop_all(Duration::from_secs(10));
    result
}
