//! ResolveRecipients ([MS-ASCMD] 2.2.1.15): each To (a name or address as
//! the user typed it) is matched against the directory's users and the
//! user's contacts (Email1–3 and the display name), whole address first:
//! one match is Status 1, several are ambiguous (2), none is 4. With
//! Options/Availability, a recipient resolved to one directory user gets
//! that user's free/busy from their own store (exmdb `free_busy`, the path
//! EWS GetUserAvailability takes; another node's store through the routed
//! client) as MergedFreeBusy, one digit per 30 minutes. No certificates.

use crate::pim_items::parse_time;
use crate::{Ctx, Failure, expect_root};
use groxide_mapi::{lids, tags};
use groxide_rpc::exmdb_client::folder_role;
use groxide_rpc::items::merge_free_busy;
use groxide_rpc::reason::Reason;
use groxide_wbxml::{Element, ResolveRecipients as RR};

/// Most candidates named per To when the client sets no limit.
const DEFAULT_AMBIGUOUS: usize = 20;

/// One MergedFreeBusy digit covers this many seconds.
const FREE_BUSY_STEP: i64 = 30 * 60;
/// The longest Availability range (Exchange 2010 on: 42 days); longer is
/// Status 5.
const MAX_AVAILABILITY: i64 = 42 * 86_400;
/// The range when the client names no EndTime: 7 days.
const DEFAULT_AVAILABILITY: i64 = 7 * 86_400;

/// Availability Status values ([MS-ASCMD] 2.2.3.177.12).
mod availability {
    pub const OK: u8 = 1;
    /// Temporary failure; the client should ask again.
    pub const TRY_AGAIN: u8 = 162;
    /// No free/busy to be had for this recipient (not a user here).
    pub const NONE: u8 = 163;
}

/// One known person: (display name, address, type: 1 GAL, 2 contact) and
/// for a directory user their store (directory, floating zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    pub name: String,
    pub address: String,
    pub kind: u8,
    pub store: Option<(String, String)>,
}

/// The free/busy range an Availability element asks for: `Err(())` when
/// it is malformed, shorter than 30 minutes or longer than 42 days.
pub(crate) fn availability_range(a: &Element) -> Result<(i64, i64), ()> {
    let start = a.child_text(RR::StartTime).and_then(parse_time).ok_or(())?;
    let end = match a.child_text(RR::EndTime) {
        Some(t) => parse_time(t).ok_or(())?,
        None => start + DEFAULT_AVAILABILITY,
    };
    if end < start + FREE_BUSY_STEP || end - start > MAX_AVAILABILITY {
        return Err(());
    }
    Ok((start, end))
}

/// The MergedFreeBusy digit of a PidLidBusyStatus ([MS-ASCMD] 2.2.3.107:
/// 0 free, 1 tentative, 2 busy, 3 out of office; 4 is "no data", so
/// working elsewhere — available — counts as free). The highest digit of
/// an interval wins.
fn digit(status: i32) -> u8 {
    match status {
        1 => 1,
        2 => 2,
        3 => 3,
        0 | 4 => 0,
        _ => 2,
    }
}

/// The MergedFreeBusy string of `slots` over `[start, end)`.
pub(crate) fn merged_free_busy(
    slots: &[groxide_rpc::items::BusySlot],
    start: i64,
    end: i64,
) -> String {
    merge_free_busy(slots, start, end, FREE_BUSY_STEP, digit)
        .into_iter()
        .map(|s| char::from(b'0' + s.map_or(0, digit)))
        .collect()
}

/// The Availability element of one resolved person.
async fn availability_of(ctx: &Ctx<'_>, p: &Person, start: i64, end: i64) -> Element {
    let status = |st: u8| Element::with_text(RR::Status, st.to_string());
    let Some((dir, zone)) = &p.store else {
        return Element::with_children(RR::Availability, [status(availability::NONE)]);
    };
    match ctx.exmdb().free_busy(dir, start, end, zone).await {
        Ok(slots) => Element::with_children(
            RR::Availability,
            [
                status(availability::OK),
                Element::with_text(RR::MergedFreeBusy, merged_free_busy(&slots, start, end)),
            ],
        ),
        Err(e) => {
            tracing::warn!(error = %e, address = %p.address, "ResolveRecipients: no free/busy");
            Element::with_children(RR::Availability, [status(availability::TRY_AGAIN)])
        }
    }
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
                store: (!u.maildir.is_empty()).then_some((u.maildir, u.timezone)),
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
                    store: None,
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
    let options = request.child(RR::Options);
    let range = match options.and_then(|o| o.child(RR::Availability)) {
        None => None,
        Some(a) => match availability_range(a) {
            Ok(r) => Some(r),
            // Protocol error: a bad StartTime/EndTime or range.
            Err(()) => {
                return Ok(Some(Element::with_children(
                    RR::ResolveRecipients,
                    [Element::with_text(RR::Status, "5")],
                )));
            }
        },
    };
    let limit = options
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
            let mut c = vec![
                Element::with_text(RR::Type, p.kind.to_string()),
                Element::with_text(RR::DisplayName, &p.name),
                Element::with_text(RR::EmailAddress, &p.address),
            ];
            // Free/busy only for a recipient resolved to one person.
            if let (Some((start, end)), 1) = (range, status) {
                c.push(availability_of(ctx, p, start, end).await);
            }
            r.push(Element::with_children(RR::Recipient, c));
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
            store: None,
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

    fn range(start: &str, end: Option<&str>) -> Result<(i64, i64), ()> {
        let mut c = vec![Element::with_text(RR::StartTime, start)];
        if let Some(e) = end {
            c.push(Element::with_text(RR::EndTime, e));
        }
        availability_range(&Element::with_children(RR::Availability, c))
    }

    #[test]
    fn an_availability_range_is_30_minutes_to_42_days() {
        let s = "2026-12-15T00:00:00.000Z";
        let (a, b) = range(s, Some("2026-12-15T00:30:00.000Z")).unwrap();
        assert_eq!((a, b - a), (1_797_292_800, 1800));
        // The compact form too.
        assert_eq!(range("20261215T000000Z", None).unwrap().0, a);
        // Without EndTime: 7 days.
        let (a, b) = range(s, None).unwrap();
        assert_eq!(b - a, 7 * 86_400);
        assert_eq!(
            range(s, Some("2027-01-26T00:00:00.000Z")).unwrap().1 - a,
            42 * 86_400
        );
        assert!(range(s, Some("2026-12-15T00:29:59.000Z")).is_err());
        assert!(range(s, Some("2026-12-14T00:00:00.000Z")).is_err());
        assert!(range(s, Some("2027-01-26T00:30:00.000Z")).is_err());
        assert!(range("yesterday", None).is_err());
        assert!(range(s, Some("soon")).is_err());
        assert!(availability_range(&Element::empty(RR::Availability)).is_err());
    }

    #[test]
    fn merged_free_busy_is_the_highest_digit_per_half_hour() {
        let slot = |start, end, status| groxide_rpc::items::BusySlot {
            start,
            end,
            status,
            message_id: 1,
        };
        let h = 3600;
        let slots = [
            slot(h, 2 * h, 2),
            slot(2 * h + 600, 3 * h, 1),
            slot(2 * h + 900, 2 * h + 1000, 4),
            slot(4 * h, 4 * h + 60, 3),
            slot(4 * h + 1800, 5 * h, 4),
        ];
        assert_eq!(merged_free_busy(&slots, 0, 5 * h), "0022110030");
        assert_eq!(merged_free_busy(&[], 0, h), "00");
    }
}
