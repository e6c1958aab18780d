//! SEARCH (with ESEARCH and SEARCHRES), SORT and THREAD. Sequence-number
//! keys and `$` become UID sets here, since only the session knows its
//! numbering; results are mapped back to the client's numbers and limited
//! to messages the client knows.

use super::view::Selected;
use super::{Handled, Reply, Session, Stop};
use crate::backend::MailboxView as _;
use crate::backend::{
    Backend, Flags, SearchKey, SortCriterion, SortKey, TextField, ThreadAlgorithm, ThreadTree,
    UidSet,
};
use futures_util::StreamExt;
use groxide_imap_proto::{
    Data, ESearchResponse, NumberSet, ResponseCode, SearchCommand, SearchKey as Key,
    SearchReturnOption, SeqNumber, SequenceSet, SortCommand, SortKey as WireSortKey, Tag,
    ThreadAlgorithm as WireAlgorithm, ThreadCommand, ThreadNode,
};

/// Charsets search strings may use.
const CHARSETS: [&str; 2] = ["US-ASCII", "UTF-8"];

fn bad_charset() -> Stop {
    Stop::Reply(Reply::no(
        Some(ResponseCode::BadCharset(
            CHARSETS.iter().map(|c| (*c).to_owned()).collect(),
        )),
        "Supported charsets: US-ASCII, UTF-8",
    ))
}

fn check_charset(charset: Option<&str>) -> Result<(), Stop> {
    match charset {
        None => Ok(()),
        Some(c) if CHARSETS.iter().any(|x| x.eq_ignore_ascii_case(c)) => Ok(()),
        Some(_) => Err(bad_charset()),
    }
}

fn text(bytes: &[u8]) -> Result<String, Stop> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad_charset())
}

/// Sequence numbers of a SEARCH key as UID ranges. A number past the end
/// names no message (never the last one): `1000` alone matches nothing.
/// A range names the messages between its ends whichever end is larger
/// (RFC 3501 §9, seq-range), so `7:*` in a mailbox of six is `6:7` and
/// matches 6, and `2:100` matches 2 to the last.
fn seq_key(view: &Selected, set: &SequenceSet) -> SearchKey {
    if matches!(set, SequenceSet::Saved) {
        return SearchKey::Uid(UidSet::from_uids(view.saved_search.iter().copied()));
    }
    let exists = view.exists();
    let mut positions = Vec::new();
    for range in set.ranges() {
        let numbers = [range.start, range.end].map(|n| match n {
            SeqNumber::Value(v) => v.get(),
            SeqNumber::Largest => exists,
        });
        let (lo, hi) = (numbers[0].min(numbers[1]), numbers[0].max(numbers[1]));
        if exists == 0 || lo > exists {
            continue;
        }
        positions.push((lo as usize - 1)..=(hi.min(exists) as usize - 1));
    }
    positions.sort_unstable_by_key(|r| *r.start());
    SearchKey::Uid(UidSet::from_ranges(view.uid_ranges(&positions)))
}

fn flag_key(set: bool, flag: Flags) -> SearchKey {
    if set {
        SearchKey::FlagsSet(flag)
    } else {
        SearchKey::FlagsUnset(flag)
    }
}

