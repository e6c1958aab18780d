//! The merged configuration of one daemon: defaults < groxide.cfg < its own file < environment.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bind::BindAddr;
use crate::error::{ConfigError, ConfigErrors, ConfigWarning};
use crate::file::{Assignment, parse_config_text, read_config_file};
use crate::hosts_allow::HostsAllow;
use crate::log_level::LogLevel;
use crate::origin::Origin;
use crate::schema;
use crate::spec::{KeySpec, Schema, ValueKind};
use crate::suggest::closest;
use crate::value::{Value, parse_value};

/// Prefix of the environment variables that override keys: `GROXIDE_IMAP_CONN_TIMEOUT`.
pub const ENV_PREFIX: &str = "GROXIDE_";

/// What a config load returns: the config and its warnings, or every error found.
pub type LoadResult = Result<(Config, Vec<ConfigWarning>), ConfigErrors>;

/// The validated configuration of one daemon.
///
/// Holds every key of [`schema::SHARED`] and of the daemon's schema. Each
/// value was checked at load, so the typed getters cannot fail; asking for a
/// key the two schemas do not have, or with the getter of another kind, is a
/// programming error (a debug assertion; release builds return an empty or
/// zero value).
#[derive(Debug, Clone)]
pub struct Config {
    dir: PathBuf,
    daemon: &'static Schema,
    entries: HashMap<&'static str, Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    spec: &'static KeySpec,
    text: String,
    origin: Origin,
    value: Value,
}

/// The value of one environment variable, as far as loading cares.
enum EnvValue {
    Unset,
    Set(String),
    NotUtf8,
}

/// The two files of a load, as read (None = the file does not exist).
struct Sources {
    shared: Option<Vec<u8>>,
    daemon: Option<Vec<u8>>,
}

impl Config {
    /// Loads `<dir>/groxide.cfg` ([`schema::SHARED`]) plus `<dir>/<daemon.file>`,
    /// then applies `GROXIDE_<KEY>` environment variables.
    ///
    /// A missing directory is an error; a missing file inside it means "all
    /// defaults", as in gromox. Every value of every known key is checked,
    /// and all errors are returned together. Keys of other daemons found in
    /// groxide.cfg are ignored (each daemon takes its own); keys no schema
    /// knows become warnings.
    pub fn load(dir: &Path, daemon: &'static Schema) -> LoadResult {
        Config::load_from(dir, daemon, &|var| match std::env::var(var) {
            Ok(value) => EnvValue::Set(value),
            Err(std::env::VarError::NotPresent) => EnvValue::Unset,
            Err(std::env::VarError::NotUnicode(_)) => EnvValue::NotUtf8,
        })
    }

    /// [`Config::load`] with the environment given as a function (for tests).
    pub fn load_with_env(
        dir: &Path,
        daemon: &'static Schema,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> LoadResult {
        Config::load_from(dir, daemon, &|var| {
            env(var).map_or(EnvValue::Unset, EnvValue::Set)
        })
    }

    /// Builds a config from file texts without touching the disk or the
    /// environment (for tests). Errors and warnings name `<dir>/groxide.cfg`
    /// and `<dir>/<daemon.file>`; `dir` need not exist. When `daemon` is
    /// [`schema::SHARED`] there is one file and `daemon_text` is ignored.
    pub fn from_str_for_tests(
        dir: &Path,
        daemon: &'static Schema,
        shared_text: &str,
        daemon_text: &str,
    ) -> LoadResult {
        let sources = Sources {
            shared: Some(shared_text.as_bytes().to_vec()),
            daemon: Some(daemon_text.as_bytes().to_vec()),
        };
        Config::build(dir, daemon, sources, &|_| EnvValue::Unset, Vec::new())
    }

