//! What a job is: its id, what it does, where it stands.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A job's id: assigned by the state file, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a job does when it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// Submit a stored message through `outgoing_smtp_url`, then move it to Sent Items.
    DeferredSend {
        /// The store holding the message.
        dir: String,
        /// The message's id within the store.
        message_id: u64,
    },
    /// Housekeeping of one store.
    Maintenance {
        /// The store.
        dir: String,
        /// What to do.
        action: MaintenanceAction,
    },
    /// A program on `timer_command_allow`, run without a shell.
    Command {
        /// The program (absolute path) and its arguments.
        argv: Vec<String>,
        /// Kill after this many seconds; 0 means `timer_command_timeout`.
        timeout_secs: u32,
    },
}

impl JobSpec {
    /// The kind's name as stored and logged: `deferred_send`, `maintenance`, `command`.
    pub fn kind(&self) -> &'static str {
        match self {
            JobSpec::DeferredSend { .. } => "deferred_send",
            JobSpec::Maintenance { .. } => "maintenance",
            JobSpec::Command { .. } => "command",
        }
    }

    /// The store the job concerns ("" for commands).
    pub fn dir(&self) -> &str {
        match self {
            JobSpec::DeferredSend { dir, .. } | JobSpec::Maintenance { dir, .. } => dir,
            JobSpec::Command { .. } => "",
        }
    }
}

/// The housekeeping a maintenance job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum MaintenanceAction {
    /// Remove soft-deleted messages and folders deleted longer ago than this.
    PurgeSoftdelete {
        /// Age in seconds; 0 purges every soft-deleted item.
        older_than_secs: u64,
    },
    /// Remove content files no message refers to any more.
    PurgeDatafiles,
}

impl MaintenanceAction {
    /// The wire names of every action, for error messages.
    pub const NAMES: &'static [&'static str] = &["purge-softdelete", "purge-datafiles"];

    /// The action named `name` (wire form) with its argument.
    pub fn parse(name: &str, older_than_secs: u64) -> Option<MaintenanceAction> {
        match name {
            "purge-softdelete" => Some(MaintenanceAction::PurgeSoftdelete { older_than_secs }),
            "purge-datafiles" => Some(MaintenanceAction::PurgeDatafiles),
            _ => None,
        }
    }

    /// The wire name.
    pub fn name(&self) -> &'static str {
        match self {
            MaintenanceAction::PurgeSoftdelete { .. } => "purge-softdelete",
            MaintenanceAction::PurgeDatafiles => "purge-datafiles",
        }
    }

    /// The age argument (0 when the action has none).
    pub fn older_than_secs(&self) -> u64 {
        match self {
            MaintenanceAction::PurgeSoftdelete { older_than_secs } => *older_than_secs,
            MaintenanceAction::PurgeDatafiles => 0,
        }
    }
}

/// Where a job stands. The numbers are the state file's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for its due time or its next attempt.
    Pending = 1,
    /// An attempt is under way (or was, when the daemon stopped).
    Running = 2,
    /// Finished successfully.
    Done = 3,
    /// Finished unsuccessfully; `result` says why.
    Failed = 4,
    /// Cancelled before it ran.
    Cancelled = 5,
}

impl JobState {
    /// Every state, in encoding order.
    pub const ALL: [JobState; 5] = [
        JobState::Pending,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The stored number.
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The state stored as `code`.
    pub fn from_code(code: i64) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the job will not run (again).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }

    /// Lower-case name for logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// How far a deferred send got, recorded durably between its steps so that
/// a rerun never submits the message twice (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendStage {
    /// Nothing was handed to the relay (or a hand-over definitely failed).
    NotSubmitted = 0,
    /// A hand-over to the relay began and its outcome was not recorded.
    Submitting = 1,
    /// The relay accepted the message; it still has to go to Sent Items.
    Submitted = 2,
}

impl SendStage {
    /// The stored number.
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The stage stored as `code`.
    pub fn from_code(code: i64) -> Option<SendStage> {
        match code {
            0 => Some(SendStage::NotSubmitted),
            1 => Some(SendStage::Submitting),
            2 => Some(SendStage::Submitted),
            _ => None,
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// Unix time (seconds) it was asked to run at.
    pub due: i64,
    /// What it does.
    pub spec: JobSpec,
    /// Where it stands.
    pub state: JobState,
    /// Attempts started so far.
    pub attempts: u32,
    /// The outcome, or the last error while it is retried.
    pub result: String,
    /// Unix time (seconds) it was added.
    pub created: i64,
    /// Unix time (seconds) it reached a final state; 0 before.
    pub finished: i64,
    /// Unix time (milliseconds) of its next attempt while pending.
    pub run_at_ms: i64,
    /// Progress of a deferred send (always `NotSubmitted` for other kinds).
    pub send_stage: SendStage,
    /// The note recorded with the send stage (the relay's receipt once submitted).
    pub send_note: String,
}
