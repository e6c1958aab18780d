//! Publishing change notifications to groxide-event without ever slowing the
//! publisher down: notifications go through a bounded queue to a background
//! task that batches them. When the queue is full or the event service is
//! down, notifications are dropped (they are hints; subscribers catch up by
//! change number) and a warning is logged at most every few seconds.

use crate::client::{ClientOptions, NodeAddr, channel};
use crate::pb::event::v1::{Notification, PublishRequest, event_client::EventClient};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Most notifications sent in one Publish call.
const BATCH: usize = 256;
/// Minimum time between two "dropped" warnings.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// A handle to the background publisher. Cheap to clone.
#[derive(Clone)]
pub struct EventPublisher {
    tx: mpsc::Sender<Notification>,
    dropped: Arc<AtomicU64>,
}

impl EventPublisher {
    /// Starts the background task publishing to the event service at `node`.
    /// Must be called inside a tokio runtime.
    pub fn spawn(node: NodeAddr, opts: &ClientOptions, queue: usize) -> EventPublisher {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let ch = channel("event", &node, opts);
        let d = dropped.clone();
        let timeout = opts.request_timeout;
        tokio::spawn(async move {
            match ch {
                Ok(ch) => run(EventClient::new(ch), node, rx, d, timeout).await,
                Err(e) => tracing::error!(error = %e, "event publisher disabled"),
            }
        });
        EventPublisher { tx, dropped }
    }

    /// A publisher that drops everything (no event service configured; tests).
    pub fn disabled() -> EventPublisher {
        let (tx, _) = mpsc::channel(1);
        EventPublisher {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues `n`; never waits.
    pub fn publish(&self, n: Notification) {
        if self.tx.try_send(n).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Notifications dropped so far (queue full, service down, disabled).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn run(
    mut client: EventClient<tonic::transport::Channel>,
    node: NodeAddr,
    mut rx: mpsc::Receiver<Notification>,
    dropped: Arc<AtomicU64>,
    timeout: Duration,
) {
    let mut last_warn: Option<Instant> = None;
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let n = batch.len() as u64;
        let mut req = tonic::Request::new(PublishRequest {
            notifications: std::mem::take(&mut batch),
        });
        req.set_timeout(timeout);
        if let Err(status) = client.publish(req).await {
            let total = dropped.fetch_add(n, Ordering::Relaxed) + n;
            if last_warn.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                last_warn = Some(Instant::now());
                tracing::warn!(
                    event = %node,
                    code = ?status.code(),
                    error = status.message(),
                    dropped_total = total,
                    "cannot publish change notifications; subscribers will catch up by change number"
                );
            }
        }
    }
}
