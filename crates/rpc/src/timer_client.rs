//! A client of groxide-timer (`groxide.timer.v1.Timer`), and how a job is
//! shown to people (`groxide-admin timer list|show`) and to scripts (JSON).

use crate::client::{ClientOptions, NodeAddr, RpcError, channel};
use crate::pb::timer::v1::{
    self as pb, AddRequest, CancelReply, CancelRequest, GetRequest, Job, JobSpec, JobState,
    ListRequest, job_spec::Kind, timer_client,
};
use std::time::Duration;
use tonic::transport::Channel;

/// The service name in errors.
const SERVICE: &str = "timer";
/// Most jobs one List call may return (the server's cap).
pub const LIST_PAGE_MAX: u32 = 1000;

/// A connection to one node's timer. Cheap to clone; connects on first use.
#[derive(Clone)]
pub struct TimerClient {
    client: timer_client::TimerClient<Channel>,
    node: NodeAddr,
    timeout: Duration,
}

impl std::fmt::Debug for TimerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerClient")
            .field("node", &self.node)
            .finish()
    }
}

impl TimerClient {
    /// A client of the timer at `node` (e.g. `[::1]:6666`).
    pub fn new(node: NodeAddr, opts: &ClientOptions) -> Result<TimerClient, RpcError> {
        let ch = channel(SERVICE, &node, opts)?;
        Ok(TimerClient {
            client: timer_client::TimerClient::new(ch),
            node,
            timeout: opts.request_timeout,
        })
    }

    /// The node this client calls.
    pub fn node(&self) -> &NodeAddr {
        &self.node
    }

    fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(msg);
        req.set_timeout(self.timeout);
        req
    }

    fn error(&self, status: tonic::Status) -> RpcError {
        RpcError::from_status(SERVICE, &self.node, status)
    }

    /// Schedules `spec` at `due` (Unix seconds; a past time runs at once);
    /// returns the job id once the job is stored durably.
    pub async fn add(&self, due: i64, spec: JobSpec) -> Result<u64, RpcError> {
        let mut c = self.client.clone();
        let req = self.request(AddRequest {
            due,
            spec: Some(spec),
        });
        c.add(req)
            .await
            .map(|r| r.into_inner().id)
            .map_err(|s| self.error(s))
    }

    /// Cancels a pending job. `cancelled` is false when it had already
    /// finished; a running job is an error (FAILED_PRECONDITION).
    pub async fn cancel(&self, id: u64) -> Result<CancelReply, RpcError> {
        let mut c = self.client.clone();
        c.cancel(self.request(CancelRequest { id }))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| self.error(s))
    }

    /// One job (NOT_FOUND when there is none).
    pub async fn get(&self, id: u64) -> Result<Job, RpcError> {
        let mut c = self.client.clone();
        c.get(self.request(GetRequest { id }))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| self.error(s))
    }

    /// One page of jobs in id order (see [`ListRequest`]).
    pub async fn list(&self, req: ListRequest) -> Result<Vec<Job>, RpcError> {
        let mut c = self.client.clone();
        c.list(self.request(req))
            .await
            .map(|r| r.into_inner().jobs)
            .map_err(|s| self.error(s))
    }

    /// Every job matching `states` (empty: all) and `dir` ("": all), up to
    /// `max`, fetched page by page.
    pub async fn list_all(
        &self,
        states: &[JobState],
        dir: &str,
        max: usize,
    ) -> Result<Vec<Job>, RpcError> {
        let mut all = Vec::new();
        let mut after_id = 0;
        while all.len() < max {
            let want = u32::try_from(max - all.len())
                .unwrap_or(u32::MAX)
                .min(LIST_PAGE_MAX);
            let page = self
                .list(ListRequest {
                    states: states.iter().map(|s| *s as i32).collect(),
                    dir: dir.to_string(),
                    limit: want,
                    after_id,
                })
                .await?;
            let Some(last) = page.last() else { break };
            after_id = last.id;
            let short = page.len() < want as usize;
            all.extend(page);
            if short {
                break;
            }
        }
        Ok(all)
    }
}

