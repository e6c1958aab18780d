//! [`MemoryBackend`]: a complete in-memory store with users, folders, UIDs,
//! MODSEQs, tombstones and change hints, for transcript tests, fuzzing and
//! benchmarks of the session without any daemon. It follows the midb
//! contract's semantics (one change number per store, UIDs assigned in the
//! transaction that files a message, expunges leave tombstones).

mod query;

use super::{
    Account, AppendRequest, AppendUpload, Appended, AuthFailure, Backend, BackendError,
    BackendStream, ChangesChunk, CopyResult, EventWatch, ExpungeResult, MailboxEntry,
    MailboxStatus, MessageListChunk, MessageMetadata, MetadataItems, MetadataRequest, Quota,
    SearchKey, SearchResult, SectionChunk, SectionPart, SectionRequest, SortCriterion, StoreEvent,
    StoreMode, StoreRequest, StoreResult, SystemFlags, ThreadAlgorithm, ThreadTree, UidRange,
    ranges_contain,
};
use bytes::Bytes;
use futures_util::StreamExt;
use groxide_mime::{ParsedMessage, SectionKind, SectionSpec};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// Messages per ListMessages chunk (small, so tests exercise chunking).
pub const LIST_CHUNK: usize = 500;
/// Bytes per section chunk.
pub const SECTION_CHUNK: usize = 16 * 1024;
/// Change hints buffered per store before watchers get a resync.
const EVENT_QUEUE: usize = 256;
/// The folders a new store gets, with their special use.
const DEFAULT_FOLDERS: [(&str, Option<&str>); 5] = [
    ("INBOX", None),
    ("Drafts", Some("Drafts")),
    ("Sent Items", Some("Sent")),
    ("Deleted Items", Some("Trash")),
    ("Junk Email", Some("Junk")),
];

#[derive(Debug, Clone)]
struct StoredMessage {
    raw: Arc<Vec<u8>>,
    flags: u32,
    keywords: Vec<String>,
    modseq: u64,
    internal_date: i64,
}

#[derive(Debug)]
struct Folder {
    name: String,
    special_use: Option<String>,
    subscribed: bool,
    uidvalidity: u32,
    uidnext: u32,
    messages: BTreeMap<u32, StoredMessage>,
    /// Expunged UIDs and the change number of their removal.
    tombstones: Vec<(u32, u64)>,
    highest_modseq: u64,
}

#[derive(Debug, Default)]
struct Store {
    folders: BTreeMap<u64, Folder>,
    next_folder_id: u64,
    change_number: u64,
    quota_bytes: u64,
    max_message_size: u64,
}

impl Store {
    fn next_change(&mut self) -> u64 {
        self.change_number += 1;
        self.change_number
    }

    fn folder_id(&self, name: &str) -> Option<u64> {
        self.folders
            .iter()
            .find(|(_, f)| names_equal(&f.name, name))
            .map(|(id, _)| *id)
    }

    fn folder(&self, id: u64) -> Result<&Folder, BackendError> {
        self.folders.get(&id).ok_or(BackendError::NoSuchMailbox)
    }

    fn folder_mut(&mut self, id: u64) -> Result<&mut Folder, BackendError> {
        self.folders.get_mut(&id).ok_or(BackendError::NoSuchMailbox)
    }

    fn add_folder(&mut self, name: &str, special_use: Option<&str>) -> u64 {
        self.next_folder_id += 1;
        let id = self.next_folder_id;
        let cn = self.next_change();
        self.folders.insert(
            id,
            Folder {
                name: name.to_owned(),
                special_use: special_use.map(str::to_owned),
                subscribed: true,
                // Distinct per folder and store, like a real store's.
                uidvalidity: 1_000 + id as u32,
                uidnext: 1,
                messages: BTreeMap::new(),
                tombstones: Vec::new(),
                highest_modseq: cn,
            },
        );
        id
    }

    fn used_bytes(&self) -> u64 {
        self.folders
            .values()
            .flat_map(|f| f.messages.values())
            .map(|m| m.raw.len() as u64)
            .sum()
    }

