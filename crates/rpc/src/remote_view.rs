//! [`RemoteView`]: the mailbox view of a store homed on another node, through
//! that node's groxide-midb (the wire conversions are in `midb_view`, which
//! re-exports this).

use crate::midb_view::{
    MAX_RPC_MESSAGE, entries_of_chunk, entry_of_metadata, expunge_scope, flag_mode,
    parse_change_chunk, parse_metadata, parse_thread_reply, rpc_view_error, search_key,
    section_kind, sort_criterion, status_view_error, uid_ranges,
};
use crate::pb::midb::v1 as pb;
use crate::pb::midb::v1::midb_client::MidbClient;
use crate::reason::{Reason, reason_of};
use crate::routed::RoutedClient;
use bytes::Bytes;
use futures_util::StreamExt;
use groxide_mailview as mv;
use groxide_mailview::{ViewError, ViewStream};
use std::sync::Arc;
use tonic::Status;
use tonic::transport::Channel;

/// APPEND chunks queued toward the remote midb.
const APPEND_QUEUE: usize = 4;

fn client(ch: Channel) -> MidbClient<Channel> {
    MidbClient::new(ch)
        .max_decoding_message_size(MAX_RPC_MESSAGE)
        .max_encoding_message_size(MAX_RPC_MESSAGE)
}

/// The view of stores homed on other nodes: each request goes to the
/// groxide-midb of the store's home (a stale route heals on STORE_NOT_HERE).
pub struct RemoteView {
    midb: Arc<RoutedClient>,
}

impl RemoteView {
    /// A view over the routed midb client.
    pub fn new(midb: Arc<RoutedClient>) -> RemoteView {
        RemoteView { midb }
    }

    /// The routed client (SIGHUP resets it).
    pub fn routed(&self) -> &Arc<RoutedClient> {
        &self.midb
    }

    /// A unary call with the default deadline; reads may be retried once
    /// when the node was unreachable.
    async fn unary<Q, T, F, Fut>(
        &self,
        dir: &str,
        idempotent: bool,
        request: Q,
        call: F,
    ) -> Result<T, ViewError>
    where
        Q: Clone + Send,
        F: Fn(MidbClient<Channel>, tonic::Request<Q>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let timeout = self.midb.request_timeout();
        let f = |ch: Channel| {
            let mut req = tonic::Request::new(request.clone());
            req.set_timeout(timeout);
            let fut = call(client(ch), req);
            async move { fut.await.map(tonic::Response::into_inner) }
        };
        let r = if idempotent {
            self.midb.call_idempotent(dir, f).await
        } else {
            self.midb.call(dir, f).await
        };
        r.map_err(|e| rpc_view_error(&e))
    }

    /// A server-streaming call: no overall deadline (a listing of a large
    /// folder may take long); items converted with `convert`.
    async fn streaming<Q, P, T, F, Fut>(
        &self,
        dir: &str,
        request: Q,
        call: F,
        convert: fn(P) -> T,
    ) -> Result<ViewStream<T>, ViewError>
    where
        Q: Clone + Send,
        P: Send + 'static,
        T: Send + 'static,
        F: Fn(MidbClient<Channel>, tonic::Request<Q>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<tonic::Streaming<P>>, Status>>,
    {
        let stream = self
            .midb
            .call_idempotent(dir, |ch| {
                call(client(ch), tonic::Request::new(request.clone()))
            })
            .await
            .map_err(|e| rpc_view_error(&e))?
            .into_inner();
        Ok(stream
            .map(move |item| item.map(convert).map_err(|s| status_view_error(&s)))
            .boxed())
    }
}

use std::future::Future;

/// An APPEND to a store on another node: the chunks stream to its midb.
pub struct RemoteUpload {
    chunks: Option<tokio::sync::mpsc::Sender<pb::AppendChunk>>,
    reply: tokio::task::JoinHandle<Result<mv::Appended, ViewError>>,
    sent: u64,
}

impl Drop for RemoteUpload {
    fn drop(&mut self) {
        if self.chunks.is_some() {
            // Abandoned: cancelling the call makes midb store nothing.
            self.reply.abort();
        }
    }
}

impl mv::AppendUpload for RemoteUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), ViewError> {
        let Some(tx) = &self.chunks else {
            return Err(ViewError::Internal("APPEND already finished".into()));
        };
        self.sent += chunk.len() as u64;
        let part = pb::AppendChunk {
            part: Some(pb::append_chunk::Part::Data(chunk.to_vec())),
        };
        if tx.send(part).await.is_err() {
            self.chunks = None;
            return Err(ViewError::Unavailable(
                "the mail store stopped taking the message".into(),
            ));
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<mv::Appended, ViewError> {
        // The trailer lets midb store the message; a stream that ends
        // without it stores nothing.
        if let Some(tx) = self.chunks.take() {
            let trailer = pb::AppendChunk {
                part: Some(pb::append_chunk::Part::Trailer(pb::AppendTrailer {
                    size: self.sent,
                })),
            };
            let _ = tx.send(trailer).await;
        }
        match (&mut self.reply).await {
            Ok(r) => r,
            Err(e) => Err(ViewError::Internal(e.to_string())),
        }
    }
}

impl mv::MailboxView for RemoteView {
    type Upload = RemoteUpload;

