//! Helpers shared by the integration tests: the corpus and an IMAP syntax
//! checker.
#![allow(dead_code, clippy::expect_used)]

use std::path::PathBuf;

/// The shared MIME corpus (also used by other crates).
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/mime")
}

/// The raw bytes of one corpus file.
pub fn corpus(name: &str) -> Vec<u8> {
    let path = corpus_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Names of every `.eml` file in the corpus, sorted.
pub fn corpus_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    names
}

/// Checks that `b` is exactly one IMAP parenthesised list made of NIL,
/// numbers, quoted strings, literals and nested lists (the shapes ENVELOPE
/// and BODYSTRUCTURE use). Returns a description of the first error.
pub fn check_imap_list(b: &[u8]) -> Result<(), String> {
    if b.first() != Some(&b'(') {
        return Err("does not start with '('".into());
    }
    let end = list(b, 0)?;
    if end != b.len() {
        return Err(format!("trailing bytes at {end}"));
    }
    Ok(())
}

fn list(b: &[u8], mut i: usize) -> Result<usize, String> {
    i += 1; // '('
    let mut first = true;
    let mut prev_was_list = false;
    loop {
        match b.get(i) {
            None => return Err("unclosed list".into()),
            Some(b')') => return Ok(i + 1),
            Some(b' ') if !first => i += 1,
            Some(b'(') if prev_was_list => {}
            Some(_) if first => {}
            Some(c) => return Err(format!("unexpected {:?} at {i}", *c as char)),
        }
        prev_was_list = b.get(i) == Some(&b'(');
        i = item(b, i)?;
        first = false;
    }
}

fn item(b: &[u8], i: usize) -> Result<usize, String> {
    match b.get(i) {
        Some(b'(') => list(b, i),
        Some(b'"') => {
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    None => return Err("unclosed quoted string".into()),
                    Some(b'"') => return Ok(j + 1),
                    Some(b'\\') => {
                        if !matches!(b.get(j + 1), Some(b'"' | b'\\')) {
                            return Err(format!("bad escape at {j}"));
                        }
                        j += 2;
                    }
                    Some(&c) if c == b'\r' || c == b'\n' || c == 0 || c >= 0x80 => {
                        return Err(format!("byte {c:#x} in quoted string at {j}"));
                    }
                    Some(_) => j += 1,
                }
            }
        }
        Some(b'{') => {
            let close = b[i..]
                .iter()
                .position(|&c| c == b'}')
                .ok_or("unclosed literal size")?
                + i;
            let n: usize = std::str::from_utf8(&b[i + 1..close])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or("bad literal size")?;
            if b.get(close + 1..close + 3) != Some(b"\r\n") {
                return Err("literal size not followed by CRLF".into());
            }
            let start = close + 3;
            if start + n > b.len() {
                return Err("literal runs past the end".into());
            }
            if b[start..start + n].contains(&0) {
                return Err("NUL in literal".into());
            }
            Ok(start + n)
        }
        Some(b'N') if b[i..].starts_with(b"NIL") => Ok(i + 3),
        Some(c) if c.is_ascii_digit() => {
            Ok(i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count())
        }
        other => Err(format!("unexpected {other:?} at {i}")),
    }
}
