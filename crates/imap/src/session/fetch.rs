//! FETCH and UID FETCH. Responses are written message by message as the
//! store streams them, and flushed as the buffer fills: memory stays
//! bounded for any folder size. Flags-only fetches use the store's compact
//! message list; body sections stream from the store into the socket
//! through a literal whose size the store announced first.

use super::flags::flag_list;
use super::view::Positions;
use super::{End, Handled, Reply, Session, Stop};
use crate::backend::MailboxView as _;
use crate::backend::{
    Backend, FlagChange, FlagMode, Flags, MessageEntry, MessageMetadata, MetadataItems,
    MetadataRequest, SectionChunk, SectionPart, SectionRequest, UidRange, UidSet, ViewError,
    ViewStream,
};
use futures_util::StreamExt;
use groxide_imap_proto::{
    Data, FetchBodyName, FetchCommand, FetchItem, FetchWriter, ImapDateTime, NumberSet, Partial,
    ResponseCode, Section, SectionText, without_nul,
};

/// One FETCH item that carries message bytes.
#[derive(Debug, Clone)]
struct BodyItem {
    name: FetchBodyName,
    request: SectionRequest,
    /// Served from the metadata's header fields rather than a section request.
    from_metadata: bool,
    /// Only the size is wanted (BINARY.SIZE).
    size_only: bool,
    partial: Option<Partial>,
}

/// A section opened before its FETCH line is written.
struct OpenSection {
    total: u64,
    first: bytes::Bytes,
    rest: ViewStream<SectionChunk>,
}

fn section_part(text: &Option<SectionText>) -> SectionPart {
    match text {
        None => SectionPart::Full,
        Some(SectionText::Header) => SectionPart::Header,
        Some(SectionText::HeaderFields(f)) => SectionPart::HeaderFields(f.clone()),
        Some(SectionText::HeaderFieldsNot(f)) => SectionPart::HeaderFieldsNot(f.clone()),
        Some(SectionText::Text) => SectionPart::Text,
        Some(SectionText::Mime) => SectionPart::Mime,
    }
}

fn partial_bounds(partial: Option<Partial>) -> (u64, u64) {
    partial.map_or((0, 0), |p| (p.offset, p.length.get()))
}

fn body_item(item: &FetchItem) -> Option<BodyItem> {
    let section = |section: Section, partial: Option<Partial>, name: FetchBodyName| {
        let (offset, length) = partial_bounds(partial);
        BodyItem {
            name,
            request: SectionRequest {
                uid: 0,
                part: section.part.clone(),
                kind: section_part(&section.text),
                binary: false,
                offset,
                length,
            },
            from_metadata: false,
            size_only: false,
            partial,
        }
    };
    Some(match item {
        FetchItem::BodySection {
            section: s,
            partial,
            ..
        } => section(
            s.clone(),
            *partial,
            FetchBodyName::Body {
                section: s.clone(),
                origin: partial.map(|p| p.offset),
            },
        ),
        FetchItem::Rfc822 => section(Section::default(), None, FetchBodyName::Rfc822),
        FetchItem::Rfc822Header => section(
            Section {
                part: Vec::new(),
                text: Some(SectionText::Header),
            },
            None,
            FetchBodyName::Rfc822Header,
        ),
        FetchItem::Rfc822Text => section(
            Section {
                part: Vec::new(),
                text: Some(SectionText::Text),
            },
            None,
            FetchBodyName::Rfc822Text,
        ),
        FetchItem::Binary { part, partial, .. } => {
            let (offset, length) = partial_bounds(*partial);
            BodyItem {
                name: FetchBodyName::Binary {
                    part: part.clone(),
                    origin: partial.map(|p| p.offset),
                },
                request: SectionRequest {
                    uid: 0,
                    part: part.clone(),
                    kind: SectionPart::Full,
                    binary: true,
                    offset,
                    length,
                },
                from_metadata: false,
                size_only: false,
                partial: *partial,
            }
        }
        FetchItem::BinarySize { part } => BodyItem {
            name: FetchBodyName::Binary {
                part: part.clone(),
                origin: None,
            },
            request: SectionRequest {
                uid: 0,
                part: part.clone(),
                kind: SectionPart::Full,
                binary: true,
                offset: 0,
                length: 0,
            },
            from_metadata: false,
            size_only: true,
            partial: None,
        },
        _ => return None,
    })
}

