//! A config directory in a fresh temp dir.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A config directory in a fresh temp dir, removed when dropped.
pub struct ConfigDir {
    dir: tempfile::TempDir,
}

impl ConfigDir {
    /// An empty config directory.
    pub fn new() -> ConfigDir {
        ConfigDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A file (or directory) inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes (replaces) one file.
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.join(file), text).expect("write config file");
    }

    /// Appends lines to one file (creating it).
    pub fn append(&self, file: &str, text: &str) {
        let mut f = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.join(file))
            .expect("open config file");
        f.write_all(text.as_bytes()).expect("append to config file");
    }
}

impl Default for ConfigDir {
    fn default() -> Self {
        ConfigDir::new()
    }
}
