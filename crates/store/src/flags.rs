//! IMAP flags and keywords, and how they appear as MAPI properties. The
//! flags column of a message is the one source of truth: the mapped MAPI
//! properties are computed from it on read, and writing them changes it.
//!
//! | IMAP | MAPI |
//! |---|---|
//! | `\Seen` | MSGFLAG_READ in PR_MESSAGE_FLAGS |
//! | `\Draft` | MSGFLAG_UNSENT in PR_MESSAGE_FLAGS |
//! | `\Flagged` | PR_FLAG_STATUS = 2 (followupFlagged) |
//! | `\Answered` | PR_LAST_VERB_EXECUTED 102/103, PR_ICON_INDEX 0x105 |
//! | `$Forwarded` | PR_LAST_VERB_EXECUTED 104, PR_ICON_INDEX 0x106 |
//! | keywords | [`crate::tags::PR_GROXIDE_KEYWORDS`] (PT_MV_UNICODE) |
//! | `\Deleted` | — (IMAP only) |

use crate::error::StoreError;
use crate::props::{Prop, PropTag, PropValue};
use crate::tags::*;

/// Longest keyword accepted, in bytes.
pub const MAX_KEYWORD_LEN: usize = 128;
/// Most keywords one message may carry.
pub const MAX_KEYWORDS: usize = 64;

/// The IMAP system flags a message keeps: the flags of the mailbox view
/// contract (one definition; `\Recent` is per session, never stored).
pub use groxide_mailview::Flags as ImapFlags;

/// How a flag change combines with the current flags: the contract's
/// [`groxide_mailview::FlagMode`] (`Add` is `+FLAGS`, `Remove` `-FLAGS`,
/// `Replace` `FLAGS`).
pub use groxide_mailview::FlagMode as FlagOp;

/// Checks and normalises keywords: IMAP atoms without `\`, at most
/// [`MAX_KEYWORD_LEN`] bytes; duplicates (ignoring ASCII case) dropped; sorted.
pub fn normalize_keywords(keywords: &[String]) -> Result<Vec<String>, StoreError> {
    let mut out: Vec<String> = Vec::with_capacity(keywords.len());
    for k in keywords {
        let ok = !k.is_empty()
            && k.len() <= MAX_KEYWORD_LEN
            && k.bytes().all(|b| {
                b.is_ascii_graphic()
                    && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
            });
        if !ok {
            return Err(StoreError::InvalidArgument(format!(
                "keyword {k:?} is not an IMAP atom of at most {MAX_KEYWORD_LEN} bytes"
            )));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(k)) {
            out.push(k.clone());
        }
    }
    if out.len() > MAX_KEYWORDS {
        return Err(StoreError::InvalidArgument(format!(
            "more than {MAX_KEYWORDS} keywords"
        )));
    }
    out.sort_by_key(|k| k.to_ascii_lowercase());
    Ok(out)
}

/// Joins keywords for the database column (space-separated; keywords are atoms).
pub(crate) fn join_keywords(k: &[String]) -> String {
    k.join(" ")
}

