//! Request paths ↔ resources, and the hrefs of each resource.

use crate::xml::{decode_segment, encode_segment};
use crate::{Answer, ROOT};
use http::StatusCode;

/// Calendars or address books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/dav/calendars/…`, items `.ics`.
    Calendar,
    /// `/dav/addressbooks/…`, items `.vcf`.
    AddressBook,
}

impl Kind {
    /// The path segment of the homes.
    pub fn segment(self) -> &'static str {
        match self {
            Kind::Calendar => "calendars",
            Kind::AddressBook => "addressbooks",
        }
    }

    /// The item file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Calendar => ".ics",
            Kind::AddressBook => ".vcf",
        }
    }
}

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/dav/`.
    Root,
    /// `/dav/principals/<user>/`.
    Principal(String),
    /// `/dav/<kind>/<user>/`.
    Home(Kind, String),
    /// `/dav/<kind>/<user>/<folder>/`.
    Collection(Kind, String, String),
    /// `/dav/<kind>/<user>/<folder>/<name>` (name with extension).
    Item(Kind, String, String, String),
}

impl Target {
    /// The user the path belongs to.
    pub fn user(&self) -> Option<&str> {
        match self {
            Target::Root => None,
            Target::Principal(u)
            | Target::Home(_, u)
            | Target::Collection(_, u, _)
            | Target::Item(_, u, _, _) => Some(u),
        }
    }
}

/// Parses a request path (already without query).
pub(crate) fn parse(path: &str) -> Result<Target, Answer> {
    let not_found = || Answer::text(StatusCode::NOT_FOUND, format!("no resource at {path}"));
    let rest = path.strip_prefix(ROOT).ok_or_else(not_found)?;
    let mut segs = Vec::new();
    for s in rest.split('/').filter(|s| !s.is_empty()) {
        let d = decode_segment(s).ok_or_else(|| {
            Answer::text(
                StatusCode::BAD_REQUEST,
                format!("bad percent-encoding in {path}"),
            )
        })?;
        if d == "." || d == ".." || d.contains('/') || d.contains('\0') {
            return Err(Answer::text(
                StatusCode::BAD_REQUEST,
                format!("path segment {d:?} is not allowed"),
            ));
        }
        segs.push(d);
    }
    let kind = |s: &str| match s {
        "calendars" => Some(Kind::Calendar),
        "addressbooks" => Some(Kind::AddressBook),
        _ => None,
    };
    Ok(match segs.as_slice() {
        [] => Target::Root,
        [p, u] if p == "principals" => Target::Principal(u.clone()),
        [k, u] => Target::Home(kind(k).ok_or_else(not_found)?, u.clone()),
        [k, u, f] => Target::Collection(kind(k).ok_or_else(not_found)?, u.clone(), f.clone()),
        [k, u, f, n] => Target::Item(
            kind(k).ok_or_else(not_found)?,
            u.clone(),
            f.clone(),
            n.clone(),
        ),
        _ => return Err(not_found()),
    })
}

/// `/dav/`.
pub fn root_href() -> String {
    format!("{ROOT}/")
}

/// The principal's href.
pub fn principal_href(user: &str) -> String {
    format!("{ROOT}/principals/{}/", encode_segment(user))
}

/// A home's href.
pub fn home_href(kind: Kind, user: &str) -> String {
    format!("{ROOT}/{}/{}/", kind.segment(), encode_segment(user))
}

/// A collection's href.
pub fn collection_href(kind: Kind, user: &str, folder: &str) -> String {
    format!("{}{}/", home_href(kind, user), encode_segment(folder))
}

/// An item's href.
pub fn item_href(kind: Kind, user: &str, folder: &str, name: &str) -> String {
    format!(
        "{}{}",
        collection_href(kind, user, folder),
        encode_segment(name)
    )
}

/// Whether a UID can be a resource name (not empty, at most 200 bytes, no
/// `/` or NUL, and not in the `gx-` names of items without one).
pub fn uid_usable(uid: &str) -> bool {
    !uid.is_empty() && uid.len() <= 200 && !uid.contains(['/', '\0']) && !uid.starts_with("gx-")
}

/// The resource name of an item: its UID and the extension, or
/// `gx-<message id>` when it has no UID usable as a name.
pub fn item_name(kind: Kind, item_uid: &str, message_id: u64) -> String {
    if uid_usable(item_uid) {
        format!("{item_uid}{}", kind.extension())
    } else {
        format!("gx-{message_id}{}", kind.extension())
    }
}

/// A path or full URL (multiget hrefs) as a target; `None` if it is not ours.
pub fn parse_href(href: &str) -> Option<Target> {
    let href = href.trim();
    let path = match href.find("://") {
        Some(i) => {
            let after = &href[i + 3..];
            &after[after.find('/')?..]
        }
        None => href,
    };
    parse(path.split(['?', '#']).next().unwrap_or(path)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_resources_and_hrefs_parse_back() {
        assert_eq!(parse("/dav").ok(), Some(Target::Root));
        assert_eq!(parse("/dav/").ok(), Some(Target::Root));
        assert_eq!(
            parse("/dav/principals/a%40b.test/").ok(),
            Some(Target::Principal("a@b.test".into()))
        );
        assert_eq!(
            parse("/dav/calendars/a@b.test/calendar/x%20y.ics").ok(),
            Some(Target::Item(
                Kind::Calendar,
                "a@b.test".into(),
                "calendar".into(),
                "x y.ics".into()
            ))
        );
        assert!(parse("/dav/nothing/a/").is_err());
        assert!(parse("/dav/calendars/a/b/c/d").is_err());
        assert_eq!(
            parse("/dav/calendars/a/%2E%2E/x").err().map(|a| a.status),
            Some(StatusCode::BAD_REQUEST)
        );
        let href = item_href(Kind::AddressBook, "u@d", "contacts", "b? c#.vcf");
        let want = Some(Target::Item(
            Kind::AddressBook,
            "u@d".into(),
            "contacts".into(),
            "b? c#.vcf".into(),
        ));
        assert_eq!(parse_href(&format!("https://host:8443{href}")), want);
        assert_eq!(parse_href(&href), want);
        assert_eq!(parse_href("https://host/other/x"), None);
        assert_eq!(item_name(Kind::Calendar, "", 7), "gx-7.ics");
        assert_eq!(item_name(Kind::AddressBook, "u-1", 7), "u-1.vcf");
        assert_eq!(item_name(Kind::Calendar, "a/b", 8), "gx-8.ics");
        assert_eq!(item_name(Kind::Calendar, "gx-1", 9), "gx-9.ics");
    }
}
