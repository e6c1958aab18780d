//! An in-memory [`Store`] with the store's semantics (UIDs per folder from
//! UIDNEXT, one change number per change, tombstones, content hashes), for
//! tests of midb and of the crates that drive it. It also is a
//! [`ChangeFeed`]: every added message is announced.

use crate::feed::{ChangeFeed, FeedEvent};
use crate::store::*;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Messages per listing chunk.
const LIST_CHUNK: usize = 4096;
/// Bytes per content chunk.
const READ_CHUNK: usize = 64 * 1024;

/// Folder ids of the standard folders (as gromox numbers them).
pub mod ids {
    /// Root Container.
    pub const ROOT: u64 = 0x01;
    /// IPM_SUBTREE.
    pub const IPM: u64 = 0x09;
    /// Sent Items.
    pub const SENT: u64 = 0x0a;
    /// Deleted Items.
    pub const TRASH: u64 = 0x0b;
    /// Outbox.
    pub const OUTBOX: u64 = 0x0c;
    /// Inbox.
    pub const INBOX: u64 = 0x0d;
    /// Drafts.
    pub const DRAFTS: u64 = 0x0e;
    /// Calendar.
    pub const CALENDAR: u64 = 0x0f;
    /// Contacts.
    pub const CONTACTS: u64 = 0x13;
    /// Junk Email.
    pub const JUNK: u64 = 0x17;
    /// Sync Issues.
    pub const SYNC_ISSUES: u64 = 0x19;
}

#[derive(Debug, Clone)]
struct MemMessage {
    entry: MessageEntry,
    bytes: Arc<Vec<u8>>,
}

#[derive(Debug, Clone)]
struct MemFolder {
    info: FolderInfo,
    uidnext: Uid,
    messages: BTreeMap<Uid, MemMessage>,
    tombstones: Vec<(Uid, ChangeNumber)>,
}

#[derive(Debug, Clone)]
struct MemStore {
    cn: ChangeNumber,
    next_folder: FolderId,
    next_uidvalidity: u32,
    folders: BTreeMap<FolderId, MemFolder>,
    unsubscribed: std::collections::HashSet<FolderId>,
    quota_limit: u64,
}

/// Stores kept in memory, by dir.
pub struct MemoryStore {
    stores: Mutex<HashMap<String, MemStore>>,
    reads: AtomicU64,
    added: tokio::sync::broadcast::Sender<(String, FolderId)>,
}

