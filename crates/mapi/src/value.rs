//! Property tags, value types and typed values ([MS-OXCDATA] 2.11).

/// A property tag: id in the high 16 bits, [`PropType`] in the low 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PropTag(pub u32);

impl PropTag {
    /// The tag of property `id` with value type `ty`.
    pub const fn new(id: u16, ty: PropType) -> PropTag {
        PropTag(((id as u32) << 16) | ty.code() as u32)
    }

    /// The type code (low 16 bits).
    pub fn type_code(self) -> u16 {
        (self.0 & 0xffff) as u16
    }

    /// The property id (high 16 bits).
    pub fn id(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The value type, when groxide supports it.
    pub fn prop_type(self) -> Option<PropType> {
        PropType::from_code(self.type_code())
    }

    /// Whether the id is in the named-property range (0x8000–0xFFFE), whose
    /// meaning is per store.
    pub fn is_named(self) -> bool {
        self.id() >= 0x8000
    }

    /// Checks that `value` has the type this tag names.
    pub fn check(self, value: &PropValue) -> Result<(), TypeMismatch> {
        match self.prop_type() {
            Some(t) if t == value.prop_type() => Ok(()),
            Some(t) => Err(TypeMismatch::WrongType {
                tag: self,
                expected: t,
                found: value.prop_type(),
            }),
            None => Err(TypeMismatch::Unsupported { tag: self }),
        }
    }
}

impl std::fmt::Display for PropTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{:08X}", self.0)
    }
}

/// A value does not fit the type its tag names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeMismatch {
    /// The tag names another type than the value has.
    #[error("property {tag} is {expected:?} but the value is {found:?}")]
    WrongType {
        /// The tag.
        tag: PropTag,
        /// The type the tag names.
        expected: PropType,
        /// The type of the value.
        found: PropType,
    },
    /// The tag's type code is not one groxide supports.
    #[error("property {tag} has an unsupported type 0x{:04X}", tag.type_code())]
    Unsupported {
        /// The tag.
        tag: PropTag,
    },
}

/// The value types groxide stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PropType {
    /// PT_SHORT, 0x0002.
    Short,
    /// PT_LONG, 0x0003.
    Long,
    /// PT_DOUBLE, 0x0005.
    Double,
    /// PT_BOOLEAN, 0x000B.
    Boolean,
    /// PT_I8, 0x0014.
    I8,
    /// PT_UNICODE, 0x001F (PT_STRING8 0x001E is read as Unicode too).
    Unicode,
    /// PT_SYSTIME, 0x0040: a FILETIME (100 ns ticks since 1601-01-01 UTC).
    SysTime,
    /// PT_CLSID, 0x0048: a 16-byte GUID.
    Clsid,
    /// PT_BINARY, 0x0102.
    Binary,
    /// PT_MV_LONG, 0x1003.
    MvLong,
    /// PT_MV_I8, 0x1014.
    MvI8,
    /// PT_MV_UNICODE, 0x101F.
    MvUnicode,
    /// PT_MV_BINARY, 0x1102.
    MvBinary,
}

impl PropType {
    /// The type of a type code.
    pub fn from_code(code: u16) -> Option<PropType> {
        Some(match code {
            0x0002 => PropType::Short,
            0x0003 => PropType::Long,
            0x0005 => PropType::Double,
            0x000B => PropType::Boolean,
            0x0014 => PropType::I8,
            0x001E | 0x001F => PropType::Unicode,
            0x0040 => PropType::SysTime,
            0x0048 => PropType::Clsid,
            0x0102 => PropType::Binary,
            0x1003 => PropType::MvLong,
            0x1014 => PropType::MvI8,
            0x101E | 0x101F => PropType::MvUnicode,
            0x1102 => PropType::MvBinary,
            _ => return None,
        })
    }

    /// The type code groxide writes ([MS-OXCDATA] 2.11.1).
    pub const fn code(self) -> u16 {
        match self {
            PropType::Short => 0x0002,
            PropType::Long => 0x0003,
            PropType::Double => 0x0005,
            PropType::Boolean => 0x000B,
            PropType::I8 => 0x0014,
            PropType::Unicode => 0x001F,
            PropType::SysTime => 0x0040,
            PropType::Clsid => 0x0048,
            PropType::Binary => 0x0102,
            PropType::MvLong => 0x1003,
            PropType::MvI8 => 0x1014,
            PropType::MvUnicode => 0x101F,
            PropType::MvBinary => 0x1102,
        }
    }
}

/// A typed property value.
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// PT_SHORT.
    Short(i16),
    /// PT_LONG.
    Long(i32),
    /// PT_DOUBLE.
    Double(f64),
    /// PT_BOOLEAN.
    Bool(bool),
    /// PT_I8.
    I8(i64),
    /// PT_UNICODE.
    Unicode(String),
    /// PT_SYSTIME as FILETIME ticks (see [`filetime_from_unix`]).
    SysTime(i64),
    /// PT_CLSID.
    Clsid([u8; 16]),
    /// PT_BINARY.
    Binary(Vec<u8>),
    /// PT_MV_LONG.
    MvLong(Vec<i32>),
    /// PT_MV_I8.
    MvI8(Vec<i64>),
    /// PT_MV_UNICODE.
    MvUnicode(Vec<String>),
    /// PT_MV_BINARY.
    MvBinary(Vec<Vec<u8>>),
}

