//! [`StoreWrites`] through groxide-exmdb, the one writer of every store: the
//! routed exmdb client reaches the store's home node (this node, whenever
//! the view runs; a stale route heals on STORE_NOT_HERE).

use crate::writes::{AppendMeta, ByteStream, CopyMap, CreatedFolder, StoreWrites};
use groxide_mailview::{
    Appended, FlagChange, FlagUpdate, Flags, FolderId, MessageEntry, Uid, UidSet, ViewError,
};
use groxide_rpc::RpcError;
use groxide_rpc::exmdb_client::{ExmdbClient, InsertError, folder_id};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use std::sync::Arc;

/// The folder property marking a folder the IMAP user unsubscribed from
/// (PT_BOOLEAN, groxide's provider-defined range next to PR_GROXIDE_KEYWORDS).
pub const PR_GROXIDE_IMAP_UNSUBSCRIBED: u32 = 0x67F1_000B;

/// The folder property holding the RFC 6154 special use a user gave a
/// folder of their own (PT_UNICODE, e.g. `Archive`).
pub const PR_GROXIDE_IMAP_SPECIAL_USE: u32 = 0x67F2_001F;

/// The IPM_SUBTREE property holding the names that stay subscribed after
/// their mailbox was deleted (PT_MV_UNICODE; RFC 3501 §6.3.6).
pub const PR_GROXIDE_IMAP_DANGLING_SUBSCRIPTIONS: u32 = 0x67F3_101F;

/// Writes through groxide-exmdb.
pub struct ExmdbWrites {
    client: Arc<ExmdbClient>,
}

impl ExmdbWrites {
    /// Writes through `client`.
    pub fn new(client: Arc<ExmdbClient>) -> ExmdbWrites {
        ExmdbWrites { client }
    }

    /// The client (SIGHUP resets its routes).
    pub fn client(&self) -> &Arc<ExmdbClient> {
        &self.client
    }
}

/// The view error of a failed exmdb call. Failures of the node rather than
/// of the request are logged, naming the node and what it said.
pub fn view_error(e: RpcError) -> ViewError {
    let msg = e.to_string();
    let mapped = match e.reason() {
        Some(Reason::NoSuchStore) => ViewError::Unavailable(msg),
        Some(Reason::NoSuchFolder) => ViewError::NoSuchMailbox,
        Some(Reason::NoSuchMessage) => ViewError::NoSuchMessage,
        Some(Reason::FolderExists) => ViewError::MailboxExists,
        Some(Reason::QuotaExceeded) => ViewError::OverQuota,
        Some(Reason::TooLarge) => ViewError::TooBig,
        Some(Reason::NotPermitted) => ViewError::NotPermitted(msg),
        _ if e.is_retryable() => ViewError::Unavailable(msg),
        _ => match e.status().map(tonic::Status::code) {
            Some(tonic::Code::InvalidArgument) => ViewError::NotPermitted(msg),
            Some(tonic::Code::NotFound) => ViewError::NoSuchMessage,
            _ => ViewError::Internal(msg),
        },
    };
    if matches!(mapped, ViewError::Unavailable(_) | ViewError::Internal(_)) {
        tracing::warn!(error = %mapped, "exmdb call failed");
    }
    mapped
}

use groxide_rpc::midb_view::{flag_mode, uid_ranges as ranges};

fn entry(e: &pb::MessageEntry) -> MessageEntry {
    MessageEntry {
        uid: e.uid,
        flags: Flags::from_bits(e.flags),
        keywords: e.keywords.clone(),
        modseq: e.change_number,
        size: e.size,
        internal_date: e.internal_date,
    }
}

impl StoreWrites for ExmdbWrites {
    async fn create_folder(
        &self,
        dir: &str,
        parent: FolderId,
        name: &str,
    ) -> Result<CreatedFolder, ViewError> {
        let f = self
            .client
            .create_folder(pb::CreateFolderRequest {
                dir: dir.to_owned(),
                parent: Some(folder_id(parent)),
                name: name.to_owned(),
                container_class: "IPF.Note".to_owned(),
            })
            .await
            .map_err(view_error)?;
        Ok(CreatedFolder {
            id: f.id,
            uidvalidity: f.uidvalidity,
        })
    }

