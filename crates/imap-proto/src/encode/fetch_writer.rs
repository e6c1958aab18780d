//! Item-by-item writing of one FETCH response, so message bytes can be
//! streamed from a file or RPC stream instead of being held in memory.

use crate::datetime::ImapDateTime;
use crate::flag::{Flag, write_flag_list};
use crate::num::{write_u32, write_u64};
use crate::response::{FetchBodyName, FetchValue};

use super::section::{write_binary_section, write_section};
use super::string::{write_binary_nstring, write_literal_header, write_nstring};

/// Writes `* seq FETCH (item item ...)\r\n` piece by piece into the
/// session's output buffer. Each method takes the buffer, so the session
/// may flush it to the socket between items; to stream a body, call
/// [`FetchWriter::literal_header`], flush, send exactly the announced number
/// of bytes from wherever they live, then continue with the next item or
/// [`FetchWriter::finish`].
#[derive(Debug)]
pub struct FetchWriter {
    items: usize,
    utf8: bool,
}

impl FetchWriter {
    /// Writes `* seq FETCH (`. `utf8` allows UTF-8 in quoted strings
    /// (UTF8=ACCEPT enabled).
    pub fn start(out: &mut Vec<u8>, seq: u32, utf8: bool) -> FetchWriter {
        out.extend_from_slice(b"* ");
        write_u32(out, seq);
        out.extend_from_slice(b" FETCH (");
        FetchWriter { items: 0, utf8 }
    }

    fn separator(&mut self, out: &mut Vec<u8>) {
        if self.items > 0 {
            out.push(b' ');
        }
        self.items += 1;
    }

    /// `UID n`.
    pub fn uid(&mut self, out: &mut Vec<u8>, uid: u32) {
        self.separator(out);
        out.extend_from_slice(b"UID ");
        write_u32(out, uid);
    }

    /// `FLAGS (...)`.
    pub fn flags(&mut self, out: &mut Vec<u8>, flags: &[Flag]) {
        self.separator(out);
        out.extend_from_slice(b"FLAGS ");
        write_flag_list(out, flags);
    }

    /// `INTERNALDATE "dd-Mon-yyyy hh:mm:ss +zzzz"`.
    pub fn internal_date(&mut self, out: &mut Vec<u8>, date: &ImapDateTime) {
        self.separator(out);
        out.extend_from_slice(b"INTERNALDATE \"");
        date.write(out);
        out.push(b'"');
    }

    /// `RFC822.SIZE n`.
    pub fn rfc822_size(&mut self, out: &mut Vec<u8>, size: u64) {
        self.separator(out);
        out.extend_from_slice(b"RFC822.SIZE ");
        write_u64(out, size);
    }

    /// `MODSEQ (n)`.
    pub fn modseq(&mut self, out: &mut Vec<u8>, modseq: u64) {
        self.separator(out);
        out.extend_from_slice(b"MODSEQ (");
        write_u64(out, modseq);
        out.push(b')');
    }

    /// `ENVELOPE` followed by its pre-rendered IMAP syntax.
    pub fn envelope(&mut self, out: &mut Vec<u8>, rendered: &[u8]) {
        self.rendered(out, b"ENVELOPE ", rendered);
    }

    /// `BODYSTRUCTURE` followed by its pre-rendered IMAP syntax.
    pub fn body_structure(&mut self, out: &mut Vec<u8>, rendered: &[u8]) {
        self.rendered(out, b"BODYSTRUCTURE ", rendered);
    }

    /// `BODY` (non-extensible structure) followed by its pre-rendered syntax.
    pub fn body(&mut self, out: &mut Vec<u8>, rendered: &[u8]) {
        self.rendered(out, b"BODY ", rendered);
    }

    fn rendered(&mut self, out: &mut Vec<u8>, name: &[u8], rendered: &[u8]) {
        self.separator(out);
        out.extend_from_slice(name);
        out.extend_from_slice(rendered);
    }

    /// A body item with its data held in memory (`None` gives `NIL`).
    pub fn section(&mut self, out: &mut Vec<u8>, name: &FetchBodyName, data: Option<&[u8]>) {
        self.separator(out);
        write_body_name(out, name);
        out.push(b' ');
        if matches!(name, FetchBodyName::Binary { .. }) {
            write_binary_nstring(out, data, self.utf8);
        } else {
            write_nstring(out, data, self.utf8);
        }
    }

    /// The name of a body item and the literal header for `len` bytes
    /// (`~{len}` when `binary`: BINARY data containing NUL). The caller
    /// must send exactly `len` bytes next, then go on with this writer.
    pub fn literal_header(
        &mut self,
        out: &mut Vec<u8>,
        name: &FetchBodyName,
        len: u64,
        binary: bool,
    ) {
        self.separator(out);
        write_body_name(out, name);
        out.push(b' ');
        write_literal_header(out, len, binary);
    }

    /// `BINARY.SIZE[part] n`.
    pub fn binary_size(&mut self, out: &mut Vec<u8>, part: &[u32], size: u64) {
        self.separator(out);
        out.extend_from_slice(b"BINARY.SIZE");
        write_binary_section(out, part);
        out.push(b' ');
        write_u64(out, size);
    }

    /// Any [`FetchValue`].
    pub fn value(&mut self, out: &mut Vec<u8>, value: &FetchValue) {
        match value {
            FetchValue::Uid(uid) => self.uid(out, *uid),
            FetchValue::Flags(flags) => self.flags(out, flags),
            FetchValue::InternalDate(date) => self.internal_date(out, date),
            FetchValue::Rfc822Size(size) => self.rfc822_size(out, *size),
            FetchValue::ModSeq(modseq) => self.modseq(out, *modseq),
            FetchValue::Envelope(r) => self.envelope(out, r),
            FetchValue::BodyStructure(r) => self.body_structure(out, r),
            FetchValue::Body(r) => self.body(out, r),
            FetchValue::Section { name, data } => self.section(out, name, data.as_deref()),
            FetchValue::BinarySize { part, size } => self.binary_size(out, part, *size),
        }
    }

    /// Writes `)\r\n`, ending the response.
    pub fn finish(self, out: &mut Vec<u8>) {
        out.extend_from_slice(b")\r\n");
    }
}

/// Writes `BODY[1.TEXT]<0>`, `BINARY[1]`, `RFC822.HEADER`, ...
pub(crate) fn write_body_name(out: &mut Vec<u8>, name: &FetchBodyName) {
    match name {
        FetchBodyName::Body { section, origin } => {
            out.extend_from_slice(b"BODY");
            write_section(out, section);
            write_origin(out, *origin);
        }
        FetchBodyName::Binary { part, origin } => {
            out.extend_from_slice(b"BINARY");
            write_binary_section(out, part);
            write_origin(out, *origin);
        }
        FetchBodyName::Rfc822 => out.extend_from_slice(b"RFC822"),
        FetchBodyName::Rfc822Header => out.extend_from_slice(b"RFC822.HEADER"),
        FetchBodyName::Rfc822Text => out.extend_from_slice(b"RFC822.TEXT"),
    }
}

fn write_origin(out: &mut Vec<u8>, origin: Option<u64>) {
    if let Some(origin) = origin {
        out.push(b'<');
        write_u64(out, origin);
        out.push(b'>');
    }
}
