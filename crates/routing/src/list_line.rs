//! One line of a gromox list file, split into columns.
//!
//! Columns are separated by spaces or tabs; an unescaped `#` ends the line
//! (so a line starting with `#` is a comment); a backslash escapes `#`,
//! space, tab or backslash, so a column may contain them.

/// Splits `line` into its columns, with escapes resolved.
///
/// The error text says what is wrong with the line (the caller adds file and line).
pub(crate) fn split_columns(line: &str) -> Result<Vec<String>, String> {
    let mut columns = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => break,
            ' ' | '\t' | '\r' => {
                if let Some(column) = current.take() {
                    columns.push(column);
                }
            }
            '\\' => {
                let escaped = match chars.next() {
                    Some(next @ ('#' | ' ' | '\t' | '\\')) => next,
                    Some(other) => {
                        return Err(format!(
                            "unknown escape \"\\{other}\" (only \\#, \\<space>, \\<tab> and \\\\ are escapes)"
                        ));
                    }
                    None => return Err("backslash at end of line".to_string()),
                };
                current.get_or_insert_with(String::new).push(escaped);
            }
            other => current.get_or_insert_with(String::new).push(other),
        }
    }
    if let Some(column) = current {
        columns.push(column);
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(line: &str, expected: Result<&[&str], &str>) {
        let expected =
            expected.map(|columns| columns.iter().map(ToString::to_string).collect::<Vec<_>>());
        assert_eq!(
            split_columns(line),
            expected.map_err(str::to_string),
            "split_columns({line:?})"
        );
    }

    #[test]
    fn columns_split_on_blanks_and_stop_at_an_unescaped_hash() {
        check("", Ok(&[]));
        check("   \t ", Ok(&[]));
        check("# a comment", Ok(&[]));
        check("   # indented comment", Ok(&[]));
        check(
            "/a/ private ::1 5000",
            Ok(&["/a/", "private", "::1", "5000"]),
        );
        check(
            "/a/\tprivate\t\t::1   5000\r",
            Ok(&["/a/", "private", "::1", "5000"]),
        );
        check(
            "/a/ ::1 5555 # trailing comment",
            Ok(&["/a/", "::1", "5555"]),
        );
        check("/a/ ::1 5555#glued comment", Ok(&["/a/", "::1", "5555"]));
    }

    #[test]
    fn backslash_escapes_hash_blanks_and_itself() {
        check(r"/my\ dir/ x", Ok(&["/my dir/", "x"]));
        check(r"/tag\#1/ x", Ok(&["/tag#1/", "x"]));
        check("/tab\\\there/ x", Ok(&["/tab\there/", "x"]));
        check(r"/back\\slash/ x", Ok(&[r"/back\slash/", "x"]));
        check(r"\# x", Ok(&["#", "x"]));
        check(r"/a/ x\", Err("backslash at end of line"));
        check(
            r"/a\b/ x",
            Err("unknown escape \"\\b\" (only \\#, \\<space>, \\<tab> and \\\\ are escapes)"),
        );
    }
}