    fn file_message(
        &mut self,
        folder: u64,
        mut message: StoredMessage,
    ) -> Result<u32, BackendError> {
        let cn = self.next_change();
        let f = self.folder_mut(folder)?;
        let uid = f.uidnext;
        f.uidnext += 1;
        message.modseq = cn;
        f.highest_modseq = cn;
        f.messages.insert(uid, message);
        Ok(uid)
    }

    fn remove_messages(&mut self, folder: u64, uids: &[u32]) -> Result<u64, BackendError> {
        let cn = self.next_change();
        let f = self.folder_mut(folder)?;
        for uid in uids {
            if f.messages.remove(uid).is_some() {
                f.tombstones.push((*uid, cn));
            }
        }
        f.highest_modseq = cn;
        Ok(cn)
    }
}

/// INBOX is case-insensitive; other names are compared exactly.
fn names_equal(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case("INBOX") || b.eq_ignore_ascii_case("INBOX") {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

#[derive(Debug)]
struct User {
    password: String,
    account: Account,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<String, User>,
    stores: HashMap<String, Store>,
    failures: HashMap<IpAddr, u32>,
    block_after: u32,
    unavailable: bool,
    silent: bool,
}

struct Inner {
    state: Mutex<State>,
    events: Mutex<HashMap<String, broadcast::Sender<StoreEvent>>>,
    changes_requests: std::sync::atomic::AtomicU64,
}

/// An in-memory [`Backend`]. Cheap to clone (shared state).
#[derive(Clone)]
pub struct MemoryBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend").finish_non_exhaustive()
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        MemoryBackend::new()
    }
}

impl MemoryBackend {
    /// An empty backend: no users. Logins from an address are blocked
    /// after 10 failures (like the directory's throttle).
    pub fn new() -> MemoryBackend {
        MemoryBackend {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    block_after: 10,
                    ..State::default()
                }),
                events: Mutex::new(HashMap::new()),
                changes_requests: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a user with a new store (INBOX, Drafts, Sent Items, Deleted
    /// Items, Junk Email); returns the store dir.
    pub fn add_user(&self, login: &str, password: &str) -> String {
        let dir = format!("/mem/{login}");
        let mut store = Store {
            max_message_size: u64::MAX,
            ..Store::default()
        };
        for (name, special_use) in DEFAULT_FOLDERS {
            store.add_folder(name, special_use);
        }
        let mut st = self.state();
        st.stores.insert(dir.clone(), store);
        st.users.insert(
            login.to_ascii_lowercase(),
            User {
                password: password.to_owned(),
                account: Account {
                    username: login.to_owned(),
                    dir: dir.clone(),
                },
            },
        );
        dir
    }

    /// Failed logins from one address before it is blocked.
    pub fn set_block_after(&self, failures: u32) {
        self.state().block_after = failures;
    }

    /// Makes every request fail with [`BackendError::Unavailable`] (or work again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state().unavailable = unavailable;
    }

    /// Sets the store's storage quota in bytes (0 = none).
    pub fn set_quota(&self, dir: &str, bytes: u64) {
        if let Some(s) = self.state().stores.get_mut(dir) {
            s.quota_bytes = bytes;
        }
    }

    /// Sets the largest message the store accepts.
    pub fn set_max_message_size(&self, dir: &str, bytes: u64) {
        if let Some(s) = self.state().stores.get_mut(dir) {
            s.max_message_size = bytes;
        }
    }

    /// Files a message directly (as delivery would) and notifies watchers;
    /// returns its UID.
    pub fn deliver(
        &self,
        dir: &str,
        mailbox: &str,
        raw: &[u8],
        flags: SystemFlags,
        internal_date: i64,
    ) -> Result<u32, BackendError> {
        let (uid, folder) = {
            let mut st = self.state();
            let store = st.stores.get_mut(dir).ok_or(BackendError::NoSuchMailbox)?;
            let folder = store
                .folder_id(mailbox)
                .ok_or(BackendError::NoSuchMailbox)?;
            let uid = store.file_message(
                folder,
                StoredMessage {
                    raw: Arc::new(raw.to_vec()),
                    flags: flags.0,
                    keywords: Vec::new(),
                    modseq: 0,
                    internal_date,
                },
            )?;
            (uid, folder)
        };
        self.notify(dir, folder);
        Ok(uid)
    }

