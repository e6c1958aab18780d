//! The message calls of the exmdb service: MAPI inserts, reads, properties,
//! flags, copy, move, delete, listings and changes.

use super::{ExmdbService, Stream2};
use crate::convert;
use crate::streaming::{Batcher, send};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_store::{self as st};
use tonic::{Request, Response, Status};

/// Most messages one ReadMessages call reads.
const MAX_READ_MESSAGES: usize = 1000;
/// Most ids of a tag-only ReadMessages read on the calling task (a page).
const SMALL_READ_MESSAGES: usize = 200;
/// Largest limit of a ListMessages read on the calling task (a page).
const SMALL_LIST: u32 = 1000;

impl ExmdbService {
    pub(super) async fn insert_mapi_message_impl(
        &self,
        r: Request<pb::InsertMapiMessageRequest>,
    ) -> Result<Response<pb::InsertMessageReply>, Status> {
        let r = r.into_inner();
        let folder = convert::folder_ref(r.folder.as_ref())?;
        let m = st::MapiMessage {
            props: convert::props_from_pb(&r.props)?,
            recipients: r
                .recipients
                .iter()
                .map(|p| convert::props_from_pb(&p.props))
                .collect::<Result<_, _>>()?,
            attachments: r
                .attachments
                .into_iter()
                .map(|a| {
                    Ok(st::MapiAttachment {
                        props: convert::props_from_pb(&a.props)?,
                        content: a.content,
                    })
                })
                .collect::<Result<_, Status>>()?,
        };
        let new = st::NewMessage {
            flags: convert::flags(r.flags)?,
            keywords: r.keywords,
            internal_date: convert::internal_date(r.internal_date),
        };
        let ins = self
            .with_store(&r.dir, move |s| s.insert_mapi(folder, m, new))
            .await?;
        Ok(Response::new(convert::inserted(ins)))
    }

    pub(super) async fn read_message_impl(
        &self,
        r: Request<pb::MessageRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        let r = r.into_inner();
        let id = st::MessageId(r.message_id);
        let m = self.with_store(&r.dir, move |s| s.message(id)).await?;
        Ok(Response::new(convert::message(m)))
    }

    pub(super) async fn read_messages_impl(
        &self,
        r: Request<pb::ReadMessagesRequest>,
    ) -> Result<Response<pb::ReadMessagesReply>, Status> {
        let r = r.into_inner();
        if r.message_ids.len() > MAX_READ_MESSAGES {
            return Err(Status::invalid_argument(format!(
                "ReadMessages takes at most {MAX_READ_MESSAGES} ids, not {}",
                r.message_ids.len()
            )));
        }
        let ids: Vec<st::MessageId> = r.message_ids.iter().map(|id| st::MessageId(*id)).collect();
        let sel = st::MessageSelection {
            tags: r.only_tags.then(|| convert::tags(&r.tags)),
            recipients: !r.skip_recipients,
            attachments: !r.skip_attachments,
            bodies: r.bodies,
        };
        let want_contents = r.contents;
        // A listing's page (a few tags, no recipients, attachments, bodies
        // or contents) is one short statement: read on this task rather
        // than pay the two thread wake-ups of a blocking hand-off.
        let small = sel.tags.is_some()
            && !sel.recipients
            && !sel.attachments
            && !r.bodies
            && !want_contents
            && ids.len() <= SMALL_READ_MESSAGES;
        let read = move |s: &st::Store| {
            let ms = s.messages_selected(&ids, &sel)?;
            let contents = if want_contents {
                contents_within_budget(s, &ms)?
            } else {
                Vec::new()
            };
            Ok((ms, contents))
        };
        let (ms, contents) = if small {
            self.read_small(&r.dir, read).await?
        } else {
            self.with_store(&r.dir, read).await?
        };
        Ok(Response::new(pb::ReadMessagesReply {
            messages: ms.into_iter().map(convert::message).collect(),
            contents,
        }))
    }

    pub(super) async fn set_message_props_impl(
        &self,
        r: Request<pb::SetMessagePropsRequest>,
    ) -> Result<Response<pb::MessageEntry>, Status> {
        let r = r.into_inner();
        let id = st::MessageId(r.message_id);
        let set = convert::props_from_pb(&r.set)?;
        let remove = convert::tags(&r.remove);
        let e = self
            .with_store(&r.dir, move |s| s.set_message_props(id, set, remove))
            .await?;
        Ok(Response::new(convert::entry(e)))
    }

    pub(super) async fn set_read_state_impl(
        &self,
        r: Request<pb::SetReadStateRequest>,
    ) -> Result<Response<pb::MessageEntry>, Status> {
        let r = r.into_inner();
        let (id, read) = (st::MessageId(r.message_id), r.read);
        let e = self
            .with_store(&r.dir, move |s| s.set_read(id, read))
            .await?;
        Ok(Response::new(convert::entry(e)))
    }

