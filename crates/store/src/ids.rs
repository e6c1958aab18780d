//! The identities of a store's objects.

use std::fmt;

/// A folder within one store. Standard folders have fixed ids (see
/// [`crate::folders::STANDARD_PRIVATE`]); folders created later start at
/// [`crate::folders::FIRST_CUSTOM_FOLDER_ID`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FolderId(pub u64);

/// A message within one store. Never reused; kept when a message moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

/// An IMAP UID: unique within one folder and one UIDVALIDITY, strictly
/// increasing in the order messages arrive in the folder, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImapUid(pub u32);

/// The store's change number: one monotonic counter per store; every change
/// of a folder or message takes the next one. Doubles as IMAP MODSEQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ChangeNumber(pub u64);

/// A folder's IMAP UIDVALIDITY: assigned at creation, never reused within the
/// store (a folder re-created under an old name gets a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UidValidity(pub u32);

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}
display_inner!(FolderId, MessageId, ImapUid, ChangeNumber, UidValidity);

/// An inclusive range of UIDs, as IMAP sequence sets name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidRange {
    /// First UID (inclusive).
    pub first: ImapUid,
    /// Last UID (inclusive); `u32::MAX` for IMAP's `*`.
    pub last: ImapUid,
}

impl UidRange {
    /// Every UID.
    pub const ALL: UidRange = UidRange {
        first: ImapUid(1),
        last: ImapUid(u32::MAX),
    };

    /// The range `first..=last`.
    pub fn new(first: u32, last: u32) -> UidRange {
        UidRange {
            first: ImapUid(first.min(last)),
            last: ImapUid(first.max(last)),
        }
    }

    /// One UID.
    pub fn single(uid: ImapUid) -> UidRange {
        UidRange {
            first: uid,
            last: uid,
        }
    }

    /// Whether `uid` lies in the range.
    pub fn contains(&self, uid: ImapUid) -> bool {
        self.first <= uid && uid <= self.last
    }
}

/// The SHA-256 of a content file's bytes: its name under `cid/`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
        s
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<ContentHash> {
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            out[i] = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(ContentHash(out))
    }

    /// From a 32-byte slice (a database value).
    pub fn from_slice(b: &[u8]) -> Option<ContentHash> {
        <[u8; 32]>::try_from(b).ok().map(ContentHash)
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_hex_round_trips() {
        let h = ContentHash([0xab; 32]);
        assert_eq!(ContentHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(ContentHash::from_hex("zz"), None);
    }

    #[test]
    fn a_reversed_uid_range_is_normalised() {
        assert_eq!(UidRange::new(9, 3), UidRange::new(3, 9));
        assert!(UidRange::new(3, 9).contains(ImapUid(9)));
        assert!(!UidRange::new(3, 9).contains(ImapUid(10)));
    }
}
