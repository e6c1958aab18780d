//! cargo xtask — developer commands for groxide.
//!
//! - `cargo xtask run`: build every daemon and run a single node from a config
//!   generated under ./var (data under ./var too); a daemon that dies is
//!   restarted with back-off; Ctrl-C stops everything.
//! - `cargo xtask cluster [--mariadb] [--shared-storage] [--tls] [--release]`:
//!   three nodes on 127.0.0.2-4 under ./var/cluster; Ctrl-C stops everything.
//! - `cargo xtask test [ARGS]`: build the daemons, then run every test
//!   (cargo nextest when installed, else cargo test).
//! - `cargo xtask gen-etc`: rewrite etc/*.cfg from the config schemas.
//! - `cargo xtask supervise --config-dir DIR [--pid-dir DIR] DAEMON…`: run
//!   daemons of a config dir made elsewhere under the same supervision.
//! - `cargo xtask fuzz TARGET [--seconds N]`: one cargo-fuzz target (nightly).

#[path = "bench/cluster.rs"]
mod bench_cluster;
#[path = "bench/common.rs"]
mod bench_common;
#[path = "bench/dav.rs"]
mod bench_dav;
#[path = "bench/delivery.rs"]
mod bench_delivery;
#[path = "bench/eas.rs"]
mod bench_eas;
#[path = "bench/ews.rs"]
mod bench_ews;
#[path = "bench/groupware.rs"]
mod bench_groupware;
#[path = "bench/imap.rs"]
mod bench_imap;
#[path = "bench/pop3.rs"]
mod bench_pop3;
mod cluster;
mod demo;
mod fuzz;
mod node;
mod node_config;
mod proc;
mod welcome;

use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A nested cargo, run in the workspace root with the environment of the
/// shell that ran `cargo xtask`: the variables cargo set for running xtask
/// itself are removed (see [`set_by_cargo_run`]).
fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(workspace_root());
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_run) {
            c.env_remove(name);
        }
    }
    c
}

/// Whether cargo sets the variable `name` for the program `cargo run` starts
/// (or for build scripts and tests it compiles), i.e. whether xtask sees it
/// only because it was started by cargo.
///
/// A nested cargo must not inherit them: build scripts that watch such a
/// variable (ring's reruns on `CARGO_MANIFEST_DIR` and `CARGO_PKG_*`) would
/// see it change between `cargo build` and `cargo xtask …`, and rebuild
/// ring, rustls, tonic and everything above them on every switch. `CARGO`
/// (the path of cargo itself) and what the user sets to configure cargo
/// (`CARGO_HOME`, `CARGO_TARGET_DIR`, `CARGO_BUILD_*`, …) stay.
fn set_by_cargo_run(name: &str) -> bool {
    matches!(
        name,
        "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_MANIFEST_LINKS"
            | "CARGO_CRATE_NAME"
            | "CARGO_BIN_NAME"
            | "CARGO_PRIMARY_PACKAGE"
            | "CARGO_TARGET_TMPDIR"
            | "CARGO_RUSTC_CURRENT_DIR"
            | "OUT_DIR"
    ) || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_CFG_")
        || name.starts_with("CARGO_BIN_EXE_")
}

/// Builds every binary of the workspace (the daemons the tests and `run` start).
fn build_bins(release: bool) -> Result<()> {
    let mut c = cargo();
    c.args(["build", "--workspace", "--bins"]);
    if release {
        c.arg("--release");
    }
    let st = c.status().context("running cargo build")?;
    if !st.success() {
        bail!("cargo build failed");
    }
    Ok(())
}