/// Converts a client search key; `modseq` is set when MODSEQ is used.
fn convert(key: &Key, view: &Selected, modseq: &mut bool) -> Result<SearchKey, Stop> {
    use crate::session::flags::FORWARDED;
    // Iterative conversion would need a work stack; the parser bounds nesting depth.
    Ok(match key {
        Key::All => SearchKey::All,
        Key::Answered => flag_key(true, Flags::ANSWERED),
        Key::Unanswered => flag_key(false, Flags::ANSWERED),
        Key::Deleted => flag_key(true, Flags::DELETED),
        Key::Undeleted => flag_key(false, Flags::DELETED),
        Key::Draft => flag_key(true, Flags::DRAFT),
        Key::Undraft => flag_key(false, Flags::DRAFT),
        Key::Flagged => flag_key(true, Flags::FLAGGED),
        Key::Unflagged => flag_key(false, Flags::FLAGGED),
        Key::Seen => flag_key(true, Flags::SEEN),
        Key::Unseen => flag_key(false, Flags::SEEN),
        Key::Keyword(k) if k.eq_ignore_ascii_case(FORWARDED) => flag_key(true, Flags::FORWARDED),
        Key::Unkeyword(k) if k.eq_ignore_ascii_case(FORWARDED) => flag_key(false, Flags::FORWARDED),
        Key::Keyword(k) => SearchKey::Keyword(k.clone()),
        Key::Unkeyword(k) => SearchKey::Unkeyword(k.clone()),
        // \Recent is the session's: its UIDs go to the view.
        Key::Recent => SearchKey::Uid(view.recent_uids()),
        Key::New => SearchKey::And(vec![
            SearchKey::Uid(view.recent_uids()),
            flag_key(false, Flags::SEEN),
        ]),
        Key::Old => SearchKey::Not(Box::new(SearchKey::Uid(view.recent_uids()))),
        Key::Before(d) => SearchKey::Before(d.days_since_epoch()),
        Key::On(d) => SearchKey::On(d.days_since_epoch()),
        Key::Since(d) => SearchKey::Since(d.days_since_epoch()),
        Key::SentBefore(d) => SearchKey::SentBefore(d.days_since_epoch()),
        Key::SentOn(d) => SearchKey::SentOn(d.days_since_epoch()),
        Key::SentSince(d) => SearchKey::SentSince(d.days_since_epoch()),
        Key::Larger(n) => SearchKey::Larger(*n),
        Key::Smaller(n) => SearchKey::Smaller(*n),
        Key::Bcc(s) => SearchKey::Text(TextField::Bcc, text(s)?),
        Key::Cc(s) => SearchKey::Text(TextField::Cc, text(s)?),
        Key::From(s) => SearchKey::Text(TextField::From, text(s)?),
        Key::To(s) => SearchKey::Text(TextField::To, text(s)?),
        Key::Subject(s) => SearchKey::Text(TextField::Subject, text(s)?),
        Key::Body(s) => SearchKey::Text(TextField::Body, text(s)?),
        Key::Text(s) => SearchKey::Text(TextField::Text, text(s)?),
        Key::Header { field, value } => SearchKey::Header(field.clone(), text(value)?),
        Key::Uid(set) => SearchKey::Uid(UidSet::from_ranges(view.raw_uid_ranges(set))),
        Key::SequenceSet(set) => seq_key(view, set),
        Key::Not(k) => SearchKey::Not(Box::new(convert(k, view, modseq)?)),
        Key::Or(a, b) => SearchKey::Or(
            Box::new(convert(a, view, modseq)?),
            Box::new(convert(b, view, modseq)?),
        ),
        Key::And(keys) => SearchKey::And(
            keys.iter()
                .map(|k| convert(k, view, modseq))
                .collect::<Result<_, _>>()?,
        ),
        Key::ModSeq { modseq: m, .. } => {
            *modseq = true;
            SearchKey::ModSeq(*m)
        }
        Key::Older(s) => SearchKey::Older(u64::from(*s)),
        Key::Younger(s) => SearchKey::Younger(u64::from(*s)),
    })
}

fn convert_all(keys: &[Key], view: &Selected, modseq: &mut bool) -> Result<SearchKey, Stop> {
    if let [one] = keys {
        return convert(one, view, modseq);
    }
    Ok(SearchKey::And(
        keys.iter()
            .map(|k| convert(k, view, modseq))
            .collect::<Result<_, _>>()?,
    ))
}

