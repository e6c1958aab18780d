//! EWS notifications: the subscriptions of Subscribe (pull and streaming),
//! what GetEvents and GetStreamingEvents find in them, Unsubscribe.
//!
//! A subscription keeps a [`StoreMark`]: per folder of the store its
//! parent, own change number, counts, the highest change number it has
//! looked at and the highest UID it knew. Its events are what the store
//! shows changed since that mark ([`diff`]): a message whose UID is above
//! the mark appeared (`CreatedEvent`, and `NewMailEvent` for an unread,
//! non-draft message in a mail folder), one at or below it changed
//! (`ModifiedEvent`); a tombstone at or below it is a removal. A message id
//! that left one folder and appeared in another is a `MovedEvent`; a
//! message that CopyItem of this process just made is a `CopiedEvent`.
//! Folders are compared with the mark the same way. A hint from
//! groxide-event (the shared [`groxide_rpc::EventHub`]) only says when to
//! look; a missed hint delays an event, it never loses one.
//!
//! Bounds: subscriptions per store and in all, pending events per
//! subscription (an overflow answers `ErrorMissedNotificationEvents` and
//! ends the subscription), and expiry: a pull subscription after its
//! `Timeout` without GetEvents, a streaming one after
//! [`NotificationLimits::streaming_idle`] without a connection.
//! Subscriptions live in the memory of the node that made them (the
//! clients send `X-AnchorMailbox`/affinity so that their calls come back).

use crate::ids::{FolderKey, ItemKey, StoreGuid, change_key};
use crate::items::{FLAG_DRAFT, FLAG_SEEN, ItemKind, date_time};
use crate::response::{EwsError, ResponseCode};
use crate::xml::XmlWriter;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use groxide_rpc::pb::exmdb::v1 as pb;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The limits of notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationLimits {
    /// Subscriptions one store may have at once.
    pub per_store: usize,
    /// Subscriptions this process keeps at once.
    pub total: usize,
    /// Events a subscription holds before the client fetched them.
    pub pending: usize,
    /// Events one GetEvents answer carries (the rest: `MoreEvents`).
    pub per_answer: usize,
    /// How long a streaming subscription lives without a connection.
    pub streaming_idle: Duration,
    /// How often a streaming connection without events says it is alive.
    pub keep_alive: Duration,
    /// How long a streaming connection waits between looks at the store
    /// when no hint came (a hint may be lost; the look is cheap).
    pub recheck: Duration,
}

impl Default for NotificationLimits {
    fn default() -> NotificationLimits {
        NotificationLimits {
            per_store: 20,
            total: 10_000,
            pending: 1000,
            per_answer: 50,
            streaming_idle: Duration::from_secs(30 * 60),
            keep_alive: Duration::from_secs(30),
            recheck: Duration::from_secs(30),
        }
    }
}

/// The event types of the schema's `NotificationEventTypeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `NewMailEvent`.
    NewMail,
    /// `CreatedEvent`.
    Created,
    /// `DeletedEvent`.
    Deleted,
    /// `ModifiedEvent`.
    Modified,
    /// `MovedEvent`.
    Moved,
    /// `CopiedEvent`.
    Copied,
}

impl EventKind {
    const ALL: [EventKind; 6] = [
        EventKind::NewMail,
        EventKind::Created,
        EventKind::Deleted,
        EventKind::Modified,
        EventKind::Moved,
        EventKind::Copied,
    ];

