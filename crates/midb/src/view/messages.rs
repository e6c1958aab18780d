//! Message listings, FETCH metadata and CONDSTORE/QRESYNC changes.

use super::{StoreView, ViewStream, spawn_stream};
use crate::cache::FetchColumns;
use crate::error::MidbError;
use crate::store::{ChangeBatch, ChangeNumber, FolderId, MessageEntry, Store, UidSet};
use futures_util::TryStreamExt;
use groxide_mime::{SectionKind, SectionSpec};

/// The FETCH items of a metadata request, as the contract's `MetadataItem` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetadataItems(pub u32);

impl MetadataItems {
    /// FLAGS.
    pub const FLAGS: u32 = 1;
    /// RFC822.SIZE.
    pub const SIZE: u32 = 2;
    /// INTERNALDATE.
    pub const INTERNALDATE: u32 = 4;
    /// ENVELOPE.
    pub const ENVELOPE: u32 = 8;
    /// BODYSTRUCTURE.
    pub const BODYSTRUCTURE: u32 = 16;
    /// BODY.
    pub const BODY: u32 = 32;
    /// MODSEQ.
    pub const MODSEQ: u32 = 64;
    /// The named header fields.
    pub const HEADER_FIELDS: u32 = 128;

    fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    /// Whether any item comes from the digest cache.
    pub fn needs_digest(self) -> bool {
        self.has(Self::ENVELOPE | Self::BODYSTRUCTURE | Self::BODY | Self::HEADER_FIELDS)
    }
}

/// A FETCH of metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetadataRequest {
    /// The items.
    pub items: MetadataItems,
    /// For HEADER_FIELDS: the field names.
    pub header_fields: Vec<String>,
    /// HEADER.FIELDS.NOT instead.
    pub header_fields_not: bool,
    /// CHANGEDSINCE (0 = all).
    pub changed_since: ChangeNumber,
}

/// The metadata of one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageMetadata {
    /// The listing entry (UID, flags, keywords, MODSEQ, size, date).
    pub entry: Option<MessageEntry>,
    /// ENVELOPE, when asked for.
    pub envelope: Vec<u8>,
    /// BODYSTRUCTURE, when asked for.
    pub bodystructure: Vec<u8>,
    /// BODY, when asked for.
    pub body: Vec<u8>,
    /// The header fields asked for, with the blank line.
    pub header_fields: Vec<u8>,
}

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

impl<S: Store> StoreView<S> {
    /// UID, flags, keywords, MODSEQ, size and internal date of the messages
    /// in `uids`, ascending, in the store's chunks.
    pub fn list_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
    ) -> ViewStream<Vec<MessageEntry>> {
        let view = self.clone();
        let dir = dir.to_owned();
        spawn_stream(move |tx| async move {
            let uids = view.resolve_star(&dir, folder, &uids).await?;
            let mut s = view.store().list_messages(&dir, folder, &uids);
            while let Some(chunk) = s.try_next().await? {
                if tx.send(Ok(chunk)).await.is_err() {
                    break;
                }
            }
            Ok(())
        })
    }

    /// FETCH metadata of the messages in `uids`, ascending. Digests missing
    /// from the cache are computed on the way (each message parsed once).
    pub fn fetch_metadata(
        &self,
        dir: &str,
        folder: FolderId,
        uids: UidSet,
        req: MetadataRequest,
    ) -> ViewStream<MessageMetadata> {
        let view = self.clone();
        let dir = dir.to_owned();
        spawn_stream(move |tx| async move {
            let uids = view.resolve_star(&dir, folder, &uids).await?;
            let open = if req.items.needs_digest() {
                Some(view.open(&dir).await?)
            } else {
                None
            };
            let cols = FetchColumns {
                envelope: req.items.has(MetadataItems::ENVELOPE),
                bodystructure: req.items.has(MetadataItems::BODYSTRUCTURE),
                body: req.items.has(MetadataItems::BODY),
                header: req.items.has(MetadataItems::HEADER_FIELDS),
            };
            let mut s = view.store().list_messages(&dir, folder, &uids);
            while let Some(chunk) = s.try_next().await? {
                let chunk: Vec<MessageEntry> = chunk
                    .into_iter()
                    .filter(|e| e.modseq > req.changed_since)
                    .collect();
                let cached = match &open {
                    Some(open) => {
                        view.ensure_digests(open, &dir, folder, &chunk).await?;
                        let hashes: Vec<_> = chunk.iter().map(|e| e.content.clone()).collect();
                        view.with_db(open, move |db| db.fetch(hashes.iter(), cols))
                            .await?
                    }
                    None => Default::default(),
                };
                for e in chunk {
                    let mut m = MessageMetadata::default();
                    if req.items.needs_digest() {
                        let (envelope, bodystructure, body, header) = match cached.get(&e.content) {
                            Some(c) => (
                                c.envelope.clone(),
                                c.bodystructure.clone(),
                                c.body.clone(),
                                c.header.clone(),
                            ),
                            None => {
                                // No hash from the store (or gone meanwhile): derive now.
                                let d = view.transient_digest(&dir, folder, &e).await?;
                                (d.envelope, d.bodystructure, d.body, d.header)
                            }
                        };
                        if cols.envelope {
                            m.envelope = envelope;
                        }
                        if cols.bodystructure {
                            m.bodystructure = bodystructure;
                        }
                        if cols.body {
                            m.body = body;
                        }
                        if cols.header {
                            m.header_fields =
                                select_fields(&header, &req.header_fields, req.header_fields_not);
                        }
                    }
                    m.entry = Some(e);
                    if tx.send(Ok(m)).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Ok(())
        })
    }

    /// What changed in a folder since `since`; vanished UIDs only when
    /// asked for. The last chunk carries the folder's highest MODSEQ.
    pub fn changes(
        &self,
        dir: &str,
        folder: FolderId,
        since: ChangeNumber,
        vanished: bool,
    ) -> ViewStream<ChangeBatch> {
        let store = self.store().clone();
        let dir = dir.to_owned();
        spawn_stream(move |tx| async move {
            let mut s = store.changes(&dir, folder, since);
            let mut highest = since;
            let mut pending: Option<ChangeBatch> = None;
            while let Some(mut batch) = s.try_next().await? {
                if !vanished {
                    batch.vanished.clear();
                }
                highest = highest
                    .max(batch.highest_modseq)
                    .max(batch.changed.iter().map(|e| e.modseq).max().unwrap_or(0));
                if let Some(p) = pending.replace(batch)
                    && tx.send(Ok(p)).await.is_err()
                {
                    return Ok(());
                }
            }
            let mut last = pending.unwrap_or_default();
            last.highest_modseq = highest;
            let _ = tx.send(Ok(last)).await;
            Ok(())
        })
    }
}

/// Collects a listing stream (tests, POP3-sized folders).
pub async fn collect_entries(
    s: ViewStream<Vec<MessageEntry>>,
) -> Result<Vec<MessageEntry>, MidbError> {
    s.try_concat().await
}
