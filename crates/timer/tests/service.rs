//! The Timer service in-process, driven by the real client over a socket:
//! Add/Get/List/Cancel, refusals with clear errors, the access list, reloads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_config::{Config, Timer};
use groxide_rpc::pb::timer::v1::{JobState, ListRequest};
use groxide_rpc::timer_client::{self, TimerClient};
use groxide_rpc::{ClientOptions, NodeAddr, RpcError};
use groxide_testkit::{DEADLINE, InProcess, LOCALHOST, free_local_port, wait_listening_async};
use groxide_timer::crash::CrashHooks;
use groxide_timer::exec::{Dispatcher, JobExecutor};
use groxide_timer::maintenance::NoMaintenance;
use groxide_timer::testing::{FakeSender, GatedExecutor};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;
use tonic::Code;

const LOCAL: IpAddr = LOCALHOST;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// One timer served in-process on 127.0.0.1.
struct Rig {
    dir: tempfile::TempDir,
    port: u16,
    timer: InProcess<Timer>,
}

fn config(dir: &Path, port: u16, extra: &str) -> Arc<Config<Timer>> {
    let acl = if extra.contains("timer_hosts_allow") {
        ""
    } else {
        "timer_hosts_allow = 127.0.0.1\n"
    };
    let text = format!(
        "timer_listen_ip = 127.0.0.1\ntimer_listen_port = {port}\n{acl}\
         timer_state_path = {}/timer.sqlite3\ntimer_retry_delay = 10ms\n{extra}",
        dir.display()
    );
    let (c, _) = Config::from_str_for_tests(dir, "shutdown_timeout = 1s\n", &text)
        .unwrap_or_else(|e| panic!("{e}"));
    Arc::new(c)
}

impl Rig {
    async fn start(executor: Arc<dyn JobExecutor>, extra: &str) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let port = free_local_port();
        let timer = groxide_testkit::spawn(
            "timer",
            config(dir.path(), port, extra),
            &CancellationToken::new(),
            move |ctx| groxide_timer::serve(ctx, executor),
        );
        assert!(
            wait_listening_async(SocketAddr::new(LOCAL, port), DEADLINE).await,
            "the timer did not start listening"
        );
        Rig { dir, port, timer }
    }

    /// A client whose connections leave from `source`.
    fn client_from(&self, source: IpAddr) -> TimerClient {
        let opts = ClientOptions {
            source_ip: Some(source),
            ..ClientOptions::default()
        };
        TimerClient::new(NodeAddr::new("127.0.0.1", self.port), &opts).unwrap()
    }

    fn client(&self) -> TimerClient {
        self.client_from(LOCAL)
    }

    /// Stands for SIGHUP with a new timer.cfg; returns once it is applied.
    async fn reload(&self, extra: &str) {
        self.timer
            .reload(config(self.dir.path(), self.port, extra))
            .await;
    }

    async fn stop(mut self) {
        self.timer.stop();
        self.timer.stopped().await;
    }
}

fn dispatcher() -> (Arc<FakeSender>, Arc<Dispatcher>) {
    let sender = FakeSender::new();
    let d = Arc::new(Dispatcher::new(
        sender.clone(),
        Arc::new(NoMaintenance),
        CrashHooks::none(),
    ));
    (sender, d)
}

fn code(e: &RpcError) -> Code {
    e.status().map(|s| s.code()).unwrap_or(Code::Unknown)
}

