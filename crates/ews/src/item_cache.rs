//! Items as listings show them, written once: the XML of a message for one
//! [`FieldSet`], kept while the message is unchanged. A listing page
//! (FindItem, SyncFolderItems) of messages already shown costs a lookup
//! and a copy per item instead of a store read and the writing: what
//! midb's rendered envelopes are for IMAP.
//!
//! The key holds everything the XML is written from: the item's id
//! (store, folder, message, UID), its change number (every change of a
//! message, flags included, takes a new one), its content hash, size and
//! arrival time from the listing entry, and the field set. A changed
//! message is looked up under a new key and written afresh; its old XML
//! is never shown again and ages out. Meeting mail whose answer reads the
//! calendar, bodies, MIME content and attachments are not kept here.
//!
//! Bounded by bytes (`ews_item_cache_size`, 0: off): two generations,
//! the newer taking what is written and what is found in the older; when
//! it holds half the budget, the older is dropped and it becomes the
//! older. An item read in every half-budget's worth of writes stays.

use crate::ids::ItemKey;
use crate::items::{Field, FieldSet};
use groxide_rpc::pb::exmdb::v1 as pb;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// What a kept item's XML was written from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ItemStamp {
    store: [u8; 16],
    folder: u64,
    message: u64,
    uid: u32,
    change_number: u64,
    /// The first 8 bytes of the content's SHA-256 (0: none yet).
    content: u64,
    size: u64,
    internal_date: i64,
    fields: u64,
}

impl ItemStamp {
    /// The stamp of `key` as its listing `entry` shows it, for `set`.
    pub(crate) fn of(key: &ItemKey, entry: &pb::MessageEntry, set: FieldSet) -> ItemStamp {
        let mut content = [0u8; 8];
        if let Some(head) = entry.content_hash.get(..8) {
            content.copy_from_slice(head);
        }
        ItemStamp {
            store: key.store,
            folder: key.folder,
            message: key.message,
            uid: key.uid,
            change_number: entry.change_number,
            content: u64::from_le_bytes(content),
            size: entry.size,
            internal_date: entry.internal_date,
            fields: set.bits(),
        }
    }
}

/// The written items, bounded by bytes.
#[derive(Debug)]
pub(crate) struct ItemCache {
    /// Most bytes held in all (0: nothing is kept).
    budget: AtomicUsize,
    state: Mutex<Generations>,
    /// Items found kept, since the start.
    hits: AtomicU64,
    /// Items looked for and not found, since the start.
    misses: AtomicU64,
}

/// What the cache holds and has done, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CacheFigures {
    pub hits: u64,
    pub misses: u64,
    pub items: usize,
    /// Bytes of the newer generation (the older holds at most as many).
    pub bytes: usize,
    pub budget: usize,
}

#[derive(Debug, Default)]
struct Generations {
    newer: HashMap<ItemStamp, Arc<str>>,
    newer_bytes: usize,
    older: HashMap<ItemStamp, Arc<str>>,
}

/// Bytes one kept item costs beyond its XML (key, map slot, Arc header).
const OVERHEAD: usize = 128;

/// The budget when none is set (`ews_item_cache_size`'s default).
pub(crate) const DEFAULT_BUDGET: usize = 64 << 20;

