//! FETCH BODY[section]<partial> and BINARY[section]<partial>.
//!
//! The whole message streams straight from the store. HEADER and
//! HEADER.FIELDS of the message come from the cached header block without
//! touching the content. TEXT, parts and `.MIME` are byte ranges of the
//! original located by the cached part table, so only that range is read.
//! BINARY reads the part and undoes its transfer encoding.

use super::{StoreView, ViewStream, spawn_stream};
use crate::digest::PartRanges;
use crate::error::MidbError;
use crate::store::{
    FlagChange, FlagMode, Flags, FolderId, MessageEntry, Store, StoreError, Uid, UidSet,
};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use groxide_mime::SectionKind;
use std::ops::Range;

/// A section request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SectionRequest {
    /// Part numbers; empty for the message.
    pub part: Vec<u32>,
    /// What of the part.
    pub kind: SectionKind,
    /// BINARY: content-transfer-encoding undone.
    pub binary: bool,
    /// Partial offset.
    pub offset: u64,
    /// Partial length (0 = to the end).
    pub length: u64,
    /// Set `\Seen` (not PEEK).
    pub set_seen: bool,
}

/// One piece of a section reply; the first carries the total size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SectionPiece {
    /// First piece: the size of all data that follows.
    pub total_size: u64,
    /// Data.
    pub data: Bytes,
    /// First piece: `\Seen` was set by this fetch.
    pub seen_set: bool,
    /// First piece: the MODSEQ after setting `\Seen`.
    pub modseq: u64,
}

/// Where a section's bytes come from.
enum Source {
    /// A range of the original message.
    Range(Range<u64>),
    /// Bytes already at hand.
    Bytes(Vec<u8>),
    /// A part to decode (its MIME header and body, contiguous).
    Binary(Range<u64>),
}

/// The partial window `<offset.length>` of a section of `len` octets.
fn window(len: u64, offset: u64, length: u64) -> Range<u64> {
    let start = offset.min(len);
    let end = if length == 0 {
        len
    } else {
        start.saturating_add(length).min(len)
    };
    start..end
}

fn sub_range(r: &Range<u64>, w: Range<u64>) -> Range<u64> {
    r.start + w.start..r.start + w.end
}

const MISSING: Source = Source::Range(0..0);

impl<S: Store> StoreView<S> {
    async fn message_entry(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
    ) -> Result<MessageEntry, MidbError> {
        let mut s = self
            .store()
            .list_messages(dir, folder, &UidSet::from_uids([uid]));
        while let Some(chunk) = s.try_next().await? {
            if let Some(e) = chunk.into_iter().find(|e| e.uid == uid) {
                return Ok(e);
            }
        }
        Err(StoreError::NoSuchMessage(format!("uid {uid}")).into())
    }

    /// The part table entry and header block of a message, from the cache
    /// (computed now if missing).
    async fn part_and_header(
        &self,
        dir: &str,
        folder: FolderId,
        entry: &MessageEntry,
        path: &[u32],
        want_header: bool,
    ) -> Result<(Option<PartRanges>, Vec<u8>), MidbError> {
        if entry.content.is_unknown() {
            let d = self.transient_digest(dir, folder, entry).await?;
            return Ok((d.part(path).cloned(), d.header));
        }
        let open = self.open(dir).await?;
        self.ensure_digests(&open, dir, folder, std::slice::from_ref(entry))
            .await?;
        let hash = entry.content.clone();
        let path = path.to_vec();
        self.with_db(&open, move |db| {
            let part = db.part(&hash, &path)?;
            let header = if want_header {
                db.fetch(
                    [&hash],
                    crate::cache::FetchColumns {
                        header: true,
                        ..Default::default()
                    },
                )?
                .remove(&hash)
                .map(|c| c.header)
                .unwrap_or_default()
            } else {
                Vec::new()
            };
            Ok((part, header))
        })
        .await
    }

    async fn read_range(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        r: Range<u64>,
    ) -> Result<Vec<u8>, MidbError> {
        let mut out =
            Vec::with_capacity(usize::try_from(r.end - r.start).unwrap_or(0).min(1 << 26));
        let mut s = self.store().read_message(dir, folder, uid, r);
        while let Some(b) = s.try_next().await? {
            out.extend_from_slice(&b);
        }
        Ok(out)
    }

    async fn locate(
        &self,
        dir: &str,
        folder: FolderId,
        entry: &MessageEntry,
        req: &SectionRequest,
    ) -> Result<Source, MidbError> {
        let top = req.part.is_empty();
        if top && matches!(req.kind, SectionKind::Full) {
            return Ok(Source::Range(0..entry.size));
        }
        let header_fields = |names: &Vec<String>, not: bool| {
            if not {
                SectionKind::HeaderFieldsNot(names.clone())
            } else {
                SectionKind::HeaderFields(names.clone())
            }
        };
        let want_header = top
            && matches!(
                req.kind,
                SectionKind::Header
                    | SectionKind::HeaderFields(_)
                    | SectionKind::HeaderFieldsNot(_)
            );
        let (part, header) = self
            .part_and_header(dir, folder, entry, &req.part, want_header)
            .await?;
        if want_header {
            return Ok(match &req.kind {
                SectionKind::HeaderFields(n) => {
                    Source::Bytes(select(&header, header_fields(n, false)))
                }
                SectionKind::HeaderFieldsNot(n) => {
                    Source::Bytes(select(&header, header_fields(n, true)))
                }
                _ => Source::Bytes(header),
            });
        }
        let Some(part) = part else {
            return Ok(MISSING);
        };
        Ok(match &req.kind {
            SectionKind::Text if top => Source::Range(part.body),
            SectionKind::Mime if top => MISSING,
            SectionKind::Full if req.binary => Source::Binary(part.header.start..part.body.end),
            SectionKind::Full => Source::Range(part.body),
            SectionKind::Mime => Source::Range(part.header),
            SectionKind::Header => part.message.map_or(MISSING, |(h, _)| Source::Range(h)),
            SectionKind::Text => part.message.map_or(MISSING, |(_, b)| Source::Range(b)),
            SectionKind::HeaderFields(n) | SectionKind::HeaderFieldsNot(n) => match part.message {
                Some((h, _)) => {
                    let bytes = self.read_range(dir, folder, entry.uid, h).await?;
                    let not = matches!(req.kind, SectionKind::HeaderFieldsNot(_));
                    Source::Bytes(select(&bytes, header_fields(n, not)))
                }
                None => MISSING,
            },
        })
    }

