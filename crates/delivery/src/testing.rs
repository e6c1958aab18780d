//! In-memory collaborators for tests and benchmarks: a recipient table and a
//! store that keeps delivered messages in memory, with switches for the
//! failures a real directory and store produce.

use crate::mailbox_writer::{DeliveryOutcome, DeliveryRequest, MailboxWriter, TargetFolder};
use crate::recipient::{Mailbox, RecipientResolver, Resolution};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use tokio::sync::Notify;

/// A fixed table of recipients.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    entries: Mutex<HashMap<String, Resolution>>,
}

impl MemoryDirectory {
    /// An empty table (every address unknown).
    pub fn new() -> MemoryDirectory {
        MemoryDirectory::default()
    }

    /// Adds a user whose store is `dir`.
    pub fn add_user(&self, address: &str, dir: &str) {
        self.set(
            address,
            Resolution::Mailbox(Mailbox {
                user: address.to_string(),
                dir: dir.to_string(),
            }),
        );
    }

    /// Sets what an address resolves to.
    pub fn set(&self, address: &str, resolution: Resolution) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(address.to_ascii_lowercase(), resolution);
    }
}

impl RecipientResolver for MemoryDirectory {
    async fn resolve(&self, address: &str) -> Resolution {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&address.to_ascii_lowercase())
            .cloned()
            .unwrap_or(Resolution::Unknown)
    }
}

/// One message in a [`MemoryStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The folder it went to.
    pub folder: TargetFolder,
    /// Exactly the bytes the store received.
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default)]
struct StoreState {
    messages: HashMap<String, Vec<StoredMessage>>,
    quota: HashMap<String, u64>,
    down: HashSet<String>,
    held: HashSet<String>,
}

/// A store that keeps messages in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<StoreState>,
    released: Notify,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, StoreState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Limits the bytes mailbox `dir` may hold.
    pub fn set_quota(&self, dir: &str, bytes: u64) {
        self.state().quota.insert(dir.to_string(), bytes);
    }

    /// Makes deliveries to `dir` fail temporarily (store node down) or work.
    pub fn set_down(&self, dir: &str, down: bool) {
        let mut s = self.state();
        if down {
            s.down.insert(dir.to_string());
        } else {
            s.down.remove(dir);
        }
    }

    /// Makes deliveries to `dir` wait until [`MemoryStore::release`].
    pub fn hold(&self, dir: &str) {
        self.state().held.insert(dir.to_string());
    }

    /// Lets held deliveries to `dir` finish.
    pub fn release(&self, dir: &str) {
        self.state().held.remove(dir);
        self.released.notify_waiters();
    }

    /// The messages of `dir`, in delivery order.
    pub fn messages(&self, dir: &str) -> Vec<StoredMessage> {
        self.state().messages.get(dir).cloned().unwrap_or_default()
    }

    /// Messages over all mailboxes.
    pub fn total(&self) -> usize {
        self.state().messages.values().map(Vec::len).sum()
    }
}

impl MailboxWriter for MemoryStore {
    async fn deliver(&self, request: DeliveryRequest<'_>) -> DeliveryOutcome {
        let dir = request.mailbox.dir.as_str();
        loop {
            let released = self.released.notified();
            if !self.state().held.contains(dir) {
                break;
            }
            released.await;
        }
        if self.state().down.contains(dir) {
            return DeliveryOutcome::TemporaryFailure(format!("store of {dir} is down"));
        }
        let mut bytes = request.trace_prefix.to_vec();
        let mut reader = request.message.reader();
        loop {
            match reader.next_piece().await {
                Ok(Some(piece)) => bytes.extend_from_slice(&piece),
                Ok(None) => break,
                Err(e) => return DeliveryOutcome::TemporaryFailure(e.to_string()),
            }
        }
        let mut s = self.state();
        let used: u64 = s
            .messages
            .get(dir)
            .map(|m| m.iter().map(|m| m.bytes.len() as u64).sum())
            .unwrap_or(0);
        if let Some(&quota) = s.quota.get(dir)
            && used + bytes.len() as u64 > quota
        {
            return DeliveryOutcome::OverQuota;
        }
        let list = s.messages.entry(dir.to_string()).or_default();
        list.push(StoredMessage {
            folder: request.folder,
            bytes,
        });
        DeliveryOutcome::Delivered {
            id: list.len().to_string(),
            message_id: None,
        }
    }
}
