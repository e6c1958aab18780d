//! Store maintenance jobs: the interface to the store's housekeeping.

use crate::exec::BoxFuture;
use crate::job::MaintenanceAction;

/// Why a maintenance job failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaintenanceError {
    /// It will not work by retrying (no such store, action refused).
    #[error("{0}")]
    Permanent(String),
    /// It may work later (store unreachable, busy).
    #[error("{0}")]
    Transient(String),
}

/// Runs housekeeping actions on a store.
pub trait StoreMaintenance: Send + Sync {
    /// Runs `action` on store `dir`; `Ok` carries a summary for the job's
    /// result ("purged 12 messages").
    fn run<'a>(
        &'a self,
        dir: &'a str,
        action: &'a MaintenanceAction,
    ) -> BoxFuture<'a, Result<String, MaintenanceError>>;
}

/// Maintenance that is not available: every attempt fails (tests of other kinds).
#[derive(Debug, Clone, Default)]
pub struct NoMaintenance;

impl StoreMaintenance for NoMaintenance {
    fn run<'a>(
        &'a self,
        _: &'a str,
        action: &'a MaintenanceAction,
    ) -> BoxFuture<'a, Result<String, MaintenanceError>> {
        Box::pin(async move {
            Err(MaintenanceError::Permanent(format!(
                "{} is not available in this groxide-timer",
                action.name()
            )))
        })
    }
}
