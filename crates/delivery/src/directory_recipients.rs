//! [`RecipientResolver`] over the user directory: user, alias, `user+tag@`
//! extension and `@domain` catch-all, as groxide-directory resolves them.

use crate::recipient::{Mailbox, RecipientResolver, Resolution};
use groxide_directory::{Directory, RecipientPolicy};
use std::sync::{Arc, PoisonError, RwLock};

/// Recipients from the directory.
pub struct DirectoryRecipients {
    directory: Arc<Directory>,
    policy: RwLock<RecipientPolicy>,
}

impl DirectoryRecipients {
    /// Resolves with `delimiters` (`lda_recipient_delimiter`) starting an
    /// address extension.
    pub fn new(directory: Arc<Directory>, delimiters: &str) -> DirectoryRecipients {
        DirectoryRecipients {
            directory,
            policy: RwLock::new(RecipientPolicy {
                delimiters: delimiters.to_string(),
            }),
        }
    }

    /// Changes the extension delimiters (SIGHUP).
    pub fn set_delimiters(&self, delimiters: &str) {
        self.policy
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .delimiters = delimiters.to_string();
    }

    /// The directory.
    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }
}

impl RecipientResolver for DirectoryRecipients {
    async fn resolve(&self, address: &str) -> Resolution {
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
