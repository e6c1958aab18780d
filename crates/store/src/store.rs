//! One open store: its read connections, its writer thread and its content
//! files. Every method is blocking: reads run on the calling thread over a
//! pooled read connection (WAL lets them run beside the writer); writes are
//! queued to the store's writer thread and return after their batch commits.
//! Async callers run them with `spawn_blocking`.

use crate::content::{ContentFiles, ContentWriter, StagedContent, StoreLayout, sync_dir};
use crate::derive;
use crate::error::{Result, StoreError};
use crate::events::CommitObserver;
use crate::flags::{FlagOp, ImapFlags};
use crate::folders::{self, FolderInfo, FolderRef, StoreKind};
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId, UidRange};
use crate::messages::{
    self, CopyOutcome, FlagsOutcome, InsertedMessage, MapiMessage, MessageEntry, NewMessage,
};
use crate::props::{Prop, PropTag, PropValue, to_sql};
use crate::schema;
use crate::tags::*;
use crate::tx::{WriteCtx, unix_now};
use crate::writer::{SharedLimits, Writer, WriterCounts, WriterSetup};
use rusqlite::{Connection, OptionalExtension, params};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Read connections kept open per store when idle. A busy mailbox (a phone,
/// a desktop client and webmail, each with several connections) reads from
/// many threads at once; a connection opened for one read and dropped costs
/// an open, a schema parse and its statement cache.
pub const MAX_IDLE_READERS: usize = 16;
/// Size of the chunks [`Store::insert_mime_from`] copies in.
const COPY_CHUNK: usize = 64 * 1024;

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
    dir: PathBuf,
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

    // ----- writes -----

    /// Counters of the writer (commits vs. writes shows group commit at work).
    pub fn writer_stats(&self) -> WriterCounts {
        self.writer.stats()
    }

    /// The message's RFC 5322 form. For a message created as properties it is
    /// generated now and cached until the message changes.
    pub fn content(&self, id: MessageId) -> Result<MessageContent> {
        match self.reader.content(id) {
            Err(StoreError::NoMimeYet(_)) => {
                let hash = self.generate_content(id)?;
                self.open_content(&hash)
            }
            other => other,
        }
    }

    fn generate_content(&self, id: MessageId) -> Result<ContentHash> {
        let rec = self.with_reader(|c| messages::read(c, id))?;
        let mut attachments = Vec::with_capacity(rec.attachments.len());
        for a in &rec.attachments {
            let mut bytes = Vec::new();
            self.attachment_content(id, a.position)?
                .read_to_end(&mut bytes)
                .map_err(|e| StoreError::io("read attachment of", self.reader.dir.clone(), e))?;
            attachments.push((a.props.clone(), bytes));
        }
        let outgoing = derive::build_outgoing(&rec.props, &rec.recipients, &attachments);
        let raw = groxide_mime::build_mime(&outgoing).map_err(|e| {
            StoreError::InvalidArgument(format!("cannot build MIME for message {id}: {e}"))
        })?;
        let mut w = self.files.writer(u64::MAX)?;
        w.write_chunk(&raw)?;
        let staged = w.finish()?;
        let (hash, size) = (staged.hash(), staged.size());
        let seen = rec.entry.cn;
        self.writer.submit(staged, move |ctx| {
            messages::cache_generated(ctx, id, seen, &hash, size)
        })?;
        Ok(hash)
    }

    /// A writer that stages a new message's bytes (limit: the max message size).
    pub fn stage_content(&self) -> Result<ContentWriter> {
        self.files.writer(self.limits.get().max_message_size)
    }

    /// Inserts a message from staged RFC 5322 bytes into `folder`; its
    /// properties are derived from the bytes (best effort: broken MIME is
    /// stored all the same).
    pub fn insert_mime(
        &self,
        folder: impl Into<FolderRef>,
        mut staged: StagedContent,
        new: NewMessage,
    ) -> Result<InsertedMessage> {
        let raw = match staged.take_bytes() {
            Some(b) => b,
            None => self.read_file(&staged.hash())?,
        };
        let derived = derive::derive_mime(&raw);
        drop(raw);
        let (hash, size) = (staged.hash(), staged.size());
        let r = folder.into();
        self.writer.submit(staged, move |ctx| {
            let fid = folders::resolve(ctx.conn, r)?;
            messages::insert_mime(ctx, fid, &hash, size, &new, &derived)
        })
    }

    /// Stages `raw` and inserts it (see [`Store::insert_mime`]).
    pub fn insert_mime_from(
        &self,
        folder: impl Into<FolderRef>,
        mut raw: impl Read,
        new: NewMessage,
    ) -> Result<InsertedMessage> {
        let mut w = self.stage_content()?;
        let mut buf = vec![0u8; COPY_CHUNK];
        loop {
            let n = match raw.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StoreError::io("read message from", "caller", e)),
            };
            w.write_chunk(&buf[..n])?;
        }
        let staged = w.finish()?;
        self.insert_mime(folder, staged, new)
    }

    /// Inserts a message created as properties. Its MIME form is generated
    /// on first [`Store::content`].
    pub fn insert_mapi(
        &self,
        folder: impl Into<FolderRef>,
        message: MapiMessage,
        new: NewMessage,
    ) -> Result<InsertedMessage> {
        let max = self.limits.get().max_message_size;
        let size = messages::mapi_size(&message);
        if size > max {
            return Err(StoreError::TooLarge { size, max });
        }
        let mut staged = Vec::with_capacity(message.attachments.len());
        for a in &message.attachments {
            let mut w = self.files.writer(max)?;
            w.write_chunk(&a.content)?;
            staged.push(w.finish()?);
        }
        let hashes: Vec<(ContentHash, u64)> = staged.iter().map(|s| (s.hash(), s.size())).collect();
        let r = folder.into();
        self.writer.submit(staged, move |ctx| {
            let fid = folders::resolve(ctx.conn, r)?;
            messages::insert_mapi(ctx, fid, &message, &hashes, &new)
        })
    }

    /// Creates a folder.
    pub fn create_folder(
        &self,
        parent: impl Into<FolderRef>,
        name: &str,
        container_class: &str,
    ) -> Result<FolderInfo> {
        let (p, name, class) = (parent.into(), name.to_string(), container_class.to_string());
        self.writer.submit((), move |ctx| {
            let parent = folders::resolve(ctx.conn, p)?;
            folders::create(ctx, parent, &name, &class)
        })
    }

    /// Renames a folder.
    pub fn rename_folder(&self, folder: impl Into<FolderRef>, name: &str) -> Result<FolderInfo> {
        let (f, name) = (folder.into(), name.to_string());
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            folders::rename(ctx, id, &name)
        })
    }

    /// Moves a folder under `new_parent`, optionally renaming it.
    pub fn move_folder(
        &self,
        folder: impl Into<FolderRef>,
        new_parent: impl Into<FolderRef>,
        name: Option<&str>,
    ) -> Result<FolderInfo> {
        let (f, p, name) = (folder.into(), new_parent.into(), name.map(str::to_owned));
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            let parent = folders::resolve(ctx.conn, p)?;
            folders::move_to(ctx, id, parent, name.as_deref())
        })
    }

    /// Deletes a folder with its subfolders and messages (soft or hard).
    pub fn delete_folder(&self, folder: impl Into<FolderRef>, hard: bool) -> Result<()> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            folders::delete(ctx, id, hard)
        })
    }

    /// Deletes the messages of a folder (and its subfolders when asked).
    pub fn empty_folder(
        &self,
        folder: impl Into<FolderRef>,
        hard: bool,
        subfolders: bool,
    ) -> Result<()> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            folders::empty(ctx, id, hard, subfolders)
        })
    }

    /// Sets and removes folder properties.
    pub fn set_folder_props(
        &self,
        folder: impl Into<FolderRef>,
        set: Vec<Prop>,
        remove: Vec<PropTag>,
    ) -> Result<()> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            folders::set_props(ctx, id, &set, &remove)
        })
    }

    /// Sets and removes message properties (flag-mapped ones change the IMAP flags).
    pub fn set_message_props(
        &self,
        id: MessageId,
        set: Vec<Prop>,
        remove: Vec<PropTag>,
    ) -> Result<MessageEntry> {
        self.writer
            .submit((), move |ctx| messages::set_props(ctx, id, &set, &remove))
    }

    /// Marks a message read or unread.
    pub fn set_read(&self, id: MessageId, read: bool) -> Result<MessageEntry> {
        self.writer
            .submit((), move |ctx| messages::set_read(ctx, id, read))
    }

    /// Changes IMAP flags and keywords of messages by UID.
    pub fn set_flags(
        &self,
        folder: impl Into<FolderRef>,
        uids: Vec<UidRange>,
        op: FlagOp,
        flags: ImapFlags,
        keywords: Vec<String>,
        unchanged_since: Option<ChangeNumber>,
    ) -> Result<FlagsOutcome> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            messages::set_flags(ctx, id, &uids, op, flags, &keywords, unchanged_since)
        })
    }

    /// Copies messages by UID; new UIDs in the target.
    pub fn copy_messages(
        &self,
        folder: impl Into<FolderRef>,
        uids: Vec<UidRange>,
        target: impl Into<FolderRef>,
    ) -> Result<CopyOutcome> {
        let (f, t) = (folder.into(), target.into());
        self.writer.submit((), move |ctx| {
            let (src, dst) = (
                folders::resolve(ctx.conn, f)?,
                folders::resolve(ctx.conn, t)?,
            );
            messages::copy(ctx, src, &uids, dst)
        })
    }

    /// Moves messages by UID; new UIDs in the target, tombstones in the source.
    pub fn move_messages(
        &self,
        folder: impl Into<FolderRef>,
        uids: Vec<UidRange>,
        target: impl Into<FolderRef>,
    ) -> Result<CopyOutcome> {
        let (f, t) = (folder.into(), target.into());
        self.writer.submit((), move |ctx| {
            let (src, dst) = (
                folders::resolve(ctx.conn, f)?,
                folders::resolve(ctx.conn, t)?,
            );
            messages::move_to(ctx, src, &uids, dst)
        })
    }

    /// Deletes (expunges) messages by UID; returns the UIDs removed.
    pub fn delete_messages(
        &self,
        folder: impl Into<FolderRef>,
        uids: Vec<UidRange>,
        hard: bool,
    ) -> Result<Vec<ImapUid>> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            messages::delete_uids(ctx, id, &uids, hard)
        })
    }

    /// Deletes one message by id.
    pub fn delete_message(&self, id: MessageId, hard: bool) -> Result<ImapUid> {
        self.writer
            .submit((), move |ctx| messages::delete_message(ctx, id, hard))
    }

    /// Hard-deletes what was soft-deleted at least `older_than` ago.
    /// Returns (messages, folders) purged.
    pub fn purge_soft_deleted(&self, older_than: Duration) -> Result<(u64, u64)> {
        let age = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        self.writer.submit((), move |ctx| {
            messages::purge_soft_deleted(ctx, ctx.now.saturating_sub(age))
        })
    }

    /// Removes content files nothing references (left by a crash between
    /// staging and commit) and old staging files. Returns how many went.
    pub fn purge_content(&self) -> Result<u64> {
        let files = self.files.clone();
        self.writer.submit((), move |ctx| {
            let conn = ctx.conn;
            files.sweep(|h| {
                conn.prepare_cached("SELECT 1 FROM content_files WHERE hash = ?1")
                    .and_then(|mut s| s.query_row([&h.0[..]], |_| Ok(())).optional())
                    .map(|r| r.is_some())
                    .unwrap_or(true)
            })
        })
    }

    #[doc(hidden)]
    /// Inserts `n` messages with the bytes of `staged` in one write: a fast
    /// way to fill a folder for benchmarks and load tests.
    pub fn insert_copies(
        &self,
        folder: impl Into<FolderRef>,
        mut staged: StagedContent,
        n: usize,
    ) -> Result<()> {
        let raw = match staged.take_bytes() {
            Some(b) => b,
            None => self.read_file(&staged.hash())?,
        };
        let derived = derive::derive_mime(&raw);
        let (hash, size) = (staged.hash(), staged.size());
        let r = folder.into();
        self.writer.submit(staged, move |ctx| {
            let fid = folders::resolve(ctx.conn, r)?;
            for _ in 0..n {
                messages::insert_mime(ctx, fid, &hash, size, &NewMessage::default(), &derived)?;
            }
            Ok(())
        })
    }

    /// Sets the quota in bytes (0 = none).
    pub fn set_quota(&self, bytes: u64) -> Result<()> {
        self.writer.submit((), move |ctx| {
            ctx.conn.execute(
                "UPDATE store_info SET quota_bytes = ?1 WHERE id = 1",
                [bytes as i64],
            )?;
            Ok(())
        })
    }
}
