//! Where a config value came from.

use std::fmt;
use std::path::PathBuf;

/// Where the value of a key came from: the layer that set it last.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Not set anywhere: the key's built-in default.
    Default,
    /// A line of a config file.
    File {
        /// The file, as the config directory path joined with its name.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// An environment variable `GROXIDE_<KEY>`.
    Env {
        /// The variable's name.
        var: String,
    },
}

impl fmt::Display for Origin {
    /// `default`, `/etc/groxide/imap.cfg:12` or `environment variable GROXIDE_X`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { file, line } => write!(f, "{}:{line}", file.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
        }
    }
}
