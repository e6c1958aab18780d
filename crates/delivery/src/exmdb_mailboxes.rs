//! [`MailboxWriter`] over groxide-exmdb: the routed client finds the node
//! that is the store's home, and the message streams to its InsertMessage
//! call (the trace prefix, then the spool file; the client cuts the chunks
//! and adds the trailer that tells exmdb the message is complete). The reply
//! comes only after the store committed durably. A stale route heals on
//! STORE_NOT_HERE and the message is sent once more to the store's owner
//! (the spool file can be read again).

use crate::mailbox_writer::{DeliveryOutcome, DeliveryRequest, MailboxWriter, TargetFolder};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, Stream};
use groxide_rpc::RpcError;
use groxide_rpc::exmdb_client::{ExmdbClient, InsertError, folder_role};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::{Reason, reason_of};
use std::sync::Arc;

/// Delivers into stores through exmdb.
pub struct ExmdbMailboxes {
    client: Arc<ExmdbClient>,
}

impl ExmdbMailboxes {
    /// A writer over a routed exmdb client.
    pub fn new(client: Arc<ExmdbClient>) -> ExmdbMailboxes {
        ExmdbMailboxes { client }
    }

    /// The client (to reset on SIGHUP).
    pub fn client(&self) -> &Arc<ExmdbClient> {
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

/// The stored bytes: the trace prefix, the spool file piece by piece, and a
/// check that exactly `expected` bytes went out (an error item ends the
/// insert without its trailer, so exmdb stores nothing).
fn body(
    prefix: Bytes,
    reader: crate::spool::SpoolReader,
    expected: u64,
) -> impl Stream<Item = Result<Bytes, String>> + Send + 'static {
    let start = prefix.len() as u64;
    let file = stream::unfold(Some((reader, start)), move |state| async move {
        let (mut reader, mut sent) = state?;
        match reader.next_piece().await {
            Ok(Some(piece)) => {
                sent += piece.len() as u64;
                Some((Ok(Bytes::from(piece)), Some((reader, sent))))
            }
            Ok(None) if sent == expected => None,
            Ok(None) => Some((
                Err(format!(
                    "the spool file changed: {sent} bytes sent, {expected} expected"
                )),
                None,
            )),
            Err(e) => Some((Err(format!("cannot read the spool file: {e}")), None)),
        }
    });
    stream::iter([Ok(prefix)]).chain(file)
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
        let header = pb::InsertHeader {
            dir: request.mailbox.dir.clone(),
            folder: Some(folder_role(role(request.folder))),
            flags: 0,
            keywords: Vec::new(),
            internal_date: 0,
            expected_size: request.stored_len(),
        };
        let prefix = Bytes::copy_from_slice(request.trace_prefix);
        let expected = request.stored_len();
        let timeout = Some(self.client.routed().request_timeout());
        let mut healed = false;
        loop {
            let stream = body(prefix.clone(), request.message.reader(), expected);
            match self
                .client
                .insert_message_stream(header.clone(), stream, timeout)
                .await
            {
                Ok(reply) => {
                    return DeliveryOutcome::Delivered {
                        id: format!("uid {} in folder {}", reply.uid, reply.folder_id),
                        message_id: Some(reply.message_id),
                    };
                }
                Err(InsertError::Body(what)) => {
                    tracing::error!(path = %request.message.path().display(), "{what}");
                    return DeliveryOutcome::TemporaryFailure(
                        "the spool file could not be read".into(),
                    );
                }
                Err(InsertError::Rpc(e)) => {
                    // The client healed the route; the spool can be sent again.
                    if !healed && e.reason() == Some(Reason::StoreNotHere) {
                        healed = true;
                        continue;
                    }
                    return outcome_of(e);
                }
            }
        }
    }
}
