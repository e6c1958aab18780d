//! The view as the mailbox view contract: what imap, pop3 and midb's RPC
//! service call.

use super::StoreView;
use crate::writes::StoreWrites;
use bytes::Bytes;
use groxide_mailview::{
    AppendRequest, AppendUpload, Appended, ChangeBatch, Copied, ExpungeScope, Expunged, FlagChange,
    FlagUpdate, FolderId, MailboxEntry, MailboxStatus, MailboxView, MessageEntry, MessageMetadata,
    MetadataRequest, ModSeq, Quota, SearchKey, SearchResult, SectionChunk, SectionRequest,
    SortCriterion, SpecialUse, ThreadAlgorithm, ThreadTree, Uid, UidSet, ViewError, ViewStream,
};
use tokio::sync::{mpsc, oneshot};

/// Chunks of an APPEND queued toward the writer (backpressure beyond that).
const APPEND_QUEUE: usize = 4;

/// An APPEND into a store of this node: the chunks feed the writer's
/// insert as they arrive; nothing is stored unless [`AppendUpload::finish`]
/// completes.
pub struct LocalUpload {
    chunks: Option<mpsc::Sender<Piece>>,
    result: oneshot::Receiver<Result<Appended, ViewError>>,
    task: tokio::task::AbortHandle,
}

/// What an upload hands the writer's insert.
enum Piece {
    Data(Bytes),
    /// The last byte was sent: the insert may commit.
    End,
}

/// The message's bytes as the writer reads them: they end cleanly only at
/// [`Piece::End`]; a channel closed without it (the upload dropped, the
/// client gone mid-literal) ends in an error, so nothing is stored.
fn body(rx: mpsc::Receiver<Piece>) -> crate::writes::ByteStream {
    futures_util::StreamExt::boxed(futures_util::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Piece::Data(b)) => Some((Ok(b), Some(rx))),
            Some(Piece::End) => None,
            None => Some((
                Err(ViewError::Internal("the APPEND was abandoned".into())),
                None,
            )),
        }
    }))
}

impl Drop for LocalUpload {
    fn drop(&mut self) {
        if self.chunks.is_some() {
            // Abandoned: the body ends in an error (see `body`); cancelling
            // the insert too frees it at once.
            self.task.abort();
        }
    }
}

impl AppendUpload for LocalUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), ViewError> {
        let Some(tx) = &self.chunks else {
            return Err(ViewError::Internal("APPEND already finished".into()));
        };
        if tx.send(Piece::Data(chunk)).await.is_err() {
            // The writer stopped early: its answer says why.
            self.chunks = None;
            return Err(match (&mut self.result).await {
                Ok(Err(e)) => e,
                _ => ViewError::Unavailable("the store stopped taking the message".into()),
            });
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<Appended, ViewError> {
        // The end marker lets the writer commit; then it answers.
        if let Some(tx) = self.chunks.take()
            && tx.send(Piece::End).await.is_err()
        {
            // The writer stopped already: its answer says why.
        }
        (&mut self.result)
            .await
            .unwrap_or_else(|_| Err(ViewError::Internal("the APPEND task ended".into())))
    }
}

impl<W: StoreWrites> MailboxView for StoreView<W> {
    type Upload = LocalUpload;

    async fn list_mailboxes(&self, dir: &str) -> Result<Vec<MailboxEntry>, ViewError> {
        Ok(StoreView::list_mailboxes(self, dir).await?)
    }

    async fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<(FolderId, u32), ViewError> {
        Ok(StoreView::create_mailbox(self, dir, name, special_use).await?)
    }

    async fn delete_mailbox(&self, dir: &str, name: &str) -> Result<(), ViewError> {
        Ok(StoreView::delete_mailbox(self, dir, name).await?)
    }

    async fn rename_mailbox(&self, dir: &str, from: &str, to: &str) -> Result<(), ViewError> {
        Ok(StoreView::rename_mailbox(self, dir, from, to).await?)
    }

