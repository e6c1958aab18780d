//! Sync ([MS-ASCMD] 2.2.1.21): per collection, the client's Add, Change,
//! Delete and Fetch are applied to the store, then the server's changes
//! since the state the client's SyncKey names are sent, at most
//! WindowSize of them (MoreAvailable when more wait), in change-number
//! order. The new state is written before the answer hands out its key.
//!
//! A collection's state is a cursor (every change up to it is reflected)
//! and the items the device holds with the change number it holds them
//! at, so an item is an Add or a Change by whether the device has it, a
//! removal is sent only for items the device has, and the device's own
//! changes are not echoed back to it.

use crate::folder_sync::{CollectionKind, store_folders, visible};
use crate::mail::{self, BodyPreference};
use crate::state::{self, CollectionState};
use crate::{Ctx, Failure};
use crate::{calendar, pim_items};
use futures_util::StreamExt;
use groxide_rpc::exmdb_client::{folder_id, folder_role};
use groxide_rpc::items::{Precondition, PutTarget};
use groxide_rpc::pb::common::v1 as cpb;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use groxide_wbxml::{AirSync, AirSyncBase, Element};

/// WindowSize when the client sends none ([MS-ASCMD]: 100).
const DEFAULT_WINDOW: usize = 100;

/// Sync collection status codes.
mod status {
    pub const OK: u8 = 1;
    pub const INVALID_SYNC_KEY: u8 = 3;
    pub const PROTOCOL_ERROR: u8 = 4;
    pub const CONVERSION_ERROR: u8 = 6;
    pub const OBJECT_NOT_FOUND: u8 = 8;
    pub const HIERARCHY_CHANGED: u8 = 12;
    pub const SERVER_WINS: u8 = 7;
    pub const EMPTY_REQUEST: u8 = 13;
    pub const INVALID_WAIT: u8 = 14;
}

fn st(tag: AirSync, v: u8) -> Element {
    Element::with_text(tag, v.to_string())
}

/// A ServerId of an item: `<collection>:<message id>`.
pub(crate) fn server_id(collection: u64, message_id: u64) -> String {
    format!("{collection}:{message_id}")
}

/// The message id of a ServerId.
pub(crate) fn message_of(server_id: &str) -> Option<u64> {
    server_id.rsplit_once(':')?.1.parse().ok()
}

/// One change to send.
enum Outgoing {
    Delete(u64),
    Upsert(pb::MessageEntry),
}

/// The changes of a folder after `since`, with the folder's highest
/// change number read in the same snapshot.
pub(crate) async fn folder_changes(
    ctx: &Ctx<'_>,
    folder: u64,
    since: u64,
) -> Result<(Vec<pb::MessageChange>, u64), Failure> {
    let mut stream = Box::pin(
        ctx.exmdb()
            .changes_since(pb::ChangesSinceRequest {
                dir: ctx.dir.clone(),
                folder: Some(folder_id(folder)),
                since,
            })
            .await?,
    );
    let mut out = Vec::new();
    let mut highest = since;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if chunk.highest_modseq != 0 {
            highest = highest.max(chunk.highest_modseq);
        }
        out.extend(chunk.changes);
    }
    Ok((out, highest))
}

/// What the device does not have yet, in change-number order.
fn pending(state: &CollectionState, changes: Vec<pb::MessageChange>) -> Vec<(u64, Outgoing)> {
    let mut out = Vec::new();
    for c in changes {
        match c.change {
            Some(pb::message_change::Change::Removed(r))
                if state.known.contains_key(&r.message_id) =>
            {
                out.push((r.change_number, Outgoing::Delete(r.message_id)));
            }
            Some(pb::message_change::Change::Changed(e))
                if state
                    .known
                    .get(&e.message_id)
                    .is_none_or(|held| *held < e.change_number) =>
            {
                out.push((e.change_number, Outgoing::Upsert(e)));
            }
            _ => {}
        }
    }
    out.sort_by_key(|(cn, _)| *cn);
    out
}

