//! midb.sqlite3: digests keyed by content hash, their part ranges, a
//! trigram FTS5 index for SEARCH, and per folder the last change number
//! midb has processed. Everything in it can be derived again from the store,
//! so a missing, outdated or corrupt file is simply rebuilt.

use crate::digest::{Digest, PartRanges, SortKeys, ThreadKeys};
use groxide_mailview::{FolderId, ModSeq as ChangeNumber, TextField};
use groxide_store::ContentHash;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bumped whenever the schema or the meaning of a derived column changes;
/// a file of another version is discarded and rebuilt.
const SCHEMA_VERSION: i64 = 4;
/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Needles shorter than this (in characters) cannot use the trigram index.
const TRIGRAM: usize = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS digest (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  header BLOB NOT NULL,
  envelope BLOB NOT NULL,
  bodystructure BLOB NOT NULL,
  body BLOB NOT NULL,
  base_subject TEXT NOT NULL,
  subject_is_reply INTEGER NOT NULL,
  sent_date INTEGER,
  sent_offset INTEGER NOT NULL,
  sort_from TEXT NOT NULL,
  sort_to TEXT NOT NULL,
  sort_cc TEXT NOT NULL,
  display_from TEXT NOT NULL,
  display_to TEXT NOT NULL,
  message_id TEXT,
  in_reply_to TEXT,
  refs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS part (
  digest INTEGER NOT NULL REFERENCES digest(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  header_start INTEGER NOT NULL,
  header_end INTEGER NOT NULL,
  body_start INTEGER NOT NULL,
  body_end INTEGER NOT NULL,
  msg_header_start INTEGER,
  msg_header_end INTEGER,
  msg_body_start INTEGER,
  msg_body_end INTEGER,
  PRIMARY KEY (digest, path)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
  subject, sender, recipient, cc, bcc, headers, body,
  tokenize = 'trigram'
);
CREATE TABLE IF NOT EXISTS folder_state (
  folder INTEGER PRIMARY KEY,
  uidvalidity INTEGER NOT NULL,
  last_cn INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS recent (
  folder INTEGER PRIMARY KEY,
  uidvalidity INTEGER NOT NULL,
  claimed_uid INTEGER NOT NULL
);
";

/// Why the cache failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
    /// The file could not be replaced.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl CacheError {
    /// Whether the file itself is broken (not a database, or corrupt), so
    /// that it is rebuilt; a busy lock or failing I/O is not.
    fn is_corruption(&self) -> bool {
        matches!(
            self,
            CacheError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            )
        )
    }
}

/// One opener's turn at a cache file: an exclusive `flock` of the file
/// (created empty when missing: SQLite takes an empty file for a new
/// database), held until dropped. `flock` locks are apart from SQLite's
/// own `fcntl` locks on Linux, so the two never meet.
struct OpenTurn {
    _file: std::fs::File,
    /// The file was empty: nobody has written a schema into it yet.
    new_file: bool,
}

impl OpenTurn {
    fn take(path: &Path) -> Result<OpenTurn, CacheError> {
        let io = |source| CacheError::Io {
            path: path.into(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        file.lock().map_err(io)?;
        let new_file = file.metadata().map_err(io)?.len() == 0;
        Ok(OpenTurn {
            _file: file,
            new_file,
        })
    }
}

/// The FTS columns a SEARCH text key looks in.
fn columns(field: TextField) -> &'static [&'static str] {
    match field {
        TextField::Subject => &["subject"],
        TextField::From => &["sender"],
        TextField::To => &["recipient"],
        TextField::Cc => &["cc"],
        TextField::Bcc => &["bcc"],
        TextField::Body => &["body"],
        TextField::Text => &["headers", "body"],
    }
}

/// The cached facts about one content the FETCH path needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CachedFetch {
    /// Digest row id (the FTS rowid).
    pub id: i64,
    /// ENVELOPE.
    pub envelope: Vec<u8>,
    /// BODYSTRUCTURE.
    pub bodystructure: Vec<u8>,
    /// BODY.
    pub body: Vec<u8>,
    /// Header block.
    pub header: Vec<u8>,
}

/// Which cached columns a caller wants (unwanted ones stay empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FetchColumns {
    /// ENVELOPE.
    pub envelope: bool,
    /// BODYSTRUCTURE.
    pub bodystructure: bool,
    /// BODY.
    pub body: bool,
    /// Header block.
    pub header: bool,
}

