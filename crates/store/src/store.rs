//! One open store: its read connections, its writer thread and its content
//! files. Every method is blocking: reads run on the calling thread over a
//! pooled read connection (WAL lets them run beside the writer); writes are
//! queued to the store's writer thread and return after their batch commits.
//! Async callers run them with `spawn_blocking`.

use crate::content::{ContentFiles, StoreLayout, sync_dir};
use crate::error::{Result, StoreError};
use crate::events::CommitObserver;
use crate::folders::{self, FolderInfo, FolderRef, StoreKind};
use crate::ids::{ChangeNumber, ContentHash, FolderId, UidRange};
use crate::messages::{self, MessageEntry};
use crate::props::{Prop, PropTag, PropValue, to_sql};
use crate::schema;
use crate::tags::*;
use crate::tx::{WriteCtx, unix_now};
use crate::writer::{SharedLimits, Writer, WriterSetup};
use rusqlite::{Connection, OptionalExtension, params};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Read connections kept open per store when idle, in each process that
/// reads it. A busy mailbox (a phone, a desktop client and webmail, each
/// with several connections) reads from several threads at once; a
/// connection opened for one read and dropped costs an open, a schema parse
/// and its statement cache. More than the threads that read at once in the
/// common case, few enough that a burst leaves little behind: each idle one
/// keeps its page cache (up to `READER_CACHE_KIB`) and statements.
pub const MAX_IDLE_READERS: usize = 8;

/// How a store is opened.
#[derive(Clone)]
pub struct OpenOptions {
    /// How long SQLite waits on a locked database (`sqlite_busy_timeout`).
    pub busy_timeout: Duration,
    /// Message size and count limits, shared with the other stores.
    pub limits: Arc<SharedLimits>,
    /// Told about every commit.
    pub observer: Option<Arc<dyn CommitObserver>>,
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("busy_timeout", &self.busy_timeout)
            .field("limits", &self.limits.get())
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            busy_timeout: Duration::from_secs(60),
            limits: Arc::new(SharedLimits::default()),
            observer: None,
        }
    }
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStore {
    /// Private or public.
    pub kind: StoreKind,
    /// User name (private) or domain name (public).
    pub owner: String,
    /// Language of the standard folders' names, a tag such as `de` or
    /// `de_DE` ("" or an unknown language = English; see
    /// [`crate::folder_names::LANGUAGES`]).
    pub lang: String,
    /// Quota in bytes; 0 = none.
    pub quota_bytes: u64,
}

/// The store-wide numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    /// Private or public.
    pub kind: StoreKind,
    /// The owner given at creation.
    pub owner: String,
    /// The random mailbox GUID.
    pub mailbox_guid: [u8; 16],
    /// The last change number given out.
    pub cn: ChangeNumber,
    /// Sum of the live messages' sizes.
    pub size: u64,
    /// Live messages.
    pub message_count: u64,
    /// Quota in bytes; 0 = none.
    pub quota_bytes: u64,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// The schema version of the database.
    pub schema_version: u32,
}

/// Folders changed or removed since a change number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HierarchyChanges {
    /// Folders created, renamed, moved or changed since, as they are now.
    pub changed: Vec<FolderInfo>,
    /// Folders deleted since, with the change number of the deletion.
    pub removed: Vec<(FolderId, ChangeNumber)>,
}

/// A message's MIME form on disk.
#[derive(Debug)]
pub struct MessageContent {
    pub(crate) file: File,
    pub(crate) len: u64,
    pub(crate) hash: ContentHash,
}

impl MessageContent {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its SHA-256.
    pub fn hash(&self) -> ContentHash {
        self.hash
    }

    /// A reader of `length` bytes from `offset` (`None`: to the end).
    pub fn reader(mut self, offset: u64, length: Option<u64>) -> Result<impl Read + Send> {
        let offset = offset.min(self.len);
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(|e| StoreError::io("seek", "content", e))?;
        let left = self.len - offset;
        Ok(self.file.take(length.map_or(left, |l| l.min(left))))
    }
}

/// The read half of a store: pooled read connections and the content
/// files. [`Store`] (the writer's process) derefs to one; other daemons of
/// the store's home node open one of their own with [`StoreReader::open`]
/// and read beside the writer (WAL): they see every transaction committed
/// before their read began, and never write.
pub struct StoreReader {
    pub(crate) dir: PathBuf,
    pub(crate) files: Arc<ContentFiles>,
    readers: Mutex<Vec<Connection>>,
    busy_timeout: Duration,
    pub(crate) named: crate::named::NameCache,
}

impl std::fmt::Debug for StoreReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreReader")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// One read transaction of a store: every call sees the same snapshot
/// (see [`StoreReader::read`]).
pub struct ReadTxn<'a> {
    conn: &'a Connection,
}

