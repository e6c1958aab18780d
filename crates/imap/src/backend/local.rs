//! [`LocalBackend`]: sessions over the production mailbox view
//! ([`StoreView`]) of real stores in a temp dir, written directly (no
//! exmdb in front). What is not production here is small and said so: the
//! login table (the directory has its own tests) and the switches tests
//! use to make the store unavailable or to lose change hints.
//!
//! Compiled only with the `test-backend` feature (tests, fuzzing).

use super::{Account, AuthFailure, Backend, EventWatch, StoreEvent};
use groxide_mailview::{
    AppendRequest, ChangeBatch, Copied, ExpungeScope, Expunged, FlagChange, FlagUpdate, Flags,
    FolderId, MailboxEntry, MailboxStatus, MailboxView, MessageEntry, MessageMetadata,
    MetadataRequest, ModSeq, Quota, SearchKey, SearchResult, SectionChunk, SectionRequest,
    SortCriterion, SpecialUse, ThreadAlgorithm, ThreadTree, Uid, UidSet, ViewError, ViewStream,
};
use groxide_midb::direct_writes::DirectWrites;
use groxide_midb::feed::NoFeed;
use groxide_midb::names::{FolderInfo, MailboxTree};
use groxide_midb::view::LocalUpload;
use groxide_midb::{Settings, StoreView};
use groxide_store::{
    ChangeEvent, CommitObserver, FolderRef, ManagerSettings, NewMessage, NewStore, StoreKind,
    StoreLimits, StoreManager,
};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// Hints buffered per store before a slow watcher misses some.
const HINT_QUEUE: usize = 256;

struct User {
    password: String,
    account: Account,
}

/// Change hints of the stores, from the store engine's commits.
#[derive(Default)]
struct Hints {
    senders: Mutex<HashMap<PathBuf, broadcast::Sender<StoreEvent>>>,
    silent: AtomicBool,
}

impl Hints {
    fn senders(&self) -> MutexGuard<'_, HashMap<PathBuf, broadcast::Sender<StoreEvent>>> {
        self.senders.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sender(&self, dir: &Path) -> broadcast::Sender<StoreEvent> {
        self.senders()
            .entry(dir.to_path_buf())
            .or_insert_with(|| broadcast::channel(HINT_QUEUE).0)
            .clone()
    }
}

impl CommitObserver for Hints {
    fn committed(&self, dir: &Path, events: &[ChangeEvent]) {
        if self.silent.load(Ordering::Relaxed) {
            return;
        }
        let tx = self.sender(dir);
        for e in events {
            let _ = tx.send(StoreEvent::Changed {
                folder: e.folder.0,
                change_number: e.cn.0,
            });
        }
    }
}

/// The view the sessions see: the production [`StoreView`], plus the
/// test switches (store unavailable) and a count of catch-ups.
pub struct TestView {
    view: StoreView<DirectWrites>,
    unavailable: AtomicBool,
    changes_requests: AtomicU64,
}

impl TestView {
    fn check(&self) -> Result<(), ViewError> {
        if self.unavailable.load(Ordering::Relaxed) {
            return Err(ViewError::Unavailable(
                "the test backend's store is switched off".into(),
            ));
        }
        Ok(())
    }
}

/// A backend over stores under a directory of the caller's.
pub struct LocalBackend {
    root: PathBuf,
    stores: Arc<StoreManager>,
    view: TestView,
    hints: Arc<Hints>,
    users: Mutex<HashMap<String, User>>,
    failures: Mutex<HashMap<IpAddr, u32>>,
    block_after: AtomicU32,
}

impl LocalBackend {
    /// A backend keeping its stores under `root` (which must exist). Logins
    /// from an address are blocked after 10 failures.
    pub fn new(root: &Path) -> Arc<LocalBackend> {
        let hints = Arc::new(Hints::default());
        let stores = Arc::new(StoreManager::new(
            ManagerSettings::default(),
            StoreLimits::default(),
            Some(hints.clone()),
        ));
        let view = StoreView::new(
            Arc::new(DirectWrites::new(stores.clone())),
            Arc::new(NoFeed),
            Settings::default(),
        );
        Arc::new(LocalBackend {
            root: root.to_path_buf(),
            stores,
            view: TestView {
                view,
                unavailable: AtomicBool::new(false),
                changes_requests: AtomicU64::new(0),
            },
            hints,
            users: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            block_after: AtomicU32::new(10),
        })
    }

