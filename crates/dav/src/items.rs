//! GET/HEAD, PUT and DELETE of items.

use crate::Answer;
use crate::path::{Kind, Target};
use crate::store::{CollKind, Collection, Ctx, quoted, store_error, unquoted};
use crate::xml::{NS_CALDAV, NS_CARDDAV};
use axum::extract::Request;
use groxide_http_core::body::read_body;
use groxide_pim::ical::export::{ExportOptions, item_to_ical};
use groxide_pim::ical::import::{ImportOptions, parse_calendar};
use groxide_pim::vcard::export::{VcardVersion, item_to_vcard};
use groxide_pim::vcard::import::parse_vcards;
use groxide_pim::{Item, ItemClass};
use groxide_rpc::items::{ItemInfo, Precondition, PutTarget, ReadItem, item_uid};
use http::StatusCode;
use http::header::{CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH, LOCATION};

pub(crate) const ICS: &str = "text/calendar; charset=utf-8";
pub(crate) const VCF: &str = "text/vcard; charset=utf-8";
/// Longest resource name (the store's limit).
pub(crate) const MAX_NAME_LEN: usize = 255;

fn not_item() -> Answer {
    Answer::text(
        StatusCode::METHOD_NOT_ALLOWED,
        "this method applies to calendar objects and vCards only",
    )
}

/// An item's body in the collection's format.
pub(crate) fn render(
    ctx: &Ctx<'_>,
    c: &Collection,
    item: &Item,
    v4: bool,
) -> Result<String, Answer> {
    let r = match c.kind {
        CollKind::Contacts => item_to_vcard(
            item,
            if v4 {
                VcardVersion::V4
            } else {
                VcardVersion::V3
            },
        ),
        _ => item_to_ical(
            item,
            &ExportOptions {
                floating_zone: ctx.zone,
                owner: Some(ctx.user.clone()),
            },
        ),
    };
    r.map_err(|e| {
        tracing::warn!(error = %e, "DAV: stored item cannot be exported");
        Answer::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the stored item cannot be written: {e}"),
        )
    })
}

/// Reads one item for GET or a report.
pub(crate) async fn load(
    ctx: &Ctx<'_>,
    c: &Collection,
    info: &ItemInfo,
) -> Result<(ItemInfo, String), Answer> {
    let read = crate::report::fetch_all(ctx, c, &[info], false)
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| Answer::text(StatusCode::NOT_FOUND, "no such item"))?;
    let body = crate::report::body_of(ctx, c, &read)?;
    match read {
        ReadItem::Source(info, _) | ReadItem::Item(info, _, _) => Ok((info, body)),
        ReadItem::Missing(_) => Err(Answer::text(StatusCode::NOT_FOUND, "no such item")),
    }
}

fn wants_v4(request: &Request) -> bool {
    request
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("version=4.0"))
}

pub(crate) async fn get(
    ctx: &mut Ctx<'_>,
    target: &Target,
    request: Request,
    head: bool,
) -> Answer {
    let Target::Item(kind, _, seg, name) = target else {
        return Answer::text(
            StatusCode::METHOD_NOT_ALLOWED,
            "collections have no body; use PROPFIND or REPORT",
        );
    };
    let c = match ctx.collection(*kind, seg).await {
        Ok(c) => c,
        Err(a) => return a,
    };
    let info = match ctx.find_item(&c, name).await {
        Ok(Some(i)) => i,
        Ok(None) => return Answer::text(StatusCode::NOT_FOUND, format!("no item {name}")),
        Err(a) => return a,
    };
    ctx.vcard4 = wants_v4(&request);
    let (info, body) = match load(ctx, &c, &info).await {
        Ok(x) => x,
        Err(a) => return a,
    };
    let ct = if *kind == Kind::AddressBook { VCF } else { ICS };
    let a = Answer::new(StatusCode::OK).header(ETAG, &quoted(&info.etag));
    if head {
        a.header(http::header::CONTENT_TYPE, ct)
    } else {
        a.body(body, ct)
    }
}

