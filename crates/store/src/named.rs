//! Named properties of one store ([MS-OXCPRPT] 3.1.4.7/8, gromox's
//! `named_properties` table): each (property set, LID or name) the store has
//! seen gets a property id of its own in 0x8000–0xFFFE. Ids are given out
//! by the store's writer (one at a time, so two callers asking for the same
//! name get the same id), never change and are never reused, so property
//! rows that carry them stay valid and both directions can be cached.

use crate::error::{Result, StoreError};
use crate::store::{Store, StoreReader};
use groxide_mapi::{Guid, NameKind, NamedProp};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

/// The first id of a named property.
pub const FIRST_NAMED_ID: u16 = 0x8000;
/// The last id a named property may get (0xFFFF is not a property id).
pub const LAST_NAMED_ID: u16 = 0xFFFE;
/// Longest string name, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// Names are compared as the table compares them: string names without
/// ASCII case.
fn cache_key(n: &NamedProp) -> NamedProp {
    match &n.name {
        NameKind::Lid(_) => n.clone(),
        NameKind::Str(s) => NamedProp::string(n.set, s.to_ascii_lowercase()),
    }
}

/// Both directions of the mapping, as far as this process has seen them.
/// Only committed mappings enter it.
#[derive(Debug, Default)]
pub(crate) struct NameCache {
    ids: RwLock<HashMap<NamedProp, u16>>,
    names: RwLock<HashMap<u16, NamedProp>>,
}

impl NameCache {
    fn id(&self, n: &NamedProp) -> Option<u16> {
        self.ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&cache_key(n))
            .copied()
    }

    fn name(&self, id: u16) -> Option<NamedProp> {
        self.names
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    fn insert(&self, n: NamedProp, id: u16) {
        self.ids
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(cache_key(&n), id);
        self.names
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, n);
    }
}

fn check_name(n: &NamedProp) -> Result<()> {
    if let NameKind::Str(s) = &n.name
        && (s.is_empty() || s.len() > MAX_NAME_LEN || s.contains('\0'))
    {
        return Err(StoreError::InvalidArgument(format!(
            "named property name {s:?} must be 1 to {MAX_NAME_LEN} bytes without NUL"
        )));
    }
    Ok(())
}

/// The id of `n` in the table, if it has one.
pub(crate) fn lookup(conn: &Connection, n: &NamedProp) -> Result<Option<u16>> {
    let guid = &n.set.as_bytes()[..];
    let id: Option<i64> = match &n.name {
        NameKind::Lid(l) => conn
            .prepare_cached(
                "SELECT propid FROM named_properties WHERE guid = ?1 AND lid = ?2 AND lid IS NOT NULL",
            )?
            .query_row(params![guid, i64::from(*l)], |r| r.get(0))
            .optional()?,
        NameKind::Str(s) => conn
            .prepare_cached(
                "SELECT propid FROM named_properties WHERE guid = ?1 AND name = ?2 AND name IS NOT NULL",
            )?
            .query_row(params![guid, s], |r| r.get(0))
            .optional()?,
    };
    Ok(id.and_then(|i| u16::try_from(i).ok()))
}

/// The name of id `id`, if it has one.
pub(crate) fn name_of(conn: &Connection, id: u16) -> Result<Option<NamedProp>> {
    let row: Option<(Vec<u8>, Option<i64>, Option<String>)> = conn
        .prepare_cached("SELECT guid, lid, name FROM named_properties WHERE propid = ?1")?
        .query_row([i64::from(id)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((guid, lid, name)) = row else {
        return Ok(None);
    };
    let set = <[u8; 16]>::try_from(guid.as_slice())
        .map(Guid)
        .map_err(|_| StoreError::Corrupt(format!("named property {id:#06x}: bad GUID")))?;
    Ok(Some(match (lid, name) {
        (Some(l), _) => NamedProp::lid(set, l as u32),
        (None, Some(s)) => NamedProp::string(set, s),
        (None, None) => {
            return Err(StoreError::Corrupt(format!(
                "named property {id:#06x} has no name"
            )));
        }
    }))
}

/// The id of `n`, given out now if it has none. Runs in the writer's
/// transaction, so concurrent callers are serialised.
pub(crate) fn get_or_create(conn: &Connection, n: &NamedProp) -> Result<u16> {
    if let Some(id) = lookup(conn, n)? {
        return Ok(id);
    }
    check_name(n)?;
    let next: i64 = conn
        .prepare_cached("SELECT coalesce(max(propid) + 1, ?1) FROM named_properties")?
        .query_row([i64::from(FIRST_NAMED_ID)], |r| r.get(0))?;
    if next > i64::from(LAST_NAMED_ID) {
        return Err(StoreError::NotPermitted(
            "the store has used up its named property ids".into(),
        ));
    }
    let (lid, name) = match &n.name {
        NameKind::Lid(l) => (Some(i64::from(*l)), None),
        NameKind::Str(s) => (None, Some(s.as_str())),
    };
    conn.prepare_cached(
        "INSERT INTO named_properties (propid, guid, lid, name) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![next, &n.set.as_bytes()[..], lid, name])?;
    Ok(next as u16)
}

impl StoreReader {
    /// The ids of `names` (`None` for a name the store has not seen).
    pub fn named_ids(&self, names: &[NamedProp]) -> Result<Vec<Option<u16>>> {
        let mut out: Vec<Option<u16>> = names.iter().map(|n| self.named.id(n)).collect();
        if out.iter().all(Option::is_some) {
            return Ok(out);
        }
        self.with_reader(|c| {
            for (n, slot) in names.iter().zip(out.iter_mut()) {
                if slot.is_none() {
                    *slot = lookup(c, n)?;
                    if let Some(id) = *slot {
                        self.named.insert(n.clone(), id);
                    }
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The names of property ids (`None` for an id without a name: below
    /// 0x8000, or not given out).
    pub fn named_names(&self, ids: &[u16]) -> Result<Vec<Option<NamedProp>>> {
        let mut out: Vec<Option<NamedProp>> = ids.iter().map(|i| self.named.name(*i)).collect();
        if out.iter().all(Option::is_some) {
            return Ok(out);
        }
        self.with_reader(|c| {
            for (id, slot) in ids.iter().zip(out.iter_mut()) {
                if slot.is_none() && *id >= FIRST_NAMED_ID {
                    *slot = name_of(c, *id)?;
                    if let Some(n) = slot {
                        self.named.insert(n.clone(), *id);
                    }
                }
            }
            Ok(())
        })?;
        Ok(out)
    }
}

impl Store {
    /// The ids of `names`, giving ids to those that have none when `create`
    /// (else `None` for them). Idempotent; concurrent callers asking for one
    /// name get one id (the store's writer gives ids out).
    pub fn named_ids_create(&self, names: &[NamedProp], create: bool) -> Result<Vec<Option<u16>>> {
        let found = self.reader.named_ids(names)?;
        if !create || found.iter().all(Option::is_some) {
            return Ok(found);
        }
        let missing: Vec<NamedProp> = names
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(n, _)| n.clone())
            .collect();
        for n in &missing {
            check_name(n)?;
        }
        let ids = self.writer.submit((), move |ctx| {
            missing
                .iter()
                .map(|n| Ok((n.clone(), get_or_create(ctx.conn, n)?)))
                .collect::<Result<Vec<_>>>()
        })?;
        // Committed: now they may be cached.
        for (n, id) in ids {
            self.reader.named.insert(n, id);
        }
        self.reader.named_ids(names)
    }
}