/// A deferred send of `message_id` in `dir`.
pub fn deferred_send(dir: impl Into<String>, message_id: u64) -> JobSpec {
    JobSpec {
        kind: Some(Kind::DeferredSend(pb::DeferredSend {
            dir: dir.into(),
            message_id,
        })),
    }
}

/// A maintenance `action` on `dir`.
pub fn maintenance(
    dir: impl Into<String>,
    action: impl Into<String>,
    older_than_secs: u64,
) -> JobSpec {
    JobSpec {
        kind: Some(Kind::Maintenance(pb::Maintenance {
            dir: dir.into(),
            action: action.into(),
            older_than_secs,
        })),
    }
}

/// A command (`argv[0]` must be on the timer's `timer_command_allow`).
pub fn command<S: Into<String>>(argv: impl IntoIterator<Item = S>, timeout_secs: u32) -> JobSpec {
    JobSpec {
        kind: Some(Kind::Command(pb::Command {
            argv: argv.into_iter().map(Into::into).collect(),
            timeout_secs,
        })),
    }
}

/// A state's lower-case name (`pending`, `running`, `done`, `failed`, `cancelled`).
pub fn state_name(state: i32) -> &'static str {
    match JobState::try_from(state) {
        Ok(JobState::Pending) => "pending",
        Ok(JobState::Running) => "running",
        Ok(JobState::Done) => "done",
        Ok(JobState::Failed) => "failed",
        Ok(JobState::Cancelled) => "cancelled",
        Ok(JobState::Unspecified) | Err(_) => "unknown",
    }
}

/// The state named `name` (as [`state_name`] writes it).
pub fn parse_state(name: &str) -> Option<JobState> {
    match name.to_ascii_lowercase().as_str() {
        "pending" => Some(JobState::Pending),
        "running" => Some(JobState::Running),
        "done" => Some(JobState::Done),
        "failed" => Some(JobState::Failed),
        "cancelled" | "canceled" => Some(JobState::Cancelled),
        _ => None,
    }
}

/// What a job does, in one line: `deferred_send /dir message 42`.
pub fn describe_spec(spec: Option<&JobSpec>) -> String {
    match spec.and_then(|s| s.kind.as_ref()) {
        None => "(no job)".to_string(),
        Some(Kind::DeferredSend(d)) => format!("deferred_send {} message {}", d.dir, d.message_id),
        Some(Kind::Maintenance(m)) if m.older_than_secs > 0 => format!(
            "maintenance {} {} older than {}s",
            m.dir, m.action, m.older_than_secs
        ),
        Some(Kind::Maintenance(m)) => format!("maintenance {} {}", m.dir, m.action),
        Some(Kind::Command(c)) => {
            let argv: Vec<String> = c.argv.iter().map(|a| shell_quote(a)).collect();
            format!("command {}", argv.join(" "))
        }
    }
}

