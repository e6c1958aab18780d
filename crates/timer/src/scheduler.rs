//! The scheduler: starts due jobs, at most `timer_threads_num` at once, and
//! records how each attempt ended.
//!
//! Fairness: free slots are filled alternately from both ends of the due
//! jobs, the one that has waited longest and the one that became due most
//! recently. A backlog of overdue jobs (after downtime) therefore keeps
//! draining at half the slots or more, while a job that falls due meanwhile
//! starts within a slot's turn instead of after the whole backlog. Nothing
//! starves: the oldest-first lane reaches every job.
//!
//! Promptness: the loop sleeps until the next pending job's run time, at
//! most [`RECHECK`] (so a wall-clock step is noticed), and is woken by Add
//! and by every finished job.

use crate::clock::{now_ms, rfc3339};
use crate::deferred_send::UNCERTAIN_RESULT;
use crate::exec::{ExecEnv, JobExecutor, Outcome};
use crate::job::{Job, JobSpec, JobState, SendStage};
use crate::limits::{SharedLimits, TimerLimits};
use crate::store::{AttemptEnd, JobStore, Lane};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

/// Longest sleep between two looks at the state file.
pub const RECHECK: Duration = Duration::from_secs(1);
/// How often finished jobs older than `timer_keep_finished` are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Pause after the state file failed, before trying again.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Wakes the scheduler (after Add, on reload). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct SchedulerWaker(Arc<Notify>);

impl SchedulerWaker {
    /// Makes the scheduler look for due jobs now.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Starts due jobs and records their outcomes.
pub struct Scheduler {
    store: JobStore,
    executor: Arc<dyn JobExecutor>,
    limits: SharedLimits,
    waker: SchedulerWaker,
}

impl Scheduler {
    /// A scheduler of `store`'s jobs, running them with `executor`.
    pub fn new(store: JobStore, executor: Arc<dyn JobExecutor>, limits: SharedLimits) -> Scheduler {
        Scheduler {
            store,
            executor,
            limits,
            waker: SchedulerWaker::default(),
        }
    }

    /// A handle that wakes this scheduler.
    pub fn waker(&self) -> SchedulerWaker {
        self.waker.clone()
    }

    /// Runs until `shutdown`, then stops starting jobs and waits up to
    /// `drain` for the running ones; jobs still running after that are
    /// abandoned (they stay marked running and run again at the next start).
    pub async fn run(self, shutdown: CancellationToken, drain: Duration) {
        let mut running: JoinSet<Ended> = JoinSet::new();
        let mut lane = Lane::Oldest;
        let mut last_purge: Option<Instant> = None;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let limits = self.limits.get();
            if last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
                last_purge = Some(Instant::now());
                self.purge_finished(&limits).await;
            }
            let mut pause = RECHECK;
            let free = limits.threads.saturating_sub(running.len());
            if free > 0 {
                let now = now_ms();
                let start_lane = lane;
                match self
                    .store
                    .call(move |s| s.claim_many(now, free, start_lane))
                    .await
                {
                    Ok(claimed) => {
                        lane = claimed.next_lane;
                        for e in claimed.unreadable {
                            error!(error = %e, "a job in the state file cannot be read; marked failed");
                        }
                        for job in claimed.jobs {
                            let (store, executor, limits) =
                                (self.store.clone(), self.executor.clone(), limits.clone());
                            running.spawn(run_attempt(store, executor, job, limits));
                        }
                    }
                    Err(e) => {
                        error!(error = %e, "cannot take due jobs");
                        pause = ERROR_PAUSE;
                    }
                }
            }
            if running.len() < limits.threads && pause == RECHECK {
                match self.store.call(|s| s.next_run_at()).await {
                    Ok(Some(at)) => {
                        let wait = u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0);
                        pause = pause.min(Duration::from_millis(wait));
                    }
                    Ok(None) => {}
                    Err(e) => error!(error = %e, "cannot read the next due time"),
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.waker.0.notified() => {}
                Some(joined) = running.join_next(), if !running.is_empty() => {
                    // Every attempt that has ended by now shares one commit.
                    let mut ended = vec![joined];
                    while let Some(more) = running.try_join_next() {
                        ended.push(more);
                    }
                    record(&self.store, ended).await;
                }
                _ = tokio::time::sleep(pause) => {}
            }
        }
        if running.is_empty() {
            return;
        }
        info!(
            running = running.len(),
            bound = ?drain,
            "stopping: waiting for running jobs"
        );
        let drained = tokio::time::timeout(drain, async {
            while let Some(joined) = running.join_next().await {
                record(&self.store, vec![joined]).await;
            }
        })
        .await;
        if drained.is_err() {
            warn!(
                interrupted = running.len(),
                "drain bound reached; interrupted jobs run again at the next start"
            );
            running.abort_all();
            while running.join_next().await.is_some() {}
        }
    }

    async fn purge_finished(&self, limits: &TimerLimits) {
        let keep = i64::try_from(limits.keep_finished.as_secs()).unwrap_or(i64::MAX);
        let before = (now_ms() / 1000).saturating_sub(keep);
        match self.store.call(move |s| s.purge_finished(before)).await {
            Ok(0) => {}
            Ok(n) => info!(deleted = n, before = %rfc3339(before), "deleted old finished jobs"),
            Err(e) => error!(error = %e, "cannot delete old finished jobs"),
        }
    }
}

