//! FolderSync: the folders below the store's IPM subtree with their EAS
//! types, first all of them (SyncKey 0), then what changed since the
//! hierarchy the device holds (Add, Update, Delete).

use crate::state::{self, Hierarchy, KnownFolder};
use crate::{Ctx, Failure, expect_root};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_wbxml::{Element, FolderHierarchy};
use std::collections::{BTreeMap, HashMap};

/// What a collection holds, which decides how its items are converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CollectionKind {
    Mail,
    Calendar,
    Contacts,
    Tasks,
    Notes,
}

impl CollectionKind {
    pub(crate) fn of(container_class: &str) -> CollectionKind {
        let c = container_class;
        let is = |p: &str| c == p || c.starts_with(&format!("{p}."));
        if is("IPF.Appointment") {
            CollectionKind::Calendar
        } else if is("IPF.Contact") {
            CollectionKind::Contacts
        } else if is("IPF.Task") {
            CollectionKind::Tasks
        } else if is("IPF.StickyNote") {
            CollectionKind::Notes
        } else {
            CollectionKind::Mail
        }
    }
}

/// The EAS folder type ([MS-ASCMD] 2.2.3.186.3) of a store folder.
pub(crate) fn folder_type(f: &pb::Folder) -> u8 {
    match f.role.as_str() {
        "inbox" => 2,
        "drafts" => 3,
        "trash" => 4,
        "sent" => 5,
        "outbox" => 6,
        "tasks" => 7,
        "calendar" => 8,
        "contacts" => 9,
        "notes" => 10,
        "journal" => 11,
        _ => match CollectionKind::of(&f.container_class) {
            CollectionKind::Mail if f.container_class.starts_with("IPF.Journal") => 16,
            CollectionKind::Mail
                if f.container_class.is_empty() || f.container_class.starts_with("IPF.Note") =>
            {
                12
            }
            CollectionKind::Mail => 1,
            CollectionKind::Calendar => 13,
            CollectionKind::Contacts => 14,
            CollectionKind::Tasks => 15,
            CollectionKind::Notes => 17,
        },
    }
}