    /// The production view underneath.
    pub fn store_view(&self) -> &StoreView<DirectWrites> {
        &self.view.view
    }

    /// The store engine's manager (tests reach the store directly).
    pub fn stores(&self) -> &Arc<StoreManager> {
        &self.stores
    }

    /// Adds a user with a new store (its standard folders); returns the dir.
    pub fn add_user(&self, login: &str, password: &str) -> String {
        let dir = self.root.join(login.replace(['/', '@'], "_"));
        if let Err(e) = self.stores.create(
            &dir,
            &NewStore {
                kind: StoreKind::Private,
                owner: login.to_owned(),
                lang: String::new(),
                quota_bytes: 0,
            },
        ) {
            tracing::error!(error = %e, "test store not created");
        }
        let dir = dir.to_string_lossy().into_owned();
        self.users.lock().unwrap_or_else(|p| p.into_inner()).insert(
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
        self.block_after.store(failures, Ordering::Relaxed);
    }

    /// Makes every view request fail as unavailable (or work again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.view.unavailable.store(unavailable, Ordering::Relaxed);
    }

    /// Sets the store's quota in bytes (0 = none).
    pub fn set_quota(&self, dir: &str, bytes: u64) {
        if let Ok(s) = self.stores.open(Path::new(dir))
            && let Err(e) = s.set_quota(bytes)
        {
            tracing::error!(error = %e, "quota not set");
        }
    }

    /// Sets the largest message the stores accept.
    pub fn set_max_message_size(&self, bytes: u64) {
        let limits = StoreLimits {
            max_message_size: bytes,
            ..self.stores.limits()
        };
        self.stores.reconfigure(self.stores.settings(), limits);
    }

    /// The folder of a mailbox name (midb's names, read from the store).
    fn folder(&self, dir: &str, mailbox: &str) -> Result<FolderId, ViewError> {
        let store = self
            .stores
            .open(Path::new(dir))
            .map_err(|e| ViewError::Internal(e.to_string()))?;
        let folders: Vec<FolderInfo> = store
            .folders()
            .map_err(|e| ViewError::Internal(e.to_string()))?
            .iter()
            .map(FolderInfo::of_store)
            .collect();
        MailboxTree::build(&folders)
            .find_selectable(mailbox)
            .map(|e| e.folder)
            .map_err(|_| ViewError::NoSuchMailbox)
    }

    /// UIDVALIDITY and HIGHESTMODSEQ of a mailbox now, from the store.
    pub fn state_of(&self, dir: &str, mailbox: &str) -> Option<(u32, u64)> {
        let folder = self.folder(dir, mailbox).ok()?;
        let store = self.stores.open(Path::new(dir)).ok()?;
        let f = store.folder(groxide_store::FolderId(folder)).ok()?;
        Some((f.uidvalidity.0, f.highest_modseq.0))
    }

    /// Files a message directly (as delivery would); returns its UID.
    pub fn deliver(
        &self,
        dir: &str,
        mailbox: &str,
        raw: &[u8],
        flags: Flags,
        internal_date: i64,
    ) -> Result<u32, ViewError> {
        let folder = self.folder(dir, mailbox)?;
        let store = self
            .stores
            .open(Path::new(dir))
            .map_err(|e| ViewError::Internal(e.to_string()))?;
        let ins = store
            .insert_mime_from(
                FolderRef::Id(groxide_store::FolderId(folder)),
                raw,
                NewMessage {
                    flags,
                    keywords: Vec::new(),
                    internal_date: Some(internal_date),
                },
            )
            .map_err(|e| ViewError::Internal(e.to_string()))?;
        Ok(ins.uid.0)
    }

