//! How MAPI property values are kept in SQLite (one column per property)
//! and in property-bag blobs (recipients, attachments). The values
//! themselves are groxide-mapi's; they are re-exported here so that
//! `groxide_store::props::PropTag` and friends keep working.

use crate::error::StoreError;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

pub use groxide_mapi::{
    Prop, PropTag, PropType, PropValue, filetime_from_unix, find_prop, unix_from_filetime,
};

/// Largest number of values a multi-valued property may hold.
pub const MAX_MULTI_VALUES: usize = 65_536;

/// Checks that `value` has the type `tag` names.
pub fn check_prop(tag: PropTag, value: &PropValue) -> Result<(), StoreError> {
    tag.check(value)
        .map_err(|e| StoreError::InvalidArgument(e.to_string()))
}

/// The SQLite column value of a property.
pub(crate) fn to_sql(value: &PropValue) -> ToSqlOutput<'_> {
    match value {
        PropValue::Short(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
        PropValue::Long(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
        PropValue::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
        PropValue::I8(v) | PropValue::SysTime(v) => ToSqlOutput::Owned(Value::Integer(*v)),
        PropValue::Double(v) => ToSqlOutput::Owned(Value::Real(*v)),
        PropValue::Unicode(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        PropValue::Binary(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        PropValue::Clsid(g) => ToSqlOutput::Borrowed(ValueRef::Blob(g)),
        mv => {
            let mut out = Vec::new();
            encode_value(&mut out, mv);
            ToSqlOutput::Owned(Value::Blob(out))
        }
    }
}

/// A property read back from its SQLite column.
pub(crate) fn from_sql(tag: PropTag, v: ValueRef<'_>) -> Result<PropValue, StoreError> {
    let bad = || StoreError::Corrupt(format!("property {tag} has a value of the wrong kind"));
    let t = tag.prop_type().ok_or_else(bad)?;
    Ok(match (t, v) {
        (PropType::Short, ValueRef::Integer(i)) => {
            PropValue::Short(i16::try_from(i).map_err(|_| bad())?)
        }
        (PropType::Long, ValueRef::Integer(i)) => {
            PropValue::Long(i32::try_from(i).map_err(|_| bad())?)
        }
        (PropType::Boolean, ValueRef::Integer(i)) => PropValue::Bool(i != 0),
        (PropType::I8, ValueRef::Integer(i)) => PropValue::I8(i),
        (PropType::SysTime, ValueRef::Integer(i)) => PropValue::SysTime(i),
        (PropType::Double, ValueRef::Real(r)) => PropValue::Double(r),
        (PropType::Unicode, ValueRef::Text(s)) => {
            PropValue::Unicode(String::from_utf8_lossy(s).into_owned())
        }
        (PropType::Binary, ValueRef::Blob(b)) => PropValue::Binary(b.to_vec()),
        (PropType::Clsid, ValueRef::Blob(b)) => {
            PropValue::Clsid(<[u8; 16]>::try_from(b).map_err(|_| bad())?)
        }
        (_, ValueRef::Blob(b)) => {
            let mut r = Reader { buf: b, pos: 0 };
            decode_value(&mut r, t).ok_or_else(bad)?
        }
        _ => return Err(bad()),
    })
}

/// Encodes a property bag (recipient or attachment) as one blob:
/// `tag:u32le` followed by the value, repeated.
pub(crate) fn encode_bag(props: &[Prop]) -> Vec<u8> {
    let mut out = Vec::new();
    for (tag, value) in props {
        out.extend_from_slice(&tag.0.to_le_bytes());
        encode_value(&mut out, value);
    }
    out
}

/// Decodes [`encode_bag`]'s output.
pub(crate) fn decode_bag(blob: &[u8]) -> Result<Vec<Prop>, StoreError> {
    let mut r = Reader { buf: blob, pos: 0 };
    let mut props = Vec::new();
    while r.pos < blob.len() {
        let tag = PropTag(r.u32().ok_or_else(corrupt_bag)?);
        let t = tag.prop_type().ok_or_else(corrupt_bag)?;
        props.push((tag, decode_value(&mut r, t).ok_or_else(corrupt_bag)?));
    }
    Ok(props)
}

fn corrupt_bag() -> StoreError {
    StoreError::Corrupt("unreadable property bag".into())
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Values are bounded by the message size limit, far below 4 GiB.
    out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(b);
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn encode_value(out: &mut Vec<u8>, value: &PropValue) {
    match value {
        PropValue::Short(v) => out.extend_from_slice(&i64::from(*v).to_le_bytes()),
        PropValue::Long(v) => out.extend_from_slice(&i64::from(*v).to_le_bytes()),
        PropValue::Bool(v) => out.extend_from_slice(&i64::from(*v).to_le_bytes()),
        PropValue::I8(v) | PropValue::SysTime(v) => out.extend_from_slice(&v.to_le_bytes()),
        PropValue::Double(v) => out.extend_from_slice(&v.to_le_bytes()),
        PropValue::Unicode(s) => put_bytes(out, s.as_bytes()),
        PropValue::Binary(b) => put_bytes(out, b),
        PropValue::Clsid(g) => out.extend_from_slice(g),
        PropValue::MvLong(v) => {
            put_count(out, v.len());
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        PropValue::MvI8(v) => {
            put_count(out, v.len());
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        PropValue::MvUnicode(v) => {
            put_count(out, v.len());
            for s in v {
                put_bytes(out, s.as_bytes());
            }
        }
        PropValue::MvBinary(v) => {
            put_count(out, v.len());
            for b in v {
                put_bytes(out, b);
            }
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u32()?).ok()?;
        self.take(n)
    }
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u32()?).ok()?;
        (n <= MAX_MULTI_VALUES).then_some(n)
    }
}

fn decode_value(r: &mut Reader<'_>, t: PropType) -> Option<PropValue> {
    Some(match t {
        PropType::Short => PropValue::Short(i16::try_from(r.i64()?).ok()?),
        PropType::Long => PropValue::Long(i32::try_from(r.i64()?).ok()?),
        PropType::Boolean => PropValue::Bool(r.i64()? != 0),
        PropType::I8 => PropValue::I8(r.i64()?),
        PropType::SysTime => PropValue::SysTime(r.i64()?),
        PropType::Double => PropValue::Double(f64::from_le_bytes(r.take(8)?.try_into().ok()?)),
        PropType::Unicode => PropValue::Unicode(String::from_utf8_lossy(r.bytes()?).into_owned()),
        PropType::Binary => PropValue::Binary(r.bytes()?.to_vec()),
        PropType::Clsid => PropValue::Clsid(r.take(16)?.try_into().ok()?),
        PropType::MvLong => {
            let n = r.count()?;
            PropValue::MvLong((0..n).map(|_| r.i32()).collect::<Option<_>>()?)
        }
        PropType::MvI8 => {
            let n = r.count()?;
            PropValue::MvI8((0..n).map(|_| r.i64()).collect::<Option<_>>()?)
        }
        PropType::MvUnicode => {
            let n = r.count()?;
            PropValue::MvUnicode(
                (0..n)
                    .map(|_| r.bytes().map(|b| String::from_utf8_lossy(b).into_owned()))
                    .collect::<Option<_>>()?,
            )
        }
        PropType::MvBinary => {
            let n = r.count()?;
            PropValue::MvBinary(
                (0..n)
                    .map(|_| r.bytes().map(<[u8]>::to_vec))
                    .collect::<Option<_>>()?,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = (PropTag, PropValue)> {
        prop_oneof![
            any::<i16>().prop_map(|v| (PropTag(0x1234_0002), PropValue::Short(v))),
            any::<i32>().prop_map(|v| (PropTag(0x1234_0003), PropValue::Long(v))),
            any::<bool>().prop_map(|v| (PropTag(0x1234_000B), PropValue::Bool(v))),
            any::<i64>().prop_map(|v| (PropTag(0x1234_0014), PropValue::I8(v))),
            any::<i64>().prop_map(|v| (PropTag(0x1234_0040), PropValue::SysTime(v))),
            ".*".prop_map(|v| (PropTag(0x1234_001F), PropValue::Unicode(v))),
            any::<Vec<u8>>().prop_map(|v| (PropTag(0x1234_0102), PropValue::Binary(v))),
            any::<[u8; 16]>().prop_map(|v| (PropTag(0x1234_0048), PropValue::Clsid(v))),
            any::<Vec<i32>>().prop_map(|v| (PropTag(0x1234_1003), PropValue::MvLong(v))),
            any::<Vec<i64>>().prop_map(|v| (PropTag(0x1234_1014), PropValue::MvI8(v))),
            proptest::collection::vec(".*", 0..5)
                .prop_map(|v| (PropTag(0x1234_101F), PropValue::MvUnicode(v))),
            proptest::collection::vec(any::<Vec<u8>>(), 0..5)
                .prop_map(|v| (PropTag(0x1234_1102), PropValue::MvBinary(v))),
        ]
    }

    proptest! {
        #[test]
        fn property_bags_round_trip(props in proptest::collection::vec(value(), 0..8)) {
            let blob = encode_bag(&props);
            prop_assert_eq!(decode_bag(&blob).unwrap(), props);
        }

        #[test]
        fn column_values_round_trip((tag, v) in value()) {
            let out = to_sql(&v);
            let vr = match &out {
                ToSqlOutput::Borrowed(r) => *r,
                ToSqlOutput::Owned(o) => ValueRef::from(o),
                _ => unreachable!(),
            };
            prop_assert_eq!(from_sql(tag, vr).unwrap(), v);
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused() {
        assert!(check_prop(PropTag(0x0037_001F), &PropValue::Long(1)).is_err());
        assert!(check_prop(PropTag(0x0037_001F), &PropValue::Unicode("x".into())).is_ok());
        assert!(check_prop(PropTag(0x0037_0999), &PropValue::Long(1)).is_err());
    }

    #[test]
    fn a_truncated_bag_is_corrupt_not_a_panic() {
        let blob = encode_bag(&[(PropTag(0x3001_001F), PropValue::Unicode("Alice".into()))]);
        for cut in 0..blob.len() {
            let _ = decode_bag(&blob[..cut]);
        }
    }
}
