//! APPEND (RFC 9051 §6.3.12, MULTIAPPEND RFC 3502, literal8 RFC 3516, UTF8
//! RFC 6855), and telling the receiver which literal of an APPEND carries a
//! message so it can be streamed.

use crate::command::{AppendCommand, AppendContent, AppendForm, AppendMessage, Mailbox};
use crate::datetime::{ImapDateTime, parse_date_time};
use crate::error::ParseError;
use crate::flag::{Flag, parse_flag_list};
use crate::lexer::{Cursor, StringArg};
use crate::limits::ReceiverLimits;

use super::{mailbox, parse_tag, sp_mailbox};

pub(super) fn parse_append(c: &mut Cursor<'_>) -> Result<AppendCommand, ParseError> {
    let mailbox = sp_mailbox(c)?;
    let mut messages = Vec::new();
    while c.eat_sp() {
        messages.push(parse_message(c)?);
    }
    if messages.is_empty() {
        return Err(c.expected("message literal"));
    }
    Ok(AppendCommand { mailbox, messages })
}

fn parse_message(c: &mut Cursor<'_>) -> Result<AppendMessage, ParseError> {
    let mut flags = Vec::new();
    if c.peek() == Some(b'(') {
        flags = parse_flag_list(c)?;
        c.sp()?;
    }
    let mut internal_date = None;
    if c.peek() == Some(b'"') {
        internal_date = Some(parse_date_time(c)?);
        c.sp()?;
    }
    let utf8 = c.eat_keyword(b"UTF8");
    if utf8 {
        c.sp()?;
        c.expect(b'(', "'(' before the UTF8 message literal")?;
    }
    let binary = c.peek() == Some(b'~');
    let content = match c.peek() {
        Some(b'{' | b'~') => match c.message_literal()? {
            StringArg::Bytes(bytes) => AppendContent::Inline(bytes.into_owned()),
            StringArg::Streamed { size } => AppendContent::Streamed { size },
        },
        _ => return Err(c.expected("message literal")),
    };
    if utf8 {
        c.expect(b')', "')' after the UTF8 message literal")?;
    }
    let form = match (utf8, binary) {
        (true, _) => AppendForm::Utf8,
        (false, true) => AppendForm::Binary,
        (false, false) => AppendForm::Literal,
    };
    Ok(AppendMessage {
        flags,
        internal_date,
        form,
        content,
    })
}

/// What a literal announced inside an APPEND is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LiteralRole {
    /// A command argument (the mailbox name).
    Argument,
    /// The data of message number `index` (from 0) of the APPEND.
    Message {
        /// Destination mailbox.
        mailbox: Mailbox,
        /// Which message of a MULTIAPPEND.
        index: usize,
        /// The message's flags (written before its literal).
        flags: Vec<Flag>,
        /// The message's internal date, if given.
        internal_date: Option<ImapDateTime>,
    },
}

/// Classifies the literal announced at the end of `prefix` (the APPEND
/// command up to, not including, its `{` or `~{`), checking the syntax
/// before it.
pub(crate) fn append_literal_role(
    prefix: &[u8],
    streamed: &[usize],
    limits: &ReceiverLimits,
) -> Result<LiteralRole, ParseError> {
    let mut c = Cursor::new(prefix, streamed, limits);
    parse_tag(&mut c, limits)?;
    c.keyword()?;
    c.sp()?;
    if c.at_end() {
        return Ok(LiteralRole::Argument);
    }
    let mailbox = mailbox(&mut c)?;
    let mut index = 0;
    loop {
        let message = |flags, internal_date| LiteralRole::Message {
            mailbox: mailbox.clone(),
            index,
            flags,
            internal_date,
        };
        c.sp()?;
        if c.at_end() {
            return Ok(message(Vec::new(), None));
        }
        let mut flags = Vec::new();
        if c.peek() == Some(b'(') {
            flags = parse_flag_list(&mut c)?;
            c.sp()?;
            if c.at_end() {
                return Ok(message(flags, None));
            }
        }
        let mut internal_date = None;
        if c.peek() == Some(b'"') {
            internal_date = Some(parse_date_time(&mut c)?);
            c.sp()?;
            if c.at_end() {
                return Ok(message(flags, internal_date));
            }
        }
        let utf8 = c.eat_keyword(b"UTF8");
        if utf8 {
            c.sp()?;
            c.expect(b'(', "'(' before the UTF8 message literal")?;
            if c.at_end() {
                return Ok(message(flags, internal_date));
            }
        }
        c.message_literal()?;
        if utf8 {
            c.expect(b')', "')' after the UTF8 message literal")?;
        }
        index += 1;
    }
}
