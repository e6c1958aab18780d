//! The subscription table and its gRPC face.

use groxide_rpc::pb::event::v1::{
    self as pb, PublishReply, PublishRequest, Resync, SubscribeReply, SubscribeRequest, Subscribed,
    subscribe_reply::Event as Reply,
};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Longest store dir accepted (the same bound every store-scoped RPC uses).
const MAX_DIR_LEN: usize = 4096;

struct Subscriber {
    folder: u64,
    tx: mpsc::Sender<pb::Notification>,
    dropped: Arc<AtomicU64>,
}

/// The subscription table. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<BusInner>,
}

struct BusInner {
    by_dir: Mutex<HashMap<String, Vec<Subscriber>>>,
    queue_length: AtomicUsize,
}

impl Bus {
    /// A bus whose subscribers each queue at most `queue_length` events.
    pub fn new(queue_length: usize) -> Bus {
        Bus {
            inner: Arc::new(BusInner {
                by_dir: Mutex::new(HashMap::new()),
                queue_length: AtomicUsize::new(queue_length.max(1)),
            }),
        }
    }

    /// Applies to subscriptions made from now on.
    pub fn set_queue_length(&self, n: usize) {
        self.inner.queue_length.store(n.max(1), Ordering::Relaxed);
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Subscriber>>> {
        match self.inner.by_dir.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Registers a subscriber for `dir` (`folder` 0 = all folders).
    pub fn subscribe(&self, dir: &str, folder: u64) -> Subscription {
        let (tx, rx) = mpsc::channel(self.inner.queue_length.load(Ordering::Relaxed));
        let dropped = Arc::new(AtomicU64::new(0));
        self.table()
            .entry(dir.to_string())
            .or_default()
            .push(Subscriber {
                folder,
                tx,
                dropped: dropped.clone(),
            });
        Subscription {
            rx,
            dropped,
            greeted: false,
        }
    }

    /// Hands `n` to every matching subscriber without waiting; returns how
    /// many queues took it. Full queues count a drop; closed ones are removed.
    pub fn publish(&self, n: &pb::Notification) -> u32 {
        let mut delivered = 0;
        let mut table = self.table();
        let Some(subs) = table.get_mut(&n.dir) else {
            return 0;
        };
        subs.retain(|s| {
            if s.folder != 0 && n.folder != 0 && s.folder != n.folder {
                return !s.tx.is_closed();
            }
            match s.tx.try_send(n.clone()) {
                Ok(()) => {
                    delivered += 1;
                    true
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.dropped.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        if subs.is_empty() {
            table.remove(&n.dir);
        }
        delivered
    }

    /// Number of live subscriptions (for tests and metrics).
    pub fn subscriber_count(&self) -> usize {
        self.table().values().map(Vec::len).sum()
    }

    /// The gRPC service over this bus.
    pub fn service(&self) -> EventService {
        EventService { bus: self.clone() }
    }
}

/// One subscriber's stream: a `subscribed` marker, then notifications, with a
/// resync marker in front whenever events were dropped.
pub struct Subscription {
    rx: mpsc::Receiver<pb::Notification>,
    dropped: Arc<AtomicU64>,
    greeted: bool,
}

impl Stream for Subscription {
    type Item = Result<SubscribeReply, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        if !self.greeted {
            self.greeted = true;
            return Poll::Ready(Some(Ok(SubscribeReply {
                event: Some(Reply::Subscribed(Subscribed {})),
            })));
        }
        // The marker goes first: resynchronising covers the queued events too.
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            return Poll::Ready(Some(Ok(SubscribeReply {
                event: Some(Reply::Resync(Resync { dropped })),
            })));
        }
        self.rx.poll_recv(cx).map(|n| {
            n.map(|n| {
                Ok(SubscribeReply {
                    event: Some(Reply::Notification(n)),
                })
            })
        })
    }
}

/// The gRPC face of a [`Bus`].
#[derive(Clone)]
pub struct EventService {
    bus: Bus,
}

fn check_dir(dir: &str) -> Result<(), Status> {
    if dir.is_empty() {
        return Err(Status::invalid_argument("dir is empty"));
    }
    if dir.len() > MAX_DIR_LEN {
        return Err(Status::invalid_argument(format!(
            "dir is longer than {MAX_DIR_LEN} bytes"
        )));
    }
    Ok(())
}

#[tonic::async_trait]
impl pb::event_server::Event for EventService {
    async fn publish(
        &self,
        request: Request<PublishRequest>,
    ) -> Result<Response<PublishReply>, Status> {
        let req = request.into_inner();
        let mut delivered = 0;
        for n in &req.notifications {
            check_dir(&n.dir)?;
            delivered += self.bus.publish(n);
        }
        Ok(Response::new(PublishReply { delivered }))
    }

    type SubscribeStream = Subscription;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let req = request.into_inner();
        check_dir(&req.dir)?;
        Ok(Response::new(self.bus.subscribe(&req.dir, req.folder)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_stream::StreamExt;

    fn note(dir: &str, folder: u64, cn: u64) -> pb::Notification {
        pb::Notification {
            dir: dir.into(),
            folder,
            kind: pb::NotificationKind::MessageAdded as i32,
            uids: vec![cn as u32],
            change_number: cn,
        }
    }

    async fn next(s: &mut Subscription) -> Reply {
        s.next().await.unwrap().unwrap().event.unwrap()
    }

    #[tokio::test]
    async fn a_subscriber_sees_events_of_its_store_only_after_the_subscribed_marker() {
        let bus = Bus::new(8);
        let mut s = bus.subscribe("/a", 0);
        assert!(matches!(next(&mut s).await, Reply::Subscribed(_)));
        assert_eq!(bus.publish(&note("/b", 1, 1)), 0);
        assert_eq!(bus.publish(&note("/a", 1, 2)), 1);
        match next(&mut s).await {
            Reply::Notification(n) => assert_eq!(n.change_number, 2),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_folder_subscription_skips_other_folders() {
        let bus = Bus::new(8);
        let mut s = bus.subscribe("/a", 7);
        next(&mut s).await;
        assert_eq!(bus.publish(&note("/a", 8, 1)), 0);
        assert_eq!(bus.publish(&note("/a", 7, 2)), 1);
        assert!(matches!(next(&mut s).await, Reply::Notification(n) if n.change_number == 2));
    }

    #[tokio::test]
    async fn a_slow_subscriber_gets_a_resync_marker_and_never_blocks_the_publisher() {
        let bus = Bus::new(2);
        let mut slow = bus.subscribe("/a", 0);
        let mut fast = bus.subscribe("/a", 0);
        next(&mut slow).await;
        next(&mut fast).await;
        for cn in 1..=10 {
            bus.publish(&note("/a", 1, cn));
            if let Reply::Notification(n) = next(&mut fast).await {
                assert_eq!(n.change_number, cn);
            }
        }
        match next(&mut slow).await {
            Reply::Resync(r) => assert_eq!(r.dropped, 8),
            other => panic!("expected resync, got {other:?}"),
        }
        // The two queued events still follow.
        assert!(matches!(next(&mut slow).await, Reply::Notification(n) if n.change_number == 1));
    }

    #[tokio::test]
    async fn closed_subscriptions_are_removed_on_publish() {
        let bus = Bus::new(2);
        let s = bus.subscribe("/a", 0);
        assert_eq!(bus.subscriber_count(), 1);
        drop(s);
        bus.publish(&note("/a", 1, 1));
        assert_eq!(bus.subscriber_count(), 0);
    }
}