fn sort_key(key: WireSortKey) -> SortKey {
    match key {
        WireSortKey::Arrival => SortKey::Arrival,
        WireSortKey::Cc => SortKey::Cc,
        WireSortKey::Date => SortKey::Date,
        WireSortKey::From => SortKey::From,
        WireSortKey::Size => SortKey::Size,
        WireSortKey::Subject => SortKey::Subject,
        WireSortKey::To => SortKey::To,
        WireSortKey::DisplayFrom => SortKey::DisplayFrom,
        WireSortKey::DisplayTo => SortKey::DisplayTo,
    }
}

impl<B: Backend> Session<'_, B> {
    pub(super) async fn search(&mut self, tag: &Tag, cmd: SearchCommand) -> Handled {
        let account = self.require_selected()?;
        let save = cmd
            .return_options
            .as_ref()
            .is_some_and(|o| o.contains(&SearchReturnOption::Save));
        let mut uses_modseq = false;
        let prepared = check_charset(cmd.charset.as_deref()).and_then(|()| {
            let view = self.view()?;
            convert_all(&cmd.criteria, view, &mut uses_modseq)
        });
        let criteria = match prepared {
            Ok(c) => c,
            Err(e) => {
                // SEARCHRES: a failed SAVE empties `$` (RFC 5182 §2.1).
                if save && let Ok(view) = self.view() {
                    view.saved_search.clear();
                }
                return Err(e);
            }
        };
        if uses_modseq {
            self.enable_condstore().await;
        }
        let folder = self.view()?.folder;
        let found = match self
            .server
            .backend()
            .view()
            .search(&account.dir, folder, criteria)
            .await
        {
            Ok(f) => f,
            Err(e) => {
                if save && let Ok(view) = self.view() {
                    view.saved_search.clear();
                }
                return Err(e.into());
            }
        };
        let view = self.view()?;
        let uids: Vec<u32> = found
            .uids
            .into_iter()
            .filter(|u| view.seq_of(*u).is_some())
            .collect();
        let numbers: Vec<u32> = if cmd.uid {
            uids.clone()
        } else {
            uids.iter().filter_map(|u| view.seq_of(*u)).collect()
        };
        let return_options = match cmd.return_options {
            Some(o) => Some(o),
            // IMAP4rev2 answers every SEARCH with ESEARCH.
            None if self.enabled.rev2 => Some(Vec::new()),
            None => None,
        };
        let modseq = if !uses_modseq || uids.is_empty() {
            None
        } else if let Some(ends) = return_options
            .as_deref()
            .and_then(|o| min_max_only(o, &uids))
        {
            // RFC 4731 §3.2: MIN/MAX alone report the MODSEQ of those messages.
            let server = self.server;
            Some(highest_modseq_of(server.backend().view(), &account.dir, folder, ends).await?)
        } else {
            Some(found.highest_modseq)
        };
        match return_options {
            None => self.data(&Data::Search { numbers, modseq }),
            Some(options) => {
                self.esearch(tag, cmd.uid, &options, &uids, &numbers, modseq, true);
            }
        }
        Ok(Reply::ok("SEARCH completed"))
    }

    /// Writes `* ESEARCH` for results in ascending order and applies SAVE.
    #[allow(clippy::too_many_arguments)]
    fn esearch(
        &mut self,
        tag: &Tag,
        uid: bool,
        options: &[SearchReturnOption],
        uids: &[u32],
        numbers: &[u32],
        modseq: Option<u64>,
        ascending: bool,
    ) {
        let all_options = [SearchReturnOption::All];
        let options = if options.is_empty() {
            &all_options[..]
        } else {
            options
        };
        let has = |o: SearchReturnOption| options.contains(&o);
        if has(SearchReturnOption::Save)
            && let Some(view) = self.selected.as_mut()
        {
            // SAVE with only MIN/MAX keeps just those (RFC 5182 §2.4).
            let min_max_only = !has(SearchReturnOption::All)
                && !has(SearchReturnOption::Count)
                && (has(SearchReturnOption::Min) || has(SearchReturnOption::Max));
            let mut saved: Vec<u32> = if min_max_only {
                let mut v = Vec::new();
                if has(SearchReturnOption::Min)
                    && let Some(m) = uids.iter().min()
                {
                    v.push(*m);
                }
                if has(SearchReturnOption::Max)
                    && let Some(m) = uids.iter().max()
                {
                    v.push(*m);
                }
                v
            } else {
                uids.to_vec()
            };
            saved.sort_unstable();
            saved.dedup();
            view.saved_search = saved;
        }
        if options == [SearchReturnOption::Save] {
            // With MODSEQ, SAVE alone still reports the MODSEQ (as Dovecot does).
            if let Some(modseq) = modseq {
                self.data(&Data::ESearch(ESearchResponse {
                    tag: Some(tag.clone()),
                    uid,
                    min: None,
                    max: None,
                    count: None,
                    all: None,
                    modseq: Some(modseq),
                }));
            }
            return;
        }
        let (min, max) = if ascending {
            (numbers.first().copied(), numbers.last().copied())
        } else {
            (numbers.iter().min().copied(), numbers.iter().max().copied())
        };
        let response = ESearchResponse {
            tag: Some(tag.clone()),
            uid,
            min: has(SearchReturnOption::Min).then_some(min).flatten(),
            max: has(SearchReturnOption::Max).then_some(max).flatten(),
            count: has(SearchReturnOption::Count).then_some(numbers.len() as u32),
            all: (has(SearchReturnOption::All) && !numbers.is_empty()).then(|| {
                if ascending {
                    NumberSet::from_ordered(numbers.iter().copied())
                } else {
                    NumberSet::from_unordered(numbers.iter().copied())
                }
            }),
            modseq,
        };
        self.data(&Data::ESearch(response));
    }

    pub(super) async fn sort(&mut self, tag: &Tag, cmd: SortCommand) -> Handled {
        let account = self.require_selected()?;
        check_charset(Some(&cmd.charset))?;
        let mut uses_modseq = false;
        let criteria = convert_all(&cmd.search, self.view()?, &mut uses_modseq)?;
        if uses_modseq {
            self.enable_condstore().await;
        }
        let order: Vec<SortCriterion> = cmd
            .criteria
            .iter()
            .map(|c| SortCriterion {
                key: sort_key(c.key),
                reverse: c.reverse,
            })
            .collect();
        let folder = self.view()?.folder;
        let sorted = self
            .server
            .backend()
            .view()
            .sort(&account.dir, folder, order, criteria)
            .await?;
        let view = self.view()?;
        let uids: Vec<u32> = sorted
            .into_iter()
            .filter(|u| view.seq_of(*u).is_some())
            .collect();
        let numbers: Vec<u32> = if cmd.uid {
            uids.clone()
        } else {
            uids.iter().filter_map(|u| view.seq_of(*u)).collect()
        };
        match cmd.return_options {
            None => self.data(&Data::Sort {
                numbers,
                modseq: None,
            }),
            Some(options) => self.esearch(tag, cmd.uid, &options, &uids, &numbers, None, false),
        }
        Ok(Reply::ok("SORT completed"))
    }

    pub(super) async fn thread(&mut self, cmd: ThreadCommand) -> Handled {
        let account = self.require_selected()?;
        let algorithm = match &cmd.algorithm {
            WireAlgorithm::References => ThreadAlgorithm::References,
            WireAlgorithm::OrderedSubject => ThreadAlgorithm::OrderedSubject,
            WireAlgorithm::Other(name) => {
                return Ok(Reply::bad(format!(
                    "Unsupported threading algorithm {name}"
                )));
            }
        };
        check_charset(Some(&cmd.charset))?;
        let mut uses_modseq = false;
        let criteria = convert_all(&cmd.search, self.view()?, &mut uses_modseq)?;
        let folder = self.view()?.folder;
        let trees = self
            .server
            .backend()
            .view()
            .thread(&account.dir, folder, algorithm, criteria)
            .await?;
        let view = self.view()?;
        let roots = convert_threads(trees, view, cmd.uid);
        self.data(&Data::Thread(roots));
        Ok(Reply::ok("THREAD completed"))
    }
}

