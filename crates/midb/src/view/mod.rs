//! [`StoreView`]: the IMAP/POP3 view of the stores of this node — the
//! mailbox view contract ([`groxide_mailview::MailboxView`]) implemented
//! over the stores' own files.
//!
//! Reads go straight to the store: its SQLite file through a
//! [`groxide_store::StoreReader`] (WAL, beside groxide-exmdb, the writer)
//! and its content files; derived data (ENVELOPE, BODYSTRUCTURE, part
//! ranges, search text) comes from midb.sqlite3 ([`crate::cache`]). Every
//! write goes to the store's one writer through [`StoreWrites`]. Reads run
//! on the calling task: they are short SQLite queries and page-cache
//! reads, and a hand-off to another thread costs more than they do; only
//! parsing a large message and reading a large body leave the task.
//! Listings are read in chunks of [`LIST_CHUNK`] messages, each chunk one
//! read transaction, so memory stays bounded for any folder size.

mod contract;
mod mailboxes;
mod messages;
mod query;
mod recent;
mod section;
mod sorted;
mod writes;

pub use contract::LocalUpload;

use crate::cache::CacheDb;
use crate::digest::Digest;
use crate::error::MidbError;
use crate::feed::{ChangeFeed, FeedEvent};
use crate::names::{FolderInfo, MailboxTree};
use crate::open_stores::{OpenError, OpenStore, OpenStores};
use crate::writes::StoreWrites;
use futures_util::StreamExt;
use groxide_mailview::{FolderId, Uid, UidSet};
use groxide_store::{ContentHash, FolderRef, MessageEntry, StoreError};
use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Messages per chunk of a listing (each chunk is one read transaction).
pub const LIST_CHUNK: usize = 1024;
/// Messages up to this size are parsed on the calling task; larger ones on
/// a blocking thread.
const PARSE_INLINE_MAX: u64 = 256 * 1024;
/// Bytes read from a content file per piece of a streamed body.
const READ_PIECE: usize = 256 * 1024;

/// `bytes` in MiB, rounded up, at least 1 (a semaphore's permit count).
fn mib_of(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1 << 20))
        .unwrap_or(u32::MAX >> 4)
        .max(1)
}

/// The tunables of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Most stores open at once (`midb_table_size`).
    pub table_size: usize,
    /// Idle time after which a store is closed (`midb_cache_interval`).
    pub cache_interval: Duration,
    /// Most bytes of decoded text indexed per message (`midb_search_text_max`).
    pub search_text_max: usize,
    /// How long a read waits on a locked store database.
    pub busy_timeout: Duration,
    /// Most bytes of messages parsed at once on blocking threads
    /// (`midb_parse_memory_max`); a larger message is parsed alone. Read
    /// when the view is made.
    pub parse_memory_max: u64,
    /// Most messages whose SORT keys an open store keeps in memory, over
    /// all its folders (`midb_sort_index_max`; 0: none kept).
    pub sort_index_max: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            table_size: 5000,
            cache_interval: Duration::from_secs(30 * 60),
            search_text_max: 1 << 20,
            busy_timeout: Duration::from_secs(60),
            parse_memory_max: 64 << 20,
            sort_index_max: 100_000,
        }
    }
}

struct Inner<W> {
    writes: Arc<W>,
    open: OpenStores,
    feed: Arc<dyn ChangeFeed>,
    settings: Mutex<Settings>,
    /// Budget of heavy parses in MiB: each large message takes its size.
    parse_budget: tokio::sync::Semaphore,
    parse_budget_mib: u32,
}

/// The IMAP/POP3 view of the stores of this node. Cheap to clone.
pub struct StoreView<W> {
    inner: Arc<Inner<W>>,
}

impl<W> Clone for StoreView<W> {
    fn clone(&self) -> Self {
        StoreView {
            inner: self.inner.clone(),
        }
    }
}

/// A message as the view reads it from the store.
pub(crate) type Entry = MessageEntry;

/// The contract's form of a store entry.
pub(crate) fn view_entry(e: &Entry) -> groxide_mailview::MessageEntry {
    groxide_mailview::MessageEntry {
        uid: e.uid.0,
        flags: e.flags,
        keywords: e.keywords.clone(),
        modseq: e.cn.0,
        size: e.size,
        internal_date: e.internal_date,
    }
}

impl<W: StoreWrites> StoreView<W> {
    /// A view writing through `writes`, with hints from `feed`.
    pub fn new(writes: Arc<W>, feed: Arc<dyn ChangeFeed>, settings: Settings) -> StoreView<W> {
        StoreView {
            inner: Arc::new(Inner {
                writes,
                open: OpenStores::new(
                    settings.table_size,
                    settings.cache_interval,
                    settings.busy_timeout,
                ),
                feed,
                settings: Mutex::new(settings),
                parse_budget: tokio::sync::Semaphore::new(
                    mib_of(settings.parse_memory_max) as usize
                ),
                parse_budget_mib: mib_of(settings.parse_memory_max),
            }),
        }
    }

