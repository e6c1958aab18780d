//! The key catalogue itself: defaults that parse, names that do not collide.

use std::collections::HashSet;
use std::path::Path;

use groxide_config::{Config, ValueKind, schema};

#[test]
fn every_schema_loads_with_all_defaults_and_no_warnings() {
    for daemon in schema::all() {
        let loaded = Config::from_str_for_tests(Path::new("/etc/groxide"), daemon, "", "");
        match loaded {
            Ok((_, warnings)) => assert_eq!(warnings, vec![], "{}", daemon.file),
            Err(errors) => panic!("defaults of {} do not parse:\n{errors}", daemon.file),
        }
    }
}

#[test]
fn every_key_can_be_read_with_the_getter_of_its_kind() {
    for daemon in schema::all() {
        let (config, _) =
            Config::from_str_for_tests(Path::new("/etc/groxide"), daemon, "", "").unwrap();
        for spec in daemon.keys.iter().chain(schema::SHARED.keys) {
            // Each getter debug-asserts that the kind matches, so a wrong pairing fails here.
            match spec.kind {
                ValueKind::String => assert_eq!(config.string(spec.name), spec.default),
                ValueKind::Path => {
                    let _ = config.path(spec.name);
                }
                ValueKind::Bool => {
                    let _ = config.bool(spec.name);
                }
                ValueKind::Size => {
                    let _ = config.size(spec.name);
                }
                ValueKind::Duration => {
                    let _ = config.duration(spec.name);
                }
                ValueKind::Int { min, max } => {
                    assert!((min..=max).contains(&config.int(spec.name)))
                }
                ValueKind::Port => assert_ne!(config.port(spec.name), 0),
                ValueKind::IpAddr => {
                    let _ = config.ip(spec.name);
                }
                ValueKind::IpList => {
                    let _ = config.ip_list(spec.name);
                }
                ValueKind::HostsAllow => assert!(config.hosts_allow(spec.name).is_default()),
                ValueKind::LogLevel => {
                    let _ = config.log_level(spec.name);
                }
                ValueKind::Choice(words) => assert!(words.contains(&config.choice(spec.name))),
                ValueKind::BindList => {
                    let _ = config.bind_list(spec.name);
                }
            }
        }
    }
}

#[test]
fn key_names_are_lower_case_unique_and_documented_in_one_line() {
    let mut files = HashSet::new();
    for daemon in schema::all() {
        assert!(files.insert(daemon.file), "{} listed twice", daemon.file);
        let mut names = HashSet::new();
        for spec in daemon.keys {
            assert!(
                names.insert(spec.name),
                "{}: {} listed twice",
                daemon.file,
                spec.name
            );
            assert!(
                spec.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}: key {:?} is not lower_snake_case",
                daemon.file,
                spec.name
            );
            assert!(
                !spec.doc.is_empty() && !spec.doc.contains('\n'),
                "{}: {} needs a one-line doc",
                daemon.file,
                spec.name
            );
            if daemon.file != schema::SHARED.file {
                assert!(
                    schema::SHARED.key(spec.name).is_none(),
                    "{}: {} is also in groxide.cfg",
                    daemon.file,
                    spec.name
                );
            }
        }
    }
}

#[test]
fn rpc_listen_ip_keys_name_ip_keys_of_their_schema() {
    for (daemon, key) in &schema::RPC_LISTEN_IP_KEYS {
        assert_eq!(
            daemon.key(key).map(|spec| spec.kind),
            Some(ValueKind::IpAddr),
            "{}: {key}",
            daemon.file
        );
    }
}

#[test]
fn gromox_defaults_are_kept_where_gromox_has_the_key() {
    let default =
        |daemon: &groxide_config::Schema, key: &str| daemon.key(key).map(|spec| spec.default);
    assert_eq!(default(&schema::EXMDB, "listen_ip"), Some("::1"));
    assert_eq!(default(&schema::EXMDB, "exmdb_listen_port"), Some("5000"));
    assert_eq!(default(&schema::MIDB, "midb_listen_port"), Some("5555"));
    assert_eq!(default(&schema::EVENT, "event_listen_port"), Some("33333"));
    assert_eq!(default(&schema::TIMER, "timer_listen_port"), Some("6666"));
    assert_eq!(default(&schema::IMAP, "imap_listen"), Some("[::]:143"));
    assert_eq!(default(&schema::POP3, "pop3_listen_tls"), Some("[::]:995"));
    assert_eq!(
        default(&schema::ZCORE, "zcore_listen"),
        Some("unix:/run/groxide/zcore.sock")
    );
}