    /// The element (and `EventType` value) of the event.
    pub fn element(self) -> &'static str {
        match self {
            EventKind::NewMail => "NewMailEvent",
            EventKind::Created => "CreatedEvent",
            EventKind::Deleted => "DeletedEvent",
            EventKind::Modified => "ModifiedEvent",
            EventKind::Moved => "MovedEvent",
            EventKind::Copied => "CopiedEvent",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The event types a subscription asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventKinds(u8);

impl EventKinds {
    /// Adds one `EventType` value. `FreeBusyChangedEvent` is accepted and
    /// never produced (this server has no free/busy publishing to watch).
    pub fn add(&mut self, name: &str) -> Result<(), EwsError> {
        if name == "FreeBusyChangedEvent" {
            return Ok(());
        }
        match EventKind::ALL.iter().find(|k| k.element() == name) {
            Some(k) => {
                self.0 |= k.bit();
                Ok(())
            }
            None => Err(EwsError::invalid(format!("{name} is not an event type"))),
        }
    }

    /// Whether `kind` was asked for.
    pub fn has(self, kind: EventKind) -> bool {
        self.0 & kind.bit() != 0
    }
}

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// A message or groupware item.
    Item {
        /// Where it is now (where it was, for a deletion).
        key: ItemKey,
        /// Its change number (0: gone).
        change_number: u64,
        /// Where it was, for moves and copies.
        old: Option<ItemKey>,
    },
    /// A folder.
    Folder {
        /// The folder.
        id: u64,
        /// Its parent now (before, for a deletion).
        parent: u64,
        /// Its parent before a move.
        old_parent: Option<u64>,
        /// Its unread count (modifications).
        unread: Option<u64>,
    },
}

impl Object {
    fn touches(&self, folder: u64) -> bool {
        match self {
            Object::Item { key, old, .. } => {
                key.folder == folder || old.is_some_and(|o| o.folder == folder)
            }
            Object::Folder {
                id,
                parent,
                old_parent,
                ..
            } => *id == folder || *parent == folder || *old_parent == Some(folder),
        }
    }
}

/// One event as a subscription holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The type.
    pub kind: EventKind,
    /// Its position in the subscription (its watermark).
    pub seq: u64,
    /// When it was found (Unix seconds).
    pub time: i64,
    /// What it is about.
    pub object: Object,
}

/// What a subscription knew of one folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct FolderMark {
    parent: u64,
    uidvalidity: u32,
    change_number: u64,
    known_cn: u64,
    known_uid: u32,
    messages: u64,
    unread: u64,
    mail: bool,
}

/// What a subscription knew of the store: its visible folders.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreMark {
    folders: BTreeMap<u64, FolderMark>,
}

fn visible(folders: &[pb::Folder]) -> impl Iterator<Item = &pb::Folder> {
    // Hidden folders hold state (ActiveSync devices, configuration), not
    // anything a user would want to hear about.
    folders.iter().filter(|f| !f.hidden && f.parent_id != 0)
}

fn is_mail(f: &pb::Folder) -> bool {
    ItemKind::of_container_class(&f.container_class) == ItemKind::Message
}

impl StoreMark {
    /// The store as it is now.
    pub fn of(folders: &[pb::Folder]) -> StoreMark {
        StoreMark {
            folders: visible(folders)
                .map(|f| {
                    (
                        f.id,
                        FolderMark::of(f, f.highest_modseq, f.uidnext.saturating_sub(1)),
                    )
                })
                .collect(),
        }
    }

    /// The folders whose messages changed since the mark, and since when.
    pub fn wanted(&self, folders: &[pb::Folder]) -> Vec<(u64, u64)> {
        visible(folders)
            .filter_map(|f| match self.folders.get(&f.id) {
                Some(m) if m.uidvalidity == f.uidvalidity => {
                    (f.highest_modseq > m.known_cn).then_some((f.id, m.known_cn))
                }
                _ => Some((f.id, 0)),
            })
            .collect()
    }
}

impl FolderMark {
    fn of(f: &pb::Folder, known_cn: u64, known_uid: u32) -> FolderMark {
        FolderMark {
            parent: f.parent_id,
            uidvalidity: f.uidvalidity,
            change_number: f.change_number,
            known_cn,
            known_uid,
            messages: f.message_count,
            unread: f.unread_count,
            mail: is_mail(f),
        }
    }
}

