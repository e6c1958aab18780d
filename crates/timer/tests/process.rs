//! groxide-timer as a real process: jobs survive SIGTERM and SIGKILL, a job
//! interrupted by a crash runs again, SIGTERM lets a running job finish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DEADLINE, TimerProcess, now, wait_for};
use groxide_rpc::pb::timer::v1::JobState;
use groxide_rpc::timer_client;
use std::time::{Duration, Instant};

/// Lines the record script wrote.
fn records(node: &TimerProcess) -> Vec<String> {
    std::fs::read_to_string(node.path("records.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn record(node: &TimerProcess, tag: &str) -> groxide_rpc::pb::timer::v1::JobSpec {
    let script = node.path("record.sh");
    let out = node.path("records.txt");
    timer_client::command(
        [
            script.display().to_string(),
            tag.to_string(),
            out.display().to_string(),
        ],
        0,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_and_overdue_jobs_survive_a_restart() {
    let mut node = TimerProcess::new();
    node.start(&[]);
    let c = node.client();
    let far = c.add(now() + 3600, record(&node, "far")).await.unwrap();
    let soon_due = now() + 3;
    let soon = c.add(soon_due, record(&node, "soon")).await.unwrap();
    let at_once = c.add(now() - 60, record(&node, "at-once")).await.unwrap();
    node.wait_state(at_once, JobState::Done).await;

    // Stopped cleanly; "soon" falls due while the daemon is down.
    node.stop_term();
    wait_for("the due time of 'soon' to pass", || now() > soon_due).await;
    node.start(&[]);
    let c = node.client();
    node.wait_state(soon, JobState::Done).await;
    assert!(
        node.log().contains("pending=2 overdue=1 interrupted=0"),
        "the restart found 'soon' overdue and 'far' pending:\n{}",
        node.log()
    );
    let j = c.get(far).await.unwrap();
    assert_eq!(
        (timer_client::state_name(j.state), j.attempts),
        ("pending", 0)
    );

    // Killed; a job added just before runs after the restart.
    let late = c.add(now() + 1, record(&node, "late")).await.unwrap();
    node.kill();
    node.start(&[]);
    node.wait_state(late, JobState::Done).await;
    assert_eq!(records(&node), ["at-once", "soon", "late"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cut_short_by_a_crash_before_it_was_recorded_runs_again() {
    let mut node = TimerProcess::new();
    node.start(&[("GROXIDE_TIMER_TEST_CRASH", "after-command")]);
    let id = node
        .client()
        .add(now(), record(&node, "once"))
        .await
        .unwrap();
    let status = node.wait_exit();
    assert!(
        !status.success(),
        "the crash hook aborts the daemon: {status:?}"
    );
    assert_eq!(records(&node), ["once"], "the command ran before the crash");

    node.start(&[]);
    let job = node.wait_state(id, JobState::Done).await;
    assert_eq!(job.attempts, 2);
    assert_eq!(
        records(&node),
        ["once", "once"],
        "at least once: it ran again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_running_job_finish_and_it_is_not_run_again() {
    let mut node = TimerProcess::new();
    node.start(&[]);
    let c = node.client();
    let slow = node.path("slow.sh");
    let out = node.path("records.txt");
    let id = c
        .add(
            now(),
            timer_client::command([slow.display().to_string(), out.display().to_string()], 0),
        )
        .await
        .unwrap();
    node.wait_state(id, JobState::Running).await;
    node.stop_term();
    assert_eq!(records(&node), ["slow done"]);
    node.start(&[]);
    let job = node.client().get(id).await.unwrap();
    assert_eq!(
        (timer_client::state_name(job.state), job.attempts),
        ("done", 1)
    );
    assert_eq!(records(&node), ["slow done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_a_new_allow_list_without_a_restart() {
    let mut node = TimerProcess::new();
    node.start(&[]);
    let c = node.client();
    let echo = || timer_client::command(["/bin/echo", "hi"], 0);
    let err = c.add(now(), echo()).await.unwrap_err();
    assert!(
        err.to_string().contains("not on timer_command_allow"),
        "{err}"
    );

    node.write_config("timer_command_allow = /bin/echo\n");
    node.hup();
    let deadline = Instant::now() + DEADLINE;
    let id = loop {
        match c.add(now(), echo()).await {
            Ok(id) => break id,
            Err(e) => {
                assert!(Instant::now() < deadline, "the reload did not apply: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let job = node.wait_state(id, JobState::Done).await;
    assert_eq!(job.result, "exit status 0\nstdout: hi");
    // The old entries are gone with the reload.
    let err = c.add(now(), record(&node, "x")).await.unwrap_err();
    assert!(
        err.to_string().contains("not on timer_command_allow"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_list_entry_that_is_not_an_absolute_path_is_a_config_error() {
    let node = TimerProcess::new();
    node.write_config("timer_command_allow = relative/prog\n");
    let out = node.check_config();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("timer_command_allow"), "{err}");
    assert!(
        err.contains("\"relative/prog\" is not an absolute path"),
        "{err}"
    );
}
