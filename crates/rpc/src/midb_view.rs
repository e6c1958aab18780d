//! The mailbox view contract on the wire: `groxide.midb.v1` messages to and
//! from [`groxide_mailview`] types (used by both ends: midb's service and
//! [`RemoteView`]), view errors as statuses with stable reasons.
//! [`RemoteView`] itself — the view of a store homed on another node,
//! through that node's groxide-midb — is in remote_view.rs, re-exported here.

use crate::client::RpcError;
use crate::pb::common::v1 as common;
use crate::pb::midb::v1 as pb;
use crate::reason::{Reason, reason_of, status};
use groxide_mailview as mv;
use groxide_mailview::ViewError;
use tonic::{Code, Status};

pub use crate::remote_view::{RemoteUpload, RemoteView};

/// Deepest SEARCH key tree accepted.
pub const MAX_SEARCH_DEPTH: usize = 64;
/// Most UID ranges one request may carry.
pub const MAX_UID_RANGES: usize = 100_000;
/// Largest gRPC message (APPEND chunks, sections).
pub const MAX_RPC_MESSAGE: usize = 16 * 1024 * 1024;

// ----- errors -----

/// The status a view error answers with (midb's service). Errors with a
/// text carry the text alone, so the client's error reads as the server's.
pub fn view_status(e: &ViewError) -> Status {
    let msg = match e {
        ViewError::InvalidName(m)
        | ViewError::NotPermitted(m)
        | ViewError::Unavailable(m)
        | ViewError::Internal(m) => m.clone(),
        other => other.to_string(),
    };
    match e {
        ViewError::NoSuchMailbox => status(Code::NotFound, Reason::NoSuchFolder, msg),
        ViewError::MailboxExists => status(Code::AlreadyExists, Reason::FolderExists, msg),
        ViewError::NoSuchMessage => status(Code::NotFound, Reason::NoSuchMessage, msg),
        ViewError::OverQuota => status(Code::ResourceExhausted, Reason::QuotaExceeded, msg),
        ViewError::TooBig => status(Code::InvalidArgument, Reason::TooLarge, msg),
        ViewError::InvalidName(_) => Status::invalid_argument(msg),
        ViewError::NotPermitted(_) => status(Code::FailedPrecondition, Reason::NotPermitted, msg),
        // IMAP answers NO [UNKNOWN-CTE]; the reason tells the caller.
        ViewError::UnknownCte => status(Code::FailedPrecondition, Reason::UnknownCte, msg),
        ViewError::SpecialUseTaken(u) => {
            status(Code::FailedPrecondition, Reason::SpecialUseTaken, u.clone())
        }
        ViewError::Unavailable(_) => Status::unavailable(msg),
        _ => Status::internal(msg),
    }
}

/// The view error of a status from midb.
pub fn status_view_error(s: &Status) -> ViewError {
    match reason_of(s) {
        Some(Reason::NoSuchFolder) => ViewError::NoSuchMailbox,
        Some(Reason::FolderExists) => ViewError::MailboxExists,
        Some(Reason::NoSuchMessage) => ViewError::NoSuchMessage,
        Some(Reason::QuotaExceeded) => ViewError::OverQuota,
        Some(Reason::TooLarge) => ViewError::TooBig,
        Some(Reason::NotPermitted) => ViewError::NotPermitted(s.message().to_owned()),
        Some(Reason::UnknownCte) => ViewError::UnknownCte,
        Some(Reason::SpecialUseTaken) => ViewError::SpecialUseTaken(s.message().to_owned()),
        // A refused node is a cluster configuration problem: retryable for the client.
        Some(Reason::NoSuchStore | Reason::StoreNotHere | Reason::PeerNotAllowed) => {
            ViewError::Unavailable(s.message().to_owned())
        }
        _ => match s.code() {
            Code::InvalidArgument => ViewError::InvalidName(s.message().to_owned()),
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled => ViewError::Unavailable(s.message().to_owned()),
            _ => ViewError::Internal(s.message().to_owned()),
        },
    }
}

