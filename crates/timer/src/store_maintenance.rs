//! The production maintenance: the store's housekeeping RPCs of groxide-exmdb.

use crate::exec::BoxFuture;
use crate::job::MaintenanceAction;
use crate::maintenance::{MaintenanceError, StoreMaintenance};
use groxide_rpc::RpcError;
use groxide_rpc::exmdb_client::ExmdbClient;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use std::sync::Arc;

/// Maintenance through groxide-exmdb (routed to the store's home).
pub struct ExmdbMaintenance {
    exmdb: Arc<ExmdbClient>,
}

impl ExmdbMaintenance {
    /// Maintenance reaching stores through `exmdb`.
    pub fn new(exmdb: Arc<ExmdbClient>) -> ExmdbMaintenance {
        ExmdbMaintenance { exmdb }
    }

    async fn run_action(
        &self,
        dir: &str,
        action: &MaintenanceAction,
    ) -> Result<String, MaintenanceError> {
        let failed = |e: RpcError| {
            let text = format!("{} of {dir}: {e}", action.name());
            match e.reason() {
                Some(Reason::NoSuchStore) => MaintenanceError::Permanent(text),
                _ if e.is_retryable() => MaintenanceError::Transient(text),
                _ => MaintenanceError::Permanent(text),
            }
        };
        match action {
            MaintenanceAction::PurgeSoftdelete { older_than_secs } => {
                let r = self
                    .exmdb
                    .purge_soft_deleted(pb::PurgeSoftDeletedRequest {
                        dir: dir.to_string(),
                        older_than_seconds: *older_than_secs,
                    })
                    .await
                    .map_err(failed)?;
                Ok(format!(
                    "purged {} messages and {} folders soft-deleted more than {older_than_secs}s ago",
                    r.messages, r.folders
                ))
            }
            MaintenanceAction::PurgeDatafiles => {
                let r = self
                    .exmdb
                    .purge_content(pb::StoreRequest {
                        dir: dir.to_string(),
                    })
                    .await
                    .map_err(failed)?;
                Ok(format!(
                    "removed {} unreferenced content files",
                    r.removed_files
                ))
            }
        }
    }
}

impl StoreMaintenance for ExmdbMaintenance {
    fn run<'a>(
        &'a self,
        dir: &'a str,
        action: &'a MaintenanceAction,
    ) -> BoxFuture<'a, Result<String, MaintenanceError>> {
        Box::pin(self.run_action(dir, action))
    }
}
