//! THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §3).
//!
//! Messages come in mailbox (UID) order. Where the RFC compares sent dates
//! and falls back to mailbox order when a Date field is unreadable, a
//! message without a readable Date field uses its internal date instead, so
//! every comparison is a total order.

use groxide_mailview::{ThreadTree as ThreadNode, Uid};
use std::collections::HashMap;

/// What threading knows of one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadMessage {
    /// UID.
    pub uid: Uid,
    /// Sent date (internal date when unreadable), Unix seconds.
    pub date: i64,
    /// Base subject, case-folded.
    pub base_subject: String,
    /// Whether the subject carried a reply or forward marker.
    pub is_reply: bool,
    /// Message-ID.
    pub message_id: Option<String>,
    /// References ids; the first In-Reply-To id when References has none.
    pub references: Vec<String>,
}

/// THREAD=ORDEREDSUBJECT: one thread per base subject; the earliest message
/// is the parent, every other one its child; threads ordered by their
/// first message's date.
pub fn ordered_subject(messages: &[ThreadMessage]) -> Vec<ThreadNode> {
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&messages[a], &messages[b]);
        (&x.base_subject, x.date, a).cmp(&(&y.base_subject, y.date, b))
    });
    let mut threads: Vec<(i64, usize, ThreadNode)> = Vec::new();
    let mut current: Option<&str> = None;
    for i in order {
        let m = &messages[i];
        let same = current == Some(m.base_subject.as_str());
        match threads.last_mut() {
            Some((_, _, parent)) if same => parent.children.push(ThreadNode {
                uid: m.uid,
                children: Vec::new(),
            }),
            _ => {
                threads.push((
                    m.date,
                    i,
                    ThreadNode {
                        uid: m.uid,
                        children: Vec::new(),
                    },
                ));
                current = Some(&m.base_subject);
            }
        }
    }
    threads.sort_by_key(|(date, i, _)| (*date, *i));
    threads.into_iter().map(|(_, _, t)| t).collect()
}

#[derive(Debug, Clone, Default)]
struct Container {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Arena<'m> {
    messages: &'m [ThreadMessage],
    nodes: Vec<Container>,
}