/// The view error of a failed routed call. Failures of the node rather
/// than of the request (unreachable, refused, store elsewhere) are logged
/// with the node and what it said: the client only sees "try again".
pub fn rpc_view_error(e: &RpcError) -> ViewError {
    let error = match e {
        RpcError::Status { status, .. } => status_view_error(status),
        other => ViewError::Unavailable(other.to_string()),
    };
    if matches!(error, ViewError::Unavailable(_) | ViewError::Internal(_)) {
        tracing::warn!(error = %e, "midb call failed");
    }
    error
}

// ----- UIDs, flags -----

/// Wire ranges of a UID set.
pub fn uid_ranges(uids: &mv::UidSet) -> Vec<common::UidRange> {
    uids.ranges()
        .iter()
        .map(|r| common::UidRange {
            first: r.first,
            last: r.last,
        })
        .collect()
}

/// The UID set of wire ranges (first 0 is read as 1).
pub fn uid_set(ranges: &[common::UidRange]) -> Result<mv::UidSet, Status> {
    if ranges.len() > MAX_UID_RANGES {
        return Err(Status::invalid_argument("too many UID ranges"));
    }
    Ok(mv::UidSet::from_ranges(
        ranges
            .iter()
            .map(|r| mv::UidRange::new(r.first.max(1), r.last.max(1))),
    ))
}

/// The UID set of wire ranges; none given means every UID.
pub fn uid_set_or_all(ranges: &[common::UidRange]) -> Result<mv::UidSet, Status> {
    if ranges.is_empty() {
        Ok(mv::UidSet::all())
    } else {
        uid_set(ranges)
    }
}

/// The UID set of wire ranges, which must name at least one UID.
pub fn explicit_uid_set(ranges: &[common::UidRange]) -> Result<mv::UidSet, Status> {
    if ranges.is_empty() {
        return Err(Status::invalid_argument("no UIDs given"));
    }
    uid_set(ranges)
}

/// The wire form of a flag mode.
pub fn flag_mode(m: mv::FlagMode) -> common::FlagMode {
    match m {
        mv::FlagMode::Replace => common::FlagMode::Replace,
        mv::FlagMode::Add => common::FlagMode::Add,
        mv::FlagMode::Remove => common::FlagMode::Remove,
    }
}

/// The flag mode of a wire value; UNSPECIFIED and unknown values are refused.
pub fn parse_flag_mode(v: i32) -> Result<mv::FlagMode, Status> {
    match common::FlagMode::try_from(v) {
        Ok(common::FlagMode::Replace) => Ok(mv::FlagMode::Replace),
        Ok(common::FlagMode::Add) => Ok(mv::FlagMode::Add),
        Ok(common::FlagMode::Remove) => Ok(mv::FlagMode::Remove),
        _ => Err(Status::invalid_argument(
            "flag mode unspecified or unknown (REPLACE, ADD or REMOVE)",
        )),
    }
}

// ----- messages -----

fn metadata_of_entry(e: &mv::MessageEntry) -> pb::MessageMetadata {
    pb::MessageMetadata {
        uid: e.uid,
        flags: e.flags.bits(),
        keywords: e.keywords.clone(),
        modseq: e.modseq,
        size: e.size,
        internal_date: e.internal_date,
        ..Default::default()
    }
}

pub(crate) fn entry_of_metadata(m: &pb::MessageMetadata) -> mv::MessageEntry {
    mv::MessageEntry {
        uid: m.uid,
        flags: mv::Flags::from_bits(m.flags),
        keywords: m.keywords.clone(),
        modseq: m.modseq,
        size: m.size,
        internal_date: m.internal_date,
    }
}

/// The wire chunk of a listing chunk (parallel arrays: compact for large
/// folders, keywords only for the messages that have any).
pub fn list_chunk(chunk: Vec<mv::MessageEntry>) -> pb::MessageListChunk {
    let mut c = pb::MessageListChunk {
        uids: Vec::with_capacity(chunk.len()),
        flags: Vec::with_capacity(chunk.len()),
        modseqs: Vec::with_capacity(chunk.len()),
        sizes: Vec::with_capacity(chunk.len()),
        internal_dates: Vec::with_capacity(chunk.len()),
        keywords: Vec::new(),
    };
    for e in chunk {
        c.uids.push(e.uid);
        c.flags.push(e.flags.bits());
        c.modseqs.push(e.modseq);
        c.sizes.push(e.size);
        c.internal_dates.push(e.internal_date);
        if !e.keywords.is_empty() {
            c.keywords.push(pb::MessageKeywords {
                uid: e.uid,
                keywords: e.keywords,
            });
        }
    }
    c
}

