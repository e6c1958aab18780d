//! [`Store`] over groxide-exmdb through the routed exmdb client.
//!
//! exmdb addresses message bytes by message id; midb by folder and UID. The
//! (folder, UID) → message id map is learnt from every listing and kept in a
//! bounded table: a UID never names another message in its folder, so an
//! entry never goes stale. IMAP subscriptions are a folder property
//! ([`PR_GROXIDE_IMAP_UNSUBSCRIBED`]) so they live in the store.

use crate::store::*;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use groxide_rpc::RpcError;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_id};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The folder property marking a folder the IMAP user unsubscribed from
/// (PT_BOOLEAN, groxide's provider-defined range next to PR_GROXIDE_KEYWORDS).
pub const PR_GROXIDE_IMAP_UNSUBSCRIBED: u32 = 0x67F1_000B;
/// Messages per listing chunk handed to the view.
const LIST_CHUNK: usize = 4096;
/// Most (folder, UID) → message entries remembered; the table is emptied
/// when it grows past this.
const MESSAGE_ID_CACHE: usize = 200_000;
/// Largest content file read directly (bigger ones stream from exmdb).
const DIRECT_READ_MAX: u64 = 1024 * 1024;
/// Largest gRPC message accepted from exmdb.
const MAX_RPC_MESSAGE: usize = 96 * 1024 * 1024;
/// Bytes per chunk sent to InsertMessage (the server's limit).
const INSERT_CHUNK: usize = groxide_rpc::exmdb_client::INSERT_CHUNK;

/// groxide-exmdb as midb's store.
pub struct ExmdbStore {
    client: Arc<ExmdbClient>,
    refs: Arc<MessageRefs>,
    direct_reads: bool,
}

/// What midb knows of the message a (folder, UID) names.
#[derive(Debug, Clone, Copy)]
struct MessageRef {
    id: u64,
    /// SHA-256 of the content (None: no MIME form yet).
    hash: Option<[u8; 32]>,
    size: u64,
}

impl MessageRef {
    fn of(e: &pb::MessageEntry) -> MessageRef {
        MessageRef {
            id: e.message_id,
            hash: e.content_hash.as_slice().try_into().ok(),
            size: e.size,
        }
    }
}

/// (dir, folder) → UID → [`MessageRef`], learnt from listings. Kept per
/// folder so remembering a listing allocates per folder, not per message.
#[derive(Default)]
struct MessageRefs(Mutex<RefTable>);

#[derive(Default)]
struct RefTable {
    /// dir → folder → UID.
    stores: HashMap<String, HashMap<FolderId, HashMap<Uid, MessageRef>>>,
    len: usize,
}

impl MessageRefs {
    fn remember(&self, dir: &str, folder: FolderId, entries: &[pb::MessageEntry]) {
        if entries.is_empty() {
            return;
        }
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if t.len + entries.len() > MESSAGE_ID_CACHE {
            *t = RefTable::default();
        }
        let RefTable { stores, len } = &mut *t;
        let folders = match stores.get_mut(dir) {
            Some(f) => f,
            None => stores.entry(dir.to_owned()).or_default(),
        };
        let known = folders.entry(folder).or_default();
        for e in entries {
            if known.insert(e.uid, MessageRef::of(e)).is_none() {
                *len += 1;
            }
        }
    }

    fn known(&self, dir: &str, folder: FolderId, uid: Uid) -> Option<MessageRef> {
        let t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        t.stores
            .get(dir)
            .and_then(|f| f.get(&folder))
            .and_then(|k| k.get(&uid))
            .copied()
    }

    async fn lookup(
        &self,
        client: &ExmdbClient,
        dir: &str,
        folder: FolderId,
        uid: Uid,
    ) -> Result<MessageRef, StoreError> {
        if let Some(r) = self.known(dir, folder, uid) {
            return Ok(r);
        }
        let mut s = Box::pin(
            client
                .list_messages(pb::ListMessagesRequest {
                    dir: dir.to_owned(),
                    folder: Some(folder_id(folder)),
                    range: Some(pb::UidRange {
                        first: uid,
                        last: uid,
                    }),
                })
                .await
                .map_err(store_error)?,
        );
        while let Some(e) = s.try_next().await.map_err(store_error)? {
            if e.uid == uid {
                self.remember(dir, folder, std::slice::from_ref(&e));
                return Ok(MessageRef::of(&e));
            }
        }
        Err(StoreError::NoSuchMessage(format!(
            "uid {uid} in folder {folder}"
        )))
    }
}