/// How one attempt ended, before it is recorded.
pub(crate) struct Ended {
    end: AttemptEnd,
    kind: &'static str,
    dir: String,
    attempt: u32,
}

/// Runs one attempt of a claimed job and decides how it ends.
pub(crate) async fn run_attempt(
    store: JobStore,
    executor: Arc<dyn JobExecutor>,
    job: Job,
    limits: Arc<TimerLimits>,
) -> Ended {
    let max = limits.max_attempts();
    let outcome = if job.attempts > max {
        // Earlier attempts were interrupted (crash, stop) until none was left.
        Outcome::Failed(give_up_text(&job))
    } else {
        let env = ExecEnv {
            store,
            limits: limits.clone(),
        };
        executor.execute(&job, &env).await
    };
    let now = now_ms();
    let id = job.id;
    let finished = |state, result| AttemptEnd::Finished {
        id,
        state,
        result,
        now_ms: now,
    };
    let end = match outcome {
        Outcome::Done(text) => finished(JobState::Done, text),
        Outcome::Failed(text) => finished(JobState::Failed, text),
        Outcome::Retry(text) if job.attempts < max => {
            let wait = limits.backoff(job.attempts);
            let at = now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
            AttemptEnd::Retry {
                id,
                run_at_ms: at,
                result: format!(
                    "attempt {} of {max} failed, next at {}: {text}",
                    job.attempts,
                    rfc3339(at / 1000)
                ),
            }
        }
        Outcome::Retry(text) => finished(
            JobState::Failed,
            format!("gave up after {} attempts: {text}", job.attempts),
        ),
    };
    Ended {
        end,
        kind: job.spec.kind(),
        dir: job.spec.dir().to_string(),
        attempt: job.attempts,
    }
}

/// Runs one attempt of a claimed job and records its outcome (tests).
#[cfg(test)]
pub(crate) async fn attempt(
    store: JobStore,
    executor: Arc<dyn JobExecutor>,
    job: Job,
    limits: Arc<TimerLimits>,
) {
    let ended = run_attempt(store.clone(), executor, job, limits).await;
    record(&store, vec![Ok(ended)]).await;
}

/// Records ended attempts in one transaction and logs each.
async fn record(store: &JobStore, joined: Vec<Result<Ended, tokio::task::JoinError>>) {
    let mut ended = Vec::with_capacity(joined.len());
    for j in joined {
        match j {
            Ok(e) => ended.push(e),
            // A panicking job stays marked running; it runs again after a restart.
            Err(e) => error!(error = %e, "a job task failed"),
        }
    }
    if ended.is_empty() {
        return;
    }
    let ends: Vec<AttemptEnd> = ended.iter().map(|e| e.end.clone()).collect();
    let recorded = store.call(move |s| s.record(&ends)).await;
    for e in &ended {
        let (id, state, result) = match &e.end {
            AttemptEnd::Finished {
                id, state, result, ..
            } => (*id, *state, result),
            AttemptEnd::Retry { id, result, .. } => (*id, JobState::Pending, result),
        };
        let first_line = result.lines().next().unwrap_or("");
        let (kind, dir, attempt) = (e.kind, e.dir.as_str(), e.attempt);
        match &recorded {
            Err(err) => {
                error!(job = %id, kind, dir, error = %err, outcome = %first_line, "cannot record the outcome; the job runs again after a restart")
            }
            Ok(()) if state == JobState::Failed => {
                warn!(job = %id, kind, dir, attempt, result = %first_line, "job failed")
            }
            Ok(()) => {
                info!(job = %id, kind, dir, attempt, state = state.name(), result = %first_line, "job attempt finished")
            }
        }
    }
}

