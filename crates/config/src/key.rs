//! Typed keys: a key's Rust value type and its config file are part of its type.
//!
//! Every key is declared once, in [`crate::schema`], which produces both its
//! catalogue entry ([`KeySpec`]: name, kind, default, doc line) and a typed
//! constant such as [`crate::keys::midb::MIDB_TABLE_SIZE`], a
//! `Key<usize, Midb>`. [`crate::Config::get`] takes such a constant and
//! returns the value as that Rust type, so
//!
//! - a misspelt key does not compile (there is no constant of that name);
//! - a default lives only in the schema (a loaded config holds every key);
//! - a key of another daemon's file does not compile either: a
//!   `Config<Imap>` reads `keys::imap::*` and `keys::shared::*` only. Reading
//!   another file is the explicit `Config::<Exmdb>::load(config.dir())`.
//!
//! The pairing of Rust type and [`ValueKind`] is checked when the constant is
//! compiled: an integer key's `min..=max` must fit its Rust type, so reading
//! it never fails and never clamps.

use std::marker::PhantomData;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bind::BindAddr;
use crate::hosts_allow::{HostsAllow, NetList};
use crate::log_level::LogLevel;
use crate::spec::{KeySpec, Schema, ValueKind};
use crate::value::Value;

mod sealed {
    /// Only this crate declares config files and value types.
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// One config file, as a type: [`crate::Shared`] (groxide.cfg),
/// [`crate::Midb`] (midb.cfg), … A [`crate::Config<F>`] holds the keys of
/// groxide.cfg and of `F`.
pub trait ConfigFile: Sealed + Copy + Send + Sync + std::fmt::Debug + 'static {
    /// The file's key catalogue.
    const SCHEMA: &'static Schema;
    #[doc(hidden)]
    const IS_SHARED: bool;
}

/// A daemon's own file: every file but groxide.cfg. Configs of these files
/// also carry groxide.cfg's keys.
pub trait DaemonFile: ConfigFile {}

/// Keys of this file can be read from a `Config<F>`: true for `F` itself and,
/// when `F` is a daemon's file, for groxide.cfg.
pub trait ReadableIn<F: ConfigFile>: ConfigFile {}

impl<F: ConfigFile> ReadableIn<F> for crate::schema::Shared {}
impl<F: DaemonFile> ReadableIn<F> for F {}

/// The value type of a `String` key: [`crate::Config::get`] returns `&str`.
#[derive(Debug, Clone, Copy)]
pub enum Text {}

/// The value type of a `Choice` key: [`crate::Config::get`] returns the
/// word as the schema spells it, a `&'static str`.
#[derive(Debug, Clone, Copy)]
pub enum Choice {}

/// A loaded value, as handed to [`KeyType::read`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Loaded<'a> {
    pub(crate) value: &'a Value,
    pub(crate) text: &'a str,
    pub(crate) dir: &'a Path,
}

/// A Rust type a key's value can be read as.
pub trait KeyType: Sealed + 'static {
    /// What [`crate::Config::get`] returns.
    type Out<'a>;
    /// The [`ValueKind`]s this type reads (bits of [`kind_bit`]).
    #[doc(hidden)]
    const KINDS: u16;
    /// For integer types, the smallest and largest value.
    #[doc(hidden)]
    const RANGE: (i128, i128) = (0, -1);
    #[doc(hidden)]
    fn read(loaded: Loaded<'_>) -> Self::Out<'_>;
}

/// One bit per [`ValueKind`], for the compile-time check of a key's type.
#[doc(hidden)]
pub const fn kind_bit(kind: &ValueKind) -> u16 {
    match kind {
        ValueKind::String => 1,
        ValueKind::Path => 1 << 1,
        ValueKind::Bool => 1 << 2,
        ValueKind::Size => 1 << 3,
        ValueKind::Duration => 1 << 4,
        ValueKind::Int { .. } => 1 << 5,
        ValueKind::Port => 1 << 6,
        ValueKind::IpAddr => 1 << 7,
        ValueKind::IpList => 1 << 8,
        ValueKind::HostsAllow => 1 << 9,
        ValueKind::LogLevel => 1 << 10,
        ValueKind::Choice(_) => 1 << 11,
        ValueKind::BindList => 1 << 12,
        ValueKind::NetList => 1 << 13,
    }
}