    async fn list_mailboxes(&self, dir: &str) -> Result<Vec<mv::MailboxEntry>, ViewError> {
        let r = self
            .unary(
                dir,
                true,
                pb::ListMailboxesRequest { dir: dir.into() },
                |mut c, r| async move { c.list_mailboxes(r).await },
            )
            .await?;
        Ok(r.mailboxes
            .into_iter()
            .map(|m| mv::MailboxEntry {
                name: m.name,
                folder: m.folder_id,
                special_use: mv::SpecialUse::parse(&m.special_use),
                subscribed: m.subscribed,
                has_children: m.has_children,
                noselect: m.noselect,
                nonexistent: m.nonexistent,
            })
            .collect())
    }

    async fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<mv::SpecialUse>,
    ) -> Result<(mv::FolderId, u32), ViewError> {
        let req = pb::CreateMailboxRequest {
            dir: dir.into(),
            name: name.into(),
            special_use: special_use
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
        };
        let r = self
            .unary(dir, false, req, |mut c, r| async move {
                c.create_mailbox(r).await
            })
            .await?;
        Ok((r.folder_id, r.uidvalidity))
    }

    async fn delete_mailbox(&self, dir: &str, name: &str) -> Result<(), ViewError> {
        let req = pb::DeleteMailboxRequest {
            dir: dir.into(),
            name: name.into(),
        };
        self.unary(dir, false, req, |mut c, r| async move {
            c.delete_mailbox(r).await
        })
        .await?;
        Ok(())
    }

    async fn rename_mailbox(&self, dir: &str, from: &str, to: &str) -> Result<(), ViewError> {
        let req = pb::RenameMailboxRequest {
            dir: dir.into(),
            from: from.into(),
            to: to.into(),
        };
        self.unary(dir, false, req, |mut c, r| async move {
            c.rename_mailbox(r).await
        })
        .await?;
        Ok(())
    }

    async fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> Result<(), ViewError> {
        let req = pb::SetSubscriptionRequest {
            dir: dir.into(),
            name: name.into(),
            subscribed,
        };
        self.unary(dir, true, req, |mut c, r| async move {
            c.set_subscription(r).await
        })
        .await?;
        Ok(())
    }

    async fn mailbox_status(&self, dir: &str, name: &str) -> Result<mv::MailboxStatus, ViewError> {
        let req = pb::MailboxStatusRequest {
            dir: dir.into(),
            name: name.into(),
        };
        let s = self
            .unary(dir, true, req, |mut c, r| async move {
                c.mailbox_status(r).await
            })
            .await?;
        Ok(mv::MailboxStatus {
            folder: s.folder_id,
            uidvalidity: s.uidvalidity,
            uidnext: s.uidnext,
            exists: s.exists,
            unseen: s.unseen,
            deleted: s.deleted,
            highest_modseq: s.highest_modseq,
            size: s.size,
            first_unseen_uid: s.first_unseen_uid,
            highest_uid: s.highest_uid,
        })
    }

    async fn list_messages(
        &self,
        dir: &str,
        folder: mv::FolderId,
        uids: mv::UidSet,
    ) -> Result<ViewStream<Vec<mv::MessageEntry>>, ViewError> {
        let req = pb::ListMessagesRequest {
            dir: dir.into(),
            folder_id: folder,
            uids: uid_ranges(&uids),
        };
        self.streaming(
            dir,
            req,
            |mut c, r| async move { c.list_messages(r).await },
            entries_of_chunk,
        )
        .await
    }