    pub(super) async fn set_flags_impl(
        &self,
        r: Request<pb::SetFlagsRequest>,
    ) -> Result<Response<pb::SetFlagsReply>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let op = groxide_rpc::midb_view::parse_flag_mode(r.mode)?;
        let flags = convert::flags(r.flags)?;
        let uids = convert::uid_ranges(&r.uids);
        let since = (r.unchanged_since != 0).then_some(st::ChangeNumber(r.unchanged_since));
        let kw = r.keywords;
        let out = self
            .with_store(&r.dir, move |s| s.set_flags(f, uids, op, flags, kw, since))
            .await?;
        Ok(Response::new(pb::SetFlagsReply {
            updated: out.updated.into_iter().map(convert::entry).collect(),
            modified: out.modified.into_iter().map(|u| u.0).collect(),
        }))
    }

    pub(super) async fn copy_messages_impl(
        &self,
        r: Request<pb::CopyMessagesRequest>,
    ) -> Result<Response<pb::CopyMessagesReply>, Status> {
        self.copy_or_move(r, false).await
    }

    pub(super) async fn move_messages_impl(
        &self,
        r: Request<pb::CopyMessagesRequest>,
    ) -> Result<Response<pb::CopyMessagesReply>, Status> {
        self.copy_or_move(r, true).await
    }

    /// CopyMessages, or MoveMessages when `remove` is set: the same request
    /// and the same answer.
    async fn copy_or_move(
        &self,
        r: Request<pb::CopyMessagesRequest>,
        remove: bool,
    ) -> Result<Response<pb::CopyMessagesReply>, Status> {
        let r = r.into_inner();
        let (f, t) = (
            convert::folder_ref(r.folder.as_ref())?,
            convert::folder_ref(r.target.as_ref())?,
        );
        let uids = convert::uid_ranges(&r.uids);
        let out = self
            .with_store(&r.dir, move |s| {
                if remove {
                    s.move_messages(f, uids, t)
                } else {
                    s.copy_messages(f, uids, t)
                }
            })
            .await?;
        Ok(Response::new(convert::copied(out)))
    }

    pub(super) async fn delete_messages_impl(
        &self,
        r: Request<pb::DeleteMessagesRequest>,
    ) -> Result<Response<pb::DeleteMessagesReply>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let uids = convert::uid_ranges(&r.uids);
        let hard = r.hard;
        let removed = self
            .with_store(&r.dir, move |s| s.delete_messages(f, uids, hard))
            .await?;
        Ok(Response::new(pb::DeleteMessagesReply {
            removed_uids: removed.into_iter().map(|u| u.0).collect(),
        }))
    }

    pub(super) async fn list_messages_impl(
        &self,
        r: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<Stream2<pb::MessageEntries>>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let range = r
            .range
            .map_or(st::UidRange::ALL, |u| st::UidRange::new(u.first, u.last));
        // A page of a listing (SyncFolderItems, a Sync window): read on
        // this task and answered as one message, without the two thread
        // hand-offs of a stream fed from a blocking thread.
        if r.limit != 0 && r.limit <= SMALL_LIST {
            let limit = r.limit as usize;
            let entries = self
                .read_small(&r.dir, move |s| {
                    let mut out = Vec::with_capacity(limit);
                    s.list_messages(f, range, |e| {
                        out.push(convert::entry(e));
                        out.len() < limit
                    })?;
                    Ok(out)
                })
                .await?;
            let one: Stream2<pb::MessageEntries> =
                Box::pin(tokio_stream::iter([Ok(pb::MessageEntries { entries })]));
            return Ok(Response::new(one));
        }
        // 0: no limit.
        let mut left = if r.limit == 0 {
            u64::MAX
        } else {
            u64::from(r.limit)
        };
        let s = self
            .stream_from_store(&r.dir, move |s, tx| {
                let mut out = Batcher::new(tx, |entries| pb::MessageEntries { entries });
                s.list_messages(f, range, |e| {
                    left -= 1;
                    out.push(convert::entry(e)) && left > 0
                })?;
                out.flush();
                Ok(())
            })
            .await?;
        Ok(Response::new(s))
    }

    pub(super) async fn changes_since_impl(
        &self,
        r: Request<pb::ChangesSinceRequest>,
    ) -> Result<Response<Stream2<pb::MessageChanges>>, Status> {
        let r = r.into_inner();
        let f = convert::folder_ref(r.folder.as_ref())?;
        let since = st::ChangeNumber(r.since);
        let s = self
            .stream_from_store(&r.dir, move |s, tx| {
                let mut out = Batcher::new(tx, |changes| pb::MessageChanges {
                    changes,
                    highest_modseq: 0,
                });
                let highest = s.changes_since(f, since, |c| out.push(convert::change(c)))?;
                let changes = out.into_rest();
                send(
                    tx,
                    pb::MessageChanges {
                        changes,
                        highest_modseq: highest.0,
                    },
                );
                Ok(())
            })
            .await?;
        Ok(Response::new(s))
    }
}

/// What one ReadMessages reply carries of message contents, in all.
const READ_MESSAGES_CONTENT_BUDGET: u64 = 8 * 1024 * 1024;

/// The RFC 5322 forms of `ms`, in order, as long as they fit in
/// [`READ_MESSAGES_CONTENT_BUDGET`] together (the caller reads the rest one
/// by one). A message removed since it was read ends the list early too.
fn contents_within_budget(
    s: &st::Store,
    ms: &[st::MessageRecord],
) -> Result<Vec<Vec<u8>>, st::StoreError> {
    let mut budget = READ_MESSAGES_CONTENT_BUDGET;
    let mut out = Vec::with_capacity(ms.len());
    for m in ms {
        let content = match s.content(m.entry.message_id) {
            Ok(c) => c,
            Err(st::StoreError::NoSuchMessage(_)) => break,
            Err(e) => return Err(e),
        };
        if content.len() > budget {
            break;
        }
        budget -= content.len();
        out.push(s.read_content(content)?);
    }
    Ok(out)
}
