//! [`StoreView`]: the IMAP/POP3 view of the stores, over a [`Store`] and the
//! digest cache. One method per midb request, in midb's own types; the gRPC
//! service (`crate::service`) only translates.

mod mailboxes;
mod messages;
mod query;
mod section;
mod writes;

pub use messages::{MessageMetadata, MetadataItems, MetadataRequest, collect_entries};
pub use query::ThreadAlgorithm;
pub use section::{SectionPiece, SectionRequest};

use crate::cache::{CacheDb, CacheError};
use crate::digest::Digest;
use crate::error::MidbError;
use crate::feed::{ChangeFeed, FeedEvent};
use crate::names::MailboxTree;
use crate::open_stores::{OpenStore, OpenStores};
use crate::store::{ContentHash, FolderId, MessageEntry, Store, StoreError, Uid, UidSet};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Messages whose digests are computed at the same time.
const PARALLEL_DIGESTS: usize = 2;
/// Items buffered between a producing task and a streamed reply.
const STREAM_BUFFER: usize = 4;

/// The tunables of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Most stores open at once (`midb_table_size`).
    pub table_size: usize,
    /// Idle time after which a store is closed (`midb_cache_interval`).
    pub cache_interval: Duration,
    /// Most bytes of decoded text indexed per message (`midb_search_text_max`).
    pub search_text_max: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            table_size: 5000,
            cache_interval: Duration::from_secs(30 * 60),
            search_text_max: 1 << 20,
        }
    }
}

struct Inner<S> {
    store: Arc<S>,
    open: OpenStores,
    feed: Arc<dyn ChangeFeed>,
    settings: Mutex<Settings>,
}

/// The IMAP/POP3 view of the stores. Cheap to clone.
pub struct StoreView<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for StoreView<S> {
    fn clone(&self) -> Self {
        StoreView {
            inner: self.inner.clone(),
        }
    }
}

/// A stream of results of a view request.
pub type ViewStream<T> = BoxStream<'static, Result<T, MidbError>>;

