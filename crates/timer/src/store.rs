//! The state file: every job in one SQLite table (WAL, `synchronous=FULL`,
//! so a committed write survives a crash or power loss).
//!
//! Nothing of the pending jobs is kept in memory: the scheduler asks for the
//! next due job through an index on `(run_at_ms, id)` of the pending rows, so
//! start-up does not read the table and memory does not grow with the backlog.

use crate::job::{Job, JobId, JobSpec, JobState, SendStage};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// The schema version this code writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;
/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT_MS: u64 = 5_000;
/// Rows deleted per transaction when old finished jobs are purged.
const PURGE_BATCH: i64 = 1_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    dir         TEXT    NOT NULL,
    message_id  INTEGER,
    spec        TEXT    NOT NULL,
    due         INTEGER NOT NULL,
    run_at_ms   INTEGER NOT NULL,
    state       INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    result      TEXT    NOT NULL DEFAULT '',
    created     INTEGER NOT NULL,
    finished    INTEGER NOT NULL DEFAULT 0,
    send_stage  INTEGER NOT NULL DEFAULT 0,
    send_note   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs(run_at_ms, id) WHERE state = 1;
CREATE INDEX IF NOT EXISTS jobs_running ON jobs(id) WHERE state = 2;
CREATE INDEX IF NOT EXISTS jobs_dir ON jobs(dir, id);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs(finished) WHERE state >= 3;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_active_send
    ON jobs(dir, message_id) WHERE kind = 'deferred_send' AND state IN (1, 2);
";

const COLUMNS: &str =
    "id, spec, due, state, attempts, result, created, finished, run_at_ms, send_stage, send_note";

/// Failures of the state file; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("timer state file {path}: {source}")]
    Sqlite {
        /// The state file.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
    /// The directory of the state file could not be created.
    #[error("timer state file {path}: cannot create its directory: {source}")]
    Dir {
        /// The state file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A row could not be understood (written by a newer version, or damaged).
    #[error("timer state file {path}: job {id}: {what}")]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// The row's id.
        id: i64,
        /// What is wrong.
        what: String,
    },
    /// The file was written by a newer groxide-timer.
    #[error(
        "timer state file {path}: schema version {found} is newer than this groxide-timer ({SCHEMA_VERSION})"
    )]
    TooNew {
        /// The state file.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// A blocking task could not be run.
    #[error("timer state file {path}: worker failed: {message}")]
    Worker {
        /// The state file.
        path: PathBuf,
        /// What happened.
        message: String,
    },
}

/// The outcome of [`JobStore::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// A new job.
    Added(JobId),
    /// The same deferred send (message and due time) was already scheduled:
    /// a retried Add, answered with the existing job.
    Existing(JobId),
    /// The message already has an active deferred send due at another time.
    Conflict {
        /// The active job.
        id: JobId,
        /// Its due time.
        due: i64,
    },
}

/// The outcome of [`JobStore::cancel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// No job has that id.
    NotFound,
    /// The job was pending and is now cancelled.
    Cancelled,
    /// The job is running; it cannot be cancelled now.
    Running,
    /// The job had already finished (done, failed or cancelled before).
    AlreadyFinal(JobState),
}

/// Which end of the due jobs a claim takes (see [`crate::scheduler`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The job that has waited longest (oldest `run_at`).
    Oldest,
    /// The job that became due most recently.
    Newest,
}

/// What [`JobStore::claim_many`] took.
#[derive(Debug)]
pub struct Claimed {
    /// The jobs, now running.
    pub jobs: Vec<Job>,
    /// Rows that could not be read; they were marked failed.
    pub unreadable: Vec<StoreError>,
    /// The lane the next claim starts with.
    pub next_lane: Lane,
}

/// How an attempt ended, for [`JobStore::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    /// Done, failed: final.
    Finished {
        /// The job.
        id: JobId,
        /// Done or failed.
        state: JobState,
        /// The result text.
        result: String,
        /// When (Unix milliseconds).
        now_ms: i64,
    },
    /// Back to pending for another attempt.
    Retry {
        /// The job.
        id: JobId,
        /// When the next attempt is due (Unix milliseconds).
        run_at_ms: i64,
        /// Why the attempt failed.
        result: String,
    },
}

/// Which jobs [`JobStore::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only these states (empty: all).
    pub states: Vec<JobState>,
    /// Only jobs of this store ("": all).
    pub dir: String,
    /// Only ids above this.
    pub after_id: u64,
    /// Most rows.
    pub limit: usize,
}

/// Jobs re-armed by [`JobStore::recover`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Jobs that were running when the daemon stopped; pending again, at once.
    pub interrupted: u64,
    /// Jobs pending in all after recovery.
    pub pending: u64,
    /// Pending jobs already due.
    pub overdue: u64,
}

