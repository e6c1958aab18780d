//! LIST (RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154), STATUS and
//! CREATE with USE (RFC 6154 §3).

use crate::attribute::MailboxAttribute;
use crate::command::{CommandBody, ListCommand, ListReturnOption, ListSelectOption, StatusItem};
use crate::error::ParseError;
use crate::lexer::{Cursor, ascii_string};

use super::{list_mailbox, mailbox_text, paren_list, sp_mailbox};

pub(super) fn parse_list(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let mut selection = Vec::new();
    if c.peek() == Some(b'(') {
        selection = paren_list(c, "list selection options", true, |c| {
            let name = c.keyword()?;
            Ok(match name.upper() {
                b"SUBSCRIBED" => ListSelectOption::Subscribed,
                b"REMOTE" => ListSelectOption::Remote,
                b"RECURSIVEMATCH" => ListSelectOption::RecursiveMatch,
                b"SPECIAL-USE" => ListSelectOption::SpecialUse,
                _ => return Err(ParseError::unknown("list selection option", name.raw())),
            })
        })?;
        c.sp()?;
        // RFC 5258 §3: RECURSIVEMATCH needs a selection option it can modify.
        let has_base = selection.iter().any(|o| {
            matches!(
                o,
                ListSelectOption::Subscribed | ListSelectOption::SpecialUse
            )
        });
        if selection.contains(&ListSelectOption::RecursiveMatch) && !has_base {
            return Err(ParseError::Invalid(
                "RECURSIVEMATCH without another selection option",
            ));
        }
    }
    let reference = mailbox_text(c)?;
    c.sp()?;
    let patterns = if c.peek() == Some(b'(') {
        paren_list(c, "mailbox patterns", false, list_mailbox)?
    } else {
        vec![list_mailbox(c)?]
    };
    let mut return_options = Vec::new();
    if c.eat_sp() {
        if !c.eat_keyword(b"RETURN") {
            return Err(ParseError::Expected("RETURN"));
        }
        c.sp()?;
        return_options = paren_list(c, "list return options", true, |c| {
            let name = c.keyword()?;
            Ok(match name.upper() {
                b"SUBSCRIBED" => ListReturnOption::Subscribed,
                b"CHILDREN" => ListReturnOption::Children,
                b"SPECIAL-USE" => ListReturnOption::SpecialUse,
                b"STATUS" => {
                    c.sp()?;
                    ListReturnOption::Status(parse_status_items(c)?)
                }
                _ => return Err(ParseError::unknown("list return option", name.raw())),
            })
        })?;
    }
    Ok(CommandBody::List(ListCommand {
        selection,
        reference,
        patterns,
        return_options,
    }))
}

pub(super) fn parse_status(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    let mailbox = sp_mailbox(c)?;
    c.sp()?;
    let items = parse_status_items(c)?;
    Ok(CommandBody::Status { mailbox, items })
}

fn parse_status_items(c: &mut Cursor<'_>) -> Result<Vec<StatusItem>, ParseError> {
    paren_list(c, "status items", false, |c| {
        let name = c.keyword()?;
        StatusItem::ALL
            .into_iter()
            .find(|item| item.as_str().as_bytes() == name.upper())
            .ok_or_else(|| ParseError::unknown("status item", name.raw()))
    })
}

pub(super) fn parse_create(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    let mailbox = sp_mailbox(c)?;
    let mut special_use = Vec::new();
    if c.eat_sp() {
        let mut seen_use = false;
        paren_list(c, "create parameters", false, |c| {
            let name = c.keyword()?;
            if name.upper() != b"USE" || seen_use {
                return Err(ParseError::unknown("create parameter", name.raw()));
            }
            seen_use = true;
            c.sp()?;
            special_use = paren_list(c, "special-use attributes", true, |c| {
                c.expect(b'\\', "special-use attribute")?;
                Ok(MailboxAttribute::from_name(&ascii_string(c.atom()?)))
            })?;
            Ok(())
        })?;
    }
    Ok(CommandBody::Create {
        mailbox,
        special_use,
    })
}
