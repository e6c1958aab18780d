//! "Did you mean …?" for unknown keys: the closest known key by edit distance.

/// Returns the candidate closest to `key`, if it is close enough to be a typo.
pub(crate) fn closest<'a>(
    key: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // A third of the length, at most 3: `imap_conn_timout` finds `imap_conn_timeout`,
    // but short keys do not "match" unrelated short keys.
    let limit = (key.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(key, candidate);
        if distance <= limit && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Levenshtein distance over chars (insert, delete, substitute).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, a_char) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &[
        "imap_conn_timeout",
        "imap_listen",
        "imap_listen_tls",
        "host_id",
        "context_num",
    ];

    #[track_caller]
    fn check(key: &str, expected: Option<&str>) {
        assert_eq!(
            closest(key, KEYS.iter().copied()),
            expected,
            "closest({key:?})"
        );
    }

    #[test]
    fn typos_find_the_intended_key_and_unrelated_keys_find_nothing() {
        check("imap_conn_timout", Some("imap_conn_timeout"));
        check("imap_listn", Some("imap_listen"));
        check("imap_listen_tl", Some("imap_listen_tls"));
        check("hostid", Some("host_id"));
        check("context_nums", Some("context_num"));
        check("pop3_listen", None);
        check("xyz", None);
        check("", None);
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("µs", "us"), 1);
    }
}
