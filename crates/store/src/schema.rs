//! The SQLite schema of `exchange.sqlite3` and its forward migrations. The
//! version lives in `PRAGMA user_version`; opening a store runs every
//! migration above it, each in its own transaction.

use crate::error::{Result, StoreError};
use rusqlite::Connection;

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 0 → 1: the initial schema.
    r#"
CREATE TABLE store_info (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  store_type INTEGER NOT NULL,
  owner TEXT NOT NULL,
  lang TEXT NOT NULL,
  mailbox_guid BLOB NOT NULL,
  last_cn INTEGER NOT NULL,
  last_uidvalidity INTEGER NOT NULL,
  next_folder_id INTEGER NOT NULL,
  size_bytes INTEGER NOT NULL,
  message_count INTEGER NOT NULL,
  quota_bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE store_properties (tag INTEGER PRIMARY KEY, value);
CREATE TABLE folders (
  folder_id INTEGER PRIMARY KEY,
  parent_id INTEGER,
  name TEXT NOT NULL,
  container_class TEXT NOT NULL,
  role TEXT,
  hidden INTEGER NOT NULL DEFAULT 0,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL,
  cn INTEGER NOT NULL,
  highest_modseq INTEGER NOT NULL,
  message_count INTEGER NOT NULL DEFAULT 0,
  unread_count INTEGER NOT NULL DEFAULT 0,
  size_bytes INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE UNIQUE INDEX folders_role ON folders(role) WHERE role IS NOT NULL;
CREATE INDEX folders_parent ON folders(parent_id);
CREATE INDEX folders_cn ON folders(cn);
CREATE TABLE folder_properties (
  folder_id INTEGER NOT NULL,
  tag INTEGER NOT NULL,
  value,
  PRIMARY KEY (folder_id, tag)
) WITHOUT ROWID;
CREATE TABLE folder_tombstones (folder_id INTEGER PRIMARY KEY, cn INTEGER NOT NULL);
CREATE INDEX folder_tombstones_cn ON folder_tombstones(cn);
CREATE TABLE messages (
  message_id INTEGER PRIMARY KEY AUTOINCREMENT,
  folder_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  cn INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  keywords TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  content_hash BLOB,
  content_kind INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE UNIQUE INDEX messages_folder_uid ON messages(folder_id, uid);
CREATE INDEX messages_folder_cn ON messages(folder_id, cn);
CREATE TABLE message_properties (
  message_id INTEGER NOT NULL,
  tag INTEGER NOT NULL,
  value,
  PRIMARY KEY (message_id, tag)
) WITHOUT ROWID;
CREATE TABLE recipients (
  message_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  props BLOB NOT NULL,
  PRIMARY KEY (message_id, position)
) WITHOUT ROWID;
CREATE TABLE attachments (
  message_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  props BLOB NOT NULL,
  content_hash BLOB,
  part_path TEXT,
  PRIMARY KEY (message_id, position)
) WITHOUT ROWID;
CREATE TABLE message_tombstones (
  folder_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  cn INTEGER NOT NULL,
  PRIMARY KEY (folder_id, uid)
) WITHOUT ROWID;
CREATE INDEX message_tombstones_cn ON message_tombstones(folder_id, cn);
CREATE TABLE content_files (
  hash BLOB PRIMARY KEY,
  size INTEGER NOT NULL,
  refcount INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // 1 → 2: find soft-deleted messages and folders to purge without a scan.
    r#"
CREATE INDEX messages_deleted ON messages(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX folders_deleted ON folders(deleted_at) WHERE deleted_at IS NOT NULL;
"#,
    // 2 → 3: SELECT/STATUS find a folder's first unseen message and count its
    // \Deleted ones without a scan (the terms match `folders::imap_status`).
    r#"
CREATE INDEX messages_unseen ON messages(folder_id, uid) WHERE flags & 1 = 0 AND deleted_at IS NULL;
CREATE INDEX messages_flag_deleted ON messages(folder_id, uid) WHERE flags & 8 != 0 AND deleted_at IS NULL;
"#,
    // 3 → 4: listings read live messages only, from the index alone. A
    // folder's soft-deleted messages stay in `messages` until they are
    // purged; without this index every listing stepped over all of them
    // (a folder with steady expunges listed its whole history).
    r#"
CREATE INDEX messages_live ON messages(folder_id, uid, message_id, flags, keywords, size,
  internal_date, cn, content_hash, content_kind, deleted_at) WHERE deleted_at IS NULL;
"#,
    // 4 → 5: groupware. Named properties get per-store ids (0x8000–0xFFFE,
    // never reused, so ids in property rows stay valid); groupware items
    // keep their source object (iCalendar/vCard) and UID beside the message
    // row; tombstones record when they were made, and a folder records up to
    // which change number its tombstones were compacted (older sync tokens
    // are then refused). The standard folders a store lacks are added by
    // the hook of this step (`folders::add_missing_standard`).
    r#"
CREATE TABLE named_properties (
  propid INTEGER PRIMARY KEY CHECK (propid BETWEEN 32768 AND 65534),
  guid BLOB NOT NULL,
  lid INTEGER,
  name TEXT COLLATE NOCASE,
  CHECK ((lid IS NULL) != (name IS NULL))
);
CREATE UNIQUE INDEX named_properties_lid ON named_properties(guid, lid) WHERE lid IS NOT NULL;
CREATE UNIQUE INDEX named_properties_name ON named_properties(guid, name) WHERE name IS NOT NULL;
CREATE TABLE items (
  message_id INTEGER PRIMARY KEY,
  folder_id INTEGER NOT NULL,
  item_uid TEXT NOT NULL,
  format INTEGER NOT NULL,
  original_hash BLOB,
  original_size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX items_uid ON items(folder_id, item_uid);
ALTER TABLE message_tombstones ADD COLUMN removed_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE folder_sync (
  folder_id INTEGER PRIMARY KEY,
  compacted_cn INTEGER NOT NULL
);
"#,
    // 5 → 6: resource names. A groupware item may carry the name a DAV
    // client gave it (`items.name`, NULL: named by its UID), and the
    // tombstone of a removed item keeps its UID and name, so a sync
    // (RFC 6578) can name what went even after the item row is purged. A
    // trigger fills them in from the item row, which every removal path
    // still has when it writes the tombstone (delete, move, hard delete).
    r#"
ALTER TABLE items ADD COLUMN name TEXT;
CREATE INDEX items_name ON items(folder_id, name) WHERE name IS NOT NULL;
ALTER TABLE message_tombstones ADD COLUMN item_uid TEXT;
ALTER TABLE message_tombstones ADD COLUMN item_name TEXT;
CREATE TRIGGER message_tombstones_item AFTER INSERT ON message_tombstones
WHEN EXISTS (SELECT 1 FROM items WHERE message_id = NEW.message_id)
BEGIN
  UPDATE message_tombstones
     SET item_uid = (SELECT item_uid FROM items WHERE message_id = NEW.message_id),
         item_name = (SELECT name FROM items WHERE message_id = NEW.message_id)
   WHERE folder_id = NEW.folder_id AND uid = NEW.uid;
END;
"#,
    // 6 → 7: whether an item's source object still is the item. A put whose
    // properties were derived from a new source object records its change
    // number (`items.source_cn`); while the message's change number is that
    // one, readers may serve the source object as it is (CalDAV, CardDAV)
    // instead of writing it afresh from the properties. NULL: not current.
    r#"
ALTER TABLE items ADD COLUMN source_cn INTEGER;
"#,
    // 7 → 8: the time index. An item row records the bounds of every
    // instance its item can have (`range_start`, `range_end`, Unix seconds,
    // as `groxide_pim::recur::mapi::occurrence_bounds` gives them); a time
    // range query (CalDAV calendar-query, free/busy) reads only the items
    // whose bounds overlap the range. NULL: not known (rows of older
    // stores, items whose properties were changed over MAPI): such an item
    // is always a candidate, and the query that reads it writes its
    // bounds back. No index: a message of the folder without an item row
    // (made over MAPI) is a candidate too, so the query walks the folder's
    // live messages (`messages_live`) and looks each one's bounds up by
    // message id; an index on the bounds could not spare that walk.
    r#"
ALTER TABLE items ADD COLUMN range_start INTEGER;
ALTER TABLE items ADD COLUMN range_end INTEGER;
"#,
];

/// Migrations that need code beside their SQL: run in the same transaction,
/// after the SQL of the step that takes the schema to the given version.
fn migration_hook(tx: &rusqlite::Transaction<'_>, to: u32) -> Result<()> {
    if to == 5 {
        crate::folder_names::add_missing_standard(tx)?;
    }
    Ok(())
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The schema version of an open database.
pub(crate) fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Runs the migrations from the database's version up to `target`.
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let current = version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "schema version {current} is newer than this build knows ({SCHEMA_VERSION})"
        )));
    }
    for v in current..target.min(SCHEMA_VERSION) {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[v as usize])?;
        migration_hook(&tx, v + 1)?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
        if v > 0 {
            tracing::info!(from = v, to = v + 1, "store schema migrated");
        }
    }
    Ok(())
}

/// Prepared statements kept per connection: more than the store's distinct
/// cached statements, so none is parsed again while the connection lives.
const STATEMENT_CACHE: usize = 96;

/// Page cache of one read connection, in KiB (SQLite's default is 2000).
/// A store has several idle readers in each daemon that opens it (exmdb,
/// midb, imap, pop3), and a connection's cache only ever grows to its
/// bound: with the default, a busy store held megabytes per connection long
/// after the load. Reads that miss it are served from the OS page cache.
pub const READER_CACHE_KIB: i64 = 512;

/// Sets the pragmas of a connection that only reads beside the writer: the
/// journal mode is the writer's business (a read-only connection may not
/// change it), writes are refused outright, the page cache is bounded
/// ([`READER_CACHE_KIB`]).
pub(crate) fn configure_reader(conn: &Connection, busy_timeout: std::time::Duration) -> Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "query_only", true)?;
    // Negative: a size in KiB rather than in pages.
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    Ok(())
}

/// Sets the pragmas of every connection: WAL, durable commits, busy timeout.
pub(crate) fn configure(conn: &Connection, busy_timeout: std::time::Duration) -> Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    Ok(())
}