/// One property: tag and value.
pub type Prop = (PropTag, PropValue);

/// Seconds between 1601-01-01 and 1970-01-01.
const FILETIME_EPOCH_OFFSET: i64 = 11_644_473_600;
/// FILETIME ticks per second.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// FILETIME ticks of a Unix time in seconds.
pub fn filetime_from_unix(seconds: i64) -> i64 {
    seconds
        .saturating_add(FILETIME_EPOCH_OFFSET)
        .saturating_mul(TICKS_PER_SECOND)
}

/// Unix seconds of FILETIME ticks (rounded towards negative infinity).
pub fn unix_from_filetime(ticks: i64) -> i64 {
    ticks.div_euclid(TICKS_PER_SECOND) - FILETIME_EPOCH_OFFSET
}

impl PropValue {
    /// The type of this value.
    pub fn prop_type(&self) -> PropType {
        match self {
            PropValue::Short(_) => PropType::Short,
            PropValue::Long(_) => PropType::Long,
            PropValue::Double(_) => PropType::Double,
            PropValue::Bool(_) => PropType::Boolean,
            PropValue::I8(_) => PropType::I8,
            PropValue::Unicode(_) => PropType::Unicode,
            PropValue::SysTime(_) => PropType::SysTime,
            PropValue::Clsid(_) => PropType::Clsid,
            PropValue::Binary(_) => PropType::Binary,
            PropValue::MvLong(_) => PropType::MvLong,
            PropValue::MvI8(_) => PropType::MvI8,
            PropValue::MvUnicode(_) => PropType::MvUnicode,
            PropValue::MvBinary(_) => PropType::MvBinary,
        }
    }

    /// Roughly how many bytes the value takes (for PR_MESSAGE_SIZE of MAPI messages).
    pub fn approximate_size(&self) -> usize {
        match self {
            PropValue::Short(_) => 2,
            PropValue::Long(_) | PropValue::Bool(_) => 4,
            PropValue::Double(_) | PropValue::I8(_) | PropValue::SysTime(_) => 8,
            PropValue::Clsid(_) => 16,
            PropValue::Unicode(s) => s.len(),
            PropValue::Binary(b) => b.len(),
            PropValue::MvLong(v) => v.len() * 4,
            PropValue::MvI8(v) => v.len() * 8,
            PropValue::MvUnicode(v) => v.iter().map(String::len).sum(),
            PropValue::MvBinary(v) => v.iter().map(Vec::len).sum(),
        }
    }

    /// The string, for PT_UNICODE values.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PropValue::Unicode(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, for PT_SHORT, PT_LONG, PT_I8 and PT_SYSTIME values.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PropValue::Short(v) => Some(i64::from(*v)),
            PropValue::Long(v) => Some(i64::from(*v)),
            PropValue::I8(v) | PropValue::SysTime(v) => Some(*v),
            _ => None,
        }
    }

    /// The flag, for PT_BOOLEAN values.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PropValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The bytes, for PT_BINARY values.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            PropValue::Binary(b) => Some(b),
            _ => None,
        }
    }
}

/// Looks a tag up in a list of properties.
pub fn find_prop(props: &[Prop], tag: PropTag) -> Option<&PropValue> {
    props.iter().find(|(t, _)| *t == tag).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_of_the_wrong_type_is_refused() {
        assert!(PropTag(0x0037_001F).check(&PropValue::Long(1)).is_err());
        assert!(
            PropTag(0x0037_001F)
                .check(&PropValue::Unicode("x".into()))
                .is_ok()
        );
        assert_eq!(
            PropTag(0x0037_0999).check(&PropValue::Long(1)),
            Err(TypeMismatch::Unsupported {
                tag: PropTag(0x0037_0999)
            })
        );
    }

    #[test]
    fn filetime_of_the_unix_epoch() {
        assert_eq!(filetime_from_unix(0), 116_444_736_000_000_000);
        assert_eq!(
            unix_from_filetime(filetime_from_unix(1_700_000_000)),
            1_700_000_000
        );
        assert_eq!(unix_from_filetime(0), -FILETIME_EPOCH_OFFSET);
    }

    #[test]
    fn every_type_code_round_trips() {
        for code in [
            0x2, 0x3, 0x5, 0xB, 0x14, 0x1F, 0x40, 0x48, 0x102, 0x1003, 0x1014, 0x101F, 0x1102,
        ] {
            let t = PropType::from_code(code).unwrap();
            assert_eq!(t.code(), code);
            assert_eq!(PropTag::new(0x8001, t).type_code(), code);
        }
        assert_eq!(PropType::from_code(0x1E), Some(PropType::Unicode));
    }
}
