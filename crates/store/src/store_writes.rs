//! The writes of an open [`Store`]: each is queued to the store's writer
//! thread and returns after its batch commits. Moved out of store.rs, which
//! keeps opening, creating and the read pool.

use crate::content::{ContentWriter, StagedContent};
use crate::derive;
use crate::error::{Result, StoreError};
use crate::flags::{FlagOp, ImapFlags};
use crate::folders::{self, FolderInfo, FolderRef};
use crate::ids::{ChangeNumber, ContentHash, ImapUid, MessageId, UidRange};
use crate::messages::{
    self, CopyOutcome, FlagsOutcome, InsertedMessage, MapiMessage, MessageEntry, NewMessage,
};
use crate::props::{Prop, PropTag};
use crate::store::{MessageContent, Store};
use crate::writer::WriterCounts;
use rusqlite::OptionalExtension;
use std::io::Read;
use std::time::Duration;

/// Size of the chunks [`Store::insert_mime_from`] copies in.
const COPY_CHUNK: usize = 64 * 1024;

impl Store {
    /// Counters of the writer (commits vs. writes shows group commit at work).
    pub fn writer_stats(&self) -> WriterCounts {
        self.writer.stats()
    }

    /// The message's RFC 5322 form. For a message created as properties it is
    /// generated now and cached until the message changes.
    pub fn content(&self, id: MessageId) -> Result<MessageContent> {
        match self.reader.content(id) {
            Err(StoreError::NoMimeYet(_)) => {
                let hash = self.generate_content(id)?;
                self.open_content(&hash)
            }
            other => other,
        }
    }

