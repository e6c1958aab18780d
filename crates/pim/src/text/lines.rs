//! Logical lines and components of a content-line stream.

use crate::error::{ParseError, ParseErrorKind};

/// One logical (unfolded) content line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based physical line where it starts.
    pub number: usize,
    /// The unfolded text (without line break).
    pub text: String,
    /// The raw physical lines, with their folding, joined by CRLF.
    pub raw: String,
    /// The property name, upper-case, without a group prefix.
    pub name: String,
    /// The group prefix (`item1` of `item1.EMAIL`), if any.
    pub group: Option<String>,
}

impl Line {
    /// The value after the first unquoted colon.
    pub fn value(&self) -> &str {
        let mut quoted = false;
        for (i, c) in self.text.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ':' if !quoted => return &self.text[i + 1..],
                _ => {}
            }
        }
        ""
    }

    /// The parameters as (upper-case name, raw value) pairs.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut quoted = false;
        let mut end = self.text.len();
        for (i, c) in self.text.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ':' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let head = &self.text[..end];
        let mut out = Vec::new();
        let mut parts = Vec::new();
        let (mut start, mut q) = (0, false);
        for (i, c) in head.char_indices() {
            match c {
                '"' => q = !q,
                ';' if !q => {
                    parts.push(&head[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&head[start..]);
        for p in parts.into_iter().skip(1) {
            match p.split_once('=') {
                Some((k, v)) => out.push((k.trim().to_ascii_uppercase(), v.to_owned())),
                None => out.push(("TYPE".into(), p.to_owned())), // vCard 2.1 bare types
            }
        }
        out
    }

    /// The value of a parameter, unquoted.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim_matches('"').to_owned())
    }
}

/// Splits text into logical lines: CRLF, LF or CR breaks; a line starting
/// with a space or tab continues the previous one. Empty lines are dropped.
pub fn logical_lines(text: &str) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let physical = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    for (i, l) in physical.enumerate() {
        let l = l.trim_start_matches('\u{feff}');
        if let Some(cont) = l.strip_prefix([' ', '\t'])
            && let Some(last) = out.last_mut()
        {
            last.text.push_str(cont);
            last.raw.push_str("\r\n");
            last.raw.push_str(l);
            continue;
        }
        if l.trim().is_empty() {
            continue;
        }
        let (group, name) = name_of(l);
        out.push(Line {
            number: i + 1,
            text: l.to_owned(),
            raw: l.to_owned(),
            name,
            group,
        });
    }
    out
}

fn name_of(l: &str) -> (Option<String>, String) {
    let end = l.find([';', ':']).unwrap_or(l.len());
    let full = &l[..end];
    match full.rsplit_once('.') {
        Some((g, n)) => (Some(g.to_owned()), n.trim().to_ascii_uppercase()),
        None => (None, full.trim().to_ascii_uppercase()),
    }
}

/// A component: its BEGIN line, its own properties, its sub-components and
/// every raw line (for re-parsing it alone and for keeping it verbatim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Component name, upper-case (`VEVENT`).
    pub kind: String,
    /// Line number of BEGIN.
    pub line: usize,
    /// The component's own properties (not those of sub-components).
    pub props: Vec<Line>,
    /// Sub-components.
    pub children: Vec<Block>,
}

impl Block {
    /// The first property of a name.
    pub fn prop(&self, name: &str) -> Option<&Line> {
        self.props.iter().find(|l| l.name == name)
    }

    /// The line number of the first property of a name, else of BEGIN.
    pub fn line_of(&self, name: &str) -> usize {
        self.prop(name).map(|l| l.number).unwrap_or(self.line)
    }

    /// The raw text of the component, BEGIN to END, CRLF line ends.
    pub fn raw(&self) -> String {
        let mut s = String::new();
        self.write_raw(&mut s);
        s
    }

    fn write_raw(&self, s: &mut String) {
        s.push_str("BEGIN:");
        s.push_str(&self.kind);
        s.push_str("\r\n");
        for p in &self.props {
            s.push_str(&p.raw);
            s.push_str("\r\n");
        }
        for c in &self.children {
            c.write_raw(s);
        }
        s.push_str("END:");
        s.push_str(&self.kind);
        s.push_str("\r\n");
    }

    /// An error at a property of this component (or at its BEGIN line).
    pub fn error(&self, property: Option<&str>, kind: ParseErrorKind) -> ParseError {
        ParseError {
            line: property.map(|p| self.line_of(p)).unwrap_or(self.line),
            component: self.kind.clone(),
            property: property.map(str::to_owned),
            kind,
        }
    }
}

/// The top level of a stream: lines outside any component and the
/// top-level components, each parsed or failed on its own.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// Top-level components (VCALENDAR, VCARD), or the error that ended one.
    pub components: Vec<Result<Block, ParseError>>,
    /// Content lines outside any component (ignored by the formats, kept
    /// for diagnostics).
    pub stray: Vec<Line>,
}

