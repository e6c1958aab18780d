//! The merged configuration of one daemon: defaults < groxide.cfg < its own file < environment.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, ConfigErrors, ConfigWarning};
use crate::file::{Assignment, parse_config_text, read_config_file};
use crate::key::{ConfigFile, Key, KeyType, Loaded, ReadableIn};
use crate::origin::Origin;
use crate::schema;
use crate::spec::{KeySpec, Schema};
use crate::suggest::closest;
use crate::value::{Value, parse_value};

/// Prefix of the environment variables that override keys: `GROXIDE_IMAP_CONN_TIMEOUT`.
pub const ENV_PREFIX: &str = "GROXIDE_";

/// What a config load returns: the config and its warnings, or every error found.
pub type LoadResult<F> = Result<(Config<F>, Vec<ConfigWarning>), ConfigErrors>;

/// The validated configuration of one daemon: groxide.cfg's keys and those
/// of the daemon's file `F` ([`crate::Midb`], [`crate::Imap`], …; for
/// [`crate::Shared`], groxide.cfg's alone).
///
/// Every value was checked at load and every key has one, so
/// [`Config::get`] cannot fail and has no default of its own. It takes a
/// typed key of [`crate::keys`]: one of `F`'s file or of groxide.cfg; a key
/// of another file does not compile. To read another daemon's file, load it:
/// `Config::<Exmdb>::load(config.dir())`.
#[derive(Debug, Clone)]
pub struct Config<F: ConfigFile> {
    raw: RawConfig,
    _file: PhantomData<F>,
}

impl<F: ConfigFile> Config<F> {
    /// Loads `<dir>/groxide.cfg` ([`schema::SHARED`]) plus the file of `F`,
    /// then applies `GROXIDE_<KEY>` environment variables.
    ///
    /// A missing directory is an error; a missing file inside it means "all
    /// defaults", as in gromox. Every value of every known key is checked,
    /// and all errors are returned together. Keys of other daemons found in
    /// groxide.cfg are ignored (each daemon takes its own); keys no schema
    /// knows become warnings.
    pub fn load(dir: &Path) -> LoadResult<F> {
        Config::typed(RawConfig::load_from(dir, F::SCHEMA, &process_env))
    }

    /// [`Config::load`] with the environment given as a function (for tests).
    pub fn load_with_env(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> LoadResult<F> {
        Config::typed(RawConfig::load_from(dir, F::SCHEMA, &|var| {
            env(var).map_or(EnvValue::Unset, EnvValue::Set)
        }))
    }

    /// Builds a config from file texts without touching the disk or the
    /// environment (for tests). Errors and warnings name `<dir>/groxide.cfg`
    /// and the file of `F` in `dir`; `dir` need not exist. When `F` is
    /// [`crate::Shared`] there is one file and `daemon_text` is ignored.
    pub fn from_str_for_tests(dir: &Path, shared_text: &str, daemon_text: &str) -> LoadResult<F> {
        let sources = Sources {
            shared: Some(shared_text.as_bytes().to_vec()),
            daemon: Some(daemon_text.as_bytes().to_vec()),
        };
        Config::typed(RawConfig::build(
            dir,
            F::SCHEMA,
            sources,
            &|_| EnvValue::Unset,
            Vec::new(),
        ))
    }

    fn typed(loaded: RawResult) -> LoadResult<F> {
        loaded.map(|(raw, warnings)| {
            (
                Config {
                    raw,
                    _file: PhantomData,
                },
                warnings,
            )
        })
    }

    /// The value of `key`, as its Rust type: `config.get(keys::midb::MIDB_TABLE_SIZE)`.
    pub fn get<T: KeyType, G: ReadableIn<F>>(&self, key: Key<T, G>) -> T::Out<'_> {
        let entry = self.raw.entry(G::IS_SHARED, key.index());
        T::read(Loaded {
            value: &entry.value,
            text: &entry.text,
            dir: &self.raw.dir,
        })
    }

    /// Where the key's value came from.
    pub fn origin<T: KeyType, G: ReadableIn<F>>(&self, key: Key<T, G>) -> &Origin {
        &self.raw.entry(G::IS_SHARED, key.index()).origin
    }

    /// Whether a file or environment variable set the key (it is not the default).
    pub fn is_set<T: KeyType, G: ReadableIn<F>>(&self, key: Key<T, G>) -> bool {
        *self.origin(key) != Origin::Default
    }

    /// The config directory this was loaded from.
    pub fn dir(&self) -> &Path {
        &self.raw.dir
    }

    /// The schema of the daemon's file (`F`'s).
    pub fn schema(&self) -> &'static Schema {
        F::SCHEMA
    }

    /// Every key with its value text and origin: groxide.cfg's keys, then the
    /// daemon's, in schema order (for printing a config).
    pub fn entries(&self) -> impl Iterator<Item = (&'static KeySpec, &str, &Origin)> {
        self.raw
            .entries
            .iter()
            .map(|entry| (entry.spec, entry.text.as_str(), &entry.origin))
    }
}