/// The events between a mark and the store's folders now, with the message
/// changes of the folders [`StoreMark::wanted`] named (changes since the
/// mark, and the highest change number read with them); `copied` names
/// the source of a message CopyItem made. Returns the events in store
/// order and the new mark.
pub fn diff(
    mark: &StoreMark,
    folders: &[pb::Folder],
    changes: &HashMap<u64, (Vec<pb::MessageChange>, u64)>,
    store: StoreGuid,
    copied: &dyn Fn(u64) -> Option<ItemKey>,
) -> (Vec<(EventKind, Object)>, StoreMark) {
    let mut events = Vec::new();
    let mut next = StoreMark::default();
    let now: BTreeMap<u64, &pb::Folder> = visible(folders).map(|f| (f.id, f)).collect();
    let key = |folder: u64, mail: bool, message: u64, uid: u32| ItemKey {
        store,
        folder,
        message,
        // Groupware item ids carry no UID (see Mailbox::read_item).
        uid: if mail { uid } else { 0 },
    };

    // Folders that appeared, moved or changed; then their messages.
    let mut modified = Vec::new();
    for (id, f) in &now {
        match mark.folders.get(id) {
            None => events.push((
                EventKind::Created,
                Object::Folder {
                    id: *id,
                    parent: f.parent_id,
                    old_parent: None,
                    unread: None,
                },
            )),
            Some(m) if m.parent != f.parent_id => events.push((
                EventKind::Moved,
                Object::Folder {
                    id: *id,
                    parent: f.parent_id,
                    old_parent: Some(m.parent),
                    unread: None,
                },
            )),
            Some(m)
                if m.change_number != f.change_number
                    || m.messages != f.message_count
                    || m.unread != f.unread_count =>
            {
                modified.push((
                    EventKind::Modified,
                    Object::Folder {
                        id: *id,
                        parent: f.parent_id,
                        old_parent: None,
                        unread: Some(f.unread_count),
                    },
                ));
            }
            Some(_) => {}
        }
    }

    // (change number, event) of messages, paired by message id afterwards.
    let mut appeared: Vec<(u64, ItemKey, u32)> = Vec::new();
    let mut left: Vec<(u64, ItemKey)> = Vec::new();
    let mut items: Vec<(u64, EventKind, Object)> = Vec::new();
    for (id, f) in &now {
        let old = mark
            .folders
            .get(id)
            .filter(|m| m.uidvalidity == f.uidvalidity);
        let known_uid = old.map(|m| m.known_uid).unwrap_or(0);
        let mail = is_mail(f);
        let mut folder_mark = match old {
            Some(m) => FolderMark::of(f, m.known_cn, m.known_uid),
            None => FolderMark::of(f, 0, 0),
        };
        if let Some((found, highest)) = changes.get(id) {
            for c in found {
                match &c.change {
                    Some(pb::message_change::Change::Changed(e)) => {
                        let k = key(*id, mail, e.message_id, e.uid);
                        if e.uid > known_uid {
                            appeared.push((e.change_number, k, e.flags));
                        } else {
                            items.push((
                                e.change_number,
                                EventKind::Modified,
                                Object::Item {
                                    key: k,
                                    change_number: e.change_number,
                                    old: None,
                                },
                            ));
                        }
                        folder_mark.known_uid = folder_mark.known_uid.max(e.uid);
                    }
                    // Gone before anyone was told it came: nothing to say.
                    Some(pb::message_change::Change::Removed(r)) if r.uid > known_uid => {}
                    Some(pb::message_change::Change::Removed(r)) => {
                        left.push((r.change_number, key(*id, mail, r.message_id, r.uid)));
                    }
                    None => {}
                }
            }
            folder_mark.known_cn = folder_mark.known_cn.max(*highest);
        }
        next.folders.insert(*id, folder_mark);
    }
    let mut moved_from: HashMap<u64, ItemKey> = HashMap::new();
    for (cn, k) in left {
        if appeared.iter().any(|(_, a, _)| a.message == k.message) {
            moved_from.insert(k.message, k);
        } else {
            items.push((
                cn,
                EventKind::Deleted,
                Object::Item {
                    key: k,
                    change_number: 0,
                    old: None,
                },
            ));
        }
    }
    for (cn, k, flags) in appeared {
        if let Some(from) = moved_from.get(&k.message) {
            items.push((
                cn,
                EventKind::Moved,
                Object::Item {
                    key: k,
                    change_number: cn,
                    old: Some(*from),
                },
            ));
            continue;
        }
        let object = Object::Item {
            key: k,
            change_number: cn,
            old: None,
        };
        if let Some(source) = copied(k.message) {
            items.push((
                cn,
                EventKind::Copied,
                Object::Item {
                    key: k,
                    change_number: cn,
                    old: Some(source),
                },
            ));
            continue;
        }
        items.push((cn, EventKind::Created, object.clone()));
        let new_mail = k.uid != 0
            && next.folders.get(&k.folder).is_some_and(|m| m.mail)
            && flags & (FLAG_SEEN | FLAG_DRAFT) == 0;
        if new_mail {
            items.push((cn, EventKind::NewMail, object));
        }
    }
    items.sort_by_key(|(cn, _, _)| *cn);
    events.extend(items.into_iter().map(|(_, k, o)| (k, o)));
    events.extend(modified);

    for (id, m) in &mark.folders {
        if !now.contains_key(id) {
            events.push((
                EventKind::Deleted,
                Object::Folder {
                    id: *id,
                    parent: m.parent,
                    old_parent: None,
                    unread: None,
                },
            ));
        }
    }
    (events, next)
}