/// True for items that set `\Seen` (non-PEEK bodies).
fn sets_seen(item: &FetchItem) -> bool {
    matches!(
        item,
        FetchItem::BodySection { peek: false, .. }
            | FetchItem::Binary { peek: false, .. }
            | FetchItem::Rfc822
            | FetchItem::Rfc822Text
    )
}

/// What a FETCH needs from the store.
struct Plan {
    items: Vec<FetchItem>,
    bodies: Vec<BodyItem>,
    metadata: MetadataItems,
    header_fields: Vec<String>,
    header_fields_not: bool,
}

impl Plan {
    fn new(items: Vec<FetchItem>) -> Plan {
        let mut metadata = MetadataItems::default();
        let mut bodies = Vec::new();
        let mut header_fields: Option<(Vec<String>, bool)> = None;
        for item in &items {
            match item {
                FetchItem::Flags => metadata.insert(MetadataItems::FLAGS),
                FetchItem::InternalDate => metadata.insert(MetadataItems::INTERNALDATE),
                FetchItem::Rfc822Size => metadata.insert(MetadataItems::SIZE),
                FetchItem::Envelope => metadata.insert(MetadataItems::ENVELOPE),
                FetchItem::BodyStructure => metadata.insert(MetadataItems::BODYSTRUCTURE),
                FetchItem::Body => metadata.insert(MetadataItems::BODY),
                FetchItem::ModSeq => metadata.insert(MetadataItems::MODSEQ),
                FetchItem::Uid => {}
                other => {
                    let Some(mut body) = body_item(other) else {
                        continue;
                    };
                    // The first top-level HEADER.FIELDS comes with the metadata, in one request.
                    if body.request.part.is_empty() && !body.request.binary {
                        let fields = match &body.request.kind {
                            SectionPart::HeaderFields(f) => Some((f.clone(), false)),
                            SectionPart::HeaderFieldsNot(f) => Some((f.clone(), true)),
                            _ => None,
                        };
                        if let Some(fields) = fields {
                            if header_fields.is_none() {
                                header_fields = Some(fields.clone());
                            }
                            if header_fields.as_ref() == Some(&fields) {
                                body.from_metadata = true;
                                metadata.insert(MetadataItems::HEADER_FIELDS);
                            }
                        }
                    }
                    bodies.push(body);
                }
            }
        }
        let (header_fields, header_fields_not) = header_fields.unwrap_or_default();
        Plan {
            items,
            bodies,
            metadata,
            header_fields,
            header_fields_not,
        }
    }

    /// The compact message list suffices.
    fn list_only(&self) -> bool {
        self.bodies.is_empty()
            && self.metadata.only(MetadataItems::from_bits(
                MetadataItems::FLAGS.bits()
                    | MetadataItems::MODSEQ.bits()
                    | MetadataItems::SIZE.bits()
                    | MetadataItems::INTERNALDATE.bits(),
            ))
    }
}

/// Why writing one message stopped.
enum Failed {
    /// The message is gone; skip it.
    Gone,
    /// The command fails with this reply.
    Reply(Reply),
    /// The connection is broken.
    End(End),
}

impl From<std::io::Error> for Failed {
    fn from(e: std::io::Error) -> Failed {
        Failed::End(End::Io(e))
    }
}

