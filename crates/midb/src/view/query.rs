//! SEARCH, SORT and THREAD, and the refresh that keeps a folder's digests
//! complete before them: changes since the last processed change number,
//! never a full rescan.

use super::{Entry, LIST_CHUNK, StoreView};
use crate::cache::{CachedKeys, FetchColumns, KeyColumns};
use crate::error::MidbError;
use crate::open_stores::OpenStore;
use crate::search::{Derived, KeyNeeds, Matcher};
use crate::sort::{SortItem, sort};
use crate::thread::{ThreadMessage, ordered_subject, references};
use crate::writes::StoreWrites;
use groxide_mailview::{
    FolderId, SearchKey, SearchResult, SortCriterion, SortKey, ThreadAlgorithm, ThreadTree, Uid,
    UidSet,
};
use groxide_store::{ChangeNumber, ContentHash, FolderRef, MessageChange};
use std::collections::HashMap;
use std::sync::Arc;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The key with every open-ended UID set resolved against `highest`.
fn resolve_star_in(key: SearchKey, highest: Uid) -> SearchKey {
    match key {
        SearchKey::Uid(s) => SearchKey::Uid(s.with_star_resolved(highest)),
        SearchKey::And(v) => {
            SearchKey::And(v.into_iter().map(|k| resolve_star_in(k, highest)).collect())
        }
        SearchKey::Or(a, b) => SearchKey::Or(
            Box::new(resolve_star_in(*a, highest)),
            Box::new(resolve_star_in(*b, highest)),
        ),
        SearchKey::Not(k) => SearchKey::Not(Box::new(resolve_star_in(*k, highest))),
        other => other,
    }
}

/// The UIDs a search can possibly match, to list only those.
fn uid_bound(key: &SearchKey) -> UidSet {
    match key {
        SearchKey::Uid(s) => s.clone(),
        SearchKey::And(v) => v
            .iter()
            .find_map(|k| matches!(k, SearchKey::Uid(_)).then(|| uid_bound(k)))
            .unwrap_or_else(UidSet::all),
        _ => UidSet::all(),
    }
}

impl<W: StoreWrites> StoreView<W> {
    /// Brings the digests of a folder up to date: every message changed
    /// since the last processed change number gets its digest computed.
    /// Returns the folder's UIDVALIDITY and the change number reached.
    pub(crate) async fn refresh_folder(
        &self,
        open: &Arc<OpenStore>,
        folder: FolderId,
    ) -> Result<(u32, u64), MidbError> {
        let lock = open.folder_lock(folder);
        let _guard = lock.lock().await;
        let (f, _) = open
            .reader()
            .folder_with_imap_status(groxide_store::FolderId(folder))?;
        let state = Self::with_db(open, |db| db.folder_state(folder))?;
        let since = match state {
            Some((uidvalidity, cn)) if uidvalidity == f.uidvalidity.0 => {
                if cn >= f.highest_modseq.0 {
                    return Ok((uidvalidity, f.highest_modseq.0));
                }
                cn
            }
            _ => 0,
        };
        let highest = if since == 0 {
            // Everything: the listing in chunks (bounded memory for any size).
            let all = UidSet::all();
            let mut after = 0;
            loop {
                let (chunk, more) = Self::chunk(open, folder, &all, after, LIST_CHUNK)?;
                if let Some(last) = chunk.last() {
                    after = last.uid.0;
                }
                let chunk = self.with_content(open, folder, chunk).await?;
                self.ensure_digests(open, &chunk).await?;
                if !more {
                    break;
                }
            }
            f.highest_modseq
        } else {
            let mut changed: Vec<Entry> = Vec::new();
            let highest = open.reader().changes_since(
                FolderRef::Id(groxide_store::FolderId(folder)),
                ChangeNumber(since),
                |c| {
                    if let MessageChange::Changed(e) = c {
                        changed.push(e);
                    }
                    true
                },
            )?;
            for chunk in changed.chunks(LIST_CHUNK) {
                let chunk = self.with_content(open, folder, chunk.to_vec()).await?;
                self.ensure_digests(open, &chunk).await?;
            }
            highest
        };
        let uidvalidity = f.uidvalidity.0;
        Self::with_db(open, |db| {
            db.set_folder_state(folder, uidvalidity, highest.0)
        })?;
        Ok((uidvalidity, highest.0))
    }

