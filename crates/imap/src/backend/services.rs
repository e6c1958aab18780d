//! [`ServiceBackend`]: the real backend. Logins go to the directory (with
//! its throttle), mailbox requests to groxide-midb on the store's home node
//! through the routed client (which heals stale routes), change hints come
//! from the [`EventHub`]. Protobuf types are translated here, at the edge.

use super::events::EventHub;
use super::{
    Account, AppendRequest, AppendUpload, Appended, AuthFailure, Backend, BackendError,
    BackendStream, ChangesChunk, CopyResult, EventWatch, ExpungeResult, MailboxEntry,
    MailboxStatus, MessageListChunk, MessageMetadata, MetadataRequest, Quota, SearchKey,
    SearchResult, SectionChunk, SectionPart, SectionRequest, SortCriterion, SortKey, StoreMode,
    StoreRequest, StoreResult, ThreadAlgorithm, ThreadTree, UidRange,
};
use bytes::Bytes;
use futures_util::StreamExt;
use groxide_directory::{AuthError, Authenticator, Protocol};
use groxide_rpc::pb::midb::v1 as pb;
use groxide_rpc::pb::midb::v1::midb_client::MidbClient;
use groxide_rpc::reason::Reason;
use groxide_rpc::{RoutedClient, RpcError};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// APPEND chunks queued toward midb (backpressure beyond that).
const APPEND_QUEUE: usize = 4;
/// Password checks running at once per CPU: each may take tens of MiB
/// (argon2) and a directory connection, so a login storm must queue.
const LOGINS_PER_CPU: usize = 2;

/// The backend over the directory, midb and groxide-event.
pub struct ServiceBackend {
    auth: Arc<Authenticator>,
    logins: tokio::sync::Semaphore,
    midb: Arc<RoutedClient>,
    events: Arc<EventHub>,
}

impl ServiceBackend {
    /// A backend over these services.
    pub fn new(auth: Arc<Authenticator>, midb: Arc<RoutedClient>, events: Arc<EventHub>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        ServiceBackend {
            auth,
            logins: tokio::sync::Semaphore::new(cpus * LOGINS_PER_CPU),
            midb,
            events,
        }
    }

    /// The routed midb client (SIGHUP resets it).
    pub fn midb(&self) -> &Arc<RoutedClient> {
        &self.midb
    }

    /// The event hub.
    pub fn events(&self) -> &Arc<EventHub> {
        &self.events
    }

    fn timeout(&self) -> Duration {
        self.midb.request_timeout()
    }

    /// A unary midb call with the default deadline, routed by `dir`.
    async fn unary<Q, T, F, Fut>(&self, dir: &str, request: Q, call: F) -> Result<T, BackendError>
    where
        Q: Clone + Send,
        F: Fn(MidbClient<Channel>, tonic::Request<Q>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let timeout = self.timeout();
        self.midb
            .call(dir, |ch| {
                let mut req = tonic::Request::new(request.clone());
                req.set_timeout(timeout);
                call(MidbClient::new(ch), req)
            })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| backend_error(&e))
    }

    /// A server-streaming midb call: no overall deadline (a listing of a
    /// large folder may take long); items are converted with `convert`.
    async fn streaming<Q, P, T, F, Fut>(
        &self,
        dir: &str,
        request: Q,
        call: F,
        convert: fn(P) -> T,
    ) -> Result<BackendStream<T>, BackendError>
    where
        Q: Clone + Send,
        P: Send + 'static,
        T: Send + 'static,
        F: Fn(MidbClient<Channel>, tonic::Request<Q>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<tonic::Streaming<P>>, tonic::Status>>,
    {
        let stream = self
            .midb
            .call(dir, |ch| {
                call(MidbClient::new(ch), tonic::Request::new(request.clone()))
            })
            .await
            .map_err(|e| backend_error(&e))?
            .into_inner();
        Ok(stream
            .map(move |item| item.map(convert).map_err(|s| status_error(&s)))
            .boxed())
    }
}

/// The backend error for a failed routed call. Failures of the node rather
/// than of the request (unreachable, refused, store elsewhere) are logged
/// with the node and what it said, since the client only sees "try again".
fn backend_error(e: &RpcError) -> BackendError {
    let error = match e {
        RpcError::Status { status, .. } => status_error(status),
        other => BackendError::Unavailable(other.to_string()),
    };
    if matches!(
        error,
        BackendError::Unavailable(_) | BackendError::Internal(_)
    ) {
        tracing::warn!(error = %e, "midb call failed");
    }
    error
}

