//! The response encoder: response values to bytes, appended to a
//! reusable `Vec<u8>` that the session flushes to the socket.

mod code;
mod fetch_writer;
pub(crate) mod section;
pub(crate) mod string;

pub use fetch_writer::FetchWriter;
pub use string::without_nul;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::flag::write_flag_list;
use crate::num::{write_u32, write_u64};
use crate::response::{
    ContinueRequest, Data, ESearchResponse, ListExtendedItem, ListKind, ListResponse,
    NamespaceDescription, Response, StatusResponse, StatusValue, ThreadNode,
};
use crate::sequence::{write_modseq_suffix, write_number_set, write_spaced_numbers};

use code::write_code;
use string::{write_astring, write_nstring, write_quoted, write_string, write_text};

/// Encodes responses. The only state is whether UTF-8 may appear in quoted
/// strings (after `ENABLE UTF8=ACCEPT`, or in IMAP4rev2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseEncoder {
    utf8: bool,
}

impl ResponseEncoder {
    /// An encoder for a session where UTF-8 in quoted strings is (`true`)
    /// or is not (`false`) allowed; without it 8-bit text goes as a literal.
    pub fn new(utf8: bool) -> Self {
        ResponseEncoder { utf8 }
    }

    /// Whether UTF-8 may be quoted.
    pub fn utf8(&self) -> bool {
        self.utf8
    }

    /// Switches UTF-8 quoting on or off (e.g. after ENABLE UTF8=ACCEPT).
    pub fn set_utf8(&mut self, utf8: bool) {
        self.utf8 = utf8;
    }

    /// Appends any response, with its CRLF.
    pub fn encode(&self, out: &mut Vec<u8>, response: &Response) {
        match response {
            Response::Status(s) => self.status(out, s),
            Response::Data(d) => self.data(out, d),
            Response::Continue(c) => self.continue_request(out, c),
        }
    }

