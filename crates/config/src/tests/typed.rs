//! The typed getters: every kind reads as its Rust type, defaults come from
//! the catalogue alone, and each layer (file, environment) wins over the one
//! before.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::EveryKind;
use super::every_kind::*;
use crate::keys::{midb, shared};
use crate::{BindAddr, Config, LogLevel, Midb, Origin, Shared};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn load(env: &[(&str, &str)], text: &str) -> Config<EveryKind> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("every_kind.cfg"), text).unwrap();
    let env: HashMap<String, String> = env
        .iter()
        .map(|(var, value)| (var.to_string(), value.to_string()))
        .collect();
    let (config, warnings) =
        Config::<EveryKind>::load_with_env(dir.path(), &|var| env.get(var).cloned()).unwrap();
    assert_eq!(warnings, vec![]);
    config
}

#[test]
fn with_no_file_every_key_reads_as_its_catalogue_default() {
    let (config, _) =
        Config::<EveryKind>::from_str_for_tests(Path::new("/etc/gx"), "", "").unwrap();
    assert_eq!(config.get(A_STRING), "text");
    assert_eq!(config.get(A_PATH), PathBuf::from("/etc/gx/data"));
    assert!(!config.get(A_BOOL));
    assert_eq!(config.get(A_SIZE), 1024);
    assert_eq!(config.get(A_DURATION), Duration::from_secs(60));
    assert_eq!(config.get(AN_INT), 100u16);
    assert_eq!(config.get(AN_UNBOUNDED_INT), 0u64);
    assert_eq!(config.get(A_SIGNED_INT), -1i32);
    assert_eq!(config.get(A_PORT), 5000u16);
    assert_eq!(config.get(AN_IP), Some(ip("::1")));
    assert_eq!(config.get(AN_IP_LIST), Vec::<IpAddr>::new());
    assert!(config.get(A_HOSTS_ALLOW).is_default());
    assert_eq!(config.get(A_LOG_LEVEL), LogLevel::Info);
    assert_eq!(config.get(A_CHOICE), "text");
    assert_eq!(
        config.get(A_BIND_LIST),
        vec![BindAddr::Tcp("[::1]:143".parse().unwrap())]
    );
    assert!(
        config
            .entries()
            .all(|(_, _, origin)| *origin == Origin::Default)
    );
    assert!(!config.is_set(A_SIZE));
    // groxide.cfg's keys are part of every daemon's config.
    assert_eq!(config.get(shared::RPC_TIMEOUT), Duration::from_secs(60));
}

#[test]
fn the_default_a_daemon_reads_is_the_one_its_catalogue_lists() {
    let (config, _) = Config::<Midb>::from_str_for_tests(Path::new("/etc/gx"), "", "").unwrap();
    let spec = midb::MIDB_TABLE_SIZE.spec();
    assert_eq!(spec.default, "5000");
    assert_eq!(config.get(midb::MIDB_TABLE_SIZE), 5000usize);
    assert_eq!(
        config.get(midb::MIDB_CACHE_INTERVAL),
        Duration::from_secs(30 * 60)
    );
    assert_eq!(
        config.get(shared::DATA_PATH),
        PathBuf::from("/var/lib/groxide")
    );
}

#[test]
fn files_set_values_of_every_kind() {
    let config = load(
        &[],
        "a_string = hi\na_path = /abs\na_bool = yes\na_size = 2M\na_duration = 1h\n\
         an_int = 999\nan_unbounded_int = 9223372036854775807\na_signed_int = -5\n\
         a_port = 1\nan_ip =\nan_ip_list = ::1 10.0.0.1\na_hosts_allow = 10.0.0.0/8\n\
         a_log_level = 6\na_choice = JSON\na_bind_list = unix:/run/x.sock\n",
    );
    assert_eq!(config.get(A_STRING), "hi");
    assert_eq!(config.get(A_PATH), PathBuf::from("/abs"));
    assert!(config.get(A_BOOL));
    assert_eq!(config.get(A_SIZE), 2 << 20);
    assert_eq!(config.get(A_DURATION), Duration::from_secs(3600));
    assert_eq!(config.get(AN_INT), 999u16);
    assert_eq!(config.get(AN_UNBOUNDED_INT), i64::MAX as u64);
    assert_eq!(config.get(A_SIGNED_INT), -5i32);
    assert_eq!(config.get(A_PORT), 1u16);
    assert_eq!(config.get(AN_IP), None);
    assert_eq!(config.get(AN_IP_LIST), vec![ip("::1"), ip("10.0.0.1")]);
    assert!(config.get(A_HOSTS_ALLOW).allows(ip("10.9.8.7")));
    assert_eq!(config.get(A_LOG_LEVEL), LogLevel::Debug);
    assert_eq!(config.get(A_CHOICE), "json");
    assert_eq!(
        config.get(A_BIND_LIST),
        vec![BindAddr::Unix(PathBuf::from("/run/x.sock"))]
    );
    assert!(matches!(
        config.origin(A_SIZE),
        Origin::File { line: 4, .. }
    ));
    assert!(config.is_set(A_SIZE));
}

#[test]
fn an_environment_variable_overrides_the_file_and_names_itself_as_origin() {
    assert_eq!(A_SIZE.env_var(), "GROXIDE_A_SIZE");
    let config = load(
        &[("GROXIDE_A_SIZE", "3k"), ("GROXIDE_RPC_TIMEOUT", "2s")],
        "a_size = 2M\n",
    );
    assert_eq!(config.get(A_SIZE), 3072);
    assert_eq!(
        config.origin(A_SIZE),
        &Origin::Env {
            var: "GROXIDE_A_SIZE".to_string()
        }
    );
    assert_eq!(config.get(shared::RPC_TIMEOUT), Duration::from_secs(2));
}

#[test]
fn groxide_cfg_alone_reads_its_own_keys() {
    let (config, _) =
        Config::<Shared>::from_str_for_tests(Path::new("/etc/gx"), "host_id = n1\n", "").unwrap();
    assert_eq!(config.get(shared::HOST_ID), "n1");
    assert_eq!(config.entries().count(), crate::schema::SHARED.keys.len());
}

#[test]
fn a_key_knows_its_name_file_and_catalogue_entry() {
    assert_eq!(midb::MIDB_TABLE_SIZE.name(), "midb_table_size");
    assert_eq!(midb::MIDB_TABLE_SIZE.file(), "midb.cfg");
    assert_eq!(shared::LOG_LEVEL.file(), "groxide.cfg");
    assert_eq!(
        format!("{:?}", midb::MIDB_TABLE_SIZE),
        "Key(midb.cfg: midb_table_size)"
    );
}
