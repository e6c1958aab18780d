//! Loading a real config directory: layers, origins, warnings and errors.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use groxide_config::keys::{imap, shared};
use groxide_config::{Config, ConfigError, ConfigWarning, Imap, LogLevel, Origin, Shared, schema};

fn write(dir: &Path, file: &str, text: &[u8]) {
    std::fs::write(dir.join(file), text).unwrap();
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// Loads the imap config of `dir` with `env` as the environment; returns the error text on failure.
fn load_imap(
    dir: &Path,
    env: &[(&str, &str)],
) -> Result<(Config<Imap>, Vec<ConfigWarning>), String> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::<Imap>::load_with_env(dir, &|var| env.get(var).cloned())
        .map_err(|errors| errors.to_string())
}

fn file_origin(dir: &Path, file: &str, line: usize) -> Origin {
    Origin::File {
        file: dir.join(file),
        line,
    }
}

#[test]
fn a_missing_config_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let errors = Config::<Imap>::load_with_env(&missing, &no_env)
        .err()
        .unwrap();
    assert!(matches!(errors.errors(), [ConfigError::MissingDir { path }] if *path == missing));
    assert_eq!(
        errors.to_string(),
        format!("{}: config directory does not exist", missing.display())
    );
}

#[test]
fn a_file_given_as_config_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "plain", b"");
    let errors = Config::<Imap>::load_with_env(&dir.path().join("plain"), &no_env)
        .err()
        .unwrap();
    assert!(matches!(
        errors.errors(),
        [ConfigError::NotADirectory { .. }]
    ));
}

#[test]
fn missing_files_in_an_existing_dir_mean_all_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let (config, warnings) = load_imap(dir.path(), &[]).unwrap();
    assert_eq!(warnings, vec![]);
    assert_eq!(
        config.get(imap::IMAP_CONN_TIMEOUT),
        Duration::from_secs(180)
    );
    assert_eq!(config.get(shared::LOG_LEVEL), LogLevel::Info);
    assert_eq!(config.origin(imap::IMAP_CONN_TIMEOUT), &Origin::Default);
    assert_eq!(config.dir(), dir.path());
}

#[test]
fn the_daemon_file_overrides_groxide_cfg_and_origins_say_which_line_won() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "groxide.cfg",
        b"log_level = debug\nhost_id = node1\nimap_auth_times = 3\n",
    );
    write(dir.path(), "imap.cfg", b"# imap\nLOG_LEVEL = warn\n");
    let (config, warnings) = load_imap(dir.path(), &[]).unwrap();
    assert_eq!(warnings, vec![]);
    assert_eq!(config.get(shared::LOG_LEVEL), LogLevel::Warn);
    assert_eq!(
        config.origin(shared::LOG_LEVEL),
        &file_origin(dir.path(), "imap.cfg", 2)
    );
    assert_eq!(config.get(shared::HOST_ID), "node1");
    assert_eq!(
        config.origin(shared::HOST_ID),
        &file_origin(dir.path(), "groxide.cfg", 2)
    );
    // A daemon's key may be set in groxide.cfg, as in gromox.cfg.
    assert_eq!(config.get(imap::IMAP_AUTH_TIMES), 3);
}

#[test]
fn an_environment_variable_wins_over_both_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "groxide.cfg", b"log_level = debug\n");
    write(
        dir.path(),
        "imap.cfg",
        b"log_level = warn\nimap_conn_timeout = 1min\n",
    );
    let env = [
        ("GROXIDE_LOG_LEVEL", "trace"),
        ("GROXIDE_IMAP_CONN_TIMEOUT", " 2h "),
    ];
    let (config, _) = load_imap(dir.path(), &env).unwrap();
    assert_eq!(config.get(shared::LOG_LEVEL), LogLevel::Trace);
    assert_eq!(
        config.origin(shared::LOG_LEVEL),
        &Origin::Env {
            var: "GROXIDE_LOG_LEVEL".to_string()
        }
    );
    assert_eq!(
        config.get(imap::IMAP_CONN_TIMEOUT),
        Duration::from_secs(7200)
    );
}

#[test]
fn a_bad_environment_value_is_an_error_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let error = load_imap(dir.path(), &[("GROXIDE_IMAP_FORCE_TLS", "maybe")]).err();
    assert_eq!(
        error.as_deref(),
        Some(
            "environment variable GROXIDE_IMAP_FORCE_TLS: imap_force_tls: invalid boolean \"maybe\" (expected yes/no, on/off, true/false or 1/0)"
        )
    );
}