const INT: u16 = kind_bit(&ValueKind::Int { min: 0, max: 0 });

// A variant other than the kind's is impossible: the value was parsed for
// the key's kind at load and the constant's type was checked against that
// kind at compile time. The fallbacks below only satisfy the match.

impl Sealed for Text {}
impl KeyType for Text {
    type Out<'a> = &'a str;
    const KINDS: u16 = kind_bit(&ValueKind::String);
    fn read(loaded: Loaded<'_>) -> &str {
        loaded.text
    }
}

impl Sealed for Choice {}
impl KeyType for Choice {
    type Out<'a> = &'static str;
    const KINDS: u16 = kind_bit(&ValueKind::Choice(&[]));
    fn read(loaded: Loaded<'_>) -> &'static str {
        match loaded.value {
            Value::Choice(word) => word,
            _ => "",
        }
    }
}

impl Sealed for PathBuf {}
/// A path; a relative one is joined to the config directory, and the empty
/// value stays empty (meaning "not set").
impl KeyType for PathBuf {
    type Out<'a> = PathBuf;
    const KINDS: u16 = kind_bit(&ValueKind::Path);
    fn read(loaded: Loaded<'_>) -> PathBuf {
        if loaded.text.is_empty() {
            PathBuf::new()
        } else {
            loaded.dir.join(loaded.text)
        }
    }
}

/// Types whose value is the parsed [`Value`] variant itself (copied or cloned).
macro_rules! value_type {
    ($type:ty, $kind:expr, $variant:ident, |$value:ident| $take:expr, $fallback:expr) => {
        impl Sealed for $type {}
        impl KeyType for $type {
            type Out<'a> = $type;
            const KINDS: u16 = kind_bit(&$kind);
            fn read(loaded: Loaded<'_>) -> $type {
                match loaded.value {
                    Value::$variant($value) => $take,
                    _ => $fallback,
                }
            }
        }
    };
}

value_type!(bool, ValueKind::Bool, Bool, |v| *v, false);
value_type!(
    Duration,
    ValueKind::Duration,
    Duration,
    |v| *v,
    Duration::ZERO
);
value_type!(Option<IpAddr>, ValueKind::IpAddr, Ip, |v| *v, None);
value_type!(
    LogLevel,
    ValueKind::LogLevel,
    LogLevel,
    |v| *v,
    LogLevel::Info
);
value_type!(
    Vec<IpAddr>,
    ValueKind::IpList,
    IpList,
    |v| v.clone(),
    Vec::new()
);
value_type!(
    HostsAllow,
    ValueKind::HostsAllow,
    HostsAllow,
    |v| v.clone(),
    HostsAllow::default()
);
value_type!(
    NetList,
    ValueKind::NetList,
    NetList,
    |v| v.clone(),
    NetList::default()
);
value_type!(
    Vec<BindAddr>,
    ValueKind::BindList,
    BindList,
    |v| v.clone(),
    Vec::new()
);

/// Integer keys read as the integer type their `min..=max` fits; `u64` also
/// reads sizes (bytes) and `u16` ports.
macro_rules! int_type {
    ($type:ty, $extra:expr) => {
        impl Sealed for $type {}
        impl KeyType for $type {
            type Out<'a> = $type;
            const KINDS: u16 = INT | $extra;
            const RANGE: (i128, i128) = (<$type>::MIN as i128, <$type>::MAX as i128);
            fn read(loaded: Loaded<'_>) -> $type {
                match *loaded.value {
                    // In range: the compile-time check put min..=max inside the type.
                    Value::Int(number) => <$type>::try_from(number).unwrap_or(if number < 0 {
                        <$type>::MIN
                    } else {
                        <$type>::MAX
                    }),
                    Value::Size(bytes) => <$type>::try_from(bytes).unwrap_or(<$type>::MAX),
                    Value::Port(port) => <$type>::try_from(port).unwrap_or(<$type>::MAX),
                    _ => 0,
                }
            }
        }
    };
}

int_type!(u16, kind_bit(&ValueKind::Port));
int_type!(u32, 0);
int_type!(u64, kind_bit(&ValueKind::Size));
int_type!(usize, 0);
int_type!(i32, 0);
int_type!(i64, 0);

/// A key of config file `F` whose value reads as `T` (see the module docs).
///
/// Constants of this type exist only in [`crate::keys`]; it cannot be built
/// elsewhere, so every `Key` names a key its file's catalogue has.
pub struct Key<T: KeyType, F: ConfigFile> {
    spec: &'static KeySpec,
    index: usize,
    _type: PhantomData<fn() -> (T, F)>,
}

impl<T: KeyType, F: ConfigFile> Clone for Key<T, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: KeyType, F: ConfigFile> Copy for Key<T, F> {}

impl<T: KeyType, F: ConfigFile> std::fmt::Debug for Key<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({}: {})", F::SCHEMA.file, self.spec.name)
    }
}

