//! SORT (RFC 5256) with DISPLAYFROM/DISPLAYTO (RFC 5957).

use crate::digest::SortKeys;
use groxide_mailview::{SortCriterion, SortKey, Uid};
use std::cmp::Ordering;

/// What SORT knows of one message.
#[derive(Debug, Clone)]
pub struct SortItem<'a> {
    /// UID (ties are broken by UID, i.e. mailbox order).
    pub uid: Uid,
    /// Size in octets.
    pub size: u64,
    /// Internal date, Unix seconds.
    pub internal_date: i64,
    /// Keys from the digest (absent: empty strings, internal date).
    pub keys: Option<&'a SortKeys>,
}

fn text<'a>(item: &'a SortItem<'_>, pick: fn(&'a SortKeys) -> &'a str) -> &'a str {
    item.keys.map(pick).unwrap_or("")
}

fn compare(a: &SortItem<'_>, b: &SortItem<'_>, key: SortKey) -> Ordering {
    match key {
        SortKey::Arrival => a.internal_date.cmp(&b.internal_date),
        SortKey::Size => a.size.cmp(&b.size),
        SortKey::Date => {
            let date =
                |i: &SortItem<'_>| i.keys.and_then(|k| k.sent_date).unwrap_or(i.internal_date);
            date(a).cmp(&date(b))
        }
        SortKey::Cc => text(a, |k| &k.cc).cmp(text(b, |k| &k.cc)),
        SortKey::From => text(a, |k| &k.from).cmp(text(b, |k| &k.from)),
        SortKey::To => text(a, |k| &k.to).cmp(text(b, |k| &k.to)),
        SortKey::Subject => text(a, |k| &k.base_subject).cmp(text(b, |k| &k.base_subject)),
        SortKey::DisplayFrom => text(a, |k| &k.display_from).cmp(text(b, |k| &k.display_from)),
        SortKey::DisplayTo => text(a, |k| &k.display_to).cmp(text(b, |k| &k.display_to)),
    }
}

/// The UIDs of `items` in the order `criteria` ask for; messages equal
/// under every criterion stay in UID order.
pub fn sort(mut items: Vec<SortItem<'_>>, criteria: &[SortCriterion]) -> Vec<Uid> {
    items.sort_by(|a, b| {
        for c in criteria {
            let o = compare(a, b, c.key);
            let o = if c.reverse { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.uid.cmp(&b.uid)
    });
    items.into_iter().map(|i| i.uid).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(
        subject: &str,
        from: &str,
        display_from: &str,
        to: &str,
        cc: &str,
        sent: Option<i64>,
    ) -> SortKeys {
        SortKeys {
            base_subject: subject.into(),
            from: from.into(),
            display_from: display_from.into(),
            to: to.into(),
            display_to: to.into(),
            cc: cc.into(),
            sent_date: sent,
            ..SortKeys::default()
        }
    }

    fn check(criteria: &[(SortKey, bool)], expected: &[Uid]) {
        let k = [
            keys("beta", "zed", "adam", "bob", "", Some(300)),
            keys("alpha", "ann", "zoe", "carl", "x", None),
            keys("beta", "ann", "mia", "al", "", Some(100)),
            keys("", "", "", "", "", Some(200)),
        ];
        let items = vec![
            SortItem {
                uid: 1,
                size: 30,
                internal_date: 50,
                keys: Some(&k[0]),
            },
            SortItem {
                uid: 2,
                size: 10,
                internal_date: 40,
                keys: Some(&k[1]),
            },
            SortItem {
                uid: 3,
                size: 30,
                internal_date: 60,
                keys: Some(&k[2]),
            },
            SortItem {
                uid: 4,
                size: 20,
                internal_date: 10,
                keys: Some(&k[3]),
            },
            SortItem {
                uid: 5,
                size: 5,
                internal_date: 45,
                keys: None,
            },
        ];
        let criteria: Vec<SortCriterion> = criteria
            .iter()
            .map(|&(key, reverse)| SortCriterion { key, reverse })
            .collect();
        assert_eq!(sort(items, &criteria), expected, "{criteria:?}");
    }

    #[test]
    fn every_key_orders_as_rfc5256_and_rfc5957_say() {
        use SortKey::*;
        check(&[], &[1, 2, 3, 4, 5]);
        check(&[(Arrival, false)], &[4, 2, 5, 1, 3]);
        check(&[(Arrival, true)], &[3, 1, 5, 2, 4]);
        check(&[(Size, false)], &[5, 2, 4, 1, 3]);
        check(&[(Size, true)], &[1, 3, 4, 2, 5]);
        // Message 2 has no Date: its internal date (40) stands in; 5 likewise (45).
        check(&[(Date, false)], &[2, 5, 3, 4, 1]);
        check(&[(Subject, false)], &[4, 5, 2, 1, 3]);
        check(&[(Subject, false), (Date, true)], &[4, 5, 2, 1, 3]);
        check(&[(Subject, false), (Date, false)], &[5, 4, 2, 3, 1]);
        check(&[(From, false)], &[4, 5, 2, 3, 1]);
        check(&[(DisplayFrom, false)], &[4, 5, 1, 3, 2]);
        check(&[(To, false)], &[4, 5, 3, 1, 2]);
        check(&[(DisplayTo, true)], &[2, 1, 3, 4, 5]);
        check(&[(Cc, true)], &[2, 1, 3, 4, 5]);
        check(&[(From, false), (Size, true)], &[4, 5, 3, 2, 1]);
    }
}
