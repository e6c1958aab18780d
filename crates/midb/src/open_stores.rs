//! The stores midb has open: each with its midb.sqlite3 connection, a lock
//! per folder for refreshes, and (when a change feed is configured) a task
//! that keeps digests of new messages computed ahead of requests. Bounded by
//! `midb_table_size` (least recently used closed first) and closed after
//! `midb_cache_interval` without use.

use crate::cache::{CacheDb, CacheError};
use crate::store::FolderId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::task::AbortHandle;

/// midb's file inside a store directory.
pub fn cache_path(dir: &str) -> PathBuf {
    Path::new(dir).join("exmdb").join("midb.sqlite3")
}

/// The store's own database, whose presence says `dir` is a store of this
/// node (midb never creates files in a directory that is not one).
pub fn store_database(dir: &str) -> PathBuf {
    Path::new(dir).join("exmdb").join("exchange.sqlite3")
}

/// One open store.
pub struct OpenStore {
    dir: String,
    path: PathBuf,
    db: Mutex<CacheDb>,
    folder_locks: Mutex<HashMap<FolderId, Arc<tokio::sync::Mutex<()>>>>,
    last_used: AtomicU64,
    feed_task: Mutex<Option<AbortHandle>>,
    epoch: Instant,
}

impl OpenStore {
    /// The store's dir.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// The cache connection (blocking: use inside `spawn_blocking`).
    pub fn db(&self) -> MutexGuard<'_, CacheDb> {
        // A panic while holding the lock leaves a usable connection.
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock serialising refreshes of one folder.
    pub fn folder_lock(&self, folder: FolderId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.folder_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(folder).or_default().clone()
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_used.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(now.saturating_sub(self.last_used.load(Ordering::Relaxed)))
    }

    /// Attaches the task that follows the store's change feed (aborted on close).
    pub fn set_feed_task(&self, task: AbortHandle) {
        let mut t = self.feed_task.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = t.replace(task) {
            old.abort();
        }
    }

    fn file_is_gone(&self) -> bool {
        !self.path.exists()
    }
}

impl Drop for OpenStore {
    fn drop(&mut self) {
        let t = self.feed_task.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = t.take() {
            t.abort();
        }
    }
}

/// The table of open stores.
pub struct OpenStores {
    table: Mutex<HashMap<String, Arc<OpenStore>>>,
    limit: AtomicU64,
    idle: Mutex<Duration>,
    epoch: Instant,
}

/// Whether an acquired store was opened just now (a new one needs its feed).
pub struct Acquired {
    /// The store.
    pub store: Arc<OpenStore>,
    /// Opened by this call.
    pub fresh: bool,
}

impl OpenStores {
    /// A table of at most `limit` stores, closing stores idle for `idle`.
    pub fn new(limit: usize, idle: Duration) -> OpenStores {
        OpenStores {
            table: Mutex::new(HashMap::new()),
            limit: AtomicU64::new(limit.max(1) as u64),
            idle: Mutex::new(idle),
            epoch: Instant::now(),
        }
    }

