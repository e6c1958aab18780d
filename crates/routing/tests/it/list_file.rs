//! Parsing exmdb_list.txt and midb_list.txt, and first-match lookup.

use std::path::Path;

use groxide_routing::{ListFileError, ListKind, RouteEntry, RouteTable, StoreType};

const FILE: &str = "/etc/groxide/exmdb_list.txt";

fn table(text: &str, kind: ListKind) -> RouteTable {
    RouteTable::parse(text, kind, Path::new(FILE)).unwrap_or_else(|error| panic!("{error}"))
}

fn entry(
    prefix: &str,
    store_type: Option<StoreType>,
    host: &str,
    port: u16,
    line: usize,
) -> RouteEntry {
    RouteEntry {
        prefix: prefix.to_string(),
        store_type,
        host: host.to_string(),
        port,
        line,
    }
}

#[test]
fn exmdb_lines_have_prefix_type_host_and_port() {
    let text = "# exmdb routing\n\
                /var/lib/groxide/user/ private 10.0.0.2 5000\n\
                \n\
                /var/lib/groxide/domain/\tPUBLIC\t::ffff:10.0.0.3\t5001  # public folders\n\
                /srv/mail/ private db3.example.com 5000\r\n";
    assert_eq!(
        table(text, ListKind::Exmdb).entries(),
        &[
            entry(
                "/var/lib/groxide/user/",
                Some(StoreType::Private),
                "10.0.0.2",
                5000,
                2
            ),
            entry(
                "/var/lib/groxide/domain/",
                Some(StoreType::Public),
                "10.0.0.3",
                5001,
                4
            ),
            entry(
                "/srv/mail/",
                Some(StoreType::Private),
                "db3.example.com",
                5000,
                5
            ),
        ]
    );
}

#[test]
fn midb_lines_have_prefix_host_and_port() {
    let text = "/var/lib/groxide/user/ ::1 5555\n/ [2001:db8::5] 5556\n";
    assert_eq!(
        table(text, ListKind::Midb).entries(),
        &[
            entry("/var/lib/groxide/user/", None, "::1", 5555, 1),
            entry("/", None, "2001:db8::5", 5556, 2),
        ]
    );
}

#[test]
fn escapes_put_blanks_hashes_and_backslashes_into_a_prefix() {
    let text = "/mail\\ store/\\#1/ ::1 5555 # the rest is a comment\n/back\\\\slash/\t::1 5555\n";
    let prefixes: Vec<String> = table(text, ListKind::Midb)
        .entries()
        .iter()
        .map(|e| e.prefix.clone())
        .collect();
    assert_eq!(
        prefixes,
        vec!["/mail store/#1/".to_string(), "/back\\slash/".to_string()]
    );
    assert_eq!(
        table(text, ListKind::Midb)
            .first_match("/mail store/#1/alice")
            .map(|e| e.line),
        Some(1)
    );
}

#[test]
fn the_first_matching_line_in_file_order_wins_not_the_longest() {
    let text = "/var/lib/groxide/user/ private 10.0.0.1 5000\n\
                /var/lib/groxide/user/n2/ private 10.0.0.2 5000\n\
                /var/lib/groxide/domain/ public 10.0.0.3 5000\n";
    let parsed = table(text, ListKind::Exmdb);
    let host_of = |dir: &str| parsed.first_match(dir).map(|e| e.host.as_str());
    assert_eq!(
        host_of("/var/lib/groxide/user/n2/example.org/bob"),
        Some("10.0.0.1")
    );
    assert_eq!(
        host_of("/var/lib/groxide/domain/example.org"),
        Some("10.0.0.3")
    );
    assert_eq!(host_of("/home/bob"), None);
    assert_eq!(host_of("/var/lib/groxide/use"), None);
}

#[test]
fn a_prefix_without_trailing_slash_also_matches_longer_names() {
    // The documented pitfall, kept from gromox: prefixes are compared byte for byte.
    let parsed = table("/a ::1 5555\n", ListKind::Midb);
    assert_eq!(parsed.first_match("/a/alice").map(|e| e.line), Some(1));
    assert_eq!(parsed.first_match("/ab/alice").map(|e| e.line), Some(1));
    let with_slash = table("/a/ ::1 5555\n", ListKind::Midb);
    assert_eq!(with_slash.first_match("/ab/alice"), None);
}

#[test]
fn an_empty_or_comment_only_file_is_an_empty_table() {
    for text in ["", "\n\n", "# nothing\n   # here\n\t\n"] {
        assert!(
            table(text, ListKind::Exmdb).entries().is_empty(),
            "{text:?}"
        );
    }
    assert!(RouteTable::empty().entries().is_empty());
    assert_eq!(RouteTable::empty().first_match("/"), None);
}

/// Asserts that `text` is refused with `file:line: reason`.
#[track_caller]
fn check_bad(text: &str, kind: ListKind, line: usize, reason: &str) {
    let error = RouteTable::parse(text, kind, Path::new(FILE)).err();
    let expected = ListFileError {
        file: FILE.into(),
        line,
        reason: reason.to_string(),
    };
    assert_eq!(error.as_ref(), Some(&expected), "{text:?}");
    assert_eq!(expected.to_string(), format!("{FILE}:{line}: {reason}"));
}