/// The folders a device sees: below the IPM subtree, not hidden, parents
/// before children. ServerIds are folder ids; top level has ParentId 0.
pub(crate) fn visible(folders: &[pb::Folder]) -> Vec<(String, KnownFolder, pb::Folder)> {
    let Some(top) = folders.iter().find(|f| f.role == "ipm_subtree") else {
        return Vec::new();
    };
    let mut children: HashMap<u64, Vec<&pb::Folder>> = HashMap::new();
    for f in folders {
        if f.id != f.parent_id {
            children.entry(f.parent_id).or_default().push(f);
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![top.id];
    while let Some(parent) = queue.pop() {
        let mut kids = children.remove(&parent).unwrap_or_default();
        kids.sort_by_key(|f| f.id);
        for f in kids {
            if f.hidden {
                continue;
            }
            let known = KnownFolder {
                parent: if parent == top.id {
                    "0".into()
                } else {
                    parent.to_string()
                },
                name: f.name.clone(),
                kind: folder_type(f),
            };
            out.push((f.id.to_string(), known, f.clone()));
            queue.push(f.id);
        }
    }
    out
}

/// The store's folders.
pub(crate) async fn store_folders(ctx: &Ctx<'_>) -> Result<Vec<pb::Folder>, Failure> {
    Ok(ctx
        .exmdb()
        .list_folders(pb::ListFoldersRequest {
            dir: ctx.dir.clone(),
            prop_tags: Vec::new(),
        })
        .await?
        .folders)
}

fn folder_element(tag: FolderHierarchy, id: &str, f: &KnownFolder) -> Element {
    Element::with_children(
        tag,
        [
            Element::with_text(FolderHierarchy::ServerId, id),
            Element::with_text(FolderHierarchy::ParentId, &f.parent),
            Element::with_text(FolderHierarchy::DisplayName, &f.name),
            Element::with_text(FolderHierarchy::Type, f.kind.to_string()),
        ],
    )
}

fn status_only(status: u8) -> Element {
    Element::with_children(
        FolderHierarchy::FolderSync,
        [Element::with_text(
            FolderHierarchy::Status,
            status.to_string(),
        )],
    )
}

/// The changes that take a device from `known` to `now`, parents first
/// for additions.
pub(crate) fn diff(
    known: &BTreeMap<String, KnownFolder>,
    now: &[(String, KnownFolder, pb::Folder)],
) -> Vec<Element> {
    let mut out = Vec::new();
    for (id, f, _) in now {
        match known.get(id) {
            None => out.push(folder_element(FolderHierarchy::Add, id, f)),
            Some(k) if k != f => out.push(folder_element(FolderHierarchy::Update, id, f)),
            Some(_) => {}
        }
    }
    for id in known.keys() {
        if !now.iter().any(|(n, _, _)| n == id) {
            out.push(Element::with_children(
                FolderHierarchy::Delete,
                [Element::with_text(FolderHierarchy::ServerId, id)],
            ));
        }
    }
    out
}

pub(crate) async fn folder_sync(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, FolderHierarchy::FolderSync)?;
    let Some(key) = request.child_text(FolderHierarchy::SyncKey) else {
        return Ok(Some(status_only(10)));
    };
    let device = ctx.params.device_id.clone();
    let mut hierarchy = if key == "0" {
        Hierarchy {
            generation: state::new_generation(),
            n: 0,
            folders: BTreeMap::new(),
        }
    } else {
        let held = ctx.devices().hierarchy(&device).await?;
        match (held, state::parse_key(key)) {
            (Some(h), Some((g, n))) if h.generation == g && h.n == n => h,
            _ => return Ok(Some(status_only(9))),
        }
    };
    let now = visible(&store_folders(ctx).await?);
    let changes = diff(&hierarchy.folders, &now);
    if !changes.is_empty() || key == "0" {
        hierarchy.n += 1;
        hierarchy.folders = now.into_iter().map(|(id, f, _)| (id, f)).collect();
        ctx.devices().save_hierarchy(&device, &hierarchy).await?;
    }
    let mut body = vec![Element::with_text(
        FolderHierarchy::Count,
        changes.len().to_string(),
    )];
    body.extend(changes);
    Ok(Some(Element::with_children(
        FolderHierarchy::FolderSync,
        [
            Element::with_text(FolderHierarchy::Status, "1"),
            Element::with_text(
                FolderHierarchy::SyncKey,
                state::key(hierarchy.generation, hierarchy.n),
            ),
            Element::with_children(FolderHierarchy::Changes, body),
        ],
    )))
}

/// The hierarchy a folder command's SyncKey names, or its status 9.
async fn held_hierarchy(
    ctx: &Ctx<'_>,
    request: &Element,
) -> Result<Result<Hierarchy, u8>, Failure> {
    let Some(key) = request.child_text(FolderHierarchy::SyncKey) else {
        return Ok(Err(10));
    };
    let held = ctx.devices().hierarchy(&ctx.params.device_id).await?;
    Ok(match (held, state::parse_key(key.trim())) {
        (Some(h), Some((g, n))) if h.generation == g && h.n == n => Ok(h),
        _ => Err(9),
    })
}

/// The container class of an EAS folder type a device may create.
fn class_of_type(kind: &str) -> Option<&'static str> {
    Some(match kind.trim() {
        "1" | "12" => "IPF.Note",
        "13" => "IPF.Appointment",
        "14" => "IPF.Contact",
        "15" => "IPF.Task",
        "16" => "IPF.Journal",
        "17" => "IPF.StickyNote",
        _ => return None,
    })
}

fn folder_answer(root: FolderHierarchy, status: u8, extra: Vec<Element>) -> Option<Element> {
    let mut c = vec![Element::with_text(
        FolderHierarchy::Status,
        status.to_string(),
    )];
    c.extend(extra);
    Some(Element::with_children(root, c))
}

/// Records the store's hierarchy as the device's after its own change,
/// under the next key.
async fn advance(ctx: &Ctx<'_>, mut h: Hierarchy) -> Result<Element, Failure> {
    let now = visible(&store_folders(ctx).await?);
    h.n += 1;
    h.folders = now.into_iter().map(|(id, f, _)| (id, f)).collect();
    ctx.devices()
        .save_hierarchy(&ctx.params.device_id, &h)
        .await?;
    Ok(Element::with_text(
        FolderHierarchy::SyncKey,
        state::key(h.generation, h.n),
    ))
}

