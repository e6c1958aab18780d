//! Change hints from groxide-event, shared by all sessions of a store: one
//! subscription per store at the event service of the store's home node
//! (events follow the mailbox), fanned out to the sessions through a
//! broadcast channel. A broken subscription is re-made with back-off; after
//! any gap every watcher gets [`StoreEvent::Resync`] and catches up by
//! MODSEQ. The subscription ends when its last session does.

use super::{EventWatch, StoreEvent, ViewError};
use groxide_rpc::pb::event::v1::{
    SubscribeRequest, event_client::EventClient, subscribe_reply::Event,
};
use groxide_rpc::{ChannelPool, ClientOptions};
use groxide_runtime::Routing;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

/// Hints buffered per store before slow sessions get a resync instead.
const QUEUE: usize = 64;
/// How long a new subscription may take before a session goes on without it.
const READY_WAIT: Duration = Duration::from_secs(2);
/// Back-off between attempts to re-subscribe.
const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(15);
/// How often an idle subscription checks whether anyone still listens.
const LISTENER_CHECK: Duration = Duration::from_secs(30);

struct Feed {
    tx: broadcast::Sender<StoreEvent>,
}

/// The subscriptions of this process.
pub struct EventHub {
    routing: Arc<Routing>,
    pool: ChannelPool,
    feeds: Mutex<HashMap<String, Arc<Feed>>>,
    /// Bumped by [`EventHub::reset`]: every live subscription ends and is
    /// made again at the store's (possibly new) home.
    reloads: tokio::sync::watch::Sender<u64>,
}

impl EventHub {
    /// A hub resolving event nodes through `routing`.
    pub fn new(routing: Arc<Routing>, options: ClientOptions) -> Arc<EventHub> {
        Arc::new(EventHub {
            routing,
            pool: ChannelPool::new("event", options),
            feeds: Mutex::new(HashMap::new()),
            reloads: tokio::sync::watch::Sender::new(0),
        })
    }

    fn feeds(&self) -> MutexGuard<'_, HashMap<String, Arc<Feed>>> {
        self.feeds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores with a live subscription (metrics, tests).
    pub fn subscriptions(&self) -> usize {
        self.feeds().len()
    }

    /// Drops pooled connections and re-makes every subscription (SIGHUP):
    /// after a failover or rebalance a store's events come from its new home.
    pub fn reset(&self) {
        self.pool.clear();
        self.reloads.send_modify(|generation| *generation += 1);
    }

    /// A receiver of the hints of `dir`. When the store had no subscription
    /// yet, waits (briefly) until it is live.
    pub async fn watch(self: &Arc<Self>, dir: &str) -> Result<EventWatch, ViewError> {
        let (rx, ready) = {
            let mut feeds = self.feeds();
            if let Some(feed) = feeds.get(dir) {
                (feed.tx.subscribe(), None)
            } else {
                let (tx, rx) = broadcast::channel(QUEUE);
                let feed = Arc::new(Feed { tx });
                feeds.insert(dir.to_owned(), feed.clone());
                let (ready_tx, ready_rx) = oneshot::channel();
                let hub = self.clone();
                let dir = dir.to_owned();
                tokio::spawn(async move { hub.follow(dir, feed, ready_tx).await });
                (rx, Some(ready_rx))
            }
        };
        if let Some(ready) = ready
            && tokio::time::timeout(READY_WAIT, ready).await.is_err()
        {
            tracing::info!(dir, "event subscription not live yet; resync will follow");
        }
        Ok(rx)
    }

    /// Keeps one store's subscription alive while anyone listens.
    async fn follow(self: Arc<Self>, dir: String, feed: Arc<Feed>, ready: oneshot::Sender<()>) {
        let mut ready = Some(ready);
        let mut delay = RETRY_MIN;
        let mut first = true;
        loop {
            if feed.tx.receiver_count() == 0 && self.retire(&dir, &feed) {
                return;
            }
            match self.subscribe_once(&dir, &feed, &mut ready, first).await {
                Ok(()) => delay = RETRY_MIN,
                Err(e) => {
                    tracing::info!(dir, error = %e, "event subscription failed; retrying");
                    // Watchers must not rely on hints while there are none.
                    let _ = feed.tx.send(StoreEvent::Resync);
                }
            }
            if let Some(r) = ready.take() {
                let _ = r.send(());
            }
            first = false;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RETRY_MAX);
        }
    }

    /// Removes the feed when nobody listens; false when someone subscribed meanwhile.
    fn retire(&self, dir: &str, feed: &Arc<Feed>) -> bool {
        let mut feeds = self.feeds();
        if feed.tx.receiver_count() > 0 {
            return false;
        }
        if feeds.get(dir).is_some_and(|f| Arc::ptr_eq(f, feed)) {
            feeds.remove(dir);
        }
        true
    }

    /// One subscription until it breaks or nobody listens.
    async fn subscribe_once(
        &self,
        dir: &str,
        feed: &Arc<Feed>,
        ready: &mut Option<oneshot::Sender<()>>,
        first: bool,
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
                // Re-made by the caller; the new subscription starts with a resync.
                _ = reloads.changed() => return Ok(()),
                _ = check.tick() => {
                    if feed.tx.receiver_count() == 0 && self.retire(dir, feed) {
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
                        if !first {
                            // Anything may have happened while unsubscribed.
                            let _ = feed.tx.send(StoreEvent::Resync);
                        }
                    }
                    Some(Event::Notification(n)) => {
                        let _ = feed.tx.send(StoreEvent::Changed {
                            folder: n.folder,
                            change_number: n.change_number,
                        });
                    }
                    Some(Event::Resync(_)) => {
                        let _ = feed.tx.send(StoreEvent::Resync);
                    }
                    None => {}
                },
                Ok(None) => return Err(format!("{node}: subscription ended")),
                Err(s) => return Err(format!("{node}: {}", s.message())),
            }
            if feed.tx.receiver_count() == 0 && self.retire(dir, feed) {
                return Ok(());
            }
        }
    }
}