impl Arena<'_> {
    fn new_container(&mut self) -> usize {
        self.nodes.push(Container::default());
        self.nodes.len() - 1
    }

    /// Whether `a` is `b` or one of `b`'s ancestors.
    fn is_ancestor_or_self(&self, a: usize, mut b: usize) -> bool {
        let mut steps = 0;
        loop {
            if a == b {
                return true;
            }
            match self.nodes[b].parent {
                Some(p) if steps <= self.nodes.len() => {
                    b = p;
                    steps += 1;
                }
                _ => return false,
            }
        }
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.nodes[child].parent.take() {
            self.nodes[p].children.retain(|&c| c != child);
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.unlink(child);
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    fn is_dummy(&self, c: usize) -> bool {
        self.nodes[c].message.is_none()
    }

    /// The message that speaks for a container: itself, or a dummy's first child.
    fn representative(&self, c: usize) -> Option<usize> {
        match self.nodes[c].message {
            Some(m) => Some(m),
            None => self.nodes[c]
                .children
                .first()
                .and_then(|&k| self.nodes[k].message),
        }
    }

    fn subject(&self, c: usize) -> &str {
        self.representative(c)
            .map(|m| self.messages[m].base_subject.as_str())
            .unwrap_or("")
    }

    fn is_reply(&self, c: usize) -> bool {
        self.nodes[c]
            .message
            .is_some_and(|m| self.messages[m].is_reply)
    }

    /// Step 4: drops empty placeholders and splices the children of the
    /// others into their place (at the top only when there is one child).
    fn prune(&mut self, list: Vec<usize>, top: bool) -> Vec<usize> {
        let mut out = Vec::with_capacity(list.len());
        for c in list {
            let kids = std::mem::take(&mut self.nodes[c].children);
            let kids = self.prune(kids, false);
            for &k in &kids {
                self.nodes[k].parent = Some(c);
            }
            self.nodes[c].children = kids;
            if !self.is_dummy(c) {
                out.push(c);
                continue;
            }
            let kids = self.nodes[c].children.clone();
            if kids.is_empty() {
                continue;
            }
            if top && kids.len() > 1 {
                out.push(c);
                continue;
            }
            self.nodes[c].children.clear();
            for k in kids {
                self.nodes[k].parent = self.nodes[c].parent;
                out.push(k);
            }
        }
        out
    }

    /// Sort key of a container: its message's (or first child's) date, then
    /// mailbox order.
    fn sort_key(&self, c: usize) -> (i64, usize) {
        match self.representative(c) {
            Some(m) => (self.messages[m].date, m),
            None => (i64::MAX, usize::MAX),
        }
    }

    /// Step 6: sorts every set of siblings, deepest first.
    fn sort_siblings(&mut self, list: &mut [usize]) {
        for &c in list.iter() {
            let mut kids = std::mem::take(&mut self.nodes[c].children);
            self.sort_siblings(&mut kids);
            self.nodes[c].children = kids;
        }
        list.sort_by_key(|&c| self.sort_key(c));
    }

    fn tree(&self, c: usize) -> ThreadNode {
        ThreadNode {
            uid: self.nodes[c]
                .message
                .map(|m| self.messages[m].uid)
                .unwrap_or(0),
            children: self.nodes[c]
                .children
                .iter()
                .map(|&k| self.tree(k))
                .collect(),
        }
    }
}

/// THREAD=REFERENCES: threads from Message-ID, References and In-Reply-To,
/// then top-level threads with the same base subject gathered together.
pub fn references(messages: &[ThreadMessage]) -> Vec<ThreadNode> {
    let mut a = Arena {
        messages,
        nodes: Vec::with_capacity(messages.len() * 2),
    };
    // Step 1: the id table.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        let own = match m.message_id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => match ids.get(id) {
                Some(&c) if a.nodes[c].message.is_none() => c,
                // A duplicate Message-ID: this message gets a unique id.
                Some(_) => a.new_container(),
                None => {
                    let c = a.new_container();
                    ids.insert(id, c);
                    c
                }
            },
            None => a.new_container(),
        };
        a.nodes[own].message = Some(i);
        let mut refs: Vec<usize> = Vec::with_capacity(m.references.len());
        for r in m.references.iter().filter(|r| !r.is_empty()) {
            let c = match ids.get(r.as_str()) {
                Some(&c) => c,
                None => {
                    let c = a.new_container();
                    ids.insert(r, c);
                    c
                }
            };
            refs.push(c);
        }
        // 1.B: chain the references, never overriding a known parent and
        // never making a loop.
        for pair in refs.windows(2) {
            let (p, c) = (pair[0], pair[1]);
            if a.nodes[c].parent.is_none() && !a.is_ancestor_or_self(c, p) {
                a.link(p, c);
            }
        }
        // 1.C: the last reference is this message's parent.
        match refs.last() {
            Some(&p) if !a.is_ancestor_or_self(own, p) => a.link(p, own),
            Some(_) => {}
            None => a.unlink(own),
        }
    }
    // Steps 2 and 3: the root set.
    let roots: Vec<usize> = (0..a.nodes.len())
        .filter(|&c| a.nodes[c].parent.is_none())
        .collect();
    // Step 4.
    let roots = a.prune(roots, true);
    // Step 5: gather top-level threads by base subject.
    let mut table: HashMap<String, usize> = HashMap::new();
    for &c in &roots {
        let subject = a.subject(c).to_owned();
        if subject.is_empty() {
            continue;
        }
        let replace = match table.get(&subject) {
            None => true,
            Some(&t) => {
                (!a.is_dummy(t) && a.is_dummy(c))
                    || (!a.is_dummy(t) && !a.is_dummy(c) && a.is_reply(t) && !a.is_reply(c))
            }
        };
        if replace {
            table.insert(subject, c);
        }
    }
    let mut merged_roots: Vec<usize> = Vec::with_capacity(roots.len());
    let mut gone: Vec<bool> = vec![false; a.nodes.len()];
    for &c in &roots {
        if gone[c] {
            continue;
        }
        let subject = a.subject(c).to_owned();
        let Some(&t) = table.get(&subject).filter(|_| !subject.is_empty()) else {
            merged_roots.push(c);
            continue;
        };
        if t == c {
            merged_roots.push(c);
            continue;
        }
        if a.is_dummy(t) && a.is_dummy(c) {
            for k in std::mem::take(&mut a.nodes[c].children) {
                a.nodes[k].parent = None;
                a.link(t, k);
            }
            gone[c] = true;
        } else if a.is_dummy(t) != a.is_dummy(c) {
            let (dummy, real) = if a.is_dummy(t) { (t, c) } else { (c, t) };
            a.link(dummy, real);
            gone[real] = true;
            if dummy == c {
                merged_roots.push(c);
                table.insert(subject, c);
            }
        } else if !a.is_reply(t) && a.is_reply(c) {
            a.link(t, c);
            gone[c] = true;
        } else {
            let d = a.new_container();
            gone.push(false);
            a.link(d, t);
            a.link(d, c);
            gone[t] = true;
            gone[c] = true;
            table.insert(subject, d);
            merged_roots.push(d);
        }
    }
    let mut roots: Vec<usize> = merged_roots.into_iter().filter(|&c| !gone[c]).collect();
    // Roots that became children were marked gone; a new placeholder that
    // took a root's place may sit after it, so keep each root once.
    let mut seen = vec![false; a.nodes.len()];
    roots.retain(|&c| !std::mem::replace(&mut seen[c], true));
    // Step 6.
    a.sort_siblings(&mut roots);
    roots.iter().map(|&c| a.tree(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(uid, date, subject, message-id, references)`; a subject starting
    /// with "re:" is a reply.
    fn msgs(spec: &[(Uid, i64, &str, &str, &str)]) -> Vec<ThreadMessage> {
        spec.iter()
            .map(|&(uid, date, subject, id, refs)| ThreadMessage {
                uid,
                date,
                base_subject: subject.trim_start_matches("re:").to_owned(),
                is_reply: subject.starts_with("re:"),
                message_id: (!id.is_empty()).then(|| id.to_owned()),
                references: refs.split_whitespace().map(str::to_owned).collect(),
            })
            .collect()
    }

    /// Renders threads as IMAP writes them: `(1 2 (3)(4 5))`.
    fn render(threads: &[ThreadNode]) -> String {
        fn node(n: &ThreadNode, out: &mut String) {
            if n.uid == 0 {
                // A placeholder shows only its children.
            } else {
                out.push_str(&n.uid.to_string());
            }
            match n.children.len() {
                0 => {}
                1 if n.uid != 0 => {
                    out.push(' ');
                    node(&n.children[0], out);
                }
                _ => {
                    if n.uid != 0 {
                        out.push(' ');
                    }
                    for c in &n.children {
                        out.push('(');
                        node(c, out);
                        out.push(')');
                    }
                }
            }
        }
        threads
            .iter()
            .map(|t| {
                let mut s = String::from("(");
                node(t, &mut s);
                s.push(')');
                s
            })
            .collect()
    }

    fn check(
        algo: fn(&[ThreadMessage]) -> Vec<ThreadNode>,
        spec: &[(Uid, i64, &str, &str, &str)],
        expected: &str,
    ) {
        assert_eq!(render(&algo(&msgs(spec))), expected, "{spec:?}");
    }

    #[test]
    fn ordered_subject_groups_by_base_subject_and_orders_by_date() {
        check(ordered_subject, &[], "");
        check(
            ordered_subject,
            &[
                (1, 10, "a", "", ""),
                (2, 5, "b", "", ""),
                (3, 30, "a", "", ""),
                (4, 20, "a", "", ""),
                (5, 1, "c", "", ""),
                (6, 7, "b", "", ""),
            ],
            "(5)(2 6)(1 (4)(3))",
        );
        // Equal dates: mailbox order decides.
        check(
            ordered_subject,
            &[
                (7, 10, "x", "", ""),
                (3, 10, "x", "", ""),
                (9, 10, "y", "", ""),
            ],
            "(7 3)(9)",
        );
    }

    #[test]
    fn references_builds_trees_from_message_ids() {
        let references = references;
        // A simple chain with a reply to the root.
        check(
            references,
            &[
                (1, 1, "a", "<1>", ""),
                (2, 2, "re:a", "<2>", "<1>"),
                (3, 3, "re:a", "<3>", "<1> <2>"),
                (4, 4, "re:a", "<4>", "<1>"),
            ],
            "(1 (2 3)(4))",
        );
        // The parent is missing: a placeholder at the top holds the siblings.
        check(
            references,
            &[(1, 1, "re:x", "<b>", "<a>"), (2, 2, "re:x", "<c>", "<a>")],
            "((1)(2))",
        );
        // A missing parent with one child is not shown.
        check(references, &[(5, 1, "re:x", "<b>", "<a>")], "(5)");
        // A missing message in the middle of a chain is spliced out.
        check(
            references,
            &[(1, 1, "a", "<1>", ""), (3, 3, "re:a", "<3>", "<1> <2>")],
            "(1 3)",
        );
        // Messages without ids and references stand alone; different
        // subjects keep them apart.
        check(
            references,
            &[(1, 2, "a", "", ""), (2, 1, "b", "", "")],
            "(2)(1)",
        );
        // Siblings are ordered by date, threads by their first message.
        check(
            references,
            &[
                (1, 50, "p", "<p>", ""),
                (2, 70, "re:p", "<q>", "<p>"),
                (3, 60, "re:p", "<r>", "<p>"),
                (4, 10, "z", "<z>", ""),
            ],
            "(4)(1 (3)(2))",
        );
    }

    #[test]
    fn references_gathers_threads_by_subject() {
        // A reply whose references are lost joins the original by subject.
        check(
            references,
            &[(1, 1, "a", "<1>", ""), (2, 2, "re:a", "<2>", "")],
            "(1 2)",
        );
        // The original arriving after the reply still becomes the parent.
        check(
            references,
            &[(1, 1, "re:a", "<2>", ""), (2, 2, "a", "<1>", "")],
            "(2 1)",
        );
        // Two non-replies with the same subject become siblings under a placeholder.
        check(
            references,
            &[(1, 1, "a", "<1>", ""), (2, 2, "a", "<2>", "")],
            "((1)(2))",
        );
        // Two placeholders with the same subject merge.
        check(
            references,
            &[
                (1, 1, "re:a", "<b>", "<x>"),
                (2, 2, "re:a", "<c>", "<x>"),
                (3, 3, "re:a", "<d>", "<y>"),
                (4, 4, "re:a", "<e>", "<y>"),
            ],
            "((1)(2)(3)(4))",
        );
        // An empty subject is never gathered.
        check(
            references,
            &[(1, 1, "", "<1>", ""), (2, 2, "", "<2>", "")],
            "(1)(2)",
        );
    }

    #[test]
    fn references_survives_loops_and_duplicate_ids() {
        // Each message claims the other as parent.
        check(
            references,
            &[(1, 1, "a", "<1>", "<2>"), (2, 2, "re:a", "<2>", "<1>")],
            "(2 1)",
        );
        // A message referring to itself.
        check(references, &[(1, 1, "a", "<1>", "<1>")], "(1)");
        // Duplicate Message-IDs: the second is a message of its own.
        check(
            references,
            &[
                (1, 1, "a", "<1>", ""),
                (2, 2, "b", "<1>", ""),
                (3, 3, "re:a", "<3>", "<1>"),
            ],
            "(1 3)(2)",
        );
    }
}