fn parent_selector(folders: &[pb::Folder], parent: &str) -> Option<pb::FolderSelector> {
    if parent.trim() == "0" {
        return Some(groxide_rpc::exmdb_client::folder_role("ipm_subtree"));
    }
    visible(folders)
        .into_iter()
        .find(|(id, _, _)| id == parent.trim())
        .map(|(_, _, f)| groxide_rpc::exmdb_client::folder_id(f.id))
}

fn exists(e: &groxide_rpc::RpcError) -> bool {
    e.reason() == Some(groxide_rpc::reason::Reason::FolderExists)
}

pub(crate) async fn folder_create(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, FolderHierarchy::FolderCreate)?;
    let root = FolderHierarchy::FolderCreate;
    let h = match held_hierarchy(ctx, &request).await? {
        Ok(h) => h,
        Err(s) => return Ok(folder_answer(root, s, Vec::new())),
    };
    let name = request
        .child_text(FolderHierarchy::DisplayName)
        .unwrap_or("")
        .trim();
    let (Some(class), false) = (
        class_of_type(request.child_text(FolderHierarchy::Type).unwrap_or("")),
        name.is_empty() || name.contains('/'),
    ) else {
        return Ok(folder_answer(root, 10, Vec::new()));
    };
    let folders = store_folders(ctx).await?;
    let Some(parent) = parent_selector(
        &folders,
        request.child_text(FolderHierarchy::ParentId).unwrap_or("0"),
    ) else {
        return Ok(folder_answer(root, 5, Vec::new()));
    };
    let created = ctx
        .exmdb()
        .create_folder(pb::CreateFolderRequest {
            dir: ctx.dir.clone(),
            parent: Some(parent),
            name: name.to_string(),
            container_class: class.to_string(),
        })
        .await;
    let folder = match created {
        Ok(f) => f,
        Err(e) if exists(&e) => return Ok(folder_answer(root, 2, Vec::new())),
        Err(e) => return Err(e.into()),
    };
    let key = advance(ctx, h).await?;
    Ok(folder_answer(
        root,
        1,
        vec![
            key,
            Element::with_text(FolderHierarchy::ServerId, folder.id.to_string()),
        ],
    ))
}

pub(crate) async fn folder_update(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, FolderHierarchy::FolderUpdate)?;
    let root = FolderHierarchy::FolderUpdate;
    let h = match held_hierarchy(ctx, &request).await? {
        Ok(h) => h,
        Err(s) => return Ok(folder_answer(root, s, Vec::new())),
    };
    let folders = store_folders(ctx).await?;
    let id = request
        .child_text(FolderHierarchy::ServerId)
        .unwrap_or("")
        .trim()
        .to_string();
    let Some((_, known, folder)) = visible(&folders).into_iter().find(|(i, _, _)| *i == id) else {
        return Ok(folder_answer(root, 4, Vec::new()));
    };
    if !folder.role.is_empty() {
        return Ok(folder_answer(root, 2, Vec::new()));
    }
    let name = request
        .child_text(FolderHierarchy::DisplayName)
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() || name.contains('/') {
        return Ok(folder_answer(root, 10, Vec::new()));
    }
    let parent_id = request
        .child_text(FolderHierarchy::ParentId)
        .unwrap_or("0")
        .trim()
        .to_string();
    let result = if parent_id != known.parent {
        let Some(parent) = parent_selector(&folders, &parent_id) else {
            return Ok(folder_answer(root, 5, Vec::new()));
        };
        ctx.exmdb()
            .move_folder(pb::MoveFolderRequest {
                dir: ctx.dir.clone(),
                folder: Some(groxide_rpc::exmdb_client::folder_id(folder.id)),
                new_parent: Some(parent),
                new_name: name,
            })
            .await
    } else {
        ctx.exmdb()
            .rename_folder(pb::RenameFolderRequest {
                dir: ctx.dir.clone(),
                folder: Some(groxide_rpc::exmdb_client::folder_id(folder.id)),
                name,
            })
            .await
    };
    match result {
        Ok(_) => {}
        Err(e) if exists(&e) => return Ok(folder_answer(root, 2, Vec::new())),
        Err(e) => return Err(e.into()),
    }
    let key = advance(ctx, h).await?;
    Ok(folder_answer(root, 1, vec![key]))
}

