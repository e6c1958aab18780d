//! `cargo xtask bench pop3 [--seconds S] [--reps R] [--only retr|login|burst[,…]]`:
//! POP3 RETR throughput
//! (messages/s, MB/s) and logins/s of groxide-pop3 (over midb, exmdb,
//! release build) and Dovecot's POP3, side by side in one run, with one load
//! generator (crates/pop3/examples/pop3_load.rs, release) and the same
//! messages (/work/shared/peers/gen_mbox.py, delivered over LMTP to both).
//!
//! Logins: groxide verifies the argon2id hash its directory stores; Dovecot
//! is measured twice, with the peer recipe's {PLAIN} passwords and with
//! {ARGON2ID} and groxide's very hashes, so one row compares like with like.
//! Each measurement alternates the servers run by run (medians of R runs).
//! After each part the resident memory of every groxide daemon is printed;
//! **burst** sends 100 failed logins at once (argon2id dummy checks) and
//! reads groxide-pop3's RSS right after and 10 s later.

use crate::bench_common::{
    BenchBackends, build_release, cpu_seconds, dovecot_master_pid, field, free_port,
    launch_dovecot, median, run_ok, start_bench_node, status_kib, tree_cpu_seconds, wait_for,
};
use crate::proc::Supervisor;
use crate::workspace_root;
use anyhow::{Context as _, Result, bail};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where the peer recipes live.
const PEERS: &str = "/work/shared/peers";
/// Dovecot's addresses in the peer config.
const DOVECOT_POP3: &str = "127.0.0.1:10110";
const DOVECOT_LMTP: &str = "127.0.0.1:10024";
/// Users in each server; messages go to the first `MAIL_USERS`.
const USERS: usize = 50;
const MAIL_USERS: usize = 20;
/// Messages per mail user, and sample messages generated.
const PER_USER: usize = 40;
const SAMPLE: usize = 200;
/// Concurrent connections per measurement.
const CONNECTIONS: &[usize] = &[4, 16];

struct Options {
    seconds: f64,
    reps: usize,
    /// Only this part (retr, login, burst).
    only: Option<String>,
}

impl Options {
    fn wants(&self, part: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|p| p.split(',').any(|p| p == part))
    }
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        seconds: 8.0,
        reps: 3,
        only: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("a value is missing");
        match a.as_str() {
            "--seconds" => o.seconds = value()?.parse().context("--seconds")?,
            "--reps" => o.reps = value()?.parse().context("--reps")?,
            "--only" => o.only = Some(value()?.clone()),
            other => bail!("bench pop3: unknown argument {other}"),
        }
    }
    Ok(o)
}

struct Groxide {
    pop3: String,
    lmtp: String,
    directory: PathBuf,
}

/// One groxide node: event, exmdb, midb, delivery, pop3, with `USERS` users.
fn start_groxide(sup: &mut Supervisor, root: &Path, bin: &Path) -> Result<Groxide> {
    let node = start_bench_node(sup, root, bin, BenchBackends::WithMidb, "")?;
    let lmtp = format!("127.0.0.1:{}", free_port()?);
    let pop3 = format!("127.0.0.1:{}", free_port()?);
    let directory = node.data.join("directory.sqlite3");
    node.write_config("delivery.cfg", format!("lda_listen = {lmtp}\n"))?;
    node.write_config(
        "pop3.cfg",
        // Every generator connection comes from 127.0.0.1, logging in at once.
        format!(
            "pop3_listen = {pop3}\npop3_listen_tls =\ncontext_num = 1000\n\
             pop3_max_connections_per_ip = 1000\npop3_max_unauth_connections = 1000\n\
             pop3_max_unauth_connections_per_ip = 1000\npop3_auth_times = 1000\n"
        ),
    )?;
    let admin = |args: &[&str]| node.admin(args);
    admin(&["domain", "create", "bench.test"])?;
    for i in 1..=USERS {
        admin(&[
            "user",
            "create",
            &format!("user{i}@bench.test"),
            "--password",
            "pass",
        ])?;
    }
    for (name, addr) in [("delivery", &lmtp), ("pop3", &pop3)] {
        node.start(sup, name, addr.parse()?)?;
    }
    Ok(Groxide {
        pop3,
        lmtp,
        directory,
    })
}

