//! What the directory accepts as names and store paths when it writes them.
//!
//! The checks keep the tables usable (ASCII names as in grommunio's columns,
//! sane lengths, no control characters); they are not what keeps SQL safe —
//! every query is parameterised, so any text is inert.

use crate::error::DirectoryError;

/// Longest user name, alias or altname (grommunio: varchar(320)).
pub const MAX_ADDRESS_LEN: usize = 320;
/// Longest domain name (grommunio: varchar(64)).
pub const MAX_DOMAIN_LEN: usize = 64;
/// Longest store directory.
pub const MAX_STORE_DIR_LEN: usize = 255;
/// Longest server hostname or external name.
pub const MAX_HOSTNAME_LEN: usize = 255;

fn printable_ascii(text: &str, allow_space: bool) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_graphic() || (allow_space && b == b' '))
}

/// Checks a domain name and returns it in lower case.
pub fn domain_name(name: &str) -> Result<String, DirectoryError> {
    let invalid = |why: &str| DirectoryError::invalid("domain name", format!("{name:?}: {why}"));
    if name.is_empty() || name.len() > MAX_DOMAIN_LEN {
        return Err(invalid("must be 1 to 64 characters"));
    }
    if !printable_ascii(name, false) || name.contains('@') {
        return Err(invalid(
            "only ASCII letters, digits and punctuation other than @ (IDN in punycode)",
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// Checks an address `local@domain` (user name, alias, altname) and returns
/// it in lower case with its domain part.
pub fn address(field: &'static str, text: &str) -> Result<(String, String), DirectoryError> {
    let invalid = |why: &str| DirectoryError::invalid(field, format!("{text:?}: {why}"));
    if text.is_empty() || text.len() > MAX_ADDRESS_LEN {
        return Err(invalid("must be 1 to 320 characters"));
    }
    if !printable_ascii(text, true) {
        return Err(invalid("only printable ASCII"));
    }
    let Some((local, domain)) = text.rsplit_once('@') else {
        return Err(invalid("must be local@domain"));
    };
    if local.is_empty() {
        return Err(invalid("the part before @ is empty"));
    }
    let domain = domain_name(domain)?;
    Ok((text.to_ascii_lowercase(), domain))
}

/// Checks an alias: an address, or `@domain` for the domain's catch-all.
pub fn alias(text: &str) -> Result<(String, String), DirectoryError> {
    match text.strip_prefix('@') {
        Some(domain) => {
            let domain = domain_name(domain)?;
            Ok((format!("@{domain}"), domain))
        }
        None => address("alias", text),
    }
}

/// Checks a store directory: absolute, no `..`, no control characters.
pub fn store_dir(field: &'static str, dir: &str) -> Result<(), DirectoryError> {
    let invalid = |why: &str| DirectoryError::invalid(field, format!("{dir:?}: {why}"));
    if !dir.starts_with('/') || dir.len() > MAX_STORE_DIR_LEN {
        return Err(invalid("must be an absolute path of at most 255 bytes"));
    }
    if dir.chars().any(char::is_control) {
        return Err(invalid("contains control characters"));
    }
    if dir.split('/').any(|part| part == "..") {
        return Err(invalid("contains .."));
    }
    Ok(())
}

/// Checks a server hostname (or external name, which may be empty).
pub fn hostname(field: &'static str, name: &str, may_be_empty: bool) -> Result<(), DirectoryError> {
    if name.is_empty() && may_be_empty {
        return Ok(());
    }
    if name.is_empty() || name.len() > MAX_HOSTNAME_LEN || !printable_ascii(name, false) {
        return Err(DirectoryError::invalid(
            field,
            format!("{name:?}: must be 1 to 255 printable ASCII characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<(&str, &str)>) {
        let got = address("username", text).ok();
        let got = got.as_ref().map(|(a, d)| (a.as_str(), d.as_str()));
        assert_eq!(got, expected, "{text:?}");
    }

    #[test]
    fn addresses_are_ascii_local_at_domain_in_lower_case() {
        check(
            "Alice@Example.ORG",
            Some(("alice@example.org", "example.org")),
        );
        check("o'brien@x.test", Some(("o'brien@x.test", "x.test")));
        check(
            "a'; DROP TABLE users; --@x.test",
            Some(("a'; drop table users; --@x.test", "x.test")),
        );
        check("\"a@b\"@x.test", Some(("\"a@b\"@x.test", "x.test")));
        check("alice", None);
        check("@x.test", None);
        check("alice@", None);
        check("ålice@x.test", None);
        check("al\nice@x.test", None);
        check(&format!("{}@x.test", "a".repeat(320)), None);
    }

    #[test]
    fn catch_all_aliases_name_only_a_domain() {
        assert_eq!(
            alias("@X.test").unwrap(),
            ("@x.test".into(), "x.test".into())
        );
        assert_eq!(alias("info@x.test").unwrap().0, "info@x.test");
        assert!(alias("@").is_err());
    }

    #[test]
    fn store_dirs_are_absolute_and_stay_where_they_are_put() {
        assert!(store_dir("maildir", "/var/lib/groxide/user/local/x.test/alice").is_ok());
        assert!(store_dir("maildir", "/tmp/x'; DROP TABLE users; --").is_ok());
        assert!(store_dir("maildir", "relative/path").is_err());
        assert!(store_dir("maildir", "/var/lib/groxide/../../etc").is_err());
        assert!(store_dir("maildir", "/a\0b").is_err());
    }
}
