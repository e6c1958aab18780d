//! What can go wrong loading a config directory, and warnings that are not errors.

use std::fmt;
use std::path::PathBuf;

use crate::file::{MAX_FILE_SIZE, MAX_LINE_LEN};
use crate::invalid::InvalidValue;
use crate::origin::Origin;

/// One problem that stops a config directory from loading.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file exists but could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The config directory does not exist.
    #[error("{}: config directory does not exist", path.display())]
    MissingDir {
        /// The directory that was asked for.
        path: PathBuf,
    },
    /// The config directory path names something that is not a directory.
    #[error("{}: not a directory", path.display())]
    NotADirectory {
        /// The path that was asked for.
        path: PathBuf,
    },
    /// A config file is larger than [`MAX_FILE_SIZE`].
    #[error("{}: file is larger than {MAX_FILE_SIZE} bytes", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
    },
    /// A line is not valid UTF-8.
    #[error("{}:{line}: not valid UTF-8", file.display())]
    NotUtf8 {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A line is longer than [`MAX_LINE_LEN`] bytes.
    #[error("{}:{line}: line is {len} bytes long, at most {MAX_LINE_LEN} allowed", file.display())]
    LineTooLong {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line's length without its line ending.
        len: usize,
    },
    /// A line that is neither blank, a comment nor `key = value`.
    #[error("{}:{line}: expected `key = value` or a comment starting with #", file.display())]
    MissingEquals {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A line of the form ` = value`.
    #[error("{}:{line}: no key before `=`", file.display())]
    MissingKey {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A key set twice in one file.
    #[error("{}:{line}: {key}: set again (first set on line {first_line})", file.display())]
    DuplicateKey {
        /// The file.
        file: PathBuf,
        /// The line of the second assignment.
        line: usize,
        /// The key, lower case.
        key: String,
        /// The line of the first assignment.
        first_line: usize,
    },
    /// A known key whose value does not fit its kind.
    #[error("{origin}: {key}: invalid {} {value:?} ({})", reason.what, reason.reason)]
    BadValue {
        /// Where the value was set.
        origin: Origin,
        /// The key, lower case.
        key: String,
        /// The value as written (trimmed).
        value: String,
        /// What kind of value was expected and why this one is not.
        reason: InvalidValue,
    },
    /// A `GROXIDE_<KEY>` environment variable that is not valid UTF-8.
    #[error("environment variable {var}: not valid UTF-8")]
    EnvNotUtf8 {
        /// The variable's name.
        var: String,
    },
}

/// Every problem found while loading, so one `--check-config` run shows them all.
#[derive(Debug)]
pub struct ConfigErrors {
    errors: Vec<ConfigError>,
}

impl ConfigErrors {
    pub(crate) fn new(errors: Vec<ConfigError>) -> ConfigErrors {
        ConfigErrors { errors }
    }

    /// The problems, in the order found: groxide.cfg, the daemon's file, then the environment.
    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }

    /// Takes the problems out.
    pub fn into_vec(self) -> Vec<ConfigError> {
        self.errors
    }
}

impl fmt::Display for ConfigErrors {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.errors.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

/// A key that no schema knows: ignored, but worth telling the operator once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// The key as read, lower case.
    pub key: String,
    /// A known key of this file with a similar spelling.
    pub did_you_mean: Option<&'static str>,
    /// The file the key belongs in, when it is a key of another daemon.
    pub belongs_in: Option<&'static str>,
}

impl fmt::Display for ConfigWarning {
    /// `/etc/groxide/imap.cfg:7: unknown key "imap_conn_timout" ignored (did you mean "imap_conn_timeout"?)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: unknown key {:?} ignored",
            self.file.display(),
            self.line,
            self.key
        )?;
        if let Some(file) = self.belongs_in {
            write!(f, " (it belongs in {file})")?;
        } else if let Some(key) = self.did_you_mean {
            write!(f, " (did you mean {key:?}?)")?;
        }
        Ok(())
    }
}
