//! Fakes for tests of the timer and of code that uses it: a scriptable
//! [`DeferredSender`] that counts what it sent, and an executor that holds
//! every job until the test releases it. Not used by the daemon.

use crate::deferred_send::{DeferredSender, SendError};
use crate::exec::{BoxFuture, ExecEnv, JobExecutor, Outcome};
use crate::job::{Job, JobId};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, Semaphore};

/// Where [`FakeSender`] stops answering (forever), to stand for a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hang {
    /// In `submit`, before the relay took the message.
    SubmitBeforeAccept,
    /// In `submit`, after the relay took the message.
    SubmitAfterAccept,
    /// In `file_as_sent`, before the move.
    FileBeforeMove,
    /// In `file_as_sent`, after the move.
    FileAfterMove,
}

#[derive(Debug, Default)]
struct SenderState {
    accepted: Vec<(String, u64)>,
    filed: Vec<(String, u64)>,
    submit_errors: VecDeque<SendError>,
    file_errors: VecDeque<SendError>,
    hang: Option<Hang>,
}

/// A relay and store in memory: `submit` records the message as accepted,
/// `file_as_sent` records the move (idempotently, as the real one must).
#[derive(Debug, Default)]
pub struct FakeSender {
    state: Mutex<SenderState>,
    hung: Notify,
}

impl FakeSender {
    /// A sender that accepts everything.
    pub fn new() -> Arc<FakeSender> {
        Arc::new(FakeSender::default())
    }

    fn state(&self) -> MutexGuard<'_, SenderState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The next `submit` calls fail with these errors, in order.
    pub fn fail_submits(&self, errors: impl IntoIterator<Item = SendError>) {
        self.state().submit_errors.extend(errors);
    }

    /// The next `file_as_sent` calls fail with these errors, in order.
    pub fn fail_filings(&self, errors: impl IntoIterator<Item = SendError>) {
        self.state().file_errors.extend(errors);
    }

    /// The next call reaching `hang` never returns (once).
    pub fn hang_at(&self, hang: Hang) {
        self.state().hang = Some(hang);
    }

    /// Waits until a call has hung.
    pub async fn hung(&self) {
        self.hung.notified().await;
    }

    /// Every message the relay accepted, in order (a message twice = sent twice).
    pub fn accepted(&self) -> Vec<(String, u64)> {
        self.state().accepted.clone()
    }

    /// Every message moved to Sent Items.
    pub fn filed(&self) -> Vec<(String, u64)> {
        self.state().filed.clone()
    }

    async fn hang_if(&self, at: Hang) {
        let armed = {
            let mut s = self.state();
            if s.hang == Some(at) {
                s.hang = None;
                true
            } else {
                false
            }
        };
        if armed {
            self.hung.notify_one();
            std::future::pending::<()>().await;
        }
    }
}

impl DeferredSender for FakeSender {
    fn submit<'a>(
        &'a self,
        dir: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            self.hang_if(Hang::SubmitBeforeAccept).await;
            let n = {
                let mut s = self.state();
                if let Some(e) = s.submit_errors.pop_front() {
                    return Err(e);
                }
                s.accepted.push((dir.to_string(), message_id));
                s.accepted.len()
            };
            self.hang_if(Hang::SubmitAfterAccept).await;
            Ok(format!("250 queued as Q{n}"))
        })
    }

    fn file_as_sent<'a>(
        &'a self,
        dir: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            self.hang_if(Hang::FileBeforeMove).await;
            let already = {
                let mut s = self.state();
                if let Some(e) = s.file_errors.pop_front() {
                    return Err(e);
                }
                let key = (dir.to_string(), message_id);
                let already = s.filed.contains(&key);
                if !already {
                    s.filed.push(key);
                }
                already
            };
            self.hang_if(Hang::FileAfterMove).await;
            Ok(if already {
                "already in Sent Items".to_string()
            } else {
                "moved to Sent Items".to_string()
            })
        })
    }
}

/// An executor that records the order jobs start in and holds each one
/// until the test releases it; then the job is done.
#[derive(Debug)]
pub struct GatedExecutor {
    started: Mutex<Vec<JobId>>,
    gate: Semaphore,
    start: Notify,
}

impl GatedExecutor {
    /// An executor holding every job.
    pub fn new() -> Arc<GatedExecutor> {
        Arc::new(GatedExecutor {
            started: Mutex::new(Vec::new()),
            gate: Semaphore::new(0),
            start: Notify::new(),
        })
    }

    /// Lets `n` held (or future) jobs finish.
    pub fn release(&self, n: usize) {
        self.gate.add_permits(n);
    }

    /// The jobs started so far, in order.
    pub fn started(&self) -> Vec<JobId> {
        match self.started.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Waits until at least `n` jobs have started.
    pub async fn wait_started(&self, n: usize) {
        loop {
            let notified = self.start.notified();
            if self.started().len() >= n {
                return;
            }
            notified.await;
        }
    }
}

impl JobExecutor for GatedExecutor {
    fn execute<'a>(&'a self, job: &'a Job, _env: &'a ExecEnv) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            match self.started.lock() {
                Ok(mut g) => g.push(job.id),
                Err(p) => p.into_inner().push(job.id),
            }
            self.start.notify_waiters();
            match self.gate.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => return Outcome::Failed("gate closed".into()),
            }
            Outcome::Done("released".into())
        })
    }
}
