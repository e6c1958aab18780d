//! The open stores of a node: opened lazily on first use, closed after
//! `idle_close` without use, at most `max_open` at once (the least recently
//! used idle store is closed to make room). A store is open at most once, so
//! it has exactly one writer.

use crate::error::{Result, StoreError};
use crate::events::CommitObserver;
use crate::limits::StoreLimits;
use crate::store::{NewStore, OpenOptions, Store};
use crate::writer::SharedLimits;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long [`StoreManager::delete`] waits for in-flight requests on the store.
const DELETE_WAIT: Duration = Duration::from_secs(10);

/// The manager's settings (`table_size`, `cache_interval`, `sqlite_busy_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagerSettings {
    /// Most stores open at once.
    pub max_open: usize,
    /// Idle time after which a store is closed.
    pub idle_close: Duration,
    /// SQLite busy timeout.
    pub busy_timeout: Duration,
}

impl Default for ManagerSettings {
    fn default() -> Self {
        ManagerSettings {
            max_open: 5000,
            idle_close: Duration::from_secs(60),
            busy_timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Default)]
struct SlotState {
    store: Option<Arc<Store>>,
    /// Taken out of the map: an opener holding this slot must start over.
    removed: bool,
}

struct Slot {
    state: Mutex<SlotState>,
    last_used: Mutex<Instant>,
}

/// Opens, caches and closes stores.
pub struct StoreManager {
    slots: Mutex<HashMap<PathBuf, Arc<Slot>>>,
    settings: Mutex<ManagerSettings>,
    limits: Arc<SharedLimits>,
    observer: Option<Arc<dyn CommitObserver>>,
}

impl std::fmt::Debug for StoreManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreManager")
            .field("open", &self.open_count())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl StoreManager {
    /// A manager with these settings and limits; `observer` hears every commit.
    pub fn new(
        settings: ManagerSettings,
        limits: StoreLimits,
        observer: Option<Arc<dyn CommitObserver>>,
    ) -> StoreManager {
        StoreManager {
            slots: Mutex::new(HashMap::new()),
            settings: Mutex::new(settings),
            limits: Arc::new(SharedLimits::new(limits)),
            observer,
        }
    }

    /// Replaces settings and limits (SIGHUP). Open stores keep their busy timeout.
    pub fn reconfigure(&self, settings: ManagerSettings, limits: StoreLimits) {
        *lock(&self.settings) = settings;
        self.limits.set(limits);
    }

    /// The current settings.
    pub fn settings(&self) -> ManagerSettings {
        *lock(&self.settings)
    }

    /// The current limits.
    pub fn limits(&self) -> StoreLimits {
        self.limits.get()
    }

    fn options(&self) -> OpenOptions {
        OpenOptions {
            busy_timeout: lock(&self.settings).busy_timeout,
            limits: self.limits.clone(),
            observer: self.observer.clone(),
        }
    }

    fn slot(&self, dir: &Path) -> Arc<Slot> {
        let mut slots = lock(&self.slots);
        slots
            .entry(dir.to_path_buf())
            .or_insert_with(|| {
                Arc::new(Slot {
                    state: Mutex::new(SlotState::default()),
                    last_used: Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    /// The store at `dir` when it is open now — without opening it or
    /// waiting for another caller that is — so async callers can skip a
    /// hand-off to a blocking thread. `None` means "use [`Self::open`]".
    pub fn already_open(&self, dir: &Path) -> Option<Arc<Store>> {
        let slot = lock(&self.slots).get(dir)?.clone();
        let state = slot.state.try_lock().ok()?;
        if state.removed {
            return None;
        }
        let store = state.store.clone()?;
        *lock(&slot.last_used) = Instant::now();
        Some(store)
    }

    /// The open store at `dir`, opening it if needed.
    pub fn open(&self, dir: &Path) -> Result<Arc<Store>> {
        self.get_or(dir, |opts| Store::open(dir, opts))
    }

    fn get_or(
        &self,
        dir: &Path,
        open: impl Fn(&OpenOptions) -> Result<Store>,
    ) -> Result<Arc<Store>> {
        loop {
            let slot = self.slot(dir);
            let mut state = lock(&slot.state);
            if state.removed {
                continue;
            }
            *lock(&slot.last_used) = Instant::now();
            if let Some(s) = &state.store {
                return Ok(s.clone());
            }
            let opened = match open(&self.options()) {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    state.removed = true;
                    drop(state);
                    self.forget(dir, &slot);
                    return Err(e);
                }
            };
            state.store = Some(opened.clone());
            drop(state);
            self.make_room();
            return Ok(opened);
        }
    }

    fn forget(&self, dir: &Path, slot: &Arc<Slot>) {
        let mut slots = lock(&self.slots);
        if slots.get(dir).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            slots.remove(dir);
        }
    }

    /// Creates the store at `dir` (or opens the existing one of the same
    /// kind). Returns the store, its mailbox GUID, and whether it was created.
    pub fn create(&self, dir: &Path, new: &NewStore) -> Result<(Arc<Store>, [u8; 16], bool)> {
        let created = Mutex::new(None);
        let store = self.get_or(dir, |opts| {
            let (s, guid, c) = Store::create(dir, new, opts)?;
            *lock(&created) = Some((guid, c));
            Ok(s)
        })?;
        let known = lock(&created).take();
        match known {
            Some((guid, c)) => Ok((store, guid, c)),
            None => {
                // Already open: check the kind and report the existing GUID.
                let info = store.info()?;
                if info.kind != new.kind {
                    return Err(StoreError::StoreTypeMismatch {
                        dir: dir.to_path_buf(),
                        existing: info.kind.as_str(),
                    });
                }
                Ok((store, info.mailbox_guid, false))
            }
        }
    }

    /// Closes the store at `dir` and removes its directory. Returns whether
    /// a store was there.
    pub fn delete(&self, dir: &Path) -> Result<bool> {
        let slot = self.slot(dir);
        let store = {
            let mut state = lock(&slot.state);
            state.removed = true;
            state.store.take()
        };
        self.forget(dir, &slot);
        if let Some(s) = store {
            let deadline = Instant::now() + DELETE_WAIT;
            while Arc::strong_count(&s) > 1 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(s);
        }
        let exists = crate::content::StoreLayout::new(dir).database().exists();
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| StoreError::io("remove", dir, e))?;
        }
        Ok(exists)
    }

    /// Stores open now.
    pub fn open_count(&self) -> usize {
        let slots: Vec<Arc<Slot>> = lock(&self.slots).values().cloned().collect();
        slots
            .iter()
            .filter(|s| lock(&s.state).store.is_some())
            .count()
    }

    /// Closes stores idle for `idle_close` and not in use. Returns how many closed.
    pub fn close_idle(&self) -> usize {
        let idle = lock(&self.settings).idle_close;
        self.close_where(|last| last.elapsed() >= idle, usize::MAX)
    }

    /// Closes every store, waiting for queued writes to commit (shutdown).
    pub fn close_all(&self) {
        let slots: Vec<(PathBuf, Arc<Slot>)> = lock(&self.slots).drain().collect();
        for (_, slot) in slots {
            let store = {
                let mut state = lock(&slot.state);
                state.removed = true;
                state.store.take()
            };
            // Dropping the last handle drains and joins the writer.
            drop(store);
        }
    }

    fn make_room(&self) {
        let max = lock(&self.settings).max_open;
        let open = self.open_count();
        if open > max {
            let closed = self.close_where(|_| true, open - max);
            if open - closed > max {
                tracing::warn!(
                    open = open - closed,
                    max,
                    "more stores in use than table_size allows"
                );
            }
        }
    }

    /// Closes up to `n` unused stores for which `pick(last_used)` holds, least recently used first.
    fn close_where(&self, pick: impl Fn(Instant) -> bool, n: usize) -> usize {
        let mut candidates: Vec<(Instant, PathBuf, Arc<Slot>)> = lock(&self.slots)
            .iter()
            .map(|(d, s)| (*lock(&s.last_used), d.clone(), s.clone()))
            .filter(|(t, _, _)| pick(*t))
            .collect();
        candidates.sort_by_key(|(t, _, _)| *t);
        let mut closed = 0;
        let mut to_drop = Vec::new();
        for (_, dir, slot) in candidates {
            if closed >= n {
                break;
            }
            let Ok(mut state) = slot.state.try_lock() else {
                continue;
            };
            let unused = state
                .store
                .as_ref()
                .is_none_or(|s| Arc::strong_count(s) == 1);
            if !unused {
                continue;
            }
            state.removed = true;
            if let Some(s) = state.store.take() {
                to_drop.push(s);
                closed += 1;
            }
            drop(state);
            self.forget(&dir, &slot);
        }
        drop(to_drop);
        closed
    }
}