    /// Files `count` copies of `raw` at once (large-folder tests).
    pub fn deliver_many(
        &self,
        dir: &str,
        mailbox: &str,
        raw: &[u8],
        count: usize,
    ) -> Result<(), BackendError> {
        let raw = Arc::new(raw.to_vec());
        let folder = {
            let mut st = self.state();
            let store = st.stores.get_mut(dir).ok_or(BackendError::NoSuchMailbox)?;
            let folder = store
                .folder_id(mailbox)
                .ok_or(BackendError::NoSuchMailbox)?;
            for i in 0..count {
                store.file_message(
                    folder,
                    StoredMessage {
                        raw: raw.clone(),
                        flags: 0,
                        keywords: Vec::new(),
                        modseq: 0,
                        internal_date: 1_700_000_000 + i as i64,
                    },
                )?;
            }
            folder
        };
        self.notify(dir, folder);
        Ok(())
    }

    /// The current flags of a message (tests).
    pub fn flags_of(
        &self,
        dir: &str,
        mailbox: &str,
        uid: u32,
    ) -> Option<(SystemFlags, Vec<String>)> {
        let st = self.state();
        let store = st.stores.get(dir)?;
        let folder = store.folders.get(&store.folder_id(mailbox)?)?;
        let m = folder.messages.get(&uid)?;
        Some((SystemFlags(m.flags), m.keywords.clone()))
    }

    /// UIDs of the messages of a mailbox (tests).
    pub fn uids_of(&self, dir: &str, mailbox: &str) -> Vec<u32> {
        let st = self.state();
        st.stores
            .get(dir)
            .and_then(|s| s.folder_id(mailbox).and_then(|id| s.folders.get(&id)))
            .map(|f| f.messages.keys().copied().collect())
            .unwrap_or_default()
    }

    /// How many `changes` requests sessions made (catch-ups).
    pub fn changes_requests(&self) -> u64 {
        self.inner
            .changes_requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops (or resumes) change hints, as if the event service lost them.
    pub fn set_notifications(&self, on: bool) {
        self.state().silent = !on;
    }

    /// Sends a resync marker to every watcher of `dir` (missed events).
    pub fn send_resync(&self, dir: &str) {
        if let Some(tx) = self.events().get(dir) {
            let _ = tx.send(StoreEvent::Resync);
        }
    }

    fn events(&self) -> MutexGuard<'_, HashMap<String, broadcast::Sender<StoreEvent>>> {
        self.inner.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notify(&self, dir: &str, folder: u64) {
        let change_number = {
            let st = self.state();
            if st.silent {
                return;
            }
            st.stores.get(dir).map_or(0, |s| s.change_number)
        };
        if let Some(tx) = self.events().get(dir) {
            let _ = tx.send(StoreEvent::Changed {
                folder,
                change_number,
            });
        }
    }

    /// Runs `f` on the store of `dir`.
    fn with_store<T>(
        &self,
        dir: &str,
        f: impl FnOnce(&mut Store) -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        let mut st = self.state();
        if st.unavailable {
            return Err(BackendError::Unavailable(
                "memory backend switched off".into(),
            ));
        }
        let store = st.stores.get_mut(dir).ok_or(BackendError::NoSuchMailbox)?;
        f(store)
    }

    fn messages_in(
        &self,
        dir: &str,
        folder: u64,
        uids: &[UidRange],
    ) -> Result<Vec<(u32, StoredMessage)>, BackendError> {
        self.with_store(dir, |s| {
            let f = s.folder(folder)?;
            Ok(f.messages
                .iter()
                .filter(|(uid, _)| uids.is_empty() || ranges_contain(uids, **uid))
                .map(|(uid, m)| (*uid, m.clone()))
                .collect())
        })
    }
}

fn stream_of<T: Send + 'static>(items: Vec<T>) -> BackendStream<T> {
    futures_util::stream::iter(items.into_iter().map(Ok)).boxed()
}

