//! SEARCH, SORT and THREAD, and the refresh that keeps a folder's digests
//! complete before them: changes since the last processed change number,
//! never a full rescan.

use super::StoreView;
use crate::cache::{CachedKeys, FetchColumns};
use crate::error::MidbError;
use crate::open_stores::OpenStore;
use crate::search::{Derived, Matcher, SearchKey};
use crate::sort::{SortCriterion, SortItem, sort};
use crate::store::{ChangeNumber, ContentHash, FolderId, MessageEntry, Store, Uid, UidSet};
use crate::thread::{ThreadMessage, ThreadNode, ordered_subject, references};
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::sync::Arc;

/// A THREAD algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    /// THREAD=REFERENCES.
    References,
    /// THREAD=ORDEREDSUBJECT.
    OrderedSubject,
}

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

impl<S: Store> StoreView<S> {
    /// Brings the digests of a folder up to date: every message changed
    /// since the last processed change number gets its digest computed.
    pub(crate) async fn refresh_folder(
        &self,
        open: &Arc<OpenStore>,
        dir: &str,
        folder: FolderId,
    ) -> Result<(), MidbError> {
        let lock = open.folder_lock(folder);
        let _guard = lock.lock().await;
        let status = self.store().folder_status(dir, folder).await?;
        let state = self
            .with_db(open, move |db| db.folder_state(folder))
            .await?;
        let since = match state {
            Some((uidvalidity, cn)) if uidvalidity == status.uidvalidity => {
                if cn >= status.highest_modseq {
                    return Ok(());
                }
                cn
            }
            _ => 0,
        };
        let mut highest: ChangeNumber = since;
        let mut changes = self.store().changes(dir, folder, since);
        while let Some(batch) = changes.try_next().await? {
            self.ensure_digests(open, dir, folder, &batch.changed)
                .await?;
            highest = highest
                .max(batch.highest_modseq)
                .max(batch.changed.iter().map(|e| e.modseq).max().unwrap_or(0));
        }
        let uidvalidity = status.uidvalidity;
        self.with_db(open, move |db| {
            db.set_folder_state(folder, uidvalidity, highest)
        })
        .await?;
        Ok(())
    }

    /// The messages matching `key`, ascending by UID.
    async fn select(
        &self,
        dir: &str,
        folder: FolderId,
        key: SearchKey,
        refresh: bool,
    ) -> Result<(Arc<OpenStore>, Vec<MessageEntry>), MidbError> {
        let open = self.open(dir).await?;
        let highest_uid = if key.any(|k| matches!(k, SearchKey::Uid(s) if s.is_open_ended())) {
            self.highest_uid(dir, folder).await?
        } else {
            0
        };
        let key = resolve_star_in(key, highest_uid);
        if refresh || key.needs_digest() {
            self.refresh_folder(&open, dir, folder).await?;
        }
        let mut text = Vec::new();
        for (field, needle) in key.text_keys() {
            let n = needle.clone();
            let ids = self
                .with_db(&open, move |db| db.text_matches(field, &n))
                .await?;
            text.push(((field, needle), ids));
        }
        let matcher = Matcher::new(&key, text, now());
        let need_keys = key.needs_sent_date() || key.needs_text();
        let need_header = key.needs_header();
        let mut out = Vec::new();
        let mut listing = self.store().list_messages(dir, folder, &uid_bound(&key));
        while let Some(chunk) = listing.try_next().await? {
            let hashes: Vec<ContentHash> = chunk.iter().map(|e| e.content.clone()).collect();
            let (keys, headers) = if need_keys || need_header {
                self.with_db(&open, move |db| {
                    let keys = if need_keys {
                        db.keys(hashes.iter())?
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
                })
                .await?
            } else {
                (HashMap::new(), HashMap::new())
            };
            for e in chunk {
                let k = keys.get(&e.content);
                let h = headers.get(&e.content);
                let d = Derived {
                    digest_id: k.map(|k| k.id).or(h.map(|h| h.id)),
                    sent: k.and_then(|k| k.sort.sent_date.map(|t| (t, k.sort.sent_offset_minutes))),
                    header: h.map(|h| h.header.as_slice()),
                };
                if matcher.matches(&e, &d) {
                    out.push(e);
                }
            }
        }
        Ok((open, out))
    }

    /// SEARCH: matching UIDs ascending, and the highest MODSEQ among them
    /// when the criteria use MODSEQ.
    pub async fn search(
        &self,
        dir: &str,
        folder: FolderId,
        key: SearchKey,
    ) -> Result<(Vec<Uid>, u64), MidbError> {
        let uses_modseq = key.uses_modseq();
        let (_, found) = self.select(dir, folder, key, false).await?;
        let highest = if uses_modseq {
            found.iter().map(|e| e.modseq).max().unwrap_or(0)
        } else {
            0
        };
        Ok((found.into_iter().map(|e| e.uid).collect(), highest))
    }

    async fn keys_of(
        &self,
        open: &Arc<OpenStore>,
        found: &[MessageEntry],
    ) -> Result<HashMap<ContentHash, CachedKeys>, MidbError> {
        let hashes: Vec<ContentHash> = found.iter().map(|e| e.content.clone()).collect();
        self.with_db(open, move |db| db.keys(hashes.iter())).await
    }

    /// SORT: the matching UIDs in the asked order.
    pub async fn sort(
        &self,
        dir: &str,
        folder: FolderId,
        criteria: &[SortCriterion],
        key: SearchKey,
    ) -> Result<Vec<Uid>, MidbError> {
        let (open, found) = self.select(dir, folder, key, true).await?;
        let keys = self.keys_of(&open, &found).await?;
        let items = found
            .iter()
            .map(|e| SortItem {
                uid: e.uid,
                size: e.size,
                internal_date: e.internal_date,
                keys: keys.get(&e.content).map(|k| &k.sort),
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
    ) -> Result<Vec<ThreadNode>, MidbError> {
        let (open, found) = self.select(dir, folder, key, true).await?;
        let keys = self.keys_of(&open, &found).await?;
        let messages: Vec<ThreadMessage> = found
            .iter()
            .map(|e| {
                let k = keys.get(&e.content);
                let references = match k {
                    Some(k) if !k.thread.references.is_empty() => k.thread.references.clone(),
                    Some(k) => k.thread.in_reply_to.iter().cloned().collect(),
                    None => Vec::new(),
                };
                ThreadMessage {
                    uid: e.uid,
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
