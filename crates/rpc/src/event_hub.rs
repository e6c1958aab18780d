//! Change hints from groxide-event, shared by every waiter of a store in
//! this process (IMAP sessions, ActiveSync Ping and Sync-with-Wait): one
//! subscription per store at the event service of the store's home node
//! (events follow the mailbox), fanned out to the waiters through a
//! broadcast channel. A waiter holds a receiver, no thread and no store
//! handle. A broken subscription is re-made with back-off; after any gap
//! (the subscription broke or was re-made, the event service's queue or
//! the local one overflowed) waiters get [`StoreEvent::Resync`] or a lag
//! and catch up from the store by change number. The subscription ends
//! when its last waiter does.

use crate::client::{ChannelPool, ClientOptions, NodeAddr};
use crate::pb::event::v1::{SubscribeRequest, event_client::EventClient, subscribe_reply::Event};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

pub use groxide_mailview::StoreEvent;

/// A receiver of one store's hints.
pub type EventWatch = broadcast::Receiver<StoreEvent>;

/// What [`EventLocator::locate`] returns.
pub type Located<'a> = Pin<Box<dyn Future<Output = Result<NodeAddr, String>> + Send + 'a>>;

/// Where a store's events are published: the event service of its home
/// node (groxide-runtime's `Routing` is the real one).
pub trait EventLocator: Send + Sync + 'static {
    /// The event service for the store `dir`.
    fn locate<'a>(&'a self, dir: &'a str) -> Located<'a>;
}

/// The hub's timings.
#[derive(Debug, Clone, Copy)]
pub struct HubSettings {
    /// Hints buffered per store before a slow waiter lags (and resyncs).
    pub queue: usize,
    /// How long a new subscription may take before a waiter goes on
    /// without it (a resync follows once it is live).
    pub ready_wait: Duration,
    /// Back-off between attempts to re-subscribe, doubling up to the max.
    pub retry_min: Duration,
    /// The longest back-off.
    pub retry_max: Duration,
    /// How often a subscription without events checks whether anyone
    /// still listens.
    pub listener_check: Duration,
}

impl Default for HubSettings {
    fn default() -> HubSettings {
        HubSettings {
            queue: 64,
            ready_wait: Duration::from_secs(2),
            retry_min: Duration::from_millis(200),
            retry_max: Duration::from_secs(15),
            listener_check: Duration::from_secs(30),
        }
    }
}

struct Feed {
    tx: broadcast::Sender<StoreEvent>,
    /// The subscription is registered at the event service.
    live: AtomicBool,
    /// A waiter went on before the first subscription was live: that one
    /// starts with a resync too.
    missed: AtomicBool,
}

/// The subscriptions of this process.
pub struct EventHub {
    locator: Arc<dyn EventLocator>,
    pool: ChannelPool,
    settings: HubSettings,
    feeds: Mutex<HashMap<String, Arc<Feed>>>,
    /// Bumped by [`EventHub::reset`]: every live subscription ends and is
    /// made again at the store's (possibly new) home.
    reloads: tokio::sync::watch::Sender<u64>,
}

impl EventHub {
    /// A hub finding event services through `locator`.
    pub fn new(
        locator: Arc<dyn EventLocator>,
        options: ClientOptions,
        settings: HubSettings,
    ) -> Arc<EventHub> {
        Arc::new(EventHub {
            locator,
            pool: ChannelPool::new("event", options),
            settings,
            feeds: Mutex::new(HashMap::new()),
            reloads: tokio::sync::watch::Sender::new(0),
        })
    }

