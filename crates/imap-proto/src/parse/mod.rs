//! Command parsers: [`parse_command`] reads one complete command; one
//! sub-module per family of commands.

mod append;
mod auth;
mod fetch;
mod list;
mod search;
mod select;
mod store;

pub use auth::{
    AUTH_LOGIN_PASSWORD_CHALLENGE, AUTH_LOGIN_USERNAME_CHALLENGE, AuthenticateResponse,
    PlainCredentials, decode_sasl_plain, parse_authenticate_response, parse_idle_done,
};

pub(crate) use append::{LiteralRole, append_literal_role};

use crate::command::{Command, CommandBody, EnableCapability, Mailbox, QuotaLimit, Tag};
use crate::error::{CommandError, ParseError};
use crate::lexer::{Cursor, ascii_string, is_list_char, is_tag_char, utf8_string};
use crate::limits::ReceiverLimits;
use crate::sequence::parse_sequence_set;

/// Parses one complete command: `tag SP name [args] CRLF`, literals inline
/// as `{N}\r\n<N bytes>`, nothing after the final CRLF. Sessions use
/// [`crate::Receiver`], which frames the input and calls this; it is public
/// for tests, tools and fuzzing.
pub fn parse_command(input: &[u8], limits: &ReceiverLimits) -> Result<Command, CommandError> {
    parse_framed(input, &[], limits)
}

/// Parses a framed command whose literals at the `streamed` offsets had
/// their data handed to the session.
pub(crate) fn parse_framed(
    input: &[u8],
    streamed: &[usize],
    limits: &ReceiverLimits,
) -> Result<Command, CommandError> {
    let mut c = Cursor::new(input, streamed, limits);
    let tag = parse_tag(&mut c, limits).map_err(|error| CommandError { tag: None, error })?;
    let body = parse_body(&mut c).map_err(|error| CommandError {
        tag: Some(tag.clone()),
        error,
    })?;
    Ok(Command { tag, body })
}

/// Checks the start of a command (tag and a known command name) before the
/// session is asked to accept a literal for it.
pub(crate) fn check_command_start(input: &[u8], limits: &ReceiverLimits) -> Result<(), ParseError> {
    let mut c = Cursor::new(input, &[], limits);
    parse_tag(&mut c, limits)?;
    let name = command_name(&mut c)?;
    let upper = name.upper();
    let known = KNOWN_COMMANDS.contains(&upper);
    if upper == b"UID" {
        c.sp()?;
        let sub = c.keyword()?;
        if !UID_COMMANDS.contains(&sub.upper()) {
            return Err(ParseError::unknown_command(sub.raw()));
        }
    } else if !known {
        return Err(ParseError::unknown_command(name.raw()));
    }
    Ok(())
}

const KNOWN_COMMANDS: &[&[u8]] = &[
    b"CAPABILITY",
    b"NOOP",
    b"LOGOUT",
    b"STARTTLS",
    b"AUTHENTICATE",
    b"LOGIN",
    b"ID",
    b"ENABLE",
    b"SELECT",
    b"EXAMINE",
    b"CREATE",
    b"DELETE",
    b"RENAME",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"LIST",
    b"LSUB",
    b"NAMESPACE",
    b"STATUS",
    b"APPEND",
    b"IDLE",
    b"GETQUOTA",
    b"GETQUOTAROOT",
    b"SETQUOTA",
    b"COMPRESS",
    b"CHECK",
    b"CLOSE",
    b"UNSELECT",
    b"EXPUNGE",
    b"SEARCH",
    b"FETCH",
    b"STORE",
    b"COPY",
    b"MOVE",
    b"SORT",
    b"THREAD",
    b"UID",
];

const UID_COMMANDS: &[&[u8]] = &[
    b"FETCH", b"SEARCH", b"STORE", b"COPY", b"MOVE", b"EXPUNGE", b"SORT", b"THREAD",
];

/// Reads the tag and the SP after it.
pub(crate) fn parse_tag(c: &mut Cursor<'_>, limits: &ReceiverLimits) -> Result<Tag, ParseError> {
    let raw = c.take_while(is_tag_char);
    if raw.is_empty() {
        return Err(ParseError::InvalidTag);
    }
    if raw.len() > limits.max_tag_length {
        return Err(ParseError::TagTooLong {
            max: limits.max_tag_length,
        });
    }
    // `raw` holds only tag characters (checked by `take_while`).
    let tag = Tag::from_checked(ascii_string(raw));
    match c.peek() {
        Some(b' ') => {
            c.sp()?;
            Ok(tag)
        }
        None | Some(b'\r') => Err(ParseError::MissingCommand),
        Some(_) => Err(ParseError::InvalidTag),
    }
}

