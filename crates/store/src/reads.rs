//! The reads of a store ([`StoreReader`]): folders, messages, changes,
//! content files. Moved out of store.rs, which keeps opening and the read
//! pool; the writes are in store_writes.rs.

use crate::derive;
use crate::error::{Result, StoreError};
use crate::folders::{self, FolderInfo, FolderRef};
use crate::ids::{ChangeNumber, ContentHash, FolderId, ImapUid, MessageId, UidRange};
use crate::messages::{
    self, AttachmentSource, ContentOrigin, MessageChange, MessageEntry, MessageRecord,
    MessageSelection,
};
use crate::props::{Prop, PropTag, PropValue};
use crate::store::{HierarchyChanges, MessageContent, StoreReader};
use crate::tags::*;
use std::io::Read;
use std::path::PathBuf;

impl StoreReader {
    /// Every folder with its counters, ordered by id.
    pub fn folders(&self) -> Result<Vec<FolderInfo>> {
        self.with_reader(folders::list)
    }

    /// Every folder with those of its properties (as [`Self::folder_props`]
    /// gives them) whose tags are in `tags`, from one snapshot: a client
    /// listing mailboxes with, say, their subscription state asks once, not
    /// once per folder.
    pub fn folders_with_props(&self, tags: &[PropTag]) -> Result<Vec<(FolderInfo, Vec<Prop>)>> {
        self.read(|t| t.folders_with_props(tags))
    }

    /// One folder.
    pub fn folder(&self, r: impl Into<FolderRef>) -> Result<FolderInfo> {
        let r = r.into();
        self.with_reader(|c| folders::get(c, folders::resolve(c, r)?))
    }

    /// A folder with what IMAP SELECT/STATUS need beyond its counters,
    /// from one snapshot.
    pub fn folder_with_imap_status(
        &self,
        r: impl Into<FolderRef>,
    ) -> Result<(FolderInfo, folders::ImapStatus)> {
        let r = r.into();
        self.read(|t| t.folder_with_imap_status(r))
    }

    /// A folder's properties, stored and computed.
    pub fn folder_props(&self, r: impl Into<FolderRef>) -> Result<Vec<Prop>> {
        let r = r.into();
        self.with_reader(|c| folders::props(c, folders::resolve(c, r)?))
    }