/// Runs `produce` in a task feeding a bounded channel; the stream ends when
/// it returns (its error, if any, is the last item).
pub(crate) fn spawn_stream<T, F, Fut>(produce: F) -> ViewStream<T>
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<Result<T, MidbError>>) -> Fut,
    Fut: Future<Output = Result<(), MidbError>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
    let fut = produce(tx.clone());
    tokio::spawn(async move {
        if let Err(e) = fut.await {
            let _ = tx.send(Err(e)).await;
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx).boxed()
}

impl<S: Store> StoreView<S> {
    /// A view over `store`, with hints from `feed`.
    pub fn new(store: Arc<S>, feed: Arc<dyn ChangeFeed>, settings: Settings) -> StoreView<S> {
        StoreView {
            inner: Arc::new(Inner {
                store,
                open: OpenStores::new(settings.table_size, settings.cache_interval),
                feed,
                settings: Mutex::new(settings),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.inner.store
    }

    fn settings(&self) -> Settings {
        *self
            .inner
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Applies new settings (SIGHUP).
    pub fn reconfigure(&self, s: Settings) {
        *self
            .inner
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = s;
        self.inner.open.set_limits(s.table_size, s.cache_interval);
    }

    /// Closes stores idle for longer than `cache_interval`.
    pub fn close_idle(&self) -> usize {
        self.inner.open.close_idle()
    }

    /// Closes every open store (their files stay).
    pub fn close_all(&self) {
        self.inner.open.close_all();
    }

    /// Number of open stores.
    pub fn open_stores(&self) -> usize {
        self.inner.open.len()
    }

    /// Closes idle stores periodically until `shutdown`.
    pub fn spawn_idle_sweeper(&self, shutdown: tokio_util::sync::CancellationToken) {
        let view = self.clone();
        tokio::spawn(async move {
            loop {
                let every = (view.inner.open.idle_time() / 2)
                    .clamp(Duration::from_secs(1), Duration::from_secs(60));
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                let closed = view.close_idle();
                if closed > 0 {
                    tracing::debug!(closed, "closed idle stores");
                }
            }
        });
    }

    /// The open store of `dir` (opened, with its feed, when needed).
    pub(crate) async fn open(&self, dir: &str) -> Result<Arc<OpenStore>, MidbError> {
        if !crate::open_stores::store_database(dir).exists() {
            return Err(StoreError::NoSuchStore(format!(
                "{dir} holds no store of this node (midb runs on the store's home node)"
            ))
            .into());
        }
        let view = self.clone();
        let d = dir.to_owned();
        let acquired = tokio::task::spawn_blocking(move || view.inner.open.acquire(&d)).await??;
        if acquired.fresh {
            self.follow(&acquired.store);
        }
        Ok(acquired.store)
    }

    /// Follows the store's change feed, computing digests of new messages.
    fn follow(&self, open: &Arc<OpenStore>) {
        let mut events = self.inner.feed.follow(open.dir());
        let weak: Weak<OpenStore> = Arc::downgrade(open);
        let view = self.clone();
        let task = tokio::spawn(async move {
            while let Some(first) = events.next().await {
                let mut folders = HashSet::new();
                let mut note = |e: FeedEvent| {
                    if let FeedEvent::Added(f) = e {
                        folders.insert(f);
                    }
                };
                note(first);
                // Coalesce a burst of hints into one refresh per folder.
                while let Some(Some(e)) = futures_util::FutureExt::now_or_never(events.next()) {
                    note(e);
                }
                let Some(open) = weak.upgrade() else { return };
                for folder in folders {
                    let dir = open.dir().to_owned();
                    if let Err(e) = view.refresh_folder(&open, &dir, folder).await {
                        tracing::debug!(dir = %dir, folder, error = %e, "precomputing digests failed");
                    }
                }
            }
        });
        open.set_feed_task(task.abort_handle());
    }

    /// Runs `f` on the cache of `open` in a blocking task.
    pub(crate) async fn with_db<T, F>(&self, open: &Arc<OpenStore>, f: F) -> Result<T, MidbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut CacheDb) -> Result<T, CacheError> + Send + 'static,
    {
        let open = open.clone();
        let r = tokio::task::spawn_blocking(move || f(&mut open.db())).await?;
        Ok(r?)
    }

    /// The mailbox tree of a store.
    pub(crate) async fn tree(&self, dir: &str) -> Result<MailboxTree, MidbError> {
        let folders = self.inner.store.folders(dir).await?;
        Ok(MailboxTree::build(&folders))
    }

    /// The highest UID present in a folder (0 when empty). Stores that do
    /// not report it are probed with listings of growing windows below
    /// UIDNEXT, so a large folder costs a few small listings, never a scan.
    pub(crate) async fn highest_uid(&self, dir: &str, folder: FolderId) -> Result<Uid, MidbError> {
        let status = self.inner.store.folder_status(dir, folder).await?;
        if let Some(h) = status.highest_uid {
            return Ok(h);
        }
        if status.exists == 0 {
            return Ok(0);
        }
        let top = status.uidnext.saturating_sub(1);
        let mut window: u32 = 64;
        loop {
            let from = top.saturating_sub(window).max(1);
            let mut s = self.inner.store.list_messages(
                dir,
                folder,
                &UidSet::from_ranges([(from, Uid::MAX)]),
            );
            let mut last = None;
            while let Some(chunk) = s.try_next().await? {
                if let Some(e) = chunk.last() {
                    last = Some(e.uid);
                }
            }
            if let Some(uid) = last {
                return Ok(uid);
            }
            if from == 1 {
                return Ok(0);
            }
            window = window.saturating_mul(16);
        }
    }

    /// `uids` with IMAP's `n:*` rule applied (needs the highest UID).
    pub(crate) async fn resolve_star(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
    ) -> Result<UidSet, MidbError> {
        let needs = uids
            .ranges()
            .last()
            .is_some_and(|r| *r.end() == Uid::MAX && *r.start() > 1);
        if !needs {
            return Ok(uids.clone());
        }
        let highest = self.highest_uid(dir, folder).await?;
        Ok(uids.with_star_resolved(highest))
    }

    /// A message's whole RFC 5322 form.
    pub(crate) async fn read_all(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        size_hint: u64,
    ) -> Result<Vec<u8>, MidbError> {
        let mut out = Vec::with_capacity(usize::try_from(size_hint).unwrap_or(0).min(1 << 26));
        let mut s = self.inner.store.read_message(dir, folder, uid, 0..u64::MAX);
        while let Some(chunk) = s.try_next().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Computes a digest without caching it (content the store has no hash for).
    pub(crate) async fn transient_digest(
        &self,
        dir: &str,
        folder: FolderId,
        entry: &MessageEntry,
    ) -> Result<Digest, MidbError> {
        let raw = self.read_all(dir, folder, entry.uid, entry.size).await?;
        let max = self.settings().search_text_max;
        Ok(tokio::task::spawn_blocking(move || Digest::compute(&raw, max)).await?)
    }

    /// Makes sure every content of `entries` has a cached digest, reading
    /// and parsing each missing one once.
    pub(crate) async fn ensure_digests(
        &self,
        open: &Arc<OpenStore>,
        dir: &str,
        folder: FolderId,
        entries: &[MessageEntry],
    ) -> Result<(), MidbError> {
        let hashes: Vec<ContentHash> = entries.iter().map(|e| e.content.clone()).collect();
        let missing: HashSet<ContentHash> = self
            .with_db(open, move |db| db.missing(hashes.iter()))
            .await?
            .into_iter()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut todo: Vec<MessageEntry> = Vec::with_capacity(missing.len());
        let mut queued = HashSet::new();
        for e in entries {
            if missing.contains(&e.content) && queued.insert(e.content.clone()) {
                todo.push(e.clone());
            }
        }
        let max = self.settings().search_text_max;
        let results: Vec<Result<(), MidbError>> = futures_util::stream::iter(todo)
            .map(|e| {
                let view = self.clone();
                let open = open.clone();
                let dir = dir.to_owned();
                async move {
                    let raw = match view.read_all(&dir, folder, e.uid, e.size).await {
                        Ok(raw) => raw,
                        // Expunged meanwhile: nothing to digest.
                        Err(MidbError::Store(StoreError::NoSuchMessage(_))) => return Ok(()),
                        Err(err) => return Err(err),
                    };
                    let digest =
                        tokio::task::spawn_blocking(move || Digest::compute(&raw, max)).await?;
                    let hash = e.content.clone();
                    view.with_db(&open, move |db| db.insert(&hash, &digest))
                        .await
                        .map(|_| ())
                }
            })
            .buffer_unordered(PARALLEL_DIGESTS)
            .collect()
            .await;
        results.into_iter().collect()
    }
}

/// Bytes of a stream collected (tests and small sections).
pub async fn collect_bytes(mut s: ViewStream<Bytes>) -> Result<Vec<u8>, MidbError> {
    let mut out = Vec::new();
    while let Some(b) = s.try_next().await? {
        out.extend_from_slice(&b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
