//! Content files: raw messages and attachment data under `<dir>/cid/`, named
//! by the SHA-256 of their bytes, written through `<dir>/tmp/` so that a
//! file under `cid/` is always complete.
//!
//! A file is staged by its writer (hashed while written, fsynced, renamed
//! into place, directory fsynced) before the transaction that references it
//! commits. A hash is *pending* from staging until that transaction is done,
//! so the writer thread, which unlinks files whose last reference it
//! dropped, never removes a file a staged write is about to reference.

use crate::error::{Result, StoreError};
use crate::ids::ContentHash;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Staged content up to this size is kept in memory too, so deriving
/// properties does not read the file back.
pub const KEEP_IN_MEMORY: usize = 1024 * 1024;

/// Where a store's files live.
#[derive(Debug, Clone)]
pub struct StoreLayout {
    root: PathBuf,
}

impl StoreLayout {
    /// The layout of the store at `dir`.
    pub fn new(dir: &Path) -> StoreLayout {
        StoreLayout {
            root: dir.to_path_buf(),
        }
    }

    /// The store directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<dir>/exmdb`.
    pub fn exmdb_dir(&self) -> PathBuf {
        self.root.join("exmdb")
    }

    /// `<dir>/exmdb/exchange.sqlite3`.
    pub fn database(&self) -> PathBuf {
        self.exmdb_dir().join("exchange.sqlite3")
    }

    /// `<dir>/cid`.
    pub fn cid_dir(&self) -> PathBuf {
        self.root.join("cid")
    }

    /// `<dir>/tmp`.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// `<dir>/cid/<first two hex digits>`.
    pub fn fanout_dir(&self, hash: &ContentHash) -> PathBuf {
        let hex = hash.to_hex();
        self.cid_dir().join(&hex[..2])
    }

    /// `<dir>/cid/<xx>/<sha256 hex>`.
    pub fn content_path(&self, hash: &ContentHash) -> PathBuf {
        self.fanout_dir(hash).join(hash.to_hex())
    }

    /// Creates the directories (every fan-out directory up front, so staging
    /// only ever fsyncs the one directory it renames into).
    pub fn create_dirs(&self) -> Result<()> {
        for d in [self.exmdb_dir(), self.tmp_dir(), self.cid_dir()] {
            std::fs::create_dir_all(&d).map_err(|e| StoreError::io("create directory", &d, e))?;
        }
        for i in 0..=255u8 {
            let d = self.cid_dir().join(format!("{i:02x}"));
            std::fs::create_dir_all(&d).map_err(|e| StoreError::io("create directory", &d, e))?;
        }
        for d in [self.cid_dir(), self.exmdb_dir(), self.root.clone()] {
            sync_dir(&d)?;
        }
        if let Some(parent) = self.root.parent() {
            sync_dir(parent)?;
        }
        Ok(())
    }
}

/// fsyncs a directory, making renames and creations in it durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io("fsync directory", dir, e))
}

/// The content files of one open store.
#[derive(Debug)]
pub(crate) struct ContentFiles {
    layout: StoreLayout,
    pending: Mutex<HashMap<ContentHash, usize>>,
    tmp_seq: AtomicU64,
}

impl ContentFiles {
    pub(crate) fn new(layout: StoreLayout) -> ContentFiles {
        ContentFiles {
            layout,
            pending: Mutex::new(HashMap::new()),
            tmp_seq: AtomicU64::new(0),
        }
    }

    pub(crate) fn layout(&self) -> &StoreLayout {
        &self.layout
    }

    /// A writer staging new content of at most `max_size` bytes.
    pub(crate) fn writer(self: &Arc<Self>, max_size: u64) -> Result<ContentWriter> {
        let n = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = self
            .layout
            .tmp_dir()
            .join(format!("{}.{n}.{nanos}", std::process::id()));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StoreError::io("create", &path, e))?;
        Ok(ContentWriter {
            files: self.clone(),
            file: Some(file),
            tmp_path: path,
            hasher: Sha256::new(),
            size: 0,
            max_size,
            keep: Some(Vec::new()),
            too_large: false,
        })
    }

    fn add_pending(&self, hash: ContentHash) {
        let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        *p.entry(hash).or_insert(0) += 1;
    }

    fn release_pending(&self, hash: &ContentHash) {
        let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = p.get_mut(hash) {
            *n -= 1;
            if *n == 0 {
                p.remove(hash);
            }
        }
    }

    /// Unlinks the files of `hashes` unless a staged write is about to use
    /// them or `referenced` (the database) still knows them. Runs in the
    /// writer thread after the commit that dropped their last reference.
    pub(crate) fn unlink_unreferenced(
        &self,
        hashes: &[ContentHash],
        referenced: impl Fn(&ContentHash) -> bool,
    ) {
        if hashes.is_empty() {
            return;
        }
        // Held while unlinking: a writer that stages the same hash now waits,
        // then finds the file gone and renames its own copy into place.
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        for h in hashes {
            if pending.contains_key(h) || referenced(h) {
                continue;
            }
            let path = self.layout.content_path(h);
            if let Err(e) = std::fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove unreferenced content file");
            }
        }
    }

    /// Removes every content file the database does not reference and every
    /// staging leftover in `tmp/`. Returns how many files went.
    pub(crate) fn sweep(&self, referenced: impl Fn(&ContentHash) -> bool) -> Result<u64> {
        let mut removed = 0;
        let cid = self.layout.cid_dir();
        let fanouts = std::fs::read_dir(&cid).map_err(|e| StoreError::io("list", &cid, e))?;
        for fan in fanouts.flatten() {
            let Ok(files) = std::fs::read_dir(fan.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name();
                // Locked per file, so a sweep of a big store does not stall staging.
                let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                let keep = name
                    .to_str()
                    .and_then(ContentHash::from_hex)
                    .is_some_and(|h| pending.contains_key(&h) || referenced(&h));
                if !keep && std::fs::remove_file(f.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        removed += self.clear_tmp_older_than(std::time::Duration::from_secs(3600))?;
        Ok(removed)
    }

    /// Removes staging files older than `age` (all of them at open: no writer runs yet).
    pub(crate) fn clear_tmp_older_than(&self, age: std::time::Duration) -> Result<u64> {
        let tmp = self.layout.tmp_dir();
        let entries = match std::fs::read_dir(&tmp) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::io("list", &tmp, e)),
        };
        let mut removed = 0;
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|el| el >= age);
            if old && std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Opens a content file for reading.
    pub(crate) fn open(&self, hash: &ContentHash) -> Result<File> {
        let path = self.layout.content_path(hash);
        File::open(&path).map_err(|e| StoreError::io("open content", &path, e))
    }
}

