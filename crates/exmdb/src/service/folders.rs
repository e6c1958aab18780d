//! The folder calls of the exmdb service: list, get, create, rename, move,
//! delete, empty, properties, hierarchy changes.

use super::{ExmdbService, MAX_PROP_TAGS};
use crate::convert;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_store::{self as st};
use tonic::{Request, Response, Status};

impl ExmdbService {
    pub(super) async fn list_folders_impl(
        &self,
        r: Request<pb::ListFoldersRequest>,
    ) -> Result<Response<pb::ListFoldersReply>, Status> {
        let r = r.into_inner();
        if r.prop_tags.len() > MAX_PROP_TAGS {
            return Err(Status::invalid_argument(format!(
                "at most {MAX_PROP_TAGS} property tags per ListFolders"
            )));
        }
        let tags: Vec<st::props::PropTag> =
            r.prop_tags.iter().map(|t| st::props::PropTag(*t)).collect();
        // Properties cost queries per folder: only the bare list is small.
        let folders = if tags.is_empty() {
            self.read_small(&r.dir, move |s| s.folders_with_props(&tags))
                .await?
        } else {
            self.with_store(&r.dir, move |s| s.folders_with_props(&tags))
                .await?
        };
        Ok(Response::new(pb::ListFoldersReply {
            folders: folders
                .into_iter()
                .map(|(f, props)| pb::Folder {
                    props: convert::props_to_pb(props),
                    ..convert::folder(f)
                })
                .collect(),
        }))
    }

    pub(super) async fn get_folder_impl(
        &self,
        r: Request<pb::FolderRequest>,
    ) -> Result<Response<pb::Folder>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let (info, imap) = self
            .read_small(&r.dir, move |s| s.folder_with_imap_status(f))
            .await?;
        Ok(Response::new(pb::Folder {
            deleted_count: Some(imap.deleted),
            first_unseen_uid: Some(imap.first_unseen_uid),
            highest_uid: Some(imap.highest_uid),
            ..convert::folder(info)
        }))
    }

    pub(super) async fn get_folder_props_impl(
        &self,
        r: Request<pb::FolderRequest>,
    ) -> Result<Response<pb::PropList>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let props = self.read_small(&r.dir, move |s| s.folder_props(f)).await?;
        Ok(Response::new(pb::PropList {
            props: convert::props_to_pb(props),
        }))
    }

    pub(super) async fn create_folder_impl(
        &self,
        r: Request<pb::CreateFolderRequest>,
    ) -> Result<Response<pb::Folder>, Status> {
        let r = r.into_inner();
        let p = convert::folder_ref(r.parent.as_ref())?;
        let (name, class) = (r.name, r.container_class);
        let f = self
            .with_store(&r.dir, move |s| s.create_folder(p, &name, &class))
            .await?;
        Ok(Response::new(convert::folder(f)))
    }

    pub(super) async fn rename_folder_impl(
        &self,
        r: Request<pb::RenameFolderRequest>,
    ) -> Result<Response<pb::Folder>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let name = r.name;
        let info = self
            .with_store(&r.dir, move |s| s.rename_folder(f, &name))
            .await?;
        Ok(Response::new(convert::folder(info)))
    }

    pub(super) async fn move_folder_impl(
        &self,
        r: Request<pb::MoveFolderRequest>,
    ) -> Result<Response<pb::Folder>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let p = convert::folder_ref(r.new_parent.as_ref())?;
        let name = (!r.new_name.is_empty()).then_some(r.new_name);
        let info = self
            .with_store(&r.dir, move |s| s.move_folder(f, p, name.as_deref()))
            .await?;
        Ok(Response::new(convert::folder(info)))
    }

    pub(super) async fn delete_folder_impl(
        &self,
        r: Request<pb::DeleteFolderRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let hard = r.hard;
        self.with_store(&r.dir, move |s| s.delete_folder(f, hard))
            .await?;
        Ok(Response::new(pb::Empty {}))
    }

    pub(super) async fn empty_folder_impl(
        &self,
        r: Request<pb::EmptyFolderRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let (hard, sub) = (r.hard, r.subfolders);
        self.with_store(&r.dir, move |s| s.empty_folder(f, hard, sub))
            .await?;
        Ok(Response::new(pb::Empty {}))
    }

    pub(super) async fn set_folder_props_impl(
        &self,
        r: Request<pb::SetFolderPropsRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let set = convert::props_from_pb(&r.set)?;
        let remove = convert::tags(&r.remove);
        self.with_store(&r.dir, move |s| s.set_folder_props(f, set, remove))
            .await?;
        Ok(Response::new(pb::Empty {}))
    }

    pub(super) async fn hierarchy_changes_since_impl(
        &self,
        r: Request<pb::HierarchyChangesRequest>,
    ) -> Result<Response<pb::HierarchyChangesReply>, Status> {
        let r = r.into_inner();
        let since = st::ChangeNumber(r.since);
        let c = self
            .with_store(&r.dir, move |s| s.hierarchy_changes_since(since))
            .await?;
        Ok(Response::new(pb::HierarchyChangesReply {
            changed: c.changed.into_iter().map(convert::folder).collect(),
            removed: c
                .removed
                .into_iter()
                .map(|(id, cn)| pb::RemovedFolder {
                    id: id.0,
                    change_number: cn.0,
                })
                .collect(),
        }))
    }
}