/// Dovecot from the peer recipe; returns its config file (for stopping).
fn start_dovecot(root: &Path) -> Result<PathBuf> {
    if TcpStream::connect_timeout(&DOVECOT_POP3.parse()?, Duration::from_millis(200)).is_ok() {
        bail!(
            "something already listens on {DOVECOT_POP3} (another Dovecot peer?); stop it with doveadm -c <its dovecot.conf> stop"
        );
    }
    let dir = root.join("dovecot");
    for sub in ["run", "state", "log", "mail"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let recipe = std::fs::read_to_string(Path::new(PEERS).join("dovecot.conf"))
        .context("reading the Dovecot peer recipe")?;
    let conf = dir.join("dovecot.conf");
    std::fs::write(
        &conf,
        recipe.replace("@PEERS@", &root.display().to_string()),
    )?;
    write_plain_passwords(&dir)?;
    launch_dovecot(&dir, &conf, "dovecot-pop3d")?;
    wait_for(DOVECOT_POP3.parse()?, "dovecot pop3")?;
    wait_for(DOVECOT_LMTP.parse()?, "dovecot lmtp")?;
    Ok(conf)
}

fn write_plain_passwords(dovecot_dir: &Path) -> Result<()> {
    let passwd: String = (1..=USERS)
        .map(|i| format!("user{i}:{{PLAIN}}pass::::::\n"))
        .collect();
    std::fs::write(dovecot_dir.join("passwd"), passwd)?;
    Ok(())
}

/// Gives Dovecot's users the argon2id hashes groxide's directory holds.
fn write_groxide_hashes(dovecot_dir: &Path, directory: &Path) -> Result<()> {
    let script = "import sqlite3, sys\n\
        db = sqlite3.connect(sys.argv[1])\n\
        for name, pw in db.execute(\"SELECT username, password FROM users WHERE username LIKE 'user%@bench.test'\"):\n\
        \x20   print(name.split('@')[0] + ':{ARGON2ID}' + pw + '::::::')\n";
    let out = run_ok(
        Command::new("python3").args(["-c", script]).arg(directory),
        "reading groxide's password hashes",
    )?;
    if !out.contains("$argon2id$") {
        bail!("groxide's directory holds no argon2id hashes: {out}");
    }
    std::fs::write(dovecot_dir.join("passwd"), out)?;
    Ok(())
}

/// CPU seconds of groxide's daemons on the read path.
fn groxide_cpu(sup: &Supervisor) -> f64 {
    ["pop3", "midb", "exmdb", "event"]
        .iter()
        .map(|n| sup.pid(n).map_or(0.0, |p| cpu_seconds(p, false)))
        .sum()
}

/// CPU seconds of Dovecot: the master and its per-login processes.
fn dovecot_cpu(root: &Path) -> f64 {
    dovecot_master_pid(&root.join("dovecot")).map_or(0.0, tree_cpu_seconds)
}

/// What one load measured (medians over the runs).
#[derive(Clone, Copy)]
struct Figures {
    rate: f64,
    mbps: f64,
    /// Server CPU milliseconds per 1000 operations.
    cpu_ms: f64,
    /// The generator's own CPU, percent of one core over the window.
    generator_pct: f64,
}

/// One run of a load against one server: its figures.
struct Run {
    rate: f64,
    mbps: f64,
    cpu_ms: f64,
    generator_pct: f64,
}

/// Runs the generator once; `cpu` reads the server's CPU seconds.
fn load_once(
    generator: &Path,
    mode: &str,
    addr: &str,
    conns: usize,
    suffix: &str,
    o: &Options,
    cpu: &dyn Fn() -> f64,
) -> Result<Run> {
    let before = cpu();
    let out = run_ok(
        Command::new(generator).args([
            mode,
            addr,
            &conns.to_string(),
            &o.seconds.to_string(),
            &MAIL_USERS.to_string(),
            suffix,
        ]),
        "pop3_load",
    )?;
    let used = cpu() - before;
    if field(&out, "errors") > 0.0 {
        bail!("{addr}: {mode} failed: {out}");
    }
    // The run also spends a warm-up second and the wind-down: ops cover the window.
    let ops = field(&out, "ops").max(1.0);
    let window_share = o.seconds / (o.seconds + 1.0);
    Ok(Run {
        rate: field(&out, "rate"),
        mbps: field(&out, "mbps"),
        cpu_ms: used * window_share / ops * 1e6,
        generator_pct: 100.0 * field(&out, "generator_cpu_s") / field(&out, "seconds").max(1e-9),
    })
}

/// Medians of runs.
fn medians(runs: &[Run]) -> Figures {
    let pick = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
    Figures {
        rate: pick(|r| r.rate),
        mbps: pick(|r| r.mbps),
        cpu_ms: pick(|r| r.cpu_ms),
        generator_pct: pick(|r| r.generator_pct),
    }
}

/// One side of a side-by-side load: the address, login suffix, CPU reader,
/// and what to do before each of its runs.
struct Side<'a> {
    addr: &'a str,
    suffix: &'a str,
    cpu: &'a dyn Fn() -> f64,
    before: &'a dyn Fn() -> Result<()>,
}