impl std::fmt::Debug for ReadTxn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTxn").finish_non_exhaustive()
    }
}

impl ReadTxn<'_> {
    /// Every folder with its counters, ordered by id.
    pub fn folders(&self) -> Result<Vec<FolderInfo>> {
        folders::list(self.conn)
    }

    /// Every folder with those of its properties whose tags are in `tags`.
    pub fn folders_with_props(&self, tags: &[PropTag]) -> Result<Vec<(FolderInfo, Vec<Prop>)>> {
        folders::list(self.conn)?
            .into_iter()
            .map(|f| {
                let props = if tags.is_empty() {
                    Vec::new()
                } else {
                    folders::props(self.conn, f.id)?
                        .into_iter()
                        .filter(|(t, _)| tags.contains(t))
                        .collect()
                };
                Ok((f, props))
            })
            .collect()
    }

    /// A folder with what IMAP SELECT/STATUS need beyond its counters.
    pub fn folder_with_imap_status(
        &self,
        r: impl Into<FolderRef>,
    ) -> Result<(FolderInfo, folders::ImapStatus)> {
        let id = folders::resolve(self.conn, r.into())?;
        Ok((
            folders::get(self.conn, id)?,
            folders::imap_status(self.conn, id)?,
        ))
    }

    /// The messages of a folder with UIDs in any of `ranges` (ascending,
    /// disjoint), in UID order, until `each` returns false.
    pub fn list_messages_in(
        &self,
        folder: impl Into<FolderRef>,
        ranges: &[UidRange],
        mut each: impl FnMut(MessageEntry) -> bool,
    ) -> Result<()> {
        let id = folders::resolve(self.conn, folder.into())?;
        let mut go_on = true;
        for r in ranges {
            messages::list(self.conn, id, *r, &mut |e| {
                go_on = each(e);
                go_on
            })?;
            if !go_on {
                break;
            }
        }
        Ok(())
    }

    /// Store-wide numbers.
    pub fn info(&self) -> Result<StoreInfo> {
        store_info(self.conn)
    }
}

/// An open store: its reader and its writer thread. Reads go through
/// [`StoreReader`] (`Deref`); writes are the methods of `Store`.
pub struct Store {
    pub(crate) reader: StoreReader,
    pub(crate) writer: Writer,
    pub(crate) limits: Arc<SharedLimits>,
}

impl std::ops::Deref for Store {
    type Target = StoreReader;

    fn deref(&self) -> &StoreReader {
        &self.reader
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.reader.dir)
            .finish_non_exhaustive()
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut out))
        .is_err()
    {
        // No urandom: derive from time and process id, still unique per creation.
        use sha2::Digest;
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        let h = sha2::Sha256::digest(seed.as_bytes());
        for (o, b) in out.iter_mut().zip(h.iter()) {
            *o = *b;
        }
    }
    out
}

fn open_connection(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let conn = Connection::open(path)?;
    schema::configure(&conn, busy_timeout)?;
    Ok(conn)
}

/// A connection that only reads: never creates the database, never
/// changes its journal mode (the writer set WAL), refuses writes.
fn open_read_connection(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    schema::configure_reader(&conn, busy_timeout)?;
    Ok(conn)
}

fn has_store_row(conn: &Connection) -> Result<bool> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_info')",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(false);
    }
    Ok(conn
        .query_row("SELECT 1 FROM store_info WHERE id = 1", [], |_| Ok(()))
        .optional()?
        .is_some())
}

impl StoreReader {
    /// Opens the store at `dir` for reading beside its writer (another
    /// process's [`Store`]): no migration, no writer, no staging clean-up.
    /// A database whose schema is not this build's is refused
    /// ([`StoreError::SchemaMismatch`]): an older one is migrated when its
    /// writer opens it, a newer one needs this build upgraded.
    pub fn open(dir: &Path, busy_timeout: Duration) -> Result<StoreReader> {
        let layout = StoreLayout::new(dir);
        let db = layout.database();
        if !db.exists() {
            return Err(StoreError::NoSuchStore(dir.to_path_buf()));
        }
        let reader = StoreReader {
            dir: dir.to_path_buf(),
            files: Arc::new(ContentFiles::new(layout)),
            readers: Mutex::new(Vec::new()),
            busy_timeout,
            named: Default::default(),
        };
        reader.with_reader(|c| {
            if !has_store_row(c)? {
                return Err(StoreError::NoSuchStore(dir.to_path_buf()));
            }
            let found = schema::version(c)?;
            if found != schema::SCHEMA_VERSION {
                return Err(StoreError::SchemaMismatch {
                    found,
                    expected: schema::SCHEMA_VERSION,
                });
            }
            Ok(())
        })?;
        Ok(reader)
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_read_connection(&self.files.layout().database(), self.busy_timeout)?,
        };
        // One read transaction: every statement of `f` sees the same
        // snapshot. Cached statements: reads are frequent and tiny, parsing
        // BEGIN and COMMIT each time showed in profiles.
        conn.prepare_cached("BEGIN DEFERRED")?.execute([])?;
        let r = f(&conn);
        if let Ok(mut commit) = conn.prepare_cached("COMMIT") {
            let _ = commit.execute([]);
        }
        let mut pool = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        r
    }

    /// Runs `f` on one read transaction: every read it makes sees the same
    /// snapshot, which holds every commit acknowledged before it began.
    pub fn read<T>(&self, f: impl FnOnce(&ReadTxn<'_>) -> Result<T>) -> Result<T> {
        self.with_reader(|conn| f(&ReadTxn { conn }))
    }

    /// Store-wide numbers.
    pub fn info(&self) -> Result<StoreInfo> {
        self.with_reader(store_info)
    }
}