fn metadata(uid: u32, m: &StoredMessage, request: &MetadataRequest) -> MessageMetadata {
    let items = request.items;
    let mut out = MessageMetadata {
        uid,
        flags: m.flags,
        keywords: m.keywords.clone(),
        modseq: m.modseq,
        size: m.raw.len() as u64,
        internal_date: m.internal_date,
        ..MessageMetadata::default()
    };
    let needs_parse = items.contains(MetadataItems::ENVELOPE)
        || items.contains(MetadataItems::BODYSTRUCTURE)
        || items.contains(MetadataItems::BODY)
        || items.contains(MetadataItems::HEADER_FIELDS);
    if needs_parse {
        let parsed = ParsedMessage::parse(&m.raw);
        if items.contains(MetadataItems::ENVELOPE) {
            out.envelope = parsed.envelope();
        }
        if items.contains(MetadataItems::BODYSTRUCTURE) {
            out.bodystructure = parsed.bodystructure(true);
        }
        if items.contains(MetadataItems::BODY) {
            out.body = parsed.bodystructure(false);
        }
        if items.contains(MetadataItems::HEADER_FIELDS) {
            let kind = if request.header_fields_not {
                SectionKind::HeaderFieldsNot(request.header_fields.clone())
            } else {
                SectionKind::HeaderFields(request.header_fields.clone())
            };
            let spec = SectionSpec {
                part: Vec::new(),
                kind,
            };
            out.header_fields = parsed.locate_section(&spec).bytes(&m.raw).to_vec();
        }
    }
    out
}

fn section_bytes(raw: &[u8], request: &SectionRequest) -> Result<Vec<u8>, BackendError> {
    let parsed = ParsedMessage::parse(raw);
    let whole = if request.binary {
        parsed
            .decode_section(&request.part)
            .map_err(|_| BackendError::UnknownCte)?
    } else {
        let kind = match &request.kind {
            SectionPart::Full => SectionKind::Full,
            SectionPart::Header => SectionKind::Header,
            SectionPart::HeaderFields(f) => SectionKind::HeaderFields(f.clone()),
            SectionPart::HeaderFieldsNot(f) => SectionKind::HeaderFieldsNot(f.clone()),
            SectionPart::Text => SectionKind::Text,
            SectionPart::Mime => SectionKind::Mime,
        };
        let spec = SectionSpec {
            part: request.part.clone(),
            kind,
        };
        parsed.locate_section(&spec).bytes(raw).to_vec()
    };
    let start = usize::try_from(request.offset)
        .unwrap_or(usize::MAX)
        .min(whole.len());
    let end = if request.length == 0 {
        whole.len()
    } else {
        start
            .saturating_add(usize::try_from(request.length).unwrap_or(usize::MAX))
            .min(whole.len())
    };
    Ok(whole[start..end].to_vec())
}

fn apply_store(m: &mut StoredMessage, request: &StoreRequest) -> bool {
    let before = (m.flags, m.keywords.clone());
    match request.mode {
        StoreMode::Replace => {
            m.flags = request.flags.0;
            m.keywords.clear();
            for k in &request.keywords {
                if !m.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    m.keywords.push(k.clone());
                }
            }
        }
        StoreMode::Add => {
            m.flags |= request.flags.0;
            for k in &request.keywords {
                if !m.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    m.keywords.push(k.clone());
                }
            }
        }
        StoreMode::Remove => {
            m.flags &= !request.flags.0;
            m.keywords
                .retain(|x| !request.keywords.iter().any(|k| k.eq_ignore_ascii_case(x)));
        }
    }
    (m.flags, &m.keywords) != (before.0, &before.1)
}

/// The upload of a [`MemoryBackend`] APPEND.
pub struct MemoryUpload {
    backend: MemoryBackend,
    dir: String,
    request: AppendRequest,
    data: Vec<u8>,
}