    /// The messages matching `key`, ascending by UID.
    async fn select(
        &self,
        dir: &str,
        folder: FolderId,
        key: SearchKey,
        refresh: bool,
    ) -> Result<(Arc<OpenStore>, Vec<Entry>), MidbError> {
        let open = self.open(dir).await?;
        let highest_uid = if key.any(|k| matches!(k, SearchKey::Uid(s) if s.is_open_ended())) {
            Self::highest_uid(&open, folder)?
        } else {
            0
        };
        let key = resolve_star_in(key, highest_uid);
        if refresh || key.needs_digest() {
            self.refresh_folder(&open, folder).await?;
        }
        let mut text = Vec::new();
        for (field, needle) in key.text_keys() {
            let ids = Self::with_db(&open, |db| db.text_matches(field, &needle))?;
            text.push(((field, needle), ids));
        }
        let matcher = Matcher::new(&key, text, now());
        let need_keys = key.needs_sent_date() || key.needs_text();
        let need_header = key.needs_header();
        let bound = uid_bound(&key);
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let (chunk, more) = Self::chunk(&open, folder, &bound, after, LIST_CHUNK)?;
            if let Some(last) = chunk.last() {
                after = last.uid.0;
            }
            let hashes: Vec<ContentHash> = chunk.iter().filter_map(|e| e.content_hash).collect();
            let (keys, headers) = if need_keys || need_header {
                Self::with_db(&open, |db| {
                    let keys = if need_keys {
                        db.keys_with(hashes.iter(), KeyColumns::DATE)?
                    } else {
                        HashMap::new()
                    };
                    let headers = if need_header {
                        db.fetch(
                            hashes.iter(),
                            FetchColumns {
                                header: true,
                                ..Default::default()
                            },
                        )?
                    } else {
                        HashMap::new()
                    };
                    Ok((keys, headers))
                })?
            } else {
                (HashMap::new(), HashMap::new())
            };
            for e in chunk {
                let k = e.content_hash.as_ref().and_then(|h| keys.get(h));
                let h = e.content_hash.as_ref().and_then(|h| headers.get(h));
                let d = Derived {
                    digest_id: k.map(|k| k.id).or(h.map(|h| h.id)),
                    sent: k.and_then(|k| k.sort.sent_date.map(|t| (t, k.sort.sent_offset_minutes))),
                    header: h.map(|h| h.header.as_slice()),
                };
                if matcher.matches(&e, &d) {
                    out.push(e);
                }
            }
            if !more {
                break;
            }
        }
        Ok((open, out))
    }

    /// SEARCH: matching UIDs ascending, and the highest MODSEQ among them.
    pub async fn search(
        &self,
        dir: &str,
        folder: FolderId,
        key: SearchKey,
    ) -> Result<SearchResult, MidbError> {
        let (_, found) = self.select(dir, folder, key, false).await?;
        Ok(SearchResult {
            highest_modseq: found.iter().map(|e| e.cn.0).max().unwrap_or(0),
            uids: found.into_iter().map(|e| e.uid.0).collect(),
        })
    }

    fn keys_of(
        open: &OpenStore,
        found: &[Entry],
        columns: KeyColumns,
    ) -> Result<HashMap<ContentHash, CachedKeys>, MidbError> {
        if columns == KeyColumns::NONE {
            return Ok(HashMap::new());
        }
        Self::with_db(open, |db| {
            db.keys_with(
                found.iter().filter_map(|e| e.content_hash.as_ref()),
                columns,
            )
        })
    }

    /// SORT: the matching UIDs in the asked order.
    pub async fn sort(
        &self,
        dir: &str,
        folder: FolderId,
        criteria: &[SortCriterion],
        key: SearchKey,
    ) -> Result<Vec<Uid>, MidbError> {
        let columns = criteria
            .iter()
            .fold(KeyColumns::NONE, |c, k| c.with(sort_columns(k.key)));
        if self.settings().sort_index_max > 0 {
            let open = self.open(dir).await?;
            let state = self.refresh_folder(&open, folder).await?;
            let order = self.sorted_folder(&open, folder, state, criteria, columns)?;
            if matches!(key, SearchKey::All) {
                return Ok(order.to_vec());
            }
            let (_, found) = self.select(dir, folder, key.clone(), false).await?;
            let matched: Vec<Uid> = found.iter().map(|e| e.uid.0).collect();
            // `found` is ascending by UID.
            let picked: Vec<Uid> = order
                .iter()
                .copied()
                .filter(|u| matched.binary_search(u).is_ok())
                .collect();
            if picked.len() == matched.len() {
                return Ok(picked);
            }
            // A message newer than the index matched: sort as below.
        }
        let (open, found) = self.select(dir, folder, key, true).await?;
        let keys = Self::keys_of(&open, &found, columns)?;
        let items = found
            .iter()
            .map(|e| SortItem {
                uid: e.uid.0,
                size: e.size,
                internal_date: e.internal_date,
                keys: e
                    .content_hash
                    .as_ref()
                    .and_then(|h| keys.get(h))
                    .map(|k| &k.sort),
            })
            .collect();
        Ok(sort(items, criteria))
    }

    /// THREAD: the matching messages as thread trees.
    pub async fn thread(
        &self,
        dir: &str,
        folder: FolderId,
        algorithm: ThreadAlgorithm,
        key: SearchKey,
    ) -> Result<Vec<ThreadTree>, MidbError> {
        let (open, found) = self.select(dir, folder, key, true).await?;
        let columns = KeyColumns::SUBJECT
            .with(KeyColumns::DATE)
            .with(KeyColumns::THREAD);
        let keys = Self::keys_of(&open, &found, columns)?;
        let messages: Vec<ThreadMessage> = found
            .iter()
            .map(|e| {
                let k = e.content_hash.as_ref().and_then(|h| keys.get(h));
                let references = match k {
                    Some(k) if !k.thread.references.is_empty() => k.thread.references.clone(),
                    Some(k) => k.thread.in_reply_to.iter().cloned().collect(),
                    None => Vec::new(),
                };
                ThreadMessage {
                    uid: e.uid.0,
                    date: k.and_then(|k| k.sort.sent_date).unwrap_or(e.internal_date),
                    base_subject: k.map(|k| k.sort.base_subject.clone()).unwrap_or_default(),
                    is_reply: k.is_some_and(|k| k.sort.subject_is_reply),
                    message_id: k.and_then(|k| k.thread.message_id.clone()),
                    references,
                }
            })
            .collect();
        Ok(match algorithm {
            ThreadAlgorithm::References => references(&messages),
            ThreadAlgorithm::OrderedSubject => ordered_subject(&messages),
        })
    }
}

/// The cached keys a sort criterion compares.
fn sort_columns(key: SortKey) -> KeyColumns {
    match key {
        SortKey::Arrival | SortKey::Size => KeyColumns::NONE,
        SortKey::Date => KeyColumns::DATE,
        SortKey::Subject => KeyColumns::SUBJECT,
        SortKey::From => KeyColumns::FROM,
        SortKey::To => KeyColumns::TO,
        SortKey::Cc => KeyColumns::CC,
        SortKey::DisplayFrom => KeyColumns::DISPLAY_FROM,
        SortKey::DisplayTo => KeyColumns::DISPLAY_TO,
    }
}