/// The listing chunk of a wire chunk.
pub fn entries_of_chunk(c: pb::MessageListChunk) -> Vec<mv::MessageEntry> {
    let mut keywords = c.keywords.into_iter().peekable();
    let mut out = Vec::with_capacity(c.uids.len());
    for (i, uid) in c.uids.iter().enumerate() {
        let kw = match keywords.peek() {
            Some(k) if k.uid == *uid => keywords.next().map(|k| k.keywords).unwrap_or_default(),
            _ => Vec::new(),
        };
        out.push(mv::MessageEntry {
            uid: *uid,
            flags: mv::Flags::from_bits(c.flags.get(i).copied().unwrap_or(0)),
            keywords: kw,
            modseq: c.modseqs.get(i).copied().unwrap_or(0),
            size: c.sizes.get(i).copied().unwrap_or(0),
            internal_date: c.internal_dates.get(i).copied().unwrap_or(0),
        });
    }
    out
}

/// The wire form of FETCH metadata.
pub fn metadata(m: mv::MessageMetadata) -> pb::MessageMetadata {
    let mut p = metadata_of_entry(&m.entry);
    p.envelope = m.envelope;
    p.bodystructure = m.bodystructure;
    p.body = m.body;
    p.header_fields = m.header_fields;
    p
}

/// FETCH metadata of its wire form.
pub fn parse_metadata(p: pb::MessageMetadata) -> mv::MessageMetadata {
    mv::MessageMetadata {
        entry: entry_of_metadata(&p),
        envelope: p.envelope,
        bodystructure: p.bodystructure,
        body: p.body,
        header_fields: p.header_fields,
    }
}

pub(crate) fn section_kind(part: &mv::SectionPart) -> (pb::SectionKind, Vec<String>) {
    match part {
        mv::SectionPart::Full => (pb::SectionKind::SectionFull, Vec::new()),
        mv::SectionPart::Header => (pb::SectionKind::SectionHeader, Vec::new()),
        mv::SectionPart::HeaderFields(n) => (pb::SectionKind::SectionHeaderFields, n.clone()),
        mv::SectionPart::HeaderFieldsNot(n) => (pb::SectionKind::SectionHeaderFieldsNot, n.clone()),
        mv::SectionPart::Text => (pb::SectionKind::SectionText, Vec::new()),
        mv::SectionPart::Mime => (pb::SectionKind::SectionMime, Vec::new()),
    }
}

/// The section request of its wire form.
pub fn parse_section(r: pb::FetchSectionRequest) -> Result<mv::SectionRequest, Status> {
    let kind = match pb::SectionKind::try_from(r.kind) {
        Ok(pb::SectionKind::SectionFull) => mv::SectionPart::Full,
        Ok(pb::SectionKind::SectionHeader) => mv::SectionPart::Header,
        Ok(pb::SectionKind::SectionHeaderFields) => mv::SectionPart::HeaderFields(r.header_fields),
        Ok(pb::SectionKind::SectionHeaderFieldsNot) => {
            mv::SectionPart::HeaderFieldsNot(r.header_fields)
        }
        Ok(pb::SectionKind::SectionText) => mv::SectionPart::Text,
        Ok(pb::SectionKind::SectionMime) => mv::SectionPart::Mime,
        _ => {
            return Err(Status::invalid_argument(
                "section kind unspecified or unknown",
            ));
        }
    };
    Ok(mv::SectionRequest {
        uid: r.uid,
        part: r.part,
        kind,
        binary: r.binary,
        offset: r.offset,
        length: r.length,
    })
}

/// The wire form of a change batch.
pub fn change_chunk(b: mv::ChangeBatch) -> pb::ChangesChunk {
    pb::ChangesChunk {
        changed: b.changed.iter().map(metadata_of_entry).collect(),
        vanished: b
            .vanished
            .iter()
            .map(|r| common::UidRange {
                first: r.first,
                last: r.last,
            })
            .collect(),
        highest_modseq: b.highest_modseq,
    }
}