impl AppendUpload for MemoryUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BackendError> {
        self.data.extend_from_slice(&chunk);
        Ok(())
    }

    async fn finish(self) -> Result<Appended, BackendError> {
        let MemoryUpload {
            backend,
            dir,
            request,
            data,
        } = self;
        if data.len() as u64 != request.size {
            return Err(BackendError::Internal(format!(
                "APPEND announced {} bytes, got {}",
                request.size,
                data.len()
            )));
        }
        let internal_date = if request.internal_date == 0 {
            time::OffsetDateTime::now_utc().unix_timestamp()
        } else {
            request.internal_date
        };
        let (appended, folder) = backend.with_store(&dir, |s| {
            if data.len() as u64 > s.max_message_size {
                return Err(BackendError::TooBig);
            }
            if s.quota_bytes > 0 && s.used_bytes() + data.len() as u64 > s.quota_bytes {
                return Err(BackendError::OverQuota);
            }
            let folder = s
                .folder_id(&request.mailbox)
                .ok_or(BackendError::NoSuchMailbox)?;
            let uid = s.file_message(
                folder,
                StoredMessage {
                    raw: Arc::new(data),
                    flags: request.flags.0,
                    keywords: request.keywords.clone(),
                    modseq: 0,
                    internal_date,
                },
            )?;
            let uidvalidity = s.folder(folder)?.uidvalidity;
            Ok((Appended { uidvalidity, uid }, folder))
        })?;
        backend.notify(&dir, folder);
        Ok(appended)
    }
}

impl Backend for MemoryBackend {
    type Upload = MemoryUpload;

    async fn authenticate(
        &self,
        login: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Account, AuthFailure> {
        let mut st = self.state();
        if st.unavailable {
            return Err(AuthFailure::Unavailable(
                "memory backend switched off".into(),
            ));
        }
        let failures = st.failures.get(&client).copied().unwrap_or(0);
        if failures >= st.block_after {
            return Err(AuthFailure::Blocked);
        }
        let account = st
            .users
            .get(&login.to_ascii_lowercase())
            .filter(|u| u.password == password)
            .map(|u| u.account.clone());
        match account {
            Some(a) => {
                st.failures.remove(&client);
                Ok(a)
            }
            None => {
                *st.failures.entry(client).or_insert(0) += 1;
                Err(AuthFailure::InvalidCredentials)
            }
        }
    }

    async fn list_mailboxes(&self, dir: &str) -> Result<Vec<MailboxEntry>, BackendError> {
        self.with_store(dir, |s| {
            let names: Vec<&str> = s.folders.values().map(|f| f.name.as_str()).collect();
            Ok(s.folders
                .values()
                .map(|f| MailboxEntry {
                    name: f.name.clone(),
                    special_use: f.special_use.clone(),
                    subscribed: f.subscribed,
                    has_children: names.iter().any(|n| {
                        n.len() > f.name.len() + 1
                            && n.starts_with(&f.name)
                            && n.as_bytes()[f.name.len()] == b'/'
                    }),
                    noselect: false,
                })
                .collect())
        })
    }

    async fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<&str>,
    ) -> Result<(), BackendError> {
        if name.is_empty() || name.split('/').any(str::is_empty) {
            return Err(BackendError::InvalidName(name.to_owned()));
        }
        let id = self.with_store(dir, |s| {
            if s.folder_id(name).is_some() {
                return Err(BackendError::MailboxExists);
            }
            // Parents are created as real folders, as the store does.
            let mut prefix = String::new();
            let parts: Vec<&str> = name.split('/').collect();
            for part in &parts[..parts.len() - 1] {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                if s.folder_id(&prefix).is_none() {
                    s.add_folder(&prefix, None);
                }
            }
            Ok(s.add_folder(name, special_use))
        })?;
        self.notify(dir, id);
        Ok(())
    }

    async fn delete_mailbox(&self, dir: &str, name: &str) -> Result<(), BackendError> {
        if name.eq_ignore_ascii_case("INBOX") {
            return Err(BackendError::NotPermitted("INBOX cannot be deleted".into()));
        }
        let id = self.with_store(dir, |s| {
            let id = s.folder_id(name).ok_or(BackendError::NoSuchMailbox)?;
            let child_prefix = format!("{name}/");
            if s.folders
                .values()
                .any(|f| f.name.starts_with(&child_prefix))
            {
                return Err(BackendError::NotPermitted(
                    "mailbox has child mailboxes; delete them first".into(),
                ));
            }
            s.next_change();
            s.folders.remove(&id);
            Ok(id)
        })?;
        self.notify(dir, id);
        Ok(())
    }

