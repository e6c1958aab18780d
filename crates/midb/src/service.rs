//! The `groxide.midb.v1.Midb` gRPC service: the mailbox view contract on
//! the wire, for callers on other nodes. It only translates (the
//! conversions live in `groxide_rpc::midb_view`, shared with the client)
//! and refuses stores whose home is another node.

use futures_util::{Stream, StreamExt, TryStreamExt};
use groxide_mailview::{AppendUpload, MailboxView, ViewError, ViewStream};
use groxide_routing::Resolver;
use groxide_rpc::midb_view as wire;
use groxide_rpc::pb::midb::v1 as pb;
use std::pin::Pin;
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};

/// The midb gRPC service over a view.
pub struct MidbService<V> {
    view: Arc<V>,
    home: Option<Arc<Resolver>>,
}

impl<V: MailboxView> MidbService<V> {
    /// The service of `view`, serving every store it is asked for.
    pub fn new(view: Arc<V>) -> MidbService<V> {
        MidbService { view, home: None }
    }

    /// Serves only the stores `resolver` says are this node's; others are
    /// answered STORE_NOT_HERE naming their home, as groxide-exmdb does, so
    /// callers re-route after a failover instead of reading a moved store here.
    pub fn serving_home_stores(mut self, resolver: Arc<Resolver>) -> MidbService<V> {
        self.home = Some(resolver);
        self
    }

    /// Refuses `dir` when its home is another node.
    async fn here(&self, dir: &str) -> Result<(), Status> {
        let Some(resolver) = &self.home else {
            return Ok(());
        };
        let route = resolver
            .resolve(dir)
            .await
            .map_err(|e| Status::unavailable(format!("cannot route store {dir}: {e}")))?;
        if route.local {
            return Ok(());
        }
        let owner = groxide_rpc::NodeAddr::new(route.host, route.port).to_string();
        Err(groxide_rpc::reason::store_not_here(dir, &owner))
    }
}

fn err(e: ViewError) -> Status {
    wire::view_status(&e)
}

type Out<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn out<T: Send + 'static, U: Send + 'static>(
    s: ViewStream<T>,
    f: impl Fn(T) -> U + Send + 'static,
) -> Out<U> {
    s.map(move |r| r.map(&f).map_err(err)).boxed()
}

