//! Change hints for Ping: one groxide-event subscription per store with
//! waiting devices (at the event service of the store's home node), fanned
//! out to the waiters through a broadcast channel. A waiting Ping holds a
//! receiver and a timer, no thread and no store handle; the subscription
//! ends when its last waiter does. After a gap (the subscription broke, a
//! queue overflowed) waiters get [`Hint::Resync`] and look again.

use groxide_rpc::pb::event::v1::{
    SubscribeRequest, event_client::EventClient, subscribe_reply::Event,
};
use groxide_rpc::{ChannelPool, ClientOptions};
use groxide_runtime::Routing;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

/// Hints buffered per store before slow waiters get a resync instead.
const QUEUE: usize = 64;
/// How long a new subscription may take before a Ping goes on without it.
const READY_WAIT: Duration = Duration::from_secs(2);
const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(15);
/// How often an idle subscription checks whether anyone still waits.
const LISTENER_CHECK: Duration = Duration::from_secs(10);

/// A change hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// Something changed in this folder (0: store-wide).
    Folder(u64),
    /// Hints may have been lost: look at everything.
    Resync,
}

/// The subscriptions of this process.
pub(crate) struct EventHub {
    routing: Arc<Routing>,
    pool: ChannelPool,
    feeds: Mutex<HashMap<String, broadcast::Sender<Hint>>>,
    reloads: tokio::sync::watch::Sender<u64>,
}

impl EventHub {
    pub(crate) fn new(routing: Arc<Routing>, options: ClientOptions) -> Arc<EventHub> {
        Arc::new(EventHub {
            routing,
            pool: ChannelPool::new("event", options),
            feeds: Mutex::new(HashMap::new()),
            reloads: tokio::sync::watch::Sender::new(0),
        })
    }

    fn feeds(&self) -> MutexGuard<'_, HashMap<String, broadcast::Sender<Hint>>> {
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Re-makes every subscription at the stores' (possibly new) homes.
    pub(crate) fn reset(&self) {
        self.pool.clear();
        self.reloads.send_modify(|g| *g += 1);
    }

    /// A receiver of the hints of `dir`, live when this returns (or after
    /// a short wait, with a resync to follow).
    pub(crate) async fn watch(self: &Arc<Self>, dir: &str) -> broadcast::Receiver<Hint> {
        let (rx, ready) = {
            let mut feeds = self.feeds();
            if let Some(tx) = feeds.get(dir) {
                (tx.subscribe(), None)
            } else {
                let (tx, rx) = broadcast::channel(QUEUE);
                feeds.insert(dir.to_owned(), tx.clone());
                let (ready_tx, ready_rx) = oneshot::channel();
                let hub = self.clone();
                let dir = dir.to_owned();
                tokio::spawn(async move { hub.follow(dir, tx, ready_tx).await });
                (rx, Some(ready_rx))
            }
        };
        if let Some(ready) = ready {
            let _ = tokio::time::timeout(READY_WAIT, ready).await;
        }
        rx
    }

    fn retire(&self, dir: &str, tx: &broadcast::Sender<Hint>) -> bool {
        let mut feeds = self.feeds();
        if tx.receiver_count() > 0 {
            return false;
        }
        if feeds.get(dir).is_some_and(|t| t.same_channel(tx)) {
            feeds.remove(dir);
        }
        true
    }

    async fn follow(
        self: Arc<Self>,
        dir: String,
        tx: broadcast::Sender<Hint>,
        ready: oneshot::Sender<()>,
    ) {
        let mut ready = Some(ready);
        let mut delay = RETRY_MIN;
        loop {
            if tx.receiver_count() == 0 && self.retire(&dir, &tx) {
                return;
            }
            match self.subscribe_once(&dir, &tx, &mut ready).await {
                Ok(()) => delay = RETRY_MIN,
                Err(e) => {
                    tracing::info!(dir, error = %e, "ActiveSync event subscription failed; retrying");
                    let _ = tx.send(Hint::Resync);
                }
            }
            if let Some(r) = ready.take() {
                let _ = r.send(());
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RETRY_MAX);
        }
    }

    async fn subscribe_once(
        &self,
        dir: &str,
        tx: &broadcast::Sender<Hint>,
        ready: &mut Option<oneshot::Sender<()>>,
    ) -> Result<(), String> {
        let mut reloads = self.reloads.subscribe();
        let route = self
            .routing
            .exmdb()
            .resolve(dir)
            .await
            .map_err(|e| e.to_string())?;
        let node = self.routing.event_node(&route);
        let channel = self.pool.get(&node).map_err(|e| e.to_string())?;
        let mut stream = EventClient::new(channel)
            .subscribe(SubscribeRequest {
                dir: dir.to_owned(),
                folder: 0,
            })
            .await
            .map_err(|s| format!("{node}: {}", s.message()))?
            .into_inner();
        let mut check = tokio::time::interval(LISTENER_CHECK);
        check.tick().await;
        loop {
            let next = tokio::select! {
                m = stream.message() => m,
                _ = reloads.changed() => return Ok(()),
                _ = check.tick() => {
                    if tx.receiver_count() == 0 && self.retire(dir, tx) {
                        return Ok(());
                    }
                    continue;
                }
            };
            match next {
                Ok(Some(reply)) => match reply.event {
                    Some(Event::Subscribed(_)) => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                        // Anything may have happened before this subscription.
                        let _ = tx.send(Hint::Resync);
                    }
                    Some(Event::Notification(n)) => {
                        let _ = tx.send(Hint::Folder(n.folder));
                    }
                    Some(Event::Resync(_)) => {
                        let _ = tx.send(Hint::Resync);
                    }
                    None => {}
                },
                Ok(None) => return Err(format!("{node}: subscription ended")),
                Err(s) => return Err(format!("{node}: {}", s.message())),
            }
            if tx.receiver_count() == 0 && self.retire(dir, tx) {
                return Ok(());
            }
        }
    }
}
