//! Per-folder SORT indexes of an open store: what SORT compares of every
//! message of a folder (UID, size, arrival, and the cached RFC 5256/5957
//! keys the criteria asked for so far), held at a change number and
//! brought forward from the store's changes, with the orders last
//! computed. A repeated SORT then costs a status read and a copy of an
//! order, not a midb.sqlite3 row per message.
//!
//! **Invariants:** an index is exactly the folder's live messages at its
//! change number `cn` (built from one listing, or moved forward by
//! `changes since cn`, whose removals are complete or, after a tombstone
//! compaction, make the index be rebuilt); a row's keys are those of its
//! content hash, which never change; an index with a message whose digest
//! was missing is not kept. Orders are dropped whenever a row is added,
//! removed or re-keyed (flag changes keep them). Bounded: at most
//! `max_rows` rows per store (least recently used folders dropped first).

use crate::cache::KeyColumns;
use crate::digest::SortKeys;
use crate::sort::{SortItem, sort};
use groxide_mailview::{FolderId, SortCriterion, Uid};
use groxide_store::ContentHash;
use std::collections::HashMap;
use std::sync::Arc;

/// Orders kept per folder (distinct criteria lists).
const ORDERS_KEPT: usize = 4;

/// What SORT knows of one message.
#[derive(Debug, Clone)]
pub(crate) struct SortRow {
    /// UID.
    pub uid: Uid,
    /// Size in octets.
    pub size: u64,
    /// Internal date, Unix seconds.
    pub internal_date: i64,
    /// The content whose digest holds the keys (none: empty keys).
    pub hash: Option<ContentHash>,
    /// The key groups of [`FolderSortIndex::loaded`].
    pub keys: SortKeys,
}

/// One folder's index.
#[derive(Debug)]
pub(crate) struct FolderSortIndex {
    /// The folder's UIDVALIDITY when built.
    pub uidvalidity: u32,
    /// Change number the rows are exact at (0: not built yet).
    pub cn: u64,
    /// Every live message, ascending by UID.
    pub rows: Vec<SortRow>,
    /// Key groups present in every row.
    pub loaded: KeyColumns,
    orders: Vec<(Vec<SortCriterion>, Arc<[Uid]>)>,
    last_used: u64,
}

impl FolderSortIndex {
    /// An empty index, to be built.
    pub fn new(uidvalidity: u32) -> FolderSortIndex {
        FolderSortIndex {
            uidvalidity,
            cn: 0,
            rows: Vec::new(),
            loaded: KeyColumns::NONE,
            orders: Vec::new(),
            last_used: 0,
        }
    }

    /// Forgets the computed orders (the rows changed).
    pub fn rows_changed(&mut self) {
        self.orders.clear();
    }

    /// Removes the rows of `uids` (ascending); returns whether any was there.
    pub fn remove(&mut self, uids: &[Uid]) -> bool {
        let before = self.rows.len();
        if !uids.is_empty() {
            self.rows.retain(|r| uids.binary_search(&r.uid).is_err());
        }
        before != self.rows.len()
    }

    /// Whether the row of `uid` is there with content `hash` (a change of
    /// such a message is a flag change, which SORT does not see).
    pub fn has(&self, uid: Uid, hash: Option<&ContentHash>) -> bool {
        self.rows
            .binary_search_by_key(&uid, |r| r.uid)
            .is_ok_and(|i| self.rows[i].hash.as_ref() == hash)
    }

    /// Inserts or replaces a row (its keys must hold [`Self::loaded`]).
    pub fn upsert(&mut self, row: SortRow) {
        match self.rows.binary_search_by_key(&row.uid, |r| r.uid) {
            Ok(i) => self.rows[i] = row,
            Err(i) => self.rows.insert(i, row),
        }
    }

    /// The UIDs in the order `criteria` ask for (ties by UID), computed
    /// once per row set.
    pub fn order(&mut self, criteria: &[SortCriterion]) -> Arc<[Uid]> {
        if let Some(pos) = self.orders.iter().position(|(c, _)| c == criteria) {
            let hit = self.orders.remove(pos);
            let order = hit.1.clone();
            self.orders.push(hit);
            return order;
        }
        let items = self
            .rows
            .iter()
            .map(|r| SortItem {
                uid: r.uid,
                size: r.size,
                internal_date: r.internal_date,
                keys: Some(&r.keys),
            })
            .collect();
        let order: Arc<[Uid]> = sort(items, criteria).into();
        if self.orders.len() >= ORDERS_KEPT {
            self.orders.remove(0);
        }
        self.orders.push((criteria.to_vec(), order.clone()));
        order
    }
}

