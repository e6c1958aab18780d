//! groxide-timer: persistent scheduled jobs (gRPC `groxide.timer.v1.Timer`
//! on `timer_listen_ip`:`timer_listen_port`, behind `timer_hosts_allow`).
//!
//! Three kinds of job: `deferred_send` (submit a stored message through
//! `outgoing_smtp_url` at its due time, then move it to Sent Items),
//! `maintenance` (housekeeping of one store) and `command` (a program on
//! `timer_command_allow`, run without a shell — gromox's timer runs any
//! command line; this one does not).
//!
//! # Invariants
//! - **Durable before Add replies.** Add commits the job to the state file
//!   (SQLite, WAL, `synchronous=FULL`) before it answers.
//! - **At least once.** A job is marked running (durably) when it starts and
//!   done or failed (durably) after it ends. A job found running at start-up
//!   was interrupted: it becomes pending and due at once. Transient failures
//!   are retried with exponential backoff (`timer_retry_delay` doubling up to
//!   `timer_retry_max_delay`) until `timer_retry_limit` retries are used up;
//!   interrupted runs count as attempts, so a job that crashes the daemon
//!   every time fails in the end instead of looping.
//! - **A deferred send never sends twice.** See below.
//! - **Commands only from the allow-list, never through a shell**: `argv[0]`
//!   must be listed (checked at Add and again when the job runs, since a
//!   SIGHUP may shorten the list); no PATH search, empty environment.
//! - **Bounded memory.** Nothing of the pending jobs is held in memory; the
//!   scheduler takes due jobs one by one through an index.
//!
//! Due times are Unix seconds. A due time in the past (or now) runs at once;
//! a negative one, or one beyond `timer_max_future`, is refused with
//! INVALID_ARGUMENT.
//!
//! # Deferred send: crash windows
//! The attempt records a *send stage* durably between its steps
//! ([`deferred_send`]): `NotSubmitted` → `Submitting` (before the message is
//! handed to the relay) → `Submitted` (after the relay accepted) → job done
//! (after the move to Sent Items). If the process dies (kill -9, power loss)
//! at any moment, the restarted timer finds the job running, re-arms it, and
//! the next attempt does what the recorded stage allows:
//!
//! | dies … | recorded | the rerun | the relay got it |
//! |---|---|---|---|
//! | before `Submitting` is on disk | `NotSubmitted` | sends | once |
//! | after `Submitting`, before the relay accepted | `Submitting` | fails the job, does not send | never (see note) |
//! | after the relay accepted, before `Submitted` is on disk | `Submitting` | fails the job, does not send | once |
//! | after `Submitted`, before the move | `Submitted` | only moves to Sent Items | once |
//! | after the move, before done is on disk | `Submitted` | moves again (no-op: already there), done | once |
//!
//! Note: in the two `Submitting` rows the timer cannot tell whether the relay
//! accepted the message, so it chooses never-twice over at-least-once for
//! the hand-over and fails the job with a result that says so (the message
//! stays where it was, in Outbox or Drafts). The window is the hand-over
//! itself (connect … end of DATA); a relay answer lost on the network puts
//! the job in the same state ([`deferred_send::SendError::Uncertain`]).
//! Refusals that prove nothing was accepted (connection refused, 4xx, 5xx)
//! reset the stage, so those attempts are retried or failed normally.
//! Add also refuses to schedule a second active deferred send of the same
//! message (a retried Add with the same due time gets the existing job).
//!
//! Test builds (the `testing` feature) can make the process abort at these
//! points ([`crash::CRASH_ENV`]); `tests/deferred_send.rs` does it with the real
//! process, a real store and an SMTP relay that counts what it receives.
//!
//! # Production wiring
//! [`wiring::StoreAndRelay`]: stores are reached through the routed
//! exmdb client (homeserver from the user directory, connected on first
//! use so the timer starts without it; then the list file; then this
//! node), the relay through groxide-submit (`outgoing_smtp_url`). A deferred
//! send reads the message's recipients (To, Cc, Bcc) for the envelope, uses
//! the store owner as the envelope sender, streams the stored MIME with its
//! `Bcc:` fields removed ([`bcc`]), then moves the message to Sent Items,
//! marked read and no longer a draft. Some recipients refused: the others
//! got it, the job is done and the result names the refused ones (a resend
//! would reach the accepted ones twice). None accepted: retried when one
//! was deferred (4xx), failed otherwise.
//!
//! # Signals
//! SIGHUP re-reads timer.cfg: the allow-list and limits apply to the next
//! Add and the next attempt; the access list applies at once (the server).
//! SIGTERM stops taking new jobs and lets running ones finish within
//! `shutdown_timeout`; a job still running then is left marked running and
//! runs again at the next start.

