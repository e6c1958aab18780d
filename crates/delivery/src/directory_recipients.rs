//! [`RecipientResolver`] over the user directory: user, alias, `user+tag@`
//! extension and `@domain` catch-all, as groxide-directory resolves them.

use crate::recipient::{Mailbox, RecipientResolver, Resolution};
use crate::resolution_cache::ResolutionCache;
use groxide_directory::{Directory, RecipientPolicy};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Recipients from the directory, answers cached briefly.
pub struct DirectoryRecipients {
    directory: Arc<Directory>,
    policy: RwLock<RecipientPolicy>,
    cache: ResolutionCache,
}

impl DirectoryRecipients {
    /// Resolves with `delimiters` (`lda_recipient_delimiter`) starting an
    /// address extension; answers are kept for `cache_time`
    /// (`directory_cache_time`).
    pub fn new(
        directory: Arc<Directory>,
        delimiters: &str,
        cache_time: Duration,
    ) -> DirectoryRecipients {
        DirectoryRecipients {
            directory,
            policy: RwLock::new(RecipientPolicy {
                delimiters: delimiters.to_string(),
            }),
            cache: ResolutionCache::new(cache_time),
        }
    }

    /// Changes the extension delimiters (SIGHUP).
    pub fn set_delimiters(&self, delimiters: &str) {
        self.policy
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .delimiters = delimiters.to_string();
        self.cache.clear();
    }

    /// Forgets cached answers, here and in the directory (SIGHUP).
    pub fn clear_cache(&self) {
        self.cache.clear();
        self.directory.clear_cache();
    }

    /// The directory.
    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }
}

impl RecipientResolver for DirectoryRecipients {
    async fn resolve(&self, address: &str) -> Resolution {
        let miss = match self.cache.get(address, Instant::now()) {
            Ok(known) => return known,
            Err(miss) => miss,
        };
        let r = self.lookup(address).await;
        self.cache.insert(address, &r, miss, Instant::now());
        r
    }
}

impl DirectoryRecipients {
    async fn lookup(&self, address: &str) -> Resolution {
        let policy = self
            .policy
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match self.directory.resolve_recipient(address, &policy).await {
            Ok(None) => Resolution::Unknown,
            Ok(Some(r)) if !r.deliverable() => Resolution::NotAllowed,
            // A user without a store is a directory mistake: defer, so the
            // mail waits in the MTA's queue until an administrator fixes it.
            Ok(Some(r)) if r.user.maildir.is_empty() => Resolution::TemporaryFailure(format!(
                "{} has no store directory (users.maildir is empty)",
                r.user.username
            )),
            Ok(Some(r)) => Resolution::Mailbox(Mailbox {
                user: r.user.username,
                dir: r.user.maildir,
            }),
            Err(e) => Resolution::TemporaryFailure(e.to_string()),
        }
    }
}
