//! `cargo xtask bench cluster [--seconds S] [--reps R]`: what serving a
//! mailbox from another node costs. A three-node release cluster
//! (`cargo xtask cluster`'s, on 127.0.0.12-14 under var/bench/cluster) with
//! every user homed on node 1; the same load runs against node 1 (local:
//! IMAP → midb and LMTP → exmdb on the same node) and against node 2
//! (remote: IMAP at node 2 → midb at node 1, LMTP at node 2 → exmdb at node
//! 1), alternating run by run, with the IMAP and LMTP load generators of the
//! IMAP and delivery benchmarks (crates/imap/examples/imap_load.rs,
//! crates/delivery/examples/lmtp_load.rs). Medians and the ratio remote/local,
//! with the server CPU per operation (every daemon of the three nodes,
//! from /proc, over the generator's run) and the generator's own CPU per
//! operation (what this process reaped from it).
//! Also the IDLE wake-up latency: from the LMTP acknowledgement of a message
//! to the `* n EXISTS` of a session idling on that INBOX, with IDLE and
//! LMTP at the home node, and with IDLE at node 2 and LMTP at node 3.

use crate::bench_common::{build_release, cpu_seconds, field, median, run_ok};
use crate::cluster::{DOMAIN, Spec};
use crate::node_config::{PORTS, host_literal};
use crate::proc::Supervisor;
use crate::workspace_root;
use anyhow::{Context as _, Result, bail};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;

/// Users, all homed on node 1.
const USERS: usize = 20;
/// IMAP clients per user (persistent sessions).
const CLIENTS_PER_USER: usize = 20;
/// Messages each INBOX starts with.
const INBOX_MESSAGES: usize = 100;
/// LMTP connections, and the message size.
const LMTP_CONNECTIONS: &[usize] = &[4, 16];
const LMTP_SIZE: usize = 10 * 1024;
const PASSWORD: &str = "pass";
/// Messages delivered one at a time to an IDLE session, per run.
const IDLE_WAKEUPS: usize = 50;

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
            other => bail!("bench cluster: unknown argument {other}"),
        }
    }
    Ok(o)
}

/// Medians of the runs against one node.
#[derive(Default)]
struct Runs {
    rate: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
    /// Server and generator CPU per operation, ms.
    server_ms: Vec<f64>,
    generator_ms: Vec<f64>,
}

/// The medians of a node's runs: rate, p50, p99, server and generator CPU
/// ms per operation.
type Medians = (f64, f64, f64, f64, f64);

impl Runs {
    fn add(&mut self, json: &str, cpu: Cpu) -> Result<()> {
        if field(json, "errors") > 0.0 {
            bail!("the load generator saw errors: {json}");
        }
        self.rate.push(field(json, "rate"));
        self.p50.push(field(json, "p50_ms"));
        self.p99.push(field(json, "p99_ms"));
        let ops = cpu.ops.max(1.0);
        self.server_ms.push(cpu.server_s * 1000.0 / ops);
        self.generator_ms.push(cpu.generator_s * 1000.0 / ops);
        Ok(())
    }

    fn medians(&self) -> Medians {
        (
            median(self.rate.clone()),
            median(self.p50.clone()),
            median(self.p99.clone()),
            median(self.server_ms.clone()),
            median(self.generator_ms.clone()),
        )
    }
}

/// CPU seconds of one generator run: every daemon of the cluster, and the
/// generator itself; `ops` the operations it made.
#[derive(Clone, Copy)]
struct Cpu {
    server_s: f64,
    generator_s: f64,
    ops: f64,
}

