//! Deferred send: submit a stored message, then file it in Sent Items,
//! with durable markers in between so that a rerun never submits twice.
//!
//! The protocol (crash windows in the crate docs):
//! 1. stage `Submitted` recorded → skip to 4 (the relay already has it);
//! 2. stage `Submitting` recorded → a previous attempt began a hand-over
//!    whose outcome is unknown: fail without resending;
//! 3. record `Submitting` durably, hand the message to the relay; accepted →
//!    record `Submitted` durably; definitely not accepted → back to
//!    `NotSubmitted` and retry or fail; outcome unknown → fail, no resend;
//! 4. move the message to Sent Items (idempotent: a message already there is
//!    fine), then the scheduler records the job done.

use crate::crash::{CrashHooks, CrashPoint};
use crate::exec::{BoxFuture, ExecEnv, Outcome};
use crate::job::{Job, SendStage};

/// Why a step of a deferred send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// It will not work by retrying: no such message, no recipients, the
    /// relay refused it (5xx).
    #[error("{0}")]
    Permanent(String),
    /// Nothing was accepted, and it may work later: the store or the relay
    /// is unreachable, the relay answered 4xx.
    #[error("{0}")]
    Transient(String),
    /// The relay may have accepted the message: the connection broke after
    /// the whole message was sent and before the relay's answer arrived.
    #[error("{0}")]
    Uncertain(String),
}

/// The store and relay side of a deferred send.
pub trait DeferredSender: Send + Sync {
    /// Reads message `message_id` of store `dir` and hands it to the relay
    /// (`outgoing_smtp_url`). `Ok` means the relay accepted it; the text
    /// identifies the submission for the job's result (Message-ID, queue id).
    fn submit<'a>(
        &'a self,
        dir: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, Result<String, SendError>>;

    /// Moves the (submitted) message to the store's Sent Items. Must be
    /// idempotent: a message already in Sent Items is success. `Ok` carries a
    /// note for the result.
    fn file_as_sent<'a>(
        &'a self,
        dir: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, Result<String, SendError>>;
}

/// The result of a job whose earlier attempt was interrupted mid-hand-over.
pub const UNCERTAIN_RESULT: &str = "not resent: an earlier attempt was interrupted while handing the message to the relay, \
     which may have accepted it (never sending twice wins over sending; check the relay's log, then send again by hand)";

