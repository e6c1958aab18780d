//! The INBOX through groxide-midb, wherever the mailbox lives (the routed
//! client follows midb_list.txt and the directory's homeserver).
//!
//! UIDL is `<UIDVALIDITY>.<UID>`: both come from the store, so the id stays
//! the same across sessions, restarts and a rebuilt midb.sqlite3.

use crate::maildrop::{MaildropError, MaildropMessage, MaildropUpdate};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use groxide_rpc::pb::midb::v1 as pb;
use groxide_rpc::pb::midb::v1::midb_client::MidbClient;
use groxide_rpc::reason::Reason;
use groxide_rpc::{RoutedClient, RpcError};
use std::sync::Arc;
use tonic::transport::Channel;

/// Largest gRPC message accepted from midb.
const MAX_RPC_MESSAGE: usize = 16 * 1024 * 1024;

fn client(ch: Channel) -> MidbClient<Channel> {
    MidbClient::new(ch).max_decoding_message_size(MAX_RPC_MESSAGE)
}

fn maildrop_error(e: RpcError) -> MaildropError {
    match e.reason() {
        Some(Reason::NoSuchMessage) => MaildropError::Gone,
        _ => MaildropError::Unavailable(e.to_string()),
    }
}

/// Largest message read ahead (the next message after a RETR).
const READ_AHEAD_MAX: u64 = 1024 * 1024;

/// A user's INBOX served by midb.
pub struct MidbMaildrop {
    midb: Arc<RoutedClient>,
    dir: String,
    folder: u64,
    uidvalidity: u32,
    /// (UID, size) of the snapshot, ascending.
    order: Vec<(u32, u64)>,
    ahead: Option<ReadAhead>,
}

/// The next message, fetched while the client reads the current one:
/// clients RETR in order, so the midb round trip is hidden.
struct ReadAhead {
    uid: u32,
    task: tokio::task::JoinHandle<Result<Vec<Bytes>, MaildropError>>,
}

impl Drop for MidbMaildrop {
    fn drop(&mut self) {
        if let Some(a) = self.ahead.take() {
            a.task.abort();
        }
    }
}

