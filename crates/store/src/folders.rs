//! Folders: store kinds, the folder types callers see, and the reads (list,
//! get, resolve a role, properties, IMAP status). The standard tree and its
//! roles are in `standard_folders`, the writes (create, rename, move,
//! delete, empty) in `folder_writes`; both are re-exported here.

use crate::error::{Result, StoreError};
use crate::ids::{ChangeNumber, FolderId, UidValidity};
use crate::props::{Prop, PropTag, PropValue, from_sql};
use crate::tags::*;
use rusqlite::{Connection, OptionalExtension, Row};

pub(crate) use crate::folder_writes::{
    check_sibling_free, create, delete, empty, insert_row, move_to, remove_folder_rows, rename,
    set_props,
};
pub use crate::standard_folders::{FolderRole, STANDARD_PRIVATE, STANDARD_PUBLIC, StandardFolder};

/// Longest folder name, in bytes.
pub const MAX_FOLDER_NAME_LEN: usize = 255;
/// Deepest folder nesting below the root.
pub const MAX_FOLDER_DEPTH: usize = 64;
/// Id of the first folder created after the standard ones (private stores).
pub const FIRST_CUSTOM_FOLDER_ID: u64 = 0x100;
/// Id of the first folder created after the standard ones (public stores).
pub const FIRST_CUSTOM_PUBLIC_FOLDER_ID: u64 = 0x05;

/// A private (user) or public (domain) store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A user's mailbox.
    Private,
    /// A domain's public folders.
    Public,
}

impl StoreKind {
    pub(crate) fn code(self) -> i64 {
        match self {
            StoreKind::Private => 1,
            StoreKind::Public => 2,
        }
    }

    pub(crate) fn from_code(c: i64) -> Option<StoreKind> {
        match c {
            1 => Some(StoreKind::Private),
            2 => Some(StoreKind::Public),
            _ => None,
        }
    }

    /// `private` or `public`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Private => "private",
            StoreKind::Public => "public",
        }
    }
}

/// A folder and its counters, as the hierarchy lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// Its id.
    pub id: FolderId,
    /// Its parent (`None` for the root).
    pub parent: Option<FolderId>,
    /// Display name.
    pub name: String,
    /// PR_CONTAINER_CLASS.
    pub container_class: String,
    /// Well-known role, for standard folders.
    pub role: Option<FolderRole>,
    /// Hidden from clients' folder lists.
    pub hidden: bool,
    /// IMAP UIDVALIDITY.
    pub uidvalidity: UidValidity,
    /// IMAP UIDNEXT.
    pub uidnext: u32,
    /// Change number of the folder's own last change (create, rename, move, props).
    pub cn: ChangeNumber,
    /// Highest change number of the folder's messages (IMAP HIGHESTMODSEQ),
    /// removals included.
    pub highest_modseq: ChangeNumber,
    /// Messages in the folder.
    pub message_count: u64,
    /// Unread messages.
    pub unread_count: u64,
    /// Sum of the messages' sizes.
    pub size: u64,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}

/// Which folder: by id or by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderRef {
    /// By id.
    Id(FolderId),
    /// By well-known role.
    Role(FolderRole),
}

impl From<FolderId> for FolderRef {
    fn from(id: FolderId) -> Self {
        FolderRef::Id(id)
    }
}

impl From<FolderRole> for FolderRef {
    fn from(r: FolderRole) -> Self {
        FolderRef::Role(r)
    }
}

pub(crate) const FOLDER_COLUMNS: &str =
    "folder_id, parent_id, name, container_class, role, hidden, uidvalidity,
    uidnext, cn, highest_modseq, message_count, unread_count, size_bytes, created_at";

pub(crate) fn folder_from_row(r: &Row<'_>) -> rusqlite::Result<FolderInfo> {
    let role: Option<String> = r.get(4)?;
    Ok(FolderInfo {
        id: FolderId(r.get::<_, i64>(0)? as u64),
        parent: r.get::<_, Option<i64>>(1)?.map(|p| FolderId(p as u64)),
        name: r.get(2)?,
        container_class: r.get(3)?,
        role: role.as_deref().and_then(FolderRole::parse),
        hidden: r.get(5)?,
        uidvalidity: UidValidity(r.get::<_, i64>(6)? as u32),
        uidnext: r.get::<_, i64>(7)? as u32,
        cn: ChangeNumber(r.get::<_, i64>(8)? as u64),
        highest_modseq: ChangeNumber(r.get::<_, i64>(9)? as u64),
        message_count: r.get::<_, i64>(10)? as u64,
        unread_count: r.get::<_, i64>(11)? as u64,
        size: r.get::<_, i64>(12)? as u64,
        created_at: r.get(13)?,
    })
}

/// Every live folder, ordered by id.
pub(crate) fn list(conn: &Connection) -> Result<Vec<FolderInfo>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {FOLDER_COLUMNS} FROM folders WHERE deleted_at IS NULL ORDER BY folder_id"
    ))?;
    let rows = st.query_map([], folder_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What IMAP SELECT and STATUS need beyond a folder's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImapStatus {
    /// Live messages flagged \Deleted.
    pub deleted: u32,
    /// UID of the first live message without \Seen (0: none).
    pub first_unseen_uid: u32,
    /// The highest UID of a live message (0: the folder is empty).
    pub highest_uid: u32,
}