/// Most nesting levels of BEGIN accepted.
pub const MAX_DEPTH: usize = 16;

/// Splits lines into components. A BEGIN without its END, or an END that
/// closes another component, fails that top-level component only: reading
/// resumes at the next top-level BEGIN.
pub fn split(lines: Vec<Line>) -> Stream {
    let mut out = Stream::default();
    let mut stack: Vec<Block> = Vec::new();
    let mut failed: Option<ParseError> = None;
    for line in lines {
        let is_begin = line.name == "BEGIN" && line.group.is_none();
        let is_end = line.name == "END" && line.group.is_none();
        if failed.is_some() {
            // skip to the next top-level BEGIN
            if is_begin && is_top_kind(line.value()) {
                if let Some(e) = failed.take() {
                    out.components.push(Err(e));
                }
            } else {
                continue;
            }
        }
        if is_begin {
            let kind = line.value().trim().to_ascii_uppercase();
            if stack.len() >= MAX_DEPTH {
                failed = Some(ParseError {
                    line: line.number,
                    component: kind,
                    property: None,
                    kind: ParseErrorKind::TooLarge(format!(
                        "more than {MAX_DEPTH} nested components"
                    )),
                });
                stack.clear();
                continue;
            }
            if !stack.is_empty() && is_top_kind(&kind) && stack.iter().any(|b| b.kind == kind) {
                // BEGIN:VCARD inside an open VCARD: the open one was never closed
                let open = stack.remove(0);
                out.components.push(Err(ParseError {
                    line: open.line,
                    component: open.kind,
                    property: None,
                    kind: ParseErrorKind::Structure(format!(
                        "not terminated before line {}",
                        line.number
                    )),
                }));
                stack.clear();
            }
            stack.push(Block {
                kind,
                line: line.number,
                props: vec![],
                children: vec![],
            });
        } else if is_end {
            let kind = line.value().trim().to_ascii_uppercase();
            match stack.pop() {
                Some(b) if b.kind == kind => match stack.last_mut() {
                    Some(parent) => parent.children.push(b),
                    None => out.components.push(Ok(b)),
                },
                Some(b) => {
                    let top = stack
                        .first()
                        .map(|t| t.kind.clone())
                        .unwrap_or_else(|| b.kind.clone());
                    failed = Some(ParseError {
                        line: line.number,
                        component: top,
                        property: None,
                        kind: ParseErrorKind::Structure(format!(
                            "END:{kind} closes BEGIN:{} of line {}",
                            b.kind, b.line
                        )),
                    });
                    stack.clear();
                }
                None => out.stray.push(line),
            }
        } else {
            match stack.last_mut() {
                Some(b) => b.props.push(line),
                None => out.stray.push(line),
            }
        }
    }
    if let Some(e) = failed {
        out.components.push(Err(e));
    }
    if let Some(open) = stack.into_iter().next() {
        out.components.push(Err(ParseError {
            line: open.line,
            component: open.kind,
            property: None,
            kind: ParseErrorKind::Structure(
                "not terminated (no END before the end of input)".into(),
            ),
        }));
    }
    out
}

fn is_top_kind(kind: &str) -> bool {
    let k = kind.trim();
    k.eq_ignore_ascii_case("VCALENDAR") || k.eq_ignore_ascii_case("VCARD")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_lines_unfold_and_keep_their_first_line_number() {
        let l = logical_lines(
            "BEGIN:VCARD\r\nNOTE:one\r\n  two\r\n\tthree\r\nitem1.EMAIL;TYPE=work:a@b\r\nEND:VCARD\r\n",
        );
        assert_eq!(l[1].text, "NOTE:one twothree");
        assert_eq!(l[1].number, 2);
        assert_eq!(l[2].number, 5);
        assert_eq!(
            (l[2].group.as_deref(), l[2].name.as_str()),
            (Some("item1"), "EMAIL")
        );
        assert_eq!(l[2].param("TYPE").as_deref(), Some("work"));
        assert_eq!(l[2].value(), "a@b");
    }

    #[test]
    fn a_broken_component_fails_alone() {
        let text = "BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\nBEGIN:VCARD\nFN:C\nEND:VCARD\nBEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\nBEGIN:VCARD\nFN:D\nEND:VCARD\n";
        let s = split(logical_lines(text));
        let summary: Vec<String> = s
            .components
            .iter()
            .map(|c| match c {
                Ok(b) => format!("ok {} {}", b.kind, b.props[0].value()),
                Err(e) => format!("err line {} {}", e.line, e.component),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "ok VCARD A",
                "err line 4 VCARD",
                "ok VCARD C",
                "err line 11 VCALENDAR",
                "ok VCARD D"
            ]
        );
    }
}