    async fn rename_mailbox(&self, dir: &str, from: &str, to: &str) -> Result<(), BackendError> {
        if to.is_empty() || to.split('/').any(str::is_empty) {
            return Err(BackendError::InvalidName(to.to_owned()));
        }
        let id = self.with_store(dir, |s| {
            let id = s.folder_id(from).ok_or(BackendError::NoSuchMailbox)?;
            if s.folder_id(to).is_some() {
                return Err(BackendError::MailboxExists);
            }
            if from.eq_ignore_ascii_case("INBOX") {
                // RFC 3501: INBOX's messages move to the new mailbox; INBOX stays.
                let new_id = s.add_folder(to, None);
                let moved: Vec<(u32, StoredMessage)> = s
                    .folder(id)?
                    .messages
                    .iter()
                    .map(|(u, m)| (*u, m.clone()))
                    .collect();
                let uids: Vec<u32> = moved.iter().map(|(u, _)| *u).collect();
                for (_, m) in moved {
                    s.file_message(new_id, m)?;
                }
                s.remove_messages(id, &uids)?;
                return Ok(id);
            }
            let cn = s.next_change();
            let child_prefix = format!("{from}/");
            for f in s.folders.values_mut() {
                if f.name == from {
                    f.name = to.to_owned();
                    f.highest_modseq = cn;
                } else if let Some(rest) = f.name.strip_prefix(&child_prefix) {
                    f.name = format!("{to}/{rest}");
                }
            }
            Ok(id)
        })?;
        self.notify(dir, id);
        Ok(())
    }

    async fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> Result<(), BackendError> {
        self.with_store(dir, |s| {
            let id = s.folder_id(name).ok_or(BackendError::NoSuchMailbox)?;
            s.folder_mut(id)?.subscribed = subscribed;
            Ok(())
        })
    }

    async fn mailbox_status(&self, dir: &str, name: &str) -> Result<MailboxStatus, BackendError> {
        self.with_store(dir, |s| {
            let id = s.folder_id(name).ok_or(BackendError::NoSuchMailbox)?;
            let f = s.folder(id)?;
            let seen = SystemFlags::SEEN.0;
            let deleted = SystemFlags::DELETED.0;
            Ok(MailboxStatus {
                folder_id: id,
                uidvalidity: f.uidvalidity,
                uidnext: f.uidnext,
                exists: f.messages.len() as u32,
                unseen: f.messages.values().filter(|m| m.flags & seen == 0).count() as u32,
                deleted: f
                    .messages
                    .values()
                    .filter(|m| m.flags & deleted != 0)
                    .count() as u32,
                highest_modseq: f.highest_modseq,
                size: f.messages.values().map(|m| m.raw.len() as u64).sum(),
                first_unseen_uid: f
                    .messages
                    .iter()
                    .find(|(_, m)| m.flags & seen == 0)
                    .map_or(0, |(u, _)| *u),
            })
        })
    }

    async fn list_messages(
        &self,
        dir: &str,
        folder: u64,
        uids: Vec<UidRange>,
        with_size_and_date: bool,
    ) -> Result<BackendStream<MessageListChunk>, BackendError> {
        let messages = self.messages_in(dir, folder, &uids)?;
        let chunks: Vec<MessageListChunk> = messages
            .chunks(LIST_CHUNK)
            .map(|run| {
                let mut chunk = MessageListChunk::default();
                for (uid, m) in run {
                    chunk.uids.push(*uid);
                    chunk.flags.push(m.flags);
                    chunk.modseqs.push(m.modseq);
                    if with_size_and_date {
                        chunk.sizes.push(m.raw.len() as u64);
                        chunk.internal_dates.push(m.internal_date);
                    }
                    if !m.keywords.is_empty() {
                        chunk.keywords.push((*uid, m.keywords.clone()));
                    }
                }
                chunk
            })
            .collect();
        Ok(stream_of(chunks))
    }

    async fn fetch_metadata(
        &self,
        dir: &str,
        folder: u64,
        request: MetadataRequest,
    ) -> Result<BackendStream<MessageMetadata>, BackendError> {
        let messages = self.messages_in(dir, folder, &request.uids)?;
        let items: Vec<MessageMetadata> = messages
            .iter()
            .filter(|(_, m)| m.modseq > request.changed_since)
            .map(|(uid, m)| metadata(*uid, m, &request))
            .collect();
        Ok(stream_of(items))
    }

