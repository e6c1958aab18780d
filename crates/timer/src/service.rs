//! The gRPC face of the timer (`groxide.timer.v1.Timer`): translates between
//! protobuf and the timer's own types. The access list is enforced by the
//! server before a request gets here.

use crate::clock::{now_ms, rfc3339};
use crate::job::{Job, JobId, JobSpec, JobState, MaintenanceAction};
use crate::limits::SharedLimits;
use crate::scheduler::SchedulerWaker;
use crate::store::{AddOutcome, CancelOutcome, JobStore, ListFilter, StoreError};
use crate::validate::{AddError, check_add};
use groxide_rpc::pb::timer::v1 as pb;
use groxide_rpc::reason::{self, Reason};
use tonic::{Code, Request, Response, Status};

/// Jobs List returns when the request does not say.
pub const LIST_DEFAULT: usize = 100;
/// Most jobs one List returns.
pub const LIST_MAX: usize = 1000;

/// The Timer service over a state file.
#[derive(Debug, Clone)]
pub struct TimerService {
    store: JobStore,
    limits: SharedLimits,
    waker: SchedulerWaker,
}

impl TimerService {
    /// A service storing jobs in `store`, checking them against `limits`,
    /// waking the scheduler through `waker`.
    pub fn new(store: JobStore, limits: SharedLimits, waker: SchedulerWaker) -> TimerService {
        TimerService {
            store,
            limits,
            waker,
        }
    }

    /// The generated server wrapper, ready for `RpcServer::add_service`.
    pub fn into_server(self) -> pb::timer_server::TimerServer<TimerService> {
        pb::timer_server::TimerServer::new(self)
    }
}

fn store_status(e: StoreError) -> Status {
    tracing::error!(error = %e, "state file");
    Status::new(
        Code::Unavailable,
        format!("the timer cannot use its state file: {e}"),
    )
}

fn add_status(e: AddError) -> Status {
    if e.is_permission() {
        reason::status(Code::PermissionDenied, Reason::NotPermitted, e.to_string())
    } else {
        Status::invalid_argument(e.to_string())
    }
}

/// The job of an Add request in the timer's terms.
pub fn spec_from_pb(spec: Option<pb::JobSpec>) -> Result<JobSpec, AddError> {
    use pb::job_spec::Kind;
    match spec.and_then(|s| s.kind) {
        None => Err(AddError::NoJob),
        Some(Kind::DeferredSend(d)) => Ok(JobSpec::DeferredSend {
            dir: d.dir,
            message_id: d.message_id,
        }),
        Some(Kind::Maintenance(m)) => {
            let action =
                MaintenanceAction::parse(&m.action, m.older_than_secs).ok_or_else(|| {
                    AddError::UnknownAction {
                        // Echo a readable prefix only: the request may be megabytes.
                        given: m.action.chars().take(80).collect(),
                    }
                })?;
            Ok(JobSpec::Maintenance { dir: m.dir, action })
        }
        Some(Kind::Command(c)) => Ok(JobSpec::Command {
            argv: c.argv,
            timeout_secs: c.timeout_secs,
        }),
    }
}

/// A job's spec in protobuf terms.
pub fn spec_to_pb(spec: &JobSpec) -> pb::JobSpec {
    use pb::job_spec::Kind;
    let kind = match spec {
        JobSpec::DeferredSend { dir, message_id } => Kind::DeferredSend(pb::DeferredSend {
            dir: dir.clone(),
            message_id: *message_id,
        }),
        JobSpec::Maintenance { dir, action } => Kind::Maintenance(pb::Maintenance {
            dir: dir.clone(),
            action: action.name().to_string(),
            older_than_secs: action.older_than_secs(),
        }),
        JobSpec::Command { argv, timeout_secs } => Kind::Command(pb::Command {
            argv: argv.clone(),
            timeout_secs: *timeout_secs,
        }),
    };
    pb::JobSpec { kind: Some(kind) }
}

/// A state in protobuf terms.
pub fn state_to_pb(state: JobState) -> pb::JobState {
    match state {
        JobState::Pending => pb::JobState::Pending,
        JobState::Running => pb::JobState::Running,
        JobState::Done => pb::JobState::Done,
        JobState::Failed => pb::JobState::Failed,
        JobState::Cancelled => pb::JobState::Cancelled,
    }
}

