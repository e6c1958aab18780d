//! `reload`: SIGHUP to every groxide daemon on this machine that runs with
//! this config directory (found through /proc; no shell, no pid files).
//!
//! Daemons of other config directories (other installations, test nodes)
//! are left alone: a SIGHUP that reaches a process before it installed its
//! handler would end it.

use rustix::process::{Pid, Signal, kill_process};
use std::path::{Path, PathBuf};

/// The config directory a daemon uses when it is given none.
const DEFAULT_CONFIG_DIR: &str = "/etc/groxide";
/// Process names start with this; `groxide-admin` itself is no daemon.
const DAEMON_PREFIX: &str = "groxide-";
const ADMIN_NAME: &str = "groxide-admin";

/// A daemon that was sent SIGHUP, or could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signalled {
    pub pid: i32,
    pub name: String,
    /// Why the signal could not be sent.
    pub error: Option<String>,
}

/// Sends SIGHUP to every local daemon whose config directory is `config_dir`.
pub(crate) fn reload_local(config_dir: &Path) -> Vec<Signalled> {
    let ours = canonical(config_dir);
    let own_pid = std::process::id();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if u32::try_from(pid).is_ok_and(|p| p == own_pid) {
            continue;
        }
        let proc_dir = entry.path();
        let Ok(name) = std::fs::read_to_string(proc_dir.join("comm")) else {
            continue;
        };
        let name = name.trim().to_string();
        if !name.starts_with(DAEMON_PREFIX) || name == ADMIN_NAME {
            continue;
        }
        if config_dir_of(&proc_dir).is_none_or(|dir| dir != ours) {
            continue;
        }
        let error = match Pid::from_raw(pid) {
            Some(p) => kill_process(p, Signal::HUP).err().map(|e| e.to_string()),
            None => Some("invalid pid".into()),
        };
        found.push(Signalled { pid, name, error });
    }
    found.sort_by_key(|s| s.pid);
    found
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// The config directory of the process at `/proc/<pid>`: its `--config-dir`
/// argument, else its `GROXIDE_CONFIG_DIR`, else the default; relative to
/// its working directory.
fn config_dir_of(proc_dir: &Path) -> Option<PathBuf> {
    let cmdline = std::fs::read(proc_dir.join("cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let mut dir: Option<PathBuf> = None;
    for (i, arg) in args.iter().enumerate() {
        if *arg == b"--config-dir" {
            dir = args
                .get(i + 1)
                .map(|v| PathBuf::from(String::from_utf8_lossy(v).into_owned()));
        } else if let Some(v) = arg.strip_prefix(b"--config-dir=") {
            dir = Some(PathBuf::from(String::from_utf8_lossy(v).into_owned()));
        }
    }
    let dir = dir
        .or_else(|| env_config_dir(proc_dir))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_DIR));
    let dir = if dir.is_relative() {
        std::fs::read_link(proc_dir.join("cwd")).ok()?.join(dir)
    } else {
        dir
    };
    Some(canonical(&dir))
}

fn env_config_dir(proc_dir: &Path) -> Option<PathBuf> {
    let environ = std::fs::read(proc_dir.join("environ")).ok()?;
    environ
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(b"GROXIDE_CONFIG_DIR="))
        .filter(|v| !v.is_empty())
        .map(|v| PathBuf::from(String::from_utf8_lossy(v).into_owned()))
}