/// A content hash of bytes (not cryptographic; enough for tests).
pub fn hash_of(bytes: &[u8]) -> ContentHash {
    let mut out = String::new();
    for seed in [0x9e37_79b9_u64, 0x85eb_ca6b] {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        bytes.hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    ContentHash(out)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl MemStore {
    fn new() -> MemStore {
        use FolderRole::*;
        let std: &[(u64, u64, &str, &str, Option<FolderRole>)] = &[
            (ids::ROOT, 0, "Root Container", "", None),
            (
                ids::IPM,
                ids::ROOT,
                "Top of Information Store",
                "",
                Some(IpmSubtree),
            ),
            (
                ids::SENT,
                ids::IPM,
                "Sent Items",
                "IPF.Note",
                Some(SentItems),
            ),
            (
                ids::TRASH,
                ids::IPM,
                "Deleted Items",
                "IPF.Note",
                Some(DeletedItems),
            ),
            (ids::OUTBOX, ids::IPM, "Outbox", "IPF.Note", Some(Outbox)),
            (ids::INBOX, ids::IPM, "Inbox", "IPF.Note", Some(Inbox)),
            (ids::DRAFTS, ids::IPM, "Drafts", "IPF.Note", Some(Drafts)),
            (ids::CALENDAR, ids::IPM, "Calendar", "IPF.Appointment", None),
            (ids::CONTACTS, ids::IPM, "Contacts", "IPF.Contact", None),
            (
                ids::JUNK,
                ids::IPM,
                "Junk Email",
                "IPF.Note",
                Some(JunkEmail),
            ),
            (
                ids::SYNC_ISSUES,
                ids::IPM,
                "Sync Issues",
                "IPF.Note",
                Some(SyncIssues),
            ),
        ];
        let mut s = MemStore {
            cn: 0,
            next_folder: 0x100,
            next_uidvalidity: 1000,
            folders: BTreeMap::new(),
            unsubscribed: Default::default(),
            quota_limit: 0,
        };
        for &(id, parent, name, class, role) in std {
            s.add_folder(id, parent, name, class, role);
        }
        s
    }

    fn add_folder(
        &mut self,
        id: FolderId,
        parent: FolderId,
        name: &str,
        class: &str,
        role: Option<FolderRole>,
    ) -> FolderInfo {
        self.cn += 1;
        self.next_uidvalidity += 1;
        let info = FolderInfo {
            id,
            parent,
            display_name: name.to_owned(),
            container_class: class.to_owned(),
            role,
            hidden: false,
            uidvalidity: self.next_uidvalidity,
        };
        self.folders.insert(
            id,
            MemFolder {
                info: info.clone(),
                uidnext: 1,
                messages: BTreeMap::new(),
                tombstones: Vec::new(),
            },
        );
        info
    }

    fn folder(&self, id: FolderId) -> Result<&MemFolder, StoreError> {
        self.folders
            .get(&id)
            .ok_or_else(|| StoreError::NoSuchFolder(id.to_string()))
    }

    fn folder_mut(&mut self, id: FolderId) -> Result<&mut MemFolder, StoreError> {
        self.folders
            .get_mut(&id)
            .ok_or_else(|| StoreError::NoSuchFolder(id.to_string()))
    }

    fn sibling_named(&self, parent: FolderId, name: &str, except: FolderId) -> bool {
        self.folders
            .values()
            .any(|f| f.info.parent == parent && f.info.id != except && f.info.display_name == name)
    }

    fn insert(
        &mut self,
        folder: FolderId,
        bytes: Arc<Vec<u8>>,
        flags: Flags,
        keywords: Vec<String>,
        date: i64,
    ) -> Result<Uid, StoreError> {
        self.cn += 1;
        let cn = self.cn;
        let f = self.folder_mut(folder)?;
        let uid = f.uidnext;
        f.uidnext += 1;
        f.messages.insert(
            uid,
            MemMessage {
                entry: MessageEntry {
                    uid,
                    flags,
                    keywords,
                    modseq: cn,
                    size: bytes.len() as u64,
                    internal_date: if date == 0 { now() } else { date },
                    content: hash_of(&bytes),
                },
                bytes,
            },
        );
        Ok(uid)
    }

    fn remove(&mut self, folder: FolderId, uid: Uid) -> Result<bool, StoreError> {
        self.cn += 1;
        let cn = self.cn;
        let f = self.folder_mut(folder)?;
        let removed = f.messages.remove(&uid).is_some();
        if removed {
            f.tombstones.push((uid, cn));
        }
        Ok(removed)
    }

    fn highest_modseq(f: &MemFolder) -> ChangeNumber {
        let m = f
            .messages
            .values()
            .map(|m| m.entry.modseq)
            .max()
            .unwrap_or(0);
        let t = f.tombstones.iter().map(|t| t.1).max().unwrap_or(0);
        m.max(t)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            stores: Mutex::new(HashMap::new()),
            reads: AtomicU64::new(0),
            added: tokio::sync::broadcast::channel(1024).0,
        }
    }
}

impl MemoryStore {
    /// An empty set of stores.
    pub fn new() -> Arc<MemoryStore> {
        Arc::new(MemoryStore::default())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, MemStore>> {
        self.stores.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with<T>(
        &self,
        dir: &str,
        f: impl FnOnce(&mut MemStore) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut stores = self.lock();
        let s = stores
            .get_mut(dir)
            .ok_or_else(|| StoreError::NoSuchStore(dir.to_owned()))?;
        f(s)
    }

    /// Creates a store with the standard folders at `dir`.
    pub fn create_store(&self, dir: &str) {
        self.lock()
            .entry(dir.to_owned())
            .or_insert_with(MemStore::new);
    }

    /// Delivers `raw` into a folder; returns its UID.
    pub fn deliver(&self, dir: &str, folder: FolderId, raw: &[u8], flags: Flags, date: i64) -> Uid {
        let uid = self
            .with(dir, |s| {
                s.insert(folder, Arc::new(raw.to_vec()), flags, Vec::new(), date)
            })
            .unwrap_or(0);
        let _ = self.added.send((dir.to_owned(), folder));
        uid
    }

    /// How many times message bytes were read.
    pub fn content_reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Sets a quota limit in bytes.
    pub fn set_quota_limit(&self, dir: &str, limit: u64) {
        let _ = self.with(dir, |s| {
            s.quota_limit = limit;
            Ok(())
        });
    }

    /// Hides a folder (PR_ATTR_HIDDEN).
    pub fn set_hidden(&self, dir: &str, folder: FolderId, hidden: bool) {
        let _ = self.with(dir, |s| {
            s.folder_mut(folder)?.info.hidden = hidden;
            Ok(())
        });
    }
}

fn once<T: Send + 'static>(r: Result<T, StoreError>) -> StoreStream<T> {
    futures_util::stream::once(async move { r }).boxed()
}

impl Store for MemoryStore {
    async fn folders(&self, dir: &str) -> Result<Vec<FolderInfo>, StoreError> {
        self.with(dir, |s| {
            Ok(s.folders.values().map(|f| f.info.clone()).collect())
        })
    }

    async fn create_folder(
        &self,
        dir: &str,
        parent: FolderId,
        name: &str,
    ) -> Result<FolderInfo, StoreError> {
        self.with(dir, |s| {
            s.folder(parent)?;
            if s.sibling_named(parent, name, 0) {
                return Err(StoreError::FolderExists(name.to_owned()));
            }
            let id = s.next_folder;
            s.next_folder += 1;
            Ok(s.add_folder(id, parent, name, "IPF.Note", None))
        })
    }

    async fn move_folder(
        &self,
        dir: &str,
        folder: FolderId,
        new_parent: FolderId,
        new_name: &str,
    ) -> Result<(), StoreError> {
        self.with(dir, |s| {
            s.folder(new_parent)?;
            s.folder(folder)?;
            let mut p = new_parent;
            while p != 0 {
                if p == folder {
                    return Err(StoreError::NotPermitted("move below itself".into()));
                }
                p = s.folder(p)?.info.parent;
            }
            if s.sibling_named(new_parent, new_name, folder) {
                return Err(StoreError::FolderExists(new_name.to_owned()));
            }
            s.cn += 1;
            let f = s.folder_mut(folder)?;
            f.info.parent = new_parent;
            f.info.display_name = new_name.to_owned();
            Ok(())
        })
    }

    async fn delete_folder(&self, dir: &str, folder: FolderId) -> Result<(), StoreError> {
        self.with(dir, |s| {
            s.folder(folder)?;
            if s.folders.values().any(|f| f.info.parent == folder) {
                return Err(StoreError::NotPermitted("folder has subfolders".into()));
            }
            s.cn += 1;
            s.folders.remove(&folder);
            Ok(())
        })
    }

    async fn set_subscribed(
        &self,
        dir: &str,
        folder: FolderId,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        self.with(dir, |s| {
            s.folder(folder)?;
            if subscribed {
                s.unsubscribed.remove(&folder);
            } else {
                s.unsubscribed.insert(folder);
            }
            Ok(())
        })
    }

    async fn unsubscribed(
        &self,
        dir: &str,
        folders: Vec<FolderId>,
    ) -> Result<std::collections::HashSet<FolderId>, StoreError> {
        self.with(dir, |s| {
            Ok(folders
                .into_iter()
                .filter(|f| s.unsubscribed.contains(f))
                .collect())
        })
    }

    async fn folder_status(&self, dir: &str, folder: FolderId) -> Result<FolderStatus, StoreError> {
        self.with(dir, |s| {
            let f = s.folder(folder)?;
            let unseen: Vec<&MemMessage> = f
                .messages
                .values()
                .filter(|m| !m.entry.flags.contains(Flags::SEEN))
                .collect();
            Ok(FolderStatus {
                uidvalidity: f.info.uidvalidity,
                uidnext: f.uidnext,
                exists: f.messages.len() as u32,
                unseen: unseen.len() as u32,
                highest_modseq: MemStore::highest_modseq(f),
                size: f.messages.values().map(|m| m.entry.size).sum(),
                // Like groxide-exmdb, the counters midb must derive itself stay unknown.
                deleted: None,
                first_unseen_uid: None,
                highest_uid: None,
            })
        })
    }

    fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
    ) -> StoreStream<Vec<MessageEntry>> {
        let r = self.with(dir, |s| {
            Ok(s.folder(folder)?
                .messages
                .values()
                .filter(|m| uids.contains(m.entry.uid))
                .map(|m| m.entry.clone())
                .collect::<Vec<_>>())
        });
        match r {
            Ok(all) => {
                let chunks: Vec<Result<Vec<MessageEntry>, StoreError>> =
                    all.chunks(LIST_CHUNK).map(|c| Ok(c.to_vec())).collect();
                futures_util::stream::iter(chunks).boxed()
            }
            Err(e) => once(Err(e)),
        }
    }

    fn changes(
        &self,
        dir: &str,
        folder: FolderId,
        since: ChangeNumber,
    ) -> StoreStream<ChangeBatch> {
        once(self.with(dir, |s| {
            let f = s.folder(folder)?;
            Ok(ChangeBatch {
                changed: f
                    .messages
                    .values()
                    .filter(|m| m.entry.modseq > since)
                    .map(|m| m.entry.clone())
                    .collect(),
                vanished: f
                    .tombstones
                    .iter()
                    .filter(|t| t.1 > since)
                    .map(|t| t.0)
                    .collect(),
                highest_modseq: MemStore::highest_modseq(f),
            })
        }))
    }

    fn read_message(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        range: std::ops::Range<u64>,
    ) -> StoreStream<Bytes> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let r = self.with(dir, |s| {
            s.folder(folder)?
                .messages
                .get(&uid)
                .map(|m| m.bytes.clone())
                .ok_or_else(|| StoreError::NoSuchMessage(format!("uid {uid}")))
        });
        match r {
            Ok(bytes) => {
                let len = bytes.len() as u64;
                let start = range.start.min(len) as usize;
                let end = range.end.min(len) as usize;
                let data = Bytes::from(
                    bytes
                        .get(start..end.max(start))
                        .unwrap_or_default()
                        .to_vec(),
                );
                let chunks: Vec<Result<Bytes, StoreError>> = (0..data.len())
                    .step_by(READ_CHUNK)
                    .map(|i| Ok(data.slice(i..(i + READ_CHUNK).min(data.len()))))
                    .collect();
                futures_util::stream::iter(chunks).boxed()
            }
            Err(e) => once(Err(e)),
        }
    }

    async fn read_message_sized(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        range: std::ops::Range<u64>,
    ) -> Result<(u64, StoreStream<Bytes>), StoreError> {
        let size = self.with(dir, |s| {
            s.folder(folder)?
                .messages
                .get(&uid)
                .map(|m| m.bytes.len() as u64)
                .ok_or_else(|| StoreError::NoSuchMessage(format!("uid {uid}")))
        })?;
        Ok((size, self.read_message(dir, folder, uid, range)))
    }

    async fn store_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        change: &FlagChange,
    ) -> Result<FlagUpdate, StoreError> {
        self.with(dir, |s| {
            let targets: Vec<Uid> = s
                .folder(folder)?
                .messages
                .keys()
                .copied()
                .filter(|u| uids.contains(*u))
                .collect();
            let mut out = FlagUpdate::default();
            for uid in targets {
                let cn = s.cn + 1;
                let f = s.folder_mut(folder)?;
                let Some(m) = f.messages.get_mut(&uid) else {
                    continue;
                };
                if change.unchanged_since > 0 && m.entry.modseq > change.unchanged_since {
                    out.modified.push(uid);
                    continue;
                }
                let (flags, mut keywords) = match change.mode {
                    FlagMode::Replace => (change.flags, change.keywords.clone()),
                    FlagMode::Add => {
                        let mut k = m.entry.keywords.clone();
                        for x in &change.keywords {
                            if !k.iter().any(|y| y.eq_ignore_ascii_case(x)) {
                                k.push(x.clone());
                            }
                        }
                        (m.entry.flags.with(change.flags), k)
                    }
                    FlagMode::Remove => (
                        m.entry.flags.without(change.flags),
                        m.entry
                            .keywords
                            .iter()
                            .filter(|y| !change.keywords.iter().any(|x| x.eq_ignore_ascii_case(y)))
                            .cloned()
                            .collect(),
                    ),
                };
                keywords.sort();
                let mut old = m.entry.keywords.clone();
                old.sort();
                if flags != m.entry.flags || keywords != old {
                    m.entry.flags = flags;
                    m.entry.keywords = keywords;
                    m.entry.modseq = cn;
                    s.cn = cn;
                }
                if let Some(m) = s.folder(folder)?.messages.get(&uid) {
                    out.updated.push(m.entry.clone());
                }
            }
            Ok(out)
        })
    }

    async fn append(
        &self,
        dir: &str,
        meta: AppendMeta,
        body: StoreStream<Bytes>,
    ) -> Result<Appended, StoreError> {
        let chunks: Vec<Bytes> = body.try_collect().await?;
        let mut bytes = Vec::new();
        for c in chunks {
            bytes.extend_from_slice(&c);
        }
        let r = self.with(dir, |s| {
            if s.quota_limit > 0 {
                let used: u64 = s
                    .folders
                    .values()
                    .flat_map(|f| f.messages.values())
                    .map(|m| m.entry.size)
                    .sum();
                if used + bytes.len() as u64 > s.quota_limit {
                    return Err(StoreError::QuotaExceeded(dir.to_owned()));
                }
            }
            let uid = s.insert(
                meta.folder,
                Arc::new(bytes),
                meta.flags,
                meta.keywords.clone(),
                meta.internal_date,
            )?;
            Ok(Appended {
                uidvalidity: s.folder(meta.folder)?.info.uidvalidity,
                uid,
            })
        })?;
        let _ = self.added.send((dir.to_owned(), meta.folder));
        Ok(r)
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        target: FolderId,
        remove_source: bool,
    ) -> Result<Copied, StoreError> {
        let r = self.with(dir, |s| {
            let picked: Vec<MemMessage> = s
                .folder(folder)?
                .messages
                .values()
                .filter(|m| uids.contains(m.entry.uid))
                .cloned()
                .collect();
            s.folder(target)?;
            let mut out = Copied {
                target_uidvalidity: s.folder(target)?.info.uidvalidity,
                ..Copied::default()
            };
            for m in picked {
                let new = s.insert(
                    target,
                    m.bytes.clone(),
                    m.entry.flags,
                    m.entry.keywords.clone(),
                    m.entry.internal_date,
                )?;
                out.pairs.push((m.entry.uid, new));
                if remove_source {
                    s.remove(folder, m.entry.uid)?;
                }
            }
            out.modseq = s.cn;
            Ok(out)
        })?;
        let _ = self.added.send((dir.to_owned(), target));
        Ok(r)
    }

    async fn expunge(
        &self,
        dir: &str,
        folder: FolderId,
        uids: Option<&UidSet>,
        unconditional: bool,
    ) -> Result<Expunged, StoreError> {
        self.with(dir, |s| {
            let picked: Vec<Uid> = s
                .folder(folder)?
                .messages
                .values()
                .filter(|m| uids.is_none_or(|u| u.contains(m.entry.uid)))
                .filter(|m| unconditional || m.entry.flags.contains(Flags::DELETED))
                .map(|m| m.entry.uid)
                .collect();
            let mut out = Expunged::default();
            for uid in picked {
                if s.remove(folder, uid)? {
                    out.uids.push(uid);
                }
            }
            out.modseq = s.cn;
            Ok(out)
        })
    }

    async fn quota(&self, dir: &str) -> Result<Quota, StoreError> {
        self.with(dir, |s| {
            let all = s.folders.values().flat_map(|f| f.messages.values());
            let (n, used) = all.fold((0u64, 0u64), |(n, b), m| (n + 1, b + m.entry.size));
            Ok(Quota {
                used_bytes: used,
                limit_bytes: s.quota_limit,
                messages: n,
                message_limit: 0,
            })
        })
    }
}

impl ChangeFeed for MemoryStore {
    fn follow(&self, dir: &str) -> BoxStream<'static, FeedEvent> {
        let dir = dir.to_owned();
        tokio_stream::wrappers::BroadcastStream::new(self.added.subscribe())
            .filter_map(move |r| {
                let e = match r {
                    Ok((d, f)) if d == dir => Some(FeedEvent::Added(f)),
                    Ok(_) => None,
                    Err(_) => Some(FeedEvent::Resync),
                };
                futures_util::future::ready(e)
            })
            .boxed()
    }
}