    /// FETCH of one section: the first piece holds the total size (and the
    /// `\Seen` outcome), then the data in the store's chunks.
    pub fn fetch_section(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        req: SectionRequest,
    ) -> ViewStream<SectionPiece> {
        if req.part.is_empty() && matches!(req.kind, SectionKind::Full) && !req.set_seen {
            return self.peek_whole(dir, folder, uid, req.offset, req.length);
        }
        let view = self.clone();
        let dir = dir.to_owned();
        spawn_stream(move |tx| async move {
            let entry = view.message_entry(&dir, folder, uid).await?;
            let mut seen_set = false;
            let mut modseq = entry.modseq;
            if req.set_seen && !entry.flags.contains(Flags::SEEN) {
                let up = view
                    .store()
                    .store_flags(
                        &dir,
                        folder,
                        &UidSet::from_uids([uid]),
                        &FlagChange {
                            mode: FlagMode::Add,
                            flags: Flags::SEEN,
                            keywords: Vec::new(),
                            unchanged_since: 0,
                        },
                    )
                    .await?;
                seen_set = true;
                modseq = up.updated.iter().map(|e| e.modseq).max().unwrap_or(modseq);
            }
            let first = |total_size: u64, data: Bytes| SectionPiece {
                total_size,
                data,
                seen_set,
                modseq,
            };
            match view.locate(&dir, folder, &entry, &req).await? {
                Source::Bytes(b) => {
                    let w = window(b.len() as u64, req.offset, req.length);
                    let data = Bytes::from(b).slice(w.start as usize..w.end as usize);
                    let _ = tx.send(Ok(first(data.len() as u64, data))).await;
                }
                Source::Binary(r) => {
                    let raw = view.read_range(&dir, folder, uid, r).await?;
                    let decoded = groxide_mime::decode_section(&raw, &[1])
                        .map_err(|e| MidbError::UnknownCte(e.to_string()))?;
                    let w = window(decoded.len() as u64, req.offset, req.length);
                    let data = Bytes::from(decoded).slice(w.start as usize..w.end as usize);
                    let _ = tx.send(Ok(first(data.len() as u64, data))).await;
                }
                Source::Range(r) => {
                    let r = sub_range(
                        &r,
                        window(r.end.saturating_sub(r.start), req.offset, req.length),
                    );
                    let total = r.end - r.start;
                    if tx.send(Ok(first(total, Bytes::new()))).await.is_err() || total == 0 {
                        return Ok(());
                    }
                    let mut s = view.store().read_message(&dir, folder, uid, r);
                    while let Some(b) = s.try_next().await? {
                        if tx
                            .send(Ok(SectionPiece {
                                data: b,
                                ..Default::default()
                            }))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
            Ok(())
        })
    }
}

impl<S: Store> StoreView<S> {
    /// `BODY.PEEK[]<partial>` (and POP3's RETR): the bytes stream straight
    /// from the store in the caller's task; the store announces the size,
    /// so the message is not listed first.
    fn peek_whole(
        &self,
        dir: &str,
        folder: FolderId,
        uid: Uid,
        offset: u64,
        length: u64,
    ) -> ViewStream<SectionPiece> {
        let store = self.store().clone();
        let dir = dir.to_owned();
        let start = async move {
            let end = if length == 0 {
                u64::MAX
            } else {
                offset.saturating_add(length)
            };
            let (total, mut body) = store
                .read_message_sized(&dir, folder, uid, offset..end)
                .await?;
            let w = window(total, offset, length);
            // The first piece carries the size and the first chunk: one message less.
            let data = match body.next().await {
                Some(chunk) => chunk?,
                None => Bytes::new(),
            };
            let first = SectionPiece {
                total_size: w.end - w.start,
                data,
                ..Default::default()
            };
            let rest = body.map(|r| {
                r.map(|data| SectionPiece {
                    data,
                    ..Default::default()
                })
                .map_err(MidbError::from)
            });
            Ok::<_, MidbError>(futures_util::stream::iter([Ok(first)]).chain(rest))
        };
        futures_util::stream::once(start).try_flatten().boxed()
    }
}

fn select(header: &[u8], kind: SectionKind) -> Vec<u8> {
    groxide_mime::locate_section(
        header,
        &groxide_mime::SectionSpec {
            part: Vec::new(),
            kind,
        },
    )
    .bytes(header)
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn partial_windows_are_clamped_to_the_section() {
        let cases = [
            ((10, 0, 0), 0..10),
            ((10, 3, 0), 3..10),
            ((10, 3, 4), 3..7),
            ((10, 8, 4), 8..10),
            ((10, 20, 4), 10..10),
            ((0, 0, 5), 0..0),
            ((10, u64::MAX, u64::MAX), 10..10),
        ];
        for ((len, off, n), want) in cases {
            assert_eq!(window(len, off, n), want, "{len} {off} {n}");
        }
    }
}
