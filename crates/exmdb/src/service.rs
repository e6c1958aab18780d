//! The groxide.exmdb.v1 service over the store engine: validates each
//! request, refuses stores whose home is another node (STORE_NOT_HERE), and
//! runs the engine's blocking calls off the async runtime.
//!
//! This file holds the service, its helpers, the store-level calls and the
//! `Exmdb` trait impl, whose methods delegate to `service/folders.rs`,
//! `service/messages.rs`, `service/content.rs` (the byte streams) and
//! `crate::groupware` (items, named properties, free/busy).

use crate::errors::to_status;
use groxide_routing::Resolver;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::pb::exmdb::v1::exmdb_server::Exmdb;
use groxide_rpc::reason;
use groxide_store::{self as st, Store, StoreError, StoreManager};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

mod content;
mod folders;
mod messages;

/// Longest `dir` accepted, in bytes.
pub const MAX_DIR_LEN: usize = 4096;
/// Largest chunk of an InsertMessage stream.
pub const MAX_CHUNK: usize = 64 * 1024;
/// Size of the chunks ReadContent and ReadAttachment send.
pub const READ_CHUNK: usize = 64 * 1024;
/// Items buffered between a blocking producer and a response stream.
const STREAM_BUFFER: usize = 16;
/// Most property tags one ListFolders may ask for.
const MAX_PROP_TAGS: usize = 256;

type Stream2<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The exmdb service.
#[derive(Clone)]
pub struct ExmdbService {
    stores: Arc<StoreManager>,
    resolver: Arc<Resolver>,
    pub(crate) groupware: Arc<crate::groupware::GroupwareSettings>,
}

impl ExmdbService {
    /// A service over `stores`, serving the dirs `resolver` says are local.
    pub fn new(stores: Arc<StoreManager>, resolver: Arc<Resolver>) -> ExmdbService {
        ExmdbService {
            stores,
            resolver,
            groupware: Arc::default(),
        }
    }

    /// The groupware settings (changed on SIGHUP).
    pub fn groupware_settings(&self) -> Arc<crate::groupware::GroupwareSettings> {
        self.groupware.clone()
    }

    /// Checks `dir` and that this node is its home.
    async fn local_dir(&self, dir: &str) -> Result<PathBuf, Status> {
        let path = validate_dir(dir)?;
        let route = self
            .resolver
            .resolve(dir)
            .await
            .map_err(|e| Status::unavailable(format!("cannot route store {dir}: {e}")))?;
        if !route.local {
            let owner = groxide_rpc::NodeAddr::new(route.host, route.port).to_string();
            return Err(reason::store_not_here(dir, &owner));
        }
        Ok(path)
    }

    /// Runs `f` on the open store of `dir` on a blocking thread.
    pub(crate) async fn with_store<T, F>(&self, dir: &str, f: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let path = self.local_dir(dir).await?;
        self.on_blocking_thread(path, f).await
    }

    /// Runs `f` on the store at `path` (a routed, local dir) on a blocking thread.
    async fn on_blocking_thread<T, F>(&self, path: PathBuf, f: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let stores = self.stores.clone();
        blocking(move || {
            let store = stores.open(&path)?;
            f(&store)
        })
        .await
    }

    /// Runs a short read of a few rows (a folder, the folder list, store
    /// numbers) on the calling task when the store is open already: from
    /// WAL snapshots and the page cache that costs less than the two thread
    /// wake-ups of a blocking hand-off, which profiles showed as the largest
    /// single cost of these calls. Otherwise as [`Self::with_store`].
    pub(crate) async fn read_small<T, F>(&self, dir: &str, f: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let path = self.local_dir(dir).await?;
        match self.stores.already_open(&path) {
            Some(store) => f(&store).map_err(to_status),
            None => self.on_blocking_thread(path, f).await,
        }
    }

