//! Token-level reading of one framed command: atoms, numbers, strings and
//! literals (RFC 9051 §4 and §9). The command parsers are built on [`Cursor`].

use std::borrow::Cow;

use crate::error::ParseError;
use crate::limits::ReceiverLimits;

/// Longest keyword compared by [`Cursor::keyword`]; longer atoms never match.
const MAX_KEYWORD_LEN: usize = 32;

const ATOM: u8 = 1;
const ASTRING: u8 = 2;
const TAG: u8 = 4;
const LIST: u8 = 8;

/// Character classes of RFC 9051 §9, one bit per class.
static CLASS: [u8; 256] = build_classes();

const fn build_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0x21;
    while b < 0x7f {
        let special = matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']');
        let mut class = 0;
        if !special {
            class |= ATOM | ASTRING | LIST;
            if b != b'+' {
                class |= TAG;
            }
        }
        if b == b']' {
            class |= ASTRING | TAG | LIST;
        }
        if b == b'%' || b == b'*' {
            class |= LIST;
        }
        table[b as usize] = class;
        b += 1;
    }
    table
}

/// `ATOM-CHAR`.
pub(crate) fn is_atom_char(b: u8) -> bool {
    CLASS[b as usize] & ATOM != 0
}

/// `ASTRING-CHAR`.
pub(crate) fn is_astring_char(b: u8) -> bool {
    CLASS[b as usize] & ASTRING != 0
}

/// A character allowed in a tag.
pub(crate) fn is_tag_char(b: u8) -> bool {
    CLASS[b as usize] & TAG != 0
}

/// `list-char`: atom characters plus the wildcards `%` and `*`.
pub(crate) fn is_list_char(b: u8) -> bool {
    CLASS[b as usize] & LIST != 0
}

/// A string argument as it was read.
#[derive(Debug)]
pub(crate) enum StringArg<'a> {
    /// Bytes of a quoted string or an in-memory literal.
    Bytes(Cow<'a, [u8]>),
    /// A literal whose bytes went to the session (streamed APPEND data).
    Streamed {
        /// The literal's size.
        size: u64,
    },
}

/// How a literal was announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LiteralHeader {
    /// Announced size in bytes.
    pub size: u64,
    /// `~{N}`: may contain NUL.
    pub binary: bool,
    /// `{N}` rather than `{N+}`.
    pub synchronizing: bool,
}

/// Parses the inside of a literal announcement (`digits ["+"]`) and its
/// `~` prefix, from the bytes of a line that ends with `}`. Returns `None`
/// when the line does not end in a literal announcement.
pub(crate) fn literal_suffix(line: &[u8]) -> Option<(usize, Result<LiteralHeader, ParseError>)> {
    let close = line.len().checked_sub(1)?;
    if line[close] != b'}' {
        return None;
    }
    // digits (at most 20), an optional '+', '{' and an optional '~'
    let window_start = close.saturating_sub(24);
    let open = line[window_start..close].iter().rposition(|&b| b == b'{')? + window_start;
    let mut inner = &line[open + 1..close];
    let synchronizing = match inner.last() {
        Some(b'+') => {
            inner = &inner[..inner.len() - 1];
            false
        }
        _ => true,
    };
    if inner.is_empty() || !inner.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let binary = open > 0 && line[open - 1] == b'~';
    let start = if binary { open - 1 } else { open };
    let header = parse_u64_digits(inner)
        .filter(|&n| n <= i64::MAX as u64)
        .map(|size| LiteralHeader {
            size,
            binary,
            synchronizing,
        })
        .ok_or(ParseError::InvalidLiteral);
    Some((start, header))
}

/// Decimal digits to `u64`; `None` on overflow or no digits.
pub(crate) fn parse_u64_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(value)
}