/// The highest MODSEQ of the messages `uids`.
async fn highest_modseq_of<V: crate::backend::MailboxView>(
    view: &V,
    dir: &str,
    folder: u64,
    uids: Vec<u32>,
) -> Result<u64, Stop> {
    let mut stream = view
        .list_messages(dir, folder, UidSet::from_uids(uids))
        .await?;
    let mut highest = 0;
    while let Some(chunk) = stream.next().await {
        highest = chunk?.iter().map(|m| m.modseq).fold(highest, u64::max);
    }
    Ok(highest)
}

/// The UIDs MIN and MAX name when they are the only results asked for
/// (SAVE aside), else `None`; `uids` ascending and not empty.
fn min_max_only(options: &[SearchReturnOption], uids: &[u32]) -> Option<Vec<u32>> {
    let has = |o| options.contains(&o);
    if options.is_empty() || has(SearchReturnOption::All) || has(SearchReturnOption::Count) {
        return None;
    }
    let mut ends = Vec::new();
    if has(SearchReturnOption::Min) {
        ends.extend(uids.first());
    }
    if has(SearchReturnOption::Max) {
        ends.extend(uids.last());
    }
    (!ends.is_empty()).then_some(ends)
}

/// Backend thread trees to response nodes, without recursion: UIDs become
/// the client's numbers; unknown messages become placeholders.
fn convert_threads(trees: Vec<ThreadTree>, view: &Selected, uid: bool) -> Vec<ThreadNode> {
    let number = |u: u32| -> Option<u32> {
        if u == 0 {
            return None;
        }
        let seq = view.seq_of(u)?;
        Some(if uid { u } else { seq })
    };
    // Post-order over (tree, parent slot) pairs, building children first.
    enum Work {
        Enter(ThreadTree),
        Leave {
            message: Option<u32>,
            children: usize,
        },
    }
    let mut work: Vec<Work> = trees.into_iter().rev().map(Work::Enter).collect();
    let mut built: Vec<ThreadNode> = Vec::new();
    let roots_expected = work.len();
    while let Some(item) = work.pop() {
        match item {
            Work::Enter(mut tree) => {
                let children = std::mem::take(&mut tree.children);
                work.push(Work::Leave {
                    message: number(tree.uid),
                    children: children.len(),
                });
                work.extend(children.into_iter().rev().map(Work::Enter));
            }
            Work::Leave { message, children } => {
                let kids = built.split_off(built.len() - children);
                built.push(ThreadNode {
                    message,
                    children: kids,
                });
            }
        }
    }
    debug_assert_eq!(built.len(), roots_expected);
    built
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_thread_trees_convert_without_recursion() {
        let mut tree = ThreadTree {
            uid: 100_000,
            children: Vec::new(),
        };
        for uid in (1..100_000).rev() {
            tree = ThreadTree {
                uid,
                children: vec![tree],
            };
        }
        let view = Selected::new("INBOX".into(), 1, 1, false, (1..=100_000).collect());
        let roots = convert_threads(vec![tree], &view, true);
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].message, Some(1));
        assert_eq!(roots[0].children[0].message, Some(2));
    }

    #[test]
    fn unknown_messages_become_placeholders() {
        let tree = ThreadTree {
            uid: 0,
            children: vec![
                ThreadTree {
                    uid: 7,
                    children: Vec::new(),
                },
                ThreadTree {
                    uid: 9,
                    children: Vec::new(),
                },
            ],
        };
        let view = Selected::new("INBOX".into(), 1, 1, false, vec![7]);
        let roots = convert_threads(vec![tree], &view, false);
        assert_eq!(roots[0].message, None);
        assert_eq!(roots[0].children[0].message, Some(1));
        assert_eq!(roots[0].children[1].message, None);
    }
}
