//! `cargo xtask fuzz TARGET [--seconds N]`: one cargo-fuzz target on the
//! nightly toolchain for N seconds (default 60), then libFuzzer's final
//! statistics (executions, coverage). The seeds in git are read; what the
//! run finds goes to `<target dir>/fuzz-corpus/<target>`; a crash input
//! goes to tests/fuzz/reproducers/
//! <target>/ (replayed on stable by `cargo test -p groxide-fuzz-harness`).

use anyhow::{Context as _, Result, bail};
use std::path::Path;
use std::process::Command;

/// A target: (name, fuzz crate dir, bin, seed dir under the crate).
const TARGETS: &[(&str, &str, &str, &str)] = &[
    (
        "pop3_command",
        "tests/fuzz",
        "pop3_command",
        "corpus/pop3_command",
    ),
    ("lmtp", "tests/fuzz", "lmtp", "corpus/lmtp"),
    ("mime", "tests/fuzz", "mime", "corpus/mime"),
    ("config", "tests/fuzz", "config", "corpus/config"),
    (
        "routing_list",
        "tests/fuzz",
        "routing_list",
        "corpus/routing_list",
    ),
    ("wbxml", "tests/fuzz", "wbxml", "corpus/wbxml"),
    ("ical", "tests/fuzz", "ical", "corpus/ical"),
    ("vcard", "tests/fuzz", "vcard", "corpus/vcard"),
    ("xml", "tests/fuzz", "xml", "corpus/xml"),
    (
        "imap_receiver",
        "crates/imap-proto/fuzz",
        "receiver",
        "seeds",
    ),
    (
        "imap_authenticate",
        "crates/imap-proto/fuzz",
        "authenticate",
        "seeds",
    ),
    (
        "imap_roundtrip",
        "crates/imap-proto/fuzz",
        "roundtrip",
        "seeds",
    ),
    ("imap_session", "crates/imap/fuzz", "session", "seeds"),
    ("wbxml_decode", "crates/wbxml/fuzz", "decode", "seeds"),
    ("wbxml_from_xml", "crates/wbxml/fuzz", "from_xml", "seeds"),
];

fn names() -> String {
    TARGETS.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
}

/// The rustup proxy `cargo` with the variables of the outer cargo removed
/// (so `+nightly` picks the toolchain).
fn nightly_cargo(root: &Path) -> Command {
    let mut c = Command::new("cargo");
    c.current_dir(root);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|n| {
            super::set_by_cargo_run(n) || n == "CARGO" || n == "RUSTUP_TOOLCHAIN" || n == "RUSTC"
        }) {
            c.env_remove(name);
        }
    }
    c.arg("+nightly");
    c
}

fn ensure_cargo_fuzz(root: &Path) -> Result<()> {
    let ok = nightly_cargo(root)
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz (cargo install cargo-fuzz)");
    let st = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .context("running cargo install cargo-fuzz")?;
    if !st.success() {
        bail!("cargo install cargo-fuzz failed");
    }
    Ok(())
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let Some(name) = args.first() else {
        bail!("fuzz: name a target: {}", names());
    };
    let mut seconds: u64 = 60;
    let mut rest = args[1..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = rest
                    .next()
                    .and_then(|s| s.parse().ok())
                    .context("--seconds needs a number")?;
            }
            other => bail!("fuzz: unknown argument {other}"),
        }
    }
    let Some(&(_, dir, bin, seeds)) = TARGETS.iter().find(|t| t.0 == name) else {
        bail!("fuzz: unknown target {name}; known: {}", names());
    };
    ensure_cargo_fuzz(root)?;
    let fuzz_dir = root.join(dir);
    // What a run finds stays in the target dir (kept across runs); the
    // seeds in git are read only.
    let corpus = super::target_dir().join("fuzz-corpus").join(name);
    std::fs::create_dir_all(&corpus)?;
    let reproducers = root.join("tests/fuzz/reproducers").join(name);
    std::fs::create_dir_all(&reproducers)?;
    let mut c = nightly_cargo(root);
    c.args(["fuzz", "run", "--fuzz-dir"])
        .arg(&fuzz_dir)
        // No sanitizer: groxide has no unsafe code, and this runs twice
        // as many inputs; debug assertions catch overflow.
        .args(["--sanitizer", "none", "--debug-assertions", bin])
        .arg(&corpus);
    c.arg(fuzz_dir.join(seeds));
    c.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", reproducers.display()))
        .args(["-print_final_stats=1", "-rss_limit_mb=2048", "-timeout=20"]);
    if let Some(dict) = std::fs::read_dir(&fuzz_dir)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "dict"))
    {
        c.arg(format!("-dict={}", dict.display()));
    }
    let before = entries(&reproducers);
    let st = c.status().context("running cargo fuzz")?;
    if !st.success() {
        let found: Vec<_> = entries(&reproducers)
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        if found.is_empty() {
            bail!("fuzz target {name}: cargo fuzz failed before finding anything (build error?)");
        }
        bail!(
            "fuzz target {name} found a crash: {}",
            found
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The files in `dir` now.
fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect()
}
