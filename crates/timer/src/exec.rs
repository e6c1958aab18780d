//! Running one attempt of a job: the executor interface the scheduler calls,
//! and the dispatcher that hands each kind of job to its implementation.

use crate::command::run_command;
use crate::crash::{CrashHooks, CrashPoint};
use crate::deferred_send::{DeferredSender, run_deferred_send};
use crate::job::{Job, JobSpec};
use crate::limits::TimerLimits;
use crate::maintenance::{MaintenanceError, StoreMaintenance};
use crate::store::JobStore;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future (the executor traits are used as trait objects).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished; the text is the result shown by Get/List.
    Done(String),
    /// Will not succeed by retrying; the text says why.
    Failed(String),
    /// Failed in a way that may pass: retried after a backoff, up to
    /// `timer_retry_limit` times.
    Retry(String),
}

/// What an attempt may use besides the job itself.
#[derive(Debug, Clone)]
pub struct ExecEnv {
    /// The state file (a deferred send records its progress there).
    pub store: JobStore,
    /// The settings at the time the attempt started.
    pub limits: Arc<TimerLimits>,
}

/// Runs one attempt of a job.
pub trait JobExecutor: Send + Sync + 'static {
    /// Runs `job` (already marked running) and says how it ended. Must not
    /// record the final state itself: the scheduler does.
    fn execute<'a>(&'a self, job: &'a Job, env: &'a ExecEnv) -> BoxFuture<'a, Outcome>;
}

/// The production executor: deferred sends through a [`DeferredSender`],
/// maintenance through a [`StoreMaintenance`], commands as child processes.
pub struct Dispatcher {
    sender: Arc<dyn DeferredSender>,
    maintenance: Arc<dyn StoreMaintenance>,
    crash: CrashHooks,
}

impl Dispatcher {
    /// A dispatcher over these implementations.
    pub fn new(
        sender: Arc<dyn DeferredSender>,
        maintenance: Arc<dyn StoreMaintenance>,
        crash: CrashHooks,
    ) -> Dispatcher {
        Dispatcher {
            sender,
            maintenance,
            crash,
        }
    }
}

impl JobExecutor for Dispatcher {
    fn execute<'a>(&'a self, job: &'a Job, env: &'a ExecEnv) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            match &job.spec {
                JobSpec::DeferredSend { dir, message_id } => {
                    run_deferred_send(self.sender.as_ref(), job, dir, *message_id, env, self.crash)
                        .await
                }
                JobSpec::Maintenance { dir, action } => {
                    match self.maintenance.run(dir, action).await {
                        Ok(summary) => Outcome::Done(summary),
                        Err(MaintenanceError::Transient(m)) => Outcome::Retry(m),
                        Err(MaintenanceError::Permanent(m)) => Outcome::Failed(m),
                    }
                }
                JobSpec::Command { argv, timeout_secs } => {
                    let program = argv.first().map(String::as_str).unwrap_or("");
                    // The list may have shrunk (SIGHUP) since the job was added.
                    if !env.limits.command_allow.contains(program) {
                        return Outcome::Failed(format!(
                            "{program} is no longer on {} (timer.cfg); not run",
                            crate::limits::COMMAND_ALLOW_KEY
                        ));
                    }
                    let report = run_command(
                        argv,
                        env.limits.command_timeout_for(*timeout_secs),
                        env.limits.command_output_max,
                    )
                    .await;
                    self.crash.hit(CrashPoint::AfterCommand);
                    report.outcome()
                }
            }
        })
    }
}
