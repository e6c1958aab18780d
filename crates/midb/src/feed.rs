//! Change feeds: hints that a folder of an open store got new messages, so
//! midb computes their digests before anyone asks (FETCH ENVELOPE after a
//! delivery then finds them ready). A hint may be lost; requests still
//! catch up by change number.

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use groxide_mailview::FolderId;
use groxide_rpc::pb::event::v1::{
    NotificationKind, SubscribeRequest, event_client::EventClient, subscribe_reply,
};
use groxide_rpc::{ClientOptions, NodeAddr};
use std::time::Duration;

/// A hint from the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEvent {
    /// Messages were added to this folder.
    Added(FolderId),
    /// Hints were lost; everything may have changed.
    Resync,
}

/// A source of hints per store.
pub trait ChangeFeed: Send + Sync + 'static {
    /// Follows the store at `dir` until the stream is dropped.
    fn follow(&self, dir: &str) -> BoxStream<'static, FeedEvent>;
}

/// A feed that never says anything (no event service configured).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoFeed;

impl ChangeFeed for NoFeed {
    fn follow(&self, _dir: &str) -> BoxStream<'static, FeedEvent> {
        futures_util::stream::pending().boxed()
    }
}

/// Pause before subscribing again after the event service went away.
const RESUBSCRIBE_PAUSE: Duration = Duration::from_secs(2);

/// The feed of groxide-event on this node (where the local exmdb publishes).
#[derive(Debug, Clone)]
pub struct EventFeed {
    node: NodeAddr,
    opts: ClientOptions,
}

impl EventFeed {
    /// A feed from the event service at `node`.
    pub fn new(node: NodeAddr, opts: ClientOptions) -> EventFeed {
        EventFeed { node, opts }
    }
}

impl ChangeFeed for EventFeed {
    fn follow(&self, dir: &str) -> BoxStream<'static, FeedEvent> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let node = self.node.clone();
        let opts = self.opts.clone();
        let dir = dir.to_owned();
        tokio::spawn(async move {
            let mut first = true;
            loop {
                if tx.is_closed() {
                    return;
                }
                if !first {
                    tokio::time::sleep(RESUBSCRIBE_PAUSE).await;
                    // Whatever happened while we were away is unknown.
                    if tx.send(FeedEvent::Resync).await.is_err() {
                        return;
                    }
                }
                first = false;
                let channel = match groxide_rpc::client::channel("event", &node, &opts) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot reach the event service");
                        continue;
                    }
                };
                let mut client = EventClient::new(channel);
                let stream = client
                    .subscribe(SubscribeRequest {
                        dir: dir.clone(),
                        folder: 0,
                    })
                    .await;
                let mut stream = match stream {
                    Ok(s) => s.into_inner(),
                    Err(status) => {
                        tracing::debug!(dir = %dir, code = ?status.code(), "event subscription failed; retrying");
                        continue;
                    }
                };
                while let Some(item) = stream.next().await {
                    let Ok(reply) = item else { break };
                    let event = match reply.event {
                        Some(subscribe_reply::Event::Notification(n))
                            if n.kind == NotificationKind::MessageAdded as i32 =>
                        {
                            FeedEvent::Added(n.folder)
                        }
                        Some(subscribe_reply::Event::Resync(_)) => FeedEvent::Resync,
                        _ => continue,
                    };
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(rx).boxed()
    }
}
