//! The handle a daemon gets from the runtime: its current config, reloads,
//! the shutdown token and the readiness call.

use groxide_config::Config;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Everything a daemon's `run` needs from the runtime. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    name: &'static str,
    config: watch::Receiver<Arc<Config>>,
    shutdown: CancellationToken,
}

impl Context {
    /// A context outside the runtime (tests starting a daemon in-process): the
    /// caller keeps the sender to simulate reloads and cancels `shutdown` to stop.
    pub fn new(
        name: &'static str,
        config: watch::Receiver<Arc<Config>>,
        shutdown: CancellationToken,
    ) -> Context {
        Context {
            name,
            config,
            shutdown,
        }
    }

    /// The daemon's short name, e.g. `exmdb`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }

    /// A receiver that changes after every successful SIGHUP reload.
    pub fn reloads(&self) -> watch::Receiver<Arc<Config>> {
        self.config.clone()
    }

    /// Runs `hook` with the new config after every successful reload, until
    /// shutdown. Use it to swap ACLs, routing tables and caches.
    pub fn on_reload<F>(&self, hook: F)
    where
        F: Fn(&Config) + Send + 'static,
    {
        let mut rx = self.config.clone();
        rx.mark_unchanged();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    changed = rx.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        let cfg = rx.borrow_and_update().clone();
                        hook(&cfg);
                    }
                }
            }
        });
    }

    /// Cancelled when the daemon must stop (SIGTERM/SIGINT).
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Tells systemd (and the log) that the daemon is serving.
    pub fn notify_ready(&self) {
        tracing::info!(daemon = self.name, "ready");
        crate::notify::ready();
    }
}
