//! APPEND with MULTIAPPEND: each message literal streams into the store as
//! it arrives (never more than a read buffer of it in memory). A failure
//! is answered at once when the client waits for `+` (e.g. `[TRYCREATE]`),
//! otherwise after the rest of the command was read; messages of a
//! MULTIAPPEND already stored are then removed again (best effort).

use super::flags::from_wire;
use super::{Flow, Reply, Session, Stop, no_for};
use crate::backend::MailboxView as _;
use crate::backend::{
    AppendRequest, AppendUpload, Appended, Backend, ExpungeScope, UidSet, ViewError,
};
use crate::names;
use bytes::Bytes;
use groxide_imap_proto::{
    AppendCommand, AppendContent, AppendForm, AppendLiteral, NumberSet, ResponseCode, Tag,
};

/// The APPEND being received.
pub struct AppendState<U> {
    tag: Tag,
    mailbox: String,
    current: Option<U>,
    done: Vec<Appended>,
    error: Option<Reply>,
}

impl<U> AppendState<U> {
    /// Drops the upload in progress (the store discards it).
    pub fn abandon(self) {}
}

fn failure_reply(e: &ViewError) -> Reply {
    match e {
        ViewError::NoSuchMailbox => Reply::no(
            Some(ResponseCode::TryCreate),
            "No such mailbox; create it first",
        ),
        e => {
            let (code, text) = no_for(e);
            Reply::no(code, text)
        }
    }
}

