//! Search ([MS-ASCMD] 2.2.1.16) of the Mailbox store (the user's mail
//! folders: FreeText, Class, CollectionId, GreaterThan/LessThan of
//! DateReceived, combined by And; newest first, Range and Total) and of
//! the GAL (the directory's users whose address contains the query).
//!
//! A mailbox search takes the candidates and their dates from each
//! folder's message list (the date bounds are exact times, so they are
//! applied here, not as midb's day-granular SINCE/BEFORE). FreeText is
//! answered by the store's midb (IMAP SEARCH TEXT, one key per word,
//! ANDed: every word occurs, case-insensitively, as a substring of the
//! header or the body text) from its index, so Total costs no message
//! reads and only the messages of the asked Range are read. Where midb is
//! not configured or does not answer, the folder's candidates are read and
//! checked here instead (subject, addresses and text body), which reads
//! every candidate. Results carry the item's ServerId as LongId, which
//! ItemOperations Fetch accepts.

use crate::folder_sync::{CollectionKind, store_folders, visible};
use crate::mail::{self, BodyPreference};
use crate::sync::server_id;
use crate::{Ctx, Failure, expect_root};
use futures_util::StreamExt;
use groxide_mailview::{MailboxView, SearchKey, TextField};
use groxide_rpc::exmdb_client::folder_id;
use groxide_rpc::midb_view::RemoteView;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use groxide_wbxml::{AirSync, Element, Email, GAL, Search};
use mail_parser::MessageParser;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Search store status codes.
mod status {
    pub const OK: u8 = 1;
    pub const INVALID_REQUEST: u8 = 2;
    pub const SERVER_ERROR: u8 = 3;
    pub const TOO_COMPLEX: u8 = 8;
}

/// Most results one answer carries, whatever Range asks.
const MAX_RANGE: usize = 100;

/// A mailbox query, flattened: every condition must hold.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Query {
    /// Lower-cased words that must all occur.
    pub words: Vec<String>,
    /// The collections searched (empty: every mail folder).
    pub collections: Vec<String>,
    /// Received after (Unix seconds, exclusive).
    pub after: Option<i64>,
    /// Received before (exclusive).
    pub before: Option<i64>,
}

impl Query {
    /// Adds the words of a FreeText (split at white space, lower-cased).
    pub(crate) fn add_words(&mut self, text: &str) {
        self.words
            .extend(text.split_whitespace().map(str::to_lowercase));
    }
}

/// A date of the form EAS sends (`2026-12-07T09:00:00.000Z`).
fn parse_date(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.timestamp())
}

/// Adds one query element to `q`; `Err(status)` for what is not supported.
pub(crate) fn add_condition(q: &mut Query, e: &Element) -> Result<(), u8> {
    if e.is(Search::And) {
        for c in e.children() {
            add_condition(q, c)?;
        }
        Ok(())
    } else if e.is(Search::FreeText) {
        q.add_words(e.text().unwrap_or(""));
        Ok(())
    } else if e.is(AirSync::Class) {
        match e.text().map(str::trim) {
            Some("Email") => Ok(()),
            _ => Err(status::TOO_COMPLEX),
        }
    } else if e.is(AirSync::CollectionId) {
        q.collections
            .push(e.text().unwrap_or("").trim().to_string());
        Ok(())
    } else if e.is(Search::GreaterThan) || e.is(Search::LessThan) {
        if e.child(Email::DateReceived).is_none() {
            return Err(status::TOO_COMPLEX);
        }
        let when = e
            .child_text(Search::Value)
            .and_then(parse_date)
            .ok_or(status::INVALID_REQUEST)?;
        if e.is(Search::GreaterThan) {
            q.after = Some(q.after.map_or(when, |a| a.max(when)));
        } else {
            q.before = Some(q.before.map_or(when, |b| b.min(when)));
        }
        Ok(())
    } else {
        Err(status::TOO_COMPLEX)
    }
}

/// `0-9` → (0, 9): a zero-based first and last index, first ≤ last.
pub(crate) fn range_pair(s: &str) -> Option<(usize, usize)> {
    let (a, b) = s.trim().split_once('-')?;
    let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b).then_some((a, b))
}

/// One answer's page of a range: at most [`MAX_RANGE`] long.
pub(crate) fn page_of((a, b): (usize, usize)) -> (usize, usize) {
    (a, b.min(a.saturating_add(MAX_RANGE - 1)))
}