    /// Appends a status response.
    pub fn status(&self, out: &mut Vec<u8>, response: &StatusResponse) {
        match &response.tag {
            Some(tag) => out.extend_from_slice(tag.as_str().as_bytes()),
            None => out.push(b'*'),
        }
        out.push(b' ');
        out.extend_from_slice(response.status.as_str().as_bytes());
        if let Some(code) = &response.code {
            out.push(b' ');
            write_code(out, code);
        }
        if !response.text.is_empty() {
            out.push(b' ');
            write_text(out, &response.text);
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Appends a continuation request.
    pub fn continue_request(&self, out: &mut Vec<u8>, request: &ContinueRequest) {
        out.extend_from_slice(b"+ ");
        match request {
            ContinueRequest::Text { code, text } => {
                if let Some(code) = code {
                    write_code(out, code);
                    if !text.is_empty() {
                        out.push(b' ');
                    }
                }
                write_text(out, text);
            }
            ContinueRequest::Base64(data) => {
                let start = out.len();
                out.resize(start + data.len().div_ceil(3) * 4, 0);
                let written = STANDARD.encode_slice(data, &mut out[start..]).unwrap_or(0);
                out.truncate(start + written);
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Appends an untagged data response.
    pub fn data(&self, out: &mut Vec<u8>, data: &Data) {
        match data {
            Data::Capability(caps) => atom_list(out, b"* CAPABILITY", caps),
            Data::Enabled(caps) => atom_list(out, b"* ENABLED", caps),
            Data::List(list) => self.list(out, list),
            Data::Status { mailbox, items } => {
                out.extend_from_slice(b"* STATUS ");
                self.mailbox(out, mailbox);
                out.extend_from_slice(b" (");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    write_status_value(out, item);
                }
                out.push(b')');
            }
            Data::Flags(flags) => {
                out.extend_from_slice(b"* FLAGS ");
                write_flag_list(out, flags);
            }
            Data::Exists(n) => message_data(out, *n, b" EXISTS"),
            Data::Recent(n) => message_data(out, *n, b" RECENT"),
            Data::Expunge(n) => message_data(out, *n, b" EXPUNGE"),
            Data::Fetch(fetch) => {
                let mut writer = FetchWriter::start(out, fetch.seq, self.utf8);
                for item in &fetch.items {
                    writer.value(out, item);
                }
                writer.finish(out);
                return;
            }
            Data::Search { numbers, modseq } => {
                out.extend_from_slice(b"* SEARCH");
                write_spaced_numbers(out, numbers);
                write_modseq_suffix(out, *modseq);
            }
            Data::ESearch(esearch) => write_esearch(out, esearch),
            Data::Sort { numbers, modseq } => {
                out.extend_from_slice(b"* SORT");
                write_spaced_numbers(out, numbers);
                write_modseq_suffix(out, *modseq);
            }
            Data::Thread(roots) => {
                out.extend_from_slice(b"* THREAD");
                if !roots.is_empty() {
                    out.push(b' ');
                }
                write_threads(out, roots);
            }
            Data::Vanished { earlier, uids } => {
                out.extend_from_slice(if *earlier {
                    b"* VANISHED (EARLIER) "
                } else {
                    b"* VANISHED "
                });
                write_number_set(out, uids);
            }
            Data::Namespace {
                personal,
                other,
                shared,
            } => {
                out.extend_from_slice(b"* NAMESPACE");
                for group in [personal, other, shared] {
                    out.push(b' ');
                    self.namespace(out, group);
                }
            }
            Data::Id(fields) => {
                out.extend_from_slice(b"* ID ");
                match fields {
                    None => out.extend_from_slice(b"NIL"),
                    Some(fields) => {
                        out.push(b'(');
                        for (i, (key, value)) in fields.iter().enumerate() {
                            if i > 0 {
                                out.push(b' ');
                            }
                            write_string(out, key.as_bytes(), self.utf8);
                            out.push(b' ');
                            write_nstring(out, value.as_ref().map(|v| v.as_bytes()), self.utf8);
                        }
                        out.push(b')');
                    }
                }
            }
            Data::Quota { root, resources } => {
                out.extend_from_slice(b"* QUOTA ");
                write_astring(out, root.as_bytes(), self.utf8);
                out.extend_from_slice(b" (");
                for (i, r) in resources.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    out.extend_from_slice(r.name.as_bytes());
                    out.push(b' ');
                    write_u64(out, r.usage);
                    out.push(b' ');
                    write_u64(out, r.limit);
                }
                out.push(b')');
            }
            Data::QuotaRoot { mailbox, roots } => {
                out.extend_from_slice(b"* QUOTAROOT ");
                self.mailbox(out, mailbox);
                for root in roots {
                    out.push(b' ');
                    write_astring(out, root.as_bytes(), self.utf8);
                }
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Mailbox names are always quoted (or a literal when they cannot be).
    fn mailbox(&self, out: &mut Vec<u8>, name: &str) {
        write_string(out, name.as_bytes(), self.utf8);
    }

    fn list(&self, out: &mut Vec<u8>, list: &ListResponse) {
        out.extend_from_slice(match list.kind {
            ListKind::List => b"* LIST (",
            ListKind::Lsub => b"* LSUB (",
        });
        for (i, attribute) in list.attributes.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            attribute.write(out);
        }
        out.extend_from_slice(b") ");
        write_delimiter(out, list.delimiter);
        out.push(b' ');
        self.mailbox(out, &list.mailbox);
        if !list.extended.is_empty() {
            out.extend_from_slice(b" (");
            for (i, item) in list.extended.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                match item {
                    ListExtendedItem::ChildInfo(options) => {
                        out.extend_from_slice(b"\"CHILDINFO\" (");
                        for (j, o) in options.iter().enumerate() {
                            if j > 0 {
                                out.push(b' ');
                            }
                            write_string(out, o.as_bytes(), self.utf8);
                        }
                        out.push(b')');
                    }
                    ListExtendedItem::OldName(name) => {
                        out.extend_from_slice(b"\"OLDNAME\" (");
                        self.mailbox(out, name);
                        out.push(b')');
                    }
                }
            }
            out.push(b')');
        }
    }

    fn namespace(&self, out: &mut Vec<u8>, group: &[NamespaceDescription]) {
        if group.is_empty() {
            out.extend_from_slice(b"NIL");
            return;
        }
        out.push(b'(');
        for ns in group {
            out.push(b'(');
            write_string(out, ns.prefix.as_bytes(), self.utf8);
            out.push(b' ');
            write_delimiter(out, ns.delimiter);
            for (name, values) in &ns.extensions {
                out.push(b' ');
                write_string(out, name.as_bytes(), self.utf8);
                out.extend_from_slice(b" (");
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    write_string(out, v.as_bytes(), self.utf8);
                }
                out.push(b')');
            }
            out.push(b')');
        }
        out.push(b')');
    }
}

fn atom_list(out: &mut Vec<u8>, head: &[u8], atoms: &[String]) {
    out.extend_from_slice(head);
    for a in atoms {
        out.push(b' ');
        out.extend_from_slice(a.as_bytes());
    }
}

fn message_data(out: &mut Vec<u8>, n: u32, name: &[u8]) {
    out.extend_from_slice(b"* ");
    write_u32(out, n);
    out.extend_from_slice(name);
}

/// Writes `"/"` or `NIL`.
fn write_delimiter(out: &mut Vec<u8>, delimiter: Option<char>) {
    match delimiter {
        Some(d) => {
            let mut buf = [0u8; 4];
            write_quoted(out, d.encode_utf8(&mut buf).as_bytes());
        }
        None => out.extend_from_slice(b"NIL"),
    }
}

fn write_status_value(out: &mut Vec<u8>, value: &StatusValue) {
    let (name, n): (&[u8], Option<u64>) = match *value {
        StatusValue::Messages(n) => (b"MESSAGES", Some(n.into())),
        StatusValue::Recent(n) => (b"RECENT", Some(n.into())),
        StatusValue::UidNext(n) => (b"UIDNEXT", Some(n.into())),
        StatusValue::UidValidity(n) => (b"UIDVALIDITY", Some(n.into())),
        StatusValue::Unseen(n) => (b"UNSEEN", Some(n.into())),
        StatusValue::Deleted(n) => (b"DELETED", Some(n.into())),
        StatusValue::Size(n) => (b"SIZE", Some(n)),
        StatusValue::HighestModSeq(n) => (b"HIGHESTMODSEQ", Some(n)),
        StatusValue::AppendLimit(n) => (b"APPENDLIMIT", n),
        StatusValue::DeletedStorage(n) => (b"DELETED-STORAGE", Some(n)),
    };
    out.extend_from_slice(name);
    out.push(b' ');
    match n {
        Some(n) => write_u64(out, n),
        None => out.extend_from_slice(b"NIL"),
    }
}

fn write_esearch(out: &mut Vec<u8>, e: &ESearchResponse) {
    out.extend_from_slice(b"* ESEARCH");
    if let Some(tag) = &e.tag {
        out.extend_from_slice(b" (TAG ");
        write_quoted(out, tag.as_str().as_bytes());
        out.push(b')');
    }
    if e.uid {
        out.extend_from_slice(b" UID");
    }
    let numbers = [
        (b" MIN ".as_slice(), e.min),
        (b" MAX ", e.max),
        (b" COUNT ", e.count),
    ];
    for (name, value) in numbers {
        if let Some(n) = value {
            out.extend_from_slice(name);
            write_u32(out, n);
        }
    }
    if let Some(all) = e.all.as_ref().filter(|a| !a.is_empty()) {
        out.extend_from_slice(b" ALL ");
        write_number_set(out, all);
    }
    if let Some(m) = e.modseq {
        out.extend_from_slice(b" MODSEQ ");
        write_u64(out, m);
    }
}

/// Work items of the iterative THREAD writer (deep reply chains must not
/// recurse).
enum ThreadWork<'a> {
    Open,
    Close,
    Chain(&'a ThreadNode, bool),
}

/// Writes `(1 2 (3)(4 5))(6)`: a chain of single replies stays flat, two
/// or more replies become nested lists (RFC 5256 §4).
fn write_threads(out: &mut Vec<u8>, roots: &[ThreadNode]) {
    let mut stack: Vec<ThreadWork<'_>> = Vec::new();
    for root in roots.iter().rev() {
        stack.extend([
            ThreadWork::Close,
            ThreadWork::Chain(root, false),
            ThreadWork::Open,
        ]);
    }
    while let Some(work) = stack.pop() {
        match work {
            ThreadWork::Open => out.push(b'('),
            ThreadWork::Close => out.push(b')'),
            ThreadWork::Chain(mut node, mut need_sp) => {
                loop {
                    if let Some(n) = node.message {
                        if need_sp {
                            out.push(b' ');
                        }
                        write_u32(out, n);
                        need_sp = true;
                    }
                    match node.children.as_slice() {
                        [only] => node = only,
                        _ => break,
                    }
                }
                if node.children.len() >= 2 {
                    if need_sp {
                        out.push(b' ');
                    }
                    for child in node.children.iter().rev() {
                        stack.extend([
                            ThreadWork::Close,
                            ThreadWork::Chain(child, false),
                            ThreadWork::Open,
                        ]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