impl<B: Backend> Session<'_, B> {
    /// A message literal of an APPEND begins.
    pub(super) async fn append_start(&mut self, literal: AppendLiteral) -> Flow {
        let mut state = match self.append.take() {
            Some(s) if s.tag == literal.tag => s,
            other => {
                if let Some(old) = other {
                    old.abandon();
                }
                AppendState {
                    tag: literal.tag.clone(),
                    mailbox: String::new(),
                    current: None,
                    done: Vec::new(),
                    error: None,
                }
            }
        };
        if let Some(upload) = state.current.take() {
            match upload.finish().await {
                Ok(a) => state.done.push(a),
                Err(e) => state.error = Some(failure_reply(&e)),
            }
        }
        if state.error.is_none() {
            match self.begin_upload(&literal).await {
                Ok((mailbox, upload)) => {
                    state.mailbox = mailbox;
                    state.current = Some(upload);
                }
                Err(reply) => state.error = Some(reply),
            }
        }
        match (&state.error, literal.synchronizing) {
            (Some(_), true) => {
                // The client waits: refuse now; it will not send the literal.
                self.rx.reject_literal();
                let reply = state
                    .error
                    .take()
                    .unwrap_or_else(|| Reply::no(None, "APPEND failed"));
                self.rollback(&state.mailbox, &state.done).await;
                self.write_reply(&literal.tag, reply);
            }
            (Some(_), false) => self.append = Some(state),
            (None, synchronizing) => {
                self.append = Some(state);
                if synchronizing {
                    self.conn.out().extend_from_slice(b"+ Ready\r\n");
                    self.conn.flush().await?;
                }
            }
        }
        Ok(())
    }

    async fn begin_upload(
        &mut self,
        literal: &AppendLiteral,
    ) -> Result<(String, crate::backend::Upload<B>), Reply> {
        let account = self.account().map_err(|s| match s {
            Stop::Reply(r) => r,
            Stop::End(_) => Reply::bad("Log in first"),
        })?;
        let mailbox = names::from_wire(literal.mailbox.as_str(), self.enabled.utf8_names())
            .map_err(|e| Reply::no(Some(ResponseCode::Cannot), e.to_string()))?;
        let (flags, keywords) = from_wire(&literal.flags).map_err(|e| Reply::bad(e.to_string()))?;
        let request = AppendRequest {
            mailbox: mailbox.clone(),
            flags,
            keywords,
            internal_date: literal.internal_date.map_or(0, |d| d.unix_timestamp()),
            size: literal.size,
        };
        let upload = self
            .server
            .backend()
            .view()
            .begin_append(&account.dir, request)
            .await
            .map_err(|e| failure_reply(&e))?;
        Ok((mailbox, upload))
    }

    /// The next piece of the message literal.
    pub(super) async fn append_data(&mut self, chunk: Bytes) -> Flow {
        let Some(state) = self.append.as_mut() else {
            return Ok(());
        };
        if let Some(upload) = state.current.as_mut()
            && let Err(e) = upload.write(chunk).await
        {
            state.current = None;
            state.error = Some(failure_reply(&e));
        }
        Ok(())
    }

    /// The APPEND command is complete: finish and answer.
    pub(super) async fn append_complete(&mut self, tag: &Tag, cmd: AppendCommand) -> Flow {
        let state = match self.append.take() {
            Some(s) if &s.tag == tag => Some(s),
            Some(s) => {
                s.abandon();
                None
            }
            None => None,
        };
        let reply = match state {
            Some(state) => self.finish_streamed(state, &cmd).await,
            None => self.append_inline(cmd).await,
        };
        let reply = match reply {
            Ok(r) => r,
            Err(Stop::Reply(r)) => r,
            Err(Stop::End(e)) => return Err(e),
        };
        if self.selected.is_some() {
            self.sync_selected(true, false).await?;
        }
        self.write_reply(tag, reply);
        Ok(())
    }

    async fn finish_streamed(
        &mut self,
        mut state: AppendState<crate::backend::Upload<B>>,
        cmd: &AppendCommand,
    ) -> Result<Reply, Stop> {
        if state.error.is_none()
            && !self.enabled.utf8
            && cmd.messages.iter().any(|m| m.form == AppendForm::Utf8)
        {
            // Dropping the unfinished upload discards it.
            state.current = None;
            state.error = Some(Reply::bad("Enable UTF8=ACCEPT before APPEND UTF8"));
        }
        if let Some(upload) = state.current.take() {
            match upload.finish().await {
                Ok(a) => state.done.push(a),
                Err(e) => state.error = state.error.or(Some(failure_reply(&e))),
            }
        }
        if let Some(reply) = state.error.take() {
            self.rollback(&state.mailbox, &state.done).await;
            return Ok(reply);
        }
        self.note_appended(&state.mailbox);
        Ok(appended_reply(&state.done))
    }

    /// APPEND whose messages came inside the command (not streamed).
    async fn append_inline(&mut self, cmd: AppendCommand) -> Result<Reply, Stop> {
        let account = self.account()?;
        let mailbox = self.store_name(&cmd.mailbox)?;
        let mut done = Vec::new();
        for m in cmd.messages {
            let AppendContent::Inline(data) = m.content else {
                self.rollback(&mailbox, &done).await;
                return Ok(Reply::no(None, "APPEND data was lost"));
            };
            let (flags, keywords) = from_wire(&m.flags).map_err(|e| Reply::bad(e.to_string()))?;
            let request = AppendRequest {
                mailbox: mailbox.clone(),
                flags,
                keywords,
                internal_date: m.internal_date.map_or(0, |d| d.unix_timestamp()),
                size: data.len() as u64,
            };
            let backend = self.server.backend().view();
            let result = async {
                let mut upload = backend.begin_append(&account.dir, request).await?;
                upload.write(Bytes::from(data)).await?;
                upload.finish().await
            }
            .await;
            match result {
                Ok(a) => done.push(a),
                Err(e) => {
                    self.rollback(&mailbox, &done).await;
                    return Ok(failure_reply(&e));
                }
            }
        }
        self.note_appended(&mailbox);
        Ok(appended_reply(&done))
    }

    /// New mail in the selected mailbox is announced before the reply.
    fn note_appended(&mut self, mailbox: &str) {
        if let Some(view) = self.selected.as_mut()
            && view.name == mailbox
        {
            view.dirty = true;
        }
    }

    /// Removes the messages a failed MULTIAPPEND had stored already.
    async fn rollback(&mut self, mailbox: &str, done: &[Appended]) {
        let Some(login) = self.login.as_ref() else {
            return;
        };
        if done.is_empty() {
            return;
        }
        let dir = login.account.dir.clone();
        let backend = self.server.backend().view();
        let uids = UidSet::from_uids(done.iter().map(|a| a.uid));
        let result = async {
            let st = backend.mailbox_status(&dir, mailbox).await?;
            backend
                .expunge(&dir, st.folder, ExpungeScope::Outright(uids))
                .await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(dir = %dir, mailbox, error = %e, "could not remove the messages of a failed MULTIAPPEND");
        }
    }
}

fn appended_reply(done: &[Appended]) -> Reply {
    match done.first() {
        Some(first) => Reply::ok_with(
            ResponseCode::AppendUid {
                uid_validity: first.uidvalidity,
                uids: NumberSet::from_ordered(done.iter().map(|a| a.uid)),
            },
            "APPEND completed",
        ),
        None => Reply::ok("APPEND completed"),
    }
}