/// The result of a job whose attempts were all used up by interruptions.
fn give_up_text(job: &Job) -> String {
    let n = job.attempts.saturating_sub(1);
    let base = format!(
        "gave up: {n} attempts were interrupted (the daemon stopped or crashed while the job ran)"
    );
    match (&job.spec, job.send_stage) {
        (JobSpec::DeferredSend { .. }, SendStage::Submitting) => {
            format!("{base}; {UNCERTAIN_RESULT}")
        }
        (JobSpec::DeferredSend { .. }, SendStage::Submitted) => format!(
            "{base}; the message was sent ({}) but not moved to Sent Items",
            job.send_note
        ),
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobId;
    use crate::store::{AddOutcome, ListFilter};
    use crate::testing::GatedExecutor;

    struct Rig {
        _dir: tempfile::TempDir,
        store: JobStore,
        exec: Arc<GatedExecutor>,
        stop: CancellationToken,
        task: Option<tokio::task::JoinHandle<()>>,
        waker: SchedulerWaker,
    }

    fn cmd(n: usize) -> JobSpec {
        JobSpec::Command {
            argv: vec!["/bin/echo".into(), n.to_string()],
            timeout_secs: 0,
        }
    }

    fn add(store: &JobStore, due: i64, n: usize) -> JobId {
        match store.add(due, &cmd(n), now_ms()).unwrap() {
            AddOutcome::Added(id) => id,
            other => panic!("{other:?}"),
        }
    }

    fn rig(threads: usize, backlog: usize) -> (Rig, Vec<JobId>) {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(&dir.path().join("timer.sqlite3")).unwrap();
        let now = now_ms() / 1000;
        // Overdue by an hour down to `backlog` seconds before the hour.
        let ids = (0..backlog)
            .map(|i| add(&store, now - 3600 + i as i64, i))
            .collect();
        let exec = GatedExecutor::new();
        let limits = SharedLimits::new(TimerLimits {
            threads,
            ..TimerLimits::default()
        });
        let scheduler = Scheduler::new(store.clone(), exec.clone(), limits);
        let waker = scheduler.waker();
        let stop = CancellationToken::new();
        let task = tokio::spawn(scheduler.run(stop.clone(), Duration::ZERO));
        let rig = Rig {
            _dir: dir,
            store,
            exec,
            stop,
            task: Some(task),
            waker,
        };
        (rig, ids)
    }

    impl Rig {
        async fn stop(&mut self) {
            self.stop.cancel();
            if let Some(t) = self.task.take() {
                t.await.unwrap();
            }
        }

        fn count(&self, state: JobState) -> usize {
            self.store
                .list(&ListFilter {
                    states: vec![state],
                    limit: 100_000,
                    ..Default::default()
                })
                .unwrap()
                .len()
        }
    }

    #[tokio::test]
    async fn a_newly_due_job_starts_before_the_backlog_is_drained() {
        let (mut r, backlog) = rig(1, 50);
        r.exec.wait_started(1).await;
        assert_eq!(
            r.exec.started(),
            [backlog[0]],
            "the oldest overdue job goes first"
        );
        let fresh = add(&r.store, now_ms() / 1000, 999);
        r.waker.wake();
        // Let the jobs finish one by one and watch the order they start in.
        for n in 2..=5 {
            r.exec.release(1);
            r.exec.wait_started(n).await;
        }
        let order = r.exec.started();
        let position = order.iter().position(|id| *id == fresh);
        assert_eq!(position, Some(1), "start order {order:?}");
        // The backlog keeps draining from both ends meanwhile.
        assert_eq!(order[2..], [backlog[1], backlog[49], backlog[2]]);
        r.exec.release(1000);
        r.stop().await;
    }

    #[tokio::test]
    async fn no_more_than_the_configured_number_of_jobs_run_at_once() {
        let (mut r, _) = rig(3, 10);
        r.exec.wait_started(3).await;
        assert_eq!(r.count(JobState::Running), 3);
        assert_eq!(r.count(JobState::Pending), 7);
        r.exec.release(10);
        r.exec.wait_started(10).await;
        r.stop().await;
        // Every job ran exactly once.
        let mut started = r.exec.started();
        started.sort();
        started.dedup();
        assert_eq!(started.len(), 10);
    }

    #[tokio::test]
    async fn a_job_still_running_at_the_drain_bound_runs_again_after_restart() {
        let (mut r, ids) = rig(1, 1);
        r.exec.wait_started(1).await;
        r.stop().await;
        let job = r.store.get(ids[0]).unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Running, 1));
        r.store.recover(now_ms()).unwrap();
        let job = r.store.get(ids[0]).unwrap().unwrap();
        assert_eq!(job.state, JobState::Pending);
        assert!(job.run_at_ms <= now_ms());
    }

    #[tokio::test]
    async fn a_job_interrupted_on_every_attempt_finally_fails_without_running() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(&dir.path().join("timer.sqlite3")).unwrap();
        let id = add(&store, 0, 1);
        let limits = Arc::new(TimerLimits {
            retry_limit: 2,
            ..TimerLimits::default()
        });
        // Three attempts, each cut short by a crash and re-armed at start-up.
        for _ in 0..3 {
            store.claim(now_ms(), Lane::Oldest).unwrap().unwrap();
            store.recover(now_ms()).unwrap();
        }
        let job = store.claim(now_ms(), Lane::Oldest).unwrap().unwrap();
        assert_eq!(job.attempts, 4);
        let exec = GatedExecutor::new();
        attempt(store.clone(), exec.clone(), job, limits).await;
        assert!(exec.started().is_empty(), "not run a fourth time");
        let job = store.get(id).unwrap().unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert!(
            job.result
                .starts_with("gave up: 3 attempts were interrupted"),
            "{}",
            job.result
        );
    }
}