/// The default page: the first [`MAX_RANGE`] results.
pub(crate) const DEFAULT_RANGE: (usize, usize) = (0, MAX_RANGE - 1);

/// Search's Range: `0-9` → (0, 9), at most [`MAX_RANGE`] long.
pub(crate) fn parse_range(s: Option<&str>) -> Option<(usize, usize)> {
    match s {
        None => Some(DEFAULT_RANGE),
        Some(s) => range_pair(s).map(page_of),
    }
}

/// Whether every word occurs in the message's subject, addresses or text.
fn matches_words(raw: &[u8], words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let Some(m) = MessageParser::default().parse(raw) else {
        return false;
    };
    let mut hay = String::new();
    for h in ["Subject", "From", "To", "Cc"] {
        if let Some(v) = m.header_raw(h) {
            hay.push_str(v);
            hay.push('\n');
        }
    }
    for i in 0..m.text_body.len() {
        if let Some(t) = m.body_text(i) {
            hay.push_str(&t);
            hay.push('\n');
        }
    }
    let hay = hay.to_lowercase();
    words.iter().all(|w| hay.contains(w.as_str()))
}

fn store_answer(st: u8, results: Vec<Element>, range: Option<(usize, usize, usize)>) -> Element {
    let mut c = vec![Element::with_text(Search::Status, st.to_string())];
    if results.is_empty() {
        if st == status::OK {
            c.push(Element::empty(Search::Result));
        }
    } else {
        c.extend(results);
    }
    if let Some((a, b, total)) = range {
        c.push(Element::with_text(Search::Range, format!("{a}-{b}")));
        c.push(Element::with_text(Search::Total, total.to_string()));
    }
    Element::with_children(
        Search::Search,
        [
            Element::with_text(Search::Status, "1"),
            Element::with_children(Search::Response, [Element::with_children(Search::Store, c)]),
        ],
    )
}

pub(crate) async fn search(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, Search::Search)?;
    let Some(store) = request.child(Search::Store) else {
        return Ok(Some(store_answer(
            status::INVALID_REQUEST,
            Vec::new(),
            None,
        )));
    };
    let name = store.child_text(Search::Name).unwrap_or("").trim();
    let options = store.child(Search::Options);
    let Some(range) = parse_range(options.and_then(|o| o.child_text(Search::Range))) else {
        return Ok(Some(store_answer(
            status::INVALID_REQUEST,
            Vec::new(),
            None,
        )));
    };
    let Some(query) = store.child(Search::Query) else {
        return Ok(Some(store_answer(
            status::INVALID_REQUEST,
            Vec::new(),
            None,
        )));
    };
    if name.eq_ignore_ascii_case("GAL") {
        let answer = match gal(ctx, query.text().unwrap_or(""), range).await {
            Ok(page) => {
                let results = page
                    .items
                    .iter()
                    .map(|address| {
                        Element::with_children(
                            Search::Result,
                            [Element::with_children(
                                Search::Properties,
                                gal_properties(address),
                            )],
                        )
                    })
                    .collect();
                store_answer(status::OK, results, page.range())
            }
            Err(DirectoryUnavailable) => store_answer(status::SERVER_ERROR, Vec::new(), None),
        };
        return Ok(Some(answer));
    }
    if !name.eq_ignore_ascii_case("Mailbox") {
        return Ok(Some(store_answer(
            status::INVALID_REQUEST,
            Vec::new(),
            None,
        )));
    }
    let mut q = Query::default();
    for c in query.children() {
        if let Err(st) = add_condition(&mut q, c) {
            return Ok(Some(store_answer(st, Vec::new(), None)));
        }
    }
    let deep = options.is_some_and(|o| o.child(Search::DeepTraversal).is_some());
    let pref = BodyPreference::from_options(options);
    let page = mailbox(ctx, &q, deep, range).await?;
    let results = page
        .items
        .iter()
        .map(|hit| {
            let e = &hit.entry;
            let collection: u64 = hit.collection.parse().unwrap_or(0);
            let data =
                mail::application_data(e.message_id, &hit.raw, e.flags, e.internal_date, pref);
            Element::with_children(
                Search::Result,
                [
                    Element::with_text(AirSync::Class, "Email"),
                    Element::with_text(Search::LongId, server_id(collection, e.message_id)),
                    Element::with_text(AirSync::CollectionId, &hit.collection),
                    Element::with_children(Search::Properties, data.children().iter().cloned()),
                ],
            )
        })
        .collect();
    Ok(Some(store_answer(status::OK, results, page.range())))
}