    /// The writer of the stores.
    pub fn writes(&self) -> &Arc<W> {
        &self.inner.writes
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

    /// The open store of `dir`, opened (with its feed) when needed. A store
    /// whose schema is older than this build's is first opened by its
    /// writer, which migrates it.
    pub(crate) async fn open(&self, dir: &str) -> Result<Arc<OpenStore>, MidbError> {
        if let Some(s) = self.inner.open.get(dir) {
            return Ok(s);
        }
        let mut asked_writer = false;
        loop {
            let view = self.clone();
            let d = dir.to_owned();
            match tokio::task::spawn_blocking(move || view.inner.open.acquire(&d)).await? {
                Ok(acquired) => {
                    if acquired.fresh {
                        self.follow(&acquired.store);
                    }
                    return Ok(acquired.store);
                }
                Err(OpenError::Store(StoreError::SchemaMismatch { found, expected }))
                    if found < expected && !asked_writer =>
                {
                    asked_writer = true;
                    self.inner.writes.open_store(dir).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
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
                    if let Err(e) = view.refresh_folder(&open, folder).await {
                        tracing::debug!(dir = %open.dir(), folder, error = %e, "precomputing digests failed");
                    }
                }
            }
        });
        open.set_feed_task(task.abort_handle());
    }

    /// Runs `f` on the digest cache of `open` (short queries: on this task).
    pub(crate) fn with_db<T>(
        open: &OpenStore,
        f: impl FnOnce(&mut CacheDb) -> Result<T, crate::cache::CacheError>,
    ) -> Result<T, MidbError> {
        Ok(f(&mut open.db())?)
    }

    /// The mailbox tree of a store.
    pub(crate) fn tree(open: &OpenStore) -> Result<MailboxTree, MidbError> {
        let folders: Vec<FolderInfo> = open
            .reader()
            .folders()?
            .iter()
            .map(FolderInfo::of_store)
            .collect();
        Ok(MailboxTree::build(&folders))
    }

    /// The highest UID present in a folder (0 when empty).
    pub(crate) fn highest_uid(open: &OpenStore, folder: FolderId) -> Result<Uid, MidbError> {
        let (_, st) = open
            .reader()
            .folder_with_imap_status(groxide_store::FolderId(folder))?;
        Ok(st.highest_uid)
    }

    /// `uids` with IMAP's `n:*` rule applied (needs the highest UID).
    pub(crate) fn resolve_star(
        open: &OpenStore,
        folder: FolderId,
        uids: &UidSet,
    ) -> Result<UidSet, MidbError> {
        let needs = uids
            .ranges()
            .last()
            .is_some_and(|r| r.last == Uid::MAX && r.first > 1);
        if !needs {
            return Ok(uids.clone());
        }
        Ok(uids.with_star_resolved(Self::highest_uid(open, folder)?))
    }

    /// Up to `max` messages of `uids` above `after`, ascending, from one
    /// read transaction; the second value is whether more may follow.
    pub(crate) fn chunk(
        open: &OpenStore,
        folder: FolderId,
        uids: &UidSet,
        after: Uid,
        max: usize,
    ) -> Result<(Vec<Entry>, bool), MidbError> {
        let ranges: Vec<groxide_store::UidRange> = uids
            .ranges()
            .iter()
            .filter(|r| r.last > after)
            .map(|r| groxide_store::UidRange::new(r.first.max(after.saturating_add(1)), r.last))
            .collect();
        let mut out = Vec::with_capacity(max.min(64));
        if ranges.is_empty() || after == Uid::MAX {
            return Ok((out, false));
        }
        open.reader().read(|t| {
            t.list_messages_in(
                FolderRef::Id(groxide_store::FolderId(folder)),
                &ranges,
                |e| {
                    out.push(e);
                    out.len() < max
                },
            )
        })?;
        let more = out.len() >= max;
        Ok((out, more))
    }

