//! Out-of-office settings and the senders already answered, kept in the
//! user's own store as two properties of its root folder (outside the IPM
//! subtree, so no client lists them and no change shows in a mail folder):
//! EWS (Get/SetUserOofSettings) writes the settings, groxide-delivery reads
//! them and records whom it answered. One definition for both, here.
//!
//! Both values are versioned binary records. Setting the settings starts a
//! new period (its time), and the answered senders of an older period no
//! longer count: each sender gets one reply per period.

use crate::RpcError;
use crate::exmdb_client::{ExmdbClient, folder_role};
use crate::pb::exmdb::v1 as pb;

/// The settings property (binary, of the root folder).
const SETTINGS_TAG: u32 = 0x7E30_0102;
/// The answered senders property (binary, of the root folder).
const ANSWERED_TAG: u32 = 0x7E31_0102;
const VERSION: u8 = 1;
/// Senders remembered per period (the oldest go first).
pub const MAX_ANSWERED: usize = 5000;

/// `OofState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OofState {
    /// No replies.
    #[default]
    Disabled,
    /// Replies.
    Enabled,
    /// Replies inside the window only.
    Scheduled,
}

/// `ExternalAudience`: who outside the user's domain gets a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExternalAudience {
    /// Nobody outside.
    #[default]
    None,
    /// Senders among the user's contacts.
    Known,
    /// Everybody.
    All,
}

/// One user's out-of-office settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OofSettings {
    /// On, off or scheduled.
    pub state: OofState,
    /// Who outside gets a reply.
    pub external_audience: ExternalAudience,
    /// The scheduled window (Unix seconds), start inclusive, end exclusive.
    pub start: i64,
    /// The end of the window.
    pub end: i64,
    /// The reply to senders of the user's own domain.
    pub internal_reply: String,
    /// The reply to others.
    pub external_reply: String,
    /// When these settings were set (Unix seconds): the period's name.
    pub period: i64,
}

impl OofSettings {
    /// Whether replies go out at `now`.
    pub fn active(&self, now: i64) -> bool {
        match self.state {
            OofState::Disabled => false,
            OofState::Enabled => true,
            OofState::Scheduled => self.start <= now && now < self.end,
        }
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![VERSION, self.state as u8, self.external_audience as u8];
        for n in [self.start, self.end, self.period] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        for s in [&self.internal_reply, &self.external_reply] {
            b.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
            b.extend_from_slice(s.as_bytes());
        }
        b
    }

    /// The settings of a stored form; `None` when it is not one.
    pub fn decode(raw: &[u8]) -> Option<OofSettings> {
        let mut r = Reader(raw);
        if r.u8()? != VERSION {
            return None;
        }
        let state = match r.u8()? {
            0 => OofState::Disabled,
            1 => OofState::Enabled,
            2 => OofState::Scheduled,
            _ => return None,
        };
        let external_audience = match r.u8()? {
            0 => ExternalAudience::None,
            1 => ExternalAudience::Known,
            2 => ExternalAudience::All,
            _ => return None,
        };
        let (start, end, period) = (r.i64()?, r.i64()?, r.i64()?);
        let internal_reply = r.string()?;
        let external_reply = r.string()?;
        r.0.is_empty().then_some(OofSettings {
            state,
            external_audience,
            start,
            end,
            internal_reply,
            external_reply,
            period,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let n = u32::from_be_bytes(self.take(4)?.try_into().ok()?);
        String::from_utf8(self.take(usize::try_from(n).ok()?)?.to_vec()).ok()
    }
}

/// The senders answered in one period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answered {
    /// The period (see [`OofSettings::period`]).
    pub period: i64,
    /// Lower-case addresses, oldest first.
    pub senders: Vec<String>,
}

impl Answered {
    fn encode(&self) -> Vec<u8> {
        let mut b = vec![VERSION];
        b.extend_from_slice(&self.period.to_be_bytes());
        b.extend_from_slice(self.senders.join("\n").as_bytes());
        b
    }