    async fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> Result<(), ViewError> {
        Ok(StoreView::set_subscription(self, dir, name, subscribed).await?)
    }

    async fn mailbox_status(&self, dir: &str, name: &str) -> Result<MailboxStatus, ViewError> {
        Ok(StoreView::mailbox_status(self, dir, name).await?)
    }

    async fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
    ) -> Result<ViewStream<Vec<MessageEntry>>, ViewError> {
        Ok(StoreView::list_messages(self, dir, folder, uids).await?)
    }

    async fn fetch_metadata(
        &self,
        dir: &str,
        folder: FolderId,
        request: MetadataRequest,
    ) -> Result<ViewStream<MessageMetadata>, ViewError> {
        Ok(StoreView::fetch_metadata(self, dir, folder, request).await?)
    }

    async fn fetch_section(
        &self,
        dir: &str,
        folder: FolderId,
        request: SectionRequest,
    ) -> Result<ViewStream<SectionChunk>, ViewError> {
        Ok(StoreView::fetch_section(self, dir, folder, request).await?)
    }

    async fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        change: FlagChange,
    ) -> Result<FlagUpdate, ViewError> {
        Ok(StoreView::store_flags(self, dir, folder, &uids, &change).await?)
    }

    async fn begin_append(
        &self,
        dir: &str,
        request: AppendRequest,
    ) -> Result<LocalUpload, ViewError> {
        let meta = self.append_meta(dir, &request).await?;
        let (tx, rx) = mpsc::channel(APPEND_QUEUE);
        let (done_tx, done_rx) = oneshot::channel();
        let writes = self.writes().clone();
        let dir = dir.to_owned();
        let task = tokio::spawn(async move {
            let r = writes.append(&dir, meta, body(rx)).await;
            let _ = done_tx.send(r);
        });
        Ok(LocalUpload {
            chunks: Some(tx),
            result: done_rx,
            task: task.abort_handle(),
        })
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        target: &str,
        remove: bool,
    ) -> Result<Copied, ViewError> {
        Ok(StoreView::copy_messages(self, dir, folder, &uids, target, remove).await?)
    }

    async fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        which: ExpungeScope,
    ) -> Result<Expunged, ViewError> {
        Ok(StoreView::expunge(self, dir, folder, &which).await?)
    }

    async fn search(
        &self,
        dir: &str,
        folder: FolderId,
        criteria: SearchKey,
    ) -> Result<SearchResult, ViewError> {
        Ok(StoreView::search(self, dir, folder, criteria).await?)
    }

    async fn sort(
        &self,
        dir: &str,
        folder: FolderId,
        order: Vec<SortCriterion>,
        criteria: SearchKey,
    ) -> Result<Vec<Uid>, ViewError> {
        Ok(StoreView::sort(self, dir, folder, &order, criteria).await?)
    }

    async fn thread(
        &self,
        dir: &str,
        folder: FolderId,
        algorithm: ThreadAlgorithm,
        criteria: SearchKey,
    ) -> Result<Vec<ThreadTree>, ViewError> {
        Ok(StoreView::thread(self, dir, folder, algorithm, criteria).await?)
    }

    async fn changes(
        &self,
        dir: &str,
        folder: FolderId,
        since: ModSeq,
        vanished: bool,
    ) -> Result<ViewStream<ChangeBatch>, ViewError> {
        Ok(StoreView::changes(self, dir, folder, since, vanished).await?)
    }

    async fn quota(&self, dir: &str) -> Result<Quota, ViewError> {
        Ok(StoreView::quota(self, dir).await?)
    }

    async fn claim_recent(
        &self,
        dir: &str,
        folder: FolderId,
        claim_up_to: Option<Uid>,
    ) -> Result<Uid, ViewError> {
        Ok(StoreView::claim_recent(self, dir, folder, claim_up_to).await?)
    }
}
