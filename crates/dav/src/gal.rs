//! The domain's public contacts (the GAL) as a read-only address book
//! `gal` in every user's address book home: one vCard per directory user
//! of the user's domain that the address book shows (not deleted ones).
//!
//! The directory has no change numbers, so an entry's ETag is a hash of its
//! vCard and the collection's sync token a hash of all of them: a client
//! holding an older token is told `valid-sync-token` and syncs afresh (RFC
//! 6578 §3.2). Every write is refused with 403 and `need-privileges`.

use crate::Answer;
use crate::store::{CollKind, Collection, Ctx};
use crate::xml::NS_DAV;
use groxide_directory::{User, UserState};
use groxide_rpc::items::ItemInfo;
use groxide_rpc::pb::exmdb::v1 as pb;
use http::StatusCode;
use std::sync::Arc;

/// The GAL's path segment in the address book home.
pub(crate) const SEGMENT: &str = "gal";

/// The GAL as read for one request.
#[derive(Debug)]
pub(crate) struct Gal {
    /// Its entries with their vCards, by username.
    pub entries: Vec<(ItemInfo, String)>,
    /// Its sync token.
    pub token: String,
}

impl Gal {
    /// The vCard of an entry.
    pub(crate) fn card(&self, message_id: u64) -> Option<&str> {
        self.entries
            .iter()
            .find(|(i, _)| i.message_id == message_id)
            .map(|(_, c)| c.as_str())
    }
}

/// FNV-1a, 64 bits: stable across builds (ETags outlive processes).
fn fnv(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Escapes a vCard 3.0 text value.
fn text(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' | ',' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// The vCard of a directory user.
pub(crate) fn card_of(u: &User) -> String {
    let (local, domain) = u.username.split_once('@').unwrap_or((&u.username, ""));
    let kind = match u.address_status.user_state() {
        UserState::SharedMailbox => "X-ADDRESSBOOKSERVER-KIND:group\r\n",
        _ => "",
    };
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//groxide//gal//EN\r\nUID:gal-{}\r\n\
         FN:{}\r\nN:{};;;;\r\nEMAIL;TYPE=INTERNET,PREF:{}\r\nORG:{}\r\n{kind}END:VCARD\r\n",
        u.id.0,
        text(&u.username),
        text(local),
        text(&u.username),
        text(domain),
    )
}

/// Whether the address book shows a user.
fn listed(u: &User) -> bool {
    matches!(
        u.address_status.user_state(),
        UserState::Normal | UserState::Suspended | UserState::SharedMailbox | UserState::Contact
    )
}

/// The GAL of these directory users.
pub(crate) fn of_users(users: &[User]) -> Gal {
    let mut token = FNV_START;
    let entries: Vec<(ItemInfo, String)> = users
        .iter()
        .filter(|u| listed(u))
        .map(|u| {
            let card = card_of(u);
            let etag = fnv(card.as_bytes(), FNV_START);
            token = fnv(&etag.to_le_bytes(), token);
            let info = ItemInfo {
                message_id: u.id.0,
                folder_id: 0,
                uid: 0,
                change_number: 0,
                etag: format!("gal-{etag:016x}"),
                item_uid: format!("gal-{}", u.id.0),
                message_class: "IPM.Contact".into(),
                size: card.len() as u64,
                name: String::new(),
            };
            (info, card)
        })
        .collect();
    Gal {
        entries,
        token: format!("gal-{token:016x}"),
    }
}

/// Reads the GAL of the request's user's domain; `None` without a
/// directory.
pub(crate) async fn read(ctx: &Ctx<'_>) -> Result<Option<Gal>, Answer> {
    let Some(directory) = ctx.dav.directory.as_ref() else {
        return Ok(None);
    };
    let users = directory.users(Some(ctx.domain)).await.map_err(|e| {
        tracing::warn!(error = %e, "DAV: the directory cannot list the GAL");
        Answer::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the directory is unavailable; try again later",
        )
        .header(http::header::RETRY_AFTER, "5")
    })?;
    Ok(Some(of_users(&users)))
}

/// The GAL as a collection.
pub(crate) fn collection(gal: Gal) -> Collection {
    Collection {
        folder: pb::Folder {
            name: "Global Address List".into(),
            container_class: "IPF.Contact".into(),
            ..pb::Folder::default()
        },
        kind: CollKind::Contacts,
        segment: SEGMENT.into(),
        description: Some("The users of your domain (read-only)".into()),
        dead: Vec::new(),
        gal: Some(Arc::new(gal)),
    }
}

/// The answer to a write into the GAL.
pub(crate) fn read_only() -> Answer {
    Answer::condition(
        StatusCode::FORBIDDEN,
        NS_DAV,
        "need-privileges",
        "the global address list is read-only",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_directory::{AddressStatus, DomainId, PrivilegeBits, ServerId, UserId};

    fn user(id: u64, name: &str, status: u8) -> User {
        User {
            id: UserId(id),
            username: name.into(),
            domain_id: DomainId(1),
            maildir: String::new(),
            homeserver: ServerId::ANY,
            address_status: AddressStatus(status),
            privilege_bits: PrivilegeBits::default(),
            lang: String::new(),
            timezone: String::new(),
        }
    }

    #[test]
    fn the_gal_lists_the_address_books_users_as_vcards_with_stable_tags() {
        let users = [
            user(1, "ann@d.test", 0),
            user(2, "gone@d.test", 3),
            user(3, "desk;1@d.test", 4),
        ];
        let g = of_users(&users);
        assert_eq!(g.entries.len(), 2);
        let (info, card) = &g.entries[0];
        assert!(card.contains("\r\nFN:ann@d.test\r\n"), "{card}");
        assert!(
            card.contains("EMAIL;TYPE=INTERNET,PREF:ann@d.test"),
            "{card}"
        );
        assert_eq!(info.item_uid, "gal-1");
        assert!(
            g.entries[1].1.contains("FN:desk\\;1@d.test"),
            "{}",
            g.entries[1].1
        );
        let parsed = groxide_pim::vcard::import::parse_vcards(card.as_bytes());
        assert!(matches!(parsed.items.as_slice(), [Ok(_)]));
        // Same users, same tags; a change changes the entry's and the token.
        let again = of_users(&users);
        assert_eq!(again.token, g.token);
        assert_eq!(again.entries[0].0.etag, info.etag);
        let changed = of_users(&[user(1, "ann2@d.test", 0), user(3, "desk;1@d.test", 4)]);
        assert_ne!(changed.token, g.token);
        assert_ne!(changed.entries[0].0.etag, info.etag);
    }
}