/// The backend error for a status from midb.
fn status_error(s: &tonic::Status) -> BackendError {
    match groxide_rpc::reason::reason_of(s) {
        Some(Reason::NoSuchFolder) => BackendError::NoSuchMailbox,
        Some(Reason::FolderExists) => BackendError::MailboxExists,
        Some(Reason::NoSuchMessage) => BackendError::NoSuchMessage,
        Some(Reason::QuotaExceeded) => BackendError::OverQuota,
        Some(Reason::TooLarge) => BackendError::TooBig,
        Some(Reason::NotPermitted) if s.message().starts_with("UNKNOWN-CTE") => {
            BackendError::UnknownCte
        }
        Some(Reason::NotPermitted) => BackendError::NotPermitted(s.message().to_owned()),
        // A refused node is a cluster configuration problem: retryable for the client.
        Some(Reason::NoSuchStore | Reason::StoreNotHere | Reason::PeerNotAllowed) => {
            BackendError::Unavailable(s.message().to_owned())
        }
        _ => match s.code() {
            tonic::Code::InvalidArgument => BackendError::InvalidName(s.message().to_owned()),
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
                BackendError::Unavailable(s.message().to_owned())
            }
            _ => BackendError::Internal(s.message().to_owned()),
        },
    }
}

fn pb_ranges(ranges: &[UidRange]) -> Vec<pb::UidRange> {
    ranges
        .iter()
        .map(|r| pb::UidRange {
            first: r.first,
            last: r.last,
        })
        .collect()
}

fn ranges(ranges: Vec<pb::UidRange>) -> Vec<UidRange> {
    ranges
        .into_iter()
        .map(|r| UidRange::new(r.first, if r.last == 0 { u32::MAX } else { r.last }))
        .collect()
}

fn metadata(m: pb::MessageMetadata) -> MessageMetadata {
    MessageMetadata {
        uid: m.uid,
        flags: m.flags,
        keywords: m.keywords,
        modseq: m.modseq,
        size: m.size,
        internal_date: m.internal_date,
        envelope: m.envelope,
        bodystructure: m.bodystructure,
        body: m.body,
        header_fields: m.header_fields,
    }
}

fn list_chunk(c: pb::MessageListChunk) -> MessageListChunk {
    MessageListChunk {
        uids: c.uids,
        flags: c.flags,
        modseqs: c.modseqs,
        sizes: c.sizes,
        internal_dates: c.internal_dates,
        keywords: c
            .keywords
            .into_iter()
            .map(|k| (k.uid, k.keywords))
            .collect(),
    }
}

fn section_chunk(c: pb::SectionChunk) -> SectionChunk {
    SectionChunk {
        total_size: c.total_size,
        data: Bytes::from(c.data),
    }
}

fn changes_chunk(c: pb::ChangesChunk) -> ChangesChunk {
    ChangesChunk {
        changed: c.changed.into_iter().map(metadata).collect(),
        vanished: ranges(c.vanished),
        highest_modseq: c.highest_modseq,
    }
}

fn search_key(key: SearchKey) -> pb::SearchKey {
    use pb::search_key::Key;
    let boxed = |k: SearchKey| Some(Box::new(search_key(k)));
    let key = match key {
        SearchKey::All => Key::All(true),
        SearchKey::And(keys) => Key::And(pb::SearchKeyList {
            keys: keys.into_iter().map(search_key).collect(),
        }),
        SearchKey::Or(a, b) => Key::Or(Box::new(pb::SearchKeyPair {
            left: boxed(*a),
            right: boxed(*b),
        })),
        SearchKey::Not(k) => Key::Not(Box::new(search_key(*k))),
        SearchKey::Uid(r) => Key::Uid(pb::UidSet {
            ranges: if r.is_empty() {
                // An empty set matches nothing; midb needs at least one range.
                vec![pb::UidRange {
                    first: u32::MAX,
                    last: u32::MAX,
                }]
            } else {
                pb_ranges(&r)
            },
        }),
        SearchKey::FlagsSet(f) => Key::FlagsSet(f.0),
        SearchKey::FlagsUnset(f) => Key::FlagsUnset(f.0),
        SearchKey::Keyword(k) => Key::Keyword(k),
        SearchKey::Unkeyword(k) => Key::Unkeyword(k),
        SearchKey::Before(d) => Key::Before(d),
        SearchKey::On(d) => Key::On(d),
        SearchKey::Since(d) => Key::Since(d),
        SearchKey::SentBefore(d) => Key::SentBefore(d),
        SearchKey::SentOn(d) => Key::SentOn(d),
        SearchKey::SentSince(d) => Key::SentSince(d),
        SearchKey::Larger(n) => Key::Larger(n),
        SearchKey::Smaller(n) => Key::Smaller(n),
        SearchKey::Bcc(s) => Key::Bcc(s),
        SearchKey::Cc(s) => Key::Cc(s),
        SearchKey::From(s) => Key::From(s),
        SearchKey::To(s) => Key::To(s),
        SearchKey::Subject(s) => Key::Subject(s),
        SearchKey::Body(s) => Key::Body(s),
        SearchKey::Text(s) => Key::Text(s),
        SearchKey::Header(name, value) => Key::Header(pb::HeaderMatch { name, value }),
        SearchKey::ModSeq(n) => Key::Modseq(n),
        SearchKey::Younger(n) => Key::Younger(n),
        SearchKey::Older(n) => Key::Older(n),
    };
    pb::SearchKey { key: Some(key) }
}