/// The indexes of one store.
#[derive(Debug, Default)]
pub(crate) struct SortIndexes {
    folders: HashMap<FolderId, FolderSortIndex>,
    clock: u64,
}

impl SortIndexes {
    /// Takes a folder's index out (put it back with [`SortIndexes::put`]).
    pub fn take(&mut self, folder: FolderId) -> Option<FolderSortIndex> {
        self.folders.remove(&folder)
    }

    /// Keeps `index`, dropping the least recently used others while the
    /// store holds more than `max_rows` rows (an index larger than that
    /// alone is not kept).
    pub fn put(&mut self, folder: FolderId, mut index: FolderSortIndex, max_rows: usize) {
        if index.rows.len() > max_rows {
            return;
        }
        self.clock += 1;
        index.last_used = self.clock;
        self.folders.insert(folder, index);
        let mut total: usize = self.folders.values().map(|i| i.rows.len()).sum();
        while total > max_rows {
            let Some((&oldest, _)) = self
                .folders
                .iter()
                .filter(|(f, _)| **f != folder)
                .min_by_key(|(_, i)| i.last_used)
            else {
                break;
            };
            if let Some(gone) = self.folders.remove(&oldest) {
                total -= gone.rows.len();
            }
        }
    }

    /// Rows held (all folders).
    #[cfg(test)]
    pub fn rows(&self) -> usize {
        self.folders.values().map(|i| i.rows.len()).sum()
    }
}

/// Copies the key groups `columns` from `src` into `dst`.
pub(crate) fn merge_keys(dst: &mut SortKeys, src: SortKeys, columns: KeyColumns) {
    if columns.has(KeyColumns::SUBJECT) {
        dst.base_subject = src.base_subject;
        dst.subject_is_reply = src.subject_is_reply;
    }
    if columns.has(KeyColumns::DATE) {
        dst.sent_date = src.sent_date;
        dst.sent_offset_minutes = src.sent_offset_minutes;
    }
    if columns.has(KeyColumns::FROM) {
        dst.from = src.from;
    }
    if columns.has(KeyColumns::TO) {
        dst.to = src.to;
    }
    if columns.has(KeyColumns::CC) {
        dst.cc = src.cc;
    }
    if columns.has(KeyColumns::DISPLAY_FROM) {
        dst.display_from = src.display_from;
    }
    if columns.has(KeyColumns::DISPLAY_TO) {
        dst.display_to = src.display_to;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_mailview::SortKey;

    fn row(uid: Uid, subject: &str, n: u8) -> SortRow {
        SortRow {
            uid,
            size: u64::from(uid),
            internal_date: 0,
            hash: Some(ContentHash([n; 32])),
            keys: SortKeys {
                base_subject: subject.into(),
                ..SortKeys::default()
            },
        }
    }

    #[test]
    fn orders_follow_row_changes_but_not_flag_changes() {
        let by_subject = [SortCriterion {
            key: SortKey::Subject,
            reverse: false,
        }];
        let mut i = FolderSortIndex::new(1);
        for r in [row(1, "b", 1), row(2, "a", 2), row(3, "c", 3)] {
            i.upsert(r);
        }
        assert_eq!(&*i.order(&by_subject), &[2, 1, 3]);
        assert!(i.has(2, Some(&ContentHash([2; 32]))));
        assert!(!i.has(2, Some(&ContentHash([3; 32]))));
        assert!(!i.has(4, None));
        i.upsert(row(4, "a", 4));
        i.rows_changed();
        assert_eq!(&*i.order(&by_subject), &[2, 4, 1, 3]);
        assert!(i.remove(&[1, 2]));
        i.rows_changed();
        assert_eq!(&*i.order(&by_subject), &[4, 3]);
        assert!(!i.remove(&[9]));
    }

    #[test]
    fn a_store_keeps_at_most_max_rows_dropping_the_least_recently_used() {
        let mut s = SortIndexes::default();
        let index = |n: u32| {
            let mut i = FolderSortIndex::new(1);
            for uid in 1..=n {
                i.upsert(row(uid, "x", uid as u8));
            }
            i
        };
        s.put(1, index(3), 5);
        s.put(2, index(2), 5);
        assert_eq!(s.rows(), 5);
        s.put(3, index(2), 5);
        assert!(s.take(1).is_none(), "the oldest went");
        assert_eq!(s.rows(), 4);
        s.put(4, index(6), 5);
        assert!(s.take(4).is_none(), "larger than the bound alone");
    }
}
