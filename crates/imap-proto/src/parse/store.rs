//! STORE with UNCHANGEDSINCE (RFC 9051 §6.4.6, RFC 7162 §3.1.3).

use crate::command::{StoreAction, StoreCommand};
use crate::error::ParseError;
use crate::flag::{parse_flag, parse_flag_list};
use crate::lexer::Cursor;
use crate::sequence::parse_sequence_set;

use super::paren_list;

pub(super) fn parse_store(c: &mut Cursor<'_>, uid: bool) -> Result<StoreCommand, ParseError> {
    c.sp()?;
    let set = parse_sequence_set(c)?;
    c.sp()?;
    let mut unchanged_since = None;
    if c.peek() == Some(b'(') {
        paren_list(c, "store modifiers", false, |c| {
            let name = c.keyword()?;
            if name.upper() != b"UNCHANGEDSINCE" || unchanged_since.is_some() {
                return Err(ParseError::unknown("store modifier", name.raw()));
            }
            c.sp()?;
            unchanged_since = Some(c.number64()?);
            Ok(())
        })?;
        c.sp()?;
    }
    let action = if c.eat(b'+') {
        StoreAction::Add
    } else if c.eat(b'-') {
        StoreAction::Remove
    } else {
        StoreAction::Replace
    };
    let name = c.keyword()?;
    let silent = match name.upper() {
        b"FLAGS" => false,
        b"FLAGS.SILENT" => true,
        _ => return Err(ParseError::unknown("store item", name.raw())),
    };
    c.sp()?;
    let flags = if c.peek() == Some(b'(') {
        parse_flag_list(c)?
    } else {
        let mut flags = vec![parse_flag(c)?];
        while c.eat_sp() {
            flags.push(parse_flag(c)?);
        }
        flags
    };
    Ok(StoreCommand {
        uid,
        set,
        unchanged_since,
        action,
        silent,
        flags,
    })
}
