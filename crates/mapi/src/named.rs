//! Named properties ([MS-OXCDATA] 2.6.1, [MS-OXPROPS] 1.3.2): a property
//! set GUID plus a numeric long id (LID) or a string name. A store maps each
//! name it has seen to a property id ≥ 0x8000 of its own; until that mapping
//! is known a value is keyed by [`PropKey::Named`].

use crate::guid::Guid;
use crate::value::{PropTag, PropType};
use std::fmt;

/// The name of a named property within its set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameKind {
    /// A numeric long id (LID), e.g. 0x8216 for PidLidAppointmentRecur.
    Lid(u32),
    /// A string name, e.g. "Keywords" in PS_PUBLIC_STRINGS. Compared
    /// case-sensitively here; stores compare case-insensitively (as Exchange).
    Str(String),
}

/// A named property: set and name. Its value type is not part of the name
/// (the same name has one id per store whatever type is written).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamedProp {
    /// The property set.
    pub set: Guid,
    /// The name within the set.
    pub name: NameKind,
}

impl NamedProp {
    /// A named property with a numeric id.
    pub fn lid(set: Guid, lid: u32) -> NamedProp {
        NamedProp {
            set,
            name: NameKind::Lid(lid),
        }
    }

    /// A named property with a string name.
    pub fn string(set: Guid, name: impl Into<String>) -> NamedProp {
        NamedProp {
            set,
            name: NameKind::Str(name.into()),
        }
    }
}

impl fmt::Display for NamedProp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            NameKind::Lid(l) => write!(f, "{}:0x{l:04X}", self.set),
            NameKind::Str(s) => write!(f, "{}:{s:?}", self.set),
        }
    }
}

/// How a value is addressed before the store has assigned ids to names: a
/// fixed tag (id < 0x8000), or a named property with the type of its value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PropKey {
    /// A tagged property (its id means the same in every store).
    Tag(PropTag),
    /// A named property and the type of its value.
    Named(NamedProp, PropType),
}

impl PropKey {
    /// The value type this key names (`None` for a tag of an unsupported type).
    pub fn prop_type(&self) -> Option<PropType> {
        match self {
            PropKey::Tag(t) => t.prop_type(),
            PropKey::Named(_, t) => Some(*t),
        }
    }

    /// The tag, once a store has resolved a named property to `id`.
    pub fn resolve(&self, named_id: impl FnOnce(&NamedProp) -> Option<u16>) -> Option<PropTag> {
        match self {
            PropKey::Tag(t) => Some(*t),
            PropKey::Named(n, t) => named_id(n).map(|id| PropTag::new(id, *t)),
        }
    }
}

impl From<PropTag> for PropKey {
    fn from(t: PropTag) -> PropKey {
        PropKey::Tag(t)
    }
}

impl From<&KnownProp> for PropKey {
    fn from(k: &KnownProp) -> PropKey {
        k.key()
    }
}

impl fmt::Display for PropKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropKey::Tag(t) => match crate::tags::tag_name(*t) {
                Some(n) => f.write_str(n),
                None => write!(f, "{t}"),
            },
            PropKey::Named(n, t) => match crate::lids::known_by_name(n) {
                Some(k) => f.write_str(k.canonical),
                None => write!(f, "{n}/{t:?}"),
            },
        }
    }
}

/// The name half of a [`KnownProp`] (`const`-constructible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownName {
    /// A long id.
    Lid(u32),
    /// A string name.
    Str(&'static str),
}

/// A named property documented in [MS-OXPROPS]: canonical name, set, name
/// and the value type it is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownProp {
    /// The canonical name, e.g. `PidLidAppointmentRecur`.
    pub canonical: &'static str,
    /// The property set.
    pub set: Guid,
    /// The LID or string name.
    pub name: KnownName,
    /// The value type.
    pub ty: PropType,
}

impl KnownProp {
    /// A property with a long id.
    pub const fn lid(canonical: &'static str, set: Guid, lid: u32, ty: PropType) -> KnownProp {
        KnownProp {
            canonical,
            set,
            name: KnownName::Lid(lid),
            ty,
        }
    }

    /// A property with a string name.
    pub const fn string(
        canonical: &'static str,
        set: Guid,
        name: &'static str,
        ty: PropType,
    ) -> KnownProp {
        KnownProp {
            canonical,
            set,
            name: KnownName::Str(name),
            ty,
        }
    }

    /// The named property.
    pub fn named(&self) -> NamedProp {
        NamedProp {
            set: self.set,
            name: match self.name {
                KnownName::Lid(l) => NameKind::Lid(l),
                KnownName::Str(s) => NameKind::Str(s.to_owned()),
            },
        }
    }

    /// The key of a value of this property.
    pub fn key(&self) -> PropKey {
        PropKey::Named(self.named(), self.ty)
    }

    /// Whether `n` names this property.
    pub fn is(&self, n: &NamedProp) -> bool {
        n.set == self.set
            && match (&n.name, self.name) {
                (NameKind::Lid(a), KnownName::Lid(b)) => *a == b,
                (NameKind::Str(a), KnownName::Str(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}