fn command_name<'a>(c: &mut Cursor<'a>) -> Result<crate::lexer::Keyword<'a>, ParseError> {
    c.keyword().map_err(|_| ParseError::MissingCommand)
}

fn parse_body(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    let name = command_name(c)?;
    let body = match name.upper() {
        b"CAPABILITY" => CommandBody::Capability,
        b"NOOP" => CommandBody::Noop,
        b"LOGOUT" => CommandBody::Logout,
        b"STARTTLS" => CommandBody::StartTls,
        b"NAMESPACE" => CommandBody::Namespace,
        b"IDLE" => CommandBody::Idle,
        b"CHECK" => CommandBody::Check,
        b"CLOSE" => CommandBody::Close,
        b"UNSELECT" => CommandBody::Unselect,
        b"EXPUNGE" => CommandBody::Expunge,
        b"AUTHENTICATE" => auth::parse_authenticate(c)?,
        b"LOGIN" => {
            c.sp()?;
            let username = c.astring()?.into_owned();
            c.sp()?;
            let password = c.astring()?.into_owned();
            CommandBody::Login { username, password }
        }
        b"ID" => parse_id(c)?,
        b"ENABLE" => parse_enable(c)?,
        b"SELECT" => {
            let (mailbox, params) = select::parse_select(c)?;
            CommandBody::Select { mailbox, params }
        }
        b"EXAMINE" => {
            let (mailbox, params) = select::parse_select(c)?;
            CommandBody::Examine { mailbox, params }
        }
        b"CREATE" => list::parse_create(c)?,
        b"DELETE" => CommandBody::Delete {
            mailbox: sp_mailbox(c)?,
        },
        b"RENAME" => {
            let from = sp_mailbox(c)?;
            let to = sp_mailbox(c)?;
            CommandBody::Rename { from, to }
        }
        b"SUBSCRIBE" => CommandBody::Subscribe {
            mailbox: sp_mailbox(c)?,
        },
        b"UNSUBSCRIBE" => CommandBody::Unsubscribe {
            mailbox: sp_mailbox(c)?,
        },
        b"LIST" => list::parse_list(c)?,
        b"LSUB" => {
            c.sp()?;
            let reference = mailbox_text(c)?;
            c.sp()?;
            let pattern = list_mailbox(c)?;
            CommandBody::Lsub { reference, pattern }
        }
        b"STATUS" => list::parse_status(c)?,
        b"APPEND" => CommandBody::Append(append::parse_append(c)?),
        b"GETQUOTA" => {
            c.sp()?;
            CommandBody::GetQuota {
                root: c.astring_utf8()?,
            }
        }
        b"GETQUOTAROOT" => CommandBody::GetQuotaRoot {
            mailbox: sp_mailbox(c)?,
        },
        b"SETQUOTA" => parse_setquota(c)?,
        b"COMPRESS" => {
            c.sp()?;
            CommandBody::Compress {
                algorithm: c.atom_string()?.to_ascii_uppercase(),
            }
        }
        b"SEARCH" => CommandBody::Search(search::parse_search(c, false)?),
        b"FETCH" => CommandBody::Fetch(fetch::parse_fetch(c, false)?),
        b"STORE" => CommandBody::Store(store::parse_store(c, false)?),
        b"COPY" => {
            let (set, mailbox) = parse_set_and_mailbox(c)?;
            CommandBody::Copy {
                uid: false,
                set,
                mailbox,
            }
        }
        b"MOVE" => {
            let (set, mailbox) = parse_set_and_mailbox(c)?;
            CommandBody::Move {
                uid: false,
                set,
                mailbox,
            }
        }
        b"SORT" => CommandBody::Sort(search::parse_sort(c, false)?),
        b"THREAD" => CommandBody::Thread(search::parse_thread(c, false)?),
        b"UID" => parse_uid(c)?,
        _ => return Err(ParseError::unknown_command(name.raw())),
    };
    c.end()?;
    Ok(body)
}

