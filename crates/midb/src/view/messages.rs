//! Message listings, FETCH metadata and CONDSTORE/QRESYNC changes.

use super::{Entry, LIST_CHUNK, StoreView, view_entry};
use crate::cache::FetchColumns;
use crate::error::MidbError;
use crate::open_stores::OpenStore;
use crate::writes::StoreWrites;
use futures_util::StreamExt;
use groxide_mailview::{
    ChangeBatch, FolderId, MessageEntry, MessageMetadata, MetadataItems, MetadataRequest, ModSeq,
    Uid, UidSet, ViewError, ViewStream,
};
use groxide_mime::{SectionKind, SectionSpec};
use groxide_store::{ChangeNumber, FolderRef, MessageChange};
use std::sync::Arc;

fn select_fields(header: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let kind = if not {
        SectionKind::HeaderFieldsNot(names.to_vec())
    } else {
        SectionKind::HeaderFields(names.to_vec())
    };
    groxide_mime::locate_section(
        header,
        &SectionSpec {
            part: Vec::new(),
            kind,
        },
    )
    .bytes(header)
    .to_vec()
}

/// Where a chunked listing stands.
struct Cursor {
    open: Arc<OpenStore>,
    folder: FolderId,
    uids: UidSet,
    after: Uid,
    done: bool,
}

impl Cursor {
    fn next<W: StoreWrites>(&mut self) -> Result<Option<Vec<Entry>>, MidbError> {
        if self.done {
            return Ok(None);
        }
        let (chunk, more) =
            StoreView::<W>::chunk(&self.open, self.folder, &self.uids, self.after, LIST_CHUNK)?;
        self.done = !more;
        match chunk.last() {
            Some(last) => self.after = last.uid.0,
            None => return Ok(None),
        }
        Ok(Some(chunk))
    }
}

impl<W: StoreWrites> StoreView<W> {
    async fn cursor(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
    ) -> Result<Cursor, MidbError> {
        let open = self.open(dir).await?;
        let uids = Self::resolve_star(&open, folder, uids)?;
        Ok(Cursor {
            open,
            folder,
            uids,
            after: 0,
            done: false,
        })
    }

