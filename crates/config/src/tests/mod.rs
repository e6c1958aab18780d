//! Unit tests that need a config file of their own: one key of every kind,
//! declared with the same macro as the real catalogue.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod typed;
mod values;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::schema::{config_file, int};
use crate::{BindAddr, Choice, HostsAllow, LogLevel, NetList, Text, ValueKind};

config_file! {
    /// every_kind.cfg: one key of every kind, for tests.
    daemon EveryKind, mod every_kind, static EVERY_KIND = ("every_kind.cfg", "tests");

    A_STRING: Text = key("a_string", ValueKind::String, "text", "A string.");
    A_PATH: PathBuf = key("a_path", ValueKind::Path, "data", "A path.");
    A_BOOL: bool = key("a_bool", ValueKind::Bool, "no", "A boolean.");
    A_SIZE: u64 = key("a_size", ValueKind::Size, "1k", "A size.");
    A_DURATION: Duration = key("a_duration", ValueKind::Duration, "1min", "A duration.");
    AN_INT: u16 = key("an_int", int(100, 1000), "100", "A bounded integer.");
    AN_UNBOUNDED_INT: u64 = key("an_unbounded_int", int(0, i64::MAX), "0", "An unbounded count.");
    A_SIGNED_INT: i32 = key("a_signed_int", int(-5, 5), "-1", "A signed integer.");
    A_PORT: u16 = key("a_port", ValueKind::Port, "5000", "A port.");
    AN_IP: Option<IpAddr> = key("an_ip", ValueKind::IpAddr, "::1", "An address.");
    AN_IP_LIST: Vec<IpAddr> = key("an_ip_list", ValueKind::IpList, "", "Addresses.");
    A_HOSTS_ALLOW: HostsAllow = key("a_hosts_allow", ValueKind::HostsAllow, "", "Peers.");
    A_NET_LIST: NetList = key("a_net_list", ValueKind::NetList, "", "Networks.");
    A_LOG_LEVEL: LogLevel = key("a_log_level", ValueKind::LogLevel, "info", "A level.");
    A_CHOICE: Choice = key("a_choice", ValueKind::Choice(&["text", "json"]), "text", "A choice.");
    A_BIND_LIST: Vec<BindAddr> = key("a_bind_list", ValueKind::BindList, "[::1]:143", "Binds.");
}