fn parse_uid(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let name = c
        .keyword()
        .map_err(|_| ParseError::Expected("command after UID"))?;
    Ok(match name.upper() {
        b"FETCH" => CommandBody::Fetch(fetch::parse_fetch(c, true)?),
        b"SEARCH" => CommandBody::Search(search::parse_search(c, true)?),
        b"STORE" => CommandBody::Store(store::parse_store(c, true)?),
        b"COPY" => {
            let (set, mailbox) = parse_set_and_mailbox(c)?;
            CommandBody::Copy {
                uid: true,
                set,
                mailbox,
            }
        }
        b"MOVE" => {
            let (set, mailbox) = parse_set_and_mailbox(c)?;
            CommandBody::Move {
                uid: true,
                set,
                mailbox,
            }
        }
        b"EXPUNGE" => {
            c.sp()?;
            CommandBody::UidExpunge {
                uids: parse_sequence_set(c)?,
            }
        }
        b"SORT" => CommandBody::Sort(search::parse_sort(c, true)?),
        b"THREAD" => CommandBody::Thread(search::parse_thread(c, true)?),
        _ => return Err(ParseError::unknown_command(name.raw())),
    })
}

fn parse_set_and_mailbox(
    c: &mut Cursor<'_>,
) -> Result<(crate::sequence::SequenceSet, Mailbox), ParseError> {
    c.sp()?;
    let set = parse_sequence_set(c)?;
    let mailbox = sp_mailbox(c)?;
    Ok((set, mailbox))
}

/// `mailbox`: an astring that must be UTF-8; INBOX normalised.
pub(crate) fn mailbox(c: &mut Cursor<'_>) -> Result<Mailbox, ParseError> {
    Ok(Mailbox::new(mailbox_text(c)?))
}

/// SP then `mailbox`.
pub(crate) fn sp_mailbox(c: &mut Cursor<'_>) -> Result<Mailbox, ParseError> {
    c.sp()?;
    mailbox(c)
}

/// A mailbox-syntax argument kept as text (LIST reference).
pub(crate) fn mailbox_text(c: &mut Cursor<'_>) -> Result<String, ParseError> {
    utf8_string(c.astring()?)
}

/// `list-mailbox`: `1*list-char` or a string.
pub(crate) fn list_mailbox(c: &mut Cursor<'_>) -> Result<String, ParseError> {
    if c.at_string() {
        return utf8_string(c.string()?);
    }
    let raw = c.take_while(is_list_char);
    if raw.is_empty() {
        return Err(c.expected("mailbox pattern"));
    }
    c.count_token()?;
    Ok(ascii_string(raw))
}

/// `"(" item *(SP item) ")"`, optionally allowing `()`, at one more level
/// of nesting.
pub(crate) fn paren_list<'a, T>(
    c: &mut Cursor<'a>,
    what: &'static str,
    allow_empty: bool,
    mut item: impl FnMut(&mut Cursor<'a>) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    c.expect(b'(', what)?;
    c.enter()?;
    let mut items = Vec::new();
    if c.eat(b')') {
        c.leave();
        return if allow_empty {
            Ok(items)
        } else {
            Err(ParseError::Expected(what))
        };
    }
    loop {
        items.push(item(c)?);
        if c.eat(b')') {
            break;
        }
        c.sp()?;
    }
    c.leave();
    Ok(items)
}

fn parse_id(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    c.sp()?;
    if c.eat_keyword(b"NIL") {
        return Ok(CommandBody::Id { parameters: None });
    }
    let mut fields = Vec::new();
    c.expect(b'(', "ID parameter list or NIL")?;
    if !c.eat(b')') {
        loop {
            let key = utf8_string(c.string()?)?;
            c.sp()?;
            let value = c.nstring()?.map(utf8_string).transpose()?;
            fields.push((key, value));
            if c.eat(b')') {
                break;
            }
            c.sp()?;
        }
    }
    Ok(CommandBody::Id {
        parameters: Some(fields),
    })
}

fn parse_enable(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    let mut capabilities = Vec::new();
    while c.eat_sp() {
        capabilities.push(EnableCapability::from_name(&c.atom_string()?));
    }
    if capabilities.is_empty() {
        return Err(ParseError::Expected("capability to enable"));
    }
    Ok(CommandBody::Enable { capabilities })
}

fn parse_setquota(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let root = c.astring_utf8()?;
    c.sp()?;
    let limits = paren_list(c, "quota resource list", true, |c| {
        let resource = c.atom_string()?.to_ascii_uppercase();
        c.sp()?;
        let limit = c.number64()?;
        Ok(QuotaLimit { resource, limit })
    })?;
    Ok(CommandBody::SetQuota { root, limits })
}

#[cfg(test)]
mod tests;