#[test]
fn unknown_keys_are_warnings_with_a_suggestion_or_the_right_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "groxide.cfg",
        b"pop3_conn_timeout = 1min\nhots_id = x\n",
    );
    write(
        dir.path(),
        "imap.cfg",
        b"imap_conn_timout = 1min\nmidb_listen_port = 1\ncompletely_unknown = 1\n",
    );
    let (_, warnings) = load_imap(dir.path(), &[]).unwrap();
    let shown: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    let shared = dir.path().join("groxide.cfg");
    let imap = dir.path().join("imap.cfg");
    assert_eq!(
        shown,
        vec![
            format!(
                "{}:2: unknown key \"hots_id\" ignored (did you mean \"host_id\"?)",
                shared.display()
            ),
            format!(
                "{}:1: unknown key \"imap_conn_timout\" ignored (did you mean \"imap_conn_timeout\"?)",
                imap.display()
            ),
            format!(
                "{}:2: unknown key \"midb_listen_port\" ignored (it belongs in midb.cfg)",
                imap.display()
            ),
            format!(
                "{}:3: unknown key \"completely_unknown\" ignored",
                imap.display()
            ),
        ]
    );
    assert_eq!(warnings[1].did_you_mean, Some("imap_conn_timeout"));
    assert_eq!(warnings[2].belongs_in, Some("midb.cfg"));
}

#[test]
fn every_error_of_both_files_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let long_line = format!("host_id = {}\n", "x".repeat(1100));
    let mut shared = b"log_level = loud\n".to_vec();
    shared.extend_from_slice(long_line.as_bytes());
    shared.extend_from_slice(b"rpc_timeout = soon\n");
    write(dir.path(), "groxide.cfg", &shared);
    write(
        dir.path(),
        "imap.cfg",
        b"imap_max_literal_size = 64 megs\nimap_force_tls = perhaps\nimap_conn_timeout = 1min\r\nimap_conn_timeout = 2min\njust words\n\xff = 1\n",
    );
    let error = load_imap(dir.path(), &[("GROXIDE_CONTEXT_NUM", "0")])
        .err()
        .unwrap();
    let shared = dir.path().join("groxide.cfg");
    let imap = dir.path().join("imap.cfg");
    let expected = [
        format!("{}:1: log_level: invalid log level \"loud\" (expected error, warn, info, debug, trace or gromox's 1..6)", shared.display()),
        format!("{}:2: line is 1110 bytes long, at most 1024 allowed", shared.display()),
        format!("{}:3: rpc_timeout: invalid duration \"soon\" (expected e.g. 30s, 3min, 1d1h)", shared.display()),
        format!("{}:1: imap_max_literal_size: invalid size \"64 megs\" (expected e.g. 4096, 64K, 1.5M)", imap.display()),
        format!("{}:2: imap_force_tls: invalid boolean \"perhaps\" (expected yes/no, on/off, true/false or 1/0)", imap.display()),
        format!("{}:4: imap_conn_timeout: set again (first set on line 3)", imap.display()),
        format!("{}:5: expected `key = value` or a comment starting with #", imap.display()),
        format!("{}:6: not valid UTF-8", imap.display()),
        "environment variable GROXIDE_CONTEXT_NUM: context_num: invalid integer \"0\" (must be between 1 and 1000000)".to_string(),
    ];
    assert_eq!(error, expected.join("\n"));
}

#[test]
fn a_config_file_larger_than_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let line = "# padding padding padding padding padding padding padding padding\n";
    let text = line.repeat(groxide_config::MAX_FILE_SIZE as usize / line.len() + 1);
    write(dir.path(), "imap.cfg", text.as_bytes());
    let errors = Config::<Imap>::load_with_env(dir.path(), &no_env)
        .err()
        .unwrap();
    assert!(
        matches!(errors.errors(), [ConfigError::FileTooLarge { .. }]),
        "{errors}"
    );
}

#[test]
fn groxide_cfg_alone_can_be_loaded_for_admin_tools() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "groxide.cfg",
        b"host_id = n1\nimap_conn_timeout = 5min\nbogus = 1\n",
    );
    let (config, warnings) = Config::<Shared>::load_with_env(dir.path(), &no_env).unwrap();
    assert_eq!(config.get(shared::HOST_ID), "n1");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].key, "bogus");
    assert_eq!(config.entries().count(), schema::SHARED.keys.len());
}

#[test]
fn entries_list_every_key_with_value_and_origin_in_schema_order() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "imap.cfg", b"context_num = 7\n");
    let (config, _) = load_imap(dir.path(), &[]).unwrap();
    let names: Vec<&str> = config.entries().map(|(spec, _, _)| spec.name).collect();
    let expected: Vec<&str> = schema::SHARED
        .keys
        .iter()
        .chain(schema::IMAP.keys)
        .map(|spec| spec.name)
        .collect();
    assert_eq!(names, expected);
    let context = config
        .entries()
        .find(|(spec, _, _)| spec.name == "context_num")
        .unwrap();
    assert_eq!(
        (context.1, context.2),
        ("7", &file_origin(dir.path(), "imap.cfg", 1))
    );
}