#[tonic::async_trait]
impl<V: MailboxView> pb::midb_server::Midb for MidbService<V> {
    async fn list_mailboxes(
        &self,
        r: Request<pb::ListMailboxesRequest>,
    ) -> Result<Response<pb::ListMailboxesReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let list = self.view.list_mailboxes(&r.dir).await.map_err(err)?;
        Ok(Response::new(pb::ListMailboxesReply {
            mailboxes: list
                .into_iter()
                .map(|e| pb::Mailbox {
                    name: e.name,
                    folder_id: e.folder,
                    special_use: e
                        .special_use
                        .map(|u| u.as_str().to_owned())
                        .unwrap_or_default(),
                    subscribed: e.subscribed,
                    has_children: e.has_children,
                    noselect: e.noselect,
                    nonexistent: e.nonexistent,
                })
                .collect(),
        }))
    }

    async fn create_mailbox(
        &self,
        r: Request<pb::CreateMailboxRequest>,
    ) -> Result<Response<pb::CreateMailboxReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let special_use = if r.special_use.is_empty() {
            None
        } else {
            Some(
                groxide_mailview::SpecialUse::parse(&r.special_use).ok_or_else(|| {
                    Status::invalid_argument(format!("unknown special use {:?}", r.special_use))
                })?,
            )
        };
        let (folder_id, uidvalidity) = self
            .view
            .create_mailbox(&r.dir, &r.name, special_use)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::CreateMailboxReply {
            folder_id,
            uidvalidity,
        }))
    }

    async fn delete_mailbox(
        &self,
        r: Request<pb::DeleteMailboxRequest>,
    ) -> Result<Response<pb::DeleteMailboxReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        self.view
            .delete_mailbox(&r.dir, &r.name)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::DeleteMailboxReply {}))
    }

    async fn rename_mailbox(
        &self,
        r: Request<pb::RenameMailboxRequest>,
    ) -> Result<Response<pb::RenameMailboxReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        self.view
            .rename_mailbox(&r.dir, &r.from, &r.to)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::RenameMailboxReply {}))
    }

    async fn set_subscription(
        &self,
        r: Request<pb::SetSubscriptionRequest>,
    ) -> Result<Response<pb::SetSubscriptionReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        self.view
            .set_subscription(&r.dir, &r.name, r.subscribed)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::SetSubscriptionReply {}))
    }

    async fn mailbox_status(
        &self,
        r: Request<pb::MailboxStatusRequest>,
    ) -> Result<Response<pb::MailboxStatusReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let s = self
            .view
            .mailbox_status(&r.dir, &r.name)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::MailboxStatusReply {
            folder_id: s.folder,
            uidvalidity: s.uidvalidity,
            uidnext: s.uidnext,
            exists: s.exists,
            unseen: s.unseen,
            deleted: s.deleted,
            highest_modseq: s.highest_modseq,
            size: s.size,
            first_unseen_uid: s.first_unseen_uid,
            highest_uid: s.highest_uid,
        }))
    }

    type ListMessagesStream = Out<pb::MessageListChunk>;

    async fn list_messages(
        &self,
        r: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<Self::ListMessagesStream>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let uids = wire::uid_set_or_all(&r.uids)?;
        let s = self
            .view
            .list_messages(&r.dir, r.folder_id, uids)
            .await
            .map_err(err)?;
        Ok(Response::new(out(s, wire::list_chunk)))
    }

    type FetchMetadataStream = Out<pb::MessageMetadata>;

    async fn fetch_metadata(
        &self,
        r: Request<pb::FetchMetadataRequest>,
    ) -> Result<Response<Self::FetchMetadataStream>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let req = groxide_mailview::MetadataRequest {
            uids: wire::uid_set_or_all(&r.uids)?,
            items: groxide_mailview::MetadataItems::from_bits(r.items),
            header_fields: r.header_fields,
            header_fields_not: r.header_fields_not,
            changed_since: r.changed_since,
        };
        let s = self
            .view
            .fetch_metadata(&r.dir, r.folder_id, req)
            .await
            .map_err(err)?;
        Ok(Response::new(out(s, wire::metadata)))
    }

    type FetchSectionStream = Out<pb::SectionChunk>;

    async fn fetch_section(
        &self,
        r: Request<pb::FetchSectionRequest>,
    ) -> Result<Response<Self::FetchSectionStream>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let (dir, folder) = (r.dir.clone(), r.folder_id);
        let req = wire::parse_section(r)?;
        let s = self
            .view
            .fetch_section(&dir, folder, req)
            .await
            .map_err(err)?;
        Ok(Response::new(out(s, |p| pb::SectionChunk {
            total_size: p.total_size,
            data: p.data.to_vec(),
        })))
    }

    async fn store_flags(
        &self,
        r: Request<pb::StoreFlagsRequest>,
    ) -> Result<Response<pb::StoreFlagsReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let uids = wire::explicit_uid_set(&r.uids)?;
        let change = groxide_mailview::FlagChange {
            mode: wire::parse_flag_mode(r.mode)?,
            flags: groxide_mailview::Flags::from_bits(r.flags),
            keywords: r.keywords,
            unchanged_since: r.unchanged_since,
        };
        let up = self
            .view
            .store_flags(&r.dir, r.folder_id, uids, change)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::StoreFlagsReply {
            updated: up
                .updated
                .into_iter()
                .map(|entry| {
                    wire::metadata(groxide_mailview::MessageMetadata {
                        entry,
                        ..Default::default()
                    })
                })
                .collect(),
            modified: wire::uid_ranges(&groxide_mailview::UidSet::from_ranges(up.modified)),
        }))
    }

    async fn append(
        &self,
        r: Request<Streaming<pb::AppendChunk>>,
    ) -> Result<Response<pb::AppendReply>, Status> {
        let mut incoming = r.into_inner();
        let header = match incoming.message().await? {
            Some(pb::AppendChunk {
                part: Some(pb::append_chunk::Part::Header(h)),
            }) => h,
            _ => {
                return Err(Status::invalid_argument(
                    "APPEND must start with its header",
                ));
            }
        };
        self.here(&header.dir).await?;
        let request = groxide_mailview::AppendRequest {
            mailbox: header.mailbox,
            flags: groxide_mailview::Flags::from_bits(header.flags),
            keywords: header.keywords,
            internal_date: header.internal_date,
            size: header.size,
        };
        let mut upload = self
            .view
            .begin_append(&header.dir, request)
            .await
            .map_err(err)?;
        // Only the trailer commits: a stream that breaks or ends without it
        // drops the upload unfinished, and nothing is stored.
        let mut received: u64 = 0;
        loop {
            match incoming.next().await.transpose()? {
                Some(pb::AppendChunk {
                    part: Some(pb::append_chunk::Part::Data(d)),
                }) => {
                    received += d.len() as u64;
                    upload.write(bytes::Bytes::from(d)).await.map_err(err)?;
                }
                Some(pb::AppendChunk {
                    part: Some(pb::append_chunk::Part::Trailer(t)),
                }) if t.size == received => break,
                Some(pb::AppendChunk {
                    part: Some(pb::append_chunk::Part::Trailer(t)),
                }) => {
                    return Err(Status::invalid_argument(format!(
                        "the APPEND trailer announces {} bytes but {received} arrived",
                        t.size
                    )));
                }
                Some(_) => return Err(Status::invalid_argument("a second APPEND header")),
                None => {
                    return Err(Status::invalid_argument(
                        "the APPEND stream ended without its trailer",
                    ));
                }
            }
        }
        let a = upload.finish().await.map_err(err)?;
        Ok(Response::new(pb::AppendReply {
            uidvalidity: a.uidvalidity,
            uid: a.uid,
        }))
    }

    async fn copy_messages(
        &self,
        r: Request<pb::CopyMessagesRequest>,
    ) -> Result<Response<pb::CopyMessagesReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let uids = wire::explicit_uid_set(&r.uids)?;
        let c = self
            .view
            .copy_messages(&r.dir, r.folder_id, uids, &r.target_mailbox, r.r#move)
            .await
            .map_err(err)?;
        let (source_uids, target_uids) = c.pairs.into_iter().unzip();
        Ok(Response::new(pb::CopyMessagesReply {
            target_uidvalidity: c.target_uidvalidity,
            source_uids,
            target_uids,
            modseq: c.modseq,
        }))
    }

    async fn expunge(
        &self,
        r: Request<pb::ExpungeRequest>,
    ) -> Result<Response<pb::ExpungeReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let which = wire::parse_expunge_scope(&r)?;
        let x = self
            .view
            .expunge(&r.dir, r.folder_id, which)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::ExpungeReply {
            expunged: x.uids,
            modseq: x.modseq,
        }))
    }

    async fn search(
        &self,
        r: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let key = wire::parse_search_key(r.criteria, 0)?;
        let found = self
            .view
            .search(&r.dir, r.folder_id, key)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::SearchReply {
            uids: found.uids,
            highest_modseq: found.highest_modseq,
        }))
    }

    async fn sort(&self, r: Request<pb::SortRequest>) -> Result<Response<pb::SortReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let key = wire::parse_search_key(r.criteria, 0)?;
        let order = r
            .sort
            .iter()
            .map(wire::parse_sort_criterion)
            .collect::<Result<Vec<_>, Status>>()?;
        let uids = self
            .view
            .sort(&r.dir, r.folder_id, order, key)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::SortReply { uids }))
    }

    async fn thread(
        &self,
        r: Request<pb::ThreadRequest>,
    ) -> Result<Response<pb::ThreadReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let key = wire::parse_search_key(r.criteria, 0)?;
        let algorithm = wire::parse_thread_algorithm(r.algorithm)?;
        let threads = self
            .view
            .thread(&r.dir, r.folder_id, algorithm, key)
            .await
            .map_err(err)?;
        Ok(Response::new(wire::thread_reply(threads)))
    }

    type ChangesStream = Out<pb::ChangesChunk>;

    async fn changes(
        &self,
        r: Request<pb::ChangesRequest>,
    ) -> Result<Response<Self::ChangesStream>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let s = self
            .view
            .changes(&r.dir, r.folder_id, r.since_modseq, r.vanished)
            .await
            .map_err(err)?;
        Ok(Response::new(out(s, wire::change_chunk)))
    }

    async fn get_quota(
        &self,
        r: Request<pb::GetQuotaRequest>,
    ) -> Result<Response<pb::GetQuotaReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let q = self.view.quota(&r.dir).await.map_err(err)?;
        Ok(Response::new(pb::GetQuotaReply {
            used_bytes: q.used_bytes,
            limit_bytes: q.limit_bytes,
            messages: q.messages,
            message_limit: q.message_limit,
        }))
    }

    async fn claim_recent(
        &self,
        r: Request<pb::ClaimRecentRequest>,
    ) -> Result<Response<pb::ClaimRecentReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let claim = (r.claim_up_to != 0).then_some(r.claim_up_to);
        let previous = self
            .view
            .claim_recent(&r.dir, r.folder_id, claim)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::ClaimRecentReply { previous }))
    }
}

/// Collects a server stream into a vector (tests and small replies).
pub async fn collect<T>(s: impl Stream<Item = Result<T, Status>>) -> Result<Vec<T>, Status> {
    s.try_collect().await
}