    /// UID, flags, keywords, MODSEQ, size and internal date of the messages
    /// in `uids`, ascending, in chunks of at most [`LIST_CHUNK`].
    pub async fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
    ) -> Result<ViewStream<Vec<MessageEntry>>, MidbError> {
        let mut cursor = self.cursor(dir, folder, &uids).await?;
        // The first chunk now: most folders fit in it, and a missing folder
        // is an error of the request rather than of the stream.
        let first = cursor.next::<W>()?;
        let head = futures_util::stream::iter(
            first.map(|c| Ok(c.iter().map(view_entry).collect::<Vec<_>>())),
        );
        let rest = futures_util::stream::unfold(cursor, |mut c| async move {
            match c.next::<W>() {
                Ok(Some(chunk)) => Some((Ok(chunk.iter().map(view_entry).collect()), c)),
                Ok(None) => None,
                Err(e) => {
                    c.done = true;
                    Some((Err(ViewError::from(e)), c))
                }
            }
        });
        Ok(head.chain(rest).boxed())
    }

    /// The metadata of one chunk of messages.
    async fn metadata_of(
        &self,
        open: &Arc<OpenStore>,
        folder: FolderId,
        chunk: Vec<Entry>,
        req: &MetadataRequest,
    ) -> Result<Vec<MessageMetadata>, MidbError> {
        let chunk: Vec<Entry> = chunk
            .into_iter()
            .filter(|e| e.cn.0 > req.changed_since)
            .collect();
        let items = req.items;
        if !items.needs_digest() {
            return Ok(chunk
                .iter()
                .map(|e| MessageMetadata {
                    entry: view_entry(e),
                    ..MessageMetadata::default()
                })
                .collect());
        }
        let chunk = self.with_content(open, folder, chunk).await?;
        let cols = FetchColumns {
            envelope: items.contains(MetadataItems::ENVELOPE),
            bodystructure: items.contains(MetadataItems::BODYSTRUCTURE),
            body: items.contains(MetadataItems::BODY),
            header: items.contains(MetadataItems::HEADER_FIELDS),
        };
        // What is cached, in one read; then digests of the rest (new
        // messages), computed once and read back.
        let mut cached = Self::with_db(open, |db| {
            db.fetch(chunk.iter().filter_map(|e| e.content_hash.as_ref()), cols)
        })?;
        let uncached: Vec<Entry> = chunk
            .iter()
            .filter(|e| e.content_hash.is_some_and(|h| !cached.contains_key(&h)))
            .cloned()
            .collect();
        if !uncached.is_empty() {
            self.ensure_digests(open, &uncached).await?;
            let more = Self::with_db(open, |db| {
                db.fetch(
                    uncached.iter().filter_map(|e| e.content_hash.as_ref()),
                    cols,
                )
            })?;
            cached.extend(more);
        }
        let mut out = Vec::with_capacity(chunk.len());
        for e in &chunk {
            let mut m = MessageMetadata {
                entry: view_entry(e),
                ..MessageMetadata::default()
            };
            // A digest missing now belongs to a message replaced meanwhile:
            // its metadata stays empty rather than wrong.
            if let Some(c) = e.content_hash.as_ref().and_then(|h| cached.get(h)) {
                if cols.envelope {
                    m.envelope = c.envelope.clone();
                }
                if cols.bodystructure {
                    m.bodystructure = c.bodystructure.clone();
                }
                if cols.body {
                    m.body = c.body.clone();
                }
                if cols.header {
                    m.header_fields =
                        select_fields(&c.header, &req.header_fields, req.header_fields_not);
                }
            }
            out.push(m);
        }
        Ok(out)
    }

    /// FETCH metadata of the messages in `req.uids`, ascending. Digests
    /// missing from the cache are computed on the way (each content once).
    pub async fn fetch_metadata(
        &self,
        dir: &str,
        folder: FolderId,
        req: MetadataRequest,
    ) -> Result<ViewStream<MessageMetadata>, MidbError> {
        let mut cursor = self.cursor(dir, folder, &req.uids).await?;
        let first = match cursor.next::<W>()? {
            Some(chunk) => self.metadata_of(&cursor.open, folder, chunk, &req).await?,
            None => Vec::new(),
        };
        let head = futures_util::stream::iter(first.into_iter().map(Ok));
        let view = self.clone();
        let rest =
            futures_util::stream::unfold((cursor, view, req), |(mut c, view, req)| async move {
                let step = match c.next::<W>() {
                    Ok(Some(chunk)) => {
                        let open = c.open.clone();
                        view.metadata_of(&open, c.folder, chunk, &req)
                            .await
                            .map(Some)
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                match step {
                    Ok(Some(items)) => Some((
                        futures_util::stream::iter(items.into_iter().map(Ok)).boxed(),
                        (c, view, req),
                    )),
                    Ok(None) => None,
                    Err(e) => {
                        c.done = true;
                        Some((
                            futures_util::stream::iter([Err(ViewError::from(e))]).boxed(),
                            (c, view, req),
                        ))
                    }
                }
            })
            .flatten();
        Ok(head.chain(rest).boxed())
    }

    /// What changed in a folder since `since`; vanished UIDs only when
    /// asked for. The last piece carries the folder's highest MODSEQ, read
    /// in the same snapshot as the changes.
    pub async fn changes(
        &self,
        dir: &str,
        folder: FolderId,
        since: ModSeq,
        vanished: bool,
    ) -> Result<ViewStream<ChangeBatch>, MidbError> {
        let open = self.open(dir).await?;
        if since == 0 {
            return self.replay_all(open, folder).await;
        }
        let mut batch = ChangeBatch::default();
        let mut removed: Vec<Uid> = Vec::new();
        // Changes since a MODSEQ the client saw are few; everything since 0
        // streams as a listing (above).
        // Removals compacted away come back as every UID that is not a
        // live message (a superset RFC 7162 allows), never as fewer.
        let found = open.reader().mail_changes_since(
            FolderRef::Id(groxide_store::FolderId(folder)),
            ChangeNumber(since),
            |c| {
                match c {
                    MessageChange::Changed(e) => batch.changed.push(view_entry(&e)),
                    MessageChange::Removed(r) if vanished => removed.push(r.uid.0),
                    MessageChange::Removed(_) => {}
                }
                true
            },
        )?;
        if vanished {
            removed.sort_unstable();
            let forgotten = found
                .forgotten
                .iter()
                .map(|r| groxide_mailview::UidRange::new(r.first.0, r.last.0));
            batch.vanished = UidSet::from_ranges(
                groxide_mailview::ranges_of(removed)
                    .into_iter()
                    .chain(forgotten),
            )
            .into_ranges();
        }
        batch.highest_modseq = found.highest_modseq.0.max(since);
        let mut pieces: Vec<Result<ChangeBatch, ViewError>> = Vec::new();
        // Split a large replay so that no single piece is huge on the wire.
        while batch.changed.len() > LIST_CHUNK {
            let rest = batch.changed.split_off(LIST_CHUNK);
            let head = std::mem::replace(&mut batch.changed, rest);
            pieces.push(Ok(ChangeBatch {
                changed: head,
                vanished: Vec::new(),
                highest_modseq: 0,
            }));
        }
        pieces.push(Ok(batch));
        Ok(futures_util::stream::iter(pieces).boxed())
    }

    /// Everything since MODSEQ 0: every message present, in chunks, then
    /// the folder's highest MODSEQ (read before the listing, so a change
    /// made meanwhile is reported again later rather than missed).
    async fn replay_all(
        &self,
        open: Arc<OpenStore>,
        folder: FolderId,
    ) -> Result<ViewStream<ChangeBatch>, MidbError> {
        let (f, _) = open
            .reader()
            .folder_with_imap_status(groxide_store::FolderId(folder))?;
        let highest = f.highest_modseq.0;
        let cursor = Cursor {
            open,
            folder,
            uids: UidSet::all(),
            after: 0,
            done: false,
        };
        let chunks = futures_util::stream::unfold(Some(cursor), |state| async move {
            let mut c = state?;
            match c.next::<W>() {
                Ok(Some(chunk)) => Some((
                    Ok(ChangeBatch {
                        changed: chunk.iter().map(view_entry).collect(),
                        vanished: Vec::new(),
                        highest_modseq: 0,
                    }),
                    Some(c),
                )),
                Ok(None) => None,
                Err(e) => Some((Err(ViewError::from(e)), None)),
            }
        });
        let last = futures_util::stream::iter([Ok(ChangeBatch {
            changed: Vec::new(),
            vanished: Vec::new(),
            highest_modseq: highest,
        })]);
        Ok(chunks.chain(last).boxed())
    }
}