    async fn fetch_metadata(
        &self,
        dir: &str,
        folder: mv::FolderId,
        request: mv::MetadataRequest,
    ) -> Result<ViewStream<mv::MessageMetadata>, ViewError> {
        let req = pb::FetchMetadataRequest {
            dir: dir.into(),
            folder_id: folder,
            uids: uid_ranges(&request.uids),
            items: request.items.bits(),
            header_fields: request.header_fields,
            header_fields_not: request.header_fields_not,
            changed_since: request.changed_since,
        };
        self.streaming(
            dir,
            req,
            |mut c, r| async move { c.fetch_metadata(r).await },
            parse_metadata,
        )
        .await
    }

    async fn fetch_section(
        &self,
        dir: &str,
        folder: mv::FolderId,
        request: mv::SectionRequest,
    ) -> Result<ViewStream<mv::SectionChunk>, ViewError> {
        let (kind, header_fields) = section_kind(&request.kind);
        let req = pb::FetchSectionRequest {
            dir: dir.into(),
            folder_id: folder,
            uid: request.uid,
            part: request.part,
            kind: kind as i32,
            header_fields,
            binary: request.binary,
            offset: request.offset,
            length: request.length,
        };
        self.streaming(
            dir,
            req,
            |mut c, r| async move { c.fetch_section(r).await },
            |p: pb::SectionChunk| mv::SectionChunk {
                total_size: p.total_size,
                data: Bytes::from(p.data),
            },
        )
        .await
    }

    async fn store_flags(
        &self,
        dir: &str,
        folder: mv::FolderId,
        uids: mv::UidSet,
        change: mv::FlagChange,
    ) -> Result<mv::FlagUpdate, ViewError> {
        let req = pb::StoreFlagsRequest {
            dir: dir.into(),
            folder_id: folder,
            uids: uid_ranges(&uids),
            mode: flag_mode(change.mode) as i32,
            flags: change.flags.bits(),
            keywords: change.keywords,
            unchanged_since: change.unchanged_since,
        };
        // Setting the same flags twice gives the same state: safe to retry.
        let r = self
            .unary(
                dir,
                true,
                req,
                |mut c, r| async move { c.store_flags(r).await },
            )
            .await?;
        Ok(mv::FlagUpdate {
            updated: r.updated.iter().map(entry_of_metadata).collect(),
            modified: r
                .modified
                .iter()
                .map(|r| mv::UidRange::new(r.first, r.last))
                .collect(),
        })
    }

    async fn begin_append(
        &self,
        dir: &str,
        request: mv::AppendRequest,
    ) -> Result<RemoteUpload, ViewError> {
        let (channel, _) = self
            .midb
            .channel(dir)
            .await
            .map_err(|e| rpc_view_error(&e))?;
        let (tx, rx) = tokio::sync::mpsc::channel(APPEND_QUEUE);
        let header = pb::AppendChunk {
            part: Some(pb::append_chunk::Part::Header(pb::AppendHeader {
                dir: dir.into(),
                mailbox: request.mailbox,
                flags: request.flags.bits(),
                keywords: request.keywords,
                internal_date: request.internal_date,
                size: request.size,
            })),
        };
        let midb = self.midb.clone();
        let dir_owned = dir.to_owned();
        let reply = tokio::spawn(async move {
            let body = futures_util::stream::iter([header])
                .chain(tokio_stream::wrappers::ReceiverStream::new(rx));
            match client(channel).append(body).await {
                Ok(r) => {
                    let r = r.into_inner();
                    Ok(mv::Appended {
                        uidvalidity: r.uidvalidity,
                        uid: r.uid,
                    })
                }
                Err(s) => {
                    if reason_of(&s) == Some(Reason::StoreNotHere) {
                        // A stream cannot be replayed; the next APPEND goes
                        // to the store's owner.
                        midb.heal(&dir_owned, &s);
                    }
                    Err(status_view_error(&s))
                }
            }
        });
        Ok(RemoteUpload {
            chunks: Some(tx),
            reply,
            sent: 0,
        })
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: mv::FolderId,
        uids: mv::UidSet,
        target: &str,
        remove: bool,
    ) -> Result<mv::Copied, ViewError> {
        let req = pb::CopyMessagesRequest {
            dir: dir.into(),
            folder_id: folder,
            uids: uid_ranges(&uids),
            target_mailbox: target.into(),
            r#move: remove,
        };
        let r = self
            .unary(dir, false, req, |mut c, r| async move {
                c.copy_messages(r).await
            })
            .await?;
        Ok(mv::Copied {
            target_uidvalidity: r.target_uidvalidity,
            pairs: r.source_uids.into_iter().zip(r.target_uids).collect(),
            modseq: r.modseq,
        })
    }