/// Which folders a subscription watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `SubscribeToAllFolders`.
    All,
    /// These folders.
    Folders(Vec<u64>),
}

impl Scope {
    fn covers(&self, object: &Object) -> bool {
        match self {
            Scope::All => true,
            Scope::Folders(ids) => ids.iter().any(|f| object.touches(*f)),
        }
    }
}

/// Pull (GetEvents) or streaming (GetStreamingEvents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Expires after `timeout` without GetEvents.
    Pull {
        /// The client's `Timeout`.
        timeout: Duration,
    },
    /// Expires after [`NotificationLimits::streaming_idle`] without a connection.
    Streaming,
}

/// The changing part of a subscription.
#[derive(Debug)]
pub struct SubscriptionState {
    /// What was known when the events in `pending` were found.
    pub mark: StoreMark,
    /// Events not yet acknowledged (pull) or sent (streaming).
    pub pending: VecDeque<Event>,
    /// The last watermark given out.
    pub seq: u64,
    /// Events were dropped: the subscription is over.
    pub missed: bool,
    /// The last GetEvents answer said `MoreEvents`: (the watermark it was
    /// asked with, the last event it carried). The same watermark again
    /// asks for the next page (exchangelib pages so), not a repetition.
    pub paging: Option<(u64, u64)>,
}

/// One subscription.
#[derive(Debug)]
pub struct Subscription {
    /// Its id.
    pub id: String,
    /// The store it watches.
    pub dir: String,
    /// The folders.
    pub scope: Scope,
    /// The event types.
    pub kinds: EventKinds,
    /// Pull or streaming.
    pub mode: Mode,
    expires: Mutex<Instant>,
    /// Bumped by each streaming connection; an older connection ends.
    pub connection: AtomicU64,
    /// The mark and pending events (one look at the store at a time).
    pub state: tokio::sync::Mutex<SubscriptionState>,
}

impl Subscription {
    fn expired(&self, now: Instant) -> bool {
        *self.expires.lock().unwrap_or_else(PoisonError::into_inner) <= now
    }

    /// Keeps the subscription alive for `period` from now.
    pub fn touch(&self, period: Duration) {
        *self.expires.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now() + period;
    }

    /// Adds what [`diff`] found and this subscription asked for; false
    /// (and the subscription is over) when too many are pending.
    pub fn take(
        &self,
        state: &mut SubscriptionState,
        found: Vec<(EventKind, Object)>,
        mark: StoreMark,
        time: i64,
        limit: usize,
    ) -> bool {
        state.mark = mark;
        for (kind, object) in found {
            if !self.kinds.has(kind) || !self.scope.covers(&object) {
                continue;
            }
            state.seq += 1;
            state.pending.push_back(Event {
                kind,
                seq: state.seq,
                time,
                object,
            });
        }
        if state.pending.len() > limit {
            state.pending.clear();
            state.missed = true;
        }
        !state.missed
    }
}

/// The subscriptions of this process.
#[derive(Debug, Default)]
pub struct Subscriptions {
    map: Mutex<HashMap<String, Arc<Subscription>>>,
    limits: Mutex<NotificationLimits>,
}