#[test]
fn bad_lines_are_errors_naming_file_line_and_column() {
    use ListKind::{Exmdb, Midb};
    check_bad(
        "/a/ shared ::1 5000\n",
        Exmdb,
        1,
        "column 2 (type): \"shared\" is neither private nor public",
    );
    check_bad(
        "# ok\n/a/ private ::1\n",
        Exmdb,
        2,
        "missing column 4 (port); expected: prefix type host port",
    );
    check_bad(
        "/a/ private ::1 5000 extra\n",
        Exmdb,
        1,
        "too many columns: expected 4 (prefix type host port), found 5",
    );
    check_bad(
        "/a/ private db_1 5000\n",
        Exmdb,
        1,
        "column 3 (host): \"db_1\" is neither an IP address nor a hostname",
    );
    check_bad(
        "/a/ private ::1 0\n",
        Exmdb,
        1,
        "column 4 (port): \"0\" is not a port (1..65535)",
    );
    check_bad(
        "/a/ private ::1 65536\n",
        Exmdb,
        1,
        "column 4 (port): \"65536\" is not a port (1..65535)",
    );
    check_bad(
        "/a/ private ::1 +5\n",
        Exmdb,
        1,
        "column 4 (port): \"+5\" is not a port (1..65535)",
    );
    check_bad(
        "a/ private ::1 5000\n",
        Exmdb,
        1,
        "column 1 (prefix): \"a/\" must start with / (store directories are absolute paths)",
    );
    check_bad(
        "/a/ 10.0.0.256 5555\n",
        Midb,
        1,
        "column 2 (host): \"10.0.0.256\" is neither an IP address nor a hostname",
    );
    check_bad(
        "/a/ ::1 5555 private\n",
        Midb,
        1,
        "too many columns: expected 3 (prefix host port), found 4",
    );
    check_bad(
        "/a/ ::1 55\\55\n",
        Midb,
        1,
        "unknown escape \"\\5\" (only \\#, \\<space>, \\<tab> and \\\\ are escapes)",
    );
    check_bad("/a/ ::1 5555\\", Midb, 1, "backslash at end of line");
    let long_prefix = format!("/{} ::1 5555\n", "p".repeat(255));
    check_bad(
        &long_prefix,
        Midb,
        1,
        "column 1 (prefix): longer than 255 bytes",
    );
    let long_line = format!("/a/ ::1 5555 #{}\n", "x".repeat(1100));
    check_bad(
        &long_line,
        Midb,
        1,
        "line is 1114 bytes long, at most 1024 allowed",
    );
}

#[test]
fn a_missing_file_is_an_empty_table_and_bad_bytes_name_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("exmdb_list.txt");
    assert!(
        RouteTable::load(&missing, ListKind::Exmdb)
            .unwrap()
            .entries()
            .is_empty()
    );

    let path = dir.path().join("midb_list.txt");
    std::fs::write(&path, b"/a/ ::1 5555\n/b\xff/ ::1 5555\n").unwrap();
    let error = RouteTable::load(&path, ListKind::Midb).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{}:2: not valid UTF-8", path.display())
    );

    std::fs::write(&path, b"/a/ ::1 5555\n").unwrap();
    let loaded = RouteTable::load(&path, ListKind::Midb).unwrap();
    assert_eq!(loaded.entries(), &[entry("/a/", None, "::1", 5555, 1)]);
    assert_eq!(loaded.file(), path);
}

#[test]
fn an_unreadable_list_file_is_an_error_for_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be cannot be read as a file.
    let error = RouteTable::load(dir.path(), ListKind::Midb).unwrap_err();
    assert_eq!(error.line, 0);
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}: ", dir.path().display())),
        "{error}"
    );
}

mod invariants {
    use std::path::Path;

    use proptest::prelude::*;

    use groxide_routing::{ListKind, RouteTable};

    /// Writes a prefix the way an administrator escapes it in a list file.
    fn escape(prefix: &str) -> String {
        prefix
            .chars()
            .map(|c| match c {
                '#' | ' ' | '\t' | '\\' => format!("\\{c}"),
                other => other.to_string(),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn any_escaped_prefix_reads_back_unchanged(rest in "[a-z0-9/ #\t\\\\.-]{0,60}") {
            let prefix = format!("/{rest}");
            let text = format!("{} ::1 5555 # comment\n", escape(&prefix));
            let table = RouteTable::parse(&text, ListKind::Midb, Path::new("t")).unwrap();
            prop_assert_eq!(table.entries()[0].prefix.as_str(), prefix.as_str());
        }

        #[test]
        fn the_match_is_the_first_line_whose_prefix_starts_the_dir(
            prefixes in proptest::collection::vec("/[ab]{0,3}", 1..6),
            dir in "/[ab]{0,5}",
        ) {
            let text: String = prefixes.iter().map(|p| format!("{p} ::1 5555\n")).collect();
            let table = RouteTable::parse(&text, ListKind::Midb, Path::new("t")).unwrap();
            let expected = prefixes.iter().position(|p| dir.starts_with(p.as_str())).map(|index| index + 1);
            prop_assert_eq!(table.first_match(&dir).map(|e| e.line), expected);
        }
    }
}
