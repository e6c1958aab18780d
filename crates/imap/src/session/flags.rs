//! Flags between the wire ([`Flag`]) and the store (system bits plus
//! keywords; `$Forwarded` is a bit).

use crate::backend::Flags;
use groxide_imap_proto::{Flag, PermanentFlag};
use std::collections::BTreeSet;

/// The system flags in the order they are written.
const SYSTEM: [(Flags, Flag); 5] = [
    (Flags::SEEN, Flag::Seen),
    (Flags::ANSWERED, Flag::Answered),
    (Flags::FLAGGED, Flag::Flagged),
    (Flags::DELETED, Flag::Deleted),
    (Flags::DRAFT, Flag::Draft),
];

/// The keyword stored as [`Flags::FORWARDED`].
pub const FORWARDED: &str = "$Forwarded";

/// A message's flags as written in FETCH; `recent` adds `\Recent`, which is
/// the session's, not the store's.
pub fn flag_list(bits: Flags, keywords: &[String], recent: bool) -> Vec<Flag> {
    let mut out: Vec<Flag> = SYSTEM
        .iter()
        .filter(|(b, _)| bits.contains(*b))
        .map(|(_, f)| f.clone())
        .collect();
    if recent {
        out.push(Flag::Recent);
    }
    if bits.contains(Flags::FORWARDED) {
        out.push(Flag::Keyword(FORWARDED.to_owned()));
    }
    out.extend(
        keywords
            .iter()
            .filter(|k| !k.eq_ignore_ascii_case(FORWARDED))
            .map(|k| Flag::Keyword(k.clone())),
    );
    out
}

/// The mailbox's `* FLAGS` list: system flags, `$Forwarded`, the keywords in use.
pub fn mailbox_flags(keywords: &BTreeSet<String>) -> Vec<Flag> {
    let mut out: Vec<Flag> = vec![
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
        Flag::Keyword(FORWARDED.to_owned()),
    ];
    out.extend(
        keywords
            .iter()
            .filter(|k| !k.eq_ignore_ascii_case(FORWARDED))
            .map(|k| Flag::Keyword(k.clone())),
    );
    out
}

/// `PERMANENTFLAGS`: the mailbox flags and `\*` (new keywords allowed).
pub fn permanent_flags(keywords: &BTreeSet<String>) -> Vec<PermanentFlag> {
    let mut out: Vec<PermanentFlag> = mailbox_flags(keywords)
        .into_iter()
        .map(PermanentFlag::Flag)
        .collect();
    out.push(PermanentFlag::AnyKeyword);
    out
}

/// A flag a client may not store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot store flag \\{0}")]
pub struct UnknownFlag(pub String);

/// Client flags as system bits and keywords; `\Recent` is ignored (it
/// cannot be stored), unknown `\`-flags are refused.
pub fn from_wire(flags: &[Flag]) -> Result<(Flags, Vec<String>), UnknownFlag> {
    let mut bits = Flags::default();
    let mut keywords: Vec<String> = Vec::new();
    for f in flags {
        match f {
            Flag::Seen => bits = bits.union(Flags::SEEN),
            Flag::Answered => bits = bits.union(Flags::ANSWERED),
            Flag::Flagged => bits = bits.union(Flags::FLAGGED),
            Flag::Deleted => bits = bits.union(Flags::DELETED),
            Flag::Draft => bits = bits.union(Flags::DRAFT),
            Flag::Recent => {}
            Flag::Keyword(k) if k.eq_ignore_ascii_case(FORWARDED) => {
                bits = bits.union(Flags::FORWARDED);
            }
            Flag::Keyword(k) => {
                if !keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    keywords.push(k.clone());
                }
            }
            Flag::Extension(name) => return Err(UnknownFlag(name.clone())),
        }
    }
    Ok((bits, keywords))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_through_store_bits() {
        let wire = vec![
            Flag::Draft,
            Flag::Keyword("$forwarded".into()),
            Flag::Seen,
            Flag::Keyword("Work".into()),
            Flag::Keyword("work".into()),
            Flag::Recent,
        ];
        let (bits, keywords) = from_wire(&wire).unwrap();
        assert_eq!(
            bits,
            Flags::DRAFT.union(Flags::SEEN).union(Flags::FORWARDED)
        );
        assert_eq!(keywords, vec!["Work".to_owned()]);
        assert_eq!(
            flag_list(bits, &keywords, false),
            vec![
                Flag::Seen,
                Flag::Draft,
                Flag::Keyword("$Forwarded".into()),
                Flag::Keyword("Work".into())
            ]
        );
    }

    #[test]
    fn unknown_system_flags_are_refused() {
        assert_eq!(
            from_wire(&[Flag::Extension("Important".into())]),
            Err(UnknownFlag("Important".into()))
        );
    }
}
