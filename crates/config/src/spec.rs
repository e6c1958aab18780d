//! How a config key is described: its name, value kind, default and doc line.

/// What kind of value a key holds, and so how its text is checked at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Any text.
    String,
    /// A file or directory path; relative paths are taken relative to the config dir.
    Path,
    /// `yes/no`, `on/off`, `true/false`, `1/0` (see [`crate::parse_bool`]).
    Bool,
    /// Bytes with an optional power-of-1024 suffix: `64M` (see [`crate::parse_size`]).
    Size,
    /// A time span such as `30s`, `3min`, `1d1h` (see [`crate::parse_duration`]).
    Duration,
    /// A whole number within `min..=max`.
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A TCP port, 1..=65535.
    Port,
    /// One IP address literal, or empty for "none".
    IpAddr,
    /// Space-separated IP address literals.
    IpList,
    /// Space-separated addresses and CIDR networks; empty means `::1` only.
    HostsAllow,
    /// Space-separated addresses and CIDR networks; empty means none.
    NetList,
    /// `error warn info debug trace`, or gromox's 1..6.
    LogLevel,
    /// One of the listed words (any case).
    Choice(&'static [&'static str]),
    /// Space-separated bind specifiers: `[addr]:port`, `a.b.c.d:port`, `unix:/path`.
    BindList,
}

impl ValueKind {
    /// A short description of the accepted values, as shown in the default config files.
    pub fn describe(&self) -> String {
        match self {
            ValueKind::String => "text".to_string(),
            ValueKind::Path => "path; relative to the config directory".to_string(),
            ValueKind::Bool => "yes or no".to_string(),
            ValueKind::Size => "size: 4096, 64K, 1.5M, 2G".to_string(),
            ValueKind::Duration => "duration: 30s, 3min, 2h, 1d1h".to_string(),
            ValueKind::Int { min, max } if *max == i64::MAX => format!("integer, at least {min}"),
            ValueKind::Int { min, max } => format!("integer, {min}..{max}"),
            ValueKind::Port => "TCP port, 1..65535".to_string(),
            ValueKind::IpAddr => "IP address".to_string(),
            ValueKind::IpList => "IP addresses, separated by spaces".to_string(),
            ValueKind::HostsAllow => {
                "IP addresses and CIDR networks, separated by spaces; empty = ::1 only".to_string()
            }
            ValueKind::NetList => {
                "IP addresses and CIDR networks, separated by spaces; empty = none".to_string()
            }
            ValueKind::LogLevel => "error, warn, info, debug or trace".to_string(),
            ValueKind::Choice(words) => format!("one of: {}", words.join(", ")),
            ValueKind::BindList => {
                "listen addresses, separated by spaces: [ipv6]:port, ipv4:port, unix:/path"
                    .to_string()
            }
        }
    }
}

/// One key of a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// The key, lower case, as written in the file (gromox's name where gromox has one).
    pub name: &'static str,
    /// How its value is checked.
    pub kind: ValueKind,
    /// The value used when no file or environment variable sets the key.
    pub default: &'static str,
    /// One line for the operator: what it does, with units.
    pub doc: &'static str,
}

/// The keys of one config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The file name inside the config directory, e.g. `imap.cfg`.
    pub file: &'static str,
    /// Who reads it, for the header of the default file, e.g. `groxide-imap (IMAP server)`.
    pub about: &'static str,
    /// Every key the file may hold, in the order the default file lists them.
    pub keys: &'static [KeySpec],
}

impl Schema {
    /// The key named `name` (lower case), if this file has it.
    pub fn key(&self, name: &str) -> Option<&'static KeySpec> {
        self.keys.iter().find(|spec| spec.name == name)
    }
}
