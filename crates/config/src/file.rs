//! The gromox `.cfg` line syntax: `key = value`, `#` comment lines, nothing else.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::error::ConfigError;

/// Longest line accepted, in bytes without the line ending (gromox's limit).
pub const MAX_LINE_LEN: usize = 1024;

/// Largest config file accepted, in bytes; a real one is a few kilobytes.
pub const MAX_FILE_SIZE: u64 = 1 << 20;

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assignment {
    /// Lower case.
    pub key: String,
    /// Trimmed; may be empty.
    pub value: String,
    /// 1-based.
    pub line: usize,
}

/// Reads `path`; a file that does not exist yields `Ok(None)` (all defaults, as in gromox).
pub(crate) fn read_config_file(path: &Path) -> Result<Option<Vec<u8>>, ConfigError> {
    let io_error = |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(error)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(ConfigError::FileTooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(Some(bytes))
}

/// Splits a config file into assignments, in line order; a bad line yields an
/// error in its place and parsing goes on, so all problems are reported at once.
///
/// Lines end in LF or CRLF; whitespace around key and value is trimmed; a line
/// whose first non-blank character is `#` is a comment; there are no trailing
/// comments and no escapes (`a = b # c` sets `a` to `b # c`); keys are
/// case-insensitive; the first `=` separates key from value.
pub(crate) fn parse_config_text(bytes: &[u8], file: &Path) -> Vec<Result<Assignment, ConfigError>> {
    let mut lines = Vec::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE_LEN {
            lines.push(Err(ConfigError::LineTooLong {
                file: file.to_path_buf(),
                line,
                len: raw.len(),
            }));
            continue;
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            lines.push(Err(ConfigError::NotUtf8 {
                file: file.to_path_buf(),
                line,
            }));
            continue;
        };
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let Some((key, value)) = text.split_once('=') else {
            lines.push(Err(ConfigError::MissingEquals {
                file: file.to_path_buf(),
                line,
            }));
            continue;
        };
        let key = key.trim().to_lowercase();
        if key.is_empty() {
            lines.push(Err(ConfigError::MissingKey {
                file: file.to_path_buf(),
                line,
            }));
            continue;
        }
        if let Some(&first_line) = first_line_of.get(&key) {
            lines.push(Err(ConfigError::DuplicateKey {
                file: file.to_path_buf(),
                line,
                key,
                first_line,
            }));
            continue;
        }
        first_line_of.insert(key.clone(), line);
        lines.push(Ok(Assignment {
            key,
            value: value.trim().to_string(),
            line,
        }));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> (Vec<(String, String, usize)>, Vec<String>) {
        let mut assignments = Vec::new();
        let mut errors = Vec::new();
        for line in parse_config_text(text, Path::new("t.cfg")) {
            match line {
                Ok(a) => assignments.push((a.key, a.value, a.line)),
                Err(error) => errors.push(error.to_string()),
            }
        }
        (assignments, errors)
    }

    fn ok(pairs: &[(&str, &str, usize)]) -> (Vec<(String, String, usize)>, Vec<String>) {
        let pairs = pairs
            .iter()
            .map(|(k, v, l)| (k.to_string(), v.to_string(), *l))
            .collect();
        (pairs, vec![])
    }

    #[test]
    fn lines_are_trimmed_keys_lowered_and_comments_skipped() {
        let text = b"# comment\n\n  Key_One =  value one  \r\n   # indented comment\nkey_two=\nkey3 = a = b # not a comment";
        assert_eq!(
            parse(text),
            ok(&[
                ("key_one", "value one", 3),
                ("key_two", "", 5),
                ("key3", "a = b # not a comment", 6)
            ])
        );
    }

    #[test]
    fn bad_lines_are_all_reported_with_their_line_numbers() {
        let long = format!("k = {}\n", "x".repeat(MAX_LINE_LEN));
        let mut text = b"a = 1\nno equals here\n = 5\nA = 2\n".to_vec();
        text.extend_from_slice(long.as_bytes());
        text.extend_from_slice(b"b = \xff\xfe\n");
        let (assignments, errors) = parse(&text);
        assert_eq!(assignments, vec![("a".to_string(), "1".to_string(), 1)]);
        assert_eq!(
            errors,
            vec![
                "t.cfg:2: expected `key = value` or a comment starting with #".to_string(),
                "t.cfg:3: no key before `=`".to_string(),
                "t.cfg:4: a: set again (first set on line 1)".to_string(),
                "t.cfg:5: line is 1028 bytes long, at most 1024 allowed".to_string(),
                "t.cfg:6: not valid UTF-8".to_string(),
            ]
        );
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_accepted() {
        let line = format!("k = {}", "x".repeat(MAX_LINE_LEN - 4));
        assert_eq!(parse(line.as_bytes()).1, Vec::<String>::new());
    }
}