    async fn move_folder(
        &self,
        dir: &str,
        folder: FolderId,
        new_parent: FolderId,
        new_name: &str,
    ) -> Result<(), ViewError> {
        self.client
            .move_folder(pb::MoveFolderRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                new_parent: Some(folder_id(new_parent)),
                new_name: new_name.to_owned(),
            })
            .await
            .map_err(view_error)?;
        Ok(())
    }

    async fn delete_folder(&self, dir: &str, folder: FolderId) -> Result<(), ViewError> {
        self.client
            .delete_folder(pb::DeleteFolderRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                hard: false,
            })
            .await
            .map_err(view_error)?;
        Ok(())
    }

    async fn set_subscribed(
        &self,
        dir: &str,
        folder: FolderId,
        subscribed: bool,
    ) -> Result<(), ViewError> {
        let (set, remove) = if subscribed {
            (Vec::new(), vec![PR_GROXIDE_IMAP_UNSUBSCRIBED])
        } else {
            (
                vec![pb::Prop {
                    tag: PR_GROXIDE_IMAP_UNSUBSCRIBED,
                    value: Some(pb::prop::Value::BoolValue(true)),
                }],
                Vec::new(),
            )
        };
        self.client
            .set_folder_props(pb::SetFolderPropsRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                set,
                remove,
            })
            .await
            .map_err(view_error)?;
        Ok(())
    }

    async fn set_dangling_subscriptions(
        &self,
        dir: &str,
        root: FolderId,
        names: Vec<String>,
    ) -> Result<(), ViewError> {
        let (set, remove) = if names.is_empty() {
            (Vec::new(), vec![PR_GROXIDE_IMAP_DANGLING_SUBSCRIPTIONS])
        } else {
            (
                vec![pb::Prop {
                    tag: PR_GROXIDE_IMAP_DANGLING_SUBSCRIPTIONS,
                    value: Some(pb::prop::Value::MvString(pb::MvString { values: names })),
                }],
                Vec::new(),
            )
        };
        self.client
            .set_folder_props(pb::SetFolderPropsRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(root)),
                set,
                remove,
            })
            .await
            .map_err(view_error)?;
        Ok(())
    }

    async fn set_special_use(
        &self,
        dir: &str,
        folder: FolderId,
        special_use: Option<groxide_mailview::SpecialUse>,
    ) -> Result<(), ViewError> {
        let (set, remove) = match special_use {
            Some(u) => (
                vec![pb::Prop {
                    tag: PR_GROXIDE_IMAP_SPECIAL_USE,
                    value: Some(pb::prop::Value::StringValue(u.as_str().to_owned())),
                }],
                Vec::new(),
            ),
            None => (Vec::new(), vec![PR_GROXIDE_IMAP_SPECIAL_USE]),
        };
        self.client
            .set_folder_props(pb::SetFolderPropsRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                set,
                remove,
            })
            .await
            .map_err(view_error)?;
        Ok(())
    }

    async fn set_flags(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        change: &FlagChange,
    ) -> Result<FlagUpdate, ViewError> {
        let r = self
            .client
            .set_flags(pb::SetFlagsRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                uids: ranges(uids),
                mode: flag_mode(change.mode) as i32,
                flags: change.flags.bits(),
                keywords: change.keywords.clone(),
                unchanged_since: change.unchanged_since,
            })
            .await
            .map_err(view_error)?;
        Ok(FlagUpdate {
            updated: r.updated.iter().map(entry).collect(),
            modified: groxide_mailview::ranges_of(r.modified),
        })
    }

    async fn append(
        &self,
        dir: &str,
        meta: AppendMeta,
        body: ByteStream,
    ) -> Result<Appended, ViewError> {
        let header = pb::InsertHeader {
            dir: dir.to_owned(),
            folder: Some(folder_id(meta.folder)),
            flags: meta.flags.bits(),
            keywords: meta.keywords,
            internal_date: meta.internal_date,
            expected_size: meta.size,
        };
        match self.client.insert_message_stream(header, body, None).await {
            Ok(r) => Ok(Appended {
                uidvalidity: r.uidvalidity,
                uid: r.uid,
            }),
            Err(InsertError::Body(e)) => Err(e),
            Err(InsertError::Rpc(e)) => Err(view_error(e)),
        }
    }

    async fn copy_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
        target: FolderId,
        remove_source: bool,
    ) -> Result<CopyMap, ViewError> {
        let req = pb::CopyMessagesRequest {
            dir: dir.to_owned(),
            folder: Some(folder_id(folder)),
            uids: ranges(uids),
            target: Some(folder_id(target)),
        };
        let r = if remove_source {
            self.client.move_messages(req).await
        } else {
            self.client.copy_messages(req).await
        }
        .map_err(view_error)?;
        let mut pairs: Vec<(Uid, Uid)> = r
            .uids
            .iter()
            .map(|m| (m.source_uid, m.target_uid))
            .collect();
        pairs.sort_unstable();
        Ok(CopyMap {
            target_uidvalidity: r.target_uidvalidity,
            pairs,
        })
    }

    async fn delete_messages(
        &self,
        dir: &str,
        folder: FolderId,
        uids: &UidSet,
    ) -> Result<Vec<Uid>, ViewError> {
        let r = self
            .client
            .delete_messages(pb::DeleteMessagesRequest {
                dir: dir.to_owned(),
                folder: Some(folder_id(folder)),
                uids: ranges(uids),
                hard: false,
            })
            .await
            .map_err(view_error)?;
        let mut removed = r.removed_uids;
        removed.sort_unstable();
        Ok(removed)
    }

    async fn make_mime(&self, dir: &str, message_id: u64) -> Result<(), ViewError> {
        // Reading one byte makes exmdb build and cache the MIME form.
        let s = self
            .client
            .read_content(dir, message_id, 0, 1)
            .await
            .map_err(view_error)?;
        let mut s = Box::pin(s);
        while let Some(chunk) = futures_util::StreamExt::next(&mut s).await {
            chunk.map_err(view_error)?;
        }
        Ok(())
    }

    async fn open_store(&self, dir: &str) -> Result<(), ViewError> {
        self.client
            .ping_store(pb::PingStoreRequest {
                dir: dir.to_owned(),
            })
            .await
            .map_err(view_error)?;
        Ok(())
    }
}
