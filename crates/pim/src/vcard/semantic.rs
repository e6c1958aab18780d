//! Comparing vCards by meaning: the same cards (by UID, else FN), and in
//! them the same properties with equal values — structured values by
//! component, telephone numbers without `tel:` and spaces, e-mail
//! addresses case-folded, dates as dates, photos by their bytes, TYPEs as
//! the kind MAPI distinguishes (work, home, cell, fax, pager, car).

use super::import::{components, text_of, types};
use calcard::vcard::{VCard, VCardEntry, VCardProperty, VCardValue};
use std::collections::BTreeSet;

/// The facts of `source` that `result` lacks (empty: nothing lost).
/// `names` limits the comparison to those properties (all when empty).
pub fn compare_vcards(source: &[u8], result: &[u8], names: &[&str]) -> Vec<String> {
    let a = facts(source, names);
    let b = facts(result, names);
    a.difference(&b).cloned().collect()
}

fn cards(input: &[u8]) -> Vec<VCard> {
    let text = crate::charset::decode_text(input).text;
    let stream = crate::text::lines::split(crate::text::lines::logical_lines(&text));
    stream
        .components
        .into_iter()
        .flatten()
        .filter_map(|b| match calcard::Parser::new(&b.raw()).entry() {
            calcard::Entry::VCard(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn facts(input: &[u8], names: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in cards(input) {
        let id = c
            .entries
            .iter()
            .find(|e| e.name == VCardProperty::Uid)
            .or_else(|| c.entries.iter().find(|e| e.name == VCardProperty::Fn))
            .map(text_of)
            .unwrap_or_default();
        for e in &c.entries {
            let name = name_of(e);
            if matches!(
                name.as_str(),
                "VERSION" | "PRODID" | "REV" | "BEGIN" | "END"
            ) {
                continue;
            }
            if !names.is_empty() && !names.contains(&name.as_str()) {
                continue;
            }
            let v = norm_entry(e);
            if !v.is_empty() {
                out.insert(format!("{id}: {name} = {v}"));
            }
        }
    }
    out
}

fn name_of(e: &VCardEntry) -> String {
    match &e.name {
        VCardProperty::Other(n) => n.to_ascii_uppercase(),
        n => n.as_str().to_owned(),
    }
}

/// The meaning of one entry as a string.
pub(crate) fn norm_entry(e: &VCardEntry) -> String {
    let kinds = |t: Vec<String>| -> String {
        let mut k: Vec<&str> = ["work", "home", "cell", "fax", "pager", "car"]
            .into_iter()
            .filter(|x| {
                t.iter()
                    .any(|y| y == x || (*x == "cell" && (y == "mobile" || y == "iphone")))
            })
            .collect();
        k.sort_unstable();
        k.join(",")
    };
    match &e.name {
        VCardProperty::Tel => {
            let v = text_of(e);
            let v: String = v
                .strip_prefix("tel:")
                .unwrap_or(&v)
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect();
            format!("{v} [{}]", kinds(types(e)))
        }
        VCardProperty::Email => text_of(e)
            .trim_start_matches("mailto:")
            .to_ascii_lowercase(),
        VCardProperty::Adr => {
            let c: Vec<String> = components(e).iter().map(|s| s.trim().to_owned()).collect();
            let t = types(e);
            let kind = if t.iter().any(|x| x == "home") {
                "home"
            } else if t.iter().any(|x| x == "work") {
                "work"
            } else {
                "other"
            };
            if c.iter().all(String::is_empty) {
                String::new()
            } else {
                format!("{} [{kind}]", c.join(";"))
            }
        }
        VCardProperty::N | VCardProperty::Org => {
            let c: Vec<String> = components(e).iter().map(|s| s.trim().to_owned()).collect();
            let mut c = c;
            while c.last().is_some_and(String::is_empty) {
                c.pop();
            }
            c.join(";")
        }
        VCardProperty::Photo => match e.values.first() {
            Some(VCardValue::Binary(d)) => format!(
                "{} bytes, crc {:08x}",
                d.data.len(),
                super::import::crc32(&d.data)
            ),
            _ => text_of(e),
        },
        VCardProperty::Bday | VCardProperty::Anniversary => match e.values.first() {
            Some(VCardValue::PartialDateTime(p)) => {
                format!("{:?}-{:?}-{:?}", p.year, p.month, p.day)
            }
            _ => {
                let d: String = text_of(e).chars().filter(char::is_ascii_digit).collect();
                d
            }
        },
        VCardProperty::Categories => {
            let mut v: Vec<String> = e
                .values
                .iter()
                .flat_map(|v| match v {
                    VCardValue::Component(c) => c.clone(),
                    v => v.as_text().map(|s| vec![s.to_owned()]).unwrap_or_default(),
                })
                .map(|s| s.trim().to_owned())
                .collect();
            v.sort();
            v.join(",")
        }
        // Line breaks in text compare as LF (MAPI bodies use CRLF).
        _ => text_of(e).replace("\r\n", "\n"),
    }
}

/// The meaning of one content line of a card of `version`.
pub(crate) fn norm_line(line: &str, version: &str) -> String {
    let src = format!("BEGIN:VCARD\r\nVERSION:{version}\r\n{line}\r\nEND:VCARD\r\n");
    match calcard::Parser::new(&src).entry() {
        calcard::Entry::VCard(c) => c
            .entries
            .iter()
            .find(|e| {
                !matches!(
                    e.name,
                    VCardProperty::Version | VCardProperty::Begin | VCardProperty::End
                )
            })
            .map(|e| format!("{} {}", name_of(e), norm_entry(e)))
            .unwrap_or_default(),
        _ => line.to_owned(),
    }
}
