//! [`MailboxWriter`] over groxide-exmdb: the routed client finds the node
//! that is the store's home (a stale route heals on STORE_NOT_HERE), and the
//! message is streamed to its InsertMessage call — a header, the trace
//! prefix and the spool file in chunks of at most 64 KiB, and a trailer with
//! the byte count (a stream without it stores nothing). The reply comes only
//! after the store committed durably.

use crate::mailbox_writer::{DeliveryOutcome, DeliveryRequest, MailboxWriter, TargetFolder};
use crate::spool::SpoolReader;
use futures_util::stream::{self, Stream};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::pb::exmdb::v1::exmdb_client::ExmdbClient;
use groxide_rpc::reason::{Reason, reason_of};
use groxide_rpc::{RoutedClient, RpcError};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;

/// Largest chunk of an InsertMessage stream (the contract's limit); spool
/// pieces are no larger.
pub const INSERT_CHUNK: usize = 64 * 1024;
const _: () = assert!(crate::spool::SPOOL_CHUNK <= INSERT_CHUNK);

/// Delivers into stores through exmdb.
pub struct ExmdbMailboxes {
    client: Arc<RoutedClient>,
}

impl ExmdbMailboxes {
    /// A writer over a routed exmdb client.
    pub fn new(client: Arc<RoutedClient>) -> ExmdbMailboxes {
        ExmdbMailboxes { client }
    }

    /// The routed client (to reset on SIGHUP).
    pub fn client(&self) -> &Arc<RoutedClient> {
        &self.client
    }
}

/// The exmdb folder role of a target folder.
fn role(folder: TargetFolder) -> &'static str {
    match folder {
        TargetFolder::Inbox => "inbox",
        TargetFolder::Junk => "junk",
    }
}

/// Where the insert stream stands.
enum Part {
    Header(pb::InsertHeader),
    Prefix,
    File(SpoolReader),
    Done,
}

/// The state of an insert stream between two items.
struct Feed {
    part: Part,
    prefix: Arc<[u8]>,
    reader: Option<SpoolReader>,
    path: PathBuf,
    /// Bytes sent in chunks so far.
    sent: u64,
    /// What must be sent in all: prefix + spool file.
    expected: u64,
    failed: Arc<Notify>,
}

/// A read problem: reported through `failed`, and the stream stays open
/// (never ends) until the caller drops the call, which cancels it on the
/// server — a stream without its trailer stores nothing.
async fn broken(feed: &Feed, what: &str) -> Option<(pb::InsertMessageRequest, Feed)> {
    tracing::error!(path = %feed.path.display(), "{what}");
    feed.failed.notify_one();
    std::future::pending::<()>().await;
    None
}

fn chunk(bytes: Vec<u8>) -> pb::InsertMessageRequest {
    pb::InsertMessageRequest {
        part: Some(pb::insert_message_request::Part::Chunk(bytes)),
    }
}

/// The request stream: header, prefix, the file in chunks, the trailer.
fn insert_stream(
    header: pb::InsertHeader,
    prefix: Arc<[u8]>,
    reader: SpoolReader,
    path: PathBuf,
    expected: u64,
    failed: Arc<Notify>,
) -> impl Stream<Item = pb::InsertMessageRequest> + Send + 'static {
    let feed = Feed {
        part: Part::Header(header),
        prefix,
        reader: Some(reader),
        path,
        sent: 0,
        expected,
        failed,
    };
    stream::unfold(feed, |mut feed| async move {
        match std::mem::replace(&mut feed.part, Part::Done) {
            Part::Header(h) => {
                feed.part = Part::Prefix;
                let item = pb::InsertMessageRequest {
                    part: Some(pb::insert_message_request::Part::Header(h)),
                };
                Some((item, feed))
            }
            Part::Prefix => {
                feed.part = Part::File(feed.reader.take()?);
                feed.sent += feed.prefix.len() as u64;
                let item = chunk(feed.prefix.to_vec());
                Some((item, feed))
            }
            Part::File(mut reader) => match reader.next_piece().await {
                Ok(Some(piece)) => {
                    feed.sent += piece.len() as u64;
                    feed.part = Part::File(reader);
                    Some((chunk(piece), feed))
                }
                Ok(None) => next_trailer(feed).await,
                Err(e) => broken(&feed, &format!("cannot read the spool file: {e}")).await,
            },
            Part::Done => None,
        }
    })
}

/// The trailer, once the bytes sent are exactly what the spool holds.
async fn next_trailer(mut feed: Feed) -> Option<(pb::InsertMessageRequest, Feed)> {
    if feed.sent != feed.expected {
        let what = format!(
            "the spool file changed: {} bytes sent, {} expected",
            feed.sent, feed.expected
        );
        return broken(&feed, &what).await;
    }
    feed.part = Part::Done;
    let item = pb::InsertMessageRequest {
        part: Some(pb::insert_message_request::Part::Trailer(
            pb::InsertTrailer { size: feed.sent },
        )),
    };
    Some((item, feed))
}

/// What an RPC failure means for the recipient.
fn outcome_of(error: RpcError) -> DeliveryOutcome {
    if let RpcError::Status { status, .. } = &error {
        match reason_of(status) {
            Some(Reason::QuotaExceeded) => return DeliveryOutcome::OverQuota,
            Some(Reason::TooLarge) => return DeliveryOutcome::TooLarge,
            _ => {}
        }
    }
    DeliveryOutcome::TemporaryFailure(error.to_string())
}

impl MailboxWriter for ExmdbMailboxes {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryOutcome {
        let dir = request.mailbox.dir.clone();
        let header = pb::InsertHeader {
            dir: dir.clone(),
            folder: Some(pb::FolderSelector {
                folder: Some(pb::folder_selector::Folder::Role(
                    role(request.folder).to_string(),
                )),
            }),
            flags: 0,
            keywords: Vec::new(),
            internal_date: 0,
            expected_size: request.stored_len(),
        };
        let prefix: Arc<[u8]> = Arc::from(request.trace_prefix);
        let path = request.message.path().to_path_buf();
        let message = request.message;
        let failed = Arc::new(Notify::new());
        let expected = request.stored_len();
        let timeout = self.client.request_timeout();
        let call = self.client.call(&dir, |channel| {
            let stream = insert_stream(
                header.clone(),
                prefix.clone(),
                message.reader(),
                path.clone(),
                expected,
                failed.clone(),
            );
            async move {
                let mut client = ExmdbClient::new(channel);
                let mut req = tonic::Request::new(stream);
                req.set_timeout(timeout);
                client
                    .insert_message(req)
                    .await
                    .map(tonic::Response::into_inner)
            }
        });
        tokio::select! {
            result = call => match result {
                Ok(reply) => DeliveryOutcome::Delivered {
                    id: format!("uid {} in folder {}", reply.uid, reply.folder_id),
                },
                Err(e) => outcome_of(e),
            },
            // Dropping the call cancels the stream: the store keeps nothing.
            _ = failed.notified() => DeliveryOutcome::TemporaryFailure(
                "the spool file could not be read".into(),
            ),
        }
    }
}
