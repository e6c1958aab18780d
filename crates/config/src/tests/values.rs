//! Every value kind, good and bad, as the operator writes it in a file.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::EveryKind;
use super::every_kind::*;
use crate::{BindAddr, Config, Key, KeyType, LogLevel};

const DIR: &str = "/etc/groxide";

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Loads `every_kind.cfg` holding the single line `key = text`.
fn load(key: &str, text: &str) -> Result<Config<EveryKind>, String> {
    let daemon_text = format!("{key} = {text}\n");
    Config::from_str_for_tests(Path::new(DIR), "", &daemon_text)
        .map(|(config, warnings)| {
            assert_eq!(warnings, vec![], "no warnings expected for {key}");
            config
        })
        .map_err(|errors| errors.to_string())
}

/// Asserts that `key = text` is refused with exactly `message` (after the `file:line: ` prefix).
#[track_caller]
fn check_bad(key: &str, text: &str, message: &str) {
    let expected = format!("{DIR}/every_kind.cfg:1: {key}: {message}");
    assert_eq!(load(key, text).err(), Some(expected), "{key} = {text}");
}

/// The value of `key = text`, which must load.
#[track_caller]
fn read<T: KeyType>(key: Key<T, EveryKind>, text: &str) -> T::Out<'static> {
    match load(key.name(), text) {
        // Leaked so the value may borrow from it: a few bytes per test.
        Ok(config) => Box::leak(Box::new(config)).get(key),
        Err(error) => panic!("{} = {text}: unexpected error {error}", key.name()),
    }
}

/// Asserts that `key = text` loads and reads as `expected`.
#[track_caller]
fn check_good<T: KeyType, E: std::fmt::Debug>(key: Key<T, EveryKind>, text: &str, expected: E)
where
    T::Out<'static>: PartialEq<E> + std::fmt::Debug,
{
    let value = read(key, text);
    assert!(
        value == expected,
        "{} = {text}: read {value:?}, expected {expected:?}",
        key.name()
    );
}

#[test]
fn strings_and_paths_keep_their_text_and_paths_resolve_against_the_config_dir() {
    check_good(A_STRING, "  hello world  ", "hello world");
    check_good(A_STRING, "", "");
    check_good(A_PATH, "/var/lib/x", PathBuf::from("/var/lib/x"));
    check_good(
        A_PATH,
        "lists/exmdb.txt",
        PathBuf::from("/etc/groxide/lists/exmdb.txt"),
    );
    check_good(A_PATH, "", PathBuf::new());
}

#[test]
fn booleans_accept_gromox_words_and_refuse_typos() {
    for (text, expected) in [
        ("yes", true),
        ("on", true),
        ("true", true),
        ("1", true),
        ("42", true),
        ("-1", true),
        ("YES", true),
        ("no", false),
        ("off", false),
        ("false", false),
        ("0", false),
        ("", false),
        ("Off", false),
    ] {
        check_good(A_BOOL, text, expected);
    }
    let message = "(expected yes/no, on/off, true/false or 1/0)";
    check_bad(
        "a_bool",
        "ture",
        &format!("invalid boolean \"ture\" {message}"),
    );
    check_bad(
        "a_bool",
        "enabled",
        &format!("invalid boolean \"enabled\" {message}"),
    );
}

#[test]
fn sizes_accept_suffixes_and_refuse_garbage() {
    check_good(A_SIZE, "64M", 64 << 20);
    check_good(A_SIZE, "1.5k", 1536);
    check_good(A_SIZE, "100", 100);
    check_bad(
        "a_size",
        "64 megs",
        "invalid size \"64 megs\" (expected e.g. 4096, 64K, 1.5M)",
    );
    check_bad(
        "a_size",
        "-1",
        "invalid size \"-1\" (expected e.g. 4096, 64K, 1.5M)",
    );
    check_bad(
        "a_size",
        "",
        "invalid size \"\" (expected e.g. 4096, 64K, 1.5M)",
    );
    check_bad(
        "a_size",
        "99E",
        "invalid size \"99E\" (too large: at most 16E)",
    );
}