/// Writes one piece of content to `tmp/`, hashing as it goes. Dropped
/// without [`ContentWriter::finish`], the staging file is removed.
pub struct ContentWriter {
    files: Arc<ContentFiles>,
    file: Option<File>,
    tmp_path: PathBuf,
    hasher: Sha256,
    size: u64,
    max_size: u64,
    keep: Option<Vec<u8>>,
    too_large: bool,
}

impl std::fmt::Debug for ContentWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentWriter")
            .field("tmp_path", &self.tmp_path)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl ContentWriter {
    /// Appends bytes. Fails with [`StoreError::TooLarge`] past the limit.
    pub fn write_chunk(&mut self, chunk: &[u8]) -> Result<()> {
        let new_size = self.size + chunk.len() as u64;
        if new_size > self.max_size {
            self.too_large = true;
            return Err(StoreError::TooLarge {
                size: new_size,
                max: self.max_size,
            });
        }
        let file = self.file.as_mut().ok_or(StoreError::Closed)?;
        file.write_all(chunk)
            .map_err(|e| StoreError::io("write", &self.tmp_path, e))?;
        self.hasher.update(chunk);
        self.size = new_size;
        if let Some(k) = &mut self.keep {
            if k.len() + chunk.len() <= KEEP_IN_MEMORY {
                k.extend_from_slice(chunk);
            } else {
                self.keep = None;
            }
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Makes the content durable under `cid/`: fsync, rename into place (or
    /// drop the copy when that content is already stored), fsync the directory.
    pub fn finish(mut self) -> Result<StagedContent> {
        if self.too_large {
            return Err(StoreError::TooLarge {
                size: self.size,
                max: self.max_size,
            });
        }
        let file = self.file.take().ok_or(StoreError::Closed)?;
        file.sync_data()
            .map_err(|e| StoreError::io("fsync", &self.tmp_path, e))?;
        drop(file);
        let hash = ContentHash(self.hasher.finalize_reset().into());
        self.files.add_pending(hash);
        let guard = PendingGuard {
            files: self.files.clone(),
            hash,
        };
        let layout = self.files.layout();
        let target = layout.content_path(&hash);
        if target.exists() {
            let _ = std::fs::remove_file(&self.tmp_path);
        } else {
            std::fs::rename(&self.tmp_path, &target)
                .map_err(|e| StoreError::io("rename into", &target, e))?;
        }
        // Also when the file existed: its own writer may not have synced the directory yet.
        sync_dir(&layout.fanout_dir(&hash))?;
        Ok(StagedContent {
            hash,
            size: self.size,
            bytes: self.keep.take(),
            _guard: guard,
        })
    }
}

impl Write for ContentWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_chunk(buf)
            .map(|()| buf.len())
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ContentWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// Content that is durable under `cid/` and waiting to be referenced by a
/// write. Dropping it ends the pending state (an unreferenced file is then
/// removed by the next sweep).
#[derive(Debug)]
pub struct StagedContent {
    hash: ContentHash,
    size: u64,
    bytes: Option<Vec<u8>>,
    _guard: PendingGuard,
}

impl StagedContent {
    /// The SHA-256 of the content.
    pub fn hash(&self) -> ContentHash {
        self.hash
    }

    /// Its length in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes, when they were small enough to keep in memory.
    pub(crate) fn take_bytes(&mut self) -> Option<Vec<u8>> {
        self.bytes.take()
    }
}

#[derive(Debug)]
struct PendingGuard {
    files: Arc<ContentFiles>,
    hash: ContentHash,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.files.release_pending(&self.hash);
    }
}
