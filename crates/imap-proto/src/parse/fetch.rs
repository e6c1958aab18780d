//! FETCH items, sections and modifiers (RFC 9051 §6.4.5, RFC 3516, RFC 7162).

use std::num::NonZeroU64;

use crate::command::{FetchCommand, FetchItem, FetchItems, Partial, Section, SectionText};
use crate::error::ParseError;
use crate::lexer::{Cursor, Keyword, is_atom_char, utf8_string};
use crate::sequence::parse_sequence_set;

use super::paren_list;

pub(super) fn parse_fetch(c: &mut Cursor<'_>, uid: bool) -> Result<FetchCommand, ParseError> {
    c.sp()?;
    let set = parse_sequence_set(c)?;
    c.sp()?;
    let items = if c.peek() == Some(b'(') {
        FetchItems::List(paren_list(c, "fetch items", false, parse_fetch_item)?)
    } else if c.eat_keyword(b"ALL") {
        FetchItems::All
    } else if c.eat_keyword(b"FAST") {
        FetchItems::Fast
    } else if c.eat_keyword(b"FULL") {
        FetchItems::Full
    } else {
        FetchItems::List(vec![parse_fetch_item(c)?])
    };
    let mut changed_since = None;
    let mut vanished = false;
    if c.eat_sp() {
        paren_list(c, "fetch modifiers", false, |c| {
            let name = c.keyword()?;
            match name.upper() {
                b"CHANGEDSINCE" if changed_since.is_none() => {
                    c.sp()?;
                    changed_since = Some(c.nz_number64()?);
                }
                b"VANISHED" if !vanished => vanished = true,
                _ => return Err(ParseError::unknown("fetch modifier", name.raw())),
            }
            Ok(())
        })?;
    }
    // RFC 7162 §3.2.6: VANISHED only in UID FETCH together with CHANGEDSINCE.
    if vanished && (!uid || changed_since.is_none()) {
        return Err(ParseError::Invalid(
            "VANISHED without UID FETCH and CHANGEDSINCE",
        ));
    }
    Ok(FetchCommand {
        uid,
        set,
        items,
        changed_since,
        vanished,
    })
}

/// Reads a fetch item name, stopping before `[` and `<`.
fn item_name<'a>(c: &mut Cursor<'a>) -> Result<Keyword<'a>, ParseError> {
    let raw = c.take_while(|b| is_atom_char(b) && b != b'[' && b != b'<');
    if raw.is_empty() {
        return Err(c.expected("fetch item"));
    }
    c.count_token()?;
    Ok(Keyword::new(raw))
}

fn parse_fetch_item(c: &mut Cursor<'_>) -> Result<FetchItem, ParseError> {
    let name = item_name(c)?;
    let item = match name.upper() {
        b"ENVELOPE" => FetchItem::Envelope,
        b"FLAGS" => FetchItem::Flags,
        b"INTERNALDATE" => FetchItem::InternalDate,
        b"RFC822" => FetchItem::Rfc822,
        b"RFC822.HEADER" => FetchItem::Rfc822Header,
        b"RFC822.SIZE" => FetchItem::Rfc822Size,
        b"RFC822.TEXT" => FetchItem::Rfc822Text,
        b"BODYSTRUCTURE" => FetchItem::BodyStructure,
        b"UID" => FetchItem::Uid,
        b"MODSEQ" => FetchItem::ModSeq,
        b"BODY" if c.peek() != Some(b'[') => FetchItem::Body,
        b"BODY" | b"BODY.PEEK" => {
            let section = parse_section(c)?;
            let partial = parse_partial(c)?;
            FetchItem::BodySection {
                peek: name.upper() == b"BODY.PEEK",
                section,
                partial,
            }
        }
        b"BINARY" | b"BINARY.PEEK" => {
            let part = parse_section_binary(c)?;
            let partial = parse_partial(c)?;
            FetchItem::Binary {
                peek: name.upper() == b"BINARY.PEEK",
                part,
                partial,
            }
        }
        b"BINARY.SIZE" => FetchItem::BinarySize {
            part: parse_section_binary(c)?,
        },
        _ => return Err(ParseError::unknown("fetch item", name.raw())),
    };
    Ok(item)
}

/// `section`: `"[" [section-spec] "]"`.
pub(crate) fn parse_section(c: &mut Cursor<'_>) -> Result<Section, ParseError> {
    c.expect(b'[', "'[' starting a section")?;
    let mut section = Section::default();
    if c.eat(b']') {
        return Ok(section);
    }
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        loop {
            section.part.push(
                c.nz_number()
                    .map_err(|_| ParseError::Invalid("section part number"))?,
            );
            if c.peek() == Some(b'.') && c.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
                c.eat(b'.');
                continue;
            }
            break;
        }
        if c.eat(b'.') {
            section.text = Some(parse_section_text(c, true)?);
        }
    } else {
        section.text = Some(parse_section_text(c, false)?);
    }
    c.expect(b']', "']' closing the section")?;
    Ok(section)
}

fn parse_section_text(c: &mut Cursor<'_>, after_part: bool) -> Result<SectionText, ParseError> {
    let raw = c.take_while(|b| b.is_ascii_alphabetic() || b == b'.');
    c.count_token()?;
    let name = Keyword::new(raw);
    Ok(match name.upper() {
        b"HEADER" => SectionText::Header,
        b"TEXT" => SectionText::Text,
        b"MIME" if after_part => SectionText::Mime,
        b"HEADER.FIELDS" => SectionText::HeaderFields(parse_header_list(c)?),
        b"HEADER.FIELDS.NOT" => SectionText::HeaderFieldsNot(parse_header_list(c)?),
        _ => return Err(ParseError::unknown("section", raw)),
    })
}

fn parse_header_list(c: &mut Cursor<'_>) -> Result<Vec<String>, ParseError> {
    c.sp()?;
    paren_list(c, "header field list", false, |c| utf8_string(c.astring()?))
}

/// `section-binary`: `"[" [nz-number *("." nz-number)] "]"`.
fn parse_section_binary(c: &mut Cursor<'_>) -> Result<Vec<u32>, ParseError> {
    c.expect(b'[', "'[' starting a section")?;
    let mut part = Vec::new();
    if !c.eat(b']') {
        loop {
            part.push(
                c.nz_number()
                    .map_err(|_| ParseError::Invalid("section part number"))?,
            );
            if !c.eat(b'.') {
                break;
            }
        }
        c.expect(b']', "']' closing the section")?;
    }
    Ok(part)
}

/// `partial`: `"<" number64 "." nz-number64 ">"`.
fn parse_partial(c: &mut Cursor<'_>) -> Result<Option<Partial>, ParseError> {
    if !c.eat(b'<') {
        return Ok(None);
    }
    let offset = c.number64()?;
    c.expect(b'.', "'.' in partial range")?;
    let length = NonZeroU64::new(c.nz_number64()?).ok_or(ParseError::NumberOutOfRange)?;
    c.expect(b'>', "'>' closing partial range")?;
    Ok(Some(Partial { offset, length }))
}