    /// Streams the items `produce` sends from a blocking thread.
    async fn stream_from_store<T, F>(&self, dir: &str, produce: F) -> Result<Stream2<T>, Status>
    where
        T: Send + 'static,
        F: FnOnce(&Store, &mpsc::Sender<Result<T, Status>>) -> Result<(), StoreError>
            + Send
            + 'static,
    {
        let path = self.local_dir(dir).await?;
        // Usually open already: then one hand-off (the producer), not two.
        let store = match self.stores.already_open(&path) {
            Some(s) => s,
            None => {
                let stores = self.stores.clone();
                blocking(move || stores.open(&path)).await?
            }
        };
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = produce(&store, &tx) {
                let _ = tx.blocking_send(Err(to_status(e)));
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

/// A `dir` is a non-empty absolute path of at most [`MAX_DIR_LEN`] bytes
/// without `.`/`..` components or NUL.
pub fn validate_dir(dir: &str) -> Result<PathBuf, Status> {
    let bad = |why: &str| Status::invalid_argument(format!("dir {dir:?}: {why}"));
    if dir.is_empty() {
        return Err(bad("must not be empty"));
    }
    if dir.len() > MAX_DIR_LEN {
        return Err(bad("is longer than 4096 bytes"));
    }
    if dir.contains('\0') {
        return Err(bad("contains NUL"));
    }
    let p = Path::new(dir);
    if !p.is_absolute() {
        return Err(bad("must be absolute"));
    }
    // Split by hand: Path::components() silently drops inner `.` components.
    if dir.split('/').any(|c| c == "." || c == "..") {
        return Err(bad("must not contain . or .. components"));
    }
    Ok(p.to_path_buf())
}

async fn blocking<T, F>(f: F) -> Result<T, Status>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("store task failed: {e}")))?
        .map_err(to_status)
}

fn store_kind(t: i32) -> Result<st::StoreKind, Status> {
    match pb::StoreType::try_from(t) {
        Ok(pb::StoreType::Private) => Ok(st::StoreKind::Private),
        Ok(pb::StoreType::Public) => Ok(st::StoreKind::Public),
        _ => Err(Status::invalid_argument(
            "store type must be PRIVATE or PUBLIC",
        )),
    }
}

#[tonic::async_trait]
impl Exmdb for ExmdbService {
    async fn ping_store(
        &self,
        r: Request<pb::PingStoreRequest>,
    ) -> Result<Response<pb::PingStoreReply>, Status> {
        let r = r.into_inner();
        let info = self.read_small(&r.dir, |s| s.info()).await?;
        Ok(Response::new(pb::PingStoreReply {
            change_number: info.cn.0,
        }))
    }

    async fn create_store(
        &self,
        r: Request<pb::CreateStoreRequest>,
    ) -> Result<Response<pb::CreateStoreReply>, Status> {
        let r = r.into_inner();
        let path = self.local_dir(&r.dir).await?;
        let new = st::NewStore {
            kind: store_kind(r.r#type)?,
            owner: r.owner,
            lang: r.lang,
            quota_bytes: r.quota_bytes,
        };
        let stores = self.stores.clone();
        let (_, guid, created) = blocking(move || stores.create(&path, &new)).await?;
        tracing::info!(dir = r.dir, created, "create store");
        Ok(Response::new(pb::CreateStoreReply {
            mailbox_guid: guid.to_vec(),
            created,
        }))
    }

    async fn delete_store(
        &self,
        r: Request<pb::DeleteStoreRequest>,
    ) -> Result<Response<pb::DeleteStoreReply>, Status> {
        let r = r.into_inner();
        let path = self.local_dir(&r.dir).await?;
        let stores = self.stores.clone();
        let existed = blocking(move || stores.delete(&path)).await?;
        tracing::info!(dir = r.dir, existed, "delete store");
        Ok(Response::new(pb::DeleteStoreReply {}))
    }

    async fn get_store_info(
        &self,
        r: Request<pb::StoreRequest>,
    ) -> Result<Response<pb::StoreInfo>, Status> {
        let r = r.into_inner();
        let i = self.read_small(&r.dir, |s| s.info()).await?;
        Ok(Response::new(pb::StoreInfo {
            change_number: i.cn.0,
            size_bytes: i.size,
            quota_bytes: i.quota_bytes,
            message_count: i.message_count,
            mailbox_guid: i.mailbox_guid.to_vec(),
            r#type: match i.kind {
                st::StoreKind::Private => pb::StoreType::Private,
                st::StoreKind::Public => pb::StoreType::Public,
            } as i32,
            owner: i.owner,
            created_at: i.created_at,
            schema_version: i.schema_version,
        }))
    }