async fn wait_final(c: &TimerClient, id: u64) -> groxide_rpc::pb::timer::v1::Job {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let job = c.get(id).await.unwrap();
        let pending = [JobState::Pending as i32, JobState::Running as i32];
        if !pending.contains(&job.state) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not finish: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_overdue_command_runs_at_once_and_its_result_is_visible() {
    let (_, exec) = dispatcher();
    let rig = Rig::start(exec, "timer_command_allow = /bin/echo\n").await;
    let c = rig.client();
    let id = c
        .add(
            now() - 3600,
            timer_client::command(["/bin/echo", "hello"], 0),
        )
        .await
        .unwrap();
    let job = wait_final(&c, id).await;
    assert_eq!(timer_client::state_name(job.state), "done");
    assert_eq!(job.result, "exit status 0\nstdout: hello");
    assert_eq!(job.attempts, 1);
    assert!(job.finished >= job.created);
    let listed = c.list_all(&[JobState::Done], "", 10).await.unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    rig.stop().await;
}

#[tokio::test]
async fn a_command_not_on_the_allow_list_is_refused_at_add_naming_the_key() {
    let (_, exec) = dispatcher();
    let rig = Rig::start(exec, "timer_command_allow = /bin/echo\n").await;
    let c = rig.client();
    let err = c
        .add(now(), timer_client::command(["/bin/sh", "-c", "id"], 0))
        .await
        .unwrap_err();
    assert_eq!(code(&err), Code::PermissionDenied, "{err}");
    let msg = err.status().unwrap().message().to_string();
    assert!(
        msg.contains("/bin/sh is not on timer_command_allow (timer.cfg)"),
        "{msg}"
    );
    assert!(
        c.list_all(&[], "", 10).await.unwrap().is_empty(),
        "nothing stored"
    );

    // SIGHUP with a longer list: now it is accepted.
    rig.reload("timer_command_allow = /bin/echo /bin/sh\n")
        .await;
    let deadline = Instant::now() + DEADLINE;
    let id = loop {
        match c
            .add(
                now() + 3600,
                timer_client::command(["/bin/sh", "-c", "id"], 0),
            )
            .await
        {
            Ok(id) => break id,
            Err(e) if code(&e) == Code::PermissionDenied && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert!(id > 0);
    rig.stop().await;
}

#[tokio::test]
async fn bad_due_times_are_refused_and_past_ones_accepted() {
    let (_, exec) = dispatcher();
    let rig = Rig::start(exec, "timer_max_future = 30d\n").await;
    let c = rig.client();
    let send = || timer_client::deferred_send("/s/u", 1);
    for (due, expected) in [
        (-1, "due time -1 is negative"),
        (i64::MIN, "is negative"),
        (
            now() + 31 * 86_400,
            "more than 30 days ahead; the limit is timer_max_future",
        ),
        (i64::MAX, "more than 30 days ahead"),
    ] {
        let err = c.add(due, send()).await.unwrap_err();
        assert_eq!(code(&err), Code::InvalidArgument, "{due}: {err}");
        let msg = err.status().unwrap().message().to_string();
        assert!(msg.contains(expected), "{due}: {msg}");
    }
    for (spec, expected) in [
        (
            timer_client::deferred_send("", 1),
            "deferred_send: dir is empty",
        ),
        (timer_client::deferred_send("/s/u", 0), "message_id is 0"),
        (
            timer_client::maintenance("/s/u", "defrag", 0),
            "unknown action \"defrag\"; known: purge-softdelete, purge-datafiles",
        ),
        (
            groxide_rpc::pb::timer::v1::JobSpec { kind: None },
            "names no job",
        ),
    ] {
        let err = c.add(now(), spec).await.unwrap_err();
        assert_eq!(code(&err), Code::InvalidArgument, "{err}");
        let msg = err.status().unwrap().message().to_string();
        assert!(msg.contains(expected), "{msg}");
    }
    // The past runs at once.
    let id = c.add(1, send()).await.unwrap();
    let job = wait_final(&c, id).await;
    assert_eq!(timer_client::state_name(job.state), "done", "{job:?}");
    rig.stop().await;
}

#[tokio::test]
async fn cancel_stops_a_pending_job_and_reports_finished_and_running_ones() {
    let exec = GatedExecutor::new();
    let rig = Rig::start(exec.clone(), "").await;
    let c = rig.client();
    let later = c
        .add(now() + 3600, timer_client::deferred_send("/s/u", 1))
        .await
        .unwrap();
    let now_job = c
        .add(now(), timer_client::deferred_send("/s/u", 2))
        .await
        .unwrap();
    exec.wait_started(1).await;

    let r = c.cancel(later).await.unwrap();
    assert!(r.cancelled);
    assert_eq!(timer_client::state_name(r.state), "cancelled");
    let again = c.cancel(later).await.unwrap();
    assert!(!again.cancelled);

    let err = c.cancel(now_job).await.unwrap_err();
    assert_eq!(code(&err), Code::FailedPrecondition, "{err}");
    assert!(err.to_string().contains("is running"), "{err}");
    exec.release(1);
    wait_final(&c, now_job).await;
    let done = c.cancel(now_job).await.unwrap();
    assert!(!done.cancelled);
    assert_eq!(timer_client::state_name(done.state), "done");

    let err = c.cancel(987_654).await.unwrap_err();
    assert_eq!(code(&err), Code::NotFound, "{err}");
    let err = c.get(987_654).await.unwrap_err();
    assert_eq!(code(&err), Code::NotFound, "{err}");
    assert_eq!(exec.started().len(), 1, "the cancelled job never ran");
    rig.stop().await;
}

#[tokio::test]
async fn a_message_gets_one_deferred_send_even_when_add_is_retried() {
    let (sender, exec) = dispatcher();
    let rig = Rig::start(exec, "").await;
    let c = rig.client();
    let due = now() + 3600;
    let a = c
        .add(due, timer_client::deferred_send("/s/u", 9))
        .await
        .unwrap();
    let b = c
        .add(due, timer_client::deferred_send("/s/u", 9))
        .await
        .unwrap();
    assert_eq!(a, b, "a retried Add answers with the same job");
    let err = c
        .add(due + 60, timer_client::deferred_send("/s/u", 9))
        .await
        .unwrap_err();
    assert_eq!(code(&err), Code::AlreadyExists, "{err}");
    assert!(err.to_string().contains(&format!("job {a}")), "{err}");
    assert_eq!(c.list_all(&[], "/s/u", 10).await.unwrap().len(), 1);
    assert!(sender.accepted().is_empty());
    rig.stop().await;
}

#[tokio::test]
async fn a_peer_not_on_the_access_list_is_refused_until_a_reload_admits_it() {
    let (_, exec) = dispatcher();
    let rig = Rig::start(exec, "").await;
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let c = rig.client_from(other);
    let err = c.list(ListRequest::default()).await.unwrap_err();
    assert_eq!(code(&err), Code::PermissionDenied, "{err}");
    assert!(err.to_string().contains("timer_hosts_allow"), "{err}");

    rig.reload("timer_hosts_allow = 127.0.0.1 127.0.0.2\n")
        .await;
    let deadline = Instant::now() + DEADLINE;
    loop {
        let c = rig.client_from(other);
        match c.list(ListRequest::default()).await {
            Ok(jobs) => {
                assert!(jobs.is_empty());
                break;
            }
            Err(e) if Instant::now() < deadline => {
                assert_eq!(code(&e), Code::PermissionDenied, "{e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("still refused after reload: {e}"),
        }
    }
    rig.stop().await;
}

#[tokio::test]
async fn a_command_past_its_time_limit_is_killed_and_fails() {
    let (_, exec) = dispatcher();
    let rig = Rig::start(exec, "timer_command_allow = /bin/sleep\n").await;
    let c = rig.client();
    let id = c
        .add(now(), timer_client::command(["/bin/sleep", "60"], 1))
        .await
        .unwrap();
    let job = wait_final(&c, id).await;
    assert_eq!(timer_client::state_name(job.state), "failed");
    assert_eq!(job.result, "killed after its time limit of 1s");
    assert_eq!(job.attempts, 1, "a timeout is not retried");
    rig.stop().await;
}
