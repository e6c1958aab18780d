//! The stores midb has open: each with its reader of the store (the
//! store's SQLite file and content files, read beside groxide-exmdb, the
//! writer), its midb.sqlite3 connection, a lock per folder for refreshes,
//! and (when a change feed is configured) a task that keeps digests of new
//! messages computed ahead of requests. Bounded by `midb_table_size` (least
//! recently used closed first) and closed after `midb_cache_interval`
//! without use.

use crate::cache::{CacheDb, CacheError};
use crate::sort_index::SortIndexes;
use groxide_mailview::FolderId;
use groxide_store::{StoreLayout, StoreReader};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::task::AbortHandle;

/// How often an open store checks that its midb.sqlite3 still exists (it
/// may be deleted at any moment and is then rebuilt).
const FILE_CHECK: Duration = Duration::from_secs(1);

/// midb's file inside a store directory, next to the store's database.
pub fn cache_path(dir: &str) -> PathBuf {
    StoreLayout::new(Path::new(dir))
        .exmdb_dir()
        .join("midb.sqlite3")
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The store itself (missing, or of another schema version).
    #[error(transparent)]
    Store(#[from] groxide_store::StoreError),
    /// midb.sqlite3.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// One open store.
pub struct OpenStore {
    dir: String,
    path: PathBuf,
    reader: StoreReader,
    db: Mutex<CacheDb>,
    /// When the cache file was last seen to exist (ms since `epoch`).
    file_seen: AtomicU64,
    folder_locks: Mutex<HashMap<FolderId, Arc<tokio::sync::Mutex<()>>>>,
    sort_indexes: Mutex<SortIndexes>,
    last_used: AtomicU64,
    feed_task: Mutex<Option<AbortHandle>>,
    epoch: Instant,
}

impl OpenStore {
    /// The store's dir.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// The store's reader.
    pub fn reader(&self) -> &StoreReader {
        &self.reader
    }

    /// The cache connection (a short blocking call: queries of one store).
    pub fn db(&self) -> MutexGuard<'_, CacheDb> {
        // A panic while holding the lock leaves a usable connection.
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The store's SORT indexes (short, blocking use: no await while held).
    pub(crate) fn sort_indexes(&self) -> MutexGuard<'_, SortIndexes> {
        self.sort_indexes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock serialising refreshes of one folder.
    pub fn folder_lock(&self, folder: FolderId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.folder_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(folder).or_default().clone()
    }

    fn touch(&self) {
        self.last_used.store(self.now_ms(), Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.last_used.load(Ordering::Relaxed)),
        )
    }

    /// Attaches the task that follows the store's change feed (aborted on close).
    pub fn set_feed_task(&self, task: AbortHandle) {
        let mut t = self.feed_task.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = t.replace(task) {
            old.abort();
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether midb.sqlite3 was deleted under us (checked at most once per
    /// [`FILE_CHECK`]: a `stat` per request showed in profiles).
    fn file_is_gone(&self) -> bool {
        let now = self.now_ms();
        let seen = self.file_seen.load(Ordering::Relaxed);
        if now.saturating_sub(seen) < FILE_CHECK.as_millis() as u64 {
            return false;
        }
        if self.path.exists() {
            self.file_seen.store(now, Ordering::Relaxed);
            false
        } else {
            true
        }
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
    busy_timeout: Duration,
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
    /// A table of at most `limit` stores, closing stores idle for `idle`;
    /// readers wait up to `busy_timeout` on a locked database.
    pub fn new(limit: usize, idle: Duration, busy_timeout: Duration) -> OpenStores {
        OpenStores {
            table: Mutex::new(HashMap::new()),
            limit: AtomicU64::new(limit.max(1) as u64),
            idle: Mutex::new(idle),
            busy_timeout,
            epoch: Instant::now(),
        }
    }

    /// The open store of `dir`, when it is open and its cache file is
    /// there (no file I/O beyond an occasional `stat`).
    pub fn get(&self, dir: &str) -> Option<Arc<OpenStore>> {
        let table = self.lock();
        let s = table.get(dir)?;
        if s.file_is_gone() {
            return None;
        }
        s.touch();
        Some(s.clone())
    }

    /// Changes the bounds (SIGHUP).
    pub fn set_limits(&self, limit: usize, idle: Duration) {
        self.limit.store(limit.max(1) as u64, Ordering::Relaxed);
        *self.idle.lock().unwrap_or_else(|p| p.into_inner()) = idle;
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<OpenStore>>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The open store of `dir`, opening (or, if its cache file was deleted,
    /// reopening) it. Opening is blocking file work: call it inside
    /// `spawn_blocking`.
    pub fn acquire(&self, dir: &str) -> Result<Acquired, OpenError> {
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
        // The store first: midb never creates files in a directory that
        // holds no store.
        let reader = StoreReader::open(Path::new(dir), self.busy_timeout)?;
        let db = CacheDb::open(&path)?;
        let store = Arc::new(OpenStore {
            dir: dir.to_owned(),
            path,
            reader,
            db: Mutex::new(db),
            file_seen: AtomicU64::new(self.epoch.elapsed().as_millis() as u64),
            folder_locks: Mutex::new(HashMap::new()),
            sort_indexes: Mutex::new(SortIndexes::default()),
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
        groxide_store::Store::create(
            &d,
            &groxide_store::NewStore {
                kind: groxide_store::StoreKind::Private,
                owner: format!("{name}@example.test"),
                lang: String::new(),
                quota_bytes: 0,
            },
            &groxide_store::OpenOptions::default(),
        )
        .unwrap();
        d.to_string_lossy().into_owned()
    }

    fn table(limit: usize, idle: Duration) -> OpenStores {
        OpenStores::new(limit, idle, Duration::from_secs(5))
    }

    #[test]
    fn the_table_is_bounded_and_closes_the_least_recently_used() {
        let root = tempfile::tempdir().unwrap();
        let t = table(2, Duration::from_secs(3600));
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
        assert!(t.get(&a).is_none(), "a was closed to make room");
        assert!(t.acquire(&a).unwrap().fresh);
    }

    #[test]
    fn a_directory_that_is_not_a_store_is_never_written_to() {
        let root = tempfile::tempdir().unwrap();
        let t = table(2, Duration::from_secs(3600));
        let d = root.path().join("x");
        std::fs::create_dir_all(d.join("exmdb")).unwrap();
        let dir = d.to_string_lossy().into_owned();
        assert!(matches!(
            t.acquire(&dir),
            Err(OpenError::Store(groxide_store::StoreError::NoSuchStore(_)))
        ));
        assert!(!cache_path(&dir).exists());
    }

    #[test]
    fn idle_stores_close_and_a_deleted_file_reopens() {
        let root = tempfile::tempdir().unwrap();
        let t = table(10, Duration::ZERO);
        let a = store_dir(root.path(), "a");
        t.acquire(&a).unwrap();
        assert_eq!(t.close_idle(), 1);
        assert!(t.is_empty());
        t.set_limits(10, Duration::from_secs(3600));
        t.acquire(&a).unwrap();
        std::fs::remove_file(cache_path(&a)).unwrap();
        std::thread::sleep(FILE_CHECK + Duration::from_millis(50));
        assert!(t.get(&a).is_none(), "the deletion is noticed");
        assert!(
            t.acquire(&a).unwrap().fresh,
            "deleted midb.sqlite3 is recreated"
        );
        assert!(cache_path(&a).exists());
    }
}