/// The bytes `range` of a content file, when it is there and has the size
/// the store listed. Content files are immutable and named by their hash,
/// and appear under `cid/` only when complete, so whatever is read is the
/// message; anything unexpected means "ask exmdb".
fn read_content_file(dir: &str, r: &MessageRef, range: &std::ops::Range<u64>) -> Option<Bytes> {
    let hash = hex(&r.hash?);
    if r.size > DIRECT_READ_MAX {
        return None;
    }
    let path = std::path::Path::new(dir)
        .join("cid")
        .join(&hash[..2])
        .join(&hash);
    // Small files from the page cache: a read here costs less than a hand-off.
    let bytes = std::fs::read(&path).ok()?;
    if bytes.len() as u64 != r.size {
        return None;
    }
    let bytes = Bytes::from(bytes);
    let start = usize::try_from(range.start.min(r.size)).ok()?;
    let end = usize::try_from(range.end.min(r.size)).ok()?.max(start);
    Some(bytes.slice(start..end))
}

fn store_error(e: RpcError) -> StoreError {
    let msg = e.to_string();
    match e.reason() {
        Some(Reason::NoSuchStore) => StoreError::NoSuchStore(msg),
        Some(Reason::NoSuchFolder) => StoreError::NoSuchFolder(msg),
        Some(Reason::NoSuchMessage) => StoreError::NoSuchMessage(msg),
        Some(Reason::FolderExists) => StoreError::FolderExists(msg),
        Some(Reason::QuotaExceeded) => StoreError::QuotaExceeded(msg),
        Some(Reason::TooLarge) => StoreError::TooLarge(msg),
        Some(Reason::NotPermitted) => StoreError::NotPermitted(msg),
        _ if e.is_retryable() => StoreError::Unavailable(msg),
        _ => match e.status().map(tonic::Status::code) {
            Some(tonic::Code::InvalidArgument) => StoreError::NotPermitted(msg),
            Some(tonic::Code::NotFound) => StoreError::NoSuchMessage(msg),
            _ => StoreError::Other(msg),
        },
    }
}

fn role_of(role: &str) -> Option<FolderRole> {
    Some(match role {
        "ipm_subtree" => FolderRole::IpmSubtree,
        "inbox" => FolderRole::Inbox,
        "outbox" => FolderRole::Outbox,
        "sent" => FolderRole::SentItems,
        "trash" => FolderRole::DeletedItems,
        "drafts" => FolderRole::Drafts,
        "junk" => FolderRole::JunkEmail,
        "sync_issues" => FolderRole::SyncIssues,
        _ => return None,
    })
}

fn folder_info(f: pb::Folder) -> FolderInfo {
    FolderInfo {
        id: f.id,
        parent: f.parent_id,
        display_name: f.name,
        container_class: f.container_class,
        role: role_of(&f.role),
        hidden: f.hidden,
        uidvalidity: f.uidvalidity,
    }
}

fn entry(e: &pb::MessageEntry) -> MessageEntry {
    MessageEntry {
        uid: e.uid,
        flags: Flags(e.flags),
        keywords: e.keywords.clone(),
        modseq: e.change_number,
        size: e.size,
        internal_date: e.internal_date,
        content: ContentHash(hex(&e.content_hash)),
    }
}

fn hex(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(char::from(HEX[usize::from(x >> 4)]));
        s.push(char::from(HEX[usize::from(x & 15)]));
    }
    s
}

fn ranges(uids: &UidSet) -> Vec<pb::UidRange> {
    uids.ranges()
        .iter()
        .map(|r| pb::UidRange {
            first: *r.start(),
            last: *r.end(),
        })
        .collect()
}

fn uid_ranges(uids: &[Uid]) -> Vec<pb::UidRange> {
    ranges(&UidSet::from_uids(uids.iter().copied()))
}

