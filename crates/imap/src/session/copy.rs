//! COPY, MOVE (RFC 6851) with COPYUID (UIDPLUS), and EXPUNGE / UID EXPUNGE.

use super::{Handled, Reply, Session, Stop};
use crate::backend::MailboxView as _;
use crate::backend::{Backend, ExpungeScope, Expunged, UidRange, UidSet, ViewError};
use groxide_imap_proto::{Mailbox, NumberSet, ResponseCode, SequenceSet, Status};

impl<B: Backend> Session<'_, B> {
    pub(super) async fn copy(
        &mut self,
        uid: bool,
        set: SequenceSet,
        mailbox: Mailbox,
        remove: bool,
    ) -> Handled {
        let account = self.require_selected()?;
        let target = self.store_name(&mailbox)?;
        let view = self.view()?;
        if remove && view.read_only {
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
        let (folder, selected_name) = (view.folder, view.name.clone());
        let done = if remove {
            "MOVE completed"
        } else {
            "COPY completed"
        };
        if ranges.is_empty() {
            return Ok(Reply::ok(done));
        }
        let result = match self
            .server
            .backend()
            .view()
            .copy_messages(
                &account.dir,
                folder,
                UidSet::from_ranges(ranges),
                &target,
                remove,
            )
            .await
        {
            Ok(r) => r,
            Err(ViewError::NoSuchMailbox) => {
                return Ok(Reply::no(
                    Some(ResponseCode::TryCreate),
                    "No such destination mailbox",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if target == selected_name
            && let Some(view) = self.selected.as_mut()
        {
            view.dirty = true;
        }
        if result.pairs.is_empty() {
            return Ok(Reply::ok(done));
        }
        let code = ResponseCode::CopyUid {
            uid_validity: result.target_uidvalidity,
            source: NumberSet::from_ordered(result.pairs.iter().map(|(s, _)| *s)),
            destination: NumberSet::from_ordered(result.pairs.iter().map(|(_, t)| *t)),
        };
        if !remove {
            return Ok(Reply::ok_with(code, done));
        }
        // MOVE: COPYUID goes in an untagged OK before the expunges (RFC 6851 §4.3).
        self.untagged(Status::Ok, Some(code), "Moved");
        if let Some(view) = self.selected.as_mut() {
            for (u, _) in &result.pairs {
                view.mark_expunged(*u);
            }
            view.note_own_change(result.modseq);
        }
        self.report_expunges();
        Ok(Reply::ok(done))
    }

    pub(super) async fn expunge(&mut self, uids: Option<SequenceSet>) -> Handled {
        let account = self.require_selected()?;
        let view = self.view()?;
        if view.read_only {
            return Ok(Reply::no(
                Some(ResponseCode::Cannot),
                "Mailbox is read-only",
            ));
        }
        let ranges: Option<Vec<UidRange>> = uids.as_ref().map(|set| {
            let positions = view.positions_of_uids(set);
            view.uid_ranges(&positions)
        });
        let folder = view.folder;
        if ranges.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Reply::ok("EXPUNGE completed"));
        }
        let which = match ranges {
            Some(r) => ExpungeScope::DeletedAmong(UidSet::from_ranges(r)),
            None => ExpungeScope::Deleted,
        };
        let Expunged {
            uids: expunged,
            modseq,
        } = self
            .server
            .backend()
            .view()
            .expunge(&account.dir, folder, which)
            .await?;
        if let Some(view) = self.selected.as_mut() {
            for u in &expunged {
                view.mark_expunged(*u);
            }
            if !expunged.is_empty() {
                view.note_own_change(modseq);
            }
        }
        self.report_expunges();
        if self.enabled.condstore && modseq > 0 {
            return Ok(Reply::ok_with(
                ResponseCode::HighestModSeq(modseq),
                "EXPUNGE completed",
            ));
        }
        Ok(Reply::ok("EXPUNGE completed"))
    }
}