/// Thread trees from protobuf without recursion.
fn thread_trees(nodes: Vec<pb::ThreadNode>) -> Vec<ThreadTree> {
    enum Work {
        Enter(pb::ThreadNode),
        Leave { uid: u32, children: usize },
    }
    let mut work: Vec<Work> = nodes.into_iter().rev().map(Work::Enter).collect();
    let mut built: Vec<ThreadTree> = Vec::new();
    while let Some(w) = work.pop() {
        match w {
            Work::Enter(mut n) => {
                let children = std::mem::take(&mut n.children);
                work.push(Work::Leave {
                    uid: n.uid,
                    children: children.len(),
                });
                work.extend(children.into_iter().rev().map(Work::Enter));
            }
            Work::Leave { uid, children } => {
                let kids = built.split_off(built.len().saturating_sub(children));
                built.push(ThreadTree {
                    uid,
                    children: kids,
                });
            }
        }
    }
    built
}

/// An APPEND streaming into midb.
pub struct ServiceUpload {
    tx: Option<mpsc::Sender<pb::AppendChunk>>,
    call: JoinHandle<Result<Appended, BackendError>>,
}

impl AppendUpload for ServiceUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BackendError> {
        let sent = match &self.tx {
            Some(tx) => tx
                .send(pb::AppendChunk {
                    part: Some(pb::append_chunk::Part::Data(chunk.to_vec())),
                })
                .await
                .is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // midb stopped reading: its answer says why.
        self.tx = None;
        let call = &mut self.call;
        Err(match call.await {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => BackendError::Internal("APPEND ended early".into()),
            Err(e) => BackendError::Internal(e.to_string()),
        })
    }

    async fn finish(mut self) -> Result<Appended, BackendError> {
        self.tx = None;
        match (&mut self.call).await {
            Ok(r) => r,
            Err(e) => Err(BackendError::Internal(e.to_string())),
        }
    }
}

impl Drop for ServiceUpload {
    fn drop(&mut self) {
        if self.tx.is_some() {
            // Abandoned: cancel the call so midb stores nothing.
            self.call.abort();
        }
    }
}

fn auth_failure(e: AuthError) -> AuthFailure {
    match e {
        AuthError::Blocked(_) => AuthFailure::Blocked,
        AuthError::InvalidCredentials => AuthFailure::InvalidCredentials,
        AuthError::AccountDisabled => AuthFailure::AccountDisabled,
        AuthError::ProtocolNotPermitted(_) => AuthFailure::ProtocolNotPermitted,
        AuthError::Unavailable(e) => AuthFailure::Unavailable(e.to_string()),
    }
}

impl Backend for ServiceBackend {
    type Upload = ServiceUpload;