/// Quotes an argument for display when it holds anything but plain characters.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:,@+%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Unix seconds as RFC 3339 UTC; `-` for 0.
pub fn format_time(secs: i64) -> String {
    if secs == 0 {
        return "-".to_string();
    }
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// One line per job for `timer list`: id, state, due, attempts, what, and
/// the first line of the result.
pub fn format_job_line(job: &Job) -> String {
    let result = job.result.lines().next().unwrap_or("");
    let mut line = format!(
        "{:>8}  {:<9}  {}  {:>2}  {}",
        job.id,
        state_name(job.state),
        format_time(job.due),
        job.attempts,
        describe_spec(job.spec.as_ref())
    );
    if !result.is_empty() {
        line.push_str("  — ");
        line.push_str(result);
    }
    line
}

/// Every field of a job, one per line, for `timer show`.
pub fn format_job_details(job: &Job) -> String {
    let mut out = format!(
        "id:        {}\nstate:     {}\njob:       {}\ndue:       {}\ncreated:   {}\nattempts:  {}\n",
        job.id,
        state_name(job.state),
        describe_spec(job.spec.as_ref()),
        format_time(job.due),
        format_time(job.created),
        job.attempts
    );
    if job.next_run_ms > 0 {
        out.push_str(&format!(
            "next run:  {}\n",
            format_time(job.next_run_ms.div_euclid(1000))
        ));
    }
    if job.finished > 0 {
        out.push_str(&format!("finished:  {}\n", format_time(job.finished)));
    }
    if !job.result.is_empty() {
        out.push_str("result:    ");
        out.push_str(&job.result.replace('\n', "\n           "));
        out.push('\n');
    }
    out
}

/// A job as JSON for scripts (`timer list --json`): times as Unix seconds
/// and RFC 3339, the state by name, the job by kind.
pub fn job_json(job: &Job) -> serde_json::Value {
    let spec = match job.spec.as_ref().and_then(|s| s.kind.as_ref()) {
        None => serde_json::Value::Null,
        Some(Kind::DeferredSend(d)) => serde_json::json!({
            "kind": "deferred_send", "dir": d.dir, "message_id": d.message_id,
        }),
        Some(Kind::Maintenance(m)) => serde_json::json!({
            "kind": "maintenance", "dir": m.dir, "action": m.action,
            "older_than_secs": m.older_than_secs,
        }),
        Some(Kind::Command(c)) => serde_json::json!({
            "kind": "command", "argv": c.argv, "timeout_secs": c.timeout_secs,
        }),
    };
    serde_json::json!({
        "id": job.id,
        "state": state_name(job.state),
        "job": spec,
        "due": job.due,
        "due_time": format_time(job.due),
        "created": job.created,
        "finished": job.finished,
        "next_run_ms": job.next_run_ms,
        "attempts": job.attempts,
        "result": job.result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(spec: JobSpec, state: JobState, result: &str) -> Job {
        Job {
            id: 42,
            due: 1_800_000_000,
            spec: Some(spec),
            state: state as i32,
            attempts: 2,
            result: result.to_string(),
            created: 1_799_990_000,
            finished: if state == JobState::Pending {
                0
            } else {
                1_800_000_005
            },
            next_run_ms: if state == JobState::Pending {
                1_800_000_030_000
            } else {
                0
            },
        }
    }

    #[test]
    fn a_job_line_shows_state_time_and_what_it_does() {
        let cases = [
            (
                job(
                    deferred_send("/s/u", 7),
                    JobState::Done,
                    "sent (250 ok)\nmore",
                ),
                "      42  done       2027-01-15T08:00:00Z   2  deferred_send /s/u message 7  — sent (250 ok)",
            ),
            (
                job(
                    command(["/usr/bin/x", "a b", "it's"], 0),
                    JobState::Pending,
                    "",
                ),
                "      42  pending    2027-01-15T08:00:00Z   2  command /usr/bin/x 'a b' 'it'\\''s'",
            ),
            (
                job(
                    maintenance("/s/u", "purge-softdelete", 86_400),
                    JobState::Failed,
                    "x",
                ),
                "      42  failed     2027-01-15T08:00:00Z   2  maintenance /s/u purge-softdelete older than 86400s  — x",
            ),
        ];
        for (j, expected) in cases {
            assert_eq!(format_job_line(&j), expected);
        }
    }

    #[test]
    fn details_show_every_field_and_indent_a_long_result() {
        let text = format_job_details(&job(
            deferred_send("/s/u", 7),
            JobState::Pending,
            "attempt 2 of 11 failed\nrelay down",
        ));
        assert_eq!(
            text,
            "id:        42\nstate:     pending\njob:       deferred_send /s/u message 7\n\
             due:       2027-01-15T08:00:00Z\ncreated:   2027-01-15T05:13:20Z\nattempts:  2\n\
             next run:  2027-01-15T08:00:30Z\n\
             result:    attempt 2 of 11 failed\n           relay down\n"
        );
    }

    #[test]
    fn json_names_the_state_and_the_kind() {
        let v = job_json(&job(
            command(["/bin/true"], 5),
            JobState::Cancelled,
            "cancelled",
        ));
        assert_eq!(v["state"], "cancelled");
        assert_eq!(v["job"]["kind"], "command");
        assert_eq!(v["job"]["argv"][0], "/bin/true");
        assert_eq!(v["due_time"], "2027-01-15T08:00:00Z");
        assert_eq!(v["finished"], 1_800_000_005);
    }

    #[test]
    fn state_names_round_trip() {
        for s in [
            JobState::Pending,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ] {
            assert_eq!(parse_state(state_name(s as i32)), Some(s));
        }
        assert_eq!(state_name(99), "unknown");
    }
}
