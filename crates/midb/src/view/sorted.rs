//! SORT over the folder's [`crate::sort_index`]: the index is brought to
//! the folder's change number (built from a listing, moved forward from
//! `changes since`), the key groups the criteria compare are loaded once
//! for all its rows, and the order is computed once per row set.

use super::{Entry, LIST_CHUNK, StoreView};
use crate::cache::KeyColumns;
use crate::error::MidbError;
use crate::open_stores::OpenStore;
use crate::sort_index::{FolderSortIndex, SortRow, merge_keys};
use crate::writes::StoreWrites;
use groxide_mailview::{FolderId, SortCriterion, Uid, UidSet};
use groxide_store::{ChangeNumber, FolderRef, MessageChange};
use std::sync::Arc;

fn row_of(e: &Entry) -> SortRow {
    SortRow {
        uid: e.uid.0,
        size: e.size,
        internal_date: e.internal_date,
        hash: e.content_hash,
        keys: Default::default(),
    }
}

impl<W: StoreWrites> StoreView<W> {
    /// Loads the key groups `columns` into `rows`; false when a message's
    /// digest is missing (it arrived after the refresh: not to be kept).
    fn load_keys(
        open: &OpenStore,
        rows: &mut [SortRow],
        columns: KeyColumns,
    ) -> Result<bool, MidbError> {
        if columns == KeyColumns::NONE {
            return Ok(true);
        }
        let mut complete = true;
        for chunk in rows.chunks_mut(LIST_CHUNK) {
            let mut keys = Self::with_db(open, |db| {
                db.keys_with(chunk.iter().filter_map(|r| r.hash.as_ref()), columns)
            })?;
            for r in chunk.iter_mut() {
                let Some(h) = r.hash else { continue };
                // Two messages may share a content: the second copies.
                match keys.get(&h) {
                    Some(k) => merge_keys(&mut r.keys, k.sort.clone(), columns),
                    None => complete = false,
                }
            }
            keys.clear();
        }
        Ok(complete)
    }

    /// Builds `index` from the folder's listing at its current state.
    fn build_index(
        open: &OpenStore,
        folder: FolderId,
        index: &mut FolderSortIndex,
    ) -> Result<bool, MidbError> {
        let (f, _) = open
            .reader()
            .folder_with_imap_status(groxide_store::FolderId(folder))?;
        let all = UidSet::all();
        let mut after = 0;
        let mut rows = Vec::new();
        loop {
            let (chunk, more) = Self::chunk(open, folder, &all, after, LIST_CHUNK)?;
            if let Some(last) = chunk.last() {
                after = last.uid.0;
            }
            rows.extend(chunk.iter().map(row_of));
            if !more {
                break;
            }
        }
        // The listing may be newer than the status read before it; a
        // change between them is replayed again later, never missed.
        index.uidvalidity = f.uidvalidity.0;
        index.cn = f.highest_modseq.0;
        index.rows = rows;
        index.rows_changed();
        Self::load_keys(open, &mut index.rows, index.loaded)
    }

    /// Moves `index` forward to the folder's state now: `None` when it
    /// must be rebuilt instead (removals since its change number were
    /// compacted away), else whether every new message had its digest.
    fn advance_index(
        open: &OpenStore,
        folder: FolderId,
        index: &mut FolderSortIndex,
    ) -> Result<Option<bool>, MidbError> {
        let mut removed: Vec<Uid> = Vec::new();
        let mut added: Vec<SortRow> = Vec::new();
        let found = open.reader().mail_changes_since(
            FolderRef::Id(groxide_store::FolderId(folder)),
            ChangeNumber(index.cn),
            |c| {
                match c {
                    MessageChange::Removed(r) => removed.push(r.uid.0),
                    // A known message with its content: a flag change.
                    MessageChange::Changed(e) => {
                        if !index.has(e.uid.0, e.content_hash.as_ref()) {
                            added.push(row_of(&e));
                        }
                    }
                }
                true
            },
        )?;
        if !found.forgotten.is_empty() {
            return Ok(None);
        }
        removed.sort_unstable();
        let complete = Self::load_keys(open, &mut added, index.loaded)?;
        if index.remove(&removed) || !added.is_empty() {
            index.rows_changed();
        }
        for r in added {
            index.upsert(r);
        }
        index.cn = found.highest_modseq.0.max(index.cn);
        Ok(Some(complete))
    }

    /// Every message of `folder` in the order `criteria` ask for, from the
    /// folder's SORT index. The folder's digests must have been refreshed
    /// to `highest` (its change number) first.
    pub(crate) fn sorted_folder(
        &self,
        open: &OpenStore,
        folder: FolderId,
        (uidvalidity, highest): (u32, u64),
        criteria: &[SortCriterion],
        columns: KeyColumns,
    ) -> Result<Arc<[Uid]>, MidbError> {
        let max_rows = self.settings().sort_index_max;
        let mut indexes = open.sort_indexes();
        let kept = indexes
            .take(folder)
            .filter(|i| i.uidvalidity == uidvalidity && i.cn > 0 && i.cn <= highest);
        let mut complete = true;
        let mut index = match kept {
            Some(mut index) => {
                let missing = columns.without(index.loaded);
                if missing != KeyColumns::NONE {
                    complete &= Self::load_keys(open, &mut index.rows, missing)?;
                    index.loaded = index.loaded.with(missing);
                }
                if index.cn < highest {
                    match Self::advance_index(open, folder, &mut index)? {
                        Some(ok) => complete &= ok,
                        None => index.cn = 0,
                    }
                }
                index
            }
            None => FolderSortIndex::new(uidvalidity),
        };
        if index.cn == 0 {
            index.loaded = index.loaded.with(columns);
            complete = Self::build_index(open, folder, &mut index)?;
        }
        let order = index.order(criteria);
        // A digest still missing is of a message newer than the refresh:
        // this answer is right now, but the index is not kept with it.
        if complete {
            indexes.put(folder, index, max_rows);
        }
        Ok(order)
    }
}