    async fn authenticate(
        &self,
        login: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Account, AuthFailure> {
        let _turn = self
            .logins
            .acquire()
            .await
            .map_err(|_| AuthFailure::Unavailable("shutting down".into()))?;
        let user = self
            .auth
            .authenticate(login, password, Protocol::Imap, client)
            .await
            .map_err(auth_failure)?;
        Ok(Account {
            username: user.username,
            dir: user.maildir,
        })
    }

    async fn list_mailboxes(&self, dir: &str) -> Result<Vec<MailboxEntry>, BackendError> {
        let req = pb::ListMailboxesRequest {
            dir: dir.to_owned(),
        };
        let reply = self
            .unary(
                dir,
                req,
                |mut c, r| async move { c.list_mailboxes(r).await },
            )
            .await?;
        Ok(reply
            .mailboxes
            .into_iter()
            .map(|m| MailboxEntry {
                name: m.name,
                special_use: (!m.special_use.is_empty()).then_some(m.special_use),
                subscribed: m.subscribed,
                has_children: m.has_children,
                noselect: m.noselect,
            })
            .collect())
    }

    async fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<&str>,
    ) -> Result<(), BackendError> {
        let req = pb::CreateMailboxRequest {
            dir: dir.to_owned(),
            name: name.to_owned(),
            special_use: special_use.unwrap_or_default().to_owned(),
        };
        self.unary(
            dir,
            req,
            |mut c, r| async move { c.create_mailbox(r).await },
        )
        .await
        .map(|_| ())
    }

    async fn delete_mailbox(&self, dir: &str, name: &str) -> Result<(), BackendError> {
        let req = pb::DeleteMailboxRequest {
            dir: dir.to_owned(),
            name: name.to_owned(),
        };
        self.unary(
            dir,
            req,
            |mut c, r| async move { c.delete_mailbox(r).await },
        )
        .await
        .map(|_| ())
    }

    async fn rename_mailbox(&self, dir: &str, from: &str, to: &str) -> Result<(), BackendError> {
        let req = pb::RenameMailboxRequest {
            dir: dir.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
        };
        self.unary(
            dir,
            req,
            |mut c, r| async move { c.rename_mailbox(r).await },
        )
        .await
        .map(|_| ())
    }

    async fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> Result<(), BackendError> {
        let req = pb::SetSubscriptionRequest {
            dir: dir.to_owned(),
            name: name.to_owned(),
            subscribed,
        };
        self.unary(
            dir,
            req,
            |mut c, r| async move { c.set_subscription(r).await },
        )
        .await
        .map(|_| ())
    }

    async fn mailbox_status(&self, dir: &str, name: &str) -> Result<MailboxStatus, BackendError> {
        let req = pb::MailboxStatusRequest {
            dir: dir.to_owned(),
            name: name.to_owned(),
        };
        let s = self
            .unary(
                dir,
                req,
                |mut c, r| async move { c.mailbox_status(r).await },
            )
            .await?;
        Ok(MailboxStatus {
            folder_id: s.folder_id,
            uidvalidity: s.uidvalidity,
            uidnext: s.uidnext,
            exists: s.exists,
            unseen: s.unseen,
            deleted: s.deleted,
            highest_modseq: s.highest_modseq,
            size: s.size,
            first_unseen_uid: s.first_unseen_uid,
        })
    }