/// A stream fed by a task (the exmdb client's streams borrow nothing, but
/// several calls make up one listing).
fn produce<T, F, Fut>(f: F) -> StoreStream<T>
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<Result<T, StoreError>>) -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let fut = f(tx.clone());
    tokio::spawn(async move {
        if let Err(e) = fut.await {
            let _ = tx.send(Err(e)).await;
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx).boxed()
}

/// What a read needs, owned (reads outlive the call that starts them).
struct Reader {
    client: Arc<ExmdbClient>,
    refs: Arc<MessageRefs>,
    direct: bool,
}

impl Reader {
    /// The message's size and the bytes of `range`: from its content file
    /// when allowed and present, else streamed by exmdb's ReadContent.
    async fn read(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        range: std::ops::Range<u64>,
    ) -> Result<(u64, StoreStream<Bytes>), StoreError> {
        let r = self.refs.lookup(&self.client, dir, folder, uid).await?;
        if self.direct
            && let Some(bytes) = read_content_file(dir, &r, &range)
        {
            return Ok((r.size, futures_util::stream::iter([Ok(bytes)]).boxed()));
        }
        if range.end != u64::MAX && range.end <= range.start {
            return Ok((r.size, futures_util::stream::empty().boxed()));
        }
        let length = if range.end == u64::MAX {
            0
        } else {
            range.end - range.start
        };
        let req = pb::ReadContentRequest {
            dir: dir.to_owned(),
            message_id: r.id,
            offset: range.start,
            length,
        };
        // The raw call: its first chunk announces the whole content's size.
        let mut s = self
            .client
            .routed()
            .call_idempotent(dir, |ch| {
                let req = req.clone();
                async move {
                    pb::exmdb_client::ExmdbClient::new(ch)
                        .max_decoding_message_size(MAX_RPC_MESSAGE)
                        .read_content(req)
                        .await
                        .map(tonic::Response::into_inner)
                }
            })
            .await
            .map_err(store_error)?;
        let status_error = |st: tonic::Status| match groxide_rpc::reason::reason_of(&st) {
            Some(Reason::NoSuchMessage) => StoreError::NoSuchMessage(st.message().to_owned()),
            _ => StoreError::Unavailable(st.message().to_owned()),
        };
        let Some(first) = s.message().await.map_err(status_error)? else {
            return Ok((r.size, futures_util::stream::empty().boxed()));
        };
        let total = first.total_size;
        let head = futures_util::stream::iter([Ok(Bytes::from(first.data))]);
        let rest = s.map(move |c| c.map(|c| Bytes::from(c.data)).map_err(status_error));
        Ok((total, head.chain(rest).boxed()))
    }
}

impl ExmdbStore {
    /// A store reached through `client`. `direct_reads`: read message
    /// bytes from the store's content files when they are on this node
    /// (`midb_read_content_files`), else always through exmdb.
    pub fn new(client: Arc<ExmdbClient>, direct_reads: bool) -> ExmdbStore {
        ExmdbStore {
            client,
            refs: Arc::new(MessageRefs::default()),
            direct_reads,
        }
    }

    /// The client (SIGHUP resets its routes).
    pub fn client(&self) -> &Arc<ExmdbClient> {
        &self.client
    }

    async fn highest_modseq(
        &self,
        dir: &str,
        folder: FolderId,
    ) -> Result<ChangeNumber, StoreError> {
        Ok(self
            .client
            .get_folder(pb::FolderRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
            })
            .await
            .map_err(store_error)?
            .highest_modseq)
    }
}

impl Store for ExmdbStore {
    async fn folders(&self, dir: &str) -> Result<Vec<FolderInfo>, StoreError> {
        let r = self
            .client
            .list_folders(pb::ListFoldersRequest {
                dir: dir.to_owned(),
                prop_tags: Vec::new(),
            })
            .await
            .map_err(store_error)?;
        Ok(r.folders.into_iter().map(folder_info).collect())
    }

    async fn create_folder(
        &self,
        dir: &str,
        parent: FolderId,
        name: &str,
    ) -> Result<FolderInfo, StoreError> {
        let f = self
            .client
            .create_folder(pb::CreateFolderRequest {
                dir: dir.to_owned(),
                parent: Some(folder_id(parent)),
                name: name.to_owned(),
                container_class: "IPF.Note".to_owned(),
            })
            .await
            .map_err(store_error)?;
        Ok(folder_info(f))
    }