/// Runs one attempt of the deferred send of `message_id` in `dir`.
pub async fn run_deferred_send(
    sender: &dyn DeferredSender,
    job: &Job,
    dir: &str,
    message_id: u64,
    env: &ExecEnv,
    crash: CrashHooks,
) -> Outcome {
    let id = job.id;
    let record = |stage: SendStage, note: String| {
        env.store.call(move |s| s.set_send_stage(id, stage, &note))
    };
    let submitted = match job.send_stage {
        SendStage::Submitting => return Outcome::Failed(UNCERTAIN_RESULT.to_string()),
        SendStage::Submitted => job.send_note.clone(),
        SendStage::NotSubmitted => {
            if let Err(e) = record(SendStage::Submitting, "handing over to the relay".into()).await
            {
                return Outcome::Retry(format!("not sent: cannot record the hand-over: {e}"));
            }
            match sender.submit(dir, message_id).await {
                Ok(receipt) => {
                    crash.hit(CrashPoint::AfterSubmit);
                    if let Err(e) = record(SendStage::Submitted, receipt.clone()).await {
                        tracing::error!(job = %id, dir, message_id, error = %e, "sent, but the state file did not record it");
                        return Outcome::Failed(format!(
                            "sent ({receipt}) but the state file did not record it ({e}); not moved to Sent Items"
                        ));
                    }
                    crash.hit(CrashPoint::AfterSubmitted);
                    receipt
                }
                Err(SendError::Uncertain(m)) => {
                    return Outcome::Failed(format!(
                        "{m}; the relay may have accepted the message, so it is not resent"
                    ));
                }
                Err(e) => {
                    // Definitely not accepted: a later attempt may send.
                    if let Err(re) = record(SendStage::NotSubmitted, format!("not sent: {e}")).await
                    {
                        return Outcome::Failed(format!(
                            "not sent: {e}; not retried because the state file failed: {re}"
                        ));
                    }
                    return match e {
                        SendError::Transient(m) => Outcome::Retry(format!("not sent: {m}")),
                        SendError::Permanent(m) | SendError::Uncertain(m) => {
                            Outcome::Failed(format!("not sent: {m}"))
                        }
                    };
                }
            }
        }
    };
    match sender.file_as_sent(dir, message_id).await {
        Ok(note) => {
            crash.hit(CrashPoint::AfterFiled);
            Outcome::Done(format!("sent ({submitted}); {note}"))
        }
        Err(SendError::Transient(m) | SendError::Uncertain(m)) => Outcome::Retry(format!(
            "sent ({submitted}); moving it to Sent Items failed: {m}"
        )),
        Err(SendError::Permanent(m)) => {
            Outcome::Done(format!("sent ({submitted}); not moved to Sent Items: {m}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_ms;
    use crate::exec::Dispatcher;
    use crate::job::{JobId, JobSpec, JobState};
    use crate::limits::TimerLimits;
    use crate::maintenance::NoMaintenance;
    use crate::scheduler::attempt;
    use crate::store::{AddOutcome, JobStore, Lane};
    use crate::testing::{FakeSender, Hang};
    use std::sync::Arc;
    use std::time::Duration;

    struct Rig {
        _dir: tempfile::TempDir,
        store: JobStore,
        sender: Arc<FakeSender>,
        dispatcher: Arc<Dispatcher>,
        id: JobId,
    }

    fn rig() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(&dir.path().join("timer.sqlite3")).unwrap();
        let spec = JobSpec::DeferredSend {
            dir: "/s/a".into(),
            message_id: 7,
        };
        let AddOutcome::Added(id) = store.add(0, &spec, now_ms()).unwrap() else {
            panic!("not added");
        };
        let sender = FakeSender::new();
        let dispatcher = Arc::new(Dispatcher::new(
            sender.clone(),
            Arc::new(NoMaintenance),
            CrashHooks::none(),
        ));
        Rig {
            _dir: dir,
            store,
            sender,
            dispatcher,
            id,
        }
    }

    fn limits() -> Arc<TimerLimits> {
        // Retries are due at once, so a test can run them straight away.
        Arc::new(TimerLimits {
            retry_delay: Duration::ZERO,
            ..TimerLimits::default()
        })
    }

    impl Rig {
        /// One attempt, as the scheduler runs it; false when the job was not due.
        async fn attempt(&self) -> bool {
            let Some(job) = self.store.claim(now_ms(), Lane::Oldest).unwrap() else {
                return false;
            };
            attempt(self.store.clone(), self.dispatcher.clone(), job, limits()).await;
            true
        }

        /// One attempt during which the process "dies" at `hang`, then the restart's recovery.
        async fn attempt_and_crash(&self, hang: Hang) {
            self.sender.hang_at(hang);
            tokio::select! {
                _ = self.attempt() => panic!("the attempt finished instead of hanging at {hang:?}"),
                _ = self.sender.hung() => {}
            }
            self.store.recover(now_ms()).unwrap();
        }

        fn job(&self) -> crate::job::Job {
            self.store.get(self.id).unwrap().unwrap()
        }
    }

    #[tokio::test]
    async fn a_deferred_send_is_submitted_once_and_filed() {
        let r = rig();
        assert!(r.attempt().await);
        let job = r.job();
        assert_eq!(job.state, JobState::Done);
        assert_eq!(job.result, "sent (250 queued as Q1); moved to Sent Items");
        assert_eq!(job.send_stage, SendStage::Submitted);
        assert_eq!(r.sender.accepted(), [("/s/a".to_string(), 7)]);
        assert_eq!(r.sender.filed(), [("/s/a".to_string(), 7)]);
    }

    #[tokio::test]
    async fn a_crash_at_any_step_never_sends_twice() {
        // (where the process dies, final state, times the relay got it, result contains)
        let cases = [
            (Hang::SubmitBeforeAccept, JobState::Failed, 0, "not resent"),
            (Hang::SubmitAfterAccept, JobState::Failed, 1, "not resent"),
            (
                Hang::FileBeforeMove,
                JobState::Done,
                1,
                "sent (250 queued as Q1); moved to Sent Items",
            ),
            (
                Hang::FileAfterMove,
                JobState::Done,
                1,
                "sent (250 queued as Q1); already in Sent Items",
            ),
        ];
        for (hang, state, sent, result) in cases {
            let r = rig();
            r.attempt_and_crash(hang).await;
            assert_eq!(
                r.job().state,
                JobState::Pending,
                "{hang:?}: re-armed after the crash"
            );
            // The restarted daemon runs it again (and again, had it more tries).
            while r.attempt().await {}
            let job = r.job();
            assert_eq!(job.state, state, "{hang:?}: {}", job.result);
            assert_eq!(r.sender.accepted().len(), sent, "{hang:?}");
            assert!(job.result.contains(result), "{hang:?}: {}", job.result);
            assert_eq!(job.attempts, 2, "{hang:?}");
        }
    }

    #[tokio::test]
    async fn refusals_that_prove_nothing_was_sent_are_retried_or_failed() {
        let r = rig();
        r.sender
            .fail_submits([SendError::Transient("relay: 421 try later".into())]);
        assert!(r.attempt().await);
        let job = r.job();
        assert_eq!(
            (job.state, job.send_stage),
            (JobState::Pending, SendStage::NotSubmitted)
        );
        assert!(
            job.result.contains("attempt 1 of 11 failed"),
            "{}",
            job.result
        );
        assert!(
            job.result.contains("not sent: relay: 421 try later"),
            "{}",
            job.result
        );
        assert!(r.attempt().await);
        assert_eq!(r.job().state, JobState::Done);
        assert_eq!(r.sender.accepted().len(), 1);

        let r = rig();
        r.sender
            .fail_submits([SendError::Permanent("relay: 550 no such user".into())]);
        assert!(r.attempt().await);
        let job = r.job();
        assert_eq!(job.state, JobState::Failed);
        assert_eq!(job.result, "not sent: relay: 550 no such user");
        assert!(!r.attempt().await, "a failed job does not run again");
        assert!(r.sender.accepted().is_empty());
    }

    #[tokio::test]
    async fn a_lost_relay_answer_fails_the_job_without_resending() {
        let r = rig();
        r.sender
            .fail_submits([SendError::Uncertain("connection reset after DATA".into())]);
        assert!(r.attempt().await);
        let job = r.job();
        assert_eq!(
            (job.state, job.send_stage),
            (JobState::Failed, SendStage::Submitting)
        );
        assert!(
            job.result.contains("connection reset after DATA"),
            "{}",
            job.result
        );
        assert!(job.result.contains("not resent"), "{}", job.result);
    }

    #[tokio::test]
    async fn a_failed_move_is_retried_without_sending_again() {
        let r = rig();
        r.sender
            .fail_filings([SendError::Transient("store busy".into())]);
        assert!(r.attempt().await);
        let job = r.job();
        assert_eq!(
            (job.state, job.send_stage),
            (JobState::Pending, SendStage::Submitted)
        );
        assert!(
            job.result
                .contains("sent (250 queued as Q1); moving it to Sent Items failed: store busy"),
            "{}",
            job.result
        );
        assert!(r.attempt().await);
        let job = r.job();
        assert_eq!(job.state, JobState::Done);
        assert_eq!(job.result, "sent (250 queued as Q1); moved to Sent Items");
        assert_eq!(r.sender.accepted().len(), 1);

        let r = rig();
        r.sender
            .fail_filings([SendError::Permanent("no such message".into())]);
        assert!(r.attempt().await);
        let job = r.job();
        assert_eq!(job.state, JobState::Done);
        assert_eq!(
            job.result,
            "sent (250 queued as Q1); not moved to Sent Items: no such message"
        );
    }
}
