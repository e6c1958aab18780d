//! The INBOX through the mailbox view contract: in-process for a store
//! homed on this node, through its home node's groxide-midb otherwise
//! ([`groxide_midb::RoutedView`] decides).
//!
//! UIDL is `<UIDVALIDITY>.<UID>`: both come from the store, so the id stays
//! the same across sessions, restarts and a rebuilt midb.sqlite3.

use crate::maildrop::{MaildropError, MaildropMessage, MaildropUpdate};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use groxide_mailview::{
    ExpungeScope, FlagChange, FlagMode, Flags, MailboxView, SectionRequest, UidSet, ViewError,
};
use std::sync::Arc;

/// Largest message read ahead (the next message after a RETR).
const READ_AHEAD_MAX: u64 = 1024 * 1024;

fn maildrop_error(e: ViewError) -> MaildropError {
    match e {
        ViewError::NoSuchMessage => MaildropError::Gone,
        other => MaildropError::Unavailable(other.to_string()),
    }
}

/// A user's INBOX through the view.
pub struct ViewMaildrop<V> {
    view: Arc<V>,
    dir: String,
    folder: u64,
    uidvalidity: u32,
    /// (UID, size) of the snapshot, ascending.
    order: Vec<(u32, u64)>,
    ahead: Option<ReadAhead>,
}

/// The next message, fetched while the client reads the current one:
/// clients RETR in order, so a round trip to another node is hidden.
struct ReadAhead {
    uid: u32,
    task: tokio::task::JoinHandle<Result<Vec<Bytes>, MaildropError>>,
}

impl<V> Drop for ViewMaildrop<V> {
    fn drop(&mut self) {
        if let Some(a) = self.ahead.take() {
            a.task.abort();
        }
    }
}

/// The whole message, as stored.
async fn fetch<V: MailboxView>(
    view: &V,
    dir: &str,
    folder: u64,
    uid: u32,
) -> Result<BoxStream<'static, Result<Bytes, MaildropError>>, MaildropError> {
    let stream = view
        .fetch_section(
            dir,
            folder,
            SectionRequest {
                uid,
                ..SectionRequest::default()
            },
        )
        .await
        .map_err(maildrop_error)?;
    Ok(stream
        .map(|r| r.map(|c| c.data).map_err(maildrop_error))
        .boxed())
}

impl<V: MailboxView> ViewMaildrop<V> {
    /// Opens the INBOX of the store at `dir`.
    pub async fn open(view: Arc<V>, dir: &str) -> Result<ViewMaildrop<V>, MaildropError> {
        let status = view
            .mailbox_status(dir, "INBOX")
            .await
            .map_err(|e| MaildropError::Unavailable(e.to_string()))?;
        Ok(ViewMaildrop {
            view,
            dir: dir.to_owned(),
            folder: status.folder,
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
        let (view, dir, folder) = (self.view.clone(), self.dir.clone(), self.folder);
        let task = tokio::spawn(async move {
            let mut body = fetch(&*view, &dir, folder, next).await?;
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

impl<V: MailboxView> crate::maildrop::Maildrop for ViewMaildrop<V> {
    async fn messages(&mut self) -> Result<Vec<MaildropMessage>, MaildropError> {
        let mut stream = self
            .view
            .list_messages(&self.dir, self.folder, UidSet::all())
            .await
            .map_err(maildrop_error)?;
        let mut out = Vec::new();
        self.order.clear();
        while let Some(chunk) = stream.try_next().await.map_err(maildrop_error)? {
            for m in chunk {
                out.push(MaildropMessage {
                    uid: m.uid,
                    size: m.size,
                    uidl: self.uidl(m.uid),
                });
                self.order.push((m.uid, m.size));
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
            None => fetch(&*self.view, &self.dir, self.folder, uid).await?,
        };
        if whole {
            self.read_ahead_after(uid);
        }
        Ok(body)
    }

    async fn commit(&mut self, update: MaildropUpdate) -> Result<(), MaildropError> {
        if !update.seen.is_empty() {
            self.view
                .store_flags(
                    &self.dir,
                    self.folder,
                    UidSet::from_uids(update.seen.iter().copied()),
                    FlagChange {
                        mode: FlagMode::Add,
                        flags: Flags::SEEN,
                        keywords: Vec::new(),
                        unchanged_since: 0,
                    },
                )
                .await
                .map_err(maildrop_error)?;
        }
        if !update.delete.is_empty() {
            // Removing the same UIDs twice is harmless, so a retry is safe.
            self.view
                .expunge(
                    &self.dir,
                    self.folder,
                    ExpungeScope::Outright(UidSet::from_uids(update.delete.iter().copied())),
                )
                .await
                .map_err(maildrop_error)?;
        }
        Ok(())
    }
}