/// A change batch of its wire form.
pub fn parse_change_chunk(c: pb::ChangesChunk) -> mv::ChangeBatch {
    mv::ChangeBatch {
        changed: c.changed.iter().map(entry_of_metadata).collect(),
        vanished: c
            .vanished
            .iter()
            .map(|r| mv::UidRange::new(r.first, r.last))
            .collect(),
        highest_modseq: c.highest_modseq,
    }
}

/// The wire form of an expunge scope (and its UIDs).
pub(crate) fn expunge_scope(which: &mv::ExpungeScope) -> (pb::ExpungeScope, Vec<common::UidRange>) {
    match which {
        mv::ExpungeScope::Deleted => (pb::ExpungeScope::ExpungeDeleted, Vec::new()),
        mv::ExpungeScope::DeletedAmong(u) => (pb::ExpungeScope::ExpungeDeletedAmong, uid_ranges(u)),
        mv::ExpungeScope::Outright(u) => (pb::ExpungeScope::ExpungeOutright, uid_ranges(u)),
    }
}

/// The expunge scope of a request.
pub fn parse_expunge_scope(r: &pb::ExpungeRequest) -> Result<mv::ExpungeScope, Status> {
    match pb::ExpungeScope::try_from(r.scope) {
        Ok(pb::ExpungeScope::ExpungeDeleted) if r.uids.is_empty() => Ok(mv::ExpungeScope::Deleted),
        Ok(pb::ExpungeScope::ExpungeDeleted) => Err(Status::invalid_argument(
            "EXPUNGE_DELETED takes no UIDs (use EXPUNGE_DELETED_AMONG)",
        )),
        Ok(pb::ExpungeScope::ExpungeDeletedAmong) => {
            Ok(mv::ExpungeScope::DeletedAmong(explicit_uid_set(&r.uids)?))
        }
        Ok(pb::ExpungeScope::ExpungeOutright) => {
            Ok(mv::ExpungeScope::Outright(explicit_uid_set(&r.uids)?))
        }
        _ => Err(Status::invalid_argument(
            "expunge scope unspecified or unknown",
        )),
    }
}

// ----- search, sort, thread -----

/// The wire form of a search key tree.
pub fn search_key(k: &mv::SearchKey) -> pb::SearchKey {
    use pb::search_key::Key;
    let boxed = |k: &mv::SearchKey| Some(Box::new(search_key(k)));
    let key = match k {
        mv::SearchKey::All => Key::All(true),
        mv::SearchKey::And(v) => Key::And(pb::SearchKeyList {
            keys: v.iter().map(search_key).collect(),
        }),
        mv::SearchKey::Or(a, b) => Key::Or(Box::new(pb::SearchKeyPair {
            left: boxed(a),
            right: boxed(b),
        })),
        mv::SearchKey::Not(k) => Key::Not(Box::new(search_key(k))),
        mv::SearchKey::Uid(s) => Key::Uid(pb::UidSet {
            ranges: uid_ranges(s),
        }),
        mv::SearchKey::FlagsSet(f) => Key::FlagsSet(f.bits()),
        mv::SearchKey::FlagsUnset(f) => Key::FlagsUnset(f.bits()),
        mv::SearchKey::Keyword(s) => Key::Keyword(s.clone()),
        mv::SearchKey::Unkeyword(s) => Key::Unkeyword(s.clone()),
        mv::SearchKey::Before(d) => Key::Before(*d),
        mv::SearchKey::On(d) => Key::On(*d),
        mv::SearchKey::Since(d) => Key::Since(*d),
        mv::SearchKey::SentBefore(d) => Key::SentBefore(*d),
        mv::SearchKey::SentOn(d) => Key::SentOn(*d),
        mv::SearchKey::SentSince(d) => Key::SentSince(*d),
        mv::SearchKey::Larger(n) => Key::Larger(*n),
        mv::SearchKey::Smaller(n) => Key::Smaller(*n),
        mv::SearchKey::Text(f, s) => {
            let s = s.clone();
            match f {
                mv::TextField::Subject => Key::Subject(s),
                mv::TextField::From => Key::From(s),
                mv::TextField::To => Key::To(s),
                mv::TextField::Cc => Key::Cc(s),
                mv::TextField::Bcc => Key::Bcc(s),
                mv::TextField::Body => Key::Body(s),
                mv::TextField::Text => Key::Text(s),
            }
        }
        mv::SearchKey::Header(n, v) => Key::Header(pb::HeaderMatch {
            name: n.clone(),
            value: v.clone(),
        }),
        mv::SearchKey::ModSeq(n) => Key::Modseq(*n),
        mv::SearchKey::Younger(n) => Key::Younger(*n),
        mv::SearchKey::Older(n) => Key::Older(*n),
    };
    pb::SearchKey { key: Some(key) }
}