impl<T: KeyType, F: ConfigFile> Key<T, F> {
    /// The key of `keys` named `name`, whose constant is called `constant`.
    ///
    /// Evaluated when the constant is compiled; it fails the build when the
    /// name is not in `keys`, the constant is not the name in upper case, or
    /// `T` cannot hold the key's values.
    pub(crate) const fn new(keys: &'static [KeySpec], name: &str, constant: &str) -> Self {
        let index = index_of(keys, name);
        let spec = &keys[index];
        assert!(
            same_bytes(name, constant, true),
            "a key's constant is its name in upper case"
        );
        assert!(
            T::KINDS & kind_bit(&spec.kind) != 0,
            "the constant's Rust type cannot hold values of the key's kind"
        );
        if let ValueKind::Int { min, max } = spec.kind {
            assert!(
                T::RANGE.0 <= min as i128 && max as i128 <= T::RANGE.1,
                "the key's min..=max does not fit the constant's Rust type"
            );
        }
        Key {
            spec,
            index,
            _type: PhantomData,
        }
    }

    /// The key's name, as written in the file (`midb_table_size`).
    pub const fn name(&self) -> &'static str {
        self.spec.name
    }

    /// The key's catalogue entry: name, kind, default, doc line.
    pub const fn spec(&self) -> &'static KeySpec {
        self.spec
    }

    /// The file the key belongs to (`midb.cfg`).
    pub const fn file(&self) -> &'static str {
        F::SCHEMA.file
    }

    /// The environment variable that overrides the key (`GROXIDE_MIDB_TABLE_SIZE`).
    pub fn env_var(&self) -> String {
        format!(
            "{}{}",
            crate::config::ENV_PREFIX,
            self.spec.name.to_ascii_uppercase()
        )
    }

    /// Position in its file's catalogue.
    pub(crate) const fn index(&self) -> usize {
        self.index
    }
}

/// Position of `name` in `keys`; fails the build when it is not there or is there twice.
const fn index_of(keys: &[KeySpec], name: &str) -> usize {
    let mut found = None;
    let mut i = 0;
    while i < keys.len() {
        if same_bytes(keys[i].name, name, false) {
            assert!(found.is_none(), "a key is listed twice in one file");
            found = Some(i);
        }
        i += 1;
    }
    match found {
        Some(index) => index,
        None => panic!("no key of that name in the file"),
    }
}

/// `a == b`, ignoring ASCII case when `ignore_case`.
const fn same_bytes(a: &str, b: &str, ignore_case: bool) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        let (x, y) = if ignore_case {
            (a[i].to_ascii_lowercase(), b[i].to_ascii_lowercase())
        } else {
            (a[i], b[i])
        };
        if x != y {
            return false;
        }
        i += 1;
    }
    true
}
