//! Why a WBXML document was refused. Every error names where (the byte
//! offset in the input) and, for tags, the code page, so a log line is
//! enough to find the bad byte in a captured request. No error quotes
//! document content.

use crate::code_page::CodePage;
use crate::tree::Tag;

/// Why [`crate::decode`] refused a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The document is larger than [`crate::Limits::max_input_bytes`].
    #[error("WBXML document of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The input ends in the middle of something.
    #[error("WBXML input ends at byte {offset} inside {what}")]
    Truncated {
        /// Where the input ends.
        offset: usize,
        /// What was being read ("header", "inline string", …).
        what: &'static str,
    },
    /// The input ends before an element is closed.
    #[error("WBXML input ends before the END of {tag} opened at byte {offset}")]
    Unclosed {
        /// The innermost open element.
        tag: Tag,
        /// Where it was opened.
        offset: usize,
    },
    /// The version byte is not WBXML 1.3.
    #[error("WBXML version {found:#04x} at byte 0 is not supported: EAS uses WBXML 1.3 (0x03)")]
    Version {
        /// The version byte.
        found: u8,
    },
    /// The public identifier is not 1 ("unknown"), which EAS uses.
    #[error("WBXML public identifier {found} at byte {offset} is not supported: EAS uses 1")]
    PublicId {
        /// The identifier (0 means "in the string table").
        found: u32,
        /// Where it is.
        offset: usize,
    },
    /// The charset is not UTF-8.
    #[error("WBXML charset {found} at byte {offset} is not supported: EAS uses UTF-8 (106)")]
    Charset {
        /// The IANA MIBenum found.
        found: u32,
        /// Where it is.
        offset: usize,
    },
    /// The string table is not empty.
    #[error("WBXML string table of {len} bytes at byte {offset}: EAS documents carry none")]
    StringTable {
        /// Its declared length.
        len: u32,
        /// Where the length is.
        offset: usize,
    },
    /// A multi-byte integer does not fit in 32 bits.
    #[error("WBXML multi-byte integer at byte {offset} does not fit in 32 bits")]
    IntegerOverflow {
        /// Where it starts.
        offset: usize,
    },
    /// SWITCH_PAGE names a page EAS does not define.
    #[error("unknown WBXML code page {page} at byte {offset}")]
    UnknownCodePage {
        /// The page number.
        page: u8,
        /// Where the page number is.
        offset: usize,
    },
    /// A tag token the current code page does not define.
    #[error("unknown tag token {token:#04x} on code page {page} at byte {offset}")]
    UnknownTag {
        /// The current page.
        page: CodePage,
        /// The token without content and attribute bits.
        token: u8,
        /// Where it is.
        offset: usize,
    },
    /// A tag with the attribute bit (0x80); EAS uses no attributes.
    #[error(
        "tag byte {byte:#04x} on code page {page} at byte {offset} has attributes, which EAS does not use"
    )]
    Attributes {
        /// The current page.
        page: CodePage,
        /// The tag byte as sent.
        byte: u8,
        /// Where it is.
        offset: usize,
    },
    /// A global token EAS does not use (ENTITY, LITERAL*, EXT*, PI,
    /// STR_T).
    #[error("WBXML token {name} ({token:#04x}) at byte {offset} is not used by EAS")]
    UnsupportedToken {
        /// The token byte.
        token: u8,
        /// Its name in the WBXML spec.
        name: &'static str,
        /// Where it is.
        offset: usize,
    },
    /// END with no open element.
    #[error("WBXML END at byte {offset} closes no element")]
    UnbalancedEnd {
        /// Where it is.
        offset: usize,
    },
    /// A string or opaque data outside any element.
    #[error("{what} at byte {offset} is outside any element")]
    ContentOutsideElement {
        /// "inline string" or "opaque data".
        what: &'static str,
        /// Where it is.
        offset: usize,
    },
    /// An element holding more than one kind of content (text, opaque,
    /// children); EAS never does that.
    #[error("{tag} mixes text, opaque data and child elements at byte {offset}")]
    MixedContent {
        /// The element.
        tag: Tag,
        /// Where the second kind of content starts.
        offset: usize,
    },
    /// An inline string that is not UTF-8.
    #[error("inline string at byte {offset} is not valid UTF-8")]
    InvalidUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// Elements nest deeper than [`crate::Limits::max_depth`].
    #[error("elements nest deeper than {limit} at byte {offset}")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// Where the element that is too deep starts.
        offset: usize,
    },
    /// More elements than [`crate::Limits::max_elements`].
    #[error("more than {limit} elements at byte {offset}")]
    TooManyElements {
        /// The limit.
        limit: usize,
        /// Where the element over the limit starts.
        offset: usize,
    },
    /// String content longer than [`crate::Limits::max_string_bytes`].
    #[error("string content of {tag} exceeds {limit} bytes at byte {offset}")]
    StringTooLong {
        /// The element.
        tag: Tag,
        /// The limit.
        limit: usize,
        /// Where the string that crosses the limit starts.
        offset: usize,
    },
    /// Opaque content longer than [`crate::Limits::max_opaque_bytes`].
    #[error("opaque content of {tag} exceeds {limit} bytes at byte {offset}")]
    OpaqueTooLong {
        /// The element.
        tag: Tag,
        /// The limit.
        limit: usize,
        /// Where the OPAQUE token that crosses the limit is.
        offset: usize,
    },
    /// An OPAQUE length larger than what is left of the input.
    #[error(
        "opaque length {len} at byte {offset} runs past the end of the input ({remaining} bytes left)"
    )]
    OpaquePastEnd {
        /// The declared length.
        len: u32,
        /// Bytes left after the length.
        remaining: usize,
        /// Where the OPAQUE token is.
        offset: usize,
    },
    /// The body holds no element.
    #[error("WBXML document has no root element")]
    NoRootElement,
    /// Something follows the root element.
    #[error("data after the root element at byte {offset}")]
    TrailingData {
        /// Where it starts.
        offset: usize,
    },
}