/// A read position in one complete command (`tag SP ... CRLF`, literals
/// inline as `{N}\r\n<N bytes>`).
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offsets of literal announcements whose data was streamed away.
    streamed: &'a [usize],
    tokens: usize,
    max_tokens: usize,
    depth: usize,
    max_depth: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8], streamed: &'a [usize], limits: &ReceiverLimits) -> Self {
        Cursor {
            buf,
            pos: 0,
            streamed,
            tokens: 0,
            max_tokens: limits.max_tokens,
            depth: 0,
            max_depth: limits.max_nesting_depth,
        }
    }

    /// The next byte, if any.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The byte after the next one.
    pub fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.buf.get(self.pos + ahead).copied()
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos.min(self.buf.len())..]
    }

    /// True when nothing is left.
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Counts one token against the limit.
    pub fn count_token(&mut self) -> Result<(), ParseError> {
        self.tokens += 1;
        if self.tokens > self.max_tokens {
            return Err(ParseError::TooManyTokens {
                max: self.max_tokens,
            });
        }
        Ok(())
    }

    /// Enters one level of nesting (parenthesis, NOT, OR).
    pub fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(ParseError::TooDeep {
                max: self.max_depth,
            });
        }
        Ok(())
    }

    /// Leaves one level of nesting.
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Consumes `b` if it is next.
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Requires `b` next.
    pub fn expect(&mut self, b: u8, what: &'static str) -> Result<(), ParseError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// `Expected(what)`, or `UnexpectedEnd` at the end of the command.
    pub fn expected(&self, what: &'static str) -> ParseError {
        if self.rest() == b"\r\n" || self.at_end() {
            ParseError::UnexpectedEnd
        } else {
            ParseError::Expected(what)
        }
    }

    /// Requires one SP.
    pub fn sp(&mut self) -> Result<(), ParseError> {
        self.expect(b' ', "SP")
    }

    /// Consumes SP if the next byte is SP.
    pub fn eat_sp(&mut self) -> bool {
        self.eat(b' ')
    }

    /// Consumes `word` (ASCII, case-insensitive) if it is next and is not
    /// followed by another atom character.
    pub fn eat_keyword(&mut self, word: &[u8]) -> bool {
        let rest = self.rest();
        if rest.len() >= word.len()
            && rest[..word.len()].eq_ignore_ascii_case(word)
            && !rest.get(word.len()).is_some_and(|&b| is_atom_char(b))
        {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Consumes `prefix` (case-insensitive) if it is next, regardless of
    /// what follows.
    pub fn eat_prefix(&mut self, prefix: &[u8]) -> bool {
        let rest = self.rest();
        if rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    /// Requires the end of the command: CRLF and nothing after it.
    pub fn end(&mut self) -> Result<(), ParseError> {
        if self.rest() == b"\r\n" {
            self.pos += 2;
            Ok(())
        } else if self.at_end() {
            Err(ParseError::UnexpectedEnd)
        } else {
            Err(ParseError::TrailingData)
        }
    }

    /// Bytes while `pred` holds (may be empty).
    pub fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        let len = self
            .rest()
            .iter()
            .position(|&b| !pred(b))
            .unwrap_or(self.rest().len());
        self.pos += len;
        &self.buf[start..start + len]
    }

    /// `atom`: one or more ATOM-CHARs.
    pub fn atom(&mut self) -> Result<&'a [u8], ParseError> {
        let atom = self.take_while(is_atom_char);
        if atom.is_empty() {
            return Err(self.expected("atom"));
        }
        self.count_token()?;
        Ok(atom)
    }

    /// An atom as a `String` (atoms are ASCII).
    pub fn atom_string(&mut self) -> Result<String, ParseError> {
        Ok(ascii_string(self.atom()?))
    }

    /// An atom uppercased into a fixed buffer for keyword matching; atoms
    /// longer than the buffer come back unchanged (and match nothing).
    pub fn keyword(&mut self) -> Result<Keyword<'a>, ParseError> {
        let atom = self.atom()?;
        Ok(Keyword::new(atom))
    }

    /// `number`: a 32-bit unsigned decimal.
    pub fn number(&mut self) -> Result<u32, ParseError> {
        let value = self.number64_unbounded()?;
        u32::try_from(value).map_err(|_| ParseError::NumberOutOfRange)
    }

    /// `nz-number`: a non-zero 32-bit unsigned decimal.
    pub fn nz_number(&mut self) -> Result<u32, ParseError> {
        match self.number()? {
            0 => Err(ParseError::NumberOutOfRange),
            n => Ok(n),
        }
    }

    /// `number64`: 0 to 2^63-1.
    pub fn number64(&mut self) -> Result<u64, ParseError> {
        let value = self.number64_unbounded()?;
        if value > i64::MAX as u64 {
            return Err(ParseError::NumberOutOfRange);
        }
        Ok(value)
    }

    /// `nz-number64`.
    pub fn nz_number64(&mut self) -> Result<u64, ParseError> {
        match self.number64()? {
            0 => Err(ParseError::NumberOutOfRange),
            n => Ok(n),
        }
    }

    fn number64_unbounded(&mut self) -> Result<u64, ParseError> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() {
            return Err(self.expected("number"));
        }
        self.count_token()?;
        parse_u64_digits(digits).ok_or(ParseError::NumberOutOfRange)
    }

    /// `quoted`: a double-quoted string with `\"` and `\\` escapes. 8-bit
    /// bytes must form valid UTF-8 (RFC 6855, RFC 9051 `QUOTED-CHAR`).
    pub fn quoted(&mut self) -> Result<Cow<'a, [u8]>, ParseError> {
        self.expect(b'"', "quoted string")?;
        self.count_token()?;
        let start = self.pos;
        let mut owned: Option<Vec<u8>> = None;
        let mut eight_bit = false;
        loop {
            let Some(b) = self.peek() else {
                return Err(ParseError::Expected("closing quote"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let escaped = match self.peek() {
                        Some(e @ (b'"' | b'\\')) => e,
                        _ => return Err(ParseError::Invalid("escape in quoted string")),
                    };
                    let buf = owned.get_or_insert_with(|| self.buf[start..self.pos - 1].to_vec());
                    buf.push(escaped);
                    self.pos += 1;
                }
                b'\r' | b'\n' | 0 => return Err(ParseError::Expected("closing quote")),
                _ => {
                    eight_bit |= b >= 0x80;
                    if let Some(buf) = owned.as_mut() {
                        buf.push(b);
                    }
                }
            }
        }
        let value = match owned {
            Some(buf) => Cow::Owned(buf),
            None => Cow::Borrowed(&self.buf[start..self.pos - 1]),
        };
        if eight_bit && std::str::from_utf8(&value).is_err() {
            return Err(ParseError::InvalidUtf8);
        }
        Ok(value)
    }

    /// A literal header `{N}`, `{N+}`, `~{N}` or `~{N+}` and its CRLF.
    /// Returns the header and whether its data was streamed away.
    pub fn literal_header(&mut self) -> Result<(LiteralHeader, bool), ParseError> {
        let start = self.pos;
        let binary = self.eat(b'~');
        self.expect(b'{', "literal")?;
        let digits = self.take_while(|b| b.is_ascii_digit());
        let size = parse_u64_digits(digits)
            .filter(|&n| n <= i64::MAX as u64)
            .ok_or(ParseError::InvalidLiteral)?;
        let synchronizing = !self.eat(b'+');
        self.expect(b'}', "'}' closing the literal size")?;
        if !self.eat_prefix(b"\r\n") {
            return Err(ParseError::Expected("CRLF after literal size"));
        }
        self.count_token()?;
        let streamed = self.streamed.contains(&start);
        Ok((
            LiteralHeader {
                size,
                binary,
                synchronizing,
            },
            streamed,
        ))
    }

    /// A literal with its data; NUL bytes only when `allow_binary` and the
    /// literal is a `~{N}` literal.
    pub fn literal(&mut self, allow_binary: bool) -> Result<StringArg<'a>, ParseError> {
        let (header, streamed) = self.literal_header()?;
        if header.binary && !allow_binary {
            return Err(ParseError::BinaryLiteralNotAllowed);
        }
        if streamed {
            return Ok(StringArg::Streamed { size: header.size });
        }
        let data = self.literal_data(header.size)?;
        if !header.binary && data.contains(&0) {
            return Err(ParseError::NulInLiteral);
        }
        Ok(StringArg::Bytes(Cow::Borrowed(data)))
    }

    /// An APPEND message literal: `{N}` or `~{N}`, data in memory or
    /// streamed. NUL bytes are let through even in `{N}` literals: message
    /// bytes are stored as sent, and a streamed literal could not be
    /// checked either.
    pub fn message_literal(&mut self) -> Result<StringArg<'a>, ParseError> {
        let (header, streamed) = self.literal_header()?;
        if streamed {
            return Ok(StringArg::Streamed { size: header.size });
        }
        self.literal_data(header.size)
            .map(|data| StringArg::Bytes(Cow::Borrowed(data)))
    }

    fn literal_data(&mut self, size: u64) -> Result<&'a [u8], ParseError> {
        let len = usize::try_from(size).map_err(|_| ParseError::LiteralDataMissing)?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or(ParseError::LiteralDataMissing)?;
        let data = self
            .buf
            .get(self.pos..end)
            .ok_or(ParseError::LiteralDataMissing)?;
        self.pos = end;
        Ok(data)
    }

    /// `string`: quoted or literal (not binary, not streamed).
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>, ParseError> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => match self.literal(false)? {
                StringArg::Bytes(bytes) => Ok(bytes),
                StringArg::Streamed { .. } => Err(ParseError::Invalid("literal")),
            },
            Some(b'~') => Err(ParseError::BinaryLiteralNotAllowed),
            _ => Err(self.expected("string")),
        }
    }

    /// `astring`: 1*ASTRING-CHAR or a string.
    pub fn astring(&mut self) -> Result<Cow<'a, [u8]>, ParseError> {
        if self.at_string() {
            return self.string();
        }
        let atom = self.take_while(is_astring_char);
        if atom.is_empty() {
            return Err(self.expected("string"));
        }
        self.count_token()?;
        Ok(Cow::Borrowed(atom))
    }

    /// True when a quoted string or a literal (`{`, `~{`) starts here.
    pub fn at_string(&self) -> bool {
        match self.peek() {
            Some(b'"' | b'{') => true,
            Some(b'~') => self.peek_at(1) == Some(b'{'),
            _ => false,
        }
    }

    /// `astring` that must be UTF-8.
    pub fn astring_utf8(&mut self) -> Result<String, ParseError> {
        utf8_string(self.astring()?)
    }

    /// `nstring`: a string or `NIL`.
    pub fn nstring(&mut self) -> Result<Option<Cow<'a, [u8]>>, ParseError> {
        if self.eat_keyword(b"NIL") {
            self.count_token()?;
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }
}

