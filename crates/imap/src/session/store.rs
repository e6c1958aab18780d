//! STORE and UID STORE, with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3).

use super::flags::{flag_list, from_wire};
use super::sync::note_keywords;
use super::view::Selected;
use super::{Handled, Reply, Session, Stop};
use crate::backend::MailboxView as _;
use crate::backend::{Backend, FlagChange, FlagMode, UidSet};
use groxide_imap_proto::{Data, FetchWriter, NumberSet, ResponseCode, StoreAction, StoreCommand};

impl<B: Backend> Session<'_, B> {
    pub(super) async fn store(&mut self, cmd: StoreCommand) -> Handled {
        let account = self.require_selected()?;
        let StoreCommand {
            uid,
            set,
            unchanged_since,
            action,
            silent,
            flags,
        } = cmd;
        let (bits, keywords) =
            from_wire(&flags).map_err(|e| Stop::Reply(Reply::bad(e.to_string())))?;
        if unchanged_since.is_some() {
            self.enable_condstore().await;
        }
        let view = self.view()?;
        if view.read_only {
            return Ok(Reply::no(
                Some(ResponseCode::Cannot),
                "Mailbox is read-only",
            ));
        }
        let positions = if uid {
            view.positions_of_uids(&set)
        } else {
            view.positions_of_seqs(&set)
                .map_err(|e| Stop::Reply(Reply::bad(e.to_string())))?
        };
        let ranges = view.uid_ranges(&positions);
        let folder = view.folder;
        if ranges.is_empty() {
            return Ok(Reply::ok("STORE completed"));
        }
        let mode = match action {
            StoreAction::Replace => FlagMode::Replace,
            StoreAction::Add => FlagMode::Add,
            StoreAction::Remove => FlagMode::Remove,
        };
        let result = self
            .server
            .backend()
            .view()
            .store_flags(
                &account.dir,
                folder,
                UidSet::from_ranges(ranges),
                FlagChange {
                    mode,
                    flags: bits,
                    keywords,
                    unchanged_since: unchanged_since.unwrap_or(0),
                },
            )
            .await?;
        let condstore = self.enabled.condstore;
        let utf8 = self.enc.utf8();
        for m in &result.updated {
            let Some(view) = self.selected.as_mut() else {
                break;
            };
            let Some(seq) = view.seq_of(m.uid) else {
                continue;
            };
            view.note_reported(m.uid, m.modseq);
            if unchanged_since.is_none_or(|u| m.modseq > u) {
                view.note_own_change(m.modseq);
            }
            let mut announce = None;
            note_keywords(view, &m.keywords, &mut announce);
            if let Some(flags) = announce {
                self.enc.data(self.conn.out(), &Data::Flags(flags));
            }
            let changed = unchanged_since.is_some_and(|u| m.modseq > u);
            if silent && !changed {
                continue;
            }
            let recent = !self.enabled.rev2 && view.is_recent(m.uid);
            let out = self.conn.out();
            let mut w = FetchWriter::start(out, seq, utf8);
            if uid {
                w.uid(out, m.uid);
            }
            if !silent {
                w.flags(out, &flag_list(m.flags, &m.keywords, recent));
            }
            if condstore {
                w.modseq(out, m.modseq);
            }
            w.finish(out);
            self.conn.flush_if_full().await?;
        }
        if result.modified.is_empty() {
            return Ok(Reply::ok("STORE completed"));
        }
        let view = self.view()?;
        let modified = modified_set(view, &result.modified, uid);
        Ok(Reply::ok_with(
            ResponseCode::Modified(modified),
            "Some messages were modified since UNCHANGEDSINCE",
        ))
    }
}

/// The MODIFIED set: UIDs for UID STORE, sequence numbers otherwise.
fn modified_set(view: &Selected, modified: &[crate::backend::UidRange], uid: bool) -> NumberSet {
    let mut out = NumberSet::new();
    for r in modified {
        for &u in view.uids_within(r.first, r.last) {
            if modified.iter().any(|r| r.contains(u)) {
                match (uid, view.seq_of(u)) {
                    (true, _) => out.push(u),
                    (false, Some(seq)) => out.push(seq),
                    (false, None) => {}
                }
            }
        }
    }
    out
}