    /// Changes the bounds (SIGHUP).
    pub fn set_limits(&self, limit: usize, idle: Duration) {
        self.limit.store(limit.max(1) as u64, Ordering::Relaxed);
        *self.idle.lock().unwrap_or_else(|p| p.into_inner()) = idle;
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<OpenStore>>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The open store of `dir`, opening (or, if its file was deleted,
    /// reopening) it. Blocking: call inside `spawn_blocking`.
    pub fn acquire(&self, dir: &str) -> Result<Acquired, CacheError> {
        {
            let mut table = self.lock();
            if let Some(s) = table.get(dir).cloned() {
                if !s.file_is_gone() {
                    s.touch();
                    return Ok(Acquired {
                        store: s,
                        fresh: false,
                    });
                }
                // midb.sqlite3 was deleted under us: start a new one.
                tracing::info!(dir, "midb cache file disappeared; rebuilding");
                table.remove(dir);
            }
        }
        let path = cache_path(dir);
        let store_db = store_database(dir);
        if !store_db.exists() {
            return Err(CacheError::Io {
                path: store_db,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no store of this node here (is midb running on the store's home node?)",
                ),
            });
        }
        let db = CacheDb::open(&path)?;
        let store = Arc::new(OpenStore {
            dir: dir.to_owned(),
            path,
            db: Mutex::new(db),
            folder_locks: Mutex::new(HashMap::new()),
            last_used: AtomicU64::new(0),
            feed_task: Mutex::new(None),
            epoch: self.epoch,
        });
        store.touch();
        let mut table = self.lock();
        // Another caller may have opened it meanwhile; keep theirs.
        if let Some(s) = table.get(dir)
            && !s.file_is_gone()
        {
            s.touch();
            return Ok(Acquired {
                store: s.clone(),
                fresh: false,
            });
        }
        let limit = usize::try_from(self.limit.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        while table.len() >= limit {
            let victim = table
                .iter()
                .max_by_key(|(_, s)| s.idle_for())
                .map(|(d, _)| d.clone());
            match victim {
                Some(d) => {
                    tracing::debug!(dir = %d, "closing least recently used store (midb_table_size)");
                    table.remove(&d);
                }
                None => break,
            }
        }
        table.insert(dir.to_owned(), store.clone());
        Ok(Acquired { store, fresh: true })
    }

    /// Closes stores idle for longer than the idle time; returns how many.
    pub fn close_idle(&self) -> usize {
        let idle = *self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let mut table = self.lock();
        let before = table.len();
        table.retain(|dir, s| {
            let keep = s.idle_for() < idle;
            if !keep {
                tracing::debug!(dir = %dir, "closing idle store (midb_cache_interval)");
            }
            keep
        });
        before - table.len()
    }

    /// Closes every store.
    pub fn close_all(&self) {
        self.lock().clear();
    }

    /// Number of open stores.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no store is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The idle time after which stores close.
    pub fn idle_time(&self) -> Duration {
        *self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_dir(root: &Path, name: &str) -> String {
        let d = root.join(name);
        std::fs::create_dir_all(d.join("exmdb")).unwrap();
        std::fs::write(d.join("exmdb/exchange.sqlite3"), b"").unwrap();
        d.to_string_lossy().into_owned()
    }

    #[test]
    fn the_table_is_bounded_and_closes_the_least_recently_used() {
        let root = tempfile::tempdir().unwrap();
        let t = OpenStores::new(2, Duration::from_secs(3600));
        let (a, b, c) = (
            store_dir(root.path(), "a"),
            store_dir(root.path(), "b"),
            store_dir(root.path(), "c"),
        );
        assert!(t.acquire(&a).unwrap().fresh);
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.acquire(&b).unwrap().fresh);
        assert!(!t.acquire(&b).unwrap().fresh);
        t.acquire(&c).unwrap();
        assert_eq!(t.len(), 2);
        assert!(t.acquire(&a).unwrap().fresh, "a was closed to make room");
    }

    #[test]
    fn a_directory_that_is_not_a_store_is_never_written_to() {
        let root = tempfile::tempdir().unwrap();
        let t = OpenStores::new(2, Duration::from_secs(3600));
        let d = root.path().join("x");
        std::fs::create_dir_all(d.join("exmdb")).unwrap();
        let dir = d.to_string_lossy().into_owned();
        assert!(t.acquire(&dir).is_err());
        assert!(!cache_path(&dir).exists());
    }

    #[test]
    fn idle_stores_close_and_a_deleted_file_reopens() {
        let root = tempfile::tempdir().unwrap();
        let t = OpenStores::new(10, Duration::ZERO);
        let a = store_dir(root.path(), "a");
        t.acquire(&a).unwrap();
        assert_eq!(t.close_idle(), 1);
        assert!(t.is_empty());
        t.set_limits(10, Duration::from_secs(3600));
        t.acquire(&a).unwrap();
        std::fs::remove_file(cache_path(&a)).unwrap();
        assert!(
            t.acquire(&a).unwrap().fresh,
            "deleted midb.sqlite3 is recreated"
        );
        assert!(cache_path(&a).exists());
    }
}