impl<B: Backend> Session<'_, B> {
    pub(super) async fn fetch(&mut self, cmd: FetchCommand) -> Handled {
        let account = self.require_selected()?;
        let FetchCommand {
            uid,
            set,
            items,
            changed_since,
            vanished,
        } = cmd;
        if vanished && (!uid || changed_since.is_none()) {
            return Ok(Reply::bad("VANISHED needs UID FETCH with CHANGEDSINCE"));
        }
        if vanished && !self.enabled.qresync {
            return Ok(Reply::bad("Enable QRESYNC before using VANISHED"));
        }
        let mut items = items.expand();
        if changed_since.is_some() || items.contains(&FetchItem::ModSeq) {
            self.enable_condstore().await;
        }
        if uid && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        if changed_since.is_some() && !items.contains(&FetchItem::ModSeq) {
            items.push(FetchItem::ModSeq);
        }
        let view = self.view()?;
        let positions: Positions = if uid {
            view.positions_of_uids(&set)
        } else {
            view.positions_of_seqs(&set)
                .map_err(|e| Stop::Reply(Reply::bad(e.to_string())))?
        };
        let ranges = view.uid_ranges(&positions);
        let (folder, read_only) = (view.folder, view.read_only);
        let dir = account.dir;
        if vanished && let Some(since) = changed_since {
            self.report_vanished_earlier(&dir, folder, since, &set)
                .await?;
        }
        if ranges.is_empty() {
            return Ok(Reply::ok("FETCH completed"));
        }
        if !read_only && items.iter().any(sets_seen) {
            self.set_seen(&dir, folder, &ranges).await?;
            if !items.contains(&FetchItem::Flags) {
                items.push(FetchItem::Flags);
            }
            if self.enabled.condstore && !items.contains(&FetchItem::ModSeq) {
                items.push(FetchItem::ModSeq);
            }
        }
        let plan = Plan::new(items);
        let result = if plan.metadata.bits() == 0 && changed_since.is_none() {
            // Only UIDs and bodies: the view knows the UIDs, no listing needed.
            self.fetch_from_view(&dir, folder, &positions, &plan).await
        } else if plan.list_only() && changed_since.is_none() {
            self.fetch_from_list(&dir, folder, ranges, &plan).await
        } else {
            self.fetch_from_metadata(&dir, folder, ranges, &plan, changed_since.unwrap_or(0))
                .await
        };
        let wanted: usize = positions.iter().map(|r| r.clone().count()).sum();
        match result {
            // Another session expunged some of them and FETCH by number may
            // not say so (RFC 5530, as Dovecot answers): the others were
            // sent, the client learns why not all. A UID FETCH reports the
            // expunges at its end instead.
            Ok(written) if written < wanted && !uid && changed_since.is_none() => Ok(Reply::no(
                Some(ResponseCode::ExpungeIssued),
                "Some of the requested messages no longer exist",
            )),
            Ok(_) | Err(Failed::Gone) => Ok(Reply::ok("FETCH completed")),
            Err(Failed::Reply(r)) => Ok(r),
            Err(Failed::End(e)) => Err(Stop::End(e)),
        }
    }

    /// Sets `\Seen` before a non-PEEK body fetch; the FETCH lines then show it.
    async fn set_seen(&mut self, dir: &str, folder: u64, ranges: &[UidRange]) -> Result<(), Stop> {
        let result = self
            .server
            .backend()
            .view()
            .store_flags(
                dir,
                folder,
                UidSet::from_ranges(ranges.iter().copied()),
                FlagChange {
                    mode: FlagMode::Add,
                    flags: Flags::SEEN,
                    keywords: Vec::new(),
                    unchanged_since: 0,
                },
            )
            .await?;
        if let Some(view) = self.selected.as_mut() {
            for m in &result.updated {
                view.note_reported(m.uid, m.modseq);
                view.note_own_change(m.modseq);
            }
        }
        Ok(())
    }

    /// `* VANISHED (EARLIER)` for the UIDs of `set` expunged since `since`.
    async fn report_vanished_earlier(
        &mut self,
        dir: &str,
        folder: u64,
        since: u64,
        set: &groxide_imap_proto::SequenceSet,
    ) -> Result<(), Stop> {
        // `*` reaches past the highest UID left: expunged ones may lie above it.
        let wanted: Vec<UidRange> = match set {
            groxide_imap_proto::SequenceSet::Saved => match self.selected.as_ref() {
                Some(s) => s.raw_uid_ranges(set),
                None => return Ok(()),
            },
            ranges => ranges
                .resolve(u32::MAX)
                .ranges()
                .iter()
                .map(|&(a, b)| UidRange::new(a, b))
                .collect(),
        };
        let mut stream = self
            .server
            .backend()
            .view()
            .changes(dir, folder, since, true)
            .await?;
        let mut gone: Vec<(u32, u32)> = Vec::new();
        while let Some(chunk) = stream.next().await {
            for r in chunk?.vanished {
                for w in &wanted {
                    let (lo, hi) = (r.first.max(w.first), r.last.min(w.last));
                    if lo <= hi {
                        gone.push((lo, hi));
                    }
                }
            }
        }
        if !gone.is_empty() {
            gone.sort_unstable();
            let mut uids = NumberSet::new();
            for (lo, hi) in gone {
                uids.push_range(lo, hi);
            }
            self.data(&Data::Vanished {
                earlier: true,
                uids,
            });
        }
        Ok(())
    }

    async fn fetch_from_view(
        &mut self,
        dir: &str,
        folder: u64,
        positions: &Positions,
        plan: &Plan,
    ) -> Result<usize, Failed> {
        let mut written = 0;
        for range in positions {
            for position in range.clone() {
                // Messages known to be gone are skipped, as the store would skip them.
                let Some(uid) = self
                    .selected
                    .as_ref()
                    .and_then(|s| s.uid_at(position).filter(|u| !s.is_pending_expunge(*u)))
                else {
                    continue;
                };
                let meta = MessageMetadata {
                    entry: MessageEntry {
                        uid,
                        ..MessageEntry::default()
                    },
                    ..MessageMetadata::default()
                };
                match self.write_message(dir, folder, &meta, plan).await {
                    Ok(()) => written += 1,
                    Err(Failed::Gone) => {}
                    Err(e) => return Err(e),
                }
                self.conn.flush_if_full().await?;
            }
        }
        Ok(written)
    }

    async fn fetch_from_list(
        &mut self,
        dir: &str,
        folder: u64,
        ranges: Vec<UidRange>,
        plan: &Plan,
    ) -> Result<usize, Failed> {
        let mut written = 0;
        let mut stream = self
            .server
            .backend()
            .view()
            .list_messages(dir, folder, UidSet::from_ranges(ranges))
            .await
            .map_err(backend_failure)?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(backend_failure)?;
            for entry in chunk {
                let meta = MessageMetadata {
                    entry,
                    ..MessageMetadata::default()
                };
                match self.write_message(dir, folder, &meta, plan).await {
                    Ok(()) => written += 1,
                    Err(Failed::Gone) => {}
                    Err(e) => return Err(e),
                }
            }
            self.conn.flush_if_full().await?;
        }
        Ok(written)
    }

    async fn fetch_from_metadata(
        &mut self,
        dir: &str,
        folder: u64,
        ranges: Vec<UidRange>,
        plan: &Plan,
        changed_since: u64,
    ) -> Result<usize, Failed> {
        let mut written = 0;
        let mut items = plan.metadata;
        // Flags are cheap and needed to write FLAGS; UID is always there.
        items.insert(MetadataItems::FLAGS);
        let request = MetadataRequest {
            uids: UidSet::from_ranges(ranges),
            items,
            header_fields: plan.header_fields.clone(),
            header_fields_not: plan.header_fields_not,
            changed_since,
        };
        let mut stream = self
            .server
            .backend()
            .view()
            .fetch_metadata(dir, folder, request)
            .await
            .map_err(backend_failure)?;
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(backend_failure)?;
            match self.write_message(dir, folder, &meta, plan).await {
                Ok(()) => written += 1,
                Err(Failed::Gone) => {}
                Err(e) => return Err(e),
            }
            self.conn.flush_if_full().await?;
        }
        Ok(written)
    }

    /// Opens the body sections of one message (so failures are known before
    /// its FETCH line starts), then writes the line.
    async fn write_message(
        &mut self,
        dir: &str,
        folder: u64,
        meta: &MessageMetadata,
        plan: &Plan,
    ) -> Result<(), Failed> {
        let Some(view) = self.selected.as_mut() else {
            return Ok(());
        };
        let Some(seq) = view.seq_of(meta.entry.uid) else {
            return Ok(());
        };
        let recent = !self.enabled.rev2 && view.is_recent(meta.entry.uid);
        // Flags newer than the view's MODSEQ are reported here; the catch-up must not repeat them.
        if meta.entry.modseq > view.known_modseq && plan.metadata.contains(MetadataItems::FLAGS) {
            view.note_reported(meta.entry.uid, meta.entry.modseq);
        }
        let mut sections: Vec<Option<OpenSection>> = Vec::with_capacity(plan.bodies.len());
        for body in &plan.bodies {
            if body.from_metadata {
                sections.push(None);
                continue;
            }
            let mut request = body.request.clone();
            request.uid = meta.entry.uid;
            sections.push(Some(self.open_section(dir, folder, request).await?));
        }
        let utf8 = self.enc.utf8();
        let mut w = FetchWriter::start(self.conn.out(), seq, utf8);
        let mut bodies = plan.bodies.iter().zip(sections);
        for item in &plan.items {
            let out = self.conn.out();
            match item {
                FetchItem::Uid => w.uid(out, meta.entry.uid),
                FetchItem::Flags => w.flags(
                    out,
                    &flag_list(meta.entry.flags, &meta.entry.keywords, recent),
                ),
                FetchItem::InternalDate => {
                    if let Some(date) =
                        ImapDateTime::from_unix_timestamp(meta.entry.internal_date, 0)
                    {
                        w.internal_date(out, &date);
                    }
                }
                FetchItem::Rfc822Size => w.rfc822_size(out, meta.entry.size),
                FetchItem::ModSeq => w.modseq(out, meta.entry.modseq),
                FetchItem::Envelope => w.envelope(out, &meta.envelope),
                FetchItem::BodyStructure => w.body_structure(out, &meta.bodystructure),
                FetchItem::Body => w.body(out, &meta.body),
                _ => {
                    let Some((body, open)) = bodies.next() else {
                        continue;
                    };
                    match open {
                        None => {
                            let data = apply_partial(&meta.header_fields, body.partial);
                            w.section(out, &body.name, Some(data));
                        }
                        Some(open) if body.size_only => {
                            if let FetchBodyName::Binary { part, .. } = &body.name {
                                w.binary_size(out, part, open.total);
                            }
                        }
                        Some(open) => {
                            w.literal_header(out, &body.name, open.total, body.request.binary);
                            self.stream_section(open, body.request.binary).await?;
                        }
                    }
                }
            }
        }
        w.finish(self.conn.out());
        Ok(())
    }

    async fn open_section(
        &mut self,
        dir: &str,
        folder: u64,
        request: SectionRequest,
    ) -> Result<OpenSection, Failed> {
        let mut stream = self
            .server
            .backend()
            .view()
            .fetch_section(dir, folder, request)
            .await
            .map_err(backend_failure)?;
        match stream.next().await {
            Some(Ok(first)) => Ok(OpenSection {
                total: first.total_size,
                first: first.data,
                rest: stream,
            }),
            Some(Err(e)) => Err(backend_failure(e)),
            None => Ok(OpenSection {
                total: 0,
                first: bytes::Bytes::new(),
                rest: stream,
            }),
        }
    }

    /// Sends exactly the announced number of bytes of a section. A store
    /// that sends fewer breaks the literal: the connection must close.
    /// Outside BINARY a stored NUL goes out as 0x80 (a literal may not
    /// hold NUL; Dovecot does the same), so the size stays as announced.
    async fn stream_section(&mut self, open: OpenSection, binary: bool) -> Result<(), Failed> {
        let OpenSection {
            total,
            first,
            mut rest,
        } = open;
        let mut left = total;
        let mut chunk = first;
        loop {
            let take = (chunk.len() as u64).min(left) as usize;
            if binary {
                self.conn.write_bytes(&chunk[..take]).await?;
            } else {
                self.conn.write_bytes(&without_nul(&chunk[..take])).await?;
            }
            left -= take as u64;
            if left == 0 {
                return Ok(());
            }
            match rest.next().await {
                Some(Ok(c)) => chunk = c.data,
                Some(Err(e)) => {
                    tracing::warn!(peer = %self.peer, error = %e, "message stream failed inside a literal");
                    return Err(self.broken_literal().await);
                }
                None => {
                    tracing::warn!(peer = %self.peer, left, "message stream ended inside a literal");
                    return Err(self.broken_literal().await);
                }
            }
        }
    }

    async fn broken_literal(&mut self) -> Failed {
        // The announced literal cannot be completed: the client must reconnect.
        self.conn.out().extend_from_slice(b"\r\n");
        match self
            .bye(
                ResponseCode::ServerBug,
                "Message data unavailable; reconnect",
            )
            .await
        {
            Ok(()) => Failed::End(End::Closed),
            Err(e) => Failed::End(e),
        }
    }
}

fn apply_partial(data: &[u8], partial: Option<Partial>) -> &[u8] {
    match partial {
        None => data,
        Some(p) => {
            let start = usize::try_from(p.offset)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let len = usize::try_from(p.length.get()).unwrap_or(usize::MAX);
            &data[start..start.saturating_add(len).min(data.len())]
        }
    }
}

fn backend_failure(e: ViewError) -> Failed {
    match e {
        ViewError::NoSuchMessage => Failed::Gone,
        e => {
            let (code, text) = super::no_for(&e);
            Failed::Reply(Reply::no(code, text))
        }
    }
}
