//! Checking a value's text against its [`ValueKind`], and the simple value syntaxes.

use std::net::IpAddr;
use std::time::Duration;

use crate::bind::{BindAddr, parse_bind_list};
use crate::duration::parse_duration;
use crate::hosts_allow::{HostsAllow, NetList};
use crate::invalid::InvalidValue;
use crate::log_level::{LogLevel, parse_log_level};
use crate::size::parse_size;
use crate::spec::ValueKind;

/// A value after it passed its kind's check; what the typed getters return.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// String and Path keys: the text itself is the value.
    Text,
    Bool(bool),
    Size(u64),
    Duration(Duration),
    Int(i64),
    Port(u16),
    Ip(Option<IpAddr>),
    IpList(Vec<IpAddr>),
    HostsAllow(HostsAllow),
    NetList(NetList),
    LogLevel(LogLevel),
    Choice(&'static str),
    BindList(Vec<BindAddr>),
}

/// Checks `text` against `kind` and returns the parsed value.
pub(crate) fn parse_value(kind: ValueKind, text: &str) -> Result<Value, InvalidValue> {
    let value = match kind {
        ValueKind::String => Value::Text,
        ValueKind::Path => {
            if text.contains('\0') {
                return Err(InvalidValue::new("path", "contains a NUL byte"));
            }
            Value::Text
        }
        ValueKind::Bool => Value::Bool(parse_bool(text)?),
        ValueKind::Size => Value::Size(parse_size(text)?),
        ValueKind::Duration => Value::Duration(parse_duration(text)?),
        ValueKind::Int { min, max } => Value::Int(parse_int(text, min, max)?),
        ValueKind::Port => Value::Port(parse_port(text)?),
        ValueKind::IpAddr => Value::Ip(parse_optional_ip(text)?),
        ValueKind::IpList => Value::IpList(parse_ip_list(text)?),
        ValueKind::HostsAllow => Value::HostsAllow(
            HostsAllow::parse(text)
                .map_err(|error| InvalidValue::new("hosts_allow list", error.to_string()))?,
        ),
        ValueKind::NetList => Value::NetList(
            NetList::parse(text)
                .map_err(|error| InvalidValue::new("address list", error.to_string()))?,
        ),
        ValueKind::LogLevel => Value::LogLevel(parse_log_level(text)?),
        ValueKind::Choice(words) => Value::Choice(parse_choice(text, words)?),
        ValueKind::BindList => Value::BindList(
            parse_bind_list(text)
                .map_err(|reason| InvalidValue::new("listen address list", reason))?,
        ),
    };
    Ok(value)
}

/// Parses a boolean: `yes on true` or any non-zero integer are true;
/// `no off false 0` and the empty value are false (any case).
///
/// Stricter than gromox on purpose: gromox reads any text that is not a
/// number as 0, so a typo like `ture` or `enabled` silently means false. Here
/// such a value is an error that names the file and line.
pub fn parse_bool(text: &str) -> Result<bool, InvalidValue> {
    let text = text.trim();
    match text.to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" => return Ok(true),
        "no" | "off" | "false" | "" => return Ok(false),
        _ => {}
    }
    match text.parse::<i64>() {
        Ok(number) => Ok(number != 0),
        Err(_) => Err(InvalidValue::new(
            "boolean",
            "expected yes/no, on/off, true/false or 1/0",
        )),
    }
}

/// Parses a decimal integer within `min..=max`.
pub fn parse_int(text: &str, min: i64, max: i64) -> Result<i64, InvalidValue> {
    let number: i64 = text
        .trim()
        .parse()
        .map_err(|_| InvalidValue::new("integer", "expected a whole number"))?;
    if number < min || number > max {
        let reason = if max == i64::MAX {
            format!("must be at least {min}")
        } else {
            format!("must be between {min} and {max}")
        };
        return Err(InvalidValue::new("integer", reason));
    }
    Ok(number)
}

/// Parses a TCP port, 1..=65535.
pub fn parse_port(text: &str) -> Result<u16, InvalidValue> {
    match text.trim().parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(InvalidValue::new(
            "port",
            "expected a number from 1 to 65535",
        )),
    }
}

/// Parses an IP address literal (IPv6, IPv4, or IPv4-mapped IPv6, which is
/// returned as IPv4); the empty value is `None`.
pub fn parse_optional_ip(text: &str) -> Result<Option<IpAddr>, InvalidValue> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse_ip(text)
        .map(Some)
        .map_err(|reason| InvalidValue::new("IP address", reason))
}

/// Parses space-separated IP address literals (IPv4-mapped ones become IPv4).
pub fn parse_ip_list(text: &str) -> Result<Vec<IpAddr>, InvalidValue> {
    text.split_whitespace()
        .map(|word| {
            parse_ip(word).map_err(|reason| {
                InvalidValue::new("IP address list", format!("{word:?}: {reason}"))
            })
        })
        .collect()
}

fn parse_ip(word: &str) -> Result<IpAddr, String> {
    word.parse::<IpAddr>()
        .map(|ip| ip.to_canonical())
        .map_err(|_| "expected an IP address such as ::1 or 192.0.2.1 (not a hostname)".to_string())
}

/// Matches `text` case-insensitively against `words` and returns the word as listed.
pub fn parse_choice(
    text: &str,
    words: &'static [&'static str],
) -> Result<&'static str, InvalidValue> {
    let text = text.trim();
    words
        .iter()
        .copied()
        .find(|word| word.eq_ignore_ascii_case(text))
        .ok_or_else(|| InvalidValue::new("value", format!("expected one of: {}", words.join(", "))))
}