/// The highest live UID of a folder (soft-deleted messages may sit above it).
pub(crate) const HIGHEST_UID_SQL: &str = "SELECT uid FROM messages INDEXED BY messages_live \
     WHERE folder_id = ?1 AND deleted_at IS NULL ORDER BY uid DESC LIMIT 1";
/// The first unseen live UID of a folder.
pub(crate) const FIRST_UNSEEN_SQL: &str = "SELECT uid FROM messages INDEXED BY messages_unseen \
     WHERE folder_id = ?1 AND flags & 1 = 0 AND deleted_at IS NULL ORDER BY uid LIMIT 1";
/// How many live messages of a folder carry \Deleted.
pub(crate) const DELETED_COUNT_SQL: &str = "SELECT count(*) FROM messages INDEXED BY messages_flag_deleted \
     WHERE folder_id = ?1 AND flags & 8 != 0 AND deleted_at IS NULL";

/// [`ImapStatus`] of a folder, from indexes (no scan of its messages; see
/// `query_plans`).
pub(crate) fn imap_status(conn: &Connection, id: FolderId) -> Result<ImapStatus> {
    let f = id.0 as i64;
    let uid = |sql: &str| -> Result<u32> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row([f], |r| r.get::<_, i64>(0))
            .optional()?
            .map_or(0, |u| u as u32))
    };
    let highest_uid = uid(HIGHEST_UID_SQL)?;
    let first_unseen_uid = uid(FIRST_UNSEEN_SQL)?;
    let deleted: i64 = conn
        .prepare_cached(DELETED_COUNT_SQL)?
        .query_row([f], |r| r.get(0))?;
    Ok(ImapStatus {
        deleted: u32::try_from(deleted).unwrap_or(u32::MAX),
        first_unseen_uid,
        highest_uid,
    })
}

/// One live folder.
pub(crate) fn get(conn: &Connection, id: FolderId) -> Result<FolderInfo> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {FOLDER_COLUMNS} FROM folders WHERE folder_id = ?1 AND deleted_at IS NULL"
    ))?;
    st.query_row([id.0 as i64], folder_from_row)
        .optional()?
        .ok_or(StoreError::NoSuchFolder(id))
}

/// The id a [`FolderRef`] names (checked to exist).
pub(crate) fn resolve(conn: &Connection, r: FolderRef) -> Result<FolderId> {
    match r {
        FolderRef::Id(id) => {
            let ok: Option<i64> = conn
                .prepare_cached(
                    "SELECT 1 FROM folders WHERE folder_id = ?1 AND deleted_at IS NULL",
                )?
                .query_row([id.0 as i64], |r| r.get(0))
                .optional()?;
            ok.map(|_| id).ok_or(StoreError::NoSuchFolder(id))
        }
        FolderRef::Role(role) => {
            let id: Option<i64> = conn
                .prepare_cached(
                    "SELECT folder_id FROM folders WHERE role = ?1 AND deleted_at IS NULL",
                )?
                .query_row([role.as_str()], |r| r.get(0))
                .optional()?;
            id.map(|i| FolderId(i as u64))
                .ok_or_else(|| StoreError::NoSuchRole(role.as_str().into()))
        }
    }
}

/// The stored properties of a folder plus the computed ones
/// (PR_DISPLAY_NAME, PR_CONTAINER_CLASS, PR_CONTENT_COUNT, PR_CONTENT_UNREAD,
/// PR_SUBFOLDERS, PR_CREATION_TIME).
pub(crate) fn props(conn: &Connection, id: FolderId) -> Result<Vec<Prop>> {
    let f = get(conn, id)?;
    let mut out: Vec<Prop> = Vec::new();
    let mut st =
        conn.prepare_cached("SELECT tag, value FROM folder_properties WHERE folder_id = ?1")?;
    let mut rows = st.query([id.0 as i64])?;
    while let Some(r) = rows.next()? {
        let tag = PropTag(r.get::<_, i64>(0)? as u32);
        out.push((tag, from_sql(tag, r.get_ref(1)?)?));
    }
    let subfolders: bool = conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM folders WHERE parent_id = ?1 AND deleted_at IS NULL)",
        )?
        .query_row([id.0 as i64], |r| r.get(0))?;
    out.push((PR_DISPLAY_NAME, PropValue::Unicode(f.name)));
    if !f.container_class.is_empty() {
        out.push((PR_CONTAINER_CLASS, PropValue::Unicode(f.container_class)));
    }
    out.push((
        PR_CONTENT_COUNT,
        PropValue::Long(clamp_i32(f.message_count)),
    ));
    out.push((
        PR_CONTENT_UNREAD,
        PropValue::Long(clamp_i32(f.unread_count)),
    ));
    out.push((PR_SUBFOLDERS, PropValue::Bool(subfolders)));
    out.push((
        PR_CREATION_TIME,
        PropValue::SysTime(crate::props::filetime_from_unix(f.created_at)),
    ));
    out.sort_by_key(|(t, _)| *t);
    Ok(out)
}

fn clamp_i32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub(crate) fn is_computed(tag: PropTag) -> bool {
    matches!(
        tag,
        PR_CONTENT_COUNT | PR_CONTENT_UNREAD | PR_SUBFOLDERS | PR_CREATION_TIME
    )
}