/// Sort, thread and date keys of one content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CachedKeys {
    /// Digest row id (the FTS rowid).
    pub id: i64,
    /// Sort keys.
    pub sort: SortKeys,
    /// Thread keys.
    pub thread: ThreadKeys,
}

/// Which sort and thread keys [`CacheDb::keys_with`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyColumns(u16);

impl KeyColumns {
    /// None: the digest id only.
    pub const NONE: KeyColumns = KeyColumns(0);
    /// Base subject and whether it marked a reply.
    pub const SUBJECT: KeyColumns = KeyColumns(1);
    /// Date field and its offset.
    pub const DATE: KeyColumns = KeyColumns(1 << 1);
    /// First From local part.
    pub const FROM: KeyColumns = KeyColumns(1 << 2);
    /// First To local part.
    pub const TO: KeyColumns = KeyColumns(1 << 3);
    /// First Cc local part.
    pub const CC: KeyColumns = KeyColumns(1 << 4);
    /// First From display name.
    pub const DISPLAY_FROM: KeyColumns = KeyColumns(1 << 5);
    /// First To display name.
    pub const DISPLAY_TO: KeyColumns = KeyColumns(1 << 6);
    /// Message-ID, In-Reply-To, References.
    pub const THREAD: KeyColumns = KeyColumns(1 << 7);
    /// Every key.
    pub const ALL: KeyColumns = KeyColumns(0xff);

    /// Both sets.
    #[must_use]
    pub fn with(self, other: KeyColumns) -> KeyColumns {
        KeyColumns(self.0 | other.0)
    }

    /// These groups without those of `other`.
    pub fn without(self, other: KeyColumns) -> KeyColumns {
        KeyColumns(self.0 & !other.0)
    }

    /// True when every key of `other` is in `self`.
    pub fn has(self, other: KeyColumns) -> bool {
        self.0 & other.0 == other.0
    }
}

/// The digest columns of each [`KeyColumns`] group, in reading order.
const KEY_COLUMN_NAMES: &[(KeyColumns, &str)] = &[
    (KeyColumns::SUBJECT, "base_subject, subject_is_reply"),
    (KeyColumns::DATE, "sent_date, sent_offset"),
    (KeyColumns::FROM, "sort_from"),
    (KeyColumns::TO, "sort_to"),
    (KeyColumns::CC, "sort_cc"),
    (KeyColumns::DISPLAY_FROM, "display_from"),
    (KeyColumns::DISPLAY_TO, "display_to"),
    (KeyColumns::THREAD, "message_id, in_reply_to, refs"),
];

/// An open midb.sqlite3.
pub struct CacheDb {
    conn: Connection,
    path: PathBuf,
}