    async fn expunge(
        &self,
        dir: &str,
        folder: mv::FolderId,
        which: mv::ExpungeScope,
    ) -> Result<mv::Expunged, ViewError> {
        let (scope, uids) = expunge_scope(&which);
        let req = pb::ExpungeRequest {
            dir: dir.into(),
            folder_id: folder,
            scope: scope as i32,
            uids,
        };
        // Removing the same messages twice is harmless: safe to retry.
        let r = self
            .unary(dir, true, req, |mut c, r| async move { c.expunge(r).await })
            .await?;
        Ok(mv::Expunged {
            uids: r.expunged,
            modseq: r.modseq,
        })
    }

    async fn search(
        &self,
        dir: &str,
        folder: mv::FolderId,
        criteria: mv::SearchKey,
    ) -> Result<mv::SearchResult, ViewError> {
        let req = pb::SearchRequest {
            dir: dir.into(),
            folder_id: folder,
            criteria: Some(search_key(&criteria)),
        };
        let r = self
            .unary(dir, true, req, |mut c, r| async move { c.search(r).await })
            .await?;
        Ok(mv::SearchResult {
            uids: r.uids,
            highest_modseq: r.highest_modseq,
        })
    }

    async fn sort(
        &self,
        dir: &str,
        folder: mv::FolderId,
        order: Vec<mv::SortCriterion>,
        criteria: mv::SearchKey,
    ) -> Result<Vec<mv::Uid>, ViewError> {
        let req = pb::SortRequest {
            dir: dir.into(),
            folder_id: folder,
            sort: order.iter().map(sort_criterion).collect(),
            criteria: Some(search_key(&criteria)),
        };
        let r = self
            .unary(dir, true, req, |mut c, r| async move { c.sort(r).await })
            .await?;
        Ok(r.uids)
    }

    async fn thread(
        &self,
        dir: &str,
        folder: mv::FolderId,
        algorithm: mv::ThreadAlgorithm,
        criteria: mv::SearchKey,
    ) -> Result<Vec<mv::ThreadTree>, ViewError> {
        let algorithm = match algorithm {
            mv::ThreadAlgorithm::References => pb::ThreadAlgorithm::ThreadReferences,
            mv::ThreadAlgorithm::OrderedSubject => pb::ThreadAlgorithm::ThreadOrderedsubject,
        };
        let req = pb::ThreadRequest {
            dir: dir.into(),
            folder_id: folder,
            algorithm: algorithm as i32,
            criteria: Some(search_key(&criteria)),
        };
        let r = self
            .unary(dir, true, req, |mut c, r| async move { c.thread(r).await })
            .await?;
        parse_thread_reply(r)
    }

    async fn changes(
        &self,
        dir: &str,
        folder: mv::FolderId,
        since: mv::ModSeq,
        vanished: bool,
    ) -> Result<ViewStream<mv::ChangeBatch>, ViewError> {
        let req = pb::ChangesRequest {
            dir: dir.into(),
            folder_id: folder,
            since_modseq: since,
            vanished,
        };
        self.streaming(
            dir,
            req,
            |mut c, r| async move { c.changes(r).await },
            parse_change_chunk,
        )
        .await
    }

    async fn quota(&self, dir: &str) -> Result<mv::Quota, ViewError> {
        let r = self
            .unary(
                dir,
                true,
                pb::GetQuotaRequest { dir: dir.into() },
                |mut c, r| async move { c.get_quota(r).await },
            )
            .await?;
        Ok(mv::Quota {
            used_bytes: r.used_bytes,
            limit_bytes: r.limit_bytes,
            messages: r.messages,
            message_limit: r.message_limit,
        })
    }

    async fn claim_recent(
        &self,
        dir: &str,
        folder: mv::FolderId,
        claim_up_to: Option<mv::Uid>,
    ) -> Result<mv::Uid, ViewError> {
        let r = self
            .unary(
                dir,
                claim_up_to.is_none(),
                pb::ClaimRecentRequest {
                    dir: dir.into(),
                    folder_id: folder,
                    claim_up_to: claim_up_to.unwrap_or(0),
                },
                |mut c, r| async move { c.claim_recent(r).await },
            )
            .await?;
        Ok(r.previous)
    }
}
