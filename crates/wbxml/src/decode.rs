//! WBXML bytes to a tree: [`decode`].
//!
//! A single pass over the input with an explicit stack (no recursion), so
//! the depth limit, not the thread's stack, bounds nesting. Strings and
//! opaque data are copied out of the input only after their length has
//! been checked against the input and the limits.

use crate::code_page::CodePage;
use crate::error::DecodeError;
use crate::limits::Limits;
use crate::tree::{Content, Element, Tag};
use crate::wire;

/// Decodes an EAS WBXML document (an HTTP request or response body).
///
/// The header must be WBXML 1.3, public identifier 1, UTF-8 and an empty
/// string table; the body must be exactly one element. Unknown code pages
/// and tags, attributes, string-table references and the other WBXML
/// tokens EAS does not use are errors naming the byte offset.
///
/// # Errors
/// [`DecodeError`] says what is wrong and where.
pub fn decode(input: &[u8], limits: &Limits) -> Result<Element, DecodeError> {
    if input.len() > limits.max_input_bytes {
        return Err(DecodeError::TooLarge {
            len: input.len(),
            limit: limits.max_input_bytes,
        });
    }
    let mut reader = Reader { input, pos: 0 };
    reader.header()?;
    let mut page = CodePage::AirSync;
    let mut open: Vec<Open> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;

    while let Some(byte) = reader.next_byte() {
        let offset = reader.pos - 1;
        if root.is_some() {
            return Err(DecodeError::TrailingData { offset });
        }
        match byte {
            wire::SWITCH_PAGE => {
                let page_offset = reader.pos;
                let number = reader.byte("SWITCH_PAGE")?;
                page = CodePage::from_number(number).ok_or(DecodeError::UnknownCodePage {
                    page: number,
                    offset: page_offset,
                })?;
            }
            wire::END => {
                let element = open
                    .pop()
                    .ok_or(DecodeError::UnbalancedEnd { offset })?
                    .finish();
                attach(&mut open, &mut root, element, offset)?;
            }
            wire::STR_I => {
                let bytes = reader.terminated_string()?;
                let parent = open.last_mut().ok_or(DecodeError::ContentOutsideElement {
                    what: "inline string",
                    offset,
                })?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| DecodeError::InvalidUtf8 { offset: offset + 1 })?;
                parent.add_text(text, limits, offset)?;
            }
            wire::OPAQUE => {
                let len = reader.mb_u32("OPAQUE length")?;
                let remaining = input.len() - reader.pos;
                let Some(data) = usize::try_from(len)
                    .ok()
                    .filter(|&n| n <= remaining)
                    .map(|n| reader.take(n))
                else {
                    return Err(DecodeError::OpaquePastEnd {
                        len,
                        remaining,
                        offset,
                    });
                };
                let parent = open.last_mut().ok_or(DecodeError::ContentOutsideElement {
                    what: "opaque data",
                    offset,
                })?;
                parent.add_opaque(data, limits, offset)?;
            }
            _ => {
                if let Some(name) = wire::unsupported_token_name(byte) {
                    return Err(DecodeError::UnsupportedToken {
                        token: byte,
                        name,
                        offset,
                    });
                }
                if byte & wire::WITH_ATTRIBUTES != 0 {
                    return Err(DecodeError::Attributes { page, byte, offset });
                }
                let token = byte & wire::TOKEN_MASK;
                let tag = Tag::new(page, token).ok_or(DecodeError::UnknownTag {
                    page,
                    token,
                    offset,
                })?;
                elements += 1;
                if elements > limits.max_elements {
                    return Err(DecodeError::TooManyElements {
                        limit: limits.max_elements,
                        offset,
                    });
                }
                if open.len() >= limits.max_depth {
                    return Err(DecodeError::TooDeep {
                        limit: limits.max_depth,
                        offset,
                    });
                }
                if byte & wire::WITH_CONTENT != 0 {
                    open.push(Open {
                        tag,
                        offset,
                        content: Pending::Nothing,
                    });
                } else {
                    attach(&mut open, &mut root, Element::empty(tag), offset)?;
                }
            }
        }
    }
    if let Some(innermost) = open.last() {
        return Err(DecodeError::Unclosed {
            tag: innermost.tag,
            offset: innermost.offset,
        });
    }
    root.ok_or(DecodeError::NoRootElement)
}

/// Hands a finished element to its parent, or makes it the root.
fn attach(
    open: &mut [Open],
    root: &mut Option<Element>,
    element: Element,
    offset: usize,
) -> Result<(), DecodeError> {
    match open.last_mut() {
        Some(parent) => parent.add_child(element, offset),
        None => {
            *root = Some(element);
            Ok(())
        }
    }
}

/// An element whose END has not been read yet.
struct Open {
    tag: Tag,
    offset: usize,
    content: Pending,
}

