//! SEARCH keys and the SEARCH, SORT and THREAD commands (RFC 9051 §6.4.4,
//! RFC 4731, RFC 5182, RFC 5256, RFC 5267, RFC 7162 §3.1.5).

use crate::command::{
    ModSeqEntry, ModSeqEntryKind, SearchCommand, SearchKey, SearchReturnOption, SortCommand,
    SortCriterion, SortKey, ThreadAlgorithm, ThreadCommand,
};
use crate::datetime::parse_date;
use crate::error::ParseError;
use crate::flag::Flag;
use crate::lexer::{Cursor, ascii_string, utf8_string};
use crate::sequence::parse_sequence_set;

use super::paren_list;

pub(super) fn parse_search(c: &mut Cursor<'_>, uid: bool) -> Result<SearchCommand, ParseError> {
    c.sp()?;
    let return_options = parse_return_options(c)?;
    let mut charset = None;
    if c.eat_keyword(b"CHARSET") {
        c.sp()?;
        charset = Some(parse_charset(c)?);
        c.sp()?;
    }
    let criteria = parse_key_list(c)?;
    Ok(SearchCommand {
        uid,
        return_options,
        charset,
        criteria,
    })
}

/// `RETURN (opts) SP`, if present.
fn parse_return_options(c: &mut Cursor<'_>) -> Result<Option<Vec<SearchReturnOption>>, ParseError> {
    if !c.eat_keyword(b"RETURN") {
        return Ok(None);
    }
    c.sp()?;
    let options = paren_list(c, "return options", true, |c| {
        let name = c.keyword()?;
        Ok(match name.upper() {
            b"MIN" => SearchReturnOption::Min,
            b"MAX" => SearchReturnOption::Max,
            b"ALL" => SearchReturnOption::All,
            b"COUNT" => SearchReturnOption::Count,
            b"SAVE" => SearchReturnOption::Save,
            _ => return Err(ParseError::unknown("search return option", name.raw())),
        })
    })?;
    c.sp()?;
    Ok(Some(options))
}

/// `charset`: atom or quoted string.
fn parse_charset(c: &mut Cursor<'_>) -> Result<String, ParseError> {
    if c.peek() == Some(b'"') {
        utf8_string(c.quoted()?)
    } else {
        c.atom_string()
    }
}

/// `search-key *(SP search-key)`.
fn parse_key_list(c: &mut Cursor<'_>) -> Result<Vec<SearchKey>, ParseError> {
    let mut keys = vec![parse_search_key(c)?];
    while c.eat_sp() {
        keys.push(parse_search_key(c)?);
    }
    Ok(keys)
}

fn parse_search_key(c: &mut Cursor<'_>) -> Result<SearchKey, ParseError> {
    match c.peek() {
        Some(b'(') => {
            return Ok(SearchKey::And(paren_list(
                c,
                "search key",
                false,
                parse_search_key,
            )?));
        }
        Some(b'0'..=b'9' | b'*' | b'$') => {
            return Ok(SearchKey::SequenceSet(parse_sequence_set(c)?));
        }
        _ => {}
    }
    if !c.peek().is_some_and(crate::lexer::is_atom_char) {
        return Err(c.expected("search key"));
    }
    let name = c.keyword()?;
    let key = match name.upper() {
        b"ALL" => SearchKey::All,
        b"ANSWERED" => SearchKey::Answered,
        b"DELETED" => SearchKey::Deleted,
        b"DRAFT" => SearchKey::Draft,
        b"FLAGGED" => SearchKey::Flagged,
        b"NEW" => SearchKey::New,
        b"OLD" => SearchKey::Old,
        b"RECENT" => SearchKey::Recent,
        b"SEEN" => SearchKey::Seen,
        b"UNANSWERED" => SearchKey::Unanswered,
        b"UNDELETED" => SearchKey::Undeleted,
        b"UNDRAFT" => SearchKey::Undraft,
        b"UNFLAGGED" => SearchKey::Unflagged,
        b"UNSEEN" => SearchKey::Unseen,
        b"BCC" => SearchKey::Bcc(sp_astring(c)?),
        b"BODY" => SearchKey::Body(sp_astring(c)?),
        b"CC" => SearchKey::Cc(sp_astring(c)?),
        b"FROM" => SearchKey::From(sp_astring(c)?),
        b"SUBJECT" => SearchKey::Subject(sp_astring(c)?),
        b"TEXT" => SearchKey::Text(sp_astring(c)?),
        b"TO" => SearchKey::To(sp_astring(c)?),
        b"BEFORE" => SearchKey::Before(sp_date(c)?),
        b"ON" => SearchKey::On(sp_date(c)?),
        b"SINCE" => SearchKey::Since(sp_date(c)?),
        b"SENTBEFORE" => SearchKey::SentBefore(sp_date(c)?),
        b"SENTON" => SearchKey::SentOn(sp_date(c)?),
        b"SENTSINCE" => SearchKey::SentSince(sp_date(c)?),
        b"HEADER" => {
            c.sp()?;
            let field = utf8_string(c.astring()?)?;
            let value = sp_astring(c)?;
            SearchKey::Header { field, value }
        }
        b"KEYWORD" => {
            c.sp()?;
            SearchKey::Keyword(c.atom_string()?)
        }
        b"UNKEYWORD" => {
            c.sp()?;
            SearchKey::Unkeyword(c.atom_string()?)
        }
        b"LARGER" => {
            c.sp()?;
            SearchKey::Larger(c.number64()?)
        }
        b"SMALLER" => {
            c.sp()?;
            SearchKey::Smaller(c.number64()?)
        }
        b"OLDER" => {
            c.sp()?;
            SearchKey::Older(c.nz_number()?)
        }
        b"YOUNGER" => {
            c.sp()?;
            SearchKey::Younger(c.nz_number()?)
        }
        b"UID" => {
            c.sp()?;
            SearchKey::Uid(parse_sequence_set(c)?)
        }
        b"NOT" => {
            c.sp()?;
            c.enter()?;
            let key = parse_search_key(c)?;
            c.leave();
            SearchKey::Not(Box::new(key))
        }
        b"OR" => {
            c.sp()?;
            c.enter()?;
            let left = parse_search_key(c)?;
            c.sp()?;
            let right = parse_search_key(c)?;
            c.leave();
            SearchKey::Or(Box::new(left), Box::new(right))
        }
        b"MODSEQ" => parse_modseq_key(c)?,
        _ => return Err(ParseError::unknown("search key", name.raw())),
    };
    Ok(key)
}

