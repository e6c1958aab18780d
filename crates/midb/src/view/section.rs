//! FETCH BODY[section]<partial> and BINARY[section]<partial>.
//!
//! The whole message streams straight from its content file. HEADER and
//! HEADER.FIELDS of the message come from the cached header block without
//! touching the content. TEXT, parts and `.MIME` are byte ranges of the
//! original located by the cached part table, so only that range is read.
//! BINARY reads the part and undoes its transfer encoding.

use super::StoreView;
use crate::digest::PartRanges;
use crate::error::MidbError;
use crate::open_stores::OpenStore;
use crate::writes::StoreWrites;
use bytes::Bytes;
use futures_util::StreamExt;
use groxide_mailview::{FolderId, SectionChunk, SectionPart, SectionRequest, ViewStream};
use groxide_mime::SectionKind;
use groxide_store::ContentHash;
use std::ops::Range;
use std::sync::Arc;

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

fn kind_of(part: &SectionPart) -> SectionKind {
    match part {
        SectionPart::Full => SectionKind::Full,
        SectionPart::Header => SectionKind::Header,
        SectionPart::HeaderFields(n) => SectionKind::HeaderFields(n.clone()),
        SectionPart::HeaderFieldsNot(n) => SectionKind::HeaderFieldsNot(n.clone()),
        SectionPart::Text => SectionKind::Text,
        SectionPart::Mime => SectionKind::Mime,
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

impl<W: StoreWrites> StoreView<W> {
    /// The part table entry and header block of a content, from the cache
    /// (computed now if missing).
    async fn part_and_header(
        &self,
        open: &Arc<OpenStore>,
        entry: &super::Entry,
        path: &[u32],
        want_header: bool,
    ) -> Result<(Option<PartRanges>, Vec<u8>), MidbError> {
        let Some(hash) = entry.content_hash else {
            return Ok((None, Vec::new()));
        };
        // One read of the cache; a message not digested yet (new) is
        // digested first and read again.
        let look = || {
            Self::with_db(open, |db| {
                db.in_read_txn(|| {
                    if db.digest_id(&hash)?.is_none() {
                        return Ok(None);
                    }
                    let part = db.part(&hash, path)?;
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
                    Ok(Some((part, header)))
                })
            })
        };
        if let Some(found) = look()? {
            return Ok(found);
        }
        self.ensure_digests(open, std::slice::from_ref(entry))
            .await?;
        Ok(look()?.unwrap_or((None, Vec::new())))
    }

    async fn locate(
        &self,
        open: &Arc<OpenStore>,
        entry: &super::Entry,
        hash: &ContentHash,
        req: &SectionRequest,
    ) -> Result<Source, MidbError> {
        let top = req.part.is_empty();
        let kind = kind_of(&req.kind);
        if top && matches!(kind, SectionKind::Full) {
            return Ok(Source::Range(0..entry.size));
        }
        let want_header = top
            && matches!(
                kind,
                SectionKind::Header
                    | SectionKind::HeaderFields(_)
                    | SectionKind::HeaderFieldsNot(_)
            );
        let (part, header) = self
            .part_and_header(open, entry, &req.part, want_header)
            .await?;
        if want_header {
            // A header block too long for the digest is read from the file
            // (the digest keeps its first lines, for HEADER.FIELDS).
            let whole = part
                .as_ref()
                .map(|p| p.header.clone())
                .filter(|r| r.end - r.start != header.len() as u64);
            return Ok(match (kind, whole) {
                (SectionKind::Header, Some(range)) => Source::Range(range),
                (SectionKind::Header, None) => Source::Bytes(header),
                (k, _) => Source::Bytes(select(&header, k)),
            });
        }
        let Some(part) = part else {
            return Ok(MISSING);
        };
        Ok(match kind {
            SectionKind::Text if top => Source::Range(part.body),
            SectionKind::Mime if top => MISSING,
            SectionKind::Full if req.binary => Source::Binary(part.header.start..part.body.end),
            SectionKind::Full => Source::Range(part.body),
            SectionKind::Mime => Source::Range(part.header),
            SectionKind::Header => part.message.map_or(MISSING, |(h, _)| Source::Range(h)),
            SectionKind::Text => part.message.map_or(MISSING, |(_, b)| Source::Range(b)),
            k @ (SectionKind::HeaderFields(_) | SectionKind::HeaderFieldsNot(_)) => {
                match part.message {
                    Some((h, _)) => {
                        let bytes = Self::read_range(open, hash, h)?;
                        Source::Bytes(select(&bytes, k))
                    }
                    None => MISSING,
                }
            }
        })
    }

    /// FETCH of one section: the first chunk holds the total size, then the
    /// data follows in pieces read from the content file.
    pub async fn fetch_section(
        &self,
        dir: &str,
        folder: FolderId,
        req: SectionRequest,
    ) -> Result<ViewStream<SectionChunk>, MidbError> {
        let open = self.open(dir).await?;
        let entry = self.entry_with_content(&open, folder, req.uid).await?;
        let Some(hash) = entry.content_hash else {
            return Err(MidbError::Internal(format!(
                "message {} has no MIME form",
                req.uid
            )));
        };
        let whole = |total: u64, data: Bytes| {
            futures_util::stream::iter([Ok(SectionChunk {
                total_size: total,
                data,
            })])
            .boxed()
        };
        Ok(match self.locate(&open, &entry, &hash, &req).await? {
            Source::Bytes(b) => {
                let w = window(b.len() as u64, req.offset, req.length);
                let data = Bytes::from(b).slice(w.start as usize..w.end as usize);
                whole(data.len() as u64, data)
            }
            Source::Binary(r) => {
                let raw = Self::read_range(&open, &hash, r)?;
                let decoded = groxide_mime::decode_section(&raw, &[1])
                    .map_err(|e| MidbError::UnknownCte(e.to_string()))?;
                let w = window(decoded.len() as u64, req.offset, req.length);
                let data = Bytes::from(decoded).slice(w.start as usize..w.end as usize);
                whole(data.len() as u64, data)
            }
            Source::Range(r) => {
                let r = sub_range(
                    &r,
                    window(r.end.saturating_sub(r.start), req.offset, req.length),
                );
                let total = r.end - r.start;
                let mut first = true;
                let pieces = Self::stream_range(open, hash, r).map(move |p| {
                    let total_size = if std::mem::take(&mut first) { total } else { 0 };
                    p.map(|data| SectionChunk { total_size, data })
                });
                if total == 0 {
                    whole(0, Bytes::new())
                } else {
                    pieces.boxed()
                }
            }
        })
    }
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
