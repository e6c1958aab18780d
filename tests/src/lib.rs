//! Harness for groxide's end-to-end tests: finds the built daemon binaries,
//! writes config directories, starts daemons as real processes (killed when
//! the guard drops, also on panic), and waits for them without fixed sleeps.
//!
//! The binaries must be built first (`cargo xtask test` does it); a binary
//! older than its sources is refused ([`daemon_bin`]). Ports, waits, config
//! dirs and the process guard come from groxide-testkit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod clients;
pub mod cluster;

pub use cluster::{Cluster, ClusterOptions, Node, NodeOptions, Service};

pub use groxide_testkit::{ConfigDir, free_port, wait_listening, wait_listening_from, wait_until};

use groxide_testkit::Process;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Mutex;
use std::time::SystemTime;

/// A running daemon process (see [`start_daemon`]).
pub type Daemon = Process;

/// The directory holding the workspace's binaries (next to this test binary).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test>-<hash>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    dir.to_path_buf()
}

/// How to make the binaries the tests start.
const BUILD_HINT: &str = "run `cargo build --workspace --bins` first, or run the tests with `cargo xtask test` (it builds them)";

/// Path of `groxide-<name>`; panics with a clear message when it is not
/// built, or when it is stale: older than one of the source files it was
/// built from (cargo's dep-info next to it lists them, every workspace
/// crate it links included), so a test never passes or fails on code that
/// is not the tree's.
pub fn daemon_bin(name: &str) -> PathBuf {
    workspace_bin(&format!("groxide-{name}"))
}

/// Path of the workspace binary `file` (e.g. `xtask`), checked as
/// [`daemon_bin`] checks the daemons.
pub fn workspace_bin(file: &str) -> PathBuf {
    static CHECKED: Mutex<Option<HashMap<String, Result<(), String>>>> = Mutex::new(None);
    let p = bin_dir().join(file);
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    let verdict = checked
        .get_or_insert_with(HashMap::new)
        .entry(file.to_string())
        .or_insert_with(|| check_fresh(&p))
        .clone();
    if let Err(problem) = verdict {
        panic!("{problem}: {BUILD_HINT}");
    }
    p
}

/// Whether the binary at `bin` exists and is newer than every source file
/// of its dep-info (`<bin>.d`).
fn check_fresh(bin: &Path) -> Result<(), String> {
    let built = modified(bin).ok_or_else(|| format!("{} is not built", bin.display()))?;
    let dep_info = bin.with_extension("d");
    let text = std::fs::read_to_string(&dep_info).map_err(|e| {
        format!(
            "{}: {e} (cannot tell whether it is stale)",
            dep_info.display()
        )
    })?;
    for source in dep_info_sources(&text) {
        match modified(&source) {
            Some(changed) if changed <= built => {}
            Some(_) => {
                return Err(format!(
                    "{} is stale: {} changed after it was built",
                    bin.display(),
                    source.display()
                ));
            }
            None => {
                return Err(format!(
                    "{} is stale: {} it was built from is gone",
                    bin.display(),
                    source.display()
                ));
            }
        }
    }
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The files a Makefile-style dep-info line lists after `target:` (a space
/// inside a path is written `\ `).
fn dep_info_sources(text: &str) -> Vec<PathBuf> {
    let Some(first) = text.lines().next() else {
        return Vec::new();
    };
    let Some((_, deps)) = first.split_once(": ") else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = deps.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                current.push(' ');
                chars.next();
            }
            ' ' => {
                if !current.is_empty() {
                    paths.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        paths.push(PathBuf::from(current));
    }
    paths
}

/// Starts `groxide-<name> --config-dir <dir> [args]` with its output captured.
pub fn start_daemon(name: &str, config_dir: &Path, args: &[&str]) -> Daemon {
    let mut cmd = Command::new(daemon_bin(name));
    cmd.arg("--config-dir").arg(config_dir).args(args);
    Process::spawn(&format!("groxide-{name}"), cmd)
}

/// Runs a binary to completion, returning (status, stdout, stderr).
pub fn run_bin(name: &str, args: &[&str]) -> (ExitStatus, String, String) {
    let out = Command::new(daemon_bin(name))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run binary");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_lists_every_source_with_escaped_spaces() {
        let text = "/t/groxide-x: /w/a.rs /w/my\\ dir/b.rs /o/gen.rs\n\n/w/a.rs:\n";
        assert_eq!(
            dep_info_sources(text),
            [
                PathBuf::from("/w/a.rs"),
                PathBuf::from("/w/my dir/b.rs"),
                PathBuf::from("/o/gen.rs")
            ]
        );
    }

    #[test]
    fn a_binary_older_than_one_of_its_sources_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("main.rs");
        let bin = dir.path().join("groxide-x");
        std::fs::write(&source, "fn main() {}").unwrap();
        std::fs::write(&bin, "binary").unwrap();
        std::fs::write(
            bin.with_extension("d"),
            format!("{}: {}\n", bin.display(), source.display()),
        )
        .unwrap();
        let past = SystemTime::now() - std::time::Duration::from_secs(60);
        let set = |path: &Path, time: SystemTime| {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(time)
                .unwrap();
        };
        set(&source, past);
        assert_eq!(check_fresh(&bin), Ok(()));
        set(&bin, past - std::time::Duration::from_secs(60));
        let problem = check_fresh(&bin).unwrap_err();
        assert!(
            problem.contains("is stale") && problem.contains("main.rs"),
            "{problem}"
        );
        std::fs::remove_file(&source).unwrap();
        assert!(check_fresh(&bin).unwrap_err().contains("is gone"));
        assert!(
            check_fresh(&dir.path().join("groxide-y"))
                .unwrap_err()
                .contains("is not built")
        );
    }
}