    /// Files `count` copies of `raw` (large-folder tests).
    pub fn deliver_many(
        &self,
        dir: &str,
        mailbox: &str,
        raw: &[u8],
        count: usize,
    ) -> Result<(), ViewError> {
        for i in 0..count {
            self.deliver(dir, mailbox, raw, Flags::NONE, 1_700_000_000 + i as i64)?;
        }
        Ok(())
    }

    /// The current flags and keywords of a message.
    pub fn flags_of(&self, dir: &str, mailbox: &str, uid: u32) -> Option<(Flags, Vec<String>)> {
        let folder = self.folder(dir, mailbox).ok()?;
        let store = self.stores.open(Path::new(dir)).ok()?;
        let mut found = None;
        store
            .list_messages(
                FolderRef::Id(groxide_store::FolderId(folder)),
                groxide_store::UidRange::new(uid, uid),
                |e| {
                    found = Some((e.flags, e.keywords));
                    false
                },
            )
            .ok()?;
        found
    }

    /// UIDs of the messages of a mailbox.
    pub fn uids_of(&self, dir: &str, mailbox: &str) -> Vec<u32> {
        let Ok(folder) = self.folder(dir, mailbox) else {
            return Vec::new();
        };
        let Ok(store) = self.stores.open(Path::new(dir)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let _ = store.list_messages(
            FolderRef::Id(groxide_store::FolderId(folder)),
            groxide_store::UidRange::ALL,
            |e| {
                out.push(e.uid.0);
                true
            },
        );
        out
    }

    /// How many `changes` requests sessions made (catch-ups).
    pub fn changes_requests(&self) -> u64 {
        self.view.changes_requests.load(Ordering::Relaxed)
    }

    /// Stops (or resumes) change hints, as if the event service lost them.
    pub fn set_notifications(&self, on: bool) {
        self.hints.silent.store(!on, Ordering::Relaxed);
    }

    /// Sends a resync marker to every watcher of `dir` (missed events).
    pub fn send_resync(&self, dir: &str) {
        let _ = self.hints.sender(Path::new(dir)).send(StoreEvent::Resync);
    }
}

impl Backend for LocalBackend {
    type View = TestView;

    fn view(&self) -> &TestView {
        &self.view
    }

    async fn authenticate(
        &self,
        login: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Account, AuthFailure> {
        if self.view.unavailable.load(Ordering::Relaxed) {
            return Err(AuthFailure::Unavailable(
                "the test backend is switched off".into(),
            ));
        }
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.get(&client).copied().unwrap_or(0) >= self.block_after.load(Ordering::Relaxed) {
            return Err(AuthFailure::Blocked);
        }
        let account = self
            .users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&login.to_ascii_lowercase())
            .filter(|u| u.password == password)
            .map(|u| u.account.clone());
        match account {
            Some(a) => {
                failures.remove(&client);
                Ok(a)
            }
            None => {
                *failures.entry(client).or_insert(0) += 1;
                Err(AuthFailure::InvalidCredentials)
            }
        }
    }

    async fn watch(&self, dir: &str) -> Result<EventWatch, ViewError> {
        self.view.check()?;
        Ok(self.hints.sender(Path::new(dir)).subscribe())
    }
}

/// Delegates to the production view after the test switch.
macro_rules! delegate {
    ($self:ident, $call:expr) => {{
        $self.check()?;
        $call.await
    }};
}

impl MailboxView for TestView {
    type Upload = LocalUpload;

    async fn list_mailboxes(&self, dir: &str) -> Result<Vec<MailboxEntry>, ViewError> {
        delegate!(self, MailboxView::list_mailboxes(&self.view, dir))
    }

