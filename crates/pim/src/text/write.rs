//! Writing content lines: escaping (RFC 5545 3.3.11, RFC 6350 3.4), quoting
//! of parameter values, and folding at 75 octets without splitting a
//! UTF-8 sequence.

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => o.push_str("\\\\"),
            ';' => o.push_str("\\;"),
            ',' => o.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                o.push_str("\\n");
            }
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// A parameter value, quoted when it holds `:`, `;` or `,`.
pub fn param_value(s: &str) -> String {
    let clean: String = s.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// Appends one content line, folded, with CRLF.
pub fn push_line(out: &mut String, line: &str) {
    let mut count = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if count + n > 75 {
            out.push_str("\r\n ");
            count = 1;
        }
        out.push(c);
        count += n;
    }
    out.push_str("\r\n");
}

/// A content line builder: `Prop::new("DTSTART").param("TZID", z).value(v)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl Prop {
    /// A property with an empty value.
    pub fn new(name: &str) -> Prop {
        Prop {
            name: name.to_owned(),
            params: vec![],
            value: String::new(),
        }
    }

    /// Adds a parameter (the value is quoted as needed).
    pub fn param(mut self, name: &str, value: &str) -> Prop {
        self.params.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a raw parameter as the source had it (already quoted).
    pub fn raw_param(mut self, name: &str, raw: &str) -> Prop {
        self.params.push((name.to_owned(), format!("\u{0}{raw}")));
        self
    }

    /// Sets the value, unescaped (dates, URIs, numbers).
    pub fn raw(mut self, value: &str) -> Prop {
        self.value = value.to_owned();
        self
    }

    /// Sets a TEXT value, escaped.
    pub fn text(mut self, value: &str) -> Prop {
        self.value = escape(value);
        self
    }

    /// The parameter names set so far (upper-case).
    pub fn param_names(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|(k, _)| k.to_ascii_uppercase())
            .collect()
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The unfolded line.
    pub fn line(&self) -> String {
        let mut s = self.name.clone();
        for (k, v) in &self.params {
            s.push(';');
            s.push_str(k);
            s.push('=');
            match v.strip_prefix('\u{0}') {
                Some(raw) => s.push_str(raw),
                None => s.push_str(&param_value(v)),
            }
        }
        s.push(':');
        s.push_str(&self.value);
        s
    }

    /// Appends the folded line.
    pub fn write(&self, out: &mut String) {
        push_line(out, &self.line());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_fold_on_character_boundaries() {
        assert_eq!(escape("a;b,c\\d\r\ne"), "a\\;b\\,c\\\\d\\ne");
        let mut out = String::new();
        push_line(&mut out, &format!("SUMMARY:{}", "ä".repeat(50)));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{l}");
        }
        assert_eq!(
            out.replace("\r\n ", "").trim_end(),
            format!("SUMMARY:{}", "ä".repeat(50))
        );
    }

    #[test]
    fn parameter_values_are_quoted_when_needed() {
        let p = Prop::new("ATTENDEE")
            .param("CN", "Doe, Jane")
            .param("ROLE", "REQ-PARTICIPANT")
            .raw("mailto:j@x");
        assert_eq!(
            p.line(),
            "ATTENDEE;CN=\"Doe, Jane\";ROLE=REQ-PARTICIPANT:mailto:j@x"
        );
    }
}
