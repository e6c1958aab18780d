//! Folder operations: GetFolder, FindFolder, CreateFolder, DeleteFolder,
//! UpdateFolder (rename), EmptyFolder.

use super::{list_of, refuse};
use crate::folders::{FolderShape, write_folder};
use crate::ids::{FolderKey, change_key};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter};
use groxide_rpc::exmdb_client::folder_id;
use groxide_rpc::pb::exmdb::v1 as pb;

fn shape_of(op: &Element) -> FolderShape {
    FolderShape::of(op.m("FolderShape"))
}

/// Listed subfolders of `id`.
fn child_count(all: &[pb::Folder], id: u64) -> u64 {
    all.iter()
        .filter(|f| f.parent_id == id && !f.hidden)
        .count() as u64
}

/// A folder with what its element needs.
pub(crate) struct ShownFolder {
    pub folder: pb::Folder,
    pub children: u64,
}

pub(crate) async fn shown(
    mb: &mut Mailbox<'_>,
    folder: pb::Folder,
) -> Result<ShownFolder, EwsError> {
    let children = child_count(mb.folders().await?, folder.id);
    Ok(ShownFolder { folder, children })
}

fn write_folders(w: &mut XmlWriter, store: [u8; 16], shape: FolderShape, folders: &[ShownFolder]) {
    w.open("m:Folders", &[]);
    for f in folders {
        write_folder(w, store, &f.folder, shape, f.children);
    }
    w.close();
}

pub(crate) async fn get_folder(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let shape = shape_of(op);
    let ids = match list_of(op, "FolderIds") {
        Ok(ids) => ids,
        Err(e) => return refuse(w, "GetFolder", e),
    };
    let mut results = Vec::new();
    for id in ids {
        let r = match mb.resolve_folder(id).await {
            Ok(f) => shown(mb, f).await,
            Err(e) => Err(e),
        };
        results.push(r);
    }
    let store = mb.guid().await.unwrap_or_default();
    write_messages(w, "GetFolder", &results, |w, f| {
        write_folders(w, store, shape, std::slice::from_ref(f));
    });
}

pub(crate) async fn find_folder(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let shape = shape_of(op);
    let deep = match op.attr("Traversal").unwrap_or("Shallow") {
        "Shallow" => false,
        "Deep" => true,
        other => {
            return refuse(
                w,
                "FindFolder",
                EwsError::unsupported(format!("Traversal {other}")),
            );
        }
    };
    let (offset, max) = match op.m("IndexedPageFolderView") {
        Some(v) => (
            v.attr("Offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0usize),
            v.attr("MaxEntriesReturned")
                .and_then(|o| o.parse().ok())
                .unwrap_or(usize::MAX),
        ),
        None => (0, usize::MAX),
    };
    let results = each_of!(op, "ParentFolderIds", w, "FindFolder", |p| {
        let parent = mb.resolve_folder(p).await?;
        let all = mb.folders().await?.to_vec();
        let mut found = Vec::new();
        let mut queue = vec![parent.id];
        while let Some(id) = queue.pop() {
            let mut kids: Vec<&pb::Folder> = all
                .iter()
                .filter(|f| f.parent_id == id && f.id != id && !f.hidden)
                .collect();
            kids.sort_by_key(|f| f.name.to_lowercase());
            for k in kids {
                if deep {
                    queue.push(k.id);
                }
                found.push(ShownFolder {
                    folder: k.clone(),
                    children: child_count(&all, k.id),
                });
            }
        }
        let total = found.len();
        let page: Vec<ShownFolder> = found.into_iter().skip(offset).take(max).collect();
        let next = offset + page.len();
        Ok::<_, EwsError>((page, total, next, next >= total))
    });
    let store = mb.guid().await.unwrap_or_default();
    write_messages(w, "FindFolder", &results, |w, (page, total, next, last)| {
        let total = total.to_string();
        let next = next.to_string();
        w.open(
            "m:RootFolder",
            &[
                ("IndexedPagingOffset", &next),
                ("TotalItemsInView", &total),
                (
                    "IncludesLastItemInRange",
                    if *last { "true" } else { "false" },
                ),
            ],
        )
        .open("t:Folders", &[]);
        for f in page {
            write_folder(w, store, &f.folder, shape, f.children);
        }
        w.close().close();
    });
}

pub(crate) async fn create_folder(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let parent = match mb
        .resolve_folder_in(op.m("ParentFolderId"), "ParentFolderId")
        .await
    {
        Ok(p) => p,
        Err(e) => return refuse(w, "CreateFolder", e),
    };
    let folders = match list_of(op, "Folders") {
        Ok(f) => f,
        Err(e) => return refuse(w, "CreateFolder", e),
    };
    let mut results = Vec::new();
    for f in folders {
        let name = f.t_text("DisplayName").unwrap_or_default().to_string();
        let class = match (f.t_text("FolderClass"), f.name.as_str()) {
            (Some(c), _) => c.to_string(),
            (None, "CalendarFolder") => "IPF.Appointment".into(),
            (None, "ContactsFolder") => "IPF.Contact".into(),
            (None, "TasksFolder") => "IPF.Task".into(),
            (None, _) => "IPF.Note".into(),
        };
        let r = if name.is_empty() {
            Err(EwsError::invalid("a folder needs a DisplayName"))
        } else {
            mb.exmdb()
                .create_folder(pb::CreateFolderRequest {
                    dir: mb.dir.clone(),
                    parent: Some(folder_id(parent.id)),
                    name,
                    container_class: class,
                })
                .await
                .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))
        };
        results.push(r);
    }
    mb.folders_changed();
    let store = mb.guid().await.unwrap_or_default();
    write_messages(w, "CreateFolder", &results, |w, f| {
        write_folders(
            w,
            store,
            FolderShape::IdOnly,
            &[ShownFolder {
                folder: f.clone(),
                children: 0,
            }],
        );
    });
}