/// The jobs table. Cheap to clone (one connection behind a lock: SQLite
/// serialises writers anyway, and every statement is short).
#[derive(Clone)]
pub struct JobStore {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for JobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobStore")
            .field("path", &self.path)
            .finish()
    }
}

impl JobStore {
    /// Opens (creating when missing) the state file at `path`.
    pub fn open(path: &Path) -> Result<JobStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Dir {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
            .map_err(err)?;
        // WAL: readers never block the writer; FULL: a commit is on disk before it returns.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
            });
        }
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err)?;
        Ok(JobStore {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` on a blocking thread (every method here may wait for fsync).
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&JobStore) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError::Worker {
                path: self.path.clone(),
                message: e.to_string(),
            })?
    }

    /// Re-arms the jobs a stopped daemon left running: they become pending
    /// and due at `now_ms`, so they run again at once (at least once).
    pub fn recover(&self, now_ms: i64) -> Result<Recovery, StoreError> {
        let conn = self.lock();
        let interrupted = conn
            .execute(
                "UPDATE jobs SET state = 1, run_at_ms = ?1,
                     result = 'interrupted: the daemon stopped while it ran; running again'
                 WHERE state = 2",
                params![now_ms],
            )
            .map_err(|e| self.sql(e))?;
        let (pending, overdue): (i64, i64) = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(run_at_ms <= ?1), 0) FROM jobs WHERE state = 1",
                params![now_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.sql(e))?;
        Ok(Recovery {
            interrupted: interrupted as u64,
            pending: pending.max(0) as u64,
            overdue: overdue.max(0) as u64,
        })
    }

    /// Stores a new pending job due at `due` (Unix seconds), committed
    /// durably before it returns. A deferred send of a message that already
    /// has an active one is not stored twice (see [`AddOutcome`]).
    pub fn add(&self, due: i64, spec: &JobSpec, now_ms: i64) -> Result<AddOutcome, StoreError> {
        let text = serde_json::to_string(spec).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            id: 0,
            what: format!("cannot encode the job: {e}"),
        })?;
        let message_id = match spec {
            JobSpec::DeferredSend { message_id, .. } => Some(*message_id as i64),
            _ => None,
        };
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.sql(e))?;
        if let Some(mid) = message_id {
            let active: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT id, due FROM jobs
                     WHERE kind = 'deferred_send' AND dir = ?1 AND message_id = ?2 AND state IN (1, 2)",
                    params![spec.dir(), mid],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(|e| self.sql(e))?;
            if let Some((id, active_due)) = active {
                let id = JobId(id as u64);
                return Ok(if active_due == due {
                    AddOutcome::Existing(id)
                } else {
                    AddOutcome::Conflict {
                        id,
                        due: active_due,
                    }
                });
            }
        }
        // A due time in the past runs at once: its first attempt is due now.
        let run_at_ms = due.saturating_mul(1000);
        tx.execute(
            "INSERT INTO jobs (kind, dir, message_id, spec, due, run_at_ms, state, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
            params![
                spec.kind(),
                spec.dir(),
                message_id,
                text,
                due,
                run_at_ms,
                now_ms / 1000
            ],
        )
        .map_err(|e| self.sql(e))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(|e| self.sql(e))?;
        Ok(AddOutcome::Added(JobId(id as u64)))
    }

    /// Cancels a pending job.
    pub fn cancel(&self, id: JobId, now_ms: i64) -> Result<CancelOutcome, StoreError> {
        let conn = self.lock();
        let changed = conn
            .execute(
                "UPDATE jobs SET state = 5, finished = ?2, result = 'cancelled', run_at_ms = 0
                 WHERE id = ?1 AND state = 1",
                params![id.0 as i64, now_ms / 1000],
            )
            .map_err(|e| self.sql(e))?;
        if changed == 1 {
            return Ok(CancelOutcome::Cancelled);
        }
        let state: Option<i64> = conn
            .query_row(
                "SELECT state FROM jobs WHERE id = ?1",
                params![id.0 as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        Ok(match state.and_then(JobState::from_code) {
            None => CancelOutcome::NotFound,
            Some(JobState::Running) => CancelOutcome::Running,
            Some(s) => CancelOutcome::AlreadyFinal(s),
        })
    }

    /// One job.
    pub fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"))
            .map_err(|e| self.sql(e))?;
        let raw = stmt
            .query_row(params![id.0 as i64], RawJob::read)
            .optional()
            .map_err(|e| self.sql(e))?;
        raw.map(|r| r.into_job(&self.path)).transpose()
    }

    /// Jobs matching `filter`, in id order.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<Job>, StoreError> {
        let mask: i64 = if filter.states.is_empty() {
            -1
        } else {
            filter.states.iter().fold(0, |m, s| m | (1 << s.code()))
        };
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM jobs
                 WHERE id > ?1 AND ((1 << state) & ?2) != 0 AND (?3 = '' OR dir = ?3)
                 ORDER BY id LIMIT ?4"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(
                params![
                    i64::try_from(filter.after_id).unwrap_or(i64::MAX),
                    mask,
                    filter.dir,
                    i64::try_from(filter.limit).unwrap_or(i64::MAX)
                ],
                RawJob::read,
            )
            .map_err(|e| self.sql(e))?;
        let mut jobs = Vec::new();
        for raw in rows {
            jobs.push(raw.map_err(|e| self.sql(e))?.into_job(&self.path)?);
        }
        Ok(jobs)
    }

    /// Takes one due job (`run_at_ms <= now_ms`) from `lane`'s end of the
    /// queue, marks it running and counts the attempt, durably.
    pub fn claim(&self, now_ms: i64, lane: Lane) -> Result<Option<Job>, StoreError> {
        let mut claimed = self.claim_many(now_ms, 1, lane)?;
        match claimed.jobs.pop() {
            Some(job) => Ok(Some(job)),
            None => claimed.unreadable.pop().map_or(Ok(None), Err),
        }
    }

    /// Takes up to `n` due jobs in one transaction (one fsync), alternating
    /// between the two ends of the queue starting with `lane`. A row that
    /// cannot be read is marked failed (so it is not taken again) and
    /// reported in [`Claimed::unreadable`].
    pub fn claim_many(&self, now_ms: i64, n: usize, lane: Lane) -> Result<Claimed, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.sql(e))?;
        let mut claimed = Claimed {
            jobs: Vec::new(),
            unreadable: Vec::new(),
            next_lane: lane,
        };
        for _ in 0..n {
            let order = match claimed.next_lane {
                Lane::Oldest => "ASC",
                Lane::Newest => "DESC",
            };
            let raw = tx
                .prepare_cached(&format!(
                    "UPDATE jobs SET state = 2, attempts = attempts + 1
                     WHERE id = (SELECT id FROM jobs WHERE state = 1 AND run_at_ms <= ?1
                                 ORDER BY run_at_ms {order}, id {order} LIMIT 1)
                     RETURNING {COLUMNS}"
                ))
                .and_then(|mut stmt| stmt.query_row(params![now_ms], RawJob::read).optional())
                .map_err(|e| self.sql(e))?;
            let Some(raw) = raw else { break };
            claimed.next_lane = match claimed.next_lane {
                Lane::Oldest => Lane::Newest,
                Lane::Newest => Lane::Oldest,
            };
            let id = raw.id;
            match raw.into_job(&self.path) {
                Ok(job) => claimed.jobs.push(job),
                Err(e) => {
                    // An unreadable row must not be claimed again and again.
                    tx.execute(
                        "UPDATE jobs SET state = 4, result = ?2, finished = ?3, run_at_ms = 0 WHERE id = ?1",
                        params![id, e.to_string(), now_ms / 1000],
                    )
                    .map_err(|e| self.sql(e))?;
                    claimed.unreadable.push(e);
                }
            }
        }
        tx.commit().map_err(|e| self.sql(e))?;
        Ok(claimed)
    }

    /// When the next pending job is due (Unix milliseconds), if any.
    pub fn next_run_at(&self) -> Result<Option<i64>, StoreError> {
        let conn = self.lock();
        conn.query_row("SELECT MIN(run_at_ms) FROM jobs WHERE state = 1", [], |r| {
            r.get(0)
        })
        .map_err(|e| self.sql(e))
    }

    /// Records a running job's final state and result, durably.
    pub fn finish(
        &self,
        id: JobId,
        state: JobState,
        result: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.record(&[AttemptEnd::Finished {
            id,
            state,
            result: result.to_string(),
            now_ms,
        }])
    }

    /// Puts a running job back to pending, next due at `run_at_ms`, with
    /// `result` saying why.
    pub fn retry_at(&self, id: JobId, run_at_ms: i64, result: &str) -> Result<(), StoreError> {
        self.record(&[AttemptEnd::Retry {
            id,
            run_at_ms,
            result: result.to_string(),
        }])
    }

    /// Records how attempts ended, all in one transaction (one fsync).
    pub fn record(&self, ends: &[AttemptEnd]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.sql(e))?;
        for end in ends {
            match end {
                AttemptEnd::Finished {
                    id,
                    state,
                    result,
                    now_ms,
                } => {
                    debug_assert!(state.is_final());
                    tx.prepare_cached(
                        "UPDATE jobs SET state = ?2, result = ?3, finished = ?4, run_at_ms = 0
                         WHERE id = ?1 AND state = 2",
                    )
                    .and_then(|mut st| {
                        st.execute(params![id.0 as i64, state.code(), result, now_ms / 1000])
                    })
                    .map_err(|e| self.sql(e))?;
                }
                AttemptEnd::Retry {
                    id,
                    run_at_ms,
                    result,
                } => {
                    tx.prepare_cached(
                        "UPDATE jobs SET state = 1, result = ?3, run_at_ms = ?2 WHERE id = ?1 AND state = 2",
                    )
                    .and_then(|mut st| st.execute(params![id.0 as i64, run_at_ms, result]))
                    .map_err(|e| self.sql(e))?;
                }
            }
        }
        tx.commit().map_err(|e| self.sql(e))
    }

    /// Records how far a deferred send got, durably, with a note (the
    /// relay's receipt once submitted) that also becomes the current result.
    pub fn set_send_stage(
        &self,
        id: JobId,
        stage: SendStage,
        note: &str,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "UPDATE jobs SET send_stage = ?2, send_note = ?3, result = ?3 WHERE id = ?1",
            params![id.0 as i64, stage.code(), note],
        )
        .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Deletes finished jobs that finished before `before` (Unix seconds);
    /// returns how many.
    pub fn purge_finished(&self, before: i64) -> Result<u64, StoreError> {
        let mut total = 0u64;
        loop {
            // Small batches keep the lock short for Add and the scheduler.
            let n = self
                .lock()
                .execute(
                    "DELETE FROM jobs WHERE id IN
                        (SELECT id FROM jobs WHERE state >= 3 AND finished < ?1 LIMIT ?2)",
                    params![before, PURGE_BATCH],
                )
                .map_err(|e| self.sql(e))?;
            total += n as u64;
            if (n as i64) < PURGE_BATCH {
                return Ok(total);
            }
        }
    }

    /// Inserts many pending jobs in one transaction (benchmarks and tests).
    pub fn add_many(
        &self,
        jobs: impl IntoIterator<Item = (i64, JobSpec)>,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.sql(e))?;
        let mut n = 0;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO jobs (kind, dir, message_id, spec, due, run_at_ms, state, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
                )
                .map_err(|e| self.sql(e))?;
            for (due, spec) in jobs {
                let text = serde_json::to_string(&spec).map_err(|e| StoreError::Corrupt {
                    path: self.path.clone(),
                    id: 0,
                    what: format!("cannot encode the job: {e}"),
                })?;
                let message_id = match &spec {
                    JobSpec::DeferredSend { message_id, .. } => Some(*message_id as i64),
                    _ => None,
                };
                stmt.execute(params![
                    spec.kind(),
                    spec.dir(),
                    message_id,
                    text,
                    due,
                    due.saturating_mul(1000),
                    now_ms / 1000
                ])
                .map_err(|e| self.sql(e))?;
                n += 1;
            }
        }
        tx.commit().map_err(|e| self.sql(e))?;
        Ok(n)
    }
}

/// A row as read, before the spec is decoded.
struct RawJob {
    id: i64,
    spec: String,
    due: i64,
    state: i64,
    attempts: i64,
    result: String,
    created: i64,
    finished: i64,
    run_at_ms: i64,
    send_stage: i64,
    send_note: String,
}

impl RawJob {
    fn read(r: &Row<'_>) -> rusqlite::Result<RawJob> {
        Ok(RawJob {
            id: r.get(0)?,
            spec: r.get(1)?,
            due: r.get(2)?,
            state: r.get(3)?,
            attempts: r.get(4)?,
            result: r.get(5)?,
            created: r.get(6)?,
            finished: r.get(7)?,
            run_at_ms: r.get(8)?,
            send_stage: r.get(9)?,
            send_note: r.get(10)?,
        })
    }

    fn into_job(self, path: &Path) -> Result<Job, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            id: self.id,
            what,
        };
        let spec: JobSpec = serde_json::from_str(&self.spec)
            .map_err(|e| corrupt(format!("cannot decode the job: {e}")))?;
        let state = JobState::from_code(self.state)
            .ok_or_else(|| corrupt(format!("unknown state {}", self.state)))?;
        let send_stage = SendStage::from_code(self.send_stage)
            .ok_or_else(|| corrupt(format!("unknown send stage {}", self.send_stage)))?;
        Ok(Job {
            id: JobId(self.id as u64),
            due: self.due,
            spec,
            state,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            result: self.result,
            created: self.created,
            finished: self.finished,
            run_at_ms: if state == JobState::Pending {
                self.run_at_ms
            } else {
                0
            },
            send_stage,
            send_note: self.send_note,
        })
    }
}

#[cfg(test)]
mod tests;