/// Why [`crate::Element::from_xml`] refused a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The text is not well-formed XML.
    #[error("XML syntax error at byte {position}: {message}")]
    Syntax {
        /// Byte offset in the XML text.
        position: u64,
        /// The parser's description.
        message: String,
    },
    /// The text is larger than [`crate::Limits::max_input_bytes`].
    #[error("XML document of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the text.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// An element in no namespace; EAS elements always have one.
    #[error("element {name} at byte {position} is in no namespace")]
    NoNamespace {
        /// The element name as written.
        name: String,
        /// Where it is.
        position: u64,
    },
    /// An element in a namespace that is not an EAS code page.
    #[error("namespace {namespace:?} at byte {position} is not an EAS code page")]
    UnknownNamespace {
        /// The namespace.
        namespace: String,
        /// Where it is.
        position: u64,
    },
    /// An element name the code page does not define.
    #[error("code page {page} has no tag {name} (byte {position})")]
    UnknownTag {
        /// The page of the element's namespace.
        page: CodePage,
        /// The local name.
        name: String,
        /// Where it is.
        position: u64,
    },
    /// An attribute other than namespace declarations and `opaque="hex"`.
    #[error("attribute {name} at byte {position} is not allowed (EAS uses no attributes)")]
    Attribute {
        /// The attribute as written.
        name: String,
        /// Where its element is.
        position: u64,
    },
    /// An entity reference other than the five XML defines.
    #[error("unknown entity &{name}; at byte {position}")]
    UnknownEntity {
        /// The entity name.
        name: String,
        /// Where it is.
        position: u64,
    },
    /// Text beside child elements, or text beside CDATA.
    #[error("{tag} mixes text, opaque data and child elements (byte {position})")]
    MixedContent {
        /// The element.
        tag: Tag,
        /// Where the element ends.
        position: u64,
    },
    /// `opaque="hex"` content that is not an even number of hex digits.
    #[error("{tag} at byte {position} is marked opaque=\"hex\" but does not hold hex digits")]
    BadHex {
        /// The element.
        tag: Tag,
        /// Where the element ends.
        position: u64,
    },
    /// Non-whitespace text outside the root element.
    #[error("text outside the root element at byte {position}")]
    TextOutsideRoot {
        /// Where it is.
        position: u64,
    },
    /// A second root element.
    #[error("second root element at byte {position}")]
    MultipleRoots {
        /// Where it is.
        position: u64,
    },
    /// The text holds no element.
    #[error("XML document has no root element")]
    NoRootElement,
    /// Elements nest deeper than [`crate::Limits::max_depth`].
    #[error("elements nest deeper than {limit} at byte {position}")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// Where the element that is too deep is.
        position: u64,
    },
    /// More elements than [`crate::Limits::max_elements`].
    #[error("more than {limit} elements at byte {position}")]
    TooManyElements {
        /// The limit.
        limit: usize,
        /// Where the element over the limit is.
        position: u64,
    },
    /// Content longer than [`crate::Limits::max_string_bytes`] or
    /// [`crate::Limits::max_opaque_bytes`].
    #[error("content of {tag} exceeds {limit} bytes at byte {position}")]
    ContentTooLong {
        /// The element.
        tag: Tag,
        /// The limit.
        limit: usize,
        /// Where the content crosses the limit.
        position: u64,
    },
}
