//! The client other daemons use to reach a store: resolve the store's home
//! node, call its groxide-exmdb, stream message bytes both ways. Deadlines
//! come from [`ClientOptions::request_timeout`] per unary call; only reads
//! are retried when a node is unreachable; a stale route heals once on
//! STORE_NOT_HERE. Errors name the node.
//!
//! [`ClientOptions::request_timeout`]: crate::ClientOptions::request_timeout

use crate::client::{ClientOptions, NodeAddr, RpcError};
use crate::pb::exmdb::v1 as pb;
use crate::pb::exmdb::v1::exmdb_client::ExmdbClient as RawClient;
use crate::reason::{Reason, reason_of};
use crate::routed::RoutedClient;
use futures_util::{Stream, StreamExt};
use groxide_routing::Resolver;
use std::future::Future;
use std::sync::Arc;
use tokio::io::AsyncRead;
use tonic::transport::Channel;

/// Size of the chunks [`ExmdbClient::insert_message`] sends (the server's limit).
pub const INSERT_CHUNK: usize = 64 * 1024;
/// Largest gRPC message the client accepts (MAPI messages carry attachments inline).
const MAX_RPC_MESSAGE: usize = 96 * 1024 * 1024;

/// Why an insert failed.
#[derive(Debug)]
pub enum InsertError<E> {
    /// The message's bytes could not be read; nothing was stored.
    Body(E),
    /// exmdb refused the message or could not be reached.
    Rpc(RpcError),
}

/// The request stream of an insert after its header: body chunks of at most
/// [`INSERT_CHUNK`] bytes, then the trailer.
struct InsertParts<E> {
    body: std::pin::Pin<Box<dyn Stream<Item = Result<bytes::Bytes, E>> + Send>>,
    pending: bytes::Bytes,
    sent: u64,
    fail: Option<tokio::sync::oneshot::Sender<E>>,
    done: bool,
}

impl<E> InsertParts<E> {
    async fn next_part(&mut self) -> Option<pb::InsertMessageRequest> {
        if self.done {
            return None;
        }
        while self.pending.is_empty() {
            match self.body.next().await {
                Some(Ok(b)) => self.pending = b,
                Some(Err(e)) => {
                    // No trailer follows: the server stores nothing.
                    self.done = true;
                    if let Some(tx) = self.fail.take() {
                        let _ = tx.send(e);
                    }
                    return None;
                }
                None => {
                    self.done = true;
                    return Some(pb::InsertMessageRequest {
                        part: Some(pb::insert_message_request::Part::Trailer(
                            pb::InsertTrailer { size: self.sent },
                        )),
                    });
                }
            }
        }
        let piece = self.pending.split_to(self.pending.len().min(INSERT_CHUNK));
        self.sent += piece.len() as u64;
        Some(pb::InsertMessageRequest {
            part: Some(pb::insert_message_request::Part::Chunk(piece.to_vec())),
        })
    }
}

/// A routed client of groxide-exmdb.
pub struct ExmdbClient {
    routed: RoutedClient,
}

pub(crate) fn raw(ch: Channel) -> RawClient<Channel> {
    RawClient::new(ch)
        .max_decoding_message_size(MAX_RPC_MESSAGE)
        .max_encoding_message_size(MAX_RPC_MESSAGE)
}

/// A folder by role (`inbox`, `sent`, …).
pub fn folder_role(role: &str) -> pb::FolderSelector {
    pb::FolderSelector {
        folder: Some(pb::folder_selector::Folder::Role(role.to_string())),
    }
}

/// A folder by id.
pub fn folder_id(id: u64) -> pb::FolderSelector {
    pb::FolderSelector {
        folder: Some(pb::folder_selector::Folder::Id(id)),
    }
}

