//! `cargo xtask bench delivery [--seconds S] [--reps R]`: LMTP deliveries/s
//! and p50/p99 latency of groxide-delivery (with groxide-exmdb, release
//! build) and Dovecot's LMTP, side by side in one run, with one load
//! generator (crates/delivery/examples/lmtp_load.rs, release) and the same
//! messages: 4 and 16 connections, 10 KB and 100 KB messages, 50 users.
//!
//! Dovecot runs from /work/shared/peers/dovecot.conf's recipe (maildir,
//! `mail_fsync = optimized`, its default: new mail is fsynced before the
//! reply). Both write to the same file system, under ./var/bench/delivery.

use crate::bench_common::{
    BenchBackends, build_release, field, free_port, launch_dovecot, median, run_ok,
    start_bench_node, wait_for,
};
use crate::proc::Supervisor;
use crate::workspace_root;
use anyhow::{Context as _, Result, bail};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where the peer recipes live.
const PEERS: &str = "/work/shared/peers";
/// Dovecot's LMTP address in the peer config.
const DOVECOT_LMTP: &str = "127.0.0.1:10024";
/// Users in each server.
const USERS: usize = 50;
/// The load: connections × message size.
const CONNECTIONS: &[usize] = &[4, 16];
const SIZES: &[usize] = &[10 * 1024, 100 * 1024];

struct Options {
    seconds: f64,
    reps: usize,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        seconds: 10.0,
        reps: 3,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("a value is missing");
        match a.as_str() {
            "--seconds" => o.seconds = value()?.parse().context("--seconds")?,
            "--reps" => o.reps = value()?.parse().context("--reps")?,
            other => bail!("bench delivery: unknown argument {other}"),
        }
    }
    Ok(o)
}

/// One groxide node (event, exmdb, delivery) with 50 users.
fn start_groxide(sup: &mut Supervisor, root: &Path, bin: &Path) -> Result<SocketAddr> {
    let node = start_bench_node(sup, root, bin, BenchBackends::ExmdbOnly, "")?;
    let lmtp: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    node.write_config("delivery.cfg", format!("lda_listen = {lmtp}\n"))?;
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
    node.start(sup, "delivery", lmtp)?;
    Ok(lmtp)
}

/// Dovecot from the peer recipe; returns its config file (for stopping).
fn start_dovecot(root: &Path) -> Result<PathBuf> {
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
    let passwd: String = (1..=USERS)
        .map(|i| format!("user{i}:{{PLAIN}}pass::::::\n"))
        .collect();
    std::fs::write(dir.join("passwd"), passwd)?;
    let fsync = run_ok(
        Command::new("doveconf")
            .arg("-c")
            .arg(&conf)
            .arg("mail_fsync"),
        "doveconf",
    )?;
    println!("dovecot: {}", fsync.trim());
    launch_dovecot(&dir, &conf, "dovecot-lmtpd")?;
    wait_for(DOVECOT_LMTP.parse()?, "dovecot lmtp")?;
    Ok(conf)
}

#[derive(Clone, Copy, Default)]
struct Figures {
    rate: f64,
    p50: f64,
    p99: f64,
}

fn load(
    generator: &Path,
    addr: &str,
    conns: usize,
    size: usize,
    o: &Options,
    domain: &str,
) -> Result<Figures> {
    let mut runs = Vec::new();
    for _ in 0..o.reps {
        let out = run_ok(
            Command::new(generator).args([
                addr,
                &conns.to_string(),
                &size.to_string(),
                &o.seconds.to_string(),
                &USERS.to_string(),
                domain,
                "1",
            ]),
            "lmtp_load",
        )?;
        if field(&out, "errors") > 0.0 {
            bail!("{addr}: deliveries failed: {out}");
        }
        runs.push(Figures {
            rate: field(&out, "rate"),
            p50: field(&out, "p50_ms"),
            p99: field(&out, "p99_ms"),
        });
    }
    Ok(Figures {
        rate: median(runs.iter().map(|r| r.rate).collect()),
        p50: median(runs.iter().map(|r| r.p50).collect()),
        p99: median(runs.iter().map(|r| r.p99).collect()),
    })
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let bin = build_release()?;
    let generator = bin.join("examples/lmtp_load");
    let root = workspace_root().join("var/bench/delivery");
    // A Dovecot left behind by an interrupted run would hold the LMTP port.
    let old_conf = root.join("dovecot/dovecot.conf");
    if old_conf.exists() {
        let _ = Command::new("doveadm")
            .arg("-c")
            .arg(&old_conf)
            .arg("stop")
            .stderr(Stdio::null())
            .status();
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;

    let mut sup = Supervisor::default();
    let groxide = start_groxide(&mut sup, &root, &bin)?;
    let dovecot = start_dovecot(&root)?;
    let result = (|| -> Result<Vec<(usize, usize, Figures, Figures)>> {
        let mut rows = Vec::new();
        for &size in SIZES {
            for &conns in CONNECTIONS {
                let g = load(
                    &generator,
                    &groxide.to_string(),
                    conns,
                    size,
                    &o,
                    "bench.test",
                )?;
                let d = load(&generator, DOVECOT_LMTP, conns, size, &o, "localhost")?;
                println!(
                    "{conns:>2} conns {:>3} KB: groxide {:>7.1}/s  dovecot {:>7.1}/s  ratio {:.2}",
                    size / 1024,
                    g.rate,
                    d.rate,
                    g.rate / d.rate
                );
                rows.push((conns, size, g, d));
            }
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
        "\nLMTP delivery, {} users, median of {} runs of {} s (release; client on the same machine)\n",
        USERS, o.reps, o.seconds
    );
    println!(
        "| conns | size | groxide/s | p50 ms | p99 ms | dovecot/s | p50 ms | p99 ms | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (conns, size, g, d) in rows {
        println!(
            "| {conns} | {} KB | {:.0} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.2} |",
            size / 1024,
            g.rate,
            g.p50,
            g.p99,
            d.rate,
            d.p50,
            d.p99,
            g.rate / d.rate
        );
    }
    Ok(())
}
