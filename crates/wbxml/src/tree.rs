//! The document tree: [`Element`]s named by a [`Tag`] (code page + token)
//! holding [`Content`].
//!
//! EAS never mixes text and child elements in one element, so the tree
//! cannot express it: an element holds nothing, a string, opaque bytes or
//! child elements. The decoder and the XML parser reject mixed content.

use crate::code_page::CodePage;

/// A tag: a token on a code page that [MS-ASWBXML] defines. Every `Tag`
/// names a real tag; there is no way to build one for an undefined token.
///
/// The typed page enums convert into it, so lookups read
/// `el.child(AirSync::SyncKey)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    page: CodePage,
    token: u8,
}

impl Tag {
    /// The tag `token` on `page`, if the page defines it.
    #[must_use]
    pub fn new(page: CodePage, token: u8) -> Option<Tag> {
        page.tag_name(token).map(|_| Tag { page, token })
    }

    /// The tag `name` in the namespace `namespace` (`"AirSync:"` or
    /// `"AirSync"`), the way EAS XML names it.
    #[must_use]
    pub fn from_name(namespace: &str, name: &str) -> Option<Tag> {
        CodePage::from_namespace(namespace)?.tag(name)
    }

    /// Only for tokens known to be on the page (the generated tables).
    pub(crate) const fn from_parts_unchecked(page: CodePage, token: u8) -> Tag {
        Tag { page, token }
    }

    /// The code page.
    #[must_use]
    pub const fn page(self) -> CodePage {
        self.page
    }

    /// The token (0x05–0x3F), without the content and attribute bits.
    #[must_use]
    pub const fn token(self) -> u8 {
        self.token
    }

    /// The tag's name as written in EAS XML (`"SyncKey"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        // Every Tag is built from the tables, so the lookup cannot miss.
        self.page.tag_name(self.token).unwrap_or("?")
    }
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.page.name(), self.name())
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.page.namespace(), self.name())
    }
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Nothing: `<GetChanges/>`. Encoded as a tag without the content bit.
    Empty,
    /// An inline string (STR_I), e.g. a SyncKey. WBXML strings end at a
    /// NUL byte, so a NUL cannot be carried: the constructors and the
    /// encoder replace it with U+FFFD.
    Text(String),
    /// Opaque bytes (OPAQUE): MIME bodies, attachment data, some EAS fields.
    Opaque(Vec<u8>),
    /// Child elements. An empty list encodes like [`Content::Empty`] and
    /// decodes as such; the decoder never produces `Children(vec![])`.
    Children(Vec<Element>),
}

/// One element of an EAS document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The element's name.
    pub tag: Tag,
    /// What it holds.
    pub content: Content,
}

/// [`Element::push`] on an element that holds text or opaque data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{tag} holds {held}; EAS elements cannot mix it with child elements")]
pub struct MixedContentError {
    /// The element pushed to.
    pub tag: Tag,
    /// "text" or "opaque data".
    pub held: &'static str,
}

/// Replaces NUL, which an inline WBXML string cannot carry.
pub(crate) fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    }
}

impl Element {
    /// An element without content: `<GetChanges/>`.
    #[must_use]
    pub fn empty(tag: impl Into<Tag>) -> Element {
        Element {
            tag: tag.into(),
            content: Content::Empty,
        }
    }

    /// An element holding a string. A NUL in `text` becomes U+FFFD.
    #[must_use]
    pub fn with_text(tag: impl Into<Tag>, text: impl Into<String>) -> Element {
        Element {
            tag: tag.into(),
            content: Content::Text(without_nul(text.into())),
        }
    }

    /// An element holding opaque bytes.
    #[must_use]
    pub fn with_opaque(tag: impl Into<Tag>, data: impl Into<Vec<u8>>) -> Element {
        Element {
            tag: tag.into(),
            content: Content::Opaque(data.into()),
        }
    }

    /// An element holding `children`, in order. No children gives
    /// [`Content::Empty`].
    #[must_use]
    pub fn with_children(
        tag: impl Into<Tag>,
        children: impl IntoIterator<Item = Element>,
    ) -> Element {
        let children: Vec<Element> = children.into_iter().collect();
        Element {
            tag: tag.into(),
            content: if children.is_empty() {
                Content::Empty
            } else {
                Content::Children(children)
            },
        }
    }

    /// Appends a child. An empty element becomes a parent; one holding text
    /// or opaque data refuses, because EAS does not mix the two.
    ///
    /// # Errors
    /// [`MixedContentError`] if the element holds text or opaque data.
    pub fn push(&mut self, child: Element) -> Result<(), MixedContentError> {
        match &mut self.content {
            Content::Empty => {
                self.content = Content::Children(vec![child]);
                Ok(())
            }
            Content::Children(children) => {
                children.push(child);
                Ok(())
            }
            Content::Text(_) => Err(MixedContentError {
                tag: self.tag,
                held: "text",
            }),
            Content::Opaque(_) => Err(MixedContentError {
                tag: self.tag,
                held: "opaque data",
            }),
        }
    }

    /// The code page of the element's tag.
    #[must_use]
    pub fn page(&self) -> CodePage {
        self.tag.page()
    }

    /// Whether the element is named `tag`.
    #[must_use]
    pub fn is(&self, tag: impl Into<Tag>) -> bool {
        self.tag == tag.into()
    }

    /// The child elements (empty unless the content is
    /// [`Content::Children`]).
    #[must_use]
    pub fn children(&self) -> &[Element] {
        match &self.content {
            Content::Children(children) => children,
            _ => &[],
        }
    }

    /// The first child named `tag`.
    #[must_use]
    pub fn child(&self, tag: impl Into<Tag>) -> Option<&Element> {
        let tag = tag.into();
        self.children().iter().find(|c| c.tag == tag)
    }

    /// Every child named `tag`, in order.
    pub fn children_named(&self, tag: impl Into<Tag>) -> impl Iterator<Item = &Element> {
        let tag = tag.into();
        self.children().iter().filter(move |c| c.tag == tag)
    }

    /// The first child called `name` in namespace `namespace`
    /// (`"AirSync:"`); `None` also when the namespace or name is unknown.
    #[must_use]
    pub fn child_by_name(&self, namespace: &str, name: &str) -> Option<&Element> {
        self.child(Tag::from_name(namespace, name)?)
    }

    /// Follows `path` from this element, taking the first matching child
    /// at each step: `sync.descendant(&[AirSync::Collections.into(),
    /// AirSync::Collection.into()])`.
    #[must_use]
    pub fn descendant(&self, path: &[Tag]) -> Option<&Element> {
        path.iter().try_fold(self, |el, &tag| el.child(tag))
    }

    /// The string content, if the element holds one.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        match &self.content {
            Content::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The opaque content, if the element holds some.
    #[must_use]
    pub fn opaque(&self) -> Option<&[u8]> {
        match &self.content {
            Content::Opaque(data) => Some(data),
            _ => None,
        }
    }

    /// The string content of the first child named `tag`.
    #[must_use]
    pub fn child_text(&self, tag: impl Into<Tag>) -> Option<&str> {
        self.child(tag)?.text()
    }

    /// How many elements the tree holds, this one included.
    #[must_use]
    pub fn element_count(&self) -> usize {
        let mut count = 0;
        let mut pending = vec![self];
        while let Some(el) = pending.pop() {
            count += 1;
            pending.extend(el.children());
        }
        count
    }
}