macro_rules! unary {
    ($(#[$doc:meta])* $name:ident, $req:ty, $resp:ty, $idempotent:expr) => {
        $(#[$doc])*
        pub async fn $name(&self, req: $req) -> Result<$resp, RpcError> {
            let dir = req.dir.clone();
            self.unary(&dir, $idempotent, req, |mut c, r| async move { c.$name(r).await }).await
        }
    };
}

impl ExmdbClient {
    /// A client routing with `resolver` (the exmdb resolver of
    /// `groxide_runtime::Routing`), connecting with `opts`.
    pub fn new(resolver: Arc<Resolver>, opts: ClientOptions) -> ExmdbClient {
        ExmdbClient {
            routed: RoutedClient::new("exmdb", resolver, opts),
        }
    }

    /// The routed client underneath (SIGHUP: `reset()`).
    pub fn routed(&self) -> &RoutedClient {
        &self.routed
    }

    pub(crate) async fn unary<Req, Resp, F, Fut>(
        &self,
        dir: &str,
        idempotent: bool,
        req: Req,
        call: F,
    ) -> Result<Resp, RpcError>
    where
        Req: Clone,
        F: Fn(RawClient<Channel>, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
    {
        let timeout = self.routed.request_timeout();
        let f = |ch: Channel| {
            let mut r = tonic::Request::new(req.clone());
            r.set_timeout(timeout);
            let fut = call(raw(ch), r);
            async move { fut.await.map(tonic::Response::into_inner) }
        };
        if idempotent {
            self.routed.call_idempotent(dir, f).await
        } else {
            self.routed.call(dir, f).await
        }
    }

    /// Inserts a message whose bytes arrive as a stream (never the whole
    /// message in memory): they are cut into chunks of [`INSERT_CHUNK`]
    /// and followed by the trailer with the byte count, which tells exmdb
    /// the message is complete. An error item of `body` ends the request
    /// without a trailer — exmdb then stores nothing — and is returned as
    /// [`InsertError::Body`]. Not retried: on STORE_NOT_HERE the route is
    /// healed and the error returned, and the caller sends again. With
    /// `timeout`, the whole call must finish within it (a local spool file);
    /// without, it runs as long as the body keeps coming (an APPEND from a
    /// slow client).
    pub async fn insert_message_stream<E, S>(
        &self,
        header: pb::InsertHeader,
        body: S,
        timeout: Option<std::time::Duration>,
    ) -> Result<pb::InsertMessageReply, InsertError<E>>
    where
        E: Send + 'static,
        S: Stream<Item = Result<bytes::Bytes, E>> + Send + 'static,
    {
        let dir = header.dir.clone();
        let (ch, node) = self.routed.channel(&dir).await.map_err(InsertError::Rpc)?;
        let first = pb::InsertMessageRequest {
            part: Some(pb::insert_message_request::Part::Header(header)),
        };
        let (fail_tx, fail_rx) = tokio::sync::oneshot::channel::<E>();
        let parts = InsertParts {
            body: Box::pin(body),
            pending: bytes::Bytes::new(),
            sent: 0,
            fail: Some(fail_tx),
            done: false,
        };
        let requests = futures_util::stream::iter([first])
            .chain(futures_util::stream::unfold(parts, |mut p| async move {
                p.next_part().await.map(|r| (r, p))
            }));
        let mut request = tonic::Request::new(requests);
        if let Some(t) = timeout {
            request.set_timeout(t);
        }
        let reply = raw(ch).insert_message(request).await;
        // The body's own error says more than exmdb's "ended without a trailer".
        if let Ok(e) = fail_rx.await {
            return Err(InsertError::Body(e));
        }
        match reply {
            Ok(r) => Ok(r.into_inner()),
            Err(status) => {
                if reason_of(&status) == Some(Reason::StoreNotHere) {
                    // A stream cannot be replayed: the caller retries, on the owner.
                    self.routed.heal(&dir, &status);
                }
                Err(InsertError::Rpc(RpcError::from_status(
                    "exmdb", &node, status,
                )))
            }
        }
    }

    /// Inserts a message, streaming its bytes from `reader` (see
    /// [`ExmdbClient::insert_message_stream`]).
    pub async fn insert_message<R>(
        &self,
        header: pb::InsertHeader,
        reader: R,
    ) -> Result<pb::InsertMessageReply, RpcError>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let body = tokio_util::io::ReaderStream::with_capacity(reader, INSERT_CHUNK);
        self.insert_message_stream(header, body, None)
            .await
            .map_err(|e| match e {
                InsertError::Rpc(e) => e,
                InsertError::Body(e) => RpcError::Input {
                    service: "exmdb",
                    message: format!("reading the message to insert failed: {e}"),
                },
            })
    }

    /// Inserts a message held in memory (small messages, tests).
    pub async fn insert_message_bytes(
        &self,
        header: pb::InsertHeader,
        raw: Vec<u8>,
    ) -> Result<pb::InsertMessageReply, RpcError> {
        self.insert_message(header, std::io::Cursor::new(raw)).await
    }

    /// The RFC 5322 bytes of a message from `offset` (`length` 0 = to the end), as chunks.
    pub async fn read_content(
        &self,
        dir: &str,
        message_id: u64,
        offset: u64,
        length: u64,
    ) -> Result<impl Stream<Item = Result<Vec<u8>, RpcError>> + Send + use<>, RpcError> {
        let req = pb::ReadContentRequest {
            dir: dir.to_string(),
            message_id,
            offset,
            length,
        };
        let stream = self
            .routed
            .call_idempotent(dir, |ch| {
                let req = req.clone();
                async move {
                    raw(ch)
                        .read_content(req)
                        .await
                        .map(tonic::Response::into_inner)
                }
            })
            .await?;
        let node = self.node_of(dir).await;
        Ok(stream.map(move |item| {
            item.map(|c| c.data)
                .map_err(|s| RpcError::from_status("exmdb", &node, s))
        }))
    }

    /// All bytes of a message (convenience for small messages).
    pub async fn read_content_all(&self, dir: &str, message_id: u64) -> Result<Vec<u8>, RpcError> {
        let mut s = Box::pin(self.read_content(dir, message_id, 0, 0).await?);
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    /// An attachment's bytes, as chunks.
    pub async fn read_attachment(
        &self,
        dir: &str,
        message_id: u64,
        position: u32,
    ) -> Result<impl Stream<Item = Result<Vec<u8>, RpcError>> + Send + use<>, RpcError> {
        let req = pb::ReadAttachmentRequest {
            dir: dir.to_string(),
            message_id,
            position,
        };
        let stream = self
            .routed
            .call_idempotent(dir, |ch| {
                let req = req.clone();
                async move {
                    raw(ch)
                        .read_attachment(req)
                        .await
                        .map(tonic::Response::into_inner)
                }
            })
            .await?;
        let node = self.node_of(dir).await;
        Ok(stream.map(move |item| {
            item.map(|c| c.data)
                .map_err(|s| RpcError::from_status("exmdb", &node, s))
        }))
    }

    /// The messages of a folder in a UID range, streamed.
    pub async fn list_messages(
        &self,
        req: pb::ListMessagesRequest,
    ) -> Result<impl Stream<Item = Result<pb::MessageEntry, RpcError>> + Send + use<>, RpcError>
    {
        let dir = req.dir.clone();
        let stream = self
            .routed
            .call_idempotent(&dir, |ch| {
                let req = req.clone();
                async move {
                    raw(ch)
                        .list_messages(req)
                        .await
                        .map(tonic::Response::into_inner)
                }
            })
            .await?;
        let node = self.node_of(&dir).await;
        Ok(flatten(stream, node, |c: pb::MessageEntries| c.entries))
    }

    /// What changed in a folder after a change number, streamed in chunks;
    /// the last one carries the folder's highest MODSEQ.
    pub async fn changes_since(
        &self,
        req: pb::ChangesSinceRequest,
    ) -> Result<impl Stream<Item = Result<pb::MessageChanges, RpcError>> + Send + use<>, RpcError>
    {
        let dir = req.dir.clone();
        let stream = self
            .routed
            .call_idempotent(&dir, |ch| {
                let req = req.clone();
                async move {
                    raw(ch)
                        .changes_since(req)
                        .await
                        .map(tonic::Response::into_inner)
                }
            })
            .await?;
        let node = self.node_of(&dir).await;
        Ok(stream.map(move |i| i.map_err(|s| RpcError::from_status("exmdb", &node, s))))
    }

    async fn node_of(&self, dir: &str) -> NodeAddr {
        match self.routed.route(dir).await {
            Ok(r) => NodeAddr::new(r.host, r.port),
            Err(_) => NodeAddr::new("(unknown)", 0),
        }
    }

    unary!(
        /// Is the store served (opens it)? Its change number.
        ping_store, pb::PingStoreRequest, pb::PingStoreReply, true);
    unary!(
        /// Creates a store (idempotent on the server side).
        create_store, pb::CreateStoreRequest, pb::CreateStoreReply, false);
    unary!(
        /// Deletes a store and its directory.
        delete_store, pb::DeleteStoreRequest, pb::DeleteStoreReply, false);
    unary!(
        /// Store-wide numbers.
        get_store_info, pb::StoreRequest, pb::StoreInfo, true);
    unary!(
        /// Changes the quota.
        set_quota, pb::SetQuotaRequest, pb::Empty, false);
    unary!(
        /// Every folder with its counters and the properties asked for.
        list_folders, pb::ListFoldersRequest, pb::ListFoldersReply, true);
    unary!(
        /// One folder (IMAP STATUS).
        get_folder, pb::FolderRequest, pb::Folder, true);
    unary!(
        /// A folder's properties.
        get_folder_props, pb::FolderRequest, pb::PropList, true);
    unary!(
        /// Creates a folder.
        create_folder, pb::CreateFolderRequest, pb::Folder, false);
    unary!(
        /// Renames a folder.
        rename_folder, pb::RenameFolderRequest, pb::Folder, false);
    unary!(
        /// Moves a folder.
        move_folder, pb::MoveFolderRequest, pb::Folder, false);
    unary!(
        /// Deletes a folder.
        delete_folder, pb::DeleteFolderRequest, pb::Empty, false);
    unary!(
        /// Deletes the messages of a folder.
        empty_folder, pb::EmptyFolderRequest, pb::Empty, false);
    unary!(
        /// Sets/removes folder properties.
        set_folder_props, pb::SetFolderPropsRequest, pb::Empty, false);
    unary!(
        /// Folders changed or deleted since a change number.
        hierarchy_changes_since, pb::HierarchyChangesRequest, pb::HierarchyChangesReply, true);
    unary!(
        /// Inserts a message given as properties.
        insert_mapi_message, pb::InsertMapiMessageRequest, pb::InsertMessageReply, false);
    unary!(
        /// Properties, recipients, attachments of a message.
        read_message, pb::MessageRequest, pb::Message, true);
    unary!(
        /// Several messages in one read (missing ones left out).
        read_messages, pb::ReadMessagesRequest, pb::ReadMessagesReply, true);
    unary!(
        /// Sets/removes message properties.
        set_message_props, pb::SetMessagePropsRequest, pb::MessageEntry, false);
    unary!(
        /// Marks a message read or unread.
        set_read_state, pb::SetReadStateRequest, pb::MessageEntry, false);
    unary!(
        /// IMAP STORE by UID.
        set_flags, pb::SetFlagsRequest, pb::SetFlagsReply, false);
    unary!(
        /// IMAP COPY by UID.
        copy_messages, pb::CopyMessagesRequest, pb::CopyMessagesReply, false);
    unary!(
        /// IMAP MOVE by UID.
        move_messages, pb::CopyMessagesRequest, pb::CopyMessagesReply, false);
    unary!(
        /// Deletes (expunges) messages by UID.
        delete_messages, pb::DeleteMessagesRequest, pb::DeleteMessagesReply, false);
    unary!(
        /// Purges soft-deleted messages and folders.
        purge_soft_deleted, pb::PurgeSoftDeletedRequest, pb::PurgeSoftDeletedReply, false);
    unary!(
        /// Removes unreferenced content files.
        purge_content, pb::StoreRequest, pb::PurgeContentReply, false);
}

/// The items of a chunked listing stream, one by one; the first error ends it.
fn flatten<C, T>(
    stream: tonic::Streaming<C>,
    node: NodeAddr,
    items: fn(C) -> Vec<T>,
) -> impl Stream<Item = Result<T, RpcError>> + Send + use<C, T>
where
    C: Send + 'static,
    T: Send + 'static,
{
    stream
        .map(move |chunk| match chunk {
            Ok(c) => futures_util::stream::iter(items(c).into_iter().map(Ok)).left_stream(),
            Err(s) => futures_util::stream::once(std::future::ready(Err(RpcError::from_status(
                "exmdb", &node, s,
            ))))
            .right_stream(),
        })
        .flatten()
}
