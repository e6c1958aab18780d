//! The spool: one file per message being received, so a message is never
//! held in memory as a whole. A spool file lives only while its transaction
//! does: it is removed when the deliveries are done, when the transaction
//! fails, and (for files of a process that died) when the daemon starts.
//!
//! Spool files need no fsync: nothing is acknowledged before the stores
//! committed, so a crash only makes the client retry.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The unit of spool I/O: bytes are written and read in pieces of this size,
/// one trip to the blocking thread pool each (so a small message costs one
/// trip to write and one to read, and memory stays bounded for any size).
pub const SPOOL_CHUNK: usize = 64 * 1024;

/// File name suffix of spool files.
const SPOOL_SUFFIX: &str = ".eml";

/// Runs file I/O on the blocking pool; a panic there is an I/O error here.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| std::io::Error::other(format!("spool I/O task failed: {e}")))?
}

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

    /// Starts a spool file for the transaction `queue_id`. The file is made
    /// when the first piece is written.
    pub fn create(&self, queue_id: &str) -> SpoolWriter {
        let path = self
            .dir
            .join(format!("{}.{queue_id}{SPOOL_SUFFIX}", std::process::id()));
        SpoolWriter {
            buf: Vec::new(),
            file: None,
            guard: SpoolGuard(path),
            len: 0,
        }
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
    /// Bytes not yet written (less than [`SPOOL_CHUNK`] between calls).
    buf: Vec<u8>,
    file: Option<std::fs::File>,
    guard: SpoolGuard,
    len: u64,
}

impl SpoolWriter {
    /// Appends message bytes.
    pub async fn write(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        self.len += bytes.len() as u64;
        while !bytes.is_empty() {
            let take = bytes.len().min(SPOOL_CHUNK - self.buf.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == SPOOL_CHUNK {
                self.flush_piece().await?;
            }
        }
        Ok(())
    }

    /// Writes the buffered piece (creating the file first if needed).
    async fn flush_piece(&mut self) -> std::io::Result<()> {
        let mut piece = std::mem::take(&mut self.buf);
        let file = self.file.take();
        let path = self.guard.0.clone();
        let (file, mut piece) = blocking(move || {
            let mut file = match file {
                Some(f) => f,
                None => std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)?,
            };
            file.write_all(&piece)?;
            piece.clear();
            Ok((file, piece))
        })
        .await?;
        self.file = Some(file);
        // The allocation is reused for the next piece.
        std::mem::swap(&mut self.buf, &mut piece);
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
        if !self.buf.is_empty() || self.file.is_none() {
            self.flush_piece().await?;
        }
        drop(self.file.take());
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

    /// A reader of the message in pieces of at most [`SPOOL_CHUNK`] bytes;
    /// each delivery reads the file on its own.
    pub fn reader(&self) -> SpoolReader {
        SpoolReader {
            path: self.path().to_path_buf(),
            file: None,
            done: false,
        }
    }
}

/// Reads a spooled message piece by piece.
#[derive(Debug)]
pub struct SpoolReader {
    path: PathBuf,
    file: Option<std::fs::File>,
    done: bool,
}

impl SpoolReader {
    /// The next piece, or `None` at the end. The file is opened by the first
    /// call, in the same trip to the blocking pool as the first read.
    pub async fn next_piece(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let file = self.file.take();
        let path = self.path.clone();
        let (file, piece) = blocking(move || {
            let mut file = match file {
                Some(f) => f,
                None => std::fs::File::open(&path)?,
            };
            let mut piece = vec![0u8; SPOOL_CHUNK];
            let mut filled = 0;
            while filled < piece.len() {
                match file.read(&mut piece[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            piece.truncate(filled);
            Ok((file, piece))
        })
        .await?;
        if piece.len() < SPOOL_CHUNK {
            self.done = true;
        } else {
            self.file = Some(file);
        }
        if piece.is_empty() {
            return Ok(None);
        }
        Ok(Some(piece))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spool_file_lives_as_long_as_its_message() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let mut w = spool.create("q1");
        w.write(b"hello ").await.unwrap();
        w.write(b"world").await.unwrap();
        let msg = w.finish().await.unwrap();
        assert_eq!(msg.len(), 11);
        assert_eq!(std::fs::read(msg.path()).unwrap(), b"hello world");
        let mut r = msg.reader();
        assert_eq!(
            r.next_piece().await.unwrap().as_deref(),
            Some(&b"hello world"[..])
        );
        assert_eq!(r.next_piece().await.unwrap(), None);
        assert_eq!(spool.file_count(), 1);
        drop(msg);
        assert_eq!(spool.file_count(), 0);
    }

    #[tokio::test]
    async fn an_abandoned_spool_file_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let mut w = spool.create("q2");
        w.write(&vec![b'x'; SPOOL_CHUNK + 10]).await.unwrap();
        assert_eq!(spool.file_count(), 1, "a full piece is on disk");
        drop(w);
        assert_eq!(spool.file_count(), 0);
    }

    #[tokio::test]
    async fn a_message_of_several_pieces_reads_back_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let data: Vec<u8> = (0..3 * SPOOL_CHUNK + 17).map(|i| (i % 251) as u8).collect();
        for exact in [data.len(), 2 * SPOOL_CHUNK, 0] {
            let mut w = spool.create(&format!("q{exact}"));
            for part in data[..exact].chunks(1000) {
                w.write(part).await.unwrap();
            }
            let msg = w.finish().await.unwrap();
            assert_eq!(msg.len(), exact as u64);
            let mut r = msg.reader();
            let mut back = Vec::new();
            while let Some(p) = r.next_piece().await.unwrap() {
                assert!(p.len() <= SPOOL_CHUNK);
                back.extend(p);
            }
            assert_eq!(back, data[..exact]);
        }
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