/// One page of a search's results and how many there are in all.
#[derive(Debug)]
pub(crate) struct Page<T> {
    /// The results of the asked range, in order.
    pub items: Vec<T>,
    /// The index of the first.
    pub first: usize,
    /// How many results the search has.
    pub total: usize,
}

impl<T> Page<T> {
    /// (first, last, total) of a page with results; `None` when empty.
    pub(crate) fn range(&self) -> Option<(usize, usize, usize)> {
        (!self.items.is_empty())
            .then(|| (self.first, self.first + self.items.len() - 1, self.total))
    }
}

/// A message a mailbox search found, with its content (read because it
/// is in the asked range).
#[derive(Debug)]
pub(crate) struct Hit {
    /// The collection (ServerId of the folder) it is in.
    pub collection: String,
    pub entry: pb::MessageEntry,
    /// The stored RFC 5322 message.
    pub raw: Vec<u8>,
}

/// The mail folders `q` covers: (collection id, folder id).
async fn folders_of(ctx: &Ctx<'_>, q: &Query, deep: bool) -> Result<Vec<(String, u64)>, Failure> {
    let all = store_folders(ctx).await?;
    let shown = visible(&all);
    let mail: Vec<(String, u64, u64)> = shown
        .iter()
        .filter(|(_, _, f)| CollectionKind::of(&f.container_class) == CollectionKind::Mail)
        .map(|(sid, _, f)| (sid.clone(), f.id, f.parent_id))
        .collect();
    if q.collections.is_empty() {
        return Ok(mail.into_iter().map(|(s, id, _)| (s, id)).collect());
    }
    let mut out: Vec<(String, u64)> = mail
        .iter()
        .filter(|(s, _, _)| q.collections.contains(s))
        .map(|(s, id, _)| (s.clone(), *id))
        .collect();
    if deep {
        let mut i = 0;
        while let Some(&(_, parent)) = out.get(i) {
            for (s, id, p) in &mail {
                if *p == parent && !out.iter().any(|(_, o)| o == id) {
                    out.push((s.clone(), *id));
                }
            }
            i += 1;
        }
    }
    Ok(out)
}

/// A candidate of a mailbox search.
struct Candidate {
    /// The collection (ServerId of the folder) it is in.
    collection: String,
    entry: pb::MessageEntry,
    /// Whether midb's index already says it matches the FreeText words;
    /// otherwise its content must be read to decide.
    matched: bool,
}

/// The midb criteria of the FreeText words: every word in the header or
/// the body (IMAP TEXT), ANDed.
fn text_criteria(words: &[String]) -> SearchKey {
    SearchKey::And(
        words
            .iter()
            .map(|w| SearchKey::Text(TextField::Text, w.clone()))
            .collect(),
    )
}

/// The UIDs of folder `fid` whose header or body contains every word,
/// from midb's index; `None` when midb is absent or does not answer (the
/// caller reads the messages itself). A midb that did not answer is not
/// asked again in this search (`midb` becomes `None`), so an unreachable
/// node costs one connect timeout, not one per folder.
async fn indexed_matches(
    ctx: &Ctx<'_>,
    midb: &mut Option<Arc<RemoteView>>,
    fid: u64,
    words: &[String],
) -> Option<HashSet<u32>> {
    let Some(view) = midb.as_ref() else {
        if !ctx.eas.scan_logged.swap(true, Ordering::Relaxed) {
            tracing::info!(
                "ActiveSync Search without midb: FreeText reads every candidate message"
            );
        }
        return None;
    };
    match view.search(&ctx.dir, fid, text_criteria(words)).await {
        Ok(r) => Some(r.uids.into_iter().collect()),
        Err(e) => {
            *midb = None;
            if !ctx.eas.scan_logged.swap(true, Ordering::Relaxed) {
                tracing::info!(dir = %ctx.dir, folder = fid, error = %e,
                    "midb did not answer an ActiveSync Search: reading the messages instead");
            } else {
                tracing::debug!(dir = %ctx.dir, folder = fid, error = %e,
                    "midb did not answer an ActiveSync Search: reading the messages instead");
            }
            None
        }
    }
}

