//! [`RoutedView`]: the mailbox view of any store, wherever it lives. A
//! store homed on this node is served in-process by the [`StoreView`]
//! (no RPC: its files are read here, writes go to this node's exmdb); a
//! store homed on another node goes to that node's groxide-midb
//! ([`RemoteView`]). The directory's homeserver and midb_list.txt decide
//! (the routing every caller uses), so a failover moves a user's traffic
//! at the next SIGHUP.

use crate::view::{LocalUpload, StoreView};
use crate::writes::StoreWrites;
use bytes::Bytes;
use groxide_mailview::{
    AppendRequest, AppendUpload, Appended, ChangeBatch, Copied, ExpungeScope, Expunged, FlagChange,
    FlagUpdate, FolderId, MailboxEntry, MailboxStatus, MailboxView, MessageEntry, MessageMetadata,
    MetadataRequest, ModSeq, Quota, SearchKey, SearchResult, SectionChunk, SectionRequest,
    SortCriterion, SpecialUse, ThreadAlgorithm, ThreadTree, Uid, UidSet, ViewError, ViewStream,
};
use groxide_routing::Resolver;
use groxide_rpc::midb_view::{RemoteUpload, RemoteView};
use std::sync::Arc;

/// The view of every store: in-process for this node's, RPC for others'.
pub struct RoutedView<W> {
    local: StoreView<W>,
    remote: RemoteView,
    home: Arc<Resolver>,
    in_process: bool,
}

impl<W: StoreWrites> RoutedView<W> {
    /// A view serving the stores `home` routes to this node with `local`
    /// (when `in_process`; otherwise through this node's midb like every
    /// other store) and the others through `remote`.
    pub fn new(
        local: StoreView<W>,
        remote: RemoteView,
        home: Arc<Resolver>,
        in_process: bool,
    ) -> RoutedView<W> {
        RoutedView {
            local,
            remote,
            home,
            in_process,
        }
    }

    /// The in-process view.
    pub fn local(&self) -> &StoreView<W> {
        &self.local
    }

    /// The remote view (its routed client resets on SIGHUP).
    pub fn remote(&self) -> &RemoteView {
        &self.remote
    }

    /// Whether `dir` is served here, in-process.
    async fn is_local(&self, dir: &str) -> Result<bool, ViewError> {
        if !self.in_process {
            return Ok(false);
        }
        let route = self
            .home
            .resolve(dir)
            .await
            .map_err(|e| ViewError::Unavailable(format!("cannot route store {dir}: {e}")))?;
        Ok(route.local)
    }
}

/// An APPEND in progress, here or on the store's home node.
pub enum RoutedUpload {
    /// Into a store of this node.
    Local(LocalUpload),
    /// Into a store of another node.
    Remote(RemoteUpload),
}

impl AppendUpload for RoutedUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), ViewError> {
        match self {
            RoutedUpload::Local(u) => u.write(chunk).await,
            RoutedUpload::Remote(u) => u.write(chunk).await,
        }
    }

    async fn finish(self) -> Result<Appended, ViewError> {
        match self {
            RoutedUpload::Local(u) => u.finish().await,
            RoutedUpload::Remote(u) => u.finish().await,
        }
    }
}

/// Runs the same call on whichever view serves `dir`.
macro_rules! route {
    ($self:ident, $dir:expr, $view:ident => $call:expr) => {
        if $self.is_local($dir).await? {
            let $view = &$self.local;
            $call.await
        } else {
            let $view = &$self.remote;
            $call.await
        }
    };
}

impl<W: StoreWrites> MailboxView for RoutedView<W> {
    type Upload = RoutedUpload;

    async fn list_mailboxes(&self, dir: &str) -> Result<Vec<MailboxEntry>, ViewError> {
        route!(self, dir, v => MailboxView::list_mailboxes(v, dir))
    }

    async fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<(FolderId, u32), ViewError> {
        route!(self, dir, v => MailboxView::create_mailbox(v, dir, name, special_use))
    }