/// FetchSection of a whole message, without setting \Seen.
async fn fetch(
    midb: Arc<RoutedClient>,
    dir: String,
    folder: u64,
    uid: u32,
) -> Result<BoxStream<'static, Result<Bytes, MaildropError>>, MaildropError> {
    let req = pb::FetchSectionRequest {
        dir: dir.clone(),
        folder_id: folder,
        uid,
        ..Default::default()
    };
    let mut stream = midb
        .call_idempotent(&dir, |ch| {
            let req = req.clone();
            async move {
                client(ch)
                    .fetch_section(req)
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
        .await
        .map_err(maildrop_error)?;
    // The first chunk tells whether the message is there at all.
    let first = match stream.message().await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(MaildropError::Gone),
        Err(s) => {
            return Err(match groxide_rpc::reason::reason_of(&s) {
                Some(Reason::NoSuchMessage) => MaildropError::Gone,
                _ => MaildropError::Unavailable(s.message().to_owned()),
            });
        }
    };
    let head = futures_util::stream::iter([Ok(Bytes::from(first.data))]);
    let rest = stream.map(|r| {
        r.map(|c| Bytes::from(c.data))
            .map_err(|s| MaildropError::Unavailable(s.message().to_owned()))
    });
    Ok(head.chain(rest).boxed())
}

fn ranges(uids: &[u32]) -> Vec<pb::UidRange> {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<pb::UidRange> = Vec::new();
    for u in sorted {
        match out.last_mut() {
            Some(r) if r.last.checked_add(1) == Some(u) => r.last = u,
            _ => out.push(pb::UidRange { first: u, last: u }),
        }
    }
    out
}

impl MidbMaildrop {
    /// Opens the INBOX of the store at `dir`.
    pub async fn open(midb: Arc<RoutedClient>, dir: &str) -> Result<MidbMaildrop, MaildropError> {
        let req = pb::MailboxStatusRequest {
            dir: dir.to_owned(),
            name: "INBOX".to_owned(),
        };
        let timeout = midb.request_timeout();
        let status = midb
            .call_idempotent(dir, |ch| {
                let mut r = tonic::Request::new(req.clone());
                r.set_timeout(timeout);
                async move {
                    client(ch)
                        .mailbox_status(r)
                        .await
                        .map(tonic::Response::into_inner)
                }
            })
            .await
            .map_err(|e| MaildropError::Unavailable(e.to_string()))?;
        Ok(MidbMaildrop {
            midb,
            dir: dir.to_owned(),
            folder: status.folder_id,
            uidvalidity: status.uidvalidity,
            order: Vec::new(),
            ahead: None,
        })
    }

    /// Starts fetching the message after `uid` in the snapshot, if small.
    fn read_ahead_after(&mut self, uid: u32) {
        let i = self.order.partition_point(|(u, _)| *u <= uid);
        let Some(&(next, size)) = self.order.get(i) else {
            return;
        };
        if size > READ_AHEAD_MAX {
            return;
        }
        let (midb, dir, folder) = (self.midb.clone(), self.dir.clone(), self.folder);
        let task = tokio::spawn(async move {
            let mut body = fetch(midb, dir, folder, next).await?;
            let mut chunks = Vec::new();
            let mut total = 0u64;
            while let Some(c) = body.try_next().await? {
                total += c.len() as u64;
                if total > READ_AHEAD_MAX {
                    return Err(MaildropError::Unavailable("larger than listed".into()));
                }
                chunks.push(c);
            }
            Ok(chunks)
        });
        self.ahead = Some(ReadAhead { uid: next, task });
    }

    /// The UIDL of a UID.
    pub fn uidl(&self, uid: u32) -> String {
        format!("{}.{}", self.uidvalidity, uid)
    }
}

impl crate::maildrop::Maildrop for MidbMaildrop {
    async fn messages(&mut self) -> Result<Vec<MaildropMessage>, MaildropError> {
        let req = pb::ListMessagesRequest {
            dir: self.dir.clone(),
            folder_id: self.folder,
            uids: Vec::new(),
            with_size_and_date: true,
        };
        let mut stream = self
            .midb
            .call_idempotent(&self.dir, |ch| {
                let req = req.clone();
                async move {
                    client(ch)
                        .list_messages(req)
                        .await
                        .map(tonic::Response::into_inner)
                }
            })
            .await
            .map_err(maildrop_error)?;
        let mut out = Vec::new();
        self.order.clear();
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|s| MaildropError::Unavailable(s.message().to_owned()))?
        {
            for (i, uid) in chunk.uids.iter().enumerate() {
                let size = chunk.sizes.get(i).copied().unwrap_or(0);
                out.push(MaildropMessage {
                    uid: *uid,
                    size,
                    uidl: self.uidl(*uid),
                });
                self.order.push((*uid, size));
            }
        }
        Ok(out)
    }

    async fn retrieve(
        &mut self,
        uid: u32,
        whole: bool,
    ) -> Result<BoxStream<'static, Result<Bytes, MaildropError>>, MaildropError> {
        let ready = match self.ahead.take() {
            Some(a) if a.uid == uid => a.task.await.ok().and_then(Result::ok),
            Some(a) => {
                a.task.abort();
                None
            }
            None => None,
        };
        let body = match ready {
            Some(chunks) => futures_util::stream::iter(chunks.into_iter().map(Ok)).boxed(),
            None => fetch(self.midb.clone(), self.dir.clone(), self.folder, uid).await?,
        };
        if whole {
            self.read_ahead_after(uid);
        }
        Ok(body)
    }

    async fn commit(&mut self, update: MaildropUpdate) -> Result<(), MaildropError> {
        let timeout = self.midb.request_timeout();
        if !update.seen.is_empty() {
            let req = pb::StoreFlagsRequest {
                dir: self.dir.clone(),
                folder_id: self.folder,
                uids: ranges(&update.seen),
                mode: pb::StoreMode::StoreAdd as i32,
                flags: pb::FlagBit::Seen as u32,
                ..Default::default()
            };
            self.midb
                .call_idempotent(&self.dir, |ch| {
                    let mut r = tonic::Request::new(req.clone());
                    r.set_timeout(timeout);
                    async move {
                        client(ch)
                            .store_flags(r)
                            .await
                            .map(tonic::Response::into_inner)
                    }
                })
                .await
                .map_err(maildrop_error)?;
        }
        if !update.delete.is_empty() {
            let req = pb::ExpungeRequest {
                dir: self.dir.clone(),
                folder_id: self.folder,
                uids: ranges(&update.delete),
                unconditional: true,
            };
            // Removing the same UIDs twice is harmless, so a retry is safe.
            self.midb
                .call_idempotent(&self.dir, |ch| {
                    let mut r = tonic::Request::new(req.clone());
                    r.set_timeout(timeout);
                    async move { client(ch).expunge(r).await.map(tonic::Response::into_inner) }
                })
                .await
                .map_err(maildrop_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ranges;
    use groxide_rpc::pb::midb::v1::UidRange;

    #[test]
    fn uids_are_sent_as_compact_ranges() {
        let r = |a, b| UidRange { first: a, last: b };
        assert_eq!(
            ranges(&[5, 1, 2, 3, 9, 9, 10]),
            vec![r(1, 3), r(5, 5), r(9, 10)]
        );
        assert_eq!(ranges(&[]), vec![]);
        assert_eq!(
            ranges(&[u32::MAX, u32::MAX - 1]),
            vec![r(u32::MAX - 1, u32::MAX)]
        );
    }
}
