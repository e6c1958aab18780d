//! One module per command group; each returns its result for printing.

pub(crate) mod alias;
pub(crate) mod altname;
pub(crate) mod cluster;
pub(crate) mod device;
pub(crate) mod domain;
pub(crate) mod pim;
pub(crate) mod server;
pub(crate) mod timer;
pub(crate) mod user;

use crate::failure::{Failure, exit};
use crate::setup::Setup;
use groxide_directory::{Directory, ServerId};
use std::io::BufRead;
use std::path::Path;

/// A server named by id or hostname that must exist (0 = none, when `allow_none`).
pub(crate) async fn server_arg(
    directory: &Directory,
    text: &str,
    allow_none: bool,
) -> Result<ServerId, Failure> {
    if let Ok(id) = text.parse::<u32>() {
        let id = ServerId(id);
        if !id.is_set() {
            return if allow_none {
                Ok(id)
            } else {
                Err(Failure::new(
                    exit::USAGE,
                    "server 0 means \"none\" and cannot be used here",
                ))
            };
        }
        return match directory.server(id).await? {
            Some(_) => Ok(id),
            None => Err(Failure::new(
                exit::NOT_FOUND,
                format!("server {id} does not exist"),
            )),
        };
    }
    match directory.server_by_hostname(text).await? {
        Some(server) => Ok(server.id),
        None => Err(Failure::new(
            exit::NOT_FOUND,
            format!("server {text} does not exist"),
        )),
    }
}

/// Refuses names that would not stay one directory level of a store path.
pub(crate) fn path_component(what: &str, name: &str) -> Result<(), Failure> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_whitespace() || c.is_control());
    if bad {
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "{what} {name:?} cannot name a store directory (no /, \\, spaces, leading dot)"
            ),
        ));
    }
    Ok(())
}

/// `<data_path>/<parts…>` as text (store directories are UTF-8).
pub(crate) fn store_path(setup: &Setup, parts: &[&str]) -> Result<String, Failure> {
    let mut path = setup.data_path();
    if path.as_os_str().is_empty() || path.is_relative() {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "data_path must be an absolute path, not {:?}",
                path.display().to_string()
            ),
        ));
    }
    for part in parts {
        path.push(part);
    }
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| Failure::new(exit::CONFIG, "data_path is not UTF-8"))
}

/// The password of `--password` or the first line of stdin (`--password-stdin`).
pub(crate) fn read_password(
    password: Option<String>,
    from_stdin: bool,
) -> Result<Option<String>, Failure> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Failure::new(
                exit::FAILURE,
                format!("reading the password from stdin: {e}"),
            )
        })?;
        Some(line.trim_end_matches(['\n', '\r']).to_string())
    } else {
        password
    };
    if password.as_deref() == Some("") {
        return Err(Failure::new(exit::USAGE, "the password is empty"));
    }
    Ok(password)
}

/// Parses a size such as `2G` (for quotas).
pub(crate) fn size_arg(text: &str) -> Result<u64, Failure> {
    groxide_config::parse_size(text)
        .map_err(|e| Failure::new(exit::USAGE, format!("bad size {text:?}: {e}")))
}

/// Whether stderr is a terminal (progress bars only then).
pub(crate) fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Reloads the local daemons of `config_dir` and describes what happened.
pub(crate) fn reload_and_report(config_dir: &Path) -> (serde_json::Value, String) {
    let signalled = crate::reload::reload_local(config_dir);
    let json = serde_json::Value::Array(
        signalled
            .iter()
            .map(|s| serde_json::json!({ "pid": s.pid, "name": s.name, "error": s.error }))
            .collect(),
    );
    let text = if signalled.is_empty() {
        "no local groxide daemon of this config directory is running".to_string()
    } else {
        signalled
            .iter()
            .map(|s| match &s.error {
                None => format!("reloaded {} (pid {})", s.name, s.pid),
                Some(e) => format!("could not reload {} (pid {}): {e}", s.name, s.pid),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    (json, text)
}