/// Parses a PUT body into the one item it must hold.
pub(crate) fn parse_body(
    kind: CollKind,
    body: &[u8],
    zone: Option<chrono_tz::Tz>,
    owner: &str,
) -> Result<Item, Answer> {
    let invalid = |ns: &str, cond: &str, text: String| {
        Answer::condition(StatusCode::BAD_REQUEST, ns, cond, &text)
    };
    let mut items = if kind == CollKind::Contacts {
        parse_vcards(body).items
    } else {
        parse_calendar(
            body,
            &ImportOptions {
                floating_zone: zone,
                owner: Some(owner.to_string()),
                ..ImportOptions::default()
            },
        )
        .items
    };
    let (ns, cond, what) = if kind == CollKind::Contacts {
        (NS_CARDDAV, "valid-address-data", "vCard")
    } else {
        (NS_CALDAV, "valid-calendar-data", "iCalendar object")
    };
    if items.len() != 1 {
        return Err(invalid(
            ns,
            cond,
            format!(
                "the body must hold exactly one {what}, it holds {}",
                items.len()
            ),
        ));
    }
    let item = items
        .pop()
        .and_then(Result::ok)
        .map(Ok)
        .unwrap_or_else(|| Err(()));
    let item = match item {
        Ok(i) => i,
        Err(()) => {
            let detail = match if kind == CollKind::Contacts {
                parse_vcards(body).items.pop()
            } else {
                parse_calendar(body, &ImportOptions::default()).items.pop()
            } {
                Some(Err(e)) => e.to_string(),
                _ => "unreadable".into(),
            };
            return Err(invalid(ns, cond, format!("invalid {what}: {detail}")));
        }
    };
    let fits = match kind {
        CollKind::Events => item.class == ItemClass::Appointment,
        CollKind::Tasks => item.class == ItemClass::Task,
        CollKind::Contacts => matches!(item.class, ItemClass::Contact | ItemClass::DistList),
    };
    if !fits {
        return Err(Answer::condition(
            StatusCode::FORBIDDEN,
            NS_CALDAV,
            "supported-calendar-component",
            &format!("this collection holds {} only", kind.component()),
        ));
    }
    Ok(item)
}

fn header(request: &Request, name: http::HeaderName) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub(crate) async fn put(ctx: &mut Ctx<'_>, target: &Target, request: Request) -> Answer {
    let Target::Item(kind, _, seg, name) = target else {
        return not_item();
    };
    if name.len() > MAX_NAME_LEN {
        return Answer::text(
            StatusCode::FORBIDDEN,
            format!("resource names are at most {MAX_NAME_LEN} bytes"),
        );
    }
    let c = match ctx.collection(*kind, seg).await {
        Ok(c) => c,
        Err(a) => return a,
    };
    if let Some(ct) = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        let base = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let ok = match kind {
            Kind::Calendar => base == "text/calendar",
            Kind::AddressBook => base == "text/vcard" || base == "text/x-vcard",
        };
        if !ok {
            return Answer::text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "{} takes {}, not {base}",
                    kind.segment(),
                    if *kind == Kind::Calendar {
                        "text/calendar"
                    } else {
                        "text/vcard"
                    }
                ),
            );
        }
    }
    let if_match = header(&request, IF_MATCH);
    let if_none_match = header(&request, IF_NONE_MATCH);
    let body = match read_body(request.into_body()).await {
        Ok(b) => b,
        Err(e) => return Answer::text(e.status(), e.to_string()),
    };
    let item = match parse_body(c.kind, &body, ctx.zone, &ctx.user) {
        Ok(i) => i,
        Err(a) => return a,
    };
    let uid = item_uid(&item);
    let ns = if *kind == Kind::Calendar {
        NS_CALDAV
    } else {
        NS_CARDDAV
    };
    // The existing item at this name, and the one holding the UID.
    let (mut named, holders) = match ctx
        .resolve(&c, std::slice::from_ref(name), std::slice::from_ref(&uid))
        .await
    {
        Ok(x) => x,
        Err(a) => return a,
    };
    let existing = named.pop().flatten();
    let holder = holders.first();
    let put_target = match (&existing, holder) {
        (Some(e), _) if e.item_uid == uid || e.item_uid.is_empty() => {
            PutTarget::Message(e.message_id)
        }
        (Some(_), _) => {
            return Answer::condition(
                StatusCode::CONFLICT,
                ns,
                "no-uid-conflict",
                &format!("{name} holds an object with another UID; a UID cannot change"),
            );
        }
        (None, Some(h)) => {
            return Answer::condition_href(
                StatusCode::CONFLICT,
                ns,
                "no-uid-conflict",
                &crate::path::item_href(*kind, &ctx.user, &c.segment, &ctx.name_of(&c, h)),
                &format!("another resource of this collection holds UID {uid}"),
            );
        }
        (None, None) => PutTarget::New,
    };
    let pre = if if_none_match.as_deref().map(str::trim) == Some("*") {
        if existing.is_some() {
            return Answer::text(StatusCode::PRECONDITION_FAILED, format!("{name} exists"));
        }
        Precondition::IfNoneMatch
    } else if let Some(m) = if_match {
        if m.trim() == "*" {
            if existing.is_none() {
                return Answer::text(StatusCode::PRECONDITION_FAILED, format!("no item {name}"));
            }
            Precondition::None
        } else {
            if existing.is_none() {
                return Answer::text(StatusCode::PRECONDITION_FAILED, format!("no item {name}"));
            }
            Precondition::IfMatch(unquoted(&m))
        }
    } else {
        Precondition::None
    };
    match ctx
        .exmdb()
        .put_item_named(
            &ctx.dir,
            c.selector(),
            &item,
            put_target,
            pre,
            Some(name.as_str()),
        )
        .await
    {
        Ok((info, created)) => {
            let a = Answer::new(if created {
                StatusCode::CREATED
            } else {
                StatusCode::NO_CONTENT
            })
            .header(ETAG, &quoted(&info.etag));
            if created {
                a.header(
                    LOCATION,
                    &crate::path::item_href(*kind, &ctx.user, &c.segment, name),
                )
            } else {
                a
            }
        }
        Err(e) => store_error(&e),
    }
}

