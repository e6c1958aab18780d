//! Writes passed through to the store: STORE, APPEND, COPY/MOVE, EXPUNGE;
//! and quota. midb adds only name resolution and IMAP's `*` rule.

use super::StoreView;
use crate::error::MidbError;
use crate::store::{
    AppendMeta, Appended, Copied, Expunged, FlagChange, FlagUpdate, FolderId, Quota, Store,
    StoreError, StoreStream, UidSet,
};
use bytes::Bytes;
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

impl<S: Store> StoreView<S> {
    /// STORE flags and keywords.
    pub async fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        change: &FlagChange,
    ) -> Result<FlagUpdate, MidbError> {
        let uids = self.resolve_star(dir, folder, uids).await?;
        Ok(self.store().store_flags(dir, folder, &uids, change).await?)
    }

    /// APPEND to the mailbox `mailbox`; `body` is streamed to the store as
    /// it arrives, and must be exactly `size` bytes long (0: not checked).
    pub async fn append(
        &self,
        dir: &str,
        mailbox: &str,
        mut meta: AppendMeta,
        body: StoreStream<Bytes>,
    ) -> Result<Appended, MidbError> {
        meta.folder = self.folder_of(dir, mailbox).await?;
        let announced = meta.size;
        let seen = Arc::new(AtomicU64::new(0));
        let counted = seen.clone();
        let checked = body
            .map(move |chunk| {
                let chunk = chunk?;
                let n =
                    counted.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
                if announced > 0 && n > announced {
                    return Err(StoreError::TooLarge(format!(
                        "more than the announced {announced} bytes"
                    )));
                }
                Ok(chunk)
            })
            .chain(futures_util::stream::once(async move {
                let n = seen.load(Ordering::Relaxed);
                if announced > 0 && n != announced {
                    return Err(StoreError::Other(format!(
                        "message ended after {n} of the announced {announced} bytes"
                    )));
                }
                Ok(Bytes::new())
            }))
            .filter(|r| futures_util::future::ready(!matches!(r, Ok(b) if b.is_empty())))
            .boxed();
        let result = self.store().append(dir, meta, checked).await?;
        Ok(result)
    }

    /// COPY or MOVE to the mailbox `target`.
    pub async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        target: &str,
        remove_source: bool,
    ) -> Result<Copied, MidbError> {
        let target = self.folder_of(dir, target).await?;
        let uids = self.resolve_star(dir, folder, uids).await?;
        Ok(self
            .store()
            .copy_messages(dir, folder, &uids, target, remove_source)
            .await?)
    }

    /// EXPUNGE (all `\Deleted`), UID EXPUNGE (those of `uids`), or POP3's
    /// unconditional removal of `uids`.
    pub async fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        uids: Option<&UidSet>,
        unconditional: bool,
    ) -> Result<Expunged, MidbError> {
        if unconditional && uids.is_none() {
            return Err(MidbError::Invalid(
                "an unconditional expunge must name its UIDs".into(),
            ));
        }
        let uids = match uids {
            Some(u) => Some(self.resolve_star(dir, folder, u).await?),
            None => None,
        };
        Ok(self
            .store()
            .expunge(dir, folder, uids.as_ref(), unconditional)
            .await?)
    }

    /// Quota usage of the store.
    pub async fn quota(&self, dir: &str) -> Result<Quota, MidbError> {
        Ok(self.store().quota(dir).await?)
    }
}