/// Where cargo puts binaries for this workspace.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_relative() {
                workspace_root().join(p)
            } else {
                p
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Runs .ci/prepare (idempotent): the Debian packages, Python clients and the
/// MariaDB server the tests use as real peers.
fn prepare() {
    let script = workspace_root().join(".ci/prepare");
    match Command::new(&script).status() {
        Ok(st) if st.success() => {}
        Ok(st) => eprintln!(
            "xtask: {} failed ({st}); tests that need its peers will fail",
            script.display()
        ),
        Err(e) => eprintln!("xtask: cannot run {}: {e}", script.display()),
    }
}

fn test(args: &[String]) -> Result<()> {
    prepare();
    build_bins(false)?;
    let nextest = cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let mut c = cargo();
    if nextest {
        c.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        eprintln!("xtask: cargo-nextest not found; using cargo test");
        c.args(["test", "--workspace", "--no-fail-fast"]);
    }
    c.args(args);
    let st = c.status().context("running the tests")?;
    if !st.success() {
        bail!("tests failed");
    }
    Ok(())
}

fn gen_etc() -> Result<()> {
    let etc = workspace_root().join("etc");
    std::fs::create_dir_all(&etc)?;
    for s in groxide_config::schema::all() {
        let path = etc.join(s.file);
        std::fs::write(&path, groxide_config::render_default_file(s))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `cargo xtask bench <target> [ARGS]`: the benchmarks of one area, each
/// side by side with its named peer where the issue names one. Targets map to
/// criterion benches of a crate, or to a harness in xtask/src/bench/.
fn bench(args: &[String]) -> Result<()> {
    let Some(target) = args.first() else {
        bail!("bench: name a target: {}", BENCH_TARGETS.join(", "));
    };
    let rest = &args[1..];
    match target.as_str() {
        "store" | "mime" | "imap-proto" => {
            let mut c = cargo();
            c.args(["bench", "-p", &format!("groxide-{target}")]);
            if !rest.is_empty() {
                c.arg("--").args(rest);
            }
            let st = c.status().context("running cargo bench")?;
            if !st.success() {
                bail!("cargo bench failed");
            }
            Ok(())
        }
        "timer" => bench_timer(rest),
        "delivery" => bench_delivery::run(rest),
        "cluster" => bench_cluster::run(rest),
        "pop3" => bench_pop3::run(rest),
        "imap" => bench_imap::run(rest),
        "groupware" => bench_groupware::run(rest),
        "dav" => bench_dav::run(rest),
        "eas" => bench_eas::run(rest),
        "ews" => bench_ews::run(rest),
        other => bail!(
            "bench: unknown target {other}; known: {}",
            BENCH_TARGETS.join(", ")
        ),
    }
}

/// `cargo xtask bench timer [--jobs N] [--runs R]`: groxide-timer's start-up
/// time and memory with a state file of N pending jobs (release build).
fn bench_timer(rest: &[String]) -> Result<()> {
    let mut c = cargo();
    c.args(["build", "--release", "-p", "groxide-timer"]);
    c.args(["--bins", "--examples"]);
    if !c.status().context("running cargo build")?.success() {
        bail!("cargo build failed");
    }
    let release = target_dir().join("release");
    let st = Command::new(release.join("examples/startup_bench"))
        .arg("--bin")
        .arg(release.join("groxide-timer"))
        .args(rest)
        .status()
        .context("running startup_bench")?;
    if !st.success() {
        bail!("the timer benchmark failed");
    }
    Ok(())
}

/// What `cargo xtask bench` knows.
const BENCH_TARGETS: &[&str] = &[
    "store",
    "mime",
    "imap-proto",
    "timer",
    "delivery",
    "imap",
    "pop3",
    "cluster",
    "groupware",
    "dav",
    "eas",
    "ews",
];

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
         run [--demo-password PW]   build and run a single node under ./var (Ctrl-C stops)\n  \
         cluster [--mariadb] [--shared-storage] [--tls] [--release]\n  \
                                    three nodes on 127.0.0.2-4 under ./var/cluster (Ctrl-C stops)\n  \
         test [ARGS]                build the daemons and run every test\n  \
         gen-etc                    rewrite etc/*.cfg from the config schemas\n  \
         supervise --config-dir DIR [--pid-dir DIR] DAEMON…\n  \
                                    run a config dir's daemons, restarting those that die\n  \
         bench TARGET [ARGS]        benchmarks of one area (store, mime, imap-proto, …)\n  \
         fuzz TARGET [--seconds N]  one cargo-fuzz target on nightly (pop3_command, lmtp, mime, …)"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        return usage();
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "run" => node::run(rest),
        "cluster" => cluster::run(rest),
        "test" => test(rest),
        "gen-etc" => gen_etc(),
        "supervise" => proc::supervise(rest),
        "bench" => bench(rest),
        "fuzz" => fuzz::run(&workspace_root(), rest),
        "-h" | "--help" | "help" => return usage(),
        other => {
            eprintln!("xtask: unknown command {other}");
            return usage();
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    /// The variables a nested cargo gets removed (the test binary itself was
    /// started by cargo, so it has them).
    fn removed() -> Vec<String> {
        cargo()
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .filter_map(|(name, _)| name.to_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn a_nested_cargo_does_not_inherit_what_cargo_set_for_running_xtask() {
        let removed = removed();
        for name in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "CARGO_PKG_VERSION"] {
            assert!(
                std::env::var_os(name).is_some(),
                "cargo sets {name} for tests"
            );
            assert!(removed.iter().any(|r| r == name), "{name} is passed on");
        }
    }

    #[test]
    fn what_configures_cargo_is_passed_on() {
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_JOBS",
            "CARGO_INCREMENTAL",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!set_by_cargo_run(name), "{name}");
        }
        assert!(!removed().iter().any(|name| OsStr::new(name) == "PATH"));
    }
}