    /// All bytes of a message's content opened with [`Store::content`].
    pub fn read_content(&self, content: MessageContent) -> Result<Vec<u8>> {
        let hash = content.hash();
        let mut bytes = Vec::with_capacity(usize::try_from(content.len()).unwrap_or(0));
        content
            .reader(0, None)?
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::io("read", self.files.layout().content_path(&hash), e))?;
        Ok(bytes)
    }

    fn generate_content(&self, id: MessageId) -> Result<ContentHash> {
        let rec = self.with_reader(|c| messages::read(c, id))?;
        let mut attachments = Vec::with_capacity(rec.attachments.len());
        for a in &rec.attachments {
            let mut bytes = Vec::new();
            self.attachment_content(id, a.position)?
                .read_to_end(&mut bytes)
                .map_err(|e| StoreError::io("read attachment of", self.reader.dir.clone(), e))?;
            attachments.push((a.props.clone(), bytes));
        }
        let outgoing = derive::build_outgoing(&rec.props, &rec.recipients, &attachments);
        let raw = groxide_mime::build_mime(&outgoing).map_err(|e| {
            StoreError::InvalidArgument(format!("cannot build MIME for message {id}: {e}"))
        })?;
        let mut w = self.files.writer(u64::MAX)?;
        w.write_chunk(&raw)?;
        let staged = w.finish()?;
        let (hash, size) = (staged.hash(), staged.size());
        let seen = rec.entry.cn;
        self.writer.submit(staged, move |ctx| {
            messages::cache_generated(ctx, id, seen, &hash, size)
        })?;
        Ok(hash)
    }

    /// A writer that stages a new message's bytes (limit: the max message size).
    pub fn stage_content(&self) -> Result<ContentWriter> {
        self.files.writer(self.limits.get().max_message_size)
    }

    /// Inserts a message from staged RFC 5322 bytes into `folder`; its
    /// properties are derived from the bytes (best effort: broken MIME is
    /// stored all the same).
    pub fn insert_mime(
        &self,
        folder: impl Into<FolderRef>,
        mut staged: StagedContent,
        new: NewMessage,
    ) -> Result<InsertedMessage> {
        let raw = match staged.take_bytes() {
            Some(b) => b,
            None => self.read_file(&staged.hash())?,
        };
        let derived = derive::derive_mime(&raw);
        drop(raw);
        let (hash, size) = (staged.hash(), staged.size());
        let r = folder.into();
        self.writer.submit(staged, move |ctx| {
            let fid = folders::resolve(ctx.conn, r)?;
            messages::insert_mime(ctx, fid, &hash, size, &new, &derived)
        })
    }

    /// Stages `raw` and inserts it (see [`Store::insert_mime`]).
    pub fn insert_mime_from(
        &self,
        folder: impl Into<FolderRef>,
        mut raw: impl Read,
        new: NewMessage,
    ) -> Result<InsertedMessage> {
        let mut w = self.stage_content()?;
        let mut buf = vec![0u8; COPY_CHUNK];
        loop {
            let n = match raw.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StoreError::io("read message from", "caller", e)),
            };
            w.write_chunk(&buf[..n])?;
        }
        let staged = w.finish()?;
        self.insert_mime(folder, staged, new)
    }

    /// Inserts a message created as properties. Its MIME form is generated
    /// on first [`Store::content`].
    pub fn insert_mapi(
        &self,
        folder: impl Into<FolderRef>,
        message: MapiMessage,
        new: NewMessage,
    ) -> Result<InsertedMessage> {
        let max = self.limits.get().max_message_size;
        let size = messages::mapi_size(&message);
        if size > max {
            return Err(StoreError::TooLarge { size, max });
        }
        let mut staged = Vec::with_capacity(message.attachments.len());
        for a in &message.attachments {
            let mut w = self.files.writer(max)?;
            w.write_chunk(&a.content)?;
            staged.push(w.finish()?);
        }
        let hashes: Vec<(ContentHash, u64)> = staged.iter().map(|s| (s.hash(), s.size())).collect();
        let r = folder.into();
        self.writer.submit(staged, move |ctx| {
            let fid = folders::resolve(ctx.conn, r)?;
            messages::insert_mapi(ctx, fid, &message, &hashes, &new)
        })
    }

    /// Creates a folder.
    pub fn create_folder(
        &self,
        parent: impl Into<FolderRef>,
        name: &str,
        container_class: &str,
    ) -> Result<FolderInfo> {
        let (p, name, class) = (parent.into(), name.to_string(), container_class.to_string());
        self.writer.submit((), move |ctx| {
            let parent = folders::resolve(ctx.conn, p)?;
            folders::create(ctx, parent, &name, &class)
        })
    }

    /// Renames a folder.
    pub fn rename_folder(&self, folder: impl Into<FolderRef>, name: &str) -> Result<FolderInfo> {
        let (f, name) = (folder.into(), name.to_string());
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            folders::rename(ctx, id, &name)
        })
    }

    /// Moves a folder under `new_parent`, optionally renaming it.
    pub fn move_folder(
        &self,
        folder: impl Into<FolderRef>,
        new_parent: impl Into<FolderRef>,
        name: Option<&str>,
    ) -> Result<FolderInfo> {
        let (f, p, name) = (folder.into(), new_parent.into(), name.map(str::to_owned));
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            let parent = folders::resolve(ctx.conn, p)?;
            folders::move_to(ctx, id, parent, name.as_deref())
        })
    }

    /// Deletes a folder with its subfolders and messages (soft or hard).
    pub fn delete_folder(&self, folder: impl Into<FolderRef>, hard: bool) -> Result<()> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            folders::delete(ctx, id, hard)
        })
    }

    /// Deletes the messages of a folder (and its subfolders when asked).
    pub fn empty_folder(
        &self,
        folder: impl Into<FolderRef>,
        hard: bool,
        subfolders: bool,
    ) -> Result<()> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            folders::empty(ctx, id, hard, subfolders)
        })
    }

    /// Sets and removes folder properties.
    pub fn set_folder_props(
        &self,
        folder: impl Into<FolderRef>,
        set: Vec<Prop>,
        remove: Vec<PropTag>,
    ) -> Result<()> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            folders::set_props(ctx, id, &set, &remove)
        })
    }

    /// Sets and removes message properties (flag-mapped ones change the IMAP flags).
    pub fn set_message_props(
        &self,
        id: MessageId,
        set: Vec<Prop>,
        remove: Vec<PropTag>,
    ) -> Result<MessageEntry> {
        self.writer
            .submit((), move |ctx| messages::set_props(ctx, id, &set, &remove))
    }

    /// Marks a message read or unread.
    pub fn set_read(&self, id: MessageId, read: bool) -> Result<MessageEntry> {
        self.writer
            .submit((), move |ctx| messages::set_read(ctx, id, read))
    }

    /// Changes IMAP flags and keywords of messages by UID.
    pub fn set_flags(
        &self,
        folder: impl Into<FolderRef>,
        uids: Vec<UidRange>,
        op: FlagOp,
        flags: ImapFlags,
        keywords: Vec<String>,
        unchanged_since: Option<ChangeNumber>,
    ) -> Result<FlagsOutcome> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            messages::set_flags(ctx, id, &uids, op, flags, &keywords, unchanged_since)
        })
    }

    /// Copies messages by UID; new UIDs in the target.
    pub fn copy_messages(
        &self,
        folder: impl Into<FolderRef>,
        uids: Vec<UidRange>,
        target: impl Into<FolderRef>,
    ) -> Result<CopyOutcome> {
        self.transfer(folder.into(), uids, target.into(), false)
    }

    /// Moves messages by UID; new UIDs in the target, tombstones in the source.
    pub fn move_messages(
        &self,
        folder: impl Into<FolderRef>,
        uids: Vec<UidRange>,
        target: impl Into<FolderRef>,
    ) -> Result<CopyOutcome> {
        self.transfer(folder.into(), uids, target.into(), true)
    }

    /// Copies, or moves when `remove` is set, in one write.
    fn transfer(
        &self,
        f: FolderRef,
        uids: Vec<UidRange>,
        t: FolderRef,
        remove: bool,
    ) -> Result<CopyOutcome> {
        self.writer.submit((), move |ctx| {
            let (src, dst) = (
                folders::resolve(ctx.conn, f)?,
                folders::resolve(ctx.conn, t)?,
            );
            if remove {
                messages::move_to(ctx, src, &uids, dst)
            } else {
                messages::copy(ctx, src, &uids, dst)
            }
        })
    }

    /// Deletes (expunges) messages by UID; returns the UIDs removed.
    pub fn delete_messages(
        &self,
        folder: impl Into<FolderRef>,
        uids: Vec<UidRange>,
        hard: bool,
    ) -> Result<Vec<ImapUid>> {
        let f = folder.into();
        self.writer.submit((), move |ctx| {
            let id = folders::resolve(ctx.conn, f)?;
            messages::delete_uids(ctx, id, &uids, hard)
        })
    }

    /// Deletes one message by id.
    pub fn delete_message(&self, id: MessageId, hard: bool) -> Result<ImapUid> {
        self.writer
            .submit((), move |ctx| messages::delete_message(ctx, id, hard))
    }

    /// Hard-deletes what was soft-deleted at least `older_than` ago.
    /// Returns (messages, folders) purged.
    pub fn purge_soft_deleted(&self, older_than: Duration) -> Result<(u64, u64)> {
        let age = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        self.writer.submit((), move |ctx| {
            messages::purge_soft_deleted(ctx, ctx.now.saturating_sub(age))
        })
    }

    /// Removes content files nothing references (left by a crash between
    /// staging and commit) and old staging files. Returns how many went.
    pub fn purge_content(&self) -> Result<u64> {
        let files = self.files.clone();
        self.writer.submit((), move |ctx| {
            let conn = ctx.conn;
            files.sweep(|h| {
                conn.prepare_cached("SELECT 1 FROM content_files WHERE hash = ?1")
                    .and_then(|mut s| s.query_row([&h.0[..]], |_| Ok(())).optional())
                    .map(|r| r.is_some())
                    .unwrap_or(true)
            })
        })
    }

    #[doc(hidden)]
    /// Inserts `n` messages with the bytes of `staged` in one write: a fast
    /// way to fill a folder for benchmarks and load tests.
    pub fn insert_copies(
        &self,
        folder: impl Into<FolderRef>,
        mut staged: StagedContent,
        n: usize,
    ) -> Result<()> {
        let raw = match staged.take_bytes() {
            Some(b) => b,
            None => self.read_file(&staged.hash())?,
        };
        let derived = derive::derive_mime(&raw);
        let (hash, size) = (staged.hash(), staged.size());
        let r = folder.into();
        self.writer.submit(staged, move |ctx| {
            let fid = folders::resolve(ctx.conn, r)?;
            for _ in 0..n {
                messages::insert_mime(ctx, fid, &hash, size, &NewMessage::default(), &derived)?;
            }
            Ok(())
        })
    }

    /// Sets the quota in bytes (0 = none).
    pub fn set_quota(&self, bytes: u64) -> Result<()> {
        self.writer.submit((), move |ctx| {
            ctx.conn.execute(
                "UPDATE store_info SET quota_bytes = ?1 WHERE id = 1",
                [bytes as i64],
            )?;
            Ok(())
        })
    }
}