#[test]
fn durations_accept_unit_sums_and_refuse_garbage() {
    check_good(A_DURATION, "1d1h", Duration::from_secs(90_000));
    check_good(A_DURATION, "3.5 hours", Duration::from_secs(12_600));
    check_good(A_DURATION, "45", Duration::from_secs(45));
    check_bad(
        "a_duration",
        "3 parsecs",
        "invalid duration \"3 parsecs\" (expected e.g. 30s, 3min, 1d1h)",
    );
    check_bad(
        "a_duration",
        "",
        "invalid duration \"\" (expected e.g. 30s, 3min, 1d1h)",
    );
    check_bad(
        "a_duration",
        "1000y",
        "invalid duration \"1000y\" (too long: at most about 584 years)",
    );
}

#[test]
fn integers_are_checked_against_their_range() {
    check_good(AN_INT, "100", 100);
    check_good(AN_INT, "1000", 1000);
    check_good(AN_UNBOUNDED_INT, "9223372036854775807", i64::MAX as u64);
    check_bad(
        "an_int",
        "99",
        "invalid integer \"99\" (must be between 100 and 1000)",
    );
    check_bad(
        "an_int",
        "1001",
        "invalid integer \"1001\" (must be between 100 and 1000)",
    );
    check_bad(
        "an_int",
        "1k",
        "invalid integer \"1k\" (expected a whole number)",
    );
    check_bad(
        "an_unbounded_int",
        "-1",
        "invalid integer \"-1\" (must be at least 0)",
    );
}

#[test]
fn ports_are_1_to_65535() {
    check_good(A_PORT, "1", 1);
    check_good(A_PORT, "65535", 65535);
    for text in ["0", "65536", "-1", "http"] {
        check_bad(
            "a_port",
            text,
            &format!("invalid port {text:?} (expected a number from 1 to 65535)"),
        );
    }
}

#[test]
fn ip_addresses_accept_v6_v4_and_mapped_literals_and_refuse_hostnames() {
    check_good(AN_IP, "::1", Some(ip("::1")));
    check_good(AN_IP, "127.0.0.2", Some(ip("127.0.0.2")));
    check_good(AN_IP, "::ffff:127.0.0.2", Some(ip("127.0.0.2")));
    check_good(AN_IP, "", None);
    let message = "(expected an IP address such as ::1 or 192.0.2.1 (not a hostname))";
    check_bad(
        "an_ip",
        "localhost",
        &format!("invalid IP address \"localhost\" {message}"),
    );
    check_bad(
        "an_ip",
        "[::1]",
        &format!("invalid IP address \"[::1]\" {message}"),
    );
    check_good(
        AN_IP_LIST,
        "::1 10.0.0.1 ::ffff:10.0.0.2",
        vec![ip("::1"), ip("10.0.0.1"), ip("10.0.0.2")],
    );
    check_good(AN_IP_LIST, "", Vec::<IpAddr>::new());
    check_bad(
        "an_ip_list",
        "::1 db1",
        "invalid IP address list \"::1 db1\" (\"db1\": expected an IP address such as ::1 or 192.0.2.1 (not a hostname))",
    );
}

#[test]
fn hosts_allow_values_are_checked_entry_by_entry() {
    let list = read(A_HOSTS_ALLOW, "10.0.0.0/8 ::1");
    assert_eq!(list.to_string(), "10.0.0.0/8 ::1");
    assert!(list.allows(ip("10.1.2.3")) && !list.allows(ip("192.0.2.1")));
    assert!(read(A_HOSTS_ALLOW, "").is_default());
    check_bad(
        "a_hosts_allow",
        "db1 10.0.0.0/33",
        "invalid hosts_allow list \"db1 10.0.0.0/33\" (\"db1\": not an IP address (hostnames are not allowed); \"10.0.0.0/33\": prefix length must be 0..=32)",
    );
}

