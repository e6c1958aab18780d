//! The one writer of a store: a thread that owns the write connection and
//! runs queued writes in batches. Each batch is one transaction (each write
//! in its own savepoint, so one failing write does not fail the others) and
//! one durable commit; then every write of the batch is acknowledged. While
//! a commit waits for the disk, new writes queue up and form the next batch:
//! group commit, which lets concurrent writers go past the disk's fsync rate.

use crate::content::ContentFiles;
use crate::error::{Result, StoreError};
use crate::events::CommitObserver;
use crate::limits::StoreLimits;
use crate::tx::{WriteCtx, unix_now};
use rusqlite::{Connection, OptionalExtension};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, mpsc};
use std::thread::JoinHandle;

/// Most writes in one transaction.
pub const MAX_BATCH: usize = 512;

type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// A queued write: runs in the transaction, returns whether it succeeded and
/// how to acknowledge it once the commit's outcome is known.
pub(crate) type Job = Box<dyn FnOnce(&mut WriteCtx<'_>) -> (bool, Finish) + Send>;

/// Counters of a store's writer.
#[derive(Debug, Default)]
pub struct WriterStats {
    commits: AtomicU64,
    writes: AtomicU64,
    failed_commits: AtomicU64,
}

/// A snapshot of [`WriterStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterCounts {
    /// Transactions committed.
    pub commits: u64,
    /// Writes run (each acknowledged after its batch's commit).
    pub writes: u64,
    /// Commits that failed (every write of the batch failed with them).
    pub failed_commits: u64,
}

impl WriterStats {
    pub(crate) fn snapshot(&self) -> WriterCounts {
        WriterCounts {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            failed_commits: self.failed_commits.load(Ordering::Relaxed),
        }
    }
}

/// Limits shared by every store of a manager; changed on SIGHUP.
#[derive(Debug, Default)]
pub struct SharedLimits(RwLock<StoreLimits>);

impl SharedLimits {
    /// Limits starting at `l`.
    pub fn new(l: StoreLimits) -> SharedLimits {
        SharedLimits(RwLock::new(l))
    }

    /// The current limits.
    pub fn get(&self) -> StoreLimits {
        *self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the limits; the next batch of every store uses them.
    pub fn set(&self, l: StoreLimits) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = l;
    }
}

pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<WriterStats>,
}

pub(crate) struct WriterSetup {
    pub(crate) dir: PathBuf,
    pub(crate) conn: Connection,
    pub(crate) files: Arc<ContentFiles>,
    pub(crate) limits: Arc<SharedLimits>,
    pub(crate) observer: Option<Arc<dyn CommitObserver>>,
}

impl Writer {
    pub(crate) fn start(setup: WriterSetup) -> Result<Writer> {
        let (tx, rx) = mpsc::channel::<Job>();
        let stats = Arc::new(WriterStats::default());
        let s = stats.clone();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(setup, rx, &s))
            .map_err(|e| StoreError::io("start writer thread for", "store", e))?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
            stats,
        })
    }

    pub(crate) fn stats(&self) -> WriterCounts {
        self.stats.snapshot()
    }

    /// Runs `f` in the next batch and waits for its commit. `hold` lives until
    /// the outcome is known (staged content stays pending until then).
    pub(crate) fn submit<T, H, F>(&self, hold: H, f: F) -> Result<T>
    where
        T: Send + 'static,
        H: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, wait) = mpsc::sync_channel::<Result<T>>(1);
        let job: Job = Box::new(move |ctx| {
            let r = f(ctx);
            let ok = r.is_ok();
            let finish: Finish = Box::new(move |commit_err| {
                let out = match (r, commit_err) {
                    (Ok(_), Some(e)) => Err(StoreError::CommitFailed(e.to_string())),
                    (r, _) => r,
                };
                let _ = reply.send(out);
                drop(hold);
            });
            (ok, finish)
        });
        self.tx
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(job)
            .map_err(|_| StoreError::Closed)?;
        wait.recv().map_err(|_| StoreError::Closed)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue lets the thread finish what is queued, then end.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(mut setup: WriterSetup, rx: mpsc::Receiver<Job>, stats: &WriterStats) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        run_batch(&mut setup, batch, stats);
    }
}

/// Runs one statement without parameters, parsed once per connection (the
/// transaction control of every write: parsing it each time showed in
/// profiles).
fn control(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn run_batch(setup: &mut WriterSetup, batch: Vec<Job>, stats: &WriterStats) {
    let conn = &setup.conn;
    let n = batch.len() as u64;
    if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
        let msg = e.to_string();
        tracing::error!(dir = %setup.dir.display(), error = %msg, "cannot begin a write transaction");
        // Not run: their callers see the store as closed and may retry.
        drop(batch);
        stats.failed_commits.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let limits = setup.limits.get();
    let now = unix_now();
    let mut finishes = Vec::with_capacity(batch.len());
    let mut events = Vec::new();
    let mut unlink = Vec::new();
    for job in batch {
        if control(conn, "SAVEPOINT op").is_err() {
            // Not run: its caller sees the store as closed rather than a half-applied write.
            drop(job);
            continue;
        }
        let mut ctx = WriteCtx {
            conn,
            limits,
            now,
            events: Vec::new(),
            unlink: Vec::new(),
        };
        // A bug in one write must not take the store's writer down with it.
        let Ok((ok, finish)) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut ctx)))
        else {
            tracing::error!(dir = %setup.dir.display(), "a write panicked; rolled back, its caller sees the store as closed");
            let _ = conn.execute_batch("ROLLBACK TO op; RELEASE op");
            continue;
        };
        if ok {
            let _ = control(conn, "RELEASE op");
            events.append(&mut ctx.events);
            unlink.append(&mut ctx.unlink);
        } else {
            let _ = conn.execute_batch("ROLLBACK TO op; RELEASE op");
        }
        finishes.push(finish);
    }
    match control(conn, "COMMIT") {
        Ok(()) => {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.writes.fetch_add(n, Ordering::Relaxed);
            setup.files.unlink_unreferenced(&unlink, |h| {
                conn.prepare_cached("SELECT 1 FROM content_files WHERE hash = ?1")
                    .and_then(|mut s| s.query_row([&h.0[..]], |_| Ok(())).optional())
                    .map(|r| r.is_some())
                    // When in doubt, keep the file: the sweep removes it later.
                    .unwrap_or(true)
            });
            // Before the acknowledgements: a caller that saw its write done finds it notified.
            if !events.is_empty()
                && let Some(o) = &setup.observer
            {
                o.committed(&setup.dir, &events);
            }
            for f in finishes {
                f(None);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            tracing::error!(dir = %setup.dir.display(), error = %msg, "commit failed");
            let _ = conn.execute_batch("ROLLBACK");
            stats.failed_commits.fetch_add(1, Ordering::Relaxed);
            for f in finishes {
                f(Some(&msg));
            }
        }
    }
}