    async fn fetch_section(
        &self,
        dir: &str,
        folder: u64,
        request: SectionRequest,
    ) -> Result<BackendStream<SectionChunk>, BackendError> {
        let raw = self.with_store(dir, |s| {
            let f = s.folder(folder)?;
            f.messages
                .get(&request.uid)
                .map(|m| m.raw.clone())
                .ok_or(BackendError::NoSuchMessage)
        })?;
        let data = section_bytes(&raw, &request)?;
        let total = data.len() as u64;
        let mut chunks: Vec<SectionChunk> = data
            .chunks(SECTION_CHUNK)
            .map(|c| SectionChunk {
                total_size: 0,
                data: Bytes::copy_from_slice(c),
            })
            .collect();
        match chunks.first_mut() {
            Some(first) => first.total_size = total,
            None => chunks.push(SectionChunk::default()),
        }
        Ok(stream_of(chunks))
    }

    async fn store_flags(
        &self,
        dir: &str,
        folder: u64,
        request: StoreRequest,
    ) -> Result<StoreResult, BackendError> {
        let result = self.with_store(dir, |s| {
            let mut result = StoreResult::default();
            let mut changed_any = false;
            let targets: Vec<u32> = s
                .folder(folder)?
                .messages
                .keys()
                .copied()
                .filter(|u| ranges_contain(&request.uids, *u))
                .collect();
            let mut modified = Vec::new();
            let mut to_change = Vec::new();
            {
                let f = s.folder(folder)?;
                for uid in &targets {
                    let Some(m) = f.messages.get(uid) else {
                        continue;
                    };
                    if request.unchanged_since > 0 && m.modseq > request.unchanged_since {
                        modified.push(*uid);
                        continue;
                    }
                    let mut probe = m.clone();
                    if apply_store(&mut probe, &request) {
                        to_change.push(*uid);
                    }
                }
            }
            let cn = if to_change.is_empty() {
                0
            } else {
                s.next_change()
            };
            let f = s.folder_mut(folder)?;
            for uid in &targets {
                if modified.contains(uid) {
                    continue;
                }
                let Some(m) = f.messages.get_mut(uid) else {
                    continue;
                };
                if to_change.contains(uid) {
                    apply_store(m, &request);
                    m.modseq = cn;
                    changed_any = true;
                }
                result.updated.push(MessageMetadata {
                    uid: *uid,
                    flags: m.flags,
                    keywords: m.keywords.clone(),
                    modseq: m.modseq,
                    ..MessageMetadata::default()
                });
            }
            if changed_any {
                f.highest_modseq = cn;
            }
            result.modified = super::ranges_of(modified);
            Ok((result, changed_any))
        })?;
        if result.1 {
            self.notify(dir, folder);
        }
        Ok(result.0)
    }

    async fn begin_append(
        &self,
        dir: &str,
        request: AppendRequest,
    ) -> Result<MemoryUpload, BackendError> {
        self.with_store(dir, |s| {
            s.folder_id(&request.mailbox)
                .map(|_| ())
                .ok_or(BackendError::NoSuchMailbox)
        })?;
        Ok(MemoryUpload {
            backend: self.clone(),
            dir: dir.to_owned(),
            request,
            data: Vec::new(),
        })
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: u64,
        uids: Vec<UidRange>,
        target: &str,
        remove: bool,
    ) -> Result<CopyResult, BackendError> {
        let (result, target_id) = self.with_store(dir, |s| {
            let target_id = s.folder_id(target).ok_or(BackendError::NoSuchMailbox)?;
            let sources: Vec<(u32, StoredMessage)> = s
                .folder(folder)?
                .messages
                .iter()
                .filter(|(u, _)| ranges_contain(&uids, **u))
                .map(|(u, m)| (*u, m.clone()))
                .collect();
            let mut result = CopyResult {
                target_uidvalidity: s.folder(target_id)?.uidvalidity,
                ..CopyResult::default()
            };
            for (uid, m) in sources {
                let new_uid = s.file_message(target_id, m)?;
                result.source_uids.push(uid);
                result.target_uids.push(new_uid);
            }
            if remove && !result.source_uids.is_empty() {
                result.modseq = s.remove_messages(folder, &result.source_uids)?;
            }
            Ok((result, target_id))
        })?;
        self.notify(dir, target_id);
        if remove {
            self.notify(dir, folder);
        }
        Ok(result)
    }