/// Splits the database column.
pub(crate) fn split_keywords(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Applies `op` to (flags, keywords).
pub fn apply_flag_op(
    op: FlagOp,
    current: (ImapFlags, &[String]),
    flags: ImapFlags,
    keywords: &[String],
) -> (ImapFlags, Vec<String>) {
    match op {
        FlagOp::Replace => (flags, keywords.to_vec()),
        FlagOp::Add => {
            let mut k = current.1.to_vec();
            for n in keywords {
                if !k.iter().any(|o| o.eq_ignore_ascii_case(n)) {
                    k.push(n.clone());
                }
            }
            k.sort_by_key(|x| x.to_ascii_lowercase());
            (current.0.union(flags), k)
        }
        FlagOp::Remove => {
            let k = current
                .1
                .iter()
                .filter(|o| !keywords.iter().any(|n| n.eq_ignore_ascii_case(o)))
                .cloned()
                .collect();
            (current.0.without(flags), k)
        }
    }
}

/// Whether `tag` is computed from the flags column rather than stored as is.
pub fn is_flag_mapped(tag: PropTag) -> bool {
    matches!(
        tag,
        PR_MESSAGE_FLAGS
            | PR_FLAG_STATUS
            | PR_LAST_VERB_EXECUTED
            | PR_ICON_INDEX
            | PR_GROXIDE_KEYWORDS
    )
}

/// The mapped properties of a message with these flags. `stored` are the
/// message's stored values of mapped tags (bits of PR_MESSAGE_FLAGS that
/// IMAP does not know, a completed flag status, the exact last verb).
pub fn mapped_props(flags: ImapFlags, keywords: &[String], stored: &[Prop]) -> Vec<Prop> {
    let stored_long = |tag| {
        stored
            .iter()
            .find(|(t, _)| *t == tag)
            .and_then(|(_, v)| match v {
                PropValue::Long(x) => Some(*x),
                _ => None,
            })
    };
    let mut out = Vec::with_capacity(5);
    let mut mf = stored_long(PR_MESSAGE_FLAGS).unwrap_or(0) & !(MSGFLAG_READ | MSGFLAG_UNSENT);
    if flags.contains(ImapFlags::SEEN) {
        mf |= MSGFLAG_READ;
    }
    if flags.contains(ImapFlags::DRAFT) {
        mf |= MSGFLAG_UNSENT;
    }
    out.push((PR_MESSAGE_FLAGS, PropValue::Long(mf)));
    if flags.contains(ImapFlags::FLAGGED) {
        out.push((PR_FLAG_STATUS, PropValue::Long(FOLLOWUP_FLAGGED)));
    } else if let Some(s) = stored_long(PR_FLAG_STATUS).filter(|s| *s != FOLLOWUP_FLAGGED) {
        out.push((PR_FLAG_STATUS, PropValue::Long(s)));
    }
    let answered = flags.contains(ImapFlags::ANSWERED);
    let forwarded = flags.contains(ImapFlags::FORWARDED);
    let stored_verb = stored_long(PR_LAST_VERB_EXECUTED);
    let verb = match (answered, forwarded) {
        (false, false) => None,
        (true, false) => Some(match stored_verb {
            Some(v @ (EXCHIVERB_REPLYTOSENDER | EXCHIVERB_REPLYTOALL)) => v,
            _ => EXCHIVERB_REPLYTOSENDER,
        }),
        (false, true) => Some(EXCHIVERB_FORWARD),
        (true, true) => Some(match stored_verb {
            Some(v @ (EXCHIVERB_REPLYTOSENDER | EXCHIVERB_REPLYTOALL | EXCHIVERB_FORWARD)) => v,
            _ => EXCHIVERB_FORWARD,
        }),
    };
    if let Some(v) = verb {
        out.push((PR_LAST_VERB_EXECUTED, PropValue::Long(v)));
    }
    let icon = match verb {
        Some(EXCHIVERB_FORWARD) => ICON_MAIL_FORWARDED,
        Some(_) => ICON_MAIL_REPLIED,
        None if flags.contains(ImapFlags::DRAFT) => ICON_MAIL_UNSENT,
        None if flags.contains(ImapFlags::SEEN) => ICON_MAIL_READ,
        None => ICON_MAIL_UNREAD,
    };
    out.push((PR_ICON_INDEX, PropValue::Long(icon)));
    if !keywords.is_empty() {
        out.push((PR_GROXIDE_KEYWORDS, PropValue::MvUnicode(keywords.to_vec())));
    }
    out
}

/// The effect of setting a mapped property: the new flags and keywords, and
/// what to keep stored for the tag (`None`: nothing).
pub fn set_mapped(
    tag: PropTag,
    value: &PropValue,
    flags: ImapFlags,
    keywords: &[String],
) -> Result<(ImapFlags, Vec<String>, Option<PropValue>), StoreError> {
    let long = || match value {
        PropValue::Long(v) => Ok(*v),
        _ => Err(StoreError::InvalidArgument(format!("{tag} takes PT_LONG"))),
    };
    let k = keywords.to_vec();
    Ok(match tag {
        PR_MESSAGE_FLAGS => {
            let v = long()?;
            let f = flags
                .set(ImapFlags::SEEN, v & MSGFLAG_READ != 0)
                .set(ImapFlags::DRAFT, v & MSGFLAG_UNSENT != 0);
            let rest = v & !(MSGFLAG_READ | MSGFLAG_UNSENT);
            (f, k, (rest != 0).then_some(PropValue::Long(rest)))
        }
        PR_FLAG_STATUS => {
            let v = long()?;
            let f = flags.set(ImapFlags::FLAGGED, v == FOLLOWUP_FLAGGED);
            (
                f,
                k,
                (v != FOLLOWUP_FLAGGED && v != 0).then_some(PropValue::Long(v)),
            )
        }
        PR_LAST_VERB_EXECUTED => {
            let v = long()?;
            let f = match v {
                EXCHIVERB_REPLYTOSENDER | EXCHIVERB_REPLYTOALL => flags.union(ImapFlags::ANSWERED),
                EXCHIVERB_FORWARD => flags.union(ImapFlags::FORWARDED),
                _ => flags,
            };
            (f, k, Some(PropValue::Long(v)))
        }
        PR_ICON_INDEX => {
            let v = long()?;
            let f = match v {
                ICON_MAIL_REPLIED => flags.union(ImapFlags::ANSWERED),
                ICON_MAIL_FORWARDED => flags.union(ImapFlags::FORWARDED),
                _ => flags,
            };
            (f, k, None)
        }
        PR_GROXIDE_KEYWORDS => match value {
            PropValue::MvUnicode(v) => (flags, normalize_keywords(v)?, None),
            _ => {
                return Err(StoreError::InvalidArgument(format!(
                    "{tag} takes PT_MV_UNICODE"
                )));
            }
        },
        _ => (flags, k, Some(value.clone())),
    })
}

/// The effect of removing a mapped property.
pub fn remove_mapped(
    tag: PropTag,
    flags: ImapFlags,
    keywords: &[String],
) -> (ImapFlags, Vec<String>) {
    match tag {
        PR_MESSAGE_FLAGS => (
            flags.without(ImapFlags::SEEN.union(ImapFlags::DRAFT)),
            keywords.to_vec(),
        ),
        PR_FLAG_STATUS => (flags.without(ImapFlags::FLAGGED), keywords.to_vec()),
        PR_LAST_VERB_EXECUTED | PR_ICON_INDEX => (
            flags.without(ImapFlags::ANSWERED.union(ImapFlags::FORWARDED)),
            keywords.to_vec(),
        ),
        PR_GROXIDE_KEYWORDS => (flags, Vec::new()),
        _ => (flags, keywords.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(props: &[Prop], tag: PropTag) -> Option<i32> {
        props
            .iter()
            .find(|(t, _)| *t == tag)
            .and_then(|(_, v)| match v {
                PropValue::Long(x) => Some(*x),
                _ => None,
            })
    }

    /// (IMAP flags, expected PR_MESSAGE_FLAGS, PR_FLAG_STATUS, PR_LAST_VERB_EXECUTED, PR_ICON_INDEX)
    fn check(flags: ImapFlags, mf: i32, status: Option<i32>, verb: Option<i32>, icon: i32) {
        let p = mapped_props(flags, &[], &[]);
        assert_eq!(long(&p, PR_MESSAGE_FLAGS), Some(mf), "{flags:?}");
        assert_eq!(long(&p, PR_FLAG_STATUS), status, "{flags:?}");
        assert_eq!(long(&p, PR_LAST_VERB_EXECUTED), verb, "{flags:?}");
        assert_eq!(long(&p, PR_ICON_INDEX), Some(icon), "{flags:?}");
    }

    #[test]
    fn imap_flags_show_as_their_mapi_properties() {
        check(ImapFlags::NONE, 0, None, None, ICON_MAIL_UNREAD);
        check(ImapFlags::SEEN, MSGFLAG_READ, None, None, ICON_MAIL_READ);
        check(
            ImapFlags::DRAFT,
            MSGFLAG_UNSENT,
            None,
            None,
            ICON_MAIL_UNSENT,
        );
        check(ImapFlags::FLAGGED, 0, Some(2), None, ICON_MAIL_UNREAD);
        check(
            ImapFlags::ANSWERED.union(ImapFlags::SEEN),
            1,
            None,
            Some(102),
            ICON_MAIL_REPLIED,
        );
        check(
            ImapFlags::FORWARDED,
            0,
            None,
            Some(104),
            ICON_MAIL_FORWARDED,
        );
        check(ImapFlags::DELETED, 0, None, None, ICON_MAIL_UNREAD);
    }

    /// (tag, value written, flags before, flags after)
    fn check_set(tag: PropTag, v: i32, before: ImapFlags, after: ImapFlags) {
        let (f, _, _) = set_mapped(tag, &PropValue::Long(v), before, &[]).unwrap();
        assert_eq!(f, after, "{tag} = {v}");
    }

    #[test]
    fn writing_mapi_properties_changes_the_imap_flags() {
        check_set(
            PR_MESSAGE_FLAGS,
            MSGFLAG_READ,
            ImapFlags::NONE,
            ImapFlags::SEEN,
        );
        check_set(
            PR_MESSAGE_FLAGS,
            0,
            ImapFlags::SEEN.union(ImapFlags::FLAGGED),
            ImapFlags::FLAGGED,
        );
        check_set(
            PR_MESSAGE_FLAGS,
            MSGFLAG_UNSENT | MSGFLAG_HASATTACH,
            ImapFlags::NONE,
            ImapFlags::DRAFT,
        );
        check_set(PR_FLAG_STATUS, 2, ImapFlags::NONE, ImapFlags::FLAGGED);
        check_set(PR_FLAG_STATUS, 1, ImapFlags::FLAGGED, ImapFlags::NONE);
        check_set(
            PR_LAST_VERB_EXECUTED,
            103,
            ImapFlags::NONE,
            ImapFlags::ANSWERED,
        );
        check_set(
            PR_LAST_VERB_EXECUTED,
            104,
            ImapFlags::NONE,
            ImapFlags::FORWARDED,
        );
        check_set(
            PR_ICON_INDEX,
            ICON_MAIL_REPLIED,
            ImapFlags::NONE,
            ImapFlags::ANSWERED,
        );
    }

    #[test]
    fn unknown_message_flag_bits_are_kept_next_to_the_imap_ones() {
        let (f, _, stored) = set_mapped(
            PR_MESSAGE_FLAGS,
            &PropValue::Long(MSGFLAG_READ | MSGFLAG_HASATTACH),
            ImapFlags::NONE,
            &[],
        )
        .unwrap();
        let stored = vec![(PR_MESSAGE_FLAGS, stored.unwrap())];
        let p = mapped_props(f, &[], &stored);
        assert_eq!(
            long(&p, PR_MESSAGE_FLAGS),
            Some(MSGFLAG_READ | MSGFLAG_HASATTACH)
        );
    }

    #[test]
    fn keywords_are_atoms_deduplicated_ignoring_case() {
        let k = normalize_keywords(&["work".into(), "Work".into(), "$Label1".into()]).unwrap();
        assert_eq!(k, vec!["$Label1".to_string(), "work".to_string()]);
        assert!(normalize_keywords(&["two words".into()]).is_err());
        assert!(normalize_keywords(&["\\Seen".into()]).is_err());
        assert!(normalize_keywords(&["x".repeat(MAX_KEYWORD_LEN + 1)]).is_err());
    }

    #[test]
    fn flag_ops_add_remove_replace() {
        let cur = (ImapFlags::SEEN, &["a".to_string()][..]);
        let (f, k) = apply_flag_op(FlagOp::Add, cur, ImapFlags::FLAGGED, &["b".into()]);
        assert_eq!(
            (f, k),
            (
                ImapFlags::SEEN.union(ImapFlags::FLAGGED),
                vec!["a".into(), "b".into()]
            )
        );
        let (f, k) = apply_flag_op(FlagOp::Remove, cur, ImapFlags::SEEN, &["A".into()]);
        assert_eq!((f, k), (ImapFlags::NONE, Vec::<String>::new()));
        let (f, k) = apply_flag_op(FlagOp::Replace, cur, ImapFlags::DRAFT, &[]);
        assert_eq!((f, k), (ImapFlags::DRAFT, Vec::<String>::new()));
    }
}
