//! Message flags: system flags, keywords and `\*` (RFC 9051 §2.3.2).

use crate::error::ParseError;
use crate::lexer::{Cursor, ascii_string};

/// A message flag. System flags match case-insensitively; keywords and
/// extension flags keep the spelling the client used.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Flag {
    /// `\Seen`.
    Seen,
    /// `\Answered`.
    Answered,
    /// `\Flagged`.
    Flagged,
    /// `\Deleted`.
    Deleted,
    /// `\Draft`.
    Draft,
    /// `\Recent` (IMAP4rev1 only; never settable).
    Recent,
    /// A keyword such as `$Forwarded` or `NonJunk`.
    Keyword(String),
    /// Another `\`-flag (`flag-extension`), without the backslash.
    Extension(String),
}

impl Flag {
    /// Builds a flag from its wire form (`\Seen`, `$Junk`).
    pub fn from_wire(text: &str) -> Flag {
        match text.strip_prefix('\\') {
            Some(name) => {
                system_flag(name.as_bytes()).unwrap_or_else(|| Flag::Extension(name.to_owned()))
            }
            None => Flag::Keyword(text.to_owned()),
        }
    }

    /// Appends the wire form.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let fixed: &[u8] = match self {
            Flag::Seen => b"\\Seen",
            Flag::Answered => b"\\Answered",
            Flag::Flagged => b"\\Flagged",
            Flag::Deleted => b"\\Deleted",
            Flag::Draft => b"\\Draft",
            Flag::Recent => b"\\Recent",
            Flag::Keyword(k) => {
                out.extend_from_slice(k.as_bytes());
                return;
            }
            Flag::Extension(e) => {
                out.push(b'\\');
                out.extend_from_slice(e.as_bytes());
                return;
            }
        };
        out.extend_from_slice(fixed);
    }
}

fn system_flag(name: &[u8]) -> Option<Flag> {
    let flags: [(&[u8], Flag); 6] = [
        (b"Seen", Flag::Seen),
        (b"Answered", Flag::Answered),
        (b"Flagged", Flag::Flagged),
        (b"Deleted", Flag::Deleted),
        (b"Draft", Flag::Draft),
        (b"Recent", Flag::Recent),
    ];
    flags
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| f)
}

/// Parses one `flag` (`\Seen`, `\Ext`, keyword).
pub(crate) fn parse_flag(c: &mut Cursor<'_>) -> Result<Flag, ParseError> {
    if c.eat(b'\\') {
        let name = c.atom().map_err(|_| ParseError::Invalid("flag"))?;
        return Ok(system_flag(name).unwrap_or_else(|| Flag::Extension(ascii_string(name))));
    }
    let name = c.atom().map_err(|_| ParseError::Invalid("flag"))?;
    Ok(Flag::Keyword(ascii_string(name)))
}

/// Parses `flag-list`: `"(" [flag *(SP flag)] ")"`.
pub(crate) fn parse_flag_list(c: &mut Cursor<'_>) -> Result<Vec<Flag>, ParseError> {
    c.expect(b'(', "flag list")?;
    let mut flags = Vec::new();
    if c.eat(b')') {
        return Ok(flags);
    }
    loop {
        flags.push(parse_flag(c)?);
        if c.eat(b')') {
            return Ok(flags);
        }
        c.sp()?;
    }
}

/// Writes `(f1 f2 ...)`.
pub(crate) fn write_flag_list(out: &mut Vec<u8>, flags: &[Flag]) {
    out.push(b'(');
    for (i, f) in flags.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        f.write(out);
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::DEFAULT_LIMITS;

    #[test]
    fn system_flags_match_case_insensitively_and_keywords_keep_case() {
        let mut c = Cursor::new(
            br"(\SEEN \answered $Forwarded \Custom)",
            &[],
            &DEFAULT_LIMITS,
        );
        let flags = parse_flag_list(&mut c).unwrap();
        assert_eq!(
            flags,
            vec![
                Flag::Seen,
                Flag::Answered,
                Flag::Keyword("$Forwarded".into()),
                Flag::Extension("Custom".into())
            ]
        );
        let mut out = Vec::new();
        write_flag_list(&mut out, &flags);
        assert_eq!(out, br"(\Seen \Answered $Forwarded \Custom)");
    }

    #[test]
    fn empty_flag_list_is_allowed_but_junk_is_not() {
        let mut c = Cursor::new(b"()", &[], &DEFAULT_LIMITS);
        assert_eq!(parse_flag_list(&mut c).unwrap(), vec![]);
        let mut c = Cursor::new(b"(\\)", &[], &DEFAULT_LIMITS);
        assert!(parse_flag_list(&mut c).is_err());
        let mut c = Cursor::new(b"(a  b)", &[], &DEFAULT_LIMITS);
        assert!(parse_flag_list(&mut c).is_err());
    }

    #[test]
    fn flags_build_from_their_wire_form() {
        assert_eq!(Flag::from_wire("\\draft"), Flag::Draft);
        assert_eq!(Flag::from_wire("$Junk"), Flag::Keyword("$Junk".into()));
    }
}
