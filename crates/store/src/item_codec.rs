//! How an item's parts are kept: named properties resolved to the store's
//! ids and back ([`Names`]), and embedded messages (the exceptions of a
//! series) encoded into one binary property of their attachment row — a
//! length-prefixed sequence of property bags (props.rs's encoding):
//! message properties, recipient count and bags, attachment count and per
//! attachment its bag, a kind byte (0 data, 1 embedded) and the data or the
//! nested message.

use crate::error::{Result, StoreError};
use crate::items::MAX_EMBED_DEPTH;
use crate::props::{Prop, PropTag, PropValue, check_prop, decode_bag, encode_bag};
use crate::tags::*;
use groxide_mapi::{NamedProp, PropKey};
use groxide_pim::{Attachment, AttachmentContent, Item, ItemClass, PropMap, Recipient};
use std::collections::{BTreeSet, HashMap};

pub(crate) fn resolve_key(key: &PropKey, ids: &HashMap<NamedProp, u16>) -> Result<PropTag> {
    key.resolve(|n| ids.get(n).copied())
        .ok_or_else(|| StoreError::InvalidArgument(format!("named property {key} has no id")))
}

pub(crate) fn resolve_props<'a>(
    props: impl IntoIterator<Item = (&'a PropKey, &'a PropValue)>,
    ids: &HashMap<NamedProp, u16>,
) -> Result<Vec<Prop>> {
    props
        .into_iter()
        .map(|(k, v)| {
            let t = resolve_key(k, ids)?;
            check_prop(t, v)?;
            Ok((t, v.clone()))
        })
        .collect()
}

pub(crate) fn resolve_owned(
    props: Vec<(PropKey, PropValue)>,
    ids: &HashMap<NamedProp, u16>,
) -> Result<Vec<Prop>> {
    resolve_props(props.iter().map(|(k, v)| (k, v)), ids)
}

pub(crate) fn props_size(p: &[Prop]) -> u64 {
    p.iter().map(|(_, v)| v.approximate_size() as u64 + 4).sum()
}

// ----- embedded messages: a small length-prefixed encoding of bags -----

fn put_blob(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

pub(crate) fn encode_embedded(
    item: &Item,
    ids: &HashMap<NamedProp, u16>,
    depth: usize,
) -> Result<Vec<u8>> {
    if depth > MAX_EMBED_DEPTH {
        return Err(StoreError::InvalidArgument(format!(
            "embedded messages nest more than {MAX_EMBED_DEPTH} deep"
        )));
    }
    let mut out = Vec::new();
    put_blob(
        &mut out,
        &encode_bag(&resolve_owned(item.message_props(), ids)?),
    );
    out.extend_from_slice(&(item.recipients.len() as u32).to_le_bytes());
    for r in &item.recipients {
        put_blob(&mut out, &encode_bag(&resolve_owned(r.to_props(), ids)?));
    }
    out.extend_from_slice(&(item.attachments.len() as u32).to_le_bytes());
    for a in &item.attachments {
        put_blob(&mut out, &encode_bag(&resolve_props(a.props.iter(), ids)?));
        match &a.content {
            AttachmentContent::Data(d) => {
                out.push(0);
                put_blob(&mut out, d);
            }
            AttachmentContent::Embedded(m) => {
                out.push(1);
                put_blob(&mut out, &encode_embedded(m, ids, depth + 1)?);
            }
        }
    }
    Ok(out)
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn u32(&mut self) -> Result<u32> {
        let (h, t) = self.0.split_at_checked(4).ok_or_else(corrupt)?;
        self.0 = t;
        Ok(u32::from_le_bytes([h[0], h[1], h[2], h[3]]))
    }

    fn u8(&mut self) -> Result<u8> {
        let (h, t) = self.0.split_first().ok_or_else(corrupt)?;
        self.0 = t;
        Ok(*h)
    }

    fn blob(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        let (h, t) = self.0.split_at_checked(n).ok_or_else(corrupt)?;
        self.0 = t;
        Ok(h)
    }
}

fn corrupt() -> StoreError {
    StoreError::Corrupt("embedded message encoding".into())
}

/// Tags back to keys: ids ≥ 0x8000 to their names.
pub(crate) struct Names(pub(crate) HashMap<u16, NamedProp>);

impl Names {
    pub(crate) fn key(&self, t: PropTag) -> PropKey {
        match (self.0.get(&t.id()), t.prop_type()) {
            (Some(n), Some(ty)) if t.is_named() => PropKey::Named(n.clone(), ty),
            _ => PropKey::Tag(t),
        }
    }

    pub(crate) fn map(&self, props: Vec<Prop>) -> PropMap {
        props.into_iter().map(|(t, v)| (self.key(t), v)).collect()
    }
}

pub(crate) fn item_from_parts(
    props: Vec<Prop>,
    recipients: Vec<Vec<Prop>>,
    attachments: Vec<Attachment>,
    names: &Names,
) -> Item {
    let mut class = ItemClass::Appointment;
    let mut map = PropMap::new();
    for (t, v) in props {
        if t == PR_MESSAGE_CLASS {
            if let Some(c) = v.as_str().and_then(ItemClass::from_message_class) {
                class = c;
            }
            continue;
        }
        map.insert(names.key(t), v);
    }
    Item {
        class,
        props: map,
        recipients: recipients
            .into_iter()
            .map(|r| Recipient::from_props(names.map(r)))
            .collect(),
        attachments,
        original: None,
    }
}

pub(crate) fn decode_embedded(b: &[u8], names: &Names, depth: usize) -> Result<Item> {
    if depth > MAX_EMBED_DEPTH {
        return Err(corrupt());
    }
    let mut c = Cursor(b);
    let props = decode_bag(c.blob()?)?;
    let n = c.u32()? as usize;
    let mut recipients = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        recipients.push(decode_bag(c.blob()?)?);
    }
    let n = c.u32()? as usize;
    let mut attachments = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let p = names.map(decode_bag(c.blob()?)?);
        let content = match c.u8()? {
            0 => AttachmentContent::Data(c.blob()?.to_vec()),
            _ => {
                AttachmentContent::Embedded(Box::new(decode_embedded(c.blob()?, names, depth + 1)?))
            }
        };
        attachments.push(Attachment { props: p, content });
    }
    Ok(item_from_parts(props, recipients, attachments, names))
}

pub(crate) fn collect_ids(props: &[Prop], out: &mut BTreeSet<u16>) {
    out.extend(
        props
            .iter()
            .filter(|(t, _)| t.is_named())
            .map(|(t, _)| t.id()),
    );
}

pub(crate) fn collect_embedded_ids(b: &[u8], out: &mut BTreeSet<u16>, depth: usize) -> Result<()> {
    if depth > MAX_EMBED_DEPTH {
        return Err(corrupt());
    }
    let mut c = Cursor(b);
    collect_ids(&decode_bag(c.blob()?)?, out);
    for _ in 0..c.u32()? {
        collect_ids(&decode_bag(c.blob()?)?, out);
    }
    for _ in 0..c.u32()? {
        collect_ids(&decode_bag(c.blob()?)?, out);
        match c.u8()? {
            0 => {
                c.blob()?;
            }
            _ => collect_embedded_ids(c.blob()?, out, depth + 1)?,
        }
    }
    Ok(())
}