    async fn create_mailbox(
        &self,
        dir: &str,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<(FolderId, u32), ViewError> {
        delegate!(
            self,
            MailboxView::create_mailbox(&self.view, dir, name, special_use)
        )
    }

    async fn delete_mailbox(&self, dir: &str, name: &str) -> Result<(), ViewError> {
        delegate!(self, MailboxView::delete_mailbox(&self.view, dir, name))
    }

    async fn rename_mailbox(&self, dir: &str, from: &str, to: &str) -> Result<(), ViewError> {
        delegate!(self, MailboxView::rename_mailbox(&self.view, dir, from, to))
    }

    async fn set_subscription(
        &self,
        dir: &str,
        name: &str,
        subscribed: bool,
    ) -> Result<(), ViewError> {
        delegate!(
            self,
            MailboxView::set_subscription(&self.view, dir, name, subscribed)
        )
    }

    async fn mailbox_status(&self, dir: &str, name: &str) -> Result<MailboxStatus, ViewError> {
        delegate!(self, MailboxView::mailbox_status(&self.view, dir, name))
    }

    async fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
    ) -> Result<ViewStream<Vec<MessageEntry>>, ViewError> {
        delegate!(
            self,
            MailboxView::list_messages(&self.view, dir, folder, uids)
        )
    }

    async fn fetch_metadata(
        &self,
        dir: &str,
        folder: FolderId,
        request: MetadataRequest,
    ) -> Result<ViewStream<MessageMetadata>, ViewError> {
        delegate!(
            self,
            MailboxView::fetch_metadata(&self.view, dir, folder, request)
        )
    }

    async fn fetch_section(
        &self,
        dir: &str,
        folder: FolderId,
        request: SectionRequest,
    ) -> Result<ViewStream<SectionChunk>, ViewError> {
        delegate!(
            self,
            MailboxView::fetch_section(&self.view, dir, folder, request)
        )
    }

    async fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        change: FlagChange,
    ) -> Result<FlagUpdate, ViewError> {
        delegate!(
            self,
            MailboxView::store_flags(&self.view, dir, folder, uids, change)
        )
    }

    async fn begin_append(
        &self,
        dir: &str,
        request: AppendRequest,
    ) -> Result<LocalUpload, ViewError> {
        delegate!(self, MailboxView::begin_append(&self.view, dir, request))
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        target: &str,
        remove: bool,
    ) -> Result<Copied, ViewError> {
        delegate!(
            self,
            MailboxView::copy_messages(&self.view, dir, folder, uids, target, remove)
        )
    }

    async fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        which: ExpungeScope,
    ) -> Result<Expunged, ViewError> {
        delegate!(self, MailboxView::expunge(&self.view, dir, folder, which))
    }

    async fn search(
        &self,
        dir: &str,
        folder: FolderId,
        criteria: SearchKey,
    ) -> Result<SearchResult, ViewError> {
        delegate!(self, MailboxView::search(&self.view, dir, folder, criteria))
    }

    async fn sort(
        &self,
        dir: &str,
        folder: FolderId,
        order: Vec<SortCriterion>,
        criteria: SearchKey,
    ) -> Result<Vec<Uid>, ViewError> {
        delegate!(
            self,
            MailboxView::sort(&self.view, dir, folder, order, criteria)
        )
    }

    async fn thread(
        &self,
        dir: &str,
        folder: FolderId,
        algorithm: ThreadAlgorithm,
        criteria: SearchKey,
    ) -> Result<Vec<ThreadTree>, ViewError> {
        delegate!(
            self,
            MailboxView::thread(&self.view, dir, folder, algorithm, criteria)
        )
    }

    async fn changes(
        &self,
        dir: &str,
        folder: FolderId,
        since: ModSeq,
        vanished: bool,
    ) -> Result<ViewStream<ChangeBatch>, ViewError> {
        self.changes_requests.fetch_add(1, Ordering::Relaxed);
        delegate!(
            self,
            MailboxView::changes(&self.view, dir, folder, since, vanished)
        )
    }

    async fn quota(&self, dir: &str) -> Result<Quota, ViewError> {
        delegate!(self, MailboxView::quota(&self.view, dir))
    }

    async fn claim_recent(
        &self,
        dir: &str,
        folder: FolderId,
        claim_up_to: Option<Uid>,
    ) -> Result<Uid, ViewError> {
        delegate!(
            self,
            MailboxView::claim_recent(&self.view, dir, folder, claim_up_to)
        )
    }
}
