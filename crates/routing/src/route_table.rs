//! exmdb_list.txt and midb_list.txt: prefix → node, first match in file order.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::host::normalise_host;
use crate::list_line::split_columns;

/// Longest line accepted, in bytes without the line ending (gromox's limit).
pub const MAX_LIST_LINE_LEN: usize = 1024;

/// Longest directory prefix accepted, in bytes (gromox's limit).
pub const MAX_PREFIX_LEN: usize = 255;

/// Largest list file accepted, in bytes; a real one has a handful of lines.
pub const MAX_LIST_FILE_SIZE: u64 = 4 << 20;

/// Which list file a table is read from; they differ in their columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// exmdb_list.txt: `prefix type host port`.
    Exmdb,
    /// midb_list.txt: `prefix host port`.
    Midb,
}

impl ListKind {
    fn column_names(self) -> &'static [&'static str] {
        match self {
            ListKind::Exmdb => &["prefix", "type", "host", "port"],
            ListKind::Midb => &["prefix", "host", "port"],
        }
    }
}

/// The type column of exmdb_list.txt: what kind of store lives under a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreType {
    /// A user's mailbox (`private`).
    Private,
    /// A domain's public folders (`public`).
    Public,
}

impl fmt::Display for StoreType {
    /// `private` or `public`, as written in the file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreType::Private => "private",
            StoreType::Public => "public",
        })
    }
}

/// One line of a list file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    /// The directory prefix, escapes resolved; matched byte for byte against a store dir.
    pub prefix: String,
    /// The type column (exmdb_list.txt only).
    pub store_type: Option<StoreType>,
    /// An IP literal (IPv4-mapped IPv6 written as IPv4) or a hostname.
    pub host: String,
    /// 1..=65535.
    pub port: u16,
    /// The 1-based line of the file, for logs and errors.
    pub line: usize,
}

/// A list file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_location(file, *line, reason))]
pub struct ListFileError {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line, or 0 when the problem is the whole file (unreadable, too large).
    pub line: usize,
    /// What is wrong, naming the bad column.
    pub reason: String,
}

fn display_location(file: &Path, line: usize, reason: &str) -> String {
    if line == 0 {
        format!("{}: {reason}", file.display())
    } else {
        format!("{}:{line}: {reason}", file.display())
    }
}

/// The parsed lines of one list file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    file: PathBuf,
    entries: Vec<RouteEntry>,
}

impl RouteTable {
    /// Parses the text of a list file; `file` is only used in errors.
    pub fn parse(text: &str, kind: ListKind, file: &Path) -> Result<RouteTable, ListFileError> {
        RouteTable::parse_bytes(text.as_bytes(), kind, file)
    }

    /// Reads and parses a list file; a file that does not exist is an empty
    /// table (as in gromox, though gromox then adds implicit `::1` entries:
    /// here the resolver's local default plays that part).
    pub fn load(path: &Path, kind: ListKind) -> Result<RouteTable, ListFileError> {
        let whole_file = |reason: String| ListFileError {
            file: path.to_path_buf(),
            line: 0,
            reason,
        };
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(RouteTable {
                    file: path.to_path_buf(),
                    entries: Vec::new(),
                });
            }
            Err(error) => return Err(whole_file(error.to_string())),
        };
        let mut bytes = Vec::new();
        file.take(MAX_LIST_FILE_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| whole_file(error.to_string()))?;
        if bytes.len() as u64 > MAX_LIST_FILE_SIZE {
            return Err(whole_file(format!(
                "file is larger than {MAX_LIST_FILE_SIZE} bytes"
            )));
        }
        RouteTable::parse_bytes(&bytes, kind, path)
    }

    /// A table with no entries: every dir goes to the homeserver or the local node.
    pub fn empty() -> RouteTable {
        RouteTable {
            file: PathBuf::new(),
            entries: Vec::new(),
        }
    }

    /// The first entry, in file order, whose prefix is a byte prefix of `dir`.
    ///
    /// Not the longest match: a broad prefix above a narrow one hides it, as in
    /// gromox. And `/a` matches `/ab/…` too: end prefixes with `/`.
    pub fn first_match(&self, dir: &str) -> Option<&RouteEntry> {
        self.entries
            .iter()
            .find(|entry| dir.starts_with(entry.prefix.as_str()))
    }

    /// Every entry in file order.
    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    /// The file this table was read from (empty for [`RouteTable::empty`]).
    pub fn file(&self) -> &Path {
        &self.file
    }

    fn parse_bytes(bytes: &[u8], kind: ListKind, file: &Path) -> Result<RouteTable, ListFileError> {
        let mut entries = Vec::new();
        for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = index + 1;
            let error = |reason: String| ListFileError {
                file: file.to_path_buf(),
                line,
                reason,
            };
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.len() > MAX_LIST_LINE_LEN {
                return Err(error(format!(
                    "line is {} bytes long, at most {MAX_LIST_LINE_LEN} allowed",
                    raw.len()
                )));
            }
            let text =
                std::str::from_utf8(raw).map_err(|_| error("not valid UTF-8".to_string()))?;
            let columns = split_columns(text).map_err(error)?;
            if columns.is_empty() {
                continue;
            }
            entries.push(parse_entry(&columns, kind, line).map_err(error)?);
        }
        Ok(RouteTable {
            file: file.to_path_buf(),
            entries,
        })
    }
}

/// Checks the columns of one line; the error names the bad column.
fn parse_entry(columns: &[String], kind: ListKind, line: usize) -> Result<RouteEntry, String> {
    let names = kind.column_names();
    if columns.len() > names.len() {
        return Err(format!(
            "too many columns: expected {} ({}), found {}",
            names.len(),
            names.join(" "),
            columns.len()
        ));
    }
    if let Some(missing) = names.get(columns.len()) {
        return Err(format!(
            "missing column {} ({missing}); expected: {}",
            columns.len() + 1,
            names.join(" ")
        ));
    }
    let bad = |index: usize, problem: String| {
        format!("column {} ({}): {problem}", index + 1, names[index])
    };

    let prefix = &columns[0];
    if !prefix.starts_with('/') {
        return Err(bad(
            0,
            format!("{prefix:?} must start with / (store directories are absolute paths)"),
        ));
    }
    if prefix.len() > MAX_PREFIX_LEN {
        return Err(bad(0, format!("longer than {MAX_PREFIX_LEN} bytes")));
    }
    let (store_type, host_index) = match kind {
        ListKind::Exmdb => {
            let store_type = match columns[1].to_ascii_lowercase().as_str() {
                "private" => StoreType::Private,
                "public" => StoreType::Public,
                _ => {
                    return Err(bad(
                        1,
                        format!("{:?} is neither private nor public", columns[1]),
                    ));
                }
            };
            (Some(store_type), 2)
        }
        ListKind::Midb => (None, 1),
    };
    let host_text = &columns[host_index];
    let host = normalise_host(host_text).ok_or_else(|| {
        bad(
            host_index,
            format!("{host_text:?} is neither an IP address nor a hostname"),
        )
    })?;
    let port_text = &columns[host_index + 1];
    let port = match port_text.parse::<u16>() {
        Ok(port) if port != 0 && port_text.bytes().all(|b| b.is_ascii_digit()) => port,
        _ => {
            return Err(bad(
                host_index + 1,
                format!("{port_text:?} is not a port (1..65535)"),
            ));
        }
    };
    Ok(RouteEntry {
        prefix: prefix.clone(),
        store_type,
        host,
        port,
        line,
    })
}
