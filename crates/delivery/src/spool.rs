//! The spool: one file per message being received, so a message is never
//! held in memory as a whole. A spool file lives only while its transaction
//! does: it is removed when the deliveries are done, when the transaction
//! fails, and (for files of a process that died) when the daemon starts.
//!
//! Spool files need no fsync: nothing is acknowledged before the stores
//! committed, so a crash only makes the client retry.

use std::path::{Path, PathBuf};
use tokio::io::{AsyncWriteExt, BufWriter};

/// Write buffer of a spool file.
const SPOOL_WRITE_BUFFER: usize = 64 * 1024;

/// File name suffix of spool files.
const SPOOL_SUFFIX: &str = ".eml";

/// The spool directory.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// Opens (creates) the spool directory and removes the files left by
    /// processes that no longer run.
    pub fn open(dir: &Path) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)
            .map_err(|e| std::io::Error::new(e.kind(), format!("spool {}: {e}", dir.display())))?;
        let own = std::process::id();
        for entry in std::fs::read_dir(dir)?.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(stem) = name.strip_suffix(SPOOL_SUFFIX) else {
                continue;
            };
            let owner = stem.split('.').next().and_then(|p| p.parse::<u32>().ok());
            let stale = match owner {
                Some(pid) => pid == own || !Path::new(&format!("/proc/{pid}")).exists(),
                None => true,
            };
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Spool {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts a spool file for the transaction `queue_id`.
    pub async fn create(&self, queue_id: &str) -> std::io::Result<SpoolWriter> {
        let path = self
            .dir
            .join(format!("{}.{queue_id}{SPOOL_SUFFIX}", std::process::id()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(SpoolWriter {
            file: BufWriter::with_capacity(SPOOL_WRITE_BUFFER, file),
            guard: SpoolGuard(path),
            len: 0,
        })
    }

    /// How many spool files exist right now (for tests and health checks).
    pub fn file_count(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|d| d.flatten().count())
            .unwrap_or(0)
    }
}

/// Removes its file when dropped.
#[derive(Debug)]
struct SpoolGuard(PathBuf);

impl Drop for SpoolGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A spool file being written. Dropping it removes the file.
#[derive(Debug)]
pub struct SpoolWriter {
    file: BufWriter<tokio::fs::File>,
    guard: SpoolGuard,
    len: u64,
}

impl SpoolWriter {
    /// Appends message bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes).await?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Completes the file; it stays until the returned message is dropped.
    pub async fn finish(mut self) -> std::io::Result<SpooledMessage> {
        self.file.flush().await?;
        let file = self.file.into_inner();
        drop(file);
        Ok(SpooledMessage {
            guard: self.guard,
            len: self.len,
        })
    }
}

/// A complete received message in the spool. Dropping it removes the file.
#[derive(Debug)]
pub struct SpooledMessage {
    guard: SpoolGuard,
    len: u64,
}

impl SpooledMessage {
    /// The file holding the message bytes (dot-unstuffed, as received).
    pub fn path(&self) -> &Path {
        &self.guard.0
    }

    /// The message size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty message.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Opens the file for reading (each delivery reads it independently).
    pub async fn open(&self) -> std::io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.path()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spool_file_lives_as_long_as_its_message() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let mut w = spool.create("q1").await.unwrap();
        w.write(b"hello ").await.unwrap();
        w.write(b"world").await.unwrap();
        let msg = w.finish().await.unwrap();
        assert_eq!(msg.len(), 11);
        assert_eq!(std::fs::read(msg.path()).unwrap(), b"hello world");
        assert_eq!(spool.file_count(), 1);
        drop(msg);
        assert_eq!(spool.file_count(), 0);
    }

    #[tokio::test]
    async fn an_abandoned_spool_file_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let mut w = spool.create("q2").await.unwrap();
        w.write(b"partial").await.unwrap();
        drop(w);
        assert_eq!(spool.file_count(), 0);
    }

    #[test]
    fn files_of_dead_processes_are_removed_at_start() {
        let tmp = tempfile::tempdir().unwrap();
        // pid 0 never names a process directory, so it counts as dead.
        std::fs::write(tmp.path().join("0.dead.eml"), b"x").unwrap();
        std::fs::write(tmp.path().join("garbage.eml"), b"x").unwrap();
        std::fs::write(tmp.path().join("1.init.eml"), b"x").unwrap();
        std::fs::write(tmp.path().join("notes.txt"), b"x").unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(spool.dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["1.init.eml", "notes.txt"]);
    }
}
