//! Folders: the standard tree of a new store, well-known roles, and the
//! folder operations (create, rename, move, delete, empty, list).

use crate::error::{Result, StoreError};
use crate::events::ChangeKind;
use crate::ids::{ChangeNumber, FolderId, UidValidity};
use crate::props::{Prop, PropTag, PropValue, check_prop, from_sql, to_sql};
use crate::tags::*;
use crate::tx::WriteCtx;
use rusqlite::{Connection, OptionalExtension, Row, params};

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

macro_rules! roles {
    ($($variant:ident => $name:literal,)*) => {
        /// A well-known folder, so callers can say "Inbox" without knowing ids.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FolderRole {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl FolderRole {
            /// The role's name (lower case, as stored and as the RPC takes it).
            pub fn as_str(self) -> &'static str {
                match self { $(FolderRole::$variant => $name,)* }
            }

            /// Parses a role name (ASCII case-insensitive).
            pub fn parse(s: &str) -> Option<FolderRole> {
                match s.to_ascii_lowercase().as_str() {
                    $($name => Some(FolderRole::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

roles! {
    Root => "root",
    DeferredAction => "deferred_action",
    SpoolerQueue => "spooler_queue",
    Shortcuts => "shortcuts",
    Finder => "finder",
    Views => "views",
    CommonViews => "common_views",
    Schedule => "schedule",
    IpmSubtree => "ipm_subtree",
    Sent => "sent",
    Trash => "trash",
    Outbox => "outbox",
    Inbox => "inbox",
    Drafts => "drafts",
    Calendar => "calendar",
    Journal => "journal",
    Notes => "notes",
    Tasks => "tasks",
    Contacts => "contacts",
    QuickContacts => "quick_contacts",
    ImContacts => "im_contacts",
    GalContacts => "gal_contacts",
    Junk => "junk",
    Freebusy => "freebusy",
    SyncIssues => "sync_issues",
    Conflicts => "conflicts",
    LocalFailures => "local_failures",
    ServerFailures => "server_failures",
    ConversationActions => "conversation_actions",
    NonIpmSubtree => "non_ipm_subtree",
    EformsRegistry => "eforms_registry",
}

/// A folder of the standard tree: fixed id, name, parent, class, role.
#[derive(Debug, Clone, Copy)]
pub struct StandardFolder {
    /// Fixed id (gromox's GCV).
    pub id: u64,
    /// English display name.
    pub name: &'static str,
    /// Parent id; 0 for the root.
    pub parent: u64,
    /// PR_CONTAINER_CLASS ("" for none).
    pub class: &'static str,
    /// Its role.
    pub role: FolderRole,
    /// Hidden from clients' folder lists.
    pub hidden: bool,
}

const fn sf(
    id: u64,
    name: &'static str,
    parent: u64,
    class: &'static str,
    role: FolderRole,
    hidden: bool,
) -> StandardFolder {
    StandardFolder {
        id,
        name,
        parent,
        class,
        role,
        hidden,
    }
}

/// The folders of a new private store (gromox's ids 0x01–0x1d).
pub const STANDARD_PRIVATE: &[StandardFolder] = &[
    sf(0x01, "Root Container", 0, "", FolderRole::Root, false),
    sf(
        0x02,
        "Deferred Action",
        0x01,
        "",
        FolderRole::DeferredAction,
        true,
    ),
    sf(
        0x03,
        "Spooler Queue",
        0x01,
        "",
        FolderRole::SpoolerQueue,
        true,
    ),
    sf(0x04, "Shortcuts", 0x01, "", FolderRole::Shortcuts, true),
    sf(0x05, "Finder", 0x01, "", FolderRole::Finder, true),
    sf(0x06, "Views", 0x01, "", FolderRole::Views, true),
    sf(
        0x07,
        "Common Views",
        0x01,
        "",
        FolderRole::CommonViews,
        true,
    ),
    sf(0x08, "Schedule", 0x01, "", FolderRole::Schedule, true),
    sf(
        0x09,
        "Top of Information Store",
        0x01,
        "",
        FolderRole::IpmSubtree,
        false,
    ),
    sf(
        0x0a,
        "Sent Items",
        0x09,
        "IPF.Note",
        FolderRole::Sent,
        false,
    ),
    sf(
        0x0b,
        "Deleted Items",
        0x09,
        "IPF.Note",
        FolderRole::Trash,
        false,
    ),
    sf(0x0c, "Outbox", 0x09, "IPF.Note", FolderRole::Outbox, false),
    sf(0x0d, "Inbox", 0x09, "IPF.Note", FolderRole::Inbox, false),
    sf(0x0e, "Drafts", 0x09, "IPF.Note", FolderRole::Drafts, false),
    sf(
        0x0f,
        "Calendar",
        0x09,
        "IPF.Appointment",
        FolderRole::Calendar,
        false,
    ),
    sf(
        0x10,
        "Journal",
        0x09,
        "IPF.Journal",
        FolderRole::Journal,
        false,
    ),
    sf(
        0x11,
        "Notes",
        0x09,
        "IPF.StickyNote",
        FolderRole::Notes,
        false,
    ),
    sf(0x12, "Tasks", 0x09, "IPF.Task", FolderRole::Tasks, false),
    sf(
        0x13,
        "Contacts",
        0x09,
        "IPF.Contact",
        FolderRole::Contacts,
        false,
    ),
    sf(
        0x14,
        "Quick Contacts",
        0x13,
        "IPF.Contact.MOC.QuickContacts",
        FolderRole::QuickContacts,
        true,
    ),
    sf(
        0x15,
        "IM Contacts List",
        0x13,
        "IPF.Contact.MOC.ImContactList",
        FolderRole::ImContacts,
        true,
    ),
    sf(
        0x16,
        "GAL Contacts",
        0x13,
        "IPF.Contact.GalContacts",
        FolderRole::GalContacts,
        true,
    ),
    sf(
        0x17,
        "Junk Email",
        0x09,
        "IPF.Note",
        FolderRole::Junk,
        false,
    ),
    sf(0x18, "Freebusy Data", 0x01, "", FolderRole::Freebusy, true),
    sf(
        0x19,
        "Sync Issues",
        0x09,
        "IPF.Note",
        FolderRole::SyncIssues,
        false,
    ),
    sf(
        0x1a,
        "Conflicts",
        0x19,
        "IPF.Note",
        FolderRole::Conflicts,
        false,
    ),
    sf(
        0x1b,
        "Local Failures",
        0x19,
        "IPF.Note",
        FolderRole::LocalFailures,
        false,
    ),
    sf(
        0x1c,
        "Server Failures",
        0x19,
        "IPF.Note",
        FolderRole::ServerFailures,
        false,
    ),
    sf(
        0x1d,
        "Conversation Action Settings",
        0x09,
        "IPF.Configuration",
        FolderRole::ConversationActions,
        true,
    ),
];

/// The folders of a new public store.
pub const STANDARD_PUBLIC: &[StandardFolder] = &[
    sf(0x01, "Root Container", 0, "", FolderRole::Root, false),
    sf(0x02, "IPM_SUBTREE", 0x01, "", FolderRole::IpmSubtree, false),
    sf(
        0x03,
        "NON_IPM_SUBTREE",
        0x01,
        "",
        FolderRole::NonIpmSubtree,
        false,
    ),
    sf(
        0x04,
        "EFORMS REGISTRY",
        0x03,
        "",
        FolderRole::EformsRegistry,
        false,
    ),
];

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

fn is_computed(tag: PropTag) -> bool {
    matches!(
        tag,
        PR_CONTENT_COUNT | PR_CONTENT_UNREAD | PR_SUBFOLDERS | PR_CREATION_TIME
    )
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_FOLDER_NAME_LEN || name.chars().any(char::is_control) {
        return Err(StoreError::InvalidArgument(format!(
            "folder name {name:?} must be 1 to {MAX_FOLDER_NAME_LEN} bytes without control characters"
        )));
    }
    Ok(())
}

pub(crate) fn check_sibling_free(
    conn: &Connection,
    parent: FolderId,
    name: &str,
    except: Option<FolderId>,
) -> Result<()> {
    let taken: Option<i64> = conn
        .prepare_cached(
            "SELECT folder_id FROM folders WHERE parent_id = ?1 AND lower(name) = lower(?2)
               AND deleted_at IS NULL AND folder_id != ?3",
        )?
        .query_row(
            params![parent.0 as i64, name, except.map_or(-1, |e| e.0 as i64)],
            |r| r.get(0),
        )
        .optional()?;
    match taken {
        Some(_) => Err(StoreError::FolderExists {
            parent,
            name: name.to_string(),
        }),
        None => Ok(()),
    }
}

/// A UIDVALIDITY never used before in this store: the current time in
/// seconds, or one more than the last one given out, whichever is larger.
fn next_uidvalidity(ctx: &WriteCtx<'_>) -> Result<UidValidity> {
    let v: i64 = ctx.conn.query_row(
        "UPDATE store_info SET last_uidvalidity = max(last_uidvalidity + 1, ?1) WHERE id = 1
         RETURNING last_uidvalidity",
        [ctx.now.clamp(1, i64::from(u32::MAX))],
        |r| r.get(0),
    )?;
    u32::try_from(v)
        .map(UidValidity)
        .map_err(|_| StoreError::Corrupt("UIDVALIDITY space exhausted".into()))
}

/// Inserts one folder row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_row(
    ctx: &mut WriteCtx<'_>,
    id: FolderId,
    parent: Option<FolderId>,
    name: &str,
    class: &str,
    role: Option<FolderRole>,
    hidden: bool,
) -> Result<ChangeNumber> {
    let cn = ctx.next_cn()?;
    let uidvalidity = next_uidvalidity(ctx)?;
    ctx.conn.execute(
        "INSERT INTO folders (folder_id, parent_id, name, container_class, role, hidden, uidvalidity,
            uidnext, cn, highest_modseq, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8, ?9)",
        params![
            id.0 as i64,
            parent.map(|p| p.0 as i64),
            name,
            class,
            role.map(FolderRole::as_str),
            hidden,
            i64::from(uidvalidity.0),
            cn.0 as i64,
            ctx.now,
        ],
    )?;
    ctx.event(id, ChangeKind::FolderCreated, None, cn);
    Ok(cn)
}

fn depth(conn: &Connection, id: FolderId) -> Result<usize> {
    let mut d = 0;
    let mut cur = Some(id);
    while let Some(c) = cur {
        cur = conn
            .prepare_cached("SELECT parent_id FROM folders WHERE folder_id = ?1")?
            .query_row([c.0 as i64], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten()
            .map(|p| FolderId(p as u64));
        d += 1;
        if d > MAX_FOLDER_DEPTH + 1 {
            break;
        }
    }
    Ok(d)
}

/// Creates a folder under `parent`.
pub(crate) fn create(
    ctx: &mut WriteCtx<'_>,
    parent: FolderId,
    name: &str,
    class: &str,
) -> Result<FolderInfo> {
    check_name(name)?;
    get(ctx.conn, parent)?;
    if depth(ctx.conn, parent)? > MAX_FOLDER_DEPTH {
        return Err(StoreError::InvalidArgument(format!(
            "folders nest at most {MAX_FOLDER_DEPTH} deep"
        )));
    }
    check_sibling_free(ctx.conn, parent, name, None)?;
    let id: i64 = ctx.conn.query_row(
        "UPDATE store_info SET next_folder_id = next_folder_id + 1 WHERE id = 1 RETURNING next_folder_id - 1",
        [],
        |r| r.get(0),
    )?;
    let id = FolderId(id as u64);
    insert_row(ctx, id, Some(parent), name, class, None, false)?;
    get(ctx.conn, id)
}

fn touch(ctx: &mut WriteCtx<'_>, id: FolderId) -> Result<ChangeNumber> {
    let cn = ctx.next_cn()?;
    ctx.conn.execute(
        "UPDATE folders SET cn = ?2 WHERE folder_id = ?1",
        params![id.0 as i64, cn.0 as i64],
    )?;
    ctx.event(id, ChangeKind::FolderChanged, None, cn);
    Ok(cn)
}

fn check_not_standard(f: &FolderInfo, what: &str) -> Result<()> {
    match f.role {
        Some(role) => Err(StoreError::NotPermitted(format!(
            "cannot {what} the standard folder {} ({})",
            f.id,
            role.as_str()
        ))),
        None => Ok(()),
    }
}

/// Renames a folder (standard folders may be renamed, e.g. for a language).
pub(crate) fn rename(ctx: &mut WriteCtx<'_>, id: FolderId, name: &str) -> Result<FolderInfo> {
    check_name(name)?;
    let f = get(ctx.conn, id)?;
    if let Some(parent) = f.parent {
        check_sibling_free(ctx.conn, parent, name, Some(id))?;
    }
    ctx.conn.execute(
        "UPDATE folders SET name = ?2 WHERE folder_id = ?1",
        params![id.0 as i64, name],
    )?;
    touch(ctx, id)?;
    get(ctx.conn, id)
}

/// Moves a folder under a new parent, optionally renaming it.
pub(crate) fn move_to(
    ctx: &mut WriteCtx<'_>,
    id: FolderId,
    new_parent: FolderId,
    name: Option<&str>,
) -> Result<FolderInfo> {
    let f = get(ctx.conn, id)?;
    check_not_standard(&f, "move")?;
    get(ctx.conn, new_parent)?;
    if subtree(ctx.conn, id)?.contains(&new_parent) {
        return Err(StoreError::InvalidArgument(format!(
            "cannot move folder {id} into its own subtree"
        )));
    }
    let name = name.unwrap_or(&f.name).to_string();
    check_name(&name)?;
    check_sibling_free(ctx.conn, new_parent, &name, Some(id))?;
    if depth(ctx.conn, new_parent)? + subtree_height(ctx.conn, id)? > MAX_FOLDER_DEPTH + 1 {
        return Err(StoreError::InvalidArgument(format!(
            "folders nest at most {MAX_FOLDER_DEPTH} deep"
        )));
    }
    ctx.conn.execute(
        "UPDATE folders SET parent_id = ?2, name = ?3 WHERE folder_id = ?1",
        params![id.0 as i64, new_parent.0 as i64, name],
    )?;
    touch(ctx, id)?;
    get(ctx.conn, id)
}

/// The folder and every live folder below it, parents before children.
pub(crate) fn subtree(conn: &Connection, id: FolderId) -> Result<Vec<FolderId>> {
    let mut out = vec![id];
    let mut i = 0;
    let mut st = conn.prepare_cached(
        "SELECT folder_id FROM folders WHERE parent_id = ?1 AND deleted_at IS NULL",
    )?;
    while i < out.len() {
        let kids = st
            .query_map([out[i].0 as i64], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.extend(kids.into_iter().map(|k| FolderId(k as u64)));
        i += 1;
    }
    Ok(out)
}

fn subtree_height(conn: &Connection, id: FolderId) -> Result<usize> {
    let all = subtree(conn, id)?;
    let mut max = 1;
    for f in &all {
        // depth relative to id
        let mut d = 1;
        let mut cur = *f;
        while cur != id {
            let p: Option<i64> = conn
                .prepare_cached("SELECT parent_id FROM folders WHERE folder_id = ?1")?
                .query_row([cur.0 as i64], |r| r.get(0))?;
            match p {
                Some(p) => cur = FolderId(p as u64),
                None => break,
            }
            d += 1;
        }
        max = max.max(d);
    }
    Ok(max)
}

/// Sets and removes folder properties. PR_DISPLAY_NAME renames, PR_CONTAINER_CLASS
/// sets the class; counters are computed and cannot be set.
pub(crate) fn set_props(
    ctx: &mut WriteCtx<'_>,
    id: FolderId,
    set: &[Prop],
    remove: &[PropTag],
) -> Result<()> {
    let f = get(ctx.conn, id)?;
    for (tag, value) in set {
        check_prop(*tag, value)?;
        if is_computed(*tag) {
            return Err(StoreError::InvalidArgument(format!("{tag} is computed")));
        }
        match *tag {
            PR_DISPLAY_NAME => {
                let name = value.as_str().unwrap_or_default();
                check_name(name)?;
                if let Some(parent) = f.parent {
                    check_sibling_free(ctx.conn, parent, name, Some(id))?;
                }
                ctx.conn.execute(
                    "UPDATE folders SET name = ?2 WHERE folder_id = ?1",
                    params![id.0 as i64, name],
                )?;
            }
            PR_CONTAINER_CLASS => {
                ctx.conn.execute(
                    "UPDATE folders SET container_class = ?2 WHERE folder_id = ?1",
                    params![id.0 as i64, value.as_str().unwrap_or_default()],
                )?;
            }
            _ => {
                ctx.conn.execute(
                    "INSERT OR REPLACE INTO folder_properties (folder_id, tag, value) VALUES (?1, ?2, ?3)",
                    params![id.0 as i64, i64::from(tag.0), to_sql(value)],
                )?;
            }
        }
    }
    for tag in remove {
        match *tag {
            PR_DISPLAY_NAME => {
                return Err(StoreError::InvalidArgument("a folder needs a name".into()));
            }
            PR_CONTAINER_CLASS => {
                ctx.conn.execute(
                    "UPDATE folders SET container_class = '' WHERE folder_id = ?1",
                    [id.0 as i64],
                )?;
            }
            _ => {
                ctx.conn.execute(
                    "DELETE FROM folder_properties WHERE folder_id = ?1 AND tag = ?2",
                    params![id.0 as i64, i64::from(tag.0)],
                )?;
            }
        }
    }
    touch(ctx, id)?;
    Ok(())
}

/// Deletes a folder and its subtree: soft (kept for `purge_soft_deleted`,
/// invisible to everyone) or hard (gone at once). Messages go with it.
pub(crate) fn delete(ctx: &mut WriteCtx<'_>, id: FolderId, hard: bool) -> Result<()> {
    let f = get(ctx.conn, id)?;
    check_not_standard(&f, "delete")?;
    let all = subtree(ctx.conn, id)?;
    // Children first, so a crash-free rollback is not needed to keep parents valid.
    for fid in all.iter().rev() {
        crate::messages::delete_all_in_folder(ctx, *fid, hard)?;
        let cn = ctx.next_cn()?;
        if hard {
            remove_folder_rows(ctx.conn, *fid)?;
        } else {
            ctx.conn.execute(
                "UPDATE folders SET deleted_at = ?2, cn = ?3 WHERE folder_id = ?1",
                params![fid.0 as i64, ctx.now, cn.0 as i64],
            )?;
        }
        ctx.conn.execute(
            "INSERT OR REPLACE INTO folder_tombstones (folder_id, cn) VALUES (?1, ?2)",
            params![fid.0 as i64, cn.0 as i64],
        )?;
        ctx.event(*fid, ChangeKind::FolderDeleted, None, cn);
    }
    Ok(())
}

pub(crate) fn remove_folder_rows(conn: &Connection, id: FolderId) -> Result<()> {
    conn.execute(
        "DELETE FROM folder_properties WHERE folder_id = ?1",
        [id.0 as i64],
    )?;
    conn.execute(
        "DELETE FROM message_tombstones WHERE folder_id = ?1",
        [id.0 as i64],
    )?;
    conn.execute("DELETE FROM folders WHERE folder_id = ?1", [id.0 as i64])?;
    Ok(())
}

/// Deletes every message of a folder, and optionally its subfolders.
pub(crate) fn empty(
    ctx: &mut WriteCtx<'_>,
    id: FolderId,
    hard: bool,
    subfolders: bool,
) -> Result<()> {
    get(ctx.conn, id)?;
    crate::messages::delete_all_in_folder(ctx, id, hard)?;
    if subfolders {
        let kids: Vec<i64> = ctx
            .conn
            .prepare("SELECT folder_id FROM folders WHERE parent_id = ?1 AND deleted_at IS NULL")?
            .query_map([id.0 as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for k in kids {
            delete(ctx, FolderId(k as u64), hard)?;
        }
    }
    Ok(())
}
