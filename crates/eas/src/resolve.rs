//! ResolveRecipients ([MS-ASCMD] 2.2.1.15): each To (a name or address as
//! the user typed it) is matched against the directory's users and the
//! user's contacts (Email1–3 and the display name), whole address first:
//! one match is Status 1, several are ambiguous (2), none is 4. No
//! certificates, no availability.

use crate::{Ctx, Failure, expect_root};
use groxide_mapi::{lids, tags};
use groxide_rpc::exmdb_client::folder_role;
use groxide_rpc::reason::Reason;
use groxide_wbxml::{Element, ResolveRecipients as RR};

/// Most candidates named per To when the client sets no limit.
const DEFAULT_AMBIGUOUS: usize = 20;

/// One known person: (display name, address, type: 1 GAL, 2 contact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    pub name: String,
    pub address: String,
    pub kind: u8,
}

/// The people `query` names: an exact address match wins outright;
/// otherwise every person whose name or address contains it.
pub(crate) fn matches<'a>(people: &'a [Person], query: &str) -> Vec<&'a Person> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    let exact: Vec<&Person> = people
        .iter()
        .filter(|p| p.address.to_lowercase() == q)
        .collect();
    if !exact.is_empty() {
        // The directory's entry first, once per address.
        let mut e = exact;
        e.sort_by_key(|p| p.kind);
        e.truncate(1);
        return e;
    }
    let mut out: Vec<&Person> = people
        .iter()
        .filter(|p| p.name.to_lowercase().contains(&q) || p.address.to_lowercase().contains(&q))
        .collect();
    // The directory's entry before a contact's, each address once.
    out.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.address.cmp(&b.address)));
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.address.to_lowercase()));
    out
}

async fn people(ctx: &Ctx<'_>) -> Result<Vec<Person>, Failure> {
    let mut out = Vec::new();
    if let Some(directory) = ctx.eas.directory() {
        match directory.users(None).await {
            Ok(users) => out.extend(users.into_iter().map(|u| Person {
                name: u.username.split('@').next().unwrap_or("").to_string(),
                address: u.username,
                kind: 1,
            })),
            Err(e) => tracing::warn!(error = %e, "ResolveRecipients: directory unavailable"),
        }
    }
    let (items, _) = match ctx
        .exmdb()
        .list_items(&ctx.dir, folder_role("contacts"))
        .await
    {
        Ok(x) => x,
        Err(e) if e.reason() == Some(Reason::NoSuchFolder) => return Ok(out),
        Err(e) => return Err(e.into()),
    };
    for info in items {
        let item = match ctx.exmdb().get_item(&ctx.dir, info.message_id).await {
            Ok((_, item)) => item,
            Err(e) if e.reason() == Some(Reason::NoSuchMessage) => continue,
            Err(e) => return Err(e.into()),
        };
        let name = item
            .str(tags::PR_DISPLAY_NAME)
            .or(item.str(tags::PR_SUBJECT))
            .unwrap_or("")
            .to_string();
        for tag in [
            &lids::PID_LID_EMAIL1_EMAIL_ADDRESS,
            &lids::PID_LID_EMAIL2_EMAIL_ADDRESS,
            &lids::PID_LID_EMAIL3_EMAIL_ADDRESS,
        ] {
            if let Some(a) = item.str(tag).filter(|a| a.contains('@')) {
                out.push(Person {
                    name: name.clone(),
                    address: a.to_string(),
                    kind: 2,
                });
            }
        }
    }
    Ok(out)
}

pub(crate) async fn resolve_recipients(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, RR::ResolveRecipients)?;
    let limit = request
        .child(RR::Options)
        .and_then(|o| o.child_text(RR::MaxAmbiguousRecipients))
        .and_then(|m| m.trim().parse::<usize>().ok())
        .unwrap_or(DEFAULT_AMBIGUOUS)
        .clamp(1, 100);
    let queries: Vec<String> = request
        .children_named(RR::To)
        .filter_map(|t| t.text().map(str::to_string))
        .collect();
    if queries.is_empty() || queries.len() > 100 {
        // Protocol error ([MS-ASCMD] ResolveRecipients Status 5).
        return Ok(Some(Element::with_children(
            RR::ResolveRecipients,
            [Element::with_text(RR::Status, "5")],
        )));
    }
    let known = people(ctx).await?;
    let mut out = vec![Element::with_text(RR::Status, "1")];
    for q in queries {
        let found = matches(&known, &q);
        let status = match found.len() {
            0 => 4,
            1 => 1,
            _ => 2,
        };
        let mut r = vec![
            Element::with_text(RR::To, &q),
            Element::with_text(RR::Status, status.to_string()),
            Element::with_text(RR::RecipientCount, found.len().to_string()),
        ];
        for p in found.into_iter().take(limit) {
            r.push(Element::with_children(
                RR::Recipient,
                [
                    Element::with_text(RR::Type, p.kind.to_string()),
                    Element::with_text(RR::DisplayName, &p.name),
                    Element::with_text(RR::EmailAddress, &p.address),
                ],
            ));
        }
        out.push(Element::with_children(RR::Response, r));
    }
    Ok(Some(Element::with_children(RR::ResolveRecipients, out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, address: &str, kind: u8) -> Person {
        Person {
            name: name.into(),
            address: address.into(),
            kind,
        }
    }

    #[test]
    fn an_address_resolves_to_one_a_fragment_to_everyone_it_names() {
        let people = [
            p("ada", "ada@example.test", 1),
            p("Ada Lovelace", "ada@example.test", 2),
            p("adam", "adam@example.test", 1),
            p("Bob", "bob@remote.test", 2),
        ];
        let found = matches(&people, "ADA@example.test");
        assert_eq!(found, [&people[0]]);
        let found = matches(&people, "ada");
        let addrs: Vec<&str> = found.iter().map(|p| p.address.as_str()).collect();
        assert_eq!(addrs, ["ada@example.test", "adam@example.test"]);
        assert_eq!(matches(&people, "bob")[0].kind, 2);
        assert!(matches(&people, "carol").is_empty());
        assert!(matches(&people, "  ").is_empty());
    }
}
