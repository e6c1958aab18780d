//! The directory as a routing lookup for daemons that must start while the
//! directory is down (exmdb, timer): connected on first use, retried on the
//! next lookup after a failure.
//!
//! A SQLite directory whose file does not exist yet holds no users, so no
//! store has a homeserver: lookups answer "none" without creating the file
//! (only groxide-admin creates it). An unreachable MariaDB is an error, never
//! "none": routing must not fall back to the list file while the directory
//! cannot answer.

use crate::{Directory, DirectorySettings, DirectoryUrl, SettingsError};
use groxide_config::{Config, ConfigFile};
use groxide_routing::{HomeserverLookup, LookupError, LookupFuture};
use tokio::sync::OnceCell;

/// A [`HomeserverLookup`] that connects to the directory when first asked.
pub struct LazyDirectory {
    settings: DirectorySettings,
    directory: OnceCell<Directory>,
}

impl LazyDirectory {
    /// A lookup in the directory described by `settings`.
    pub fn new(settings: DirectorySettings) -> LazyDirectory {
        LazyDirectory {
            settings,
            directory: OnceCell::new(),
        }
    }

    /// A lookup in the directory configured in `config`'s directory
    /// (groxide.cfg `directory_url`, or mysql_adaptor.cfg's keys).
    pub fn from_config_dir<F: ConfigFile>(
        config: &Config<F>,
    ) -> Result<LazyDirectory, SettingsError> {
        Ok(LazyDirectory::new(DirectorySettings::from_config_dir(
            config,
        )?))
    }

    /// Forgets cached answers (SIGHUP).
    pub fn clear_cache(&self) {
        if let Some(d) = self.directory.get() {
            d.clear_cache();
        }
    }

    /// The directory, connecting now if needed; `None` for a SQLite
    /// directory that has not been created yet.
    pub async fn get(&self) -> Result<Option<&Directory>, LookupError> {
        if let Some(d) = self.directory.get() {
            return Ok(Some(d));
        }
        if let DirectoryUrl::Sqlite { path } = &self.settings.url
            && !path.exists()
        {
            return Ok(None);
        }
        self.directory
            .get_or_try_init(|| Directory::connect(&self.settings))
            .await
            .map(Some)
            .map_err(|e| LookupError::new(format!("user directory: {e}")))
    }
}

impl HomeserverLookup for LazyDirectory {
    fn homeserver_of<'a>(&'a self, dir: &'a str) -> LookupFuture<'a> {
        Box::pin(async move {
            match self.get().await? {
                None => Ok(None),
                Some(d) => d
                    .homeserver_hostname(dir)
                    .await
                    .map_err(|e| LookupError::new(format!("user directory: {e}"))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sqlite_directory_not_created_yet_routes_nothing_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("directory.sqlite3");
        let lazy = LazyDirectory::new(DirectorySettings::new(DirectoryUrl::Sqlite {
            path: path.clone(),
        }));
        assert_eq!(
            lazy.homeserver_of("/var/lib/groxide/user/x").await.unwrap(),
            None
        );
        assert!(!path.exists(), "a lookup must not create the directory");
    }

    #[tokio::test]
    async fn an_unreachable_mariadb_is_an_error_not_none() {
        let url = DirectoryUrl::parse("mysql://root@127.0.0.1:1/nothing").unwrap();
        let mut settings = DirectorySettings::new(url);
        settings.connect_timeout = std::time::Duration::from_millis(300);
        let lazy = LazyDirectory::new(settings);
        let err = lazy.homeserver_of("/a/b").await.unwrap_err();
        assert!(err.reason().contains("user directory"), "{}", err.reason());
    }
}