    async fn expunge(
        &self,
        dir: &str,
        folder: u64,
        uids: Option<Vec<UidRange>>,
    ) -> Result<ExpungeResult, BackendError> {
        let result = self.with_store(dir, |s| {
            let deleted = SystemFlags::DELETED.0;
            let doomed: Vec<u32> = s
                .folder(folder)?
                .messages
                .iter()
                .filter(|(u, m)| {
                    m.flags & deleted != 0 && uids.as_ref().is_none_or(|r| ranges_contain(r, **u))
                })
                .map(|(u, _)| *u)
                .collect();
            if doomed.is_empty() {
                return Ok(ExpungeResult {
                    expunged: doomed,
                    modseq: s.folder(folder)?.highest_modseq,
                });
            }
            let modseq = s.remove_messages(folder, &doomed)?;
            Ok(ExpungeResult {
                expunged: doomed,
                modseq,
            })
        })?;
        if !result.expunged.is_empty() {
            self.notify(dir, folder);
        }
        Ok(result)
    }

    async fn search(
        &self,
        dir: &str,
        folder: u64,
        criteria: SearchKey,
    ) -> Result<SearchResult, BackendError> {
        let messages = self.messages_in(dir, folder, &[])?;
        Ok(query::search(&messages, &criteria))
    }

    async fn sort(
        &self,
        dir: &str,
        folder: u64,
        order: Vec<SortCriterion>,
        criteria: SearchKey,
    ) -> Result<Vec<u32>, BackendError> {
        let messages = self.messages_in(dir, folder, &[])?;
        Ok(query::sort(&messages, &order, &criteria))
    }

    async fn thread(
        &self,
        dir: &str,
        folder: u64,
        algorithm: ThreadAlgorithm,
        criteria: SearchKey,
    ) -> Result<Vec<ThreadTree>, BackendError> {
        let messages = self.messages_in(dir, folder, &[])?;
        Ok(query::thread(&messages, algorithm, &criteria))
    }

    async fn changes(
        &self,
        dir: &str,
        folder: u64,
        since: u64,
        vanished: bool,
    ) -> Result<BackendStream<ChangesChunk>, BackendError> {
        self.inner
            .changes_requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let chunk = self.with_store(dir, |s| {
            let f = s.folder(folder)?;
            let changed = f
                .messages
                .iter()
                .filter(|(_, m)| m.modseq > since)
                .map(|(uid, m)| MessageMetadata {
                    uid: *uid,
                    flags: m.flags,
                    keywords: m.keywords.clone(),
                    modseq: m.modseq,
                    ..MessageMetadata::default()
                })
                .collect();
            let mut gone: Vec<u32> = if vanished {
                f.tombstones
                    .iter()
                    .filter(|(_, cn)| *cn > since)
                    .map(|(u, _)| *u)
                    .collect()
            } else {
                Vec::new()
            };
            gone.sort_unstable();
            Ok(ChangesChunk {
                changed,
                vanished: super::ranges_of(gone),
                highest_modseq: f.highest_modseq,
            })
        })?;
        Ok(stream_of(vec![chunk]))
    }

    async fn quota(&self, dir: &str) -> Result<Quota, BackendError> {
        self.with_store(dir, |s| {
            Ok(Quota {
                used_bytes: s.used_bytes(),
                limit_bytes: s.quota_bytes,
                messages: s.folders.values().map(|f| f.messages.len() as u64).sum(),
                message_limit: 0,
            })
        })
    }

    async fn watch(&self, dir: &str) -> Result<EventWatch, BackendError> {
        let mut events = self.events();
        let tx = events
            .entry(dir.to_owned())
            .or_insert_with(|| broadcast::channel(EVENT_QUEUE).0);
        Ok(tx.subscribe())
    }
}