/// The candidates of folder `fid`: its messages inside the date bounds,
/// those midb rules out dropped.
async fn folder_candidates(
    ctx: &Ctx<'_>,
    midb: &mut Option<Arc<RemoteView>>,
    q: &Query,
    collection: &str,
    fid: u64,
) -> Result<Vec<Candidate>, Failure> {
    let mut s = Box::pin(
        ctx.exmdb()
            .list_messages(pb::ListMessagesRequest {
                limit: 0,
                dir: ctx.dir.clone(),
                folder: Some(folder_id(fid)),
                range: None,
            })
            .await?,
    );
    let mut entries = Vec::new();
    while let Some(e) = s.next().await {
        let e = e?;
        if q.after.is_some_and(|a| e.internal_date <= a)
            || q.before.is_some_and(|b| e.internal_date >= b)
        {
            continue;
        }
        entries.push(e);
    }
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // No words: every dated candidate matches without reading anything.
    let indexed = if q.words.is_empty() {
        None
    } else {
        indexed_matches(ctx, midb, fid, &q.words).await
    };
    let matched = q.words.is_empty() || indexed.is_some();
    Ok(entries
        .into_iter()
        .filter(|e| indexed.as_ref().is_none_or(|uids| uids.contains(&e.uid)))
        .map(|entry| Candidate {
            collection: collection.to_string(),
            entry,
            matched,
        })
        .collect())
}