    fn decode(raw: &[u8]) -> Option<Answered> {
        let mut r = Reader(raw);
        if r.u8()? != VERSION {
            return None;
        }
        let period = r.i64()?;
        let text = std::str::from_utf8(r.0).ok()?;
        Some(Answered {
            period,
            senders: text
                .split('\n')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    /// Adds `sender` to the period's list; false when it was there.
    pub fn add(&mut self, period: i64, sender: &str) -> bool {
        if self.period != period {
            *self = Answered {
                period,
                senders: Vec::new(),
            };
        }
        let sender = sender.to_ascii_lowercase();
        if self.senders.contains(&sender) {
            return false;
        }
        if self.senders.len() >= MAX_ANSWERED {
            self.senders.remove(0);
        }
        self.senders.push(sender);
        true
    }
}

fn binary(props: &[pb::Prop], tag: u32) -> Option<&[u8]> {
    props
        .iter()
        .find(|p| p.tag == tag)
        .and_then(|p| match &p.value {
            Some(pb::prop::Value::BinaryValue(b)) => Some(b.as_slice()),
            _ => None,
        })
}

fn root(dir: &str) -> pb::FolderRequest {
    pb::FolderRequest {
        dir: dir.to_string(),
        folder: Some(folder_role("root")),
    }
}

async fn write(exmdb: &ExmdbClient, dir: &str, tag: u32, value: Vec<u8>) -> Result<(), RpcError> {
    exmdb
        .set_folder_props(pb::SetFolderPropsRequest {
            dir: dir.to_string(),
            folder: Some(folder_role("root")),
            set: vec![pb::Prop {
                tag,
                value: Some(pb::prop::Value::BinaryValue(value)),
            }],
            remove: Vec::new(),
        })
        .await
        .map(|_| ())
}

/// The settings and answered senders of the store `dir` (defaults when
/// none were ever set, or the stored ones are of an unknown version).
pub async fn read(exmdb: &ExmdbClient, dir: &str) -> Result<(OofSettings, Answered), RpcError> {
    let props = exmdb.get_folder_props(root(dir)).await?.props;
    let settings = binary(&props, SETTINGS_TAG)
        .and_then(OofSettings::decode)
        .unwrap_or_default();
    let answered = binary(&props, ANSWERED_TAG)
        .and_then(Answered::decode)
        .unwrap_or_default();
    Ok((settings, answered))
}

/// Stores new settings (a new period: nobody has been answered in it).
pub async fn write_settings(
    exmdb: &ExmdbClient,
    dir: &str,
    settings: &OofSettings,
) -> Result<(), RpcError> {
    write(exmdb, dir, SETTINGS_TAG, settings.encode()).await
}

/// Stores the answered senders.
pub async fn write_answered(
    exmdb: &ExmdbClient,
    dir: &str,
    answered: &Answered,
) -> Result<(), RpcError> {
    write(exmdb, dir, ANSWERED_TAG, answered.encode()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_foreign_bytes_are_not_settings() {
        let s = OofSettings {
            state: OofState::Scheduled,
            external_audience: ExternalAudience::Known,
            start: 100,
            end: 200,
            internal_reply: "Away — back Monday".into(),
            external_reply: "<p>Away</p>".into(),
            period: 42,
        };
        assert_eq!(OofSettings::decode(&s.encode()), Some(s.clone()));
        assert!(s.active(100) && s.active(199));
        assert!(!s.active(99) && !s.active(200));
        let mut raw = s.encode();
        raw.push(0);
        assert_eq!(OofSettings::decode(&raw), None);
        assert_eq!(OofSettings::decode(&[2]), None);
        assert_eq!(OofSettings::decode(&[]), None);
    }

    #[test]
    fn each_sender_is_answered_once_per_period() {
        let mut a = Answered::default();
        assert!(a.add(1, "Bob@Example.test"));
        assert!(!a.add(1, "bob@example.test"));
        assert!(a.add(1, "carol@example.test"));
        assert_eq!(Answered::decode(&a.encode()), Some(a.clone()));
        // A new period forgets them.
        assert!(a.add(2, "bob@example.test"));
        assert_eq!(a.senders, ["bob@example.test"]);
        for i in 0..MAX_ANSWERED {
            a.add(2, &format!("s{i}@x"));
        }
        assert_eq!(a.senders.len(), MAX_ANSWERED);
        assert!(!a.senders.contains(&"bob@example.test".to_string()));
    }
}
