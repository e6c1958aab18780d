//! gromox's `lda_junk_rules`: header tests that send a message to the Junk
//! Email folder instead of the Inbox.
//!
//! Syntax (as gromox): rules separated by `;`, each `Header=Value`, spaces
//! around names and values ignored, entries without `=` ignored. A rule
//! matches when the message has that header (name compared without case) and
//! the rule's value is empty (presence is enough), equals the whole header
//! value, or equals one of the value's items split at `;` and `,` (values
//! compared without case, items trimmed). `X-Spam-Flag=YES; X-MC-Relay=`
//! files a message as junk when X-Spam-Flag is YES or an X-MC-Relay header
//! exists. Only the first occurrence of a header is examined.

/// One `Header=Value` test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunkRule {
    /// The header field name.
    pub header: String,
    /// The value to look for; empty = the header's presence is enough.
    pub value: String,
}

/// The parsed `lda_junk_rules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JunkRules {
    rules: Vec<JunkRule>,
}

impl JunkRules {
    /// Parses the config value (never fails: malformed entries are skipped,
    /// as gromox does).
    pub fn parse(text: &str) -> JunkRules {
        let rules = text
            .split(';')
            .filter_map(|entry| {
                let (name, value) = entry.split_once('=')?;
                let name = name.trim();
                (!name.is_empty()).then(|| JunkRule {
                    header: name.to_string(),
                    value: value.trim().to_string(),
                })
            })
            .collect();
        JunkRules { rules }
    }

    /// True when there are no rules (then headers need not be looked at).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in config order.
    pub fn rules(&self) -> &[JunkRule] {
        &self.rules
    }

    /// Does a message with this header block (or a prefix of the message
    /// holding it) match any rule?
    pub fn matches(&self, header: &[u8]) -> bool {
        self.rules.iter().any(|rule| {
            groxide_mime::find_header(header, &rule.header)
                .is_some_and(|found| value_matches(&rule.value, &found))
        })
    }
}

fn value_matches(wanted: &str, found: &str) -> bool {
    if wanted.is_empty() || wanted.eq_ignore_ascii_case(found.trim()) {
        return true;
    }
    found
        .split([';', ','])
        .any(|item| item.trim().eq_ignore_ascii_case(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rules: &str, header: &str, junk: bool) {
        let r = JunkRules::parse(rules);
        assert_eq!(
            r.matches(header.as_bytes()),
            junk,
            "rules {rules:?} on {header:?}"
        );
    }

    #[test]
    fn junk_rules_follow_gromox_semantics() {
        let rules = "X-Spam-Flag=YES; X-MC-Relay=";
        check(rules, "X-Spam-Flag: YES\r\n\r\nbody", true);
        check(rules, "x-spam-flag:   yes  \r\n\r\nbody", true);
        check(rules, "X-Spam-Flag: NO\r\n\r\nbody", false);
        check(rules, "X-MC-Relay: anything\r\n\r\n", true);
        check(rules, "X-MC-Relay:\r\n\r\n", true);
        check(rules, "Subject: X-Spam-Flag: YES\r\n\r\n", false);
        // Only the header block counts, not the body.
        check(rules, "Subject: hi\r\n\r\nX-Spam-Flag: YES\r\n", false);
        // Items separated by ; or , match one by one.
        check("X-Spam=yes", "X-Spam: score=9.1; yes, tests\r\n\r\n", true);
        check("X-Spam=yes", "X-Spam: score=9.1; yesterday\r\n\r\n", false);
        // Folded values are unfolded first.
        check("X-Spam-Flag=YES", "X-Spam-Flag:\r\n YES\r\n\r\n", true);
    }

    #[test]
    fn malformed_entries_are_skipped() {
        assert!(JunkRules::parse("").is_empty());
        assert!(JunkRules::parse(" ; ;novalue; =x").is_empty());
        let r = JunkRules::parse(" A = b ;C=");
        assert_eq!(
            r.rules(),
            &[
                JunkRule {
                    header: "A".into(),
                    value: "b".into()
                },
                JunkRule {
                    header: "C".into(),
                    value: String::new()
                }
            ]
        );
    }
}