/// The number of changes a GetItemEstimate would see.
pub(crate) async fn estimate(
    ctx: &Ctx<'_>,
    folder: u64,
    state: &CollectionState,
) -> Result<usize, Failure> {
    let (changes, _) = folder_changes(ctx, folder, state.cursor).await?;
    Ok(pending(state, changes).len())
}

/// The ApplicationData of one item of a collection, or `None` when it is
/// gone or does not belong (a mail in a calendar).
pub(crate) async fn item_data(
    ctx: &Ctx<'_>,
    kind: CollectionKind,
    entry: &pb::MessageEntry,
    pref: BodyPreference,
) -> Result<Option<Element>, Failure> {
    windowed_item_data(ctx, kind, entry, pref, None).await
}

/// The days a FilterType reaches back ([MS-ASCMD] 2.2.3.71.2), for the
/// collection kinds it applies to; `None`: no window (0, or not a value
/// of this kind).
pub(crate) fn filter_days(kind: CollectionKind, filter: u8) -> Option<i64> {
    let days = match filter {
        1 => 1,
        2 => 3,
        3 => 7,
        4 => 14,
        5 => 31,
        6 => 92,
        7 => 183,
        _ => return None,
    };
    match (kind, filter) {
        (CollectionKind::Mail, 1..=5) | (CollectionKind::Calendar, 4..=7) => Some(days),
        _ => None,
    }
}

/// Whether an appointment reaches into the window from `cutoff` on: it
/// ends after it, or it is a series without an end before it.
fn appointment_in_window(item: &groxide_pim::Item, cutoff: i64) -> bool {
    use groxide_mapi::lids;
    let recurring = item.bool(&lids::PID_LID_RECURRING).unwrap_or(false);
    if recurring {
        return item
            .time(&lids::PID_LID_CLIP_END)
            .is_none_or(|end| end >= cutoff);
    }
    item.time(&lids::PID_LID_APPOINTMENT_END_WHOLE)
        .or(item.time(&lids::PID_LID_APPOINTMENT_START_WHOLE))
        .is_none_or(|end| end >= cutoff)
}