#[test]
fn net_lists_are_empty_by_default_and_match_mapped_peers() {
    let list = read(A_NET_LIST, "");
    assert!(list.is_empty());
    assert!(!list.contains(ip("::1")) && !list.contains(ip("127.0.0.1")));
    let list = read(A_NET_LIST, "10.0.0.0/8 ::1 10.0.0.0/8");
    assert_eq!(list.entries().len(), 2);
    assert!(list.contains(ip("10.1.2.3")) && list.contains(ip("::ffff:10.1.2.3")));
    assert!(list.contains(ip("::1")) && !list.contains(ip("192.0.2.1")));
    check_bad(
        "a_net_list",
        "proxy1",
        "invalid address list \"proxy1\" (\"proxy1\": not an IP address (hostnames are not allowed))",
    );
}

#[test]
fn log_levels_accept_words_and_gromox_numbers() {
    check_good(A_LOG_LEVEL, "debug", LogLevel::Debug);
    check_good(A_LOG_LEVEL, "4", LogLevel::Info);
    check_good(A_LOG_LEVEL, "6", LogLevel::Debug);
    check_bad(
        "a_log_level",
        "loud",
        "invalid log level \"loud\" (expected error, warn, info, debug, trace or gromox's 1..6)",
    );
}

#[test]
fn choices_match_any_case_and_return_the_listed_spelling() {
    check_good(A_CHOICE, "JSON", "json");
    // The text stays as written, for printing the config.
    let config = load("a_choice", "JSON").unwrap();
    let text = config
        .entries()
        .find(|(spec, _, _)| spec.name == "a_choice");
    assert_eq!(text.map(|(_, text, _)| text), Some("JSON"));
    check_bad(
        "a_choice",
        "xml",
        "invalid value \"xml\" (expected one of: text, json)",
    );
}

#[test]
fn bind_lists_parse_into_addresses() {
    check_good(
        A_BIND_LIST,
        "[::]:143 127.0.0.1:143 unix:/run/x.sock",
        vec![
            BindAddr::Tcp("[::]:143".parse().unwrap()),
            BindAddr::Tcp("127.0.0.1:143".parse().unwrap()),
            BindAddr::Unix(PathBuf::from("/run/x.sock")),
        ],
    );
    check_good(A_BIND_LIST, "", vec![]);
    check_bad(
        "a_bind_list",
        "[::1]:0",
        "invalid listen address list \"[::1]:0\" (\"[::1]:0\": port must be 1..=65535)",
    );
}

#[test]
fn the_error_names_file_line_key_value_and_an_example() {
    let daemon_text = format!("{}imap_conn_timeout = 3 parsecs\n", "\n".repeat(11));
    let errors = Config::<crate::Imap>::from_str_for_tests(Path::new(DIR), "", &daemon_text).err();
    assert_eq!(
        errors.map(|e| e.to_string()),
        Some(
            "/etc/groxide/imap.cfg:12: imap_conn_timeout: invalid duration \"3 parsecs\" (expected e.g. 30s, 3min, 1d1h)"
                .to_string()
        )
    );
}

mod round_trips {
    use proptest::prelude::*;

    use crate::{parse_duration, parse_size};

    proptest! {
        #[test]
        fn a_bare_number_of_bytes_is_that_size(bytes in any::<u64>()) {
            prop_assert_eq!(parse_size(&bytes.to_string()).ok(), Some(bytes));
        }

        #[test]
        fn kilobytes_are_1024_bytes(kilobytes in 0u64..(1 << 54)) {
            prop_assert_eq!(parse_size(&format!("{kilobytes}k")).ok(), Some(kilobytes * 1024));
        }

        #[test]
        fn a_sum_of_terms_is_the_sum_of_durations(h in 0u64..10_000, m in 0u64..10_000, s in 0u64..10_000) {
            let expected = std::time::Duration::from_secs(h * 3600 + m * 60 + s);
            prop_assert_eq!(parse_duration(&format!("{h}h {m}min{s}s")).ok(), Some(expected));
        }

        #[test]
        fn any_text_value_reads_back_trimmed(value in "[^\r\n]{0,200}") {
            let text = format!("a_string = {value}\n");
            let loaded = crate::Config::<crate::tests::EveryKind>::from_str_for_tests(
                std::path::Path::new("/t"), "", &text);
            let config = loaded.map(|(config, _)| config);
            prop_assert_eq!(config.ok().map(|c| c.get(crate::tests::every_kind::A_STRING).to_string()), Some(value.trim().to_string()));
        }
    }
}