    async fn delete_mailbox(&self, dir: &str, name: &str) -> Result<(), ViewError> {
        route!(self, dir, v => MailboxView::delete_mailbox(v, dir, name))
    }

    async fn rename_mailbox(&self, dir: &str, from: &str, to: &str) -> Result<(), ViewError> {
        route!(self, dir, v => MailboxView::rename_mailbox(v, dir, from, to))
    }

    async fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> Result<(), ViewError> {
        route!(self, dir, v => MailboxView::set_subscription(v, dir, name, subscribed))
    }

    async fn mailbox_status(&self, dir: &str, name: &str) -> Result<MailboxStatus, ViewError> {
        route!(self, dir, v => MailboxView::mailbox_status(v, dir, name))
    }

    async fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
    ) -> Result<ViewStream<Vec<MessageEntry>>, ViewError> {
        route!(self, dir, v => MailboxView::list_messages(v, dir, folder, uids))
    }

    async fn fetch_metadata(
        &self,
        dir: &str,
        folder: FolderId,
        request: MetadataRequest,
    ) -> Result<ViewStream<MessageMetadata>, ViewError> {
        route!(self, dir, v => MailboxView::fetch_metadata(v, dir, folder, request))
    }

    async fn fetch_section(
        &self,
        dir: &str,
        folder: FolderId,
        request: SectionRequest,
    ) -> Result<ViewStream<SectionChunk>, ViewError> {
        route!(self, dir, v => MailboxView::fetch_section(v, dir, folder, request))
    }

    async fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        change: FlagChange,
    ) -> Result<FlagUpdate, ViewError> {
        route!(self, dir, v => MailboxView::store_flags(v, dir, folder, uids, change))
    }

    async fn begin_append(
        &self,
        dir: &str,
        request: AppendRequest,
    ) -> Result<RoutedUpload, ViewError> {
        if self.is_local(dir).await? {
            Ok(RoutedUpload::Local(
                MailboxView::begin_append(&self.local, dir, request).await?,
            ))
        } else {
            Ok(RoutedUpload::Remote(
                MailboxView::begin_append(&self.remote, dir, request).await?,
            ))
        }
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        target: &str,
        remove: bool,
    ) -> Result<Copied, ViewError> {
        route!(self, dir, v => MailboxView::copy_messages(v, dir, folder, uids, target, remove))
    }

    async fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        which: ExpungeScope,
    ) -> Result<Expunged, ViewError> {
        route!(self, dir, v => MailboxView::expunge(v, dir, folder, which))
    }

    async fn search(
        &self,
        dir: &str,
        folder: FolderId,
        criteria: SearchKey,
    ) -> Result<SearchResult, ViewError> {
        route!(self, dir, v => MailboxView::search(v, dir, folder, criteria))
    }

    async fn sort(
        &self,
        dir: &str,
        folder: FolderId,
        order: Vec<SortCriterion>,
        criteria: SearchKey,
    ) -> Result<Vec<Uid>, ViewError> {
        route!(self, dir, v => MailboxView::sort(v, dir, folder, order, criteria))
    }

    async fn thread(
        &self,
        dir: &str,
        folder: FolderId,
        algorithm: ThreadAlgorithm,
        criteria: SearchKey,
    ) -> Result<Vec<ThreadTree>, ViewError> {
        route!(self, dir, v => MailboxView::thread(v, dir, folder, algorithm, criteria))
    }

    async fn changes(
        &self,
        dir: &str,
        folder: FolderId,
        since: ModSeq,
        vanished: bool,
    ) -> Result<ViewStream<ChangeBatch>, ViewError> {
        route!(self, dir, v => MailboxView::changes(v, dir, folder, since, vanished))
    }

    async fn quota(&self, dir: &str) -> Result<Quota, ViewError> {
        route!(self, dir, v => MailboxView::quota(v, dir))
    }

    async fn claim_recent(
        &self,
        dir: &str,
        folder: FolderId,
        claim_up_to: Option<Uid>,
    ) -> Result<Uid, ViewError> {
        route!(self, dir, v => MailboxView::claim_recent(v, dir, folder, claim_up_to))
    }
}