fn sp_astring(c: &mut Cursor<'_>) -> Result<Vec<u8>, ParseError> {
    c.sp()?;
    Ok(c.astring()?.into_owned())
}

fn sp_date(c: &mut Cursor<'_>) -> Result<crate::datetime::ImapDate, ParseError> {
    c.sp()?;
    parse_date(c)
}

/// `MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer`.
fn parse_modseq_key(c: &mut Cursor<'_>) -> Result<SearchKey, ParseError> {
    c.sp()?;
    let mut entry = None;
    if c.peek() == Some(b'"') {
        let name = c.quoted()?;
        let flag_name = name
            .get(..7)
            .filter(|prefix| prefix.eq_ignore_ascii_case(b"/flags/"))
            .map(|_| &name[7..])
            .filter(|flag| !flag.is_empty())
            .ok_or(ParseError::Invalid("MODSEQ entry name"))?;
        c.sp()?;
        let kind = c.keyword()?;
        let kind = match kind.upper() {
            b"PRIV" => ModSeqEntryKind::Private,
            b"SHARED" => ModSeqEntryKind::Shared,
            b"ALL" => ModSeqEntryKind::All,
            _ => return Err(ParseError::unknown("MODSEQ entry type", kind.raw())),
        };
        c.sp()?;
        entry = Some(ModSeqEntry {
            flag: Flag::from_wire(&ascii_or_err(flag_name)?),
            kind,
        });
    }
    let modseq = c.number64()?;
    Ok(SearchKey::ModSeq { entry, modseq })
}

fn ascii_or_err(bytes: &[u8]) -> Result<String, ParseError> {
    if bytes
        .iter()
        .all(|&b| crate::lexer::is_atom_char(b) || b == b'\\')
    {
        Ok(ascii_string(bytes))
    } else {
        Err(ParseError::Invalid("MODSEQ entry name"))
    }
}

pub(super) fn parse_sort(c: &mut Cursor<'_>, uid: bool) -> Result<SortCommand, ParseError> {
    c.sp()?;
    let return_options = parse_return_options(c)?;
    let criteria = paren_list(c, "sort criteria", false, |c| {
        let reverse = c.eat_keyword(b"REVERSE");
        if reverse {
            c.count_token()?;
            c.sp()?;
        }
        let name = c.keyword()?;
        let key = match name.upper() {
            b"ARRIVAL" => SortKey::Arrival,
            b"CC" => SortKey::Cc,
            b"DATE" => SortKey::Date,
            b"FROM" => SortKey::From,
            b"SIZE" => SortKey::Size,
            b"SUBJECT" => SortKey::Subject,
            b"TO" => SortKey::To,
            b"DISPLAYFROM" => SortKey::DisplayFrom,
            b"DISPLAYTO" => SortKey::DisplayTo,
            _ => return Err(ParseError::unknown("sort key", name.raw())),
        };
        Ok(SortCriterion { reverse, key })
    })?;
    c.sp()?;
    let charset = parse_charset(c)?;
    c.sp()?;
    let search = parse_key_list(c)?;
    Ok(SortCommand {
        uid,
        return_options,
        criteria,
        charset,
        search,
    })
}

pub(super) fn parse_thread(c: &mut Cursor<'_>, uid: bool) -> Result<ThreadCommand, ParseError> {
    c.sp()?;
    let name = c.atom_string()?.to_ascii_uppercase();
    let algorithm = match name.as_str() {
        "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
        "REFERENCES" => ThreadAlgorithm::References,
        _ => ThreadAlgorithm::Other(name),
    };
    c.sp()?;
    let charset = parse_charset(c)?;
    c.sp()?;
    let search = parse_key_list(c)?;
    Ok(ThreadCommand {
        uid,
        algorithm,
        charset,
        search,
    })
}