    /// Every message of `uids` (small sets: STORE, COPY, EXPUNGE targets).
    pub(crate) fn entries(
        open: &OpenStore,
        folder: FolderId,
        uids: &UidSet,
    ) -> Result<Vec<Entry>, MidbError> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (chunk, more) = Self::chunk(open, folder, uids, after, LIST_CHUNK)?;
            if let Some(last) = chunk.last() {
                after = last.uid.0;
            }
            all.extend(chunk);
            if !more {
                return Ok(all);
            }
        }
    }

    /// The message with `uid`, its MIME form made by the writer first if
    /// it has none yet (a message created as properties).
    pub(crate) async fn entry_with_content(
        &self,
        open: &OpenStore,
        folder: FolderId,
        uid: Uid,
    ) -> Result<Entry, MidbError> {
        let find = || -> Result<Entry, MidbError> {
            Self::chunk(open, folder, &UidSet::single(uid), 0, 1)?
                .0
                .pop()
                .ok_or(MidbError::Store(StoreError::NoSuchUid {
                    folder: groxide_store::FolderId(folder),
                    uid: groxide_store::ImapUid(uid),
                }))
        };
        let e = find()?;
        if e.content_hash.is_some() {
            return Ok(e);
        }
        self.inner
            .writes
            .make_mime(open.dir(), e.message_id.0)
            .await?;
        find()
    }

    /// Gives every entry without a MIME form one (made by the writer), so
    /// that each has a content hash; entries gone meanwhile are dropped.
    pub(crate) async fn with_content(
        &self,
        open: &OpenStore,
        folder: FolderId,
        entries: Vec<Entry>,
    ) -> Result<Vec<Entry>, MidbError> {
        if entries.iter().all(|e| e.content_hash.is_some()) {
            return Ok(entries);
        }
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            if e.content_hash.is_some() {
                out.push(e);
                continue;
            }
            match self.entry_with_content(open, folder, e.uid.0).await {
                Ok(e) => out.push(e),
                Err(MidbError::Store(StoreError::NoSuchUid { .. })) => {}
                Err(MidbError::Write(groxide_mailview::ViewError::NoSuchMessage)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(out)
    }

    /// The bytes `range` of a content file (clamped to its size).
    pub(crate) fn read_range(
        open: &OpenStore,
        hash: &ContentHash,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<u8>, MidbError> {
        let path = open.reader().content_path(hash);
        let io = |e: std::io::Error| {
            MidbError::Store(StoreError::Io {
                op: "read",
                path: path.clone(),
                source: e,
            })
        };
        let mut f = std::fs::File::open(&path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        let start = range.start.min(len);
        let end = range.end.min(len).max(start);
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut out = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
        f.take(end - start).read_to_end(&mut out).map_err(io)?;
        Ok(out)
    }

    /// Makes sure every content of `entries` has a cached digest, reading
    /// and parsing each missing one once. Entries must have content hashes
    /// (see [`StoreView::with_content`]).
    pub(crate) async fn ensure_digests(
        &self,
        open: &Arc<OpenStore>,
        entries: &[Entry],
    ) -> Result<(), MidbError> {
        let missing: HashSet<ContentHash> = Self::with_db(open, |db| {
            db.missing(entries.iter().filter_map(|e| e.content_hash.as_ref()))
        })?
        .into_iter()
        .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let max = self.settings().search_text_max;
        let mut done = HashSet::new();
        for e in entries {
            let Some(hash) = e.content_hash else { continue };
            if !missing.contains(&hash) || !done.insert(hash) {
                continue;
            }
            let digest = if e.size <= PARSE_INLINE_MAX {
                let raw = Self::read_range(open, &hash, 0..u64::MAX)?;
                Digest::compute(&raw, max)
            } else {
                // The whole message is in memory while it is parsed: bound
                // how many bytes of them are, so many large (or hostile)
                // messages fetched at once cannot exhaust memory.
                let weight = mib_of(e.size).min(self.inner.parse_budget_mib);
                let _permit = self
                    .inner
                    .parse_budget
                    .acquire_many(weight)
                    .await
                    .map_err(|_| MidbError::Internal("parse budget closed".into()))?;
                let o = open.clone();
                tokio::task::spawn_blocking(move || -> Result<Digest, MidbError> {
                    let raw = Self::read_range(&o, &hash, 0..u64::MAX)?;
                    Ok(Digest::compute(&raw, max))
                })
                .await??
            };
            Self::with_db(open, |db| db.insert(&hash, &digest))?;
        }
        Ok(())
    }

    /// Streams the bytes `range` of a content file in pieces; small ranges
    /// are read here, large ones piece by piece on blocking threads.
    pub(crate) fn stream_range(
        open: Arc<OpenStore>,
        hash: ContentHash,
        range: std::ops::Range<u64>,
    ) -> groxide_mailview::ViewStream<bytes::Bytes> {
        let pieces =
            futures_util::stream::unfold(Some((open, range.start)), move |state| async move {
                let (open, at) = state?;
                if at >= range.end {
                    return None;
                }
                let end = range.end.min(at.saturating_add(READ_PIECE as u64));
                let piece = if end - at <= READ_PIECE as u64 && at == range.start {
                    Self::read_range(&open, &hash, at..end)
                } else {
                    let o = open.clone();
                    match tokio::task::spawn_blocking(move || Self::read_range(&o, &hash, at..end))
                        .await
                    {
                        Ok(r) => r,
                        Err(e) => Err(e.into()),
                    }
                };
                match piece {
                    Ok(p) if p.is_empty() => None,
                    Ok(p) => {
                        let next = at + p.len() as u64;
                        Some((Ok(bytes::Bytes::from(p)), Some((open, next))))
                    }
                    Err(e) => Some((Err(e.into()), None)),
                }
            });
        pieces.boxed()
    }
}