fn store_info(c: &Connection) -> Result<StoreInfo> {
    let version = schema::version(c)?;
    c.query_row(
        "SELECT store_type, owner, mailbox_guid, last_cn, size_bytes, message_count, quota_bytes, created_at
         FROM store_info WHERE id = 1",
        [],
        |r| {
            let guid: Vec<u8> = r.get(2)?;
            Ok(StoreInfo {
                kind: StoreKind::from_code(r.get(0)?).unwrap_or(StoreKind::Private),
                owner: r.get(1)?,
                mailbox_guid: <[u8; 16]>::try_from(guid.as_slice()).unwrap_or_default(),
                cn: ChangeNumber(r.get::<_, i64>(3)? as u64),
                size: r.get::<_, i64>(4)? as u64,
                message_count: r.get::<_, i64>(5)? as u64,
                quota_bytes: r.get::<_, i64>(6)? as u64,
                created_at: r.get(7)?,
                schema_version: version,
            })
        },
    )
    .map_err(StoreError::from)
}

impl Store {
    /// Opens the store at `dir`: runs pending schema migrations, clears
    /// staging leftovers, starts the writer.
    pub fn open(dir: &Path, opts: &OpenOptions) -> Result<Store> {
        let layout = StoreLayout::new(dir);
        let db = layout.database();
        if !db.exists() {
            return Err(StoreError::NoSuchStore(dir.to_path_buf()));
        }
        let mut conn = open_connection(&db, opts.busy_timeout)?;
        if !has_store_row(&conn)? {
            return Err(StoreError::NoSuchStore(dir.to_path_buf()));
        }
        schema::migrate_to(&mut conn, schema::SCHEMA_VERSION)?;
        Store::start(dir, layout, conn, opts)
    }

    fn start(
        dir: &Path,
        layout: StoreLayout,
        conn: Connection,
        opts: &OpenOptions,
    ) -> Result<Store> {
        let files = Arc::new(ContentFiles::new(layout));
        // Nothing is staging yet: every leftover is from a crash.
        files.clear_tmp_older_than(Duration::ZERO)?;
        let writer = Writer::start(WriterSetup {
            dir: dir.to_path_buf(),
            conn,
            files: files.clone(),
            limits: opts.limits.clone(),
            observer: opts.observer.clone(),
        })?;
        Ok(Store {
            reader: StoreReader {
                dir: dir.to_path_buf(),
                files,
                readers: Mutex::new(Vec::new()),
                busy_timeout: opts.busy_timeout,
                named: Default::default(),
            },
            writer,
            limits: opts.limits.clone(),
        })
    }

    /// Creates a store with its standard folders at `dir`, or opens the one
    /// there. Returns the store, its mailbox GUID, and whether it was created.
    /// An existing store of the other kind is an error.
    pub fn create(
        dir: &Path,
        new: &NewStore,
        opts: &OpenOptions,
    ) -> Result<(Store, [u8; 16], bool)> {
        Store::create_at_version(dir, new, opts, schema::SCHEMA_VERSION)
    }