/// [`item_data`], `None` for an appointment wholly before `cutoff` (a
/// calendar's FilterType window).
pub(crate) async fn windowed_item_data(
    ctx: &Ctx<'_>,
    kind: CollectionKind,
    entry: &pb::MessageEntry,
    pref: BodyPreference,
    cutoff: Option<i64>,
) -> Result<Option<Element>, Failure> {
    match kind {
        CollectionKind::Mail => match ctx
            .exmdb()
            .read_content_all(&ctx.dir, entry.message_id)
            .await
        {
            Ok(raw) => Ok(Some(mail::application_data(
                entry.message_id,
                &raw,
                entry.flags,
                entry.internal_date,
                pref,
            ))),
            Err(e) if e.reason() == Some(Reason::NoSuchMessage) => Ok(None),
            Err(e) => Err(e.into()),
        },
        _ => match ctx.exmdb().get_item(&ctx.dir, entry.message_id).await {
            Ok((info, item)) => {
                if !fits(kind, &info.message_class) {
                    return Ok(None);
                }
                if kind == CollectionKind::Calendar
                    && cutoff.is_some_and(|c| !appointment_in_window(&item, c))
                {
                    return Ok(None);
                }
                Ok(Some(pim_items::application_data(
                    kind,
                    &item,
                    &info.item_uid,
                    ctx.params.version.0,
                    zone(ctx),
                    &ctx.user,
                )))
            }
            Err(e) if e.reason() == Some(Reason::NoSuchMessage) => Ok(None),
            // Not a groupware item (a mail moved into a calendar).
            Err(e) if e.status().map(|s| s.code()) == Some(tonic::Code::InvalidArgument) => {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        },
    }
}

fn fits(kind: CollectionKind, class: &str) -> bool {
    let c = class.to_ascii_lowercase();
    match kind {
        CollectionKind::Calendar => c.starts_with("ipm.appointment"),
        CollectionKind::Contacts => c.starts_with("ipm.contact") || c.starts_with("ipm.distlist"),
        CollectionKind::Tasks => c.starts_with("ipm.task"),
        CollectionKind::Notes => c.starts_with("ipm.stickynote"),
        CollectionKind::Mail => true,
    }
}

fn zone(ctx: &Ctx<'_>) -> Option<chrono_tz::Tz> {
    ctx.zone
}

struct Applied {
    responses: Vec<Element>,
}

/// How a collection's client commands are applied (its Options).
#[derive(Debug, Clone, Copy)]
struct ApplyRules {
    /// DeletesAsMoves: a Delete moves the item to Deleted Items.
    deletes_as_moves: bool,
    /// `Conflict 0`: the client's change wins over the server's.
    client_wins: bool,
}

/// Applies the client's Commands to the store; `next` learns what the
/// device now holds.
async fn apply_commands(
    ctx: &Ctx<'_>,
    folder: &pb::Folder,
    kind: CollectionKind,
    commands: &Element,
    rules: ApplyRules,
    pref: BodyPreference,
    next: &mut CollectionState,
) -> Result<Applied, Failure> {
    let ApplyRules {
        deletes_as_moves,
        client_wins,
    } = rules;
    let mut responses = Vec::new();
    for c in commands.children() {
        let sid = c.child_text(AirSync::ServerId).unwrap_or("").to_string();
        if c.is(AirSync::Add) {
            let client_id = c.child_text(AirSync::ClientId).unwrap_or("").to_string();
            let result = match c.child(AirSync::ApplicationData) {
                Some(data) if kind != CollectionKind::Mail => {
                    let uid = pim_items::new_uid();
                    match pim_items::item_from_data(kind, data, &uid, zone(ctx), &ctx.user) {
                        Ok(item) => {
                            let (info, _) = ctx
                                .exmdb()
                                .put_item(
                                    &ctx.dir,
                                    folder_id(folder.id),
                                    &item,
                                    PutTarget::New,
                                    Precondition::None,
                                )
                                .await?;
                            next.known.insert(info.message_id, info.change_number);
                            Ok(info.message_id)
                        }
                        Err(e) => {
                            tracing::debug!(reason = %e.0, "ActiveSync Add refused");
                            Err(status::CONVERSION_ERROR)
                        }
                    }
                }
                _ => Err(status::CONVERSION_ERROR),
            };
            let mut r = vec![Element::with_text(AirSync::ClientId, client_id)];
            match result {
                Ok(mid) => {
                    r.push(Element::with_text(
                        AirSync::ServerId,
                        server_id(folder.id, mid),
                    ));
                    r.push(st(AirSync::Status, status::OK));
                }
                Err(s) => r.push(st(AirSync::Status, s)),
            }
            responses.push(Element::with_children(AirSync::Add, r));
        } else if c.is(AirSync::Change) {
            let instance = c.child_text(AirSyncBase::InstanceId);
            let outcome = match (message_of(&sid), c.child(AirSync::ApplicationData)) {
                (Some(mid), Some(data)) => {
                    let edit = match instance {
                        Some(id) => Edit::Instance(id, Some(data)),
                        None => Edit::Fields(data),
                    };
                    change(ctx, folder, kind, mid, edit, next, client_wins).await?
                }
                _ => status::PROTOCOL_ERROR,
            };
            if outcome != status::OK {
                responses.push(Element::with_children(
                    AirSync::Change,
                    [
                        Element::with_text(AirSync::ServerId, &sid),
                        st(AirSync::Status, outcome),
                    ],
                ));
            }
        } else if c.is(AirSync::Delete) {
            let instance = c.child_text(AirSyncBase::InstanceId);
            match (message_of(&sid), instance) {
                // 16.x: one instance of a series, which stays.
                (Some(mid), Some(id)) if kind == CollectionKind::Calendar => {
                    let outcome =
                        change(ctx, folder, kind, mid, Edit::Instance(id, None), next, true)
                            .await?;
                    if outcome != status::OK {
                        responses.push(Element::with_children(
                            AirSync::Delete,
                            [
                                Element::with_text(AirSync::ServerId, &sid),
                                st(AirSync::Status, outcome),
                            ],
                        ));
                    }
                }
                (Some(mid), _) => {
                    delete(ctx, folder, kind, mid, deletes_as_moves).await?;
                    next.known.remove(&mid);
                }
                (None, _) => {}
            }
        } else if c.is(AirSync::Fetch) {
            let found = match message_of(&sid) {
                Some(mid) => fetch_entry(ctx, mid).await?,
                None => None,
            };
            let data = match &found {
                Some(e) => item_data(ctx, kind, e, pref).await?,
                None => None,
            };
            let mut r = vec![Element::with_text(AirSync::ServerId, &sid)];
            match data {
                Some(d) => {
                    r.push(st(AirSync::Status, status::OK));
                    r.push(d);
                }
                None => r.push(st(AirSync::Status, status::OBJECT_NOT_FOUND)),
            }
            responses.push(Element::with_children(AirSync::Fetch, r));
        }
    }
    Ok(Applied { responses })
}

/// The entry of a message, `None` when it is gone.
pub(crate) async fn fetch_entry(
    ctx: &Ctx<'_>,
    mid: u64,
) -> Result<Option<pb::MessageEntry>, Failure> {
    match ctx
        .exmdb()
        .read_message(pb::MessageRequest {
            dir: ctx.dir.clone(),
            message_id: mid,
        })
        .await
    {
        Ok(m) => Ok(m.entry),
        Err(e) if e.reason() == Some(Reason::NoSuchMessage) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What a client's Change does to an item.
#[derive(Clone, Copy)]
enum Edit<'a> {
    /// Sets the fields it carries.
    Fields(&'a Element),
    /// Changes (with fields) or deletes (without) one instance of a series
    /// (16.x `InstanceId`).
    Instance(&'a str, Option<&'a Element>),
}

async fn change(
    ctx: &Ctx<'_>,
    folder: &pb::Folder,
    kind: CollectionKind,
    mid: u64,
    edit: Edit<'_>,
    next: &mut CollectionState,
    client_wins: bool,
) -> Result<u8, Failure> {
    if matches!(edit, Edit::Instance(..)) && kind != CollectionKind::Calendar {
        return Ok(status::PROTOCOL_ERROR);
    }
    if let (CollectionKind::Mail, Edit::Fields(data)) = (kind, edit) {
        let Some(entry) = fetch_entry(ctx, mid).await? else {
            return Ok(status::OBJECT_NOT_FOUND);
        };
        let (read, flagged) = mail::requested_flags(data);
        let mut cn = entry.change_number;
        if let Some(read) = read
            && (entry.flags & mail::SEEN != 0) != read
        {
            cn = ctx
                .exmdb()
                .set_read_state(pb::SetReadStateRequest {
                    dir: ctx.dir.clone(),
                    message_id: mid,
                    read,
                })
                .await?
                .change_number;
        }
        if let Some(flagged) = flagged
            && (entry.flags & mail::FLAGGED != 0) != flagged
        {
            let r = ctx
                .exmdb()
                .set_flags(pb::SetFlagsRequest {
                    dir: ctx.dir.clone(),
                    folder: Some(folder_id(folder.id)),
                    uids: vec![cpb::UidRange {
                        first: entry.uid,
                        last: entry.uid,
                    }],
                    mode: if flagged {
                        cpb::FlagMode::Add as i32
                    } else {
                        cpb::FlagMode::Remove as i32
                    },
                    flags: mail::FLAGGED,
                    keywords: Vec::new(),
                    unchanged_since: 0,
                })
                .await?;
            if let Some(u) = r.updated.first() {
                cn = cn.max(u.change_number);
            }
        }
        if next.known.contains_key(&mid) {
            next.known.insert(mid, cn);
        }
        return Ok(status::OK);
    }
    let (info, item) = match ctx.exmdb().get_item(&ctx.dir, mid).await {
        Ok(x) => x,
        Err(e) if e.reason() == Some(Reason::NoSuchMessage) => return Ok(status::OBJECT_NOT_FOUND),
        Err(e) => return Err(e.into()),
    };
    // Changed on the server since the device last had it: by default
    // (Conflict 1, or none) the server's version stands and is sent back
    // in this answer; with Conflict 0 the client's change is applied.
    let held = next.known.get(&mid).copied();
    if !client_wins && held.is_some_and(|h| h < info.change_number) {
        tracing::debug!(mid, "ActiveSync Change refused: the server's version wins");
        return Ok(status::SERVER_WINS);
    }
    let base = pim_items::application_data(
        kind,
        &item,
        &info.item_uid,
        ctx.params.version.0,
        zone(ctx),
        &ctx.user,
    );
    let merged = match edit {
        Edit::Fields(data) => pim_items::merge(&base, data),
        Edit::Instance(id, fields) => match calendar::with_instance(&base, id, fields) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(reason = %e.0, "ActiveSync instance change refused");
                return Ok(status::CONVERSION_ERROR);
            }
        },
    };
    let uid = if info.item_uid.is_empty() {
        pim_items::new_uid()
    } else {
        info.item_uid.clone()
    };
    let new = match pim_items::item_from_data(kind, &merged, &uid, zone(ctx), &ctx.user) {
        Ok(i) => i,
        Err(_) => return Ok(status::CONVERSION_ERROR),
    };
    match ctx
        .exmdb()
        .put_item(
            &ctx.dir,
            folder_id(folder.id),
            &new,
            PutTarget::Message(mid),
            Precondition::None,
        )
        .await
    {
        Ok((info, _)) => {
            next.known.insert(info.message_id, info.change_number);
            Ok(status::OK)
        }
        Err(e) if e.reason() == Some(Reason::NoSuchMessage) => Ok(status::OBJECT_NOT_FOUND),
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    ctx: &Ctx<'_>,
    folder: &pb::Folder,
    kind: CollectionKind,
    mid: u64,
    deletes_as_moves: bool,
) -> Result<(), Failure> {
    if kind != CollectionKind::Mail {
        return match ctx.exmdb().delete_item(&ctx.dir, mid, None).await {
            Ok(()) => Ok(()),
            Err(e) if e.reason() == Some(Reason::NoSuchMessage) => Ok(()),
            Err(e) => Err(e.into()),
        };
    }
    let Some(entry) = fetch_entry(ctx, mid).await? else {
        return Ok(());
    };
    let uids = vec![cpb::UidRange {
        first: entry.uid,
        last: entry.uid,
    }];
    if deletes_as_moves && folder.role != "trash" {
        ctx.exmdb()
            .move_messages(pb::CopyMessagesRequest {
                dir: ctx.dir.clone(),
                folder: Some(folder_id(folder.id)),
                uids,
                target: Some(folder_role("trash")),
            })
            .await?;
    } else {
        ctx.exmdb()
            .delete_messages(pb::DeleteMessagesRequest {
                dir: ctx.dir.clone(),
                folder: Some(folder_id(folder.id)),
                uids,
                hard: false,
            })
            .await?;
    }
    Ok(())
}

/// The store folder a CollectionId names, with its kind.
pub(crate) async fn collection_folder(
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Option<(pb::Folder, CollectionKind)>, Failure> {
    let folders = store_folders(ctx).await?;
    Ok(visible(&folders)
        .into_iter()
        .find(|(sid, _, _)| sid == id)
        .map(|(_, _, f)| {
            let kind = CollectionKind::of(&f.container_class);
            (f, kind)
        }))
}

/// The state a SyncKey names: the current one, or the previous one when
/// the client repeats a request whose answer it lost.
pub(crate) async fn state_of(
    ctx: &Ctx<'_>,
    collection: &str,
    key: &str,
) -> Result<Option<(CollectionState, u32)>, Failure> {
    let (current, previous) = ctx
        .devices()
        .collection(&ctx.params.device_id, collection)
        .await?;
    let Some(current) = current else {
        return Ok(None);
    };
    let newest = current.n;
    if current.key() == key {
        return Ok(Some((current, newest)));
    }
    Ok(previous.filter(|p| p.key() == key).map(|p| (p, newest)))
}

async fn sync_collection(
    ctx: &Ctx<'_>,
    c: &Element,
    request_window: Option<usize>,
) -> Result<Element, Failure> {
    let key = c
        .child_text(AirSync::SyncKey)
        .unwrap_or("")
        .trim()
        .to_string();
    let id = c
        .child_text(AirSync::CollectionId)
        .unwrap_or("")
        .trim()
        .to_string();
    let head = |k: &str, s: u8| {
        vec![
            Element::with_text(AirSync::SyncKey, k),
            Element::with_text(AirSync::CollectionId, &id),
            st(AirSync::Status, s),
        ]
    };
    let Some((folder, kind)) = collection_folder(ctx, &id).await? else {
        return Ok(Element::with_children(
            AirSync::Collection,
            head(&key, status::HIERARCHY_CHANGED),
        ));
    };
    let device = &ctx.params.device_id;
    if key == "0" {
        let fresh = CollectionState {
            generation: state::new_generation(),
            n: 1,
            cursor: 0,
            known: Default::default(),
        };
        ctx.devices()
            .save_collection(device, &id, &fresh, None)
            .await?;
        return Ok(Element::with_children(
            AirSync::Collection,
            head(&fresh.key(), status::OK),
        ));
    }
    let Some((base, newest)) = state_of(ctx, &id, &key).await? else {
        tracing::debug!(device, collection = %id, key, "unknown SyncKey");
        return Ok(Element::with_children(
            AirSync::Collection,
            head("0", status::INVALID_SYNC_KEY),
        ));
    };
    let options = c.child(AirSync::Options);
    let pref = BodyPreference::from_options(options);
    let window = c
        .child_text(AirSync::WindowSize)
        .and_then(|w| w.trim().parse::<usize>().ok())
        .or(request_window)
        .unwrap_or(DEFAULT_WINDOW)
        .clamp(1, ctx.settings.max_window);
    // Conflict ([MS-ASCMD] 2.2.3.34): 0 the client's change wins, 1 (the
    // default) the server's.
    let client_wins = options
        .and_then(|o| o.child_text(AirSync::Conflict))
        .is_some_and(|v| v.trim() == "0");
    let deletes_as_moves = c
        .child_text(AirSync::DeletesAsMoves)
        .is_none_or(|v| v.trim() != "0");
    let get_changes = c.child(AirSync::GetChanges).is_none_or(|g| {
        g.children().is_empty()
            && !matches!(&g.content, groxide_wbxml::Content::Text(t) if t.trim() == "0")
    });
    // FilterType: mail received, appointments ending, within the window.
    let cutoff = options
        .and_then(|o| o.child_text(AirSync::FilterType))
        .and_then(|f| f.trim().parse::<u8>().ok())
        .and_then(|f| filter_days(kind, f))
        .map(|days| chrono::Utc::now().timestamp() - days * 86_400);
    let mut next = base.clone();
    next.n = newest + 1;
    let mut responses = Vec::new();
    let mut client_wrote = false;
    if let Some(commands) = c.child(AirSync::Commands) {
        client_wrote = true;
        let rules = ApplyRules {
            deletes_as_moves,
            client_wins,
        };
        let applied = apply_commands(ctx, &folder, kind, commands, rules, pref, &mut next).await?;
        responses = applied.responses;
    }
    let mut commands = Vec::new();
    let mut more = false;
    if get_changes {
        let (changes, highest) = folder_changes(ctx, folder.id, base.cursor).await?;
        let mut todo = pending(&next, changes);
        if let (Some(cutoff), CollectionKind::Mail) = (cutoff, kind) {
            // Older mail the device does not hold is never sent; what it
            // holds stays until it is removed.
            todo.retain(|(_, c)| match c {
                Outgoing::Upsert(e) => {
                    e.internal_date >= cutoff || next.known.contains_key(&e.message_id)
                }
                Outgoing::Delete(_) => true,
            });
        }
        if todo.len() > window {
            more = true;
            next.cursor = todo[window].0.saturating_sub(1).max(base.cursor);
            todo.truncate(window);
        } else {
            next.cursor = highest.max(base.cursor);
        }
        for (_, change) in todo {
            match change {
                Outgoing::Delete(mid) => {
                    next.known.remove(&mid);
                    commands.push(Element::with_children(
                        AirSync::Delete,
                        [Element::with_text(
                            AirSync::ServerId,
                            server_id(folder.id, mid),
                        )],
                    ));
                }
                Outgoing::Upsert(entry) => {
                    // An item the device holds is kept current whatever its date.
                    let held = next.known.contains_key(&entry.message_id);
                    let cutoff = cutoff.filter(|_| !held);
                    let data = windowed_item_data(ctx, kind, &entry, pref, cutoff).await?;
                    let Some(data) = data else {
                        continue;
                    };
                    let tag = if next.known.contains_key(&entry.message_id) {
                        AirSync::Change
                    } else {
                        AirSync::Add
                    };
                    next.known.insert(entry.message_id, entry.change_number);
                    commands.push(Element::with_children(
                        tag,
                        [
                            Element::with_text(
                                AirSync::ServerId,
                                server_id(folder.id, entry.message_id),
                            ),
                            data,
                        ],
                    ));
                }
            }
        }
    }
    let unchanged =
        !client_wrote && commands.is_empty() && next.cursor == base.cursor && base.n == newest;
    let key_out = if unchanged {
        base.key()
    } else {
        ctx.devices()
            .save_collection(device, &id, &next, Some(&base))
            .await?;
        next.key()
    };
    let mut out = head(&key_out, status::OK);
    if more {
        out.push(Element::empty(AirSync::MoreAvailable));
    }
    if !commands.is_empty() {
        out.push(Element::with_children(AirSync::Commands, commands));
    }
    if !responses.is_empty() {
        out.push(Element::with_children(AirSync::Responses, responses));
    }
    Ok(Element::with_children(AirSync::Collection, out))
}

pub(crate) async fn sync(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let Some(request) = document else {
        // An empty Sync repeats the last one; this server keeps none.
        return Ok(Some(Element::with_children(
            AirSync::Sync,
            [st(AirSync::Status, status::EMPTY_REQUEST)],
        )));
    };
    if !request.is(AirSync::Sync) {
        return Ok(Some(Element::with_children(
            AirSync::Sync,
            [st(AirSync::Status, status::PROTOCOL_ERROR)],
        )));
    }
    let window = request
        .child_text(AirSync::WindowSize)
        .and_then(|w| w.trim().parse::<usize>().ok());
    let Some(collections) = request.child(AirSync::Collections) else {
        return Ok(Some(Element::with_children(
            AirSync::Sync,
            [st(AirSync::Status, status::EMPTY_REQUEST)],
        )));
    };
    // Wait (minutes) or HeartbeatInterval (seconds): hold an answer
    // without news until something changes or the time is up.
    let wait = match (
        request.child_text(AirSync::Wait),
        request.child_text(AirSync::HeartbeatInterval),
    ) {
        (Some(w), _) => Some(w.trim().parse::<u64>().map(|m| m.saturating_mul(60))),
        (None, Some(h)) => Some(h.trim().parse::<u64>()),
        (None, None) => None,
    };
    let wait = match wait {
        None => None,
        Some(Err(_)) => {
            return Ok(Some(Element::with_children(
                AirSync::Sync,
                [st(AirSync::Status, status::PROTOCOL_ERROR)],
            )));
        }
        Some(Ok(secs)) => {
            let d = std::time::Duration::from_secs(secs);
            let (min, max) = (ctx.settings.min_heartbeat, ctx.settings.max_heartbeat);
            if d < min || d > max {
                let limit = if d < min { min } else { max };
                return Ok(Some(Element::with_children(
                    AirSync::Sync,
                    [
                        st(AirSync::Status, status::INVALID_WAIT),
                        Element::with_text(AirSync::Limit, limit.as_secs().to_string()),
                    ],
                )));
            }
            Some(d)
        }
    };
    // Watch before looking, so a change in between still wakes us.
    let mut hints = match wait {
        Some(_) => Some(ctx.eas.hub.watch(&ctx.dir).await),
        None => None,
    };
    let deadline = wait.map(|d| tokio::time::Instant::now() + d);
    let ids: Vec<u64> = collections
        .children_named(AirSync::Collection)
        .filter_map(|c| c.child_text(AirSync::CollectionId)?.trim().parse().ok())
        .collect();
    loop {
        let mut out = Vec::new();
        for c in collections.children_named(AirSync::Collection) {
            out.push(sync_collection(ctx, c, window).await?);
        }
        let news = out
            .iter()
            .zip(collections.children_named(AirSync::Collection))
            .any(|(o, c)| {
                o.child(AirSync::Commands).is_some()
                    || o.child(AirSync::Responses).is_some()
                    || o.child(AirSync::MoreAvailable).is_some()
                    || o.child_text(AirSync::Status) != Some("1")
                    || o.child_text(AirSync::SyncKey) != c.child_text(AirSync::SyncKey)
            });
        let (Some(rx), Some(deadline)) = (hints.as_mut(), deadline) else {
            return Ok(Some(Element::with_children(
                AirSync::Sync,
                [Element::with_children(AirSync::Collections, out)],
            )));
        };
        if news {
            return Ok(Some(Element::with_children(
                AirSync::Sync,
                [Element::with_children(AirSync::Collections, out)],
            )));
        }
        // Nothing yet: wait for a hint about one of the collections,
        // without a turn of work.
        ctx.rest();
        loop {
            let hint = tokio::select! {
                h = rx.recv() => h,
                () = tokio::time::sleep_until(deadline) => {
                    // No changes in time: an empty answer (the keys stay).
                    return Ok(None);
                }
            };
            match hint {
                Ok(groxide_rpc::event_hub::StoreEvent::Changed { folder, .. })
                    if folder != 0 && !ids.contains(&folder) =>
                {
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    *rx = ctx.eas.hub.watch(&ctx.dir).await;
                    break;
                }
                _ => break,
            }
        }
        ctx.work().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(mid: u64, cn: u64) -> pb::MessageChange {
        pb::MessageChange {
            change: Some(pb::message_change::Change::Changed(pb::MessageEntry {
                message_id: mid,
                change_number: cn,
                ..pb::MessageEntry::default()
            })),
        }
    }

    fn removed(mid: u64, cn: u64) -> pb::MessageChange {
        pb::MessageChange {
            change: Some(pb::message_change::Change::Removed(pb::RemovedMessage {
                uid: 0,
                message_id: mid,
                change_number: cn,
                ..Default::default()
            })),
        }
    }

    #[test]
    fn pending_skips_what_the_device_has_and_orders_by_change_number() {
        let mut s = CollectionState::default();
        s.known.insert(10, 5);
        s.known.insert(11, 7);
        let p = pending(
            &s,
            vec![
                removed(12, 3), // never sent: no Delete
                removed(11, 9), // sent: Delete
                changed(10, 5), // the device has this version
                changed(13, 8), // new
                changed(10, 6), // newer version
            ],
        );
        let got: Vec<(u64, String)> = p
            .iter()
            .map(|(cn, o)| match o {
                Outgoing::Delete(m) => (*cn, format!("del {m}")),
                Outgoing::Upsert(e) => (*cn, format!("upsert {}", e.message_id)),
            })
            .collect();
        assert_eq!(
            got,
            [
                (6, "upsert 10".into()),
                (8, "upsert 13".into()),
                (9, "del 11".into())
            ]
        );
    }

    #[test]
    fn server_ids_name_collection_and_message() {
        assert_eq!(server_id(13, 4711), "13:4711");
        assert_eq!(message_of("13:4711"), Some(4711));
        assert_eq!(message_of("4711"), None);
        assert_eq!(message_of("13:x"), None);
    }
}