/// A message's content; `None` when it is gone (deleted meanwhile).
async fn content(ctx: &Ctx<'_>, message_id: u64) -> Result<Option<Vec<u8>>, Failure> {
    match ctx.exmdb().read_content_all(&ctx.dir, message_id).await {
        Ok(r) => Ok(Some(r)),
        Err(err) if err.reason() == Some(Reason::NoSuchMessage) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The mailbox search of Search and Find: the messages of the folders `q`
/// covers that match it, newest first; those of the range `(first, last)`
/// are read and returned, the others only counted.
pub(crate) async fn mailbox(
    ctx: &Ctx<'_>,
    q: &Query,
    deep: bool,
    (first, last): (usize, usize),
) -> Result<Page<Hit>, Failure> {
    let folders = folders_of(ctx, q, deep).await?;
    let mut midb = ctx.eas.midb();
    let mut candidates: Vec<Candidate> = Vec::new();
    for (sid, fid) in &folders {
        candidates.extend(folder_candidates(ctx, &mut midb, q, sid, *fid).await?);
    }
    // Newest first.
    candidates.sort_by(|a, b| {
        b.entry
            .internal_date
            .cmp(&a.entry.internal_date)
            .then(b.entry.message_id.cmp(&a.entry.message_id))
    });
    let mut total = 0;
    let mut items = Vec::new();
    for c in candidates {
        let in_range = total >= first && total <= last;
        // A match midb vouches for is read only when its result is sent.
        let raw = if c.matched && !in_range {
            None
        } else {
            match content(ctx, c.entry.message_id).await? {
                Some(raw) => Some(raw),
                None => continue,
            }
        };
        if !c.matched && !raw.as_deref().is_some_and(|r| matches_words(r, &q.words)) {
            continue;
        }
        if let Some(raw) = raw.filter(|_| in_range) {
            items.push(Hit {
                collection: c.collection,
                entry: c.entry,
                raw,
            });
        }
        total += 1;
    }
    Ok(Page {
        items,
        first,
        total,
    })
}

/// A GAL entry's elements.
pub(crate) fn gal_properties(address: &str) -> Vec<Element> {
    let local = address.split('@').next().unwrap_or(address);
    vec![
        Element::with_text(GAL::DisplayName, local),
        Element::with_text(GAL::Alias, local),
        Element::with_text(GAL::EmailAddress, address),
    ]
}

/// The directory could not be read (a GAL search's server error).
#[derive(Debug)]
pub(crate) struct DirectoryUnavailable;

/// The GAL search of Search and Find: the addresses of the directory's
/// users that contain `text` (without case), sorted, the range
/// `(first, last)` of them. No directory: nothing found.
pub(crate) async fn gal(
    ctx: &Ctx<'_>,
    text: &str,
    (first, last): (usize, usize),
) -> Result<Page<String>, DirectoryUnavailable> {
    let text = text.trim().to_lowercase();
    let empty = Page {
        items: Vec::new(),
        first,
        total: 0,
    };
    let Some(directory) = ctx.eas.directory() else {
        return Ok(empty);
    };
    let mut users = match directory.users(None).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "ActiveSync GAL search: directory unavailable");
            return Err(DirectoryUnavailable);
        }
    };
    users.retain(|u| !text.is_empty() && u.username.to_lowercase().contains(&text));
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let total = users.len();
    let items = users
        .into_iter()
        .skip(first)
        .take(last - first + 1)
        .map(|u| u.username)
        .collect();
    Ok(Page {
        items,
        first,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_wbxml::Limits;

    fn query(xml: &str) -> Result<Query, u8> {
        let e = Element::from_xml(xml, &Limits::default()).unwrap();
        let mut q = Query::default();
        for c in e.children() {
            add_condition(&mut q, c)?;
        }
        Ok(q)
    }

    #[test]
    fn mailbox_queries_flatten_into_conditions() {
        let q = query(
            "<Query xmlns=\"Search:\" xmlns:airsync=\"AirSync:\" xmlns:email=\"Email:\"><And>\
             <airsync:Class>Email</airsync:Class><airsync:CollectionId>13</airsync:CollectionId>\
             <FreeText>Quarterly  Report</FreeText>\
             <GreaterThan><email:DateReceived/><Value>2026-12-01T00:00:00.000Z</Value></GreaterThan>\
             </And></Query>",
        )
        .unwrap();
        assert_eq!(q.words, ["quarterly", "report"]);
        assert_eq!(q.collections, ["13"]);
        assert_eq!(q.after, Some(1_796_083_200));
        assert_eq!(q.before, None);
        // A class the mailbox search does not cover, or an Or, is "too complex".
        assert_eq!(
            query(
                "<Query xmlns=\"Search:\" xmlns:airsync=\"AirSync:\"><airsync:Class>Tasks</airsync:Class></Query>"
            ),
            Err(status::TOO_COMPLEX)
        );
        assert_eq!(
            query("<Query xmlns=\"Search:\"><Or><FreeText>a</FreeText></Or></Query>"),
            Err(status::TOO_COMPLEX)
        );
        assert_eq!(
            query(
                "<Query xmlns=\"Search:\" xmlns:email=\"Email:\"><LessThan><email:DateReceived/><Value>yesterday</Value></LessThan></Query>"
            ),
            Err(status::INVALID_REQUEST)
        );
    }

    #[test]
    fn ranges_are_bounded() {
        assert_eq!(parse_range(Some("0-9")), Some((0, 9)));
        assert_eq!(parse_range(Some("5-5")), Some((5, 5)));
        assert_eq!(parse_range(Some("0-100000")), Some((0, MAX_RANGE - 1)));
        assert_eq!(parse_range(Some("9-0")), None);
        assert_eq!(parse_range(Some("x")), None);
        assert_eq!(parse_range(None), Some((0, MAX_RANGE - 1)));
        // A first index near the largest number neither overflows nor panics.
        let huge = format!("{}-{}", usize::MAX - 1, usize::MAX);
        assert_eq!(parse_range(Some(&huge)), Some((usize::MAX - 1, usize::MAX)));
    }

    #[test]
    fn free_text_asks_midb_for_every_word_in_header_or_body() {
        let words = ["quarterly".to_string(), "report".to_string()];
        assert_eq!(
            text_criteria(&words),
            SearchKey::And(vec![
                SearchKey::Text(TextField::Text, "quarterly".into()),
                SearchKey::Text(TextField::Text, "report".into()),
            ])
        );
    }

    #[test]
    fn free_text_needs_every_word_anywhere_in_the_message() {
        let raw = b"From: Ada <ada@example.test>\r\nTo: bob@example.test\r\nSubject: Quarterly figures\r\n\r\nThe report is attached.\r\n";
        assert!(matches_words(raw, &["quarterly".into(), "report".into()]));
        assert!(matches_words(raw, &["ada@example".into()]));
        assert!(!matches_words(raw, &["quarterly".into(), "budget".into()]));
        assert!(matches_words(raw, &[]));
    }
}
