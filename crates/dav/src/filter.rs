//! Property filters of calendar-query and addressbook-query
//! (RFC 4791 §9.7.2, RFC 6352 §10.5): `prop-filter` with `is-not-defined`
//! or a `text-match` (equals, contains, starts-with, ends-with; negation;
//! `i;octet` exact, the case-mapping collations by lower case), tested
//! against the object as the client would GET it. `param-filter` is not
//! supported and refused (`supported-filter`), never ignored.

use crate::xml::Element;

/// How a text-match compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchType {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

/// One `text-match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextMatch {
    pub text: String,
    pub match_type: MatchType,
    pub negate: bool,
    /// `i;octet`: compare exactly; otherwise by lower case.
    pub exact: bool,
}

/// One `prop-filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PropFilter {
    /// Upper-case property name.
    pub name: String,
    /// `is-not-defined`.
    pub not_defined: bool,
    /// Text-matches (all must hold, or any with `anyof`).
    pub matches: Vec<TextMatch>,
    /// `test="anyof"` on the prop-filter (CardDAV).
    pub any: bool,
}

/// The `prop-filter` children of `parent` in namespace `ns`.
pub(crate) fn parse_prop_filters(parent: &Element, ns: &str) -> Result<Vec<PropFilter>, String> {
    let mut out = Vec::new();
    for pf in parent.children_named(ns, "prop-filter") {
        let name = pf
            .attr("name")
            .ok_or("a prop-filter without a name")?
            .to_ascii_uppercase();
        if pf.child(ns, "param-filter").is_some() {
            return Err("param-filter is not supported".into());
        }
        let mut matches = Vec::new();
        for tm in pf.children_named(ns, "text-match") {
            let match_type = match tm.attr("match-type").unwrap_or("contains") {
                "equals" => MatchType::Equals,
                "contains" => MatchType::Contains,
                "starts-with" => MatchType::StartsWith,
                "ends-with" => MatchType::EndsWith,
                other => return Err(format!("match-type {other:?} is not supported")),
            };
            let exact = match tm.attr("collation").unwrap_or("i;unicode-casemap") {
                "i;octet" => true,
                "i;ascii-casemap" | "i;unicode-casemap" => false,
                other => return Err(format!("collation {other:?} is not supported")),
            };
            let negate = matches!(
                tm.attr("negate-condition"),
                Some("yes") | Some("true") | Some("1")
            );
            let text = if exact {
                tm.text.clone()
            } else {
                tm.text.to_lowercase()
            };
            matches.push(TextMatch {
                text,
                match_type,
                negate,
                exact,
            });
        }
        out.push(PropFilter {
            name,
            not_defined: pf.child(ns, "is-not-defined").is_some(),
            matches,
            any: pf.attr("test") == Some("anyof"),
        });
    }
    Ok(out)
}

/// The (name, value) of every content line of `text`, unfolded, values
/// unescaped.
pub(crate) fn properties(text: &str) -> Vec<(String, String)> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cont) = raw.strip_prefix([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.push_str(cont);
            }
        } else if !raw.is_empty() {
            lines.push(raw.to_string());
        }
    }
    lines
        .iter()
        .filter_map(|l| {
            let mut quoted = false;
            let colon = l.char_indices().find_map(|(i, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                (c == ':' && !quoted).then_some(i)
            })?;
            let head = &l[..colon];
            let name = head.split(';').next().unwrap_or(head);
            let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
            let value = l[colon + 1..]
                .replace("\\n", "\n")
                .replace("\\N", "\n")
                .replace("\\,", ",")
                .replace("\\;", ";")
                .replace("\\\\", "\\");
            Some((name, value))
        })
        .collect()
}

fn text_matches(value: &str, m: &TextMatch) -> bool {
    let v = if m.exact {
        value.to_string()
    } else {
        value.to_lowercase()
    };
    let hit = match m.match_type {
        MatchType::Equals => v == m.text,
        MatchType::Contains => v.contains(&m.text),
        MatchType::StartsWith => v.starts_with(&m.text),
        MatchType::EndsWith => v.ends_with(&m.text),
    };
    hit != m.negate
}

/// Whether the object's properties pass one prop-filter.
pub(crate) fn passes(props: &[(String, String)], f: &PropFilter) -> bool {
    let values: Vec<&str> = props
        .iter()
        .filter(|(n, _)| *n == f.name)
        .map(|(_, v)| v.as_str())
        .collect();
    if f.not_defined {
        return values.is_empty();
    }
    if values.is_empty() {
        return false;
    }
    if f.matches.is_empty() {
        return true;
    }
    let one = |m: &TextMatch| values.iter().any(|v| text_matches(v, m));
    if f.any {
        f.matches.iter().any(one)
    } else {
        f.matches.iter().all(one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{NS_CALDAV, NS_CARDDAV, parse};

    const CARD: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-1\r\nFN:Ann\r\n  Example\r\nitem1.EMAIL;TYPE=INTERNET:ann@Example.org\r\nTEL;TYPE=\"cell:x\":+43 1\r\nNOTE:a\\, b\r\nEND:VCARD\r\n";

    fn filters(xml: &str, ns: &str) -> Vec<PropFilter> {
        parse_prop_filters(&parse(xml.as_bytes()).unwrap(), ns).unwrap()
    }

    #[test]
    fn text_matches_follow_type_collation_and_negation() {
        let props = properties(CARD);
        assert!(
            props.contains(&("FN".into(), "Ann Example".into())),
            "{props:?}"
        );
        assert!(props.contains(&("TEL".into(), "+43 1".into())), "{props:?}");
        assert!(props.contains(&("NOTE".into(), "a, b".into())), "{props:?}");
        let f = filters(
            r#"<filter xmlns="urn:ietf:params:xml:ns:carddav"><prop-filter name="EMAIL"><text-match match-type="ends-with">EXAMPLE.ORG</text-match></prop-filter><prop-filter name="fn"><text-match match-type="equals" collation="i;octet">ann example</text-match></prop-filter><prop-filter name="X-NONE"><is-not-defined/></prop-filter><prop-filter name="NOTE"><text-match negate-condition="yes">zzz</text-match></prop-filter></filter>"#,
            NS_CARDDAV,
        );
        let got: Vec<bool> = f.iter().map(|f| passes(&props, f)).collect();
        assert_eq!(got, [true, false, true, true]);
        let uid = filters(
            r#"<comp-filter xmlns="urn:ietf:params:xml:ns:caldav" name="VEVENT"><prop-filter name="UID"><text-match collation="i;octet" match-type="equals">ann-1</text-match></prop-filter></comp-filter>"#,
            NS_CALDAV,
        );
        assert!(passes(&props, &uid[0]));
        let bad = parse(
            br#"<f xmlns="urn:ietf:params:xml:ns:carddav"><prop-filter name="TEL"><param-filter name="TYPE"/></prop-filter></f>"#,
        )
        .unwrap();
        assert!(parse_prop_filters(&bad, NS_CARDDAV).is_err());
    }
}