impl Subscriptions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Subscription>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The limits in force.
    pub fn limits(&self) -> NotificationLimits {
        *self.limits.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the limits (start-up, SIGHUP).
    pub fn set_limits(&self, limits: NotificationLimits) {
        *self.limits.lock().unwrap_or_else(PoisonError::into_inner) = limits;
    }

    /// Live subscriptions (metrics, tests).
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a subscription of `dir` starting at `mark`.
    pub fn add(
        &self,
        dir: &str,
        scope: Scope,
        kinds: EventKinds,
        mode: Mode,
        mark: StoreMark,
    ) -> Result<Arc<Subscription>, EwsError> {
        let limits = self.limits();
        let now = Instant::now();
        let mut map = self.map();
        map.retain(|_, s| !s.expired(now));
        if map.len() >= limits.total
            || map.values().filter(|s| s.dir == dir).count() >= limits.per_store
        {
            return Err(EwsError::new(
                ResponseCode::ErrorTooManyObjectsOpened,
                "too many subscriptions; unsubscribe or let some expire",
            ));
        }
        let period = match mode {
            Mode::Pull { timeout } => timeout,
            Mode::Streaming => limits.streaming_idle,
        };
        let id = STANDARD.encode(rand::random::<[u8; 18]>());
        let s = Arc::new(Subscription {
            id: id.clone(),
            dir: dir.to_string(),
            scope,
            kinds,
            mode,
            expires: Mutex::new(now + period),
            connection: AtomicU64::new(0),
            state: tokio::sync::Mutex::new(SubscriptionState {
                mark,
                pending: VecDeque::new(),
                seq: 0,
                missed: false,
                paging: None,
            }),
        });
        map.insert(id, s.clone());
        Ok(s)
    }

    /// The live subscription `id` of the store `dir`.
    pub fn get(&self, id: &str, dir: &str) -> Result<Arc<Subscription>, EwsError> {
        let mut map = self.map();
        let now = Instant::now();
        let s = match map.get(id.trim()) {
            Some(s) if s.expired(now) => {
                map.remove(id.trim());
                return Err(EwsError::new(
                    ResponseCode::ErrorExpiredSubscription,
                    "the subscription expired",
                ));
            }
            Some(s) => s.clone(),
            None => {
                return Err(EwsError::new(
                    ResponseCode::ErrorSubscriptionNotFound,
                    "no such subscription (it may have expired, or been made on another server)",
                ));
            }
        };
        if s.dir != dir {
            return Err(EwsError::new(
                ResponseCode::ErrorSubscriptionAccessDenied,
                "the subscription belongs to another mailbox",
            ));
        }
        Ok(s)
    }

    /// Whether `id` is still subscribed.
    pub fn has(&self, id: &str) -> bool {
        self.map().contains_key(id)
    }

    /// Ends a subscription.
    pub fn remove(&self, id: &str) {
        self.map().remove(id.trim());
    }
}

/// Messages CopyItem made in this process, by store and new message id,
/// so that their appearance is a `CopiedEvent` with the source (a copy
/// made elsewhere is a `CreatedEvent`).
#[derive(Debug, Default)]
pub struct CopyNotes {
    map: Mutex<HashMap<(String, u64), (ItemKey, Instant)>>,
}

/// Copies remembered at once; older ones go first.
const MAX_COPY_NOTES: usize = 10_000;
/// How long a copy is remembered (a subscription looks within seconds).
const COPY_NOTE_AGE: Duration = Duration::from_secs(600);

impl CopyNotes {
    /// Remembers that `message` of `dir` is a copy of `source`.
    pub fn note(&self, dir: &str, message: u64, source: ItemKey) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_COPY_NOTES {
            let now = Instant::now();
            map.retain(|_, (_, at)| now.duration_since(*at) < COPY_NOTE_AGE);
            if map.len() >= MAX_COPY_NOTES {
                map.clear();
            }
        }
        map.insert((dir.to_string(), message), (source, Instant::now()));
    }

    /// The source of a copy, if this process made it.
    pub fn source(&self, dir: &str, message: u64) -> Option<ItemKey> {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(dir.to_string(), message))
            .filter(|(_, at)| at.elapsed() < COPY_NOTE_AGE)
            .map(|(k, _)| *k)
    }
}

const WATERMARK_TAG: &[u8] = b"gxwm";

