//! `\Recent` (RFC 3501 §2.3.2): per folder, the highest UID a session has
//! claimed, kept in midb.sqlite3 beside the digests. Every process that
//! reads a store on its home node (groxide-imap in-process, groxide-midb
//! for other nodes' sessions) shares that file, and a claim is one
//! immediate transaction, so exactly one session sees a message as recent.
//! It is soft state: a deleted or rebuilt midb.sqlite3 starts again at the
//! folder's highest UID, so nothing is recent once and nothing else is lost.

use super::StoreView;
use crate::error::MidbError;
use crate::open_stores::OpenStore;
use crate::writes::StoreWrites;
use groxide_mailview::{FolderId, Uid};

impl<W: StoreWrites> StoreView<W> {
    /// See [`groxide_mailview::MailboxView::claim_recent`].
    pub async fn claim_recent(
        &self,
        dir: &str,
        folder: FolderId,
        claim_up_to: Option<Uid>,
    ) -> Result<Uid, MidbError> {
        let open = self.open(dir).await?;
        Self::recent_marker(&open, folder, claim_up_to)
    }

    /// The marker of `folder`, raised to `claim_up_to` when given.
    pub(crate) fn recent_marker(
        open: &OpenStore,
        folder: FolderId,
        claim_up_to: Option<Uid>,
    ) -> Result<Uid, MidbError> {
        let (f, st) = open
            .reader()
            .folder_with_imap_status(groxide_store::FolderId(folder))?;
        Self::with_db(open, |db| {
            db.claim_recent(folder, f.uidvalidity.0, st.highest_uid, claim_up_to)
        })
    }
}