pub(crate) async fn delete(ctx: &mut Ctx<'_>, target: &Target, request: Request) -> Answer {
    let Target::Item(kind, _, seg, name) = target else {
        return Answer::text(
            StatusCode::FORBIDDEN,
            "collections cannot be deleted over DAV yet",
        );
    };
    let c = match ctx.collection(*kind, seg).await {
        Ok(c) => c,
        Err(a) => return a,
    };
    let info = match ctx.find_item(&c, name).await {
        Ok(Some(i)) => i,
        Ok(None) => return Answer::text(StatusCode::NOT_FOUND, format!("no item {name}")),
        Err(a) => return a,
    };
    let if_match = request
        .headers()
        .get(IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.trim() != "*")
        .map(unquoted);
    match ctx
        .exmdb()
        .delete_item(&ctx.dir, info.message_id, if_match)
        .await
    {
        Ok(()) => Answer::new(StatusCode::NO_CONTENT),
        Err(e) => store_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &[u8] = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:ev-1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240110T100000Z\r\nDTEND:20240110T110000Z\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn a_put_body_is_one_object_of_the_collections_kind() {
        let item = parse_body(CollKind::Events, EVENT, None, "a@b").unwrap();
        assert_eq!(item_uid(&item), "ev-1");
        let wrong = parse_body(CollKind::Tasks, EVENT, None, "a@b")
            .err()
            .unwrap();
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        assert!(
            wrong.body.contains("supported-calendar-component"),
            "{}",
            wrong.body
        );
        let broken = parse_body(
            CollKind::Events,
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:notadate\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            None,
            "a@b",
        )
        .err()
        .unwrap();
        assert_eq!(broken.status, StatusCode::BAD_REQUEST);
        assert!(
            broken.body.contains("valid-calendar-data"),
            "{}",
            broken.body
        );
        assert!(broken.body.contains("line"), "{}", broken.body);
        let empty = parse_body(CollKind::Contacts, b"hello", None, "a@b")
            .err()
            .unwrap();
        assert_eq!(empty.status, StatusCode::BAD_REQUEST);
        assert!(empty.body.contains("valid-address-data"), "{}", empty.body);
        let card = parse_body(
            CollKind::Contacts,
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-1\r\nFN:Ann\r\nN:;Ann;;;\r\nEND:VCARD\r\n",
            None,
            "a@b",
        )
        .unwrap();
        assert_eq!(item_uid(&card), "c-1");
    }
}