/// Loads and checks `<dir>/groxide.cfg` and `<dir>/<schema.file>` (plus the
/// environment) as a daemon would, without keeping the values: for
/// `--check-config` of a file chosen at run time. Returns the warnings.
pub fn check_file(dir: &Path, schema: &'static Schema) -> Result<Vec<ConfigWarning>, ConfigErrors> {
    RawConfig::load_from(dir, schema, &process_env).map(|(_, warnings)| warnings)
}

fn process_env(var: &str) -> EnvValue {
    match std::env::var(var) {
        Ok(value) => EnvValue::Set(value),
        Err(std::env::VarError::NotPresent) => EnvValue::Unset,
        Err(std::env::VarError::NotUnicode(_)) => EnvValue::NotUtf8,
    }
}

/// A loaded config without its file type: groxide.cfg's keys, then the
/// daemon file's, each at its catalogue position.
#[derive(Debug, Clone)]
struct RawConfig {
    dir: PathBuf,
    entries: Vec<Entry>,
}

type RawResult = Result<(RawConfig, Vec<ConfigWarning>), ConfigErrors>;

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

/// A config being built: each key's value once its layer parsed.
struct Building {
    daemon: &'static Schema,
    slots: Vec<Option<Entry>>,
}

impl RawConfig {
    /// The entry of key `index` of groxide.cfg (`shared`) or of the daemon's file.
    ///
    /// The typed API only asks for keys of these two files, and a loaded
    /// config has an entry for every one of them, at its catalogue position.
    fn entry(&self, shared: bool, index: usize) -> &Entry {
        let slot = if shared {
            index
        } else {
            schema::SHARED_KEYS + index
        };
        &self.entries[slot]
    }

    fn load_from(dir: &Path, daemon: &'static Schema, env: &dyn Fn(&str) -> EnvValue) -> RawResult {
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
        RawConfig::build(
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
    ) -> RawResult {
        let mut config = Building {
            daemon,
            slots: Vec::new(),
        };
        let mut warnings = Vec::new();
        let known = config.known_keys();
        config.slots = known.iter().map(|_| None).collect();
        for (slot, spec) in known.iter().enumerate() {
            config.set(
                slot,
                spec,
                spec.default.to_string(),
                Origin::Default,
                &mut errors,
            );
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

        for (slot, spec) in known.iter().enumerate() {
            let var = format!("{ENV_PREFIX}{}", spec.name.to_ascii_uppercase());
            match env(&var) {
                EnvValue::Unset => {}
                EnvValue::Set(value) => config.set(
                    slot,
                    spec,
                    value.trim().to_string(),
                    Origin::Env { var },
                    &mut errors,
                ),
                EnvValue::NotUtf8 => errors.push(ConfigError::EnvNotUtf8 { var }),
            }
        }

        // A key without a value is one whose default did not parse, which
        // pushed an error: a config is returned only when every key has one.
        let entries: Option<Vec<Entry>> = config.slots.into_iter().collect();
        match entries {
            Some(entries) if errors.is_empty() => Ok((
                RawConfig {
                    dir: dir.to_path_buf(),
                    entries,
                },
                warnings,
            )),
            _ => Err(ConfigErrors::new(errors)),
        }
    }
}

impl Building {
    /// The keys this config holds: groxide.cfg's, then the daemon's.
    fn known_keys(&self) -> Vec<&'static KeySpec> {
        let daemon_keys = if is_shared(self.daemon) {
            &[][..]
        } else {
            self.daemon.keys
        };
        schema::SHARED.keys.iter().chain(daemon_keys).collect()
    }

    /// The slot and spec of the key named `key`, if this config holds it.
    fn slot_of(&self, key: &str) -> Option<(usize, &'static KeySpec)> {
        self.known_keys()
            .into_iter()
            .enumerate()
            .find(|(_, spec)| spec.name == key)
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
        if let Some((slot, spec)) = self.slot_of(&assignment.key) {
            self.set(slot, spec, assignment.value, origin, errors);
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
        if let Some((slot, spec)) = self.slot_of(&assignment.key) {
            self.set(slot, spec, assignment.value, origin, errors);
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
        slot: usize,
        spec: &'static KeySpec,
        text: String,
        origin: Origin,
        errors: &mut Vec<ConfigError>,
    ) {
        match parse_value(spec.kind, &text) {
            Ok(value) => {
                if let Some(place) = self.slots.get_mut(slot) {
                    *place = Some(Entry {
                        spec,
                        text,
                        origin,
                        value,
                    });
                }
            }
            Err(reason) => errors.push(ConfigError::BadValue {
                origin,
                key: spec.name.to_string(),
                value: text,
                reason,
            }),
        }
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