pub mod bcc;
pub mod clock;
pub mod command;
pub mod crash;
pub mod deferred_send;
pub mod exec;
pub mod job;
pub mod limits;
pub mod maintenance;
pub mod relay_sender;
pub mod scheduler;
pub mod service;
pub mod store;
pub mod store_maintenance;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod validate;
pub mod wiring;

use crate::clock::now_ms;
use crate::crash::CrashHooks;
use crate::exec::{Dispatcher, JobExecutor};
use crate::limits::{SharedLimits, TimerLimits};
use crate::scheduler::Scheduler;
use crate::service::TimerService;
use crate::store::{JobStore, StoreError};
use crate::wiring::StoreAndRelay;
use groxide_config::Timer;
use groxide_config::keys::{shared, timer};
use groxide_rpc::pb::timer::v1::timer_server::TimerServer;
use groxide_runtime::{Context, RpcEndpoint, RpcServiceError};
use std::sync::Arc;

/// The config keys of this daemon's RPC endpoint.
pub const ENDPOINT: RpcEndpoint<Timer> = RpcEndpoint {
    service: "timer",
    ip: timer::TIMER_LISTEN_IP,
    port: timer::TIMER_LISTEN_PORT,
    acl: timer::TIMER_HOSTS_ALLOW,
};

/// Why the timer stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TimerError {
    /// The state file could not be opened or recovered.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The RPC server could not serve.
    #[error(transparent)]
    Rpc(#[from] RpcServiceError),
    /// The routing, directory or relay settings cannot be used.
    #[error("{0}")]
    Config(String),
}

/// Runs the daemon until shutdown: deferred sends and maintenance reach
/// stores through groxide-exmdb and the relay through groxide-submit.
pub async fn run(ctx: Context<Timer>) -> Result<(), TimerError> {
    let outside = Arc::new(StoreAndRelay::load(&ctx.config()).map_err(TimerError::Config)?);
    let executor = Arc::new(Dispatcher::new(
        outside.sender(),
        outside.maintenance(),
        CrashHooks::from_env(),
    ));
    let reload = outside.clone();
    ctx.on_reload(move |cfg| reload.reload(cfg));
    serve(ctx, executor).await
}

/// Runs the daemon with `executor` running the jobs (tests pass fakes).
pub async fn serve(ctx: Context<Timer>, executor: Arc<dyn JobExecutor>) -> Result<(), TimerError> {
    let config = ctx.config();
    let limits = SharedLimits::new(TimerLimits::from_config(&config));
    let path = config.get(timer::TIMER_STATE_PATH);
    let store = tokio::task::spawn_blocking(move || {
        let store = JobStore::open(&path)?;
        let recovery = store.recover(now_ms())?;
        Ok::<_, StoreError>((store, recovery))
    })
    .await
    .map_err(|e| StoreError::Worker {
        path: config.get(timer::TIMER_STATE_PATH),
        message: e.to_string(),
    })??;
    let (store, recovery) = store;
    tracing::info!(
        state = %store.path().display(),
        pending = recovery.pending,
        overdue = recovery.overdue,
        interrupted = recovery.interrupted,
        "state file opened"
    );

    let scheduler = Scheduler::new(store.clone(), executor, limits.clone());
    let waker = scheduler.waker();
    let reload_limits = limits.clone();
    let reload_waker = waker.clone();
    ctx.on_reload(move |cfg| {
        reload_limits.set(TimerLimits::from_config(cfg));
        reload_waker.wake();
        tracing::info!("timer limits reloaded");
    });

    let server = ENDPOINT
        .server(&ctx)?
        .add_service(TimerService::new(store, limits, waker).into_server());
    server
        .health()
        .set_serving::<TimerServer<TimerService>>()
        .await;

    // The scheduler stops with the daemon, or when the server fails.
    let stop = ctx.shutdown().child_token();
    let drain = config.get(shared::SHUTDOWN_TIMEOUT);
    let scheduling = tokio::spawn(scheduler.run(stop.clone(), drain));
    let served = ENDPOINT.serve(&ctx, server).await;
    stop.cancel();
    if let Err(e) = scheduling.await {
        tracing::error!(error = %e, "the scheduler task failed");
    }
    served.map_err(TimerError::from)
}