/// The `Watermark` of position `seq` of a subscription.
pub fn watermark(seq: u64) -> String {
    let mut raw = WATERMARK_TAG.to_vec();
    raw.extend_from_slice(&seq.to_be_bytes());
    STANDARD.encode(raw)
}

/// The position a `Watermark` names.
pub fn parse_watermark(text: &str) -> Result<u64, EwsError> {
    let bad = || EwsError::new(ResponseCode::ErrorInvalidWatermark, "malformed watermark");
    let raw = STANDARD.decode(text.trim()).map_err(|_| bad())?;
    match raw.strip_prefix(WATERMARK_TAG) {
        Some(n) => Ok(u64::from_be_bytes(n.try_into().map_err(|_| bad())?)),
        None => Err(bad()),
    }
}

fn folder_id(w: &mut XmlWriter, element: &str, store: StoreGuid, folder: u64) {
    let id = FolderKey { store, folder }.encode();
    w.empty(element, &[("Id", &id)]);
}

/// One event element (`t:…Event`) of the store `store`.
pub fn write_event(w: &mut XmlWriter, store: StoreGuid, e: &Event) {
    w.open(&format!("t:{}", e.kind.element()), &[])
        .leaf("t:Watermark", &watermark(e.seq))
        .leaf("t:TimeStamp", &date_time(e.time));
    match &e.object {
        Object::Item {
            key,
            change_number,
            old,
        } => {
            let id = key.encode();
            if *change_number > 0 {
                let ck = change_key(*change_number);
                w.empty("t:ItemId", &[("Id", &id), ("ChangeKey", &ck)]);
            } else {
                w.empty("t:ItemId", &[("Id", &id)]);
            }
            folder_id(w, "t:ParentFolderId", key.store, key.folder);
            if let Some(o) = old {
                w.empty("t:OldItemId", &[("Id", &o.encode())]);
                folder_id(w, "t:OldParentFolderId", o.store, o.folder);
            }
        }
        Object::Folder {
            id,
            parent,
            old_parent,
            unread,
        } => {
            folder_id(w, "t:FolderId", store, *id);
            folder_id(w, "t:ParentFolderId", store, *parent);
            if let Some(p) = old_parent {
                folder_id(w, "t:OldFolderId", store, *id);
                folder_id(w, "t:OldParentFolderId", store, *p);
            }
            if let (EventKind::Modified, Some(n)) = (e.kind, unread) {
                w.leaf("t:UnreadCount", &n.to_string());
            }
        }
    }
    w.close();
}