    async fn move_folder(
        &self,
        dir: &str,
        folder: FolderId,
        new_parent: FolderId,
        new_name: &str,
    ) -> Result<(), StoreError> {
        self.client
            .move_folder(pb::MoveFolderRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                new_parent: Some(folder_id(new_parent)),
                new_name: new_name.to_owned(),
            })
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete_folder(&self, dir: &str, folder: FolderId) -> Result<(), StoreError> {
        self.client
            .delete_folder(pb::DeleteFolderRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                hard: false,
            })
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn unsubscribed(
        &self,
        dir: &str,
        folders: Vec<FolderId>,
    ) -> Result<HashSet<FolderId>, StoreError> {
        // One request for every folder's flag (LIST asks on every call).
        let wanted: HashSet<FolderId> = folders.into_iter().collect();
        let listed = self
            .client
            .list_folders(pb::ListFoldersRequest {
                dir: dir.to_owned(),
                prop_tags: vec![PR_GROXIDE_IMAP_UNSUBSCRIBED],
            })
            .await
            .map_err(store_error)?;
        Ok(listed
            .folders
            .into_iter()
            .filter(|f| wanted.contains(&f.id))
            .filter(|f| {
                f.props.iter().any(|p| {
                    p.tag == PR_GROXIDE_IMAP_UNSUBSCRIBED
                        && matches!(p.value, Some(pb::prop::Value::BoolValue(true)))
                })
            })
            .map(|f| f.id)
            .collect())
    }

