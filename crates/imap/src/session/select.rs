//! SELECT and EXAMINE, with CONDSTORE and QRESYNC (RFC 7162). The view is
//! built from one status request and one streamed listing of UIDs; a
//! QRESYNC resynchronisation then costs what changed since the client's
//! MODSEQ, not the size of the folder.

use super::flags::{flag_list, mailbox_flags, permanent_flags};
use super::view::Selected;
use super::{Handled, Reply, Session};
use crate::backend::MailboxView as _;
use crate::backend::{Backend, UidRange, UidSet};
use futures_util::StreamExt;
use groxide_imap_proto::{
    Data, FetchWriter, ListKind, ListResponse, Mailbox, NumberSet, QresyncParams, ResponseCode,
    SelectParams, Status,
};
use std::collections::BTreeSet;

impl<B: Backend> Session<'_, B> {
    pub(super) async fn select(
        &mut self,
        mailbox: Mailbox,
        params: SelectParams,
        read_only: bool,
    ) -> Handled {
        let account = self.account()?;
        // The previous mailbox is closed whether or not the new one opens.
        if self.selected.take().is_some() {
            self.untagged(
                Status::Ok,
                Some(ResponseCode::Closed),
                "Previous mailbox closed",
            );
        }
        if params.qresync.is_some() && !self.enabled.qresync {
            return Ok(Reply::bad("Enable QRESYNC before using it in SELECT"));
        }
        if params.condstore {
            self.enabled.condstore = true;
        }
        let name = self.store_name(&mailbox)?;
        // Hints older than the status below are covered by it.
        self.poll_events();
        let backend = self.server.backend().view();
        let st = backend.mailbox_status(&account.dir, &name).await?;
        let mut uids: Vec<u32> = Vec::with_capacity(st.exists as usize);
        let mut keywords = BTreeSet::new();
        let mut stream = backend
            .list_messages(&account.dir, st.folder, UidSet::all())
            .await?;
        while let Some(chunk) = stream.next().await {
            for m in chunk? {
                uids.push(m.uid);
                keywords.extend(m.keywords);
            }
        }
        if !uids.is_sorted_by(|a, b| a < b) {
            uids.sort_unstable();
            uids.dedup();
        }
        uids.shrink_to_fit();
        let mut view = Selected::new(name, st.folder, st.uidvalidity, read_only, uids);
        view.known_modseq = st.highest_modseq;
        view.keywords = keywords;
        // SELECT claims the messages no session has seen; EXAMINE only looks.
        let max_uid = view.max_uid();
        let claim = (!read_only && max_uid > 0).then_some(max_uid);
        let claimed_before = backend.claim_recent(&account.dir, st.folder, claim).await?;
        view.add_recent(claimed_before.saturating_add(1), max_uid);
        let uidnext = st.uidnext.max(view.max_uid().saturating_add(1));
        let rev1 = !self.enabled.rev2;

        // Dovecot's order: FLAGS, PERMANENTFLAGS, EXISTS, RECENT, UNSEEN, UIDVALIDITY, UIDNEXT.
        self.data(&Data::Flags(mailbox_flags(&view.keywords)));
        let permanent = if read_only {
            Vec::new()
        } else {
            permanent_flags(&view.keywords)
        };
        self.untagged(
            Status::Ok,
            Some(ResponseCode::PermanentFlags(permanent)),
            if read_only {
                "Read-only mailbox"
            } else {
                "Flags permitted"
            },
        );
        self.data(&Data::Exists(view.exists()));
        if rev1 {
            self.data(&Data::Recent(view.recent_count()));
            if let Some(seq) = (st.first_unseen_uid > 0)
                .then(|| view.seq_of(st.first_unseen_uid))
                .flatten()
            {
                self.untagged(Status::Ok, Some(ResponseCode::Unseen(seq)), "First unseen");
            }
        }
        self.untagged(
            Status::Ok,
            Some(ResponseCode::UidValidity(view.uidvalidity)),
            "UIDs valid",
        );
        self.untagged(
            Status::Ok,
            Some(ResponseCode::UidNext(uidnext)),
            "Predicted next UID",
        );
        self.untagged(
            Status::Ok,
            Some(ResponseCode::HighestModSeq(view.known_modseq.max(1))),
            "Highest",
        );
        if self.enabled.rev2 {
            let wire = self.wire_name(&view.name);
            self.data(&Data::List(ListResponse {
                kind: ListKind::List,
                attributes: Vec::new(),
                delimiter: Some(crate::names::SEPARATOR),
                mailbox: wire,
                extended: Vec::new(),
            }));
        }
        let uidvalidity = view.uidvalidity;
        self.selected = Some(view);
        if let Some(q) = params.qresync
            && q.uid_validity.get() == uidvalidity
        {
            self.qresync_report(&account.dir, q).await?;
        }
        let (code, text) = if read_only {
            (ResponseCode::ReadOnly, "EXAMINE completed")
        } else {
            (ResponseCode::ReadWrite, "SELECT completed")
        };
        Ok(Reply::ok_with(code, text))
    }

    /// `* VANISHED (EARLIER)` and flag changes since the client's MODSEQ.
    async fn qresync_report(&mut self, dir: &str, q: QresyncParams) -> Result<(), super::Stop> {
        let Some(folder) = self.selected.as_ref().map(|s| s.folder) else {
            return Ok(());
        };
        let since = q.mod_seq.get();
        let known = q.known_uids.as_ref().map(|set| set.resolve(u32::MAX));
        let mut stream = self
            .server
            .backend()
            .view()
            .changes(dir, folder, since, true)
            .await?;
        let mut vanished = NumberSet::new();
        let mut fetches: Vec<u8> = Vec::new();
        let utf8 = self.enc.utf8();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            let Some(s) = self.selected.as_mut() else {
                return Ok(());
            };
            for range in &chunk.vanished {
                // Gone after our listing: reported as a plain VANISHED later.
                s.mark_range_expunged(*range);
                for r in intersect(*range, known.as_ref()) {
                    vanished.push_range(r.first, r.last);
                }
            }
            for m in &chunk.changed {
                let Some(seq) = s.seq_of(m.uid) else { continue };
                let mut w = FetchWriter::start(&mut fetches, seq, utf8);
                w.uid(&mut fetches, m.uid);
                let recent = !self.enabled.rev2 && s.is_recent(m.uid);
                w.flags(&mut fetches, &flag_list(m.flags, &m.keywords, recent));
                w.modseq(&mut fetches, m.modseq);
                w.finish(&mut fetches);
            }
        }
        // Known UIDs that are gone but still in the view are not "earlier".
        let earlier = match self.selected.as_ref() {
            Some(s) => {
                let mut set = NumberSet::new();
                for &(a, b) in vanished.ranges() {
                    for (lo, hi) in split_known(s, a, b) {
                        set.push_range(lo, hi);
                    }
                }
                set
            }
            None => vanished,
        };
        if !earlier.is_empty() {
            self.data(&Data::Vanished {
                earlier: true,
                uids: earlier,
            });
        }
        self.conn.out().extend_from_slice(&fetches);
        Ok(())
    }
}

/// The parts of `range` inside `known` (all of it when `known` is `None`).
fn intersect(range: UidRange, known: Option<&NumberSet>) -> Vec<UidRange> {
    match known {
        None => vec![range],
        Some(set) => set
            .ranges()
            .iter()
            .filter_map(|&(a, b)| {
                let lo = a.max(range.first);
                let hi = b.min(range.last);
                (lo <= hi).then(|| UidRange::new(lo, hi))
            })
            .collect(),
    }
}

/// The sub-ranges of `a..=b` whose UIDs are not in the view.
fn split_known(s: &Selected, a: u32, b: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut start = Some(a);
    for &uid in s.uids_within(a, b) {
        if let Some(first) = start
            && uid > first
        {
            out.push((first, uid - 1));
        }
        start = uid.checked_add(1);
    }
    if let Some(first) = start
        && first <= b
    {
        out.push((first, b));
    }
    out
}