impl ItemCache {
    /// A cache of at most `budget` bytes (0: keeps nothing).
    pub(crate) fn new(budget: usize) -> ItemCache {
        ItemCache {
            budget: AtomicUsize::new(budget),
            state: Mutex::new(Generations::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Sets the budget and drops everything held (a reload).
    pub(crate) fn set_budget(&self, budget: usize) {
        let mut g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.budget.store(budget, Ordering::Relaxed);
        *g = Generations::default();
    }

    fn budget(&self) -> usize {
        self.budget.load(Ordering::Relaxed)
    }

    /// Whether items shown with `set` are kept: not with bodies, MIME
    /// content or attachments (large, and read apart).
    pub(crate) fn keeps(&self, set: FieldSet) -> bool {
        self.budget() > 0
            && !set.contains(Field::Body)
            && !set.contains(Field::MimeContent)
            && !set.contains(Field::Attachments)
    }

    /// The kept XML of each stamp, `None` where there is none.
    pub(crate) fn get_all(&self, stamps: &[ItemStamp]) -> Vec<Option<Arc<str>>> {
        let budget = self.budget();
        let mut g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let found: Vec<Option<Arc<str>>> = stamps
            .iter()
            .map(|s| {
                if let Some(x) = g.newer.get(s) {
                    return Some(x.clone());
                }
                // Still read: into the newer generation.
                let x = g.older.remove(s)?;
                g.insert(*s, x.clone(), budget);
                Some(x)
            })
            .collect();
        drop(g);
        let hits = found.iter().filter(|x| x.is_some()).count() as u64;
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses
            .fetch_add(found.len() as u64 - hits, Ordering::Relaxed);
        found
    }

    /// What it holds and has done.
    pub(crate) fn figures(&self) -> CacheFigures {
        let g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        CacheFigures {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            items: g.newer.len() + g.older.len(),
            bytes: g.newer_bytes,
            budget: self.budget(),
        }
    }

    /// Keeps written items.
    pub(crate) fn put_all(&self, written: impl IntoIterator<Item = (ItemStamp, Arc<str>)>) {
        let budget = self.budget();
        if budget == 0 {
            return;
        }
        let mut g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for (s, x) in written {
            g.insert(s, x, budget);
        }
    }

    /// Items held: (in the newer generation, in the older).
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (g.newer.len(), g.older.len())
    }
}

impl Generations {
    fn insert(&mut self, stamp: ItemStamp, xml: Arc<str>, budget: usize) {
        let cost = xml.len() + OVERHEAD;
        if cost > budget / 2 {
            return;
        }
        if self.newer_bytes + cost > budget / 2 {
            self.older = std::mem::take(&mut self.newer);
            self.newer_bytes = 0;
        }
        if let Some(old) = self.newer.insert(stamp, xml) {
            self.newer_bytes -= old.len() + OVERHEAD;
        }
        self.newer_bytes += cost;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(message: u64, cn: u64) -> ItemStamp {
        let key = ItemKey {
            store: [7; 16],
            folder: 3,
            message,
            uid: message as u32,
        };
        let entry = pb::MessageEntry {
            uid: message as u32,
            message_id: message,
            change_number: cn,
            size: 100,
            internal_date: 1_700_000_000,
            content_hash: vec![1; 32],
            ..pb::MessageEntry::default()
        };
        ItemStamp::of(&key, &entry, FieldSet::id_only())
    }

    #[test]
    fn a_changed_message_is_not_found_under_its_new_change_number() {
        let c = ItemCache::new(1 << 20);
        c.put_all([(stamp(1, 10), Arc::from("<t:Message/>"))]);
        assert_eq!(
            c.get_all(&[stamp(1, 10), stamp(1, 11), stamp(2, 10)]),
            vec![Some(Arc::from("<t:Message/>")), None, None]
        );
        let f = c.figures();
        assert_eq!((f.hits, f.misses, f.items), (1, 2, 1));
        assert_eq!(f.bytes, "<t:Message/>".len() + OVERHEAD);
    }

    #[test]
    fn the_budget_bounds_what_is_held_and_items_still_read_stay() {
        let xml: Arc<str> = Arc::from("x".repeat(1000 - OVERHEAD));
        // Room for 10 items, 5 per generation.
        let c = ItemCache::new(10_000);
        c.put_all((0..5).map(|i| (stamp(i, 1), xml.clone())));
        assert_eq!(c.held(), (5, 0));
        // The sixth starts a generation; the first five are the older one.
        c.put_all([(stamp(5, 1), xml.clone())]);
        assert_eq!(c.held(), (1, 5));
        // Item 0 is read: it moves to the newer generation.
        assert!(c.get_all(&[stamp(0, 1)])[0].is_some());
        assert_eq!(c.held(), (2, 4));
        // Three more fill the newer generation; the next drops the older.
        c.put_all((6..10).map(|i| (stamp(i, 1), xml.clone())));
        let (newer, older) = c.held();
        assert!(newer + older <= 10, "{newer} + {older} held");
        let found = c.get_all(&(0..10).map(|i| stamp(i, 1)).collect::<Vec<_>>());
        assert!(found[0].is_some(), "the item read stayed");
        assert!(found[1].is_none(), "an item not read since went");
    }

    #[test]
    fn no_budget_keeps_nothing() {
        let c = ItemCache::new(1 << 20);
        c.put_all([(stamp(1, 1), Arc::from("<t:Message/>"))]);
        c.set_budget(0);
        assert!(!c.keeps(FieldSet::id_only()));
        assert_eq!(c.get_all(&[stamp(1, 1)]), vec![None], "what was held went");
        c.put_all([(stamp(1, 1), Arc::from("<t:Message/>"))]);
        assert_eq!(c.get_all(&[stamp(1, 1)]), vec![None]);
    }

    #[test]
    fn bodies_and_content_are_not_kept() {
        let c = ItemCache::new(1 << 20);
        for f in [Field::Body, Field::MimeContent, Field::Attachments] {
            let mut set = FieldSet::id_only();
            set.insert(f);
            assert!(!c.keeps(set), "{f:?}");
        }
        assert!(c.keeps(FieldSet::id_only()));
    }
}