pub(crate) async fn delete_folder(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let delete_type = op
        .attr("DeleteType")
        .unwrap_or("MoveToDeletedItems")
        .to_string();
    let results = each_of!(op, "FolderIds", w, "DeleteFolder", |id| {
        let folder = mb.resolve_folder(id).await?;
        if !folder.role.is_empty() {
            return Err(EwsError::new(
                ResponseCode::ErrorDeleteDistinguishedFolder,
                "a distinguished folder cannot be deleted",
            ));
        }
        let trash = mb.folder_by_role("trash").await?;
        if delete_type == "MoveToDeletedItems" && !in_subtree(mb, folder.id, trash.id).await? {
            mb.exmdb()
                .move_folder(pb::MoveFolderRequest {
                    dir: mb.dir.clone(),
                    folder: Some(folder_id(folder.id)),
                    new_parent: Some(folder_id(trash.id)),
                    new_name: String::new(),
                })
                .await
                .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
        } else {
            mb.exmdb()
                .delete_folder(pb::DeleteFolderRequest {
                    dir: mb.dir.clone(),
                    folder: Some(folder_id(folder.id)),
                    hard: delete_type == "HardDelete",
                })
                .await
                .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
        }
        mb.folders_changed();
        Ok(())
    });
    write_messages(w, "DeleteFolder", &results, |_, _| {});
}

/// Whether `id` lies below `ancestor`.
async fn in_subtree(mb: &mut Mailbox<'_>, id: u64, ancestor: u64) -> Result<bool, EwsError> {
    let all = mb.folders().await?;
    let mut at = id;
    for _ in 0..128 {
        let Some(f) = all.iter().find(|f| f.id == at) else {
            return Ok(false);
        };
        if f.parent_id == ancestor {
            return Ok(true);
        }
        if f.parent_id == 0 {
            return Ok(false);
        }
        at = f.parent_id;
    }
    Ok(false)
}

pub(crate) async fn update_folder(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let results = each_of!(op, "FolderChanges", w, "UpdateFolder", |change| {
        let target = change
            .children
            .iter()
            .find(|c| c.name == "FolderId" || c.name == "DistinguishedFolderId")
            .ok_or_else(|| EwsError::invalid("FolderChange names no folder"))?;
        let mut folder = mb.resolve_folder(target).await?;
        let updates = change
            .t("Updates")
            .ok_or_else(|| EwsError::invalid("FolderChange has no Updates"))?;
        for u in &updates.children {
            let field = u
                .t("FieldURI")
                .and_then(|f| f.attr("FieldURI"))
                .unwrap_or_default();
            let value = u
                .children
                .iter()
                .find(|c| c.ns == NS_TYPES && c.name != "FieldURI");
            match (u.name.as_str(), field) {
                ("SetFolderField", "folder:DisplayName") => {
                    let name = value
                        .and_then(|c| c.t_text("DisplayName"))
                        .filter(|n| !n.is_empty())
                        .ok_or_else(|| EwsError::invalid("no DisplayName to set"))?;
                    if name == folder.name {
                        continue;
                    }
                    if !folder.role.is_empty() {
                        return Err(EwsError::new(
                            ResponseCode::ErrorAccessDenied,
                            "a distinguished folder cannot be renamed",
                        ));
                    }
                    folder = mb
                        .exmdb()
                        .rename_folder(pb::RenameFolderRequest {
                            dir: mb.dir.clone(),
                            folder: Some(folder_id(folder.id)),
                            name: name.to_string(),
                        })
                        .await
                        .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
                    mb.folders_changed();
                }
                // Clients write back what they read: an unchanged class is no change.
                ("SetFolderField", "folder:FolderClass")
                    if value.and_then(|c| c.t_text("FolderClass"))
                        == Some(folder.container_class.as_str()) => {}
                // Properties this server does not keep are absent already.
                ("DeleteFolderField", _) => {}
                (kind, field) => {
                    return Err(EwsError::unsupported(format!("{kind} of {field}")));
                }
            }
        }
        Ok(folder)
    });
    let store = mb.guid().await.unwrap_or_default();
    write_messages(w, "UpdateFolder", &results, |w, f| {
        w.open("m:Folders", &[]).open("t:Folder", &[]);
        let id = FolderKey {
            store,
            folder: f.id,
        }
        .encode();
        w.empty(
            "t:FolderId",
            &[("Id", &id), ("ChangeKey", &change_key(f.change_number))],
        );
        w.close().close();
    });
}

pub(crate) async fn empty_folder(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let hard = op.attr("DeleteType") == Some("HardDelete");
    let subfolders = op.attr("DeleteSubFolders") == Some("true");
    let results = each_of!(op, "FolderIds", w, "EmptyFolder", |id| {
        let folder = mb.resolve_folder(id).await?;
        mb.exmdb()
            .empty_folder(pb::EmptyFolderRequest {
                dir: mb.dir.clone(),
                folder: Some(folder_id(folder.id)),
                hard,
                subfolders,
            })
            .await
            .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
        mb.folders_changed();
        Ok(())
    });
    write_messages(w, "EmptyFolder", &results, |_, _| {});
}
