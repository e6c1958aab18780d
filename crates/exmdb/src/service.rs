//! The groxide.exmdb.v1 service over the store engine: validates each
//! request, refuses stores whose home is another node (STORE_NOT_HERE), and
//! runs the engine's blocking calls off the async runtime.

use crate::convert;
use crate::errors::to_status;
use crate::streaming::{Batcher, copy_chunks, send};
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

/// Longest `dir` accepted, in bytes.
pub const MAX_DIR_LEN: usize = 4096;
/// Largest chunk of an InsertMessage stream.
pub const MAX_CHUNK: usize = 64 * 1024;
/// Size of the chunks ReadContent and ReadAttachment send.
pub const READ_CHUNK: usize = 64 * 1024;
/// What the insert stream hands the blocking writer.
enum Feed {
    Chunk(Vec<u8>),
    End,
}

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

    async fn get_folder(
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

    async fn get_folder_props(
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

    async fn create_folder(
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

    async fn rename_folder(
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

    async fn move_folder(
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

    async fn delete_folder(
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

    async fn empty_folder(
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

    async fn set_folder_props(
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

    async fn hierarchy_changes_since(
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

    async fn insert_message(
        &self,
        r: Request<Streaming<pb::InsertMessageRequest>>,
    ) -> Result<Response<pb::InsertMessageReply>, Status> {
        use pb::insert_message_request::Part;
        let mut stream = r.into_inner();
        let header = match stream.message().await? {
            Some(pb::InsertMessageRequest {
                part: Some(Part::Header(h)),
            }) => h,
            _ => {
                return Err(Status::invalid_argument(
                    "InsertMessage must start with a header",
                ));
            }
        };
        let path = self.local_dir(&header.dir).await?;
        let folder = convert::folder_ref(header.folder.as_ref())?;
        let new = st::NewMessage {
            flags: convert::flags(header.flags)?,
            keywords: st::flags::normalize_keywords(&header.keywords).map_err(to_status)?,
            internal_date: convert::internal_date(header.internal_date),
        };
        let max = self.stores.limits().max_message_size;
        if header.expected_size > max {
            return Err(to_status(StoreError::TooLarge {
                size: header.expected_size,
                max,
            }));
        }
        let expected = header.expected_size;
        let stores = self.stores.clone();
        // Chunks go to a blocking writer through a short queue: never the whole message in memory.
        let (tx, mut rx) = mpsc::channel::<Feed>(4);
        let writer =
            tokio::task::spawn_blocking(move || -> Result<st::InsertedMessage, StoreError> {
                let store = stores.open(&path)?;
                let mut w = store.stage_content()?;
                loop {
                    match rx.blocking_recv() {
                        Some(Feed::Chunk(chunk)) => w.write_chunk(&chunk)?,
                        Some(Feed::End) => break,
                        // The stream broke off: drop the staging file, store nothing.
                        None => {
                            return Err(StoreError::InvalidArgument(
                                "the message stream ended early".into(),
                            ));
                        }
                    }
                }
                let staged = w.finish()?;
                store.insert_mime(folder, staged, new)
            });
        let mut feed_error = None;
        let mut received: u64 = 0;
        loop {
            match stream.message().await {
                Ok(Some(pb::InsertMessageRequest {
                    part: Some(Part::Chunk(c)),
                })) => {
                    if c.len() > MAX_CHUNK {
                        feed_error = Some(Status::invalid_argument(format!(
                            "chunks are at most {MAX_CHUNK} bytes"
                        )));
                        break;
                    }
                    received += c.len() as u64;
                    if tx.send(Feed::Chunk(c)).await.is_err() {
                        // The writer stopped (too large, store error): its result says why.
                        break;
                    }
                }
                Ok(Some(pb::InsertMessageRequest {
                    part: Some(Part::Trailer(t)),
                })) => {
                    if t.size != received {
                        feed_error = Some(Status::invalid_argument(format!(
                            "the trailer announces {} bytes but {received} arrived",
                            t.size
                        )));
                    } else if expected != 0 && expected != received {
                        feed_error = Some(Status::invalid_argument(format!(
                            "the message was announced with {expected} bytes but has {received}"
                        )));
                    } else {
                        let _ = tx.send(Feed::End).await;
                    }
                    break;
                }
                Ok(None) => {
                    feed_error = Some(Status::invalid_argument(
                        "the message stream ended without a trailer",
                    ));
                    break;
                }
                Ok(Some(_)) => {
                    feed_error = Some(Status::invalid_argument(
                        "only the first message may be a header",
                    ));
                    break;
                }
                Err(e) => {
                    feed_error = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = feed_error {
            // Closing the queue without End makes the writer drop its staging file.
            drop(tx);
            let _ = writer.await;
            return Err(e);
        }
        drop(tx);
        let ins = writer
            .await
            .map_err(|e| Status::internal(format!("insert task failed: {e}")))?
            .map_err(to_status)?;
        tracing::debug!(
            dir = header.dir,
            folder = ins.folder.0,
            uid = ins.uid.0,
            "message inserted"
        );
        Ok(Response::new(convert::inserted(ins)))
    }

    async fn insert_mapi_message(
        &self,
        r: Request<pb::InsertMapiMessageRequest>,
    ) -> Result<Response<pb::InsertMessageReply>, Status> {
        let r = r.into_inner();
        let folder = convert::folder_ref(r.folder.as_ref())?;
        let m = st::MapiMessage {
            props: convert::props_from_pb(&r.props)?,
            recipients: r
                .recipients
                .iter()
                .map(|p| convert::props_from_pb(&p.props))
                .collect::<Result<_, _>>()?,
            attachments: r
                .attachments
                .into_iter()
                .map(|a| {
                    Ok(st::MapiAttachment {
                        props: convert::props_from_pb(&a.props)?,
                        content: a.content,
                    })
                })
                .collect::<Result<_, Status>>()?,
        };
        let new = st::NewMessage {
            flags: convert::flags(r.flags)?,
            keywords: r.keywords,
            internal_date: convert::internal_date(r.internal_date),
        };
        let ins = self
            .with_store(&r.dir, move |s| s.insert_mapi(folder, m, new))
            .await?;
        Ok(Response::new(convert::inserted(ins)))
    }

    async fn read_message(
        &self,
        r: Request<pb::MessageRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        let r = r.into_inner();
        let id = st::MessageId(r.message_id);
        let m = self.with_store(&r.dir, move |s| s.message(id)).await?;
        Ok(Response::new(convert::message(m)))
    }

    type ReadContentStream = Stream2<pb::ContentChunk>;

    async fn read_content(
        &self,
        r: Request<pb::ReadContentRequest>,
    ) -> Result<Response<Self::ReadContentStream>, Status> {
        let r = r.into_inner();
        let id = st::MessageId(r.message_id);
        let (offset, length) = (r.offset, (r.length != 0).then_some(r.length));
        // Open first, so a missing message is the call's error, not a stream item.
        let path = self.local_dir(&r.dir).await?;
        let stores = self.stores.clone();
        let content = blocking(move || stores.open(&path)?.content(id)).await?;
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::task::spawn_blocking(move || {
            let total = content.len();
            let res = content
                .reader(offset, length)
                .and_then(|rd| copy_chunks(rd, total, &tx));
            if let Err(e) = res {
                let _ = tx.blocking_send(Err(to_status(e)));
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    type ReadAttachmentStream = Stream2<pb::ContentChunk>;

    async fn read_attachment(
        &self,
        r: Request<pb::ReadAttachmentRequest>,
    ) -> Result<Response<Self::ReadAttachmentStream>, Status> {
        let r = r.into_inner();
        let (id, pos) = (st::MessageId(r.message_id), r.position);
        let s = self
            .stream_from_store(&r.dir, move |s, tx| {
                let rd = s.attachment_content(id, pos)?;
                copy_chunks(rd, 0, tx)
            })
            .await?;
        Ok(Response::new(s))
    }

    async fn set_message_props(
        &self,
        r: Request<pb::SetMessagePropsRequest>,
    ) -> Result<Response<pb::MessageEntry>, Status> {
        let r = r.into_inner();
        let id = st::MessageId(r.message_id);
        let set = convert::props_from_pb(&r.set)?;
        let remove = convert::tags(&r.remove);
        let e = self
            .with_store(&r.dir, move |s| s.set_message_props(id, set, remove))
            .await?;
        Ok(Response::new(convert::entry(e)))
    }

    async fn set_read_state(
        &self,
        r: Request<pb::SetReadStateRequest>,
    ) -> Result<Response<pb::MessageEntry>, Status> {
        let r = r.into_inner();
        let (id, read) = (st::MessageId(r.message_id), r.read);
        let e = self
            .with_store(&r.dir, move |s| s.set_read(id, read))
            .await?;
        Ok(Response::new(convert::entry(e)))
    }

    async fn set_flags(
        &self,
        r: Request<pb::SetFlagsRequest>,
    ) -> Result<Response<pb::SetFlagsReply>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let op = groxide_rpc::midb_view::parse_flag_mode(r.mode)?;
        let flags = convert::flags(r.flags)?;
        let uids = convert::uid_ranges(&r.uids);
        let since = (r.unchanged_since != 0).then_some(st::ChangeNumber(r.unchanged_since));
        let kw = r.keywords;
        let out = self
            .with_store(&r.dir, move |s| s.set_flags(f, uids, op, flags, kw, since))
            .await?;
        Ok(Response::new(pb::SetFlagsReply {
            updated: out.updated.into_iter().map(convert::entry).collect(),
            modified: out.modified.into_iter().map(|u| u.0).collect(),
        }))
    }

    async fn copy_messages(
        &self,
        r: Request<pb::CopyMessagesRequest>,
    ) -> Result<Response<pb::CopyMessagesReply>, Status> {
        let r = r.into_inner();
        let (f, t) = (
            convert::folder_ref(r.folder.as_ref())?,
            convert::folder_ref(r.target.as_ref())?,
        );
        let uids = convert::uid_ranges(&r.uids);
        let out = self
            .with_store(&r.dir, move |s| s.copy_messages(f, uids, t))
            .await?;
        Ok(Response::new(convert::copied(out)))
    }

    async fn move_messages(
        &self,
        r: Request<pb::CopyMessagesRequest>,
    ) -> Result<Response<pb::CopyMessagesReply>, Status> {
        let r = r.into_inner();
        let (f, t) = (
            convert::folder_ref(r.folder.as_ref())?,
            convert::folder_ref(r.target.as_ref())?,
        );
        let uids = convert::uid_ranges(&r.uids);
        let out = self
            .with_store(&r.dir, move |s| s.move_messages(f, uids, t))
            .await?;
        Ok(Response::new(convert::copied(out)))
    }

    async fn delete_messages(
        &self,
        r: Request<pb::DeleteMessagesRequest>,
    ) -> Result<Response<pb::DeleteMessagesReply>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let uids = convert::uid_ranges(&r.uids);
        let hard = r.hard;
        let removed = self
            .with_store(&r.dir, move |s| s.delete_messages(f, uids, hard))
            .await?;
        Ok(Response::new(pb::DeleteMessagesReply {
            removed_uids: removed.into_iter().map(|u| u.0).collect(),
        }))
    }

    type ListMessagesStream = Stream2<pb::MessageEntries>;

    async fn list_messages(
        &self,
        r: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<Self::ListMessagesStream>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let range = r
            .range
            .map_or(st::UidRange::ALL, |u| st::UidRange::new(u.first, u.last));
        let s = self
            .stream_from_store(&r.dir, move |s, tx| {
                let mut out = Batcher::new(tx, |entries| pb::MessageEntries { entries });
                s.list_messages(f, range, |e| out.push(convert::entry(e)))?;
                out.flush();
                Ok(())
            })
            .await?;
        Ok(Response::new(s))
    }

    type ChangesSinceStream = Stream2<pb::MessageChanges>;

    async fn changes_since(
        &self,
        r: Request<pb::ChangesSinceRequest>,
    ) -> Result<Response<Self::ChangesSinceStream>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let since = st::ChangeNumber(r.since);
        let s = self
            .stream_from_store(&r.dir, move |s, tx| {
                let mut out = Batcher::new(tx, |changes| pb::MessageChanges {
                    changes,
                    highest_modseq: 0,
                });
                let highest = s.changes_since(f, since, |c| out.push(convert::change(c)))?;
                let changes = out.into_rest();
                send(
                    tx,
                    pb::MessageChanges {
                        changes,
                        highest_modseq: highest.0,
                    },
                );
                Ok(())
            })
            .await?;
        Ok(Response::new(s))
    }

    async fn purge_soft_deleted(
        &self,
        r: Request<pb::PurgeSoftDeletedRequest>,
    ) -> Result<Response<pb::PurgeSoftDeletedReply>, Status> {
        let r = r.into_inner();
        let age = std::time::Duration::from_secs(r.older_than_seconds);
        // The same housekeeping forgets old groupware tombstones
        // (`sync_tombstone_max_age`): the maintenance job does both.
        let tombstone_age = self.groupware.tombstone_max_age();
        let (messages, folders) = self
            .with_store(&r.dir, move |s| {
                let purged = s.purge_soft_deleted(age)?;
                let compacted = s.compact_tombstones(tombstone_age)?;
                if compacted > 0 {
                    tracing::info!(dir = %s.dir().display(), compacted, "groupware tombstones compacted");
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