    fn feeds(&self) -> MutexGuard<'_, HashMap<String, Arc<Feed>>> {
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner)
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
    /// yet, waits (at most `ready_wait`) until it is live; a waiter that
    /// goes on before gets a resync once it is.
    pub async fn watch(self: &Arc<Self>, dir: &str) -> EventWatch {
        let (feed, rx, ready) = {
            let mut feeds = self.feeds();
            if let Some(feed) = feeds.get(dir) {
                (feed.clone(), feed.tx.subscribe(), None)
            } else {
                let (tx, rx) = broadcast::channel(self.settings.queue);
                let feed = Arc::new(Feed {
                    tx,
                    live: AtomicBool::new(false),
                    missed: AtomicBool::new(false),
                });
                feeds.insert(dir.to_owned(), feed.clone());
                let (ready_tx, ready_rx) = oneshot::channel();
                let hub = self.clone();
                let (d, f) = (dir.to_owned(), feed.clone());
                tokio::spawn(async move { hub.follow(d, f, ready_tx).await });
                (feed, rx, Some(ready_rx))
            }
        };
        if let Some(ready) = ready
            && tokio::time::timeout(self.settings.ready_wait, ready)
                .await
                .is_err()
        {
            tracing::info!(dir, "event subscription not live yet; resync will follow");
        }
        if !feed.live.load(Ordering::SeqCst) {
            feed.missed.store(true, Ordering::SeqCst);
        }
        rx
    }

    /// Keeps one store's subscription alive while anyone listens.
    async fn follow(self: Arc<Self>, dir: String, feed: Arc<Feed>, ready: oneshot::Sender<()>) {
        let mut ready = Some(ready);
        let mut delay = self.settings.retry_min;
        let mut first = true;
        loop {
            if feed.tx.receiver_count() == 0 && self.retire(&dir, &feed) {
                return;
            }
            let outcome = self.subscribe_once(&dir, &feed, &mut ready, first).await;
            feed.live.store(false, Ordering::SeqCst);
            match outcome {
                Ok(()) => delay = self.settings.retry_min,
                Err(e) => {
                    tracing::info!(dir, error = %e, "event subscription failed; retrying");
                    // Waiters must not rely on hints while there are none.
                    let _ = feed.tx.send(StoreEvent::Resync);
                }
            }
            if let Some(r) = ready.take() {
                let _ = r.send(());
            }
            first = false;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.settings.retry_max);
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

    /// One subscription until it breaks, is re-made or nobody listens.
    async fn subscribe_once(
        &self,
        dir: &str,
        feed: &Arc<Feed>,
        ready: &mut Option<oneshot::Sender<()>>,
        first: bool,
    ) -> Result<(), String> {
        let mut reloads = self.reloads.subscribe();
        let node = self.locator.locate(dir).await?;
        let channel = self.pool.get(&node).map_err(|e| e.to_string())?;
        let mut stream = EventClient::new(channel)
            .subscribe(SubscribeRequest {
                dir: dir.to_owned(),
                folder: 0,
            })
            .await
            .map_err(|s| format!("{node}: {}", s.message()))?
            .into_inner();
        let mut check = tokio::time::interval(self.settings.listener_check);
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
                        feed.live.store(true, Ordering::SeqCst);
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                        // Anything may have happened while unsubscribed, or
                        // before a waiter that went on early.
                        if !first || feed.missed.swap(false, Ordering::SeqCst) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::event::v1::{
        Notification, Resync, SubscribeReply, Subscribed,
        event_server::{Event as EventService, EventServer},
        subscribe_reply,
    };
    use crate::pb::event::v1::{PublishReply, PublishRequest};
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    use tokio::sync::mpsc;
    use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
    use tonic::{Request, Response, Status};

    type Reply = Result<SubscribeReply, Status>;

    /// An event service the test drives: each subscription is handed to
    /// the test as (dir, sender); `Subscribed` goes first unless held.
    #[derive(Clone)]
    struct Fake {
        subs: mpsc::UnboundedSender<(String, mpsc::Sender<Reply>)>,
        hold: bool,
    }

    #[tonic::async_trait]
    impl EventService for Fake {
        async fn publish(
            &self,
            _: Request<PublishRequest>,
        ) -> Result<Response<PublishReply>, Status> {
            Err(Status::unimplemented("publish"))
        }

        type SubscribeStream = ReceiverStream<Reply>;

        async fn subscribe(
            &self,
            request: Request<SubscribeRequest>,
        ) -> Result<Response<Self::SubscribeStream>, Status> {
            let (tx, rx) = mpsc::channel(64);
            if !self.hold {
                let _ = tx
                    .send(Ok(reply(subscribe_reply::Event::Subscribed(Subscribed {}))))
                    .await;
            }
            let _ = self.subs.send((request.into_inner().dir, tx));
            Ok(Response::new(ReceiverStream::new(rx)))
        }
    }

    fn reply(event: subscribe_reply::Event) -> SubscribeReply {
        SubscribeReply { event: Some(event) }
    }

    fn note(folder: u64, change_number: u64) -> Reply {
        Ok(reply(subscribe_reply::Event::Notification(Notification {
            dir: String::new(),
            folder,
            kind: 1,
            uids: vec![],
            change_number,
        })))
    }

    struct Server {
        port: u16,
        subs: mpsc::UnboundedReceiver<(String, mpsc::Sender<Reply>)>,
        stop: Option<oneshot::Sender<()>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Server {
        async fn start(port: u16, hold: bool) -> Server {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            let port = listener.local_addr().unwrap().port();
            let (subs_tx, subs) = mpsc::unbounded_channel();
            let (stop, stopped) = oneshot::channel::<()>();
            let fake = Fake {
                subs: subs_tx,
                hold,
            };
            let task = tokio::spawn(async move {
                let _ = tonic::transport::Server::builder()
                    .add_service(EventServer::new(fake))
                    .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                        let _ = stopped.await;
                    })
                    .await;
            });
            Server {
                port,
                subs,
                stop: Some(stop),
                task,
            }
        }

        async fn next_sub(&mut self) -> (String, mpsc::Sender<Reply>) {
            tokio::time::timeout(Duration::from_secs(5), self.subs.recv())
                .await
                .expect("a subscription in time")
                .expect("server running")
        }

        /// Ends every stream it handed out and stops listening.
        async fn stop(mut self, open: Vec<mpsc::Sender<Reply>>) {
            drop(open);
            if let Some(s) = self.stop.take() {
                let _ = s.send(());
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
            self.task.abort();
        }
    }

    struct Fixed(u16);

    impl EventLocator for Fixed {
        fn locate<'a>(&'a self, _dir: &'a str) -> Located<'a> {
            let node = NodeAddr::new("127.0.0.1", self.0);
            Box::pin(async move { Ok(node) })
        }
    }

    fn fast() -> HubSettings {
        HubSettings {
            queue: 8,
            ready_wait: Duration::from_secs(2),
            retry_min: Duration::from_millis(20),
            retry_max: Duration::from_millis(100),
            listener_check: Duration::from_millis(50),
        }
    }

    fn hub(port: u16, settings: HubSettings) -> Arc<EventHub> {
        EventHub::new(Arc::new(Fixed(port)), ClientOptions::default(), settings)
    }

    async fn recv(rx: &mut EventWatch) -> Result<StoreEvent, RecvError> {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a hint in time")
    }

    fn changed(folder: u64, change_number: u64) -> StoreEvent {
        StoreEvent::Changed {
            folder,
            change_number,
        }
    }

    #[tokio::test]
    async fn waiters_of_a_store_share_one_live_subscription_and_each_gets_every_hint() {
        let mut server = Server::start(0, false).await;
        let hub = hub(server.port, fast());
        let mut a1 = hub.watch("/a").await;
        let (dir, a_tx) = server.next_sub().await;
        assert_eq!(dir, "/a");
        let mut a2 = hub.watch("/a").await;
        let mut b = hub.watch("/b").await;
        let (dir, _b_tx) = server.next_sub().await;
        assert_eq!(dir, "/b");
        assert_eq!(hub.subscriptions(), 2);

        a_tx.send(note(7, 42)).await.unwrap();
        // Live when watch returned: no resync first, the hint itself.
        assert_eq!(recv(&mut a1).await, Ok(changed(7, 42)));
        assert_eq!(recv(&mut a2).await, Ok(changed(7, 42)));
        assert_eq!(b.try_recv(), Err(TryRecvError::Empty));
        assert!(
            server.subs.try_recv().is_err(),
            "one subscription per store"
        );
    }

    #[tokio::test]
    async fn a_gap_reaches_waiters_as_a_lag_or_a_resync() {
        let mut server = Server::start(0, false).await;
        let hub = hub(server.port, fast());
        let mut slow = hub.watch("/a").await;
        let mut quick = hub.watch("/a").await;
        let (_, tx) = server.next_sub().await;
        for cn in 1..=20 {
            tx.send(note(3, cn)).await.unwrap();
            assert_eq!(recv(&mut quick).await, Ok(changed(3, cn)));
        }
        // The slow waiter's queue overflowed: it must catch up.
        assert!(matches!(recv(&mut slow).await, Err(RecvError::Lagged(_))));
        tx.send(Ok(reply(subscribe_reply::Event::Resync(Resync {
            dropped: 5,
        }))))
        .await
        .unwrap();
        assert_eq!(recv(&mut quick).await, Ok(StoreEvent::Resync));
    }

    #[tokio::test]
    async fn the_subscription_ends_with_its_last_waiter() {
        let mut server = Server::start(0, false).await;
        let hub = hub(server.port, fast());
        let first = hub.watch("/a").await;
        let second = hub.watch("/a").await;
        let (_, tx) = server.next_sub().await;
        drop(first);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(hub.subscriptions(), 1, "one waiter is left");
        assert!(!tx.is_closed());
        drop(second);
        tokio::time::timeout(Duration::from_secs(5), tx.closed())
            .await
            .expect("the stream is dropped");
        assert_eq!(hub.subscriptions(), 0);
        // A new waiter makes a new subscription.
        let _again = hub.watch("/a").await;
        server.next_sub().await;
        assert_eq!(hub.subscriptions(), 1);
    }

    #[tokio::test]
    async fn after_the_event_service_restarts_waiters_resync_and_get_hints_again() {
        let mut server = Server::start(0, false).await;
        let port = server.port;
        let hub = hub(port, fast());
        let mut rx = hub.watch("/a").await;
        let (_, tx) = server.next_sub().await;
        server.stop(vec![tx]).await;
        // While there is no subscription, waiters must not rely on hints.
        assert_eq!(recv(&mut rx).await, Ok(StoreEvent::Resync));

        let mut server = Server::start(port, true).await;
        let (_, tx) = server.next_sub().await;
        // The failed attempts before the restart each said so already.
        while rx.try_recv().is_ok() {}
        tx.send(Ok(reply(subscribe_reply::Event::Subscribed(Subscribed {}))))
            .await
            .unwrap();
        // Anything may have happened while unsubscribed.
        assert_eq!(recv(&mut rx).await, Ok(StoreEvent::Resync));
        tx.send(note(9, 77)).await.unwrap();
        assert_eq!(recv(&mut rx).await, Ok(changed(9, 77)));
    }

    #[tokio::test]
    async fn a_reset_remakes_the_subscription_and_resyncs() {
        let mut server = Server::start(0, false).await;
        let hub = hub(server.port, fast());
        let mut rx = hub.watch("/a").await;
        let (_, old) = server.next_sub().await;
        hub.reset();
        let (_, new) = server.next_sub().await;
        assert_eq!(recv(&mut rx).await, Ok(StoreEvent::Resync));
        tokio::time::timeout(Duration::from_secs(5), old.closed())
            .await
            .expect("the old stream is dropped");
        new.send(note(1, 5)).await.unwrap();
        assert_eq!(recv(&mut rx).await, Ok(changed(1, 5)));
    }

    #[tokio::test]
    async fn a_waiter_that_went_on_before_the_subscription_was_live_gets_a_resync() {
        let mut server = Server::start(0, true).await;
        let hub = hub(
            server.port,
            HubSettings {
                ready_wait: Duration::from_millis(100),
                ..fast()
            },
        );
        let mut early = hub.watch("/a").await;
        let (_, tx) = server.next_sub().await;
        // Joins the pending subscription: returns at once, not live either.
        let mut joiner = hub.watch("/a").await;
        tx.send(Ok(reply(subscribe_reply::Event::Subscribed(Subscribed {}))))
            .await
            .unwrap();
        assert_eq!(recv(&mut early).await, Ok(StoreEvent::Resync));
        assert_eq!(recv(&mut joiner).await, Ok(StoreEvent::Resync));
    }

    #[tokio::test]
    async fn an_unreachable_service_resyncs_and_is_retried() {
        // A port nobody listens on (taken, then freed).
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let hub = hub(port, fast());
        let mut rx = hub.watch("/a").await;
        assert_eq!(recv(&mut rx).await, Ok(StoreEvent::Resync));
        let mut server = Server::start(port, false).await;
        let (_, tx) = server.next_sub().await;
        tx.send(note(2, 3)).await.unwrap();
        let mut hint = recv(&mut rx).await;
        while hint == Ok(StoreEvent::Resync) {
            hint = recv(&mut rx).await;
        }
        assert_eq!(hint, Ok(changed(2, 3)));
    }
}