    #[doc(hidden)]
    /// Creates a store with the schema at `version` (tests of migrations), then opens it.
    pub fn create_at_version(
        dir: &Path,
        new: &NewStore,
        opts: &OpenOptions,
        version: u32,
    ) -> Result<(Store, [u8; 16], bool)> {
        if !dir.is_absolute() {
            return Err(StoreError::InvalidArgument(format!(
                "store directory {} is not absolute",
                dir.display()
            )));
        }
        let layout = StoreLayout::new(dir);
        layout.create_dirs()?;
        let db = layout.database();
        let mut conn = open_connection(&db, opts.busy_timeout)?;
        if has_store_row(&conn)? {
            let (kind, guid): (i64, Vec<u8>) = conn.query_row(
                "SELECT store_type, mailbox_guid FROM store_info WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let kind = StoreKind::from_code(kind)
                .ok_or_else(|| StoreError::Corrupt("unknown store type".into()))?;
            if kind != new.kind {
                return Err(StoreError::StoreTypeMismatch {
                    dir: dir.to_path_buf(),
                    existing: kind.as_str(),
                });
            }
            let guid = <[u8; 16]>::try_from(guid.as_slice())
                .map_err(|_| StoreError::Corrupt("mailbox guid".into()))?;
            drop(conn);
            return Ok((Store::open(dir, opts)?, guid, false));
        }
        schema::migrate_to(&mut conn, version)?;
        let guid: [u8; 16] = random_bytes();
        let tx = conn.transaction()?;
        let now = unix_now();
        let (standard, first_custom) = match new.kind {
            StoreKind::Private => (folders::STANDARD_PRIVATE, folders::FIRST_CUSTOM_FOLDER_ID),
            StoreKind::Public => (
                folders::STANDARD_PUBLIC,
                folders::FIRST_CUSTOM_PUBLIC_FOLDER_ID,
            ),
        };
        tx.execute(
            "INSERT INTO store_info (id, store_type, owner, lang, mailbox_guid, last_cn, last_uidvalidity,
                next_folder_id, size_bytes, message_count, quota_bytes, created_at)
             VALUES (1, ?1, ?2, ?3, ?4, 0, 0, ?5, 0, 0, ?6, ?7)",
            params![
                new.kind.code(),
                new.owner,
                new.lang,
                &guid[..],
                first_custom as i64,
                new.quota_bytes as i64,
                now
            ],
        )?;
        {
            let mut ctx = WriteCtx {
                conn: &tx,
                limits: opts.limits.get(),
                now,
                events: Vec::new(),
                unlink: Vec::new(),
            };
            for f in standard {
                let parent = (f.parent != 0).then_some(FolderId(f.parent));
                folders::insert_row(
                    &mut ctx,
                    FolderId(f.id),
                    parent,
                    crate::folder_names::localized_name(f.role, &new.lang, f.name),
                    f.class,
                    Some(f.role),
                    f.hidden,
                )?;
            }
            let mut st = tx.prepare("INSERT INTO store_properties (tag, value) VALUES (?1, ?2)")?;
            for (tag, v) in [
                (
                    PR_CREATION_TIME,
                    PropValue::SysTime(crate::props::filetime_from_unix(now)),
                ),
                (PR_DISPLAY_NAME, PropValue::Unicode(new.owner.clone())),
            ] {
                st.execute(params![i64::from(tag.0), to_sql(&v)])?;
            }
        }
        tx.commit()?;
        sync_dir(&layout.exmdb_dir())?;
        drop(conn);
        Ok((Store::open_unmigrated(dir, opts)?, guid, true))
    }

    fn open_unmigrated(dir: &Path, opts: &OpenOptions) -> Result<Store> {
        let layout = StoreLayout::new(dir);
        let conn = open_connection(&layout.database(), opts.busy_timeout)?;
        Store::start(dir, layout, conn, opts)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Holds `depth` read connections at once (nested reads), recording
    /// each one's page cache bound.
    fn nest(r: &StoreReader, depth: usize, caches: &mut Vec<i64>) {
        if depth == 0 {
            return;
        }
        r.with_reader(|c| {
            caches.push(c.query_row("PRAGMA cache_size", [], |row| row.get(0))?);
            nest(r, depth - 1, caches);
            Ok(())
        })
        .unwrap();
    }

    /// What a burst of parallel reads leaves behind in a daemon: at most
    /// `MAX_IDLE_READERS` idle connections, each with the bounded cache.
    fn burst_leaves_small_pool(reader: &StoreReader) {
        let mut caches = Vec::new();
        nest(reader, 3 * MAX_IDLE_READERS, &mut caches);
        assert_eq!(caches.len(), 3 * MAX_IDLE_READERS);
        assert!(
            caches.iter().all(|&c| c == -schema::READER_CACHE_KIB),
            "cache sizes {caches:?}"
        );
        let idle = reader.readers.lock().unwrap().len();
        assert_eq!(idle, MAX_IDLE_READERS, "idle read connections kept");
    }

    #[test]
    fn a_burst_of_parallel_reads_leaves_a_bounded_pool_of_small_caches() {
        let tmp = tempfile::tempdir().unwrap();
        let new = NewStore {
            kind: StoreKind::Private,
            owner: "pool@example.org".into(),
            lang: String::new(),
            quota_bytes: 0,
        };
        let dir = tmp.path().join("s");
        let (store, _, _) = Store::create(&dir, &new, &OpenOptions::default()).unwrap();
        // The writer's own readers (exmdb) and another daemon's (midb, imap, pop3).
        burst_leaves_small_pool(&store);
        burst_leaves_small_pool(&StoreReader::open(&dir, Duration::from_secs(5)).unwrap());
    }
}
