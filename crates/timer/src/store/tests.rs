//! Tests of the job store: durability, claims, retries, cancel, listing,
//! purge, unreadable rows, schema versions, and a property test of reads.

use super::*;
use crate::job::MaintenanceAction;
use proptest::prelude::*;

const NOW_MS: i64 = 1_800_000_000_000;
const NOW: i64 = NOW_MS / 1000;

fn open() -> (tempfile::TempDir, JobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = JobStore::open(&dir.path().join("state/timer.sqlite3")).unwrap();
    (dir, store)
}

fn cmd(tag: &str) -> JobSpec {
    JobSpec::Command {
        argv: vec!["/bin/echo".into(), tag.into()],
        timeout_secs: 0,
    }
}

fn send(dir: &str, message_id: u64) -> JobSpec {
    JobSpec::DeferredSend {
        dir: dir.into(),
        message_id,
    }
}

fn added(o: AddOutcome) -> JobId {
    match o {
        AddOutcome::Added(id) => id,
        other => panic!("not added: {other:?}"),
    }
}

fn tag(job: &Job) -> String {
    match &job.spec {
        JobSpec::Command { argv, .. } => argv[1].clone(),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_job_survives_reopening_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timer.sqlite3");
    let id = added(
        JobStore::open(&path)
            .unwrap()
            .add(NOW + 60, &cmd("a"), NOW_MS)
            .unwrap(),
    );
    let job = JobStore::open(&path).unwrap().get(id).unwrap().unwrap();
    assert_eq!(
        (job.due, job.state, job.attempts, job.created, job.run_at_ms),
        (NOW + 60, JobState::Pending, 0, NOW, (NOW + 60) * 1000)
    );
    assert_eq!(job.spec, cmd("a"));
}

#[test]
fn claims_take_only_due_jobs_from_either_end_and_count_attempts() {
    let (_d, store) = open();
    for (due, t) in [
        (NOW - 30, "old"),
        (NOW - 10, "mid"),
        (NOW, "new"),
        (NOW + 5, "later"),
    ] {
        store.add(due, &cmd(t), NOW_MS).unwrap();
    }
    let newest = store.claim(NOW_MS, Lane::Newest).unwrap().unwrap();
    let oldest = store.claim(NOW_MS, Lane::Oldest).unwrap().unwrap();
    let next = store.claim(NOW_MS, Lane::Newest).unwrap().unwrap();
    assert_eq!(
        [tag(&newest), tag(&oldest), tag(&next)],
        ["new", "old", "mid"]
    );
    assert_eq!(store.claim(NOW_MS, Lane::Oldest).unwrap(), None);
    assert_eq!((newest.state, newest.attempts), (JobState::Running, 1));
    assert_eq!(store.next_run_at().unwrap(), Some((NOW + 5) * 1000));
    let later = store
        .claim((NOW + 5) * 1000, Lane::Oldest)
        .unwrap()
        .unwrap();
    assert_eq!(tag(&later), "later");
    assert_eq!(store.next_run_at().unwrap(), None);
}

#[test]
fn retry_finish_and_recovery_move_a_job_between_states() {
    let (_d, store) = open();
    let id = added(store.add(NOW, &cmd("a"), NOW_MS).unwrap());
    store.claim(NOW_MS, Lane::Oldest).unwrap().unwrap();
    store.retry_at(id, NOW_MS + 500, "relay down").unwrap();
    let j = store.get(id).unwrap().unwrap();
    assert_eq!(
        (j.state, j.run_at_ms, j.result.as_str()),
        (JobState::Pending, NOW_MS + 500, "relay down")
    );
    assert_eq!(
        store.claim(NOW_MS, Lane::Oldest).unwrap(),
        None,
        "not before its retry time"
    );
    store.claim(NOW_MS + 500, Lane::Oldest).unwrap().unwrap();

    // The daemon dies while attempt 2 runs.
    let r = store.recover(NOW_MS + 9_000).unwrap();
    assert_eq!(
        r,
        Recovery {
            interrupted: 1,
            pending: 1,
            overdue: 1
        }
    );
    let j = store.get(id).unwrap().unwrap();
    assert_eq!(
        (j.state, j.attempts, j.run_at_ms),
        (JobState::Pending, 2, NOW_MS + 9_000)
    );
    assert!(j.result.starts_with("interrupted"), "{}", j.result);

    store.claim(NOW_MS + 9_000, Lane::Oldest).unwrap().unwrap();
    store
        .finish(id, JobState::Done, "exit status 0", NOW_MS + 10_000)
        .unwrap();
    let j = store.get(id).unwrap().unwrap();
    assert_eq!(
        (j.state, j.attempts, j.finished, j.run_at_ms),
        (JobState::Done, 3, NOW + 10, 0)
    );
    assert_eq!(store.recover(NOW_MS).unwrap(), Recovery::default());
}

#[test]
fn cancel_answers_by_the_state_the_job_is_in() {
    let (_d, store) = open();
    let pending = added(store.add(NOW + 60, &cmd("p"), NOW_MS).unwrap());
    let running = added(store.add(NOW, &cmd("r"), NOW_MS).unwrap());
    store.claim(NOW_MS, Lane::Oldest).unwrap().unwrap();
    assert_eq!(
        store.cancel(pending, NOW_MS).unwrap(),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        store.cancel(pending, NOW_MS).unwrap(),
        CancelOutcome::AlreadyFinal(JobState::Cancelled)
    );
    assert_eq!(
        store.cancel(running, NOW_MS).unwrap(),
        CancelOutcome::Running
    );
    store.finish(running, JobState::Done, "ok", NOW_MS).unwrap();
    assert_eq!(
        store.cancel(running, NOW_MS).unwrap(),
        CancelOutcome::AlreadyFinal(JobState::Done)
    );
    assert_eq!(
        store.cancel(JobId(999), NOW_MS).unwrap(),
        CancelOutcome::NotFound
    );
    // A cancelled job is never claimed.
    assert_eq!(store.claim(NOW_MS + 120_000, Lane::Oldest).unwrap(), None);
}

#[test]
fn a_message_has_at_most_one_active_deferred_send() {
    let (_d, store) = open();
    let id = added(store.add(NOW + 60, &send("/s/a", 7), NOW_MS).unwrap());
    assert_eq!(
        store.add(NOW + 60, &send("/s/a", 7), NOW_MS).unwrap(),
        AddOutcome::Existing(id)
    );
    assert_eq!(
        store.add(NOW + 99, &send("/s/a", 7), NOW_MS).unwrap(),
        AddOutcome::Conflict { id, due: NOW + 60 }
    );
    added(store.add(NOW + 60, &send("/s/a", 8), NOW_MS).unwrap());
    added(store.add(NOW + 60, &send("/s/b", 7), NOW_MS).unwrap());
    store.cancel(id, NOW_MS).unwrap();
    added(store.add(NOW + 99, &send("/s/a", 7), NOW_MS).unwrap());
}

#[test]
fn list_filters_by_state_store_and_page() {
    let (_d, store) = open();
    let a = added(store.add(NOW, &send("/s/a", 1), NOW_MS).unwrap());
    let b = added(store.add(NOW, &send("/s/b", 1), NOW_MS).unwrap());
    let purge = JobSpec::Maintenance {
        dir: "/s/a".into(),
        action: MaintenanceAction::PurgeDatafiles,
    };
    let c = added(store.add(NOW, &purge, NOW_MS).unwrap());
    store.cancel(b, NOW_MS).unwrap();
    let ids = |f: ListFilter| -> Vec<u64> {
        store
            .list(&ListFilter { limit: 10, ..f })
            .unwrap()
            .iter()
            .map(|j| j.id.0)
            .collect()
    };
    assert_eq!(ids(ListFilter::default()), [a.0, b.0, c.0]);
    assert_eq!(
        ids(ListFilter {
            states: vec![JobState::Pending],
            ..Default::default()
        }),
        [a.0, c.0]
    );
    assert_eq!(
        ids(ListFilter {
            states: vec![JobState::Cancelled, JobState::Done],
            ..Default::default()
        }),
        [b.0]
    );
    assert_eq!(
        ids(ListFilter {
            dir: "/s/a".into(),
            ..Default::default()
        }),
        [a.0, c.0]
    );
    assert_eq!(
        ids(ListFilter {
            after_id: a.0,
            ..Default::default()
        }),
        [b.0, c.0]
    );
    assert_eq!(
        store
            .list(&ListFilter {
                limit: 1,
                ..Default::default()
            })
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn old_finished_jobs_are_purged_and_others_kept() {
    let (_d, store) = open();
    let old = added(store.add(NOW, &cmd("old"), NOW_MS).unwrap());
    let fresh = added(store.add(NOW, &cmd("fresh"), NOW_MS).unwrap());
    let pending = added(store.add(NOW - 1_000_000, &cmd("pending"), NOW_MS).unwrap());
    store.cancel(old, NOW_MS - 100_000).unwrap();
    store.cancel(fresh, NOW_MS).unwrap();
    assert_eq!(store.purge_finished(NOW - 50).unwrap(), 1);
    assert!(store.get(old).unwrap().is_none());
    assert!(store.get(fresh).unwrap().is_some());
    assert!(store.get(pending).unwrap().is_some());
}

#[test]
fn an_unreadable_job_is_failed_once_instead_of_claimed_forever() {
    let (_d, store) = open();
    let id = added(store.add(NOW, &cmd("a"), NOW_MS).unwrap());
    store
        .lock()
        .execute(
            "UPDATE jobs SET spec = '{\"kind\":\"teleport\"}' WHERE id = ?1",
            [id.0 as i64],
        )
        .unwrap();
    let err = store.claim(NOW_MS, Lane::Oldest).unwrap_err();
    assert!(err.to_string().contains("cannot decode the job"), "{err}");
    assert_eq!(store.claim(NOW_MS, Lane::Oldest).unwrap(), None);
    let states: Vec<i64> = store
        .lock()
        .prepare("SELECT state FROM jobs")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(states, [JobState::Failed.code()]);
}

#[test]
fn a_state_file_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timer.sqlite3");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = JobStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("timer.sqlite3"), "{err}");
}

fn any_spec() -> impl Strategy<Value = JobSpec> {
    prop_oneof![
        (".*", any::<u64>())
            .prop_map(|(dir, message_id)| JobSpec::DeferredSend { dir, message_id }),
        (".*", any::<u64>()).prop_map(|(dir, older_than_secs)| JobSpec::Maintenance {
            dir,
            action: MaintenanceAction::PurgeSoftdelete { older_than_secs },
        }),
        ".*".prop_map(|dir| JobSpec::Maintenance {
            dir,
            action: MaintenanceAction::PurgeDatafiles
        }),
        (prop::collection::vec(".*", 0..5), any::<u32>())
            .prop_map(|(argv, timeout_secs)| JobSpec::Command { argv, timeout_secs }),
    ]
}

#[test]
fn every_job_reads_back_as_it_was_stored() {
    let (_d, store) = open();
    proptest!(|(spec in any_spec(), due in any::<i64>())| {
        // Shrinking may repeat a deferred send; only new jobs are compared.
        let AddOutcome::Added(id) = store.add(due, &spec, NOW_MS).unwrap() else {
            return Ok(());
        };
        let job = store.get(id).unwrap().unwrap();
        prop_assert_eq!(job.spec, spec);
        prop_assert_eq!(job.due, due);
    });
}