    async fn set_quota(
        &self,
        r: Request<pb::SetQuotaRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let r = r.into_inner();
        let q = r.quota_bytes;
        self.with_store(&r.dir, move |s| s.set_quota(q)).await?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn list_folders(
        &self,
        r: Request<pb::ListFoldersRequest>,
    ) -> Result<Response<pb::ListFoldersReply>, Status> {
        self.list_folders_impl(r).await
    }

    async fn get_folder(
        &self,
        r: Request<pb::FolderRequest>,
    ) -> Result<Response<pb::Folder>, Status> {
        self.get_folder_impl(r).await
    }

    async fn get_folder_props(
        &self,
        r: Request<pb::FolderRequest>,
    ) -> Result<Response<pb::PropList>, Status> {
        self.get_folder_props_impl(r).await
    }

    async fn create_folder(
        &self,
        r: Request<pb::CreateFolderRequest>,
    ) -> Result<Response<pb::Folder>, Status> {
        self.create_folder_impl(r).await
    }

    async fn rename_folder(
        &self,
        r: Request<pb::RenameFolderRequest>,
    ) -> Result<Response<pb::Folder>, Status> {
        self.rename_folder_impl(r).await
    }

    async fn move_folder(
        &self,
        r: Request<pb::MoveFolderRequest>,
    ) -> Result<Response<pb::Folder>, Status> {
        self.move_folder_impl(r).await
    }

    async fn delete_folder(
        &self,
        r: Request<pb::DeleteFolderRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        self.delete_folder_impl(r).await
    }

    async fn empty_folder(
        &self,
        r: Request<pb::EmptyFolderRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        self.empty_folder_impl(r).await
    }

    async fn set_folder_props(
        &self,
        r: Request<pb::SetFolderPropsRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        self.set_folder_props_impl(r).await
    }

    async fn hierarchy_changes_since(
        &self,
        r: Request<pb::HierarchyChangesRequest>,
    ) -> Result<Response<pb::HierarchyChangesReply>, Status> {
        self.hierarchy_changes_since_impl(r).await
    }

    async fn insert_message(
        &self,
        r: Request<Streaming<pb::InsertMessageRequest>>,
    ) -> Result<Response<pb::InsertMessageReply>, Status> {
        self.insert_message_impl(r).await
    }

    async fn insert_mapi_message(
        &self,
        r: Request<pb::InsertMapiMessageRequest>,
    ) -> Result<Response<pb::InsertMessageReply>, Status> {
        self.insert_mapi_message_impl(r).await
    }

    async fn read_message(
        &self,
        r: Request<pb::MessageRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        self.read_message_impl(r).await
    }

    async fn read_messages(
        &self,
        r: Request<pb::ReadMessagesRequest>,
    ) -> Result<Response<pb::ReadMessagesReply>, Status> {
        self.read_messages_impl(r).await
    }

    type ReadContentStream = Stream2<pb::ContentChunk>;

    async fn read_content(
        &self,
        r: Request<pb::ReadContentRequest>,
    ) -> Result<Response<Self::ReadContentStream>, Status> {
        self.read_content_impl(r).await
    }

    type ReadAttachmentStream = Stream2<pb::ContentChunk>;

    async fn read_attachment(
        &self,
        r: Request<pb::ReadAttachmentRequest>,
    ) -> Result<Response<Self::ReadAttachmentStream>, Status> {
        self.read_attachment_impl(r).await
    }

    async fn set_message_props(
        &self,
        r: Request<pb::SetMessagePropsRequest>,
    ) -> Result<Response<pb::MessageEntry>, Status> {
        self.set_message_props_impl(r).await
    }

    async fn set_read_state(
        &self,
        r: Request<pb::SetReadStateRequest>,
    ) -> Result<Response<pb::MessageEntry>, Status> {
        self.set_read_state_impl(r).await
    }

    async fn set_flags(
        &self,
        r: Request<pb::SetFlagsRequest>,
    ) -> Result<Response<pb::SetFlagsReply>, Status> {
        self.set_flags_impl(r).await
    }

    async fn copy_messages(
        &self,
        r: Request<pb::CopyMessagesRequest>,
    ) -> Result<Response<pb::CopyMessagesReply>, Status> {
        self.copy_messages_impl(r).await
    }

    async fn move_messages(
        &self,
        r: Request<pb::CopyMessagesRequest>,
    ) -> Result<Response<pb::CopyMessagesReply>, Status> {
        self.move_messages_impl(r).await
    }

    async fn delete_messages(
        &self,
        r: Request<pb::DeleteMessagesRequest>,
    ) -> Result<Response<pb::DeleteMessagesReply>, Status> {
        self.delete_messages_impl(r).await
    }

    type ListMessagesStream = Stream2<pb::MessageEntries>;

    async fn list_messages(
        &self,
        r: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<Self::ListMessagesStream>, Status> {
        self.list_messages_impl(r).await
    }

    type ChangesSinceStream = Stream2<pb::MessageChanges>;

    async fn changes_since(
        &self,
        r: Request<pb::ChangesSinceRequest>,
    ) -> Result<Response<Self::ChangesSinceStream>, Status> {
        self.changes_since_impl(r).await
    }

    async fn purge_soft_deleted(
        &self,
        r: Request<pb::PurgeSoftDeletedRequest>,
    ) -> Result<Response<pb::PurgeSoftDeletedReply>, Status> {
        let r = r.into_inner();
        let age = std::time::Duration::from_secs(r.older_than_seconds);
        // The same housekeeping forgets old tombstones
        // (`sync_tombstone_max_age`, `mail_tombstone_max_age`).
        let tombstone_age = self.groupware.tombstone_max_age();
        let mail_age = self.groupware.mail_tombstone_max_age();
        let (messages, folders) = self
            .with_store(&r.dir, move |s| {
                let purged = s.purge_soft_deleted(age)?;
                let compacted =
                    s.compact_tombstones(tombstone_age)? + s.compact_mail_tombstones(mail_age)?;
                if compacted > 0 {
                    tracing::info!(dir = %s.dir().display(), compacted, "tombstones compacted");
                }
                Ok(purged)
            })
            .await?;
        Ok(Response::new(pb::PurgeSoftDeletedReply {
            messages,
            folders,
        }))
    }

    async fn purge_content(
        &self,
        r: Request<pb::StoreRequest>,
    ) -> Result<Response<pb::PurgeContentReply>, Status> {
        let r = r.into_inner();
        let removed_files = self.with_store(&r.dir, |s| s.purge_content()).await?;
        Ok(Response::new(pb::PurgeContentReply { removed_files }))
    }

    // Groupware: crate::groupware.

    async fn get_named_prop_ids(
        &self,
        r: Request<pb::GetNamedPropIdsRequest>,
    ) -> Result<Response<pb::NamedPropIds>, Status> {
        self.named_prop_ids(r.into_inner()).await.map(Response::new)
    }

    async fn get_named_prop_names(
        &self,
        r: Request<pb::GetNamedPropNamesRequest>,
    ) -> Result<Response<pb::NamedPropNames>, Status> {
        self.named_prop_names(r.into_inner())
            .await
            .map(Response::new)
    }

    async fn put_item(
        &self,
        r: Request<pb::PutItemRequest>,
    ) -> Result<Response<pb::PutItemReply>, Status> {
        self.put_item_impl(r.into_inner()).await.map(Response::new)
    }

    async fn get_item(
        &self,
        r: Request<pb::MessageRequest>,
    ) -> Result<Response<pb::GetItemReply>, Status> {
        self.get_item_impl(r.into_inner()).await.map(Response::new)
    }

    async fn list_items_in_range(
        &self,
        r: Request<pb::ListItemsInRangeRequest>,
    ) -> Result<Response<pb::ListItemsReply>, Status> {
        self.list_items_in_range_impl(r.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_items(
        &self,
        r: Request<pb::GetItemsRequest>,
    ) -> Result<Response<pb::GetItemsReply>, Status> {
        self.get_items_impl(r.into_inner()).await.map(Response::new)
    }

    async fn delete_item(
        &self,
        r: Request<pb::DeleteItemRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        self.delete_item_impl(r.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_items(
        &self,
        r: Request<pb::FolderRequest>,
    ) -> Result<Response<pb::ListItemsReply>, Status> {
        self.list_items_impl(r.into_inner())
            .await
            .map(Response::new)
    }

    async fn find_items(
        &self,
        r: Request<pb::FindItemsRequest>,
    ) -> Result<Response<pb::FindItemsReply>, Status> {
        self.find_items_impl(r.into_inner())
            .await
            .map(Response::new)
    }

    async fn item_changes_since(
        &self,
        r: Request<pb::ItemChangesRequest>,
    ) -> Result<Response<pb::ItemChangesReply>, Status> {
        self.item_changes_impl(r.into_inner())
            .await
            .map(Response::new)
    }

    async fn compact_tombstones(
        &self,
        r: Request<pb::StoreRequest>,
    ) -> Result<Response<pb::CompactTombstonesReply>, Status> {
        self.compact_tombstones_impl(r.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_free_busy(
        &self,
        r: Request<pb::GetFreeBusyRequest>,
    ) -> Result<Response<pb::GetFreeBusyReply>, Status> {
        self.free_busy_impl(r.into_inner()).await.map(Response::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(dir: &str, ok: bool) {
        assert_eq!(validate_dir(dir).is_ok(), ok, "{dir:?}");
    }

    #[test]
    fn dirs_must_be_absolute_clean_and_bounded() {
        check("/var/lib/groxide/user/a", true);
        check("", false);
        check("relative/dir", false);
        check("/var/lib/../etc", false);
        check("/var/./lib", false);
        check("/a\0b", false);
        check(&format!("/{}", "a".repeat(MAX_DIR_LEN)), false);
        check(&format!("/{}", "a".repeat(MAX_DIR_LEN - 1)), true);
    }
}