/// Runs one load `reps` times on each side, alternating which goes first
/// (so drift from other work on the machine hits every side alike); the
/// medians of each side.
fn load_side_by_side(
    generator: &Path,
    mode: &str,
    conns: usize,
    o: &Options,
    sides: &[Side<'_>],
) -> Result<Vec<Figures>> {
    let mut runs: Vec<Vec<Run>> = sides.iter().map(|_| Vec::new()).collect();
    for rep in 0..o.reps {
        for k in 0..sides.len() {
            let i = (k + rep) % sides.len();
            let side = &sides[i];
            (side.before)()?;
            runs[i].push(load_once(
                generator,
                mode,
                side.addr,
                conns,
                side.suffix,
                o,
                side.cpu,
            )?);
        }
    }
    Ok(runs.iter().map(|r| medians(r)).collect())
}

/// VmRSS and VmHWM of groxide's daemons, in MiB: "pop3 12.3 MiB (peak 40.1), …".
fn groxide_rss(sup: &Supervisor) -> String {
    ["pop3", "midb", "exmdb", "event", "delivery"]
        .iter()
        .filter_map(|n| {
            let pid = sup.pid(n)?;
            Some(format!(
                "{n} {:.1} MiB (peak {:.1})",
                status_kib(pid, "VmRSS:") as f64 / 1024.0,
                status_kib(pid, "VmHWM:") as f64 / 1024.0
            ))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Failed logins at once, each running a password check.
const BAD_LOGINS: usize = 100;

/// `BAD_LOGINS` failed logins at once against groxide-pop3, then its RSS
/// right after and 10 s later (memory an administrator sees kept).
fn bad_login_burst(generator: &Path, sup: &Supervisor, pop3: &str) -> Result<String> {
    let pid = sup.pid("pop3").context("groxide-pop3 pid")?;
    let before = status_kib(pid, "VmRSS:");
    let out = run_ok(
        Command::new(generator).args([
            "badlogin",
            pop3,
            &BAD_LOGINS.to_string(),
            "0",
            "0",
            "@bench.test",
        ]),
        "pop3_load badlogin",
    )?;
    let right_after = status_kib(pid, "VmRSS:");
    std::thread::sleep(Duration::from_secs(10));
    let later = status_kib(pid, "VmRSS:");
    let peak = status_kib(pid, "VmHWM:");
    Ok(format!(
        "{BAD_LOGINS} failed logins at once ({} refused, {} broken, {:.1} s): groxide-pop3 RSS \
         {:.1} MiB before, {:.1} MiB right after, {:.1} MiB 10 s later (peak {:.1} MiB)",
        field(&out, "ops"),
        field(&out, "errors"),
        field(&out, "seconds"),
        before as f64 / 1024.0,
        right_after as f64 / 1024.0,
        later as f64 / 1024.0,
        peak as f64 / 1024.0
    ))
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let bin = build_release()?;
    let generator = bin.join("examples/pop3_load");
    let root = workspace_root().join("var/bench/pop3");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    let mbox = root.join("sample.mbox");
    run_ok(
        Command::new("python3")
            .arg(Path::new(PEERS).join("gen_mbox.py"))
            .arg(&mbox)
            .arg(SAMPLE.to_string())
            .arg("7"),
        "gen_mbox.py",
    )?;

    let mut sup = Supervisor::default();
    let groxide = start_groxide(&mut sup, &root, &bin)?;
    let dovecot = start_dovecot(&root)?;
    let result = (|| -> Result<Vec<String>> {
        let mbox = mbox.to_string_lossy().into_owned();
        let per = PER_USER.to_string();
        let users = MAIL_USERS.to_string();
        for (addr, domain) in [
            (groxide.lmtp.as_str(), "bench.test"),
            (DOVECOT_LMTP, "localhost"),
        ] {
            let out = run_ok(
                Command::new(&generator).args(["deliver", addr, &mbox, &users, domain, &per]),
                "pop3_load deliver",
            )?;
            println!("delivered to {addr}: {}", out.trim());
        }
        let mut rows = Vec::new();
        let g_cpu = || groxide_cpu(&sup);
        let d_cpu = || dovecot_cpu(&root);
        let nothing = || Ok(());
        let dovecot_dir = root.join("dovecot");
        if o.wants("retr") {
            for &conns in CONNECTIONS {
                let figures = load_side_by_side(
                    &generator,
                    "retr",
                    conns,
                    &o,
                    &[
                        Side {
                            addr: &groxide.pop3,
                            suffix: "@bench.test",
                            cpu: &g_cpu,
                            before: &nothing,
                        },
                        Side {
                            addr: DOVECOT_POP3,
                            suffix: "",
                            cpu: &d_cpu,
                            before: &nothing,
                        },
                    ],
                )?;
                let (g, d) = (figures[0], figures[1]);
                println!(
                    "RETR {conns:>2} conns: groxide {:.0}/s {:.1} MB/s {:.0} CPU ms/1000 (generator {:.0} %), \
                     dovecot {:.0}/s {:.1} MB/s {:.0} CPU ms/1000 (generator {:.0} %)",
                    g.rate,
                    g.mbps,
                    g.cpu_ms,
                    g.generator_pct,
                    d.rate,
                    d.mbps,
                    d.cpu_ms,
                    d.generator_pct
                );
                rows.push(format!(
                    "| RETR | {conns} | {:.0} msg/s, {:.1} MB/s, {:.0} ms | {:.0} msg/s, {:.1} MB/s, {:.0} ms | {:.2} | {:.2} | {:.0} % / {:.0} % |",
                    g.rate,
                    g.mbps,
                    g.cpu_ms,
                    d.rate,
                    d.mbps,
                    d.cpu_ms,
                    g.rate / d.rate,
                    d.cpu_ms / g.cpu_ms,
                    g.generator_pct,
                    d.generator_pct
                ));
            }
            println!("RSS after RETR: {}", groxide_rss(&sup));
        }
        if o.wants("login") {
            let plain_passwords = || write_plain_passwords(&dovecot_dir);
            let argon_passwords = || write_groxide_hashes(&dovecot_dir, &groxide.directory);
            for &conns in CONNECTIONS {
                let figures = load_side_by_side(
                    &generator,
                    "login",
                    conns,
                    &o,
                    &[
                        Side {
                            addr: &groxide.pop3,
                            suffix: "@bench.test",
                            cpu: &g_cpu,
                            before: &nothing,
                        },
                        Side {
                            addr: DOVECOT_POP3,
                            suffix: "",
                            cpu: &d_cpu,
                            before: &plain_passwords,
                        },
                        Side {
                            addr: DOVECOT_POP3,
                            suffix: "",
                            cpu: &d_cpu,
                            before: &argon_passwords,
                        },
                    ],
                )?;
                let (g, plain, argon) = (figures[0], figures[1], figures[2]);
                println!(
                    "logins {conns:>2} conns: groxide {:.0}/s, dovecot {:.0}/s (argon2id), {:.0}/s (PLAIN)",
                    g.rate, argon.rate, plain.rate
                );
                rows.push(format!(
                    "| login (argon2id both) | {conns} | {:.0}/s, {:.0} ms | {:.0}/s, {:.0} ms | {:.2} | {:.2} | {:.0} % / {:.0} % |",
                    g.rate,
                    g.cpu_ms,
                    argon.rate,
                    argon.cpu_ms,
                    g.rate / argon.rate,
                    argon.cpu_ms / g.cpu_ms,
                    g.generator_pct,
                    argon.generator_pct
                ));
                rows.push(format!(
                    "| login (dovecot {{PLAIN}}) | {conns} | {:.0}/s, {:.0} ms | {:.0}/s, {:.0} ms | {:.2} | {:.2} | {:.0} % / {:.0} % |",
                    g.rate,
                    g.cpu_ms,
                    plain.rate,
                    plain.cpu_ms,
                    g.rate / plain.rate,
                    plain.cpu_ms / g.cpu_ms,
                    g.generator_pct,
                    plain.generator_pct
                ));
            }
            println!("RSS after logins: {}", groxide_rss(&sup));
        }
        if o.wants("burst") {
            println!("{}", bad_login_burst(&generator, &sup, &groxide.pop3)?);
            println!("RSS after the burst: {}", groxide_rss(&sup));
        }
        Ok(rows)
    })();
    let _ = Command::new("doveadm")
        .arg("-c")
        .arg(&dovecot)
        .arg("stop")
        .status();
    sup.stop_all(Duration::from_secs(10));
    let rows = result?;
    println!(
        "\nPOP3, {MAIL_USERS} users x {PER_USER} messages (gen_mbox.py, 2-60 KB), median of {} runs of {} s \
         (release; client on the same machine)\n",
        o.reps, o.seconds
    );
    println!(
        "ms = server CPU milliseconds per 1000 messages or logins (all groxide daemons on the path; \
         Dovecot's master and children); ratio = groxide rate / dovecot rate; \
         CPU ratio = dovecot CPU / groxide CPU (above 1: groxide needs less); \
         generator = the load generator's own CPU over the window, % of one core \
         (groxide run / dovecot run)\n"
    );
    println!("| measure | conns | groxide | dovecot | ratio | CPU ratio | generator |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}
