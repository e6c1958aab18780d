//! The `groxide.midb.v1.Midb` gRPC service: translation between protobuf
//! and [`StoreView`] at the edge, errors as statuses with stable reasons.

use crate::cache::TextField;
use crate::error::MidbError;
use crate::names::NameError;
use crate::search::SearchKey;
use crate::sort::{SortCriterion, SortKey};
use crate::store::{
    AppendMeta, ChangeBatch, FlagChange, FlagMode, Flags, MessageEntry, Store, StoreError, Uid,
    UidSet,
};
use crate::thread::ThreadNode;
use crate::view::{
    MetadataItems, MetadataRequest, SectionRequest, StoreView, ThreadAlgorithm, ViewStream,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use groxide_routing::Resolver;
use groxide_rpc::pb::midb::v1 as pb;
use groxide_rpc::reason::{Reason, status};
use std::pin::Pin;
use std::sync::Arc;
use tonic::{Code, Request, Response, Status, Streaming};

/// Deepest SEARCH key tree accepted.
pub const MAX_SEARCH_DEPTH: usize = 64;
/// Most UID ranges one request may carry.
pub const MAX_UID_RANGES: usize = 100_000;

/// The midb gRPC service over a view.
pub struct MidbService<S> {
    view: StoreView<S>,
    home: Option<Arc<Resolver>>,
}

impl<S: Store> MidbService<S> {
    /// The service of `view`, serving every store it is asked for.
    pub fn new(view: StoreView<S>) -> MidbService<S> {
        MidbService { view, home: None }
    }

    /// Serves only the stores `resolver` says are this node's; others are
    /// answered STORE_NOT_HERE naming their home, as groxide-exmdb does, so
    /// callers re-route after a failover instead of reading a moved store here.
    pub fn serving_home_stores(mut self, resolver: Arc<Resolver>) -> MidbService<S> {
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

/// The status a failed request answers with.
pub fn to_status(e: &MidbError) -> Status {
    let msg = e.to_string();
    match e {
        MidbError::Store(s) => match s {
            StoreError::NoSuchStore(_) => status(Code::NotFound, Reason::NoSuchStore, msg),
            StoreError::NoSuchFolder(_) => status(Code::NotFound, Reason::NoSuchFolder, msg),
            StoreError::NoSuchMessage(_) => status(Code::NotFound, Reason::NoSuchMessage, msg),
            StoreError::FolderExists(_) => status(Code::AlreadyExists, Reason::FolderExists, msg),
            StoreError::QuotaExceeded(_) => {
                status(Code::ResourceExhausted, Reason::QuotaExceeded, msg)
            }
            StoreError::TooLarge(_) => status(Code::InvalidArgument, Reason::TooLarge, msg),
            StoreError::NotPermitted(_) => {
                status(Code::FailedPrecondition, Reason::NotPermitted, msg)
            }
            StoreError::Unavailable(_) => Status::unavailable(msg),
            StoreError::Other(_) => Status::internal(msg),
        },
        MidbError::Name(n) => match n {
            NameError::NotFound(_) => status(Code::NotFound, Reason::NoSuchFolder, msg),
            NameError::Exists(_) => status(Code::AlreadyExists, Reason::FolderExists, msg),
            NameError::Invalid { .. } => Status::invalid_argument(msg),
            NameError::NotPermitted(_) => {
                status(Code::FailedPrecondition, Reason::NotPermitted, msg)
            }
        },
        MidbError::Invalid(_) => Status::invalid_argument(msg),
        // IMAP answers NO [UNKNOWN-CTE]; the message starts with that code.
        MidbError::UnknownCte(c) => status(
            Code::FailedPrecondition,
            Reason::NotPermitted,
            format!("UNKNOWN-CTE: cannot decode content-transfer-encoding {c}"),
        ),
        MidbError::Cache(_) | MidbError::Internal(_) => Status::internal(msg),
    }
}

fn err(e: MidbError) -> Status {
    if matches!(e, MidbError::Cache(_) | MidbError::Internal(_)) {
        tracing::warn!(error = %e, "midb request failed");
    }
    to_status(&e)
}

fn uid_set(ranges: &[pb::UidRange]) -> Result<UidSet, Status> {
    if ranges.len() > MAX_UID_RANGES {
        return Err(Status::invalid_argument("too many UID ranges"));
    }
    if ranges.is_empty() {
        return Ok(UidSet::all());
    }
    Ok(UidSet::from_ranges(ranges.iter().map(|r| {
        let last = if r.last == 0 { Uid::MAX } else { r.last };
        (r.first.max(1), last)
    })))
}

fn explicit_uid_set(ranges: &[pb::UidRange]) -> Result<UidSet, Status> {
    if ranges.is_empty() {
        return Err(Status::invalid_argument("no UIDs given"));
    }
    uid_set(ranges)
}

fn pb_ranges(uids: impl IntoIterator<Item = Uid>) -> Vec<pb::UidRange> {
    UidSet::from_uids(uids)
        .ranges()
        .iter()
        .map(|r| pb::UidRange {
            first: *r.start(),
            last: *r.end(),
        })
        .collect()
}

fn search_key(k: Option<pb::SearchKey>, depth: usize) -> Result<SearchKey, Status> {
    use pb::search_key::Key;
    if depth > MAX_SEARCH_DEPTH {
        return Err(Status::invalid_argument(
            "SEARCH criteria nested too deeply",
        ));
    }
    let Some(k) = k.and_then(|k| k.key) else {
        return Ok(SearchKey::All);
    };
    let sub = |k: Option<Box<pb::SearchKey>>| search_key(k.map(|b| *b), depth + 1);
    Ok(match k {
        Key::All(_) => SearchKey::All,
        Key::And(list) => SearchKey::And(
            list.keys
                .into_iter()
                .map(|k| search_key(Some(k), depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Key::Or(pair) => SearchKey::Or(Box::new(sub(pair.left)?), Box::new(sub(pair.right)?)),
        Key::Not(k) => SearchKey::Not(Box::new(search_key(Some(*k), depth + 1)?)),
        Key::Uid(set) => SearchKey::Uid(explicit_uid_set(&set.ranges)?),
        Key::FlagsSet(f) => SearchKey::FlagsSet(Flags(f)),
        Key::FlagsUnset(f) => SearchKey::FlagsUnset(Flags(f)),
        Key::Keyword(k) => SearchKey::Keyword(k),
        Key::Unkeyword(k) => SearchKey::Unkeyword(k),
        Key::Before(d) => SearchKey::Before(d),
        Key::On(d) => SearchKey::On(d),
        Key::Since(d) => SearchKey::Since(d),
        Key::SentBefore(d) => SearchKey::SentBefore(d),
        Key::SentOn(d) => SearchKey::SentOn(d),
        Key::SentSince(d) => SearchKey::SentSince(d),
        Key::Larger(n) => SearchKey::Larger(n),
        Key::Smaller(n) => SearchKey::Smaller(n),
        Key::Bcc(s) => SearchKey::Text(TextField::Bcc, s),
        Key::Cc(s) => SearchKey::Text(TextField::Cc, s),
        Key::From(s) => SearchKey::Text(TextField::From, s),
        Key::To(s) => SearchKey::Text(TextField::To, s),
        Key::Subject(s) => SearchKey::Text(TextField::Subject, s),
        Key::Body(s) => SearchKey::Text(TextField::Body, s),
        Key::Text(s) => SearchKey::Text(TextField::Text, s),
        Key::Header(h) => SearchKey::Header(h.name, h.value),
        Key::Modseq(n) => SearchKey::Modseq(n),
        Key::New(_) => SearchKey::New,
        Key::Old(_) => SearchKey::Old,
        Key::Recent(_) => SearchKey::Recent,
        Key::Younger(n) => SearchKey::Younger(n),
        Key::Older(n) => SearchKey::Older(n),
    })
}

fn metadata(e: &MessageEntry) -> pb::MessageMetadata {
    pb::MessageMetadata {
        uid: e.uid,
        flags: e.flags.0,
        keywords: e.keywords.clone(),
        modseq: e.modseq,
        size: e.size,
        internal_date: e.internal_date,
        ..Default::default()
    }
}

fn thread_node(n: ThreadNode) -> pb::ThreadNode {
    pb::ThreadNode {
        uid: n.uid,
        children: n.children.into_iter().map(thread_node).collect(),
    }
}

fn section_kind(kind: i32, names: Vec<String>) -> Result<groxide_mime::SectionKind, Status> {
    use groxide_mime::SectionKind as K;
    Ok(match pb::SectionKind::try_from(kind) {
        Ok(pb::SectionKind::SectionFull) => K::Full,
        Ok(pb::SectionKind::SectionHeader) => K::Header,
        Ok(pb::SectionKind::SectionHeaderFields) => K::HeaderFields(names),
        Ok(pb::SectionKind::SectionHeaderFieldsNot) => K::HeaderFieldsNot(names),
        Ok(pb::SectionKind::SectionText) => K::Text,
        Ok(pb::SectionKind::SectionMime) => K::Mime,
        Err(_) => return Err(Status::invalid_argument("unknown section kind")),
    })
}

type Out<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn out<T: Send + 'static, U: Send + 'static>(
    s: ViewStream<T>,
    f: impl Fn(T) -> U + Send + 'static,
) -> Out<U> {
    s.map(move |r| r.map(&f).map_err(err)).boxed()
}

fn batch_chunk(b: ChangeBatch) -> pb::ChangesChunk {
    pb::ChangesChunk {
        changed: b.changed.iter().map(metadata).collect(),
        vanished: pb_ranges(b.vanished),
        highest_modseq: b.highest_modseq,
    }
}

#[tonic::async_trait]
impl<S: Store> pb::midb_server::Midb for MidbService<S> {
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
        let (folder_id, uidvalidity) = self
            .view
            .create_mailbox(&r.dir, &r.name, &r.special_use)
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
        let (e, s) = self
            .view
            .mailbox_status(&r.dir, &r.name)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::MailboxStatusReply {
            folder_id: e.folder,
            uidvalidity: s.uidvalidity,
            uidnext: s.uidnext,
            exists: s.exists,
            unseen: s.unseen,
            deleted: s.deleted.unwrap_or(0),
            highest_modseq: s.highest_modseq,
            size: s.size,
            first_unseen_uid: s.first_unseen_uid.unwrap_or(0),
            special_use: e
                .special_use
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
        }))
    }

    type ListMessagesStream = Out<pb::MessageListChunk>;

    async fn list_messages(
        &self,
        r: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<Self::ListMessagesStream>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let uids = uid_set(&r.uids)?;
        let with = r.with_size_and_date;
        let s = self.view.list_messages(&r.dir, r.folder_id, uids);
        Ok(Response::new(out(s, move |chunk: Vec<MessageEntry>| {
            let mut c = pb::MessageListChunk {
                uids: Vec::with_capacity(chunk.len()),
                flags: Vec::with_capacity(chunk.len()),
                modseqs: Vec::with_capacity(chunk.len()),
                ..Default::default()
            };
            for e in chunk {
                c.uids.push(e.uid);
                c.flags.push(e.flags.0);
                c.modseqs.push(e.modseq);
                if with {
                    c.sizes.push(e.size);
                    c.internal_dates.push(e.internal_date);
                }
                if !e.keywords.is_empty() {
                    c.keywords.push(pb::MessageKeywords {
                        uid: e.uid,
                        keywords: e.keywords,
                    });
                }
            }
            c
        })))
    }

    type FetchMetadataStream = Out<pb::MessageMetadata>;

    async fn fetch_metadata(
        &self,
        r: Request<pb::FetchMetadataRequest>,
    ) -> Result<Response<Self::FetchMetadataStream>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let uids = uid_set(&r.uids)?;
        let req = MetadataRequest {
            items: MetadataItems(r.items),
            header_fields: r.header_fields,
            header_fields_not: r.header_fields_not,
            changed_since: r.changed_since,
        };
        let s = self.view.fetch_metadata(&r.dir, r.folder_id, uids, req);
        Ok(Response::new(out(s, |m| {
            let mut p = m.entry.as_ref().map(metadata).unwrap_or_default();
            p.envelope = m.envelope;
            p.bodystructure = m.bodystructure;
            p.body = m.body;
            p.header_fields = m.header_fields;
            p
        })))
    }

    type FetchSectionStream = Out<pb::SectionChunk>;

    async fn fetch_section(
        &self,
        r: Request<pb::FetchSectionRequest>,
    ) -> Result<Response<Self::FetchSectionStream>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let req = SectionRequest {
            part: r.part,
            kind: section_kind(r.kind, r.header_fields)?,
            binary: r.binary,
            offset: r.offset,
            length: r.length,
            set_seen: r.set_seen,
        };
        let s = self.view.fetch_section(&r.dir, r.folder_id, r.uid, req);
        Ok(Response::new(out(s, |p| pb::SectionChunk {
            total_size: p.total_size,
            data: p.data.to_vec(),
            seen_set: p.seen_set,
            modseq: p.modseq,
        })))
    }

    async fn store_flags(
        &self,
        r: Request<pb::StoreFlagsRequest>,
    ) -> Result<Response<pb::StoreFlagsReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let uids = explicit_uid_set(&r.uids)?;
        let mode = match pb::StoreMode::try_from(r.mode) {
            Ok(pb::StoreMode::StoreReplace) => FlagMode::Replace,
            Ok(pb::StoreMode::StoreAdd) => FlagMode::Add,
            Ok(pb::StoreMode::StoreRemove) => FlagMode::Remove,
            Err(_) => return Err(Status::invalid_argument("unknown store mode")),
        };
        let change = FlagChange {
            mode,
            flags: Flags(r.flags),
            keywords: r.keywords,
            unchanged_since: r.unchanged_since,
        };
        let up = self
            .view
            .store_flags(&r.dir, r.folder_id, &uids, &change)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::StoreFlagsReply {
            updated: up.updated.iter().map(metadata).collect(),
            modified: pb_ranges(up.modified),
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
        let body = incoming
            .map(|item| match item {
                Ok(pb::AppendChunk {
                    part: Some(pb::append_chunk::Part::Data(d)),
                }) => Ok(Bytes::from(d)),
                Ok(_) => Err(StoreError::Other("a second APPEND header".into())),
                Err(s) => Err(StoreError::Unavailable(format!(
                    "APPEND stream broke: {}",
                    s.message()
                ))),
            })
            .boxed();
        let meta = AppendMeta {
            folder: 0,
            flags: Flags(header.flags),
            keywords: header.keywords,
            internal_date: header.internal_date,
            size: header.size,
        };
        let a = self
            .view
            .append(&header.dir, &header.mailbox, meta, body)
            .await
            .map_err(err)?;
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
        let uids = explicit_uid_set(&r.uids)?;
        let c = self
            .view
            .copy_messages(&r.dir, r.folder_id, &uids, &r.target_mailbox, r.r#move)
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
        let uids = if r.uids.is_empty() {
            None
        } else {
            Some(uid_set(&r.uids)?)
        };
        let x = self
            .view
            .expunge(&r.dir, r.folder_id, uids.as_ref(), r.unconditional)
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
        let key = search_key(r.criteria, 0)?;
        let (uids, highest_modseq) = self
            .view
            .search(&r.dir, r.folder_id, key)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::SearchReply {
            uids,
            highest_modseq,
        }))
    }

    async fn sort(&self, r: Request<pb::SortRequest>) -> Result<Response<pb::SortReply>, Status> {
        let r = r.into_inner();
        self.here(&r.dir).await?;
        let key = search_key(r.criteria, 0)?;
        let criteria = r
            .sort
            .iter()
            .map(|c| {
                let key = match pb::SortKey::try_from(c.key) {
                    Ok(pb::SortKey::SortArrival) => SortKey::Arrival,
                    Ok(pb::SortKey::SortCc) => SortKey::Cc,
                    Ok(pb::SortKey::SortDate) => SortKey::Date,
                    Ok(pb::SortKey::SortFrom) => SortKey::From,
                    Ok(pb::SortKey::SortSize) => SortKey::Size,
                    Ok(pb::SortKey::SortSubject) => SortKey::Subject,
                    Ok(pb::SortKey::SortTo) => SortKey::To,
                    Ok(pb::SortKey::SortDisplayfrom) => SortKey::DisplayFrom,
                    Ok(pb::SortKey::SortDisplayto) => SortKey::DisplayTo,
                    Err(_) => return Err(Status::invalid_argument("unknown sort key")),
                };
                Ok(SortCriterion {
                    key,
                    reverse: c.reverse,
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let uids = self
            .view
            .sort(&r.dir, r.folder_id, &criteria, key)
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
        let key = search_key(r.criteria, 0)?;
        let algorithm = match pb::ThreadAlgorithm::try_from(r.algorithm) {
            Ok(pb::ThreadAlgorithm::ThreadReferences) => ThreadAlgorithm::References,
            Ok(pb::ThreadAlgorithm::ThreadOrderedsubject) => ThreadAlgorithm::OrderedSubject,
            Err(_) => return Err(Status::invalid_argument("unknown thread algorithm")),
        };
        let threads = self
            .view
            .thread(&r.dir, r.folder_id, algorithm, key)
            .await
            .map_err(err)?;
        Ok(Response::new(pb::ThreadReply {
            threads: threads.into_iter().map(thread_node).collect(),
        }))
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
            .changes(&r.dir, r.folder_id, r.since_modseq, r.vanished);
        Ok(Response::new(out(s, batch_chunk)))
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
}

/// Collects a server stream into a vector (tests and small replies).
pub async fn collect<T>(s: impl Stream<Item = Result<T, Status>>) -> Result<Vec<T>, Status> {
    s.try_collect().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::NoFeed;
    use crate::memory_store::MemoryStore;
    use crate::view::Settings;
    use groxide_routing::{ListKind, LocalNode, RouteTable};
    use groxide_rpc::reason::{owner_of, reason_of};
    use pb::midb_server::Midb;
    use std::time::Duration;

    const HERE: &str = "/data/user/n1/example.org/anna";
    const THERE: &str = "/data/user/n2/example.org/bert";

    fn status(dir: &str) -> Request<pb::MailboxStatusRequest> {
        Request::new(pb::MailboxStatusRequest {
            dir: dir.into(),
            name: "INBOX".into(),
        })
    }

    #[tokio::test]
    async fn a_store_homed_on_another_node_is_refused_naming_its_home() {
        let mem = MemoryStore::new();
        mem.create_store(HERE);
        mem.create_store(THERE);
        let view = StoreView::new(mem, Arc::new(NoFeed), Settings::default());
        let table = RouteTable::parse(
            "/data/user/n1/ 127.0.0.2 5555\n/data/user/n2/ 127.0.0.3 5555\n",
            ListKind::Midb,
            std::path::Path::new("midb_list.txt"),
        )
        .unwrap();
        let this_node = LocalNode::new("n1", vec!["127.0.0.2".parse().unwrap()]);
        let resolver = Resolver::new(table, None, this_node, 5555, Duration::from_secs(60));
        let service = MidbService::new(view.clone()).serving_home_stores(Arc::new(resolver));

        service.mailbox_status(status(HERE)).await.unwrap();
        let refused = service.mailbox_status(status(THERE)).await.unwrap_err();
        assert_eq!(
            reason_of(&refused),
            Some(Reason::StoreNotHere),
            "{refused:?}"
        );
        assert_eq!(owner_of(&refused).as_deref(), Some("127.0.0.3:5555"));
        // Without a home check (tests, a single node) every store is served.
        MidbService::new(view)
            .mailbox_status(status(THERE))
            .await
            .unwrap();
    }
}