    /// Folders changed or removed after `since`.
    pub fn hierarchy_changes_since(&self, since: ChangeNumber) -> Result<HierarchyChanges> {
        self.with_reader(|c| {
            let changed = folders::list(c)?
                .into_iter()
                .filter(|f| f.cn > since)
                .collect();
            let mut st = c.prepare_cached(
                "SELECT folder_id, cn FROM folder_tombstones WHERE cn > ?1 ORDER BY cn",
            )?;
            let removed = st
                .query_map([since.0 as i64], |r| {
                    Ok((
                        FolderId(r.get::<_, i64>(0)? as u64),
                        ChangeNumber(r.get::<_, i64>(1)? as u64),
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(HierarchyChanges { changed, removed })
        })
    }

    /// The message with `uid` in a folder.
    pub fn message_id_by_uid(
        &self,
        folder: impl Into<FolderRef>,
        uid: ImapUid,
    ) -> Result<MessageId> {
        let r = folder.into();
        self.with_reader(|c| messages::id_by_uid(c, folders::resolve(c, r)?, uid))
    }

    /// A message: properties (PR_BODY and PR_HTML of MIME messages derived
    /// from its content), recipients, attachments.
    pub fn message(&self, id: MessageId) -> Result<MessageRecord> {
        let rec = self.with_reader(|c| messages::read(c, id))?;
        self.with_bodies(rec)
    }

    /// Several messages in one read snapshot, in the order asked; ids of
    /// messages that do not exist (any more) are left out. With `bodies`
    /// false, PR_BODY and PR_HTML of MIME messages are not derived (no
    /// content file is read or parsed), for listings that show no body.
    pub fn messages(&self, ids: &[MessageId], bodies: bool) -> Result<Vec<MessageRecord>> {
        self.messages_selected(ids, &MessageSelection::everything(bodies))
    }

    /// [`Self::messages`] reading only what `sel` asks: the property rows
    /// of its tags (one indexed lookup per tag, not the whole property
    /// list), recipients and attachments only when asked, bodies derived
    /// only when asked and one of PR_BODY/PR_HTML is selected. The values
    /// are those of a full read.
    pub fn messages_selected(
        &self,
        ids: &[MessageId],
        sel: &MessageSelection,
    ) -> Result<Vec<MessageRecord>> {
        let to_read = sel.tags.as_deref().map(messages::tags_to_read);
        let recs = self.with_reader(|c| {
            if let Some(t) = &to_read
                && !sel.recipients
                && !sel.attachments
            {
                // A listing's page: one statement for the batch.
                let mut found = messages::read_tags_batch(c, ids, t, sel)?;
                // An id asked twice gets its record twice.
                let mut left: std::collections::HashMap<MessageId, usize> =
                    std::collections::HashMap::with_capacity(ids.len());
                for id in ids {
                    *left.entry(*id).or_default() += 1;
                }
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let n = left.entry(*id).or_default();
                    *n -= 1;
                    out.extend(if *n == 0 {
                        found.remove(id)
                    } else {
                        found.get(id).cloned()
                    });
                }
                return Ok(out);
            }
            // One statement for the batch: its tag list differs by caller,
            // so it is not kept in the connection's statement cache.
            let mut props_st = match &to_read {
                Some(t) if !t.is_empty() => Some(c.prepare(&messages::selected_props_sql(t))?),
                _ => None,
            };
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                match messages::read_selected(c, *id, sel, props_st.as_mut()) {
                    Ok(rec) => out.push(rec),
                    Err(StoreError::NoSuchMessage(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        })?;
        let bodies = sel.bodies && (sel.wants(PR_BODY) || sel.wants(PR_HTML));
        recs.into_iter()
            .map(|r| {
                let mut r = if bodies { self.with_bodies(r)? } else { r };
                if sel.tags.is_some() {
                    // Tags read or computed only to compute the asked ones.
                    r.props.retain(|(t, _)| sel.wants(*t));
                }
                Ok(r)
            })
            .collect()
    }

    /// Adds PR_BODY and PR_HTML derived from the content of a MIME message
    /// that has none stored.
    fn with_bodies(&self, mut rec: MessageRecord) -> Result<MessageRecord> {
        if rec.origin == ContentOrigin::Original
            && let Some(h) = rec.entry.content_hash
            && !rec
                .props
                .iter()
                .any(|(t, _)| *t == PR_BODY || *t == PR_HTML)
        {
            let raw = self.read_file(&h)?;
            let (text, html) = derive::mime_bodies(&raw);
            rec.props.push((PR_BODY, PropValue::Unicode(text)));
            if let Some(h) = html {
                rec.props.push((PR_HTML, PropValue::Binary(h.into_bytes())));
            }
            rec.props.sort_by_key(|(t, _)| *t);
        }
        Ok(rec)
    }

    pub(crate) fn read_file(&self, h: &ContentHash) -> Result<Vec<u8>> {
        let mut f = self.files.open(h)?;
        let mut out = Vec::new();
        f.read_to_end(&mut out)
            .map_err(|e| StoreError::io("read", self.files.layout().content_path(h), e))?;
        Ok(out)
    }

    /// Streams the messages of a folder with UIDs in `range`, in UID order,
    /// until `each` returns false. Bounded memory.
    pub fn list_messages(
        &self,
        folder: impl Into<FolderRef>,
        range: UidRange,
        mut each: impl FnMut(MessageEntry) -> bool,
    ) -> Result<()> {
        let r = folder.into();
        self.with_reader(|c| messages::list(c, folders::resolve(c, r)?, range, &mut each))
    }

    /// Streams what changed in a folder after `since`: removals, then
    /// added or changed messages. Replaying it over the state at `since`
    /// gives the state now (UIDs are never reused). Returns the folder's
    /// highest MODSEQ in the same snapshot: the state the changes lead to.
    pub fn changes_since(
        &self,
        folder: impl Into<FolderRef>,
        since: ChangeNumber,
        mut each: impl FnMut(MessageChange) -> bool,
    ) -> Result<ChangeNumber> {
        let r = folder.into();
        self.with_reader(|c| {
            let id = folders::resolve(c, r)?;
            messages::changes_since(c, id, since, &mut each)?;
            Ok(folders::get(c, id)?.highest_modseq)
        })
    }

    /// The message's RFC 5322 form. A message created as properties has
    /// one only once the store's writer generated it
    /// ([`StoreError::NoMimeYet`] until then; [`Store::content`] generates it).
    pub fn content(&self, id: MessageId) -> Result<MessageContent> {
        let row = self.with_reader(|c| messages::get_row(c, id))?;
        match row.entry.content_hash {
            Some(h) => self.open_content(&h),
            None => Err(StoreError::NoMimeYet(id)),
        }
    }

    pub(crate) fn open_content(&self, hash: &ContentHash) -> Result<MessageContent> {
        let file = self.files.open(hash)?;
        let len = file
            .metadata()
            .map_err(|e| StoreError::io("stat", self.files.layout().content_path(hash), e))?
            .len();
        Ok(MessageContent {
            file,
            len,
            hash: *hash,
        })
    }

    /// The bytes of attachment `position` of a message.
    pub fn attachment_content(&self, id: MessageId, position: u32) -> Result<Box<dyn Read + Send>> {
        match self.with_reader(|c| messages::attachment_source(c, id, position))? {
            AttachmentSource::File(h) => Ok(Box::new(self.files.open(&h)?)),
            AttachmentSource::MimePart { message, part_path } => {
                let raw = self.read_file(&message)?;
                let bytes = derive::mime_attachment(&raw, &part_path).unwrap_or_default();
                Ok(Box::new(std::io::Cursor::new(bytes)))
            }
        }
    }

    /// Runs `PRAGMA integrity_check`; "ok" when the database is sound.
    pub fn integrity_check(&self) -> Result<String> {
        self.with_reader(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
    }

    /// Every content hash the database references (messages and attachments).
    pub fn referenced_content(&self) -> Result<Vec<ContentHash>> {
        self.with_reader(|c| {
            let mut st = c.prepare("SELECT hash FROM content_files")?;
            let rows = st.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
            let mut out = Vec::new();
            for r in rows {
                out.extend(ContentHash::from_slice(&r?));
            }
            Ok(out)
        })
    }

    /// Where the content file of `hash` lives.
    pub fn content_path(&self, hash: &ContentHash) -> PathBuf {
        self.files.layout().content_path(hash)
    }
}