    async fn set_subscribed(
        &self,
        dir: &str,
        folder: FolderId,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        let (set, remove) = if subscribed {
            (Vec::new(), vec![PR_GROXIDE_IMAP_UNSUBSCRIBED])
        } else {
            (
                vec![pb::Prop {
                    tag: PR_GROXIDE_IMAP_UNSUBSCRIBED,
                    value: Some(pb::prop::Value::BoolValue(true)),
                }],
                Vec::new(),
            )
        };
        self.client
            .set_folder_props(pb::SetFolderPropsRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                set,
                remove,
            })
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn folder_status(&self, dir: &str, folder: FolderId) -> Result<FolderStatus, StoreError> {
        let f = self
            .client
            .get_folder(pb::FolderRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
            })
            .await
            .map_err(store_error)?;
        Ok(FolderStatus {
            uidvalidity: f.uidvalidity,
            uidnext: f.uidnext,
            exists: u32::try_from(f.message_count).unwrap_or(u32::MAX),
            unseen: u32::try_from(f.unread_count).unwrap_or(u32::MAX),
            highest_modseq: f.highest_modseq,
            size: f.size_bytes,
            // Absent only from an exmdb that predates them: midb then scans.
            deleted: f.deleted_count,
            first_unseen_uid: f.first_unseen_uid,
            highest_uid: f.highest_uid,
        })
    }

    fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
    ) -> StoreStream<Vec<MessageEntry>> {
        let client = self.client.clone();
        let dir = dir.to_owned();
        let rs = ranges(uids);
        let ids = self.refs.clone();
        produce(move |tx| async move {
            let mut chunk: Vec<MessageEntry> = Vec::with_capacity(LIST_CHUNK);
            let mut raw_chunk: Vec<pb::MessageEntry> = Vec::with_capacity(LIST_CHUNK);
            for r in rs {
                let mut s = Box::pin(
                    client
                        .list_messages(pb::ListMessagesRequest {
                            dir: dir.clone(),
                            folder: Some(folder_id(folder)),
                            range: Some(r),
                        })
                        .await
                        .map_err(store_error)?,
                );
                while let Some(e) = s.try_next().await.map_err(store_error)? {
                    chunk.push(entry(&e));
                    raw_chunk.push(e);
                    if chunk.len() >= LIST_CHUNK {
                        ids.remember(&dir, folder, &raw_chunk);
                        raw_chunk.clear();
                        if tx.send(Ok(std::mem::take(&mut chunk))).await.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            ids.remember(&dir, folder, &raw_chunk);
            if !chunk.is_empty() {
                let _ = tx.send(Ok(chunk)).await;
            }
            Ok(())
        })
    }

    fn changes(
        &self,
        dir: &str,
        folder: FolderId,
        since: ChangeNumber,
    ) -> StoreStream<ChangeBatch> {
        let client = self.client.clone();
        let dir = dir.to_owned();
        produce(move |tx| async move {
            let mut s = Box::pin(
                client
                    .changes_since(pb::ChangesSinceRequest {
                        dir: dir.clone(),
                        folder: Some(folder_id(folder)),
                        since,
                    })
                    .await
                    .map_err(store_error)?,
            );
            let mut batch = ChangeBatch::default();
            let mut highest = 0;
            while let Some(chunk) = s.try_next().await.map_err(store_error)? {
                // The last chunk carries the MODSEQ the changes lead to.
                highest = chunk.highest_modseq;
                for c in chunk.changes {
                    match c.change {
                        Some(pb::message_change::Change::Changed(e)) => {
                            batch.changed.push(entry(&e));
                        }
                        Some(pb::message_change::Change::Removed(r)) => batch.vanished.push(r.uid),
                        None => {}
                    }
                    if batch.changed.len() + batch.vanished.len() >= LIST_CHUNK
                        && tx.send(Ok(std::mem::take(&mut batch))).await.is_err()
                    {
                        return Ok(());
                    }
                }
            }
            batch.highest_modseq = highest;
            let _ = tx.send(Ok(batch)).await;
            Ok(())
        })
    }

    fn read_message(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        range: std::ops::Range<u64>,
    ) -> StoreStream<Bytes> {
        let reader = Reader {
            client: self.client.clone(),
            refs: self.refs.clone(),
            direct: self.direct_reads,
        };
        let dir = dir.to_owned();
        let start = async move {
            reader
                .read(&dir, folder, uid, range)
                .await
                .map(|(_, body)| body)
        };
        futures_util::stream::once(start).try_flatten().boxed()
    }

    async fn read_message_sized(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        range: std::ops::Range<u64>,
    ) -> Result<(u64, StoreStream<Bytes>), StoreError> {
        Reader {
            client: self.client.clone(),
            refs: self.refs.clone(),
            direct: self.direct_reads,
        }
        .read(dir, folder, uid, range)
        .await
    }

    async fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        change: &FlagChange,
    ) -> Result<FlagUpdate, StoreError> {
        let op = match change.mode {
            FlagMode::Add => pb::FlagOp::Add,
            FlagMode::Remove => pb::FlagOp::Remove,
            FlagMode::Replace => pb::FlagOp::Replace,
        };
        let r = self
            .client
            .set_flags(pb::SetFlagsRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                uids: ranges(uids),
                op: op as i32,
                flags: change.flags.0,
                keywords: change.keywords.clone(),
                unchanged_since: change.unchanged_since,
            })
            .await
            .map_err(store_error)?;
        Ok(FlagUpdate {
            updated: r.updated.iter().map(entry).collect(),
            modified: r.modified,
        })
    }

    async fn append(
        &self,
        dir: &str,
        meta: AppendMeta,
        body: StoreStream<Bytes>,
    ) -> Result<Appended, StoreError> {
        let (ch, node) = self
            .client
            .routed()
            .channel(dir)
            .await
            .map_err(store_error)?;
        let header = pb::InsertMessageRequest {
            part: Some(pb::insert_message_request::Part::Header(pb::InsertHeader {
                dir: dir.to_owned(),
                folder: Some(folder_id(meta.folder)),
                flags: meta.flags.0,
                keywords: meta.keywords.clone(),
                internal_date: meta.internal_date,
                expected_size: meta.size,
            })),
        };
        // The trailer (with the byte count) tells exmdb the message is
        // complete; a body that fails ends the stream without it, and
        // exmdb stores nothing.
        let (fail_tx, fail_rx) = tokio::sync::oneshot::channel::<StoreError>();
        let (req_tx, req_rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut body = body;
            if req_tx.send(header).await.is_err() {
                return;
            }
            let mut sent: u64 = 0;
            while let Some(item) = body.next().await {
                match item {
                    Ok(mut b) => {
                        while !b.is_empty() {
                            let piece = b.split_to(b.len().min(INSERT_CHUNK));
                            sent += piece.len() as u64;
                            let part = pb::InsertMessageRequest {
                                part: Some(pb::insert_message_request::Part::Chunk(piece.to_vec())),
                            };
                            if req_tx.send(part).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        let _ = fail_tx.send(e);
                        return;
                    }
                }
            }
            let trailer = pb::InsertMessageRequest {
                part: Some(pb::insert_message_request::Part::Trailer(
                    pb::InsertTrailer { size: sent },
                )),
            };
            let _ = req_tx.send(trailer).await;
        });
        let request = tokio_stream::wrappers::ReceiverStream::new(req_rx);
        let mut raw = pb::exmdb_client::ExmdbClient::new(ch);
        let reply = raw.insert_message(request).await;
        // The body's own error says more than exmdb's "ended without a trailer".
        if let Ok(e) = fail_rx.await {
            return Err(e);
        }
        let reply = reply
            .map_err(|s| {
                if groxide_rpc::reason::reason_of(&s) == Some(Reason::StoreNotHere) {
                    self.client.routed().resolver().clear_cache();
                }
                store_error(RpcError::from_status("exmdb", &node, s))
            })?
            .into_inner();
        Ok(Appended {
            uidvalidity: reply.uidvalidity,
            uid: reply.uid,
        })
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        target: FolderId,
        remove_source: bool,
    ) -> Result<Copied, StoreError> {
        let req = pb::CopyMessagesRequest {
            dir: dir.to_owned(),
            folder: Some(folder_id(folder)),
            uids: ranges(uids),
            target: Some(folder_id(target)),
        };
        let r = if remove_source {
            self.client.move_messages(req).await
        } else {
            self.client.copy_messages(req).await
        }
        .map_err(store_error)?;
        let mut pairs: Vec<(Uid, Uid)> = r
            .uids
            .iter()
            .map(|m| (m.source_uid, m.target_uid))
            .collect();
        pairs.sort_unstable();
        Ok(Copied {
            target_uidvalidity: r.target_uidvalidity,
            pairs,
            modseq: self
                .highest_modseq(dir, if remove_source { folder } else { target })
                .await?,
        })
    }

    async fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        uids: Option<&UidSet>,
        unconditional: bool,
    ) -> Result<Expunged, StoreError> {
        if unconditional && uids.is_none() {
            return Err(StoreError::NotPermitted(
                "an unconditional expunge must name its UIDs".into(),
            ));
        }
        let all = UidSet::all();
        let scope = uids.unwrap_or(&all);
        let mut picked = Vec::new();
        let mut s = self.list_messages(dir, folder, scope);
        while let Some(chunk) = s.try_next().await? {
            picked.extend(
                chunk
                    .iter()
                    .filter(|e| unconditional || e.flags.contains(Flags::DELETED))
                    .map(|e| e.uid),
            );
        }
        if picked.is_empty() {
            return Ok(Expunged {
                uids: Vec::new(),
                modseq: self.highest_modseq(dir, folder).await?,
            });
        }
        let r = self
            .client
            .delete_messages(pb::DeleteMessagesRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                uids: uid_ranges(&picked),
                hard: false,
            })
            .await
            .map_err(store_error)?;
        let mut removed = r.removed_uids;
        removed.sort_unstable();
        Ok(Expunged {
            uids: removed,
            modseq: self.highest_modseq(dir, folder).await?,
        })
    }

    async fn quota(&self, dir: &str) -> Result<Quota, StoreError> {
        let i = self
            .client
            .get_store_info(pb::StoreRequest {
                dir: dir.to_owned(),
            })
            .await
            .map_err(store_error)?;
        Ok(Quota {
            used_bytes: i.size_bytes,
            limit_bytes: i.quota_bytes,
            messages: i.message_count,
            message_limit: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_files_are_read_only_when_they_match_the_listing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().to_string_lossy().into_owned();
        let hash = "ab".to_owned() + &"0".repeat(62);
        std::fs::create_dir_all(root.path().join("cid/ab")).unwrap();
        std::fs::write(
            root.path().join("cid/ab").join(&hash),
            b"Subject: x\r\n\r\nbody",
        )
        .unwrap();
        let r = |hash: &str, size| MessageRef {
            id: 1,
            hash: (0..hash.len() / 2)
                .map(|i| u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
                .as_slice()
                .try_into()
                .ok(),
            size,
        };
        let read = |m: &MessageRef, range| read_content_file(&dir, m, &range).map(|b| b.to_vec());
        assert_eq!(
            read(&r(&hash, 18), 0..u64::MAX),
            Some(b"Subject: x\r\n\r\nbody".to_vec())
        );
        assert_eq!(read(&r(&hash, 18), 2..5), Some(b"bje".to_vec()));
        assert_eq!(read(&r(&hash, 18), 30..40), Some(Vec::new()));
        assert_eq!(
            read(&r(&hash, 17), 0..u64::MAX),
            None,
            "size differs from the listing"
        );
        assert_eq!(
            read(&r(&("cd".to_owned() + &hash[2..]), 18), 0..u64::MAX),
            None,
            "missing file"
        );
        assert_eq!(
            read(&r("", 18), 0..u64::MAX),
            None,
            "no hash: MIME not generated yet"
        );
        assert_eq!(
            read(&r(&hash, DIRECT_READ_MAX + 1), 0..u64::MAX),
            None,
            "large files stream from exmdb"
        );
    }
}
