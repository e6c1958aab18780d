//! Content-Type and Content-Disposition values: a token, maybe a subtype,
//! and `; name=value` parameters (RFC 2045, RFC 2183, RFC 2231).

use crate::charset::{decode_charset, decode_header_text};

/// One parameter as written: name and value with quoting removed, but
/// RFC 2231 and RFC 2047 encodings left as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    pub name: String,
    pub value: Vec<u8>,
}

/// A parsed Content-Type (`main/sub`) or Content-Disposition (`main` only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamValue {
    /// Lower-cased leading token (`text`, `attachment`).
    pub main: String,
    /// Lower-cased subtype; empty when there is none.
    pub sub: String,
    pub params: Vec<Param>,
}

/// Skips white space and (nested) comments.
fn skip_cfws(v: &[u8], mut i: usize) -> usize {
    loop {
        while i < v.len() && v[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < v.len() && v[i] == b'(' {
            let mut depth = 0usize;
            while i < v.len() {
                match v[i] {
                    b'\\' => i += 1,
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        } else {
            // A comment ending in a lone backslash steps past the end.
            return i.min(v.len());
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b > b' ' && b != 0x7f && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

fn token(v: &[u8], i: usize) -> (String, usize) {
    let end = v[i..]
        .iter()
        .position(|&b| !is_token_byte(b))
        .map_or(v.len(), |p| i + p);
    (
        String::from_utf8_lossy(&v[i..end]).to_ascii_lowercase(),
        end,
    )
}

/// Parses `main[/sub] *(; name=value)`. `None` when the leading token is
/// missing. Malformed parameters are skipped; at most `max_params` are kept.
pub(crate) fn parse_param_value(v: &[u8], max_params: usize) -> Option<ParamValue> {
    let mut i = skip_cfws(v, 0);
    let (main, next) = token(v, i);
    if main.is_empty() {
        return None;
    }
    i = skip_cfws(v, next);
    let mut sub = String::new();
    if i < v.len() && v[i] == b'/' {
        i = skip_cfws(v, i + 1);
        let (s, next) = token(v, i);
        sub = s;
        i = next;
    }
    let mut params = Vec::new();
    while i < v.len() && params.len() < max_params {
        // Find the next ';' that starts a parameter.
        match v[i..].iter().position(|&b| b == b';') {
            Some(p) => i += p + 1,
            None => break,
        }
        i = skip_cfws(v, i);
        let (name, next) = token(v, i);
        i = skip_cfws(v, next);
        if name.is_empty() || i >= v.len() || v[i] != b'=' {
            continue;
        }
        i = skip_cfws(v, i + 1);
        let value = if i < v.len() && v[i] == b'"' {
            let mut out = Vec::new();
            i += 1;
            while i < v.len() && v[i] != b'"' {
                if v[i] == b'\\' && i + 1 < v.len() {
                    i += 1;
                }
                out.push(v[i]);
                i += 1;
            }
            i += 1;
            out
        } else {
            // Lenient: an unquoted value runs to the next ';' (broken
            // mailers write `name=two words.pdf`).
            let end = v[i..]
                .iter()
                .position(|&b| b == b';')
                .map_or(v.len(), |p| i + p);
            let raw = v[i..end].trim_ascii();
            let value = raw.to_vec();
            i = end;
            value
        };
        params.push(Param { name, value });
    }
    Some(ParamValue { main, sub, params })
}

impl ParamValue {
    /// The raw value of the first parameter with this (lower-case) name.
    pub fn raw_param(&self, name: &str) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_slice())
    }

    /// The value of parameter `name` decoded to UTF-8: RFC 2231 extended
    /// values and continuations first, then a plain value with any RFC 2047
    /// encoded words decoded (a common, non-standard practice).
    pub fn decoded_param(&self, name: &str) -> Option<String> {
        let extended = format!("{name}*");
        if let Some(v) = self.raw_param(&extended) {
            return Some(decode_extended(v, true));
        }
        let mut sections: Vec<(u32, bool, &[u8])> = Vec::new();
        for p in &self.params {
            let Some(rest) = p.name.strip_prefix(&extended) else {
                continue;
            };
            let (num, encoded) = match rest.strip_suffix('*') {
                Some(n) => (n, true),
                None => (rest, false),
            };
            if let Ok(n) = num.parse::<u32>() {
                sections.push((n, encoded, &p.value));
            }
        }
        if !sections.is_empty() {
            sections.sort_by_key(|s| s.0);
            let mut charset: Option<String> = None;
            let mut bytes = Vec::new();
            for (idx, (_, encoded, value)) in sections.iter().enumerate() {
                if *encoded {
                    let mut v: &[u8] = value;
                    if idx == 0 {
                        let (cs, rest) = split_charset(v);
                        charset = cs;
                        v = rest;
                    }
                    bytes.extend(percent_decode(v));
                } else {
                    bytes.extend_from_slice(value);
                }
            }
            return Some(decode_charset(&bytes, charset.as_deref()));
        }
        self.raw_param(name).map(decode_header_text)
    }
}

/// Splits `charset'language'rest` into the charset and the rest; without two
/// quotes the whole value is the rest.
fn split_charset(v: &[u8]) -> (Option<String>, &[u8]) {
    let mut quotes = v
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\'')
        .map(|(i, _)| i);
    match (quotes.next(), quotes.next()) {
        (Some(a), Some(b)) => {
            let cs = String::from_utf8_lossy(&v[..a]).into_owned();
            (if cs.is_empty() { None } else { Some(cs) }, &v[b + 1..])
        }
        _ => (None, v),
    }
}

fn decode_extended(v: &[u8], with_charset: bool) -> String {
    let (charset, rest) = if with_charset {
        split_charset(v)
    } else {
        (None, v)
    };
    decode_charset(&percent_decode(rest), charset.as_deref())
}

fn percent_decode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%'
            && i + 2 < v.len()
            && let (Some(h), Some(l)) = (hex(v[i + 1]), hex(v[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, main: &str, sub: &str, params: &[(&str, &str)]) {
        let got = parse_param_value(value.as_bytes(), 10).expect("parses");
        assert_eq!(
            (got.main.as_str(), got.sub.as_str()),
            (main, sub),
            "{value}"
        );
        let got_params: Vec<(String, String)> = got
            .params
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    String::from_utf8_lossy(&p.value).into_owned(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = params
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(got_params, want, "{value}");
    }

    #[test]
    fn a_comment_ending_in_a_backslash_ends_the_value_without_panicking() {
        // Found by the mime fuzz target (tests/fuzz/reproducers/mime).
        let v = parse_param_value(b"text/plain; a=b (x\\", 8).unwrap();
        assert_eq!((v.main.as_str(), v.sub.as_str()), ("text", "plain"));
        assert!(parse_param_value(b"(\\", 8).is_none());
        assert!(parse_param_value(b"attachment; name=x; (\\", 8).is_some());
    }

    #[test]
    fn content_type_values_parse_leniently() {
        check("text/plain", "text", "plain", &[]);
        check(
            "Text/HTML; Charset=\"UTF-8\"",
            "text",
            "html",
            &[("charset", "UTF-8")],
        );
        check(
            "multipart/mixed;\r\n boundary=\"a b\\\"c\"; x=1",
            "multipart",
            "mixed",
            &[("boundary", "a b\"c"), ("x", "1")],
        );
        check(
            "text/plain (comment) ; charset=us-ascii",
            "text",
            "plain",
            &[("charset", "us-ascii")],
        );
        check(
            "attachment; filename=two words.pdf",
            "attachment",
            "",
            &[("filename", "two words.pdf")],
        );
        check(
            "text/plain;; junk; charset=x",
            "text",
            "plain",
            &[("charset", "x")],
        );
        check(
            "text/plain; name=\"unterminated",
            "text",
            "plain",
            &[("name", "unterminated")],
        );
        assert_eq!(parse_param_value(b"  ;x=y", 10), None);
    }

    #[test]
    fn parameters_decode_rfc2231_and_rfc2047() {
        let cases: &[(&str, &str)] = &[
            ("a; filename*=UTF-8''caf%C3%A9.txt", "caf\u{e9}.txt"),
            ("a; filename*=iso-8859-1'fr'caf%E9.txt", "caf\u{e9}.txt"),
            (
                "a; filename*0=\"long \"; filename*1=\"name.txt\"",
                "long name.txt",
            ),
            (
                "a; filename*1*=%A9.txt; filename*0*=UTF-8''caf%C3",
                "caf\u{e9}.txt",
            ),
            (
                "a; filename=\"=?UTF-8?B?w6l0w6kucGRm?=\"",
                "\u{e9}t\u{e9}.pdf",
            ),
            ("a; filename=plain.txt", "plain.txt"),
        ];
        for (value, want) in cases {
            let p = parse_param_value(value.as_bytes(), 10).expect("parses");
            assert_eq!(
                p.decoded_param("filename").as_deref(),
                Some(*want),
                "{value}"
            );
        }
    }

    #[test]
    fn parameter_count_is_bounded() {
        let many = format!("text/plain{}", "; a=b".repeat(100));
        let p = parse_param_value(many.as_bytes(), 5).expect("parses");
        assert_eq!(p.params.len(), 5);
    }
}