pub(crate) async fn folder_delete(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, FolderHierarchy::FolderDelete)?;
    let root = FolderHierarchy::FolderDelete;
    let h = match held_hierarchy(ctx, &request).await? {
        Ok(h) => h,
        Err(s) => return Ok(folder_answer(root, s, Vec::new())),
    };
    let folders = store_folders(ctx).await?;
    let id = request
        .child_text(FolderHierarchy::ServerId)
        .unwrap_or("")
        .trim()
        .to_string();
    let Some((_, _, folder)) = visible(&folders).into_iter().find(|(i, _, _)| *i == id) else {
        return Ok(folder_answer(root, 4, Vec::new()));
    };
    if !folder.role.is_empty() {
        return Ok(folder_answer(root, 3, Vec::new()));
    }
    ctx.exmdb()
        .delete_folder(pb::DeleteFolderRequest {
            dir: ctx.dir.clone(),
            folder: Some(groxide_rpc::exmdb_client::folder_id(folder.id)),
            hard: false,
        })
        .await?;
    let key = advance(ctx, h).await?;
    Ok(folder_answer(root, 1, vec![key]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(id: u64, parent: u64, name: &str, class: &str, role: &str) -> pb::Folder {
        pb::Folder {
            id,
            parent_id: parent,
            name: name.into(),
            container_class: class.into(),
            role: role.into(),
            ..pb::Folder::default()
        }
    }

    fn store() -> Vec<pb::Folder> {
        vec![
            folder(1, 0, "Root", "", "root"),
            folder(9, 1, "Top", "", "ipm_subtree"),
            folder(0x0d, 9, "Inbox", "IPF.Note", "inbox"),
            folder(0x0f, 9, "Calendar", "IPF.Appointment", "calendar"),
            folder(0x13, 9, "Contacts", "IPF.Contact", "contacts"),
            folder(0x12, 9, "Tasks", "IPF.Task", "tasks"),
            folder(0x100, 0x0d, "Projects", "IPF.Note", ""),
            folder(0x101, 9, "Birthdays", "IPF.Appointment", ""),
            folder(0x102, 1, "groxide-eas", "", ""),
        ]
    }

    #[test]
    fn hierarchy_has_eas_types_parents_first_and_nothing_outside_the_ipm_subtree() {
        let v = visible(&store());
        let got: Vec<(String, String, u8)> = v
            .iter()
            .map(|(id, f, _)| (id.clone(), f.parent.clone(), f.kind))
            .collect();
        assert!(got.contains(&("13".into(), "0".into(), 2)));
        assert!(got.contains(&("15".into(), "0".into(), 8)));
        assert!(got.contains(&("19".into(), "0".into(), 9)));
        assert!(got.contains(&("18".into(), "0".into(), 7)));
        assert!(got.contains(&("256".into(), "13".into(), 12)));
        assert!(got.contains(&("257".into(), "0".into(), 13)));
        assert!(
            !got.iter()
                .any(|(id, _, _)| id == "258" || id == "1" || id == "9")
        );
        let inbox = got.iter().position(|g| g.0 == "13").unwrap();
        let child = got.iter().position(|g| g.0 == "256").unwrap();
        assert!(inbox < child);
    }

    #[test]
    fn diff_names_additions_updates_and_deletions() {
        let before: BTreeMap<String, KnownFolder> = visible(&store())
            .into_iter()
            .map(|(i, f, _)| (i, f))
            .collect();
        let mut changed = store();
        changed.retain(|f| f.id != 0x101);
        if let Some(f) = changed.iter_mut().find(|f| f.id == 0x100) {
            f.name = "Projects 2026".into();
        }
        changed.push(folder(0x103, 9, "New", "IPF.Note", ""));
        let d = diff(&before, &visible(&changed));
        let kinds: Vec<String> = d
            .iter()
            .map(|e| {
                format!(
                    "{}:{}",
                    e.tag.name(),
                    e.child_text(FolderHierarchy::ServerId).unwrap()
                )
            })
            .collect();
        assert_eq!(kinds, ["Add:259", "Update:256", "Delete:257"]);
        assert!(diff(&before, &visible(&store())).is_empty());
    }
}
