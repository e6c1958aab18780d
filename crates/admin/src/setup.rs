//! What the commands work with: the config, the directory, and the routed
//! client of the exmdb that holds a store.

use crate::failure::{Failure, exit};
use groxide_config::keys::shared;
use groxide_config::{Config, MysqlAdaptor};
use groxide_directory::{Directory, DirectorySettings};
use groxide_routing::HomeserverLookup;
use groxide_rpc::RoutedClient;
use groxide_runtime::{Routing, client_options};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The loaded config and the open directory.
pub(crate) struct Setup {
    pub config: Config<MysqlAdaptor>,
    pub directory: Directory,
}

/// groxide.cfg and mysql_adaptor.cfg of `dir`; warnings go to stderr.
pub(crate) fn load_config(dir: &Path) -> Result<Config<MysqlAdaptor>, Failure> {
    match Config::<MysqlAdaptor>::load(dir) {
        Ok((config, warnings)) => {
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            Ok(config)
        }
        Err(errors) => Err(Failure::new(exit::CONFIG, errors.to_string())),
    }
}

impl Setup {
    /// Loads the config of `dir` and connects to its directory.
    pub(crate) async fn open(dir: &Path) -> Result<Setup, Failure> {
        let config = load_config(dir)?;
        let settings = DirectorySettings::from_config(&config)
            .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
        let directory = Directory::connect(&settings).await?;
        Ok(Setup { config, directory })
    }

    /// `data_path`: mailboxes live below it.
    pub(crate) fn data_path(&self) -> PathBuf {
        self.config.get(shared::DATA_PATH)
    }

    /// A client of groxide-exmdb that routes by store directory, asking this
    /// directory for homeservers first.
    pub(crate) fn exmdb(&self) -> Result<RoutedClient, Failure> {
        let lookup: Arc<dyn HomeserverLookup> = Arc::new(self.directory.clone());
        let routing =
            Routing::load(&self.config, Some(lookup)).map_err(|e| Failure::new(exit::CONFIG, e))?;
        let options = client_options(&self.config, routing.node())
            .map_err(|e| Failure::new(exit::CONFIG, e))?;
        Ok(RoutedClient::new("exmdb", routing.exmdb().clone(), options))
    }

    /// The typed exmdb client (same routing as [`Setup::exmdb`]).
    pub(crate) fn exmdb_client(&self) -> Result<groxide_rpc::ExmdbClient, Failure> {
        let lookup: Arc<dyn HomeserverLookup> = Arc::new(self.directory.clone());
        let routing =
            Routing::load(&self.config, Some(lookup)).map_err(|e| Failure::new(exit::CONFIG, e))?;
        let options = client_options(&self.config, routing.node())
            .map_err(|e| Failure::new(exit::CONFIG, e))?;
        Ok(groxide_rpc::ExmdbClient::new(
            routing.exmdb().clone(),
            options,
        ))
    }
}