/// Runs a load generator to its end; its output and the CPU it and the
/// cluster's daemons used meanwhile (`ops` from the output's `field`).
fn measured(sup: &Supervisor, cmd: &mut Command, what: &str, ops: &str) -> Result<(String, Cpu)> {
    let pids = sup.pids();
    let servers = || pids.iter().map(|p| cpu_seconds(*p, false)).sum::<f64>();
    let me = std::process::id();
    // What this process reaped of its children: the generator, once waited for.
    let reaped = || cpu_seconds(me, true) - cpu_seconds(me, false);
    let (s0, g0) = (servers(), reaped());
    let out = run_ok(cmd, what)?;
    let cpu = Cpu {
        server_s: servers() - s0,
        generator_s: reaped() - g0,
        ops: field(&out, ops),
    };
    Ok((out, cpu))
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let bin = build_release()?;
    let spec = Spec {
        root: workspace_root().join("var/bench/cluster"),
        ips: (12..=14)
            .map(|n| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
            .collect(),
        shared_storage: false,
        mariadb: None,
        tls: false,
        log_level: "warn",
        // 20 sessions per user from one address: above the defaults; the
        // 400 sessions' first logins queue for their password checks as
        // Dovecot's do, instead of getting [UNAVAILABLE] after 5 s.
        extra: vec![
            ("groxide.cfg", "auth_check_wait = 60s\n".to_string()),
            (
                "imap.cfg",
                format!(
                    "imap_max_connections_per_ip = {n}\nimap_max_connections_per_user = {n}\ncontext_num = {n}\n\
                 imap_max_unauth_connections = {n}\nimap_max_unauth_connections_per_ip = {n}\n",
                    n = USERS * CLIENTS_PER_USER + 100
                ),
            ),
        ],
    };
    let cluster = crate::cluster::start(spec, &bin)?;
    cluster.admin(0, &["domain", "create", DOMAIN])?;
    for i in 1..=USERS {
        cluster.create_user(&format!("user{i}@{DOMAIN}"), PASSWORD, 0)?;
    }
    let imap_of = |n: usize| format!("{}:{}", host_literal(cluster.nodes[n].ip), PORTS.imap);
    let (local, remote) = (0, 1);
    let user_format = format!("user{{}}@{DOMAIN}");
    let imap_load = bin.join("examples/imap_load");
    let lmtp_load = bin.join("examples/lmtp_load");
    // The messages the IMAP benchmark uses (gen_mbox.py of the peers), for
    // the fill and for the mix's APPENDs.
    let mbox = workspace_root().join("var/bench/cluster-sample.mbox");
    run_ok(
        Command::new("python3")
            .arg(Path::new("/work/shared/peers").join("gen_mbox.py"))
            .arg(&mbox)
            .arg("500"),
        "gen_mbox.py",
    )?;
    println!("filling {USERS} mailboxes with {INBOX_MESSAGES} messages each …");
    run_ok(
        Command::new(&imap_load)
            .args([
                "fill",
                &imap_of(local),
                &USERS.to_string(),
                &user_format,
                PASSWORD,
                &INBOX_MESSAGES.to_string(),
            ])
            .arg(&mbox),
        "imap_load fill",
    )?;

    let mut rows = Vec::new();
    let mut imap = [Runs::default(), Runs::default()];
    for _ in 0..o.reps {
        for (slot, node) in [(0, local), (1, remote)] {
            let (out, cpu) = measured(
                &cluster.sup,
                Command::new(&imap_load)
                    .args([
                        "mixed",
                        &imap_of(node),
                        &USERS.to_string(),
                        &CLIENTS_PER_USER.to_string(),
                        &o.seconds.to_string(),
                        &user_format,
                        PASSWORD,
                        "0",
                    ])
                    .arg(&mbox),
                "imap_load mixed",
                "commands",
            )?;
            imap[slot].add(&out, cpu)?;
        }
    }
    rows.push((
        format!("IMAP mix, {} sessions (cmds/s)", USERS * CLIENTS_PER_USER),
        imap[0].medians(),
        imap[1].medians(),
    ));
    // IDLE wake-up: an IMAP session in IDLE on user1's INBOX (homed on node
    // 1), a message delivered over LMTP; from the LMTP acknowledgement to
    // the session's EXISTS. Local: IDLE and LMTP at node 1; across nodes:
    // IDLE at node 2, LMTP at node 3.
    let mut idle = [Runs::default(), Runs::default()];
    let idle_user = format!("user1@{DOMAIN}");
    for _ in 0..o.reps {
        for (slot, imap_node, lmtp_node) in [(0, local, local), (1, remote, 2)] {
            let (out, cpu) = measured(
                &cluster.sup,
                Command::new(&imap_load).args([
                    "idlewake",
                    &imap_of(imap_node),
                    &cluster.lmtp(lmtp_node),
                    &idle_user,
                    PASSWORD,
                    &IDLE_WAKEUPS.to_string(),
                ]),
                "imap_load idlewake",
                "wakeups",
            )?;
            println!(
                "IDLE wake-up, IMAP at node {}, LMTP at node {}: {}",
                imap_node + 1,
                lmtp_node + 1,
                out.trim()
            );
            // rate = wake-ups measured; the latency columns carry the figures.
            idle[slot].add(
                &format!(
                    "{{\"rate\": {}, \"p50_ms\": {}, \"p99_ms\": {}, \"errors\": 0}}",
                    field(&out, "max_ms"),
                    field(&out, "p50_ms"),
                    field(&out, "p99_ms")
                ),
                cpu,
            )?;
        }
    }
    rows.push((
        format!("IDLE wake-up after LMTP, {IDLE_WAKEUPS} messages (max ms)"),
        idle[0].medians(),
        idle[1].medians(),
    ));
    for &conns in LMTP_CONNECTIONS {
        let mut lmtp = [Runs::default(), Runs::default()];
        for _ in 0..o.reps {
            for (slot, node) in [(0, local), (1, remote)] {
                let (out, cpu) = measured(
                    &cluster.sup,
                    Command::new(&lmtp_load).args([
                        &cluster.lmtp(node),
                        &conns.to_string(),
                        &LMTP_SIZE.to_string(),
                        &o.seconds.to_string(),
                        &USERS.to_string(),
                        DOMAIN,
                        "1",
                    ]),
                    "lmtp_load",
                    "deliveries",
                )?;
                lmtp[slot].add(&out, cpu)?;
            }
        }
        rows.push((
            format!("LMTP, {conns} conns, {} KB (msgs/s)", LMTP_SIZE / 1024),
            lmtp[0].medians(),
            lmtp[1].medians(),
        ));
    }
    drop(cluster);
    print_table(&rows, &o, &bin);
    Ok(())
}

type Row = (String, Medians, Medians);

fn print_table(rows: &[Row], o: &Options, bin: &Path) {
    println!(
        "\nCross-node vs home-node service, users homed on node 1, median of {} runs of {} s \
         (release, {}; three nodes and the load generators on one machine)\n",
        o.reps,
        o.seconds,
        bin.display()
    );
    println!(
        "| workload | at the home node | p50 / p99 ms | server · generator CPU ms/op | at another node | p50 / p99 ms | server · generator CPU ms/op | remote / local | server CPU remote / local |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, (lr, l50, l99, ls, lg), (rr, r50, r99, rs, rg)) in rows {
        println!(
            "| {name} | {lr:.0} | {l50:.1} / {l99:.1} | {ls:.3} · {lg:.3} | {rr:.0} | {r50:.1} / {r99:.1} | {rs:.3} · {rg:.3} | {:.2} | {:.2} |",
            rr / lr,
            rs / ls
        );
    }
}
