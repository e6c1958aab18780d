//! The duplicate database: which messages each mailbox already received,
//! so a client that lost the reply after DATA (timeout, cut connection)
//! and sends the same message again does not get a second copy stored.
//!
//! A message is the same when its Message-ID and the SHA-256 of the bytes
//! received (without this server's trace fields, which differ per attempt)
//! are; a message without a Message-ID is never taken for a duplicate.
//! Entries older than `lmtp_dedup_window` are ignored and pruned. The
//! database is a small SQLite file of this node (`<data_path>/delivery/
//! dedup.sqlite3`); losing it costs at most a duplicate, never a message.
//! A delivery of the same message to the same mailbox that is still in
//! flight is waited for, so a fast retry does not slip past it.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why the database could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[error("duplicate database {path}: {source}")]
pub struct DedupError {
    path: String,
    #[source]
    source: rusqlite::Error,
}

/// What identifies one message in one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    dir: String,
    digest: [u8; 32],
}

impl DedupKey {
    /// The key of a message with `message_id` and content hash
    /// `content_sha256`, delivered into the store `dir`.
    pub fn new(dir: &str, message_id: &str, content_sha256: &[u8; 32]) -> DedupKey {
        let mut h = Sha256::new();
        h.update(message_id.trim().as_bytes());
        h.update([0]);
        h.update(content_sha256);
        DedupKey {
            dir: dir.to_owned(),
            digest: h.finalize().into(),
        }
    }
}

/// Inserts between prunes of expired entries.
const PRUNE_EVERY: u64 = 1000;

/// The duplicate database of this node.
pub struct DedupDb {
    conn: Mutex<Connection>,
    path: String,
    inflight: Mutex<HashMap<DedupKey, Arc<tokio::sync::Mutex<()>>>>,
    inserts: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for DedupDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedupDb").field("path", &self.path).finish()
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl DedupDb {
    /// Opens (or creates) the database at `path`, creating its directory.
    pub fn open(path: &Path) -> Result<DedupDb, DedupError> {
        let err = |source| DedupError {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        }
        let conn = Connection::open(path).map_err(err)?;
        // WAL + NORMAL: an entry survives a crash of the daemon; one lost to
        // a power cut costs a duplicate, which is what there was before.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS delivered (
               dir TEXT NOT NULL, digest BLOB NOT NULL, at INTEGER NOT NULL,
               PRIMARY KEY (dir, digest)) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS delivered_at ON delivered (at);",
        )
        .map_err(err)?;
        Ok(DedupDb {
            conn: Mutex::new(conn),
            path: path.display().to_string(),
            inflight: Mutex::new(HashMap::new()),
            inserts: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Waits until no other delivery of `key` is in flight, then says
    /// whether `key` was delivered within `window`. The claim holds off
    /// other deliveries of `key` until it is dropped.
    pub async fn claim(&self, key: DedupKey, window: Duration) -> Claim<'_> {
        let lock = self
            .inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone();
        let guard = lock.clone().lock_owned().await;
        let since = now_secs().saturating_sub(i64::try_from(window.as_secs()).unwrap_or(i64::MAX));
        let seen = {
            let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
            conn.query_row(
                "SELECT at FROM delivered WHERE dir = ?1 AND digest = ?2 AND at >= ?3",
                params![key.dir, key.digest.as_slice(), since],
                |r| r.get::<_, i64>(0),
            )
            .optional()
        };
        let seen = match seen {
            Ok(found) => found.is_some(),
            Err(e) => {
                // Unreadable: deliver (a duplicate is better than a loss).
                tracing::warn!(path = self.path, error = %e, "duplicate database not readable");
                false
            }
        };
        Claim {
            db: self,
            key,
            lock: Some((lock, guard)),
            seen,
            window,
        }
    }

    fn record(&self, key: &DedupKey, window: Duration) {
        let now = now_secs();
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = conn.execute(
            "INSERT OR REPLACE INTO delivered (dir, digest, at) VALUES (?1, ?2, ?3)",
            params![key.dir, key.digest.as_slice(), now],
        ) {
            tracing::warn!(path = self.path, error = %e, "duplicate database not written");
            return;
        }
        let n = self
            .inserts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n.is_multiple_of(PRUNE_EVERY) {
            let before = now.saturating_sub(i64::try_from(window.as_secs()).unwrap_or(i64::MAX));
            if let Err(e) = conn.execute("DELETE FROM delivered WHERE at < ?1", params![before]) {
                tracing::warn!(path = self.path, error = %e, "duplicate database not pruned");
            }
        }
    }

    fn release(&self, key: &DedupKey, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        // The map's reference and ours: nobody else waits for this key.
        if Arc::strong_count(&lock) == 2 {
            map.remove(key);
        }
    }
}

/// The right to deliver one message into one mailbox (see [`DedupDb::claim`]).
pub struct Claim<'a> {
    db: &'a DedupDb,
    key: DedupKey,
    #[allow(clippy::type_complexity)]
    lock: Option<(
        Arc<tokio::sync::Mutex<()>>,
        tokio::sync::OwnedMutexGuard<()>,
    )>,
    window: Duration,
    /// Whether the mailbox already got this message within the window.
    pub seen: bool,
}

impl Claim<'_> {
    /// Remembers that the mailbox now has the message (call after the
    /// store committed it).
    pub fn record(&self) {
        self.db.record(&self.key, self.window);
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some((lock, guard)) = self.lock.take() {
            drop(guard);
            self.db.release(&self.key, lock);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_recorded_message_is_seen_until_the_window_passes_and_after_reopening() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("d").join("dedup.sqlite3");
        let key = DedupKey::new("/s/a", "<m@x>", &[7; 32]);
        let other_box = DedupKey::new("/s/b", "<m@x>", &[7; 32]);
        let other_bytes = DedupKey::new("/s/a", "<m@x>", &[8; 32]);
        let day = Duration::from_secs(86_400);
        {
            let db = DedupDb::open(&path).unwrap();
            let c = db.claim(key.clone(), day).await;
            assert!(!c.seen);
            c.record();
            drop(c);
            assert!(db.claim(key.clone(), day).await.seen);
            assert!(!db.claim(other_box, day).await.seen);
            assert!(!db.claim(other_bytes, day).await.seen);
            assert!(db.inflight.lock().unwrap().is_empty());
        }
        let db = DedupDb::open(&path).unwrap();
        assert!(
            db.claim(key.clone(), day).await.seen,
            "durable across restart"
        );
        // Back-date the entry past the window.
        db.conn
            .lock()
            .unwrap()
            .execute("UPDATE delivered SET at = at - 100", [])
            .unwrap();
        assert!(!db.claim(key, Duration::from_secs(50)).await.seen);
    }

    #[tokio::test]
    async fn a_second_claim_waits_for_the_first_delivery() {
        let tmp = tempfile::tempdir().unwrap();
        let db = Arc::new(DedupDb::open(&tmp.path().join("dedup.sqlite3")).unwrap());
        let key = DedupKey::new("/s/a", "<m@x>", &[1; 32]);
        let day = Duration::from_secs(86_400);
        let first = db.claim(key.clone(), day).await;
        let db2 = db.clone();
        let key2 = key.clone();
        let second = tokio::spawn(async move { db2.claim(key2, day).await.seen });
        tokio::task::yield_now().await;
        assert!(!second.is_finished());
        first.record();
        drop(first);
        assert!(second.await.unwrap());
    }
}
