//! What the server remembers about a device, and how it is written: the
//! device record (policy key, wipe, what the device told about itself),
//! the folder hierarchy the device knows, and per collection the items the
//! device holds with the change number it holds them at.
//!
//! Sync keys are `<generation><n>`: eight hex digits chosen when the client
//! started afresh (SyncKey 0), then the counter. A key of another
//! generation (the state was reset, the device removed) or an old counter
//! never matches, so the client gets "invalid sync key", never data
//! computed from a state it does not have.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The device record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// DeviceId as the client sends it.
    pub id: String,
    /// DeviceType.
    pub device_type: String,
    /// The last User-Agent.
    #[serde(default)]
    pub user_agent: String,
    /// Settings:DeviceInformation Model.
    #[serde(default)]
    pub model: String,
    /// FriendlyName.
    #[serde(default)]
    pub friendly_name: String,
    /// OS.
    #[serde(default)]
    pub os: String,
    /// The acknowledged policy key (0: not provisioned).
    #[serde(default)]
    pub policy_key: u32,
    /// The temporary key handed out by the first Provision step.
    #[serde(default)]
    pub pending_key: u32,
    /// A remote wipe: "" none, "requested", "acknowledged".
    #[serde(default)]
    pub wipe: String,
    /// First and last contact, Unix seconds.
    #[serde(default)]
    pub first_seen: i64,
    /// Last contact.
    #[serde(default)]
    pub last_seen: i64,
    /// The protocol version last used.
    #[serde(default)]
    pub version: String,
    /// The folders of the last Ping (a Ping without body repeats it).
    #[serde(default)]
    pub ping_folders: Vec<String>,
    /// The heartbeat of the last Ping, seconds.
    #[serde(default)]
    pub ping_heartbeat: u64,
}

/// One folder as the device was told of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownFolder {
    /// ParentId as sent ("0" for top level).
    pub parent: String,
    /// DisplayName.
    pub name: String,
    /// EAS folder type.
    pub kind: u8,
}

/// The hierarchy the device holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hierarchy {
    /// The generation of the keys (hex in the key).
    pub generation: u32,
    /// The current counter; the device's key is `key(generation, n)`.
    pub n: u32,
    /// ServerId → folder.
    pub folders: BTreeMap<String, KnownFolder>,
}

/// A sync key string.
pub fn key(generation: u32, n: u32) -> String {
    format!("{generation:08x}{n}")
}

/// Splits a sync key into generation and counter.
pub fn parse_key(s: &str) -> Option<(u32, u32)> {
    if s.len() < 9 || s.len() > 20 || !s.is_ascii() {
        return None;
    }
    let (g, n) = s.split_at(8);
    Some((u32::from_str_radix(g, 16).ok()?, n.parse().ok()?))
}

/// A fresh generation (never 0, so no key equals an old one by chance of
/// zeroed state).
pub fn new_generation() -> u32 {
    rand::random::<u32>().max(1)
}

/// A collection's state at one sync key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionState {
    /// Key generation.
    pub generation: u32,
    /// Key counter.
    pub n: u32,
    /// Every change with a change number up to this one is reflected.
    pub cursor: u64,
    /// Items the device holds: message id → the change number it has.
    pub known: BTreeMap<u64, u64>,
}

const STATE_FORMAT: u8 = 1;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn get_varint(raw: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *raw.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

impl CollectionState {
    /// The state's sync key.
    pub fn key(&self) -> String {
        key(self.generation, self.n)
    }

    /// The stored form: format byte, then varints (ids delta-coded).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.known.len() * 5);
        out.push(STATE_FORMAT);
        put_varint(&mut out, u64::from(self.generation));
        put_varint(&mut out, u64::from(self.n));
        put_varint(&mut out, self.cursor);
        put_varint(&mut out, self.known.len() as u64);
        let mut last = 0u64;
        for (id, cn) in &self.known {
            put_varint(&mut out, id - last);
            put_varint(&mut out, *cn);
            last = *id;
        }
        out
    }

    /// Reads the stored form; `None` if it is not one.
    pub fn decode(raw: &[u8]) -> Option<CollectionState> {
        if raw.first() != Some(&STATE_FORMAT) {
            return None;
        }
        let mut at = 1;
        let generation = u32::try_from(get_varint(raw, &mut at)?).ok()?;
        let n = u32::try_from(get_varint(raw, &mut at)?).ok()?;
        let cursor = get_varint(raw, &mut at)?;
        let count = get_varint(raw, &mut at)?;
        // Each entry takes at least two bytes: a count beyond that is corrupt.
        if count > (raw.len() as u64) / 2 {
            return None;
        }
        let mut known = BTreeMap::new();
        let mut last = 0u64;
        for _ in 0..count {
            last = last.checked_add(get_varint(raw, &mut at)?)?;
            known.insert(last, get_varint(raw, &mut at)?);
        }
        (at == raw.len()).then_some(CollectionState {
            generation,
            n,
            cursor,
            known,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_state_round_trips_and_rejects_garbage() {
        let mut s = CollectionState {
            generation: 0xDEAD_BEEF,
            n: 7,
            cursor: 1234,
            known: BTreeMap::new(),
        };
        for i in 0..1000u64 {
            s.known.insert(0x1_0000 + i * 3, 1000 + i);
        }
        let raw = s.encode();
        assert!(raw.len() < 1000 * 5, "{} bytes", raw.len());
        assert_eq!(CollectionState::decode(&raw), Some(s.clone()));
        assert_eq!(CollectionState::decode(&raw[..raw.len() - 1]), None);
        assert_eq!(CollectionState::decode(&[]), None);
        assert_eq!(CollectionState::decode(&[2, 0, 0]), None);
        assert_eq!(
            CollectionState::decode(&[1, 1, 1, 1, 0xFF, 0xFF, 0xFF, 0x0F]),
            None
        );
    }

    #[test]
    fn sync_keys_carry_generation_and_counter() {
        assert_eq!(key(0x0000_00ab, 12), "000000ab12");
        assert_eq!(parse_key("000000ab12"), Some((0xab, 12)));
        for bad in [
            "0",
            "1",
            "",
            "zzzzzzzz1",
            "000000ab",
            "000000ab-1",
            "00000000123456789012345",
        ] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }
}
