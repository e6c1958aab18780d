//! Catching the selected mailbox up with the store. Change hints only say
//! *that* something changed; what changed comes from `changes` since the
//! MODSEQ the view knows (MODSEQ is the truth, events are hints). New
//! messages become `* n EXISTS`, flag changes `* n FETCH`, expunges
//! `* n EXPUNGE` or `* VANISHED` — the latter only where allowed.

use super::flags::flag_list;
use super::{End, Flow, Session};
use crate::backend::MailboxView as _;
use crate::backend::{Backend, ViewError};
use futures_util::StreamExt;
use groxide_imap_proto::{Data, FetchWriter, Flag, NumberSet, ResponseCode};

impl<B: Backend> Session<'_, B> {
    /// Reports what changed in the selected mailbox: asks the store when a
    /// hint arrived (or `force`), then sends expunges if `expunges` allows.
    pub(super) async fn sync_selected(&mut self, expunges: bool, force: bool) -> Flow {
        self.poll_events();
        let Some(s) = self.selected.as_ref() else {
            return Ok(());
        };
        if force || s.dirty {
            match self.catch_up().await {
                Ok(()) => {}
                Err(CatchUp::End(e)) => return Err(e),
                Err(CatchUp::Backend(ViewError::NoSuchMailbox)) => {
                    self.selected = None;
                    return self
                        .bye(
                            ResponseCode::NonExistent,
                            "The selected mailbox was deleted",
                        )
                        .await;
                }
                Err(CatchUp::Backend(e)) => {
                    // The view stays dirty: the next command tries again.
                    tracing::info!(peer = %self.peer, error = %e, "cannot catch up with the mailbox");
                }
            }
        }
        if expunges {
            self.report_expunges();
        }
        Ok(())
    }

    /// Sends the pending expunges and drops them from the view.
    pub(super) fn report_expunges(&mut self) {
        let Some(s) = self.selected.as_mut() else {
            return;
        };
        if !s.has_pending_expunges() {
            return;
        }
        let gone = s.take_expunges();
        if self.enabled.qresync {
            let uids = NumberSet::from_unordered(gone.iter().map(|(_, uid)| *uid));
            self.enc.data(
                self.conn.out(),
                &Data::Vanished {
                    earlier: false,
                    uids,
                },
            );
        } else {
            for (seq, _) in gone {
                self.enc.data(self.conn.out(), &Data::Expunge(seq));
            }
        }
    }

    /// Asks the store what changed since the view's MODSEQ.
    async fn catch_up(&mut self) -> Result<(), CatchUp> {
        let dir = match &self.login {
            Some(l) => l.account.dir.clone(),
            None => return Ok(()),
        };
        let Some(s) = self.selected.as_mut() else {
            return Ok(());
        };
        s.dirty = false;
        let (folder, since) = (s.folder, s.known_modseq);
        let mut stream = self
            .server
            .backend()
            .view()
            .changes(&dir, folder, since, true)
            .await
            .map_err(|e| {
                if let Some(s) = self.selected.as_mut() {
                    s.dirty = true;
                }
                CatchUp::Backend(e)
            })?;
        let mut new_uids: Vec<u32> = Vec::new();
        let mut new_vanished: Vec<crate::backend::UidRange> = Vec::new();
        let mut new_keywords: Option<Vec<Flag>> = None;
        let mut highest = since;
        let condstore = self.enabled.condstore;
        let qresync = self.enabled.qresync;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    if let Some(s) = self.selected.as_mut() {
                        s.dirty = true;
                    }
                    return Err(CatchUp::Backend(e));
                }
            };
            let Some(s) = self.selected.as_mut() else {
                return Ok(());
            };
            for range in &chunk.vanished {
                s.mark_range_expunged(*range);
                if range.last > s.max_uid() {
                    new_vanished.push(*range);
                }
            }
            highest = highest.max(chunk.highest_modseq);
            let max_known = s.max_uid();
            for m in chunk.changed {
                highest = highest.max(m.modseq);
                if m.uid > max_known {
                    new_uids.push(m.uid);
                    note_keywords(s, &m.keywords, &mut new_keywords);
                    continue;
                }
                let Some(seq) = s.seq_of(m.uid) else { continue };
                if s.already_reported(m.uid, m.modseq) || s.is_pending_expunge(m.uid) {
                    continue;
                }
                let mut announce = None;
                note_keywords(s, &m.keywords, &mut announce);
                if let Some(flags) = announce {
                    self.enc.data(self.conn.out(), &Data::Flags(flags));
                }
                let recent = !self.enabled.rev2 && s.is_recent(m.uid);
                let out = self.conn.out();
                let mut w = FetchWriter::start(out, seq, self.enc.utf8());
                if qresync {
                    w.uid(out, m.uid);
                }
                w.flags(out, &flag_list(m.flags, &m.keywords, recent));
                if condstore {
                    w.modseq(out, m.modseq);
                }
                w.finish(out);
            }
            self.conn
                .flush_if_full()
                .await
                .map_err(|e| CatchUp::End(End::Io(e)))?;
        }
        let Some(s) = self.selected.as_mut() else {
            return Ok(());
        };
        s.known_modseq = s.known_modseq.max(highest);
        let s = &mut *s;
        s.clear_reported();
        if let Some(flags) = new_keywords {
            self.enc.data(self.conn.out(), &Data::Flags(flags));
        }
        if !new_uids.is_empty() {
            new_uids.sort_unstable();
            new_uids.dedup();
            new_uids.retain(|u| !new_vanished.iter().any(|r| r.contains(*u)));
            // A message that arrived and vanished between two catch-ups is never announced.
            let before = s.exists();
            let newest = new_uids.last().copied().unwrap_or(0);
            s.append_uids(new_uids);
            if s.exists() != before {
                let exists = s.exists();
                self.enc.data(self.conn.out(), &Data::Exists(exists));
                self.claim_new_recent(&dir, newest).await;
            }
        }
        Ok(())
    }

    /// New messages up to `newest` arrived: a read-write session claims the
    /// ones no session has seen (they are `\Recent` to it alone), a
    /// read-only one sees them as recent without claiming; `* n RECENT`
    /// follows the EXISTS for IMAP4rev1 clients.
    async fn claim_new_recent(&mut self, dir: &str, newest: u32) {
        let Some(s) = self.selected.as_ref() else {
            return;
        };
        let (folder, claim) = (s.folder, (!s.read_only).then_some(newest));
        let before = match self
            .server
            .backend()
            .view()
            .claim_recent(dir, folder, claim)
            .await
        {
            Ok(b) => b,
            Err(e) => {
                // \Recent is soft state: the messages are just not recent.
                tracing::info!(peer = %self.peer, error = %e, "cannot claim recent messages");
                return;
            }
        };
        let Some(s) = self.selected.as_mut() else {
            return;
        };
        s.add_recent(before.saturating_add(1), newest);
        if !self.enabled.rev2 {
            let recent = s.recent_count();
            self.enc.data(self.conn.out(), &Data::Recent(recent));
        }
    }
}

/// Adds keywords the client was not told of; when there are any, `announce`
/// gets the new `* FLAGS` list.
pub(super) fn note_keywords(
    s: &mut super::view::Selected,
    keywords: &[String],
    announce: &mut Option<Vec<Flag>>,
) {
    let mut added = false;
    for k in keywords {
        if !s.keywords.contains(k) {
            s.keywords.insert(k.clone());
            added = true;
        }
    }
    if added {
        *announce = Some(super::flags::mailbox_flags(&s.keywords));
    }
}

/// Why a catch-up stopped.
enum CatchUp {
    End(End),
    Backend(ViewError),
}