/// An atom prepared for case-insensitive keyword matching.
pub(crate) struct Keyword<'a> {
    raw: &'a [u8],
    upper: [u8; MAX_KEYWORD_LEN],
    len: usize,
}

impl<'a> Keyword<'a> {
    /// Uppercases `raw` if it is short enough to be a keyword.
    pub fn new(raw: &'a [u8]) -> Self {
        let mut upper = [0u8; MAX_KEYWORD_LEN];
        let len = if raw.len() <= MAX_KEYWORD_LEN {
            for (dst, src) in upper.iter_mut().zip(raw) {
                *dst = src.to_ascii_uppercase();
            }
            raw.len()
        } else {
            0
        };
        Keyword { raw, upper, len }
    }

    /// The uppercased keyword (empty if too long to be one).
    pub fn upper(&self) -> &[u8] {
        &self.upper[..self.len]
    }

    /// The atom as sent.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
}

/// ASCII bytes (validated by the caller) as a `String`.
pub(crate) fn ascii_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// Bytes that must be UTF-8 as a `String`.
pub(crate) fn utf8_string(bytes: Cow<'_, [u8]>) -> Result<String, ParseError> {
    match bytes {
        Cow::Borrowed(b) => std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| ParseError::InvalidUtf8),
        Cow::Owned(v) => String::from_utf8(v).map_err(|_| ParseError::InvalidUtf8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(input: &[u8]) -> Cursor<'_> {
        Cursor::new(input, &[], &crate::limits::DEFAULT_LIMITS)
    }

    #[test]
    fn quoted_string_unescapes_quotes_and_backslashes() {
        let mut c = cursor(br#""a\"b\\c" "#);
        assert_eq!(c.quoted().unwrap().as_ref(), b"a\"b\\c");
        assert_eq!(c.rest(), b" ");
    }

    #[test]
    fn quoted_string_rejects_bad_escape_and_newline() {
        assert!(cursor(br#""a\b""#).quoted().is_err());
        assert!(cursor(b"\"a\r\nb\"").quoted().is_err());
        assert!(cursor(b"\"abc").quoted().is_err());
    }

    #[test]
    fn quoted_string_accepts_utf8_but_not_broken_utf8() {
        assert_eq!(
            cursor("\"Grüße\"".as_bytes()).quoted().unwrap().as_ref(),
            "Grüße".as_bytes()
        );
        assert_eq!(cursor(b"\"\xff\"").quoted(), Err(ParseError::InvalidUtf8));
    }

    #[test]
    fn literal_reads_exactly_the_announced_bytes() {
        let mut c = cursor(b"{5}\r\nab\r\ncX");
        match c.literal(false).unwrap() {
            StringArg::Bytes(b) => assert_eq!(b.as_ref(), b"ab\r\nc"),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.rest(), b"X");
    }

    #[test]
    fn literal_with_nul_needs_binary_form() {
        assert_eq!(
            cursor(b"{1}\r\n\0").literal(true).unwrap_err(),
            ParseError::NulInLiteral
        );
        assert!(cursor(b"~{1}\r\n\0").literal(true).is_ok());
        assert_eq!(
            cursor(b"~{1}\r\n\0").literal(false).unwrap_err(),
            ParseError::BinaryLiteralNotAllowed
        );
    }

    #[test]
    fn literal_suffix_finds_announcements_at_line_end() {
        let check = |line: &[u8], expected: Option<(usize, u64, bool, bool)>| {
            let got = literal_suffix(line).map(|(at, h)| {
                let h = h.unwrap();
                (at, h.size, h.binary, h.synchronizing)
            });
            assert_eq!(got, expected, "{}", String::from_utf8_lossy(line));
        };
        check(b"a LOGIN {3}", Some((8, 3, false, true)));
        check(b"a LOGIN {3+}", Some((8, 3, false, false)));
        check(b"a APPEND x ~{10}", Some((11, 10, true, true)));
        check(b"a LOGIN x y", None);
        check(b"a LOGIN {x}", None);
        check(b"a LOGIN {}", None);
        check(b"}", None);
        assert!(
            literal_suffix(b"a {99999999999999999999}")
                .unwrap()
                .1
                .is_err()
        );
    }

    #[test]
    fn numbers_reject_overflow() {
        assert_eq!(cursor(b"4294967295").number(), Ok(u32::MAX));
        assert_eq!(
            cursor(b"4294967296").number(),
            Err(ParseError::NumberOutOfRange)
        );
        assert_eq!(cursor(b"0").nz_number(), Err(ParseError::NumberOutOfRange));
        assert_eq!(
            cursor(b"9223372036854775808").number64(),
            Err(ParseError::NumberOutOfRange)
        );
    }

    #[test]
    fn tags_exclude_plus_and_atoms_exclude_specials() {
        assert!(!is_tag_char(b'+'));
        assert!(is_atom_char(b'+'));
        assert!(is_astring_char(b']'));
        assert!(!is_atom_char(b']'));
        assert!(is_list_char(b'%'));
        assert!(!is_atom_char(b'*'));
        assert!(!is_atom_char(0x80));
    }
}