/// `t:Notification` content after its opening: the id, the previous
/// watermark, whether more follow and the events (a `StatusEvent` at
/// `previous` when there are none).
pub fn write_notification(
    w: &mut XmlWriter,
    store: StoreGuid,
    id: &str,
    previous: u64,
    more: bool,
    events: &[Event],
) {
    w.leaf("t:SubscriptionId", id)
        .leaf("t:PreviousWatermark", &watermark(previous))
        .leaf("t:MoreEvents", if more { "true" } else { "false" });
    if events.is_empty() {
        w.open("t:StatusEvent", &[])
            .leaf("t:Watermark", &watermark(previous))
            .close();
    }
    for e in events {
        write_event(w, store, e);
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: StoreGuid = [7; 16];

    fn folder(id: u64, parent: u64, class: &str, uidnext: u32, modseq: u64) -> pb::Folder {
        pb::Folder {
            id,
            parent_id: parent,
            container_class: class.into(),
            uidvalidity: 1,
            uidnext,
            highest_modseq: modseq,
            ..pb::Folder::default()
        }
    }

    fn changed(uid: u32, message_id: u64, cn: u64, flags: u32) -> pb::MessageChange {
        pb::MessageChange {
            change: Some(pb::message_change::Change::Changed(pb::MessageEntry {
                uid,
                message_id,
                change_number: cn,
                flags,
                ..pb::MessageEntry::default()
            })),
        }
    }

    fn removed(uid: u32, message_id: u64, cn: u64) -> pb::MessageChange {
        pb::MessageChange {
            change: Some(pb::message_change::Change::Removed(pb::RemovedMessage {
                uid,
                message_id,
                change_number: cn,
                ..pb::RemovedMessage::default()
            })),
        }
    }

    /// An event as (element, folder, message, old folder).
    type Shown = (&'static str, u64, u64, Option<u64>);

    /// The events between `before` and `after` (changes per folder).
    fn check(
        before: &[pb::Folder],
        after: &[pb::Folder],
        changes: &[(u64, Vec<pb::MessageChange>)],
        copied: Option<(u64, ItemKey)>,
    ) -> (Vec<Shown>, StoreMark) {
        let mark = StoreMark::of(before);
        let wanted = mark.wanted(after);
        let mut map = HashMap::new();
        for (f, c) in changes {
            assert!(
                wanted.iter().any(|(w, _)| w == f),
                "folder {f} not wanted: {wanted:?}"
            );
            let high = after.iter().find(|x| x.id == *f).unwrap().highest_modseq;
            map.insert(*f, (c.clone(), high));
        }
        let copy = move |m: u64| copied.filter(|(id, _)| *id == m).map(|(_, k)| k);
        let (events, next) = diff(&mark, after, &map, STORE, &copy);
        let shown = events
            .into_iter()
            .map(|(k, o)| match o {
                Object::Item { key, old, .. } => {
                    (k.element(), key.folder, key.message, old.map(|o| o.folder))
                }
                Object::Folder { id, old_parent, .. } => (k.element(), id, 0, old_parent),
            })
            .collect();
        (shown, next)
    }

    const MAIL: &str = "IPF.Note";

    #[test]
    fn a_delivery_is_created_and_new_mail_and_the_folder_is_modified() {
        let before = [folder(1, 9, MAIL, 5, 100)];
        let mut after = [folder(1, 9, MAIL, 6, 101)];
        after[0].message_count = 1;
        let (events, next) = check(&before, &after, &[(1, vec![changed(5, 50, 101, 0)])], None);
        assert_eq!(
            events,
            [
                ("CreatedEvent", 1, 50, None),
                ("NewMailEvent", 1, 50, None),
                ("ModifiedEvent", 1, 0, None),
            ]
        );
        // Nothing more once the mark has it.
        let (again, _) = diff(&next, &after, &HashMap::new(), STORE, &|_| None);
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn flags_moves_deletions_and_copies_are_told_apart() {
        let before = [folder(1, 9, MAIL, 10, 100), folder(2, 9, MAIL, 3, 90)];
        let after = [folder(1, 9, MAIL, 12, 105), folder(2, 9, MAIL, 5, 106)];
        let inbox = vec![
            changed(4, 40, 101, FLAG_SEEN),   // flagged
            removed(5, 50, 102),              // moved to 2
            removed(6, 60, 103),              // deleted
            changed(10, 100, 104, FLAG_SEEN), // new but read: no NewMail
            removed(11, 110, 105),            // came and went: nothing
        ];
        let other = vec![changed(3, 50, 102, 0), changed(4, 70, 106, 0)];
        let source = ItemKey {
            store: STORE,
            folder: 1,
            message: 41,
            uid: 3,
        };
        let (events, next) = check(
            &before,
            &after,
            &[(1, inbox), (2, other)],
            Some((70, source)),
        );
        assert_eq!(
            events,
            [
                ("ModifiedEvent", 1, 40, None),
                ("MovedEvent", 2, 50, Some(1)),
                ("DeletedEvent", 1, 60, None),
                ("CreatedEvent", 1, 100, None),
                ("CopiedEvent", 2, 70, Some(1)),
            ]
        );
        assert_eq!(next.folders[&1].known_cn, 105);
        assert_eq!(next.folders[&1].known_uid, 10);
        assert_eq!(next.folders[&2].known_uid, 4);
    }

    #[test]
    fn folders_created_moved_and_deleted_are_events_and_hidden_ones_are_not() {
        let mut hidden = folder(5, 9, MAIL, 1, 1);
        hidden.hidden = true;
        let before = [
            folder(1, 9, MAIL, 1, 1),
            folder(2, 9, MAIL, 1, 1),
            hidden.clone(),
        ];
        let mut hidden_after = hidden;
        hidden_after.highest_modseq = 50;
        hidden_after.change_number = 50;
        let after = [
            folder(1, 2, MAIL, 1, 1),
            folder(3, 9, MAIL, 1, 1),
            hidden_after,
        ];
        let (events, _) = check(&before, &after, &[], None);
        assert_eq!(
            events,
            [
                ("MovedEvent", 1, 0, Some(9)),
                ("CreatedEvent", 3, 0, None),
                ("DeletedEvent", 2, 0, None),
            ]
        );
    }

    #[test]
    fn groupware_items_have_no_uid_in_their_ids_and_are_no_new_mail() {
        let before = [folder(4, 9, "IPF.Appointment", 1, 10)];
        let after = [folder(4, 9, "IPF.Appointment", 2, 11)];
        let mark = StoreMark::of(&before);
        let mut map = HashMap::new();
        map.insert(4, (vec![changed(1, 77, 11, 0)], 11));
        let (events, _) = diff(&mark, &after, &map, STORE, &|_| None);
        assert_eq!(events.len(), 1);
        match &events[0] {
            (EventKind::Created, Object::Item { key, .. }) => assert_eq!(key.uid, 0),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_subscription_keeps_what_it_asked_for_and_overflows_into_missed() {
        let subs = Subscriptions::default();
        let mut kinds = EventKinds::default();
        kinds.add("NewMailEvent").unwrap();
        kinds.add("FreeBusyChangedEvent").unwrap();
        assert!(kinds.add("BogusEvent").is_err());
        let s = subs
            .add(
                "/d",
                Scope::Folders(vec![1]),
                kinds,
                Mode::Streaming,
                StoreMark::default(),
            )
            .unwrap();
        let item = |folder| Object::Item {
            key: ItemKey {
                store: STORE,
                folder,
                message: 1,
                uid: 1,
            },
            change_number: 1,
            old: None,
        };
        let mut st = s.state.try_lock().unwrap();
        let found = vec![
            (EventKind::Created, item(1)),
            (EventKind::NewMail, item(1)),
            (EventKind::NewMail, item(2)),
        ];
        assert!(s.take(&mut st, found, StoreMark::default(), 0, 3));
        assert_eq!(st.pending.len(), 1);
        assert_eq!(st.pending[0].seq, 1);
        let many = (0..4).map(|_| (EventKind::NewMail, item(1))).collect();
        assert!(!s.take(&mut st, many, StoreMark::default(), 0, 3));
        assert!(st.missed && st.pending.is_empty());
        drop(st);
        assert_eq!(
            subs.get(&s.id, "/other").unwrap_err().code,
            ResponseCode::ErrorSubscriptionAccessDenied
        );
        assert!(subs.get(&s.id, "/d").is_ok());
        subs.remove(&s.id);
        assert_eq!(
            subs.get(&s.id, "/d").unwrap_err().code,
            ResponseCode::ErrorSubscriptionNotFound
        );
    }

    #[test]
    fn subscriptions_are_bounded_per_store_and_expire() {
        let subs = Subscriptions::default();
        subs.set_limits(NotificationLimits {
            per_store: 2,
            ..NotificationLimits::default()
        });
        let add = |dir: &str, timeout| {
            subs.add(
                dir,
                Scope::All,
                EventKinds::default(),
                Mode::Pull { timeout },
                StoreMark::default(),
            )
        };
        let gone = add("/a", Duration::ZERO).unwrap();
        add("/a", Duration::from_secs(60)).unwrap();
        // The expired one makes room.
        add("/a", Duration::from_secs(60)).unwrap();
        assert_eq!(
            add("/a", Duration::from_secs(60)).unwrap_err().code,
            ResponseCode::ErrorTooManyObjectsOpened
        );
        add("/b", Duration::from_secs(60)).unwrap();
        assert!(subs.get(&gone.id, "/a").is_err());
        assert_eq!(subs.len(), 3);
    }

    #[test]
    fn watermarks_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(parse_watermark(&watermark(42)).unwrap(), 42);
        for bad in ["", "AAAA", "not base64!", &STANDARD.encode(b"gxwm123")] {
            assert_eq!(
                parse_watermark(bad).unwrap_err().code,
                ResponseCode::ErrorInvalidWatermark,
                "{bad}"
            );
        }
    }
}
