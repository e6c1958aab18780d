//! Integration tests of groxide-config through its public API.

// Integration tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod etc_files;
mod hosts_allow;
mod load;
mod schemas;
mod values;

use groxide_config::{Schema, ValueKind};

/// A schema with one key of every kind, for value tests.
pub static EVERY_KIND: Schema = Schema {
    file: "every_kind.cfg",
    about: "tests",
    keys: &[
        key("a_string", ValueKind::String, "text"),
        key("a_path", ValueKind::Path, "data"),
        key("a_bool", ValueKind::Bool, "no"),
        key("a_size", ValueKind::Size, "1k"),
        key("a_duration", ValueKind::Duration, "1min"),
        key(
            "an_int",
            ValueKind::Int {
                min: 100,
                max: 1000,
            },
            "100",
        ),
        key(
            "an_unbounded_int",
            ValueKind::Int {
                min: 0,
                max: i64::MAX,
            },
            "0",
        ),
        key("a_port", ValueKind::Port, "5000"),
        key("an_ip", ValueKind::IpAddr, "::1"),
        key("an_ip_list", ValueKind::IpList, ""),
        key("a_hosts_allow", ValueKind::HostsAllow, ""),
        key("a_log_level", ValueKind::LogLevel, "info"),
        key("a_choice", ValueKind::Choice(&["text", "json"]), "text"),
        key("a_bind_list", ValueKind::BindList, "[::1]:143"),
    ],
};

const fn key(
    name: &'static str,
    kind: ValueKind,
    default: &'static str,
) -> groxide_config::KeySpec {
    groxide_config::KeySpec {
        name,
        kind,
        default,
        doc: "test key",
    }
}