fn contains_casefolded(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn quote_fts_phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

fn range(start: i64, end: i64) -> std::ops::Range<u64> {
    start.max(0) as u64..end.max(0) as u64
}

fn path_text(path: &[u32]) -> String {
    path.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

impl CacheDb {
    /// Opens (creating or rebuilding as needed) the cache at `path`.
    ///
    /// Openers take turns, in this process and in others (midb, and imap
    /// or pop3 reading stores in-process): each holds an exclusive `flock`
    /// of the file from before it looks at it until its schema is written.
    /// So a new file's leftover WAL is removed, and a corrupt file replaced,
    /// by one of them alone, never under another's connection (sixteen
    /// clients logging in at once used to remove each other's new files).
    pub fn open(path: &Path) -> Result<CacheDb, CacheError> {
        let turn = OpenTurn::take(path)?;
        if turn.new_file {
            // A WAL left behind by a deleted file must not be replayed into the new one.
            Self::remove_wal(path)?;
        }
        match Self::try_open(path) {
            Ok(db) => Ok(db),
            Err(e) if e.is_corruption() => {
                // A cache that cannot be read is thrown away and rebuilt.
                tracing::warn!(path = %path.display(), error = %e, "midb cache unusable; rebuilding");
                Self::remove_files(path)?;
                drop(turn);
                let _turn = OpenTurn::take(path)?;
                Self::try_open(path)
            }
            // Busy or failing storage: the file stays for the next try.
            Err(e) => Err(e),
        }
    }

    /// Removes a WAL and its index left behind by a deleted file.
    fn remove_wal(path: &Path) -> Result<(), CacheError> {
        Self::remove_with(path, &["-wal", "-shm"])
    }

    /// An in-memory cache (tests).
    pub fn open_in_memory() -> Result<CacheDb, CacheError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| CacheError::Sqlite {
            path: path.clone(),
            source,
        })?;
        let db = CacheDb { conn, path };
        db.init()?;
        Ok(db)
    }

    fn remove_files(path: &Path) -> Result<(), CacheError> {
        Self::remove_with(path, &["", "-wal", "-shm"])
    }

    /// Removes `path` with each of `suffixes` appended, where it exists.
    fn remove_with(path: &Path, suffixes: &[&str]) -> Result<(), CacheError> {
        for suffix in suffixes {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let p = PathBuf::from(p);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(CacheError::Io { path: p, source }),
            }
        }
        Ok(())
    }

    fn try_open(path: &Path) -> Result<CacheDb, CacheError> {
        let conn = Connection::open(path).map_err(|source| CacheError::Sqlite {
            path: path.into(),
            source,
        })?;
        let db = CacheDb {
            conn,
            path: path.into(),
        };
        db.init()?;
        Ok(db)
    }

    fn err(&self, source: rusqlite::Error) -> CacheError {
        CacheError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn init(&self) -> Result<(), CacheError> {
        let c = &self.conn;
        c.busy_timeout(BUSY_TIMEOUT).map_err(|e| self.err(e))?;
        let _: String = c
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        c.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(|e| self.err(e))?;
        // Check, rebuild and stamp in one write transaction: another
        // process opening a new file at the same moment must not see the
        // tables before their version and drop them under this one.
        c.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let out = self.init_schema();
        let end = c.execute_batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" });
        out?;
        end.map_err(|e| self.err(e))?;
        c.create_scalar_function(
            "midb_contains",
            2,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8
                | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let hay: Option<String> = ctx.get(0)?;
                let needle: String = ctx.get(1)?;
                Ok(hay.is_some_and(|h| contains_casefolded(&h, &needle)))
            },
        )
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The version check and (re)creation of the tables, inside the
    /// caller's transaction.
    fn init_schema(&self) -> Result<(), CacheError> {
        let c = &self.conn;
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let has_tables: bool = c
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'digest'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if has_tables && version != SCHEMA_VERSION {
            tracing::info!(path = %self.path.display(), version, "midb cache of another version; rebuilding");
            c.execute_batch(
                "DROP TABLE IF EXISTS part; DROP TABLE IF EXISTS fts; \
                 DROP TABLE IF EXISTS digest; DROP TABLE IF EXISTS folder_state; \
                 DROP TABLE IF EXISTS recent;",
            )
            .map_err(|e| self.err(e))?;
        }
        c.execute_batch(SCHEMA).map_err(|e| self.err(e))?;
        c.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Runs `f` in one read transaction unless one is open already: its
    /// statements share one snapshot and take the WAL read lock once (a
    /// lookup per message, each in its own implicit transaction, showed in
    /// profiles of FETCH).
    pub(crate) fn in_read_txn<T>(
        &self,
        f: impl FnOnce() -> Result<T, CacheError>,
    ) -> Result<T, CacheError> {
        if !self.conn.is_autocommit() {
            return f();
        }
        let run = |sql: &str| {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut s| s.execute([]))
                .map_err(|e| self.err(e))
        };
        run("BEGIN")?;
        let out = f();
        let end = run(if out.is_ok() { "COMMIT" } else { "ROLLBACK" });
        let v = out?;
        end?;
        Ok(v)
    }

    /// The file this cache lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The digest row id of `hash`, if cached.
    pub fn digest_id(&self, hash: &ContentHash) -> Result<Option<i64>, CacheError> {
        self.conn
            .prepare_cached("SELECT id FROM digest WHERE hash = ?1")
            .and_then(|mut s| s.query_row([&hash.0[..]], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    /// Those of `hashes` that have no digest yet (unknown hashes excluded).
    pub fn missing<'a>(
        &self,
        hashes: impl IntoIterator<Item = &'a ContentHash>,
    ) -> Result<Vec<ContentHash>, CacheError> {
        self.in_read_txn(|| {
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            for h in hashes {
                if !seen.insert(h) {
                    continue;
                }
                if self.digest_id(h)?.is_none() {
                    out.push(*h);
                }
            }
            Ok(out)
        })
    }

    /// Stores the digest of `hash` (a no-op when it is already there).
    pub fn insert(&mut self, hash: &ContentHash, d: &Digest) -> Result<i64, CacheError> {
        if let Some(id) = self.digest_id(hash)? {
            return Ok(id);
        }
        let path = self.path.clone();
        let err = |source| CacheError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO digest (hash, size, header, envelope, bodystructure, body, \
             base_subject, subject_is_reply, sent_date, sent_offset, sort_from, sort_to, \
             sort_cc, display_from, display_to, message_id, in_reply_to, refs) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            params![
                &hash.0[..],
                d.size as i64,
                d.header,
                d.envelope,
                d.bodystructure,
                d.body,
                d.sort.base_subject,
                d.sort.subject_is_reply,
                d.sort.sent_date,
                d.sort.sent_offset_minutes,
                d.sort.from,
                d.sort.to,
                d.sort.cc,
                d.sort.display_from,
                d.sort.display_to,
                d.thread.message_id,
                d.thread.in_reply_to,
                d.thread.references.join(" "),
            ],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO part (digest, path, header_start, header_end, body_start, \
                     body_end, msg_header_start, msg_header_end, msg_body_start, msg_body_end) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(err)?;
            for p in &d.parts {
                let (mh, mb) = match &p.message {
                    Some((h, b)) => (Some(h.clone()), Some(b.clone())),
                    None => (None, None),
                };
                st.execute(params![
                    id,
                    path_text(&p.path),
                    p.header.start as i64,
                    p.header.end as i64,
                    p.body.start as i64,
                    p.body.end as i64,
                    mh.as_ref().map(|r| r.start as i64),
                    mh.as_ref().map(|r| r.end as i64),
                    mb.as_ref().map(|r| r.start as i64),
                    mb.as_ref().map(|r| r.end as i64),
                ])
                .map_err(err)?;
            }
        }
        let t = &d.text;
        tx.execute(
            "INSERT INTO fts (rowid, subject, sender, recipient, cc, bcc, headers, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![id, t.subject, t.from, t.to, t.cc, t.bcc, t.headers, t.body],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// The FETCH columns of each of `hashes` that is cached.
    pub fn fetch<'a>(
        &self,
        hashes: impl IntoIterator<Item = &'a ContentHash>,
        cols: FetchColumns,
    ) -> Result<HashMap<ContentHash, CachedFetch>, CacheError> {
        self.in_read_txn(|| self.fetch_in_txn(hashes, cols))
    }

    fn fetch_in_txn<'a>(
        &self,
        hashes: impl IntoIterator<Item = &'a ContentHash>,
        cols: FetchColumns,
    ) -> Result<HashMap<ContentHash, CachedFetch>, CacheError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, \
                 CASE WHEN ?2 THEN envelope ELSE x'' END, \
                 CASE WHEN ?3 THEN bodystructure ELSE x'' END, \
                 CASE WHEN ?4 THEN body ELSE x'' END, \
                 CASE WHEN ?5 THEN header ELSE x'' END \
                 FROM digest WHERE hash = ?1",
            )
            .map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for h in hashes {
            if out.contains_key(h) {
                continue;
            }
            let row = st
                .query_row(
                    params![
                        &h.0[..],
                        cols.envelope,
                        cols.bodystructure,
                        cols.body,
                        cols.header
                    ],
                    |r| {
                        Ok(CachedFetch {
                            id: r.get(0)?,
                            envelope: r.get(1)?,
                            bodystructure: r.get(2)?,
                            body: r.get(3)?,
                            header: r.get(4)?,
                        })
                    },
                )
                .optional()
                .map_err(|e| self.err(e))?;
            if let Some(row) = row {
                out.insert(*h, row);
            }
        }
        Ok(out)
    }

    /// Every sort and thread key of the cached contents among `hashes`.
    pub fn keys<'a>(
        &self,
        hashes: impl IntoIterator<Item = &'a ContentHash>,
    ) -> Result<HashMap<ContentHash, CachedKeys>, CacheError> {
        self.keys_with(hashes, KeyColumns::ALL)
    }

    /// The keys `columns` names (and the digest id) of the cached contents
    /// among `hashes`; the others are left empty. A SORT by date reads one
    /// column, not eleven strings per message.
    pub fn keys_with<'a>(
        &self,
        hashes: impl IntoIterator<Item = &'a ContentHash>,
        columns: KeyColumns,
    ) -> Result<HashMap<ContentHash, CachedKeys>, CacheError> {
        self.in_read_txn(|| self.keys_in_txn(hashes, columns))
    }

    fn keys_in_txn<'a>(
        &self,
        hashes: impl IntoIterator<Item = &'a ContentHash>,
        columns: KeyColumns,
    ) -> Result<HashMap<ContentHash, CachedKeys>, CacheError> {
        let mut sql = String::from("SELECT id");
        for (group, names) in KEY_COLUMN_NAMES {
            if columns.has(*group) {
                sql.push_str(", ");
                sql.push_str(names);
            }
        }
        sql.push_str(" FROM digest WHERE hash = ?1");
        let mut st = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for h in hashes {
            if out.contains_key(h) {
                continue;
            }
            let row = st
                .query_row([&h.0[..]], |r| {
                    let mut k = CachedKeys {
                        id: r.get(0)?,
                        ..CachedKeys::default()
                    };
                    let mut i = 1;
                    let mut next = || {
                        i += 1;
                        i - 1
                    };
                    if columns.has(KeyColumns::SUBJECT) {
                        k.sort.base_subject = r.get(next())?;
                        k.sort.subject_is_reply = r.get(next())?;
                    }
                    if columns.has(KeyColumns::DATE) {
                        k.sort.sent_date = r.get(next())?;
                        k.sort.sent_offset_minutes = r.get(next())?;
                    }
                    if columns.has(KeyColumns::FROM) {
                        k.sort.from = r.get(next())?;
                    }
                    if columns.has(KeyColumns::TO) {
                        k.sort.to = r.get(next())?;
                    }
                    if columns.has(KeyColumns::CC) {
                        k.sort.cc = r.get(next())?;
                    }
                    if columns.has(KeyColumns::DISPLAY_FROM) {
                        k.sort.display_from = r.get(next())?;
                    }
                    if columns.has(KeyColumns::DISPLAY_TO) {
                        k.sort.display_to = r.get(next())?;
                    }
                    if columns.has(KeyColumns::THREAD) {
                        k.thread.message_id = r.get(next())?;
                        k.thread.in_reply_to = r.get(next())?;
                        let refs: String = r.get(next())?;
                        k.thread.references = refs.split_whitespace().map(str::to_owned).collect();
                    }
                    Ok(k)
                })
                .optional()
                .map_err(|e| self.err(e))?;
            if let Some(row) = row {
                out.insert(*h, row);
            }
        }
        Ok(out)
    }

    /// The ranges of part `path` of the cached content `hash`.
    pub fn part(&self, hash: &ContentHash, path: &[u32]) -> Result<Option<PartRanges>, CacheError> {
        self.conn
            .prepare_cached(
                "SELECT p.header_start, p.header_end, p.body_start, p.body_end, \
                 p.msg_header_start, p.msg_header_end, p.msg_body_start, p.msg_body_end \
                 FROM part p JOIN digest d ON d.id = p.digest WHERE d.hash = ?1 AND p.path = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![&hash.0[..], path_text(path)], |r| {
                    let mh: Option<(i64, i64)> = match (r.get(4)?, r.get(5)?) {
                        (Some(a), Some(b)) => Some((a, b)),
                        _ => None,
                    };
                    let mb: Option<(i64, i64)> = match (r.get(6)?, r.get(7)?) {
                        (Some(a), Some(b)) => Some((a, b)),
                        _ => None,
                    };
                    Ok(PartRanges {
                        path: path.to_vec(),
                        header: range(r.get(0)?, r.get(1)?),
                        body: range(r.get(2)?, r.get(3)?),
                        message: mh.zip(mb).map(|(h, b)| (range(h.0, h.1), range(b.0, b.1))),
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Digest ids whose `field` contains `needle`, case-insensitively (the
    /// substring semantics of IMAP SEARCH). Needles of three or more
    /// characters use the trigram index; shorter ones scan the indexed text.
    pub fn text_matches(&self, field: TextField, needle: &str) -> Result<HashSet<i64>, CacheError> {
        let cols = columns(field);
        if needle.is_empty() {
            let mut st = self
                .conn
                .prepare_cached("SELECT rowid FROM fts")
                .map_err(|e| self.err(e))?;
            let ids = st
                .query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect::<Result<HashSet<i64>, _>>())
                .map_err(|e| self.err(e))?;
            return Ok(ids);
        }
        let (sql, arg) = if needle.chars().count() >= TRIGRAM {
            let filter = cols.join(" ");
            (
                "SELECT rowid FROM fts WHERE fts MATCH ?1".to_owned(),
                format!("{{{filter}}} : {}", quote_fts_phrase(needle)),
            )
        } else {
            let cond = cols
                .iter()
                .map(|c| format!("midb_contains({c}, ?1)"))
                .collect::<Vec<_>>()
                .join(" OR ");
            (
                format!("SELECT rowid FROM fts WHERE {cond}"),
                needle.to_owned(),
            )
        };
        let mut st = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let ids = st
            .query_map([arg], |r| r.get(0))
            .and_then(|rows| rows.collect::<Result<HashSet<i64>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(ids)
    }

    /// UIDVALIDITY and last processed change number of a folder.
    pub fn folder_state(
        &self,
        folder: FolderId,
    ) -> Result<Option<(u32, ChangeNumber)>, CacheError> {
        self.conn
            .prepare_cached("SELECT uidvalidity, last_cn FROM folder_state WHERE folder = ?1")
            .and_then(|mut s| {
                s.query_row([folder as i64], |r| {
                    let v: i64 = r.get(0)?;
                    let cn: i64 = r.get(1)?;
                    Ok((v as u32, cn as u64))
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Records that changes of `folder` up to `cn` have been processed.
    pub fn set_folder_state(
        &self,
        folder: FolderId,
        uidvalidity: u32,
        cn: ChangeNumber,
    ) -> Result<(), CacheError> {
        self.conn
            .prepare_cached(
                "INSERT INTO folder_state (folder, uidvalidity, last_cn) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (folder) DO UPDATE SET uidvalidity = ?2, last_cn = ?3",
            )
            .and_then(|mut s| s.execute(params![folder as i64, uidvalidity as i64, cn as i64]))
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The `\Recent` marker of a folder (see
    /// [`groxide_mailview::MailboxView::claim_recent`]): the UID claimed up
    /// to, or `initial` when the folder has none yet (or another
    /// UIDVALIDITY); with `claim_up_to`, raised to it in the same
    /// transaction, so two processes sharing the file never both claim a
    /// UID.
    pub fn claim_recent(
        &mut self,
        folder: FolderId,
        uidvalidity: u32,
        initial: u32,
        claim_up_to: Option<u32>,
    ) -> Result<u32, CacheError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| CacheError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
        let claimed =
            tx.prepare_cached("SELECT uidvalidity, claimed_uid FROM recent WHERE folder = ?1")
                .and_then(|mut s| {
                    s.query_row([folder as i64], |r| {
                        Ok((r.get::<_, i64>(0)? as u32, r.get::<_, i64>(1)? as u32))
                    })
                    .optional()
                })
                .and_then(|row| {
                    let before = match row {
                        Some((v, uid)) if v == uidvalidity => uid,
                        _ => initial,
                    };
                    let after = claim_up_to.map_or(before, |u| u.max(before));
                    if row != Some((uidvalidity, after)) {
                        tx.prepare_cached(
                        "INSERT INTO recent (folder, uidvalidity, claimed_uid) VALUES (?1, ?2, ?3) \
                         ON CONFLICT (folder) DO UPDATE SET uidvalidity = ?2, claimed_uid = ?3",
                    )?
                    .execute(params![folder as i64, uidvalidity as i64, after as i64])?;
                    }
                    Ok(before)
                })
                .and_then(|before| tx.commit().map(|()| before));
        claimed.map_err(|e| CacheError::Sqlite {
            path: self.path.clone(),
            source: e,
        })
    }

    /// Number of digests stored.
    pub fn digest_count(&self) -> Result<u64, CacheError> {
        self.conn
            .query_row("SELECT count(*) FROM digest", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> ContentHash {
        let mut b = [0u8; 32];
        for (o, c) in b.iter_mut().zip(s.bytes()) {
            *o = c;
        }
        ContentHash(b)
    }

    fn db_with(messages: &[(&str, &[u8])]) -> CacheDb {
        let mut db = CacheDb::open_in_memory().unwrap();
        for (hash, raw) in messages {
            db.insert(&h(hash), &Digest::compute(raw, 1 << 20)).unwrap();
        }
        db
    }

    const A: &[u8] = b"From: Ann <ann@example.test>\r\nTo: bob@example.test\r\n\
Subject: Quarterly R\xc3\x84KSM\xc3\x96RG\xc3\x85S\r\nX-Tag: alpha\r\n\r\nThe numbers are in.\r\n";
    const B: &[u8] = b"From: Carl <carl@example.test>\r\nCc: ann@example.test\r\n\
Subject: lunch\r\n\r\nPizza at noon? 100% sure\r\n";

    #[test]
    fn many_openers_of_a_new_file_at_once_all_get_the_same_whole_cache() {
        // Sixteen IMAP clients logging in at once each open the store's new
        // cache file: every connection must see the tables and one file.
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("midb.sqlite3");
            let start = std::sync::Barrier::new(8);
            let claimed: Vec<Result<u32, String>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8u32)
                    .map(|i| {
                        let (path, start) = (&path, &start);
                        s.spawn(move || {
                            start.wait();
                            let mut db = CacheDb::open(path).map_err(|e| e.to_string())?;
                            db.claim_recent(1, 7, 0, Some(i + 1))
                                .map_err(|e| e.to_string())?;
                            Ok(i + 1)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for c in &claimed {
                assert!(c.is_ok(), "round {round}: {c:?}");
            }
            // Every claim went into the one file everybody opens now.
            let mut db = CacheDb::open(&path).unwrap();
            assert_eq!(db.claim_recent(1, 7, 0, None).unwrap(), 8, "round {round}");
        }
    }

    #[test]
    fn fts5_trigram_is_compiled_in() {
        let db = CacheDb::open_in_memory().unwrap();
        let n: i64 = db
            .conn
            .query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn text_search_is_case_insensitive_substring_for_every_length() {
        let db = db_with(&[("a", A), ("b", B)]);
        let ids = |f, n| {
            let mut v: Vec<i64> = db.text_matches(f, n).unwrap().into_iter().collect();
            v.sort();
            v
        };
        use TextField::*;
        let cases: &[(TextField, &str, &[i64])] = &[
            (Subject, "quarter", &[1]),
            (Subject, "ARTERL", &[1]),
            (Subject, "räksmörgås", &[1]),
            (Subject, "ö", &[1]),
            (Subject, "un", &[2]),
            (Subject, "x", &[]),
            (From, "ann", &[1]),
            (From, "e", &[1, 2]),
            (Cc, "ann@", &[2]),
            (To, "ann", &[]),
            (Body, "numbers", &[1]),
            (Body, "quarterly", &[]),
            (Body, "100%", &[2]),
            (Body, "\"", &[]),
            (Body, "a\"b", &[]),
            (Text, "x-tag", &[1]),
            (Text, "pizza", &[2]),
            (Text, "", &[1, 2]),
        ];
        for (field, needle, want) in cases {
            assert_eq!(ids(*field, needle), *want, "{field:?} {needle:?}");
        }
    }

    #[test]
    fn digests_are_stored_once_and_read_back() {
        let mut db = db_with(&[("a", A)]);
        let id = db.digest_id(&h("a")).unwrap().unwrap();
        assert_eq!(db.insert(&h("a"), &Digest::compute(A, 1024)).unwrap(), id);
        assert_eq!(db.digest_count().unwrap(), 1);
        assert_eq!(
            db.missing([&h("a"), &h("b"), &h("b")]).unwrap(),
            vec![h("b")]
        );
        let f = db
            .fetch(
                [&h("a")],
                FetchColumns {
                    envelope: true,
                    header: true,
                    ..Default::default()
                },
            )
            .unwrap();
        let f = &f[&h("a")];
        assert_eq!(f.envelope, Digest::compute(A, 1024).envelope);
        assert!(f.bodystructure.is_empty());
        assert!(f.header.starts_with(b"From: Ann"));
        let k = db.keys([&h("a")]).unwrap();
        assert_eq!(k[&h("a")].sort.from, "ANN");
        let top = db.part(&h("a"), &[]).unwrap().unwrap();
        assert_eq!(&A[top.body.start as usize..], b"The numbers are in.\r\n");
        assert!(db.part(&h("a"), &[9]).unwrap().is_none());
    }

    #[test]
    fn keys_read_by_group_agree_with_every_key() {
        let mut db = CacheDb::open_in_memory().unwrap();
        db.insert(&h("a"), &Digest::compute(A, 1024)).unwrap();
        let all = db.keys([&h("a")]).unwrap()[&h("a")].clone();
        assert_eq!(all.sort.from, "ANN");
        let groups = [
            KeyColumns::SUBJECT,
            KeyColumns::DATE,
            KeyColumns::FROM,
            KeyColumns::TO,
            KeyColumns::CC,
            KeyColumns::DISPLAY_FROM,
            KeyColumns::DISPLAY_TO,
            KeyColumns::THREAD,
        ];
        let mut union = KeyColumns::NONE;
        for g in groups {
            union = union.with(g);
            let k = db.keys_with([&h("a")], g).unwrap()[&h("a")].clone();
            assert_eq!(k.id, all.id);
            // Only the group's keys are read.
            assert_eq!(
                k.sort.from == all.sort.from,
                g == KeyColumns::FROM || all.sort.from.is_empty()
            );
        }
        assert_eq!(union, KeyColumns::ALL);
        let date_subject = db
            .keys_with([&h("a")], KeyColumns::DATE.with(KeyColumns::SUBJECT))
            .unwrap()[&h("a")]
            .clone();
        assert_eq!(date_subject.sort.sent_date, all.sort.sent_date);
        assert_eq!(date_subject.sort.base_subject, all.sort.base_subject);
        assert!(date_subject.thread.message_id.is_none());
        assert_eq!(
            db.keys_with([&h("a")], KeyColumns::ALL).unwrap()[&h("a")],
            all
        );
    }

    #[test]
    fn folder_state_is_kept_per_folder() {
        let db = CacheDb::open_in_memory().unwrap();
        assert_eq!(db.folder_state(7).unwrap(), None);
        db.set_folder_state(7, 99, 10).unwrap();
        db.set_folder_state(7, 99, 12).unwrap();
        assert_eq!(db.folder_state(7).unwrap(), Some((99, 12)));
    }

    #[test]
    fn a_corrupt_or_outdated_file_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("midb.sqlite3");
        std::fs::write(&path, b"this is not a database, just garbage bytes").unwrap();
        let mut db = CacheDb::open(&path).unwrap();
        db.insert(&h("a"), &Digest::compute(A, 1024)).unwrap();
        db.conn.pragma_update(None, "user_version", 0).unwrap();
        drop(db);
        let db = CacheDb::open(&path).unwrap();
        assert_eq!(db.digest_count().unwrap(), 0);
    }
}
