//! SELECT/EXAMINE with CONDSTORE and QRESYNC parameters (RFC 7162 §3.2.5).

use std::num::{NonZeroU32, NonZeroU64};

use crate::command::{Mailbox, QresyncParams, SelectParams};
use crate::error::ParseError;
use crate::lexer::Cursor;
use crate::sequence::{SequenceSet, parse_sequence_set};

use super::{paren_list, sp_mailbox};

pub(super) fn parse_select(c: &mut Cursor<'_>) -> Result<(Mailbox, SelectParams), ParseError> {
    let mailbox = sp_mailbox(c)?;
    let mut params = SelectParams::default();
    if c.eat_sp() {
        let mut seen_condstore = false;
        let mut seen_qresync = false;
        paren_list(c, "select parameters", false, |c| {
            let name = c.keyword()?;
            match name.upper() {
                b"CONDSTORE" if !seen_condstore => {
                    seen_condstore = true;
                    params.condstore = true;
                }
                b"QRESYNC" if !seen_qresync => {
                    seen_qresync = true;
                    c.sp()?;
                    params.qresync = Some(parse_qresync(c)?);
                }
                b"CONDSTORE" | b"QRESYNC" => {
                    return Err(ParseError::Invalid("repeated select parameter"));
                }
                _ => return Err(ParseError::unknown("select parameter", name.raw())),
            }
            Ok(())
        })?;
    }
    Ok((mailbox, params))
}

fn parse_qresync(c: &mut Cursor<'_>) -> Result<QresyncParams, ParseError> {
    c.expect(b'(', "QRESYNC parameters")?;
    c.enter()?;
    let uid_validity = NonZeroU32::new(c.nz_number()?).ok_or(ParseError::NumberOutOfRange)?;
    c.sp()?;
    let mod_seq = NonZeroU64::new(c.nz_number64()?).ok_or(ParseError::NumberOutOfRange)?;
    let mut known_uids = None;
    let mut seq_match = None;
    if c.eat_sp() {
        if c.peek() == Some(b'(') {
            seq_match = Some(parse_seq_match(c)?);
        } else {
            known_uids = Some(known_set(c)?);
            if c.eat_sp() {
                seq_match = Some(parse_seq_match(c)?);
            }
        }
    }
    c.expect(b')', "')' closing QRESYNC parameters")?;
    c.leave();
    Ok(QresyncParams {
        uid_validity,
        mod_seq,
        known_uids,
        seq_match,
    })
}

fn parse_seq_match(c: &mut Cursor<'_>) -> Result<(SequenceSet, SequenceSet), ParseError> {
    c.expect(b'(', "sequence match data")?;
    c.enter()?;
    let seqs = known_set(c)?;
    c.sp()?;
    let uids = known_set(c)?;
    c.expect(b')', "')' closing sequence match data")?;
    c.leave();
    Ok((seqs, uids))
}

/// A set the client claims to know: no `*` and no `$`.
fn known_set(c: &mut Cursor<'_>) -> Result<SequenceSet, ParseError> {
    let set = parse_sequence_set(c)?;
    if set == SequenceSet::Saved || set.uses_largest() {
        return Err(ParseError::InvalidSequenceSet);
    }
    Ok(set)
}