    async fn list_messages(
        &self,
        dir: &str,
        folder: u64,
        uids: Vec<UidRange>,
        with_size_and_date: bool,
    ) -> Result<BackendStream<MessageListChunk>, BackendError> {
        let req = pb::ListMessagesRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            uids: pb_ranges(&uids),
            with_size_and_date,
        };
        self.streaming(
            dir,
            req,
            |mut c, r| async move { c.list_messages(r).await },
            list_chunk,
        )
        .await
    }

    async fn fetch_metadata(
        &self,
        dir: &str,
        folder: u64,
        request: MetadataRequest,
    ) -> Result<BackendStream<MessageMetadata>, BackendError> {
        let req = pb::FetchMetadataRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            uids: pb_ranges(&request.uids),
            items: request.items.0,
            header_fields: request.header_fields,
            header_fields_not: request.header_fields_not,
            changed_since: request.changed_since,
        };
        self.streaming(
            dir,
            req,
            |mut c, r| async move { c.fetch_metadata(r).await },
            metadata,
        )
        .await
    }

    async fn fetch_section(
        &self,
        dir: &str,
        folder: u64,
        request: SectionRequest,
    ) -> Result<BackendStream<SectionChunk>, BackendError> {
        let (kind, header_fields) = match request.kind {
            SectionPart::Full => (pb::SectionKind::SectionFull, Vec::new()),
            SectionPart::Header => (pb::SectionKind::SectionHeader, Vec::new()),
            SectionPart::HeaderFields(f) => (pb::SectionKind::SectionHeaderFields, f),
            SectionPart::HeaderFieldsNot(f) => (pb::SectionKind::SectionHeaderFieldsNot, f),
            SectionPart::Text => (pb::SectionKind::SectionText, Vec::new()),
            SectionPart::Mime => (pb::SectionKind::SectionMime, Vec::new()),
        };
        let req = pb::FetchSectionRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            uid: request.uid,
            part: request.part,
            kind: kind as i32,
            header_fields,
            binary: request.binary,
            offset: request.offset,
            length: request.length,
            set_seen: false,
        };
        self.streaming(
            dir,
            req,
            |mut c, r| async move { c.fetch_section(r).await },
            section_chunk,
        )
        .await
    }

    async fn store_flags(
        &self,
        dir: &str,
        folder: u64,
        request: StoreRequest,
    ) -> Result<StoreResult, BackendError> {
        let mode = match request.mode {
            StoreMode::Replace => pb::StoreMode::StoreReplace,
            StoreMode::Add => pb::StoreMode::StoreAdd,
            StoreMode::Remove => pb::StoreMode::StoreRemove,
        };
        let req = pb::StoreFlagsRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            uids: pb_ranges(&request.uids),
            mode: mode as i32,
            flags: request.flags.0,
            keywords: request.keywords,
            unchanged_since: request.unchanged_since,
        };
        let reply = self
            .unary(dir, req, |mut c, r| async move { c.store_flags(r).await })
            .await?;
        Ok(StoreResult {
            updated: reply.updated.into_iter().map(metadata).collect(),
            modified: ranges(reply.modified),
        })
    }

    async fn begin_append(
        &self,
        dir: &str,
        request: AppendRequest,
    ) -> Result<ServiceUpload, BackendError> {
        // A missing mailbox fails the call at once; the upload's next
        // write or its finish reports it (TRYCREATE).
        let (channel, node) = self
            .midb
            .channel(dir)
            .await
            .map_err(|e| backend_error(&e))?;
        let (tx, rx) = mpsc::channel(APPEND_QUEUE);
        let header = pb::AppendChunk {
            part: Some(pb::append_chunk::Part::Header(pb::AppendHeader {
                dir: dir.to_owned(),
                mailbox: request.mailbox,
                flags: request.flags.0,
                keywords: request.keywords,
                internal_date: request.internal_date,
                size: request.size,
            })),
        };
        tx.send(header)
            .await
            .map_err(|_| BackendError::Internal("APPEND queue closed".into()))?;
        let call = tokio::spawn(async move {
            let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
            match MidbClient::new(channel).append(stream).await {
                Ok(r) => {
                    let r = r.into_inner();
                    Ok(Appended {
                        uidvalidity: r.uidvalidity,
                        uid: r.uid,
                    })
                }
                Err(s) => Err(backend_error(&RpcError::from_status("midb", &node, s))),
            }
        });
        Ok(ServiceUpload { tx: Some(tx), call })
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: u64,
        uids: Vec<UidRange>,
        target: &str,
        remove: bool,
    ) -> Result<CopyResult, BackendError> {
        let req = pb::CopyMessagesRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            uids: pb_ranges(&uids),
            target_mailbox: target.to_owned(),
            r#move: remove,
        };
        let r = self
            .unary(dir, req, |mut c, r| async move { c.copy_messages(r).await })
            .await?;
        Ok(CopyResult {
            target_uidvalidity: r.target_uidvalidity,
            modseq: r.modseq,
            source_uids: r.source_uids,
            target_uids: r.target_uids,
        })
    }

    async fn expunge(
        &self,
        dir: &str,
        folder: u64,
        uids: Option<Vec<UidRange>>,
    ) -> Result<ExpungeResult, BackendError> {
        let req = pb::ExpungeRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            uids: uids.as_deref().map(pb_ranges).unwrap_or_default(),
            unconditional: false,
        };
        let mut r = self
            .unary(dir, req, |mut c, r| async move { c.expunge(r).await })
            .await?;
        r.expunged.sort_unstable();
        Ok(ExpungeResult {
            expunged: r.expunged,
            modseq: r.modseq,
        })
    }

    async fn search(
        &self,
        dir: &str,
        folder: u64,
        criteria: SearchKey,
    ) -> Result<SearchResult, BackendError> {
        let req = pb::SearchRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            criteria: Some(search_key(criteria)),
        };
        let r = self
            .unary(dir, req, |mut c, r| async move { c.search(r).await })
            .await?;
        Ok(SearchResult {
            uids: r.uids,
            highest_modseq: r.highest_modseq,
        })
    }

    async fn sort(
        &self,
        dir: &str,
        folder: u64,
        order: Vec<SortCriterion>,
        criteria: SearchKey,
    ) -> Result<Vec<u32>, BackendError> {
        let sort = order
            .iter()
            .map(|c| pb::SortCriterion {
                key: match c.key {
                    SortKey::Arrival => pb::SortKey::SortArrival,
                    SortKey::Cc => pb::SortKey::SortCc,
                    SortKey::Date => pb::SortKey::SortDate,
                    SortKey::From => pb::SortKey::SortFrom,
                    SortKey::Size => pb::SortKey::SortSize,
                    SortKey::Subject => pb::SortKey::SortSubject,
                    SortKey::To => pb::SortKey::SortTo,
                    SortKey::DisplayFrom => pb::SortKey::SortDisplayfrom,
                    SortKey::DisplayTo => pb::SortKey::SortDisplayto,
                } as i32,
                reverse: c.reverse,
            })
            .collect();
        let req = pb::SortRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            sort,
            criteria: Some(search_key(criteria)),
        };
        let r = self
            .unary(dir, req, |mut c, r| async move { c.sort(r).await })
            .await?;
        Ok(r.uids)
    }

    async fn thread(
        &self,
        dir: &str,
        folder: u64,
        algorithm: ThreadAlgorithm,
        criteria: SearchKey,
    ) -> Result<Vec<ThreadTree>, BackendError> {
        let algorithm = match algorithm {
            ThreadAlgorithm::References => pb::ThreadAlgorithm::ThreadReferences,
            ThreadAlgorithm::OrderedSubject => pb::ThreadAlgorithm::ThreadOrderedsubject,
        };
        let req = pb::ThreadRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            algorithm: algorithm as i32,
            criteria: Some(search_key(criteria)),
        };
        let r = self
            .unary(dir, req, |mut c, r| async move { c.thread(r).await })
            .await?;
        Ok(thread_trees(r.threads))
    }

    async fn changes(
        &self,
        dir: &str,
        folder: u64,
        since: u64,
        vanished: bool,
    ) -> Result<BackendStream<ChangesChunk>, BackendError> {
        let req = pb::ChangesRequest {
            dir: dir.to_owned(),
            folder_id: folder,
            since_modseq: since,
            vanished,
        };
        self.streaming(
            dir,
            req,
            |mut c, r| async move { c.changes(r).await },
            changes_chunk,
        )
        .await
    }

    async fn quota(&self, dir: &str) -> Result<Quota, BackendError> {
        let req = pb::GetQuotaRequest {
            dir: dir.to_owned(),
        };
        let q = self
            .unary(dir, req, |mut c, r| async move { c.get_quota(r).await })
            .await?;
        Ok(Quota {
            used_bytes: q.used_bytes,
            limit_bytes: q.limit_bytes,
            messages: q.messages,
            message_limit: q.message_limit,
        })
    }

    async fn watch(&self, dir: &str) -> Result<EventWatch, BackendError> {
        self.events.watch(dir).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_thread_replies_convert_without_recursion() {
        let mut node = pb::ThreadNode {
            uid: 50_000,
            children: Vec::new(),
        };
        for uid in (1..50_000).rev() {
            node = pb::ThreadNode {
                uid,
                children: vec![node],
            };
        }
        let trees = thread_trees(vec![node]);
        assert_eq!(trees.len(), 1);
        assert_eq!(trees[0].uid, 1);
        assert_eq!(trees[0].children[0].uid, 2);
    }

    #[test]
    fn midb_reasons_become_imap_conditions() {
        use groxide_rpc::reason::status;
        use tonic::Code;
        let check = |s: tonic::Status, e: BackendError| assert_eq!(status_error(&s), e);
        check(
            status(Code::NotFound, Reason::NoSuchFolder, "x"),
            BackendError::NoSuchMailbox,
        );
        check(
            status(Code::ResourceExhausted, Reason::QuotaExceeded, "x"),
            BackendError::OverQuota,
        );
        check(
            status(Code::InvalidArgument, Reason::TooLarge, "x"),
            BackendError::TooBig,
        );
        check(
            status(
                Code::FailedPrecondition,
                Reason::NotPermitted,
                "UNKNOWN-CTE: x",
            ),
            BackendError::UnknownCte,
        );
        check(
            tonic::Status::unavailable("down"),
            BackendError::Unavailable("down".into()),
        );
    }
}