fn state_from_pb(state: i32) -> Result<JobState, Status> {
    match pb::JobState::try_from(state) {
        Ok(pb::JobState::Pending) => Ok(JobState::Pending),
        Ok(pb::JobState::Running) => Ok(JobState::Running),
        Ok(pb::JobState::Done) => Ok(JobState::Done),
        Ok(pb::JobState::Failed) => Ok(JobState::Failed),
        Ok(pb::JobState::Cancelled) => Ok(JobState::Cancelled),
        Ok(pb::JobState::Unspecified) | Err(_) => Err(Status::invalid_argument(format!(
            "unknown job state {state} in the filter"
        ))),
    }
}

/// A job in protobuf terms.
pub fn job_to_pb(job: &Job) -> pb::Job {
    pb::Job {
        id: job.id.0,
        due: job.due,
        spec: Some(spec_to_pb(&job.spec)),
        state: state_to_pb(job.state) as i32,
        attempts: job.attempts,
        result: job.result.clone(),
        created: job.created,
        finished: job.finished,
        next_run_ms: job.run_at_ms,
    }
}

#[tonic::async_trait]
impl pb::timer_server::Timer for TimerService {
    async fn add(&self, req: Request<pb::AddRequest>) -> Result<Response<pb::AddReply>, Status> {
        let req = req.into_inner();
        let spec = spec_from_pb(req.spec).map_err(add_status)?;
        let now = now_ms();
        check_add(req.due, &spec, now / 1000, &self.limits.get()).map_err(add_status)?;
        let due = req.due;
        let stored = spec.clone();
        let outcome = self
            .store
            .call(move |s| s.add(due, &stored, now))
            .await
            .map_err(store_status)?;
        let id = match outcome {
            AddOutcome::Added(id) => {
                tracing::info!(job = %id, kind = spec.kind(), dir = spec.dir(), due = %rfc3339(due), "job added");
                id
            }
            AddOutcome::Existing(id) => id,
            AddOutcome::Conflict { id, due } => {
                return Err(Status::already_exists(format!(
                    "message {} of {} already has a pending deferred send (job {id}, due {}); cancel it first",
                    match &spec {
                        JobSpec::DeferredSend { message_id, .. } => *message_id,
                        _ => 0,
                    },
                    spec.dir(),
                    rfc3339(due)
                )));
            }
        };
        self.waker.wake();
        Ok(Response::new(pb::AddReply { id: id.0 }))
    }

    async fn cancel(
        &self,
        req: Request<pb::CancelRequest>,
    ) -> Result<Response<pb::CancelReply>, Status> {
        let id = JobId(req.into_inner().id);
        let outcome = self
            .store
            .call(move |s| s.cancel(id, now_ms()))
            .await
            .map_err(store_status)?;
        let (cancelled, state) = match outcome {
            CancelOutcome::NotFound => return Err(Status::not_found(format!("no job {id}"))),
            CancelOutcome::Running => {
                return Err(reason::status(
                    Code::FailedPrecondition,
                    Reason::NotPermitted,
                    format!("job {id} is running and cannot be cancelled now"),
                ));
            }
            CancelOutcome::Cancelled => {
                tracing::info!(job = %id, "job cancelled");
                (true, JobState::Cancelled)
            }
            CancelOutcome::AlreadyFinal(state) => (false, state),
        };
        Ok(Response::new(pb::CancelReply {
            cancelled,
            state: state_to_pb(state) as i32,
        }))
    }

    async fn get(&self, req: Request<pb::GetRequest>) -> Result<Response<pb::Job>, Status> {
        let id = JobId(req.into_inner().id);
        match self.store.call(move |s| s.get(id)).await {
            Ok(Some(job)) => Ok(Response::new(job_to_pb(&job))),
            Ok(None) => Err(Status::not_found(format!("no job {id}"))),
            Err(e) => Err(store_status(e)),
        }
    }

    async fn list(&self, req: Request<pb::ListRequest>) -> Result<Response<pb::ListReply>, Status> {
        let req = req.into_inner();
        let states = req
            .states
            .iter()
            .map(|s| state_from_pb(*s))
            .collect::<Result<Vec<_>, _>>()?;
        let limit = match usize::try_from(req.limit).unwrap_or(LIST_MAX) {
            0 => LIST_DEFAULT,
            n => n.min(LIST_MAX),
        };
        let filter = ListFilter {
            states,
            dir: req.dir,
            after_id: req.after_id,
            limit,
        };
        let jobs = self
            .store
            .call(move |s| s.list(&filter))
            .await
            .map_err(store_status)?;
        Ok(Response::new(pb::ListReply {
            jobs: jobs.iter().map(job_to_pb).collect(),
        }))
    }
}