/// The search key tree of its wire form (bounded depth; absent = ALL).
pub fn parse_search_key(k: Option<pb::SearchKey>, depth: usize) -> Result<mv::SearchKey, Status> {
    use pb::search_key::Key;
    if depth > MAX_SEARCH_DEPTH {
        return Err(Status::invalid_argument(
            "SEARCH criteria nested too deeply",
        ));
    }
    let Some(k) = k.and_then(|k| k.key) else {
        return Ok(mv::SearchKey::All);
    };
    let sub = |k: Option<Box<pb::SearchKey>>| parse_search_key(k.map(|b| *b), depth + 1);
    Ok(match k {
        Key::All(_) => mv::SearchKey::All,
        Key::And(list) => mv::SearchKey::And(
            list.keys
                .into_iter()
                .map(|k| parse_search_key(Some(k), depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Key::Or(pair) => {
            let pair = *pair;
            mv::SearchKey::Or(Box::new(sub(pair.left)?), Box::new(sub(pair.right)?))
        }
        Key::Not(k) => mv::SearchKey::Not(Box::new(parse_search_key(Some(*k), depth + 1)?)),
        // An empty set matches nothing (a search over expunged numbers).
        Key::Uid(set) => mv::SearchKey::Uid(uid_set(&set.ranges)?),
        Key::FlagsSet(f) => mv::SearchKey::FlagsSet(mv::Flags::from_bits(f)),
        Key::FlagsUnset(f) => mv::SearchKey::FlagsUnset(mv::Flags::from_bits(f)),
        Key::Keyword(k) => mv::SearchKey::Keyword(k),
        Key::Unkeyword(k) => mv::SearchKey::Unkeyword(k),
        Key::Before(d) => mv::SearchKey::Before(d),
        Key::On(d) => mv::SearchKey::On(d),
        Key::Since(d) => mv::SearchKey::Since(d),
        Key::SentBefore(d) => mv::SearchKey::SentBefore(d),
        Key::SentOn(d) => mv::SearchKey::SentOn(d),
        Key::SentSince(d) => mv::SearchKey::SentSince(d),
        Key::Larger(n) => mv::SearchKey::Larger(n),
        Key::Smaller(n) => mv::SearchKey::Smaller(n),
        Key::Bcc(s) => mv::SearchKey::Text(mv::TextField::Bcc, s),
        Key::Cc(s) => mv::SearchKey::Text(mv::TextField::Cc, s),
        Key::From(s) => mv::SearchKey::Text(mv::TextField::From, s),
        Key::To(s) => mv::SearchKey::Text(mv::TextField::To, s),
        Key::Subject(s) => mv::SearchKey::Text(mv::TextField::Subject, s),
        Key::Body(s) => mv::SearchKey::Text(mv::TextField::Body, s),
        Key::Text(s) => mv::SearchKey::Text(mv::TextField::Text, s),
        Key::Header(h) => mv::SearchKey::Header(h.name, h.value),
        Key::Modseq(n) => mv::SearchKey::ModSeq(n),
        Key::Younger(n) => mv::SearchKey::Younger(n),
        Key::Older(n) => mv::SearchKey::Older(n),
    })
}

/// The wire form of a sort criterion.
pub fn sort_criterion(c: &mv::SortCriterion) -> pb::SortCriterion {
    let key = match c.key {
        mv::SortKey::Arrival => pb::SortKey::SortArrival,
        mv::SortKey::Cc => pb::SortKey::SortCc,
        mv::SortKey::Date => pb::SortKey::SortDate,
        mv::SortKey::From => pb::SortKey::SortFrom,
        mv::SortKey::Size => pb::SortKey::SortSize,
        mv::SortKey::Subject => pb::SortKey::SortSubject,
        mv::SortKey::To => pb::SortKey::SortTo,
        mv::SortKey::DisplayFrom => pb::SortKey::SortDisplayfrom,
        mv::SortKey::DisplayTo => pb::SortKey::SortDisplayto,
    };
    pb::SortCriterion {
        key: key as i32,
        reverse: c.reverse,
    }
}

/// A sort criterion of its wire form.
pub fn parse_sort_criterion(c: &pb::SortCriterion) -> Result<mv::SortCriterion, Status> {
    let key = match pb::SortKey::try_from(c.key) {
        Ok(pb::SortKey::SortArrival) => mv::SortKey::Arrival,
        Ok(pb::SortKey::SortCc) => mv::SortKey::Cc,
        Ok(pb::SortKey::SortDate) => mv::SortKey::Date,
        Ok(pb::SortKey::SortFrom) => mv::SortKey::From,
        Ok(pb::SortKey::SortSize) => mv::SortKey::Size,
        Ok(pb::SortKey::SortSubject) => mv::SortKey::Subject,
        Ok(pb::SortKey::SortTo) => mv::SortKey::To,
        Ok(pb::SortKey::SortDisplayfrom) => mv::SortKey::DisplayFrom,
        Ok(pb::SortKey::SortDisplayto) => mv::SortKey::DisplayTo,
        _ => return Err(Status::invalid_argument("sort key unspecified or unknown")),
    };
    Ok(mv::SortCriterion {
        key,
        reverse: c.reverse,
    })
}

/// The thread algorithm of a wire value.
pub fn parse_thread_algorithm(v: i32) -> Result<mv::ThreadAlgorithm, Status> {
    match pb::ThreadAlgorithm::try_from(v) {
        Ok(pb::ThreadAlgorithm::ThreadReferences) => Ok(mv::ThreadAlgorithm::References),
        Ok(pb::ThreadAlgorithm::ThreadOrderedsubject) => Ok(mv::ThreadAlgorithm::OrderedSubject),
        _ => Err(Status::invalid_argument(
            "thread algorithm unspecified or unknown",
        )),
    }
}

/// The wire form of a thread forest: flat, in pre-order (iterative: reply
/// chains may nest deeper than any stack or message decoder allows).
pub fn thread_reply(trees: Vec<mv::ThreadTree>) -> pb::ThreadReply {
    let mut out = pb::ThreadReply::default();
    // (node, parent index + 1), children pushed in reverse for pre-order.
    let mut stack: Vec<(mv::ThreadTree, u32)> = trees.into_iter().rev().map(|t| (t, 0)).collect();
    while let Some((mut node, parent)) = stack.pop() {
        out.uids.push(node.uid);
        out.parents.push(parent);
        let me = u32::try_from(out.uids.len()).unwrap_or(u32::MAX);
        let children = std::mem::take(&mut node.children);
        stack.extend(children.into_iter().rev().map(|c| (c, me)));
    }
    out
}

/// The thread forest of its wire form; a parent index that does not point
/// to an earlier node is refused.
pub fn parse_thread_reply(r: pb::ThreadReply) -> Result<Vec<mv::ThreadTree>, ViewError> {
    if r.uids.len() != r.parents.len() {
        return Err(ViewError::Internal("malformed THREAD reply".into()));
    }
    let n = r.uids.len();
    let mut nodes: Vec<mv::ThreadTree> = r
        .uids
        .iter()
        .map(|&uid| mv::ThreadTree {
            uid,
            children: Vec::new(),
        })
        .collect();
    let mut roots = Vec::new();
    // Children come after their parent: attach from the back, then the
    // children lists are in reverse and are turned round.
    for i in (0..n).rev() {
        let node = std::mem::take(&mut nodes[i]);
        match r.parents[i] as usize {
            0 => roots.push(node),
            p if p <= i => nodes[p - 1].children.push(node),
            _ => return Err(ViewError::Internal("malformed THREAD reply".into())),
        }
    }
    let mut pending: Vec<&mut mv::ThreadTree> = roots.iter_mut().collect();
    while let Some(t) = pending.pop() {
        t.children.reverse();
        pending.extend(t.children.iter_mut());
    }
    roots.reverse();
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_keys_round_trip_through_the_wire() {
        use mv::SearchKey as K;
        let key = K::And(vec![
            K::Or(
                Box::new(K::Text(mv::TextField::From, "ann".into())),
                Box::new(K::Not(Box::new(K::FlagsSet(mv::Flags::SEEN)))),
            ),
            K::Uid(mv::UidSet::from_ranges([
                mv::UidRange::new(1, 5),
                mv::UidRange::new(9, u32::MAX),
            ])),
            K::Header("X-Spam".into(), "".into()),
            K::ModSeq(7),
            K::Younger(60),
        ]);
        assert_eq!(parse_search_key(Some(search_key(&key)), 0).unwrap(), key);
    }

    #[test]
    fn unspecified_enums_are_refused_not_defaulted() {
        assert!(parse_flag_mode(0).is_err());
        assert!(parse_thread_algorithm(0).is_err());
        assert!(
            parse_sort_criterion(&pb::SortCriterion {
                key: 0,
                reverse: false
            })
            .is_err()
        );
        assert!(
            parse_section(pb::FetchSectionRequest {
                kind: 0,
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            parse_expunge_scope(&pb::ExpungeRequest {
                scope: 0,
                ..Default::default()
            })
            .is_err()
        );
        assert_eq!(parse_flag_mode(2).unwrap(), mv::FlagMode::Add);
    }

    #[test]
    fn deep_reply_chains_cross_the_wire_without_recursion() {
        // Built twice rather than cloned: derived Clone and PartialEq of a
        // tree recurse; the wire form is flat and compared instead.
        let forest = || {
            let mut chain = mv::ThreadTree {
                uid: 50_000,
                children: Vec::new(),
            };
            for uid in (1..50_000).rev() {
                chain = mv::ThreadTree {
                    uid,
                    children: vec![chain],
                };
            }
            vec![
                chain,
                mv::ThreadTree {
                    uid: 0,
                    children: vec![
                        mv::ThreadTree {
                            uid: 60_001,
                            children: vec![],
                        },
                        mv::ThreadTree {
                            uid: 60_002,
                            children: vec![],
                        },
                    ],
                },
            ]
        };
        let wire = thread_reply(forest());
        assert_eq!(wire.uids.len(), 50_003);
        assert_eq!(&wire.parents[..3], &[0, 1, 2]);
        assert_eq!(&wire.uids[50_000..], &[0, 60_001, 60_002]);
        assert_eq!(&wire.parents[50_000..], &[0, 50_001, 50_001]);
        let back = parse_thread_reply(wire.clone()).unwrap();
        assert_eq!(thread_reply(back), wire);
        assert!(
            parse_thread_reply(pb::ThreadReply {
                uids: vec![1, 2],
                parents: vec![2, 0],
            })
            .is_err(),
            "a parent after its child is refused"
        );
    }

    #[test]
    fn midb_reasons_become_view_errors() {
        for (reason, want) in [
            (Reason::NoSuchFolder, ViewError::NoSuchMailbox),
            (Reason::QuotaExceeded, ViewError::OverQuota),
            (Reason::UnknownCte, ViewError::UnknownCte),
            (Reason::StoreNotHere, ViewError::Unavailable("x".into())),
            (Reason::PeerNotAllowed, ViewError::Unavailable("x".into())),
        ] {
            let got = status_view_error(&status(Code::FailedPrecondition, reason, "x"));
            assert_eq!(got, want, "{reason:?}");
        }
        // The wire round trip of every error keeps its kind.
        for e in [
            ViewError::NoSuchMailbox,
            ViewError::MailboxExists,
            ViewError::NoSuchMessage,
            ViewError::OverQuota,
            ViewError::TooBig,
            ViewError::UnknownCte,
            ViewError::SpecialUseTaken("Sent".into()),
        ] {
            assert_eq!(status_view_error(&view_status(&e)), e);
        }
    }

    #[test]
    fn listing_chunks_keep_keywords_with_their_message() {
        let entries = vec![
            mv::MessageEntry {
                uid: 3,
                flags: mv::Flags::SEEN,
                keywords: vec![],
                modseq: 9,
                size: 10,
                internal_date: 11,
            },
            mv::MessageEntry {
                uid: 4,
                flags: mv::Flags::NONE,
                keywords: vec!["$Label1".into()],
                modseq: 12,
                size: 13,
                internal_date: 14,
            },
        ];
        assert_eq!(entries_of_chunk(list_chunk(entries.clone())), entries);
    }
}
