//! The directory's homeserver answers for routing, connected on first use:
//! the timer starts, takes jobs and answers List while the directory is
//! down; a deferred send that needs a route meanwhile fails transiently and
//! is retried.

use groxide_directory::{Directory, DirectorySettings};
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

    /// Forgets cached answers (SIGHUP).
    pub fn clear_cache(&self) {
        if let Some(d) = self.directory.get() {
            d.clear_cache();
        }
    }

    async fn directory(&self) -> Result<&Directory, LookupError> {
        self.directory
            .get_or_try_init(|| Directory::connect(&self.settings))
            .await
            .map_err(|e| LookupError::new(format!("user directory: {e}")))
    }
}

impl HomeserverLookup for LazyDirectory {
    fn homeserver_of<'a>(&'a self, dir: &'a str) -> LookupFuture<'a> {
        Box::pin(async move {
            self.directory()
                .await?
                .homeserver_hostname(dir)
                .await
                .map_err(|e| LookupError::new(format!("user directory: {e}")))
        })
    }
}