    fn load_from(
        dir: &Path,
        daemon: &'static Schema,
        env: &dyn Fn(&str) -> EnvValue,
    ) -> LoadResult {
        match std::fs::metadata(dir) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => {
                return Err(ConfigErrors::new(vec![ConfigError::NotADirectory {
                    path: dir.to_path_buf(),
                }]));
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigErrors::new(vec![ConfigError::MissingDir {
                    path: dir.to_path_buf(),
                }]));
            }
            Err(source) => {
                return Err(ConfigErrors::new(vec![ConfigError::Io {
                    path: dir.to_path_buf(),
                    source,
                }]));
            }
        }
        let mut errors = Vec::new();
        let mut read = |file: &str| {
            read_config_file(&dir.join(file)).unwrap_or_else(|error| {
                errors.push(error);
                None
            })
        };
        let shared = read(schema::SHARED.file);
        let daemon_bytes = if is_shared(daemon) {
            None
        } else {
            read(daemon.file)
        };
        Config::build(
            dir,
            daemon,
            Sources {
                shared,
                daemon: daemon_bytes,
            },
            env,
            errors,
        )
    }

    fn build(
        dir: &Path,
        daemon: &'static Schema,
        sources: Sources,
        env: &dyn Fn(&str) -> EnvValue,
        mut errors: Vec<ConfigError>,
    ) -> LoadResult {
        let mut config = Config {
            dir: dir.to_path_buf(),
            daemon,
            entries: HashMap::new(),
        };
        let mut warnings = Vec::new();
        for spec in config.known_keys() {
            config.set(spec, spec.default.to_string(), Origin::Default, &mut errors);
        }

        let shared_file = dir.join(schema::SHARED.file);
        for line in parse_source(sources.shared.as_deref(), &shared_file) {
            match line {
                Ok(assignment) => config.apply_shared_file_line(
                    &shared_file,
                    assignment,
                    &mut errors,
                    &mut warnings,
                ),
                Err(error) => errors.push(error),
            }
        }
        if !is_shared(daemon) {
            let daemon_file = dir.join(daemon.file);
            for line in parse_source(sources.daemon.as_deref(), &daemon_file) {
                match line {
                    Ok(assignment) => config.apply_daemon_file_line(
                        &daemon_file,
                        assignment,
                        &mut errors,
                        &mut warnings,
                    ),
                    Err(error) => errors.push(error),
                }
            }
        }

        for spec in config.known_keys() {
            let var = format!("{ENV_PREFIX}{}", spec.name.to_ascii_uppercase());
            match env(&var) {
                EnvValue::Unset => {}
                EnvValue::Set(value) => config.set(
                    spec,
                    value.trim().to_string(),
                    Origin::Env { var },
                    &mut errors,
                ),
                EnvValue::NotUtf8 => errors.push(ConfigError::EnvNotUtf8 { var }),
            }
        }

        if errors.is_empty() {
            Ok((config, warnings))
        } else {
            Err(ConfigErrors::new(errors))
        }
    }

    /// The keys this config holds: groxide.cfg's, then the daemon's.
    fn known_keys(&self) -> Vec<&'static KeySpec> {
        let daemon_keys = if is_shared(self.daemon) {
            &[][..]
        } else {
            self.daemon.keys
        };
        schema::SHARED.keys.iter().chain(daemon_keys).collect()
    }

    fn spec_of(&self, key: &str) -> Option<&'static KeySpec> {
        schema::SHARED.key(key).or_else(|| self.daemon.key(key))
    }

    /// Applies a groxide.cfg line: keys of any daemon are fine there.
    fn apply_shared_file_line(
        &mut self,
        file: &Path,
        assignment: Assignment,
        errors: &mut Vec<ConfigError>,
        warnings: &mut Vec<ConfigWarning>,
    ) {
        let origin = Origin::File {
            file: file.to_path_buf(),
            line: assignment.line,
        };
        if let Some(spec) = self.spec_of(&assignment.key) {
            self.set(spec, assignment.value, origin, errors);
            return;
        }
        let belongs_to_some_daemon = schema::all()
            .iter()
            .any(|schema| schema.key(&assignment.key).is_some());
        if !belongs_to_some_daemon {
            let every_key = schema::all()
                .iter()
                .flat_map(|schema| schema.keys)
                .map(|spec| spec.name);
            warnings.push(ConfigWarning {
                file: file.to_path_buf(),
                line: assignment.line,
                did_you_mean: closest(&assignment.key, every_key),
                key: assignment.key,
                belongs_in: None,
            });
        }
    }

    /// Applies a line of the daemon's own file: only its keys and groxide.cfg's belong there.
    fn apply_daemon_file_line(
        &mut self,
        file: &Path,
        assignment: Assignment,
        errors: &mut Vec<ConfigError>,
        warnings: &mut Vec<ConfigWarning>,
    ) {
        let origin = Origin::File {
            file: file.to_path_buf(),
            line: assignment.line,
        };
        if let Some(spec) = self.spec_of(&assignment.key) {
            self.set(spec, assignment.value, origin, errors);
            return;
        }
        let belongs_in = schema::all()
            .iter()
            .find(|schema| schema.key(&assignment.key).is_some())
            .map(|schema| schema.file);
        let did_you_mean = match belongs_in {
            Some(_) => None,
            None => closest(
                &assignment.key,
                self.known_keys().iter().map(|spec| spec.name),
            ),
        };
        warnings.push(ConfigWarning {
            file: file.to_path_buf(),
            line: assignment.line,
            key: assignment.key,
            did_you_mean,
            belongs_in,
        });
    }

    /// Checks `text` and makes it the key's value; a bad value is an error and
    /// leaves the previous layer's value in place.
    fn set(
        &mut self,
        spec: &'static KeySpec,
        text: String,
        origin: Origin,
        errors: &mut Vec<ConfigError>,
    ) {
        match parse_value(spec.kind, &text) {
            Ok(value) => {
                self.entries.insert(
                    spec.name,
                    Entry {
                        spec,
                        text,
                        origin,
                        value,
                    },
                );
            }
            Err(reason) => errors.push(ConfigError::BadValue {
                origin,
                key: spec.name.to_string(),
                value: text,
                reason,
            }),
        }
    }

    fn entry(&self, key: &str) -> Option<&Entry> {
        let entry = self.entries.get(key);
        debug_assert!(
            entry.is_some(),
            "config key {key:?} is in neither groxide.cfg nor {}",
            self.daemon.file
        );
        entry
    }

    /// Returns `pick(value)`, asserting (in debug builds) that the key has the getter's kind.
    fn typed<'a, T>(
        &'a self,
        key: &str,
        getter: &str,
        pick: impl Fn(&'a Value) -> Option<T>,
    ) -> Option<T> {
        let entry = self.entry(key)?;
        let value = pick(&entry.value);
        debug_assert!(
            value.is_some(),
            "config key {key:?} is a {:?}, not read by {getter}()",
            entry.spec.kind
        );
        value
    }

    /// The value as text, trimmed (the default if unset).
    pub fn string(&self, key: &str) -> &str {
        self.entry(key).map_or("", |entry| entry.text.as_str())
    }

    /// A [`ValueKind::Bool`] value.
    pub fn bool(&self, key: &str) -> bool {
        self.typed(key, "bool", |value| match value {
            Value::Bool(flag) => Some(*flag),
            _ => None,
        })
        .unwrap_or(false)
    }

    /// A [`ValueKind::Size`] value in bytes.
    pub fn size(&self, key: &str) -> u64 {
        self.typed(key, "size", |value| match value {
            Value::Size(bytes) => Some(*bytes),
            _ => None,
        })
        .unwrap_or(0)
    }

    /// A [`ValueKind::Duration`] value.
    pub fn duration(&self, key: &str) -> Duration {
        self.typed(key, "duration", |value| match value {
            Value::Duration(duration) => Some(*duration),
            _ => None,
        })
        .unwrap_or(Duration::ZERO)
    }

    /// A [`ValueKind::Int`] (or [`ValueKind::Port`]) value.
    pub fn int(&self, key: &str) -> i64 {
        self.typed(key, "int", |value| match value {
            Value::Int(number) => Some(*number),
            Value::Port(port) => Some(i64::from(*port)),
            _ => None,
        })
        .unwrap_or(0)
    }

    /// A [`ValueKind::Port`] value.
    pub fn port(&self, key: &str) -> u16 {
        self.typed(key, "port", |value| match value {
            Value::Port(port) => Some(*port),
            _ => None,
        })
        .unwrap_or(0)
    }

    /// A [`ValueKind::IpAddr`] value; `None` when empty. IPv4-mapped IPv6 is returned as IPv4.
    pub fn ip(&self, key: &str) -> Option<IpAddr> {
        self.typed(key, "ip", |value| match value {
            Value::Ip(ip) => Some(*ip),
            _ => None,
        })
        .flatten()
    }

    /// A [`ValueKind::IpList`] value. IPv4-mapped IPv6 is returned as IPv4.
    pub fn ip_list(&self, key: &str) -> Vec<IpAddr> {
        self.typed(key, "ip_list", |value| match value {
            Value::IpList(list) => Some(list.clone()),
            _ => None,
        })
        .unwrap_or_default()
    }

    /// A [`ValueKind::HostsAllow`] value.
    pub fn hosts_allow(&self, key: &str) -> HostsAllow {
        self.typed(key, "hosts_allow", |value| match value {
            Value::HostsAllow(list) => Some(list.clone()),
            _ => None,
        })
        .unwrap_or_default()
    }

    /// A [`ValueKind::LogLevel`] value.
    pub fn log_level(&self, key: &str) -> LogLevel {
        self.typed(key, "log_level", |value| match value {
            Value::LogLevel(level) => Some(*level),
            _ => None,
        })
        .unwrap_or(LogLevel::Info)
    }

    /// A [`ValueKind::Choice`] value, spelled as in the schema's word list.
    pub fn choice(&self, key: &str) -> &'static str {
        self.typed(key, "choice", |value| match value {
            Value::Choice(word) => Some(*word),
            _ => None,
        })
        .unwrap_or("")
    }

    /// A [`ValueKind::BindList`] value; empty means "do not listen".
    pub fn bind_list(&self, key: &str) -> Vec<BindAddr> {
        self.typed(key, "bind_list", |value| match value {
            Value::BindList(list) => Some(list.clone()),
            _ => None,
        })
        .unwrap_or_default()
    }

    /// A [`ValueKind::Path`] value; a relative path is joined to the config
    /// dir, and the empty value stays empty (meaning "not set").
    pub fn path(&self, key: &str) -> PathBuf {
        let Some(entry) = self.entry(key) else {
            return PathBuf::new();
        };
        debug_assert!(
            matches!(entry.spec.kind, ValueKind::Path),
            "config key {key:?} is a {:?}, not read by path()",
            entry.spec.kind
        );
        if entry.text.is_empty() {
            PathBuf::new()
        } else {
            self.dir.join(&entry.text)
        }
    }

    /// Where the key's value came from.
    pub fn origin(&self, key: &str) -> Origin {
        self.entry(key)
            .map_or(Origin::Default, |entry| entry.origin.clone())
    }

    /// The config directory this was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The daemon's schema this config was loaded for.
    pub fn schema(&self) -> &'static Schema {
        self.daemon
    }

    /// Every key with its value text and origin: groxide.cfg's keys, then the
    /// daemon's, in schema order (for `--print-config`).
    pub fn entries(&self) -> impl Iterator<Item = (&'static KeySpec, &str, &Origin)> {
        self.known_keys()
            .into_iter()
            .filter_map(|spec| self.entries.get(spec.name))
            .map(|entry| (entry.spec, entry.text.as_str(), &entry.origin))
    }
}

fn is_shared(schema: &Schema) -> bool {
    schema.file == schema::SHARED.file
}

fn parse_source(bytes: Option<&[u8]>, file: &Path) -> Vec<Result<Assignment, ConfigError>> {
    bytes
        .map(|bytes| parse_config_text(bytes, file))
        .unwrap_or_default()
}