/// The content gathered so far for an open element.
enum Pending {
    Nothing,
    Text(String),
    Opaque(Vec<u8>),
    Children(Vec<Element>),
}

impl Open {
    fn mixed(&self, offset: usize) -> DecodeError {
        DecodeError::MixedContent {
            tag: self.tag,
            offset,
        }
    }

    fn add_text(&mut self, text: &str, limits: &Limits, offset: usize) -> Result<(), DecodeError> {
        let held = match &self.content {
            Pending::Nothing => 0,
            Pending::Text(held) => held.len(),
            Pending::Opaque(_) | Pending::Children(_) => return Err(self.mixed(offset)),
        };
        if held.saturating_add(text.len()) > limits.max_string_bytes {
            return Err(DecodeError::StringTooLong {
                tag: self.tag,
                limit: limits.max_string_bytes,
                offset,
            });
        }
        match &mut self.content {
            Pending::Text(held) => held.push_str(text),
            _ => self.content = Pending::Text(text.to_owned()),
        }
        Ok(())
    }

    fn add_opaque(
        &mut self,
        data: &[u8],
        limits: &Limits,
        offset: usize,
    ) -> Result<(), DecodeError> {
        let held = match &self.content {
            Pending::Nothing => 0,
            Pending::Opaque(held) => held.len(),
            Pending::Text(_) | Pending::Children(_) => return Err(self.mixed(offset)),
        };
        if held.saturating_add(data.len()) > limits.max_opaque_bytes {
            return Err(DecodeError::OpaqueTooLong {
                tag: self.tag,
                limit: limits.max_opaque_bytes,
                offset,
            });
        }
        match &mut self.content {
            Pending::Opaque(held) => held.extend_from_slice(data),
            _ => self.content = Pending::Opaque(data.to_vec()),
        }
        Ok(())
    }

    fn add_child(&mut self, child: Element, offset: usize) -> Result<(), DecodeError> {
        match &mut self.content {
            Pending::Nothing => self.content = Pending::Children(vec![child]),
            Pending::Children(children) => children.push(child),
            Pending::Text(_) | Pending::Opaque(_) => return Err(self.mixed(offset)),
        }
        Ok(())
    }

    fn finish(self) -> Element {
        Element {
            tag: self.tag,
            content: match self.content {
                Pending::Nothing => Content::Empty,
                Pending::Text(text) => Content::Text(text),
                Pending::Opaque(data) => Content::Opaque(data),
                Pending::Children(children) => Content::Children(children),
            },
        }
    }
}

/// A cursor over the input.
struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn next_byte(&mut self) -> Option<u8> {
        let byte = *self.input.get(self.pos)?;
        self.pos += 1;
        Some(byte)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        self.next_byte().ok_or(DecodeError::Truncated {
            offset: self.pos,
            what,
        })
    }

    /// `n` bytes; the caller has checked that they are there.
    fn take(&mut self, n: usize) -> &'a [u8] {
        let end = self.pos.saturating_add(n).min(self.input.len());
        let bytes = &self.input[self.pos..end];
        self.pos = end;
        bytes
    }

    /// A WBXML mb_u_int32: big-endian 7-bit groups, high bit = more follow.
    fn mb_u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let start = self.pos;
        let mut value: u32 = 0;
        for _ in 0..5 {
            let byte = self.byte(what)?;
            if value >> 25 != 0 {
                return Err(DecodeError::IntegerOverflow { offset: start });
            }
            value = (value << 7) | u32::from(byte & 0x7F);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::IntegerOverflow { offset: start })
    }

    /// The bytes of a NUL-terminated string, without the NUL.
    fn terminated_string(&mut self) -> Result<&'a [u8], DecodeError> {
        let rest = &self.input[self.pos..];
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(DecodeError::Truncated {
                offset: self.input.len(),
                what: "inline string",
            })?;
        self.pos += len + 1;
        Ok(&rest[..len])
    }

    fn header(&mut self) -> Result<(), DecodeError> {
        let version = self.byte("header")?;
        if version != wire::VERSION_1_3 {
            return Err(DecodeError::Version { found: version });
        }
        let offset = self.pos;
        let public_id = self.mb_u32("header")?;
        if public_id != wire::PUBLIC_ID_UNKNOWN {
            return Err(DecodeError::PublicId {
                found: public_id,
                offset,
            });
        }
        let offset = self.pos;
        let charset = self.mb_u32("header")?;
        if charset != wire::CHARSET_UTF8 {
            return Err(DecodeError::Charset {
                found: charset,
                offset,
            });
        }
        let offset = self.pos;
        let len = self.mb_u32("header")?;
        if len != 0 {
            return Err(DecodeError::StringTable { len, offset });
        }
        Ok(())
    }
}
