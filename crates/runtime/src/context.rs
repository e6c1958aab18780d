//! The handle a daemon gets from the runtime: its current config, reloads,
//! the shutdown token and the readiness call.

use groxide_config::{Config, ConfigFile};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Everything a daemon's `run` needs from the runtime. Cheap to clone.
///
/// `F` is the daemon's config file ([`groxide_config::Midb`], …): its
/// config reads that file's keys and groxide.cfg's.
pub struct Context<F: ConfigFile> {
    name: &'static str,
    config: watch::Receiver<Arc<Config<F>>>,
    shutdown: CancellationToken,
    applied: ReloadAcks<F>,
}

impl<F: ConfigFile> Clone for Context<F> {
    fn clone(&self) -> Self {
        Context {
            name: self.name,
            config: self.config.clone(),
            shutdown: self.shutdown.clone(),
            applied: self.applied.clone(),
        }
    }
}

/// Each reload hook's last applied configuration, so the runtime can say
/// "configuration reloaded" only once every hook has run with it.
pub struct ReloadAcks<F: ConfigFile>(Arc<Mutex<Vec<Applied<F>>>>);

/// One hook's last applied configuration.
type Applied<F> = watch::Receiver<Arc<Config<F>>>;

impl<F: ConfigFile> Clone for ReloadAcks<F> {
    fn clone(&self) -> Self {
        ReloadAcks(self.0.clone())
    }
}

impl<F: ConfigFile> Default for ReloadAcks<F> {
    fn default() -> Self {
        ReloadAcks(Arc::default())
    }
}

impl<F: ConfigFile> ReloadAcks<F> {
    fn register(&self, rx: Applied<F>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(rx);
    }

    /// Returns once every hook still running has applied `config` (a hook
    /// whose task ended, at shutdown, no longer counts).
    pub async fn applied(&self, config: &Arc<Config<F>>) {
        let hooks = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for mut hook in hooks {
            let _ = hook.wait_for(|c| Arc::ptr_eq(c, config)).await;
        }
    }
}

impl<F: ConfigFile> Context<F> {
    /// A context outside the runtime (tests starting a daemon in-process): the
    /// caller keeps the sender to simulate reloads and cancels `shutdown` to stop.
    pub fn new(
        name: &'static str,
        config: watch::Receiver<Arc<Config<F>>>,
        shutdown: CancellationToken,
    ) -> Context<F> {
        Context {
            name,
            config,
            shutdown,
            applied: ReloadAcks::default(),
        }
    }

    /// Lets the caller that sends reloads wait until every hook has run.
    pub fn reload_acks(&self) -> ReloadAcks<F> {
        self.applied.clone()
    }

    /// The daemon's short name, e.g. `exmdb`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config<F>> {
        self.config.borrow().clone()
    }

    /// A receiver that changes after every successful SIGHUP reload.
    pub fn reloads(&self) -> watch::Receiver<Arc<Config<F>>> {
        self.config.clone()
    }

    /// Runs `hook` with the new config after every successful reload, until
    /// shutdown. Use it to swap ACLs, routing tables and caches.
    pub fn on_reload<H>(&self, hook: H)
    where
        H: Fn(&Config<F>) + Send + 'static,
    {
        let mut rx = self.config.clone();
        rx.mark_unchanged();
        let (ack, acks) = watch::channel(rx.borrow().clone());
        self.applied.register(acks);
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
                        let _ = ack.send(cfg);
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

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_config::Shared;
    use std::path::Path;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    fn config(level: &str) -> Arc<Config<Shared>> {
        let text = format!("log_level = {level}\n");
        Arc::new(
            Config::from_str_for_tests(Path::new("/nonexistent"), &text, "")
                .expect("config")
                .0,
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reload_counts_as_applied_only_after_every_hook_ran_with_it() {
        let (tx, rx) = watch::channel(config("info"));
        let ctx = Context::new("test", rx, CancellationToken::new());
        let runs = Arc::new(AtomicU32::new(0));
        for _ in 0..2 {
            let runs = runs.clone();
            ctx.on_reload(move |_| {
                // A slow hook: the caller must still wait for it.
                std::thread::sleep(Duration::from_millis(100));
                runs.fetch_add(1, Ordering::SeqCst);
            });
        }
        let next = config("debug");
        tx.send(next.clone()).expect("send");
        tokio::time::timeout(Duration::from_secs(10), ctx.reload_acks().applied(&next))
            .await
            .expect("hooks acknowledged");
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn hooks_that_ended_at_shutdown_do_not_hold_a_reload() {
        let (tx, rx) = watch::channel(config("info"));
        let stop = CancellationToken::new();
        let ctx = Context::new("test", rx, stop.clone());
        ctx.on_reload(|_| {});
        stop.cancel();
        tokio::task::yield_now().await;
        let next = config("debug");
        let _ = tx.send(next.clone());
        tokio::time::timeout(Duration::from_secs(10), ctx.reload_acks().applied(&next))
            .await
            .expect("an ended hook is not waited for");
    }
}
